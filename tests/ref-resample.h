/* SPDX-License-Identifier: LGPL-3.0-or-later
 *
 * The slow, obviously-correct resampling the kernel is compared with:
 * every output voxel on its own, from the formulas of seg-resample.h.
 */
#ifndef REF_RESAMPLE_H
#define REF_RESAMPLE_H

#include <stdint.h>

#include "seg-resample.h"

/* Output voxel (x, y, z) of r from the whole input in (packed, x fastest)
 * into dst (in's bpp bytes). */
void ref_resample_voxel (const uint8_t     *in,
                         int                bpp,
                         const SegResample *r,
                         int                x,
                         int                y,
                         int                z,
                         uint8_t           *dst);

#endif
