#!/usr/bin/python3
"""Plot a `tessera simulate --out` report per layer: cycles split into compute and stall cycles,
and energy by component (whatever components the engine reports).

  scripts/plot_layers.py REPORT.json --out PREFIX
"""
import argparse

import tessera_plot_common as common
from tessera_plot_common import InputError, plt


def read_report(path):
    doc = common.read_json(path)
    layers = doc.get("layers") if isinstance(doc, dict) else None
    if not isinstance(layers, list) or not layers:
        raise InputError(f"{path}: not a Tessera report with layers (docs/report-schema.md)")
    for i, layer in enumerate(layers):
        if not isinstance(layer, dict) or "name" not in layer or "cycles" not in layer:
            raise InputError(f"{path}: /layers/{i} has no name and cycles")
    return doc


def stacked(ax, names, series, factor):
    """Stacked bars, one per layer; series: [(label, values)], zero-only series left out."""
    series = [s for s in series if any(s[1])]
    bottom = [0.0] * len(names)
    colors = (plt.cm.tab10 if len(series) <= 10 else plt.cm.tab20).colors
    for i, (label, values) in enumerate(series):
        scaled = [v * factor for v in values]
        ax.bar(range(len(names)), scaled, bottom=bottom, label=label, color=colors[i % len(colors)])
        bottom = [b + v for b, v in zip(bottom, scaled)]
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1))
    ax.grid(True, axis="y", alpha=0.3)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("report", help="report JSON of `tessera simulate --out`")
    common.add_out_argument(parser)
    args = parser.parse_args()

    doc = read_report(args.report)
    layers = doc["layers"]
    names = [layer["name"] for layer in layers]
    cycles = [float(layer["cycles"]) for layer in layers]
    compute = [float(layer.get("compute_cycles", c)) for layer, c in zip(layers, cycles)]
    stall = [float(layer.get("stall_cycles", c - k)) for layer, c, k in zip(layers, cycles, compute)]
    components = list(dict.fromkeys(k for layer in layers for k in layer.get("energy_by_component", {})))
    if components:
        energy = [(c, [float(layer.get("energy_by_component", {}).get(c, 0.0)) for layer in layers])
                  for c in components]
    else:  # an engine without a breakdown: the layer totals
        energy = [("total", [float(layer.get("energy_pj", 0.0)) for layer in layers])]
    totals = [sum(v) for v in zip(*(values for _, values in energy))]

    fig, (top, bottom) = plt.subplots(2, 1, sharex=True, figsize=(max(7, 0.6 * len(names) + 3), 8))
    factor, label = common.unit("cycles", cycles)
    stacked(top, names, [("compute", compute), ("stall", stall)], factor)
    top.set_ylabel(label)
    factor, label = common.unit("energy_pj", totals)
    stacked(bottom, names, energy, factor)
    bottom.set_ylabel(label)
    bottom.set_xticks(range(len(names)), names, rotation=60, ha="right")
    bottom.set_xlabel("layer")
    s, run = doc.get("summary", {}), doc.get("run", {})
    top.set_title(f"{s.get('workload', '?')} on {s.get('arch', '?')} ({s.get('engine', '?')} engine, "
                  f"{run.get('fidelity', '?')}): cycles and energy per layer", fontsize=10)
    fig.tight_layout()
    common.save(fig, args.out)


if __name__ == "__main__":
    common.main_wrapper(main)
