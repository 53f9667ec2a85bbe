/* SPDX-License-Identifier: LGPL-3.0-or-later
 *
 * Unit tests of seg_average_pool() (lib/seg-average-pool.c), without GEGL.
 *
 *   - seeded random volumes of every component type, voxel layout, factor
 *     and stride, with and without alpha and background, compared with
 *     ref_average_pool() (tests/ref-average-pool.c); the 2×2 and 2×2×2
 *     shapes with row kernels once with the AVX-512 kernels allowed and
 *     once with the portable ones only;
 *   - one START_TEST per rule of DESIGN.md's "Averaging" and of the header,
 *     with the expected output worked out by hand (and the reference held
 *     to it as well);
 *   - exhaustive checks of the row kernels' division by the voxel count
 *     (every sum and count a block can have) and of half rounding (every
 *     tie between neighbouring halves);
 *   - 64³ blocks of maxima (no overflow), large streamed outputs;
 *   - argument validation: every bad argument gets its status and leaves
 *     the output untouched.
 *
 * Views are surrounded by sentinel bytes so that any write outside the
 * output view, or any write to the input, is caught.
 */
#include <check.h>
#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel-harness.h"
#include "ref-average-pool.h"
#include "seg-average-pool-private.h"
#include "seg-average-pool.h"

static const char *const type_names[] = {
  "u8", "u16", "u32", "half", "float", "double"
};

#define N_TYPES 6


/* Scratch of exactly the size the library asks for. */
static void *
scratch_new (const SegFactors *f, const SegPixelLayout *l)
{
  return scratch_of_size (seg_average_pool_scratch_size (f, l));
}

static int
bpp_of (const SegPixelLayout *l)
{
  return l->n_components * seg_component_size (l->type);
}


/* ---- Assertions --------------------------------------------------------- */

static bool
is_nan_component (const uint8_t *p, SegComponentType t)
{
  uint16_t h;
  float    f;
  double   d;

  switch (t)
    {
    case SEG_TYPE_HALF:
      memcpy (&h, p, 2);
      return (h & 0x7c00) == 0x7c00 && (h & 0x3ff) != 0;
    case SEG_TYPE_FLOAT:
      memcpy (&f, p, 4);
      return isnan (f);
    case SEG_TYPE_DOUBLE:
      memcpy (&d, p, 8);
      return isnan (d);
    default:
      return false;
    }
}

/* Voxels are equal when every component is bit for bit the same, or, for
 * floating-point types, NaN in both: which NaN a sum of NaNs gives depends
 * on the order of the operands of each addition, which the compiler is
 * free to swap. */
static bool
voxels_equal (const uint8_t *a, const uint8_t *b, const SegPixelLayout *l)
{
  const int size = seg_component_size (l->type);

  for (int c = 0; c < l->n_components; c++)
    {
      const uint8_t *x = a + c * size, *y = b + c * size;

      if (memcmp (x, y, (size_t) size) != 0 &&
          !(is_nan_component (x, l->type) && is_nan_component (y, l->type)))
        return false;
    }
  return true;
}

/* Fails with the first differing voxel.  Plain ifs rather than ck_assert
 * in the loop: check marks a point per assertion, which is slow. */
static void
assert_volumes_equal (const SegVolume *got, const SegVolume *want,
                      const SegPixelLayout *l, const char *context)
{
  for (int z = 0; z < want->depth; z++)
    for (int y = 0; y < want->height; y++)
      for (int x = 0; x < want->width; x++)
        {
          const uint8_t *g = at (got, x, y, z), *w = at (want, x, y, z);

          if (!voxels_equal (g, w, l))
            ck_abort_msg ("%s: first difference at x %d, y %d, z %d: "
                          "got %s, want %s", context, x, y, z,
                          hex_of (g, want->bpp).s, hex_of (w, want->bpp).s);
        }
}

/* Lets the kernel use its AVX-512 kernels (where the CPU has them) or
 * only its portable ones; the tests allow them again after each call. */
static void
allow_avx512 (bool allow)
{
  seg__average_pool_allow_avx512 (allow);
}


/* ---- Random values ------------------------------------------------------ */

typedef enum
{
  VALUES_UNIFORM,  /* anywhere in the type's range                        */
  VALUES_SMALL,    /* 0 … 3 and the like: many zero components            */
  VALUES_EXTREME,  /* 0, 1, the maximum and its neighbours, subnormals, … */
  VALUES_MIXED,    /* each voxel picks one of the above                   */
  N_VALUE_STYLES
} ValueStyle;

static const char *const style_names[] = {
  "uniform", "small", "extreme", "mixed"
};

static void
put_u (uint8_t *dst, SegComponentType t, uint64_t v)
{
  uint8_t  u8  = (uint8_t) v;
  uint16_t u16 = (uint16_t) v;
  uint32_t u32 = (uint32_t) v;

  switch (t)
    {
    case SEG_TYPE_U8:  memcpy (dst, &u8, 1);  break;
    case SEG_TYPE_U16: memcpy (dst, &u16, 2); break;
    default:           memcpy (dst, &u32, 4); break;
    }
}

static void
put_f (uint8_t *dst, SegComponentType t, double v)
{
  uint16_t h;
  float    f = (float) v;

  switch (t)
    {
    case SEG_TYPE_HALF:
      h = ref_half_from_double (v);
      memcpy (dst, &h, 2);
      break;
    case SEG_TYPE_FLOAT:
      memcpy (dst, &f, 4);
      break;
    default:
      memcpy (dst, &v, 8);
      break;
    }
}

static uint64_t
max_of (SegComponentType t)
{
  return t == SEG_TYPE_U8 ? 0xff : t == SEG_TYPE_U16 ? 0xffff : 0xffffffff;
}

/* A random significand × 2^e, e in lo … hi, either sign. */
static double
random_real (Rng *r, int lo, int hi)
{
  double m = (double) (rng_next (r) >> 11) * 0x1p-53;

  return (rng_chance (r, 50) ? -1 : 1) * ldexp (m, rng_range (r, lo, hi));
}

static void
random_extreme (Rng *r, uint8_t *dst, SegComponentType t)
{
  static const uint16_t halves[] = {
    0x0000, 0x8000, 0x0001, 0x8001, 0x03ff, 0x0400, 0x3c00, 0x7bff, 0xfbff,
    0x7bfe, 0x7c00, 0xfc00, 0x7e00, 0x3555
  };
  const double floats[] = {
    0.0, -0.0, 1.0, FLT_MAX, -FLT_MAX, FLT_MIN, FLT_TRUE_MIN, -FLT_TRUE_MIN,
    (double) 0x1p24f, INFINITY, -INFINITY, NAN
  };
  const double doubles[] = {
    0.0, -0.0, 1.0, DBL_MAX, -DBL_MAX, DBL_MIN, DBL_TRUE_MIN, 0x1p53,
    INFINITY, -INFINITY, NAN, 0x1p-1060
  };
  uint64_t max = max_of (t);
  int      k;

  switch (t)
    {
    case SEG_TYPE_HALF:
      k = rng_below (r, N_ELEMENTS (halves));
      /* Infinities and NaN rarely, so that most blocks stay finite. */
      if (halves[k] >= 0x7c00 && (halves[k] & 0x7fff) >= 0x7c00 &&
          !rng_chance (r, 10))
        k = 7;
      memcpy (dst, &halves[k], 2);
      break;
    case SEG_TYPE_FLOAT:
      k = rng_below (r, N_ELEMENTS (floats));
      if (!isfinite (floats[k]) && !rng_chance (r, 10))
        k = 3;
      put_f (dst, t, floats[k]);
      break;
    case SEG_TYPE_DOUBLE:
      k = rng_below (r, N_ELEMENTS (doubles));
      if (!isfinite (doubles[k]) && !rng_chance (r, 10))
        k = 3;
      put_f (dst, t, doubles[k]);
      break;
    default:
      {
        const uint64_t ints[] = { 0, 1, max, max - 1, max / 2, max / 2 + 1 };

        put_u (dst, t, ints[rng_below (r, N_ELEMENTS (ints))]);
      }
      break;
    }
}

/* One random component of type t at dst. */
static void
random_component (Rng *r, uint8_t *dst, SegComponentType t, ValueStyle style)
{
  uint16_t h;

  switch (style)
    {
    case VALUES_SMALL:
      if (t == SEG_TYPE_U8 || t == SEG_TYPE_U16 || t == SEG_TYPE_U32)
        put_u (dst, t, (uint64_t) rng_below (r, 4));
      else
        put_f (dst, t, rng_chance (r, 10) ? -0.0 : rng_range (r, -3, 3));
      return;
    case VALUES_EXTREME:
      random_extreme (r, dst, t);
      return;
    default:
      break;
    }
  switch (t)
    {
    case SEG_TYPE_HALF:
      /* Any finite pattern: normals and subnormals of either sign. */
      do
        h = (uint16_t) rng_next (r);
      while ((h & 0x7c00) == 0x7c00);
      memcpy (dst, &h, 2);
      break;
    case SEG_TYPE_FLOAT:
      /* Magnitudes far apart, so that the order of the additions shows
       * in the rounding of the sums. */
      put_f (dst, t, random_real (r, -30, 40));
      break;
    case SEG_TYPE_DOUBLE:
      put_f (dst, t, random_real (r, -60, 80));
      break;
    default:
      put_u (dst, t, rng_next (r) & max_of (t));
      break;
    }
}

/* A random straight alpha: often fully transparent or fully opaque. */
static void
random_alpha (Rng *r, uint8_t *dst, SegComponentType t)
{
  int pick = rng_below (r, 10);

  if (t == SEG_TYPE_U8 || t == SEG_TYPE_U16 || t == SEG_TYPE_U32)
    put_u (dst, t, pick < 3 ? 0 : pick < 6 ? max_of (t)
                             : rng_next (r) & max_of (t));
  else
    put_f (dst, t, pick < 3 ? 0.0 : pick < 6 ? 1.0
                              : (double) (rng_next (r) >> 11) * 0x1p-53);
}

/* Fills a view: background% of the voxels are background (all bytes
 * zero), the others random, alpha as an alpha. */
static void
fill_random (Rng *r, const SegVolume *v, const SegPixelLayout *l,
             ValueStyle style, int background)
{
  const int size = seg_component_size (l->type);

  for (int z = 0; z < v->depth; z++)
    for (int y = 0; y < v->height; y++)
      for (int x = 0; x < v->width; x++)
        {
          uint8_t   *p = at (v, x, y, z);
          ValueStyle s = style == VALUES_MIXED
                           ? (ValueStyle) rng_below (r, VALUES_MIXED)
                           : style;

          if (rng_chance (r, background))
            {
              memset (p, 0, (size_t) v->bpp);
              continue;
            }
          for (int c = 0; c < l->n_components; c++)
            if (c == l->alpha && rng_chance (r, 70))
              random_alpha (r, p + c * size, l->type);
            else
              random_component (r, p + c * size, l->type, s);
        }
}


/* ---- Random comparison with the reference ------------------------------- */

typedef struct
{
  int            seed;
  int            w, h, d;
  SegFactors     f;
  SegPixelLayout layout;
  bool           sparse;
  int            background;  /* percent of voxels that are background */
  ValueStyle     style;
  Strides        in_strides, out_strides;
  bool           avx512;      /* AVX-512 kernels allowed               */
} Case;

/* The layouts with row kernels for full 2×2 and 2×2×2 blocks. */
static SegPixelLayout
random_fast_layout (Rng *r)
{
  static const SegPixelLayout fast[] = {
    { SEG_TYPE_U8, 1, -1 }, { SEG_TYPE_U8, 1, -1 }, { SEG_TYPE_U8, 1, 0 },
    { SEG_TYPE_U16, 1, -1 }, { SEG_TYPE_FLOAT, 1, -1 },
    { SEG_TYPE_FLOAT, 1, 0 }, { SEG_TYPE_U8, 2, -1 }, { SEG_TYPE_U8, 3, -1 },
    { SEG_TYPE_U8, 4, -1 },
  };

  return fast[rng_below (r, N_ELEMENTS (fast))];
}

static Case
random_case (Rng *r, int seed, bool fast_shape)
{
  static const int backgrounds[] = { 0, 0, 10, 30, 50, 90, 100 };
  Case c;

  c.seed = seed;
  if (fast_shape)
    {
      /* Full blocks need widths ≥ 2; wide rows, so that the vectorised
       * loop bodies run, not just their scalar tails (64 u8 blocks per
       * AVX-512 step), with odd widths for a partial block at the end. */
      c.layout = random_fast_layout (r);
      c.f.x = c.f.y = 2;
      c.f.z = rng_range (r, 1, 2);
      if (rng_chance (r, 30))
        {
          c.w = rng_range (r, 2, 400);
          c.h = rng_range (r, 1, 6);
          c.d = rng_range (r, 1, 3);
        }
      else
        {
          c.w = rng_range (r, 2, 40);
          c.h = rng_range (r, 1, 40);
          c.d = rng_range (r, 1, 5);
        }
    }
  else
    {
      c.layout.type         = (SegComponentType) rng_below (r, N_TYPES);
      c.layout.n_components = rng_range (r, 1, 4);
      c.layout.alpha        = rng_chance (r, 50)
                                ? rng_below (r, c.layout.n_components) : -1;
      c.w   = rng_range (r, 1, 40);
      c.h   = rng_range (r, 1, 40);
      c.d   = rng_range (r, 1, 5);
      c.f.x = rng_range (r, 1, 5);
      c.f.y = rng_range (r, 1, 5);
      c.f.z = rng_range (r, 1, 5);
    }
  c.sparse      = rng_chance (r, 50);
  c.background  = backgrounds[rng_below (r, N_ELEMENTS (backgrounds))];
  c.style       = (ValueStyle) rng_below (r, N_VALUE_STYLES);
  c.in_strides  = random_strides (r, bpp_of (&c.layout));
  c.out_strides = random_strides (r, bpp_of (&c.layout));
  c.avx512      = seed % 2 == 0;
  return c;
}

static void
describe_case (char *buf, size_t n, const Case *c)
{
  char in_l[80], out_l[80];

  describe_strides (in_l, sizeof in_l, &c->in_strides);
  describe_strides (out_l, sizeof out_l, &c->out_strides);
  snprintf (buf, n,
            "seed %d: input %d×%d×%d, factors %d,%d,%d, %s × %d, alpha %d, "
            "sparse %s, %d%% background, %s values, AVX-512 %s, "
            "input strides %s, output strides %s",
            c->seed, c->w, c->h, c->d, c->f.x, c->f.y, c->f.z,
            type_names[c->layout.type], c->layout.n_components,
            c->layout.alpha, c->sparse ? "on" : "off", c->background,
            style_names[c->style], c->avx512 ? "allowed" : "off", in_l,
            out_l);
}

static void
run_case (Rng *r, const Case *c)
{
  const int bpp = bpp_of (&c->layout);
  const int ow = seg_pooled_size (c->w, c->f.x);
  const int oh = seg_pooled_size (c->h, c->f.y);
  const int od = seg_pooled_size (c->d, c->f.z);
  char      context[512];
  Buf       in   = buf_new (c->w, c->h, c->d, bpp, c->in_strides);
  Buf       out  = buf_new (ow, oh, od, bpp, c->out_strides);
  Buf       want = buf_new (ow, oh, od, bpp, packed);
  void     *scratch = scratch_new (&c->f, &c->layout);
  uint8_t  *in_before;
  SegStatus status;

  fill_random (r, &in.v, &c->layout, c->style, c->background);
  in_before = copy_of (in.mem, in.size);
  describe_case (context, sizeof context, c);

  allow_avx512 (c->avx512);
  status = seg_average_pool (&in.v, &out.v, &c->f, &c->layout, c->sparse,
                             scratch);
  allow_avx512 (true);
  ref_average_pool (&in.v, &want.v, &c->f, &c->layout, c->sparse);

  assert_status (status, SEG_OK, context);
  assert_volumes_equal (&out.v, &want.v, &c->layout, context);
  assert_padding_intact (&out, context);
  assert_input_unchanged (&in, in_before, context);

  free (in_before);
  free (scratch);
  buf_free (&in);
  buf_free (&out);
  buf_free (&want);
}

/* Every factor 1 … 5 on every axis, every type, 1 … 4 components, alpha or
 * not, any strides. */
START_TEST (test_random_volumes_match_reference)
{
  Rng  r = rng_new ((uint64_t) _i, 1);
  Case c = random_case (&r, _i, false);

  run_case (&r, &c);
}
END_TEST

/* The 2×2×1 and 2×2×2 shapes on the layouts that have row kernels. */
START_TEST (test_random_2x2_and_2x2x2_volumes_match_reference)
{
  Rng  r = rng_new ((uint64_t) _i, 2);
  Case c = random_case (&r, _i, true);

  run_case (&r, &c);
}
END_TEST


/* ---- Hand-worked cases -------------------------------------------------- */

static const SegFactors f111 = { 1, 1, 1 };
static const SegFactors f211 = { 2, 1, 1 };
static const SegFactors f221 = { 2, 2, 1 };
static const SegFactors f222 = { 2, 2, 2 };
static const SegFactors f331 = { 3, 3, 1 };
static const SegFactors f441 = { 4, 4, 1 };

static const SegPixelLayout y_u8       = { SEG_TYPE_U8, 1, -1 };
static const SegPixelLayout y_u16      = { SEG_TYPE_U16, 1, -1 };
static const SegPixelLayout y_u32      = { SEG_TYPE_U32, 1, -1 };
static const SegPixelLayout y_half     = { SEG_TYPE_HALF, 1, -1 };
static const SegPixelLayout y_float    = { SEG_TYPE_FLOAT, 1, -1 };
static const SegPixelLayout y_double   = { SEG_TYPE_DOUBLE, 1, -1 };
static const SegPixelLayout rgba_u8    = { SEG_TYPE_U8, 4, 3 };
static const SegPixelLayout rgba_float = { SEG_TYPE_FLOAT, 4, 3 };

/* Pools packed w × h × d voxels (repeated `tiles` times side by side)
 * with the kernel into a padded output, with the AVX-512 kernels allowed
 * or not, and checks that the reference gives the same, so that a
 * hand-worked expectation that fails on both points at the test or the
 * contract, one that fails on the kernel alone at the kernel.  Returns
 * the packed output of one tile, which the caller frees. */
static uint8_t *
pool_packed (const void *voxels, int w, int h, int d,
             const SegPixelLayout *l, SegFactors f, bool sparse, int tiles,
             bool avx512, const char *context)
{
  const Strides padded = { 3, 5, false, false };
  const int     bpp = bpp_of (l);
  const int     tw = w * tiles;
  const int     ow = seg_pooled_size (tw, f.x);
  const int     oh = seg_pooled_size (h, f.y);
  const int     od = seg_pooled_size (d, f.z);
  const int     tile_ow = ow / tiles;
  Buf           in   = buf_new (tw, h, d, bpp, packed);
  Buf           out  = buf_new (ow, oh, od, bpp, padded);
  Buf           ref  = buf_new (ow, oh, od, bpp, packed);
  void         *scratch = scratch_new (&f, l);
  uint8_t      *result = malloc ((size_t) (tile_ow * oh * od * bpp));
  uint8_t      *p = result;
  SegStatus     status;

  ck_assert_ptr_nonnull (result);
  for (int z = 0; z < d; z++)
    for (int y = 0; y < h; y++)
      for (int x = 0; x < tw; x++)
        memcpy (at (&in.v, x, y, z),
                (const uint8_t *) voxels +
                (size_t) (((z * h + y) * w + x % w) * bpp), (size_t) bpp);

  allow_avx512 (avx512);
  status = seg_average_pool (&in.v, &out.v, &f, l, sparse, scratch);
  allow_avx512 (true);
  assert_status (status, SEG_OK, context);
  assert_padding_intact (&out, context);
  ref_average_pool (&in.v, &ref.v, &f, l, sparse);

  for (int z = 0; z < od; z++)
    for (int y = 0; y < oh; y++)
      for (int x = 0; x < ow; x++)
        {
          if (!voxels_equal (at (&out.v, x, y, z), at (&ref.v, x, y, z), l))
            ck_abort_msg ("%s: kernel and reference differ at x %d, y %d, "
                          "z %d: kernel %s, reference %s", context, x, y, z,
                          hex_of (at (&out.v, x, y, z), bpp).s,
                          hex_of (at (&ref.v, x, y, z), bpp).s);
          /* Every tile must give the first tile's output. */
          if (x >= tile_ow &&
              !voxels_equal (at (&out.v, x, y, z),
                             at (&out.v, x % tile_ow, y, z), l))
            ck_abort_msg ("%s: tile %d differs from tile 0 at x %d, y %d, "
                          "z %d", context, x / tile_ow, x % tile_ow, y, z);
        }
  for (int z = 0; z < od; z++)
    for (int y = 0; y < oh; y++)
      for (int x = 0; x < tile_ow; x++, p += bpp)
        memcpy (p, at (&out.v, x, y, z), (size_t) bpp);

  free (scratch);
  buf_free (&in);
  buf_free (&out);
  buf_free (&ref);
  return result;
}

/* Pools packed voxels and asserts the output is want (packed, raster
 * order), with and without the AVX-512 kernels, and, when the blocks tile
 * the width of a small image, also with the image repeated 67 times side
 * by side, so that the row kernels run their vectorised bodies and not
 * only their tails. */
static void
assert_pools_to (const void *voxels, int w, int h, int d,
                 const SegPixelLayout *l, SegFactors f, bool sparse,
                 const void *want, const char *what)
{
  const int bpp = bpp_of (l);
  const int ow = seg_pooled_size (w, f.x);
  const int oh = seg_pooled_size (h, f.y);
  const int od = seg_pooled_size (d, f.z);

  for (int avx512 = 0; avx512 < 2; avx512++)
    for (int tiles = 1; tiles <= 67; tiles += 66)
      {
        char     context[200];
        uint8_t *got;

        /* Repeated only when that stays small: the reference is slow. */
        if (tiles > 1 && (w % f.x != 0 || w * h * d > 2048))
          continue;
        snprintf (context, sizeof context, "%s (%s × %d, factors %d,%d,%d, "
                  "sparse %s, %d tile(s), AVX-512 %s)", what,
                  type_names[l->type], l->n_components, f.x, f.y, f.z,
                  sparse ? "on" : "off", tiles, avx512 ? "allowed" : "off");
        got = pool_packed (voxels, w, h, d, l, f, sparse, tiles, avx512,
                           context);
        for (int i = 0; i < ow * oh * od; i++)
          if (!voxels_equal (got + i * bpp, (const uint8_t *) want + i * bpp,
                             l))
            ck_abort_msg ("%s: output voxel %d (x %d, y %d, z %d) is %s, "
                          "want %s", context, i, i % ow, i / ow % oh,
                          i / (ow * oh), hex_of (got + i * bpp, bpp).s,
                          hex_of ((const uint8_t *) want + i * bpp, bpp).s);
        free (got);
      }
}

START_TEST (test_integer_mean_rounds_down)
{
  /* 1 + 2 + 2 + 2 = 7, 7 / 4 = 1.75 → 1; likewise at each width. */
  static const uint8_t  in8[]  = { 1, 2, 2, 2 };
  static const uint8_t  out8[] = { 1 };
  static const uint16_t in16[] = { 65535, 65535, 65535, 65534 };
  static const uint16_t out16[] = { 65534 };
  static const uint32_t in32[] = { 0xffffffff, 0xffffffff, 0xffffffff, 1 };
  static const uint32_t out32[] = { 0xbfffffff };  /* (3·2^32 - 2) / 4   */
  static const uint8_t  in3[]  = { 0, 0, 2 };      /* 2 / 3 → 0          */
  static const uint8_t  out3[] = { 0 };

  assert_pools_to (in8, 2, 2, 1, &y_u8, f221, false, out8, "u8");
  assert_pools_to (in8, 2, 2, 1, &y_u8, f221, true, out8, "u8");
  assert_pools_to (in16, 2, 2, 1, &y_u16, f221, false, out16, "u16");
  assert_pools_to (in32, 2, 2, 1, &y_u32, f221, false, out32, "u32");
  assert_pools_to (in3, 3, 1, 1, &y_u8, (SegFactors) { 3, 1, 1 }, false,
                   out3, "u8 by 3");
}
END_TEST

START_TEST (test_factor_4_is_exact_mean_not_mean_of_means)
{
  /* Quadrant sums 3, 3, 3, 7: means of 2×2 quadrants 0, 0, 0, 1, whose
   * mean is 0; the 4×4 mean is 16 / 16 = 1. */
  static const uint8_t in[] = {
    3, 0, 1, 1,
    0, 0, 1, 0,
    0, 1, 4, 0,
    2, 0, 1, 2,
  };
  static const uint8_t exact[] = { 1 };
  static const uint8_t halves[] = { 0, 0, 0, 1 };

  assert_pools_to (in, 4, 4, 1, &y_u8, f221, false, halves, "by 2");
  assert_pools_to (in, 4, 4, 1, &y_u8, f441, false, exact, "by 4");
  assert_pools_to (in, 4, 4, 1, &y_u8, f441, true, exact, "by 4, sparse");
}
END_TEST

START_TEST (test_sparse_leaves_background_out_of_sum_and_count)
{
  /* 2×2 blocks {0, 4 / 0, 8} and {0, 0 / 0, 9}: sparse, 12 / 2 and
   * 9 / 1; not sparse, 12 / 4 and 9 / 4. */
  static const uint8_t rows[]    = { 0, 4, 0, 0,
                                     0, 8, 0, 9 };
  static const uint8_t sparse[]  = { 6, 9 };
  static const uint8_t plain[]   = { 3, 2 };
  static const float   fin[]     = { 0.0f, 4.0f, 0.0f, 8.0f };
  static const float   fsparse[] = { 6.0f };
  static const float   fplain[]  = { 3.0f };

  assert_pools_to (rows, 4, 2, 1, &y_u8, f221, true, sparse, "u8");
  assert_pools_to (rows, 4, 2, 1, &y_u8, f221, false, plain, "u8");
  assert_pools_to (fin, 2, 2, 1, &y_float, f221, true, fsparse, "float");
  assert_pools_to (fin, 2, 2, 1, &y_float, f221, false, fplain, "float");
}
END_TEST

START_TEST (test_sparse_all_background_block_gives_background)
{
  static const uint8_t  in[] = { 0, 0, 7, 7,
                                 0, 0, 7, 7 };
  static const uint8_t  want[] = { 0, 7 };
  static const uint8_t  rgba[] = { 0, 0, 0, 0,  0, 0, 0, 0 };
  static const uint8_t  rgba_want[] = { 0, 0, 0, 0 };
  static const double   d[] = { 0.0, 0.0 };
  static const double   d_want[] = { 0.0 };

  assert_pools_to (in, 4, 2, 1, &y_u8, f221, true, want, "u8");
  assert_pools_to (in, 4, 2, 1, &y_u8, f222, true, want, "u8 2×2×2");
  assert_pools_to (rgba, 2, 1, 1, &rgba_u8, f211, true, rgba_want, "rgba");
  assert_pools_to (d, 2, 1, 1, &y_double, f211, true, d_want, "double");
}
END_TEST

START_TEST (test_negative_zero_is_not_background)
{
  /* Sparse: -0.0 counts (its sign bit is set), +0.0 does not. */
  static const float in[]   = { -0.0f, 4.0f, 0.0f, 0.0f };
  static const float want[] = { 2.0f };
  static const float only[] = { -0.0f, 0.0f, 0.0f, 0.0f };
  static const float negz[] = { -0.0f };
  static const uint32_t plus_zero[] = { 0 };
  static const float all_negz[] = { -0.0f, -0.0f, -0.0f, -0.0f };
  static const uint16_t h_only[] = { 0x8000, 0, 0, 0 };
  static const uint16_t h_negz[] = { 0x8000 };

  assert_pools_to (in, 2, 2, 1, &y_float, f221, true, want, "-0 and 4");
  /* The mean of one -0.0 is -0.0: not background, and not +0.0. */
  assert_pools_to (only, 2, 2, 1, &y_float, f221, true, negz, "-0 alone");
  assert_pools_to (all_negz, 2, 2, 1, &y_float, f221, false, negz,
                   "all -0, not sparse");
  assert_pools_to (h_only, 2, 2, 1, &y_half, f221, true, h_negz, "half -0");
  /* Not sparse: -0 + 0 + 0 + 0 = +0. */
  assert_pools_to (only, 2, 2, 1, &y_float, f221, false, plus_zero,
                   "-0 and +0, not sparse");
}
END_TEST

START_TEST (test_partial_edge_blocks_average_what_exists)
{
  /* 5×3 by 2: right column blocks are 1 wide, the bottom row 1 high. */
  static const uint8_t in[] = {
    1, 3, 10, 20, 7,
    5, 7, 30, 40, 9,
    100, 50, 0, 1, 255,
  };
  static const uint8_t want[] = {
    4, 25, 8,      /* (1+3+5+7)/4, (10+20+30+40)/4, (7+9)/2 */
    75, 0, 255,    /* (100+50)/2, (0+1)/2, 255              */
  };
  static const uint8_t sparse[] = {
    4, 25, 8,
    75, 1, 255,    /* the 0 is background: 1 / 1            */
  };
  static const float fin[] = { 1, 2, 3,
                               4, 5, 6,
                               7, 8, 9 };
  static const float fwant[] = { 3.0f, 4.5f, 7.5f, 9.0f };
  static const uint8_t deep[] = { 10, 20, 30 };  /* 1×1×3 by 2, 2, 2 */
  static const uint8_t deep_want[] = { 15, 30 };

  assert_pools_to (in, 5, 3, 1, &y_u8, f221, false, want, "u8");
  assert_pools_to (in, 5, 3, 1, &y_u8, f221, true, sparse, "u8 sparse");
  assert_pools_to (fin, 3, 3, 1, &y_float, f221, false, fwant, "float");
  assert_pools_to (deep, 1, 1, 3, &y_u8, f222, false, deep_want, "depth");
}
END_TEST

START_TEST (test_factor_larger_than_volume_gives_one_block)
{
  static const uint16_t in[] = { 1, 2, 3, 4, 5, 6 };
  static const uint16_t want[] = { 3 };  /* 21 / 6 = 3.5 → 3 */
  const SegFactors      f = { SEG_MAX_FACTOR, SEG_MAX_FACTOR, SEG_MAX_FACTOR };

  assert_pools_to (in, 3, 2, 1, &y_u16, f, false, want, "64³ over 3×2");
}
END_TEST

START_TEST (test_factor_1_is_identity)
{
  /* Every half pattern (NaNs stay NaN), and other types' extremes. */
  uint16_t      *halves = malloc (65536 * sizeof *halves);
  static const float floats[] = {
    -0.0f, 0.0f, 1.0f, FLT_MAX, -FLT_TRUE_MIN, 0x1p-140f, INFINITY, 3.5f
  };
  static const double doubles[] = {
    -0.0, DBL_MAX, DBL_TRUE_MIN, -1.0 / 3.0, -INFINITY, 0x1p-1070
  };
  static const uint32_t ints[] = { 0, 1, 0xffffffff, 0x80000000 };

  ck_assert_ptr_nonnull (halves);
  for (int i = 0; i < 65536; i++)
    halves[i] = (uint16_t) i;
  for (int sparse = 0; sparse < 2; sparse++)
    {
      assert_pools_to (halves, 256, 256, 1, &y_half, f111, sparse, halves,
                       "halves");
      assert_pools_to (floats, 2, 2, 2, &y_float, f111, sparse, floats,
                       "floats");
      assert_pools_to (doubles, 3, 2, 1, &y_double, f111, sparse, doubles,
                       "doubles");
      assert_pools_to (ints, 4, 1, 1, &y_u32, f111, sparse, ints, "u32");
    }
  free (halves);
}
END_TEST


/* ---- Floating-point rounding and order ---------------------------------- */

START_TEST (test_float_mean_is_rounded_once)
{
  /* 1 + 2^-24 + 2^-24 + 2^-24 is 1 + 3·2^-24 in double, and its quarter,
   * 0.25 + 1.5 ulp, rounds (a tie, to even) to 0.25 + 2^-24.  Summed in
   * float instead, each 1 + 2^-24 would round back to 1, giving 0.25. */
  static const float in[] = { 1.0f, 0x1p-24f, 0x1p-24f, 0x1p-24f };
  static const float want[] = { 0x1p-2f + 0x1p-24f };
  static const double din[] = { 1.0, 0x1p-53, 0x1p-53, 0x1p-53 };
  static const double dwant[] = { 0.25 };  /* the double sum is 1 */
  float via_float = ((1.0f + 0x1p-24f) + 0x1p-24f + 0x1p-24f) / 4.0f;

  ck_assert_msg (via_float != want[0], "the case does not tell the ways "
                 "apart");
  assert_pools_to (in, 2, 2, 1, &y_float, f221, false, want, "2×2");
  assert_pools_to (in, 2, 2, 1, &y_float, f221, true, want, "2×2 sparse");
  assert_pools_to (in, 4, 1, 1, &y_float, (SegFactors) { 4, 1, 1 }, false,
                   want, "4×1");
  assert_pools_to (din, 2, 2, 1, &y_double, f221, false, dwant, "double");
}
END_TEST

START_TEST (test_sums_run_in_raster_order)
{
  /* (2^60 + 1) rounds to 2^60 in double, so a block 2^60, 1 / -2^60, 1
   * sums to 1 in raster order (((a + b) + c) + d) but to 2 column by
   * column ((a + c) + b + d); mean 0.25, not 0.5. */
  static const float  in[] = { 0x1p60f, 1.0f, -0x1p60f, 1.0f };
  static const float  want[] = { 0.25f };
  /* 2×2×2: slice 0 is 2^60, 1 / 1, 1; slice 1 is -2^60, 0 / 0, 0.
   * Raster order: 2^60 (+1 +1 +1 lost) - 2^60 = 0; z before y would give
   * 2^60 - 2^60 + 1 + 1 + 1 = 3. */
  static const float  in3[] = { 0x1p60f, 1.0f, 1.0f, 1.0f,
                                -0x1p60f, 0.0f, 0.0f, 0.0f };
  static const float  want3[] = { 0.0f };
  static const double din[] = { 0x1p60, 1.0, -0x1p60, 1.0 };
  static const double dwant[] = { 0.25 };
  /* 3×3: row 0 is 2^60, 1, 1; row 1 is -2^60, 1, 1; row 2 is 1, 1, 1:
   * raster order gives 0 + 2 + 3 = 5, so 5/9. */
  static const float  in9[] = { 0x1p60f, 1, 1,  -0x1p60f, 1, 1,  1, 1, 1 };
  static const float  want9[] = { (float) (5.0 / 9.0) };

  assert_pools_to (in, 2, 2, 1, &y_float, f221, false, want, "2×2");
  assert_pools_to (in, 2, 2, 1, &y_float, f221, true, want, "2×2 sparse");
  assert_pools_to (in3, 2, 2, 2, &y_float, f222, false, want3, "2×2×2");
  assert_pools_to (in3, 2, 2, 2, &y_float, f222, true, want3,
                   "2×2×2 sparse");
  assert_pools_to (din, 2, 2, 1, &y_double, f221, false, dwant, "double");
  assert_pools_to (in9, 3, 3, 1, &y_float, f331, false, want9, "3×3");
}
END_TEST

START_TEST (test_half_mean_rounds_to_nearest_even)
{
  /* Means of pairs (factor 2 along x), each exactly halfway between two
   * neighbouring halves, so that only the tie rule decides. */
  static const uint16_t in[] = {
    0x3c00, 0x3c01,   /* 1 and 1 + 2^-10: 1 + 2^-11 → 1 (even)          */
    0x3c01, 0x3c02,   /* → 1 + 2^-9 (0x3c02, even)                       */
    0x0000, 0x0001,   /* 0 and 2^-24: 2^-25 → 0 (even)                   */
    0x0001, 0x0002,   /* 1.5·2^-24 → 2^-23 (0x0002, even)                */
    0x03ff, 0x0400,   /* largest subnormal and smallest normal → 0x0400  */
    0x8001, 0x8000,   /* -2^-24 and -0: -2^-25 → -0                      */
    0x7bfe, 0x7bff,   /* 65472 and 65504: 65488 → 0x7bfe (even)          */
  };
  static const uint16_t want[] = {
    0x3c00, 0x3c02, 0x0000, 0x0002, 0x0400, 0x8000, 0x7bfe
  };
  /* Not ties: thirds. */
  static const uint16_t thirds_in[] = {
    0x3c00, 0x0000, 0x0000,   /* 1/3 → 0x3555 (0.333251953125)           */
    0x0001, 0x0000, 0x0000,   /* 2^-24 / 3 → 0 (below 2^-25)             */
    0x0002, 0x0000, 0x0000,   /* 2^-23 / 3 = 0.67·2^-24 → 2^-24          */
  };
  static const uint16_t thirds_want[] = { 0x3555, 0x0000, 0x0001 };

  assert_pools_to (in, 14, 1, 1, &y_half, f211, false, want, "ties");
  assert_pools_to (thirds_in, 9, 1, 1, &y_half, (SegFactors) { 3, 1, 1 },
                   false, thirds_want, "thirds");
}
END_TEST

START_TEST (test_half_every_tie_between_neighbours_goes_to_even)
{
  /* Every pair of neighbouring finite halves of either sign, pooled by 2:
   * each mean is a tie, and together they cover every binade, the
   * subnormals and the step into the normals. */
  const int      pairs = 0x7bff * 2;
  uint16_t      *in = malloc ((size_t) pairs * 2 * sizeof *in);
  uint16_t      *want = malloc ((size_t) pairs * sizeof *want);
  SegPixelLayout l = y_half;
  int            k = 0;

  ck_assert_ptr_nonnull (in);
  ck_assert_ptr_nonnull (want);
  for (int sign = 0; sign < 2; sign++)
    for (int h = 0; h < 0x7bff; h++, k++)
      {
        uint16_t a = (uint16_t) (h | sign << 15), b = (uint16_t) (a + 1);
        uint16_t even = (h & 1) == 0 ? a : b;

        in[2 * k] = a;
        in[2 * k + 1] = b;
        want[k] = even;  /* the tie goes to the even pattern */
        if (ref_half_from_double ((ref_half_to_double (a) +
                                   ref_half_to_double (b)) / 2) != even)
          ck_abort_msg ("reference: mean of 0x%04x and 0x%04x is not 0x%04x",
                        a, b, even);
      }
  assert_pools_to (in, pairs * 2, 1, 1, &l, f211, false, want,
                   "neighbour pairs");
  free (in);
  free (want);
}
END_TEST


/* ---- Alpha -------------------------------------------------------------- */

START_TEST (test_transparent_pixel_does_not_tint)
{
  /* Transparent red next to opaque blue: blue, half opaque. */
  static const uint8_t in[]   = { 255, 0, 0, 0,   0, 0, 255, 255 };
  static const uint8_t want[] = { 0, 0, 255, 127 };
  static const float   fin[]  = { 1, 0, 0, 0,   0, 0, 1, 1 };
  static const float   fwant[] = { 0, 0, 1, 0.5f };
  /* The same with the alpha first (A R G B). */
  static const uint8_t argb[] = { 0, 255, 0, 0,   255, 0, 0, 255 };
  static const uint8_t argb_want[] = { 127, 0, 0, 255 };
  const SegPixelLayout argb_u8 = { SEG_TYPE_U8, 4, 0 };

  for (int sparse = 0; sparse < 2; sparse++)
    {
      assert_pools_to (in, 2, 1, 1, &rgba_u8, f211, sparse, want, "u8");
      assert_pools_to (fin, 2, 1, 1, &rgba_float, f211, sparse, fwant,
                       "float");
      assert_pools_to (argb, 2, 1, 1, &argb_u8, f211, sparse, argb_want,
                       "argb u8");
    }
}
END_TEST

/* Whatever a fully transparent voxel's colour holds — infinities, NaN, a
 * negative number that would make a zero sum -0 — it adds nothing. */
START_TEST (test_transparent_infinite_or_nan_colour_does_not_tint)
{
  const float inf = (float) INFINITY, nan = (float) NAN;
  const float fin[] = { inf, nan, -5, 0,   0, 0.5f, 0, 1,
                        -inf, -0.0f, 2, 0,   0, 0.25f, 1, 1 };
  const float fwant[] = { 0, 0.375f, 0.5f, 0.5f };

  for (int sparse = 0; sparse < 2; sparse++)
    assert_pools_to (fin, 2, 2, 1, &rgba_float, f221, sparse, fwant,
                     "float, 2x2");
}
END_TEST

START_TEST (test_colour_is_weighted_by_alpha)
{
  /* (200·64 + 0·192) / 256 = 50; (0·64 + 200·192) / 256 = 150;
   * alpha 256 / 2 = 128.  u16: the same scaled, with rounding down:
   * R (1000·1 + 0·2) / 3 = 333, B (0·1 + 1000·2) / 3 = 666, A 3 / 2 = 1. */
  static const uint8_t  in[]   = { 200, 0, 0, 64,   0, 0, 200, 192 };
  static const uint8_t  want[] = { 50, 0, 150, 128 };
  static const uint16_t in16[] = { 1000, 0, 0, 1,   0, 0, 1000, 2 };
  static const uint16_t want16[] = { 333, 0, 666, 1 };
  const SegPixelLayout  rgba_u16 = { SEG_TYPE_U16, 4, 3 };

  assert_pools_to (in, 2, 1, 1, &rgba_u8, f211, false, want, "u8");
  assert_pools_to (in16, 2, 1, 1, &rgba_u16, f211, false, want16, "u16");
}
END_TEST

START_TEST (test_zero_total_alpha_gives_colour_zero)
{
  static const uint8_t  in[]   = { 200, 100, 50, 0,   10, 20, 30, 0 };
  static const uint8_t  want[] = { 0, 0, 0, 0 };
  static const float    fin[]  = { 0.5f, 1, 2, 0,   3, 4, 5, 0 };
  static const float    fwant[] = { 0, 0, 0, 0 };

  for (int sparse = 0; sparse < 2; sparse++)
    {
      assert_pools_to (in, 2, 1, 1, &rgba_u8, f211, sparse, want, "u8");
      assert_pools_to (fin, 2, 1, 1, &rgba_float, f211, sparse, fwant,
                       "float");
    }
}
END_TEST

START_TEST (test_sparse_transparent_voxel_counts_in_alpha)
{
  /* Background (all zero) is left out; a transparent voxel with colour is
   * not background: it counts in |P| (halving alpha) but adds no colour. */
  static const uint8_t in[] = {
    0, 0, 0, 0,          10, 20, 30, 0,
    100, 100, 100, 255,  0, 0, 0, 0,
  };
  static const uint8_t sparse[] = { 100, 100, 100, 127 };
  static const uint8_t plain[]  = { 100, 100, 100, 63 };

  assert_pools_to (in, 2, 2, 1, &rgba_u8, f221, true, sparse, "sparse");
  assert_pools_to (in, 2, 2, 1, &rgba_u8, f221, false, plain, "plain");
}
END_TEST

START_TEST (test_premultiplied_alpha_is_a_plain_mean)
{
  /* alpha = -1: every component is a plain mean; the transparent red
   * tints, as it should for premultiplied data (where it cannot occur). */
  static const uint8_t in[]   = { 255, 0, 0, 0,   0, 0, 255, 255 };
  static const uint8_t want[] = { 127, 0, 127, 127 };
  static const float   fin[]  = { 1, 0, 0, 0,   0, 0, 1, 1 };
  static const float   fwant[] = { 0.5f, 0, 0.5f, 0.5f };
  const SegPixelLayout premul_u8    = { SEG_TYPE_U8, 4, -1 };
  const SegPixelLayout premul_float = { SEG_TYPE_FLOAT, 4, -1 };

  assert_pools_to (in, 2, 1, 1, &premul_u8, f211, false, want, "u8");
  assert_pools_to (fin, 2, 1, 1, &premul_float, f211, false, fwant, "float");
}
END_TEST

START_TEST (test_alpha_only_voxel_is_a_plain_mean)
{
  /* One component that is alpha: alpha = Σa / |P|, nothing to weight. */
  static const uint8_t in[] = { 0, 255, 255, 255 };
  static const uint8_t want[] = { 191 };
  const SegPixelLayout a_u8 = { SEG_TYPE_U8, 1, 0 };

  assert_pools_to (in, 2, 2, 1, &a_u8, f221, false, want, "A u8");
  assert_pools_to (in, 2, 2, 1, &a_u8, f221, true, (const uint8_t[]) { 255 },
                   "A u8 sparse");
}
END_TEST


/* ---- Large blocks: no overflow ------------------------------------------ */

/* A 64³ block of u32 voxels, every component the maximum, gives the
 * maximum: plain, sparse, and with alpha (colour × alpha sums to about
 * 2^82). */
START_TEST (test_64_cubed_u32_maxima_give_the_maximum)
{
  static const SegPixelLayout layouts[] = {
    { SEG_TYPE_U32, 1, -1 }, { SEG_TYPE_U32, 2, 1 }, { SEG_TYPE_U32, 4, 3 },
    { SEG_TYPE_U32, 4, 0 },
  };
  const SegFactors f = { 64, 64, 64 };

  for (int i = 0; i < N_ELEMENTS (layouts); i++)
    for (int sparse = 0; sparse < 2; sparse++)
      {
        const SegPixelLayout *l = &layouts[i];
        const int bpp = bpp_of (l);
        Buf       in  = buf_new (64, 64, 64, bpp, packed);
        Buf       out = buf_new (1, 1, 1, bpp, (Strides) { 4, 0, 0, 0 });
        void     *scratch = scratch_new (&f, l);
        char      context[96];

        memset (in.mem, 0xff, in.size);
        snprintf (context, sizeof context, "u32 × %d, alpha %d, sparse %d",
                  l->n_components, l->alpha, sparse);
        assert_status (seg_average_pool (&in.v, &out.v, &f, l, sparse,
                                         scratch), SEG_OK, context);
        for (int c = 0; c < l->n_components; c++)
          {
            uint32_t v;

            memcpy (&v, out.mem + 4 * c, 4);
            if (v != 0xffffffff)
              ck_abort_msg ("%s: component %d is 0x%08x", context, c, v);
          }
        assert_padding_intact (&out, context);
        free (scratch);
        buf_free (&in);
        buf_free (&out);
      }
}
END_TEST

/* Random 64³ blocks (and a few 16³ ones) of wide integers with alpha
 * against the reference: sums far beyond 64 bits, divided exactly. */
START_TEST (test_large_random_blocks_match_reference)
{
  static const struct
  {
    SegPixelLayout l;
    int            size, factor;
  } cfg[] = {
    { { SEG_TYPE_U32, 4, 3 }, 64, 64 },
    { { SEG_TYPE_U32, 2, 0 }, 64, 64 },
    { { SEG_TYPE_U16, 4, 3 }, 64, 64 },
    { { SEG_TYPE_DOUBLE, 2, 1 }, 64, 64 },
    { { SEG_TYPE_U32, 3, 1 }, 48, 16 },
    { { SEG_TYPE_HALF, 4, 3 }, 48, 16 },
  };
  Case c = { 0 };
  Rng  r = rng_new ((uint64_t) _i, 3);

  c.seed       = _i;
  c.layout     = cfg[_i].l;
  c.w = c.h = c.d = cfg[_i].size;
  c.f.x = c.f.y = c.f.z = cfg[_i].factor;
  c.sparse     = _i % 2 == 1;
  c.background = 20;
  c.style      = VALUES_UNIFORM;
  c.in_strides = c.out_strides = packed;
  c.avx512     = true;
  run_case (&r, &c);
}
END_TEST


/* ---- The row kernels' division, exhaustively ---------------------------- */

/* For every count k of counted voxels a sparse 2×2 (k ≤ 4) or 2×2×2
 * (k ≤ 8) block can have, and every sum s they can add up to (k … k·max),
 * one block: k voxels that add up to s (spread as evenly as possible, at
 * positions that rotate with s) and background elsewhere; its mean must be
 * floor (s / k).  One long row of blocks per k; run with the AVX-512
 * kernels and with the portable ones. */
START_TEST (test_sparse_row_kernels_divide_exactly_for_every_sum_and_count)
{
  static const struct
  {
    SegComponentType type;
    int              fz;
  } cfg[] = {
    { SEG_TYPE_U8, 1 }, { SEG_TYPE_U8, 2 }, { SEG_TYPE_U16, 1 },
    { SEG_TYPE_U16, 2 },
  };
  const SegPixelLayout l = { cfg[_i].type, 1, -1 };
  const SegFactors     f = { 2, 2, cfg[_i].fz };
  const int            n_voxels = 4 * cfg[_i].fz;
  const uint64_t       max = max_of (l.type);
  const int            size = seg_component_size (l.type);
  void                *scratch = scratch_new (&f, &l);

  for (int k = 1; k <= n_voxels; k++)
    {
      const int blocks = (int) (max * (uint64_t) k) - k + 1;
      Buf       in  = buf_new (2 * blocks, 2, cfg[_i].fz, size, packed);
      Buf       out = buf_new (blocks, 1, 1, size, packed);

      memset (in.mem, 0, in.size);
      for (int b = 0; b < blocks; b++)
        {
          const uint64_t s = (uint64_t) (k + b);
          const uint64_t base = s / (uint64_t) k, extra = s % (uint64_t) k;

          for (int j = 0; j < k; j++)
            {
              int pos = (int) ((s + (uint64_t) j) % (uint64_t) n_voxels);

              put_u (at (&in.v, 2 * b + pos % 2, pos / 2 % 2, pos / 4),
                     l.type, base + ((uint64_t) j < extra));
            }
        }
      for (int avx512 = 0; avx512 < 2; avx512++)
        {
          SegStatus status;

          allow_avx512 (avx512);
          status = seg_average_pool (&in.v, &out.v, &f, &l, true, scratch);
          allow_avx512 (true);
          assert_status (status, SEG_OK, "division");
          for (int b = 0; b < blocks; b++)
            {
              uint64_t s = (uint64_t) (k + b), got = 0;

              memcpy (&got, at (&out.v, b, 0, 0), (size_t) size);
              if (got != s / (uint64_t) k)
                ck_abort_msg ("%s 2×2×%d, AVX-512 %s: sum %llu over %d "
                              "voxels gives %llu, want %llu",
                              type_names[l.type], cfg[_i].fz,
                              avx512 ? "allowed" : "off",
                              (unsigned long long) s, k,
                              (unsigned long long) got,
                              (unsigned long long) (s / (uint64_t) k));
            }
        }
      buf_free (&in);
      buf_free (&out);
    }
  free (scratch);
}
END_TEST


/* ---- Strides and large outputs ------------------------------------------ */

START_TEST (test_output_padding_and_input_are_untouched)
{
  /* Random cases check this too; here every fast layout and shape once,
   * with padding on both sides and flipped axes. */
  static const Strides odd[] = {
    { 7, 13, false, false }, { 1, 0, true, false }, { 0, 3, false, true },
    { 5, 5, true, true },
  };

  for (int i = 0; i < N_ELEMENTS (odd); i++)
    for (int fz = 1; fz <= 2; fz++)
      for (int sparse = 0; sparse < 2; sparse++)
        {
          Rng  r = rng_new ((uint64_t) (i * 4 + fz * 2 + sparse), 4);
          Case c = { 0 };

          c.seed        = i;
          c.w           = 131;
          c.h           = 9;
          c.d           = 3;
          c.f           = (SegFactors) { 2, 2, fz };
          c.layout      = y_u8;
          c.sparse      = sparse;
          c.background  = 30;
          c.style       = VALUES_UNIFORM;
          c.in_strides  = odd[i];
          c.out_strides = odd[(i + 1) % N_ELEMENTS (odd)];
          c.avx512      = true;
          run_case (&r, &c);
          c.avx512      = false;
          run_case (&r, &c);
          c.layout      = y_float;
          run_case (&r, &c);
        }
}
END_TEST

START_TEST (test_negative_strides_read_flipped_views)
{
  /* The same voxels, stored bottom-up and last slice first, give the
   * same means (and the reference agrees). */
  static const uint8_t in[] = {
    1, 2, 3, 4,
    5, 6, 7, 8,

    9, 10, 11, 12,
    13, 14, 15, 16,
  };
  static const uint8_t want[] = { 7, 9 };  /* (1+2+5+6+9+10+13+14)/8 … */
  Buf        b = buf_new (4, 2, 2, 1, (Strides) { 2, 3, true, true });
  Buf        out = buf_new (2, 1, 1, 1, (Strides) { 0, 0, true, true });
  void      *scratch = scratch_new (&f222, &y_u8);
  const uint8_t *p = in;

  for (int z = 0; z < 2; z++)
    for (int y = 0; y < 2; y++)
      for (int x = 0; x < 4; x++)
        *at (&b.v, x, y, z) = *p++;
  for (int avx512 = 0; avx512 < 2; avx512++)
    {
      allow_avx512 (avx512);
      assert_status (seg_average_pool (&b.v, &out.v, &f222, &y_u8, false,
                                       scratch), SEG_OK, "flipped");
      allow_avx512 (true);
      ck_assert_uint_eq (*at (&out.v, 0, 0, 0), want[0]);
      ck_assert_uint_eq (*at (&out.v, 1, 0, 0), want[1]);
    }
  free (scratch);
  buf_free (&b);
  buf_free (&out);
}
END_TEST

START_TEST (test_scratch_can_be_reused_for_smaller_factors)
{
  static const SegFactors sequence[] = {
    { 8, 8, 2 }, { 5, 3, 1 }, { 2, 2, 2 }, { 4, 4, 4 }, { 2, 2, 1 },
    { 6, 7, 1 }
  };
  const SegPixelLayout l = { SEG_TYPE_U32, 4, 3 };
  void *scratch = scratch_new (&sequence[0], &l);

  for (int k = 0; k < N_ELEMENTS (sequence); k++)
    {
      const SegFactors *f = &sequence[k];
      Rng   r = rng_new ((uint64_t) k, 5);
      Buf   in   = buf_new (37, 21, 6, 16, packed);
      Buf   out  = buf_new (seg_pooled_size (37, f->x),
                            seg_pooled_size (21, f->y),
                            seg_pooled_size (6, f->z), 16, packed);
      Buf   want = buf_new (out.v.width, out.v.height, out.v.depth, 16,
                            packed);
      char  context[64];

      ck_assert_uint_le (seg_average_pool_scratch_size (f, &l),
                         seg_average_pool_scratch_size (&sequence[0], &l));
      fill_random (&r, &in.v, &l, VALUES_MIXED, 20);
      snprintf (context, sizeof context, "call %d, factors %d,%d,%d", k,
                f->x, f->y, f->z);
      assert_status (seg_average_pool (&in.v, &out.v, f, &l, k & 1, scratch),
                     SEG_OK, context);
      ref_average_pool (&in.v, &want.v, f, &l, k & 1);
      assert_volumes_equal (&out.v, &want.v, &l, context);
      buf_free (&in);
      buf_free (&out);
      buf_free (&want);
    }
  free (scratch);
}
END_TEST

/* Outputs of several MiB with the 2×2 and 2×2×2 shapes, into a padded view
 * with odd row padding: the AVX-512 kernels write outputs this large with
 * non-temporal stores, in aligned steps after a masked head.  The result
 * is compared with the portable kernels' on the whole, and with pooling
 * the same input in slabs of 8 output rows (sub-views), whose small
 * outputs take the paths the other tests check. */
START_TEST (test_large_outputs_match_pooling_in_slabs)
{
  static const struct
  {
    int  w, h, d, fz;
    bool sparse;
    SegPixelLayout l;
  } cfg[] = {
    { 4099, 4098, 1, 1, false, { SEG_TYPE_U8, 1, -1 } },
    { 4100, 4097, 1, 1, true,  { SEG_TYPE_U8, 1, -1 } },
    { 2901, 2900, 4, 2, false, { SEG_TYPE_U8, 1, -1 } },
    { 2900, 2901, 4, 2, true,  { SEG_TYPE_U8, 1, -1 } },
    { 2050, 2049, 1, 1, true,  { SEG_TYPE_FLOAT, 1, -1 } },
  };
  const int        w = cfg[_i].w, h = cfg[_i].h, d = cfg[_i].d;
  const SegPixelLayout *l = &cfg[_i].l;
  const int        bpp = bpp_of (l);
  const bool       sparse = cfg[_i].sparse;
  const SegFactors f = { 2, 2, cfg[_i].fz };
  const Strides    odd = { 5, 3, false, false };
  const int        slab = 8;  /* output rows per slab */
  Rng              r = rng_new ((uint64_t) _i, 8);
  Buf              in  = buf_new (w, h, d, bpp, packed);
  Buf              out = buf_new (seg_pooled_size (w, 2),
                                  seg_pooled_size (h, 2),
                                  seg_pooled_size (d, f.z), bpp, odd);
  Buf              portable = buf_new (out.v.width, out.v.height,
                                       out.v.depth, bpp, packed);
  Buf              part = buf_new (out.v.width, slab, out.v.depth, bpp,
                                   packed);
  void            *scratch = scratch_new (&f, l);
  char             context[96];

  fill_random (&r, &in.v, l, VALUES_UNIFORM, sparse ? 30 : 0);
  snprintf (context, sizeof context, "%d×%d×%d %s, factors 2,2,%d, "
            "sparse %d", w, h, d, type_names[l->type], f.z, sparse);
  assert_status (seg_average_pool (&in.v, &out.v, &f, l, sparse, scratch),
                 SEG_OK, context);
  assert_padding_intact (&out, context);
  allow_avx512 (false);
  assert_status (seg_average_pool (&in.v, &portable.v, &f, l, sparse,
                                   scratch), SEG_OK, context);
  allow_avx512 (true);
  assert_volumes_equal (&out.v, &portable.v, l, context);

  for (int oy = 0; oy < out.v.height; oy += slab)
    {
      SegVolume sub_in = in.v, sub_out = part.v, big = out.v;
      char      where[160];

      sub_in.data    = at (&in.v, 0, 2 * oy, 0);
      sub_in.height  = h - 2 * oy < 2 * slab ? h - 2 * oy : 2 * slab;
      sub_out.height = seg_pooled_size (sub_in.height, 2);
      big.data       = at (&out.v, 0, oy, 0);
      big.height     = sub_out.height;
      snprintf (where, sizeof where, "%s, output rows from %d", context, oy);
      assert_status (seg_average_pool (&sub_in, &sub_out, &f, l, sparse,
                                       scratch), SEG_OK, where);
      assert_volumes_equal (&big, &sub_out, l, where);
    }

  free (scratch);
  buf_free (&in);
  buf_free (&out);
  buf_free (&portable);
  buf_free (&part);
}
END_TEST


/* ---- Layouts and scratch sizes ------------------------------------------ */

START_TEST (test_component_sizes)
{
  ck_assert_int_eq (seg_component_size (SEG_TYPE_U8), 1);
  ck_assert_int_eq (seg_component_size (SEG_TYPE_U16), 2);
  ck_assert_int_eq (seg_component_size (SEG_TYPE_U32), 4);
  ck_assert_int_eq (seg_component_size (SEG_TYPE_HALF), 2);
  ck_assert_int_eq (seg_component_size (SEG_TYPE_FLOAT), 4);
  ck_assert_int_eq (seg_component_size (SEG_TYPE_DOUBLE), 8);
  ck_assert_int_eq (seg_component_size ((SegComponentType) 6), 0);
  ck_assert_int_eq (seg_component_size ((SegComponentType) -1), 0);
}
END_TEST

START_TEST (test_pixel_layout_check)
{
  static const struct
  {
    SegPixelLayout l;
    int            bpp;
    SegStatus      want;
  } cases[] = {
    { { SEG_TYPE_U8, 1, -1 }, 1, SEG_OK },
    { { SEG_TYPE_U8, 4, 3 }, 4, SEG_OK },
    { { SEG_TYPE_U8, 4, 0 }, 4, SEG_OK },
    { { SEG_TYPE_DOUBLE, 4, 3 }, 32, SEG_OK },
    { { SEG_TYPE_U8, 64, -1 }, 64, SEG_OK },
    { { SEG_TYPE_HALF, 3, -1 }, 6, SEG_OK },
    { { SEG_TYPE_U8, 4, 3 }, 3, SEG_EBADTYPE },       /* size mismatch  */
    { { SEG_TYPE_FLOAT, 1, -1 }, 2, SEG_EBADTYPE },
    { { SEG_TYPE_U8, 0, -1 }, 0, SEG_EBADTYPE },      /* no components  */
    { { SEG_TYPE_U8, -4, -1 }, -4, SEG_EBADTYPE },
    { { SEG_TYPE_U8, 4, 4 }, 4, SEG_EBADTYPE },       /* alpha past end */
    { { SEG_TYPE_U8, 4, -2 }, 4, SEG_EBADTYPE },
    { { (SegComponentType) 9, 1, -1 }, 1, SEG_EBADTYPE },
    { { SEG_TYPE_U8, 65, -1 }, 65, SEG_EBADTYPE },    /* too wide       */
    { { SEG_TYPE_U32, 0x40000001, -1 }, 4, SEG_EBADTYPE },  /* overflow */
  };

  ck_assert_int_eq (seg_pixel_layout_check (NULL, 1), SEG_EBADARG);
  for (int i = 0; i < N_ELEMENTS (cases); i++)
    ck_assert_msg (seg_pixel_layout_check (&cases[i].l, cases[i].bpp) ==
                   cases[i].want, "case %d", i);
}
END_TEST

START_TEST (test_scratch_size_is_zero_for_invalid_arguments)
{
  static const SegFactors bad_f[] = {
    { 0, 2, 2 }, { 2, 0, 2 }, { 2, 2, 0 }, { -1, 1, 1 },
    { SEG_MAX_FACTOR + 1, 1, 1 }, { 1, 1, SEG_MAX_FACTOR + 1 }
  };
  static const SegPixelLayout bad_l[] = {
    { (SegComponentType) 7, 1, -1 }, { SEG_TYPE_U8, 0, -1 },
    { SEG_TYPE_U8, 2, 2 }, { SEG_TYPE_U8, 2, -3 }, { SEG_TYPE_U16, 33, -1 },
  };

  ck_assert_uint_eq (seg_average_pool_scratch_size (NULL, &y_u8), 0);
  ck_assert_uint_eq (seg_average_pool_scratch_size (&f221, NULL), 0);
  for (int i = 0; i < N_ELEMENTS (bad_f); i++)
    ck_assert_msg (seg_average_pool_scratch_size (&bad_f[i], &y_u8) == 0,
                   "factors %d,%d,%d", bad_f[i].x, bad_f[i].y, bad_f[i].z);
  for (int i = 0; i < N_ELEMENTS (bad_l); i++)
    ck_assert_msg (seg_average_pool_scratch_size (&f221, &bad_l[i]) == 0,
                   "layout %d", i);
}
END_TEST

START_TEST (test_scratch_size_does_not_shrink_with_larger_factors)
{
  static const SegFactors grow[] = {
    { 1, 1, 1 }, { 2, 1, 1 }, { 2, 2, 1 }, { 2, 2, 2 }, { 4, 4, 4 },
    { 16, 16, 16 }, { 64, 64, 64 }
  };
  static const SegPixelLayout layouts[] = {
    { SEG_TYPE_U8, 1, -1 }, { SEG_TYPE_U32, 4, 3 }, { SEG_TYPE_U8, 64, 63 },
    { SEG_TYPE_DOUBLE, 8, -1 },
  };

  for (int j = 0; j < N_ELEMENTS (layouts); j++)
    for (int i = 0; i < N_ELEMENTS (grow); i++)
      {
        ck_assert_uint_gt (seg_average_pool_scratch_size (&grow[i],
                                                          &layouts[j]), 0);
        if (i > 0)
          ck_assert_uint_le (
            seg_average_pool_scratch_size (&grow[i - 1], &layouts[j]),
            seg_average_pool_scratch_size (&grow[i], &layouts[j]));
      }
}
END_TEST

START_TEST (test_widest_voxel_is_accepted)
{
  /* 64 u8 components with alpha, and 8 doubles: SEG_MAX_BPP. */
  const SegPixelLayout wide_u8 = { SEG_TYPE_U8, 64, 63 };
  const SegPixelLayout wide_d  = { SEG_TYPE_DOUBLE, 8, 2 };
  Case c = { 0 };

  for (int k = 0; k < 4; k++)
    {
      Rng r = rng_new ((uint64_t) k, 6);

      c.seed        = k;
      c.w           = 9;
      c.h           = 7;
      c.d           = 2;
      c.f           = (SegFactors) { 2 + k % 2, 2, 1 + k / 2 };
      c.layout      = k % 2 ? wide_d : wide_u8;
      c.sparse      = k >= 2;
      c.background  = 30;
      c.style       = VALUES_MIXED;
      c.in_strides  = (Strides) { 1, 2, false, true };
      c.out_strides = (Strides) { 3, 0, true, false };
      c.avx512      = true;
      run_case (&r, &c);
    }
}
END_TEST


/* ---- Errors ------------------------------------------------------------- */

/* A valid 5×4×3 input of u16 Y'A voxels, factors 2,2,2, and an output view
 * of the right size (3×2×2) inside a larger buffer: views made too large
 * by a test still lie inside the memory, and any write shows as a changed
 * byte. */
typedef struct
{
  Buf            in, out;
  SegFactors     f;
  SegPixelLayout l;
  void          *scratch;
} Args;

static Args
args_new (void)
{
  Rng  r = rng_new (7, 7);
  Args a;

  a.f   = f222;
  a.l   = (SegPixelLayout) { SEG_TYPE_U16, 2, 1 };
  a.in  = buf_new (5, 4, 3, 4, packed);
  a.out = buf_new (8, 8, 4, 4, packed);
  a.out.v.width  = 3;
  a.out.v.height = 2;
  a.out.v.depth  = 2;
  a.scratch = scratch_new (&a.f, &a.l);
  fill_random (&r, &a.in.v, &a.l, VALUES_UNIFORM, 20);
  return a;
}

static void
args_free (Args *a)
{
  buf_free (&a->in);
  buf_free (&a->out);
  free (a->scratch);
}

/* Calls seg_average_pool, expects status want and the output buffer
 * untouched (every byte still SENTINEL). */
static void
assert_rejected (const Args *a, const SegVolume *in, const SegVolume *out,
                 const SegFactors *f, const SegPixelLayout *l, void *scratch,
                 SegStatus want, const char *what)
{
  for (int sparse = 0; sparse < 2; sparse++)
    {
      assert_status (seg_average_pool (in, out, f, l, sparse, scratch), want,
                     what);
      assert_output_untouched (&a->out, what);
    }
}

START_TEST (test_valid_error_fixture_is_accepted)
{
  Args a = args_new ();

  assert_status (seg_average_pool (&a.in.v, &a.out.v, &a.f, &a.l, false,
                                   a.scratch), SEG_OK, "fixture");
  args_free (&a);
}
END_TEST

START_TEST (test_null_pointers_are_ebadarg)
{
  Args      a = args_new ();
  SegVolume in = a.in.v, out = a.out.v;

  assert_rejected (&a, NULL, &a.out.v, &a.f, &a.l, a.scratch, SEG_EBADARG,
                   "NULL input");
  assert_rejected (&a, &a.in.v, NULL, &a.f, &a.l, a.scratch, SEG_EBADARG,
                   "NULL output");
  assert_rejected (&a, &a.in.v, &a.out.v, NULL, &a.l, a.scratch, SEG_EBADARG,
                   "NULL factors");
  assert_rejected (&a, &a.in.v, &a.out.v, &a.f, NULL, a.scratch, SEG_EBADARG,
                   "NULL layout");
  assert_rejected (&a, &a.in.v, &a.out.v, &a.f, &a.l, NULL, SEG_EBADARG,
                   "NULL scratch");
  in.data = NULL;
  assert_rejected (&a, &in, &a.out.v, &a.f, &a.l, a.scratch, SEG_EBADARG,
                   "NULL input data");
  out.data = NULL;
  assert_rejected (&a, &a.in.v, &out, &a.f, &a.l, a.scratch, SEG_EBADARG,
                   "NULL output data");
  args_free (&a);
}
END_TEST

START_TEST (test_bad_views_and_factors_are_ebadarg)
{
  static const int bad_sizes[] = { 0, -1 };
  static const int bad_factors[] = { 0, -1, SEG_MAX_FACTOR + 1 };
  Args a = args_new ();

  for (int i = 0; i < N_ELEMENTS (bad_sizes); i++)
    for (int axis = 0; axis < 3; axis++)
      for (int which = 0; which < 2; which++)
        {
          SegVolume  in = a.in.v, out = a.out.v;
          SegVolume *v = which ? &out : &in;
          char       what[64];

          *(axis == 0 ? &v->width : axis == 1 ? &v->height : &v->depth) =
            bad_sizes[i];
          snprintf (what, sizeof what, "%s axis %d size %d",
                    which ? "output" : "input", axis, bad_sizes[i]);
          assert_rejected (&a, &in, &out, &a.f, &a.l, a.scratch, SEG_EBADARG,
                           what);
        }
  for (int i = 0; i < N_ELEMENTS (bad_factors); i++)
    for (int axis = 0; axis < 3; axis++)
      {
        SegFactors f = a.f;
        char       what[32];

        *(axis == 0 ? &f.x : axis == 1 ? &f.y : &f.z) = bad_factors[i];
        snprintf (what, sizeof what, "factor %c %d", "xyz"[axis],
                  bad_factors[i]);
        assert_rejected (&a, &a.in.v, &a.out.v, &f, &a.l, a.scratch,
                         SEG_EBADARG, what);
      }
  {
    SegVolume in = a.in.v, out = a.out.v;

    out.bpp = 2;
    assert_rejected (&a, &a.in.v, &out, &a.f, &a.l, a.scratch, SEG_EBADARG,
                     "output bpp 2, input bpp 4");
    in.row_stride = (ptrdiff_t) in.width * in.bpp - 1;
    assert_rejected (&a, &in, &a.out.v, &a.f, &a.l, a.scratch, SEG_EBADARG,
                     "input rows overlap");
    in = a.in.v;
    in.bpp = SEG_MAX_BPP + 1;
    out = a.out.v;
    out.bpp = SEG_MAX_BPP + 1;
    assert_rejected (&a, &in, &out, &a.f, &a.l, a.scratch, SEG_EBADARG,
                     "bpp 65");
  }
  args_free (&a);
}
END_TEST

START_TEST (test_layout_not_fitting_the_voxels_is_ebadtype)
{
  static const SegPixelLayout bad[] = {
    { SEG_TYPE_U8, 2, 1 },        /* 2 bytes, the views have 4 */
    { SEG_TYPE_U16, 1, -1 },
    { SEG_TYPE_FLOAT, 2, 1 },     /* 8 bytes                   */
    { SEG_TYPE_U16, 2, 2 },       /* alpha past the end        */
    { SEG_TYPE_U16, 2, -2 },
    { SEG_TYPE_U16, 0, -1 },
    { (SegComponentType) 42, 2, -1 },
  };
  Args a = args_new ();

  for (int i = 0; i < N_ELEMENTS (bad); i++)
    {
      char what[32];

      snprintf (what, sizeof what, "layout %d", i);
      assert_rejected (&a, &a.in.v, &a.out.v, &a.f, &bad[i], a.scratch,
                       SEG_EBADTYPE, what);
    }
  /* A valid layout of another size is fine with views of that size. */
  assert_status (seg_pixel_layout_check (&bad[2], 8), SEG_OK, "float × 2");
  args_free (&a);
}
END_TEST

START_TEST (test_wrong_output_size_is_ebadsize)
{
  Args a = args_new ();

  for (int axis = 0; axis < 3; axis++)
    for (int delta = -1; delta <= 1; delta += 2)
      {
        SegVolume out = a.out.v;
        int      *size = axis == 0 ? &out.width
                       : axis == 1 ? &out.height : &out.depth;
        char      what[48];

        /* 5×4×3 by 2: ceil is 3×2×2; floor (5 / 2) = 2 is one less. */
        *size += delta;
        if (*size < 1)
          continue;
        snprintf (what, sizeof what, "output %s %+d",
                  axis == 0 ? "width" : axis == 1 ? "height" : "depth", delta);
        assert_rejected (&a, &a.in.v, &out, &a.f, &a.l, a.scratch,
                         SEG_EBADSIZE, what);
      }
  args_free (&a);
}
END_TEST


/* ---- Suite -------------------------------------------------------------- */

static Suite *
average_pool_suite (void)
{
  const TTest *const rules[] = {
    test_integer_mean_rounds_down,
    test_factor_4_is_exact_mean_not_mean_of_means,
    test_sparse_leaves_background_out_of_sum_and_count,
    test_sparse_all_background_block_gives_background,
    test_negative_zero_is_not_background,
    test_partial_edge_blocks_average_what_exists,
    test_factor_larger_than_volume_gives_one_block,
    test_factor_1_is_identity,
  };
  const TTest *const floats[] = {
    test_float_mean_is_rounded_once,
    test_sums_run_in_raster_order,
    test_half_mean_rounds_to_nearest_even,
    test_half_every_tie_between_neighbours_goes_to_even,
  };
  const TTest *const alpha[] = {
    test_transparent_pixel_does_not_tint,
    test_transparent_infinite_or_nan_colour_does_not_tint,
    test_colour_is_weighted_by_alpha,
    test_zero_total_alpha_gives_colour_zero,
    test_sparse_transparent_voxel_counts_in_alpha,
    test_premultiplied_alpha_is_a_plain_mean,
    test_alpha_only_voxel_is_a_plain_mean,
  };
  const TTest *const strides[] = {
    test_output_padding_and_input_are_untouched,
    test_negative_strides_read_flipped_views,
    test_scratch_can_be_reused_for_smaller_factors,
    test_widest_voxel_is_accepted,
  };
  const TTest *const layouts[] = {
    test_component_sizes,
    test_pixel_layout_check,
    test_scratch_size_is_zero_for_invalid_arguments,
    test_scratch_size_does_not_shrink_with_larger_factors,
  };
  const TTest *const errors[] = {
    test_valid_error_fixture_is_accepted,
    test_null_pointers_are_ebadarg,
    test_bad_views_and_factors_are_ebadarg,
    test_layout_not_fitting_the_voxels_is_ebadtype,
    test_wrong_output_size_is_ebadsize,
  };
  Suite *s = suite_create ("average-pool");
  TCase *tc;

  add_tcase (s, "rules", 30, rules, N_ELEMENTS (rules));
  add_tcase (s, "floating-point", 60, floats, N_ELEMENTS (floats));
  add_tcase (s, "alpha", 30, alpha, N_ELEMENTS (alpha));
  add_tcase (s, "strides", 60, strides, N_ELEMENTS (strides));
  add_tcase (s, "layouts", 30, layouts, N_ELEMENTS (layouts));
  add_tcase (s, "errors", 30, errors, N_ELEMENTS (errors));

  tc = tcase_create ("reference");
  tcase_set_timeout (tc, 60);
  tcase_add_loop_test (tc, test_random_volumes_match_reference, 0, 3000);
  tcase_add_loop_test (tc, test_random_2x2_and_2x2x2_volumes_match_reference,
                       0, 2000);
  suite_add_tcase (s, tc);

  tc = tcase_create ("large");
  tcase_set_timeout (tc, 300);
  tcase_add_test (tc, test_64_cubed_u32_maxima_give_the_maximum);
  tcase_add_loop_test (tc, test_large_random_blocks_match_reference, 0, 6);
  tcase_add_loop_test (
    tc, test_sparse_row_kernels_divide_exactly_for_every_sum_and_count, 0, 4);
  tcase_add_loop_test (tc, test_large_outputs_match_pooling_in_slabs, 0, 5);
  suite_add_tcase (s, tc);

  return s;
}

int
main (void)
{
  return run_suite (average_pool_suite ());
}
