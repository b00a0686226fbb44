#!/usr/bin/env bash
# Sets up (Debian packages, CI build with warnings as errors) and runs the whole test suite
# through ctest. Extra arguments go to ctest, e.g. `scripts/test.sh -L golden`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
TESSERA_PRESET=ci scripts/setup.sh
ctest --preset ci -j "$(nproc)" "$@"
