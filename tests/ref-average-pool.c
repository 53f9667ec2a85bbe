/* SPDX-License-Identifier: LGPL-3.0-or-later */
#include "ref-average-pool.h"
#include "ref-mode-pool.h"

#include <math.h>
#include <string.h>

/* Integer sums, signed: 2^32 × 2^32 × 64³ needs 82 bits, and 64³ int64
 * or uint64 values as many, with the sign. */
__extension__ typedef __int128 Sum;

/* x × 2^e, exactly, by doubling or halving. */
static double
scale2 (double x, int e)
{
  for (; e > 0; e--)
    x *= 2.0;
  for (; e < 0; e++)
    x *= 0.5;
  return x;
}

double
ref_half_to_double (uint16_t h)
{
  const int    exponent = h >> 10 & 0x1f;
  const int    mantissa = h & 0x3ff;
  const double sign     = h & 0x8000 ? -1.0 : 1.0;
  double       inf, nan;
  uint64_t     bits;

  if (exponent == 0x1f)
    {
      bits = 0x7ff0000000000000ull;
      memcpy (&inf, &bits, sizeof inf);
      bits = 0x7ff8000000000000ull;
      memcpy (&nan, &bits, sizeof nan);
      return mantissa == 0 ? sign * inf : nan;
    }
  if (exponent == 0)
    return sign * scale2 (mantissa, -24);
  return sign * scale2 (1024 + mantissa, exponent - 25);
}

uint16_t
ref_half_from_double (double x)
{
  uint16_t sign = 0, lo = 0, hi = 0x7bff;
  double   a, below, above;

  if (x != x)
    return 0x7e00;
  if (signbit (x))
    {
      sign = 0x8000;
      x    = -x;
    }
  /* The next half above the largest finite one, 65504, would be 65536
   * (an even pattern); from their midpoint on, x rounds to infinity. */
  if (x >= 65520.0)
    return sign | 0x7c00;

  /* The largest finite non-negative half ≤ x, by bisection over the
   * patterns 0 … 0x7bff, whose values increase with the pattern. */
  while (lo < hi)
    {
      uint16_t mid = (uint16_t) ((lo + hi + 1) / 2);

      if (ref_half_to_double (mid) <= x)
        lo = mid;
      else
        hi = (uint16_t) (mid - 1);
    }
  a     = x;
  below = ref_half_to_double (lo);
  if (below == a || lo == 0x7bff)
    return sign | lo; /* exact, or between 65504 and 65520: 65504 */
  above = ref_half_to_double ((uint16_t) (lo + 1));
  if (a - below < above - a)
    return sign | lo;
  if (a - below > above - a)
    return sign | (uint16_t) (lo + 1);
  return sign | (lo % 2 == 0 ? lo : (uint16_t) (lo + 1));
}

static const uint8_t *
voxel (const SegVolume *v, int x, int y, int z)
{
  return (const uint8_t *) v->data + z * v->slice_stride + y * v->row_stride +
         (ptrdiff_t) x * v->bpp;
}

static bool
is_integer_type (SegComponentType t)
{
  return t != SEG_TYPE_HALF && t != SEG_TYPE_FLOAT && t != SEG_TYPE_DOUBLE;
}

/* Component c of a voxel, as the number it is (integer types only). */
static Sum
get_int (const uint8_t *v, const SegPixelLayout *l, int c)
{
  uint8_t  u8;
  uint16_t u16;
  uint32_t u32;
  uint64_t u64;
  int8_t   i8;
  int16_t  i16;
  int32_t  i32;
  int64_t  i64;

  switch (l->type)
    {
    case SEG_TYPE_U8: memcpy (&u8, v + c, 1); return u8;
    case SEG_TYPE_U16: memcpy (&u16, v + 2 * c, 2); return u16;
    case SEG_TYPE_U32: memcpy (&u32, v + 4 * c, 4); return u32;
    case SEG_TYPE_U64: memcpy (&u64, v + 8 * c, 8); return u64;
    case SEG_TYPE_I8: memcpy (&i8, v + c, 1); return i8;
    case SEG_TYPE_I16: memcpy (&i16, v + 2 * c, 2); return i16;
    case SEG_TYPE_I32: memcpy (&i32, v + 4 * c, 4); return i32;
    default: memcpy (&i64, v + 8 * c, 8); return i64;
    }
}

/* Bytes of an integer component. */
static int
int_size (SegComponentType t)
{
  switch (t)
    {
    case SEG_TYPE_U8:
    case SEG_TYPE_I8: return 1;
    case SEG_TYPE_U16:
    case SEG_TYPE_I16: return 2;
    case SEG_TYPE_U32:
    case SEG_TYPE_I32: return 4;
    default: return 8;
    }
}

/* Component c of a voxel, as a double (floating-point types only). */
static double
get_real (const uint8_t *v, const SegPixelLayout *l, int c)
{
  uint16_t h;
  float    f;
  double   d;

  switch (l->type)
    {
    case SEG_TYPE_HALF:
      memcpy (&h, v + 2 * c, 2);
      return ref_half_to_double (h);
    case SEG_TYPE_FLOAT: memcpy (&f, v + 4 * c, 4); return f;
    default: memcpy (&d, v + 8 * c, 8); return d;
    }
}

/* x, which fits the type, in its bytes: the low bytes of x's two's
 * complement, which is the signed types' own. */
static void
put_int (uint8_t *v, const SegPixelLayout *l, int c, Sum x)
{
  uint8_t  u8  = (uint8_t) x;
  uint16_t u16 = (uint16_t) x;
  uint32_t u32 = (uint32_t) x;
  uint64_t u64 = (uint64_t) x;

  switch (int_size (l->type))
    {
    case 1: memcpy (v + c, &u8, 1); break;
    case 2: memcpy (v + 2 * c, &u16, 2); break;
    case 4: memcpy (v + 4 * c, &u32, 4); break;
    default: memcpy (v + 8 * c, &u64, 8); break;
    }
}

static void
put_real (uint8_t *v, const SegPixelLayout *l, int c, double x)
{
  uint16_t h;
  float    f;

  switch (l->type)
    {
    case SEG_TYPE_HALF:
      h = ref_half_from_double (x);
      memcpy (v + 2 * c, &h, 2);
      break;
    case SEG_TYPE_FLOAT:
      f = (float) x;
      memcpy (v + 4 * c, &f, 4);
      break;
    default: memcpy (v + 8 * c, &x, 8); break;
    }
}

/* The block of output voxel (ox, oy, oz), clipped to the input. */
typedef struct
{
  int x0, y0, z0, x1, y1, z1;
} Block;

/* The background of the call under way. */
static SegBackground background_of;

static bool
counts (const SegVolume *in, bool sparse, int x, int y, int z)
{
  return !sparse ||
         !ref_is_background (voxel (in, x, y, z), in->bpp, background_of);
}

/* Component c of one output voxel, for integer types: C's division of
 * the exact sum, which truncates toward zero (for the unsigned types,
 * whose sums are never negative, that is rounding down). */
static Sum
int_mean (const SegVolume      *in,
          const SegPixelLayout *l,
          bool                  sparse,
          const Block          *b,
          int                   c,
          Sum                   n)
{
  bool weighted = l->alpha >= 0 && c != l->alpha;
  Sum  sum = 0, alpha_sum = 0;

  for (int z = b->z0; z < b->z1; z++)
    for (int y = b->y0; y < b->y1; y++)
      for (int x = b->x0; x < b->x1; x++)
        if (counts (in, sparse, x, y, z))
          {
            const uint8_t *v = voxel (in, x, y, z);

            if (weighted)
              {
                Sum a = get_int (v, l, l->alpha);

                sum += get_int (v, l, c) * a;
                alpha_sum += a;
              }
            else
              sum += get_int (v, l, c);
          }
  if (!weighted)
    return sum / n;
  return alpha_sum == 0 ? 0 : sum / alpha_sum;
}

/* The same for floating-point types: each sum starts at the block's first
 * counted term and adds the others in raster order. */
static double
real_mean (const SegVolume      *in,
           const SegPixelLayout *l,
           bool                  sparse,
           const Block          *b,
           int                   c,
           double                n)
{
  bool   weighted = l->alpha >= 0 && c != l->alpha;
  bool   first    = true;
  double sum = 0, alpha_sum = 0;

  for (int z = b->z0; z < b->z1; z++)
    for (int y = b->y0; y < b->y1; y++)
      for (int x = b->x0; x < b->x1; x++)
        if (counts (in, sparse, x, y, z))
          {
            const uint8_t *v = voxel (in, x, y, z);
            double         a = weighted ? get_real (v, l, l->alpha) : 0;
            double         term =
              weighted ? get_real (v, l, c) * a : get_real (v, l, c);

            if (weighted && a == 0)
              continue; /* transparent: no colour, whatever c is */

            if (first)
              {
                sum       = term;
                alpha_sum = a;
                first     = false;
              }
            else
              {
                sum += term;
                alpha_sum += a;
              }
          }
  if (!weighted)
    return sum / n;
  return alpha_sum == 0 ? 0 : sum / alpha_sum;
}

void
ref_average_pool (const SegVolume      *in,
                  const SegVolume      *out,
                  const SegFactors     *f,
                  const SegPixelLayout *layout,
                  bool                  sparse,
                  SegBackground         bg)
{
  background_of = bg;
  for (int oz = 0; oz < out->depth; oz++)
    for (int oy = 0; oy < out->height; oy++)
      for (int ox = 0; ox < out->width; ox++)
        {
          uint8_t *o = (uint8_t *) out->data + oz * out->slice_stride +
                       oy * out->row_stride + (ptrdiff_t) ox * out->bpp;
          Block b = { ox * f->x,        oy * f->y,        oz * f->z,
                      ox * f->x + f->x, oy * f->y + f->y, oz * f->z + f->z };
          int   n = 0;

          if (b.x1 > in->width)
            b.x1 = in->width;
          if (b.y1 > in->height)
            b.y1 = in->height;
          if (b.z1 > in->depth)
            b.z1 = in->depth;

          bool left_out = sparse;

          for (int z = b.z0; z < b.z1; z++)
            for (int y = b.y0; y < b.y1; y++)
              for (int x = b.x0; x < b.x1; x++)
                n += counts (in, sparse, x, y, z);

          /* Background only: the mean of all the block's voxels. */
          if (n == 0)
            {
              left_out = false;
              n        = (b.x1 - b.x0) * (b.y1 - b.y0) * (b.z1 - b.z0);
            }
          for (int c = 0; c < layout->n_components; c++)
            if (is_integer_type (layout->type))
              put_int (o, layout, c, int_mean (in, layout, left_out, &b, c, n));
            else
              put_real (o, layout, c,
                        real_mean (in, layout, left_out, &b, c, n));
        }
}
