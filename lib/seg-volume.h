/* SPDX-License-Identifier: LGPL-3.0-or-later
 *
 * SegVolume: the one view type every gegl-seg kernel takes.  A view is a
 * strided box of voxels in caller-owned memory; kernels never allocate it,
 * never free it and never look outside width × height × depth.
 */
#ifndef SEG_VOLUME_H
#define SEG_VOLUME_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Largest voxel the kernels accept, in bytes (RGBA double is 32). */
#define SEG_MAX_BPP 64

/* Largest pooling factor on any axis. */
#define SEG_MAX_FACTOR 64

typedef enum
{
  SEG_OK = 0,
  SEG_EBADARG,  /* NULL pointer, non-positive size, bad stride or bpp   */
  SEG_EBADSIZE, /* output size is not ceil (input size / factor)        */
  SEG_EBADTYPE, /* the kernel has no implementation for this voxel type */
  SEG_ENOMEM,   /* memory ran out                                       */
  SEG_EWRITE    /* the caller's writer failed (SegVoxelRows's flush)    */
} SegStatus;

typedef struct
{
  void     *data;         /* first byte of voxel (0, 0, 0)                */
  ptrdiff_t row_stride;   /* bytes from one row to the next               */
  ptrdiff_t slice_stride; /* bytes from one slice to the next             */
  int       width;        /* voxels per row                               */
  int       height;       /* rows per slice                               */
  int       depth;        /* slices                                       */
  int       bpp;          /* bytes per voxel; a label is all of its bytes */
} SegVolume;

/* Pooling block size along x, y and z, each 1 … SEG_MAX_FACTOR. */
typedef struct
{
  int x, y, z;
} SegFactors;

/* A tightly packed view of width × height × depth voxels at data. */
SegVolume
seg_volume_packed (void *data, int width, int height, int depth, int bpp);

/* ceil (size / factor) for size ≥ 0 and factor ≥ 1. */
static inline int
seg_pooled_size (int size, int factor)
{
  return size / factor + (size % factor != 0);
}

/* SEG_OK when v is a usable view: data set, sizes ≥ 1, bpp within
 * 1 … SEG_MAX_BPP and rows/slices that do not overlap. */
SegStatus seg_volume_check (const SegVolume *v);

/* SEG_OK when every factor is within 1 … SEG_MAX_FACTOR. */
SegStatus seg_factors_check (const SegFactors *f);

/* SEG_OK when a pooling kernel can take in, out and f at all: both views
 * usable, the factors in range, one voxel size; else SEG_EBADARG.  Their
 * shapes are seg_pooled_shape_check ()'s. */
SegStatus seg_pool_args_check (const SegVolume  *in,
                               const SegVolume  *out,
                               const SegFactors *f);

/* SEG_OK when out is ceil (in / f) voxels on every axis (what a pooling
 * kernel writes), else SEG_EBADSIZE.  The views and factors must already
 * have passed seg_pool_args_check (). */
SegStatus seg_pooled_shape_check (const SegVolume  *in,
                                  const SegVolume  *out,
                                  const SegFactors *f);

/* A short English name for a status, for messages and test failures. */
const char *seg_status_name (SegStatus status);

#ifdef __cplusplus
}
#endif

#endif
