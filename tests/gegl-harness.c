/* SPDX-License-Identifier: LGPL-3.0-or-later */
#include "gegl-harness.h"

#include <gegl-plugin.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>

#if defined __has_include
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define HAVE_VALGRIND_H 1
#endif
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
static GString *log_text; /* captured messages; NULL when not capturing */

static gboolean
log_capture (const gchar *domain, GLogLevelFlags level, const gchar *message)
{
  gboolean captured = FALSE;

  g_mutex_lock (&log_mutex);
  if (log_text != NULL && (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL |
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
log_handler (const gchar   *domain,
             GLogLevelFlags level,
             const gchar   *message,
             gpointer       data)
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
  const GLogLevelFlags all =
    G_LOG_LEVEL_MASK | G_LOG_FLAG_FATAL | G_LOG_FLAG_RECURSION;

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
  text     = log_text ? g_string_free (log_text, FALSE) : g_strdup ("");
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
message_names (const gchar *text,
               const gchar *op,
               const gchar *word,
               const gint  *numbers)
{
  gchar  **lines = g_strsplit (text, "\n", -1);
  gboolean found = FALSE;

  for (gint l = 0; lines[l] != NULL && !found; l++)
    {
      found = strstr (lines[l], op) != NULL && strstr (lines[l], word) != NULL;
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
  ck_assert_msg (text[0] == '\0', "%s: unexpected messages:\n%s", context,
                 text);
  g_free (text);
}

void
assert_has (const gchar *text, const gchar *part)
{
  ck_assert_msg (strstr (text, part) != NULL, "\"%s\" missing from: %s", part,
                 text);
}

gchar *
sink_write_problem (const gchar *log, const gchar *op, const gchar *path)
{
  gchar *frame = g_strdup_printf ("%s: %s: cannot write the file: ", op, path);
  const gchar *start = strstr (log, frame);
  const gchar *end   = start ? strstr (start, ". Nothing was written.") : NULL;
  gchar       *problem;

  if (log[0] == '\0')
    {
      g_free (frame);
      return NULL;
    }
  ck_assert_msg (end != NULL, "%s: not the op's message: %s", path, log);
  ck_assert_int_eq (count_occurrences (log, op), 1);
  start += strlen (frame);
  problem = g_strndup (start, (gsize) (end - start));
  g_free (frame);
  return problem;
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

void
file_write_npy (const gchar *path, const SegNpyHeader *h, const void *data)
{
  guint8 header[SEG_NPY_WRITE_MAX_SIZE];
  gsize  n    = seg_npy_header_write (h, header, sizeof header);
  FILE  *file = g_fopen (path, "wb");

  ck_assert_int_gt (n, 0);
  ck_assert_msg (file != NULL, "cannot write %s", path);
  ck_assert (fwrite (header, 1, n, file) == n);
  ck_assert (h->data_size == 0 ||
             fwrite (data, 1, h->data_size, file) == h->data_size);
  ck_assert_int_eq (fclose (file), 0);
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

  out.x     = floor_div (in->x, p->fx);
  out.y     = floor_div (in->y, p->fy);
  out.width = ceil_div (in->width, p->fx);
  out.height =
    ceil_div (in->height / p->depth, p->fy) * ceil_div (p->depth, p->fz);
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
      GeglBuffer   *parent      = g_object_new (
               GEGL_TYPE_BUFFER, "x", parent_rect.x, "y", parent_rect.y, "width",
               parent_rect.width, "height", parent_rect.height, "tile-width", tile_w,
               "tile-height", tile_h, "format", format, NULL);

      gegl_buffer_set (parent, &parent_rect, 0, format, px,
                       GEGL_AUTO_ROWSTRIDE);
      buffer = g_object_new (GEGL_TYPE_BUFFER, "source", parent, "x", extent->x,
                             "y", extent->y, "width", extent->width, "height",
                             extent->height, "shift-x", shift_x, "shift-y",
                             shift_y, "format", format, NULL);
      g_object_unref (parent);
      return buffer;
    }
  if (tile_w > 0)
    buffer =
      g_object_new (GEGL_TYPE_BUFFER, "x", extent->x, "y", extent->y, "width",
                    extent->width, "height", extent->height, "tile-width",
                    tile_w, "tile-height", tile_h, "format", format, NULL);
  else
    buffer = gegl_buffer_new (extent, format);
  gegl_buffer_set (buffer, extent, 0, format, px, GEGL_AUTO_ROWSTRIDE);
  return buffer;
}

GeglNode *
graph_input (
  GeglNode *root, GeglBuffer *input, gint dx, gint dy, GeglNode **source)
{
  GeglNode *last = gegl_node_new_child (root, "operation", "gegl:buffer-source",
                                        "buffer", input, NULL);

  if (source != NULL)
    *source = last;
  if (dx != 0 || dy != 0)
    {
      GeglNode *translate =
        gegl_node_new_child (root, "operation", "gegl:translate", "x",
                             (gdouble) dx, "y", (gdouble) dy, NULL);

      gegl_node_link (last, translate);
      last = translate;
    }
  return last;
}

Graph
graph_new_translated (
  GeglBuffer *input, const gchar *op, const Params *p, gint dx, gint dy)
{
  Graph     g;
  GeglNode *last;

  ck_assert_msg (gegl_has_operation (op), "GEGL does not know %s", op);
  g.root = gegl_node_new ();
  last   = graph_input (g.root, input, dx, dy, &g.source);

  if (gegl_operation_find_property (op, "factor-x") == NULL)
    g.pool = gegl_node_new_child (g.root, "operation", op, "depth", p->depth,
                                  "sparse", p->sparse, NULL);
  else
    g.pool = gegl_node_new_child (g.root, "operation", op, "factor-x", p->fx,
                                  "factor-y", p->fy, "factor-z", p->fz, "depth",
                                  p->depth, "sparse", p->sparse, NULL);
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
  gsize size =
    (gsize) roi->width * roi->height * babl_format_get_bytes_per_pixel (format);
  guint8 *px = g_malloc (MAX (size, 1));

  memset (px, 0xA5, size);
  gegl_node_blit (g->pool, 1.0, roi, format, px, GEGL_AUTO_ROWSTRIDE,
                  GEGL_BLIT_DEFAULT);
  return px;
}

void
assert_renders (GeglBuffer          *input,
                const gchar         *op,
                const Params        *p,
                gint                 dx,
                gint                 dy,
                const GeglRectangle *want_rect,
                const guint8        *want,
                const gchar         *what,
                const gchar         *context)
{
  const Babl   *format    = gegl_buffer_get_format (input);
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
                       babl_format_get_bytes_per_pixel (format), what, context);

  g_free (got);
  g_free (bbox_what);
  graph_free (&g);
}

guint8 *
render_with_threads (GeglBuffer          *input,
                     const gchar         *op,
                     const Params        *p,
                     const GeglRectangle *rect,
                     const Babl          *format,
                     gint                 n_threads)
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
render_in_parts (GeglBuffer          *input,
                 const gchar         *op,
                 const Params        *p,
                 const Babl          *format,
                 const GeglRectangle *rect,
                 const GeglRectangle *parts,
                 gint                 n_parts)
{
  gint    bpp       = babl_format_get_bytes_per_pixel (format);
  gsize   size      = (gsize) rect->width * rect->height * bpp;
  guint8 *assembled = g_malloc (MAX (size, 1));

  memset (assembled, 0xA5, size);
  for (gint i = 0; i < n_parts; i++)
    {
      Graph   g    = graph_new (input, op, p);
      guint8 *part = graph_blit (&g, &parts[i], format);

      paste (assembled, rect, part, &parts[i], bpp);
      g_free (part);
      graph_free (&g);
    }
  return assembled;
}

guint8 *
cut_out_checking_frame (const guint8        *px,
                        const GeglRectangle *grown,
                        const GeglRectangle *rect,
                        gint                 bpp,
                        const gchar         *context)
{
  guint8 *inner = g_malloc (MAX ((gsize) rect->width * rect->height * bpp, 1));

  for (gint y = 0; y < grown->height; y++)
    for (gint x = 0; x < grown->width; x++)
      {
        const guint8 *p  = px + ((gsize) y * grown->width + x) * bpp;
        gint          ix = grown->x + x - rect->x;
        gint          iy = grown->y + y - rect->y;

        if (ix >= 0 && iy >= 0 && ix < rect->width && iy < rect->height)
          memcpy (inner + ((gsize) iy * rect->width + ix) * bpp, p, bpp);
        else
          for (gint b = 0; b < bpp; b++)
            ck_assert_msg (p[b] == 0,
                           "%s: pixel (%d,%d) outside the "
                           "bounding box has byte %d = 0x%02x, want 0",
                           context, grown->x + x, grown->y + y, b, p[b]);
      }
  return inner;
}

GeglBuffer *
graph_sink (const Graph *g)
{
  GeglBuffer *out  = NULL;
  GeglNode   *sink = gegl_node_new_child (
      g->root, "operation", "gegl:buffer-sink", "buffer", &out, NULL);

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
assert_pixels_equal (const guint8        *got,
                     const guint8        *want,
                     const GeglRectangle *rect,
                     gint                 bpp,
                     const gchar         *what,
                     const gchar         *context)
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
                          context, what, rect->x + x, rect->y + y, rect->width,
                          rect->height, rect->x, rect->y, g, w);
          }
      }
}

void
assert_rect_equal (const GeglRectangle *got,
                   const GeglRectangle *want,
                   const gchar         *what,
                   const gchar         *context)
{
  ck_assert_msg (gegl_rectangle_equal (got, want),
                 "%s: %s is %d×%d at (%d,%d), want %d×%d at (%d,%d)", context,
                 what, got->width, got->height, got->x, got->y, want->width,
                 want->height, want->x, want->y);
}

void
paste (guint8              *whole,
       const GeglRectangle *whole_rect,
       const guint8        *part,
       const GeglRectangle *part_rect,
       gint                 bpp)
{
  for (gint y = 0; y < part_rect->height; y++)
    memcpy (whole + (((gsize) (part_rect->y - whole_rect->y + y) *
                      whole_rect->width) +
                     (part_rect->x - whole_rect->x)) *
                      bpp,
            part + (gsize) y * part_rect->width * bpp,
            (gsize) part_rect->width * bpp);
}

gint
params_get (const Params *p, const gchar *property)
{
  if (strcmp (property, "factor-x") == 0)
    return p->fx;
  if (strcmp (property, "factor-y") == 0)
    return p->fy;
  if (strcmp (property, "factor-z") == 0)
    return p->fz;
  ck_assert_str_eq (property, "depth");
  return p->depth;
}

gint
cut_rect (const GeglRectangle *rect,
          gint                 nx,
          gint                 ny,
          guint64              seed,
          GeglRectangle       *parts)
{
  guint64 rng = seed ^ 0xA0761D6478BD642Full;
  gint    xs[8], ys[8];
  gint    n = 0;

  nx    = MIN (nx, rect->width);
  ny    = MIN (ny, rect->height);
  xs[0] = rect->x;
  ys[0] = rect->y;
  for (gint i = 1; i < nx; i++)
    xs[i] = rand_range (&rng, xs[i - 1] + 1, rect->x + rect->width - (nx - i));
  for (gint i = 1; i < ny; i++)
    ys[i] = rand_range (&rng, ys[i - 1] + 1, rect->y + rect->height - (ny - i));
  xs[nx] = rect->x + rect->width;
  ys[ny] = rect->y + rect->height;

  for (gint j = 0; j < ny; j++)
    for (gint i = 0; i < nx; i++)
      parts[n++] =
        (GeglRectangle){ xs[i], ys[j], xs[i + 1] - xs[i], ys[j + 1] - ys[j] };
  return n;
}

void
check_refused (GeglBuffer   *input,
               const gchar  *op,
               const Params *p,
               const gchar  *word,
               const gint   *numbers,
               const gchar  *context)
{
  const Babl   *format = gegl_buffer_get_format (input);
  gint          bpp    = babl_format_get_bytes_per_pixel (format);
  GeglRectangle probe  = { -2, -2, 8, 8 };
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
                 "%s: bounding box is %d×%d, want empty", context, bbox.width,
                 bbox.height);
  for (gint i = 0; i < probe.width * probe.height * bpp; i++)
    ck_assert_msg (px[i] == 0,
                   "%s: byte %d of the probe render is 0x%02x, want 0", context,
                   i, px[i]);
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
    ck_assert_msg (strstr (text, op) == NULL, "%s: unexpected message:\n%s",
                   context, text);

  g_free (text);
  g_clear_object (&sunk);
  g_free (px);
  graph_free (&g);
}

void
check_refusal (const Refusal *r)
{
  GeglRectangle in     = { 0, 0, r->width, r->height };
  GeglBuffer   *buffer = gegl_buffer_new (&in, babl_format (r->format));
  gchar        *context =
    g_strdup_printf ("%s on \"%s\" %d×%d, factors %d,%d,%d, depth %d%s", r->op,
                     r->format, r->width, r->height, r->p.fx, r->p.fy, r->p.fz,
                     r->p.depth, r->p.sparse ? ", sparse" : "");

  check_refused (buffer, r->op, &r->p, r->word, r->numbers, context);
  g_free (context);
  g_object_unref (buffer);
}

void
check_bad_property (const gchar *op,
                    const gchar *format,
                    gboolean     sparse,
                    gint         i)
{
  static const struct
  {
    const gchar *property;
    gint         value, minimum, maximum;
  } bad[N_BAD_PROPERTIES] = {
    { "factor-x", 0, 1, 64 },    { "factor-x", 65, 1, 64 },
    { "factor-y", 65, 1, 64 },   { "factor-y", -1, 1, 64 },
    { "factor-z", 0, 1, 64 },    { "factor-z", 65, 1, 64 },
    { "depth", 0, 1, G_MAXINT },
  };
  const Params  p     = { 2, 2, 1, 1, sparse };
  GeglRectangle in    = { 0, 0, 8, 8 };
  GeglRectangle out   = { 0, 0, 4, 4 };
  const Babl   *fmt   = babl_format (format);
  const gint    bpp   = babl_format_get_bytes_per_pixel (fmt);
  guint8       *px    = g_malloc0 ((gsize) in.width * in.height * bpp);
  GParamSpec   *pspec = gegl_operation_find_property (op, bad[i].property);
  GeglBuffer   *buffer;
  Graph         g;
  guint8       *want, *got;
  gchar        *text, *value;
  gint          kept = 0;

  ck_assert_msg (G_IS_PARAM_SPEC_INT (pspec), "%s has no int property %s", op,
                 bad[i].property);
  ck_assert_msg (G_PARAM_SPEC_INT (pspec)->minimum == bad[i].minimum &&
                   G_PARAM_SPEC_INT (pspec)->maximum == bad[i].maximum,
                 "%s: %s ranges over %d … %d, want %d … %d", op,
                 bad[i].property, G_PARAM_SPEC_INT (pspec)->minimum,
                 G_PARAM_SPEC_INT (pspec)->maximum, bad[i].minimum,
                 bad[i].maximum);

  for (gsize k = 0; k < (gsize) in.width * in.height * bpp; k++)
    px[k] = (guint8) (k * 37 / 5);
  buffer = buffer_new_with_pixels (&in, fmt, px, 0, 0, 0, 0);
  g      = graph_new (buffer, op, &p);
  want   = graph_blit (&g, &out, fmt);

  log_capture_begin ();
  gegl_node_set (g.pool, bad[i].property, bad[i].value, NULL);
  text = log_capture_end ();
  gegl_node_get (g.pool, bad[i].property, &kept, NULL);
  value = g_strdup_printf ("\"%d\"", bad[i].value);
  ck_assert_msg (strstr (text, bad[i].property) != NULL &&
                   strstr (text, value) != NULL,
                 "%s: setting %s to %d: no message names both; got:\n%s", op,
                 bad[i].property, bad[i].value, text);
  ck_assert_msg (kept == params_get (&p, bad[i].property),
                 "%s: %s is %d after setting %d, want it kept", op,
                 bad[i].property, kept, bad[i].value);

  log_capture_begin ();
  got = graph_blit (&g, &out, fmt);
  assert_no_messages (log_capture_end (), op);
  ck_assert_msg (memcmp (got, want, (gsize) out.width * out.height * bpp) == 0,
                 "%s: the render changed after %s was refused", op,
                 bad[i].property);

  g_free (value);
  g_free (text);
  g_free (got);
  g_free (want);
  graph_free (&g);
  g_object_unref (buffer);
  g_free (px);
}

const Babl *
graph_output_format (const Graph *g)
{
  return gegl_operation_get_format (gegl_node_get_gegl_operation (g->pool),
                                    "output");
}

void
assert_op_is_registered_and_described (const gchar *op)
{
  static const gchar *const keys[] = { "title", "categories", "description" };
  const gchar              *categories;

  ck_assert_msg (gegl_has_operation (op),
                 "%s is not registered; is GEGL_PATH set?", op);
  for (gsize k = 0; k < G_N_ELEMENTS (keys); k++)
    {
      const gchar *value = gegl_operation_get_key (op, keys[k]);

      ck_assert_msg (value != NULL && value[0] != '\0',
                     "%s: key \"%s\" is empty", op, keys[k]);
    }
  /* GIMP's list of GEGL operations cuts longer titles off. */
  ck_assert_msg (g_utf8_strlen (gegl_operation_get_key (op, "title"), -1) <= 20,
                 "%s: title \"%s\" is longer than 20 characters", op,
                 gegl_operation_get_key (op, "title"));
  categories = gegl_operation_get_key (op, "categories");
  ck_assert_msg (strstr (categories, "hidden") == NULL &&
                   strstr (categories, "transform") == NULL,
                 "%s: categories \"%s\" hide the op or make it a transform", op,
                 categories);
}

/* ------------------------------------------------------------------------
 * Cases: an op on random pixels, compared with a reference
 * --------------------------------------------------------------------- */

gchar *
case_describe (const Case *c)
{
  const Mix *m = &c->mix;
  GString   *s = g_string_new (NULL);

  g_string_printf (s,
                   "seed %" G_GUINT64_FORMAT ", %s on \"%s\" %d×(%d·%d) "
                   "at (%d,%d), factors %d,%d,%d, depth %d%s, "
                   "%d%% background",
                   c->seed, c->op, c->format, c->width, c->slice_height,
                   c->p.depth, c->x, c->y, c->p.fx, c->p.fy, c->p.fz,
                   c->p.depth, c->p.sparse ? ", sparse" : "", m->background);
  /* The mix of the case's family; the other fields are 0. */
  if (m->n_labels > 0)
    g_string_append_printf (s, ", %d labels%s", m->n_labels,
                            m->near ? " (one byte apart)" : "");
  if (m->near_max > 0 || m->small > 0 || m->transparent > 0)
    g_string_append_printf (s,
                            ", %d%% near max, %d%% small, "
                            "%d%% transparent",
                            m->near_max, m->small, m->transparent);
  if (c->tile_w > 0)
    g_string_append_printf (s, ", tiles %d×%d shifted %d,%d", c->tile_w,
                            c->tile_h, c->shift_x, c->shift_y);
  return g_string_free (s, FALSE);
}

GeglRectangle
case_input (const Case *c)
{
  return (GeglRectangle){ c->x, c->y, c->width, c->slice_height * c->p.depth };
}

Volume
volume_of (const Case *c, guint8 *px)
{
  Volume v;

  v.format       = babl_format (c->format);
  v.bpp          = babl_format_get_bytes_per_pixel (v.format);
  v.extent       = case_input (c);
  v.slice_height = c->slice_height;
  v.slices       = c->p.depth;
  v.px           = px;
  v.buffer       = buffer_new_with_pixels (&v.extent, v.format, px, c->tile_w,
                                           c->tile_h, c->shift_x, c->shift_y);
  return v;
}

Volume
volume_new (const Case *c)
{
  const GeglRectangle in = case_input (c);
  gsize               n  = (gsize) in.width * in.height;
  gint    bpp = babl_format_get_bytes_per_pixel (babl_format (c->format));
  guint8 *px  = g_malloc (MAX (n * bpp, 1));

  c->family->fill (px, n, c->format, &c->mix, c->seed);
  return volume_of (c, px);
}

void
volume_free (Volume *v)
{
  g_clear_object (&v->buffer);
  g_clear_pointer (&v->px, g_free);
}

guint8 *
case_reference (const Case *c, const Volume *v)
{
  return c->family->reference (c, v);
}

ReferenceViews
reference_views (const Volume *v, const Params *p)
{
  gint           ow = ceil_div (v->extent.width, p->fx);
  gint           oh = ceil_div (v->slice_height, p->fy);
  gint           od = ceil_div (v->slices, p->fz);
  ReferenceViews r;

  r.in  = seg_volume_packed (v->px, v->extent.width, v->slice_height, v->slices,
                             v->bpp);
  r.out = seg_volume_packed (g_malloc ((gsize) ow * oh * od * v->bpp), ow, oh,
                             od, v->bpp);
  r.factors    = (SegFactors){ p->fx, p->fy, p->fz };
  r.background = format_background (v->format);
  return r;
}

void
draw_background (guint8 *p, gint bpp, SegBackground bg, guint64 *rng)
{
  const gint a1 = bg.alpha_offset + bg.alpha_size;

  switch (bg.alpha_size > 0 ? rand_range (rng, 0, 2) : 0)
    {
    case 0: memset (p, 0, bpp); break;
    case 1: memset (p + bg.alpha_offset, 0, bg.alpha_size); break;
    default:
      memset (p, 0, bg.alpha_offset);
      memset (p + a1, 0, bpp - a1);
      break;
    }
}

SegBackground
format_background (const Babl *format)
{
  const gint bpp = babl_format_get_bytes_per_pixel (format);
  const gint n   = babl_format_get_n_components (format);

  if (!babl_format_has_alpha (format))
    return SEG_BACKGROUND_ZEROS;
  return (SegBackground){ bpp - bpp / n, bpp / n };
}

void
check_case (const Case *c)
{
  gchar        *context   = case_describe (c);
  Volume        v         = volume_new (c);
  GeglRectangle want_rect = expected_extent (&v.extent, &c->p);
  guint8       *want      = case_reference (c, &v);

  assert_renders (v.buffer, c->op, &c->p, 0, 0, &want_rect, want,
                  "whole render", context);
  g_free (want);
  volume_free (&v);
  g_free (context);
}

void
check_output_keeps_the_source_format (const Case          *c,
                                      const GeglRectangle *want_rect)
{
  gchar      *context = case_describe (c);
  Volume      v       = volume_new (c);
  guint8     *want    = case_reference (c, &v);
  Graph       g       = graph_new (v.buffer, c->op, &c->p);
  GeglBuffer *out;
  const Babl *op_format;
  guint8     *got;

  log_capture_begin ();
  out = graph_sink (&g);
  assert_no_messages (log_capture_end (), context);

  ck_assert_msg (out != NULL, "%s: buffer-sink got no buffer", context);
  op_format = graph_output_format (&g);
  ck_assert_msg (op_format == v.format,
                 "%s: the op's output format is \"%s\", not the source's",
                 context, op_format ? babl_get_name (op_format) : "none");
  ck_assert_msg (gegl_buffer_get_format (out) == v.format,
                 "%s: the output buffer is \"%s\", not the source's", context,
                 babl_get_name (gegl_buffer_get_format (out)));
  assert_rect_equal (gegl_buffer_get_extent (out), want_rect,
                     "output buffer extent", context);

  got = g_malloc ((gsize) want_rect->width * want_rect->height * v.bpp);
  gegl_buffer_get (out, want_rect, 1.0, v.format, got, GEGL_AUTO_ROWSTRIDE,
                   GEGL_ABYSS_NONE);
  assert_pixels_equal (got, want, want_rect, v.bpp, "buffer-sink output",
                       context);

  g_free (got);
  g_object_unref (out);
  g_free (want);
  graph_free (&g);
  volume_free (&v);
  g_free (context);
}

void
check_threads_agree (const Case *c)
{
  static const gint threads[2] = { 1, 4 };
  gchar            *context    = case_describe (c);
  Volume            v          = volume_new (c);
  GeglRectangle     rect       = expected_extent (&v.extent, &c->p);
  guint8           *want       = case_reference (c, &v);
  guint8           *got[2];

  log_capture_begin ();
  for (gint t = 0; t < 2; t++)
    got[t] =
      render_with_threads (v.buffer, c->op, &c->p, &rect, v.format, threads[t]);
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

void
check_parts (const Case *c, const GeglRectangle *parts, gint n_parts)
{
  gchar        *context = case_describe (c);
  Volume        v       = volume_new (c);
  GeglRectangle rect    = expected_extent (&v.extent, &c->p);
  guint8       *want    = case_reference (c, &v);
  guint8       *whole, *assembled;
  Graph         g;

  log_capture_begin ();
  g     = graph_new (v.buffer, c->op, &c->p);
  whole = graph_blit (&g, &rect, v.format);
  graph_free (&g);
  assembled =
    render_in_parts (v.buffer, c->op, &c->p, v.format, &rect, parts, n_parts);
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

void
check_in_uneven_parts (const Case *c, gint nx, gint ny)
{
  GeglRectangle in   = case_input (c);
  GeglRectangle rect = expected_extent (&in, &c->p);
  GeglRectangle parts[7 * 7];

  check_parts (c, parts, cut_rect (&rect, nx, ny, c->seed, parts));
}

void
check_row_by_row (const Case *c)
{
  GeglRectangle  in   = case_input (c);
  GeglRectangle  rect = expected_extent (&in, &c->p);
  GeglRectangle *rows = g_new (GeglRectangle, MAX (rect.height, 1));

  for (gint r = 0; r < rect.height; r++)
    rows[r] = (GeglRectangle){ rect.x, rect.y + r, rect.width, 1 };
  check_parts (c, rows, rect.height);
  g_free (rows);
}

void
check_in_four_uneven_parts (Case c, gint i)
{
  c.width += 9; /* room for cuts on every axis */
  c.slice_height += 5;
  c.x = (gint[]){ 0, -3, 7, -10 }[i % 4];
  c.y = (gint[]){ 0, 5, -1, -6 }[i % 4];
  check_in_uneven_parts (&c, 2, 2);
}

void
check_frame_renders_nothing (Case c, gint i)
{
  gchar        *context;
  Volume        v;
  GeglRectangle rect, grown;
  guint8       *want, *got, *inner;
  Graph         g;

  c.x     = (gint[]){ 0, -3, 5, -8 }[i % 4];
  c.y     = (gint[]){ 0, 5, -7, 1 }[i % 4];
  context = case_describe (&c);
  v       = volume_new (&c);
  rect    = expected_extent (&v.extent, &c.p);
  want    = case_reference (&c, &v);
  grown =
    (GeglRectangle){ rect.x - 3, rect.y - 3, rect.width + 6, rect.height + 6 };

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

void
check_at_odd_origin (Case c, gint i)
{
  static const gint origins[][2] = {
    { -3, 5 }, { -7, -9 }, { 5, 3 }, { 1, -1 }, { -1, -2 }, { 13, -11 },
  };

  c.x = origins[i % G_N_ELEMENTS (origins)][0];
  c.y = origins[i % G_N_ELEMENTS (origins)][1];
  check_case (&c);
}

void
check_translated (const Case *c)
{
  gchar        *context = case_describe (c);
  Volume        v       = volume_new (c);
  GeglRectangle moved   = v.extent;
  GeglRectangle want_rect;
  guint8       *want;

  moved.x -= 3;
  moved.y += 5;
  want_rect = expected_extent (&moved, &c->p);
  want      = case_reference (c, &v);

  assert_renders (v.buffer, c->op, &c->p, -3, 5, &want_rect, want,
                  "translated render", context);
  g_free (want);
  volume_free (&v);
  g_free (context);
}

void
check_with_small_tiles (Case c, gint i, guint64 salt)
{
  static const gint tiles[][2] = { { 8, 4 },   { 16, 8 }, { 4, 4 },  { 12, 6 },
                                   { 32, 16 }, { 6, 3 },  { 10, 5 }, { 2, 2 } };
  guint64           rng        = (guint64) i * 0x9E3779B97F4A7C15ull + salt;

  c.tile_w       = tiles[i % G_N_ELEMENTS (tiles)][0];
  c.tile_h       = tiles[i % G_N_ELEMENTS (tiles)][1];
  c.width        = rand_range (&rng, 1, 90);
  c.slice_height = rand_range (&rng, 1, 40);
  if (rand_range (&rng, 0, 1) == 0) /* slices of whole tile rows */
    c.slice_height = c.tile_h * rand_range (&rng, 1, 5);
  c.x = rand_range (&rng, 0, 2) ? 0 : rand_range (&rng, -20, 20);
  c.y = rand_range (&rng, 0, 2) ? 0 : rand_range (&rng, -20, 20);
  if (i % 5 == 4)
    {
      c.shift_x = rand_range (&rng, -9, 9);
      c.shift_y = rand_range (&rng, -9, 9);
    }
  /* Tile pairs: two slices' tiles read at once. */
  if (rand_range (&rng, 0, 2) == 0 && c.p.depth > 1)
    c.p = (Params){ 2, 2, 2, c.p.depth, c.p.sparse };
  check_case (&c);
}

void
check_cached_render_follows_changes (const Case *c, const Mix *fresh)
{
  /* The op's node caches its output (as GIMP's graphs do) and is read, in
   * bands of 8 output rows, through a gegl:nop.  After a change of input
   * rows that cross a slice boundary, GEGL recomputes a band only if the
   * op's get_invalidated_by_change covered it (GEGL widens that region by
   * up to 15 pixels, so the stack is tall): a stale band means the
   * invalidated region was too small.  Two output slices of 50 rows. */
  static const GeglRectangle changes[] = {
    { 20, 40, 8, 111 }, /* slice 0 rows 40 … 99, slice 1 rows 0 … 50 */
    { 30, 5, 1, 290 },  /* a column through all three slices         */
    { 3, 190, 30, 20 }, /* slices 1 and 2: two output slices         */
  };
  gchar        *context = case_describe (c);
  Volume        v       = volume_new (c);
  GeglRectangle rect    = expected_extent (&v.extent, &c->p);
  Graph         g       = graph_new (v.buffer, c->op, &c->p);
  GeglNode *nop = gegl_node_new_child (g.root, "operation", "gegl:nop", NULL);
  gsize     row_bytes = (gsize) rect.width * v.bpp;
  guint8   *got       = g_malloc (row_bytes * rect.height);

  ck_assert_msg (c->x == 0 && c->y == 0 && c->width == 40 &&
                   c->slice_height == 100 && c->p.depth == 3 && c->p.fx == 2 &&
                   c->p.fy == 2 && c->p.fz == 2,
                 "%s: the changes are made for 40 × (100·3) at (0,0), "
                 "factors 2,2,2",
                 context);
  gegl_node_set (g.pool, "cache-policy", GEGL_CACHE_POLICY_ALWAYS, NULL);
  gegl_node_link (g.pool, nop);

  log_capture_begin ();
  gegl_node_blit (nop, 1.0, &rect, v.format, got, GEGL_AUTO_ROWSTRIDE,
                  GEGL_BLIT_DEFAULT);
  for (gsize k = 0; k < G_N_ELEMENTS (changes); k++)
    {
      const GeglRectangle *ch = &changes[k];
      gsize                n  = (gsize) ch->width * ch->height;
      guint8              *px = g_malloc (n * v.bpp);
      guint8              *want;
      gchar               *what;

      c->family->fill (px, n, c->format, fresh, c->seed * 31 + k);
      gegl_buffer_set (v.buffer, ch, 0, v.format, px, GEGL_AUTO_ROWSTRIDE);
      for (gint y = 0; y < ch->height; y++)
        memcpy (v.px + ((gsize) (ch->y + y) * v.extent.width + ch->x) * v.bpp,
                px + (gsize) y * ch->width * v.bpp, (gsize) ch->width * v.bpp);
      g_free (px);

      for (gint r = 0; r < rect.height; r += 8)
        {
          GeglRectangle band = { rect.x, rect.y + r, rect.width,
                                 MIN (8, rect.height - r) };

          gegl_node_blit (nop, 1.0, &band, v.format, got + r * row_bytes,
                          GEGL_AUTO_ROWSTRIDE, GEGL_BLIT_DEFAULT);
        }

      want = case_reference (c, &v);
      what = g_strdup_printf ("bands rendered from the cache after a "
                              "change of %d×%d at (%d,%d)",
                              ch->width, ch->height, ch->x, ch->y);
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

/* ------------------------------------------------------------------------
 * Region callbacks, the same for every pooling op
 * --------------------------------------------------------------------- */

/* The ops the region tests run on, each with the sparse setting its own
 * tests use.  seg:countless-3d has no factors: it pools 2×2×2. */
static const struct
{
  const gchar *op;
  gboolean     sparse;
} region_ops[] = {
  { "seg:mode-pool", FALSE },
  { "seg:countless-3d", FALSE },
  { "seg:sparse-average", TRUE },
};

typedef enum
{
  BOUNDING_BOX,
  REQUIRED_FOR_OUTPUT,
  INVALIDATED_BY_CHANGE,
} RegionQuery;

/* The region the op's callbacks give for rect (the roi, or the changed
 * input; unused for the bounding box). */
static GeglRectangle
region_of (const Graph *g, RegionQuery query, const GeglRectangle *rect)
{
  GeglOperation *op = gegl_node_get_gegl_operation (g->pool);

  switch (query)
    {
    case BOUNDING_BOX: return gegl_node_get_bounding_box (g->pool);
    case REQUIRED_FOR_OUTPUT:
      return gegl_operation_get_required_for_output (op, "input", rect);
    default:
      return gegl_operation_get_invalidated_by_change (op, "input", rect);
    }
}

/* An empty Y u8 input of extent in, pooled by op with p, prepared.
 * *buffer holds the input (unref it). */
static Graph
stack_graph (const gchar         *op,
             const GeglRectangle *in,
             const Params        *p,
             GeglBuffer         **buffer)
{
  Graph g;

  *buffer = gegl_buffer_new (in, babl_format ("Y u8"));
  g       = graph_new (*buffer, op, p);
  gegl_node_get_bounding_box (g.pool); /* prepares the graph */
  return g;
}

/* The callbacks on a 7 × (5·3) stack at (x, y), factors 2,2,2: the
 * output is 4 × (3·2), two output slices of three rows. */
static const struct
{
  RegionQuery   query;
  gint          x, y;
  GeglRectangle rect;
  GeglRectangle want;
  const gchar  *what;
} stack_regions[] = {
  /* Ceil on every axis: 4 × (3·2) at (-3/2, 5/2) rounded up. */
  { BOUNDING_BOX, -3, 5, { 0 }, { -2, 2, 4, 6 }, "bounding box" },
  /* Output row 1 (relative) is row 1 of output slice 0: input rows 2, 3
   * of slices 0 and 1, i.e. rows 2 … 8 of the stack. */
  { REQUIRED_FOR_OUTPUT,
    0,
    0,
    { 0, 1, 4, 1 },
    { 0, 2, 7, 7 },
    "required for output row 1" },
  /* Output row 4 is row 1 of output slice 1, which holds only input
   * slice 2 (slice 3 does not exist): rows 12, 13.  Columns 1 … 2 read
   * input columns 2 … 5. */
  { REQUIRED_FOR_OUTPUT,
    0,
    0,
    { 1, 4, 2, 1 },
    { 2, 12, 4, 2 },
    "required for output row 4, cols 1-2" },
  /* Input at (-3,5): output at (-2,2).  Output (-1..0, 3) is relative
   * column 1 … 2, row 1: input x -1 … 2, rows 5+2 … 5+8. */
  { REQUIRED_FOR_OUTPUT,
    -3,
    5,
    { -1, 3, 2, 1 },
    { -1, 7, 4, 7 },
    "required for output (-1,3) 2×1" },
  /* Input pixel (4, 11) relative: column block 2; row 11 is row 1 of
   * slice 2, which pools into output slice 1, row 0: output row 3. */
  { INVALIDATED_BY_CHANGE,
    0,
    0,
    { 4, 11, 1, 1 },
    { 2, 3, 1, 1 },
    "invalidated by pixel (4,11)" },
  /* The same pixel, with the input at (-3,5): (1,16) → output (0,5). */
  { INVALIDATED_BY_CHANGE,
    -3,
    5,
    { 1, 16, 1, 1 },
    { 0, 5, 1, 1 },
    "invalidated by pixel (1,16)" },
  /* Rows 4 … 5 relative: the last row of slice 0 (output row 2) and the
   * first row of slice 1 (also output slice 0, row 0) → output rows
   * 0 … 2; columns 0 … 6 → all 4 output columns. */
  { INVALIDATED_BY_CHANGE,
    0,
    0,
    { 0, 4, 7, 2 },
    { 0, 0, 4, 3 },
    "invalidated by rows 4-5" },
};
#define N_STACK_REGIONS ((gint) G_N_ELEMENTS (stack_regions))

/* _i = op × N_STACK_REGIONS + the region asked for. */
START_TEST (test_regions_of_a_three_slice_stack)
{
  const gchar   *op      = region_ops[_i / N_STACK_REGIONS].op;
  const gboolean sparse  = region_ops[_i / N_STACK_REGIONS].sparse;
  const gint     k       = _i % N_STACK_REGIONS;
  GeglRectangle  in      = { stack_regions[k].x, stack_regions[k].y, 7, 15 };
  gchar         *context = g_strdup_printf ("%s, 7×(5·3) at (%d,%d), "
                                                    "factors 2,2,2",
                                            op, in.x, in.y);
  GeglBuffer    *buffer;
  Graph g = stack_graph (op, &in, &(Params){ 2, 2, 2, 3, sparse }, &buffer);
  GeglRectangle got =
    region_of (&g, stack_regions[k].query, &stack_regions[k].rect);

  assert_rect_equal (&got, &stack_regions[k].want, stack_regions[k].what,
                     context);
  graph_free (&g);
  g_object_unref (buffer);
  g_free (context);
}
END_TEST

/* A random stack of Y u8 slices. */
typedef struct
{
  GeglRectangle in; /* the input, W × (H·D) */
  gint          slice_height;
  Params        p;
  GeglRectangle out; /* DESIGN.md's output extent */
} Stack;

static Stack
stack_random (guint64 seed, gint op)
{
  guint64 rng = seed * 0x9E3779B97F4A7C15ull + 7;
  Stack   s;

  s.slice_height = rand_range (&rng, 1, 9);
  s.p.depth      = rand_range (&rng, 1, 5);
  s.p.fx         = rand_range (&rng, 1, 4);
  s.p.fy         = rand_range (&rng, 1, 4);
  s.p.fz         = rand_range (&rng, 1, 3);
  s.p.sparse     = region_ops[op].sparse;
  s.in =
    (GeglRectangle){ rand_range (&rng, -9, 9), rand_range (&rng, -9, 9),
                     rand_range (&rng, 1, 15), s.slice_height * s.p.depth };
  if (gegl_operation_find_property (region_ops[op].op, "factor-x") == NULL)
    s.p.fx = s.p.fy = s.p.fz = 2;
  s.out = expected_extent (&s.in, &s.p);
  return s;
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

  return (GeglRectangle){ x0, y0, x1 - x0 + 1, y1 - y0 + 1 };
}

/* The bounding box of the input blocks that the output pixels of roi
 * read, pixel by pixel; empty (width 0) when roi misses the output. */
static GeglRectangle
blocks_read (const Stack *s, const GeglRectangle *roi)
{
  const gint    H = s->slice_height, ohs = ceil_div (H, s->p.fy);
  GeglRectangle want = { 0, 0, 0, 0 }, clipped;

  if (gegl_rectangle_intersect (&clipped, roi, &s->out))
    for (gint row = clipped.y - s->out.y;
         row < clipped.y + clipped.height - s->out.y; row++)
      for (gint col = clipped.x - s->out.x;
           col < clipped.x + clipped.width - s->out.x; col++)
        {
          gint oz = row / ohs, oy = row % ohs;

          for (gint z = oz * s->p.fz;
               z < MIN (oz * s->p.fz + s->p.fz, s->p.depth); z++)
            for (gint y = oy * s->p.fy; y < MIN (oy * s->p.fy + s->p.fy, H);
                 y++)
              {
                rect_add (&want, s->in.x + col * s->p.fx, s->in.y + z * H + y);
                rect_add (&want,
                          s->in.x + MIN (col * s->p.fx + s->p.fx, s->in.width) -
                            1,
                          s->in.y + z * H + y);
              }
        }
  return want;
}

/* The bounding box of the output pixels whose blocks hold a pixel of
 * changed, pixel by pixel; empty when changed misses the input. */
static GeglRectangle
blocks_touched (const Stack *s, const GeglRectangle *changed)
{
  const gint    H = s->slice_height, ohs = ceil_div (H, s->p.fy);
  GeglRectangle want = { 0, 0, 0, 0 }, clipped;

  if (gegl_rectangle_intersect (&clipped, changed, &s->in))
    for (gint ry = clipped.y - s->in.y;
         ry < clipped.y + clipped.height - s->in.y; ry++)
      for (gint rx = clipped.x - s->in.x;
           rx < clipped.x + clipped.width - s->in.x; rx++)
        rect_add (&want, s->out.x + rx / s->p.fx,
                  s->out.y + (ry / H / s->p.fz) * ohs + (ry % H) / s->p.fy);
  return want;
}

/* Asks op's callback (required or invalidated) for 8 random rects around
 * a random stack drawn from seed, and checks each answer against the
 * blocks pixel by pixel. */
static void
check_random_regions (gint        op,
                      RegionQuery query,
                      guint64     seed,
                      guint64     rng_seed)
{
  Stack  s = stack_random (seed, op);
  gchar *context =
    g_strdup_printf ("%s, seed %" G_GUINT64_FORMAT ": %d×(%d·%d) at (%d,%d), "
                     "factors %d,%d,%d",
                     region_ops[op].op, seed, s.in.width, s.slice_height,
                     s.p.depth, s.in.x, s.in.y, s.p.fx, s.p.fy, s.p.fz);
  guint64        rng = rng_seed;
  GeglBuffer    *buffer;
  Graph          g = stack_graph (region_ops[op].op, &s.in, &s.p, &buffer);
  const gboolean required = query == REQUIRED_FOR_OUTPUT;

  for (gint k = 0; k < 8; k++)
    {
      GeglRectangle rect = rect_random (&rng, required ? &s.out : &s.in);
      GeglRectangle want =
        required ? blocks_read (&s, &rect) : blocks_touched (&s, &rect);
      GeglRectangle got  = region_of (&g, query, &rect);
      gchar        *what = g_strdup_printf (
               "%s %d×%d at (%d,%d)", required ? "required for" : "invalidated by",
               rect.width, rect.height, rect.x, rect.y);

      if (gegl_rectangle_is_empty (&want))
        ck_assert_msg (gegl_rectangle_is_empty (&got),
                       "%s: %s is %d×%d at (%d,%d), want empty", context, what,
                       got.width, got.height, got.x, got.y);
      else
        assert_rect_equal (&got, &want, what, context);
      g_free (what);
    }

  graph_free (&g);
  g_object_unref (buffer);
  g_free (context);
}

/* Random stacks per op. */
#define N_RANDOM_STACKS 40

/* _i = op × N_RANDOM_STACKS + the stack. */
START_TEST (test_required_region_is_the_bounding_box_of_the_blocks_read)
{
  gint i = _i % N_RANDOM_STACKS;

  check_random_regions (_i / N_RANDOM_STACKS, REQUIRED_FOR_OUTPUT, i, i + 99);
}
END_TEST

START_TEST (test_invalidated_region_is_the_bounding_box_of_the_blocks_touched)
{
  gint i = _i % N_RANDOM_STACKS;

  check_random_regions (_i / N_RANDOM_STACKS, INVALIDATED_BY_CHANGE, 1000 + i,
                        i + 77);
}
END_TEST

void
region_tests_add (TCase *tc, const gchar *op)
{
  gint k = 0;

  while (k < (gint) G_N_ELEMENTS (region_ops) &&
         strcmp (region_ops[k].op, op) != 0)
    k++;
  if (k == (gint) G_N_ELEMENTS (region_ops))
    g_error ("no region tests for %s", op);

  tcase_add_loop_test (tc, test_regions_of_a_three_slice_stack,
                       k * N_STACK_REGIONS, (k + 1) * N_STACK_REGIONS);
  tcase_add_loop_test (
    tc, test_required_region_is_the_bounding_box_of_the_blocks_read,
    k * N_RANDOM_STACKS, (k + 1) * N_RANDOM_STACKS);
  tcase_add_loop_test (
    tc, test_invalidated_region_is_the_bounding_box_of_the_blocks_touched,
    k * N_RANDOM_STACKS, (k + 1) * N_RANDOM_STACKS);
}

/* GEGL's video plug-ins (ff-load, ff-save) pull in libraries whose
 * start-up code runs instructions that valgrind 3.19 refuses on some CPUs
 * (libhwy's RDTSCP: SIGILL).  The tests load only the plug-ins they use
 * (tests/meson.build); this keeps it so, wherever a machine has more. */
static void
assert_no_unwanted_libraries (void)
{
  static const gchar *const unwanted[] = { "libhwy", "libavcodec" };
  gchar                    *maps       = NULL;

  if (!g_file_get_contents ("/proc/self/maps", &maps, NULL, NULL))
    return; /* not Linux: nothing to check */
  for (gsize i = 0; i < G_N_ELEMENTS (unwanted); i++)
    if (strstr (maps, unwanted[i]) != NULL)
      g_error ("%s is loaded: GEGL_PATH (%s) holds plug-ins that the tests "
               "do not use",
               unwanted[i], g_getenv ("GEGL_PATH"));
  g_free (maps);
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
  assert_no_unwanted_libraries ();
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

void
assert_op_refuses (GeglNode    *root,
                   GeglNode    *op,
                   const gchar *op_name,
                   const gchar *word,
                   const gint  *numbers)
{
  GeglBuffer   *out = NULL;
  GeglNode     *sink;
  GeglRectangle box;
  gchar        *log;

  log_capture_begin ();
  sink = gegl_node_new_child (root, "operation", "gegl:buffer-sink", "buffer",
                              &out, NULL);
  gegl_node_link (op, sink);
  box = gegl_node_get_bounding_box (op);
  gegl_node_process (sink);
  log = log_capture_end ();
  if (box.width != 0 || box.height != 0)
    ck_abort_msg ("%s: the bounding box is %d×%d", word, box.width, box.height);
  if (out != NULL && gegl_buffer_get_extent (out)->width *
                         gegl_buffer_get_extent (out)->height !=
                       0)
    ck_abort_msg ("%s: the output is not empty", word);
  if (!message_names (log, op_name, word, numbers) ||
      count_occurrences (log, op_name) != 1)
    ck_abort_msg ("%s: the message is \"%s\"", word, log);
  g_free (log);
  g_clear_object (&out);
}
