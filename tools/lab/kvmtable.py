#!/usr/bin/env python3
"""arch/arm64/kvm-writable.txt: from which Linux release KVM lets userspace write
each arm64 ID register field (the grammar is in the file's header), and the
lab's check of it against the writable masks each lab kernel reported.

  kvmtable.py [--table FILE] lint
  kvmtable.py [--table FILE] check RUN...

RUN: a lab output directory (its reports/) or a directory of report files, all
collected on one kernel (the reports' host.kernel). For every entry and every
host whose report has the entry's register, the table predicts writable or not
for that kernel release (or nothing, when its sources only bound the release);
a field writable in a report that the table does not list fails too.
Last lines: `kernel table: N entries observed, N agree` and
`kernel-table: N passed, N failed`. Exit 0 when nothing fails, 1 otherwise,
2 for a table or usage error. Python 3 standard library only.
"""

import argparse
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
TABLE = os.path.join(ROOT, "arch", "arm64", "kvm-writable.txt")
CAPS = os.path.join(ROOT, "arch", "caps", "caps.txt")
sys.dont_write_bytecode = True
sys.path.insert(0, HERE)
import lab  # noqa: E402  (read_catalogue)

NAME = re.compile(r"[a-z0-9.-]+")
VERSION = re.compile(r"(\d+)\.(\d+)")
STABLE = re.compile(r"(\d+)\.(\d+)\.(\d+)")
BITS = re.compile(r"(\d+):(\d+)")
AARCH32_EL0 = 2     # ID_AA64PFR0_EL1.EL0 = 0b0010: EL0 in AArch64 and AArch32


class TableError(Exception):
    def __init__(self, path, line, msg):
        super().__init__("%s:%d: %s" % (path, line, msg))
        self.line = line


class Entry:
    def __init__(self, line, reg, field, mask):
        self.line, self.reg, self.field, self.mask = line, reg, field, mask
        self.since = None       # (lo, hi): lo None for ..B
        self.since_text = ""
        self.sources = []
        self.until = None       # (lo, hi) or None
        self.until_source = None
        self.stable = []        # [((major, minor), patch, source)]
        self.cap = None
        self.aarch32 = False
        self.approx = False

    def __repr__(self):
        return "%s.%s %s" % (self.reg, self.field, self.since_text)


class Table:
    def __init__(self):
        self.sources = {}
        self.entries = []


def read_caps(path=CAPS):
    """Capability names of arch/caps/caps.txt (its first word on a line)."""
    names = set()
    try:
        with open(path, encoding="utf-8") as f:
            for raw in f:
                w = raw.split("#", 1)[0].split()
                if w and w[0].startswith("KVM_CAP_"):
                    names.add(w[0])
    except OSError:
        pass
    return names


def _version(text):
    m = VERSION.fullmatch(text)
    return (int(m.group(1)), int(m.group(2))) if m else None


def _range(text):
    """X.Y, A..B or ..B -> (lo, hi) with lo None for ..B; None if malformed."""
    if ".." in text:
        lo_t, _, hi_t = text.partition("..")
        lo = _version(lo_t) if lo_t else None
        hi = _version(hi_t)
        if hi is None or (lo_t and lo is None) or (lo is not None and lo > hi):
            return None
        return lo, hi
    v = _version(text)
    return (v, v) if v else None


def parse(text, catalogue, caps=None, path="<table>"):
    caps = read_caps() if caps is None else caps
    t = Table()
    taken = {}      # reg -> [(mask, line)]
    for n, raw in enumerate(text.splitlines(), 1):
        w = raw.split("#", 1)[0].split()
        if not w:
            continue

        def err(msg):
            raise TableError(path, n, msg)
        if w[0] == "source":
            if len(w) < 3:
                err("source: expected NAME TEXT")
            if not NAME.fullmatch(w[1]):
                err("source: bad name %r" % w[1])
            if w[1] in t.sources:
                err("source %s defined twice" % w[1])
            t.sources[w[1]] = " ".join(w[2:])
            continue
        if w[0] != "writable":
            err("unknown keyword %r (source, writable)" % w[0])
        if len(w) < 5:
            err("writable: expected REGISTER FIELD SINCE SOURCE [OPTION...]")
        reg, field, since, src = w[1:5]
        c = catalogue.get(reg)
        if c is None or c["kind"] != "reg":
            err("unknown register %r (not a register of idregs.txt)" % reg)
        described = 0
        for f in c["fields"]:
            described |= f.mask
        m = BITS.fullmatch(field)
        if m:
            hi, lo = int(m.group(1)), int(m.group(2))
            if hi > 63 or lo > hi:
                err("bits %s: not within 63:0" % field)
            mask = ((1 << (hi - lo + 1)) - 1) << lo
            if mask & described:
                err("bits %s of %s overlap a field idregs.txt describes" % (field, reg))
        else:
            fl = [f for f in c["fields"] if f.name == field]
            if not fl:
                err("%s has no field %r in idregs.txt" % (reg, field))
            mask = fl[0].mask
        for other, ln in taken.get(reg, []):
            if other & mask:
                err("%s.%s overlaps line %d" % (reg, field, ln))
        taken.setdefault(reg, []).append((mask, n))
        e = Entry(n, reg, field, mask)
        e.since = _range(since)
        if e.since is None:
            err("SINCE %r: expected X.Y, A..B or ..B" % since)
        e.since_text = since

        def sources(text):
            names = text.split("+")
            for s in names:
                if s not in t.sources:
                    err("source %r is not defined above" % s)
            return names
        e.sources = sources(src)
        for opt in w[5:]:
            key, eq, val = opt.partition("=")
            if opt == "approx":
                e.approx = True
            elif key == "until" and eq:
                rng, colon, s = val.partition(":")
                e.until = _range(rng)
                if e.until is None or not colon:
                    err("until=%s: expected RANGE:SOURCE" % val)
                if (e.until[0] or e.until[1]) <= e.since[1]:
                    err("until=%s is not after SINCE %s" % (rng, since))
                e.until_source = sources(s)
            elif key == "stable" and eq:
                rel, colon, s = val.partition(":")
                m = STABLE.fullmatch(rel)
                if not m or not colon:
                    err("stable=%s: expected X.Y.Z:SOURCE" % val)
                e.stable.append(((int(m.group(1)), int(m.group(2))), int(m.group(3)), sources(s)))
            elif key == "cap" and eq:
                if val not in caps:
                    err("cap=%s: not a capability of arch/caps/caps.txt" % val)
                e.cap = val
            elif key == "host" and eq:
                if val != "aarch32":
                    err("host=%s: expected host=aarch32" % val)
                e.aarch32 = True
            else:
                err("unknown option %r" % opt)
        t.entries.append(e)
    return t


def load(path=TABLE, catalogue=None):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    return parse(text, catalogue or lab.read_catalogue(), path=os.path.relpath(path, ROOT))


def parse_release(text):
    """'6.12.95+deb12-arm64' -> (6, 12, 95); a missing patch level is 0."""
    m = re.match(r"(\d+)\.(\d+)(?:\.(\d+))?", text or "")
    if not m:
        return None
    return int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)


def _within(rng, rel2):
    """True: from RNG on (RNG's last release reached); False: before it; None: undecided."""
    lo, hi = rng
    if rel2 >= hi:
        return True
    if lo is not None and rel2 < lo:
        return False
    return None


def expected(e, release, aarch32):
    """What E predicts for a host of kernel RELEASE (major, minor, patch):
    True writable, False not, None undecided by the table's sources."""
    if e.aarch32 and not aarch32:
        return False
    w = _within(e.since, release[:2])
    if w is not True:
        for series, patch, _ in e.stable:
            if release[:2] == series and release[2] >= patch:
                w = True
    if e.until is not None:
        u = _within(e.until, release[:2])
        if u is True:
            w = False
        elif u is None and w is True:
            w = None
    return w


def _mask_of(report, reg):
    """The report's writable mask of REG: 0 when KVM reported none for a
    register it lists, None when the report cannot say."""
    a = report.get("arm64") or {}
    if "writable" not in a or reg not in (a.get("id_regs") or {}):
        return None
    return int((a.get("writable") or {}).get(reg, "0"), 16)


def _aarch32(report):
    try:
        return int(report["arm64"]["id_regs"]["ID_AA64PFR0_EL1"], 16) & 0xf == AARCH32_EL0
    except (KeyError, TypeError, ValueError):
        return False


def load_runs(dirs):
    """[(kernel release, {host: report})], one per directory; a directory with
    reports/ is a lab output directory."""
    runs = []
    for d in dirs:
        rd = os.path.join(d, "reports") if os.path.isdir(os.path.join(d, "reports")) else d
        reports = {}
        for name in sorted(os.listdir(rd)):
            if name.endswith(".json"):
                with open(os.path.join(rd, name), encoding="utf-8") as f:
                    doc = json.load(f)
                reports[(doc.get("host") or {}).get("id") or name[:-5]] = doc
        kernels = sorted({(r.get("host") or {}).get("kernel") or "?" for r in reports.values()})
        if len(kernels) != 1:
            raise ValueError("%s: reports of %s, expected one kernel" % (rd, ", ".join(kernels) or "no kernel"))
        runs.append((kernels[0], reports))
    return runs


class Result:
    def __init__(self):
        self.lines = []
        self.failures = []
        self.observed = 0
        self.agree = 0
        self.summary = ""


def _fmt_bits(mask):
    lo = (mask & -mask).bit_length() - 1
    return "%d:%d" % (mask.bit_length() - 1, lo)


def check(table, runs, catalogue):
    res = Result()
    for e in table.entries:
        seen = []       # (kernel, host, predicted, observed)
        for kernel, reports in runs:
            rel = parse_release(kernel)
            for h, r in sorted(reports.items()):
                m = _mask_of(r, e.reg)
                want = expected(e, rel, _aarch32(r)) if rel else None
                if m is None or want is None:
                    continue
                bits = m & e.mask
                got = True if bits == e.mask else False if bits == 0 else "partly"
                seen.append((kernel, h, want, got))
        if not seen:
            continue
        res.observed += 1
        bad = [s for s in seen if s[2] is not s[3]]
        if not bad:
            res.agree += 1
            continue
        by = {}
        for kernel, h, want, got in bad:
            by.setdefault((kernel, want, got), []).append(h)
        for (kernel, want, got), hosts in sorted(by.items(), key=lambda x: x[0][0]):
            res.failures.append("%s.%s (line %d, since %s): on %s (%s) KVM's mask has it %s, the table says %s"
                                % (e.reg, e.field, e.line, e.since_text, kernel, ", ".join(hosts),
                                   "writable only partly" if got == "partly" else
                                   "writable" if got else "not writable",
                                   "writable" if want else "not writable"))
    # writable in a report, absent from the table
    listed = {}
    for e in table.entries:
        listed.setdefault(e.reg, []).append(e)
    missing = {}
    for kernel, reports in runs:
        for h, r in sorted(reports.items()):
            for reg, sval in sorted(((r.get("arm64") or {}).get("writable") or {}).items()):
                m = int(sval, 16)
                c = catalogue.get(reg)
                covered = 0
                for e in listed.get(reg, []):
                    covered |= e.mask
                names = []
                if c is not None:
                    for f in c["fields"]:
                        if m & f.mask and not covered & f.mask:
                            names.append(f.name)
                rest = m & ~covered
                if c is not None:
                    for f in c["fields"]:
                        rest &= ~f.mask
                while rest:
                    lo = rest & -rest
                    run = lo
                    while rest & (run << 1):
                        run |= run << 1
                    names.append("bits " + _fmt_bits(run))
                    rest &= ~run
                for n in names:
                    missing.setdefault((reg, n), {}).setdefault(kernel, []).append(h)
    for (reg, n), where in sorted(missing.items()):
        res.failures.append("%s.%s: writable on %s, not in the table" % (
            reg, n, "; ".join("%s (%s)" % (k, ", ".join(hs)) for k, hs in sorted(where.items()))))
    undecided = len(table.entries) - res.observed
    res.lines.append("kernel table: %d entries, lab kernels: %s" % (
        len(table.entries), ", ".join("%s (%d hosts)" % (k, len(r)) for k, r in runs)))
    for f in res.failures:
        res.lines.append("  FAIL " + f)
    if undecided:
        res.lines.append("  %d entries not observed (a register no lab report has, or a release "
                         "their sources only bound)" % undecided)
    res.summary = "kernel table: %d entries observed, %d agree" % (res.observed, res.agree)
    res.lines.append(res.summary)
    res.lines.append("kernel-table: %d passed, %d failed" % (res.agree, len(res.failures)))
    return res


def main(argv):
    ap = argparse.ArgumentParser(prog="kvmtable.py", description=__doc__.split("\n\n")[0])
    ap.add_argument("--table", default=TABLE)
    ap.add_argument("command", choices=("lint", "check"))
    ap.add_argument("runs", nargs="*")
    a = ap.parse_args(argv)
    cat = lab.read_catalogue()
    try:
        t = load(a.table, cat)
    except (OSError, TableError) as e:
        print("kvmtable: error: %s" % e, file=sys.stderr)
        return 2
    if a.command == "lint":
        print("%s: %d entries, %d sources" % (os.path.relpath(a.table, ROOT), len(t.entries), len(t.sources)))
        return 0
    if not a.runs:
        print("kvmtable: error: check needs at least one lab run", file=sys.stderr)
        return 2
    try:
        runs = load_runs(a.runs)
    except (OSError, ValueError) as e:
        print("kvmtable: error: %s" % e, file=sys.stderr)
        return 2
    res = check(t, runs, cat)
    print("\n".join(res.lines))
    return 1 if res.failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
