#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-3.0-or-later
"""seg:label-stats from the gegl command line (issue 14):
`gegl in.npy -- seg:label-stats path=s.csv voxels-path=v.npy` on arrays
that np.save wrote — every integer dtype, signed ones printing signed
labels, 2-D and 3-D, sparse on and off — and on the real label crop in
data/ (a 128×128×64 stack), against NumPy: every label's count, bounds,
centroid (the exact mean, rounded once) and first row, and the voxel file's
identity vol[tuple(v[a:b].T)] == label with the rows in raster order
(np.nonzero's).  Prints TAP."""
import csv
import fractions
import os
import subprocess
import sys
import tempfile

import numpy as np

DTYPES = ['u1', 'u2', 'u4', 'u8', 'i1', 'i2', 'i4', 'i8']
DATA = os.environ.get('SEG_DATA_DIR', 'data')


def gegl(*args):
    run = subprocess.run(['gegl'] + list(args), stderr=subprocess.PIPE,
                         text=True)
    ok = run.returncode == 0 and 'WARNING' not in run.stderr
    return ok, run.stderr.strip()


def check_files(vol, csv_path, vox_path, sparse):
    """What is wrong with the two files for the (z, y, x) array vol, or ''."""
    rows = list(csv.DictReader(open(csv_path)))
    vox = np.load(vox_path)
    labels = np.unique(vol)
    if sparse:
        labels = labels[labels != 0]
    if [int(r['label']) for r in rows] != [int(v) for v in labels]:
        return 'labels %s, want %s' % ([r['label'] for r in rows][:8],
                                       list(labels[:8]))
    if vox.dtype != np.dtype('<u4') or vox.shape != (
            sum(int(r['count']) for r in rows), 3):
        return 'voxel file %s %s' % (vox.dtype, vox.shape)
    first = 0
    for r, label in zip(rows, labels):
        zyx = np.stack(np.nonzero(vol == label), axis=1)
        count = len(zyx)
        a = int(r['first'])
        if int(r['count']) != count or a != first:
            return 'label %s: count %s first %s, want %d %d' % (
                label, r['count'], r['first'], count, first)
        part = vox[a:a + count]
        if not (vol[tuple(part.T.astype(np.intp))] == label).all():
            return 'label %s: vol[tuple(v[a:b].T)] != label' % label
        if not (part == zyx).all():
            return 'label %s: rows not in raster order' % label
        for axis, name in ((2, 'x'), (1, 'y'), (0, 'z')):
            c = zyx[:, axis]
            mean = float(fractions.Fraction(int(c.sum()), count))
            if (int(r[name + '_min']) != c.min() or
                    int(r[name + '_max']) != c.max() or
                    float(r['centroid_' + name]) != mean):
                return 'label %s: %s bounds or centroid' % (label, name)
        first += count
    return ''


def run_case(tmp, name, vol, sparse, depth_arg=None, src=None):
    src = src or os.path.join(tmp, 'in.npy')
    if not src.endswith('.png'):
        np.save(src, vol)
    csv_path = os.path.join(tmp, 's.csv')
    vox_path = os.path.join(tmp, 'v.npy')
    for p in (csv_path, vox_path):
        if os.path.exists(p):
            os.unlink(p)
    args = [src, '--', 'seg:label-stats', 'path=' + csv_path,
            'voxels-path=' + vox_path,
            'sparse=%s' % ('true' if sparse else 'false')]
    if depth_arg is not None:
        args.append('depth=%d' % depth_arg)
    ok, stderr = gegl(*args)
    if not ok:
        return name, False, stderr
    if vol.ndim == 2:
        vol = vol[np.newaxis]
    why = check_files(vol, csv_path, vox_path, sparse)
    return name, why == '', why


def random_labels(rng, dtype, shape):
    """A few labels over the dtype's range (extremes, negatives) in runs,
    with background."""
    dtype = np.dtype(dtype)
    info = np.iinfo(dtype)
    palette = np.array([0, 1, info.max, info.min, info.max - 1, 7, 300 % (
        info.max + 1)], dtype=np.int64 if info.min < 0 else np.uint64)
    palette = palette.astype(dtype)
    n = int(np.prod(shape))
    runs = np.repeat(rng.randint(0, len(palette), size=n),
                     rng.randint(1, 6, size=n))[:n]
    return palette[runs].reshape(shape)


def main():
    rng = np.random.RandomState(14)
    tmp = tempfile.mkdtemp(prefix='gegl-seg-label-stats-')
    results = []
    shapes = [(4, 5, 7), (1, 6, 9), (3, 1, 1), (6, 9)]
    for dtype in DTYPES:
        for k, shape in enumerate(shapes):
            sparse = k % 2 == 0
            vol = random_labels(rng, dtype, shape)
            name = '%s %s, %s' % (np.dtype(dtype).name, shape,
                                  'sparse' if sparse else 'not sparse')
            results.append(run_case(tmp, name, vol, sparse))

    # The real crop: a Y' u16 PNG of 64 slices; its pixels as NumPy sees
    # them come from seg:npy-save.
    png = os.path.join(DATA, 'volume-128x128x64.png')
    crop = os.path.join(tmp, 'crop.npy')
    ok, stderr = gegl(png, '-o', crop)
    if not ok:
        results.append(('the real crop', False, stderr))
    else:
        vol = np.load(crop)
        vol = vol.reshape(64, vol.shape[0] // 64, vol.shape[1])
        results.append(run_case(tmp, 'the real crop, 128x128x64 labels', vol,
                                True, depth_arg=64, src=png))

    for entry in os.listdir(tmp):
        os.unlink(os.path.join(tmp, entry))
    os.rmdir(tmp)

    print('1..%d' % len(results))
    for i, (name, ok, why) in enumerate(results, 1):
        print('%s %d - %s' % ('ok' if ok else 'not ok', i, name))
        if not ok:
            print('# ' + why.replace('\n', '\n# '))
    return 0 if all(ok for _, ok, _ in results) else 1


if __name__ == '__main__':
    sys.exit(main())
