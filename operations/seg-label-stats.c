/* SPDX-License-Identifier: LGPL-3.0-or-later
 *
 * seg:label-stats — a sink that writes, for every label of an image or a
 * stack, its count, bounding box, centroid and first row in the voxel
 * list to a CSV file, and optionally every labelled voxel's (z, y, x) to a
 * .npy file, grouped by label and in raster order within a label
 * (docs/semantics.md, "Label statistics"; docs/label-stats.md).
 *
 * Two passes over the input, both through the kernels of
 * lib/seg-label-stats.h:
 *  1. the input's tiles where they lie, in any order: counts, bounds and
 *     sums per label, in a table that grows with the number of labels;
 *  2. only with a voxel file: bands of whole rows in raster order, each
 *     voxel's coordinates written into its label's room in memory, which
 *     is written out to the label's place in the file whenever it fills
 *     (the places come from the counts of pass 1).
 * Memory is the table, one band and the rooms (256 MiB at most beyond a
 * few rows per label); the voxel file goes through the page cache, not
 * the process's own memory.  Both files are written under temporary names
 * and renamed into place together at the end.
 */
#include "config.h"

#include <glib/gi18n-lib.h>

/* clang-format off */
#ifdef GEGL_PROPERTIES

property_file_path (path, _("CSV file"), "")
  description (_("Path of the CSV file to write: a header row, then one "
                 "row per label, sorted by label: label, count, inclusive "
                 "bounds (x, y, z), centroid (x, y, z) and the label's "
                 "first row in the voxel file"))

property_file_path (voxels_path, _("Voxel file"), "")
  description (_("Path of a .npy file to write every labelled voxel's "
                 "(z, y, x) to, as an (N, 3) array of unsigned integers, "
                 "grouped by label in the CSV's order and in raster order "
                 "within a label. Empty: no voxel file."))

property_int (depth, _("Depth"), 0)
  description (_("Number of slices in the input: a volume of D slices of "
                 "W×H pixels is a W×(H·D) image. 1 counts an image. 0 "
                 "takes it from the graph: a volume loaded by "
                 "seg:npy-load, or made by a volume op, counts as its "
                 "slices; anything else as one image."))
  value_range (0, G_MAXINT)
  ui_range    (0, 1024)

property_boolean (sparse, _("Sparse"), TRUE)
  description (_("Leave out the background: pixels whose bytes are all "
                 "zero, and in formats with alpha transparent or black "
                 "pixels"))

#else

#define GEGL_OP_SINK
#define GEGL_OP_NAME     seg_label_stats
#define GEGL_OP_C_SOURCE seg-label-stats.c

#include "gegl-op.h"
/* clang-format on */

#include <string.h>

#include <glib/gstdio.h>

#include "seg-file-replace.h"
#include "seg-label-stats.h"
#include "seg-npy-common.h"
#include "seg-sink.h"

/* What both passes read. */
typedef struct
{
  GeglBuffer   *input;
  const Babl   *format; /* the input's own: labels are never converted */
  gint          bpp;
  gboolean      is_signed;
  GeglRectangle extent;
  gint          depth, slice_height;
} Input;

/* What a pass does with some rows of one slice, whose first voxel is
 * voxel (x, y, z) of the stack. */
typedef SegStatus (*SliceFn) (
  const SegVolume *rows, gint x, gint y, gint z, gpointer data);

/* Rows [y, y + height) of the input (from its top), width pixels from
 * column x, which lie at data, row_stride bytes apart: cut where slices
 * end and handed to fn slice by slice.  Stops at the first status other
 * than SEG_OK. */
static SegStatus
for_each_slice (const Input *in,
                guint8      *data,
                gsize        row_stride,
                gint         x,
                gint         y,
                gint         width,
                gint         height,
                SliceFn      fn,
                gpointer     fn_data)
{
  SegStatus status = SEG_OK;

  for (gint r = y; r < y + height && status == SEG_OK;)
    {
      const gint z    = r / in->slice_height;
      const gint end  = MIN (y + height, (z + 1) * in->slice_height);
      SegVolume  view = seg_volume_packed (data + (gsize) (r - y) * row_stride,
                                           width, end - r, 1, in->bpp);

      view.row_stride = (ptrdiff_t) row_stride;
      status          = fn (&view, x, r - z * in->slice_height, z, fn_data);
      r               = end;
    }
  return status;
}

/* ------------------------------------------------------------------------
 * Pass 1: the statistics
 * --------------------------------------------------------------------- */

static SegStatus
count_slice (const SegVolume *rows, gint x, gint y, gint z, gpointer stats)
{
  return seg_label_stats_add (stats, rows, x, y, z);
}

/* Every pixel of the input into stats, tile by tile where the tiles lie. */
static SegStatus
count_labels (const Input *in, SegLabelStats *stats)
{
  GeglBufferIterator *it;
  SegStatus           status = SEG_OK;

  it = gegl_buffer_iterator_new (in->input, &in->extent, 0, in->format,
                                 GEGL_ACCESS_READ, GEGL_ABYSS_NONE, 1);
  while (gegl_buffer_iterator_next (it))
    {
      const GeglRectangle *roi = &it->items[0].roi;

      status =
        for_each_slice (in, it->items[0].data, (gsize) roi->width * in->bpp,
                        roi->x - in->extent.x, roi->y - in->extent.y,
                        roi->width, roi->height, count_slice, stats);
      if (status != SEG_OK)
        {
          gegl_buffer_iterator_stop (it);
          break;
        }
    }
  return status;
}

/* ------------------------------------------------------------------------
 * Pass 2: the voxel lists
 * --------------------------------------------------------------------- */

/* Memory for the voxel list's rows on their way to the file, beyond
 * MIN_ROOM rows per label: each label gets a room in proportion to its
 * count, written out whenever it fills, so that a list far larger than
 * memory is written in a few large pieces per label. */
#define STAGING_BYTES ((gsize) 256 << 20)
#define MIN_ROOM      64

/* STAGING_BYTES, or for the tests, which must see rooms fill and flush on
 * small volumes, the environment's SEG_LABEL_STATS_STAGING_BYTES. */
static gsize
staging_bytes (void)
{
  const gchar *text  = g_getenv ("SEG_LABEL_STATS_STAGING_BYTES");
  guint64      bytes = 0;

  if (text != NULL &&
      g_ascii_string_to_unsigned (text, 10, 1, G_MAXSIZE, &bytes, NULL))
    return (gsize) bytes;
  return STAGING_BYTES;
}

typedef struct
{
  SegFileReplace      *file;
  guint64              data_offset; /* the list's first byte in the file     */
  gsize                row_bytes;
  const SegLabelStats *stats;
  const uint64_t      *first;   /* each label's first row in the list       */
  uint64_t            *written; /* rows of each label in the file so far     */
  uint64_t            *start;   /* each label's room in rows.rows            */
  uint64_t            *end;
  SegVoxelRows         rows;
  GError              *error;
} Staging;

/* Writes label k's room out and empties it. */
static bool
staging_flush (void *data, size_t k)
{
  Staging       *st = data;
  const uint64_t n  = st->rows.next[k] - st->start[k];

  if (n == 0)
    return true;
  if (st->error != NULL ||
      !seg_file_replace_write_at (
        st->file, st->rows.rows + st->start[k] * st->row_bytes,
        (gsize) n * st->row_bytes,
        st->data_offset + (st->first[k] + st->written[k]) * st->row_bytes,
        &st->error))
    return false;
  st->written[k] += n;
  st->rows.next[k] = st->start[k];
  return true;
}

/* Every label's room: all its rows when the whole list fits in
 * STAGING_BYTES, else its share of them, MIN_ROOM rows at least.  FALSE
 * when out of memory. */
static gboolean
staging_init (Staging             *st,
              const SegLabelStats *stats,
              uint64_t             n_rows,
              gsize                row_bytes)
{
  const gsize    n      = stats->labels.n;
  const uint64_t budget = MAX (staging_bytes () / row_bytes, 1);
  uint64_t       rooms  = 0;

  st->row_bytes = row_bytes;
  st->written   = g_try_new0 (uint64_t, MAX (n, 1));
  st->start     = g_try_new (uint64_t, MAX (n, 1));
  st->end       = g_try_new (uint64_t, MAX (n, 1));
  st->rows.next = g_try_new (uint64_t, MAX (n, 1));
  if (st->written == NULL || st->start == NULL || st->end == NULL ||
      st->rows.next == NULL)
    return FALSE;
  for (gsize k = 0; k < n; k++)
    {
      const uint64_t count = stats->stats[k].count;
      uint64_t       room  = count;

      if (n_rows > budget)
        room = MIN (count, MAX (MIN (MIN_ROOM, budget),
                                (uint64_t) ((double) count * (double) budget /
                                            (double) n_rows)));
      st->start[k] = st->rows.next[k] = rooms;
      rooms += room;
      st->end[k] = rooms;
    }
  st->rows.rows        = g_try_malloc (MAX (rooms, 1) * row_bytes);
  st->rows.end         = st->end;
  st->rows.flush       = staging_flush;
  st->rows.data        = st;
  st->rows.coord_bytes = (gint) (row_bytes / 3);
  return st->rows.rows != NULL;
}

static void
staging_clear (Staging *st)
{
  g_free (st->rows.rows);
  g_free (st->rows.next);
  g_free (st->end);
  g_free (st->start);
  g_free (st->written);
  g_clear_error (&st->error);
}

static SegStatus
list_slice (const SegVolume *rows, gint x, gint y, gint z, gpointer staging)
{
  Staging *st = staging;

  return seg_label_stats_list_rows (st->stats, rows, x, y, z, &st->rows);
}

/* Every counted voxel's coordinates into the list, in raster order: the
 * pieces the .npy ops copy in (bands of whole rows, parts of a row where
 * rows are longer than a band), copied out of the buffer. */
static SegStatus
list_voxels (const Input *in, Staging *st)
{
  SegNpyPieces p;
  guint8      *band   = seg_npy_pieces_init (&p, &in->extent, in->extent.width,
                                             (gsize) in->bpp, NULL);
  SegStatus    status = SEG_OK;

  if (band == NULL)
    return SEG_ENOMEM;
  while (status == SEG_OK && seg_npy_pieces_next (&p))
    {
      const gsize row_bytes = (gsize) p.piece.width * in->bpp;

      gegl_buffer_get (in->input, &p.piece, 1.0, in->format, band,
                       (gint) row_bytes, GEGL_ABYSS_NONE);
      status = for_each_slice (in, band, row_bytes, p.piece.x - in->extent.x,
                               p.piece.y - in->extent.y, p.piece.width,
                               p.piece.height, list_slice, st);
    }
  g_free (band);
  return status;
}

/* The bytes of one coordinate in the voxel file: 4 unless a coordinate
 * would not fit. */
static gint
coord_bytes_of (const Input *in)
{
  const gint64 largest =
    MAX (MAX (in->extent.width, in->slice_height), in->depth) - 1;

  return largest > (gint64) G_MAXUINT32 ? 8 : 4;
}

/* The voxel file of stats (n_rows labelled voxels, labels listed in
 * order), into file: its header, then pass 2 over the input, staged.
 * FALSE with error set when something fails. */
static gboolean
write_voxels (const Input         *in,
              const SegLabelStats *stats,
              const uint64_t      *first,
              uint64_t             n_rows,
              SegFileReplace      *file,
              GError             **error)
{
  const gint   coord_bytes = coord_bytes_of (in);
  const gsize  row_bytes   = 3 * (gsize) coord_bytes;
  SegNpyHeader h           = { 0 };
  guint8       header[SEG_NPY_WRITE_MAX_SIZE];
  gsize        header_size;
  Staging      st = { 0 };
  SegStatus    status;

  h.kind      = SEG_NPY_UINT;
  h.item_size = coord_bytes;
  h.n_dims    = 2;
  h.shape[0]  = n_rows;
  h.shape[1]  = 3;
  header_size = seg_npy_header_write (&h, header, sizeof header);
  g_assert (header_size > 0);
  if (!seg_file_replace_check_room (file, header_size + n_rows * row_bytes,
                                    error) ||
      !seg_file_replace_write_at (file, header, header_size, 0, error))
    return FALSE;
  if (n_rows == 0)
    return TRUE;

  st.file        = file;
  st.data_offset = header_size;
  st.stats       = stats;
  st.first       = first;
  if (!staging_init (&st, stats, n_rows, row_bytes))
    status = SEG_ENOMEM;
  else
    status = list_voxels (in, &st);
  for (gsize k = 0; status == SEG_OK && k < stats->labels.n; k++)
    if (!staging_flush (&st, k))
      status = SEG_EWRITE;

  /* Every label's rows must have reached its count: a buffer that changed
   * between the passes must not leave a list with holes or overlaps. */
  for (gsize k = 0; status == SEG_OK && k < stats->labels.n; k++)
    if (st.written[k] != stats->stats[k].count)
      status = SEG_EBADARG;
  if (status == SEG_EWRITE && st.error != NULL)
    g_propagate_error (error, g_steal_pointer (&st.error));
  else if (status == SEG_ENOMEM)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                 _ ("not enough memory to stage the voxel list"));
  else if (status != SEG_OK)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                 _ ("the input changed between the two passes over it"));
  staging_clear (&st);
  return status == SEG_OK;
}
/* ------------------------------------------------------------------------
 * The CSV
 * --------------------------------------------------------------------- */

static gboolean
write_csv (const SegLabelStats *stats,
           const size_t        *order,
           const uint64_t      *first,
           gboolean             is_signed,
           SegFileReplace      *file,
           GError             **error)
{
  GOutputStream *out = g_buffered_output_stream_new_sized (
    seg_file_replace_stream (file), 1 << 20);
  gchar    row[SEG_LABEL_STATS_CSV_ROW_MAX];
  gboolean ok;

  g_filter_output_stream_set_close_base_stream (G_FILTER_OUTPUT_STREAM (out),
                                                FALSE);
  ok = g_output_stream_write_all (out, SEG_LABEL_STATS_CSV_HEADER,
                                  strlen (SEG_LABEL_STATS_CSV_HEADER), NULL,
                                  NULL, error);
  for (gsize k = 0; ok && k < stats->labels.n; k++)
    {
      const gsize i = order[k];
      const gsize n = seg_label_stats_csv_row (
        stats, i, is_signed, first != NULL ? first[i] : 0, row);

      ok = g_output_stream_write_all (out, row, n, NULL, NULL, error);
    }
  ok = ok && g_output_stream_close (out, NULL, error);
  g_object_unref (out);
  return ok;
}

/* ------------------------------------------------------------------------
 * The op
 * --------------------------------------------------------------------- */

/* What the input is, or a problem (free it). */
static gchar *
input_of (GeglOperation       *operation,
          GeglBuffer          *buffer,
          const GeglRectangle *extent,
          Input               *in)
{
  GeglProperties *o = GEGL_PROPERTIES (operation);
  SegStackOutput  stack;
  SegNumbers      numbers;
  gchar *problem = seg_sink_input (operation, extent, o->depth, &stack);

  if (problem != NULL)
    return problem;

  memset (in, 0, sizeof *in);
  in->input  = buffer;
  in->format = gegl_buffer_get_format (buffer);
  in->bpp    = babl_format_get_bytes_per_pixel (in->format);
  in->extent = *extent;
  in->depth  = stack.depth;
  if (in->bpp < 1 || in->bpp > SEG_MAX_BPP)
    return g_strdup_printf (_ ("the input's pixels take %d bytes; labels "
                               "take 1 to %d"),
                            in->bpp, SEG_MAX_BPP);
  in->slice_height = extent->height / in->depth;
  in->is_signed = seg_format_numbers (in->format, &numbers) && numbers.n == 1 &&
                  numbers.kind == SEG_NPY_INT;
  return NULL;
}

/* A problem writing a file (free it), in GIO's or errno's words: the CSV
 * (voxels_path NULL), which the op's message names already, or the voxel
 * file at voxels_path; frees error. */
static gchar *
file_problem (const gchar *voxels_path, GError *error)
{
  gchar *name, *text;

  if (voxels_path == NULL)
    text = g_strdup_printf (_ ("cannot write the file: %s"), error->message);
  else
    {
      name = g_filename_display_name (voxels_path);
      text = g_strdup_printf (_ ("cannot write the voxel file %s: %s"), name,
                              error->message);
      g_free (name);
    }
  g_error_free (error);
  return text;
}

/* Both files of the input's statistics, renamed into place together;
 * voxels_path may be empty.  NULL, or a problem (free it); then no file
 * was written. */
static gchar *
write_statistics (const Input *in,
                  gboolean     sparse,
                  const gchar *path,
                  const gchar *voxels_path)
{
  const gboolean  with_voxels = *voxels_path != '\0';
  SegFileReplace *files[2]    = { NULL, NULL };
  SegLabelStats   stats;
  size_t         *order   = NULL;
  uint64_t       *first   = NULL, n_rows;
  GError         *error   = NULL;
  gchar          *problem = NULL;
  SegStatus       status;

  if (!seg_label_stats_init (&stats, in->bpp, sparse))
    return g_strdup (_ ("not enough memory for the table of labels"));
  stats.background = seg_format_background (in->format);
  if ((status = count_labels (in, &stats)) != SEG_OK)
    {
      problem = status == SEG_ENOMEM
                  ? g_strdup_printf (_ ("not enough memory for the table of "
                                        "%zu labels"),
                                     stats.labels.n)
                  : g_strdup_printf (_ ("the kernel failed (%s)"),
                                     seg_status_name (status));
      goto out;
    }
  order = seg_label_stats_order (&stats, in->is_signed);
  first = g_try_new (uint64_t, MAX (stats.labels.n, 1));
  if (order == NULL || first == NULL)
    {
      problem = g_strdup_printf (_ ("not enough memory to sort %zu labels"),
                                 stats.labels.n);
      goto out;
    }
  n_rows = seg_label_stats_first_rows (&stats, order, first);

  /* Both files begun before either is written: a voxel file that cannot
   * be made must not cost a pass over the input first. */
  if ((files[0] = seg_file_replace_begin (path, &error)) == NULL)
    problem = file_problem (NULL, error);
  else if (with_voxels &&
           ((files[1] = seg_file_replace_begin (voxels_path, &error)) == NULL ||
            !write_voxels (in, &stats, first, n_rows, files[1], &error)))
    problem = file_problem (voxels_path, error);
  else if (!write_csv (&stats, order, with_voxels ? first : NULL, in->is_signed,
                       files[0], &error))
    problem = file_problem (NULL, error);
  else
    {
      if (!seg_file_replace_commit_all (files, with_voxels ? 2 : 1, &error))
        problem = file_problem (NULL, error);
      files[0] = files[1] = NULL;
    }

out:
  for (gint i = 0; i < 2; i++)
    if (files[i] != NULL)
      seg_file_replace_abort (files[i]);
  free (order);
  g_free (first);
  seg_label_stats_free (&stats);
  return problem;
}

/* TRUE when a and b are one file: the same name, or names of one file that
 * exists. */
static gboolean
same_file (const gchar *a, const gchar *b)
{
  GStatBuf sa, sb;

  if (g_strcmp0 (a, b) == 0)
    return TRUE;
  return g_stat (a, &sa) == 0 && g_stat (b, &sb) == 0 &&
         sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

static void
prepare (GeglOperation *operation)
{
  const Babl *source = gegl_operation_get_source_format (operation, "input");

  /* The input's own format: labels are never converted. */
  gegl_operation_set_format (operation, "input",
                             source ? source : babl_format ("Y u8"));
}

static gboolean
process (GeglOperation       *operation,
         GeglBuffer          *input,
         const GeglRectangle *result,
         gint                 level)
{
  GeglProperties *o           = GEGL_PROPERTIES (operation);
  const gchar    *path        = o->path;
  const gchar    *voxels_path = o->voxels_path ? o->voxels_path : "";
  gchar          *problem;
  Input           in;

  if (!seg_sink_has_path ("seg:label-stats", path))
    return FALSE;
  problem = input_of (operation, input, result, &in);
  if (problem == NULL && *voxels_path != '\0' && same_file (path, voxels_path))
    problem = g_strdup (_ ("path and voxels-path name the same file; they "
                           "must name two"));
  if (problem == NULL)
    problem = write_statistics (&in, o->sparse, path, voxels_path);
  return seg_sink_report ("seg:label-stats", path, problem);
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
    operation_class, "name", "seg:label-stats", "title", _ ("Label Statistics"),
    "categories", "output:segmentation", "description",
    _ ("Writes every label's count, bounding box and centroid to a CSV "
       "file, and optionally every labelled voxel's (z, y, x) to a .npy "
       "file, grouped by label: for label images and stacks whose "
       "pixels, of any format, are opaque labels. Both files are written "
       "whole or not at all."),
    NULL);
}

#endif
