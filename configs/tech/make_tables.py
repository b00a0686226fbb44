#!/usr/bin/env python3
"""Generates configs/tech/{45,28,16,7}nm.json from data/reference/energy_45nm.csv.

    python3 configs/tech/make_tables.py [path/to/energy_45nm.csv]

Every figure in the output names its source. docs/energy.md explains the choices:
  * MAC energy/area: the Bit Fusion artefact's synthesised fixed-precision MAC PEs (int2, int8,
    int16; one design family, operand registers included), int4 by geometric interpolation
    between int2 and int8, int32 from Horowitz (32b multiply + 32b add), fp16 from Horowitz (fp16
    multiply + fp16 add), fp32 from Horowitz (fp32 multiply + fp32 add), bf16 derived from fp16
    (multiplier scaled by mantissa width squared).
  * SRAM: read energy per bit as a power law in capacity, fitted (least squares in log-log) to the
    CSV's SRAM rows (Horowitz 8 KB/32 KB/1 MB per 64-bit access, Bit Fusion CACTI banks); energy
    per access is linear in width. Writes = reads x the mean write/read ratio of the CACTI rows.
  * Scaling to 28/16/7 nm: Stillmaker & Baas, "Scaling equations for the accurate prediction of
    CMOS device performance from 180 nm to 7 nm", Integration 58 (2017) 74-81: the energy
    polynomial in Vdd per node and the area factors of its tables (as tabulated in Accelergy's
    hwcomponents library). 28 nm is interpolated linearly between 32 and 20 nm. DRAM energy is
    not scaled (it is the memory device's, not the accelerator's node).
"""
import csv
import json
import math
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
csv_path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "../../data/reference/energy_45nm.csv")
rows = list(csv.DictReader(open(csv_path)))


def row(component, operation, size):
    for r in rows:
        if r["component"] == component and r["operation"] == operation and r["bits_or_size"] == size:
            return r
    raise SystemExit(f"{csv_path}: no row {component}/{operation}/{size}")


def cite(r):
    return f"{r['source']} ({r['component']} {r['operation']} {r['bits_or_size']}; {r['confidence']})"


HOROWITZ = "Horowitz ISSCC 2014"
BF = "Bit Fusion artifact synth (systolic_array_synth.csv)"

pe2 = row("fixed 2x2 MAC PE (1x1)", "MAC", "2b")
pe8 = row("fixed 8x8 MAC PE (1x1)", "MAC", "8b")
pe16 = row("fixed 16x16 MAC PE (1x1)", "MAC", "16b")
e2, e8, e16 = (float(r["energy_pJ"]) for r in (pe2, pe8, pe16))
a2, a8, a16 = (float(r["area_um2"]) for r in (pe2, pe8, pe16))
m32 = row("int multiplier", "mult", "32b"); ad32 = row("int adder", "add", "32b")
fm16 = row("FP multiplier", "mult", "16b"); fa16 = row("FP adder", "add", "16b")
fm32 = row("FP multiplier", "mult", "32b"); fa32 = row("FP adder", "add", "32b")
mac = {
    "int2": {"energy_pj": e2, "area_um2": a2, "source": cite(pe2)},
    "int4": {"energy_pj": round(math.sqrt(e2 * e8), 5), "area_um2": round(math.sqrt(a2 * a8), 2),
             "source": "geometric mean of the int2 and int8 PEs (Bit Fusion artifact synth): interpolation"},
    "int8": {"energy_pj": e8, "area_um2": a8, "source": cite(pe8)},
    "int16": {"energy_pj": e16, "area_um2": a16, "source": cite(pe16)},
    "int32": {"energy_pj": float(m32["energy_pJ"]) + float(ad32["energy_pJ"]),
              "area_um2": float(m32["area_um2"]) + float(ad32["area_um2"]),
              "source": cite(m32) + " + " + cite(ad32)},
    "fp16": {"energy_pj": float(fm16["energy_pJ"]) + float(fa16["energy_pJ"]),
             "area_um2": float(fm16["area_um2"]) + float(fa16["area_um2"]),
             "source": cite(fm16) + " + " + cite(fa16)},
    "fp32": {"energy_pj": float(fm32["energy_pJ"]) + float(fa32["energy_pJ"]),
             "area_um2": float(fm32["area_um2"]) + float(fa32["area_um2"]),
             "source": cite(fm32) + " + " + cite(fa32)},
}
shrink = (8 / 11) ** 2  # bf16 vs fp16 significand (8 vs 11 bits incl. hidden), multiplier ~ width^2
mac["bf16"] = {"energy_pj": round(float(fm16["energy_pJ"]) * shrink + float(fa16["energy_pJ"]), 4),
               "area_um2": round(float(fm16["area_um2"]) * shrink + float(fa16["area_um2"]), 1),
               "source": "derived: fp16 multiplier x (8/11)^2 (significand width squared) + fp16 adder, " + HOROWITZ}

# The adder inside each MAC: complex MACs are priced in real multiplies and adds (multiply = MAC
# - add). Horowitz's adders at 8, 16 and 32 bits; int2 and int4 scaled linearly in width from
# the 8-bit adder (an adder's energy grows linearly with its width); bf16 keeps the fp16 adder.
ad8 = row("int adder", "add", "8b"); ad16 = row("int adder", "add", "16b")
adders = {"int2": (float(ad8["energy_pJ"]) * 2 / 8, cite(ad8) + " x 2/8 (linear in width)"),
          "int4": (float(ad8["energy_pJ"]) * 4 / 8, cite(ad8) + " x 4/8 (linear in width)"),
          "int8": (float(ad8["energy_pJ"]), cite(ad8)),
          "int16": (float(ad16["energy_pJ"]), cite(ad16)),
          "int32": (float(ad32["energy_pJ"]), cite(ad32)),
          "fp16": (float(fa16["energy_pJ"]), cite(fa16)),
          "bf16": (float(fa16["energy_pJ"]), cite(fa16) + " (the adder of the bf16 entry)"),
          "fp32": (float(fa32["energy_pJ"]), cite(fa32))}
for p, (pj, src) in adders.items():
    mac[p]["add_pj"] = round(pj, 6)
    mac[p]["add_source"] = src

# SRAM fit: pJ per bit read vs capacity in bytes.
points = []
for size, kib in (("8KB", 8), ("32KB", 32), ("1MB", 1024)):
    r = row("SRAM/cache", "read", size)
    points.append((kib * 1024, float(r["energy_pJ"]) / 64, cite(r)))
bf_banks = [("WBUF bank 128B x32b", 128), ("IBUF bank 2KB x32b", 2048), ("OBUF bank 512B x32b 1rw", 512)]
ratios = []
for comp, cap in bf_banks:
    rd = row(comp, "read", "per bit"); wr = row(comp, "write", "per bit")
    points.append((cap, float(rd["energy_pJ"]), cite(rd)))
    ratios.append(float(wr["energy_pJ"]) / float(rd["energy_pJ"]))
xs = [math.log(c / 1024) for c, _, _ in points]
ys = [math.log(e) for _, e, _ in points]
n = len(xs); mx = sum(xs) / n; my = sum(ys) / n
b = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
a = math.exp(my - b * mx)
rms = math.sqrt(sum((math.log(a) + b * x - y) ** 2 for x, y in zip(xs, ys)) / n)
write_ratio = math.exp(sum(math.log(r) for r in ratios) / len(ratios))

reg = row("register", "read", "1b")
dram = row("DRAM", "read/write", "per bit")
base = {
    "name": "45nm",
    "node_nm": 45,
    "vdd": 0.9,
    "description": "45 nm, 0.9 V base table generated by configs/tech/make_tables.py from "
                   "data/reference/energy_45nm.csv; docs/energy.md",
    "mac": mac,
    "mac_data_fraction": {"value": 0.8, "source": "assumption: share of a MAC's energy that is "
                          "data-dependent switching (the rest is clock and control); replace with "
                          "gate-level power analysis of your PE"},
    "register": {"energy_pj_per_bit": float(reg["energy_pJ"]), "area_um2_per_bit": float(reg["area_um2"]),
                 "source": cite(reg) + "; 40 nm figure used as 45 nm"},
    "sram": {
        "read_pj_per_bit": {"coefficient": round(a, 6), "exponent": round(b, 5),
                            "source": "fit E_bit = coefficient * (capacity / 1 KiB)^exponent to "
                                      f"{n} SRAM read rows of energy_45nm.csv (rms log error {rms:.3f}): "
                                      + "; ".join(p[2] for p in points)},
        "write_to_read": {"value": round(write_ratio, 4),
                          "source": "geometric mean write/read ratio of the Bit Fusion CACTI bank rows"},
        "area_um2_per_bit": {"value": 0.577, "source": "assumption: 45 nm 6T cell 0.346 um2 (Intel 45 nm, "
                             "recalled; cross-check) / 0.6 array efficiency"},
    },
    "dram_pj_per_bit": {
        "ddr4": {"value": float(dram["energy_pJ"]), "source": cite(dram) + "; Horowitz gives 20-40 pJ/bit for DDR3"},
        "lpddr4": {"value": 6.0, "source": "recalled, cross-check: LPDDR4 ~4-8 pJ/bit reported; Bit Fusion "
                   "artifact comment says 6 pJ/bit"},
        "hbm2": {"value": 3.9, "source": "O'Connor et al., MICRO 2017 (Fine-Grained DRAM), HBM2 ~3.9 pJ/bit; "
                 "recalled, cross-check"},
    },
    "noc": {"hop_pj_per_bit": float(reg["energy_pJ"]) * 2,
            "source": "Eyeriss (ISCA 2016) normalised costs NoC:RF = 2:1 applied to the register per-bit energy (Aladdin)"},
    "leakage": {"logic_mw_per_mm2": 20.0, "sram_mw_per_mm2": 50.0,
                "source": "assumption: order of magnitude for 45 nm general-purpose logic and SRAM arrays; "
                          "replace with library/CACTI figures"},
}

# Stillmaker & Baas 2017 (via Accelergy hwcomponents): energy(node, Vdd) = c2 Vdd^2 + c1 Vdd + c0.
E_POLY = {45: (1.103, -0.362, 0.2767), 32: (0.9559, -0.7823, 0.471), 20: (0.373, -0.1582, 0.04104),
          16: (0.2958, -0.1241, 0.03024), 7: (0.1776, -0.09097, 0.02447)}
AREA_FROM_45 = {45: 1.0, 32: 0.46, 20: 0.21, 16: 0.19, 7: 0.059}


def energy_at(node, vdd):
    c2, c1, c0 = E_POLY[node]
    return c2 * vdd * vdd + c1 * vdd + c0


targets = {28: 0.9, 16: 0.8, 7: 0.7}  # nominal Vdd assumed per node
e45 = energy_at(45, base["vdd"])
factors = {}
for node, vdd in targets.items():
    if node == 28:
        t = (32 - 28) / (32 - 20)
        e = energy_at(32, vdd) + t * (energy_at(20, vdd) - energy_at(32, vdd))
        area = AREA_FROM_45[32] + t * (AREA_FROM_45[20] - AREA_FROM_45[32])
    else:
        e = energy_at(node, vdd)
        area = AREA_FROM_45[node]
    factors[node] = (e / e45, area, vdd)


def scaled(node):
    fe, fa, vdd = factors[node]
    t = json.loads(json.dumps(base))
    t["name"] = f"{node}nm"; t["node_nm"] = node; t["vdd"] = vdd
    t["description"] = (f"{node} nm, {vdd} V: the 45 nm table scaled by energy x{fe:.4f} and area x{fa:.4f} "
                        "(Stillmaker & Baas, Integration 58, 2017: energy polynomial at each node's Vdd "
                        "relative to 45 nm at 0.9 V; area factor from their tables"
                        + ("; 28 nm interpolated between 32 and 20 nm" if node == 28 else "") +
                        "). Leakage per mm2 scaled by the energy factor over the area factor "
                        "(assumption). DRAM not scaled. Generated by configs/tech/make_tables.py.")
    t["scaling"] = {"from": "45nm", "energy_factor": round(fe, 5), "area_factor": round(fa, 5),
                    "source": "Stillmaker & Baas 2017"}
    for m in t["mac"].values():
        m["energy_pj"] = round(m["energy_pj"] * fe, 6); m["area_um2"] = round(m["area_um2"] * fa, 3)
        m["add_pj"] = round(m["add_pj"] * fe, 6)
    t["register"]["energy_pj_per_bit"] = round(t["register"]["energy_pj_per_bit"] * fe, 7)
    t["register"]["area_um2_per_bit"] = round(t["register"]["area_um2_per_bit"] * fa, 4)
    t["sram"]["read_pj_per_bit"]["coefficient"] = round(t["sram"]["read_pj_per_bit"]["coefficient"] * fe, 7)
    t["sram"]["area_um2_per_bit"]["value"] = round(t["sram"]["area_um2_per_bit"]["value"] * fa, 5)
    t["noc"]["hop_pj_per_bit"] = round(t["noc"]["hop_pj_per_bit"] * fe, 7)
    for k in ("logic_mw_per_mm2", "sram_mw_per_mm2"):
        t["leakage"][k] = round(t["leakage"][k] * fe / fa, 4)
    return t


for table in [base] + [scaled(n) for n in targets]:
    path = os.path.join(here, table["name"] + ".json")
    with open(path, "w") as f:
        json.dump(table, f, indent=2)
        f.write("\n")
    print("wrote", path)
print("energy/area factors:", {k: (round(v[0], 4), round(v[1], 4)) for k, v in factors.items()})
print(f"sram fit: coefficient {a:.5f} pJ/bit at 1 KiB, exponent {b:.4f}, rms log error {rms:.3f}, write/read {write_ratio:.3f}")
