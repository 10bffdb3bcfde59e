#!/usr/bin/env python3
"""Convert InstLatx64 CPUID dumps into cpufleet reports (x86).

The inputs are `*_CPUID*.txt` files of the public InstLatx64 collection
(github.com/InstLatx64/InstLatx64, a copy of instlatx64.atw.hu; no licence
file: the values are measured facts, keep the attribution beside any copy).
Each dump becomes one report document in the cpufleet "contract v1" format
(schema cpufleet.report/v1) with host.arch "x86" and an "x86" section:

    "x86": {"vendor": "GenuineIntel",
            "cpuid": [{"leaf": "0x00000007", "subleaf": "0x00000000",
                       "eax": "0x...", "ebx": ..., "ecx": ..., "edx": ...}],
            "msrs": {"0x0000010a": "0x..."}}

What is read (research/x86-kvm.md section 6.1 gives the grammar and the four
dialects of these files):

* CPUID data lines, strictly
  `CPUID LLLLLLLL: EAX-EBX-ECX-EDX [SL nn] [notes]` (upper-case hex; `[SL nn]`
  is the subleaf in hex; the notes are never parsed).  Lines that begin with
  `CPUID` but not with `CPUID <8 hex digits>:` are preamble (`CPUID
  Manufacturer : ...`) and ignored; a line that begins like a data line but
  does not match the grammar is an error.
* The first logical CPU only: reading stops at the first section header
  (`------[ ... ]------`) or `CPU#nnn AffMask:` line after the first data line,
  or at a second `CPUID 00000000:` line (the bare dialect).  Other CPUs differ
  in topology fields only.
* Subleaves.  Subleaf-indexed leaves (INDEXED below) keep every listed
  subleaf.  Any other leaf gets subleaf 0x00000000, and when listed twice the
  first line wins (a line with `[SL nn]`, nn != 00, is skipped for it).  When
  a file gives an indexed leaf without `[SL nn]` markers (older AIDA64
  dumps, the bare dialect), the subleaves are inferred: in order 0, 1, 2...
  for the enumerated leaves; for leaf 0xD, 0xF, 0x10 and 0x80000020, whose
  subleaves after 0 follow a bit map in subleaf 0, from that bit map (leaf
  0xD: the XCR0 bits 2..63 of 0xD.0 EDX:EAX, with subleaf 1 first when the
  count says it is there; old AIDA64 skips 0xD.1).  When the count does not
  fit, the converter stops with an error rather than guess.
* Leaves above the maxima the dump reports (0x0.EAX for the basic range,
  0x80000000.EAX for the extended range, 0x40000000.EAX for the hypervisor
  range) are dropped: the CPU does not define them (AMD dumps list 0x8FFFFFFF).
* SYSCALL.  Intel CPUs set CPUID 0x80000001 EDX[11] (SYSCALL) only when
  CPUID runs in 64-bit mode; AIDA64 (the dialects with section headers) runs
  it from a 32-bit process, so its Intel dumps read 0 there although a
  64-bit host kernel, and KVM, see 1.  The value is kept as dumped unless
  --lm-implies-syscall is given: then SYSCALL is set wherever LM
  (0x80000001 EDX[29]) is.
* vendor: the vendor string of leaf 0 (EBX, EDX, ECX).
* msrs: IA32_ARCH_CAPABILITIES (0x10A) from the first MSR section, when the
  dump has it and the read did not fail (`< FAILED >`).  No other MSR, and no
  TSC fields: the dumps do not say what KVM would offer.

These are raw bare-metal values read under another OS, not what
KVM_GET_SUPPORTED_CPUID returns: OS-dependent bits (OSXSAVE, OSPKE, XCR0-
sized XSAVE areas), the hypervisor bit 0, APIC ids, and features KVM does not
virtualise all appear as the hardware gave them.

The host id comes from the file name unless --host-id is given:
`<Vendor><signature>_<Codename>[_NN]_CPUID[N].txt` -> `<codename>[-NN]`, with
short names for well-known code names (SapphireRapids -> spr, GraniteRapids
-> gnr, SandyBridgeEP -> snb-ep); a family prefix such as `K19_` is dropped;
other code names are lower-cased with '-' between words.

Standard library only.  Exit status: 0 done, 2 an error: usage, an input
(the message names file:line when a line is at fault) or an output that could
not be written (then no output is left half-written).  Outputs are
written durably (temporary file, fsync, rename); an output that is a
character device or FIFO is written in place, a symbolic link followed.

Examples:
    tools/dev/instlatx2report.py -d tests/data/x86 DUMP.txt...
    tools/dev/instlatx2report.py --host-id spr-a -o spr-a.json DUMP.txt
    tools/dev/instlatx2report.py DUMP.txt            # to standard output
"""

import argparse
import errno
import json
import os
import re
import stat
import sys
import tempfile

SCHEMA = "cpufleet.report/v1"
PROG = "instlatx2report"

# Leaves whose output depends on ECX (the subleaf).
INDEXED = frozenset([
    0x4, 0x7, 0xB, 0xD, 0xF, 0x10, 0x12, 0x14, 0x17, 0x18, 0x1D, 0x1E, 0x1F,
    0x20, 0x23, 0x24, 0x8000001D, 0x80000020, 0x80000026,
])

# Indexed leaves whose subleaves after 0 are the set bits of a register of
# subleaf 0 (resource ids), used only when a dump has no [SL nn] markers:
# leaf -> function(regs of subleaf 0) -> bit map.
BITMAP_LEAVES = {
    0xD: lambda r: ((r[3] << 32) | r[0]) & ~0x3,  # XCR0 components 2..63
    0xF: lambda r: r[3] & ~0x1,                    # EDX: L3 monitoring = 1
    0x10: lambda r: r[1] & ~0x1,                   # EBX: L3/L2 CAT, MBA...
    0x80000020: lambda r: r[1] & ~0x1,             # EBX: L3 BW, BMEC...
}

ARCH_CAPABILITIES = 0x10A

SHORT_NAMES = {
    "sandybridgeep": "snb-ep",
    "sandybridge": "snb",
    "ivybridgeep": "ivb-ep",
    "haswellep": "hsw-ep",
    "broadwelle": "bdw-e",
    "broadwellep": "bdw-ep",
    "skylakexeon": "skx",
    "skylakesp": "skx",
    "cascadelakesp": "clx",
    "cascadelakexeon": "clx",
    "icx": "icx",
    "sapphirerapids": "spr",
    "emeraldrapids": "emr",
    "graniterapids": "gnr",
    "sierraforest": "srf",
}

_CPUID_START = re.compile(r"^CPUID [0-9A-Fa-f]{8}:")
_CPUID = re.compile(
    r"^CPUID ([0-9A-F]{8}): ([0-9A-F]{8})-([0-9A-F]{8})-([0-9A-F]{8})-"
    r"([0-9A-F]{8})(?:\s*\[SL ([0-9A-F]{2})\])?(.*)$")
_MSR_START = re.compile(r"^MSR [0-9A-Fa-f]{8}:")
_MSR = re.compile(
    r"^MSR ([0-9A-F]{8}): (?:([0-9A-F]{4})-([0-9A-F]{4})-([0-9A-F]{4})-"
    r"([0-9A-F]{4})|< FAILED >)(.*)$")
_SECTION = re.compile(r"^-+\[ (.*) \]-+\s*$")
_AFFMASK = re.compile(r"^CPU#\d+ AffMask:")


class InputError(Exception):
    """A problem with an input file; the message names file[:line]."""


def _err(path, lineno, msg):
    if lineno:
        return InputError("%s:%d: %s" % (path, lineno, msg))
    return InputError("%s: %s" % (path, msg))


# ---------------------------------------------------------------------------
# Parsing.

def parse_cpuid_lines(lines, path):
    """The CPUID data lines of the first logical CPU, as a list of
    (lineno, leaf, (eax, ebx, ecx, edx), subleaf-or-None)."""
    out = []
    for lineno, line in enumerate(lines, 1):
        line = line.rstrip("\r\n")
        if out and (_SECTION.match(line) or _AFFMASK.match(line)):
            break
        if not _CPUID_START.match(line):
            continue
        m = _CPUID.match(line)
        if not m:
            raise _err(path, lineno, "a CPUID line must read "
                       "'CPUID LLLLLLLL: EAX-EBX-ECX-EDX [SL nn]' in upper-case "
                       "hex: %r" % line[:100])
        leaf = int(m.group(1), 16)
        if leaf == 0 and out:
            break          # the bare dialect: the next CPU starts here
        regs = tuple(int(m.group(i), 16) for i in range(2, 6))
        sub = int(m.group(6), 16) if m.group(6) is not None else None
        out.append((lineno, leaf, regs, sub))
    if not out:
        raise _err(path, 0, "no CPUID data line "
                   "('CPUID LLLLLLLL: EAX-EBX-ECX-EDX')")
    if out[0][1] != 0:
        raise _err(path, out[0][0], "the first logical CPU's data does not "
                   "start with leaf 0x00000000")
    return out


def parse_arch_capabilities(lines, path):
    """IA32_ARCH_CAPABILITIES from the first MSR section, or None."""
    in_msr = False
    seen_msr = False
    for lineno, line in enumerate(lines, 1):
        line = line.rstrip("\r\n")
        sec = _SECTION.match(line)
        if sec:
            if seen_msr:
                break               # only the first MSR section
            in_msr = sec.group(1).startswith("MSR Registers")
            continue
        if not _MSR_START.match(line):
            continue
        m = _MSR.match(line)
        if not m:
            raise _err(path, lineno, "an MSR line must read "
                       "'MSR XXXXXXXX: hhhh-hhhh-hhhh-hhhh' or "
                       "'MSR XXXXXXXX: < FAILED >': %r" % line[:100])
        if not in_msr and seen_msr:
            continue
        seen_msr = True
        if int(m.group(1), 16) != ARCH_CAPABILITIES:
            continue
        if m.group(2) is None:
            return None             # the read faulted: no such MSR
        return int("".join(m.group(i) for i in range(2, 6)), 16)
    return None


def _infer_subleaves(path, leaf, entries):
    """Subleaf numbers for the ENTRIES (list of (lineno, regs)) of an indexed
    LEAF listed without [SL nn] markers."""
    n = len(entries)
    if leaf not in BITMAP_LEAVES or n == 1:
        return list(range(n))
    bitmap = BITMAP_LEAVES[leaf](entries[0][1])
    comps = [b for b in range(64) if bitmap >> b & 1]
    if n - 1 == len(comps):
        subs = [0] + comps
    elif leaf == 0xD and n - 2 == len(comps):
        subs = [0, 1] + comps
    else:
        raise _err(path, entries[1][0], "leaf 0x%08x is listed %d times "
                   "without [SL nn] markers and subleaf 0 announces %d "
                   "subleaves after it (%s): cannot tell which line is which"
                   % (leaf, n, len(comps),
                      ", ".join("%d" % c for c in comps) or "none"))
    if leaf == 0xD:
        for (lineno, regs), s in zip(entries, subs):
            if s >= 2 and regs[0] == 0:
                raise _err(path, lineno, "leaf 0x0000000d taken as subleaf "
                           "%d (from the XCR0 bits of subleaf 0) but its "
                           "size (EAX) is 0" % s)
    return subs


def build_cpuid(data, path):
    """{(leaf, subleaf): regs} from the data lines of one logical CPU."""
    by_leaf = {}
    order = []
    for lineno, leaf, regs, sub in data:
        if leaf not in by_leaf:
            by_leaf[leaf] = []
            order.append(leaf)
        by_leaf[leaf].append((lineno, regs, sub))

    table = {}
    for leaf in order:
        rows = by_leaf[leaf]
        if leaf not in INDEXED:
            for lineno, regs, sub in rows:
                if sub in (None, 0):
                    table[(leaf, 0)] = regs    # the first listing wins
                    break
            continue
        marked = [r for r in rows if r[2] is not None]
        if marked and len(marked) != len(rows):
            bad = next(r for r in rows if r[2] is None)
            raise _err(path, bad[0], "leaf 0x%08x is listed both with and "
                       "without [SL nn] markers" % leaf)
        if marked:
            subs = [r[2] for r in rows]
        else:
            subs = _infer_subleaves(path, leaf, [(r[0], r[1]) for r in rows])
        for (lineno, regs, _), s in zip(rows, subs):
            if (leaf, s) in table:
                if table[(leaf, s)] != regs:
                    raise _err(path, lineno, "leaf 0x%08x subleaf 0x%x is "
                               "listed twice with different values"
                               % (leaf, s))
                continue
            table[(leaf, s)] = regs

    # Drop leaves above the maxima the CPU reports for their range.
    maxima = {}
    for base in (0x0, 0x40000000, 0x80000000):
        if (base, 0) in table:
            maxima[base] = table[(base, 0)][0]
    kept = {}
    for (leaf, sub), regs in table.items():
        if leaf >= 0x80000000:
            base = 0x80000000
        elif leaf >= 0x40000000:
            base = 0x40000000
        else:
            base = 0
        if leaf != base and (base not in maxima or leaf > maxima[base]
                             or leaf > base + 0xFFFF):
            continue                   # e.g. AMD's 0x8FFFFFFF
        kept[(leaf, sub)] = regs
    return kept


def vendor_of(table, path):
    if (0, 0) not in table:
        raise _err(path, 0, "no CPUID leaf 0x00000000")
    _, ebx, ecx, edx = table[(0, 0)]
    raw = b"".join(v.to_bytes(4, "little") for v in (ebx, edx, ecx))
    try:
        s = raw.decode("ascii")
    except UnicodeDecodeError:
        s = None
    if s is None or not s.isprintable() or len(s.strip()) != 12:
        raise _err(path, 0, "leaf 0x00000000 does not hold a vendor string "
                   "(EBX EDX ECX = %r)" % raw)
    return s


# ---------------------------------------------------------------------------
# Host ids.

_FILE_NAME = re.compile(
    r"^(?:GenuineIntel|AuthenticAMD|HygonGenuine|CentaurHauls|[A-Za-z ]{12})"
    r"([0-9A-Fa-f]{7})_(.+?)_CPUID(\d*)\.txt$")


def _camel_to_words(s):
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "-", s).lower()


def host_id_from_name(path):
    base = os.path.basename(path)
    m = _FILE_NAME.match(base)
    if not m:
        raise _err(path, 0, "cannot derive a host id from the file name "
                   "(expected <Vendor><signature>_<Codename>[_NN]_CPUID[N].txt);"
                   " give --host-id")
    parts = m.group(2).split("_")
    if len(parts) > 1 and re.match(r"^K\d+$", parts[0]):
        parts = parts[1:]                      # AMD family prefix (K19_)
    num = None
    if len(parts) > 1 and parts[-1].isdigit():
        num = parts.pop()
    code = "".join(parts)
    name = SHORT_NAMES.get(code.lower()) or \
        "-".join(_camel_to_words(p) for p in parts)
    hid = name + ("-" + num if num else "") + \
        ("-cpuid" + m.group(3) if m.group(3) else "")
    hid = re.sub(r"[^a-z0-9.-]+", "-", hid).strip("-")
    if not hid or len(hid) > 127:
        raise _err(path, 0, "the host id derived from the file name is not "
                   "usable (%r); give --host-id" % hid)
    return hid


# ---------------------------------------------------------------------------
# Output.

def build_report(path, text, host_id, hostname=None, collected_at=None,
                 lm_implies_syscall=False):
    lines = text.splitlines()
    data = parse_cpuid_lines(lines, path)
    table = build_cpuid(data, path)
    ext = table.get((0x80000001, 0))
    if lm_implies_syscall and ext and ext[3] >> 29 & 1:
        table[(0x80000001, 0)] = ext[:3] + (ext[3] | 1 << 11,)
    vendor = vendor_of(table, path)
    arch_caps = parse_arch_capabilities(lines, path)

    cpuid = []
    for (leaf, sub) in sorted(table):
        eax, ebx, ecx, edx = table[(leaf, sub)]
        cpuid.append({
            "leaf": "0x%08x" % leaf, "subleaf": "0x%08x" % sub,
            "eax": "0x%08x" % eax, "ebx": "0x%08x" % ebx,
            "ecx": "0x%08x" % ecx, "edx": "0x%08x" % edx,
        })
    x86 = {"vendor": vendor, "cpuid": cpuid}
    if arch_caps is not None:
        x86["msrs"] = {"0x%08x" % ARCH_CAPABILITIES: "0x%016x" % arch_caps}
    doc = {
        "schema": SCHEMA,
        "host": {"id": host_id, "hostname": hostname or host_id,
                 "arch": "x86"},
    }
    if collected_at:
        doc["collected_at"] = collected_at
    doc["x86"] = x86
    return doc


def write_durably(path, text):
    """TEXT to PATH: a temporary file beside it, fsync, rename.  What PATH
    already is stays so (as cpufleet's -o): a symbolic link is kept and its
    target, a regular file, replaced; a character device or FIFO is written
    in place, never renamed over; anything else is refused (OSError)."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        if os.path.islink(path):
            raise OSError(errno.ENOENT, "a symbolic link to nothing", path)
        st = None
    if st is not None:
        if stat.S_ISCHR(st.st_mode) or stat.S_ISFIFO(st.st_mode):
            fd = os.open(path, os.O_WRONLY | os.O_NOCTTY)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
            return
        if not stat.S_ISREG(st.st_mode):
            raise OSError(errno.EINVAL, "not a regular file", path)
        path = os.path.realpath(path)
    d = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".",
                               suffix=".tmp", dir=d)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    dfd = os.open(d, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)


_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
_HOST_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,126}$")


def add_output_args(p, what):
    """-d DIR, -o FILE and --host-id on the parser P of a converter that
    makes one report per WHAT."""
    out = p.add_mutually_exclusive_group()
    out.add_argument("-d", "--out-dir", metavar="DIR",
                     help="write DIR/<host id>.json for each %s" % what)
    out.add_argument("-o", "--output", metavar="FILE",
                     help="output file (one %s only; '-': standard output)"
                     % what)
    p.add_argument("--host-id", help="host id (one %s only; default: "
                   "derived from the file name)" % what)


def check_output_args(p, args, n, what):
    """Usage errors in the arguments add_output_args gave, for N inputs."""
    if n > 1 and not args.out_dir:
        p.error("several %ss need -d DIR" % what)
    if n > 1 and args.host_id:
        p.error("--host-id takes one %s" % what)
    if args.host_id and not _HOST_ID.match(args.host_id):
        p.error("--host-id: 1 to 127 of A-Z a-z 0-9 . _ : - "
                "(starting with a letter or digit)")
    if args.out_dir and not os.path.isdir(args.out_dir):
        p.error("-d %s: not a directory" % args.out_dir)


def converter_parser(prog, description, what, inputs_help):
    """The parser of a converter that makes one report per WHAT: the
    inputs, -d DIR, -o FILE and --host-id (add_output_args)."""
    p = argparse.ArgumentParser(
        prog=prog, description=description,
        epilog="With -d DIR each %s becomes DIR/<host id>.json; with -o "
               "FILE (one %s) that file ('-' standard output); otherwise the "
               "report goes to standard output (one %s).  Exit status: 0 "
               "done, 2 an error (usage, an input, or writing)."
               % (what, what, what),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("inputs", nargs="+", metavar=what.upper(),
                   help=inputs_help)
    add_output_args(p, what)
    return p


def main(argv=None):
    p = converter_parser(
        "instlatx2report.py",
        "Convert InstLatx64 CPUID dumps (*_CPUID*.txt) into "
        "cpufleet.report/v1 documents (host.arch \"x86\"), one "
        "report per dump, from the first logical CPU.  The values "
        "are raw bare-metal CPUID, not what KVM offers a guest.", "dump",
        "InstLatx64 CPUID dump (.txt)")
    p.add_argument("--hostname", help="host.hostname (one dump only; "
                   "default: the host id)")
    p.add_argument("--collected-at", metavar="TIME",
                   help="collected_at, UTC YYYY-MM-DDTHH:MM:SSZ "
                        "(default: none)")
    p.add_argument("--lm-implies-syscall", action="store_true",
                   help="set CPUID 0x80000001 EDX[11] (SYSCALL) where LM is "
                        "set: Intel reads it as 1 only in 64-bit mode, and "
                        "AIDA64 dumps come from a 32-bit process (default: "
                        "keep the dumped value)")
    args = p.parse_args(argv)

    check_output_args(p, args, len(args.inputs), "dump")
    if len(args.inputs) > 1 and args.hostname:
        p.error("--hostname takes one dump")
    if args.collected_at and not _TIMESTAMP.match(args.collected_at):
        p.error("--collected-at must look like 2026-11-22T00:00:00Z")

    seen = {}

    def convert(path):
        try:
            with open(path, encoding="utf-8", errors="strict") as f:
                text = f.read()
        except UnicodeDecodeError as e:
            raise _err(path, 0, "not UTF-8 text (%s)" % e.reason)
        except OSError as e:
            raise _err(path, 0, e.strerror or str(e))
        hid = args.host_id or host_id_from_name(path)
        if hid in seen:
            raise _err(path, 0, "host id %r also derived from %s; give "
                       "the dumps distinct names" % (hid, seen[hid]))
        seen[hid] = path
        return hid, build_report(path, text, hid, args.hostname,
                                 args.collected_at, args.lm_implies_syscall)

    return convert_all(PROG, args.inputs, convert, args.out_dir, args.output)


def convert_all(prog, inputs, convert, out_dir, output):
    """CONVERT(path) -> (host id, report) for every input first, so that
    nothing is written if one is bad (InputError: named on stderr, exit
    2); then each report to OUT_DIR/<host id>.json, else to OUTPUT, else
    ('-' or none) to standard output.  Returns the exit status: 2 once one
    cannot be written, else 0."""
    results = []
    try:
        for path in inputs:
            hid, doc = convert(path)
            if any(h == hid for h, _ in results):
                raise InputError("%s: host id %r given twice" % (path, hid))
            results.append((hid, json.dumps(doc, indent=2) + "\n"))
    except InputError as e:
        print("%s: %s" % (prog, e), file=sys.stderr)
        return 2
    for hid, text in results:
        dest = os.path.join(out_dir, hid + ".json") if out_dir else output
        if dest in (None, "-"):
            sys.stdout.write(text)
            continue
        try:
            write_durably(dest, text)
        except OSError as e:
            print("%s: %s: cannot write: %s" % (prog, dest, e.strerror or e),
                  file=sys.stderr)
            return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
