/* SPDX-License-Identifier: LGPL-3.0-or-later
 *
 * Steepest-descent directions: for every voxel of an image or a stack of
 * slices, the neighbour it flows to (the 3-D analogue of hydrology's D8
 * flow direction, the first step of watershed-like segmentation).
 *
 * A neighbour's score is (centre − neighbour) / distance, in double
 * precision from the voxels' numbers, the distance in physical units
 * √((dx·sx)² + (dy·sy)² + (dz·sz)²).  The label of a voxel is the index of
 * the neighbour of highest score, ties to the lowest index:
 *
 *   3-D: (dz+1)·9 + (dy+1)·3 + (dx+1), the centre 13;
 *   2-D: (dy+1)·3 + (dx+1), the centre 4,
 *
 * dx, dy, dz ∈ {−1, 0, 1}: itertools.product (range (-1, 2), repeat=3)
 * over a C-order (z, y, x) array.  The label is the centre when every
 * score is negative (a strict local minimum), when the voxel has no
 * neighbour, and when the centre is NaN.  NaN neighbours are skipped, and
 * so are neighbours whose score is NaN (an infinite centre beside the same
 * infinity).  Only voxels inside the input view are neighbours: no
 * padding.
 *
 * The scores are compared as the double-precision quotients they are, to
 * the last bit: the kernel compares per class of equal distance (the
 * neighbour of lowest value wins its class, the classes' scores decide),
 * with multiplications where those decide beyond doubt and the exact
 * divisions where they do not.
 */
#ifndef SEG_DESCENT_H
#define SEG_DESCENT_H

#include <stdbool.h>

#include "seg-average-pool.h"
#include "seg-volume.h"

#ifdef __cplusplus
extern "C" {
#endif

/* How the kernel reads the input: one number of type per voxel. */
typedef struct
{
  SegComponentType type;
  double           spacing[3]; /* x, y, z: finite and > 0 */
  bool             three_d;    /* the 3-D index encoding (else 2-D) */
} SegDescent;

/* Output slices the kernel does together, row by row (the minima of an
 * input row, taken once, serve all the output rows around it): a caller
 * that hands it this many slices at once has each input row read about
 * once (1 + 2 / 12 times), rather than three times for one slice at a
 * time.  More slices would read fewer rows twice, but the kernel's cache
 * of row minima (about 10 KiB per input row of 512, three rows per
 * slice) would then crowd the core's 1 MiB L2. */
#define SEG_DESCENT_SLAB 12

/* SEG_OK when d can be used: a one-number type the kernel reads (not
 * half), spacings finite and positive; else SEG_EBADARG (SEG_EBADTYPE for
 * the type). */
SegStatus seg_descent_check (const SegDescent *d);

/* The directions of the voxels of out (bpp 1), which are the voxels of in
 * from (x0, y0, z0) on: out's voxel (x, y, z) is in's voxel (x0 + x,
 * y0 + y, z0 + z).  The neighbours of a voxel are the voxels of in around
 * it; in's edges are the image's edges, or the caller has put in the
 * voxels beyond them.  SEG_EBADARG when out does not lie within in or a
 * view is unusable, SEG_EBADTYPE when in's bpp is not the type's. */
SegStatus seg_descent_direction (const SegVolume  *in,
                                 const SegVolume  *out,
                                 int               x0,
                                 int               y0,
                                 int               z0,
                                 const SegDescent *d);

#ifdef __cplusplus
}
#endif

#endif
