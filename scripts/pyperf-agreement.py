#!/usr/bin/env python3
"""Cross-check abibench's wall-time figures against an independent tool, `pyperf timeit`.

For each interpreter and scenario: abibench (default level) and pyperf (its defaults) time the
same statement on the same unlimited build. Both figures are per execution of the statement,
loop overhead included (pyperf does not subtract it, so here abibench's raw values are used).
They agree when abibench's median lies within pyperf's mean +- 1 standard deviation.

Usage: scripts/pyperf-agreement.py [--python 3.8 --python 3.13] [--scenario NAME ...]
pyperf is installed from PyPI into a venv per interpreter under the abibench cache directory.
"""
import argparse
import json
import os
import pathlib
import shlex
import statistics
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
CACHE = pathlib.Path(os.environ.get("ABIBENCH_CACHE_DIR") or
                     pathlib.Path(os.environ.get("XDG_CACHE_HOME", pathlib.Path.home() / ".cache")) / "abibench")


def pyperf_python(interp):
    """A venv of `interp` with pyperf (pip picks the newest release that supports it)."""
    venv = CACHE / "pyperf-venv" / interp["name"]
    python = venv / "bin" / "python"
    if not python.exists():
        argv = [str(a) for a in interp["argv"]]
        subprocess.run(argv + ["-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", "pyperf"], check=True)
    return python


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--python", action="append", default=[])
    ap.add_argument("--scenario", action="append", default=[])
    args = ap.parse_args()
    pythons = args.python or ["3.8", "3.13"]
    scenarios = args.scenario or ["call_no_args", "call_three_ints_positional", "list_sum_get_item_fn"]

    out = tempfile.mkdtemp(prefix="abibench-pyperf-")
    cmd = ["cargo", "run", "--release", "-q", "--", "compare", "--mode", "unlimited", "--no-report", "--out", out,
           "--ascii"]
    for p in pythons:
        cmd += ["--python", p]
    for s in scenarios:
        cmd += ["--scenario", s]
    print("$", " ".join(cmd), flush=True)
    subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    results = json.load(open(next(pathlib.Path(out).glob("*.json"))))
    defs = {s["name"]: s for g in results["groups"] for s in g["scenarios"]}

    print("%-28s %-8s %14s %22s %s" % ("scenario", "python", "abibench", "pyperf mean +- sd", "agree"))
    agree = total = 0
    for interp in results["interpreters"]:
        build = next(b for b in results["builds"] if b["mode"] == "unlimited" and b["abi_tag"] == interp["soabi"])
        python = pyperf_python(interp)
        for name in scenarios:
            cell = next(c for c in results["cells"] if c["interpreter"] == interp["name"] and c["scenario"] == name)
            raw = [v / p["loops"] for p in cell["processes"] for v in p["values_s"]]
            ours = statistics.median(raw)
            sc = defs[name]
            setup = [
                "import importlib.util as u",
                "s = u.spec_from_file_location('bench_ext', %r)" % build["artifact"],
                "ext = u.module_from_spec(s); s.loader.exec_module(ext)",
                "f = ext.%s; n = %d" % (sc["function"], sc["n"]),
            ] + sc["setup"].splitlines()
            pj = os.path.join(out, "pyperf-%s-%s.json" % (interp["name"], name))
            pcmd = [str(python), "-m", "pyperf", "timeit", "--quiet", "-o", pj]
            for line in setup:
                pcmd += ["-s", line]
            pcmd.append(sc["stmt"])
            subprocess.run(pcmd, check=True, stdout=subprocess.DEVNULL)
            values = [v for run in json.load(open(pj))["benchmarks"][0]["runs"] for v in run.get("values", [])]
            mean, sd = statistics.mean(values), statistics.stdev(values)
            ok = abs(ours - mean) <= sd
            agree += ok
            total += 1
            print("%-28s %-8s %11.2f ns %10.2f +- %6.2f ns %s" % (
                name, interp["name"], ours * 1e9, mean * 1e9, sd * 1e9, "yes" if ok else "NO"))
            print("    $ " + " ".join(shlex.quote(a) for a in pcmd))
    print("agreement within pyperf's +-1 sd: %d of %d" % (agree, total))
    return 0 if agree == total else 1


if __name__ == "__main__":
    sys.exit(main())
