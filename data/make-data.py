#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-3.0-or-later
"""Makes the small sample inputs in data/ from the shared 512³ connectomics
label volume (a development-only file, not shipped).  Run it from the
repository root:  python3 data/make-data.py ../shared/data/connectomics512_zyx_u32.npy.gz

  labels-colour.png        256×256 colour-coded label map (R'G'B' u8) of one
                           slice: each label a distinct colour, background black.
  volume-128x128x64.png    a 128×128×64 crop as a stack of 64 slices
                           (128 × 8192, Y' u16); labels renumbered 1… in order of
                           first appearance, background 0 kept as 0.
  labels-48x80x80-u32.npy.gz
                           a 48×80×80 crop, C order (z, y, x), the original
                           uint32 labels, gzipped .npy (the Python package's
                           Dask and OME-Zarr tests).
"""
import gzip
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pngio import write_png  # noqa: E402


def colour_of(labels):
    """Distinct, non-black colours for the labels, from a hash of each."""
    h = (labels.astype(np.uint64) * np.uint64(0x9E3779B1)) & np.uint64(0xffffff)
    rgb = np.stack([(h >> np.uint64(s)) & np.uint64(0xff) for s in (16, 8, 0)],
                   axis=-1).astype(np.uint8)
    rgb[labels == 0] = 0
    rgb[(labels != 0) & (rgb.sum(axis=-1) == 0)] = (1, 1, 1)
    return rgb


def main():
    with gzip.open(sys.argv[1], 'rb') as f:
        volume = np.load(f)
    assert volume.shape == (512, 512, 512) and volume.dtype == np.uint32

    slice_labels = volume[256, 128:384, 128:384]
    colours = colour_of(slice_labels)
    distinct = np.unique(slice_labels)
    keys = np.unique(colours.reshape(-1, 3), axis=0)
    assert len(keys) == len(distinct), 'two labels share a colour'
    write_png('data/labels-colour.png', colours, 8, 2)

    crop = volume[200:264, 192:320, 192:320]
    flat = crop.reshape(-1)
    _, first = np.unique(flat, return_index=True)
    order = np.unique(flat)[np.argsort(first)]
    renumber = {int(v): i + 1 for i, v in enumerate(order[order != 0])}
    renumber[0] = 0
    compact = np.vectorize(renumber.get, otypes=[np.uint16])(crop)
    assert len(renumber) < 65536
    write_png('data/volume-128x128x64.png', compact.reshape(64 * 128, 128),
              16, 0)

    crop = np.ascontiguousarray(volume[224:272, 216:296, 216:296])
    with gzip.GzipFile('data/labels-48x80x80-u32.npy.gz', 'wb',
                       mtime=0) as f:
        np.save(f, crop)


if __name__ == '__main__':
    main()
