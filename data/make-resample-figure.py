#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-3.0-or-later
"""Makes data/figures/resample-3d.png, the picture of docs/resample.md:
a 40 × 40 corner of data/labels-colour.png (left) resized by
seg:resample-3d to 100 × 100 with mode=nearest (second: every colour is a
label of the input, no new one appears), and a 40 × 40 corner of slice 0
of the EM-like volume data/em-sparse-128x128x16.png, where the tissue
begins (third), resized to 100 × 100 with mode=linear (right).  Inputs are shown 5 times, outputs 2 times as large,
pixel for pixel.

Runs the real op through the gegl program; GEGL_PATH must reach the module
(run from the repository root):
  GEGL_PATH=build/operations /usr/bin/python3 data/make-resample-figure.py
"""
import os
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pngio import read_png, write_png  # noqa: E402

OUT = 'data/figures/resample-3d.png'
SIDE, TO = 40, 100


def resized(image, mode, tmp):
    src, dst = os.path.join(tmp, 'in.png'), os.path.join(tmp, 'out.png')
    write_png(src, image, 16 if image.dtype == np.uint16 else 8,
              2 if image.ndim == 3 else 0)
    subprocess.run(['gegl', src, '-o', dst, '--', 'seg:resample-3d',
                    'width=%d' % TO, 'height=%d' % TO, 'mode=%s' % mode],
                   check=True)
    return read_png(dst)


def rgb(image):
    return image if image.ndim == 3 else np.stack([image] * 3, -1)


def main():
    labels = read_png('data/labels-colour.png')[:SIDE, :SIDE, :3]
    em = read_png('data/em-sparse-128x128x16.png')[:SIDE, 50:50 + SIDE]
    with tempfile.TemporaryDirectory() as tmp:
        em_out = resized(em, 'linear', tmp)
        panels = [np.kron(labels, np.ones((5, 5, 1), np.uint8)),
                  np.kron(rgb(resized(labels, 'nearest', tmp))[..., :3],
                          np.ones((2, 2, 1), np.uint8)),
                  np.kron(rgb(em), np.ones((5, 5, 1), np.uint8)),
                  np.kron(rgb(em_out), np.ones((2, 2, 1), np.uint8))]
    gap = 12
    width = sum(p.shape[1] for p in panels) + gap * (len(panels) - 1)
    image = np.full((panels[0].shape[0], width, 3), 255, np.uint8)
    x = 0
    for p in panels:
        image[:, x:x + p.shape[1]] = p
        x += p.shape[1] + gap
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    write_png(OUT, image, 8, 2)


if __name__ == '__main__':
    main()
