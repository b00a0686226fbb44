#!/usr/bin/python3
"""Plot the ok points of a results log with the Pareto front that `tessera pareto LOG --json` found.

  scripts/plot_pareto.py LOG --front FRONT.json [--objectives a:min,b:min] --out PREFIX

Dominance is not computed here: the front is the one in FRONT.json. With more than two
objectives, the plot is a grid of pairwise 2-D projections.
"""
import argparse
import itertools

import tessera_plot_common as common
from tessera_plot_common import InputError, plt


def read_front(path):
    doc = common.read_json(path)
    if not isinstance(doc, dict) or not isinstance(doc.get("front"), list) or "objectives" not in doc:
        raise InputError(f"{path}: not the output of `tessera pareto LOG --json` (no 'front' and 'objectives')")
    return doc


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("log", help="results log of `tessera sweep` (JSON lines)")
    parser.add_argument("--front", required=True, help="output of `tessera pareto LOG --json`")
    parser.add_argument("--objectives", help="metric:min|max,... (default: those of FRONT.json; "
                        "must be the same set, the order picks the axes)")
    common.add_out_argument(parser)
    args = parser.parse_args()

    points, failed = common.read_log(args.log)
    doc = read_front(args.front)
    front_objectives = common.parse_objectives(",".join(doc["objectives"]))
    objectives = common.parse_objectives(args.objectives) if args.objectives else front_objectives
    if sorted(objectives) != sorted(front_objectives):
        raise InputError(f"{args.front}: the front is for {','.join(doc['objectives'])}, not {args.objectives}; "
                         f"run `tessera pareto {args.log} --objectives {args.objectives} --json`")
    front = doc["front"]
    known = {(e.get("index"), e.get("config_hash")) for e in points}
    if any((e.get("index"), e.get("config_hash")) not in known for e in front):
        raise InputError(f"{args.front}: its front has entries that are not ok entries of {args.log}")
    if not points:
        raise InputError(f"{args.log}: no ok entries to plot")

    names = [name for name, _ in objectives]
    units = {n: common.unit(n, common.metric(points, n, args.log)) for n in names}
    values = {n: [v * units[n][0] for v in common.metric(points, n, args.log)] for n in names}
    first = common.metric(front, names[0], args.front)
    front = [e for _, e in sorted(zip(first, front), key=lambda t: t[0])]  # in order of the first objective
    front_values = {n: [v * units[n][0] for v in common.metric(front, n, args.front)] for n in names}

    pairs = list(itertools.combinations(range(len(names)), 2))
    k = len(names) - 1  # grid side: objective j (row j-1) against objective i (column i)
    fig, axes = plt.subplots(k, k, figsize=(5.5 * k, 4.5 * k), squeeze=False)
    for ax in axes.flat:
        ax.set_visible(False)
    for i, j in pairs:
        ax = axes[j - 1][i]
        ax.set_visible(True)
        x, y = names[i], names[j]
        ax.scatter(values[x], values[y], s=18, color="0.65", label=f"evaluated ({len(points)} ok)")
        ax.plot(front_values[x], front_values[y], "o-", color="tab:red", markersize=6, linewidth=1.5,
                label=f"Pareto front ({len(front)})")
        ax.set_xlabel(f"{units[x][1]}, {objectives[i][1]}")
        ax.set_ylabel(f"{units[y][1]}, {objectives[j][1]}")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(f"{args.log}: {len(front)} non-dominated of {len(points)} ok points, {failed} failed "
                 f"(not shown); hypervolume {doc.get('hypervolume', float('nan')):.4g}", fontsize=10)
    fig.tight_layout()
    common.save(fig, args.out)


if __name__ == "__main__":
    common.main_wrapper(main)
