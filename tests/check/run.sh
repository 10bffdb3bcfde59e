#!/bin/sh
# tools/check.sh, the runner behind `make check`, against suites made up
# here whose counts and exit codes are known: what it must add up, which
# suites it must call failed or skipped, and its own exit status; then the
# integration suite's cases skipped by name, counted through to check's total.
#   sh tests/check/run.sh [BUILD/cpufleet]
. tests/lib/cases.sh
BIN=${1:-build/cpufleet}

# run NAME=CMD...: tools/check.sh into $T/NAME; its exit status in $T/rc.
run() {
	d=$T/$1
	shift
	LOGDIR=$d sh tools/check.sh "$@" >"$d.out" 2>&1
	echo $? >"$T/rc"
}
line() { grep "^$1: " "$T/$2/summary.txt"; }

case_ "counts are summed across a suite's lines and a CUnit row"
run sum two="echo '3 passed, 1 failed'; echo 'x: 2 passed, 0 failed, 4 skipped'; exit 1" \
	cunit="printf '               tests    10     10     9      1        0\n'; exit 1"
grep -qx "check: 14 passed, 2 failed, 4 skipped" "$T/sum.out" || bad "closing line: $(tail -1 "$T/sum.out")"
line two sum | grep -q "^two: 5 passed, 1 failed, 4 skipped" || bad "two: $(line two sum)"
line cunit sum | grep -q "^cunit: 9 passed, 1 failed, 0 skipped" || bad "cunit: $(line cunit sum)"
[ "$(cat "$T/rc")" = 1 ] || bad "exit $(cat "$T/rc"), want 1"
end_

case_ "a suite that fails with passing counts, or prints none, is a failure"
run fail lies="echo '3 passed, 0 failed'; exit 2" mute="true"
line lies fail | grep -q "3 passed, 1 failed.*FAILED (exit 2 although" || bad "lies: $(line lies fail)"
line mute fail | grep -q "0 passed, 1 failed.*FAILED (exit 0 and no counts" || bad "mute: $(line mute fail)"
[ "$(cat "$T/rc")" = 1 ] || bad "exit $(cat "$T/rc"), want 1"
end_

case_ "a suite that only skips is named with its reason; every suite runs after a failure"
run skip first="exit 1" kvm="echo 'skip - collect: /dev/kvm is absent'" \
	last="echo '1 passed, 0 failed'"
line kvm skip | grep -q "0 passed, 0 failed, 1 skipped.*skipped: collect: /dev/kvm is absent" ||
	bad "kvm: $(line kvm skip)"
line last skip | grep -q "^last: 1 passed, 0 failed" || bad "the suite after a failure did not run"
grep -qx "check: 1 passed, 1 failed, 1 skipped" "$T/skip.out" || bad "closing line: $(tail -1 "$T/skip.out")"
end_

case_ "all green exits 0"
run green a="echo '2 passed, 0 failed'" b="echo 'skip - b: no device'"
[ "$(cat "$T/rc")" = 0 ] || bad "exit $(cat "$T/rc"), want 0"
grep -qx "check: 2 passed, 0 failed, 1 skipped" "$T/green.out" || bad "closing line: $(tail -1 "$T/green.out")"
end_

# The two-server case is declared PostgreSQL-only in tests/integration/run.py
# (one SQLite file is one server), so on SQLite it says `skip - NAME: why`;
# /metrics runs on either. One passed and one skipped, in the suite's own
# line and in check's closing one.
if [ -x "$BIN" ]; then
	case_ "integration cases skipped by name reach check's skipped total"
	run it it="python3 tests/integration/run.py '$BIN' '/metrics: valid' 'two servers, one PostgreSQL'"
	grep -q "^skip - two servers, one PostgreSQL database" "$T/it/it.log" ||
		bad "no skip line for the two-server case: $(grep -v '^ok - ' "$T/it/it.log" | head -n 1)"
	grep -qx "1 passed, 0 failed, 1 skipped" "$T/it/it.log" ||
		bad "run.py's count line: $(grep ' passed, ' "$T/it/it.log" | tail -n 1)"
	line it it | grep -q "^it: 1 passed, 0 failed, 1 skipped" || bad "it: $(line it it)"
	grep -qx "check: 1 passed, 0 failed, 1 skipped" "$T/it.out" || bad "closing line: $(tail -1 "$T/it.out")"
	[ "$(cat "$T/rc")" = 0 ] || bad "exit $(cat "$T/rc"), want 0"
	end_
else
	skip_ "integration cases skipped by name reach check's skipped total" "$BIN is not built (make all)"
fi

if [ "$skipped" = 0 ]; then
	echo "$pass passed, $fail failed"
else
	echo "$pass passed, $fail failed, $skipped skipped"
fi
[ "$fail" = 0 ]
