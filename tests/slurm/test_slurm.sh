#!/usr/bin/env bash
# The Slurm scripts as written (scripts/slurm/), under a stand-in sbatch that runs each job at
# once (tests/slurm/sbatch): an array of shards, then one MPI job, each followed by the merge and
# Pareto jobs; and a merge that fails, naming the shard, when a shard's log is missing.
#   test_slurm.sh SOURCE_DIR TESSERA_EXECUTABLE
set -euo pipefail
src="$1"
export TESSERA="$2" PATH="$src/tests/slurm:$PATH"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 \
       OMPI_MCA_btl_vader_single_copy_mechanism=none OMPI_MCA_rmaps_base_oversubscribe=1
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
space="$src/tests/data/spaces/small.json"
fail() { echo "FAILED: $*" >&2; for f in "$work"/*/*.out; do echo "== $f"; cat "$f"; done >&2; exit 1; }

"$src/scripts/slurm/submit.sh" "$space" "$work/array/small" 3 || fail "array submission"
[[ $(grep -c '"status":' "$work/array/small.jsonl") == 18 ]] || fail "array: 18 entries merged"
grep -q '"objectives": \[' "$work/array/small.front.json" || fail "array: front written"
grep -q 'latency_s:min' "$work/array/small.front.json" || fail "array: the space's objectives"

"$src/scripts/slurm/submit.sh" --mpi "$space" "$work/mpi/small" 2 || fail "MPI submission"
[[ $(grep -c '"status":' "$work/mpi/small.jsonl") == 18 ]] || fail "MPI: 18 entries"
[[ -f "$work/mpi/small.front.json" ]] || fail "MPI: front written"

rm "$work/array/small.shard1.jsonl" "$work/array/small.jsonl"
if sbatch --output="$work/array/merge-again.out" "$src/scripts/slurm/merge.sbatch" "$work/array/small" \
     > /dev/null; then
  fail "a merge with shard 1/3 missing must fail"
fi
grep -q "no log of shard 1/3 was given" "$work/array/merge-again.out" || fail "merge names shard 1/3"
echo "slurm scripts: array, MPI and incomplete merge behave as documented"
