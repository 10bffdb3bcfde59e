#!/bin/sh
# Tests against this machine's own KVM: `cpufleet collect` and
# `cpufleet apply --check-only` on a scratch VM.  They need an arm64 host with
# /dev/kvm; anywhere else they skip with the reason (the arm64 lab, `make lab`,
# covers the same paths on emulated arm64 hosts).
# usage: tests/kvm/run.sh CPUFLEET
set -u
BIN=${1:?usage: $0 CPUFLEET}
pass=0 fail=0 skip=0

ok() { pass=$((pass + 1)); echo "ok - $1"; }
notok() { fail=$((fail + 1)); echo "FAIL - $1: $2"; }

arch=$(uname -m)
if [ "$arch" != aarch64 ]; then
	skip=2
	echo "skip - tests/kvm: this host is $arch; collect and apply need an arm64 host with KVM (the arm64 lab covers them)"
elif [ ! -w /dev/kvm ]; then
	skip=2
	echo "skip - tests/kvm: /dev/kvm is missing or not writable here"
else
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	if "$BIN" collect --host-id self -o "$tmp/self.json"; then
		ok "collect writes a report"
	else
		notok "collect" "exit $?"
	fi
	"$BIN" baseline -q -o "$tmp/own.json" "$tmp/self.json"
	out=$("$BIN" apply --check-only "$tmp/own.json" 2>&1)
	if [ $? -eq 0 ]; then
		ok "apply --check-only accepts this host's own profile"
	else
		notok "apply --check-only of the own profile" "$out"
	fi
fi
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
