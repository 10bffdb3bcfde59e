#!/bin/sh
# What an operator reads and types (issue 19, points 2 and 7): the one-line
# summary per host of check and explain and their --brief; '-' for
# standard input; odd host ids; outputs that cannot be written.  make
# cli-test runs it.
#
#   sh tests/cli/ux.sh BINARY

if [ $# -ne 1 ]; then
	echo "usage: sh tests/cli/ux.sh BINARY" >&2
	exit 2
fi
BIN=$1
case $BIN in
/*) ;;
*) BIN=$(pwd)/$BIN ;;
esac
[ -x "$BIN" ] || { echo "tests/cli/ux.sh: $BIN: not an executable" >&2; exit 2; }
cd "$(dirname "$0")/../.." || exit 2

. tests/lib/cases.sh

RW=tests/data/arm64/real-writable
FLEET=tests/data/fleet
X86=tests/data/x86

run() {
	"$BIN" "$@" >"$T/out" 2>"$T/err"
	rc=$?
}

want_rc() {
	[ "$rc" -eq "$1" ] || bad "exit $rc, want $1 (stderr: $(first "$T/err"))"
}

out_has() {
	grep -qF -- "$1" "$T/out" || bad "stdout lacks '$1' (got: $(first "$T/out"))"
}

err_has() {
	grep -qF -- "$1" "$T/err" || bad "stderr lacks '$1' (got: $(first "$T/err"))"
}

"$BIN" baseline -q -o "$T/rw.json" "$RW"/*.json 2>/dev/null
"$BIN" baseline -q -o "$T/spr.json" "$X86/spr-05.json" 2>/dev/null

# ---- point 2: summaries ------------------------------------------------------

# Line 1 of each host is its summary, before any reason; the count is the
# number of reasons the details list.
case_ "check: one summary line per host first, then the reasons"
run check --profile "$T/spr.json" "$X86/bergamo-04.json" "$X86/spr-05.json"
want_rc 1
l1=$(sed -n 1p "$T/out")
l2=$(sed -n 2p "$T/out")
case $l1 in
"bergamo-04: incompatible, "*" blockers ("*")") ;;
*) bad "line 1 is '$l1'" ;;
esac
[ "$l2" = "spr-05: compatible" ] || bad "line 2 is '$l2'"
n=$(grep -c '^  - ' "$T/out")
case $l1 in
*", $n blockers ("*) ;;
*) bad "summary count is not the $n reasons listed" ;;
esac
sed -n 3p "$T/out" | grep -qx 'bergamo-04: INCOMPATIBLE' || bad "line 3 is not the details' header"
grep -q '^spr-05: INCOMPATIBLE\|^spr-05: compatible$' "$T/out" &&
	[ "$(grep -c '^spr-05' "$T/out")" -eq 1 ] || bad "spr-05 said more than once"
# Bergamo is AMD, the profile Intel's (their reports' CPUID leaf 0): the
# vendor leads, once, in words.
case $l1 in
*"(CPU vendor, "*) ;;
*) bad "the vendor is not the first blocker, in words: '$l1'" ;;
esac
end_

case_ "check --brief: only the summary lines"
run check --brief --profile "$T/spr.json" "$X86/bergamo-04.json" "$X86/spr-05.json"
want_rc 1
[ "$(wc -l <"$T/out")" -eq 2 ] || bad "$(wc -l <"$T/out") lines, want 2"
out_has "spr-05: compatible"
grep -q '^  - ' "$T/out" && bad "--brief lists reasons"
end_

# The README's example: a guest on V1 lacks FEAT_RNG and FEAT_SHA512 on N1
# (Neoverse N1 TRM: no RNDR, no SHA512; Neoverse V1 TRM: both).
case_ "explain: a summary per direction first, naming features"
run explain "$FLEET/v1-01.json" "$FLEET/n1-01.json"
want_rc 1
sed -n 1p "$T/out" | grep -q '^v1-01 -> n1-01: incompatible, [0-9]* blockers (' || bad "line 1: $(sed -n 1p "$T/out")"
sed -n 2p "$T/out" | grep -q '^n1-01 -> v1-01: incompatible, [0-9]* blockers (' || bad "line 2: $(sed -n 2p "$T/out")"
out_has "host n1-01 lacks FEAT_RNG"
run explain --brief "$FLEET/v1-01.json" "$FLEET/n1-01.json"
want_rc 1
[ "$(wc -l <"$T/out")" -eq 2 ] || bad "--brief: $(wc -l <"$T/out") lines, want 2"
run explain --brief "$FLEET/v1-01.json" "$FLEET/v1-02.json"
want_rc 0
[ "$(cat "$T/out")" = "v1-01 -> v1-02: compatible
v1-02 -> v1-01: compatible" ] || bad "--brief of two V1s: $(tr '\n' '|' <"$T/out")"
end_

# The reports say "arch": "arm64" and "x86": the reason names both.
case_ "another architecture is named in check and explain"
run check --profile "$T/spr.json" "$RW/altra.json"
want_rc 1
out_has "altra: incompatible, 1 blocker (architecture: host is arm64)"
out_has "host altra is arm64, the profile x86"
run check --json --profile "$T/spr.json" "$RW/altra.json"
python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
r = d["verdicts"][0]["reasons"][0]
assert r["kind"] == "arch" and r["register"] == "arm64", r' "$T/out" || bad "JSON arch reason"
run explain "$RW/altra.json" "$X86/spr-05.json"
want_rc 1
out_has "altra -> spr-05: incompatible, 1 blocker (architecture: host is x86)"
out_has "spr-05 -> altra: incompatible, 1 blocker (architecture: host is arm64)"
end_

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
