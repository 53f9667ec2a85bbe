/* SPDX-License-Identifier: LGPL-3.0-or-later
 *
 * seg:npy-save — writes its input to a NumPy .npy file in the input's own
 * format, with the dtype that holds it bit for bit (seg-npy-common.h), so
 * that labels of any width, 64-bit ones included, round-trip exactly.  An
 * image is written as (H, W), a stack of depth slices as (D, H, W), and
 * several components per pixel add a last axis C.  The file is written
 * under a temporary name beside the target, in bands of rows, and renamed
 * only once complete: a failure never leaves a partial file.  Nothing is
 * written when a source upstream failed (a gegl:load that renders its
 * error text, a seg:npy-load that could not read its file whole).
 * https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html
 */
#include "config.h"

#include <glib/gi18n-lib.h>

/* GEGL's property and op declarations, laid out as GEGL's own ops do. */
/* clang-format off */
#ifdef GEGL_PROPERTIES

property_file_path (path, _("File"), "")
  description (_("Path of the .npy file to write"))

property_int (depth, _("Depth"), 0)
  description (_("Number of slices in the input: a volume of D slices of "
                 "W×H pixels is a W×(H·D) image, written as a (D, H, W) "
                 "array. 1 writes an (H, W) image. 0 takes the shape from "
                 "the graph: a file loaded by seg:npy-load comes back in "
                 "its own shape (3-D, 2-D, 1-D or 0-D), the output of "
                 "seg:countless-3d, seg:mode-pool or seg:sparse-average "
                 "as a volume of its slices; anything else as (H, W)."))
  value_range (0, G_MAXINT)
  ui_range    (0, 1024)

#else

#define GEGL_OP_SINK
#define GEGL_OP_NAME     seg_npy_save
#define GEGL_OP_C_SOURCE seg-npy-save.c

#include "gegl-op.h"
/* clang-format on */

#include <string.h>

#include "seg-file-replace.h"
#include "seg-npy-common.h"
#include "seg-sink.h"
#include "seg-stack.h"
#include "seg-volume.h"

/* What to write: the array's header and the pixels' format. */
typedef struct
{
  SegNpyHeader  header;
  const Babl   *format; /* the format read from the input            */
  GeglRectangle extent;
} Array;

/* The array for extent of input, in the buffer's own format (gegl:save runs
 * its saver without preparing it); NULL, or a problem (free it). */
static gchar *
array_of_input (GeglOperation       *operation,
                GeglBuffer          *input,
                const GeglRectangle *extent,
                Array               *a)
{
  GeglProperties *o      = GEGL_PROPERTIES (operation);
  const Babl     *source = gegl_buffer_get_format (input);
  SegStackOutput  stack;
  gchar *problem = seg_sink_input (operation, extent, o->depth, &stack);
  gint   file_dims, components, n = 0;

  if (problem != NULL)
    return problem;
  /* 3 for a volume (a 3-D file straight from seg:npy-load, a pooled
   * stack), 0 or 1 for a 0-D or 1-D file, to be written so again; -1 for
   * an image, or a depth given by hand. */
  file_dims = stack.n_dims == 2 ? -1 : stack.n_dims;

  memset (a, 0, sizeof *a);
  a->format = seg_npy_dtype_of_format (source, &a->header);
  a->extent = *extent;
  components =
    babl_format_get_bytes_per_pixel (a->format) / a->header.item_size;

  /* An array straight from seg:npy-load keeps its number of dimensions:
   * a volume of one slice stays 3-D, a 1-D or 0-D array 1-D or 0-D. */
  if (file_dims == 0 && extent->width == 1 && extent->height == 1)
    a->header.n_dims = 0;
  else if (file_dims == 1 && extent->height == 1 && components == 1)
    {
      a->header.shape[0] = (guint64) extent->width;
      a->header.n_dims   = 1;
    }
  else
    {
      if (stack.depth > 1 || file_dims == 3)
        a->header.shape[n++] = (guint64) stack.depth;
      a->header.shape[n++] = (guint64) (extent->height / stack.depth);
      a->header.shape[n++] = (guint64) extent->width;
      if (components > 1)
        a->header.shape[n++] = (guint64) components;
      a->header.n_dims = n;
    }
  return NULL;
}

/* Writes the header, then the input's pixels, piece by piece in file
 * order. */
static gboolean
write_array (GOutputStream *out,
             const Array   *a,
             GeglBuffer    *input,
             GError       **error)
{
  const gsize bpp = (gsize) babl_format_get_bytes_per_pixel (a->format);
  guint8      header[SEG_NPY_WRITE_MAX_SIZE];
  gsize header_size = seg_npy_header_write (&a->header, header, sizeof header);
  SegNpyPieces p;
  guint8      *band;
  gboolean     ok = TRUE;

  g_assert (header_size > 0);
  if (!g_output_stream_write_all (out, header, header_size, NULL, NULL, error))
    return FALSE;

  if ((band = seg_npy_pieces_init (&p, &a->extent, a->extent.width, bpp,
                                   error)) == NULL)
    return FALSE;
  while (ok && seg_npy_pieces_next (&p))
    {
      const gsize row_bytes = (gsize) p.piece.width * bpp;

      gegl_buffer_get (input, &p.piece, 1.0, a->format, band, (gint) row_bytes,
                       GEGL_ABYSS_NONE);
      ok = g_output_stream_write_all (
        out, band, row_bytes * (gsize) p.piece.height, NULL, NULL, error);
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
  gegl_operation_set_format (
    operation, "input",
    seg_npy_dtype_of_format (source ? source : babl_format ("Y u8"), &h));
}

static gboolean
process (GeglOperation       *operation,
         GeglBuffer          *input,
         const GeglRectangle *result,
         gint                 level)
{
  GeglProperties *o = GEGL_PROPERTIES (operation);
  gchar          *problem;
  GError         *error = NULL;
  Array           a;

  if (!seg_sink_has_path ("seg:npy-save", o->path))
    return FALSE;
  problem = array_of_input (operation, input, result, &a);
  if (problem == NULL && !save (o->path, &a, input, &error))
    {
      problem =
        g_strdup_printf (_ ("cannot write the file: %s"), error->message);
      g_error_free (error);
    }
  return seg_sink_report ("seg:npy-save", o->path, problem);
}

static void
gegl_op_class_init (GeglOpClass *klass)
{
  GeglOperationClass     *operation_class = GEGL_OPERATION_CLASS (klass);
  GeglOperationSinkClass *sink_class      = GEGL_OPERATION_SINK_CLASS (klass);

  operation_class->prepare  = prepare;
  operation_class->threaded = FALSE;
  sink_class->process       = process;
  sink_class->needs_full    = TRUE;

  gegl_operation_class_set_keys (
    operation_class, "name", "seg:npy-save", "title", _ ("NumPy Volume Saver"),
    "categories", "output", "description",
    _ ("Saves the input as a NumPy .npy file in its own "
       "format, with the dtype that keeps every bit (uint64 "
       "labels included): (H, W) for an image, (D, H, W) for "
       "a stack of depth slices, with a last axis for several "
       "components. The file is written whole or not at all."),
    NULL);

  /* The .npy saver is registered by seg_npy_register_saver (). */
}

#endif
