#!/usr/bin/python3
"""Plot one parameter of a results log against one metric, over its ok points.

  scripts/plot_scatter.py LOG --param systolic.rows --metric latency_s [--color PARAM] [--log-y]
                          [--line Y] --out PREFIX

Text parameters go on a categorical axis, numeric ones on a numeric axis (log2 when every value
is a power of two). --color colours the points by a second parameter.
"""
import argparse

import tessera_plot_common as common
from tessera_plot_common import InputError, plt


def param(entries, name, path):
    """Values of one parameter; an unknown name lists the known ones."""
    try:
        return [e["point"][name] for e in entries]
    except (KeyError, TypeError):
        known = sorted({k for e in entries for k in e.get("point", {})})
        raise InputError(f"{path}: no parameter {name!r} in every ok point (parameters: {', '.join(known)})") from None


def is_numeric(values):
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)


def is_pow2(values):
    return all(float(v).is_integer() and v > 0 and int(v) & (int(v) - 1) == 0 for v in values)


def tick_label(v):
    """Exact and short: 2097152 -> '2 Mi' (binary prefixes for whole multiples of 1024, as sizes in
    bytes are, when under 1024 of them), other integers in full with separators, other numbers with 4 significant digits."""
    if isinstance(v, float) and not v.is_integer():
        return f"{v:.4g}"
    v = int(v)
    for power, prefix in ((3, "Gi"), (2, "Mi"), (1, "Ki")):
        if v and v % 1024 ** power == 0 and abs(v) // 1024 ** power < 1024:
            return f"{v // 1024 ** power} {prefix}"
    return f"{v:,}"


def positions(values):
    """(x positions, tick positions, tick labels, axis scale) for one parameter's values."""
    if is_numeric(values):
        ticks = sorted(set(values))
        return values, ticks, [tick_label(t) for t in ticks], "log2" if is_pow2(values) and len(ticks) > 1 else "linear"
    categories = sorted({str(v) for v in values})
    slot = {c: i for i, c in enumerate(categories)}
    seen = {}  # spread the points of one category a little so that equal ones stay visible
    xs = []
    for v in values:
        n = seen[str(v)] = seen.get(str(v), 0) + 1
        xs.append(slot[str(v)] + 0.04 * ((n % 7) - 3))
    return xs, list(range(len(categories))), categories, "categorical"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("log", help="results log of `tessera sweep` (JSON lines)")
    parser.add_argument("--param", required=True, help="parameter path on the x axis, e.g. systolic.rows")
    parser.add_argument("--metric", default="latency_s", help="metric on the y axis (default: latency_s)")
    parser.add_argument("--color", metavar="PARAM", help="colour the points by this parameter")
    parser.add_argument("--log-y", action="store_true", help="logarithmic metric axis")
    parser.add_argument("--line", type=float, metavar="Y",
                        help="a dashed horizontal line at this metric value (an SLO, say), in the metric's own unit")
    common.add_out_argument(parser)
    args = parser.parse_args()

    points, failed = common.read_log(args.log)
    if not points:
        raise InputError(f"{args.log}: no ok entries to plot")
    factor, ylabel = common.unit(args.metric, common.metric(points, args.metric, args.log),
                                 common.log_metrics(args.log))
    ys = [v * factor for v in common.metric(points, args.metric, args.log)]
    xs, ticks, labels, scale = positions(param(points, args.param, args.log))

    fig, ax = plt.subplots(figsize=(7, 5))
    if args.color:
        colors = param(points, args.color, args.log)
        if is_numeric(colors) and len(set(colors)) > 10:
            sc = ax.scatter(xs, ys, c=colors, cmap="viridis", s=24)
            fig.colorbar(sc, ax=ax, label=args.color)
        else:
            for i, c in enumerate(sorted(set(colors), key=lambda v: (str(type(v)), v))):
                sel = [k for k, v in enumerate(colors) if v == c]
                ax.scatter([xs[k] for k in sel], [ys[k] for k in sel], s=24, color=plt.cm.tab10(i % 10), label=f"{c}")
            ax.legend(title=args.color, fontsize=8)
    else:
        ax.scatter(xs, ys, s=24, color="tab:blue")
    if args.line is not None:
        ax.axhline(args.line * factor, color="tab:red", linestyle="--", linewidth=1, label=f"{args.line:g}")
    if args.log_y:
        ax.set_yscale("log")
    if scale == "log2":
        ax.set_xscale("log", base=2)
    if len(ticks) <= 12:
        ax.set_xticks(ticks, labels)
        ax.xaxis.set_minor_locator(plt.NullLocator())
    if scale == "categorical":
        ax.set_xlim(-0.5, len(ticks) - 0.5)
    binary = any(label.endswith("i") for label in labels) if scale != "categorical" else False
    ax.set_xlabel(args.param + (" (log2 axis)" if scale == "log2" else "")
                  + ("; Ki, Mi, Gi = 2^10, 2^20, 2^30" if binary else ""))
    ax.set_ylabel(ylabel)
    ax.grid(True, alpha=0.3)
    ax.set_title(f"{args.log}: {len(points)} ok points, {failed} failed (not shown)", fontsize=10)
    common.save(fig, args.out)


if __name__ == "__main__":
    common.main_wrapper(main)
