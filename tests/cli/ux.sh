#!/bin/sh
# What an operator reads and types (issue 19, points 2 and 7): the one-line
# summary per host of check and explain and their --brief; '-' for
# standard input; odd host ids; outputs that cannot be written.  make
# cli-test runs it.
#
#   sh tests/cli/ux.sh BINARY

. "$(dirname "$0")/../lib/cli.sh"

RW=tests/data/arm64/real-writable
FLEET=tests/data/fleet
X86=tests/data/x86

"$BIN" baseline -q -o "$T/rw.json" "$RW"/*.json 2>/dev/null

# rewrite SRC OUT ID CODE: report SRC as host ID, changed by the Python
# statements CODE on its document d, written to OUT.
rewrite() {
	python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
d["host"]["id"] = sys.argv[3]
exec(sys.argv[4])
json.dump(d, open(sys.argv[2], "w"))' "$@"
}
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
# MIDR_EL1 as the core (arch/arm64/levels.txt: 0xd40 Neoverse V1, 0xd0c
# Neoverse N1, implementer 0x41 Arm; the reports' MIDR_EL1).
sed -n 1p "$T/out" | grep -qF '(MIDR_EL1 Neoverse V1 (host Neoverse N1), ' || bad "the summary does not name the cores"
run explain --brief "$FLEET/v1-01.json" "$FLEET/n1-01.json"
want_rc 1
[ "$(wc -l <"$T/out")" -eq 2 ] || bad "--brief: $(wc -l <"$T/out") lines, want 2"
run explain --brief "$FLEET/v1-01.json" "$FLEET/v1-02.json"
want_rc 0
[ "$(cat "$T/out")" = "v1-01 -> v1-02: compatible
v1-02 -> v1-01: compatible" ] || bad "--brief of two V1s: $(tr '\n' '|' <"$T/out")"
end_

# One reason naming two features stays one blocker: Neoverse N1 (Armv8.2,
# TRM: PAN and PAN2) to Cortex-A72 (Armv8.0, TRM: neither), the lab's
# reports.
case_ "a reason of two features is one blocker, 'FEAT_PAN/FEAT_PAN2'"
run explain --brief tests/data/lab/reports/n1.json tests/data/lab/reports/a72.json
want_rc 1
grep -q '^n1 -> a72: incompatible, [0-9]* blockers (.*FEAT_PAN/FEAT_PAN2' "$T/out" ||
	bad "line: $(grep '^n1 -> a72' "$T/out")"
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

# spr-05's report with its TSC rate set to 2,400,000 and 2,100,000 kHz and
# no TSC scaling: KVM_SET_TSC_KHZ refuses the other rate (arch/x86/kvm/x86.c,
# kvm_set_tsc_khz, tsc_tolerance_ppm 250).  The rate reads in MHz.
case_ "reasons: a TSC rate in MHz"
rewrite "$X86/spr-05.json" "$T/fast.json" fast \
	'd["x86"]["tsc_khz"] = 2400000; d["x86"]["tsc_scaling"] = False'
rewrite "$X86/spr-05.json" "$T/slow.json" slow \
	'd["x86"]["tsc_khz"] = 2100000; d["x86"]["tsc_scaling"] = False'
run explain "$T/fast.json" "$T/slow.json"
want_rc 1
# The rate leads, in the words users know, with no register name first.
out_has "TSC frequency 2400 MHz, host slow 2100 MHz"
out_has "TSC frequency 2100 MHz, host fast 2400 MHz"
grep -q '0x249f00' "$T/out" && bad "the rate in hex kHz"
grep -q '^  - TSC_KHZ' "$T/out" && bad "a reason starts with the register"
sed -n 1p "$T/out" | grep -qx 'fast -> slow: incompatible, 1 blocker (TSC frequency)' ||
	bad "summary: $(sed -n 1p "$T/out")"
end_

# The CPUID vendor strings (leaf 0, EBX EDX ECX): "AuthenticAMD" on
# Bergamo, "GenuineIntel" on Sapphire Rapids; their first four bytes are
# "Auth" and "Genu".  Architectural performance monitoring (leaf 0xA EAX
# bits 23:16, SDM Vol. 2A): SPR's counters are 48 bits wide, in decimal.
case_ "reasons: vendor strings as text, counter widths in decimal bits"
run check --profile "$T/spr.json" "$X86/bergamo-04.json"
want_rc 1
# The whole vendor string leads each of the three reasons (SDM Vol. 2A
# CPUID leaf 0: "GenuineIntel" in EBX, EDX, ECX; APM: "AuthenticAMD").
out_has 'CPU vendor GenuineIntel, host bergamo-04 has AuthenticAMD'
grep -q '^  - CPUID_00000000' "$T/out" && bad "a vendor reason starts with the register"
[ "$(grep -c '^  - CPU vendor GenuineIntel, host bergamo-04 has AuthenticAMD' "$T/out")" -eq 3 ] ||
	bad "not one vendor line per register of leaf 0"
out_has "gp_width wants 48 bits, host offers 0 bits"
grep -q 'bits outside described fields' "$T/out" && bad "unnamed bits not listed"
grep -q 'CPUID_0000000D_8_EAX: bit 7, which the catalogue does not name, differs on bergamo-04' "$T/out" ||
	bad "an unnamed bit is not given by number"
end_

# CPUID 0x80000001 EDX on AMD repeats leaf 1 EDX (AMD APM vol. 3, CPUID
# Fn8000_0001_EDX: bit 0 FPU, 23 MMX, 24 FXSR); Intel reserves those bits
# (SDM Vol. 2A CPUID 80000001H: EDX bits 10:0 reserved).  Linux keeps the
# leaf-1 names for leaf 1 and its amd_ prefix for AMD's copies of a
# feature (amd_ibpb, amd_ssbd); /proc/cpuinfo shows leaf 1's only.  Also
# named: 0x80000008 EBX bit 3 INVLPGB (X86_FEATURE_INVLPGB), 0x8000000A
# EDX bit 17 GMET (X86_FEATURE_GMET), leaf 7 ECX bit 31 PKS and EDX bit 5
# UINTR (SDM Vol. 2A leaf 07H), IA32_ARCH_CAPABILITIES bit 12 DOITM
# (Intel's data operand independent timing guidance).
case_ "reasons: AMD's copies of leaf 1 flags and the other public bits by name"
"$BIN" baseline -q -o "$T/berg.json" "$X86/bergamo-04.json" 2>/dev/null
run check --profile "$T/berg.json" "$X86/spr-05.json"
want_rc 1
for f in amd_fpu amd_mmx amd_fxsr invlpgb gmet; do
	out_has "host spr-05 lacks $f: "
done
grep -q 'CPUID_80000001_0_EDX\.bit' "$T/out" && bad "0x80000001 EDX by bit number: $(grep -m1 'CPUID_80000001_0_EDX\.bit' "$T/out")"
run check --profile "$T/spr.json" "$X86/bergamo-04.json"
want_rc 1
for f in pks uintr doitm; do
	out_has "host bergamo-04 lacks $f: "
done
end_

# ID_AA64MMFR0_EL1.PARange (Arm ARM D19.2): 0b0100 44 bits, 0b0101 48
# bits; Neoverse N1 reports 48, Cortex-A72 44 (their reports' MMFR0).
# ASIDBits 0b0010 is 16 bits, 0b0000 8.
case_ "reasons: the physical address size in bits, the 16KB granule by name"
run explain "$FLEET/n1-01.json" "$FLEET/a72-01.json"
want_rc 1
out_has "ID_AA64MMFR0_EL1.PARange wants 48 bits, host offers 44 bits"
grep -q 'PARange wants 5' "$T/out" && bad "PARange as its encoding"
# TGran16 0b0001 is FEAT_TGran16K (Arm's feature names for A-profile);
# the Cortex-A72 TRM gives TGran16 0 (no 16KB granule), N1's report 1.
out_has "host a72-01 lacks FEAT_TGran16K: ID_AA64MMFR0_EL1.TGran16 wants 1, host offers 0"
end_

# A baseline's conflicts in the same words: ID_AA64MMFR1_EL1.VMIDBits
# 0b0000 is 8 bits, 0b0010 16 (Arm ARM D19.2); the 6.12 lab's Cortex-A72
# reports 0, its Cortex-A76 2, and neither KVM lets userspace write it
# (their reports' masks).  FEAT_RAS: PFR0.RAS 0 on the A72, 1 on the A76;
# SMCCC_ARCH_WORKAROUND_1's level 0 (NOT_AVAIL) on the A72, 2 on the A76.
case_ "conflicts: values in decimal or bits, not hex encodings"
run baseline -o "$T/c.json" tests/data/lab/reports/a72.json tests/data/lab/reports/a76.json
want_rc 1
err_has "ID_AA64MMFR1_EL1.VMIDBits (FEAT_VMID16): differs between hosts and is not writable on a72 (8 bits) nor on a76 (16 bits)"
err_has "ID_AA64PFR0_EL1.RAS (FEAT_RAS): differs between hosts and is not writable on a72 (0) nor on a76 (1)"
err_has "a guest on a76 carries its 2 whatever the profile says"
grep -q '(0x[0-9a-f]*) nor on' "$T/err" && bad "a conflict value in hex"
end_

# KVM_REG_ARM64_SVE_VLS (Documentation/virt/kvm/api.rst): bit vq-1 set is
# a vector length of vq * 128 bits.  A guest on 0xf (128 to 512 bits) needs
# them all; a host of 0x3 offers 128 and 256.
case_ "reasons: SVE vector lengths in bits"
rewrite "$FLEET/v1-01.json" "$T/sve4.json" sve4 'd["arm64"]["kvm_facts"] = {"SVE_VLS": "0xf"}'
rewrite "$FLEET/v1-01.json" "$T/sve2.json" sve2 'd["arm64"]["kvm_facts"] = {"SVE_VLS": "0x3"}'
run explain "$T/sve4.json" "$T/sve2.json"
want_rc 1
out_has "does not accept 128, 256, 384, 512 bits (offers 128, 256 bits"
end_

# ---- point 7: '-' is standard input ------------------------------------------

case_ "'-' reads a report or profile from standard input"
run show - <"$RW/altra.json"
want_rc 0
out_has "altra"
run show - <"$T/rw.json"
want_rc 0
run baseline -q - <"$RW/altra.json"
want_rc 0
grep -q '"altra"' "$T/out" || bad "baseline of stdin lacks host altra"
run check --profile - "$RW/altra.json" <"$T/rw.json"
want_rc 0
out_has "altra: compatible"
run check --profile "$T/rw.json" - <"$RW/graviton3.json"
want_rc 0
out_has "graviton3: compatible"
run explain - "$RW/altra.json" <"$RW/altra.json"
want_rc 0
run matrix - <"$RW/altra.json"
want_rc 0
run pools - <"$RW/altra.json"
want_rc 0
run export --format firecracker - <"$T/spr.json"
want_rc 0
echo '{"cpuid_modifiers": [{"leaf": "0x7", "subleaf": "0x0", "flags": 1, "modifiers": [{"register": "ebx", "bitmap": "0b0xxxxx"}]}]}' >"$T/tpl.json"
run import --format firecracker --host "$X86/spr-05.json" - <"$T/tpl.json"
want_rc 0
run import --format firecracker --host - "$T/tpl.json" <"$X86/spr-05.json"
want_rc 0
# apply stops at /dev/kvm here, after reading the profile.
run apply --check-only - <"$T/rw.json"
grep -q -- '-: cannot open' "$T/err" && bad "apply: '-' opened as a file"
end_

case_ "'-': a bad document on standard input is named as such, exit 2"
echo '{' >"$T/bad.json"
run show - <"$T/bad.json"
want_rc 2
err_has "stdin:1:2: malformed JSON"
run baseline - <"$T/bad.json"
want_rc 2
err_has "stdin:1:2: malformed JSON"
end_

# ---- point 7: host ids -------------------------------------------------------

# hostid FILE ID: altra's report under the host id ID (raw bytes).
hostid() {
	python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
d["host"]["id"] = "@@ID@@"
t = json.dumps(d).encode()
sys.stdout.buffer.write(t.replace(b"@@ID@@", sys.argv[2].encode("utf-8", "surrogateescape")))' "$RW/altra.json" "$2" >"$1"
}

# The rule the server applies (README, HTTP API; fleet/upload.c): an id is
# UTF-8 text without control characters (RFC 3629; RFC 8259 section 8.1),
# and one path segment: no '/', not "." or ".." (RFC 3986 section 5.2.4
# removes those).  Locally the same, so an agent never spools a report the
# server will refuse.
case_ "host ids: odd but valid ones are kept as written"
for id in 0xFF 0xff "..y" ".x" "rack 1" "$(printf 'n\303\251ud-1')"; do
	hostid "$T/h.json" "$id"
	run show --json "$T/h.json"
	want_rc 0
	[ "$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["host"])' "$T/out" 2>/dev/null)" = "$id" ] ||
		bad "id '$id' not kept"
done
end_

case_ "host ids: one no path or JSON text can carry is refused, naming \$.host.id"
for id in "$(printf 'a\377b')" "rack1/node7" "." ".." "$(printf 'a\tb')"; do
	hostid "$T/h.json" "$id"
	run show "$T/h.json"
	want_rc 2
	err_has '$.host.id'
	run baseline "$T/h.json"
	want_rc 2
	err_has "$T/h.json: \$.host.id"
done
hostid "$T/h.json" "rack1/node7"
run show "$T/h.json"
err_has "contains '/'"
hostid "$T/h.json" "$(printf 'a\377b')"
run show "$T/h.json"
err_has "not UTF-8"
end_

case_ "--host-id: the same rule, naming the argument, before KVM is asked"
for c in collect agent; do
	run $c --host-id "rack1/node7" --server http://127.0.0.1:9 --once
	[ $c = collect ] && run $c --host-id "rack1/node7"
	want_rc 2
	err_has "--host-id 'rack1/node7'"
	err_has "contains '/'"
done
end_

# ---- point 7: outputs that cannot be written ---------------------------------

# Root writes through chmod, so: a path under /proc (no file can be created
# there) and one whose parent is a regular file.  The message names the
# file and the reason as strerror gives it (Python's os.strerror, the same
# C library); exit 3, "cannot write the output" (README's table).
reason() {
	python3 -c 'import sys
try:
    open(sys.argv[1] + ".probe", "w")
except OSError as e:
    print(e.strerror)' "$1"
}

case_ "an output that cannot be written: names the file and why, exit 3"
for o in /proc/cpufleet-x "$T/bad.json/out.json"; do
	because=$(reason "$o")
	[ -n "$because" ] || { bad "$o is writable here"; continue; }
	run baseline -q -o "$o" "$RW/altra.json"
	want_rc 3
	err_has "$o"
	err_has "$because"
	run export --format firecracker -o "$o" "$T/spr.json"
	want_rc 3
	err_has "$o"
	err_has "$because"
	run import --format firecracker --host "$X86/spr-05.json" -o "$o" "$T/tpl.json"
	want_rc 3
	err_has "$o"
	err_has "$because"
	run pools -d "$o" "$RW/altra.json"
	want_rc 3
	err_has "$o"
	err_has "$because"
	[ -s "$T/out" ] && bad "pools -d $o printed pools before failing"
done
end_

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
