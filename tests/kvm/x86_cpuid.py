#!/usr/bin/env python3
"""KVM_GET_SUPPORTED_CPUID read independently of cpufleet, for tests/kvm/x86.sh.

usage: x86_cpuid.py REPORT
Reads /dev/kvm's supported CPUID with fcntl.ioctl and struct packing (no
cpufleet code) and compares it with the "x86.cpuid" list of REPORT (what
`cpufleet collect` wrote).  Prints "N entries equal" and exits 0, or prints
every difference and exits 1.

KVM passes through the APIC ids of the CPU the ioctl runs on (leaf 1 EBX
[31:24], leaf 0xB EDX), so the helper reads KVM's answer on each CPU it may
run on (pinned with sched_setaffinity, at most 64) and the report must
equal one of them, except in the bits of arch/x86/cpuid.txt's `vcpu` and
`runtime` fields (and `default vcpu` blocks): `collect` writes 0 there, so
the report must have 0 there and KVM anything.  The SDM's per-CPU fields
(1.EBX[31:24], 0xB/0x1F EDX) must be among those bits.

struct kvm_cpuid2 { u32 nent; u32 padding; struct kvm_cpuid_entry2 entries[]; }
struct kvm_cpuid_entry2 { u32 function, index, flags, eax, ebx, ecx, edx,
                          padding[3]; }                        /* 40 bytes */
KVM_GET_SUPPORTED_CPUID = _IOWR(0xAE, 0x05, struct kvm_cpuid2) = 0xc008ae05;
a too small nent fails with E2BIG, so nent grows until it fits.
"""
import errno
import fcntl
import json
import os
import struct
import sys

KVM_GET_SUPPORTED_CPUID = 0xC008AE05
KVM_CPUID_FLAG_SIGNIFCANT_INDEX = 1
ENTRY = struct.Struct("<10I")  # function index flags eax ebx ecx edx pad*3
HEADER = struct.Struct("<II")  # nent padding
NENT_MAX = 4096


def supported_cpuid():
    fd = os.open("/dev/kvm", os.O_RDWR | os.O_CLOEXEC)
    try:
        nent = 64
        while True:
            buf = bytearray(HEADER.size + nent * ENTRY.size)
            HEADER.pack_into(buf, 0, nent, 0)
            try:
                fcntl.ioctl(fd, KVM_GET_SUPPORTED_CPUID, buf, True)
                break
            except OSError as e:
                if e.errno != errno.E2BIG or nent >= NENT_MAX:
                    raise
                nent *= 2
        n, _ = HEADER.unpack_from(buf, 0)
        out = {}
        for i in range(n):
            f, idx, flags, a, b, c, d = ENTRY.unpack_from(
                buf, HEADER.size + i * ENTRY.size)[:7]
            sub = idx if flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX else 0
            out[(f, sub)] = (a, b, c, d)
        return out
    finally:
        os.close(fd)


CATALOGUE = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                         "..", "..", "arch", "x86", "cpuid.txt")
# SDM Vol. 2A CPUID: the initial APIC id (01H:EBX[31:24]) and the x2APIC id
# (0BH and 1FH, EDX, every subleaf) of the CPU that ran CPUID.
PER_CPU = {(1, 0): (0, 0xff000000, 0, 0)}
for _sub in range(2):
    PER_CPU[(0xb, _sub)] = PER_CPU[(0x1f, _sub)] = (0, 0, 0, 0xffffffff)


def per_vcpu_masks(path=CATALOGUE):
    """{(leaf, subleaf): (eax, ebx, ecx, edx)}: the bits of the catalogue's
    vcpu and runtime fields, and of the bits a `default vcpu` block leaves
    to the default."""
    masks, cur, named, own, default = {}, None, 0, 0, None
    for line in open(path):
        w = line.split("#", 1)[0].split()
        if not w:
            continue
        if w[0] in ("cpuid", "msr", "fact"):
            cur = (int(w[1], 16), int(w[2], 16),
                   ("eax", "ebx", "ecx", "edx").index(w[3])) \
                if w[0] == "cpuid" else None
            named, own, default = 0, 0, None
        elif w[0] == "end":
            if cur is not None:
                m = own | (~named & 0xffffffff if default == "vcpu" else 0)
                regs = list(masks.get(cur[:2], (0, 0, 0, 0)))
                regs[cur[2]] = m
                masks[cur[:2]] = tuple(regs)
            cur = None
        elif w[0] == "default":
            default = w[1]
        elif cur is not None and len(w) == 3:
            hi, _, lo = w[1].partition(":")
            hi, lo = int(hi), int(lo or hi)
            bits = ((1 << (hi - lo + 1)) - 1) << lo
            named |= bits
            if w[0] in ("vcpu", "runtime"):
                own |= bits
    return masks


def report_cpuid(path):
    with open(path) as fh:
        doc = json.load(fh)
    out = {}
    for e in doc["x86"]["cpuid"]:
        key = (int(e["leaf"], 16), int(e["subleaf"], 16))
        out[key] = tuple(int(e[r], 16) for r in ("eax", "ebx", "ecx", "edx"))
    return out


def differences(kvm, rep, masks):
    bad = []
    for key in sorted(set(kvm) | set(rep)):
        name = "CPUID 0x%08x.%x" % key
        m = masks.get(key, (0, 0, 0, 0))
        if key not in rep:
            bad.append("%s: KVM has it, the report does not" % name)
        elif key not in kvm:
            bad.append("%s: the report has it, KVM does not" % name)
        elif any(k & ~mm != r & ~mm for k, r, mm in zip(kvm[key], rep[key], m)):
            bad.append("%s: KVM %s, report %s (outside per-vCPU bits)" % (
                name, " ".join("%08x" % v for v in kvm[key]),
                " ".join("%08x" % v for v in rep[key])))
        elif any(r & mm for r, mm in zip(rep[key], m)):
            bad.append("%s: report %s, not 0 in the per-vCPU bits %s" % (
                name, " ".join("%08x" % v for v in rep[key]),
                " ".join("%08x" % v for v in m)))
    return bad


def main():
    if len(sys.argv) != 2:
        print(__doc__.splitlines()[2], file=sys.stderr)
        return 2
    rep = report_cpuid(sys.argv[1])
    masks = per_vcpu_masks()
    for key, want in PER_CPU.items():
        if any(w & ~m for w, m in zip(want, masks.get(key, (0, 0, 0, 0)))):
            print("arch/x86/cpuid.txt: CPUID 0x%08x.%x: the SDM's per-CPU "
                  "bits are not all vcpu fields" % key)
            return 1
    allowed = sorted(os.sched_getaffinity(0))
    first = None
    try:
        for cpu in allowed[:64]:
            os.sched_setaffinity(0, {cpu})
            kvm = supported_cpuid()
            bad = differences(kvm, rep, masks)
            if not bad:
                print("%d entries equal (KVM's answer on CPU %d)" % (len(kvm), cpu))
                return 0
            if first is None:
                first = (cpu, bad)
    finally:
        os.sched_setaffinity(0, allowed)
    print("the report equals KVM's answer on none of CPUs %s; on CPU %d:"
          % (",".join(map(str, allowed[:64])), first[0]))
    for line in first[1]:
        print(line)
    return 1


if __name__ == "__main__":
    sys.exit(main())
