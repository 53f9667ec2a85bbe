# SPDX-License-Identifier: LGPL-3.0-or-later
"""python3 -m gegl_seg pyramid IN OUT --factor 2 2 2 --mips N: a label (or
image) pyramid of a .npy file or a zarr array, written as OME-Zarr.
python3 -m gegl_seg descent IN OUT --spacing 40 4 4: its steepest-descent
directions, written as a zarr array (or a .npy file).

The input is read as (z, y, x) (or (y, x)): a C-order .npy or a zarr array
as stored; a Fortran-order .npy is tinybrain's (x, y, z) and is read as
its transpose, without a copy.  --factor, --chunks, --voxel-size and
--spacing are in that (z, y, x) order.  The work runs block by block with
Dask (threads here, or the dask.distributed scheduler at --scheduler), a
progress bar on standard error when it takes more than a second."""
import argparse
import gettext
import os
import sys

import numpy as np


def _translations():
    localedir = os.environ.get('GEGL_SEG_LOCALEDIR') or None
    if localedir is None:
        try:
            from ._config import LOCALEDIR as localedir
        except ImportError:
            pass
    return gettext.translation('gegl-seg', localedir=localedir,
                               fallback=True)


_ = _translations().gettext


def _open_input(path, chunks_of):
    """The input as a Dask array, chunked as chunks_of(ndim, stored) says
    (stored: a zarr array's chunks, None for a .npy file), and whether it
    is a Fortran-order .npy file's transpose."""
    import dask.array as da
    if not os.path.exists(path):
        raise ValueError(_('%s: no such file or folder') % path)
    stored = None
    transposed = False
    if path.endswith('.npy') and os.path.isfile(path):
        array = np.load(path, mmap_mode='r')
        if array.flags.f_contiguous and not array.flags.c_contiguous:
            array = array.T
            transposed = True
    else:
        import zarr
        array = zarr.open(path, mode='r')
        if not hasattr(array, 'shape'):
            raise ValueError(_('%s is a zarr group, not an array') % path)
        stored = array.chunks
    if array.ndim not in (2, 3):
        raise ValueError(_('%(path)s has %(ndim)d dimensions; 2 (y, x) or 3 '
                           '(z, y, x) are allowed')
                         % {'path': path, 'ndim': array.ndim})
    return da.from_array(array, chunks=chunks_of(array.ndim, stored),
                         asarray=True, lock=False), transposed


def _command(commands, name, summary, description):
    """A command's parser, with its IN and OUT."""
    p = commands.add_parser(name, help=summary, description=description)
    p.add_argument('input', metavar='IN')
    p.add_argument('output', metavar='OUT')
    return p


def _common_options(p):
    """The options every command takes."""
    p.add_argument('--overwrite', action='store_true',
                   help=_('replace OUT if it exists'))
    p.add_argument('--progress', action='store_true',
                   help=_('show the progress bar from the start (by default '
                          'it shows when the run takes more than a '
                          'second)'))
    p.add_argument('--scheduler', default='threads',
                   help=_('threads (default), processes, synchronous, or '
                          'the address of a dask.distributed scheduler'))


def _parser():
    parser = argparse.ArgumentParser(
        prog='python3 -m gegl_seg',
        description=_('Label-safe pyramids, written as OME-Zarr, and '
                      'steepest-descent directions of volumes with '
                      'gegl-seg.'))
    commands = parser.add_subparsers(dest='command', required=True)
    p = _command(
        commands, 'pyramid', _('write the pyramid of a volume as OME-Zarr'),
        _('Writes every level of the pyramid of IN (a .npy file or a zarr '
          'array) as the OME-Zarr group OUT: a label pyramid (labels/NAME) '
          'for the mode, an image pyramid for the average.'))
    p.add_argument('--factor', type=int, nargs='+', default=[2],
                   help=_('pooling factor per axis, z y x (or one for all); '
                          'default 2'))
    p.add_argument('--mips', type=int, default=1,
                   help=_('number of levels below the input; default 1'))
    p.add_argument('--method', choices=['mode', 'average'], default='mode',
                   help=_('mode (labels, the default) or average'))
    p.add_argument('--exact', action='store_true',
                   help=_('pool every level from the input (exact mode of '
                          'factor^k blocks) instead of from the level '
                          'above'))
    p.add_argument('--sparse', action='store_true',
                   help=_('leave zero out: it wins only all-zero blocks'))
    p.add_argument('--chunks', type=int, nargs='+', default=None,
                   help=_('chunk of the input per axis, z y x, rounded to a '
                          'multiple of factor^mips; default: a zarr '
                          "input's own chunks where they are such "
                          'multiples (level 0 is then copied as stored), '
                          'else 128'))
    p.add_argument('--voxel-size', type=float, nargs='+', default=None,
                   help=_('size of an input voxel per axis, z y x'))
    p.add_argument('--unit', default=None,
                   help=_('unit of the voxel size, e.g. nanometer'))
    p.add_argument('--name', default=None,
                   help=_('name of the label image; default labels'))
    _common_options(p)
    p = _command(
        commands, 'descent',
        _('write the steepest-descent directions of a volume'),
        _('Writes the index of the neighbour of steepest descent of every '
          'voxel of IN (a .npy file or a zarr array), as '
          'seg:descent-direction gives it, to OUT: a .npy file where OUT '
          'ends in .npy, in the order of IN, else a zarr array of uint8 in '
          'the chunks of the work.'))
    p.add_argument('--spacing', type=float, nargs='+', default=[1.0],
                   help=_('size of a step per axis, z y x (or one for '
                          'all); default 1'))
    p.add_argument('--chunks', type=int, nargs='+', default=None,
                   help=_("chunk of the work per axis, z y x; default: a "
                          "zarr input's own chunks, else 128"))
    _common_options(p)
    return parser


def _per_axis(values, ndim, what):
    if len(values) == 1:
        return tuple(values) * ndim
    if len(values) != ndim:
        raise ValueError(_('%(what)s has %(n)d values; the volume has '
                           '%(ndim)d axes') % {'what': what,
                                               'n': len(values),
                                               'ndim': ndim})
    return tuple(values)


def _progress(minimum):
    from dask.diagnostics import ProgressBar
    return lambda: ProgressBar(minimum=minimum, out=sys.stderr)


def _check_output(args):
    """ValueError where OUT cannot be written: its folder missing, or OUT
    there without --overwrite."""
    folder = os.path.dirname(os.path.abspath(args.output))
    if not os.path.isdir(folder):
        raise ValueError(_('%s: no such file or folder') % folder)
    if os.path.exists(args.output) and not args.overwrite:
        raise ValueError(_('%s exists; --overwrite replaces it')
                         % args.output)


def pyramid_command(args):
    from . import dask as seg_dask, ome_zarr

    _check_output(args)
    if args.mips < 0:
        raise ValueError(_('--mips %d is negative') % args.mips)
    for f in args.factor:
        if not 1 <= f <= 64:
            raise ValueError(_('--factor %d is not a whole number from 1 to '
                               '64') % f)

    def chunks_of(ndim, stored):
        factor = _per_axis(args.factor, ndim, '--factor')
        step = [f ** args.mips for f in factor]
        if args.chunks is None and stored is not None and all(
                c % s == 0 for c, s in zip(stored, step)):
            return tuple(stored)
        chunks = _per_axis(args.chunks or [128], ndim, '--chunks')
        return tuple(max(s, c // s * s) for c, s in zip(chunks, step))

    volume, _transposed = _open_input(args.input, chunks_of)
    factor = _per_axis(args.factor, volume.ndim, '--factor')
    voxel_size = (_per_axis(args.voxel_size, volume.ndim, '--voxel-size')
                  if args.voxel_size else None)
    name = args.name or ('labels' if args.method == 'mode' else 'image')
    context, progress = _scheduler(args)
    with context:
        seg_dask.to_ome_zarr(volume, args.output, factor, args.mips,
                             args.method, args.exact, args.sparse, name=name,
                             voxel_size=voxel_size, unit=args.unit,
                             overwrite=args.overwrite, progress=progress)
    shapes = ' → '.join(
        '×'.join(map(str, ome_zarr.level_shape(volume.shape, factor, k)))
        for k in range(args.mips + 1))
    print(_('%(out)s: %(levels)d levels, %(shapes)s')
          % {'out': args.output, 'levels': args.mips + 1, 'shapes': shapes})
    return 0


def _scheduler(args):
    """The context to run the work in, and a progress bar's maker (None
    on a dask.distributed scheduler, which has its dashboard)."""
    import dask
    if args.scheduler in ('threads', 'processes', 'synchronous'):
        return (dask.config.set(scheduler=args.scheduler),
                _progress(0 if args.progress else 1.0))
    from distributed import Client
    return Client(args.scheduler), None


def _write_npy(path, array):
    """array as the .npy file path, whole or not at all: written under a
    temporary name beside it, then renamed."""
    import tempfile
    fd, temporary = tempfile.mkstemp(prefix='.%s.' % os.path.basename(path),
                                     dir=os.path.dirname(os.path.abspath(
                                         path)))
    try:
        with os.fdopen(fd, 'wb') as f:
            np.save(f, array)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def descent_command(args):
    import contextlib
    from . import dask as seg_dask, ome_zarr

    _check_output(args)
    for s in args.spacing:
        if not (np.isfinite(s) and s > 0):
            raise ValueError(_('--spacing %g is not a positive finite '
                               'number') % s)
    for c in args.chunks or []:
        if c < 1:
            raise ValueError(_('--chunks %d is not a whole number of at '
                               'least 1') % c)

    def chunks_of(ndim, stored):
        if args.chunks is None and stored is not None:
            return tuple(stored)
        return _per_axis(args.chunks or [128], ndim, '--chunks')

    volume, transposed = _open_input(args.input, chunks_of)
    spacing = _per_axis(args.spacing, volume.ndim, '--spacing')
    labels = seg_dask.descent_direction(volume, spacing)
    context, progress = _scheduler(args)
    with context, (progress or contextlib.nullcontext)():
        if args.output.endswith('.npy'):
            result = labels.compute()
            _write_npy(args.output, result.T if transposed else result)
        else:
            with ome_zarr._Replace(args.output, args.overwrite) as folder:
                labels.to_zarr(folder, overwrite=True)
    print(_('%(out)s: the directions of %(shape)s voxels')
          % {'out': args.output, 'shape': '×'.join(map(str, volume.shape))})
    return 0


def main(argv=None):
    args = _parser().parse_args(argv)
    try:
        if args.command == 'descent':
            return descent_command(args)
        return pyramid_command(args)
    except (ValueError, OSError, KeyError) as e:
        message = e.args[0] if isinstance(e, KeyError) and e.args else e
        print('gegl_seg %s: %s' % (args.command, message), file=sys.stderr)
        return 1


if __name__ == '__main__':
    sys.exit(main())
