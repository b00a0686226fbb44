#!/usr/bin/python3
"""Achieved DRAM bandwidth and row-buffer hit rate per layer with the detailed DRAM model, for each
preset x dataflow of a systolic config, from `tessera simulate` runs at both fidelities.

  scripts/dram_layers.py --tessera build/ci/cli/tessera --out PREFIX
      [--arch configs/arch/systolic_edge_32x32.json]
      [--workload configs/workloads/resnet50_scalesim.csv --workload configs/workloads/bert_base_layer.json]
      [--preset ddr4_3200 --preset hbm2_2000] [--dataflow os --dataflow ws --dataflow is]
      [--mapping mapper|fixed]

Writes PREFIX.md (one table per workload x preset: per dataflow the whole network's bytes,
SystemC cycles, achieved GB/s and its fraction of the channel's peak, the row-buffer hit rate,
and the analytical fidelity's difference in cycles; then per layer for the first dataflow) and
PREFIX.png / PREFIX.svg (achieved bandwidth per layer, one panel per workload x preset, one line
per dataflow). Achieved bandwidth is the layer's DRAM bytes over its SystemC time; the hit rate
is the report's `dram_stats.<channel>.row_hit_rate` where the report has it.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import tessera_plot_common as common
from tessera_plot_common import InputError, plt

PEAK_GB_S = {"ddr4_3200": 25.6, "lpddr4x_4266": 8.533, "lpddr5_6400": 12.8, "hbm2_2000": 16.0}


def run(tessera, arch, workload, preset, dataflow, mapping, fidelity, out):
    dram = {"model": "detailed", "preset": preset, "channels": "shared"}
    cmd = [tessera, "simulate", "--arch", arch, "--workload", workload, "--fidelity", fidelity,
           "--set", "dram=" + json.dumps(dram), "--set", "systolic.dataflow=" + dataflow,
           "--set", "systolic.mapping=" + mapping, "--out", out, "--quiet"]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise InputError(f"{' '.join(cmd)}: {p.stderr.strip()}")
    return common.read_json(out)


def dram_bytes(layer):
    total = 0
    for key, acc in (layer.get("accesses") or {}).items():
        if key == "dram" or key.startswith("dram."):
            total += int(acc.get("read_bytes", 0)) + int(acc.get("write_bytes", 0))
    return total


def hit_rate(layer):
    """Hits over accesses summed over the detailed channels, or None without the statistics."""
    metrics = layer.get("metrics") or {}
    hits = sum(v for k, v in metrics.items() if k.startswith("dram_stats.") and k.endswith(".row_hits"))
    misses = sum(v for k, v in metrics.items() if k.startswith("dram_stats.") and
                 (k.endswith(".row_misses") or k.endswith(".row_conflicts")))
    return hits / (hits + misses) if hits + misses > 0 else None


def layers_of(report):
    return [l for l in report["layers"] if not l.get("fused_into") and dram_bytes(l) > 0]


def pct(v):
    return "n/a" if v is None else f"{100 * v:.1f} %"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tessera", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--arch", default="configs/arch/systolic_edge_32x32.json")
    ap.add_argument("--workload", action="append")
    ap.add_argument("--preset", action="append")
    ap.add_argument("--dataflow", action="append")
    ap.add_argument("--mapping", choices=["mapper", "fixed"], default="mapper",
                    help="systolic.mapping: the mapper's tiles or the fixed fold orders")
    a = ap.parse_args()
    workloads = a.workload or ["configs/workloads/resnet50_scalesim.csv", "configs/workloads/bert_base_layer.json"]
    presets = a.preset or ["ddr4_3200", "hbm2_2000"]
    dataflows = a.dataflow or ["os", "ws", "is"]
    for p in presets:
        if p not in PEAK_GB_S:
            raise InputError(f"--preset {p}: one of {', '.join(PEAK_GB_S)}")

    md = ["<!-- scripts/dram_layers.py " + " ".join(sys.argv[1:]) + " -->", ""]
    panels = []
    with tempfile.TemporaryDirectory() as tmp:
        for w in workloads:
            for preset in presets:
                peak = PEAK_GB_S[preset]
                md += [f"#### {os.path.basename(w)} on {preset} ({peak:g} GB/s peak), {os.path.basename(a.arch)}", "",
                       "| dataflow | DRAM MB | SystemC cycles | achieved GB/s | of peak | row hits | analytical - SystemC |",
                       "|---|---|---|---|---|---|---|"]
                lines, first = {}, None
                for df in dataflows:
                    sc = run(a.tessera, a.arch, w, preset, df, a.mapping, "systemc", os.path.join(tmp, "sc.json"))
                    an = run(a.tessera, a.arch, w, preset, df, a.mapping, "analytical", os.path.join(tmp, "an.json"))
                    clock = float(sc["config"]["clock_hz"]) if "clock_hz" in sc.get("config", {}) else None
                    ls, la = layers_of(sc), {l["name"]: l for l in layers_of(an)}
                    clock = clock or float(sc["summary"].get("clock_hz", 0)) or 1e9
                    b = sum(dram_bytes(l) for l in ls)
                    c = sum(int(l["cycles"]) for l in ls)
                    ca = sum(int(la[l["name"]]["cycles"]) for l in ls if l["name"] in la)
                    gbs = b / (c / clock) / 1e9 if c else 0.0
                    hits = [(hit_rate(l), dram_bytes(l)) for l in ls]
                    known = [(h, n) for h, n in hits if h is not None]
                    hr = sum(h * n for h, n in known) / sum(n for _, n in known) if known else None
                    md.append(f"| {df} | {b / 1e6:.1f} | {c} | {gbs:.2f} | {pct(gbs / peak)} | {pct(hr)} | "
                              f"{100 * (ca - c) / c:+.1f} % |")
                    lines[df] = [dram_bytes(l) / (int(l["cycles"]) / clock) / 1e9 for l in ls]
                    if first is None:
                        first = (df, ls, la, clock)
                df, ls, la, clock = first
                md += ["", f"Per layer ({df}):", "",
                       "| layer | DRAM KB | SystemC cycles | achieved GB/s | row hits | analytical - SystemC |",
                       "|---|---|---|---|---|---|"]
                for l in ls:
                    n, c = dram_bytes(l), int(l["cycles"])
                    d = (int(la[l["name"]]["cycles"]) - c) / c if l["name"] in la and c else None
                    md.append(f"| {l['name']} | {n / 1e3:.0f} | {c} | {n / (c / clock) / 1e9:.2f} | "
                              f"{pct(hit_rate(l))} | {'n/a' if d is None else f'{100 * d:+.1f} %'} |")
                md.append("")
                panels.append((f"{os.path.basename(w)}, {preset}", peak, lines))

    with open(a.out + ".md", "w") as f:
        f.write("\n".join(md) + "\n")
    fig, axes = plt.subplots(len(panels), 1, figsize=(11, 3.2 * len(panels)), squeeze=False)
    for ax, (title, peak, lines) in zip(axes[:, 0], panels):
        for df, ys in lines.items():
            ax.plot(range(len(ys)), ys, marker=".", label=df)
        ax.axhline(peak, color="gray", linestyle="--", label="peak")
        ax.set_title(title)
        ax.set_ylabel("achieved GB/s")
        ax.set_xlabel("layer (with DRAM traffic, in order)")
        # Beside the panel, not over its last layers.
        ax.legend(loc="upper left", bbox_to_anchor=(1.005, 1.0), borderaxespad=0, fontsize=8)
    fig.tight_layout()
    for ext in ("png", "svg"):
        fig.savefig(f"{a.out}.{ext}")


if __name__ == "__main__":
    common.main_wrapper(main)
