/* SPDX-License-Identifier: LGPL-3.0-or-later
 *
 * The slow, obviously correct average pooling that every path of
 * seg_average_pool() is compared with.  Same contract (see
 * lib/seg-average-pool.h), no tricks: each output voxel is computed on its
 * own by walking its block once per component, in raster order.
 */
#ifndef REF_AVERAGE_POOL_H
#define REF_AVERAGE_POOL_H

#include <stdbool.h>
#include <stdint.h>

#include "seg-average-pool.h"

/* out must be ceil (in / f) in size; in and out have the same bpp, and
 * layout fits it.  With sparse, background is what bg says (DESIGN.md,
 * "Pixels as labels"). */
void ref_average_pool (const SegVolume      *in,
                       const SegVolume      *out,
                       const SegFactors     *f,
                       const SegPixelLayout *layout,
                       bool                  sparse,
                       SegBackground         bg);

/* The value of a binary16 bit pattern. */
double ref_half_to_double (uint16_t h);

/* The binary16 nearest to x, ties to the even pattern; ±infinity beyond
 * the largest finite half, a quiet NaN for NaN. */
uint16_t ref_half_from_double (double x);

#endif
