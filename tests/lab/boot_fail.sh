#!/bin/sh
# A lab boot that dies before the kernel starts must stop the lab at once,
# exit 2, and show QEMU's own message (not "0/8 verdicts agree" later).
# Real QEMU, made to fail by an argument it refuses (a device model that
# does not exist), as a missing ROM made it fail on a new machine.
#   sh tests/lab/boot_fail.sh CPUFLEET LAB_OUT [KERNEL]   (KERNEL: 6.12 (default) or 7.x)
set -u
BIN=${1:?usage: $0 CPUFLEET LAB_OUT [KERNEL]}
LAB_OUT=${2:?usage: $0 CPUFLEET LAB_OUT [KERNEL]}
KERNEL=${3:-6.12}
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok - $1"; }
notok() { fail=$((fail + 1)); echo "FAIL - $1: $2"; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

start=$(date +%s)
python3 tools/lab/lab.py --cpufleet "$BIN" --agent-initrd "$LAB_OUT/initrd-base.cpio.gz" \
	--kernel "$LAB_OUT/kernel-$KERNEL/vmlinuz" --out "$tmp/out" --models cortex-a72,neoverse-n1 \
	--qemu-arg=-device --qemu-arg=cpufleet-no-such-device >"$tmp/stdout" 2>"$tmp/stderr"
rc=$?
secs=$(($(date +%s) - start))
sed 's/^/    /' "$tmp/stderr"
if [ "$rc" = 2 ]; then ok "the lab exits 2"; else notok "the lab exits 2" "exit $rc"; fi
if grep -q "QEMU died before the kernel started" "$tmp/stderr"; then
	ok "the error says the boot died before the kernel started"
else
	notok "the error says the boot died before the kernel started" "$(tail -1 "$tmp/stderr")"
fi
# QEMU's own words: "qemu-system-aarch64: -device cpufleet-no-such-device: ..."
if grep -q "qemu-system-aarch64: -device cpufleet-no-such-device" "$tmp/stderr"; then
	ok "the error carries QEMU's own message"
else
	notok "the error carries QEMU's own message" "$(tail -1 "$tmp/stderr")"
fi
if grep -q "verdicts agree" "$tmp/stdout"; then
	notok "the lab stops at the first phase" "it went on to the verdicts"
else
	ok "the lab stops at the first phase (${secs} s)"
fi
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
