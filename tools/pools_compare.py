#!/usr/bin/env python3
"""make pools-compare: first fit against the fewest-pools partition.

Runs `cpufleet pools --json --strategy S` for S in first-fit and fewest on
the lab's reports (both kernels) and on tests/data's real dumps, and prints
a Markdown table: pools and features given up (README "Pools") for each.
Where two sets share host ids (the lab's 6.12 and 7.3 reports of one
core), the second set's hosts are renamed ("a53" -> "a53-7.3") in a
temporary directory; the files in tests/data are never changed.

usage: tools/pools_compare.py [CPUFLEET]   (default build/cpufleet)
"""
import glob
import json
import os
import subprocess
import sys
import tempfile

D = "tests/data"


def files(pattern):
    found = sorted(glob.glob(os.path.join(D, pattern)))
    if not found:
        sys.exit("pools_compare: no reports match %s" % pattern)
    return found


def renamed(tmp, paths, suffix):
    """Copies of PATHS whose host ids end in SUFFIX."""
    out = []
    for p in paths:
        with open(p) as f:
            doc = json.load(f)
        doc["host"]["id"] += suffix
        doc.pop("report_id", None)
        q = os.path.join(tmp, doc["host"]["id"] + ".json")
        with open(q, "w") as f:
            json.dump(doc, f)
        out.append(q)
    return out


def constructed(tmp, hosts):
    """The hosts of tests/unit/test_pools.c as report files: HOSTS is
    (id, ID_AA64ISAR0_EL1, its writable mask or None); every other register
    the catalogue marks `required` is 0, as test_reportf makes them."""
    with open("arch/arm64/idregs.txt") as f:
        required = [line.split()[1] for line in f
                    if line.startswith("reg ") and " required" in line]
    out = []
    for hid, isar0, wr in hosts:
        regs = {name: "0x0" for name in required}
        regs["ID_AA64ISAR0_EL1"] = isar0
        sec = {"id_regs": regs}
        if wr:
            sec["writable"] = {"ID_AA64ISAR0_EL1": wr}
        q = os.path.join(tmp, "constructed-%s.json" % hid)
        with open(q, "w") as f:
            json.dump({"schema": "cpufleet.report/v1",
                       "host": {"id": hid, "arch": "arm64"}, "arm64": sec}, f)
        out.append(q)
    return out


def run(binary, strategy, paths):
    r = subprocess.run([binary, "pools", "--json", "--strategy", strategy]
                       + paths, capture_output=True, text=True)
    if r.returncode not in (0, 1):
        sys.exit("pools_compare: cpufleet pools exit %d: %s"
                 % (r.returncode, r.stderr.strip()))
    d = json.loads(r.stdout)
    return len(d["pools"]), d["given_up_total"], d["exact"], d["pools"]


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else "build/cpufleet"
    with tempfile.TemporaryDirectory() as tmp:
        lab = files("lab/reports/*.json")
        lab7 = files("lab/reports-7.3/*.json")
        midr = files("lab/real-midr/6.12/*.json")
        midr7 = files("lab/real-midr/7.3/*.json")
        lab7r = renamed(tmp, lab7, "-7.3")
        midrr = renamed(tmp, midr, "-midr")
        midr7r = renamed(tmp, midr7, "-midr-7.3")
        x86 = files("x86/*.json")
        fleet = files("fleet/*.json")
        rw = files("arm64/real-writable/*.json")
        sets = [
            ("lab, KVM 6.12 (`lab/reports`)", lab),
            ("lab, KVM 7.3 (`lab/reports-7.3`)", lab7),
            ("lab, half upgraded: 6.12 and 7.3 hosts", lab + lab7r),
            ("lab, real MIDRs, 6.12 (`lab/real-midr/6.12`)", midr),
            ("lab, real MIDRs, 7.3 (`lab/real-midr/7.3`)", midr7),
            ("lab, every report above", lab + lab7r + midrr + midr7r),
            ("real dumps, raw (`arm64/real`)", files("arm64/real/*.json")),
            ("real dumps, writable (`arm64/real-writable`)", rw),
            ("real dumps as KVM 6.12 (`fleet`)", fleet),
            ("real x86 dumps (`x86`)", x86),
            ("`fleet` + `arm64/real-writable` + `x86`", fleet + rw + x86),
            ("all of it (distinct host ids)",
             lab + lab7r + midrr + midr7r + fleet + rw + x86),
            ("constructed: `test_pools_fewer_than_first_fit`",
             constructed(tmp, [("a", "0x110", "0xf00"),
                               ("b", "0x120", "0x0f0"),
                               ("c", "0x010", None),
                               ("d", "0x120", "0xf00")])),
            ("constructed: `test_pools_fewer_features_than_first_fit`",
             constructed(tmp, [("p", "0x010", None),
                               ("q", "0x020", "0x0f0"),
                               ("r", "0x020", None)])),
        ]
        print("| hosts | n | first-fit pools | given up | fewest pools "
              "| given up | same pools | proven minimal |")
        print("| --- | ---: | ---: | ---: | ---: | ---: | --- | --- |")
        for name, paths in sets:
            fp, fl, _, fpools = run(binary, "first-fit", paths)
            np, nl, exact, npools = run(binary, "fewest", paths)
            same = [p["hosts"] for p in fpools] == [p["hosts"] for p in npools]
            print("| %s | %d | %d | %d | %d | %d | %s | %s |"
                  % (name, len(paths), fp, fl, np, nl,
                     "yes" if same else "no", "yes" if exact else "no"))


if __name__ == "__main__":
    main()
