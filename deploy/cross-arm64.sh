#!/usr/bin/env bash
# Cross-compiles Outpost for arm64 on a Debian 12 amd64 machine and runs its unit tests under
# qemu-user-static (docs/install.md#arm64). The arm64 binary lands in build/arm64/cli/outpost,
# and deploy/package.sh makes the arm64 package from it.
#
# Usage: deploy/cross-arm64.sh [--all]
#   (default)  the subset CI runs (deploy/test.sh, about 3 minutes on 2 cores): base_test and
#              content_test under qemu: hashes, file reads with their maximums, SQLite, the
#              chunker (FastCDC's gear table and cut points), blob store, catalog, importer,
#              zip reader, where a byte-order, alignment or char-signedness fault on arm64
#              would show first;
#   --all      the outpost binary (for deploy/package.sh) and every unit-test binary: also
#              sync_test (manifests, Noise, the sync protocol, bundles), http_test and
#              server_test; about 15 minutes on 2 cores, two thirds of it compiling (docs/install.md).
# The end-to-end tests run the outpost binary as a child process, which needs binfmt_misc to
# start an arm64 program by itself; this script does not rely on it (containers rarely have it).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

tests=(base_test content_test)
targets=()
if [ "${1:-}" = "--all" ]; then
  tests+=(sync_test http_test server_test)
  targets+=(outpost)
elif [ $# -gt 0 ]; then
  echo "usage: deploy/cross-arm64.sh [--all]" >&2
  exit 2
fi

deploy/install-deps.sh --arm64

dir=build/arm64
echo "=== $dir: configure and build (aarch64-linux-gnu-g++)"
cmake -S . -B "$dir" -G Ninja -DCMAKE_TOOLCHAIN_FILE=deploy/cmake/arm64-toolchain.cmake \
  -DCMAKE_BUILD_TYPE=Release -DOUTPOST_WERROR=ON -DOUTPOST_BUILD_TESTS=ON ${CROSS_CMAKE_ARGS:-}
ninja -C "$dir" "${targets[@]}" "${tests[@]}"
if [ ${#targets[@]} -gt 0 ]; then
  file "$dir/cli/outpost" | grep -q 'ARM aarch64' || { echo "$dir/cli/outpost is not arm64" >&2; exit 1; }
  echo "=== $dir: $(qemu-aarch64-static "$dir/cli/outpost" --version), $(stat -c %s "$dir/cli/outpost") bytes"
fi
file "$dir/base/base_test" | grep -q 'ARM aarch64' || { echo "$dir/base/base_test is not arm64" >&2; exit 1; }
# Each unit-test binary labels its tests with its module (base, content, sync, http, server).
labels=$(for t in "${tests[@]}"; do printf '%s|' "${t%_test}"; done)
echo "=== $dir: unit tests under qemu-aarch64-static: ${tests[*]}"
ctest --test-dir "$dir" --output-on-failure -j "$(nproc)" -L "^(${labels%|})\$"
