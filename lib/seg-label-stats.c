/* SPDX-License-Identifier: LGPL-3.0-or-later
 *
 * Per-label statistics and voxel lists (seg-label-stats.h).
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seg-label-stats.h"
#include "seg-rows.h"

#if SEG_HAVE_AVX512
#include <immintrin.h>
#endif

bool
seg_label_stats_init (SegLabelStats *s, int bpp, bool sparse)
{
  *s = (SegLabelStats){ .sparse = sparse };
  if (bpp < 1 || bpp > SEG_MAX_BPP)
    return false;
  return seg_label_table_init (&s->labels, bpp);
}

void
seg_label_stats_free (SegLabelStats *s)
{
  seg_label_table_free (&s->labels);
  free (s->stats);
  s->stats = NULL;
  s->room  = 0;
}

/* The address of voxel x of row y of slice z of v. */
static inline const uint8_t *
voxel (const SegVolume *v, int x, int y, int z)
{
  return (const uint8_t *) v->data + (ptrdiff_t) z * v->slice_stride +
         (ptrdiff_t) y * v->row_stride + (ptrdiff_t) x * v->bpp;
}

/* The end of the run of labels equal to the one at x in row (w voxels),
 * for labels of bpp bytes; with bpp a constant, the comparison is one
 * word's. */
static inline __attribute__ ((always_inline)) int
run_end_of (const uint8_t *row, int x, int w, int bpp)
{
  const uint8_t *label = row + (size_t) x * (size_t) bpp;
  int            end   = x + 1;

  while (end < w &&
         seg_label_equal (row + (size_t) end * (size_t) bpp, label, bpp))
    end++;
  return end;
}

#if defined(__GNUC__) && defined(__BYTE_ORDER__) && \
  __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
/* As run_end_of () for labels of 1, 2, 4 or 8 bytes, eight bytes at a
 * time: the label repeated through a 64-bit word, compared with the row's
 * next eight bytes at once; the first differing byte (the lowest set bit
 * of the difference, on a little-endian host) ends the run.  Runs in real
 * segmentations are tens of voxels long, so this is most of pass 1. */
static inline __attribute__ ((always_inline)) int
run_end_words (const uint8_t *row, int x, int w, int bpp)
{
  const int per_word = 8 / bpp;
  uint64_t  pattern  = 0;
  int       end      = x + 1;

  memcpy (&pattern, row + (size_t) x * (size_t) bpp, (size_t) bpp);
  for (int b = bpp; b < 8; b *= 2)
    pattern |= pattern << (8 * b);
  for (; end + per_word <= w; end += per_word)
    {
      uint64_t word;

      memcpy (&word, row + (size_t) end * (size_t) bpp, 8);
      if ((word ^= pattern) != 0)
        return end + __builtin_ctzll (word) / (8 * bpp);
    }
  return run_end_of (row, end - 1, w, bpp);
}
#define RUN_END_WORDS(row, x, w, bpp) run_end_words (row, x, w, bpp)
#else
#define RUN_END_WORDS(row, x, w, bpp) run_end_of (row, x, w, bpp)
#endif

static inline __attribute__ ((always_inline)) int
run_end (const uint8_t *row, int x, int w, int bpp)
{
  switch (bpp)
    {
    case 1: return RUN_END_WORDS (row, x, w, 1);
    case 2: return RUN_END_WORDS (row, x, w, 2);
    case 4: return RUN_END_WORDS (row, x, w, 4);
    case 8: return RUN_END_WORDS (row, x, w, 8);
    default: return run_end_of (row, x, w, bpp);
    }
}

/* Voxels of a row whose run boundaries are found at once, where SIMD
 * finds them (RowScan). */
#define SCAN_CHUNK 256

/* A row's runs, one after the other.  The scalar way finds each run's end
 * by comparing words until one differs: a branch whose outcome depends on
 * the data, mispredicted once per run.  With AVX-512, the boundaries of
 * SCAN_CHUNK voxels at a time (the voxels that differ from the one before)
 * are compared, compressed into a list and then walked: the only branch
 * left per run is the list's own loop. */
typedef struct
{
  const uint8_t *row;
  int            width;
  bool           simd;    /* boundaries by boundaries_avx512 ()          */
  int            start;   /* of the next run                             */
  int            scanned; /* boundaries in [1, scanned) found            */
  int            n, i;    /* boundaries at[i], …, at[n - 1] still to use */
  int32_t        at[SCAN_CHUNK + 16]; /* room for a full vector's store   */
} RowScan;

static inline void
row_scan_init (RowScan *r, const uint8_t *row, int width, bool simd)
{
  r->row     = row;
  r->width   = width;
  r->simd    = simd;
  r->start   = 0;
  r->scanned = 1;
  r->n = r->i = 0;
}

#if SEG_HAVE_AVX512
/* The voxels p in [lo, hi) (lo ≥ 1) of row that differ from voxel p - 1,
 * in order, into at; how many.  Labels of bpp = 1, 2, 4 or 8 bytes; a
 * step compares 64 bytes with the same 64 bytes one voxel back. */
SEG_AVX512 static int
boundaries_avx512 (const uint8_t *row, int bpp, int lo, int hi, int32_t *at)
{
  const int     lanes = 64 / bpp;
  const __m512i iota =
    _mm512_setr_epi32 (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  int n = 0;

  for (int p = lo; p < hi; p += lanes)
    {
      const int m = hi - p < lanes ? hi - p : lanes;
      /* Bytes past hi are neither read nor compared (zero in both). */
      const __mmask64 bytes =
        m * bpp == 64 ? ~(__mmask64) 0 : ((__mmask64) 1 << (m * bpp)) - 1;
      const __m512i here =
        _mm512_maskz_loadu_epi8 (bytes, row + (size_t) p * (size_t) bpp);
      const __m512i back =
        _mm512_maskz_loadu_epi8 (bytes, row + (size_t) (p - 1) * (size_t) bpp);
      uint64_t differ;

      switch (bpp)
        {
        case 1: differ = _mm512_cmpneq_epi8_mask (here, back); break;
        case 2: differ = _mm512_cmpneq_epi16_mask (here, back); break;
        case 4: differ = _mm512_cmpneq_epi32_mask (here, back); break;
        default: differ = _mm512_cmpneq_epi64_mask (here, back); break;
        }
      /* Sixteen lanes' positions at a time, compressed in a register
       * (compressing into memory is slow on some cores) and stored whole:
       * at has room for the lanes past n.  With 8-byte labels only the
       * mask's 8 lanes count: GCC 12 (at -O1 with UBSan) stores an 8-bit
       * compare mask into differ as one byte, leaving the bytes above it
       * as they were. */
      for (int j = 0; j < lanes; j += 16)
        {
          const __mmask16 k =
            (__mmask16) (differ >> j) & (lanes < 16 ? 0xff : 0xffff);

          _mm512_storeu_si512 (
            at + n, _mm512_maskz_compress_epi32 (
                      k, _mm512_add_epi32 (iota, _mm512_set1_epi32 (p + j))));
          n += __builtin_popcount (k);
        }
    }
  return n;
}
#endif

/* The next run of r, [*x, *end); false at the row's end.  bpp: the
 * labels' bytes, a constant where inlined. */
static inline __attribute__ ((always_inline)) bool
scan_next (RowScan *r, int bpp, int *x, int *end)
{
  if (r->start >= r->width)
    return false;
  *x = r->start;
#if SEG_HAVE_AVX512
  if (r->simd)
    {
      while (r->i == r->n && r->scanned < r->width)
        {
          const int hi = r->width - r->scanned < SCAN_CHUNK
                           ? r->width
                           : r->scanned + SCAN_CHUNK;

          r->n       = boundaries_avx512 (r->row, bpp, r->scanned, hi, r->at);
          r->i       = 0;
          r->scanned = hi;
        }
      *end = r->i < r->n ? r->at[r->i++] : r->width;
    }
  else
#endif
    *end = run_end (r->row, *x, r->width, bpp);
  r->start = *end;
  return true;
}

/* Whether boundaries_avx512 () can scan rows of labels of bpp bytes in
 * this process. */
static bool
scan_simd (int bpp)
{
  return SEG_HAVE_AVX512 && (bpp == 1 || bpp == 2 || bpp == 4 || bpp == 8) &&
         seg_kernels_avx512 ();
}

/* The next run of one counted label of r: true with it in [*x, *end),
 * false at the row's end.  Sparse statistics pass background runs over. */
static inline __attribute__ ((always_inline)) bool
next_run (const SegLabelStats *s, RowScan *r, int bpp, int *x, int *end)
{
  while (scan_next (r, bpp, x, end))
    if (!s->sparse ||
        !seg_label_is_background_in (r->row + (size_t) *x * (size_t) bpp, bpp,
                                     s->background))
      return true;
  return false;
}

/* sum += v, in 128 bits. */
static inline void
add128 (uint64_t *lo, uint64_t *hi, uint64_t v)
{
  *lo += v;
  *hi += *lo < v;
}

/* A new label number k: its statistics zeroed, room grown as needed. */
static bool
stat_new (SegLabelStats *s, size_t k)
{
  if (k >= s->room)
    {
      size_t        room = s->room ? 2 * s->room : 256;
      SegLabelStat *grown;

      if (room > SIZE_MAX / sizeof *grown)
        return false;
      grown = realloc (s->stats, room * sizeof *grown);
      if (grown == NULL)
        return false;
      s->stats = grown;
      s->room  = room;
    }
  s->stats[k] = (SegLabelStat){ 0 };
  for (int a = 0; a < 3; a++)
    {
      s->stats[k].min[a] = INT64_MAX;
      s->stats[k].max[a] = INT64_MIN;
    }
  return true;
}

/* Voxels [x, end) of row y of slice z (stack coordinates) hold label of
 * bpp bytes (a constant where inlined: see add_band ()). */
static inline __attribute__ ((always_inline)) SegStatus
count_run (SegLabelStats *s,
           const uint8_t *label,
           uint64_t       hash,
           int            bpp,
           int64_t        x,
           int64_t        end,
           int64_t        y,
           int64_t        z)
{
  const int64_t n = end - x;
  size_t        k = seg_label_table_find_hashed (&s->labels, label, bpp, hash);
  SegLabelStat *st;

  if (k == SEG_LABEL_NONE)
    {
      /* A new label: added, its statistics started. */
      k = seg_label_table_add (&s->labels, label);
      if (k == SEG_LABEL_NONE || !stat_new (s, k))
        return SEG_ENOMEM;
    }
  st = &s->stats[k];
  st->count += (uint64_t) n;
  st->min[0] = x < st->min[0] ? x : st->min[0];
  st->max[0] = end - 1 > st->max[0] ? end - 1 : st->max[0];
  st->min[1] = y < st->min[1] ? y : st->min[1];
  st->max[1] = y > st->max[1] ? y : st->max[1];
  st->min[2] = z < st->min[2] ? z : st->min[2];
  st->max[2] = z > st->max[2] ? z : st->max[2];
  /* Σ x over the run: n·x + n(n-1)/2. */
  add128 (&st->sum_lo[0], &st->sum_hi[0],
          (uint64_t) n * (uint64_t) x +
            ((uint64_t) n * (uint64_t) (n - 1)) / 2);
  add128 (&st->sum_lo[1], &st->sum_hi[1], (uint64_t) n * (uint64_t) y);
  add128 (&st->sum_lo[2], &st->sum_hi[2], (uint64_t) n * (uint64_t) z);
  return SEG_OK;
}

/* Runs a row's pass 1 gathers before it counts them. */
#define RUNS_AT_ONCE 64

/* Runs this many ahead have their table slot fetched from memory, and
 * half as many ahead their label and statistics. */
#define FETCH_AHEAD 8

/* Runs shorter than this on average are worth fetching ahead: where
 * labels change at nearly every voxel, each run's lookup would otherwise
 * wait for memory two or three times over; long runs give the memory
 * time enough, and gathering them first would only cost. */
#define SHORT_RUN 8

static inline void
fetch_slot (const SegLabelTable *t, uint64_t hash)
{
  seg_prefetch (&t->slots[(size_t) hash & t->mask], PREFETCH_L1);
}

/* The label in the slot that hash leads to first, and its statistics:
 * usually the label itself. */
static inline void
fetch_stat (const SegLabelStats *s, uint64_t hash, int bpp)
{
  const uint32_t v = s->labels.slots[(size_t) hash & s->labels.mask];

  if (v != 0)
    {
      seg_prefetch (s->labels.labels + (size_t) (v - 1) * (size_t) bpp,
                    PREFETCH_L1);
      /* A label's statistics span two cache lines. */
      seg_prefetch (&s->stats[v - 1], PREFETCH_L1);
      seg_prefetch ((const uint8_t *) &s->stats[v - 1] + 64, PREFETCH_L1);
    }
}

/* Row y of slice z (stack coordinates) of pass 1, run by run; *n_runs:
 * how many runs it counted. */
static inline __attribute__ ((always_inline)) SegStatus
add_row (SegLabelStats *s,
         RowScan       *r,
         int            bpp,
         int64_t        x0,
         int64_t        y,
         int64_t        z,
         int           *n_runs)
{
  int x, end;

  *n_runs = 0;
  for (; next_run (s, r, bpp, &x, &end); (*n_runs)++)
    {
      const uint8_t *label = r->row + (size_t) x * (size_t) bpp;
      SegStatus status = count_run (s, label, seg_label_hash (label, bpp), bpp,
                                    x0 + x, x0 + end, y, z);

      if (status != SEG_OK)
        return status;
    }
  return SEG_OK;
}

/* A row's next runs, gathered before they are counted or listed. */
typedef struct
{
  int      start[RUNS_AT_ONCE], stop[RUNS_AT_ONCE];
  uint64_t hash[RUNS_AT_ONCE];
} Runs;

/* Up to RUNS_AT_ONCE next runs of r, with their hashes, the first
 * FETCH_AHEAD table slots asked for; how many. */
static inline __attribute__ ((always_inline)) int
gather_runs (const SegLabelStats *s, RowScan *r, int bpp, Runs *runs)
{
  int n = 0, x, end;

  for (; n < RUNS_AT_ONCE && next_run (s, r, bpp, &x, &end); n++)
    {
      runs->start[n] = x;
      runs->stop[n]  = end;
      runs->hash[n]  = seg_label_hash (r->row + (size_t) x * (size_t) bpp, bpp);
    }
  for (int i = 0; i < n && i < FETCH_AHEAD; i++)
    fetch_slot (&s->labels, runs->hash[i]);
  return n;
}

/* As add_row (), for rows of short runs: RUNS_AT_ONCE runs gathered with
 * their hashes first, then counted while the table is fetched ahead. */
static inline __attribute__ ((always_inline)) SegStatus
add_row_ahead (SegLabelStats *s,
               RowScan       *r,
               int            bpp,
               int64_t        x0,
               int64_t        y,
               int64_t        z,
               int           *n_runs)
{
  Runs runs;

  *n_runs = 0;
  for (;;)
    {
      const int n = gather_runs (s, r, bpp, &runs);

      for (int i = 0; i < n; i++)
        {
          const uint8_t *label = r->row + (size_t) runs.start[i] * (size_t) bpp;
          SegStatus      status;

          if (i + FETCH_AHEAD < n)
            fetch_slot (&s->labels, runs.hash[i + FETCH_AHEAD]);
          if (i + FETCH_AHEAD / 2 < n)
            fetch_stat (s, runs.hash[i + FETCH_AHEAD / 2], bpp);
          status = count_run (s, label, runs.hash[i], bpp, x0 + runs.start[i],
                              x0 + runs.stop[i], y, z);
          if (status != SEG_OK)
            return status;
        }
      *n_runs += n;
      if (n < RUNS_AT_ONCE)
        break;
    }
  return SEG_OK;
}

/* Pass 1 over a checked view, for labels of bpp bytes (a constant in each
 * of seg_label_stats_add ()'s calls): a row whose row before had short
 * runs is counted with fetches ahead, any other run by run. */
static inline __attribute__ ((always_inline)) SegStatus
add_band (SegLabelStats   *s,
          const SegVolume *in,
          int              bpp,
          int64_t          x0,
          int64_t          y0,
          int64_t          z0)
{
  const bool simd       = scan_simd (bpp);
  bool       short_runs = false;
  RowScan    scan;

  for (int z = 0; z < in->depth; z++)
    for (int y = 0; y < in->height; y++)
      {
        int       n_runs;
        SegStatus status;

        row_scan_init (&scan, voxel (in, 0, y, z), in->width, simd);
        status = short_runs
                   ? add_row_ahead (s, &scan, bpp, x0, y0 + y, z0 + z, &n_runs)
                   : add_row (s, &scan, bpp, x0, y0 + y, z0 + z, &n_runs);

        if (status != SEG_OK)
          return status;
        short_runs = (int64_t) n_runs * SHORT_RUN > in->width;
      }
  return SEG_OK;
}

/* A band both passes can take: a usable view of the statistics' voxel
 * size, at a place in the stack with no negative coordinate. */
static bool
band_ok (const SegLabelStats *s,
         const SegVolume     *in,
         int64_t              x0,
         int64_t              y0,
         int64_t              z0)
{
  return in != NULL && seg_volume_check (in) == SEG_OK &&
         in->bpp == s->labels.bpp && x0 >= 0 && y0 >= 0 && z0 >= 0;
}

SegStatus
seg_label_stats_add (
  SegLabelStats *s, const SegVolume *in, int64_t x0, int64_t y0, int64_t z0)
{
  const int bpp = s->labels.bpp;

  if (!band_ok (s, in, x0, y0, z0))
    return SEG_EBADARG;
  switch (bpp)
    {
    case 1: return add_band (s, in, 1, x0, y0, z0);
    case 2: return add_band (s, in, 2, x0, y0, z0);
    case 4: return add_band (s, in, 4, x0, y0, z0);
    case 8: return add_band (s, in, 8, x0, y0, z0);
    default: return add_band (s, in, bpp, x0, y0, z0);
    }
}

/* ------------------------------------------------------------------------
 * The order of the labels
 * --------------------------------------------------------------------- */

/* A label as qsort () sorts it: up to 8 bytes by key, longer ones by
 * their bytes. */
typedef struct
{
  uint64_t       key;
  const uint8_t *bytes;
  int            bpp;
  size_t         number;
} SortItem;

/* The label's bytes (up to 8) as an integer, sign bit flipped when signed
 * so that unsigned comparison orders it. */
static uint64_t
label_key (const uint8_t *label, int bpp, bool is_signed)
{
  uint64_t v = 0;

  for (int i = bpp - 1; i >= 0; i--)
    v = v << 8 | label[i];
  if (is_signed)
    v ^= (uint64_t) 1 << (8 * bpp - 1);
  return v;
}

static int
compare_items (const void *a, const void *b)
{
  const SortItem *x = a, *y = b;

  if (x->bpp > 8)
    return memcmp (x->bytes, y->bytes, (size_t) x->bpp);
  return (x->key > y->key) - (x->key < y->key);
}

size_t *
seg_label_stats_order (const SegLabelStats *s, bool is_signed)
{
  const SegLabelTable *t     = &s->labels;
  const size_t         n     = t->n;
  SortItem            *items = malloc ((n ? n : 1) * sizeof *items);
  size_t              *order = malloc ((n ? n : 1) * sizeof *order);

  if (items == NULL || order == NULL)
    {
      free (items);
      free (order);
      return NULL;
    }
  for (size_t i = 0; i < n; i++)
    {
      const uint8_t *label = seg_label_table_label (t, i);

      items[i] =
        (SortItem){ t->bpp <= 8 ? label_key (label, t->bpp, is_signed) : 0,
                    label, t->bpp, i };
    }
  /* Labels are distinct: the order is total. */
  qsort (items, n, sizeof *items, compare_items);
  for (size_t i = 0; i < n; i++)
    order[i] = items[i].number;
  free (items);
  return order;
}

uint64_t
seg_label_stats_first_rows (const SegLabelStats *s,
                            const size_t        *order,
                            uint64_t            *first)
{
  uint64_t row = 0;

  for (size_t i = 0; i < s->labels.n; i++)
    {
      first[order[i]] = row;
      row += s->stats[order[i]].count;
    }
  return row;
}

/* ------------------------------------------------------------------------
 * Voxel lists
 * --------------------------------------------------------------------- */

#if defined(__GNUC__) && defined(__BYTE_ORDER__) && \
  __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define PUT_ROWS_BY_VECTORS 1
typedef uint32_t U32x4 __attribute__ ((vector_size (16)));

/* Rows (z, y, x) of 4-byte numbers, four rows (48 bytes) at a time: three
 * vectors that hold them, whose x lanes step on by 4.  Returns the rows
 * it did not put (fewer than four). */
static inline int64_t
put_rows_by_4 (uint8_t **out, uint32_t z, uint32_t y, uint32_t x, int64_t n)
{
  U32x4 a = { z, y, x, z }, b = { y, x + 1, z, y }, c = { x + 2, z, y, x + 3 };
  const U32x4 step_a = { 0, 0, 4, 0 }, step_b = { 0, 4, 0, 0 },
              step_c = { 4, 0, 0, 4 };

  for (; n >= 4; n -= 4, *out += 48)
    {
      memcpy (*out, &a, 16);
      memcpy (*out + 16, &b, 16);
      memcpy (*out + 32, &c, 16);
      a += step_a;
      b += step_b;
      c += step_c;
    }
  return n;
}
#else
#define PUT_ROWS_BY_VECTORS 0
#endif

/* Rows (z, y, x), x from x to end - 1, at out, as little-endian numbers of
 * 4 or 8 bytes. */
static void
put_rows (
  uint8_t *out, int bytes, uint64_t z, uint64_t y, int64_t x, int64_t end)
{
#if PUT_ROWS_BY_VECTORS
  if (bytes == 4)
    x = end -
        put_rows_by_4 (&out, (uint32_t) z, (uint32_t) y, (uint32_t) x, end - x);
#endif
  for (; x < end; x++)
    {
      const uint64_t c[3] = { z, y, (uint64_t) x };

      for (int a = 0; a < 3; a++, out += bytes)
        {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
          if (bytes == 4)
            {
              const uint32_t v = (uint32_t) c[a];

              memcpy (out, &v, 4);
            }
          else
            memcpy (out, &c[a], 8);
#else
          for (int i = 0; i < bytes; i++)
            out[i] = (uint8_t) (c[a] >> (8 * i));
#endif
        }
    }
}

/* Voxels [x, end) of row y of slice z, label number k, into out: in
 * pieces where its room runs out. */
static inline __attribute__ ((always_inline)) SegStatus
list_run (SegVoxelRows *out,
          size_t        k,
          size_t        row_bytes,
          uint64_t      z,
          uint64_t      y,
          int64_t       x,
          int64_t       end)
{
  while (x < end)
    {
      uint64_t room =
        out->end != NULL ? out->end[k] - out->next[k] : (uint64_t) (end - x);
      int64_t n;

      if (room == 0)
        {
          if (!out->flush (out->data, k) || out->end[k] == out->next[k])
            return SEG_EWRITE;
          continue;
        }
      n = room < (uint64_t) (end - x) ? (int64_t) room : end - x;
      put_rows (out->rows + out->next[k] * row_bytes, out->coord_bytes, z, y, x,
                x + n);
      out->next[k] += (uint64_t) n;
      x += n;
    }
  return SEG_OK;
}

/* Row y of slice z (stack coordinates) of pass 2, run by run; *n_runs:
 * how many runs it listed. */
static inline __attribute__ ((always_inline)) SegStatus
list_row (const SegLabelStats *s,
          RowScan             *r,
          int                  bpp,
          int64_t              x0,
          uint64_t             y,
          uint64_t             z,
          SegVoxelRows        *out,
          int                 *n_runs)
{
  const size_t row_bytes = 3 * (size_t) out->coord_bytes;
  int          x, end;

  *n_runs = 0;
  for (; next_run (s, r, bpp, &x, &end); (*n_runs)++)
    {
      const size_t k = seg_label_table_find_inline (
        &s->labels, r->row + (size_t) x * (size_t) bpp, bpp);
      SegStatus status;

      if (k == SEG_LABEL_NONE)
        return SEG_EBADARG;
      status = list_run (out, k, row_bytes, z, y, x0 + x, x0 + end);
      if (status != SEG_OK)
        return status;
    }
  return SEG_OK;
}

/* Where run i + FETCH_AHEAD / 2 will write, if its label is the one its
 * slot leads to first: its cursor was fetched before, so the row it
 * points at can be fetched now. */
static inline void
fetch_destination (const SegLabelStats *s,
                   const SegVoxelRows  *out,
                   size_t               row_bytes,
                   uint64_t             hash)
{
  const uint32_t v = s->labels.slots[(size_t) hash & s->labels.mask];

  if (v != 0)
    seg_prefetch_write (out->rows + out->next[v - 1] * row_bytes);
}

/* The label in the slot that hash leads to first, and its cursor. */
static inline void
fetch_cursor (const SegLabelStats *s,
              const SegVoxelRows  *out,
              uint64_t             hash,
              int                  bpp)
{
  const uint32_t v = s->labels.slots[(size_t) hash & s->labels.mask];

  if (v != 0)
    {
      seg_prefetch (s->labels.labels + (size_t) (v - 1) * (size_t) bpp,
                    PREFETCH_L1);
      seg_prefetch (&out->next[v - 1], PREFETCH_L1);
    }
}

/* As list_row (), for rows of short runs: RUNS_AT_ONCE runs gathered with
 * their hashes first, then listed while the table slots, the labels'
 * cursors and the rows they point at are fetched ahead, in that order. */
static inline __attribute__ ((always_inline)) SegStatus
list_row_ahead (const SegLabelStats *s,
                RowScan             *r,
                int                  bpp,
                int64_t              x0,
                uint64_t             y,
                uint64_t             z,
                SegVoxelRows        *out,
                int                 *n_runs)
{
  const size_t row_bytes = 3 * (size_t) out->coord_bytes;
  Runs         runs;

  *n_runs = 0;
  for (;;)
    {
      const int n = gather_runs (s, r, bpp, &runs);

      for (int i = 0; i < n; i++)
        {
          size_t    k;
          SegStatus status;

          if (i + FETCH_AHEAD < n)
            fetch_slot (&s->labels, runs.hash[i + FETCH_AHEAD]);
          if (i + FETCH_AHEAD / 2 < n)
            fetch_cursor (s, out, runs.hash[i + FETCH_AHEAD / 2], bpp);
          if (i + FETCH_AHEAD / 4 < n)
            fetch_destination (s, out, row_bytes,
                               runs.hash[i + FETCH_AHEAD / 4]);
          k = seg_label_table_find_hashed (
            &s->labels, r->row + (size_t) runs.start[i] * (size_t) bpp, bpp,
            runs.hash[i]);
          if (k == SEG_LABEL_NONE)
            return SEG_EBADARG;
          status = list_run (out, k, row_bytes, z, y, x0 + runs.start[i],
                             x0 + runs.stop[i]);
          if (status != SEG_OK)
            return status;
        }
      *n_runs += n;
      if (n < RUNS_AT_ONCE)
        break;
    }
  return SEG_OK;
}

/* Pass 2 over a checked view, for labels of bpp bytes (a constant in each
 * of seg_label_stats_list_rows ()'s calls): a row whose row before had
 * short runs is listed with fetches ahead, any other run by run. */
static inline __attribute__ ((always_inline)) SegStatus
list_band (const SegLabelStats *s,
           const SegVolume     *in,
           int                  bpp,
           int64_t              x0,
           int64_t              y0,
           int64_t              z0,
           SegVoxelRows        *out)
{
  const bool simd       = scan_simd (bpp);
  bool       short_runs = false;
  RowScan    scan;

  for (int z = 0; z < in->depth; z++)
    for (int y = 0; y < in->height; y++)
      {
        const uint64_t ys = (uint64_t) (y0 + y), zs = (uint64_t) (z0 + z);
        int            n_runs;
        SegStatus      status;

        row_scan_init (&scan, voxel (in, 0, y, z), in->width, simd);
        status = short_runs
                   ? list_row_ahead (s, &scan, bpp, x0, ys, zs, out, &n_runs)
                   : list_row (s, &scan, bpp, x0, ys, zs, out, &n_runs);

        if (status != SEG_OK)
          return status;
        short_runs = (int64_t) n_runs * SHORT_RUN > in->width;
      }
  return SEG_OK;
}

SegStatus
seg_label_stats_list_rows (const SegLabelStats *s,
                           const SegVolume     *in,
                           int64_t              x0,
                           int64_t              y0,
                           int64_t              z0,
                           SegVoxelRows        *out)
{
  const int bpp = s->labels.bpp;
  int64_t   top;

  if (out == NULL || out->next == NULL || out->rows == NULL ||
      (out->end != NULL && out->flush == NULL) ||
      (out->coord_bytes != 4 && out->coord_bytes != 8))
    return SEG_EBADARG;
  top = out->coord_bytes == 4 ? (int64_t) UINT32_MAX : INT64_MAX;
  if (!band_ok (s, in, x0, y0, z0) || x0 + in->width - 1 > top ||
      y0 + in->height - 1 > top || z0 + in->depth - 1 > top)
    return SEG_EBADARG;
  switch (bpp)
    {
    case 1: return list_band (s, in, 1, x0, y0, z0, out);
    case 2: return list_band (s, in, 2, x0, y0, z0, out);
    case 4: return list_band (s, in, 4, x0, y0, z0, out);
    case 8: return list_band (s, in, 8, x0, y0, z0, out);
    default: return list_band (s, in, bpp, x0, y0, z0, out);
    }
}

SegStatus
seg_label_stats_list (const SegLabelStats *s,
                      const SegVolume     *in,
                      int64_t              x0,
                      int64_t              y0,
                      int64_t              z0,
                      uint64_t            *next,
                      void                *out,
                      int                  coord_bytes)
{
  SegVoxelRows rows = { out, next, NULL, NULL, NULL, coord_bytes };

  return seg_label_stats_list_rows (s, in, x0, y0, z0, &rows);
}

#ifdef __SIZEOF_INT128__
/* Bits in v (0 for 0). */
static int
bit_length (unsigned __int128 v)
{
  int n = 0;

  for (; v >> 64 != 0; v >>= 64)
    n += 64;
  for (uint64_t w = (uint64_t) v; w != 0; w >>= 1)
    n++;
  return n;
}

/* num / den (den > 0) rounded once to the nearest double, ties to even:
 * the quotient's first 55 bits by integer division, whatever is left as a
 * sticky bit, then rounded to 53 bits.  Plain double division is exact
 * enough where both fit in 53 bits, which is nearly always. */
static double
divide_rounded (unsigned __int128 num, uint64_t den)
{
  const uint64_t    exact = (uint64_t) 1 << 53;
  unsigned __int128 m;
  bool              sticky;
  int               shift;
  uint64_t          mantissa;
  unsigned          low;

  if (num < exact && den < exact)
    return (double) (uint64_t) num / (double) den;
  if (num == 0)
    return 0.0;
  /* num · 2^shift / den has 55 or 56 bits; num · 2^shift stays below
   * 2^(56 + 64) when shift is positive. */
  shift = 55 - (bit_length (num) - bit_length (den));
  if (shift >= 0)
    {
      const unsigned __int128 n = num << shift;

      m      = n / den;
      sticky = n % den != 0;
    }
  else
    {
      m      = num / den;
      sticky = num % den != 0;
      sticky |= (m & (((unsigned __int128) 1 << -shift) - 1)) != 0;
      m >>= -shift;
    }
  while (m >> 55 != 0)
    {
      sticky |= (m & 1) != 0;
      m >>= 1;
      shift--;
    }
  /* 53 bits, then the half bit and one more. */
  mantissa = (uint64_t) (m >> 2);
  low      = (unsigned) (m & 3);
  if (low == 3 || (low == 2 && (sticky || (mantissa & 1))))
    mantissa++;
  return ldexp ((double) mantissa, 2 - shift);
}
#endif

double
seg_label_stat_mean (const SegLabelStat *stat, int axis)
{
#ifdef __SIZEOF_INT128__
  return divide_rounded ((unsigned __int128) stat->sum_hi[axis] << 64 |
                           stat->sum_lo[axis],
                         stat->count);
#else
  /* Without 128-bit integers: extended precision, which may round twice
   * for sums beyond 2^53. */
  const long double sum =
    (long double) stat->sum_hi[axis] * 18446744073709551616.0L +
    (long double) stat->sum_lo[axis];

  return (double) (sum / stat->count);
#endif
}

size_t
seg_label_text (const uint8_t *label, int bpp, bool is_signed, char *text)
{
  static const char hex[] = "0123456789abcdef";
  uint64_t          v     = 0;
  size_t            n     = 0;

  if (bpp > 8)
    {
      text[n++] = '0';
      text[n++] = 'x';
      for (int i = 0; i < bpp; i++)
        {
          text[n++] = hex[label[i] >> 4];
          text[n++] = hex[label[i] & 15];
        }
      text[n] = '\0';
      return n;
    }
  for (int i = bpp - 1; i >= 0; i--)
    v = v << 8 | label[i];
  if (is_signed && bpp < 8 && (v >> (8 * bpp - 1)) != 0)
    v |= ~(uint64_t) 0 << (8 * bpp); /* sign-extended to 64 bits */
  return (size_t) (is_signed ? sprintf (text, "%" PRId64, (int64_t) v)
                             : sprintf (text, "%" PRIu64, v));
}

size_t
seg_label_stats_csv_row (
  const SegLabelStats *s, size_t k, bool is_signed, uint64_t first, char *row)
{
  const SegLabelStat *st = &s->stats[k];
  size_t              n = seg_label_text (seg_label_table_label (&s->labels, k),
                                          s->labels.bpp, is_signed, row);

  n += (size_t) sprintf (
    row + n,
    ",%" PRIu64 ",%" PRId64 ",%" PRId64 ",%" PRId64 ",%" PRId64 ",%" PRId64
    ",%" PRId64 ",%.17g,%.17g,%.17g,%" PRIu64 "\n",
    st->count, st->min[0], st->min[1], st->min[2], st->max[0], st->max[1],
    st->max[2], seg_label_stat_mean (st, 0), seg_label_stat_mean (st, 1),
    seg_label_stat_mean (st, 2), first);
  return n;
}
