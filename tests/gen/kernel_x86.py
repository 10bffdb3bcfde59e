#!/usr/bin/env python3
"""arch/x86/cpuid.txt's feature bits against Linux and libvirt (make gen-test).

    python3 tests/gen/kernel_x86.py [CATALOGUE]

Expectations, never cpufleet's code:
  tests/data/kernel/x86-bits.txt      where Linux (cpufeatures.h, msr-index.h)
                                      and libvirt's CPU map put each feature
                                      bit, and its name (tools/dev/x86_bits.py)
  tests/data/kernel/x86-weakness.txt  the bits where 1 is the worse value, each
                                      with the SDM / kernel text that says so
Checks, for every `flag` and `inverted` line of cpuid.txt:
  source    Linux or libvirt defines a feature at that register and bit
  name      where cpufeatures.h defines it: the cpuinfo name, or the macro
            in lower case (cpuid.txt's `# macro` names)
  kind      `inverted` exactly where x86-weakness.txt lists the bit, `flag`
            everywhere else
and for every weakness: cpuid.txt has an `inverted` line there.  Bits a
block leaves to `default flag` count as flags.  Exceptions, with reasons:
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
    # Feature bits the sources know inside a `default flag` block: flags.
    for (reg, bit), defs in sorted(known.items()):
        r = cat.get(reg)
        if r is None or bit in r['bits'] or (reg, bit) in weak:
            continue
        if r['default'] not in ('flag',):
            continue
        # a default flag: the kind agrees (capability); nothing to report


def main(argv):
    path = argv[0] if argv else os.path.join(ROOT, 'arch/x86/cpuid.txt')
    cat = load_catalogue(path)
    known = load_bits(os.path.join(DATA, 'x86-bits.txt'))
    weak = {(w[0], int(w[1])): w[2] for _, w in words(os.path.join(DATA, 'x86-weakness.txt'))}
    exc = {}
    for n, w in words(os.path.join(DATA, 'x86-exceptions.txt')):
        exc[(w[0], w[1], w[2])] = {'line': n, 'used': False}
    nfail = 0
    nbits = sum(1 for r in cat.values() for k in r['bits'].values() if k[0] in ('flag', 'inverted'))
    for reg, bit, check, detail in compare(cat, known, weak):
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
        print('ok - %d flag and inverted bits agree with Linux, libvirt and the weakness '
              'list (%d listed exceptions)' % (nbits, len(exc)))
    print('%d passed, %d failed' % (0 if nfail else 1, nfail))
    return 1 if nfail else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
