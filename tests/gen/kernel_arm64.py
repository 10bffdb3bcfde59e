#!/usr/bin/env python3
"""arch/arm64/idregs.txt against the kernel's own definitions (make gen-test).

    python3 tests/gen/kernel_arm64.py [CATALOGUE]

The expectation is tests/data/kernel/arm64-ftr.txt, transcribed by
tools/dev/arm64_ftr.py from the Linux source (arch/arm64/tools/sysreg,
arch/arm64/kernel/cpufeature.c, arch/arm64/kvm/sys_regs.c; commits in its
header).  Nothing here uses cpufleet's code: the catalogue is read as text.

For every register the kernel's arm64_ftr_regs[] lists and the catalogue has:
  encoding  op0..op2 equal
  missing   every ftr_bits entry has a catalogue field at the same bits
  name      the names agree (case aside)
  sign      FTR_SIGNED <-> signed, FTR_UNSIGNED <-> unsigned
  policy    the type KVM applies (kvm_arm64_ftr_safe_value(), else the
            entry's): FTR_LOWER_SAFE -> lower, FTR_HIGHER_SAFE -> higher,
            FTR_HIGHER_OR_ZERO_SAFE -> higher0, FTR_EXACT -> exact=SAFE
  safe      exact=SAFE holds the entry's safe_val
  floor     min=/minnz= as the set_id_*() setters refuse (a one-term
            `refuse REG.FIELD=0` line without `where` counts as min=1)
  impdef    lower-impdef exactly where a setter rewrites 0xf to 0
  absent    a catalogue field with no ftr_bits entry is RES0 to the kernel,
            so KVM's limit is 0 and only 0 is accepted: the catalogue must
            say `unsigned lower` or `exact=0` (the rules that accept only 0
            under a limit of 0)
  arch      a catalogue field lies on a field of the kernel's sysreg file
  archsign  for such an absent field, the sign agrees with Signed/UnsignedEnum
Each disagreement fails unless tests/data/kernel/arm64-exceptions.txt lists
it (REG FIELD CHECK reason); an exception that matches nothing fails too.
Prints "ok - ..." / "FAIL - ..." and "N passed, N failed"; exit 1 on failure.
"""
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the tree
from textdata import words  # noqa: E402

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..'))
TABLE = os.path.join(ROOT, 'tests/data/kernel/arm64-ftr.txt')
EXCEPT = os.path.join(ROOT, 'tests/data/kernel/arm64-exceptions.txt')

POLICY = {'FTR_LOWER_SAFE': 'lower', 'FTR_HIGHER_SAFE': 'higher',
          'FTR_HIGHER_OR_ZERO_SAFE': 'higher0', 'FTR_EXACT': 'exact'}



def bits(spec):
    hi, _, lo = spec.partition(':')
    return int(hi), int(lo or hi)


def load_catalogue(path):
    """{reg: {'enc': tuple, 'fields': {(msb, lsb): field}}} from idregs.txt text."""
    regs, cur = {}, None
    for n, w in words(path):
        if w[0] == 'reg':
            cur = {'enc': tuple(int(x) for x in w[2:7]), 'fields': {}}
            regs[w[1]] = cur
        elif w[0] in ('pseudo', 'fact'):
            cur = None
        elif w[0] == 'end':
            cur = None
        elif w[0] == 'field' and cur is not None:
            msb, lsb = bits(w[1])
            f = {'name': w[2], 'sign': w[3], 'policy': w[4], 'safe': None,
                 'floor': '-', 'line': n}
            if w[4].startswith('exact='):
                f['policy'], f['safe'] = 'exact', int(w[4][6:], 0)
            for extra in w[5:]:
                if extra.startswith(('min=', 'minnz=')):
                    kind, _, v = extra.partition('=')
                    f['floor'] = '%s=%d' % (kind, int(v, 0))
            cur['fields'][(msb, lsb)] = f
        elif w[0] == 'refuse' and len(w) > 2 and w[2] in ('since', '|') and \
                ',' not in w[1] and w[1].endswith('=0'):
            # `refuse REG.FIELD=0 [since X.Y] | ...`: KVM refuses 0 on every
            # host, a floor of min=1 to a kernel at least X.Y (the table is
            # transcribed from one newer than any `since` here).
            reg, _, field = w[1][:-2].partition('.')
            for f in regs.get(reg, {'fields': {}})['fields'].values():
                if f['name'] == field and f['floor'] == '-':
                    f['floor'] = 'min=1'
    return regs


def load_table(path):
    regs = {}
    for n, w in words(path):
        if w[0] == 'reg':
            regs[w[1]] = {'enc': tuple(int(x) for x in w[2:7]), 'table': w[7], 'fields': {}}
        elif w[0] == 'field':
            msb, lsb = bits(w[3])
            regs[w[1]]['fields'][(msb, lsb)] = {
                'name': w[2], 'arch': w[4], 'ftr': w[5], 'type': w[6],
                'safe': None if w[7] == '-' else int(w[7]),
                'kvm': w[8], 'floor': w[9],
                'impdef': None if w[10] == '-' else int(w[10])}
    return regs


def load_exceptions(path):
    out = {}
    for n, w in words(path):
        out[(w[0], w[1], w[2])] = {'why': ' '.join(w[3:]), 'used': False, 'line': n}
    return out


def compare(cat, ker):
    """Yield (reg, field, check, detail) for every disagreement."""
    for reg, k in ker.items():
        c = cat.get(reg)
        if c is None:
            yield reg, '-', 'register', 'in arm64_ftr_regs[] but not in the catalogue'
            continue
        if c['enc'] != k['enc']:
            yield reg, '-', 'encoding', 'catalogue %s, kernel %s' % (c['enc'], k['enc'])
        for pos, kf in k['fields'].items():
            if kf['ftr'] == '-':
                continue
            cf = c['fields'].get(pos)
            where = '%d:%d' % pos
            if cf is None:
                yield reg, kf['name'], 'missing', 'ftr_bits describes %s; the catalogue does not' % where
                continue
            name = cf['name']
            if name.lower() != kf['name'].lower():
                yield reg, name, 'name', 'kernel calls %s %s' % (where, kf['name'])
            if cf['sign'] != kf['ftr']:
                yield reg, name, 'sign', 'catalogue %s, kernel %s' % (cf['sign'], kf['ftr'])
            ktype = kf['kvm'] if kf['kvm'] != '-' else kf['type']
            want = POLICY[ktype]
            got = cf['policy']
            if got == 'lower-impdef':
                got = 'lower'
            if got != want:
                yield reg, name, 'policy', 'catalogue %s, kernel %s%s' % (
                    cf['policy'], ktype, ' (KVM)' if kf['kvm'] != '-' else '')
            elif want == 'exact' and cf['safe'] != kf['safe']:
                yield reg, name, 'safe', 'catalogue exact=%s, kernel safe_val %d' % (cf['safe'], kf['safe'])
            if cf['floor'] != kf['floor']:
                yield reg, name, 'floor', 'catalogue %s, KVM %s' % (cf['floor'], kf['floor'])
            impdef = cf['policy'] == 'lower-impdef'
            if impdef != (kf['impdef'] == 15):
                yield reg, name, 'impdef', 'catalogue %s, KVM rewrites %s' % (cf['policy'], kf['impdef'])
        for pos, cf in c['fields'].items():
            kf = k['fields'].get(pos)
            name = cf['name']
            if kf is None:
                yield reg, name, 'arch', '%d:%d is no field of the kernel sysreg' % pos
            elif kf['name'].lower() != name.lower() and kf['ftr'] == '-':
                yield reg, name, 'name', 'kernel sysreg calls %d:%d %s' % (pos + (kf['name'],))
            if kf is not None and kf['ftr'] != '-':
                continue
            only0 = (cf['sign'] == 'unsigned' and cf['policy'] == 'lower') or \
                    (cf['policy'] == 'exact' and cf['safe'] == 0)
            if not only0:
                yield reg, name, 'absent', 'no ftr_bits entry (KVM accepts only 0), catalogue %s %s' % (
                    cf['sign'], cf['policy'])
            if kf is not None and kf['arch'] != '-' and kf['arch'] != cf['sign']:
                yield reg, name, 'archsign', 'catalogue %s, sysreg %s' % (cf['sign'], kf['arch'])


def main(argv):
    catalogue = argv[0] if argv else os.path.join(ROOT, 'arch/arm64/idregs.txt')
    cat = load_catalogue(catalogue)
    ker = load_table(TABLE)
    exc = load_exceptions(EXCEPT)
    npass = nfail = 0
    checked = sum(1 for k in ker.values() for f in k['fields'].values() if f['ftr'] != '-')
    for reg, field, check, detail in compare(cat, ker):
        e = exc.get((reg, field, check))
        if e is not None:
            e['used'] = True
            continue
        nfail += 1
        print('FAIL - %s.%s %s: %s' % (reg, field, check, detail))
    for (reg, field, check), e in exc.items():
        if not e['used']:
            nfail += 1
            print('FAIL - exception line %d (%s.%s %s) matches no disagreement' % (
                e['line'], reg, field, check))
    if nfail == 0:
        npass = 1
        print('ok - %d registers, %d ftr_bits fields agree with the kernel '
              '(%d listed exceptions)' % (len(ker), checked, len(exc)))
    print('%d passed, %d failed' % (npass, nfail))
    return 1 if nfail else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
