/* SPDX-License-Identifier: LGPL-3.0-or-later
 *
 * seg:npy-load — a NumPy .npy file (format 1.0, 2.0 or 3.0) as a GEGL
 * image: a 2D array (H, W) is a W×H image, a 3D C-order array (D, H, W) a
 * stack of D slices of W×H (DESIGN.md's volume layout), and a Fortran-order
 * array (X, Y[, Z]) the same, its first axis being x.  Every dtype keeps
 * every bit (seg-npy-common.h); big-endian files are converted to the
 * host's order.  The file is read in bands of rows straight into the
 * node's cache, so the volume is held once.
 * https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html
 */
#include "config.h"

#include <glib/gi18n-lib.h>

#ifdef GEGL_PROPERTIES

property_file_path (path, _("File"), "")
  description (_("Path of the .npy file to load"))

#else

#define GEGL_OP_SOURCE
#define GEGL_OP_NAME     seg_npy_load
#define GEGL_OP_C_SOURCE seg-npy-load.c

#include "gegl-op.h"

#include <string.h>

#include "seg-npy-common.h"

/* Bytes read from the file per band. */
#define BAND_BYTES (4 * 1024 * 1024)

/* What the file at path holds, read by prepare. */
typedef struct
{
  gchar         *path;      /* the path the rest describes              */
  SegNpyHeader   header;
  GeglRectangle  extent;    /* empty when the file cannot be loaded     */
  const Babl    *format;
  gboolean       swap;      /* elements in the other byte order         */
} NpyFile;

static void
npy_file_free (NpyFile *f)
{
  if (f != NULL)
    g_free (f->path);
  g_free (f);
}

static gchar *
display_name (const gchar *path)
{
  return g_filename_display_name (path);
}

/* The image that the header describes, or a problem (free it). */
static gchar *
image_of_header (const SegNpyHeader *h, GeglRectangle *extent)
{
  guint64 w = 1, rows = 1;
  gchar  *shape, *problem;

  switch (h->n_dims)
    {
    case 0:
      break;
    case 1:
      w = h->shape[0];
      break;
    case 2:
    case 3:
      /* C order (…, H, W): the last axis is x; Fortran order (X, Y, …):
       * the first.  Either way slices follow each other in memory. */
      w    = h->shape[h->fortran_order ? 0 : h->n_dims - 1];
      rows = h->n_items / MAX (w, 1);
      break;
    default:
      shape = seg_npy_shape_text (h);
      problem = g_strdup_printf (_("the array has %d dimensions %s; "
                                   "seg:npy-load reads images (2) and "
                                   "volumes (3)"), h->n_dims, shape);
      g_free (shape);
      return problem;
    }

  if (h->n_items == 0)
    {
      shape = seg_npy_shape_text (h);
      problem = g_strdup_printf (_("the array is empty %s"), shape);
      g_free (shape);
      return problem;
    }
  if (w > G_MAXINT || rows > G_MAXINT)
    {
      shape = seg_npy_shape_text (h);
      problem = g_strdup_printf (_("the array %s is too large for a GEGL "
                                   "image (%llu × %llu pixels; at most %d "
                                   "on each side)"),
                                 shape, (unsigned long long) w,
                                 (unsigned long long) rows, G_MAXINT);
      g_free (shape);
      return problem;
    }
  extent->x      = 0;
  extent->y      = 0;
  extent->width  = (gint) w;
  extent->height = (gint) rows;
  return NULL;
}

/* Reads the header of path into f; NULL, or the problem (free it). */
static gchar *
npy_file_read (NpyFile *f, const gchar *path)
{
  GInputStream *in;
  goffset       size = 0;
  gchar        *problem = NULL;
  guint64       end;

  if ((in = seg_npy_open (path, &size, &problem)) == NULL)
    return problem;
  problem = seg_npy_read_header (in, &f->header);
  g_object_unref (in);
  if (problem == NULL)
    problem = image_of_header (&f->header, &f->extent);
  if (problem != NULL)
    return problem;

  end = (guint64) f->header.data_offset + f->header.data_size;
  if ((guint64) size < end)
    {
      gchar *shape = seg_npy_shape_text (&f->header);

      problem = g_strdup_printf (_("the data is cut short: the header "
                                   "announces %llu bytes (shape %s), the "
                                   "file holds %llu"),
                                 (unsigned long long) f->header.data_size,
                                 shape, (unsigned long long)
                                   MAX (0, size -
                                        (goffset) f->header.data_offset));
      g_free (shape);
      f->extent.width = f->extent.height = 0;
      return problem;
    }

  f->format = seg_npy_format_of_dtype (&f->header);
  f->swap   = f->header.item_size > 1 &&
              f->header.big_endian != (G_BYTE_ORDER == G_BIG_ENDIAN);
  return NULL;
}

/* The file that the path property names, read when the path changes; a
 * problem is reported once per path. */
static NpyFile *
npy_file (GeglOperation *operation)
{
  GeglProperties *o = GEGL_PROPERTIES (operation);
  NpyFile        *f = o->user_data;
  gchar          *problem = NULL;
  const gchar    *path = o->path ? o->path : "";

  if (f != NULL && g_strcmp0 (f->path, path) == 0)
    return f;

  npy_file_free (f);
  o->user_data = f = g_new0 (NpyFile, 1);
  f->path = g_strdup (path);
  /* No path yet: an empty image, as while a graph is being built. */
  if (*path != '\0')
    problem = npy_file_read (f, path);
  if (problem != NULL)
    {
      gchar *name = display_name (path);

      g_warning (_("seg:npy-load: %s: %s. The output is empty."),
                 name, problem);
      g_free (name);
      g_free (problem);
      f->extent.width = f->extent.height = 0;
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
get_cached_region (GeglOperation       *operation,
                   const GeglRectangle *roi)
{
  return get_bounding_box (operation);
}

/* Copies rows of roi from the file into output, band by band. */
static gboolean
load_rows (const NpyFile *f, GInputStream *in, GeglBuffer *output,
           const GeglRectangle *roi, GError **error)
{
  const gsize bpp       = (gsize) f->header.item_size;
  const gsize row_bytes = bpp * (gsize) f->extent.width;
  const gint  rows_per_band = (gint) CLAMP (BAND_BYTES / row_bytes, 1,
                                            (gsize) roi->height);
  guint8     *band = g_try_malloc (row_bytes * (gsize) rows_per_band);
  gboolean    ok = TRUE;

  if (band == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   _("not enough memory for one row of %zu bytes"),
                   row_bytes);
      return FALSE;
    }

  for (gint y = roi->y; y < roi->y + roi->height && ok; y += rows_per_band)
    {
      const gint    n = MIN (rows_per_band, roi->y + roi->height - y);
      const goffset at = (goffset) f->header.data_offset +
                         (goffset) (y - f->extent.y) * (goffset) row_bytes;
      const gsize   want = row_bytes * (gsize) n;
      GeglRectangle rect = { roi->x, y, roi->width, n };
      gssize        got = seg_npy_read_at (in, at, band, want, error);

      /* The file shrank since its header was read. */
      if (got >= 0 && (gsize) got < want)
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                     _("the file ended early, at byte %lld"),
                     (long long) (at + got));
      if (got < 0 || (gsize) got < want)
        {
          ok = FALSE;
          break;
        }
      if (f->swap)
        swap_elements (band, (gsize) f->extent.width * (gsize) n, (gint) bpp);
      gegl_buffer_set (output, &rect, 0, f->format,
                       band + (gsize) (roi->x - f->extent.x) * bpp,
                       (gint) row_bytes);
    }
  g_free (band);
  return ok;
}

static gboolean
process (GeglOperation       *operation,
         GeglBuffer          *output,
         const GeglRectangle *result,
         gint                 level)
{
  NpyFile       *f = npy_file (operation);
  GeglRectangle  roi;
  GInputStream  *in;
  goffset        size;
  gchar         *problem = NULL;
  GError        *error = NULL;
  gboolean       ok;

  if (!gegl_rectangle_intersect (&roi, &f->extent, result))
    return TRUE;

  in = seg_npy_open (f->path, &size, &problem);
  ok = in != NULL && load_rows (f, in, output, &roi, &error);
  if (!ok)
    {
      gchar *name = display_name (f->path);

      g_warning (_("seg:npy-load: %s: %s. The output is incomplete."),
                 name, problem ? problem : error->message);
      g_free (name);
    }
  g_clear_error (&error);
  g_free (problem);
  g_clear_object (&in);
  return ok;
}

static void
finalize (GObject *object)
{
  GeglProperties *o = GEGL_PROPERTIES (object);

  npy_file_free (o->user_data);
  o->user_data = NULL;
  G_OBJECT_CLASS (gegl_op_parent_class)->finalize (object);
}

static void
gegl_op_class_init (GeglOpClass *klass)
{
  GObjectClass             *object_class    = G_OBJECT_CLASS (klass);
  GeglOperationClass       *operation_class = GEGL_OPERATION_CLASS (klass);
  GeglOperationSourceClass *source_class    =
    GEGL_OPERATION_SOURCE_CLASS (klass);

  object_class->finalize             = finalize;
  operation_class->prepare           = prepare;
  operation_class->get_bounding_box  = get_bounding_box;
  operation_class->get_cached_region = get_cached_region;
  /* One reader, in file order. */
  operation_class->threaded          = FALSE;
  source_class->process              = process;

  gegl_operation_class_set_keys (operation_class,
    "name",        "seg:npy-load",
    "title",       _("NumPy Volume Loader"),
    "categories",  "hidden",
    "description", _("Loads a NumPy .npy file: a 2D array (H, W) as a W×H "
                     "image, a 3D array (D, H, W) as a stack of D slices of "
                     "W×H (Fortran order: (X, Y, Z)). Every dtype keeps "
                     "every bit: unsigned, signed and 64-bit integers, "
                     "booleans and floats."),
    NULL);

  gegl_operation_handlers_register_loader (".npy", "seg:npy-load");
}

#endif
