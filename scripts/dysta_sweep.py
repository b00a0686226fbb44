#!/usr/bin/env python3
"""Multi-DNN policies over arrival rate and SLO multiplier on a tessera.multi_dnn scenario: runs
`tessera serve` for every (policy, rate, multiplier, seed), averages ANTT and violation rate over
the seeds (as the artefact's calc_mean does), writes them as JSON and plots them.

    /usr/bin/python3 scripts/dysta_sweep.py --tessera build/ci/cli/tessera \
        --scenario configs/scenarios/dysta_cnn_eyeriss_v2.json --rates 2 3 4 5 6 --rate-slo 10 \
        --slos 5 10 25 50 100 --slo-rate 4 --seeds 1 2 3 4 5 \
        --json docs/data/dysta_cnn/sweep.json --out docs/images/dysta_cnn_sweep
"""
import argparse
import json
import os
import subprocess
import tempfile

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

POLICIES = ["fcfs", "sjf", "prema", "planaria", "sdrm3", "dysta_static", "dysta", "dysta_oracle"]


def run(args, policy, rate, slo, seed, tmp):
    out = os.path.join(tmp, "r.json")
    sets = [f"arrival/rate_per_s={rate}", f"seed={seed}"]
    scen = json.load(open(args.scenario))
    for m in scen["models"]:
        sets.append(f"models/{m}/slo_multiple={slo}")
    cmd = [args.tessera, "serve", args.scenario, "--policy", policy, "--quiet", "--out", out]
    for s in sets:
        cmd += ["--set", s]
    subprocess.run(cmd, check=True)
    s = json.load(open(out))["summary"]
    return s["antt"], s["violation_rate"]


def sweep(args, points, tmp):
    res = {}
    for p in POLICIES:
        res[p] = []
        for rate, slo in points:
            vals = [run(args, p, rate, slo, seed, tmp) for seed in args.seeds]
            res[p].append({"rate_per_s": rate, "slo_multiple": slo,
                           "antt": sum(v[0] for v in vals) / len(vals),
                           "violation_rate": sum(v[1] for v in vals) / len(vals)})
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tessera", required=True)
    ap.add_argument("--scenario", required=True)
    ap.add_argument("--rates", nargs="+", type=float, required=True)
    ap.add_argument("--rate-slo", type=float, default=10)
    ap.add_argument("--slos", nargs="+", type=float, required=True)
    ap.add_argument("--slo-rate", type=float, required=True)
    ap.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3, 4, 5])
    ap.add_argument("--json", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="dysta_sweep_")
    data = {"scenario": args.scenario, "seeds": args.seeds,
            "across_rate": sweep(args, [(r, args.rate_slo) for r in args.rates], tmp),
            "across_slo": sweep(args, [(args.slo_rate, s) for s in args.slos], tmp)}
    os.makedirs(os.path.dirname(args.json), exist_ok=True)
    json.dump(data, open(args.json, "w"), indent=1)
    fig, ax = plt.subplots(1, 3, figsize=(15, 4.2))
    for p in POLICIES:
        style = {"lw": 2.4 if p.startswith("dysta") else 1.3, "marker": "o", "ms": 3,
                 "ls": "--" if p == "dysta_oracle" else "-"}
        r = data["across_rate"][p]
        ax[0].plot([x["rate_per_s"] for x in r], [x["antt"] for x in r], label=p, **style)
        ax[1].plot([x["rate_per_s"] for x in r], [100 * x["violation_rate"] for x in r], label=p, **style)
        s = data["across_slo"][p]
        ax[2].plot([x["slo_multiple"] for x in s], [100 * x["violation_rate"] for x in s], label=p, **style)
    ax[0].set(xlabel="arrival rate (requests/s)", ylabel="ANTT", yscale="log",
              title=f"ANTT, SLO {args.rate_slo:g}x")
    ax[1].set(xlabel="arrival rate (requests/s)", ylabel="SLO violations (%)",
              title=f"violations, SLO {args.rate_slo:g}x")
    ax[2].set(xlabel="SLO multiplier", ylabel="SLO violations (%)", xscale="log",
              title=f"violations at {args.slo_rate:g} requests/s")
    for a in ax:
        a.grid(alpha=0.3)
    ax[0].legend(fontsize=8)
    fig.suptitle(os.path.basename(args.scenario) + f" (mean of {len(args.seeds)} seeds)")
    fig.tight_layout()
    fig.savefig(args.out + ".png", dpi=110)


if __name__ == "__main__":
    main()
