#!/usr/bin/env python3
"""Transcribe where x86 feature bits live, and what they are called, from the
Linux source and libvirt's CPU map.

    python3 tools/dev/x86_bits.py [--source PATH=TEXT]... KERNEL_TREE \
        /usr/share/libvirt/cpu_map/x86_features.xml > tests/data/kernel/x86-bits.txt

Read from KERNEL_TREE (a Linux tree, or excerpts of these files at the same
paths; the kernel source is never committed):
  arch/x86/include/asm/cpufeature.h   enum cpuid_leafs: the CPUID register
                                      behind each cpufeatures.h word
  arch/x86/include/asm/cpufeatures.h  X86_FEATURE_* (word*32+bit) and the
                                      /proc/cpuinfo name ("name" comment)
  arch/x86/include/asm/msr-index.h    bits of IA32_ARCH_CAPABILITIES (ARCH_CAP_*),
                                      MSR_PLATFORM_INFO, IA32_PERF_CAPABILITIES
  arch/x86/include/uapi/asm/kvm_para.h  KVM_FEATURE_* of CPUID 0x40000001 EAX
and libvirt's x86_features.xml (<cpuid eax_in ecx_in REG=mask> and
<msr index edx eax>).

Output, one line per bit:
  REGISTER BIT SOURCE NAME MACRO
REGISTER is CPUID_<LEAF>_<SUBLEAF>_<REG> as arch/x86/cpuid.txt names it, or
MSR_<INDEX> (hex, no leading zeros); SOURCE is linux (cpufeatures.h), linux_msr
(msr-index.h), kvm_para or libvirt; NAME is the
cpuinfo name (linux; '-' when the kernel prints none), libvirt's feature
name, or '-' (kvm_para); MACRO is the kernel macro without its prefix
(X86_FEATURE_, ARCH_CAP_, PERF_CAP_, KVM_FEATURE_...) or '-' (libvirt).  Linux-defined words (CPUID_LNX_*) are skipped.
"""
import os
import re
import sys
import xml.etree.ElementTree as ET


def die(msg):
    sys.stderr.write('x86_bits: ' + msg + '\n')
    sys.exit(2)


def read(path):
    try:
        with open(path, encoding='utf-8') as f:
            return f.read()
    except OSError as e:
        die('%s: %s' % (path, e.strerror))


def regname(leaf, sub, reg):
    return 'CPUID_%08X_%X_%s' % (leaf, sub, reg.upper())


def word_map(text):
    m = re.search(r'enum cpuid_leafs\s*\{(.*?)\};', text, re.S)
    if not m:
        die('no enum cpuid_leafs')
    words = {}
    n = 0
    for name in re.findall(r'\b(CPUID_\w+)', m.group(1)):
        if name == 'NR_CPUID_WORDS':
            break
        parts = name.split('_')[1:]
        if parts[0] != 'LNX':
            reg = parts[-1]
            rest = parts[:-1]
            if len(rest) >= 2 and len(rest[0]) == 4 and len(rest[1]) == 4:
                leaf, rest = int(rest[0] + rest[1], 16), rest[2:]
            else:
                leaf, rest = int(rest[0], 16), rest[1:]
            sub = int(rest[0], 16) if rest else 0
            words[n] = regname(leaf, sub, reg)
        n += 1
    return words


def linux_features(text, words):
    out = []
    for m in re.finditer(r'#define X86_FEATURE_(\w+)\s+\(\s*(\d+)\s*\*\s*32\s*\+\s*(\d+)\s*\)'
                         r'\s*/\*\s*("([^"]*)")?', text):
        word, bit = int(m.group(2)), int(m.group(3))
        if word not in words:
            continue
        name = m.group(5) if m.group(4) else '-'
        out.append((words[word], bit, 'linux', name or '-', m.group(1)))
    return out


# MSR macro -> the patterns of its bit definitions in msr-index.h
MSR_BITS = [
    ('MSR_IA32_ARCH_CAPABILITIES', [r'ARCH_CAP_(\w+)\s+BIT(?:_ULL)?\((\d+)\)']),
    ('MSR_PLATFORM_INFO', [r'MSR_PLATFORM_INFO_(\w+)_BIT\s+(\d+)']),
    ('MSR_IA32_PERF_CAPABILITIES', [r'PERF_CAP_(\w+)_IDX\s+(\d+)',
                                    r'PERF_CAP_(\w+)\s+BIT_ULL\((\d+)\)']),
]


def linux_msr(text):
    out = []
    for msr, patterns in MSR_BITS:
        m = re.search(r'#define ' + msr + r'\s+0x([0-9a-fA-F]+)', text)
        if not m:
            die('no ' + msr)
        reg = 'MSR_%X' % int(m.group(1), 16)
        for pat in patterns:
            for mm in re.finditer(r'#define ' + pat, text):
                out.append((reg, int(mm.group(2)), 'linux_msr', '-', mm.group(1)))
    return out


def kvm_para(text):
    m = re.search(r'#define KVM_CPUID_FEATURES\s+0x([0-9a-fA-F]+)', text)
    if not m:
        die('no KVM_CPUID_FEATURES')
    reg = regname(int(m.group(1), 16), 0, 'eax')
    return [(reg, int(b), 'kvm_para', '-', n)
            for n, b in re.findall(r'#define KVM_FEATURE_(\w+?)(?:_BIT)?\s+(\d+)', text)]


def libvirt(path):
    out = []
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as e:
        die('%s: %s' % (path, e))
    for feat in root.iter('feature'):
        name = feat.get('name')
        for c in feat.findall('cpuid'):
            leaf = int(c.get('eax_in'), 16)
            sub = int(c.get('ecx_in', '0'), 16)
            for reg in ('eax', 'ebx', 'ecx', 'edx'):
                mask = int(c.get(reg, '0'), 16)
                for bit in range(32):
                    if mask >> bit & 1:
                        out.append((regname(leaf, sub, reg), bit, 'libvirt', name, '-'))
        for msr in feat.findall('msr'):
            mask = int(msr.get('edx'), 16) << 32 | int(msr.get('eax'), 16)
            for bit in range(64):
                if mask >> bit & 1:
                    out.append(('MSR_%X' % int(msr.get('index'), 16), bit, 'libvirt', name, '-'))
    return out


def main(argv):
    sources, args, i = {}, [], 0
    while i < len(argv):
        if argv[i] == '--source':
            k, _, v = argv[i + 1].partition('=')
            sources[k] = v
            i += 2
        else:
            args.append(argv[i])
            i += 1
    if len(args) != 2:
        die('usage: x86_bits.py [--source PATH=TEXT]... KERNEL_TREE X86_FEATURES_XML')
    tree, xml = args
    files = ['arch/x86/include/asm/cpufeature.h', 'arch/x86/include/asm/cpufeatures.h',
             'arch/x86/include/asm/msr-index.h', 'arch/x86/include/uapi/asm/kvm_para.h']
    words = word_map(read(os.path.join(tree, files[0])))
    rows = linux_features(read(os.path.join(tree, files[1])), words)
    rows += linux_msr(read(os.path.join(tree, files[2])))
    rows += kvm_para(read(os.path.join(tree, files[3])))
    rows += libvirt(xml)
    print('# Generated by tools/dev/x86_bits.py; do not edit.  REGISTER BIT SOURCE NAME MACRO')
    for f in files + ['x86_features.xml']:
        print('#   %s: %s' % (f, sources.get(f, '(not given)')))
    for r in sorted(set(rows), key=lambda r: (r[0], r[1], r[2], r[3])):
        print('%s %d %s %s %s' % r)


if __name__ == '__main__':
    main(sys.argv[1:])
