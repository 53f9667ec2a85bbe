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
     buffer (no NumPy);
   - API: gegl_seg.countless3d (the array read in place, the result
     rendered once into a new array);
   - GI bytes: what plain GObject introspection allows, Buffer.set of
     tobytes () → the graph → Buffer.get → a writable array.
   Target: API ≤ 1.3 × graph.
2. tinybrain: downsample_segmentation (2, 2, 2), num_mips=3 on the same
   volume as tinybrain takes it (Fortran order (x, y, z)), gegl_seg
   against tinybrain (SEG_TINYBRAIN: the folder to import it from), the
   outputs compared.  Target: ≥ 3 × tinybrain.
3. PyTorch: gegl_seg.resample 512³ → 256³ (float32 nearest, linear, area;
   the uint32 labels nearest) against F.interpolate / adaptive_avg_pool3d,
   torch.set_num_threads (1), outputs compared.
4. Dask: the job zarr array → 3-mip label pyramid → OME-Zarr, 128³
   chunks, in /dev/shm: one process (the whole volume read, pooled with
   gegl_seg.pyramid, written with gegl_seg.ome_zarr), and the same through
   gegl_seg.dask on a LocalCluster of 2 worker processes × 1 thread.
   Overhead = cluster time × 2 workers / single-process time − 1.
   Target: < 25 %.

The connectomics volume is looked for as bench-label-stats.py does
(SEG_CONNECTOMICS, else ../shared/data); --quick uses a 128³ random
volume and one repetition.
"""
import importlib.util
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


def median_time(run, reps):
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - t)
    return statistics.median(times), result


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
    buffer = Gegl.Buffer.new('Y u32', 0, 0, width, height * depth)
    buffer.set(Gegl.Rectangle.new(0, 0, width, height * depth), 'Y u32',
               v.tobytes())

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

    t_graph, _ = median_time(graph_alone, reps)
    t_api, got = median_time(lambda: gegl_seg.countless3d(v), reps)
    t_gi, gi = median_time(gi_bytes, reps)
    assert np.array_equal(got, gi), 'API and GI results differ'
    print('\n### 1. copies: seg:countless-3d, %s uint32, one thread\n'
          % '×'.join(map(str, v.shape)))
    print('| route | ms | MVx/s in | graph × route | |')
    print('|---|---:|---:|---:|---|')
    row('graph alone (GEGL buffers)', t_graph, v.size, t_graph)
    row('gegl_seg.countless3d', t_api, v.size, t_graph,
        'API / graph = %.2f (target ≤ 1.3)' % (t_api / t_graph))
    row('GI bytes (tobytes, set, get, copy)', t_gi, v.size, t_graph)
    del buffer
    return t_api / t_graph


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
    if folder:
        sys.path.insert(0, folder)
        import tinybrain
        t_tb, want = median_time(
            lambda: tinybrain.downsample_segmentation(vt, (2, 2, 2),
                                                      num_mips=3), reps)
        same = all(np.array_equal(w, g) for w, g in zip(want, got))
        row('tinybrain', t_tb, v.size, t_tb)
        row('gegl_seg', t_seg, v.size, t_tb,
            'outputs equal: %s; target ≥ 3' % same)
        ratio = t_tb / t_seg
    else:
        row('gegl_seg', t_seg, v.size, None, 'SEG_TINYBRAIN not set')
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


def bench_dask(gegl_seg, v, reps, quick):
    try:
        import dask.array as da
        import zarr
        from distributed import Client, LocalCluster
    except ImportError as e:
        print('\n### 4. Dask: %s\n' % e)
        return None
    import gegl_seg.dask as seg_dask
    from gegl_seg import ome_zarr

    chunk = 32 if quick else 128
    folder = tempfile.mkdtemp(prefix='bench-python-', dir='/dev/shm')
    try:
        src = os.path.join(folder, 'in.zarr')
        zarr.save_array(src, v, chunks=(chunk,) * 3)

        def single():
            out = os.path.join(folder, 'single.zarr')
            levels = gegl_seg.pyramid(zarr.open_array(src, mode='r')[...],
                                      2, 3)
            ome_zarr.write_labels(out, levels, 2, chunks=(chunk,) * 3,
                                  overwrite=True)

        t_single, _ = median_time(single, reps)
        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                          dashboard_address=None,
                          env={'GEGL_PATH': os.environ['GEGL_PATH']}
                          ) as cluster, Client(cluster):
            def clustered():
                out = os.path.join(folder, 'cluster.zarr')
                levels = seg_dask.pyramid(da.from_zarr(src), 2, 3)
                ome_zarr.write_labels(out, levels, 2, overwrite=True)
            clustered()      # the workers start GEGL
            t_cluster, _ = median_time(clustered, reps)
        a = zarr.open_group(os.path.join(folder, 'single.zarr'), mode='r')
        b = zarr.open_group(os.path.join(folder, 'cluster.zarr'), mode='r')
        same = all(np.array_equal(a['labels/labels/%d' % k][...],
                                  b['labels/labels/%d' % k][...])
                   for k in range(4))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    overhead = t_cluster * 2 / t_single - 1
    n_chunks = int(np.prod([-(-s // chunk) for s in v.shape]))
    print('\n### 4. zarr → 3-mip pyramid → OME-Zarr, %d³ chunks (%d), '
          '/dev/shm\n' % (chunk, n_chunks))
    print('| run | ms | MVx/s in | | |')
    print('|---|---:|---:|---:|---|')
    row('one process, one thread', t_single, v.size)
    row('LocalCluster, 2 workers × 1 thread', t_cluster, v.size, None,
        'overhead %.0f %% (%.1f ms per chunk per worker); levels equal: %s;'
        ' target < 25 %%' % (100 * overhead,
                             (t_cluster * 2 - t_single) / n_chunks * 1e3,
                             same))
    return overhead


def main():
    build, reps, quick, _ = benchargs.parse(sys.argv[1:])
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
    print('  %s  API within 1.3 × the graph: %.2f' % (
        'PASS' if api <= 1.3 else 'MISS', api))
    if tb is not None:
        print('  %s  ≥ 3 × tinybrain: %.2f' % ('PASS' if tb >= 3 else 'MISS',
                                              tb))
    if overhead is not None:
        print('  %s  cluster overhead < 25 %%: %.0f %%' % (
            'PASS' if overhead < 0.25 else 'MISS', 100 * overhead))


if __name__ == '__main__':
    main()
