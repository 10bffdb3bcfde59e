#!/usr/bin/env python3
"""Cross-check cpufleet's x86 baseline against libvirt's.

libvirt computes x86 baselines offline: `virsh -c test:///default
cpu-baseline --features FILE` over a file of <cpu> documents, with its own
CPU map (/usr/share/libvirt/cpu_map: x86_features.xml gives each feature's
CPUID bit or MSR bit, x86_<Model>.xml each named model's features).  For
every case below this test

  1. expresses each report of tests/data/x86/ as a libvirt host <cpu>: the
     libvirt features whose bit is set in the report's CPUID (or in its
     IA32_ARCH_CAPABILITIES MSR), found by (leaf, subleaf, register, bit)
     through x86_features.xml, never by name; the features are listed over
     two minimal models (BASE_MODELS), so that libvirt itself picks the
     named model of the baseline;
  2. runs `cpufleet baseline` over the same reports and libvirt's
     `cpu-baseline --features` (the model's features expanded);
  3. checks that every feature libvirt's baseline enables (policy require or
     force) is enabled in our profile: its bit is set in the profile's CPUID
     or MSR, in a leaf the profile's maximum leaf still covers.  A feature
     libvirt enables that ours lacks fails the case unless LIBVIRT_ONLY below
     explains it, or NEEDS does and our profile's "dropped" list names it
     (a feature whose prerequisite the pool lost: libvirt has no
     dependencies).  Features ours keeps and libvirt's baseline drops are
     printed too, with the reason from OURS_ONLY when there is one; they do
     not fail the case.  So are the features ours keeps that libvirt's map
     marks migratable='no' (`cpu-baseline --migratable` would drop them; the
     test driver refuses that flag), with the reason from
     OURS_ONLY_MIGRATABLE;
  4. checks, without libvirt's baseline, that every libvirt feature our
     profile keeps is set in every input report (its CPUID or MSR bit, read
     by the script from the input documents; a leaf or MSR a host lacks
     reads as clear): a feature ours keeps that some host lacks fails the
     case unless INVERTED explains it (a bit that announces a weakness,
     which the guest must see if any host has it).

Both baselines start from the same raw bare-metal CPUID dumps (not what KVM
offers), so runtime bits such as osxsave appear on both sides.

Output: `ok - NAME` / `FAIL - NAME: why` per check, `#` lines for the
differences, then `N passed, N failed`; exit 1 when a check failed.  Exits 0
with a `skip` line when virsh or libvirt's CPU map is missing (Debian:
apt-get install libvirt-clients).

Run from the repository root after `make`:
    python3 tests/x86/libvirt.py [-v]      (-v: print libvirt's baselines)
Environment: CPUFLEET (default build/cpufleet), VIRSH (default virsh),
LIBVIRT_CPU_MAP (default /usr/share/libvirt/cpu_map).
Standard library only.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
DATA = os.path.join(ROOT, "tests", "data", "x86")
CPUFLEET = os.environ.get("CPUFLEET", os.path.join(ROOT, "build", "cpufleet"))
VIRSH = os.environ.get("VIRSH", "virsh")
CPU_MAP = os.environ.get("LIBVIRT_CPU_MAP", "/usr/share/libvirt/cpu_map")
# Each host is written twice, over two minimal models every x86-64 CPU has
# (486: fpu pse vme; pentium: those and cx8 de mce mmx msr tsc).  libvirt's
# baseline takes the input's model names as preferred models, and a single
# preferred model is returned as it is (x86Decode).  With two, libvirt
# weighs every named model, and a preferred one wins only over models that
# would need disabled features (so the raw Intel dumps, which lack syscall,
# come out as pentium + features; see the +syscall cases).  A repeated host
# changes no intersection.
BASE_MODELS = ("486", "pentium")

# name -> (reports, what both sides must do): "feasible" = both compute a
# baseline and they are compared; "refused" = both must refuse the pool.
# A host written "NAME+syscall" is the report with CPUID 0x80000001 EDX[11]
# (SYSCALL) set where LM is, as a 64-bit host reads it (the Intel dumps come
# from a 32-bit process, where Intel CPUs read 0 there; see
# tools/dev/instlatx2report.py --lm-implies-syscall): every named x86-64
# model of libvirt has syscall, so only then does libvirt pick a named Intel
# model and expand its features.
CASES = [
    ("intel", ["spr-05", "gnr-03", "snb-ep"], "feasible"),
    ("intel-spr-gnr", ["spr-05", "gnr-03"], "feasible"),
    ("intel+syscall", ["spr-05+syscall", "gnr-03+syscall", "snb-ep+syscall"],
     "feasible"),
    ("intel-spr-gnr+syscall", ["spr-05+syscall", "gnr-03+syscall"],
     "feasible"),
    ("spr-05", ["spr-05"], "feasible"),
    ("gnr-03", ["gnr-03"], "feasible"),
    ("snb-ep", ["snb-ep"], "feasible"),
    ("bergamo-04", ["bergamo-04"], "feasible"),
    ("hygon-01", ["hygon-01"], "feasible"),
    # Hosts that lack a CPUID subleaf or a feature MSR (DERIVED): what
    # they lack must not be in the baseline.
    ("gnr-03-lacking", ["gnr-03", "gnr-03-no7.1", "gnr-03-no0xd.1"],
     "feasible"),
    ("spr-gnr-lacking-msr", ["spr-05", "gnr-03-noarchcap"], "feasible"),
    # AMD and Hygon are different vendors: both tools refuse the pool.
    ("amd-hygon", ["bergamo-04", "hygon-01"], "refused"),
]

# Derived hosts: NAME -> (report, what it lacks): ("cpuid", leaf, subleaf)
# removes that CPUID entry, ("msr", index) that MSR.  The report gets NAME as
# its host id (ids are unique in a pool).
DERIVED = {
    "gnr-03-no7.1": ("gnr-03", [("cpuid", 0x7, 1)]),
    "gnr-03-no0xd.1": ("gnr-03", [("cpuid", 0xd, 1)]),
    "gnr-03-noarchcap": ("gnr-03", [("msr", 0x10a)]),
}

# Features libvirt's baseline enables that our baseline may lack, and why.
# Keyed by libvirt feature name; a case fails on any other such feature.
# Every entry is a bit arch/x86/cpuid.txt deliberately does not AND: libvirt
# intersects raw CPUID bit by bit and knows nothing of KVM's runtime bits or
# of the leaves a guest model must not carry.  None of them differs on the
# reports of tests/data/x86 today (their bits are either clear on some host
# or kept by ours); the entries say why a difference there would be right.
_SGX = ("leaf 0x12 is 'default zero' in arch/x86/cpuid.txt: a guest model "
        "never carries SGX leaves (EPC sections are host-specific)")
_RUNTIME = ("a 'runtime' bit in arch/x86/cpuid.txt: KVM recomputes it while "
            "the guest runs, so the profile's value does not matter")
_VCPU = ("a 'vcpu' field in arch/x86/cpuid.txt: the VMM fills it per vCPU "
         "(topology), so it is never intersected")
LIBVIRT_ONLY = {
    "sgx1": _SGX, "sgx2": _SGX, "sgx-exinfo": _SGX, "sgx-debug": _SGX,
    "sgx-mode64": _SGX, "sgx-provisionkey": _SGX, "sgx-tokenkey": _SGX,
    "sgx-kss": _SGX,
    "intel-pt-lip": "leaf 0x14 is 'default zero' in arch/x86/cpuid.txt: "
                    "Processor Trace capabilities are not part of a guest "
                    "model",
    "osxsave": _RUNTIME + " (it mirrors the guest's CR4.OSXSAVE)",
    "ospke": _RUNTIME + " (it mirrors the guest's CR4.PKE)",
    "apic": _RUNTIME + " (it follows the guest's APIC_BASE enable bit)",
    "hypervisor": "KVM's userspace sets it for every guest; a bare-metal "
                  "dump has it clear",
    "intel-pt": "the baseline drops a feature whose describing leaf the "
                "intersection zeroed (x86_finish in arch/x86/x86.c): leaf "
                "0x14 is 'default zero', host-mode PT is not migratable",
    "invtsc": "the baseline keeps invariant TSC only with a TSC rate the "
              "profile pins (x86_finish; research x86-kvm.md 4.1); these "
              "converted reports carry none, and libvirt's map marks it "
              "migratable='no'",
    "ht": _VCPU + " (HTT: more than one logical id per package)",
    "cmp_legacy": _VCPU + " (AMD CmpLegacy: core count in 1.EBX)",
}

# Features our baseline drops because a feature they need is gone (the
# `needs` rules of arch/x86/cpuid.txt: libvirt's baseline has no
# dependencies, it ANDs bit by bit), and the need, from the sources.  Such
# a difference is explained only where our profile's "dropped" list names
# the feature too; any other is NOT EXPLAINED.  gnr-03-lacking: a host
# without CPUID 0xD.1 has no XFD (0xD.1 EAX[4]) and no IA32_XSS LBR state
# (0xD.1 ECX[15]).
NEEDS = {
    "amx-tile": "AMX-TILE needs XFD for its dynamic tile data (Linux "
                "cpuid-deps.c {AMX_TILE, XFD}), which a host without CPUID "
                "0xD.1 lacks",
    "amx-int8": "the tile computations need AMX-TILE (Linux cpuid-deps.c "
                "{AMX_INT8, AMX_TILE})",
    "amx-bf16": "the tile computations need AMX-TILE (Linux cpuid-deps.c "
                "{AMX_BF16, AMX_TILE})",
    "arch-lbr": "architectural LBRs keep their state in the IA32_XSS LBR "
                "component (QEMU x86_ext_save_areas), 0xD.1 ECX[15], which "
                "a host without CPUID 0xD.1 lacks",
}

# Features our baseline keeps that libvirt's baseline drops, and why
# (information only): against `cpu-baseline --features`, and the features
# libvirt's map marks migratable='no' (`cpu-baseline --migratable` would drop
# them; the test driver does not take that flag).
OURS_ONLY = {
}
OURS_ONLY_MIGRATABLE = {
    "invtsc": "cpufleet keeps invariant TSC only when the profile pins a "
              "TSC rate every host can run (research x86-kvm.md 4.1), as "
              "QEMU requires for migrating with it",
    "xsaves": "libvirt 9.0's map marks xsaves migratable='no'; KVM saves "
              "and restores the XSS-managed state, and cpufleet treats "
              "xsaves as a plain flag every host must have",
}

# Features our baseline may keep although some input host lacks them, and
# why: arch/x86/cpuid.txt marks them `inverted` (1 = a weakness, combined by
# OR), so a guest must be told if any host has it.  Any other such feature
# fails the case.
INVERTED = {
    "rsba": "IA32_ARCH_CAPABILITIES[2] RSBA: RET may use alternate "
            "predictors on some host (msr-index.h ARCH_CAP_RSBA); `inverted` "
            "in arch/x86/cpuid.txt",
}

REGS = ("eax", "ebx", "ecx", "edx")
NOT_MIGRATABLE = set()


# ---------------------------------------------------------------------------
# libvirt's CPU map.

def load_features(cpu_map):
    """{name: ("cpuid", leaf, subleaf, reg, mask) | ("msr", index, mask)}."""
    root = ET.parse(os.path.join(cpu_map, "x86_features.xml")).getroot()
    feats = {}
    for f in root.iter("feature"):
        name = f.get("name")
        bits = []
        for c in f.findall("cpuid"):
            leaf = int(c.get("eax_in"), 16)
            sub = int(c.get("ecx_in") or "0", 16)
            for r in REGS:
                if c.get(r) is not None and int(c.get(r), 16):
                    bits.append(("cpuid", leaf, sub, r, int(c.get(r), 16)))
        for m in f.findall("msr"):
            mask = (int(m.get("edx"), 16) << 32) | int(m.get("eax"), 16)
            bits.append(("msr", int(m.get("index"), 16), mask))
        if len(bits) != 1:
            raise ValueError("%s: feature %s: expected one CPUID or MSR bit, "
                             "found %d" % (cpu_map, name, len(bits)))
        feats[name] = bits[0]
    return feats


def load_not_migratable(cpu_map):
    root = ET.parse(os.path.join(cpu_map, "x86_features.xml")).getroot()
    return {f.get("name") for f in root.iter("feature")
            if f.get("migratable") == "no"}


def load_vendors(cpu_map):
    root = ET.parse(os.path.join(cpu_map, "x86_vendors.xml")).getroot()
    return {v.get("string"): v.get("name") for v in root.iter("vendor")}


def model_features(cpu_map, model):
    root = ET.parse(os.path.join(cpu_map, "x86_%s.xml" % model)).getroot()
    m = root.find("model")
    if m is None or m.find("model") is not None:
        raise ValueError("%s: x86_%s.xml: expected a model without a parent"
                         % (cpu_map, model))
    return {f.get("name") for f in m.findall("feature")}


def describe(bit):
    if bit[0] == "cpuid":
        _, leaf, sub, reg, mask = bit
        return "CPUID 0x%x.%d %s[%d]" % (leaf, sub, reg.upper(),
                                         mask.bit_length() - 1)
    _, idx, mask = bit
    return "MSR 0x%x[%d]" % (idx, mask.bit_length() - 1)


# ---------------------------------------------------------------------------
# Reports and profiles: CPUID as {(leaf, subleaf): {reg: value}}.

def cpuid_table(x86):
    t = {}
    for e in x86.get("cpuid", []):
        t[(int(e["leaf"], 16), int(e["subleaf"], 16))] = \
            {r: int(e[r], 16) for r in REGS}
    return t


def msr_table(x86):
    return {int(k, 16): int(v, 16) for k, v in x86.get("msrs", {}).items()}


def range_max(t, leaf):
    base = 0x80000000 if leaf >= 0x80000000 else \
        0x40000000 if leaf >= 0x40000000 else 0
    return t.get((base, 0), {}).get("eax", 0)


def bit_state(bit, t, msrs):
    """(set?, why-not) for a feature bit in a CPUID table + MSRs."""
    if bit[0] == "msr":
        _, idx, mask = bit
        if idx not in msrs:
            return False, "MSR 0x%x absent" % idx
        return bool(msrs[idx] & mask), "bit clear"
    _, leaf, sub, reg, mask = bit
    if leaf > range_max(t, leaf):
        return False, "leaf 0x%x above the maximum leaf 0x%x" % (
            leaf, range_max(t, leaf))
    v = t.get((leaf, sub), {}).get(reg, 0)
    return bool(v & mask), "bit clear"


def signature(t):
    eax = t.get((1, 0), {}).get("eax", 0)
    fam = (eax >> 8) & 0xf
    model = (eax >> 4) & 0xf
    if fam == 0xf:
        fam += (eax >> 20) & 0xff
    if fam in (6, 0xf) or fam > 0xf:
        model |= ((eax >> 16) & 0xf) << 4
    return fam, model, eax & 0xf


def host_cpu_xml(report, feats, vendors, base):
    x86 = report["x86"]
    t, msrs = cpuid_table(x86), msr_table(x86)
    vendor = vendors.get(x86["vendor"])
    if vendor is None:
        raise ValueError("%s: vendor %s unknown to libvirt"
                         % (report["host"]["id"], x86["vendor"]))
    have = sorted(n for n, b in feats.items() if bit_state(b, t, msrs)[0])
    base_feats = model_features(CPU_MAP, base)
    for n in sorted(base_feats):
        if n not in have:
            raise ValueError("%s: lacks %s, which the base model %s has"
                             % (report["host"]["id"], n, base))
    fam, model, step = signature(t)
    lines = ["<cpu>", "  <arch>x86_64</arch>",
             "  <model>%s</model>" % base,
             "  <vendor>%s</vendor>" % vendor,
             "  <signature family='%d' model='%d' stepping='%d'/>"
             % (fam, model, step)]
    lines += ["  <feature name='%s'/>" % n for n in have]
    lines.append("</cpu>")
    return "\n".join(lines) + "\n", set(have)


# ---------------------------------------------------------------------------
# Running the two tools.

def run(cmd):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True)
    return p.returncode, p.stdout, p.stderr


def libvirt_baseline(xml_path, opts):
    cmd = [VIRSH, "-q", "-c", "test:///default", "cpu-baseline"] + opts
    rc, out, err = run(cmd + [xml_path])
    if rc != 0:
        return None, (err.strip() or out.strip() or "exit %d" % rc)
    cpu = ET.fromstring(out)
    model = cpu.findtext("model")
    vendor = cpu.findtext("vendor")
    pol = {}
    for f in cpu.findall("feature"):
        pol[f.get("name")] = f.get("policy") or "require"
    return {"model": model, "vendor": vendor, "policy": pol}, None


def our_baseline(paths, out_path):
    rc, out, err = run([CPUFLEET, "baseline", "-q", "-o", out_path] + paths)
    if rc not in (0, 1):
        return None, rc, err.strip()
    with open(out_path, encoding="utf-8") as f:
        return json.load(f), rc, err.strip()


# ---------------------------------------------------------------------------

class Tally:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def ok(self, name):
        self.passed += 1
        print("ok - %s" % name)

    def fail(self, name, why):
        self.failed += 1
        print("FAIL - %s: %s" % (name, why))


def note(msg):
    print("#   " + msg)


def closest_models(cpu_map, vendor, have, limit=3):
    """Named models of VENDOR (or of none) that need the fewest features
    outside HAVE: [(missing features, model)], fewest first."""
    out = []
    for fn in sorted(os.listdir(cpu_map)):
        if not (fn.startswith("x86_") and fn.endswith(".xml")) or \
                fn in ("x86_features.xml", "x86_vendors.xml"):
            continue
        m = ET.parse(os.path.join(cpu_map, fn)).getroot().find("model")
        if m is None or m.get("name") in BASE_MODELS:
            continue
        v = m.find("vendor")
        if v is not None and v.get("name") != vendor:
            continue
        dec = m.find("decode")
        if dec is not None and dec.get("guest") == "off":
            continue
        need = {f.get("name") for f in m.findall("feature")}
        if "lm" in have and "lm" not in need:
            continue                    # 32-bit models
        out.append((sorted(need - have), m.get("name"), len(need)))
    out.sort(key=lambda x: (len(x[0]), -x[2], x[1]))
    return [(miss, name) for miss, name, _ in out[:limit]]


def said_dropped(prof, name, bit):
    """The reason our profile PROF gives for dropping libvirt's feature NAME
    (the flag of CPUID bit BIT, named as Linux names it there), or None."""
    if bit[0] != "cpuid":
        return None
    _, leaf, sub, reg, _ = bit
    where = "CPUID_%08X_%X_%s" % (leaf, sub, reg.upper())
    for d in prof.get("dropped", []):
        if d.get("register") == where and \
                d.get("field") == name.replace("-", "_"):
            return d.get("reason")
    return None


def compare(name, mode, lv, prof, feats, vendors, input_all, tally):
    """Check libvirt's expanded baseline LV against our profile PROF."""
    x86 = prof["x86"]
    t, msrs = cpuid_table(x86), msr_table(x86)
    label = name + (" (%s)" % mode if mode else "")
    want_vendor = vendors.get(x86.get("vendor"))
    if lv["vendor"] == want_vendor:
        tally.ok("%s: same vendor (%s)" % (label, want_vendor))
    else:
        tally.fail("%s: same vendor" % label, "libvirt %s, cpufleet %s"
                   % (lv["vendor"], x86.get("vendor")))

    enabled = {n for n, p in lv["policy"].items() if p in ("require", "force")}
    disabled = {n for n, p in lv["policy"].items()
                if p in ("disable", "forbid")}
    unknown = sorted(n for n in enabled | disabled if n not in feats)
    if unknown:
        tally.fail("%s: libvirt's features are in x86_features.xml" % label,
                   ", ".join(unknown))

    unexplained, lv_only = [], []
    for n in sorted(enabled - set(unknown)):
        ours, why = bit_state(feats[n], t, msrs)
        if ours:
            continue
        lv_only.append(n)
        reason = LIBVIRT_ONLY.get(n)
        if reason is None and n in NEEDS and said_dropped(prof, n, feats[n]):
            reason = "ours dropped it (%s): %s" % (said_dropped(prof, n, feats[n]),
                                                   NEEDS[n])
        if reason is None:
            unexplained.append(n)
            note("%s: libvirt enables %s (%s), ours lacks it (%s): NOT "
                 "EXPLAINED" % (label, n, describe(feats[n]), why))
        else:
            note("%s: libvirt enables %s (%s), ours lacks it (%s): %s"
                 % (label, n, describe(feats[n]), why, reason))
    check = ("%s: every feature libvirt's baseline enables is in ours or "
             "explained" % label)
    if unexplained:
        tally.fail(check, "unexplained: " + ", ".join(unexplained))
    else:
        tally.ok("%s (%d enabled, %d explained differences)"
                 % (check, len(enabled), len(lv_only)))

    ours_only = []
    for n in sorted(feats):
        if n in enabled or not bit_state(feats[n], t, msrs)[0]:
            continue
        ours_only.append(n)
        table = OURS_ONLY_MIGRATABLE if mode == "migratable" else OURS_ONLY
        note("%s: ours keeps %s (%s), libvirt's baseline %s it (%s): %s"
             % (label, n, describe(feats[n]),
                "disables" if n in disabled else "drops",
                "in every input" if n in input_all else "NOT in every input",
                table.get(n, "(no entry in the table: look at it)")))
    note("%s: libvirt enables %d features, %d of them missing in ours; "
         "ours keeps %d more" % (label, len(enabled), len(lv_only),
                                 len(ours_only)))


def check_every_input(name, prof, feats, per_host, tally):
    """Every libvirt feature our profile PROF keeps is set in every input
    report (PER_HOST: host -> features set in its own CPUID/MSR bits)."""
    x86 = prof["x86"]
    t, msrs = cpuid_table(x86), msr_table(x86)
    unsafe = []
    for n in sorted(feats):
        if not bit_state(feats[n], t, msrs)[0]:
            continue
        lack = sorted(h for h, have in per_host.items() if n not in have)
        if not lack:
            continue
        why = INVERTED.get(n)
        note("%s: ours keeps %s (%s), which %s lack%s: %s"
             % (name, n, describe(feats[n]), " ".join(lack),
                "s" if len(lack) == 1 else "", why or "NOT EXPLAINED"))
        if why is None:
            unsafe.append("%s (not on %s)" % (n, " ".join(lack)))
    check = "%s: every feature ours keeps is on every input host" % name
    if unsafe:
        tally.fail(check, ", ".join(unsafe))
    else:
        tally.ok(check)


def load_host(spec, tmp):
    """(report, path) for a host of CASES: a report of DATA, +syscall,
    or a DERIVED one (written to TMP)."""
    fix = spec.endswith("+syscall")
    h = spec[:-len("+syscall")] if fix else spec
    base, lacks = DERIVED.get(h, (h, []))
    p = os.path.join(DATA, base + ".json")
    with open(p, encoding="utf-8") as f:
        rep = json.load(f)
    if fix:
        for e in rep["x86"]["cpuid"]:
            if int(e["leaf"], 16) == 0x80000001 and \
                    int(e["edx"], 16) >> 29 & 1:
                e["edx"] = "0x%08x" % (int(e["edx"], 16) | 1 << 11)
    for what in lacks:
        x86 = rep["x86"]
        if what[0] == "cpuid":
            x86["cpuid"] = [e for e in x86["cpuid"]
                            if (int(e["leaf"], 16), int(e["subleaf"], 16))
                            != what[1:]]
        else:
            x86.get("msrs", {}).pop("0x%08x" % what[1], None)
    if fix or lacks:
        rep["host"]["id"] = rep["host"]["hostname"] = h
        p = os.path.join(tmp, spec + ".json")
        with open(p, "w", encoding="utf-8") as f:
            json.dump(rep, f)
    return rep, p


def run_case(name, hosts, expect, feats, vendors, tmp, tally, verbose):
    reports, paths, per_host = [], [], {}
    for h in hosts:
        rep, p = load_host(h, tmp)
        reports.append(rep)
        paths.append(p)
    xml_path = os.path.join(tmp, name + ".xml")
    with open(xml_path, "w", encoding="utf-8") as f:
        for base in BASE_MODELS:
            for r in reports:
                text, have = host_cpu_xml(r, feats, vendors, base)
                per_host[r["host"]["id"]] = have
                f.write(text)
    input_all = set.intersection(*per_host.values())

    prof, rc, err = our_baseline(paths, os.path.join(tmp, name + ".json"))
    if prof is None:
        tally.fail(name + ": cpufleet baseline", "exit %d: %s" % (rc, err))
        return
    lv, lverr = libvirt_baseline(xml_path, ["--features"])

    if expect == "refused":
        if lv is None and rc == 1:
            tally.ok("%s: both refuse the pool (libvirt: %s; cpufleet: "
                     "infeasible)" % (name, lverr))
        else:
            tally.fail("%s: both refuse the pool" % name,
                       "libvirt %s, cpufleet exit %d" % (
                           "refused: " + lverr if lv is None
                           else "computed " + lv["model"], rc))
        return
    if lv is None:
        tally.fail(name + ": libvirt cpu-baseline", lverr)
        return
    if rc != 0:
        tally.fail(name + ": cpufleet baseline feasible",
                   "infeasible: %s" % err.replace("\n", "; "))
        return
    short, _ = libvirt_baseline(xml_path, [])
    tally.ok("%s: both compute a baseline (libvirt: model %s + %d listed "
             "features)" % (name, lv["model"],
                            len(short["policy"]) if short else -1))
    if lv["model"] in BASE_MODELS:
        lvvendor = vendors.get(prof["x86"].get("vendor"))
        near = "; ".join("%s lacks %s" % (m, " ".join(miss) or "nothing")
                         for miss, m in closest_models(CPU_MAP, lvvendor,
                                                       input_all))
        note("%s: libvirt found no named model without disabled features; "
             "closest: %s" % (name, near))
    if verbose and short:
        note("%s: libvirt's baseline: model %s, %s" % (
            name, short["model"], " ".join(
                "%s%s" % ("-" if p == "disable" else "+", n)
                for n, p in sorted(short["policy"].items()))))
    compare(name, "", lv, prof, feats, vendors, input_all, tally)
    check_every_input(name, prof, feats, per_host, tally)

    # The test driver refuses `cpu-baseline --migratable`; what it would
    # drop is what the map marks migratable='no'.
    x86 = prof["x86"]
    t, msrs = cpuid_table(x86), msr_table(x86)
    for n in sorted(NOT_MIGRATABLE & set(lv["policy"])):
        if lv["policy"][n] in ("require", "force") and \
                bit_state(feats[n], t, msrs)[0]:
            note("%s: ours keeps %s, which libvirt's map marks "
                 "migratable='no' (cpu-baseline --migratable drops it): %s"
                 % (name, n, OURS_ONLY_MIGRATABLE.get(
                     n, "(no entry in the table: look at it)")))


def main(argv):
    verbose = "-v" in argv[1:]
    if shutil.which(VIRSH) is None:
        print("skip - virsh not installed (Debian: apt-get install "
              "libvirt-clients); libvirt cross-check not run")
        print("libvirt: 0 passed, 0 failed, 1 skipped")
        return 0
    if not os.path.isfile(os.path.join(CPU_MAP, "x86_features.xml")):
        print("skip - libvirt's CPU map not found in %s; libvirt cross-check "
              "not run" % CPU_MAP)
        print("libvirt: 0 passed, 0 failed, 1 skipped")
        return 0
    if not os.access(CPUFLEET, os.X_OK):
        print("FAIL - setup: %s not built (run make)" % CPUFLEET)
        print("0 passed, 1 failed")
        return 1
    rc, out, _ = run([VIRSH, "--version"])
    print("# virsh %s, CPU map %s, %s" % (out.strip(), CPU_MAP, CPUFLEET))
    global NOT_MIGRATABLE
    feats = load_features(CPU_MAP)
    NOT_MIGRATABLE = load_not_migratable(CPU_MAP)
    vendors = load_vendors(CPU_MAP)
    tally = Tally()
    with tempfile.TemporaryDirectory(prefix="cpufleet-libvirt.") as tmp:
        for name, hosts, expect in CASES:
            print("# case %s: %s" % (name, " ".join(hosts)))
            try:
                run_case(name, hosts, expect, feats, vendors, tmp, tally,
                         verbose)
            except (OSError, ValueError, ET.ParseError) as e:
                tally.fail(name, str(e))
    print("%d passed, %d failed" % (tally.passed, tally.failed))
    return 1 if tally.failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
