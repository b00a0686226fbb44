#!/usr/bin/env bash
# Installs every Debian package Tessera needs (the whole dependency list of docs/architecture.md,
# including those used only by later features, so set-up is settled once) and builds the project.
# Idempotent: packages already present are skipped by apt, the build is incremental.
#
#   scripts/setup.sh            install packages, configure and build with the given preset
#   TESSERA_PRESET=release scripts/setup.sh
#   TESSERA_SKIP_BUILD=1 scripts/setup.sh   packages only
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
preset="${TESSERA_PRESET:-ci}"

packages=(
  # toolchain
  build-essential cmake ninja-build ccache pkg-config git
  # fuzz targets: clang and its libFuzzer and sanitizer runtimes
  clang libclang-rt-14-dev
  # simulation, graphs, JSON, tests, threads, CLI, logging
  libsystemc-dev libboost-graph-dev nlohmann-json3-dev catch2 libtbb-dev
  libcli11-dev libspdlog-dev libfmt-dev
  # workload front-end (ONNX with shape inference)
  libonnx-dev libprotobuf-dev protobuf-compiler
  # search: multi-objective optimisation, neural surrogate, cluster runs
  libpagmo-dev libtorch-dev libopenmpi-dev openmpi-bin
  # plots and model export
  python3 python3-numpy python3-matplotlib python3-torch python3-torchvision python3-onnx
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${#missing[@]} Debian packages: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "setup: all Debian packages present"
fi

[ "${TESSERA_SKIP_BUILD:-0}" = 1 ] && exit 0

cd "$here"
cmake --preset "$preset"
cmake --build --preset "$preset"
