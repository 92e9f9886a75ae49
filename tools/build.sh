#!/usr/bin/env bash
# Configures and builds everything (Release) into build/: vocr_server,
# ocr_client and the test programs. ccache makes rebuilds and CI fast.
set -euo pipefail
cd "$(dirname "$0")/.."
# Paths relative to the repo root in ccache's keys, so a clone elsewhere hits the cache.
export CCACHE_BASEDIR="$PWD"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
cmake --build build -j"$(nproc)"
