/* SPDX-License-Identifier: LGPL-3.0-or-later
 *
 * Unit tests of seg_average_pool() (lib/seg-average-pool.c), without GEGL.
 *
 *   - seeded random volumes of every component type, voxel layout, factor
 *     and stride, with and without alpha and background, compared with
 *     ref_average_pool() (tests/ref-average-pool.c), with the kernels the
 *     process chooses; meson runs the program again with
 *     SEG_KERNELS=portable, so the portable kernels are checked on AVX-512
 *     machines too;
 *   - a table row per rule of DESIGN.md's "Averaging" and of the header,
 *     with the expected output worked out by hand (and the reference held
 *     to it as well);
 *   - the signed and 64-bit types of NumPy files likewise: random trials,
 *     hand-worked rows (truncation toward zero, sums past 64 bits) and
 *     64³ blocks of their extremes;
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
#include "seg-rows.h"
#include "seg-average-pool.h"

static const char *const type_names[] = { "u8",    "u16",    "u32", "half",
                                          "float", "double", "i8",  "i16",
                                          "i32",   "i64",    "u64" };

/* The types with alpha, which the first random tests draw from, and all
 * of them: the signed and 64-bit ones (NumPy's) follow. */
#define N_ALPHA_TYPES 6
#define N_TYPES       11


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
    case SEG_TYPE_FLOAT: memcpy (&f, p, 4); return isnan (f);
    case SEG_TYPE_DOUBLE: memcpy (&d, p, 8); return isnan (d);
    default: return false;
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


/* ---- The kernel under test ---------------------------------------------- */

/* What the shared checks hand to the kernel: the pixel layout.  The
 * kernels are the process's: AVX-512 ones where the CPU has them, unless
 * SEG_KERNELS=portable (seg-rows.h); meson runs this program both ways. */
typedef struct
{
  const SegPixelLayout *layout;
  SegBackground         background; /* what sparse leaves out */
} Averaging;

static SegStatus
average_pool (const SegVolume  *in,
              const SegVolume  *out,
              const SegFactors *f,
              bool              sparse,
              void             *scratch,
              const void       *data)
{
  const Averaging *a = data;

  return seg_average_pool (in, out, f, a->layout, sparse, a->background,
                           scratch);
}

/* Which kernels run, for messages. */
static const char *
kernels_name (void)
{
  return seg_kernels_avx512 () ? "AVX-512 kernels" : "portable kernels";
}

static void
average_reference (const SegVolume  *in,
                   const SegVolume  *out,
                   const SegFactors *f,
                   bool              sparse,
                   const void       *data)
{
  const Averaging *a = data;

  ref_average_pool (in, out, f, a->layout, sparse, a->background);
}

static size_t
average_scratch_size (const SegFactors *f, const void *data)
{
  const Averaging *a = data;

  return seg_average_pool_scratch_size (f, a->layout);
}

static bool
average_voxels_equal (const uint8_t *p,
                      const uint8_t *q,
                      int            bpp,
                      const void    *data)
{
  const Averaging *a = data;

  (void) bpp;
  return voxels_equal (p, q, a->layout);
}

static Kernel
averaging_kernel (const Averaging *a)
{
  const Kernel k = { average_pool, average_reference, average_scratch_size,
                     average_voxels_equal, a };

  return k;
}


/* ---- Random values ------------------------------------------------------ */

typedef enum
{
  VALUES_UNIFORM, /* anywhere in the type's range                        */
  VALUES_SMALL,   /* 0 … 3 and the like: many zero components            */
  VALUES_EXTREME, /* 0, 1, the maximum and its neighbours, subnormals, … */
  VALUES_MIXED,   /* each voxel picks one of the above                   */
  N_VALUE_STYLES
} ValueStyle;

static const char *const style_names[] = { "uniform", "small", "extreme",
                                           "mixed" };

static bool
is_integer (SegComponentType t)
{
  return t != SEG_TYPE_HALF && t != SEG_TYPE_FLOAT && t != SEG_TYPE_DOUBLE;
}

static bool
is_signed (SegComponentType t)
{
  return t == SEG_TYPE_I8 || t == SEG_TYPE_I16 || t == SEG_TYPE_I32 ||
         t == SEG_TYPE_I64;
}

/* The low bytes of v as an integer component of type t: for a signed
 * type, v is its two's complement (put_u (…, (uint64_t) -5) stores -5). */
static void
put_u (uint8_t *dst, SegComponentType t, uint64_t v)
{
  uint8_t  u8  = (uint8_t) v;
  uint16_t u16 = (uint16_t) v;
  uint32_t u32 = (uint32_t) v;

  switch (seg_component_size (t))
    {
    case 1: memcpy (dst, &u8, 1); break;
    case 2: memcpy (dst, &u16, 2); break;
    case 4: memcpy (dst, &u32, 4); break;
    default: memcpy (dst, &v, 8); break;
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
    case SEG_TYPE_FLOAT: memcpy (dst, &f, 4); break;
    default: memcpy (dst, &v, 8); break;
    }
}

/* An integer component of type t, its two's complement bits for a signed
 * type (zero-extended). */
static uint64_t
get_u (const uint8_t *src, SegComponentType t)
{
  uint8_t  u8;
  uint16_t u16;
  uint32_t u32;
  uint64_t u64;

  switch (seg_component_size (t))
    {
    case 1: memcpy (&u8, src, 1); return u8;
    case 2: memcpy (&u16, src, 2); return u16;
    case 4: memcpy (&u32, src, 4); return u32;
    default: memcpy (&u64, src, 8); return u64;
    }
}

/* Every bit of an integer type set: the unsigned maximum, or -1. */
static uint64_t
max_of (SegComponentType t)
{
  const int size = seg_component_size (t);

  return size == 8 ? UINT64_MAX : ((uint64_t) 1 << 8 * size) - 1;
}

/* An extreme value of a signed or 64-bit type, as put_u takes it: the
 * minimum, the maximum and their neighbours, 0, ±1, and for 64-bit types
 * also 2^32 ± 1 (the last two picks), whose sums carry across the middle
 * of a 64-bit word. */
static uint64_t
random_numpy_extreme (Rng *r, SegComponentType t)
{
  const uint64_t max     = is_signed (t) ? max_of (t) >> 1 : max_of (t);
  const uint64_t min     = is_signed (t) ? ~max : 0;
  const uint64_t wide    = (uint64_t) 1 << 32;
  const uint64_t picks[] = { min, min + 1,       max,      max - 1, 0,
                             1,   (uint64_t) -1, wide + 1, wide - 1 };
  const int      n = N_ELEMENTS (picks) - (seg_component_size (t) == 8 ? 0 : 2);

  return picks[rng_below (r, n)];
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
  static const uint16_t halves[] = { 0x0000, 0x8000, 0x0001, 0x8001, 0x03ff,
                                     0x0400, 0x3c00, 0x7bff, 0xfbff, 0x7bfe,
                                     0x7c00, 0xfc00, 0x7e00, 0x3555 };
  const double          floats[] = { 0.0,          -0.0,          1.0,
                                     FLT_MAX,      -FLT_MAX,      FLT_MIN,
                                     FLT_TRUE_MIN, -FLT_TRUE_MIN, (double) 0x1p24f,
                                     INFINITY,     -INFINITY,     NAN };
  const double doubles[]         = { 0.0,      -0.0,      1.0,          DBL_MAX,
                                     -DBL_MAX, DBL_MIN,   DBL_TRUE_MIN, 0x1p53,
                                     INFINITY, -INFINITY, NAN,          0x1p-1060 };
  uint64_t     max               = max_of (t);
  int          k;

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
    case SEG_TYPE_U8:
    case SEG_TYPE_U16:
    case SEG_TYPE_U32:
      {
        const uint64_t ints[] = { 0, 1, max, max - 1, max / 2, max / 2 + 1 };

        put_u (dst, t, ints[rng_below (r, N_ELEMENTS (ints))]);
      }
      break;
    default: put_u (dst, t, random_numpy_extreme (r, t)); break;
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
      /* Means near zero, where truncation and rounding down differ. */
      if (is_signed (t))
        put_u (dst, t, (uint64_t) (int64_t) rng_range (r, -3, 3));
      else if (is_integer (t))
        put_u (dst, t, (uint64_t) rng_below (r, 4));
      else
        put_f (dst, t, rng_chance (r, 10) ? -0.0 : rng_range (r, -3, 3));
      return;
    case VALUES_EXTREME: random_extreme (r, dst, t); return;
    default: break;
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
    case SEG_TYPE_DOUBLE: put_f (dst, t, random_real (r, -60, 80)); break;
    default: put_u (dst, t, rng_next (r) & max_of (t)); break;
    }
}

/* A random straight alpha: often fully transparent or fully opaque. */
static void
random_alpha (Rng *r, uint8_t *dst, SegComponentType t)
{
  int pick = rng_below (r, 10);

  if (t == SEG_TYPE_U8 || t == SEG_TYPE_U16 || t == SEG_TYPE_U32)
    put_u (dst, t,
           pick < 3   ? 0
           : pick < 6 ? max_of (t)
                      : rng_next (r) & max_of (t));
  else
    put_f (dst, t,
           pick < 3   ? 0.0
           : pick < 6 ? 1.0
                      : (double) (rng_next (r) >> 11) * 0x1p-53);
}

/* Makes p background of some kind under bg: all bytes zero, or with an
 * alpha, transparent in a colour or black at an alpha. */
static void
make_background (Rng *r, uint8_t *p, int bpp, SegBackground bg)
{
  const int a1 = bg.alpha_offset + bg.alpha_size;

  switch (bg.alpha_size > 0 ? rng_below (r, 3) : 0)
    {
    case 0: memset (p, 0, (size_t) bpp); break;
    case 1: memset (p + bg.alpha_offset, 0, (size_t) bg.alpha_size); break;
    default:
      memset (p, 0, (size_t) bg.alpha_offset);
      memset (p + a1, 0, (size_t) (bpp - a1));
      break;
    }
}

/* Fills a view: background% of the voxels are background (of every kind
 * that bg knows), the others random, alpha as an alpha. */
static void
fill_random_in (Rng                  *r,
                const SegVolume      *v,
                const SegPixelLayout *l,
                ValueStyle            style,
                int                   background,
                SegBackground         bg)
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

          for (int c = 0; c < l->n_components; c++)
            if (c == l->alpha && rng_chance (r, 70))
              random_alpha (r, p + c * size, l->type);
            else
              random_component (r, p + c * size, l->type, s);
          if (rng_chance (r, background))
            make_background (r, p, v->bpp, bg);
        }
}

/* fill_random_in () for formats whose background is all bytes zero. */
static void
fill_random (Rng                  *r,
             const SegVolume      *v,
             const SegPixelLayout *l,
             ValueStyle            style,
             int                   background)
{
  fill_random_in (r, v, l, style, background, SEG_BACKGROUND_ZEROS);
}


/* ---- Random comparison with the reference ------------------------------- */

typedef struct
{
  int            seed;
  int            w, h, d;
  SegFactors     f;
  SegPixelLayout layout;
  bool           sparse;
  int            background; /* percent of voxels that are background */
  SegBackground  bg;         /* what background is                     */
  ValueStyle     style;
  Strides        in_strides, out_strides;
} Case;

/* The layouts with row kernels for full 2×2 and 2×2×2 blocks. */
static SegPixelLayout
random_fast_layout (Rng *r)
{
  static const SegPixelLayout fast[] = {
    { SEG_TYPE_U8, 1, -1 },     { SEG_TYPE_U8, 1, -1 },
    { SEG_TYPE_U8, 1, 0 },      { SEG_TYPE_U16, 1, -1 },
    { SEG_TYPE_U32, 1, -1 },    { SEG_TYPE_FLOAT, 1, -1 },
    { SEG_TYPE_FLOAT, 1, 0 },   { SEG_TYPE_U8, 2, -1 },
    { SEG_TYPE_U8, 3, -1 },     { SEG_TYPE_U8, 4, -1 },
    { SEG_TYPE_DOUBLE, 1, -1 }, { SEG_TYPE_I8, 1, -1 },
    { SEG_TYPE_I16, 1, -1 },    { SEG_TYPE_I32, 1, -1 },
    { SEG_TYPE_I64, 1, -1 },    { SEG_TYPE_U64, 1, -1 },
    { SEG_TYPE_FLOAT, 2, -1 },  { SEG_TYPE_FLOAT, 3, -1 },
    { SEG_TYPE_FLOAT, 4, -1 },  { SEG_TYPE_U16, 2, -1 },
    { SEG_TYPE_U16, 3, -1 },    { SEG_TYPE_U16, 4, -1 },
  };

  return fast[rng_below (r, N_ELEMENTS (fast))];
}

/* A random case of layout l. */
static Case
random_case_of (Rng *r, int seed, bool fast_shape, SegPixelLayout l)
{
  static const int backgrounds[] = { 0, 0, 10, 30, 50, 90, 100 };
  Case             c;

  c.seed   = seed;
  c.layout = l;
  /* Odd widths too, for a partial block at the end of the row. */
  random_shape (r, fast_shape, 30, 400, &c.w, &c.h, &c.d, &c.f);
  c.sparse      = rng_chance (r, 50);
  c.background  = backgrounds[rng_below (r, N_ELEMENTS (backgrounds))];
  c.bg          = SEG_BACKGROUND_ZEROS;
  c.style       = (ValueStyle) rng_below (r, N_VALUE_STYLES);
  c.in_strides  = random_strides (r, bpp_of (&c.layout));
  c.out_strides = random_strides (r, bpp_of (&c.layout));
  return c;
}

/* A random case: fast_shape, of a layout with row kernels; else of any
 * type with alpha (u8 … double), 1 … 4 components, alpha or not. */
static Case
random_case (Rng *r, int seed, bool fast_shape)
{
  SegPixelLayout l;

  if (fast_shape)
    l = random_fast_layout (r);
  else
    {
      l.type         = (SegComponentType) rng_below (r, N_ALPHA_TYPES);
      l.n_components = rng_range (r, 1, 4);
      l.alpha        = rng_chance (r, 50) ? rng_below (r, l.n_components) : -1;
    }
  return random_case_of (r, seed, fast_shape, l);
}

static void
describe_case (char *buf, size_t n, const Case *c)
{
  char in_l[80], out_l[80];

  describe_strides (in_l, sizeof in_l, &c->in_strides);
  describe_strides (out_l, sizeof out_l, &c->out_strides);
  snprintf (buf, n,
            "seed %d: input %d×%d×%d, factors %d,%d,%d, %s × %d, alpha %d, "
            "sparse %s, %d%% background (alpha at byte %d, %d bytes), "
            "%s values, %s, input strides %s, output strides %s",
            c->seed, c->w, c->h, c->d, c->f.x, c->f.y, c->f.z,
            type_names[c->layout.type], c->layout.n_components, c->layout.alpha,
            c->sparse ? "on" : "off", c->background, c->bg.alpha_offset,
            c->bg.alpha_size, style_names[c->style], kernels_name (), in_l,
            out_l);
}

static void
run_case (Rng *r, const Case *c)
{
  const Averaging a = { .layout = &c->layout, .background = c->bg };
  const Kernel    k = averaging_kernel (&a);
  char            context[512];
  Buf in = buf_new (c->w, c->h, c->d, bpp_of (&c->layout), c->in_strides);

  fill_random_in (r, &in.v, &c->layout, c->style, c->background, c->bg);
  describe_case (context, sizeof context, c);
  assert_matches_reference (&k, &in, c->out_strides, &c->f, c->sparse, NULL,
                            context);
  buf_free (&in);
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

/* Formats with alpha (GIMP's layers), straight or premultiplied (whose
 * layout does not weight by it), where transparent and black pixels are
 * background too; in every shape, the 2×2×1 and 2×2×2 ones (whose row
 * kernels must leave these alone) too. */
START_TEST (test_random_alpha_volumes_match_reference)
{
  Rng            r = rng_new ((uint64_t) _i, 11);
  SegPixelLayout l;
  Case           c;
  int            size;

  l.type         = (SegComponentType) rng_below (&r, N_ALPHA_TYPES);
  l.n_components = rng_range (&r, 2, 4);
  l.alpha        = rng_chance (&r, 70) ? l.n_components - 1 : -1;
  size           = seg_component_size (l.type);
  c              = random_case_of (&r, _i, rng_chance (&r, 40), l);
  c.bg           = (SegBackground){ (l.n_components - 1) * size, size };
  c.background   = rng_range (&r, 20, 100);
  run_case (&r, &c);
}
END_TEST

/* The signed and 64-bit types (no alpha), mostly one component as in
 * NumPy files, in every shape, the 2×2×1 and 2×2×2 ones too. */
START_TEST (test_random_numpy_int_volumes_match_reference)
{
  Rng            r = rng_new ((uint64_t) _i, 9);
  SegPixelLayout l = { SEG_TYPE_I8, 1, -1 };
  Case           c;

  l.type = (SegComponentType) rng_range (&r, N_ALPHA_TYPES, N_TYPES - 1);
  if (rng_chance (&r, 40))
    l.n_components = rng_range (&r, 2, 4);
  c = random_case_of (&r, _i, rng_chance (&r, 30), l);
  run_case (&r, &c);
}
END_TEST

/* Y'A and R'G'B'A u8, u16 and float, straight alpha last (GIMP's layers), in
 * the shapes of their row kernels: sparse or not, the background of such
 * formats or all bytes zero (which the row kernels leave to the general
 * path). */
START_TEST (test_random_straight_alpha_blocks_match_reference)
{
  Rng                           r       = rng_new ((uint64_t) _i, 12);
  static const SegComponentType types[] = { SEG_TYPE_U8, SEG_TYPE_U16,
                                            SEG_TYPE_FLOAT };
  SegPixelLayout                l = { types[rng_below (&r, N_ELEMENTS (types))],
                       rng_chance (&r, 50) ? 4 : 2, 0 };
  const int                     size = seg_component_size (l.type);
  Case                          c;

  l.alpha = l.n_components - 1;
  c       = random_case_of (&r, _i, true, l);
  if (rng_chance (&r, 80))
    c.bg = (SegBackground){ l.alpha * size, size };
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

static const SegPixelLayout y_u8         = { SEG_TYPE_U8, 1, -1 };
static const SegPixelLayout y_u16        = { SEG_TYPE_U16, 1, -1 };
static const SegPixelLayout y_u32        = { SEG_TYPE_U32, 1, -1 };
static const SegPixelLayout y_half       = { SEG_TYPE_HALF, 1, -1 };
static const SegPixelLayout y_float      = { SEG_TYPE_FLOAT, 1, -1 };
static const SegPixelLayout y_double     = { SEG_TYPE_DOUBLE, 1, -1 };
static const SegPixelLayout rgba_u8      = { SEG_TYPE_U8, 4, 3 };
static const SegPixelLayout rgba_u16     = { SEG_TYPE_U16, 4, 3 };
static const SegPixelLayout rgba_float   = { SEG_TYPE_FLOAT, 4, 3 };
static const SegPixelLayout argb_u8      = { SEG_TYPE_U8, 4, 0 };
static const SegPixelLayout premul_u8    = { SEG_TYPE_U8, 4, -1 };
static const SegPixelLayout premul_float = { SEG_TYPE_FLOAT, 4, -1 };
static const SegPixelLayout a_u8         = { SEG_TYPE_U8, 1, 0 }; /* A */
static const SegPixelLayout y_i8         = { SEG_TYPE_I8, 1, -1 };
static const SegPixelLayout y_i16        = { SEG_TYPE_I16, 1, -1 };
static const SegPixelLayout y_i32        = { SEG_TYPE_I32, 1, -1 };
static const SegPixelLayout y_i64        = { SEG_TYPE_I64, 1, -1 };
static const SegPixelLayout y_u64        = { SEG_TYPE_U64, 1, -1 };
static const SegPixelLayout i16x2        = { SEG_TYPE_I16, 2, -1 };

/* Pools packed voxels and asserts the output is want (packed, raster
 * order), and, when the blocks tile
 * the width of a small image, also with the image repeated 67 times side
 * by side, so that the row kernels run their vectorised bodies and not
 * only their tails. */
static void
assert_pools_to (const void           *voxels,
                 int                   w,
                 int                   h,
                 int                   d,
                 const SegPixelLayout *l,
                 SegFactors            f,
                 bool                  sparse,
                 const void           *want,
                 const char           *what)
{
  const int bpp = bpp_of (l);
  const int ow  = seg_pooled_size (w, f.x);
  const int oh  = seg_pooled_size (h, f.y);
  const int od  = seg_pooled_size (d, f.z);

  for (int tiles = 1; tiles <= 67; tiles += 66)
    {
      const Averaging a = { .layout = l };
      const Kernel    k = averaging_kernel (&a);
      char            context[200];
      uint8_t        *got;

      /* Repeated only when that stays small: the reference is slow. */
      if (tiles > 1 && (w % f.x != 0 || w * h * d > 2048))
        continue;
      snprintf (context, sizeof context,
                "%s (%s × %d, factors %d,%d,%d, "
                "sparse %s, %d tile(s), %s)",
                what, type_names[l->type], l->n_components, f.x, f.y, f.z,
                sparse ? "on" : "off", tiles, kernels_name ());
      got = pool_packed (&k, voxels, w, h, d, bpp, f, sparse, tiles, context);
      for (int i = 0; i < ow * oh * od; i++)
        if (!voxels_equal (got + i * bpp, (const uint8_t *) want + i * bpp, l))
          ck_abort_msg ("%s: output voxel %d (x %d, y %d, z %d) is %s, "
                        "want %s",
                        context, i, i % ow, i / ow % oh, i / (ow * oh),
                        hex_of (got + i * bpp, bpp).s,
                        hex_of ((const uint8_t *) want + i * bpp, bpp).s);
      free (got);
    }
}

/* A rule worked out by hand: w × h × d packed voxels of layout l pool
 * (with factors f) to want_dense when not sparse and to want_sparse when
 * sparse; a NULL want is not run. */
typedef struct
{
  const char           *rule;
  const void           *in;
  int                   w, h, d;
  const SegPixelLayout *l;
  SegFactors            f;
  const void           *want_dense, *want_sparse;
} Worked;

static void
assert_worked (const Worked *c)
{
  if (c->want_dense)
    assert_pools_to (c->in, c->w, c->h, c->d, c->l, c->f, false, c->want_dense,
                     c->rule);
  if (c->want_sparse)
    assert_pools_to (c->in, c->w, c->h, c->d, c->l, c->f, true, c->want_sparse,
                     c->rule);
}

/* Packed voxels in a table row. */
#define U8(...)  ((const uint8_t[]){ __VA_ARGS__ })
#define U16(...) ((const uint16_t[]){ __VA_ARGS__ })
#define U32(...) ((const uint32_t[]){ __VA_ARGS__ })
#define F32(...) ((const float[]){ __VA_ARGS__ })
#define F64(...) ((const double[]){ __VA_ARGS__ })
#define I8(...)  ((const int8_t[]){ __VA_ARGS__ })
#define I16(...) ((const int16_t[]){ __VA_ARGS__ })
#define I32(...) ((const int32_t[]){ __VA_ARGS__ })
#define I64(...) ((const int64_t[]){ __VA_ARGS__ })
#define U64(...) ((const uint64_t[]){ __VA_ARGS__ })

static const Worked averaging_rules[] = {
  /* 1 + 2 + 2 + 2 = 7, 7 / 4 = 1.75 → 1; likewise at each width. */
  { "integer mean rounds down: u8",
    U8 (1, 2, 2, 2),
    2,
    2,
    1,
    &y_u8,
    { 2, 2, 1 },
    U8 (1),
    U8 (1) },
  { "integer mean rounds down: u16",
    U16 (65535, 65535, 65535, 65534),
    2,
    2,
    1,
    &y_u16,
    { 2, 2, 1 },
    U16 (65534),
    NULL },
  { "integer mean rounds down: u32",
    U32 (0xffffffff, 0xffffffff, 0xffffffff, 1),
    2,
    2,
    1,
    &y_u32,
    { 2, 2, 1 },
    U32 (0xbfffffff) /* (3·2^32 - 2) / 4 */,
    NULL },
  { "integer mean rounds down: u8 by 3",
    U8 (0, 0, 2),
    3,
    1,
    1,
    &y_u8,
    { 3, 1, 1 },
    U8 (0) /* 2 / 3 → 0 */,
    NULL },

  /* Quadrant sums 3, 3, 3, 7: means of 2×2 quadrants 0, 0, 0, 1, whose
   * mean is 0; the 4×4 mean is 16 / 16 = 1. */
  { "factor 4 is the exact mean, not a mean of means: by 2",
    U8 (3, 0, 1, 1, 0, 0, 1, 0, 0, 1, 4, 0, 2, 0, 1, 2),
    4,
    4,
    1,
    &y_u8,
    { 2, 2, 1 },
    U8 (0, 0, 0, 1),
    NULL },
  { "factor 4 is the exact mean, not a mean of means: by 4",
    U8 (3, 0, 1, 1, 0, 0, 1, 0, 0, 1, 4, 0, 2, 0, 1, 2),
    4,
    4,
    1,
    &y_u8,
    { 4, 4, 1 },
    U8 (1),
    U8 (1) },

  /* 2×2 blocks {0, 4 / 0, 8} and {0, 0 / 0, 9}: sparse, 12 / 2 and
   * 9 / 1; not sparse, 12 / 4 and 9 / 4. */
  { "sparse leaves background out of sum and count: u8",
    U8 (0, 4, 0, 0, 0, 8, 0, 9),
    4,
    2,
    1,
    &y_u8,
    { 2, 2, 1 },
    U8 (3, 2),
    U8 (6, 9) },
  { "sparse leaves background out of sum and count: float",
    F32 (0.0f, 4.0f, 0.0f, 8.0f),
    2,
    2,
    1,
    &y_float,
    { 2, 2, 1 },
    F32 (3.0f),
    F32 (6.0f) },

  { "sparse: an all-background block gives background, u8",
    U8 (0, 0, 7, 7, 0, 0, 7, 7),
    4,
    2,
    1,
    &y_u8,
    { 2, 2, 1 },
    NULL,
    U8 (0, 7) },
  { "sparse: an all-background block gives background, u8 2×2×2",
    U8 (0, 0, 7, 7, 0, 0, 7, 7),
    4,
    2,
    1,
    &y_u8,
    { 2, 2, 2 },
    NULL,
    U8 (0, 7) },
  { "sparse: an all-background block gives background, rgba",
    U8 (0, 0, 0, 0, 0, 0, 0, 0),
    2,
    1,
    1,
    &rgba_u8,
    { 2, 1, 1 },
    NULL,
    U8 (0, 0, 0, 0) },
  { "sparse: an all-background block gives background, double",
    F64 (0.0, 0.0),
    2,
    1,
    1,
    &y_double,
    { 2, 1, 1 },
    NULL,
    F64 (0.0) },

  /* Sparse: -0.0 counts (its sign bit is set), +0.0 does not. */
  { "-0 is not background: -0 and 4",
    F32 (-0.0f, 4.0f, 0.0f, 0.0f),
    2,
    2,
    1,
    &y_float,
    { 2, 2, 1 },
    NULL,
    F32 (2.0f) },
  /* Sparse, the mean of one -0.0 is -0.0: not background, and not +0.0.
   * Not sparse: -0 + 0 + 0 + 0 = +0. */
  { "-0 is not background: -0 alone",
    F32 (-0.0f, 0.0f, 0.0f, 0.0f),
    2,
    2,
    1,
    &y_float,
    { 2, 2, 1 },
    U32 (0),
    F32 (-0.0f) },
  { "-0 is not background: all -0, not sparse",
    F32 (-0.0f, -0.0f, -0.0f, -0.0f),
    2,
    2,
    1,
    &y_float,
    { 2, 2, 1 },
    F32 (-0.0f),
    NULL },
  { "-0 is not background: half -0",
    U16 (0x8000, 0, 0, 0),
    2,
    2,
    1,
    &y_half,
    { 2, 2, 1 },
    NULL,
    U16 (0x8000) },

  /* 5×3 by 2: the right column's blocks are 1 wide, the bottom row's
   * 1 high: (1+3+5+7)/4, (10+20+30+40)/4, (7+9)/2; (100+50)/2, (0+1)/2,
   * 255, where sparse leaves the 0 out: 1 / 1. */
  { "partial edge blocks average what exists: u8",
    U8 (1, 3, 10, 20, 7, 5, 7, 30, 40, 9, 100, 50, 0, 1, 255),
    5,
    3,
    1,
    &y_u8,
    { 2, 2, 1 },
    U8 (4, 25, 8, 75, 0, 255),
    U8 (4, 25, 8, 75, 1, 255) },
  { "partial edge blocks average what exists: float",
    F32 (1, 2, 3, 4, 5, 6, 7, 8, 9),
    3,
    3,
    1,
    &y_float,
    { 2, 2, 1 },
    F32 (3.0f, 4.5f, 7.5f, 9.0f),
    NULL },
  { "partial edge blocks average what exists: depth",
    U8 (10, 20, 30),
    1,
    1,
    3,
    &y_u8,
    { 2, 2, 2 },
    U8 (15, 30),
    NULL },

  { "a factor larger than the volume gives one block",
    U16 (1, 2, 3, 4, 5, 6),
    3,
    2,
    1,
    &y_u16,
    { SEG_MAX_FACTOR, SEG_MAX_FACTOR, SEG_MAX_FACTOR },
    U16 (3) /* 21 / 6 = 3.5 → 3 */,
    NULL },
};

/* The numbers of NumPy's integer dtypes (DESIGN.md, "Pixels as numbers"):
 * signed means truncated toward zero, as C divides; uint64 rounded down;
 * 64-bit sums carried past 64 bits.  The first rows are issue 11's. */
static const Worked numpy_int_rules[] = {
  { "int8 -1, 1, -1, 1 is 0",
    I8 (-1, 1, -1, 1),
    2,
    2,
    1,
    &y_i8,
    { 2, 2, 1 },
    I8 (0),
    I8 (0) },
  { "int16 -3, 1, 5, -1 is 0",
    I16 (-3, 1, 5, -1),
    2,
    2,
    1,
    &y_i16,
    { 2, 2, 1 },
    I16 (0),
    I16 (0) },
  { "int32 -7, 7, 1, 1 is 0",
    I32 (-7, 7, 1, 1),
    2,
    2,
    1,
    &y_i32,
    { 2, 2, 1 },
    I32 (0),
    I32 (0) },
  /* Sparse, the zeros are background: 2^33 / 2. */
  { "uint64 2^32, 0, 2^32, 0 is 2^31",
    U64 ((uint64_t) 1 << 32, 0, (uint64_t) 1 << 32, 0),
    2,
    2,
    1,
    &y_u64,
    { 2, 2, 1 },
    U64 ((uint64_t) 1 << 31),
    U64 ((uint64_t) 1 << 32) },
  { "int64 -2^40, 2, 2^40, 2 is 1",
    I64 (-((int64_t) 1 << 40), 2, (int64_t) 1 << 40, 2),
    2,
    2,
    1,
    &y_i64,
    { 2, 2, 1 },
    I64 (1),
    I64 (1) },

  /* -10 / 4 = -2.5; -21 / 4 = -5.25; -1 / 4 = -0.25, but -1 / 1 when the
   * zeros are background.  Rounding down would give -3, -6 and -1. */
  { "truncation toward zero: int8 -1, -2, -3, -4 is -2",
    I8 (-1, -2, -3, -4),
    2,
    2,
    1,
    &y_i8,
    { 2, 2, 1 },
    I8 (-2),
    I8 (-2) },
  { "truncation toward zero: int8 -5, -5, -5, -6 is -5",
    I8 (-5, -5, -5, -6),
    2,
    2,
    1,
    &y_i8,
    { 2, 2, 1 },
    I8 (-5),
    I8 (-5) },
  { "truncation toward zero: int8 -1, 0, 0, 0 is 0",
    I8 (-1, 0, 0, 0),
    2,
    2,
    1,
    &y_i8,
    { 2, 2, 1 },
    I8 (0),
    I8 (-1) },
  /* -7 / 4 = -1.75, sparse -7 / 2 = -3.5. */
  { "truncation toward zero: int16 with background",
    I16 (0, -3, 0, -4),
    2,
    2,
    1,
    &y_i16,
    { 2, 2, 1 },
    I16 (-1),
    I16 (-3) },
  /* 2×2×2, slice 1 ending in a zero: -7 / 8, sparse -7 / 7. */
  { "truncation toward zero: int64 2×2×2",
    I64 (-1, -1, -1, -1, -1, -1, -1, 0),
    2,
    2,
    2,
    &y_i64,
    { 2, 2, 2 },
    I64 (0),
    I64 (-1) },
  /* -5 / 3 = -1.67; -2 / 3 = -0.67, sparse -2 / 2. */
  { "truncation toward zero: int32 by 3",
    I32 (-2, -2, -1, -1, -1, 0),
    6,
    1,
    1,
    &y_i32,
    { 3, 1, 1 },
    I32 (-1, 0),
    I32 (-1, -1) },
  /* Positive means still round down: 507 / 4 = 126.75. */
  { "positive signed means round down: int8",
    I8 (127, 127, 127, 126),
    2,
    2,
    1,
    &y_i8,
    { 2, 2, 1 },
    I8 (126),
    I8 (126) },

  /* Sums beyond the type: -511 / 4 = -127.75; (-2^33 + 1) / 4 and
   * (-2^65 + 1) / 4 are a quarter above the minimum, so the minimum + 1. */
  { "extremes: int8 near the minimum",
    I8 (-128, -128, -128, -127),
    2,
    2,
    1,
    &y_i8,
    { 2, 2, 1 },
    I8 (-127),
    I8 (-127) },
  { "extremes: int32 near the minimum",
    I32 (INT32_MIN, INT32_MIN, INT32_MIN, INT32_MIN + 1),
    2,
    2,
    1,
    &y_i32,
    { 2, 2, 1 },
    I32 (INT32_MIN + 1),
    I32 (INT32_MIN + 1) },
  { "extremes: int64 near the minimum",
    I64 (INT64_MIN, INT64_MIN, INT64_MIN, INT64_MIN + 1),
    2,
    2,
    1,
    &y_i64,
    { 2, 2, 1 },
    I64 (INT64_MIN + 1),
    I64 (INT64_MIN + 1) },
  { "extremes: int64 minima and maxima",
    I64 (INT64_MIN,
         INT64_MAX,
         INT64_MIN,
         INT64_MIN,
         INT64_MAX,
         INT64_MIN,
         INT64_MIN,
         INT64_MIN,
         INT64_MIN,
         INT64_MIN,
         INT64_MAX,
         INT64_MAX),
    4,
    3,
    1,
    &y_i64,
    { 2, 2, 1 },
    /* -2 / 4 = -0.5; -2^65 / 4; the bottom row alone: -2^64 / 2,
     * (2^64 - 2) / 2. */
    I64 (0, INT64_MIN, INT64_MIN, INT64_MAX),
    I64 (0, INT64_MIN, INT64_MIN, INT64_MAX) },
  /* (4 · (2^64 - 1) - 1) / 4 = 2^64 - 1.25. */
  { "extremes: uint64 near the maximum",
    U64 (UINT64_MAX,
         UINT64_MAX,
         UINT64_MAX,
         UINT64_MAX - 1,
         UINT64_MAX,
         UINT64_MAX,
         UINT64_MAX,
         UINT64_MAX),
    8,
    1,
    1,
    &y_u64,
    { 4, 1, 1 },
    U64 (UINT64_MAX - 1, UINT64_MAX),
    U64 (UINT64_MAX - 1, UINT64_MAX) },
  /* 2^64 / 4, sparse 2^64 / 2. */
  { "extremes: uint64 sum of 2^64",
    U64 (UINT64_MAX, 1, 0, 0),
    2,
    2,
    1,
    &y_u64,
    { 2, 2, 1 },
    U64 ((uint64_t) 1 << 62),
    U64 ((uint64_t) 1 << 63) },

  /* 3 wide by 2: (-3 - 4) / 2 = -3.5, then -5 alone. */
  { "partial edge blocks: int16",
    I16 (-3, -4, -5),
    3,
    1,
    1,
    &y_i16,
    { 2, 1, 1 },
    I16 (-3, -5),
    I16 (-3, -5) },
  /* Components are independent: (-3 - 4) / 2, (5 + 6) / 2. */
  { "two components: int16",
    I16 (-3, 5, -4, 6),
    2,
    1,
    1,
    &i16x2,
    { 2, 1, 1 },
    I16 (-3, 5),
    I16 (-3, 5) },
};

START_TEST (test_numpy_int_rule)
{
  assert_worked (&numpy_int_rules[_i]);
}
END_TEST

START_TEST (test_factor_1_is_identity)
{
  /* Every half pattern (NaNs stay NaN), and other types' extremes. */
  uint16_t           *halves    = malloc (65536 * sizeof *halves);
  static const float  floats[]  = { -0.0f,         0.0f,      1.0f,     FLT_MAX,
                                    -FLT_TRUE_MIN, 0x1p-140f, INFINITY, 3.5f };
  static const double doubles[] = { -0.0,       DBL_MAX,   DBL_TRUE_MIN,
                                    -1.0 / 3.0, -INFINITY, 0x1p-1070 };
  static const uint32_t ints[]  = { 0, 1, 0xffffffff, 0x80000000 };
  static const int64_t  i64s[]  = { INT64_MIN, -1, 0, 1, INT64_MAX, 7 };
  static const uint64_t u64s[]  = { UINT64_MAX, 0, (uint64_t) 1 << 63, 5 };
  static const int8_t   i8s[]   = { -128, -1, 0, 127 };

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
      assert_pools_to (i64s, 3, 2, 1, &y_i64, f111, sparse, i64s, "i64");
      assert_pools_to (u64s, 2, 2, 1, &y_u64, f111, sparse, u64s, "u64");
      assert_pools_to (i8s, 2, 1, 2, &y_i8, f111, sparse, i8s, "i8");
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
  static const float  in[]    = { 1.0f, 0x1p-24f, 0x1p-24f, 0x1p-24f };
  static const float  want[]  = { 0x1p-2f + 0x1p-24f };
  static const double din[]   = { 1.0, 0x1p-53, 0x1p-53, 0x1p-53 };
  static const double dwant[] = { 0.25 }; /* the double sum is 1 */
  float via_float = ((1.0f + 0x1p-24f) + 0x1p-24f + 0x1p-24f) / 4.0f;

  ck_assert_msg (via_float != want[0], "the case does not tell the ways "
                                       "apart");
  assert_pools_to (in, 2, 2, 1, &y_float, f221, false, want, "2×2");
  assert_pools_to (in, 2, 2, 1, &y_float, f221, true, want, "2×2 sparse");
  assert_pools_to (in, 4, 1, 1, &y_float, (SegFactors){ 4, 1, 1 }, false, want,
                   "4×1");
  assert_pools_to (din, 2, 2, 1, &y_double, f221, false, dwant, "double");
}
END_TEST

static const Worked floating_point_rules[] = {
  /* (2^60 + 1) rounds to 2^60 in double, so a block 2^60, 1 / -2^60, 1
   * sums to 1 in raster order (((a + b) + c) + d) but to 2 column by
   * column ((a + c) + b + d); mean 0.25, not 0.5. */
  { "sums run in raster order: 2×2",
    F32 (0x1p60f, 1.0f, -0x1p60f, 1.0f),
    2,
    2,
    1,
    &y_float,
    { 2, 2, 1 },
    F32 (0.25f),
    F32 (0.25f) },
  /* 2×2×2: slice 0 is 2^60, 1 / 1, 1; slice 1 is -2^60, 0 / 0, 0.
   * Raster order: 2^60 (+1 +1 +1 lost) - 2^60 = 0; z before y would give
   * 2^60 - 2^60 + 1 + 1 + 1 = 3. */
  { "sums run in raster order: 2×2×2",
    F32 (0x1p60f,
         1.0f,
         1.0f,
         1.0f,

         -0x1p60f,
         0.0f,
         0.0f,
         0.0f),
    2,
    2,
    2,
    &y_float,
    { 2, 2, 2 },
    F32 (0.0f),
    F32 (0.0f) },
  { "sums run in raster order: double",
    F64 (0x1p60, 1.0, -0x1p60, 1.0),
    2,
    2,
    1,
    &y_double,
    { 2, 2, 1 },
    F64 (0.25),
    NULL },
  /* 3×3: row 0 is 2^60, 1, 1; row 1 is -2^60, 1, 1; row 2 is 1, 1, 1:
   * raster order gives 0 + 2 + 3 = 5, so 5/9. */
  { "sums run in raster order: 3×3",
    F32 (0x1p60f, 1, 1, -0x1p60f, 1, 1, 1, 1, 1),
    3,
    3,
    1,
    &y_float,
    { 3, 3, 1 },
    F32 ((float) (5.0 / 9.0)),
    NULL },

  /* Means of pairs (factor 2 along x), each exactly halfway between two
   * neighbouring halves, so that only the tie rule decides. */
  { "half mean rounds to nearest even: ties",
    U16 (0x3c00,
         0x3c01, /* 1 and 1 + 2^-10: 1 + 2^-11 → 1 (even)      */
         0x3c01,
         0x3c02, /* → 1 + 2^-9 (0x3c02, even)                   */
         0x0000,
         0x0001, /* 0 and 2^-24: 2^-25 → 0 (even)               */
         0x0001,
         0x0002, /* 1.5·2^-24 → 2^-23 (0x0002, even)            */
         0x03ff,
         0x0400, /* largest subnormal, smallest normal → 0x0400 */
         0x8001,
         0x8000, /* -2^-24 and -0: -2^-25 → -0                  */
         0x7bfe,
         0x7bff), /* 65472 and 65504: 65488 → 0x7bfe (even)      */
    14,
    1,
    1,
    &y_half,
    { 2, 1, 1 },
    U16 (0x3c00, 0x3c02, 0x0000, 0x0002, 0x0400, 0x8000, 0x7bfe),
    NULL },
  /* Not ties: thirds. */
  { "half mean rounds to nearest even: thirds",
    U16 (0x3c00,
         0x0000,
         0x0000, /* 1/3 → 0x3555 (0.333251953125)  */
         0x0001,
         0x0000,
         0x0000, /* 2^-24 / 3 → 0 (below 2^-25)    */
         0x0002,
         0x0000,
         0x0000), /* 2^-23 / 3 = 0.67·2^-24 → 2^-24 */
    9,
    1,
    1,
    &y_half,
    { 3, 1, 1 },
    U16 (0x3555, 0x0000, 0x0001),
    NULL },
};

START_TEST (test_half_every_tie_between_neighbours_goes_to_even)
{
  /* Every pair of neighbouring finite halves of either sign, pooled by 2:
   * each mean is a tie, and together they cover every binade, the
   * subnormals and the step into the normals. */
  const int      pairs = 0x7bff * 2;
  uint16_t      *in    = malloc ((size_t) pairs * 2 * sizeof *in);
  uint16_t      *want  = malloc ((size_t) pairs * sizeof *want);
  SegPixelLayout l     = y_half;
  int            k     = 0;

  ck_assert_ptr_nonnull (in);
  ck_assert_ptr_nonnull (want);
  for (int sign = 0; sign < 2; sign++)
    for (int h = 0; h < 0x7bff; h++, k++)
      {
        uint16_t a = (uint16_t) (h | sign << 15), b = (uint16_t) (a + 1);
        uint16_t even = (h & 1) == 0 ? a : b;

        in[2 * k]     = a;
        in[2 * k + 1] = b;
        want[k]       = even; /* the tie goes to the even pattern */
        if (ref_half_from_double (
              (ref_half_to_double (a) + ref_half_to_double (b)) / 2) != even)
          ck_abort_msg ("reference: mean of 0x%04x and 0x%04x is not 0x%04x", a,
                        b, even);
      }
  assert_pools_to (in, pairs * 2, 1, 1, &l, f211, false, want,
                   "neighbour pairs");
  free (in);
  free (want);
}
END_TEST


/* ---- Alpha -------------------------------------------------------------- */

static const Worked alpha_rules[] = {
  /* Transparent red next to opaque blue: blue, half opaque. */
  { "a transparent pixel does not tint: u8",
    U8 (255, 0, 0, 0, 0, 0, 255, 255),
    2,
    1,
    1,
    &rgba_u8,
    { 2, 1, 1 },
    U8 (0, 0, 255, 127),
    U8 (0, 0, 255, 127) },
  { "a transparent pixel does not tint: float",
    F32 (1, 0, 0, 0, 0, 0, 1, 1),
    2,
    1,
    1,
    &rgba_float,
    { 2, 1, 1 },
    F32 (0, 0, 1, 0.5f),
    F32 (0, 0, 1, 0.5f) },
  /* The same with the alpha first (A R G B). */
  { "a transparent pixel does not tint: argb u8",
    U8 (0, 255, 0, 0, 255, 0, 0, 255),
    2,
    1,
    1,
    &argb_u8,
    { 2, 1, 1 },
    U8 (127, 0, 0, 255),
    U8 (127, 0, 0, 255) },

  /* Whatever a fully transparent voxel's colour holds — infinities, NaN,
   * a negative number that would make a zero sum -0 — it adds nothing. */
  { "a transparent infinite or NaN colour does not tint",
    F32 (INFINITY,
         NAN,
         -5,
         0,
         0,
         0.5f,
         0,
         1,
         -INFINITY,
         -0.0f,
         2,
         0,
         0,
         0.25f,
         1,
         1),
    2,
    2,
    1,
    &rgba_float,
    { 2, 2, 1 },
    F32 (0, 0.375f, 0.5f, 0.5f),
    F32 (0, 0.375f, 0.5f, 0.5f) },

  /* (200·64 + 0·192) / 256 = 50; (0·64 + 200·192) / 256 = 150;
   * alpha 256 / 2 = 128.  u16: the same scaled, with rounding down:
   * R (1000·1 + 0·2) / 3 = 333, B (0·1 + 1000·2) / 3 = 666, A 3 / 2 = 1. */
  { "colour is weighted by alpha: u8",
    U8 (200, 0, 0, 64, 0, 0, 200, 192),
    2,
    1,
    1,
    &rgba_u8,
    { 2, 1, 1 },
    U8 (50, 0, 150, 128),
    NULL },
  { "colour is weighted by alpha: u16",
    U16 (1000, 0, 0, 1, 0, 0, 1000, 2),
    2,
    1,
    1,
    &rgba_u16,
    { 2, 1, 1 },
    U16 (333, 0, 666, 1),
    NULL },

  { "zero total alpha gives colour zero: u8",
    U8 (200, 100, 50, 0, 10, 20, 30, 0),
    2,
    1,
    1,
    &rgba_u8,
    { 2, 1, 1 },
    U8 (0, 0, 0, 0),
    U8 (0, 0, 0, 0) },
  { "zero total alpha gives colour zero: float",
    F32 (0.5f, 1, 2, 0, 3, 4, 5, 0),
    2,
    1,
    1,
    &rgba_float,
    { 2, 1, 1 },
    F32 (0, 0, 0, 0),
    F32 (0, 0, 0, 0) },

  /* Background (all zero) is left out; a transparent voxel with colour is
   * not background: it counts in |P| (halving alpha) but adds no
   * colour. */
  { "sparse: a transparent voxel counts in alpha",
    U8 (0, 0, 0, 0, 10, 20, 30, 0, 100, 100, 100, 255, 0, 0, 0, 0),
    2,
    2,
    1,
    &rgba_u8,
    { 2, 2, 1 },
    U8 (100, 100, 100, 63),
    U8 (100, 100, 100, 127) },

  /* alpha = -1: every component is a plain mean; the transparent red
   * tints, as it should for premultiplied data (where it cannot occur). */
  { "premultiplied alpha is a plain mean: u8",
    U8 (255, 0, 0, 0, 0, 0, 255, 255),
    2,
    1,
    1,
    &premul_u8,
    { 2, 1, 1 },
    U8 (127, 0, 127, 127),
    NULL },
  { "premultiplied alpha is a plain mean: float",
    F32 (1, 0, 0, 0, 0, 0, 1, 1),
    2,
    1,
    1,
    &premul_float,
    { 2, 1, 1 },
    F32 (0.5f, 0, 0.5f, 0.5f),
    NULL },

  /* One component that is alpha: alpha = Σa / |P|, nothing to weight. */
  { "an alpha-only voxel is a plain mean",
    U8 (0, 255, 255, 255),
    2,
    2,
    1,
    &a_u8,
    { 2, 2, 1 },
    U8 (191),
    U8 (255) },
};

START_TEST (test_averaging_rule)
{
  assert_worked (&averaging_rules[_i]);
}
END_TEST

START_TEST (test_floating_point_rule)
{
  assert_worked (&floating_point_rules[_i]);
}
END_TEST

START_TEST (test_alpha_rule)
{
  assert_worked (&alpha_rules[_i]);
}
END_TEST


/* ---- Large blocks: no overflow ------------------------------------------ */

/* Pools in, 64³ voxels of layout l, with factors 64,64,64 into out, one
 * voxel in padding, which it checks. */
static void
pool_64_cubed (const Buf            *in,
               const Buf            *out,
               const SegPixelLayout *l,
               bool                  sparse,
               const char           *context)
{
  const SegFactors f       = { 64, 64, 64 };
  void            *scratch = scratch_new (&f, l);

  assert_status (seg_average_pool (&in->v, &out->v, &f, l, sparse,
                                   SEG_BACKGROUND_ZEROS, scratch),
                 SEG_OK, context);
  assert_padding_intact (out, context);
  free (scratch);
}

/* A 64³ block of u32 voxels, every component the maximum, gives the
 * maximum: plain, sparse, and with alpha (colour × alpha sums to about
 * 2^82). */
START_TEST (test_64_cubed_u32_maxima_give_the_maximum)
{
  static const SegPixelLayout layouts[] = {
    { SEG_TYPE_U32, 1, -1 },
    { SEG_TYPE_U32, 2, 1 },
    { SEG_TYPE_U32, 4, 3 },
    { SEG_TYPE_U32, 4, 0 },
  };

  for (int i = 0; i < N_ELEMENTS (layouts); i++)
    for (int sparse = 0; sparse < 2; sparse++)
      {
        const SegPixelLayout *l   = &layouts[i];
        const int             bpp = bpp_of (l);
        Buf                   in  = buf_new (64, 64, 64, bpp, packed);
        Buf  out = buf_new (1, 1, 1, bpp, (Strides){ 4, 0, 0, 0 });
        char context[96];

        memset (in.mem, 0xff, in.size);
        snprintf (context, sizeof context, "u32 × %d, alpha %d, sparse %d",
                  l->n_components, l->alpha, sparse);
        pool_64_cubed (&in, &out, l, sparse, context);
        for (int c = 0; c < l->n_components; c++)
          {
            uint32_t v;

            memcpy (&v, out.mem + 4 * c, 4);
            if (v != 0xffffffff)
              ck_abort_msg ("%s: component %d is 0x%08x", context, c, v);
          }
        buf_free (&in);
        buf_free (&out);
      }
}
END_TEST

/* 64³ blocks of a signed or 64-bit type's extremes: every voxel fill but
 * the last, last; the means worked out by hand.  Sums reach 2^82 (u64) and
 * -2^81 (i64), and a quarter … a 2^18th above the minimum the mean
 * truncates to the minimum + 1, where rounding down would give the
 * minimum. */
START_TEST (test_64_cubed_extremes_of_signed_and_64_bit_types)
{
  static const struct
  {
    SegComponentType type;
    int64_t          fill, last, want_dense, want_sparse;
  } cfg[] = {
    { SEG_TYPE_I64, INT64_MIN, INT64_MIN, INT64_MIN, INT64_MIN },
    { SEG_TYPE_I64, INT64_MIN, INT64_MIN + 1, INT64_MIN + 1, INT64_MIN + 1 },
    { SEG_TYPE_I64, INT64_MAX, INT64_MAX, INT64_MAX, INT64_MAX },
    { SEG_TYPE_I64, INT64_MAX, INT64_MAX - 1, INT64_MAX - 1, INT64_MAX - 1 },
    /* uint64 in two's complement: -1 is the maximum. */
    { SEG_TYPE_U64, -1, -1, -1, -1 },
    { SEG_TYPE_U64, -1, -2, -2, -2 },
    { SEG_TYPE_I32, INT32_MIN, INT32_MIN + 1, INT32_MIN + 1, INT32_MIN + 1 },
    { SEG_TYPE_I16, INT16_MIN, INT16_MIN + 1, INT16_MIN + 1, INT16_MIN + 1 },
    { SEG_TYPE_I8, INT8_MIN, INT8_MIN + 1, INT8_MIN + 1, INT8_MIN + 1 },
    { SEG_TYPE_I8, INT8_MAX, INT8_MAX - 1, INT8_MAX - 1, INT8_MAX - 1 },
    /* Background but the last voxel: its 2^18th, or itself alone. */
    { SEG_TYPE_I64, 0, INT64_MIN, -((int64_t) 1 << 45), INT64_MIN },
    { SEG_TYPE_I64, 0, -1, 0, -1 },
  };

  for (int i = 0; i < N_ELEMENTS (cfg); i++)
    for (int sparse = 0; sparse < 2; sparse++)
      {
        const SegPixelLayout l    = { cfg[i].type, 1, -1 };
        const int            size = seg_component_size (l.type);
        const uint64_t       mask = max_of (l.type);
        const uint64_t       want =
          (uint64_t) (sparse ? cfg[i].want_sparse : cfg[i].want_dense) & mask;
        Buf      in  = buf_new (64, 64, 64, size, packed);
        Buf      out = buf_new (1, 1, 1, size, (Strides){ 4, 0, 0, 0 });
        uint64_t got;
        char     context[96];

        for (int k = 0; k < 64 * 64 * 64; k++)
          put_u (in.mem + k * size, l.type,
                 (uint64_t) (k < 64 * 64 * 64 - 1 ? cfg[i].fill : cfg[i].last));
        snprintf (context, sizeof context, "row %d, %s, sparse %d", i,
                  type_names[l.type], sparse);
        pool_64_cubed (&in, &out, &l, sparse, context);
        got = get_u (out.mem, l.type);
        if (got != want)
          ck_abort_msg ("%s: got 0x%llx, want 0x%llx", context,
                        (unsigned long long) got, (unsigned long long) want);
        buf_free (&in);
        buf_free (&out);
      }
}
END_TEST

/* Random 64³ blocks (and a few 16³ ones) of wide integers with alpha,
 * and of the NumPy types, against the reference: sums far beyond 64 bits,
 * divided exactly.  The NumPy types' rows also with extremes (mixed), so
 * that sums run far past 64 bits in either direction. */
static const struct
{
  SegPixelLayout l;
  int            size, factor;
  ValueStyle     style;
} large_blocks[] = {
  { { SEG_TYPE_U32, 4, 3 }, 64, 64, VALUES_UNIFORM },
  { { SEG_TYPE_U32, 2, 0 }, 64, 64, VALUES_UNIFORM },
  { { SEG_TYPE_U16, 4, 3 }, 64, 64, VALUES_UNIFORM },
  { { SEG_TYPE_DOUBLE, 2, 1 }, 64, 64, VALUES_UNIFORM },
  { { SEG_TYPE_U32, 3, 1 }, 48, 16, VALUES_UNIFORM },
  { { SEG_TYPE_HALF, 4, 3 }, 48, 16, VALUES_UNIFORM },
  { { SEG_TYPE_I64, 1, -1 }, 64, 64, VALUES_UNIFORM },
  { { SEG_TYPE_U64, 1, -1 }, 64, 64, VALUES_MIXED },
  { { SEG_TYPE_U64, 2, -1 }, 64, 64, VALUES_UNIFORM },
  { { SEG_TYPE_I64, 1, -1 }, 64, 64, VALUES_MIXED },
  { { SEG_TYPE_I32, 2, -1 }, 48, 16, VALUES_MIXED },
};

START_TEST (test_large_random_blocks_match_reference)
{
  Case c = { 0 };
  Rng  r = rng_new ((uint64_t) _i, 3);

  c.seed   = _i;
  c.layout = large_blocks[_i].l;
  c.w = c.h = c.d = large_blocks[_i].size;
  c.f.x = c.f.y = c.f.z = large_blocks[_i].factor;
  c.sparse              = _i % 2 == 1;
  c.background          = 20;
  c.style               = large_blocks[_i].style;
  c.in_strides = c.out_strides = packed;
  run_case (&r, &c);
}
END_TEST


/* ---- The row kernels' division, exhaustively ---------------------------- */

/* Values of k nonzero voxels of a type from lo to hi (lo < 0 < hi or
 * lo = 1) that add up to s, into v: as even as possible, or where that
 * would need a zero (|s| < k), ones of either sign and at most one ±2.
 * False when there are none (s = 0, k = 1). */
static bool
nonzero_values_adding_to (int64_t s, int k, int64_t v[8])
{
  int64_t first = 0, rest = s, plus;

  if (s >= k || s <= -k)
    {
      const int64_t base = s >= 0 ? s / k : -((-s + k - 1) / k); /* floor */

      for (int j = 0; j < k; j++)
        v[j] = base + (j < s - base * k);
      return true;
    }
  if ((k - s) % 2 != 0)
    {
      if (k == 1)
        return false;
      first = s >= 0 ? 2 : -2;
      rest  = s - first;
    }
  plus = (k - (first != 0) + rest) / 2;
  for (int j = 0; j < k; j++)
    v[j] = j == 0 && first != 0 ? first : j - (first != 0) < plus ? 1 : -1;
  return true;
}

/* For every count k of counted voxels a sparse 2×2 (k ≤ 4) or 2×2×2
 * (k ≤ 8) block can have, and every sum s they can add up to (k · the
 * least nonzero value … k · max), one block: k voxels that add up to s
 * (nonzero_values_adding_to (), at positions that rotate with s) and
 * background elsewhere; its mean must be s / k, truncated toward zero.
 * One long row of blocks per k. */
START_TEST (test_sparse_row_kernels_divide_exactly_for_every_sum_and_count)
{
  static const struct
  {
    SegComponentType type;
    int              fz;
  } cfg[] = {
    { SEG_TYPE_U8, 1 },  { SEG_TYPE_U8, 2 },  { SEG_TYPE_U16, 1 },
    { SEG_TYPE_U16, 2 }, { SEG_TYPE_I8, 1 },  { SEG_TYPE_I8, 2 },
    { SEG_TYPE_I16, 1 }, { SEG_TYPE_I16, 2 },
  };
  const SegPixelLayout l        = { cfg[_i].type, 1, -1 };
  const SegFactors     f        = { 2, 2, cfg[_i].fz };
  const int            n_voxels = 4 * cfg[_i].fz;
  const bool           sign     = is_signed (l.type);
  const int64_t max = (int64_t) (sign ? max_of (l.type) >> 1 : max_of (l.type));
  const int64_t lo  = sign ? -max - 1 : 1;
  const int     size      = seg_component_size (l.type);
  const Averaging a       = { .layout = &l };
  void           *scratch = scratch_new (&f, &l);

  for (int k = 1; k <= n_voxels; k++)
    {
      const int blocks = (int) ((max - lo) * k + 1);
      Buf       in     = buf_new (2 * blocks, 2, cfg[_i].fz, size, packed);
      Buf       out    = buf_new (blocks, 1, 1, size, packed);
      int64_t   v[8];

      memset (in.mem, 0, in.size);
      for (int b = 0; b < blocks; b++)
        {
          const int64_t s = lo * k + b;

          if (nonzero_values_adding_to (s, k, v))
            for (int j = 0; j < k; j++)
              {
                const int pos =
                  (int) (((s + j) % n_voxels + n_voxels) % n_voxels);

                if (v[j] == 0 || v[j] < lo || v[j] > max)
                  ck_abort_msg ("sum %lld over %d: voxel %lld", (long long) s,
                                k, (long long) v[j]);
                put_u (at (&in.v, 2 * b + pos % 2, pos / 2 % 2, pos / 4),
                       l.type, (uint64_t) v[j]);
              }
        }
      assert_status (average_pool (&in.v, &out.v, &f, true, scratch, &a),
                     SEG_OK, "division");
      for (int b = 0; b < blocks; b++)
        {
          const int64_t  s    = lo * k + b;
          const uint64_t want = nonzero_values_adding_to (s, k, v)
                                  ? (uint64_t) (s / k) & max_of (l.type)
                                  : 0;
          uint64_t       got  = get_u (at (&out.v, b, 0, 0), l.type);

          if (got != want)
            ck_abort_msg ("%s 2×2×%d, %s: sum %lld over %d voxels gives "
                          "0x%llx, want 0x%llx",
                          type_names[l.type], cfg[_i].fz, kernels_name (),
                          (long long) s, k, (unsigned long long) got,
                          (unsigned long long) want);
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
    { 7, 13, false, false },
    { 1, 0, true, false },
    { 0, 3, false, true },
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
          c.f           = (SegFactors){ 2, 2, fz };
          c.layout      = y_u8;
          c.sparse      = sparse;
          c.background  = 30;
          c.style       = VALUES_UNIFORM;
          c.in_strides  = odd[i];
          c.out_strides = odd[(i + 1) % N_ELEMENTS (odd)];
          run_case (&r, &c);
          c.layout = y_float;
          run_case (&r, &c);
        }
}
END_TEST

START_TEST (test_negative_strides_read_flipped_views)
{
  /* The same voxels, stored bottom-up and last slice first, give the
   * same means (and the reference agrees). */
  static const uint8_t in[] = {
    1, 2,  3,  4,  5,  6,  7,  8,

    9, 10, 11, 12, 13, 14, 15, 16,
  };
  static const uint8_t want[] = { 7, 9 }; /* (1+2+5+6+9+10+13+14)/8 … */
  Buf                  b  = buf_new (4, 2, 2, 1, (Strides){ 2, 3, true, true });
  Buf             out     = buf_new (2, 1, 1, 1, (Strides){ 0, 0, true, true });
  void           *scratch = scratch_new (&f222, &y_u8);
  const uint8_t  *p       = in;
  const Averaging a       = { .layout = &y_u8 };

  for (int z = 0; z < 2; z++)
    for (int y = 0; y < 2; y++)
      for (int x = 0; x < 4; x++)
        *at (&b.v, x, y, z) = *p++;
  assert_status (average_pool (&b.v, &out.v, &f222, false, scratch, &a), SEG_OK,
                 "flipped");
  ck_assert_uint_eq (*at (&out.v, 0, 0, 0), want[0]);
  ck_assert_uint_eq (*at (&out.v, 1, 0, 0), want[1]);
  free (scratch);
  buf_free (&b);
  buf_free (&out);
}
END_TEST

/* The input of one call of the scratch test. */
static void
fill_scratch_test_input (Rng *r, const SegVolume *v, int call, const void *data)
{
  const Averaging *a = data;

  (void) call;
  fill_random (r, v, a->layout, VALUES_MIXED, 20);
}

START_TEST (test_scratch_can_be_reused_for_smaller_factors)
{
  static const SegFactors sequence[] = {
    { 8, 8, 2 }, { 5, 3, 1 }, { 2, 2, 2 }, { 4, 4, 4 }, { 2, 2, 1 }, { 6, 7, 1 }
  };
  static const SegPixelLayout l = { SEG_TYPE_U32, 4, 3 };
  const Averaging             a = { .layout = &l };
  const Kernel                k = averaging_kernel (&a);

  assert_scratch_serves_smaller_factors (
    &k, bpp_of (&l), sequence, N_ELEMENTS (sequence), fill_scratch_test_input);
}
END_TEST

/* Outputs of several MiB with the 2×2 and 2×2×2 shapes, into a padded view
 * with odd row padding: the AVX-512 kernels write outputs this large with
 * non-temporal stores, in aligned steps after a masked head.  The result
 * is compared with pooling the same input in slabs, and its first and last
 * rows with the reference's on those rows of the input (blocks do not
 * reach across them). */
START_TEST (test_large_outputs_match_pooling_in_slabs)
{
  static const struct
  {
    int            w, h, d, fz;
    bool           sparse;
    SegPixelLayout l;
  } cfg[] = {
    { 4099, 4098, 1, 1, false, { SEG_TYPE_U8, 1, -1 } },
    { 4100, 4097, 1, 1, true, { SEG_TYPE_U8, 1, -1 } },
    { 2901, 2900, 4, 2, false, { SEG_TYPE_U8, 1, -1 } },
    { 2900, 2901, 4, 2, true, { SEG_TYPE_U8, 1, -1 } },
    { 2050, 2049, 1, 1, true, { SEG_TYPE_FLOAT, 1, -1 } },
  };
  const int             w = cfg[_i].w, h = cfg[_i].h, d = cfg[_i].d;
  const SegPixelLayout *l      = &cfg[_i].l;
  const int             bpp    = bpp_of (l);
  const bool            sparse = cfg[_i].sparse;
  const SegFactors      f      = { 2, 2, cfg[_i].fz };
  const Strides         odd    = { 5, 3, false, false };
  const Averaging       a      = { .layout = l };
  const Kernel          k      = averaging_kernel (&a);
  Rng                   r      = rng_new ((uint64_t) _i, 8);
  Buf                   in     = buf_new (w, h, d, bpp, packed);
  Buf       out       = buf_new (seg_pooled_size (w, 2), seg_pooled_size (h, 2),
                                 seg_pooled_size (d, f.z), bpp, odd);
  const int edge_rows = 16; /* output rows checked at each end */
  Buf       want = buf_new (out.v.width, edge_rows, out.v.depth, bpp, packed);
  char      context[96];

  fill_random (&r, &in.v, l, VALUES_UNIFORM, sparse ? 30 : 0);
  snprintf (context, sizeof context,
            "%d×%d×%d %s, factors 2,2,%d, "
            "sparse %d",
            w, h, d, type_names[l->type], f.z, sparse);
  assert_slabs_match_whole (&k, &in, &out, &f, sparse, context);
  for (int end = 0; end < 2; end++)
    {
      /* Output rows [first, first + edge_rows) against the reference on
       * their input rows; h is odd or even, the last block partial or
       * not. */
      const int first   = end ? out.v.height - edge_rows : 0;
      SegVolume in_rows = in.v, out_rows = out.v;

      in_rows.data =
        (uint8_t *) in.v.data + (ptrdiff_t) (2 * first) * in.v.row_stride;
      in_rows.height =
        h - 2 * first < 2 * edge_rows ? h - 2 * first : 2 * edge_rows;
      out_rows.data =
        (uint8_t *) out.v.data + (ptrdiff_t) first * out.v.row_stride;
      out_rows.height = edge_rows;
      ref_average_pool (&in_rows, &want.v, &f, l, sparse, SEG_BACKGROUND_ZEROS);
      assert_volumes_equal (&k, &out_rows, &want.v, context);
    }

  buf_free (&want);
  buf_free (&in);
  buf_free (&out);
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
  ck_assert_int_eq (seg_component_size (SEG_TYPE_I8), 1);
  ck_assert_int_eq (seg_component_size (SEG_TYPE_I16), 2);
  ck_assert_int_eq (seg_component_size (SEG_TYPE_I32), 4);
  ck_assert_int_eq (seg_component_size (SEG_TYPE_I64), 8);
  ck_assert_int_eq (seg_component_size (SEG_TYPE_U64), 8);
  ck_assert_int_eq (seg_component_size ((SegComponentType) N_TYPES), 0);
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
    { { SEG_TYPE_I8, 1, -1 }, 1, SEG_OK },
    { { SEG_TYPE_I64, 1, -1 }, 8, SEG_OK },
    { { SEG_TYPE_U64, 2, -1 }, 16, SEG_OK },
    { { SEG_TYPE_I16, 32, -1 }, 64, SEG_OK },
    { { SEG_TYPE_I8, 1, 0 }, 1, SEG_EBADTYPE }, /* signed: no alpha */
    { { SEG_TYPE_I32, 2, 1 }, 8, SEG_EBADTYPE },
    { { SEG_TYPE_U64, 2, 0 }, 16, SEG_EBADTYPE }, /* u64: no alpha    */
    { { SEG_TYPE_I64, 1, -1 }, 4, SEG_EBADTYPE },
    { { SEG_TYPE_U8, 4, 3 }, 3, SEG_EBADTYPE }, /* size mismatch  */
    { { SEG_TYPE_FLOAT, 1, -1 }, 2, SEG_EBADTYPE },
    { { SEG_TYPE_U8, 0, -1 }, 0, SEG_EBADTYPE }, /* no components  */
    { { SEG_TYPE_U8, -4, -1 }, -4, SEG_EBADTYPE },
    { { SEG_TYPE_U8, 4, 4 }, 4, SEG_EBADTYPE }, /* alpha past end */
    { { SEG_TYPE_U8, 4, -2 }, 4, SEG_EBADTYPE },
    { { (SegComponentType) N_TYPES, 1, -1 }, 1, SEG_EBADTYPE },
    { { SEG_TYPE_U8, 65, -1 }, 65, SEG_EBADTYPE },         /* too wide       */
    { { SEG_TYPE_U32, 0x40000001, -1 }, 4, SEG_EBADTYPE }, /* overflow */
  };

  ck_assert_int_eq (seg_pixel_layout_check (NULL, 1), SEG_EBADARG);
  for (int i = 0; i < N_ELEMENTS (cases); i++)
    ck_assert_msg (seg_pixel_layout_check (&cases[i].l, cases[i].bpp) ==
                     cases[i].want,
                   "case %d", i);
}
END_TEST

START_TEST (test_scratch_size_is_zero_for_invalid_arguments)
{
  static const SegFactors     bad_f[] = { { 0, 2, 2 },
                                          { 2, 0, 2 },
                                          { 2, 2, 0 },
                                          { -1, 1, 1 },
                                          { SEG_MAX_FACTOR + 1, 1, 1 },
                                          { 1, 1, SEG_MAX_FACTOR + 1 } };
  static const SegPixelLayout bad_l[] = {
    { (SegComponentType) N_TYPES, 1, -1 },
    { SEG_TYPE_U8, 0, -1 },
    { SEG_TYPE_I16, 1, 0 },
    { SEG_TYPE_U64, 9, -1 },
    { SEG_TYPE_U8, 2, 2 },
    { SEG_TYPE_U8, 2, -3 },
    { SEG_TYPE_U16, 33, -1 },
  };
  const Averaging a = { .layout = &y_u8 };
  const Kernel    k = averaging_kernel (&a);

  assert_scratch_size_zero (&k, bad_f, N_ELEMENTS (bad_f));
  ck_assert_uint_eq (seg_average_pool_scratch_size (&f221, NULL), 0);
  for (int i = 0; i < N_ELEMENTS (bad_l); i++)
    ck_assert_msg (seg_average_pool_scratch_size (&f221, &bad_l[i]) == 0,
                   "layout %d", i);
}
END_TEST

START_TEST (test_scratch_size_does_not_shrink_with_larger_factors)
{
  static const SegFactors grow[] = { { 1, 1, 1 },   { 2, 1, 1 }, { 2, 2, 1 },
                                     { 2, 2, 2 },   { 4, 4, 4 }, { 16, 16, 16 },
                                     { 64, 64, 64 } };
  static const SegPixelLayout layouts[] = {
    { SEG_TYPE_U8, 1, -1 },  { SEG_TYPE_U32, 4, 3 },
    { SEG_TYPE_U8, 64, 63 }, { SEG_TYPE_DOUBLE, 8, -1 },
    { SEG_TYPE_I64, 1, -1 }, { SEG_TYPE_U64, 8, -1 },
    { SEG_TYPE_I8, 3, -1 },
  };

  for (int j = 0; j < N_ELEMENTS (layouts); j++)
    {
      const Averaging a = { .layout = &layouts[j] };
      const Kernel    k = averaging_kernel (&a);

      assert_scratch_size_grows (&k, grow, N_ELEMENTS (grow));
    }
}
END_TEST

START_TEST (test_widest_voxel_is_accepted)
{
  /* 64 u8 components with alpha, and 8 doubles: SEG_MAX_BPP. */
  const SegPixelLayout wide_u8 = { SEG_TYPE_U8, 64, 63 };
  const SegPixelLayout wide_d  = { SEG_TYPE_DOUBLE, 8, 2 };
  Case                 c       = { 0 };

  for (int k = 0; k < 4; k++)
    {
      Rng r = rng_new ((uint64_t) k, 6);

      c.seed        = k;
      c.w           = 9;
      c.h           = 7;
      c.d           = 2;
      c.f           = (SegFactors){ 2 + k % 2, 2, 1 + k / 2 };
      c.layout      = k % 2 ? wide_d : wide_u8;
      c.sparse      = k >= 2;
      c.background  = 30;
      c.style       = VALUES_MIXED;
      c.in_strides  = (Strides){ 1, 2, false, true };
      c.out_strides = (Strides){ 3, 0, true, false };
      run_case (&r, &c);
    }
}
END_TEST


/* ---- Errors ------------------------------------------------------------- */

/* The error tests' fixture (see ErrorFixture) holds u16 Y'A voxels. */
static const SegPixelLayout ya_u16           = { SEG_TYPE_U16, 2, 1 };
static const Averaging      ya_u16_averaging = { .layout = &ya_u16 };

static ErrorFixture
args_new (const Kernel *k)
{
  ErrorFixture a = error_fixture_new (k, bpp_of (&ya_u16));
  Rng          r = rng_new (7, 7);

  fill_random (&r, &a.in.v, &ya_u16, VALUES_UNIFORM, 20);
  return a;
}

/* NULL input, output, factors, input data, output data, layout and
 * scratch. */
static void
assert_null_arguments_rejected (const Kernel *k, const ErrorFixture *a)
{
  const Averaging no_layout   = { .layout = NULL };
  const Kernel    k_no_layout = averaging_kernel (&no_layout);

  assert_null_pointers_rejected (k, a);
  assert_rejected (&k_no_layout, a, &a->in.v, &a->out.v, &a->f, a->scratch,
                   SEG_EBADARG, "NULL layout");
  assert_rejected (k, a, &a->in.v, &a->out.v, &a->f, NULL, SEG_EBADARG,
                   "NULL scratch");
}

static void
assert_bad_views_and_factors_rejected (const Kernel *k, const ErrorFixture *a)
{
  static const int bad_sizes[]   = { 0, -1 };
  static const int bad_factors[] = { 0, -1, SEG_MAX_FACTOR + 1 };
  SegVolume        in = a->in.v, out = a->out.v;

  assert_sizes_rejected (k, a, bad_sizes, N_ELEMENTS (bad_sizes));
  assert_factors_rejected (k, a, bad_factors, N_ELEMENTS (bad_factors));
  assert_overlapping_views_rejected (k, a);
  out.bpp = 2;
  assert_rejected (k, a, &a->in.v, &out, &a->f, a->scratch, SEG_EBADARG,
                   "output bpp 2, input bpp 4");
  in.bpp  = SEG_MAX_BPP + 1;
  out.bpp = SEG_MAX_BPP + 1;
  assert_rejected (k, a, &in, &out, &a->f, a->scratch, SEG_EBADARG, "bpp 65");
}

/* Layouts that do not fit the fixture's four-byte voxels: SEG_EBADTYPE. */
static void
assert_unfitting_layouts_rejected (const Kernel *k, const ErrorFixture *a)
{
  static const SegPixelLayout bad[] = {
    { SEG_TYPE_U8, 2, 1 }, /* 2 bytes, the views have 4 */
    { SEG_TYPE_U16, 1, -1 },
    { SEG_TYPE_FLOAT, 2, 1 }, /* 8 bytes                   */
    { SEG_TYPE_U16, 2, 2 },   /* alpha past the end        */
    { SEG_TYPE_U16, 2, -2 },
    { SEG_TYPE_U16, 0, -1 },
    { SEG_TYPE_I16, 2, 1 }, /* signed: no alpha          */
    { SEG_TYPE_I32, 1, 0 },
    { (SegComponentType) 42, 2, -1 },
  };

  (void) k;
  for (int i = 0; i < N_ELEMENTS (bad); i++)
    {
      const Averaging bad_layout = { .layout = &bad[i] };
      const Kernel    k_bad      = averaging_kernel (&bad_layout);
      char            what[32];

      snprintf (what, sizeof what, "layout %d", i);
      assert_rejected (&k_bad, a, &a->in.v, &a->out.v, &a->f, a->scratch,
                       SEG_EBADTYPE, what);
    }
  /* A valid layout of another size is fine with views of that size. */
  assert_status (seg_pixel_layout_check (&bad[2], 8), SEG_OK, "float × 2");
}

/* The first check shows the fixture valid, so that each of the others
 * fails for the one reason it changes. */
static const FixtureCheck fixture_checks[] = {
  assert_fixture_accepted,
  assert_null_arguments_rejected,
  assert_bad_views_and_factors_rejected,
  assert_unfitting_layouts_rejected,
  assert_wrong_output_sizes_rejected,
};

START_TEST (test_fixture_check)
{
  const Kernel k = averaging_kernel (&ya_u16_averaging);
  ErrorFixture a = args_new (&k);

  fixture_checks[_i](&k, &a);
  error_fixture_free (&a);
}
END_TEST


/* ---- Suite -------------------------------------------------------------- */

static Suite *
average_pool_suite (void)
{
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
  Suite *s = suite_create ("average-pool");
  TCase *tc;

  tc = add_loop_tcase (s, "rules", 30, test_averaging_rule,
                       N_ELEMENTS (averaging_rules));
  tcase_add_test (tc, test_factor_1_is_identity);
  tc = add_loop_tcase (s, "floating-point", 60, test_floating_point_rule,
                       N_ELEMENTS (floating_point_rules));
  tcase_add_test (tc, test_float_mean_is_rounded_once);
  tcase_add_test (tc, test_half_every_tie_between_neighbours_goes_to_even);
  add_loop_tcase (s, "alpha", 30, test_alpha_rule, N_ELEMENTS (alpha_rules));
  add_loop_tcase (s, "signed and 64-bit", 30, test_numpy_int_rule,
                  N_ELEMENTS (numpy_int_rules));
  add_tcase (s, "strides", 60, strides, N_ELEMENTS (strides));
  add_tcase (s, "layouts", 30, layouts, N_ELEMENTS (layouts));
  add_loop_tcase (s, "errors", 30, test_fixture_check,
                  N_ELEMENTS (fixture_checks));

  tc = add_loop_tcase (s, "reference", 60, test_random_volumes_match_reference,
                       3000);
  tcase_add_loop_test (tc, test_random_2x2_and_2x2x2_volumes_match_reference, 0,
                       2000);
  tcase_add_loop_test (tc, test_random_numpy_int_volumes_match_reference, 0,
                       2000);
  tcase_add_loop_test (tc, test_random_alpha_volumes_match_reference, 0, 1000);
  tcase_add_loop_test (tc, test_random_straight_alpha_blocks_match_reference, 0,
                       1000);

  tc =
    add_loop_tcase (s, "large", 300, test_large_random_blocks_match_reference,
                    N_ELEMENTS (large_blocks));
  tcase_add_test (tc, test_64_cubed_u32_maxima_give_the_maximum);
  tcase_add_test (tc, test_64_cubed_extremes_of_signed_and_64_bit_types);
  tcase_add_loop_test (
    tc, test_sparse_row_kernels_divide_exactly_for_every_sum_and_count, 0, 8);
  tcase_add_loop_test (tc, test_large_outputs_match_pooling_in_slabs, 0, 5);

  return s;
}

int
main (void)
{
  return run_suite (average_pool_suite ());
}
