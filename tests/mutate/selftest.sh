#!/bin/sh
# tools/mutate/run.py, the runner behind `make mutate`, on mutants whose fate
# is known (tests/mutate/mutants.txt): two that make `make unit` fail, one
# that hangs it, two equivalent ones (one explained in
# tests/mutate/survivors.txt), one that does not build, one that does not
# apply.  The runner must count 3 of 5 killed, the hang as a timeout, the
# two that cannot be judged as INVALID and in no count, the unexplained
# survivor as such, exit 1, and leave the worktree's files alone.
#   sh tests/mutate/selftest.sh        (make harness-test)
. tests/lib/cases.sh

if [ -n "${CPUFLEET_MUTATE:-}" ]; then
	# make mutate runs harness-test to judge the engine: a second runner
	# inside it would judge only itself, once per mutant.
	skip_ "mutate runner self-test" "inside a mutation run (make mutate), which judges the engine"
	echo "$pass passed, $fail failed, $skipped skipped"
	exit 0
fi

sum() { sha256sum engine/catalog.c | cut -d' ' -f1; }
before=$(sum)
python3 tools/mutate/run.py --mutants tests/mutate/mutants.txt --no-generated \
	--survivors tests/mutate/survivors.txt --suites unit --timeout 20 \
	--bar 50 --work "$T/work" >"$T/out" 2>&1
rc=$?
has() { grep -q -- "$1" "$T/out"; }

case_ "three of five killed; the two that cannot be judged are in no count"
has '^mutate: 3/5 killed (60.0%)$' || bad "closing line: $(tail -1 "$T/out")"
has '^mutate: self: 3/5 killed$' || bad "no family line self: 3/5"
for m in killed-lower killed-floor; do
	has "^\[[0-9]*/7\] $m  *killed (unit)" || bad "$m not killed by unit"
done
end_

case_ "a hang is killed, and said to be a timeout"
has '^\[[0-9]*/7\] killed-hang  *killed (timeout in unit after' || bad "$(grep killed-hang "$T/out" | head -1)"
end_

case_ "survivors: the listed one with its reason, the other without"
has '^mutate: survivor equivalent-listed: (hi - lo) / 2 and' || bad "equivalent-listed"
has '^mutate: survivor equivalent-unlisted: NO REASON' || bad "equivalent-unlisted"
end_

case_ "a mutant that does not build or apply is INVALID, not killed"
has '^mutate: INVALID invalid-nobuild: does not build' || bad "invalid-nobuild"
has '^mutate: INVALID invalid-notfound: text not found' || bad "invalid-notfound"
end_

case_ "exit 1 (an unexplained survivor, invalid mutants); report written"
[ "$rc" = 1 ] || bad "exit $rc, want 1"
grep -q '^mutate: 3/5 killed (60.0%)$' "$T/work/report.txt" 2>/dev/null ||
	bad "no report with the count"
end_

case_ "the worktree's files are left alone"
[ "$(sum)" = "$before" ] || bad "engine/catalog.c changed"
[ -e "$T/work/tree/engine/catalog.c" ] || bad "no scratch tree"
cmp -s engine/catalog.c "$T/work/tree/engine/catalog.c" || bad "the scratch file was not restored"
end_

if [ "$fail" != 0 ]; then
	echo "--- runner output:"
	cat "$T/out"
fi
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
