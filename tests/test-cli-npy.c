/* SPDX-License-Identifier: LGPL-3.0-or-later
 *
 * .npy files on the gegl command line: `gegl in.npy -o out.npy` must reach
 * seg:npy-load and seg:npy-save (GEGL's own gegl:npy-save would write RGB
 * float32), round-trip every dtype bit for bit, and run a whole pipeline on
 * a real label crop (npy → seg:countless-3d → npy) to the reference mode
 * pooling, writing a volume of the right shape.  Bad files give a message
 * naming the op, the file and the problem, and no output file.
 */
#include <check.h>
#include <gegl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/wait.h>

#include "cli-harness.h"
#include "gegl-harness.h"
#include "ref-mode-pool.h"
#include "seg-npy.h"

static gchar *data_dir;
static gchar *corpus_dir;

static gchar *
fixture_path (const gchar *name)
{
  return g_build_filename (data_dir, "npy", name, NULL);
}

static void
assert_shape (const SegNpyHeader *h, gint n_dims, const guint64 *shape)
{
  ck_assert_int_eq (h->n_dims, n_dims);
  for (gint i = 0; i < n_dims; i++)
    ck_assert_int_eq (h->shape[i], shape[i]);
}

/* ------------------------------------------------------------------------
 * Round trips
 * --------------------------------------------------------------------- */

static const gchar *const c_fixtures[] = {
  "b1-c.npy", "u1-c.npy", "u2-c.npy",    "u4-c.npy",  "u8-c.npy",
  "i1-c.npy", "i2-c.npy", "i4-c.npy",    "i8-c.npy",  "f2-c.npy",
  "f4-c.npy", "f8-c.npy", "u2-2d-c.npy", "u4-1d.npy", "f8-0d.npy",
};

/* gegl in.npy -o out.npy gives back NumPy's file, byte for byte (uint64
 * labels included, which gegl:npy-save would have turned into float). */
START_TEST (test_round_trip_gives_numpy_file)
{
  gchar       *in     = fixture_path (c_fixtures[_i]);
  gchar       *out    = tmp_path (c_fixtures[_i]);
  const gchar *args[] = { in, "-o", out, NULL };
  GBytes      *want   = file_bytes (in), *got;

  assert_gegl_succeeds (args);
  got = file_bytes (out);
  if (G_BYTE_ORDER == G_LITTLE_ENDIAN)
    ck_assert_msg (g_bytes_equal (got, want), "%s differs from %s", out, in);
  g_bytes_unref (got);
  g_bytes_unref (want);
  g_unlink (out);
  g_free (out);
  g_free (in);
}
END_TEST

/* Fortran order and big-endian files come back in C order and host order:
 * the same values, (X, Y, Z) as (Z, Y, X). */
START_TEST (test_round_trip_of_fortran_and_big_endian_files)
{
  static const gchar *const names[]  = { "u8-f.npy", "i8-be.npy" };
  const guint64             shape[3] = { 3, 5, 7 };
  gchar                    *c_path   = fixture_path ("u8-c.npy");
  gchar                    *i_path   = fixture_path ("i8-c.npy");
  GBytes                   *u8 = file_bytes (c_path), *i8 = file_bytes (i_path);

  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    {
      gchar       *in     = fixture_path (names[i]);
      gchar       *out    = tmp_path (names[i]);
      const gchar *args[] = { in, "-o", out, NULL };
      GBytes      *got, *want = i == 0 ? u8 : i8;
      SegNpyHeader h, w;

      assert_gegl_succeeds (args);
      got = file_bytes (out);
      h   = file_header (got);
      w   = file_header (want);
      assert_shape (&h, 3, shape);
      ck_assert (!h.fortran_order);
      ck_assert_int_eq (h.kind, w.kind);
      ck_assert (
        memcmp (file_data (got, &h), file_data (want, &w), h.data_size) == 0);
      g_bytes_unref (got);
      g_unlink (out);
      g_free (out);
      g_free (in);
    }
  g_bytes_unref (i8);
  g_bytes_unref (u8);
  g_free (i_path);
  g_free (c_path);
}
END_TEST

/* ------------------------------------------------------------------------
 * A real label crop through seg:countless-3d
 * --------------------------------------------------------------------- */

/* The bundled 128×128×64 crop (Y' u16 labels) as 64-bit labels that use
 * every byte: label l becomes l + (l × 0x9E3779B1) << 32, one to one. */
static guint64 *
label_crop_u64 (gint *width, gint *height)
{
  gchar    *png   = g_build_filename (data_dir, "volume-128x128x64.png", NULL);
  GeglNode *graph = gegl_node_new ();
  GeglNode *load =
    gegl_node_new_child (graph, "operation", "gegl:load", "path", png, NULL);
  GeglRectangle box    = gegl_node_get_bounding_box (load);
  guint16      *labels = g_new (guint16, (gsize) box.width * box.height);
  guint64      *wide   = g_new (guint64, (gsize) box.width * box.height);

  gegl_node_blit (load, 1.0, &box, babl_format ("Y' u16"), labels,
                  GEGL_AUTO_ROWSTRIDE, GEGL_BLIT_DEFAULT);
  for (gsize i = 0; i < (gsize) box.width * box.height; i++)
    wide[i] = labels[i] + (((guint64) labels[i] * 0x9E3779B1u) << 32);
  *width  = box.width;
  *height = box.height;
  g_object_unref (graph);
  g_free (labels);
  g_free (png);
  return wide;
}

static void
write_volume (const gchar *path, const guint64 *voxels, gint w, gint h, gint d)
{
  SegNpyHeader header = { 0 };
  guint8       bytes[SEG_NPY_WRITE_MAX_SIZE];
  gsize        n;
  GByteArray  *file = g_byte_array_new ();

  header.kind       = SEG_NPY_UINT;
  header.item_size  = 8;
  header.big_endian = G_BYTE_ORDER == G_BIG_ENDIAN;
  header.n_dims     = 3;
  header.shape[0]   = d;
  header.shape[1]   = h;
  header.shape[2]   = w;
  n                 = seg_npy_header_write (&header, bytes, sizeof bytes);
  g_byte_array_append (file, bytes, (guint) n);
  g_byte_array_append (file, (const guint8 *) voxels,
                       (guint) ((gsize) w * h * d * 8));
  ck_assert (
    g_file_set_contents (path, (const gchar *) file->data, file->len, NULL));
  g_byte_array_unref (file);
}

/* The reference: levels times 2×2×2 mode pooling of a (d, h, w) volume. */
static guint64 *
reference_pyramid (const guint64 *voxels, gint w, gint h, gint d, gint levels)
{
  guint64   *in = g_memdup2 (voxels, (gsize) w * h * d * 8);
  SegFactors f  = { 2, 2, 2 };

  for (gint l = 0; l < levels; l++)
    {
      gint      ow = (w + 1) / 2, oh = (h + 1) / 2, od = (d + 1) / 2;
      guint64  *out      = g_new (guint64, (gsize) ow * oh * od);
      SegVolume in_view  = seg_volume_packed (in, w, h, d, 8);
      SegVolume out_view = seg_volume_packed (out, ow, oh, od, 8);

      ref_mode_pool (&in_view, &out_view, &f, FALSE, SEG_BACKGROUND_ZEROS);
      g_free (in);
      in = out;
      w = ow, h = oh, d = od;
    }
  return in;
}

START_TEST (test_pipeline_on_label_crop_equals_reference)
{
  const gint    levels = _i + 1;
  gint          w, rows;
  guint64      *crop = label_crop_u64 (&w, &rows);
  const gint    d = rows / w, h = w;
  gchar        *in       = tmp_path ("crop.npy");
  gchar        *out      = tmp_path ("crop-pooled.npy");
  const gchar  *one[]    = { in,         "-o", out, "--", "seg:countless-3d",
                             "depth=64", NULL };
  const gchar  *two[]    = { in,
                             "-o",
                             out,
                             "--",
                             "seg:countless-3d",
                             "depth=64",
                             "seg:countless-3d",
                             "depth=32",
                             NULL };
  const guint64 shape[3] = { (guint64) d >> levels, (guint64) h >> levels,
                             (guint64) w >> levels };
  guint64      *want;
  GBytes       *got;
  SegNpyHeader  header;

  ck_assert_int_eq (w, 128);
  ck_assert_int_eq (d, 64);
  write_volume (in, crop, w, h, d);
  assert_gegl_succeeds (levels == 1 ? one : two);

  got    = file_bytes (out);
  header = file_header (got);
  ck_assert_int_eq (header.kind, SEG_NPY_UINT);
  ck_assert_int_eq (header.item_size, 8);
  assert_shape (&header, 3, shape);
  want = reference_pyramid (crop, w, h, d, levels);
  ck_assert (memcmp (file_data (got, &header), want, header.data_size) == 0);

  g_free (want);
  g_bytes_unref (got);
  g_unlink (out);
  g_unlink (in);
  g_free (out);
  g_free (in);
  g_free (crop);
}
END_TEST

/* A chain that ends in seg:npy-save sets the depth itself: 1 writes the
 * stack as one (H·D, W) image. */
START_TEST (test_chain_ending_in_npy_save_takes_its_depth)
{
  gint         w, rows;
  guint64     *crop     = label_crop_u64 (&w, &rows);
  gchar       *in       = tmp_path ("crop2.npy");
  gchar       *out      = tmp_path ("flat.npy");
  gchar       *path_arg = g_strdup_printf ("path=%s", out);
  const gchar *args[]   = {
      in,        "--", "seg:countless-3d", "depth=64", "seg:npy-save", path_arg,
      "depth=1", NULL
  };
  const guint64 shape[2] = { 64 * 32, 64 };
  GBytes       *got;
  SegNpyHeader  header;
  guint64      *want;

  write_volume (in, crop, w, w, rows / w);
  assert_gegl_succeeds (args);
  got    = file_bytes (out);
  header = file_header (got);
  assert_shape (&header, 2, shape);
  want = reference_pyramid (crop, w, w, rows / w, 1);
  ck_assert (memcmp (file_data (got, &header), want, header.data_size) == 0);

  g_free (want);
  g_bytes_unref (got);
  g_unlink (out);
  g_unlink (in);
  g_free (path_arg);
  g_free (out);
  g_free (in);
  g_free (crop);
}
END_TEST

/* A colour PNG becomes (H, W, 3) in u8, its own samples: not the linear
 * float RGB that gegl:npy-save writes. */
START_TEST (test_colour_png_keeps_its_samples)
{
  gchar        *png    = g_build_filename (data_dir, "labels-colour.png", NULL);
  gchar        *out    = tmp_path ("colour.npy");
  const gchar  *args[] = { png, "-o", out, NULL };
  const guint64 shape[3] = { 256, 256, 3 };
  GeglNode     *graph    = gegl_node_new ();
  GeglNode     *load =
    gegl_node_new_child (graph, "operation", "gegl:load", "path", png, NULL);
  GeglRectangle box  = gegl_node_get_bounding_box (load);
  guint8       *want = g_malloc ((gsize) box.width * box.height * 3);
  GBytes       *got;
  SegNpyHeader  header;

  gegl_node_blit (load, 1.0, &box, babl_format ("R'G'B' u8"), want,
                  GEGL_AUTO_ROWSTRIDE, GEGL_BLIT_DEFAULT);
  assert_gegl_succeeds (args);
  got    = file_bytes (out);
  header = file_header (got);
  ck_assert_int_eq (header.kind, SEG_NPY_UINT);
  ck_assert_int_eq (header.item_size, 1);
  assert_shape (&header, 3, shape);
  ck_assert (memcmp (file_data (got, &header), want, header.data_size) == 0);

  g_bytes_unref (got);
  g_object_unref (graph);
  g_free (want);
  g_unlink (out);
  g_free (out);
  g_free (png);
}
END_TEST

/* ------------------------------------------------------------------------
 * Bad input
 * --------------------------------------------------------------------- */

static const struct
{
  const gchar *file;
  const gchar *problem;
} bad_files[] = {
  { "bad-empty.npy", "empty" },
  /* Not one that starts like a PNG file: gegl:load would sniff it and
   * hand it to gegl:png-load. */
  { "bad-magic-text.npy", "magic string" },
  { "bad-header-cut.npy", "ends inside the header" },
  { "bad-version-4.npy", "4.0" },
  { "bad-key-missing-shape.npy", "shape" },
  { "bad-descr-object.npy", "Python objects" },
  { "bad-descr-complex.npy", "<c8" },
  { "bad-shape-negative.npy", "negative" },
  { "bad-shape-product-overflow.npy", "too large" },
  { "op-data-short.npy", "cut short" },
  { "op-4d.npy", "4 dimensions" },
};

/* gegl bad.npy -o out.npy: the loader says what is wrong, once.  Its
 * message may name the op again ("seg:npy-load reads images …"), so what
 * is counted is the op's prefix, "seg:npy-load: ". */
START_TEST (test_bad_file_is_refused)
{
  gchar       *in     = g_build_filename (corpus_dir, bad_files[_i].file, NULL);
  gchar       *out    = tmp_path ("never.npy");
  const gchar *args[] = { in, "-o", out, NULL };
  const gchar *parts[] = { "seg:npy-load: ", bad_files[_i].file,
                           bad_files[_i].problem, NULL };

  assert_gegl_refuses (args, out, parts);
  g_free (out);
  g_free (in);
}
END_TEST

START_TEST (test_missing_file_writes_nothing)
{
  gchar *out      = tmp_path ("never.npy");
  gchar *missing  = tmp_path ("missing.npy");
  gchar *path_arg = g_strdup_printf ("path=%s", missing);
  /* Through seg:npy-load: its own message. */
  const gchar *direct[] = { "-o", out, "--", "seg:npy-load", path_arg, NULL };
  const gchar *direct_parts[] = { "seg:npy-load: ", "missing.npy",
                                  "no such file", NULL };
  /* Through gegl:load, which renders an error text instead: seg:npy-save
   * does not write it. */
  const gchar *via_load[]       = { missing, "-o", out, NULL };
  const gchar *via_load_parts[] = { "seg:npy-save: ", "missing.npy",
                                    "could not load", NULL };

  assert_gegl_refuses (direct, out, direct_parts);
  assert_gegl_refuses (via_load, out, via_load_parts);
  g_free (path_arg);
  g_free (missing);
  g_free (out);
}
END_TEST

/* gegl typo.npy -o half.npy -- OP: gegl:load renders an error text, which
 * went through the op into the saver and replaced half.npy with a float
 * array of the pooled text.  The saver finds the failed load however far
 * upstream it is, says so, and the existing file stays. */
START_TEST (test_missing_input_through_an_op_keeps_existing_file)
{
  static const gchar *const ops[][3] = {
    { "seg:mode-pool", NULL },
    { "seg:sparse-average", NULL },
    { "seg:countless-3d", "depth=1" },
  };
  gchar       *out     = tmp_path ("half.npy");
  gchar       *missing = tmp_path ("typo.npy");
  const gchar *args[]  = {
     missing, "-o", out, "--", ops[_i][0], ops[_i][1], NULL
  };
  const gchar *old      = "the half.npy that was there";
  gchar       *contents = NULL;
  Run          run;

  ck_assert (g_file_set_contents (out, old, -1, NULL));
  run = run_gegl (args);
  ck_assert_msg (WIFEXITED (run.wait_status), "gegl crashed: %s",
                 run.stderr_text);
  ck_assert_msg (strstr (run.stderr_text, "seg:npy-save: ") != NULL &&
                   strstr (run.stderr_text, "typo.npy") != NULL &&
                   strstr (run.stderr_text, "could not load") != NULL,
                 "%s: no message from the saver: %s", ops[_i][0],
                 run.stderr_text);
  ck_assert (g_file_get_contents (out, &contents, NULL, NULL));
  ck_assert_msg (strcmp (contents, old) == 0, "%s: half.npy was replaced",
                 ops[_i][0]);
  run_free (&run);
  g_free (contents);
  g_unlink (out);
  g_free (missing);
  g_free (out);
}
END_TEST

/* A 1-D array of 2^24 bytes took 21 s to copy (2 GiB of GEGL tiles, most
 * of them in GEGL's swap file): now refused at once, saying what to do. */
START_TEST (test_too_thin_array_is_refused)
{
  gchar       *in      = tmp_path ("long.npy");
  gchar       *out     = tmp_path ("long-copy.npy");
  const gchar *args[]  = { in, "-o", out, NULL };
  const gchar *parts[] = { "seg:npy-load: ", "long.npy", "(16777216,)",
                           "a.reshape(-1, k)", NULL };
  SegNpyHeader h       = { 0 };
  guint8      *data    = g_malloc0 ((gsize) 1 << 24);

  h.kind      = SEG_NPY_UINT;
  h.item_size = 1;
  h.n_dims    = 1;
  h.shape[0]  = (guint64) 1 << 24;
  h.data_size = h.shape[0];
  file_write_npy (in, &h, data);
  assert_gegl_refuses (args, out, parts);
  g_unlink (in);
  g_free (data);
  g_free (out);
  g_free (in);
}
END_TEST

START_TEST (test_unwritable_output_is_reported)
{
  gchar       *in      = fixture_path ("u4-c.npy");
  gchar       *out     = tmp_path ("no-such-folder/out.npy");
  const gchar *args[]  = { in, "-o", out, NULL };
  const gchar *parts[] = { "seg:npy-save: ", "out.npy", "cannot write", NULL };

  assert_gegl_refuses (args, out, parts);
  g_free (out);
  g_free (in);
}
END_TEST

static Suite *
cli_npy_suite (void)
{
  Suite *s      = suite_create ("cli-npy");
  TCase *trips  = harness_tcase (s, "round trips");
  TCase *pipes  = harness_tcase (s, "pipelines");
  TCase *errors = harness_tcase (s, "errors");

  tcase_add_loop_test (trips, test_round_trip_gives_numpy_file, 0,
                       G_N_ELEMENTS (c_fixtures));
  tcase_add_test (trips, test_round_trip_of_fortran_and_big_endian_files);
  tcase_add_loop_test (pipes, test_pipeline_on_label_crop_equals_reference, 0,
                       2);
  tcase_add_test (pipes, test_chain_ending_in_npy_save_takes_its_depth);
  tcase_add_test (pipes, test_colour_png_keeps_its_samples);
  tcase_add_loop_test (errors, test_bad_file_is_refused, 0,
                       G_N_ELEMENTS (bad_files));
  tcase_add_test (errors, test_missing_file_writes_nothing);
  tcase_add_test (errors, test_unwritable_output_is_reported);
  tcase_add_loop_test (
    errors, test_missing_input_through_an_op_keeps_existing_file, 0, 3);
  tcase_add_test (errors, test_too_thin_array_is_refused);
  return s;
}

int
main (int argc, char **argv)
{
  gint status;

  data_dir   = env_or ("SEG_DATA_DIR", "data");
  corpus_dir = env_or ("SEG_NPY_CORPUS", "tests/npy-corpus");
  tmp_dir_make ("gegl-seg-cli-npy-XXXXXX");
  harness_init (&argc, &argv);
  status = harness_run (cli_npy_suite ());
  tmp_dir_remove ();
  g_free (corpus_dir);
  g_free (data_dir);
  return status;
}
