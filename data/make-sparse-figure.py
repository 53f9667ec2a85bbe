#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-3.0-or-later
"""Makes data/figures/sparse-average.png, the README's picture of why sparse
averaging matters: slices 0 and 1 of data/em-sparse-128x128x16.png, then
slice 0 of that volume downsampled 2×2×2 by seg:sparse-average with sparse
off and with sparse on, side by side (all at twice their size, the pooled
slices at four times).

Runs the real op through the gegl program; GEGL_PATH must reach the module
(run from the repository root):
  GEGL_PATH=build/operations:$(pkg-config --variable=pluginsdir gegl-0.4) \\
      /usr/bin/python3 data/make-sparse-figure.py
"""
import os
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pngio import read_png, write_png  # noqa: E402

VOLUME = 'data/em-sparse-128x128x16.png'


def pooled_slice0(sparse, tmp):
    out = os.path.join(tmp, 'sparse.png' if sparse else 'plain.png')
    subprocess.run(['gegl', VOLUME, '-o', out, '--', 'seg:sparse-average',
                    'factor-z=2', 'depth=16',
                    'sparse=' + ('true' if sparse else 'false')], check=True)
    # gegl:png-save writes 16 bits: v · 257.
    return (read_png(out)[:64] // 257).astype(np.uint8)


def main():
    stack = read_png(VOLUME).reshape(16, 128, 128)
    with tempfile.TemporaryDirectory() as tmp:
        plain = pooled_slice0(False, tmp)
        sparse = pooled_slice0(True, tmp)
    gap = np.full((128, 6), 255, np.uint8)
    double = np.ones((2, 2), np.uint8)
    row = np.concatenate([stack[0], gap, stack[1], gap,
                          np.kron(plain, double), gap,
                          np.kron(sparse, double)], axis=1)
    os.makedirs('data/figures', exist_ok=True)
    write_png('data/figures/sparse-average.png', np.kron(row, double), 8, 0)


if __name__ == '__main__':
    main()
