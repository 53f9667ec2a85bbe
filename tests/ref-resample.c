/* SPDX-License-Identifier: LGPL-3.0-or-later
 *
 * Reference resampling: see ref-resample.h.
 */
#include "ref-resample.h"

#include <math.h>
#include <string.h>

#include "seg-numbers.h"

/* Component k of voxel (x, y, z) as a double, colours weighted by a
 * straight alpha. */
static double
number (
  const uint8_t *in, const SegResample *r, int bpp, int x, int y, int z, int k)
{
  const SegPixelLayout *l    = &r->layout;
  const int             size = seg_component_size (l->type);
  const uint8_t        *p =
    in + (((size_t) z * r->in_size[1] + y) * r->in_size[0] + x) * bpp;
  double v = seg_number_load (p + (size_t) k * size, l->type);

  if (l->alpha >= 0 && k != l->alpha)
    v *= seg_number_load (p + (size_t) l->alpha * size, l->type);
  return v;
}

/* The two taps of output index o on an axis of in → out and their
 * weights, as the contract writes them. */
static void
taps (int in, int out, int o, int t[2], double w[2])
{
  double s = (o + 0.5) * ((double) in / out) - 0.5;

  if (s < 0)
    s = 0;
  t[0] = (int) floor (s);
  if (t[0] > in - 1)
    t[0] = in - 1;
  t[1] = t[0] + 1 < in ? t[0] + 1 : in - 1;
  w[1] = fmin (fmax (s - t[0], 0), 1);
  w[0] = 1 - w[1];
}

static double
linear_value (
  const uint8_t *in, const SegResample *r, int bpp, int x, int y, int z, int k)
{
  int    tx[2], ty[2], tz[2];
  double wx[2], wy[2], wz[2], along_y[2];

  taps (r->in_size[0], r->out_size[0], x, tx, wx);
  taps (r->in_size[1], r->out_size[1], y, ty, wy);
  taps (r->in_size[2], r->out_size[2], z, tz, wz);
  for (int c = 0; c < 2; c++)
    {
      double along_x[2];

      for (int b = 0; b < 2; b++)
        along_x[b] = number (in, r, bpp, tx[0], ty[b], tz[c], k) * wx[0] +
                     number (in, r, bpp, tx[1], ty[b], tz[c], k) * wx[1];
      along_y[c] = along_x[0] * wy[0] + along_x[1] * wy[1];
    }
  return along_y[0] * wz[0] + along_y[1] * wz[1];
}

/* ⌊a / b⌋ and ⌈a / b⌉ for a ≥ 0, b > 0. */
static int64_t
down (int64_t a, int64_t b)
{
  return a / b;
}

static int64_t
up (int64_t a, int64_t b)
{
  return (a + b - 1) / b;
}

static double
area_value (
  const uint8_t *in, const SegResample *r, int bpp, int x, int y, int z, int k)
{
  const int o[3] = { x, y, z };
  int64_t   lo[3], hi[3];
  double    sum = 0;

  for (int a = 0; a < 3; a++)
    {
      lo[a] = down ((int64_t) o[a] * r->in_size[a], r->out_size[a]);
      hi[a] = up ((int64_t) (o[a] + 1) * r->in_size[a], r->out_size[a]);
    }
  for (int64_t zz = lo[2]; zz < hi[2]; zz++)
    for (int64_t yy = lo[1]; yy < hi[1]; yy++)
      for (int64_t xx = lo[0]; xx < hi[0]; xx++)
        sum += number (in, r, bpp, (int) xx, (int) yy, (int) zz, k);
  return sum / (double) (hi[2] - lo[2]) / (double) (hi[1] - lo[1]) /
         (double) (hi[0] - lo[0]);
}

void
ref_resample_voxel (const uint8_t     *in,
                    int                bpp,
                    const SegResample *r,
                    int                x,
                    int                y,
                    int                z,
                    uint8_t           *dst)
{
  const SegPixelLayout *l = &r->layout;
  double                v[64];

  if (r->mode == SEG_RESAMPLE_NEAREST)
    {
      const int o[3] = { x, y, z };
      int64_t   s[3];

      for (int a = 0; a < 3; a++)
        {
          s[a] = (2 * (int64_t) o[a] + 1) * r->in_size[a] /
                 (2 * (int64_t) r->out_size[a]);
          if (s[a] > r->in_size[a] - 1)
            s[a] = r->in_size[a] - 1;
        }
      memcpy (dst,
              in + ((s[2] * r->in_size[1] + s[1]) * r->in_size[0] + s[0]) * bpp,
              (size_t) bpp);
      return;
    }
  for (int k = 0; k < l->n_components; k++)
    v[k] = r->mode == SEG_RESAMPLE_LINEAR
             ? linear_value (in, r, bpp, x, y, z, k)
             : area_value (in, r, bpp, x, y, z, k);
  for (int k = 0; k < l->n_components; k++)
    {
      const int size = seg_component_size (l->type);
      double    c    = v[k];

      if (l->alpha >= 0 && k != l->alpha)
        c = v[l->alpha] == 0 ? 0 : c / v[l->alpha];
      seg_number_store (dst + (size_t) k * size, l->type, c);
    }
}
