/* SPDX-License-Identifier: LGPL-3.0-or-later
 *
 * seg:label-stats in GEGL graphs (issue 14): both files against a slow,
 * obviously-correct reference written here (every voxel looked up in a
 * hash table of its label's bytes, labels sorted by the value DESIGN.md
 * gives them, the CSV printed with printf) on random stacks — 1, 2, 3, 4,
 * 8 and 16-byte pixels, the signed .npy formats, two labels and
 * thousands, runs and noise, sparse on and off, depth 1 … 6, sizes 1 …
 * 40, random tile grids —; the depth from the graph; and the bad inputs:
 * a depth that does not divide the height, an empty input, a source that
 * failed, missing folders, the same file twice, a write that fails (at a
 * file size limit, as at a full disk), every case of what a path may lead
 * to (file-harness.h).  Whatever fails, no file is written and existing
 * ones stay as they were.
 */
#define _POSIX_C_SOURCE 200809L
#include <check.h>
#include <gegl.h>
#include <glib/gstdio.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "file-harness.h"
#include "gegl-harness.h"
#include "ref-mode-pool.h"
#include "seg-npy.h"

/* ------------------------------------------------------------------------
 * The reference
 * --------------------------------------------------------------------- */

typedef struct
{
  const guint8 *label; /* bpp bytes                                  */
  guint64       count;
  gint64        min[3], max[3]; /* x, y, z                            */
  guint64       sum[3];
  GArray       *voxels; /* guint32 z, y, x, in raster order          */
} RefLabel;

typedef struct
{
  gint       bpp;
  gboolean   is_signed;
  GPtrArray *labels; /* RefLabel *, sorted by refs_sort ()        */
  guint64    n_voxels;
} Ref;

static guint
label_hash (gconstpointer key)
{
  return g_bytes_hash (key);
}

static gboolean
label_equal (gconstpointer a, gconstpointer b)
{
  return g_bytes_equal (a, b);
}

/* A label's value as DESIGN.md orders labels of up to 8 bytes: the
 * integer of its little-endian bytes, sign-extended when signed. */
static gint64
label_value (const guint8 *label, gint bpp, gboolean is_signed, guint64 *u)
{
  guint64 v = 0;

  for (gint i = bpp - 1; i >= 0; i--)
    v = (v << 8) | label[i];
  *u = v;
  if (is_signed && bpp < 8 && (v >> (8 * bpp - 1)) & 1)
    v |= ~(guint64) 0 << (8 * bpp);
  return (gint64) v;
}

static gint ref_bpp, ref_signed;

static gint
compare_labels (gconstpointer pa, gconstpointer pb)
{
  const RefLabel *a = *(RefLabel *const *) pa, *b = *(RefLabel *const *) pb;
  guint64         ua, ub;
  gint64          sa, sb;

  if (ref_bpp > 8)
    return memcmp (a->label, b->label, (gsize) ref_bpp);
  sa = label_value (a->label, ref_bpp, ref_signed, &ua);
  sb = label_value (b->label, ref_bpp, ref_signed, &ub);
  if (ref_signed)
    return sa < sb ? -1 : sa > sb;
  return ua < ub ? -1 : ua > ub;
}

/* The reference statistics of a stack of depth slices of w × h pixels. */
static Ref
ref_new (const guint8 *px,
         gint          w,
         gint          h,
         gint          depth,
         gint          bpp,
         gboolean      is_signed,
         gboolean      sparse,
         SegBackground bg)
{
  GHashTable *table = g_hash_table_new_full (
    label_hash, label_equal, (GDestroyNotify) g_bytes_unref, NULL);
  const gint sh  = h / depth;
  Ref        ref = { bpp, is_signed, g_ptr_array_new (), 0 };

  for (gint z = 0; z < depth; z++)
    for (gint y = 0; y < sh; y++)
      for (gint x = 0; x < w; x++)
        {
          const guint8 *label  = px + ((gsize) (z * sh + y) * w + x) * bpp;
          GBytes       *key    = g_bytes_new_static (label, (gsize) bpp);
          RefLabel     *l      = g_hash_table_lookup (table, key);
          const gint64  at[3]  = { x, y, z };
          const guint32 zyx[3] = { (guint32) z, (guint32) y, (guint32) x };

          if (sparse && ref_is_background (label, bpp, bg))
            {
              g_bytes_unref (key);
              continue;
            }
          if (l == NULL)
            {
              l         = g_new0 (RefLabel, 1);
              l->label  = label;
              l->voxels = g_array_new (FALSE, FALSE, sizeof (guint32));
              for (gint a = 0; a < 3; a++)
                l->min[a] = l->max[a] = at[a];
              g_hash_table_insert (table, key, l);
              g_ptr_array_add (ref.labels, l);
            }
          else
            g_bytes_unref (key);
          l->count++;
          for (gint a = 0; a < 3; a++)
            {
              l->min[a] = MIN (l->min[a], at[a]);
              l->max[a] = MAX (l->max[a], at[a]);
              l->sum[a] += (guint64) at[a];
            }
          g_array_append_vals (l->voxels, zyx, 3);
          ref.n_voxels++;
        }
  g_hash_table_destroy (table);
  ref_bpp    = bpp;
  ref_signed = is_signed;
  g_ptr_array_sort (ref.labels, compare_labels);
  return ref;
}

static void
ref_free (Ref *ref)
{
  for (guint i = 0; i < ref->labels->len; i++)
    {
      RefLabel *l = g_ptr_array_index (ref->labels, i);

      g_array_free (l->voxels, TRUE);
      g_free (l);
    }
  g_ptr_array_free (ref->labels, TRUE);
}

/* The CSV as DESIGN.md says it, printed here. */
static gchar *
ref_csv (const Ref *ref, gboolean with_voxels)
{
  GString *s     = g_string_new ("label,count,x_min,y_min,z_min,x_max,y_max,"
                                     "z_max,centroid_x,centroid_y,centroid_z,first\n");
  guint64  first = 0;

  for (guint i = 0; i < ref->labels->len; i++)
    {
      const RefLabel *l = g_ptr_array_index (ref->labels, i);
      guint64         u;
      gint64 v = label_value (l->label, MIN (ref->bpp, 8), ref->is_signed, &u);

      if (ref->bpp > 8)
        {
          g_string_append (s, "0x");
          for (gint b = 0; b < ref->bpp; b++)
            g_string_append_printf (s, "%02x", l->label[b]);
        }
      else if (ref->is_signed)
        g_string_append_printf (s, "%" G_GINT64_FORMAT, v);
      else
        g_string_append_printf (s, "%" G_GUINT64_FORMAT, u);
      g_string_append_printf (
        s,
        ",%" G_GUINT64_FORMAT ",%" G_GINT64_FORMAT ",%" G_GINT64_FORMAT
        ",%" G_GINT64_FORMAT ",%" G_GINT64_FORMAT ",%" G_GINT64_FORMAT
        ",%" G_GINT64_FORMAT ",%.17g,%.17g,%.17g,%" G_GUINT64_FORMAT "\n",
        l->count, l->min[0], l->min[1], l->min[2], l->max[0], l->max[1],
        l->max[2], (double) l->sum[0] / (double) l->count,
        (double) l->sum[1] / (double) l->count,
        (double) l->sum[2] / (double) l->count, with_voxels ? first : 0);
      first += l->count;
    }
  return g_string_free (s, FALSE);
}

/* The voxel file's rows, label after label. */
static guint32 *
ref_voxels (const Ref *ref)
{
  guint32 *rows = g_new (guint32, 3 * MAX (ref->n_voxels, 1));
  gsize    n    = 0;

  for (guint i = 0; i < ref->labels->len; i++)
    {
      const RefLabel *l = g_ptr_array_index (ref->labels, i);

      memcpy (rows + n, l->voxels->data, l->voxels->len * sizeof (guint32));
      n += l->voxels->len;
    }
  return rows;
}

/* ------------------------------------------------------------------------
 * Running the op
 * --------------------------------------------------------------------- */

/* source → seg:label-stats path voxels_path (NULL: none) depth sparse;
 * what GEGL and the op said (free it). */
static gchar *
run_stats (GeglNode    *graph,
           GeglNode    *source,
           const gchar *path,
           const gchar *voxels_path,
           gint         depth,
           gboolean     sparse)
{
  GeglNode *sink = gegl_node_new_child (
    graph, "operation", "seg:label-stats", "path", path, "voxels-path",
    voxels_path ? voxels_path : "", "depth", depth, "sparse", sparse, NULL);

  gegl_node_link (source, sink);
  log_capture_begin ();
  gegl_node_process (sink);
  return log_capture_end ();
}

/* A buffer source over a copy of px. */
static GeglNode *
buffer_source (GeglNode            *graph,
               const GeglRectangle *rect,
               const Babl          *format,
               const guint8        *px,
               gint                 tile_w,
               gint                 tile_h)
{
  GeglBuffer *buffer =
    buffer_new_with_pixels (rect, format, px, tile_w, tile_h, 0, 0);
  GeglNode *node = gegl_node_new_child (
    graph, "operation", "gegl:buffer-source", "buffer", buffer, NULL);

  g_object_unref (buffer);
  return node;
}

/* path holds text exactly; else the first line that differs is shown
 * (check's messages have a size limit). */
static void
assert_file_text (const gchar *path, const gchar *want, const gchar *what)
{
  gchar  *got = file_text (path);
  gchar **a, **b;
  gint    i = 0;

  if (g_strcmp0 (got, want) == 0)
    {
      g_free (got);
      return;
    }
  a = g_strsplit (got ? got : "", "\n", -1);
  b = g_strsplit (want, "\n", -1);
  while (a[i] != NULL && b[i] != NULL && strcmp (a[i], b[i]) == 0)
    i++;
  ck_abort_msg ("%s: the CSV differs at line %d: \"%.200s\", want \"%.200s\"",
                what, i + 1, a[i] ? a[i] : "(end)", b[i] ? b[i] : "(end)");
}

/* path holds an (n, 3) <u4 array of rows. */
static void
assert_voxel_file (const gchar   *path,
                   const guint32 *rows,
                   guint64        n,
                   const gchar   *what)
{
  GBytes      *file = file_bytes (path);
  SegNpyHeader h    = file_header (file);

  ck_assert_msg (h.kind == SEG_NPY_UINT && h.item_size == 4 && h.n_dims == 2 &&
                   h.shape[0] == n && h.shape[1] == 3 && !h.fortran_order,
                 "%s: the voxel file's header", what);
  if (n > 0 && memcmp (file_data (file, &h), rows, n * 3 * 4) != 0)
    ck_abort_msg ("%s: the voxel file's rows differ", what);
  g_bytes_unref (file);
}

/* ------------------------------------------------------------------------
 * Random stacks against the reference
 * --------------------------------------------------------------------- */

typedef struct
{
  const gchar *format;
  gboolean     is_signed;
} FormatCase;

static const FormatCase formats[] = {
  { "Y u8", FALSE },     { "Y u16", FALSE },      { "R'G'B' u8", FALSE },
  { "Y u32", FALSE },    { "seg uint64", FALSE }, { "RGBA float", FALSE },
  { "seg int8", TRUE },  { "seg int16", TRUE },   { "seg int32", TRUE },
  { "seg int64", TRUE }, { "R'G'B'A u8", FALSE }, { "Y'A u16", FALSE },
};

/* Random labels: n_labels distinct ones (the first all zeros when
 * with_zero; in formats with alpha, a quarter of the others transparent
 * or black), in runs along rows of 1 … max_run pixels. */
static guint8 *
random_labels (guint64      *rng,
               gint          n_px,
               gint          bpp,
               SegBackground bg,
               gint          n_labels,
               gboolean      with_zero,
               gint          max_run)
{
  guint8 *palette = g_malloc ((gsize) n_labels * bpp);
  guint8 *px      = g_malloc ((gsize) MAX (n_px, 1) * bpp);

  for (gint i = 0; i < n_labels * bpp; i++)
    palette[i] = (guint8) splitmix64 (rng);
  for (gint i = 0; i < n_labels; i++)
    if (bg.alpha_size > 0 && rand_range (rng, 0, 3) == 0)
      draw_background (palette + (gsize) i * bpp, bpp, bg, rng);
  if (with_zero)
    memset (palette, 0, (gsize) bpp);
  for (gint i = 0; i < n_px;)
    {
      const gint pick = rand_range (rng, 0, n_labels - 1);
      const gint len  = rand_range (rng, 1, max_run);
      const gint run  = MIN (len, n_px - i);

      for (gint r = 0; r < run; r++, i++)
        memcpy (px + (gsize) i * bpp, palette + (gsize) pick * bpp,
                (gsize) bpp);
    }
  g_free (palette);
  return px;
}

START_TEST (test_random_stacks_match_the_reference)
{
  guint64           rng    = 0x1AB5u + (guint64) _i * 7919u;
  const FormatCase *fc     = &formats[_i % G_N_ELEMENTS (formats)];
  const Babl       *format = babl_format (fc->format);
  const gint        bpp    = babl_format_get_bytes_per_pixel (format);
  /* Case 0 is a single voxel. */
  const gint     w      = _i == 0 ? 1 : rand_range (&rng, 1, 40);
  const gint     sh     = _i == 0 ? 1 : rand_range (&rng, 1, 40);
  const gint     depth  = _i == 0 ? 1 : rand_range (&rng, 1, 6);
  const gint     h      = sh * depth;
  const gboolean sparse = rand_range (&rng, 0, 1);
  const gint     n_px   = w * h;
  const gint     n_labels =
    rand_range (&rng, 0, 1) ? 2 : MAX (2, MIN (3000, n_px / 2));
  const gboolean      with_zero = rand_range (&rng, 0, 2) != 0;
  const gint          max_run   = rand_range (&rng, 0, 1) ? 1 : 24;
  const GeglRectangle rect      = { 0, 0, w, h };
  guint8             *px;
  GeglNode           *graph, *source;
  gchar              *csv = tmp_path ("stats.csv"), *vox = tmp_path ("vox.npy");
  gchar              *log, *want, *what;
  guint32            *rows;
  Ref                 ref;

  const SegBackground bg = format_background (format);

  /* Two labels or all 256 of one byte. */
  px   = random_labels (&rng, n_px, bpp, bg,
                      bpp == 1 ? MIN (n_labels, 256) : n_labels, with_zero,
                        max_run);
  what = g_strdup_printf ("%s %d×%d×%d sparse %d, %d labels, runs ≤ %d",
                          fc->format, w, sh, depth, sparse, n_labels, max_run);
  ref  = ref_new (px, w, h, depth, bpp, fc->is_signed, sparse, bg);

  graph  = gegl_node_new ();
  source = buffer_source (graph, &rect, format, px, rand_range (&rng, 1, 48),
                          rand_range (&rng, 1, 48));
  /* Odd cases stage the voxel list in a few rows at a time, so that
   * labels' rooms fill and are written out piece by piece. */
  if (_i % 2 == 1)
    {
      gchar bytes[16];

      g_snprintf (bytes, sizeof bytes, "%d", 12 * rand_range (&rng, 1, 8));
      g_setenv ("SEG_LABEL_STATS_STAGING_BYTES", bytes, TRUE);
    }
  log = run_stats (graph, source, csv, vox, depth, sparse);
  g_unsetenv ("SEG_LABEL_STATS_STAGING_BYTES");
  assert_no_messages (log, what);
  want = ref_csv (&ref, TRUE);
  assert_file_text (csv, want, what);
  rows = ref_voxels (&ref);
  assert_voxel_file (vox, rows, ref.n_voxels, what);
  g_free (want);
  g_free (rows);

  /* Without a voxel file: the same CSV with every first row 0, and no
   * voxel file. */
  g_unlink (vox);
  log = run_stats (graph, source, csv, NULL, depth, sparse);
  assert_no_messages (log, what);
  want = ref_csv (&ref, FALSE);
  assert_file_text (csv, want, what);
  ck_assert (!g_file_test (vox, G_FILE_TEST_EXISTS));
  g_unlink (csv);

  g_free (want);
  ref_free (&ref);
  g_object_unref (graph);
  g_free (what);
  g_free (px);
  g_free (vox);
  g_free (csv);
}
END_TEST

/* ------------------------------------------------------------------------
 * The depth from the graph
 * --------------------------------------------------------------------- */

/* A (3, 2, 4) uint16 file through seg:npy-load: depth 0 counts it as 3
 * slices; depth 1 as one image of 6 rows. */
START_TEST (test_depth_from_the_graph)
{
  static const guint16 px[24] = { 0, 5, 5, 0, 5, 0, 0, 7, /* slice 0 */
                                  0, 0, 0, 0, 7, 7, 0, 0, /* slice 1 */
                                  5, 0, 0, 0, 0, 0, 0, 7 };
  SegNpyHeader         h      = { .kind      = SEG_NPY_UINT,
                                  .item_size = 2,
                                  .n_dims    = 3,
                                  .shape     = { 3, 2, 4 },
                                  .n_items   = 24,
                                  .data_size = 48 };
  gchar               *in = tmp_path ("in.npy"), *csv = tmp_path ("s.csv");
  gchar               *vox   = tmp_path ("v.npy");
  GeglNode            *graph = gegl_node_new (), *load;
  gchar               *log;
  static const guint32 rows[] = { 0, 0, 1, 0, 0, 2, 0, 1, 0, 2, 0, 0,
                                  0, 1, 3, 1, 1, 0, 1, 1, 1, 2, 1, 3 };

  file_write_npy (in, &h, px);
  load =
    gegl_node_new_child (graph, "operation", "seg:npy-load", "path", in, NULL);
  log = run_stats (graph, load, csv, vox, 0, TRUE);
  assert_no_messages (log, "depth 0");
  assert_file_text (csv,
                    "label,count,x_min,y_min,z_min,x_max,y_max,z_max,"
                    "centroid_x,centroid_y,centroid_z,first\n"
                    "5,4,0,0,0,2,1,2,0.75,0.25,0.5,0\n"
                    "7,4,0,1,0,3,1,2,1.75,1,1,4\n",
                    "depth 0");
  assert_voxel_file (vox, rows, 8, "depth 0");

  log = run_stats (graph, load, csv, NULL, 1, TRUE);
  assert_no_messages (log, "depth 1");
  assert_file_text (csv,
                    "label,count,x_min,y_min,z_min,x_max,y_max,z_max,"
                    "centroid_x,centroid_y,centroid_z,first\n"
                    "5,4,0,0,0,2,4,0,0.75,1.25,0,0\n"
                    "7,4,0,1,0,3,5,0,1.75,3,0,0\n",
                    "depth 1");
  g_object_unref (graph);
  g_free (vox);
  g_free (csv);
  g_free (in);
}
END_TEST

/* ------------------------------------------------------------------------
 * Bad input: one message, no file, existing files intact
 * --------------------------------------------------------------------- */

/* Runs the op on a 3 × 6 Y u8 image with old files at both paths, and
 * checks that it said `part` once, named path, and wrote nothing. */
static void
assert_refused (const gchar *csv,
                const gchar *vox,
                gint         depth,
                const gchar *part)
{
  static const guint8 px[18] = { 1, 2, 3, 4, 5, 6, 7, 8, 9,
                                 1, 2, 3, 4, 5, 6, 7, 8, 9 };
  const GeglRectangle rect   = { 0, 0, 3, 6 };
  GeglNode           *graph  = gegl_node_new ();
  GeglNode           *source =
    buffer_source (graph, &rect, babl_format ("Y u8"), px, 64, 64);
  gchar *log, *folder = g_path_get_dirname (csv);

  log = run_stats (graph, source, csv, vox, depth, TRUE);
  assert_has (log, "seg:label-stats: ");
  assert_has (log, part);
  assert_has (log, "Nothing was written.");
  ck_assert_int_eq (count_occurrences (log, "seg:label-stats"), 1);
  g_free (log);
  g_object_unref (graph);
  g_free (folder);
}

START_TEST (test_bad_depth_writes_nothing)
{
  gchar *csv = in_test_folder ("s.csv"), *vox = in_test_folder ("v.npy");

  write_text (csv, "old csv", 0644);
  write_text (vox, "old npy", 0644);
  assert_refused (csv, vox, 4,
                  "depth is 4; it must be 0 (from the graph) or a whole "
                  "number that divides the input height 6");
  assert_text (csv, "old csv");
  assert_text (vox, "old npy");
  assert_no_temporaries (g_path_get_dirname (csv));
  g_free (vox);
  g_free (csv);
}
END_TEST

START_TEST (test_missing_folders_write_nothing)
{
  gchar *csv  = in_test_folder ("s.csv");
  gchar *vox  = in_test_folder ("no-such-folder/v.npy");
  gchar *csv2 = in_test_folder ("no-such-folder/s.csv");

  write_text (csv, "old csv", 0644);
  /* The voxel file's folder is missing: the CSV is not written either. */
  assert_refused (csv, vox, 1, "cannot write the voxel file");
  assert_text (csv, "old csv");
  /* The CSV's folder is missing. */
  assert_refused (csv2, NULL, 1, "cannot write the file");
  ck_assert (!g_file_test (csv2, G_FILE_TEST_EXISTS));
  g_free (csv2);
  g_free (vox);
  g_free (csv);
}
END_TEST

START_TEST (test_the_same_file_twice_is_refused)
{
  gchar *csv  = in_test_folder ("s.csv");
  gchar *link = in_test_folder ("link.csv");

  write_text (csv, "old csv", 0644);
  assert_refused (csv, csv, 1, "path and voxels-path name the same file");
  make_link ("s.csv", link);
  assert_refused (csv, link, 1, "path and voxels-path name the same file");
  assert_text (csv, "old csv");
  g_free (link);
  g_free (csv);
}
END_TEST

/* A voxel file that cannot get its room (a file size limit, as a full
 * disk): both old files stay, no temporary file. */
START_TEST (test_failed_write_leaves_both_old_files)
{
  gchar *csv = in_test_folder ("s.csv"), *vox = in_test_folder ("v.npy");
  gchar *folder = g_path_get_dirname (csv);

  write_text (csv, "old csv", 0640);
  write_text (vox, "old npy", 0600);
  file_size_limit_begin (100);
  assert_refused (csv, vox, 1, "cannot write the voxel file");
  file_size_limit_end ();
  assert_text (csv, "old csv");
  assert_text (vox, "old npy");
  ck_assert_int_eq (mode_of (csv) & 07777, 0640);
  assert_no_temporaries (folder);

  /* Room for the voxel file (64 + 18 × 12 bytes), not for the CSV. */
  file_size_limit_begin (300);
  assert_refused (csv, vox, 1, "cannot write the file");
  file_size_limit_end ();
  assert_text (csv, "old csv");
  assert_text (vox, "old npy");
  assert_no_temporaries (folder);
  g_free (folder);
  g_free (vox);
  g_free (csv);
}
END_TEST

/* A source that failed (seg:npy-load of a missing file, an empty array):
 * nothing is written. */
START_TEST (test_failed_or_empty_source_writes_nothing)
{
  gchar       *csv   = in_test_folder ("s.csv");
  gchar       *empty = in_test_folder ("empty.npy");
  SegNpyHeader h     = {
        .kind = SEG_NPY_UINT, .item_size = 4, .n_dims = 3, .shape = { 0, 3, 4 }
  };
  const gchar *inputs[] = { "/no/such/file.npy", empty };

  file_write_npy (empty, &h, NULL);
  write_text (csv, "old csv", 0644);
  for (gsize i = 0; i < G_N_ELEMENTS (inputs); i++)
    {
      GeglNode *graph = gegl_node_new ();
      GeglNode *load  = gegl_node_new_child (graph, "operation", "seg:npy-load",
                                             "path", inputs[i], NULL);
      gchar    *log   = run_stats (graph, load, csv, NULL, 0, TRUE);

      ck_assert_msg (log[0] != '\0', "%s: no message", inputs[i]);
      assert_text (csv, "old csv");
      g_free (log);
      g_object_unref (graph);
    }
  g_free (empty);
  g_free (csv);
}
END_TEST

/* ------------------------------------------------------------------------
 * What a path may lead to
 * --------------------------------------------------------------------- */

static const guint8 target_px[4] = { 3, 0, 3, 9 };

/* Writes the statistics of a 2 × 2 Y u8 image to path: TRUE when nothing
 * was said, else FALSE with the problem the op's one message gives. */
static gboolean
write_stats (const gchar *path, gchar **problem)
{
  const GeglRectangle rect  = { 0, 0, 2, 2 };
  GeglNode           *graph = gegl_node_new ();
  GeglNode           *source =
    buffer_source (graph, &rect, babl_format ("Y u8"), target_px, 64, 64);
  gchar *log = run_stats (graph, source, path, NULL, 1, TRUE);

  *problem = sink_write_problem (log, "seg:label-stats", path);
  g_object_unref (graph);
  g_free (log);
  return *problem == NULL;
}

static void
assert_holds_stats (const gchar *path)
{
  assert_text (path, "label,count,x_min,y_min,z_min,x_max,y_max,z_max,"
                     "centroid_x,centroid_y,centroid_z,first\n"
                     "3,2,0,0,0,0,1,0,0,0.5,0,0\n"
                     "9,1,1,1,0,1,1,0,1,1,0,0\n");
}

START_TEST (test_target_case)
{
  static const Writer writer = { write_stats, assert_holds_stats };

  target_case_run (_i, &writer);
}
END_TEST

static Suite *
label_stats_suite (void)
{
  Suite *s        = suite_create ("gegl-label-stats");
  TCase *random   = harness_tcase (s, "random stacks");
  TCase *graph    = harness_tcase (s, "graph");
  TCase *failures = harness_tcase (s, "failures");
  TCase *targets  = harness_tcase (s, "what a path leads to");

  tcase_add_loop_test (random, test_random_stacks_match_the_reference, 0, 120);
  tcase_add_test (graph, test_depth_from_the_graph);
  tcase_add_checked_fixture (failures, test_folder_setup,
                             file_harness_teardown);
  tcase_add_test (failures, test_bad_depth_writes_nothing);
  tcase_add_test (failures, test_missing_folders_write_nothing);
  tcase_add_test (failures, test_the_same_file_twice_is_refused);
  tcase_add_test (failures, test_failed_write_leaves_both_old_files);
  tcase_add_test (failures, test_failed_or_empty_source_writes_nothing);
  tcase_add_checked_fixture (targets, NULL, file_harness_teardown);
  tcase_add_loop_test (targets, test_target_case, 0, target_case_count ());
  return s;
}

int
main (int argc, char **argv)
{
  harness_init (&argc, &argv);
  tmp_dir_make ("seg-label-stats-XXXXXX");
  return harness_run (label_stats_suite ());
}
