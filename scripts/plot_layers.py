#!/usr/bin/python3
"""Plot a `tessera simulate --out` report in four panels that stay readable at any network size:

  1. the whole network's energy by component and action (dram.filter: read, write; mac; leakage...),
  2. energy and cycles by layer kind (conv, matmul, pool, ...),
  3. the top-N layers by cycles (compute and stall), the rest summed in one bar,
  4. the top-N layers by energy, split by component, the rest summed in one bar.

  scripts/plot_layers.py REPORT.json --out PREFIX [--top N]
"""
import argparse

from matplotlib.patches import Patch

import tessera_plot_common as common
from tessera_plot_common import InputError, plt

GROUP_COLORS = {"mac": "tab:red", "sram": "tab:blue", "dram": "tab:purple", "leakage": "tab:gray",
                "vector": "tab:green", "noc": "tab:olive", "rf": "tab:cyan", "core": "tab:orange"}


def read_report(path):
    doc = common.read_json(path)
    layers = doc.get("layers") if isinstance(doc, dict) else None
    if not isinstance(layers, list) or not layers:
        raise InputError(f"{path}: not a Tessera report with layers (docs/report-schema.md)")
    for i, layer in enumerate(layers):
        if not isinstance(layer, dict) or "name" not in layer or "cycles" not in layer:
            raise InputError(f"{path}: /layers/{i} has no name and cycles")
    return doc


def split_key(key):
    """'sram.ifmap.read' -> ('sram.ifmap', 'read'); 'mac' -> ('mac', ''); 'leakage.sram' -> ('leakage', 'sram')."""
    head, _, last = key.rpartition(".")
    if head and last in ("read", "write"):
        return head, last
    if key.startswith("leakage."):
        return "leakage", last
    return key, ""


def group_of(key):
    return key.split(".")[0]


def color_of(group, fallback):
    return GROUP_COLORS.get(group, fallback)


def layer_energy(layer):
    by = {k: float(v) for k, v in layer.get("energy_by_component", {}).items()}
    return by if by else {"total": float(layer.get("energy_pj", 0.0))}


def network_breakdown(ax, layers, summary):
    """Horizontal bars per component, segments per action, labelled with the share of the total."""
    by = summary.get("energy_by_component") or {}
    if not by:
        by = {}
        for layer in layers:
            for k, v in layer_energy(layer).items():
                by[k] = by.get(k, 0.0) + v
    total = sum(float(v) for v in by.values()) or 1.0
    components = {}
    for key, value in by.items():
        component, action = split_key(key)
        components.setdefault(component, {})[action or "-"] = float(value)
    order = sorted(components, key=lambda c: sum(components[c].values()))
    factor, label = common.unit("energy_pj", [sum(a.values()) for a in components.values()])
    hatches = {"read": "", "write": "//", "-": ""}
    seen = set()
    for y, component in enumerate(order):
        left = 0.0
        for action, value in sorted(components[component].items()):
            if value <= 0:
                continue
            if action in ("read", "write"):
                seen.add(action)
            ax.barh(y, value * factor, left=left, color=color_of(group_of(component), "tab:brown"),
                    hatch=hatches.get(action, "..") if component != "leakage" else "", edgecolor="white")
            left += value * factor
        share = 100.0 * sum(components[component].values()) / total
        detail = ", ".join(f"{a} {100.0 * v / total:.1f}%" for a, v in sorted(components[component].items())
                           if a != "-" and v > 0)
        ax.text(left, y, f" {share:.1f}%" + (f" ({detail})" if detail and len(components[component]) > 1 else ""),
                va="center", fontsize=7)
    ax.set_yticks(range(len(order)), order, fontsize=8)
    ax.set_xlabel(label)
    ax.set_xlim(0, max((sum(components[c].values()) for c in order), default=1) * factor * 1.45)
    ax.grid(True, axis="x", alpha=0.3)
    if seen:  # the action is the hatch, whatever the component's colour
        ax.legend(handles=[Patch(facecolor="0.8", edgecolor="white", hatch=hatches[a], label=a) for a in sorted(seen)],
                  fontsize=7, loc="lower right", title="action", title_fontsize=7)
    total_factor, total_label = common.unit("energy_pj", [total])
    ax.set_title(f"whole network: energy by component and action, total {total * total_factor:.4g} "
                 f"{total_label.split('(')[-1].rstrip(')')}", fontsize=9)


def by_kind(ax, layers):
    """Energy per layer kind split by component group; the cycle share beside each bar."""
    kinds, cycles = {}, {}
    for layer in layers:
        kind = layer.get("kind", "?") if not layer.get("fused_into") else "fused " + layer.get("kind", "?")
        cycles[kind] = cycles.get(kind, 0.0) + float(layer["cycles"])
        groups = kinds.setdefault(kind, {})
        for key, value in layer_energy(layer).items():
            groups[group_of(key)] = groups.get(group_of(key), 0.0) + value
    order = sorted(kinds, key=lambda k: sum(kinds[k].values()))
    totals = [sum(kinds[k].values()) for k in order]
    factor, label = common.unit("energy_pj", totals)
    all_groups = sorted({g for k in kinds.values() for g, v in k.items() if v > 0})
    total_cycles = sum(cycles.values()) or 1.0
    for gi, group in enumerate(all_groups):
        left = [sum(kinds[k].get(g, 0.0) for g in all_groups[:gi]) * factor for k in order]
        ax.barh(range(len(order)), [kinds[k].get(group, 0.0) * factor for k in order], left=left,
                color=color_of(group, plt.cm.tab20.colors[gi % 20]), label=group)
    for y, (k, t) in enumerate(zip(order, totals)):
        n = sum(1 for layer in layers if (layer.get("kind", "?") == k or "fused " + layer.get("kind", "?") == k))
        ax.text(t * factor, y, f" {n} layer{'s' if n != 1 else ''}, {100.0 * cycles[k] / total_cycles:.1f}% of cycles", va="center",
                fontsize=7)
    ax.set_yticks(range(len(order)), order, fontsize=8)
    ax.set_xlabel(label)
    ax.set_xlim(0, max(totals, default=1) * factor * 1.6)
    ax.grid(True, axis="x", alpha=0.3)
    ax.legend(fontsize=7, loc="lower right", title="component", title_fontsize=7)
    ax.set_title("energy by layer kind (and share of cycles)", fontsize=9)


def top_layers(ax, layers, top, values_of, series, metric, title):
    """Horizontal stacked bars for the top-N layers by the sum of their series, then 'other'."""
    rows = [(layer["name"], values_of(layer)) for layer in layers if not layer.get("fused_into")]
    rows.sort(key=lambda r: sum(r[1].values()), reverse=True)
    keep = top if len(rows) > top + 1 else len(rows)  # "other 1 layers" would hide a name for nothing
    shown, rest = rows[:keep], rows[keep:]
    if rest:
        other = {}
        for _, values in rest:
            for k, v in values.items():
                other[k] = other.get(k, 0.0) + v
        shown.append((f"other {len(rest)} layers", other))
    shown.reverse()  # the largest at the top
    totals = [sum(v.values()) for _, v in shown]
    factor, label = common.unit(metric, totals)
    for si, (name, color) in enumerate(series):
        left = [sum(v.get(s, 0.0) for s, _ in series[:si]) * factor for _, v in shown]
        values = [v.get(name, 0.0) * factor for _, v in shown]
        if any(values):
            ax.barh(range(len(shown)), values, left=left, color=color, label=name)
    names = [n if len(n) <= 48 else "…" + n[-47:] for n, _ in shown]  # the end tells ONNX names apart
    ax.set_yticks(range(len(shown)), names, fontsize=7)
    ax.set_xlabel(label)
    ax.grid(True, axis="x", alpha=0.3)
    ax.legend(fontsize=7, loc="center right")
    ax.set_title(title, fontsize=9)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("report", help="report JSON of `tessera simulate --out`")
    parser.add_argument("--top", type=int, default=15, help="layers shown by name in panels 3 and 4 (default 15)")
    common.add_out_argument(parser)
    args = parser.parse_args()
    if args.top < 1:
        raise InputError(f"--top {args.top}: must be at least 1")

    doc = read_report(args.report)
    layers, summary, run = doc["layers"], doc.get("summary", {}), doc.get("run", {})
    groups = sorted({group_of(k) for layer in layers for k in layer_energy(layer)})

    fig, axes = plt.subplots(2, 2, figsize=(16, 11))
    network_breakdown(axes[0][0], layers, summary)
    by_kind(axes[0][1], layers)

    def cycles_of(layer):  # the bar is the layer's cycles: stalls and the rest
        stall = float(layer.get("stall_cycles", 0.0))
        return {"compute": float(layer["cycles"]) - stall, "stall": stall}

    def energy_groups(layer):
        out = {}
        for k, v in layer_energy(layer).items():
            out[group_of(k)] = out.get(group_of(k), 0.0) + v
        return out

    n = sum(1 for layer in layers if not layer.get("fused_into"))
    shown = f"top {args.top} of {n} layers" if n > args.top + 1 else f"all {n} layers"
    top_layers(axes[1][0], layers, args.top, cycles_of, [("compute", "tab:blue"), ("stall", "tab:orange")], "cycles",
               f"{shown} by cycles")
    top_layers(axes[1][1], layers, args.top, energy_groups,
               [(g, color_of(g, plt.cm.tab20.colors[i % 20])) for i, g in enumerate(groups)], "energy_pj",
               f"{shown} by energy")
    fig.suptitle(f"{summary.get('workload', '?')} on {summary.get('arch', '?')} ({summary.get('engine', '?')} engine, "
                 f"{run.get('fidelity', '?')})", fontsize=11)
    fig.tight_layout()
    common.save(fig, args.out)


if __name__ == "__main__":
    common.main_wrapper(main)
