#!/usr/bin/env python3
"""arch/x86/cpuid.txt's feature bits against Linux and libvirt (make gen-test).

    python3 tests/gen/kernel_x86.py [CATALOGUE]

Expectations, never cpufleet's code:
  tests/data/kernel/x86-bits.txt      where Linux (cpufeatures.h, msr-index.h)
                                      and libvirt's CPU map put each feature
                                      bit, and its name (tools/dev/x86_bits.py)
  tests/data/kernel/x86-weakness.txt  the bits where 1 is the worse value, each
                                      with the SDM / kernel text that says so
  tests/data/kernel/x86-kvm-only.txt  bits only KVM defines (reverse_cpuid.h)
  tests/data/kernel/x86-levels.txt    the psABI levels' CPUID bits
Checks, for every `flag` and `inverted` line of cpuid.txt:
  source    Linux, libvirt or KVM defines a feature at that register and bit
  name      where cpufeatures.h defines it: the cpuinfo name, or the macro
            in lower case (cpuid.txt's `# macro` names)
  kind      `inverted` exactly where x86-weakness.txt lists the bit, `flag`
            everywhere else
and for every weakness: cpuid.txt has an `inverted` line there; and
  feature   every bit Linux, libvirt or KVM defines as a feature, in a
            register cpuid.txt describes, is a `flag` or `inverted` bit there
            (not a number, equal, per-vCPU, runtime or zero field)
  level     each `level` line names exactly the flags at the psABI's bits
            for that level
Bits a block leaves to `default flag` count as flags.  Exceptions, with reasons:
tests/data/kernel/x86-exceptions.txt (REGISTER BIT CHECK reason); one that
matches nothing fails; BIT `*` covers every bit of the register.  Prints "ok - ..." / "FAIL - ..."; exit 1 on failure.
"""
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the tree
from textdata import words  # noqa: E402

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..'))
DATA = os.path.join(ROOT, 'tests/data/kernel')



def load_catalogue(path):
    """{register: {'bits': {bit: (kind, name, line)}, 'default': kind}}"""
    regs, cur = {}, None
    for n, w in words(path):
        if w[0] == 'cpuid':
            name = 'CPUID_%08X_%X_%s' % (int(w[1], 16), int(w[2], 16), w[3].upper())
            cur = regs.setdefault(name, {'bits': {}, 'default': None})
        elif w[0] == 'msr':
            cur = regs.setdefault('MSR_%X' % int(w[1], 16), {'bits': {}, 'default': None})
        elif w[0] == 'fact' or w[0] == 'end':
            cur = None
        elif cur is None:
            continue
        elif w[0] == 'default':
            cur['default'] = w[1]
        elif w[0] in ('flag', 'inverted'):
            cur['bits'][int(w[1])] = (w[0], w[2], n)
        else:
            hi, _, lo = w[1].partition(':')
            for b in range(int(lo or hi), int(hi) + 1):
                cur['bits'][b] = (w[0], w[2], n)
    return regs


def load_bits(path):
    out = {}
    for _, w in words(path):
        out.setdefault((w[0], int(w[1])), []).append({'src': w[2], 'name': w[3], 'macro': w[4]})
    return out


def load_levels(path):
    """{level: [flag names]} from cpuid.txt's `level` lines."""
    out = {}
    for _, w in words(path):
        if w[0] == 'level':
            out[w[1]] = w[2:]
    return out


def flag_at(cat):
    """{flag name: (register, bit)} of every flag line."""
    out = {}
    for reg, r in cat.items():
        for bit, (kind, name, _) in r['bits'].items():
            if kind == 'flag':
                out[name] = (reg, bit)
    return out


def compare_levels(cat, levels, table):
    where = flag_at(cat)
    for level in sorted(set(levels) | set(table)):
        got = {}
        for name in levels.get(level, []):
            got[where.get(name, ('?', -1))] = name
        want = table.get(level, {})
        for rb, psabi in sorted(want.items()):
            if rb not in got:
                yield level, psabi, 'level', '%s lacks %s (%s bit %d)' % (
                    level, psabi, rb[0], rb[1])
        for rb, name in sorted(got.items()):
            if rb not in want:
                yield level, name, 'level', '%s names %s (%s bit %s), not a bit of the ' \
                    'psABI level' % (level, name, rb[0], rb[1])


def compare(cat, known, weak):
    for reg, r in sorted(cat.items()):
        for bit, (kind, name, line) in sorted(r['bits'].items()):
            if kind not in ('flag', 'inverted'):
                continue
            defs = known.get((reg, bit), [])
            where = '%s bit %d (%s, cpuid.txt:%d)' % (reg, bit, name, line)
            if not defs and (reg, bit) not in weak:
                yield reg, bit, 'source', '%s: neither Linux nor libvirt defines it' % where
            for d in defs:
                if d['src'] != 'linux':
                    continue
                ok = {d['macro'].lower()}
                if d['name'] != '-':
                    ok.add(d['name'])
                if name not in ok:
                    yield reg, bit, 'name', '%s: Linux calls it %s' % (where, ' or '.join(sorted(ok)))
            want = 'inverted' if (reg, bit) in weak else 'flag'
            if kind != want:
                yield reg, bit, 'kind', '%s is %s; %s' % (
                    where, kind, 'the weakness list says inverted' if want == 'inverted'
                    else 'a feature bit (%s), so flag' % ', '.join(
                        '%s %s' % (d['src'], d['macro'] if d['macro'] != '-' else d['name']) for d in defs)
                    if defs else 'not in the weakness list, so flag')
    for (reg, bit), wname in sorted(weak.items()):
        r = cat.get(reg)
        got = r['bits'].get(bit) if r else None
        if got is None or got[0] != 'inverted':
            yield reg, bit, 'weakness', '%s bit %d (%s) is a weakness; cpuid.txt has %s' % (
                reg, bit, wname, got[0] if got else (r['default'] if r else 'no such register'))
    # Every bit the sources define as a feature is a flag or an inverted
    # bit here (a `default flag` bit counts as a flag).
    for (reg, bit), defs in sorted(known.items()):
        r = cat.get(reg)
        if r is None:
            continue
        got = r['bits'].get(bit)
        kind = got[0] if got else r['default']
        if kind in ('flag', 'inverted'):
            continue
        yield reg, bit, 'feature', '%s bit %d (%s) is a feature of %s; cpuid.txt has %s' % (
            reg, bit, got[1] if got else 'unnamed',
            ', '.join('%s %s' % (d['src'], d['macro'] if d['macro'] != '-' else d['name'])
                      for d in defs), kind or 'no line')


def main(argv):
    path = argv[0] if argv else os.path.join(ROOT, 'arch/x86/cpuid.txt')
    cat = load_catalogue(path)
    known = load_bits(os.path.join(DATA, 'x86-bits.txt'))
    for key, defs in load_bits(os.path.join(DATA, 'x86-kvm-only.txt')).items():
        known.setdefault(key, []).extend(defs)
    table = {}
    for _, w in words(os.path.join(DATA, 'x86-levels.txt')):
        table.setdefault(w[0], {})[(w[1], int(w[2]))] = w[3]
    weak = {(w[0], int(w[1])): w[2] for _, w in words(os.path.join(DATA, 'x86-weakness.txt'))}
    exc = {}
    for n, w in words(os.path.join(DATA, 'x86-exceptions.txt')):
        exc[(w[0], w[1], w[2])] = {'line': n, 'used': False}
    nfail = 0
    nbits = sum(1 for r in cat.values() for k in r['bits'].values() if k[0] in ('flag', 'inverted'))
    for reg, bit, check, detail in list(compare(cat, known, weak)) + \
            list(compare_levels(cat, load_levels(path), table)):
        e = exc.get((reg, str(bit), check)) or exc.get((reg, '*', check))
        if e:
            e['used'] = True
            continue
        nfail += 1
        print('FAIL - %s %s' % (check, detail))
    for (reg, bit, check), e in sorted(exc.items()):
        if not e['used']:
            nfail += 1
            print('FAIL - exception line %d (%s bit %s %s) matches no disagreement' % (
                e['line'], reg, bit, check))
    if not nfail:
        print('ok - %d flag and inverted bits agree with Linux, libvirt, KVM and the '
              'weakness list, every feature bit they define is one, and the %d psABI '
              'levels name their bits (%d listed exceptions)' % (nbits, len(table), len(exc)))
    print('%d passed, %d failed' % (0 if nfail else 1, nfail))
    return 1 if nfail else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
