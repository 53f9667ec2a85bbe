# SPDX-License-Identifier: LGPL-3.0-or-later
"""tinybrain's two calls, on gegl-seg's ops: the same arguments, the same
list of mips, the same shapes (sizes rounded up), tinybrain's Fortran-order
(x, y, z[, channel]) arrays or any other.

Where the answers differ, gegl-seg's are the exact ones: the mode of every
block for every factor and dtype (tinybrain strides non-integer labels and
odd factors), averages accumulated exactly and rounded once."""
import numpy as np

from . import pyramid


def _full_factor(img, factor, function):
    factor = tuple(int(f) for f in factor)
    if len(factor) > img.ndim:
        raise ValueError('gegl_seg.%s: factor %s has more values than the '
                         'image has axes (%d)' % (function, factor, img.ndim))
    factor += (1,) * (img.ndim - len(factor))
    if img.ndim == 4 and factor[3] != 1:
        raise ValueError('gegl_seg.%s: factor %s pools the channel axis; '
                         'its last value must be 1' % (function, factor))
    return factor


def _mips(img, factor, num_mips, method, sparse, exact, function):
    img = np.asarray(img)
    if img.ndim not in (2, 3, 4):
        raise ValueError('gegl_seg.%s: the image has %d dimensions; 2, 3 or '
                         '4 (x, y, z, channel) are allowed'
                         % (function, img.ndim))
    factor = _full_factor(img, factor, function)
    if all(f == 1 for f in factor):
        return [img] * num_mips
    if img.ndim < 4:
        return pyramid(img, factor, num_mips, method, exact, sparse)[1:]
    # Channels one at a time: in tinybrain's Fortran order each channel is
    # one contiguous (x, y, z) volume.
    order = 'F' if img.flags.f_contiguous else 'C'
    mips = None
    for c in range(img.shape[3]):
        levels = pyramid(img[..., c], factor[:3], num_mips, method, exact,
                         sparse)[1:]
        if mips is None:
            mips = [np.empty(level.shape + img.shape[3:], level.dtype,
                             order=order) for level in levels]
        for mip, level in zip(mips, levels):
            mip[..., c] = level
    return mips


def downsample_segmentation(img, factor, sparse=False, num_mips=1):
    """tinybrain.downsample_segmentation: `num_mips` mips of labels, each
    the mode of `factor` blocks of the one before (tinybrain's recursive
    rule; gegl_seg.pyramid(..., exact=True) gives the exact mode of each
    level instead).  With `sparse`, zero wins only all-zero blocks.
    Returns [mip1, …, mip num_mips]."""
    return _mips(img, factor, num_mips, 'mode', sparse, False,
                 'downsample_segmentation')


def downsample_with_averaging(img, factor, num_mips=1, sparse=False):
    """tinybrain.downsample_with_averaging: `num_mips` mips of averages.
    Mip k is the mean of each factor^k block of the image, accumulated
    exactly and rounded once, as tinybrain's accelerated paths compute it;
    with `sparse`, zeros are left out of the mean.  Returns [mip1, …]."""
    return _mips(img, factor, num_mips, 'average', sparse, True,
                 'downsample_with_averaging')
