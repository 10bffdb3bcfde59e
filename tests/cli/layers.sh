#!/bin/sh
# Layering (issue 18): nothing outside engine/ and arch/ includes an engine
# header that defines a handle include/cpufleet.h keeps opaque.  The
# handles are read from cpufleet.h itself (its `struct cf_NAME;` lines),
# the headers from engine/ (the one that says `struct cf_NAME {`), so a
# handle added later is covered.  tests/ may include them (unit tests test
# modules), and so may tools/lab/ (the lab's agent, a test harness run in
# an arm64 VM, programs variants of a profile's registers in place).  make
# cli-test runs it.
#
#   sh tests/cli/layers.sh
cd "$(dirname "$0")/../.." || { echo "cannot cd to the repository root" >&2; exit 2; }
pass=0 fail=0

handles=$(sed -n 's/^struct \(cf_[a-z0-9_]*\);$/\1/p' include/cpufleet.h)
headers=
for h in $handles; do
	for f in $(grep -l "^struct $h {" engine/*.h 2>/dev/null); do
		headers="$headers $f"
	done
done
if [ -z "$handles" ] || [ -z "$headers" ]; then
	echo "FAIL: no opaque handle or no header defining one found (handles: $handles)"
	fail=$((fail + 1))
fi
for hdr in $(printf '%s\n' $headers | sort -u); do
	hits=$(find . \( -path './.*' -o -path './build*' \) -prune -o \
	       -name '*.[ch]' -print | sed 's|^\./||' |
	       grep -v '^engine/\|^arch/\|^tests/\|^tools/lab/' | xargs grep -ln "^#[[:space:]]*include[[:space:]]*\"$hdr\"" 2>/dev/null)
	if [ -n "$hits" ]; then
		echo "FAIL: $hdr defines a handle cpufleet.h keeps opaque, yet is included by:" $hits
		fail=$((fail + 1))
	else
		pass=$((pass + 1))
	fi
done
echo "layers: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
