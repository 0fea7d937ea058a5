#!/usr/bin/env bash
# Installs everything Outpost needs to build, run and test on Debian 12 (bookworm).
# Non-interactive and idempotent: packages already present are left alone.
# Usage: deploy/install-deps.sh [--bench] [--arm64] [--package]  (as root, or with sudo)
#   --bench    also the peers that bench/ measures Outpost against (bench/README.md): nginx,
#              kiwix-serve and zimwriterfs, rsync, wrk. They are not needed to build or test.
#   --arm64    also the arm64 cross toolchain, the arm64 -dev packages (multiarch: adds the
#              arm64 architecture to dpkg) and qemu-user-static (deploy/cross-arm64.sh)
#   --package  also what building and testing the Debian packages needs (deploy/package.sh,
#              tests/package/): help2man, lintian, mmdebstrap for a clean Debian 12 root
set -euo pipefail

PACKAGES=(
  # toolchain
  build-essential cmake pkg-config ninja-build git
  # the fuzz targets (fuzz/): clang and its libFuzzer and sanitizer runtimes
  clang libclang-rt-14-dev
  # libraries (see docs/dependencies.md for why each is here)
  libcpp-httplib-dev libsqlite3-dev libzstd-dev zlib1g-dev libsodium-dev libboost-dev
  libgtest-dev libgmock-dev nlohmann-json3-dev libcli11-dev libspdlog-dev
  libtomlplusplus-dev libminizip-dev libkainjow-mustache-dev
  # demo curriculum (spoken audio and the video generated at build time) and tests/benchmarks
  espeak-ng ffmpeg coreutils sqlite3 procps python3 python3-cryptography
  # `dnsmasq --test` checks the configuration `outpost box wifi` writes (tests/e2e, docs/wifi.md)
  dnsmasq-base
  # the browser tests (tests/browser/) drive Debian's chromium, headless
  chromium
  # pdf.js (embedded in the binary) and the browser tests' tools come from npm
  nodejs
)
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi

ARM64_LIBS=(libsqlite3-dev libzstd-dev zlib1g-dev libsodium-dev libboost-dev libgtest-dev
  libgmock-dev libspdlog-dev libfmt-dev libtomlplusplus-dev libminizip-dev libcpp-httplib-dev)
for flag in "$@"; do
  case "$flag" in
    --bench) PACKAGES+=(nginx-light kiwix-tools zim-tools rsync wrk curl) ;;
    --arm64)
      if ! dpkg --print-foreign-architectures | grep -qx arm64; then
        $SUDO dpkg --add-architecture arm64
      fi
      PACKAGES+=(crossbuild-essential-arm64 qemu-user-static file "${ARM64_LIBS[@]/%/:arm64}") ;;
    --package) PACKAGES+=(help2man lintian mmdebstrap dpkg-dev curl file) ;;
    *) echo "install-deps: unknown option $flag" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

export DEBIAN_FRONTEND=noninteractive
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages already installed"
else
  echo "install-deps: installing ${missing[*]}"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# npm packages (package-lock.json): pdf.js, which the build embeds, and the browser tests'
# tools. Debian's nodejs comes without npm; NodeSource's has it built in.
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if ! command -v npm >/dev/null; then
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends npm
fi
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "install-deps: npm ci"
  npm ci --no-audit --no-fund
fi
