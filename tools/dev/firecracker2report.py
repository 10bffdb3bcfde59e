#!/usr/bin/env python3
"""Convert Firecracker guest CPU fingerprints into cpufleet reports (x86),
optionally through a Firecracker CPU template.

Inputs (the public project firecracker-microvm/firecracker, Apache License
2.0; keep its attribution beside any derived file):

* a fingerprint, `cpu-template-helper fingerprint dump` (its
  tests/data/cpu_template_helper/fingerprint_*.json): `guest_cpu_config`
  holds `cpuid_modifiers` and `msr_modifiers` in the template format, every
  bitmap fully given (`0b` and 32 or 64 of `0`/`1`): the CPUID and MSRs a
  guest sees under Firecracker on that host with no template;
* or a cpufleet x86 report (`cpufleet.report/v1`), to apply a template to
  a report that already exists.

`--template FILE` applies a Firecracker custom CPU template (its
tests/data/custom_cpu_templates/*.json; format in its docs/cpu_templates/
cpu-templates.md and schema.json) the way Firecracker's
CpuConfiguration::apply_template does: for every `cpuid_modifiers` entry
(`leaf`, `subleaf`, `modifiers[]` of `{register, bitmap}`) and every
`msr_modifiers` entry (`addr`, `bitmap`), the bitmap `0b...` (most
significant bit first, `_` ignored, a short bitmap left-padded with `x`)
forces each bit given as `0` or `1` and keeps the host's bit where it says
`x`.  A modifier for a CPUID leaf/subleaf or an MSR the input lacks is an
error, as it is in Firecracker ("Template changes a CPUID entry not
supported by KVM").  The result is the guest's view under the template.
(Firecracker normalises the CPUID after the template: vendor, APIC ids,
topology and cache leaves, which no template line here touches; the
fingerprint already holds the normalised values.)

The report (cpufleet "contract v1", host.arch "x86"):

* `x86.cpuid`: every leaf and subleaf of the input, in (leaf, subleaf)
  order; `x86.vendor` from leaf 0 (EBX EDX ECX);
* `x86.msrs`: the feature MSRs among the input's, i.e. those KVM lists in
  KVM_GET_MSR_FEATURE_INDEX_LIST (Linux arch/x86/kvm/x86.c
  msr_based_features_all_except_vmx: DE_CFG 0xC0011029, ARCH_CAPABILITIES
  0x10A, PERF_CAPABILITIES 0x345, PLATFORM_INFO 0xCE; and the VMX
  capability MSRs 0x480-0x492), without the microcode revision 0x8B, as
  `cpufleet collect` does.  The fingerprint's other MSRs are vCPU state
  (SYSENTER, STAR, PAT, KVM clock...), not features;
* `host.kernel` from the fingerprint's `kernel_version`.

A fingerprint is the guest's view, not KVM_GET_SUPPORTED_CPUID: the
hypervisor bit is set, the XSAVE sizes follow the guest's XCR0, the leaves
Firecracker normalises hold its values.

The host id comes from the file name unless --host-id is given:
`fingerprint_INTEL_CASCADELAKE_6.1host.json` -> `intel-cascadelake-6.1host`,
then `-<template>` for a template (`-t2cl` for T2CL.json); for a report
input, the report's own id, with the same suffix.

Standard library only.  Exit status: 0 done, 2 an error (usage, an input:
the message names the file and the JSON path, or writing).  Outputs are
written durably (temporary file, fsync, rename); `-o -` is standard output.

Examples:
    tools/dev/firecracker2report.py --template T2CL.json \\
        -o cl.json fingerprint_INTEL_CASCADELAKE_6.1host.json
    tools/dev/firecracker2report.py --template T2CL.json -d out FP.json...
    tools/dev/firecracker2report.py --template T2S.json REPORT.json
"""

import json
import os
import re
import sys

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from instlatx2report import (  # noqa: E402
    InputError, check_output_args, convert_all, converter_parser,
    vendor_of)

SCHEMA = "cpufleet.report/v1"
PROG = "firecracker2report"
REGS = ("eax", "ebx", "ecx", "edx")

# KVM_GET_MSR_FEATURE_INDEX_LIST (see the docstring); 0x8B left out.
FEATURE_MSRS = frozenset([0xCE, 0x10A, 0x345, 0xC0011029] +
                         list(range(0x480, 0x493)))

_BITMAP = re.compile(r"^0b[01x_]+$")
_HEX = re.compile(r"^0x[0-9a-fA-F]{1,16}$")
_HOST_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,126}$")


def _err(path, where, msg):
    return InputError("%s: %s: %s" % (path, where, msg))


def parse_bitmap(path, where, s, width):
    """(filter, value) of a template bitmap: filter has a 1 for every bit the
    bitmap forces, value the forced bits."""
    if not isinstance(s, str) or not _BITMAP.match(s):
        raise _err(path, where, "a bitmap is '0b' followed by 0, 1, x or _: "
                   "%r" % (s,))
    bits = s[2:].replace("_", "")
    if len(bits) > width:
        raise _err(path, where, "a bitmap of %d bits for a %d-bit register"
                   % (len(bits), width))
    bits = "x" * (width - len(bits)) + bits
    filt = value = 0
    for ch in bits:
        filt <<= 1
        value <<= 1
        if ch != "x":
            filt |= 1
            value |= ch == "1"
    return filt, value


def apply_bitmap(host, filt, value):
    """The register as the template leaves it: forced bits from VALUE, the
    others from HOST."""
    return (host & ~filt) | (value & filt)


def _hexnum(path, where, s, limit):
    if not isinstance(s, str) or not _HEX.match(s) or int(s, 16) > limit:
        raise _err(path, where, "expected a hex string 0x... up to 0x%x: %r"
                   % (limit, s))
    return int(s, 16)


def _modifier_lists(path, doc):
    for key in ("cpuid_modifiers", "msr_modifiers"):
        if not isinstance(doc.get(key, []), list):
            raise _err(path, "$." + key, "expected an array")
    return doc.get("cpuid_modifiers", []), doc.get("msr_modifiers", [])


def parse_config(path, cfg, exact):
    """{(leaf, subleaf): [eax, ebx, ecx, edx]} and {addr: value} of a
    template-format CPU configuration.  EXACT: every bitmap must give every
    bit (a dump, not a template)."""
    cpuid_mods, msr_mods = _modifier_lists(path, cfg)
    cpuid, msrs = {}, {}
    for i, leaf in enumerate(cpuid_mods):
        where = "$.cpuid_modifiers[%d]" % i
        if not isinstance(leaf, dict) or \
                not isinstance(leaf.get("modifiers"), list):
            raise _err(path, where, "expected an object with leaf, subleaf "
                       "and a modifiers array")
        key = (_hexnum(path, where + ".leaf", leaf.get("leaf"), 0xFFFFFFFF),
               _hexnum(path, where + ".subleaf", leaf.get("subleaf"),
                       0xFFFFFFFF))
        if key in cpuid:
            raise _err(path, where, "leaf %#x subleaf %#x listed twice" % key)
        regs = cpuid[key] = [None] * 4
        for j, m in enumerate(leaf["modifiers"]):
            w = "%s.modifiers[%d]" % (where, j)
            if not isinstance(m, dict) or m.get("register") not in REGS:
                raise _err(path, w, "expected {register: eax|ebx|ecx|edx, "
                           "bitmap}")
            r = REGS.index(m["register"])
            if regs[r] is not None:
                raise _err(path, w, "register %s given twice" % m["register"])
            filt, value = parse_bitmap(path, w + ".bitmap", m.get("bitmap"), 32)
            if exact and filt != 0xFFFFFFFF:
                raise _err(path, w + ".bitmap", "a dump gives every bit "
                           "(no x)")
            regs[r] = (filt, value)
    for i, m in enumerate(msr_mods):
        where = "$.msr_modifiers[%d]" % i
        if not isinstance(m, dict):
            raise _err(path, where, "expected {addr, bitmap}")
        addr = _hexnum(path, where + ".addr", m.get("addr"), 0xFFFFFFFF)
        if addr in msrs:
            raise _err(path, where, "MSR %#x listed twice" % addr)
        filt, value = parse_bitmap(path, where + ".bitmap", m.get("bitmap"), 64)
        if exact and filt != (1 << 64) - 1:
            raise _err(path, where + ".bitmap", "a dump gives every bit (no x)")
        msrs[addr] = (filt, value)
    return cpuid, msrs


def from_fingerprint(path, doc):
    cfg = doc.get("guest_cpu_config")
    if not isinstance(cfg, dict):
        raise _err(path, "$.guest_cpu_config", "expected an object")
    mods, msr_mods = parse_config(path, cfg, True)
    cpuid = {}
    for key, regs in mods.items():
        if None in regs:
            raise _err(path, "$.cpuid_modifiers", "leaf %#x subleaf %#x lacks "
                       "a register" % key)
        cpuid[key] = [v for _, v in regs]
    msrs = {a: v for a, (_, v) in msr_mods.items()}
    kernel = doc.get("kernel_version")
    return cpuid, msrs, kernel if isinstance(kernel, str) else None


def from_report(path, doc):
    x86 = doc.get("x86")
    if doc.get("schema") != SCHEMA or not isinstance(x86, dict) or \
            not isinstance(x86.get("cpuid"), list):
        raise _err(path, "$", "expected a cpufleet.report/v1 x86 report")
    cpuid = {}
    for i, e in enumerate(x86["cpuid"]):
        where = "$.x86.cpuid[%d]" % i
        if not isinstance(e, dict):
            raise _err(path, where, "expected an object")
        key = (_hexnum(path, where + ".leaf", e.get("leaf"), 0xFFFFFFFF),
               _hexnum(path, where + ".subleaf", e.get("subleaf"), 0xFFFFFFFF))
        cpuid[key] = [_hexnum(path, where + "." + r, e.get(r), 0xFFFFFFFF)
                      for r in REGS]
    msrs = {}
    for a, v in (x86.get("msrs") or {}).items():
        msrs[_hexnum(path, "$.x86.msrs", a, 0xFFFFFFFF)] = \
            _hexnum(path, "$.x86.msrs." + a, v, (1 << 64) - 1)
    return cpuid, msrs


def apply_template(path, tmpl, cpuid, msrs):
    """CPUID and MSRs as the guest sees them under the template TMPL (parsed
    from PATH)."""
    mods, msr_mods = parse_config(path, tmpl, False)
    for key, regs in sorted(mods.items()):
        if key not in cpuid:
            raise _err(path, "$.cpuid_modifiers", "changes leaf %#x subleaf "
                       "%#x, which the input does not have" % key)
        for r, m in enumerate(regs):
            if m is not None:
                cpuid[key][r] = apply_bitmap(cpuid[key][r], *m)
    for addr, m in sorted(msr_mods.items()):
        if addr not in msrs:
            raise _err(path, "$.msr_modifiers", "changes MSR %#x, which the "
                       "input does not have" % addr)
        msrs[addr] = apply_bitmap(msrs[addr], *m)


def host_id_of(path, template):
    base = os.path.basename(path)
    m = re.match(r"^fingerprint_(.+)\.json$", base)
    hid = (m.group(1) if m else os.path.splitext(base)[0]).lower()
    if template:
        hid += "-" + os.path.splitext(os.path.basename(template))[0].lower()
    return re.sub(r"[^a-z0-9.-]+", "-", hid).strip("-")


def _load(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except OSError as e:
        raise InputError("%s: %s" % (path, e.strerror or e))
    except (UnicodeDecodeError, ValueError) as e:
        raise InputError("%s: not a JSON document (%s)" % (path, e))


def build_report(path, template_path=None, host_id=None):
    doc = _load(path)
    if not isinstance(doc, dict):
        raise _err(path, "$", "expected an object")
    kernel = None
    if "guest_cpu_config" in doc:
        cpuid, msrs, kernel = from_fingerprint(path, doc)
        hid = host_id or host_id_of(path, template_path)
    else:
        cpuid, msrs = from_report(path, doc)
        host = doc.get("host") if isinstance(doc.get("host"), dict) else {}
        kernel = host.get("kernel")
        hid = host_id or (str(host.get("id", "")) + (
            "-" + os.path.splitext(os.path.basename(template_path))[0].lower()
            if template_path else ""))
    if template_path:
        tmpl = _load(template_path)
        if not isinstance(tmpl, dict):
            raise _err(template_path, "$", "expected an object")
        apply_template(template_path, tmpl, cpuid, msrs)
    if not _HOST_ID.match(hid):
        raise InputError("%s: the host id %r is not usable; give --host-id"
                         % (path, hid))
    table = {k: tuple(v) for k, v in cpuid.items()}
    vendor = vendor_of(table, path)
    out = []
    for (leaf, sub) in sorted(table):
        e = {"leaf": "0x%08x" % leaf, "subleaf": "0x%08x" % sub}
        for r, v in zip(REGS, table[(leaf, sub)]):
            e[r] = "0x%08x" % v
        out.append(e)
    x86 = {"vendor": vendor, "cpuid": out}
    feat = {"0x%08x" % a: "0x%016x" % msrs[a]
            for a in sorted(msrs) if a in FEATURE_MSRS}
    if feat:
        x86["msrs"] = feat
    host = {"id": hid, "hostname": hid, "arch": "x86"}
    if kernel:
        host["kernel"] = kernel
    return hid, {"schema": SCHEMA, "host": host, "x86": x86}


def main(argv=None):
    p = converter_parser(
        "firecracker2report.py",
        "Convert Firecracker guest CPU fingerprints (or cpufleet x86 "
        "reports) into cpufleet.report/v1 documents, optionally as the "
        "guest sees them under a Firecracker CPU template.", "input",
        "fingerprint_*.json or a cpufleet x86 report")
    p.add_argument("-t", "--template", metavar="TEMPLATE",
                   help="a Firecracker custom CPU template (JSON) to apply")
    args = p.parse_args(argv)
    check_output_args(p, args, len(args.inputs), "input")
    return convert_all(
        PROG, args.inputs,
        lambda path: build_report(path, args.template, args.host_id),
        args.out_dir, args.output)


if __name__ == "__main__":
    sys.exit(main())
