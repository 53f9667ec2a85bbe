/* SPDX-License-Identifier: LGPL-3.0-or-later
 *
 * Unit tests of lib/seg-descent.c, without GEGL, against a slow,
 * obviously-correct reference: every neighbour of every voxel scored with
 * a division in double, in index order, the best kept by a strict
 * comparison.  Random volumes (1 … 20 on each axis, 1 … 6 slices, 2-D and
 * 3-D) of every type, with plateaus and ties built in (a few small
 * values), NaNs and infinities, huge 64-bit values and centres far above
 * their neighbours (where distinct values round to one score), random
 * anisotropic spacings (equal ones among them), outputs that are any
 * sub-box of the input, padded and flipped views; hand-written cases for
 * the rules.
 */
#include <check.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel-harness.h"
#include "ref-descent.h"
#include "seg-descent.h"

static const SegComponentType types[] = {
  SEG_TYPE_U8,  SEG_TYPE_U16, SEG_TYPE_U32, SEG_TYPE_U64,   SEG_TYPE_I8,
  SEG_TYPE_I16, SEG_TYPE_I32, SEG_TYPE_I64, SEG_TYPE_FLOAT, SEG_TYPE_DOUBLE
};

/* ---- Numbers in views --------------------------------------------------- */

/* The number of voxel (x, y, z) of v, of type, as a double. */
static double
number (const SegVolume *v, SegComponentType type, int x, int y, int z)
{
  const uint8_t *p = at (v, x, y, z);

  switch (type)
    {
#define GET(TYPE, CTYPE)        \
  case TYPE:                    \
    {                           \
      CTYPE n;                  \
      memcpy (&n, p, sizeof n); \
      return (double) n;        \
    }
      GET (SEG_TYPE_U8, uint8_t)
      GET (SEG_TYPE_U16, uint16_t)
      GET (SEG_TYPE_U32, uint32_t)
      GET (SEG_TYPE_U64, uint64_t)
      GET (SEG_TYPE_I8, int8_t)
      GET (SEG_TYPE_I16, int16_t)
      GET (SEG_TYPE_I32, int32_t)
      GET (SEG_TYPE_I64, int64_t)
      GET (SEG_TYPE_FLOAT, float)
      GET (SEG_TYPE_DOUBLE, double)
#undef GET
    default: return NAN;
    }
}

/* Sets voxel (x, y, z) of v to the number of type nearest to n (n must
 * fit). */
static void
set_number (
  const SegVolume *v, SegComponentType type, int x, int y, int z, double n)
{
  uint8_t *p = at (v, x, y, z);

  switch (type)
    {
#define SET(TYPE, CTYPE)        \
  case TYPE:                    \
    {                           \
      CTYPE m = (CTYPE) n;      \
      memcpy (p, &m, sizeof m); \
      return;                   \
    }
      SET (SEG_TYPE_U8, uint8_t)
      SET (SEG_TYPE_U16, uint16_t)
      SET (SEG_TYPE_U32, uint32_t)
      SET (SEG_TYPE_I8, int8_t)
      SET (SEG_TYPE_I16, int16_t)
      SET (SEG_TYPE_I32, int32_t)
      SET (SEG_TYPE_U64, uint64_t)
      SET (SEG_TYPE_I64, int64_t)
      SET (SEG_TYPE_FLOAT, float)
      SET (SEG_TYPE_DOUBLE, double)
#undef SET
    default: break;
    }
}

/* Types whose numbers are not all floats: the kernel takes those that
 * are the single-precision way. */
static bool
wider_than_floats (SegComponentType type)
{
  return type == SEG_TYPE_DOUBLE || type == SEG_TYPE_U32 ||
         type == SEG_TYPE_I32 || type == SEG_TYPE_U64 || type == SEG_TYPE_I64;
}

/* A random number for a voxel of type: a few small values (plateaus and
 * ties), or anything in the type's range, NaNs and infinities for floats,
 * values near the top of the 64-bit types; in style 3, for the wider
 * types, numbers that are floats exactly. */
static void
random_voxel (Rng             *r,
              const SegVolume *v,
              SegComponentType type,
              int              style,
              int              x,
              int              y,
              int              z)
{
  uint8_t *p    = at (v, x, y, z);
  uint64_t bits = rng_next (r);

  if (style == 3 && wider_than_floats (type))
    {
      /* Numbers that are floats exactly: any float (NaNs, infinities
       * and subnormals among them), integers up to 2²⁴. */
      double n = rng_range (r, 0, 1 << 24);

      if (type == SEG_TYPE_DOUBLE)
        {
          random_voxel (r, v, SEG_TYPE_FLOAT, 1, x, y, z);
          n = number (v, SEG_TYPE_FLOAT, x, y, z);
        }
      else if ((type == SEG_TYPE_I32 || type == SEG_TYPE_I64) &&
               rng_chance (r, 50))
        n = -n;
      set_number (v, type, x, y, z, n);
      return;
    }
  if (style == 0 || rng_chance (r, 20))
    {
      set_number (v, type, x, y, z, rng_below (r, 4));
      if (type == SEG_TYPE_U64 || type == SEG_TYPE_I64)
        {
          const int64_t n = rng_below (r, 4);

          memcpy (p, &n, 8);
        }
      return;
    }
  switch (type)
    {
    case SEG_TYPE_FLOAT:
      {
        float f;

        if (rng_chance (r, 10))
          f = NAN;
        else if (rng_chance (r, 5))
          f = rng_chance (r, 50) ? INFINITY : -INFINITY;
        else if (rng_chance (r, 10))
          f = 0x1p-149f * (float) rng_below (r, 3); /* subnormals */
        else if (style == 2)
          f = (float) ldexp ((double) (bits >> 40), rng_range (r, -40, 40));
        else
          memcpy (&f, &bits, 4);
        memcpy (p, &f, 4);
        return;
      }
    case SEG_TYPE_DOUBLE:
      {
        double d;

        if (rng_chance (r, 10))
          d = NAN;
        else if (rng_chance (r, 5))
          d = rng_chance (r, 50) ? INFINITY : -INFINITY;
        else if (rng_chance (r, 10))
          d = 0x1p-1074 * rng_below (r, 3); /* subnormals */
        else if (style == 2)
          /* Neighbours one unit in the last place apart, and centres far
           * above them. */
          d = ldexp (1.0 + rng_below (r, 4) * 0x1p-52, rng_range (r, 0, 60));
        else
          memcpy (&d, &bits, 8);
        memcpy (p, &d, 8);
        return;
      }
    case SEG_TYPE_U64:
    case SEG_TYPE_I64:
      /* Near the top, where doubles round them, or anything. */
      if (style == 2)
        bits = (type == SEG_TYPE_U64 ? ~(uint64_t) 0 : (uint64_t) INT64_MAX) -
               (uint64_t) rng_below (r, 4096);
      memcpy (p, &bits, 8);
      return;
    default: memcpy (p, &bits, (size_t) v->bpp); return;
    }
}

/* ---- The reference ------------------------------------------------------ */

/* The numbers of in, packed (free it). */
static double *
numbers_of (const SegVolume *in, SegComponentType type)
{
  double *v = malloc ((size_t) in->width * in->height * in->depth * sizeof *v);

  for (int z = 0, i = 0; z < in->depth; z++)
    for (int y = 0; y < in->height; y++)
      for (int x = 0; x < in->width; x++)
        v[i++] = number (in, type, x, y, z);
  return v;
}

/* ---- Random cases ------------------------------------------------------- */

static double
random_spacing (Rng *r)
{
  if (rng_chance (r, 2))
    return ldexp (1.5, rng_chance (r, 50) ? 200 : -200); /* quotients out
                                                           * of range */
  switch (rng_below (r, 4))
    {
    case 0: return 1;
    case 1: return rng_range (r, 1, 50);
    case 2: return ldexp ((double) rng_range (r, 1, 1000), -rng_below (r, 8));
    default: return 0.1 + rng_below (r, 1000) * 0.037;
    }
}

START_TEST (test_directions_match_reference)
{
  Rng                    r       = rng_new ((uint64_t) _i, 77);
  const SegComponentType type    = types[rng_below (&r, N_ELEMENTS (types))];
  const bool             three_d = rng_chance (&r, 70);
  const int              w = rng_range (&r, 1, 20), h = rng_range (&r, 1, 20);
  const int              dd    = three_d ? rng_range (&r, 1, 6) : 1;
  const int              bpp   = seg_component_size (type);
  const int              style = rng_below (&r, 4);
  SegDescent             d     = { type, { 1, 1, 1 }, three_d };
  Buf                    in = buf_new (w, h, dd, bpp, random_strides (&r, bpp));
  int                    ow, oh, od, x0, y0, z0;
  Buf                    out;
  uint8_t               *before;
  double                *numbers;
  SegStatus              status;
  char                   where[160];

  /* Equal spacings now and then: classes of one distance (x and y, y and
   * z, x and z, all three). */
  d.spacing[0] = random_spacing (&r);
  d.spacing[1] = rng_chance (&r, 30) ? d.spacing[0] : random_spacing (&r);
  d.spacing[2] = rng_chance (&r, 30)   ? d.spacing[1]
                 : rng_chance (&r, 20) ? d.spacing[0]
                                       : random_spacing (&r);
  for (int z = 0; z < dd; z++)
    for (int y = 0; y < h; y++)
      for (int x = 0; x < w; x++)
        random_voxel (&r, &in.v, type, style, x, y, z);
  /* Centres far above their neighbours, now and then. */
  if (style == 2 && (type == SEG_TYPE_FLOAT || type == SEG_TYPE_DOUBLE))
    for (int i = 0; i < w * h * dd / 8; i++)
      set_number (&in.v, type, rng_below (&r, w), rng_below (&r, h),
                  rng_below (&r, dd), type == SEG_TYPE_FLOAT ? 0x1p30 : 0x1p62);
  /* Small numbers (plateaus and ties) of a wider type, whose floats the
   * kernel would take the single-precision way: one number that is not a
   * float, anywhere, so that the double path takes most of them too. */
  if (style == 0 && wider_than_floats (type))
    set_number (&in.v, type, rng_below (&r, w), rng_below (&r, h),
                rng_below (&r, dd), type == SEG_TYPE_DOUBLE ? 0.1 : 0x1p24 + 1);
  /* Numbers that are floats, now and then with one that is not
   * anywhere, a hair above the neighbours around it, all of one value
   * with which its float would tie: the kernel takes the
   * single-precision path until it meets it. */
  if (style == 3 && wider_than_floats (type) && rng_chance (&r, 60))
    {
      const int x = rng_below (&r, w), y = rng_below (&r, h),
                z = rng_below (&r, dd);
      double n =
        type == SEG_TYPE_DOUBLE ? number (&in.v, type, x, y, z) : 0x1p24;

      if (!isfinite (n) || n == 0)
        n = 1;
      for (int k = -1; k <= 1; k++)
        for (int j = -1; j <= 1; j++)
          for (int i = -1; i <= 1; i++)
            if (x + i >= 0 && x + i < w && y + j >= 0 && y + j < h &&
                z + k >= 0 && z + k < dd)
              set_number (&in.v, type, x + i, y + j, z + k, n);
      set_number (&in.v, type, x, y, z,
                  type == SEG_TYPE_DOUBLE ? n + fabs (n) * 0x1p-40 : n + 1);
    }

  /* Any sub-box of the input, or all of it. */
  ow     = rng_chance (&r, 50) ? w : rng_range (&r, 1, w);
  oh     = rng_chance (&r, 50) ? h : rng_range (&r, 1, h);
  od     = rng_chance (&r, 50) ? dd : rng_range (&r, 1, dd);
  x0     = rng_range (&r, 0, w - ow);
  y0     = rng_range (&r, 0, h - oh);
  z0     = rng_range (&r, 0, dd - od);
  out    = buf_new (ow, oh, od, 1, random_strides (&r, 1));
  before = copy_of (in.mem, in.size);

  status = seg_descent_direction (&in.v, &out.v, x0, y0, z0, &d);
  snprintf (where, sizeof where,
            "seed %d: type %d, %s %dx%dx%d, out %dx%dx%d at %d,%d,%d, "
            "spacing %g %g %g",
            _i, (int) type, three_d ? "3-D" : "2-D", w, h, dd, ow, oh, od, x0,
            y0, z0, d.spacing[0], d.spacing[1], d.spacing[2]);
  if (status != SEG_OK)
    ck_abort_msg ("%s: status %s", where, seg_status_name (status));
  numbers = numbers_of (&in.v, type);
  for (int z = 0; z < od; z++)
    for (int y = 0; y < oh; y++)
      for (int x = 0; x < ow; x++)
        {
          const int want = ref_descent_label (numbers, w, h, dd, x0 + x, y0 + y,
                                              z0 + z, d.spacing, three_d);
          const int got  = *at (&out.v, x, y, z);

          if (got != want)
            ck_abort_msg ("%s: voxel %d,%d,%d: %d, not %d", where, x0 + x,
                          y0 + y, z0 + z, got, want);
        }
  if (memcmp (before, in.mem, in.size) != 0)
    ck_abort_msg ("%s: the input changed", where);
  assert_padding_intact (&out, where);
  free (before);
  free (numbers);
  buf_free (&in);
  buf_free (&out);
}
END_TEST

/* ---- Floats of one band of magnitudes ----------------------------------- */

/* The kernel on all of volume in (of d->type), every label of out
 * against the reference on numbers; where names the case. */
static void
check_volume (const Buf        *in,
              Buf              *out,
              const SegDescent *d,
              const double     *numbers,
              const char       *where)
{
  const int w = in->v.width, h = in->v.height, dd = in->v.depth;

  ck_assert_int_eq (seg_descent_direction (&in->v, &out->v, 0, 0, 0, d),
                    SEG_OK);
  for (int z = 0; z < dd; z++)
    for (int y = 0; y < h; y++)
      for (int x = 0; x < w; x++)
        {
          const int want = ref_descent_label (numbers, w, h, dd, x, y, z,
                                              d->spacing, d->three_d);
          const int got  = *at (&out->v, x, y, z);

          if (got != want)
            ck_abort_msg ("%s%s: voxel %d,%d,%d: %d, not %d", where,
                          d->type == SEG_TYPE_DOUBLE ? ", as doubles" : "", x,
                          y, z, got, want);
        }
}

/* check_volume () on float volume in, then on its numbers as doubles
 * (floats exactly, which the kernel takes the single-precision way
 * too). */
static void
check_float_volume (Buf *in, Buf *out, const SegDescent *d, const char *where)
{
  const int  w = in->v.width, h = in->v.height, dd = in->v.depth;
  double    *numbers    = numbers_of (&in->v, SEG_TYPE_FLOAT);
  Buf        wide       = buf_new (w, h, dd, 8, packed);
  SegDescent as_doubles = *d;

  check_volume (in, out, d, numbers, where);
  put_packed (&wide.v, numbers);
  as_doubles.type = SEG_TYPE_DOUBLE;
  check_volume (&wide, out, &as_doubles, numbers, where);
  buf_free (&wide);
  free (numbers);
}

/* A float of magnitude in [2^e0, 2^(e0 + span + 1)): mantissas near 1
 * (ties, and numbers a last place apart) or any, either sign, many at
 * the foot; where zeros, a quarter of them ±0 (a background: rows that
 * stay plain); where odd, now and then a zero, a NaN, an infinity or a
 * subnormal. */
static float
band_float (Rng *r, int e0, int span, bool zeros, bool odd)
{
  const float sign = rng_chance (r, 30) ? -1.0f : 1.0f;
  double      m;

  if (zeros && rng_chance (r, 25))
    return sign * 0.0f;
  if (odd && rng_chance (r, 2))
    {
      static const float odd[] = { 0.0f,      -0.0f,     NAN,      INFINITY,
                                   -INFINITY, 0x1p-149f, 0x1p-130f };

      return odd[rng_below (r, N_ELEMENTS (odd))];
    }
  m = rng_chance (r, 70) ? 1.0 + rng_below (r, 4) * 0x1p-23
                         : 1.0 + (double) rng_below (r, 1 << 23) * 0x1p-23;
  /* Many at the band's foot, so that lowest values tie or lie a last
   * place apart below centres up to 2^span times above them. */
  return sign * (float) ldexp (
                  m, e0 + (rng_chance (r, 40) ? 0 : rng_range (r, 0, span)));
}

/* Float volumes whose numbers lie within a band of magnitudes, from 2⁰
 * to 2³² wide, anywhere from subnormals to the largest floats: where
 * the band is narrow, the kernel leaves out its checks of the products'
 * range and of distinct values rounding to one score (its rows are
 * plain), so the bounds of that must hold at every end of the range. */
START_TEST (test_floats_of_one_band_match_reference)
{
  Rng        r       = rng_new ((uint64_t) _i, 79);
  const bool three_d = rng_chance (&r, 70);
  const int  w = rng_range (&r, 1, 40), h = rng_range (&r, 1, 8);
  const int  dd    = three_d ? rng_range (&r, 1, 4) : 1;
  const int  span  = rng_range (&r, 0, 32);
  const bool odd   = rng_chance (&r, 50);
  const bool zeros = rng_chance (&r, 40);
  const int  e0    = rng_chance (&r, 30)   ? rng_range (&r, -90, -60)
                     : rng_chance (&r, 30) ? rng_range (&r, 80, 127 - span)
                                           : rng_range (&r, -149, 127 - span);
  SegDescent d     = { SEG_TYPE_FLOAT, { 1, 1, 1 }, three_d };
  Buf        in    = buf_new (w, h, dd, 4, random_strides (&r, 4));
  Buf        out   = buf_new (w, h, dd, 1, random_strides (&r, 1));
  char       where[96];

  for (int a = 0; a < 3; a++)
    d.spacing[a] = a > 0 && rng_chance (&r, 50) ? d.spacing[a - 1]
                   : rng_chance (&r, 30)        ? 1
                                                : random_spacing (&r);
  for (int z = 0; z < dd; z++)
    for (int y = 0; y < h; y++)
      for (int x = 0; x < w; x++)
        set_number (&in.v, SEG_TYPE_FLOAT, x, y, z,
                    band_float (&r, e0, span, zeros, odd));
  snprintf (where, sizeof where, "seed %d: band 2^%d + %d%s, spacing %g %g %g",
            _i, e0, span, zeros ? " and zeros" : "", d.spacing[0], d.spacing[1],
            d.spacing[2]);
  check_float_volume (&in, &out, &d, where);
  buf_free (&in);
  buf_free (&out);
}
END_TEST

/* ---- Classes within rounding of each other ------------------------------ */

/* Float volumes where every class of a voxel's neighbours scores within a
 * few parts in 10⁷ of one value: the single-precision products cannot
 * order such classes, and the kernel must find that out and compare the
 * exact quotients. */
START_TEST (test_classes_within_rounding_are_ordered_exactly)
{
  Rng          r       = rng_new ((uint64_t) _i, 78);
  const bool   three_d = rng_chance (&r, 80);
  const int    w = rng_range (&r, 3, 40), h = rng_range (&r, 3, 6);
  const int    dd  = three_d ? 3 : 1;
  SegDescent   d   = { SEG_TYPE_FLOAT, { 1, 1, 1 }, three_d };
  Buf          in  = buf_new (w, h, dd, 4, random_strides (&r, 4));
  Buf          out = buf_new (w, h, dd, 1, random_strides (&r, 1));
  const double score =
    ldexp (1.0 + rng_below (&r, 1000) / 1000.0, rng_range (&r, -20, 20));
  const float centre = (float) (rng_range (&r, -1000, 1000) / 7.0);
  char        where[32];

  /* Equal spacings often: the kernel groups their classes. */
  for (int a = 0; a < 3; a++)
    d.spacing[a] = a > 0 && rng_chance (&r, 40) ? d.spacing[a - 1]
                   : rng_chance (&r, 30)        ? 1
                                                : random_spacing (&r);
  /* Row y = 1 of slice 1 (slice 0 in 2-D) holds the centres, every other
   * voxel is a neighbour whose class scores about score against them. */
  for (int z = 0; z < dd; z++)
    for (int y = 0; y < h; y++)
      for (int x = 0; x < w; x++)
        {
          const int    dz = three_d ? z - 1 : 0, dy = y == 1 ? 0 : 1;
          const double dist   = sqrt ((x % 2) * d.spacing[0] * d.spacing[0] +
                                      dy * d.spacing[1] * d.spacing[1] +
                                      (dz != 0) * d.spacing[2] * d.spacing[2]);
          const double wobble = 1 + (rng_range (&r, -8, 8)) * 0x1p-24;
          float        v      = centre;

          if (dz != 0 || dy != 0 || x % 2 != 0)
            v = (float) (centre - score * dist * wobble);
          set_number (&in.v, SEG_TYPE_FLOAT, x, y, z, v);
        }
  snprintf (where, sizeof where, "seed %d", _i);
  check_float_volume (&in, &out, &d, where);
  buf_free (&in);
  buf_free (&out);
}
END_TEST

/* ---- Hand-written rules ------------------------------------------------- */

/* The labels of a packed w × h × d volume of doubles. */
static void
labels_of (const double *values,
           int           w,
           int           h,
           int           dd,
           bool          three_d,
           const double  spacing[3],
           uint8_t      *labels)
{
  SegDescent d   = { SEG_TYPE_DOUBLE,
                     { spacing[0], spacing[1], spacing[2] },
                     three_d };
  SegVolume  in  = seg_volume_packed ((void *) values, w, h, dd, 8);
  SegVolume  out = seg_volume_packed (labels, w, h, dd, 1);

  ck_assert_int_eq (seg_descent_direction (&in, &out, 0, 0, 0, &d), SEG_OK);
}

static const double unit[3] = { 1, 1, 1 };

START_TEST (test_plateau_ties_to_lowest_index)
{
  const double flat[9] = { 5, 5, 5, 5, 5, 5, 5, 5, 5 };
  uint8_t      l[9];

  labels_of (flat, 3, 3, 1, false, unit, l);
  /* Corner (0, 0): neighbours 5 (right), 7 (below), 8; all score 0. */
  ck_assert_int_eq (l[0], 5);
  /* The middle: neighbour 0, the top-left one. */
  ck_assert_int_eq (l[4], 0);
  /* Bottom-right corner: 0 (up-left) first. */
  ck_assert_int_eq (l[8], 0);
}
END_TEST

START_TEST (test_minimum_and_lone_voxels_are_centres)
{
  const double pit[9]     = { 9, 9, 9, 9, 1, 9, 9, 9, 9 };
  const double one[1]     = { 3 };
  const double nan_c[3]   = { 1, NAN, 0 };
  const double all_nan[3] = { NAN, 4, NAN };
  uint8_t      l[9];

  labels_of (pit, 3, 3, 1, false, unit, l);
  ck_assert_int_eq (l[4], 4);
  labels_of (pit, 3, 1, 3, true, unit, l); /* a pit in z, 3-D */
  ck_assert_int_eq (l[4], 13);
  labels_of (one, 1, 1, 1, true, unit, l);
  ck_assert_int_eq (l[0], 13);
  labels_of (one, 1, 1, 1, false, unit, l);
  ck_assert_int_eq (l[0], 4);
  labels_of (nan_c, 3, 1, 1, false, unit, l);
  ck_assert_int_eq (l[1], 4); /* NaN centre */
  ck_assert_int_eq (l[0], 4); /* its only neighbour is NaN: skipped */
  labels_of (all_nan, 3, 1, 1, false, unit, l);
  ck_assert_int_eq (l[1], 4);
}
END_TEST

START_TEST (test_spacing_weighs_the_steps)
{
  /* Centre 10; right neighbour 4 (drop 6 over 1), lower-right 0 (drop 10
   * over √2 ≈ 7.07): the diagonal wins at unit spacing; with y spacing 3
   * the diagonal is √10 ≈ 3.16 long (score 3.16) and loses to the right
   * (6). */
  const double v[4]    = { 10, 4, 9, 0 };
  const double tall[3] = { 1, 3, 1 };
  uint8_t      l[4];

  labels_of (v, 2, 2, 1, false, unit, l);
  ck_assert_int_eq (l[0], 8);
  labels_of (v, 2, 2, 1, false, tall, l);
  ck_assert_int_eq (l[0], 5);
}
END_TEST

START_TEST (test_slices_meet_only_along_z)
{
  /* Two slices of 1 × 2: slice 0's last row must not see slice 1's first
   * row as its y-neighbour; it sees the voxel below it in z. */
  const double v[4] = { 5, 4, 0, 9 };
  uint8_t      l[4];

  labels_of (v, 1, 2, 2, true, unit, l);
  /* (z 0, y 1) = 4: neighbours (z 0, y 0) = 5 (index 10), (z 1, y 1) = 9
   * (index 22), (z 1, y 0) = 0 (index 19, dz +1 dy -1): the last. */
  ck_assert_int_eq (l[1], 19);
  /* (z 0, y 0) = 5: 4 below (16), 0 in z (22), 9 (25): drop 5 over 1
   * wins. */
  ck_assert_int_eq (l[0], 22);
}
END_TEST

START_TEST (test_distinct_values_rounding_to_one_score_tie)
{
  /* Doubles: centre 2⁵⁴, left 1 and right 0.  The differences 2⁵⁴ - 1
   * and 2⁵⁴ round to one double: a tie, so the lower index (left, 3)
   * wins, although the right neighbour is lower. */
  const double big[3] = { 1, 0x1p54, 0 };
  uint8_t      l[3];
  float        f[3] = { 0x1p-149f, 1, 0 };
  SegDescent   d    = { SEG_TYPE_FLOAT, { 1, 1, 1 }, false };
  SegVolume    in   = seg_volume_packed (f, 3, 1, 1, 4);
  SegVolume    out  = seg_volume_packed (l, 3, 1, 1, 1);

  labels_of (big, 3, 1, 1, false, unit, l);
  ck_assert_int_eq (l[1], 3);
  /* Floats: centre 1, left the least subnormal, right 0: 1 - 2⁻¹⁴⁹ is 1
   * in double. */
  ck_assert_int_eq (seg_descent_direction (&in, &out, 0, 0, 0, &d), SEG_OK);
  ck_assert_int_eq (l[1], 3);
  /* Floats with no zero near them: centre 2³¹, left 1 + 2⁻²³, right 1.
   * 2³¹ - 1 - 2⁻²³ rounds to 2³¹ - 1 in double (to even, halfway). */
  f[0] = 1 + 0x1p-23f;
  f[1] = 0x1p31f;
  f[2] = 1;
  ck_assert_int_eq (seg_descent_direction (&in, &out, 0, 0, 0, &d), SEG_OK);
  ck_assert_int_eq (l[1], 3);
}
END_TEST

/* The labels of a 2-D float image of w × h numbers v at spacing x and
 * y, checked against the reference, and again as doubles. */
static void
check_float_image (
  const double *v, int w, int h, double sx, double sy, const char *where)
{
  SegDescent d   = { SEG_TYPE_FLOAT, { sx, sy, 1 }, false };
  Buf        in  = buf_new (w, h, 1, 4, packed);
  Buf        out = buf_new (w, h, 1, 1, packed);

  for (int i = 0; i < w * h; i++)
    set_number (&in.v, SEG_TYPE_FLOAT, i % w, i / w, 0, v[i]);
  check_float_volume (&in, &out, &d, where);
  buf_free (&in);
  buf_free (&out);
}

/* Floats a and the next one above it, b, beside centres c from 2²⁰ to
 * 2³⁴ times |a| above them, b at the lower index: where c is far enough
 * above, the two differences divide to one double (a tie: b), and the
 * kernel must find where that can happen; nearer, a wins, and the kernel
 * need not doubt it.  In a row, a and b are one class (x); in a 3 × 3
 * image at equal spacings, b above and a right of the centre, two
 * classes of one distance (y and x), whose products may also differ by
 * a float's step where the quotients meet. */
START_TEST (test_far_centres_tie_where_the_quotients_meet)
{
  static const float lows[] = {
    1, 0x1.fffffep-1f, 3, 0x1.fffffep+10f, -0x1p-20f, 0x1.8p-126f, -5.5f
  };
  static const double distances[] = { 1, 3, 0.7, 10 };
  char                where[96];
  int                 ties = 0;

  for (int e = 0; e < N_ELEMENTS (lows); e++)
    for (int m = 20; m <= 34; m++)
      for (int step = 0; step < 16; step++)
        for (int s = 0; s < N_ELEMENTS (distances); s++)
          {
            const float a = lows[e], b = nextafterf (a, INFINITY);
            const float c = (float) (a + fabs (a) * ldexp (1 + step / 16.0, m));
            const double dist   = distances[s];
            const double row[3] = { b, c, a };
            double       image[9];

            ties += (c - (double) a) / dist == (c - (double) b) / dist;
            snprintf (where, sizeof where, "a %a, centre %a, spacing %g", a, c,
                      dist);
            check_float_image (row, 3, 1, dist, 1, where);
            for (int i = 0; i < 9; i++)
              image[i] = i == 1 ? b : i == 4 ? c : i == 5 ? a : 2.0 * c + 1;
            check_float_image (image, 3, 3, dist, dist, where);
          }
  /* The sweep reaches the ties it is about. */
  ck_assert_int_gt (ties, 100);
}
END_TEST

START_TEST (test_products_that_underflow_are_not_plateaus)
{
  /* Floats, 17 × 1 × 3, spacing z 4, every voxel 1 but three: the
   * centre (16, 0, 1) 2⁻¹⁴⁸, alone in its vector of sixteen; below-left
   * of it (dz −1, dx −1: index 3, √17 away) the same; above it (dz +1:
   * 22) 2⁻¹⁴⁹.  The step to 22 drops 2⁻¹⁴⁹ over 4, a score of 2⁻¹⁵¹:
   * positive in double, zero in a float product, like the zero of 3,
   * whose class comes after 22's.  It is no tie: 22 wins. */
  enum
  {
    W = 17
  };
  float            f[W * 3];
  uint8_t          l[W * 3];
  const SegDescent d   = { SEG_TYPE_FLOAT, { 1, 1, 4 }, true };
  SegVolume        in  = seg_volume_packed (f, W, 1, 3, 4);
  SegVolume        out = seg_volume_packed (l, W, 1, 3, 1);

  for (int i = 0; i < W * 3; i++)
    f[i] = 1;
  f[W + 16] = f[15] = 0x1p-148f; /* the centre, and (15, 0, 0) */
  f[2 * W + 16]     = 0x1p-149f; /* (16, 0, 2) */
  ck_assert_int_eq (seg_descent_direction (&in, &out, 0, 0, 0, &d), SEG_OK);
  ck_assert_int_eq (l[W + 16], 22);
}
END_TEST

/* The centre's label in a 3 × 3 × 3 volume of type at spacing s: the
 * centre 5, the neighbours in low 1, the others 9. */
static int
centre_label (SegComponentType type, const double s[3], const bool low[27])
{
  Buf        in = buf_new (3, 3, 3, seg_component_size (type), packed);
  uint8_t    l[27];
  SegVolume  out = seg_volume_packed (l, 3, 3, 3, 1);
  SegDescent d   = { type, { s[0], s[1], s[2] }, true };

  for (int i = 0; i < 27; i++)
    set_number (&in.v, type, i % 3, i / 3 % 3, i / 9,
                i == 13  ? 5
                : low[i] ? 1
                         : 9);
  ck_assert_int_eq (seg_descent_direction (&in.v, &out, 0, 0, 0, &d), SEG_OK);
  buf_free (&in);
  return l[13];
}

/* The distance of each of the 27 indices of a 3-D neighbourhood at
 * spacing s (x, y, z). */
static void
neighbour_distances (const double s[3], double dist[27])
{
  for (int i = 0; i < 27; i++)
    {
      const double dx = (i % 3 - 1) * s[0], dy = (i / 3 % 3 - 1) * s[1],
                   dz = (i / 9 - 1) * s[2];

      dist[i] = sqrt (dx * dx + dy * dy + dz * dz);
    }
}

/* Every set of neighbours of one distance (the kernel takes classes of
 * one distance together: x and y where their spacings are equal, x, y
 * and z where all three are): a 3 × 3 × 3 cube, centre 5, the set at 1,
 * every other neighbour 9 (scoring below zero).  All of the set score
 * alike, so the label is the set's lowest index; without it, the next
 * one.  Float, u8 and int16 take the AVX-512 path where there is one,
 * double the other. */
START_TEST (test_neighbours_of_one_distance_tie_to_lowest_index)
{
  static const double spacings[][3] = {
    { 1, 1, 1 }, { 3, 3, 3 }, { 1, 1, 2 }, { 0.5, 0.5, 0.1 },
    { 2, 1, 1 }, { 1, 2, 1 }, { 1, 2, 3 },
  };
  static const SegComponentType kinds[] = { SEG_TYPE_FLOAT, SEG_TYPE_U8,
                                            SEG_TYPE_I16, SEG_TYPE_DOUBLE };

  for (int sp = 0; sp < N_ELEMENTS (spacings); sp++)
    {
      const double *s = spacings[sp];
      double        dist[27];

      neighbour_distances (s, dist);
      for (int first = 0; first < 27; first++)
        {
          bool in_set[27];
          bool earlier = false;

          /* One set per distance, from its lowest index. */
          for (int i = 0; i < first; i++)
            earlier |= i != 13 && dist[i] == dist[first];
          if (first == 13 || earlier)
            continue;
          for (int i = 0; i < 27; i++)
            in_set[i] = i != 13 && dist[i] == dist[first];
          for (int want = first; want < 27; want++)
            {
              if (!in_set[want])
                continue;
              for (int t = 0; t < N_ELEMENTS (kinds); t++)
                {
                  const int got = centre_label (kinds[t], s, in_set);

                  if (got != want)
                    ck_abort_msg ("spacing %g %g %g, type %d, set from %d: "
                                  "%d, not %d",
                                  s[0], s[1], s[2], (int) kinds[t], first, got,
                                  want);
                }
              in_set[want] = false;
            }
        }
    }
}
END_TEST

/* Neighbours whose distances differ as doubles but not as floats (an
 * axis thousands of times longer than the others): of two with one value,
 * the nearer scores higher, whatever their indices. */
START_TEST (test_distances_one_float_apart_are_told_apart)
{
  static const double           spacings[][3] = { { 0.0625, 0.0625, 972 },
                                                  { 5, 0.03125, 480 },
                                                  { 0.0234375, 56.5, 770 } };
  static const SegComponentType kinds[]       = { SEG_TYPE_FLOAT, SEG_TYPE_U8,
                                                  SEG_TYPE_I16, SEG_TYPE_DOUBLE };
  int                           pairs         = 0;

  for (int sp = 0; sp < N_ELEMENTS (spacings); sp++)
    {
      const double *s = spacings[sp];
      double        dist[27];

      neighbour_distances (s, dist);
      for (int a = 0; a < 27; a++)
        for (int b = a + 1; b < 27; b++)
          {
            const int want    = dist[a] < dist[b] ? a : b;
            bool      low[27] = { false };

            if (a == 13 || b == 13 || dist[a] == dist[b] ||
                (float) dist[a] != (float) dist[b])
              continue;
            pairs++;
            low[a] = low[b] = true;
            for (int t = 0; t < N_ELEMENTS (kinds); t++)
              {
                const int got = centre_label (kinds[t], s, low);

                if (got != want)
                  ck_abort_msg ("spacing %g %g %g, type %d, %d and %d: %d, "
                                "not %d",
                                s[0], s[1], s[2], (int) kinds[t], a, b, got,
                                want);
              }
          }
    }
  /* The spacings above have such pairs. */
  ck_assert_int_gt (pairs, 10);
}
END_TEST

START_TEST (test_bad_arguments_are_refused)
{
  double     v[8] = { 0 };
  uint8_t    l[8];
  SegVolume  in    = seg_volume_packed (v, 2, 2, 2, 8);
  SegVolume  out   = seg_volume_packed (l, 2, 2, 2, 1);
  SegVolume  small = seg_volume_packed (l, 1, 1, 1, 1);
  SegDescent d     = { SEG_TYPE_DOUBLE, { 1, 1, 1 }, true };
  SegDescent bad   = d;

  ck_assert_int_eq (seg_descent_direction (&in, &out, 0, 0, 0, &d), SEG_OK);
  ck_assert_int_eq (seg_descent_direction (&in, &out, 1, 0, 0, &d),
                    SEG_EBADARG);
  ck_assert_int_eq (seg_descent_direction (&in, &small, 1, 1, 1, &d), SEG_OK);
  ck_assert_int_eq (seg_descent_direction (&in, &small, -1, 0, 0, &d),
                    SEG_EBADARG);
  ck_assert_int_eq (seg_descent_direction (NULL, &out, 0, 0, 0, &d),
                    SEG_EBADARG);
  ck_assert_int_eq (seg_descent_direction (&in, &out, 0, 0, 0, NULL),
                    SEG_EBADARG);
  for (int a = 0; a < 3; a++)
    {
      const double wrong[] = { 0, -1, NAN, INFINITY };

      for (int i = 0; i < N_ELEMENTS (wrong); i++)
        {
          bad            = d;
          bad.spacing[a] = wrong[i];
          ck_assert_int_eq (seg_descent_direction (&in, &out, 0, 0, 0, &bad),
                            SEG_EBADARG);
        }
    }
  bad      = d;
  bad.type = SEG_TYPE_HALF;
  ck_assert_int_eq (seg_descent_direction (&in, &out, 0, 0, 0, &bad),
                    SEG_EBADTYPE);
  bad.type = SEG_TYPE_FLOAT; /* 4 bytes, the view's 8 */
  ck_assert_int_eq (seg_descent_direction (&in, &out, 0, 0, 0, &bad),
                    SEG_EBADTYPE);
  in.bpp = 8;
  out    = seg_volume_packed (v, 2, 2, 2, 8); /* labels are one byte */
  ck_assert_int_eq (seg_descent_direction (&in, &out, 0, 0, 0, &d),
                    SEG_EBADARG);
}
END_TEST

int
main (void)
{
  const TTest *const plain[] = {
    test_plateau_ties_to_lowest_index,
    test_minimum_and_lone_voxels_are_centres,
    test_spacing_weighs_the_steps,
    test_slices_meet_only_along_z,
    test_distinct_values_rounding_to_one_score_tie,
    test_far_centres_tie_where_the_quotients_meet,
    test_products_that_underflow_are_not_plateaus,
    test_neighbours_of_one_distance_tie_to_lowest_index,
    test_distances_one_float_apart_are_told_apart,
    test_bad_arguments_are_refused
  };
  Suite *s = suite_create ("descent");

  add_tcase (s, "rules", 30, plain, N_ELEMENTS (plain));
  add_loop_tcase (s, "random", 300, test_directions_match_reference, 4000);
  add_loop_tcase (s, "one band", 300, test_floats_of_one_band_match_reference,
                  3000);
  add_loop_tcase (s, "near ties", 300,
                  test_classes_within_rounding_are_ordered_exactly, 1000);
  return run_suite (s);
}
