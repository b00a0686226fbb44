#!/usr/bin/env bash
# Sets up (Debian packages, CI build with warnings as errors) and runs the whole test suite
# through ctest, then builds the fuzz preset and runs its targets briefly (label fuzz, about a
# minute). Extra arguments go to the ci ctest only, e.g. `scripts/test.sh -L golden`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
TESSERA_PRESET=ci scripts/setup.sh
ctest --preset ci -j "$(nproc)" "$@"
# The fuzz targets (clang), each for a few seconds from its seed corpus, and their regressions.
if (($# == 0)); then
  cmake --preset fuzz
  cmake --build --preset fuzz
  ctest --preset fuzz -j "$(nproc)"
fi
