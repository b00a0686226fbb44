#!/usr/bin/python3
"""Convergence of co-design searches from `tessera_bench --codesign --csv FILE`: per algorithm, the
median normalised hypervolume over the seeds against the number of evaluations (the runs of the
largest budget), with the interquartile range shaded.

  scripts/plot_convergence.py codesign_bench.csv --out PREFIX [--budget 100]
"""
import argparse
import csv
import statistics

import tessera_plot_common as common
from tessera_plot_common import InputError, plt

COLUMNS = ("algo", "seed", "budget", "evaluations", "hypervolume")


def read_runs(path, budget):
    """{algo: {evaluations: [hypervolume per seed]}} for the runs of `budget` (default: the largest).
    A run that evaluated fewer distinct points than its budget (a search proposing a point twice)
    keeps its last hypervolume up to the budget, so every seed counts at every step."""
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise InputError(f"{path}:1: no column {missing[0]!r} (expected tessera_bench --codesign's CSV)")
        rows = []
        for line, row in enumerate(reader, start=2):
            try:
                rows.append((row["algo"], row["seed"], int(row["budget"]), int(row["evaluations"]),
                             float(row["hypervolume"])))
            except (TypeError, ValueError):
                raise InputError(f"{path}:{line}: budget, evaluations and hypervolume must be numbers") from None
    if not rows:
        raise InputError(f"{path}: no runs")
    budget = budget or max(r[2] for r in rows)
    runs = {}  # (algo, seed) -> {evaluations: hypervolume}
    for algo, seed, b, n, hv in rows:
        if b == budget:
            runs.setdefault((algo, seed), {})[n] = hv
    if not runs:
        raise InputError(f"{path}: no runs with budget {budget}")
    steps = sorted({n for run in runs.values() for n in run} | {budget})
    curves = {}
    for (algo, _), run in runs.items():
        last = None
        for n in steps:
            last = run.get(n, last)
            if last is not None:
                curves.setdefault(algo, {}).setdefault(n, []).append(last)
    return budget, curves


def quartiles(values):
    if len(values) < 2:
        return values[0], values[0], values[0]
    q1, q2, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return q1, q2, q3


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("csv")
    parser.add_argument("--budget", type=int, default=0, help="the runs of this budget (default: the largest)")
    common.add_out_argument(parser)
    args = parser.parse_args()
    budget, curves = read_runs(args.csv, args.budget)
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for algo in sorted(curves):
        points = sorted(curves[algo].items())
        xs = [n for n, _ in points]
        q = [quartiles(v) for _, v in points]
        ax.plot(xs, [m for _, m, _ in q], marker="o", markersize=3, label=f"{algo} ({len(points[-1][1])} runs)")
        ax.fill_between(xs, [lo for lo, _, _ in q], [hi for _, _, hi in q], alpha=0.2)
    ax.set_xlabel("evaluations")
    ax.set_ylabel("normalised hypervolume (higher is better)")
    ax.set_title(f"median and IQR over seeds, budget {budget}")
    ax.grid(alpha=0.3)
    ax.legend()
    common.save(fig, args.out)


if __name__ == "__main__":
    common.main_wrapper(main)
