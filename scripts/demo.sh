#!/usr/bin/env bash
# Tessera's main job on a shipped example: sets up (Debian packages, release build), then runs a
# small design-space exploration: NSGA-II over the systolic-array space on ResNet-18 (the ONNX
# export in workloads/models/), 240 design points. Writes to out/:
#   demo_resnet18.jsonl         results log, one JSON line per evaluated point
#   demo_resnet18_front.json    the Pareto front and its hypervolume (tessera pareto --json)
#   demo_resnet18_front.png/svg the front over all evaluated points
#   demo_best_latency.report.json  the full report of the fastest design on the front
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
TESSERA_PRESET=release scripts/setup.sh
tessera=build/release/cli/tessera
space=configs/spaces/systolic_resnet18.json
objectives=latency_s:min,energy_pj:min,area_mm2:min  # as in the space file
mkdir -p out
rm -f out/demo_resnet18.jsonl
"$tessera" explore "$space" --algo nsga2 --budget 240 --seed 1 --log out/demo_resnet18.jsonl
"$tessera" pareto out/demo_resnet18.jsonl --objectives "$objectives"
"$tessera" pareto out/demo_resnet18.jsonl --objectives "$objectives" --json > out/demo_resnet18_front.json
/usr/bin/python3 scripts/plot_pareto.py out/demo_resnet18.jsonl \
  --front out/demo_resnet18_front.json --out out/demo_resnet18_front
# The fastest point of the front, simulated again with its full per-layer report.
mapfile -t overrides < <(/usr/bin/python3 -c '
import json
front = json.load(open("out/demo_resnet18_front.json"))["front"]
best = min(front, key=lambda e: e["metrics"]["latency_s"])
for key, value in best["point"].items():
    print(f"--set={key}={json.dumps(value)}")')
"$tessera" simulate --arch configs/arch/systolic_edge_32x32.json \
  --workload workloads/models/resnet18.onnx "${overrides[@]}" --quiet \
  --out out/demo_best_latency.report.json
echo "Pareto plot: out/demo_resnet18_front.png (and .svg); fastest design: out/demo_best_latency.report.json"
