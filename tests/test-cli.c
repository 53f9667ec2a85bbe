/* SPDX-License-Identifier: LGPL-3.0-or-later
 *
 * The gegl command line on the PNG label images in data/: chains and XML
 * graphs are run with the real `gegl` program, their output files are read
 * back and their raw sample values compared with the reference pooling
 * (mode or average) of the input's raw values.  gegl-imgcmp is not used: it passes when the
 * reference image is missing.
 */
#include <check.h>
#include <gegl.h>
#include <string.h>
#include <sys/wait.h>

#include "cli-harness.h"
#include "gegl-harness.h"
#include "ref-average-pool.h"
#include "ref-mode-pool.h"

static gchar *data_dir;

/* An image as raw bytes in its file's own format. */
typedef struct
{
  guint8     *bytes;
  gint        width, height, bpp;
  const Babl *format;
} Image;

static gchar *
data_path (const gchar *name)
{
  return g_build_filename (data_dir, name, NULL);
}

static Image
image_load (const gchar *path)
{
  GeglNode     *graph  = gegl_node_new ();
  GeglBuffer   *buffer = NULL;
  GeglNode     *load, *sink;
  GeglRectangle extent;
  Image         image;

  ck_assert_msg (g_file_test (path, G_FILE_TEST_IS_REGULAR), "no file %s",
                 path);
  load =
    gegl_node_new_child (graph, "operation", "gegl:load", "path", path, NULL);
  sink = gegl_node_new_child (graph, "operation", "gegl:buffer-sink", "buffer",
                              &buffer, NULL);
  gegl_node_link (load, sink);
  gegl_node_process (sink);
  g_object_unref (graph);
  ck_assert_ptr_nonnull (buffer);

  extent       = *gegl_buffer_get_extent (buffer);
  image.format = gegl_buffer_get_format (buffer);
  image.width  = extent.width;
  image.height = extent.height;
  image.bpp    = babl_format_get_bytes_per_pixel (image.format);
  image.bytes  = g_malloc ((gsize) image.width * image.height * image.bpp);
  gegl_buffer_get (buffer, &extent, 1.0, image.format, image.bytes,
                   GEGL_AUTO_ROWSTRIDE, GEGL_ABYSS_NONE);
  g_object_unref (buffer);
  return image;
}

static SegVolume
image_as_volume (const Image *image, gint depth)
{
  return seg_volume_packed (image->bytes, image->width, image->height / depth,
                            depth, image->bpp);
}

/* The reference result of pooling image (a stack of depth slices). */
static Image
image_mode_pool (
  const Image *image, gint fx, gint fy, gint fz, gint depth, gboolean sparse)
{
  SegFactors f         = { fx, fy, fz };
  SegVolume  in        = image_as_volume (image, depth);
  gint       out_depth = seg_pooled_size (depth, fz);
  Image      out       = *image;
  SegVolume  out_view;

  out.width  = seg_pooled_size (in.width, fx);
  out.height = seg_pooled_size (in.height, fy) * out_depth;
  out.bytes  = g_malloc ((gsize) out.width * out.height * out.bpp);
  out_view   = seg_volume_packed (out.bytes, out.width, out.height / out_depth,
                                  out_depth, out.bpp);
  ref_mode_pool (&in, &out_view, &f, sparse, SEG_BACKGROUND_ZEROS);
  return out;
}

/* The reference sparse (or plain) average of an image of 8-bit grey
 * levels (a stack of depth slices). */
static Image
image_average_u8 (
  const Image *image, gint fx, gint fy, gint fz, gint depth, gboolean sparse)
{
  const SegPixelLayout grey      = { SEG_TYPE_U8, 1, -1 };
  SegFactors           f         = { fx, fy, fz };
  SegVolume            in        = image_as_volume (image, depth);
  gint                 out_depth = seg_pooled_size (depth, fz);
  Image                out       = *image;
  SegVolume            out_view;

  ck_assert_int_eq (image->bpp, 1);
  out.width  = seg_pooled_size (in.width, fx);
  out.height = seg_pooled_size (in.height, fy) * out_depth;
  out.bytes  = g_malloc ((gsize) out.width * out.height);
  out_view   = seg_volume_packed (out.bytes, out.width, out.height / out_depth,
                                  out_depth, 1);
  ref_average_pool (&in, &out_view, &f, &grey, sparse, SEG_BACKGROUND_ZEROS);
  return out;
}

/* The file's raw samples must equal the expected ones; a 16-bit file of
 * 8-bit labels (png-save writes 16 bits by default) holds each sample
 * times 257, the exact u8 → u16 widening. */
static void
assert_file_holds (const gchar *path, const Image *want)
{
  Image got = image_load (path);
  gint  n_samples, want_size, scale;

  n_samples =
    want->width * want->height * babl_format_get_n_components (want->format);
  want_size = want->bpp / babl_format_get_n_components (want->format);
  scale     = (got.bpp / babl_format_get_n_components (got.format)) / want_size;

  ck_assert_int_eq (got.width, want->width);
  ck_assert_int_eq (got.height, want->height);
  ck_assert_int_eq (babl_format_get_n_components (got.format),
                    babl_format_get_n_components (want->format));
  ck_assert_msg (scale == 1 || (scale == 2 && want_size == 1),
                 "%s: unexpected sample size %d", path, got.bpp);

  for (gint i = 0; i < n_samples; i++)
    {
      guint got_v, want_v;

      if (scale == 2)
        {
          guint16 v;
          memcpy (&v, got.bytes + 2 * i, 2);
          got_v  = v;
          want_v = want->bytes[i] * 257u;
        }
      else if (want_size == 2)
        {
          guint16 g, w;
          memcpy (&g, got.bytes + 2 * i, 2);
          memcpy (&w, want->bytes + 2 * i, 2);
          got_v  = g;
          want_v = w;
        }
      else
        {
          got_v  = got.bytes[i];
          want_v = want->bytes[i];
        }
      if (got_v != want_v)
        ck_abort_msg (
          "%s: sample %d (pixel x=%d y=%d): got %u, want %u", path, i,
          (i / babl_format_get_n_components (want->format)) % want->width,
          (i / babl_format_get_n_components (want->format)) / want->width,
          got_v, want_v);
    }
  g_free (got.bytes);
}

START_TEST (test_chain_mode_pool_2x2_on_colour_labels)
{
  g_autofree gchar *in     = data_path ("labels-colour.png");
  g_autofree gchar *out    = tmp_path ("colour-2x2.png");
  const gchar      *args[] = {
         in, "-o", out, "--", "seg:mode-pool", "factor-x=2", "factor-y=2", NULL
  };
  Image input = image_load (in);
  Image want  = image_mode_pool (&input, 2, 2, 1, 1, FALSE);

  ck_assert_int_eq (input.bpp, 3); /* R'G'B' u8: 3-byte labels */
  assert_gegl_succeeds (args);
  assert_file_holds (out, &want);
  g_free (want.bytes);
  g_free (input.bytes);
}
END_TEST

START_TEST (test_chain_sparse_5x3_leaves_partial_edge_blocks)
{
  g_autofree gchar *in     = data_path ("labels-colour.png");
  g_autofree gchar *out    = tmp_path ("colour-5x3-sparse.png");
  const gchar      *args[] = {
         in,           "-o",         out,           "--", "seg:mode-pool",
         "factor-x=5", "factor-y=3", "sparse=true", NULL
  };
  Image input = image_load (in);
  Image want  = image_mode_pool (&input, 5, 3, 1, 1, TRUE);

  ck_assert_int_eq (want.width, 52); /* 256 = 5·51 + 1: a partial column */
  assert_gegl_succeeds (args);
  assert_file_holds (out, &want);
  g_free (want.bytes);
  g_free (input.bytes);
}
END_TEST

START_TEST (test_xml_graph_countless_3d_on_volume)
{
  g_autofree gchar *xml    = data_path ("volume-countless-3d.xml");
  g_autofree gchar *in     = data_path ("volume-128x128x64.png");
  g_autofree gchar *out    = tmp_path ("volume-half.png");
  const gchar      *args[] = { "-i", xml, "-o", out, NULL };
  Image             input  = image_load (in);
  Image             want   = image_mode_pool (&input, 2, 2, 2, 64, FALSE);

  ck_assert_int_eq (input.bpp, 2); /* Y' u16 labels */
  assert_gegl_succeeds (args);
  assert_file_holds (out, &want);
  g_free (want.bytes);
  g_free (input.bytes);
}
END_TEST

START_TEST (test_xml_graph_sparse_3x3_on_colour_labels)
{
  g_autofree gchar *xml    = data_path ("colour-labels-mode-3x3.xml");
  g_autofree gchar *in     = data_path ("labels-colour.png");
  g_autofree gchar *out    = tmp_path ("colour-3x3.png");
  const gchar      *args[] = { "-i", xml, "-o", out, NULL };
  Image             input  = image_load (in);
  Image             want   = image_mode_pool (&input, 3, 3, 1, 1, TRUE);

  assert_gegl_succeeds (args);
  assert_file_holds (out, &want);
  g_free (want.bytes);
  g_free (input.bytes);
}
END_TEST

START_TEST (test_chain_of_two_levels_is_two_poolings)
{
  g_autofree gchar *in     = data_path ("volume-128x128x64.png");
  g_autofree gchar *out    = tmp_path ("volume-quarter.png");
  const gchar      *args[] = { in,
                               "-o",
                               out,
                               "--",
                               "seg:countless-3d",
                               "depth=64",
                               "seg:countless-3d",
                               "depth=32",
                               NULL };
  Image             input  = image_load (in);
  Image             half   = image_mode_pool (&input, 2, 2, 2, 64, FALSE);
  Image             want   = image_mode_pool (&half, 2, 2, 2, 32, FALSE);

  assert_gegl_succeeds (args);
  assert_file_holds (out, &want);
  g_free (want.bytes);
  g_free (half.bytes);
  g_free (input.bytes);
}
END_TEST

START_TEST (test_chain_anisotropic_volume_factors)
{
  g_autofree gchar *in     = data_path ("volume-128x128x64.png");
  g_autofree gchar *out    = tmp_path ("volume-4x2x3.png");
  const gchar      *args[] = {
         in,           "-o",         out,          "--",       "seg:mode-pool",
         "factor-x=4", "factor-y=2", "factor-z=3", "depth=64", "sparse=true",
         NULL
  };
  Image input = image_load (in);
  Image want  = image_mode_pool (&input, 4, 2, 3, 64, TRUE);

  ck_assert_int_eq (want.height, 64 * 22); /* ceil (64 / 3) = 22 slices */
  assert_gegl_succeeds (args);
  assert_file_holds (out, &want);
  g_free (want.bytes);
  g_free (input.bytes);
}
END_TEST

START_TEST (test_chain_sparse_average_3x2x2_on_a_grey_volume)
{
  /* A partly acquired grey-level volume, 16 slices of 128 × 128 with
   * background 0; 128 = 3·42 + 2: a partial column of blocks. */
  g_autofree gchar *in     = data_path ("em-sparse-128x128x16.png");
  g_autofree gchar *out    = tmp_path ("em-3x2x2.png");
  const gchar      *args[] = {
         in,           "-o",         out,          "--",       "seg:sparse-average",
         "factor-x=3", "factor-y=2", "factor-z=2", "depth=16", NULL
  };
  Image input = image_load (in);
  Image want  = image_average_u8 (&input, 3, 2, 2, 16, TRUE);

  ck_assert_int_eq (input.bpp, 1); /* Y' u8 grey levels */
  ck_assert_int_eq (want.width, 43);
  assert_gegl_succeeds (args);
  assert_file_holds (out, &want);
  g_free (want.bytes);
  g_free (input.bytes);
}
END_TEST

START_TEST (test_depth_that_does_not_divide_height_is_refused)
{
  g_autofree gchar *in      = data_path ("volume-128x128x64.png");
  g_autofree gchar *out     = tmp_path ("bad-depth.png");
  const gchar      *args[]  = { in,        "-o", out, "--", "seg:countless-3d",
                                "depth=3", NULL };
  const gchar      *parts[] = { "seg:countless-3d", "depth 3", "8192", NULL };

  assert_gegl_refuses (args, out, parts);
}
END_TEST

/* factor-y carries value_range (1, 64): GObject refuses 65 as gegl sets
 * it, with a message naming both, and the op runs with the default. */
START_TEST (test_factor_out_of_range_is_refused_by_its_range)
{
  g_autofree gchar *in  = data_path ("labels-colour.png");
  g_autofree gchar *out = tmp_path ("bad-factor.png");
  const gchar *args[] = { in,  "-o", out, "--", "seg:mode-pool", "factor-y=65",
                          NULL };
  Run          run    = run_gegl (args);

  ck_assert_msg (WIFEXITED (run.wait_status) &&
                   WEXITSTATUS (run.wait_status) == 0,
                 "gegl failed: %s", run.stderr_text);
  ck_assert_msg (strstr (run.stderr_text, "\"65\"") != NULL &&
                   strstr (run.stderr_text, "'factor-y'") != NULL,
                 "no message names factor-y and 65: %s", run.stderr_text);
  run_free (&run);
}
END_TEST

START_TEST (test_empty_input_is_refused)
{
  g_autofree gchar *in      = data_path ("labels-colour.png");
  g_autofree gchar *out     = tmp_path ("empty.png");
  const gchar      *args[]  = { in,          "-o",      out,        "--",
                                "gegl:crop", "width=5", "height=0", "seg:mode-pool",
                                NULL };
  const gchar      *parts[] = { "seg:mode-pool", "input is empty", NULL };

  assert_gegl_refuses (args, out, parts);
}
END_TEST

START_TEST (test_sparse_average_depth_that_does_not_divide_height_is_refused)
{
  g_autofree gchar *in     = data_path ("em-sparse-128x128x16.png");
  g_autofree gchar *out    = tmp_path ("em-bad-depth.png");
  const gchar      *args[] = { in,        "-o", out, "--", "seg:sparse-average",
                               "depth=3", NULL };
  const gchar      *parts[] = { "seg:sparse-average", "depth 3", "2048", NULL };

  assert_gegl_refuses (args, out, parts);
}
END_TEST

static Suite *
cli_suite (void)
{
  Suite *s      = suite_create ("cli");
  TCase *graphs = harness_tcase (s, "graphs");
  TCase *errors = harness_tcase (s, "errors");

  tcase_add_test (graphs, test_chain_mode_pool_2x2_on_colour_labels);
  tcase_add_test (graphs, test_chain_sparse_5x3_leaves_partial_edge_blocks);
  tcase_add_test (graphs, test_xml_graph_countless_3d_on_volume);
  tcase_add_test (graphs, test_xml_graph_sparse_3x3_on_colour_labels);
  tcase_add_test (graphs, test_chain_of_two_levels_is_two_poolings);
  tcase_add_test (graphs, test_chain_anisotropic_volume_factors);
  tcase_add_test (graphs, test_chain_sparse_average_3x2x2_on_a_grey_volume);
  tcase_add_test (errors, test_depth_that_does_not_divide_height_is_refused);
  tcase_add_test (errors, test_factor_out_of_range_is_refused_by_its_range);
  tcase_add_test (errors, test_empty_input_is_refused);
  tcase_add_test (
    errors, test_sparse_average_depth_that_does_not_divide_height_is_refused);
  return s;
}

int
main (int argc, char **argv)
{
  gint status;

  data_dir = env_or ("SEG_DATA_DIR", "data");
  tmp_dir_make ("gegl-seg-cli-XXXXXX");
  harness_init (&argc, &argv);
  status = harness_run (cli_suite ());
  tmp_dir_remove ();
  g_free (data_dir);
  return status;
}
