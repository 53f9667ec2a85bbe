/* SPDX-License-Identifier: LGPL-3.0-or-later
 *
 * seg:mode-pool and seg:countless-3d in real GEGL graphs
 * (gegl:buffer-source → op → gegl_node_blit / gegl:buffer-sink), compared
 * byte for byte with ref_mode_pool () on the same pixels: every label
 * format, volumes, threads, sub-rectangles, translated inputs, the region
 * callbacks and the warnings for input the ops cannot serve.
 *
 * Runs without forking (GEGL is initialised once, in main, and keeps worker
 * threads), with GEGL_PATH holding our module then GEGL's own plug-ins.
 */
#include <check.h>
#include <gegl.h>
#include <gegl-plugin.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gegl-harness.h"
#include "ref-mode-pool.h"
#include "seg-volume.h"

/* ------------------------------------------------------------------------
 * Fixtures: labels, the reference, cases
 * --------------------------------------------------------------------- */

/* Every format the tests run in: 1, 2, 4 and 8 bytes per label, a
 * colour-coded map and float bits, and GIMP's alpha formats, where
 * transparent and black pixels are background too. */
static const gchar *const formats[] = {
  "Y u8",     "Y u16",    "Y u32",   "R'G'B'A u8",
  "RGBA u16", "Y double", "Y'A u16", "RGBA float",
};
#define N_FORMATS ((gint) G_N_ELEMENTS (formats))

static const gchar *const MODE_POOL    = "seg:mode-pool";
static const gchar *const COUNTLESS_3D = "seg:countless-3d";

/* The mode ops' pixels: n labels of format, each background (all zero)
 * with mix->background percent chance, else one of mix->n_labels
 * non-zero labels, which with mix->near differ in one byte only. */
static void
fill_labels (
  guint8 *px, gsize n, const gchar *format, const Mix *mix, guint64 seed)
{
  gint    bpp     = babl_format_get_bytes_per_pixel (babl_format (format));
  guint64 rng     = seed ^ 0xD1B54A32D192ED03ull;
  guint8 *palette = g_malloc ((gsize) mix->n_labels * bpp);

  for (gint l = 0; l < mix->n_labels; l++)
    {
      guint8  *label = palette + (gsize) l * bpp;
      gboolean zero;

      do
        {
          if (mix->near && l > 0)
            {
              memcpy (label, palette, bpp);
              label[rand_range (&rng, 0, bpp - 1)] = (guint8) splitmix64 (&rng);
            }
          else
            for (gint b = 0; b < bpp; b++)
              label[b] = (guint8) splitmix64 (&rng);

          zero = TRUE;
          for (gint b = 0; b < bpp; b++)
            zero = zero && label[b] == 0;
        }
      while (zero);
    }

  for (gsize i = 0; i < n; i++)
    {
      guint8 *p = px + i * bpp;

      memcpy (p,
              palette + (gsize) rand_range (&rng, 0, mix->n_labels - 1) * bpp,
              bpp);
      if (rand_range (&rng, 0, 99) < mix->background)
        draw_background (p, bpp, format_background (babl_format (format)),
                         &rng);
    }
  g_free (palette);
}

/* ref_mode_pool () on the volume's bytes. */
static guint8 *
mode_reference (const Case *c, const Volume *v)
{
  ReferenceViews r = reference_views (v, &c->p);

  ref_mode_pool (&r.in, &r.out, &r.factors, c->p.sparse, r.background);
  return r.out.data;
}

/* How the mode ops' cases draw their pixels and what they must give. */
static const Family mode_ops = { fill_labels, mode_reference };

/* A case at the origin. */
static Case
case_new (guint64      seed,
          const gchar *op,
          const gchar *format,
          gint         width,
          gint         slice_height,
          Params       p,
          Mix          mix)
{
  return (Case){ .family       = &mode_ops,
                 .seed         = seed,
                 .op           = op,
                 .format       = format,
                 .width        = width,
                 .slice_height = slice_height,
                 .p            = p,
                 .mix          = mix };
}

/* A random case: format cycles with the seed, so a loop test over
 * consecutive seeds covers every format. */
static Case
case_random (guint64 seed, gint max_slices, gint max_factor)
{
  guint64 rng = seed * 0x5851F42D4C957F2Dull + 1;
  Case    c   = { 0 };

  c.family       = &mode_ops;
  c.seed         = seed;
  c.op           = MODE_POOL;
  c.format       = formats[seed % N_FORMATS];
  c.width        = rand_range (&rng, 1, 37);
  c.slice_height = rand_range (&rng, 1, 19);
  c.p.depth      = rand_range (&rng, 1, max_slices);
  c.p.fx         = rand_range (&rng, 1, max_factor);
  c.p.fy         = rand_range (&rng, 1, max_factor);
  c.p.fz         = c.p.depth > 1 ? rand_range (&rng, 1, 3) : 1;
  if (rand_range (&rng, 0, 3) == 0) /* the COUNTLESS 2×2 path */
    {
      c.p.fx = 2;
      c.p.fy = 2;
      c.p.fz = 1;
    }
  c.p.sparse     = rand_range (&rng, 0, 1);
  c.mix.n_labels = rand_range (&rng, 0, 1) ? rand_range (&rng, 1, 3)
                                           : rand_range (&rng, 20, 250);
  c.mix.near     = rand_range (&rng, 0, 2) == 0;
  c.mix.background =
    c.p.sparse ? rand_range (&rng, 10, 70) : rand_range (&rng, 0, 30);
  return c;
}

/* ------------------------------------------------------------------------
 * The module and its ops
 * --------------------------------------------------------------------- */

static gboolean
has_property (const gchar *op, const gchar *name)
{
  guint        n     = 0;
  GParamSpec **specs = gegl_operation_list_properties (op, &n);
  gboolean     found = FALSE;

  for (guint i = 0; i < n; i++)
    found = found || strcmp (g_param_spec_get_name (specs[i]), name) == 0;
  g_free (specs);
  return found;
}

START_TEST (test_ops_are_registered_and_described)
{
  assert_op_is_registered_and_described (
    (const gchar *[]){ MODE_POOL, COUNTLESS_3D }[_i]);
}
END_TEST

START_TEST (test_mode_pool_lists_its_five_properties)
{
  static const gchar *const names[] = {
    "factor-x", "factor-y", "factor-z", "depth", "sparse",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    ck_assert_msg (has_property (MODE_POOL, names[i]),
                   "seg:mode-pool has no property %s", names[i]);
  ck_assert_msg (has_property (COUNTLESS_3D, "depth") &&
                   has_property (COUNTLESS_3D, "sparse"),
                 "seg:countless-3d lacks depth or sparse");
}
END_TEST

/* ------------------------------------------------------------------------
 * Output = reference, in every format
 * --------------------------------------------------------------------- */

START_TEST (test_output_keeps_the_source_format_and_design_extent)
{
  /* _i = format; odd sizes, a stack of 3 slices, factors 2,3,2:
   * 13 × (7·3) → ceil (13/2) × ceil (7/3) · ceil (3/2) = 7 × 6 at (0,0). */
  Case c = case_new (1000 + _i, MODE_POOL, formats[_i], 13, 7,
                     (Params){ 2, 3, 2, 3, FALSE },
                     (Mix){ .background = 20, .n_labels = 5 });

  check_output_keeps_the_source_format (&c, &(GeglRectangle){ 0, 0, 7, 6 });
}
END_TEST

START_TEST (test_plain_images_match_the_reference)
{
  /* Depth 1; factors 1 … 5 on odd and even sizes, every format. */
  check_case ((Case[]){ case_random (_i, 1, 5) });
}
END_TEST

START_TEST (test_volumes_match_the_reference)
{
  /* Depth 1 … 5, factor-z 1 … 3, odd sizes, every format. */
  check_case ((Case[]){ case_random (100 + _i, 5, 4) });
}
END_TEST

START_TEST (test_large_factors_are_exact_modes)
{
  /* Factors beyond the image (up to 64), mixed with small ones. */
  Case c = case_random (300 + _i, 4, 4);

  c.p.fx = (gint[]){ 64, 7, 40, 1 }[_i % 4];
  c.p.fy = (gint[]){ 5, 64, 33, 19 }[_i % 4];
  c.p.fz = (gint[]){ 1, 2, 3, 64 }[_i % 4];
  check_case (&c);
}
END_TEST

/* ------------------------------------------------------------------------
 * Threads
 * --------------------------------------------------------------------- */

START_TEST (test_one_and_four_threads_give_identical_bytes)
{
  /* Outputs of at least 2 × 4096 pixels, so that GEGL splits the 4-thread
   * render: wide ones into columns, tall stacks into bands of rows, some
   * of which end inside an output slice. */
  static const struct
  {
    gint   width, height;
    Params p;
  } cases[] = {
    { 500, 300, { 2, 2, 1, 1, FALSE } }, { 500, 300, { 3, 3, 1, 1, TRUE } },
    { 240, 600, { 2, 2, 2, 5, FALSE } }, { 200, 600, { 2, 3, 2, 5, TRUE } },
    { 301, 801, { 3, 2, 1, 3, FALSE } }, { 500, 300, { 2, 2, 2, 2, TRUE } },
  };
  static const gchar *const fmts[] = { "Y u8", "Y u32", "RGBA u16" };
  const Params              p      = cases[_i].p;

  check_threads_agree ((Case[]){ case_new (
    2000 + _i, MODE_POOL, fmts[_i % G_N_ELEMENTS (fmts)], cases[_i].width,
    cases[_i].height / p.depth, p,
    (Mix){ .background = p.sparse ? 40 : 5, .n_labels = _i % 2 ? 3 : 200 }) });
}
END_TEST

/* ------------------------------------------------------------------------
 * Sub-rectangles
 * --------------------------------------------------------------------- */

START_TEST (test_four_uneven_subrectangles_render_like_the_whole)
{
  check_in_four_uneven_parts (case_random (400 + _i, 5, 4), _i);
}
END_TEST

START_TEST (test_parts_that_cross_slice_boundaries_render_like_the_whole)
{
  /* Stacks of 2 … 5 slices cut into 3 × 4 uneven parts: most row cuts
   * fall inside an output slice, so parts straddle slice boundaries. */
  Case c = case_random (500 + _i, 5, 3);

  c.p.depth      = 2 + _i % 4;
  c.p.fz         = 1 + _i % 3;
  c.slice_height = 5 + 2 * (_i % 4);
  c.width        = 11 + _i % 3;
  check_in_uneven_parts (&c, 3, 4);
}
END_TEST

START_TEST (test_row_by_row_rendering_matches_the_whole)
{
  /* One output row per render: each row's input rows must be mapped
   * through the right slice. */
  Case c = case_random (600 + _i, 5, 3);

  c.p.depth = 3 + _i % 3;
  c.p.fz    = 2;
  c.x       = -5;
  c.y       = 3;
  check_row_by_row (&c);
}
END_TEST

START_TEST (test_pixels_around_the_bounding_box_render_as_nothing)
{
  check_frame_renders_nothing (case_random (650 + _i, 4, 3), _i);
}
END_TEST

/* ------------------------------------------------------------------------
 * Translated inputs: blocks start at the input's origin
 * --------------------------------------------------------------------- */

START_TEST (test_blocks_start_at_a_negative_odd_origin)
{
  /* One row at x = -3: 1 1 2 2 3 3 4 4 5, factor-x 2.  Blocks from -3
   * give 1 2 3 4 5 at x = -2 … 2; blocks from -4 would give 1 1 2 3 4 5. */
  static const guint8 row[9]    = { 1, 1, 2, 2, 3, 3, 4, 4, 5 };
  const Babl         *y8        = babl_format ("Y u8");
  GeglRectangle       in        = { -3, 5, 9, 1 };
  GeglRectangle       want_rect = { -2, 5, 5, 1 };
  GeglBuffer         *buffer    = gegl_buffer_new (&in, y8);
  Params              p         = { 2, 1, 1, 1, FALSE };
  Graph               g;
  GeglRectangle       bbox;
  guint8             *got;
  static const guint8 want[5] = { 1, 2, 3, 4, 5 };

  gegl_buffer_set (buffer, &in, 0, y8, row, GEGL_AUTO_ROWSTRIDE);
  g    = graph_new (buffer, MODE_POOL, &p);
  bbox = gegl_node_get_bounding_box (g.pool);
  assert_rect_equal (&bbox, &want_rect, "bounding box", "origin (-3,5)");
  got = graph_blit (&g, &want_rect, y8);
  assert_pixels_equal (got, want, &want_rect, 1, "row", "origin (-3,5)");

  g_free (got);
  graph_free (&g);
  g_object_unref (buffer);
}
END_TEST

START_TEST (test_buffers_with_odd_and_negative_origins_match_the_reference)
{
  check_at_odd_origin (case_random (700 + _i, 4, 4), _i);
}
END_TEST

/* Small tiles, so that random cases have whole tiles, read in place, next
 * to partial ones at the rims: tile sizes that are and are not multiples
 * of the factors and of the slice height, origins on and off the tile
 * grid, and views shifted into a parent buffer. */
START_TEST (test_buffers_with_small_tiles_match_the_reference)
{
  check_with_small_tiles (case_random (1500 + _i, 4, 4), _i, 7);
}
END_TEST

START_TEST (test_translate_node_input_aligns_blocks_to_its_origin)
{
  /* The buffer sits at (0,0); gegl:translate moves it to (-3,5) without
   * changing its format; _i = format. */
  Case c = case_random (800 + _i, 4, 3);

  c.format = formats[_i % N_FORMATS];
  check_translated (&c);
}
END_TEST

/* ------------------------------------------------------------------------
 * Region callbacks (the random stacks and the fixed ones are the
 * harness's, run for every pooling op)
 * --------------------------------------------------------------------- */

START_TEST (test_a_cached_render_follows_changes_that_cross_slices)
{
  /* _i = format; 40 × (100·3), factors 2,2,2. */
  Case c = case_new (1500 + _i, MODE_POOL, formats[_i % N_FORMATS], 40, 100,
                     (Params){ 2, 2, 2, 3, _i % 2 },
                     (Mix){ .background = 20, .n_labels = 6 });

  check_cached_render_follows_changes (
    &c, &(Mix){ .background = 10, .n_labels = 9 });
}
END_TEST

/* ------------------------------------------------------------------------
 * Bad input: a warning that names the op and the value, nothing rendered
 * --------------------------------------------------------------------- */

static const Refusal refusals[] = {
  /* A depth that does not divide the height. */
  { "seg:mode-pool",
    "Y u16",
    6,
    10,
    { 2, 2, 1, 3, FALSE },
    "depth",
    { 3, 10, G_MININT } },
  /* seg:countless-3d names itself, not seg:mode-pool. */
  { "seg:countless-3d",
    "Y u8",
    6,
    10,
    { 2, 2, 2, 4, FALSE },
    "depth",
    { 4, 10, G_MININT } },
  { "seg:mode-pool",
    "Y u32",
    0,
    0,
    { 2, 2, 1, 1, FALSE },
    "input is empty",
    { 0, G_MININT } },
};

START_TEST (test_bad_input_warns_and_renders_nothing)
{
  check_refusal (&refusals[_i]);
}
END_TEST

START_TEST (test_out_of_range_property_is_refused_by_its_range)
{
  check_bad_property (MODE_POOL, "Y u8", FALSE, _i);
}
END_TEST

/* GEGL prepares nodes whose input is not connected yet, or no longer, as
 * it builds and tears down graphs: none of that is a problem to report. */
START_TEST (test_building_and_tearing_down_a_graph_is_silent)
{
  GeglRectangle in     = { 0, 0, 8, 12 };
  GeglBuffer   *buffer = gegl_buffer_new (&in, babl_format ("Y u8"));
  GeglRectangle probe  = { 0, 0, 4, 3 };
  GeglNode     *root, *source, *pool, *pool_3d, *sink;
  GeglBuffer   *out = NULL;
  GeglRectangle bbox[3];
  guint8        px[12];
  gchar        *text;

  log_capture_begin ();
  root    = gegl_node_new ();
  pool    = gegl_node_new_child (root, "operation", MODE_POOL, NULL);
  pool_3d = gegl_node_new_child (root, "operation", COUNTLESS_3D, NULL);
  gegl_node_link (pool, pool_3d);
  bbox[0] = gegl_node_get_bounding_box (pool_3d);
  gegl_node_blit (pool_3d, 1.0, &probe, babl_format ("Y u8"), px,
                  GEGL_AUTO_ROWSTRIDE, GEGL_BLIT_DEFAULT);
  source = gegl_node_new_child (root, "operation", "gegl:buffer-source",
                                "buffer", buffer, NULL);
  sink   = gegl_node_new_child (root, "operation", "gegl:buffer-sink", "buffer",
                                &out, NULL);
  gegl_node_link_many (source, pool, NULL);
  gegl_node_link (pool_3d, sink);
  gegl_node_process (sink);
  bbox[1] = gegl_node_get_bounding_box (pool_3d);

  /* Unhooking the source empties the input of both pooling nodes. */
  gegl_node_disconnect (pool, "input");
  bbox[2] = gegl_node_get_bounding_box (pool_3d);
  gegl_node_link (source, pool);
  gegl_node_remove_child (root, source); /* drops root's reference */
  bbox[2] = gegl_node_get_bounding_box (pool_3d);
  g_object_unref (root);
  text = log_capture_end ();

  ck_assert (gegl_rectangle_is_empty (&bbox[0]));
  ck_assert_int_eq (bbox[1].width, 2);
  ck_assert_int_eq (bbox[1].height, 2); /* 4×6 as 2 slices of 3 rows */
  ck_assert (gegl_rectangle_is_empty (&bbox[2]));
  ck_assert_ptr_nonnull (out);
  ck_assert_int_eq (gegl_buffer_get_extent (out)->width, 2);
  ck_assert_int_eq (gegl_buffer_get_extent (out)->height, 2);
  ck_assert_msg (strstr (text, "seg:") == NULL, "unexpected message:\n%s",
                 text);
  g_free (text);
  g_object_unref (out);
  g_object_unref (buffer);
}
END_TEST

/* Each problem is said once per node, and again when it comes back after
 * the user fixed it. */
START_TEST (test_a_problem_is_said_once_until_it_changes)
{
  GeglRectangle in     = { 0, 0, 6, 10 };
  GeglBuffer   *buffer = gegl_buffer_new (&in, babl_format ("Y u16"));
  Params        p      = { 2, 2, 1, 3, FALSE };
  Graph         g;
  GeglRectangle bbox;
  gchar        *text;

  log_capture_begin ();
  g = graph_new (buffer, MODE_POOL, &p);
  for (gint i = 0; i < 3; i++)
    g_clear_object (&(GeglBuffer *){ graph_sink (&g) });
  text = log_capture_end ();
  ck_assert_msg (count_occurrences (text, "depth 3 does not divide") == 1,
                 "want one message after three renders, got:\n%s", text);
  g_free (text);

  log_capture_begin ();
  gegl_node_set (g.pool, "depth", 5, NULL);
  bbox = gegl_node_get_bounding_box (g.pool);
  gegl_node_set (g.pool, "depth", 4, NULL);
  bbox = gegl_node_get_bounding_box (g.pool);
  gegl_node_set (g.pool, "depth", 2, NULL);
  bbox = gegl_node_get_bounding_box (g.pool);
  gegl_node_set (g.pool, "depth", 3, NULL);
  g_clear_object (&(GeglBuffer *){ graph_sink (&g) });
  text = log_capture_end ();

  ck_assert_int_eq (bbox.height, 2 * 3); /* depth 2: 2 slices of 5 → 3 rows */
  ck_assert_msg (count_occurrences (text, "depth 4 does not divide") == 1 &&
                   count_occurrences (text, "depth 3 does not divide") == 1 &&
                   count_occurrences (text, "depth 5") == 0 &&
                   count_occurrences (text, "depth 2") == 0,
                 "want one message for depth 4 and one for depth 3, got:\n%s",
                 text);
  g_free (text);
  graph_free (&g);
  g_object_unref (buffer);
}
END_TEST

/* ------------------------------------------------------------------------
 * seg:countless-3d
 * --------------------------------------------------------------------- */

START_TEST (test_countless_3d_equals_mode_pool_2x2x2)
{
  Case          c = case_random (900 + _i, 5, 2);
  gchar        *context;
  Volume        v;
  guint8       *got[2], *want;
  GeglRectangle rect;

  c.p     = (Params){ 2, 2, 2, 1 + _i % 5, _i % 2 };
  context = case_describe (&c);
  v       = volume_new (&c);
  rect    = expected_extent (&v.extent, &c.p);
  want    = case_reference (&c, &v);

  log_capture_begin ();
  for (gint k = 0; k < 2; k++)
    {
      Graph g = graph_new (v.buffer, k ? COUNTLESS_3D : MODE_POOL, &c.p);
      GeglRectangle bbox = gegl_node_get_bounding_box (g.pool);

      assert_rect_equal (
        &bbox, &rect,
        k ? "countless-3d bounding box" : "mode-pool bounding box", context);
      got[k] = graph_blit (&g, &rect, v.format);
      graph_free (&g);
    }
  assert_no_messages (log_capture_end (), context);

  assert_pixels_equal (got[1], got[0], &rect, v.bpp,
                       "countless-3d (got) vs mode-pool 2,2,2 (want)", context);
  assert_pixels_equal (got[1], want, &rect, v.bpp, "countless-3d", context);

  g_free (got[0]);
  g_free (got[1]);
  g_free (want);
  volume_free (&v);
  g_free (context);
}
END_TEST

START_TEST (test_countless_3d_depth_property_sets_the_slice_count)
{
  /* The same 9 × 24 buffer read as 1, 2, 3, 4 and 6 slices gives
   * different shapes, each matching the reference. */
  static const gint depths[] = { 1, 2, 3, 4, 6 };
  const gint        d        = depths[_i % G_N_ELEMENTS (depths)];
  const gboolean    sparse   = _i % 3 == 0;

  check_case ((Case[]){ case_new (
    950 + _i, COUNTLESS_3D, formats[_i % N_FORMATS], 9, 24 / d,
    (Params){ 2, 2, 2, d, sparse },
    (Mix){ .background = sparse ? 40 : 10, .n_labels = 4, .near = TRUE }) });
}
END_TEST

START_TEST (test_countless_3d_defaults_to_two_slices)
{
  Params    p;
  GeglNode *root = gegl_node_new ();
  GeglNode *node = gegl_node_new_child (root, "operation", COUNTLESS_3D, NULL);

  gegl_node_get (node, "depth", &p.depth, "sparse", &p.sparse, NULL);
  ck_assert_int_eq (p.depth, 2);
  ck_assert_int_eq (p.sparse, FALSE);
  g_object_unref (root);
}
END_TEST

/* ------------------------------------------------------------------------ */

static Suite *
gegl_suite (void)
{
  Suite *s = suite_create ("gegl");
  TCase *tc;

  tc = harness_tcase (s, "module");
  tcase_add_loop_test (tc, test_ops_are_registered_and_described, 0, 2);
  tcase_add_test (tc, test_mode_pool_lists_its_five_properties);

  tc = harness_tcase (s, "reference");
  tcase_add_loop_test (
    tc, test_output_keeps_the_source_format_and_design_extent, 0, N_FORMATS);
  tcase_add_loop_test (tc, test_plain_images_match_the_reference, 0, 48);
  tcase_add_loop_test (tc, test_volumes_match_the_reference, 0, 60);
  tcase_add_loop_test (tc, test_large_factors_are_exact_modes, 0, 12);

  tc = harness_tcase (s, "threads");
  tcase_add_loop_test (tc, test_one_and_four_threads_give_identical_bytes, 0,
                       6); /* the cases in the test's table */

  tc = harness_tcase (s, "sub-rectangles");
  tcase_add_loop_test (tc, test_four_uneven_subrectangles_render_like_the_whole,
                       0, 24);
  tcase_add_loop_test (
    tc, test_parts_that_cross_slice_boundaries_render_like_the_whole, 0, 12);
  tcase_add_loop_test (tc, test_row_by_row_rendering_matches_the_whole, 0, 6);
  tcase_add_loop_test (
    tc, test_pixels_around_the_bounding_box_render_as_nothing, 0, 8);

  tc = harness_tcase (s, "origin");
  tcase_add_test (tc, test_blocks_start_at_a_negative_odd_origin);
  tcase_add_loop_test (
    tc, test_buffers_with_odd_and_negative_origins_match_the_reference, 0, 24);
  tcase_add_loop_test (
    tc, test_translate_node_input_aligns_blocks_to_its_origin, 0, N_FORMATS);

  tc = harness_tcase (s, "tiles");
  tcase_add_loop_test (tc, test_buffers_with_small_tiles_match_the_reference, 0,
                       240);

  tc = harness_tcase (s, "regions");
  region_tests_add (tc, MODE_POOL);
  region_tests_add (tc, COUNTLESS_3D);
  tcase_add_loop_test (
    tc, test_a_cached_render_follows_changes_that_cross_slices, 0, N_FORMATS);

  tc = harness_tcase (s, "bad input");
  tcase_add_loop_test (tc, test_bad_input_warns_and_renders_nothing, 0,
                       G_N_ELEMENTS (refusals));
  tcase_add_loop_test (tc, test_out_of_range_property_is_refused_by_its_range,
                       0, N_BAD_PROPERTIES);
  tcase_add_test (tc, test_building_and_tearing_down_a_graph_is_silent);
  tcase_add_test (tc, test_a_problem_is_said_once_until_it_changes);

  tc = harness_tcase (s, "countless-3d");
  tcase_add_loop_test (tc, test_countless_3d_equals_mode_pool_2x2x2, 0, 12);
  tcase_add_loop_test (
    tc, test_countless_3d_depth_property_sets_the_slice_count, 0, 10);
  tcase_add_test (tc, test_countless_3d_defaults_to_two_slices);
  return s;
}

int
main (int argc, char **argv)
{
  harness_init (&argc, &argv);
  return harness_run (gegl_suite ());
}
