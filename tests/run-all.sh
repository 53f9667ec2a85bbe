#!/bin/sh
# SPDX-License-Identifier: LGPL-3.0-or-later
#
# Installs what the tests need (Debian 12, as root), then builds and runs the
# whole suite twice: a plain optimised build, and one with AddressSanitizer
# and UndefinedBehaviorSanitizer.  The kernel and GEGL suites also run under
# valgrind.
# Build folders: build-test/ and build-asan/ beside the sources.
set -eu

cd "$(dirname "$0")/.."

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    build-essential libgegl-dev libbabl-dev gegl check meson ninja-build \
    pkg-config gettext valgrind python3-gi gir1.2-gegl-0.4 python3-numpy \
    >/dev/null
fi

echo "== plain build"
rm -rf build-test
meson setup build-test >/dev/null
meson test -C build-test --print-errorlogs

echo "== kernels and GEGL graphs under valgrind"
meson test -C build-test --suite lib --suite gegl --setup valgrind --print-errorlogs

echo "== AddressSanitizer + UndefinedBehaviorSanitizer build"
rm -rf build-asan
meson setup build-asan -Db_sanitize=address,undefined -Db_lundef=false >/dev/null
meson test -C build-asan --print-errorlogs
