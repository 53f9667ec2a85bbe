/* SPDX-License-Identifier: LGPL-3.0-or-later
 *
 * Unit tests of lib/seg-label-stats.c, without GEGL, against a slow,
 * obviously-correct reference: every voxel looked up in a plain list of
 * the labels met, the order by each label's value worked out as an
 * integer, and the voxel lists made by scanning the whole volume once per
 * label.  Random volumes of runs (two labels and thousands; 1, 2, 3, 4, 8
 * and 16-byte pixels, signed and unsigned; sparse on and off; 1 … 24 on
 * each axis, 1 × 1 × 1 included; padded and flipped views), fed as random
 * bands: pass 1 in any order, pass 2 in raster order.
 */
#include <check.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel-harness.h"
#include "seg-label-stats.h"

static const int pixel_sizes[] = { 1, 2, 3, 4, 8, 16 };

/* ---- The reference ------------------------------------------------------ */

typedef struct
{
  const uint8_t *label; /* in the volume: its first voxel */
  uint64_t       count;
  int64_t        min[3], max[3];
  long double    sum[3];
} RefStat;

/* The labels of the w × h × d view v (counted ones), in order of first
 * occurrence, with their statistics; *n of them. */
static RefStat *
reference_stats (const SegVolume *v, bool sparse, size_t *n)
{
  const size_t most = (size_t) v->width * v->height * v->depth;
  RefStat     *st   = calloc (most, sizeof *st);

  *n = 0;
  for (int z = 0; z < v->depth; z++)
    for (int y = 0; y < v->height; y++)
      for (int x = 0; x < v->width; x++)
        {
          const uint8_t *p    = at (v, x, y, z);
          const int64_t  c[3] = { x, y, z };
          bool           zero = true;
          size_t         k    = 0;

          for (int i = 0; i < v->bpp; i++)
            zero &= p[i] == 0;
          if (sparse && zero)
            continue;
          while (k < *n && memcmp (st[k].label, p, (size_t) v->bpp) != 0)
            k++;
          if (k == *n)
            {
              st[(*n)++] = (RefStat){ .label = p };
              for (int a = 0; a < 3; a++)
                {
                  st[k].min[a] = c[a];
                  st[k].max[a] = c[a];
                }
            }
          st[k].count++;
          for (int a = 0; a < 3; a++)
            {
              st[k].min[a] = c[a] < st[k].min[a] ? c[a] : st[k].min[a];
              st[k].max[a] = c[a] > st[k].max[a] ? c[a] : st[k].max[a];
              st[k].sum[a] += (long double) c[a];
            }
        }
  return st;
}

/* a < b by value: up to 8 bytes as a little-endian integer (two's
 * complement when signed), longer ones by bytes. */
static bool
value_less (const uint8_t *a, const uint8_t *b, int bpp, bool is_signed)
{
  uint64_t ua = 0, ub = 0;

  if (bpp > 8)
    return memcmp (a, b, (size_t) bpp) < 0;
  for (int i = 0; i < bpp; i++)
    {
      ua |= (uint64_t) a[i] << (8 * i);
      ub |= (uint64_t) b[i] << (8 * i);
    }
  if (is_signed)
    {
      /* Sign-extend to 64 bits, then compare as signed numbers. */
      const int shift = 64 - 8 * bpp;

      return (int64_t) (ua << shift) >> shift < (int64_t) (ub << shift) >>
             shift;
    }
  return ua < ub;
}

/* The reference's labels sorted by value (insertion sort). */
static void
reference_sort (RefStat *st, size_t n, int bpp, bool is_signed)
{
  for (size_t i = 1; i < n; i++)
    for (size_t j = i;
         j > 0 && value_less (st[j].label, st[j - 1].label, bpp, is_signed);
         j--)
      {
        RefStat t = st[j];

        st[j]     = st[j - 1];
        st[j - 1] = t;
      }
}

/* ---- Volumes ------------------------------------------------------------ */

/* A volume of runs of labels from a pool of n_labels random ones (some
 * differing only in their last byte, background among them).  A quarter
 * are a few rows hundreds of voxels wide, half of those with runs hundreds
 * long: rows the kernel scans in several pieces (RowScan), with runs
 * across the pieces' edges. */
static Buf
random_volume (Rng *r, int bpp, int n_labels)
{
  const bool wide    = rng_chance (r, 25);
  const int  w       = wide ? rng_range (r, 250, 1100) : rng_range (r, 1, 24);
  const int  h       = wide ? rng_range (r, 1, 4) : rng_range (r, 1, 24);
  const int  d       = wide ? rng_range (r, 1, 2) : rng_range (r, 1, 6);
  const int  longest = wide && rng_chance (r, 50) ? 700 : 9;
  Buf        b       = buf_new (w, h, d, bpp, random_strides (r, bpp));
  uint8_t   *pool    = malloc ((size_t) n_labels * (size_t) bpp);

  for (int i = 0; i < n_labels; i++)
    {
      uint8_t *l = pool + (size_t) i * (size_t) bpp;

      for (int j = 0; j < bpp; j++)
        l[j] = (uint8_t) rng_next (r);
      if (i == 0)
        memset (l, 0, (size_t) bpp); /* background */
      else if (i % 3 == 0)
        memcpy (l, pool + (size_t) (i - 1) * (size_t) bpp,
                (size_t) bpp - 1); /* differs in its last byte only */
    }
  for (int z = 0; z < d; z++)
    for (int y = 0; y < h; y++)
      for (int x = 0; x < w;)
        {
          const int      run = rng_range (r, 1, longest);
          const uint8_t *label =
            pool + (size_t) rng_below (r, n_labels) * (size_t) bpp;

          for (int i = 0; i < run && x < w; i++, x++)
            memcpy (at (&b.v, x, y, z), label, (size_t) bpp);
        }
  free (pool);
  return b;
}

/* The bands of v: slices cut into runs of random rows, in raster order;
 * *n of them (views into v), each with its first row and slice. */
typedef struct
{
  SegVolume view;
  int       y0, z0;
} Band;

static Band *
random_bands (Rng *r, const SegVolume *v, int *n)
{
  Band *bands = malloc ((size_t) v->height * v->depth * sizeof *bands);

  *n = 0;
  for (int z = 0; z < v->depth; z++)
    for (int y = 0; y < v->height;)
      {
        const int rows = rng_range (r, 1, v->height - y);
        Band      b    = { *v, y, z };

        b.view.data   = at (v, 0, y, z);
        b.view.height = rows;
        b.view.depth  = 1;
        bands[(*n)++] = b;
        y += rows;
      }
  return bands;
}

/* ---- Pass 2 in small rooms ---------------------------------------------- */

/* A writer that gives every label a room of 1 … 5 rows and, when it is
 * full, copies the rows where the whole list would have them. */
typedef struct
{
  uint8_t        *list;    /* the whole list being made            */
  const uint64_t *first;   /* each label's first row in it         */
  uint64_t       *written; /* rows of each label copied so far     */
  uint64_t       *start;   /* each label's room in rows            */
  size_t          row_bytes;
  SegVoxelRows    rows;
} Staged;

static bool
staged_flush (void *data, size_t k)
{
  Staged        *st = data;
  const uint64_t n  = st->rows.next[k] - st->start[k];

  memcpy (st->list + (st->first[k] + st->written[k]) * st->row_bytes,
          st->rows.rows + st->start[k] * st->row_bytes, n * st->row_bytes);
  st->written[k] += n;
  st->rows.next[k] = st->start[k];
  return true;
}

/* The voxel list made in rooms of a few rows (calloc'd; free it). */
static uint8_t *
staged_list (Rng                 *r,
             const SegLabelStats *s,
             const Band          *bands,
             int                  n_bands,
             const uint64_t      *first,
             uint64_t             total,
             int                  coord,
             const char          *context)
{
  const size_t n  = s->labels.n;
  Staged       st = { 0 };
  uint64_t    *end, rooms = 0;

  st.row_bytes = 3 * (size_t) coord;
  st.list      = calloc (total + 1, st.row_bytes);
  st.first     = first;
  st.written   = calloc (n + 1, sizeof *st.written);
  st.start     = calloc (n + 1, sizeof *st.start);
  st.rows.next = calloc (n + 1, sizeof *st.rows.next);
  end          = calloc (n + 1, sizeof *end);
  for (size_t k = 0; k < n; k++)
    {
      st.start[k] = st.rows.next[k] = rooms;
      rooms += (uint64_t) rng_range (r, 1, 5);
      end[k] = rooms;
    }
  st.rows.rows        = calloc (rooms + 1, st.row_bytes);
  st.rows.end         = end;
  st.rows.flush       = staged_flush;
  st.rows.data        = &st;
  st.rows.coord_bytes = coord;
  for (int i = 0; i < n_bands; i++)
    assert_status (seg_label_stats_list_rows (s, &bands[i].view, 0, bands[i].y0,
                                              bands[i].z0, &st.rows),
                   SEG_OK, context);
  for (size_t k = 0; k < n; k++)
    {
      staged_flush (&st, k);
      if (st.written[k] != s->stats[k].count)
        ck_abort_msg ("%s: label number %zu: %llu rows staged, want %llu",
                      context, k, (unsigned long long) st.written[k],
                      (unsigned long long) s->stats[k].count);
    }
  free (st.rows.rows);
  free (end);
  free (st.rows.next);
  free (st.start);
  free (st.written);
  return st.list;
}

/* ---- The tests ---------------------------------------------------------- */

/* Centroids are the exact mean rounded once (DESIGN.md), also where the
 * sums pass 2^53 and plain double division would round twice: sums of up
 * to 127 bits over counts of up to 64, ties to even included.  The
 * expected doubles are Python's float (Fraction (sum, count)). */
START_TEST (test_mean_is_rounded_once)
{
  static const struct
  {
    uint64_t hi, lo, count;
    double   mean;
  } cases[] = {
    { 0x0000000000000000u, 0x0040000000000002u, 0x4u, 0x1.0000000000000p+52 },
    { 0x0000000000000000u, 0x0040000000000006u, 0x4u, 0x1.0000000000002p+52 },
    { 0x0000000000000000u, 0x0020000000000001u, 0x1u, 0x1.0000000000000p+53 },
    { 0x0000000000000000u, 0x0020000000000001u, 0x2u, 0x1.0000000000000p+52 },
    { 0x0000000000000000u, 0x0020000000000003u, 0x2u, 0x1.0000000000002p+52 },
    { 0x0000001000000000u, 0x0000000000000001u, 0x3u, 0x1.5555555555555p+98 },
    { 0x7fffffffffffffffu, 0xffffffffffffffffu, 0x1u, 0x1.0000000000000p+127 },
    { 0x7fffffffffffffffu, 0xffffffffffffffffu, 0xffffffffffffffffu,
      0x1.0000000000000p+63 },
    { 0x0000000000000001u, 0x0000000000000000u, 0x3u, 0x1.5555555555555p+62 },
    { 0x0000000c9f2c9cd0u, 0x4674edea40000007u, 0x3b9aca07u,
      0x1.b1ae4d3b4070fp+69 },
    { 0x0000000000000000u, 0x1000000000000000u, 0xfffffffffffffffu,
      0x1.0000000000000p+0 },
    { 0x0000000000000000u, 0x0000000000000003u, 0x8000000000000000u,
      0x1.8000000000000p-62 },
    { 0x000000000000ffffu, 0xffffffffffffffffu, 0x8000000000000001u,
      0x1.0000000000000p+17 },
    { 0x0000000000000000u, 0x0050000000000001u, 0x10000000000000u,
      0x1.4000000000000p+2 },
    { 0x0000000000000006u, 0xb3dca50a9daa37e5u, 0x4567ceb1u,
      0x1.8b8e71a9fe2c8p+36 },
    { 0x000000000004a5e6u, 0xbbeb508f4a800646u, 0x1ddd1334d909eb2u,
      0x1.3ec1ae669128ap+25 },
    { 0x0000001ee8af30f7u, 0xc70b53bf64d0b50fu, 0x33927f7d6u,
      0x1.32dbb10d80e22p+67 },
    { 0x0000000010aa6e88u, 0xcecf4f4e5ba80780u, 0x50fdcde560dbu,
      0x1.a56bac8d29b65p+45 },
    { 0x00aa59c18d242349u, 0x293a9acc2652f8ffu, 0x2a3a0c78u,
      0x1.02301def11c06p+90 },
    { 0x0000000000000000u, 0x26119aa41f7ea79cu, 0x154071d1481u,
      0x1.ca94455ac3b30p+20 },
    { 0x0000000001f4bc5au, 0xdaa4ed3c3454fae4u, 0x12aa467574c02u,
      0x1.ad3cbbda9ff63p+40 },
    { 0x000037d8182a3addu, 0x9b872a76e57b37e7u, 0x4a15u,
      0x1.81f3fda166066p+95 },
    { 0x0000000b183c74e2u, 0xdd66a3582e62fe86u, 0x560c480283872e75u,
      0x1.080f8adb23221p+37 },
    { 0x00000000000027f1u, 0x73dda73245552a83u, 0x7c17d84u,
      0x1.499b10bb9aeedp+50 },
  };

  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    {
      SegLabelStat st = { 0 };
      double       got;

      st.count     = cases[i].count;
      st.sum_hi[1] = cases[i].hi;
      st.sum_lo[1] = cases[i].lo;
      got          = seg_label_stat_mean (&st, 1);
      if (got != cases[i].mean)
        ck_abort_msg ("case %zu: mean %a, want %a", i, got, cases[i].mean);
    }
}
END_TEST

START_TEST (test_statistics_and_voxel_lists_match_reference)
{
  Rng           r         = rng_new ((uint64_t) _i, 41);
  const int     bpp       = pixel_sizes[rng_below (&r, 6)];
  const int     n_labels  = rng_chance (&r, 50) ? 2 : rng_range (&r, 3, 3000);
  const bool    sparse    = rng_chance (&r, 50);
  const bool    is_signed = bpp <= 8 && rng_chance (&r, 40);
  const int     coord     = rng_chance (&r, 50) ? 4 : 8;
  Buf           vol       = random_volume (&r, bpp, n_labels);
  SegLabelStats s;
  size_t        n_ref, *order;
  RefStat      *ref = reference_stats (&vol.v, sparse, &n_ref);
  int           n_bands;
  Band         *bands = random_bands (&r, &vol.v, &n_bands);
  uint64_t     *first, *next, total, want_total = 0;
  uint8_t      *list, *want_list;
  char          context[160];

  snprintf (context, sizeof context,
            "seed %d: %d×%d×%d, %d-byte labels of %d, sparse %d, signed %d", _i,
            vol.v.width, vol.v.height, vol.v.depth, bpp, n_labels, sparse,
            is_signed);

  /* Pass 1, the bands last first: the statistics do not depend on the
   * order. */
  ck_assert (seg_label_stats_init (&s, bpp, sparse));
  for (int i = n_bands - 1; i >= 0; i--)
    assert_status (
      seg_label_stats_add (&s, &bands[i].view, 0, bands[i].y0, bands[i].z0),
      SEG_OK, context);
  ck_assert_msg (s.labels.n == n_ref, "%s: %zu labels, want %zu", context,
                 s.labels.n, n_ref);

  reference_sort (ref, n_ref, bpp, is_signed);
  order = seg_label_stats_order (&s, is_signed);
  ck_assert_ptr_nonnull (order);
  for (size_t i = 0; i < n_ref; i++)
    {
      const SegLabelStat *st   = &s.stats[order[i]];
      bool                same = true;

      same &= memcmp (seg_label_table_label (&s.labels, order[i]), ref[i].label,
                      (size_t) bpp) == 0;
      same &= st->count == ref[i].count;
      for (int a = 0; a < 3; a++)
        {
          const double want = (double) (ref[i].sum[a] / ref[i].count);
          const double got  = seg_label_stat_mean (st, a);

          same &= st->min[a] == ref[i].min[a] && st->max[a] == ref[i].max[a];
          same &= fabs (got - want) <= 1e-12 * fmax (1.0, fabs (want));
        }
      if (!same)
        ck_abort_msg (
          "%s: label %zu in order (%s) differs from the "
          "reference (count %llu, want %llu)",
          context, i,
          hex_of (seg_label_table_label (&s.labels, order[i]), bpp).s,
          (unsigned long long) st->count, (unsigned long long) ref[i].count);
      want_total += ref[i].count;
    }

  /* Pass 2, the bands in raster order. */
  first = calloc (n_ref + 1, sizeof *first);
  next  = calloc (n_ref + 1, sizeof *next);
  total = seg_label_stats_first_rows (&s, order, first);
  ck_assert_uint_eq (total, want_total);
  memcpy (next, first, n_ref * sizeof *next);
  list = calloc (total + 1, 3 * (size_t) coord);
  for (int i = 0; i < n_bands; i++)
    assert_status (seg_label_stats_list (&s, &bands[i].view, 0, bands[i].y0,
                                         bands[i].z0, next, list, coord),
                   SEG_OK, context);

  /* The reference list: each label in order, its voxels in raster
   * order. */
  want_list = calloc (total + 1, 3 * (size_t) coord);
  for (size_t i = 0, row = 0; i < n_ref; i++)
    for (int z = 0; z < vol.v.depth; z++)
      for (int y = 0; y < vol.v.height; y++)
        for (int x = 0; x < vol.v.width; x++)
          if (memcmp (at (&vol.v, x, y, z), ref[i].label, (size_t) bpp) == 0)
            {
              const uint64_t c[3] = { (uint64_t) z, (uint64_t) y,
                                      (uint64_t) x };

              for (int a = 0; a < 3; a++)
                for (int byte = 0; byte < coord; byte++)
                  want_list[(row * 3 + (size_t) a) * (size_t) coord +
                            (size_t) byte] = (uint8_t) (c[a] >> (8 * byte));
              row++;
            }
  if (memcmp (list, want_list, total * 3 * (size_t) coord) != 0)
    ck_abort_msg ("%s: the voxel list differs from the reference", context);
  free (list);
  list = staged_list (&r, &s, bands, n_bands, first, total, coord, context);
  if (memcmp (list, want_list, total * 3 * (size_t) coord) != 0)
    ck_abort_msg ("%s: the voxel list made in small rooms differs from the "
                  "reference",
                  context);
  for (size_t i = 0; i < n_ref; i++)
    if (next[order[i]] != first[order[i]] + s.stats[order[i]].count)
      ck_abort_msg ("%s: label %zu's rows end at %llu", context, i,
                    (unsigned long long) next[order[i]]);

  free (want_list);
  free (list);
  free (next);
  free (first);
  free (order);
  free (bands);
  free (ref);
  seg_label_stats_free (&s);
  buf_free (&vol);
}
END_TEST

/* The order by value, by hand: signed labels sort below zero, unsigned
 * ones by their little-endian value, long ones by their bytes. */
START_TEST (test_order_by_value)
{
  const uint8_t vol16[] = { 0x01, 0x00, 0xff, 0xff, 0x00, 0x01, 0x80, 0x00 };
  SegVolume     v       = seg_volume_packed ((void *) vol16, 4, 1, 1, 2);
  SegLabelStats s;
  size_t       *order;

  /* 0x0001 = 1, 0xffff = 65535 or -1, 0x0100 = 256, 0x0080 = 128. */
  ck_assert (seg_label_stats_init (&s, 2, false));
  assert_status (seg_label_stats_add (&s, &v, 0, 0, 0), SEG_OK, "add");
  order = seg_label_stats_order (&s, false);
  ck_assert (order[0] == 0 && order[1] == 3 && order[2] == 2 && order[3] == 1);
  free (order);
  order = seg_label_stats_order (&s, true);
  ck_assert (order[0] == 1 && order[1] == 0 && order[2] == 3 && order[3] == 2);
  free (order);
  seg_label_stats_free (&s);
}
END_TEST

/* A view of another voxel size, negative offsets, a coordinate that does
 * not fit in 4 bytes and a label pass 1 never saw are refused. */
START_TEST (test_bad_arguments_are_refused)
{
  uint8_t       one[4] = { 7, 0, 0, 0 }, other[4] = { 9, 0, 0, 0 };
  SegVolume     v      = seg_volume_packed (one, 1, 1, 1, 4);
  SegVolume     w      = seg_volume_packed (other, 1, 1, 1, 4);
  SegVolume     narrow = seg_volume_packed (one, 2, 1, 1, 2);
  SegLabelStats s;
  uint64_t      next[1] = { 0 };
  uint8_t       out[24];

  ck_assert (!seg_label_stats_init (&s, 0, false));
  ck_assert (seg_label_stats_init (&s, 4, true));
  assert_status (seg_label_stats_add (&s, &narrow, 0, 0, 0), SEG_EBADARG,
                 "voxel size");
  assert_status (seg_label_stats_add (&s, &v, -1, 0, 0), SEG_EBADARG,
                 "negative x");
  assert_status (seg_label_stats_add (&s, NULL, 0, 0, 0), SEG_EBADARG,
                 "no view");
  assert_status (seg_label_stats_add (&s, &v, 0, 0, 0), SEG_OK, "add");
  assert_status (seg_label_stats_list (&s, &w, 0, 0, 0, next, out, 4),
                 SEG_EBADARG, "unseen label");
  assert_status (
    seg_label_stats_list (&s, &v, (int64_t) UINT32_MAX + 1, 0, 0, next, out, 4),
    SEG_EBADARG, "x past 4 bytes");
  assert_status (seg_label_stats_list (&s, &v, 0, 0, 0, next, out, 3),
                 SEG_EBADARG, "3-byte coordinates");
  assert_status (seg_label_stats_list (&s, &v, 0, 0, 0, next, out, 8), SEG_OK,
                 "list");
  ck_assert_uint_eq (next[0], 1);
  seg_label_stats_free (&s);
}
END_TEST

/* Labels as the CSV prints them, against integers made another way. */
START_TEST (test_label_text)
{
  Rng  r = rng_new (7, 43);
  char got[3 + 2 * SEG_MAX_BPP], want[3 + 2 * SEG_MAX_BPP];

  for (int trial = 0; trial < 4000; trial++)
    {
      const int  bpp       = pixel_sizes[rng_below (&r, 6)];
      const bool is_signed = bpp <= 8 && rng_chance (&r, 50);
      uint8_t    label[16];
      uint64_t   u = 0;

      for (int i = 0; i < bpp; i++)
        label[i] = rng_chance (&r, 30) ? (uint8_t) (0xff * rng_below (&r, 2))
                                       : (uint8_t) rng_next (&r);
      if (bpp > 8)
        {
          strcpy (want, "0x");
          for (int i = 0; i < bpp; i++)
            snprintf (want + 2 + 2 * i, 3, "%02x", label[i]);
        }
      else
        {
          memcpy (&u, label, (size_t) bpp); /* a little-endian host */
          if (is_signed)
            {
              const int shift = 64 - 8 * bpp;

              snprintf (want, sizeof want, "%lld",
                        (long long) ((int64_t) (u << shift) >> shift));
            }
          else
            snprintf (want, sizeof want, "%llu", (unsigned long long) u);
        }
      ck_assert_uint_eq (seg_label_text (label, bpp, is_signed, got),
                         strlen (want));
      if (strcmp (got, want) != 0)
        ck_abort_msg ("%d bytes %s, signed %d: \"%s\", want \"%s\"", bpp,
                      hex_of (label, bpp).s, is_signed, got, want);
    }
}
END_TEST

/* CSV rows read back give the statistics, centroids bit for bit. */
START_TEST (test_csv_rows_read_back)
{
  Rng           r   = rng_new ((uint64_t) _i, 44);
  const int     bpp = pixel_sizes[rng_below (&r, 6)];
  Buf           vol = random_volume (&r, bpp, rng_range (&r, 2, 300));
  SegLabelStats s;

  ck_assert (seg_label_stats_init (&s, bpp, false));
  assert_status (seg_label_stats_add (&s, &vol.v, 0, 0, 0), SEG_OK, "add");
  for (size_t k = 0; k < s.labels.n; k++)
    {
      const SegLabelStat *st = &s.stats[k];
      char                row[SEG_LABEL_STATS_CSV_ROW_MAX], label[140];
      unsigned long long  count, first;
      long long           b[6];
      double              c[3];
      size_t n = seg_label_stats_csv_row (&s, k, false, 7 * k, row);

      ck_assert_uint_eq (n, strlen (row));
      ck_assert (n > 0 && row[n - 1] == '\n');
      if (sscanf (row,
                  "%139[^,],%llu,%lld,%lld,%lld,%lld,%lld,%lld,%lf,%lf,"
                  "%lf,%llu",
                  label, &count, &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
                  &c[0], &c[1], &c[2], &first) != 12 ||
          count != st->count || first != 7 * k || b[0] != st->min[0] ||
          b[1] != st->min[1] || b[2] != st->min[2] || b[3] != st->max[0] ||
          b[4] != st->max[1] || b[5] != st->max[2] ||
          c[0] != seg_label_stat_mean (st, 0) ||
          c[1] != seg_label_stat_mean (st, 1) ||
          c[2] != seg_label_stat_mean (st, 2))
        ck_abort_msg ("seed %d: row \"%s\" does not read back", _i, row);
    }
  seg_label_stats_free (&s);
  buf_free (&vol);
}
END_TEST

int
main (void)
{
  const TTest *const plain[] = { test_order_by_value,
                                 test_bad_arguments_are_refused,
                                 test_label_text, test_mean_is_rounded_once };
  Suite             *s       = suite_create ("label-stats");

  add_tcase (s, "rules", 30, plain, 4);
  add_loop_tcase (s, "csv", 60, test_csv_rows_read_back, 20);
  add_loop_tcase (s, "random", 300,
                  test_statistics_and_voxel_lists_match_reference, 120);
  return run_suite (s);
}
