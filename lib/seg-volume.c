/* SPDX-License-Identifier: LGPL-3.0-or-later */
#include "seg-volume.h"

#include <stdlib.h>

SegVolume
seg_volume_packed (void *data, int width, int height, int depth, int bpp)
{
  SegVolume v;

  v.data         = data;
  v.width        = width;
  v.height       = height;
  v.depth        = depth;
  v.bpp          = bpp;
  v.row_stride   = (ptrdiff_t) width * bpp;
  v.slice_stride = v.row_stride * height;
  return v;
}

SegStatus
seg_volume_check (const SegVolume *v)
{
  if (v == NULL || v->data == NULL)
    return SEG_EBADARG;
  if (v->width < 1 || v->height < 1 || v->depth < 1)
    return SEG_EBADARG;
  if (v->bpp < 1 || v->bpp > SEG_MAX_BPP)
    return SEG_EBADARG;
  /* Rows must not overlap one another, nor slices; a single row or slice
   * may have any stride, since it is never stepped over. */
  if (v->height > 1 &&
      llabs ((long long) v->row_stride) < (long long) v->width * v->bpp)
    return SEG_EBADARG;
  if (v->depth > 1 && llabs ((long long) v->slice_stride) <
                        llabs ((long long) v->row_stride) * (v->height - 1) +
                          (long long) v->width * v->bpp)
    return SEG_EBADARG;
  return SEG_OK;
}

SegStatus
seg_factors_check (const SegFactors *f)
{
  if (f == NULL || f->x < 1 || f->x > SEG_MAX_FACTOR || f->y < 1 ||
      f->y > SEG_MAX_FACTOR || f->z < 1 || f->z > SEG_MAX_FACTOR)
    return SEG_EBADARG;
  return SEG_OK;
}

SegStatus
seg_pool_args_check (const SegVolume  *in,
                     const SegVolume  *out,
                     const SegFactors *f)
{
  if (seg_volume_check (in) != SEG_OK || seg_volume_check (out) != SEG_OK ||
      seg_factors_check (f) != SEG_OK || in->bpp != out->bpp)
    return SEG_EBADARG;
  return SEG_OK;
}

SegStatus
seg_pooled_shape_check (const SegVolume  *in,
                        const SegVolume  *out,
                        const SegFactors *f)
{
  if (out->width != seg_pooled_size (in->width, f->x) ||
      out->height != seg_pooled_size (in->height, f->y) ||
      out->depth != seg_pooled_size (in->depth, f->z))
    return SEG_EBADSIZE;
  return SEG_OK;
}

const char *
seg_status_name (SegStatus status)
{
  switch (status)
    {
    case SEG_OK: return "ok";
    case SEG_EBADARG: return "bad argument";
    case SEG_EBADSIZE: return "output size does not match the input";
    case SEG_EBADTYPE: return "unsupported voxel type";
    case SEG_ENOMEM: return "out of memory";
    case SEG_EWRITE: return "writing failed";
    }
  return "unknown status";
}
