#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-3.0-or-later
"""seg:sparse-average on NumPy files from the gegl command line:
`gegl in.npy -o out.npy -- seg:sparse-average …` on arrays that np.save
wrote, against the exact answer computed here in Python integers (issue 11):
every block summed exactly, the mean truncated toward zero for signed
dtypes (int8 [-1, -2, -3, -4] gives -2) and rounded down for unsigned ones,
sparse leaving zeros out.  The output must have the input's dtype.
Prints TAP."""
import os
import subprocess
import sys
import tempfile

import numpy as np

DTYPES = ['i1', 'i2', 'i4', 'i8', 'u8', 'u1', 'u2', 'u4', 'b1']


def truncated_mean(total, count):
    """total / count truncated toward zero, in Python integers (whose //
    rounds down, so it is taken on the magnitude)."""
    quotient = abs(total) // count
    return -quotient if total < 0 else quotient


def exact_average(volume, f, sparse):
    """The contract's mean of each f = (fz, fy, fx) block of a (z, y, x)
    array; partial blocks at the far edges use what exists; sparse leaves
    zeros out, and a block of zeros stays 0."""
    out = np.zeros([-(-s // k) for s, k in zip(volume.shape, f)],
                   volume.dtype)
    for index in np.ndindex(out.shape):
        block = volume[tuple(slice(i * k, (i + 1) * k)
                             for i, k in zip(index, f))]
        values = [int(v) for v in block.reshape(-1)]
        if sparse:
            values = [v for v in values if v != 0]
        if values:
            out[index] = truncated_mean(sum(values), len(values))
    return out


def random_volume(rng, dtype, shape):
    """Values anywhere in the dtype's range, near its extremes, and near 0
    (where truncation and rounding down differ), with zeros."""
    dtype = np.dtype(dtype)
    if dtype.kind == 'b':
        return rng.randint(0, 2, size=shape).astype(bool)
    info = np.iinfo(dtype)
    n = int(np.prod(shape))
    anywhere = rng.randint(0, 256, size=n * dtype.itemsize).astype(np.uint8)
    values = np.frombuffer(anywhere.tobytes(), dtype).copy()
    pick = rng.randint(0, 4, size=n)
    small_low = -3 if info.min < 0 else 0
    values[pick == 1] = rng.randint(small_low, 4, size=(pick == 1).sum())
    extremes = np.array([info.min, info.min + 1, info.max, info.max - 1],
                        dtype)
    values[pick == 2] = extremes[rng.randint(0, 4, size=(pick == 2).sum())]
    values[pick == 3] = 0
    return values.reshape(shape)


def gegl_average(src, dst, depth, f, sparse):
    args = ['gegl', src, '-o', dst, '--', 'seg:sparse-average',
            'factor-x=%d' % f[2], 'factor-y=%d' % f[1],
            'factor-z=%d' % f[0], 'depth=%d' % depth,
            'sparse=%s' % ('true' if sparse else 'false')]
    run = subprocess.run(args, stderr=subprocess.PIPE, text=True)
    return run.returncode == 0 and 'WARNING' not in run.stderr, run.stderr


def check(tmp, name, volume, f, sparse):
    """Runs one case; returns (name, ok, what went wrong)."""
    src = os.path.join(tmp, 'in.npy')
    dst = os.path.join(tmp, 'out.npy')
    if os.path.exists(dst):
        os.unlink(dst)
    np.save(src, volume if volume.ndim == 3 else volume[0])
    ran, stderr = gegl_average(src, dst, volume.shape[0], f, sparse)
    if not ran:
        return name, False, stderr.strip()
    got = np.load(dst)
    want = exact_average(volume, f, sparse)
    if want.shape[0] == 1 and volume.ndim == 3 and got.ndim == 2:
        want = want[0]
    if got.dtype != want.dtype or got.shape != want.shape:
        return name, False, 'got %s %s, want %s %s' % (
            got.dtype, got.shape, want.dtype, want.shape)
    differ = np.argwhere(got != want.reshape(got.shape))
    if len(differ):
        at = tuple(differ[0])
        return name, False, 'first difference at %s: got %s, want %s' % (
            at, got[at], want.reshape(got.shape)[at])
    return name, True, ''


def main():
    rng = np.random.RandomState(11)
    tmp = tempfile.mkdtemp(prefix='gegl-seg-npy-average-')
    results = []

    # Issue 11's blocks, 2×2, not sparse: (dtype, values, want).
    issue = [('i1', [-1, 1, -1, 1], 0), ('i2', [-3, 1, 5, -1], 0),
             ('i4', [-7, 7, 1, 1], 0), ('u8', [2 ** 32, 0, 2 ** 32, 0], 2 ** 31),
             ('i8', [-2 ** 40, 2, 2 ** 40, 2], 1),
             ('i1', [-1, -2, -3, -4], -2)]
    for dtype, values, want in issue:
        volume = np.array(values, dtype).reshape(1, 2, 2)
        name = '%s %s, 2x2, not sparse' % (dtype, values)
        results.append(check(tmp, name, volume, (1, 2, 2), False))
        if results[-1][1]:
            got = int(np.load(os.path.join(tmp, 'out.npy')).reshape(-1)[0])
            if got != want:
                results[-1] = (name, False, 'got %d, want %d' % (got, want))

    # Random images and volumes, odd sizes (partial blocks), sparse or not.
    shapes = [((1, 9, 11), (1, 2, 2)), ((1, 7, 10), (1, 3, 4)),
              ((5, 6, 7), (2, 2, 2)), ((4, 5, 9), (3, 2, 3))]
    for dtype in DTYPES:
        for k, (shape, f) in enumerate(shapes):
            sparse = k % 2 == 1
            volume = random_volume(rng, dtype, shape)
            name = '%s %s by %s, %s' % (np.dtype(dtype).name, shape, f,
                                        'sparse' if sparse else 'not sparse')
            results.append(check(tmp, name, volume, f, sparse))

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
