# SPDX-License-Identifier: LGPL-3.0-or-later
"""A GIMP 2.10 profile that runs the build's plug-in and module: GIMP's
own plug-ins with the build's seg-gimp, GEGL's plug-ins with the build's
gegl-seg.so (an installed copy of either left out, so nothing registers
twice).  For tests/test-gimp.py and data/make-gimp-screenshots.py; the
folders come from the environment meson's gimp test sets:
SEG_GEGL_PLUGINS, SEG_MODULE_DIR, SEG_GIMP_PLUG_INS, SEG_GIMP_PLUGIN."""
import os


def link_all_but(src, dst, skip, only=None):
    os.makedirs(dst, exist_ok=True)
    for name in os.listdir(src):
        if not name.startswith(skip) and (only is None or name in only):
            os.symlink(os.path.join(src, name), os.path.join(dst, name))


def make_profile(tmp, gimprc='', plug_ins_only=None):
    """A GIMP profile whose plug-ins are GIMP's (those named in
    plug_ins_only, or all) with the build's seg-gimp, and whose GEGL
    (GIMP's, and the plug-ins' through an environ file) has GEGL's plug-ins
    with the build's module."""
    gegl_view = os.path.join(tmp, 'gegl')
    link_all_but(os.environ['SEG_GEGL_PLUGINS'], gegl_view, 'gegl-seg')
    plug_ins = os.path.join(tmp, 'plug-ins')
    link_all_but(os.environ['SEG_GIMP_PLUG_INS'], plug_ins, 'seg-gimp',
                 plug_ins_only)
    os.mkdir(os.path.join(plug_ins, 'seg-gimp'))
    os.symlink(os.environ['SEG_GIMP_PLUGIN'],
               os.path.join(plug_ins, 'seg-gimp', 'seg-gimp'))
    # GIMP itself is not instrumented and does without our module; every
    # plug-in loads it, so under the sanitizers they all get their
    # runtimes first (the uninstrumented ones as the gegl program does;
    # keep them few: some, such as file-ps, hang so).
    preload = os.environ.get('LD_PRELOAD')
    environ = os.path.join(tmp, 'environ')
    os.mkdir(environ)
    with open(os.path.join(environ, 'gegl-seg.env'), 'w') as f:
        f.write('GEGL_PATH=%s:%s\n' % (os.environ['SEG_MODULE_DIR'], gegl_view))
        if preload:
            f.write('LD_PRELOAD=%s\n' % preload)
    profile = os.path.join(tmp, 'profile')
    os.mkdir(profile)
    with open(os.path.join(profile, 'gimprc'), 'w') as f:
        f.write('(plug-in-path "%s")\n(environ-path "%s")\n%s' %
                (plug_ins, environ, gimprc))
    env = dict(os.environ, GIMP2_DIRECTORY=profile, GEGL_PATH=gegl_view)
    env.pop('LD_PRELOAD', None)
    return env


