#!/usr/bin/env python3
"""The lab's pass rules and its variant generator, without QEMU
(tools/lab/lab.py, tools/lab/PROTOCOL.md).

- A lab fault (a bad state file, a failed VM creation, a guest that does
  not go on) is an error cell, never KVM refusing: it must not agree with
  the engine's NO.
- A refusal agrees only when the engine names the register KVM refused.
- One-field variants: the values each rule singles out, taken from the
  catalogue grammar (arch/arm64/idregs.txt header), not from lab.py.
usage: python3 tests/lab/strict.py CPUFLEET
"""

import contextlib
import io
import os
import sys
import tempfile

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tap  # noqa: E402
import lab  # noqa: E402

ROOT = tap.ROOT
T = tap.Tally()
check = T.check


def quiet(fn, *args):
    with contextlib.redirect_stdout(io.StringIO()):
        return fn(*args)


def fake_lab(out, cpufleet):
    a = lab.parse_args(["--cpufleet", cpufleet, "--out", out, "--models", "cortex-a72,neoverse-n1",
                        "--no-variants"])
    return lab.Lab(a)


def restore_doc(result):
    return {"n1": {"host": "n1", "results": [result]}}


def main(argv):
    cpufleet = argv[1] if len(argv) > 1 else os.path.join(ROOT, "build", "cpufleet")
    with tempfile.TemporaryDirectory() as out:
        L = fake_lab(out, cpufleet)
        os.makedirs(os.path.join(out, "verify", "a72"))
        open(os.path.join(out, "verify", "a72", "state__own.bin"), "wb").close()
        vd = {"a72": {"save": {"own": {"accepted": True}}}}
        coll = ["a72", "n1"]

        # Restore results as labagent.c writes them (PROTOCOL.md).
        fault = {"from": "a72", "profile": "own", "accepted": True, "refused": None,
                 "error": "bad state file", "kvm_ok": None}
        k = L._kvm("a72", "n1", "own", vd, restore_doc(fault), coll)
        check("a bad state file is an error cell, not a refusal", k[0] is None and k[3], repr(k))
        # What the agent wrote before: kvm_ok false for a fault, no register.
        old = {"from": "a72", "profile": "own", "accepted": False, "refused": None,
               "error": "VM creation failed", "kvm_ok": False}
        k = L._kvm("a72", "n1", "own", vd, restore_doc(old), coll)
        check("a failed VM creation is an error cell even when kvm_ok says false", k[0] is None, repr(k))
        unnamed = {"from": "a72", "profile": "own", "accepted": False, "refused": None,
                   "error": None, "kvm_ok": False}
        k = L._kvm("a72", "n1", "own", vd, restore_doc(unnamed), coll)
        check("a refusal that names no register is an error cell", k[0] is None, repr(k))
        named = {"from": "a72", "profile": "own", "accepted": False, "error": None, "kvm_ok": False,
                 "refused": {"register": "ID_PFR0_EL1", "field": "CSV2", "errno": "E2BIG"}}
        k = L._kvm("a72", "n1", "own", vd, restore_doc(named), coll)
        check("KVM refusing a named register is a refusal", k[0] is False and k[1] == "ID_PFR0_EL1", repr(k))
        stopped = {"from": "a72", "profile": "own", "accepted": True, "refused": None, "kvm_ok": None,
                   "error": "counter did not go on: saved 3, then 3, 3"}
        k = L._kvm("a72", "n1", "own", vd, restore_doc(stopped), coll)
        check("a guest that does not go on is an error cell", k[0] is None, repr(k))

        # The matrix: an error cell never agrees; a misnamed refusal fails.
        L.check = lambda prof, rep, cache: (False, ["ID_AA64ISAR0_EL1"], None)
        for h in coll:
            os.makedirs(os.path.join(out, "own"), exist_ok=True)
            open(os.path.join(out, "own", h + ".json"), "w").close()
        rows = quiet(L._matrix, coll, coll, True, vd, restore_doc(fault))
        cell = [r for r in rows if (r["from"], r["to"], r["profile"]) == ("a72", "n1", "own")][0]
        check("an error cell does not agree with the engine's NO", not cell["agree"], repr(cell))
        rows = quiet(L._matrix, coll, coll, True, vd, restore_doc(named))
        cell = [r for r in rows if (r["from"], r["to"], r["profile"]) == ("a72", "n1", "own")][0]
        check("a refusal of a register the engine does not name does not agree",
              not cell["agree"] and cell["refused_register_named"] is False, repr(cell))
        L.check = lambda prof, rep, cache: (False, ["ID_AA64ISAR0_EL1", "ID_PFR0_EL1"], None)
        rows = quiet(L._matrix, coll, coll, True, vd, restore_doc(named))
        cell = [r for r in rows if (r["from"], r["to"], r["profile"]) == ("a72", "n1", "own")][0]
        check("a refusal of a register the engine names agrees", cell["agree"], repr(cell))

    # Variants of a made-up catalogue: what each rule singles out, from the
    # grammar (idregs.txt header): exact=SAFE -> SAFE; higher0 -> 0; a field
    # partly in the writable mask follows no policy; a floor -> the value
    # under it; undescribed bits flipped; prefix: shorter, a hole, longer.
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
        f.write("reg T_EL1 3 0 0 4 0\n"
                "field 15:12 E unsigned exact=1\n"
                "field 11:8 Z unsigned higher0\n"
                "field 7:4 P unsigned lower\n"
                "field 3:0 F unsigned lower min=2\n"
                "end\n"
                "fact SVE_VLS 0x2000003 0xffffffffffffffff\n"
                "field 63:0 VQs unsigned prefix\n"
                "end\n"
                "refuse T_EL1.P=0,T_EL1.F=0 where T_EL1.E=1 since 6.15 | both 0\n"
                "refuse T_EL1.E=3 | the host's own: no variant\n")
        catpath = f.name
    try:
        cat = lab.read_catalogue(catpath)
        refusals = lab.read_refusals(catpath)
    finally:
        os.unlink(catpath)
    own = {"arm64": {"id_regs": {"T_EL1": "0x0000000000003533"},
                     "kvm_facts": {"SVE_VLS": "0x000000000000000f"}}}
    # E, Z and F writable; P only in its low two bits; bit 16 writable
    wr = {"T_EL1": "0x000000000001ff3f"}
    vs = {(v[0]): v[4] for v in lab.make_variants(cat, own, wr, refusals)}
    want = {
        "T_EL1.E.exact-safe": 0x1533,          # E 3 -> SAFE 1
        "T_EL1.Z.higher0-zero": 0x3033,        # Z 5 -> 0
        "T_EL1.P.partial-mask-up": 0x3543,     # P 3 -> 4, not a lower step
        "T_EL1.F.floor-below": 0x3531,         # F 3 -> 1, under min=2
        "T_EL1.bit16.undescribed-writable": 0x13533,
        "T_EL1.bit17.undescribed": 0x23533,
        "SVE_VLS.VQs.prefix-shorter": 0x7,
        "SVE_VLS.VQs.prefix-hole": 0xe,
        "SVE_VLS.VQs.prefix-longer": 0x1f,
        # a `refuse` line's values, all at once (P 3 -> 0, F 3 -> 0)
        "T_EL1.line10.kvm-rule": 0x3500,
    }
    for name, val in sorted(want.items()):
        check("variant %s = %#x" % (name, val), vs.get(name) == val,
              "got %s" % (hex(vs[name]) if name in vs else "none"))
    check("no variant equals the own value", 0x3533 not in vs.values() and 0xf not in vs.values())
    check("one variant per refuse line that changes the profile",
          sorted(k for k in vs if k.endswith("kvm-rule")) == ["T_EL1.line10.kvm-rule"],
          str(sorted(k for k in vs if k.endswith("kvm-rule"))))
    return T.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
