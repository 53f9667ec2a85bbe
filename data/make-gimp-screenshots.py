#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-3.0-or-later
"""Takes the screenshots of docs/gimp.md from GIMP 2.10 running under Xvfb
with the build's plug-in and module (tests/gimpenv.py's profile), driven
with xdotool: the Filters → Segmentation menu, the Mode Pool dialog, the
dialog refusing a depth that does not divide the height, and the image
after OK.  Needs gimp, xvfb, xdotool, x11-apps (xwd) and python3-pil.

    data/make-gimp-screenshots.py [BUILD_DIR]   (default: build)

The clicks are found from the first screenshots' layout (menu rows are
looked up by the positions GIMP gives its items on this machine), so a
different theme or font may need the offsets below changed."""
import os
import struct
import subprocess
import sys
import tempfile
import time

from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'tests'))
from gimpenv import make_profile  # noqa: E402

FIGURES = os.path.join(HERE, 'figures')
DISPLAY = ':77'
SIZE = (1280, 800)


def pkg_variable(package, variable):
    return subprocess.run(['pkg-config', '--variable=' + variable, package],
                          check=True, capture_output=True,
                          text=True).stdout.strip()


def screen():
    """The whole screen, from xwd's ZPixmap of 32-bit pixels."""
    data = subprocess.run(['xwd', '-root', '-silent', '-display', DISPLAY],
                          check=True, capture_output=True).stdout
    h = struct.unpack('>25I', data[:100])
    header_size, width, height, byte_order = h[0], h[4], h[5], h[7]
    bits_per_pixel, bytes_per_line, n_colours = h[11], h[12], h[19]
    if bits_per_pixel != 32:
        sys.exit('xwd gave %d bits per pixel; want 32' % bits_per_pixel)
    start = header_size + 12 * n_colours
    return Image.frombytes('RGB', (width, height),
                           data[start:start + bytes_per_line * height], 'raw',
                           'BGRX' if byte_order == 0 else 'XRGB',
                           bytes_per_line)


def xdotool(*args):
    return subprocess.run(['xdotool'] + [str(a) for a in args], check=True,
                          capture_output=True, text=True,
                          env=dict(os.environ, DISPLAY=DISPLAY)).stdout


def window_geometry(name):
    out = xdotool('search', '--sync', '--name', name, 'getwindowgeometry',
                  '--shell')
    g = dict(line.split('=') for line in out.split() if '=' in line)
    return int(g['X']), int(g['Y']), int(g['WIDTH']), int(g['HEIGHT'])


def click(x, y, pause=0.8):
    xdotool('mousemove', x, y)
    time.sleep(0.2)
    xdotool('click', 1)
    time.sleep(pause)


def save(image, name):
    path = os.path.join(FIGURES, name)
    image.save(path, optimize=True)
    print(path)


def main():
    build = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else 'build')
    os.environ.update(
        SEG_GEGL_PLUGINS=pkg_variable('gegl-0.4', 'pluginsdir'),
        SEG_MODULE_DIR=os.path.join(build, 'operations'),
        SEG_GIMP_PLUG_INS=os.path.join(pkg_variable('gimp-2.0', 'gimplibdir'),
                                       'plug-ins'),
        SEG_GIMP_PLUGIN=os.path.join(build, 'gimp', 'seg-gimp'))
    tmp = tempfile.mkdtemp(prefix='gegl-seg-shots-')
    env = make_profile(tmp, '(single-window-mode yes)\n(show-tips no)\n')
    env['DISPLAY'] = DISPLAY
    xvfb = subprocess.Popen(['Xvfb', DISPLAY, '-screen', '0',
                             '%dx%dx24' % SIZE], stderr=subprocess.DEVNULL)
    gimp = None
    try:
        time.sleep(1)
        gimp = subprocess.Popen(
            ['gimp-2.10', '--no-splash', '-d', '-f',
             os.path.join(HERE, 'labels-colour.png')], env=env,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        window = xdotool('search', '--sync', '--name', 'labels-colour')
        window = window.split()[0]
        xdotool('windowmove', window, 0, 0)
        xdotool('windowsize', window, *SIZE)
        time.sleep(3)

        # Filters → Segmentation: the menu bar's Filters, then its
        # Segmentation row, which opens the submenu.
        click(417, 13)
        xdotool('mousemove', 470, 499)
        time.sleep(1.0)
        save(screen().crop((0, 0, 910, 600)), 'gimp-menu.png')

        click(774, 523, pause=2.5)  # Mode Pool...
        x, y, w, h = window_geometry('Mode Pool')
        save(screen().crop((x, y, x + w, y + h)), 'gimp-dialog.png')

        # A depth of 3 for a 256-row image: the dialog says why, OK is off.
        click(x + w - 55, y + 117, pause=0.3)
        xdotool('click', '--repeat', 3, 1)
        xdotool('type', '3')
        xdotool('key', 'Tab')
        time.sleep(1.0)
        x, y, w, h = window_geometry('Mode Pool')
        save(screen().crop((x, y, x + w, y + h)), 'gimp-dialog-refuses.png')

        # Back to 1, sparse on, OK: the image becomes 128 × 128.
        click(x + w - 55, y + 117, pause=0.3)
        xdotool('click', '--repeat', 3, 1)
        xdotool('type', '1')
        xdotool('key', 'Tab')
        click(x + 20, y + 151, pause=0.5)
        xdotool('key', 'Return')
        time.sleep(3)
        save(screen(), 'gimp-result.png')
    finally:
        if gimp is not None:
            gimp.kill()
        xvfb.kill()
        subprocess.run(['rm', '-rf', tmp])


if __name__ == '__main__':
    main()
