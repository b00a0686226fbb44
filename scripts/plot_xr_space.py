#!/usr/bin/python3
"""Plot XR design-space results (`tessera serve SPACE.json --out R.json`, "format":
"tessera.xr_space_results"): the score against the PEs of the first sub-accelerator, one line per
policy (the best over the other parameters at each value), one panel per results file.

  scripts/plot_xr_space.py R1.json [R2.json ...] --out PREFIX [--x sub_accelerators.0.num_pes]
"""
import argparse

import tessera_plot_common as common
from tessera_plot_common import InputError, plt


def read_results(path):
    doc = common.read_json(path)
    if not isinstance(doc, dict) or doc.get("format") != "tessera.xr_space_results":
        raise InputError(f"{path}: not XR design-space results (tessera serve SPACE.json --out R.json)")
    points = doc.get("points")
    if not isinstance(points, list):
        raise InputError(f"{path}: /points: expected a list")
    return doc


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("results", nargs="+")
    parser.add_argument("--x", default="sub_accelerators.0.num_pes", help="the parameter on the x axis")
    common.add_out_argument(parser)
    args = parser.parse_args()
    docs = [read_results(p) for p in args.results]
    fig, axes = plt.subplots(1, len(docs), figsize=(6.2 * len(docs), 4.6), squeeze=False)
    for ax, path, doc in zip(axes[0], args.results, docs):
        best = {}  # policy -> x -> (score, point)
        for i, p in enumerate(doc["points"]):
            if "score" not in p:
                continue
            point = p.get("point", {})
            if args.x not in point:
                raise InputError(f"{path}: /points/{i}/point: no parameter '{args.x}'")
            x, s = point[args.x], p["score"]
            cur = best.setdefault(p["policy"], {}).get(x)
            if cur is None or s > cur[0]:
                best[p["policy"]][x] = (s, point)
        if not best:
            raise InputError(f"{path}: no point ran")
        top = None
        for k, (policy, by_x) in enumerate(sorted(best.items())):
            xs = sorted(by_x)
            ax.plot(xs, [by_x[x][0] for x in xs], marker="o", color=plt.cm.tab10.colors[k % 10], label=policy)
            for x in xs:
                if top is None or by_x[x][0] > top[0]:
                    top = (by_x[x][0], x, policy, by_x[x][1])
        s, x, policy, point = top
        def short(k):
            return k.replace("sub_accelerators.", "unit ")
        items = [f"{short(k)}={v}" for k, v in sorted(point.items())]
        best_text = "\n".join(", ".join(items[i:i + 2]) for i in range(0, len(items), 2))
        ax.plot([x], [s], marker="*", markersize=16, color="gold", markeredgecolor="black", zorder=5,
                linestyle="none", label=f"best {s:.2f} ({policy})")
        ax.set_title(f"{doc.get('space', path)}\nbest: {best_text}", fontsize=9)
        ax.set_xlabel(args.x)
        ax.set_ylabel("XRBench score (best over the other parameters)")
        ax.grid(alpha=0.3)
        ax.legend(title="policy", loc="center right", fontsize=8)
    common.save(fig, args.out)


if __name__ == "__main__":
    common.main_wrapper(main)
