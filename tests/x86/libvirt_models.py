#!/usr/bin/env python3
"""The richest libvirt named x86 CPU model each document satisfies, judged
from libvirt's own CPU map, without cpufleet's tables or code.

    python3 tests/x86/libvirt_models.py FILE...

FILE: a cpufleet report or profile (x86.cpuid entries, x86.vendor,
x86.msrs).  Reads /usr/share/libvirt/cpu_map (LIBVIRT_CPU_MAP): index.xml
for the x86 models in libvirt's order, x86_features.xml for each feature's
CPUID or MSR bit, x86_vendors.xml, x86_<Model>.xml for each model's vendor
and features (a parent <model> first).  A model is satisfied when every
feature's bit is set in FILE (a leaf or MSR FILE lacks reads 0) and FILE's
vendor string is the model's vendor, if it names one.  Richest: the most
features; of equals, the model index.xml lists last.  Prints
"FILE MODEL" (MODEL "-" for none) per file; exit 2 without the map.
Standard library only.
"""
import json
import os
import sys
import xml.etree.ElementTree as ET

MAP = os.environ.get('LIBVIRT_CPU_MAP', '/usr/share/libvirt/cpu_map')
REGS = ('eax', 'ebx', 'ecx', 'edx')


def load_map():
    bits = {}
    for f in ET.parse(os.path.join(MAP, 'x86_features.xml')).getroot().iter('feature'):
        for c in f.findall('cpuid'):
            for r in REGS:
                v = int(c.get(r) or '0', 16)
                if v:
                    bits[f.get('name')] = ('cpuid', int(c.get('eax_in'), 16),
                                           int(c.get('ecx_in') or '0', 16), r, v)
        for m in f.findall('msr'):
            v = int(m.get('edx'), 16) << 32 | int(m.get('eax'), 16)
            bits[f.get('name')] = ('msr', int(m.get('index'), 16), v)
    vendors = {v.get('name'): v.get('string') for v in
               ET.parse(os.path.join(MAP, 'x86_vendors.xml')).getroot().iter('vendor')}
    index = ET.parse(os.path.join(MAP, 'index.xml')).getroot()
    files = [i.get('filename') for a in index.findall('arch') if a.get('name') == 'x86'
             for i in a.findall('include')]
    models = []
    by_name = {}
    for fn in files:
        if fn in ('x86_vendors.xml', 'x86_features.xml'):
            continue
        m = ET.parse(os.path.join(MAP, fn)).getroot().find('model')
        parent = m.find('model')
        feats = set(by_name[parent.get('name')][1]) if parent is not None else set()
        feats |= {f.get('name') for f in m.findall('feature')}
        v = m.find('vendor')
        entry = (m.get('name'), feats, vendors[v.get('name')] if v is not None else None)
        by_name[entry[0]] = entry
        models.append(entry)
    return bits, models


def has(doc, bit):
    x = doc['x86']
    if bit[0] == 'cpuid':
        for e in x.get('cpuid', []):
            if int(e['leaf'], 16) == bit[1] and int(e['subleaf'], 16) == bit[2]:
                return bool(int(e[bit[3]], 16) & bit[4])
        return False
    for k, v in (x.get('msrs') or {}).items():
        if int(k, 16) == bit[1]:
            return bool(int(v, 16) & bit[2])
    return False


def main(paths):
    if not os.path.isdir(MAP):
        sys.stderr.write('libvirt_models: no %s\n' % MAP)
        return 2
    bits, models = load_map()
    for p in paths:
        doc = json.load(open(p))
        best = None
        for i, (name, feats, vendor) in enumerate(models):
            if vendor and vendor != doc['x86'].get('vendor'):
                continue
            if all(has(doc, bits[f]) for f in feats):
                if best is None or len(feats) >= best[0]:
                    best = (len(feats), name)
        print(p, best[1] if best else '-')
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
