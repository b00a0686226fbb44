#!/usr/bin/python3
"""The butterfly engine beside its artefact, for docs/validation.md ("Butterfly accelerator
against its artefact").

  scripts/butterfly_validation.py [--tessera build/ci/tessera] [--out DIR]

Runs `tessera simulate` (analytical) on FABNet-Base and -Large at L = 128 ... 1024 on both shipped
boards, in reference and native mode, and dense BERT on the board's ideal roofline
(configs/arch/ideal_*.json); prints the markdown tables of docs/validation.md: reference mode
against the artefact's latencies (tests/data/butterfly_acc/latency.csv), native mode beside it
operator group by operator group, and dense BERT beside FABNet.
"""
import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BOARDS = {"vcu128": ("VCU128 (P_BE 120)", "configs/arch/butterfly_vcu128.json", "configs/arch/ideal_vcu128.json"),
          "zynq7045": ("Zynq 7045 (P_BE 20)", "configs/arch/butterfly_zynq7045.json", "configs/arch/ideal_zynq7045.json")}
MODELS = {"base": ("FABNet-Base", "configs/models/fabnet-base.json", "configs/models/bert-base-uncased.json"),
          "large": ("FABNet-Large", "configs/models/fabnet-large.json", "configs/models/bert-large-uncased.json")}
LENGTHS = [128, 256, 512, 768, 1024]


def simulate(tessera, out_dir, arch, workload, seq_len, sets=()):
    out = os.path.join(out_dir, "r.json")
    cmd = [tessera, "simulate", "--arch", os.path.join(ROOT, arch), "--workload", os.path.join(ROOT, workload),
           "--seq-len", str(seq_len), "--quiet", "--out", out]
    for s in sets:
        cmd += ["--set", s]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    with open(out) as f:
        return json.load(f)


def group(name, kind):
    """Operator group of a FABNet layer for the term-by-term table."""
    if kind == "fft":
        return "mixer"
    if name.endswith("ffn.in"):
        return "ffn.in"
    if name.endswith("ffn.out"):
        return "ffn.out"
    return "vector"


def groups(report):
    """Cycles by operator group: the layers' cycles (reference mode), or their MAC cycles, the
    vector unit's cycles (GELU, LayerNorm, shortcuts; fused ones overlap their layer's MACs) and
    the stalls (native mode)."""
    g = {"mixer": 0, "ffn.in": 0, "ffn.out": 0, "vector": 0, "stall": 0, "cycles": 0}
    for l in report["layers"]:
        k = group(l["name"], l.get("kind", ""))
        g["cycles"] += l["cycles"]
        g["stall"] += l["stall_cycles"]
        g["vector"] += l.get("vector_cycles", 0)
        if k != "vector":
            g[k] += l.get("mac_cycles", 0) if l.get("mac_cycles") else l["cycles"]
    return g


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tessera", default=os.path.join(ROOT, "build/ci/tessera"))
    args = parser.parse_args()
    artefact = {}
    with open(os.path.join(ROOT, "tests/data/butterfly_acc/latency.csv")) as f:
        for r in csv.DictReader(f):
            if (r["board"] == "vcu128" and r["p_be"] == "120" or r["board"] == "zynq7045" and r["p_be"] == "20") \
                    and r["p_bu"] == "4":
                artefact[(r["board"], r["version"], int(r["seq_len"]))] = r
    ref_rows, native_rows, dense_rows = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for board, (board_name, arch, ideal) in BOARDS.items():
            for version, (model_name, model, bert) in MODELS.items():
                for L in LENGTHS:
                    a = artefact[(board, version, L)]
                    ref = simulate(args.tessera, tmp, arch, model, L, ["butterfly.mode=reference"])
                    nat = simulate(args.tessera, tmp, arch, model, L)
                    clock = ref["summary"]["clock_hz"]
                    ms_art = float(a["latency_ms"])
                    ms_ref = ref["summary"]["latency_s"] * 1e3
                    ms_nat = nat["summary"]["latency_s"] * 1e3
                    ref_rows.append(f"| {board_name} | {model_name} | {L} | {ms_art:.4f} | {ms_ref:.4f} | "
                                    f"{100 * (ms_ref / ms_art - 1):+.4f} % |")
                    layers = int(a["layers"])
                    gr, gn = groups(ref), groups(nat)
                    per = lambda g, k: g[k] / layers / clock * 1e6  # µs per layer
                    native_rows.append(
                        f"| {board_name} | {model_name} | {L} | {ms_ref:.3f} | {ms_nat:.3f} | "
                        f"{per(gr, 'mixer'):.1f} / {per(gn, 'mixer'):.1f} | "
                        f"{per(gr, 'ffn.in'):.1f} / {per(gn, 'ffn.in'):.1f} | "
                        f"{per(gr, 'ffn.out'):.1f} / {per(gn, 'ffn.out'):.1f} | "
                        f"{per(gn, 'vector'):.1f} | {per(gn, 'stall'):.1f} |")
                    if L <= 512:  # BERT's position embeddings
                        dense = simulate(args.tessera, tmp, ideal, bert, L)
                        ms_dense = dense["summary"]["latency_s"] * 1e3
                        dense_rows.append(f"| {board_name} | {model_name.replace('FABNet', 'BERT')} | {L} | "
                                          f"{ms_dense:.3f} | {ms_nat:.3f} | {ms_ref:.3f} | "
                                          f"{ms_dense / ms_nat:.1f}x | {ms_dense / ms_ref:.1f}x |")
    print("| board | model | L | artefact ms | Tessera reference mode ms | difference |")
    print("|---|---|---|---|---|---|")
    print("\n".join(ref_rows))
    print()
    print("| board | model | L | reference ms | native ms | FFT mixer µs/layer (ref / native MAC) | "
          "ffn.in (ref / native MAC) | ffn.out (ref / native MAC) | native vector unit: GELU, "
          "LayerNorm, shortcuts | native stalls |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    print("\n".join(native_rows))
    print()
    print("| board | dense model | L | dense BERT on the board's roofline ms | FABNet native ms | "
          "FABNet reference ms | speed-up (native) | speed-up (reference) |")
    print("|---|---|---|---|---|---|---|---|")
    print("\n".join(dense_rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
