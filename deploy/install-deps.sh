#!/usr/bin/env bash
# Installs everything Outpost needs to build, run and test on Debian 12 (bookworm).
# Non-interactive and idempotent: packages already present are left alone.
# Usage: deploy/install-deps.sh            (as root, or with sudo available)
set -euo pipefail

PACKAGES=(
  # toolchain
  build-essential cmake pkg-config ninja-build git
  # libraries (see docs/dependencies.md for why each is here)
  libcpp-httplib-dev libsqlite3-dev libzstd-dev libsodium-dev libboost-dev
  libgtest-dev libgmock-dev nlohmann-json3-dev libcli11-dev libspdlog-dev
  libtomlplusplus-dev libminizip-dev libkainjow-mustache-dev
  # demo curriculum (spoken audio generated at build time) and tests/benchmarks
  espeak-ng coreutils sqlite3 procps python3
)

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages already installed"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
