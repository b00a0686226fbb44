#!/usr/bin/env bash
# Runs the libFuzzer targets of fuzz/ for longer than ctest does (docs/testing.md, "Fuzzing"):
#
#   scripts/fuzz.sh                 every target for 300 s
#   scripts/fuzz.sh 600 onnx expression   the named targets for 600 s each
#
# Builds the fuzz preset first. New inputs go to build/fuzz/fuzz/found/<target>/, findings to
# build/fuzz/fuzz/artifacts/; a finding becomes a file in fuzz/regressions/<target>/ once fixed.
# Each target prints libFuzzer's final statistics (executions, coverage) on its last lines.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
seconds="${1:-300}"
shift || true
targets=("$@")
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz
out=build/fuzz/fuzz
if ((${#targets[@]} == 0)); then  # every target fuzz/CMakeLists.txt builds
  for exe in "$out"/fuzz_*; do
    [[ -f "$exe" && -x "$exe" ]] && targets+=("${exe##*/fuzz_}")
  done
fi
status=0
for t in "${targets[@]}"; do
  mkdir -p "$out/found/$t" "$out/artifacts"
  echo "fuzz: $t for ${seconds} s"
  "$out/fuzz_$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$out/artifacts/$t-" "$out/found/$t" "fuzz/corpus/$t" 2>"$out/$t.log" || status=1
  grep -E "^stat::number_of_executed_units|^stat::new_units_added|ERROR|finding" "$out/$t.log" || true
done
exit $status
