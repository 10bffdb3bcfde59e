#!/usr/bin/env python3
"""cpufleet's own mutation run (`make mutate`).

    python3 tools/mutate/run.py [--only PATTERN[,PATTERN...]] [--list]
        [--mutants FILE] [--no-generated] [--survivors FILE]
        [--suites SUITE,...] [--timeout S] [--bar PERCENT] [--work DIR]
        [--jobs N] [--dry]

A mutant is one small change to the engine's sources or to a catalogue, the
kind of mistake a reviewer could miss: a relational operator flipped, min
where max was meant, a dropped condition, a field extracted one bit off, a
catalogue policy, sign, floor, kind or role replaced by another.  Each
mutant is applied in a scratch copy of the tree (WORK/tree, default
build/mutate/tree; the worktree's own files are never written), built, and
judged by the fast suites of `make check`; the first suite that fails
kills it, the rest are not run.  A mutant no suite kills survives.  The
scratch tree starts from a copy of build/, and each suite builds only what
it runs (unit its test binary, the others build/cpufleet, gen-test
nothing), so a mutant costs the files it touches.  A suite runs as the
commands `make -n SUITE` prints, gen-test's python checks first; a
catalogue mutant meets gen-test before anything is built, an engine mutant
unit.  --jobs N judges N mutants at a time in N scratch trees (default 1:
the machine is shared).

Mutants come from two places:
  tools/mutate/mutants.txt   hand-written, one per line (grammar there):
                             the engine's accept/combine functions, field
                             extraction, x86 leaf and MSR absence
  the catalogues             generated here from arch/arm64/idregs.txt,
                             arch/x86/cpuid.txt and arch/caps/caps.txt by
                             the tables ARM64_ALTS, X86_ALTS and CAPS_ALTS
                             below: every (register family, policy) pair of
                             idregs.txt, every kind of cpuid.txt and every
                             (kind, role) of caps.txt, on real lines
`--list` prints them all without running anything.

Rules that keep the count honest:
  - the unmutated scratch tree must build and pass every suite first, or
    the run stops (a broken suite would "kill" every mutant);
  - a mutant must change its file (its text found exactly once, or its
    line as expected), must generate (a catalogue mutant: both generators
    run before any suite) and must build; one that does not is INVALID: it
    is listed, counted in no score, and fails the run;
  - mutants equivalent by construction are not made (same_rule(): on one
    bit or where KVM's limit is always 0 some policies are one rule; no
    policy mutant on a firmware register or fact field KVM does not let
    userspace change);
  - a suite that runs past its timeout kills the mutant, shown as
    "killed (timeout in SUITE)";
  - the scratch file is restored after every mutant, and at the end every
    file of the scratch tree is compared with the worktree's.

Survivors are listed with tools/mutate/survivors.txt's reason (ID, then the
reason: an equivalent mutant, or why the change is harmless); a survivor
with no reason, an INVALID mutant, or a score below --bar (default 95; only
for a run of every mutant) makes the exit status 1.  A listed survivor that
was killed is reported as stale, and fails a full run too.

Output: one line per mutant as it finishes, then `mutate: FAMILY: K/N
killed` per family and `mutate: K/N killed (P%)`.  The report, with every
mutant, its suite and time, the (family, policy) coverage and the
survivors, is WORK/report.txt; the failing suite's output of each killed
mutant is in WORK/logs/.
"""

import argparse
import fnmatch
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                     '..', '..'))

# The fast suites of `make check` (make targets), and what each needs built
# first (gen-test reads the catalogues as text and compiles its own C).
SUITES = {
    'unit': ['build/test_unit'],
    'gen-test': [],
    'cli-test': ['build/cpufleet'],
    'x86-test': ['build/cpufleet'],
    'harness-test': ['build/cpufleet'],
}
# A catalogue mutant must still generate: the generators run first, so one
# they refuse is INVALID, never "killed" by gen-test's own generator cases.
GENERATED = ['build/gen/arm64_catalog.c', 'build/gen/x86_catalog.c']
# Order per mutant class, fastest and most killing first (unit ~3 s, x86
# ~3 s, gen ~8 s, harness ~10 s, cli ~25 s here).  A catalogue mutant meets
# the catalogue checks of gen-test first, before anything is built.
ORDER = {
    'source': ['unit', 'x86-test', 'cli-test', 'harness-test', 'gen-test'],
    'catalogue': ['gen-test', 'unit', 'x86-test', 'cli-test', 'harness-test'],
}

# ---------------------------------------------------------------------------
# Mutants
# ---------------------------------------------------------------------------


class Mutant:
    def __init__(self, mid, family, path, why, kind, old, new, line=0,
                 nth=0, policy=''):
        self.id = mid
        self.family = family
        self.path = path        # relative to the tree
        self.why = why
        self.kind = kind        # 'source' or 'catalogue'
        self.old = old          # text (source) or the whole line (catalogue)
        self.new = new
        self.line = line        # catalogue: 1-based line number
        self.nth = nth          # source: which occurrence (0 = must be unique)
        self.policy = policy    # catalogue: the (family, policy) it covers
        self.status = None      # 'killed', 'survived', 'invalid'
        self.detail = ''
        self.suite = ''
        self.secs = 0.0

    def apply(self, text):
        """The mutated text, or raise ValueError saying why it cannot."""
        if self.kind == 'catalogue':
            lines = text.split('\n')
            if self.line < 1 or self.line > len(lines) or \
                    lines[self.line - 1] != self.old:
                raise ValueError('line %d is no longer %r' % (self.line, self.old))
            lines[self.line - 1] = self.new
            out = '\n'.join(lines)
        else:
            n = text.count(self.old)
            if n == 0:
                raise ValueError('text not found: %r' % self.old)
            if self.nth == 0 and n != 1:
                raise ValueError('text found %d times (write FILE@N): %r'
                                 % (n, self.old))
            if self.nth > n:
                raise ValueError('occurrence %d of %d: %r' % (self.nth, n, self.old))
            at = -1
            for _ in range(max(self.nth, 1)):
                at = text.index(self.old, at + 1)
            out = text[:at] + self.new + text[at + len(self.old):]
        if out == text:
            raise ValueError('the mutant changes nothing')
        return out


def unescape(s):
    return s.replace('\\n', '\n').replace('\\t', '\t').replace('\\\\', '\\')


def load_mutants(path):
    """tools/mutate/mutants.txt: FAMILY ID FILE[@N] :: OLD :: NEW :: WHY"""
    out = []
    with open(path) as fh:
        for n, raw in enumerate(fh, 1):
            line = raw.rstrip('\n')
            if not line.strip() or line.lstrip().startswith('#'):
                continue
            parts = line.split(' :: ')
            head = parts[0].split()
            if len(parts) != 4 or len(head) != 3 or not parts[3].strip():
                raise SystemExit('%s:%d: want FAMILY ID FILE[@N] :: OLD :: '
                                 'NEW :: WHY' % (path, n))
            fam, mid, f = head
            nth = 0
            if '@' in f:
                f, _, k = f.partition('@')
                nth = int(k)
            out.append(Mutant(mid, fam, f, parts[3].strip(), 'source',
                              unescape(parts[1].strip()),
                              unescape(parts[2].strip()), nth=nth))
    return out


def spread(items, k):
    """K items spread evenly over ITEMS (first and last included)."""
    if len(items) <= k:
        return list(items)
    if k == 1:
        return [items[len(items) // 2]]
    return [items[round(i * (len(items) - 1) / (k - 1))] for i in range(k)]


def words_of(line):
    return line.split('#', 1)[0].split()


# ---- arm64: arch/arm64/idregs.txt -------------------------------------------

# A replacement policy per policy, tried in turn over a family's fields, and
# what the mistake would do.
ARM64_ALTS = {
    'lower': [('higher', 'combines by maximum and takes any value above the '
               'host\'s: a baseline offers what some host lacks'),
              ('any', 'takes any value: a profile wanting more than the host '
               'has is called compatible'),
              ('exact=0', 'takes only the host\'s value or 0: a lower value '
               'the host could take is refused, a pool differing there drops '
               'to 0'),
              ('higher0', 'takes 0 or a value above the host\'s')],
    'lower-impdef': [('lower', '0xf (an IMPLEMENTATION DEFINED PMU) is read '
                      'as the highest version instead of none'),
                     ('higher', 'combines by maximum')],
    'higher': [('lower', 'combines by minimum: the guest is told less than '
                'the worst host (SpecSEI: no SError where one may come)'),
               ('any', 'takes any value')],
    'higher0': [('higher', '0 (no information) is no longer the safe value'),
                ('lower', 'combines by minimum')],
    'exact': [('lower', 'takes any value below the host\'s instead of only '
               'its own or SAFE'),
              ('any', 'takes any value'),
              ('exact=S', 'another SAFE value')],
    'any': [('lower', 'refuses a value above the host\'s where KVM takes '
             'anything'),
            ('exact=0', 'takes only the host\'s value or 0')],
    'any-max': [('any', 'combines by minimum: a pool of an IDC-0 and an '
                 'IDC-1 host gets LoUU = LoUIS = 0, which the IDC-0 host '
                 'refuses'),
                ('higher', 'refuses a level below the host\'s, which KVM '
                 'takes')],
    'prefix': [('lower', 'the SVE lengths compare as a number, not as the '
                'prefix KVM can cap')],
}
# The catalogue's register families, by register name.
ARM64_FAMILY = [
    (r'^(MIDR|REVIDR|AIDR)_EL1$', 'identity'),
    (r'^(ID_(PFR|DFR|ISAR|MMFR|AFR)\d_EL1|MVFR\d_EL1)$', 'aarch32'),
    (r'^ID_AA64PFR\d_EL1$', 'aa64pfr'),
    (r'^ID_AA64(ZFR|SMFR|FPFR)\d_EL1$', 'aa64zfr-smfr-fpfr'),
    (r'^ID_AA64(DFR|AFR)\d_EL1$', 'aa64dfr-afr'),
    (r'^ID_AA64ISAR\d_EL1$', 'aa64isar'),
    (r'^ID_AA64MMFR\d_EL1$', 'aa64mmfr'),
    (r'^(CTR_EL0|CLIDR_EL1)$', 'cache'),
]


def arm64_family(kind, reg):
    if kind == 'pseudo':
        return 'firmware'
    if kind == 'fact':
        return 'facts'
    for rx, fam in ARM64_FAMILY:
        if re.match(rx, reg):
            return fam
    return 'other'


def kernel_raz_fields(tree):
    """{(REG, FIELD)} the kernel's tables (tests/data/kernel/arm64-ftr.txt,
    transcribed from arm64_ftr_regs[]) have no ftr_bits entry for: RES0 to
    the kernel, so KVM's limit there is 0 on every host."""
    out = set()
    try:
        with open(os.path.join(tree, 'tests/data/kernel/arm64-ftr.txt')) as fh:
            for line in fh:
                w = words_of(line)
                if len(w) >= 7 and w[0] == 'field' and w[6] == '-':
                    out.add((w[1], w[2]))
    except OSError:
        pass
    return out


def same_rule(policy, to, width, raz):
    """Whether replacing POLICY by TO cannot change any answer on this
    field: such a mutant is equivalent by construction and not made.
    On one unsigned bit, `lower`, `exact=0` and `higher0` all accept 0 and
    the limit and nothing else, and combine by AND; `higher` and `exact=1`
    accept the limit and 1, and combine by OR.  Where KVM's limit is 0 on
    every host (RAZ), `lower` and `exact=0` both accept only 0."""
    classes = []
    if width == 1:
        classes += [{'lower', 'exact=0', 'higher0'}, {'higher', 'exact=1'}]
    if raz:
        classes.append({'lower', 'exact=0'})
    return any(policy in c and to in c for c in classes)


def gen_arm64(path, text):
    rel = os.path.relpath(path, ROOT)
    raz = kernel_raz_fields(ROOT)
    fields = []   # (family, policykey, reg, lineno, words)
    regs = []     # (kind, reg, lineno, words)
    cur = None
    for n, line in enumerate(text.split('\n'), 1):
        w = words_of(line)
        if not w:
            continue
        if w[0] in ('reg', 'pseudo', 'fact'):
            cur = (w[0], w[1])
            # A firmware register or fact says what KVM lets userspace
            # change; a field outside that mask takes only the host's own
            # value whatever its policy: no policy mutant there.
            fixed = int(w[3], 16) if w[0] != 'reg' else ~0
            regs.append((w[0], w[1], n, w))
        elif w[0] == 'field' and cur:
            msb, _, lsb = w[1].partition(':')
            lsb = int(lsb or msb)
            fmask = ((1 << (int(msb) - lsb + 1)) - 1) << lsb
            if fixed & fmask != fmask:
                continue
            fam = arm64_family(*cur)
            pol = 'exact' if w[4].startswith('exact=') else w[4]
            fields.append((fam, pol, cur[1], n, w, line))
    out = []

    def put(fam, what, n, line, new_words, tag, why, policy):
        new = ' '.join(new_words)
        mid = 'idregs:%s:%s' % (what, tag)
        out.append(Mutant(mid, 'idregs/' + fam, rel, why, 'catalogue', line,
                          new, line=n, policy=policy))

    # Every (family, policy): spread fields, each replacement in turn.
    groups = {}
    for f in fields:
        groups.setdefault((f[0], f[1]), []).append(f)
    for (fam, pol), fl in sorted(groups.items()):
        alts = ARM64_ALTS[pol]
        for i, (_, _, reg, n, w, line) in enumerate(
                spread(fl, max(2, len(alts)))):
            msb, _, lsb = w[1].partition(':')
            width = int(msb) - int(lsb or msb) + 1 if w[3] == 'unsigned' else 0
            for k in range(len(alts)):
                to, why = alts[(i + k) % len(alts)]
                if to == 'exact=S':
                    to = 'exact=%d' % (int(w[4][6:], 0) ^ 1)
                if not same_rule(w[4], to, width, (reg, w[2]) in raz):
                    break
            else:
                continue
            nw = list(w)
            nw[4] = to
            if to == 'lower-impdef':   # a value map goes only with lower
                nw = nw[:5] + [x for x in w[5:] if not x.startswith('as=')]
            elif to != 'lower':        # a floor only with lower(-impdef)
                nw = nw[:5]
            put(fam, reg + '.' + w[2], n, line, nw, '%s>%s' % (w[4], to),
                '%s -> %s: %s' % (w[4], to, why), '%s %s' % (fam, pol))
    # Signs: signed fields compared unsigned (0xf = -1 = not implemented
    # becomes the highest value), and one unsigned field per family signed.
    bysign = {}
    for f in fields:
        bysign.setdefault((f[0], f[4][3]), []).append(f)
    for (fam, sign), fl in sorted(bysign.items()):
        fl = [f for f in fl if f[1] in ('lower', 'higher')]
        k = 2 if sign == 'signed' else 1
        for _, _, reg, n, w, line in spread(fl, k):
            nw = list(w)
            nw[3] = 'unsigned' if sign == 'signed' else 'signed'
            put(fam, reg + '.' + w[2], n, line, nw, '%s>%s' % (sign, nw[3]),
                '%s -> %s: values with the top bit set (0xf = not '
                'implemented for a signed field) compare the other way'
                % (sign, nw[3]), '%s %s' % (fam, sign))
    # Floors: dropped, one lower, min <-> minnz.
    for fam, pol, reg, n, w, line in fields:
        fl = [x for x in w[5:] if x.startswith(('min=', 'minnz='))]
        if not fl:
            continue
        rest = [x for x in w[5:] if x != fl[0]]   # a value map stays
        kind, _, v = fl[0].partition('=')
        v = int(v, 0)
        other = 'minnz' if kind == 'min' else 'min'
        for tag, nw, why in (
                ('floor-dropped', w[:5] + rest, 'KVM\'s setter refuses '
                 'values below the floor; without it a baseline or check '
                 'takes them'),
                ('floor-1', w[:5] + ['%s=%d' % (kind, v - 1)] + rest,
                 'the floor one lower: the value just below it is taken'),
                ('%s>%s' % (kind, other), w[:5] + ['%s=%d' % (other, v)] +
                 rest, 'min refuses 0 too, minnz allows 0')):
            put(fam, reg + '.' + w[2], n, line, nw, tag,
                'floor %s: %s' % (fl[0], why),
                '%s floor %s' % (fam, kind))
    # Value maps (`as=V:C`): dropped, KVM's reading of a written value is
    # no longer the engine's.
    for fam, pol, reg, n, w, line in fields:
        for x in w[5:]:
            if x.startswith('as='):
                put(fam, reg + '.' + w[2], n, line,
                    [y for y in w if y != x], 'as-dropped',
                    'value map %s dropped: a written value KVM takes as '
                    'another is judged as itself' % x, '%s as' % fam)
    # Register flags: identity, required, checkonly; firmware and fact
    # writable masks.
    for kind, reg, n, w in regs:
        fam = arm64_family(kind, reg)
        line = text.split('\n')[n - 1]
        if kind == 'reg':
            for flag, why in (('identity', 'the register is mixed field by '
                               'field instead of taken whole from one member'),
                              ('required', 'a report without it is no longer '
                               'refused as malformed')):
                if flag in w and (flag == 'identity' or reg in
                                  ('MIDR_EL1', 'CTR_EL0', 'ID_AA64PFR0_EL1',
                                   'ID_AA64MMFR1_EL1', 'ID_MMFR0_EL1')):
                    nw = [x for x in w if x != flag]
                    put(fam, reg, n, line, nw,
                        flag + '-dropped', flag + ' dropped: ' + why,
                        '%s %s' % (fam, flag))
        else:
            if 'checkonly' in w:
                put(fam, reg, n, line, w[:4],
                    'checkonly-dropped', 'checkonly dropped: a write KVM '
                    'validates but does not keep is expected to read back',
                    '%s checkonly' % fam)
            nw = list(w)
            if w[3] != '0x0':
                nw[3] = '0x0'
                put(fam, reg, n, line, nw,
                    'writable>0', 'writable mask %s -> 0x0: a value KVM lets '
                    'userspace lower must now be equal' % w[3],
                    '%s writable' % fam)
            else:
                nw[3] = '0xffffffffffffffff'
                put(fam, reg, n, line, nw,
                    'writable>all', 'writable mask 0x0 -> all ones: a value '
                    'KVM does not let userspace change is taken as writable',
                    '%s writable' % fam)
    # wcap=CAP dropped: a register KVM lets userspace change only after the
    # VM enabled CAP is taken as writable without it.
    for kind, reg, n, w in regs:
        for x in w:
            if x.startswith('wcap='):
                put(arm64_family(kind, reg), reg, n, text.split('\n')[n - 1],
                    [y for y in w if y != x], 'wcap-dropped',
                    'wcap dropped: a value other than the host\'s is taken '
                    'though KVM refuses it unless the VM enabled %s' % x[5:],
                    '%s wcap' % arm64_family(kind, reg))
    out += needs_mutants(rel, text, 'idregs', 5)
    return out


def needs_mutants(rel, text, cat, k):
    """Dependency rules (`needs FEATURE... NEED... [| TEXT]`): K of them,
    spread over the file, dropped; and every NEED of the form X>=N
    weakened to X>=N-1."""
    lines = text.split('\n')
    rules = []
    for n, line in enumerate(lines, 1):
        w = words_of(line.split('|', 1)[0])
        if w and w[0] == 'needs':
            rules.append((n, w, line))
    out = []
    for n, w, line in spread(rules, k):
        feat = w[1].split(',')[0]
        out.append(Mutant('%s:needs-%s>%s:dropped' % (cat, feat, w[2]),
                          cat + '/needs',
                          rel, 'needs dropped (%s needs %s): a baseline keeps '
                          '%s where the pool lost %s, a check takes a profile '
                          'that has it without them' % (feat, ' '.join(w[2:]),
                                                        feat, ' '.join(w[2:])),
                          'catalogue', line, '', line=n,
                          policy='%s needs' % cat))
    for n, w, line in rules:
        for x in w[2:]:
            name, ge, v = x.partition('>=')
            if ge and int(v, 0) > 1:
                new = line.replace(x, '%s>=%d' % (name, int(v, 0) - 1), 1)
                out.append(Mutant('%s:needs-%s:%s>=%d' % (
                                      cat, w[1].split(',')[0], name,
                                      int(v, 0) - 1),
                                  cat + '/needs', rel, 'need %s weakened to '
                                  '>=%d: a feature is kept where its need is '
                                  'one step short' % (x, int(v, 0) - 1),
                                  'catalogue', line, new, line=n,
                                  policy='%s needs' % cat))
    return out


# ---- x86: arch/x86/cpuid.txt -------------------------------------------------

X86_ALTS = {
    'flag': [('inverted', 'combines by OR: the guest is offered a feature if '
              'any host has it'),
             ('vcpu', 'never intersected: any host takes any value'),
             ('equal', 'hosts must agree: a pool where one host lacks it is '
              'infeasible instead of dropping it')],
    'inverted': [('flag', 'a weakness combines by AND: the guest is told it '
                  'is safe if one host is')],
    'number': [('pick', 'any value is taken: a count above the host\'s is '
                'accepted'),
               ('equal', 'hosts must agree instead of taking the minimum')],
    'equal': [('number', 'differing values combine to the minimum instead of '
               'refusing the pool'),
              ('pick', 'any value is taken')],
    'exact0': [('number', 'differing values give the minimum, not 0 (the '
                'feature left out)'),
               ('equal', 'differing values refuse the pool instead of leaving '
                'the feature out')],
    'rate': [('number', 'the TSC rate is a minimum, not the host\'s within '
              '250 ppm'),
             ('equal', 'TSC scaling no longer relaxes the rate')],
    'pick': [('equal', 'hosts must agree on the signature'),
             ('number', 'the signature is a minimum: a host with a lower one '
              'refuses')],
    'vcpu': [('equal', 'per-vCPU values must agree'),
             ('number', 'per-vCPU values are a minimum')],
    'runtime': [('equal', 'a bit KVM recomputes must agree'),
                ('vcpu', None)],
    'orset': [('andset', 'must-be-1 controls combine by AND: a guest may need '
               'a control a host forces')],
    'andset': [('orset', 'may-be-1 controls combine by OR: a guest may use a '
                'control a host lacks')],
}
X86_DEFAULT_ALTS = {
    'flag': [('zero', 'unnamed bits must be 0 in the guest'),
             ('vcpu', 'unnamed bits are never intersected')],
    'zero': [('flag', 'unnamed bits KVM reports as 0 become flags'),
             ('vcpu', 'unnamed bits are never intersected')],
    'equal': [('vcpu', 'unnamed bits need not agree'),
              ('zero', 'unnamed bits must be 0')],
    'vcpu': [('equal', 'per-vCPU bits must agree'),
             ('zero', 'per-vCPU bits must be 0')],
}
# The three flags the December 2026 audit saw survive (test-audit §1).
X86_NAMED = ('sbpb', 'nrip_save', 'pat')


def x86_blocks(text):
    """[(header words, header lineno, [(lineno, words, line)...])]"""
    blocks, cur = [], None
    for n, line in enumerate(text.split('\n'), 1):
        w = words_of(line)
        if not w:
            continue
        if w[0] in ('cpuid', 'msr', 'fact'):
            cur = (w, n, [])
            blocks.append(cur)
        elif w[0] == 'end':
            cur = None
        elif cur is not None:
            cur[2].append((n, w, line))
    return blocks


def x86_regname(w):
    if w[0] == 'cpuid':
        return 'CPUID_%08X_%X_%s' % (int(w[1], 16), int(w[2], 16), w[3].upper())
    if w[0] == 'msr':
        return w[2]
    return w[1]


def gen_x86(path, text):
    rel = os.path.relpath(path, ROOT)
    lines = text.split('\n')
    blocks = x86_blocks(text)
    # Flags other lines name (levels, gates) must stay flags.
    pinned = set()
    for n, line in enumerate(lines, 1):
        w = words_of(line)
        if w and w[0] == 'level':
            pinned.update(w[2:])
        for x in w:
            if x.startswith('gate='):
                pinned.update(x[5:].split(','))
        if w and w[0] == 'needs':
            # a FLAG term must name a flag field (the generator refuses it
            # otherwise): such flags keep their kind
            for x in words_of(line.split('|', 1)[0])[1:]:
                pinned.update(x.split(','))
    out = []

    def put(mid, fam, n, new, why, policy):
        out.append(Mutant(mid, fam, rel, why, 'catalogue', lines[n - 1],
                          new, line=n, policy=policy))

    def reindent(n, nw):
        old = lines[n - 1]
        ind = old[:len(old) - len(old.lstrip())]
        return ind + ' '.join(nw)

    bykind = {}
    defaults = {}
    for hw, hn, body in blocks:
        reg = x86_regname(hw)
        for n, w, line in body:
            if w[0] == 'default':
                defaults.setdefault(w[1], []).append((reg, n, w))
            elif w[0] in X86_ALTS:
                if w[0] == 'flag' and w[2] in pinned:
                    continue
                bykind.setdefault(w[0], []).append((reg, n, w))
    for kind, items in sorted(bykind.items()):
        alts = [a for a in X86_ALTS[kind] if a[1]]
        k = 6 if kind == 'flag' else max(2, len(alts))
        pick = spread(items, k)
        if kind == 'flag':
            pick += [x for x in items if x[2][2] in X86_NAMED and x not in pick]
        for i, (reg, n, w) in enumerate(pick):
            to, why = alts[i % len(alts)]
            if kind == 'flag' and w[2] in X86_NAMED:
                to, why = alts[0]
            nw = [to] + w[1:]
            put('cpuid:%s.%s:%s>%s' % (reg, w[2], kind, to), 'cpuid/' + kind,
                n, reindent(n, nw), '%s -> %s: %s' % (kind, to, why),
                'cpuid ' + kind)
    for kind, items in sorted(defaults.items()):
        alts = X86_DEFAULT_ALTS[kind]
        for i, (reg, n, w) in enumerate(spread(items, max(2, len(alts)))):
            to, why = alts[i % len(alts)]
            put('cpuid:%s:default-%s>%s' % (reg, kind, to), 'cpuid/default', n,
                reindent(n, ['default', to]),
                'default %s -> %s: %s' % (kind, to, why), 'cpuid default ' + kind)
    # Block headers: gates dropped, required dropped, fact masks.  A gate
    # matters on a register with a named field (a register of reserved bits
    # alone reads 0 in every KVM report, gate or not); `required` on the
    # first register of a leaf (a document carries a leaf's four registers
    # together, so the others come and go with it).
    gated = [(hw, hn) for hw, hn, body in blocks
             if any(x.startswith('gate=') for x in hw) and
             any(w[0] != 'default' for _, w, _ in body)]
    for hw, hn in spread(gated, 6):
        nw = [x for x in hw if not x.startswith('gate=')]
        put('cpuid:%s:gate-dropped' % x86_regname(hw), 'cpuid/gate', hn,
            reindent(hn, nw), 'gate dropped: the register is judged and kept '
            'when the profile lacks the feature it describes (%s)'
            % [x for x in hw if x.startswith('gate=')][0], 'cpuid gate')
    req = [(hw, hn) for hw, hn, _ in blocks
           if 'required' in hw and hw[3] == 'eax']
    for hw, hn in req:
        nw = [x for x in hw if x != 'required']
        put('cpuid:%s:required-dropped' % x86_regname(hw), 'cpuid/required',
            hn, reindent(hn, nw), 'required dropped: a report without it is '
            'no longer refused as malformed', 'cpuid required')
    for hw, hn, _ in blocks:
        if hw[0] == 'fact' and hw[3] != '0x0':
            nw = list(hw)
            nw[3] = '0x0'
            put('cpuid:%s:writable>0' % hw[1], 'cpuid/fact', hn,
                reindent(hn, nw), 'fact writable mask %s -> 0x0' % hw[3],
                'cpuid fact')
    # psABI levels: one flag dropped from each.
    for n, line in enumerate(lines, 1):
        w = words_of(line)
        if w and w[0] == 'level':
            gone = w[2 + (len(w) - 2) // 2]
            put('cpuid:%s:dropped-%s' % (w[1], gone), 'cpuid/level', n,
                ' '.join(x for x in w if x != gone),
                'level %s without %s: a host lacking it is called %s'
                % (w[1], gone, w[1]), 'cpuid level')
    out += needs_mutants(rel, text, 'cpuid', 8)
    return out


# ---- capabilities: arch/caps/caps.txt ----------------------------------------

CAPS_ROLE_ALTS = {
    'guest': ('mechanism', 'a capability the VMs enable is no longer judged: '
              'a host without it is called compatible'),
    'mechanism': ('guest', 'VMM plumbing becomes something a profile may '
                  'enable and a host be refused for'),
    'capacity': ('setting', 'KVM_CAP_MAX_VCPUS and the like are no longer '
                 'a limit check --vcpus knows'),
    'setting': ('capacity', 'a setting becomes a size limit'),
}
CAPS_KIND_ALTS = {
    'bool': ('count', 'a yes/no capability compares as a number'),
    'count': ('bitmask', 'a number combines by AND of its bits'),
    'bitmask': ('count', 'a set of bits compares as a number'),
}


def gen_caps(path, text):
    rel = os.path.relpath(path, ROOT)
    lines = text.split('\n')
    groups = {}
    for n, line in enumerate(lines, 1):
        w = words_of(line)
        if len(w) not in (5, 6) or not w[0].startswith('KVM_CAP_'):
            continue
        # since=VERSION only words messages: never mutated, kept
        arches = w[2].split(',')
        # s390/ppc-only lines are in neither catalogue: a change there is
        # equivalent by construction.
        if not ({'all', 'x86', 'arm64'} & set(arches)):
            continue
        groups.setdefault((w[3], w[4]), []).append((n, w, line))
    out = []
    for (kind, role), items in sorted(groups.items()):
        for i, (n, w, line) in enumerate(spread(items, 2)):
            if i == 0:
                to, why = CAPS_ROLE_ALTS[role]
                if to == 'capacity' and kind == 'bool':
                    continue
                nw = w[:4] + [to] + w[5:]
                tag = '%s>%s' % (role, to)
            else:
                to, why = CAPS_KIND_ALTS[kind]
                if to == 'bool' and role == 'capacity':
                    continue
                nw = w[:3] + [to, role] + w[5:]
                tag = '%s>%s' % (kind, to)
            new = line.replace(' '.join(w), ' '.join(nw), 1)
            if new == line:   # spacing differs: rebuild the line
                new = ' '.join(nw) + ' #' + line.split('#', 1)[1]
            out.append(Mutant('caps:%s:%s' % (w[0], tag), 'caps/' + role, rel,
                              '%s: %s' % (tag.replace('>', ' -> '), why),
                              'catalogue', line, new, line=n,
                              policy='caps %s %s' % (kind, role)))
    return out


def generated_mutants(tree):
    out = []
    for rel, gen in (('arch/arm64/idregs.txt', gen_arm64),
                     ('arch/x86/cpuid.txt', gen_x86),
                     ('arch/caps/caps.txt', gen_caps)):
        p = os.path.join(tree, rel)
        with open(p) as fh:
            out += gen(os.path.join(ROOT, rel), fh.read())
    return out


# ---------------------------------------------------------------------------
# The scratch tree
# ---------------------------------------------------------------------------

def suite_env(fixtures):
    env = dict(os.environ)
    # The outer make's flags (variables, jobserver) must not reach the
    # scratch tree's make; nor a CPUFLEET of the caller.
    for k in ('MAKEFLAGS', 'MFLAGS', 'MAKELEVEL', 'MAKEOVERRIDES', 'CPUFLEET',
              'BUILD', 'SAN', 'CC', 'CFLAGS', 'CPPFLAGS', 'LDFLAGS', 'AWK',
              'CAPS_TXT', 'MUTATE_ONLY'):
        env.pop(k, None)
    if fixtures:
        env['CPUFLEET_FIXTURES'] = fixtures
    # tests/mutate/selftest.sh (in harness-test) skips itself then.
    env['CPUFLEET_MUTATE'] = '1'
    return env


def fixtures_dir():
    """Where tests/x86/firecracker.py would find its fixtures for the
    worktree (the scratch tree is no git worktree and would skip)."""
    if os.environ.get('CPUFLEET_FIXTURES'):
        return os.environ['CPUFLEET_FIXTURES']
    cands = [os.path.join(ROOT, '..', 'shared', 'fixtures')]
    try:
        common = subprocess.run(
            ['git', '-C', ROOT, 'rev-parse', '--path-format=absolute',
             '--git-common-dir'], capture_output=True, text=True,
            check=False).stdout.strip()
    except OSError:
        common = ''
    if common:
        cands.append(os.path.join(os.path.dirname(common), '..', 'shared',
                                  'fixtures'))
    for c in cands:
        if os.path.isfile(os.path.join(c, 'firecracker', 'T2CL.json')):
            return os.path.normpath(c)
    return None


def tree_files(top):
    """Relative paths of the tree's files, build outputs and git aside."""
    out = []
    for d, dirs, files in os.walk(top):
        rel = os.path.relpath(d, top)
        if rel == '.':
            dirs[:] = [x for x in dirs if x != '.git' and
                       not x.startswith('build')]
        for f in files:
            if rel == '.' and f == '.git':
                continue
            out.append(os.path.normpath(os.path.join(rel, f)))
    return sorted(out)


def make_tree(work, name, log):
    """WORK/NAME: a copy of the worktree's files and of its build/."""
    tree = os.path.join(work, name)
    if os.path.exists(tree):
        shutil.rmtree(tree)
    for rel in tree_files(ROOT):
        dst = os.path.join(tree, rel)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copy2(os.path.join(ROOT, rel), dst, follow_symlinks=False)
    build = os.path.join(ROOT, 'build')
    if os.path.isdir(build):
        workabs = os.path.abspath(work)
        # Not the work directory, nor another run's (build/mutate*), nor
        # the PostgreSQL test cluster (build/pg: a live server's files,
        # made afresh in the tree when its unit run needs one).
        shutil.copytree(build, os.path.join(tree, 'build'), symlinks=True,
                        ignore=lambda d, names: [
                            n for n in names
                            if os.path.abspath(os.path.join(d, n)) == workabs
                            or (os.path.abspath(d) == os.path.abspath(build)
                                and (n.startswith('mutate') or n == 'pg'))])
    log('scratch tree %s (build/ copied)' % os.path.relpath(tree, ROOT))
    return tree


STOP = threading.Event()   # set on SIGINT/SIGTERM: every worker stops


class Stopped(Exception):
    pass


def run_cmd(cmd, cwd, env, timeout, logpath, append=False):
    """(returncode or None on timeout, seconds); output to LOGPATH.  The
    command runs in a session of its own, killed whole on a timeout or a
    stop."""
    t0 = time.time()
    with open(logpath, 'a' if append else 'w') as out:
        p = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out,
                             stderr=subprocess.STDOUT, start_new_session=True)
        rc = None
        while True:
            try:
                rc = p.wait(timeout=0.5)
                break
            except subprocess.TimeoutExpired:
                late = timeout is not None and time.time() - t0 > timeout
                if late or STOP.is_set():
                    os.killpg(p.pid, signal.SIGKILL)
                    p.wait()
                    if STOP.is_set():
                        raise Stopped()
                    rc = None
                    break
    return rc, time.time() - t0


def suite_steps(tree, env, suites):
    """{suite: [shell command...]}: what `make SUITE` runs once the build
    is up to date (`make -n`), the python checks of a suite first (gen-test's
    catalogue comparisons before its generator cases)."""
    out = {}
    for s in suites:
        r = subprocess.run(['make', '-n', '-s', '--no-print-directory', s],
                           cwd=tree, env=env, capture_output=True, text=True,
                           check=False)
        cmds = [c for c in r.stdout.split('\n') if c.strip()]
        if r.returncode != 0 or not cmds:
            raise SystemExit('mutate: `make -n %s` in the scratch tree: %s'
                             % (s, r.stderr.strip()))
        out[s] = sorted(cmds, key=lambda c: 'python3' not in c.split()[:2])
    return out


def tail(path, n=25):
    try:
        with open(path, errors='replace') as fh:
            return ''.join(fh.readlines()[-n:])
    except OSError:
        return ''


class Worker:
    def __init__(self, tree, args, env, timeouts, logdir, steps):
        self.tree = tree
        self.args = args
        self.env = env
        self.timeouts = timeouts
        self.logdir = logdir
        self.steps = steps

    def make(self, targets, logpath, timeout):
        return run_cmd(['make', '--no-print-directory', '-j%d' % self.args.make_jobs]
                       + targets, self.tree, self.env, timeout, logpath)

    def build(self, logpath):
        return self.make(['all', 'build/test_unit'], logpath,
                         self.args.build_timeout)

    def suite(self, s, logpath, timeout):
        """Runs suite S step by step, to its first failing step."""
        secs = 0.0
        open(logpath, 'w').close()
        for cmd in self.steps[s]:
            rc, t = run_cmd(['sh', '-c', cmd], self.tree, self.env,
                            None if timeout is None else timeout - secs,
                            logpath, append=True)
            secs += t
            if rc != 0:
                return rc, secs
        return 0, secs

    def judge(self, m, pristine):
        """Apply M, build, run the suites; restore. Sets m.status."""
        path = os.path.join(self.tree, m.path)
        t0 = time.time()
        safe = re.sub(r'[^A-Za-z0-9_.-]+', '_', m.id)
        logpath = os.path.join(self.logdir, safe + '.log')
        orig = pristine.get(m.path)
        if orig is None:
            m.status, m.detail = 'invalid', 'no file %s in the tree' % m.path
            return
        try:
            text = m.apply(orig)
        except ValueError as e:
            m.status, m.detail = 'invalid', str(e)
            return
        try:
            with open(path, 'w') as fh:
                fh.write(text)
            built = set()
            m.status = 'survived'
            first = GENERATED if m.kind == 'catalogue' else []
            for s in self.args.order[m.kind]:
                need = [t for t in first + SUITES[s] if t not in built]
                first = []
                if need:
                    rc, _ = self.make(need, logpath, self.args.build_timeout)
                    if rc != 0:
                        m.status = 'invalid'
                        m.detail = ('build timed out' if rc is None else
                                    'does not build: ' +
                                    tail(logpath, 6).strip().replace('\n', ' | '))
                        break
                    built.update(need)
                rc, secs = self.suite(s, logpath, self.timeouts[s])
                if rc != 0:
                    m.status, m.suite = 'killed', s
                    m.detail = s
                    if rc is None:
                        # A suite that had printed failures before it
                        # ran out of time failed, and was slow too.
                        m.detail = 'timeout in %s after %.0f s%s' % (
                            s, secs, ', tests had failed' if
                            re.search(r'FAILED|^FAIL', tail(logpath, 10**6),
                                      re.M) else '')
                    break
            if m.status != 'killed' and os.path.exists(logpath):
                os.unlink(logpath)
        finally:
            with open(path, 'w') as fh:
                fh.write(orig)
            m.secs = time.time() - t0


# ---------------------------------------------------------------------------
# Survivors file, selection, report
# ---------------------------------------------------------------------------

def load_survivors(path):
    """{id: reason} from `ID reason...` lines."""
    out = {}
    if not path or not os.path.exists(path):
        return out
    with open(path) as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip() or line.lstrip().startswith('#'):
                continue
            mid, _, why = line.strip().partition(' ')
            if not why.strip():
                raise SystemExit('%s:%d: want ID REASON' % (path, n))
            out[mid] = why.strip()
    return out


def selected(m, pats):
    for p in pats:
        if any(c in p for c in '*?['):
            if fnmatch.fnmatchcase(m.id, p) or fnmatch.fnmatchcase(m.family, p):
                return True
        elif p in m.id or p in m.family:
            return True
    return False


def pct(k, n):
    return 100.0 * k / n if n else 100.0


def report(mutants, survivors, args, elapsed, baseline_secs, out):
    judged = [m for m in mutants if m.status in ('killed', 'survived')]
    fams = {}
    for m in judged:
        fams.setdefault(m.family, []).append(m)
    lines = []
    lines.append('cpufleet mutation run: %d mutants judged by %s'
                 % (len(judged), ', '.join(args.suites)))
    lines.append('machine: %s, %d CPUs; jobs %d; %.0f s (unmutated suites: '
                 '%s)' % (machine(), os.cpu_count() or 0, args.jobs, elapsed,
                          ', '.join('%s %.0f s' % kv for kv in
                                    baseline_secs.items())))
    lines.append('')
    lines.append('%-28s %7s %9s' % ('family', 'killed', 'survived'))
    for f in sorted(fams):
        k = sum(1 for m in fams[f] if m.status == 'killed')
        lines.append('%-28s %7d %9d' % (f, k, len(fams[f]) - k))
    pol = {}
    for m in judged:
        if m.policy:
            pol.setdefault(m.policy, [0, 0])
            pol[m.policy][0 if m.status == 'killed' else 1] += 1
    if pol:
        lines.append('')
        lines.append('catalogue coverage: (family, policy or kind) -> '
                     'killed/mutants')
        for p in sorted(pol):
            k, s = pol[p]
            lines.append('  %-40s %d/%d' % (p, k, k + s))
    bys = {}
    for m in judged:
        if m.status == 'killed':
            bys[m.suite] = bys.get(m.suite, 0) + 1
    lines.append('')
    lines.append('killed by: ' + ', '.join('%s %d' % (s, bys.get(s, 0))
                                           for s in args.suites))
    lines.append('')
    lines.append('%-9s %-58s %-26s %6s  %s' % ('status', 'mutant', 'by',
                                               'secs', 'why'))
    for m in mutants:
        if m.status is None:
            continue
        lines.append('%-9s %-58s %-26s %6.1f  %s' % (
            m.status, m.id, m.detail if m.status == 'killed' else '-',
            m.secs, m.why))
    surv = [m for m in judged if m.status == 'survived']
    lines.append('')
    lines.append('survivors (%d):' % len(surv))
    for m in surv:
        lines.append('  %s [%s] %s' % (m.id, m.path,
                                       survivors.get(m.id, 'NO REASON GIVEN')))
    inval = [m for m in mutants if m.status == 'invalid']
    if inval:
        lines.append('')
        lines.append('INVALID mutants (%d):' % len(inval))
        for m in inval:
            lines.append('  %s: %s' % (m.id, m.detail))
    k = sum(1 for m in judged if m.status == 'killed')
    lines.append('')
    lines.append('mutate: %d/%d killed (%.1f%%)' % (k, len(judged),
                                                    pct(k, len(judged))))
    with open(out, 'w') as fh:
        fh.write('\n'.join(lines) + '\n')


def machine():
    model = 'unknown CPU'
    try:
        with open('/proc/cpuinfo') as fh:
            for line in fh:
                if line.startswith('model name'):
                    model = line.split(':', 1)[1].strip()
                    break
    except OSError:
        pass
    return '%s %s' % (os.uname().machine, model)


# ---------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--only', default=os.environ.get('MUTATE_ONLY', ''),
                    help='comma-separated substrings or globs of mutant ids '
                         'or families')
    ap.add_argument('--list', action='store_true')
    ap.add_argument('--dry', action='store_true',
                    help='apply every mutant to its text only: list the '
                         'ones that do not apply')
    ap.add_argument('--mutants', default=os.path.join(ROOT, 'tools/mutate/mutants.txt'))
    ap.add_argument('--no-generated', action='store_true',
                    help='only the --mutants file, no catalogue mutants')
    ap.add_argument('--survivors',
                    default=os.path.join(ROOT, 'tools/mutate/survivors.txt'))
    ap.add_argument('--suites', default=','.join(SUITES),
                    help='the suites to judge by (default: all fast ones)')
    ap.add_argument('--timeout', type=float, default=0,
                    help='seconds per suite (default: 4x its unmutated '
                         'time, at least 60)')
    ap.add_argument('--build-timeout', type=float, default=600)
    ap.add_argument('--bar', type=float, default=95.0)
    ap.add_argument('--work', default=os.path.join(ROOT, 'build', 'mutate'))
    ap.add_argument('--jobs', type=int, default=1,
                    help='scratch trees judging mutants in parallel')
    ap.add_argument('--make-jobs', type=int, default=2)
    args = ap.parse_args()

    args.suites = [s for s in args.suites.split(',') if s]
    for s in args.suites:
        if s not in SUITES:
            ap.error('unknown suite %s (known: %s)' % (s, ', '.join(SUITES)))
    args.order = {c: [s for s in o if s in args.suites]
                  for c, o in ORDER.items()}

    mutants = load_mutants(args.mutants) if args.mutants else []
    if not args.no_generated:
        mutants += generated_mutants(ROOT)
    seen = set()
    for m in mutants:
        if m.id in seen:
            raise SystemExit('mutate: mutant id %s twice' % m.id)
        seen.add(m.id)
    pats = [p.strip() for p in args.only.split(',') if p.strip()]
    full = not pats
    if pats:
        mutants = [m for m in mutants if selected(m, pats)]
    if args.list:
        for m in mutants:
            print('%-30s %-60s %s' % (m.family, m.id, m.why))
        print('%d mutants' % len(mutants))
        return 0
    if not mutants:
        print('mutate: no mutant matches %r' % args.only)
        return 1
    if args.dry:
        bad = 0
        for m in mutants:
            try:
                with open(os.path.join(ROOT, m.path)) as fh:
                    m.apply(fh.read())
            except (OSError, ValueError) as e:
                bad += 1
                print('mutate: INVALID %s: %s' % (m.id, e))
        print('mutate: %d mutants, %d do not apply' % (len(mutants), bad))
        return 1 if bad else 0
    survivors = load_survivors(args.survivors)

    work = os.path.abspath(args.work)
    logdir = os.path.join(work, 'logs')
    if os.path.isdir(logdir):
        shutil.rmtree(logdir)
    os.makedirs(logdir)
    t_start = time.time()

    def log(msg):
        print('mutate: ' + msg, flush=True)

    env = suite_env(fixtures_dir())
    trees = [make_tree(work, 'tree' if i == 0 else 'tree%d' % i, log)
             for i in range(args.jobs)]
    pristine = {}
    for rel in sorted({m.path for m in mutants}):
        try:
            with open(os.path.join(trees[0], rel)) as fh:
                pristine[rel] = fh.read()
        except OSError:
            pass
    # The unmutated tree must build and pass every suite.
    baseline_secs = {}
    timeouts = {}
    steps = None
    for i, tree in enumerate(trees):
        lp = os.path.join(logdir, 'unmutated.log')
        w = Worker(tree, args, env, {s: None for s in SUITES}, logdir, steps)
        rc, secs = w.build(lp)
        if rc != 0:
            log('the unmutated tree does not build (%s):\n%s' % (lp, tail(lp)))
            return 2
        if i:
            continue
        log('unmutated build %.0f s' % secs)
        steps = w.steps = suite_steps(tree, env, args.suites)
        for s in args.suites:
            rc, secs = w.suite(s, lp, None)
            if rc != 0:
                log('the unmutated tree fails %s; nothing can be judged:\n%s'
                    % (s, tail(lp)))
                return 2
            baseline_secs[s] = secs
            timeouts[s] = args.timeout or max(60.0, 4 * secs)
            log('unmutated %s passes (%.0f s, timeout %.0f s)'
                % (s, secs, timeouts[s]))
    workers = [Worker(t, args, env, timeouts, logdir, steps) for t in trees]

    total = len(mutants)
    lock = threading.Lock()
    queue = list(mutants)
    done = [0]

    def run_worker(w):
        while not STOP.is_set():
            with lock:
                if not queue:
                    return
                m = queue.pop(0)
            try:
                w.judge(m, pristine)
            except Stopped:
                m.status = None
                return
            with lock:
                done[0] += 1
                what = {'killed': 'killed (%s)' % m.detail,
                        'survived': 'SURVIVED',
                        'invalid': 'INVALID: %s' % m.detail}[m.status]
                print('[%d/%d] %-58s %s %.0fs' % (done[0], total, m.id, what,
                                                  m.secs), flush=True)

    threads = [threading.Thread(target=run_worker, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    try:
        for t in threads:
            while t.is_alive():
                t.join(0.5)
    except KeyboardInterrupt:
        STOP.set()
        for t in threads:
            t.join()
        log('stopped; the scratch files are restored')
        return 130

    # Every scratch file as the worktree has it again.
    for tree in trees:
        for rel, text in pristine.items():
            with open(os.path.join(tree, rel)) as fh:
                if fh.read() != text:
                    log('%s in %s was not restored' % (rel, tree))
                    return 2
    elapsed = time.time() - t_start

    judged = [m for m in mutants if m.status in ('killed', 'survived')]
    fams = {}
    for m in judged:
        fams.setdefault(m.family, []).append(m)
    for f in sorted(fams):
        k = sum(1 for m in fams[f] if m.status == 'killed')
        print('mutate: %s: %d/%d killed' % (f, k, len(fams[f])))
    bad = False
    for m in mutants:
        if m.status == 'survived':
            reason = survivors.get(m.id)
            print('mutate: survivor %s: %s' % (m.id, reason or
                                               'NO REASON (a missing test?)'))
            bad |= reason is None
        elif m.status == 'killed' and m.id in survivors:
            print('mutate: stale survivors entry %s: it was killed (%s)'
                  % (m.id, m.detail))
            bad |= full
        elif m.status == 'invalid':
            print('mutate: INVALID %s: %s' % (m.id, m.detail))
            bad = True
    k = sum(1 for m in judged if m.status == 'killed')
    rep = os.path.join(work, 'report.txt')
    report(mutants, survivors, args, elapsed, baseline_secs, rep)
    print('mutate: report %s, %.0f s' % (os.path.relpath(rep, os.getcwd()),
                                         elapsed))
    print('mutate: %d/%d killed (%.1f%%)' % (k, len(judged),
                                             pct(k, len(judged))))
    if full and pct(k, len(judged)) < args.bar:
        print('mutate: below the bar of %g%%' % args.bar)
        bad = True
    return 1 if bad else 0


def on_term(signum, frame):
    raise KeyboardInterrupt


if __name__ == '__main__':
    signal.signal(signal.SIGTERM, on_term)
    sys.exit(main())
