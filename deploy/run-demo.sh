#!/usr/bin/env bash
# Command one of the README: installs what Outpost needs, builds it, imports the bundled demo
# curriculum and serves it on http://localhost:8080 (Ctrl-C stops it).
#
# Environment: LISTEN (default 0.0.0.0:8080), OUTPOST_DATA (default build/demo-data).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

deploy/install-deps.sh
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DOUTPOST_BUILD_TESTS=OFF
ninja -C build/release outpost demo_curriculum

data=${OUTPOST_DATA:-$PWD/build/demo-data}
build/release/cli/outpost import --data "$data" build/release/demo/water-cycle
echo "Open http://localhost:8080 (or the port in LISTEN) in a browser."
exec build/release/cli/outpost serve --data "$data" --listen "${LISTEN:-0.0.0.0:8080}"
