/* SPDX-License-Identifier: LGPL-3.0-or-later
 *
 * Resampling of images and volumes to any size, per axis as PyTorch's
 * F.interpolate with align_corners=False, for an axis of in input and out
 * output indices:
 *
 *   nearest (PyTorch "nearest-exact"): output i copies input
 *     min (⌊(2i + 1)·in / (2·out)⌋, in − 1), computed in integers (PyTorch's
 *     answer on float64 tensors); voxels are copied byte for byte, so
 *     labels of any size stay intact;
 *   linear ("trilinear"): s = max ((i + 0.5)·(in / out) − 0.5, 0) in
 *     double, taps i0 = min (⌊s⌋, in − 1) and min (i0 + 1, in − 1), weights
 *     1 − (s − i0) and s − i0 (an axis whose size does not change copies);
 *     separable: along x, then y, then z, each step a·w0 + b·w1;
 *   area (adaptive average pooling): the window ⌊i·in / out⌋ …
 *     ⌈(i + 1)·in / out⌉ − 1 on each axis, in integers; its sum in double,
 *     in raster order (x fastest, then y, then z), divided by the window's
 *     depth, then its height, then its width (PyTorch's order).
 *
 * Linear and area compute with the voxels' numbers (SegPixelLayout): each
 * component as a double, the result stored as seg_number_store () rounds
 * it (real types once, to nearest; integer types to nearest, halves away
 * from zero, clamped).  A straight alpha is resampled premultiplied: the
 * colours are weighted by alpha, and divided by the result's alpha (0
 * where that is 0).
 *
 * PyTorch 1.13 on float64 tensors agrees to the bit for nearest, and for
 * area but where every output axis is 1 (it then takes a plain mean,
 * summed in another order); its x86 builds compute linear with fused
 * multiply-adds, and differ from these formulas in the last bits of a
 * double.
 */
#ifndef SEG_RESAMPLE_H
#define SEG_RESAMPLE_H

#include "seg-average-pool.h"
#include "seg-volume.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Largest size of an axis, in and out. */
#define SEG_RESAMPLE_MAX_SIZE 65536

typedef enum
{
  SEG_RESAMPLE_NEAREST,
  SEG_RESAMPLE_LINEAR,
  SEG_RESAMPLE_AREA
} SegResampleMode;

typedef struct
{
  SegResampleMode mode;
  int             in_size[3];  /* x, y, z: the whole input's, 1 … MAX   */
  int             out_size[3]; /* the whole output's, 1 … MAX           */
  SegPixelLayout  layout;      /* linear and area: the voxels' numbers  */
} SegResample;

/* Input indices [*first, *end) that output index o (0 ≤ o < out) of an
 * axis of in → out reads: the nearest one, the taps (one where they
 * coincide), the window. */
void seg_resample_span (
  SegResampleMode mode, int in, int out, int o, int *first, int *end);

/* SEG_OK when r can resample voxels of bpp bytes: sizes within range, a
 * known mode, and for linear and area a layout of bpp bytes (else
 * SEG_EBADTYPE; SEG_EBADARG for the rest). */
SegStatus seg_resample_check (const SegResample *r, int bpp);

/* The voxels of out, which are the output's from out_at (x, y, z) on,
 * from in, which holds the input's voxels from in_at on: at least every
 * voxel out reads (SEG_EBADARG otherwise, or for unusable views, or views
 * of different bpp).  Results do not depend on how the output is cut
 * into calls.  SEG_ENOMEM when the tables do not fit in memory. */
SegStatus seg_resample (const SegVolume   *in,
                        const int          in_at[3],
                        const SegVolume   *out,
                        const int          out_at[3],
                        const SegResample *r);

#ifdef __cplusplus
}
#endif

#endif
