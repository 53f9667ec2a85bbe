# SPDX-License-Identifier: LGPL-3.0-or-later
"""Pyramids and label statistics of Dask arrays, block by block, on any
Dask scheduler (threads, processes, a dask.distributed cluster), with
results bit-identical to gegl_seg's on the whole volume.

Why block-wise is exact: pooling blocks start at the volume's origin, so
when every chunk but the last along each axis is a multiple of
factor^num_mips, every pooling block of every level lies inside one chunk,
and the volume's last, partial blocks are the last chunk's.  (igneous
plans its tasks the same way.)  Label statistics are merged from per-chunk
partials exactly: counts add, bounds take min and max, and centroids come
from integer coordinate sums, divided once at the end.
"""
from fractions import Fraction
import functools

import numpy as np

import dask
import dask.array as da

from . import pyramid as _pyramid, label_stats as _label_stats
from . import PYRAMID_METHODS, _per_axis, _fail

__all__ = ['pyramid', 'label_stats', 'check_chunks']


def check_chunks(array, factor, num_mips, function='check_chunks'):
    """ValueError unless every chunk but the last along each axis is a
    multiple of factor^num_mips; the message gives chunks that would do."""
    factor = tuple(int(f) for f in _per_axis(factor, array.ndim, function,
                                             'factor'))
    steps = [f ** num_mips for f in factor]
    bad = [axis for axis, (chunks, step) in enumerate(zip(array.chunks,
                                                          steps))
           if any(c % step for c in chunks[:-1])]
    if bad:
        good = tuple(max(step, (chunks[0] + step // 2) // step * step)
                     for chunks, step in zip(array.chunks, steps))
        _fail(function, 'the chunks along axis %s (%s) are not multiples of '
              'factor^num_mips = %s (the last chunk may be partial); '
              'array.rechunk(%s) would do', ', '.join(map(str, bad)),
              '; '.join(str(array.chunks[a][:4])[:-1] + ', …)'
                        if len(array.chunks[a]) > 4 else str(array.chunks[a])
                        for a in bad),
              'x'.join(map(str, steps)), good)
    return factor


def _block_levels(block, factor, num_mips, method, exact, sparse):
    return tuple(_pyramid(np.asarray(block), factor, num_mips, method, exact,
                          sparse)[1:])


def _nested(blocks, index=()):
    """da.block's nested lists of an object array of dask arrays."""
    if len(index) == blocks.ndim:
        return blocks[index]
    return [_nested(blocks, index + (i,))
            for i in range(blocks.shape[len(index)])]


def pyramid(array, factor, num_mips, method='mode', exact=False,
            sparse=False):
    """gegl_seg.pyramid on a Dask array: [array, level 1, …, level
    num_mips] as Dask arrays.  Each chunk's levels are one task; level k's
    chunks are the input's divided by factor^k, so every level stays
    chunk-aligned (ready for da.to_zarr)."""
    function = 'dask.pyramid'
    if method not in PYRAMID_METHODS:
        _fail(function, 'method %r is not one of %s', method,
              ', '.join(PYRAMID_METHODS))
    array = da.asarray(array)
    factor = check_chunks(array, factor, num_mips, function)
    if num_mips == 0:
        return [array]
    blocks = array.to_delayed()
    levels_of = dask.delayed(_block_levels, nout=num_mips, pure=True)
    per_block = np.empty(blocks.shape, object)
    for index in np.ndindex(*blocks.shape):
        per_block[index] = levels_of(blocks[index], factor, num_mips, method,
                                     exact, sparse)
    levels = [array]
    for k in range(1, num_mips + 1):
        pieces = np.empty(blocks.shape, object)
        for index in np.ndindex(*blocks.shape):
            shape = tuple(-(-array.chunks[axis][i] // factor[axis] ** k)
                          for axis, i in enumerate(index))
            pieces[index] = da.from_delayed(per_block[index][k - 1], shape,
                                            dtype=array.dtype)
        levels.append(da.block(_nested(pieces)))
    return levels


# A partial: {label key: [label, count, mins, maxs, sums]}, global
# coordinates, sums as Python integers.

def _label_key(label):
    return label.view('u%d' % label.itemsize).item()


def _block_partial(block, offset, sparse):
    block = np.asarray(block)
    stats = _label_stats(block, sparse=sparse)
    partial = {}
    extent = max(block.shape)
    for i, label in enumerate(stats['label']):
        count = int(stats['count'][i])
        # Each sum < count·extent: a double holds the mean closely enough
        # to give the sum back exactly below 2^52.
        if count * extent >= 1 << 52:
            raise ValueError('gegl_seg.dask.label_stats: a chunk of shape %s '
                             'is too large to merge centroids exactly'
                             % (block.shape,))
        sums = [int(round(Fraction(float(c)) * count)) + count * o
                for c, o in zip(stats['centroid'][i], offset)]
        partial[_label_key(stats['label'][i:i + 1])] = [
            stats['label'][i:i + 1],
            count,
            [int(v) + o for v, o in zip(stats['min'][i], offset)],
            [int(v) + o for v, o in zip(stats['max'][i], offset)],
            sums]
    return partial


def _merge(*partials):
    merged = {}
    for partial in partials:
        for key, (label, count, lo, hi, sums) in partial.items():
            seen = merged.get(key)
            if seen is None:
                merged[key] = [label, count, list(lo), list(hi), list(sums)]
                continue
            seen[1] += count
            seen[2] = [min(a, b) for a, b in zip(seen[2], lo)]
            seen[3] = [max(a, b) for a, b in zip(seen[3], hi)]
            seen[4] = [a + b for a, b in zip(seen[4], sums)]
    return merged


def _finish(merged, dtype, ndim):
    dtype = np.dtype(dtype)
    rows = list(merged.values())
    if dtype.kind == 'i':
        rows.sort(key=lambda r: int(r[0][0]))
    else:
        rows.sort(key=lambda r: _label_key(r[0]))
    n = len(rows)
    return {
        'label': (np.concatenate([r[0] for r in rows]) if n
                  else np.zeros(0, dtype)),
        'count': np.array([r[1] for r in rows], np.uint64),
        'min': np.array([r[2] for r in rows], np.int64).reshape(n, ndim),
        'max': np.array([r[3] for r in rows], np.int64).reshape(n, ndim),
        # Python's int / int is the correctly rounded quotient, as the
        # whole-volume op's division is.
        'centroid': np.array([[s / r[1] for s in r[4]] for r in rows],
                             np.float64).reshape(n, ndim),
    }


def label_stats(array, sparse=True, compute=True):
    """gegl_seg.label_stats on a Dask array, merged exactly from per-chunk
    partials (no voxel lists): 'label', 'count', 'min', 'max', 'centroid'
    in array axis order, equal to the whole-volume result bit for bit.
    With compute=False, a dask Delayed of that dict."""
    array = da.asarray(array)
    if array.ndim not in (2, 3):
        _fail('dask.label_stats', 'the array has %d dimensions; 2 or 3 are '
              'allowed', array.ndim)
    starts = [np.concatenate([[0], np.cumsum(c)[:-1]]) for c in array.chunks]
    blocks = array.to_delayed()
    partial_of = dask.delayed(_block_partial, pure=True)
    partials = [partial_of(blocks[index],
                           tuple(int(starts[a][i]) for a, i in
                                 enumerate(index)), bool(sparse))
                for index in np.ndindex(*blocks.shape)]
    merge = dask.delayed(_merge, pure=True)
    while len(partials) > 1:   # a tree: no one task merges everything
        partials = [merge(*partials[i:i + 8])
                    for i in range(0, len(partials), 8)]
    result = dask.delayed(functools.partial(_finish, dtype=array.dtype.str,
                                            ndim=array.ndim), pure=True)(
        partials[0])
    return result.compute() if compute else result
