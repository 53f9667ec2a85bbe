/* SPDX-License-Identifier: LGPL-3.0-or-later
 *
 * Steepest-descent directions: see seg-descent.h for the contract.
 *
 * A voxel's 26 neighbours (8 in 2-D) fall into 7 classes (3 in 2-D) by
 * which axes they step along: x, y, xy, z, xz, yz, xyz.  Neighbours of a
 * class share one distance, and a score falls as the neighbour's value
 * rises (the rounded difference and the rounded quotient are monotonic),
 * so the best neighbour of a class is one of its lowest value.  The kernel
 * thus takes, for a chunk of a row at a time and in loops the compiler
 * vectorises:
 *
 *   1. the rows around it as doubles, a missing or NaN neighbour as +∞
 *      (which scores −∞ or NaN, never the best, as a skipped one);
 *   2. each class's lowest value, through the pairwise minima of rows;
 *   3. each class's score, multiplied by the inverse distance;
 *   4. the best class, and in it the first neighbour holding its lowest
 *      value, in index order.
 *
 * Where the products could order two classes differently from the exact
 * quotients (they lie within far less than a part in 10¹¹), where classes
 * tie in a way that is not certain, or where two distinct values of a
 * class could round to one score, the voxel is done again exactly, with
 * the divisions, in index order (exact_label ()).  Small integers never
 * need the last check: their differences are exact and at least 1 apart.
 *
 * With AVX-512, numbers that are floats exactly (float, u8, u16, int8,
 * int16) take the same steps sixteen at a time in single precision, in
 * registers (vector_16 ()), from rows converted once into a small cache;
 * its margins are wider, its fallback the same.  The double path serves
 * the other types, other CPUs and SEG_KERNELS=portable.
 */
#include "seg-descent.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "seg-rows.h"

#if SEG_HAVE_AVX512
#include <immintrin.h>
#endif

/* Voxels of a row done at once: the chunk's rows, minima and scores stay
 * in L1. */
#define CHUNK 64

/* Classes, by the axes a neighbour steps along: bit 0 x, bit 1 y, bit 2
 * z; class 0 is the centre. */
#define N_CLASSES 8

/* Rows around the centre row: r = (dz + 1)·3 + (dy + 1). */
#define N_ROWS 9

/* Products closer than this, relative, leave the order to the exact
 * quotients; they are within 2⁻⁵⁰ of them. */
#define NEAR 0x1p-40

SegStatus
seg_descent_check (const SegDescent *d)
{
  if (d == NULL)
    return SEG_EBADARG;
  for (int a = 0; a < 3; a++)
    if (!(d->spacing[a] > 0) || !isfinite (d->spacing[a]))
      return SEG_EBADARG;
  switch (d->type)
    {
    case SEG_TYPE_U8:
    case SEG_TYPE_U16:
    case SEG_TYPE_U32:
    case SEG_TYPE_U64:
    case SEG_TYPE_I8:
    case SEG_TYPE_I16:
    case SEG_TYPE_I32:
    case SEG_TYPE_I64:
    case SEG_TYPE_FLOAT:
    case SEG_TYPE_DOUBLE: return SEG_OK;
    default: return SEG_EBADTYPE;
    }
}

/* What every chunk of one call shares. */
typedef struct
{
  const SegVolume *in;
  SegComponentType type;
  bool             three_d;
  double           dist[N_CLASSES], inv[N_CLASSES];
  int              n_classes; /* classes 1 … n_classes: 3 in 2-D, 7 */
  /* Each class's neighbours in index order: row and step in x. */
  int    n_members[N_CLASSES];
  int    member_row[N_CLASSES][8], member_dx[N_CLASSES][8];
  double inf_row[CHUNK + 2]; /* a missing row             */
  /* Distances so far from 1 that quotients can underflow or overflow
   * where products and differences do not: every voxel the exact way. */
  bool exact_only;
} Descent;

/* The neighbour index of (dz, dy, dx). */
static inline int
index_of (const Descent *k, int dz, int dy, int dx)
{
  return k->three_d ? (dz + 1) * 9 + (dy + 1) * 3 + (dx + 1)
                    : (dy + 1) * 3 + (dx + 1);
}

static inline int
centre_of (const Descent *k)
{
  return k->three_d ? 13 : 4;
}

/* The distance of a class, as the contract writes it. */
static double
class_distance (const double spacing[3], int c)
{
  const double dx = (c & 1) ? spacing[0] : 0, dy = (c & 2) ? spacing[1] : 0,
               dz = (c & 4) ? spacing[2] : 0;

  return sqrt (dx * dx + dy * dy + dz * dz);
}

/* ---- Rows as doubles ---------------------------------------------------- */

/* A case of a switch on a row's type: voxels [x, x + n) of row, numbers
 * of C type CTYPE, into dst (whose type they are converted to); one loop,
 * which the compiler vectorises. */
#define READ_NUMBERS(TYPE, CTYPE)                           \
  case TYPE:                                                \
    {                                                       \
      const uint8_t *p = row + (size_t) x * sizeof (CTYPE); \
      for (int i = 0; i < n; i++)                           \
        {                                                   \
          CTYPE v;                                          \
          memcpy (&v, p + (size_t) i * sizeof v, sizeof v); \
          dst[i] = v;                                       \
        }                                                   \
      return;                                               \
    }

/* Voxels [x, x + n) of row as doubles into dst, NaN as +∞ when
 * nan_as_inf; one loop per type, which the compiler vectorises. */
static inline __attribute__ ((always_inline)) void
read_numbers (
  const uint8_t *row, int x, int n, SegComponentType type, double *dst)
{
  switch (type)
    {
      READ_NUMBERS (SEG_TYPE_U8, uint8_t)
      READ_NUMBERS (SEG_TYPE_U16, uint16_t)
      READ_NUMBERS (SEG_TYPE_U32, uint32_t)
      READ_NUMBERS (SEG_TYPE_U64, uint64_t)
      READ_NUMBERS (SEG_TYPE_I8, int8_t)
      READ_NUMBERS (SEG_TYPE_I16, int16_t)
      READ_NUMBERS (SEG_TYPE_I32, int32_t)
      READ_NUMBERS (SEG_TYPE_I64, int64_t)
      READ_NUMBERS (SEG_TYPE_FLOAT, float)
      READ_NUMBERS (SEG_TYPE_DOUBLE, double)
    default:
      for (int i = 0; i < n; i++)
        dst[i] = NAN;
    }
}

/* Types whose numbers can be NaN. */
static inline bool
has_nan (SegComponentType type)
{
  return type == SEG_TYPE_FLOAT || type == SEG_TYPE_DOUBLE;
}

/* Voxels x0 - 1 … x0 + n of row as doubles into dst[0 … n + 1], those
 * outside [0, width) and NaN ones as +∞. */
static inline __attribute__ ((always_inline)) void
read_row (const Descent *k, const uint8_t *row, int x0, int n, double *dst)
{
  const int width = k->in->width;
  const int from  = x0 - 1 < 0 ? 0 : x0 - 1;
  const int to    = x0 + n + 1 > width ? width : x0 + n + 1;

  for (int x = x0 - 1; x < from; x++)
    dst[x - (x0 - 1)] = INFINITY;
  read_numbers (row, from, to - from, k->type, dst + (from - (x0 - 1)));
  for (int x = to; x < x0 + n + 1; x++)
    dst[x - (x0 - 1)] = INFINITY;
  if (has_nan (k->type))
    for (int i = 0; i < n + 2; i++)
      dst[i] = dst[i] != dst[i] ? INFINITY : dst[i];
}

/* ---- The exact way ------------------------------------------------------ */

/* The label of centre c among the rows around it (rows[r] + 1 + i is the
 * voxel below the centre's column), with the divisions, in index order,
 * as the contract reads. */
static uint8_t
exact_label (const Descent      *k,
             const double *const rows[N_ROWS],
             int                 i,
             double              c)
{
  int    best  = -1;
  double score = 0;

  if (c != c)
    return (uint8_t) centre_of (k);
  for (int dz = -1; dz <= 1; dz++)
    for (int dy = -1; dy <= 1; dy++)
      for (int dx = -1; dx <= 1; dx++)
        {
          const int    cls = (dx != 0) | (dy != 0) << 1 | (dz != 0) << 2;
          const double n   = rows[(dz + 1) * 3 + (dy + 1)][i + 1 + dx];
          double       s;

          if (cls == 0 || (!k->three_d && dz != 0))
            continue;
          s = (c - n) / k->dist[cls];
          if (s != s)
            continue;
          if (best < 0 || s > score)
            {
              best  = index_of (k, dz, dy, dx);
              score = s;
            }
        }
  return (uint8_t) (best < 0 || score < 0 ? centre_of (k) : best);
}

/* ---- A chunk ------------------------------------------------------------ */

/* The chunk's working arrays, CHUNK voxels each.  Every step is a loop
 * over the chunk's voxels, for one class or one neighbour at a time, with
 * no branch in it and doubles only (flags and labels too), so that the
 * compiler vectorises each; chunk () is compiled for AVX-512, AVX2 and
 * baseline x86-64 (seg-rows.h). */
typedef struct
{
  double row[N_ROWS][CHUNK + 2];   /* voxels x0 - 1 … x0 + n           */
  double centre[CHUNK];            /* the centres, NaN kept             */
  double pair[N_ROWS][CHUNK];      /* min of the left and right voxel   */
  double pair_at[N_ROWS][CHUNK];   /* its index (the left one on ties)  */
  double low[N_CLASSES][CHUNK];    /* each class's lowest value         */
  double low_at[N_CLASSES][CHUNK]; /* the first index holding it       */
  double diff[N_CLASSES][CHUNK];   /* centre − low                      */
  double score[N_CLASSES][CHUNK];  /* diff × the inverse distance       */
  double best[CHUNK];              /* the best class's product          */
  double first_diff[CHUNK];        /* of the first class reaching best  */
  double first_dist[CHUNK];        /* and its distance (0: none yet)    */
  double label[CHUNK];
  double doubt[CHUNK]; /* 1: done again exactly                          */
} Chunk;

/* low and at become b and its index b_at where b is lower: members taken
 * in index order keep the first of the lowest. */
static inline __attribute__ ((always_inline)) void
take_lower (double *low, double *at, double b, double b_at)
{
  const bool lower = b < *low;

  *at  = lower ? b_at : *at;
  *low = lower ? b : *low;
}

/* The lower of two members (a first in index order) and its index. */
static inline __attribute__ ((always_inline)) void
lower_of_2 (
  double a, double a_at, double b, double b_at, double *low, double *at)
{
  *low = a;
  *at  = a_at;
  take_lower (low, at, b, b_at);
}

/* Step 2: each class's lowest value and the first neighbour, in index
 * order, that holds it.  Rows r = (dz + 1)·3 + (dy + 1) run in index
 * order, and so do x − 1, x, x + 1 within a row. */
static inline __attribute__ ((always_inline)) void
class_lows (const Descent *k, Chunk *restrict ch, int n)
{
  double col[N_ROWS]; /* the index of each row's middle voxel */

  for (int r = 0; r < N_ROWS; r++)
    {
      const double left  = index_of (k, r / 3 - 1, r % 3 - 1, -1);
      const double right = index_of (k, r / 3 - 1, r % 3 - 1, 1);

      col[r] = index_of (k, r / 3 - 1, r % 3 - 1, 0);
      if (!k->three_d && r / 3 != 1)
        continue;
      for (int i = 0; i < n; i++)
        lower_of_2 (ch->row[r][i], left, ch->row[r][i + 2], right,
                    &ch->pair[r][i], &ch->pair_at[r][i]);
    }
  for (int i = 0; i < n; i++)
    {
      ch->low[1][i]    = ch->pair[4][i];
      ch->low_at[1][i] = ch->pair_at[4][i];
      lower_of_2 (ch->row[3][i + 1], col[3], ch->row[5][i + 1], col[5],
                  &ch->low[2][i], &ch->low_at[2][i]);
      lower_of_2 (ch->pair[3][i], ch->pair_at[3][i], ch->pair[5][i],
                  ch->pair_at[5][i], &ch->low[3][i], &ch->low_at[3][i]);
    }
  if (!k->three_d)
    return;
  for (int i = 0; i < n; i++)
    {
      double low, at;

      lower_of_2 (ch->row[1][i + 1], col[1], ch->row[7][i + 1], col[7],
                  &ch->low[4][i], &ch->low_at[4][i]);
      lower_of_2 (ch->pair[1][i], ch->pair_at[1][i], ch->pair[7][i],
                  ch->pair_at[7][i], &ch->low[5][i], &ch->low_at[5][i]);
      lower_of_2 (ch->row[0][i + 1], col[0], ch->row[2][i + 1], col[2], &low,
                  &at);
      take_lower (&low, &at, ch->row[6][i + 1], col[6]);
      take_lower (&low, &at, ch->row[8][i + 1], col[8]);
      ch->low[6][i]    = low;
      ch->low_at[6][i] = at;
      lower_of_2 (ch->pair[0][i], ch->pair_at[0][i], ch->pair[2][i],
                  ch->pair_at[2][i], &low, &at);
      take_lower (&low, &at, ch->pair[6][i], ch->pair_at[6][i]);
      take_lower (&low, &at, ch->pair[8][i], ch->pair_at[8][i]);
      ch->low[7][i]    = low;
      ch->low_at[7][i] = at;
    }
}

/* Step 3: each class's product and the best of them; doubt where the
 * products cannot decide: a class beside the best that they cannot
 * order, or one tied with it where the tie is not certain (certain: both
 * differences zero, or equal differences at equal distances), or a best
 * of zero or more outside the products' safe range.  Below zero the
 * centre wins for certain (a product has its difference's sign). */
static inline __attribute__ ((always_inline)) void
best_classes (const Descent *k, Chunk *restrict ch, int n)
{
  for (int i = 0; i < n; i++)
    ch->best[i] = -INFINITY;
  for (int c = 1; c <= k->n_classes; c++)
    {
      const double inv = k->inv[c];

      for (int i = 0; i < n; i++)
        {
          const double t = ch->centre[i] - ch->low[c][i];
          const double q = t * inv;

          ch->diff[c][i]  = t;
          ch->score[c][i] = q;
          ch->best[i]     = q > ch->best[i] ? q : ch->best[i];
        }
    }
  for (int i = 0; i < n; i++)
    {
      const double s = ch->best[i];

      ch->doubt[i] = (s > 0) & !((s > 0x1p-1000) & (s < 0x1p+1000)) ? 1.0 : 0.0;
      ch->first_dist[i] = 0;
      ch->first_diff[i] = 0;
    }
  for (int c = 1; c <= k->n_classes; c++)
    {
      const double dist = k->dist[c];

      for (int i = 0; i < n; i++)
        {
          const double s     = ch->best[i];
          const double q     = ch->score[c][i];
          const double t     = ch->diff[c][i];
          const int    tied  = q == s;
          const int    first = ch->first_dist[i] == 0;
          const int    near  = !tied & (s - q <= NEAR * s);
          const int    sure =
            (s == 0) | ((t == ch->first_diff[i]) & (dist == ch->first_dist[i]));
          const int unsure = tied & !first & !sure;
          /* A product that underflowed to zero has lost its sign. */
          const int lost = tied & (q == 0) & (t != 0);

          ch->doubt[i] =
            lost | ((s >= 0) & (near | unsure)) ? 1.0 : ch->doubt[i];
          ch->first_diff[i] = tied & first ? t : ch->first_diff[i];
          ch->first_dist[i] = tied & first ? dist : ch->first_dist[i];
        }
    }
}

/* Step 4: the label, the first lowest neighbour of the classes that
 * reach the best product (tied for certain), the lowest index of those;
 * the centre where no score is zero or more or the centre is NaN. */
static inline __attribute__ ((always_inline)) void
labels (const Descent *k, Chunk *restrict ch, int n)
{
  for (int i = 0; i < n; i++)
    ch->label[i] = 255;
  for (int c = 1; c <= k->n_classes; c++)
    {
      for (int i = 0; i < n; i++)
        ch->label[i] =
          (ch->score[c][i] == ch->best[i]) & (ch->low_at[c][i] < ch->label[i])
            ? ch->low_at[c][i]
            : ch->label[i];
    }
  for (int i = 0; i < n; i++)
    ch->label[i] = (ch->centre[i] != ch->centre[i]) | !(ch->best[i] >= 0)
                     ? (double) centre_of (k)
                     : ch->label[i];
}

/* Whether two different values of a class could round to one score:
 * their differences from the centre then lie within a few units in the
 * last place.  For floats, only where the centre is 2²⁰ times the
 * class's lowest value or more; for doubles and 64-bit integers (rounded
 * to doubles), checked neighbour by neighbour.  Integers of 32 bits and
 * less differ by 1 at least, far more than their scores' rounding. */
static inline __attribute__ ((always_inline)) void
doubt_collisions (const Descent *k, Chunk *restrict ch, int n)
{
  if (k->type == SEG_TYPE_FLOAT)
    {
      for (int c = 1; c <= k->n_classes; c++)
        {
          for (int i = 0; i < n; i++)
            ch->doubt[i] =
              (ch->score[c][i] == ch->best[i]) & (ch->best[i] >= 0) &
                  !(fabs (ch->diff[c][i]) <= 0x1p20 * fabs (ch->low[c][i]))
                ? 1.0
                : ch->doubt[i];
        }
      return;
    }
  if (k->type != SEG_TYPE_DOUBLE && k->type != SEG_TYPE_I64 &&
      k->type != SEG_TYPE_U64)
    return;
  for (int c = 1; c <= k->n_classes; c++)
    {
      for (int e = 0; e < k->n_members[c]; e++)
        {
          const double *restrict v =
            ch->row[k->member_row[c][e]] + 1 + k->member_dx[c][e];
          const double inv = k->inv[c];

          /* Close differences, or scores both so small that the
           * division rounds them together. */
          for (int i = 0; i < n; i++)
            {
              const double top = ch->diff[c][i];
              const double t   = ch->centre[i] - v[i];

              ch->doubt[i] = (ch->score[c][i] == ch->best[i]) &
                                 (ch->best[i] >= 0) & (v[i] != ch->low[c][i]) &
                                 ((t >= top - 0x1p-48 * fabs (top)) |
                                  (fabs (t * inv) < 0x1p-1000))
                               ? 1.0
                               : ch->doubt[i];
            }
        }
    }
}

/* Output voxels [0, n) of an out row, input voxels from x0 on, the rows
 * around them at rows (NULL: none). */
SEG_CLONES static void
chunk (const Descent *k,
       Chunk         *ch,
       const uint8_t *rows[N_ROWS],
       int            x0,
       int            n,
       uint8_t       *out)
{
  const double *row_ptrs[N_ROWS];

  for (int r = 0; r < N_ROWS; r++)
    {
      if (rows[r] != NULL)
        read_row (k, rows[r], x0, n, ch->row[r]);
      else
        memcpy (ch->row[r], k->inf_row, sizeof ch->row[r]);
      row_ptrs[r] = ch->row[r];
    }
  read_numbers (rows[4], x0, n, k->type, ch->centre);
  if (k->exact_only)
    {
      for (int i = 0; i < n; i++)
        out[i] = exact_label (k, row_ptrs, i, ch->centre[i]);
      return;
    }
  class_lows (k, ch, n);
  best_classes (k, ch, n);
  labels (k, ch, n);
  doubt_collisions (k, ch, n);
  for (int i = 0; i < n; i++)
    out[i] = ch->doubt[i] != 0 ? exact_label (k, row_ptrs, i, ch->centre[i])
                               : (uint8_t) ch->label[i];
}

/* ---- Sixteen voxels at a time in single precision (AVX-512) ------------ */

#if SEG_HAVE_AVX512
/* Types whose numbers are floats exactly: this path takes them. */
static bool
takes_floats (SegComponentType type)
{
  return type == SEG_TYPE_FLOAT || type == SEG_TYPE_U8 ||
         type == SEG_TYPE_U16 || type == SEG_TYPE_I8 || type == SEG_TYPE_I16;
}

/* Products of floats closer than this, relative, leave the order to the
 * exact quotients: a difference and an inverse distance rounded to float,
 * and their product, are within 2⁻²² of the exact quotient. */
#define NEAR_FLOAT 0x1p-18f

/* The rows around an output row as floats, each from the voxel left of
 * the output's first (row[r][i] is voxel x0 + i - 1; a missing or NaN
 * one +∞), with room for the last vector's lanes past the row's end; and
 * the output row's own input from voxel x0, whose float centres keep
 * their NaNs (read with masks, never past the row). */
typedef struct
{
  const float   *row[N_ROWS];
  const uint8_t *centre;
} FloatRows;

/* Input rows converted once, whole: each serves the 9 output rows around
 * it.  Row yy of slice zz lives in slot (zz mod 3)·4 + yy mod 4, so that
 * the 9 rows of one output row never share a slot, as voxels -1 …
 * width + 16 (the ends +∞). */
#define CACHED_ROWS 12

typedef struct
{
  float *memory;
  size_t stride; /* floats a slot                      */
  int    zz[CACHED_ROWS], yy[CACHED_ROWS]; /* -1: empty */
  float *missing;                          /* a row of +∞ for rows outside */
} RowCache;

static bool
row_cache_init (RowCache *c, int width)
{
  c->stride = (size_t) width + 2 + 16;
  c->memory = malloc ((CACHED_ROWS + 1) * c->stride * sizeof (float));
  if (c->memory == NULL)
    return false;
  for (int s = 0; s < CACHED_ROWS; s++)
    c->zz[s] = c->yy[s] = -1;
  c->missing = c->memory + CACHED_ROWS * c->stride;
  for (size_t i = 0; i < c->stride; i++)
    c->missing[i] = INFINITY;
  return true;
}

/* Voxels [x, x + n) of row as floats into dst, NaN as +∞ where
 * nan_as_inf (in the same pass: reading dst back at once would wait for
 * its stores). */
SEG_AVX512 static void
read_floats (const uint8_t   *row,
             int              x,
             int              n,
             SegComponentType type,
             bool             nan_as_inf,
             float           *dst)
{
  switch (type)
    {
      READ_NUMBERS (SEG_TYPE_U8, uint8_t)
      READ_NUMBERS (SEG_TYPE_U16, uint16_t)
      READ_NUMBERS (SEG_TYPE_I8, int8_t)
      READ_NUMBERS (SEG_TYPE_I16, int16_t)
    case SEG_TYPE_FLOAT:
      {
        const uint8_t *p = row + (size_t) x * sizeof (float);

        if (nan_as_inf)
          for (int i = 0; i < n; i++)
            {
              float v;

              memcpy (&v, p + (size_t) i * sizeof v, sizeof v);
              dst[i] = v != v ? INFINITY : v;
            }
        else
          memcpy (dst, p, (size_t) n * sizeof (float));
        return;
      }
    default: return;
    }
}

/* As read_row (), in floats. */
SEG_AVX512 static void
read_row_floats (
  const Descent *k, const uint8_t *row, int x0, int n, float *dst)
{
  const int width = k->in->width;
  const int from  = x0 - 1 < 0 ? 0 : x0 - 1;
  const int to    = x0 + n + 1 > width ? width : x0 + n + 1;

  for (int x = x0 - 1; x < from; x++)
    dst[x - (x0 - 1)] = INFINITY;
  read_floats (row, from, to - from, k->type, true, dst + (from - (x0 - 1)));
  for (int x = to; x < x0 + n + 1; x++)
    dst[x - (x0 - 1)] = INFINITY;
}

/* low and at become b and b_at in the lanes where b is lower. */
SEG_AVX512 static inline __attribute__ ((always_inline)) void
take_lower_16 (__m512 *low, __m512i *at, __m512 b, __m512i b_at)
{
  const __mmask16 lower = _mm512_cmp_ps_mask (b, *low, _CMP_LT_OQ);

  *low = _mm512_mask_blend_ps (lower, *low, b);
  *at  = _mm512_mask_blend_epi32 (lower, *at, b_at);
}

/* The centre i as a float: NaN kept (rows map it to +∞). */
static inline float
centre_at (const Descent *k, const FloatRows *ch, int i)
{
  float v;

  if (k->type != SEG_TYPE_FLOAT)
    return ch->row[4][i + 1];
  memcpy (&v, ch->centre + (size_t) i * sizeof v, sizeof v);
  return v;
}

/* The label of voxel i of the chunk, exactly, from its floats. */
static uint8_t
exact_label_of_floats (const Descent *k, const FloatRows *ch, int i)
{
  double        around[N_ROWS][3];
  const double *rows[N_ROWS];

  for (int r = 0; r < N_ROWS; r++)
    {
      for (int dx = 0; dx < 3; dx++)
        around[r][dx] = ch->row[r][i + dx];
      rows[r] = around[r];
    }
  return exact_label (k, rows, 0, centre_at (k, ch, i));
}

/* The index of neighbour (dz, dy, dx) in every lane. */
SEG_AVX512 static inline __attribute__ ((always_inline)) __m512i
index_16 (bool three_d, int dz, int dy, int dx)
{
  return _mm512_set1_epi32 (three_d ? (dz + 1) * 9 + (dy + 1) * 3 + (dx + 1)
                                    : (dy + 1) * 3 + (dx + 1));
}

/* The doubts of lanes where classes crowd the best: a class beside it
 * that the products cannot order, or one tied with it where the tie is
 * not certain (certain are zero differences, a float difference being
 * zero only between equal numbers, and equal lowest values at one
 * distance: the same difference, divided alike); a tied product that
 * underflowed to zero; for floats, a tied class whose centre is far above
 * its lowest value. */
SEG_AVX512 static inline __attribute__ ((always_inline)) __mmask16
crowded_doubt (const Descent *k,
               bool           three_d,
               const __m512  *score,
               const __m512  *diff,
               const __m512  *low,
               __m512         best,
               __mmask16      nonneg)
{
  const int    n_classes = three_d ? 7 : 3;
  const __m512 zero      = _mm512_setzero_ps ();
  __m512       first_low = zero, first_dist = zero;
  __mmask16    first_set = 0, doubt = 0;

  for (int cl = 1; cl <= n_classes; cl++)
    {
      const __m512    dist = _mm512_set1_ps ((float) k->dist[cl]);
      const __mmask16 tied = _mm512_cmp_ps_mask (score[cl], best, _CMP_EQ_OQ);
      const __mmask16 near =
        ~tied &
        _mm512_cmp_ps_mask (_mm512_sub_ps (best, score[cl]),
                            _mm512_mul_ps (best, _mm512_set1_ps (NEAR_FLOAT)),
                            _CMP_LE_OQ);
      const __mmask16 sure =
        _mm512_cmp_ps_mask (best, zero, _CMP_EQ_OQ) |
        (_mm512_cmp_ps_mask (low[cl], first_low, _CMP_EQ_OQ) &
         _mm512_cmp_ps_mask (dist, first_dist, _CMP_EQ_OQ));
      const __mmask16 first = tied & ~first_set;
      const __mmask16 lost  = tied &
                             _mm512_cmp_ps_mask (score[cl], zero, _CMP_EQ_OQ) &
                             _mm512_cmp_ps_mask (diff[cl], zero, _CMP_NEQ_OQ);

      doubt |= lost | (nonneg & (near | (tied & first_set & ~sure)));
      if (k->type == SEG_TYPE_FLOAT)
        doubt |= nonneg & tied &
                 ~_mm512_cmp_ps_mask (_mm512_abs_ps (diff[cl]),
                                      _mm512_mul_ps (_mm512_abs_ps (low[cl]),
                                                     _mm512_set1_ps (0x1p20f)),
                                      _CMP_LE_OQ);
      first_low  = _mm512_mask_blend_ps (first, first_low, low[cl]);
      first_dist = _mm512_mask_blend_ps (first, first_dist, dist);
      first_set |= first;
    }
  return doubt;
}

/* In the lanes of crowded, the first index over the classes tied at the
 * best; label elsewhere. */
SEG_AVX512 static inline __attribute__ ((always_inline)) __m512i
crowded_label (bool           three_d,
               const __m512  *score,
               const __m512i *low_at,
               __m512         best,
               __m512i        label,
               __mmask16      crowded)
{
  const int n_classes = three_d ? 7 : 3;
  __m512i   first     = _mm512_set1_epi32 (255);

  for (int cl = 1; cl <= n_classes; cl++)
    {
      const __mmask16 better =
        _mm512_cmp_ps_mask (score[cl], best, _CMP_EQ_OQ) &
        _mm512_cmplt_epi32_mask (low_at[cl], first);

      first = _mm512_mask_blend_epi32 (better, first, low_at[cl]);
    }
  return _mm512_mask_blend_epi32 (crowded, label, first);
}

/* The pair of row r around voxels i … i + 15: the lower of the voxels
 * left and right of each, and its index (the left one on ties). */
SEG_AVX512 static inline __attribute__ ((always_inline)) void
pair_16 (
  const FloatRows *ch, int r, int i, bool three_d, __m512 *low, __m512i *at)
{
  const int dz = r / 3 - 1, dy = r % 3 - 1;

  *low = _mm512_loadu_ps (ch->row[r] + i);
  *at  = index_16 (three_d, dz, dy, -1);
  take_lower_16 (low, at, _mm512_loadu_ps (ch->row[r] + i + 2),
                 index_16 (three_d, dz, dy, 1));
}

/* The voxels of row r below voxels i … i + 15. */
SEG_AVX512 static inline __attribute__ ((always_inline)) __m512
column_16 (const FloatRows *ch, int r, int i)
{
  return _mm512_loadu_ps (ch->row[r] + i + 1);
}

/* Step 2 for class cl: its lowest value and the first index holding it,
 * members in index order (rows, and the voxels of a row). */
SEG_AVX512 static inline __attribute__ ((always_inline)) void
class_low_16 (
  const FloatRows *ch, int cl, int i, bool three_d, __m512 *low, __m512i *at)
{
  static const int rows_of[N_CLASSES][4] = { { 0 },          { 4 },
                                             { 3, 5 },       { 3, 5 },
                                             { 1, 7 },       { 1, 7 },
                                             { 0, 2, 6, 8 }, { 0, 2, 6, 8 } };
  static const int n_rows_of[N_CLASSES]  = { 0, 1, 2, 2, 2, 2, 4, 4 };

#pragma GCC unroll 4
  for (int e = 0; e < n_rows_of[cl]; e++)
    {
      const int r = rows_of[cl][e];
      __m512    v;
      __m512i   v_at;

      if (cl & 1)
        pair_16 (ch, r, i, three_d, &v, &v_at);
      else
        {
          v    = column_16 (ch, r, i);
          v_at = index_16 (three_d, r / 3 - 1, r % 3 - 1, 0);
        }
      if (e == 0)
        {
          *low = v;
          *at  = v_at;
        }
      else
        take_lower_16 (low, at, v, v_at);
    }
}

/* The best over the classes so far: its product, the second best's, its
 * class's lowest value, difference and first index. */
typedef struct
{
  __m512  score, second, low, diff;
  __m512i at;
} Best16;

/* Step 3 for one class: its product, and the best and second best; a
 * NaN product never counts. */
SEG_AVX512 static inline __attribute__ ((always_inline)) void
class_score_16 (Best16 *b, __m512 c, __m512 low, __m512i at, float inv)
{
  const __m512    diff   = _mm512_sub_ps (c, low);
  const __m512    score  = _mm512_mul_ps (diff, _mm512_set1_ps (inv));
  const __mmask16 higher = _mm512_cmp_ps_mask (score, b->score, _CMP_GT_OQ);
  const __mmask16 above_second =
    _mm512_cmp_ps_mask (score, b->second, _CMP_GT_OQ);

  b->second = _mm512_mask_blend_ps (
    higher, _mm512_mask_blend_ps (above_second, b->second, score), b->score);
  b->score = _mm512_mask_blend_ps (higher, b->score, score);
  b->low   = _mm512_mask_blend_ps (higher, b->low, low);
  b->diff  = _mm512_mask_blend_ps (higher, b->diff, diff);
  b->at    = _mm512_mask_blend_epi32 (higher, b->at, at);
}

/* Where a second class comes near the best or ties it: every class again,
 * the doubts of crowded_doubt () and, in the lanes of crowded, the first
 * index over the classes tied at the best.  Out of the common path. */
SEG_AVX512 __attribute__ ((noinline)) static void
crowded_16 (const Descent   *k,
            const FloatRows *ch,
            int              i,
            bool             three_d,
            __m512           c,
            __m512           best,
            __mmask16        nonneg,
            __mmask16        crowded,
            __mmask16       *doubt,
            __m512i         *label)
{
  const int n_classes = three_d ? 7 : 3;
  __m512    low[N_CLASSES], diff[N_CLASSES], score[N_CLASSES];
  __m512i   low_at[N_CLASSES];

  for (int cl = 1; cl <= n_classes; cl++)
    {
      class_low_16 (ch, cl, i, three_d, &low[cl], &low_at[cl]);
      diff[cl]  = _mm512_sub_ps (c, low[cl]);
      score[cl] = _mm512_mul_ps (diff[cl], _mm512_set1_ps ((float) k->inv[cl]));
    }
  *doubt |= crowded_doubt (k, three_d, score, diff, low, best, nonneg);
  *label = crowded_label (three_d, score, low_at, best, *label, crowded);
}

/* Labels of voxels i … i + 15 of the row into out (the lanes past n are
 * not stored): the steps of the double path, in registers.  three_d is a
 * constant where inlined, so that the loops over classes and rows unroll
 * and their vectors stay in registers. */
SEG_AVX512 static inline __attribute__ ((always_inline)) void
vector_16 (const Descent   *k,
           const FloatRows *ch,
           int              i,
           int              n,
           uint8_t         *out,
           bool             three_d)
{
  const int       n_classes = three_d ? 7 : 3;
  const __m512    zero      = _mm512_setzero_ps ();
  const __mmask16 lanes =
    n - i >= 16 ? (__mmask16) 0xffff : (__mmask16) ((1u << (n - i)) - 1);
  /* The centres: a float row's own (with its NaNs; masked, so as not to
   * read past the row), other rows' from the cache. */
  const __m512 c =
    k->type == SEG_TYPE_FLOAT
      ? _mm512_maskz_loadu_ps (lanes, ch->centre + (size_t) i * sizeof (float))
      : _mm512_loadu_ps (ch->row[4] + i + 1);
  Best16    b = { _mm512_set1_ps (-INFINITY), _mm512_set1_ps (-INFINITY), zero,
                  zero, _mm512_set1_epi32 (255) };
  __mmask16 doubt, nonneg, centre, crowded;

  /* Steps 2 and 3, class by class. */
#pragma GCC unroll 8
  for (int cl = 1; cl <= n_classes; cl++)
    {
      __m512  low;
      __m512i at;

      class_low_16 (ch, cl, i, three_d, &low, &at);
      class_score_16 (&b, c, low, at, (float) k->inv[cl]);
    }
  /* Doubt: a best of zero or more outside the products' safe range, or
   * one that underflowed to zero and lost its sign; for floats, a centre
   * far (2²⁰ times) above the best class's lowest value, where two
   * different floats of the class can round to one score (small integers
   * never can). */
  nonneg = _mm512_cmp_ps_mask (b.score, zero, _CMP_GE_OQ);
  doubt =
    _mm512_cmp_ps_mask (b.score, zero, _CMP_GT_OQ) &
    ~(_mm512_cmp_ps_mask (b.score, _mm512_set1_ps (0x1p-100f), _CMP_GT_OQ) &
      _mm512_cmp_ps_mask (b.score, _mm512_set1_ps (0x1p+100f), _CMP_LT_OQ));
  doubt |= _mm512_cmp_ps_mask (b.score, zero, _CMP_EQ_OQ) &
           _mm512_cmp_ps_mask (b.diff, zero, _CMP_NEQ_OQ);
  if (k->type == SEG_TYPE_FLOAT)
    doubt |=
      nonneg & ~_mm512_cmp_ps_mask (_mm512_abs_ps (b.diff),
                                    _mm512_mul_ps (_mm512_abs_ps (b.low),
                                                   _mm512_set1_ps (0x1p20f)),
                                    _CMP_LE_OQ);
  /* Lanes where a second class comes near the best or ties it: there the
   * products may misorder the classes, and the label is the first index
   * over all the classes tied. */
  crowded = _mm512_cmp_ps_mask (
    b.second,
    _mm512_sub_ps (b.score,
                   _mm512_mul_ps (b.score, _mm512_set1_ps (NEAR_FLOAT))),
    _CMP_GE_OQ);
  if ((crowded & nonneg & lanes) != 0)
    crowded_16 (k, ch, i, three_d, c, b.score, nonneg, crowded, &doubt, &b.at);
  centre = ~nonneg | _mm512_cmp_ps_mask (c, c, _CMP_UNORD_Q);
  b.at   = _mm512_mask_blend_epi32 (centre, b.at,
                                    _mm512_set1_epi32 (three_d ? 13 : 4));

  _mm512_mask_cvtepi32_storeu_epi8 (out + i, lanes, b.at);
  for (unsigned d = doubt & lanes; d != 0; d &= d - 1)
    {
      const int lane = __builtin_ctz (d);

      out[i + lane] = exact_label_of_floats (k, ch, i + lane);
    }
}

/* Row yy of slice zz (at row, NULL outside the input) as floats, from
 * the cache: converted when it is not there. */
SEG_AVX512 static const float *
cached_row (const Descent *k, RowCache *c, const uint8_t *row, int zz, int yy)
{
  int    slot;
  float *data;

  if (row == NULL)
    return c->missing;
  slot = zz % 3 * 4 + yy % 4;
  data = c->memory + (size_t) slot * c->stride;
  if (c->zz[slot] != zz || c->yy[slot] != yy)
    {
      read_row_floats (k, row, 0, k->in->width, data);
      c->zz[slot] = zz;
      c->yy[slot] = yy;
    }
  return data;
}

/* Output row (zi, yi) of the input, voxels x0 … x0 + n - 1, into out,
 * sixteen voxels at a time; rows: the input rows around it (NULL: none). */
SEG_AVX512 static void
row_avx512 (const Descent *k,
            RowCache      *c,
            const uint8_t *rows[N_ROWS],
            int            zi,
            int            yi,
            int            x0,
            int            n,
            uint8_t       *out)
{
  FloatRows ch;

  for (int r = 0; r < N_ROWS; r++)
    ch.row[r] = cached_row (k, c, rows[r], zi + r / 3 - 1, yi + r % 3 - 1) + x0;
  ch.centre = rows[4] + (size_t) x0 * (size_t) k->in->bpp;
  if (k->three_d)
    for (int i = 0; i < n; i += 16)
      vector_16 (k, &ch, i, n, out, true);
  else
    for (int i = 0; i < n; i += 16)
      vector_16 (k, &ch, i, n, out, false);
}
#endif

static bool
type_bytes_match (SegComponentType type, int bpp)
{
  return seg_component_size (type) == bpp;
}

SegStatus
seg_descent_direction (const SegVolume  *in,
                       const SegVolume  *out,
                       int               x0,
                       int               y0,
                       int               z0,
                       const SegDescent *d)
{
  Descent k;
  Chunk   ch;
#if SEG_HAVE_AVX512
  RowCache cache;
  bool     floats;
#endif
  SegStatus status = seg_descent_check (d);

  if (status != SEG_OK)
    return status;
  if (in == NULL || out == NULL || seg_volume_check (in) != SEG_OK ||
      seg_volume_check (out) != SEG_OK || out->bpp != 1 || x0 < 0 || y0 < 0 ||
      z0 < 0 || x0 > in->width - out->width || y0 > in->height - out->height ||
      z0 > in->depth - out->depth)
    return SEG_EBADARG;
  if (!type_bytes_match (d->type, in->bpp))
    return SEG_EBADTYPE;

  k.in        = in;
  k.type      = d->type;
  k.three_d   = d->three_d;
  k.n_classes = d->three_d ? 7 : 3;
  for (int c = 1; c < N_CLASSES; c++)
    {
      k.dist[c] = class_distance (d->spacing, c);
      k.inv[c]  = 1 / k.dist[c];
    }
  for (int i = 0; i < CHUNK + 2; i++)
    k.inf_row[i] = INFINITY;
  k.exact_only = false;
  for (int c = 1; c <= k.n_classes; c++)
    k.exact_only |= !(k.dist[c] > 0x1p-100 && k.dist[c] < 0x1p+100);
  for (int c = 0; c < N_CLASSES; c++)
    k.n_members[c] = 0;
  for (int dz = -1; dz <= 1; dz++)
    for (int dy = -1; dy <= 1; dy++)
      for (int dx = -1; dx <= 1; dx++)
        {
          const int c = (dx != 0) | (dy != 0) << 1 | (dz != 0) << 2;
          const int e = k.n_members[c];

          if (c == 0 || (!k.three_d && dz != 0))
            continue;
          k.member_row[c][e] = (dz + 1) * 3 + (dy + 1);
          k.member_dx[c][e]  = dx;
          k.n_members[c]++;
        }
#if SEG_HAVE_AVX512
  floats = takes_floats (d->type) && seg_kernels_avx512 () && !k.exact_only &&
           row_cache_init (&cache, in->width);
#endif

  for (int z = 0; z < out->depth; z++)
    for (int y = 0; y < out->height; y++)
      {
        const int      zi = z0 + z, yi = y0 + y;
        const uint8_t *rows[N_ROWS];
        uint8_t       *dst = (uint8_t *) out->data +
                       (ptrdiff_t) z * out->slice_stride +
                       (ptrdiff_t) y * out->row_stride;

        for (int r = 0; r < N_ROWS; r++)
          {
            const int zz = zi + r / 3 - 1, yy = yi + r % 3 - 1;

            rows[r] = zz >= 0 && zz < in->depth && yy >= 0 && yy < in->height &&
                          (d->three_d || zz == zi)
                        ? (const uint8_t *) in->data +
                            (ptrdiff_t) zz * in->slice_stride +
                            (ptrdiff_t) yy * in->row_stride
                        : NULL;
          }
#if SEG_HAVE_AVX512
        if (floats)
          {
            row_avx512 (&k, &cache, rows, zi, yi, x0, out->width, dst);
            continue;
          }
#endif
        for (int x = 0; x < out->width; x += CHUNK)
          {
            const int n = out->width - x < CHUNK ? out->width - x : CHUNK;

            chunk (&k, &ch, rows, x0 + x, n, dst + x);
          }
      }
#if SEG_HAVE_AVX512
  if (floats)
    free (cache.memory);
#endif
  return SEG_OK;
}
