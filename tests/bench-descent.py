#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-3.0-or-later
"""seg:descent-direction side by side with the NumPy method, run by hand
(not a test):

  /usr/bin/python3 tests/bench-descent.py [BUILD] [--reps N] [--quick]

On two 512 × 512 × 128 float32 volumes (C order (128, 512, 512)): a smooth
random field (white noise blurred by three 5-wide box filters along each
axis) and the white noise itself.  One thread.  Methods, each in a fresh
process where GEGL is involved:

  kernel    lib/seg-descent.c alone on the volume in memory
            (BUILD/tests/bench-kernel descent), labels to memory;
  api       gegl_seg.descent_direction () on the volume in memory, to a
            new array: the GEGL graph, one GEGL thread, reading the array
            in place and rendering into the result (the job the NumPy
            method does); its first run in the process not counted;
  api, N cores
            the same with GEGL's default threads, one per core: what a
            user gets without asking (issue 15's targets are for one
            thread);
  u8        api, one thread, on the volume in 8 bits as EM volumes
            are stored: stretched over 0 … 255, and narrow (255 × the
            value, rounded down: the smooth field's 40 levels, plateaus
            everywhere);
  float64   api, one thread, on the volume as float64 (NumPy's default
            type): its numbers are floats, which the single-precision
            path takes (float64, floats); divided by 3, they are not,
            and the double path takes them (float64);
  no AVX-512
            the kernel with SEG_KERNELS=avx2 (8 floats a vector: what a
            CPU with AVX2 and without AVX-512 runs, compiled here for
            AVX-512) and SEG_KERNELS=portable (4 floats, as baseline
            x86-64 and NEON take them: CPUs without AVX2);
  gegl job  seg:npy-load → seg:descent-direction depth=128 →
            seg:npy-save, from the file in the page cache to the labels'
            file in /dev/shm;
  numpy     the vectorised NumPy method a user writes (sliding_window_view
            over the volume in float64, the 27 scores, argmax) on the
            whole volume, its interior counted, its first run in the
            process not counted.  It holds two arrays of 27 float64
            scores per voxel at once, 14.5 GB for this volume: where the
            machine has not that much memory free it runs on the first
            10 slices instead, and says so;
  numpy, 10 slices
            the same on the first 10 slices, whole slices as a user's
            volume has them: NumPy's best case, about twice as fast per
            voxel as on the whole volume, because its scores then take
            0.6 GB rather than 14.5 GB;
  read      one pass over the volume's bytes in memory, in C
            (BUILD/tests/bench-kernel read): the floor of any method, and
            the memory's read bandwidth in GB/s.

The kernel also runs at spacings (x, y, z) 4 4 40, x and y alike as in
EM stacks, and 1 2 3, three different: it takes classes of one distance
together, so spacing changes its work (1 1 1, the default, is the least).

Medians of N (default 3); MVx/s counts voxels.  Checked once per volume:
the op's labels on the sub-volume equal the NumPy method's on its
interior (a wrong label stops the benchmark).  --quick: small volumes, one
repetition, for a smoke run.
"""
import itertools
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

import benchargs

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def box3(v, width):
    """v blurred by a box of width along each axis (edges clamped)."""
    r = width // 2
    for axis in range(3):
        pad = [(0, 0)] * 3
        pad[axis] = (r + 1, r)
        c = np.cumsum(np.pad(v, pad, mode="edge"), axis=axis,
                      dtype=np.float64)
        hi = np.take(c, range(width, width + v.shape[axis]), axis=axis)
        lo = np.take(c, range(0, v.shape[axis]), axis=axis)
        v = ((hi - lo) / width).astype(np.float32)
    return v


def numpy_descent(v, spacing=(1.0, 1.0, 1.0)):
    """The interior's labels, the way the question writes it."""
    d = np.asarray(v, np.float64)
    win = np.lib.stride_tricks.sliding_window_view(d, (3, 3, 3))
    centre = d[1:-1, 1:-1, 1:-1]
    steps = np.array(list(itertools.product(range(-1, 2), repeat=3)))
    dist = np.sqrt(((steps * np.array(spacing[::-1])) ** 2).sum(axis=1))
    dist[13] = np.inf
    scores = (centre[..., None] - win.reshape(win.shape[:3] + (27,))) / dist
    scores[..., 13] = -np.inf
    labels = scores.argmax(axis=-1).astype(np.uint8)
    labels[scores.max(axis=-1) < 0] = 13
    return labels


def numpy_peak_bytes(shape):
    """About the most numpy_descent holds at once on a volume of `shape`:
    two arrays of 27 float64 scores per interior voxel."""
    return 2 * 27 * 8 * int(np.prod([max(0, s - 2) for s in shape]))


def available_bytes():
    """The memory the kernel says is free for a new process, in bytes."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) << 10
    except OSError:
        pass
    return 0


def child_gegl(vol_path, out_path, depth):
    import gi
    gi.require_version("Gegl", "0.4")
    from gi.repository import Gegl
    Gegl.init(None)
    Gegl.config().props.threads = 1
    graph = Gegl.Node()
    load = graph.create_child("seg:npy-load")
    load.set_property("path", vol_path)
    op = graph.create_child("seg:descent-direction")
    op.set_property("depth", depth)
    save = graph.create_child("seg:npy-save")
    save.set_property("path", out_path)
    load.link(op)
    op.link(save)
    t = time.perf_counter()
    save.process()
    return time.perf_counter() - t


def child_api(vol_path, reps, threads):
    """reps + 1 runs of gegl_seg.descent_direction () on the volume in
    memory, the first not counted, on `threads` GEGL threads (0: GEGL's
    default)."""
    v = np.load(vol_path)
    return benchargs.api_times(lambda g: g.descent_direction(v), reps,
                               threads)


def run_api(vol_path, reps, env, threads=1):
    return benchargs.seconds_of(
        __file__, ["--api", vol_path, str(reps), str(threads)], env,
        "bench-descent: gegl_seg.descent_direction failed")


def run_gegl(vol_path, out_path, depth, env):
    return benchargs.seconds_of(
        __file__, ["--child", vol_path, out_path, str(depth)], env,
        "bench-descent: the GEGL graph failed")


def run_kernel(program, vol_path, reps, spacing=(), kernels=None):
    """The seconds of each of reps runs of the kernel, at spacing (x, y,
    z; default 1 1 1), with SEG_KERNELS=kernels where given."""
    env = dict(os.environ)
    if kernels:
        env["SEG_KERNELS"] = kernels
    out = subprocess.run([program, "descent", vol_path, str(reps)] +
                         [str(s) for s in spacing],
                         stdout=subprocess.PIPE, check=True, env=env)
    return [float(x) for x in out.stdout.split()]


def main():
    if "--child" in sys.argv:
        a = sys.argv[sys.argv.index("--child") + 1:]
        print(json.dumps({"seconds": child_gegl(a[0], a[1], int(a[2]))}))
        return
    if "--api" in sys.argv:
        a = sys.argv[sys.argv.index("--api") + 1:]
        print(json.dumps({"seconds": child_api(a[0], int(a[1]),
                                               int(a[2]))}))
        return
    build, reps, quick, _ = benchargs.parse(sys.argv[1:])
    benchargs.check_machine()
    program = os.path.join(build, "tests", "bench-kernel")
    env = dict(os.environ, GEGL_PATH=os.path.join(build, "operations"),
               GEGL_SWAP="RAM")
    api_env = benchargs.api_env(build, env)
    shape = (16, 64, 64) if quick else (128, 512, 512)
    # The check's part, and the slab the NumPy method is timed on.
    sub = (8, 32, 32) if quick else (32, 128, 128)
    slab = (4, 64, 64) if quick else (10, 512, 512)
    n = shape[0] * shape[1] * shape[2]
    n_slab = (slab[0] - 2) * (slab[1] - 2) * (slab[2] - 2)
    # NumPy on the whole volume where the memory allows, with a margin
    # for what the benchmark itself holds.
    whole = numpy_peak_bytes(shape) * 1.15 < available_bytes()
    numpy_shape = shape if whole else slab
    n_numpy = int(np.prod([s - 2 for s in numpy_shape]))
    # Runs of tens of seconds each on the whole volume: three at most.
    numpy_reps = min(reps, 3) if whole else reps

    rng = np.random.default_rng(0x5EED)
    noise = rng.random(shape, dtype=np.float32)
    smooth = box3(box3(box3(noise, 5), 5), 5)
    work = tempfile.mkdtemp(prefix="bench-descent-")
    ram = tempfile.mkdtemp(prefix="bench-descent-",
                           dir="/dev/shm" if os.path.isdir("/dev/shm")
                           else None)
    try:
        print("seg:descent-direction, one thread but where said; medians of "
              "%d; %s" %
              (reps, "GEGL_PATH=" + env["GEGL_PATH"]))
        print("%d × %d × %d float32 (%d MiB); NumPy's method on %d × %d × "
              "%d%s" % (shape[2], shape[1], shape[0], n * 4 >> 20,
                        numpy_shape[2], numpy_shape[1], numpy_shape[0],
                        "" if whole else
                        " (%.1f GB free, the whole volume needs %.1f GB)" %
                        (available_bytes() / 1e9,
                         numpy_peak_bytes(shape) / 1e9)))
        for name, v in (("smooth field", smooth), ("white noise", noise)):
            vol = os.path.join(work, "vol.npy")
            part = os.path.join(work, "part.npy")
            vol8 = os.path.join(work, "vol8.npy")
            out = os.path.join(ram, "labels.npy")
            np.save(vol, v)
            np.save(part, np.ascontiguousarray(v[:sub[0], :sub[1], :sub[2]]))

            # The check: the op against the NumPy method, on the interior.
            run_gegl(part, out, sub[0], env)
            want = numpy_descent(np.load(part))
            got = np.load(out)[1:-1, 1:-1, 1:-1]
            if not (got == want).all():
                sys.exit("bench-descent: %s: %d labels differ from NumPy's" %
                         (name, int((got != want).sum())))

            kernel = run_kernel(program, vol, reps)
            em = run_kernel(program, vol, reps, (4, 4, 40))
            # The same voxels in a C-order (x, y, z) array: z alike to y.
            em_xyz = run_kernel(program, vol, reps, (40, 4, 4))
            three = run_kernel(program, vol, reps, (1, 2, 3))
            lanes = [(kernels, run_kernel(program, vol, reps, (), kernels))
                     for kernels in ("avx2", "portable")]
            read = benchargs.read_times(build, vol, reps)
            api = run_api(vol, reps, api_env)
            # What a user gets without asking: GEGL's threads, one per
            # core.
            api_all = run_api(vol, reps, api_env, 0)
            # 8-bit volumes, as EM is stored: the volume stretched over
            # 0 … 255, and 255 × the volume rounded down (the smooth
            # field's 40 levels: plateaus everywhere).
            eight = []
            for name8, v8 in (("stretched", np.round(
                    (v - v.min()) / (v.max() - v.min()) * 255)),
                    ("narrow", np.floor(v * 255))):
                np.save(vol8, v8.astype(np.uint8))
                eight.append((name8, run_api(vol8, reps, api_env)))
            api64 = []
            for v64 in (v.astype(np.float64), v.astype(np.float64) / 3):
                np.save(vol8, v64)
                api64.append(run_api(vol8, reps, api_env))
            p = np.ascontiguousarray(v[:slab[0], :slab[1], :slab[2]])
            job = [run_gegl(vol, out, shape[0], env) for _ in range(reps)]
            # A process's first run of NumPy's method pays for fresh
            # memory, up to twice the time: not counted.
            npy_slab = benchargs.warm_times(lambda: numpy_descent(p), reps)
            npy = (benchargs.warm_times(lambda: numpy_descent(v), numpy_reps)
                   if whole else npy_slab)
            k, g = statistics.median(kernel), statistics.median(job)
            a = statistics.median(api)
            m, r = statistics.median(npy), statistics.median(read)
            numpy_mvx = n_numpy / m / 1e6
            slab_mvx = n_slab / statistics.median(npy_slab) / 1e6
            print("\n%s" % name)
            print("  kernel        %8.3f s %8.1f MVx/s %8.0f× NumPy" %
                  (k, n / k / 1e6, n / k / 1e6 / numpy_mvx))
            for label, times in (("  4 4 40", em), ("  40 4 4", em_xyz),
                                 ("  1 2 3", three)):
                t = statistics.median(times)
                print("  %-13s %8.3f s %8.1f MVx/s  (kernel, spacing x y z)"
                      % (label, t, n / t / 1e6))
            print("  api (GEGL)    %8.3f s %8.1f MVx/s %8.0f× NumPy" %
                  (a, n / a / 1e6, n / a / 1e6 / numpy_mvx))
            t = statistics.median(api_all)
            print("  api, %d cores  %8.3f s %8.1f MVx/s %8.0f× NumPy  (GEGL's "
                  "default threads)" % (os.cpu_count() or 1, t, n / t / 1e6,
                                        n / t / 1e6 / numpy_mvx))
            for name8, times in eight:
                t = statistics.median(times)
                print("  %-13s %8.3f s %8.1f MVx/s  (api, 8 bits, one "
                      "thread)" % ("u8 " + name8, t, n / t / 1e6))
            for name64, times in zip(("float64, floats", "float64"), api64):
                t = statistics.median(times)
                print("  %-15s %6.3f s %8.1f MVx/s  (api, one thread)" %
                      (name64, t, n / t / 1e6))
            for kernels, times in lanes:
                t = statistics.median(times)
                print("  %-13s %8.3f s %8.1f MVx/s  (kernel, no AVX-512)" %
                      (kernels, t, n / t / 1e6))
            print("  gegl job      %8.3f s %8.1f MVx/s %8.0f× NumPy" %
                  (g, n / g / 1e6, n / g / 1e6 / numpy_mvx))
            print("  numpy         %8.3f s %8.2f MVx/s (on %d interior "
                  "voxels, median of %d)" % (m, numpy_mvx, n_numpy,
                                             len(npy)))
            if whole:
                print("  numpy, slab   %8.3f s %8.2f MVx/s (%d slices: "
                      "NumPy's best case; kernel %.0f× it)" %
                      (statistics.median(npy_slab), slab_mvx, slab[0],
                       n / k / 1e6 / slab_mvx))
            print("  read (C)      %8.3f s %8.1f MVx/s, %.1f GB/s" %
                  (r, n / r / 1e6, n * 4 / r / 1e9))
            print("  spread (s): kernel %.3f-%.3f, api %.3f-%.3f, "
                  "gegl %.3f-%.3f, numpy %.3f-%.3f" % (
                      min(kernel), max(kernel), min(api), max(api),
                      min(job), max(job), min(npy), max(npy)))
    finally:
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(ram, ignore_errors=True)


if __name__ == "__main__":
    main()
