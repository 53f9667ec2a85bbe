/* SPDX-License-Identifier: LGPL-3.0-or-later
 *
 * Average pooling: see seg-average-pool.h for the contract.
 *
 * One general path serves every layout, factor and block: it walks the
 * input row by row and adds each voxel into the running sums of its output
 * voxel, for a chunk of one output row at a time (the sums live in the
 * caller's scratch).  Each block's voxels are thus added in raster order,
 * x fastest, then y, then z, which is what makes floating-point results
 * reproducible: every path adds in that order.
 *
 * The signed and 64-bit integer types (NumPy's int8 … int64 and uint64)
 * take the general path alone: their sums are kept in two's complement,
 * in 128 bits for 64-bit components, and divided truncating toward zero.
 *
 * Full 2×2×1 and 2×2×2 blocks of one-component u8, u16, u32 and float, and
 * full 2×2×1 blocks of two- to four-component u8 without alpha (not
 * sparse), go through row kernels instead (average-pool-rows.inc), which
 * the compiler vectorises; sparse means of one-component u8 also have
 * AVX-512 kernels, the one case where those earn their keep.  They give the general path's results to the
 * bit.  Like the mode-pool
 * kernels they prefetch their input in address order and stream large
 * outputs past the caches (seg-rows.h), to keep up with memory.
 */
#include "seg-average-pool.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "seg-label.h"
#include "seg-numbers.h"
#include "seg-rows.h"

#if SEG_HAVE_AVX512
#include <immintrin.h>
#endif

/* Bytes of running sums the general path keeps per chunk of an output
 * row: small enough to stay in L1 next to the input being read. */
#define CHUNK_SUM_BYTES (16 * 1024)

/* Fewest output voxels per chunk, however wide the voxels. */
#define CHUNK_MIN_VOXELS 16


/* ---- 128-bit sums ------------------------------------------------------- */

/* u32 colour weighted by u32 alpha over a 64×64×64 block sums up to about
 * 2^82: such sums are kept as two 64-bit words, low then high.  (u16
 * ones stay below 2^50, and fit one word.) */
static inline void
wide_add (uint64_t *w, uint64_t v)
{
  w[0] += v;
  w[1] += w[0] < v;
}

/* Adds v, a 64-bit two's complement number that is negative or not, to
 * w, a 128-bit two's complement one: v sign-extended has a high word of
 * all ones, and adding that subtracts 1. */
static inline void
wide_add_signed (uint64_t *w, uint64_t v, bool negative)
{
  wide_add (w, v);
  w[1] -= negative;
}

/* floor (w / d), for a quotient that fits in 64 bits (w[1] < d) and
 * d < 2^63. */
static uint64_t
wide_div (const uint64_t *w, uint64_t d)
{
  if (w[1] == 0)
    return w[0] / d; /* far cheaper, and common */
#if defined(__SIZEOF_INT128__) && !defined(SEG_NO_INT128)
  __extension__ typedef unsigned __int128 u128;

  return (uint64_t) ((((u128) w[1] << 64) | w[0]) / d);
#else
  /* Long division, one bit at a time; rem < d < 2^63 never overflows. */
  uint64_t rem = w[1], q = 0;

  for (int i = 63; i >= 0; i--)
    {
      rem = rem << 1 | (w[0] >> i & 1);
      q <<= 1;
      if (rem >= d)
        {
          rem -= d;
          q |= 1;
        }
    }
  return q;
#endif
}

/* w / d truncated toward zero, as C divides, for w in 128-bit two's
 * complement and |w| / d ≤ 2^63 (a mean of int64 values); the quotient in
 * 64-bit two's complement.  Truncating is rounding the magnitude down. */
static uint64_t
wide_div_signed (const uint64_t *w, uint64_t d)
{
  uint64_t m[2];

  if (w[1] >> 63 == 0)
    return wide_div (w, d);
  m[0] = 0 - w[0];
  m[1] = ~w[1] + (w[0] == 0);
  return 0 - wide_div (m, d);
}


/* ---- Layouts ------------------------------------------------------------ */

int
seg_component_size (SegComponentType type)
{
  switch (type)
    {
    case SEG_TYPE_U8: return 1;
    case SEG_TYPE_U16: return 2;
    case SEG_TYPE_U32: return 4;
    case SEG_TYPE_HALF: return 2;
    case SEG_TYPE_FLOAT: return 4;
    case SEG_TYPE_DOUBLE: return 8;
    case SEG_TYPE_I8: return 1;
    case SEG_TYPE_I16: return 2;
    case SEG_TYPE_I32: return 4;
    case SEG_TYPE_I64: return 8;
    case SEG_TYPE_U64: return 8;
    }
  return 0;
}

/* The integer types of NumPy files that the general path alone serves,
 * in two's complement sums: the signed ones and uint64. */
static bool
is_numpy_int (SegComponentType type)
{
  return type == SEG_TYPE_I8 || type == SEG_TYPE_I16 || type == SEG_TYPE_I32 ||
         type == SEG_TYPE_I64 || type == SEG_TYPE_U64;
}

SegStatus
seg_pixel_layout_check (const SegPixelLayout *layout, int bpp)
{
  int size;

  if (layout == NULL)
    return SEG_EBADARG;
  size = seg_component_size (layout->type);
  if (size == 0 || layout->n_components < 1 ||
      layout->n_components > SEG_MAX_BPP ||
      layout->n_components * size != bpp || layout->alpha < -1 ||
      layout->alpha >= layout->n_components ||
      (is_numpy_int (layout->type) && layout->alpha != -1))
    return SEG_EBADTYPE;
  return SEG_OK;
}

static bool
is_real (SegComponentType type)
{
  return type == SEG_TYPE_HALF || type == SEG_TYPE_FLOAT ||
         type == SEG_TYPE_DOUBLE;
}

/* Whether colour is weighted by alpha.  A voxel that is alpha alone
 * averages like any other one-component voxel: Σa / |P| either way. */
static bool
weights_by_alpha (const SegPixelLayout *layout)
{
  return layout->alpha >= 0 && layout->n_components > 1;
}

/* 64-bit words of running sum per component: two for u32 colour weighted
 * by alpha (see wide_add) and for 64-bit integers, else one (uint64_t or
 * double; a signed sum, below 2^50 in magnitude, in two's complement). */
static int
words_for (SegComponentType type, bool weighted)
{
  return (type == SEG_TYPE_U32 && weighted) || type == SEG_TYPE_I64 ||
             type == SEG_TYPE_U64
           ? 2
           : 1;
}

static int
sum_words (const SegPixelLayout *layout)
{
  return words_for (layout->type, weights_by_alpha (layout));
}

/* Output voxels whose sums the general path keeps at once. */
static size_t
chunk_voxels (const SegPixelLayout *layout)
{
  size_t per_voxel = (size_t) layout->n_components *
                       (size_t) sum_words (layout) * sizeof (uint64_t) +
                     sizeof (uint32_t);
  size_t n = CHUNK_SUM_BYTES / per_voxel;

  return n > CHUNK_MIN_VOXELS ? n : CHUNK_MIN_VOXELS;
}

/* The layout's own consistency, for a voxel of whatever size it says. */
static bool
layout_is_valid (const SegPixelLayout *layout)
{
  int size;

  if (layout == NULL)
    return false;
  size = seg_component_size (layout->type);
  return size > 0 && layout->n_components >= 1 &&
         layout->n_components <= SEG_MAX_BPP / size &&
         seg_pixel_layout_check (layout, layout->n_components * size) == SEG_OK;
}

size_t
seg_average_pool_scratch_size (const SegFactors     *f,
                               const SegPixelLayout *layout)
{
  size_t n;

  if (seg_factors_check (f) != SEG_OK || !layout_is_valid (layout))
    return 0;
  n = chunk_voxels (layout);
  return n * (size_t) layout->n_components * (size_t) sum_words (layout) *
           sizeof (uint64_t) +
         n * sizeof (uint32_t);
}


/* ---- The general path --------------------------------------------------- */

typedef struct
{
  const SegVolume *in, *out;
  SegFactors       f;
  SegComponentType type;
  int              n;     /* components per voxel                     */
  int              alpha; /* weighting alpha component, or -1         */
  int              size;  /* bytes per component                      */
  int              bpp;
  bool             sparse;
  SegBackground    background; /* what sparse leaves out              */
  int              words;      /* sum words per component (sum_words)      */
  size_t           chunk;      /* output voxels per pass (chunk_voxels)    */
  uint64_t        *sums;   /* chunk × n × words: integer sums …        */
  double          *reals;  /* … or the same memory as double sums      */
  uint32_t        *counts; /* chunk: voxels added per output voxel     */
} General;

static General
general_new (const SegVolume      *in,
             const SegVolume      *out,
             const SegFactors     *f,
             const SegPixelLayout *layout,
             bool                  sparse,
             SegBackground         background,
             void                 *scratch)
{
  General g;

  g.in         = in;
  g.out        = out;
  g.f          = *f;
  g.type       = layout->type;
  g.n          = layout->n_components;
  g.alpha      = weights_by_alpha (layout) ? layout->alpha : -1;
  g.size       = seg_component_size (layout->type);
  g.bpp        = in->bpp;
  g.sparse     = sparse;
  g.background = background;
  g.words      = sum_words (layout);
  g.chunk      = chunk_voxels (layout);
  g.sums       = scratch;
  g.reals      = scratch;
  g.counts     = (uint32_t *) (void *) ((uint8_t *) scratch +
                                    g.chunk * (size_t) g.n * (size_t) g.words *
                                      sizeof (uint64_t));
  return g;
}

static inline uint64_t
load_uint (const uint8_t *p, SegComponentType type)
{
  uint16_t u16;
  uint32_t u32;

  switch (type)
    {
    case SEG_TYPE_U8: return *p;
    case SEG_TYPE_U16: memcpy (&u16, p, sizeof u16); return u16;
    default: memcpy (&u32, p, sizeof u32); return u32;
    }
}

static inline double
load_real (const uint8_t *p, SegComponentType type)
{
  uint16_t h;
  float    f;
  double   d;

  switch (type)
    {
    case SEG_TYPE_HALF: memcpy (&h, p, sizeof h); return seg_half_to_double (h);
    case SEG_TYPE_FLOAT: memcpy (&f, p, sizeof f); return f;
    default: memcpy (&d, p, sizeof d); return d;
    }
}

/* An integer mean of size bytes at p: v's low bytes, which for a signed
 * type are the narrower number's two's complement. */
static void
store_int (uint8_t *p, uint64_t v, int size)
{
  uint8_t  u8  = (uint8_t) v;
  uint16_t u16 = (uint16_t) v;
  uint32_t u32 = (uint32_t) v;

  switch (size)
    {
    case 1: memcpy (p, &u8, sizeof u8); break;
    case 2: memcpy (p, &u16, sizeof u16); break;
    case 4: memcpy (p, &u32, sizeof u32); break;
    default: memcpy (p, &v, sizeof v); break;
    }
}

/* Component at p of a type is_numpy_int () accepts, as 64-bit two's
 * complement: sign-extended for the signed types. */
static inline uint64_t
load_word (const uint8_t *p, SegComponentType type)
{
  int8_t   i8;
  int16_t  i16;
  int32_t  i32;
  uint64_t u64;

  switch (type)
    {
    case SEG_TYPE_I8:
      memcpy (&i8, p, sizeof i8);
      return (uint64_t) (int64_t) i8;
    case SEG_TYPE_I16:
      memcpy (&i16, p, sizeof i16);
      return (uint64_t) (int64_t) i16;
    case SEG_TYPE_I32:
      memcpy (&i32, p, sizeof i32);
      return (uint64_t) (int64_t) i32;
    default: memcpy (&u64, p, sizeof u64); return u64;
    }
}

/* v rounded once to the type. */
static void
store_real (uint8_t *p, double v, SegComponentType type)
{
  uint16_t h;
  float    f;

  switch (type)
    {
    case SEG_TYPE_HALF:
      h = seg_half_from_double (v);
      memcpy (p, &h, sizeof h);
      break;
    case SEG_TYPE_FLOAT:
      f = (float) v;
      memcpy (p, &f, sizeof f);
      break;
    default: memcpy (p, &v, sizeof v); break;
    }
}

/* Empty sums for the first m output voxels of a chunk.  Floating-point
 * sums start at -0.0, the one value that adding leaves unchanged (0.0
 * would turn a sum of -0.0 into +0.0). */
static void
clear_sums (const General *g, size_t m)
{
  size_t words = m * (size_t) g->n * (size_t) g->words;

  if (is_real (g->type))
    for (size_t i = 0; i < words; i++)
      g->reals[i] = -0.0;
  else
    memset (g->sums, 0, words * sizeof (uint64_t));
  memset (g->counts, 0, m * sizeof (uint32_t));
}

/* Adds the voxel at p to the sums of output voxel j of the chunk.  With
 * alpha a, colour adds c·a and alpha adds 1·a = a, so one loop serves
 * both.  type and weighted are constants wherever this is inlined (see
 * add_row), so that each instance is a tight loop. */
static inline void
add_voxel (const General   *g,
           const uint8_t   *p,
           size_t           j,
           SegComponentType type,
           bool             weighted)
{
  const int n = g->n, size = seg_component_size (type);

  if (is_real (type))
    {
      double *s = g->reals + j * (size_t) n;
      double  a = weighted ? load_real (p + g->alpha * size, type) : 1.0;

      if (weighted && a == 0)
        {
          /* A fully transparent voxel adds no colour at all: c·0 would
           * still add a NaN for an infinite c, or turn a zero sum to -0. */
          s[g->alpha] += a;
          return;
        }
      for (int c = 0; c < n; c++)
        if (!weighted)
          s[c] += load_real (p + c * size, type);
        else
          s[c] += (c == g->alpha ? 1.0 : load_real (p + c * size, type)) * a;
    }
  else if (is_numpy_int (type))
    {
      /* Never weighted (no alpha); 64-bit components in two words. */
      const int words = words_for (type, false);
      uint64_t *s     = g->sums + j * (size_t) n * (size_t) words;

      for (int c = 0; c < n; c++)
        {
          uint64_t v = load_word (p + c * size, type);

          if (words == 2)
            wide_add_signed (s + 2 * c, v, type == SEG_TYPE_I64 && v >> 63);
          else
            s[c] += v;
        }
    }
  else if (weighted)
    {
      const int words = words_for (type, true);
      uint64_t *s     = g->sums + j * (size_t) n * (size_t) words;
      uint64_t  a     = load_uint (p + g->alpha * size, type);

      for (int c = 0; c < n; c++)
        {
          uint64_t v = (c == g->alpha ? 1 : load_uint (p + c * size, type)) * a;

          if (words == 2)
            wide_add (s + 2 * c, v);
          else
            s[c] += v;
        }
    }
  else
    {
      uint64_t *s = g->sums + j * (size_t) n;

      for (int c = 0; c < n; c++)
        s[c] += load_uint (p + c * size, type);
    }
}

/* Bits of a real component at p, zero for +0.0 alone. */
static inline uint64_t
real_bits (const uint8_t *p, SegComponentType type)
{
  uint16_t h;
  uint32_t f;
  uint64_t d;

  switch (type)
    {
    case SEG_TYPE_HALF: memcpy (&h, p, sizeof h); return h;
    case SEG_TYPE_FLOAT: memcpy (&f, p, sizeof f); return f;
    default: memcpy (&d, p, sizeof d); return d;
    }
}

/* Adds the n voxels of one component at p, left to right, to output
 * voxel j of the chunk, as add_voxel () would one by one for a layout
 * whose background is zero bytes, but in locals and without branches:
 * voxel after voxel adds to registers rather than to the sums in memory,
 * whose store and reload would chain every voxel to the one before.
 * Background voxels add what leaves a sum unchanged (0 for integers,
 * -0.0 for reals) and are not counted. */
static inline void
add_run_of_one (
  const General *g, const uint8_t *p, int n, size_t j, SegComponentType type)
{
  const int  size   = seg_component_size (type);
  const bool sparse = g->sparse;
  uint32_t   count  = 0;

  if (is_real (type))
    {
      double s = g->reals[j];

      for (int i = 0; i < n; i++, p += size)
        {
          const bool background = sparse && real_bits (p, type) == 0;

          s += background ? -0.0 : load_real (p, type);
          count += !background;
        }
      g->reals[j] = s;
    }
  else
    {
      const bool wide   = words_for (type, false) == 2;
      uint64_t  *w      = g->sums + j * (size_t) (wide ? 2 : 1);
      uint64_t   sum[2] = { w[0], wide ? w[1] : 0 };

      for (int i = 0; i < n; i++, p += size)
        {
          const uint64_t v =
            is_numpy_int (type) ? load_word (p, type) : load_uint (p, type);

          if (wide)
            wide_add_signed (sum, v, type == SEG_TYPE_I64 && v >> 63);
          else
            sum[0] += v;
          count += !sparse || v != 0;
        }
      w[0] = sum[0];
      if (wide)
        w[1] = sum[1];
    }
  g->counts[j] += count;
}

/* Adds one input row's share to output voxels x0 … x0+m-1 of a chunk:
 * their blocks' voxels in this row, left to right. */
static inline void
add_row_as (const General   *g,
            const uint8_t   *row,
            int              x0,
            size_t           m,
            SegComponentType type,
            bool             weighted)
{
  const int width = g->in->width, fx = g->f.x, bpp = g->bpp;

  for (size_t j = 0; j < m; j++)
    {
      int x   = (x0 + (int) j) * fx;
      int end = x + fx < width ? x + fx : width;

      if (g->n == 1 && g->background.alpha_size == 0)
        {
          add_run_of_one (g, row + (ptrdiff_t) x * bpp, end - x, j, type);
          continue;
        }
      for (const uint8_t *p = row + (ptrdiff_t) x * bpp; x < end; x++, p += bpp)
        {
          if (g->sparse && seg_label_is_background_in (p, bpp, g->background))
            continue;
          g->counts[j]++;
          add_voxel (g, p, j, type, weighted);
        }
    }
}

/* add_row_as with the type and weighting as constants. */
#define ADD_ROW_CASE(TYPE)                     \
  case TYPE:                                   \
    if (g->alpha >= 0)                         \
      add_row_as (g, row, x0, m, TYPE, true);  \
    else                                       \
      add_row_as (g, row, x0, m, TYPE, false); \
    break;

/* The types without alpha. */
#define PLAIN_ROW_CASE(TYPE) \
  case TYPE: add_row_as (g, row, x0, m, TYPE, false); break;

static void
add_row (const General *g, const uint8_t *row, int x0, size_t m)
{
  switch (g->type)
    {
      ADD_ROW_CASE (SEG_TYPE_U8)
      ADD_ROW_CASE (SEG_TYPE_U16)
      ADD_ROW_CASE (SEG_TYPE_U32)
      ADD_ROW_CASE (SEG_TYPE_HALF)
      ADD_ROW_CASE (SEG_TYPE_FLOAT)
      ADD_ROW_CASE (SEG_TYPE_DOUBLE)
      PLAIN_ROW_CASE (SEG_TYPE_I8)
      PLAIN_ROW_CASE (SEG_TYPE_I16)
      PLAIN_ROW_CASE (SEG_TYPE_I32)
      PLAIN_ROW_CASE (SEG_TYPE_I64)
      PLAIN_ROW_CASE (SEG_TYPE_U64)
    }
}

#undef ADD_ROW_CASE
#undef PLAIN_ROW_CASE

/* Output voxel j of the chunk, from its sums, for a type that
 * is_numpy_int () accepts: each sum, one word sign-extended or two,
 * divided by the count truncating toward zero (for uint64, down). */
static void
finish_numpy_ints (const General *g, size_t j, uint32_t count, uint8_t *out)
{
  const int       words     = g->words;
  const uint64_t *s         = g->sums + j * (size_t) g->n * (size_t) words;
  const bool      is_signed = g->type != SEG_TYPE_U64;

  for (int c = 0; c < g->n; c++)
    {
      const uint64_t *sc   = s + words * c;
      const uint64_t  w[2] = { sc[0], words == 2 ? sc[1] : 0 - (sc[0] >> 63) };

      store_int (out + c * g->size,
                 is_signed ? wide_div_signed (w, count) : wide_div (w, count),
                 g->size);
    }
}

/* Output voxel j of the chunk, from its sums; count > 0. */
static void
finish_voxel (const General *g, size_t j, uint8_t *out)
{
  const int      n = g->n, size = g->size;
  const uint32_t count = g->counts[j];

  if (is_real (g->type))
    {
      const double *s  = g->reals + j * (size_t) n;
      const double  sa = g->alpha >= 0 ? s[g->alpha] : 0.0;

      for (int c = 0; c < n; c++)
        if (g->alpha < 0 || c == g->alpha)
          store_real (out + c * size, s[c] / count, g->type);
        else
          store_real (out + c * size, sa != 0.0 ? s[c] / sa : 0.0, g->type);
    }
  else if (is_numpy_int (g->type))
    finish_numpy_ints (g, j, count, out);
  else if (g->alpha >= 0)
    {
      const int       words = g->words;
      const uint64_t *s     = g->sums + j * (size_t) n * (size_t) words;
      const uint64_t  sa    = s[words * g->alpha]; /* < 2^50: one word */

      for (int c = 0; c < n; c++)
        if (c == g->alpha)
          store_int (out + c * size, sa / count, size);
        else if (sa == 0)
          store_int (out + c * size, 0, size);
        else
          store_int (out + c * size,
                     words == 2 ? wide_div (s + 2 * c, sa) : s[c] / sa, size);
    }
  else
    {
      const uint64_t *s = g->sums + j * (size_t) n;

      for (int c = 0; c < n; c++)
        store_int (out + c * size, s[c] / count, size);
    }
}

/* Adds the rows of the blocks of output voxels x … x+m-1 (chunk voxels
 * 0 … m-1): bd slices from input slice iz, bh rows from input row iy. */
static void
add_blocks (const General *g, int iz, int bd, int iy, int bh, int x, size_t m)
{
  const SegVolume *in = g->in;

  clear_sums (g, m);
  for (int dz = 0; dz < bd; dz++)
    for (int dy = 0; dy < bh; dy++)
      add_row (g,
               (const uint8_t *) in->data + (iz + dz) * in->slice_stride +
                 (iy + dy) * in->row_stride,
               x, m);
}

/* Output voxels x0 … x1-1 of rows y0 … y1-1 of output slice z, block by
 * block, for any layout, factors and block (full or partial). */
static void
pool_general (const General *g, int z, int y0, int y1, int x0, int x1)
{
  const SegVolume *in = g->in, *out = g->out;
  const int        iz    = z * g->f.z;
  const int        bd    = in->depth - iz < g->f.z ? in->depth - iz : g->f.z;
  General          plain = *g;

  /* A block of background only gets its plain mean, which is background
   * again: colour weighted by alpha stays zero, and without alpha every
   * byte is. */
  plain.sparse = false;

  for (int y = y0; y < y1; y++)
    {
      const int iy = y * g->f.y;
      const int bh = in->height - iy < g->f.y ? in->height - iy : g->f.y;
      uint8_t  *out_row =
        (uint8_t *) out->data + z * out->slice_stride + y * out->row_stride;

      for (int x = x0; x < x1; x += (int) g->chunk)
        {
          size_t m =
            (size_t) (x1 - x) < g->chunk ? (size_t) (x1 - x) : g->chunk;

          add_blocks (g, iz, bd, iy, bh, x, m);
          for (size_t j = 0; j < m; j++)
            if (g->counts[j] > 0)
              finish_voxel (g, j, out_row + (ptrdiff_t) (x + (int) j) * g->bpp);
          /* After the others: this reuses chunk voxel 0's sums. */
          for (size_t j = 0; j < m; j++)
            if (g->counts[j] == 0)
              {
                add_blocks (&plain, iz, bd, iy, bh, x + (int) j, 1);
                finish_voxel (&plain, 0,
                              out_row + (ptrdiff_t) (x + (int) j) * g->bpp);
              }
        }
    }
}


/* ---- Row kernels for full 2×2×1 and 2×2×2 blocks ------------------------ */

/* The mean of a sum s over k = 0 … 8 counted voxels, truncated toward
 * zero as C divides (for the unsigned types the floor), and 0 when k = 0,
 * where s is 0 too.  The compiler vectorises no integer division by a
 * variable, so these divide in floating point, which it does:
 *
 *   - trunc_div_float () for sums of 8- and 16-bit values, |s| ≤ 2^19;
 *   - trunc_div_double () for sums of 32-bit values, |s| < 2^35;
 *
 * s and k are exact there, so the quotient is exact when k divides s;
 * when it does not, s / k lies at least 1/8 from the integers around it,
 * while rounding moves it by at most 2^-24 × 2^16 = 2^-8 (2^-53 × 2^32 in
 * double), so truncation still gives the integer toward zero.  The tests
 * check every (s, k) of 8- and 16-bit blocks. */
static inline int32_t
trunc_div_float (int32_t s, uint32_t k)
{
  /* k + (k == 0), not a branch: the division must not sit under a
   * condition for the loop to vectorise. */
  return (int32_t) ((float) s / (float) (k + (k == 0)));
}

static inline int64_t
trunc_div_double (int64_t s, uint32_t k)
{
  return (int64_t) ((double) s / (double) (k + (k == 0)));
}

/* NAME (p, i): element i of type T of the row at p. */
#define LOADER(NAME, T)                             \
  static inline T NAME (const uint8_t *p, size_t i) \
  {                                                 \
    T v;                                            \
                                                    \
    memcpy (&v, p + sizeof v * i, sizeof v);        \
    return v;                                       \
  }

LOADER (load_u64, uint64_t)
LOADER (load_i64, int64_t)

/* The helpers of integers, whose background is 0: a background voxel
 * counts nothing and its value, 0, adds nothing. */
#define ZERO_IS_BACKGROUND(SUFFIX, ACC)                                 \
  static inline ACC counted_value_##SUFFIX (const uint8_t *p, size_t i) \
  {                                                                     \
    return value_##SUFFIX (p, i);                                       \
  }                                                                     \
                                                                        \
  static inline uint32_t counted_##SUFFIX (const uint8_t *p, size_t i)  \
  {                                                                     \
    return load_##SUFFIX (p, i) != 0;                                   \
  }

/* The row kernels' helpers for integers of type T of at most 32 bits,
 * summed in ACC (signed for signed T) and divided by DIV (s, k) where k
 * varies: background is 0, which adds nothing. */
#define INTEGER_HELPERS(SUFFIX, T, ACC, DIV)                    \
  LOADER (load_##SUFFIX, T)                                     \
                                                                \
  static inline ACC value_##SUFFIX (const uint8_t *p, size_t i) \
  {                                                             \
    return load_##SUFFIX (p, i);                                \
  }                                                             \
                                                                \
  ZERO_IS_BACKGROUND (SUFFIX, ACC)                              \
                                                                \
  static inline T mean_##SUFFIX (ACC s, uint32_t k)             \
  {                                                             \
    return (T) (s / (ACC) k);                                   \
  }                                                             \
                                                                \
  static inline T sparse_mean_##SUFFIX (ACC s, uint32_t k)      \
  {                                                             \
    return (T) DIV (s, k);                                      \
  }

INTEGER_HELPERS (u8, uint8_t, uint32_t, trunc_div_float)
INTEGER_HELPERS (u16, uint16_t, uint32_t, trunc_div_float)
INTEGER_HELPERS (u32, uint32_t, uint64_t, trunc_div_double)
INTEGER_HELPERS (i8, int8_t, int32_t, trunc_div_float)
INTEGER_HELPERS (i16, int16_t, int32_t, trunc_div_float)
INTEGER_HELPERS (i32, int32_t, int64_t, trunc_div_double)
#undef INTEGER_HELPERS

/* 64-bit integers are summed in two parts, each value v as hi · 2^32 +
 * lo with lo its low 32 bits and hi the rest (v >> 32, of v's sign), so
 * that eight of them add up without overflow and without 128-bit
 * arithmetic: the sum s = H · 2^32 + L, |H| < 2^35, 0 ≤ L < 2^35.  The
 * two parts are a vector of two, which adds with +; H is kept in
 * two's complement. */
typedef uint64_t Split64 __attribute__ ((vector_size (16)));
typedef int64_t  SplitSigned64 __attribute__ ((vector_size (16)));

/* Both parts by one shift of v in both lanes (not a vector built from
 * two scalars, which GCC assembles lane by lane). */
static inline Split64
split_u64 (uint64_t v)
{
  return ((Split64){ v, v } >> (Split64){ 32, 0 }) &
         (Split64){ UINT64_MAX, 0xffffffffu };
}

/* floor (s / k) of a split sum (k ≥ 1) in 64-bit two's complement, which
 * holds it exactly for a mean of 64-bit values, and whether k divides s:
 * with H = q k + r (0 ≤ r < k), s = q k 2^32 + R where R = r 2^32 + L
 * < 2^36, and floor (s / k) = q 2^32 + floor (R / k).  For k = 4 or 8 the
 * compiler turns the divisions into shifts. */
static inline uint64_t
split_floor_div (Split64 s, uint32_t k, bool *exact)
{
  const int64_t h = (int64_t) s[0];
  int64_t       q = h / k, r = h % k;
  uint64_t      rest;

  if (r < 0)
    {
      q -= 1;
      r += k;
    }
  rest   = ((uint64_t) r << 32) + s[1];
  *exact = rest % k == 0;
  return ((uint64_t) q << 32) + rest / k;
}

static inline Split64
value_u64 (const uint8_t *p, size_t i)
{
  return split_u64 (load_u64 (p, i));
}

/* hi by an arithmetic shift (GCC's and Clang's >> of a negative number). */
static inline Split64
value_i64 (const uint8_t *p, size_t i)
{
  const int64_t v = load_i64 (p, i);

  return (Split64) ((SplitSigned64){ v, v } >> (SplitSigned64){ 32, 0 }) &
         (Split64){ UINT64_MAX, 0xffffffffu };
}

ZERO_IS_BACKGROUND (u64, Split64)
ZERO_IS_BACKGROUND (i64, Split64)
#undef ZERO_IS_BACKGROUND

static inline uint64_t
mean_u64 (Split64 s, uint32_t k)
{
  bool exact;

  return split_floor_div (s, k, &exact);
}

static inline uint64_t
sparse_mean_u64 (Split64 s, uint32_t k)
{
  return mean_u64 (s, k + (k == 0));
}

/* The floor, moved toward zero where it is negative and inexact. */
static inline int64_t
mean_i64 (Split64 s, uint32_t k)
{
  bool     exact;
  uint64_t f = split_floor_div (s, k, &exact);

  return (int64_t) (f + ((int64_t) f < 0 && !exact));
}

static inline int64_t
sparse_mean_i64 (Split64 s, uint32_t k)
{
  return mean_i64 (s, k + (k == 0));
}

/* The helpers for floating point type T, whose bits are the unsigned
 * BITS, summed in double.  They select with integer operations on bits,
 * not with ?: on values: GCC sinks a conversion or division that only one
 * arm uses into a branch, and then, since such operations may trap, no
 * longer vectorises the loop. */
#define REAL_HELPERS(SUFFIX, T, BITS)                                      \
  LOADER (bits_##SUFFIX, BITS)                                             \
                                                                           \
  static inline double value_##SUFFIX (const uint8_t *p, size_t i)         \
  {                                                                        \
    BITS bits = bits_##SUFFIX (p, i);                                      \
    T    v;                                                                \
                                                                           \
    memcpy (&v, &bits, sizeof v);                                          \
    return v;                                                              \
  }                                                                        \
                                                                           \
  /* -0.0 is not background. */                                            \
  static inline uint32_t counted_##SUFFIX (const uint8_t *p, size_t i)     \
  {                                                                        \
    return bits_##SUFFIX (p, i) != 0;                                      \
  }                                                                        \
                                                                           \
  /* Background (bits all zero) becomes -0.0, which adds nothing. */       \
  static inline double counted_value_##SUFFIX (const uint8_t *p, size_t i) \
  {                                                                        \
    BITS bits = bits_##SUFFIX (p, i);                                      \
    T    v;                                                                \
                                                                           \
    bits |= (BITS) (bits == 0) << (8 * sizeof bits - 1);                   \
    memcpy (&v, &bits, sizeof v);                                          \
    return v;                                                              \
  }                                                                        \
                                                                           \
  static inline T mean_##SUFFIX (double s, uint32_t k)                     \
  {                                                                        \
    return (T) (s / k);                                                    \
  }                                                                        \
                                                                           \
  /* Divides by 1 when k = 0, then clears the result's bits. */            \
  static inline T sparse_mean_##SUFFIX (double s, uint32_t k)              \
  {                                                                        \
    T    m = (T) (s / (k + (k == 0)));                                     \
    BITS bits;                                                             \
                                                                           \
    memcpy (&bits, &m, sizeof bits);                                       \
    bits &= (BITS) 0 - (BITS) (k > 0);                                     \
    memcpy (&m, &bits, sizeof m);                                          \
    return m;                                                              \
  }

REAL_HELPERS (float, float, uint32_t)
REAL_HELPERS (double, double, uint64_t)
#undef REAL_HELPERS
#undef LOADER

#define T      uint8_t
#define ACC    uint32_t
#define SUFFIX u8
#include "average-pool-rows.inc"
#define T      uint16_t
#define ACC    uint32_t
#define SUFFIX u16
#include "average-pool-rows.inc"
#define T      uint32_t
#define ACC    uint64_t
#define SUFFIX u32
#include "average-pool-rows.inc"
#define T      uint64_t
#define ACC    Split64
#define SUFFIX u64
#include "average-pool-rows.inc"
#define T      int8_t
#define ACC    int32_t
#define SUFFIX i8
#include "average-pool-rows.inc"
#define T      int16_t
#define ACC    int32_t
#define SUFFIX i16
#include "average-pool-rows.inc"
#define T      int32_t
#define ACC    int64_t
#define SUFFIX i32
#include "average-pool-rows.inc"
#define T      int64_t
#define ACC    Split64
#define SUFFIX i64
#include "average-pool-rows.inc"
#define T      float
#define ACC    double
#define SUFFIX float
#include "average-pool-rows.inc"
#define T      double
#define ACC    double
#define SUFFIX double
#include "average-pool-rows.inc"

/* n full 2×2×1 (nz = 1) or 2×2×2 (nz = 2) blocks of the row kernels
 * below: rows are the blocks' 2 or 4 input rows. */
typedef struct
{
  const uint8_t *const *rows;
  size_t                n;
  int                   nz;
} Blocks;

/* Component q of an unsigned voxel at p whose components have size bytes
 * (1 or 2), and storing one. */
static inline uint32_t
small_uint_at (const uint8_t *p, int q, int size)
{
  return size == 1 ? load_u8 (p, (size_t) q) : load_u16 (p, (size_t) q);
}

static inline void
small_uint_put (uint8_t *p, size_t q, int size, uint32_t v)
{
  if (size == 1)
    put_u8 (p, q, (uint8_t) v);
  else
    put_u16 (p, q, (uint16_t) v);
}

/* Means of full blocks of u8 or u16 voxels (size 1 or 2) of nc
 * components, no alpha: component q of output voxel i is the mean of
 * component q of the block's voxels; sparse leaves out voxels whose
 * bytes are all zero, which add nothing to the sums and only are not
 * counted (trunc_div_float () divides exactly: the sums stay below 2^19).
 * nc and size are constants in each caller, so that each loop vectorises
 * on its own. */
static inline __attribute__ ((always_inline)) void
mean_uint_multi (Blocks b, uint8_t *restrict out, int nc, int size, bool sparse)
{
  for (size_t i = 0; i < b.n; i++)
    {
      uint32_t sum[4] = { 0 }, count = 0;

      for (int r = 0; r < 2 * b.nz; r++)
        for (int dx = 0; dx < 2; dx++)
          {
            const uint8_t *p =
              b.rows[r] + (2 * i + (size_t) dx) * (size_t) (nc * size);
            uint32_t any = 0;

#pragma GCC unroll 4
            for (int q = 0; q < nc; q++)
              {
                const uint32_t v = small_uint_at (p, q, size);

                sum[q] += v;
                any |= v;
              }
            count += any != 0;
          }
#pragma GCC unroll 4
      for (int q = 0; q < nc; q++)
        small_uint_put (out + i * (size_t) (nc * size), (size_t) q, size,
                        sparse
                          ? (uint32_t) trunc_div_float ((int32_t) sum[q], count)
                          : sum[q] / (uint32_t) (4 * b.nz));
    }
}

static inline __attribute__ ((always_inline)) void
mean_u8_multi (Blocks b, uint8_t *restrict out, int nc, bool sparse)
{
  mean_uint_multi (b, out, nc, 1, sparse);
}

static inline __attribute__ ((always_inline)) void
mean_u16_multi (Blocks b, uint8_t *restrict out, int nc, bool sparse)
{
  mean_uint_multi (b, out, nc, 2, sparse);
}


/* Means of full blocks of integer voxels of nc components, the last a
 * straight alpha that weights the others (Y'A, R'G'B'A): the alpha is the
 * mean of the counted voxels' alphas, each colour component Σ c·a / Σ a,
 * 0 where Σ a = 0.  Sparse leaves out background voxels, whose alpha is
 * 0 or whose colour is all 0; a block of background only takes its plain
 * mean, as the general path does.  For components of type T, summed in
 * SUM and divided by DIV, in floating point, which the compiler
 * vectorises:
 *
 *   - u8: in float; Σ c·a < 2^19 and Σ a ≤ 2040 are exact there, and
 *     where Σ a does not divide Σ c·a their quotient (below 2^8) lies at
 *     least 1/2040 from the integers around it, while rounding moves it
 *     by at most 2^-17;
 *   - u16: in double; Σ c·a < 2^35, Σ a < 2^19, the quotient (below 2^16)
 *     at least 2^-19 from an integer, rounding at most 2^-37.
 *
 * The alpha's division, by at most 8, is exact in either. */
#define MEAN_ALPHA_INT(SUFFIX, T, SUM, DIV)                                   \
  static inline __attribute__ ((always_inline)) void mean_alpha_##SUFFIX (    \
    Blocks b, uint8_t *restrict out, int nc, bool sparse)                     \
  {                                                                           \
    for (size_t i = 0; i < b.n; i++)                                          \
      {                                                                       \
        SUM      sum[4] = { 0 }, plain[4] = { 0 }, none, alpha_sum;           \
        uint32_t count = 0, counted;                                          \
        T        mean;                                                        \
                                                                              \
        for (int r = 0; r < 2 * b.nz; r++)                                    \
          for (int dx = 0; dx < 2; dx++)                                      \
            {                                                                 \
              const uint8_t *p =                                              \
                b.rows[r] + (2 * i + (size_t) dx) * (size_t) nc * sizeof (T); \
              const SUM a      = (SUM) load_##SUFFIX (p, (size_t) (nc - 1));  \
              SUM       colour = 0, w;                                        \
                                                                              \
              _Pragma ("GCC unroll 4") for (int c = 0; c < nc - 1; c++)       \
                colour |= (SUM) load_##SUFFIX (p, (size_t) c);                \
              counted = !sparse || ((a != 0) & (colour != 0));                \
              w       = counted ? a : 0;                                      \
              count += counted;                                               \
              _Pragma ("GCC unroll 4") for (int c = 0; c < nc - 1; c++)       \
              {                                                               \
                sum[c] += (SUM) load_##SUFFIX (p, (size_t) c) * w;            \
                plain[c] += (SUM) load_##SUFFIX (p, (size_t) c) * a;          \
              }                                                               \
              sum[nc - 1] += w;                                               \
              plain[nc - 1] += a;                                             \
            }                                                                 \
        /* Background only (where the sums are 0): the plain mean.  In      \
         * arithmetic, not branches, for the loop to vectorise. */ \
        none = count == 0;                                                    \
        _Pragma ("GCC unroll 4") for (int c = 0; c < nc; c++) sum[c] +=       \
          plain[c] & -none;                                                   \
        count += (uint32_t) (4 * b.nz * none);                                \
        alpha_sum = sum[nc - 1];                                              \
        _Pragma ("GCC unroll 4") for (int c = 0; c < nc; c++)                 \
        {                                                                     \
          mean = (T) (c < nc - 1 ? DIV (sum[c], (uint32_t) alpha_sum)         \
                                 : DIV (alpha_sum, count));                   \
          put_##SUFFIX (out, i *(size_t) nc + (size_t) c, mean);              \
        }                                                                     \
      }                                                                       \
  }

MEAN_ALPHA_INT (u8, uint8_t, int32_t, trunc_div_float)
MEAN_ALPHA_INT (u16, uint16_t, int64_t, trunc_div_double)
#undef MEAN_ALPHA_INT

/* mean_alpha_u8 ()'s rule for float voxels, summed in double as the
 * general path sums them and in its order, so that they round alike:
 * colour adds c · a, alpha adds a, and a voxel whose alpha is ±0 adds
 * its alpha alone (c · 0 could be NaN).  What a voxel does not add is
 * added as -0.0, which leaves every sum as it is, and the sums start at
 * -0.0 too.  Background has alpha bits all zero or colour bits all zero;
 * the means are rounded to float once. */
static inline __attribute__ ((always_inline)) void
mean_alpha_float (Blocks b, uint8_t *restrict out, int nc, bool sparse)
{
  const uint8_t *const *rows = b.rows;
  const int             nz   = b.nz;

  for (size_t i = 0; i < b.n; i++)
    {
      double   sum[4]   = { -0.0, -0.0, -0.0, -0.0 };
      double   plain[4] = { -0.0, -0.0, -0.0, -0.0 };
      uint32_t count    = 0;

      for (int r = 0; r < 2 * nz; r++)
        for (int dx = 0; dx < 2; dx++)
          {
            const uint8_t *p =
              rows[r] + (2 * i + (size_t) dx) * (size_t) nc * sizeof (float);
            const uint32_t alpha_bits = bits_float (p, (size_t) (nc - 1));
            const double   a          = value_float (p, (size_t) (nc - 1));
            uint32_t       colour     = 0;
            bool           background, clear;

#pragma GCC unroll 4
            for (int c = 0; c < nc - 1; c++)
              colour |= bits_float (p, (size_t) c);
            background = sparse && (alpha_bits == 0 || colour == 0);
            clear      = a == 0;
#pragma GCC unroll 4
            for (int c = 0; c < nc - 1; c++)
              {
                const double term = value_float (p, (size_t) c) * a;

                sum[c] += background || clear ? -0.0 : term;
                plain[c] += clear ? -0.0 : term;
              }
            sum[nc - 1] += background ? -0.0 : a;
            plain[nc - 1] += a;
            count += !background;
          }
      if (count == 0)
        {
          memcpy (sum, plain, sizeof sum);
          count = (uint32_t) (4 * nz);
        }
      for (int c = 0; c < nc - 1; c++)
        put_float (out, i * (size_t) nc + (size_t) c,
                   sum[nc - 1] != 0 ? (float) (sum[c] / sum[nc - 1]) : 0.0f);
      put_float (out, i * (size_t) nc + (size_t) (nc - 1),
                 (float) (sum[nc - 1] / count));
    }
}

/* Means of full blocks of float voxels of nc components, no alpha, as
 * the general path makes them: each component summed in double from
 * -0.0 in raster order, over the counted voxels, and divided by their
 * count.  Sparse leaves out voxels whose bytes are all zero; they add
 * -0.0, which changes no sum, and a block of them alone has the plain
 * mean of its zeros, +0.0. */
static inline __attribute__ ((always_inline)) void
mean_float_multi (Blocks b, uint8_t *restrict out, int nc, bool sparse)
{
  for (size_t i = 0; i < b.n; i++)
    {
      double   sum[4] = { -0.0, -0.0, -0.0, -0.0 };
      uint32_t count  = 0;

      for (int r = 0; r < 2 * b.nz; r++)
        for (int dx = 0; dx < 2; dx++)
          {
            const uint8_t *p =
              b.rows[r] + (2 * i + (size_t) dx) * (size_t) nc * sizeof (float);
            uint32_t any = 0;
            bool     background;

#pragma GCC unroll 4
            for (int c = 0; c < nc; c++)
              any |= bits_float (p, (size_t) c);
            background = sparse && any == 0;
#pragma GCC unroll 4
            for (int c = 0; c < nc; c++)
              sum[c] += background ? -0.0 : value_float (p, (size_t) c);
            count += !background;
          }
#pragma GCC unroll 4
      for (int c = 0; c < nc; c++)
        put_float (out, i * (size_t) nc + (size_t) c,
                   count != 0 ? (float) (sum[c] / count) : 0.0f);
    }
}

/* KERNEL () for NC components and SPARSE, over 2×2×1 (mean4_…) and
 * 2×2×2 (mean8_…) blocks. */
#define MEAN_MULTI(NAME, KERNEL, NC, SPARSE)                            \
  SEG_CLONES static void mean4_##NAME (const uint8_t *restrict r0,      \
                                       const uint8_t *restrict r1,      \
                                       uint8_t *restrict out, size_t n) \
  {                                                                     \
    const uint8_t *const rows[2] = { r0, r1 };                          \
                                                                        \
    KERNEL ((Blocks){ rows, n, 1 }, out, NC, SPARSE);                   \
  }                                                                     \
                                                                        \
  SEG_CLONES static void mean8_##NAME (                                 \
    const uint8_t *restrict p0, const uint8_t *restrict p1,             \
    const uint8_t *restrict p2, const uint8_t *restrict p3,             \
    uint8_t *restrict out, size_t n)                                    \
  {                                                                     \
    const uint8_t *const rows[4] = { p0, p1, p2, p3 };                  \
                                                                        \
    KERNEL ((Blocks){ rows, n, 2 }, out, NC, SPARSE);                   \
  }

MEAN_MULTI (u8x2, mean_u8_multi, 2, false)
MEAN_MULTI (sparse_u8x2, mean_u8_multi, 2, true)
MEAN_MULTI (u8x3, mean_u8_multi, 3, false)
MEAN_MULTI (sparse_u8x3, mean_u8_multi, 3, true)
MEAN_MULTI (u8x4, mean_u8_multi, 4, false)
MEAN_MULTI (sparse_u8x4, mean_u8_multi, 4, true)
MEAN_MULTI (u16x2, mean_u16_multi, 2, false)
MEAN_MULTI (sparse_u16x2, mean_u16_multi, 2, true)
MEAN_MULTI (u16x3, mean_u16_multi, 3, false)
MEAN_MULTI (sparse_u16x3, mean_u16_multi, 3, true)
MEAN_MULTI (u16x4, mean_u16_multi, 4, false)
MEAN_MULTI (sparse_u16x4, mean_u16_multi, 4, true)
MEAN_MULTI (f32x2, mean_float_multi, 2, false)
MEAN_MULTI (sparse_f32x2, mean_float_multi, 2, true)
MEAN_MULTI (f32x3, mean_float_multi, 3, false)
MEAN_MULTI (sparse_f32x3, mean_float_multi, 3, true)
MEAN_MULTI (f32x4, mean_float_multi, 4, false)
MEAN_MULTI (sparse_f32x4, mean_float_multi, 4, true)
MEAN_MULTI (ya_u8, mean_alpha_u8, 2, false)
MEAN_MULTI (sparse_ya_u8, mean_alpha_u8, 2, true)
MEAN_MULTI (rgba_u8, mean_alpha_u8, 4, false)
MEAN_MULTI (sparse_rgba_u8, mean_alpha_u8, 4, true)
MEAN_MULTI (ya_u16, mean_alpha_u16, 2, false)
MEAN_MULTI (sparse_ya_u16, mean_alpha_u16, 2, true)
MEAN_MULTI (rgba_u16, mean_alpha_u16, 4, false)
MEAN_MULTI (sparse_rgba_u16, mean_alpha_u16, 4, true)
MEAN_MULTI (ya_float, mean_alpha_float, 2, false)
MEAN_MULTI (sparse_ya_float, mean_alpha_float, 2, true)
MEAN_MULTI (rgba_float, mean_alpha_float, 4, false)
MEAN_MULTI (sparse_rgba_float, mean_alpha_float, 4, true)
#undef MEAN_MULTI

/* The row kernels of one layout, plain and sparse; NULL where there is
 * none. */
typedef struct
{
  SegRows2x2Fn   mean4[2];
  SegRows2x2x2Fn mean8[2];
} RowKernels;

static const RowKernels kernels_u8     = { { mean4_u8, mean4_sparse_u8 },
                                           { mean8_u8, mean8_sparse_u8 } };
static const RowKernels kernels_u16    = { { mean4_u16, mean4_sparse_u16 },
                                           { mean8_u16, mean8_sparse_u16 } };
static const RowKernels kernels_u32    = { { mean4_u32, mean4_sparse_u32 },
                                           { mean8_u32, mean8_sparse_u32 } };
static const RowKernels kernels_float  = { { mean4_float, mean4_sparse_float },
                                           { mean8_float, mean8_sparse_float } };
static const RowKernels kernels_double = {
  { mean4_double, mean4_sparse_double }, { mean8_double, mean8_sparse_double }
};
static const RowKernels kernels_u64   = { { mean4_u64, mean4_sparse_u64 },
                                          { mean8_u64, mean8_sparse_u64 } };
static const RowKernels kernels_i8    = { { mean4_i8, mean4_sparse_i8 },
                                          { mean8_i8, mean8_sparse_i8 } };
static const RowKernels kernels_i16   = { { mean4_i16, mean4_sparse_i16 },
                                          { mean8_i16, mean8_sparse_i16 } };
static const RowKernels kernels_i32   = { { mean4_i32, mean4_sparse_i32 },
                                          { mean8_i32, mean8_sparse_i32 } };
static const RowKernels kernels_i64   = { { mean4_i64, mean4_sparse_i64 },
                                          { mean8_i64, mean8_sparse_i64 } };
static const RowKernels kernels_u8x2  = { { mean4_u8x2, mean4_sparse_u8x2 },
                                          { mean8_u8x2, mean8_sparse_u8x2 } };
static const RowKernels kernels_u8x3  = { { mean4_u8x3, mean4_sparse_u8x3 },
                                          { mean8_u8x3, mean8_sparse_u8x3 } };
static const RowKernels kernels_u8x4  = { { mean4_u8x4, mean4_sparse_u8x4 },
                                          { mean8_u8x4, mean8_sparse_u8x4 } };
static const RowKernels kernels_u16x2 = { { mean4_u16x2, mean4_sparse_u16x2 },
                                          { mean8_u16x2, mean8_sparse_u16x2 } };
static const RowKernels kernels_u16x3 = { { mean4_u16x3, mean4_sparse_u16x3 },
                                          { mean8_u16x3, mean8_sparse_u16x3 } };
static const RowKernels kernels_u16x4 = { { mean4_u16x4, mean4_sparse_u16x4 },
                                          { mean8_u16x4, mean8_sparse_u16x4 } };
static const RowKernels kernels_f32x2 = { { mean4_f32x2, mean4_sparse_f32x2 },
                                          { mean8_f32x2, mean8_sparse_f32x2 } };
static const RowKernels kernels_f32x3 = { { mean4_f32x3, mean4_sparse_f32x3 },
                                          { mean8_f32x3, mean8_sparse_f32x3 } };
static const RowKernels kernels_f32x4 = { { mean4_f32x4, mean4_sparse_f32x4 },
                                          { mean8_f32x4, mean8_sparse_f32x4 } };
/* Layouts of 2, 3 and 4 components without a straight alpha. */
static const RowKernels *const multi_u8[3]  = { &kernels_u8x2, &kernels_u8x3,
                                                &kernels_u8x4 };
static const RowKernels *const multi_u16[3] = { &kernels_u16x2, &kernels_u16x3,
                                                &kernels_u16x4 };
static const RowKernels *const multi_f32[3] = { &kernels_f32x2, &kernels_f32x3,
                                                &kernels_f32x4 };
static const RowKernels kernels_ya_u8   = { { mean4_ya_u8, mean4_sparse_ya_u8 },
                                            { mean8_ya_u8, mean8_sparse_ya_u8 } };
static const RowKernels kernels_rgba_u8 = {
  { mean4_rgba_u8, mean4_sparse_rgba_u8 },
  { mean8_rgba_u8, mean8_sparse_rgba_u8 }
};
static const RowKernels kernels_ya_u16 = {
  { mean4_ya_u16, mean4_sparse_ya_u16 }, { mean8_ya_u16, mean8_sparse_ya_u16 }
};
static const RowKernels kernels_rgba_u16 = {
  { mean4_rgba_u16, mean4_sparse_rgba_u16 },
  { mean8_rgba_u16, mean8_sparse_rgba_u16 }
};
static const RowKernels kernels_ya_float = {
  { mean4_ya_float, mean4_sparse_ya_float },
  { mean8_ya_float, mean8_sparse_ya_float }
};
static const RowKernels kernels_rgba_float = {
  { mean4_rgba_float, mean4_sparse_rgba_float },
  { mean8_rgba_float, mean8_sparse_rgba_float }
};

static const RowKernels *
row_kernels_for (const SegPixelLayout *layout)
{
  if (layout->n_components == 1)
    switch (layout->type)
      {
      case SEG_TYPE_U8: return &kernels_u8;
      case SEG_TYPE_U16: return &kernels_u16;
      case SEG_TYPE_U32: return &kernels_u32;
      case SEG_TYPE_FLOAT: return &kernels_float;
      case SEG_TYPE_DOUBLE: return &kernels_double;
      case SEG_TYPE_I8: return &kernels_i8;
      case SEG_TYPE_I16: return &kernels_i16;
      case SEG_TYPE_I32: return &kernels_i32;
      case SEG_TYPE_I64: return &kernels_i64;
      case SEG_TYPE_U64: return &kernels_u64;
      default: return NULL;
      }
  if (layout->alpha >= 0)
    {
      const RowKernels *ya, *rgba;

      switch (layout->type)
        {
        case SEG_TYPE_U8: ya = &kernels_ya_u8, rgba = &kernels_rgba_u8; break;
        case SEG_TYPE_U16:
          ya = &kernels_ya_u16, rgba = &kernels_rgba_u16;
          break;
        case SEG_TYPE_FLOAT:
          ya = &kernels_ya_float, rgba = &kernels_rgba_float;
          break;
        default: return NULL;
        }
      if (layout->alpha != layout->n_components - 1)
        return NULL;
      return layout->n_components == 2   ? ya
             : layout->n_components == 4 ? rgba
                                         : NULL;
    }
  if (layout->n_components > 4)
    return NULL;
  switch (layout->type)
    {
    case SEG_TYPE_U8: return multi_u8[layout->n_components - 2];
    case SEG_TYPE_U16: return multi_u16[layout->n_components - 2];
    case SEG_TYPE_FLOAT: return multi_f32[layout->n_components - 2];
    default: return NULL;
    }
}

#if SEG_HAVE_AVX512
/* AVX-512 kernels for one-component u8, the benchmarked case.  One step
 * reads 128 bytes (64 blocks) of each of the block's 2 or 4 rows:
 *   - vpmaddubsw against ones adds the two voxels of each block in a row,
 *     giving 16-bit sums in block order; the rows are then added;
 *   - sparse: min (v, 1) is 1 for each voxel that counts; those add up
 *     per block the same way, and the sum s over k voxels becomes
 *     floor (s / k) = (2 s × ceil (2^15 / k)) >> 16, one vpmulhuw with a
 *     vpermw lookup of the factor (exact, since 2 s < 2^16 and
 *     s (ceil (2^15 / k) k - 2^15) ≤ 2040 × 7 < 2^15; the tests check
 *     every (s, k));
 *   - the 16-bit means are packed into bytes, which vpackuswb interleaves
 *     per 128-bit lane; PACK_ORDER puts the 64-bit parts back in order.
 * The last, partial step of a row uses masked loads and stores, so nothing
 * outside the blocks is read or written. */
#define PACK_ORDER _mm512_set_epi64 (7, 5, 3, 1, 6, 4, 2, 0)

/* ceil (2^15 / k) for k = 1 … 8; 0 for k = 0 (s is 0 too). */
static const uint16_t half_reciprocals[32] = { 0,    32768, 16384, 10923, 8192,
                                               6554, 5462,  4682,  4096 };

static inline __mmask64
first_bytes (size_t k)
{
  return k >= 64 ? ~(__mmask64) 0 : ((__mmask64) 1 << k) - 1;
}

/* Means of the k ≤ 64 blocks whose rows start at rows[q] + at. */
SEG_AVX512 static inline __m512i
mean_step_u8 (
  const uint8_t *const *rows, int n_rows, bool sparse, size_t at, size_t k)
{
  const __m512i ones = _mm512_set1_epi8 (1);
  __m512i       sum[2], counted[2], mean[2];

  sum[0] = sum[1] = counted[0] = counted[1] = _mm512_setzero_si512 ();
  for (int q = 0; q < n_rows; q++)
    for (int h = 0; h < 2; h++)
      {
        const uint8_t *p = rows[q] + at + 64 * (size_t) h;
        size_t         bytes =
          h == 0 ? (2 * k < 64 ? 2 * k : 64) : (2 * k > 64 ? 2 * k - 64 : 0);
        __m512i v = k == 64 ? _mm512_loadu_si512 ((const void *) p)
                            : _mm512_maskz_loadu_epi8 (first_bytes (bytes), p);

        sum[h] = _mm512_add_epi16 (sum[h], _mm512_maddubs_epi16 (v, ones));
        if (sparse)
          counted[h] = _mm512_add_epi8 (counted[h], _mm512_min_epu8 (v, ones));
      }
  for (int h = 0; h < 2; h++)
    if (sparse)
      {
        __m512i k16    = _mm512_maddubs_epi16 (counted[h], ones);
        __m512i factor = _mm512_permutexvar_epi16 (
          k16, _mm512_loadu_si512 ((const void *) half_reciprocals));

        mean[h] = _mm512_mulhi_epu16 (_mm512_slli_epi16 (sum[h], 1), factor);
      }
    else
      mean[h] = _mm512_srli_epi16 (sum[h], n_rows == 2 ? 2 : 3);
  return _mm512_permutexvar_epi64 (PACK_ORDER,
                                   _mm512_packus_epi16 (mean[0], mean[1]));
}

/* One step: blocks i … i+k-1 of the row into o; nt: a full step whose
 * destination is 64-byte aligned, stored past the caches. */
SEG_AVX512 static inline void
mean_store_u8 (Prefetch             *pf,
               const uint8_t *const *rows,
               int                   n_rows,
               bool                  sparse,
               uint8_t              *o,
               size_t                i,
               size_t                k,
               bool                  nt)
{
  __m512i v;

  prefetch_bytes (pf, 2 * k);
  v = mean_step_u8 (rows, n_rows, sparse, 2 * i, k);
  if (nt)
    _mm512_stream_si512 ((void *) (o + i), v);
  else if (k == 64)
    _mm512_storeu_si512 ((void *) (o + i), v);
  else
    _mm512_mask_storeu_epi8 (o + i, first_bytes (k), v);
}

/* `rows` output rows, n blocks each: output row r from input rows 2r,
 * 2r+1 at in + 2 r rs (and, for 2×2×2, the same rows at in + ss). */
SEG_AVX512 static inline void
mean_rows_u8 (const uint8_t *in,
              ptrdiff_t      rs,
              ptrdiff_t      ss,
              uint8_t       *out,
              ptrdiff_t      ors,
              size_t         n,
              size_t         rows,
              bool           stream,
              int            n_rows,
              bool           sparse)
{
  const uint8_t *s[4] = { in, in + rs, in + ss, in + ss + rs };
  Prefetch       pf;

  prefetch_init (&pf, s, n_rows, rs, 2 * n, rows, stream);
  for (size_t r = 0; r < rows; r++)
    {
      const uint8_t *p[4];
      uint8_t       *o = out + (ptrdiff_t) r * ors;
      size_t         i = 0;

      for (int q = 0; q < n_rows; q++)
        p[q] = s[q] + (ptrdiff_t) (2 * r) * rs;
      if (stream)
        {
          size_t head = (64 - (uintptr_t) o % 64) % 64;

          head = head < n ? head : n;
          if (head > 0)
            mean_store_u8 (&pf, p, n_rows, sparse, o, 0, head, false);
          for (i = head; i + 64 <= n; i += 64)
            mean_store_u8 (&pf, p, n_rows, sparse, o, i, 64, true);
        }
      else
        for (; i + 64 <= n; i += 64)
          mean_store_u8 (&pf, p, n_rows, sparse, o, i, 64, false);
      if (i < n)
        mean_store_u8 (&pf, p, n_rows, sparse, o, i, n - i, false);
    }
  if (stream)
    _mm_sfence ();
}

/* The sparse instances, each with its shape constant.  Plain means run
 * as fast through GEGL with the portable kernels compiled for AVX-512
 * (SEG_CLONES; bench-pool), so they have no instance of their own. */
#define MEAN_ROWS_U8(NAME, N_ROWS)                                            \
  SEG_AVX512 static void NAME (const uint8_t *in, ptrdiff_t rs, ptrdiff_t ss, \
                               uint8_t *out, ptrdiff_t ors, size_t n,         \
                               size_t rows, bool stream)                      \
  {                                                                           \
    mean_rows_u8 (in, rs, ss, out, ors, n, rows, stream, N_ROWS, true);       \
  }
MEAN_ROWS_U8 (mean4_sparse_rows_avx512_u8, 2)
MEAN_ROWS_U8 (mean8_sparse_rows_avx512_u8, 4)
#undef MEAN_ROWS_U8
#endif /* SEG_HAVE_AVX512 */

/* A row kernel run over many rows: which one, and for which block. */
typedef struct
{
  SegRows2x2Fn   mean4;  /* f = 2, 2, 1                                  */
  SegRows2x2x2Fn mean8;  /* f = 2, 2, 2                                  */
  SegRowsFn      avx512; /* the same with AVX-512, where there is one    */
} FastPath;

#if SEG_HAVE_AVX512
/* Sparse means only, indexed by f.z - 1. */
static const SegRowsFn sparse_rows_avx512_u8[2] = {
  mean4_sparse_rows_avx512_u8,
  mean8_sparse_rows_avx512_u8,
};
#endif

/* The fast path for these factors and this layout; all kernels NULL when
 * there is none. */
static FastPath
fast_path_for (const SegFactors     *f,
               const SegPixelLayout *layout,
               bool                  sparse,
               SegBackground         background)
{
  const RowKernels *k    = row_kernels_for (layout);
  const int         size = seg_component_size (layout->type);
  FastPath          fp   = { NULL, NULL, NULL };

  if (k == NULL || f->x != 2 || f->y != 2 || f->z > 2)
    return fp;
  /* The kernels see background as zero components, or, for a layout
   * weighted by alpha, as an alpha of zero bytes or colour of zeros. */
  if (sparse && !(weights_by_alpha (layout)
                    ? background.alpha_offset == layout->alpha * size &&
                        background.alpha_size == size
                    : background.alpha_size == 0))
    return fp;
  if (f->z == 1)
    fp.mean4 = k->mean4[sparse];
  else
    fp.mean8 = k->mean8[sparse];
#if SEG_HAVE_AVX512
  if (k == &kernels_u8 && sparse && seg_kernels_avx512 ())
    fp.avx512 = sparse_rows_avx512_u8[f->z - 1];
#endif
  return fp;
}

static bool
fast_path_exists (const FastPath *fp)
{
  return fp->mean4 != NULL || fp->mean8 != NULL;
}

/* Output rows 0 … rows-1 of one output slice, n full blocks each, by the
 * best kernel the CPU runs. */
static void
pool_rows_fast (const FastPath  *fp,
                const SegVolume *in,
                const SegVolume *out,
                const uint8_t   *first,
                uint8_t         *out_first,
                size_t           n,
                size_t           rows)
{
  size_t out_bytes = (size_t) out->width * (size_t) out->height *
                     (size_t) out->depth * (size_t) out->bpp;

  if (fp->avx512 != NULL)
    fp->avx512 (first, in->row_stride, in->slice_stride, out_first,
                out->row_stride, n, rows, out_bytes >= STREAM_MIN_BYTES);
  else
    seg_pool_rows_portable (fp->mean4, fp->mean8, first, in->row_stride,
                            in->slice_stride, (size_t) in->bpp, out_first,
                            out->row_stride, n, rows);
}


/* ---- Entry point -------------------------------------------------------- */

static SegStatus
check_args (const SegVolume      *in,
            const SegVolume      *out,
            const SegFactors     *f,
            const SegPixelLayout *layout,
            SegBackground         background,
            const void           *scratch)
{
  if (seg_pool_args_check (in, out, f) != SEG_OK || layout == NULL ||
      !seg_background_check (background, in->bpp))
    return SEG_EBADARG;
  if (seg_pixel_layout_check (layout, in->bpp) != SEG_OK)
    return SEG_EBADTYPE;
  if (scratch == NULL) /* every valid layout needs some */
    return SEG_EBADARG;
  return seg_pooled_shape_check (in, out, f);
}

SegStatus
seg_average_pool (const SegVolume      *in,
                  const SegVolume      *out,
                  const SegFactors     *f,
                  const SegPixelLayout *layout,
                  bool                  sparse,
                  SegBackground         background,
                  void                 *scratch)
{
  SegStatus status = check_args (in, out, f, layout, background, scratch);
  General   g;
  FastPath  fp;

  if (status != SEG_OK)
    return status;
  g  = general_new (in, out, f, layout, sparse, background, scratch);
  fp = fast_path_for (f, layout, sparse, background);

  for (int z = 0; z < out->depth; z++)
    {
      const int  iz         = z * f->z;
      const bool full_depth = in->depth - iz >= f->z;
      /* Full blocks of full rows go to the row kernels; the rest (a
       * partial block at the end of each row, the last partial row, a
       * partial last slice) to the general path. */
      const int fast_rows =
        fast_path_exists (&fp) && full_depth && in->width >= 2 ? in->height / 2
                                                               : 0;
      const int fast_cols = fast_rows > 0 ? in->width / 2 : 0;

      if (fast_rows > 0)
        pool_rows_fast (&fp, in, out,
                        (const uint8_t *) in->data + iz * in->slice_stride,
                        (uint8_t *) out->data + z * out->slice_stride,
                        (size_t) fast_cols, (size_t) fast_rows);
      if (fast_cols < out->width)
        pool_general (&g, z, 0, fast_rows, fast_cols, out->width);
      pool_general (&g, z, fast_rows, out->height, 0, out->width);
    }
  return SEG_OK;
}
