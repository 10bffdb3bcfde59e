#!/usr/bin/env python3
"""The arm64 lab, host side (tools/lab/PROTOCOL.md): boots emulated arm64 hosts under QEMU
(TCG, KVM inside), runs the lab agent's jobs on them and compares what KVM did with what the
cpufleet engine predicts.

  collect  on every host                  -> OUT/reports/<h>.json
  baseline cpufleet baseline              -> OUT/baseline.json, OUT/own/<h>.json
  verify   on every host                  -> OUT/verify/<h>/{verify.json,state__<P>.bin,variants.json}
  restore  on every host B, every state   -> OUT/restore/<B>/restore.json
  engine   cpufleet check --json per (A, B, P), compared with KVM's kvm_ok
           -> OUT/matrix.txt, OUT/matrix.json
  variants cpufleet check --json per one-field variant of each host's own profile, compared
           with KVM's answer on that host -> OUT/variants.txt, OUT/variants.json;
           last lines `lab: N/N verdicts agree`, `lab: N passed, N failed`

A lab fault (no verdict from KVM) is an error cell, never a refusal; a refusal agrees only
when the engine names the register KVM refused.
Exit status: 0 when every verdict passes, every host accepted the baseline and its guest
read back the profile's registers; 1 otherwise; 2 for usage or set-up errors.
Python 3 standard library only.
"""

import argparse
import base64
import binascii
import collections
import concurrent.futures
import gzip
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_MODELS = "cortex-a53,cortex-a57,cortex-a72,cortex-a76,neoverse-n1,a64fx,max"

# Every host gets the same MIDR_EL1. Debian's 6.12 KVM refuses any MIDR_EL1, REVIDR_EL1 or
# AIDR_EL1 other than the host's own (KVM_SET_ONE_REG -> EINVAL): they become writable only
# with KVM_CAP_ARM_WRITABLE_IMP_ID_REGS (Linux 6.15). With each model's real MIDR every
# cross-model migration would be refused on MIDR alone, hiding every other verdict. Pinning
# one value keeps the comparison about the feature registers. Implementer 0x00 is reserved
# for software use, so no host kernel (nor KVM) applies core-specific errata workarounds
# to it: 0x000f0010 = implementer 0x00, variant 0, architecture 0xf, part 0x001, revision 0.
# `--midr real` keeps each model's own MIDR; the engine must then predict those refusals.
LAB_MIDR = "0x000f0010"

PROFILES = ("own", "baseline")
EXPECTED_FILES = {"collect": ["report.json"], "verify": ["verify.json"], "restore": ["restore.json"]}
OWN_DIRS = ("collect", "verify", "restore", "reports", "own", "logs", "variants")
OWN_FILES = ("baseline.json", "matrix.txt", "matrix.json", "variants.txt", "variants.json", "summary.json")
B64_LINE = re.compile(r"[A-Za-z0-9+/]+={0,2}")
FILE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")
POWEROFF_GRACE = 15.0  # seconds QEMU gets to exit after `@@CF DONE`

_print_lock = threading.Lock()


class LabError(Exception):
    """A set-up or usage problem: exit status 2."""


def say(msg=""):
    with _print_lock:
        print(msg, flush=True)


def progress(msg):
    with _print_lock:
        print(msg, file=sys.stderr, flush=True)


def host_id(model):
    m = model.strip().lower()
    for prefix in ("cortex-", "neoverse-"):
        if m.startswith(prefix):
            m = m[len(prefix):]
    return re.sub(r"[^a-z0-9_-]", "-", m)


def kernel_package(kernel):
    """The `package` line tools/lab/setup.sh wrote next to KERNEL
    (PACKAGE VERSION META-VERSION SUITE RELEASE), or None."""
    try:
        with open(os.path.join(os.path.dirname(kernel), "package"), encoding="utf-8") as f:
            return f.read().strip() or None
    except OSError:
        return None


def rel(path):
    try:
        r = os.path.relpath(path)
        return r if not r.startswith("../..") else path
    except ValueError:
        return path


def read_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def write_file(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def verdict_lines(label, agree, total, passed, failed):
    """The run's last two lines: the verdicts, and the count tools/check.sh
    sums. With a LABEL (the kernel, e.g. 6.12): `lab 6.12: ...` and
    `lab-6.12: N passed, N failed`."""
    head = "lab %s:" % label if label else "lab:"
    count = "lab-%s:" % label if label else "lab:"
    return ["%s %d/%d verdicts agree" % (head, agree, total),
            "%s %d passed, %d failed" % (count, passed, failed)]


# A console line that says why a boot went wrong (the kernel's own words)
KERNEL_WORDS = re.compile(r"Kernel panic|kvm \[\d+\]:|Oops|BUG:|Unable to|Internal error|"
                          r"error|failed|not syncing", re.IGNORECASE)


def last_words(qemu_said, console):
    """What a boot that never finished said last: QEMU's own messages first,
    else the kernel's last panic, KVM or error line, else the console's last line."""
    if qemu_said:
        return "; ".join(qemu_said)
    lines = [c.strip() for c in console if c.strip()]
    for c in reversed(lines):
        if KERNEL_WORDS.search(c):
            return c
    return lines[-1] if lines else None


# --------------------------------------------------------------------------- variants

CATALOGUE = os.path.join(ROOT, "arch", "arm64", "idregs.txt")
# Facts the lab programs on restore and in variants: SVE lengths
# (KVM_REG_ARM64_SVE_VLS before finalize) and PMU counters (PMCR_EL0.N, read
# back: KVM ignores a larger N). CNTFRQ and VGIC it cannot: the guest reads
# the host's CNTFRQ_EL0, and every lab VM has a vGICv3.
PROGRAMMED_FACTS = ("SVE_VLS", "PMU_COUNTERS")

# Every cell must agree: a stricter engine is a disagreement like a more
# lenient one (idregs.txt's `refuse` lines say what set_clidr() and
# set_id_aa64pfr0_el1() refuse, per host and kernel).


class Field:
    def __init__(self, msb, lsb, name, sign, policy, floor):
        self.msb, self.lsb, self.name = msb, lsb, name
        self.width = msb - lsb + 1
        self.mask = ((1 << self.width) - 1) << lsb
        self.signed = sign == "signed"
        self.safe = None
        if policy.startswith("exact="):
            policy, safe = policy.split("=", 1)
            self.safe = int(safe, 0)
        self.policy = policy
        self.floor = None       # (kind, value): min=N or minnz=N
        if floor:
            kind, val = floor.split("=", 1)
            self.floor = (kind, int(val, 0))

    def get(self, v):
        return (v & self.mask) >> self.lsb

    def put(self, v, f):
        return (v & ~self.mask) | ((f << self.lsb) & self.mask)

    def step(self, f, d):
        """F moved by D in the field's order (two's complement when signed),
        or None outside the field's range."""
        w = self.width
        if self.signed:
            sv = f - (1 << w) if f >> (w - 1) else f
            sv += d
            if sv < -(1 << (w - 1)) or sv >= 1 << (w - 1):
                return None
            return sv & ((1 << w) - 1)
        f += d
        return f if 0 <= f < 1 << w else None


def read_catalogue(path=CATALOGUE):
    """{name: {"key", "kind" (reg, pseudo, fact), "writable" (pseudo and fact), "fields"}}
    from arch/arm64/idregs.txt (the grammar is in its header)."""
    regs, cur = {}, None
    with open(path, encoding="utf-8") as f:
        for raw in f:
            w = raw.split("#", 1)[0].split()
            if not w:
                continue
            if w[0] == "reg":
                op0, op1, crn, crm, op2 = (int(x) for x in w[2:7])
                cur = {"key": op0 << 14 | op1 << 11 | crn << 7 | crm << 3 | op2,
                       "kind": "reg", "writable": None, "fields": []}
                regs[w[1]] = cur
            elif w[0] in ("pseudo", "fact"):
                cur = {"key": int(w[2], 16), "kind": w[0], "writable": int(w[3], 16), "fields": []}
                regs[w[1]] = cur
            elif w[0] == "field":
                hi, _, lo = w[1].partition(":")
                floor = [x for x in w[5:] if x.startswith(("min=", "minnz="))]
                cur["fields"].append(Field(int(hi), int(lo or hi), w[2], w[3], w[4],
                                           floor[0] if floor else None))
            elif w[0] == "end":
                cur = None
    return regs


def read_refusals(path=CATALOGUE):
    """idregs.txt's `refuse` lines: [(line, [(register, field, value)])], the
    values a profile must have (the `where` and `since` parts are KVM's and
    the engine's business: the lab asks KVM)."""
    out = []
    with open(path, encoding="utf-8") as f:
        for n, raw in enumerate(f, 1):
            w = raw.split("#", 1)[0].split()
            if len(w) > 1 and w[0] == "refuse":
                terms = []
                for t in w[1].split(","):
                    name, _, v = t.partition("=")
                    reg, _, field = name.partition(".")
                    terms.append((reg, field, int(v, 0)))
                out.append((n, terms))
    return out


def sysreg_key(name):
    """Key of an uncatalogued register named S<op0>_<op1>_C<n>_C<m>_<op2>."""
    m = re.fullmatch(r"S(\d)_(\d)_C(\d+)_C(\d+)_(\d)", name)
    if not m:
        return None
    op0, op1, crn, crm, op2 = (int(x) for x in m.groups())
    return op0 << 14 | op1 << 11 | crn << 7 | crm << 3 | op2


def field_variants(f, v, wr):
    """(rule, new field value) for one field at V: a step up and down in the
    field's order, and per policy the values its rule singles out."""
    out = []
    full = (wr & f.mask) == f.mask
    part = (wr & f.mask) not in (0, f.mask)
    tag = f.policy if full else ("partial-mask" if part else "not-writable")
    if f.policy == "prefix":
        hi = v.bit_length()
        if bin(v).count("1") > 1:
            out.append(("prefix-shorter", v & ~(1 << (hi - 1))))
            out.append(("prefix-hole", v & ~1))
        if hi and hi < f.width:
            out.append(("prefix-longer", v | 1 << hi))
        return out
    for d, name in ((1, "up"), (-1, "down")):
        n = f.step(v, d)
        if n is not None:
            out.append(("%s-%s" % (tag, name), n))
    if not full:
        return out
    if f.policy == "exact" and f.safe != v:
        out.append(("exact-safe", f.safe))
    if f.policy == "higher0" and v != 0:
        out.append(("higher0-zero", 0))
    if f.policy == "lower-impdef" and v != 0xf:
        out.append(("lower-impdef-0xf", 0xf))
    if f.floor:
        kind, fl = f.floor
        below = f.step(fl, -1)
        if below is not None and not (kind == "minnz" and below == 0):
            out.append(("floor-below", below))
    return out


def make_variants(cat, own, writable, refusals=()):
    """One-field variants of a host's own profile: [(name, section, register, key,
    new value, rule)]. WRITABLE: the report's masks by register name.  And per
    `refuse` line of REFUSALS (read_refusals) whose values lie in one register
    of the profile, that register with those values (rule `kvm-rule`), so that
    KVM judges every rule the catalogue states."""
    out = []
    ids = (own.get("arm64") or {}).get("id_regs") or {}
    for line, terms in refusals:
        regs = {t[0] for t in terms}
        reg = regs.pop()
        c = cat.get(reg)
        if regs or c is None or reg not in ids:
            continue
        val = nv = int(ids[reg], 16)
        fields = {f.name: f for f in c["fields"]}
        if any(t[1] not in fields for t in terms):
            continue
        for _, field, v in terms:
            nv = fields[field].put(nv, v)
        if nv != val:
            out.append(("%s.line%d.kvm-rule" % (reg, line), "id_regs", reg, c["key"], nv,
                        "kvm-rule", terms[0][1]))
    a = own.get("arm64") or {}
    for section in ("id_regs", "fw_regs", "kvm_facts"):
        for reg, sval in sorted((a.get(section) or {}).items()):
            val = int(sval, 16)
            c = cat.get(reg)
            if c is None:
                key = sysreg_key(reg)
                if key is None:
                    continue
                wr, fields = int(writable.get(reg, "0"), 16), []
            else:
                if c["kind"] == "fact" and reg not in PROGRAMMED_FACTS:
                    continue
                key, fields = c["key"], c["fields"]
                wr = c["writable"] if c["kind"] != "reg" else int(writable.get(reg, "0"), 16)
            seen = {val}
            rules = set()

            def add(name, rule, nv, field=None):
                # a field KVM does not let userspace change follows no
                # policy: one step each way per register is enough
                if nv in seen or (rule.startswith("not-writable") and rule in rules):
                    return
                seen.add(nv)
                rules.add(rule)
                out.append((name, section, reg, key, nv, rule, field))
            for f in fields:
                for rule, nf in field_variants(f, f.get(val), wr):
                    add("%s.%s.%s" % (reg, f.name, rule), rule, f.put(val, nf), f.name)
            # undescribed bits (RES0 to the catalogue, or a whole unknown
            # register): the lowest KVM lets userspace change and the lowest
            # it does not
            covered = 0
            for f in fields:
                covered |= f.mask
            rest = ~covered & (0xffffffffffffffff if c is None or c["kind"] == "reg" else
                               (1 << max(f.msb for f in fields) + 1) - 1 if fields else 0)
            for rule, bits in (("undescribed-writable", rest & wr), ("undescribed", rest & ~wr)):
                if bits:
                    b = bits & -bits
                    add("%s.bit%d.%s" % (reg, b.bit_length() - 1, rule), rule, val ^ b)
    return out


# --------------------------------------------------------------------------- one boot

class Boot:
    """Outcome of one QEMU boot running one agent job."""

    def __init__(self, phase, host):
        self.phase, self.host = phase, host
        self.ok = False
        self.error = None
        self.warnings = []
        self.files = {}     # name -> path on the host
        self.seconds = 0.0
        self.log = None
        self.done_rc = None
        self.early_death = None   # QEMU's own words when it died before the kernel ran
        self.last_words = None    # QEMU's or the kernel's, when the agent never said DONE


class Lab:
    def __init__(self, args):
        self.args = args
        self.out = args.out
        self.models = args.models
        self.hosts = [host_id(m) for m in self.models]
        self.model_of = dict(zip(self.hosts, self.models))
        self.pool = [host_id(m) for m in args.pool] if args.pool else list(self.hosts)
        # Without --pool the engine splits the hosts into pools that each
        # have a feasible baseline (cpufleet pools); a host's "baseline"
        # profile is its pool's.
        self.use_pools = not args.pool
        self.bl_of = {}
        self.probe_of = {}
        self.probe_results = []
        self.allow_infeasible = args.allow_infeasible or args.midr == "real"
        self.tmp = None
        self.base_initrd = None
        self.timings = []
        self.boot_failures = []
        self.variants_of = {}     # host -> [(name, section, register, key, value, rule)]
        self.catalogue = read_catalogue() if args.variants else {}
        self.refusals = read_refusals() if args.variants else []

    # ---- QEMU

    def qemu_cmd(self, model, initrd):
        cpu = model
        if self.args.midr != "real":
            cpu += ",midr=" + self.args.midr
        if model == "max":
            # QEMU 7.2 emulates the architected QARMA5 PAuth: 3-4x slower; impdef keeps PAuth
            cpu += ",pauth-impdef=on"
        return ["qemu-system-aarch64", "-M", "virt,virtualization=on,gic-version=3",
                "-cpu", cpu, "-smp", "1", "-m", "512", "-nographic",
                # no NIC: the virt machine's default virtio NIC wants efi-virtio.rom
                # (package ipxe-qemu), which the lab neither needs nor installs
                "-nic", "none",
                "-kernel", self.args.kernel, "-initrd", initrd,
                "-append", "console=ttyAMA0 quiet", "-no-reboot"] + self.args.qemu_arg

    def make_initrd(self, workdir, inputs):
        """Base initrd + a second gzip'd newc archive holding lab/in/<name> for each input
        (name -> bytes, or name -> ("path", host path)). The kernel unpacks both in order."""
        root = os.path.join(workdir, "root")
        for name, data in sorted(inputs.items()):
            dest = os.path.join(root, "lab", "in", name)
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            if isinstance(data, tuple):
                shutil.copyfile(data[1], dest)
            else:
                with open(dest, "wb") as f:
                    f.write(data)
        names = []
        for d, dirs, files in os.walk(root):
            dirs.sort()
            for n in sorted(dirs) + sorted(files):
                names.append(os.path.relpath(os.path.join(d, n), root))
        p = subprocess.run(["cpio", "-o", "-H", "newc", "-R", "0:0", "--quiet"], cwd=root,
                           input=("\n".join(names) + "\n").encode(), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, check=False)
        if p.returncode != 0:
            raise RuntimeError("cpio failed: " + p.stderr.decode(errors="replace").strip())
        initrd = os.path.join(workdir, "initrd.cpio.gz")
        with open(initrd, "wb") as f:
            f.write(self.base_initrd)
            f.write(gzip.compress(p.stdout, compresslevel=6, mtime=0))
        return initrd

    def boot(self, phase, host, inputs):
        b = Boot(phase, host)
        t0 = time.monotonic()
        outdir = os.path.join(self.out, phase, host)
        shutil.rmtree(outdir, ignore_errors=True)
        os.makedirs(outdir)
        b.log = os.path.join(self.out, "logs", "%s-%s.log" % (phase, host))
        workdir = tempfile.mkdtemp(prefix="%s-%s." % (phase, host), dir=self.tmp)
        try:
            initrd = self.make_initrd(workdir, inputs)
            cmd = self.qemu_cmd(self.model_of[host], initrd)
            progress("[%s] %s: boot (%s)" % (host, phase, self.model_of[host]))
            self._run_qemu(b, cmd, outdir)
        except (OSError, RuntimeError) as e:
            b.error = str(e)
        finally:
            if not self.args.keep_temp:
                shutil.rmtree(workdir, ignore_errors=True)
        if b.error is None:
            missing = [n for n in EXPECTED_FILES[phase] if n not in b.files]
            if missing:
                b.error = "agent sent no " + ", ".join(missing)
        b.ok = b.error is None
        b.seconds = time.monotonic() - t0
        for w in b.warnings:
            progress("[%s] %s: warning: %s" % (host, phase, w))
        if b.ok:
            progress("[%s] %s: done in %.1f s" % (host, phase, b.seconds))
        else:
            progress("[%s] %s: FAILED after %.1f s: %s (log: %s)" % (host, phase, b.seconds, b.error, rel(b.log)))
        return b

    def _run_qemu(self, b, cmd, outdir):
        host, phase = b.host, b.phase
        os.makedirs(os.path.dirname(b.log), exist_ok=True)
        log = open(b.log, "wb")
        log.write(("# " + shlex.join(cmd) + "\n").encode())
        log.flush()
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT)
        killed = {"why": None}

        def kill(why):
            if proc.poll() is None:
                killed["why"] = why
                proc.kill()

        watchdog = threading.Timer(self.args.timeout, kill, args=("timeout",))
        watchdog.daemon = True
        watchdog.start()
        grace = None
        cur = None          # [name, nbytes, [lines]] while inside a FILE block
        qemu_said = []      # QEMU's own messages ("qemu-system-aarch64: ...")
        guest_spoke = False # any console line that is not QEMU's: the kernel ran
        console = collections.deque(maxlen=60)  # the last lines outside the protocol
        errors = []
        try:
            for raw in proc.stdout:
                log.write(raw)
                line = raw.decode("utf-8", "replace").rstrip("\r\n").replace("\r", "")
                if line.startswith("qemu-system-"):
                    qemu_said.append(line.strip())
                elif line.strip():
                    guest_spoke = True
                i = line.find("@@CF ")
                if i < 0 and cur is None and not line.startswith("qemu-system-"):
                    console.append(line)
                if cur is not None:
                    if i < 0:
                        s = line.strip()
                        if B64_LINE.fullmatch(s):
                            cur[2].append(s)
                        continue          # anything else is console noise inside the block
                    words = line[i:].split()
                    if len(words) >= 3 and words[1] == "END" and words[2] == cur[0]:
                        self._finish_file(b, cur, outdir, errors)
                        cur = None
                        continue
                    errors.append("FILE %s: no END before %r" % (cur[0], line[i:][:60]))
                    cur = None
                if i < 0:
                    continue
                rest = line[i + 5:]
                words = rest.split()
                kind = words[0] if words else ""
                if kind == "STEP":
                    progress("[%s] %s: %s" % (host, phase, rest[4:].strip()))
                elif kind == "FILE":
                    if len(words) != 3 or not FILE_NAME.fullmatch(words[1]) or not words[2].isdigit():
                        errors.append("malformed FILE line %r" % line[i:][:80])
                    else:
                        cur = [words[1], int(words[2]), []]
                elif kind == "END":
                    errors.append("END without FILE: %r" % line[i:][:80])
                elif kind == "DONE":
                    try:
                        b.done_rc = int(words[1])
                    except (IndexError, ValueError):
                        errors.append("malformed DONE line %r" % line[i:][:80])
                        b.done_rc = -1
                    if grace is None:
                        grace = threading.Timer(POWEROFF_GRACE, kill, args=("no power-off after DONE",))
                        grace.daemon = True
                        grace.start()
                else:
                    b.warnings.append("unknown line %r" % line[i:][:80])
            proc.wait()
        finally:
            watchdog.cancel()
            if grace is not None:
                grace.cancel()
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            log.close()
        if cur is not None:
            errors.append("FILE %s: console ended inside the block" % cur[0])
        if b.done_rc is None and not guest_spoke and killed["why"] is None:
            b.early_death = "; ".join(qemu_said) or "QEMU exited with %s and printed nothing" % proc.returncode
            b.error = "QEMU died before the kernel started: " + b.early_death
        elif b.done_rc is None:
            if killed["why"] == "timeout":
                b.error = "no @@CF DONE within %d s (timeout)" % self.args.timeout
            else:
                b.error = "no @@CF DONE (QEMU exited with %s)" % proc.returncode
            b.last_words = last_words(qemu_said, console)
            if b.last_words:
                b.error += ": " + b.last_words
        elif b.done_rc != 0:
            b.error = "agent reported @@CF DONE %d" % b.done_rc
        elif errors:
            b.error = "; ".join(errors)
        if killed["why"] and b.done_rc is not None:
            b.warnings.append("QEMU killed: " + killed["why"])
        if b.error and errors and not b.error.endswith("; ".join(errors)):
            b.error += "; " + "; ".join(errors)

    def _finish_file(self, b, cur, outdir, errors):
        name, nbytes, lines = cur
        try:
            data = base64.b64decode("".join(lines), validate=True)
        except (binascii.Error, ValueError) as e:
            errors.append("FILE %s: bad base64 (%s)" % (name, e))
            return
        if len(data) != nbytes:
            errors.append("FILE %s: %d bytes decoded, %d announced (console corruption?)"
                          % (name, len(data), nbytes))
            return
        path = os.path.join(outdir, name)
        write_file(path, data)
        b.files[name] = path

    def run_phase(self, phase, jobs):
        """jobs: list of (host, inputs). Returns {host: Boot}."""
        results = {}
        with concurrent.futures.ThreadPoolExecutor(max_workers=self.args.jobs) as ex:
            futs = {ex.submit(self.boot, phase, h, inp): h for h, inp in jobs}
            for f in concurrent.futures.as_completed(futs):
                b = f.result()
                results[b.host] = b
                if not b.ok:
                    self.boot_failures.append(b)
        dead = [b for b in results.values() if b.early_death]
        if dead:
            # Every later boot would die the same way: stop now, loudly.
            b = dead[0]
            raise LabError("%s: QEMU died before the kernel started (%d of %d boots): %s (log: %s)"
                           % (b.host, len(dead), len(results), b.early_death, rel(b.log)))
        return results

    # ---- cpufleet

    def cpufleet(self, *argv):
        p = subprocess.run([self.args.cpufleet] + list(argv), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, check=False)
        return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")

    def check(self, profile, report, cache):
        """(compatible or None on error, [registers named], error text)"""
        key = (profile, report)
        if key not in cache:
            rc, out, err = self.cpufleet("check", "--json", "--profile", profile, report)
            if rc not in (0, 1):
                cache[key] = (None, [], "cpufleet check exited %d: %s" % (rc, err.strip()[:300]))
            else:
                try:
                    v = json.loads(out)["verdicts"][0]
                    regs = []
                    for r in v.get("reasons", []):
                        if r.get("register") and r["register"] not in regs:
                            regs.append(r["register"])
                    cache[key] = (bool(v["compatible"]), regs, None)
                except (ValueError, KeyError, IndexError, TypeError) as e:
                    cache[key] = (None, [], "cannot read cpufleet check --json output: %s" % e)
        return cache[key]

    # ---- the run

    def main(self):
        a = self.args
        t_start = time.monotonic()
        midr_note = ("MIDR_EL1 pinned to %s on every host (implementer 0x00, reserved for software: "
                     "no host kernel applies core-specific errata; Debian's 6.12 KVM refuses any "
                     "MIDR/REVIDR/AIDR but the host's, writable only from 6.15 with "
                     "KVM_CAP_ARM_WRITABLE_IMP_ID_REGS)" % a.midr) if a.midr != "real" else \
            "MIDR_EL1: each model's own (--midr real): KVM refuses cross-model MIDRs, the engine must predict it"
        say("lab: %d hosts: %s" % (len(self.hosts), ", ".join("%s=%s" % (h, self.model_of[h]) for h in self.hosts)))
        say("lab: " + midr_note)
        pkg = kernel_package(a.kernel)
        say("lab: kernel %s%s, agent initrd %s, cpufleet %s" % (
            rel(a.kernel), " (%s %s, Linux %s)" % tuple(pkg.split()[i] for i in (0, 1, 4))
            if pkg and len(pkg.split()) >= 5 else "", rel(a.agent_initrd), rel(a.cpufleet)))
        say("lab: features %s, %d parallel QEMU, %d s timeout per boot, output in %s"
            % (a.features, a.jobs, a.timeout, rel(self.out)))
        say("lab: pool (baseline over, must accept it): %s%s" % (
            "split by cpufleet pools" if self.use_pools else
            "all hosts" if self.pool == self.hosts else ", ".join(self.pool),
            "; an infeasible pool is allowed (refusals must be predicted)" if self.allow_infeasible else ""))

        for d in OWN_DIRS:
            shutil.rmtree(os.path.join(self.out, d), ignore_errors=True)
        for f in OWN_FILES:
            try:
                os.remove(os.path.join(self.out, f))
            except FileNotFoundError:
                pass
        os.makedirs(self.out, exist_ok=True)
        with open(a.agent_initrd, "rb") as f:
            self.base_initrd = f.read()
        self.tmp = tempfile.mkdtemp(prefix="tmp.", dir=self.out)
        try:
            return self._run(t_start)
        finally:
            if not a.keep_temp:
                shutil.rmtree(self.tmp, ignore_errors=True)

    def _phase(self, name, fn):
        say("== %s ==" % name)
        t0 = time.monotonic()
        r = fn()
        dt = time.monotonic() - t0
        self.timings.append((name, dt))
        say("%s: %.1f s" % (name, dt))
        return r

    def _common_inputs(self, job, h):
        return {"job": (job + "\n").encode(), "host-id": (h + "\n").encode(),
                "features": (self.args.features + "\n").encode()}

    def _run(self, t_start):
        out = self.out
        hosts = self.hosts
        a = self.args

        # 1. collect
        def collect():
            res = self.run_phase("collect", [(h, self._common_inputs("collect", h)) for h in hosts])
            ok = []
            for h in hosts:
                b = res[h]
                if not b.ok:
                    continue
                dest = os.path.join(out, "reports", h + ".json")
                os.makedirs(os.path.dirname(dest), exist_ok=True)
                shutil.copyfile(b.files["report.json"], dest)
                try:
                    rid = read_json(dest).get("host", {}).get("id")
                except (ValueError, AttributeError) as e:
                    rid = None
                    say("collect: %s: report.json is not JSON: %s" % (h, e))
                if rid != h:
                    say("collect: warning: %s: report host.id is %r" % (h, rid))
                ok.append(h)
            say("collect: %d/%d hosts reported" % (len(ok), len(hosts)))
            return ok
        collected = self._phase("collect", collect)
        if not collected:
            say("lab: no host reported; stopping")
            self._finish_timing(t_start)
            n = len(hosts) ** 2 * 2
            for line in verdict_lines(a.label, 0, n, 0, 0, n):
                say(line)
            self._write_summary(collected, None, 0, n, 0, 0, n)
            return 1

        # 2. baseline and own profiles
        def pools():
            reports = [os.path.join(out, "reports", h + ".json") for h in collected]
            pdir = os.path.join(out, "pools")
            shutil.rmtree(pdir, ignore_errors=True)
            rc, so, se = self.cpufleet("pools", "-d", pdir, *reports)
            info = {"rc": rc, "feasible": None, "conflicts": [], "error": None, "pools": []}
            try:
                index = read_json(os.path.join(pdir, "pools.json"))
            except (OSError, ValueError) as e:
                index = None
                info["error"] = "cpufleet pools exited %d: %s %s" % (rc, se.strip()[:300], e)
            if index is not None:
                for i, p in enumerate(index.get("pools", [])):
                    path = os.path.join(pdir, p["profile"])
                    info["pools"].append(p["hosts"])
                    for h in p["hosts"]:
                        self.bl_of[h] = path
                    say("pool %d: %s -> %s" % (i + 1, ", ".join(p["hosts"]), rel(path)))
                info["feasible"] = True
            own_ok = self._own_profiles(collected)
            return info, own_ok

        def baseline():
            members = [h for h in self.pool if h in collected]
            reports = [os.path.join(out, "reports", h + ".json") for h in members]
            bl = os.path.join(out, "baseline.json")
            rc, so, se = self.cpufleet("baseline", "-o", bl, *reports)
            info = {"rc": rc, "feasible": None, "conflicts": [], "error": None}
            if rc in (0, 1) and os.path.exists(bl):
                doc = read_json(bl)
                info["feasible"] = bool(doc.get("feasible"))
                info["conflicts"] = doc.get("conflicts") or []
                say("baseline: %s over %d hosts (cpufleet exit %d) -> %s"
                    % ("feasible" if info["feasible"] else "INFEASIBLE", len(members), rc, rel(bl)))
                for c in info["conflicts"]:
                    say("  conflict: %s.%s %s: %s" % (c.get("register"), c.get("field"),
                                                      json.dumps(c.get("values")), c.get("reason")))
            else:
                info["error"] = "cpufleet baseline exited %d: %s" % (rc, se.strip()[:500])
                say("baseline: ERROR " + info["error"])
            for h in collected:
                self.bl_of[h] = bl
            return info, self._own_profiles(collected)
        bl_info, own_ok = self._phase("baseline", pools if self.use_pools else baseline)
        have_bl = bl_info["error"] is None

        # 3. verify
        def verify():
            jobs = []
            for h in collected:
                if h not in own_ok or not have_bl or h not in self.bl_of:
                    continue
                inp = self._common_inputs("verify", h)
                inp["baseline.json"] = ("path", self.bl_of[h])
                inp["own.json"] = ("path", os.path.join(out, "own", h + ".json"))
                # The next host's own profile, to see apply refuse on KVM.
                nxt = collected[(collected.index(h) + 1) % len(collected)]
                inp["probe.json"] = ("path", os.path.join(out, "own", nxt + ".json"))
                self.probe_of[h] = nxt
                if a.variants:
                    vs = self._variants(h)
                    if vs:
                        inp["variants.txt"] = "".join(
                            "%s %x %x\n" % (v[0], v[3], v[4]) for v in vs).encode()
                jobs.append((h, inp))
            return self._docs("verify", self.run_phase("verify", jobs))
        verify_docs = self._phase("verify", verify)

        # states/<A>__<P>.bin for every saved guest
        states = {}
        for h in verify_docs:
            for p in PROFILES:
                path = os.path.join(out, "verify", h, "state__%s.bin" % p)
                if os.path.exists(path):
                    states["states/%s__%s.bin" % (h, p)] = ("path", path)

        # 4. restore
        def restore():
            jobs = []
            for h in collected:
                inp = self._common_inputs("restore", h)
                inp.update(states)
                jobs.append((h, inp))
            say("restore: %d saved guests to every host" % len(states))
            return self._docs("restore", self.run_phase("restore", jobs))
        restore_docs = self._phase("restore", restore) if states else {}

        # 5. engine verdicts and the matrix
        def engine():
            return self._matrix(collected, own_ok, have_bl, verify_docs, restore_docs)
        rows = self._phase("engine", engine)
        vrows = self._phase("variants", lambda: self._variant_rows(collected, verify_docs)) \
            if a.variants else []

        # summary
        say("== summary ==")
        failed = self._summary(collected, bl_info, verify_docs, rows)
        failed = self._variant_summary(vrows) or failed
        agree = sum(1 for r in rows + vrows if r["agree"])
        total = len(hosts) ** 2 * len(PROFILES) + len(vrows)
        passed = agree
        self._finish_timing(t_start)
        # the count line tools/check.sh reads; other failures count once
        nfail = total - passed + (1 if failed and passed == total else 0)
        for line in verdict_lines(a.label, agree, total, passed, nfail):
            say(line)
        self._write_summary(collected, bl_info, agree, total, passed, nfail)
        return 0 if (passed == total and not failed) else 1

    @staticmethod
    def _docs(phase, res):
        """The <phase>.json each successful boot of a phase sent back."""
        docs = {}
        for h, b in res.items():
            if b.ok:
                try:
                    docs[h] = read_json(b.files[phase + ".json"])
                except ValueError as e:
                    say("%s: %s: %s.json is not JSON: %s" % (phase, h, phase, e))
        return docs

    def _own_profiles(self, collected):
        out = self.out
        own_ok = []
        for h in collected:
            dest = os.path.join(out, "own", h + ".json")
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            rc, so, se = self.cpufleet("baseline", "-q", "-o", dest,
                                       os.path.join(out, "reports", h + ".json"))
            if rc in (0, 1) and os.path.exists(dest):
                own_ok.append(h)
                if rc == 1:
                    say("own: %s: its own profile is infeasible (cpufleet exit 1)" % h)
            else:
                say("own: %s: ERROR cpufleet baseline exited %d: %s" % (h, rc, se.strip()[:300]))
        say("own profiles: %d/%d -> %s" % (len(own_ok), len(collected), rel(os.path.join(out, "own"))))
        return own_ok

    def _finish_timing(self, t_start):
        self.total_seconds = time.monotonic() - t_start
        say("timing: " + ", ".join("%s %.1f s" % (n, t) for n, t in self.timings)
            + ", total %.1f s" % self.total_seconds)

    def _write_summary(self, collected, bl_info, agree, total, passed, nfail):
        """OUT/summary.json: what tools/lab/compare.py reads of a run (one kernel)."""
        a = self.args
        releases = set()
        for h in collected:
            try:
                releases.add(read_json(os.path.join(self.out, "reports", h + ".json"))["host"]["kernel"])
            except (OSError, ValueError, KeyError, TypeError):
                pass
        doc = {"label": a.label, "kernel": a.kernel, "package": kernel_package(a.kernel),
               "releases": sorted(releases), "models": self.models, "hosts": self.hosts,
               "collected": list(collected), "midr": a.midr, "features": a.features, "jobs": a.jobs,
               "pools": (bl_info or {}).get("pools") or [],
               "verdicts": {"agree": agree, "total": total,
                            "passed": passed, "failed": nfail},
               "boot_failures": [{"phase": b.phase, "host": b.host, "error": b.error}
                                 for b in self.boot_failures],
               "timings": dict(self.timings, total=getattr(self, "total_seconds", None))}
        write_file(os.path.join(self.out, "summary.json"), (json.dumps(doc, indent=1) + "\n").encode())

    def _kvm(self, A, B, P, verify_docs, restore_docs, collected):
        """(kvm_ok or None, refused register or None, where, error)"""
        if A not in collected or B not in collected:
            return None, None, None, "no report from %s" % (A if A not in collected else B)
        vd = verify_docs.get(A)
        if vd is None:
            return None, None, None, "verify failed on %s" % A
        if not os.path.exists(os.path.join(self.out, "verify", A, "state__%s.bin" % P)):
            save = (vd.get("save") or {}).get(P) or {}
            ref = save.get("refused") or {}
            reg = ref.get("register") if isinstance(ref, dict) else None
            if save.get("accepted") is not False or not reg:
                return None, None, None, "no saved state from %s and no named refusal" % A
            return False, reg, "save on " + A, None
        rd = restore_docs.get(B)
        if rd is None:
            return None, None, None, "restore failed on %s" % B
        for r in rd.get("results") or []:
            if r.get("from") == A and r.get("profile") == P:
                # Only KVM refusing a named register is a refusal; a lab
                # fault (bad state, VM creation, a guest that does not go
                # on) is an error cell.
                if r.get("error") or r.get("kvm_ok") not in (True, False):
                    return None, None, None, "lab fault restoring on %s: %s" % (B, r.get("error") or "no verdict")
                ref = r.get("refused") or {}
                reg = ref.get("register") if isinstance(ref, dict) else None
                if r["kvm_ok"] is False and not reg:
                    return None, None, None, "restore on %s refused but named no register" % B
                return r["kvm_ok"], reg, "restore on " + B, None
        return None, None, None, "restore.json of %s has no result for %s/%s" % (B, A, P)

    def _matrix(self, collected, own_ok, have_bl, verify_docs, restore_docs):
        out, hosts = self.out, self.hosts
        cache = {}
        rows = []
        for P in PROFILES:
            for A in hosts:
                for B in hosts:
                    kvm_ok, kreg, where, err = self._kvm(A, B, P, verify_docs, restore_docs, collected)
                    prof = self.bl_of.get(A, os.path.join(out, "baseline.json")) \
                        if P == "baseline" else os.path.join(out, "own", A + ".json")
                    eng_ok, eregs, eerr = None, [], None
                    have_prof = have_bl if P == "baseline" else A in own_ok
                    if A in collected and B in collected and have_prof:
                        # The guest starts on A and moves to B: the engine must accept P on both.
                        ok_a, regs_a, err_a = self.check(prof, os.path.join(out, "reports", A + ".json"), cache)
                        ok_b, regs_b, err_b = self.check(prof, os.path.join(out, "reports", B + ".json"), cache)
                        eerr = err_a or err_b
                        if eerr is None:
                            eng_ok = ok_a and ok_b
                            eregs = list(regs_b)
                            for r in (regs_a if not ok_a else []):
                                if r not in eregs:
                                    eregs.append(r)
                    else:
                        eerr = "no profile or report"
                    named = None
                    if kvm_ok is False and kreg:
                        named = kreg in eregs
                    rows.append({
                        "from": A, "to": B, "profile": P,
                        "kvm_ok": kvm_ok, "engine_ok": eng_ok,
                        # a refusal agrees only when the engine names KVM's register
                        "agree": kvm_ok is not None and eng_ok is not None and kvm_ok == eng_ok
                        and named is not False,
                        "kvm_refused_register": kreg if kvm_ok is False else None,
                        "engine_registers": eregs,
                        "refused_register_named": named,
                        "kvm_where": where,
                        "error": "; ".join(e for e in (err, eerr) if e) or None,
                    })
        write_file(os.path.join(out, "matrix.json"), (json.dumps(rows, indent=1) + "\n").encode())
        text = self._matrix_text(rows)
        write_file(os.path.join(out, "matrix.txt"), text.encode())
        say(text.rstrip("\n"))
        say("-> %s, %s" % (rel(os.path.join(out, "matrix.txt")), rel(os.path.join(out, "matrix.json"))))
        return rows

    def _matrix_text(self, rows):
        hosts = self.hosts
        by = {(r["profile"], r["from"], r["to"]): r for r in rows}
        lines = []

        def v(x):
            return "??" if x is None else ("ok" if x else "NO")
        for P in PROFILES:
            cells = {}
            for A in hosts:
                for B in hosts:
                    r = by[(P, A, B)]
                    c = "%s/%s" % (v(r["kvm_ok"]), v(r["engine_ok"]))
                    if r["kvm_refused_register"]:
                        c += " " + r["kvm_refused_register"]
                        if r["refused_register_named"] is False:
                            c += "*"
                    if not r["agree"]:
                        c = "!!" + c
                    cells[(A, B)] = c
            w = max([len(c) for c in cells.values()] + [len(h) for h in hosts])
            hw = max(len(h) for h in hosts + ["A \\ B"])
            lines.append("profile %s: rows = source A (%s), columns = destination B; cell = kvm/engine"
                         % (P, "A's own profile" if P == "own" else "the pool baseline"))
            lines.append("  ".join([("A \\ B").ljust(hw)] + [h.ljust(w) for h in hosts]).rstrip())
            for A in hosts:
                lines.append("  ".join([A.ljust(hw)] + [cells[(A, B)].ljust(w) for B in hosts]).rstrip())
            lines.append("")
        lines.append("ok = compatible/accepted, NO = refused (with the register KVM refused), "
                     "?? = a lab fault or the engine failed (fails the run), !! = KVM and engine disagree "
                     "(fails the run), * = the engine did not name the register KVM refused (fails the run)")
        return "\n".join(lines) + "\n"

    # ---- one-field variants of each host's own profile

    def _variants(self, h):
        """Generates H's variants and their profiles (OUT/variants/<h>/NNN.json),
        the documents the engine judges."""
        out = self.out
        try:
            own = read_json(os.path.join(out, "own", h + ".json"))
            wr = read_json(os.path.join(out, "reports", h + ".json"))["arm64"].get("writable") or {}
        except (OSError, ValueError, KeyError, TypeError) as e:
            say("variants: %s: cannot read its own profile or report: %s" % (h, e))
            self.variants_of[h] = []
            return []
        vs = make_variants(self.catalogue, own, wr, self.refusals)
        vdir = os.path.join(out, "variants", h)
        os.makedirs(vdir, exist_ok=True)
        for i, (name, section, reg, key, val, rule, field) in enumerate(vs):
            doc = json.loads(json.dumps(own))
            doc["arm64"][section][reg] = "0x%016x" % val
            write_file(os.path.join(vdir, "%03d.json" % i), (json.dumps(doc, indent=1) + "\n").encode())
        self.variants_of[h] = vs
        return vs

    def _variant_rows(self, collected, verify_docs):
        """KVM's answer to each variant on its own host against the engine's
        (`cpufleet check` of the variant against the host's report)."""
        out = self.out
        jobs = []
        for h in self.hosts:
            for i, v in enumerate(self.variants_of.get(h, [])):
                jobs.append((h, i, v))
        cache = {}
        lock = threading.Lock()

        def judge(job):
            h, i, v = job
            c = {}
            r = self.check(os.path.join(out, "variants", h, "%03d.json" % i),
                           os.path.join(out, "reports", h + ".json"), c)
            with lock:
                cache[(h, i)] = r
        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, self.args.jobs)) as ex:
            list(ex.map(judge, jobs))
        kvm_of = {}
        for h in self.hosts:
            res = None
            vpath = os.path.join(out, "verify", h, "variants.json")
            if os.path.exists(vpath):
                try:
                    res = {r["name"]: r for r in read_json(vpath).get("results", [])}
                except (ValueError, KeyError, TypeError, AttributeError) as e:
                    say("variants: %s: variants.json unreadable: %s" % (h, e))
            kvm_of[h] = res
        rows = []
        for h, i, (name, section, reg, key, val, rule, field) in jobs:
            eng_ok, eregs, eerr = cache[(h, i)]
            res = kvm_of.get(h)
            r = res.get(name) if res is not None else None
            kerr = None
            if res is None:
                kerr = "no variants.json from %s (verify failed)" % h
            elif r is None:
                kerr = "the agent did not judge it"
            elif r.get("error"):
                kerr = "lab fault: " + r["error"]
            kvm_ok = None if kerr else r.get("accepted")
            if kvm_ok not in (True, False):
                kvm_ok, kerr = None, kerr or "no verdict"
            ref = (r or {}).get("refused") if kvm_ok is False else None
            kreg = ref.get("register") if isinstance(ref, dict) else None
            if kvm_ok is False and not kreg:
                kvm_ok, kerr = None, "KVM refused but named no register"
            named = kreg in eregs if kreg else None
            agree = kvm_ok is not None and eng_ok is not None and kvm_ok == eng_ok and named is not False
            rows.append({"host": h, "variant": name, "rule": rule, "register": reg, "field": field,
                         "key": "0x%x" % key, "features": self.args.features,
                         "passed": agree,
                         "value": "0x%016x" % val, "kvm_ok": kvm_ok, "engine_ok": eng_ok,
                         "agree": agree, "kvm_refused_register": kreg,
                         "kvm_refused_field": (ref or {}).get("field") if kreg else None,
                         "kvm_errno": (ref or {}).get("errno") if kreg else None,
                         "engine_registers": eregs, "refused_register_named": named,
                         "error": "; ".join(e for e in (kerr, eerr) if e) or None})
        write_file(os.path.join(out, "variants.json"), (json.dumps(rows, indent=1) + "\n").encode())
        lines = ["# one-field variants of each host's own profile, applied on that host",
                 "# host variant value kvm/engine [KVM's refused register (errno)] [!! disagree]"]

        def v(x):
            return "??" if x is None else ("ok" if x else "NO")
        for r in rows:
            c = "%s/%s" % (v(r["kvm_ok"]), v(r["engine_ok"]))
            if r["kvm_refused_register"]:
                c += " %s (%s)%s" % (r["kvm_refused_register"], r["kvm_errno"],
                                     "*" if r["refused_register_named"] is False else "")
            lines.append("%-6s %-50s %s %s%s%s" % (r["host"], r["variant"], r["value"], c,
                                                  "" if r["agree"] else "  !!",
                                                  "  (" + r["error"] + ")" if r["error"] else ""))
        write_file(os.path.join(out, "variants.txt"), ("\n".join(lines) + "\n").encode())
        say("-> %s, %s" % (rel(os.path.join(out, "variants.txt")), rel(os.path.join(out, "variants.json"))))
        return rows

    def _variant_summary(self, vrows):
        """Per rule: variants judged, accepted by KVM, agreeing; True if any disagrees."""
        if not vrows:
            return False
        by_rule = {}
        for r in vrows:
            t = by_rule.setdefault(r["rule"], [0, 0, 0, 0])
            t[0] += 1
            t[1] += r["kvm_ok"] is True
            t[2] += r["kvm_ok"] is False
            t[3] += r["agree"]
        say("variants (one field of a host's own profile changed, applied on that host): %d, "
            "%d agree" % (len(vrows), sum(t[3] for t in by_rule.values())))
        for rule in sorted(by_rule):
            t = by_rule[rule]
            say("  %-26s %4d judged: KVM accepted %d, refused %d; %d agree" % (
                rule, t[0], t[1], t[2], t[3]))
        bad = [r for r in vrows if not r["passed"]]
        for r in bad[:40]:
            say("  disagree: %s %s = %s: kvm %s%s, engine %s%s%s" % (
                r["host"], r["variant"], r["value"], r["kvm_ok"],
                " (%s %s)" % (r["kvm_refused_register"], r["kvm_errno"]) if r["kvm_refused_register"] else "",
                r["engine_ok"], " (%s)" % ",".join(r["engine_registers"]) if r["engine_registers"] else "",
                " -- " + r["error"] if r["error"] else ""))
        if len(bad) > 40:
            say("  ... %d more in variants.json" % (len(bad) - 40))
        return bool(bad)

    def _summary(self, collected, bl_info, verify_docs, rows):
        """Prints per-host results; returns True if something besides the verdicts failed."""
        failed = False
        cache = {}

        def regs_of(path):
            try:
                return {k: int(v, 16) for k, v in read_json(path)["arm64"]["id_regs"].items()}
            except (OSError, ValueError, KeyError, TypeError, AttributeError):
                return {}
        infeasible = bl_info["error"] is None and not bl_info["feasible"]
        if bl_info.get("pools"):
            say("pools: %d, each with a feasible baseline: %s" % (
                len(bl_info["pools"]), "; ".join(", ".join(p) for p in bl_info["pools"])))
        say("baseline: " + (bl_info["error"] or ("feasible" if bl_info["feasible"] else
                                                  "INFEASIBLE (%d conflicts)" % len(bl_info["conflicts"]))))
        if bl_info["error"]:
            failed = True
        if infeasible:
            if self.allow_infeasible:
                say("  an infeasible pool is allowed: hosts may refuse the baseline where the engine predicts it")
            else:
                failed = True
                say("  FAIL: the pool is infeasible, so not every host can accept its baseline "
                    "(choose a feasible --pool, or --allow-infeasible)")
        say("verify (the pool baseline applied on each host, guest reads the ID registers back):")
        for h in self.hosts:
            if h not in collected:
                say("  %-6s no report (collect failed)" % h)
                failed = True
                continue
            d = verify_docs.get(h)
            if d is None:
                say("  %-6s verify FAILED (see logs/verify-%s.log)" % (h, h))
                failed = True
                continue
            ap = d.get("apply") or {}
            bl_path = self.bl_of.get(h, os.path.join(self.out, "baseline.json"))
            bl_regs = regs_of(bl_path)
            parts = []
            # `cpufleet apply --check-only` on the host must say what the
            # library's apply found: exit 0 when accepted, 1 when refused.
            cli = d.get("cli_apply") or {}
            want_rc = 0 if ap.get("accepted") else 1
            if cli.get("exit") != want_rc:
                failed = True
                parts.append("cpufleet apply --check-only exit %r (want %d): %s"
                             % (cli.get("exit"), want_rc, cli.get("output")))
            else:
                parts.append("cpufleet apply --check-only: %s" % cli.get("output"))
            # The probe (the next host's own profile): the command's verdict
            # must be the engine's, and a refused register one it names.
            pb = d.get("cli_probe") or {}
            nxt = self.probe_of.get(h)
            if nxt and pb.get("exit") is not None:
                ok, regs, _ = self.check(os.path.join(self.out, "own", nxt + ".json"),
                                         os.path.join(self.out, "reports", h + ".json"), cache)
                out_line = pb.get("output") or ""
                # "REFUSED: REG.FIELD: reason"
                refreg = out_line[len("REFUSED:"):].strip().split(":")[0].split(".")[0] \
                    if out_line.startswith("REFUSED:") else None
                good = (pb["exit"] == 0) == bool(ok) and pb["exit"] in (0, 1) and \
                    (refreg is None or refreg in regs)
                self.probe_results.append(good)
                if not good:
                    failed = True
                parts.append("probe %s's own profile: cpufleet %s, engine %s%s" % (
                    nxt, "accepted" if pb["exit"] == 0 else out_line,
                    "compatible" if ok else "incompatible",
                    "" if good else " -- DISAGREE"))
            if ap.get("accepted"):
                gregs = ap.get("guest_regs") or {}
                diff = []
                for k, val in gregs.items():
                    try:
                        if k in bl_regs and int(val, 16) != bl_regs[k]:
                            diff.append("%s: profile %#x guest %s" % (k, bl_regs[k], val))
                    except (TypeError, ValueError):
                        diff.append("%s: unreadable %r" % (k, val))
                unread = [k for k in bl_regs if k not in gregs]
                mism = ap.get("mismatches") or []
                if ap.get("match") is True and not mism and not diff and gregs:
                    parts.append("baseline accepted, guest registers match (%d of %d profile registers read%s)"
                                 % (len(gregs), len(bl_regs),
                                    "; not read: " + ",".join(unread) if unread else ""))
                else:
                    failed = True
                    parts.append("baseline accepted, guest registers DIFFER: "
                                 + "; ".join((mism + diff)[:6] or ["agent says no match"]))
            else:
                ref = ap.get("refused") or {}
                what = "%s%s (%s)" % (ref.get("register"), "." + ref["field"] if ref.get("field") else "",
                                      ref.get("errno")) if isinstance(ref, dict) else repr(ref)
                eng, regs, _ = self.check(bl_path, os.path.join(self.out, "reports", h + ".json"), cache)
                predicted = eng is False
                parts.append("baseline REFUSED: %s; engine %s" % (
                    what, "predicted it (%s)" % ",".join(regs[:4]) if predicted else "said compatible"))
                must_accept = h in self.pool and not (infeasible and self.allow_infeasible)
                if must_accept or not predicted:
                    failed = True
            saves = (d.get("save") or {})
            sv = []
            for p in PROFILES:
                s = saves.get(p) or {}
                if s.get("accepted"):
                    sv.append("%s saved" % p)
                else:
                    ref = s.get("refused") or {}
                    sv.append("%s REFUSED %s" % (p, ref.get("register") if isinstance(ref, dict) else ref))
            parts.append(", ".join(sv))
            say("  %-6s %s" % (h, "; ".join(parts)))
        refused = [r for r in rows if r["kvm_ok"] is False and r["kvm_refused_register"]]
        named = [r for r in refused if r["refused_register_named"]]
        say("KVM refusals whose register the engine named: %d/%d" % (len(named), len(refused)))
        for r in refused:
            if not r["refused_register_named"]:
                say("  %s -> %s (%s): KVM refused %s, engine named %s" % (
                    r["from"], r["to"], r["profile"], r["kvm_refused_register"],
                    ",".join(r["engine_registers"]) or "nothing"))
        bad = [r for r in rows if not r["agree"]]
        for r in bad[:40]:
            say("  disagree: %s -> %s (%s): kvm %s, engine %s%s" % (
                r["from"], r["to"], r["profile"], r["kvm_ok"], r["engine_ok"],
                " (" + r["error"] + ")" if r["error"] else ""))
        if len(bad) > 40:
            say("  ... %d more in matrix.json" % (len(bad) - 40))
        if self.boot_failures:
            say("boot failures: " + ", ".join("%s %s (%s)" % (b.phase, b.host, b.error)
                                              for b in self.boot_failures))
            failed = True
        return failed


def parse_args(argv):
    ap = argparse.ArgumentParser(
        prog="lab.py", description="The cpufleet arm64 lab: KVM inside QEMU on several CPU models; "
        "compares KVM's migration verdicts with the engine's (tools/lab/PROTOCOL.md).")
    ap.add_argument("--cpufleet", default=os.path.join(ROOT, "build", "cpufleet"),
                    help="the native cpufleet binary (default: build/cpufleet)")
    ap.add_argument("--out", default=os.path.join(ROOT, "build-lab"), help="output directory (default: build-lab)")
    ap.add_argument("--agent-initrd", help="base initrd from mkinitrd.sh (default: OUT/agent-initrd.cpio.gz)")
    ap.add_argument("--agent", help="build the base initrd from this aarch64 agent binary first (with mkinitrd.sh)")
    ap.add_argument("--kernel", help="arm64 kernel Image (default: OUT/kernel-6.12/vmlinuz, from setup.sh)")
    ap.add_argument("--label", help="the kernel's name in the last lines (`lab LABEL: N/N verdicts agree`, "
                    "`lab-LABEL: N passed, N failed`) and in OUT/summary.json, e.g. 6.12 or 7.x")
    ap.add_argument("--models", default=DEFAULT_MODELS, help="QEMU CPU models, comma-separated (default: %(default)s)")
    ap.add_argument("--midr", default=LAB_MIDR,
                    help="MIDR_EL1 given to every host (default %(default)s: implementer 0x00, for software use), "
                    "or 'real' for each model's own")
    ap.add_argument("--pool", help="models (or host ids) the baseline is computed over and that must all "
                    "accept it (default: every model); the others must accept or refuse it as the engine predicts")
    ap.add_argument("--allow-infeasible", action="store_true",
                    help="an infeasible pool is not a failure by itself: hosts may refuse the baseline where the "
                    "engine predicts it (implied by --midr real)")
    ap.add_argument("--no-variants", dest="variants", action="store_false",
                    help="do not apply one-field variants of each host's own profile in verify")
    ap.add_argument("--features", default="psci,pmu", help="vCPU features for the agent (default: %(default)s)")
    ap.add_argument("--timeout", type=int, default=180, help="seconds per boot (default: %(default)s)")
    ap.add_argument("--jobs", type=int, default=2, help="parallel QEMU instances (default: %(default)s)")
    ap.add_argument("--qemu-arg", action="append", default=[], metavar="ARG",
                    help="one more QEMU argument, appended to every boot (repeatable; tests use it)")
    ap.add_argument("--keep-temp", action="store_true", help="keep the per-boot initrds and inputs (OUT/tmp.*)")
    a = ap.parse_args(argv)
    a.out = os.path.abspath(a.out)
    if a.agent_initrd is None:
        a.agent_initrd = os.path.join(a.out, "agent-initrd.cpio.gz")
    if a.kernel is None:
        a.kernel = os.path.join(a.out, "kernel-6.12", "vmlinuz")
    a.models = [m.strip() for m in a.models.split(",") if m.strip()]
    if not a.models:
        raise LabError("--models: no model given")
    ids = [host_id(m) for m in a.models]
    if len(set(ids)) != len(ids):
        raise LabError("--models: two models give the same host id: " + ", ".join(ids))
    a.pool = [m.strip() for m in a.pool.split(",") if m.strip()] if a.pool else None
    if a.pool:
        bad = [m for m in a.pool if host_id(m) not in ids]
        if bad:
            raise LabError("--pool: not among --models: " + ", ".join(bad))
    if a.midr != "real":
        if not re.fullmatch(r"(0x)?[0-9a-fA-F]{1,8}", a.midr):
            raise LabError("--midr: expected a 32-bit hex value or 'real', got %r" % a.midr)
        a.midr = "0x%08x" % int(a.midr, 16)
    if a.label is not None and not re.fullmatch(r"[A-Za-z0-9_.-]+", a.label):
        raise LabError("--label: letters, digits, '.', '_' and '-' only, got %r" % a.label)
    if a.jobs < 1 or a.timeout < 1:
        raise LabError("--jobs and --timeout must be positive")
    if not re.fullmatch(r"[a-z0-9_,]+", a.features):
        raise LabError("--features: expected a comma-separated list like psci,pmu")
    return a


def check_setup(a):
    if a.agent:
        if not os.path.exists(a.agent):
            raise LabError("--agent %s: no such file" % a.agent)
        p = subprocess.run(["sh", os.path.join(ROOT, "tools", "lab", "mkinitrd.sh"), a.agent, a.agent_initrd],
                           check=False)
        if p.returncode != 0:
            raise LabError("mkinitrd.sh failed for %s" % a.agent)
    missing = []
    if not (os.path.isfile(a.cpufleet) and os.access(a.cpufleet, os.X_OK)):
        missing.append("cpufleet binary %s (run make)" % a.cpufleet)
    if not os.path.isfile(a.kernel):
        missing.append("kernel %s (run tools/lab/setup.sh)" % a.kernel)
    if not os.path.isfile(a.agent_initrd):
        missing.append("agent initrd %s (run tools/lab/mkinitrd.sh AGENT %s, or pass --agent)"
                       % (a.agent_initrd, a.agent_initrd))
    for tool in ("qemu-system-aarch64", "cpio"):
        if shutil.which(tool) is None:
            missing.append("%s (run tools/lab/setup.sh)" % tool)
    if missing:
        raise LabError("missing: " + "; ".join(missing))


def main(argv, run=None, name="lab"):
    """The whole lab, or RUN(args) on the same options and set-up (tools/lab/errata.py)."""
    try:
        a = parse_args(argv)
        check_setup(a)
        return run(a) if run else Lab(a).main()
    except LabError as e:
        print("%s: error: %s" % (name, e), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("%s: interrupted" % name, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
