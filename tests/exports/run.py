#!/usr/bin/env python3
"""Every profile of tests/data exported to QEMU, libvirt and Firecracker,
and each export judged by the consumer itself or its own data.

    python3 tests/exports/run.py [CPUFLEET]         (make exports-test)

The profiles: every profile document under tests/data, and the own profile
(`cpufleet baseline` of one report) of every report there.  Each goes
through `cpufleet export --format F --allow-drop --json` for the three
formats.  What must be refused, and why (the test's own reading of the
profile, never cpufleet's): libvirt on arm64 (libvirt cannot set arm64 ID
registers), Firecracker on an arm64 profile with SVE and SVE vector lengths
(a template cannot set KVM_REG_ARM64_SVE_VLS).  Every other export is
judged:

  qemu, x86     Debian's qemu-system-x86_64 (QEMU 7.2) starts paused under
                TCG with the -cpu value (without `enforce`: TCG lacks many
                features, and QEMU then lists them in filtered-features)
                and -machine none, and is asked over QMP for the QOM
                `feature-words` and `filtered-features` of
                /machine/unattached/device[0]: the CPUID words it resolved,
                by (leaf, subleaf, register).  Requested = both ORed; it
                must equal the profile's feature bits in every word QEMU
                reports, but for the bits the export says it left out,
                each of which QEMU's own `-cpu help` must not know by the
                profile's name for it; level, xlevel, vendor, family,
                model, stepping, phys-bits and tsc-frequency read back.
                Skipped by name without qemu-system-x86_64.
  qemu, arm64   qemu-system-aarch64 starts with the value on `max` (TCG has
                no `host`), so QEMU knows every property, and
                query-cpu-model-expansion resolves them as asked; pmu, sve,
                each sve<N> and pauth follow the ID registers (Arm ARM bit
                positions below); and every ID and firmware register of
                the profile is named in the export as not set by QEMU.
  libvirt       libvirt's CPU map (/usr/share/libvirt/cpu_map): the model's
                features plus require, minus disable, by CPUID or MSR bit,
                must be the profile's feature bits but for those libvirt
                has no feature at (each listed by the export as left out);
                the vendor and <maxphysaddr> agree; libvirt's comparison
                (x86Compute: every feature the guest requires on the host)
                holds on every source host of the profile: identical or
                superset, never incompatible; virt-xml-validate accepts it
                inside a domain.
  firecracker   the grammar as Firecracker's serde reads it (transcribed
                below from firecracker-microvm/firecracker
                src/vmm/src/cpu_config/templates.rs, templates_serde.rs,
                x86_64/custom_cpu_template.rs, aarch64/custom_cpu_template.rs
                at 81b38b9dad60), then applied to every source host the way
                Firecracker applies it (x86_64/mod.rs apply_template_to_cpuid
                and _msrs: a leaf or MSR the host lacks is refused;
                aarch64/mod.rs apply_template), then x86's CPUID
                normalisation (docs/cpu_templates/cpuid-normalization.md):
                the guest's registers must be the profile's in every bit
                but the per-vCPU ones and those the normalisation sets.

The feature bits of a profile, read by this test from arch/x86/cpuid.txt
as text: the bits of `flag` and `inverted` lines and of `default flag`
blocks, in registers a guest reaches (leaf within its range's maximum, a
leaf-7 subleaf within 7.0 EAX, a gated register whose gate flag is set).
DERIVED lists the bits no VMM takes from a user, with why.

Output: a line per export (`ok -`, `FAIL -`, `skip -`), then
`exports: N/N accepted by qemu, libvirt, firecracker` and
`N passed, N failed, N skipped`; exit 1 when one failed.  Standard library
only; run from anywhere after `make`.
Environment: CPUFLEET, QEMU_X86 (qemu-system-x86_64), QEMU_ARM
(qemu-system-aarch64), LIBVIRT_CPU_MAP, VIRT_XML_VALIDATE.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

sys.dont_write_bytecode = True
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "gen"))
from textdata import words  # noqa: E402

CPUFLEET = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else \
    os.environ.get("CPUFLEET", os.path.join(ROOT, "build", "cpufleet"))
QEMU_X86 = os.environ.get("QEMU_X86", "qemu-system-x86_64")
QEMU_ARM = os.environ.get("QEMU_ARM", "qemu-system-aarch64")
CPU_MAP = os.environ.get("LIBVIRT_CPU_MAP", "/usr/share/libvirt/cpu_map")
VALIDATE = os.environ.get("VIRT_XML_VALIDATE", "virt-xml-validate")
DATA = os.path.join(ROOT, "tests", "data")
REGS = ("eax", "ebx", "ecx", "edx")
FORMATS = ("qemu", "libvirt", "firecracker")

# The reports a profile document of tests/data was computed from (each
# directory's README says so); a profile document not listed fails.
SOURCES = {
    "golden/real-writable.profile.json": "arm64/real-writable",
    "x86/golden/intel.json": "x86",
}

# Bits no VMM takes from its user: (leaf, subleaf, register) -> (mask,
# vendors or None for all, why).
AMD = ("AuthenticAMD", "HygonGenuine")
DERIVED = {
    (0xd, 0, "eax"): (0xffffffff, None, "XCR0 components: QEMU derives them "
                      "from the features that use them (target/i386/cpu.c "
                      "x86_cpu_enable_xsave_components); neither QEMU nor "
                      "libvirt names them"),
    (0xd, 0, "edx"): (0xffffffff, None, "XCR0 components, bits 63:32"),
    (0xd, 1, "ecx"): (0xffffffff, None, "IA32_XSS components, derived as "
                      "XCR0's"),
    (0xd, 1, "edx"): (0xffffffff, None, "IA32_XSS components, bits 63:32"),
    (0x80000001, 0, "edx"): (0x0183f3ff, AMD, "AMD's copies of CPUID 1 EDX: "
                             "QEMU fills them from leaf 1 on AMD and Hygon "
                             "(CPUID_EXT2_AMD_ALIASES)"),
}

# Linux arch/x86/include/asm/cpuid.h cpuid_function_is_indexed() with 0x24
# (lore: "KVM: x86: Advertise AVX10.1 CPUID to userspace"): the leaves KVM
# marks KVM_CPUID_FLAG_SIGNIFCANT_INDEX (1).  Leaves not listed here are
# not judged.
INDEXED = {0x4, 0x7, 0xb, 0xd, 0xf, 0x10, 0x12, 0x14, 0x17, 0x18, 0x1d,
           0x1e, 0x1f, 0x24, 0x8000001d}
NOT_INDEXED = {0x0, 0x1, 0x2, 0x3, 0x5, 0x6, 0x8, 0x9, 0xa, 0x15, 0x16,
               0x19, 0x1a, 0x1c, 0x40000000, 0x40000001, 0x80000000,
               0x80000001, 0x80000002, 0x80000003, 0x80000004, 0x80000005,
               0x80000006, 0x80000007, 0x80000008, 0x8000000a, 0x80000019,
               0x8000001a, 0x8000001b, 0x8000001c, 0x8000001e, 0x8000001f,
               0x80000021, 0x80000022}

# Leaves and MSRs a source report lacks that the host's KVM lists, so that
# Firecracker would take the template there: (report file, leaf, subleaf)
# or (report file, "msr", index) -> why.
# The register is not judged on that host.
HOST_LACKS = {
    ("snb-ep.json", 0xd, 1): "the dump lacks CPUID 0xD.1 (tests/data/x86/"
    "README.md: an old AIDA64 skips it); KVM_GET_SUPPORTED_CPUID lists "
    "subleaf 1 of leaf 0xD on every XSAVE host (arch/x86/kvm/cpuid.c, "
    "__do_cpuid_func, case 0xd)",
    ("snb-ep.json", "msr", 0x10a): "the dump has no MSR 0x10A (tests/data/"
    "x86/README.md); KVM offers IA32_ARCH_CAPABILITIES on every host, "
    "emulated where the CPU lacks it (arch/x86/kvm/x86.c, "
    "kvm_get_arch_capabilities, msr_based_features_all_except_vmx)",
}

# Firecracker's CPUID normalisation after a template
# (docs/cpu_templates/cpuid-normalization.md), the rows on bits a profile
# carries: (leaf, subleaf, register, mask, value or None = the host's, who).
FC_NORMALISE = [
    (0x0, 0, "ebx", 0xffffffff, None, "all"),   # vendor from the host
    (0x0, 0, "ecx", 0xffffffff, None, "all"),
    (0x0, 0, "edx", 0xffffffff, None, "all"),
    (0x1, 0, "ecx", 1 << 15, 0, "all"),          # PDCM off
    (0x1, 0, "ecx", 1 << 24, 1 << 24, "all"),    # TSC_DEADLINE on
    (0x1, 0, "ecx", 1 << 31, 1 << 31, "all"),    # HYPERVISOR on
    (0x6, 0, "eax", 1 << 1, 0, "intel"),         # Turbo Boost off
    (0x6, 0, "ecx", 1 << 3, 0, "intel"),         # frequency selection off
    (0x7, 0, "ebx", 1 << 6, 1 << 6, "intel"),    # FDP_EXCPTN_ONLY
    (0x7, 0, "ebx", 1 << 13, 1 << 13, "intel"),  # FPU CS/DS deprecated
    (0x7, 0, "ecx", 1 << 5, 0, "intel"),         # WAITPKG off
    (0xa, 0, "eax", 0xffffffff, 0, "intel"),     # performance monitoring off
    (0xa, 0, "ebx", 0xffffffff, 0, "intel"),
    (0xa, 0, "ecx", 0xffffffff, 0, "intel"),
    (0xa, 0, "edx", 0xffffffff, 0, "intel"),
    (0x7, 0, "edx", 1 << 29, 0, "amd"),          # ARCH_CAPABILITIES absent
    (0x80000001, 0, "ecx", 1 << 22, 1 << 22, "amd"),  # TOPOEXT on
]

# arm64 ID register fields (Arm ARM DDI0487, register descriptions):
# (register, lsb, width).
PMUVER = ("ID_AA64DFR0_EL1", 8, 4)
SVE = ("ID_AA64PFR0_EL1", 32, 4)
PAUTH = [("ID_AA64ISAR1_EL1", 4, 4), ("ID_AA64ISAR1_EL1", 8, 4),
         ("ID_AA64ISAR1_EL1", 24, 4), ("ID_AA64ISAR1_EL1", 28, 4),
         ("ID_AA64ISAR2_EL1", 12, 4), ("ID_AA64ISAR2_EL1", 8, 4)]


class Fail(Exception):
    pass


def hexint(s):
    return int(s, 16)


# ---------------------------------------------------------------------------
# The catalogues, read as text.

def x86_catalogue():
    """{(leaf, sub, reg) or ('msr', idx): {'flag': mask, 'ignore': mask,
    'names': {bit: name}, 'gates': [flag]}} and {flag name: (key, bit)}."""
    cat, cur, flags = {}, None, {}
    for _, w in words(os.path.join(ROOT, "arch/x86/cpuid.txt")):
        if w[0] == "cpuid":
            cur = (hexint(w[1]), hexint(w[2]), w[3])
            gates = [g for x in w[4:] if x.startswith("gate=")
                     for g in x[5:].split(",")]
            cat[cur] = {"flag": 0, "ignore": 0, "named": 0, "names": {},
                        "gates": gates, "default": None}
        elif w[0] == "msr":
            cur = ("msr", hexint(w[1]))
            cat[cur] = {"flag": 0, "ignore": 0, "named": 0, "names": {},
                        "gates": [], "default": None}
        elif w[0] in ("end", "fact", "level"):
            cur = None
        elif cur is None:
            continue
        elif w[0] == "default":
            cat[cur]["default"] = w[1]
        else:
            hi, _, lo = w[1].partition(":")
            mask = 0
            for b in range(int(lo or hi), int(hi) + 1):
                mask |= 1 << b
            r = cat[cur]
            r["named"] |= mask
            if w[0] in ("flag", "inverted"):
                r["flag"] |= mask
                r["names"][int(w[1])] = w[2]
                flags[w[2]] = (cur, int(w[1]))
            elif w[0] in ("vcpu", "runtime"):
                r["ignore"] |= mask
    for key, r in cat.items():
        width = 64 if key[0] == "msr" else 32
        rest = ((1 << width) - 1) & ~r["named"]
        if r["default"] == "flag":
            r["flag"] |= rest
        elif r["default"] == "vcpu":
            r["ignore"] |= rest
    return cat, flags


def arm64_catalogue():
    """{name: key} for registers and pseudo-registers of idregs.txt."""
    regs = {}
    for _, w in words(os.path.join(ROOT, "arch/arm64/idregs.txt")):
        if w[0] == "reg":
            op0, op1, crn, crm, op2 = (int(x) for x in w[2:7])
            regs[w[1]] = ("sys", op0 << 14 | op1 << 11 | crn << 7 | crm << 3 | op2)
        elif w[0] == "pseudo":
            regs[w[1]] = ("fw", hexint(w[2]))
    return regs


def caps_numbers():
    out = {}
    for _, w in words(os.path.join(ROOT, "arch/caps/caps.txt")):
        if w[0].startswith("KVM_CAP_"):
            out[w[0]] = int(w[1])
    return out


# ---------------------------------------------------------------------------
# Reports and profiles as this test reads them.

def x86_regs(doc):
    """{(leaf, sub, reg) or ('msr', idx): value} of a report or profile."""
    out = {}
    x = doc.get("x86", {})
    for e in x.get("cpuid", []):
        for r in REGS:
            out[(hexint(e["leaf"]), hexint(e["subleaf"]), r)] = hexint(e[r])
    for k, v in (x.get("msrs") or {}).items():
        out[("msr", hexint(k))] = hexint(v)
    return out


def vendor(regs):
    b = b"".join(regs.get((0, 0, r), 0).to_bytes(4, "little")
                 for r in ("ebx", "edx", "ecx"))
    return b.decode("latin-1")


def reachable(regs, key, cat, flags):
    if key[0] == "msr":
        return True
    leaf, sub, _ = key
    base = leaf & 0xc0000000
    if leaf != base and leaf > regs.get((base, 0, "eax"), 0):
        return False
    if leaf == 7 and sub > regs.get((7, 0, "eax"), 0):
        return False
    gates = cat.get(key, {}).get("gates", [])
    if gates and not any(
            regs.get(flags[g][0], 0) >> flags[g][1] & 1 for g in gates):
        return False
    return True


def derived_mask(key, vend):
    d = DERIVED.get(key)
    if not d or (d[1] and vend not in d[1]):
        return 0
    return d[0]


def feature_bits(regs, cat, flags):
    """{key: mask} of the feature bits a guest of REGS gets."""
    vend = vendor(regs)
    out = {}
    for key, v in regs.items():
        r = cat.get(key)
        if not r or not reachable(regs, key, cat, flags):
            continue
        m = v & r["flag"] & ~derived_mask(key, vend)
        if m:
            out[key] = m
    return out


def bit_name(cat, key, bit):
    r = cat.get(key, {})
    n = r.get("names", {}).get(bit, "bit%d" % bit)
    if key[0] == "msr":
        return "MSR 0x%x.%s" % (key[1], n)
    return "CPUID_%08X_%X_%s.%s" % (key[0], key[1], key[2].upper(), n)


def reg_label(key):
    if key[0] == "msr":
        return "IA32_ARCH_CAPABILITIES" if key[1] == 0x10a else "MSR_%X" % key[1]
    return "CPUID_%08X_%X_%s" % (key[0], key[1], key[2].upper())


# ---------------------------------------------------------------------------
# libvirt's CPU map.

def cpu_map():
    root = ET.parse(os.path.join(CPU_MAP, "x86_features.xml")).getroot()
    feats = {}
    for f in root.iter("feature"):
        for c in f.findall("cpuid"):
            for r in REGS:
                v = int(c.get(r) or "0", 16)
                if v:
                    feats[f.get("name")] = ((int(c.get("eax_in"), 16),
                                             int(c.get("ecx_in") or "0", 16),
                                             r), v)
        for m in f.findall("msr"):
            v = int(m.get("edx"), 16) << 32 | int(m.get("eax"), 16)
            feats[f.get("name")] = (("msr", int(m.get("index"), 16)), v)
    vendors = {v.get("string"): v.get("name") for v in ET.parse(
        os.path.join(CPU_MAP, "x86_vendors.xml")).getroot().iter("vendor")}
    models = {}
    for path in sorted(os.listdir(CPU_MAP)):
        if not path.startswith("x86_") or path in ("x86_features.xml",
                                                    "x86_vendors.xml"):
            continue
        m = ET.parse(os.path.join(CPU_MAP, path)).getroot().find("model")
        parent = m.find("model")
        fs = set(models[parent.get("name")]["features"]) if parent is not None \
            else set()
        fs |= {f.get("name") for f in m.findall("feature")}
        v = m.find("vendor")
        models[m.get("name")] = {"features": fs,
                                 "vendor": v.get("name") if v is not None
                                 else None}
    return feats, vendors, models


def add_bits(acc, key, mask):
    acc[key] = acc.get(key, 0) | mask


def judge_libvirt(name, prof, text, sources, ctx):
    feats, vendors, models = ctx["cpu_map"]
    cat, flags = ctx["x86cat"]
    regs = x86_regs(prof)
    try:
        cpu = ET.fromstring(text)
    except ET.ParseError as e:
        raise Fail("not XML: %s" % e)
    if cpu.tag != "cpu" or cpu.get("mode") != "custom" or \
            cpu.get("match") != "exact":
        raise Fail("not a <cpu mode='custom' match='exact'>")
    model = (cpu.findtext("model") or "").strip()
    if model not in models:
        raise Fail("model %r is not in libvirt's CPU map" % model)
    want_vendor = vendors.get(vendor(regs))
    if (cpu.findtext("vendor") or "").strip() != want_vendor:
        raise Fail("vendor %r, the profile's is %r" % (cpu.findtext("vendor"),
                                                       want_vendor))
    guest = {}
    for f in models[model]["features"]:
        add_bits(guest, *feats[f])
    for f in cpu.findall("feature"):
        n, pol = f.get("name"), f.get("policy")
        if n not in feats:
            raise Fail("feature %r is not in libvirt's CPU map" % n)
        key, mask = feats[n]
        if pol == "require":
            add_bits(guest, key, mask)
        elif pol == "disable":
            guest[key] = guest.get(key, 0) & ~mask
        else:
            raise Fail("feature %s: policy %r" % (n, pol))
    want = feature_bits(regs, cat, flags)
    named = {}
    for key, mask in feats.values():
        add_bits(named, key, mask)
    dropped = set(ctx["export"]["dropped"])
    vend = vendor(regs)
    for key in sorted(set(want) | set(guest), key=str):
        considered = cat.get(key, {}).get("flag", 0) & ~derived_mask(key, vend)
        w, g = want.get(key, 0), guest.get(key, 0) & considered
        for b in range(64):
            m = 1 << b
            if (w & m) and not (g & m):
                n = bit_name(cat, key, b)
                if named.get(key, 0) & m:
                    raise Fail("%s: libvirt names it, the export does not "
                               "give it" % n)
                if n.replace("MSR 0x10a", "IA32_ARCH_CAPABILITIES") not in \
                        dropped:
                    raise Fail("%s: left out but not listed" % n)
            if (g & m) and not (w & m):
                raise Fail("%s: the guest gets it, the profile lacks it"
                           % bit_name(cat, key, b))
    a8 = regs.get((0x80000008, 0, "eax"), 0) & 0xff
    mp = cpu.find("maxphysaddr")
    if a8 and (mp is None or mp.get("mode") != "emulate" or
               int(mp.get("bits")) != a8):
        raise Fail("<maxphysaddr> is not emulate, %d bits" % a8)
    # x86Compute on every source host: required features, all offered.
    for path in sources:
        h = x86_regs(load(path))
        if vendor(h) != vendor(regs):
            raise Fail("%s: host vendor %s" % (path, vendor(h)))
        missing = []
        for n, (key, mask) in sorted(feats.items()):
            if guest.get(key, 0) & mask and not h.get(key, 0) & mask:
                missing.append(n)
        if missing:
            raise Fail("incompatible on %s: the host lacks %s" % (
                os.path.basename(path), ", ".join(missing[:8])))
    # The model libvirt itself decodes the profile's CPU into: virsh's
    # offline cpu-baseline of the profile written as a host <cpu> over
    # tests/x86/libvirt.py's two minimal models (so that libvirt picks).
    chose = ""
    disables = [f.get("name") for f in cpu.findall("feature")
                if f.get("policy") == "disable"]
    if ctx["virsh"] and disables:
        # libvirt decodes a host <cpu> only into a model it need not take
        # anything from (cpu_x86.c: x86DecodeUseCandidate refuses a
        # candidate with a disabled feature when checkPolicy, i.e. for a
        # host CPU), so it cannot judge a model the export disables
        # features of; the guest's CPUID bits above are what matter.
        chose = " (disables %s: libvirt's host decode cannot judge it)" % \
            ", ".join(disables)
    elif ctx["virsh"]:
        lvp = ctx["libvirt_py"]
        cpus = os.path.join(ctx["tmp"], "decode.xml")
        with open(cpus, "w") as f:
            for base in lvp.BASE_MODELS:
                f.write(lvp.host_cpu_xml(prof, ctx["lv_feats"], ctx["lv_vendors"],
                                         base)[0])
        lv, err = lvp.libvirt_baseline(cpus, [])
        if lv is None:
            raise Fail("virsh cpu-baseline: %s" % err)
        if lv["model"] != model:
            raise Fail("model %s; libvirt decodes this CPU into %s" % (
                model, lv["model"]))
        chose = " (libvirt's own choice)"
    if ctx["validate"]:
        dom = os.path.join(ctx["tmp"], "domain.xml")
        with open(dom, "w") as f:
            f.write("<domain type='kvm'><name>x</name><memory>65536</memory>"
                    "<os><type arch='x86_64'>hvm</type></os>%s</domain>\n"
                    % text)
        p = subprocess.run([ctx["validate"], dom, "domain"],
                           capture_output=True, text=True)
        if p.returncode:
            raise Fail("virt-xml-validate: %s" % (p.stderr or p.stdout).strip())
    return "model %s%s, %d require, %d disable, %d left out; superset or " \
        "identical on %d source host(s)" % (
            model, chose, len([f for f in cpu.findall("feature")
                        if f.get("policy") == "require"]),
            len([f for f in cpu.findall("feature")
                 if f.get("policy") == "disable"]), len(dropped), len(sources))


# ---------------------------------------------------------------------------
# Firecracker: the template grammar and how it is applied.

def fc_number(s, bits, where):
    """templates_serde.rs deserialize_from_str_u32/_u64."""
    if not isinstance(s, str):
        raise Fail("%s: not a string" % where)
    if s.startswith("0b"):
        v = int(s[2:], 2)
    elif s.startswith("0x"):
        v = int(s[2:], 16)
    else:
        raise Fail("%s: %r has no 0x or 0b prefix" % (where, s))
    if v >= 1 << bits:
        raise Fail("%s: %r over %d bits" % (where, s, bits))
    return v


def fc_bitmap(s, bits, where):
    """templates.rs RegisterValueFilter deserialize: (filter, value)."""
    if not isinstance(s, str):
        raise Fail("%s: not a string" % where)
    body = s[2:] if s.startswith("0b") else s
    filt = val = i = 0
    for c in reversed(body):
        if c == "_":
            continue
        if i == bits:
            raise Fail("%s: longer than %d bits" % (where, bits))
        if c in "01":
            filt |= 1 << i
            val |= (c == "1") << i
        elif c != "x":
            raise Fail("%s: character %r" % (where, c))
        i += 1
    return filt, val


def fc_caps(doc):
    out = []
    for i, c in enumerate(doc.get("kvm_capabilities", [])):
        if not isinstance(c, str) or not re.match(r"^!?[0-9]+$", c) or \
                int(c.lstrip("!")) >= 1 << 32:
            raise Fail("$.kvm_capabilities[%d]: %r" % (i, c))
        out.append(c)
    return out


def fc_top(doc, keys):
    if not isinstance(doc, dict):
        raise Fail("$: not an object")
    extra = set(doc) - set(keys)
    if extra:   # #[serde(deny_unknown_fields)] on CustomCpuTemplate
        raise Fail("$: Firecracker refuses member(s) %s" % sorted(extra))
    for k in keys:
        if k in doc and not isinstance(doc[k], list):
            raise Fail("$.%s: not an array" % k)


def want_caps(prof):
    nums = caps_numbers()
    return sorted(str(nums[c]) for c, v in
                  (prof.get("kvm", {}).get("enabled") or {}).items() if v)


def judge_fc_x86(name, prof, text, sources, ctx):
    cat, flags = ctx["x86cat"]
    doc = json.loads(text)
    fc_top(doc, ("kvm_capabilities", "cpuid_modifiers", "msr_modifiers"))
    if sorted(c for c in fc_caps(doc)) != want_caps(prof):
        raise Fail("kvm_capabilities %s, the profile enables %s" % (
            fc_caps(doc), want_caps(prof)))
    mods, msrs = {}, {}
    for i, e in enumerate(doc.get("cpuid_modifiers", [])):
        w = "$.cpuid_modifiers[%d]" % i
        for k in ("leaf", "subleaf", "flags", "modifiers"):
            if k not in e:   # no serde default on CpuidLeafModifier
                raise Fail("%s: no %s" % (w, k))
        leaf = fc_number(e["leaf"], 32, w + ".leaf")
        sub = fc_number(e["subleaf"], 32, w + ".subleaf")
        if not isinstance(e["flags"], int) or not 0 <= e["flags"] < 1 << 32:
            raise Fail("%s.flags: not a u32" % w)
        if leaf in INDEXED and e["flags"] != 1 or \
                leaf in NOT_INDEXED and e["flags"] != 0:
            raise Fail("%s: leaf 0x%x with flags %d" % (w, leaf, e["flags"]))
        for j, m in enumerate(e["modifiers"]):
            if m.get("register") not in REGS:
                raise Fail("%s.modifiers[%d].register: %r" % (w, j,
                                                             m.get("register")))
            mods[(leaf, sub, m["register"])] = fc_bitmap(
                m.get("bitmap"), 32, "%s.modifiers[%d].bitmap" % (w, j))
    for i, m in enumerate(doc.get("msr_modifiers", [])):
        w = "$.msr_modifiers[%d]" % i
        msrs[("msr", fc_number(m.get("addr"), 32, w + ".addr"))] = \
            fc_bitmap(m.get("bitmap"), 64, w + ".bitmap")
    regs = x86_regs(prof)
    kind = "intel" if vendor(regs) == "GenuineIntel" else \
        "amd" if vendor(regs) in AMD else "other"
    for path in sources:
        host = x86_regs(load(path))
        guest = dict(host)
        skip = set()
        for key, (f, v) in list(mods.items()) + list(msrs.items()):
            lacks = (os.path.basename(path), key[0], key[1])
            if key not in host and lacks in HOST_LACKS:
                skip.add(key)
                ctx["notes"].add("# firecracker: %s on %s not judged: %s" % (
                    reg_label(key), lacks[0], HOST_LACKS[lacks]))
                continue
            if key not in host:
                raise Fail("%s: Firecracker refuses the template: %s is not "
                           "in this host's KVM list" % (
                               os.path.basename(path), reg_label(key)))
            guest[key] = (host[key] & ~f) | (v & f)
        norm = {}
        for leaf, sub, r, mask, val, who in FC_NORMALISE:
            key = (leaf, sub, r)
            if who not in ("all", kind) or key not in guest:
                continue
            norm[key] = norm.get(key, 0) | mask
            guest[key] = (guest[key] & ~mask) | \
                ((host[key] if val is None else val) & mask)
        for key, v in regs.items():
            if key not in cat or not reachable(regs, key, cat, flags) or \
                    key in skip:
                continue
            cmp_mask = (0xffffffffffffffff if key[0] == "msr" else 0xffffffff) \
                & ~cat[key]["ignore"] & ~norm.get(key, 0)
            if (guest.get(key, 0) ^ v) & cmp_mask:
                raise Fail("%s on %s: the guest reads 0x%x, the profile says "
                           "0x%x (bits compared 0x%x)" % (
                               reg_label(key), os.path.basename(path),
                               guest.get(key, 0), v, cmp_mask))
    return "%d CPUID registers, %d MSRs; applied on %d source host(s)" % (
        len(mods), len(msrs), len(sources))


def field(regs, spec):
    reg, lsb, width = spec
    return regs.get(reg, 0) >> lsb & ((1 << width) - 1)


def arm64_regs(doc):
    a = doc.get("arm64", {})
    out = {k: hexint(v) for k, v in a.get("id_regs", {}).items()}
    out.update({k: hexint(v) for k, v in (a.get("fw_regs") or {}).items()})
    return out


def arm64_wants(regs):
    pmu = field(regs, PMUVER) not in (0, 0xf)
    sve = field(regs, SVE) != 0
    pauth = any(field(regs, f) for f in PAUTH)
    return pmu, sve, pauth


ENC = re.compile(r"^S3_([0-7])_C([0-9]+)_C([0-9]+)_([0-7])$")


def judge_fc_arm64(name, prof, text, sources, ctx):
    names = dict(ctx["armcat"])
    regs = arm64_regs(prof)
    # Registers the catalogue does not know go by their encoding name
    # (S3_<op1>_C<CRn>_C<CRm>_<op2>, op0 3).
    for n in regs:
        m = ENC.match(n)
        if m and n not in names:
            op1, crn, crm, op2 = (int(x) for x in m.groups())
            names[n] = ("sys", 3 << 14 | op1 << 11 | crn << 7 | crm << 3 | op2)
    by_id = {}
    for n, (kind, key) in names.items():
        by_id[(0x6030000000130000 | key) if kind == "sys"
              else (0x6030000000000000 | key)] = n
    doc = json.loads(text)
    fc_top(doc, ("kvm_capabilities", "vcpu_features", "reg_modifiers"))
    if sorted(fc_caps(doc)) != want_caps(prof):
        raise Fail("kvm_capabilities %s" % fc_caps(doc))
    pmu, sve, pauth = arm64_wants(regs)
    want_feat = (pmu << 3) | (sve << 4) | (pauth << 5) | (pauth << 6)
    vf = doc.get("vcpu_features", [])
    for i, f in enumerate(vf):
        if not isinstance(f.get("index"), int) or not 0 <= f["index"] < 7:
            raise Fail("$.vcpu_features[%d].index" % i)
        filt, val = fc_bitmap(f.get("bitmap"), 32,
                              "$.vcpu_features[%d].bitmap" % i)
        if f["index"] == 0 and (filt & 0x78 != 0x78 or val & 0x78 != want_feat):
            raise Fail("vcpu_features: PMU/SVE/PAuth bits 0x%x, the ID "
                       "registers say 0x%x" % (val & 0x78, want_feat))
    mods = {}
    for i, m in enumerate(doc.get("reg_modifiers", [])):
        w = "$.reg_modifiers[%d]" % i
        rid = fc_number(m.get("addr"), 64, w + ".addr")
        size = 1 << (rid >> 52 & 0xf)   # KVM_REG_SIZE_MASK, bytes
        if size not in (4, 8, 16):   # aarch64 CustomCpuTemplate::validate
            raise Fail("%s: register size %d bytes" % (w, size))
        f, v = fc_bitmap(m.get("bitmap"), 128, w + ".bitmap")
        if f >> (size * 8) or v >> (size * 8):
            raise Fail("%s: bitmap wider than the register" % w)
        if rid not in by_id:
            raise Fail("%s: 0x%x is no ID or firmware register" % (w, rid))
        mods[by_id[rid]] = (f, v)
    for path in sources:
        host = arm64_regs(load(path))
        for n, (f, v) in mods.items():
            if n not in host:
                raise Fail("%s: %s is not on this host" % (
                    os.path.basename(path), n))
        for n, v in regs.items():
            if n not in mods:
                raise Fail("%s of the profile is not in the template" % n)
            f, fv = mods[n]
            got = (host[n] & ~f) | (fv & f)
            if got != v and n != "CLIDR_EL1":
                # CLIDR_EL1: arch/aarch64/mod.rs override_clidr writes the
                # host's cache fields after the template.
                raise Fail("%s on %s: 0x%x, the profile says 0x%x" % (
                    n, os.path.basename(path), got, v))
    return "%d registers, vCPU features 0x%x; applied on %d source host(s)" % (
        len(mods), want_feat, len(sources))


# ---------------------------------------------------------------------------
# QEMU over QMP.

def qmp(argv, cmds, timeout=60):
    """Runs QEMU with -qmp stdio and CMDS; the answers, or Fail with
    QEMU's own message."""
    lines = [json.dumps({"execute": "qmp_capabilities"})]
    lines += [json.dumps(c) for c in cmds]
    lines.append(json.dumps({"execute": "quit"}))
    p = subprocess.run(argv + ["-S", "-nodefaults", "-display", "none",
                               "-qmp", "stdio"],
                       input="\n".join(lines) + "\n", capture_output=True,
                       text=True, timeout=timeout)
    answers = []
    for line in p.stdout.splitlines():
        try:
            o = json.loads(line)
        except ValueError:
            continue
        if "return" in o or "error" in o:
            answers.append(o)
    if len(answers) < len(cmds) + 1:
        raise Fail("QEMU: %s" % (p.stderr.strip().splitlines() or
                                 ["exit %d" % p.returncode])[-1])
    for c, a in zip(cmds, answers[1:]):
        if "error" in a:
            raise Fail("QEMU %s: %s" % (c["execute"], a["error"].get("desc")))
    return [a["return"] for a in answers[1:len(cmds) + 1]]


def cpu_value(text):
    vals = [ln[len("-cpu "):] for ln in text.splitlines()
            if ln.startswith("-cpu ")]
    if len(vals) != 1:
        raise Fail("no single '-cpu VALUE' line")
    return vals[0]


def qemu_flags(ctx):
    if "qemu_flags" not in ctx:
        out = subprocess.run([QEMU_X86, "-cpu", "help"], capture_output=True,
                             text=True).stdout
        part = out.split("Recognized CPUID flags:", 1)
        ctx["qemu_flags"] = set(part[1].split()) if len(part) == 2 else set()
    return ctx["qemu_flags"]


def judge_qemu_x86(name, prof, text, sources, ctx):
    cat, flags = ctx["x86cat"]
    value = cpu_value(text)
    parts = value.split(",")
    if parts[-1] != "enforce":
        raise Fail("the value does not end in enforce")
    path = "/machine/unattached/device[0]"
    props = ["feature-words", "filtered-features", "level", "xlevel",
             "vendor", "family", "model", "stepping", "phys-bits",
             "tsc-frequency"]
    res = qmp([QEMU_X86, "-machine", "pc", "-accel", "tcg", "-cpu",
               ",".join(parts[:-1])],
              [{"execute": "qom-get", "arguments": {"path": path,
                                                    "property": p}}
               for p in props])
    got = dict(zip(props, res))
    req = {}
    for wd in got["feature-words"] + got["filtered-features"]:
        key = (wd["cpuid-input-eax"], wd.get("cpuid-input-ecx", 0),
               wd["cpuid-register"].lower())
        req[key] = req.get(key, 0) | wd["features"]
    regs = x86_regs(prof)
    want = feature_bits(regs, cat, flags)
    vend = vendor(regs)
    dropped = set(ctx["export"]["dropped"])
    known = qemu_flags(ctx)
    for key, q in sorted(req.items()):
        considered = cat.get(key, {}).get("flag", 0) & ~derived_mask(key, vend)
        w = want.get(key, 0)
        for b in range(32):
            m = 1 << b
            n = bit_name(cat, key, b)
            if (w & m) and not (q & m):
                field_name = n.rsplit(".", 1)[1]
                if n not in dropped:
                    raise Fail("%s: QEMU dropped it" % n)
                if field_name.replace("_", "-") in known:
                    raise Fail("%s: left out, but this QEMU knows %s" % (
                        n, field_name.replace("_", "-")))
            if (q & m) and (considered & m) and not (w & m):
                raise Fail("%s: QEMU adds it" % n)
    checks = [("level", regs.get((0, 0, "eax"), 0)),
              ("xlevel", regs.get((0x80000000, 0, "eax"), 0)),
              ("vendor", vend)]
    sig = regs.get((1, 0, "eax"), 0)
    if sig:
        checks += [("family", (sig >> 20 & 0xff) + (sig >> 8 & 0xf)),
                   ("model", (sig >> 12 & 0xf0) + (sig >> 4 & 0xf)),
                   ("stepping", sig & 0xf)]
    a8 = regs.get((0x80000008, 0, "eax"), 0) & 0xff
    if a8:
        checks.append(("phys-bits", a8))
    for prop, v in checks:
        if got[prop] != v:
            raise Fail("QEMU's %s is %r, the profile's %r" % (prop, got[prop], v))
    return "%d CPUID words resolved as the profile's feature bits, %d left " \
        "out (QEMU 7.2 knows none of their names)" % (len(req), len(dropped))


def judge_qemu_arm64(name, prof, text, sources, ctx):
    value = cpu_value(text)
    parts = value.split(",")
    if parts[0] != "host":
        raise Fail("the value is not for -cpu host")
    props = {}
    for p in parts[1:]:
        k, _, v = p.partition("=")
        if v not in ("on", "off"):
            raise Fail("property %s: %r" % (k, v))
        props[k] = v == "on"
    regs = arm64_regs(prof)
    pmu, sve, pauth = arm64_wants(regs)
    if props.get("pmu") != pmu or props.get("sve") != sve or \
            props.get("pauth", False) != pauth:
        raise Fail("pmu/sve/pauth %s, the ID registers say %s" % (
            (props.get("pmu"), props.get("sve"), props.get("pauth", False)),
            (pmu, sve, pauth)))
    vls = hexint(prof.get("arm64", {}).get("kvm_facts", {}).get("SVE_VLS",
                                                                 "0x0"))
    for q in range(16):
        k = "sve%d" % (128 * (q + 1))
        if vls and sve and (k in props) != (vls >> q != 0):
            raise Fail("%s given or left out against SVE_VLS 0x%x" % (k, vls))
        if k in props and props[k] != bool(vls >> q & 1):
            raise Fail("%s=%s against SVE_VLS 0x%x" % (k, props[k], vls))
    # QEMU knows every property (on max under TCG) and resolves them.
    res = qmp([QEMU_ARM, "-machine", "virt", "-accel", "tcg", "-cpu",
               ",".join(["max"] + parts[1:])],
              [{"execute": "query-cpu-model-expansion",
                "arguments": {"type": "full",
                              "model": {"name": "max", "props": props}}}])
    exp = res[0]["model"]["props"]
    for k, v in props.items():
        if exp.get(k) != v:
            raise Fail("QEMU resolved %s to %r, asked %r" % (k, exp.get(k), v))
    # Said plainly: every register QEMU cannot set, with its value.
    for n, v in regs.items():
        line = "not set by QEMU: %s = 0x%016x" % (n, v)
        if line not in text:
            raise Fail("the export does not say '%s'" % line)
    return "QEMU resolved %d properties; %d registers named as not set by " \
        "QEMU" % (len(props), len(regs))


# ---------------------------------------------------------------------------

def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def collect_profiles(tmp):
    """[(name, profile path, [source report paths])]."""
    reports, profiles = [], []
    for d, _, files in sorted(os.walk(DATA)):
        for f in sorted(files):
            if not f.endswith(".json"):
                continue
            p = os.path.join(d, f)
            try:
                schema = load(p).get("schema")
            except (ValueError, AttributeError):
                continue
            if schema == "cpufleet.report/v1":
                reports.append(p)
            elif schema == "cpufleet.profile/v1":
                profiles.append(p)
    out = []
    for p in profiles:
        rel = os.path.relpath(p, DATA)
        if rel not in SOURCES:
            raise Fail("%s: a profile document whose sources are not in "
                       "SOURCES" % rel)
        src_dir = os.path.join(DATA, SOURCES[rel])
        hosts = set(load(p).get("hosts", []))
        srcs = [r for r in reports if os.path.dirname(r) == src_dir and
                load(r)["host"]["id"] in hosts]
        if len(srcs) != len(hosts):
            raise Fail("%s: %d hosts, %d reports found in %s" % (
                rel, len(hosts), len(srcs), SOURCES[rel]))
        out.append((rel, p, srcs))
    for r in reports:
        rel = os.path.relpath(r, DATA)
        dst = os.path.join(tmp, rel.replace("/", "_"))
        p = subprocess.run([CPUFLEET, "baseline", "-q", "-o", dst, r],
                           capture_output=True, text=True)
        if p.returncode:
            raise Fail("%s: cpufleet baseline: %s" % (rel, p.stderr.strip()))
        out.append((rel + " (own profile)", dst, [r]))
    return out


def expected_refusal(prof, fmt):
    """The reason a format must refuse PROF, by this test's reading."""
    if prof.get("arch") != "arm64":
        return None
    if fmt == "libvirt":
        return "arm64"
    regs = arm64_regs(prof)
    vls = hexint(prof["arm64"].get("kvm_facts", {}).get("SVE_VLS", "0x0"))
    if fmt == "firecracker" and field(regs, SVE) and vls:
        return "SVE_VLS"
    return None


# ---------------------------------------------------------------------------
# cpufleet import --format firecracker: Firecracker's own templates applied
# by cpufleet against tools/dev/firecracker2report.py (a Python
# transcription of CpuConfiguration::apply_template), and V1N1 against this
# test's own reading of the bitmaps.

def fixtures_dir():
    cands = [os.environ.get("CPUFLEET_FIXTURES") or
             os.path.join(ROOT, "..", "shared", "fixtures")]
    common = subprocess.run(["git", "-C", ROOT, "rev-parse",
                             "--path-format=absolute", "--git-common-dir"],
                            capture_output=True, text=True).stdout.strip()
    if common and not os.environ.get("CPUFLEET_FIXTURES"):
        cands.append(os.path.join(os.path.dirname(common), "..", "shared",
                                  "fixtures"))
    for c in cands:
        d = os.path.join(c, "firecracker")
        if os.path.isfile(os.path.join(d, "T2.json")):
            return os.path.normpath(d)
    return None


def run_import(tmp, host, template, out):
    p = subprocess.run([CPUFLEET, "import", "--format", "firecracker",
                        "--host", host, "-o", out, template],
                       capture_output=True, text=True)
    if p.returncode:
        raise Fail("cpufleet import: exit %d: %s" % (p.returncode,
                                                     p.stderr.strip()))
    return load(out)


def import_checks(tmp, ctx):
    """[(label, ok, what)]."""
    fx = fixtures_dir()
    if not fx:
        return [("import firecracker", None, "no Firecracker fixtures in "
                 "../shared/fixtures/firecracker")]
    cat, _ = ctx["x86cat"]
    conv = [sys.executable, os.path.join(ROOT, "tools", "dev",
                                         "firecracker2report.py")]
    fp = os.path.join(fx, "fingerprint_INTEL_CASCADELAKE_6.1host.json")
    other = os.path.join(fx, "fingerprint_INTEL_ICELAKE_6.1host.json")
    host, ice = os.path.join(tmp, "cl.json"), os.path.join(tmp, "icl.json")
    subprocess.run(conv + ["-o", host, fp], check=True, capture_output=True)
    subprocess.run(conv + ["-o", ice, other], check=True, capture_output=True)
    out = []
    for t in ("T2", "T2S", "T2CL"):
        label = "import firecracker %s.json on Cascade Lake" % t
        try:
            tpl = os.path.join(fx, t + ".json")
            prof = run_import(tmp, host, tpl, os.path.join(tmp, t + ".json"))
            want_path = os.path.join(tmp, t + "-want.json")
            subprocess.run(conv + ["-t", tpl, "-o", want_path, fp], check=True,
                           capture_output=True)
            want, got = x86_regs(load(want_path)), x86_regs(prof)
            n = 0
            for key, v in want.items():
                ign = cat.get(key, {}).get("ignore", 0)
                if (got.get(key, 0) ^ v) & ~ign:
                    raise Fail("%s: cpufleet 0x%x, firecracker2report 0x%x" % (
                        reg_label(key), got.get(key, 0), v))
                n += 1
            verdicts = []
            for h in (host, ice):
                p = subprocess.run([CPUFLEET, "check", "--profile",
                                    os.path.join(tmp, t + ".json"), h],
                                   capture_output=True, text=True)
                if p.returncode not in (0, 1):
                    raise Fail("cpufleet check: exit %d: %s" % (
                        p.returncode, p.stderr.strip()))
                verdicts.append("compatible" if p.returncode == 0 else
                                "INCOMPATIBLE")
            out.append((label, True, "%d registers as Firecracker applies "
                        "them; check: Cascade Lake %s, Ice Lake %s" % (
                            n, verdicts[0], verdicts[1])))
        except (Fail, subprocess.CalledProcessError) as e:
            out.append((label, False, str(e)))
    label = "import firecracker V1N1.json on fleet/v1-01"
    try:
        v1 = os.path.join(DATA, "fleet", "v1-01.json")
        tpl = load(os.path.join(fx, "V1N1.json"))
        prof = run_import(tmp, v1, os.path.join(fx, "V1N1.json"),
                          os.path.join(tmp, "v1n1.json"))
        names = {(0x6030000000130000 | k): n for n, (kind, k) in
                 ctx["armcat"].items() if kind == "sys"}
        host, got = arm64_regs(load(v1)), arm64_regs(prof)
        for m in tpl["reg_modifiers"]:
            n = names[int(m["addr"], 16)]
            f, v = fc_bitmap(m["bitmap"], 128, n)
            if got[n] != (host[n] & ~f) | (v & f):
                raise Fail("%s: cpufleet 0x%x, the bitmap gives 0x%x" % (
                    n, got[n], (host[n] & ~f) | (v & f)))
        p = subprocess.run([CPUFLEET, "check", "--profile",
                            os.path.join(tmp, "v1n1.json"),
                            os.path.join(DATA, "fleet", "n1-01.json")],
                           capture_output=True, text=True)
        if p.returncode not in (0, 1):
            raise Fail("cpufleet check: exit %d" % p.returncode)
        out.append((label, True, "%d registers as the bitmaps say; check "
                    "on n1-01: %s" % (len(tpl["reg_modifiers"]),
                                      "compatible" if p.returncode == 0
                                      else "INCOMPATIBLE")))
    except Fail as e:
        out.append((label, False, str(e)))
    return out


def main():
    if not os.access(CPUFLEET, os.X_OK):
        print("tests/exports/run.py: %s: not an executable" % CPUFLEET,
              file=sys.stderr)
        return 2
    tmp = tempfile.mkdtemp(prefix="cpufleet-exports-")
    have = {"qemu_x86": shutil.which(QEMU_X86),
            "qemu_arm": shutil.which(QEMU_ARM),
            "cpu_map": os.path.isfile(os.path.join(CPU_MAP,
                                                   "x86_features.xml"))}
    virsh = shutil.which(os.environ.get("VIRSH", "virsh"))
    lvp = None
    if virsh and have["cpu_map"]:
        import importlib.util
        spec = importlib.util.spec_from_file_location(
            "cpufleet_libvirt_check", os.path.join(ROOT, "tests", "x86",
                                                   "libvirt.py"))
        lvp = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(lvp)
    ctx = {"virsh": virsh if lvp else None, "libvirt_py": lvp,
           "lv_feats": lvp.load_features(CPU_MAP) if lvp else None,
           "lv_vendors": lvp.load_vendors(CPU_MAP) if lvp else None,
           "x86cat": x86_catalogue(), "armcat": arm64_catalogue(),
           "cpu_map": cpu_map() if have["cpu_map"] else None,
           "validate": shutil.which(VALIDATE), "tmp": tmp, "notes": set()}
    judges = {("qemu", "x86"): ("qemu_x86", judge_qemu_x86,
                                "qemu-system-x86_64 is not installed "
                                "(Debian: qemu-system-x86)"),
              ("qemu", "arm64"): ("qemu_arm", judge_qemu_arm64,
                                  "qemu-system-aarch64 is not installed "
                                  "(Debian: qemu-system-arm)"),
              ("libvirt", "x86"): ("cpu_map", judge_libvirt,
                                   "libvirt's CPU map is not installed "
                                   "(Debian: libvirt0)"),
              ("firecracker", "x86"): (None, judge_fc_x86, None),
              ("firecracker", "arm64"): (None, judge_fc_arm64, None)}
    passed = failed = skipped = accepted = expected = refused = 0
    dropped_total = 0
    try:
        profs = collect_profiles(tmp)
        for name, path, sources in profs:
            prof = load(path)
            arch = prof.get("arch")
            for fmt in FORMATS:
                label = "%s %s" % (fmt, name)
                p = subprocess.run([CPUFLEET, "export", "--format", fmt,
                                    "--allow-drop", "--json", "--name",
                                    os.path.basename(name), path],
                                   capture_output=True, text=True)
                why = expected_refusal(prof, fmt)
                if why:
                    if p.returncode == 2 and why in p.stderr and not p.stdout:
                        passed += 1
                        refused += 1
                        print("ok - %s: refused, naming %s" % (label, why))
                    else:
                        failed += 1
                        print("FAIL - %s: must be refused naming %s; exit %d: "
                              "%s" % (label, why, p.returncode,
                                      p.stderr.strip()[:200]))
                    continue
                expected += 1
                if p.returncode != 0:
                    failed += 1
                    print("FAIL - %s: exit %d: %s" % (label, p.returncode,
                                                      p.stderr.strip()[:300]))
                    continue
                exp = json.loads(p.stdout)
                dropped_total += len(exp["dropped"])
                need, judge, missing = judges[(fmt, arch)]
                if need and not have[need]:
                    skipped += 1
                    print("skip - %s: %s" % (label, missing))
                    continue
                ctx["export"] = exp
                try:
                    what = judge(name, prof, exp["text"], sources, ctx)
                except Fail as e:
                    failed += 1
                    print("FAIL - %s: %s" % (label, e))
                    continue
                except (OSError, subprocess.SubprocessError, ValueError,
                        KeyError) as e:
                    failed += 1
                    print("FAIL - %s: %s: %s" % (label, type(e).__name__, e))
                    continue
                passed += 1
                accepted += 1
                print("ok - %s: %s" % (label, what))
        for label, ok, what in import_checks(tmp, ctx):
            if ok is None:
                skipped += 1
                print("skip - %s: %s" % (label, what))
            elif ok:
                passed += 1
                print("ok - %s: %s" % (label, what))
            else:
                failed += 1
                print("FAIL - %s: %s" % (label, what))
    except Fail as e:
        failed += 1
        print("FAIL - profiles of tests/data: %s" % e)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for n in sorted(ctx["notes"]):
        print(n)
    note = ""
    if skipped:
        note = " (%d not judged here, each skipped by name above)" % skipped
    print("exports: %d/%d accepted by qemu, libvirt, firecracker%s; %d "
          "refused where the format cannot say the profile; %d feature bits "
          "left out and listed" % (accepted, expected, note, refused,
                                   dropped_total))
    print("%d passed, %d failed, %d skipped" % (passed, failed, skipped))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
