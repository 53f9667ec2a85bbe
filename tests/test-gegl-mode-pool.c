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
 * Fixtures: label volumes, cases, the reference, graphs
 * --------------------------------------------------------------------- */

/* Every format the tests run in: 1, 2, 4 and 8 bytes per label, a
 * colour-coded map and float bits. */
static const gchar *const formats[] = {
  "Y u8", "Y u16", "Y u32", "R'G'B'A u8", "RGBA u16", "Y double",
};
#define N_FORMATS ((gint) G_N_ELEMENTS (formats))

static const gchar *const MODE_POOL    = "seg:mode-pool";
static const gchar *const COUNTLESS_3D = "seg:countless-3d";

/* What the labels look like. */
typedef struct
{
  gint     n_labels;            /* non-background labels to draw from  */
  gint     background_percent;  /* share of all-zero pixels            */
  gboolean near;                /* labels differ in one byte only      */
} LabelMix;

/* One GEGL-level comparison. */
typedef struct
{
  guint64      seed;
  const gchar *op;
  const gchar *format;
  gint         x, y;               /* the input's origin              */
  gint         width, slice_height;
  gint         slices;             /* slices the pixels really hold   */
  Params       p;
  LabelMix     mix;
  gint         tile_w, tile_h;     /* the buffer's tiles; 0: GEGL's    */
  gint         shift_x, shift_y;   /* a view shifted into a parent     */
} Case;

static gchar *
case_describe (const Case *c)
{
  return g_strdup_printf (
    "seed %" G_GUINT64_FORMAT ", %s on \"%s\" %d×(%d·%d) at (%d,%d), "
    "factors %d,%d,%d, depth %d%s, %d labels%s, %d%% background",
    c->seed, c->op, c->format, c->width, c->slice_height, c->slices,
    c->x, c->y, c->p.fx, c->p.fy, c->p.fz, c->p.depth,
    c->p.sparse ? ", sparse" : "", c->mix.n_labels,
    c->mix.near ? " (one byte apart)" : "", c->mix.background_percent);
}

/* A case at the origin whose input holds p.depth slices. */
static Case
case_new (guint64 seed, const gchar *op, const gchar *format, gint width,
          gint slice_height, Params p, LabelMix mix)
{
  Case c = { seed, op, format, 0, 0, width, slice_height, p.depth, p, mix,
             0, 0, 0, 0 };

  return c;
}

/* A random case: format cycles with the seed, so a loop test over
 * consecutive seeds covers every format. */
static Case
case_random (guint64 seed, gint max_slices, gint max_factor)
{
  guint64 rng = seed * 0x5851F42D4C957F2Dull + 1;
  Case    c;

  c.seed         = seed;
  c.op           = MODE_POOL;
  c.format       = formats[seed % N_FORMATS];
  c.x            = 0;
  c.y            = 0;
  c.width        = rand_range (&rng, 1, 37);
  c.slice_height = rand_range (&rng, 1, 19);
  c.slices       = rand_range (&rng, 1, max_slices);
  c.p.depth      = c.slices;
  c.p.fx         = rand_range (&rng, 1, max_factor);
  c.p.fy         = rand_range (&rng, 1, max_factor);
  c.p.fz         = c.slices > 1 ? rand_range (&rng, 1, 3) : 1;
  if (rand_range (&rng, 0, 3) == 0)   /* the COUNTLESS 2×2 path */
    {
      c.p.fx = 2;
      c.p.fy = 2;
      c.p.fz = 1;
    }
  c.p.sparse     = rand_range (&rng, 0, 1);
  c.mix.n_labels = rand_range (&rng, 0, 1) ? rand_range (&rng, 1, 3)
                                           : rand_range (&rng, 20, 250);
  c.mix.near     = rand_range (&rng, 0, 2) == 0;
  c.mix.background_percent = c.p.sparse ? rand_range (&rng, 10, 70)
                                        : rand_range (&rng, 0, 30);
  return c;
}

/* Pixels of a case, in memory and in a GeglBuffer at the case's origin. */
typedef struct
{
  const Babl    *format;
  gint           bpp;
  GeglRectangle  extent;         /* W × (H·D) at the input's origin */
  gint           slice_height;
  gint           slices;
  guint8        *px;             /* packed, extent.width × extent.height */
  GeglBuffer    *buffer;
} Volume;

static void
fill_labels (guint8 *px, gsize n_pixels, gint bpp, guint64 seed,
             const LabelMix *mix)
{
  guint64 rng = seed ^ 0xD1B54A32D192ED03ull;
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
              label[rand_range (&rng, 0, bpp - 1)] =
                (guint8) splitmix64 (&rng);
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

  for (gsize i = 0; i < n_pixels; i++)
    {
      guint8 *p = px + i * bpp;

      if (rand_range (&rng, 0, 99) < mix->background_percent)
        memset (p, 0, bpp);
      else
        memcpy (p, palette + (gsize) rand_range (&rng, 0, mix->n_labels - 1) *
                             bpp, bpp);
    }
  g_free (palette);
}

static Volume
volume_new (const Case *c)
{
  Volume v;
  gsize  n;

  v.format        = babl_format (c->format);
  v.bpp           = babl_format_get_bytes_per_pixel (v.format);
  v.extent.x      = c->x;
  v.extent.y      = c->y;
  v.extent.width  = c->width;
  v.extent.height = c->slice_height * c->slices;
  v.slice_height  = c->slice_height;
  v.slices        = c->slices;

  n    = (gsize) v.extent.width * v.extent.height;
  v.px = g_malloc (MAX (n * v.bpp, 1));
  fill_labels (v.px, n, v.bpp, c->seed, &c->mix);

  v.buffer = buffer_new_with_pixels (&v.extent, v.format, v.px, c->tile_w,
                                     c->tile_h, c->shift_x, c->shift_y);
  return v;
}

static void
volume_free (Volume *v)
{
  g_clear_object (&v->buffer);
  g_clear_pointer (&v->px, g_free);
}

/* ref_mode_pool () on the volume's bytes: the expected output pixels,
 * packed, as a ceil (W/fx) × (ceil (H/fy) · ceil (D/fz)) image. */
static guint8 *
reference (const Volume *v, const Params *p)
{
  SegFactors f = { p->fx, p->fy, p->fz };
  gint       ow = ceil_div (v->extent.width, p->fx);
  gint       oh = ceil_div (v->slice_height, p->fy);
  gint       od = ceil_div (v->slices, p->fz);
  guint8    *out = g_malloc ((gsize) ow * oh * od * v->bpp);
  SegVolume  in_view = seg_volume_packed (v->px, v->extent.width,
                                          v->slice_height, v->slices, v->bpp);
  SegVolume  out_view = seg_volume_packed (out, ow, oh, od, v->bpp);

  ref_mode_pool (&in_view, &out_view, &f, p->sparse);
  return out;
}

/* Renders the case in one piece and checks the bounding box and the bytes
 * against the reference. */
static void
check_case (const Case *c)
{
  gchar        *context = case_describe (c);
  Volume        v = volume_new (c);
  GeglRectangle want_rect = expected_extent (&v.extent, &c->p);
  guint8       *want = reference (&v, &c->p);

  assert_renders (v.buffer, c->op, &c->p, 0, 0, &want_rect, want,
                  "whole render", context);
  g_free (want);
  volume_free (&v);
  g_free (context);
}

/* ------------------------------------------------------------------------
 * The module and its ops
 * --------------------------------------------------------------------- */

static gboolean
has_property (const gchar *op, const gchar *name)
{
  guint        n = 0;
  GParamSpec **specs = gegl_operation_list_properties (op, &n);
  gboolean     found = FALSE;

  for (guint i = 0; i < n; i++)
    found = found || strcmp (g_param_spec_get_name (specs[i]), name) == 0;
  g_free (specs);
  return found;
}

START_TEST (test_module_provides_both_ops)
{
  ck_assert_msg (gegl_has_operation (MODE_POOL),
                 "seg:mode-pool is not registered; is GEGL_PATH set?");
  ck_assert_msg (gegl_has_operation (COUNTLESS_3D),
                 "seg:countless-3d is not registered; is GEGL_PATH set?");
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

START_TEST (test_ops_have_title_categories_and_description)
{
  static const gchar *const ops[] = { "seg:mode-pool", "seg:countless-3d" };
  static const gchar *const keys[] = { "title", "categories", "description" };

  for (gsize o = 0; o < G_N_ELEMENTS (ops); o++)
    {
      const gchar *categories;

      for (gsize k = 0; k < G_N_ELEMENTS (keys); k++)
        {
          const gchar *value = gegl_operation_get_key (ops[o], keys[k]);

          ck_assert_msg (value != NULL && value[0] != '\0',
                         "%s: key \"%s\" is empty", ops[o], keys[k]);
        }
      categories = gegl_operation_get_key (ops[o], "categories");
      ck_assert_msg (strstr (categories, "hidden") == NULL &&
                     strstr (categories, "transform") == NULL,
                     "%s: categories \"%s\" hide the op or make it a "
                     "transform", ops[o], categories);
    }
}
END_TEST

/* ------------------------------------------------------------------------
 * Output = reference, in every format
 * --------------------------------------------------------------------- */

START_TEST (test_output_keeps_the_source_format_and_design_extent)
{
  /* _i = format; odd sizes, a stack of 3 slices, factors 2,3,2:
   * 13 × (7·3) → ceil (13/2) × ceil (7/3) · ceil (3/2) = 7 × 6 at (0,0). */
  Case          c = case_new (1000 + _i, MODE_POOL, formats[_i], 13, 7,
                              (Params) { 2, 3, 2, 3, FALSE },
                              (LabelMix) { 5, 20, FALSE });
  gchar        *context = case_describe (&c);
  Volume        v = volume_new (&c);
  GeglRectangle want_rect = { 0, 0, 7, 6 };
  guint8       *want = reference (&v, &c.p);
  Graph         g = graph_new (v.buffer, c.op, &c.p);
  GeglBuffer   *out;
  const Babl   *op_format;
  guint8       *got;

  log_capture_begin ();
  out = graph_sink (&g);
  assert_no_messages (log_capture_end (), context);

  ck_assert_msg (out != NULL, "%s: buffer-sink got no buffer", context);
  op_format = gegl_operation_get_format (gegl_node_get_gegl_operation (g.pool),
                                         "output");
  ck_assert_msg (op_format == v.format,
                 "%s: the op's output format is \"%s\", not the source's",
                 context, op_format ? babl_get_name (op_format) : "none");
  ck_assert_msg (gegl_buffer_get_format (out) == v.format,
                 "%s: the output buffer is \"%s\", not the source's",
                 context, babl_get_name (gegl_buffer_get_format (out)));
  assert_rect_equal (gegl_buffer_get_extent (out), &want_rect,
                     "output buffer extent", context);

  got = g_malloc ((gsize) want_rect.width * want_rect.height * v.bpp);
  gegl_buffer_get (out, &want_rect, 1.0, v.format, got, GEGL_AUTO_ROWSTRIDE,
                   GEGL_ABYSS_NONE);
  assert_pixels_equal (got, want, &want_rect, v.bpp, "buffer-sink output",
                       context);

  g_free (got);
  g_object_unref (out);
  g_free (want);
  graph_free (&g);
  volume_free (&v);
  g_free (context);
}
END_TEST

START_TEST (test_plain_images_match_the_reference)
{
  /* Depth 1; factors 1 … 5 on odd and even sizes, every format. */
  check_case ((Case[]) { case_random (_i, 1, 5) });
}
END_TEST

START_TEST (test_volumes_match_the_reference)
{
  /* Depth 1 … 5, factor-z 1 … 3, odd sizes, every format. */
  check_case ((Case[]) { case_random (100 + _i, 5, 4) });
}
END_TEST

START_TEST (test_large_factors_are_exact_modes)
{
  /* Factors beyond the image (up to 64), mixed with small ones. */
  Case c = case_random (300 + _i, 4, 4);

  c.p.fx = (gint[]) { 64, 7, 40, 1 }[_i % 4];
  c.p.fy = (gint[]) { 5, 64, 33, 19 }[_i % 4];
  c.p.fz = (gint[]) { 1, 2, 3, 64 }[_i % 4];
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
    { 500, 300, { 2, 2, 1, 1, FALSE } },
    { 500, 300, { 3, 3, 1, 1, TRUE } },
    { 240, 600, { 2, 2, 2, 5, FALSE } },
    { 200, 600, { 2, 3, 2, 5, TRUE } },
    { 301, 801, { 3, 2, 1, 3, FALSE } },
    { 500, 300, { 2, 2, 2, 2, TRUE } },
  };
  static const gchar *const fmts[] = { "Y u8", "Y u32", "RGBA u16" };
  static const gint         threads[2] = { 1, 4 };
  const Params  p = cases[_i].p;
  Case          c = case_new (2000 + _i, MODE_POOL,
                              fmts[_i % G_N_ELEMENTS (fmts)],
                              cases[_i].width, cases[_i].height / p.depth, p,
                              (LabelMix) { _i % 2 ? 3 : 200,
                                           p.sparse ? 40 : 5, FALSE });
  gchar        *context = case_describe (&c);
  Volume        v = volume_new (&c);
  GeglRectangle rect = expected_extent (&v.extent, &c.p);
  guint8       *want = reference (&v, &c.p);
  guint8       *got[2];

  log_capture_begin ();
  for (gint t = 0; t < 2; t++)
    got[t] = render_with_threads (v.buffer, c.op, &c.p, &rect, v.format,
                                  threads[t]);
  assert_no_messages (log_capture_end (), context);

  assert_pixels_equal (got[1], got[0], &rect, v.bpp,
                       "4 threads (got) vs 1 thread (want)", context);
  assert_pixels_equal (got[0], want, &rect, v.bpp, "1 thread", context);

  g_free (got[0]);
  g_free (got[1]);
  g_free (want);
  volume_free (&v);
  g_free (context);
}
END_TEST

/* ------------------------------------------------------------------------
 * Sub-rectangles
 * --------------------------------------------------------------------- */

/* Renders the output of c as whole, then as `parts` (each with a fresh
 * graph), and compares both with the reference. */
static void
check_parts (const Case *c, const GeglRectangle *parts, gint n_parts)
{
  gchar        *context = case_describe (c);
  Volume        v = volume_new (c);
  GeglRectangle rect = expected_extent (&v.extent, &c->p);
  guint8       *want = reference (&v, &c->p);
  guint8       *whole, *assembled;
  Graph         g;

  log_capture_begin ();
  g = graph_new (v.buffer, c->op, &c->p);
  whole = graph_blit (&g, &rect, v.format);
  graph_free (&g);
  assembled = render_in_parts (v.buffer, c->op, &c->p, v.format, &rect,
                               parts, n_parts);
  assert_no_messages (log_capture_end (), context);

  assert_pixels_equal (whole, want, &rect, v.bpp, "whole render", context);
  assert_pixels_equal (assembled, whole, &rect, v.bpp,
                       "sub-rectangles (got) vs whole (want)", context);

  g_free (assembled);
  g_free (whole);
  g_free (want);
  volume_free (&v);
  g_free (context);
}

START_TEST (test_four_uneven_subrectangles_render_like_the_whole)
{
  Case          c = case_random (400 + _i, 5, 4);
  GeglRectangle parts[64];
  GeglRectangle in, rect;

  c.width        += 9;    /* room for cuts on every axis */
  c.slice_height += 5;
  c.x = (gint[]) { 0, -3, 7, -10 }[_i % 4];
  c.y = (gint[]) { 0, 5, -1, -6 }[_i % 4];
  in   = (GeglRectangle) { c.x, c.y, c.width, c.slice_height * c.slices };
  rect = expected_extent (&in, &c.p);
  check_parts (&c, parts, cut_rect (&rect, 2, 2, c.seed, parts));
}
END_TEST

START_TEST (test_parts_that_cross_slice_boundaries_render_like_the_whole)
{
  /* Stacks of 2 … 5 slices cut into 3 × 4 uneven parts: most row cuts
   * fall inside an output slice, so parts straddle slice boundaries. */
  Case          c = case_random (500 + _i, 5, 3);
  GeglRectangle parts[64];
  GeglRectangle in, rect;

  c.slices       = 2 + _i % 4;
  c.p.depth      = c.slices;
  c.p.fz         = 1 + _i % 3;
  c.slice_height = 5 + 2 * (_i % 4);
  c.width        = 11 + _i % 3;
  in   = (GeglRectangle) { c.x, c.y, c.width, c.slice_height * c.slices };
  rect = expected_extent (&in, &c.p);
  check_parts (&c, parts, cut_rect (&rect, 3, 4, c.seed, parts));
}
END_TEST

START_TEST (test_row_by_row_rendering_matches_the_whole)
{
  /* One output row per render: each row's input rows must be mapped
   * through the right slice. */
  Case          c = case_random (600 + _i, 5, 3);
  GeglRectangle parts[64];
  GeglRectangle in, rect;
  gint          n = 0;

  c.slices  = 3 + _i % 3;
  c.p.depth = c.slices;
  c.p.fz    = 2;
  c.x       = -5;
  c.y       = 3;
  in   = (GeglRectangle) { c.x, c.y, c.width, c.slice_height * c.slices };
  rect = expected_extent (&in, &c.p);
  for (gint r = 0; r < rect.height && n < 64; r++)
    parts[n++] = (GeglRectangle) { rect.x, rect.y + r, rect.width, 1 };
  ck_assert_int_eq (n, rect.height);
  check_parts (&c, parts, n);
}
END_TEST

START_TEST (test_pixels_around_the_bounding_box_render_as_nothing)
{
  /* A render 3 pixels larger on every side: the bounding box holds the
   * reference, the frame around it only zero bytes. */
  Case          c = case_random (650 + _i, 4, 3);
  gchar        *context;
  Volume        v;
  GeglRectangle rect, grown;
  guint8       *want, *got, *inner;
  Graph         g;

  c.x     = (gint[]) { 0, -3, 5, -8 }[_i % 4];
  c.y     = (gint[]) { 0, 5, -7, 1 }[_i % 4];
  context = case_describe (&c);
  v       = volume_new (&c);
  rect    = expected_extent (&v.extent, &c.p);
  want    = reference (&v, &c.p);
  grown   = (GeglRectangle) { rect.x - 3, rect.y - 3, rect.width + 6,
                              rect.height + 6 };

  log_capture_begin ();
  g   = graph_new (v.buffer, c.op, &c.p);
  got = graph_blit (&g, &grown, v.format);
  assert_no_messages (log_capture_end (), context);

  inner = cut_out_checking_frame (got, &grown, &rect, v.bpp, context);
  assert_pixels_equal (inner, want, &rect, v.bpp,
                       "bounding box of a larger render", context);

  g_free (inner);
  g_free (got);
  g_free (want);
  graph_free (&g);
  volume_free (&v);
  g_free (context);
}
END_TEST

/* ------------------------------------------------------------------------
 * Translated inputs: blocks start at the input's origin
 * --------------------------------------------------------------------- */

START_TEST (test_blocks_start_at_a_negative_odd_origin)
{
  /* One row at x = -3: 1 1 2 2 3 3 4 4 5, factor-x 2.  Blocks from -3
   * give 1 2 3 4 5 at x = -2 … 2; blocks from -4 would give 1 1 2 3 4 5. */
  static const guint8 row[9] = { 1, 1, 2, 2, 3, 3, 4, 4, 5 };
  const Babl         *y8 = babl_format ("Y u8");
  GeglRectangle       in = { -3, 5, 9, 1 };
  GeglRectangle       want_rect = { -2, 5, 5, 1 };
  GeglBuffer         *buffer = gegl_buffer_new (&in, y8);
  Params              p = { 2, 1, 1, 1, FALSE };
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
  static const gint origins[][2] = {
    { -3, 5 }, { -7, -9 }, { 5, 3 }, { 1, -1 }, { -1, -2 }, { 13, -11 },
  };
  Case c = case_random (700 + _i, 4, 4);

  c.x = origins[_i % G_N_ELEMENTS (origins)][0];
  c.y = origins[_i % G_N_ELEMENTS (origins)][1];
  check_case (&c);
}
END_TEST

/* Small tiles, so that random cases have whole tiles, read in place, next
 * to partial ones at the rims: tile sizes that are and are not multiples
 * of the factors and of the slice height, origins on and off the tile
 * grid, and views shifted into a parent buffer. */
START_TEST (test_buffers_with_small_tiles_match_the_reference)
{
  static const gint tiles[][2] = { { 8, 4 }, { 16, 8 }, { 4, 4 }, { 12, 6 },
                                   { 32, 16 }, { 6, 3 }, { 10, 5 },
                                   { 2, 2 } };
  Case    c = case_random (1500 + _i, 4, 4);
  guint64 rng = (guint64) _i * 0x9E3779B97F4A7C15ull + 7;

  c.tile_w       = tiles[_i % G_N_ELEMENTS (tiles)][0];
  c.tile_h       = tiles[_i % G_N_ELEMENTS (tiles)][1];
  c.width        = rand_range (&rng, 1, 90);
  c.slice_height = rand_range (&rng, 1, 40);
  if (rand_range (&rng, 0, 1) == 0)  /* slices of whole tile rows */
    c.slice_height = c.tile_h * rand_range (&rng, 1, 5);
  c.x            = rand_range (&rng, 0, 2) ? 0 : rand_range (&rng, -20, 20);
  c.y            = rand_range (&rng, 0, 2) ? 0 : rand_range (&rng, -20, 20);
  if (_i % 5 == 4)
    {
      c.shift_x = rand_range (&rng, -9, 9);
      c.shift_y = rand_range (&rng, -9, 9);
    }
  if (rand_range (&rng, 0, 2) == 0 && c.slices > 1)  /* countless 3D */
    c.p = (Params) { 2, 2, 2, c.slices, c.p.sparse };
  check_case (&c);
}
END_TEST

START_TEST (test_translate_node_input_aligns_blocks_to_its_origin)
{
  /* The buffer sits at (0,0); gegl:translate moves it to (-3,5) without
   * changing its format. */
  Case          c = case_random (800 + _i, 4, 3);
  gchar        *context;
  Volume        v;
  GeglRectangle moved, want_rect;
  guint8       *want;

  c.format = formats[_i % N_FORMATS];
  context  = case_describe (&c);
  v        = volume_new (&c);
  moved    = v.extent;
  moved.x -= 3;
  moved.y += 5;
  want_rect = expected_extent (&moved, &c.p);
  want      = reference (&v, &c.p);

  assert_renders (v.buffer, c.op, &c.p, -3, 5, &want_rect, want,
                  "translated render", context);
  g_free (want);
  volume_free (&v);
  g_free (context);
}
END_TEST

/* ------------------------------------------------------------------------
 * Region callbacks
 * --------------------------------------------------------------------- */

/* A stack of Y u8 slices, for the region checks. */
typedef struct
{
  GeglRectangle in;        /* the input, W × (H·D) */
  gint          slice_height;
  Params        p;
  GeglRectangle out;       /* DESIGN.md's output extent */
} Stack;

static Stack
stack_random (guint64 seed)
{
  guint64 rng = seed * 0x9E3779B97F4A7C15ull + 7;
  Stack   s;

  s.slice_height = rand_range (&rng, 1, 9);
  s.p.depth      = rand_range (&rng, 1, 5);
  s.p.fx         = rand_range (&rng, 1, 4);
  s.p.fy         = rand_range (&rng, 1, 4);
  s.p.fz         = rand_range (&rng, 1, 3);
  s.p.sparse     = FALSE;
  s.in = (GeglRectangle) { rand_range (&rng, -9, 9), rand_range (&rng, -9, 9),
                           rand_range (&rng, 1, 15),
                           s.slice_height * s.p.depth };
  s.out = expected_extent (&s.in, &s.p);
  return s;
}

static gchar *
stack_describe (const Stack *s, guint64 seed)
{
  return g_strdup_printf ("seed %" G_GUINT64_FORMAT ": %d×(%d·%d) at (%d,%d), "
                          "factors %d,%d,%d", seed, s->in.width,
                          s->slice_height, s->p.depth, s->in.x, s->in.y,
                          s->p.fx, s->p.fy, s->p.fz);
}

/* Grows r (empty: width 0) to hold the pixel (x, y). */
static void
rect_add (GeglRectangle *r, gint x, gint y)
{
  GeglRectangle px = { x, y, 1, 1 };

  if (r->width == 0)
    *r = px;
  else
    gegl_rectangle_bounding_box (r, r, &px);
}

/* A random rect that overlaps `within` grown by 2 on every side. */
static GeglRectangle
rect_random (guint64 *rng, const GeglRectangle *within)
{
  gint x0 = rand_range (rng, within->x - 2, within->x + within->width + 1);
  gint y0 = rand_range (rng, within->y - 2, within->y + within->height + 1);
  gint x1 = rand_range (rng, x0, within->x + within->width + 1);
  gint y1 = rand_range (rng, y0, within->y + within->height + 1);

  return (GeglRectangle) { x0, y0, x1 - x0 + 1, y1 - y0 + 1 };
}

static Graph
stack_graph (const Stack *s, GeglBuffer **buffer)
{
  Graph g;

  *buffer = gegl_buffer_new (&s->in, babl_format ("Y u8"));
  g = graph_new (*buffer, MODE_POOL, &s->p);
  gegl_node_get_bounding_box (g.pool);   /* prepares the graph */
  return g;
}

START_TEST (test_bounding_box_of_a_stack_is_ceil_on_every_axis)
{
  GeglBuffer   *buffer;
  Graph         g = region_graph (MODE_POOL, FALSE, -3, 5, &buffer);
  GeglRectangle bbox = gegl_node_get_bounding_box (g.pool);
  GeglRectangle want = { -2, 2, 4, 6 };

  assert_rect_equal (&bbox, &want, "bounding box",
                     "7×(5·3) at (-3,5), factors 2,2,2");
  graph_free (&g);
  g_object_unref (buffer);
}
END_TEST

START_TEST (test_required_region_of_a_middle_row_spans_both_slices)
{
  /* Output row 1 (relative) is row 1 of output slice 0: input rows 2, 3
   * of slices 0 and 1, i.e. rows 2 … 8 of the stack. */
  GeglBuffer   *buffer;
  Graph         g = region_graph (MODE_POOL, FALSE, 0, 0, &buffer);
  GeglRectangle roi = { 0, 1, 4, 1 };
  GeglRectangle want = { 0, 2, 7, 7 };

  assert_required_for_output (&g, &roi, &want, "required for output row 1",
                              "7×(5·3), factors 2,2,2");
  graph_free (&g);
  g_object_unref (buffer);
}
END_TEST

START_TEST (test_required_region_of_the_last_slice_row_is_clipped_to_the_stack)
{
  /* Output row 4 is row 1 of output slice 1, which holds only input
   * slice 2 (slice 3 does not exist): rows 12, 13.  Columns 1 … 2 read
   * input columns 2 … 5. */
  GeglBuffer   *buffer;
  Graph         g = region_graph (MODE_POOL, FALSE, 0, 0, &buffer);
  GeglRectangle roi = { 1, 4, 2, 1 };
  GeglRectangle want = { 2, 12, 4, 2 };

  assert_required_for_output (&g, &roi, &want,
                              "required for output row 4, cols 1-2",
                              "7×(5·3), factors 2,2,2");
  graph_free (&g);
  g_object_unref (buffer);
}
END_TEST

START_TEST (test_required_region_follows_a_translated_origin)
{
  /* Input at (-3,5): output at (-2,2).  Output (-1..0, 3) is relative
   * column 1 … 2, row 1: input x -1 … 2, rows 5+2 … 5+8. */
  GeglBuffer   *buffer;
  Graph         g = region_graph (MODE_POOL, FALSE, -3, 5, &buffer);
  GeglRectangle roi = { -1, 3, 2, 1 };
  GeglRectangle want = { -1, 7, 4, 7 };

  assert_required_for_output (&g, &roi, &want,
                              "required for output (-1,3) 2×1",
                              "7×(5·3) at (-3,5), factors 2,2,2");
  graph_free (&g);
  g_object_unref (buffer);
}
END_TEST

START_TEST (test_a_changed_pixel_invalidates_only_its_block)
{
  /* Input pixel (4, 11) relative: column block 2; row 11 is row 1 of
   * slice 2, which pools into output slice 1, row 0: output row 3. */
  GeglBuffer   *buffer;
  Graph         g = region_graph (MODE_POOL, FALSE, 0, 0, &buffer);
  GeglRectangle changed = { 4, 11, 1, 1 };
  GeglRectangle want = { 2, 3, 1, 1 };

  assert_invalidated_by_change (&g, &changed, &want,
                                "invalidated by pixel (4,11)",
                                "7×(5·3), factors 2,2,2");
  graph_free (&g);
  g_object_unref (buffer);
}
END_TEST

START_TEST (test_a_changed_pixel_invalidates_its_block_at_a_translated_origin)
{
  /* The same pixel, with the input at (-3,5): (1,16) → output (0,5). */
  GeglBuffer   *buffer;
  Graph         g = region_graph (MODE_POOL, FALSE, -3, 5, &buffer);
  GeglRectangle changed = { 1, 16, 1, 1 };
  GeglRectangle want = { 0, 5, 1, 1 };

  assert_invalidated_by_change (&g, &changed, &want,
                                "invalidated by pixel (1,16)",
                                "7×(5·3) at (-3,5), factors 2,2,2");
  graph_free (&g);
  g_object_unref (buffer);
}
END_TEST

START_TEST (test_a_change_across_a_slice_boundary_invalidates_rows_before_it)
{
  /* Rows 4 … 5 relative: the last row of slice 0 (output row 2) and the
   * first row of slice 1 (also output slice 0, row 0) → output rows 0 … 2;
   * columns 0 … 6 → all 4 output columns. */
  GeglBuffer   *buffer;
  Graph         g = region_graph (MODE_POOL, FALSE, 0, 0, &buffer);
  GeglRectangle changed = { 0, 4, 7, 2 };
  GeglRectangle want = { 0, 0, 4, 3 };

  assert_invalidated_by_change (&g, &changed, &want, "invalidated by rows 4-5",
                                "7×(5·3), factors 2,2,2");
  graph_free (&g);
  g_object_unref (buffer);
}
END_TEST

START_TEST (test_required_region_is_the_bounding_box_of_the_blocks_read)
{
  Stack          s = stack_random (_i);
  gchar         *context = stack_describe (&s, _i);
  guint64        rng = _i + 99;
  GeglBuffer    *buffer;
  Graph          g = stack_graph (&s, &buffer);
  GeglOperation *op = gegl_node_get_gegl_operation (g.pool);
  const gint     H = s.slice_height, ohs = ceil_div (H, s.p.fy);

  for (gint k = 0; k < 8; k++)
    {
      GeglRectangle roi = rect_random (&rng, &s.out);
      GeglRectangle want = { 0, 0, 0, 0 }, clipped, got;
      gchar        *what = g_strdup_printf ("required for %d×%d at (%d,%d)",
                                            roi.width, roi.height,
                                            roi.x, roi.y);

      if (gegl_rectangle_intersect (&clipped, &roi, &s.out))
        for (gint row = clipped.y - s.out.y;
             row < clipped.y + clipped.height - s.out.y; row++)
          for (gint col = clipped.x - s.out.x;
               col < clipped.x + clipped.width - s.out.x; col++)
            {
              gint oz = row / ohs, oy = row % ohs;

              for (gint z = oz * s.p.fz;
                   z < MIN (oz * s.p.fz + s.p.fz, s.p.depth); z++)
                for (gint y = oy * s.p.fy; y < MIN (oy * s.p.fy + s.p.fy, H);
                     y++)
                  {
                    rect_add (&want, s.in.x + col * s.p.fx,
                              s.in.y + z * H + y);
                    rect_add (&want, s.in.x + MIN (col * s.p.fx + s.p.fx,
                                                   s.in.width) - 1,
                              s.in.y + z * H + y);
                  }
            }

      got = gegl_operation_get_required_for_output (op, "input", &roi);
      if (gegl_rectangle_is_empty (&want))
        ck_assert_msg (gegl_rectangle_is_empty (&got),
                       "%s: %s is %d×%d at (%d,%d), want empty", context,
                       what, got.width, got.height, got.x, got.y);
      else
        assert_rect_equal (&got, &want, what, context);
      g_free (what);
    }

  graph_free (&g);
  g_object_unref (buffer);
  g_free (context);
}
END_TEST

START_TEST (test_invalidated_region_is_the_bounding_box_of_the_blocks_touched)
{
  Stack          s = stack_random (1000 + _i);
  gchar         *context = stack_describe (&s, 1000 + _i);
  guint64        rng = _i + 77;
  GeglBuffer    *buffer;
  Graph          g = stack_graph (&s, &buffer);
  GeglOperation *op = gegl_node_get_gegl_operation (g.pool);
  const gint     H = s.slice_height, ohs = ceil_div (H, s.p.fy);

  for (gint k = 0; k < 8; k++)
    {
      GeglRectangle changed = rect_random (&rng, &s.in);
      GeglRectangle want = { 0, 0, 0, 0 }, clipped, got;
      gchar        *what = g_strdup_printf ("invalidated by %d×%d at (%d,%d)",
                                            changed.width, changed.height,
                                            changed.x, changed.y);

      if (gegl_rectangle_intersect (&clipped, &changed, &s.in))
        for (gint ry = clipped.y - s.in.y;
             ry < clipped.y + clipped.height - s.in.y; ry++)
          for (gint rx = clipped.x - s.in.x;
               rx < clipped.x + clipped.width - s.in.x; rx++)
            rect_add (&want, s.out.x + rx / s.p.fx,
                      s.out.y + (ry / H / s.p.fz) * ohs + (ry % H) / s.p.fy);

      got = gegl_operation_get_invalidated_by_change (op, "input", &changed);
      if (gegl_rectangle_is_empty (&want))
        ck_assert_msg (gegl_rectangle_is_empty (&got),
                       "%s: %s is %d×%d at (%d,%d), want empty", context,
                       what, got.width, got.height, got.x, got.y);
      else
        assert_rect_equal (&got, &want, what, context);
      g_free (what);
    }

  graph_free (&g);
  g_object_unref (buffer);
  g_free (context);
}
END_TEST

START_TEST (test_a_cached_render_follows_changes_that_cross_slices)
{
  /* The op's node caches its output (as GIMP's graphs do) and is read, in
   * bands of 8 output rows, through a gegl:nop.  After a change of input
   * rows that cross a slice boundary, GEGL recomputes a band only if the
   * op's get_invalidated_by_change covered it (GEGL widens that region by
   * up to 15 pixels, so the stack is tall): a stale band means the
   * invalidated region was too small.  40 × (100·3), factors 2,2,2: two
   * output slices of 50 rows. */
  static const GeglRectangle changes[] = {
    { 20, 40, 8, 111 },  /* slice 0 rows 40 … 99, slice 1 rows 0 … 50 */
    { 30, 5, 1, 290 },   /* a column through all three slices         */
    { 3, 190, 30, 20 },  /* slices 1 and 2: two output slices         */
  };
  Case          c = case_new (1500 + _i, MODE_POOL, formats[_i % N_FORMATS],
                              40, 100, (Params) { 2, 2, 2, 3, _i % 2 },
                              (LabelMix) { 6, 20, FALSE });
  gchar        *context = case_describe (&c);
  Volume        v = volume_new (&c);
  GeglRectangle rect = expected_extent (&v.extent, &c.p);
  Graph         g = graph_new (v.buffer, c.op, &c.p);
  GeglNode     *nop = gegl_node_new_child (g.root, "operation", "gegl:nop",
                                           NULL);
  gsize         row_bytes = (gsize) rect.width * v.bpp;
  guint8       *got = g_malloc (row_bytes * rect.height);

  gegl_node_set (g.pool, "cache-policy", GEGL_CACHE_POLICY_ALWAYS, NULL);
  gegl_node_link (g.pool, nop);

  log_capture_begin ();
  gegl_node_blit (nop, 1.0, &rect, v.format, got, GEGL_AUTO_ROWSTRIDE,
                  GEGL_BLIT_DEFAULT);
  for (gsize k = 0; k < G_N_ELEMENTS (changes); k++)
    {
      const GeglRectangle *ch = &changes[k];
      LabelMix             fresh = { 9, 10, FALSE };
      gsize                n = (gsize) ch->width * ch->height;
      guint8              *px = g_malloc (n * v.bpp);
      guint8              *want;
      gchar               *what;

      fill_labels (px, n, v.bpp, c.seed * 31 + k, &fresh);
      gegl_buffer_set (v.buffer, ch, 0, v.format, px, GEGL_AUTO_ROWSTRIDE);
      for (gint y = 0; y < ch->height; y++)
        memcpy (v.px + ((gsize) (ch->y + y) * v.extent.width + ch->x) * v.bpp,
                px + (gsize) y * ch->width * v.bpp,
                (gsize) ch->width * v.bpp);
      g_free (px);

      for (gint r = 0; r < rect.height; r += 8)
        {
          GeglRectangle band = { rect.x, rect.y + r, rect.width,
                                 MIN (8, rect.height - r) };

          gegl_node_blit (nop, 1.0, &band, v.format, got + r * row_bytes,
                          GEGL_AUTO_ROWSTRIDE, GEGL_BLIT_DEFAULT);
        }

      want = reference (&v, &c.p);
      what = g_strdup_printf ("bands rendered from the cache after a "
                              "change of %d×%d at (%d,%d)", ch->width,
                              ch->height, ch->x, ch->y);
      assert_pixels_equal (got, want, &rect, v.bpp, what, context);
      g_free (what);
      g_free (want);
    }
  assert_no_messages (log_capture_end (), context);

  g_free (got);
  graph_free (&g);
  volume_free (&v);
  g_free (context);
}
END_TEST

/* ------------------------------------------------------------------------
 * Bad input: a warning that names the op and the value, nothing rendered
 * --------------------------------------------------------------------- */

START_TEST (test_depth_that_does_not_divide_the_height_warns_and_renders_nothing)
{
  GeglRectangle in = { 0, 0, 6, 10 };
  GeglBuffer   *buffer = gegl_buffer_new (&in, babl_format ("Y u16"));
  Params        p = { 2, 2, 1, 3, FALSE };
  const gint    numbers[] = { 3, 10, G_MININT };

  check_refused (buffer, MODE_POOL, &p, "depth", numbers,
                 "seg:mode-pool, height 10, depth 3");
  g_object_unref (buffer);
}
END_TEST

START_TEST (test_countless_3d_names_itself_when_depth_does_not_divide)
{
  GeglRectangle in = { 0, 0, 6, 10 };
  GeglBuffer   *buffer = gegl_buffer_new (&in, babl_format ("Y u8"));
  Params        p = { 2, 2, 2, 4, FALSE };
  const gint    numbers[] = { 4, 10, G_MININT };

  check_refused (buffer, COUNTLESS_3D, &p, "depth", numbers,
                 "seg:countless-3d, height 10, depth 4");
  g_object_unref (buffer);
}
END_TEST

START_TEST (test_out_of_range_property_warns_and_renders_nothing)
{
  static const struct
  {
    const gchar *property;
    gint         value;
  } bad[] = {
    { "factor-x", 0 }, { "factor-x", 65 }, { "factor-y", -1 },
    { "factor-z", 0 }, { "factor-z", 65 }, { "depth", 0 },
  };
  GeglRectangle in = { 0, 0, 8, 8 };
  GeglBuffer   *buffer = gegl_buffer_new (&in, babl_format ("Y u8"));
  Params        p = { 2, 2, 1, 1, FALSE };
  const gchar  *property = bad[_i].property;
  gint          value = bad[_i].value;
  const gint    numbers[] = { value, G_MININT };
  gchar        *context = g_strdup_printf ("seg:mode-pool, %s = %d",
                                           property, value);

  params_set (&p, property, value);
  check_refused (buffer, MODE_POOL, &p, property, numbers, context);
  g_free (context);
  g_object_unref (buffer);
}
END_TEST

START_TEST (test_empty_input_warns_and_renders_nothing)
{
  GeglRectangle in = { 0, 0, 0, 0 };
  GeglBuffer   *buffer = gegl_buffer_new (&in, babl_format ("Y u32"));
  Params        p = { 2, 2, 1, 1, FALSE };
  const gint    numbers[] = { 0, G_MININT };

  check_refused (buffer, MODE_POOL, &p, "input is empty", numbers,
                 "seg:mode-pool, 0×0 input");
  g_object_unref (buffer);
}
END_TEST

/* GEGL prepares nodes whose input is not connected yet, or no longer, as
 * it builds and tears down graphs: none of that is a problem to report. */
START_TEST (test_building_and_tearing_down_a_graph_is_silent)
{
  GeglRectangle in = { 0, 0, 8, 12 };
  GeglBuffer   *buffer = gegl_buffer_new (&in, babl_format ("Y u8"));
  GeglRectangle probe = { 0, 0, 4, 3 };
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
  source  = gegl_node_new_child (root, "operation", "gegl:buffer-source",
                                 "buffer", buffer, NULL);
  sink    = gegl_node_new_child (root, "operation", "gegl:buffer-sink",
                                 "buffer", &out, NULL);
  gegl_node_link_many (source, pool, NULL);
  gegl_node_link (pool_3d, sink);
  gegl_node_process (sink);
  bbox[1] = gegl_node_get_bounding_box (pool_3d);

  /* Unhooking the source empties the input of both pooling nodes. */
  gegl_node_disconnect (pool, "input");
  bbox[2] = gegl_node_get_bounding_box (pool_3d);
  gegl_node_link (source, pool);
  gegl_node_remove_child (root, source);   /* drops root's reference */
  bbox[2] = gegl_node_get_bounding_box (pool_3d);
  g_object_unref (root);
  text = log_capture_end ();

  ck_assert (gegl_rectangle_is_empty (&bbox[0]));
  ck_assert_int_eq (bbox[1].width, 2);
  ck_assert_int_eq (bbox[1].height, 2);   /* 4×6 as 2 slices of 3 rows */
  ck_assert (gegl_rectangle_is_empty (&bbox[2]));
  ck_assert_ptr_nonnull (out);
  ck_assert_int_eq (gegl_buffer_get_extent (out)->width, 2);
  ck_assert_int_eq (gegl_buffer_get_extent (out)->height, 2);
  ck_assert_msg (strstr (text, "seg:") == NULL,
                 "unexpected message:\n%s", text);
  g_free (text);
  g_object_unref (out);
  g_object_unref (buffer);
}
END_TEST

/* Each problem is said once per node, and again when it comes back after
 * the user fixed it. */
START_TEST (test_a_problem_is_said_once_until_it_changes)
{
  GeglRectangle in = { 0, 0, 6, 10 };
  GeglBuffer   *buffer = gegl_buffer_new (&in, babl_format ("Y u16"));
  Params        p = { 2, 2, 1, 3, FALSE };
  Graph         g;
  GeglRectangle bbox;
  gchar        *text;

  log_capture_begin ();
  g = graph_new (buffer, MODE_POOL, &p);
  for (gint i = 0; i < 3; i++)
    g_clear_object (&(GeglBuffer *) { graph_sink (&g) });
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
  g_clear_object (&(GeglBuffer *) { graph_sink (&g) });
  text = log_capture_end ();

  ck_assert_int_eq (bbox.height, 2 * 3);  /* depth 2: 2 slices of 5 → 3 rows */
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
  Case    c = case_random (900 + _i, 5, 2);
  Params  p3d;
  gchar  *context;
  Volume  v;
  guint8 *got[2], *want;
  GeglRectangle rect;

  c.slices  = 1 + _i % 5;
  c.p       = (Params) { 2, 2, 2, c.slices, _i % 2 };
  p3d       = c.p;
  context   = case_describe (&c);
  v         = volume_new (&c);
  rect      = expected_extent (&v.extent, &c.p);
  want      = reference (&v, &c.p);

  log_capture_begin ();
  for (gint k = 0; k < 2; k++)
    {
      Graph g = graph_new (v.buffer, k ? COUNTLESS_3D : MODE_POOL, &p3d);
      GeglRectangle bbox = gegl_node_get_bounding_box (g.pool);

      assert_rect_equal (&bbox, &rect, k ? "countless-3d bounding box"
                                         : "mode-pool bounding box",
                         context);
      got[k] = graph_blit (&g, &rect, v.format);
      graph_free (&g);
    }
  assert_no_messages (log_capture_end (), context);

  assert_pixels_equal (got[1], got[0], &rect, v.bpp,
                       "countless-3d (got) vs mode-pool 2,2,2 (want)",
                       context);
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
  const gint        d = depths[_i % G_N_ELEMENTS (depths)];
  const gboolean    sparse = _i % 3 == 0;

  check_case ((Case[]) {
    case_new (950 + _i, COUNTLESS_3D, formats[_i % N_FORMATS], 9, 24 / d,
              (Params) { 2, 2, 2, d, sparse },
              (LabelMix) { 4, sparse ? 40 : 10, TRUE }) });
}
END_TEST

START_TEST (test_countless_3d_defaults_to_two_slices)
{
  Params      p;
  GeglNode   *root = gegl_node_new ();
  GeglNode   *node = gegl_node_new_child (root, "operation", COUNTLESS_3D,
                                          NULL);

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
  tcase_add_test (tc, test_module_provides_both_ops);
  tcase_add_test (tc, test_mode_pool_lists_its_five_properties);
  tcase_add_test (tc, test_ops_have_title_categories_and_description);

  tc = harness_tcase (s, "reference");
  tcase_add_loop_test (tc, test_output_keeps_the_source_format_and_design_extent,
                       0, N_FORMATS);
  tcase_add_loop_test (tc, test_plain_images_match_the_reference, 0, 48);
  tcase_add_loop_test (tc, test_volumes_match_the_reference, 0, 60);
  tcase_add_loop_test (tc, test_large_factors_are_exact_modes, 0, 12);

  tc = harness_tcase (s, "threads");
  tcase_add_loop_test (tc, test_one_and_four_threads_give_identical_bytes,
                       0, 6);   /* the cases in the test's table */

  tc = harness_tcase (s, "sub-rectangles");
  tcase_add_loop_test (tc, test_four_uneven_subrectangles_render_like_the_whole,
                       0, 24);
  tcase_add_loop_test (tc,
                       test_parts_that_cross_slice_boundaries_render_like_the_whole,
                       0, 12);
  tcase_add_loop_test (tc, test_row_by_row_rendering_matches_the_whole, 0, 6);
  tcase_add_loop_test (tc, test_pixels_around_the_bounding_box_render_as_nothing,
                       0, 8);

  tc = harness_tcase (s, "origin");
  tcase_add_test (tc, test_blocks_start_at_a_negative_odd_origin);
  tcase_add_loop_test (tc,
                       test_buffers_with_odd_and_negative_origins_match_the_reference,
                       0, 24);
  tcase_add_loop_test (tc, test_translate_node_input_aligns_blocks_to_its_origin,
                       0, N_FORMATS);

  tc = harness_tcase (s, "tiles");
  tcase_add_loop_test (tc, test_buffers_with_small_tiles_match_the_reference,
                       0, 240);

  tc = harness_tcase (s, "regions");
  tcase_add_test (tc, test_bounding_box_of_a_stack_is_ceil_on_every_axis);
  tcase_add_test (tc, test_required_region_of_a_middle_row_spans_both_slices);
  tcase_add_test (tc,
                  test_required_region_of_the_last_slice_row_is_clipped_to_the_stack);
  tcase_add_test (tc, test_required_region_follows_a_translated_origin);
  tcase_add_test (tc, test_a_changed_pixel_invalidates_only_its_block);
  tcase_add_test (tc,
                  test_a_changed_pixel_invalidates_its_block_at_a_translated_origin);
  tcase_add_test (tc,
                  test_a_change_across_a_slice_boundary_invalidates_rows_before_it);
  tcase_add_loop_test (tc,
                       test_required_region_is_the_bounding_box_of_the_blocks_read,
                       0, 40);
  tcase_add_loop_test (tc, test_a_cached_render_follows_changes_that_cross_slices,
                       0, N_FORMATS);
  tcase_add_loop_test (tc,
                       test_invalidated_region_is_the_bounding_box_of_the_blocks_touched,
                       0, 40);

  tc = harness_tcase (s, "bad input");
  tcase_add_test (tc,
                  test_depth_that_does_not_divide_the_height_warns_and_renders_nothing);
  tcase_add_test (tc, test_countless_3d_names_itself_when_depth_does_not_divide);
  tcase_add_loop_test (tc, test_out_of_range_property_warns_and_renders_nothing,
                       0, 6);
  tcase_add_test (tc, test_empty_input_warns_and_renders_nothing);
  tcase_add_test (tc, test_building_and_tearing_down_a_graph_is_silent);
  tcase_add_test (tc, test_a_problem_is_said_once_until_it_changes);

  tc = harness_tcase (s, "countless-3d");
  tcase_add_loop_test (tc, test_countless_3d_equals_mode_pool_2x2x2, 0, 12);
  tcase_add_loop_test (tc, test_countless_3d_depth_property_sets_the_slice_count,
                       0, 10);
  tcase_add_test (tc, test_countless_3d_defaults_to_two_slices);
  return s;
}

int
main (int argc, char **argv)
{
  harness_init (&argc, &argv);
  return harness_run (gegl_suite ());
}
