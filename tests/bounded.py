# SPDX-License-Identifier: LGPL-3.0-or-later
"""Commands the Python tests run, with a time limit that holds for every
process a command starts: subprocess.run's own timeout kills only the
process it started, and a shell's child (or GIMP's plug-ins) would go on
running, a `gegl` that spins would hold a core for good."""
import os
import signal
import subprocess


def run(args, timeout, **kwargs):
    """subprocess.run (args, stdout and stderr captured as text, **kwargs)
    in a process group of its own: after `timeout` seconds the whole group
    is killed, and the result's returncode is -SIGKILL with a line saying
    so at the end of its stderr."""
    with subprocess.Popen(args, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True,
                          start_new_session=True, **kwargs) as process:
        try:
            out, err = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            out, err = process.communicate()
            return subprocess.CompletedProcess(
                args, -signal.SIGKILL, out,
                err + '\n(killed after %g s, with every process it '
                'started)\n' % timeout)
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
    return subprocess.CompletedProcess(args, process.returncode, out, err)
