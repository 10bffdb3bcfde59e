#!/usr/bin/env python3
"""The arm64 lab on several kernels, side by side: which hosts the engine pools
on each kernel and which fields still keep pools apart.

  compare.py [--cpufleet BIN] [--table FILE] LABEL=DIR LABEL=DIR...

DIR: a lab output directory of one kernel (tools/lab/lab.py --out: its
summary.json, reports/ and pools/pools.json). The first run is the reference:
every model that reported there must report on every other kernel, else it is
named with its boot's own message (QEMU's or the kernel's, from summary.json).
For every two pools of a kernel, `cpufleet baseline` over their hosts names the
fields that keep them apart (its conflicts), with what arch/arm64/kvm-writable.txt
says of each. Last line `lab-kernels: N passed, N failed` (one per host and
later kernel). Exit 0 when every host reported on every kernel, 1 otherwise,
2 for a usage error. Python 3 standard library only.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.dont_write_bytecode = True
sys.path.insert(0, HERE)
import kvmtable  # noqa: E402


class Run:
    def __init__(self, label, out):
        self.label, self.out = label, out
        self.release = "?"
        self.hosts = []         # every host the run was asked for
        self.collected = []     # hosts with a report
        self.pools = []         # [[host...]] as cpufleet pools made them
        self.failures = {}      # host -> its first boot failure's text
        self.verdicts = None


def _read(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def load_run(label, out):
    r = Run(label, out)
    summary = {}
    if os.path.exists(os.path.join(out, "summary.json")):
        summary = _read(os.path.join(out, "summary.json"))
    rd = os.path.join(out, "reports")
    if os.path.isdir(rd):
        for name in sorted(os.listdir(rd)):
            if name.endswith(".json"):
                doc = _read(os.path.join(rd, name))
                r.collected.append((doc.get("host") or {}).get("id") or name[:-5])
                r.release = (doc.get("host") or {}).get("kernel") or r.release
    r.hosts = summary.get("hosts") or list(r.collected)
    for b in summary.get("boot_failures") or []:
        r.failures.setdefault(b.get("host"), "%s: %s" % (b.get("phase"), b.get("error")))
    r.verdicts = summary.get("verdicts")
    idx = os.path.join(out, "pools", "pools.json")
    if os.path.exists(idx):
        r.pools = [p["hosts"] for p in _read(idx).get("pools", [])]
    return r


def coverage(runs):
    """[(host, label, ok, message)] for every host of the first run that
    reported there, on every later kernel."""
    rows = []
    ref = runs[0]
    for r in runs[1:]:
        for h in ref.collected:
            if h in r.collected:
                rows.append((h, r.label, True, "reported"))
            else:
                why = r.failures.get(h) or ("not asked for" if h not in r.hosts else "no report and no boot failure recorded")
                rows.append((h, r.label, False, why))
    return rows


def blocking(cpufleet, run, a, b):
    """Fields `cpufleet baseline` finds in conflict over the hosts of pools A and B."""
    reports = [os.path.join(run.out, "reports", h + ".json") for h in a + b]
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "bl.json")
        p = subprocess.run([cpufleet, "baseline", "-q", "-o", out] + reports, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, check=False)
        if p.returncode not in (0, 1) or not os.path.exists(out):
            return None
        doc = _read(out)
    names = []
    for c in doc.get("conflicts") or []:
        n = "%s.%s" % (c.get("register"), c.get("field"))
        if n not in names:
            names.append(n)
    return names


def advice(e):
    """What kvm-writable.txt says of a field: from which release, on which hosts."""
    if e is None:
        return None
    return "writable from %s%s%s (kvm-writable.txt line %d)" % (
        e.since_text, " on hosts with AArch32 EL0" if e.aarch32 else "",
        " once the VMM enables %s" % e.cap if e.cap else "", e.line)


def main(argv):
    ap = argparse.ArgumentParser(prog="compare.py", description=__doc__.split("\n\n")[0])
    ap.add_argument("--cpufleet", default=os.path.join(ROOT, "build", "cpufleet"))
    ap.add_argument("--table", default=kvmtable.TABLE)
    ap.add_argument("runs", nargs="+", metavar="LABEL=DIR")
    a = ap.parse_args(argv)
    runs = []
    for spec in a.runs:
        label, eq, out = spec.partition("=")
        if not eq or not os.path.isdir(out):
            print("compare: error: %r: expected LABEL=DIR of a lab run" % spec, file=sys.stderr)
            return 2
        runs.append(load_run(label, out))
    try:
        table = kvmtable.load(a.table)
    except (OSError, kvmtable.TableError) as e:
        print("compare: warning: no kernel table (%s)" % e, file=sys.stderr)
        table = None
    by_field = {}
    for e in (table.entries if table else []):
        by_field["%s.%s" % (e.reg, e.field)] = e

    hosts = []
    for r in runs:
        for h in r.hosts + r.collected:
            if h not in hosts:
                hosts.append(h)
    print("== pools per kernel (cpufleet pools over each kernel's reports) ==")
    w = max([len(h) for h in hosts] + [4])
    cols = ["%s (%s)" % (r.label, r.release) for r in runs]
    cw = max(len(c) for c in cols)
    print("  ".join(["host".ljust(w)] + [c.ljust(cw) for c in cols]).rstrip())
    for h in hosts:
        cells = []
        for r in runs:
            n = [i + 1 for i, p in enumerate(r.pools) if h in p]
            cells.append(("pool %d: %s" % (n[0], ", ".join(r.pools[n[0] - 1])) if n else
                          "no report" if h not in r.collected else "no pool").ljust(cw))
        print("  ".join([h.ljust(w)] + cells).rstrip())
    for r in runs:
        print("%s: %d pools: %s" % (r.label, len(r.pools), "; ".join(", ".join(p) for p in r.pools)))

    print("== fields that keep two pools apart (conflicts of cpufleet baseline over both) ==")
    blocked = {}    # label -> {field: [pair]}
    for r in runs:
        blocked[r.label] = {}
        for i in range(len(r.pools)):
            for j in range(i + 1, len(r.pools)):
                names = blocking(a.cpufleet, r, r.pools[i], r.pools[j])
                pair = "%s | %s" % (", ".join(r.pools[i]), ", ".join(r.pools[j]))
                if names is None:
                    print("  %s %s: cpufleet baseline failed" % (r.label, pair))
                    continue
                print("  %s %s: %s" % (r.label, pair, ", ".join(names) or "nothing (first fit)"))
                for n in names:
                    blocked[r.label].setdefault(n, []).append(pair)
    for prev, r in zip(runs, runs[1:]):
        gone = sorted(set(blocked[prev.label]) - set(blocked[r.label]))
        still = sorted(set(blocked[prev.label]) & set(blocked[r.label]))
        if gone:
            print("no longer blocking on %s (blocking on %s):" % (r.label, prev.label))
            for n in gone:
                print("  %s: %s" % (n, advice(by_field.get(n)) or "not in kvm-writable.txt"))
        if still:
            print("still blocking on %s: %s" % (r.label, ", ".join(
                n + (" (%s)" % advice(by_field[n]) if n in by_field else "") for n in still)))

    print("== every model that reported on %s, on the other kernels ==" % runs[0].label)
    rows = coverage(runs)
    for h, label, ok, why in rows:
        if not ok:
            print("  FAIL %s on %s: %s" % (h, label, why))
    bad = sum(1 for row in rows if not row[2])
    print("models: %d of %d reported on %s; %s" % (
        len(runs[0].collected), len(runs[0].hosts), runs[0].label,
        "; ".join("%d on %s" % (sum(1 for h in runs[0].collected if h in r.collected), r.label) for r in runs[1:])))
    print("lab-kernels: %d passed, %d failed" % (len(rows) - bad, bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
