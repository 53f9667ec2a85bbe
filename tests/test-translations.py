#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-3.0-or-later
"""The translations: every catalogue of po/LINGUAS passes msgfmt --check
with every message translated, and the module, loaded in a process whose
LANGUAGE is that language, gives GEGL's keys and property names in it: the
op titles, descriptions and property nicks that GIMP shows are the
catalogue's translations of the English ones (descriptions never the
English; a name such as "Countless 3D" may stay).  The
catalogues are the build's (GEGL_SEG_LOCALEDIR).  Prints TAP."""
import gettext
import locale
import os
import re
import subprocess
import sys

SOURCE = os.environ['SEG_SOURCE_ROOT']
LOCALEDIR = os.environ['GEGL_SEG_LOCALEDIR']

# What each language is checked on: ops, and one property of each.
OPS = [('seg:mode-pool', 'factor-x'), ('seg:countless-3d', 'depth'),
       ('seg:sparse-average', 'sparse'), ('seg:descent-direction',
                                          'spacing-z'),
       ('seg:resample-3d', 'out-depth'), ('seg:label-stats', 'voxels-path')]


def linguas():
    with open(os.path.join(SOURCE, 'po', 'LINGUAS')) as f:
        return [w for line in f for w in line.split('#')[0].split()]


def catalogue_checks(lang):
    """msgfmt --check, and its statistics: all translated."""
    po = os.path.join(SOURCE, 'po', lang + '.po')
    run = subprocess.run(['msgfmt', '--check', '--check-format',
                          '--statistics', '-o', os.devnull, po],
                         capture_output=True, text=True)
    stats = run.stderr.strip()
    complete = run.returncode == 0 and re.fullmatch(
        r'\d+ translated messages\.', stats) is not None
    return complete, '%s: msgfmt --check: %s' % (lang, stats)


def keys_in(lang):
    """The keys and nicks the module gives under LANGUAGE=lang, from a
    process of their own (gettext reads LANGUAGE once)."""
    code = '''
import locale, json
locale.setlocale(locale.LC_ALL, '')
import gi
gi.require_version('Gegl', '0.4')
from gi.repository import Gegl
Gegl.init(None)
out = {}
for op, prop in %r:
    spec = Gegl.Operation.find_property(op, prop)
    out[op] = [Gegl.Operation.get_key(op, 'title'),
               Gegl.Operation.get_key(op, 'description'),
               spec.nick, spec.blurb]
titles = {op: Gegl.Operation.get_key(op, 'title')
          for op in Gegl.list_operations() if op.startswith('seg:')}
print(json.dumps([out, titles]))
''' % (OPS,)
    env = dict(os.environ, LANGUAGE=lang, LC_ALL='C.UTF-8')
    run = subprocess.run([sys.executable, '-c', code], env=env,
                         capture_output=True, text=True, check=True)
    import json
    return json.loads(run.stdout)


def main():
    locale.setlocale(locale.LC_ALL, 'C.UTF-8')
    english = keys_in('C')[0]
    results = []
    for lang in linguas():
        results.append(catalogue_checks(lang))
        catalogue = gettext.translation('gegl-seg', LOCALEDIR, [lang])
        got, titles = keys_in(lang)
        # GIMP's list of GEGL operations cuts longer titles off.
        long = ['%s "%s"' % (op, t) for op, t in sorted(titles.items())
                if len(t) > 20]
        results.append((len(titles) >= 8 and not long,
                        '%s: %d titles of at most 20 characters%s' % (
                            lang, len(titles),
                            '; too long: ' + ', '.join(long) if long
                            else '')))
        for op, _ in OPS:
            for what, en, tr in zip(('title', 'description', 'property nick',
                                     'property description'),
                                    english[op], got[op]):
                # Names may stay as they are ("Countless 3D", "Sparse");
                # descriptions are never the English.
                want = catalogue.gettext(en)
                ok = (en in catalogue._catalog and tr == want and
                      (tr != en or 'description' not in what))
                results.append((ok, '%s: %s %s: "%s"%s' % (
                    lang, op, what, tr[:40],
                    '' if ok else ' (want "%s")' % want[:40])))
    print('1..%d' % len(results))
    for n, (ok, name) in enumerate(results, 1):
        print('%s %d - %s' % ('ok' if ok else 'not ok', n, name))
    return 0


if __name__ == '__main__':
    sys.exit(main())
