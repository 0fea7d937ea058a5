#!/usr/bin/env bash
# Command two of the README (and what CI runs through .ci/run): installs what Outpost needs,
# then builds and runs every test twice:
#   1. Debug with AddressSanitizer and UndefinedBehaviorSanitizer, warnings as errors;
#   2. Release, warnings as errors (what a box runs).
# Exits non-zero if anything fails.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

deploy/install-deps.sh

jobs=$(nproc)
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

run() {  # run NAME CMAKE_ARGS...
  local dir=build/$1
  shift
  echo "=== $dir: configure and build"
  cmake -S . -B "$dir" -G Ninja -DOUTPOST_WERROR=ON -DOUTPOST_BUILD_TESTS=ON "$@"
  ninja -C "$dir"
  echo "=== $dir: tests"
  ctest --test-dir "$dir" --output-on-failure -j "$jobs"
}

run ci-sanitize -DCMAKE_BUILD_TYPE=Debug -DOUTPOST_SANITIZE=ON
run ci-release -DCMAKE_BUILD_TYPE=Release
echo "=== all tests passed"
