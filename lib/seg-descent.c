/* SPDX-License-Identifier: LGPL-3.0-or-later
 *
 * Steepest-descent directions: see seg-descent.h for the contract.
 *
 * A voxel's 26 neighbours (8 in 2-D) fall into 7 classes (3 in 2-D) by
 * which axes they step along: x, y, xy, z, xz, yz, xyz.  Neighbours of a
 * class share one distance, and a score falls as the neighbour's value
 * rises (the rounded difference and the rounded quotient are monotonic),
 * so the best neighbour of a class is one of its lowest value.  Classes
 * of one distance (x and y where their spacings are equal, and z too
 * where its spacing is the same) make one group: the lowest of their
 * values, the first index holding it, so that isotropic spacing takes 3
 * groups rather than 7 classes, and x and y alike (as in EM stacks) 5.
 *
 * The lowest values are separable: a group's minimum over slices z ± 1 is
 * the lower of two per-slice minima, and those (over x ± 1, y ± 1 or the
 * four sides, and the four diagonals of a slice) are taken once per input
 * row into a cache that serves every output row around it; output rows
 * are done slab by slab of slices, so that each input row is read about
 * once.  Each output voxel then needs its groups' lowest values from the
 * cache, their scores (the difference multiplied by the inverse
 * distance), the best group and its first lowest neighbour.
 *
 * Where the products could order two groups differently from the exact
 * quotients (they lie within far less than a part in 10¹¹), where a best
 * of zero may hide an underflow, where a score is outside the products'
 * safe range, or where two distinct values of a group could round to one
 * score, the voxel is done again exactly, with the divisions, in index
 * order (exact_label ()).  Integers of 32 bits and less never need the
 * last check: their differences are exact and at least 1 apart.
 *
 * Two paths take these steps:
 *
 *  - the double path, for the other types (double, 32- and 64-bit
 *    integers) where their numbers are not all floats, in double
 *    precision: the cache (RowLows) and the vote over its groups
 *    (vote ()) in GCC's vector extensions (descent-lanes.inc), four
 *    voxels at a time where the CPU has AVX2 (compiled for AVX-512 and
 *    AVX2), two elsewhere;
 *  - the single-precision path, for numbers that are floats exactly
 *    (float, u8, u16, int8, int16; the wider types where every row
 *    around the output holds only floats, as the rows' conversion
 *    checks: a call that meets a row that does not starts again on the
 *    double path): with AVX-512 sixteen at a time in intrinsics
 *    (RowMinima, vector_16 ()), elsewhere eight (AVX2) or four at a
 *    time in GCC's vector extensions (descent-floats.inc).  Its margins
 *    are wider, its fallback the same: vectors where a second group
 *    comes near the best, or with a doubt, are done again (with AVX-512
 *    from the rows with every class, redo_16 (); elsewhere the exact
 *    way).  Around most output rows the doubts of range and of distinct
 *    values rounding together cannot arise: small integers, or floats of
 *    one band of magnitudes (plain_row ()); there the common path leaves
 *    their checks out.  SEG_KERNELS=portable takes the four-float form,
 *    SEG_KERNELS=avx2 the eight-float one.
 */
#include "seg-descent.h"

#include <float.h>
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

/* Slices whose output rows are done together (seg-descent.h); the cached
 * rows around them stay in L2. */
#define SLAB SEG_DESCENT_SLAB

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

/* How vector_16 () takes the classes: each one alone, or those of one
 * distance together (their lowest value, the first index holding it). */
enum
{
  CLASSES, /* the 7 classes (3 in 2-D)                              */
  SIDES,   /* x and y one distance apart: 5 groups (2 in 2-D)       */
  ALL,     /* x, y and z alike (3-D): 3 groups, by the axes stepped */
  Y_Z,     /* y and z alike, not x (3-D): 5 groups                  */
  X_Z      /* x and z alike, not y (3-D): 5 groups                  */
};

/* Whether the groups take lo_y over the four sides (x and y alike), not
 * over y - 1 and y + 1 with the pairs in x apart (lo_x). */
static inline bool
four_sides (int grouping)
{
  return grouping == SIDES || grouping == ALL;
}

/* What every chunk of one call shares. */
typedef struct
{
  const SegVolume *in;
  SegComponentType type;
  bool             three_d;
  double           dist[N_CLASSES], inv[N_CLASSES];
  float            inv_float[N_CLASSES]; /* inv rounded, for redo_16 () */
  /* The first class whose distance is the same double, as a float:
   * classes of one distance as crowded_doubt () compares them (their
   * distances rounded to floats may meet where the doubles do not). */
  float same_distance[N_CLASSES];
  int   n_classes; /* classes 1 … n_classes: 3 in 2-D, 7 */
  /* How vector_16 () groups the classes, and each group's inverse
   * distance rounded to a float. */
  int   grouping;
  float group_inv[N_CLASSES];
  /* Where vector_16 () can leave out the checks of its products' range
   * and of float collisions (see plain_row ()): integers always or never
   * (plain_ints); floats where the magnitudes around an output row lie
   * in [plain_min, plain_max] and within 2¹⁸ of each other. */
  bool  plain_ints;
  float plain_min, plain_max;
  /* The single-precision path takes the numbers as floats of any
   * magnitude (float, and the wider types, whose numbers it takes where
   * they are floats exactly), not as small integers. */
  bool float_numbers;
  /* The double path's functions in the width it takes (DoublePath). */
  const struct DoublePath *path;
  /* Doubles and 64-bit integers, whose distinct values can divide to one
   * score: the double path takes each group's second-lowest value too. */
  bool seconds;
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

/* The row minima a group of classes takes its lowest value from. */
enum
{
  SAME_XY,   /* the voxel at the centre's x and y (planes z ± 1) */
  X_PAIR,    /* lo_x                                             */
  Y_PAIR,    /* lo_y: with SIDES or ALL, the four sides          */
  DIAGONALS, /* lo_xy                                            */
};

/* A group: its class of lowest index (its distance), and the minima it
 * takes, in index order, each as plane (0 … 2: slices z - 1 … z + 1)
 * and minima. */
typedef struct
{
  int cls;
  int n;
  int plane[3], minima[3];
} Group;

/* clang-format off */
#define GROUP_1(CLS, P, M)             { CLS, 1, { P }, { M } }
#define GROUP_2(CLS, P, M, Q, N)       { CLS, 2, { P, Q }, { M, N } }
#define GROUP_3(CLS, P, M, Q, N, R, O) { CLS, 3, { P, Q, R }, { M, N, O } }

static const Group groups_2d[2][N_CLASSES] = {
  [CLASSES] = { GROUP_1 (1, 1, X_PAIR),
                GROUP_1 (2, 1, Y_PAIR),
                GROUP_1 (3, 1, DIAGONALS) },
  [SIDES]   = { GROUP_1 (1, 1, Y_PAIR),
                GROUP_1 (3, 1, DIAGONALS) },
};

static const Group groups_3d[5][N_CLASSES] = {
  [CLASSES] = { GROUP_1 (1, 1, X_PAIR),
                GROUP_1 (2, 1, Y_PAIR),
                GROUP_1 (3, 1, DIAGONALS),
                GROUP_2 (4, 0, SAME_XY, 2, SAME_XY),
                GROUP_2 (5, 0, X_PAIR, 2, X_PAIR),
                GROUP_2 (6, 0, Y_PAIR, 2, Y_PAIR),
                GROUP_2 (7, 0, DIAGONALS, 2, DIAGONALS) },
  [SIDES]   = { GROUP_1 (1, 1, Y_PAIR),
                GROUP_1 (3, 1, DIAGONALS),
                GROUP_2 (4, 0, SAME_XY, 2, SAME_XY),
                GROUP_2 (5, 0, Y_PAIR, 2, Y_PAIR),
                GROUP_2 (7, 0, DIAGONALS, 2, DIAGONALS) },
  [ALL]     = { GROUP_3 (1, 0, SAME_XY, 1, Y_PAIR, 2, SAME_XY),
                GROUP_3 (3, 0, Y_PAIR, 1, DIAGONALS, 2, Y_PAIR),
                GROUP_2 (7, 0, DIAGONALS, 2, DIAGONALS) },
  [Y_Z]     = { GROUP_1 (1, 1, X_PAIR),
                GROUP_3 (2, 0, SAME_XY, 1, Y_PAIR, 2, SAME_XY),
                GROUP_3 (3, 0, X_PAIR, 1, DIAGONALS, 2, X_PAIR),
                GROUP_2 (6, 0, Y_PAIR, 2, Y_PAIR),
                GROUP_2 (7, 0, DIAGONALS, 2, DIAGONALS) },
  [X_Z]     = { GROUP_3 (1, 0, SAME_XY, 1, X_PAIR, 2, SAME_XY),
                GROUP_1 (2, 1, Y_PAIR),
                GROUP_3 (3, 0, Y_PAIR, 1, DIAGONALS, 2, Y_PAIR),
                GROUP_2 (5, 0, X_PAIR, 2, X_PAIR),
                GROUP_2 (7, 0, DIAGONALS, 2, DIAGONALS) },
};
/* clang-format on */

static const int n_groups_2d[2] = { 3, 2 };
static const int n_groups_3d[5] = { 7, 5, 3, 5, 5 };

/* The groups of grouping, and how many. */
static inline const Group *
groups_of (int grouping, bool three_d, int *n)
{
  *n = three_d ? n_groups_3d[grouping] : n_groups_2d[grouping];
  return three_d ? groups_3d[grouping] : groups_2d[grouping];
}

/* The lowest index of a row minima's neighbours in the plane. */
static const int minima_base[] = {
  [SAME_XY] = 4, [X_PAIR] = 3, [Y_PAIR] = 1, [DIAGONALS] = 0
};

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

/* ---- The rows around, each taken once ----------------------------------- */

/* Row yy of slice zz lives in entry (zz mod (SLAB + 2))·3 + yy mod 3, so
 * that the rows around the output rows of a slab in one row (slices
 * zs - 1 … zs + SLAB, rows y - 1 … y + 1) never share one. */
#define CACHED_ROWS ((SLAB + 2) * 3)

/* The widest vectors of the double path (descent-lanes.inc), in doubles. */
#define MAX_LANES 4

/* n rounded up to whole vectors of the widest. */
static inline int
padded (int n)
{
  return (n + MAX_LANES - 1) / MAX_LANES * MAX_LANES;
}

static inline int
cache_slot (int zz, int yy)
{
  return zz % (SLAB + 2) * 3 + yy % 3;
}

/* An input row's numbers and its minima in the slice, in double, over
 * the output's voxels x0 … x0 + n - 1 (the double path).  Each at holds,
 * for its lowest value, the first neighbour in index order holding it, as
 * an offset from the minima's lowest index (minima_base): 0 or 2 in x;
 * 0 or 6 in y, or 0, 2, 4 or 6 for the four sides; 0, 2, 6 or 8 for the
 * diagonals. */
typedef struct
{
  int     zz, yy; /* the input row held; -1: none */
  bool    centred;
  double *v; /* v[j]: voxel x0 - 1 + j, j ≤ n + 1; +∞ outside, for NaN */
  double *lo_x, *at_x;   /* [j]: of voxel x0 + j: its pair in x        */
  double *lo_y, *at_y;   /* in y, or (with sides) the four sides       */
  double *lo_xy, *at_xy; /* the four diagonals                         */
  /* Doubles and 64-bit integers (Descent.seconds): the least value above
   * lo_x, lo_y and lo_xy among the same neighbours, +∞ where none. */
  double *sec_x, *sec_y, *sec_xy;
} RowLows;

typedef struct
{
  RowLows row[CACHED_ROWS];
  RowLows missing; /* a row outside the input: +∞ everywhere */
  double *memory;
} LowsCache;

static bool
lows_cache_init (LowsCache *c, int n)
{
  /* 10 arrays an entry, each on its own cache line: v holds n + 2
   * numbers and the loops read it to padded (n) + 1 */
  const size_t stride = ((size_t) padded (n) + 8 + 7) / 8 * 8;
  const size_t entry  = 10 * stride;

  c->memory = aligned_alloc (64, (CACHED_ROWS + 1) * entry * sizeof (double));
  if (c->memory == NULL)
    return false;
  for (int e = 0; e <= CACHED_ROWS; e++)
    {
      RowLows *m = e < CACHED_ROWS ? &c->row[e] : &c->missing;
      double  *a = c->memory + (size_t) e * entry;

      m->v      = a;
      m->lo_x   = a + stride;
      m->at_x   = a + 2 * stride;
      m->lo_y   = a + 3 * stride;
      m->at_y   = a + 4 * stride;
      m->lo_xy  = a + 5 * stride;
      m->at_xy  = a + 6 * stride;
      m->sec_x  = a + 7 * stride;
      m->sec_y  = a + 8 * stride;
      m->sec_xy = a + 9 * stride;
      m->zz = m->yy = -1;
      m->centred    = false;
    }
  for (size_t i = 0; i < entry; i++)
    c->missing.v[i] = INFINITY;
  for (size_t i = 0; i < stride; i++)
    c->missing.at_x[i] = c->missing.at_y[i] = c->missing.at_xy[i] = 0;
  c->missing.centred = true;
  return true;
}

/* The input rows to prefetch along the vectors of output row (zi, yi),
 * slab zs … ze - 1 (input slices): those its slab fills first at the
 * next step in y, row yi + 2.  Each output row fills the row of slice
 * zi + 1 (in 2-D its own slice's); the slab's first also fills those of
 * slices zs - 1 and zs, whose prefetches go with its second and third
 * output rows, so that no row's vectors carry more than two.  Returns
 * how many. */
static inline int
rows_ahead (
  const Descent *k, int zs, int ze, int zi, int yi, const char *ahead[3])
{
  const SegVolume *in   = k->in;
  const int        last = ze - 1 - zs;
  const char      *row;
  int              n = 0;

  if (yi + 2 >= in->height)
    return 0;
  row = (const char *) in->data + (ptrdiff_t) (yi + 2) * in->row_stride;
  if (!k->three_d)
    {
      ahead[n++] = row + (ptrdiff_t) zi * in->slice_stride;
      return n;
    }
  if (zi + 1 < in->depth)
    ahead[n++] = row + (ptrdiff_t) (zi + 1) * in->slice_stride;
  if (zi - zs == (last < 1 ? last : 1) && zs > 0)
    ahead[n++] = row + (ptrdiff_t) (zs - 1) * in->slice_stride;
  if (zi - zs == (last < 2 ? last : 2))
    ahead[n++] = row + (ptrdiff_t) zs * in->slice_stride;
  return n;
}

/* ---- A chunk ------------------------------------------------------------ */

/* What the vote of a chunk leaves, CHUNK voxels each: labels as doubles,
 * doubts as the lanes' masks. */
typedef struct
{
  double  label[CHUNK];
  int64_t doubt[CHUNK];  /* nonzero: done again exactly               */
  double  centre[CHUNK]; /* a doubted voxel's centre, NaN kept         */
} Chunk;

/* The groups' minima around an output row, from voxel j on: each
 * member's lowest values and offsets (NULL for SAME_XY), and its lowest
 * index (as vector_16 () takes them). */
typedef struct
{
  const double *lo[N_CLASSES][3];
  const double *at[N_CLASSES][3];
  const double *sec[N_CLASSES][3]; /* NULL for SAME_XY */
  double        base[N_CLASSES][3];
} LowSources;

static inline __attribute__ ((always_inline)) LowSources
low_sources (RowLows *const m[N_ROWS], int j, int grouping, bool three_d)
{
  LowSources   s;
  int          n_groups;
  const Group *groups = groups_of (grouping, three_d, &n_groups);

  for (int g = 0; g < n_groups; g++)
    for (int e = 0; e < groups[g].n; e++)
      {
        const RowLows *r      = m[groups[g].plane[e] * 3 + 1];
        const int      minima = groups[g].minima[e];

        s.lo[g][e] = (minima == SAME_XY  ? r->v + 1
                      : minima == X_PAIR ? r->lo_x
                      : minima == Y_PAIR ? r->lo_y
                                         : r->lo_xy) +
                     j;
        s.at[g][e]  = minima == SAME_XY  ? NULL
                      : minima == X_PAIR ? r->at_x + j
                      : minima == Y_PAIR ? r->at_y + j
                                         : r->at_xy + j;
        s.sec[g][e] = minima == SAME_XY  ? NULL
                      : minima == X_PAIR ? r->sec_x + j
                      : minima == Y_PAIR ? r->sec_y + j
                                         : r->sec_xy + j;
        s.base[g][e] =
          (three_d ? groups[g].plane[e] * 9 : 0) + minima_base[minima];
      }
  return s;
}

/* The double path's vector code, in vectors of 4 doubles for AVX2 and
 * AVX-512 and of 2 elsewhere; GCC's note that passing such vectors
 * changes the ABI does not apply to code always inlined.  The wide form
 * exists only where some CPU can run it in AVX2: without clones, for a
 * target without AVX2, it would be SSE2 code slower than the narrow. */
#pragma GCC diagnostic ignored "-Wpsabi"
#if SEG_HAVE_CLONES || defined(__AVX2__)
#define HAVE_WIDE_PATH 1
#else
#define HAVE_WIDE_PATH 0
#endif
#if HAVE_WIDE_PATH
#define V_LANES      4
#define SUFFIX       wide
#define LANES_CLONES SEG_CLONES
#include "descent-lanes.inc"
#endif
#define V_LANES 2
#define SUFFIX  narrow
#define LANES_CLONES
#include "descent-lanes.inc"

/* The double path's functions in one width. */
typedef struct DoublePath
{
  void (*fill) (const Descent *k,
                RowLows       *m,
                const uint8_t *row,
                int            x0,
                int            n,
                int            zz,
                int            yy);
  void (*centre) (const Descent *k,
                  RowLows       *m,
                  const RowLows *up,
                  const RowLows *down,
                  int            n,
                  bool           sides);
  void (*chunk) (const Descent *k,
                 Chunk         *ch,
                 RowLows *const m[N_ROWS],
                 const uint8_t *centre,
                 int            j,
                 int            n,
                 uint8_t       *out);
} DoublePath;

#if HAVE_WIDE_PATH
static const DoublePath path_wide = { fill_lows_wide, centre_lows_wide,
                                      chunk_wide };
#endif
static const DoublePath path_narrow = { fill_lows_narrow, centre_lows_narrow,
                                        chunk_narrow };

/* The entry of input row yy of slice zz (at row, NULL outside the
 * input), filled when it does not hold it. */
static RowLows *
lows_row (const Descent *k,
          LowsCache     *c,
          const uint8_t *row,
          int            x0,
          int            n,
          int            zz,
          int            yy)
{
  RowLows *m;

  if (row == NULL)
    return &c->missing;
  m = &c->row[cache_slot (zz, yy)];
  if (m->zz != zz || m->yy != yy)
    k->path->fill (k, m, row, x0, n, zz, yy);
  return m;
}

/* Output row (zi, yi) of the input, voxels x0 … x0 + n - 1, into out,
 * CHUNK voxels at a time, in the slab of input slices zs … ze - 1; rows:
 * the input rows around it (NULL: none). */
static void
row_double (const Descent *k,
            LowsCache     *c,
            Chunk         *ch,
            const uint8_t *rows[N_ROWS],
            int            zs,
            int            ze,
            int            zi,
            int            yi,
            int            x0,
            int            n,
            uint8_t       *out)
{
  const size_t bpp = (size_t) k->in->bpp;
  RowLows     *m[N_ROWS];
  const char  *ahead[3];
  const int    n_ahead = rows_ahead (k, zs, ze, zi, yi, ahead);

  for (int r = 0; r < N_ROWS; r++)
    m[r] = lows_row (k, c, rows[r], x0, n, zi + r / 3 - 1, yi + r % 3 - 1);
  for (int r = 1; r < N_ROWS; r += 3)
    if (!m[r]->centred)
      k->path->centre (k, m[r], m[r - 1], m[r + 1], n,
                       four_sides (k->grouping));
  for (int j = 0; j < n; j += CHUNK)
    {
      const int here = n - j < CHUNK ? n - j : CHUNK;

      for (int a = 0; a < n_ahead; a++)
        for (size_t b = 0; b < (size_t) here * bpp; b += 64)
          seg_prefetch (ahead[a] + (size_t) (x0 + j) * bpp + b, 3);
      k->path->chunk (k, ch, m, rows[4] + (size_t) (x0 + j) * bpp, j, here,
                      out + j);
    }
}

/* ---- Single precision: the cache and the exact way for both widths ----- */

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

/* Where a centre c lies more than this many times the magnitude of a
 * group's lowest value a above it (|c - a| > FAR·|a|, the difference
 * rounded to a float), another float b of the group may divide to the
 * same double score as a; nearer, it cannot.  b differs from a by at
 * least a float's spacing at a, 2⁻²⁴·|a| or more (a subnormal's too),
 * and the double differences c - a and c - b then lie more than 2⁻⁵⁰ of
 * c - a apart (|c - a| < 2²⁶·|a|, with the float difference's rounding
 * inside the margin), more than the two roundings of the differences
 * and the two of the quotients can close.  A lowest value of zero is
 * always far. */
#define FAR 0x1p25f

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

/* Voxels [0, n) of a row of integers that floats hold exactly (u8, u16,
 * int8, int16) into dst. */
SEG_CLONES static void
read_small_ints (const uint8_t *row, int n, SegComponentType type, float *dst)
{
  const int x = 0; /* READ_NUMBERS's first voxel */

  switch (type)
    {
      READ_NUMBERS (SEG_TYPE_U8, uint8_t)
      READ_NUMBERS (SEG_TYPE_U16, uint16_t)
      READ_NUMBERS (SEG_TYPE_I8, int8_t)
      READ_NUMBERS (SEG_TYPE_I16, int16_t)
    default: return;
    }
}

/* Whether the wider types (double, 32- and 64-bit integers) may hold
 * numbers that are all floats exactly, and so take the single-precision
 * path: they do where every row around an output region does. */
static bool
may_take_floats (SegComponentType type)
{
  return type == SEG_TYPE_DOUBLE || type == SEG_TYPE_I32 ||
         type == SEG_TYPE_U32 || type == SEG_TYPE_I64 || type == SEG_TYPE_U64;
}

/* A case of wide_as_floats (): numbers of C type CTYPE, exact as floats
 * where FITS holds of v. */
#define WIDE_AS_FLOATS(TYPE, CTYPE, FITS)                   \
  case TYPE:                                                \
    for (int i = 0; i < n; i++)                             \
      {                                                     \
        CTYPE v;                                            \
                                                            \
        memcpy (&v, row + (size_t) i * sizeof v, sizeof v); \
        dst[i] = (float) v;                                 \
        missed |= !(FITS);                                  \
      }                                                     \
    break;

/* Voxels [0, n) of a row of a wider type (may_take_floats ()) into dst
 * as floats, NaN kept; returns whether every one is a float exactly
 * (integers: of magnitude 2²⁴ at most, which all are; larger ones are
 * left to the double path, where few are floats). */
SEG_CLONES static bool
wide_as_floats (const uint8_t *row, int n, SegComponentType type, float *dst)
{
  int missed = 0;

  switch (type)
    {
      WIDE_AS_FLOATS (SEG_TYPE_DOUBLE, double, (double) dst[i] == v || v != v)
      WIDE_AS_FLOATS (SEG_TYPE_I32, int32_t, v >= -0x1000000 && v <= 0x1000000)
      WIDE_AS_FLOATS (SEG_TYPE_U32, uint32_t, v <= 0x1000000)
      WIDE_AS_FLOATS (SEG_TYPE_I64, int64_t, v >= -0x1000000 && v <= 0x1000000)
      WIDE_AS_FLOATS (SEG_TYPE_U64, uint64_t, v <= 0x1000000)
    default: return false;
    }
  return missed == 0;
}
#undef WIDE_AS_FLOATS

/* Each input row's minima over its neighbours' positions, converted and
 * taken once: an input row serves the 9 output rows around it, and the
 * minima of a plane's two rows around row y serve the 3 output rows of
 * row y in slices z - 1, z and z + 1.  Every array is indexed by the
 * output voxel x it serves (v by x + 1), with room for a vector's lanes
 * past the row's end; the at arrays hold the offset of the neighbour
 * holding the minimum in the neighbour index, ties to the lower index:
 *
 *   lo_x:  the lower of voxels x - 1 and x + 1;         at_x  0 or 2
 *          (not with SIDES or ALL: they take the pairs from v)
 *   lo_y:  the lower of voxel x of rows yy - 1, yy + 1; at_y  0 or 6
 *          (with SIDES or ALL, of the four sides;        0, 2, 4, 6)
 *   lo_xy: the lowest of the four diagonal voxels;      at_xy 0, 2, 6, 8
 *
 * at is the neighbour's index within the plane, (dy + 1)·3 + (dx + 1),
 * less the lowest one of the array (3, 1 and 0).  lo_y … at_xy are set
 * once the entry is centred: ties go to the lower index. */
typedef struct
{
  int  zz, yy; /* the input row held; -1: none */
  bool centred;
  /* Floats only: the least and greatest magnitude of the row's voxels
   * (+∞ for a NaN or an infinite one); +∞ and 0 for a missing row. */
  float abs_min, abs_max;
  /* A wider type's row holding a number that is not a float: the
   * single-precision path cannot take it. */
  bool     inexact;
  float   *v; /* v[x + 1]: voxel x, +∞ beyond the row and for NaN */
  float   *lo_x, *lo_y, *lo_xy;
  uint8_t *at_x, *at_y, *at_xy;
  /* The same as int32_t, for the vector extensions' path (which GCC
   * cannot widen bytes for well): set where the cache was made for it. */
  int32_t *at32_x, *at32_y, *at32_xy;
} RowMinima;

typedef struct
{
  RowMinima row[CACHED_ROWS];
  RowMinima missing; /* a row outside the input: +∞ everywhere */
  void     *memory;
  uint16_t *redo; /* AVX-512: per vector of an output row, lanes to redo */
  /* The vector extensions' path: per voxel of an output row, its label
   * and whether to redo it (nonzero). */
  int32_t *labels, *redo_lanes;
  /* An entry was filled with a row that held a number not a float
   * (RowMinima.inexact): the call goes to the double path. */
  bool inexact;
  /* Where the loops over an input row start: the output's first voxel
   * x0 less a multiple of 16, -15 … 0, so that they fill the arrays in
   * the vectors the output reads (each on its cache line). */
  int first;
} MinimaCache;

/* v starts this many floats further into its array than the others, so
 * that the voxels of a vector's own column (v + 1 + x, which every
 * output row reads from planes z ± 1) lie on cache lines, as the minima
 * do, rather than across two. */
#define V_SHIFT 15

/* The arrays of an entry, from memory: stride floats each, then stride
 * indices each (bytes, or int32_t where at32); each starts shift entries
 * in (shift = -first), so that the vectors of an output row that starts
 * at x0 lie on cache lines. */
static void
minima_arrays (RowMinima *m, float *memory, size_t stride, int shift, bool at32)
{
  uint8_t *bytes = (uint8_t *) (memory + 4 * stride);
  int32_t *ints  = (int32_t *) (memory + 4 * stride);

  m->v       = memory + V_SHIFT + shift;
  m->lo_x    = memory + stride + shift;
  m->lo_y    = memory + 2 * stride + shift;
  m->lo_xy   = memory + 3 * stride + shift;
  m->at_x    = bytes + shift;
  m->at_y    = bytes + stride + shift;
  m->at_xy   = bytes + 2 * stride + shift;
  m->at32_x  = at32 ? ints + shift : NULL;
  m->at32_y  = at32 ? ints + stride + shift : NULL;
  m->at32_xy = at32 ? ints + 2 * stride + shift : NULL;
  m->zz = m->yy = -1;
  m->centred    = false;
  m->inexact    = false;
}

static void
minima_cache_free (MinimaCache *c)
{
  free (c->memory);
  free (c->redo);
  free (c->labels);
  free (c->redo_lanes);
}

/* The cache for output rows of width voxels from x0 on; at32 for the
 * vector extensions' path. */
static bool
minima_cache_init (MinimaCache *c, int width, int x0, bool at32)
{
  const int shift = (16 - x0 % 16) % 16;
  /* v needs 15 + V_SHIFT + width + 2 + 16 floats at most; a multiple of
   * 16 keeps every array's start on a cache line. */
  const size_t stride = ((size_t) width + 15 + V_SHIFT + 2 + 16 + 15) / 16 * 16;
  /* 4 arrays of floats and 3 of indices, rounded to keep entries
   * aligned */
  const size_t at_size = at32 ? sizeof (int32_t) : 1;
  const size_t entry =
    4 * stride + (3 * stride * at_size / sizeof (float) + 15) / 16 * 16;
  float *memory;

  memory    = aligned_alloc (64, (CACHED_ROWS + 1) * entry * sizeof (float));
  c->memory = memory;
  c->redo   = NULL;
  c->labels = NULL;
  c->redo_lanes = NULL;
  if (at32)
    {
      c->labels     = malloc (((size_t) width + 16) * sizeof (int32_t));
      c->redo_lanes = malloc (((size_t) width + 16) * sizeof (int32_t));
    }
  else
    c->redo = malloc (((size_t) width + 15) / 16 * sizeof (uint16_t));
  if (memory == NULL ||
      (at32 ? c->labels == NULL || c->redo_lanes == NULL : c->redo == NULL))
    {
      minima_cache_free (c);
      return false;
    }
  c->first   = -shift;
  c->inexact = false;
  for (int s = 0; s <= CACHED_ROWS; s++)
    {
      /* What the loops read left of voxel -1 is never used, but set. */
      for (size_t i = 0; i < 16 + V_SHIFT; i++)
        memory[(size_t) s * entry + i] = INFINITY;
      minima_arrays (s < CACHED_ROWS ? &c->row[s] : &c->missing,
                     memory + (size_t) s * entry, stride, shift, at32);
    }
  for (size_t i = 0; i < 4 * stride; i++)
    memory[(size_t) CACHED_ROWS * entry + i] = INFINITY;
  memset (memory + (size_t) CACHED_ROWS * entry + 4 * stride, 0,
          3 * stride * at_size);
  c->missing.centred = true;
  c->missing.abs_min = INFINITY;
  c->missing.abs_max = 0;
  return true;
}

/* The centre i as a float: NaN kept (rows map it to +∞). */
static inline float
centre_at (const Descent *k, const FloatRows *ch, int i)
{
  float  v;
  double d;

  if (k->type == SEG_TYPE_DOUBLE)
    {
      memcpy (&d, ch->centre + (size_t) i * sizeof d, sizeof d);
      return (float) d; /* a float exactly, or NaN */
    }
  if (k->type != SEG_TYPE_FLOAT)
    return ch->row[4][i + 1];
  memcpy (&v, ch->centre + (size_t) i * sizeof v, sizeof v);
  return v;
}

/* The label of voxel i of the chunk, exactly, from its floats. */
static uint8_t
exact_label_of_floats (const Descent *k, const FloatRows *ch, int i)
{
  const float   c = centre_at (k, ch, i);
  double        around[N_ROWS][3];
  const double *rows[N_ROWS];

  if (c != c)
    return (uint8_t) centre_of (k); /* a NaN centre, as exact_label () */
  for (int r = 0; r < N_ROWS; r++)
    {
      for (int dx = 0; dx < 3; dx++)
        around[r][dx] = ch->row[r][i + dx];
      rows[r] = around[r];
    }
  return exact_label (k, rows, 0, c);
}

/* The planes around an output row: the entries of its input row in
 * slices z - 1, z and z + 1 (the missing row where there is none). */
typedef struct
{
  const RowMinima *plane[3]; /* below, here, above */
} Planes;


/* Each group member's arrays of lowest values and of indices around an
 * output row, from voxel x0 on. */
typedef struct
{
  const float *lo[N_CLASSES][3];
  const void  *at[N_CLASSES][3]; /* NULL for SAME_XY */
} GroupArrays;

/* at32: the indices as int32_t, else as bytes. */
static inline __attribute__ ((always_inline)) GroupArrays
group_arrays (const Planes *p, int x0, int grouping, bool three_d, bool at32)
{
  GroupArrays  s;
  int          n_groups;
  const Group *groups = groups_of (grouping, three_d, &n_groups);

#pragma GCC unroll 8
  for (int g = 0; g < n_groups; g++)
#pragma GCC unroll 3
    for (int e = 0; e < groups[g].n; e++)
      {
        const RowMinima *m      = p->plane[groups[g].plane[e]];
        const int        minima = groups[g].minima[e];

        s.lo[g][e] = (minima == SAME_XY  ? m->v + 1
                      : minima == X_PAIR ? m->lo_x
                      : minima == Y_PAIR ? m->lo_y
                                         : m->lo_xy) +
                     x0;
        if (at32)
          s.at[g][e] = minima == SAME_XY  ? NULL
                       : minima == X_PAIR ? m->at32_x + x0
                       : minima == Y_PAIR ? m->at32_y + x0
                                          : m->at32_xy + x0;
        else
          s.at[g][e] = minima == SAME_XY  ? NULL
                       : minima == X_PAIR ? m->at_x + x0
                       : minima == Y_PAIR ? m->at_y + x0
                                          : m->at_xy + x0;
      }
  return s;
}


/* Whether the output row whose input rows are m is plain: no product
 * of vector_16 () can leave the safe range (0 or 2⁻¹⁰⁰ … 2¹⁰⁰), underflow
 * or, for floats, belong to two different values of a group.  Integers
 * (of 16 bits at most) differ by 0 or 1 … 2¹⁷, so their products lie in
 * range where plain_ints says so.  Floats are plain where every number
 * around the row (the centre among them) is finite, and zero or of a
 * magnitude in [plain_min, plain_max], those magnitudes within 2¹⁸ of
 * each other: then a difference is 0 or at least the least nonzero
 * magnitude × 2⁻²⁵ (a multiple of the smaller number's last place, or a
 * number itself where the other is zero) and at most twice the
 * greatest, and two distinct values of a group differ by at least 2⁻⁴⁴
 * of the centre's difference to either, so that their quotients never
 * round to one double (the doubt vector_16 () takes, outside plain
 * rows, as a centre far above its lowest value).  Zeros are backgrounds
 * of masked volumes: plateaus, which the common path settles. */
static inline bool
plain_row (const Descent *k, RowMinima *const m[N_ROWS])
{
  float lo = INFINITY, hi = 0;

  if (!k->float_numbers)
    return k->plain_ints;
  for (int r = 0; r < N_ROWS; r++)
    {
      lo = m[r]->abs_min < lo ? m[r]->abs_min : lo;
      hi = m[r]->abs_max > hi ? m[r]->abs_max : hi;
    }
  return lo >= k->plain_min && hi <= k->plain_max && hi <= 0x1p18f * lo;
}


/* A positive bound as a float, +∞ where it is beyond floats. */
static float
float_bound (double b)
{
  return b > FLT_MAX ? INFINITY : (float) b;
}

/* Where a float row's reader (read_float_row ()) takes the numbers of
 * input row `row` from, for an entry whose numbers go to v: the row
 * itself for floats; for a wider type, its numbers converted into v + 1,
 * where the reader puts them back in place, and *inexact set where one
 * is not a float exactly. */
static inline const uint8_t *
float_source (const Descent *k, const uint8_t *row, float *v, bool *inexact)
{
  if (k->type == SEG_TYPE_FLOAT)
    return row;
  *inexact = !wide_as_floats (row, k->in->width, k->type, v + 1);
  return (const uint8_t *) (v + 1);
}

/* How a form of the single-precision path fills an entry with an input
 * row, and centres it (fill_row (), centre_row ()). */
typedef void (*FillRow) (const Descent *k,
                         RowMinima     *m,
                         int            first,
                         const uint8_t *row,
                         int            zz,
                         int            yy);
typedef void (*CentreRow) (RowMinima       *m,
                           const RowMinima *up,
                           const RowMinima *down,
                           int              first,
                           int              width,
                           bool             sides);

/* The entry of input row yy of slice zz (at row, NULL outside the
 * input), filled when it does not hold it. */
static inline __attribute__ ((always_inline)) RowMinima *
cached_row (const Descent *k,
            MinimaCache   *c,
            FillRow        fill,
            const uint8_t *row,
            int            zz,
            int            yy)
{
  RowMinima *m;

  if (row == NULL)
    return &c->missing;
  m = &c->row[cache_slot (zz, yy)];
  if (m->zz != zz || m->yy != yy)
    {
      fill (k, m, c->first, row, zz, yy);
      c->inexact |= m->inexact;
    }
  return m;
}

/* The entries around output row (zi, yi), from the input rows around it
 * (NULL: none), filled and centred where they are not yet; the rows from
 * voxel x0 on into ch and the planes into p.  Returns whether the row is
 * plain (plain_row ()). */
static inline __attribute__ ((always_inline)) bool
rows_ready (const Descent *k,
            MinimaCache   *c,
            FillRow        fill,
            CentreRow      centre,
            const uint8_t *rows[N_ROWS],
            int            zi,
            int            yi,
            int            x0,
            FloatRows     *ch,
            Planes        *p)
{
  RowMinima *m[N_ROWS];

  for (int r = 0; r < N_ROWS; r++)
    {
      m[r] = cached_row (k, c, fill, rows[r], zi + r / 3 - 1, yi + r % 3 - 1);
      ch->row[r] = m[r]->v + x0;
    }
  for (int r = 1; r < N_ROWS; r += 3)
    if (!m[r]->centred)
      centre (m[r], m[r - 1], m[r + 1], c->first, k->in->width,
              four_sides (k->grouping));
  ch->centre  = rows[4] + (size_t) x0 * (size_t) k->in->bpp;
  p->plane[0] = m[1];
  p->plane[1] = m[4];
  p->plane[2] = m[7];
  return plain_row (k, m);
}

/* What the loops over an output row ask for at its voxel i, once per 16
 * voxels: the bytes at offset of each of the n rows ahead, into all the
 * caches (a line of each per 16 voxels, so that the prefetches never
 * queue up as a whole row's at once did; a prefetch past the input is
 * harmless), and every 64 voxels the output row done next (NULL: none). */
static inline __attribute__ ((always_inline)) void
prefetch_ahead (
  const char *const *ahead, int n, size_t offset, uint8_t *next_out, int i)
{
  for (int a = 0; a < n; a++)
    seg_prefetch (ahead[a] + offset, 3);
  if (next_out != NULL && (i & 63) == 0)
    seg_prefetch_write (next_out + i);
}

/* The single-precision path in GCC's vector extensions, for CPUs
 * without AVX-512: eight floats a vector where the CPU has AVX2, four
 * elsewhere (HAVE_WIDE_PATH as for the double path). */
#if HAVE_WIDE_PATH
#define F_LANES  8
#define F_SUFFIX wide
/* Only CPUs with AVX2 and without AVX-512 take it: compiled for AVX2
 * alone, types included (in clones, GCC 12 handled the 32-byte vector
 * types declared for the baseline target partly lane by lane). */
#if SEG_HAVE_CLONES
#pragma GCC push_options
#pragma GCC target("avx2")
#endif
#include "descent-floats.inc"
#if SEG_HAVE_CLONES
#pragma GCC pop_options
#endif
#endif
#define F_LANES  4
#define F_SUFFIX narrow
#include "descent-floats.inc"

/* ---- Sixteen voxels at a time in single precision (AVX-512) ------------ */

#if SEG_HAVE_AVX512
/* The lanes of voxels i … i + 15 (n in the row) to store. */
static inline __mmask16
lanes_16 (int i, int n)
{
  return n - i >= 16 ? (__mmask16) 0xffff : (__mmask16) ((1u << (n - i)) - 1);
}

/* The lower of b and a in each lane (a on ties), and where it is b. */
SEG_AVX512 static inline __attribute__ ((always_inline)) __mmask16
lower_16 (__m512 a, __m512 b, __m512 *low)
{
  *low = _mm512_min_ps (b, a);
  return _mm512_cmp_ps_mask (b, a, _CMP_LT_OQ);
}

/* Vectors of a row's numbers (v[x + 1]: voxel x) before (last), at
 * (here) and after (next) voxels x … x + 15, each read once, on its
 * cache line, as a loop goes along the row from voxel first;
 * window_left () and window_right () give the voxels beside them by lane
 * shifts. */
typedef struct
{
  const float *v;
  __m512       last, here, next;
} Window;

SEG_AVX512 static inline __attribute__ ((always_inline)) Window
window_at (const float *v, int first)
{
  Window w;

  w.v    = v;
  w.last = _mm512_set1_ps (INFINITY); /* voxels left of voxel -1 */
  w.here = _mm512_load_ps (v + first + 1);
  w.next = w.here;
  return w;
}

/* The vector after voxels x … x + 15. */
SEG_AVX512 static inline __attribute__ ((always_inline)) void
window_load (Window *w, int x)
{
  w->next = _mm512_load_ps (w->v + x + 17);
}

/* Voxels x - 1 … x + 14. */
SEG_AVX512 static inline __attribute__ ((always_inline)) __m512
window_left (const Window *w)
{
  return _mm512_castsi512_ps (_mm512_alignr_epi32 (
    _mm512_castps_si512 (w->here), _mm512_castps_si512 (w->last), 15));
}

/* Voxels x + 1 … x + 16. */
SEG_AVX512 static inline __attribute__ ((always_inline)) __m512
window_right (const Window *w)
{
  return _mm512_castsi512_ps (_mm512_alignr_epi32 (
    _mm512_castps_si512 (w->next), _mm512_castps_si512 (w->here), 1));
}

/* On to voxels x + 16 … x + 31. */
SEG_AVX512 static inline __attribute__ ((always_inline)) void
window_step (Window *w)
{
  w->last = w->here;
  w->here = w->next;
}

/* Voxels 0 … width - 1 of a float row into v[1 …], NaN as +∞ (v[0]
 * +∞, and up to a vector past the row set), and the least of their
 * magnitudes but zero (+∞ for a row of zeros) and the greatest. */
SEG_AVX512 static void
read_float_row (
  const uint8_t *row, int width, float *v, float *abs_min, float *abs_max)
{
  const __m512 inf = _mm512_set1_ps (INFINITY);
  /* The least magnitude but zero, as its bits less one, unsigned: zero
   * becomes the greatest and never counts. */
  __m512i  lo = _mm512_set1_epi32 (-1);
  __m512   hi = _mm512_setzero_ps ();
  uint32_t least;

  v[0] = INFINITY;
  for (int x = 0; x < width; x += 16)
    {
      const __mmask16 lanes = lanes_16 (x, width);
      __m512          f =
        _mm512_maskz_loadu_ps (lanes, row + (size_t) x * sizeof (float));

      f = _mm512_mask_mov_ps (f, _mm512_cmp_ps_mask (f, f, _CMP_UNORD_Q), inf);
      _mm512_storeu_ps (v + 1 + x, f);
      f  = _mm512_abs_ps (f);
      lo = _mm512_mask_min_epu32 (
        lo, lanes, lo,
        _mm512_sub_epi32 (_mm512_castps_si512 (f), _mm512_set1_epi32 (1)));
      hi = _mm512_mask_max_ps (hi, lanes, hi, f);
    }
  least = _mm512_reduce_min_epu32 (lo);
  if (least == UINT32_MAX)
    *abs_min = INFINITY;
  else
    {
      least++;
      memcpy (abs_min, &least, sizeof least);
    }
  *abs_max = _mm512_reduce_max_ps (hi);
}

/* Entry m becomes input row yy of slice zz (at row): its voxels as
 * floats (up to a vector past the row's end, so that a vector that
 * starts anywhere in the row reads no unset lane) and, where the common
 * path takes the pairs in x alone (not four_sides ()), lo_x and at_x. */
SEG_AVX512 static void
fill_row (
  const Descent *k, RowMinima *m, int first, const uint8_t *row, int zz, int yy)
{
  const int width   = k->in->width;
  float *restrict v = m->v, *restrict lo_x = m->lo_x;
  uint8_t *restrict at_x = m->at_x;

  if (k->float_numbers)
    read_float_row (float_source (k, row, v, &m->inexact), width, v,
                    &m->abs_min, &m->abs_max);
  else
    {
      v[0] = INFINITY;
      read_small_ints (row, width, k->type, v + 1);
    }
  for (int x = width + 1; x < width + 18; x++)
    v[x] = INFINITY;
  if (!four_sides (k->grouping))
    {
      Window w = window_at (v, first);

      for (int x = first; x <= width; x += 16)
        {
          __m512    low;
          __mmask16 right;

          window_load (&w, x);
          right = lower_16 (window_left (&w), window_right (&w), &low);
          _mm512_store_ps (lo_x + x, low);
          _mm_store_si128 ((__m128i *) (at_x + x),
                           _mm_maskz_mov_epi8 (right, _mm_set1_epi8 (2)));
          window_step (&w);
        }
    }
  m->zz      = zz;
  m->yy      = yy;
  m->centred = false;
}

/* lo_y … at_xy of entry m, from its own voxels and those of the rows
 * above (up, yy - 1) and below (down, yy + 1) it, each neighbour taken
 * in index order where it is lower, so that ties stay with the earlier;
 * lo_y the lowest of the four sides where sides.  The voxels beside a
 * vector's come from the rows' numbers by lane shifts: the rows' lo_x,
 * an array more to read, would come from L2. */
SEG_AVX512 static inline __attribute__ ((always_inline)) void
centre_row (RowMinima       *m,
            const RowMinima *up,
            const RowMinima *down,
            int              first,
            int              width,
            bool             sides)
{
  float *restrict lo_y = m->lo_y, *restrict lo_xy = m->lo_xy;
  uint8_t *restrict at_y = m->at_y, *restrict at_xy = m->at_xy;
  Window above = window_at (up->v, first), below = window_at (down->v, first),
         own = window_at (m->v, first);

  for (int x = first; x <= width; x += 16)
    {
      __m512    low;
      __mmask16 lower;
      __m128i   at;

      window_load (&above, x);
      window_load (&below, x);
      /* The sides: y - 1 (0), x - 1 (2), x + 1 (4), y + 1 (6); without
       * sides, y - 1 and y + 1 only. */
      low = above.here;
      at  = _mm_setzero_si128 ();
      if (sides)
        {
          window_load (&own, x);
          lower = lower_16 (low, window_left (&own), &low);
          at    = _mm_mask_mov_epi8 (at, lower, _mm_set1_epi8 (2));
          lower = lower_16 (low, window_right (&own), &low);
          at    = _mm_mask_mov_epi8 (at, lower, _mm_set1_epi8 (4));
          window_step (&own);
        }
      lower = lower_16 (low, below.here, &low);
      at    = _mm_mask_mov_epi8 (at, lower, _mm_set1_epi8 (6));
      _mm512_store_ps (lo_y + x, low);
      _mm_store_si128 ((__m128i *) (at_y + x), at);

      /* The diagonals: (y - 1, x - 1) (0), (y - 1, x + 1) (2),
       * (y + 1, x - 1) (6), (y + 1, x + 1) (8). */
      lower = lower_16 (window_left (&above), window_right (&above), &low);
      at    = _mm_maskz_mov_epi8 (lower, _mm_set1_epi8 (2));
      lower = lower_16 (low, window_left (&below), &low);
      at    = _mm_mask_mov_epi8 (at, lower, _mm_set1_epi8 (6));
      lower = lower_16 (low, window_right (&below), &low);
      at    = _mm_mask_mov_epi8 (at, lower, _mm_set1_epi8 (8));
      _mm512_store_ps (lo_xy + x, low);
      _mm_store_si128 ((__m128i *) (at_xy + x), at);
      window_step (&above);
      window_step (&below);
    }
  m->centred = true;
}

/* centre_row () with sides a constant in each call. */
SEG_AVX512 static void
centre_row_by (RowMinima       *m,
               const RowMinima *up,
               const RowMinima *down,
               int              first,
               int              width,
               bool             sides)
{
  if (sides)
    centre_row (m, up, down, first, width, true);
  else
    centre_row (m, up, down, first, width, false);
}

/* low and at become b and b_at in the lanes where b is lower. */
SEG_AVX512 static inline __attribute__ ((always_inline)) void
take_lower_16 (__m512 *low, __m512i *at, __m512 b, __m512i b_at)
{
  const __mmask16 lower = _mm512_cmp_ps_mask (b, *low, _CMP_LT_OQ);

  *low = _mm512_mask_blend_ps (lower, *low, b);
  *at  = _mm512_mask_blend_epi32 (lower, *at, b_at);
}

/* The index of neighbour (dz, dy, dx) in every lane. */
SEG_AVX512 static inline __attribute__ ((always_inline)) __m512i
index_16 (bool three_d, int dz, int dy, int dx)
{
  return _mm512_set1_epi32 (three_d ? (dz + 1) * 9 + (dy + 1) * 3 + (dx + 1)
                                    : (dy + 1) * 3 + (dx + 1));
}

/* Lanes whose centre lies so far above a group's lowest value that
 * another value of the group may divide to the same score (FAR). */
SEG_AVX512 static inline __attribute__ ((always_inline)) __mmask16
far_centre_16 (__m512 diff, __m512 low)
{
  return ~_mm512_cmp_ps_mask (
    _mm512_abs_ps (diff),
    _mm512_mul_ps (_mm512_abs_ps (low), _mm512_set1_ps (FAR)), _CMP_LE_OQ);
}

/* The doubts of lanes where classes crowd the best: a class beside it
 * that the products cannot order (one at another distance, or, where
 * the centre is far, at the same), or one tied with it where the tie is
 * not certain (certain are zero differences, a float difference being
 * zero only between equal numbers, and equal lowest values at one
 * distance: the same difference, divided alike); a tied product that
 * underflowed to zero; for floats, where checked (the row is not plain:
 * plain_row ()), a tied class whose centre is far above its lowest
 * value. */
SEG_AVX512 static inline __attribute__ ((always_inline)) __mmask16
crowded_doubt (const Descent *k,
               bool           three_d,
               bool           checked,
               const __m512  *score,
               const __m512  *diff,
               const __m512  *low,
               __m512         best,
               __mmask16      nonneg)
{
  const int    n_classes = three_d ? 7 : 3;
  const __m512 zero      = _mm512_setzero_ps ();
  __m512       first_low = zero, first_class = zero, first_diff = zero;
  __mmask16    first_set = 0, doubt = 0, far = 0;

  /* The first class tied at the best: a class near it at the same
   * distance has a higher lowest value, and the products order the two
   * as the quotients do, unless those may meet (far_centre_16 ()). */
  for (int cl = 1; cl <= n_classes; cl++)
    {
      const __mmask16 first =
        _mm512_cmp_ps_mask (score[cl], best, _CMP_EQ_OQ) & ~first_set;

      first_low   = _mm512_mask_blend_ps (first, first_low, low[cl]);
      first_diff  = _mm512_mask_blend_ps (first, first_diff, diff[cl]);
      first_class = _mm512_mask_blend_ps (
        first, first_class, _mm512_set1_ps (k->same_distance[cl]));
      first_set |= first;
    }
  if (k->float_numbers && checked)
    far = far_centre_16 (first_diff, first_low);
  for (int cl = 1; cl <= n_classes; cl++)
    {
      const __m512    cls  = _mm512_set1_ps (k->same_distance[cl]);
      const __mmask16 tied = _mm512_cmp_ps_mask (score[cl], best, _CMP_EQ_OQ);
      const __mmask16 near =
        ~tied &
        _mm512_cmp_ps_mask (_mm512_sub_ps (best, score[cl]),
                            _mm512_mul_ps (best, _mm512_set1_ps (NEAR_FLOAT)),
                            _CMP_LE_OQ);
      const __mmask16 same = _mm512_cmp_ps_mask (cls, first_class, _CMP_EQ_OQ);
      const __mmask16 sure =
        _mm512_cmp_ps_mask (best, zero, _CMP_EQ_OQ) |
        (_mm512_cmp_ps_mask (low[cl], first_low, _CMP_EQ_OQ) & same);
      const __mmask16 lost = tied &
                             _mm512_cmp_ps_mask (score[cl], zero, _CMP_EQ_OQ) &
                             _mm512_cmp_ps_mask (diff[cl], zero, _CMP_NEQ_OQ);

      doubt |= lost | (nonneg & ((near & (~same | far)) | (tied & ~sure)));
      if (k->float_numbers && checked)
        doubt |= nonneg & tied & far_centre_16 (diff[cl], low[cl]);
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

/* The centres of voxels i … i + 15: a float row's own (with its NaNs;
 * masked, so as not to read past the row), other rows' from the cache. */
SEG_AVX512 static inline __attribute__ ((always_inline)) __m512
centre_16 (const Descent *k, const FloatRows *ch, int i, __mmask16 lanes)
{
  return k->type == SEG_TYPE_FLOAT
           ? _mm512_maskz_loadu_ps (lanes,
                                    ch->centre + (size_t) i * sizeof (float))
           : _mm512_loadu_ps (ch->row[4] + i + 1);
}

/* The lanes of voxels i … i + 15 whose own number is NaN (the cache
 * holds +∞ for it): float and double centres, read with masks; integers
 * have none. */
SEG_AVX512 static inline __attribute__ ((always_inline)) __mmask16
nan_centres_16 (const Descent *k, const FloatRows *ch, int i, __mmask16 lanes)
{
  const uint8_t *p = ch->centre + (size_t) i * (size_t) k->in->bpp;

  if (k->type == SEG_TYPE_FLOAT)
    {
      const __m512 v = _mm512_maskz_loadu_ps (lanes, p);

      return _mm512_cmp_ps_mask (v, v, _CMP_UNORD_Q);
    }
  if (k->type == SEG_TYPE_DOUBLE)
    {
      const __m512d low = _mm512_maskz_loadu_pd ((__mmask8) lanes, p);
      const __m512d high =
        _mm512_maskz_loadu_pd ((__mmask8) (lanes >> 8), p + 64);

      return (
        __mmask16) (_mm512_cmp_pd_mask (low, low, _CMP_UNORD_Q) |
                    (unsigned) _mm512_cmp_pd_mask (high, high, _CMP_UNORD_Q)
                      << 8);
    }
  return 0;
}

/* Lanes whose best product is above zero but outside the products' safe
 * range. */
SEG_AVX512 static inline __attribute__ ((always_inline)) __mmask16
out_of_range_16 (__m512 best)
{
  return _mm512_cmp_ps_mask (best, _mm512_setzero_ps (), _CMP_GT_OQ) &
         ~(_mm512_cmp_ps_mask (best, _mm512_set1_ps (0x1p-100f), _CMP_GT_OQ) &
           _mm512_cmp_ps_mask (best, _mm512_set1_ps (0x1p+100f), _CMP_LT_OQ));
}

/* Labels of voxels i … i + 15 into out: the centre where no score is zero
 * or more or the centre is NaN. */
SEG_AVX512 static inline __attribute__ ((always_inline)) void
store_16 (uint8_t  *out,
          __mmask16 lanes,
          __m512    c,
          __mmask16 nonneg,
          __m512i   label,
          bool      three_d)
{
  const __mmask16 centre = ~nonneg | _mm512_cmp_ps_mask (c, c, _CMP_UNORD_Q);

  label = _mm512_mask_blend_epi32 (centre, label,
                                   _mm512_set1_epi32 (three_d ? 13 : 4));
  _mm512_mask_cvtepi32_storeu_epi8 (out, lanes, label);
}

/* As store_16 (), the labels as bytes, for centres from the cache (never
 * NaN: vector_16 () redoes those it cannot take as +∞). */
SEG_AVX512 static inline __attribute__ ((always_inline)) void
store_bytes_16 (
  uint8_t *out, __mmask16 lanes, __mmask16 nonneg, __m128i label, bool three_d)
{
  label =
    _mm_mask_blend_epi8 (~nonneg, label, _mm_set1_epi8 (three_d ? 13 : 4));
  if (lanes == 0xffff)
    _mm_storeu_si128 ((__m128i *) out, label);
  else
    _mm_mask_storeu_epi8 (out, lanes, label);
}

/* Voxels i … i + 15 again, every class from the rows, where vector_16 ()
 * found classes crowding the best or a doubt: the doubts of
 * crowded_doubt (), the label the first index over the classes tied at
 * the best, and the lanes in doubt done exactly; checked as for
 * vector_16 ().  Out of the common path. */
SEG_AVX512 __attribute__ ((noinline)) static void
redo_16 (const Descent   *k,
         const FloatRows *ch,
         int              i,
         int              n,
         uint8_t         *out,
         bool             three_d,
         bool             checked)
{
  const int       n_classes = three_d ? 7 : 3;
  const __mmask16 lanes     = lanes_16 (i, n);
  const __m512    c         = centre_16 (k, ch, i, lanes);
  __m512          low[N_CLASSES], diff[N_CLASSES], score[N_CLASSES];
  __m512          best = _mm512_set1_ps (-INFINITY);
  __m512i         low_at[N_CLASSES], label;
  __mmask16       nonneg, doubt;

  for (int cl = 1; cl <= n_classes; cl++)
    {
      class_low_16 (ch, cl, i, three_d, &low[cl], &low_at[cl]);
      diff[cl]  = _mm512_sub_ps (c, low[cl]);
      score[cl] = _mm512_mul_ps (diff[cl], _mm512_set1_ps (k->inv_float[cl]));
      best      = _mm512_max_ps (score[cl], best);
    }
  nonneg = _mm512_cmp_ps_mask (best, _mm512_setzero_ps (), _CMP_GE_OQ);
  doubt  = out_of_range_16 (best) |
          crowded_doubt (k, three_d, checked, score, diff, low, best, nonneg);
  label = crowded_label (three_d, score, low_at, best, _mm512_setzero_si512 (),
                         0xffff);
  store_16 (out + i, lanes, c, nonneg, label, three_d);
  for (unsigned d = doubt & lanes; d != 0; d &= d - 1)
    {
      const int lane = __builtin_ctz (d);

      out[i + lane] = exact_label_of_floats (k, ch, i + lane);
    }
}

/* Sixteen bytes from p. */
SEG_AVX512 static inline __attribute__ ((always_inline)) __m128i
bytes_16 (const uint8_t *p)
{
  return _mm_loadu_si128 ((const __m128i *) p);
}

/* Where a row's groups take their minima from: the groups' inverse
 * distances and each member's arrays (group_arrays ()).  vectors ()
 * copies them out of the cache's entries before its loop: the labels are
 * stored as bytes, which may alias anything, so that the compiler would
 * otherwise load every pointer again for each vector. */
typedef struct
{
  GroupArrays a;
  __m512      inv[N_CLASSES];
} Sources;

/* The sources of the groups of grouping around an output row from voxel
 * x0 on. */
SEG_AVX512 static inline __attribute__ ((always_inline)) Sources
sources_of (
  const Descent *k, const Planes *p, int x0, int grouping, bool three_d)
{
  Sources s;
  int     n_groups;

  groups_of (grouping, three_d, &n_groups);
  s.a = group_arrays (p, x0, grouping, three_d, false);
#pragma GCC unroll 8
  for (int g = 0; g < n_groups; g++)
    s.inv[g] = _mm512_set1_ps (k->group_inv[g]);
  return s;
}

/* Group g's lowest value over voxels i … i + 15 of the row and the index
 * of the first neighbour holding it: the minima in index order, the
 * earlier on ties. */
SEG_AVX512 static inline __attribute__ ((always_inline)) void
group_low_16 (const Group   *g,
              const Sources *s,
              int            gi,
              int            i,
              bool           three_d,
              __m512        *low,
              __m128i       *at)
{
#pragma GCC unroll 3
  for (int e = 0; e < g->n; e++)
    {
      const int base =
        (three_d ? g->plane[e] * 9 : 0) + minima_base[g->minima[e]];
      const __m128i b = _mm_set1_epi8 ((char) base);
      const __m512  v = _mm512_loadu_ps (s->a.lo[gi][e] + i);

      if (e == 0)
        {
          *low = v;
          *at  = g->minima[e] == SAME_XY
                   ? b
                   : _mm_add_epi8 (
                       bytes_16 ((const uint8_t *) s->a.at[gi][e] + i), b);
        }
      else
        {
          const __mmask16 lower = lower_16 (*low, v, low);

          *at = g->minima[e] == SAME_XY
                  ? _mm_mask_mov_epi8 (*at, lower, b)
                  : _mm_mask_add_epi8 (
                      *at, lower,
                      bytes_16 ((const uint8_t *) s->a.at[gi][e] + i), b);
        }
    }
}

/* Labels of voxels i … i + 15 of the row into out (the lanes past n are
 * not stored); returns the lanes to redo.  grouping, three_d and checked
 * are constants where inlined, so that the groups unroll and their
 * vectors stay in registers; without checked, the row is plain
 * (plain_row ()), and the doubts below cannot arise. */
SEG_AVX512 static inline __attribute__ ((always_inline)) __mmask16
vector_16 (const Descent   *k,
           const FloatRows *ch,
           const Sources   *s,
           int              i,
           int              n,
           uint8_t         *out,
           int              grouping,
           bool             three_d,
           bool             checked,
           bool             full)
{
  const __m512    zero  = _mm512_setzero_ps ();
  const __mmask16 lanes = full ? (__mmask16) 0xffff : lanes_16 (i, n);
  /* The centres from the cache, NaN as +∞: a NaN centre with a neighbour
   * scores +∞, out of the products' range, and is redone from its own
   * number; with none, it is the centre either way. */
  const __m512 c = _mm512_loadu_ps (ch->row[4] + i + 1);
  int          n_groups;
  const Group *groups = groups_of (grouping, three_d, &n_groups);
  __m512       score[N_CLASSES], low[N_CLASSES];
  __m128i      at[N_CLASSES]; /* neighbour indices, as bytes */
  __m512       best  = _mm512_set1_ps (-INFINITY), diff, thresh, best_low;
  __m128i      label = _mm_set1_epi8 (127);
  __mmask16    doubt, nonneg, flat, inf_centres, any = 0, two = 0;
  __mmask16    equal = 0xffff; /* lanes whose near groups' lowest is c */

  /* Steps 2 and 3: each group's lowest value from the cache, and its
   * product; a NaN product never counts. */
#pragma GCC unroll 8
  for (int g = 0; g < n_groups; g++)
    {
      group_low_16 (&groups[g], s, g, i, three_d, &low[g], &at[g]);
      score[g] = _mm512_mul_ps (_mm512_sub_ps (c, low[g]), s->inv[g]);
      best     = _mm512_max_ps (score[g], best);
    }

  /* Step 4: the groups near the best (within the products' error); where
   * there is one, it is the best and gives the label and the lowest value
   * the doubts below need.  Where several tie at a best of zero, the
   * least of their indices is the label (below). */
  thresh   = _mm512_fnmadd_ps (best, _mm512_set1_ps (NEAR_FLOAT), best);
  best_low = zero;
#pragma GCC unroll 8
  for (int g = 0; g < n_groups; g++)
    {
      const __mmask16 near = _mm512_cmp_ps_mask (score[g], thresh, _CMP_GE_OQ);

      label = _mm_mask_min_epu8 (label, near, label, at[g]);
      if (checked)
        {
          best_low = _mm512_mask_mov_ps (best_low, near, low[g]);
          equal &= ~near | _mm512_cmp_ps_mask (low[g], c, _CMP_EQ_OQ);
        }
      two |= any & near;
      any |= near;
    }

  /* Doubt: a best of zero or more outside the products' safe range, or
   * one that underflowed to zero and lost its sign; for floats, a centre
   * far (FAR times) above the best group's lowest value, where two
   * different floats of the group can round to one score (small integers
   * never can). */
  nonneg = _mm512_cmp_ps_mask (best, zero, _CMP_GE_OQ);
  /* Flat: a best of zero whose near groups all have the centre's value
   * as their lowest, as on plateaus.  No neighbour lies below the
   * centre, those groups tie at zero exactly, and each gives the first
   * index holding that value: the least of them is the label, and there
   * is nothing to redo.  In a plain row no product of a nonzero
   * difference is zero, so a best of zero is flat; elsewhere a product
   * may have underflowed, and the lowest values are compared. */
  flat = _mm512_cmp_ps_mask (best, zero, _CMP_EQ_OQ) & equal;
  if (!checked)
    {
      store_bytes_16 (out + i, lanes, nonneg, label, three_d);
      return two & nonneg & ~flat & lanes;
    }
  diff  = _mm512_sub_ps (c, best_low);
  doubt = out_of_range_16 (best);
  doubt |= _mm512_cmp_ps_mask (best, zero, _CMP_EQ_OQ) &
           _mm512_cmp_ps_mask (diff, zero, _CMP_NEQ_OQ);
  if (k->float_numbers)
    doubt |= nonneg & far_centre_16 (diff, best_low);
  /* NaN centres, +∞ in the cache, score +∞ where they have a neighbour
   * (doubts of range): their label is the centre, settled here rather
   * than redone.  Rows with one are never plain. */
  inf_centres =
    _mm512_cmp_ps_mask (c, _mm512_set1_ps (INFINITY), _CMP_EQ_OQ) & lanes;
  if (inf_centres != 0)
    {
      const __mmask16 nan = inf_centres & nan_centres_16 (k, ch, i, lanes);

      nonneg &= ~nan;
      doubt &= ~nan;
    }
  store_bytes_16 (out + i, lanes, nonneg, label, three_d);
  /* Lanes where a second group comes near the best or ties it (there the
   * products may misorder the groups, and the label is the first index
   * over all the classes tied), but for flat ones, or in doubt (flat
   * ones never are): for redo_16 (). */
  return ((two & nonneg & ~flat) | doubt) & lanes;
}


/* The labels of an output row, from voxel x0 on: vector_16 () on every
 * vector, then redo_16 () on those it left.  ahead: the input rows whose
 * lines go to the cache alongside, next_out the output row done next
 * (NULL: none). */
SEG_AVX512 static inline __attribute__ ((always_inline)) void
vectors (const Descent     *k,
         MinimaCache       *c,
         const FloatRows   *ch,
         const Planes      *p,
         const char *const *ahead,
         int                n_ahead,
         uint8_t           *next_out,
         int                x0,
         int                n,
         uint8_t           *out,
         int                grouping,
         bool               three_d,
         bool               checked)
{
  const size_t    bpp     = (size_t) k->in->bpp;
  const Sources   s       = sources_of (k, p, x0, grouping, three_d);
  unsigned        any     = 0;
  uint16_t *const redo_at = c->redo;

  /* The vectors to redo, after the common path has done the row (so that
   * its loop has no call, and its constants stay in registers); whole
   * vectors need no mask. */
  for (int i = 0; i < n; i += 16)
    {
      __mmask16 redo;

      prefetch_ahead (ahead, n_ahead, (size_t) (x0 + i) * bpp, next_out, i);
      if (i + 16 <= n)
        redo =
          vector_16 (k, ch, &s, i, n, out, grouping, three_d, checked, true);
      else
        redo =
          vector_16 (k, ch, &s, i, n, out, grouping, three_d, checked, false);
      redo_at[i / 16] = redo;
      any |= redo;
    }
  for (int i = 0; i < n && any != 0; i += 16)
    if (redo_at[i / 16] != 0)
      redo_16 (k, ch, i, n, out, three_d, checked);
}

/* Output row (zi, yi) of the input, voxels x0 … x0 + n - 1, into out,
 * sixteen voxels at a time, in the slab of input slices zs … ze - 1;
 * rows: the input rows around it (NULL: none); next_out: the output row
 * done next (NULL: none). */
SEG_AVX512 static void
row_avx512 (const Descent *k,
            MinimaCache   *c,
            const uint8_t *rows[N_ROWS],
            int            zs,
            int            ze,
            int            zi,
            int            yi,
            int            x0,
            int            n,
            uint8_t       *out,
            uint8_t       *next_out)
{
  FloatRows   ch;
  Planes      p;
  const char *ahead[3];
  const int   n_ahead = rows_ahead (k, zs, ze, zi, yi, ahead);
  const bool  plain =
    rows_ready (k, c, fill_row, centre_row_by, rows, zi, yi, x0, &ch, &p);

#define VECTORS(GROUPING, THREE_D)                                            \
  do                                                                          \
    if (plain)                                                                \
      vectors (k, c, &ch, &p, ahead, n_ahead, next_out, x0, n, out, GROUPING, \
               THREE_D, false);                                               \
    else                                                                      \
      vectors (k, c, &ch, &p, ahead, n_ahead, next_out, x0, n, out, GROUPING, \
               THREE_D, true);                                                \
  while (0)
  if (!k->three_d && k->grouping == CLASSES)
    VECTORS (CLASSES, false);
  else if (!k->three_d)
    VECTORS (SIDES, false);
  else if (k->grouping == CLASSES)
    VECTORS (CLASSES, true);
  else if (k->grouping == SIDES)
    VECTORS (SIDES, true);
  else if (k->grouping == Y_Z)
    VECTORS (Y_Z, true);
  else if (k->grouping == X_Z)
    VECTORS (X_Z, true);
  else
    VECTORS (ALL, true);
#undef VECTORS
}
#endif

static bool
type_bytes_match (SegComponentType type, int bpp)
{
  return seg_component_size (type) == bpp;
}

/* The input rows around row yi of slice zi (NULL where there is none:
 * outside the input, or in another slice of a 2-D stack). */
static void
rows_around (const SegVolume *in,
             int              zi,
             int              yi,
             bool             three_d,
             const uint8_t   *rows[N_ROWS])
{
  for (int r = 0; r < N_ROWS; r++)
    {
      const int zz = zi + r / 3 - 1, yy = yi + r % 3 - 1;

      rows[r] = zz >= 0 && zz < in->depth && yy >= 0 && yy < in->height &&
                    (three_d || zz == zi)
                  ? (const uint8_t *) in->data +
                      (ptrdiff_t) zz * in->slice_stride +
                      (ptrdiff_t) yy * in->row_stride
                  : NULL;
    }
}


/* How vector_16 () groups the classes: those of one distance together,
 * where the spacings make them so; and each group's inverse distance. */
static void
grouping (Descent *k, const SegDescent *d)
{
  const double *s = d->spacing;

  k->grouping = CLASSES;
  if (s[0] == s[1])
    k->grouping = d->three_d && s[2] == s[0] ? ALL : SIDES;
  else if (d->three_d && s[1] == s[2])
    k->grouping = Y_Z;
  else if (d->three_d && s[0] == s[2])
    k->grouping = X_Z;
  {
    int          n;
    const Group *groups = groups_of (k->grouping, d->three_d, &n);

    double inv_min = INFINITY, inv_max = 0;

    for (int g = 0; g < n; g++)
      {
        k->group_inv[g] = k->inv_float[groups[g].cls];
        inv_min         = k->group_inv[g] < inv_min ? k->group_inv[g] : inv_min;
        inv_max         = k->group_inv[g] > inv_max ? k->group_inv[g] : inv_max;
      }
    /* Products of differences in [1, 2¹⁷], or in [the least magnitude ×
     * 2⁻²⁵, twice the greatest], each rounded, stay within 2⁻⁹⁹ … 2⁹⁹. */
    k->plain_ints = inv_min >= 0x1p-98 && inv_max <= 0x1p80;
    k->plain_min  = float_bound (0x1p-73 / inv_min);
    k->plain_max  = float_bound (0x1p97 / inv_max);
  }
}

/* The output row done after row y of slice z, in the slab of slices
 * zs … slab_end - 1 (slices slab by slab, rows, slices: as
 * seg_descent_direction () does them); NULL after the last. */
static uint8_t *
next_row_out (const SegVolume *out, int zs, int slab_end, int y, int z)
{
  if (z + 1 < slab_end)
    z++;
  else if (y + 1 < out->height)
    {
      z = zs;
      y++;
    }
  else if (slab_end < out->depth)
    {
      z = slab_end;
      y = 0;
    }
  else
    return NULL;
  return (uint8_t *) out->data + (ptrdiff_t) z * out->slice_stride +
         (ptrdiff_t) y * out->row_stride;
}

/* The single-precision path's output rows, in one of its forms. */
typedef void (*RowFloats) (const Descent *k,
                           MinimaCache   *c,
                           const uint8_t *rows[N_ROWS],
                           int            zs,
                           int            ze,
                           int            zi,
                           int            yi,
                           int            x0,
                           int            n,
                           uint8_t       *out,
                           uint8_t       *next_out);

/* The form of the single-precision path this CPU takes. */
static RowFloats
row_floats (void)
{
#if SEG_HAVE_AVX512
  if (seg_kernels_avx512 ())
    return row_avx512;
#endif
#if HAVE_WIDE_PATH
  if (seg_kernels_wide ())
    return row_floats_wide;
#endif
  return row_floats_narrow;
}

/* Whether row_f takes its indices as int32_t (the vector extensions'
 * forms) rather than bytes (AVX-512). */
static bool
takes_at32 (RowFloats row_f)
{
#if SEG_HAVE_AVX512
  return row_f != row_avx512;
#else
  (void) row_f;
  return true;
#endif
}

/* Output rows of out from (x0, y0, z0) of the input, slab by slab of
 * slices, row by row, slice by slice: the minima of an input row, taken
 * once, serve every output row around it.  With row_f, the
 * single-precision path; returns false where it met a row it cannot
 * take (MinimaCache.inexact), leaving out to be done again.  Without,
 * the double path. */
static bool
all_rows (const Descent   *k,
          const SegVolume *out,
          int              x0,
          int              y0,
          int              z0,
          RowFloats        row_f,
          MinimaCache     *cache,
          LowsCache       *lows,
          Chunk           *ch)
{
  const SegVolume *in = k->in;

  for (int zs = 0; zs < out->depth; zs += SLAB)
    {
      const int slab_end = zs + SLAB < out->depth ? zs + SLAB : out->depth;

      for (int y = 0; y < out->height; y++)
        for (int z = zs; z < slab_end; z++)
          {
            const int      zi = z0 + z, yi = y0 + y;
            const uint8_t *rows[N_ROWS];
            uint8_t       *dst = (uint8_t *) out->data +
                           (ptrdiff_t) z * out->slice_stride +
                           (ptrdiff_t) y * out->row_stride;

            rows_around (in, zi, yi, k->three_d, rows);
            if (row_f == NULL)
              {
                row_double (k, lows, ch, rows, z0 + zs, z0 + slab_end, zi, yi,
                            x0, out->width, dst);
                continue;
              }
            row_f (k, cache, rows, z0 + zs, z0 + slab_end, zi, yi, x0,
                   out->width, dst, next_row_out (out, zs, slab_end, y, z));
            if (cache->inexact)
              return false;
          }
    }
  return true;
}

SegStatus
seg_descent_direction (const SegVolume  *in,
                       const SegVolume  *out,
                       int               x0,
                       int               y0,
                       int               z0,
                       const SegDescent *d)
{
  Descent     k;
  Chunk       ch;
  LowsCache   lows;
  MinimaCache cache;
  bool        done   = false;
  RowFloats   row_f  = row_floats ();
  SegStatus   status = seg_descent_check (d);

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
      k.dist[c]      = class_distance (d->spacing, c);
      k.inv[c]       = 1 / k.dist[c];
      k.inv_float[c] = (float) k.inv[c];
    }
  for (int c = 1; c < N_CLASSES; c++)
    for (int e = 1; e <= c; e++)
      if (k.dist[e] == k.dist[c])
        {
          k.same_distance[c] = (float) e;
          break;
        }
#if HAVE_WIDE_PATH
  k.path = seg_kernels_wide () ? &path_wide : &path_narrow;
#else
  k.path = &path_narrow;
#endif
  k.seconds = d->type == SEG_TYPE_DOUBLE || d->type == SEG_TYPE_I64 ||
              d->type == SEG_TYPE_U64;
  k.float_numbers = d->type == SEG_TYPE_FLOAT || may_take_floats (d->type);
  k.exact_only    = false;
  for (int c = 1; c <= k.n_classes; c++)
    k.exact_only |= !(k.dist[c] > 0x1p-100 && k.dist[c] < 0x1p+100);
  grouping (&k, d);

  /* The single-precision path where the numbers are floats; for a wider
   * type, until a row around the output holds one that is not. */
  if ((takes_floats (d->type) || may_take_floats (d->type)) && !k.exact_only &&
      minima_cache_init (&cache, in->width, x0, takes_at32 (row_f)))
    {
      done = all_rows (&k, out, x0, y0, z0, row_f, &cache, NULL, NULL);
      minima_cache_free (&cache);
    }
  if (done)
    return SEG_OK;
  if (!lows_cache_init (&lows, out->width))
    return SEG_ENOMEM;
  all_rows (&k, out, x0, y0, z0, NULL, NULL, &lows, &ch);
  free (lows.memory);
  return SEG_OK;
}
