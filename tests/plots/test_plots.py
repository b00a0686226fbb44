#!/usr/bin/env python3
"""Runs scripts/plot_*.py on the shipped data (tests/data/plots) and on broken input.

  tests/plots/test_plots.py [SOURCE_DIR]     (ctest: `ctest -L plots`)

Plain Python, no pytest: prints one line per check, then "N passed, M failed"; exits 1 on failure.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import json
import re
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor

SOURCE = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", ".."))
SCRIPTS, DATA = os.path.join(SOURCE, "scripts"), os.path.join(SOURCE, "tests", "data", "plots")
LOG, REPORT = os.path.join(DATA, "small.jsonl"), os.path.join(DATA, "lenet5_report.json")
CONVERGENCE = os.path.join(DATA, "codesign_bench.csv")  # tessera_bench --codesign, 4 seeds
XR_SPACE = os.path.join(DATA, "xr_space.json")  # tessera serve configs/xr/spaces/ar_assistant_splits_1k.json, OS points
FRONT, FRONT3 = os.path.join(DATA, "small_front.json"), os.path.join(DATA, "small_front3.json")


def find_python():
    """An interpreter with matplotlib: the one running this, else Debian's (python3-matplotlib)."""
    for exe in (sys.executable, "/usr/bin/python3", shutil.which("python3")):
        if exe and subprocess.run([exe, "-c", "import matplotlib"], capture_output=True).returncode == 0:
            return exe
    sys.exit("no python3 with matplotlib found (install python3-matplotlib: scripts/setup.sh)")


PYTHON = find_python()


def run(script, *args):
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}  # no __pycache__ in the source tree
    return subprocess.run([PYTHON, os.path.join(SCRIPTS, script), *args], capture_output=True, text=True, env=env)


def check(name, ok, detail=""):
    return f"{'PASS' if ok else 'FAIL'} {name}" + ("" if ok else f": {detail}")


def plot_ok(name, prefix, script, *args):
    """The script succeeds and writes a real PNG and a well-formed SVG."""
    p = run(script, *args, "--out", prefix)
    problems = [] if p.returncode == 0 else [f"exit {p.returncode}: {p.stderr.strip()}"]
    if not problems:
        with open(prefix + ".png", "rb") as f:
            png = f.read()
        if not png.startswith(b"\x89PNG\r\n\x1a\n") or len(png) <= 1024:
            problems.append(f"{prefix}.png is not a PNG over 1 KB ({len(png)} bytes)")
        try:
            if not ET.parse(prefix + ".svg").getroot().tag.endswith("svg"):
                problems.append(f"{prefix}.svg has no svg root")
        except (ET.ParseError, OSError) as e:
            problems.append(f"{prefix}.svg: {e}")
    return check(name, not problems, "; ".join(problems))


def png_size(path):
    with open(path, "rb") as f:
        head = f.read(24)
    return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")


def layers_readable(name, prefix, report):
    """A 300-layer report plots at the same readable size as a small one (top-N, aggregates)."""
    p = run("plot_layers.py", report, "--top", "12", "--out", prefix)
    if p.returncode != 0:
        return check(name, False, f"exit {p.returncode}: {p.stderr.strip()}")
    w, h = png_size(prefix + ".png")
    return check(name, w <= 2600 and h <= 1800, f"{prefix}.png is {w}x{h} px")


def panels(name, prefix, count, script, *args):
    """The figure has exactly `count` panels (axes groups in the SVG): none left empty."""
    p = run(script, *args, "--out", prefix)
    if p.returncode != 0:
        return check(name, False, f"exit {p.returncode}: {p.stderr.strip()}")
    with open(prefix + ".svg", encoding="utf-8") as f:
        found = len(set(re.findall(r'id="axes_\d+"', f.read())))
    return check(name, found == count, f"{found} panels, expected {count}")


def tick_labels(name):
    """Sizes read as sizes, not as 2.09715e+06."""
    code = ("import sys; sys.path.insert(0, sys.argv[1]); import plot_scatter as s; "
            "print([s.tick_label(v) for v in (2097152, 262144, 1536, 12800000, 0.25, 4)])")
    p = subprocess.run([PYTHON, "-c", code, SCRIPTS], capture_output=True, text=True,
                       env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    want = "['2 Mi', '256 Ki', '1,536', '12,800,000', '0.25', '4']"
    return check(name, p.stdout.strip() == want, f"got {p.stdout.strip() or p.stderr.strip()}, want {want}")


def hypervolume_titles(name):
    """The title's hypervolume names its scale: the reference point, or the space's lo..ref."""
    code = ("import sys, json; sys.path.insert(0, sys.argv[1]); import plot_pareto as p; "
            "d = json.load(open(sys.argv[2])); print(p.hypervolume_note(d, 'f')); "
            "d.update(reference='space', hypervolume=0.5, normalisation={'lo': [0, 1], 'ref': [2, 3]}); "
            "d['objectives'] = ['test_error:min', 'log10_latency_s:min']; print(p.hypervolume_note(d, 'f'))")
    p = subprocess.run([PYTHON, "-c", code, SCRIPTS, FRONT], capture_output=True, text=True,
                       env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    with open(FRONT, encoding="utf-8") as f:
        ref = json.load(f)["reference_point"]
    want = [f"in the metrics' units, reference point latency_s={ref[0]:g}, energy_pj={ref[1]:g} "
            "(default: worst ok value moved 10% further)",
            "hypervolume 0.5, normalised to the unit box by the space's fixed [lo, ref]: "
            "test_error [0, 2], log10_latency_s [1, 3]"]
    lines = p.stdout.splitlines()
    ok = len(lines) == 2 and want[0] in lines[0] and lines[1] == want[1]
    return check(name, ok, f"got {p.stdout.strip() or p.stderr.strip()!r}, want {want}")


def fails_with(name, texts, script, *args):
    """The script exits non-zero and its stderr holds every one of texts."""
    p = run(script, *args)
    missing = [t for t in texts if t not in p.stderr]
    return check(name, p.returncode != 0 and not missing,
                 f"exit {p.returncode}, stderr {p.stderr.strip()!r} lacks {missing}")


def main():
    tmp = tempfile.mkdtemp(prefix="tessera_plots_")
    out = lambda name: os.path.join(tmp, name)  # noqa: E731
    pool, futures = ThreadPoolExecutor(max_workers=os.cpu_count() or 2), []
    submit = lambda *a: futures.append(pool.submit(*a))  # noqa: E731  (the checks run concurrently)
    try:
        with open(LOG, encoding="utf-8") as f:
            log = f.read().splitlines()
        with open(out("with_failed.jsonl"), "w", encoding="utf-8") as f:  # a failed point, a cut-short tail
            f.write("\n".join(log) + "\n" + '{"log":"tessera.results","version":1,"index":99,"point":{},'
                    '"status":"failed","error":"does not fit","config_hash":"x","workload_hash":"y"}\n'
                    + log[0][: len(log[0]) // 2])
        with open(out("corrupt.jsonl"), "w", encoding="utf-8") as f:  # line 3 broken, not the last
            f.write("\n".join(log[:2] + [log[2][:40]] + log[3:]) + "\n")
        with open(out("bad_report.json"), "w", encoding="utf-8") as f:
            f.write('{"layers": [\n')
        with open(REPORT, encoding="utf-8") as f:  # 300 layers with long names alike at the start
            report = json.load(f)
        base = report["layers"]
        report["layers"] = [{**base[i % len(base)], "name": f"/encoder/layer.{i // 10}/block/op_{i}/MatMul"}
                            for i in range(300)]
        with open(out("big_report.json"), "w", encoding="utf-8") as f:
            json.dump(report, f)

        submit(plot_ok, "pareto 2 objectives", out("pareto2"), "plot_pareto.py", LOG, "--front", FRONT)
        submit(plot_ok, "pareto 3 objectives (grid)", out("pareto3"), "plot_pareto.py", LOG, "--front", FRONT3)
        submit(plot_ok, "pareto axes reordered", out("pareto3r"), "plot_pareto.py", LOG, "--front", FRONT3,
               "--objectives", "utilization:max,energy_pj:min,latency_s:min")
        submit(plot_ok, "pareto log with a failed point and a cut-short tail", out("pareto_failed"),
               "plot_pareto.py", out("with_failed.jsonl"), "--front", FRONT)
        submit(plot_ok, "scatter pow2 parameter, coloured", out("scatter_rows"), "plot_scatter.py", LOG,
               "--param", "systolic.rows", "--metric", "latency_s", "--color", "systolic.dataflow")
        submit(plot_ok, "scatter categorical parameter", out("scatter_df"), "plot_scatter.py", LOG,
               "--param", "systolic.dataflow", "--metric", "energy_pj", "--color", "dram.bandwidth")
        submit(plot_ok, "scatter numeric parameter", out("scatter_bw"), "plot_scatter.py", out("with_failed.jsonl"),
               "--param", "dram.bandwidth", "--metric", "throughput_macs_per_s")
        submit(plot_ok, "layers", out("layers"), "plot_layers.py", REPORT)
        submit(plot_ok, "xr space (a failed point among them)", out("xr_space"), "plot_xr_space.py", XR_SPACE)
        submit(fails_with, "xr space: not XR results", ["not XR design-space results"], "plot_xr_space.py",
               REPORT, "--out", out("x"))
        submit(fails_with, "xr space: no such parameter", ["no parameter 'nope'"], "plot_xr_space.py",
               XR_SPACE, "--x", "nope", "--out", out("x"))
        submit(plot_ok, "convergence", out("convergence"), "plot_convergence.py", CONVERGENCE)
        submit(fails_with, "convergence: a log is not the bench's CSV", ["no column 'algo'"],
               "plot_convergence.py", LOG, "--out", out("x"))
        submit(fails_with, "convergence: no runs of that budget", ["no runs with budget 7"],
               "plot_convergence.py", CONVERGENCE, "--budget", "7", "--out", out("x"))
        submit(layers_readable, "layers of a 300-layer report stay readable", out("big"), out("big_report.json"))
        submit(panels, "pareto 3 objectives: three panels, none empty", out("pareto3p"), 3, "plot_pareto.py", LOG,
               "--front", FRONT3)
        submit(panels, "layers: four panels", out("layers4"), 4, "plot_layers.py", REPORT)
        submit(tick_labels, "scatter tick labels: 2 Mi, not 2.09715e+06")
        submit(hypervolume_titles, "pareto title: the hypervolume with its reference or normalisation")
        submit(fails_with, "layers --top 0", ["--top 0"], "plot_layers.py", REPORT, "--top", "0", "--out", out("x"))

        missing, corrupt, x = out("no_such.jsonl"), out("corrupt.jsonl"), ("--out", out("x"))
        submit(fails_with, "pareto missing log", [missing], "plot_pareto.py", missing, "--front", FRONT, *x)
        submit(fails_with, "pareto missing front", [missing], "plot_pareto.py", LOG, "--front", missing, *x)
        submit(fails_with, "scatter missing log", [missing], "plot_scatter.py", missing, "--param", "systolic.rows", *x)
        submit(fails_with, "layers missing report", [missing], "plot_layers.py", missing, *x)
        submit(fails_with, "pareto corrupt log line", [f"{corrupt}:3", "line 3"], "plot_pareto.py", corrupt,
               "--front", FRONT, *x)
        submit(fails_with, "scatter corrupt log line", [f"{corrupt}:3", "line 3"], "plot_scatter.py", corrupt,
               "--param", "systolic.rows", *x)
        submit(fails_with, "layers corrupt report", [out("bad_report.json") + ":"], "plot_layers.py",
               out("bad_report.json"), *x)
        submit(fails_with, "layers given a log", [LOG + ":2"], "plot_layers.py", LOG, *x)
        submit(fails_with, "pareto objectives not those of the front", [FRONT], "plot_pareto.py", LOG,
               "--front", FRONT, "--objectives", "latency_s:min,utilization:max", *x)
        submit(fails_with, "scatter unknown parameter", ["systolic.rows"], "plot_scatter.py", LOG,
               "--param", "nope", *x)
        submit(fails_with, "scatter unknown metric", ["latency_s"], "plot_scatter.py", LOG,
               "--param", "systolic.rows", "--metric", "nope", *x)
        lines = [f.result() for f in futures]
    finally:
        pool.shutdown()
        shutil.rmtree(tmp, ignore_errors=True)
    failed = sum(line.startswith("FAIL") for line in lines)
    print("\n".join(lines) + f"\n{len(lines) - failed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
