#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-3.0-or-later
"""The module from Python through GObject introspection, as the README shows
it, checked against a NumPy mode pooling written here from DESIGN.md's rules
(a second, independent reference).  Prints TAP."""
import os
import sys

import gi
gi.require_version('Gegl', '0.4')
from gi.repository import Gegl  # noqa: E402
import numpy as np  # noqa: E402

DATA = os.environ.get('SEG_DATA_DIR', 'data')


def numpy_mode_pool(volume, f, sparse=False):
    """Mode of each f = (fz, fy, fx) block of a (z, y, x) array: ties first
    in raster order; partial blocks at the far edges use what exists."""
    depth, height, width = volume.shape
    out = np.zeros([-(-s // k) for s, k in zip(volume.shape, f)], volume.dtype)
    for oz, oy, ox in np.ndindex(out.shape):
        block = volume[oz * f[0]:(oz + 1) * f[0], oy * f[1]:(oy + 1) * f[1],
                       ox * f[2]:(ox + 1) * f[2]].reshape(-1)
        if sparse:
            block = block[block != 0]
            if block.size == 0:
                continue
        counts = (block[:, None] == block[None, :]).sum(axis=1)
        out[oz, oy, ox] = block[np.argmax(counts)]  # argmax: first maximum
    return out


def numpy_sparse_average(volume, f):
    """Mean of the non-zero values of each f = (fz, fy, fx) block of a
    (z, y, x) array, rounded down; 0 for a block of zeros."""
    out = np.zeros([-(-s // k) for s, k in zip(volume.shape, f)], volume.dtype)
    for oz, oy, ox in np.ndindex(out.shape):
        block = volume[oz * f[0]:(oz + 1) * f[0], oy * f[1]:(oy + 1) * f[1],
                       ox * f[2]:(ox + 1) * f[2]].reshape(-1)
        block = block[block != 0].astype(np.int64)
        if block.size:
            out[oz, oy, ox] = block.sum() // block.size
    return out


def numpy_countless(image):
    """COUNTLESS for full 2×2 blocks (even sizes)."""
    a, b = image[0::2, 0::2], image[0::2, 1::2]
    c, d = image[1::2, 0::2], image[1::2, 1::2]
    return np.where((a == b) | (a == c), a, np.where(b == c, b, d))


def buffer_from_array(array, fmt):
    height, width = array.shape
    buffer = Gegl.Buffer.new(fmt, 0, 0, width, height)
    buffer.set(Gegl.Rectangle.new(0, 0, width, height), fmt, array.tobytes())
    return buffer


def pool_with_gegl(image, fmt, operation, **properties):
    """buffer-source → operation → a buffer read back in fmt, as an array."""
    graph = Gegl.Node()
    source = graph.create_child('gegl:buffer-source')
    source.set_property('buffer', buffer_from_array(image, fmt))
    pool = graph.create_child(operation)
    for name, value in properties.items():
        pool.set_property(name.replace('_', '-'), value)
    source.link(pool)
    box = pool.get_bounding_box()
    out = Gegl.Buffer.new(fmt, box.x, box.y, box.width, box.height)
    pool.blit_buffer(out, box, 0, Gegl.AbyssPolicy.NONE)
    data = out.get(box, 1.0, fmt, Gegl.AbyssPolicy.NONE)
    return np.frombuffer(data, image.dtype).reshape(box.height, box.width)


def main():
    Gegl.init(None)
    rng = np.random.RandomState(7)
    results = []

    # A volume of uint32 labels, 5 slices of 13 × 11, through seg:countless-3d.
    volume = rng.randint(0, 4, size=(5, 11, 13)).astype(np.uint32) * 0x01010101
    got = pool_with_gegl(volume.reshape(55, 13), 'Y u32', 'seg:countless-3d',
                         depth=5)
    want = numpy_mode_pool(volume, (2, 2, 2)).reshape(-1, 7)
    results.append(('countless-3d on a u32 volume equals NumPy',
                    got.shape == want.shape and np.array_equal(got, want)))

    # 2×2 COUNTLESS on u16 labels, even size.
    image = rng.randint(0, 5, size=(40, 30)).astype(np.uint16) * 0x0101
    got = pool_with_gegl(image, 'Y u16', 'seg:mode-pool')
    results.append(('mode-pool 2x2 on u16 equals NumPy COUNTLESS',
                    np.array_equal(got, numpy_countless(image))))

    # Sparse 3×2×2 on an odd-sized volume of u8 labels.
    volume = rng.randint(0, 3, size=(4, 9, 10)).astype(np.uint8)
    got = pool_with_gegl(volume.reshape(36, 10), 'Y u8', 'seg:mode-pool',
                         factor_x=3, factor_y=2, factor_z=2, depth=4,
                         sparse=True)
    want = numpy_mode_pool(volume, (2, 2, 3), sparse=True).reshape(-1, 4)
    results.append(('sparse mode-pool 3x2x2 on a u8 volume equals NumPy',
                    got.shape == want.shape and np.array_equal(got, want)))

    # Sparse averaging (the default) 3×2×2 of a u16 volume, a third of it
    # background, values up to the maximum: odd sizes, partial blocks.
    volume = rng.randint(0, 65536, size=(5, 9, 10)).astype(np.uint16)
    volume[rng.rand(*volume.shape) < 0.35] = 0
    got = pool_with_gegl(volume.reshape(45, 10), 'Y u16', 'seg:sparse-average',
                         factor_x=3, factor_y=2, factor_z=2, depth=5)
    want = numpy_sparse_average(volume, (2, 2, 3)).reshape(-1, 4)
    results.append(('sparse-average 3x2x2 on a u16 volume equals NumPy',
                    got.shape == want.shape and np.array_equal(got, want)))

    print('1..%d' % len(results))
    for i, (name, ok) in enumerate(results, 1):
        print('%s %d - %s' % ('ok' if ok else 'not ok', i, name))
    Gegl.exit()
    return 0 if all(ok for _, ok in results) else 1


if __name__ == '__main__':
    sys.exit(main())
