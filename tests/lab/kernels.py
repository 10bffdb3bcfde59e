#!/usr/bin/env python3
"""The lab on two kernels, without QEMU:

- arch/arm64/kvm-writable.txt: its grammar (the file's header is the
  specification these cases take their expectations from), what an entry
  predicts for a kernel release, and the check against the writable masks
  of the reports each lab kernel collected (tests/data/lab/reports: Debian's
  6.12.95, tests/data/lab/reports-7.3: Debian's 7.3.4);
- tools/lab/compare.py: a model that boots on the first kernel and not on
  another is named with the boot's own message;
- tools/lab/lab.py: the per-kernel summary lines (`lab 6.12: N/N verdicts
  agree`, and a count line tools/check.sh sums) and the words a failed boot
  is named with (QEMU's, else the kernel's).
usage: python3 tests/lab/kernels.py
"""

import json
import os
import sys
import tempfile

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tap  # noqa: E402
import compare  # noqa: E402
import kvmtable  # noqa: E402
import lab  # noqa: E402

ROOT = tap.ROOT
T = tap.Tally()
check = T.check


CAT = lab.read_catalogue()
HEAD = "source s1 a commit\nsource s2 another commit\n"


def parse(text):
    return kvmtable.parse(HEAD + text, CAT)


def parse_error(text):
    """The line number the parser names for TEXT, or None if it parses."""
    try:
        parse(text)
    except kvmtable.TableError as e:
        return e.line
    return None


def grammar():
    t = parse("writable ID_AA64PFR0_EL1 RAS 6.18 s1\n"
              "writable ID_AA64ISAR0_EL1 TME 6.7 s1+s2 until=6.13..7.3:s2\n"
              "writable ID_ISAR5_EL1 23:20 6.18 s1 stable=6.12.60:s2 host=aarch32\n"
              "writable MIDR_EL1 PartNum 6.15 s1 cap=KVM_CAP_ARM_WRITABLE_IMP_ID_REGS\n"
              "writable ID_DFR0_EL1 CopDbg ..6.12 s2 approx host=aarch32\n")
    check("grammar: a table of five entries parses", len(t.entries) == 5, repr(t.entries))
    e = t.entries[2]
    # bits 23:20 of ID_ISAR5_EL1 are not described by idregs.txt
    check("grammar: MSB:LSB names undescribed bits", e.mask == 0xf << 20, hex(e.mask))
    # header: a line number is named for each malformed line (line 3 = first after the sources)
    bad = [
        ("an unknown keyword", "field ID_AA64PFR0_EL1 RAS 6.18 s1\n"),
        ("an unknown register", "writable ID_AA64PFR9_EL1 RAS 6.18 s1\n"),
        ("an unknown field", "writable ID_AA64PFR0_EL1 RASX 6.18 s1\n"),
        ("a bit range that overlaps a described field", "writable ID_AA64PFR0_EL1 31:28 6.18 s1\n"),
        ("a bit range outside 63:0", "writable ID_AA64PFR0_EL1 64:60 6.18 s1\n"),
        ("a release that is not X.Y", "writable ID_AA64PFR0_EL1 RAS 6 s1\n"),
        ("a range whose ends are reversed", "writable ID_AA64PFR0_EL1 RAS 7.3..6.13 s1\n"),
        ("an undefined source", "writable ID_AA64PFR0_EL1 RAS 6.18 s9\n"),
        ("a missing source", "writable ID_AA64PFR0_EL1 RAS 6.18\n"),
        ("an unknown option", "writable ID_AA64PFR0_EL1 RAS 6.18 s1 since=6.1\n"),
        ("an option without its source", "writable ID_AA64PFR0_EL1 RAS 6.18 s1 stable=6.12.60\n"),
        ("a stable release of another form", "writable ID_AA64PFR0_EL1 RAS 6.18 s1 stable=6.12:s2\n"),
        ("a capability caps.txt does not know", "writable MIDR_EL1 PartNum 6.15 s1 cap=KVM_CAP_NO_SUCH\n"),
        ("an unknown host condition", "writable ID_PFR0_EL1 RAS 6.18 s1 host=aarch64\n"),
        ("until before since", "writable ID_AA64ISAR0_EL1 TME 6.7 s1 until=6.5:s2\n"),
        ("a source named twice", "source s1 again\n"),
        ("a source without text", "source s3\n"),
    ]
    for what, line in bad:
        ln = parse_error(line)
        check("grammar: refuses %s (names line 3)" % what, ln == 3, "line %r" % ln)
    ln = parse_error("writable ID_AA64PFR0_EL1 RAS 6.18 s1\nwritable ID_AA64PFR0_EL1 RAS 6.13 s2\n")
    check("grammar: refuses a field listed twice (names line 4)", ln == 4, "line %r" % ln)
    ln = parse_error("writable ID_ISAR5_EL1 23:20 6.18 s1\nwritable ID_ISAR5_EL1 21:20 6.18 s1\n")
    check("grammar: refuses overlapping bit ranges (names line 4)", ln == 4, "line %r" % ln)
    try:
        t = kvmtable.load()
        check("grammar: arch/arm64/kvm-writable.txt parses", len(t.entries) > 0)
    except kvmtable.TableError as e:
        check("grammar: arch/arm64/kvm-writable.txt parses", False, str(e))


def predictions():
    t = parse("writable ID_AA64PFR0_EL1 RAS 6.18 s1\n"
              "writable ID_AA64ISAR0_EL1 TME 6.7 s1 until=6.13..7.3:s2\n"
              "writable ID_PFR0_EL1 State0 6.18 s1 stable=6.12.60:s2 host=aarch32\n"
              "writable ID_AA64ISAR3_EL1 FPRCVT 6.13..6.17 s1\n"
              "writable ID_DFR0_EL1 CopDbg ..6.12 s2 host=aarch32\n")
    ras, tme, state0, fprcvt, copdbg = t.entries
    r = kvmtable.parse_release
    check("release: 6.12.95+deb12-arm64 is 6.12.95", r("6.12.95+deb12-arm64") == (6, 12, 95),
          repr(r("6.12.95+deb12-arm64")))
    check("release: 7.3-rc1 is 7.3.0", r("7.3-rc1") == (7, 3, 0), repr(r("7.3-rc1")))
    cases = [
        # (entry, release, AArch32 EL0, expected) -- from the header's words
        ("since 6.18 on 6.12.95", ras, "6.12.95", True, False),
        ("since 6.18 on 6.18.0", ras, "6.18.0", True, True),
        ("since 6.18 on 7.3.4", ras, "7.3.4", True, True),
        ("until 6.13..7.3 on 6.12.95", tme, "6.12.95", True, True),
        ("until 6.13..7.3 on 7.3.4", tme, "7.3.4", True, False),
        ("until 6.13..7.3 on 6.15.2 (undecided)", tme, "6.15.2", True, None),
        ("stable 6.12.60 on 6.12.95", state0, "6.12.95", True, True),
        ("stable 6.12.60 on 6.12.59", state0, "6.12.59", True, False),
        ("stable 6.12.60 on 6.13.1", state0, "6.13.1", True, False),
        ("host=aarch32 on a host without it", state0, "7.3.4", False, False),
        ("range 6.13..6.17 on 6.12.95", fprcvt, "6.12.95", True, False),
        ("range 6.13..6.17 on 6.17.0", fprcvt, "6.17.0", True, True),
        ("range 6.13..6.17 on 6.14.3 (undecided)", fprcvt, "6.14.3", True, None),
        ("..6.12 on 6.12.0", copdbg, "6.12.0", True, True),
        ("..6.12 on 6.1.0 (undecided)", copdbg, "6.1.0", True, None),
    ]
    for what, e, rel, a32, want in cases:
        got = kvmtable.expected(e, r(rel), a32)
        check("predicts: %s -> %r" % (what, want), got is want, repr(got))


def report(kernel, writable, host="h1", pfr0="0x0000000000000011", regs=()):
    ids = {"ID_AA64PFR0_EL1": pfr0, "ID_AA64ISAR0_EL1": "0x0"}
    for r in regs:
        ids[r] = "0x0"
    return {"schema": "cpufleet.report/v1", "host": {"id": host, "kernel": kernel},
            "arm64": {"id_regs": ids, "writable": writable}}


def table_check():
    t = parse("writable ID_AA64PFR0_EL1 RAS 6.18 s1\n"
              "writable ID_AA64PFR0_EL1 GIC 6.12 s1\n")
    ras, gic = 0xf << 28, 0xf << 24
    runs = [("6.12.95", {"h1": report("6.12.95+deb12-arm64", {"ID_AA64PFR0_EL1": "0x%016x" % gic})}),
            ("7.3.4", {"h1": report("7.3.4+deb13-arm64", {"ID_AA64PFR0_EL1": "0x%016x" % (gic | ras)})})]
    res = kvmtable.check(t, runs, CAT)
    check("check: masks that match the table agree (2 observed, 2 agree, 0 failed)",
          (res.observed, res.agree, len(res.failures)) == (2, 2, 0),
          "%r; %s" % ((res.observed, res.agree, res.failures), res.lines))
    runs[0] = ("6.12.95", {"h1": report("6.12.95+deb12-arm64", {"ID_AA64PFR0_EL1": "0x%016x" % (gic | ras)})})
    res = kvmtable.check(t, runs, CAT)
    check("check: a field writable before the table's release disagrees",
          res.agree == 1 and any("RAS" in f for f in res.failures), "%r" % (res.failures,))
    runs[1] = ("7.3.4", {"h1": report("7.3.4+deb13-arm64", {"ID_AA64PFR0_EL1": "0x%016x" % (gic | ras | 0xf)})})
    res = kvmtable.check(t, runs, CAT)
    check("check: a writable field the table lacks fails (ID_AA64PFR0_EL1.EL0)",
          any("EL0" in f and "not in the table" in f for f in res.failures), "%r" % (res.failures,))
    runs[1] = ("7.3.4", {"h1": report("7.3.4+deb13-arm64", {"ID_AA64PFR0_EL1": "0x%016x" % (gic | 0x3 << 28)})})
    res = kvmtable.check(t, runs, CAT)
    check("check: a field only partly in the mask disagrees",
          any("RAS" in f and "partly" in f for f in res.failures), "%r" % (res.failures,))
    # the real table against the reports of the two lab kernels
    runs = kvmtable.load_runs([os.path.join(ROOT, "tests", "data", "lab", "reports"),
                               os.path.join(ROOT, "tests", "data", "lab", "reports-7.3")])
    kernels = sorted(r[0] for r in runs)
    check("check: tests/data/lab has reports of 6.12.95 and 7.3.4",
          kernels == ["6.12.95+deb12-arm64", "7.3.4+deb13-arm64"], repr(kernels))
    res = kvmtable.check(kvmtable.load(), runs, CAT)
    print("    " + res.summary)
    check("check: every entry of kvm-writable.txt the lab observes agrees with both kernels' masks",
          not res.failures and res.observed > 200 and res.agree == res.observed,
          "%s; first failures: %s" % (res.summary, res.failures[:5]))


def coverage():
    with tempfile.TemporaryDirectory() as d:
        for label, hosts, fail in (("6.12", ["a53", "max"], None),
                                   ("7.x", ["max"], "no @@CF DONE within 180 s (timeout): "
                                    "Kernel panic - not syncing: Attempted to kill init!")):
            run = os.path.join(d, label)
            os.makedirs(os.path.join(run, "reports"))
            for h in hosts:
                with open(os.path.join(run, "reports", h + ".json"), "w") as f:
                    json.dump(report("x", {}, host=h), f)
            with open(os.path.join(run, "summary.json"), "w") as f:
                json.dump({"label": label, "models": ["cortex-a53", "max"], "hosts": ["a53", "max"],
                           "collected": hosts,
                           "boot_failures": [{"phase": "collect", "host": "a53", "error": fail}] if fail else []},
                          f)
        runs = [compare.load_run("6.12", os.path.join(d, "6.12")), compare.load_run("7.x", os.path.join(d, "7.x"))]
        rows = compare.coverage(runs)
        bad = [r for r in rows if not r[2]]
        check("coverage: a53 boots on 6.12 and not on 7.x: one failure", len(bad) == 1 and bad[0][0] == "a53",
              repr(rows))
        check("coverage: it is named with the boot's own message",
              bool(bad) and "Kernel panic - not syncing" in bad[0][3], repr(bad))


def lab_lines():
    lines = lab.verdict_lines("6.12", 98, 98, 98, 0)
    check("lab: per-kernel verdict line", lines[0] == "lab 6.12: 98/98 verdicts agree", repr(lines))
    # tools/check.sh sums `[word: ]N passed, N failed` lines (its header)
    check("lab: a count line tools/check.sh reads", lines[1] == "lab-6.12: 98 passed, 0 failed", repr(lines))
    lines = lab.verdict_lines(None, 3, 4, 3, 1)
    check("lab: without a label the lines are as before",
          lines == ["lab: 3/4 verdicts agree", "lab: 3 passed, 1 failed"], repr(lines))
    console = ["[    0.000000] Booting Linux on physical CPU 0x0000000000 [0x410fd034]",
               "[    1.234567] kvm [1]: HYP mode not available",
               "[    2.000000] Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000100",
               "[    2.000001] ---[ end Kernel panic - not syncing: Attempted to kill init! ]---"]
    w = lab.last_words([], console)
    check("lab: a boot that dies is named with the kernel's panic line",
          w is not None and "Kernel panic - not syncing: Attempted to kill init!" in w, repr(w))
    w = lab.last_words(["qemu-system-aarch64: terminating on signal 15"], console)
    check("lab: QEMU's own message comes first", w is not None and w.startswith("qemu-system-aarch64:"), repr(w))
    w = lab.last_words([], ["[    1.0] kvm [1]: HYP mode not available", "[    1.1] random: crng init done"])
    check("lab: else the kernel's last error-like line (kvm)", w is not None and "HYP mode not available" in w,
          repr(w))
    w = lab.last_words([], ["", "plain last line"])
    check("lab: else the last line the console printed", w == "plain last line", repr(w))


def main():
    grammar()
    predictions()
    table_check()
    coverage()
    lab_lines()
    return T.close()


if __name__ == "__main__":
    sys.exit(main())
