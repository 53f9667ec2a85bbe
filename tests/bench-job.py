#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-3.0-or-later
"""The whole job on the gegl command line, side by side with NumPy +
tinybrain doing the same, run by hand (not a test):

  SEG_TINYBRAIN=/path/to/tinybrain /usr/bin/python3 tests/bench-job.py \\
      [BUILD] [--lean | --installed] [--reps N] [--quick] [--jobs K,...]
      [--cold-memory]

Run it with Debian's /usr/bin/python3 (which has NumPy); the Python side of
the comparison runs in the same interpreter.

The jobs are the README's command lines, `gegl vol.npy -o out.npy [-- ops]`:
a copy; seg:countless-3d; seg:mode-pool 2×2 per slice; seg:sparse-average
2×2×2; a 3-level pyramid (three seg:countless-3d).  Each runs on two
volumes: the 512³ uint32 connectomics volume (512 MiB), and a 512³ uint64
volume (1 GiB) made from it for the run, (label << 32) | label: the same
shape and the same blocks, ties and background, so that its time per byte
against the u32 volume's shows what the label width alone costs, with all
eight bytes of a label in play.

Which gegl and module: the `gegl` program on PATH, with
  - by default, BUILD's module (BUILD: the build folder, default `build`),
    GEGL_PATH=BUILD/operations:<GEGL's plug-in folder>, as the README tells
    a user who has not installed it;
  - --lean: as `gegl-seg-lean gegl …` runs, with the environment that
    BUILD/tools/gegl-seg-lean gives its command: GEGL_PATH=BUILD/tools/
    lean-plug-ins (tools/meson.build: this build's module and the GEGL
    modules a volume pipeline needs) and glibc's malloc in huge pages;
  - --installed: no GEGL_PATH, GEGL's own folders (the installed module).
The start-up of the tiny copy is also shown for each of these three that
can run, so the module sets compare.  GEGL runs with its defaults except
GEGL_SWAP, which points into the temporary folder so that a swap file goes
with it; the peak size of that folder while gegl runs is reported.

The Python side of each job, in a fresh `python3 -c` process: np.load;
tinybrain.downsample_segmentation(v.T, (2, 2, 2)) (countless-3d),
(2, 2, 1) (mode-pool), (2, 2, 2) with num_mips=3, its last level
(pyramid); tinybrain.downsample_with_averaging(v.T, (2, 2, 2),
sparse=True) (sparse-average), whose sparse mode refuses uint32 and uint64,
so its NumPy path, downsample_with_averaging_numpy (float32 sums), stands
in; np.save.  `.T` of NumPy's C-order (z, y, x) array is tinybrain's
Fortran-order (x, y, z) view, without a copy.  The copy is np.load +
np.save alone: Python's I/O floor.  SEG_TINYBRAIN is the folder to put on
PYTHONPATH for `import tinybrain`; without it, or when the import fails,
only the copy has a Python column.

Measured: each command runs once untimed (warm-up; tinybrain's output
becomes the reference), then N times (median; spread min–max), gegl and
Python alternating so that noise on the shared machine hits both alike,
each run paired with the same command on a tiny 4×4×4 file of the same
dtype: its start-up (process start, GEGL or NumPy and tinybrain set-up,
exit).  Data path = median wall − median start-up, and GB/s = the input
volume's bytes / data path.  Peak RSS is /usr/bin/time's (%M), CPU time
(user + system) wait4's.  The Python process also times its load, compute
and save.  The input file is dropped from the page cache and read once
before its runs, as from disk, so every run finds it in the page cache,
both volumes alike (see read_through ()).  Every timed run gets memory that was freed
just before, as on a machine in steady use: on a VM that hands free
memory back to its host, touching memory again costs many times more
after a couple of seconds (class WarmMemory says how; --cold-memory
leaves the runs to it, and the report gives the cost of both).  The
machine's single-core memory bandwidth (NumPy on a 1 GiB array) is
measured at the start and the end, as a reference for GB/s.

Checked, every run: shape and dtype; the copy equals the input file byte
for byte; countless-3d, mode-pool and the pyramid equal tinybrain's output
(without tinybrain: shape and dtype only); sparse-average equals the
exact mean computed here (integer sums, rounded down, zeros left out, as
docs/semantics.md says).  tinybrain's NumPy averaging sums in float32,
which does not hold these labels exactly: how much of its output equals
the exact mean is reported beside its time.  A wrong output gets no
time.

The connectomics volume is looked for at $SEG_CONNECTOMICS, else at
../shared/data/connectomics512_zyx_u32.npy.gz beside the source tree
(.npy or .npy.gz); without it the benchmark is skipped (exit 0).
Temporary files go to a folder in $TMPDIR, removed at the end whatever
happens.  --quick: a 128³ crop of the volume (and its u64 form), one
repetition, for a smoke run (figures not meaningful).  With 5 repetitions
the run takes about 8 minutes on 2 cores and needs about 3 GiB of disk
and 4.5 GiB of memory.
"""
import argparse
import contextlib
import gzip
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np

import benchargs

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VOLUME = 'connectomics512_zyx_u32.npy.gz'
TINY = 4                     # side of the start-up volume
QUICK_SIDE = 128
CHUNK = 16 << 20             # bytes per read when files are read or compared
TIME = '/usr/bin/time'

# The Python side of one job; argv: job, input, output.  Prints its own
# times as JSON.  Only NumPy (and tinybrain) are imported, as a user's
# script would.
WORKER = r'''
import sys, time
t0 = time.perf_counter()
import json
import numpy as np
job, src, dst = sys.argv[1:]
if job != "copy":
    import tinybrain
t1 = time.perf_counter()
v = np.load(src)
t2 = time.perf_counter()
how = ""
if job == "copy":
    out = v
elif job == "countless":
    out = tinybrain.downsample_segmentation(v.T, (2, 2, 2))[0].T
elif job == "mode":
    out = tinybrain.downsample_segmentation(v.T, (2, 2, 1))[0].T
elif job == "pyramid":
    out = tinybrain.downsample_segmentation(v.T, (2, 2, 2), num_mips=3)[-1].T
else:
    try:
        out = tinybrain.downsample_with_averaging(v.T, (2, 2, 2),
                                                  sparse=True)[0].T
    except ValueError:
        how = "downsample_with_averaging_numpy"
        out = tinybrain.downsample.downsample_with_averaging_numpy(
            v.T, (2, 2, 2), sparse=True).T
t3 = time.perf_counter()
np.save(dst, out)
t4 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "load": t2 - t1, "compute": t3 - t2,
                  "save": t4 - t3, "how": how}))
'''


class Job:
    """One command line: its ops after `--` for a volume of depth d, the
    factors (z, y, x) of each of its levels, and its key for WORKER."""

    def __init__(self, key, title, factor, levels, op):
        self.key, self.title = key, title
        self.factor, self.levels, self.op = factor, levels, op

    def ops(self, depth):
        args = []
        for _ in range(self.levels if self.op else 0):
            args += [a.format(depth=depth) for a in self.op]
            depth = -(-depth // self.factor[0])
        return args

    def shape(self, shape, tool):
        for _ in range(self.levels):
            shape = tuple(-(-s // f) for s, f in zip(shape, self.factor))
        # seg:npy-save writes a stack of one slice that a pooling op made
        # as an (H, W) image (DESIGN.md: depth 1 is a plain image); only
        # the pyramid of the tiny file gets there.
        if tool == 'gegl' and self.op and shape[0] == 1:
            shape = shape[1:]
        return shape


JOBS = [
    Job('copy', 'copy', (1, 1, 1), 1, None),
    Job('countless', 'countless-3d', (2, 2, 2), 1,
        ['seg:countless-3d', 'depth={depth}']),
    Job('mode', 'mode-pool 2x2', (1, 2, 2), 1,
        ['seg:mode-pool', 'depth={depth}']),
    Job('average', 'sparse-avg 2x2x2', (2, 2, 2), 1,
        ['seg:sparse-average', 'factor-z=2', 'depth={depth}']),
    Job('pyramid', 'pyramid x3', (2, 2, 2), 3,
        ['seg:countless-3d', 'depth={depth}']),
]


class Run:
    """One finished process: wall time, peak RSS and CPU time, exit status,
    output, and the peak size of GEGL's swap folder."""

    def __init__(self, wall, rss, usage, status, stdout, stderr, swap):
        self.wall, self.rss = wall, rss
        self.cpu = usage.ru_utime + usage.ru_stime
        self.status = status
        self.stdout, self.stderr, self.swap = stdout, stderr, swap


def folder_bytes(folder):
    total = 0
    for entry in os.scandir(folder):
        try:
            total += entry.stat().st_size
        except FileNotFoundError:
            pass
    return total


def run(argv, env, work, swap_dir=None):
    """Runs argv under /usr/bin/time, for its peak RSS, and waits for it
    with wait4, for its CPU time; while it runs, polls swap_dir's size.
    (wait4's own ru_maxrss will not do: Python starts children with
    vfork, and the kernel counts the peak RSS of the memory a process
    leaves at exec, here this script's, in the child's.)"""
    peak = [0]
    stop = threading.Event()
    if swap_dir:
        def poll():
            while not stop.wait(0.05):
                peak[0] = max(peak[0], folder_bytes(swap_dir))
        poller = threading.Thread(target=poll, daemon=True)
    out_path = os.path.join(work, 'stdout.txt')
    err_path = os.path.join(work, 'stderr.txt')
    rss_path = os.path.join(work, 'rss.txt')
    with open(out_path, 'wb') as out, open(err_path, 'wb') as err:
        start = time.perf_counter()
        child = subprocess.Popen([TIME, '-f', '%M', '-o', rss_path] + argv,
                                 env=env, stdout=out, stderr=err)
        if swap_dir:
            poller.start()
        try:
            _, status, usage = os.wait4(child.pid, 0)
        except BaseException:
            child.kill()
            child.wait()
            raise
        wall = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)
        stop.set()
    if swap_dir:
        poller.join()
    with open(out_path, errors='replace') as f:
        stdout = f.read()
    with open(err_path, errors='replace') as f:
        stderr = f.read()
    with open(rss_path) as f:      # after "Command exited with …", if any
        rss = int(f.read().split()[-1]) * 1024
    return Run(wall, rss, usage, child.returncode, stdout, stderr, peak[0])


def files_equal(a, b):
    if os.path.getsize(a) != os.path.getsize(b):
        return False
    with open(a, 'rb') as fa, open(b, 'rb') as fb:
        while True:
            x, y = fa.read(CHUNK), fb.read(CHUNK)
            if x != y:
                return False
            if not x:
                return True


def read_through(path):
    """Puts a file in the page cache as reading it from disk does: written
    out, dropped from the cache, then read once.  How a file came into the
    cache decides how its pages are grouped there (a file written through
    a memory map, as the u64 volume is, holds small ones), and so how many
    page faults a program that maps it takes: both volumes start alike."""
    with open(path, 'rb') as f:
        os.fsync(f.fileno())
        os.posix_fadvise(f.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)
        while f.read(CHUNK):
            pass


class Verdict:
    """ok: the output may be timed; text: what was found."""

    def __init__(self, ok, text):
        self.ok, self.text = ok, text


def check(path, shape, dtype, ref, must_equal=True):
    """An output against its expected shape and dtype and, when ref is a
    path, against that file (the same bytes, else the same array)."""
    try:
        out = np.load(path, mmap_mode='r')
    except (OSError, ValueError) as e:
        return Verdict(False, 'unreadable: %s' % e)
    if out.shape != shape or out.dtype != dtype:
        return Verdict(False, 'is %s %s, not %s %s'
                       % (out.shape, out.dtype, shape, np.dtype(dtype)))
    if ref is None:
        return Verdict(True, 'shape and dtype right, values unchecked')
    if files_equal(path, ref):
        return Verdict(True, 'identical file')
    want = np.load(ref, mmap_mode='r')
    if np.array_equal(out, want):
        return Verdict(True, 'equal array (headers differ)')
    same = np.count_nonzero(out == want) / out.size
    return Verdict(not must_equal, '%.2f %% of voxels equal' % (100 * same))


def exact_sparse_average(src, dst):
    """The 2×2×2 sparse mean of docs/semantics.md for an unsigned volume
    of even sides: zeros left out of sum and count, sums exact (the two
    32-bit halves summed apart, so u64 sums do not overflow), the mean
    rounded down, a block of zeros 0."""
    v = np.load(src, mmap_mode='r')
    d, h, w = v.shape
    assert d % 2 == 0 and h % 2 == 0 and w % 2 == 0
    out = np.lib.format.open_memmap(dst, mode='w+', dtype=v.dtype,
                                    shape=(d // 2, h // 2, w // 2))
    axes = (1, 3, 5)
    half = np.uint64(32)
    for z in range(0, d, 32):
        s = np.asarray(v[z:z + 32], np.uint64).reshape(
            -1, 2, h // 2, 2, w // 2, 2)
        count = np.maximum(np.count_nonzero(s, axis=axes), 1).astype(
            np.uint64)
        hi = (s >> half).sum(axis=axes, dtype=np.uint64)
        lo = (s & np.uint64(0xffffffff)).sum(axis=axes, dtype=np.uint64)
        q, r = np.divmod(hi, count)
        mean = (q << half) + ((r << half) + lo) // count
        out[z // 2:z // 2 + len(mean)] = mean
    out.flush()
    del out


class WarmMemory:
    """Memory this script keeps touched and lends to each timed run.

    On a VM whose balloon driver reports free memory to the host (virtio
    free page reporting), memory that has been free for about 2 s goes
    back to the host, and the next process to touch it waits for the host
    on every page: on the development VM 0.2-0.4 GB/s, against 6-9 GB/s
    for memory freed just before.  A run would then be timed on how
    long ago the memory it gets was freed, and a tool that allocates more
    (np.load's array) would pay most.  So each timed run gets memory just
    freed: before it, this frees as much as the run needs (what its
    warm-up used: peak RSS, output file, swap file); right after it and
    its check, it touches as much again, taking back the pages the run
    has just freed."""

    PIECE = 32 << 20

    def __init__(self, enabled):
        self.enabled = enabled
        self.pieces = []

    def hold(self, nbytes):
        while self.enabled and len(self.pieces) * self.PIECE < nbytes:
            self.pieces.append(np.ones(self.PIECE // 8, np.uint64))

    @contextlib.contextmanager
    def lent(self, nbytes):
        total = max(len(self.pieces) * self.PIECE, nbytes)
        self.hold(total)
        n = -(-nbytes // self.PIECE) if self.enabled else 0
        del self.pieces[len(self.pieces) - n:]
        try:
            yield
        finally:
            self.hold(total)


def first_touch(nbytes):
    """GB/s at which a fresh array of nbytes is touched (np.ones): after
    3 s without allocating (pages the VM may have given back), then again
    at once (pages just freed)."""
    rates = []
    for pause in (3, 0):
        time.sleep(pause)
        t = time.perf_counter()
        a = np.ones(nbytes // 8, np.uint64)
        rates.append(a.nbytes / (time.perf_counter() - t) / 1e9)
        del a
    return rates


def memory_bandwidth(nbytes, reps):
    """Single-core read (a.sum()) and copy (np.copyto, bytes copied)
    bandwidth of NumPy on an array of nbytes, medians in GB/s."""
    a = np.ones(nbytes // 8, np.uint64)
    b = np.ones_like(a)
    reads, copies = [], []
    for _ in range(reps):
        t = time.perf_counter()
        a.sum()
        reads.append(a.nbytes / (time.perf_counter() - t) / 1e9)
        t = time.perf_counter()
        np.copyto(b, a)
        copies.append(a.nbytes / (time.perf_counter() - t) / 1e9)
    return statistics.median(reads), statistics.median(copies)


def gegl_message_lines(stderr):
    """GEGL's messages without process id and time, blank lines dropped."""
    lines = []
    for line in stderr.splitlines():
        line = re.sub(r'^\(gegl:\d+\): ', '', line.strip())
        line = re.sub(r'\*\*: [\d:.]+: ', '**: ', line)
        if line:
            lines.append(line)
    return lines


def fail(message):
    print('bench-job: ' + message, file=sys.stderr)
    sys.exit(1)


class Bench:
    def __init__(self, opts, work):
        self.opts, self.work = opts, work
        self.reps = opts.reps or (1 if opts.quick else 5)
        self.swap = os.path.join(work, 'gegl-swap')
        os.mkdir(self.swap)
        self.messages = {}       # GEGL message → number of runs
        self.notes = []
        self.rows = []           # (volume, job, tool, stats), in order
        self.memory = WarmMemory(not opts.cold_memory)
        self.setup_gegl()
        self.setup_python()

    # -- set-up -------------------------------------------------------------

    def setup_gegl(self):
        if shutil.which('gegl') is None:
            fail('no gegl program on PATH (Debian: apt-get install gegl)')
        if not os.access(TIME, os.X_OK):
            fail('needs %s, for peak memory (Debian: apt-get install time)'
                 % TIME)
        try:
            pluginsdir = subprocess.run(
                ['pkg-config', '--variable=pluginsdir', 'gegl-0.4'],
                check=True, capture_output=True, text=True).stdout.strip()
            self.gegl_version = subprocess.run(
                ['pkg-config', '--modversion', 'gegl-0.4'],
                check=True, capture_output=True, text=True).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            fail('pkg-config cannot find gegl-0.4 (apt-get install '
                 'libgegl-dev pkg-config)')
        base = dict(os.environ, GEGL_SWAP=self.swap)
        base.pop('GEGL_PATH', None)
        ops = os.path.join(self.opts.build, 'operations')
        lean = os.path.join(self.opts.build, 'tools', 'lean-plug-ins')
        # name → (what it is, environment); the chosen one is self.mode.
        self.setups = {}
        if os.path.isfile(os.path.join(ops, 'gegl-seg.so')):
            self.setups['default'] = (
                'GEGL_PATH=BUILD/operations:' + pluginsdir,
                dict(base, GEGL_PATH=ops + ':' + pluginsdir))
        script = os.path.join(self.opts.build, 'tools', 'gegl-seg-lean')
        if os.path.isdir(lean) and os.path.isfile(script):
            # The environment the script gives its command: the folder,
            # and glibc's malloc in huge pages.
            env = dict(item.split('=', 1) for item in subprocess.run(
                [script, 'env', '-0'], env=base, check=True,
                capture_output=True, text=True).stdout.split('\0')
                if '=' in item)
            self.setups['lean'] = (
                'gegl-seg-lean: GEGL_PATH=BUILD/tools/lean-plug-ins, '
                'GLIBC_TUNABLES=' + env.get('GLIBC_TUNABLES', ''), env)
        installed = subprocess.run(['gegl', '--exists', 'seg:npy-load'],
                                   env=base, capture_output=True)
        if installed.returncode == 0:
            self.setups['installed'] = ('no GEGL_PATH (installed module)',
                                        base)
        self.mode = ('installed' if self.opts.installed
                     else 'lean' if self.opts.lean else 'default')
        if self.mode not in self.setups:
            if self.mode == 'installed':
                fail('no gegl-seg module is installed (gegl --exists '
                     'seg:npy-load fails without GEGL_PATH)')
            fail('no module at %s/gegl-seg.so: build it first (meson setup '
                 'BUILD --buildtype=release && ninja -C BUILD)' % ops)
        if self.mode == 'default' and os.path.exists(
                os.path.join(pluginsdir, 'gegl-seg.so')):
            self.notes.append('GEGL\'s folder holds an installed gegl-seg.so '
                              'too, which GEGL also loads: --lean avoids it')

    def setup_python(self):
        self.python = sys.executable
        self.numpy_env = dict(os.environ)
        self.tinybrain = None     # why not, when it is unavailable
        path = os.environ.get('SEG_TINYBRAIN')
        if not path:
            self.tinybrain_why = 'SEG_TINYBRAIN is not set'
            return
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(
            p for p in (path, os.environ.get('PYTHONPATH')) if p))
        probe = subprocess.run(
            [self.python, '-c', 'import tinybrain, tinybrain.accelerated; '
             'print(tinybrain.__version__, tinybrain.__file__)'],
            env=env, capture_output=True, text=True)
        if probe.returncode != 0:
            last = (probe.stderr.strip().splitlines() or ['?'])[-1]
            self.tinybrain_why = ('tinybrain is not importable from %s: %s'
                                  % (path, last))
            return
        self.tinybrain = probe.stdout.strip()
        self.tinybrain_env = env

    # -- one job ------------------------------------------------------------

    def gegl_argv(self, job, src, dst, depth):
        ops = job.ops(depth)
        return ['gegl', src, '-o', dst] + (['--'] + ops if ops else [])

    def tools(self, job):
        """(tool name, argv maker, environment) of each tool for job."""
        tools = [('gegl', lambda s, d, depth: self.gegl_argv(job, s, d, depth),
                  self.setups[self.mode][1])]
        worker = (lambda s, d, depth:
                  [self.python, '-c', WORKER, job.key, s, d])
        if job.key == 'copy':
            tools.append(('numpy', worker, self.numpy_env))
        elif self.tinybrain:
            tools.append(('tinybrain', worker, self.tinybrain_env))
        return tools

    def gegl_messages(self, tool, result):
        if tool != 'gegl':
            return
        for line in set(gegl_message_lines(result.stderr)):
            self.messages[line] = self.messages.get(line, 0) + 1

    def one(self, tool, argv, env, dst, shape, dtype, ref, must_equal=True,
            keep=False):
        """Runs one command and checks its output dst (see check ()), which
        is removed unless keep; returns (run, verdict)."""
        result = run(argv, env, self.work,
                     self.swap if tool == 'gegl' else None)
        self.gegl_messages(tool, result)
        result.times = None
        if result.status != 0:
            verdict = Verdict(False, 'exit status %d: %s' % (
                result.status, result.stderr.strip()[-300:]))
        else:
            verdict = check(dst, shape, dtype, ref, must_equal)
            if tool != 'gegl':
                result.times = json.loads(result.stdout)
        if os.path.exists(dst) and not keep:
            os.unlink(dst)
        return result, verdict

    def job(self, vol, job):
        """Warm-up, then the interleaved repetitions of every tool on one
        job; adds a row of figures per tool."""
        tools = self.tools(job)
        print('bench-job: %s, %s …' % (vol.name, job.title), file=sys.stderr,
              flush=True)
        tiny_out = os.path.join(self.work, 'out-tiny.npy')
        ref = {'copy': vol.path, 'average': vol.average_ref}.get(job.key)
        made = None       # the reference that tinybrain's warm-up makes
        if ref is None and self.tinybrain:
            made = os.path.join(self.work, 'ref-%s.npy' % job.key)
        stats = {name: {'runs': [], 'tiny': [], 'verdicts': []}
                 for name, _, _ in tools}

        out_bytes = (np.prod(job.shape(vol.shape, 'gegl'))
                     * vol.dtype.itemsize)
        need = {}         # tool → memory its runs take (see WarmMemory)

        def measure(name, argv_of, env, warm_up):
            keep = warm_up and made is not None and name == 'tinybrain'
            dst = made if keep else os.path.join(self.work,
                                                 'out-%s.npy' % name)
            with self.memory.lent(need.get(name, 0)):
                tiny, tiny_verdict = self.one(
                    name, argv_of(vol.tiny, tiny_out, TINY), env, tiny_out,
                    job.shape((TINY,) * 3, name), vol.dtype, None)
                big, verdict = self.one(
                    name, argv_of(vol.path, dst, vol.shape[0]), env, dst,
                    job.shape(vol.shape, name), vol.dtype,
                    None if keep else ref or made,
                    must_equal=not (name == 'tinybrain'
                                    and job.key == 'average'),
                    keep=keep)
            if not tiny_verdict.ok:
                verdict = Verdict(False, 'tiny file: ' + tiny_verdict.text)
            stats[name]['verdicts'].append(verdict)
            if warm_up:
                need[name] = (tiny.rss + big.rss + out_bytes + big.swap
                              + (64 << 20))
            else:
                stats[name]['runs'].append(big)
                stats[name]['tiny'].append(tiny)

        # The warm-up runs Python first: tinybrain's output is the
        # reference of every later run.
        for tool in reversed(tools):
            measure(*tool, warm_up=True)
        for rep in range(self.reps):
            for tool in tools if rep % 2 == 0 else reversed(tools):
                measure(*tool, warm_up=False)
        for name, _, _ in tools:
            self.rows.append((vol, job, name, stats[name]))
        if made and os.path.exists(made):
            os.unlink(made)

    # -- volumes -------------------------------------------------------------

    def volumes(self, source):
        """The u32 volume (the connectomics volume, or its --quick crop)
        and the u64 one made from it, with their tiny start-up files."""
        u32 = os.path.join(self.work, 'u32.npy')
        opener = gzip.open if source.endswith('.gz') else open
        with opener(source, 'rb') as f, open(u32, 'wb') as g:
            shutil.copyfileobj(f, g, CHUNK)
        if self.opts.quick:
            crop = np.load(u32, mmap_mode='r')[:QUICK_SIDE, :QUICK_SIDE,
                                                 :QUICK_SIDE]
            np.save(u32 + '.crop.npy', np.ascontiguousarray(crop))
            del crop
            os.replace(u32 + '.crop.npy', u32)
        v = np.load(u32, mmap_mode='r')
        if v.dtype != np.uint32 or v.ndim != 3:
            fail('%s is %s %s, not a 3-D uint32 volume'
                 % (source, v.shape, v.dtype))
        u64 = os.path.join(self.work, 'u64.npy')
        w = np.lib.format.open_memmap(u64, mode='w+', dtype='<u8',
                                      shape=v.shape)
        for z in range(0, v.shape[0], 64):
            s = np.asarray(v[z:z + 64], np.uint64)
            w[z:z + 64] = (s << np.uint64(32)) | s
        w.flush()
        del w, v
        side = '%d³' % QUICK_SIDE if self.opts.quick else '512³'
        return [Volume(self.work, 'u32 ' + side, u32),
                Volume(self.work, 'u64 ' + side, u64)]

    def startup_by_module_set(self, vol):
        """The tiny copy under each module set that can run, interleaved."""
        walls = {name: [] for name in self.setups}
        rss = {name: 0 for name in self.setups}
        dst = os.path.join(self.work, 'out-tiny.npy')
        for rep in range(self.reps + 1):
            for name, (_, env) in self.setups.items():
                with self.memory.lent(128 << 20):
                    result = run(['gegl', vol.tiny, '-o', dst], env,
                                 self.work)
                if result.status != 0 or not os.path.exists(dst):
                    fail('gegl failed on the tiny file with %s: %s'
                         % (name, result.stderr))
                os.unlink(dst)
                if rep:
                    walls[name].append(result.wall)
                    rss[name] = max(rss[name], result.rss)
        print('start-up: `gegl tiny.npy -o out.npy` (4×4×4 u32) by module '
              'set, median of %d:' % self.reps)
        for name, (what, _) in self.setups.items():
            w = walls[name]
            print('  %-9s %6.3f s (%.3f–%.3f)  peak RSS %5.1f MiB  %s%s'
                  % (name, statistics.median(w), min(w), max(w),
                     rss[name] / 2**20, what,
                     '  <- used below' if name == self.mode else ''))
        if 'installed' not in self.setups:
            print('  installed: no gegl-seg module in GEGL\'s own folders')
        print()


class Volume:
    def __init__(self, work, name, path):
        self.name, self.path = name, path
        v = np.load(path, mmap_mode='r')
        self.shape, self.dtype = v.shape, v.dtype
        self.bytes = v.nbytes
        self.tiny = os.path.join(work, 'tiny-%s.npy' % v.dtype.name)
        np.save(self.tiny, np.ascontiguousarray(v[:TINY, :TINY, :TINY]))
        del v
        self.average_ref = os.path.join(
            work, 'exact-average-%s.npy' % self.dtype.name)


# -- the report ---------------------------------------------------------------

def median(values):
    return statistics.median(values) if values else float('nan')


def summarise(vol, stats):
    """The figures of one (volume, job, tool), or None when any of its
    outputs was wrong."""
    if not all(v.ok for v in stats['verdicts']):
        return None
    runs, tiny = stats['runs'], stats['tiny']
    walls = [r.wall for r in runs]
    wall = median(walls)
    startup = median([r.wall for r in tiny])
    data = wall - startup
    peak = max(r.rss for r in runs)
    return {
        'wall': wall, 'min': min(walls), 'max': max(walls),
        'startup': startup, 'data': data,
        'gbs': vol.bytes / data / 1e9 if data > 0 else None,
        'rss': peak, 'rss_vol': peak / vol.bytes,
        'cpu': median([r.cpu / r.wall for r in runs]),
        'swap': max(r.swap for r in runs),
        'split': {k: median([r.times[k] for r in runs])
                  for k in ('import', 'load', 'compute', 'save')}
        if runs and runs[0].times else None,
        'inside': median([sum(r.times[k] for k in ('import', 'load',
                                                   'compute', 'save'))
                          for r in runs if r.times]),
        'outside': median([r.wall - sum(r.times[k] for k in (
            'import', 'load', 'compute', 'save')) for r in runs if r.times]),
        'how': {r.times['how'] for r in runs if r.times} - {''},
    }


def fmt_ratio(a, b):
    """a ÷ b, or a dash where a time is missing or not above 0 (a data
    path can be, in --quick runs)."""
    if a is None or b is None or a <= 0 or b <= 0:
        return '     —'
    return '%5.2f×' % (a / b)


def report(bench, bandwidths):
    figures = {(vol.name, job.key, tool): summarise(vol, stats)
               for vol, job, tool, stats in bench.rows}

    print('%-9s %-16s %-9s | %7s %13s | %7s %7s %6s | %7s %5s %4s %7s | %s'
          % ('volume', 'job', 'tool', 'wall s', 'spread', 'start s',
             'data s', 'GB/s', 'RSS MiB', 'xvol', 'cpu', 'swapMiB', 'output'))
    last = None
    for vol, job, tool, stats in bench.rows:
        if last and last != (vol.name, job.key):
            print()
        last = (vol.name, job.key)
        f = figures[(vol.name, job.key, tool)]
        verdict = stats['verdicts'][-1] if all(
            v.ok for v in stats['verdicts']) else next(
            v for v in stats['verdicts'] if not v.ok)
        head = '%-9s %-16s %-9s' % (vol.name, job.title, tool)
        if f is None:
            print('%s | WRONG OUTPUT, no time: %s' % (head, verdict.text))
            continue
        print('%s | %7.3f %6.3f–%6.3f | %7.3f %7.3f %6s | %7.0f %5.2f '
              '%4.2f %7s | %s'
              % (head, f['wall'], f['min'], f['max'], f['startup'],
                 f['data'], '—' if f['gbs'] is None else '%.2f' % f['gbs'],
                 f['rss'] / 2**20, f['rss_vol'],
                 f['cpu'], '%.0f' % (f['swap'] / 2**20)
                 if tool == 'gegl' else '', verdict.text))

    python_rows = [(vol, job, tool) for vol, job, tool, _ in bench.rows
                   if tool != 'gegl'
                   and figures[(vol.name, job.key, tool)] is not None]
    if python_rows:
        print('\nInside the Python process (medians, s): its own imports, '
              'np.load, compute, np.save, their sum;\n"outside" = whole '
              'wall − that sum (interpreter start, exit)')
        print('%-9s %-16s %-9s | %7s %7s %7s %7s | %7s %7s'
              % ('volume', 'job', 'tool', 'import', 'load', 'compute',
                 'save', 'inside', 'outside'))
        for vol, job, tool in python_rows:
            f = figures[(vol.name, job.key, tool)]
            s = f['split']
            print('%-9s %-16s %-9s | %7.3f %7.3f %7.3f %7.3f | %7.3f %7.3f'
                  % (vol.name, job.title, tool, s['import'], s['load'],
                     s['compute'], s['save'], f['inside'], f['outside']))

    print('\nRatios of times (gegl ÷ Python: above 1, gegl takes longer; '
          'Python: tinybrain, numpy for the copy).\nfloor: the data path '
          'of np.load + np.save of the same volume (the numpy copy row)')
    print('%-9s %-16s | %10s %10s | %11s %11s'
          % ('volume', 'job', 'whole job', 'data path', 'gegl÷floor',
             'Python÷floor'))
    names = []
    for vol, job, tool, _ in bench.rows:
        if tool != 'gegl':
            continue
        names.append(vol.name)
        g = figures[(vol.name, job.key, 'gegl')]
        p = (figures.get((vol.name, job.key, 'tinybrain'))
             or figures.get((vol.name, job.key, 'numpy')))
        floor = figures.get((vol.name, 'copy', 'numpy'))
        print('%-9s %-16s | %10s %10s | %11s %11s'
              % (vol.name, job.title,
                 fmt_ratio(g and g['wall'], p and p['wall']),
                 fmt_ratio(g and g['data'], p and p['data']),
                 fmt_ratio(g and g['data'], floor and floor['data']),
                 fmt_ratio(p and p['data'], floor and floor['data'])))
    names = list(dict.fromkeys(names))
    if len(names) == 2:
        small, large = names
        sizes = {vol.name: vol.bytes for vol, _, _, _ in bench.rows}
        print('\nTime per byte, %s ÷ %s (data path; 1: the same speed '
              'per byte)' % (large, small))
        for job in JOBS:
            cells = []
            for tool in ('gegl', 'tinybrain', 'numpy'):
                a = figures.get((large, job.key, tool))
                b = figures.get((small, job.key, tool))
                if a and b:
                    cells.append('%s %s' % (tool, fmt_ratio(
                        a['data'] / sizes[large], b['data'] / sizes[small])
                        .strip()))
            print('  %-16s %s' % (job.title, '   '.join(cells)))
    print('\nMemory bandwidth, one core (NumPy, %d MiB): read %.1f GB/s, '
          'copy %.1f GB/s at the start; %.1f and %.1f at the end'
          % (bandwidths[0], *bandwidths[1], *bandwidths[2]))
    print('First touch of fresh memory (np.ones, %d MiB): %.2f GB/s after '
          '3 s without allocating, %.2f GB/s just freed;\n%s'
          % (bandwidths[0], *bandwidths[3],
             'every run got memory just freed (WarmMemory)'
             if bench.memory.enabled else
             '--cold-memory: every run took whatever memory it was given'))

    hows = set().union(*(f['how'] for f in figures.values() if f))
    if hows:
        print('tinybrain.downsample_with_averaging refused sparse mode for '
              'these dtypes (ValueError: only uint8 and uint16):\nthe '
              'Python sparse-avg rows ran %s, float32 sums.' % ', '.join(hows))
    if bench.messages:
        print('\nGEGL said (on stderr; the number of gegl runs that said '
              'it):')
        for line, n in sorted(bench.messages.items(), key=lambda i: -i[1]):
            print('  %3d× %s' % (n, line))
    for note in bench.notes:
        print('note: ' + note)
    wrong = [k for k, f in figures.items() if f is None]
    if wrong:
        print('\nWRONG outputs: %s' % ', '.join('/'.join(k) for k in wrong))
    return not wrong


def main():
    parser = argparse.ArgumentParser(
        description='The whole job: gegl command lines against NumPy + '
        'tinybrain (see the header of this file).')
    parser.add_argument('build', nargs='?', default=os.path.join(ROOT,
                                                                 'build'),
                        help='the build folder (default: build)')
    which = parser.add_mutually_exclusive_group()
    which.add_argument('--lean', action='store_true',
                       help='GEGL_PATH: BUILD/tools/lean-plug-ins, as '
                       'gegl-seg-lean sets it')
    which.add_argument('--installed', action='store_true',
                       help='no GEGL_PATH: the installed module')
    parser.add_argument('--reps', type=int, default=None,
                        help='repetitions (default 5; --quick: 1)')
    parser.add_argument('--quick', action='store_true',
                        help='a 128³ crop and one repetition: a smoke run')
    parser.add_argument('--jobs', default=None,
                        help='only these jobs, by key, comma-separated: '
                        + ','.join(j.key for j in JOBS))
    parser.add_argument('--cold-memory', action='store_true',
                        help='lend the runs no memory just freed (see '
                        'WarmMemory)')
    opts = parser.parse_args()
    if opts.reps is not None and opts.reps < 1:
        parser.error('--reps must be at least 1')
    benchargs.check_machine()
    opts.build = os.path.abspath(opts.build)
    if opts.jobs:
        keys = opts.jobs.split(',')
        unknown = set(keys) - {j.key for j in JOBS}
        if unknown:
            parser.error('unknown jobs: %s' % ', '.join(sorted(unknown)))
        JOBS[:] = [j for j in JOBS if j.key in keys]

    source = os.environ.get('SEG_CONNECTOMICS') or os.path.join(
        ROOT, '..', 'shared', 'data', VOLUME)
    if not os.path.isfile(source):
        print('bench-job: no volume at %s (set SEG_CONNECTOMICS); skipped'
              % source)
        return 0

    work = tempfile.mkdtemp(prefix='gegl-seg-bench-job-')
    if os.path.commonpath([os.path.realpath(work), ROOT]) == ROOT:
        shutil.rmtree(work)
        fail('TMPDIR is inside the source tree; set it elsewhere')

    def terminate(signum, _frame):
        raise SystemExit(128 + signum)
    signal.signal(signal.SIGTERM, terminate)
    signal.signal(signal.SIGHUP, terminate)
    try:
        return 0 if bench(opts, work, source) else 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


def bench(opts, work, source):
    b = Bench(opts, work)
    started = time.time()
    bw_bytes = (256 if opts.quick else 1024) << 20
    print('bench-job: the whole job, gegl against NumPy + tinybrain; '
          '%d repetition%s (median, spread min–max)%s'
          % (b.reps, '' if b.reps == 1 else 's',
             ', --quick: figures not meaningful' if opts.quick else ''))
    print('machine: %s, %d cores; load average %.2f at the start'
          % (cpu_model(), os.cpu_count(), os.getloadavg()[0]))
    print('gegl: %s (GEGL %s), %s%s'
          % (shutil.which('gegl'), b.gegl_version, b.setups[b.mode][0],
             '' if b.mode == 'installed' else '; BUILD=' + opts.build))
    print('python: %s %s, NumPy %s; tinybrain %s'
          % (b.python, sys.version.split()[0], np.__version__,
             b.tinybrain or '— (%s)' % b.tinybrain_why))
    touch = first_touch(bw_bytes)
    bandwidth_start = memory_bandwidth(bw_bytes, b.reps)

    volumes = b.volumes(source)
    print('volumes: %s; %s = (u32 << 32) | u32; input read once before its '
          'runs from disk (page cache)\n' % (', '.join(
              '%s %s (%.0f MiB)' % (v.name, v.shape, v.bytes / 2**20)
              for v in volumes), volumes[1].name))
    b.startup_by_module_set(volumes[0])
    for vol in volumes:
        exact_sparse_average(vol.path, vol.average_ref)
        read_through(vol.path)
        for job in JOBS:
            b.job(vol, job)
        os.unlink(vol.average_ref)
        os.unlink(vol.path)
    bandwidth_end = memory_bandwidth(bw_bytes, b.reps)
    ok = report(b, (bw_bytes >> 20, bandwidth_start, bandwidth_end, touch))
    print('\nload average %.2f at the end; the run took %.0f s'
          % (os.getloadavg()[0], time.time() - started))
    return ok


def cpu_model():
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return 'unknown CPU'


if __name__ == '__main__':
    sys.exit(main())
