# SPDX-License-Identifier: LGPL-3.0-or-later
"""The arguments every benchmark script takes:

  [BUILD] [--reps N] [--quick] [--OPTION VALUE …]

BUILD defaults to build/ beside tests/; --quick means small volumes and
one repetition (reps default 3)."""
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def parse(argv, options=()):
    """(build folder, reps, quick, {option: value or None}) from argv (the
    arguments after the program's name); options name the --OPTIONs that
    take a value, besides --reps."""
    takes_value = ("--reps",) + tuple("--" + o for o in options)
    quick = "--quick" in argv
    reps = 1 if quick else 3
    if "--reps" in argv:
        reps = int(argv[argv.index("--reps") + 1])
    values = {o: argv[argv.index("--" + o) + 1] if "--" + o in argv else None
              for o in options}
    words = [a for i, a in enumerate(argv) if not a.startswith("--") and
             (i == 0 or argv[i - 1] not in takes_value)]
    build = os.path.abspath(words[0] if words else os.path.join(ROOT, "build"))
    return build, reps, quick, values


def busy_cores(seconds=1.0):
    """How many cores other programs kept busy over `seconds`, while this
    process sleeps, from /proc/stat; None where it cannot be read."""
    import time

    def busy():
        with open("/proc/stat") as f:
            # user nice system idle iowait irq softirq steal
            ticks = [int(x) for x in f.readline().split()[1:9]]
        return sum(ticks) - ticks[3] - ticks[4]

    try:
        before = busy()
        time.sleep(seconds)
        after = busy()
    except (OSError, ValueError, IndexError):
        return None
    return (after - before) / os.sysconf("SC_CLK_TCK") / seconds


def check_machine():
    """Warns when other programs keep part of the machine busy: on 2
    cores, a busy core slows the benchmark's own through the memory and
    the caches they share, and nothing in the figures would show it."""
    busy = busy_cores()
    if busy is not None and busy > 0.25:
        print("warning: other programs kept %.2f of this machine's %d "
              "cores busy in the second before this run; its figures will "
              "be low" % (busy, os.cpu_count()))


def seconds_of(script, args, env, failure):
    """The "seconds" that `script --child-mode …` (args, strings) prints as
    JSON, run by this Python in a fresh process with env; exits with
    failure when the child fails."""
    import json
    import subprocess
    import sys
    out = subprocess.run([sys.executable, script] + list(args),
                         stdout=subprocess.PIPE, env=env)
    if out.returncode != 0:
        sys.exit(failure)
    return json.loads(out.stdout)["seconds"]


def api_env(build, env):
    """env for a child that imports the gegl_seg package from the source
    tree: its graphs start from gegl:buffer-source, one of GEGL's own
    plug-ins that the build links beside the tests."""
    return dict(env, GEGL_PATH=os.pathsep.join([
        os.path.join(build, "operations"),
        os.path.join(build, "tests", "gegl-plugins")]))


def api_times(call, reps, threads=1):
    """Seconds of reps runs of call (gegl_seg), after one not counted,
    with the gegl_seg package of the source tree and `threads` GEGL
    threads (0: GEGL's default, one per core)."""
    import sys
    sys.path.insert(0, os.path.join(ROOT, "python"))
    import gegl_seg
    from gegl_seg import _gegl
    if threads > 0:
        _gegl.init().config().props.threads = threads
    return warm_times(lambda: call(gegl_seg), reps)


def warm_times(call, reps):
    """Seconds of reps runs of call (), after one not counted (a process's
    first run pays for its fresh memory and its start-up)."""
    import time
    times = []
    for _ in range(reps + 1):
        t = time.perf_counter()
        call()
        times.append(time.perf_counter() - t)
    return times[1:]


def read_times(build, path, reps):
    """Seconds of reps passes over the bytes of the .npy volume at path,
    in memory, in C (BUILD/tests/bench-kernel read): the memory's read
    bandwidth, the floor of any method.  A first pass, which pays for the
    first touch of the memory, is not counted."""
    import subprocess
    program = os.path.join(build, "tests", "bench-kernel")
    out = subprocess.run([program, "read", path, str(reps + 1)],
                         stdout=subprocess.PIPE, check=True)
    return [float(x) for x in out.stdout.split()][1:]
