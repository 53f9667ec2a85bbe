# SPDX-License-Identifier: LGPL-3.0-or-later
"""TAP for the Python tests: results are gathered, then printed with the
plan; a failure prints its detail as a comment."""

results = []


def check(name, ok, detail=''):
    results.append((name, bool(ok), detail))


def finish():
    """Prints the plan and every result; the exit status."""
    print('1..%d' % len(results))
    for i, (name, ok, detail) in enumerate(results, 1):
        print('%s %d - %s' % ('ok' if ok else 'not ok', i, name))
        if not ok and detail:
            print('# ' + detail.replace('\n', '\n# '))
    return 0 if all(ok for _, ok, _ in results) else 1
