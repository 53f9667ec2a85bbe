/* SPDX-License-Identifier: LGPL-3.0-or-later
 *
 * The slow, obviously correct steepest-descent direction that the kernel
 * and the op are compared with (contract: lib/seg-descent.h): every
 * neighbour scored by a division in double, in index order, the best
 * kept by a strict comparison.
 */
#ifndef REF_DESCENT_H
#define REF_DESCENT_H

#include <stdbool.h>

/* The label of voxel (x, y, z) of the packed w × h × d volume v of
 * numbers, with spacing (x, y, z), in the 3-D encoding or the 2-D one
 * (which ignores z neighbours). */
int ref_descent_label (const double *v,
                       int           w,
                       int           h,
                       int           d,
                       int           x,
                       int           y,
                       int           z,
                       const double  spacing[3],
                       bool          three_d);

#endif
