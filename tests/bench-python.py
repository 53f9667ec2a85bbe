#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-3.0-or-later
"""The gegl_seg Python package side by side with what its users run, by
hand (not a test):

  SEG_TINYBRAIN=/path/to/tinybrain /usr/bin/python3 tests/bench-python.py \\
      [BUILD] [--reps N] [--quick]

Every figure is the median of N runs (default 3) in this process, GEGL on
one thread unless said otherwise; the machine's memory bandwidth (a NumPy
copy, read + write) is measured in the same run.

1. The copies: seg:countless-3d on the 512³ uint32 connectomics volume
   - graph: the GEGL graph alone, gegl:buffer-source of a GEGL buffer that
     already holds the volume → op → gegl_node_blit_buffer into a GEGL
     buffer (no NumPy), in the tile cache the API sized (it runs after);
   - API: gegl_seg.countless3d (the array read in place, the op writing
     its output straight into a new array);
   - GI bytes: what plain GObject introspection allows, Buffer.set of
     tobytes () → the graph → Buffer.get → a writable array.
   Target: API ≤ 1.3 × graph, in medians and in the best runs (each
   route runs once untimed first; API and graph then in turn).
2. tinybrain: downsample_segmentation (2, 2, 2), num_mips=3 on the same
   volume as tinybrain takes it (Fortran order (x, y, z)), gegl_seg
   against tinybrain (SEG_TINYBRAIN: the folder to import it from), the
   outputs compared.  Target: ≥ 3 × tinybrain.
3. PyTorch: gegl_seg.resample 512³ → 256³ (float32 nearest, linear, area;
   the uint32 labels nearest) against F.interpolate / adaptive_avg_pool3d,
   torch.set_num_threads (1), outputs compared.
4. Dask: the job zarr array → 3-mip label pyramid → OME-Zarr, 128³
   chunks, in /dev/shm, blosc on one thread everywhere:
   - one process, the whole volume read, pooled with gegl_seg.pyramid,
     written with gegl_seg.ome_zarr;
   - one process, chunk by chunk: gegl_seg.dask.to_ome_zarr on Dask's
     synchronous scheduler (the cluster's tasks, without the cluster),
     which copies level 0's chunks as stored, and the same on Dask's
     threaded scheduler with 2 threads;
   - a LocalCluster of 2 worker processes × 1 thread (GEGL on one
     thread), through gegl_seg.dask.to_ome_zarr (tasks of a few chunks)
     and through gegl_seg.dask.pyramid's levels given to
     gegl_seg.ome_zarr.write_labels (tasks per level and zarr chunk);
   - a LocalCluster of 1 worker, the second core left to the scheduler:
     what Dask costs where it does not compete with the workers.
   Overhead = cluster time × workers / one-process time − 1.  Target
   (to_ome_zarr on 2 workers): < 25 % against the faster of the two
   one-process routes.

The connectomics volume is looked for as bench-label-stats.py does
(SEG_CONNECTOMICS, else ../shared/data); --quick uses a 128³ random
volume and one repetition.
"""
import importlib.util
import itertools
import multiprocessing
import os
import shutil
import statistics
import sys
import tempfile
import time

import numpy as np

import benchargs

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def module(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    m = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m)
    return m


def timings(run, reps):
    """(median, fastest) time of reps runs, and the last result."""
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - t)
    return statistics.median(times), min(times), result


def median_time(run, reps):
    median, _, result = timings(run, reps)
    return median, result


def bandwidth(reps):
    a = np.ones(256 << 20, np.uint8)
    b = np.empty_like(a)
    np.copyto(b, a)
    t, _ = median_time(lambda: np.copyto(b, a), max(reps, 3))
    return 2 * a.nbytes / t / 1e9


def row(name, seconds, voxels, reference=None, note=''):
    ratio = '' if reference is None else '%.2f' % (reference / seconds)
    print('| %s | %.1f | %.0f | %s | %s |' % (name, seconds * 1e3,
                                             voxels / seconds / 1e6, ratio,
                                             note))


def bench_copies(Gegl, gegl_seg, v, reps):
    depth, height, width = v.shape

    def pool_into_buffer(source_buffer):
        """source_buffer → seg:countless-3d → a new GEGL buffer."""
        root = Gegl.Node()
        source = root.create_child('gegl:buffer-source')
        source.set_property('buffer', source_buffer)
        pool = root.create_child('seg:countless-3d')
        pool.set_property('depth', depth)
        source.link(pool)
        box = pool.get_bounding_box()
        out = Gegl.Buffer.new('Y u32', box.x, box.y, box.width, box.height)
        pool.blit_buffer(out, box, 0, Gegl.AbyssPolicy.NONE)
        return out, box

    def graph_alone():
        return pool_into_buffer(buffer)

    def gi_bytes():
        inp = Gegl.Buffer.new('Y u32', 0, 0, width, height * depth)
        inp.set(Gegl.Rectangle.new(0, 0, width, height * depth), 'Y u32',
                v.tobytes())
        out, box = pool_into_buffer(inp)
        data = out.get(box, 1.0, 'Y u32', Gegl.AbyssPolicy.NONE)
        return np.frombuffer(data, np.uint32).reshape(
            -(-depth // 2), box.height // -(-depth // 2), box.width).copy()

    # The API first: it sizes GEGL's tile cache to its graph.  The graph
    # alone's input buffer is filled after, so that all of it lies in that
    # cache (in GEGL's default cache, which the volume alone fills, its
    # tiles would go to swap and back).  Each route runs once before it is
    # timed: GEGL's first graphs in a process allocate its tile memory.
    # The two then run in turn, so that a slow spell of the shared
    # machine falls on both alike.
    def api():
        return gegl_seg.countless3d(v)
    got = api()
    buffer = Gegl.Buffer.new('Y u32', 0, 0, width, height * depth)
    buffer.set(Gegl.Rectangle.new(0, 0, width, height * depth), 'Y u32',
               v.tobytes())
    graph_alone()
    api_times, graph_times = [], []
    for _ in range(reps):
        api_times.append(timings(api, 1)[0])
        graph_times.append(timings(graph_alone, 1)[0])
    t_api, best_api = statistics.median(api_times), min(api_times)
    t_graph, best_graph = statistics.median(graph_times), min(graph_times)
    del buffer      # room in the cache for the GI route's own input
    t_gi, gi = median_time(gi_bytes, reps)
    assert np.array_equal(got, gi), 'API and GI results differ'
    print('\n### 1. copies: seg:countless-3d, %s uint32, one thread\n'
          % '×'.join(map(str, v.shape)))
    print('| route | ms | MVx/s in | graph × route | |')
    print('|---|---:|---:|---:|---|')
    row('graph alone (GEGL buffers)', t_graph, v.size, t_graph,
        'best run %.1f ms' % (best_graph * 1e3))
    row('gegl_seg.countless3d', t_api, v.size, t_graph,
        'best run %.1f ms; API / graph = %.2f (medians), %.2f (best runs); '
        'target ≤ 1.3' % (best_api * 1e3, t_api / t_graph,
                          best_api / best_graph))
    row('GI bytes (tobytes, set, get, copy)', t_gi, v.size, t_graph)
    # The target holds for both the medians and the best runs.
    return max(t_api / t_graph, best_api / best_graph)


def bench_tinybrain(gegl_seg, v, reps):
    vt = v.T   # tinybrain's (x, y, z), Fortran order: the same bytes
    t_seg, got = median_time(
        lambda: gegl_seg.downsample_segmentation(vt, (2, 2, 2), num_mips=3),
        reps)
    print('\n### 2. downsample_segmentation (2, 2, 2), num_mips=3, one '
          'thread\n')
    print('| method | ms | MVx/s in | × tinybrain | |')
    print('|---|---:|---:|---:|---|')
    folder = os.environ.get('SEG_TINYBRAIN')
    ratio = None
    tinybrain = None
    if folder:
        sys.path.insert(0, folder)
        try:
            import tinybrain
        except ImportError as e:
            why = 'tinybrain not importable from %s (%s)' % (folder, e)
    else:
        why = 'SEG_TINYBRAIN not set'
    if tinybrain is not None:
        t_tb, want = median_time(
            lambda: tinybrain.downsample_segmentation(vt, (2, 2, 2),
                                                      num_mips=3), reps)
        same = all(np.array_equal(w, g) for w, g in zip(want, got))
        row('tinybrain', t_tb, v.size, t_tb)
        row('gegl_seg', t_seg, v.size, t_tb,
            'outputs equal: %s; target ≥ 3' % same)
        ratio = t_tb / t_seg
    else:
        row('gegl_seg', t_seg, v.size, None, why)
    return ratio


def bench_torch(gegl_seg, v, reps, quick):
    try:
        import torch
        import torch.nn.functional as F
    except ImportError:
        print('\n### 3. resample: python3-torch is not installed\n')
        return
    torch.set_num_threads(1)
    rng = np.random.default_rng(1)
    side = v.shape[0]
    size = (side // 2,) * 3
    smooth = rng.random((side // 8,) * 3, np.float32)
    field = np.ascontiguousarray(F.interpolate(
        torch.from_numpy(smooth)[None, None], size=v.shape,
        mode='trilinear', align_corners=False)[0, 0].numpy())
    print('\n### 3. resample %s → %s, one thread\n'
          % ('×'.join(map(str, v.shape)), '×'.join(map(str, size))))
    print('| case | gegl_seg ms | PyTorch ms | MVx/s out (gegl_seg) | '
          '× PyTorch | |')
    print('|---|---:|---:|---:|---:|---|')
    for name, volume, mode in (('float32 nearest', field, 'nearest'),
                               ('float32 linear', field, 'linear'),
                               ('float32 area', field, 'area'),
                               ('uint32 labels nearest', v, 'nearest')):
        def torch_run():
            labels = volume.dtype.kind == 'u'
            x = torch.from_numpy(volume.astype(np.float64) if labels
                                 else volume)[None, None]
            if mode == 'nearest':
                y = F.interpolate(x, size=size, mode='nearest-exact')
            elif mode == 'linear':
                y = F.interpolate(x, size=size, mode='trilinear',
                                  align_corners=False)
            else:
                y = F.adaptive_avg_pool3d(x, size)
            y = y[0, 0].numpy()
            return y.astype(volume.dtype) if labels else y
        t_seg, got = median_time(lambda: gegl_seg.resample(volume, size,
                                                           mode), reps)
        t_torch, want = median_time(torch_run, reps)
        if mode == 'nearest':
            ok = np.array_equal(got, want)
        else:
            ok = np.allclose(got, want, rtol=1e-5, atol=1e-6)
        out = np.prod(size)
        print('| %s | %.1f | %.1f | %.0f | %.2f | outputs agree: %s |' % (
            name, t_seg * 1e3, t_torch * 1e3, out / t_seg / 1e6,
            t_torch / t_seg, ok))


def _chunks_by_hand(src, dst, chunks):
    """What one cluster worker does, without Dask: gegl_seg.dask's task
    body run on each of `chunks` (chunk indices) of the zarr array src,
    into the OME-Zarr group dst."""
    import zarr
    from dask.array.core import getter
    from gegl_seg import _gegl
    from gegl_seg.dask import _Chunk, _write_blocks
    _blosc_on_one_thread()
    _gegl.init().config().props.threads = 1
    source = zarr.open_array(src, mode='r')
    group = zarr.open_group(dst, mode='r+')
    targets = [group['labels/labels/%d' % k] for k in range(4)]
    for index in chunks:
        region = tuple(slice(i * c, (i + 1) * c)
                       for i, c in zip(index, source.chunks))
        # The chunk as a Dask task reads it: level 0 copied as stored.
        chunk = _Chunk((getter, 'source', region), {'source': source})
        _write_blocks([[chunk, region]], targets, (2, 2, 2), 3, 'mode',
                      False, False)


def _spin(seconds):
    """A task of pure CPU work: no memory traffic, no I/O."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


def _blosc_on_one_thread():
    """Blosc compresses on several threads when called from a process's
    main thread, and on one in a Dask worker's task thread: one thread
    everywhere, so that the single process is one thread as well."""
    import numcodecs
    numcodecs.blosc.use_threads = False


# dask.distributed's worker defaults that cost gegl_seg's tasks most: a
# statistical profiler sampling the task thread every 10 ms, and a memory
# monitor reading /proc every 100 ms.  One task thread, as the default
# workers here: to_ome_zarr's tasks of several chunks leave no gap worth
# a second thread on the same core.
LEAN_WORKERS = {'distributed.worker.profile.enabled': False,
                'distributed.worker.memory.monitor-interval': '1s'}
LEAN_THREADS = 1


def bench_dask(gegl_seg, v, reps, quick):
    try:
        import dask
        import dask.array as da
        import zarr
        from distributed import Client, LocalCluster, wait
    except ImportError as e:
        print('\n### 4. Dask: %s\n' % e)
        return None
    import gegl_seg.dask as seg_dask
    from gegl_seg import ome_zarr

    _blosc_on_one_thread()
    chunk = 32 if quick else 128
    folder = tempfile.mkdtemp(prefix='bench-python-', dir='/dev/shm')
    src = os.path.join(folder, 'in.zarr')
    zarr.save_array(src, v, chunks=(chunk,) * 3)

    n_chunks = int(np.prod([-(-s // chunk) for s in v.shape]))

    outputs = {}
    serial = itertools.count()

    def output(name):
        """A new group for each run of `name`, as the command line writes
        one (it replaces none without --overwrite); the group of its run
        before is removed here, outside the timing."""
        if name in outputs:
            shutil.rmtree(outputs[name], ignore_errors=True)
        outputs[name] = os.path.join(folder, '%s-%d.zarr' % (
            name, next(serial)))
        return outputs[name]

    def single(path):
        levels = gegl_seg.pyramid(zarr.open_array(src, mode='r')[...], 2, 3)
        ome_zarr.write_labels(path, levels, 2, chunks=(chunk,) * 3)

    def chunk_by_chunk(path):
        with dask.config.set(scheduler='synchronous'):
            seg_dask.to_ome_zarr(da.from_zarr(src), path, 2, 3)

    def on_threads(path):
        with dask.config.set(scheduler='threads', num_workers=2):
            seg_dask.to_ome_zarr(da.from_zarr(src), path, 2, 3)

    def tasks_per_level(path):
        levels = seg_dask.pyramid(da.from_zarr(src), 2, 3)
        ome_zarr.write_labels(path, levels, 2)

    def task_per_chunk(path):
        seg_dask.to_ome_zarr(da.from_zarr(src), path, 2, 3)

    def two_processes(pool):
        # The cluster's work split between two plain processes: what the
        # machine gives two workers that need no scheduler.
        shapes = [ome_zarr.level_shape(v.shape, (2,) * 3, k)
                  for k in range(4)]
        grid = list(np.ndindex(*(-(-n // chunk) for n in v.shape)))

        def run(path):
            with ome_zarr.creating(path, shapes, v.dtype, 2, 'labels',
                                   (chunk,) * 3) as targets:
                dst = targets[0].store.path
                pool.starmap(_chunks_by_hand, [(src, dst, grid[0::2]),
                                               (src, dst, grid[1::2])])
        return run

    def on_cluster(config, threads, runs, workers=2):
        with dask.config.set(config), LocalCluster(
                n_workers=workers, threads_per_worker=threads, processes=True,
                dashboard_address=None,
                env={'GEGL_PATH': os.environ['GEGL_PATH'],
                     'GEGL_THREADS': '1'}) as cluster, Client(cluster) as c:
            c.run(_blosc_on_one_thread)
            name, run = runs[0]
            run(output(name))     # the workers start GEGL
            measure(runs)
            if not config and workers == 2:
                costs.append(cluster_costs(c, lambda: run(output(name))))
                # Dask's own floor here: as many tasks of pure CPU work,
                # as long as the chunk tasks are in one process.
                spin = statistics.median(times['sync']) / n_chunks
                measure([('floor', lambda path: wait(c.map(
                    _spin, [spin] * n_chunks, pure=False)))])

    costs = []

    def cluster_costs(c, run):
        """(the tasks' time on the workers, the CPU time of this process,
        which holds the LocalCluster's scheduler and the client) of one
        run, from Dask's task stream."""
        from distributed import get_task_stream
        cpu = time.process_time()
        with get_task_stream(client=c) as stream:
            run()
        cpu = time.process_time() - cpu
        busy = sum(s['stop'] - s['start'] for task in stream.data
                   for s in task['startstops'] if s['action'] == 'compute')
        return busy, cpu

    times = {}

    def measure(runs):
        # Each run repeated back to back: a first run of the whole volume
        # after other work pays for fresh huge pages (up to 3 times slower
        # here), which the one-process figure should not.
        for name, run in runs:
            for _ in range(reps):
                path = output(name)
                times.setdefault(name, []).append(
                    median_time(lambda: run(path), 1)[0])

    try:
        spawn = multiprocessing.get_context('spawn')
        with spawn.Pool(2) as pool:
            plain = two_processes(pool)
            plain(output('plain'))      # the processes start GEGL
            # Two rounds, so that a slow spell of the shared machine does
            # not fall on one configuration only.
            for _ in range(2):
                measure([('single', single), ('sync', chunk_by_chunk),
                         ('threads', on_threads), ('plain', plain)])
                on_cluster({}, 1, [('chunks', task_per_chunk),
                                   ('levels', tasks_per_level)])
                on_cluster(LEAN_WORKERS, LEAN_THREADS,
                           [('lean', task_per_chunk)])
                # One worker: the other core left to the scheduler.
                on_cluster({}, 1, [('one', task_per_chunk)], 1)
        want = zarr.open_group(outputs['single'], mode='r')
        same = all(np.array_equal(
            want['labels/labels/%d' % k][...],
            zarr.open_group(outputs[name], mode='r')[
                'labels/labels/%d' % k][...])
            for k in range(4)
            for name in ('sync', 'threads', 'plain', 'levels', 'chunks',
                         'lean', 'one'))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    t = {name: statistics.median(spent) for name, spent in times.items()}
    # The overheads' reference: the faster one-process route, the same
    # job done as well as one process does it.
    best = min(t['single'], t['sync'])
    print('\n### 4. zarr → 3-mip pyramid → OME-Zarr, %d³ chunks (%d), '
          '/dev/shm, blosc on one thread\n' % (chunk, n_chunks))
    print('Overhead = cluster time × workers / one-process time − 1 '
          '(whole volume; chunk by chunk); all levels equal to the '
          'one-process levels: %s.\n' % same)
    print('| run | ms | MVx/s in | overhead | per chunk per worker |')
    print('|---|---:|---:|---:|---|')
    row('one process, the whole volume', t['single'], v.size)
    row('one process, chunk by chunk (to_ome_zarr, synchronous)',
        t['sync'], v.size)
    for name, key, workers in (
            ('one process, Dask\'s 2 threads (to_ome_zarr, the command '
             'line\'s default scheduler)', 'threads', 2),
            ('two plain processes, half the chunks each (no Dask)',
             'plain', 2),
            ('LocalCluster 2 × 1: dask.pyramid + write_labels', 'levels', 2),
            ('LocalCluster 2 × 1: %d tasks of pure CPU work as long as the '
             'chunks\' (client.map; no GEGL, no zarr)' % n_chunks, 'floor',
             2),
            ('LocalCluster 2 × 1: dask.to_ome_zarr', 'chunks', 2),
            ('LocalCluster 2 × %d, lean workers: dask.to_ome_zarr'
             % LEAN_THREADS, 'lean', 2),
            ('LocalCluster 1 × 1 (a core left to the scheduler): '
             'dask.to_ome_zarr', 'one', 1)):
        print('| %s | %.1f | %.0f | %.0f %%; %.0f %% | %.1f ms |' % (
            name, t[key] * 1e3, v.size / t[key] / 1e6,
            100 * (t[key] * workers / t['single'] - 1),
            100 * (t[key] * workers / t['sync'] - 1),
            (t[key] * workers - best) / n_chunks * 1e3))
    busy = statistics.median(b for b, _ in costs)
    cpu = statistics.median(c for _, c in costs)
    print('\nOne more run of dask.to_ome_zarr on the 2 × 1 cluster, through '
          'Dask\'s task stream: the tasks took %.0f ms on the workers (%+.0f '
          '%% against the same tasks in one process); the scheduler and the '
          'client (one process here) used %.0f ms of CPU (%.0f %% of the '
          'one-process time), on the same two cores.'
          % (busy * 1e3, 100 * (busy / t['sync'] - 1), cpu * 1e3,
             100 * cpu / t['single']))
    print('\nLean workers: %s, %d threads each (GEGL on one).' % (
        ', '.join('%s=%s' % item for item in LEAN_WORKERS.items()),
        LEAN_THREADS))
    return {key: t[key] * 2 / best - 1 for key in ('chunks', 'lean')}


def main():
    build, reps, quick, _ = benchargs.parse(sys.argv[1:])
    benchargs.check_machine()
    os.environ.setdefault('GEGL_PATH', os.pathsep.join([
        os.path.join(build, 'operations'),
        os.path.join(build, 'tests', 'gegl-plugins')]))
    sys.path.insert(0, os.path.join(ROOT, 'python'))
    import gegl_seg
    from gegl_seg import _gegl
    Gegl = _gegl.init()
    Gegl.config().props.threads = 1

    v = None
    if not quick:
        v = module('bench_label_stats',
                   os.path.join(HERE, 'bench-label-stats.py')
                   ).load_connectomics()
    source = 'the 512³ connectomics volume'
    if v is None:
        side = 128 if quick else 512
        v = np.random.default_rng(0).integers(
            0, 8, (side,) * 3, dtype=np.uint32)
        source = 'a random %d³ volume' % side
    print('## gegl_seg benchmarks: %s, GEGL tile cache %d MiB, memory '
          'bandwidth %.1f GB/s (NumPy copy, read + write)'
          % (source, Gegl.config().props.tile_cache_size >> 20,
             bandwidth(reps)))
    api = bench_copies(Gegl, gegl_seg, v, reps)
    tb = bench_tinybrain(gegl_seg, v, reps)
    bench_torch(gegl_seg, v, reps, quick)
    overhead = bench_dask(gegl_seg, v, reps, quick)
    print('\ntargets:')
    print('  %s  API within 1.3 × the graph (medians and best runs): %.2f' % (
        'PASS' if api <= 1.3 else 'MISS', api))
    if tb is not None:
        print('  %s  ≥ 3 × tinybrain: %.2f' % ('PASS' if tb >= 3 else 'MISS',
                                              tb))
    if overhead is not None:
        for key, workers in (('chunks', 'default'), ('lean', 'lean')):
            print('  %s  cluster overhead < 25 %% (%s workers): %.0f %%' % (
                'PASS' if overhead[key] < 0.25 else 'MISS', workers,
                100 * overhead[key]))


if __name__ == '__main__':
    main()
