#!/usr/bin/env python3
"""make bench-libvirt: cpufleet's x86 parse + baseline beside libvirt's
`virsh cpu-baseline`, in one run, on the same hosts.  Not a test: it prints
figures for the README; it exits 1 only when a tool fails or the two
answers disagree (the checks of tests/x86/libvirt.py), and 0 with a
"skip: bench-libvirt: ..." line when virsh or libvirt's CPU map is missing.

The hosts: HOSTS (default 10,000) reports cycled through the real Intel
reports of tests/data/x86 (spr-05, gnr-03, snb-ep: tests/data/x86/README.md
gives their sources), each with its own host id (NAME-NNNNN).  Only the
Intel ones: AMD and Hygon are other vendors, and both tools refuse a pool
of mixed vendors (tests/x86/libvirt.py case amd-hygon), so the three Intel
reports are the one real multi-host pool.  Each host is written

  * as a cpufleet report file (BUILD/bench-libvirt/reports/NNNNN.json: the
    real report's text with its own host id), and
  * as a libvirt host <cpu> by tests/x86/libvirt.py's own converter
    (host_cpu_xml: the libvirt features whose CPUID/MSR bit the report
    sets), over BASE_MODELS[0] or [1] in turn, so that libvirt picks the
    named model itself.  A libvirt <cpu> has no host id.

libvirt reads at most 10 MiB of XML per file (virsh's VSH_MAX_XML_FILE),
and 10,000 definitions are ~32 MB, so libvirt's side runs in batches of
BATCH definitions (default 2,500, ~8 MB): one `virsh cpu-baseline
--features` per batch, then one over the batches' answers, each answer
written back as a host <cpu> (its model and vendor, its enabled features:
`--features` expands the model's) over both BASE_MODELS as libvirt.py
writes hosts.  libvirt's time is the wall clock of all those virsh
processes (the driver's XML writing between them is not counted: that
only favours libvirt).  The batched answer is checked equal to a one-shot
baseline over the first BATCH hosts (which fit in one file), combined from
batches of BATCH/5.

cpufleet's time is the wall clock of one `cpufleet baseline -q -o FILE`
process over the HOSTS report files (parse of every file from disk + pool
+ baseline + the profile written), as a user runs it.

Each tool runs REPEAT times (default 3); the best run of each is compared
(the machine is shared).  The answers are checked as tests/x86/libvirt.py
checks them (compare, check_every_input), and cpufleet's x86 section
against tests/data/x86/golden/intel.json (the expected baseline of the
three reports).

Run from the repository root after `make`:
    python3 tools/bench_libvirt.py build/cpufleet [--hosts N] [--batch N]
                                   [--repeat N] [--out DIR]
Environment: VIRSH, LIBVIRT_CPU_MAP as for tests/x86/libvirt.py.
Standard library only.
"""

import argparse
import importlib.util
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REAL = ("spr-05", "gnr-03", "snb-ep")
XML_MAX = 10 * 1024 * 1024     # libvirt's VSH_MAX_XML_FILE


def load_converter():
    """tests/x86/libvirt.py as a module (not `libvirt`: that name is the
    libvirt Python binding's)."""
    path = os.path.join(ROOT, "tests", "x86", "libvirt.py")
    spec = importlib.util.spec_from_file_location("cpufleet_x86_libvirt",
                                                  path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


CPU = [0.0]    # user + sys seconds of the processes timed() ran


def timed(cmd):
    """(wall seconds, CompletedProcess) of CMD; its CPU time added to
    CPU[0]."""
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.monotonic()
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True)
    secs = time.monotonic() - t
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU[0] += (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    return secs, p


def cpu_of(fn, *args):
    """(FN's result, the CPU seconds of the processes it ran)."""
    c0 = CPU[0]
    res = fn(*args)
    return res, CPU[0] - c0


class Libvirt:
    """libvirt's baseline over definitions, in files of at most BATCH."""

    def __init__(self, lv, feats, vendors, tmp):
        self.lv, self.feats, self.vendors, self.tmp = lv, feats, vendors, tmp
        self.runs = 0

    def baseline_file(self, path):
        """(seconds, answer) of one `virsh cpu-baseline --features`."""
        if os.path.getsize(path) > XML_MAX:
            raise ValueError("%s: over libvirt's 10 MiB" % path)
        cmd = [self.lv.VIRSH, "-q", "-c", "test:///default", "cpu-baseline",
               "--features", path]
        secs, p = timed(cmd)
        self.runs += 1
        if p.returncode != 0:
            raise RuntimeError("virsh cpu-baseline %s: %s" % (
                path, (p.stderr or p.stdout).strip()))
        cpu = self.lv.ET.fromstring(p.stdout)
        pol = {f.get("name"): f.get("policy") or "require"
               for f in cpu.findall("feature")}
        return secs, {"model": cpu.findtext("model"),
                      "vendor": cpu.findtext("vendor"), "policy": pol}

    def as_host(self, ans):
        """An answer as host <cpu> definitions, over both BASE_MODELS (a
        repeated host changes no intersection)."""
        have = sorted(n for n, p in ans["policy"].items()
                      if p in ("require", "force"))
        out = []
        for base in self.lv.BASE_MODELS:
            out.append("<cpu>\n  <arch>x86_64</arch>\n  <model>%s</model>\n"
                       "  <vendor>%s</vendor>\n" % (base, ans["vendor"]) +
                       "".join("  <feature name='%s'/>\n" % n for n in have) +
                       "</cpu>\n")
        return "".join(out)

    def baseline(self, defs, batch, tag):
        """(seconds in virsh, answer, batches) over DEFS (texts)."""
        secs, answers, n = 0.0, [], 0
        for i in range(0, len(defs), batch):
            path = os.path.join(self.tmp, "%s-%d.xml" % (tag, n))
            with open(path, "w", encoding="utf-8") as f:
                f.write("".join(defs[i:i + batch]))
            s, ans = self.baseline_file(path)
            secs += s
            answers.append(ans)
            n += 1
        if n == 1:
            return secs, answers[0], 1
        path = os.path.join(self.tmp, "%s-all.xml" % tag)
        with open(path, "w", encoding="utf-8") as f:
            f.write("".join(self.as_host(a) for a in answers))
        s, ans = self.baseline_file(path)
        return secs + s, ans, n


def write_hosts(lv, feats, vendors, n, out):
    """The N host files and definitions; (paths, defs, per real host
    features)."""
    rdir = os.path.join(out, "reports")
    if os.path.isdir(rdir):
        shutil.rmtree(rdir)
    os.makedirs(rdir)
    reals = []
    for name in REAL:
        with open(os.path.join(lv.DATA, name + ".json"),
                  encoding="utf-8") as f:
            reals.append(json.load(f))
    xml, per_host = {}, {}
    for r in reals:
        for base in lv.BASE_MODELS:
            text, have = lv.host_cpu_xml(r, feats, vendors, base)
            xml[(r["host"]["id"], base)] = text
            per_host[r["host"]["id"]] = have
    paths, defs = [], []
    for i in range(n):
        r = reals[i % len(reals)]
        real_id = r["host"]["id"]
        r["host"]["id"] = r["host"]["hostname"] = "%s-%05d" % (real_id, i)
        p = os.path.join(rdir, "%05d.json" % i)
        with open(p, "w", encoding="utf-8") as f:
            f.write(json.dumps(r, indent=2) + "\n")
        r["host"]["id"] = r["host"]["hostname"] = real_id
        paths.append(p)
        base = lv.BASE_MODELS[(i // len(reals)) % len(lv.BASE_MODELS)]
        defs.append(xml[(real_id, base)])
    return paths, defs, per_host


def write_distinct(paths, out):
    """The report files again, each x86 section made unlike any other by
    one member the engine keeps but does not read ("bench_seq": N): what
    cpufleet parses when no two hosts report the same bytes."""
    ddir = os.path.join(out, "distinct")
    if os.path.isdir(ddir):
        shutil.rmtree(ddir)
    os.makedirs(ddir)
    res = []
    for i, p in enumerate(paths):
        with open(p, encoding="utf-8") as f:
            r = json.load(f)
        r["x86"]["bench_seq"] = i
        q = os.path.join(ddir, os.path.basename(p))
        with open(q, "w", encoding="utf-8") as f:
            f.write(json.dumps(r, indent=2) + "\n")
        res.append(q)
    return res


def cpufleet_baseline(cpufleet, paths, out):
    secs, p = timed([cpufleet, "baseline", "-q", "-o", out] + paths)
    if p.returncode != 0:
        raise RuntimeError("cpufleet baseline: exit %d: %s"
                           % (p.returncode, p.stderr.strip()))
    return secs


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("cpufleet")
    ap.add_argument("--hosts", type=int, default=10000)
    ap.add_argument("--batch", type=int, default=2500)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--out", default=None)
    a = ap.parse_args(argv[1:])
    lv = load_converter()
    if shutil.which(lv.VIRSH) is None:
        print("skip: bench-libvirt: virsh not installed (Debian: apt-get "
              "install libvirt-clients)")
        return 0
    if not os.path.isfile(os.path.join(lv.CPU_MAP, "x86_features.xml")):
        print("skip: bench-libvirt: libvirt's CPU map not found in %s"
              % lv.CPU_MAP)
        return 0
    out = a.out or os.path.join(os.path.dirname(os.path.abspath(a.cpufleet)),
                                "bench-libvirt")
    os.makedirs(out, exist_ok=True)
    feats = lv.load_features(lv.CPU_MAP)
    vendors = lv.load_vendors(lv.CPU_MAP)
    paths, defs, per_host = write_hosts(lv, feats, vendors, a.hosts, out)
    size = sum(len(d) for d in defs)
    _, ver = timed([lv.VIRSH, "--version"])
    print("# bench-libvirt: %d hosts cycled through the real reports %s of "
          "tests/data/x86, each with its own host id (%s-00000 ...)"
          % (a.hosts, ", ".join(REAL), REAL[0]))
    print("# machine: %d cores (%s), virsh %s -c test:///default, "
          "cpu_map %s; %s" % (os.cpu_count(), platform.machine(),
                              ver.stdout.strip(), lv.CPU_MAP, a.cpufleet))
    print("# libvirt: %d definitions, %.1f MB of XML, in batches of %d "
          "(files of at most 10 MiB), then one baseline of the batches' "
          "answers; time = all virsh processes' wall clock"
          % (len(defs), size / 1e6, a.batch))
    print("# cpufleet: one `cpufleet baseline -q -o FILE` over the %d "
          "report files (%.1f MB of JSON); time = the process's wall clock; "
          "it reads each distinct x86 section once (%d here: the hosts of "
          "one model report the same bytes), so it runs again over copies "
          "whose sections are all unlike (an extra member bench_seq)"
          % (a.hosts, sum(os.path.getsize(p) for p in paths) / 1e6,
             min(a.hosts, len(REAL))))
    print("# CPU = user+sys of the processes (load on a shared machine "
          "stretches the wall clock, not the CPU time)")

    failed = []
    lvb = Libvirt(lv, feats, vendors, out)
    # The batches' combination equals a one-shot baseline where one fits.
    k = min(a.batch, len(defs))
    _, one, _ = lvb.baseline(defs[:k], k, "oneshot")
    _, comb, nb = lvb.baseline(defs[:k], max(1, k // 5), "combined")
    same = one == comb
    print("%s - libvirt: baseline of %d definitions in one file equals the "
          "baseline of its %d batches' answers (model %s, %d features)"
          % ("ok" if same else "FAIL", k, nb, one["model"],
             len(one["policy"])))
    if not same:
        failed.append("libvirt batches")

    distinct = write_distinct(paths, out)
    prof_path = os.path.join(out, "profile.json")
    dprof_path = os.path.join(out, "profile-distinct.json")
    lv_times, cf_times, cfd_times, ans = [], [], [], None
    lv_cpu, cf_cpu, cfd_cpu = [], [], []
    for _ in range(a.repeat):
        (s, ans, nbatch), c = cpu_of(lvb.baseline, defs, a.batch, "bench")
        lv_times.append(s)
        lv_cpu.append(c)
        s, c = cpu_of(cpufleet_baseline, a.cpufleet, paths, prof_path)
        cf_times.append(s)
        cf_cpu.append(c)
        s, c = cpu_of(cpufleet_baseline, a.cpufleet, distinct, dprof_path)
        cfd_times.append(s)
        cfd_cpu.append(c)
    with open(prof_path, encoding="utf-8") as f:
        prof = json.load(f)

    # The answers: checked as tests/x86/libvirt.py checks them.
    tally = lv.Tally()
    input_all = set.intersection(*per_host.values())
    lv.compare("bench-libvirt", "", ans, prof, feats, vendors, input_all,
               tally)
    lv.check_every_input("bench-libvirt", prof, feats, per_host, tally)
    with open(os.path.join(lv.DATA, "golden", "intel.json"),
              encoding="utf-8") as f:
        golden = json.load(f)
    if prof.get("x86") == golden.get("x86"):
        tally.ok("bench-libvirt: cpufleet's x86 section equals "
                 "tests/data/x86/golden/intel.json (the 3 reports' expected "
                 "baseline)")
    else:
        tally.fail("bench-libvirt: cpufleet's x86 section equals golden "
                   "intel.json", "it differs")
    with open(dprof_path, encoding="utf-8") as f:
        dprof = json.load(f)
    if dprof.get("x86") != prof.get("x86"):
        tally.fail("bench-libvirt: the distinct sections' profile is the "
                   "same", "its x86 section differs")
    if len(prof.get("hosts", [])) != a.hosts:
        tally.fail("bench-libvirt: cpufleet's profile names every host",
                   "%d of %d" % (len(prof.get("hosts", [])), a.hosts))
    if tally.failed:
        failed.append("answers")

    def line(label, times, cpu):
        best = min(times)
        print("%s %d CPUs in %.3f s wall (best of %s), %.3f s CPU (best "
              "user+sys) = %.0f CPUs/s wall, %.0f CPUs/s CPU"
              % (label, a.hosts, best, " ".join("%.3f" % t for t in times),
                 min(cpu), a.hosts / best, a.hosts / min(cpu)))
        return a.hosts / best, a.hosts / min(cpu)

    print("libvirt %s, %d virsh runs each (%d batches + 1); answer: model "
          "%s + %d features" % (ver.stdout.strip(), nbatch + 1, nbatch,
                                ans["model"], len(ans["policy"])))
    lv_w, lv_c = line("libvirt cpu-baseline:           ", lv_times, lv_cpu)
    cf_w, cf_c = line("cpufleet baseline:              ", cf_times, cf_cpu)
    cd_w, cd_c = line("cpufleet, every section unlike: ", cfd_times, cfd_cpu)
    print("ratio cpufleet/libvirt: %.1fx wall, %.1fx CPU (goal >= 10x: %s); "
          "with no two x86 sections alike: %.1fx wall, %.1fx CPU"
          % (cf_w / lv_w, cf_c / lv_c,
             "met" if cf_w / lv_w >= 10 else "NOT met", cd_w / lv_w,
             cd_c / lv_c))
    if failed:
        print("bench-libvirt: FAILED: %s" % ", ".join(failed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
