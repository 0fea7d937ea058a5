#!/usr/bin/env bash
# Command two of the README (and what CI runs through .ci/run): installs what Outpost needs,
# then builds and runs the tests:
#   1. Debug with AddressSanitizer and UndefinedBehaviorSanitizer, warnings as errors: the unit
#      and end-to-end tests (the browser tests drive the same pages through Chromium for about
#      four minutes of both cores; the memory errors they could meet are the server's, which the
#      unit and end-to-end tests reach here);
#   2. Release, warnings as errors, hardened (what a box runs): the end-to-end, reference and
#      browser tests (the unit tests ran in 1, under the sanitizers);
#   3. the Debian package made from 2, installed, upgraded, removed and purged in a clean
#      Debian 12 root (tests/package/package_test.sh);
#   4. arm64: base and content cross-compiled and their unit tests run under qemu-user-static
#      (deploy/cross-arm64.sh; `--all` there builds and runs every unit test, out of CI's time);
# then builds the fuzz targets with clang (fuzz/, OUTPOST_FUZZ) and runs each for a few seconds
# over its seed corpus: a crash or a broken invariant fails the run (bench/fuzz.sh runs them long).
# Exits non-zero if anything fails.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

deploy/install-deps.sh --package --arm64

jobs=$(nproc)
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

run() {  # run NAME CTEST_ARGS CMAKE_ARGS...
  local dir=build/$1 ctest_args=$2
  shift 2
  echo "=== $dir: configure and build"
  cmake -S . -B "$dir" -G Ninja -DOUTPOST_WERROR=ON -DOUTPOST_BUILD_TESTS=ON "$@"
  ninja -C "$dir"
  echo "=== $dir: tests ${ctest_args}"
  # shellcheck disable=SC2086  # ctest_args is a list of words
  ctest --test-dir "$dir" --output-on-failure -j "$jobs" $ctest_args
}

# -g1: line tables only, all a sanitizer's stack trace needs; full debug info made the build
# slower for nothing CI uses.
run ci-sanitize "-LE browser" -DCMAKE_BUILD_TYPE=Debug -DOUTPOST_SANITIZE=ON -DCMAKE_CXX_FLAGS_DEBUG=-g1
run ci-release "-LE ^(base|content|sync|http|server)$" -DCMAKE_BUILD_TYPE=Release

echo "=== the Debian package: install, upgrade, remove, purge in a clean Debian 12 root"
version=$(sed -n 's/^project(outpost VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
previous=$(deploy/package.sh build/ci-release "0~previous-1" | tail -n 1)
mv "$previous" build/ci-release/previous.deb
current=$(deploy/package.sh build/ci-release "$version-1" | tail -n 1)
tests/package/package_test.sh build/ci-release/previous.deb "$current" build/ci-release/demo/water-cycle

echo "=== arm64: cross-compiled, unit tests under qemu"
deploy/cross-arm64.sh

fuzz_seconds=${OUTPOST_FUZZ_SECONDS:-5}
echo "=== build/ci-fuzz: configure and build (clang, libFuzzer)"
CC=clang CXX=clang++ cmake -S . -B build/ci-fuzz -G Ninja -DCMAKE_BUILD_TYPE=Release -DOUTPOST_FUZZ=ON
ninja -C build/ci-fuzz
echo "=== build/ci-fuzz: each target for ${fuzz_seconds} s over its seeds"
while read -r target; do
  # New inputs go to a scratch folder; the seeds in fuzz/corpus/ are only read.
  mkdir -p "build/ci-fuzz/corpus/$target" build/ci-fuzz/crashes
  log=build/ci-fuzz/$target.log
  if ! "build/ci-fuzz/fuzz/$target" -max_total_time="$fuzz_seconds" -timeout=10 \
      -rss_limit_mb=2048 -error_exitcode=77 -print_final_stats=1 \
      -artifact_prefix="build/ci-fuzz/crashes/$target-" \
      "build/ci-fuzz/corpus/$target" "fuzz/corpus/$target" >"$log" 2>&1; then
    tail -n 40 "$log"
    echo "fuzz: $target failed; the input that did it is in build/ci-fuzz/crashes/"
    exit 1
  fi
  echo "$target: $(grep -m1 -oE 'number_of_executed_units: *[0-9]+' "$log" | awk '{print $2}') runs," \
       "$(grep -E '^#[0-9]+' "$log" | tail -n 1 | grep -o 'cov: [0-9]*')"
done < build/ci-fuzz/fuzz_targets.txt
echo "=== all tests passed"
