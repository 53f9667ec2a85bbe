#!/bin/sh
# SPDX-License-Identifier: LGPL-3.0-or-later
#
# The gegl-seg demo: downsamples the bundled label images with the installed
# module, from the plain gegl command line, and says where the results are.
#   data/demo.sh [output-folder]      (default: ./demo-output)
set -eu

here=$(cd "$(dirname "$0")" && pwd)
out=${1:-demo-output}
mkdir -p "$out"
out=$(cd "$out" && pwd)

# Start-up: gegl loads every module of GEGL's plug-in folder (FFmpeg's,
# Poppler's …) before each command, most of its time on images this small.
# gegl-seg-lean, installed with the module, names a folder of links to only
# the modules these commands use: the demo takes 0.7 s instead of 2.2 s
# (docs/performance.md, "Start-up time"), and writes the same bytes.  It fails, and
# plain gegl runs, when it is not installed or its links lead nowhere.
if plugins=$(gegl-seg-lean 2>/dev/null); then
  GEGL_PATH=$plugins
  export GEGL_PATH
  echo "GEGL plug-ins from $plugins (gegl-seg-lean)"
fi

run () {
  echo "+ gegl $*"
  gegl "$@"
}

# A colour-coded label map (256×256, R'G'B' u8): every output pixel is a
# colour that was in its block, never a blend.
run "$here/labels-colour.png" -o "$out/labels-colour-2x2.png" -- \
    seg:mode-pool factor-x=2 factor-y=2
run -i "$here/colour-labels-mode-3x3.xml" -o "$out/labels-colour-3x3-sparse.png"

# A real 128×128×64 connectomics label crop, held as a stack of 64 slices
# (128 × 8192, Y' u16): two levels of a label pyramid, 64³ then 32³.
run -i "$here/volume-countless-3d.xml" -o "$out/volume-64x64x32.png"
run "$here/volume-128x128x64.png" -o "$out/volume-32x32x16.png" -- \
    seg:countless-3d depth=64 seg:countless-3d depth=32
run "$here/volume-128x128x64.png" -o "$out/volume-32x64x64-mode-4x2x1.png" -- \
    seg:mode-pool factor-x=4 factor-y=2 depth=64

# A partly acquired grey-level volume (16 slices of 128×128, Y' u8):
# averaged 2×2×2 with background left out, and plainly, which darkens
# ("ghosts") every block that straddles the edge of the acquired region.
run "$here/em-sparse-128x128x16.png" -o "$out/em-sparse-average-2x2x2.png" -- \
    seg:sparse-average factor-z=2 depth=16
run "$here/em-sparse-128x128x16.png" -o "$out/em-plain-average-2x2x2.png" -- \
    seg:sparse-average factor-z=2 depth=16 sparse=false

# NumPy volumes: the label crop saved as .npy (a (8192, 128) uint16 image),
# then loaded, pooled 2×2×2 and saved as a (32, 64, 64) uint16 volume.
run "$here/volume-128x128x64.png" -o "$out/volume-128x128x64.npy"
run "$out/volume-128x128x64.npy" -o "$out/volume-64x64x32.npy" -- \
    seg:countless-3d depth=64

for f in labels-colour-2x2.png labels-colour-3x3-sparse.png \
         volume-64x64x32.png volume-32x32x16.png volume-32x64x64-mode-4x2x1.png \
         em-sparse-average-2x2x2.png em-plain-average-2x2x2.png \
         volume-128x128x64.npy volume-64x64x32.npy; do
  test -s "$out/$f" || { echo "demo: $out/$f was not written" >&2; exit 1; }
done

echo
echo "gegl-seg demo: results are in $out"
ls -l "$out"
