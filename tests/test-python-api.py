#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-3.0-or-later
"""The gegl_seg Python package against slow NumPy references written here
from DESIGN.md: every dtype of the .npy table, C and Fortran order, 2D and
3D, odd sizes (partial blocks), ties; tinybrain's calls (against tinybrain
itself when SEG_TINYBRAIN names a folder holding it); pyramids; bad input.
Prints TAP."""
import ctypes
import itertools
import math
import os
import subprocess
import sys
from fractions import Fraction

import numpy as np

import gegl_seg
from gegl_seg import _gegl

DTYPES = ['u1', 'u2', 'u4', 'u8', 'i1', 'i2', 'i4', 'i8', 'f2', 'f4', 'f8',
          'b1']
from tap import check, finish, results


def bits(a):
    """The array's bytes as unsigned integers (labels compare by bytes)."""
    return a.view('u%d' % a.dtype.itemsize)


def same(a, b):
    return (a.shape == b.shape and a.dtype == b.dtype
            and np.array_equal(bits(np.ascontiguousarray(a)),
                               bits(np.ascontiguousarray(b))))


def random_labels(rng, shape, dtype, n_labels=4):
    """Few labels (many ties), zero among them, of any dtype."""
    dtype = np.dtype(dtype)
    if dtype.kind == 'b':
        return rng.randint(0, 2, size=shape).astype(bool)
    if dtype.kind == 'f':
        pool = np.array([0.0, 1.5, -2.25, 1e3, np.nan][:n_labels], dtype)
    elif dtype.kind == 'i':
        info = np.iinfo(dtype)
        pool = np.array([0, -1, info.min, info.max, 7][:n_labels], dtype)
    else:
        info = np.iinfo(dtype)
        pool = np.array([0, 1, info.max, info.max // 3, 9][:n_labels], dtype)
    return pool[rng.randint(0, len(pool), size=shape)]


def stack3(a):
    """(D, H, W) view of a C-order 2D or 3D array."""
    return a.reshape((1,) * (3 - a.ndim) + a.shape)


def blocks(shape, f):
    """(out index, slices) of every block of factors f over shape."""
    out = [-(-s // k) for s, k in zip(shape, f)]
    for index in np.ndindex(*out):
        yield index, tuple(slice(i * k, (i + 1) * k) for i, k in zip(index, f))


def ref_mode_pool(volume, f, sparse):
    """DESIGN.md's mode pooling of a C-order (D, H, W) volume, f = (fz, fy,
    fx): COUNTLESS for full 2×2×1 blocks, else the most frequent label,
    ties first in raster order; sparse: zero wins only all-zero blocks."""
    keys = bits(volume)
    out = np.zeros([-(-s // k) for s, k in zip(volume.shape, f)], keys.dtype)
    countless = tuple(f) == (1, 2, 2)
    for index, block in blocks(volume.shape, f):
        b = keys[block]
        if countless and b.shape == (1, 2, 2):
            a, bb, c, d = b[0, 0, 0], b[0, 0, 1], b[0, 1, 0], b[0, 1, 1]
            if not sparse:
                out[index] = a if a == bb or a == c else bb if bb == c else d
                continue
            if a != 0 and (a == bb or a == c):
                out[index] = a
            elif bb != 0 and bb == c:
                out[index] = bb
            elif d != 0:
                out[index] = d
            else:
                out[index] = next((v for v in (a, c, bb) if v != 0), 0)
            continue
        flat = b.reshape(-1)
        if sparse and flat.any():
            flat = flat[flat != 0]
        counts = (flat[:, None] == flat[None, :]).sum(axis=1)
        out[index] = flat[np.argmax(counts)]
    return out.view(volume.dtype)


def ref_average(volume, f, sparse):
    """Exact mean of each block: integers truncated toward zero, floats the
    double mean rounded once; sparse leaves all-bytes-zero pixels out."""
    keys = bits(volume)
    out = np.zeros([-(-s // k) for s, k in zip(volume.shape, f)],
                   volume.dtype)
    numbers = volume.astype(np.uint8) if volume.dtype == bool else volume
    for index, block in blocks(volume.shape, f):
        values = numbers[block].reshape(-1)
        if sparse:
            values = values[keys[block].reshape(-1) != 0]
        if values.size == 0:
            continue
        if volume.dtype.kind == 'f':
            total = 0.0
            for v in values:
                total += float(v)
            out[index] = total / values.size
        else:
            total = sum(int(v) for v in values)
            mean = abs(total) // values.size
            out[index] = mean if total >= 0 else -mean
    return out


def ref_label_stats(volume, sparse):
    """Labels sorted as DESIGN.md says, with counts, bounds, centroids
    (correctly rounded) and voxels, all in array axis order."""
    keys = bits(volume)
    order_keys = volume.view('i%d' % volume.itemsize) \
        if volume.dtype.kind == 'i' else keys
    labels = sorted(set(order_keys.reshape(-1).tolist()))
    if sparse:
        labels = [v for v in labels if v != 0]
    stats = {'label': [], 'count': [], 'min': [], 'max': [], 'centroid': [],
             'voxels': []}
    for value in labels:
        where = np.argwhere(order_keys == value)       # raster order
        stats['label'].append(value)
        stats['count'].append(len(where))
        stats['min'].append(where.min(axis=0))
        stats['max'].append(where.max(axis=0))
        stats['centroid'].append([float(Fraction(int(s), len(where)))
                                  for s in where.sum(axis=0)])
        stats['voxels'].append(where)
    return stats


def neighbours(ndim):
    return list(itertools.product(range(-1, 2), repeat=ndim))


def ref_descent(volume, spacing):
    """DESIGN.md's descent directions of a C-order (D, H, W) volume
    (spacing (sz, sy, sx)); 2D when D is 1."""
    depth, height, width = volume.shape
    two_d = depth == 1
    offsets = neighbours(2) if two_d else neighbours(3)
    centre = 4 if two_d else 13
    numbers = volume.astype(np.float64)
    out = np.zeros(volume.shape, np.uint8)
    for z, y, x in np.ndindex(*volume.shape):
        c = numbers[z, y, x]
        best, best_score = centre, None
        if not math.isnan(c):
            for k, off in enumerate(offsets):
                dz, dy, dx = (0,) + off if two_d else off
                if (dz, dy, dx) == (0, 0, 0):
                    continue
                nz, ny, nx = z + dz, y + dy, x + dx
                if not (0 <= nz < depth and 0 <= ny < height
                        and 0 <= nx < width):
                    continue
                n = numbers[nz, ny, nx]
                if math.isnan(n):
                    continue
                dist = math.sqrt((dx * spacing[2]) ** 2
                                 + (dy * spacing[1]) ** 2
                                 + (dz * spacing[0]) ** 2)
                score = (c - n) / dist
                if best_score is None or score > best_score:
                    best, best_score = k, score
            if best_score is not None and best_score < 0:
                best = centre
        out[z, y, x] = best
    return out


def ref_nearest(volume, size):
    """Nearest-exact: source index ⌊(2i + 1)·in / (2·out)⌋ per axis."""
    for axis, out in enumerate(size):
        n = volume.shape[axis]
        index = np.minimum((2 * np.arange(out) + 1) * n // (2 * out), n - 1)
        volume = np.take(volume, index, axis=axis)
    return volume


def ref_linear(volume, size):
    for axis, out in enumerate(size):
        n = volume.shape[axis]
        s = np.maximum((np.arange(out) + 0.5) * (n / out) - 0.5, 0)
        i0 = np.floor(s).astype(int)
        i1 = np.minimum(i0 + 1, n - 1)
        w = s - i0
        shape = [1] * volume.ndim
        shape[axis] = out
        w = w.reshape(shape)
        volume = (np.take(volume, i0, axis=axis) * (1 - w)
                  + np.take(volume, i1, axis=axis) * w)
    return volume


def ref_area(volume, size):
    for axis, out in enumerate(size):
        n = volume.shape[axis]
        parts = []
        for i in range(out):
            lo, hi = i * n // out, -(-(i + 1) * n // out)
            parts.append(np.take(volume, range(lo, hi), axis=axis)
                         .mean(axis=axis, keepdims=True))
        volume = np.concatenate(parts, axis=axis)
    return volume


def orders(array):
    """The array in C order, and the same voxels as a Fortran-order array of
    the reversed axes (tinybrain's (x, y, z))."""
    return [('C', array, False), ('F', np.asfortranarray(array.T), True)]


def test_pooling(rng):
    for dtype in DTYPES:
        for ndim in (2, 3):
            shape = tuple(rng.randint(1, 9, size=ndim))
            volume = random_labels(rng, shape, dtype)
            for f in [(2,) * ndim, tuple(rng.randint(1, 4, size=ndim))]:
                sparse = bool(rng.randint(2))
                f3 = (1,) * (3 - ndim) + f
                want = ref_mode_pool(stack3(volume), f3, sparse).reshape(
                    [-(-s // k) for s, k in zip(shape, f)])
                want_avg = None
                if dtype[0] != 'f' or True:
                    finite = volume
                    if dtype[0] == 'f':
                        finite = np.nan_to_num(volume)
                    want_avg = ref_average(stack3(finite), f3, sparse)\
                        .reshape(want.shape)
                for order, a, flipped in orders(volume):
                    fa = f[::-1] if flipped else f
                    got = gegl_seg.mode_pool(a, fa, sparse=sparse)
                    got = got.T if flipped else got
                    check('mode_pool %s %s %s f=%s sparse=%d' % (
                        dtype, order, shape, f, sparse), same(got, want))
                    fin = np.nan_to_num(a) if dtype[0] == 'f' else a
                    got = gegl_seg.sparse_average(fin, fa, sparse=sparse)
                    got = got.T if flipped else got
                    check('sparse_average %s %s %s f=%s sparse=%d' % (
                        dtype, order, shape, f, sparse),
                        same(got, want_avg) or (
                            dtype == 'f2' and got.shape == want_avg.shape
                            and np.allclose(
                                got.astype(float), want_avg.astype(float),
                                rtol=1e-3)))
        volume = random_labels(rng, tuple(rng.randint(1, 8, size=3)), dtype)
        want = ref_mode_pool(volume, (2, 2, 2), True)
        for order, a, flipped in orders(volume):
            got = gegl_seg.countless3d(a, sparse=True)
            check('countless3d %s %s sparse' % (dtype, order),
                  same(got.T if flipped else got, want))
            check('countless3d %s %s keeps the memory order' % (dtype, order),
                  got.flags.f_contiguous if flipped else
                  got.flags.c_contiguous)


def test_label_stats(rng):
    for dtype in DTYPES:
        for ndim in (2, 3):
            shape = tuple(rng.randint(1, 8, size=ndim))
            volume = random_labels(rng, shape, dtype, n_labels=5)
            sparse = bool(rng.randint(2))
            want = ref_label_stats(volume, sparse)
            for order, a, flipped in orders(volume):
                got = gegl_seg.label_stats(a, sparse=sparse, voxels=True)
                rev = (lambda m: m[:, ::-1]) if flipped else (lambda m: m)
                ok = (got['label'].dtype == volume.dtype
                      and [int(v) for v in (got['label'].view(
                          'i%d' % volume.itemsize) if dtype[0] == 'i'
                          else bits(got['label']))] == want['label']
                      and got['count'].tolist() == want['count'])
                n = len(want['label'])
                ok = ok and n == len(got['count']) and (n == 0 or (
                    np.array_equal(rev(got['min']), np.array(want['min']))
                    and np.array_equal(rev(got['max']),
                                       np.array(want['max']))
                    and np.array_equal(rev(got['centroid']),
                                       np.array(want['centroid']))))
                if ok and n:
                    voxels = rev(got['voxels'])
                    ok = np.array_equal(voxels,
                                        np.concatenate(want['voxels']))
                    for i in range(n):
                        part = got['voxels'][got['first'][i]:
                                             got['first'][i]
                                             + got['count'][i]]
                        ok = ok and np.all(bits(a[tuple(part.T)])
                                           == bits(got['label'][i:i + 1]))
                check('label_stats %s %s %s sparse=%d' % (
                    dtype, order, shape, sparse), ok)


def test_descent(rng):
    for dtype in ('f4', 'f8', 'u1', 'i2', 'u2'):
        for ndim in (2, 3):
            shape = tuple(rng.randint(1, 7, size=ndim))
            if dtype[0] == 'f':
                volume = rng.standard_normal(shape).astype(dtype)
                volume[rng.rand(*shape) < 0.1] = np.nan
                volume[rng.rand(*shape) < 0.2] = 0.5   # plateaus
            else:
                volume = rng.randint(0, 3, size=shape).astype(dtype)
            spacing = tuple(float(s) for s in rng.choice(
                [1.0, 2.5, 0.5], size=ndim))
            s3 = (1.0,) * (3 - ndim) + spacing
            want = ref_descent(stack3(volume), s3).reshape(shape)
            for order, a, flipped in orders(volume):
                got = gegl_seg.descent_direction(
                    a, spacing[::-1] if flipped else spacing)
                check('descent_direction %s %s %s spacing %s' % (
                    dtype, order, shape, spacing),
                    same(got.T if flipped else got, want))


def test_resample(rng):
    for dtype in DTYPES:
        volume = random_labels(rng, tuple(rng.randint(1, 9, size=3)), dtype,
                               n_labels=5)
        size = tuple(int(s) for s in rng.randint(1, 12, size=3))
        want = ref_nearest(volume, size)
        for order, a, flipped in orders(volume):
            got = gegl_seg.resample(a, size[::-1] if flipped else size)
            check('resample nearest %s %s %s → %s' % (
                dtype, order, volume.shape, size),
                same(got.T if flipped else got, want))
    for mode, ref in (('linear', ref_linear), ('area', ref_area)):
        for shape, size in (((26, 3, 5), (22, 7, 5)), ((2, 9, 4), (25, 3, 1)),
                            ((7, 1, 6), (1, 7, 6))):
            volume = rng.rand(*shape)
            got = gegl_seg.resample(volume, size, mode)
            check('resample %s float64 %s → %s' % (mode, shape, size),
                  got.shape == size and np.allclose(got, ref(volume, size),
                                                    rtol=0, atol=1e-12))
            as_u16 = (volume * 60000).astype(np.uint16)
            got = gegl_seg.resample(as_u16, size, mode)
            want = np.floor(ref(as_u16.astype(float), size) + 0.5)
            check('resample %s uint16 %s → %s, rounded' % (mode, shape, size),
                  got.dtype == np.uint16
                  and np.abs(got.astype(float) - want).max() <= 1)
    volume = rng.rand(3, 4, 5, 6).astype(np.float32)
    got = gegl_seg.resample(volume, (2, 8, 3), 'area')
    check('resample (C, D, H, W) resizes each channel',
          got.shape == (3, 2, 8, 3) and all(
              np.array_equal(got[c], gegl_seg.resample(volume[c], (2, 8, 3),
                                                       'area'))
              for c in range(3)))
    image = random_labels(rng, (5, 7), 'u4')
    check('resample a 2D image', same(gegl_seg.resample(image, (9, 3)),
                                      ref_nearest(image, (9, 3))))
    check('resample size 0 keeps an axis',
          gegl_seg.resample(image, (0, 3)).shape == (5, 3))


def test_layouts(rng):
    volume = random_labels(rng, (6, 9, 10), 'u4')
    want = ref_mode_pool(volume, (2, 3, 2), False)
    strided = np.zeros((6, 9, 20), np.uint32)[:, :, ::2]
    strided[...] = volume
    check('a strided view is pooled as its values',
          same(gegl_seg.mode_pool(strided, (2, 3, 2)), want))
    fview = np.asfortranarray(volume.T)[1:, :, ::2]
    check('a strided view of a Fortran-order array is (x, y, z) too',
          same(gegl_seg.mode_pool(fview, (2, 3, 2)),
               gegl_seg.mode_pool(np.asfortranarray(fview), (2, 3, 2))))
    swapped = volume.astype('>u4')
    check('a big-endian array gives native values',
          same(gegl_seg.mode_pool(swapped, (2, 3, 2)), want))
    before = volume.copy()
    gegl_seg.mode_pool(volume, (2, 3, 2))
    check('the input array is left as it was', same(volume, before))
    check('the array is read in place (seg_buffer_new_for_memory)',
          _gegl._state['c'][4] is not None)
    check('GEGL let go of every array it read', not _gegl._held,
          repr(list(_gegl._held)))
    Gegl = _gegl.init()
    big = random_labels(rng, (33, 70, 90), 'u8')
    results_by_threads = []
    for threads in (1, 4):
        Gegl.config().props.threads = threads
        results_by_threads.append((gegl_seg.mode_pool(big, (3, 2, 5)),
                                   gegl_seg.descent_direction(
                                       big.astype(np.float32))))
    Gegl.config().props.threads = 1
    check('1 and 4 GEGL threads give the same results',
          all(same(a, b) for a, b in zip(*results_by_threads)))


def blit(graph, box, dtype, stride):
    """box (x, y, w, h) of the graph's last node through gegl_node_blit
    (GEGL's copy out of the node's tiles), in an array of rows `stride`
    pixels long."""
    gegl = _gegl._state['c'][0]
    x, y, w, h = box
    out = np.full((h, stride), 0xAB, dtype)
    rect = _gegl._Rectangle(x, y, w, h)
    gegl.gegl_node_blit(_gegl._pointer(graph.last), 1.0, ctypes.byref(rect),
                        _gegl._babl(_gegl.format_of(dtype)), out.ctypes.data,
                        out.strides[0], 0)
    return out


def render_to_memory(graph, box, dtype, stride):
    """(whether the module's direct path rendered all of box, the array)."""
    seg = _gegl._state['c'][4]
    x, y, w, h = box
    out = np.full((h, stride), 0xAB, dtype)
    rect = _gegl._Rectangle(x, y, w, h)
    done = seg.seg_node_render_to_memory(
        _gegl._pointer(graph.last), ctypes.byref(rect),
        _gegl._babl(_gegl.format_of(dtype)), out.ctypes.data, out.strides[0])
    return bool(done), out


def volume_op_cases(rng):
    """(op, input array, properties) for every op on the stack layer: u16
    labels to pool, floats for the rest, linear and area resampling."""
    volume = random_labels(rng, (7, 38, 45), 'u2', n_labels=3)
    floats = rng.standard_normal((5, 19, 23)).astype(np.float32)
    # Rows wide enough that the stack layer cuts a slab into bands of rows
    # where it copies them (a band's input bytes are bounded), and takes
    # whole slices where it reads in place and writes into the target.
    wide = rng.standard_normal((10, 40, 700)).astype(np.float32)
    return [
        ('seg:countless-3d', volume, dict(depth=7)),
        ('seg:mode-pool', volume, dict(factor_x=3, factor_y=2, factor_z=2,
                                       depth=7)),
        ('seg:sparse-average', volume, dict(factor_x=2, factor_y=5,
                                            factor_z=3, depth=7,
                                            sparse=True)),
        ('seg:descent-direction', floats, dict(depth=5, spacing_z=3.0)),
        ('seg:resample-3d', floats, dict(depth=5, width=31, height=11,
                                         out_depth=4, mode=1)),
        ('seg:resample-3d', floats, dict(depth=5, width=8, height=6,
                                         out_depth=2, mode=2)),
        ('seg:descent-direction', wide, dict(depth=10)),
        ('seg:resample-3d', wide, dict(depth=10, width=350, height=20,
                                       out_depth=5, mode=1)),
    ]


def misaligned(array):
    """A C-ordered copy of array whose data starts 4 bytes past a 16-byte
    boundary: too unaligned to serve as GEGL tiles, so the API copies it
    into GEGL's own tiles (and the ops copy bands out of those)."""
    raw = np.empty(array.nbytes + 32, np.uint8)
    start = (-raw.ctypes.data) % 16 + 4
    out = raw[start:start + array.nbytes].view(array.dtype)
    out = out.reshape(array.shape)
    out[...] = array
    return out


def test_input_in_place(rng):
    """The volume ops read a lent array's rows where they lie (no band
    copy): the same results, to the bit, as through GEGL's own tiles,
    where the input is moved by gegl:translate or cut by gegl:crop too,
    for whole outputs and parts, on 1 and 4 threads."""
    Gegl = _gegl.init()
    cases = volume_op_cases(rng)
    for threads in (1, 4):
        Gegl.config().props.threads = threads
        for operation, image, properties in cases:
            rows = float(image.shape[0] * image.shape[1])
            moves = [[], [('gegl:translate', dict(x=-3.0, y=5.0))],
                     [('gegl:crop', dict(x=2.0, y=0.0, width=17.0,
                                         height=rows))],
                     [('gegl:translate', dict(x=4.0, y=-7.0)),
                      ('gegl:crop', dict(x=5.0, y=-7.0, width=13.0,
                                         height=rows))]]
            for move in moves:
                results = []
                for source in (image, misaligned(image)):
                    with _gegl._lock:
                        graph = _gegl.Graph(source)
                        try:
                            for name, props in move:
                                graph.add(name, **props)
                            graph.add(operation, **properties)
                            x, y, w, h = graph.bounding_box()
                            dtype = np.uint8 if 'descent' in operation \
                                else image.dtype
                            results.append([
                                blit(graph, box, dtype, box[2])
                                for box in ((x, y, w, h),
                                            (x + 1, y + h // 3, w - 2,
                                             h // 2 + 1),
                                            (x + w - 1, y, 1, h))])
                        finally:
                            graph.close()
                check('%s %s, %d thread(s): the lent array read in place '
                      'gives what GEGL\'s tiles give' % (
                          operation, ' → '.join(m[0] for m in move) or
                          'as it is', threads),
                      all(same(a, b) for a, b in zip(*results)))
    Gegl.config().props.threads = 1


def test_render_to_memory(rng):
    """seg_node_render_to_memory: the volume ops write their output into
    the caller's memory, equal to GEGL's blit out of their tiles, for the
    whole output and for parts of it, on 1 and 4 threads; where the last
    node is not one of them, or the format is not its own, it says so and
    the API renders through gegl_node_blit."""
    Gegl = _gegl.init()
    cases = volume_op_cases(rng)
    for threads in (1, 4):
        Gegl.config().props.threads = threads
        for operation, image, properties in cases:
            with _gegl._lock:
                graph = _gegl.Graph(image)
                try:
                    # Off the origin: the target's own coordinates count.
                    graph.add('gegl:translate', x=-3.0, y=5.0)
                    node = graph.add(operation, **properties)
                    x, y, w, h = graph.bounding_box()
                    dtype = np.uint8 if 'descent' in operation \
                        else image.dtype
                    parts = [(x, y, w, h),
                             (x + 1, y + h // 3, w - 2, h // 2 + 1),
                             (x + w - 1, y, 1, h)]
                    for box in parts:
                        want = blit(graph, box, dtype, box[2] + 3)
                        done, got = render_to_memory(graph, box, dtype,
                                                     box[2] + 3)
                        check('%s, %d thread(s), %s: rendered into memory '
                              'directly' % (operation, threads, box), done)
                        check('%s, %d thread(s), %s: equal to GEGL\'s blit, '
                              'row ends untouched' % (operation, threads, box),
                              same(got, want))
                    done, _ = render_to_memory(graph, (x, y, w, h), dtype,
                                               w - 1)
                    check('%s: rows shorter than the region are refused'
                          % operation, not done)
                    done, _ = render_to_memory(graph, (x, y, w, h),
                                               np.float64, w)
                    check('%s: another format is left to gegl_node_blit'
                          % operation, not done)
                    graph.add('gegl:translate', x=2.0, y=0.0)
                    box = graph.bounding_box()
                    done, _ = render_to_memory(graph, box, dtype, box[2])
                    check('%s, then gegl:translate: left to gegl_node_blit'
                          % operation, not done)
                    check('%s, then gegl:translate: Graph.render falls back '
                          'to gegl_node_blit' % operation,
                          same(graph.render((box[3], box[2]), dtype),
                               blit(graph, box, dtype, box[2])))
                    del node
                finally:
                    graph.close()
    Gegl.config().props.threads = 1


def test_pyramid(rng):
    volume = random_labels(rng, (13, 21, 18), 'u4', n_labels=5)
    levels = gegl_seg.pyramid(volume, (1, 2, 2), 3)
    ok = levels[0] is volume and len(levels) == 4
    for k in range(1, 4):
        ok = ok and same(levels[k], gegl_seg.mode_pool(levels[k - 1],
                                                       (1, 2, 2)))
    check('pyramid: each level pooled from the one before', ok)
    check('pyramid: sizes round up', [lv.shape for lv in levels] == [
        (13, 21, 18), (13, 11, 9), (13, 6, 5), (13, 3, 3)])
    exact = gegl_seg.pyramid(volume, 2, 2, exact=True)
    check('pyramid exact: level k is the mode of factor^k blocks',
          same(exact[2], ref_mode_pool(volume, (4, 4, 4), False)))
    average = gegl_seg.pyramid(volume.astype(np.uint16), 3, 2,
                               method='average', exact=True, sparse=True)
    check('pyramid exact average: the mean of factor^k blocks',
          same(average[2], ref_average(volume.astype(np.uint16), (9, 9, 9),
                                       True)))


def test_tinybrain(rng):
    img = random_labels(rng, (11, 9, 5), 'u8')
    fimg = np.asfortranarray(img)
    mips = gegl_seg.downsample_segmentation(fimg, (2, 2, 1), num_mips=2)
    check('downsample_segmentation: a list of num_mips mips, ceil sizes',
          [m.shape for m in mips] == [(6, 5, 5), (3, 3, 5)])
    check('downsample_segmentation: Fortran order in, Fortran order out',
          all(m.flags.f_contiguous for m in mips))
    check('downsample_segmentation (2, 2, 1) is 2D COUNTLESS per z',
          same(np.ascontiguousarray(mips[0].T),
               ref_mode_pool(np.ascontiguousarray(img.T), (1, 2, 2), False)))
    check('downsample_segmentation: a short factor pads with 1',
          same(gegl_seg.downsample_segmentation(fimg, (2, 2))[0], mips[0]))
    check('downsample_segmentation: factor of ones gives the image',
          gegl_seg.downsample_segmentation(fimg, (1, 1, 1), num_mips=2)[1]
          is fimg)
    four = np.asfortranarray(random_labels(rng, (8, 6, 4, 3), 'u2'))
    mips = gegl_seg.downsample_segmentation(four, (2, 2, 2), num_mips=2)
    check('downsample_segmentation: (x, y, z, channel), each channel',
          [m.shape for m in mips] == [(4, 3, 2, 3), (2, 2, 1, 3)] and all(
              same(np.ascontiguousarray(mips[0][..., c]),
                   np.ascontiguousarray(gegl_seg.countless3d(four[..., c])))
              for c in range(3)))
    img = np.asfortranarray(rng.randint(0, 256, (17, 12, 4)).astype(np.uint8))
    avg = gegl_seg.downsample_with_averaging(img, (2, 2, 1), num_mips=2)
    check('downsample_with_averaging: mip 2 is the mean of 4×4 blocks',
          [m.shape for m in avg] == [(9, 6, 4), (5, 3, 4)] and same(
              np.ascontiguousarray(avg[1].T),
              ref_average(np.ascontiguousarray(img.T), (1, 4, 4), False)))
    try:
        gegl_seg.downsample_segmentation(four, (2, 2, 2, 2))
        check('a channel factor is refused', False)
    except ValueError as e:
        check('a channel factor is refused', 'channel' in str(e), str(e))
    folder = os.environ.get('SEG_TINYBRAIN')
    if not folder:
        results.append(('tinybrain itself # SKIP SEG_TINYBRAIN is not set',
                        True, ''))
        return
    sys.path.insert(0, folder)
    import tinybrain
    for dtype in ('u1', 'u2', 'u4', 'u8'):
        for factor in ((2, 2, 1), (2, 2, 2)):
            for _ in range(3):
                shape = tuple(rng.randint(1, 20, size=3))
                img = np.asfortranarray(random_labels(rng, shape, dtype, 5))
                want = tinybrain.downsample_segmentation(img, factor,
                                                         num_mips=2)
                got = gegl_seg.downsample_segmentation(img, factor,
                                                       num_mips=2)
                check('tinybrain.downsample_segmentation %s %s %s' % (
                    dtype, factor, shape),
                    len(got) == 2 and all(same(np.asarray(w), g)
                                          for w, g in zip(want, got)))
    for dtype in ('u1', 'u2', 'f4'):
        for factor in ((2, 2, 1), (2, 2, 2)):
            shape = (16, 8, 8)
            img = (rng.rand(*shape) * 200).astype(dtype)
            img = np.asfortranarray(img)
            want = tinybrain.downsample_with_averaging(img, factor,
                                                       num_mips=3)
            got = gegl_seg.downsample_with_averaging(img, factor, num_mips=3)
            check('tinybrain.downsample_with_averaging %s %s %s' % (
                dtype, factor, shape),
                len(got) == 3 and all(
                    same(np.asarray(w), g) if dtype[0] == 'u' else
                    np.shape(w) == g.shape and np.allclose(w, g, rtol=1e-6)
                    for w, g in zip(want, got)))


def expect_error(name, call, *words):
    try:
        call()
    except ValueError as e:
        text = str(e)
        check(name, text.startswith('gegl_seg.') and all(
            w in text for w in words), text)
        return
    check(name, False, 'no ValueError')


def test_errors(rng):
    a = np.zeros((4, 4, 4), np.uint32)
    expect_error('a complex array is refused',
                 lambda: gegl_seg.mode_pool(np.zeros((4, 4), complex)),
                 'complex128')
    expect_error('an empty array is refused',
                 lambda: gegl_seg.mode_pool(np.zeros((0, 4), np.uint8)),
                 'mode_pool', 'empty')
    expect_error('a 1D array is refused',
                 lambda: gegl_seg.mode_pool(np.zeros(4, np.uint8)),
                 'has 1 dimension (shape (4,))')
    expect_error('a 4D array is refused by countless3d',
                 lambda: gegl_seg.countless3d(np.zeros((2, 2, 2, 2))),
                 'countless3d', '4 dimensions')
    for factor in (0, 65, 2.5, True):
        expect_error('factor %r is refused' % (factor,),
                     lambda: gegl_seg.mode_pool(a, factor), 'factor',
                     repr(factor), '1 to 64')
    expect_error('a factor of the wrong length is refused',
                 lambda: gegl_seg.sparse_average(a, (2, 2)), '2 values')
    for spacing in (0, -1.0, float('nan')):
        expect_error('spacing %r is refused' % spacing,
                     lambda: gegl_seg.descent_direction(a, spacing),
                     'spacing', 'positive')
    for size in ((-1, 2, 2), (2, 65537, 2)):
        expect_error('size %s is refused' % (size,),
                     lambda: gegl_seg.resample(a, size), 'size', '65536')
    expect_error('an unknown resampling mode is refused',
                 lambda: gegl_seg.resample(a, (2, 2, 2), 'cubic'),
                 "'cubic'", 'nearest')
    expect_error('an unknown pyramid method is refused',
                 lambda: gegl_seg.pyramid(a, 2, 1, method='median'),
                 "'median'", 'mode')
    expect_error('an exact level beyond factor 64 is refused',
                 lambda: gegl_seg.pyramid(a, 3, 4, exact=True), '81')


MALLOC_PROBE = """
import numpy, gegl_seg, malloc_probe
gegl_seg.mode_pool(numpy.zeros((8, 8), 'u1'), 2)
print('mapped' if malloc_probe.maps_fresh_block() else 'heap')
"""


def test_malloc(rng):
    """glibc maps blocks over 128 KiB afresh until frees teach it
    otherwise, and for good where MALLOC_TRIM_THRESHOLD_ is set (as
    dask.distributed sets it for its workers); gegl_seg sets the thresholds
    glibc settles at by itself (unless GEGL_SEG_KEEP_MALLOC=1): a 1 MiB
    block then comes from the heap instead of a fresh mapping."""
    if 'asan' in os.environ.get('LD_PRELOAD', ''):
        return      # ASan's allocator stands in for glibc's
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [os.path.dirname(os.path.abspath(__file__))] +
        os.environ.get('PYTHONPATH', '').split(os.pathsep)))
    env.pop('GEGL_SEG_KEEP_MALLOC', None)
    env.pop('MALLOC_TRIM_THRESHOLD_', None)
    for extra, want in (({}, 'heap'),
                        ({'MALLOC_TRIM_THRESHOLD_': '65536'}, 'heap'),
                        ({'GEGL_SEG_KEEP_MALLOC': '1'}, 'mapped'),
                        ({'MALLOC_TRIM_THRESHOLD_': '65536',
                          'GEGL_SEG_KEEP_MALLOC': '1'}, 'mapped')):
        run = subprocess.run([sys.executable, '-c', MALLOC_PROBE],
                             env=dict(env, **extra), capture_output=True,
                             text=True)
        check('%s: a 1 MiB block is %s' % (
            ' '.join('%s=%s' % item for item in extra.items()) or
            'a fresh process',
            'taken from the heap' if want == 'heap' else 'mapped'),
            run.stdout.strip() == want, run.stdout + run.stderr)


def main():
    rng = np.random.RandomState(int(os.environ.get('SEG_SEED', '18')))
    _gegl.init().config().props.threads = 1
    for test in (test_pooling, test_label_stats, test_descent, test_resample,
                 test_layouts, test_input_in_place, test_render_to_memory,
                 test_pyramid, test_tinybrain, test_errors, test_malloc):
        test(rng)
    return finish()


if __name__ == '__main__':
    sys.exit(main())
