# Cross-compiling Outpost for arm64 (a Raspberry Pi 3/4/5 on a 64-bit OS) on a Debian 12 amd64
# machine, with Debian's cross toolchain (crossbuild-essential-arm64) and the arm64 -dev
# packages installed through multiarch (deploy/install-deps.sh --arm64). No sysroot: multiarch
# puts the arm64 libraries in /usr/lib/aarch64-linux-gnu beside the amd64 ones.
#
#   cmake -S . -B build/arm64 -G Ninja -DCMAKE_TOOLCHAIN_FILE=deploy/cmake/arm64-toolchain.cmake
#
# Programs the build runs (outpost_embed, which embeds the web UI) and the tests run under
# qemu-user-static (CMAKE_CROSSCOMPILING_EMULATOR); the arm64 loader and libraries are where
# qemu looks for them, under /usr/lib/aarch64-linux-gnu and /lib/ld-linux-aarch64.so.1.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)
set(CMAKE_CROSSCOMPILING_EMULATOR /usr/bin/qemu-aarch64-static)
# pkg-config reads only the arm64 .pc files (and the architecture-independent ones).
set(ENV{PKG_CONFIG_LIBDIR} /usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig)
set(ENV{PKG_CONFIG_PATH} "")
# Headers and CMake package files are shared between architectures under /usr; libraries are
# found in the multiarch folder first.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
