#!/usr/bin/env python3
"""Transcribe the Linux kernel's arm64 ID-register combine rules into a table.

    python3 tools/dev/arm64_ftr.py KERNEL_TREE > tests/data/kernel/arm64-ftr.txt

KERNEL_TREE is a Linux source tree (or a directory holding excerpts of the
three files below at the same paths).  The kernel source is never committed;
the table this prints is, and tests/gen/kernel_arm64.py compares it with
arch/arm64/idregs.txt.  Read from the tree:

  arch/arm64/tools/sysreg         field positions, names, Signed/UnsignedEnum
                                  and the enumeration values the tables name
  arch/arm64/kernel/cpufeature.c  the arm64_ftr_bits tables and arm64_ftr_regs[]
                                  (sign, FTR_* combine type, safe value)
  arch/arm64/kvm/sys_regs.c       kvm_arm64_ftr_safe_value() (KVM's own combine
                                  type for a field) and the set_id_*() setters
                                  that refuse values below a floor or rewrite
                                  an IMPLEMENTATION DEFINED value to 0

Give the provenance of each file with --source PATH=TEXT (printed in the
header and on every register line).

Output, one line per item ('#' starts a comment):
  reg NAME OP0 OP1 CRN CRM OP2 TABLE      a register of arm64_ftr_regs[] that
                                          sysreg describes; TABLE is its
                                          arm64_ftr_bits array
  field REG NAME MSB:LSB ARCH FTR TYPE SAFE KVM FLOOR IMPDEF
      every sysreg field of REG and every ftr_bits entry (a sysreg field with
      no entry is RES0 to the kernel's sanitised value, so KVM's limit is 0):
      ARCH   signed|unsigned|- (SignedEnum, UnsignedEnum, other)
      FTR    signed|unsigned|- (S_ARM64_FTR_BITS, ARM64_FTR_BITS, no entry)
      TYPE   FTR_LOWER_SAFE|FTR_HIGHER_SAFE|FTR_EXACT|FTR_HIGHER_OR_ZERO_SAFE|-
      SAFE   the entry's safe_val (decimal) or -
      KVM    the type kvm_arm64_ftr_safe_value() uses instead, or -
      FLOOR  min=N (KVM refuses values below N) or minnz=N (non-zero values
             below N), or -
      IMPDEF N when the setter rewrites value N to 0 before checking, or -
Exit status 2 and a message on stderr when a name cannot be resolved.
"""
import os
import re
import sys

FIELD_RE = re.compile(r'^(Field|Enum|UnsignedEnum|SignedEnum|Res1)\s+(\d+)(?::(\d+))?(?:\s+(\w+))?')


def die(msg):
    sys.stderr.write('arm64_ftr: ' + msg + '\n')
    sys.exit(2)


def read(tree, rel):
    path = os.path.join(tree, rel)
    try:
        with open(path, encoding='utf-8') as f:
            return f.read()
    except OSError as e:
        die('%s: %s' % (path, e.strerror))


def parse_sysreg(text):
    """{reg: {'enc': (op0..op2), 'fields': [(name, msb, lsb, sign, {enum: val})]}}"""
    regs, cur, enum = {}, None, None
    for raw in text.splitlines():
        line = raw.split('#', 1)[0].rstrip()
        if not line.strip():
            continue
        tok = line.split()
        if tok[0] == 'Sysreg':
            cur = {'enc': tuple(int(t) for t in tok[2:7]), 'fields': []}
            regs[tok[1]] = cur
            continue
        if tok[0] in ('EndSysreg', 'SysregFields', 'EndSysregFields'):
            cur = None if tok[0] != 'SysregFields' else None
            continue
        if cur is None:
            continue
        if tok[0] == 'EndEnum':
            enum = None
            continue
        if enum is not None and tok[0].startswith('0b'):
            enum[tok[1]] = int(tok[0][2:], 2)
            continue
        m = FIELD_RE.match(line.strip())
        if not m:
            continue
        kind, msb = m.group(1), int(m.group(2))
        lsb = int(m.group(3)) if m.group(3) is not None else msb
        name = m.group(4) if kind != 'Res1' else 'RES1'
        sign = {'SignedEnum': 'signed', 'UnsignedEnum': 'unsigned'}.get(kind, '-')
        values = {}
        cur['fields'].append((name, msb, lsb, sign, values))
        if kind.endswith('Enum'):
            enum = values
    return regs


def balanced_calls(text, macro):
    """Yield (prefix, argument text) of every MACRO( ... ) call in text."""
    for m in re.finditer(r'\b(S_)?' + macro + r'\(', text):
        depth, i = 1, m.end()
        while depth:
            if i >= len(text):
                die('unbalanced %s(' % macro)
            depth += {'(': 1, ')': -1}.get(text[i], 0)
            i += 1
        yield m.group(1) or '', text[m.end():i - 1]


def split_args(args):
    out, depth, cur = [], 0, ''
    for ch in args:
        if ch == ',' and depth == 0:
            out.append(cur.strip())
            cur = ''
            continue
        depth += {'(': 1, ')': -1}.get(ch, 0)
        cur += ch
    out.append(cur.strip())
    return out


class Names:
    """Resolve REG_FIELD_SHIFT, REG_FIELD_ENUM and REG_FIELD macros via sysreg."""

    def __init__(self, sysreg):
        self.sysreg = sysreg
        self.regnames = sorted(sysreg, key=len, reverse=True)

    def split(self, macro):
        for reg in self.regnames:
            if macro.startswith(reg + '_'):
                rest = macro[len(reg) + 1:]
                names = sorted((f[0] for f in self.sysreg[reg]['fields']),
                               key=len, reverse=True)
                for name in names:
                    if rest == name or rest.startswith(name + '_'):
                        return reg, name, rest[len(name) + 1:]
        die('cannot resolve %s against sysreg' % macro)

    def field(self, reg, name):
        for f in self.sysreg[reg]['fields']:
            if f[0] == name:
                return f
        die('%s has no field %s in sysreg' % (reg, name))

    def shift(self, macro):
        if re.fullmatch(r'\d+', macro):
            return int(macro)
        if not macro.endswith('_SHIFT'):
            die('shift %s is not a _SHIFT macro' % macro)
        reg, name, _ = self.split(macro[:-len('_SHIFT')])
        return self.field(reg, name)[2]

    def value(self, macro):
        if re.fullmatch(r'0x[0-9a-fA-F]+|\d+', macro):
            return int(macro, 0)
        reg, name, enum = self.split(macro)
        values = self.field(reg, name)[4]
        if enum not in values:
            die('%s: sysreg %s.%s has no value %s' % (macro, reg, name, enum))
        return values[enum]


def resolve(entries, names):
    """Name the shift and safe value of one table's raw entries."""
    return [{'sign': 'signed' if signed else 'unsigned', 'type': a[2],
             'lsb': names.shift(a[3]), 'width': int(a[4], 0),
             'safe': names.value(a[5])} for signed, a in entries]


def parse_cpufeature(text):
    tables = {}
    for m in re.finditer(r'static const struct arm64_ftr_bits (\w+)\[\] = \{(.*?)\n\};',
                         text, re.S):
        entries = []
        for signed, args in balanced_calls(m.group(2), 'ARM64_FTR_BITS'):
            a = split_args(args)
            if len(a) != 6:
                die('%s: ARM64_FTR_BITS with %d arguments' % (m.group(1), len(a)))
            entries.append((signed, a))
        tables[m.group(1)] = entries
    # struct arm64_ftr_reg NAME = { ... .ftr_bits = TABLE ... } (CTR_EL0)
    named = dict(re.findall(r'struct arm64_ftr_reg (\w+) = \{[^}]*?\.ftr_bits\s*=\s*(\w+)',
                            text, re.S))
    m = re.search(r'arm64_ftr_regs\[\] = \{(.*?)\n\};', text, re.S)
    if not m:
        die('no arm64_ftr_regs[] in cpufeature.c')
    regs = []
    for mm in re.finditer(r'ARM64_FTR_REG(?:_OVERRIDE)?\(SYS_(\w+),\s*(\w+)'
                          r'|\{\s*SYS_(\w+),\s*&(\w+)\s*\}', m.group(1)):
        if mm.group(1):
            regs.append((mm.group(1), mm.group(2)))
        else:
            regs.append((mm.group(3), named.get(mm.group(4), mm.group(4))))
    return tables, regs


def function_bodies(text):
    for m in re.finditer(r'^static \w+ (\w+)\(.*?\n\{\n(.*?)\n\}\n', text, re.S | re.M):
        yield m.group(1), m.group(2)


def parse_kvm(text, names):
    """{(reg, field): {'kvm': TYPE, 'floor': str, 'impdef': int, 'fn': [names]}}"""
    out = {}

    def note(reg, field, key, val, fn):
        d = out.setdefault((reg, field), {'fn': []})
        d[key] = val
        if fn not in d['fn']:
            d['fn'].append(fn)

    for fn, body in function_bodies(text):
        if fn == 'kvm_arm64_ftr_safe_value':
            reg = pending = None
            for line in body.splitlines():
                m = re.search(r'case SYS_(\w+):', line)
                if m:
                    reg = m.group(1)
                    continue
                m = re.search(r'(\w+)_SHIFT\b', line)
                if m:
                    pending = names.split(m.group(1))
                m = re.search(r'kvm_ftr\.type = (FTR_\w+);', line)
                if m and pending:
                    if pending[0] != reg:
                        die('%s: %s under case %s' % (fn, pending[0], reg))
                    note(pending[0], pending[1], 'kvm', m.group(1), fn)
                    pending = None
            continue
        if not fn.startswith('set_'):
            continue
        var = {v: (r, f) for v, r, f in
               re.findall(r'u8 (\w+) = SYS_FIELD_GET\((\w+), (\w+), \w+\);', body)}
        for v, c in re.findall(r'if \((\w+) < (\w+)\)\n\s*return -EINVAL;', body):
            r, f = var[v]
            note(r, f, 'floor', 'min=%d' % names.value(c), fn)
        for v, v2, c in re.findall(r'if \((\w+) != 0 && (\w+) < (\w+)\)\n\s*return -EINVAL;', body):
            r, f = var[v]
            note(r, f, 'floor', 'minnz=%d' % names.value(c), fn)
        for v, c in re.findall(r'if \((\w+) == (\w+)\)(?: \{)?\n\s*val &= ~\w+_MASK;', body):
            r, f = var[v]
            note(r, f, 'impdef', names.value(c), fn)
        # "!FIELD_GET(REG_FIELD, val) ... return -EINVAL": the field may not be 0.
        m = re.search(r'if \((!FIELD_GET.*?)\)\n\s*return -EINVAL;', body, re.S)
        if m:
            for part in m.group(1).split('||'):
                if '&&' in part:
                    continue  # conditional (e.g. only with nested virt)
                mm = re.search(r'!FIELD_GET\((\w+), \w+\)', part)
                if mm:
                    r, f, rest = names.split(mm.group(1))
                    note(r, f, 'floor', 'min=1', fn)
    return out


def main(argv):
    sources = {}
    args = []
    i = 0
    while i < len(argv):
        if argv[i] == '--source':
            k, _, v = argv[i + 1].partition('=')
            sources[k] = v
            i += 2
            continue
        args.append(argv[i])
        i += 1
    if len(args) != 1:
        die('usage: arm64_ftr.py [--source PATH=TEXT]... KERNEL_TREE')
    tree = args[0]
    f_sysreg = 'arch/arm64/tools/sysreg'
    f_cpuf = 'arch/arm64/kernel/cpufeature.c'
    f_kvm = 'arch/arm64/kvm/sys_regs.c'
    sysreg = parse_sysreg(read(tree, f_sysreg))
    names = Names(sysreg)
    tables, regs = parse_cpufeature(read(tree, f_cpuf))
    kvm = parse_kvm(read(tree, f_kvm), names)

    out = ['# Generated by tools/dev/arm64_ftr.py from the Linux kernel source; do not edit.',
           '# Columns and meaning: see tools/dev/arm64_ftr.py.  Sources:']
    for f in (f_sysreg, f_cpuf, f_kvm):
        out.append('#   %s: %s' % (f, sources.get(f, '(not given)')))
    seen = set()
    for reg, table in regs:
        if reg not in sysreg:
            out.append('# %s (%s): not described by the sysreg file read; skipped' % (reg, table))
            continue
        if table not in tables:
            die('%s uses %s, which cpufeature.c does not define' % (reg, table))
        enc = sysreg[reg]['enc']
        out.append('')
        out.append('reg %s %d %d %d %d %d %s' % ((reg,) + enc + (table,)))
        fns = sorted({fn for (r, _), d in kvm.items() if r == reg for fn in d['fn']})
        out.append('#   %s:%s%s' % (f_cpuf, table,
                                    (' and %s:%s' % (f_kvm, ','.join(fns))) if fns else ''))
        entries = {(e['lsb'], e['width']): e for e in resolve(tables[table], names)}
        rows = []
        for name, msb, lsb, asign, _ in sysreg[reg]['fields']:
            e = entries.pop((lsb, msb - lsb + 1), None)
            k = kvm.get((reg, name), {})
            seen.add((reg, name))
            rows.append((msb, lsb, name, asign, e, k))
        if entries:
            die('%s: %s entries at no sysreg field: %s' % (reg, table, sorted(entries)))
        for msb, lsb, name, asign, e, k in sorted(rows, key=lambda r: -r[0]):
            out.append('field %s %s %d:%d %s %s %s %s %s %s %s' % (
                reg, name, msb, lsb, asign,
                e['sign'] if e else '-', e['type'] if e else '-',
                e['safe'] if e else '-', k.get('kvm', '-'), k.get('floor', '-'),
                k.get('impdef', '-')))
    for key in kvm:
        if key not in seen:
            die('sys_regs.c names %s.%s, which no table row holds' % key)
    sys.stdout.write('\n'.join(out) + '\n')


if __name__ == '__main__':
    main(sys.argv[1:])
