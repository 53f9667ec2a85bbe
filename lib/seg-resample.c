/* SPDX-License-Identifier: LGPL-3.0-or-later
 *
 * Resampling: see seg-resample.h for the contract.
 *
 * Each call first tabulates, per axis, what its output indices read
 * (Axis), relative to the input view; the modes then walk the output:
 *
 *   nearest: one input row per output row, voxels copied by their
 *     tabulated columns (a halving of 4-byte voxels 16 at a time with
 *     AVX-512); an output row whose input row is the one before's is a
 *     copy of the output row before;
 *   linear: the input rows that an output row's taps name, each
 *     interpolated along x once, in doubles (straight from the pixels for
 *     rows of one number a voxel, else from the row loaded as doubles;
 *     kept, four at a time, for the output rows that share them), then
 *     combined along y and z;
 *   area: the input rows of an output row's windows, each loaded as
 *     doubles once and added to the sums of the output row's voxels, so
 *     that each voxel's numbers still add up in raster order (windows
 *     overlap by one index at most: each input row is read about once).
 *
 * Rows are converted with one loop per component type (load_row (),
 * store_row ()).
 */
#include "seg-resample.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "seg-numbers.h"
#include "seg-rows.h"

#if SEG_HAVE_AVX512
#include <immintrin.h>
#endif

/* ---- Axes --------------------------------------------------------------- */

/* The linear taps of output index o of an axis in → out, and their
 * weights (an axis that keeps its size gets s = o exactly: a copy). */
static void
linear_taps (int in, int out, int o, int *i0, int *i1, double *w0, double *w1)
{
  double s, frac;

  s    = ((double) o + 0.5) * ((double) in / (double) out) - 0.5;
  s    = s > 0 ? s : 0;
  *i0  = (int) floor (s);
  *i0  = *i0 < in - 1 ? *i0 : in - 1;
  *i1  = *i0 < in - 1 ? *i0 + 1 : *i0;
  frac = s - *i0;
  frac = frac < 0 ? 0 : frac > 1 ? 1 : frac;
  *w1  = frac;
  *w0  = 1 - frac;
}

void
seg_resample_span (
  SegResampleMode mode, int in, int out, int o, int *first, int *end)
{
  const int64_t i = o, n_in = in, n_out = out;

  switch (mode)
    {
    case SEG_RESAMPLE_NEAREST:
      {
        const int64_t s = (2 * i + 1) * n_in / (2 * n_out);

        *first = (int) (s < n_in - 1 ? s : n_in - 1);
        *end   = *first + 1;
        return;
      }
    case SEG_RESAMPLE_LINEAR:
      {
        double w0, w1;
        int    i1;

        linear_taps (in, out, o, first, &i1, &w0, &w1);
        *end = i1 + 1;
        return;
      }
    case SEG_RESAMPLE_AREA:
    default:
      *first = (int) (i * n_in / n_out);
      *end   = (int) (((i + 1) * n_in + n_out - 1) / n_out);
      return;
    }
}

SegStatus
seg_resample_check (const SegResample *r, int bpp)
{
  if (r == NULL)
    return SEG_EBADARG;
  for (int a = 0; a < 3; a++)
    if (r->in_size[a] < 1 || r->in_size[a] > SEG_RESAMPLE_MAX_SIZE ||
        r->out_size[a] < 1 || r->out_size[a] > SEG_RESAMPLE_MAX_SIZE)
      return SEG_EBADARG;
  switch (r->mode)
    {
    case SEG_RESAMPLE_NEAREST: return bpp >= 1 ? SEG_OK : SEG_EBADARG;
    case SEG_RESAMPLE_LINEAR:
    case SEG_RESAMPLE_AREA: return seg_pixel_layout_check (&r->layout, bpp);
    default: return SEG_EBADARG;
    }
}

/* What the output indices [o0, o0 + n) of an axis read, relative to an
 * input view that starts at input index at and holds size indices. */
typedef struct
{
  int    *first, *second; /* nearest: the index; linear: the taps; area:
                             the window [first, second) */
  double *w0, *w1;        /* linear: the weights; area: w0 the window's
                             width */
  int     step;           /* area: the width of every window, where they
                             tile the input (first[i + 1] = second[i]);
                             else 0 */
  int     stride;         /* first[i] = first[0] + i·stride for every i;
                             else 0 */
  bool    halves;         /* linear: second[i] = first[i] + 1 and stride
                             2, the taps of a halving */
} Axis;

static void
axis_free (Axis *a)
{
  free (a->first);
  free (a->second);
  free (a->w0);
  free (a->w1);
}

/* The table of one axis; SEG_EBADARG when an index it needs lies outside
 * the view, SEG_ENOMEM. */
static SegStatus
axis_new (
  Axis *a, const SegResample *r, int axis, int o0, int n, int at, int size)
{
  const int in = r->in_size[axis], out = r->out_size[axis];

  a->first  = malloc ((size_t) n * sizeof *a->first);
  a->second = malloc ((size_t) n * sizeof *a->second);
  a->w0     = malloc ((size_t) n * sizeof *a->w0);
  a->w1     = malloc ((size_t) n * sizeof *a->w1);
  if (a->first == NULL || a->second == NULL || a->w0 == NULL || a->w1 == NULL)
    {
      axis_free (a);
      return SEG_ENOMEM;
    }
  for (int i = 0; i < n; i++)
    {
      int first, second;

      if (r->mode == SEG_RESAMPLE_LINEAR)
        {
          linear_taps (in, out, o0 + i, &first, &second, &a->w0[i], &a->w1[i]);
          if (second - at >= size)
            break;
        }
      else
        {
          seg_resample_span (r->mode, in, out, o0 + i, &first, &second);
          if (second - at > size)
            break;
        }
      if (first - at < 0)
        break;
      a->first[i]  = first - at;
      a->second[i] = second - at;
      if (r->mode == SEG_RESAMPLE_AREA)
        a->w0[i] = second - first; /* the window's width, to divide by */
      if (i == n - 1)
        {
          a->step   = a->second[0] - a->first[0];
          a->stride = n > 1 ? a->first[1] - a->first[0] : 0;
          a->halves = r->mode == SEG_RESAMPLE_LINEAR;
          for (int j = 0; j < n; j++)
            {
              if (a->second[j] != a->first[j] + 1)
                a->halves = false;
              if (a->second[j] - a->first[j] != a->step ||
                  a->first[j] != a->first[0] + j * a->step)
                a->step = 0;
              if (a->first[j] != a->first[0] + j * a->stride)
                a->stride = 0;
            }
          a->halves = a->halves && a->stride == 2;
          return SEG_OK;
        }
    }
  axis_free (a);
  return SEG_EBADARG;
}

/* What a call's modes work from: the views, the axes' tables (x, y, z),
 * the voxels' numbers. */
typedef struct
{
  const SegVolume      *in, *out;
  Axis                  axis[3];
  const SegPixelLayout *layout;
} Job;

/* ---- Nearest ------------------------------------------------------------ */

/* A case of a switch on bpp: the voxels of row by the columns x, as C type
 * CTYPE. */
#define COPY_VOXELS(BPP, CTYPE)                      \
  case BPP:                                          \
    for (int i = 0; i < n; i++)                      \
      {                                              \
        CTYPE v;                                     \
                                                     \
        memcpy (&v, row + (size_t) x[i] * BPP, BPP); \
        memcpy (dst + (size_t) i * BPP, &v, BPP);    \
      }                                              \
    return;

#if SEG_HAVE_AVX512
/* n voxels of 4 bytes, every other one of row from its first on, into
 * dst: sixteen at a time, each vector's from two loads (never past voxel
 * 2n - 2, the last one read). */
SEG_AVX512 static void
copy_every_other_4 (uint8_t *dst, const uint8_t *row, int n)
{
  const __m512i even = _mm512_setr_epi32 (0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20,
                                          22, 24, 26, 28, 30);
  int           i    = 0;

  for (; i + 17 <= n; i += 16)
    _mm512_storeu_si512 (dst + (size_t) i * 4,
                         _mm512_permutex2var_epi32 (
                           _mm512_loadu_si512 (row + (size_t) i * 8), even,
                           _mm512_loadu_si512 (row + (size_t) i * 8 + 64)));
  for (; i < n; i++)
    memcpy (dst + (size_t) i * 4, row + (size_t) i * 8, 4);
}
#endif

/* n voxels of bpp bytes from row, by the columns x, into dst. */
SEG_CLONES static void
copy_voxels (uint8_t *dst, const uint8_t *row, const int *x, int n, int bpp)
{
  switch (bpp)
    {
      COPY_VOXELS (1, uint8_t)
      COPY_VOXELS (2, uint16_t)
      COPY_VOXELS (4, uint32_t)
      COPY_VOXELS (8, uint64_t)
    default:
      for (int i = 0; i < n; i++)
        memcpy (dst + (size_t) i * bpp, row + (size_t) x[i] * bpp,
                (size_t) bpp);
    }
}

static void
nearest (const Job *job)
{
  const SegVolume *in = job->in, *out = job->out;
  const Axis      *ax = &job->axis[0], *ay = &job->axis[1], *az = &job->axis[2];
  const uint8_t   *last_src = NULL;
  const uint8_t   *last_dst = NULL;

  for (int z = 0; z < out->depth; z++)
    for (int y = 0; y < out->height; y++)
      {
        const uint8_t *src = (const uint8_t *) in->data +
                             (ptrdiff_t) az->first[z] * in->slice_stride +
                             (ptrdiff_t) ay->first[y] * in->row_stride;
        uint8_t *dst = (uint8_t *) out->data +
                       (ptrdiff_t) z * out->slice_stride +
                       (ptrdiff_t) y * out->row_stride;

        if (src == last_src)
          memcpy (dst, last_dst, (size_t) out->width * (size_t) out->bpp);
        else
          {
#if SEG_HAVE_AVX512
            if (ax->stride == 2 && out->bpp == 4 && seg_kernels_avx512 ())
              copy_every_other_4 (dst, src + (size_t) ax->first[0] * 4,
                                  out->width);
            else
#endif
              copy_voxels (dst, src, ax->first, out->width, out->bpp);
          }
        last_src = src;
        last_dst = dst;
      }
}

/* ---- Numbers ------------------------------------------------------------ */

/* CASE (type, C type) for each component type but half, which C has
 * not: the cases of the switches that convert numbers loop by loop. */
#define EACH_NUMBER_TYPE(CASE)  \
  CASE (SEG_TYPE_U8, uint8_t)   \
  CASE (SEG_TYPE_U16, uint16_t) \
  CASE (SEG_TYPE_U32, uint32_t) \
  CASE (SEG_TYPE_U64, uint64_t) \
  CASE (SEG_TYPE_I8, int8_t)    \
  CASE (SEG_TYPE_I16, int16_t)  \
  CASE (SEG_TYPE_I32, int32_t)  \
  CASE (SEG_TYPE_I64, int64_t)  \
  CASE (SEG_TYPE_FLOAT, float)  \
  CASE (SEG_TYPE_DOUBLE, double)

/* A case of a switch on type: the n components at src, of C type CTYPE,
 * as doubles into dst. */
#define LOAD_ROW(TYPE, CTYPE)                      \
  case TYPE:                                       \
    for (size_t i = 0; i < n; i++)                 \
      {                                            \
        CTYPE v;                                   \
                                                   \
        memcpy (&v, src + i * sizeof v, sizeof v); \
        dst[i] = (double) v;                       \
      }                                            \
    break;

/* n_voxels voxels at src as doubles into dst, component after component,
 * colours weighted by a straight alpha; one loop per type. */
SEG_CLONES static void
load_row (const uint8_t        *src,
          int                   n_voxels,
          const SegPixelLayout *layout,
          double               *dst)
{
  const int    nc = layout->n_components;
  const size_t n  = (size_t) n_voxels * nc;

  switch (layout->type)
    {
      EACH_NUMBER_TYPE (LOAD_ROW)
    default:
      for (size_t i = 0; i < n; i++)
        dst[i] = seg_number_load (src + i * 2, SEG_TYPE_HALF);
    }
  if (layout->alpha >= 0)
    for (int x = 0; x < n_voxels; x++)
      for (int c = 0; c < nc; c++)
        if (c != layout->alpha)
          dst[(size_t) x * nc + c] *= dst[(size_t) x * nc + layout->alpha];
}

/* n_voxels voxels of components v (colours weighted by a straight alpha,
 * divided by it again here, 0 where it is 0) into dst, rounded as
 * seg_number_store () rounds; v is overwritten. */
SEG_CLONES static void
store_row (uint8_t *dst, double *v, int n_voxels, const SegPixelLayout *layout)
{
  const int    nc   = layout->n_components;
  const size_t n    = (size_t) n_voxels * nc;
  const int    size = seg_component_size (layout->type);

  if (layout->alpha >= 0)
    for (int x = 0; x < n_voxels; x++)
      {
        double *p = v + (size_t) x * nc;

        for (int c = 0; c < nc; c++)
          if (c != layout->alpha)
            p[c] = p[layout->alpha] != 0 ? p[c] / p[layout->alpha] : 0;
      }
  switch (layout->type)
    {
    case SEG_TYPE_FLOAT:
      for (size_t i = 0; i < n; i++)
        {
          const float f = (float) v[i];

          memcpy (dst + i * sizeof f, &f, sizeof f);
        }
      return;
    case SEG_TYPE_DOUBLE: memcpy (dst, v, n * sizeof *v); return;
    default:
      for (size_t i = 0; i < n; i++)
        seg_number_store (dst + i * size, layout->type, v[i]);
    }
}

/* Scratch rows of doubles: an input row as loaded, and output rows. */
static double *
doubles (size_t n)
{
  return malloc ((n > 0 ? n : 1) * sizeof (double));
}

/* ---- Linear ------------------------------------------------------------- */

/* Input rows interpolated along x, kept for the output rows that share
 * them: row (zz, yy) in slot (zz mod 2)·2 + yy mod 2, as the two taps of
 * an axis are neighbours. */
typedef struct
{
  double *row[4];
  int     zz[4], yy[4];
  double *loaded; /* the input row, as load_row () gives it */
} XRows;

/* The loaded row src interpolated along x into n_out voxels of nc
 * doubles at dst. */
SEG_CLONES static void
interpolate_x (
  double *dst, const double *src, const Axis *ax, int n_out, int nc)
{
  if (nc == 1)
    for (int x = 0; x < n_out; x++)
      dst[x] = src[ax->first[x]] * ax->w0[x] + src[ax->second[x]] * ax->w1[x];
  else
    for (int x = 0; x < n_out; x++)
      {
        const double *a = src + (size_t) ax->first[x] * nc;
        const double *b = src + (size_t) ax->second[x] * nc;

        for (int k = 0; k < nc; k++)
          dst[(size_t) x * nc + k] = a[k] * ax->w0[x] + b[k] * ax->w1[x];
      }
}

/* STATEMENT for x = 0 … n - 1, with a and b the numbers 2x and 2x + 1 of
 * C type CTYPE from row on: the loop over neighbouring pairs that halving
 * a row along x takes, which the compiler vectorises. */
#define FOR_PAIRS(CTYPE, row, n, STATEMENT)                           \
  for (int x = 0; x < (n); x++)                                       \
    {                                                                 \
      CTYPE a, b;                                                     \
                                                                      \
      memcpy (&a, (row) + (size_t) 2 * x * sizeof a, sizeof a);       \
      memcpy (&b, (row) + (size_t) (2 * x + 1) * sizeof b, sizeof b); \
      STATEMENT;                                                      \
    }

/* A case of a switch on type: interpolate_x () of one number of C type
 * CTYPE a voxel, straight from the row (a number as a double is exact:
 * the same bits as loading the row first); taps that are pairs, one
 * after the other (halving), without their tables. */
#define INTERPOLATE_FROM(TYPE, CTYPE)                                        \
  case TYPE:                                                                 \
    if (ax->halves)                                                          \
      FOR_PAIRS (CTYPE, src + (size_t) ax->first[0] * sizeof (CTYPE), n_out, \
                 dst[x] = (double) a * ax->w0[x] + (double) b * ax->w1[x])   \
    else                                                                     \
      for (int x = 0; x < n_out; x++)                                        \
        {                                                                    \
          CTYPE a, b;                                                        \
                                                                             \
          memcpy (&a, src + (size_t) ax->first[x] * sizeof a, sizeof a);     \
          memcpy (&b, src + (size_t) ax->second[x] * sizeof b, sizeof b);    \
          dst[x] = (double) a * ax->w0[x] + (double) b * ax->w1[x];          \
        }                                                                    \
    return true;

/* interpolate_x () of a row of one number a voxel, of type, without
 * loading it first; false for half, which it leaves to load_row (). */
SEG_CLONES static bool
interpolate_x_from (double          *dst,
                    const uint8_t   *src,
                    SegComponentType type,
                    const Axis      *ax,
                    int              n_out)
{
  switch (type)
    {
      EACH_NUMBER_TYPE (INTERPOLATE_FROM)
    default: return false;
    }
}

/* dst = a·w0 + b·w1, n numbers. */
SEG_CLONES static void
combine (
  double *dst, const double *a, const double *b, double w0, double w1, size_t n)
{
  for (size_t i = 0; i < n; i++)
    dst[i] = a[i] * w0 + b[i] * w1;
}

/* Input row (zz, yy) interpolated along x: n_out voxels of nc doubles. */
static const double *
x_row (XRows *c, const Job *job, int zz, int yy)
{
  const SegVolume *in   = job->in;
  const Axis      *ax   = &job->axis[0];
  const int        nc   = job->layout->n_components;
  const int        slot = (zz & 1) * 2 + (yy & 1);
  double          *dst  = c->row[slot];
  const uint8_t   *src;

  if (c->zz[slot] == zz && c->yy[slot] == yy)
    return dst;
  src = (const uint8_t *) in->data + (ptrdiff_t) zz * in->slice_stride +
        (ptrdiff_t) yy * in->row_stride;
  if (nc > 1 ||
      !interpolate_x_from (dst, src, job->layout->type, ax, job->out->width))
    {
      load_row (src, in->width, job->layout, c->loaded);
      interpolate_x (dst, c->loaded, ax, job->out->width, nc);
    }
  c->zz[slot] = zz;
  c->yy[slot] = yy;
  return dst;
}

static SegStatus
linear (const Job *job)
{
  const SegVolume *out = job->out;
  const Axis      *ay = &job->axis[1], *az = &job->axis[2];
  const size_t     n    = (size_t) out->width * job->layout->n_components;
  double          *rows = doubles (7 * n);
  double          *loaded =
    doubles ((size_t) job->in->width * job->layout->n_components);
  XRows c;

  if (rows == NULL || loaded == NULL)
    {
      free (rows);
      free (loaded);
      return SEG_ENOMEM;
    }
  for (int s = 0; s < 4; s++)
    {
      c.row[s] = rows + s * n;
      c.zz[s] = c.yy[s] = -1;
    }
  c.loaded = loaded;
  for (int z = 0; z < out->depth; z++)
    for (int y = 0; y < out->height; y++)
      {
        double *along_y[2] = { rows + 4 * n, rows + 5 * n };
        double *along_z    = rows + 6 * n;

        for (int t = 0; t < 2; t++)
          {
            const int     zz = t == 0 ? az->first[z] : az->second[z];
            const double *a  = x_row (&c, job, zz, ay->first[y]);
            const double *b  = x_row (&c, job, zz, ay->second[y]);

            combine (along_y[t], a, b, ay->w0[y], ay->w1[y], n);
          }
        combine (along_z, along_y[0], along_y[1], az->w0[z], az->w1[z], n);
        store_row ((uint8_t *) out->data + (ptrdiff_t) z * out->slice_stride +
                     (ptrdiff_t) y * out->row_stride,
                   along_z, out->width, job->layout);
      }
  free (rows);
  free (loaded);
  return SEG_OK;
}

/* ---- Area --------------------------------------------------------------- */

/* The windows of ax in the loaded row src added to the sums of n_out
 * voxels of nc numbers, x fastest. */
SEG_CLONES static void
add_windows (double *sum, const double *src, const Axis *ax, int n_out, int nc)
{
  /* Windows of 2, one after the other: the common halving, in a loop the
   * compiler vectorises (the sums in the same order). */
  if (nc == 1 && ax->step == 2)
    {
      const double *restrict row = src + ax->first[0];

      for (int x = 0; x < n_out; x++)
        sum[x] = sum[x] + row[2 * x] + row[2 * x + 1];
    }
  else if (nc == 1)
    for (int x = 0; x < n_out; x++)
      {
        double t = sum[x];

        for (int xx = ax->first[x]; xx < ax->second[x]; xx++)
          t += src[xx];
        sum[x] = t;
      }
  else
    for (int x = 0; x < n_out; x++)
      for (int xx = ax->first[x]; xx < ax->second[x]; xx++)
        for (int k = 0; k < nc; k++)
          sum[(size_t) x * nc + k] += src[(size_t) xx * nc + k];
}

/* A case of a switch on type: add_windows () of windows of 2 in a row of
 * one number of C type CTYPE a voxel, straight from the row (a number as
 * a double is exact: the same sums as loading the row first). */
#define ADD_PAIRS_FROM(TYPE, CTYPE)                                          \
  case TYPE:                                                                 \
    FOR_PAIRS (CTYPE, row, n_out, sum[x] = sum[x] + (double) a + (double) b) \
    return true;

/* add_windows () of the windows of 2 of ax (one after the other) in a row
 * of one number a voxel, of type, without loading it first; false where
 * the windows are others, or for half, which it leaves to load_row (). */
SEG_CLONES static bool
add_pairs_from (double          *sum,
                const uint8_t   *src,
                SegComponentType type,
                const Axis      *ax,
                int              n_out)
{
  const uint8_t *row;

  if (ax->step != 2)
    return false;
  row = src + (size_t) ax->first[0] * seg_component_size (type);
  switch (type)
    {
      EACH_NUMBER_TYPE (ADD_PAIRS_FROM)
    default: return false;
    }
}

/* TRUE when n is a power of two. */
static inline bool
power_of_two (int n)
{
  return n > 0 && (n & (n - 1)) == 0;
}

/* TRUE when the divisions of divide_windows () are exact and can be one
 * multiplication: every window's sides are powers of two, so each
 * division only lowers the exponent, and the sums are of numbers that
 * are no doubles, so they lie far from the range where a double loses
 * bits that way (sums of floats are multiples of 2^-149, and a window of
 * at most 65536³ voxels divides them by at most 2^48, far from the
 * smallest normal double, 2^-1022; nor can such a sum overflow). */
static bool
windows_scale_exactly (const Axis *ax, int n_out, SegComponentType type)
{
  if (type == SEG_TYPE_DOUBLE)
    return false;
  for (int x = 0; x < n_out; x++)
    if (!power_of_two ((int) ax->w0[x]))
      return false;
  return true;
}

/* The sums of n_out voxels divided by their windows' depth kz, height
 * ky and widths (ax's w0), in that order; or, where scale is not NULL
 * (windows_scale_exactly ()), multiplied by scale[x] = 1 / (kz·ky·w0[x]),
 * which gives the same doubles. */
SEG_CLONES static void
divide_windows (double       *sum,
                int           kz,
                int           ky,
                const Axis   *ax,
                const double *scale,
                int           n_out,
                int           nc)
{
  const double dz = kz, dy = ky;
  const double *restrict dx = ax->w0;

  if (nc == 1 && scale != NULL)
    for (int x = 0; x < n_out; x++)
      sum[x] = sum[x] * scale[x];
  else if (nc == 1)
    for (int x = 0; x < n_out; x++)
      sum[x] = sum[x] / dz / dy / dx[x];
  else
    for (int x = 0; x < n_out; x++)
      for (int k = 0; k < nc; k++)
        sum[(size_t) x * nc + k] = sum[(size_t) x * nc + k] / dz / dy / dx[x];
}

/* Each output row's windows summed row by row of the input, each input
 * row loaded once for it: per output voxel, the numbers still add up in
 * raster order (the rows of its window in order, x fastest within). */
static SegStatus
area (const Job *job)
{
  const SegVolume *in = job->in, *out = job->out;
  const Axis      *ax = &job->axis[0], *ay = &job->axis[1];
  const Axis      *az     = &job->axis[2];
  const int        nc     = job->layout->n_components;
  const size_t     n      = (size_t) out->width * nc;
  const bool       direct = nc == 1 && ax->step == 2;
  double          *sum    = doubles (n);
  double          *loaded = doubles ((size_t) in->width * nc);
  double          *scale  = doubles (n);
  const bool       scaled =
    nc == 1 && windows_scale_exactly (ax, out->width, job->layout->type);
  int scaled_for = 0; /* the kz·ky that scale holds, 0: none yet */

  if (sum == NULL || loaded == NULL || scale == NULL)
    {
      free (sum);
      free (loaded);
      free (scale);
      return SEG_ENOMEM;
    }
  for (int z = 0; z < out->depth; z++)
    for (int y = 0; y < out->height; y++)
      {
        const int  kz    = az->second[z] - az->first[z];
        const int  ky    = ay->second[y] - ay->first[y];
        const bool exact = scaled && power_of_two (kz) && power_of_two (ky);

        memset (sum, 0, n * sizeof *sum);
        for (int zz = az->first[z]; zz < az->second[z]; zz++)
          for (int yy = ay->first[y]; yy < ay->second[y]; yy++)
            {
              const uint8_t *row = (const uint8_t *) in->data +
                                   (ptrdiff_t) zz * in->slice_stride +
                                   (ptrdiff_t) yy * in->row_stride;

              if (direct &&
                  add_pairs_from (sum, row, job->layout->type, ax, out->width))
                continue;
              load_row (row, in->width, job->layout, loaded);
              add_windows (sum, loaded, ax, out->width, nc);
            }
        if (exact && kz * ky != scaled_for)
          {
            for (int x = 0; x < out->width; x++)
              scale[x] = 1.0 / ((double) kz * ky * ax->w0[x]);
            scaled_for = kz * ky;
          }
        divide_windows (sum, kz, ky, ax, exact ? scale : NULL, out->width, nc);
        store_row ((uint8_t *) out->data + (ptrdiff_t) z * out->slice_stride +
                     (ptrdiff_t) y * out->row_stride,
                   sum, out->width, job->layout);
      }
  free (sum);
  free (loaded);
  free (scale);
  return SEG_OK;
}

/* ---- The call ----------------------------------------------------------- */

SegStatus
seg_resample (const SegVolume   *in,
              const int          in_at[3],
              const SegVolume   *out,
              const int          out_at[3],
              const SegResample *r)
{
  const int in_sizes[3] = { in ? in->width : 0, in ? in->height : 0,
                            in ? in->depth : 0 };
  const int out_sizes[3] = { out ? out->width : 0, out ? out->height : 0,
                             out ? out->depth : 0 };
  Job       job = { in, out, { { 0 } }, r != NULL ? &r->layout : NULL };
  SegStatus status;
  int       made = 0;

  if (in == NULL || out == NULL || in_at == NULL || out_at == NULL ||
      seg_volume_check (in) != SEG_OK || seg_volume_check (out) != SEG_OK ||
      in->bpp != out->bpp)
    return SEG_EBADARG;
  status = seg_resample_check (r, in->bpp);
  if (status != SEG_OK)
    return status;
  for (int a = 0; a < 3; a++)
    if (out_at[a] < 0 || out_at[a] > r->out_size[a] - out_sizes[a] ||
        in_at[a] < 0 || in_at[a] > r->in_size[a] - in_sizes[a])
      return SEG_EBADARG;

  for (; made < 3 && status == SEG_OK; made++)
    status = axis_new (&job.axis[made], r, made, out_at[made], out_sizes[made],
                       in_at[made], in_sizes[made]);
  if (status != SEG_OK)
    made--;
  else
    switch (r->mode)
      {
      case SEG_RESAMPLE_NEAREST: nearest (&job); break;
      case SEG_RESAMPLE_LINEAR: status = linear (&job); break;
      default: status = area (&job); break;
      }
  for (int a = 0; a < made; a++)
    axis_free (&job.axis[a]);
  return status;
}
