#!/bin/sh
# End-to-end tests of the cpufleet command on tests/data (see its README.md).
#
#   sh tests/cli/run.sh BINARY          (make cli-test)
#
# Prints "ok - NAME" or "FAIL - NAME: why" per case, then "N passed, N failed";
# exits 1 if anything failed, 2 if it cannot run.  POSIX sh; needs python3
# (json.tool) to check the JSON outputs.

. "$(dirname "$0")/../lib/cli.sh"

RW=tests/data/arm64/real-writable
RAW=tests/data/arm64/real
FLEET=tests/data/fleet

# ---- helpers ---------------------------------------------------------------

# has_word PATTERN WORD: a stdout line matching PATTERN (a BRE) has WORD as
# one of its space-separated words.
has_word() {
	grep -- "$1" "$T/out" | tr ' ' '\n' | grep -qxF -- "$2"
}

# json_ok FILE: FILE parses as JSON.
json_ok() {
	python3 -m json.tool "$1" >/dev/null 2>"$T/jerr" ||
		bad "not JSON: $(first "$T/jerr")"
}

# py FILE EXPR: prints EXPR evaluated with d = the JSON document in FILE.
py() {
	python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
print(eval(sys.argv[2]))' "$1" "$2" 2>/dev/null
}

# json_is FILE EXPR WANT: EXPR (a Python expression over d) prints WANT.
json_is() {
	got=$(py "$1" "$2")
	[ "$got" = "$3" ] || bad "$2 is '$got', want '$3'"
}

# ---- help and usage --------------------------------------------------------

case_ "--help exits 0 and prints usage"
run --help
want_rc 0
out_has "usage:"
for c in baseline check explain matrix show; do
	out_has "$c"
done
end_

for c in baseline check explain matrix show export import; do
	case_ "$c --help exits 0 and prints usage"
	run "$c" --help
	want_rc 0
	out_has "usage: cpufleet $c"
	out_has "exit: 0"
	end_

	case_ "$c with no arguments exits 2 with usage on stderr"
	run "$c"
	want_rc 2
	err_has "usage: cpufleet $c"
	end_
done

case_ "--version exits 0 and names the release of mk/install.mk"
run --version
want_rc 0
out_has "cpufleet $(sed -n 's/^VERSION *= *//p' mk/install.mk)"
end_

case_ "no command exits 2"
run
want_rc 2
err_has "usage:"
end_

case_ "unknown command exits 2 and names it"
run frobnicate
want_rc 2
err_has "unknown command 'frobnicate'"
end_

case_ "unknown option exits 2"
run baseline --frobnicate "$RW/altra.json"
want_rc 2
err_has "usage: cpufleet baseline"
end_

case_ "check without --profile exits 2"
run check "$RW/altra.json"
want_rc 2
err_has "--profile is required"
end_

case_ "explain with one report exits 2"
run explain "$RW/altra.json"
want_rc 2
err_has "wants exactly two reports"
end_

# ---- baseline --------------------------------------------------------------

case_ "baseline real-writable: feasible profile on stdout"
run baseline "$RW"/*.json
want_rc 0
cp "$T/out" "$T/rw-stdout.json"
json_ok "$T/out"
json_is "$T/out" "d['schema']" "cpufleet.profile/v1"
json_is "$T/out" "d['feasible']" "True"
json_is "$T/out" "d['arch']" "arm64"
json_is "$T/out" "sorted(d['hosts'])" "['altra', 'cortex-a72', 'graviton3']"
json_is "$T/out" "d.get('conflicts', [])" "[]"
# On stderr only the named levels: Cortex-A72 (TRM: Armv8.0-A, no LSE) bounds
# the pool, and its identity registers are the pool's (the lowest tuple).
err_has "architecture level: Armv8.0 (next level lacks: FEAT_LSE"
err_has "core: Cortex-A72 (MIDR 0x410fd083: implementer Arm, part 0xd08, r0p3)"
[ "$(wc -l <"$T/err")" -eq 2 ] || bad "stderr has more than the two level lines"
end_

case_ "baseline -o FILE writes the same JSON as stdout"
run baseline -o "$T/rw.json" "$RW"/*.json
want_rc 0
[ -f "$T/rw.json" ] || bad "$T/rw.json not created"
[ -f "$T/rw.json" ] && { cmp -s "$T/rw.json" "$T/rw-stdout.json" ||
	bad "file differs from the stdout form"; }
[ -s "$T/out" ] && bad "stdout not empty with -o: $(first "$T/out")"
err_has "3 hosts"
err_has "feasible"
end_

case_ "check --profile (real-writable baseline) on its three hosts"
run check --profile "$T/rw.json" "$RW"/*.json
want_rc 0
n=$(grep -c ': compatible$' "$T/out")
[ "$n" -eq 3 ] || bad "'compatible' $n times, want 3"
out_has "altra: compatible"
out_has "cortex-a72: compatible"
out_has "graviton3: compatible"
out_lacks "INCOMPATIBLE"
end_

case_ "check --json parses and says compatible"
run check --json --profile "$T/rw.json" "$RW"/*.json
want_rc 0
json_ok "$T/out"
json_is "$T/out" "d['compatible']" "True"
json_is "$T/out" "[v['compatible'] for v in d['verdicts']]" "[True, True, True]"
json_is "$T/out" "sorted(v['host'] for v in d['verdicts'])" \
	"['altra', 'cortex-a72', 'graviton3']"
end_

case_ "baseline real (no writable masks): infeasible, exit 1, conflicts"
run baseline "$RAW"/*.json
want_rc 1
cp "$T/out" "$T/raw-stdout.json"
json_ok "$T/out"
json_is "$T/out" "d['schema']" "cpufleet.profile/v1"
json_is "$T/out" "d['feasible']" "False"
json_is "$T/out" "type(d['conflicts']).__name__" "list"
json_is "$T/out" "len(d['conflicts']) > 0" "True"
json_is "$T/out" \
	"any(c['register'] == 'ID_AA64PFR0_EL1' and c['field'] == 'SVE' for c in d['conflicts'])" \
	"True"
err_has "ID_AA64PFR0_EL1.SVE"
err_has "ID_AA64ISAR0_EL1.AES"
err_has "FEAT_SVE"
end_

case_ "baseline -q real: conflicts not listed on stderr"
run baseline -q "$RAW"/*.json
want_rc 1
err_empty
end_

case_ "baseline -o real: infeasible profile still written, exit 1"
run baseline -o "$T/raw.json" "$RAW"/*.json
want_rc 1
[ -f "$T/raw.json" ] || bad "$T/raw.json not created"
[ -f "$T/raw.json" ] && { cmp -s "$T/raw.json" "$T/raw-stdout.json" ||
	bad "file differs from the stdout form"; }
err_has "INFEASIBLE"
end_

case_ "check warns about an infeasible profile"
run check --profile "$T/raw.json" "$RAW/altra.json"
err_has "infeasible profile"
[ "$rc" -eq 0 ] || [ "$rc" -eq 1 ] || bad "exit $rc, want 0 or 1"
end_

case_ "baseline -o into a missing directory: exit 3, nothing written"
run baseline -o "$T/no/such/dir/p.json" "$RW"/*.json
want_rc 3
err_has "$T/no/such/dir/p.json"
[ -e "$T/no" ] && bad "$T/no created"
end_

# ---- -o onto what is not a regular file ------------------------------------
# A FIFO, a character device (a scratch copy of the null device, made with
# mknod in $T: never the real /dev/null) and a symbolic link stay what they
# were: written in place or through, never renamed over.

# skip_ NAME WHY: a case that cannot run here, by name.
skip_() {
	echo "skip - $1: $2"
}

case_ "baseline -o FIFO: the reader gets the JSON, the FIFO stays a FIFO"
if mkfifo "$T/fifo"; then
	timeout 60 cat "$T/fifo" >"$T/fifo-read" &   # never blocks the suite
	reader=$!
	timeout 60 "$BIN" baseline -o "$T/fifo" "$RW"/*.json >"$T/out" 2>"$T/err"
	rc=$?
	want_rc 0
	if [ -p "$T/fifo" ]; then
		wait "$reader"
		cmp -s "$T/fifo-read" "$T/rw-stdout.json" ||
			bad "the reader got other bytes: $(first "$T/fifo-read")"
	else
		bad "$T/fifo is no longer a FIFO"
		kill "$reader" 2>/dev/null   # blocked on the replaced FIFO
		wait "$reader" 2>/dev/null
	fi
	ls "$T"/fifo.tmp.* >/dev/null 2>&1 && bad "a temporary file is left"
else
	bad "mkfifo failed"
fi
end_

name="baseline -o a character device (mknod c 1 3): stays that device"
if [ "$(id -u)" -ne 0 ]; then
	skip_ "$name" "not root (mknod needs CAP_MKNOD)"
elif ! mknod "$T/null" c 1 3 2>"$T/err" || ! : >"$T/null" 2>>"$T/err"; then
	skip_ "$name" "no device node here: $(first "$T/err")"
else
	case_ "$name"
	timeout 60 "$BIN" baseline -o "$T/null" "$RW"/*.json >"$T/out" 2>"$T/err"
	rc=$?
	want_rc 0
	[ -c "$T/null" ] || bad "$T/null is no longer a character device"
	[ "$(stat -c %t:%T "$T/null" 2>/dev/null)" = "1:3" ] ||
		bad "$T/null is not device 1:3 any more"
	ls "$T"/null.tmp.* >/dev/null 2>&1 && bad "a temporary file is left"
	end_
fi

case_ "baseline -o -: the profile on standard output, no file named -"
mkdir "$T/dash" && root=$(pwd) &&
	(cd "$T/dash" && "$BIN" baseline -o - "$root/$RW"/*.json) \
	>"$T/out" 2>"$T/err"
rc=$?
want_rc 0
cmp -s "$T/out" "$T/rw-stdout.json" || bad "stdout is not the profile"
[ -e "$T/dash/-" ] && bad "a file named - was written"
end_

case_ "baseline -o a symlink to a file: the link stays, its target is written"
echo old >"$T/target.json"
ln -s target.json "$T/link.json"
run baseline -o "$T/link.json" "$RW"/*.json
want_rc 0
[ -L "$T/link.json" ] || bad "$T/link.json is no longer a symbolic link"
cmp -s "$T/target.json" "$T/rw-stdout.json" || bad "the target does not hold the profile"
end_

case_ "baseline -o a dangling symlink or a directory: exit 3, nothing written"
ln -s nowhere.json "$T/dangling.json"
mkdir "$T/adir"
run baseline -o "$T/dangling.json" "$RW"/*.json
want_rc 3
err_has "$T/dangling.json"
[ -L "$T/dangling.json" ] || bad "the dangling link was replaced"
[ -e "$T/nowhere.json" ] && bad "the link's target was created"
run baseline -o "$T/adir" "$RW"/*.json
want_rc 3
err_has "$T/adir"
[ -d "$T/adir" ] || bad "$T/adir is no longer a directory"
ls "$T"/*.tmp.* >/dev/null 2>&1 && bad "a temporary file is left"
end_

# ---- check: graviton3-only baseline ----------------------------------------

run baseline -o "$T/g3.json" "$RW/graviton3.json"
g3rc=$rc

case_ "check graviton3 baseline on cortex-a72: exit 1, lacks FEAT_"
[ "$g3rc" -eq 0 ] || bad "baseline of graviton3 alone exit $g3rc"
run check --profile "$T/g3.json" "$RW/cortex-a72.json"
want_rc 1
out_has "cortex-a72: INCOMPATIBLE"
out_has "lacks FEAT_"
out_has "host cortex-a72 lacks FEAT_SVE: ID_AA64PFR0_EL1.SVE wants 1, host offers 0"
out_has "host cortex-a72 lacks FEAT_AES,FEAT_PMULL: ID_AA64ISAR0_EL1.AES wants 2, host offers 0"
end_

case_ "check graviton3 baseline on graviton3: exit 0"
run check --profile "$T/g3.json" "$RW/graviton3.json"
want_rc 0
out_has "graviton3: compatible"
out_lacks "lacks"
end_

case_ "check --json graviton3 baseline on cortex-a72: reasons"
run check --json --profile "$T/g3.json" "$RW/cortex-a72.json"
want_rc 1
json_ok "$T/out"
json_is "$T/out" "d['compatible']" "False"
json_is "$T/out" \
	"any(r['register'] == 'ID_AA64PFR0_EL1' and r['field'] == 'SVE' and r['features'] == 'FEAT_SVE' and r['wants'] == '0x1' and r['offers'] == '0x0' for r in d['verdicts'][0]['reasons'])" \
	"True"
end_

case_ "check --profile given a report: exit 2, \$.schema"
run check --profile "$RW/altra.json" "$RW/altra.json"
want_rc 2
err_has "$RW/altra.json: \$.schema"
end_

# ---- explain ---------------------------------------------------------------

case_ "explain altra graviton3: exit 1, features both ways"
run explain "$RW/altra.json" "$RW/graviton3.json"
want_rc 1
out_has "altra -> graviton3: graviton3: INCOMPATIBLE"
out_has "graviton3 -> altra: altra: INCOMPATIBLE"
out_has "host altra lacks FEAT_SVE: ID_AA64PFR0_EL1.SVE wants 1, host offers 0"
out_has "host graviton3 lacks FEAT_DoubleLock"
has_word "^only graviton3 offers:" FEAT_SVE ||
	bad "'only graviton3 offers:' line lacks FEAT_SVE"
has_word "^only graviton3 offers:" FEAT_SHA3 ||
	bad "'only graviton3 offers:' line lacks FEAT_SHA3"
has_word "^only altra offers:" FEAT_DoubleLock ||
	bad "'only altra offers:' line lacks FEAT_DoubleLock"
grep '^only altra offers:' "$T/out" | grep -q 'FEAT_SVE' &&
	bad "'only altra offers:' names FEAT_SVE"
end_

case_ "explain --json altra graviton3"
run explain --json "$RW/altra.json" "$RW/graviton3.json"
want_rc 1
json_ok "$T/out"
json_is "$T/out" "(d['a'], d['b'])" "('altra', 'graviton3')"
json_is "$T/out" "d['compatible_both_ways']" "False"
json_is "$T/out" "'FEAT_SVE' in d['only_in_b']" "True"
json_is "$T/out" "'FEAT_SVE' in d['only_in_a']" "False"
json_is "$T/out" "'FEAT_DoubleLock' in d['only_in_a']" "True"
json_is "$T/out" "[(v['from'], v['host'], v['compatible']) for v in d['verdicts']]" \
	"[('altra', 'graviton3', False), ('graviton3', 'altra', False)]"
end_

case_ "explain a host with itself: exit 0"
run explain "$RW/altra.json" "$RW/altra.json"
want_rc 0
out_has "altra -> altra: compatible"
out_lacks "INCOMPATIBLE"
end_

# ---- matrix ----------------------------------------------------------------

# The example fleet is three configurations of two hosts each
# (tests/data/README.md: n1-0x one Altra dump, v1-0x one Graviton3 dump,
# a72-0x one Cortex-A72 dump; only n1-02's kernel string differs): each
# configuration is listed once with its hosts, then one row and one column
# per configuration.
case_ "matrix fleet: exit 1, each host once under its configuration, header row, diagonal ok"
run matrix "$FLEET"/*.json
want_rc 1
out_has "c1: a72-01 a72-02"
out_has "c2: n1-01 n1-02"
out_has "c3: v1-01 v1-02"
grep -q '^from\\to ' "$T/out" || bad "no 'from\\to' header row"
hdr=$(grep '^from\\to ' "$T/out" | awk '{ $1 = ""; sub(/^ +/, ""); sub(/ +$/, ""); print }')
[ "$hdr" = "c1 c2 c3" ] || bad "header '$hdr', want 'c1 c2 c3'"
n=$(awk '/^c[0-9]+ / { n++ } END { print n + 0 }' "$T/out")
[ "$n" -eq 3 ] || bad "$n rows, want 3"
diag=$(awk '/^c[0-9]+ / { r++; print $1, $(r + 1) }' "$T/out")
echo "$diag" | awk '$2 != "ok" { exit 1 }' ||
	bad "diagonal not all ok: $(echo "$diag" | tr '\n' ',')"
grep -q 'NO([0-9][0-9]*)' "$T/out" || bad "no 'NO(n)' cell"
end_

case_ "matrix --json fleet"
run matrix --json "$FLEET"/*.json
want_rc 1
json_ok "$T/out"
json_is "$T/out" "d['compatible']" "False"
# The pool matrix's shape (README "JSON: verdicts and matrices"): every
# host, each once under its configuration, and rows of cells, one per
# ordered pair of configurations, each with its count of reasons.
json_is "$T/out" "(len(d['hosts']), len(d['configs']), sum(len(r['cells']) for r in d['rows']))" "(6, 3, 9)"
json_is "$T/out" "sorted(h for c in d['configs'] for h in c['hosts']) == sorted(d['hosts'])" "True"
json_is "$T/out" "[c['hosts'] for c in d['configs']]" "[['a72-01', 'a72-02'], ['n1-01', 'n1-02'], ['v1-01', 'v1-02']]"
json_is "$T/out" "all(c['compatible'] and c['reasons'] == 0 for r in d['rows'] for c in r['cells'] if r['from'] == c['to'])" "True"
json_is "$T/out" "any(not c['compatible'] and c['reasons'] > 0 for r in d['rows'] for c in r['cells'])" "True"
end_

case_ "matrix of two identical hosts: exit 0, one configuration, one cell"
run matrix "$FLEET/n1-01.json" "$FLEET/n1-02.json"
want_rc 0
out_lacks "NO("
out_has "c1: n1-01 n1-02"
n=$(awk '/^c[0-9]+ / { for (i = 2; i <= NF; i++) if ($i == "ok") n++ } END { print n + 0 }' "$T/out")
[ "$n" -eq 1 ] || bad "$n 'ok' cells, want 1"
end_

# ---- show ------------------------------------------------------------------

case_ "show report altra: FEAT_ names"
run show "$RW/altra.json"
want_rc 0
out_has "report of host altra (arm64)"
out_has "ID_AA64ISAR0_EL1 = 0x0000100010211120"
has_word "^features:" FEAT_AES ||
	bad "'features:' line lacks FEAT_AES"
has_word "^features:" FEAT_SVE &&
	bad "'features:' line names FEAT_SVE (altra has none)"
grep -q '^  AES .*\[w\] FEAT_AES,FEAT_PMULL$' "$T/out" ||
	bad "no writable AES field line with FEAT_AES,FEAT_PMULL"
end_

case_ "show --all lists more fields than show"
run show "$RW/altra.json"
n1=$(wc -l <"$T/out")
run show --all "$RW/altra.json"
want_rc 0
n2=$(wc -l <"$T/out")
[ "$n2" -gt "$n1" ] || bad "--all gives $n2 lines, default $n1"
end_

case_ "show --json report"
run show --json "$RW/altra.json"
want_rc 0
json_ok "$T/out"
json_is "$T/out" "(d['kind'], d['host'])" "('report', 'altra')"
json_is "$T/out" "'FEAT_AES' in d['features']" "True"
json_is "$T/out" "[r['value'] for r in d['registers'] if r['register'] == 'ID_AA64ISAR0_EL1']" \
	"['0x0000100010211120']"
end_

case_ "show report: ID_AA64DFR0_EL1.PMUVer 4 does not mean FEAT_PMUv3p8/p9"
# altra: PMUVer = 4 (FEAT_PMUv3p1); 8 and 9 are later versions, not smaller.
run show "$RW/altra.json"
want_rc 0
grep -q '^  PMUVer .*FEAT_PMUv3p1' "$T/out" || bad "PMUVer line lacks FEAT_PMUv3p1"
grep '^  PMUVer ' "$T/out" | grep -q 'FEAT_PMUv3p[89]' &&
	bad "$(grep '^  PMUVer ' "$T/out" | tr -s ' ')"
end_

case_ "show profile"
run show "$T/rw.json"
want_rc 0
out_has "profile (arm64) for altra cortex-a72 graviton3"
out_lacks "INFEASIBLE"
grep -q '^features:.* FEAT_CRC32' "$T/out" || bad "'features:' line lacks FEAT_CRC32"
end_

case_ "show --json profile"
run show --json "$T/rw.json"
want_rc 0
json_ok "$T/out"
json_is "$T/out" "d['kind']" "profile"
json_is "$T/out" "'FEAT_CRC32' in d['features']" "True"
end_

case_ "show infeasible profile says INFEASIBLE"
run show "$T/raw.json"
want_rc 0
out_has "INFEASIBLE"
end_

# ---- bad input: exit 2, message names the file and the JSON path ----------

# mk NAME: derives $T/NAME.json from altra.json with the filter on stdin
# (an awk program), and checks it really changed.
mk() {
	awk "$(cat)" "$RW/altra.json" >"$T/$1.json"
	cmp -s "$RW/altra.json" "$T/$1.json" &&
		echo "tests/cli/run.sh: mk $1 changed nothing" >&2
}

printf '{\n  "schema": "cpufleet.report/v1",\n  oops\n}\n' >"$T/notjson.json"
: >"$T/empty.json"
{ cat "$RW/altra.json"; echo '"trailing"'; } >"$T/trailing.json"
mk schema <<'EOF'
{ sub(/"cpufleet\.report\/v1"/, "\"cpufleet.report/v2\""); print }
EOF
mk noid <<'EOF'
!/^    "id": "altra",$/
EOF
mk nothex <<'EOF'
{ sub(/"ID_AA64PFR0_EL1": "0x1100000011111112"/, "\"ID_AA64PFR0_EL1\": \"0x11zz\""); print }
EOF
mk unkreg <<'EOF'
{ print } /"id_regs": \{/ { print "      \"ID_BOGUS_EL1\": \"0x0000000000000000\"," }
EOF
mk dupkey <<'EOF'
{ print } /"id_regs": \{/ { print "      \"ID_AA64PFR0_EL1\": \"0x0\"," }
EOF

printf '{"schema": "cpufleet.report/v1", "host": {"id": "e", "arch": "arm64"},\n "arm64": {"id_regs": {}}}\n' >"$T/noregs.json"
grep -v '"ID_AA64DFR0_EL1"' "$RAW/altra.json" >"$T/nodfr0.json"

case_ "not JSON: exit 2, FILE:LINE:COL"
run baseline "$T/notjson.json"
want_rc 2
err_has "$T/notjson.json:3:"
grep -qF "$T/notjson.json:3:" "$T/err" &&
	{ grep -q ":3:[0-9][0-9]*: " "$T/err" || bad "no column after the line"; }
[ -s "$T/out" ] && bad "stdout not empty"
end_

case_ "empty file: exit 2, FILE:1:1"
run show "$T/empty.json"
want_rc 2
err_has "$T/empty.json:1:1:"
end_

case_ "valid report followed by more text is not JSON: exit 2, FILE:LINE:COL"
n=$(wc -l <"$T/trailing.json")
run show "$T/trailing.json"
want_rc 2
err_has "$T/trailing.json:$n:"
end_

case_ "wrong schema: exit 2, \$.schema"
run baseline "$T/schema.json"
want_rc 2
err_has "$T/schema.json: \$.schema"
end_

case_ "show wrong schema: exit 2, \$.schema"
run show "$T/schema.json"
want_rc 2
err_has "$T/schema.json: \$.schema"
end_

case_ "missing host.id: exit 2, \$.host.id"
run baseline "$T/noid.json"
want_rc 2
err_has "$T/noid.json: \$.host.id"
end_

case_ "register value not hex: exit 2, \$.arm64.id_regs.ID_AA64PFR0_EL1"
run baseline "$T/nothex.json"
want_rc 2
err_has "$T/nothex.json: \$.arm64.id_regs.ID_AA64PFR0_EL1"
end_

case_ "unknown register name: exit 2, \$.arm64.id_regs.ID_BOGUS_EL1"
run baseline "$T/unkreg.json"
want_rc 2
err_has "$T/unkreg.json: \$.arm64.id_regs.ID_BOGUS_EL1"
end_

case_ "register given twice in one report: exit 2"
run show "$T/dupkey.json"
want_rc 2
err_has "$T/dupkey.json: \$.arm64.id_regs.ID_AA64PFR0_EL1"
end_

case_ "report without the registers every KVM reports: exit 2, names the first"
run baseline "$RW/altra.json" "$T/noregs.json"
want_rc 2
err_has "$T/noregs.json: \$.arm64.id_regs: lacks MIDR_EL1"
[ -s "$T/out" ] && bad "stdout not empty"
end_

case_ "report without ID_AA64DFR0_EL1: exit 2, names it"
run check --profile "$T/rw.json" "$T/nodfr0.json"
want_rc 2
err_has "$T/nodfr0.json: \$.arm64.id_regs: lacks ID_AA64DFR0_EL1"
end_

case_ "nonexistent file: exit 2, names it"
run baseline "$RW/altra.json" "$T/nonexistent.json"
want_rc 2
err_has "$T/nonexistent.json"
end_

case_ "check --profile with a bad profile: exit 2, names it"
run check --profile "$T/notjson.json" "$RW/altra.json"
want_rc 2
err_has "$T/notjson.json:3:"
end_

case_ "check with a bad report: exit 2, names it"
run check --profile "$T/rw.json" "$RW/altra.json" "$T/nothex.json"
want_rc 2
err_has "$T/nothex.json: \$.arm64.id_regs.ID_AA64PFR0_EL1"
end_

case_ "explain with a bad report: exit 2, names it"
run explain "$RW/altra.json" "$T/noid.json"
want_rc 2
err_has "$T/noid.json: \$.host.id"
end_

case_ "matrix with a bad report: exit 2, names it"
run matrix "$RW/altra.json" "$T/schema.json"
want_rc 2
err_has "$T/schema.json: \$.schema"
end_

# ---- the agent's token from a file (systemd's LoadCredential=) -------------
# Nothing listens on port 1 of loopback: a token that passes gets as far as
# connecting (exit 3, report spooled); one that does not is a usage error.

case_ "agent --token-file missing: exit 2, names the file"
run agent --server http://127.0.0.1:1 --token-file "$T/no-token" --once \
	--spool "$T/spool-a"
want_rc 2
err_has "$T/no-token"
end_

case_ "agent --token-file empty: exit 2, names the file"
: >"$T/empty-token"
run agent --server http://127.0.0.1:1 --token-file "$T/empty-token" --once \
	--spool "$T/spool-a"
want_rc 2
err_has "$T/empty-token"
end_

case_ "agent --token-file: the first line is the token, the rest ignored"
printf 'cft_0123_abcdef\nnot a token: spaces\n' >"$T/token"
run agent --server http://127.0.0.1:1 --token-file "$T/token" --once \
	--spool "$T/spool-b" --from "$RW/altra.json" --tries 1 --timeout 1 -q
want_rc 3
[ "$(ls "$T/spool-b" | grep -c .)" -ge 1 ] || bad "no report spooled"
end_

# ---- a failed baseline changes nothing -------------------------------------

mkdir "$T/o"

case_ "baseline -o OUT with one bad report: exit 2, OUT not created"
run baseline -o "$T/o/out.json" "$RW/altra.json" "$T/nothex.json" "$RW/graviton3.json"
want_rc 2
err_has "$T/nothex.json"
[ -e "$T/o/out.json" ] && bad "OUT created"
left=$(ls -A "$T/o")
[ -z "$left" ] || bad "files left in OUT's directory: $left"
end_

case_ "baseline -o OUT with one bad report: existing OUT unchanged"
printf '{"keep": "me"}\n' >"$T/o/out.json"
cp "$T/o/out.json" "$T/keep.json"
run baseline -o "$T/o/out.json" "$RAW/altra.json" "$T/notjson.json"
want_rc 2
cmp -s "$T/o/out.json" "$T/keep.json" || bad "OUT changed"
left=$(ls -A "$T/o")
[ "$left" = "out.json" ] || bad "files in OUT's directory: $(echo "$left" | tr '\n' ' ')"
end_

# ---- duplicate host ids ----------------------------------------------------

case_ "same report twice: exit 2, appears twice"
run baseline "$RW/altra.json" "$RW/altra.json"
want_rc 2
err_has "appears twice"
err_has "altra"
[ -s "$T/out" ] && bad "stdout not empty: $(first "$T/out")"
end_

case_ "two files with one host id: exit 2, appears twice, OUT unchanged"
run baseline -o "$T/o/out.json" "$RW/graviton3.json" "$RAW/graviton3.json"
want_rc 2
err_has "appears twice"
err_has "$RAW/graviton3.json"
cmp -s "$T/o/out.json" "$T/keep.json" || bad "OUT changed"
end_

# ---- pools --------------------------------------------------------------------

case_ "pools fleet: three pools, exit 1, index and baselines written"
run pools -d "$T/pools" "$FLEET"/*.json
want_rc 1
out_has "pool 3 (arm64): v1-01 v1-02"
[ -s "$T/pools/pool-3.json" ] || bad "no pool-3.json"
python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert [p['hosts'] for p in d['pools']] == [['a72-01','a72-02'],['n1-01','n1-02'],['v1-01','v1-02']]" "$T/pools/pools.json" || bad "pools.json wrong"
end_

case_ "pools real-writable: one pool, exit 0"
run pools "$RW"/*.json
want_rc 0
out_has "pool 1 (arm64): altra cortex-a72 graviton3"
end_

# Issue 17 case 7: a real fleet of x86 and arm64 hosts.  Architectures
# never share a pool, nor do x86 vendors (CPUID leaf 0: bergamo-04 is
# AuthenticAMD, hygon-01 HygonGenuine, the others GenuineIntel).
case_ "pools x86 + arm64: split by architecture and vendor, exit 1"
run pools tests/data/x86/*.json "$RW"/*.json
want_rc 1
out_has "(arm64): altra cortex-a72 graviton3"
out_has "(x86 AuthenticAMD): bergamo-04"
out_has "(x86 HygonGenuine): hygon-01"
grep -q "(x86 GenuineIntel):.*spr-05" "$T/out" || bad "no Intel pool with spr-05"
run pools --json tests/data/x86/*.json "$RW"/*.json
want_rc 1
json_ok "$T/out"
python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
vendor = {"bergamo-04": "AuthenticAMD", "hygon-01": "HygonGenuine", "gnr-03": "GenuineIntel",
          "snb-ep": "GenuineIntel", "spr-05": "GenuineIntel", "altra": None, "cortex-a72": None,
          "graviton3": None}
seen = [h for p in d["pools"] for h in p["hosts"]]
assert sorted(seen) == sorted(vendor), seen
for p in d["pools"]:
    assert {vendor[h] for h in p["hosts"]} == {p.get("vendor")}, p
    assert p["arch"] == ("arm64" if p.get("vendor") is None else "x86"), p' "$T/out" || bad "a pool mixes architectures or vendors"
end_

case_ "pools: the same reports in reverse order give byte-identical output"
ls tests/data/x86/*.json "$RW"/*.json "$FLEET"/*.json tests/data/lab/reports/*.json >"$T/list"
run pools -d "$T/fwd" $(cat "$T/list")
cp "$T/out" "$T/fwd.txt"
run pools -d "$T/rev" $(tac "$T/list")
cmp -s "$T/out" "$T/fwd.txt" || bad "text differs: $(diff "$T/fwd.txt" "$T/out" | head -n 3 | tr '\n' ' ')"
cmp -s "$T/fwd/pools.json" "$T/rev/pools.json" || bad "pools.json differs"
for f in "$T"/fwd/pool-*.json; do
	cmp -s "$f" "$T/rev/${f##*/}" || bad "${f##*/} differs"
done
run pools --json $(tac "$T/list")
cp "$T/out" "$T/rev.json"
run pools --json $(cat "$T/list")
cmp -s "$T/out" "$T/rev.json" || bad "--json differs"
end_

case_ "pools: one host id in two files: exit 2, both named"
run pools "$RW/altra.json" "$RAW/altra.json"
want_rc 2
err_has "$RAW/altra.json: host id altra appears twice (also in $RW/altra.json)"
end_

# Features given up (README "Splitting a fleet into pools"): the lab's a76 and n1 (KVM 6.12)
# differ in ID_AA64PFR1_EL1 only where both can write it: SSBS [7:4] is 1
# on a76, 2 on n1 (Arm ARM: 0b0010 FEAT_SSBS2), in both writable masks
# (0xff), so their common pool keeps SSBS 1 and gives up FEAT_SSBS2.
case_ "pools: each pool's features given up, the total, and --strategy"
run pools tests/data/lab/reports/*.json
want_rc 1
out_has "(arm64): a76 n1"
grep -A1 "(arm64): a76 n1" "$T/out" | grep -qx "  gives up 1 feature: FEAT_SSBS2" ||
	bad "a76+n1 does not give up FEAT_SSBS2 alone"
tail -n 1 "$T/out" | grep -q "features\? given up (fewest)$" || bad "no total line"
run pools --json tests/data/lab/reports/*.json
want_rc 1
json_ok "$T/out"
python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
assert d["strategy"] == "fewest" and d["exact"] is True, d
assert d["given_up_total"] == sum(len(p["given_up"]) for p in d["pools"]), d
p = [p for p in d["pools"] if "n1" in p["hosts"]][0]
assert p["hosts"] == ["a76", "n1"] and p["given_up"] == ["FEAT_SSBS2"], p' "$T/out" ||
	bad "--json: given_up wrong"
run pools --strategy first-fit tests/data/lab/reports/*.json
want_rc 1
out_has "(arm64): a76 n1"
tail -n 1 "$T/out" | grep -q "given up (first-fit)$" || bad "no first-fit total"
run pools --strategy best tests/data/lab/reports/*.json
want_rc 2
err_has "--strategy best: expected fewest or first-fit"
end_

# pools --what-if on files: the new baseline against the baseline of the
# reports given.  Facts from the reports and arch/arm64/idregs.txt (the Arm
# ARM's values): cortex-a72's ID_AA64MMFR1_EL1 is 0, altra's and
# graviton3's VH (11:8) is 1 = FEAT_VHE; graviton3's ID_AA64PFR0_EL1.SVE
# (35:32) is 1 = FEAT_SVE, altra's 0.
case_ "pools --what-if add: a poorer host, FEAT_VHE lost, nobody refuses"
run pools --what-if "add=$RW/cortex-a72.json" "$RW/graviton3.json" "$RW/altra.json"
want_rc 0
has_word "^  lost:" FEAT_VHE || bad "FEAT_VHE not lost: $(first "$T/out")"
out_has "refused by: none"
end_

case_ "pools --what-if remove --json: FEAT_SVE gained, nothing lost"
run pools --json --what-if remove=altra "$RW/graviton3.json" "$RW/altra.json"
want_rc 0
json_ok "$T/out"
[ "$(py "$T/out" "('FEAT_SVE' in d['gained'], d['lost'], d['hosts'], d['against'])")" = "(True, [], ['graviton3'], None)" ] ||
	bad "what-if remove: $(py "$T/out" "(d['gained'], d['lost'], d['hosts'])")"
end_

# A Neoverse N1 added to two V1s: MIDR_EL1 differs (the reports'
# midr_el1) and the reports list no KVM capability (no
# KVM_CAP_ARM_WRITABLE_IMP_ID_REGS, Linux 6.15), so the new baseline is
# infeasible and every host whose MIDR_EL1 differs from the new profile's
# refuses it, naming MIDR_EL1.
case_ "pools --what-if add: infeasible, the hosts whose MIDR differs refuse it, exit 1"
run pools --what-if "add=$FLEET/n1-01.json" "$FLEET/v1-01.json" "$FLEET/v1-02.json"
want_rc 1
out_has "INFEASIBLE"
out_has "REFUSED by v1-01"
grep -A1 "REFUSED by v1-01" "$T/out" | grep -q MIDR_EL1 || bad "v1-01's refusal does not name MIDR_EL1"
run pools --json --what-if "add=$FLEET/n1-01.json" "$FLEET/v1-01.json" "$FLEET/v1-02.json"
python3 - "$T/out" "$FLEET" <<'PY' || bad "refusing hosts are not those whose MIDR_EL1 differs"
import json, sys
d = json.load(open(sys.argv[1]))
pm = int(d["profile"]["arm64"]["id_regs"]["MIDR_EL1"], 16)
want = sorted(h for h in ("n1-01", "v1-01", "v1-02")
              if int(json.load(open("%s/%s.json" % (sys.argv[2], h)))
                     ["arm64"]["midr_el1"], 16) != pm)
got = sorted(x["host"] for x in d["refused"])
assert d["feasible"] is False and got == want and want, (got, want)
PY
end_

case_ "pools --what-if: bad input names the host or file, exit 2"
run pools --what-if remove=ghost-9 "$RW/graviton3.json" "$RW/altra.json"
want_rc 2
err_has "ghost-9"
printf '{"schema": "cpufleet.report/v1", "host": 1}' >"$T/bad.json"
run pools --what-if "add=$T/bad.json" "$RW/graviton3.json"
want_rc 2
err_has "$T/bad.json"
run pools --what-if bogus=1 "$RW/graviton3.json"
want_rc 2
err_has "bogus=1"
end_

X86=tests/data/x86

case_ "show x86 report: flags and psABI level"
run show "$X86/spr-05.json"
want_rc 0
out_has "report of host spr-05 (x86)"
out_has "avx512f"
out_has "psABI level: x86-64-v4"
end_

case_ "show x86 profile: psABI level and what the next level lacks"
run show "$X86/golden/intel.json"
want_rc 0
out_has "psABI level: x86-64-v2 (next level lacks: avx2"
end_

case_ "show --json x86: psabi_level"
run show --json "$X86/snb-ep.json"
want_rc 0
python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert d['psabi_level']=='x86-64-v2' and 'avx2' in d['psabi_next_missing']" "$T/out" || bad "psabi_level wrong"
end_

# The named model's expectation is libvirt's own map read by
# tests/x86/libvirt_models.py (no cpufleet table or code), on every dump and
# on a baseline of two of them.
LVMAP=${LIBVIRT_CPU_MAP:-/usr/share/libvirt/cpu_map}
# The map arch/x86/libvirt.txt was made from: libvirt 9.0.0's.
lvver=$(virsh --version 2>/dev/null || echo 9.0.0)
if [ -d "$LVMAP" ] && [ "$lvver" = 9.0.0 ]; then
	case_ "show and baseline x86: the richest libvirt named model, as libvirt's map judges it"
	"$BIN" baseline -o "$T/sg.json" "$X86/spr-05.json" "$X86/gnr-03.json" \
		2>"$T/sg.err" || bad "baseline failed"
	python3 tests/x86/libvirt_models.py "$X86"/*.json "$T/sg.json" \
		>"$T/models" || bad "libvirt_models.py failed"
	n=0
	while read -r f m; do
		n=$((n + 1))
		run show "$f"
		want_rc 0
		out_has "named model: $m (libvirt 9.0.0 cpu_map)"
		run show --json "$f"
		python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
assert d["named_model"] == sys.argv[2], d["named_model"]
assert d["named_model_source"] == "libvirt 9.0.0 cpu_map"' "$T/out" "$m" ||
			bad "$f: JSON named_model is not $m"
	done <"$T/models"
	[ "$n" -eq 6 ] || bad "libvirt_models.py judged $n files, want 6"
	# Each model is one libvirt offers (virsh cpu-models), where virsh is.
	if command -v virsh >/dev/null 2>&1; then
		virsh -c test:///default cpu-models x86_64 >"$T/vmodels" 2>/dev/null ||
			bad "virsh cpu-models failed"
		while read -r f m; do
			grep -qx -- "$m" "$T/vmodels" || bad "virsh lists no model $m"
		done <"$T/models"
	fi
	m=$(sed -n 's|^.*/sg.json ||p' "$T/models")
	grep -qF "named model: $m (libvirt 9.0.0 cpu_map)" "$T/sg.err" ||
		bad "baseline stderr lacks 'named model: $m'"
	grep -qF "psABI level: x86-64-v4" "$T/sg.err" ||
		bad "baseline stderr lacks its psABI level"
	end_
else
	skip_ "show and baseline x86: the richest libvirt named model" "no $LVMAP, or libvirt $lvver's map, not 9.0.0's"
fi

case_ "show x86: no named model for the x86-64-v1 profile"
# x86-64-v1 holds the psABI's baseline flags only; libvirt's smallest
# model, 486 (x86_486.xml), needs fpu, pse and vme, and pse and vme are no
# psABI flags.
run show x86-64-v1
want_rc 0
out_has "named model: none (libvirt 9.0.0 cpu_map)"
run show --json x86-64-v1
python3 -c "import json,sys; assert json.load(open(sys.argv[1]))['named_model'] is None" "$T/out" || bad "named_model is not null"
end_

case_ "show --json identity: the same host read on another CPU is the same content"
# SDM Vol. 2A CPUID: leaf 1 EBX[31:24] is the initial APIC id and leaf 0xB
# EDX the x2APIC id of the CPU that ran CPUID; AVX512F is leaf 7 EBX[16].
python3 - "$X86/spr-05.json" "$T" <<'PYEOF'
import json, sys
src, out = sys.argv[1], sys.argv[2]
def reg(d, leaf, sub):
    return next(e for e in d["x86"]["cpuid"]
                if int(e["leaf"], 16) == leaf and int(e["subleaf"], 16) == sub)
d = json.load(open(src))
r1, rb = reg(d, 1, 0), reg(d, 0xb, 0)
r1["ebx"] = "0x%08x" % (int(r1["ebx"], 16) & 0x00ffffff | 7 << 24)
rb["edx"] = "0x00000007"
json.dump(d, open(out + "/cpu7.json", "w"))
r7 = reg(d, 7, 0)
r7["ebx"] = "0x%08x" % (int(r7["ebx"], 16) ^ 1 << 16)
json.dump(d, open(out + "/noavx512f.json", "w"))
PYEOF
ids=""
for f in "$X86/spr-05.json" "$T/cpu7.json" "$T/noavx512f.json"; do
	run show --json "$f"
	want_rc 0
	ids="$ids $(py "$T/out" "d.get('identity')")"
done
set -- $ids
echo "$1" | grep -qE '^cfid1:[0-9a-f]{64}$' || bad "identity '$1' is not cfid1: and 64 hex digits"
[ "$1" = "$2" ] || bad "APIC ids changed the identity: $1, $2"
[ "$1" != "$3" ] || bad "avx512f did not change the identity"
end_

case_ "baseline x86 Intel and AMD: infeasible, the vendor conflict says so"
run baseline -o "$T/mixed.json" "$X86/spr-05.json" "$X86/bergamo-04.json"
want_rc 1
err_has "hosts of different vendors never share a pool: spr-05 is GenuineIntel, bergamo-04 is AuthenticAMD"
end_

case_ "check x86: Sapphire Rapids' own profile on Sandy Bridge names flags"
run explain "$X86/spr-05.json" "$X86/snb-ep.json"
want_rc 1
out_has "host snb-ep lacks avx512f"
end_

case_ "check against a named psABI level: x86-64-v3"
run check --profile x86-64-v3 "$X86/hygon-01.json" "$X86/snb-ep.json"
want_rc 1
out_has "hygon-01: compatible"
out_has "host snb-ep lacks avx2"
end_

# ---- KVM capabilities: no CPU features -------------------------------------
# (arch/caps/caps.txt roles; issue 17 case 2).  Copies of real dumps with
# capabilities set here; tests/data is left alone.
# arm64 named levels.  Expectations from the Arm ARM (DDI 0487, A2: the
# features each Armv8.N extension makes mandatory) and the TRMs, read
# against the registers by hand (tests/unit/test_levels.c has the detail):
# Neoverse N1 is Armv8.2-A and lacks pointer authentication
# (ID_AA64ISAR1_EL1.APA/API 0), FJCVTZS and FCMLA (JSCVT, FCMA 0); the
# Cortex-A53 is Armv8.0-A (ID_AA64ISAR0_EL1.Atomic 0: no LSE).  MIDR
# 0x413fd0c1 is Arm (0x41) part 0xd0c, Neoverse N1 (cputype.h), r3p1.
case_ "show arm64: architecture level and core"
run show "$RAW/altra.json"
want_rc 0
out_has "architecture level: Armv8.2 (next level lacks: FEAT_PAuth FEAT_JSCVT FEAT_FCMA)"
out_has "core: Neoverse N1 (MIDR 0x413fd0c1: implementer Arm, part 0xd0c, r3p1)"
run show --json tests/data/lab/reports/a53.json
want_rc 0
python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
assert d["arch_level"] == "Armv8.0", d["arch_level"]
assert "FEAT_LSE" in d["arch_level_next_missing"], d["arch_level_next_missing"]
assert d["core"].startswith("unknown core (MIDR 0x000f0010: implementer 0x00"), d["core"]' "$T/out" ||
	bad "JSON arch_level/core wrong"
end_

case_ "baseline arm64: the level of a pool; -q leaves it out"
# Cortex-A76 and Neoverse N1: both Armv8.2-A (TRMs), without PAuth, JSCVT
# and FCMA.
run baseline -o "$T/lv.json" tests/data/lab/reports/n1.json tests/data/lab/reports/a76.json
want_rc 0
err_has "architecture level: Armv8.2 (next level lacks: FEAT_PAuth FEAT_JSCVT FEAT_FCMA)"
run baseline -q -o "$T/lv.json" tests/data/lab/reports/n1.json tests/data/lab/reports/a76.json
want_rc 0
! grep -q "architecture level" "$T/err" || bad "-q printed the level"
run show "$T/lv.json"
out_has "architecture level: Armv8.2"
end_

LAB=tests/data/lab/reports

# json_edit SRC DST CODE: DST is the JSON document SRC after the Python
# statements CODE have changed it (as d).
json_edit() {
	python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
exec(sys.argv[3])
json.dump(d, open(sys.argv[2], "w"), indent=1)' "$1" "$2" "$3"
}

# with_caps SRC DST ID JSON: SRC as host ID with "kvm": {"caps": JSON}.
with_caps() {
	json_edit "$1" "$2" "d['host']['id'] = '$3'; d['kvm'] = {'caps': json.loads('$4')}"
}

# KVM_CAP_NR_VCPUS is only KVM's recommended vCPU count (api.rst 4.7): the
# same CPU with 128 and with 2 online CPUs takes the same guests.
with_caps "$X86/spr-05.json" "$T/big.json" big '{"KVM_CAP_NR_VCPUS": 128, "KVM_CAP_MAX_VCPUS": 4096, "KVM_CAP_NR_MEMSLOTS": 32764, "KVM_CAP_IRQFD": 1}'
with_caps "$X86/spr-05.json" "$T/small.json" small '{"KVM_CAP_NR_VCPUS": 2, "KVM_CAP_MAX_VCPUS": 1024, "KVM_CAP_NR_MEMSLOTS": 509, "KVM_CAP_IRQFD": 0}'
case_ "explain: the same CPU with 128 and 2 online CPUs is compatible both ways"
run explain "$T/big.json" "$T/small.json"
want_rc 0
out_lacks "KVM_CAP"
out_lacks "INCOMPATIBLE"
end_

case_ "the big host's baseline keeps its capabilities as advice; check passes the small one"
run baseline -q -o "$T/bs.json" "$T/big.json"
want_rc 0
json_is "$T/bs.json" 'd["kvm"]["caps"]["KVM_CAP_NR_VCPUS"]' 128
json_is "$T/bs.json" '"enabled" in d["kvm"]' False
run check --profile "$T/bs.json" "$T/small.json"
want_rc 0
out_has "small: compatible"
end_

# api.rst 4.7: KVM_CREATE_VCPU adds no more than max_vcpus, which
# KVM_CAP_MAX_VCPUS gives.
with_caps "$FLEET/n1-01.json" "$T/n1-128.json" n1-128 '{"KVM_CAP_NR_VCPUS": 64, "KVM_CAP_MAX_VCPUS": 128}'
case_ "check --vcpus 200: a host whose KVM_CAP_MAX_VCPUS is 128 is refused, in words"
run baseline -q -o "$T/n1p.json" "$T/n1-128.json"
run check --profile "$T/n1p.json" --vcpus 200 "$T/n1-128.json"
want_rc 1
out_has "n1-128: INCOMPATIBLE"
out_has "host n1-128 takes at most 128 vCPUs per VM (KVM_CAP_MAX_VCPUS); the VM has 200"
end_

case_ "check --vcpus 100 passes the same host (more than its 64 online CPUs: overcommit, not refused)"
run check --profile "$T/n1p.json" --vcpus 100 "$T/n1-128.json"
want_rc 0
out_has "n1-128: compatible"
end_

case_ "check --vcpus on the lab's reports (KVM 6.12 arm64, 512): 512 passes, 513 does not"
run baseline -q -o "$T/a72.json" "$LAB/a72.json"
run check --profile "$T/a72.json" --vcpus 512 "$LAB/a72.json"
want_rc 0
run check --profile "$T/a72.json" --vcpus 513 --json "$LAB/a72.json"
want_rc 1
json_is "$T/out" 'd["verdicts"][0]["reasons"][0]["register"]' KVM_CAP_MAX_VCPUS
end_

case_ "check --vcpus 0 or a word: exit 2"
run check --profile "$T/a72.json" --vcpus 0 "$LAB/a72.json"
want_rc 2
err_has "--vcpus"
end_

# What a VM enables (api.rst 7.28: KVM_CAP_ARM_MTE) is judged; the lab's n1
# reported KVM_CAP_ARM_MTE 0.
with_caps "$LAB/n1.json" "$T/n1-mte.json" n1-mte '{"KVM_CAP_ARM_MTE": 1, "KVM_CAP_MAX_VCPUS": 512}'
case_ "baseline --enable KVM_CAP_ARM_MTE: kvm.enabled, and check refuses a host without MTE"
run baseline -q --enable KVM_CAP_ARM_MTE -o "$T/mte.json" "$T/n1-mte.json"
want_rc 0
json_is "$T/mte.json" 'd["kvm"]["enabled"]' "{'KVM_CAP_ARM_MTE': 1}"
run check --profile "$T/mte.json" "$T/n1-mte.json" "$LAB/n1.json"
want_rc 1
out_has "n1-mte: compatible"
out_has "host n1 lacks KVM_CAP_ARM_MTE, which the profile's VMs enable"
end_

case_ "show: each capability's role, and the one the VMs enable as required"
run show "$T/mte.json"
want_rc 0
out_has "KVM_CAP_MAX_VCPUS = 0x0000000000000200  (capacity)"
out_has "KVM_CAP_ARM_MTE = 0x0000000000000001  (guest)"
out_has "KVM_CAP_ARM_MTE = 0x0000000000000001  (enabled by the VMs: required)"
run show --json "$T/mte.json"
json_is "$T/out" '[(r["register"], r.get("role"), r.get("enabled", False)) for r in d["registers"] if r["register"] == "KVM_CAP_ARM_MTE"]' "[('KVM_CAP_ARM_MTE', 'guest', False), ('KVM_CAP_ARM_MTE', 'guest', True)]"
end_

case_ "baseline --enable over a pool where a host lacks it: infeasible, the host named"
run baseline --enable KVM_CAP_ARM_MTE -o "$T/mte2.json" "$T/n1-mte.json" "$LAB/n1.json"
want_rc 1
err_has "KVM_CAP_ARM_MTE.bool: the profile's VMs enable it, and n1 lacks it (offers 0)"
end_

case_ "baseline --enable of a capacity or another architecture's capability: exit 2"
run baseline --enable KVM_CAP_MAX_VCPUS=8 "$LAB/n1.json"
want_rc 2
err_has "--enable KVM_CAP_MAX_VCPUS=8: a capacity, not a capability a VM enables"
run baseline --enable KVM_CAP_X2APIC_API=3 "$LAB/n1.json"
want_rc 2
err_has "not a KVM capability of arm64"
end_

# The pool's common set is advice: a profile written before kvm.enabled
# existed lists its capabilities in kvm.caps and still loads; none refuses.
case_ "the common set (kvm.caps) never refuses, an old profile's included"
json_edit "$T/a72.json" "$T/old.json" 'd["kvm"]["caps"].update({"KVM_CAP_ARM_MTE": 1, "KVM_CAP_ARM_SVE": 1, "KVM_CAP_MAX_VCPUS": 99999, "KVM_CAP_ARM_VM_IPA_SIZE": 52})'
run check --profile "$T/old.json" "$LAB/a72.json"
want_rc 0
out_has "a72: compatible"
end_

case_ "a profile enabling a capacity is refused at load, with its path"
json_edit "$T/a72.json" "$T/badcap.json" 'd["kvm"]["enabled"] = {"KVM_CAP_NR_VCPUS": 4}'
run check --profile "$T/badcap.json" "$LAB/a72.json"
want_rc 2
err_has "$.kvm.enabled.KVM_CAP_NR_VCPUS: a capacity"
end_

# Dependency-safe profiles.  spr-noz: Sapphire Rapids whose XCR0 (CPUID 0xD.0
# EAX) lacks the AVX-512 state, bits 5-7, and its sub-leaves 5-7, while leaf
# 7 keeps every AVX-512 flag.  The SDM (Vol. 1 15.2) has software use
# AVX-512F only with XCR0[7:5] = 111b: the pool's guest cannot have it.
python3 - "$X86/spr-05.json" "$T" <<'PYEOF2'
import json, sys
src, out = sys.argv[1], sys.argv[2]
d = json.load(open(src))
d["host"]["id"] = "spr-noz"
c = d["x86"]["cpuid"]
for e in c:
    if int(e["leaf"], 16) == 0xd and int(e["subleaf"], 16) == 0:
        e["eax"] = "0x%08x" % (int(e["eax"], 16) & ~0xe0)
d["x86"]["cpuid"] = [e for e in c if not (int(e["leaf"], 16) == 0xd and
                                          int(e["subleaf"], 16) in (5, 6, 7))]
json.dump(d, open(out + "/spr-noz.json", "w"))
PYEOF2

case_ "baseline drops AVX-512 where an XCR0 lacks its state, and says why"
run baseline -o "$T/noz.json" "$X86/spr-05.json" "$T/spr-noz.json"
want_rc 0
err_has "dropped avx512f: needs XCR0 bits 5-7 (opmask, ZMM_Hi256, Hi16_ZMM), which not every host offers (spr-noz lacks xcr0_opmask)"
err_has "dropped avx512bw: needs avx512f, which is dropped too"
json_is "$T/noz.json" 'd["dropped"][0]["feature"]' "avx512f"
json_is "$T/noz.json" 'd["dropped"][0]["register"] + "." + d["dropped"][0]["field"]' "CPUID_00000007_0_EBX.avx512f"
json_is "$T/noz.json" '"which not every host offers" in d["dropped"][0]["reason"]' "True"
json_is "$T/noz.json" 'int([e for e in d["x86"]["cpuid"] if int(e["leaf"], 16) == 7 and int(e["subleaf"], 16) == 0][0]["ebx"], 16) >> 16 & 1' "0"
run baseline -q "$X86/spr-05.json" "$T/spr-noz.json"
want_rc 0
err_empty
run check --profile "$T/noz.json" "$X86/spr-05.json" "$T/spr-noz.json"
want_rc 0
end_

case_ "check refuses a hand-made profile keeping AVX2 without AVX"
# Linux cpuid-deps.c: {AVX2, AVX}.  AVX is leaf 1 ECX[28].
json_edit "$T/noz.json" "$T/noavx.json" '
e = [e for e in d["x86"]["cpuid"] if int(e["leaf"], 16) == 1][0]
e["ecx"] = "0x%08x" % (int(e["ecx"], 16) & ~(1 << 28))
d.pop("dropped", None)'
run check --profile "$T/noavx.json" "$X86/spr-05.json"
want_rc 1
out_has "spr-05: INCOMPATIBLE"
out_has "the profile keeps avx2 but not avx, which avx2 needs"
run check --json --profile "$T/noavx.json" "$X86/spr-05.json"
want_rc 1
json_is "$T/out" '[r["needs"] for r in d["verdicts"][0]["reasons"] if r["features"] == "avx2"]' "['avx']"
end_

case_ "baseline arm64: a PAuth pair split by an exact field loses both halves"
# Graviton3 has APA 3 and GPA 1; a copy with APA 1.  APA combines exactly
# (Linux cpufeature.c FTR_EXACT, safe 0), so the pool gets APA 0; FEAT_PACQARMA5
# is APA and GPA together (Arm ARM), so GPA goes too.
json_edit "$RW/graviton3.json" "$T/g3-apa1.json" '
d["host"]["id"] = "g3-apa1"
r = d["arm64"]["id_regs"]
r["ID_AA64ISAR1_EL1"] = "0x%016x" % (int(r["ID_AA64ISAR1_EL1"], 16) & ~0xf0 | 0x10)'
run baseline -o "$T/pauth.json" "$RW/graviton3.json" "$T/g3-apa1.json"
want_rc 0
err_has "dropped FEAT_PACQARMA5 (ID_AA64ISAR1_EL1.GPA): needs FEAT_PAuth,FEAT_PACQARMA5 (ID_AA64ISAR1_EL1.APA), which every host offers but not alike"
json_is "$T/pauth.json" 'int(d["arm64"]["id_regs"]["ID_AA64ISAR1_EL1"], 16) >> 24 & 0xf' "0"
end_

case_ "apply off arm64: exit 2, say why"
run apply --check-only "$RW/altra.json"
want_rc 2
err_has "arm64"
end_

# ---- export and import ------------------------------------------------------

run baseline -q -o "$T/spr.json" "$X86/spr-05.json"
run baseline -q -o "$T/n1own.json" "$FLEET/n1-01.json"

case_ "export without --format: exit 2, names --format"
run export "$T/spr.json"
want_rc 2
err_has "--format is required"
end_

case_ "export --format vmware: exit 2, names the format, nothing on stdout"
run export --format vmware "$T/spr.json"
want_rc 2
err_has "format vmware: expected qemu, libvirt or firecracker"
[ ! -s "$T/out" ] || bad "stdout not empty"
end_

case_ "export --version without --name: exit 2"
run export --format qemu --version 2 "$T/spr.json"
want_rc 2
err_has "--version needs --name"
end_

case_ "export libvirt of an arm64 profile: exit 2, says why, -o not written"
run export --format libvirt -o "$T/lv.xml" "$T/n1own.json"
want_rc 2
err_has "libvirt: a profile of arm64: libvirt cannot set arm64 ID registers"
[ ! -e "$T/lv.xml" ] || bad "$T/lv.xml written"
end_

# Sapphire Rapids' CPUID 1 ECX[11] (SDBG): QEMU's FEAT_1_ECX names no bit
# 11 (target/i386/cpu.c feature_word_info), libvirt's cpu_map neither.
case_ "export qemu of a profile with a bit QEMU cannot name: exit 2 naming it, nothing written"
run export --format qemu -o "$T/q.txt" "$T/spr.json"
want_rc 2
err_has "CPUID_00000001_0_ECX.sdbg"
err_has "--allow-drop"
[ ! -e "$T/q.txt" ] || bad "$T/q.txt written"
end_

# A psABI level lists flags but no maximum leaf (CPUID 0 EAX): a guest
# reads no leaf of it (SDM Vol. 2A CPUID, leaf 0: EAX is the highest basic
# leaf), so there is no CPU to export.
case_ "export of a psABI level: exit 2, names max_basic_leaf, in every format"
for f in qemu libvirt firecracker; do
	run export --format $f x86-64-v3
	want_rc 2
	err_has "CPUID_00000000_0_EAX.max_basic_leaf"
done
end_

case_ "export --allow-drop: written to -o, the same as stdout, left-out bits listed"
run export --format qemu --allow-drop -o "$T/q.txt" "$T/spr.json"
want_rc 0
run export --format qemu --allow-drop "$T/spr.json"
cmp -s "$T/out" "$T/q.txt" || bad "-o FILE differs from stdout"
out_has "# left out (QEMU has no property for them): CPUID_00000001_0_ECX.sdbg"
grep -q '^-cpu [A-Za-z0-9-]*,vendor=GenuineIntel,family=6,model=143,stepping=8,' "$T/out" ||
	bad "no '-cpu MODEL,vendor=GenuineIntel,family=6,model=143,stepping=8' (signature 0x806f8)"
out_has ",enforce"
end_

# The fingerprint is the SHA-256 of the profile's JSON text, which is what
# `baseline -o` wrote (less its final newline).
case_ "export --json: names format, profile, version and the fingerprint of the profile text"
run export --format libvirt --allow-drop --json --name rack1 --version 3 "$T/spr.json"
want_rc 0
json_ok "$T/out"
sum=$(python3 -c 'import hashlib, sys
print("sha256:" + hashlib.sha256(open(sys.argv[1], "rb").read().rstrip(b"\n")).hexdigest())' "$T/spr.json")
json_is "$T/out" '(d["format"], d["arch"], d["profile"], d["version"], d["fingerprint"])' "('libvirt', 'x86', 'rack1', 3, '$sum')"
json_is "$T/out" '"<!-- cpufleet export of profile rack1 version 3, fingerprint %s -->" % d["fingerprint"] in d["text"]' "True"
json_is "$T/out" 'len(d["dropped"]) > 0 and "CPUID_00000001_0_ECX.sdbg" in d["dropped"]' "True"
end_

case_ "export firecracker: the template on stdout, profile and fingerprint on stderr"
run export --format firecracker --name rack1 --version 3 "$T/spr.json"
want_rc 0
json_ok "$T/out"
json_is "$T/out" 'sorted(d)' "['cpuid_modifiers', 'kvm_capabilities', 'msr_modifiers']"
err_has "firecracker template of profile rack1 version 3, fingerprint sha256:"
end_

case_ "import: --format other than firecracker, or no --host: exit 2"
run import --format qemu --host "$X86/spr-05.json" "$T/q.txt"
want_rc 2
err_has "only firecracker templates"
run import --format firecracker "$T/q.txt"
want_rc 2
err_has "--host REPORT is required"
end_

case_ "import: a member Firecracker's template refuses, or a leaf the host lacks: exit 2 naming it"
echo '{"cpuid_modifiers": [], "comment": "x"}' >"$T/t1.json"
run import --format firecracker --host "$X86/spr-05.json" -o "$T/imp.json" "$T/t1.json"
want_rc 2
err_has '$.comment: not a member of a Firecracker x86_64 template'
[ ! -e "$T/imp.json" ] || bad "$T/imp.json written"
echo '{"cpuid_modifiers": [{"leaf": "0x4fffffff", "subleaf": "0x0", "flags": 0, "modifiers": [{"register": "eax", "bitmap": "0b1"}]}]}' >"$T/t2.json"
run import --format firecracker --host "$X86/spr-05.json" "$T/t2.json"
want_rc 2
err_has '$.cpuid_modifiers[0].modifiers[0].bitmap: changes CPUID leaf 0x4fffffff subleaf 0x0, which host spr-05 does not have'
end_

# Firecracker's bitmap: read from the end, '_' skipped, x keeps the host's
# bit (templates.rs RegisterValueFilter).  SPR's CPUID 7.0 EBX is 0xf3bfbffb
# (its report); forcing bits 5 (AVX2) and 16 (AVX512F) to 0 and bit 22 to 1
# gives 0xf3bfbffb & ~0x10020 | 0x400000 = 0xf3febfdb.  Bit 22 is one SPR
# lacks, so check finds the guest's view not runnable on SPR itself.
case_ "import: a bitmap applied as Firecracker applies it, and check judges the profile"
echo '{"cpuid_modifiers": [{"leaf": "0x7", "subleaf": "0x0", "flags": 1, "modifiers": [{"register": "ebx", "bitmap": "0b1xxxxx0_xxxxxxxxxx0xxxxx"}]}]}' >"$T/t3.json"
run import --format firecracker --host "$X86/spr-05.json" -o "$T/imp.json" "$T/t3.json"
want_rc 0
json_is "$T/imp.json" '[e["ebx"] for e in d["x86"]["cpuid"] if (e["leaf"], e["subleaf"]) == ("0x00000007", "0x00000000")]' "['0xf3febfdb']"
run check --profile "$T/imp.json" "$X86/spr-05.json"
want_rc 1
out_has "CPUID_00000007_0_EBX.bit22"
end_

# ---- manual masks: baseline --disable, --require, --max-level --------------
# Field positions and values from the Arm ARM (DDI 0487 K.a, D19.2):
# ID_AA64PFR0_EL1.SVE is bits [35:32], 0b0001 FEAT_SVE; ID_AA64ZFR0_EL1 is
# RAZ without SVE; ID_AA64ISAR1_EL1 APA [7:4], JSCVT [15:12], FCMA [19:16],
# LRCPC [23:20] (0b0001 FEAT_LRCPC, 0b0010 FEAT_LRCPC2).  Armv8.3 makes
# FEAT_PAuth, FEAT_JSCVT, FEAT_FCMA and FEAT_LRCPC mandatory (A2, "Armv8.3
# architecture extensions"; arch/arm64/levels.txt).  Graviton3 (Neoverse V1)
# has SVE and is Armv8.4; Neoverse N1 has LRCPC 1, V1 LRCPC 2, Cortex-A72
# neither (their TRMs' ID_AA64ISAR1_EL1).

case_ "baseline --disable FEAT_SVE: SVE field 0, ZFR0 dropped with it, named on stderr"
run baseline -q -o "$T/g3.json" "$RW/graviton3.json"
want_rc 0
for spelling in FEAT_SVE sve; do
	run baseline --disable "$spelling" -o "$T/g3-nosve.json" "$RW/graviton3.json"
	want_rc 0
	err_has "which --disable $spelling took away"
	json_is "$T/g3-nosve.json" 'int(d["arm64"]["id_regs"]["ID_AA64PFR0_EL1"], 16) >> 32 & 0xf' "0"
	json_is "$T/g3-nosve.json" 'int(d["arm64"]["id_regs"]["ID_AA64ZFR0_EL1"], 16)' "0"
	# Nothing else of PFR0 changes.
	want=$(py "$T/g3.json" 'hex(int(d["arm64"]["id_regs"]["ID_AA64PFR0_EL1"], 16) & ~(0xf << 32))')
	json_is "$T/g3-nosve.json" 'hex(int(d["arm64"]["id_regs"]["ID_AA64PFR0_EL1"], 16))' "$want"
done
run check --profile "$T/g3-nosve.json" "$RW/graviton3.json"
want_rc 0
end_

case_ "baseline --max-level armv8.2: the Armv8.3 features go, the level is Armv8.2"
run baseline -q --max-level armv8.2 -o "$T/g3-82.json" "$RW/graviton3.json"
want_rc 0
for sh in 4 12 16 20; do    # APA, JSCVT, FCMA, LRCPC
	json_is "$T/g3-82.json" "int(d['arm64']['id_regs']['ID_AA64ISAR1_EL1'], 16) >> $sh & 0xf" "0"
done
run show "$T/g3-82.json"
out_has "architecture level: Armv8.2 (next level lacks: FEAT_PAuth FEAT_JSCVT FEAT_FCMA FEAT_LRCPC)"
run check --profile "$T/g3-82.json" "$RW/graviton3.json"
want_rc 0
run baseline --max-level Armv7 "$RW/graviton3.json"
want_rc 2
err_has "Armv7"
end_

case_ "baseline --require FEAT_LRCPC2: infeasible, naming the hosts that lack it"
run baseline --require FEAT_LRCPC2 -o "$T/req.json" $FLEET/*.json
want_rc 1
err_has "a72-01, a72-02, n1-01, n1-02"
! grep -q v1-0 "$T/err" || bad "names a V1: $(first "$T/err")"
[ ! -e "$T/req.json" ] || bad "-o written"
run baseline -q --require lrcpc2 $FLEET/v1-01.json $FLEET/v1-02.json
want_rc 0
run baseline --disable FEAT_NOSUCH "$RW/graviton3.json"
want_rc 2
err_has "FEAT_NOSUCH"
end_

case_ "baseline x86 masks: --disable avx512f, --max-level x86-64-v3, --require avx2"
# SDM Vol. 2A, CPUID leaf 07H: EBX bit 16 AVX512F; Sandy Bridge has no
# AVX2 (leaf 07H EBX bit 5), Sapphire Rapids has it.
run baseline -q --disable avx512f -o "$T/spr.json" tests/data/x86/spr-05.json
want_rc 0
json_is "$T/spr.json" '[int(x["ebx"], 16) >> 16 & 1 for x in d["x86"]["cpuid"] if int(x["leaf"], 16) == 7 and int(x["subleaf"], 16) == 0]' "[0]"
run baseline -q --max-level x86-64-v3 -o "$T/spr3.json" tests/data/x86/spr-05.json
want_rc 0
run show "$T/spr3.json"
out_has "psABI level: x86-64-v3"
run baseline --require avx2 tests/data/x86/snb-ep.json tests/data/x86/spr-05.json
want_rc 1
err_has "snb-ep lacks avx2"
end_

case_ "baseline masks on the lab's reports (KVM 6.12): what KVM lets userspace lower goes, what it does not is refused"
# ID_AA64ISAR0_EL1.DP is bits [47:44], 0b0001 FEAT_DotProd (Arm ARM); the
# lab's N1 and A76 both have it, and their writable masks cover it.
# FEAT_RAS is an Armv8.2 feature (A2), and ID_AA64PFR0_EL1.RAS is outside
# the N1 report's writable mask (KVM's set_id_aa64pfr0_el1 keeps it).
L=tests/data/lab/reports
run baseline -q --disable FEAT_DotProd -o "$T/lab-dp.json" $L/n1.json $L/a76.json
want_rc 0
json_is "$T/lab-dp.json" 'int(d["arm64"]["id_regs"]["ID_AA64ISAR0_EL1"], 16) >> 44 & 0xf' "0"
run check --profile "$T/lab-dp.json" $L/n1.json $L/a76.json
want_rc 0
run baseline -q --max-level armv8.1 -o "$T/lab-81.json" $L/n1.json $L/a76.json
want_rc 1
err_has "the masked profile is refused on n1: ID_AA64PFR0_EL1.RAS is not writable on n1"
[ ! -e "$T/lab-81.json" ] || bad "-o written"
end_

case_ "kernel advice on the lab's 6.12 split: a53 + a57 need CTR_EL0.L1Ip, writable from 6.17"
# kvm-writable.txt line 404: "writable CTR_EL0 L1Ip 6.13..6.17" (first in
# 6.13..6.17: the release known to have it is 6.17).  KVM's own answer: the
# 7.3 lab reports' CTR_EL0 masks cover L1Ip [15:14] and there a53, a57 and
# a72 share one pool (tests/data/lab/reports-7.3, README "lab-kernels").
L=tests/data/lab/reports
run baseline -o "$T/adv.json" $L/a53.json $L/a57.json
want_rc 1
err_has "conflict: CTR_EL0.L1Ip"
err_has "kernel advice: CTR_EL0.L1Ip: writable from Linux 6.17 (first in 6.13..6.17; kvm-writable.txt line 404): with hosts a53, a57 on 6.17 this pool becomes feasible"
run baseline -q -o "$T/adv.json" $L/a53.json $L/a57.json
want_rc 1
! grep -q "kernel advice" "$T/err" || bad "-q printed advice"
end_

case_ "kernel advice on the lab's a53 | a57, a72 split: 6.17 is not enough, 6.18 is"
# kvm-writable.txt line 404: CTR_EL0.L1Ip "6.13..6.17"; line 96:
# "writable ID_MMFR0_EL1 AuxReg 6.18 aa32-6.18 stable=6.12.60": the 6.12.95
# hosts may write it (6.12.60 took it), a 6.17 kernel may not, and a57 and
# a72 differ there.  KVM's own answer on 7.3.4: a53, a57 and a72 share one
# pool (tests/data/lab/reports-7.3).
L=tests/data/lab/reports
run baseline -o "$T/adv.json" $L/a53.json $L/a57.json $L/a72.json
want_rc 1
err_has "kernel advice: CTR_EL0.L1Ip: writable from Linux 6.17 (first in 6.13..6.17; kvm-writable.txt line 404): with hosts a53, a57, a72 on 6.17 the pool stays infeasible: ID_MMFR0_EL1.AuxReg; on 6.18 it becomes feasible"
run baseline -q --kernel 6.18 -o "$T/k.json" $L/a53.json $L/a57.json $L/a72.json
want_rc 0
run baseline -q --kernel 6.17 -o "$T/k.json" $L/a53.json $L/a57.json $L/a72.json
want_rc 1
end_

case_ "kernel advice on the lab's a57/a72 + a76/n1 split: RAS from 6.18 (approximate), and the pool stays infeasible"
# kvm-writable.txt line 238: "writable ID_AA64PFR0_EL1 RAS 6.18 ras-6.18
# approx".  ID_AA64PFR0_EL1.AdvSIMD/FP and ID_AA64MMFR1_EL1.XNX/VH/VMIDBits
# are in no line of the table (never writable), and the 7.3 lab's KVM still
# keeps a57, a72 apart from a76, n1 on exactly those fields
# (tests/data/lab/reports-7.3: pools a53 a57 a72 | a76 n1): never "feasible".
run baseline -o "$T/adv.json" $L/a57.json $L/a72.json $L/a76.json $L/n1.json
want_rc 1
err_has "kernel advice: ID_AA64PFR0_EL1.RAS: writable from Linux 6.18 (approximate; kvm-writable.txt line 238): with hosts a57, a72, a76, n1 on 6.18 the pool stays infeasible: "
err_has "ID_AA64PFR0_EL1.AdvSIMD"
! grep -q "becomes feasible" "$T/err" || bad "claims feasibility: $(grep 'becomes feasible' "$T/err" | head -n 1)"
! grep -q "kernel advice: ID_AA64PFR0_EL1.AdvSIMD" "$T/err" || bad "advice on a field the table never makes writable"
end_

case_ "kernel advice on the real dumps (fleet, 6.12.57): MIDR/REVIDR from 6.15 with the capability, AArch32 from 6.18 and 6.12.60"
# kvm-writable.txt lines 60, 62, 63, 65: MIDR_EL1 Variant, PartNum, Revision
# and REVIDR_EL1 REVIDR "6.15 imp-6.15 cap=KVM_CAP_ARM_WRITABLE_IMP_ID_REGS";
# lines 67 and 70: ID_PFR0_EL1 RAS and CSV2 "6.18 aa32-6.18
# stable=6.12.60:stable-6.12.60 host=aarch32" (both hosts have
# ID_AA64PFR0_EL1.EL0 = 2, AArch32 at EL0, and run 6.12.57, before
# 6.12.60).  ID_AA64PFR0_EL1.AdvSIMD is in no line: the pool stays
# infeasible on any release.
run baseline -o "$T/adv.json" $FLEET/n1-01.json $FLEET/a72-01.json
want_rc 1
err_has "kernel advice: MIDR_EL1.Variant, MIDR_EL1.PartNum, MIDR_EL1.Revision, REVIDR_EL1.REVIDR: writable from Linux 6.15 once the VMM enables KVM_CAP_ARM_WRITABLE_IMP_ID_REGS (kvm-writable.txt lines 60, 62, 63, 65): with hosts n1-01, a72-01 on 6.15 the pool stays infeasible"
err_has "kernel advice: ID_PFR0_EL1.RAS, ID_PFR0_EL1.CSV2, "
err_has ": writable from Linux 6.18 (and 6.12.60) (kvm-writable.txt lines 67, 70, "
err_has "kernel advice: all of them: with hosts n1-01, a72-01 on 6.18 the pool stays infeasible: "
err_has "ID_AA64PFR0_EL1.AdvSIMD"
! grep -q "becomes feasible" "$T/err" || bad "claims feasibility"
end_

case_ "kernel advice: a pool that needs only a field of approximate release says so"
# n1 with ID_AA64PFR0_EL1.RAS [31:28] at 2 (FEAT_RASv1p1) as host n1r: the
# pool n1 + n1r differs in that field only, outside both 6.12.95 masks.
# kvm-writable.txt line 238: "writable ID_AA64PFR0_EL1 RAS 6.18 ras-6.18
# approx", so the claim must carry the approximation.
L=tests/data/lab/reports
json_edit $L/n1.json "$T/n1r.json" "d['host']['id'] = 'n1r'; r = d['arm64']['id_regs']; r['ID_AA64PFR0_EL1'] = '0x%016x' % (int(r['ID_AA64PFR0_EL1'], 16) & ~(0xf << 28) | (2 << 28))"
run baseline -o "$T/adv.json" $L/n1.json "$T/n1r.json"
want_rc 1
err_has "conflict: ID_AA64PFR0_EL1.RAS"
err_has "kernel advice: ID_AA64PFR0_EL1.RAS: writable from Linux 6.18 (approximate; kvm-writable.txt line 238): with hosts n1, n1r on 6.18 this pool becomes feasible if the releases kvm-writable.txt marks approximate hold"
end_

case_ "pools --kernel 7.3 on the 6.12 lab reports gives the pools the 7.3 lab's own reports give"
# KVM's own answer: `pools` over tests/data/lab/reports-7.3 (7.3.4's masks)
# is a53 a57 a72 | a64fx | a76 n1 | max; over the 6.12.95 reports, five
# pools (a53 alone: CTR_EL0.L1Ip, kvm-writable.txt line 404, 6.13..6.17).
run pools $L/*.json
want_rc 1
out_has "pool 1 (arm64): a53"
out_lacks "a53 a57"
run pools --kernel 7.3 $L/*.json
want_rc 1
out_has "pool 1 (arm64): a53 a57 a72"
out_has "pool 2 (arm64): a64fx"
out_has "pool 3 (arm64): a76 n1"
out_has "pool 4 (arm64): max"
run pools --kernel 6.17 $L/a53.json $L/a57.json
want_rc 0
run pools --kernel 6.12.95 $L/a53.json $L/a57.json
want_rc 1
run baseline -q --kernel 6.17 -o "$T/k.json" $L/a53.json $L/a57.json
want_rc 0
run pools --kernel 6 $L/a53.json
want_rc 2
err_has "--kernel 6: expected a Linux release X.Y or X.Y.Z"
run pools --kernel 7.3 --what-if remove=a53 $L/a53.json $L/a57.json
want_rc 2
err_has "--kernel goes without --what-if"
run pools --help
out_has "--kernel X.Y"
run baseline --help
out_has "--kernel X.Y"
out_has "kernel advice: REG.FIELD"
end_

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
