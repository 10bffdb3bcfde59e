#!/usr/bin/env python3
"""The arm64 lab applies an exported Firecracker template the way
Firecracker does, and a guest reads the registers back (make lab-export).

    python3 tools/lab/export.py [lab.py options: --models, --kernel,
                                 --agent-initrd, --out, --cpufleet, ...]

For each model: boot the emulated host and collect its report (job
collect); `cpufleet baseline` of that report alone (its own profile) and
`cpufleet export --format firecracker` of it; boot again with job
fctemplate (tools/lab/PROTOCOL.md): the agent sets the template's
vcpu_features over Firecracker's default (PSCI 0.2), creates and
initialises the vCPU, reads every reg_modifier's register with
KVM_GET_ONE_REG, writes host & ~filter | value back with KVM_SET_ONE_REG
(cpu_config/aarch64/mod.rs apply_template and the vCPU's configure), and
runs a guest that reads every system register of the profile with MRS.
Passes when KVM took every write as written and the guest reads the
profile's value in every register.  One boot at a time (--jobs is not
used); reuses tools/lab/lab.py's QEMU and initrd handling.

Last line: `lab-export: N passed, N failed`; exit 1 on a failure, 2 when
the lab cannot run.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lab as L  # noqa: E402

L.EXPECTED_FILES.setdefault("fctemplate", ["fctemplate.json"])


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode:
        raise L.LabError("%s: exit %d: %s" % (" ".join(cmd[:3]), p.returncode,
                                               p.stderr.strip()))
    return p.stdout


def one(lab, a, host):
    """(ok, what) for one host."""
    b = lab.boot("collect", host, lab._common_inputs("collect", host))
    if not b.ok:
        return False, "collect: %s" % b.error
    d = os.path.join(a.out, "export", host)
    os.makedirs(d, exist_ok=True)
    report = os.path.join(d, "report.json")
    shutil.copyfile(b.files["report.json"], report)
    own = os.path.join(d, "own.json")
    run([a.cpufleet, "baseline", "-q", "-o", own, report])
    tpl = os.path.join(d, "template.json")
    run([a.cpufleet, "export", "--format", "firecracker", "-o", tpl, own])
    inputs = lab._common_inputs("fctemplate", host)
    inputs["own.json"] = ("path", own)
    inputs["template.json"] = ("path", tpl)
    b = lab.boot("fctemplate", host, inputs)
    if not b.ok:
        return False, "fctemplate: %s" % b.error
    res = L.read_json(b.files["fctemplate.json"])
    shutil.copyfile(b.files["fctemplate.json"], os.path.join(d, "fctemplate.json"))
    if res.get("refused") is not None:
        return False, "KVM refused the template: %s" % json.dumps(res["refused"])
    if res.get("mismatches"):
        return False, "%d registers differ from the profile in the guest" % (
            res["mismatches"])
    n = len(json.load(open(tpl))["reg_modifiers"])
    return True, "KVM took %d reg_modifiers (vCPU features %s); the guest " \
        "read %d registers, each the profile's" % (n, res["features"],
                                                   res["read"])


def main(argv):
    try:
        a = L.parse_args(argv)
        L.check_setup(a)
    except L.LabError as e:
        print("lab-export: error: %s" % e, file=sys.stderr)
        return 2
    lab = L.Lab(a)
    os.makedirs(a.out, exist_ok=True)
    with open(a.agent_initrd, "rb") as f:
        lab.base_initrd = f.read()
    lab.tmp = tempfile.mkdtemp(prefix="tmp.", dir=a.out)
    passed = failed = 0
    try:
        for host in lab.hosts:
            try:
                ok, what = one(lab, a, host)
            except (L.LabError, OSError, ValueError, KeyError) as e:
                ok, what = False, str(e)
            if ok:
                passed += 1
                print("ok - %s: %s" % (host, what))
            else:
                failed += 1
                print("FAIL - %s: %s" % (host, what))
    finally:
        shutil.rmtree(lab.tmp, ignore_errors=True)
    print("lab-export: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
