#!/usr/bin/env bash
# Scaling of analytical sweeps over processes on one machine (docs/performance.md):
#   bench/mpi_scaling.sh PACKED_DIR SAMPLES "1 2 4 8 16" [SPACE]
# PACKED_DIR comes from bench/pack_device.sh. For each N, in turn: N MPI ranks (one log), N
# independent shard processes started together (--shard i/N: the machine's own ceiling, no
# communication), and, for N = 1, one plain process. Prints one line per run: kind, N, wall
# seconds, points per second; each MPI log is compared with the plain one point by point.
set -euo pipefail
dist="$(cd "$1" && pwd)"; samples="$2"; counts="$3"
here="$(cd "$(dirname "$0")/.." && pwd)"
space="${4:-$here/configs/spaces/systolic_resnet50.json}"
work="$(mktemp -d)"
sweep=(sweep "$space" --method random --samples "$samples" --seed 1 --quiet)
now() { date +%s.%N; }
line() { awk -v k="$1" -v n="$2" -v t0="$3" -v t1="$4" -v s="$samples" \
  'BEGIN { w = t1 - t0; printf "%-7s %3d  %8.2f s  %9.0f points/s\n", k, n, w, s / w }'; }
same() {  # the logs hold the same results for every index (wall_s aside)
  python3 - "$1" "$2" <<'PY'
import json, sys
def load(p):
    out = {}
    for l in open(p):
        e = json.loads(l)
        if "index" in e:
            e.pop("wall_s", None); out[e["index"]] = e
    return out
a, b = load(sys.argv[1]), load(sys.argv[2])
print("  logs identical" if a == b else "  LOGS DIFFER: %d vs %d entries" % (len(a), len(b)))
PY
}
t0=$(now); "$dist/run.sh" tessera "${sweep[@]}" --log "$work/plain.jsonl"; t1=$(now)
line plain 1 "$t0" "$t1"
for n in $counts; do
  t0=$(now)
  "$dist/run.sh" orterun -n "$n" --bind-to none tessera "${sweep[@]}" --mpi --log "$work/mpi$n.jsonl"
  t1=$(now); line mpi "$n" "$t0" "$t1"; same "$work/plain.jsonl" "$work/mpi$n.jsonl"
  t0=$(now)
  for ((i = 0; i < n; ++i)); do
    "$dist/run.sh" tessera "${sweep[@]}" --shard "$i/$n" --log "$work/shard$n-$i.jsonl" &
  done
  wait; t1=$(now); line shards "$n" "$t0" "$t1"
done
rm -rf "$work"
