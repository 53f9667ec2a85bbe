#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-3.0-or-later
"""Runs every example of README.md (and of docs/*.md) as written, so that
no example the pages show is broken.  Prints TAP: one test per example.

Which fenced code blocks are examples, by the block's info string:

  ```sh        a shell example: run by /bin/sh -e, line by line as a reader
               would paste it;
  ```python    a Python example: run by this Python as a script of its own,
               so it must have its imports and Gegl.init;
  ```sh setup  one of the README's two set-up commands for a fresh Debian 12
               (they install packages, or run this whole suite): not run
               here, tests/fresh-debian.sh runs them in a fresh root;
  ```text      output, file contents and the like: not run;
  ```sh gimp   a GIMP batch example, which needs GIMP and the installed
               plug-in: not run here; tests/test-gimp.py runs the same
               calls on the build's plug-in.

A block with any other info string, or none, is an error, so that no
example is skipped by an oversight; so is an sh block that runs apt-get or
tests/run-all.sh, which must be marked sh setup.

A page's examples run in order, in one new temporary folder that holds
`data`, a link to the repository's data/, so that a later example can use
what an earlier one wrote (the README makes labels.npy once and uses it
after).  GEGL finds this build's module through GEGL_PATH, as in the other
tests, not an installed one.  An example passes when it exits with status 0,
writes no warning, and writes every file it says it writes:

  - in shell examples, the file after `-o` and the `path=` of a `…-save`
    op;
  - in Python examples, the 'path' set on a node made from a `…-save` op.

Those files are deleted before the example runs, so that one written by an
earlier example does not count, and must exist afterwards, non-empty; a
.npy must load with NumPy, a .png have PNG's signature.  A comment at the
end of a line also states what the line's file is, where that is cheap to
check: for the .npy the line writes (or, failing that, the only .npy it
names), the last tuple of whole numbers in the comment is its shape, as in
`# (64, 128, 128) → (32, 64, 64)`; for a .png, the last W×H in the comment
is its width and height.
"""
import glob
import os
import re
import shutil
import struct
import sys
import tempfile

import numpy

import bounded

ROOT = os.environ.get('SEG_SOURCE_ROOT',
                      os.path.dirname(os.path.dirname(os.path.abspath(
                          __file__))))
DATA = os.environ.get('SEG_DATA_DIR', os.path.join(ROOT, 'data'))

RUN = {'sh', 'python'}
NOT_RUN = {'sh setup', 'sh gimp', 'text'}
FENCE = re.compile(r'^ {0,3}(`{3,}|~{3,})\s*(.*?)\s*$')

# What only a set-up command may do.
SETUP = re.compile(r'\bapt-get\b|\bapt\b|run-all\.sh')

# Messages a GEGL program or GLib writes when something went wrong although
# the exit status is 0 (gegl renders an op it cannot find as a no-op).
WARNINGS = re.compile(r'WARNING|CRITICAL|Traceback|seg:[a-z0-9-]+: ')


def blocks(path):
    """(first line number, info string, text) of each fenced block."""
    found, fence, info, start, lines = [], None, None, 0, []
    with open(path, encoding='utf-8') as f:
        for number, line in enumerate(f, 1):
            m = FENCE.match(line)
            if fence is None and m:
                fence, info, start, lines = m.group(1), m.group(2), number, []
            elif (fence is not None and m and m.group(2) == '' and
                  m.group(1)[0] == fence[0] and
                  len(m.group(1)) >= len(fence)):
                found.append((start, info, ''.join(lines)))
                fence = None
            elif fence is not None:
                lines.append(line)
    if fence is not None:
        raise ValueError('%s:%d: code block never closed' % (path, start))
    return found


def code_and_comment(line):
    """A line cut at its comment (a # at the start or after a space)."""
    m = re.search(r'(^|\s)#', line)
    if m is None:
        return line, ''
    return line[:m.start()], line[m.end():]


def shell_lines(text):
    """Logical lines: backslash continuations joined."""
    return text.replace('\\\n', ' ').splitlines()


def shell_outputs(code):
    words = code.split()
    outputs, op = [], ''
    for i, word in enumerate(words):
        if re.fullmatch(r'[a-z]+:[a-z0-9-]+', word):
            op = word
        elif word == '-o' and i + 1 < len(words):
            outputs.append(words[i + 1])
        elif word.startswith('path=') and op.endswith('-save'):
            outputs.append(word[len('path='):])
    return outputs


def python_outputs(code, ops):
    """Files set as 'path' of a …-save node; ops maps variables to op names
    as the block goes."""
    quoted = r"['\"]([^'\"]+)['\"]"
    for var, op in re.findall(r"(\w+)\s*=\s*\w+\.create_child\(\s*" + quoted,
                              code):
        ops[var] = op
    outputs = []
    for var, path in re.findall(
            r"(\w+)\.set_property\(\s*['\"]path['\"]\s*,\s*" + quoted, code):
        if ops.get(var, '').endswith('-save'):
            outputs.append(path)
    return outputs


def claims(text, language):
    """The files a block writes, and (file, kind, expected) claims of its
    comments."""
    outputs, stated, ops = [], [], {}
    lines = shell_lines(text) if language == 'sh' else text.splitlines()
    for line in lines:
        code, comment = code_and_comment(line)
        written = (shell_outputs(code) if language == 'sh'
                   else python_outputs(code, ops))
        outputs += written
        if not comment:
            continue
        named = re.findall(r"[\w./-]+\.npy\b", code)
        npy = [f for f in written if f.endswith('.npy')] or named
        shapes = re.findall(r'\((\s*\d+(?:\s*,\s*\d+)*\s*,?\s*)\)', comment)
        if shapes and len(set(npy)) == 1:
            shape = tuple(int(n) for n in shapes[-1].split(',') if n.strip())
            stated.append((npy[0], 'shape', shape))
        png = [f for f in written if f.endswith('.png')]
        sizes = re.findall(r'(\d+)×(\d+)', comment)
        if sizes and len(png) == 1:
            stated.append((png[0], 'size', tuple(int(n) for n in sizes[-1])))
    return outputs, stated


def png_size(path):
    with open(path, 'rb') as f:
        head = f.read(24)
    if head[:8] != b'\x89PNG\r\n\x1a\n':
        return None
    return struct.unpack('>II', head[16:24])


def check_files(folder, outputs, stated):
    problems = []
    for name in outputs:
        path = os.path.join(folder, name)
        if not os.path.isfile(path) or os.path.getsize(path) == 0:
            problems.append('%s was not written' % name)
        elif name.endswith('.npy'):
            try:
                numpy.load(path, mmap_mode='r')
            except ValueError as e:
                problems.append('%s does not load: %s' % (name, e))
        elif name.endswith('.png') and png_size(path) is None:
            problems.append('%s is not a PNG' % name)
    unreadable = list(problems)
    for name, kind, expected in stated:
        path = os.path.join(folder, name)
        if unreadable or not os.path.isfile(path):
            continue
        if kind == 'shape':
            got = numpy.load(path, mmap_mode='r').shape
        else:
            got = png_size(path)
        if got != expected:
            problems.append('%s: %s %s, the comment says %s'
                            % (name, kind, got, expected))
    return problems


def run_example(folder, language, text):
    if language == 'sh':
        command = ['/bin/sh', '-e', '-c', text]
    else:
        script = os.path.join(folder, '.example.py')
        with open(script, 'w', encoding='utf-8') as f:
            f.write(text)
        command = [sys.executable, script]
    return bounded.run(command, 600, cwd=folder)


def main():
    pages = [os.path.join(ROOT, 'README.md')] + sorted(
        glob.glob(os.path.join(ROOT, 'docs', '*.md')))
    results = []   # (name, problems)
    for page in pages:
        rel = os.path.relpath(page, ROOT)
        folder = tempfile.mkdtemp(prefix='gegl-seg-docs-')
        os.symlink(DATA, os.path.join(folder, 'data'))
        try:
            for line, info, text in blocks(page):
                name = '%s:%d (%s)' % (rel, line, info or 'no info string')
                if info in NOT_RUN:
                    continue
                if info not in RUN:
                    results.append((name, [
                        'a code block must be marked sh, python, sh setup '
                        'or text']))
                    continue
                if info == 'sh' and SETUP.search(text):
                    # Not run: this test must never install packages or
                    # start the whole suite from within itself.
                    results.append((name, [
                        'it installs packages or runs the suite: mark it '
                        'sh setup']))
                    continue
                outputs, stated = claims(text, info)
                for out in outputs:
                    path = os.path.join(folder, out)
                    if os.path.lexists(path):
                        os.remove(path)
                run = run_example(folder, info, text)
                problems = []
                if run.returncode != 0:
                    problems.append('exit status %d' % run.returncode)
                if WARNINGS.search(run.stderr):
                    problems.append('a warning on stderr')
                problems += check_files(folder, outputs, stated)
                if problems and run.stderr:
                    problems.append('stderr:\n' + run.stderr.rstrip())
                results.append((name, problems))
        finally:
            shutil.rmtree(folder)

    print('1..%d' % len(results))
    for i, (name, problems) in enumerate(results, 1):
        print('%s %d - %s' % ('not ok' if problems else 'ok', i, name))
        # On stderr, which meson shows with --print-errorlogs.
        for problem in problems:
            print('%s: %s' % (name, problem), file=sys.stderr)
    return 1 if any(problems for _, problems in results) else 0


if __name__ == '__main__':
    sys.exit(main())
