#!/bin/sh
# SPDX-License-Identifier: LGPL-3.0-or-later
#
# Installs what the tests need (Debian 12, as root), then builds and runs the
# whole suite twice: a plain optimised build, and one with AddressSanitizer
# and UndefinedBehaviorSanitizer.  The kernel and GEGL suites also run under
# valgrind, and the kernel suites in builds for other CPUs (below).  Every
# build takes warnings as errors.
# Build folders: build-test/, build-asan/, build-generic/ and build-avx2/
# beside the sources.
#
# Every stage runs even when an earlier one failed, so that one run shows
# all that is wrong (a valgrind failure used to hide the sanitizers'
# verdict).  Each stage prints its wall time; the script exits non-zero at
# the end, naming the stages that failed.
set -u

cd "$(dirname "$0")/.." || exit 2

failed=
summary=

# stage NAME FUNCTION: runs FUNCTION, timing it and noting a failure.
stage () {
  echo "== $1"
  start=$(date +%s)
  if "$2"; then verdict=passed; else verdict=FAILED; failed="$failed $1"; fi
  seconds=$(($(date +%s) - start))
  echo "== $1: $verdict in $seconds s"
  summary="$summary$(printf '  %-10s %-6s %4d s' "$1" "$verdict" "$seconds")
"
}

install_packages () {
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
      build-essential libgegl-dev libbabl-dev gegl check meson ninja-build \
      pkg-config gettext valgrind python3-gi gir1.2-gegl-0.4 python3-numpy \
      gimp libgimp2.0-dev python3-dask python3-distributed python3-zarr \
      >/dev/null
  fi
}

plain () {
  rm -rf build-test &&
  meson setup build-test -Dwerror=true >/dev/null &&
  meson test -C build-test --print-errorlogs
}

# Reuses build-test: when the plain stage could not build it, this fails too.
under_valgrind () {
  meson test -C build-test --suite lib --suite gegl --setup valgrind \
    --print-errorlogs
}

# cpu_build DIR C_ARGS: the kernel suites in a build of their own.
cpu_build () {
  rm -rf "$1" &&
  meson setup "$1" -Dwerror=true -Dc_args="$2" >/dev/null &&
  meson test -C "$1" --suite lib --suite lib-portable --print-errorlogs
}

# The kernels as other CPUs run them.  On x86-64 Linux the library holds
# clones for AVX2 and AVX-512 and hand-written AVX-512 kernels, and this
# machine runs the best it has; these builds leave them out: plain C for
# baseline x86-64, as every build without clones (other systems, other
# architectures) compiles it, and the code for AVX2 alone, as CPUs
# without AVX-512 run it (where this CPU can run it).
other_cpus () {
  result=0
  cpu_build build-generic "-DSEG_NO_CLONES -DSEG_NO_AVX512" || result=1
  if grep -qw avx2 /proc/cpuinfo && grep -qw fma /proc/cpuinfo &&
     grep -qw bmi2 /proc/cpuinfo; then
    cpu_build build-avx2 "-march=haswell -DSEG_NO_CLONES -DSEG_NO_AVX512" ||
      result=1
  else
    echo "run-all: this CPU has no AVX2: the AVX2 build is left out"
  fi
  return $result
}

sanitizers () {
  rm -rf build-asan &&
  meson setup build-asan -Dwerror=true -Db_sanitize=address,undefined \
    -Db_lundef=false >/dev/null &&
  meson test -C build-asan --print-errorlogs
}

all_start=$(date +%s)
stage packages install_packages
stage plain plain
stage valgrind under_valgrind
stage cpus other_cpus
stage asan sanitizers

echo
echo "== summary ($(($(date +%s) - all_start)) s in all)"
printf '%s' "$summary"
if [ -n "$failed" ]; then
  echo "run-all: failed stages:$failed" >&2
  exit 1
fi
echo "run-all: all stages passed"
