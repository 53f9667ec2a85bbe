/* SPDX-License-Identifier: LGPL-3.0-or-later
 *
 * The slow, obviously correct mode pooling that every fast path is compared
 * with.  Same contract as seg_mode_pool() (see lib/seg-mode-pool.h), no
 * tricks: each block's labels are counted by scanning the whole block.
 */
#ifndef REF_MODE_POOL_H
#define REF_MODE_POOL_H

#include <stdbool.h>

#include "seg-volume.h"

/* out must be ceil (in / f) in size; in and out have the same bpp. */
void ref_mode_pool (const SegVolume  *in,
                    const SegVolume  *out,
                    const SegFactors *f,
                    bool              sparse);

#endif
