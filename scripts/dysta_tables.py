#!/usr/bin/env python3
"""Workloads and latency tables of the Dysta multi-DNN scenarios (docs/serving.md, "Models as
workloads"; docs/validation.md).

CNN: every convolution and linear layer of ResNet-50, VGG-16 and MobileNet-v1 under SparseML
recipes of Dysta's artefact (unstructured 60 %, block4 60 %, filter 20 %), with the shapes and
per-layer weight densities of tests/data/dysta/reference.csv, written as JSON workloads
(configs/workloads/dysta/); inputs at density 0.5 except the image (dense).

Attention: BART-base as Sanger's configs/bart_base_sanger.json describes it (6 encoder and 6
decoder layers, d 768, 12 heads, FFN 3072), written as a JSON workload with the transformer
front-end's operator names (BERT-base and GPT-2 come from configs/models/ directly).

Then each scenario's tables are computed by Tessera (`tessera serve SCENARIO --tables CSV`): the
scenarios that name the workloads (…_workloads.json) vary each sample's activation densities and
simulate every sample on their engine config.

    scripts/dysta_tables.py --tessera build/ci/cli/tessera
"""
import argparse
import csv
import json
import os
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RECIPES = ["unstructured_sparse60", "4_sparse60", "filter_sparse20"]


def model_name(net, recipe):
    short = recipe[len(net) + 1:].replace("blcok4", "block4").replace("_sparse", "_")
    return f"{net}_{short}"


def write(path, doc):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(json.dumps(doc, indent=1) + "\n")


def cnn_workloads():
    rows = list(csv.DictReader(open(os.path.join(ROOT, "tests/data/dysta/reference.csv"))))
    models = {}
    for r in rows:
        if any(k in r["recipe"] for k in RECIPES):
            models.setdefault((r["network"], r["recipe"]), []).append(r)
    for (net, recipe), layers in models.items():
        ops = []
        for i, l in enumerate(layers):
            density = {"weight": float(l["weight_density"]), "activation": 1.0 if i == 0 else 0.5}
            c, k = int(l["c"]), int(l["k"])
            if l["type"] == "FC":
                ops.append({"name": f"l{i}", "kind": "matmul", "shape": {"m": 1, "k": c, "n": k},
                            "density": density})
            else:
                h, r = int(l["h"]), int(l["r"])
                shape = {"c": c, "h": h, "w": h, "k": k, "r": r, "s": r, "padding": (r - 1) // 2,
                         "groups": int(l["groups"])}
                ops.append({"name": f"l{i}", "kind": "conv", "shape": shape, "density": density})
        name = model_name(net, recipe)
        write(os.path.join(ROOT, "configs/workloads/dysta", name + ".json"),
              {"format": "tessera.workload", "version": 1, "name": name, "operators": ops})


def bart_base(seq=128, d=768, heads=12, ffn=3072, enc=6, dec=6):
    ops = []
    dh = d // heads
    rows = seq * d

    def add(name, kind, shape, inputs=None):
        op = {"name": name, "kind": kind, "shape": shape}
        if inputs:
            op["inputs"] = inputs
        ops.append(op)
        return name

    def attention(p, x, kv):
        q = add(f"{p}.q_proj", "matmul", {"m": seq, "k": d, "n": d, "bias": True}, [x])
        k = add(f"{p}.k_proj", "matmul", {"m": seq, "k": d, "n": d, "bias": True}, [kv])
        v = add(f"{p}.v_proj", "matmul", {"m": seq, "k": d, "n": d, "bias": True}, [kv])
        s = add(f"{p}.scores", "matmul", {"batch": heads, "m": seq, "k": dh, "n": seq, "b_is_weight": False}, [q, k])
        sm = add(f"{p}.softmax", "softmax", {"rows": heads * seq, "cols": seq}, [s])
        c = add(f"{p}.context", "matmul", {"batch": heads, "m": seq, "k": seq, "n": dh, "b_is_weight": False}, [sm, v])
        return add(f"{p}.o_proj", "matmul", {"m": seq, "k": d, "n": d, "bias": True}, [c])

    def residual_norm(p, a, b):
        r = add(f"{p}_residual", "elementwise", {"function": "add", "elements": rows, "inputs": 2}, [a, b])
        return add(f"{p}_norm", "norm", {"type": "layer", "elements": rows, "channels": d}, [r])

    def mlp(p, x):
        u = add(f"{p}.mlp.up_proj", "matmul", {"m": seq, "k": d, "n": ffn, "bias": True}, [x])
        g = add(f"{p}.mlp.act", "elementwise", {"function": "gelu", "elements": seq * ffn}, [u])
        o = add(f"{p}.mlp.down_proj", "matmul", {"m": seq, "k": ffn, "n": d, "bias": True}, [g])
        return residual_norm(f"{p}.mlp", o, x)

    x = add("embed.norm", "norm", {"type": "layer", "elements": rows, "channels": d})
    for i in range(enc):
        p = f"layers.{i}"
        x = mlp(p, residual_norm(f"{p}.attn", attention(f"{p}.attn", x, x), x))
    memory = x
    y = add("decoder_embed.norm", "norm", {"type": "layer", "elements": rows, "channels": d})
    for i in range(enc, enc + dec):
        p = f"layers.{i}"
        y = residual_norm(f"{p}.attn", attention(f"{p}.attn", y, y), y)
        y = residual_norm(f"{p}.cross_attn", attention(f"{p}.cross_attn", y, memory), y)
        y = mlp(p, y)
    write(os.path.join(ROOT, "configs/workloads/dysta/bart_base_128.json"),
          {"format": "tessera.workload", "version": 1, "name": "bart_base_128",
           "defaults": {"precision": {"weight_bits": 16, "activation_bits": 16}}, "operators": ops})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tessera", required=True)
    args = ap.parse_args()
    cnn_workloads()
    bart_base()
    for scenario, table in [("dysta_cnn_eyeriss_v2_workloads.json", "dysta_cnn/tables.csv"),
                            ("dysta_attn_sanger_like_workloads.json", "dysta_attn/tables.csv")]:
        out = os.path.join(ROOT, "configs/scenarios", table)
        os.makedirs(os.path.dirname(out), exist_ok=True)
        subprocess.run([args.tessera, "serve", os.path.join(ROOT, "configs/scenarios", scenario),
                        "--tables", out, "--quiet"], check=True)
        print(out, "written", flush=True)


if __name__ == "__main__":
    main()
