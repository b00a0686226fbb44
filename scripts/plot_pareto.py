#!/usr/bin/python3
"""Plot the ok points of a results log with the Pareto front that `tessera pareto LOG --json` found.

  scripts/plot_pareto.py LOG --front FRONT.json [--objectives a:min,b:min] --out PREFIX

Dominance is not computed here: the front is the one in FRONT.json, and so is the hypervolume in
the title, shown with the scale it is on (the space's fixed normalisation or the reference point
`tessera pareto` used). With more than two objectives, the plot shows every pair of objectives,
the front's points marked (a projection of a front is not a curve); axes spanning more than 10x
are logarithmic.
"""
import argparse
import itertools
import textwrap

from matplotlib import ticker

import tessera_plot_common as common
from tessera_plot_common import InputError, plt


def read_front(path):
    doc = common.read_json(path)
    if not isinstance(doc, dict) or not isinstance(doc.get("front"), list) or "objectives" not in doc:
        raise InputError(f"{path}: not the output of `tessera pareto LOG --json` (no 'front' and 'objectives')")
    return doc


def hypervolume_note(doc, path):
    """The hypervolume with the scale it is on (`tessera pareto`'s reference or the space's
    normalisation): a hypervolume means nothing without it."""
    hv = doc.get("hypervolume")
    if not isinstance(hv, (int, float)):
        return "hypervolume not given"
    names = [o.rsplit(":", 1)[0] for o in doc["objectives"]]
    source = doc.get("reference", "given" if doc.get("reference_given") else "default")
    try:
        if source == "space":
            norm = doc["normalisation"]
            scale = ", ".join(f"{n} [{float(lo):g}, {float(ref):g}]"
                              for n, lo, ref in zip(names, norm["lo"], norm["ref"]))
            return f"hypervolume {hv:.4g}, normalised to the unit box by the space's fixed [lo, ref]: {scale}"
        point = ", ".join(f"{n}={float(r):g}" for n, r in zip(names, doc.get("reference_point") or []))
    except (TypeError, ValueError, KeyError):
        raise InputError(f"{path}: its reference_point or normalisation is not the output of "
                         "`tessera pareto LOG --json`") from None
    how = "given" if source == "given" else "default: worst ok value moved 10% further"
    return f"hypervolume {hv:.4g} in the metrics' units, reference point {point} ({how})"


def log_note(scale):
    return " (log axis)" if scale == "log" else ""


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
    table = common.log_metrics(args.log)
    units = {n: common.unit(n, common.metric(points, n, args.log), table) for n in names}
    values = {n: [v * units[n][0] for v in common.metric(points, n, args.log)] for n in names}
    first = common.metric(front, names[0], args.front)
    front = [e for _, e in sorted(zip(first, front), key=lambda t: t[0])]  # in order of the first objective
    front_values = {n: [v * units[n][0] for v in common.metric(front, n, args.front)] for n in names}

    # One panel per pair of objectives, in rows of at most three: no empty panels. With two
    # objectives the front is a staircase and is drawn as one; with more, a 2-D projection of the
    # front is not a curve, so its points are only marked.
    pairs = list(itertools.combinations(range(len(names)), 2))
    cols = min(3, len(pairs))
    rows = (len(pairs) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(5.5 * cols, 4.6 * rows), squeeze=False)
    for ax in axes.flat[len(pairs):]:
        fig.delaxes(ax)
    sense = {"min": "lower is better", "max": "higher is better"}
    for ax, (i, j) in zip(axes.flat, pairs):
        x, y = names[i], names[j]
        ax.scatter(values[x], values[y], s=16, color="0.7", label=f"evaluated ({len(points)} ok)")
        if len(names) == 2:
            pts = sorted(zip(front_values[x], front_values[y]))
            ax.step([p[0] for p in pts], [p[1] for p in pts], where="post", color="tab:red", linewidth=1.2)
        ax.scatter(front_values[x], front_values[y], s=36, color="tab:red", edgecolor="black", linewidth=0.5,
                   zorder=3, label=f"Pareto front ({len(front)})")
        for name, axis in ((x, ax.xaxis), (y, ax.yaxis)):
            v = [a for a in values[name] if a > 0]
            if v and len(v) == len(values[name]) and max(v) / min(v) > 10:  # a wide range: log axis
                (ax.set_xscale if axis is ax.xaxis else ax.set_yscale)("log")
                axis.set_major_locator(ticker.LogLocator(subs=(1.0, 2.0, 5.0)))
                axis.set_major_formatter(ticker.FuncFormatter(lambda t, _: f"{t:g}"))
                axis.set_minor_formatter(ticker.NullFormatter())
        ax.set_xlabel(f"{units[x][1]}, {sense[objectives[i][1]]}" + log_note(ax.get_xscale()))
        ax.set_ylabel(f"{units[y][1]}, {sense[objectives[j][1]]}" + log_note(ax.get_yscale()))
        ax.grid(True, which="both", alpha=0.25)
        ax.legend(fontsize=8)
    fig.suptitle(f"{args.log}: {len(front)} non-dominated of {len(points)} ok points, {failed} failed "
                 f"(not shown)\n{textwrap.fill(hypervolume_note(doc, args.front), 75 * cols)}", fontsize=10)
    fig.tight_layout()
    common.save(fig, args.out)


if __name__ == "__main__":
    common.main_wrapper(main)
