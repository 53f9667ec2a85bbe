/* SPDX-License-Identifier: LGPL-3.0-or-later
 *
 * seg:npy-load — a NumPy .npy file (format 1.0, 2.0 or 3.0) as a GEGL
 * image: a 2D array (H, W) is a W×H image, a 3D C-order array (D, H, W) a
 * stack of D slices of W×H (DESIGN.md's volume layout), and a Fortran-order
 * array (X, Y[, Z]) the same, its first axis being x.  Every dtype keeps
 * every bit (seg-npy-common.h); big-endian files are converted to the
 * host's order.  The volume is held once: where its bytes can be the
 * pixels (native byte order), the op's output is the file itself, mapped
 * (seg-mapped-buffer.c); else the file is read in bands of rows into one
 * buffer.  Either way the op hands that buffer on, as gegl:buffer-source
 * does, and keeps it until the path is set again.
 *
 * The header is read when the path is set (again: setting the same path
 * reads a rewritten file anew) and the file kept open, so the pixels come
 * from the file the header describes; one rewritten in place since then
 * is refused, and seg:npy-save downstream writes nothing (seg_npy_load_
 * state ()).  Arrays far thinner than GEGL's tiles are refused too, with
 * what to do about them: GEGL would spend most of every tile on nothing.
 * https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html
 */
#include "config.h"

#include <glib/gi18n-lib.h>

/* GEGL's property and op declarations, laid out as GEGL's own ops do. */
/* clang-format off */
#ifdef GEGL_PROPERTIES

property_file_path (path, _("File"), "")
  description (_("Path of the .npy file to load"))

#else

#define GEGL_OP_SOURCE
#define GEGL_OP_NAME     seg_npy_load
#define GEGL_OP_C_SOURCE seg-npy-load.c

#include "gegl-op.h"
/* clang-format on */

#include <gio/gfiledescriptorbased.h>
#include <string.h>

#include "seg-mapped-buffer.h"
#include "seg-npy-common.h"
#include "seg-stack.h"

/* The file at the path property, from the reading of its header on. */
typedef struct
{
  GInputStream *in;    /* open from the header on: the pixels come
                             * from the file that the header describes,
                             * even if another takes its name            */
  GFileInfo    *stamp; /* its size and time when the header was read */
  SegNpyHeader  header;
  GeglRectangle extent; /* empty when the file cannot be loaded      */
  const Babl   *format;
  gboolean      swap;    /* elements in the other byte order          */
  gchar        *problem; /* why it could not be read or loaded whole  */
  GeglBuffer   *pixels;  /* the image, from the first process () on   */
  gboolean      mapped;  /* pixels are the file's bytes, mapped       */
} NpyFile;

/* Links from a node to the graph (meta-op) it is a proxy of, and the name
 * of a graph's output proxy (gegl-node.c). */
#define PROXY_GRAPH_KEY "graph"
#define OUTPUT_PROXY    "proxynop-output"
/* Graphs of meta-ops followed outwards, at most. */
#define MAX_NESTING     8

/* What the stamp records: what writing to a file changes.  (Not the
 * change time, which renaming another file over its name changes too.) */
#define STAMP_ATTRIBUTES                                            \
  G_FILE_ATTRIBUTE_STANDARD_SIZE "," G_FILE_ATTRIBUTE_TIME_MODIFIED \
                                 "," G_FILE_ATTRIBUTE_TIME_MODIFIED_USEC

static void
npy_file_free (NpyFile *f)
{
  if (f == NULL)
    return;
  g_clear_object (&f->pixels);
  g_clear_object (&f->in);
  g_clear_object (&f->stamp);
  g_free (f->problem);
  g_free (f);
}

static gchar *
display_name (const gchar *path)
{
  return g_filename_display_name (path);
}

/* Images thinner than GEGL's tiles (a long 1-D array is one row) waste
 * most of each tile: a row of 2^24 bytes takes 2 GiB of 128 × 128 tiles,
 * which GEGL's cache (512 MiB by default) sends to its swap file, so that
 * copying it takes minutes.  Such an image is refused when its tiles
 * would take both more than this many times its data … */
#define MAX_TILE_WASTE        16
/* … and more than this many bytes. */
#define MAX_WASTED_TILE_BYTES ((guint64) 256 * 1024 * 1024)

/* Bytes of the GEGL tiles that hold a w × h image at the origin. */
static guint64
tile_bytes (guint64 w, guint64 h, gint bpp, gint *tile_w, gint *tile_h)
{
  g_object_get (gegl_config (), "tile-width", tile_w, "tile-height", tile_h,
                NULL);
  return (w + (guint64) *tile_w - 1) / (guint64) *tile_w * (guint64) *tile_w *
         ((h + (guint64) *tile_h - 1) / (guint64) *tile_h) * (guint64) *tile_h *
         (guint64) bpp;
}

/* NULL when GEGL can hold a w × h image of h's elements without wasting
 * far more memory than its data; else a message saying what to do. */
static gchar *
thin_image_problem (const SegNpyHeader *h, guint64 w, guint64 rows)
{
  gint    tile_w, tile_h;
  guint64 tiles = tile_bytes (w, rows, h->item_size, &tile_w, &tile_h);
  gchar  *shape, *tiles_text, *data_text, *limit_text, *problem;

  if (tiles <= MAX_TILE_WASTE * h->data_size || tiles <= MAX_WASTED_TILE_BYTES)
    return NULL;
  shape      = seg_npy_shape_text (h);
  tiles_text = g_format_size (tiles);
  data_text  = g_format_size (h->data_size);
  limit_text = g_format_size (MAX_WASTED_TILE_BYTES);
  problem    = g_strdup_printf (
       _ ("the array %s is a %llu × %llu image, which "
             "GEGL would hold in %s of %d × %d tiles for "
             "%s of data (images this thin are refused "
             "above %s of tiles and %d times their data). "
             "Save it with at least %d rows and %d "
             "columns, for example a.reshape(-1, k) in "
             "NumPy for a k that divides its length"),
       shape, (unsigned long long) w, (unsigned long long) rows, tiles_text,
       tile_w, tile_h, data_text, limit_text, MAX_TILE_WASTE, tile_h, tile_w);
  g_free (limit_text);
  g_free (data_text);
  g_free (tiles_text);
  g_free (shape);
  return problem;
}

/* Bytes of memory the system can still give, from /proc/meminfo's
 * MemAvailable (free memory and what the page cache can drop); 0 when it
 * cannot be told. */
static guint64
memory_available (void)
{
  gchar       *text = NULL;
  const gchar *line;
  guint64      kib = 0;

  if (g_file_get_contents ("/proc/meminfo", &text, NULL, NULL) &&
      (line = strstr (text, "MemAvailable:")) != NULL)
    kib = g_ascii_strtoull (line + strlen ("MemAvailable:"), NULL, 10);
  g_free (text);
  return kib * 1024;
}

/* GEGL keeps at most tile-cache-size bytes of tiles in memory (512 MiB by
 * default) and compresses the rest into its swap file on disk: a 512 MiB
 * volume pooled once went through that file and took three times as
 * long.  A volume's pixels are the data of the job, so the cache is grown
 * to hold what it holds now and twice the volume's tiles (the volume and
 * what ops downstream make of it), within three quarters of the memory
 * the system has available.  It is never shrunk, and left as it is when
 * the user chose its size (GEGL_CACHE_SIZE). */
static void
make_room_in_cache (guint64 volume_tile_bytes)
{
  guint64 size, used, want, available;

  if (g_getenv ("GEGL_CACHE_SIZE") != NULL)
    return;
  g_object_get (gegl_config (), "tile-cache-size", &size, NULL);
  g_object_get (gegl_stats (), "tile-cache-total", &used, NULL);
  want      = used + 2 * volume_tile_bytes;
  available = memory_available () / 4 * 3;
  if (want > available)
    want = available;
  if (want > size)
    g_object_set (gegl_config (), "tile-cache-size", want, NULL);
}

/* The image that the header describes, or a problem (free it). */
static gchar *
image_of_header (const SegNpyHeader *h, GeglRectangle *extent)
{
  guint64 w = 1, rows = 1;
  gint    tile_w, tile_h;
  gchar  *shape, *problem;

  switch (h->n_dims)
    {
    case 0: break;
    case 1: w = h->shape[0]; break;
    case 2:
    case 3:
      /* C order (…, H, W): the last axis is x; Fortran order (X, Y, …):
       * the first.  Either way slices follow each other in memory. */
      w    = h->shape[h->fortran_order ? 0 : h->n_dims - 1];
      rows = h->n_items / MAX (w, 1);
      break;
    default:
      shape   = seg_npy_shape_text (h);
      problem = g_strdup_printf (_ ("the array has %d dimensions %s; "
                                    "seg:npy-load reads images (2) and "
                                    "volumes (3)"),
                                 h->n_dims, shape);
      g_free (shape);
      return problem;
    }

  if (h->n_items == 0)
    {
      shape   = seg_npy_shape_text (h);
      problem = g_strdup_printf (_ ("the array is empty %s"), shape);
      g_free (shape);
      return problem;
    }
  if (w > G_MAXINT || rows > G_MAXINT)
    {
      shape   = seg_npy_shape_text (h);
      problem = g_strdup_printf (_ ("the array %s is too large for a GEGL "
                                    "image (%llu × %llu pixels; at most %d "
                                    "on each side)"),
                                 shape, (unsigned long long) w,
                                 (unsigned long long) rows, G_MAXINT);
      g_free (shape);
      return problem;
    }
  if ((problem = thin_image_problem (h, w, rows)) != NULL)
    return problem;
  make_room_in_cache (tile_bytes (w, rows, h->item_size, &tile_w, &tile_h));
  extent->x      = 0;
  extent->y      = 0;
  extent->width  = (gint) w;
  extent->height = (gint) rows;
  return NULL;
}

/* The size and times of the open file; NULL when they cannot be had. */
static GFileInfo *
stamp_of (GInputStream *in)
{
  return g_file_input_stream_query_info (G_FILE_INPUT_STREAM (in),
                                         STAMP_ATTRIBUTES, NULL, NULL);
}

static gboolean
stamps_equal (GFileInfo *a, GFileInfo *b)
{
  return a != NULL && b != NULL &&
         g_file_info_get_size (a) == g_file_info_get_size (b) &&
         g_file_info_get_attribute_uint64 (a, G_FILE_ATTRIBUTE_TIME_MODIFIED) ==
           g_file_info_get_attribute_uint64 (b,
                                             G_FILE_ATTRIBUTE_TIME_MODIFIED) &&
         g_file_info_get_attribute_uint32 (
           a, G_FILE_ATTRIBUTE_TIME_MODIFIED_USEC) ==
           g_file_info_get_attribute_uint32 (
             b, G_FILE_ATTRIBUTE_TIME_MODIFIED_USEC);
}

/* Reads the header of path into f and keeps the file open; NULL, or the
 * problem (free it). */
static gchar *
npy_file_read (NpyFile *f, const gchar *path)
{
  goffset size    = 0;
  gchar  *problem = NULL;
  guint64 end;

  if ((f->in = seg_npy_open (path, &size, &problem)) == NULL)
    return problem;
  f->stamp = stamp_of (f->in);
  problem  = seg_npy_read_header (f->in, &f->header);
  if (problem == NULL)
    problem = image_of_header (&f->header, &f->extent);
  if (problem != NULL)
    return problem;

  end = (guint64) f->header.data_offset + f->header.data_size;
  if ((guint64) size < end)
    {
      gchar *shape = seg_npy_shape_text (&f->header);

      problem = g_strdup_printf (
        _ ("the data is cut short: the header "
           "announces %llu bytes (shape %s), the "
           "file holds %llu"),
        (unsigned long long) f->header.data_size, shape,
        (unsigned long long) MAX (0, size - (goffset) f->header.data_offset));
      g_free (shape);
      return problem;
    }

  f->format = seg_npy_format_of_dtype (&f->header);
  f->swap   = f->header.item_size > 1 &&
            f->header.big_endian != (G_BYTE_ORDER == G_BIG_ENDIAN);
  return NULL;
}

/* Warns about f's problem: message has a %s for the file's name, then one
 * for the problem. */
static void
npy_file_warn (const NpyFile *f, const gchar *path, const gchar *message)
{
  gchar *name = display_name (path);

  g_warning (message, name, f->problem);
  g_free (name);
}

/* The file that the path property names, its header read at the first
 * call after the path was set. */
static NpyFile *
npy_file (GeglOperation *operation)
{
  GeglProperties *o    = GEGL_PROPERTIES (operation);
  NpyFile        *f    = o->user_data;
  const gchar    *path = o->path ? o->path : "";

  if (f != NULL)
    return f;
  o->user_data = f = g_new0 (NpyFile, 1);
  /* No path yet: an empty image, as while a graph is being built. */
  if (*path != '\0')
    f->problem = npy_file_read (f, path);
  if (f->problem != NULL)
    {
      npy_file_warn (f, path, _ ("seg:npy-load: %s: %s. The output is empty."));
      f->extent.width = f->extent.height = 0;
      g_clear_object (&f->in);
    }
  return f;
}

/* Byte-swaps n elements of size bytes in place. */
static void
swap_elements (guint8 *data, gsize n, gint size)
{
  for (gsize i = 0; i < n; i++, data += size)
    {
      guint16 v16;
      guint32 v32;
      guint64 v64;

      switch (size)
        {
        case 2:
          memcpy (&v16, data, 2);
          v16 = GUINT16_SWAP_LE_BE (v16);
          memcpy (data, &v16, 2);
          break;
        case 4:
          memcpy (&v32, data, 4);
          v32 = GUINT32_SWAP_LE_BE (v32);
          memcpy (data, &v32, 4);
          break;
        case 8:
          memcpy (&v64, data, 8);
          v64 = GUINT64_SWAP_LE_BE (v64);
          memcpy (data, &v64, 8);
          break;
        }
    }
}

/* Copies roi from the file into output, piece by piece in file order. */
static gboolean
load_rows (const NpyFile       *f,
           GeglBuffer          *output,
           const GeglRectangle *roi,
           GError             **error)
{
  const gsize  bpp = (gsize) f->header.item_size;
  SegNpyPieces p;
  guint8      *band;
  gboolean     ok = TRUE;

  if ((band = seg_npy_pieces_init (&p, roi, f->extent.width, bpp, error)) ==
      NULL)
    return FALSE;
  while (ok && seg_npy_pieces_next (&p))
    {
      const gsize   n  = (gsize) p.piece.width * (gsize) p.piece.height;
      const goffset at = (goffset) f->header.data_offset +
                         (goffset) (((gsize) (p.piece.y - f->extent.y) *
                                       (gsize) f->extent.width +
                                     (gsize) (p.piece.x - f->extent.x)) *
                                    bpp);
      gssize got = seg_npy_read_at (f->in, at, band, n * bpp, error);

      if (got >= 0 && (gsize) got < n * bpp)
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                     _ ("the file ended early, at byte %lld"),
                     (long long) (at + got));
      ok = got >= 0 && (gsize) got == n * bpp;
      if (!ok)
        break;
      if (f->swap)
        swap_elements (band, n, (gint) bpp);
      gegl_buffer_set (output, &p.piece, 0, f->format, band,
                       (gint) ((gsize) p.piece.width * bpp));
    }
  g_free (band);
  return ok;
}

/* Fails when the file is no longer what its header described: rewritten
 * in place (shorter, or with other times) since the header was read. */
static gboolean
file_unchanged (const NpyFile *f, GError **error)
{
  GFileInfo *now  = stamp_of (f->in);
  gboolean   same = stamps_equal (f->stamp, now);

  g_clear_object (&now);
  if (!same)
    g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                         _ ("the file changed after its header was read"));
  return same;
}

/* Records and reports that the pixels are not the file's whole data. */
static void
npy_file_fail (NpyFile *f, const gchar *path, GError *error)
{
  g_free (f->problem);
  f->problem = g_strdup (error->message);
  npy_file_warn (f, path,
                 _ ("seg:npy-load: %s: %s. The output is "
                    "incomplete."));
  g_error_free (error);
}

/* Reads roi of the file into output, if the file is still what its
 * header described.  On failure the pixels that could not be read stay 0
 * and f->problem says why; the ops downstream that write files
 * (seg:npy-save) ask for it. */
static gboolean
npy_file_load (NpyFile             *f,
               const gchar         *path,
               GeglBuffer          *output,
               const GeglRectangle *roi)
{
  GError *error = NULL;

  if (file_unchanged (f, &error) && load_rows (f, output, roi, &error))
    return TRUE;
  npy_file_fail (f, path, error);
  return FALSE;
}

/* Slice height of a volume's rows (the middle axis, in C and in Fortran
 * order); 0 for an image. */
static gint
slice_height (const SegNpyHeader *h)
{
  return h->n_dims == 3 ? (gint) h->shape[1] : 0;
}

/* The file mapped as the image's tiles; NULL when it cannot be (other
 * byte order, rows too long, unaligned, no descriptor, no mapping), and
 * the file is read instead. */
static GeglBuffer *
map_pixels (const NpyFile *f)
{
  gint rows, fd;

  if (f->swap || !G_IS_FILE_DESCRIPTOR_BASED (f->in))
    return NULL;
  rows = seg_mapped_buffer_tile_rows (f->extent.width, f->header.item_size,
                                      slice_height (&f->header));
  fd   = g_file_descriptor_based_get_fd (G_FILE_DESCRIPTOR_BASED (f->in));
  return seg_mapped_buffer_new (fd, (goffset) f->header.data_offset, &f->extent,
                                f->format, rows);
}

/* The image, made once: the file mapped, or read whole into a buffer of
 * GEGL's tiles (npy_file_load () says what failed); empty without a
 * file. */
static GeglBuffer *
npy_file_pixels (NpyFile *f, const gchar *path)
{
  if (f->pixels != NULL)
    return f->pixels;
  if (f->in != NULL && file_unchanged (f, NULL) &&
      (f->pixels = map_pixels (f)) != NULL)
    {
      f->mapped = TRUE;
      return f->pixels;
    }
  f->pixels =
    gegl_buffer_new (&f->extent, f->format ? f->format : babl_format ("Y u8"));
  if (f->in != NULL)
    npy_file_load (f, path, f->pixels, &f->extent);
  return f->pixels;
}

/* Setting the path, even to the same value, reads the file again: it may
 * have been rewritten, as batch scripts do with one temporary name. */
static void
set_path (GObject      *object,
          guint         property_id,
          const GValue *value,
          GParamSpec   *pspec)
{
  GeglProperties *o = GEGL_PROPERTIES (object);

  npy_file_free (o->user_data);
  o->user_data = NULL;
  set_property (object, property_id, value, pspec);
}

/* TRUE when node's output goes straight into a sink that needs all of
 * its input at once (seg:npy-save, gegl:save, gegl:buffer-sink), through
 * gegl:nop nodes and the proxies of meta-ops.  GEGL's processor copies
 * what feeds such a sink into the feeding node's cache before the sink
 * runs, so the loader then reads the file into that cache itself: a
 * mapped image would be copied there, and held twice. */
static gboolean
feeds_whole_image_sink (GeglNode *node, gint nesting)
{
  GeglNode    **consumers = NULL;
  const gchar **pads      = NULL;
  gint          n = gegl_node_get_consumers (node, "output", &consumers, &pads);
  gboolean      found = FALSE;

  for (gint i = 0; i < n && !found && nesting < MAX_NESTING; i++)
    {
      GeglNode      *c     = consumers[i];
      GeglNode      *graph = g_object_get_data (G_OBJECT (c), PROXY_GRAPH_KEY);
      GeglOperation *op    = gegl_node_get_gegl_operation (graph ? graph : c);
      gchar         *name  = NULL;

      if (op != NULL && GEGL_IS_OPERATION_SINK (op))
        {
          found = gegl_operation_sink_needs_full (op);
          continue;
        }
      if (g_strcmp0 (gegl_node_get_operation (c), "gegl:nop") != 0)
        continue;
      /* A nop passes its input on: out of a meta-op through its output
       * proxy, or plainly. */
      g_object_get (c, "name", &name, NULL);
      found = feeds_whole_image_sink (
        graph != NULL && g_strcmp0 (name, OUTPUT_PROXY) == 0 ? graph : c,
        nesting + 1);
      g_free (name);
    }
  g_free (consumers);
  g_free (pads);
  return found;
}

static void
prepare (GeglOperation *operation)
{
  NpyFile *f = npy_file (operation);

  gegl_operation_set_format (operation, "output",
                             f->format ? f->format : babl_format ("Y u8"));
}

static GeglRectangle
get_bounding_box (GeglOperation *operation)
{
  return npy_file (operation)->extent;
}

/* The whole image is read at once, in file order, whatever is asked. */
static GeglRectangle
get_cached_region (GeglOperation *operation, const GeglRectangle *roi)
{
  return get_bounding_box (operation);
}

/* Reads roi of the file into the node's output (its cache, where a
 * whole-image sink will read it). */
static gboolean
load_into_target (NpyFile              *f,
                  const gchar          *path,
                  GeglOperationContext *context,
                  const GeglRectangle  *result)
{
  GeglBuffer   *output = gegl_operation_context_get_target (context, "output");
  GeglRectangle roi;

  if (f->in == NULL || !gegl_rectangle_intersect (&roi, &f->extent, result))
    return TRUE;
  return npy_file_load (f, path, output, &roi);
}

/* Hands the whole image on, whatever is asked: it is read (or mapped)
 * once, and no op may write into it (it may be the file's pages).  Only
 * for a sink that needs the whole image is it read into the node's
 * cache instead (feeds_whole_image_sink ()). */
static gboolean
operation_process (GeglOperation        *operation,
                   GeglOperationContext *context,
                   const gchar          *output_pad,
                   const GeglRectangle  *result,
                   gint                  level)
{
  GeglProperties *o = GEGL_PROPERTIES (operation);
  NpyFile        *f = npy_file (operation);
  GeglBuffer     *pixels;

  if (feeds_whole_image_sink (operation->node, 0))
    return load_into_target (f, o->path, context, result);
  pixels = npy_file_pixels (f, o->path);
  gegl_operation_context_take_object (context, "output",
                                      G_OBJECT (g_object_ref (pixels)));
  gegl_object_set_has_forked (G_OBJECT (pixels));
  return TRUE;
}

static void
finalize (GObject *object)
{
  GeglProperties *o = GEGL_PROPERTIES (object);

  npy_file_free (o->user_data);
  o->user_data = NULL;
  G_OBJECT_CLASS (gegl_op_parent_class)->finalize (object);
}

gboolean
seg_npy_load_state (GeglNode            *node,
                    const SegNpyHeader **header,
                    const gchar        **problem)
{
  GeglOperation *operation = gegl_node_get_gegl_operation (node);
  NpyFile       *f;

  if (operation == NULL ||
      !G_TYPE_CHECK_INSTANCE_TYPE (operation, gegl_op_seg_npy_load_get_type ()))
    return FALSE;
  f = GEGL_PROPERTIES (operation)->user_data;
  if (f == NULL || (f->in == NULL && f->problem == NULL))
    return FALSE;
  /* The pixels of a mapped file are read as the ops run: a file
   * rewritten in place meanwhile gave some of them from its new data. */
  if (f->mapped && f->problem == NULL)
    {
      GError *error = NULL;

      if (!file_unchanged (f, &error))
        npy_file_fail (f, GEGL_PROPERTIES (operation)->path, error);
    }
  *header  = &f->header;
  *problem = f->problem;
  return TRUE;
}

/* The stack the loaded file is (seg-stack.h): a 3-D array of D slices, or
 * a 2-, 1- or 0-D one, which seg:npy-save writes back as it was; depth 0
 * when no file is loaded. */
static SegStackOutput
loaded_stack (GeglOperation *operation)
{
  SegStackOutput      output = { 0, 2 };
  const SegNpyHeader *h;
  const gchar        *problem;

  if (seg_npy_load_state (operation->node, &h, &problem))
    {
      output.n_dims = h->n_dims;
      output.depth =
        h->n_dims == 3
          ? (gint) CLAMP (h->shape[h->fortran_order ? 2 : 0], 1, G_MAXINT)
          : 1;
    }
  return output;
}

static void
gegl_op_class_init (GeglOpClass *klass)
{
  GObjectClass       *object_class    = G_OBJECT_CLASS (klass);
  GeglOperationClass *operation_class = GEGL_OPERATION_CLASS (klass);

  object_class->set_property         = set_path;
  object_class->finalize             = finalize;
  operation_class->prepare           = prepare;
  operation_class->get_bounding_box  = get_bounding_box;
  operation_class->get_cached_region = get_cached_region;
  /* The image is handed on, or read into the node's cache; GEGL marks
   * the cache as computed only in the second case. */
  operation_class->process = operation_process;

  gegl_operation_class_set_keys (
    operation_class, "name", "seg:npy-load", "title", _ ("NumPy Volume Loader"),
    "categories", "hidden", "description",
    _ ("Loads a NumPy .npy file: a 2D array (H, W) as a W×H "
       "image, a 3D array (D, H, W) as a stack of D slices of "
       "W×H (Fortran order: (X, Y, Z)). Every dtype keeps "
       "every bit: unsigned, signed and 64-bit integers, "
       "booleans and floats."),
    NULL);

  gegl_operation_handlers_register_loader (".npy", "seg:npy-load");
  seg_stack_class_set_output (operation_class, loaded_stack);
}

#endif
