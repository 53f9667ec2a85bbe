/* SPDX-License-Identifier: LGPL-3.0-or-later
 *
 * seg:resample-3d in GEGL graphs (issue 16), checked by raw pixel values
 * against the reference of tests/ref-resample.c on random stacks: labels
 * of 1 to 32 bytes for nearest (Y u8 … RGBA double, the seg .npy
 * formats), numbers for linear and area (Y u8, Y u16, Y u32, Y half,
 * Y float, Y double, seg int16, R'G'B'A u8 and RGBA float with their
 * straight alpha), depth 1 … 5, every axis grown, shrunk or kept (0),
 * random origins; rendered whole with 1 and 4 threads, in sub-regions
 * each through a fresh graph, and on an input moved by gegl:translate.
 * Bad input — a depth that does not divide the height, negative sizes,
 * sizes past 65536, an empty input — gives one message naming the op and
 * the value, and an empty output.
 */
#include <check.h>
#include <gegl.h>
#include <string.h>

#include "gegl-harness.h"
#include "ref-resample.h"
#include "seg-numbers.h"

#define OP "seg:resample-3d"

/* The formats, and how the op reads their numbers. */
typedef struct
{
  const gchar     *name;
  SegComponentType type;
  gint             n, alpha;
  gboolean         labels_only; /* nearest alone: no arithmetic wanted */
} Format;

static const Format formats[] = {
  { "Y u8", SEG_TYPE_U8, 1, -1, FALSE },
  { "Y u16", SEG_TYPE_U16, 1, -1, FALSE },
  { "Y u32", SEG_TYPE_U32, 1, -1, FALSE },
  { "Y half", SEG_TYPE_HALF, 1, -1, FALSE },
  { "Y float", SEG_TYPE_FLOAT, 1, -1, FALSE },
  { "Y double", SEG_TYPE_DOUBLE, 1, -1, FALSE },
  { "seg int16", SEG_TYPE_I16, 1, -1, FALSE },
  { "R'G'B'A u8", SEG_TYPE_U8, 4, 3, FALSE },
  { "RGBA float", SEG_TYPE_FLOAT, 4, 3, FALSE },
  { "seg uint64", SEG_TYPE_U64, 1, -1, TRUE },
  { "RGBA double", SEG_TYPE_DOUBLE, 4, 3, TRUE },
};

static const gchar *const mode_names[] = { "nearest", "linear", "area" };

/* A random stack and a random resampling of it. */
typedef struct
{
  const Format *f;
  const Babl   *format;
  gint          bpp;
  GeglRectangle extent; /* W × (H·D) */
  gint          depth;
  gint          width, height, out_depth; /* the properties: 0 keeps */
  SegResample   r;
  guint8       *px;
  GeglBuffer   *buffer;
} Stack;

/* A property's size: 0 (keep) now and then, else a random one. */
static gint
random_size (guint64 *seed)
{
  return rand_range (seed, 0, 4) == 0 ? 0 : rand_range (seed, 1, 13);
}

static Stack
stack_new (guint64 seed_number)
{
  guint64    seed = seed_number * 0x9E3779B97F4A7C15ull + 16;
  Stack      s;
  const gint w = rand_range (&seed, 1, 11), h = rand_range (&seed, 1, 9);
  gsize      n;

  s.r.mode = (SegResampleMode) rand_range (&seed, 0, 2);
  do
    s.f = &formats[rand_range (&seed, 0, G_N_ELEMENTS (formats) - 1)];
  while (s.f->labels_only && s.r.mode != SEG_RESAMPLE_NEAREST);
  s.format = babl_format (s.f->name);
  s.bpp    = babl_format_get_bytes_per_pixel (s.format);
  s.depth  = rand_range (&seed, 1, 5);
  s.extent = (GeglRectangle){ rand_range (&seed, -5, 5),
                              rand_range (&seed, -5, 5), w, h * s.depth };
  s.width  = random_size (&seed);
  s.height = random_size (&seed);
  s.out_depth =
    s.depth == 1 && rand_range (&seed, 0, 1) ? 0 : random_size (&seed);
  s.r.in_size[0]  = w;
  s.r.in_size[1]  = h;
  s.r.in_size[2]  = s.depth;
  s.r.out_size[0] = s.width ? s.width : w;
  s.r.out_size[1] = s.height ? s.height : h;
  s.r.out_size[2] = s.out_depth ? s.out_depth : s.depth;
  s.r.layout      = (SegPixelLayout){ s.f->type, s.f->n, s.f->alpha };
  n               = (gsize) w * s.extent.height;
  s.px            = g_malloc (n * s.bpp);
  for (gsize i = 0; i < n * s.bpp; i++)
    s.px[i] = (guint8) splitmix64 (&seed);
  /* Floats: finite numbers of all sizes and signs, zeros and small
   * integers (ties on rounding) among them. */
  if (s.f->type == SEG_TYPE_FLOAT || s.f->type == SEG_TYPE_DOUBLE ||
      s.f->type == SEG_TYPE_HALF)
    for (gsize i = 0; i < n * s.f->n; i++)
      {
        const gint size = seg_component_size (s.f->type);
        double     v    = rand_range (&seed, 0, 2) == 0
                            ? rand_range (&seed, 0, 4)
                            : (double) (gint32) splitmix64 (&seed) /
                         (1 << rand_range (&seed, 0, 30));

        seg_number_store (s.px + i * size, s.f->type, v);
      }
  s.buffer = gegl_buffer_new (&s.extent, s.format);
  gegl_buffer_set (s.buffer, &s.extent, 0, s.format, s.px, GEGL_AUTO_ROWSTRIDE);
  return s;
}

static void
stack_free (Stack *s)
{
  g_object_unref (s->buffer);
  g_free (s->px);
}

static gchar *
stack_describe (const Stack *s)
{
  return g_strdup_printf ("%s %s %d×%d×%d at %d,%d → width %d height %d "
                          "out-depth %d",
                          mode_names[s->r.mode], s->f->name, s->extent.width,
                          s->r.in_size[1], s->depth, s->extent.x, s->extent.y,
                          s->width, s->height, s->out_depth);
}

/* The output's extent. */
static GeglRectangle
out_extent (const Stack *s, gint dx, gint dy)
{
  return (GeglRectangle){ s->extent.x + dx, s->extent.y + dy, s->r.out_size[0],
                          s->r.out_size[1] * s->r.out_size[2] };
}

/* buffer-source → [translate by (dx, dy) →] the op. */
typedef struct
{
  GeglNode *root, *op;
} Graph1;

static Graph1
graph_of (const Stack *s, gint dx, gint dy)
{
  Graph1    g    = { gegl_node_new (), NULL };
  GeglNode *last = graph_input (g.root, s->buffer, dx, dy, NULL);

  g.op = gegl_node_new_child (
    g.root, "operation", OP, "depth", s->depth, "width", s->width, "height",
    s->height, "out-depth", s->out_depth, "mode", s->r.mode, NULL);
  gegl_node_link (last, g.op);
  return g;
}

/* rect of the op's output in the stack's format (free it). */
static guint8 *
blit (const Stack *s, const Graph1 *g, const GeglRectangle *rect)
{
  const gsize n  = (gsize) rect->width * rect->height * s->bpp;
  guint8     *px = g_malloc (n);

  memset (px, 0xA5, n);
  gegl_node_blit (g->op, 1.0, rect, s->format, px, GEGL_AUTO_ROWSTRIDE,
                  GEGL_BLIT_DEFAULT);
  return px;
}

/* got (rect of an output whose origin is at ox, oy) against the
 * reference. */
static void
assert_resampled (const Stack         *s,
                  const guint8        *got,
                  const GeglRectangle *rect,
                  gint                 ox,
                  gint                 oy,
                  const gchar         *what)
{
  const gint oh = s->r.out_size[1];

  for (gint y = 0; y < rect->height; y++)
    for (gint x = 0; x < rect->width; x++)
      {
        const gint row = rect->y + y - oy;
        guint8     want[64];

        ref_resample_voxel (s->px, s->bpp, &s->r, rect->x + x - ox, row % oh,
                            row / oh, want);
        if (memcmp (want, got + ((gsize) y * rect->width + x) * s->bpp,
                    (gsize) s->bpp) != 0)
          {
            gchar *d = stack_describe (s);

            ck_abort_msg ("%s, %s: pixel %d,%d differs", d, what, rect->x + x,
                          rect->y + y);
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
  guint64       seed    = (guint64) _i * 7919 + 5;
  Stack         s       = stack_new ((guint64) _i);
  GeglRectangle out     = out_extent (&s, 0, 0);
  gint          threads = 0;

  g_object_get (gegl_config (), "threads", &threads, NULL);
  log_capture_begin ();
  for (gint n = 1; n <= 4; n += 3)
    {
      Graph1        g = graph_of (&s, 0, 0);
      GeglRectangle box;
      guint8       *got;

      set_threads (n);
      box = gegl_node_get_bounding_box (g.op);
      if (!gegl_rectangle_equal (&box, &out))
        {
          gchar *d = stack_describe (&s);

          ck_abort_msg ("%s: the bounding box is %d,%d %d×%d", d, box.x, box.y,
                        box.width, box.height);
        }
      got = blit (&s, &g, &out);
      assert_resampled (&s, got, &out, out.x, out.y,
                        n == 1 ? "one thread" : "four threads");
      g_free (got);
      g_object_unref (g.root);
    }
  set_threads (threads);

  /* Three sub-regions, each through a fresh graph. */
  for (gint k = 0; k < 3; k++)
    {
      Graph1        g = graph_of (&s, 0, 0);
      GeglRectangle part;
      guint8       *got;

      part.width  = rand_range (&seed, 1, out.width);
      part.height = rand_range (&seed, 1, out.height);
      part.x      = out.x + rand_range (&seed, 0, out.width - part.width);
      part.y      = out.y + rand_range (&seed, 0, out.height - part.height);
      got         = blit (&s, &g, &part);
      assert_resampled (&s, got, &part, out.x, out.y, "a sub-region");
      g_free (got);
      g_object_unref (g.root);
    }

  /* Moved by gegl:translate: the same pixels, moved. */
  {
    Graph1        g     = graph_of (&s, -3, 5);
    GeglRectangle moved = out_extent (&s, -3, 5);
    guint8       *got   = blit (&s, &g, &moved);

    assert_resampled (&s, got, &moved, moved.x, moved.y, "translated");
    g_free (got);
    g_object_unref (g.root);
  }
  assert_no_messages (log_capture_end (), "random stack");
  stack_free (&s);
}
END_TEST

/* The op on a width × height Y u8 input with the properties given gives
 * an empty output and one message naming the op, word and numbers. */
static void
refused_check (gint         width,
               gint         height,
               gint         depth,
               gint         out_w,
               gint         out_h,
               gint         out_d,
               const gchar *word,
               const gint  *numbers)
{
  GeglRectangle extent = { 0, 0, width, height };
  GeglBuffer   *buffer = gegl_buffer_new (&extent, babl_format ("Y u8"));
  GeglNode     *root   = gegl_node_new ();
  GeglNode     *last   = graph_input (root, buffer, 0, 0, NULL);
  GeglNode     *op =
    gegl_node_new_child (root, "operation", OP, "depth", depth, "width", out_w,
                         "height", out_h, "out-depth", out_d, NULL);

  gegl_node_link (last, op);
  assert_op_refuses (root, op, OP, word, numbers);
  g_object_unref (root);
  g_object_unref (buffer);
}

START_TEST (test_bad_input_is_refused)
{
  const gint none[]   = { G_MININT };
  const gint depth[]  = { 4, 6, G_MININT };
  const gint minus[]  = { -1, G_MININT };
  const gint huge[]   = { 65537, G_MININT };
  const gint minus3[] = { -3, G_MININT };

  refused_check (5, 6, 4, 0, 0, 0, "depth", depth);
  refused_check (5, 6, 1, -1, 0, 0, "width", minus);
  refused_check (5, 6, 1, 0, 65537, 0, "height", huge);
  refused_check (5, 6, 2, 3, 3, -3, "out-depth", minus3);
  refused_check (0, 0, 1, 3, 3, 3, "empty", none);
}
END_TEST

START_TEST (test_registered_and_described)
{
  assert_op_is_registered_and_described (OP);
}
END_TEST

/* Labels of u32 that a float would change (16777217) come back intact,
 * however the volume is resized. */
START_TEST (test_labels_stay_intact)
{
  const guint32 v[4]   = { 16777217, 4294967295u, 1, 16777219 };
  GeglRectangle extent = { 0, 0, 2, 2 };
  GeglBuffer   *buffer = gegl_buffer_new (&extent, babl_format ("Y u32"));
  GeglNode     *root   = gegl_node_new ();
  GeglNode     *last   = graph_input (root, buffer, 0, 0, NULL);
  GeglNode     *op =
    gegl_node_new_child (root, "operation", OP, "width", 5, "height", 3, NULL);
  GeglRectangle out = { 0, 0, 5, 3 };
  guint32       got[15];
  /* nearest-exact of 2 → 5: 0 0 1 1 1; of 2 → 3: 0 1 1. */
  const guint32 want[15] = { 16777217,    16777217, 4294967295u, 4294967295u,
                             4294967295u, 1,        1,           16777219,
                             16777219,    16777219, 1,           1,
                             16777219,    16777219, 16777219 };

  gegl_buffer_set (buffer, &extent, 0, babl_format ("Y u32"), v,
                   GEGL_AUTO_ROWSTRIDE);
  gegl_node_link (last, op);
  gegl_node_blit (op, 1.0, &out, babl_format ("Y u32"), got,
                  GEGL_AUTO_ROWSTRIDE, GEGL_BLIT_DEFAULT);
  for (gint i = 0; i < 15; i++)
    ck_assert_uint_eq (got[i], want[i]);
  g_object_unref (root);
  g_object_unref (buffer);
}
END_TEST

/* Sizes of 0 keep every axis: a copy, in every mode, of a stack whose
 * pixels a conversion would change (a u32 past 2²⁴, RGBA double). */
START_TEST (test_zero_sizes_copy)
{
  const gchar  *names[] = { "Y u32", "RGBA double" };
  GeglRectangle extent  = { 3, -2, 5, 12 }; /* 3 slices of 5 × 4 */
  guint64       seed    = 0x5eed0016;

  for (gint f = 0; f < 2; f++)
    for (gint mode = 0; mode < 3; mode++)
      {
        const Babl *format = babl_format (names[f]);
        const gint  bpp    = babl_format_get_bytes_per_pixel (format);
        const gsize n      = (gsize) extent.width * extent.height;
        guint8     *px     = g_malloc (n * bpp);
        guint8     *got    = g_malloc (n * bpp);
        GeglBuffer *buffer = gegl_buffer_new (&extent, format);
        GeglNode   *root   = gegl_node_new ();
        GeglNode   *last   = graph_input (root, buffer, 0, 0, NULL);
        GeglNode   *op;

        for (gsize i = 0; i < n; i++)
          {
            const guint32 label = 16777217 + (guint32) rand_range (&seed, 0, 9);
            const gdouble v[4]  = { rand_range (&seed, 0, 9) / 8.0, 0.5, 0.25,
                                    1 };

            memcpy (px + i * bpp,
                    f == 0 ? (const void *) &label : (const void *) v,
                    (gsize) bpp);
          }
        gegl_buffer_set (buffer, &extent, 0, format, px, GEGL_AUTO_ROWSTRIDE);
        op = gegl_node_new_child (root, "operation", OP, "depth", 3, "mode",
                                  mode, NULL);
        gegl_node_link (last, op);
        gegl_node_blit (op, 1.0, &extent, format, got, GEGL_AUTO_ROWSTRIDE,
                        GEGL_BLIT_DEFAULT);
        if (memcmp (got, px, n * bpp) != 0)
          ck_abort_msg ("%s, %s: not a copy", names[f], mode_names[mode]);
        g_object_unref (root);
        g_object_unref (buffer);
        g_free (px);
        g_free (got);
      }
}
END_TEST

int
main (int argc, char **argv)
{
  Suite *s      = suite_create ("gegl-resample");
  TCase *random = harness_tcase (s, "random");
  TCase *rules  = harness_tcase (s, "rules");

  harness_init (&argc, &argv);
  tcase_add_loop_test (random, test_random_stacks_match_the_reference, 0, 120);
  tcase_add_test (rules, test_bad_input_is_refused);
  tcase_add_test (rules, test_registered_and_described);
  tcase_add_test (rules, test_labels_stay_intact);
  tcase_add_test (rules, test_zero_sizes_copy);
  return harness_run (s);
}
