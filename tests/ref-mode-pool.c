/* SPDX-License-Identifier: LGPL-3.0-or-later */
#include "ref-mode-pool.h"

#include <stdint.h>
#include <string.h>

static const uint8_t *
voxel (const SegVolume *v, int x, int y, int z)
{
  return (const uint8_t *) v->data + z * v->slice_stride + y * v->row_stride +
         (ptrdiff_t) x * v->bpp;
}

static bool
equal (const uint8_t *a, const uint8_t *b, int bpp)
{
  return memcmp (a, b, (size_t) bpp) == 0;
}

static bool
bytes_zero (const uint8_t *a, int from, int to)
{
  for (int i = from; i < to; i++)
    if (a[i])
      return false;
  return true;
}

bool
ref_is_background (const uint8_t *a, int bpp, SegBackground bg)
{
  if (bytes_zero (a, 0, bpp))
    return true;
  if (bg.alpha_size == 0)
    return false;
  return bytes_zero (a, bg.alpha_offset, bg.alpha_offset + bg.alpha_size) ||
         (bytes_zero (a, 0, bg.alpha_offset) &&
          bytes_zero (a, bg.alpha_offset + bg.alpha_size, bpp));
}

/* DESIGN.md's COUNTLESS and stippled COUNTLESS rules, as written there. */
/* The background of the call under way. */
static SegBackground background_of;

static bool
zero (const uint8_t *a, int bpp)
{
  return ref_is_background (a, bpp, background_of);
}

static const uint8_t *
countless (const uint8_t *a,
           const uint8_t *b,
           const uint8_t *c,
           const uint8_t *d,
           int            bpp,
           bool           sparse)
{
  if (!sparse)
    {
      if (equal (a, b, bpp))
        return a;
      if (equal (a, c, bpp))
        return a;
      if (equal (b, c, bpp))
        return b;
      return d;
    }
  if (!zero (a, bpp) && (equal (a, b, bpp) || equal (a, c, bpp)))
    return a;
  if (!zero (b, bpp) && equal (b, c, bpp))
    return b;
  if (!zero (d, bpp))
    return d;
  if (!zero (a, bpp))
    return a;
  if (!zero (c, bpp))
    return c;
  if (!zero (b, bpp))
    return b;
  return a; /* all background: the block's first voxel */
}

void
ref_mode_pool (const SegVolume  *in,
               const SegVolume  *out,
               const SegFactors *f,
               bool              sparse,
               SegBackground     bg)
{
  const int bpp = in->bpp;

  background_of = bg;
  for (int oz = 0; oz < out->depth; oz++)
    for (int oy = 0; oy < out->height; oy++)
      for (int ox = 0; ox < out->width; ox++)
        {
          int x0 = ox * f->x, y0 = oy * f->y, z0 = oz * f->z;
          int x1 = x0 + f->x, y1 = y0 + f->y, z1 = z0 + f->z;
          /* All background: the block's first voxel. */
          const uint8_t *best       = voxel (in, x0, y0, z0);
          long long      best_count = 0;

          if (x1 > in->width)
            x1 = in->width;
          if (y1 > in->height)
            y1 = in->height;
          if (z1 > in->depth)
            z1 = in->depth;

          if (f->x == 2 && f->y == 2 && f->z == 1 && x1 - x0 == 2 &&
              y1 - y0 == 2)
            best =
              countless (voxel (in, x0, y0, z0), voxel (in, x0 + 1, y0, z0),
                         voxel (in, x0, y0 + 1, z0),
                         voxel (in, x0 + 1, y0 + 1, z0), bpp, sparse);
          else
            /* Raster order, strictly greater: the first of tied labels. */
            for (int z = z0; z < z1; z++)
              for (int y = y0; y < y1; y++)
                for (int x = x0; x < x1; x++)
                  {
                    const uint8_t *v     = voxel (in, x, y, z);
                    long long      count = 0;

                    if (sparse && zero (v, bpp))
                      continue;
                    for (int zz = z0; zz < z1; zz++)
                      for (int yy = y0; yy < y1; yy++)
                        for (int xx = x0; xx < x1; xx++)
                          count += equal (v, voxel (in, xx, yy, zz), bpp);
                    if (count > best_count)
                      {
                        best       = v;
                        best_count = count;
                      }
                  }

          memcpy ((uint8_t *) out->data + oz * out->slice_stride +
                    oy * out->row_stride + (ptrdiff_t) ox * bpp,
                  best, (size_t) bpp);
        }
}
