#!/usr/bin/env python3
"""Reference latencies of Dysta's Eyeriss-v2 model (tests/data/dysta/README.md).

Runs the artefact's own simulator, hw_simulator/cnn_eyerissv2/hw_eyerissv2.py of
SamsungLabs/Sparse-Multi-DNN-Scheduling (commit b9f1913), unchanged, on the convolution and
fully connected layers of ResNet-50, VGG-16 and MobileNet-v1 with weight masks following the
artefact's own SparseML pruning recipes (per layer: final sparsity and mask type) and synthetic
activation masks. The masks come from a counter-based hash (splitmix64) that Tessera's
arch/sparse/masks.cpp implements identically, so the test regenerates the same masks in C++.

Trained weights and data sets are not at hand: masks are drawn at the recipe's sparsity with
its mask type (unstructured, block4, filter) rather than by magnitude of trained weights.

Usage: make_reference.py --artefact DIR --out reference.csv
  DIR: a checkout of Sparse-Multi-DNN-Scheduling (needs torch; nothing else of the artefact's
       requirements: data_util, imported by hw_eyerissv2 for its self-test only, is stubbed).
"""
import argparse
import re
import sys
import types
from pathlib import Path

import numpy as np
import torch

M64 = (1 << 64) - 1


def splitmix(seed, index):
    """Tessera's mask hash: splitmix64 of seed + (index + 1) * golden, as uint64 arrays."""
    with np.errstate(over="ignore"):
        z = np.uint64(seed & M64) + (index.astype(np.uint64) + np.uint64(1)) * np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return z


def keep(seed, index, density):
    """index kept with probability density: (hash >> 11) < density * 2^53."""
    threshold = np.uint64(int(density * 9007199254740992.0))
    return (splitmix(seed, index) >> np.uint64(11)) < threshold


def weight_mask(shape, pattern, density, seed):
    """[K][Cg][R][S] (conv) or [K][C] (fc) mask, as Tessera's masks.cpp (patterns uniform,
    block (4 consecutive input channels at one k, r, s), filter (whole output channels)).
    Drawn 64 filters at a time to bound memory."""
    k_, cg = shape[0], shape[1]
    r_, s_ = (shape[2], shape[3]) if len(shape) == 4 else (1, 1)
    if density >= 1.0:
        return np.ones(shape, dtype=bool)
    out = np.empty((k_, cg, r_, s_), dtype=bool)
    c, r, s = np.ogrid[0:cg, 0:r_, 0:s_]
    for k0 in range(0, k_, 64):
        k = np.arange(k0, min(k_, k0 + 64)).reshape(-1, 1, 1, 1)
        if pattern == "uniform":
            idx = ((k * cg + c) * r_ + r) * s_ + s
        elif pattern == "block":
            blocks = (cg + 3) // 4
            idx = ((k * blocks + c // 4) * r_ + r) * s_ + s
        elif pattern == "filter":
            idx = k + 0 * (c + r + s)
        else:
            raise ValueError(pattern)
        out[k0:k0 + 64] = keep(seed, idx, density)
    return out.reshape(shape)


def act_mask(shape, density, seed):
    n = int(np.prod(shape))
    if density >= 1.0:
        return np.ones(shape, dtype=bool)
    return keep(seed, np.arange(n), density).reshape(shape)


# Layers: (sparseml name, type, C in, H in, K out, R, groups). Dysta's model ignores strides.
def resnet50():
    L = [("input.conv", "CONV", 3, 224, 64, 7, 1)]
    h, cin = 56, 64
    for s, (blocks, mid) in enumerate([(3, 64), (4, 128), (6, 256), (3, 512)]):
        out = mid * 4
        for b in range(blocks):
            p = f"sections.{s}.{b}"
            L.append((p + ".conv1", "CONV", cin, h, mid, 1, 1))
            L.append((p + ".conv2", "CONV", mid, h, mid, 3, 1))
            h2 = h // 2 if (b == 0 and s > 0) else h
            L.append((p + ".conv3", "CONV", mid, h2, out, 1, 1))
            if b == 0:
                L.append((p + ".identity.conv", "CONV", cin, h, out, 1, 1))
            cin, h = out, h2
    L.append(("classifier.fc", "FC", 2048, 1, 1000, 1, 1))
    return L


def vgg16():
    L, cin, h = [], 3, 224
    for s, (n, k) in enumerate([(2, 64), (2, 128), (3, 256), (3, 512), (3, 512)]):
        for j in range(n):
            L.append((f"sections.{s}.{j}.conv", "CONV", cin, h, k, 3, 1))
            cin = k
        h //= 2
    for name, c, k in [("classifier.mlp.0", 25088, 4096), ("classifier.mlp.3", 4096, 4096),
                       ("classifier.mlp.6", 4096, 1000)]:
        L.append((name, "FC", c, 1, k, 1, 1))
    return L


def mobilenet():
    L = [("input.conv", "CONV", 3, 224, 32, 3, 1)]
    cin, h = 32, 112
    for s, blocks in enumerate([[(64, 1)], [(128, 2), (128, 1)], [(256, 2), (256, 1)],
                                [(512, 2)] + [(512, 1)] * 5, [(1024, 2), (1024, 1)]]):
        for b, (k, stride) in enumerate(blocks):
            p = f"sections.{s}.{b}"
            L.append((p + ".depth.conv", "CONV", cin, h, cin, 3, cin))
            h //= stride
            L.append((p + ".point.conv", "CONV", cin, h, k, 1, 1))
            cin = k
    L.append(("classifier.fc", "FC", 1024, 1, 1000, 1, 1))
    return L


NETWORKS = {"resnet50": ("resnet50", resnet50), "vgg16": ("vgg", vgg16), "mobilenet": ("mobilenet", mobilenet)}
RECIPES = {"resnet50": ["resnet50_unstructured_sparse20", "resnet50_unstructured_sparse60",
                        "resnet50_filter_sparse20", "resnet50_block4_sparse20", "resnet50_block4_sparse60"],
           "vgg16": ["vgg16_unstructured_sparse20", "vgg16_unstructured_sparse60", "vgg16_filter_sparse20",
                     "vgg16_blcok4_sparse20", "vgg16_blcok4_sparse60"],
           "mobilenet": ["mobilenet_unstructured_sparse20", "mobilenet_unstructured_sparse60",
                         "mobilenet_filter_sparse20", "mobilenet_block4_sparse20", "mobilenet_block4_sparse60"]}


def parse_recipe(text):
    """{layer: (sparsity, mask type)} from a SparseML recipe: anchors, then each pruning
    modifier's params, final_sparsity and mask_type (a small reader for these files only)."""
    anchors = {m.group(1): m.group(2) for m in re.finditer(r"&(\w+)\s+([^\s#]+)", text)}
    def value(v):
        v = v.strip()
        return anchors[v[1:]] if v.startswith("*") else v
    out = {}
    for block in re.split(r"\n\s*- !", text)[1:]:
        if not block.startswith(("GMPruningModifier", "StructuredPruningModifier")):
            continue
        fs = re.search(r"final_sparsity:\s*(\S+)", block)
        mt = re.search(r"mask_type:\s*(\S+)", block)
        params = re.findall(r"['\s-]\s*'?([\w.]+)\.weight", block)
        sparsity = float(value(fs.group(1)))
        mask = value(mt.group(1)) if mt else "unstructured"
        for p in params:
            out[p] = (sparsity, mask)
    return out


PATTERN = {"unstructured": "uniform", "block4": "block", "filter": "filter"}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--artefact", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    art = Path(args.artefact)
    sim_dir = art / "hw_simulator" / "cnn_eyerissv2"
    sys.modules["data_util"] = types.SimpleNamespace(create_sparse_tensor=None)  # self-test only
    sys.path.insert(0, str(sim_dir))
    from hw_eyerissv2 import EyerissV2  # the artefact's model, unchanged

    rows = []
    for net, (folder, layers_of) in NETWORKS.items():
        for ri, recipe in enumerate(RECIPES[net]):
            spec = parse_recipe((sim_dir / "sparseml" / "recipes_models" / folder / (recipe + ".md")).read_text())
            for li, (name, kind, c, h, k, r, groups) in enumerate(layers_of()):
                sparsity, mtype = spec.get(name, (0.0, "unstructured"))
                pattern = PATTERN[mtype]
                wd = 1.0 - sparsity
                ws = 100000 * ri + 2 * li + 1
                ad = 1.0 if li == 0 else 0.5
                as_ = ws + 1
                wshape = (k, c // groups, r, r) if kind == "CONV" else (k, c)
                ishape = (1, c, h, h) if kind == "CONV" else (1, c)
                w = torch.from_numpy(weight_mask(wshape, pattern, wd, ws).astype(np.float32))
                i = torch.from_numpy(act_mask(ishape, ad, as_).astype(np.float32))
                if kind == "CONV":
                    exact = torch.nn.functional.conv2d(i.double(), w.double(), padding="same", groups=groups).sum()
                else:
                    exact = torch.nn.functional.linear(i.double(), w.double()).sum()
                cycles = EyerissV2().simulate(i, w, kind, groups)
                rows.append((net, recipe, name, kind, c, h, k, r, groups, pattern, repr(wd), ws, repr(ad), as_,
                             int(cycles), int(exact.item())))
            print(net, recipe, "done", file=sys.stderr)
    with open(args.out, "w") as f:
        f.write("network,recipe,layer,type,c,h,k,r,groups,weight_pattern,weight_density,weight_seed,"
                "activation_density,activation_seed,cycles,valid_mac_exact\n")
        for row in rows:
            f.write(",".join(str(x) for x in row) + "\n")


if __name__ == "__main__":
    main()
