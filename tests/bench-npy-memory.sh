#!/bin/sh
# SPDX-License-Identifier: LGPL-3.0-or-later
#
# Peak memory of .npy volume I/O on the gegl command line, run by hand:
#   tests/bench-npy-memory.sh [build-folder]        (default: build)
#
# Loads the 512³ uint32 connectomics volume (512 MiB) with seg:npy-load and
# saves it again with seg:npy-save (`gegl volume.npy -o copy.npy`), under
# /usr/bin/time -v, and prints the peak resident memory against the
# volume's size; then the same for the half-size pyramid level
# (`-- seg:countless-3d depth=512`).  The copy must equal the volume byte
# for byte.  GEGL runs with its default settings, as for a user.
#
# The volume is a development file, not shipped: it is looked for at
# $SEG_CONNECTOMICS, else at ../shared/data/connectomics512_zyx_u32.npy.gz
# beside the source tree (.npy or .npy.gz).
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
volume=${SEG_CONNECTOMICS:-$root/../shared/data/connectomics512_zyx_u32.npy.gz}

if [ ! -f "$volume" ]; then
  echo "bench-npy-memory: no volume at $volume (set SEG_CONNECTOMICS); skipped"
  exit 0
fi
if [ ! -x /usr/bin/time ]; then
  echo "bench-npy-memory: needs /usr/bin/time (Debian package time)" >&2
  exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/gegl-seg-npy-bench-XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM

case "$volume" in
  *.gz) gzip -dc "$volume" > "$work/volume.npy" ;;
  *)    cp "$volume" "$work/volume.npy" ;;
esac

# Our module first, then the GEGL plug-ins the tests load (tests/meson.build).
GEGL_PATH="$build/operations:$build/tests/gegl-plugins"
export GEGL_PATH

size=$(stat -c %s "$work/volume.npy")

# Runs gegl under /usr/bin/time -v; prints the peak resident set in KiB.
peak_kib () {
  /usr/bin/time -v gegl "$@" 2> "$work/time.txt" >/dev/null || {
    cat "$work/time.txt" >&2
    exit 1
  }
  # Our messages only: with big images GEGL itself may warn at exit that
  # its swap file was still being written.
  if grep -q "gegl-seg-WARNING\|CRITICAL" "$work/time.txt"; then
    cat "$work/time.txt" >&2
    exit 1
  fi
  sed -n 's/^[[:space:]]*Maximum resident set size (kbytes): //p' \
    "$work/time.txt"
}

report () {
  awk -v what="$1" -v kib="$2" -v size="$size" 'BEGIN {
    printf "%-44s peak RSS %7.1f MiB = %.2f × the volume (%.0f MiB)\n",
           what, kib / 1024, kib * 1024 / size, size / 1048576 }'
}

copy_kib=$(peak_kib "$work/volume.npy" -o "$work/copy.npy")
cmp "$work/volume.npy" "$work/copy.npy"
report "gegl volume.npy -o copy.npy" "$copy_kib"

half_kib=$(peak_kib "$work/volume.npy" -o "$work/half.npy" -- \
           seg:countless-3d depth=512)
report "… -o half.npy -- seg:countless-3d depth=512" "$half_kib"

# Within 1.5 × the volume, as the issue asks.
awk -v kib="$copy_kib" -v size="$size" 'BEGIN {
  exit !(kib * 1024 < 1.5 * size) }' || {
  echo "bench-npy-memory: the copy peaked above 1.5 × the volume" >&2
  exit 1
}
