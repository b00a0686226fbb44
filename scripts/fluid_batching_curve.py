#!/usr/bin/env python3
"""The fluid-batching check over arrival rate (docs/validation.md): runs the shipped bursty
early-exit scenario at several per-device rates and prints a Markdown table of mean latency,
p99 latency and SLO satisfaction for fluid batching (exit-aware, stackable PEs) and each baseline
of the scenario, with the ratio of each baseline's mean latency to fluid batching's.

usage: scripts/fluid_batching_curve.py [TESSERA] [RATE ...]
"""
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCENARIO = os.path.join(ROOT, "configs/scenarios/resnet18_early_exit_bursty_fluid_batching.json")


def main():
    tessera = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build/ci/cli/tessera")
    rates = [float(r) for r in sys.argv[2:]] or [2, 4, 5, 6, 8, 10]
    print("| rate/device (req/s) | run | mean ms | p99 ms | mean vs fluid | SLO % |")
    print("|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "r.json")
        for rate in rates:
            sets = []
            for i in range(3):
                sets += ["--set", f"streams/{i}/arrival/rate_per_s={rate}"]
            subprocess.run([tessera, "serve", SCENARIO, "--quiet", "--out", out] + sets, check=True)
            report = json.load(open(out))
            runs = [("fluid, exit-aware", report["summary"])]
            runs += [(name, b["summary"]) for name, b in sorted(report.get("baselines", {}).items())]
            fluid = report["summary"]["mean_latency_s"]
            for name, s in runs:
                print(f"| {rate:g} | {name} | {s['mean_latency_s'] * 1e3:.1f} | "
                      f"{s['p99_latency_s'] * 1e3:.1f} | {s['mean_latency_s'] / fluid:.2f}x | "
                      f"{100 * s['slo_satisfaction']:.1f} |")


if __name__ == "__main__":
    main()
