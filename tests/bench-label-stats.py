#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-3.0-or-later
"""seg:label-stats side by side with what a Python user writes instead, run
by hand (not a test):

  /usr/bin/python3 tests/bench-label-stats.py [BUILD] [--reps N] [--quick]
                                             [--only connectomics|random]

On two 512³ uint32 volumes (one thread each): the connectomics volume
(2523 labels in long runs) and a random one (120 000 labels drawn for every
voxel, no runs: the worst case for the kernel's run fast path).  Methods,
each in a fresh process of its own so that its peak resident memory is
its own:

  seg stats     seg:npy-load → seg:label-stats path=…           (the CSV)
  seg lists     … voxels-path=… on a RAM folder (/dev/shm): the work
  seg lists disk … voxels-path=… in $TMPDIR: as above, plus the disk,
                which must take 12 bytes per voxel before the op returns
                (both files are fsync()ed before they are renamed)
  numpy         np.argsort (stable) + np.unique + np.unravel_index, then
                bounds and sums by np.minimum/maximum/add.reduceat: the
                sort-based method, all in memory, no file written
  scipy         scipy.ndimage.find_objects + center_of_mass + sum_labels
                (counts), statistics only, where python3-scipy is there
  read          NumPy's max () over the volume: one pass over its bytes,
                the floor of any method
  gegl sink     seg:npy-load → gegl:buffer-sink, which does nothing: what
                GEGL costs to give any whole-image sink its input, the
                floor of the seg methods' job column
  write         the voxel file's size in bytes written to /dev/shm in 8 MiB
                write ()s, a file replaced as the op replaces its own: the
                floor of writing the voxel file, whoever writes it

Peak memory is VmHWM, which a process's start (exec) resets.  Two times
per method, process start-up never counted, medians of N (default 3),
methods alternating so that noise on a shared machine hits all alike:
  job   from the file (in the page cache) to the results: seg:npy-load
        maps the file and the op's first render touches its pages; NumPy
        and SciPy np.load it first;
  warm  the volume already in memory: the op's second render of the same
        graph, the Python methods' computation alone.
MVx/s counts input voxels.

Checked once per volume: the CSV (every label's count, bounds and
centroid) equals the NumPy method's, and the voxel file's rows for every
label are NumPy's, in the same order; a wrong output stops the benchmark.

The connectomics volume is looked for at $SEG_CONNECTOMICS, else at
../shared/data/connectomics512_zyx_u32.npy.gz beside the source tree (.npy
or .npy.gz); without it only the random volume runs.  --quick: 64³ crops,
one repetition, for a smoke run.  Needs about 10 GiB of memory (the NumPy
method) and 2 GiB in /dev/shm.
"""
import csv
import gzip
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


def loaded_into(vol_path, operation):
    """seg:npy-load of vol_path linked into a new node running operation
    (GEGL initialised): that node."""
    import gi
    gi.require_version("Gegl", "0.4")
    from gi.repository import Gegl
    Gegl.init(None)
    graph = Gegl.Node()
    load = graph.create_child("seg:npy-load")
    load.set_property("path", vol_path)
    sink = graph.create_child(operation)
    load.link(sink)
    sink.graph = graph  # the graph lives as long as the sink is used
    return sink


def two_renders(sink, before=lambda: None):
    """(job, warm): the first render, which maps the file and touches its
    pages, then a second one on the same graph, the volume in memory;
    before () runs ahead of each, untimed."""
    times = []
    for _ in range(2):
        before()
        t = time.perf_counter()
        sink.process()
        times.append(time.perf_counter() - t)
    return times


def child_seg(vol_path, out_dir, lists):
    sink = loaded_into(vol_path, "seg:label-stats")
    sink.set_property("path", os.path.join(out_dir, "stats.csv"))
    voxels = os.path.join(out_dir, "voxels.npy")
    if lists:
        sink.set_property("voxels-path", voxels)

    def no_voxel_file():
        if os.path.exists(voxels):
            os.unlink(voxels)

    return two_renders(sink, no_voxel_file)


def child_gegl_sink(vol_path):
    """(job, warm) of a whole-image sink that does nothing."""
    return two_renders(loaded_into(vol_path, "gegl:buffer-sink"))


def child_write(out_dir, size):
    """(job, warm): size bytes written to a new file in out_dir, twice,
    the second replacing the first."""
    block = b"\1" * (8 << 20)
    times = []
    for _ in range(2):
        t = time.perf_counter()
        tmp = os.path.join(out_dir, "write.tmp")
        with open(tmp, "wb", buffering=0) as f:
            left = size
            while left > 0:
                left -= f.write(block[:min(left, len(block))])
        os.replace(tmp, os.path.join(out_dir, "write.npy"))
        times.append(time.perf_counter() - t)
    return times


def numpy_stats(v):
    """The sort-based method: labels, counts, first rows, (z, y, x) rows
    grouped by label in raster order, bounds and sums (z, y, x)."""
    flat = v.ravel()
    order = np.argsort(flat, kind="stable")
    labels, first, counts = np.unique(flat[order], return_index=True,
                                      return_counts=True)
    if labels.size and labels[0] == 0:  # sparse: no background
        order = order[counts[0]:]
        labels, first, counts = labels[1:], first[1:] - counts[0], counts[1:]
    zyx = np.stack(np.unravel_index(order, v.shape), axis=1)
    lo = np.minimum.reduceat(zyx, first, axis=0) if labels.size else zyx[:0]
    hi = np.maximum.reduceat(zyx, first, axis=0) if labels.size else zyx[:0]
    sums = np.add.reduceat(zyx, first, axis=0) if labels.size else zyx[:0]
    return labels, counts, first, zyx, lo, hi, sums


def scipy_stats(v):
    from scipy import ndimage
    boxes = ndimage.find_objects(v)
    index = [i + 1 for i, b in enumerate(boxes) if b is not None]
    ndimage.center_of_mass(v > 0, v, index)
    ndimage.sum_labels(v > 0, v, index)


def read_once(v):
    v.max()


def child_python(vol_path, compute):
    """(job, warm): np.load and the computation, and the computation."""
    t0 = time.perf_counter()
    v = np.load(vol_path)
    t1 = time.perf_counter()
    compute(v)
    t2 = time.perf_counter()
    return [t2 - t0, t2 - t1]


def peak_rss_mib():
    """This process's peak resident memory since it started (exec)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def run_child(args, env):
    """One method in a fresh process: (seconds, peak RSS in MiB)."""
    out = subprocess.run([sys.executable, __file__, "--child"] + args,
                         stdout=subprocess.PIPE, env=env)
    if out.returncode != 0:
        sys.exit("bench-label-stats: %s failed" % " ".join(args))
    result = json.loads(out.stdout)
    return result["seconds"], result["peak"]


def check(vol_path, out_dir):
    """The op's CSV and voxel file against the NumPy method."""
    v = np.load(vol_path)
    labels, counts, first, zyx, lo, hi, sums = numpy_stats(v)
    rows = list(csv.DictReader(open(os.path.join(out_dir, "stats.csv"))))
    vox = np.load(os.path.join(out_dir, "voxels.npy"))
    assert len(rows) == labels.size, "label count"
    assert vox.shape == zyx.shape and (vox == zyx).all(), "voxel rows"
    got = np.array([[int(r[k]) for k in ("label", "count", "first", "z_min",
                                         "y_min", "x_min", "z_max", "y_max",
                                         "x_max")] for r in rows])
    want = np.column_stack([labels, counts, first, lo, hi])
    assert (got == want).all(), "labels, counts, first rows or bounds"
    cent = np.array([[float(r["centroid_" + a]) for a in "zyx"] for r in rows])
    assert np.allclose(cent, sums / counts[:, None], rtol=1e-15, atol=0), \
        "centroids"


def load_connectomics():
    path = os.environ.get("SEG_CONNECTOMICS") or os.path.join(
        ROOT, "..", "shared", "data", "connectomics512_zyx_u32.npy.gz")
    if not os.path.exists(path):
        return None
    if path.endswith(".gz"):
        with gzip.open(path) as f:
            return np.load(f)
    return np.load(path)


def main():
    if "--child" in sys.argv:
        args = sys.argv[sys.argv.index("--child") + 1:]
        method = args[0]
        if method == "seg":
            t = child_seg(args[1], args[2], args[3] == "lists")
        elif method == "gegl-sink":
            t = child_gegl_sink(args[1])
        elif method == "write":
            t = child_write(args[1], int(args[2]))
        else:
            compute = {"numpy": numpy_stats, "scipy": scipy_stats,
                       "read": read_once}[method]
            t = child_python(args[1], compute)
        print(json.dumps({"seconds": t, "peak": peak_rss_mib()}))
        return

    build, reps, quick, values = benchargs.parse(sys.argv[1:], ("only",))
    benchargs.check_machine()
    only = values["only"]
    env = dict(os.environ, GEGL_PATH=os.path.join(build, "operations") + ":" +
               os.path.join(build, "tests", "gegl-plugins"), GEGL_SWAP="RAM")
    try:
        import scipy  # noqa: F401
        have_scipy = True
    except ImportError:
        have_scipy = False

    side = 64 if quick else 512
    volumes = []
    conn = load_connectomics() if only in (None, "connectomics") else None
    if conn is not None:
        volumes.append(("connectomics", np.ascontiguousarray(
            conn[:side, :side, :side])))
    rng = np.random.default_rng(0x5EED)
    if only in (None, "random"):
        volumes.append(("random 120k", rng.integers(
            1, 120001, size=(side, side, side), dtype=np.uint32)))

    work = tempfile.mkdtemp(prefix="bench-label-stats-")
    ram_base = "/dev/shm" if os.path.isdir("/dev/shm") else None
    ram = tempfile.mkdtemp(prefix="bench-label-stats-", dir=ram_base)
    try:
        print("seg:label-stats, one thread; medians of %d; %s" %
              (reps, "GEGL_PATH=" + env["GEGL_PATH"]))
        for name, v in volumes:
            vol_path = os.path.join(work, "vol.npy")
            np.save(vol_path, v)
            del v
            methods = [("seg stats", ["seg", vol_path, ram, "stats"]),
                       ("seg lists", ["seg", vol_path, ram, "lists"]),
                       ("seg lists disk", ["seg", vol_path, work, "lists"]),
                       ("numpy", ["numpy", vol_path])]
            if have_scipy:
                methods.append(("scipy", ["scipy", vol_path]))
            methods.append(("read", ["read", vol_path]))

            run_child(["seg", vol_path, ram, "lists"], env)  # warm-up
            check(vol_path, ram)
            vox_bytes = os.path.getsize(os.path.join(ram, "voxels.npy"))
            methods += [("gegl sink", ["gegl-sink", vol_path]),
                        ("write", ["write", ram, str(vox_bytes)])]
            times = {m: ([], []) for m, _ in methods}
            peaks = {m: [] for m, _ in methods}
            for _ in range(reps):
                for m, args in methods:
                    (job, warm), peak = run_child(args, env)
                    times[m][0].append(job)
                    times[m][1].append(warm)
                    peaks[m].append(peak)
            n = side ** 3
            vox_mib = vox_bytes / 2**20
            print("\n%s: %d³ uint32 (%.0f MiB), voxel file %.0f MiB" %
                  (name, side, n * 4 / 2**20, vox_mib))
            print("  %-15s | %8s %7s %7s | %8s %7s %7s | %8s" % (
                "", "job s", "MVx/s", "x numpy", "warm s", "MVx/s",
                "x numpy", "peak MiB"))
            med = {m: [statistics.median(t) for t in times[m]]
                   for m, _ in methods}
            for m, _ in methods:
                row = "  %-15s" % m
                for k in range(2):
                    t = med[m][k]
                    row += " | %8.3f %7.0f %7.1f" % (t, n / t / 1e6,
                                                     med["numpy"][k] / t)
                print(row + " | %8.0f" % max(peaks[m]))
            print("  spread of the seg runs, job and warm (s): " + "; ".join(
                "%s %.3f-%.3f, %.3f-%.3f" % (m, min(times[m][0]),
                                             max(times[m][0]),
                                             min(times[m][1]),
                                             max(times[m][1]))
                for m, _ in methods if m.startswith("seg")))
            os.unlink(vol_path)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(ram, ignore_errors=True)


if __name__ == "__main__":
    main()
