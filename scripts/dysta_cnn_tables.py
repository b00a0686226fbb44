#!/usr/bin/env python3
"""Latency tables of sparse CNNs on Tessera's Eyeriss-v2-like sparse engine in Dysta's reference
mode (sparse.mode=dysta), for multi-DNN scheduling scenarios (docs/serving.md).

Networks and recipes: every convolution and linear layer of ResNet-50, VGG-16 and MobileNet-v1
under SparseML recipes of Dysta's artefact (by default unstructured 60 %, block4 60 %,
filter 20 %), as tests/data/dysta/reference.csv lists them
(shapes, per-layer weight density and mask type). A sample is one input: its activations' density
per layer is the reference's 0.5 scaled by a per-sample factor in [0.6, 1.4] and a per-layer
factor in [0.85, 1.15] (the image itself is dense); the weights are the same for every sample.
Each (model, sample) is one `tessera simulate` run; the table holds each layer's latency and its
input's sparsity.

    scripts/dysta_cnn_tables.py --tessera build/ci/cli/tessera --samples 8 \
        --out configs/scenarios/dysta_cnn/tables.csv
"""
import argparse
import csv
import json
import os
import random
import subprocess
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def model_name(net, recipe):
    short = recipe[len(net) + 1:].replace("blcok4", "block4").replace("_sparse", "_")
    return f"{net}_{short}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tessera", required=True)
    ap.add_argument("--samples", type=int, default=8)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--recipes", nargs="+", default=["unstructured_sparse60", "4_sparse60", "filter_sparse20"],
                    help="recipes whose name contains one of these")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    rows = list(csv.DictReader(open(os.path.join(ROOT, "tests/data/dysta/reference.csv"))))
    models = {}
    for r in rows:
        if not any(k in r["recipe"] for k in args.recipes):
            continue
        models.setdefault((r["network"], r["recipe"]), []).append(r)
    rng = random.Random(args.seed)
    tmp = tempfile.mkdtemp(prefix="dysta_cnn_")
    with open(args.out, "w") as out:
        out.write("model,sample,layer,latency_s,sparsity\n")
        for (net, recipe), layers in models.items():
            patterns = {l["weight_pattern"] for l in layers if float(l["weight_density"]) < 1}
            pattern = patterns.pop() if patterns else "uniform"
            name = model_name(net, recipe)
            for s in range(args.samples):
                factor = rng.uniform(0.6, 1.4)
                ops, sparsity = [], []
                for i, l in enumerate(layers):
                    ad = 1.0 if i == 0 else min(1.0, max(0.05, 0.5 * factor * rng.uniform(0.85, 1.15)))
                    sparsity.append(1 - ad)
                    c, k = int(l["c"]), int(l["k"])
                    density = {"weight": float(l["weight_density"]), "activation": ad}
                    if l["type"] == "FC":
                        shape = {"m": 1, "k": c, "n": k}
                        ops.append({"name": f"l{i}", "kind": "matmul", "shape": shape, "density": density})
                    else:
                        h, rr = int(l["h"]), int(l["r"])
                        shape = {"c": c, "h": h, "w": h, "k": k, "r": rr, "s": rr, "padding": (rr - 1) // 2,
                                 "groups": int(l["groups"])}
                        ops.append({"name": f"l{i}", "kind": "conv", "shape": shape, "density": density})
                w = os.path.join(tmp, "w.json")
                json.dump({"format": "tessera.workload", "version": 1, "name": name, "operators": ops},
                          open(w, "w"))
                rep = os.path.join(tmp, "r.json")
                subprocess.run([args.tessera, "simulate", "--arch", os.path.join(ROOT, "configs/arch/eyeriss_v2.json"),
                                "--workload", w, "--set", "sparse.mode=dysta", "--set",
                                f"sparse.weight_pattern={pattern}", "--out", rep, "--quiet"], check=True)
                lat = [l["latency_s"] for l in json.load(open(rep))["layers"]]
                assert len(lat) == len(layers)
                for i, (t, sp) in enumerate(zip(lat, sparsity)):
                    out.write(f"{name},{s},{i},{t!r},{sp!r}\n")
            print(name, "done", flush=True)


if __name__ == "__main__":
    main()
