#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-3.0-or-later
"""seg:resample-3d from Python on NumPy volumes (seg:npy-load → op →
seg:npy-save), against PyTorch's F.interpolate on float64 tensors when
python3-torch is installed (skipped otherwise):

  - nearest (nearest-exact) on every dtype: the bits PyTorch's indices
    pick, labels of u4 and u8 that float32 would change included;
  - area (adaptive_avg_pool3d) on float64: the same bits, but where every
    output axis is 1 (PyTorch then takes a plain mean, summed in another
    order), within a unit in the last place;
  - linear (trilinear) on float64: within 8 units in the last place of
    the volume's largest number (PyTorch's x86 builds use fused
    multiply-adds, and the order of their sums differs), and on uint8 the
    rounding of PyTorch's float64 result but where that lies within
    1e-9 of a half;

random sizes and the odd ratios 26 → 22, 2 → 25, 39 → 33, 1 → 7, 7 → 1 on
each axis; the output is (out-depth, height, width), (height, width)
for an image.  Prints TAP."""
import os
import sys
import tempfile

import gi
gi.require_version('Gegl', '0.4')
from gi.repository import Gegl  # noqa: E402
import numpy as np  # noqa: E402

try:
    import torch
    import torch.nn.functional as F
except ImportError:
    torch = None

NAMED = [(26, 22), (2, 25), (39, 33), (1, 7), (7, 1)]


def resample(tmp, volume, size, mode):
    src = os.path.join(tmp, 'in.npy')
    dst = os.path.join(tmp, 'out.npy')
    np.save(src, volume)
    graph = Gegl.Node()
    load = graph.create_child('seg:npy-load')
    load.set_property('path', src)
    op = graph.create_child('seg:resample-3d')
    op.set_property('depth', volume.shape[0])
    op.set_property('out-depth', size[0])
    op.set_property('height', size[1])
    op.set_property('width', size[2])
    op.set_property('mode', mode)
    save = graph.create_child('seg:npy-save')
    save.set_property('path', dst)
    load.link(op)
    op.link(save)
    save.process()
    got = np.load(dst)
    # A volume of one slice resized to one slice is an image, as the
    # pooling ops make it: (height, width).
    want = size[1:] if volume.shape[0] == 1 and size[0] == 1 else size
    if got.shape != tuple(want):
        return None
    return got.reshape(size)


def torch_of(volume, size, mode):
    t = torch.from_numpy(np.ascontiguousarray(volume, np.float64))[None, None]
    if mode == 'nearest':
        return F.interpolate(t, size=size, mode='nearest-exact')[0, 0].numpy()
    if mode == 'linear':
        return F.interpolate(t, size=size, mode='trilinear',
                             align_corners=False)[0, 0].numpy()
    return F.adaptive_avg_pool3d(t, size)[0, 0].numpy()


def random_shapes(rng):
    shape, size = [], []
    named = rng.randint(0, 4)
    for axis in range(3):
        if axis == named:
            a, b = NAMED[rng.randint(0, len(NAMED))]
            if rng.randint(0, 2):
                a, b = b, a
        else:
            a, b = rng.randint(1, 9), rng.randint(1, 12)
        shape.append(a)
        size.append(b)
    return tuple(shape), tuple(size)


def within_ulps(got, want, n):
    spacing = np.spacing(np.maximum(np.abs(got), np.abs(want)))
    return bool(np.all(np.abs(got - want) <= n * spacing))


def nearest_indices_pick(volume, got, size):
    """The bits of got are those of volume at PyTorch's nearest-exact
    indices (found by resampling the indices themselves)."""
    index = np.arange(volume.size, dtype=np.float64).reshape(volume.shape)
    picked = torch_of(index, size, 'nearest').astype(np.int64)
    want = volume.reshape(-1)[picked.reshape(-1)].reshape(picked.shape)
    return got.dtype == volume.dtype and got.tobytes() == want.tobytes()


def main():
    if torch is None:
        print('1..0 # SKIP python3-torch is not installed')
        return 0
    Gegl.init(None)
    rng = np.random.RandomState(16)
    tmp = tempfile.mkdtemp(prefix='gegl-seg-resample-')
    results = []

    for trial in range(60):
        shape, size = random_shapes(rng)
        what = '%s → %s' % (shape, size)

        dtype = ['u1', 'u2', 'u4', 'u8', 'i2', 'f4', 'f8'][trial % 7]
        raw = rng.randint(0, 256, size=int(np.prod(shape)) *
                          np.dtype(dtype).itemsize).astype(np.uint8)
        labels = np.frombuffer(raw.tobytes(), dtype).reshape(shape)
        got = resample(tmp, labels, size, 'nearest')
        results.append(('nearest %s %s' % (dtype, what),
                        got is not None and
                        nearest_indices_pick(labels, got, size)))

        volume = rng.standard_normal(shape) * 10 ** rng.randint(-3, 4)
        got = resample(tmp, volume, size, 'area')
        want = torch_of(volume, size, 'area')
        exact = any(s != 1 for s in size)
        results.append(('area f8 %s' % what,
                        got is not None and
                        (np.array_equal(got, want) if exact
                         else within_ulps(got, want, 1))))

        got = resample(tmp, volume, size, 'linear')
        want = torch_of(volume, size, 'linear')
        # A weighted mean of the volume's numbers: both within a few
        # units in the last place of its largest one.
        bound = 8 * np.finfo(np.float64).eps * np.abs(volume).max()
        results.append(('linear f8 %s' % what,
                        got is not None and
                        bool(np.all(np.abs(got - want) <= bound))))

        bytes_ = rng.randint(0, 256, size=shape).astype(np.uint8)
        got = resample(tmp, bytes_, size, 'linear')
        want = torch_of(bytes_, size, 'linear')
        # Halves away from zero; a result within 1e-9 of a half may round
        # either way between builds.
        near_half = np.abs(want - np.floor(want) - 0.5) < 1e-9
        rounded = np.floor(want + 0.5).astype(np.uint8)
        results.append(('linear u1 %s' % what,
                        got is not None and got.dtype == np.uint8 and
                        bool(np.all((got == rounded) | near_half))))

    print('1..%d' % len(results))
    for i, (name, ok) in enumerate(results, 1):
        print('%s %d - %s' % ('ok' if ok else 'not ok', i, name))
    return 0 if all(ok for _, ok in results) else 1


if __name__ == '__main__':
    sys.exit(main())
