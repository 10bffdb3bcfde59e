#!/usr/bin/env python3
"""Modules depend one way: no cycle by include, none by call in arch/.

A module is a .c/.h pair (engine/check.c and engine/check.h are one).
Three rules, each checked over the whole tree:
  includes  no cycle among modules where A -> B means a .c file of A
            includes a header of B (what an implementation needs; a
            header naming a type of another header is not a dependency
            of code);
  folders   engine/ includes only engine/, util/ and include/ headers and
            the registry's (arch/driver.h, declarations only): the engine
            never reaches up into an architecture, a document or the
            service, and finds an architecture through the registry;
  calls     no cycle among arch/ modules other than the registry
            (arch/driver) where A -> B means an object of A needs a
            symbol B defines (nm), over each object directory given: the
            host build and, when built, the aarch64 lab build, the only
            one with the arm64 KVM code.
Generated sources and tests are not modules of the product.

usage: layering.py [--objects DIR]... | --selftest
"""
import os
import re
import subprocess
import sys
import tempfile

ROOTS = ("engine", "arch", "profiles", "fleet", "db", "server", "agent",
         "tools", "util", "include")
INCLUDE = re.compile(r'^\s*#\s*include\s+[<"]([^">]+)[">]', re.M)


def module_of(path):
    return os.path.splitext(os.path.normpath(path))[0]


def include_graph(top):
    graph = {}
    for root in ROOTS:
        for d, _, files in os.walk(os.path.join(top, root)):
            for f in files:
                if not f.endswith(".c"):
                    continue
                path = os.path.join(d, f)
                rel = os.path.relpath(path, top)
                me = module_of(rel)
                with open(path, encoding="utf-8", errors="replace") as fh:
                    text = fh.read()
                for inc in INCLUDE.findall(text):
                    for cand in (inc, os.path.join("include", inc)):
                        if os.path.exists(os.path.join(top, cand)):
                            other = module_of(cand)
                            if other != me:
                                graph.setdefault(me, set()).add(other)
                            break
    return graph


def nm(obj, undefined):
    args = ["nm", "-u" if undefined else "--defined-only", obj]
    out = subprocess.run(args, capture_output=True, text=True, check=True)
    syms = set()
    for line in out.stdout.splitlines():
        parts = line.split()
        if undefined and parts:
            syms.add(parts[-1])
        elif len(parts) == 3 and parts[1].isupper():
            syms.add(parts[2])
    return syms


def call_graph(objdir):
    """Module -> modules, from the objects under OBJDIR/obj/<path>.o."""
    base = os.path.join(objdir, "obj")
    defs, needs = {}, {}
    for d, _, files in os.walk(base):
        for f in files:
            if not f.endswith(".o"):
                continue
            path = os.path.join(d, f)
            me = module_of(os.path.relpath(path, base))
            if not me.split(os.sep)[0] in ROOTS:
                continue
            for s in nm(path, False):
                defs.setdefault(s, me)
            needs[me] = nm(path, True)
    graph = {}
    for me, syms in needs.items():
        for s in syms:
            other = defs.get(s)
            if other and other != me:
                graph.setdefault(me, set()).add(other)
    return graph


def cycles(graph):
    """The strongly connected components with more than one module."""
    index, low, on, stack, out = {}, {}, set(), [], []
    counter = [0]

    def visit(v):
        # Iterative Tarjan: the tree is deep enough for recursion limits.
        work = [(v, iter(sorted(graph.get(v, ()))))]
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        while work:
            node, it = work[-1]
            nxt = next(it, None)
            if nxt is not None:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter[0]
                    counter[0] += 1
                    stack.append(nxt)
                    on.add(nxt)
                    work.append((nxt, iter(sorted(graph.get(nxt, ())))))
                elif nxt in on:
                    low[node] = min(low[node], index[nxt])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                comp = []
                while True:
                    w = stack.pop()
                    on.discard(w)
                    comp.append(w)
                    if w == node:
                        break
                if len(comp) > 1:
                    out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def report(kind, graph):
    bad = cycles(graph)
    for comp in bad:
        edges = [f"{a} -> {b}" for a in comp for b in sorted(graph.get(a, ()))
                 if b in comp]
        print(f"layering: {kind} cycle among {', '.join(comp)}: "
              + "; ".join(edges))
    return len(bad)


def upward_includes(top):
    """engine/ files including a header outside engine/, util/, include/."""
    bad = []
    for d, _, files in os.walk(os.path.join(top, "engine")):
        for f in sorted(files):
            if not f.endswith((".c", ".h")):
                continue
            path = os.path.join(d, f)
            with open(path, encoding="utf-8", errors="replace") as fh:
                for inc in INCLUDE.findall(fh.read()):
                    first = inc.split("/")[0]
                    if "/" in inc and first in ROOTS and \
                            first not in ("engine", "util", "include") and \
                            inc != "arch/driver.h":
                        bad.append((os.path.relpath(path, top), inc))
    return bad


def arch_calls(graph):
    """GRAPH restricted to arch/ modules, the registry left out."""
    def ours(m):
        return m.startswith("arch" + os.sep) and m != os.path.join("arch",
                                                                   "driver")
    return {a: {b for b in bs if ours(b)} for a, bs in graph.items()
            if ours(a)}


def selftest():
    """The checker finds what it must: a two-module include cycle, a
    three-module one, none in a chain; an upward include; a call cycle
    in arch/ but not one through the registry."""
    fails = []
    with tempfile.TemporaryDirectory() as top:
        os.makedirs(os.path.join(top, "engine"))

        def w(name, text):
            with open(os.path.join(top, "engine", name), "w") as fh:
                fh.write(text)
        w("a.c", '#include "engine/b.h"\n')
        w("b.c", '#include "engine/a.h"\n')
        w("c.c", '#include "engine/d.h"\n')
        w("d.c", '#include "engine/e.h"\n')
        w("e.c", '#include "engine/c.h"\n')
        w("f.c", '#include "engine/a.h"\n#include "util/diag.h"\n')
        w("g.h", '#include "engine/f.h"\n#include "arch/x86/x86.h"\n'
          '#include "arch/driver.h"\n')
        for n in "abcdef":
            w(n + ".h", "")
        got = cycles(include_graph(top))
        want = [["engine/a", "engine/b"],
                ["engine/c", "engine/d", "engine/e"]]
        if sorted(got) != want:
            fails.append(f"include cycles {got}, want {want}")
        up = upward_includes(top)
        if up != [("engine/g.h", "arch/x86/x86.h")]:
            fails.append(f"upward includes {up}")
    calls = {"arch/arm64/a64vm": {"arch/arm64/apply", "engine/config"},
             "arch/arm64/apply": {"arch/arm64/a64vm"},
             "arch/driver": {"arch/x86/x86"},
             "arch/x86/x86": {"arch/driver"}}
    got = cycles(arch_calls(calls))
    if got != [["arch/arm64/a64vm", "arch/arm64/apply"]]:
        fails.append(f"arch call cycles {got}")
    for f in fails:
        print("layering selftest: " + f)
    return 1 if fails else 0


def main(argv):
    top = os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))))
    objdirs, i = [], 0
    if argv == ["--selftest"]:
        return selftest()
    while i < len(argv):
        if argv[i] == "--objects" and i + 1 < len(argv):
            objdirs.append(argv[i + 1])
            i += 2
        else:
            print(__doc__.strip().splitlines()[-1], file=sys.stderr)
            return 2
    if selftest():
        return 1
    inc = include_graph(top)
    bad = report("include", inc)
    for path, header in upward_includes(top):
        print(f"layering: {path} includes {header}: engine/ includes only "
              "engine/, util/, include/ and arch/driver.h")
        bad += 1
    n_calls, dirs = 0, 0
    for d in objdirs:
        if not os.path.isdir(os.path.join(d, "obj")):
            print(f"layering: {d}: not built, its calls not checked")
            continue
        g = arch_calls(call_graph(d))
        dirs += 1
        n_calls += sum(len(v) for v in g.values())
        bad += report(f"call ({d})", g)
    print(f"layering: {sum(len(v) for v in inc.values())} include edges, "
          f"{n_calls} arch/ call edges ({dirs} object directories), "
          f"{bad} faults")
    print(f"layering: {1 if bad == 0 else 0} passed, {1 if bad else 0} failed")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
