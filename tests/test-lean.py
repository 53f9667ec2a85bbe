#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-3.0-or-later
"""gegl-seg-lean (tools/) and its folder of GEGL plug-ins, the build tree's
copy, which holds this build's module: the folder holds each module once
and nothing GEGL would descend into; jobs run through it give the bytes
that the same jobs give with the tests' usual GEGL_PATH (.npy → pooling →
.npy in a seg format, a bit-exact .npy copy, a PNG through an XML graph),
without a warning; a file that cannot be loaded is still refused; a
GEGL_PATH set before does not make a module load twice; the command gets
glibc's malloc in huge pages unless the caller chose otherwise; and the
script refuses to run when its link to our module leads nowhere.  Prints
TAP."""
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np

import bounded

LEAN = os.environ['SEG_LEAN']
MODULE = os.environ['SEG_MODULE']
PLUGINS = os.environ['SEG_GEGL_PLUGINS']
DATA = os.environ['SEG_DATA_DIR']

results = []


def check(name, problems):
    results.append((name, problems))


def run(args, lean=True, cwd=None, env=None):
    """gegl (or any command) through gegl-seg-lean, or plainly with the
    tests' GEGL_PATH."""
    return bounded.run(([LEAN] if lean else []) + args, 300, cwd=cwd,
                       env=env)


def clean(r):
    """Problems of a run that should have succeeded quietly."""
    problems = []
    if r.returncode != 0:
        problems.append('exit status %d' % r.returncode)
    if 'WARNING' in r.stderr or 'CRITICAL' in r.stderr:
        problems.append('stderr: ' + r.stderr.strip())
    return problems


def same_file(a, b):
    with open(a, 'rb') as fa, open(b, 'rb') as fb:
        return fa.read() == fb.read()


def test_folder():
    r = run([])
    folder = r.stdout.strip()
    problems = clean(r)
    if not os.path.isdir(folder):
        return check('the folder', problems + ['%r is no folder' % folder])
    targets = {}
    for entry in sorted(os.listdir(folder)):
        path = os.path.join(folder, entry)
        if not os.path.islink(path):
            problems.append('%s is not a link' % entry)
        elif os.path.isdir(path):
            # GEGL loads every module below a GEGL_PATH folder.
            problems.append('%s leads to a folder' % entry)
        target = os.path.realpath(path)
        if target in targets:
            problems.append('%s and %s are the same module'
                            % (targets[target], entry))
        targets[target] = entry
        if (target != os.path.realpath(MODULE) and
                os.path.dirname(target) != os.path.realpath(PLUGINS)):
            problems.append('%s leads to %s, neither GEGL\'s plug-in folder '
                            'nor this build\'s module' % (entry, target))
    ours = [t for t in targets if os.path.basename(t) == 'gegl-seg.so']
    if ours != [os.path.realpath(MODULE)]:
        problems.append('gegl-seg.so: %s, not this build\'s module once'
                        % ours)
    check('the folder: links to GEGL\'s modules and this build\'s, each once',
          problems)


def test_volume(tmp):
    """Random int64 labels (seg int64, our babl format) pooled 2×2×2."""
    rng = np.random.RandomState(12)
    volume = rng.randint(-3, 3, size=(6, 20, 18)).astype('<i8')
    src = os.path.join(tmp, 'labels.npy')
    np.save(src, volume)
    job = [src, '-o', None, '--', 'seg:countless-3d', 'depth=6']
    outputs = []
    problems = []
    for lean in (True, False):
        out = os.path.join(tmp, 'half-%s.npy' % ('lean' if lean else 'plain'))
        job[2] = out
        problems += clean(run(['gegl'] + job, lean))
        outputs.append(out)
    if not problems:
        half = np.load(outputs[0])
        if half.shape != (3, 10, 9) or half.dtype != np.dtype('<i8'):
            problems.append('%s %s, not (3, 10, 9) int64'
                            % (half.shape, half.dtype))
        if not same_file(*outputs):
            problems.append('not the bytes of the same job without it')
    check('.npy → seg:countless-3d → .npy as without it', problems)


def test_copy(tmp):
    src = os.path.join(tmp, 'u16.npy')
    np.save(src, np.arange(4 * 5 * 6, dtype='<u2').reshape(4, 5, 6))
    out = os.path.join(tmp, 'copy.npy')
    problems = clean(run(['gegl', src, '-o', out]))
    if not problems and not same_file(src, out):
        problems.append('the copy differs from NumPy\'s file')
    check('gegl in.npy -o copy.npy: a bit-exact copy', problems)


def test_png_xml(tmp):
    xml = os.path.join(DATA, 'volume-countless-3d.xml')
    outputs = [os.path.join(tmp, 'half-%d.png' % i) for i in (0, 1)]
    problems = clean(run(['gegl', '-i', xml, '-o', outputs[0]]))
    problems += clean(run(['gegl', '-i', xml, '-o', outputs[1]], lean=False))
    if not problems and not same_file(*outputs):
        problems.append('not the PNG of the same graph without it')
    check('a PNG through an XML graph, as without it', problems)


def test_failed_load(tmp):
    out = os.path.join(tmp, 'never.npy')
    r = run(['gegl', os.path.join(tmp, 'missing.npy'), '-o', out, '--',
             'seg:mode-pool'])
    problems = []
    if os.path.exists(out):
        problems.append('it wrote %s' % out)
    if 'seg:npy-save: ' not in r.stderr:
        problems.append('seg:npy-save did not say why: ' + r.stderr.strip())
    if 'gegl:text' in r.stderr:
        problems.append('gegl:text is missing: ' + r.stderr.strip())
    check('a file that cannot be loaded is refused, not saved', problems)


def test_once():
    """The tests' GEGL_PATH, which holds this build's module too, is set:
    the folder replaces it."""
    r = run(['gegl', '--list-all'])
    problems = clean(r)
    ops = r.stdout.split()
    for op in ('seg:countless-3d', 'seg:mode-pool', 'seg:sparse-average',
               'seg:npy-load', 'seg:npy-save', 'gegl:load', 'gegl:save',
               'gegl:png-load', 'gegl:png-save', 'gegl:npy-save',
               'gegl:text', 'gegl:translate'):
        if ops.count(op) != 1:
            problems.append('%s listed %d times' % (op, ops.count(op)))
    if 'gegl:ff-load' in ops:
        problems.append('gegl:ff-load is there: the folder is not lean')
    check('each op once, with GEGL_PATH set before', problems)


def test_python():
    code = ('import gi\n'
            'gi.require_version("Gegl", "0.4")\n'
            'from gi.repository import Gegl\n'
            'Gegl.init(None)\n'
            'print(Gegl.has_operation("seg:countless-3d"))\n')
    r = run([sys.executable, '-c', code])
    problems = clean(r)
    if r.stdout.strip() != 'True':
        problems.append('seg:countless-3d not found: ' + r.stdout.strip())
    check('any command: Python finds the ops', problems)


def test_malloc():
    """GLIBC_TUNABLES as the command sees it, for what the caller set."""
    cases = [({}, 'glibc.malloc.hugetlb=1'),
             ({'GLIBC_TUNABLES': 'glibc.malloc.arena_max=2'},
              'glibc.malloc.arena_max=2:glibc.malloc.hugetlb=1'),
             ({'GLIBC_TUNABLES': 'glibc.malloc.hugetlb=0'},
              'glibc.malloc.hugetlb=0'),
             ({'GEGL_SEG_KEEP_MALLOC': '1'}, '')]
    problems = []
    for set_before, want in cases:
        env = {k: v for k, v in os.environ.items()
               if k not in ('GLIBC_TUNABLES', 'GEGL_SEG_KEEP_MALLOC')}
        env.update(set_before)
        r = run(['sh', '-c', 'printf %s "${GLIBC_TUNABLES:-}"'], env=env)
        problems += clean(r)
        if r.stdout != want:
            problems.append('%r gave GLIBC_TUNABLES=%r, not %r'
                            % (set_before, r.stdout, want))
    check('malloc in huge pages unless the caller chose', problems)


def test_refusal(tmp):
    """A copy of the script whose folder's link to our module leads
    nowhere, as after the module was uninstalled."""
    folder = os.path.join(tmp, 'gone')
    os.mkdir(folder)
    for name in ('gegl-core.so', 'gegl-common.so'):
        os.symlink(os.path.join(PLUGINS, name), os.path.join(folder, name))
    os.symlink(os.path.join(tmp, 'uninstalled', 'gegl-seg.so'),
               os.path.join(folder, 'gegl-seg.so'))
    with open(LEAN, encoding='utf-8') as f:
        text = f.read()
    start = text.index("dir='") + len("dir='")
    text = text[:start] + folder + text[text.index("'", start):]
    script = os.path.join(tmp, 'gegl-seg-lean')
    with open(script, 'w', encoding='utf-8') as f:
        f.write(text)
    os.chmod(script, 0o755)
    marker = os.path.join(tmp, 'ran')
    r = subprocess.run([script, 'touch', marker], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True)
    problems = []
    if r.returncode == 0 or os.path.exists(marker):
        problems.append('it ran the command')
    if 'gegl-seg.so is missing or leads nowhere' not in r.stderr:
        problems.append('no reason given: ' + r.stderr.strip())
    check('refuses when its gegl-seg.so leads nowhere', problems)


def main():
    tmp = tempfile.mkdtemp(prefix='gegl-seg-lean-')
    try:
        test_folder()
        test_volume(tmp)
        test_copy(tmp)
        test_png_xml(tmp)
        test_failed_load(tmp)
        test_once()
        test_python()
        test_malloc()
        test_refusal(tmp)
    finally:
        shutil.rmtree(tmp)
    print('1..%d' % len(results))
    for i, (name, problems) in enumerate(results, 1):
        print('%s %d - %s' % ('not ok' if problems else 'ok', i, name))
        for problem in problems:
            print('# %s' % problem)
            print('%s: %s' % (name, problem), file=sys.stderr)
    return 1 if any(p for _, p in results) else 0


if __name__ == '__main__':
    sys.exit(main())
