#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-3.0-or-later
"""gegl_seg.dask, gegl_seg.ome_zarr and `python3 -m gegl_seg pyramid` on a
crop of real labels (data/labels-48x80x80-u32.npy.gz) stored as a zarr
array of several chunks per axis: block-wise results equal the
single-process whole-volume ones bit for bit, on Dask's threads, on a
dask.distributed LocalCluster of 2 worker processes, and when a worker is
killed in the middle of a run.  Skips, saying which package is missing,
without python3-dask, python3-distributed or python3-zarr.  Prints TAP."""
import gzip
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import numpy as np

DATA = os.environ.get('SEG_DATA_DIR', 'data')
from tap import check, finish
import malloc_probe


def missing_packages():
    missing = []
    for module, package in (('dask.array', 'python3-dask'),
                            ('distributed', 'python3-distributed'),
                            ('zarr', 'python3-zarr')):
        try:
            __import__(module)
        except ImportError:
            missing.append(package)
    return missing


def same(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return (a.shape == b.shape and a.dtype == b.dtype
            and a.tobytes() == b.tobytes())


def same_stats(a, b):
    return set(a) == set(b) and all(same(a[k], b[k]) for k in a)


def slow_copy(block):
    """A slow identity: long enough tasks to kill a worker during a run."""
    time.sleep(0.4)
    return block.copy()


def test_dask_local(crop, stored):
    import dask.array as da
    import gegl_seg
    import gegl_seg.dask as seg_dask

    volume = da.from_zarr(stored)
    for method, exact, sparse in (('mode', False, False),
                                  ('mode', True, True),
                                  ('average', False, True)):
        want = gegl_seg.pyramid(crop, 2, 2, method, exact, sparse)
        got = seg_dask.pyramid(volume, 2, 2, method, exact, sparse)
        check('dask.pyramid %s exact=%d sparse=%d equals the whole volume' %
              (method, exact, sparse),
              len(got) == 3 and all(same(g.compute(), w)
                                    for g, w in zip(got, want)))
    factor = (1, 2, 2)
    got = seg_dask.pyramid(volume.rechunk((5, 32, 24)), factor, 3)
    want = gegl_seg.pyramid(crop, factor, 3)
    check('dask.pyramid (1, 2, 2), odd z chunks, partial last chunks',
          all(same(g.compute(), w) for g, w in zip(got, want)))
    check('dask.pyramid keeps each level chunk-aligned',
          got[2].chunks[1] == (8, 8, 4) and got[2].chunks[2] == (6,) * 3 + (2,),
          str(got[2].chunks))
    fortran = da.from_array(np.asfortranarray(crop.T), chunks=(16, 16, 8))
    got = seg_dask.pyramid(fortran, 2, 1)[1].compute()
    check('dask.pyramid of a Fortran-order (x, y, z) array',
          same(np.ascontiguousarray(got.T), want_pool(crop)))
    try:
        seg_dask.pyramid(volume.rechunk((12, 20, 20)), 2, 3)
        check('chunks that are not multiples of factor^mips are refused',
              False)
    except ValueError as e:
        text = str(e)
        check('chunks that are not multiples of factor^mips are refused, '
              'naming chunks that would do',
              'factor^num_mips = 8x8x8' in text and 'rechunk((16, 24, 24))'
              in text and 'axis 0, 1, 2' in text, text)
    want = gegl_seg.label_stats(crop)
    check('dask.label_stats equals the whole volume, bit for bit',
          same_stats(seg_dask.label_stats(volume), {
              k: v for k, v in want.items()}), '')
    check('dask.label_stats with odd chunks, sparse=False',
          same_stats(seg_dask.label_stats(volume.rechunk((7, 33, 19)),
                                          sparse=False),
                     gegl_seg.label_stats(crop, sparse=False)))
    check('dask.label_stats on the processes scheduler',
          same_stats(seg_dask.label_stats(volume, compute=False)
                     .compute(scheduler='processes'), want))
    check('the crop has many labels, split across chunks',
          len(want['label']) >= 40)
    # Chunks of unknown size, as boolean indexing leaves them.
    unknown = volume[volume[:, 0, 0] > 0]
    for name, call in (
            ('pyramid', lambda: seg_dask.pyramid(unknown, 2, 1)),
            ('label_stats', lambda: seg_dask.label_stats(unknown)),
            ('descent_direction',
             lambda: seg_dask.descent_direction(unknown))):
        try:
            call()
            check('dask.%s refuses chunks of unknown size' % name, False)
        except ValueError as e:
            check('dask.%s refuses chunks of unknown size, saying how to '
                  'find them' % name,
                  str(e).startswith('gegl_seg.dask.%s: ' % name) and
                  'compute_chunk_sizes()' in str(e), str(e))
    zeros = da.zeros((10, 10), np.uint16, chunks=5)
    stats = seg_dask.label_stats(zeros)
    check('dask.label_stats of background only: no labels',
          len(stats['label']) == 0 and stats['min'].shape == (0, 2))


def test_dask_descent(crop):
    import dask.array as da
    import gegl_seg
    import gegl_seg.dask as seg_dask

    rng = np.random.default_rng(18)
    # A smooth field with plateaus (rounded), NaNs and ties across the
    # chunks' borders, which the margins must carry.
    field = rng.random((24, 40, 36))
    for axis in range(3):
        field = np.cumsum(field, axis=axis)
    field = np.round(field / field.max() * 60).astype(np.float32)
    field[rng.random(field.shape) < 0.02] = np.nan
    for chunks, spacing in (((7, 9, 11), 1.0), ((1, 40, 36), (40, 4, 4)),
                            ((24, 13, 5), (4, 4, 40)), ((5, 5, 5), (1, 2, 3))):
        want = gegl_seg.descent_direction(field, spacing)
        source = da.from_array(field, chunks=chunks)
        got = seg_dask.descent_direction(source, spacing)
        check('dask.descent_direction, chunks %s, spacing %s, equals the '
              'whole volume' % (chunks, spacing),
              got.chunks == source.chunks and same(got.compute(), want))
    image = rng.integers(0, 5, (31, 29)).astype(np.int16)
    check('dask.descent_direction of a 2D int16 image',
          same(seg_dask.descent_direction(da.from_array(image, chunks=(8, 6)),
                                          (2, 1)).compute(),
               gegl_seg.descent_direction(image, (2, 1))))
    # gegl_seg takes x from the memory order, which a Dask array lacks.
    fortran = np.asfortranarray(field.T)
    source = da.from_array(fortran, chunks=(10, 10, 10))
    check("dask.descent_direction, order='F', of an (x, y, z) array",
          same(seg_dask.descent_direction(source, (4, 4, 40), 'F').compute(),
               gegl_seg.descent_direction(fortran, (4, 4, 40))))
    check("dask.descent_direction, order='C', of the same array",
          same(seg_dask.descent_direction(source, (4, 4, 40)).compute(),
               gegl_seg.descent_direction(np.ascontiguousarray(fortran),
                                          (4, 4, 40))))
    labels = da.from_array(crop, chunks=(16, 24, 24))
    check('dask.descent_direction of real labels on the processes scheduler',
          same(seg_dask.descent_direction(labels).compute(
              scheduler='processes'), gegl_seg.descent_direction(crop)))
    for args, words in (((da.zeros((2, 2, 2, 2), chunks=1),), '4 dimensions'),
                        ((da.zeros((0, 4), chunks=2),), 'empty'),
                        ((labels, (1, 0, 1)), 'spacing 0'),
                        ((labels, (1, 1)), 'has 2 values'),
                        ((labels, 1.0, 'K'), "order 'K'"),
                        ((da.zeros((4, 4), dtype=np.complex64, chunks=2),),
                         'complex64')):
        try:
            seg_dask.descent_direction(*args)
            check('dask.descent_direction refuses %s' % words, False)
        except ValueError as e:
            check('dask.descent_direction refuses %s at once' % words,
                  'gegl_seg.dask.descent_direction: ' in str(e) and
                  words in str(e), str(e))


def want_pool(crop):
    import gegl_seg
    return gegl_seg.mode_pool(crop, 2)


def kill_a_worker_once(client, key_part, done):
    """SIGKILLs one worker once `done` tasks whose key holds key_part are
    in memory; returns whether that happened and the killed pid."""
    deadline = time.time() + 60
    memory = 0
    while time.time() < deadline:
        memory = client.run_on_scheduler(
            lambda dask_scheduler: sum(
                1 for t in dask_scheduler.tasks.values()
                if t.state == 'memory' and key_part in str(t.key)))
        if memory >= done:
            break
        time.sleep(0.05)
    pids = client.run(lambda: os.getpid())
    victim = sorted(pids.items())[0][1]
    os.kill(victim, signal.SIGKILL)
    return memory >= done, victim


def test_cluster(crop, stored, folder):
    import threading
    import cloudpickle
    import dask.array as da
    import zarr
    from distributed import Client, LocalCluster, get_task_stream
    import gegl_seg
    import gegl_seg.dask as seg_dask
    from gegl_seg import ome_zarr

    want_levels = gegl_seg.pyramid(crop, 2, 2)
    want_stats = gegl_seg.label_stats(crop)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, \
            Client(cluster) as client:
        volume = da.from_zarr(stored)
        levels = seg_dask.pyramid(volume, 2, 2)
        got = client.compute(levels, sync=True)
        check('LocalCluster, 2 worker processes: pyramid equals the single '
              'process', all(same(g, w) for g, w in zip(got, want_levels)))
        stats = seg_dask.label_stats(volume, compute=False)
        check('LocalCluster: label_stats equal the single process',
              same_stats(client.compute(stats, sync=True), want_stats))
        gegl_pids = client.run(lambda: os.getpid())
        check('both workers ran GEGL graphs', len(gegl_pids) == 2)

        # A run whose tasks take a while; one worker killed once the first
        # of them are done, the others not.
        slow = volume.rechunk((16, 40, 40)).map_blocks(slow_copy,
                                                       dtype=volume.dtype)
        levels = seg_dask.pyramid(slow, 2, 2)
        stats = seg_dask.label_stats(slow, compute=False)
        futures = client.compute(levels + [stats])
        killed, victim = kill_a_worker_once(client, 'slow_copy', 2)
        unfinished = not all(f.done() for f in futures)
        got = client.gather(futures)
        check('a worker was killed while the run was unfinished',
              killed and unfinished)
        after = client.run(lambda: os.getpid())
        check('the killed worker is gone (the nanny started another)',
              victim not in after.values(), str(after))
        check('the pyramid after the kill equals the single process',
              all(same(g, w) for g, w in zip(got[:3], want_levels)))
        check('the label statistics after the kill equal the single '
              'process', same_stats(got[3], want_stats))

        # to_ome_zarr: every task writes its chunk's levels on the worker.
        want_group = os.path.join(folder, 'cluster-want.zarr')
        ome_zarr.write_labels(want_group, want_levels, 2,
                              chunks=(16, 16, 16))
        path = os.path.join(folder, 'cluster.zarr')
        seg_dask.to_ome_zarr(volume, path, 2, 2)
        # The workers do not import from tests/: the probe travels whole.
        cloudpickle.register_pickle_by_value(malloc_probe)
        check('LocalCluster: to_ome_zarr writes the single process\'s '
              'group', same_group(read_group(path), read_group(want_group)))
        marked = marked_zarr(os.path.join(folder, 'marked.zarr'), crop)
        seg_dask.to_ome_zarr(da.from_zarr(marked), path, 2, 2,
                             overwrite=True)
        check('LocalCluster: the workers copy level 0 as stored, and write '
              'the same group', stored_bytes(marked) == stored_bytes(
                  zarr.open_group(path)['labels/labels/0'])
              and same_group(read_group(path), read_group(want_group)))
        # dask.distributed orders tasks by their keys as strings unless
        # told otherwise ('10' before '2'): no task may start more than 3
        # places before its turn, so that the small last ones run last.
        # (A task may start later than its turn: each worker holds up to
        # 2 at a time, and one queued behind a slow task waits.)
        with get_task_stream(client=client) as stream:
            seg_dask.to_ome_zarr(volume, path, 2, 2, overwrite=True)
        started = sorted((s['start'], int(task['key'].rsplit(',')[-1][:-1]))
                         for task in stream.data
                         if 'gegl_seg-to-ome-zarr' in task['key']
                         for s in task['startstops']
                         if s['action'] == 'compute')
        check('LocalCluster: none of to_ome_zarr\'s %d tasks starts more '
              'than 3 places before its turn' % len(started),
              len(started) > 12 and all(t - rank <= 3 for rank, (_, t)
                                        in enumerate(started)),
              str([t for _, t in started]))
        check('LocalCluster: the workers serve 1 MiB blocks from the heap '
              '(gegl_seg undid the nanny\'s MALLOC_TRIM_THRESHOLD_)',
              not any(client.run(malloc_probe.maps_fresh_block).values()))
        slow = volume.map_blocks(slow_copy, dtype=volume.dtype)
        failure = []

        def write():
            try:
                seg_dask.to_ome_zarr(slow, path, 2, 2, overwrite=True)
            except Exception as e:      # reported below
                failure.append(e)
        writer = threading.Thread(target=write)
        writer.start()
        killed, victim = kill_a_worker_once(client, 'gegl_seg-to-ome-zarr',
                                            2)
        unfinished = writer.is_alive()
        writer.join()
        check('to_ome_zarr: a worker was killed while the run was '
              'unfinished', killed and unfinished and not failure,
              str(failure))
        check('to_ome_zarr after the kill writes the same group',
              same_group(read_group(path), read_group(want_group)))


def test_ome_zarr(crop, folder):
    import dask.array as da
    import zarr
    import gegl_seg
    import gegl_seg.dask as seg_dask
    from gegl_seg import ome_zarr

    path = os.path.join(folder, 'pyramid.zarr')
    volume = da.from_array(crop, chunks=(16, 16, 16))
    levels = seg_dask.pyramid(volume, 2, 2)
    ome_zarr.write_labels(path, levels, 2, name='cells',
                          voxel_size=(40, 8, 8), unit='nanometer')
    root = zarr.open_group(path, mode='r')
    group = root['labels/cells']
    meta = group.attrs['multiscales'][0]
    check('OME-Zarr: labels/.zattrs lists the label image',
          root['labels'].attrs['labels'] == ['cells'])
    check('OME-Zarr: image-label 0.4, multiscales 0.4 with z, y, x axes',
          group.attrs['image-label']['version'] == '0.4'
          and meta['version'] == '0.4'
          and [a['name'] for a in meta['axes']] == ['z', 'y', 'x']
          and all(a['type'] == 'space' and a['unit'] == 'nanometer'
                  for a in meta['axes']))
    transforms = [d['coordinateTransformations'] for d in meta['datasets']]
    check('OME-Zarr: scale s·2^k and translation s·(2^k − 1)/2 per level',
          [t[0]['scale'] for t in transforms]
          == [[40, 8, 8], [80, 16, 16], [160, 32, 32]]
          and [t[1]['translation'] for t in transforms]
          == [[0, 0, 0], [20, 4, 4], [60, 12, 12]]
          and all(t[0]['type'] == 'scale' and t[1]['type'] == 'translation'
                  for t in transforms), str(transforms))
    want = gegl_seg.pyramid(crop, 2, 2)
    check('OME-Zarr: zarr reads every level back, equal',
          all(same(group[str(k)][...], want[k]) for k in range(3)))
    check('OME-Zarr: level k has chunks 16/2^k (chunk-aligned)',
          [group[str(k)].chunks for k in range(3)]
          == [(16, 16, 16), (8, 8, 8), (4, 4, 4)])
    got, meta_back = ome_zarr.read(path)
    check('OME-Zarr: gegl_seg.ome_zarr.read gives the levels back',
          meta_back == meta and all(same(g.compute(), w)
                                    for g, w in zip(got, want)))
    ome_zarr.write_labels(os.path.join(folder, 'numpy.zarr'), want, 2,
                          chunks=(16, 16, 16))
    got, _ = ome_zarr.read(os.path.join(folder, 'numpy.zarr'))
    check('OME-Zarr: NumPy levels are written the same way',
          all(same(g.compute(), w) for g, w in zip(got, want)))

    try:
        ome_zarr.write_labels(path, levels, 2)
        check('OME-Zarr: an existing group is not replaced by default',
              False)
    except FileExistsError:
        check('OME-Zarr: an existing group is not replaced by default',
              same(zarr.open_group(path, mode='r')['labels/cells/0'][...],
                   crop))

    def fail(block):
        raise RuntimeError('a failing block')
    broken = volume.map_blocks(fail, dtype=volume.dtype)
    check_fails_whole('OME-Zarr: a failed write leaves the old group and no '
                      'partial one',
                      lambda: ome_zarr.write_labels(
                          path, seg_dask.pyramid(broken, 2, 1), 2,
                          overwrite=True),
                      folder, path, 'labels/cells/0', crop)


def check_fails_whole(name, write, folder, path, dataset, want):
    """write() raises RuntimeError, and leaves the folder as it was and
    `dataset` of the group at path holding `want`."""
    import zarr
    before = sorted(os.listdir(folder))
    try:
        write()
        check(name, False, 'no error')
    except RuntimeError:
        check(name, sorted(os.listdir(folder)) == before and same(
            zarr.open_group(path, mode='r')[dataset][...], want),
            str(os.listdir(folder)))


def read_group(path, name=None):
    """(levels as NumPy arrays, their zarr chunks, multiscales) of the
    pyramid at path."""
    from gegl_seg import ome_zarr
    levels, meta = ome_zarr.read(path, name)
    return ([level.compute() for level in levels],
            [level.chunksize for level in levels], meta)


def same_group(a, b):
    return (all(same(x, y) for x, y in zip(a[0], b[0]))
            and len(a[0]) == len(b[0]) and a[1:] == b[1:])


def test_to_ome_zarr(crop, folder):
    import dask
    import dask.array as da
    import zarr
    import gegl_seg.dask as seg_dask
    from gegl_seg import ome_zarr

    cases = (('mode', 2, 2, False, False, (16, 16, 16), None),
             ('mode', (1, 2, 2), 3, True, False, (16, 24, 40), None),
             ('average', 2, 1, False, True, (16, 16, 16), None),
             # Dask chunks off the zarr chunks' grid: rechunked.
             ('mode', 2, 2, False, True, (12, 20, 28), (16, 16, 16)),
             # Dask chunks of several zarr chunks: one task writes them all.
             ('mode', 2, 2, True, False, (32, 48, 32), (16, 16, 16)))
    for method, factor, mips, exact, sparse, chunks, zarr_chunks in cases:
        volume = da.from_array(crop, chunks=chunks)
        write = (ome_zarr.write_labels if method == 'mode'
                 else ome_zarr.write_image)
        want_path = os.path.join(folder, 'want.zarr')
        got_path = os.path.join(folder, 'got.zarr')
        write(want_path, seg_dask.pyramid(
            volume.rechunk(zarr_chunks) if zarr_chunks else volume, factor,
            mips, method, exact, sparse), factor, voxel_size=(40, 8, 8),
            unit='nanometer', overwrite=True)
        seg_dask.to_ome_zarr(volume, got_path, factor, mips, method, exact,
                             sparse, chunks=zarr_chunks,
                             voxel_size=(40, 8, 8), unit='nanometer',
                             overwrite=True)
        check('to_ome_zarr %s factor %s, %d mips%s%s, Dask chunks %s%s: '
              'the group write_%s writes' % (
                  method, factor, mips, ', exact' if exact else '',
                  ', sparse' if sparse else '', chunks,
                  ', zarr chunks %s' % (zarr_chunks,) if zarr_chunks else '',
                  'labels' if method == 'mode' else 'image'),
              same_group(read_group(got_path), read_group(want_path)))

    # Tasks of several chunks: any number per task writes the same group.
    volume = da.from_array(crop, chunks=16)
    want_path = os.path.join(folder, 'want.zarr')
    ome_zarr.write_labels(want_path, seg_dask.pyramid(volume, 2, 2), 2,
                          overwrite=True)
    for per_task in (1, 2, 7, 75, 1000):
        got_path = os.path.join(folder, 'got.zarr')
        seg_dask.to_ome_zarr(volume, got_path, 2, 2, overwrite=True,
                             chunks_per_task=per_task)
        check('to_ome_zarr, %d of the 75 chunks per task: the group '
              'write_labels writes' % per_task,
              same_group(read_group(got_path), read_group(want_path)))
    for bad in (0, -2, 1.5, True, '4'):
        path = os.path.join(folder, 'bad.zarr')
        try:
            seg_dask.to_ome_zarr(volume, path, 2, 2, chunks_per_task=bad)
            check('to_ome_zarr: chunks_per_task %r is refused' % (bad,),
                  False)
        except ValueError as e:
            check('to_ome_zarr: chunks_per_task %r is refused, nothing '
                  'written' % (bad,),
                  'chunks_per_task %r' % (bad,) in str(e)
                  and not os.path.exists(path), str(e))
    # By default about 64 MiB per task, but 4 tasks per thread of the
    # scheduler where there are enough chunks.
    for shape, chunks, dtype, threads, per_task in (
            ((48, 80, 80), 16, np.uint32, 2, 10),
            ((512,) * 3, 128, np.uint32, 2, 8),
            ((1024,) * 3, 128, np.uint32, 2, 8),
            ((1024,) * 3, 128, np.uint32, 64, 2),
            ((512,) * 3, 128, np.uint8, 1, 16),
            ((64,) * 3, 64, np.uint32, 2, 1)):
        check('to_ome_zarr: %s chunks of %s %s, %d threads: tasks of %d' % (
                  shape, chunks, np.dtype(dtype).name, threads, per_task),
              seg_dask._chunks_per_task(
                  da.zeros(shape, dtype=dtype, chunks=chunks), None,
                  threads, 'to_ome_zarr') == per_task)

    # The tasks shrink towards the end: at most 1/(2·threads) of what is
    # left, so that the workers end together.
    for n, per_task, threads, want in (
            (64, 4, 2, [4] * 13 + [3, 3, 2, 1, 1, 1, 1]),
            (10, 4, 1, [4, 4, 2]),
            (3, 4, 8, [1, 1, 1]),
            (1, 1, 2, [1])):
        check('to_ome_zarr: %d chunks, at most %d per task, %d threads: '
              'tasks of %s' % (n, per_task, threads, want),
              seg_dask._task_sizes(n, per_task, threads) == want)
    rng = np.random.default_rng(18)
    shrinking = True
    for _ in range(500):
        n, per_task, threads = (int(rng.integers(1, 400)),
                                int(rng.integers(1, 40)),
                                int(rng.integers(1, 17)))
        sizes = seg_dask._task_sizes(n, per_task, threads)
        left = np.cumsum([0] + sizes)[:-1]
        shrinking &= (sum(sizes) == n and max(sizes) <= per_task
                      and sizes == sorted(sizes, reverse=True)
                      and all(s <= max(1, -(-(n - l) // (2 * threads)))
                              or threads == 1
                              for s, l in zip(sizes, left)))
    check('to_ome_zarr: 500 random task plans cover the chunks in '
          'shrinking tasks of at most 1/(2·threads) of what is left',
          shrinking)

    # Small data of the input graph (the zarr array object) travels in
    # the tasks, which then wait for no other; large data stays a task.
    stored = os.path.join(folder, 'small-data.zarr')
    zarr.save_array(stored, crop, chunks=16)
    big = dask.delayed(np.arange(1 << 15))
    for words, array, free in (
            ('a zarr array', da.from_zarr(stored), True),
            ('an array beside 256 KiB of data',
             da.from_zarr(stored).map_blocks(lambda b, x: b, big,
                                             dtype=crop.dtype), False)):
        written = seg_dask._in_tasks(array, 'probe', len, [5] * 15)
        needs = written.__dask_graph__().get_all_dependencies()
        check('to_ome_zarr\'s tasks on %s %s' % (
                  words, 'need no other task' if free else
                  'need the task that holds the data'),
              all(not needs[key] for key in written.__dask_keys__())
              == free)

    path = os.path.join(folder, 'kept.zarr')
    seg_dask.to_ome_zarr(da.from_array(crop, chunks=16), path, 2, 1)
    try:
        seg_dask.to_ome_zarr(da.from_array(crop, chunks=16), path, 2, 1)
        check('to_ome_zarr: an existing group is not replaced by default',
              False)
    except FileExistsError:
        check('to_ome_zarr: an existing group is not replaced by default',
              True)

    def fail_late(block, block_info=None):
        if block_info[0]['chunk-location'] == (2, 4, 4):
            raise RuntimeError('a failing block')
        return block
    broken = da.from_array(crop, chunks=16).map_blocks(
        fail_late, dtype=crop.dtype)
    for scheduler in ('threads', 'processes', 'synchronous'):
        with dask.config.set(scheduler=scheduler):
            # Again and again: other tasks still run when one fails.
            for _ in range(5 if scheduler == 'threads' else 1):
                check_fails_whole(
                    'to_ome_zarr, %s: a failed run leaves the old group '
                    'and no partial one' % scheduler,
                    lambda: seg_dask.to_ome_zarr(broken, path, 2, 1,
                                                 overwrite=True),
                    folder, path, 'labels/labels/0', crop)
    for kwargs, words in (({'num_mips': -1}, 'num_mips -1'),
                          ({'num_mips': 1, 'method': 'max'}, "'max'")):
        bad = os.path.join(folder, 'bad.zarr')
        try:
            seg_dask.to_ome_zarr(da.from_array(crop, chunks=16), bad, 2,
                                 **kwargs)
            check('to_ome_zarr: %s is refused' % words, False)
        except ValueError as e:
            check('to_ome_zarr: %s is refused, nothing written' % words,
                  words in str(e) and 'dask.to_ome_zarr' in str(e)
                  and not os.path.exists(bad), str(e))
    try:
        seg_dask.to_ome_zarr(da.from_array(crop, chunks=(16, 20, 20)),
                             os.path.join(folder, 'bad.zarr'), 2, 3)
        check('to_ome_zarr: chunks that are not multiples of 2^3 are '
              'refused', False)
    except ValueError as e:
        check('to_ome_zarr: chunks that are not multiples of 2^3 are '
              'refused with the chunks that would do',
              'rechunk((16, 24, 24))' in str(e)
              and not os.path.exists(os.path.join(folder, 'bad.zarr')),
              str(e))


def stored_bytes(array):
    """{chunk index: its bytes as stored} of a zarr array."""
    return {index: bytes(array.chunk_store[array._chunk_key(index)])
            for index in np.ndindex(*array.cdata_shape)
            if array._chunk_key(index) in array.chunk_store}


def shifted_view(z, dy):
    """z[:, dy:] as a Dask array of 16³ chunks whose tasks read z itself
    (Dask's getter on the zarr array, at slices dy further on in y), as
    da.from_zarr's would after slicing were Dask to fuse the two."""
    import dask.array as da
    shape = (z.shape[0], z.shape[1] - dy, z.shape[2])
    chunks = tuple(tuple(min(16, n - s) for s in range(0, n, 16))
                   for n in shape)
    graph = {'zarr-source': z}
    for index in np.ndindex(*(len(c) for c in chunks)):
        graph[('shifted',) + index] = (da.core.getter, 'zarr-source', tuple(
            slice(i * 16 + d, i * 16 + d + c[i])
            for i, d, c in zip(index, (0, dy, 0), chunks)))
    return da.Array(graph, 'shifted', chunks, dtype=z.dtype)


def marked_zarr(path, array, missing=(), **kwargs):
    """array as a zarr array of 16³ chunks, opened to read: chunks with
    an odd index sum are stored at blosc clevel 1, which zarr's default
    compressor would not write (so that a copy as stored shows), and the
    `missing` chunks are not stored at all."""
    import numcodecs
    import zarr
    z = zarr.open_array(path, mode='w', shape=array.shape,
                        dtype=array.dtype, chunks=(16, 16, 16), **kwargs)
    z[...] = array
    fast = numcodecs.Blosc(cname='lz4', clevel=1)
    for index in np.ndindex(*z.cdata_shape):
        key = z._chunk_key(index)
        if index in missing:
            del z.chunk_store[key]
        elif sum(index) % 2 and z.compressor == zarr.Blosc():
            raw = z.chunk_store[key]
            z.chunk_store[key] = fast.encode(z.compressor.decode(raw))
            assert z.chunk_store[key] != raw
    return zarr.open_array(path, mode='r')


def test_stored_chunks(crop, folder):
    """Level 0 of a zarr input that stores chunks as the output does is
    copied as stored; anything else is encoded afresh.  Either way the
    group equals the one write_labels writes."""
    import dask.array as da
    import numcodecs
    import zarr
    import gegl_seg.dask as seg_dask
    from gegl_seg import ome_zarr

    part = np.ascontiguousarray(crop[:40, :72, :76])   # edge chunks

    def stored(name, missing=(), **kwargs):
        return marked_zarr(os.path.join(folder, name), part, missing,
                           **kwargs)

    got_path = os.path.join(folder, 'stored-got.zarr')
    want_path = os.path.join(folder, 'stored-want.zarr')
    missing = {(0, 0, 0), (2, 4, 4)}
    alike = stored('alike.zarr')
    cases = (
        ('a zarr array with zarr\'s default encoding', True, alike,
         lambda z: da.from_zarr(z)),
        ('the same through da.from_array', True, alike,
         lambda z: da.from_array(z, chunks=16, asarray=True, lock=False)),
        ('keys nested as the output\'s (dimension_separator /)', True,
         stored('nested.zarr', dimension_separator='/'),
         lambda z: da.from_zarr(z)),
        ('chunks never written (the fill value)', True,
         stored('holes.zarr', missing), lambda z: da.from_zarr(z)),
        ('another compressor', False,
         stored('zlib.zarr', compressor=numcodecs.Zlib(1)),
         lambda z: da.from_zarr(z)),
        ('a filter', False,
         stored('delta.zarr', filters=[numcodecs.Delta(part.dtype)]),
         lambda z: da.from_zarr(z)),
        ('Fortran order', False, stored('f.zarr', order='F'),
         lambda z: da.from_zarr(z)),
        ('another fill value, with chunks never written', False,
         stored('fill.zarr', missing, fill_value=7),
         lambda z: da.from_zarr(z)),
        ('a part of the array', False, alike,
         lambda z: da.from_zarr(z)[:, 16:]),
        ('a part of the array read straight from it', False, alike,
         lambda z: shifted_view(z, 16)),
        ('Dask chunks of two zarr chunks', False, alike,
         lambda z: da.from_zarr(z, chunks=(32, 16, 16))))
    for words, copied, source, volume in cases:
        array = volume(source)
        seg_dask.to_ome_zarr(array, got_path, 2, 2, overwrite=True,
                             chunks=(16, 16, 16))
        ome_zarr.write_labels(want_path, seg_dask.pyramid(
            array.rechunk(16), 2, 2), 2, overwrite=True)
        level0 = zarr.open_group(got_path, mode='r')['labels/labels/0']
        raw_in, raw_out = stored_bytes(source), stored_bytes(level0)
        if copied:
            as_stored = raw_in == raw_out
        else:
            as_stored = (any(raw_out[i] != raw_in.get(i) for i in raw_out)
                         or array.shape != source.shape)
        check('to_ome_zarr, %s: level 0 %s; the group write_labels '
              'writes' % (words, 'copied as stored' if copied else
                          'encoded afresh'),
              as_stored and same_group(read_group(got_path),
                                       read_group(want_path)))

    # Into an array that holds data already: a chunk never written in the
    # source is the fill value in the target too.
    source = stored('holes.zarr', missing)
    target = zarr.open_array(os.path.join(folder, 'full.zarr'), mode='w',
                             shape=part.shape, dtype=part.dtype,
                             chunks=(16, 16, 16))
    target[...] = 9
    regions = [tuple(slice(i * 16, min(i * 16 + 16, n))
                     for i, n in zip(index, part.shape))
               for index in np.ndindex(*source.cdata_shape)]
    copies = [ome_zarr.copy_stored_chunk(source, region, target)
              for region in regions]
    check('copy_stored_chunk: every chunk copied and returned, a chunk '
          'never written left unwritten in an array that held one',
          all(c is not None and same(c, source[region])
              for c, region in zip(copies, regions))
          and same(target[...], source[...])
          and stored_bytes(target) == stored_bytes(source))


def run_cli(*args, env=None, command='pyramid'):
    return subprocess.run([sys.executable, '-m', 'gegl_seg', command]
                          + list(args), capture_output=True, text=True,
                          env=env)


def test_cli_descent(crop, folder):
    import gegl_seg
    import zarr

    rng = np.random.default_rng(44)
    field = rng.random(crop.shape)
    for axis in range(3):
        field = np.cumsum(field, axis=axis)
    field = np.round(field).astype(np.float32)    # plateaus, ties
    npy = os.path.join(folder, 'field.npy')
    np.save(npy, field)
    want = gegl_seg.descent_direction(field, (40, 8, 8))
    out = os.path.join(folder, 'directions.npy')
    run = run_cli(npy, out, '--spacing', '40', '8', '8', '--chunks', '16',
                  '20', '24', '--progress', command='descent')
    check('CLI descent: a .npy file to a .npy file, in chunks',
          run.returncode == 0 and same(np.load(out), want) and
          '[####' in run.stderr, run.stderr)
    check('CLI descent: it says what it wrote',
          'directions.npy: the directions of 48×80×80 voxels' in run.stdout,
          run.stdout)
    fortran = os.path.join(folder, 'field-xyz.npy')
    np.save(fortran, np.asfortranarray(field.T))
    out_f = os.path.join(folder, 'directions-xyz.npy')
    run = run_cli(fortran, out_f, '--spacing', '40', '8', '8',
                  command='descent')
    got = np.load(out_f) if run.returncode == 0 else None
    check('CLI descent: a Fortran-order (x, y, z) .npy gives the NumPy '
          "call's labels, in its order",
          run.returncode == 0 and got.flags.f_contiguous and same(
              got, gegl_seg.descent_direction(np.load(fortran), (8, 8, 40))),
          run.stderr)
    stored = os.path.join(folder, 'field.zarr')
    zarr.save_array(stored, field, chunks=(10, 30, 30))
    out_z = os.path.join(folder, 'directions.zarr')
    run = run_cli(stored, out_z, '--spacing', '40', '8', '8',
                  '--scheduler', 'processes', command='descent')
    got = zarr.open_array(out_z) if run.returncode == 0 else None
    check('CLI descent: a zarr array to a zarr array in its chunks, on '
          'processes',
          run.returncode == 0 and got.chunks == (10, 30, 30) and
          same(got[...], want), run.stderr)
    before = os.path.getmtime(os.path.join(out_z, '.zarray'))
    for what, args, words in (
            ('an existing OUT', (stored, out_z), 'exists'),
            ('--spacing 0', (stored, out + '2', '--spacing', '0'), '0'),
            ('--spacing 1 2', (stored, out + '2', '--spacing', '1', '2'),
             '2 values'),
            ('--chunks 0', (stored, out + '2', '--chunks', '0'),
             '--chunks 0'),
            ('OUT in a missing folder', (stored, os.path.join(
                folder, 'none', 'out.zarr')), 'none: no such file'),
            ('a missing input', (os.path.join(folder, 'none.zarr'),
                                 out + '2'), 'none.zarr')):
        run = run_cli(*args, command='descent')
        check('CLI descent: %s is refused with a message, nothing written'
              % what,
              run.returncode == 1 and words in run.stderr
              and 'Traceback' not in run.stderr
              and not os.path.exists(out + '2') and before ==
              os.path.getmtime(os.path.join(out_z, '.zarray')), run.stderr)
    check('CLI descent: no temporary file left beside its outputs',
          not [f for f in os.listdir(folder) if f.startswith('.')],
          str(os.listdir(folder)))


def test_cli(crop, folder):
    import gegl_seg
    from gegl_seg import ome_zarr

    npy = os.path.join(folder, 'crop.npy')
    np.save(npy, crop)
    out = os.path.join(folder, 'cli.zarr')
    run = run_cli(npy, out, '--factor', '2', '2', '2', '--mips', '2',
                  '--chunks', '16', '--progress')
    want = gegl_seg.pyramid(crop, 2, 2)
    levels, meta = ome_zarr.read(out) if run.returncode == 0 else ([], {})
    check('CLI: pyramid of a .npy file as OME-Zarr',
          run.returncode == 0 and len(levels) == 3 and all(
              same(g.compute(), w) for g, w in zip(levels, want)),
          run.stderr)
    check('CLI: a progress bar on standard error',
          '[####' in run.stderr and 'Completed' in run.stderr, run.stderr)
    check('CLI: it says what it wrote',
          '48×80×80 → 24×40×40 → 12×20×20' in run.stdout, run.stdout)
    fortran = os.path.join(folder, 'fortran.npy')
    np.save(fortran, np.asfortranarray(crop.T))
    out_f = os.path.join(folder, 'fortran.zarr')
    run = run_cli(fortran, out_f, '--mips', '1', '--method', 'average',
                  '--sparse')
    levels, _ = ome_zarr.read(out_f) if run.returncode == 0 else ([], {})
    check('CLI: a Fortran-order (x, y, z) .npy, averaged, as an image',
          run.returncode == 0 and len(levels) == 2 and same(
              levels[1].compute(), gegl_seg.sparse_average(crop, 2)),
          run.stderr)
    stored = os.path.join(folder, 'input.zarr')
    import zarr
    zarr.save_array(stored, crop, chunks=(10, 30, 30))
    out_z = os.path.join(folder, 'from-zarr.zarr')
    run = run_cli(stored, out_z, '--factor', '1', '2', '2', '--mips', '3',
                  '--exact', '--name', 'cells', '--scheduler', 'synchronous')
    levels, _ = ome_zarr.read(out_z, 'cells') if run.returncode == 0 \
        else ([], {})
    check('CLI: a zarr array in, exact levels, (1, 2, 2)',
          run.returncode == 0 and all(
              same(g.compute(), w) for g, w in
              zip(levels, gegl_seg.pyramid(crop, (1, 2, 2), 3, exact=True))),
          run.stderr)
    # Input chunks that are --chunks: level 0 is the input as stored
    # (marked, so that encoding it again would show).
    marked_zarr(stored, crop)
    run = run_cli(stored, out_z, '--mips', '2', '--chunks', '16',
                  '--overwrite')
    levels, _ = ome_zarr.read(out_z) if run.returncode == 0 else ([], {})
    check('CLI: a zarr array chunked as --chunks: level 0 copied as stored',
          run.returncode == 0 and stored_bytes(zarr.open_array(stored)) ==
          stored_bytes(zarr.open_group(out_z)['labels/labels/0'])
          and all(same(g.compute(), w) for g, w in
                  zip(levels, gegl_seg.pyramid(crop, 2, 2))), run.stderr)
    # Without --chunks, a zarr input's chunks (16³, multiples of 2²) are
    # the run's: level 0 is again the input as stored.
    run = run_cli(stored, out_z, '--mips', '2', '--overwrite')
    levels, _ = ome_zarr.read(out_z) if run.returncode == 0 else ([], {})
    check('CLI: a zarr array without --chunks: its own chunks, level 0 '
          'copied as stored',
          run.returncode == 0 and stored_bytes(zarr.open_array(stored)) ==
          stored_bytes(zarr.open_group(out_z)['labels/labels/0'])
          and all(same(g.compute(), w) for g, w in
                  zip(levels, gegl_seg.pyramid(crop, 2, 2))), run.stderr)
    before = os.path.getmtime(os.path.join(out, 'labels', 'labels', '0',
                                           '.zarray'))
    run = run_cli(npy, out, '--mips', '1')
    check('CLI: an existing OUT is left alone without --overwrite',
          run.returncode == 1 and 'exists' in run.stderr
          and 'Traceback' not in run.stderr and before == os.path.getmtime(
              os.path.join(out, 'labels', 'labels', '0', '.zarray')),
          run.stderr)
    if os.environ.get('GEGL_SEG_LOCALEDIR'):
        run = run_cli(npy, out, env=dict(os.environ, LANGUAGE='fr'))
        check('CLI: its messages are translated (LANGUAGE=fr)',
              run.returncode == 1 and 'existe ; --overwrite le remplace'
              in run.stderr, run.stderr)
    for args, words in (((npy, out + '2', '--factor', '65'), '65'),
                        ((npy, out + '2', '--factor', '2', '2'), '2 values'),
                        ((npy, out + '2', '--mips', '-1'), '-1'),
                        ((os.path.join(folder, 'none.npy'), out + '2'),
                         'none.npy')):
        run = run_cli(*args)
        check('CLI: %s is refused with a message, nothing written' %
              (' '.join(args[2:]) or 'a missing input'),
              run.returncode == 1 and words in run.stderr
              and 'Traceback' not in run.stderr
              and not os.path.exists(out + '2'), run.stderr)


def main():
    missing = missing_packages()
    if missing:
        print('1..0 # SKIP %s not installed (apt-get install %s)'
              % (', '.join(missing), ' '.join(missing)))
        return 0
    import zarr
    import gegl_seg
    with gzip.open(os.path.join(DATA, 'labels-48x80x80-u32.npy.gz')) as f:
        crop = np.load(f)
    folder = tempfile.mkdtemp(prefix='gegl-seg-dask-')
    try:
        stored = zarr.open_array(os.path.join(folder, 'crop.zarr'), mode='w',
                                 shape=crop.shape, dtype=crop.dtype,
                                 chunks=(16, 16, 16))
        stored[...] = crop
        gegl_seg._gegl.init().config().props.threads = 1
        test_dask_local(crop, stored)
        test_dask_descent(crop)
        test_ome_zarr(crop, folder)
        test_to_ome_zarr(crop, folder)
        test_stored_chunks(crop, folder)
        test_cli(crop, folder)
        test_cli_descent(crop, folder)
        test_cluster(crop, stored, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return finish()


if __name__ == '__main__':
    sys.exit(main())
