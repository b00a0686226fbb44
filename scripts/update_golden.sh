#!/usr/bin/env bash
# Rewrites tests/golden/<example>.report.json for every configs/examples/<example>.json by running
# the built `tessera simulate`. Use after an intended model change, then review `git diff tests/golden`.
#   scripts/update_golden.sh [build-dir]      (default build/dev)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
build="${1:-build/dev}"
for example in configs/examples/*.json; do
  name="$(basename "$example" .json)"
  mapfile -t args < <(python3 - "$example" <<'PY'
import json, sys
spec = json.load(open(sys.argv[1]))
print("--arch"); print(spec["arch"])
print("--workload"); print(spec["workload"])
print("--fidelity"); print(spec.get("fidelity", "analytical"))
for s in spec.get("set", []):
    print("--set"); print(s)
PY
)
  "$build/cli/tessera" simulate "${args[@]}" --quiet --out "tests/golden/$name.report.json"
  echo "updated tests/golden/$name.report.json"
done
