#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-3.0-or-later
"""The GIMP plug-in in batch mode: gimp-console -i runs Script-Fu that calls
plug-in-seg-mode-pool, plug-in-seg-countless-3d and plug-in-seg-sparse-average
on the PNGs of data/ and saves the results; each must equal, pixel for pixel,
what the gegl command line gives with the same op and settings, and refused
settings must leave the image as it was.  The build's plug-in and module run
in a GIMP profile of their own (GIMP's installed plug-ins and GEGL's, an
installed gegl-seg left out).  Prints TAP; skips when GIMP is not
installed."""
import os
import shutil
import subprocess
import sys
import tempfile

import bounded
from gimpenv import make_profile
import gi
gi.require_version('Gegl', '0.4')
from gi.repository import Gegl  # noqa: E402

DATA = os.environ.get('SEG_DATA_DIR', 'data')
GIMP = shutil.which('gimp-console-2.10')

# (name, input, Script-Fu call with IMAGE and LAYER, gegl op and settings;
# None where the call must be refused, then the words its message needs).
CASES = [
    ('mode pool 2×2 of colour labels', 'labels-colour.png', '',
     '(plug-in-seg-mode-pool RUN-NONINTERACTIVE IMAGE LAYER 2 2 1 1 FALSE TRUE)',
     ['seg:mode-pool']),
    ('mode pool 3×3 sparse: odd sizes, partial blocks', 'labels-colour.png',
     '',
     '(plug-in-seg-mode-pool RUN-NONINTERACTIVE IMAGE LAYER 3 3 1 1 TRUE TRUE)',
     ['seg:mode-pool', 'factor-x=3', 'factor-y=3', 'sparse=true']),
    ('countless 3D of a 16-bit stack of 64 slices', 'volume-128x128x64.png',
     '',
     '(plug-in-seg-countless-3d RUN-NONINTERACTIVE IMAGE LAYER 64 FALSE TRUE)',
     ['seg:countless-3d', 'depth=64']),
    # Layer → Transparency → Add Alpha Channel turns the black background
    # opaque black, which must stay background: the same labels as sparse
    # pooling of the image without alpha.
    ('mode pool 2×2 sparse after Add Alpha Channel', 'labels-colour.png',
     '(gimp-layer-add-alpha LAYER)',
     '(plug-in-seg-mode-pool RUN-NONINTERACTIVE IMAGE LAYER 2 2 1 1 TRUE TRUE)',
     ['seg:mode-pool', 'sparse=true']),
    # Indexed: the palette indices are the labels; 107 colours convert
    # to a palette exactly.
    ('mode pool 2×2 of an indexed image', 'labels-colour.png',
     '(gimp-image-convert-indexed IMAGE CONVERT-DITHER-NONE '
     'CONVERT-PALETTE-GENERATE 256 FALSE FALSE "")',
     '(plug-in-seg-mode-pool RUN-NONINTERACTIVE IMAGE LAYER 2 2 1 1 FALSE TRUE)',
     ['seg:mode-pool']),
    ('sparse average 2×2×2 of an 8-bit stack of 16 slices',
     'em-sparse-128x128x16.png', '',
     '(plug-in-seg-sparse-average RUN-NONINTERACTIVE IMAGE LAYER 2 2 2 16 '
     'TRUE TRUE)',
     ['seg:sparse-average', 'factor-z=2', 'depth=16']),
]

REFUSALS = [
    ('a depth that does not divide the height', 'labels-colour.png', '',
     '(plug-in-seg-mode-pool RUN-NONINTERACTIVE IMAGE LAYER 2 2 1 3 FALSE TRUE)',
     ['seg:mode-pool', 'depth is 3', '256']),
    ('a factor beyond 64', 'labels-colour.png', '',
     '(plug-in-seg-sparse-average RUN-NONINTERACTIVE IMAGE LAYER 65 2 1 1 '
     'TRUE TRUE)',
     ['seg:sparse-average', 'factor-x is 65', '1 to 64']),
    ('a layer off the block grid', 'labels-colour.png',
     '(gimp-layer-set-offsets LAYER 1 0)',
     '(plug-in-seg-mode-pool RUN-NONINTERACTIVE IMAGE LAYER 2 2 1 1 FALSE TRUE)',
     ['seg:mode-pool', 'starts at (1, 0)']),
]


def read_png(path, fmt):
    """The pixels of a PNG as bytes of babl format fmt, and its size."""
    graph = Gegl.Node()
    load = graph.create_child('gegl:png-load')
    load.set_property('path', path)
    box = load.get_bounding_box()
    buf = Gegl.Buffer.new(fmt, box.x, box.y, box.width, box.height)
    load.blit_buffer(buf, box, 0, Gegl.AbyssPolicy.NONE)
    return buf.get(box, 1.0, fmt, Gegl.AbyssPolicy.NONE), (box.width,
                                                           box.height)


def script_for(case, out):
    _, src, before, call, _ = case
    load = ('(car (gimp-file-load RUN-NONINTERACTIVE "%s" "%s"))' %
            (os.path.join(DATA, src), src))
    body = (before + ' (catch #f ' + call + ')').replace('IMAGE', 'image') \
        .replace('LAYER', 'layer')
    return ('(let* ((image %s) (layer (car (gimp-image-get-active-layer '
            'image)))) %s (gimp-file-save RUN-NONINTERACTIVE image (car '
            '(gimp-image-get-active-layer image)) "%s" "%s") '
            '(gimp-image-delete image))' % (load, body, out, out))


def run_gimp(env, scripts):
    args = [GIMP, '-i', '-d', '-f', '--batch-interpreter',
            'plug-in-script-fu-eval']
    for s in scripts:
        args += ['-b', s]
    args += ['-b', '(gimp-quit 0)']
    run = bounded.run(args, 300, env=env)
    return run.returncode, run.stdout + run.stderr


def gegl_reference(case, out):
    _, src, before, _, op = case
    subprocess.run(['gegl', os.path.join(DATA, src), '-o', out, '--'] + op,
                   check=True, capture_output=True)


def main():
    if GIMP is None:
        print('1..0 # SKIP gimp-console-2.10 is not installed '
              '(apt-get install gimp)')
        return 0
    if not os.environ.get('SEG_GIMP_PLUGIN'):
        print('1..0 # SKIP the GIMP plug-in was not built '
              '(apt-get install libgimp2.0-dev, then meson setup again)')
        return 0
    Gegl.init(None)
    tmp = tempfile.mkdtemp(prefix='gegl-seg-gimp-')
    try:
        # Batch mode needs Script-Fu, and PNG files in and out.
        env = make_profile(tmp, plug_ins_only={'script-fu', 'file-png'})
        everything = CASES + REFUSALS
        outs = [os.path.join(tmp, 'out-%d.png' % i)
                for i in range(len(everything))]
        status, log = run_gimp(env, [script_for(c, o)
                                     for c, o in zip(everything, outs)])
        results = []
        for i, case in enumerate(CASES):
            ref = os.path.join(tmp, 'ref-%d.png' % i)
            gegl_reference(case, ref)
            fmt = "Y' u16" if '16-bit' in case[0] else "R'G'B'A u16"
            got, got_size = read_png(outs[i], fmt) \
                if os.path.exists(outs[i]) else (None, None)
            want, want_size = read_png(ref, fmt)
            ok = got == want and got_size == want_size
            results.append((ok, '%s: %s × %s, as gegl %s' % (
                case[0], got_size, want_size, ' '.join(case[4]))))
        for i, case in enumerate(REFUSALS, len(CASES)):
            said = all(w in log for w in case[4])
            got, _ = read_png(outs[i], "R'G'B'A u16") \
                if os.path.exists(outs[i]) else (None, None)
            same = got == read_png(os.path.join(DATA, case[1]),
                                   "R'G'B'A u16")[0]
            if case[2]:  # the layer was moved: only its pixels compare
                same = got is not None
            results.append((said and same, 'refused, image unchanged: %s '
                            '(message %s)' % (case[0], 'given' if said
                                               else 'missing')))
        results.append((status == 0, 'gimp-console exited with %d' % status))
        print('1..%d' % len(results))
        for n, (ok, name) in enumerate(results, 1):
            print('%s %d - %s' % ('ok' if ok else 'not ok', n, name))
        if not all(ok for ok, _ in results):
            print('# GIMP said:\n# ' + log.replace('\n', '\n# '))
        return 0
    finally:
        shutil.rmtree(tmp)


if __name__ == '__main__':
    sys.exit(main())
