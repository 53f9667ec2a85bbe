/* SPDX-License-Identifier: LGPL-3.0-or-later
 *
 * seg:sparse-average in real GEGL graphs
 * (gegl:buffer-source → op → gegl_node_blit / gegl:buffer-sink), compared
 * byte for byte with ref_average_pool () on the same pixels: floats too,
 * as bits, since the op must round exactly as the reference does.  Every
 * component type, volumes, GEGL's tiles and small ones read in place,
 * threads, sub-rectangles, translated inputs, alpha, the formats the op
 * has no arithmetic for, the region callbacks and the warnings for input
 * the op cannot serve.
 *
 * Runs without forking (GEGL is initialised once, in main, and keeps worker
 * threads), with GEGL_PATH holding our module then GEGL's own plug-ins.
 */
#include <check.h>
#include <gegl.h>
#include <gegl-plugin.h>

#include <float.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gegl-harness.h"
#include "ref-average-pool.h"
#include "seg-volume.h"

static const gchar *const SPARSE_AVERAGE = "seg:sparse-average";

/* ------------------------------------------------------------------------
 * Fixtures: formats, values, cases, the reference
 * --------------------------------------------------------------------- */

/* A format the op averages in, and how the reference must read it. */
typedef struct
{
  const gchar   *name;
  SegPixelLayout layout;
} Format;

/* The first eight are the issue's; the others add alpha at index 1,
 * premultiplied alpha (a plain mean) and wide sums with alpha. */
static const Format formats[] = {
  { "Y u8", { SEG_TYPE_U8, 1, -1 } },
  { "Y u16", { SEG_TYPE_U16, 1, -1 } },
  { "Y float", { SEG_TYPE_FLOAT, 1, -1 } },
  { "R'G'B'A u8", { SEG_TYPE_U8, 4, 3 } },
  { "RGBA float", { SEG_TYPE_FLOAT, 4, 3 } },
  { "Y half", { SEG_TYPE_HALF, 1, -1 } },
  { "Y double", { SEG_TYPE_DOUBLE, 1, -1 } },
  { "Y u32", { SEG_TYPE_U32, 1, -1 } },
  { "Y'A u16", { SEG_TYPE_U16, 2, 1 } },
  { "RaGaBaA float", { SEG_TYPE_FLOAT, 4, -1 } },
  { "YA half", { SEG_TYPE_HALF, 2, 1 } },
  { "R'G'B'A u32", { SEG_TYPE_U32, 4, 3 } },
  { "RGBA double", { SEG_TYPE_DOUBLE, 4, 3 } },
  /* The .npy formats (issue 11): one number of the dtype each, which
   * babl's component types (u8 … u32, two u32 for 64 bits) do not say. */
  { "seg int8", { SEG_TYPE_I8, 1, -1 } },
  { "seg int16", { SEG_TYPE_I16, 1, -1 } },
  { "seg int32", { SEG_TYPE_I32, 1, -1 } },
  { "seg int64", { SEG_TYPE_I64, 1, -1 } },
  { "seg uint64", { SEG_TYPE_U64, 1, -1 } },
  { "seg bool", { SEG_TYPE_U8, 1, -1 } }, /* 0 or 1 */
};
#define N_FORMATS ((gint) G_N_ELEMENTS (formats))

static const Format *
format_named (const gchar *name)
{
  for (gint i = 0; i < N_FORMATS; i++)
    if (strcmp (formats[i].name, name) == 0)
      return &formats[i];
  ck_abort_msg ("no format %s in the table", name);
  return NULL;
}

static gdouble
unit_random (guint64 *rng)
{
  return (splitmix64 (rng) >> 11) * 0x1.0p-53;
}

static gboolean
is_integer (SegComponentType type)
{
  return type != SEG_TYPE_HALF && type != SEG_TYPE_FLOAT &&
         type != SEG_TYPE_DOUBLE;
}

static gboolean
is_signed (SegComponentType type)
{
  return type == SEG_TYPE_I8 || type == SEG_TYPE_I16 || type == SEG_TYPE_I32 ||
         type == SEG_TYPE_I64;
}

/* The low size bytes of v at dst: for a signed type, v is its two's
 * complement. */
static void
put_bits (guint8 *dst, guint64 v, gint size)
{
  guint8  v8  = (guint8) v;
  guint16 v16 = (guint16) v;
  guint32 v32 = (guint32) v;

  switch (size)
    {
    case 1: memcpy (dst, &v8, 1); break;
    case 2: memcpy (dst, &v16, 2); break;
    case 4: memcpy (dst, &v32, 4); break;
    default: memcpy (dst, &v, 8); break;
    }
}

/* A random integer component, as put_bits () takes it: near the maximum
 * (for a signed type, as often near the minimum), small (0 … 3, signed
 * -3 … 3, so that means fall near 0, where truncation toward zero and
 * rounding down differ), or anywhere. */
static guint64
random_integer (SegComponentType type,
                gboolean         near_max,
                gboolean         small,
                guint64         *rng)
{
  const gint    size = seg_component_size (type);
  const guint64 bits = size == 8 ? G_MAXUINT64 : ((guint64) 1 << 8 * size) - 1;
  const guint64 max  = is_signed (type) ? bits >> 1 : bits;

  if (near_max && is_signed (type) && splitmix64 (rng) % 2 == 0)
    return (~max & bits) + splitmix64 (rng) % 8;
  if (near_max)
    return max - splitmix64 (rng) % 8;
  if (small && is_signed (type))
    return (guint64) rand_range (rng, -3, 3) & bits;
  if (small)
    return splitmix64 (rng) % 4;
  return splitmix64 (rng) & bits;
}

/* A random value for one component of type, stored at dst. */
static void
random_component (guint8          *dst,
                  SegComponentType type,
                  gboolean         alpha,
                  gboolean         transparent,
                  const Mix       *mix,
                  guint64         *rng)
{
  const gint     kind     = rand_range (rng, 0, 99);
  const gboolean near_max = kind < mix->near_max;
  const gboolean small    = !near_max && kind < mix->near_max + mix->small;

  if (is_integer (type))
    put_bits (
      dst,
      alpha && transparent ? 0 : random_integer (type, near_max, small, rng),
      seg_component_size (type));
  else
    {
      /* Near the maximum, but a block of 64³ doubles must not overflow
       * the sum. */
      const gdouble max      = type == SEG_TYPE_HALF    ? 65504.0
                               : type == SEG_TYPE_FLOAT ? FLT_MAX
                                                        : DBL_MAX / 0x1.0p20;
      const gdouble tiny     = type == SEG_TYPE_HALF    ? 0x1.0p-24
                               : type == SEG_TYPE_FLOAT ? FLT_TRUE_MIN
                                                        : DBL_TRUE_MIN;
      const gdouble smalls[] = { 0.0, -0.0, 0.25, 1.0, 3.0, 1.0 / 3, tiny };
      gdouble       v;
      guint16       h;
      gfloat        f;

      if (alpha) /* straight alpha: 0 … 1 */
        v = transparent ? 0.0 : near_max || small ? 1.0 : unit_random (rng);
      else if (near_max)
        v = max * (1.0 - unit_random (rng) / 256);
      else if (small)
        v = smalls[rand_range (rng, 0, G_N_ELEMENTS (smalls) - 1)];
      else
        v = 3.0 * unit_random (rng) - 1.0;
      switch (type)
        {
        case SEG_TYPE_HALF:
          h = ref_half_from_double (v);
          memcpy (dst, &h, 2);
          break;
        case SEG_TYPE_FLOAT:
          f = (gfloat) v;
          memcpy (dst, &f, 4);
          break;
        default: memcpy (dst, &v, 8); break;
        }
    }
}

/* n random pixels of format, as mix says. */
static void
fill_values (
  guint8 *px, gsize n, const gchar *format, const Mix *mix, guint64 seed)
{
  const SegPixelLayout *l       = &format_named (format)->layout;
  const gboolean        boolean = strcmp (format, "seg bool") == 0;
  const gint            size    = seg_component_size (l->type);
  const gint            bpp     = size * l->n_components;
  guint64               rng     = seed ^ 0xD1B54A32D192ED03ull;

  ck_assert_int_eq (babl_format_get_bytes_per_pixel (babl_format (format)),
                    bpp);
  for (gsize i = 0; i < n; i++)
    {
      guint8  *p           = px + i * bpp;
      gboolean transparent = rand_range (&rng, 0, 99) < mix->transparent;

      for (gint c = 0; c < l->n_components; c++)
        random_component (p + c * size, l->type, c == l->alpha, transparent,
                          mix, &rng);
      if (rand_range (&rng, 0, 99) < mix->background)
        {
          draw_background (p, bpp, format_background (babl_format (format)),
                           &rng);
          continue;
        }
      if (boolean)
        *p &= 1;
    }
}

/* ref_average_pool () on the volume's bytes, read as layout says. */
static guint8 *
average_reference (const Volume         *v,
                   const SegPixelLayout *layout,
                   const Params         *p)
{
  ReferenceViews r = reference_views (v, p);

  ref_average_pool (&r.in, &r.out, &r.factors, layout, p->sparse, r.background);
  return r.out.data;
}

static guint8 *
case_average (const Case *c, const Volume *v)
{
  return average_reference (v, &format_named (c->format)->layout, &c->p);
}

/* The averages' pixels (Mix): shares (in percent) of background pixels,
 * of components near the type's maximum, of small components (0 … 3 and a
 * few exact or tiny floats, so that means land on ties), and of the other
 * pixels that are fully transparent, in wild colours.  Most tests draw
 * some of everything. */
static const Mix mixed = {
  .background = 30, .near_max = 10, .small = 20, .transparent = 20
};

/* How the averages' cases draw their pixels and what they must give. */
static const Family average_ops = { fill_values, case_average };

/* A case at the origin, GEGL's tiles. */
static Case
case_new (guint64      seed,
          const gchar *format,
          gint         width,
          gint         slice_height,
          Params       p,
          Mix          mix)
{
  return (Case){ .family       = &average_ops,
                 .seed         = seed,
                 .op           = SPARSE_AVERAGE,
                 .format       = format_named (format)->name,
                 .width        = width,
                 .slice_height = slice_height,
                 .p            = p,
                 .mix          = mix };
}

/* A random case: the format cycles with the seed, so a loop test over
 * consecutive seeds covers every format. */
static Case
case_random (guint64 seed, gint max_slices, gint max_factor)
{
  guint64 rng = seed * 0x5851F42D4C957F2Dull + 3;
  Case    c   = { 0 };

  c.family          = &average_ops;
  c.seed            = seed;
  c.op              = SPARSE_AVERAGE;
  c.format          = formats[seed % N_FORMATS].name;
  c.width           = rand_range (&rng, 1, 60);
  c.p.depth         = rand_range (&rng, 1, max_slices);
  c.slice_height    = rand_range (&rng, 1, c.p.depth > 1 ? 24 : 60);
  c.p.fx            = rand_range (&rng, 1, max_factor);
  c.p.fy            = rand_range (&rng, 1, max_factor);
  c.p.fz            = c.p.depth > 1 ? rand_range (&rng, 1, 3) : 1;
  c.p.sparse        = rand_range (&rng, 0, 2) != 0;
  c.mix.background  = (gint[]){ 0, 10, 40, 80 }[rand_range (&rng, 0, 3)];
  c.mix.near_max    = (gint[]){ 0, 20, 90 }[rand_range (&rng, 0, 2)];
  c.mix.small       = rand_range (&rng, 0, 40);
  c.mix.transparent = rand_range (&rng, 0, 30);
  return c;
}

/* ------------------------------------------------------------------------
 * The op
 * --------------------------------------------------------------------- */

START_TEST (test_module_provides_sparse_average_with_its_defaults)
{
  GeglNode *root = gegl_node_new ();
  GeglNode *node;
  Params    p;

  ck_assert_msg (gegl_has_operation (SPARSE_AVERAGE),
                 "seg:sparse-average is not registered; is GEGL_PATH set?");
  node = gegl_node_new_child (root, "operation", SPARSE_AVERAGE, NULL);
  gegl_node_get (node, "factor-x", &p.fx, "factor-y", &p.fy, "factor-z", &p.fz,
                 "depth", &p.depth, "sparse", &p.sparse, NULL);
  ck_assert_int_eq (p.fx, 2);
  ck_assert_int_eq (p.fy, 2);
  ck_assert_int_eq (p.fz, 1);
  ck_assert_int_eq (p.depth, 1);
  ck_assert_msg (p.sparse, "sparse must default to on");
  g_object_unref (root);
}
END_TEST

START_TEST (test_op_has_title_categories_and_description)
{
  assert_op_is_registered_and_described (SPARSE_AVERAGE);
}
END_TEST

/* ------------------------------------------------------------------------
 * Output = reference, in every format
 * --------------------------------------------------------------------- */

START_TEST (test_output_keeps_the_source_format_and_design_extent)
{
  /* _i = format; odd sizes, a stack of 3 slices, factors 2,3,2:
   * 13 × (7·3) → ceil (13/2) × ceil (7/3) · ceil (3/2) = 7 × 6 at (0,0). */
  Case c = case_new (1000 + _i, formats[_i].name, 13, 7,
                     (Params){ 2, 3, 2, 3, TRUE }, mixed);

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
  /* Depth 1 … 5, factor-z 1 … 3, every format. */
  check_case ((Case[]){ case_random (100 + _i, 5, 5) });
}
END_TEST

START_TEST (test_values_near_the_type_maximum_match_the_reference)
{
  /* _i / 2 = format: every component near the maximum (no overflow in
   * the sums, alpha weighting included), in 5×5×3 blocks, sparse and
   * not. */
  Case c = case_new (1100 + _i, formats[_i / 2].name, 23, 11,
                     (Params){ 5, 5, 3, 4, _i % 2 },
                     (Mix){ .background = 10, .near_max = 100 });

  check_case (&c);
}
END_TEST

START_TEST (test_large_factors_are_exact_means)
{
  /* Factors of 2^k and others up to 64, beyond the image too: each output
   * pixel is the mean over its whole block. */
  Case c = case_random (300 + _i, 4, 4);

  c.width        = 40 + _i % 30;
  c.slice_height = 20 + _i % 17;
  c.p.fx         = (gint[]){ 64, 8, 16, 32, 7, 4 }[_i % 6];
  c.p.fy         = (gint[]){ 8, 64, 16, 4, 33, 16 }[_i % 6];
  c.p.fz         = (gint[]){ 1, 2, 4, 64, 3, 2 }[_i % 6];
  check_case (&c);
}
END_TEST

/* Sums of 2×2 blocks 11, 11, 11 and 7: the 4×4 mean is 44 / 16 = 2.75,
 * rounded down 2; the 2×2 means 2, 2, 2, 1, whose mean 1.75 rounds down to
 * 1.  Repeated over an image larger than a tile, so that both ways of
 * feeding the kernel see it. */
static const guint8 four_by_four[4][4] = {
  { 3, 3, 3, 3 },
  { 3, 2, 3, 2 },
  { 3, 3, 2, 2 },
  { 3, 2, 2, 1 },
};

START_TEST (test_a_4x_reduction_is_not_two_2x_reductions)
{
  const Babl   *y8      = babl_format ("Y u8");
  GeglRectangle in      = { 0, 0, 136, 72 };
  GeglRectangle quarter = { 0, 0, 34, 18 };
  guint8       *px      = g_malloc ((gsize) in.width * in.height);
  GeglBuffer   *buffer;
  GeglNode     *second;
  guint8       *got[2];
  Graph         g[2];

  for (gint y = 0; y < in.height; y++)
    for (gint x = 0; x < in.width; x++)
      px[y * in.width + x] = four_by_four[y % 4][x % 4];
  buffer = buffer_new_with_pixels (&in, y8, px, 0, 0, 0, 0);

  log_capture_begin ();
  g[0]   = graph_new (buffer, SPARSE_AVERAGE, &(Params){ 4, 4, 1, 1, _i });
  got[0] = graph_blit (&g[0], &quarter, y8);

  g[1]   = graph_new (buffer, SPARSE_AVERAGE, &(Params){ 2, 2, 1, 1, _i });
  second = gegl_node_new_child (g[1].root, "operation", SPARSE_AVERAGE,
                                "sparse", (gboolean) _i, NULL);
  gegl_node_link (g[1].pool, second);
  g[1].pool = second;
  got[1]    = graph_blit (&g[1], &quarter, y8);
  assert_no_messages (log_capture_end (), _i ? "sparse" : "not sparse");

  for (gint i = 0; i < quarter.width * quarter.height; i++)
    {
      ck_assert_msg (got[0][i] == 2,
                     "factor 4, output pixel %d: got %d, "
                     "want 2 (44 / 16 rounded down)",
                     i, got[0][i]);
      ck_assert_msg (got[1][i] == 1,
                     "factor 2 twice, output pixel %d: got "
                     "%d, want 1 (7 / 4 rounded down)",
                     i, got[1][i]);
    }

  for (gint k = 0; k < 2; k++)
    {
      g_free (got[k]);
      graph_free (&g[k]);
    }
  g_object_unref (buffer);
  g_free (px);
}
END_TEST

/* ------------------------------------------------------------------------
 * Threads
 * --------------------------------------------------------------------- */

START_TEST (test_one_and_four_threads_give_identical_bytes)
{
  /* Outputs of at least 2 × 4096 pixels, so that GEGL splits the 4-thread
   * render: wide ones into columns, tall stacks into bands of rows. */
  static const struct
  {
    const gchar *format;
    gint         width, height;
    Params       p;
  } cases[] = {
    { "Y u8", 500, 300, { 2, 2, 1, 1, TRUE } },
    { "Y u16", 500, 300, { 3, 3, 1, 1, FALSE } },
    { "Y float", 240, 600, { 2, 2, 2, 5, TRUE } },
    { "R'G'B'A u8", 200, 600, { 2, 3, 2, 5, TRUE } },
    { "RGBA float", 301, 801, { 3, 2, 1, 3, FALSE } },
    { "Y half", 500, 300, { 2, 2, 2, 2, TRUE } },
  };
  const Params p = cases[_i].p;

  check_threads_agree (
    (Case[]){ case_new (2000 + _i, cases[_i].format, cases[_i].width,
                        cases[_i].height / p.depth, p, mixed) });
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

START_TEST (test_row_by_row_rendering_matches_the_whole)
{
  /* One output row per render: each row's input rows must be mapped
   * through the right slice; small tiles, so that some rows are read in
   * place. */
  Case c = case_random (600 + _i, 5, 3);

  c.p.depth      = 3 + _i % 3;
  c.p.fz         = 2;
  c.slice_height = MIN (c.slice_height, 10);
  c.x            = _i % 2 ? -5 : 0;
  c.y            = _i % 2 ? 3 : 0;
  c.tile_w       = 6 * c.p.fx;
  c.tile_h       = 2 * c.p.fy;
  check_row_by_row (&c);
}
END_TEST

START_TEST (test_pixels_around_the_bounding_box_render_as_nothing)
{
  check_frame_renders_nothing (case_random (650 + _i, 4, 3), _i);
}
END_TEST

/* ------------------------------------------------------------------------
 * Origins and tiles
 * --------------------------------------------------------------------- */

START_TEST (test_buffers_with_odd_and_negative_origins_match_the_reference)
{
  check_at_odd_origin (case_random (700 + _i, 4, 4), _i);
}
END_TEST

START_TEST (test_translate_node_input_aligns_blocks_to_its_origin)
{
  /* The buffer sits at (0,0); gegl:translate moves it to (-3,5) without
   * changing its format. */
  check_translated ((Case[]){ case_random (800 + _i, 4, 3) });
}
END_TEST

/* Small tiles, so that random cases have whole tiles, read in place, next
 * to partial ones at the rims: tile sizes that are and are not multiples
 * of the factors and of the slice height, origins on and off the tile
 * grid, and views shifted into a parent buffer. */
START_TEST (test_buffers_with_small_tiles_match_the_reference)
{
  check_with_small_tiles (case_random (1500 + _i, 4, 4), _i, 11);
}
END_TEST

START_TEST (test_whole_tiles_read_in_place_match_the_reference)
{
  /* _i / 3 = format.  Tiles of 8 × 4 holding whole blocks, a width and
   * slice height of whole tiles: the driver reads every input tile where
   * it lies, and with factor-z 2 two slices' tiles at once. */
  static const Params params[] = {
    { 2, 2, 1, 1, TRUE },
    { 4, 2, 2, 4, TRUE },
    { 2, 4, 2, 2, FALSE },
  };
  Case c =
    case_new (1700 + _i, formats[_i / 3].name, 48, 16, params[_i % 3], mixed);

  c.tile_w = 8;
  c.tile_h = 4;
  check_case (&c);
}
END_TEST

/* ------------------------------------------------------------------------
 * Formats the op has no arithmetic for: averaged as RGBA float
 * --------------------------------------------------------------------- */

/* Renders buffer (holding `extent`, some format the op does not average
 * in) and checks the op's format, then the bytes against the reference
 * on the buffer's pixels converted to RGBA float. */
static void
check_falls_back_to_rgba_float (GeglBuffer   *buffer,
                                const Params *p,
                                const gchar  *context)
{
  const Babl *source = gegl_buffer_get_format (buffer);
  const Babl *rgbaf =
    babl_format_with_space ("RGBA float", babl_format_get_space (source));
  const GeglRectangle *extent = gegl_buffer_get_extent (buffer);
  GeglRectangle        rect   = expected_extent (extent, p);
  Volume               v      = { 0 };
  guint8              *want, *got;
  Graph                g;
  GeglBuffer          *sunk;

  /* The pixels as the op sees them, for the reference. */
  v.format       = rgbaf;
  v.bpp          = 16;
  v.extent       = *extent;
  v.slice_height = extent->height / p->depth;
  v.slices       = p->depth;
  v.px           = g_malloc ((gsize) extent->width * extent->height * 16);
  gegl_buffer_get (buffer, extent, 1.0, rgbaf, v.px, GEGL_AUTO_ROWSTRIDE,
                   GEGL_ABYSS_NONE);
  want = average_reference (&v, &format_named ("RGBA float")->layout, p);

  log_capture_begin ();
  g    = graph_new (buffer, SPARSE_AVERAGE, p);
  got  = graph_blit (&g, &rect, rgbaf);
  sunk = graph_sink (&g);
  assert_no_messages (log_capture_end (), context);

  ck_assert_msg (graph_output_format (&g) == rgbaf,
                 "%s: the op works in \"%s\", want \"%s\"", context,
                 babl_get_name (graph_output_format (&g)),
                 babl_get_name (rgbaf));
  ck_assert_msg (sunk != NULL && gegl_buffer_get_format (sunk) == rgbaf,
                 "%s: the output buffer is not RGBA float", context);
  assert_pixels_equal (got, want, &rect, 16, "RGBA float render", context);

  g_clear_object (&sunk);
  g_free (got);
  g_free (want);
  graph_free (&g);
  volume_free (&v);
}

START_TEST (test_a_palette_is_averaged_as_rgba_float)
{
  /* Index 0 is transparent black, whose RGBA float is all zero: background.
   * _i: GEGL's tiles (the 150 × 70 image holds a whole one at its
   * origin), small tiles, sparse or not. */
  guint8 colours[6][4] = {
    { 0, 0, 0, 0 },   { 255, 0, 0, 255 }, { 0, 200, 10, 128 },
    { 7, 7, 250, 1 }, { 90, 80, 70, 0 },  { 255, 255, 255, 255 },
  };
  const Babl   *palette, *palette_alpha;
  GeglRectangle extent = { -4, 6, 150, 70 };
  guint8       *px     = g_malloc ((gsize) extent.width * extent.height);
  guint64       rng    = 77 + _i;
  GeglBuffer   *buffer;
  gchar        *context =
    g_strdup_printf ("a palette, %s, %s", _i / 2 ? "8×4 tiles" : "GEGL's tiles",
                     _i % 2 ? "sparse" : "not sparse");

  babl_new_palette (NULL, &palette, &palette_alpha);
  babl_palette_set_palette (palette, babl_format ("R'G'B'A u8"), colours,
                            G_N_ELEMENTS (colours));
  for (gint i = 0; i < extent.width * extent.height; i++)
    px[i] = (guint8) rand_range (&rng, 0, G_N_ELEMENTS (colours) - 1);
  buffer =
    buffer_new_with_pixels (&extent, palette, px, _i / 2 ? 8 : 0, 4, 0, 0);

  check_falls_back_to_rgba_float (buffer, &(Params){ 2, 2, 1, 1, _i % 2 },
                                  context);
  g_object_unref (buffer);
  g_free (px);
  g_free (context);
}
END_TEST

START_TEST (test_an_unknown_component_type_is_averaged_as_rgba_float)
{
  /* u15: 15-bit integers, which the kernel has no arithmetic for.  A
   * stack of 2 slices of 140 × 70, every other pixel background; _i:
   * GEGL's tiles or 16 × 10 ones. */
  const Babl   *u15    = babl_format ("R'G'B'A u15");
  GeglRectangle extent = { 0, 0, 140, 140 };
  gsize         n      = (gsize) extent.width * extent.height;
  guint16      *px     = g_malloc (n * 8);
  guint64       rng    = 1900 + _i;
  GeglBuffer   *buffer;

  for (gsize i = 0; i < n; i++)
    for (gint c = 0; c < 4; c++)
      px[4 * i + c] = i % 2 ? (guint16) rand_range (&rng, 0, 32768) : 0;
  buffer =
    buffer_new_with_pixels (&extent, u15, (guint8 *) px, _i ? 16 : 0, 10, 0, 0);
  check_falls_back_to_rgba_float (buffer, &(Params){ 2, 5, 2, 2, TRUE },
                                  _i ? "R'G'B'A u15, 16×10 tiles"
                                     : "R'G'B'A u15, GEGL's tiles");
  g_object_unref (buffer);
  g_free (px);
}
END_TEST

/* ------------------------------------------------------------------------
 * Alpha
 * --------------------------------------------------------------------- */

/* Runs the op with p on the packed pixels px (width × height, in format)
 * and returns the output (free it). */
static guint8 *
average_pixels (const gchar   *format,
                const void    *px,
                gint           width,
                gint           height,
                const Params  *p,
                GeglRectangle *out_rect)
{
  const Babl   *fmt    = babl_format (format);
  GeglRectangle in     = { 0, 0, width, height };
  GeglBuffer   *buffer = buffer_new_with_pixels (&in, fmt, px, 0, 0, 0, 0);
  Graph         g      = graph_new (buffer, SPARSE_AVERAGE, p);
  guint8       *out;

  *out_rect = expected_extent (&in, p);
  log_capture_begin ();
  out = graph_blit (&g, out_rect, fmt);
  ck_assert_msg (graph_output_format (&g) == fmt, "%s: the op works in \"%s\"",
                 format, babl_get_name (graph_output_format (&g)));
  assert_no_messages (log_capture_end (), format);
  graph_free (&g);
  g_object_unref (buffer);
  return out;
}

START_TEST (test_transparent_pixels_do_not_tint_r_g_b_a_u8)
{
  /* 2×2 blocks, _i = sparse.  Left: two opaque reds and two transparent
   * pixels of other colours: red, alpha 510 / 4; sparse leaves the
   * transparent ones out as background: opaque red.  Right: transparent
   * only: no colour, sparse or not. */
  static const guint8 px[2][4][4] = {
    { { 255, 0, 0, 255 }, { 255, 0, 0, 255 }, { 9, 8, 7, 0 }, { 1, 2, 3, 0 } },
    { { 0, 255, 0, 0 },
      { 0, 0, 255, 0 },
      { 255, 255, 255, 0 },
      { 40, 50, 60, 0 } },
  };
  const guint8  want[2][4] = { { 255, 0, 0, _i ? 255 : 127 }, { 0, 0, 0, 0 } };
  GeglRectangle rect;
  guint8       *got =
    average_pixels ("R'G'B'A u8", px, 4, 2, &(Params){ 2, 2, 1, 1, _i }, &rect);

  ck_assert_int_eq (rect.width, 2);
  assert_pixels_equal (got, &want[0][0], &rect, 4,
                       "opaque red and transparent pixels",
                       _i ? "R'G'B'A u8, sparse" : "R'G'B'A u8");
  g_free (got);
}
END_TEST

START_TEST (test_transparent_pixels_do_not_tint_rgba_float)
{
  static const gfloat px[2][4][4] = {
    { { 1, 0, 0, 1 }, { 1, 0, 0, 1 }, { 0, 1, 0, 0 }, { 0, 0, 1e30f, 0 } },
    { { 0.5f, 2, 3, 0 }, { -1, 0, 1, 0 }, { 1, 1, 1, 0 }, { 7, 0, 0, 0 } },
  };
  const gfloat  want[2][4] = { { 1, 0, 0, _i ? 1 : 0.5f }, { 0, 0, 0, 0 } };
  GeglRectangle rect;
  guint8       *got =
    average_pixels ("RGBA float", px, 4, 2, &(Params){ 2, 2, 1, 1, _i }, &rect);

  assert_pixels_equal (got, (const guint8 *) want, &rect, 16,
                       "opaque red and transparent pixels",
                       _i ? "RGBA float, sparse" : "RGBA float");
  g_free (got);
}
END_TEST

START_TEST (test_colour_is_weighted_by_alpha)
{
  /* Two pixels, factor-x 2: (200, 0, 0, 255) and (0, 100, 0, 51) give
   * 200·255 / 306 = 166.7 → 166, 100·51 / 306 = 16.7 → 16, alpha 153;
   * in float (1, 0, 0, 1) and (0, 1, 0, 0.5) give 1 / 1.5, 0.5 / 1.5 and
   * alpha 0.75. */
  static const guint8 px8[2][4] = { { 200, 0, 0, 255 }, { 0, 100, 0, 51 } };
  static const guint8 want8[4]  = { 166, 16, 0, 153 };
  static const gfloat pxf[2][4] = { { 1, 0, 0, 1 }, { 0, 1, 0, 0.5f } };
  const gfloat        wantf[4]  = { (gfloat) (1 / 1.5), (gfloat) (0.5 / 1.5), 0,
                                    0.75f };
  const Params        p         = { 2, 1, 1, 1, TRUE };
  GeglRectangle       rect;
  guint8             *got;

  got = average_pixels ("R'G'B'A u8", px8, 2, 1, &p, &rect);
  assert_pixels_equal (got, want8, &rect, 4, "alpha-weighted mean",
                       "R'G'B'A u8");
  g_free (got);
  got = average_pixels ("RGBA float", pxf, 2, 1, &p, &rect);
  assert_pixels_equal (got, (const guint8 *) wantf, &rect, 16,
                       "alpha-weighted mean", "RGBA float");
  g_free (got);
}
END_TEST

/* Clears the sign of a floating-point component. */
static void
make_non_negative (guint8 *component, SegComponentType type)
{
  guint16 h;
  guint32 f;
  guint64 d;

  switch (type)
    {
    case SEG_TYPE_HALF:
      memcpy (&h, component, 2);
      h &= 0x7fff;
      memcpy (component, &h, 2);
      break;
    case SEG_TYPE_FLOAT:
      memcpy (&f, component, 4);
      f &= 0x7fffffffu;
      memcpy (component, &f, 4);
      break;
    case SEG_TYPE_DOUBLE:
      memcpy (&d, component, 8);
      d &= ~((guint64) 1 << 63);
      memcpy (component, &d, 8);
      break;
    default: break;
    }
}

/* The colour of every transparent, non-background pixel of px replaced
 * by another wild, non-zero, non-negative one.  Not negative: c · 0 is
 * then -0.0, and a block whose other terms are +0.0 sums to +0.0 or -0.0
 * depending on the transparent pixels' colours; equal numbers, but not
 * equal bits. */
static void
recolour_transparent (guint8 *px, gsize n, const gchar *format, guint64 seed)
{
  const SegPixelLayout *l        = &format_named (format)->layout;
  const gint            size     = seg_component_size (l->type);
  const gint            bpp      = size * l->n_components;
  const guint8          zero[16] = { 0 };
  guint64               rng      = seed;
  const Mix             wild     = { .near_max = 30, .small = 30 };

  for (gsize i = 0; i < n; i++)
    {
      guint8 *p = px + i * bpp;

      if (memcmp (p + l->alpha * size, zero, size) != 0 ||
          memcmp (p, zero, bpp) == 0)
        continue;
      for (gint c = 0; c < l->n_components; c++)
        if (c != l->alpha)
          {
            random_component (p + c * size, l->type, FALSE, FALSE, &wild, &rng);
            make_non_negative (p + c * size, l->type);
          }
      /* Still not background, whatever the colour drawn. */
      if (memcmp (p, zero, bpp) == 0)
        p[0] = 1;
    }
}

START_TEST (test_recolouring_transparent_pixels_changes_nothing)
{
  /* _i: R'G'B'A u8 or RGBA float, sparse or not, blocks of 2×2 and 3×2×2
   * over many transparent pixels. */
  static const gchar *const names[] = { "R'G'B'A u8", "RGBA float" };
  Case                      c = case_new (2100 + _i, names[_i % 2], 31, 14,
                     _i / 2 % 2 ? (Params){ 3, 2, 2, 3, _i / 4 }
                                                     : (Params){ 2, 2, 1, 1, _i / 4 },
                                          (Mix){ .background = 20, .small = 10, .transparent = 50 });
  gchar                    *context = case_describe (&c);
  Volume                    v       = volume_new (&c);
  gsize                     n       = (gsize) v.extent.width * v.extent.height;
  guint8                   *recoloured = g_memdup2 (v.px, n * v.bpp);
  GeglRectangle             rect       = expected_extent (&v.extent, &c.p);
  guint8                   *got[2], *want;
  Volume                    w;
  Graph                     g;

  /* Two sets of wild colours, the pixels' own and others. */
  recolour_transparent (v.px, n, c.format, c.seed);
  gegl_buffer_set (v.buffer, &v.extent, 0, v.format, v.px, GEGL_AUTO_ROWSTRIDE);
  recolour_transparent (recoloured, n, c.format, ~c.seed);
  w = volume_of (&c, recoloured);
  ck_assert_msg (memcmp (v.px, w.px, n * v.bpp) != 0,
                 "%s: no transparent pixel to recolour", context);

  log_capture_begin ();
  g      = graph_new (v.buffer, SPARSE_AVERAGE, &c.p);
  got[0] = graph_blit (&g, &rect, v.format);
  graph_free (&g);
  g      = graph_new (w.buffer, SPARSE_AVERAGE, &c.p);
  got[1] = graph_blit (&g, &rect, v.format);
  graph_free (&g);
  assert_no_messages (log_capture_end (), context);

  assert_pixels_equal (got[1], got[0], &rect, v.bpp,
                       "recoloured (got) vs original (want)", context);
  want = case_reference (&c, &v);
  assert_pixels_equal (got[0], want, &rect, v.bpp, "original", context);
  g_free (want);
  g_free (got[0]);
  g_free (got[1]);
  volume_free (&w);
  volume_free (&v);
  g_free (context);
}
END_TEST

START_TEST (test_premultiplied_alpha_gets_the_plain_mean)
{
  /* (0.2, 0.4, 0.6, 1) and (0.6, 0, 0.2, 0.5): the plain mean, not the
   * alpha-weighted one (which would make red 0.5 / 1.5). */
  static const gfloat px[2][4] = { { 0.2f, 0.4f, 0.6f, 1 },
                                   { 0.6f, 0, 0.2f, 0.5f } };
  gfloat              want[4];
  GeglRectangle       rect;
  guint8             *got;

  for (gint c = 0; c < 4; c++)
    want[c] = (gfloat) (((gdouble) px[0][c] + px[1][c]) / 2);
  got = average_pixels ("RaGaBaA float", px, 2, 1,
                        &(Params){ 2, 1, 1, 1, TRUE }, &rect);
  assert_pixels_equal (got, (const guint8 *) want, &rect, 16, "plain mean",
                       "RaGaBaA float");
  g_free (got);
}
END_TEST

/* ------------------------------------------------------------------------
 * The .npy formats: numbers of their dtype
 * --------------------------------------------------------------------- */

/* 2×2 pixels (two's complement bits for the signed formats) and the means
 * of the block, not sparse and sparse, worked out by hand: signed means
 * truncated toward zero, unsigned ones rounded down, 64-bit sums past 64
 * bits.  The first rows are issue 11's. */
static const struct
{
  const gchar *format;
  gint64       px[4];
  gint64       want_dense, want_sparse;
} npy_means[] = {
  { "seg int8", { -1, 1, -1, 1 }, 0, 0 },
  { "seg int16", { -3, 1, 5, -1 }, 0, 0 },
  { "seg int32", { -7, 7, 1, 1 }, 0, 0 },
  { "seg uint64",
    { G_GINT64_CONSTANT (1) << 32, 0, G_GINT64_CONSTANT (1) << 32, 0 },
    G_GINT64_CONSTANT (1) << 31,
    G_GINT64_CONSTANT (1) << 32 },
  { "seg int64",
    { -(G_GINT64_CONSTANT (1) << 40), 2, G_GINT64_CONSTANT (1) << 40, 2 },
    1,
    1 },
  { "seg int8", { -1, -2, -3, -4 }, -2, -2 },  /* -2.5       */
  { "seg int8", { -1, 0, 0, 0 }, 0, -1 },      /* -0.25, -1  */
  { "seg int16", { -5, -5, -5, -6 }, -5, -5 }, /* -5.25      */
  { "seg int64",
    { G_MININT64, G_MININT64, G_MININT64, G_MININT64 + 1 },
    G_MININT64 + 1,
    G_MININT64 + 1 }, /* min + 0.25 */
  { "seg int64",
    { G_MININT64, G_MAXINT64, G_MAXINT64, G_MININT64 },
    0,
    0 }, /* -0.5       */
  /* uint64 as two's complement: -1 is the maximum, 2^64 - 1.25 → -2. */
  { "seg uint64", { -1, -1, -1, -2 }, -2, -2 },
  { "seg bool", { 1, 0, 1, 1 }, 0, 1 }, /* 0.75, 1    */
};

START_TEST (test_npy_formats_average_the_numbers_of_their_dtype)
{
  const gchar  *format = npy_means[_i].format;
  const gint    size   = babl_format_get_bytes_per_pixel (babl_format (format));
  guint8        px[4 * 8], want[2][8];
  GeglRectangle rect;

  for (gint k = 0; k < 4; k++)
    put_bits (px + k * size, (guint64) npy_means[_i].px[k], size);
  put_bits (want[0], (guint64) npy_means[_i].want_dense, size);
  put_bits (want[1], (guint64) npy_means[_i].want_sparse, size);
  for (gint sparse = 0; sparse < 2; sparse++)
    {
      gchar  *context = g_strdup_printf ("%s, row %d, %s", format, _i,
                                        sparse ? "sparse" : "not sparse");
      guint8 *got     = average_pixels (format, px, 2, 2,
                                        &(Params){ 2, 2, 1, 1, sparse }, &rect);

      assert_pixels_equal (got, want[sparse], &rect, size, "mean", context);
      g_free (got);
      g_free (context);
    }
}
END_TEST

/* ------------------------------------------------------------------------
 * Sparse
 * --------------------------------------------------------------------- */

START_TEST (test_sparse_is_on_by_default)
{
  /* Y u8, default factors 2×2: a block of 10, 20 and two zeros gives 15
   * with background left out (7 with it); a block of zeros stays 0. */
  static const guint8 px[2][4] = { { 10, 0, 0, 0 }, { 0, 20, 0, 0 } };
  const Babl         *y8       = babl_format ("Y u8");
  GeglRectangle       in       = { 0, 0, 4, 2 };
  GeglRectangle       rect     = { 0, 0, 2, 1 };
  GeglBuffer *buffer = buffer_new_with_pixels (&in, y8, &px[0][0], 0, 0, 0, 0);
  GeglNode   *root   = gegl_node_new ();
  GeglNode   *source = gegl_node_new_child (
      root, "operation", "gegl:buffer-source", "buffer", buffer, NULL);
  GeglNode *pool =
    gegl_node_new_child (root, "operation", SPARSE_AVERAGE, NULL);
  guint8              got[2];
  static const guint8 want[2] = { 15, 0 };

  gegl_node_link (source, pool);
  log_capture_begin ();
  gegl_node_blit (pool, 1.0, &rect, y8, got, GEGL_AUTO_ROWSTRIDE,
                  GEGL_BLIT_DEFAULT);
  assert_no_messages (log_capture_end (), "defaults");
  assert_pixels_equal (got, want, &rect, 1, "default properties", "Y u8");

  gegl_node_set (pool, "sparse", FALSE, NULL);
  gegl_node_blit (pool, 1.0, &rect, y8, got, GEGL_AUTO_ROWSTRIDE,
                  GEGL_BLIT_DEFAULT);
  ck_assert_int_eq (got[0], 7); /* 30 / 4 */
  ck_assert_int_eq (got[1], 0);

  g_object_unref (root);
  g_object_unref (buffer);
}
END_TEST

/* ------------------------------------------------------------------------
 * Region callbacks (the stacks are the harness's, run for every pooling
 * op)
 * --------------------------------------------------------------------- */

START_TEST (test_a_cached_render_follows_changes_that_cross_slices)
{
  /* _i = format; 40 × (100·3), factors 2,2,2. */
  Case c = case_new (1500 + _i, formats[_i].name, 40, 100,
                     (Params){ 2, 2, 2, 3, _i % 2 }, mixed);

  check_cached_render_follows_changes (
    &c, &(Mix){ .background = 10, .near_max = 30, .small = 30 });
}
END_TEST

/* ------------------------------------------------------------------------
 * Bad input: a warning that names the op and the value, nothing rendered
 * --------------------------------------------------------------------- */

static const Refusal refusals[] = {
  { "seg:sparse-average",
    "Y float",
    6,
    10,
    { 2, 2, 1, 3, TRUE },
    "depth",
    { 3, 10, G_MININT } },
  { "seg:sparse-average",
    "Y u16",
    0,
    0,
    { 2, 2, 1, 1, TRUE },
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
  check_bad_property (SPARSE_AVERAGE, "R'G'B'A u8", TRUE, _i);
}
END_TEST

/* ------------------------------------------------------------------------ */

static Suite *
gegl_suite (void)
{
  Suite *s = suite_create ("gegl-sparse-average");
  TCase *tc;

  tc = harness_tcase (s, "op");
  tcase_add_test (tc, test_module_provides_sparse_average_with_its_defaults);
  tcase_add_test (tc, test_op_has_title_categories_and_description);

  tc = harness_tcase (s, "reference");
  tcase_add_loop_test (
    tc, test_output_keeps_the_source_format_and_design_extent, 0, N_FORMATS);
  tcase_add_loop_test (tc, test_plain_images_match_the_reference, 0,
                       5 * N_FORMATS);
  tcase_add_loop_test (tc, test_volumes_match_the_reference, 0, 5 * N_FORMATS);
  tcase_add_loop_test (tc,
                       test_values_near_the_type_maximum_match_the_reference, 0,
                       2 * N_FORMATS);
  tcase_add_loop_test (tc, test_large_factors_are_exact_means, 0,
                       2 * N_FORMATS);
  tcase_add_loop_test (tc, test_a_4x_reduction_is_not_two_2x_reductions, 0, 2);

  tc = harness_tcase (s, "threads");
  tcase_add_loop_test (tc, test_one_and_four_threads_give_identical_bytes, 0,
                       6); /* the cases in the test's table */

  tc = harness_tcase (s, "sub-rectangles");
  tcase_add_loop_test (tc, test_four_uneven_subrectangles_render_like_the_whole,
                       0, 2 * N_FORMATS);
  tcase_add_loop_test (tc, test_row_by_row_rendering_matches_the_whole, 0, 6);
  tcase_add_loop_test (
    tc, test_pixels_around_the_bounding_box_render_as_nothing, 0, 8);

  tc = harness_tcase (s, "origins and tiles");
  tcase_add_loop_test (
    tc, test_buffers_with_odd_and_negative_origins_match_the_reference, 0,
    2 * N_FORMATS);
  tcase_add_loop_test (
    tc, test_translate_node_input_aligns_blocks_to_its_origin, 0, N_FORMATS);
  tcase_add_loop_test (tc, test_buffers_with_small_tiles_match_the_reference, 0,
                       240);
  tcase_add_loop_test (tc, test_whole_tiles_read_in_place_match_the_reference,
                       0, 3 * N_FORMATS);

  tc = harness_tcase (s, "other formats");
  tcase_add_loop_test (tc, test_a_palette_is_averaged_as_rgba_float, 0, 4);
  tcase_add_loop_test (
    tc, test_an_unknown_component_type_is_averaged_as_rgba_float, 0, 2);

  tc = harness_tcase (s, "alpha");
  tcase_add_loop_test (tc, test_transparent_pixels_do_not_tint_r_g_b_a_u8, 0,
                       2);
  tcase_add_loop_test (tc, test_transparent_pixels_do_not_tint_rgba_float, 0,
                       2);
  tcase_add_test (tc, test_colour_is_weighted_by_alpha);
  tcase_add_loop_test (tc, test_recolouring_transparent_pixels_changes_nothing,
                       0, 8);
  tcase_add_test (tc, test_premultiplied_alpha_gets_the_plain_mean);

  tc = harness_tcase (s, "npy formats");
  tcase_add_loop_test (tc, test_npy_formats_average_the_numbers_of_their_dtype,
                       0, G_N_ELEMENTS (npy_means));

  tc = harness_tcase (s, "sparse");
  tcase_add_test (tc, test_sparse_is_on_by_default);

  tc = harness_tcase (s, "regions");
  region_tests_add (tc, SPARSE_AVERAGE);
  tcase_add_loop_test (
    tc, test_a_cached_render_follows_changes_that_cross_slices, 0, N_FORMATS);

  tc = harness_tcase (s, "bad input");
  tcase_add_loop_test (tc, test_bad_input_warns_and_renders_nothing, 0,
                       G_N_ELEMENTS (refusals));
  tcase_add_loop_test (tc, test_out_of_range_property_is_refused_by_its_range,
                       0, N_BAD_PROPERTIES);
  return s;
}

/* The seg formats exist once the module has needed one: seg:npy-load
 * registers them all with babl when it reads its first file. */
static void
register_npy_formats (void)
{
  gchar    *data  = env_or ("SEG_DATA_DIR", "data");
  gchar    *path  = g_build_filename (data, "npy", "b1-c.npy", NULL);
  GeglNode *graph = gegl_node_new ();
  GeglNode *load  = gegl_node_new_child (graph, "operation", "seg:npy-load",
                                         "path", path, NULL);

  gegl_node_get_bounding_box (load);
  for (gint i = 0; i < N_FORMATS; i++)
    if (!babl_format_exists (formats[i].name))
      g_error ("babl has no format \"%s\" after seg:npy-load read %s",
               formats[i].name, path);
  g_object_unref (graph);
  g_free (path);
  g_free (data);
}

int
main (int argc, char **argv)
{
  harness_init (&argc, &argv);
  register_npy_formats ();
  return harness_run (gegl_suite ());
}
