#!/usr/bin/python3
"""Writes the Bit Fusion benchmarks as Tessera workload JSON (docs/workload-format.md).

Source: data/reference/bitfusion/benchmark_layers.csv (the layers the authors' simulator
times, hsharma35/bitfusion benchmarks.py): per network and variant (wrpn = the paper's evaluated
versions, base = normal width) the convolutions and matrix products with batch, kernel K, output
size O, stride S, channels and the bitwidths of each layer's input activations and weights.
Pooling, concatenation, flattening and residual adds are not simulated by the reference and are
left out; `inputs` follows the data flow through them.

Also writes eyeriss_alexnet_conv_b4.json: AlexNet's five convolutions at batch 4 and 16 bits, the
workload of Eyeriss's published per-layer figures (Chen et al., JSSC 2017, Table V).

Usage: scripts/make_bitfusion_workloads.py [REFERENCE_CSV] [OUT_DIR]
"""
import csv
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CSV = os.path.join(ROOT, "data", "reference", "bitfusion", "benchmark_layers.csv")
OUT = os.path.join(ROOT, "configs", "workloads", "bitfusion")

FILE_NAMES = {"AlexNet": "alexnet", "SVHN": "svhn", "CIFAR10": "cifar10", "LeNet-5": "lenet5",
              "VGG-7": "vgg7", "RESNET-18": "resnet18", "RNN": "rnn", "LSTM": "lstm"}

# Data flow of the two-branch networks (benchmarks.py): AlexNet's conv3 and fc1 read the
# concatenation of both branches; VGG-7's fc1 the sum of both branches.
BRANCH_INPUTS = {
    "AlexNet": {"conv1_a": [], "conv1_b": [], "conv2_a": ["conv1_a"], "conv2_b": ["conv1_b"],
                "conv3_a": ["conv2_a", "conv2_b"], "conv3_b": ["conv2_a", "conv2_b"],
                "conv4_a": ["conv3_a"], "conv4_b": ["conv3_b"], "conv5_a": ["conv4_a"],
                "conv5_b": ["conv4_b"], "fc1": ["conv5_a", "conv5_b"], "fc2": ["fc1"],
                "fc3": ["fc2"]},
    "VGG-7": {"conv1_a": [], "conv1_b": [], "conv2_a": ["conv1_a"], "conv2_b": ["conv1_b"],
              "conv3_a": ["conv2_a"], "conv3_b": ["conv2_b"], "fc1": ["conv3_a", "conv3_b"]},
}


def conv_out(h, k, s, pad_total):
    return (h + pad_total - k) // s + 1


def conv_shape(network, name, n, k, o, s, ic, oc):
    """Input size and padding that give output size o: TensorFlow SAME (input = o·stride, the
    odd pad at the bottom/right), except AlexNet's conv1, which is VALID on 227×227."""
    if network == "AlexNet" and name.startswith("conv1"):
        h, top, bottom = (o - 1) * s + k, 0, 0
    else:
        h = o * s
        total = max(0, (o - 1) * s + k - h)
        top, bottom = total // 2, total - total // 2
    assert conv_out(h, k, s, top + bottom) == o, (network, name)
    shape = {"n": n, "c": ic, "h": h, "w": h, "k": oc, "r": k, "s": k}
    if s != 1:
        shape["stride"] = s
    if top or bottom:
        shape["padding"] = [top, top, bottom, bottom]
    return shape


def workload(variant, network, rows):
    ops = []
    prev = None
    for row in rows:
        name = row["layer"].rsplit("/", 1)[0]
        n, k, o, s = (int(row[x]) for x in ("batch", "K", "O", "S"))
        ic, oc = int(row["IC"]), int(row["OC"])
        if row["op"] == "Convolution":
            op = {"name": name, "kind": "conv", "shape": conv_shape(network, name, n, k, o, s, ic, oc)}
        else:
            assert k == 1 and o == 1 and s == 1
            op = {"name": name, "kind": "matmul", "shape": {"m": n, "k": ic, "n": oc}}
        if network in BRANCH_INPUTS:
            inputs = BRANCH_INPUTS[network][name]
        else:
            inputs = [] if prev is None else [prev]
        if inputs:
            op["inputs"] = inputs
        op["precision"] = {"weight_bits": int(row["wprec"]), "activation_bits": int(row["iprec"])}
        op["source"] = "bitfusion benchmark_layers.csv: {} {} {}".format(variant, network, row["layer"])
        ops.append(op)
        prev = name
    macs = sum(int(r["macs"]) for r in rows)
    return {"format": "tessera.workload", "version": 1,
            "name": "bitfusion-{}-{}".format(variant, FILE_NAMES[network]),
            "operators": ops}, macs


def eyeriss_alexnet():
    """AlexNet CONV1-5 (Krizhevsky et al. 2012, two-group convolutions as one grouped layer),
    batch 4, 16-bit: the layers of Eyeriss's JSSC 2017 Table V."""
    layers = [
        ("conv1", {"n": 4, "c": 3, "h": 227, "w": 227, "k": 96, "r": 11, "s": 11, "stride": 4}, []),
        ("conv2", {"n": 4, "c": 96, "h": 27, "w": 27, "k": 256, "r": 5, "s": 5, "padding": 2,
                   "groups": 2}, ["conv1"]),
        ("conv3", {"n": 4, "c": 256, "h": 13, "w": 13, "k": 384, "r": 3, "s": 3, "padding": 1},
         ["conv2"]),
        ("conv4", {"n": 4, "c": 384, "h": 13, "w": 13, "k": 384, "r": 3, "s": 3, "padding": 1,
                   "groups": 2}, ["conv3"]),
        ("conv5", {"n": 4, "c": 384, "h": 13, "w": 13, "k": 256, "r": 3, "s": 3, "padding": 1,
                   "groups": 2}, ["conv4"]),
    ]
    ops = []
    for name, shape, inputs in layers:
        op = {"name": name, "kind": "conv", "shape": shape,
              "source": "AlexNet {}; Eyeriss JSSC 2017 Table V".format(name.upper())}
        if inputs:
            op["inputs"] = inputs
        ops.append(op)
    return {"format": "tessera.workload", "version": 1, "name": "alexnet-conv-batch4-16bit",
            "defaults": {"precision": {"weight_bits": 16, "activation_bits": 16}},
            "operators": ops}


def write(path, doc):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")


def main():
    csv_path = sys.argv[1] if len(sys.argv) > 1 else CSV
    out = sys.argv[2] if len(sys.argv) > 2 else OUT
    with open(csv_path) as f:
        rows = list(csv.DictReader(f))
    groups = {}
    for r in rows:
        groups.setdefault((r["variant"], r["network"]), []).append(r)
    for (variant, network), layer_rows in groups.items():
        doc, macs = workload(variant, network, layer_rows)
        path = os.path.join(out, variant, FILE_NAMES[network] + ".json")
        write(path, doc)
        print("{}: {} operators, {} MACs".format(os.path.relpath(path, ROOT), len(doc["operators"]), macs))
    write(os.path.join(out, "eyeriss_alexnet_conv_b4.json"), eyeriss_alexnet())


if __name__ == "__main__":
    main()
