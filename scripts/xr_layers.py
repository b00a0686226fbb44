#!/usr/bin/env python3
"""Tessera's per-layer costs beside XRBench's MAESTRO costs on VR gaming (docs/validation.md,
"XR scenarios": the layer-level comparison).

XRBench's side: data/xrbench/maestro_layers/VR_gaming__Single_4K__{WS,OS,RS}.csv (its own cost
class, one 4K-PE unit). Tessera's side: `tessera serve configs/xr/vr_gaming.json --tables` on the
same hardware config and dataflow, and once more for WS on a 256-PE (16 x 16) unit, the size of
one cluster of XRBench's WS mapping. Prints markdown tables: per model and dataflow, and per layer
class for each dataflow.

    /usr/bin/python3 scripts/xr_layers.py --tessera build/ci/cli/tessera
"""
import argparse
import csv
import io
import os
import re
import subprocess
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
XR = os.path.join(ROOT, "data/xrbench")


def layer_dims():
    """(model, layer) -> N K C Y X R S, in file order, from the usage scenario."""
    text = open(os.path.join(XR, "usage_scenarios/VR_gaming.m")).read()
    out = []
    for chunk in text.split("Network ")[1:]:
        model = chunk.split()[0]
        for m in re.finditer(r"Layer\s+(\S+)\s*\{.*?Dimensions:\s*\{([^}]*)\}", chunk, re.S):
            dims = {k.strip(): int(v) for k, v in (p.split(":") for p in m.group(2).split(","))}
            out.append((model, m.group(1), dims))
    return out


def tessera(binary, hardware, dataflow):
    with tempfile.TemporaryDirectory() as tmp:
        table = os.path.join(tmp, "t.csv")
        subprocess.run([binary, "serve", os.path.join(ROOT, "configs/xr/vr_gaming.json"),
                        "--set", f"hardware={hardware}", "--set", f"dataflows={dataflow}",
                        "--tables", table, "--quiet"], check=True)
        return list(csv.DictReader(open(table)))


def macs(d):
    return d["K"] * d["C"] * max(d["Y"] - d["R"] + 1, 1) * max(d["X"] - d["S"] + 1, 1) * d["R"] * d["S"]


def layer_class(d):
    if d["R"] == 1 and d["S"] == 1:
        if d["Y"] == 1 and d["X"] == 1:
            return "FC (Y = X = 1)"
        if d["K"] % 16 == 0 and d["C"] % 16 == 0 and d["X"] % 16 == 0 and d["X"] >= 16:
            return "1x1, K, C, X multiples of 16"
        return "1x1, other"
    return f"{d['R']}x{d['S']}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tessera", required=True)
    args = ap.parse_args()
    dims = layer_dims()
    single = os.path.join(XR, "hw_configs/single")
    ref, tes = {}, {}
    for df in ["WS", "OS", "RS"]:
        ref[df] = list(csv.DictReader(open(os.path.join(XR, f"maestro_layers/VR_gaming__Single_4K__{df}.csv"))))
        tes[df] = tessera(args.tessera, os.path.join(single, "Single_4K.m"),
                          os.path.join(XR, f"dataflows/single/{df}.m"))
        assert len(ref[df]) == len(tes[df]) == len(dims)
    with tempfile.TemporaryDirectory() as tmp:
        hw = os.path.join(tmp, "Single_256.m")
        with open(hw, "w") as f:
            f.write(open(os.path.join(single, "Single_4K.m")).read().replace("num_pes: 4096", "num_pes: 256"))
        t256 = tessera(args.tessera, hw, os.path.join(XR, "dataflows/single/WS.m"))

    print("| model | dataflow | XRBench ms / mJ | Tessera ms / mJ | time, energy ratio |")
    print("|---|---|---|---|---|")
    for model in dict.fromkeys(m for m, _, _ in dims):
        for df in ["WS", "OS", "RS"]:
            rc = sum(int(r["cycles"]) for r in ref[df] if r["model"] == model)
            re_ = sum(float(r["energy"]) for r in ref[df] if r["model"] == model) * 1e-6
            tc = sum(int(r["cycles"]) for r in tes[df] if r["model"] == model)
            te = sum(float(r["energy_pj"]) for r in tes[df] if r["model"] == model) * 1e-9
            print(f"| {model} | {df} | {rc * 1e-6:.3f} / {re_:.1f} | {tc * 1e-6:.3f} / {te:.2f} | "
                  f"{tc / rc:.2f}, {te / re_:.2f} |")

    for df in ["WS", "OS", "RS"]:
        print()
        print(f"| {df} layer class | layers | XRBench Mcycles | Tessera Mcycles | ratio | PE use XRBench, Tessera "
              "| Tessera 16x16 / XRBench (min-max) | pJ per MAC XRBench, Tessera |")
        print("|---|---|---|---|---|---|---|---|")
        classes = {}
        for (model, name, d), r, t, s in zip(dims, ref[df], tes[df], t256):
            assert r["name"] == t["name"] == s["name"] == name
            c = classes.setdefault(layer_class(d), {"n": 0, "ref": 0, "tes": 0, "macs": 0, "r256": [],
                                                    "ref_pj": 0.0, "tes_pj": 0.0})
            c["n"] += 1
            c["ref"] += int(r["cycles"])
            c["tes"] += int(t["cycles"])
            c["macs"] += macs(d)
            c["r256"].append(int(s["cycles"]) / int(r["cycles"]))
            c["ref_pj"] += float(r["energy"]) * 1e3  # MAESTRO's energy is in nJ (XRBench: / 1e6 = mJ)
            c["tes_pj"] += float(t["energy_pj"])
        for name, c in sorted(classes.items(), key=lambda kv: -kv[1]["ref"]):
            # The 16 x 16 unit is a WS one: its column is for WS only.
            r256 = f"{min(c['r256']):.3f}-{max(c['r256']):.3f}" if df == "WS" else "-"
            print(f"| {name} | {c['n']} | {c['ref'] * 1e-6:.3f} | {c['tes'] * 1e-6:.3f} | {c['tes'] / c['ref']:.2f} | "
                  f"{c['macs'] / 4096 / c['ref']:.3f}, {c['macs'] / 4096 / c['tes']:.3f} | {r256} | "
                  f"{c['ref_pj'] / c['macs']:.1f}, {c['tes_pj'] / c['macs']:.1f} |")

if __name__ == "__main__":
    main()
