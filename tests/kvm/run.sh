#!/bin/sh
# Tests against this machine's own KVM: `cpufleet collect` and
# `cpufleet apply --check-only` on a scratch VM.  They need an arm64 host with
# /dev/kvm; anywhere else each check says `skip - NAME: REASON` and is counted
# (the arm64 lab, `make lab`, covers the same paths on emulated arm64 hosts).
# usage: tests/kvm/run.sh CPUFLEET
#   CF_TEST_KVM_DEV (default /dev/kvm) and CF_TEST_ARCH (default `uname -m`)
#   stand in for the device and the machine (tests of this script itself).
set -u
BIN=${1:?usage: $0 CPUFLEET}
KVM_DEV=${CF_TEST_KVM_DEV:-/dev/kvm}
ARCH=${CF_TEST_ARCH:-$(uname -m)}
pass=0 fail=0
. "$(dirname "$0")/skips.sh"

ok() { pass=$((pass + 1)); echo "ok - $1"; }
notok() { fail=$((fail + 1)); echo "FAIL - $1: $2"; }

CHECKS="collect|apply --check-only of this host's own profile|apply --check-only of the own profile with another MIDR_EL1"

if [ "$ARCH" != aarch64 ]; then
	skip_each "$CHECKS" "this host is $ARCH; it needs an arm64 host with KVM (the arm64 lab covers it)"
elif [ ! -w "$KVM_DEV" ]; then
	skip_each "$CHECKS" "$KVM_DEV is missing or not writable here"
else
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	if "$BIN" collect --host-id self -o "$tmp/self.json" 2>"$tmp/err"; then
		ok "collect writes a report"
	else
		notok "collect" "exit $?: $(head -1 "$tmp/err")"
	fi
	if [ ! -s "$tmp/self.json" ]; then
		skip "apply --check-only of this host's own profile" "no report (collect failed)"
		rm -f "$tmp/own.json"
	elif ! "$BIN" baseline -q -o "$tmp/own.json" "$tmp/self.json" 2>"$tmp/err"; then
		notok "apply --check-only of this host's own profile" "baseline of this host: $(head -1 "$tmp/err")"
	elif out=$("$BIN" apply --check-only "$tmp/own.json" 2>&1); then
		ok "apply --check-only accepts this host's own profile"
	else
		notok "apply --check-only of the own profile" "$out"
	fi
	# MIDR_EL1 with Revision's lowest bit flipped: KVM takes it only in a
	# VM that enabled
	# KVM_CAP_ARM_WRITABLE_IMP_ID_REGS (api.rst 7.42, Linux 6.15), which
	# apply does here where this host's KVM offers it; without it KVM
	# refuses it, and apply and check both name MIDR_EL1 and the capability.
	name="apply --check-only of the own profile with another MIDR_EL1"
	if [ ! -s "$tmp/own.json" ]; then
		skip "$name" "no own profile"
	elif ! python3 -c 'import json, sys
p = json.load(open(sys.argv[1]))
r = p["arm64"]["id_regs"]
r["MIDR_EL1"] = "0x%016x" % (int(r["MIDR_EL1"], 16) ^ 1)
json.dump(p, open(sys.argv[2], "w"))
c = json.load(open(sys.argv[3])).get("kvm", {}).get("caps", {})
print(c.get("KVM_CAP_ARM_WRITABLE_IMP_ID_REGS", "absent"))' \
			"$tmp/own.json" "$tmp/midr.json" "$tmp/self.json" >"$tmp/cap" 2>"$tmp/err"; then
		notok "$name" "cannot make the profile: $(head -1 "$tmp/err")"
	else
		cap=$(cat "$tmp/cap")
		[ "$cap" != absent ] || notok "collect records KVM_CAP_ARM_WRITABLE_IMP_ID_REGS" \
			"the report lists no such capability"
		"$BIN" check --profile "$tmp/midr.json" "$tmp/self.json" >"$tmp/check" 2>&1
		crc=$?
		out=$("$BIN" apply --check-only "$tmp/midr.json" 2>&1)
		arc=$?
		if [ "$cap" = 0 ] || [ "$cap" = absent ]; then
			if [ "$crc" = 1 ] && [ "$arc" = 1 ] &&
			   grep -q 'MIDR_EL1 differs.*KVM_CAP_ARM_WRITABLE_IMP_ID_REGS' "$tmp/check" &&
			   echo "$out" | grep -q 'MIDR_EL1 differs from this host.*KVM_CAP_ARM_WRITABLE_IMP_ID_REGS'; then
				ok "$name: refused without KVM_CAP_ARM_WRITABLE_IMP_ID_REGS, as check says"
			else
				notok "$name" "capability $cap: check exit $crc, apply exit $arc: $out"
			fi
		elif [ "$crc" = 0 ] && [ "$arc" = 0 ]; then
			ok "$name: accepted with KVM_CAP_ARM_WRITABLE_IMP_ID_REGS enabled, as check says"
		else
			notok "$name" "capability $cap: check exit $crc, apply exit $arc: $out"
		fi
	fi
fi
echo "$pass passed, $fail failed, $skipped skipped"
[ "$fail" -eq 0 ]
