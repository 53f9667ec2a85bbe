/* SPDX-License-Identifier: LGPL-3.0-or-later
 *
 * seg:descent-direction in GEGL graphs (issue 15), checked by raw pixel
 * values against the reference of tests/ref-descent.c on random stacks:
 * Y float (NaNs, infinities, ties), Y u16 and Y' u8 (plateaus), the
 * signed seg int16, R'G'B' u8 (its luminance Y'), depth 1 … 6, each axis
 * 1 … 20, random anisotropic spacings, random origins and tile grids;
 * rendered whole, with 1 and 4 threads, in sub-regions each through a
 * fresh graph, on an input moved by gegl:translate, and on float volumes
 * that seg:npy-load maps.  Bad input — a depth that does not divide the
 * height, spacings of 0, below 0, NaN or infinite, an empty input — gives
 * one message naming the op and the value, and an empty output.
 */
#include <check.h>
#include <gegl.h>
#include <math.h>
#include <string.h>

#include "gegl-harness.h"
#include "ref-descent.h"
#include "seg-npy.h"

#define OP "seg:descent-direction"

static const gchar *const formats[] = { "Y float",   "Y u16",     "Y' u8",
                                        "seg int16", "R'G'B' u8", "Y double",
                                        "seg int64" };

/* A format's components, seg int64 one number (babl holds it as two
 * u32). */
static gint
numbers_per_pixel (const Babl *format)
{
  return strcmp (babl_get_name (format), "seg int64") == 0
           ? 1
           : babl_format_get_n_components (format);
}

/* A random stack: its pixels, their numbers and the op's settings. */
typedef struct
{
  const Babl   *format;
  gint          bpp;
  GeglRectangle extent; /* W × (H·D) */
  gint          slice_height, depth;
  gdouble       spacing[3];
  guint8       *px;
  gdouble      *numbers; /* packed, as the op reads them */
  GeglBuffer   *buffer;
} Stack;

static gdouble
random_spacing (guint64 *seed)
{
  switch (rand_range (seed, 0, 3))
    {
    case 0: return 1;
    case 1: return rand_range (seed, 1, 40);
    case 2: return rand_range (seed, 1, 1000) / 256.0;
    default: return 0.05 + rand_range (seed, 0, 1000) * 0.031;
    }
}

/* Random pixels of format: mostly a few small numbers (plateaus, ties),
 * else anything; floats with NaNs and infinities now and then. */
static void
fill (guint8 *px, gsize n, const Babl *format, guint64 *seed)
{
  const gint     bpp     = babl_format_get_bytes_per_pixel (format);
  const gint     n_comps = numbers_per_pixel (format);
  const gboolean is_float =
    babl_format_get_type (format, 0) == babl_type ("float");
  /* Half the stacks of 8-byte numbers hold only numbers that floats
   * hold too, which the kernel takes in single precision. */
  const gboolean floats_only =
    bpp == 8 && n_comps == 1 && rand_range (seed, 0, 1) == 0;

  for (gsize i = 0; i < n; i++)
    {
      guint8 *p = px + i * bpp;

      if (is_float)
        {
          const gint r = rand_range (seed, 0, 99);
          gfloat     f = r < 50   ? (gfloat) rand_range (seed, 0, 3)
                         : r < 60 ? NAN
                         : r < 64 ? (r % 2 ? INFINITY : -INFINITY)
                                  : (gfloat) (splitmix64 (seed) >> 40) / 1e4f;

          memcpy (p, &f, 4);
          continue;
        }
      for (gint b = 0; b < bpp; b++)
        p[b] = (guint8) splitmix64 (seed);
      if (floats_only)
        {
          const gint32 i = (gint32) (splitmix64 (seed) >> 40) - (1 << 23);
          gdouble      d = (gfloat) (i / 1e3);
          gint64       k = i;

          if (babl_format_get_type (format, 0) == babl_type ("double"))
            memcpy (p, &d, 8);
          else
            memcpy (p, &k, 8);
        }
      if (rand_range (seed, 0, 99) < 60)
        {
          memset (p, 0, (gsize) bpp);
          for (gint c = 0; c < n_comps; c++)
            p[c * (bpp / n_comps)] = (guint8) rand_range (seed, 0, 3);
        }
    }
}

/* The numbers the op reads from n pixels of format: a one-number
 * format's own (seg int16 signed), R'G'B' u8's luminance Y', which babl
 * computes as it does when GEGL hands the pixels to the op. */
static gdouble *
numbers_of (const guint8 *px, gsize n, const Babl *format)
{
  gdouble     *v    = g_new (gdouble, n);
  const Babl  *type = babl_format_get_type (format, 0);
  const gchar *name = babl_get_name (format);

  if (numbers_per_pixel (format) > 1)
    {
      babl_process (babl_fish (format, babl_format ("Y' double")), px, v,
                    (long) n);
      return v;
    }
  for (gsize i = 0; i < n; i++)
    {
      if (strcmp (name, "seg int16") == 0)
        {
          gint16 x;

          memcpy (&x, px + 2 * i, 2);
          v[i] = x;
        }
      else if (strcmp (name, "seg int64") == 0)
        {
          gint64 x;

          memcpy (&x, px + 8 * i, 8);
          v[i] = (gdouble) x;
        }
      else if (type == babl_type ("double"))
        memcpy (&v[i], px + 8 * i, 8);
      else if (type == babl_type ("u16"))
        {
          guint16 x;

          memcpy (&x, px + 2 * i, 2);
          v[i] = x;
        }
      else if (type == babl_type ("u8"))
        v[i] = px[i];
      else
        {
          gfloat x;

          memcpy (&x, px + 4 * i, 4);
          v[i] = x;
        }
    }
  return v;
}

static Stack
stack_new (guint64 seed_number)
{
  guint64      seed = seed_number * 0x9E3779B97F4A7C15ull + 15;
  Stack        s;
  const gint   w = rand_range (&seed, 1, 20);
  const gchar *name =
    formats[rand_range (&seed, 0, G_N_ELEMENTS (formats) - 1)];
  gsize n;

  s.format       = babl_format (name);
  s.bpp          = babl_format_get_bytes_per_pixel (s.format);
  s.depth        = rand_range (&seed, 1, 6);
  s.slice_height = rand_range (&seed, 1, 20);
  s.extent =
    (GeglRectangle){ rand_range (&seed, -5, 5), rand_range (&seed, -5, 5), w,
                     s.slice_height * s.depth };
  s.spacing[0] = random_spacing (&seed);
  s.spacing[1] =
    rand_range (&seed, 0, 2) == 0 ? s.spacing[0] : random_spacing (&seed);
  /* z alike to y or to x now and then: the kernel groups those too. */
  switch (rand_range (&seed, 0, 5))
    {
    case 0:
    case 1: s.spacing[2] = s.spacing[1]; break;
    case 2: s.spacing[2] = s.spacing[0]; break;
    default: s.spacing[2] = random_spacing (&seed);
    }
  n    = (gsize) w * s.extent.height;
  s.px = g_malloc (n * s.bpp);
  fill (s.px, n, s.format, &seed);
  s.numbers = numbers_of (s.px, n, s.format);
  s.buffer  = gegl_buffer_new (&s.extent, s.format);
  gegl_buffer_set (s.buffer, &s.extent, 0, s.format, s.px, GEGL_AUTO_ROWSTRIDE);
  return s;
}

static void
stack_free (Stack *s)
{
  g_object_unref (s->buffer);
  g_free (s->px);
  g_free (s->numbers);
}

static gchar *
stack_describe (const Stack *s)
{
  return g_strdup_printf ("%s %d×%d×%d at %d,%d, spacing %g %g %g",
                          babl_get_name (s->format), s->extent.width,
                          s->slice_height, s->depth, s->extent.x, s->extent.y,
                          s->spacing[0], s->spacing[1], s->spacing[2]);
}

/* The reference labels of the whole stack, packed (free it). */
static guint8 *
reference (const Stack *s)
{
  const gint w = s->extent.width, h = s->slice_height;
  guint8    *want = g_malloc ((gsize) w * s->extent.height);

  for (gint z = 0; z < s->depth; z++)
    for (gint y = 0; y < h; y++)
      for (gint x = 0; x < w; x++)
        want[((gsize) z * h + y) * w + x] = (guint8) ref_descent_label (
          s->numbers, w, h, s->depth, x, y, z, s->spacing, s->depth > 1);
  return want;
}

/* buffer-source → [translate by (dx, dy) →] the op. */
typedef struct
{
  GeglNode *root, *op;
} Graph1;

static Graph1
graph_of (
  GeglBuffer *buffer, gint depth, const gdouble spacing[3], gint dx, gint dy)
{
  Graph1    g    = { gegl_node_new (), NULL };
  GeglNode *last = graph_input (g.root, buffer, dx, dy, NULL);

  g.op = gegl_node_new_child (g.root, "operation", OP, "depth", depth,
                              "spacing-x", spacing[0], "spacing-y", spacing[1],
                              "spacing-z", spacing[2], NULL);
  gegl_node_link (last, g.op);
  return g;
}

/* rect of the op's output as Y u8 (free it). */
static guint8 *
blit (const Graph1 *g, const GeglRectangle *rect)
{
  guint8 *px = g_malloc ((gsize) rect->width * rect->height);

  memset (px, 0xA5, (gsize) rect->width * rect->height);
  gegl_node_blit (g->op, 1.0, rect, babl_format ("Y u8"), px,
                  GEGL_AUTO_ROWSTRIDE, GEGL_BLIT_DEFAULT);
  return px;
}

/* got (rect of the output, whose origin is at origin) against the packed
 * reference labels of the whole stack. */
static void
assert_labels (const guint8        *got,
               const GeglRectangle *rect,
               const guint8        *want,
               const Stack         *s,
               gint                 ox,
               gint                 oy,
               const gchar         *what)
{
  for (gint y = 0; y < rect->height; y++)
    for (gint x = 0; x < rect->width; x++)
      {
        const gint   wx = rect->x + x - ox, wy = rect->y + y - oy;
        const guint8 g = got[(gsize) y * rect->width + x];
        const guint8 r = want[(gsize) wy * s->extent.width + wx];

        if (g != r)
          {
            gchar *d = stack_describe (s);

            ck_abort_msg ("%s, %s: pixel %d,%d is %d, not %d", d, what,
                          rect->x + x, rect->y + y, g, r);
          }
      }
}

static void
set_threads (gint n)
{
  g_object_set (gegl_config (), "threads", n, NULL);
}

START_TEST (test_random_stacks_match_the_reference)
{
  guint64       seed = (guint64) _i * 7919 + 3;
  Stack         s    = stack_new ((guint64) _i);
  guint8       *want = reference (&s);
  GeglRectangle part;
  gint          threads = 0;

  g_object_get (gegl_config (), "threads", &threads, NULL);
  log_capture_begin ();
  for (gint n = 1; n <= 4; n += 3)
    {
      Graph1        g = graph_of (s.buffer, s.depth, s.spacing, 0, 0);
      GeglRectangle box;
      guint8       *got;

      set_threads (n);
      box = gegl_node_get_bounding_box (g.op);
      if (!gegl_rectangle_equal (&box, &s.extent))
        ck_abort_msg ("the bounding box is %d,%d %d×%d", box.x, box.y,
                      box.width, box.height);
      got = blit (&g, &s.extent);
      assert_labels (got, &s.extent, want, &s, s.extent.x, s.extent.y,
                     n == 1 ? "one thread" : "four threads");
      g_free (got);
      g_object_unref (g.root);
    }
  set_threads (threads);

  /* Three sub-regions, each through a fresh graph. */
  for (gint k = 0; k < 3; k++)
    {
      Graph1  g = graph_of (s.buffer, s.depth, s.spacing, 0, 0);
      guint8 *got;

      part.width  = rand_range (&seed, 1, s.extent.width);
      part.height = rand_range (&seed, 1, s.extent.height);
      part.x = s.extent.x + rand_range (&seed, 0, s.extent.width - part.width);
      part.y =
        s.extent.y + rand_range (&seed, 0, s.extent.height - part.height);
      got = blit (&g, &part);
      assert_labels (got, &part, want, &s, s.extent.x, s.extent.y,
                     "a sub-region");
      g_free (got);
      g_object_unref (g.root);
    }

  /* Moved by gegl:translate: the same labels, moved. */
  {
    Graph1        g     = graph_of (s.buffer, s.depth, s.spacing, -3, 5);
    GeglRectangle moved = s.extent;
    guint8       *got;

    moved.x -= 3;
    moved.y += 5;
    got = blit (&g, &moved);
    assert_labels (got, &moved, want, &s, moved.x, moved.y, "translated");
    g_free (got);
    g_object_unref (g.root);
  }
  assert_no_messages (log_capture_end (), "random stack");
  g_free (want);
  stack_free (&s);
}
END_TEST

/* The op on a width × height Y float input with depth and spacing gives
 * an empty output and one message naming the op, word and numbers. */
static void
refused_check (gint          width,
               gint          height,
               gint          depth,
               const gdouble spacing[3],
               const gchar  *word,
               const gint   *numbers)
{
  GeglRectangle extent = { 0, 0, width, height };
  GeglBuffer   *buffer = gegl_buffer_new (&extent, babl_format ("Y float"));
  Graph1        g      = graph_of (buffer, depth, spacing, 0, 0);

  assert_op_refuses (g.root, g.op, OP, word, numbers);
  g_object_unref (g.root);
  g_object_unref (buffer);
}

START_TEST (test_bad_input_is_refused)
{
  const gdouble unit[3]  = { 1, 1, 1 };
  const gint    none[]   = { G_MININT };
  const gint    depth[]  = { 4, 6, G_MININT };
  const gint    zero[]   = { 0, G_MININT };
  const gint    minus[]  = { -2, G_MININT };
  const gdouble bad[][3] = {
    { 0, 1, 1 }, { 1, -2, 1 }, { 1, 1, NAN }, { 1, INFINITY, 1 }
  };
  const gchar *names[] = { "spacing-x", "spacing-y", "spacing-z", "spacing-y" };

  refused_check (5, 6, 4, unit, "depth", depth);
  refused_check (5, 6, 1, bad[0], names[0], zero);
  refused_check (5, 6, 1, bad[1], names[1], minus);
  refused_check (5, 6, 1, bad[2], names[2], none);
  refused_check (5, 6, 1, bad[3], names[3], none);
  refused_check (0, 0, 1, unit, "empty", none);
}
END_TEST

/* A float32 volume loaded by seg:npy-load (the file mapped, its tiles
 * rows as wide as the image), whole and in a sub-region. */
START_TEST (test_loaded_volumes_read_in_place)
{
  guint64       seed = (guint64) _i * 104729 + 7;
  const gint    w    = 16 * rand_range (&seed, 1, 4);
  const gint    h = rand_range (&seed, 1, 20), d = rand_range (&seed, 1, 6);
  const gsize   n       = (gsize) w * h * d;
  gfloat       *px      = g_new (gfloat, n);
  gdouble      *v       = g_new (gdouble, n);
  const gdouble unit[3] = { 1, 1, 1 };
  SegNpyHeader  hd      = { .kind      = SEG_NPY_FLOAT,
                            .item_size = 4,
                            .n_dims    = 3,
                            .shape     = { (guint64) d, (guint64) h, (guint64) w },
                            .n_items   = n,
                            .data_size = n * 4 };
  gchar        *path    = tmp_path ("in-place.npy");
  GeglNode     *graph   = gegl_node_new ();
  GeglNode     *load, *op;
  GeglRectangle whole = { 0, 0, w, h * d }, part;
  guint8       *got, *want = g_malloc (n);

  for (gsize i = 0; i < n; i++)
    {
      const gint r = rand_range (&seed, 0, 99);

      px[i] = r < 40   ? (gfloat) rand_range (&seed, 0, 3)
              : r < 45 ? NAN
                       : (gfloat) (splitmix64 (&seed) >> 40) / 1e4f;
      v[i]  = px[i];
    }
  for (gint z = 0; z < d; z++)
    for (gint y = 0; y < h; y++)
      for (gint x = 0; x < w; x++)
        want[((gsize) z * h + y) * w + x] =
          (guint8) ref_descent_label (v, w, h, d, x, y, z, unit, d > 1);
  file_write_npy (path, &hd, px);
  load = gegl_node_new_child (graph, "operation", "seg:npy-load", "path", path,
                              NULL);
  op   = gegl_node_new_child (graph, "operation", OP, "depth", d, NULL);
  gegl_node_link (load, op);
  log_capture_begin ();
  got = g_malloc (n);
  gegl_node_blit (op, 1.0, &whole, babl_format ("Y u8"), got,
                  GEGL_AUTO_ROWSTRIDE, GEGL_BLIT_DEFAULT);
  for (gsize i = 0; i < n; i++)
    if (got[i] != want[i])
      ck_abort_msg ("%d×%d×%d: voxel %d,%d is %d, not %d", w, h, d,
                    (gint) (i % w), (gint) (i / w), got[i], want[i]);
  part.width  = rand_range (&seed, 1, w);
  part.height = rand_range (&seed, 1, h * d);
  part.x      = rand_range (&seed, 0, w - part.width);
  part.y      = rand_range (&seed, 0, h * d - part.height);
  gegl_node_blit (op, 1.0, &part, babl_format ("Y u8"), got,
                  GEGL_AUTO_ROWSTRIDE, GEGL_BLIT_DEFAULT);
  for (gint y = 0; y < part.height; y++)
    for (gint x = 0; x < part.width; x++)
      if (got[(gsize) y * part.width + x] !=
          want[(gsize) (part.y + y) * w + part.x + x])
        ck_abort_msg ("%d×%d×%d, part %d,%d %d×%d: pixel %d,%d", w, h, d,
                      part.x, part.y, part.width, part.height, part.x + x,
                      part.y + y);
  assert_no_messages (log_capture_end (), "loaded volume");
  g_object_unref (graph);
  g_free (got);
  g_free (want);
  g_free (px);
  g_free (v);
  g_free (path);
}
END_TEST

START_TEST (test_registered_and_described)
{
  assert_op_is_registered_and_described (OP);
}
END_TEST

/* One pixel of the middle slice of a stack of three, asked for alone:
 * its neighbours in the slices above and below count. */
START_TEST (test_a_lone_pixel_sees_both_slices)
{
  /* 1 × 1 slices: z 0 = 5, z 1 = 3, z 2 = 0; the middle voxel flows to
   * z + 1 (index 22). */
  const gfloat  v[3]    = { 5, 3, 0 };
  const gdouble unit[3] = { 1, 1, 1 };
  GeglRectangle extent  = { 0, 0, 1, 3 };
  GeglRectangle middle  = { 0, 1, 1, 1 };
  GeglBuffer   *buffer  = gegl_buffer_new (&extent, babl_format ("Y float"));
  Graph1        g;
  guint8       *got;

  gegl_buffer_set (buffer, &extent, 0, babl_format ("Y float"), v,
                   GEGL_AUTO_ROWSTRIDE);
  g   = graph_of (buffer, 3, unit, 0, 0);
  got = blit (&g, &middle);
  ck_assert_int_eq (got[0], 22);
  g_free (got);
  g_object_unref (g.root);
  g_object_unref (buffer);
}
END_TEST

int
main (int argc, char **argv)
{
  Suite *s      = suite_create ("gegl-descent");
  TCase *random = harness_tcase (s, "random");
  TCase *rules  = harness_tcase (s, "rules");

  harness_init (&argc, &argv);
  tmp_dir_make ("seg-descent-XXXXXX");
  tcase_add_loop_test (random, test_random_stacks_match_the_reference, 0, 80);
  tcase_add_loop_test (random, test_loaded_volumes_read_in_place, 0, 30);
  tcase_add_test (rules, test_bad_input_is_refused);
  tcase_add_test (rules, test_registered_and_described);
  tcase_add_test (rules, test_a_lone_pixel_sees_both_slices);
  return harness_run (s);
}
