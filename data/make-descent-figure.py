#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-3.0-or-later
"""Makes data/figures/descent-direction.png, the picture of
docs/descent-direction.md: slice 4 of a smooth random field of 8 slices of
128 × 128 (left, grey: dark is low), its steepest-descent directions by
seg:descent-direction (middle, coloured) and the legend of the colours
(right): three 3 × 3 grids, for a step in z of −1, 0 and +1, each cell at
the place of its step in y (down) and x (across); the middle cell of the
middle grid is the centre (a local minimum).

Colours: the hue says the direction within the slice, pure steps in z are
dark grey (z − 1) and light grey (z + 1), the centre is black; steps to the
slice above are darker, to the slice below paler.

Runs the real op through the gegl program; GEGL_PATH must reach the module
(run from the repository root):
  GEGL_PATH=build/operations /usr/bin/python3 data/make-descent-figure.py
"""
import colorsys
import math
import os
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pngio import write_png  # noqa: E402

OUT = 'data/figures/descent-direction.png'
DEPTH, SIDE, SLICE = 8, 128, 4


def smooth_field():
    """White noise blurred by Gaussians of 4 voxels along each axis, by FFT:
    a field with a few dozen basins per slice."""
    rng = np.random.default_rng(15)
    noise = rng.standard_normal((DEPTH, SIDE, SIDE))
    k = [np.fft.fftfreq(n) for n in noise.shape]
    kz, ky, kx = np.meshgrid(*k, indexing='ij')
    sigma = np.array([4.0, 4.0, 4.0])
    gauss = np.exp(-2 * math.pi ** 2 * ((kz * sigma[0]) ** 2 +
                                        (ky * sigma[1]) ** 2 +
                                        (kx * sigma[2]) ** 2))
    return np.ascontiguousarray(
        np.real(np.fft.ifftn(np.fft.fftn(noise) * gauss)), np.float32)


def colour(index):
    """The legend's colour of direction index, as (r, g, b) 0 … 255."""
    dz, dy, dx = index // 9 - 1, index // 3 % 3 - 1, index % 3 - 1
    if dy == 0 and dx == 0:
        return {-1: (90, 90, 90), 0: (0, 0, 0), 1: (235, 235, 235)}[dz]
    hue = (math.atan2(-dy, dx) / (2 * math.pi)) % 1.0
    sat, val = {-1: (1.0, 0.55), 0: (1.0, 0.9), 1: (0.45, 1.0)}[dz]
    return tuple(int(round(255 * c)) for c in colorsys.hsv_to_rgb(hue, sat,
                                                                   val))


def legend(cell):
    grids = np.full((3 * cell, 3 * (3 * cell) + 2 * cell, 3), 255, np.uint8)
    for dz in range(3):
        for dy in range(3):
            for dx in range(3):
                x0 = dz * 4 * cell + dx * cell
                y0 = dy * cell
                grids[y0 + 1:y0 + cell - 1, x0 + 1:x0 + cell - 1] = colour(
                    dz * 9 + dy * 3 + dx)
    return grids


def main():
    field = smooth_field()
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = os.path.join(tmp, 'field.npy'), os.path.join(tmp, 'l.npy')
        np.save(src, field)
        subprocess.run(['gegl', src, '-o', dst, '--', 'seg:descent-direction',
                        'depth=%d' % DEPTH], check=True)
        labels = np.load(dst)
    s = field[SLICE]
    grey = ((s - s.min()) / (s.max() - s.min()) * 255).astype(np.uint8)
    palette = np.array([colour(i) for i in range(27)], np.uint8)
    scale, gap, cell = 2, 12, 20
    left = np.repeat(np.repeat(np.stack([grey] * 3, -1), scale, 0), scale, 1)
    middle = np.repeat(np.repeat(palette[labels[SLICE]], scale, 0), scale, 1)
    key = legend(cell)
    height = SIDE * scale
    width = 2 * SIDE * scale + key.shape[1] + 2 * gap
    image = np.full((height, width, 3), 255, np.uint8)
    image[:, :SIDE * scale] = left
    image[:, SIDE * scale + gap:2 * SIDE * scale + gap] = middle
    top = (height - key.shape[0]) // 2
    image[top:top + key.shape[0], 2 * SIDE * scale + 2 * gap:] = key
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    write_png(OUT, image, 8, 2)


if __name__ == '__main__':
    main()
