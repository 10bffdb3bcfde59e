#!/bin/sh
# Tests against this machine's own KVM on x86-64: `cpufleet collect`, the
# report's CPUID against KVM_GET_SUPPORTED_CPUID read independently
# (x86_cpuid.py, no cpufleet code), a baseline (with the fixtures of
# tests/data/x86 that pool with this host), `cpufleet apply --check-only`
# and the guest check `--guest`, and refusals KVM must name.  A check that
# does not run says `skip - NAME: REASON` and is counted (off x86-64 or
# without /dev/kvm, every check); so is each CPUID register this host's KVM
# does not honour (KVM rewrote it, or the hypervisor below answered): the
# read-back and the guest check skip it by name, never `ok`.  Last line:
# `N passed, N failed, N skipped`.
# usage: sh tests/kvm/x86.sh CPUFLEET
#   CF_TEST_KVM_DEV (default /dev/kvm) and CF_TEST_ARCH (default `uname -m`)
#   stand in for the device and the machine (tests of this script itself).
set -u
BIN=${1:?usage: $0 CPUFLEET}
HERE=$(dirname "$0")
DATA=$HERE/../data/x86
KVM_DEV=${CF_TEST_KVM_DEV:-/dev/kvm}
pass=0 fail=0
. "$HERE/skips.sh"

ok() { pass=$((pass + 1)); echo "ok - $1"; }
notok() { fail=$((fail + 1)); echo "FAIL - $1: $2"; }
# Indented copy of a command's lines, for the log.
show() { sed 's/^/    /' "$1"; }
# Lines "skip<TAB>NAME<TAB>REASON" from a helper, each counted as a skip.
skips() {
	while IFS='	' read -r word name reason; do
		[ "$word" = skip ] && skip "$name" "$reason"
	done <"$1"
}
finish() {
	echo "$pass passed, $fail failed, $skipped skipped"
	[ "$fail" -eq 0 ]
	exit
}

# Every check of this file, for when none can run.
CHECKS="collect|collect: the report's CPUID against KVM_GET_SUPPORTED_CPUID|collect on every CPU|\
baseline with the fixtures that pool with this host|apply --check-only of the baseline|apply --guest|\
apply --guest of the baseline without lahf_lm|apply --check-only refuses 48 -> 40 linear-address bits|\
apply --check-only refuses a reserved IA32_PERF_CAPABILITIES bit|\
apply --check-only refuses a TSC rate half the host's, without TSC scaling|\
apply --guest refuses another vendor's profile|apply gives check's reasons|collect's thin-KVM warning"
skip_all() {
	skip_each "$CHECKS" "$1"
	finish
}

arch=${CF_TEST_ARCH:-$(uname -m)}
if [ "$arch" != x86_64 ]; then
	skip_all "this host is $arch; collect, apply and the guest check need an x86-64 host with KVM"
fi
if [ ! -e "$KVM_DEV" ]; then
	skip_all "$KVM_DEV is absent (no KVM on this x86-64 host)"
fi
if [ ! -r "$KVM_DEV" ] || [ ! -w "$KVM_DEV" ]; then
	skip_all "$KVM_DEV is not readable and writable by $(id -un)"
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

# ---- collect, and the report against KVM read independently ----
if "$BIN" collect --host-id self -o "$tmp/self.json" 2>"$tmp/err"; then
	ok "collect writes this host's report"
else
	notok "collect" "exit $?: $(head -1 "$tmp/err")"
	CHECKS=${CHECKS#collect|}
	skip_all "no report (collect failed)"
fi
if python3 "$HERE/x86_cpuid.py" "$tmp/self.json" >"$tmp/out" 2>&1; then
	ok "collect: the report's CPUID equals KVM_GET_SUPPORTED_CPUID read by fcntl.ioctl ($(tail -1 "$tmp/out"))"
else
	notok "collect: the report's CPUID against KVM_GET_SUPPORTED_CPUID" "$(head -5 "$tmp/out" | tr '\n' ';')"
fi

# ---- collect on every CPU: one report, one content identity ----
# KVM_GET_SUPPORTED_CPUID answers with the APIC ids of the CPU it runs on
# (issue 17 case 3): pinned to each CPU this may use, collect must write
# the same CPU content and `show --json` the same identity.
cpus=$(python3 -c 'import os; print(" ".join(map(str, sorted(os.sched_getaffinity(0)))))')
set -- $cpus
if ! command -v taskset >/dev/null 2>&1; then
	skip "collect on every CPU" "taskset is not installed (util-linux)"
elif [ "$#" -lt 2 ]; then
	skip "collect on every CPU" "this process may run on CPU $cpus only"
else
	ids="" why=""
	for c in "$@"; do
		if ! taskset -c "$c" "$BIN" collect --host-id self -o "$tmp/cpu$c.json" 2>"$tmp/err"; then
			why="$why collect on CPU $c: $(head -1 "$tmp/err");"
			continue
		fi
		"$BIN" show --json "$tmp/cpu$c.json" >"$tmp/show$c.json" 2>"$tmp/err" ||
			why="$why show of CPU $c's report: $(head -1 "$tmp/err");"
		ids="$ids $(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["identity"])' "$tmp/show$c.json" 2>/dev/null)"
		differ=$(python3 -c 'import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
print(" ".join(k for k in ("x86", "kvm") if a.get(k) != b.get(k)))' "$tmp/cpu$1.json" "$tmp/cpu$c.json")
		[ -z "$differ" ] || why="$why CPU $c's report differs from CPU $1's in $differ;"
	done
	n=$(echo "$ids" | tr ' ' '\n' | grep -c .)
	distinct=$(echo "$ids" | tr ' ' '\n' | grep . | sort -u | wc -l)
	if [ -z "$why" ] && [ "$n" -eq "$#" ] && [ "$distinct" -eq 1 ]; then
		ok "collect on each of CPUs $cpus: the same x86 and kvm sections, one identity"
	else
		notok "collect on every CPU" "$n identities, $distinct distinct;$why"
	fi
fi

# ---- the profile: this host, with the fixtures that pool with it ----
"$BIN" baseline -q -o "$tmp/own.json" "$tmp/self.json" 2>"$tmp/err" ||
	notok "baseline of this host" "exit $?: $(head -1 "$tmp/err")"
profile=$tmp/own.json
set -- "$DATA"/*.json
if [ -e "$1" ]; then
	# Each host joins the first pool that stays feasible with it: this
	# host comes first, so pool 1 is its pool.
	"$BIN" pools -d "$tmp/pools" "$tmp/self.json" "$@" >"$tmp/pools.txt" 2>"$tmp/err"
	rc=$?
	if [ "$rc" -gt 1 ] || [ ! -f "$tmp/pools/pool-1.json" ]; then
		notok "pools of this host and $# fixtures" "exit $rc: $(head -1 "$tmp/err")"
	else
		profile=$tmp/pools/pool-1.json
		mates=$(sed -n 's/^pool 1: //p' "$tmp/pools.txt")
		ok "baseline: this host with the fixtures of $DATA that pool with it (pool 1: $mates)"
		if [ "$mates" = self ]; then
			# Say why no fixture joins: the conflicts with the
			# fixtures of this host's vendor.
			vendor=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["x86"]["vendor"])' "$tmp/self.json")
			same=""
			for f in "$@"; do
				grep -q "\"$vendor\"" "$f" && same="$same $f"
			done
			if [ -n "$same" ]; then
				# shellcheck disable=SC2086
				"$BIN" baseline -o "$tmp/mixed.json" "$tmp/self.json" $same 2>"$tmp/err" >/dev/null
				echo "    no fixture pools with this host; with the $vendor fixtures the baseline says:"
				head -3 "$tmp/err" | sed 's/^/    /'
			fi
		fi
	fi
else
	skip "baseline with the fixtures that pool with this host" "no fixtures in $DATA (the profile is this host's alone)"
fi

# ---- apply --check-only ----
"$BIN" apply --check-only "$profile" >"$tmp/apply.txt" 2>"$tmp/err"
rc=$?
"$BIN" apply --check-only --json "$profile" >"$tmp/apply.json" 2>>"$tmp/err"
if [ "$rc" -ne 0 ]; then
	notok "apply --check-only of the baseline" "exit $rc: $(head -1 "$tmp/apply.txt") $(head -1 "$tmp/err")"
	show "$tmp/apply.txt"
elif why=$(python3 - "$tmp/apply.json" "$tmp/apply.skips" <<'EOF'
import json, sys
a = json.load(open(sys.argv[1]))["apply"]
rb = a["readback"]
problems = []
# each register KVM here rewrote is not compared: a skip, by name
with open(sys.argv[2], "w") as f:
    for x in rb["not_honoured"]:
        f.write("skip\tapply --check-only read-back of %s\tthis host's KVM does not honour it "
                "(KVM_GET_CPUID2 reads %s, the profile has %s)\n" % (x["register"], x["got"], x["wants"]))
if not a["accepted"]:
    problems.append("not accepted")
if rb["differences"]:
    problems.append("MSR or TSC read back differently: %s" % rb["differences"])
if rb["cpuid_entries"] == 0 or rb["cpuid_registers"] != 4 * rb["cpuid_entries"]:
    problems.append("CPUID not read back")
listed = len(rb["not_honoured"])
if listed != rb["not_honoured_count"]:
    problems.append("%d rewritten registers, %d listed" % (rb["not_honoured_count"], listed))
for x in rb["not_honoured"]:
    if not (int(x["wants"], 16) ^ int(x["got"], 16)) & int(x["compared"], 16):
        problems.append("%s listed as not honoured with no difference" % x["register"])
print("; ".join(problems))
sys.exit(1 if problems else 0)
EOF
); then
	n=$(grep -c . "$tmp/apply.skips")
	if [ "$n" -eq 0 ]; then
		ok "apply --check-only: accepted, read back equal ($(sed -n 's/^  read back: //p' "$tmp/apply.txt"))"
	else
		ok "apply --check-only: accepted, read back equal but for the $n CPUID registers this host's KVM rewrote (skipped below)"
		skips "$tmp/apply.skips"
	fi
else
	notok "apply --check-only of the baseline" "$why"
	show "$tmp/apply.txt"
fi

# ---- the guest check ----
"$BIN" apply --check-only --guest "$profile" >"$tmp/guest.txt" 2>"$tmp/err"
rc=$?
"$BIN" apply --check-only --guest --json "$profile" >"$tmp/guest.json" 2>>"$tmp/err"
summary=$(sed -n 's/^guest: //p' "$tmp/guest.txt")
if [ "$rc" -ne 0 ]; then
	notok "apply --guest" "exit $rc: ${summary:-$(head -1 "$tmp/err")}"
	grep -E '^(MISMATCH|REFUSED)' "$tmp/guest.txt" | sed 's/^/    /'
elif why=$(python3 - "$tmp/guest.json" "$tmp/guest.skips" <<'EOF'
import json, sys
g = json.load(open(sys.argv[1]))["guest"]
problems = []
why = {"kvm_rewrote": "this host's KVM rewrote it (KVM_GET_CPUID2 reads what the guest saw)",
       "outer_hypervisor": "the hypervisor below this host answered (the guest saw this host's own CPUID)"}
skips = open(sys.argv[2], "w")
if g is None:
    problems.append("no guest ran")
else:
    n = len(g["leaves"])
    if g["mismatched"]:
        problems.append("%d leaves mismatched" % g["mismatched"])
    if g["match"] + g["not_honoured"] + g["out_of_range"] != n or n == 0:
        problems.append("counts do not add up to %d leaves" % n)
    for l in g["leaves"]:
        for r in l["registers"]:
            if r["status"] != "not_honoured":
                continue
            if r["why"] not in why:
                problems.append("%s.%s %s not honoured without a reason" % (l["leaf"], l["subleaf"], r["register"]))
                continue
            # not compared: the guest check skips this register by name
            skips.write("skip\tapply --guest: CPUID %s.%x %s\tnot honoured: %s; the guest saw %s, "
                        "the profile has %s (differs in %s)\n" % (
                            l["leaf"], int(l["subleaf"], 16), r["register"], why[r["why"]],
                            r["seen"], r["wants"], r["differs_in"] or r["compared"]))
if problems:
    print("; ".join(problems))
    sys.exit(1)
print(g["match"])
EOF
); then
	n=$(grep -c . "$tmp/guest.skips")
	if [ "$n" -eq 0 ]; then
		ok "apply --guest: $summary"
	elif [ "$why" -gt 0 ]; then
		ok "apply --guest: $why leaves match; $n registers this host's KVM does not honour are skipped below"
	fi
	skips "$tmp/guest.skips"
else
	notok "apply --guest" "$why"
	show "$tmp/guest.txt"
fi

# ---- the guest reads KVM's table, not the host's CPUID ----
# The baseline without LAHF/SAHF (0x80000001 ECX bit 0): the guest must see
# the bit clear (a leaf this host's KVM does not rewrite, else it says so).
python3 - "$tmp/own.json" "$tmp/nolahf.json" <<'EOF'
import json, sys
p = json.load(open(sys.argv[1]))
for e in p["x86"]["cpuid"]:
    if e["leaf"] == "0x80000001":
        e["ecx"] = "0x%08x" % (int(e["ecx"], 16) & ~1)
json.dump(p, open(sys.argv[2], "w"))
EOF
"$BIN" apply --check-only --guest --json "$tmp/nolahf.json" >"$tmp/nolahf.out" 2>"$tmp/err"
rc=$?
why=$(python3 - "$tmp/nolahf.out" <<'EOF'
import json, sys
g = json.load(open(sys.argv[1]))["guest"]
for l in g["leaves"]:
    if l["leaf"] == "0x80000001":
        ecx = l["registers"][2]
        if ecx["status"] == "not_honoured":
            print("this host's KVM does not honour 0x80000001 ECX (%s)" % ecx["why"])
            sys.exit(2)
        if int(ecx["seen"], 16) & 1 or ecx["status"] != "ok":
            print("guest saw 0x80000001 ECX %s, wants %s" % (ecx["seen"], ecx["wants"]))
            sys.exit(1)
        sys.exit(0)
print("no leaf 0x80000001 in the guest's results")
sys.exit(1)
EOF
)
st=$?
if [ "$st" -eq 0 ] && [ "$rc" -eq 0 ]; then
	ok "apply --guest: the guest sees the profile's 0x80000001 ECX without lahf_lm"
elif [ "$st" -eq 2 ] && [ "$rc" -eq 0 ]; then
	skip "apply --guest of the baseline without lahf_lm" "$why: the guest cannot show the bit cleared"
else
	notok "apply --guest of the baseline without lahf_lm" "exit $rc: $why"
fi

# ---- refusals KVM must name ----
# Each: a change to the baseline, and the start of the REFUSED line.
refusal() { # NAME PYTHON-EDIT EXPECT
	python3 - "$tmp/own.json" "$tmp/bad.json" "$2" <<'EOF'
import json, sys
p = json.load(open(sys.argv[1]))
x = p["x86"]
exec(sys.argv[3])
json.dump(p, open(sys.argv[2], "w"))
EOF
	"$BIN" apply --check-only --kvm-only "$tmp/bad.json" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ "$rc" -eq 1 ] && grep -q "^REFUSED: $3" "$tmp/out"; then
		ok "apply --check-only refuses $1: $(head -1 "$tmp/out")"
	else
		notok "apply --check-only of $1" "exit $rc (want 1): $(head -1 "$tmp/out") $(head -1 "$tmp/err")"
	fi
}
refusal "48 -> 40 linear-address bits" \
	'[e.__setitem__("eax", "0x%08x" % (int(e["eax"], 16) & ~0xff00 | 0x2800)) for e in x["cpuid"] if e["leaf"] == "0x80000008"]' \
	'CPUID_80000008_0_EAX.virt_bits: KVM_SET_CPUID2'
if grep -q '"0x00000345"' "$tmp/own.json"; then
	refusal "a reserved IA32_PERF_CAPABILITIES bit" \
		'x["msrs"]["0x00000345"] = "0x%016x" % (int(x["msrs"]["0x00000345"], 16) | 1 << 62)' \
		'IA32_PERF_CAPABILITIES'
else
	skip "apply --check-only refuses a reserved IA32_PERF_CAPABILITIES bit" \
		"this host's profile has no IA32_PERF_CAPABILITIES (MSR 0x345)"
fi
if grep -q '"tsc_scaling":[[:space:]]*false' "$tmp/own.json" && grep -q '"tsc_khz"' "$tmp/own.json"; then
	refusal "a TSC rate half the host's, without TSC scaling" \
		'x["tsc_khz"] = x["tsc_khz"] // 2' 'TSC_KHZ: KVM_SET_TSC_KHZ'
else
	skip "apply --check-only refuses a TSC rate half the host's, without TSC scaling" \
		"this host has TSC scaling (KVM takes any rate) or its profile has no TSC rate"
fi

# ---- the engine judges first: another vendor's profile ----
# KVM_SET_CPUID2 takes an AMD table on an Intel host (and the reverse);
# apply must refuse it from this host's report before asking KVM.
vendor=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["x86"]["vendor"])' "$tmp/self.json")
case $vendor in
AuthenticAMD) other=$DATA/spr-05.json other_vendor=GenuineIntel ;;
*) other=$DATA/bergamo-04.json other_vendor=AuthenticAMD ;;
esac
"$BIN" baseline -q -o "$tmp/other.json" "$other"
"$BIN" apply --check-only --guest "$tmp/other.json" >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ "$rc" -eq 1 ] &&
   grep -q "^REFUSED: .* is a profile for $other_vendor CPUs and this host's CPU is $vendor" "$tmp/out" &&
   ! grep -q '^accepted' "$tmp/out" && ! grep -q '^guest:' "$tmp/out"; then
	ok "apply --guest refuses a $other_vendor profile on this $vendor host before KVM: $(head -1 "$tmp/out")"
else
	notok "apply --guest of a $other_vendor profile" "exit $rc (want 1): $(head -2 "$tmp/out" | tr '\n' ' ') $(head -1 "$tmp/err")"
fi
"$BIN" check --profile "$tmp/other.json" "$tmp/self.json" >"$tmp/check.txt"
n_check=$(grep -c '^  - ' "$tmp/check.txt")
n_apply=$(grep -c '^  - ' "$tmp/out")
if [ "$n_check" -gt 0 ] && [ "$n_check" = "$n_apply" ]; then
	ok "apply gives check's reasons ($n_apply)"
else
	notok "apply gives check's reasons" "check $n_check, apply $n_apply"
fi

# ---- a thin KVM is named at collect ----
# ISA flags (SDM Vol. 2A CPUID: leaf 1 ECX bits 0 pni, 9 ssse3, 19 sse4_1,
# 20 sse4_2, 23 popcnt, 28 avx; leaf 7 EBX bits 5 avx2, 16 avx512f) that
# /proc/cpuinfo has and KVM's report lacks must be named, the others not.
"$BIN" collect --host-id self -o "$tmp/self2.json" 2>"$tmp/warn"
if why=$(python3 - "$tmp/self2.json" "$tmp/warn" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
warn = open(sys.argv[2]).read()
regs = {}
for e in r["x86"]["cpuid"]:
    regs[(int(e["leaf"], 16), int(e.get("subleaf", "0x0"), 16))] = e
def bit(leaf, reg, n):
    e = regs.get((leaf, 0))
    return bool(e and int(e[reg], 16) >> n & 1)
flags = set()
for line in open("/proc/cpuinfo"):
    if line.startswith("flags"):
        flags = set(line.split(":", 1)[1].split())
        break
sdm = {"pni": (1, "ecx", 0), "ssse3": (1, "ecx", 9), "sse4_1": (1, "ecx", 19),
       "sse4_2": (1, "ecx", 20), "popcnt": (1, "ecx", 23), "avx": (1, "ecx", 28),
       "avx2": (7, "ebx", 5), "avx512f": (7, "ebx", 16)}
named = set(warn.split("(a nested or restricted KVM?): ")[-1].split(";")[0].split()) if "offers less" in warn else set()
bad = []
for f, (leaf, reg, n) in sdm.items():
    thin = f in flags and not bit(leaf, reg, n)
    if thin != (f in named):
        bad.append("%s: cpuinfo %s, KVM %s, warned %s" % (f, f in flags, bit(leaf, reg, n), f in named))
print("; ".join(bad) or ("named: " + (" ".join(sorted(named)) or "none (KVM offers all)")))
sys.exit(1 if bad else 0)
EOF
); then
	ok "collect names the ISA flags this CPU has and its KVM lacks ($why)"
else
	notok "collect's thin-KVM warning" "$why"
fi

finish
