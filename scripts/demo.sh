#!/usr/bin/env bash
# Tessera's main job on a shipped example: sets up (Debian packages, release build), simulates
# LeNet-5 on the edge roofline architecture, prints the summary table and writes a JSON report
# to out/lenet5_ideal_edge.report.json.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
TESSERA_PRESET=release scripts/setup.sh
mkdir -p out
build/release/cli/tessera simulate \
  --arch configs/arch/ideal_edge.json \
  --workload configs/workloads/lenet5.json \
  --out out/lenet5_ideal_edge.report.json
