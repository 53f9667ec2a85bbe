/* SPDX-License-Identifier: LGPL-3.0-or-later
 *
 * Average pooling of images and volumes, with or without background
 * ("sparse" averaging, the way connectomics pipelines downsample EM images
 * and probability maps without ghosting empty regions into full ones).
 *
 * A voxel is n_components numbers of one component type, stored one after
 * the other in the voxel's bytes, in the machine's byte order (GEGL's
 * formats: Y u8, R'G'B'A u16, RGBA float, …).  Each output voxel is the
 * mean of the voxels of its block of f.x × f.y × f.z input voxels, taken
 * component by component:
 *
 *   - Exact accumulation: integers in a wide integer type (no overflow even
 *     for a 64×64×64 block of u32 maxima, alpha weighting included, nor of
 *     64-bit extremes, which are summed in 128 bits), floats in double,
 *     summed in raster order (x fastest, then y, then z).
 *   - Integer results are the exact mean truncated toward zero, as C's
 *     division truncates (tinybrain's rule): rounded down for unsigned
 *     types, toward zero for signed ones (int8 -1, -2, -3, -4 gives -2;
 *     -1, 0, 0, 0 gives 0).  Float results are the double-precision mean
 *     rounded once to the component type (round to nearest even; half
 *     included, with no detour via float).
 *   - A factor of 2^k is the exact mean over the 2^k block, not an average
 *     of averages.
 *
 * Block grid: blocks start at voxel (0, 0, 0) of the input view; blocks at
 * the far edges that the input does not fill average the voxels that exist.
 * The output view must be exactly ceil (in / f) on every axis.
 *
 * Sparse: background (seg_label_is_background_in (): all bytes zero, and
 * in formats with alpha also transparent or black voxels) is left out of
 * both the sum and the count; a block of background only gives its mean
 * as if not sparse, which is background again (with alpha, colour
 * weighted by alpha stays zero).  Not sparse: every voxel of the block
 * counts.
 *
 * Alpha: with layout.alpha ≥ 0, that component is a straight (not
 * premultiplied) alpha, and a fully transparent voxel never tints the
 * colour.  Over the counted voxels P of a block:
 *     alpha  = Σ a / |P|
 *     colour = Σ c·a / Σ a   (0 when Σ a = 0: a block with no opacity
 *                             has no colour)
 * which is the mean of the premultiplied colours, un-premultiplied.  For
 * premultiplied formats pass alpha = -1: the plain mean is already right.
 * The signed and 64-bit types (the integers of NumPy files) have no alpha:
 * their layouts must have alpha = -1.
 *
 * Input and output must not overlap.
 */
#ifndef SEG_AVERAGE_POOL_H
#define SEG_AVERAGE_POOL_H

#include <stdbool.h>
#include <stddef.h>

#include "seg-label.h"
#include "seg-volume.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum
{
  SEG_TYPE_U8,
  SEG_TYPE_U16,
  SEG_TYPE_U32,
  SEG_TYPE_HALF,   /* IEEE 754 binary16 */
  SEG_TYPE_FLOAT,  /* IEEE 754 binary32 */
  SEG_TYPE_DOUBLE, /* IEEE 754 binary64 */
  /* The other integer dtypes of NumPy files: two's complement int8 …
   * int64, and uint64.  Only in layouts without alpha. */
  SEG_TYPE_I8,
  SEG_TYPE_I16,
  SEG_TYPE_I32,
  SEG_TYPE_I64,
  SEG_TYPE_U64
} SegComponentType;

/* How the bytes of a voxel are numbers. */
typedef struct
{
  SegComponentType type;
  int              n_components; /* ≥ 1; n_components × size = bpp       */
  int              alpha;        /* straight alpha component, or -1       */
} SegPixelLayout;

/* Bytes of one component of type; 0 for an unknown type. */
int seg_component_size (SegComponentType type);

/* SEG_OK when layout describes voxels of bpp bytes: a known type,
 * n_components × size = bpp, alpha -1 or a component index (only -1 for
 * the signed and 64-bit types); else SEG_EBADTYPE (SEG_EBADARG for
 * NULL). */
SegStatus seg_pixel_layout_check (const SegPixelLayout *layout, int bpp);

/* Bytes of scratch memory seg_average_pool() needs; 0 when the factors
 * or the layout are invalid.  Scratch can be reused by later calls with
 * the same or smaller factors and the same layout, but not shared between
 * threads. */
size_t seg_average_pool_scratch_size (const SegFactors     *f,
                                      const SegPixelLayout *layout);

/* Pools in into out.  background says what sparse leaves out
 * (SEG_BACKGROUND_ZEROS for formats without alpha; it is given apart from
 * layout because premultiplied formats have an alpha that layout does
 * not weight by).  scratch must hold seg_average_pool_scratch_size ()
 * bytes, aligned for a double (malloc's alignment); it may be NULL when
 * that size is 0.
 * Returns SEG_EBADARG for bad views, factors, background, or differing
 * bpp,
 * SEG_EBADTYPE for a layout that does not fit the views' bpp, and
 * SEG_EBADSIZE when out is not ceil (in / f) in size. */
SegStatus seg_average_pool (const SegVolume      *in,
                            const SegVolume      *out,
                            const SegFactors     *f,
                            const SegPixelLayout *layout,
                            bool                  sparse,
                            SegBackground         background,
                            void                 *scratch);

#ifdef __cplusplus
}
#endif

#endif
