#!/usr/bin/env python3
"""cpufleet's verdicts against a peer's practice: Firecracker's T2CL.

Firecracker's T2CL CPU template exists so that guests move between Intel
Cascade Lake and Ice Lake hosts (Firecracker docs/cpu_templates; the
fixtures' README).  Firecracker publishes the guest CPU configuration of
both CPUs under host kernels 6.1 and 6.18 (its
tests/data/cpu_template_helper/fingerprint_*.json) and the template (its
tests/data/custom_cpu_templates/T2CL.json).  This test

  1. converts each fingerprint with T2CL applied into a report
     (tools/dev/firecracker2report.py), and spot-checks the conversion
     against values worked out by hand from the fixture files;
  2. for every ordered pair (Cascade Lake, Ice Lake) of those guests, takes
     the first as the profile (`cpufleet baseline` of its report) and the
     second as the host (`cpufleet check --json`), and compares the verdict
     and the (register, field) of every reason with EXPECTED below;
  3. the same with each report's own profile (`cpufleet explain --json`),
     a copy of the report that no baseline has cleared.

EXPECTED is what a guest under T2CL may and may not meet on the other host,
reason by reason, from the SDM and Firecracker's data (not from cpufleet):
a Cascade Lake guest runs on Ice Lake (the template's purpose; the leaf 0xD
sub-leaves 3 and 4 it still lists describe MPX state that T2CL removes from
XCR0, SDM Vol. 2A CPUID leaf 0DH: such a sub-leaf is invalid); the reasons
left are the places where cpufleet stays stricter than T2CL, each listed
in README.md ("Firecracker's T2CL") with its reason.

The fixtures are read from ../shared/fixtures/firecracker beside the
repository (CPUFLEET_FIXTURES=DIR overrides; in a git worktree, beside the
main checkout too).  Without them the test prints a `skip` line naming the
directory and exits 0.

Output: `ok - NAME` / `FAIL - NAME: why`, then `N passed, N failed`; exit 1
when a check failed.  Run from anywhere after `make`:
    python3 tests/x86/firecracker.py
Environment: CPUFLEET (default build/cpufleet), CPUFLEET_FIXTURES.
Standard library only.
"""

import json
import os
import stat
import subprocess
import sys
import tempfile
import threading

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
CPUFLEET = os.environ.get("CPUFLEET", os.path.join(ROOT, "build", "cpufleet"))
CONVERT = os.path.join(ROOT, "tools", "dev", "firecracker2report.py")

CPUS = ("CASCADELAKE", "ICELAKE")
KERNELS = ("6.1", "6.18")

# (profile cpu, profile kernel, host cpu, host kernel) -> the reasons
# (register, field) cpufleet gives; an empty set means compatible.
PSFD = ("CPUID_00000007_2_EDX", "intel_psfd")
VIRT_BITS = ("CPUID_80000008_0_EAX", "virt_bits")
RRSBA = ("IA32_ARCH_CAPABILITIES", "rrsba")
FLUSH_L1D = ("CPUID_00000007_0_EDX", "flush_l1d")
GUEST_PHYS_BITS = ("CPUID_80000008_0_EAX", "guest_phys_bits")
EXPECTED = {
    # Cascade Lake guests on Ice Lake: what T2CL is for.  The two guests
    # differ (besides per-vCPU cache, topology and brand leaves) in the
    # highest leaf and leaf-7 subleaf, which are the guest's own; in the
    # linear-address width (48 < 57); in RRSBA (IA32_ARCH_CAPABILITIES
    # bit 19, set on Cascade Lake: telling a guest of a weakness the host
    # lacks is harmless); and in XSAVE sub-leaves 3 and 4 (MPX), which only
    # Cascade Lake lists and T2CL removes from XCR0 (0xD.0 EAX bits 3, 4).
    ("CASCADELAKE", "6.1", "ICELAKE", "6.1"): set(),
    ("CASCADELAKE", "6.18", "ICELAKE", "6.18"): set(),
    ("CASCADELAKE", "6.1", "ICELAKE", "6.18"): set(),
    # A 6.18 host's KVM offers FLUSH_L1D (7.0 EDX[28]) and fills the guest
    # physical address width (0x80000008 EAX[23:16]); a 6.1 host's does
    # neither (the fingerprints).  T2CL passes both through.
    ("CASCADELAKE", "6.18", "ICELAKE", "6.1"): {FLUSH_L1D, GUEST_PHYS_BITS},
    # Ice Lake guests on Cascade Lake: T2CL passes leaf 7.2 (PSFD, EDX[0]),
    # 0x80000008 EAX (57-bit linear addresses) and ARCH_CAPABILITIES.RRSBA
    # (bit 19 is `x` in its 0x10A bitmap) through from the Ice Lake host.
    # The Ice Lake guest's higher maximum leaf (0x1B > 0x16) and leaf-7
    # subleaf (2 > 0) are its own (KVM answers CPUID from the VMM's table),
    # and its leaves 0x17-0x1B and 7.1 are all zero.
    ("ICELAKE", "6.1", "CASCADELAKE", "6.1"): {PSFD, VIRT_BITS, RRSBA},
    ("ICELAKE", "6.18", "CASCADELAKE", "6.18"): {PSFD, VIRT_BITS, RRSBA},
    ("ICELAKE", "6.1", "CASCADELAKE", "6.18"): {PSFD, VIRT_BITS, RRSBA},
    ("ICELAKE", "6.18", "CASCADELAKE", "6.1"): {PSFD, VIRT_BITS, RRSBA,
                                                FLUSH_L1D, GUEST_PHYS_BITS},
}

passed = failed = 0


def ok(name):
    global passed
    passed += 1
    print("ok - " + name)


def fail(name, why):
    global failed
    failed += 1
    print("FAIL - %s: %s" % (name, why))


def fixtures_dir():
    """The firecracker fixture directory, or (None, where it was looked
    for)."""
    cands = []
    if os.environ.get("CPUFLEET_FIXTURES"):
        cands.append(os.environ["CPUFLEET_FIXTURES"])
    else:
        cands.append(os.path.join(ROOT, "..", "shared", "fixtures"))
        # A git worktree lives elsewhere: look beside the main checkout.
        try:
            common = subprocess.run(
                ["git", "-C", ROOT, "rev-parse", "--path-format=absolute",
                 "--git-common-dir"], capture_output=True, text=True,
                check=False).stdout.strip()
        except OSError:
            common = ""
        if common:
            cands.append(os.path.join(os.path.dirname(common), "..",
                                      "shared", "fixtures"))
    for c in cands:
        d = os.path.join(c, "firecracker")
        if os.path.isfile(os.path.join(d, "T2CL.json")):
            return os.path.normpath(d), None
    return None, " or ".join(os.path.normpath(os.path.join(c, "firecracker"))
                             for c in cands)


def fingerprint(fx, cpu, kernel):
    return os.path.join(fx, "fingerprint_INTEL_%s_%shost.json" % (cpu, kernel))


def cpuid_of(report, leaf, sub, reg):
    for e in report["x86"]["cpuid"]:
        if int(e["leaf"], 16) == leaf and int(e["subleaf"], 16) == sub:
            return int(e[reg], 16)
    return None


def spot_checks(fx, tmp, reports):
    """Values worked out by hand from the fixture files (bitmaps written
    most significant bit first)."""
    cl = reports[("CASCADELAKE", "6.1")]
    il = reports[("ICELAKE", "6.1")]
    name = "convert: T2CL clears MPX, AVX-512 and PKRU from XCR0"
    # CL fingerprint 0xD.0 EAX = 0x2ff; T2CL 0xd.0 eax bitmap
    # ...0x00000xxx forces bits 9 and 7..3 to 0: 0x007.
    got = cpuid_of(cl, 0xD, 0, "eax")
    if got == 0x7:
        ok(name)
    else:
        fail(name, "0xD.0 EAX is %r, want 0x7" % got)
    name = "convert: T2CL leaf 7.0 EBX on both CPUs"
    # 7.0 EBX: CL 0xd19f67eb, IL 0xf1bf27eb; T2CL bitmap
    # 00000000000x000000x00x1xxxx0x0xx keeps bits 20, 13, 10, 8..5, 3, 1, 0
    # and sets bit 9: both give 0x001027eb.
    got = (cpuid_of(cl, 7, 0, "ebx"), cpuid_of(il, 7, 0, "ebx"))
    if got == (0x1027eb, 0x1027eb):
        ok(name)
    else:
        fail(name, "7.0 EBX is %r, want 0x1027eb on both" % (got,))
    name = "convert: feature MSRs only, ARCH_CAPABILITIES as the host gives"
    # msr_modifiers 0x10a: CL 0xc0aa0eb (RRSBA, bit 19, set), IL 0xc02a0eb;
    # T2CL forces only bits already 0 there.  0xce PLATFORM_INFO
    # 0x80000000.  The microcode revision 0x8b and the vCPU state MSRs
    # (0x11, 0x174, 0xc0000081...) are not features.
    want = {"0x0000010a": "0x000000000c0aa0eb",
            "0x000000ce": "0x0000000080000000"}
    if cl["x86"].get("msrs") == want:
        ok(name)
    else:
        fail(name, "msrs %r, want %r" % (cl["x86"].get("msrs"), want))
    name = "convert: -o onto a FIFO writes through it, the FIFO stays"
    fifo = os.path.join(tmp, "fifo")
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(open(fifo).read()),
                              daemon=True)
    reader.start()
    r = subprocess.run([sys.executable, CONVERT, "-o", fifo,
                        fingerprint(fx, "ICELAKE", "6.1")],
                       capture_output=True, text=True, timeout=60)
    reader.join(10)
    if r.returncode != 0 or not stat.S_ISFIFO(os.lstat(fifo).st_mode):
        fail(name, "exit %d (%s); a FIFO still: %s" % (
            r.returncode, r.stderr.strip(),
            stat.S_ISFIFO(os.lstat(fifo).st_mode)))
    elif not got or json.loads(got[0]).get("schema") != "cpufleet.report/v1":
        fail(name, "the reader got %r" % (got[0][:80] if got else None))
    else:
        ok(name)
    name = "convert: a template changing a leaf the input lacks is refused"
    bad = os.path.join(tmp, "bad-template.json")
    with open(bad, "w") as f:
        json.dump({"cpuid_modifiers": [{"leaf": "0x7", "subleaf": "0x5",
                   "flags": 0, "modifiers": [{"register": "eax",
                                              "bitmap": "0b1"}]}]}, f)
    r = subprocess.run([sys.executable, CONVERT, "-t", bad,
                        fingerprint(fx, "ICELAKE", "6.1")],
                       capture_output=True, text=True)
    if r.returncode == 2 and not r.stdout and "0x7 subleaf 0x5" in r.stderr:
        ok(name)
    else:
        fail(name, "exit %d, stderr %r" % (r.returncode, r.stderr.strip()))


def main():
    fx, looked = fixtures_dir()
    if fx is None:
        print("skip - firecracker: no Firecracker fixtures at %s" % looked)
        # counted: make check sums this suite's count lines, not its skip lines
        print("firecracker: 0 passed, 0 failed, 1 skipped")
        return 0
    if not os.access(CPUFLEET, os.X_OK):
        print("FAIL - setup: %s is not built (run make)" % CPUFLEET)
        return 1
    tmp = tempfile.mkdtemp(prefix="cpufleet-fc-")
    reports, paths = {}, {}
    for cpu in CPUS:
        for k in KERNELS:
            out = os.path.join(tmp, "%s-%s.json" % (cpu.lower(), k))
            r = subprocess.run([sys.executable, CONVERT, "-t",
                                os.path.join(fx, "T2CL.json"), "-o", out,
                                fingerprint(fx, cpu, k)],
                               capture_output=True, text=True)
            name = "convert %s %s with T2CL" % (cpu, k)
            if r.returncode != 0:
                fail(name, r.stderr.strip())
                return 1
            ok(name)
            paths[(cpu, k)] = out
            with open(out) as f:
                reports[(cpu, k)] = json.load(f)
    spot_checks(fx, tmp, reports)

    for (pcpu, pk, hcpu, hk), want in sorted(EXPECTED.items()):
        name = "check %s %s guest on %s %s host" % (pcpu, pk, hcpu, hk)
        prof = os.path.join(tmp, "profile-%s-%s.json" % (pcpu.lower(), pk))
        b = subprocess.run([CPUFLEET, "baseline", "-q", "-o", prof,
                            paths[(pcpu, pk)]], capture_output=True, text=True)
        if b.returncode != 0:
            fail(name, "baseline exit %d: %s" % (b.returncode,
                                                 b.stderr.strip()))
            continue
        c = subprocess.run([CPUFLEET, "check", "--json", "--profile", prof,
                            paths[(hcpu, hk)]], capture_output=True, text=True)
        try:
            res = json.loads(c.stdout)["verdicts"][0]
            got = {(d["register"], d.get("field")) for d in res["reasons"]}
        except (ValueError, KeyError, IndexError, TypeError):
            fail(name, "check exit %d, output %r" % (c.returncode,
                                                     c.stdout[:200]))
            continue
        if c.returncode != (1 if want else 0) or res["compatible"] != (
                not want):
            fail(name, "exit %d, compatible %s, want %s; reasons: %s" % (
                c.returncode, res["compatible"], not want,
                "; ".join(d.get("text", "") for d in res["reasons"]) or
                "none"))
        elif got != want:
            fail(name, "reasons %s, want %s" % (
                sorted(got, key=str), sorted(want)))
        else:
            ok(name)
    # `explain` judges each report's own profile, a copy of the report that
    # no baseline has cleared: the MPX sub-leaves are still there.
    for k in KERNELS:
        for k2 in KERNELS:
            name = "explain CASCADELAKE %s / ICELAKE %s" % (k, k2)
            e = subprocess.run([CPUFLEET, "explain", "--json",
                                paths[("CASCADELAKE", k)],
                                paths[("ICELAKE", k2)]],
                               capture_output=True, text=True)
            try:
                vs = json.loads(e.stdout)["verdicts"]
                got = [{(d["register"], d.get("field"))
                        for d in v["reasons"]} for v in vs]
            except (ValueError, KeyError, TypeError):
                fail(name, "exit %d, output %r" % (e.returncode,
                                                   e.stdout[:200]))
                continue
            want = [EXPECTED[("CASCADELAKE", k, "ICELAKE", k2)],
                    EXPECTED[("ICELAKE", k2, "CASCADELAKE", k)]]
            if got != want:
                fail(name, "reasons %s, want %s" % (got, want))
            else:
                ok(name)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
