#!/usr/bin/env bash
# Fails when a file of the repository names ../shared, the directory beside the checkout where
# reference data once lived: a clone alone must build, test and run (docs/testing.md, "A clone
# alone"); reference data lives in data/. Docs are left out: they may tell that history.
# Usage: no_outside_reads.sh SOURCE_DIR
set -euo pipefail
cd "${1:?usage: no_outside_reads.sh SOURCE_DIR}"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  mapfile -d '' all < <(git ls-files -z --cached --others --exclude-standard)
else  # an exported tree without git: every file but build outputs
  mapfile -d '' all < <(find . -path ./build -prune -o -path ./out -prune -o -type f -print0)
fi
files=()
for f in "${all[@]}"; do
  f=${f#./}
  case "$f" in docs/* | tests/no_outside_reads.sh) continue ;; esac
  [[ -f "$f" ]] && files+=("$f")
done
(( ${#files[@]} > 100 )) || { echo "no_outside_reads: only ${#files[@]} files found under $PWD" >&2; exit 1; }
# xargs may split the list: judge by the output, not by grep's status.
# ../shared in a path, or the pieces of one joined in a script ("..", "shared").
pattern="\\.\\./shared\\b|SHARED_DIR|\\.\\.['\"], *['\"]shared"
hits=$(printf '%s\0' "${files[@]}" | xargs -0 grep -IHnE "$pattern" -- || true)
if [[ -n "$hits" ]]; then
  printf '%s\n' "$hits"
  echo "no_outside_reads: the lines above read outside the repository; copy the file into data/" \
       "(with its provenance) and point there" >&2
  exit 1
fi
echo "no_outside_reads: ${#files[@]} files checked, none names ../shared"
