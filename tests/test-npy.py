#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-3.0-or-later
"""seg:npy-load and seg:npy-save from Python, against NumPy itself: random
arrays of every dtype, in C and Fortran order and both byte orders, written
by np.save here, go through seg:npy-load → seg:npy-save, and np.load must
give back the same values bit for bit, in the same dtype, as a C-order
array (a Fortran-order (X, Y, Z) array comes back as (Z, Y, X)).
Prints TAP."""
import os
import sys
import tempfile

import gi
gi.require_version('Gegl', '0.4')
from gi.repository import Gegl  # noqa: E402
import numpy as np  # noqa: E402

DTYPES = ['b1', 'u1', 'u2', 'u4', 'u8', 'i1', 'i2', 'i4', 'i8',
          'f2', 'f4', 'f8']


def random_array(rng, dtype, shape):
    dtype = np.dtype(dtype)
    if dtype.kind == 'b':
        return rng.randint(0, 2, size=shape).astype(bool)
    # Every bit pattern, NaNs and infinities of floats included.
    raw = rng.randint(0, 256, size=int(np.prod(shape)) * dtype.itemsize)
    return np.frombuffer(raw.astype(np.uint8).tobytes(),
                         dtype.newbyteorder('=')).reshape(shape)


def through_gegl(src, dst, loader='seg:npy-load'):
    graph = Gegl.Node()
    load = graph.create_child(loader)
    load.set_property('path', src)
    save = graph.create_child('seg:npy-save')
    save.set_property('path', dst)
    load.link(save)
    save.process()


def same_bits(a, b):
    if a.shape != b.shape:
        return False
    width = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}
    a = np.ascontiguousarray(a.astype(a.dtype.newbyteorder('=')))
    b = np.ascontiguousarray(b.astype(b.dtype.newbyteorder('=')))
    return np.array_equal(a.view(width[a.dtype.itemsize]),
                          b.view(width[b.dtype.itemsize]))


def main():
    Gegl.init(None)
    rng = np.random.RandomState(42)
    tmp = tempfile.mkdtemp(prefix='gegl-seg-npy-py-')
    src = os.path.join(tmp, 'in.npy')
    dst = os.path.join(tmp, 'out.npy')
    results = []

    for d in DTYPES:
        orders = ['<', '>'] if np.dtype(d).itemsize > 1 else ['|']
        for order in orders:
            for fortran in (False, True):
                for shape in ((4, 6, 5), (9, 3)):
                    a = random_array(rng, d, shape)
                    a = a.astype(a.dtype.newbyteorder(order))
                    want = a
                    if fortran:
                        a = np.asfortranarray(a.T)
                        want = np.ascontiguousarray(a.T)
                    np.save(src, a)
                    through_gegl(src, dst)
                    got = np.load(dst)
                    ok = (got.dtype == want.dtype.newbyteorder('=') and
                          got.flags.c_contiguous and same_bits(got, want))
                    results.append(('%s%s %s %s' % (
                        order, d, 'F' if fortran else 'C', shape), ok))

    # gegl:load finds seg:npy-load by the extension; 64-bit labels whose
    # values a float would round.
    labels = (rng.randint(0, 2 ** 62, size=(3, 8, 8), dtype=np.int64) *
              2 + 1).astype(np.uint64) | np.uint64(1 << 63)
    np.save(src, labels)
    through_gegl(src, dst, loader='gegl:load')
    got = np.load(dst)
    results.append(('uint64 labels through gegl:load',
                    got.dtype == np.uint64 and np.array_equal(got, labels)))

    for name in os.listdir(tmp):
        os.unlink(os.path.join(tmp, name))
    os.rmdir(tmp)

    print('1..%d' % len(results))
    for i, (name, ok) in enumerate(results, 1):
        print('%s %d - %s' % ('ok' if ok else 'not ok', i, name))
    return 0 if all(ok for _, ok in results) else 1


if __name__ == '__main__':
    sys.exit(main())
