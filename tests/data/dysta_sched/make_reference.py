#!/usr/bin/env python3
"""Reference figures of Dysta's own scheduler (dysta_scheduler/ of SamsungLabs/Sparse-Multi-DNN-
Scheduling) on latency tables and request traces, for tests/serving/test_multi_dnn.cpp.

Writes, for each case: latency tables in Tessera's format (tables.csv), the request trace drawn by
the artefact's generate_reqst_table (CASE_requests.csv), a tessera.multi_dnn scenario
(CASE.json) whose SLOs are the artefact's target latencies, and reference.json with every
policy's violation count, ANTT and STP as the artefact computes them. The artefact's modules are
imported unchanged; pandas, scipy and sklearn (imported by them but not used by the scheduler)
are replaced by the small stand-ins below when they are not installed.

    /usr/bin/python3 tests/data/dysta_sched/make_reference.py --artefact PATH/TO/checkout \
        --out tests/data/dysta_sched
"""
import argparse
import csv
import json
import os
import random
import sys
import tempfile
import types

import numpy as np


def stub_modules():
    """Stand-ins for what the artefact imports but the scheduler does not use. read_csv reads
    with Python's float(), which rounds correctly (pandas' default parser may differ by an ulp)."""
    try:
        import pandas  # noqa: F401
    except ImportError:
        pd = types.ModuleType("pandas")

        def read_csv(path):
            with open(path) as f:
                rows = list(csv.DictReader(f))
            out = {}
            for k in rows[0]:
                vals = [r[k] for r in rows]
                if k.endswith("-indx"):
                    out[k] = np.array([int(v) for v in vals])
                else:
                    out[k] = np.array([float(v) for v in vals])
            return out
        pd.read_csv = read_csv
        sys.modules["pandas"] = pd
    try:
        import scipy.stats  # noqa: F401
    except ImportError:
        scipy = types.ModuleType("scipy")
        stats = types.ModuleType("scipy.stats")
        stats.gmean = lambda a: float(np.exp(np.mean(np.log(a))))
        scipy.stats = stats
        sys.modules["scipy"] = scipy
        sys.modules["scipy.stats"] = stats
    try:
        import sklearn  # noqa: F401
    except ImportError:
        sk = types.ModuleType("sklearn")
        sk.linear_model = types.ModuleType("sklearn.linear_model")
        sys.modules["sklearn"] = sk
        sys.modules["sklearn.linear_model"] = sk.linear_model


# Synthetic latency tables: three networks (families) under two pruning recipes each; a layer's
# latency falls with its output sparsity, which varies per sample around the recipe's level.
NETWORKS = {"resnet50": 14, "vgg16": 9, "mobilenet": 11}
RECIPES = {"unstructured60": 0.6, "block20": 0.2}
SAMPLES = 12


def make_tables(rng):
    tables = {}
    for net, layers in NETWORKS.items():
        base = rng.uniform(0.4e-3, 3e-3, size=layers)
        for recipe, level in RECIPES.items():
            model = f"{net}_{recipe}"
            lat, sp = [], []
            for _ in range(SAMPLES):
                s = np.clip(rng.normal(level, 0.12, size=layers), 0.01, 0.95)
                lat.append([float(x) for x in base * (1.2 - s) * rng.uniform(0.9, 1.1, size=layers)])
                sp.append([float(x) for x in s])
            tables[model] = (lat, sp)
    return tables


# The artefact's scheduler names -> Tessera's (simulator.py's scheduler_dict).
POLICIES = {"fcfs": "fcfs", "sjf": "sjf", "sjf_sparse": "sjf_sparse", "prema": "prema",
            "prema_sparse": "prema_sparse", "planaria": "planaria", "sdrm3": "sdrm3",
            "sdrm3_sparse": "sdrm3_sparse", "dysta": "dysta", "dysta_naive": "dysta_static",
            "dysta_oracle": "dysta_oracle"}

# (case, arrival rate per s, SLO multiplier, requests, seed)
CASES = [("light", 30, 10.0, 150, 1), ("loaded", 60, 5.0, 300, 2), ("overloaded", 90, 3.0, 300, 3)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--artefact", required=True, help="checkout of Sparse-Multi-DNN-Scheduling")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    stub_modules()
    sys.path.insert(0, os.path.join(args.artefact, "dysta_scheduler"))
    import scheduler as S  # noqa: E402
    import utils_common as U  # noqa: E402

    rng = np.random.default_rng(7)
    tables = make_tables(rng)
    with open(os.path.join(args.out, "tables.csv"), "w") as f:
        f.write("model,sample,layer,latency_s,sparsity\n")
        for model, (lat, sp) in tables.items():
            for i in range(SAMPLES):
                for l in range(len(lat[i])):
                    f.write(f"{model},{i},{l},{lat[i][l]!r},{sp[i][l]!r}\n")

    # The artefact's own CSV layout (eyerissv2: layer-indx, batch-indx, overall-sparsity, sim_lat).
    tmp = tempfile.mkdtemp(prefix="eyerissv2_")
    models, files = [], []
    for model, (lat, sp) in tables.items():
        path = os.path.join(tmp, model + ".csv")
        with open(path, "w") as f:
            f.write("batch-indx,layer-indx,overall-sparsity,sim_lat\n")
            for i in range(SAMPLES):
                for l in range(len(lat[i])):
                    f.write(f"{i},{l},{sp[i][l]!r},{lat[i][l]!r}\n")
        models.append(model)
        files.append(path)
    lut_args = types.SimpleNamespace(csv_lat_files=files, seq_len=512, draw_dist=False, figs_path=tmp)
    lat_lut = U.construct_lat_table(models, files, lut_args)

    reference = {"artefact": "SamsungLabs/Sparse-Multi-DNN-Scheduling b9f1913", "cases": {}}
    for case, rate, mult, n, seed in CASES:
        random.seed(seed)
        base = U.generate_reqst_table(rate, n, models, lat_lut)
        with open(os.path.join(args.out, case + "_requests.csv"), "w") as f:
            f.write("arrival_s,model,priority,sample\n")
            for r in base:
                f.write(f"{r[0]!r},{r[2]},{r[3]},{r[5]}\n")
        scenario = {"format": "tessera.multi_dnn", "name": "dysta-reference-" + case,
                    "models": {m: {"latency_table": "tables.csv",
                                   "slo_s": float(lat_lut[m]["target_lat_per_model"] * mult)}
                               for m in models},
                    "arrival": {"process": "trace", "file": case + "_requests.csv"},
                    "policy": "dysta"}
        with open(os.path.join(args.out, case + ".json"), "w") as f:
            json.dump(scenario, f, indent=2)
            f.write("\n")
        results = {}
        for name, tessera_name in POLICIES.items():
            table = [list(r) for r in base]
            for r in table:
                r[1] = r[1] * mult
            # As simulator.py constructs and drives each scheduler.
            if "sdrm3" in name:
                sch = S.SDRM3_Scheduler(table, alpha=1.0, is_sparse=("sparse" in name))
            elif "dysta" in name:
                cls = S.Dysta_Oracle_Scheduler if name == "dysta_oracle" else S.Dysta_Scheduler
                sch = cls(table, 1.0, 5, 0.01, "naive" not in name)
            elif name.endswith("sparse"):
                sch = {"sjf_sparse": S.SJF_Scheduler, "prema_sparse": S.PREMA_Scheduler}[name](table, is_sparse=True)
            else:
                sch = {"fcfs": S.FCFS_Scheduler, "sjf": S.SJF_Scheduler, "prema": S.PREMA_Scheduler,
                       "planaria": S.Planaria}[name](table)
            sch.set_lat_lut(lat_lut)
            aware = ("naive" not in name) and (("sparse" in name) or ("dysta" in name))
            while not sch.is_finished():
                sch.update_reqst(aware)
                sch.exe(is_hw_monitor=((name == "dysta") or ("sparse" in name)))
            vio, _ = sch.calc_violation_rate()
            results[tessera_name] = {"violations": int(round(vio * n)), "violation_rate": float(vio),
                                     "antt": float(sch.calc_ANTT()), "stp": float(sch.calc_system_thrpt())}
        reference["cases"][case] = {"rate_per_s": rate, "slo_multiplier": mult, "requests": n,
                                    "seed": seed, "policies": results}
    with open(os.path.join(args.out, "reference.json"), "w") as f:
        json.dump(reference, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
