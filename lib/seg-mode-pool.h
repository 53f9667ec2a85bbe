/* SPDX-License-Identifier: LGPL-3.0-or-later
 *
 * Mode pooling of label images and volumes (the COUNTLESS family).
 *
 * Each output voxel is the label that occurs most often in its block of
 * f.x × f.y × f.z input voxels.  Labels are opaque: two voxels are the same
 * label when all their bpp bytes are equal, so any voxel size works
 * (u8 … u64 labels, RGB colour-coded label maps, floats by bit pattern).
 *
 * Block grid: blocks start at voxel (0, 0, 0) of the input view; blocks at
 * the far edges that the input does not fill use only the voxels that exist.
 * The output view must be exactly ceil (in / f) on every axis.
 *
 * Ties:
 *   - full 2×2×1 blocks (f = 2, 2, 1): the COUNTLESS rule, bit-identical to
 *     tinybrain's downsample_segmentation.  With a = top-left, b = top-right,
 *     c = bottom-left, d = bottom-right: a==b → a; a==c → a; b==c → b; else d.
 *   - every other block (other factors, partial edge blocks): the tied label
 *     that occurs first in raster order (x fastest, then y, then z).
 *
 * Sparse: background (seg_label_is_background_in (): all bytes zero, and
 * in formats with alpha also transparent or black voxels) never wins
 * unless the whole block is background.  Full 2×2×1 blocks follow
 * stippled COUNTLESS: a non-background pair wins (a==b or a==c → a;
 * b==c → b); else d if it is not background; else the first non-background
 * of a, c, b.  Every other block: the most frequent non-background label,
 * ties first in raster order.  A block of background only gives its first
 * voxel, so that every output voxel is one that was there.
 *
 * The result is exact for every factor: a factor of 4 is the mode of the
 * 4×4 block, not a mode of modes.  Cost is linear in the block size.
 * Input and output must not overlap.
 */
#ifndef SEG_MODE_POOL_H
#define SEG_MODE_POOL_H

#include <stdbool.h>
#include <stddef.h>

#include "seg-label.h"
#include "seg-volume.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Bytes of scratch memory seg_mode_pool() needs for these factors; 0 when
 * the factors are invalid.  Scratch can be reused by later calls with the
 * same or smaller factors, but not shared between threads. */
size_t seg_mode_pool_scratch_size (const SegFactors *f);

/* Pools in into out.  background says what sparse leaves out
 * (SEG_BACKGROUND_ZEROS for formats without alpha).  scratch must hold
 * seg_mode_pool_scratch_size (f) bytes, aligned for a pointer (malloc's
 * alignment).
 * Returns SEG_EBADARG for bad views, factors, background, or differing
 * bpp, and SEG_EBADSIZE when out is not ceil (in / f) in size. */
SegStatus seg_mode_pool (const SegVolume  *in,
                         const SegVolume  *out,
                         const SegFactors *f,
                         bool              sparse,
                         SegBackground     background,
                         void             *scratch);

#ifdef __cplusplus
}
#endif

#endif
