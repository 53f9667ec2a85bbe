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
from tap import check, finish, results


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
    zeros = da.zeros((10, 10), np.uint16, chunks=5)
    stats = seg_dask.label_stats(zeros)
    check('dask.label_stats of background only: no labels',
          len(stats['label']) == 0 and stats['min'].shape == (0, 2))


def want_pool(crop):
    import gegl_seg
    return gegl_seg.mode_pool(crop, 2)


def test_cluster(crop, stored):
    import dask.array as da
    from distributed import Client, LocalCluster
    import gegl_seg
    import gegl_seg.dask as seg_dask

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
        deadline = time.time() + 60
        while time.time() < deadline:
            done = sum(1 for n in client.processing().values() for _ in n)
            memory = client.run_on_scheduler(
                lambda dask_scheduler: sum(
                    1 for t in dask_scheduler.tasks.values()
                    if t.state == 'memory' and 'slow_copy' in str(t.key)))
            if memory >= 2:
                break
            time.sleep(0.05)
        pids = client.run(lambda: os.getpid())
        victim_address, victim = sorted(pids.items())[0]
        unfinished = not all(f.done() for f in futures)
        os.kill(victim, signal.SIGKILL)
        got = client.gather(futures)
        check('a worker was killed while the run was unfinished',
              unfinished and memory >= 2, 'memory %d' % memory)
        after = client.run(lambda: os.getpid())
        check('the killed worker is gone (the nanny started another)',
              victim not in after.values(), str(after))
        check('the pyramid after the kill equals the single process',
              all(same(g, w) for g, w in zip(got[:3], want_levels)))
        check('the label statistics after the kill equal the single '
              'process', same_stats(got[3], want_stats))


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

    before = sorted(os.listdir(folder))
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
    try:
        ome_zarr.write_labels(path, seg_dask.pyramid(broken, 2, 1), 2,
                              overwrite=True)
        check('OME-Zarr: a failed write leaves the old group and no '
              'partial one', False)
    except RuntimeError:
        check('OME-Zarr: a failed write leaves the old group and no '
              'partial one', sorted(os.listdir(folder)) == before and same(
                  zarr.open_group(path, mode='r')['labels/cells/0'][...],
                  crop), str(os.listdir(folder)))


def run_cli(*args, env=None):
    return subprocess.run([sys.executable, '-m', 'gegl_seg', 'pyramid']
                          + list(args), capture_output=True, text=True,
                          env=env)


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
        test_ome_zarr(crop, folder)
        test_cli(crop, folder)
        test_cluster(crop, stored)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return finish()


if __name__ == '__main__':
    sys.exit(main())
