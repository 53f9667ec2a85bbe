# SPDX-License-Identifier: LGPL-3.0-or-later
"""Pyramids, label statistics and descent directions of Dask arrays,
block by block, on any Dask scheduler (threads, processes, a
dask.distributed cluster), with results bit-identical to gegl_seg's on the
whole volume; to_ome_zarr writes a pyramid with a few chunks per task.

Why block-wise is exact: pooling blocks start at the volume's origin, so
when every chunk but the last along each axis is a multiple of
factor^num_mips, every pooling block of every level lies inside one chunk,
and the volume's last, partial blocks are the last chunk's.  (igneous
plans its tasks the same way.)  Label statistics are merged from per-chunk
partials exactly: counts add, bounds take min and max, and centroids come
from integer coordinate sums, divided once at the end.  A voxel's descent
direction depends on its 26 neighbours alone, so each chunk is labelled
with a margin of one voxel from the chunks around it.
"""
from fractions import Fraction
import functools
import os
import uuid

import numpy as np

import dask
import dask.array as da
import dask.core
import dask.multiprocessing
import dask.sizeof
import dask.threaded

from . import pyramid as _pyramid, label_stats as _label_stats
from . import descent_direction as _descent_direction
from . import (_gegl, _per_axis, _fail, _fail_rank, _check_pyramid_args,
               _spacing)

__all__ = ['pyramid', 'to_ome_zarr', 'label_stats', 'descent_direction',
           'check_chunks']


def _known_chunks(array, function):
    """ValueError where Dask does not know the array's chunk sizes (as
    after boolean indexing)."""
    if any(np.isnan(c) for chunks in array.chunks for c in chunks):
        _fail(function, "the array's chunk sizes are unknown (its shape is "
              "%s); array.compute_chunk_sizes() finds them", array.shape)


def check_chunks(array, factor, num_mips, function='check_chunks'):
    """ValueError unless every chunk but the last along each axis is a
    multiple of factor^num_mips; the message gives chunks that would do."""
    _known_chunks(array, function)
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
    _check_pyramid_args(method, num_mips, function)
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


def _write_blocks(blocks, targets, factor, num_mips, method, exact,
                  sparse):
    """Each chunk's every level, for blocks of [chunk, its region as
    slices], written straight into the level arrays: a chunk's region of
    level k starts at its level-0 start / factor^k, on a zarr chunk
    boundary, so no two tasks write the same zarr chunk.  A chunk may
    also come as a _Chunk, read only when its turn comes, whose level 0
    is copied as it is stored where it is a chunk of a zarr array that
    stores chunks as level 0 does."""
    for block, region in blocks:
        copied = None
        if isinstance(block, _Chunk):
            copied = block.copy_stored(region, targets[0])
            block = block.read() if copied is None else copied
        levels = _pyramid(np.asarray(block), factor, num_mips, method,
                          exact, sparse)
        for k, (level, target) in enumerate(zip(levels, targets)):
            if k == 0 and copied is not None:
                continue
            target[tuple(slice(r.start // f ** k, r.start // f ** k + n)
                         for r, f, n in zip(region, factor,
                                            level.shape))] = level
    return np.ones(1, bool)


# A task's chunks hold about this much, as a rule: each task costs
# dask.distributed a few ms of the scheduler's, the client's and the
# worker's time (docs/python.md), so tasks much shorter than 100 ms spend
# a large part of a cluster's time on Dask (64 MiB of labels from zarr
# take about 75 ms here with level 0 copied as stored).
TASK_BYTES = 64 << 20
# Tasks per scheduler thread a run keeps where it has the chunks for
# them: enough to spread the work, and to end it in smaller tasks.
MIN_TASKS_PER_THREAD = 4


def _chunks_per_task(array, chunks_per_task, threads, function):
    """How many chunks each task takes: chunks_per_task, or by default
    chunks of TASK_BYTES together but no fewer than MIN_TASKS_PER_THREAD
    tasks per thread of the scheduler."""
    if chunks_per_task is None:
        chunk_bytes = array.dtype.itemsize * int(np.prod(
            [sizes[0] for sizes in array.chunks]))
        n_chunks = int(np.prod(array.numblocks))
        return max(1, min(TASK_BYTES // max(1, chunk_bytes),
                          -(-n_chunks // (MIN_TASKS_PER_THREAD * threads))))
    if (isinstance(chunks_per_task, (bool, np.bool_))
            or not isinstance(chunks_per_task, (int, np.integer))
            or chunks_per_task < 1):
        _fail(function, 'chunks_per_task %r is not a whole number of 1 or '
              'more', chunks_per_task)
    return int(chunks_per_task)


class _Chunk:
    """A chunk's task and the values of the keys it names: a task of
    several chunks reads each only when it comes to it, so that one chunk
    at a time is in memory, and in the caches while it is pooled."""

    KEY = 'gegl_seg-chunk'

    def __init__(self, task, known):
        self.task = task
        self.known = known

    def read(self):
        # The values quoted: a value that looks like a task stays a value.
        graph = {key: dask.core.quote(value)
                 for key, value in self.known.items()}
        graph[self.KEY] = self.task
        return dask.core.get(graph, self.KEY)

    def copy_stored(self, region, target):
        """This chunk copied into zarr array `target` as stored and
        returned decoded (gegl_seg.ome_zarr.copy_stored_chunk) when its
        task is Dask's plain read of `region` of a zarr array (as
        da.from_zarr and da.from_array make); else None."""
        from . import ome_zarr
        task = self.task
        if not (dask.core.istask(task) and len(task) == 3
                and task[0] is da.core.getter
                and isinstance(task[2], tuple) and task[2] == region):
            return None
        source = task[1]
        if isinstance(source, (str, tuple)):
            source = self.known.get(source)
        return ome_zarr.copy_stored_chunk(source, region, target)


def _chunks(blocks, keys, *values):
    """blocks ([a chunk's task, its region] pairs) with _Chunks for the
    tasks, which name the keys whose values Dask gives here."""
    known = dict(zip(keys, values))
    return [[_Chunk(task, known), region] for task, region in blocks]


def _scheduler_threads(collection):
    """How many tasks the scheduler that would compute `collection` runs
    at once: a dask.distributed client's worker threads, a local pool's
    workers, 1 for the synchronous scheduler."""
    scheduler, client = _scheduler_of(collection)
    if client is not None:
        return max(1, sum(client.nthreads().values()))
    if scheduler in (dask.threaded.get, dask.multiprocessing.get):
        return _local_workers()
    return 1


def _scheduler_of(collection):
    """The scheduler that would compute `collection`, and its
    dask.distributed client, if it is one's (else None)."""
    scheduler = dask.base.get_scheduler(collections=[collection])
    client = getattr(scheduler, '__self__', None)
    try:
        from distributed import Client
    except ImportError:
        return scheduler, None
    return scheduler, client if isinstance(client, Client) else None


def _local_workers():
    """The workers of Dask's local thread or process pool."""
    return dask.config.get('num_workers', None) or os.cpu_count() or 1


def _task_sizes(n_chunks, per_task, threads):
    """Chunks per task, in the order the tasks run: per_task, then fewer
    towards the end, at most 1/(2·threads) of the chunks still to do (a
    guided schedule).  Equal tasks would leave a worker idle for up to a
    whole task at the end while another finishes its last; shrinking
    tasks make the workers end within about one chunk of each other."""
    sizes = []
    left = n_chunks
    while left:
        size = min(per_task, left if threads <= 1 else
                   -(-left // (2 * threads)))
        sizes.append(size)
        left -= size
    return sizes


def _in_tasks(array, name, function, sizes, *args):
    """A Dask array of one element per task: task t takes sizes[t]
    consecutive chunks of `array` (in C order of the chunk grid) and
    calls function([[chunk, its region as slices], …], *args), each
    chunk a _Chunk.  Each chunk's own task is put into the task that uses
    it, so a chunk is read where it is used and never travels between
    workers.  The chunks' tasks are those of the array's graph once Dask
    has optimised it, kept as they are: a later optimisation could
    otherwise fuse away the keys they name."""
    from dask.core import flatten, get_dependencies, quote
    from dask.highlevelgraph import HighLevelGraph, MaterializedLayer
    (array,) = dask.optimize(array)
    tasks = dict(array.__dask_graph__())
    starts = [np.cumsum((0,) + extents) for extents in array.chunks]
    keys = list(flatten(array.__dask_keys__()))
    small = {key: quote(value) for key, value in tasks.items()
             if _small_data(tasks, value)}
    layer = {}
    firsts = np.cumsum([0] + list(sizes))
    for t, size in enumerate(sizes):
        group = keys[firsts[t]:firsts[t] + size]
        blocks = [[tasks[key], tuple(slice(int(s[i]), int(s[i + 1]))
                                     for s, i in zip(starts, key[1:]))]
                  for key in group]
        named = list(dict.fromkeys(
            k for key in group
            for k in get_dependencies(tasks, task=tasks[key])))
        chunks = (_chunks, quote(blocks), quote(named)) + tuple(
            small.get(k, k) for k in named)
        layer[(name, t)] = (function, chunks) + args
    inputs = name + '-inputs'
    # dask.distributed orders tasks by their keys as strings ('10' before
    # '2'): a priority per task keeps them in their order.
    layer = MaterializedLayer(layer, annotations={'priority': _in_order})
    graph = HighLevelGraph({name: layer, inputs: tasks},
                           {name: {inputs}, inputs: set()})
    return da.Array(graph, name, ((1,) * len(layer),), dtype=bool)


# Data of the input graph (a zarr array object, say) up to this size
# travels inside every task that names it.
SMALL_DATA = 64 << 10


def _small_data(tasks, value):
    """Whether a value of the graph `tasks` is small data rather than a
    task: given to the tasks that name it as a value, it spares them
    waiting for a task that holds it and fetching it from the worker that
    ran that task."""
    return (not dask.core.istask(value)
            and not dask.core.get_dependencies(tasks, task=value)
            and dask.sizeof.sizeof(value) <= SMALL_DATA)


def _in_order(key):
    """The priority of task (name, t): the earlier, the higher."""
    return -key[1]


def _on_chunk_grid(array, chunks):
    """The array rechunked, where needed, so that every chunk starts on a
    multiple of `chunks` (one task then owns each zarr chunk it writes)."""
    aligned = all(all(c % step == 0 for c in sizes[:-1])
                  for sizes, step in zip(array.chunks, chunks))
    return array if aligned else array.rechunk(chunks)


def to_ome_zarr(array, path, factor, num_mips, method='mode', exact=False,
                sparse=False, name=None, chunks=None, voxel_size=None,
                origin=None, unit=None, overwrite=False, progress=None,
                chunks_per_task=None):
    """gegl_seg.dask.pyramid written as OME-Zarr (the label pyramid
    labels/<name> for method 'mode', the root image for 'average'), a
    few chunks per task: each task reads its chunks, computes all their
    levels and writes them into the zarr arrays; nothing travels between
    workers.  The levels are those of gegl_seg.ome_zarr.write_labels/
    write_image given gegl_seg.dask.pyramid's levels, bit for bit.
    chunks: level 0's zarr chunks (the array's first chunks by default);
    the array is rechunked to them where its chunks do not start on their
    grid.  chunks_per_task: consecutive Dask chunks per task (default:
    about 64 MiB of them, but at least 4 tasks per thread of the
    scheduler where there are as many chunks); the last tasks take
    fewer, so that the workers end together.  `path` must be on storage
    every worker sees; like write_labels, the group is written under a
    temporary name beside it and renamed when whole."""
    from . import ome_zarr
    function = 'dask.to_ome_zarr'
    _check_pyramid_args(method, num_mips, function)
    array = da.asarray(array)
    if chunks is None:
        factor = check_chunks(array, factor, num_mips, function)
    else:
        factor = tuple(int(f) for f in _per_axis(factor, array.ndim,
                                                 function, 'factor'))
    chunks = tuple(chunks or ome_zarr.default_chunks(array, factor,
                                                     num_mips))
    array = _on_chunk_grid(array, chunks)
    threads = _scheduler_threads(array)
    sizes = _task_sizes(int(np.prod(array.numblocks)),
                        _chunks_per_task(array, chunks_per_task, threads,
                                         function), threads)
    shapes = [ome_zarr.level_shape(array.shape, factor, k)
              for k in range(num_mips + 1)]
    label = method == 'mode'
    with ome_zarr.creating(path, shapes, array.dtype, factor,
                           name or ('labels' if label else 'image'),
                           chunks, voxel_size, origin, unit, overwrite,
                           label) as targets:
        # A name of its own per call: the tasks write into this call's
        # temporary group, so no result of an earlier call may stand in.
        written = _in_tasks(
            array, 'gegl_seg-to-ome-zarr-' + uuid.uuid4().hex, _write_blocks,
            sizes, targets, factor, num_mips, method, exact, sparse)
        with (progress or ome_zarr._no_progress)():
            _compute_writes(written, optimized=True)
    return path


def _compute_writes(collection, optimized=False):
    """Computes a Dask collection whose results are only acknowledged
    writes, and returns or raises only when no task runs any more, so that
    the caller may remove what failed tasks wrote.  (Dask's local
    schedulers raise at the first error while other tasks still run: they
    get a pool of their own here, closed and waited for.)  On a
    dask.distributed client the chunks stay on the workers (no gather
    into one array, no concatenating task).  optimized: the collection's
    graph is final (Dask's optimisation would drop its annotations)."""
    import concurrent.futures
    import multiprocessing
    scheduler, client = _scheduler_of(collection)
    if client is not None:
        from distributed import wait
        futures = client.futures_of(client.persist(
            collection, optimize_graph=not optimized))
        wait(futures)       # every task, the failed ones too
        for future in futures:
            if future.status != 'finished':
                future.result()
        return
    workers = _local_workers()
    if scheduler is dask.threaded.get:
        with concurrent.futures.ThreadPoolExecutor(workers) as pool:
            collection.compute(scheduler='threads', pool=pool)
    elif scheduler is dask.multiprocessing.get:
        context = multiprocessing.get_context(
            dask.config.get('multiprocessing.context', 'spawn'))
        with concurrent.futures.ProcessPoolExecutor(
                workers, mp_context=context) as pool:
            collection.compute(scheduler='processes', pool=pool)
    else:
        collection.compute()


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
    _known_chunks(array, 'dask.label_stats')
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


# ---- Descent directions ----------------------------------------------------

def _descent_block(block, spacing, order):
    block = np.asarray(block)
    block = (np.asfortranarray(block) if order == 'F'
             else np.ascontiguousarray(block))
    return _descent_direction(block, spacing)


def descent_direction(array, spacing=1.0, order='C'):
    """gegl_seg.descent_direction on a 2D or 3D Dask array, lazily: uint8
    labels of the array's shape and chunks, bit-identical to the whole
    volume's.  Each chunk is labelled with a margin of one voxel from the
    chunks around it (da.map_overlap), and none past the volume's edges,
    where the whole volume has no neighbours either.  `spacing` is the
    physical size of a step along each array axis.

    A Dask array has no memory order, which gegl_seg takes the axes from:
    `order` says it.  'C' takes the axes as (z, y, x) (2D: (y, x)), as
    gegl_seg.descent_direction takes a C-order array; 'F' as (x, y, z),
    as it takes a Fortran-order one (tinybrain's layout)."""
    function = 'dask.descent_direction'
    array = da.asarray(array)
    if array.ndim not in (2, 3):
        _fail_rank(function, array.shape, '2 or 3')
    _known_chunks(array, function)
    if array.size == 0:
        _fail(function, 'the array is empty (shape %s)', array.shape)
    if order not in ('C', 'F'):
        _fail(function, 'order %r is not \'C\' or \'F\'', order)
    spacing = _spacing(spacing, array.ndim, function)
    _gegl.format_of(array.dtype, function)
    return array.map_overlap(_descent_block, depth=1, boundary='none',
                             trim=True, dtype=np.uint8,
                             meta=np.empty((0,) * array.ndim, np.uint8),
                             spacing=spacing, order=order)
