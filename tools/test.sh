#!/usr/bin/env bash
# Runs every test. This is the README's test command and what .ci/run calls.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh
tools/build.sh
ctest --test-dir build --output-on-failure
# Debian's python with torch (the first python3 on PATH may be another one).
# VOCR_CONTAINER_TESTS=1: tests/e2e/test_deploy.py also builds and runs the
# container image (about 8 minutes here); set it to 0 to skip that.
VOCR_CONTAINER_TESTS=${VOCR_CONTAINER_TESTS:-1} /usr/bin/python3 -m pytest -q tests/trainer tests/e2e
