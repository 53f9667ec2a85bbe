/* SPDX-License-Identifier: LGPL-3.0-or-later
 *
 * The slow, obviously correct mode pooling that every fast path is compared
 * with.  Same contract as seg_mode_pool() (see lib/seg-mode-pool.h), no
 * tricks: each block's labels are counted by scanning the whole block.
 */
#ifndef REF_MODE_POOL_H
#define REF_MODE_POOL_H

#include <stdbool.h>
#include <stdint.h>

#include "seg-label.h"
#include "seg-volume.h"

/* Background as DESIGN.md words it: all bytes zero; in a format with
 * alpha (bg.alpha_size > 0), also an alpha of zero bytes or colour
 * components that are all zero bytes. */
bool ref_is_background (const uint8_t *v, int bpp, SegBackground bg);

/* out must be ceil (in / f) in size; in and out have the same bpp.  With
 * sparse, background is what bg says (DESIGN.md, "Pixels as labels"). */
void ref_mode_pool (const SegVolume  *in,
                    const SegVolume  *out,
                    const SegFactors *f,
                    bool              sparse,
                    SegBackground     bg);

#endif
