#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-3.0-or-later
"""Writes the .npy fixtures in data/npy/ with NumPy's own np.save, for the
tests of seg:npy-load and seg:npy-save.  Run it from the repository root:
    /usr/bin/python3 data/npy/make-fixtures.py

Every array holds the same bytes in memory (native little-endian order):
byte j of the data is pattern_byte(j), for bool arrays pattern_bit(j), so a
test can recompute what a file holds from its dtype and size alone.

  <dtype>-c.npy    C order, shape (3, 5, 7): 3 slices of 7 × 5
  <dtype>-f.npy    Fortran order, shape (7, 5, 3): the same memory
  <dtype>-be.npy   C order, big-endian dtype, same values (so the bytes in
                   the file are swapped), for dtypes wider than one byte
  u2-2d-c.npy      C order, shape (5, 7): one 7 × 5 image
  u2-2d-f.npy      Fortran order, shape (7, 5): the same memory
  u4-1d.npy        shape (11,): one row
  f8-0d.npy        shape (): one value
  u4-v2.npy        format version 2.0 (4-byte header length)
  u4-v3.npy        format version 3.0 (UTF-8 header)

dtypes: b1 u1 u2 u4 u8 i1 i2 i4 i8 f2 f4 f8.
"""
import os

import numpy as np

DTYPES = ['b1', 'u1', 'u2', 'u4', 'u8', 'i1', 'i2', 'i4', 'i8',
          'f2', 'f4', 'f8']
SHAPE = (3, 5, 7)
HERE = os.path.dirname(os.path.abspath(__file__))


def pattern(dtype, count):
    """count elements of dtype whose little-endian bytes follow the
    pattern (tests/test-gegl-npy.c computes the same)."""
    dtype = np.dtype(dtype).newbyteorder('<')
    j = np.arange(count * dtype.itemsize, dtype=np.uint64)
    if dtype.kind == 'b':
        raw = ((j * 37 + 11) >> 2) & 1
    else:
        raw = (j * 37 + 11) & 0xff
    return np.frombuffer(raw.astype(np.uint8).tobytes(), dtype)


def save(name, array, version=None):
    path = os.path.join(HERE, name)
    if version is None:
        np.save(path, array)
    else:
        with open(path, 'wb') as f:
            np.lib.format.write_array(f, array, version=version)


def main():
    count = int(np.prod(SHAPE))
    for d in DTYPES:
        c = pattern(d, count).reshape(SHAPE)
        save(d + '-c.npy', c)
        # Fortran order (X, Y, Z): the transpose of c shares its memory.
        f = c.T
        assert f.flags.f_contiguous and f.shape == SHAPE[::-1]
        save(d + '-f.npy', f)
        if np.dtype(d).itemsize > 1:
            save(d + '-be.npy', c.astype(np.dtype(d).newbyteorder('>')))

    image = pattern('u2', 35).reshape(5, 7)
    save('u2-2d-c.npy', image)
    save('u2-2d-f.npy', image.T)
    save('u4-1d.npy', pattern('u4', 11))
    save('f8-0d.npy', pattern('f8', 1).reshape(()))
    volume = pattern('u4', count).reshape(SHAPE)
    save('u4-v2.npy', volume, version=(2, 0))
    save('u4-v3.npy', volume, version=(3, 0))


if __name__ == '__main__':
    main()
