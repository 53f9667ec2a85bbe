#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-3.0-or-later
"""Makes data/em-sparse-128x128x16.png, a small sparse grey-level volume for
the seg:sparse-average demo and tests, from the bundled label crop
data/volume-128x128x64.png (its first 16 slices).  Run from the repository
root:  /usr/bin/python3 data/make-em-volume.py

It looks like an EM image that was only partly acquired: cell interiors are
mid grey (a shade per cell), membranes between cells dark, and the part of
each slice left of a boundary that moves from slice to slice was never
imaged: background, 0.  Averaging 2×2×2 without leaving background out
darkens every output voxel whose block straddles that boundary ("ghosting");
with sparse averaging it keeps the grey of the tissue.

  em-sparse-128x128x16.png   128 × 2048 (16 slices of 128 × 128), Y' u8
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pngio import read_png, write_png  # noqa: E402


def em_like(labels):
    """Grey levels 40…220 from a label volume (z, y, x); never 0: a
    textured interior (organelle-like blobs), dark membranes."""
    d, h, w = labels.shape
    z, y, x = np.meshgrid(np.arange(d), np.arange(h), np.arange(w),
                          indexing='ij')
    texture = (np.sin(x / 4.0 + np.sin(y / 9.0)) *
               np.cos(y / 5.0 + z / 4.0 + np.cos(x / 11.0)))
    grey = (150 + 60 * texture).astype(np.int32)
    membrane = np.zeros(labels.shape, bool)
    membrane[:, 1:, :] |= labels[:, 1:, :] != labels[:, :-1, :]
    membrane[:, :, 1:] |= labels[:, :, 1:] != labels[:, :, :-1]
    grey[membrane] = 40
    grey[labels == 0] = 60
    return grey.astype(np.uint8)


def main():
    stack = read_png('data/volume-128x128x64.png')      # (64·128, 128) u16
    labels = stack.reshape(64, 128, 128)[:16]
    grey = em_like(labels)
    d, h, w = grey.shape
    z = np.arange(d)[:, None, None]
    y = np.arange(h)[None, :, None]
    x = np.arange(w)[None, None, :]
    # The edge of the acquired region: a slanted line that moves by 6
    # pixels from one slice to the next, back and forth.
    edge = 40 + 6 * (z % 2) + 10 * np.sin(z / 3.0) + 0.25 * y
    grey[np.broadcast_to(x < edge, grey.shape)] = 0
    write_png('data/em-sparse-128x128x16.png', grey.reshape(d * h, w), 8, 0)


if __name__ == '__main__':
    main()
