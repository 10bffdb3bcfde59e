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

CHECKS="collect|apply --check-only of this host's own profile"

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
	elif ! "$BIN" baseline -q -o "$tmp/own.json" "$tmp/self.json" 2>"$tmp/err"; then
		notok "apply --check-only of this host's own profile" "baseline of this host: $(head -1 "$tmp/err")"
	elif out=$("$BIN" apply --check-only "$tmp/own.json" 2>&1); then
		ok "apply --check-only accepts this host's own profile"
	else
		notok "apply --check-only of the own profile" "$out"
	fi
fi
echo "$pass passed, $fail failed, $skipped skipped"
[ "$fail" -eq 0 ]
