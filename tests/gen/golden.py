#!/usr/bin/env python3
"""The golden profiles, derived again without cpufleet (make gen-test).

    python3 tests/gen/golden.py

tests/data/golden/real-writable.profile.json (arm64) and
tests/data/x86/golden/intel.json are the baselines of the reports they name in
"hosts".  This script recomputes their values from those reports with rules
taken from the kernel, never from cpufleet's engine or catalogues:

arm64, per register of the golden file (a register a report lacks reads 0):
  * a field with an arm64_ftr_bits entry (tests/data/kernel/arm64-ftr.txt)
    combines by the type KVM applies: FTR_LOWER_SAFE minimum, FTR_HIGHER_SAFE
    maximum, FTR_HIGHER_OR_ZERO_SAFE 0 if any is 0 else maximum, FTR_EXACT
    the common value or safe_val; signed fields compare as signed 4-bit;
  * a field the kernel's sysreg file calls UnsignedEnum/SignedEnum but
    ftr_bits leaves out: the minimum by that sign (Arm ARM ID scheme: a larger
    value adds features); any other bits must be equal on every host;
  * MIDR_EL1/REVIDR_EL1 are one member's pair, and "implementations" lists
    every member's pair;
  * kvm.caps: the capabilities every host lists, each with 1 if every host
    offers it (KVM_CHECK_EXTENSION: "0 if unsupported; 1 ... if supported",
    api.rst 4.4; these reports list on/off ones only).
x86, per CPUID register of the golden file (a leaf a report lacks reads 0):
  * every bit Linux or libvirt names as a feature (tests/data/kernel/
    x86-bits.txt): 1 only if every host has it (AND); a bit of
    x86-weakness.txt: 1 if any host has it (OR).
Bits no rule covers are not checked here (the unit tests pin them).
Prints "ok - ..." / "FAIL - ..." and "N passed, N failed"; exit 1 on failure.
"""
import json
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the tree
from textdata import words  # noqa: E402

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..'))
DATA = os.path.join(ROOT, 'tests/data')


def signed(v, width):
    return v - (1 << width) if v >> (width - 1) & 1 else v


def combine(vals, typ, sign, safe, width):
    key = (lambda v: signed(v, width)) if sign == 'signed' else (lambda v: v)
    if typ == 'FTR_EXACT':
        return vals[0] if len(set(vals)) == 1 else safe
    if typ == 'FTR_LOWER_SAFE':
        return min(vals, key=key)
    if typ == 'FTR_HIGHER_SAFE':
        return max(vals, key=key)
    if typ == 'FTR_HIGHER_OR_ZERO_SAFE':
        return 0 if 0 in vals else max(vals)
    raise ValueError(typ)


def arm64_table():
    regs = {}
    for _, w in words(os.path.join(DATA, 'kernel/arm64-ftr.txt')):
        if w[0] == 'field':
            hi, _, lo = w[3].partition(':')
            regs.setdefault(w[1], []).append({
                'name': w[2], 'lsb': int(lo), 'width': int(hi) - int(lo) + 1,
                'arch': w[4], 'ftr': w[5], 'type': w[8] if w[8] != '-' else w[6],
                'safe': None if w[7] == '-' else int(w[7])})
    return regs


def check_arm64(fail):
    golden = json.load(open(os.path.join(DATA, 'golden/real-writable.profile.json')))
    reports = [json.load(open(os.path.join(DATA, 'arm64/real-writable/%s.json' % h)))
               for h in golden['hosts']]
    table = arm64_table()
    regs = golden['arm64']['id_regs']
    nfields = 0
    for reg, text in regs.items():
        got = int(text, 16)
        vals = [int(r['arm64']['id_regs'].get(reg, '0x0'), 16) for r in reports]
        if reg in ('MIDR_EL1', 'REVIDR_EL1'):
            continue
        covered = 0
        for f in table.get(reg, []):
            mask = ((1 << f['width']) - 1) << f['lsb']
            fv = [(v & mask) >> f['lsb'] for v in vals]
            if f['ftr'] != '-':
                want = combine(fv, f['type'], f['ftr'], f['safe'], f['width'])
            elif f['arch'] != '-':
                want = combine(fv, 'FTR_LOWER_SAFE', f['arch'], None, f['width'])
            else:
                continue
            covered |= mask
            nfields += 1
            if (got & mask) >> f['lsb'] != want:
                fail('arm64 %s.%s: golden %#x, kernel rule over %s gives %#x' % (
                    reg, f['name'], (got & mask) >> f['lsb'], [hex(x) for x in fv], want))
        rest = ~covered & (1 << 64) - 1
        if len({v & rest for v in vals}) == 1 and got & rest != vals[0] & rest:
            fail('arm64 %s: bits %#x equal on every host (%#x) but golden has %#x' % (
                reg, rest, vals[0] & rest, got & rest))
    pair = (regs['MIDR_EL1'], regs['REVIDR_EL1'])
    members = [(r['arm64']['id_regs']['MIDR_EL1'], r['arm64']['id_regs'].get('REVIDR_EL1', '0x0000000000000000'))
               for r in reports]
    if pair not in members:
        fail('arm64 MIDR/REVIDR %s is no member\'s pair %s' % (pair, members))
    impl = sorted((i['MIDR_EL1'], i['REVIDR_EL1']) for i in golden['implementations'])
    if impl != sorted(members):
        fail('arm64 implementations %s, members %s' % (impl, sorted(members)))
    caps = [r.get('kvm', {}).get('caps', {}) for r in reports]
    listed = set.intersection(*(set(c) for c in caps))
    want = {n: int(all(c[n] for c in caps)) for n in listed}
    if golden.get('kvm', {}).get('caps', {}) != want:
        fail('arm64 kvm.caps %s, the hosts offer %s' % (golden.get('kvm', {}).get('caps'), want))
    return nfields


def x86_regs(doc):
    out = {}
    for e in doc['x86']['cpuid']:
        for r in ('eax', 'ebx', 'ecx', 'edx'):
            out['CPUID_%08X_%X_%s' % (int(e['leaf'], 16), int(e['subleaf'], 16), r.upper())] = \
                int(e[r], 16)
    return out


def check_x86(fail):
    golden = json.load(open(os.path.join(DATA, 'x86/golden/intel.json')))
    hosts = [x86_regs(json.load(open(os.path.join(DATA, 'x86/%s.json' % h))))
             for h in golden['hosts']]
    g = x86_regs(golden)
    weak = {(w[0], int(w[1])) for _, w in words(os.path.join(DATA, 'kernel/x86-weakness.txt'))}
    known = {(w[0], int(w[1])) for _, w in words(os.path.join(DATA, 'kernel/x86-bits.txt'))}
    exc = {}
    for _, w in words(os.path.join(DATA, 'kernel/golden-exceptions.txt')):
        exc[(w[0], int(w[1]))] = False
    nbits = 0
    for reg, bit in sorted(known | weak):
        if reg not in g:
            continue
        have = [h.get(reg, 0) >> bit & 1 for h in hosts]
        want = int(any(have)) if (reg, bit) in weak else int(all(have))
        nbits += 1
        if g[reg] >> bit & 1 != want:
            if (reg, bit) in exc:
                exc[(reg, bit)] = True
                continue
            fail('x86 %s bit %d: golden %d, hosts %s give %d (%s)' % (
                reg, bit, g[reg] >> bit & 1, have, want,
                'OR, a weakness' if (reg, bit) in weak else 'AND, a feature'))
    for (reg, bit), used in exc.items():
        if not used:
            fail('golden-exceptions.txt: %s bit %d matches no difference' % (reg, bit))
    return nbits


def main():
    fails = []
    n_arm = check_arm64(fails.append)
    n_x86 = check_x86(fails.append)
    for f in fails:
        print('FAIL - ' + f)
    if not fails:
        print('ok - golden profiles: %d arm64 fields and %d x86 feature bits derived '
              'from the inputs by the kernel\'s rules' % (n_arm, n_x86))
    print('%d passed, %d failed' % (0 if fails else 1, len(fails)))
    return 1 if fails else 0


if __name__ == '__main__':
    sys.exit(main())
