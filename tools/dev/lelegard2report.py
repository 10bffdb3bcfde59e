#!/usr/bin/env python3
"""Convert one lelegard/arm-cpusysregs register dump into a cpufleet report.

The input is a `cpusysregs-registers.txt` file from the public project
lelegard/arm-cpusysregs (BSD 2-Clause, copyright Thierry Lelegard): one block
per register, `NAME: <32 bits> - <32 bits>` in binary, most significant bit
first, followed by decoded fields (ignored here).  The output is a report
document in the cpufleet "contract v1" format (schema cpufleet.report/v1).

Only ID registers are kept: every ID_AA64*_EL1, the AArch32 ID_*_EL1 and
MVFR*_EL1, CTR_EL0, MIDR_EL1, REVIDR_EL1, AIDR_EL1 and CLIDR_EL1 when the dump
has them.  Everything else (MPIDR, pointer-auth keys, TTBRx, SCTLR, RNDR, ...)
is dropped.

--kvm-limit turns the raw host value into the "limit" KVM offers a guest
(research/arm64-kvm.md section 2.2), for a vCPU with PSCI_0_2 + PMU_V3 and
without SVE, pointer authentication or MTE, on a host with a GICv3.  Only the
adjustments that follow from the raw value alone are applied; see
KVM_LIMIT_RULES below.

--writable selects the `writable` masks: none (no key), all (every register
0xffffffffffffffff) or kvm612 (what KVM_ARM_GET_REG_WRITABLE_MASKS reports on
a 6.12 kernel; see KVM612_WRITABLE below).  With `all` the report also lists
the capability KVM_CAP_ARM_WRITABLE_IMP_ID_REGS at 1: without it KVM keeps
MIDR/REVIDR/AIDR invariant whatever the masks say (api.rst 7.42, Linux
6.15), and `all` means every register writable.

Standard library only.  Example:
    tools/dev/lelegard2report.py --host-id n1-01 --hostname n1-01.dc1 \\
        --kernel 6.12.57 --collected-at 2026-11-22T00:00:00Z \\
        --kvm-limit --writable kvm612 -o n1-01.json \\
        ampere-altra-host-ubuntu.txt
"""

import argparse
import json
import re
import sys

SCHEMA = "cpufleet.report/v1"
ALL_ONES = (1 << 64) - 1


def bits(msb, lsb):
    """Mask of bits msb..lsb inclusive."""
    return ((1 << (msb - lsb + 1)) - 1) << lsb


# ---------------------------------------------------------------------------
# Which registers are ID registers.

_ID_REG_PATTERNS = [
    re.compile(r"^ID_AA64[A-Z]+[0-9]*_EL1$"),       # AArch64 ID registers
    re.compile(r"^ID_(PFR|DFR|AFR|MMFR|ISAR)[0-9]+_EL1$"),  # AArch32 ID regs
    re.compile(r"^MVFR[0-9]_EL1$"),
]
_ID_REG_NAMES = {"CTR_EL0", "MIDR_EL1", "REVIDR_EL1", "AIDR_EL1", "CLIDR_EL1"}


def is_id_reg(name):
    if name in _ID_REG_NAMES:
        return True
    return any(p.match(name) for p in _ID_REG_PATTERNS)


# ---------------------------------------------------------------------------
# Writable masks of a 6.12 kernel (KVM_ARM_GET_REG_WRITABLE_MASKS), from
# research/arm64-kvm.md section 2.4, "Writable masks", without the "Later
# deltas" that came after 6.12: PFR0.RAS, MMFR1.HCX/TWED, PFR1.DF2,
# ISAR3.LSFE/LSUI and MIDR/REVIDR/AIDR (6.15 cap) are NOT writable.  Bit
# positions: research section 1.3 and the Arm ARM (field layout as in the
# kernel's arch/arm64/tools/sysreg, 2025).  A mask is the union of the bit
# ranges of the writable fields; "all non-RES0" is the union of every field
# the architecture defines in that register.  Registers that have no writable
# field (ID_AA64DFR1/AFR0/AFR1, ID_AA64SMFR0, AArch32 registers other than
# ID_DFR0, MIDR/REVIDR/AIDR) are absent and so omitted from `writable`.
#
# Caveats (see tests/data/README.md):
# * A real kernel computes "non-RES0" from its own copy of the sysreg file,
#   which in 6.12 lacked some fields that are defined now (e.g. ZFR0 F16MM
#   and EltPerm, ISAR2 LUT and PCDPHINT), so its masks can be narrower there.
# * ISAR3 FPRCVT/FAMINMAX follows the research table; the upstream patch that
#   makes ISAR3 writable was posted in Dec 2024, i.e. after 6.12.  No dump
#   has ISAR3, so the generated files do not depend on it.
# * 6.12.y stable kernels that carry the Nov 2025 backport of upstream
#   3f9eacf4f070 ("Make all 32bit ID registers fully writable") report
#   0x00000000ffffffff for every AArch32 ID register instead.
KVM612_WRITABLE = {
    "ID_DFR0_EL1":      0x000000000f00000f,  # PerfMon 27:24, CopDbg 3:0
    "ID_AA64PFR0_EL1":  0xffff00f00f00ffff,  # CSV3 CSV2 RME DIT SEL2 GIC EL3 EL2 EL1 EL0 (not AMU MPAM SVE RAS AdvSIMD FP)
    "ID_AA64PFR1_EL1":  0x0000000f000000ff,  # CSV2_frac 35:32, SSBS 7:4, BT 3:0
    "ID_AA64PFR2_EL1":  0x0000000f00000000,  # FPMR 35:32
    "ID_AA64ZFR0_EL1":  0x0fffff0f0ffff0ff,  # all non-RES0: F64MM F32MM F16MM I8MM SM4 SHA3 B16B16 BF16 BitPerm EltPerm AES SVEver
    "ID_AA64FPFR0_EL1": 0x00000000fc000003,  # all non-RES0: F8CVT F8FMA F8DP4 F8DP2 F8MM8 F8MM4 (31:26), F8E4M3 1, F8E5M2 0
    "ID_AA64DFR0_EL1":  0x000000f000f00f0f,  # DoubleLock 39:36, WRPs 23:20, PMUVer 11:8, DebugVer 3:0
    "ID_AA64ISAR0_EL1": 0xfffffffffffffff0,  # all non-RES0: RNDR TLB TS FHM DP SM4 SM3 SHA3 RDM TME Atomic CRC32 SHA2 SHA1 AES
    "ID_AA64ISAR1_EL1": 0xffffffff00fff00f,  # all except GPI 31:28, GPA 27:24, API 11:8, APA 7:4
    "ID_AA64ISAR2_EL1": 0xffffffffffff00ff,  # all non-RES0 except APA3 15:12, GPA3 11:8
    "ID_AA64ISAR3_EL1": 0x00000000f00000f0,  # FPRCVT 31:28, FAMINMAX 7:4
    "ID_AA64MMFR0_EL1": 0xff00ffffffffff0f,  # all non-RES0 (55:48 RES0) except ASIDBits 7:4
    "ID_AA64MMFR1_EL1": 0xfffff0f00ffff00f,  # all non-RES0 except HCX 43:40, TWED 35:32, XNX 31:28, VH 11:8, VMIDBits 7:4
    "ID_AA64MMFR2_EL1": 0xf0ff000ff00fffff,  # all non-RES0 (47:44 RES0) except EVT 59:56, FWB 43:40, IDS 39:36, NV 27:24, CCIDX 23:20
    "ID_AA64MMFR3_EL1": 0x00000000000f0f0f,  # S1POE 19:16, S1PIE 11:8, TCRX 3:0
    "ID_AA64MMFR4_EL1": 0x0000000000f00000,  # NV_frac 23:20
    "CLIDR_EL1":        0x00007fffffffffff,  # all non-RES0: Ttype<n> 46:33, ICB 32:30, LoUU, LoC, LoUIS, Ctype<n> 20:0
    "CTR_EL0":          0x00000000300fc00f,  # DIC 29, IDC 28, DminLine 19:16, L1Ip 15:14, IminLine 3:0
}


# ---------------------------------------------------------------------------
# KVM "limit" adjustments (research/arm64-kvm.md section 2.2) that can be
# derived from the raw host value, for a vCPU with PSCI_0_2 + PMU_V3, without
# SVE / pointer auth / MTE, on a GICv3 host.  Each rule is
# (register, keep-mask, set-bits): value = (value & keep) | set.
# Not applied, because the raw value alone does not tell: CSV2/CSV3 forced to
# 1 on hosts unaffected by Spectre-v2/Meltdown, WFxT hidden on hosts with
# broken CNTVOFF, PMUVer capped at the host PMU limit, fields the host kernel's
# cpufeature tables do not describe (they read as 0 through KVM, section 1.3).
def _clear(*ranges):
    m = 0
    for msb, lsb in ranges:
        m |= bits(msb, lsb)
    return ALL_ONES & ~m


def _keep(*ranges):
    m = 0
    for msb, lsb in ranges:
        m |= bits(msb, lsb)
    return m


KVM_LIMIT_RULES = {
    # §2.2 PFR0: SVE cleared (no SVE vCPU), AMU and MPAM cleared,
    # GIC set to 1 (GICv3) because the host vGIC is v3.
    "ID_AA64PFR0_EL1": (_clear((35, 32), (47, 44), (43, 40), (27, 24)),
                        1 << 24),
    # §2.2 PFR1: MTE cleared (MTE not enabled), SME, RNDR_trap, NMI, MTE_frac,
    # GCS, THE, MTEX, DF2, PFAR, MPAM_frac cleared: keep BT, SSBS, RAS_frac,
    # CSV2_frac.
    "ID_AA64PFR1_EL1": (_keep((3, 0), (7, 4), (15, 12), (35, 32)), 0),
    # §2.2 PFR2: only FPMR kept.
    "ID_AA64PFR2_EL1": (_keep((35, 32)), 0),
    # §2.2 ZFR0 is RAZ when the vCPU has no SVE.
    "ID_AA64ZFR0_EL1": (0, 0),
    # §2.2 SMFR0: KVM hides the whole register (RAZ).
    "ID_AA64SMFR0_EL1": (0, 0),
    # §2.2 ISAR1: PAuth fields cleared (no pointer auth): GPI, GPA, API, APA.
    "ID_AA64ISAR1_EL1": (_clear((31, 28), (27, 24), (11, 8), (7, 4)), 0),
    # §2.2 ISAR2: PAuth fields cleared: APA3, GPA3.
    "ID_AA64ISAR2_EL1": (_clear((15, 12), (11, 8)), 0),
    # §2.2 ISAR3: only FPRCVT and FAMINMAX kept.
    "ID_AA64ISAR3_EL1": (_keep((31, 28), (7, 4)), 0),
    # §2.2 MMFR2: CCIDX and NV cleared.
    "ID_AA64MMFR2_EL1": (_clear((23, 20), (27, 24)), 0),
    # §2.2 MMFR3: only TCRX, S1PIE, S1POE kept.
    "ID_AA64MMFR3_EL1": (_keep((3, 0), (11, 8), (19, 16)), 0),
    # §2.2 AArch32 MMFR4: CCIDX cleared.
    "ID_MMFR4_EL1": (_clear((27, 24)), 0),
    # §2.2 DFR0: PMSVer (SPE) and BRBE cleared; DebugVer capped below.
    "ID_AA64DFR0_EL1": (_clear((35, 32), (55, 52)), 0),
}

# §2.2 DFR0: DebugVer capped at Armv8.8 (0xA).
DFR0_DEBUGVER_MAX = 0xA


def apply_kvm_limit(regs):
    out = dict(regs)
    for name, (keep, setbits) in KVM_LIMIT_RULES.items():
        if name in out:
            out[name] = (out[name] & keep) | setbits
    if "ID_AA64DFR0_EL1" in out:
        v = out["ID_AA64DFR0_EL1"]
        if v & 0xF > DFR0_DEBUGVER_MAX:
            v = (v & ~0xF) | DFR0_DEBUGVER_MAX
        out["ID_AA64DFR0_EL1"] = v
    return out


# ---------------------------------------------------------------------------
# Parsing.

_LINE = re.compile(r"^([A-Z][A-Z0-9_]*):\s+([01 ]+?)\s+-\s+([01 ]+?)\s*$")


def parse_dump(text, path):
    """Return {name: 64-bit value} for every register in the dump."""
    regs = {}
    for lineno, line in enumerate(text.splitlines(), 1):
        m = _LINE.match(line)
        if not m:
            continue
        name, hi, lo = m.group(1), m.group(2).replace(" ", ""), \
            m.group(3).replace(" ", "")
        if len(hi) != 32 or len(lo) != 32:
            raise ValueError("%s:%d: %s: expected 32 bits on each side of '-'"
                             % (path, lineno, name))
        value = int(hi + lo, 2)
        if name in regs and regs[name] != value:
            raise ValueError("%s:%d: %s appears twice with different values"
                             % (path, lineno, name))
        regs[name] = value
    if not regs:
        raise ValueError("%s: no register found" % path)
    return regs


def hex64(v):
    return "0x%016x" % v


_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


def build_report(regs, args):
    ids = {k: v for k, v in regs.items() if is_id_reg(k)}
    if "MIDR_EL1" not in ids:
        raise ValueError("dump has no MIDR_EL1")
    # The dumping tool skips ID_AA64ZFR0_EL1 on CPUs without SVE; the
    # architecture makes it RAZ there and KVM always reports it, so a host
    # without SVE gets an explicit zero rather than a missing register.
    pfr0 = ids.get("ID_AA64PFR0_EL1", 0)
    if "ID_AA64ZFR0_EL1" not in ids and (pfr0 >> 32) & 0xf == 0:
        ids["ID_AA64ZFR0_EL1"] = 0
    if args.kvm_limit:
        ids = apply_kvm_limit(ids)
    names = sorted(ids)
    arm64 = {"id_regs": {n: hex64(ids[n]) for n in names}}
    if args.writable == "all":
        arm64["writable"] = {n: hex64(ALL_ONES) for n in names}
    elif args.writable == "kvm612":
        arm64["writable"] = {n: hex64(KVM612_WRITABLE[n])
                             for n in names if n in KVM612_WRITABLE}
    arm64["midr_el1"] = hex64(ids["MIDR_EL1"])
    doc = {
        "schema": SCHEMA,
        "host": {
            "id": args.host_id,
            "hostname": args.hostname or args.host_id,
            "arch": "arm64",
            "kernel": args.kernel,
        },
        "collected_at": args.collected_at,
    }
    if args.writable == "all":
        doc["kvm"] = {"caps": {"KVM_CAP_ARM_WRITABLE_IMP_ID_REGS": 1}}
    doc["arm64"] = arm64
    return doc


def main(argv=None):
    p = argparse.ArgumentParser(
        description="Convert a lelegard/arm-cpusysregs register dump "
                    "into a cpufleet.report/v1 document.")
    p.add_argument("dump", help="cpusysregs-registers.txt file")
    p.add_argument("--host-id", required=True)
    p.add_argument("--hostname", help="default: the host id")
    p.add_argument("--kernel", default="unknown")
    p.add_argument("--collected-at", required=True,
                   help="UTC time, YYYY-MM-DDTHH:MM:SSZ")
    p.add_argument("--writable", choices=("none", "all", "kvm612"),
                   default="none")
    p.add_argument("--kvm-limit", action="store_true",
                   help="apply KVM's limit adjustments (research §2.2)")
    p.add_argument("-o", "--output", help="output file (default: stdout)")
    args = p.parse_args(argv)

    if not _TIMESTAMP.match(args.collected_at):
        p.error("--collected-at must look like 2026-11-22T00:00:00Z")
    try:
        with open(args.dump, encoding="utf-8") as f:
            regs = parse_dump(f.read(), args.dump)
        doc = build_report(regs, args)
    except (OSError, ValueError) as e:
        print("lelegard2report: %s" % e, file=sys.stderr)
        return 1

    text = json.dumps(doc, indent=2) + "\n"
    if args.output:
        with open(args.output, "w", encoding="utf-8") as f:
            f.write(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
