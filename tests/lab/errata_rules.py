#!/usr/bin/env python3
"""The errata lab's pass rule (tools/lab/errata.py), without QEMU: what a guest read through
the SMCCC discovery hypercalls passes only when it is exactly the profile's list, with the
numbers of the kernel's Documentation/virt/kvm/arm/hypercalls.rst, written out here:
DISCOVER_IMPL_VER returns R0 SUCCESS (0), R1 version (bits [31:16] major, [15:0] minor; 1.0 is
what drivers/firmware/smccc/kvm_guest.c takes), R2 the number of implementations, R3 0;
DISCOVER_IMPL_CPUS(i) R0 SUCCESS and MIDR_EL1, REVIDR_EL1, AIDR_EL1, or INVALID_PARAMETER (-3)
for an index past the list; the KVM features call's R2 is the bitmap of vendor functions 64-95,
so functions 64 and 65 are its bits 0 and 1 (fw-pseudo-registers.rst: BMAP_2 bits 0 and 1).
usage: python3 tests/lab/errata_rules.py
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(ROOT, "tools", "lab"))
import errata  # noqa: E402

MINUS_3 = "0xfffffffffffffffd"
results = []


def check(name, cond, detail=""):
    """One case: `ok - NAME`, or `FAIL - NAME: DETAIL`."""
    results.append(bool(cond))
    print("ok - " + name if cond else "FAIL - %s: %s" % (name, detail))


PROFILE = {"implementations": [
    {"MIDR_EL1": "0x00000000410fd034", "REVIDR_EL1": "0x0000000000000000", "AIDR_EL1": "0x0"},
    {"MIDR_EL1": "0x00000000410fd083", "REVIDR_EL1": "0x0000000000000002", "AIDR_EL1": "0x0"},
    {"MIDR_EL1": "0x00000000411fd070"},
]}


def good_doc():
    return {"features": ["0x3", "0x0", "0x3", "0x0"],
            "version": ["0x0", "0x10000", "0x3", "0x0"],
            "cpus": [["0x0", "0x410fd034", "0x0", "0x0"],
                     ["0x0", "0x410fd083", "0x2", "0x0"],
                     ["0x0", "0x411fd070", "0x0", "0x0"],
                     [MINUS_3, "0x0", "0x0", "0x0"]]}


def judged(edit):
    doc = good_doc()
    edit(doc)
    return errata.judge(doc, errata.expected_list(PROFILE))


want = errata.expected_list(PROFILE)
check("the profile's list, in its order, absent registers 0",
      want == [(0x410fd034, 0, 0), (0x410fd083, 2, 0), (0x411fd070, 0, 0)], want)

ok, bad, summary = judged(lambda d: None)
check("exactly the list passes", ok and not bad, bad)
check("the summary counts reads and matches", summary == "guest read 3 implementations, 3 match", summary)

cases = [
    ("BMAP_2 not offered (features R2 0)", lambda d: d["features"].__setitem__(2, "0x0"), "BMAP_2"),
    ("only function 64 offered", lambda d: d["features"].__setitem__(2, "0x1"), "BMAP_2"),
    ("version 2.0", lambda d: d["version"].__setitem__(1, "0x20000"), "DISCOVER_IMPL_VER"),
    ("version 0.1", lambda d: d["version"].__setitem__(1, "0x1"), "DISCOVER_IMPL_VER"),
    ("a count other than the list's", lambda d: d["version"].__setitem__(2, "0x2"), "DISCOVER_IMPL_VER"),
    ("VER not SUCCESS", lambda d: d["version"].__setitem__(0, "0xffffffffffffffff"), "DISCOVER_IMPL_VER"),
    ("R3 of VER not 0", lambda d: d["version"].__setitem__(3, "0x1"), "DISCOVER_IMPL_VER"),
    ("two implementations swapped", lambda d: d["cpus"].__setitem__(slice(0, 2), [d["cpus"][1], d["cpus"][0]]),
     "DISCOVER_IMPL_CPUS(0)"),
    ("a REVIDR_EL1 lost", lambda d: d["cpus"][1].__setitem__(2, "0x0"), "DISCOVER_IMPL_CPUS(1)"),
    ("an AIDR_EL1 made up", lambda d: d["cpus"][2].__setitem__(3, "0x1"), "DISCOVER_IMPL_CPUS(2)"),
    ("a CPUS call not SUCCESS", lambda d: d["cpus"][0].__setitem__(0, MINUS_3), "DISCOVER_IMPL_CPUS(0)"),
    ("no call past the list", lambda d: d["cpus"].pop(), "calls"),
    ("past the list answered SUCCESS", lambda d: d["cpus"][3].__setitem__(0, "0x0"), "INVALID_PARAMETER"),
    ("past the list answered NOT_SUPPORTED", lambda d: d["cpus"][3].__setitem__(0, "0xffffffffffffffff"),
     "INVALID_PARAMETER"),
    ("one implementation missing", lambda d: d["cpus"].pop(2), "DISCOVER_IMPL_CPUS"),
]
for name, edit, word in cases:
    ok, bad, _ = judged(edit)
    check("fails: " + name, not ok and any(word in b for b in bad), bad)

ok, bad, summary = judged(lambda d: d["cpus"].__setitem__(slice(0, 2), [d["cpus"][1], d["cpus"][0]]))
check("a swap counts 1 match of 3", summary == "guest read 3 implementations, 1 match", summary)

print("%d passed, %d failed" % (sum(results), len(results) - sum(results)))
sys.exit(0 if all(results) else 1)
