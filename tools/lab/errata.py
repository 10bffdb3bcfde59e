#!/usr/bin/env python3
"""Errata targets on real KVM (issue 20, point 4): the lab's hosts are collected and pooled
(`cpufleet pools`), then on every host the lab agent's `errata` job applies its pool's baseline,
arms the SMCCC discovery hypercalls (cf_arm64_apply_errata: SMCCC filter FWD_TO_USER and
KVM_REG_ARM_VENDOR_HYP_BMAP_2 bits 0-1) and runs a guest that issues them (tools/lab/PROTOCOL.md).

What the guest read is compared with the profile file the lab gave it, read here, never with the
code under test (kernel Documentation/virt/kvm/arm/hypercalls.rst):
  - KVM's features call 0x86000000: R2, the bitmap of vendor functions 64-95, has bits 0 and 1
    (functions 64 DISCOVER_IMPL_VER and 65 DISCOVER_IMPL_CPUS), which only BMAP_2 sets;
  - DISCOVER_IMPL_VER 0xC6000040: R0 SUCCESS (0), R1 version 1.0 (bits [31:16] major 1, [15:0]
    minor 0), R2 the number of implementations in the profile, R3 0;
  - DISCOVER_IMPL_CPUS 0xC6000041 with index i in R1: R0 SUCCESS, R1..R3 MIDR_EL1, REVIDR_EL1,
    AIDR_EL1 of the profile's implementation i (an absent register is 0), in the profile's order;
    index N (one past) INVALID_PARAMETER (-3);
and the profile's list must be the pool's: every member's (MIDR_EL1, REVIDR_EL1, AIDR_EL1) from its
report, distinct and ascending (README, "The implementation identity").

A kernel without the ABI (no KVM_REG_ARM_VENDOR_HYP_BMAP_2 or SMCCC filter: before 6.15) skips
each host with the agent's reason. Last line `errata: N passed, N failed[, N skipped]`, one count
per host. Exit 0 when nothing failed, 1 otherwise, 2 for usage or set-up errors.

  python3 tools/lab/errata.py --kernel K --out DIR --models cortex-a53,cortex-a57,cortex-a72 \\
      --midr real --jobs 1 [the other options of lab.py]
"""

import os
import shutil
import sys
import tempfile
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lab  # noqa: E402  (tools/lab/lab.py: boots, console protocol, cpufleet)

# The agent's errata job sends errata.json (a boot without it failed).
lab.EXPECTED_FILES.setdefault("errata", ["errata.json"])

FEATURES_BITS = 1 << 0 | 1 << 1     # functions 64 and 65 in R2 of the features call
VERSION_1_0 = 1 << 16 | 0
SUCCESS = 0
INVALID_PARAMETER = (1 << 64) - 3
IDENTITY = ("MIDR_EL1", "REVIDR_EL1", "AIDR_EL1")


def hexint(v):
    try:
        return int(v, 16)
    except (TypeError, ValueError):
        return None


def expected_list(profile):
    """The profile's implementations as (MIDR, REVIDR, AIDR) tuples, in the file's order."""
    return [tuple(hexint(e.get(r, "0x0")) for r in IDENTITY)
            for e in profile.get("implementations") or []]


def member_identity(report):
    regs = (report.get("arm64") or {}).get("id_regs") or {}
    return tuple(hexint(regs.get(r, "0x0")) for r in IDENTITY)


def judge(doc, want):
    """(passed, [problems], summary) for one host's errata.json against WANT."""
    bad = []
    feats = [hexint(v) for v in doc.get("features") or []]
    ver = [hexint(v) for v in doc.get("version") or []]
    cpus = [[hexint(v) for v in c] for c in doc.get("cpus") or []]
    n = len(want)
    if len(feats) != 4 or feats[2] is None or feats[2] & FEATURES_BITS != FEATURES_BITS:
        bad.append("features call R2 %s lacks bits 0-1 (KVM_REG_ARM_VENDOR_HYP_BMAP_2 not offered)"
                   % (hex(feats[2]) if len(feats) == 4 and feats[2] is not None else feats))
    if ver != [SUCCESS, VERSION_1_0, n, 0]:
        bad.append("DISCOVER_IMPL_VER returned %s, want [0x0, 0x10000, %#x, 0x0]"
                   % ([hex(v) if v is not None else v for v in ver], n))
    read = cpus[:n]
    match = sum(1 for i, c in enumerate(read) if c == [SUCCESS] + list(want[i]))
    for i, c in enumerate(read):
        if c != [SUCCESS] + list(want[i]):
            bad.append("DISCOVER_IMPL_CPUS(%d) returned %s, want [0x0, %s]" % (
                i, [hex(v) if v is not None else v for v in c], ", ".join(hex(v) for v in want[i])))
    if len(cpus) != n + 1:
        bad.append("the guest made %d DISCOVER_IMPL_CPUS calls, want %d (0..%d)" % (len(cpus), n + 1, n))
    elif cpus[n][0] != INVALID_PARAMETER:
        bad.append("DISCOVER_IMPL_CPUS(%d), one past the list, returned R0 %s, want INVALID_PARAMETER (-3)"
                   % (n, hex(cpus[n][0]) if cpus[n][0] is not None else None))
    summary = "guest read %d implementations, %d match" % (len(read), match)
    return not bad, bad, summary


def run(a):
    t0 = time.monotonic()
    a.variants = False
    lb = lab.Lab(a)
    out = a.out
    for d in ("collect", "errata", "reports", "pools", "logs"):
        shutil.rmtree(os.path.join(out, d), ignore_errors=True)
    os.makedirs(out, exist_ok=True)
    with open(a.agent_initrd, "rb") as f:
        lb.base_initrd = f.read()
    lb.tmp = tempfile.mkdtemp(prefix="tmp.", dir=out)
    lab.say("errata: %d hosts: %s; kernel %s; MIDR %s; %d parallel QEMU" % (
        len(lb.hosts), ", ".join("%s=%s" % (h, lb.model_of[h]) for h in lb.hosts),
        lab.rel(a.kernel), a.midr, a.jobs))
    try:
        res = lb.run_phase("collect", [(h, lb._common_inputs("collect", h)) for h in lb.hosts])
        reports = {}
        for h in lb.hosts:
            if res[h].ok:
                dest = os.path.join(out, "reports", h + ".json")
                os.makedirs(os.path.dirname(dest), exist_ok=True)
                shutil.copyfile(res[h].files["report.json"], dest)
                reports[h] = dest
        pdir = os.path.join(out, "pools")
        rc, _, se = lb.cpufleet("pools", "-d", pdir, *[reports[h] for h in lb.hosts if h in reports])
        try:
            index = lab.read_json(os.path.join(pdir, "pools.json"))
        except (OSError, ValueError) as e:
            raise lab.LabError("cpufleet pools exited %d: %s %s" % (rc, se.strip()[:300], e))
        pool_of, members = {}, {}
        for p in index.get("pools", []):
            path = os.path.join(pdir, p["profile"])
            for h in p["hosts"]:
                pool_of[h] = path
                members[h] = p["hosts"]
            lab.say("errata: pool %s -> %s" % ("+".join(p["hosts"]), lab.rel(path)))
        jobs = []
        for h in lb.hosts:
            if h in pool_of:
                inp = lb._common_inputs("errata", h)
                inp["baseline.json"] = ("path", pool_of[h])
                jobs.append((h, inp))
        boots = lb.run_phase("errata", jobs)
    finally:
        if not a.keep_temp:
            shutil.rmtree(lb.tmp, ignore_errors=True)

    passed = failed = skipped = 0
    skips = []
    for h in lb.hosts:
        b = boots.get(h)
        if h not in reports or b is None or not b.ok:
            failed += 1
            lab.say("errata: %s: FAILED: %s" % (h, "no report (collect failed)" if h not in reports else
                                                "no pool" if b is None else b.error))
            continue
        doc = lab.read_json(b.files["errata.json"])
        prof = lab.read_json(pool_of[h])
        want = expected_list(prof)
        pool_ids = sorted(set(member_identity(lab.read_json(reports[m])) for m in members[h]))
        where = "pool %s, kernel %s" % ("+".join(members[h]), doc.get("kernel"))
        if not doc.get("accepted"):
            failed += 1
            lab.say("errata: %s: FAILED: its pool's baseline was refused (%s): %s" % (
                h, where, doc.get("refused")))
            continue
        if not doc.get("armed"):
            why = doc.get("why") or "not armed"
            if why.startswith("KVM lacks"):
                skipped += 1
                skips.append("%s: Linux %s: %s" % (h, doc.get("kernel"), why))
                lab.say("errata: %s: skipped (%s): %s" % (h, where, why))
            else:
                failed += 1
                lab.say("errata: %s: FAILED (%s): not armed: %s" % (h, where, why))
            continue
        ok, bad, summary = judge(doc, want)
        if want != pool_ids:
            ok = False
            bad.append("the profile lists %s, the pool's members are %s" % (
                [tuple(hex(v) for v in t) for t in want], [tuple(hex(v) for v in t) for t in pool_ids]))
        passed += ok
        failed += not ok
        lab.say("errata: %s: %s (%s; KVM_CAP_ARM_WRITABLE_IMP_ID_REGS %s)%s" % (
            h, summary, where, doc.get("writable_imp_id_regs_cap"), "" if ok else ": FAILED"))
        for i, t in enumerate(want):
            lab.say("  implementation %d: MIDR_EL1 %#x REVIDR_EL1 %#x AIDR_EL1 %#x" % ((i,) + t))
        for p in bad:
            lab.say("  " + p)
    for s in skips:
        lab.say("skip - errata: " + s)
    lab.say("errata: %.1f s" % (time.monotonic() - t0))
    lab.say("errata: %d passed, %d failed%s" % (passed, failed, ", %d skipped" % skipped if skipped else ""))
    return 1 if failed else 0


def main(argv):
    return lab.main(argv, run, "errata")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
