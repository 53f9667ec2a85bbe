# SPDX-License-Identifier: LGPL-3.0-or-later
"""Pyramids as OME-Zarr (OME-NGFF 0.4) with zarr 2: a label pyramid as an
image-label group (`labels/<name>`), an image pyramid as the root's
multiscales.

Level k of a pyramid with factor f has voxels f^k times the size of level
0's, and its voxel 0 covers level 0's voxels 0 … f^k − 1: its centre lies
(f^k − 1)/2 level-0 voxels further on.  So each level's
coordinateTransformations are scale = s·f^k and translation = t +
s·(f^k − 1)/2 (s, t: level 0's voxel size and origin).  Level k's chunks
are level 0's divided by f^k, so every chunk of every level covers the
same region of space as a chunk of level 0 (or a part of one at the far
edge).

Writes are whole or nothing: the group is written beside its target under
a temporary name and renamed into place at the end.
"""
import contextlib
import os
import shutil
import tempfile

import numpy as np

NGFF_VERSION = '0.4'
SPACE_AXES = {2: ('y', 'x'), 3: ('z', 'y', 'x')}


def _zarr():
    import zarr
    return zarr


def multiscales(name, ndim, factor, num_levels, voxel_size=None,
                origin=None, unit=None, method='mode'):
    """The OME-NGFF 0.4 `multiscales` entry of a pyramid."""
    voxel_size = tuple(float(s) for s in (voxel_size or (1.0,) * ndim))
    origin = tuple(float(t) for t in (origin or (0.0,) * ndim))
    axes = []
    for axis in SPACE_AXES[ndim]:
        entry = {'name': axis, 'type': 'space'}
        if unit:
            entry['unit'] = unit
        axes.append(entry)
    datasets = []
    for k in range(num_levels):
        scale = [s * f ** k for s, f in zip(voxel_size, factor)]
        shift = [t + s * (f ** k - 1) / 2
                 for t, s, f in zip(origin, voxel_size, factor)]
        datasets.append({'path': str(k), 'coordinateTransformations': [
            {'type': 'scale', 'scale': scale},
            {'type': 'translation', 'translation': shift}]})
    return {'version': NGFF_VERSION, 'name': name, 'axes': axes,
            'datasets': datasets, 'type': method,
            'metadata': {'method': 'gegl_seg.pyramid',
                         'factor': list(factor)}}


def level_shape(shape, factor, k):
    """Level k's shape: ceil(n / f^k) along each axis, as tinybrain and
    CloudVolume round."""
    return tuple(-(-int(n) // f ** k) for n, f in zip(shape, factor))


def level_chunks(chunks, factor, k):
    return tuple(max(1, c // f ** k) for c, f in zip(chunks, factor))


def _fill(targets, levels, progress):
    """Each level into its zarr array; Dask levels are computed block by
    block (da.store, all levels in one pass)."""
    import dask.array as da
    sources, stores = [], []
    for level, target in zip(levels, targets):
        if isinstance(level, da.Array):
            sources.append(level.rechunk(target.chunks))
            stores.append(target)
        else:
            target[...] = np.asarray(level)
    if sources:
        from .dask import _compute_writes
        with progress():
            _compute_writes(da.store(sources, stores, lock=False,
                                    compute=False))


def copy_stored_chunk(source, region, target):
    """The chunk of zarr array `source` at `region` (slices), copied into
    zarr array `target` as it is stored (its compressed bytes unchanged)
    and returned decoded; None, with nothing written, unless `region` is
    exactly one stored chunk of both arrays and they store chunks alike:
    the same dtype, chunks, order, compressor, filters and fill value.
    Encoding level 0 again is the largest part of writing a pyramid whose
    input is already a zarr array chunked as the output."""
    if not _stored_alike(source, target):
        return None
    index = _chunk_at(source, region)
    if index is None or _chunk_at(target, region) != index:
        return None
    key = target._chunk_key(index)
    try:
        data = source.chunk_store[source._chunk_key(index)]
    except KeyError:
        # Never written: the fill value throughout, in the target too.
        if source.fill_value is None:
            return None
        try:
            del target.chunk_store[key]
        except KeyError:
            pass
        return np.full(tuple(r.stop - r.start for r in region),
                       source.fill_value, source.dtype)
    target.chunk_store[key] = data
    return _decoded(source, data)[tuple(slice(0, r.stop - r.start)
                                        for r in region)]


def _chunk_at(array, region):
    """The index of the stored chunk of zarr array `array` that is
    exactly `region` (a chunk at the far edge ends with the array), else
    None."""
    if len(region) != array.ndim:
        return None
    index = []
    for r, c, n in zip(region, array.chunks, array.shape):
        if (not isinstance(r, slice) or r.step not in (None, 1)
                or not isinstance(r.start, (int, np.integer))
                or r.start % c or r.stop != min(r.start + c, n)):
            return None
        index.append(int(r.start) // c)
    return tuple(index)


def _stored_alike(source, target):
    zarr = _zarr()
    return (isinstance(source, zarr.Array)
            and hasattr(source, '_chunk_key')
            and source.dtype == target.dtype and source.dtype != object
            and source.chunks == target.chunks
            and source.order == target.order
            and source.compressor == target.compressor
            and list(source.filters or ()) == list(target.filters or ())
            and _same_fill(source.fill_value, target.fill_value))


def _same_fill(a, b):
    if a is None or b is None:
        return a is b
    return bool(a == b or (a != a and b != b))


def _decoded(array, data):
    """A stored chunk of zarr array `array` decoded as zarr decodes it:
    the compressor, then the filters in reverse, a whole chunk in the
    array's order."""
    from numcodecs.compat import ensure_ndarray
    chunk = array.compressor.decode(data) if array.compressor else data
    for codec in reversed(array.filters or ()):
        chunk = codec.decode(chunk)
    return ensure_ndarray(chunk).view(array.dtype).reshape(
        array.chunks, order=array.order)


class _Replace:
    """A temporary folder beside path, renamed to path when whole."""

    def __init__(self, path, overwrite):
        self.path = os.path.abspath(path)
        if os.path.exists(self.path) and not overwrite:
            raise FileExistsError(
                'gegl_seg.ome_zarr: %s exists (overwrite=True replaces it)'
                % path)

    def __enter__(self):
        parent = os.path.dirname(self.path)
        self.temporary = tempfile.mkdtemp(
            prefix='.%s.' % os.path.basename(self.path), dir=parent)
        return self.temporary

    def __exit__(self, kind, value, traceback):
        if kind is not None:
            shutil.rmtree(self.temporary, ignore_errors=True)
            return False
        old = None
        if os.path.exists(self.path):
            old = self.temporary + '.old'
            os.rename(self.path, old)
        os.rename(self.temporary, self.path)
        if old:
            shutil.rmtree(old, ignore_errors=True)
        return False


def _no_progress():
    return contextlib.nullcontext()


def write_labels(path, levels, factor, name='labels', chunks=None,
                 voxel_size=None, origin=None, unit=None, overwrite=False,
                 progress=None):
    """Writes a label pyramid (levels[0] the full resolution, in (z, y, x)
    or (y, x) order; NumPy or Dask arrays) as the OME-Zarr group `path`
    holding the image-label group labels/<name>.  chunks: level 0's chunk
    shape (a Dask level 0's own chunks by default, else 64 per axis),
    a multiple of factor^(levels − 1) on each axis."""
    return _write(path, levels, factor, name, chunks, voxel_size, origin,
                  unit, overwrite, progress, label=True)


def write_image(path, levels, factor, name='image', chunks=None,
                voxel_size=None, origin=None, unit=None, overwrite=False,
                progress=None):
    """Writes an image pyramid (averages) as the multiscales of the
    OME-Zarr group `path`."""
    return _write(path, levels, factor, name, chunks, voxel_size, origin,
                  unit, overwrite, progress, label=False)


def default_chunks(level0, factor, num_mips, size=64):
    """Level 0's chunks: a Dask array's own first chunks, else `size` per
    axis rounded to a multiple of factor^num_mips."""
    chunks = getattr(level0, 'chunks', None)
    if chunks and isinstance(chunks[0], tuple):
        return tuple(c[0] for c in chunks)
    return tuple(max(f ** num_mips, size // f ** num_mips * f ** num_mips)
                 for f in factor)


def _write(path, levels, factor, name, chunks, voxel_size, origin, unit,
           overwrite, progress, label):
    ndim = levels[0].ndim
    factor = _factor(factor, ndim)
    chunks = chunks or default_chunks(levels[0], factor, len(levels) - 1)
    with creating(path, [level.shape for level in levels], levels[0].dtype,
                  factor, name, chunks, voxel_size, origin, unit, overwrite,
                  label) as targets:
        _fill(targets, levels, progress or _no_progress)
    return path


def _factor(factor, ndim):
    if ndim not in SPACE_AXES:
        raise ValueError('gegl_seg.ome_zarr: a level has %d dimensions; 2 '
                         '(y, x) or 3 (z, y, x) are allowed' % ndim)
    return tuple(int(f) for f in np.broadcast_to(factor, (ndim,)))


@contextlib.contextmanager
def creating(path, shapes, dtype, factor, name, chunks, voxel_size=None,
             origin=None, unit=None, overwrite=False, label=True):
    """The OME-Zarr group `path` with its metadata and one empty zarr array
    per level shape, level k chunked as chunks / factor^k: yields the
    arrays to fill, and puts the group in place when the block ends
    without an exception (nothing is left otherwise)."""
    zarr = _zarr()
    ndim = len(shapes[0])
    factor = _factor(factor, ndim)
    num_mips = len(shapes) - 1
    chunks = tuple(int(c) for c in chunks)
    if any(c % f ** num_mips for c, f in zip(chunks, factor)):
        raise ValueError('gegl_seg.ome_zarr: chunks %s are not multiples of '
                         'factor^%d = %s' % (chunks, num_mips, tuple(
                             f ** num_mips for f in factor)))
    meta = multiscales(name, ndim, factor, len(shapes), voxel_size, origin,
                       unit, 'mode' if label else 'average')
    with _Replace(path, overwrite) as folder:
        root = zarr.open_group(folder, mode='w')
        if label:
            labels = root.create_group('labels')
            labels.attrs['labels'] = [name]
            group = labels.create_group(name)
            group.attrs['multiscales'] = [meta]
            group.attrs['image-label'] = {'version': NGFF_VERSION}
        else:
            group = root
            group.attrs['multiscales'] = [meta]
        yield [group.create_dataset(str(k), shape=shape, dtype=dtype,
                                    chunks=level_chunks(chunks, factor, k),
                                    dimension_separator='/')
               for k, shape in enumerate(shapes)]


def read(path, name=None):
    """The pyramid at `path` as (list of Dask arrays, multiscales entry):
    the label pyramid labels/<name> (the first label when name is None and
    the root holds no image), else the root's image."""
    import dask.array as da
    zarr = _zarr()
    root = zarr.open_group(path, mode='r')
    group = root
    if name is not None or 'multiscales' not in root.attrs:
        labels = root['labels']
        group = labels[name or labels.attrs['labels'][0]]
    meta = group.attrs['multiscales'][0]
    levels = [da.from_zarr(group[d['path']]) for d in meta['datasets']]
    return levels, meta
