#!/bin/sh
# A fake cpufleet for tests/kvm/selftest.sh (x86.sh's own counting, on a
# machine without KVM): collect writes a fixture as host "self", apply
# answers as a host whose KVM rewrote CPUID leaf 7 EBX would (the read-back
# and the guest list it as not honoured); every other command is the real
# binary, $CF_REAL_CPUFLEET.
REAL=${CF_REAL_CPUFLEET:?}
DATA=$(dirname "$0")/../data/x86
cmd=$1
case $cmd in
collect)
	while [ $# -gt 0 ]; do [ "$1" = -o ] && out=$2; shift; done
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); d["host"]["id"]="self"; json.dump(d, open(sys.argv[2],"w"))' "$DATA/spr-05.json" "$out"; exit 0 ;;
apply)
	json=0 guest=0
	for a; do case $a in --json) json=1;; --guest) guest=1;; esac; done
	if [ $json = 1 ]; then
		if [ $guest = 1 ]; then
			cat <<'J'
{"apply": {"accepted": true, "readback": {"cpuid_entries": 2, "cpuid_registers": 8, "differences": [], "not_honoured_count": 0, "not_honoured": []}},
 "guest": {"nested": false, "match": 2, "not_honoured": 1, "mismatched": 0, "out_of_range": 0, "leaves": [
  {"leaf": "0x00000001", "subleaf": "0x00000000", "status": "ok", "registers": []},
  {"leaf": "0x00000007", "subleaf": "0x00000000", "status": "not_honoured", "registers": [
   {"register": "EBX", "status": "not_honoured", "why": "kvm_rewrote", "wants": "0x00000000", "seen": "0x00010000", "compared": "0xffffffff", "differs_in": "avx512f"},
   {"register": "ECX", "status": "ok", "why": "", "wants": "0x0", "seen": "0x0", "compared": "0x0", "differs_in": ""}]},
  {"leaf": "0x80000001", "subleaf": "0x00000000", "status": "ok", "registers": [{"register": "EAX", "status": "ok"},{"register": "EBX", "status": "ok"},{"register": "ECX", "status": "ok", "why": "", "wants": "0x00000000", "seen": "0x00000000"},{"register": "EDX", "status": "ok"}]}]}}
J
		else
			cat <<'J'
{"apply": {"accepted": true, "readback": {"cpuid_entries": 2, "cpuid_registers": 8, "differences": [], "not_honoured_count": 1, "not_honoured": [{"register": "CPUID_7_0_EBX", "wants": "0x0", "got": "0x10000", "compared": "0xffffffff"}]}}}
J
		fi
	else
		echo "accepted"; [ $guest = 1 ] && echo "guest: 1 leaves match, 1 not honoured by this host (listed), 0 mismatched"
	fi
	exit 0 ;;
esac
exec "$REAL" "$@"
