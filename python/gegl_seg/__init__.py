# SPDX-License-Identifier: LGPL-3.0-or-later
"""gegl-seg from NumPy: label-safe pooling, averaging, label statistics,
descent directions and resampling of 2D images and 3D volumes, computed by
GEGL graphs of the gegl-seg ops.

Arrays of every dtype of gegl-seg's `.npy` table (uint8/16/32/64,
int8/16/32/64, float16/32/64, bool) go in and come out bit for bit, in C
order (a volume is `(z, y, x)`) or Fortran order (tinybrain's `(x, y, z)`).
Per-axis arguments (factors, sizes, spacings) are given in the array's own
axis order, and results come back in the input's memory order.  The axis
that varies fastest in memory is x (raster order, which breaks ties): the
last axis of a C-order array, the first of a Fortran-order one or of a
view of one.

`gegl_seg.dask` runs pyramids and label statistics block-wise on Dask
arrays, `gegl_seg.ome_zarr` writes OME-Zarr label pyramids; see
docs/python.md.
"""
import os
import tempfile

import numpy as np

from . import _gegl

__all__ = [
    'mode_pool', 'countless3d', 'sparse_average', 'label_stats',
    'descent_direction', 'resample', 'pyramid',
    'downsample_segmentation', 'downsample_with_averaging',
]

MAX_FACTOR = 64      # DESIGN.md: factors are whole numbers 1 … 64
MAX_SIZE = 65536     # seg:resample-3d's largest size per axis
RESAMPLE_MODES = ('nearest', 'linear', 'area')


def _fail(function, message, *args):
    raise ValueError('gegl_seg.%s: %s' % (function, message % args))


def _fail_rank(function, shape, allowed):
    """Refuses an array of len(shape) dimensions; allowed says which
    numbers of dimensions are ('2 or 3')."""
    n = len(shape)
    _fail(function, 'the array has %d dimension%s (shape %s); %s are '
          'allowed', n, '' if n == 1 else 's', shape, allowed)


def _stack(array, function, ndims=(2, 3)):
    """The array as a C-contiguous, aligned, native-order stack view, and
    whether that view is the array's transpose (a Fortran-order array is
    the C-order stack of its reversed axes, without a copy)."""
    a = np.asarray(array)
    if a.ndim not in ndims:
        _fail_rank(function, a.shape, ' or '.join(str(n) for n in ndims))
    _gegl.format_of(a.dtype, function)
    if a.size == 0:
        _fail(function, 'the array is empty (shape %s)', a.shape)
    if not a.dtype.isnative:
        a = a.astype(a.dtype.newbyteorder('='))
    if a.flags.aligned and a.flags.c_contiguous:
        return a, False
    if a.flags.aligned and a.flags.f_contiguous:
        return a.T, True
    # A strided view: copied in the order closest to its own, so that a
    # block of a Fortran-order volume is (x, y, z) like the volume.
    if abs(a.strides[0]) < abs(a.strides[-1]):
        return np.ascontiguousarray(a.T), True
    return np.ascontiguousarray(a), False


def _per_axis(value, ndim, function, name):
    """An int or a sequence of ndim values (array axis order) as a tuple."""
    if np.ndim(value) == 0:
        return (value,) * ndim
    value = tuple(value)
    if len(value) != ndim:
        _fail(function, '%s %s has %d values; the array has %d axes',
              name, value, len(value), ndim)
    return value


def _factors(factor, view, transposed, function):
    """(fz, fy, fx) of a stack view, from factors in the array's order."""
    f = _per_axis(factor, view.ndim, function, 'factor')
    for value in f:
        if (isinstance(value, (bool, np.bool_))
                or not isinstance(value, (int, np.integer))
                or not 1 <= value <= MAX_FACTOR):
            _fail(function, 'factor %r is not a whole number from 1 to %d',
                  value, MAX_FACTOR)
    f = tuple(int(v) for v in (f[::-1] if transposed else f))
    return (1,) * (3 - len(f)) + f


def _dims(view):
    """(depth, height, width) of a stack view."""
    return (1,) * (3 - view.ndim) + view.shape


def _pooled_shape(view, fz, fy, fx):
    depth, height, width = _dims(view)
    shape = (-(-depth // fz), -(-height // fy), -(-width // fx))
    return shape[3 - view.ndim:]


def _back(out, transposed):
    return out.T if transposed else out


def _pool(array, factor, sparse, operation, function):
    view, transposed = _stack(array, function)
    fz, fy, fx = _factors(factor, view, transposed, function)
    depth = _dims(view)[0]

    def build(graph):
        graph.add(operation, factor_x=fx, factor_y=fy, factor_z=fz,
                  depth=depth, sparse=bool(sparse))
    shape = _pooled_shape(view, fz, fy, fx)
    return _back(_gegl.run(view, build, shape, view.dtype), transposed)


def mode_pool(array, factor=2, sparse=False):
    """The most frequent label of each block of `factor` (an int, or one
    factor per array axis, 1 … 64), exact for every factor; ties as DESIGN.md
    says (COUNTLESS for 2×2, else first in raster order).  With `sparse`,
    zero never wins unless the whole block is zero.  Output size:
    ceil(size / factor) on each axis."""
    return _pool(array, factor, sparse, 'seg:mode-pool', 'mode_pool')


def countless3d(array, sparse=False):
    """2×2×2 mode pooling of a 3D volume (seg:countless-3d)."""
    view, transposed = _stack(array, 'countless3d', ndims=(3,))

    def build(graph):
        graph.add('seg:countless-3d', depth=view.shape[0],
                  sparse=bool(sparse))
    shape = _pooled_shape(view, 2, 2, 2)
    return _back(_gegl.run(view, build, shape, view.dtype), transposed)


def sparse_average(array, factor=2, sparse=True):
    """The mean of each block, accumulated exactly and rounded once
    (integers toward zero, floats to nearest); with `sparse` (the default)
    zeros are left out of the mean."""
    return _pool(array, factor, sparse, 'seg:sparse-average',
                 'sparse_average')


def _spacing(spacing, ndim, function):
    """A spacing per array axis, each a positive finite number, as floats."""
    s = _per_axis(spacing, ndim, function, 'spacing')
    for value in s:
        if not (isinstance(value, (int, float, np.integer, np.floating))
                and not isinstance(value, (bool, np.bool_))
                and np.isfinite(value) and value > 0):
            _fail(function, 'spacing %r is not a positive finite number',
                  value)
    return tuple(float(v) for v in s)


def descent_direction(array, spacing=1.0):
    """For every pixel or voxel, the index of its neighbour of steepest
    descent, as uint8 of the array's shape: (dz+1)·9 + (dy+1)·3 + (dx+1) in
    3D (13 is the centre: a local minimum), (dy+1)·3 + (dx+1) in 2D (4).
    `spacing` is the physical size of a step along each array axis."""
    function = 'descent_direction'
    view, transposed = _stack(array, function)
    s = _spacing(spacing, view.ndim, function)
    s = s[::-1] if transposed else s
    sz, sy, sx = (1.0,) * (3 - len(s)) + s

    def build(graph):
        graph.add('seg:descent-direction', depth=_dims(view)[0],
                  spacing_x=sx, spacing_y=sy, spacing_z=sz)
    return _back(_gegl.run(view, build, view.shape, np.uint8), transposed)


def _resample_one(view, size, mode):
    depth, height, width = _dims(view)
    out = tuple(s if s else keep for s, keep in zip(size, _dims(view)))

    def build(graph):
        graph.add('seg:resample-3d', depth=depth, width=out[2],
                  height=out[1], out_depth=out[0], mode=mode)
    return _gegl.run(view, build, out[3 - view.ndim:], view.dtype)


def resample(data, size, mode='nearest'):
    """volresample's call: resizes the last three axes of `data` ((D, H, W),
    (C, D, H, W) or (N, C, D, H, W); also (H, W) with a 2-value size) to
    `size`, as PyTorch's F.interpolate with align_corners=False does:
    'nearest' (nearest-exact, labels of any dtype intact), 'linear'
    (trilinear) or 'area' (adaptive average pooling).  A size of 0 keeps
    that axis.  The dtype is kept: integers are rounded to nearest."""
    function = 'resample'
    a = np.asarray(data)
    if mode not in RESAMPLE_MODES:
        _fail(function, 'mode %r is not one of %s', mode,
              ', '.join(RESAMPLE_MODES))
    spatial = 2 if a.ndim == 2 else 3
    if a.ndim not in (2, 3, 4, 5):
        _fail_rank(function, a.shape, '2 to 5')
    size = _per_axis(size, spatial, function, 'size')
    for value in size:
        if (isinstance(value, (bool, np.bool_))
                or not isinstance(value, (int, np.integer))
                or not 0 <= value <= MAX_SIZE):
            _fail(function, 'size %r is not a whole number from 0 (keep) '
                  'to %d', value, MAX_SIZE)
    size = tuple(int(v) for v in size)
    if a.ndim == spatial:
        view, transposed = _stack(a, function)
        size = size[::-1] if transposed else size
        size = (1,) * (3 - len(size)) + size if view.ndim == 2 else size
        return _back(_resample_one(view, size, mode), transposed)
    lead = a.shape[:a.ndim - 3]
    out = None
    for index in np.ndindex(*lead):
        volume = _resample_one(*(_stack(a[index], function)[:1]),
                               size, mode)
        if out is None:
            out = np.empty(lead + volume.shape, volume.dtype)
        out[index] = volume
    return out


_STAT_AXES = ('z', 'y', 'x')


def _label_column(values, dtype):
    """CSV label texts as an array of the image's dtype, bit for bit."""
    if dtype.kind == 'i':
        return np.array([int(v) for v in values], np.int64).astype(dtype)
    bits = np.array([int(v) for v in values], np.uint64)
    unsigned = np.dtype('u%d' % dtype.itemsize)
    return bits.astype(unsigned).view(dtype)


def _read_stats(csv_path, dtype, ndim, transposed):
    with open(csv_path) as f:
        header = f.readline().strip().split(',')
        rows = [line.rstrip('\n').split(',') for line in f if line.strip()]
    column = {name: [r[i] for r in rows] for i, name in enumerate(header)}
    # Array axes from GEGL's (x, y, z): C order (z, y, x) or (y, x); a
    # transposed (Fortran) view the other way round.
    axes = list(_STAT_AXES[3 - ndim:])
    if transposed:
        axes.reverse()

    def per_axis(prefix, suffix, kind):
        return np.array([[kind(v) for v in column[prefix + a + suffix]]
                         for a in axes], kind).T.reshape(len(rows), ndim)
    return {
        'label': _label_column(column['label'], dtype),
        'count': np.array([int(v) for v in column['count']], np.uint64),
        'min': per_axis('', '_min', int).astype(np.int64),
        'max': per_axis('', '_max', int).astype(np.int64),
        'centroid': per_axis('centroid_', '', float),
        'first': np.array([int(v) for v in column['first']], np.uint64),
    }


def label_stats(array, sparse=True, voxels=False):
    """Every label's statistics, as a dict of arrays sorted by label
    (signed dtypes as signed numbers):

    - 'label' (N,): the labels, in the array's dtype;
    - 'count' (N,) uint64: voxels per label;
    - 'min', 'max' (N, ndim) int64: inclusive bounds, in the array's axis
      order;
    - 'centroid' (N, ndim) float64: the mean index along each axis, the
      double nearest the exact mean;
    - with `voxels`, 'voxels' (M, ndim): every voxel's index, grouped by
      label and in raster order within a label, and 'first' (N,): where
      each label's rows start, so that
      array[tuple(voxels[first[i]:first[i] + count[i]].T)] == label[i].

    With `sparse` (the default) zero is not a label."""
    function = 'label_stats'
    view, transposed = _stack(array, function)
    with tempfile.TemporaryDirectory(prefix='gegl-seg-') as folder:
        csv_path = os.path.join(folder, 'stats.csv')
        npy_path = os.path.join(folder, 'voxels.npy') if voxels else ''

        def build(graph):
            graph.add('seg:label-stats', path=csv_path, voxels_path=npy_path,
                      depth=_dims(view)[0], sparse=bool(sparse))
        _gegl.run(view, build)
        if not os.path.exists(csv_path):
            raise RuntimeError('gegl_seg.label_stats: seg:label-stats wrote '
                               'no statistics (see GEGL\'s warning)')
        stats = _read_stats(csv_path, view.dtype, view.ndim, transposed)
        if voxels:
            zyx = np.load(npy_path)
            if view.ndim == 2:
                zyx = zyx[:, 1:]
            stats['voxels'] = zyx[:, ::-1] if transposed else zyx
        else:
            del stats['first']
    return stats


def _level(array, factor, method, sparse):
    if method == 'mode':
        return mode_pool(array, factor, sparse)
    return sparse_average(array, factor, sparse)


PYRAMID_METHODS = ('mode', 'average')


def _check_pyramid_args(method, num_mips, function):
    if method not in PYRAMID_METHODS:
        _fail(function, 'method %r is not one of %s', method,
              ', '.join(PYRAMID_METHODS))
    if (not isinstance(num_mips, (int, np.integer))
            or isinstance(num_mips, bool) or num_mips < 0):
        _fail(function, 'num_mips %r is not a whole number ≥ 0', num_mips)


def pyramid(array, factor, num_mips, method='mode', exact=False,
            sparse=False):
    """Every level of a pyramid: [array, level 1, …, level num_mips].

    Level k is pooled by `factor` (per array axis) from level k − 1, as
    tinybrain computes mips; with `exact`, by factor^k from the array
    itself (the exact mode or mean of each factor^k block).  `method` is
    'mode' (labels) or 'average'; `sparse` leaves zeros out.  Sizes round
    up: level k has ceil(size / factor^k) voxels along each axis."""
    function = 'pyramid'
    _check_pyramid_args(method, num_mips, function)
    a = np.asarray(array)
    f = _per_axis(factor, a.ndim, function, 'factor')
    levels = [a]
    for k in range(1, num_mips + 1):
        if exact:
            fk = tuple(int(v) ** k for v in f)
            if max(fk) > MAX_FACTOR:
                _fail(function, 'exact level %d needs factor %s, beyond %d',
                      k, fk, MAX_FACTOR)
            levels.append(_level(a, fk, method, sparse))
        else:
            levels.append(_level(levels[-1], f, method, sparse))
    return levels


from ._tinybrain import downsample_segmentation, downsample_with_averaging  # noqa: E402,E501
