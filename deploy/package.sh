#!/usr/bin/env bash
# Makes the Debian package of Outpost from a configured build folder (amd64, or arm64 when the
# folder was configured with deploy/cmake/arm64-toolchain.cmake: deploy/cross-arm64.sh --all),
# checks it with lintian, and prints its size and the binary's.
#
# Usage: deploy/package.sh BUILD_DIR [DEB_VERSION]    (DEB_VERSION default: VERSION-1)
# Writes BUILD_DIR/outpost_VERSION_ARCH.deb and prints its path on stdout (the rest on stderr).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
dir=${1:?usage: deploy/package.sh BUILD_DIR [DEB_VERSION]}
if [ -n "${2:-}" ]; then
  cmake "$dir" -DOUTPOST_DEB_VERSION="$2" >/dev/null
fi
ninja -C "$dir" outpost outpost_man outpost_changelog >/dev/null
arch=amd64
if grep -q '^CMAKE_SYSTEM_PROCESSOR:.*=aarch64' "$dir/CMakeCache.txt" 2>/dev/null ||
   file "$dir/cli/outpost" | grep -q 'ARM aarch64'; then
  arch=arm64
fi
# dpkg-shlibdeps reads the architecture of the binaries it looks up from dpkg-architecture.
(cd "$dir" && rm -f outpost_*.deb &&
  DEB_HOST_ARCH=$arch cpack -G DEB >cpack.log 2>&1) || { cat "$dir/cpack.log"; exit 1; }
deb=$(ls "$dir"/outpost_*_"$arch".deb)
# lintian: errors fail the build; warnings are listed (docs/install.md says which are accepted).
lintian_out=$(lintian --tag-display-limit 0 "$deb" 2>&1 | grep -v "running with root privileges" || true)
echo "$lintian_out" | sed 's/^/lintian: /' >&2
if echo "$lintian_out" | grep -q '^E: '; then
  echo "package: lintian found errors in $deb" >&2
  exit 1
fi
size=$(stat -c %s "$deb")
binary=$(dpkg-deb --fsys-tarfile "$deb" | tar -tvf - ./usr/bin/outpost | awk '{print $3}')
echo "package: $(basename "$deb"): $size bytes; /usr/bin/outpost (stripped) $binary bytes" >&2
echo "$deb"
