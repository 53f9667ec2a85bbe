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
