/* SPDX-License-Identifier: LGPL-3.0-or-later */
#include "gegl-harness.h"

#include <gegl-plugin.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>

#if defined __has_include
#  if __has_include (<valgrind/valgrind.h>)
#    include <valgrind/valgrind.h>
#    define HAVE_VALGRIND_H 1
#  endif
#endif

/* GEGL's thread count at harness_init (), which each test starts with. */
static gint threads_at_start;

/* ------------------------------------------------------------------------
 * Seeded random numbers
 * --------------------------------------------------------------------- */

guint64
splitmix64 (guint64 *state)
{
  guint64 z = (*state += 0x9E3779B97F4A7C15ull);

  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

gint
rand_range (guint64 *state, gint lo, gint hi)
{
  return lo + (gint) (splitmix64 (state) % (guint64) (hi - lo + 1));
}

/* ------------------------------------------------------------------------
 * Capturing GLib messages
 * --------------------------------------------------------------------- */

static GMutex   log_mutex;
static GString *log_text;   /* captured messages; NULL when not capturing */

static gboolean
log_capture (const gchar *domain, GLogLevelFlags level, const gchar *message)
{
  gboolean captured = FALSE;

  g_mutex_lock (&log_mutex);
  if (log_text != NULL &&
      (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL |
                G_LOG_LEVEL_WARNING | G_LOG_LEVEL_MESSAGE)))
    {
      g_string_append_printf (log_text, "[%s] %s\n",
                              domain ? domain : "no domain",
                              message ? message : "");
      captured = TRUE;
    }
  g_mutex_unlock (&log_mutex);
  return captured;
}

static void
log_handler (const gchar    *domain,
             GLogLevelFlags  level,
             const gchar    *message,
             gpointer        data)
{
  if (!log_capture (domain, level, message))
    g_log_default_handler (domain, level, message, data);
}

/* For messages sent with structured logging (G_LOG_USE_STRUCTURED). */
static GLogWriterOutput
log_writer (GLogLevelFlags   level,
            const GLogField *fields,
            gsize            n_fields,
            gpointer         data)
{
  const gchar *domain = NULL, *message = NULL;

  for (gsize i = 0; i < n_fields; i++)
    {
      if (strcmp (fields[i].key, "GLIB_DOMAIN") == 0)
        domain = fields[i].value;
      else if (strcmp (fields[i].key, "MESSAGE") == 0)
        message = fields[i].value;
    }
  if (log_capture (domain, level, message))
    return G_LOG_WRITER_HANDLED;
  return g_log_writer_default (level, fields, n_fields, data);
}

static void
log_handlers_install (void)
{
  const GLogLevelFlags all = G_LOG_LEVEL_MASK | G_LOG_FLAG_FATAL |
                             G_LOG_FLAG_RECURSION;

  g_log_set_writer_func (log_writer, NULL, NULL);
  g_log_set_default_handler (log_handler, NULL);
  g_log_set_handler (NULL, all, log_handler, NULL);
  g_log_set_handler ("GEGL", all, log_handler, NULL);
}

void
log_capture_begin (void)
{
  g_mutex_lock (&log_mutex);
  if (log_text != NULL)
    g_string_truncate (log_text, 0);
  else
    log_text = g_string_new (NULL);
  g_mutex_unlock (&log_mutex);
}

gchar *
log_capture_end (void)
{
  gchar *text;

  g_mutex_lock (&log_mutex);
  text = log_text ? g_string_free (log_text, FALSE) : g_strdup ("");
  log_text = NULL;
  g_mutex_unlock (&log_mutex);
  return text;
}

gboolean
text_has_number (const gchar *text, gint n)
{
  gchar        digits[16];
  const gchar *p = text;
  gsize        len;

  g_snprintf (digits, sizeof digits, "%d", n);
  len = strlen (digits);
  while ((p = strstr (p, digits)) != NULL)
    {
      gboolean before = p > text && g_ascii_isdigit (p[-1]);
      gboolean after  = g_ascii_isdigit (p[len]);

      if (!before && !after)
        return TRUE;
      p++;
    }
  return FALSE;
}

gboolean
message_names (const gchar *text, const gchar *op, const gchar *word,
               const gint *numbers)
{
  gchar  **lines = g_strsplit (text, "\n", -1);
  gboolean found = FALSE;

  for (gint l = 0; lines[l] != NULL && !found; l++)
    {
      found = strstr (lines[l], op) != NULL &&
              strstr (lines[l], word) != NULL;
      for (gint i = 0; found && numbers[i] != G_MININT; i++)
        found = text_has_number (lines[l], numbers[i]);
    }
  g_strfreev (lines);
  return found;
}

gint
count_occurrences (const gchar *text, const gchar *word)
{
  gint n = 0;

  for (const gchar *at = strstr (text, word); at; at = strstr (at + 1, word))
    n++;
  return n;
}

void
assert_no_messages (gchar *text, const gchar *context)
{
  ck_assert_msg (text[0] == '\0', "%s: unexpected messages:\n%s",
                 context, text);
  g_free (text);
}

void
assert_has (const gchar *text, const gchar *part)
{
  ck_assert_msg (strstr (text, part) != NULL, "\"%s\" missing from: %s",
                 part, text);
}

/* ------------------------------------------------------------------------
 * Files: the temporary folder, .npy files read back
 * --------------------------------------------------------------------- */

static gchar *tmp_dir;

gchar *
env_or (const gchar *variable, const gchar *fallback)
{
  const gchar *value = g_getenv (variable);

  return g_strdup (value ? value : fallback);
}

const gchar *
tmp_dir_make (const gchar *tmpl)
{
  tmp_dir = g_dir_make_tmp (tmpl, NULL);
  g_assert (tmp_dir != NULL);
  return tmp_dir;
}

gchar *
tmp_path (const gchar *name)
{
  return g_build_filename (tmp_dir, name, NULL);
}

void
tmp_dir_remove (void)
{
  GDir        *dir = g_dir_open (tmp_dir, 0, NULL);
  const gchar *name;

  while (dir && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree gchar *path = tmp_path (name);

      g_unlink (path);
    }
  if (dir)
    g_dir_close (dir);
  g_rmdir (tmp_dir);
  g_clear_pointer (&tmp_dir, g_free);
}

GBytes *
file_bytes (const gchar *path)
{
  gchar *data;
  gsize  size;

  ck_assert_msg (g_file_get_contents (path, &data, &size, NULL),
                 "cannot read %s", path);
  return g_bytes_new_take (data, size);
}

SegNpyHeader
file_header (GBytes *file)
{
  SegNpyHeader h;
  gsize        size;
  const void  *data = g_bytes_get_data (file, &size);

  ck_assert_msg (seg_npy_header_parse (data, size, &h) == SEG_NPY_OK,
                 "written file: %s (%s)", h.reason, h.detail);
  ck_assert_int_eq (size, h.data_offset + h.data_size);
  return h;
}

const guint8 *
file_data (GBytes *file, const SegNpyHeader *h)
{
  return (const guint8 *) g_bytes_get_data (file, NULL) + h->data_offset;
}

/* ------------------------------------------------------------------------
 * Pooling ops in GEGL graphs
 * --------------------------------------------------------------------- */

gint
floor_div (gint a, gint b)
{
  return a >= 0 ? a / b : -((-a + b - 1) / b);
}

gint
ceil_div (gint a, gint b)
{
  return (a + b - 1) / b;
}

GeglRectangle
expected_extent (const GeglRectangle *in, const Params *p)
{
  GeglRectangle out;

  out.x      = floor_div (in->x, p->fx);
  out.y      = floor_div (in->y, p->fy);
  out.width  = ceil_div (in->width, p->fx);
  out.height = ceil_div (in->height / p->depth, p->fy) *
               ceil_div (p->depth, p->fz);
  return out;
}

GeglBuffer *
buffer_new_with_pixels (const GeglRectangle *extent,
                        const Babl          *format,
                        const guint8        *px,
                        gint                 tile_w,
                        gint                 tile_h,
                        gint                 shift_x,
                        gint                 shift_y)
{
  GeglBuffer *buffer;

  if (tile_w > 0 && (shift_x != 0 || shift_y != 0))
    {
      GeglRectangle parent_rect = { extent->x + shift_x, extent->y + shift_y,
                                    extent->width, extent->height };
      GeglBuffer   *parent = g_object_new (GEGL_TYPE_BUFFER,
                                           "x", parent_rect.x,
                                           "y", parent_rect.y,
                                           "width", parent_rect.width,
                                           "height", parent_rect.height,
                                           "tile-width", tile_w,
                                           "tile-height", tile_h,
                                           "format", format, NULL);

      gegl_buffer_set (parent, &parent_rect, 0, format, px,
                       GEGL_AUTO_ROWSTRIDE);
      buffer = g_object_new (GEGL_TYPE_BUFFER, "source", parent,
                             "x", extent->x, "y", extent->y,
                             "width", extent->width,
                             "height", extent->height,
                             "shift-x", shift_x, "shift-y", shift_y,
                             "format", format, NULL);
      g_object_unref (parent);
      return buffer;
    }
  if (tile_w > 0)
    buffer = g_object_new (GEGL_TYPE_BUFFER,
                           "x", extent->x, "y", extent->y,
                           "width", extent->width,
                           "height", extent->height,
                           "tile-width", tile_w, "tile-height", tile_h,
                           "format", format, NULL);
  else
    buffer = gegl_buffer_new (extent, format);
  gegl_buffer_set (buffer, extent, 0, format, px, GEGL_AUTO_ROWSTRIDE);
  return buffer;
}

Graph
graph_new_translated (GeglBuffer   *input,
                      const gchar  *op,
                      const Params *p,
                      gint          dx,
                      gint          dy)
{
  Graph     g;
  GeglNode *last;

  ck_assert_msg (gegl_has_operation (op), "GEGL does not know %s", op);
  g.root   = gegl_node_new ();
  g.source = gegl_node_new_child (g.root, "operation", "gegl:buffer-source",
                                  "buffer", input, NULL);
  last = g.source;
  if (dx != 0 || dy != 0)
    {
      GeglNode *translate =
        gegl_node_new_child (g.root, "operation", "gegl:translate",
                             "x", (gdouble) dx, "y", (gdouble) dy, NULL);

      gegl_node_link (last, translate);
      last = translate;
    }

  if (gegl_operation_find_property (op, "factor-x") == NULL)
    g.pool = gegl_node_new_child (g.root, "operation", op,
                                  "depth", p->depth, "sparse", p->sparse,
                                  NULL);
  else
    g.pool = gegl_node_new_child (g.root, "operation", op,
                                  "factor-x", p->fx, "factor-y", p->fy,
                                  "factor-z", p->fz, "depth", p->depth,
                                  "sparse", p->sparse, NULL);
  gegl_node_link (last, g.pool);
  return g;
}

Graph
graph_new (GeglBuffer *input, const gchar *op, const Params *p)
{
  return graph_new_translated (input, op, p, 0, 0);
}

void
graph_free (Graph *g)
{
  g_clear_object (&g->root);
}

guint8 *
graph_blit (const Graph *g, const GeglRectangle *roi, const Babl *format)
{
  gsize   size = (gsize) roi->width * roi->height *
                 babl_format_get_bytes_per_pixel (format);
  guint8 *px = g_malloc (MAX (size, 1));

  memset (px, 0xA5, size);
  gegl_node_blit (g->pool, 1.0, roi, format, px, GEGL_AUTO_ROWSTRIDE,
                  GEGL_BLIT_DEFAULT);
  return px;
}

void
assert_renders (GeglBuffer *input, const gchar *op, const Params *p,
                gint dx, gint dy, const GeglRectangle *want_rect,
                const guint8 *want, const gchar *what, const gchar *context)
{
  const Babl   *format = gegl_buffer_get_format (input);
  gchar        *bbox_what = g_strdup_printf ("bounding box (%s)", what);
  Graph         g;
  GeglRectangle bbox;
  guint8       *got;

  log_capture_begin ();
  g    = graph_new_translated (input, op, p, dx, dy);
  bbox = gegl_node_get_bounding_box (g.pool);
  got  = graph_blit (&g, want_rect, format);
  assert_no_messages (log_capture_end (), context);

  assert_rect_equal (&bbox, want_rect, bbox_what, context);
  assert_pixels_equal (got, want, want_rect,
                       babl_format_get_bytes_per_pixel (format), what,
                       context);

  g_free (got);
  g_free (bbox_what);
  graph_free (&g);
}

guint8 *
render_with_threads (GeglBuffer *input, const gchar *op, const Params *p,
                     const GeglRectangle *rect, const Babl *format,
                     gint n_threads)
{
  Graph   g;
  guint8 *px;

  g_object_set (gegl_config (), "threads", n_threads, NULL);
  g  = graph_new (input, op, p);
  px = graph_blit (&g, rect, format);
  graph_free (&g);
  g_object_set (gegl_config (), "threads", threads_at_start, NULL);
  return px;
}

guint8 *
render_in_parts (GeglBuffer *input, const gchar *op, const Params *p,
                 const Babl *format, const GeglRectangle *rect,
                 const GeglRectangle *parts, gint n_parts)
{
  gint    bpp = babl_format_get_bytes_per_pixel (format);
  gsize   size = (gsize) rect->width * rect->height * bpp;
  guint8 *assembled = g_malloc (MAX (size, 1));

  memset (assembled, 0xA5, size);
  for (gint i = 0; i < n_parts; i++)
    {
      Graph   g = graph_new (input, op, p);
      guint8 *part = graph_blit (&g, &parts[i], format);

      paste (assembled, rect, part, &parts[i], bpp);
      g_free (part);
      graph_free (&g);
    }
  return assembled;
}

guint8 *
cut_out_checking_frame (const guint8 *px, const GeglRectangle *grown,
                        const GeglRectangle *rect, gint bpp,
                        const gchar *context)
{
  guint8 *inner = g_malloc (MAX ((gsize) rect->width * rect->height * bpp,
                                 1));

  for (gint y = 0; y < grown->height; y++)
    for (gint x = 0; x < grown->width; x++)
      {
        const guint8 *p = px + ((gsize) y * grown->width + x) * bpp;
        gint          ix = grown->x + x - rect->x;
        gint          iy = grown->y + y - rect->y;

        if (ix >= 0 && iy >= 0 && ix < rect->width && iy < rect->height)
          memcpy (inner + ((gsize) iy * rect->width + ix) * bpp, p, bpp);
        else
          for (gint b = 0; b < bpp; b++)
            ck_assert_msg (p[b] == 0, "%s: pixel (%d,%d) outside the "
                           "bounding box has byte %d = 0x%02x, want 0",
                           context, grown->x + x, grown->y + y, b, p[b]);
      }
  return inner;
}

GeglBuffer *
graph_sink (const Graph *g)
{
  GeglBuffer *out = NULL;
  GeglNode   *sink = gegl_node_new_child (g->root,
                                          "operation", "gegl:buffer-sink",
                                          "buffer", &out, NULL);

  gegl_node_link (g->pool, sink);
  gegl_node_process (sink);
  gegl_node_set (sink, "buffer", NULL, NULL);
  return out;
}

/* Pixels are shown up to this many bytes (SEG_MAX_BPP). */
#define HEX_MAX_BPP 64

static void
hex (gchar *dst, const guint8 *px, gint bpp)
{
  for (gint b = 0; b < MIN (bpp, HEX_MAX_BPP); b++)
    g_snprintf (dst + 2 * b, 3, "%02x", px[b]);
}

void
assert_pixels_equal (const guint8 *got, const guint8 *want,
                     const GeglRectangle *rect, gint bpp,
                     const gchar *what, const gchar *context)
{
  for (gint y = 0; y < rect->height; y++)
    for (gint x = 0; x < rect->width; x++)
      {
        gsize o = ((gsize) y * rect->width + x) * bpp;

        if (memcmp (got + o, want + o, bpp) != 0)
          {
            gchar g[2 * HEX_MAX_BPP + 1], w[2 * HEX_MAX_BPP + 1];

            hex (g, got + o, bpp);
            hex (w, want + o, bpp);
            ck_abort_msg ("%s: %s: first difference at output x=%d, y=%d "
                          "(of %d×%d at %d,%d): got %s, want %s",
                          context, what, rect->x + x, rect->y + y,
                          rect->width, rect->height, rect->x, rect->y, g, w);
          }
      }
}

void
assert_rect_equal (const GeglRectangle *got, const GeglRectangle *want,
                   const gchar *what, const gchar *context)
{
  ck_assert_msg (gegl_rectangle_equal (got, want),
                 "%s: %s is %d×%d at (%d,%d), want %d×%d at (%d,%d)",
                 context, what, got->width, got->height, got->x, got->y,
                 want->width, want->height, want->x, want->y);
}

void
paste (guint8 *whole, const GeglRectangle *whole_rect, const guint8 *part,
       const GeglRectangle *part_rect, gint bpp)
{
  for (gint y = 0; y < part_rect->height; y++)
    memcpy (whole + (((gsize) (part_rect->y - whole_rect->y + y) *
                      whole_rect->width) +
                     (part_rect->x - whole_rect->x)) * bpp,
            part + (gsize) y * part_rect->width * bpp,
            (gsize) part_rect->width * bpp);
}

void
params_set (Params *p, const gchar *property, gint value)
{
  if (strcmp (property, "factor-x") == 0)
    p->fx = value;
  else if (strcmp (property, "factor-y") == 0)
    p->fy = value;
  else if (strcmp (property, "factor-z") == 0)
    p->fz = value;
  else if (strcmp (property, "depth") == 0)
    p->depth = value;
  else
    ck_abort_msg ("no property %s in Params", property);
}

Graph
region_graph (const gchar *op, gboolean sparse, gint x, gint y,
              GeglBuffer **buffer)
{
  GeglRectangle in = { x, y, 7, 15 };
  Params        p = { 2, 2, 2, 3, sparse };
  Graph         g;

  *buffer = gegl_buffer_new (&in, babl_format ("Y u8"));
  g = graph_new (*buffer, op, &p);
  gegl_node_get_bounding_box (g.pool);   /* prepares the graph */
  return g;
}

/* Both region callbacks of GeglOperation have this signature. */
typedef GeglRectangle (*RegionCallback) (GeglOperation       *op,
                                         const gchar         *pad,
                                         const GeglRectangle *rect);

static void
assert_region (const Graph *g, RegionCallback callback,
               const GeglRectangle *rect, const GeglRectangle *want,
               const gchar *what, const gchar *context)
{
  GeglOperation *op = gegl_node_get_gegl_operation (g->pool);
  GeglRectangle  got = callback (op, "input", rect);

  assert_rect_equal (&got, want, what, context);
}

void
assert_required_for_output (const Graph *g, const GeglRectangle *roi,
                            const GeglRectangle *want, const gchar *what,
                            const gchar *context)
{
  assert_region (g, gegl_operation_get_required_for_output, roi, want, what,
                 context);
}

void
assert_invalidated_by_change (const Graph *g, const GeglRectangle *changed,
                              const GeglRectangle *want, const gchar *what,
                              const gchar *context)
{
  assert_region (g, gegl_operation_get_invalidated_by_change, changed, want,
                 what, context);
}

gint
cut_rect (const GeglRectangle *rect, gint nx, gint ny, guint64 seed,
          GeglRectangle *parts)
{
  guint64 rng = seed ^ 0xA0761D6478BD642Full;
  gint    xs[8], ys[8];
  gint    n = 0;

  nx = MIN (nx, rect->width);
  ny = MIN (ny, rect->height);
  xs[0] = rect->x;
  ys[0] = rect->y;
  for (gint i = 1; i < nx; i++)
    xs[i] = rand_range (&rng, xs[i - 1] + 1,
                        rect->x + rect->width - (nx - i));
  for (gint i = 1; i < ny; i++)
    ys[i] = rand_range (&rng, ys[i - 1] + 1,
                        rect->y + rect->height - (ny - i));
  xs[nx] = rect->x + rect->width;
  ys[ny] = rect->y + rect->height;

  for (gint j = 0; j < ny; j++)
    for (gint i = 0; i < nx; i++)
      parts[n++] = (GeglRectangle) { xs[i], ys[j], xs[i + 1] - xs[i],
                                     ys[j + 1] - ys[j] };
  return n;
}

void
check_refused (GeglBuffer *input, const gchar *op, const Params *p,
               const gchar *word, const gint *numbers, const gchar *context)
{
  const Babl   *format = gegl_buffer_get_format (input);
  gint          bpp = babl_format_get_bytes_per_pixel (format);
  GeglRectangle probe = { -2, -2, 8, 8 };
  Graph         g;
  GeglRectangle bbox;
  GeglBuffer   *sunk;
  guint8       *px;
  gchar        *text;

  log_capture_begin ();
  g    = graph_new (input, op, p);
  bbox = gegl_node_get_bounding_box (g.pool);
  px   = graph_blit (&g, &probe, format);
  sunk = graph_sink (&g);
  text = log_capture_end ();

  ck_assert_msg (gegl_rectangle_is_empty (&bbox),
                 "%s: bounding box is %d×%d, want empty", context,
                 bbox.width, bbox.height);
  for (gint i = 0; i < probe.width * probe.height * bpp; i++)
    ck_assert_msg (px[i] == 0,
                   "%s: byte %d of the probe render is 0x%02x, want 0",
                   context, i, px[i]);
  ck_assert_msg (sunk == NULL ||
                 gegl_rectangle_is_empty (gegl_buffer_get_extent (sunk)),
                 "%s: buffer-sink got a non-empty buffer", context);

  if (word != NULL)
    {
      ck_assert_msg (message_names (text, op, word, numbers),
                     "%s: no message names %s, \"%s\" and the value; got:\n%s",
                     context, op, word, text);
      ck_assert_msg (count_occurrences (text, op) == 1,
                     "%s: want the message once, got:\n%s", context, text);
    }
  else
    ck_assert_msg (strstr (text, op) == NULL,
                   "%s: unexpected message:\n%s", context, text);

  g_free (text);
  g_clear_object (&sunk);
  g_free (px);
  graph_free (&g);
}

void
harness_init (gint *argc, gchar ***argv)
{
  log_handlers_install ();

  /* GEGL dlopen()s every plug-in in GEGL_PATH, in gegl_init () and again
   * when it first builds its table of operation names.  Some of GEGL's own
   * plug-ins pull in libraries with a $ORIGIN run path, for which glibc
   * 2.36's loader reads past a strdup()ed string with an SSE2 strncmp that
   * valgrind 3.19 reports.  That is outside this project, so valgrind is
   * kept quiet while the modules load, and only then. */
#ifdef HAVE_VALGRIND_H
  VALGRIND_DISABLE_ERROR_REPORTING;
#endif
  gegl_init (argc, argv);
  g_free (gegl_list_operations (NULL));
#ifdef HAVE_VALGRIND_H
  VALGRIND_ENABLE_ERROR_REPORTING;
#endif
  g_object_get (gegl_config (), "threads", &threads_at_start, NULL);
}

static void
harness_fixture (void)
{
  g_free (log_capture_end ());
  g_object_set (gegl_config (), "threads", threads_at_start, NULL);
}

TCase *
harness_tcase (Suite *s, const gchar *name)
{
  TCase *tc = tcase_create (name);

  tcase_add_checked_fixture (tc, harness_fixture, harness_fixture);
  tcase_set_timeout (tc, 300);
  suite_add_tcase (s, tc);
  return tc;
}

gint
harness_run (Suite *s)
{
  SRunner *runner = srunner_create (s);
  gint     failed;

  srunner_set_fork_status (runner, CK_NOFORK);
  srunner_run_all (runner, CK_ENV);
  failed = srunner_ntests_failed (runner);
  srunner_free (runner);
  gegl_exit ();
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
