#!/usr/bin/env bash
# Submits a whole design-space sweep to Slurm: the sweep (an array of shards, or one MPI job),
# then a merge job that starts when every shard has ended and checks that no point is missing,
# then a Pareto job on the merged log (objectives from the space, through the log's header).
#
#   scripts/slurm/submit.sh SPACE OUT [SHARDS]        array of SHARDS tasks (default 16)
#   scripts/slurm/submit.sh --mpi SPACE OUT [RANKS]   one MPI job of RANKS ranks (default 16)
#
# OUT is a path prefix: OUT.shardI.jsonl, OUT.jsonl, OUT.front.json, OUT_pareto.png/svg, and the
# jobs' output in OUT.slurm-*.out. TESSERA names the executable (default: `tessera` on PATH);
# build it once on a login node (README) and export TESSERA=$PWD/build/release/cli/tessera.
# Extra sbatch options go in SBATCH_OPTIONS, e.g. SBATCH_OPTIONS="--partition=cpu --time=2:00:00".
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
mpi=0
if [[ "${1:-}" == "--mpi" ]]; then mpi=1; shift; fi
if [[ $# -lt 2 ]]; then sed -n '2,13p' "$0"; exit 1; fi
space="$1" out="$2" n="${3:-16}"
export TESSERA="${TESSERA:-$(command -v tessera || true)}"
if [[ -z "$TESSERA" || ! -x "$TESSERA" ]]; then
  echo "error: no tessera executable: build it and export TESSERA=/path/to/tessera" >&2
  exit 1
fi
[[ -f "$space" ]] || { echo "error: $space: no such design space" >&2; exit 1; }
mkdir -p "$(dirname "$out")"
# shellcheck disable=SC2086  # SBATCH_OPTIONS is a list of options
opts=(--parsable --export=ALL,TESSERA="$TESSERA",TESSERA_SCRIPTS="$(dirname "$here")" ${SBATCH_OPTIONS:-})
if [[ $mpi == 1 ]]; then
  sweep=$(sbatch "${opts[@]}" --ntasks="$n" --output="$out.slurm-sweep.out" \
          "$here/sweep_mpi.sbatch" "$space" "$out")
  merge_after="afterok:$sweep"  # the one log is merged with itself: the completeness check
else
  sweep=$(sbatch "${opts[@]}" --array="0-$((n - 1))" --output="$out.slurm-sweep-%a.out" \
          "$here/sweep_shard.sbatch" "$space" "$out" "$n")
  merge_after="afterany:$sweep"  # every shard ended, however; merge says what is missing
fi
merge=$(sbatch "${opts[@]}" --dependency="$merge_after" --output="$out.slurm-merge.out" \
        "$here/merge.sbatch" "$out")
pareto=$(sbatch "${opts[@]}" --dependency="afterok:$merge" --output="$out.slurm-pareto.out" \
         "$here/pareto.sbatch" "$out")
echo "sweep job $sweep, merge job $merge, pareto job $pareto; results in $out.jsonl, $out.front.json"
