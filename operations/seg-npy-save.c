/* SPDX-License-Identifier: LGPL-3.0-or-later
 *
 * seg:npy-save — writes its input to a NumPy .npy file in the input's own
 * format, with the dtype that holds it bit for bit (seg-npy-common.h), so
 * that labels of any width, 64-bit ones included, round-trip exactly.  An
 * image is written as (H, W), a stack of depth slices as (D, H, W), and
 * several components per pixel add a last axis C.  The file is written
 * under a temporary name beside the target, in bands of rows, and renamed
 * only once complete: a failure never leaves a partial file.
 * https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html
 */
#include "config.h"

#include <glib/gi18n-lib.h>

#ifdef GEGL_PROPERTIES

property_file_path (path, _("File"), "")
  description (_("Path of the .npy file to write"))

property_int (depth, _("Depth"), 0)
  description (_("Number of slices in the input: a volume of D slices of "
                 "W×H pixels is a W×(H·D) image, written as a (D, H, W) "
                 "array. 1 writes an (H, W) image. 0 takes the depth from "
                 "the graph: that of a 3D file loaded by seg:npy-load, or "
                 "of the output of seg:countless-3d, seg:mode-pool or "
                 "seg:sparse-average, directly upstream; otherwise 1."))
  ui_range    (0, 1024)

#else

#define GEGL_OP_SINK
#define GEGL_OP_NAME     seg_npy_save
#define GEGL_OP_C_SOURCE seg-npy-save.c

#include "gegl-op.h"

#include <string.h>

#include "seg-file-replace.h"
#include "seg-npy-common.h"
#include "seg-volume.h"

/* Bytes fetched from the input and written per band. */
#define BAND_BYTES (4 * 1024 * 1024)

/* Nodes followed upstream at most when looking for the depth. */
#define MAX_UPSTREAM_STEPS 64

/* What to write: the array's header and the pixels' format. */
typedef struct
{
  SegNpyHeader   header;
  const Babl    *format;     /* the format read from the input            */
  GeglRectangle  extent;
  gsize          row_bytes;
} Array;

/* The node inside a graph or meta-op (gegl:load) that feeds its output;
 * NULL for a plain node. */
static GeglNode *
inner_source (GeglNode *node)
{
  GSList *children = gegl_node_get_children (node);

  if (children == NULL)
    return NULL;
  g_slist_free (children);
  return gegl_node_get_producer (gegl_node_get_output_proxy (node, "output"),
                                 "input", NULL);
}

static gboolean
is_op (GeglNode *node, const gchar *name)
{
  return g_strcmp0 (gegl_node_get_operation (node), name) == 0;
}

/* The slices of a 3D .npy file; 1 for other files. */
static gint
file_depth (GeglNode *load)
{
  gchar        *path = NULL, *problem = NULL;
  GInputStream *in;
  goffset       size;
  SegNpyHeader  h;
  gint          depth = 1;

  gegl_node_get (load, "path", &path, NULL);
  if (path != NULL && (in = seg_npy_open (path, &size, &problem)) != NULL)
    {
      problem = seg_npy_read_header (in, &h);
      if (problem == NULL && h.n_dims == 3)
        depth = (gint) MIN (h.shape[h.fortran_order ? 2 : 0], G_MAXINT);
      g_object_unref (in);
    }
  g_free (problem);
  g_free (path);
  return depth;
}

/* The stack depth of a seg: volume op's output, by the pooling ops' own
 * rule (seg_pooled_size); 0 when node is none. */
static gint
pooled_depth (GeglNode *node)
{
  gint depth = 0, fz = 1;

  if (is_op (node, "seg:countless-3d"))
    {
      gegl_node_get (node, "depth", &depth, NULL);
      fz = 2;
    }
  else if (is_op (node, "seg:mode-pool") || is_op (node, "seg:sparse-average"))
    gegl_node_get (node, "depth", &depth, "factor-z", &fz, NULL);
  else
    return 0;
  return depth >= 1 && fz >= 1 ? seg_pooled_size (depth, fz) : 1;
}

/* The depth that the graph gives the input (property depth = 0): follows
 * the input upstream through nops and into graphs and gegl:load, to the
 * first node that makes pixels.  Sets *failed_load to the path of a
 * gegl:load that could not load its file (it then renders an error text,
 * which is no data to save). */
static gint
upstream_depth (GeglOperation *operation, gchar **failed_load)
{
  GeglNode *node = gegl_node_get_producer (operation->node, "input", NULL);

  for (gint step = 0; node != NULL && step < MAX_UPSTREAM_STEPS; step++)
    {
      GeglNode *inner = inner_source (node);
      gint      depth;

      if (is_op (node, "gegl:load") && inner != NULL &&
          is_op (inner, "gegl:text"))
        {
          gegl_node_get (node, "path", failed_load, NULL);
          return 1;
        }
      if (inner != NULL)
        node = inner;
      else if (gegl_node_get_operation (node) == NULL ||
               is_op (node, "gegl:nop") || is_op (node, "gegl:clone"))
        node = gegl_node_get_producer (node, "input", NULL);
      else if (is_op (node, "seg:npy-load"))
        return file_depth (node);
      else if ((depth = pooled_depth (node)) > 0)
        return depth;
      else
        return 1;
    }
  return 1;
}

/* The array for extent of input, in the buffer's own format (gegl:save runs
 * its saver without preparing it); NULL, or a problem (free it). */
static gchar *
array_of_input (GeglOperation *operation, GeglBuffer *input,
                const GeglRectangle *extent, Array *a)
{
  GeglProperties *o = GEGL_PROPERTIES (operation);
  const Babl     *source = gegl_buffer_get_format (input);
  gchar          *failed_load = NULL;
  gint            depth = upstream_depth (operation, &failed_load);
  gint            components, n = 0;

  if (o->depth != 0)
    depth = o->depth;
  else if (extent->height > 0 && extent->height % depth != 0)
    depth = 1;   /* the graph changed the height after the volume op */
  if (failed_load != NULL)
    {
      gchar *problem = g_strdup_printf (_("the input comes from gegl:load, "
                                          "which could not load %s"),
                                        failed_load);

      g_free (failed_load);
      return problem;
    }
  if (extent->width <= 0 || extent->height <= 0)
    return g_strdup_printf (_("the input is empty (width %d, height %d)"),
                            MAX (extent->width, 0), MAX (extent->height, 0));
  if (depth < 1 || extent->height % depth != 0)
    return g_strdup_printf (_("depth is %d; it must be 0 (from the graph) "
                              "or a whole number that divides the input "
                              "height %d"), depth, extent->height);

  memset (a, 0, sizeof *a);
  a->format = seg_npy_dtype_of_format (source, &a->header);
  a->extent = *extent;
  components = babl_format_get_bytes_per_pixel (a->format) /
               a->header.item_size;
  a->row_bytes = (gsize) extent->width *
                 babl_format_get_bytes_per_pixel (a->format);

  if (depth > 1)
    a->header.shape[n++] = (guint64) depth;
  a->header.shape[n++] = (guint64) (extent->height / depth);
  a->header.shape[n++] = (guint64) extent->width;
  if (components > 1)
    a->header.shape[n++] = (guint64) components;
  a->header.n_dims = n;
  return NULL;
}

/* Writes the header, then the input's rows, band by band. */
static gboolean
write_array (GOutputStream *out, const Array *a, GeglBuffer *input,
             GError **error)
{
  guint8   header[SEG_NPY_WRITE_MAX_SIZE];
  gsize    header_size = seg_npy_header_write (&a->header, header,
                                               sizeof header);
  gint     rows_per_band = (gint) CLAMP (BAND_BYTES / a->row_bytes, 1,
                                         (gsize) a->extent.height);
  guint8  *band;
  gboolean ok;

  g_assert (header_size > 0);
  if (!g_output_stream_write_all (out, header, header_size, NULL, NULL,
                                  error))
    return FALSE;

  band = g_try_malloc (a->row_bytes * (gsize) rows_per_band);
  if (band == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   _("not enough memory for one row of %zu bytes"),
                   a->row_bytes);
      return FALSE;
    }
  ok = TRUE;
  for (gint y = 0; y < a->extent.height && ok; y += rows_per_band)
    {
      GeglRectangle rect = { a->extent.x, a->extent.y + y, a->extent.width,
                             MIN (rows_per_band, a->extent.height - y) };

      gegl_buffer_get (input, &rect, 1.0, a->format, band,
                       (gint) a->row_bytes, GEGL_ABYSS_NONE);
      ok = g_output_stream_write_all (out, band,
                                      a->row_bytes * (gsize) rect.height,
                                      NULL, NULL, error);
    }
  g_free (band);
  return ok;
}

/* Writes the array to path atomically: the rules for links, special
 * files, permissions and owners are seg-file-replace.h's. */
static gboolean
save (const gchar *path, const Array *a, GeglBuffer *input, GError **error)
{
  SegFileReplace *file = seg_file_replace_begin (path, error);

  if (file == NULL)
    return FALSE;
  if (!write_array (seg_file_replace_stream (file), a, input, error))
    {
      seg_file_replace_abort (file);
      return FALSE;
    }
  return seg_file_replace_commit (file, error);
}

static void
prepare (GeglOperation *operation)
{
  const Babl  *source = gegl_operation_get_source_format (operation, "input");
  SegNpyHeader h;

  /* The input's own format: labels must reach the file byte for byte. */
  gegl_operation_set_format (operation, "input",
                             seg_npy_dtype_of_format (source ? source :
                                                      babl_format ("Y u8"),
                                                      &h));
}

static gboolean
process (GeglOperation       *operation,
         GeglBuffer          *input,
         const GeglRectangle *result,
         gint                 level)
{
  GeglProperties *o = GEGL_PROPERTIES (operation);
  const gchar    *path = o->path ? o->path : "";
  gchar          *name, *problem;
  GError         *error = NULL;
  Array           a;

  if (*path == '\0')
    {
      g_warning (_("seg:npy-save: no path is set; nothing was written."));
      return FALSE;
    }
  name = g_filename_display_name (path);
  problem = array_of_input (operation, input, result, &a);
  if (problem == NULL && !save (path, &a, input, &error))
    {
      problem = g_strdup_printf (_("cannot write the file: %s"),
                                 error->message);
      g_error_free (error);
    }
  if (problem != NULL)
    g_warning (_("seg:npy-save: %s: %s. Nothing was written."),
               name, problem);
  g_free (problem);
  g_free (name);
  return problem == NULL;
}

static void
gegl_op_class_init (GeglOpClass *klass)
{
  GeglOperationClass     *operation_class = GEGL_OPERATION_CLASS (klass);
  GeglOperationSinkClass *sink_class = GEGL_OPERATION_SINK_CLASS (klass);

  operation_class->prepare  = prepare;
  operation_class->threaded = FALSE;
  sink_class->process       = process;
  sink_class->needs_full    = TRUE;

  gegl_operation_class_set_keys (operation_class,
    "name",        "seg:npy-save",
    "title",       _("NumPy Volume Saver"),
    "categories",  "output",
    "description", _("Saves the input as a NumPy .npy file in its own "
                     "format, with the dtype that keeps every bit (uint64 "
                     "labels included): (H, W) for an image, (D, H, W) for "
                     "a stack of depth slices, with a last axis for several "
                     "components. The file is written whole or not at all."),
    NULL);

  /* The .npy saver is registered by seg_npy_register_saver (). */
}

#endif
