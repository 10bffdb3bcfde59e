#!/bin/sh
# The KVM test scripts' own bookkeeping, on any machine: a check that does
# not run says `skip - NAME: REASON` and is counted; the last line's counts
# are the `ok`, `FAIL` and `skip` lines; a CPUID register the host's KVM
# does not honour is skipped by name, never `ok`.  x86.sh runs against a
# fake cpufleet (tests/kvm/fake_x86.sh) and a fake device file.
# usage: sh tests/kvm/selftest.sh CPUFLEET
set -u
BIN=${1:?usage: $0 CPUFLEET}
HERE=$(dirname "$0")
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok - $1"; }
notok() { fail=$((fail + 1)); echo "FAIL - $1: $2"; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

# counts OUT: the last line must count the ok, FAIL and skip lines.
counts() {
	want="$(grep -c '^ok - ' "$1") passed, $(grep -c '^FAIL - ' "$1") failed, $(grep -c '^skip - ' "$1") skipped"
	[ "$(tail -1 "$1")" = "$want" ] || { echo "last line '$(tail -1 "$1")', want '$want'"; return 1; }
}
# expect NAME OUT RC WANT-RC WANT-SKIPS
expect() {
	n=$(grep -c '^skip - ' "$2")
	if why=$(counts "$2") && [ "$3" = "$4" ] && [ "$n" = "$5" ]; then
		ok "$1 ($(tail -1 "$2"), exit $3)"
	else
		notok "$1" "exit $3 (want $4), $n skips (want $5) $why"
		sed 's/^/    /' "$2"
	fi
}

touch "$tmp/kvm"
CF_TEST_ARCH=x86_64 sh "$HERE/run.sh" "$BIN" >"$tmp/a" 2>&1
expect "run.sh off arm64: each of its 3 checks skips" "$tmp/a" $? 0 3
CF_TEST_ARCH=aarch64 CF_TEST_KVM_DEV="$tmp/none" sh "$HERE/run.sh" "$BIN" >"$tmp/a" 2>&1
expect "run.sh without /dev/kvm: each of its 3 checks skips" "$tmp/a" $? 0 3
printf '#!/bin/sh\necho "no KVM here" >&2\nexit 2\n' >"$tmp/failing"
chmod +x "$tmp/failing"
CF_TEST_ARCH=aarch64 CF_TEST_KVM_DEV="$tmp/kvm" sh "$HERE/run.sh" "$tmp/failing" >"$tmp/a" 2>&1
expect "run.sh when collect fails: collect fails, both applies skip (no report)" "$tmp/a" $? 1 2

CF_TEST_ARCH=aarch64 sh "$HERE/x86.sh" "$BIN" >"$tmp/b" 2>&1
expect "x86.sh off x86-64: each of its 13 checks skips" "$tmp/b" $? 0 13
CF_TEST_ARCH=x86_64 CF_TEST_KVM_DEV="$tmp/none" sh "$HERE/x86.sh" "$BIN" >"$tmp/b" 2>&1
expect "x86.sh without /dev/kvm: each of its 13 checks skips" "$tmp/b" $? 0 13

# A host whose KVM rewrote leaf 7 EBX (fake_x86.sh): the read-back and the
# guest check skip that register by name; nothing about it says ok.
CF_REAL_CPUFLEET=$BIN CF_TEST_ARCH=x86_64 CF_TEST_KVM_DEV="$tmp/kvm" \
	sh "$HERE/x86.sh" "$HERE/fake_x86.sh" >"$tmp/c" 2>&1
if why=$(counts "$tmp/c") &&
   grep -q '^skip - apply --check-only read-back of CPUID_7_0_EBX: ' "$tmp/c" &&
   grep -q '^skip - apply --guest: CPUID 0x00000007.0 EBX: not honoured' "$tmp/c" &&
   ! grep -q '^ok - .*\(0x00000007\|CPUID_7_0\)' "$tmp/c" &&
   grep -q '^ok - apply --guest: 2 leaves match; 1 registers' "$tmp/c"; then
	ok "x86.sh on a KVM that rewrote leaf 7 EBX: skipped by name in the read-back and the guest check ($(tail -1 "$tmp/c"))"
else
	notok "x86.sh on a KVM that rewrote leaf 7 EBX" "$why"
	sed 's/^/    /' "$tmp/c"
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
