/* SPDX-License-Identifier: LGPL-3.0-or-later */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "seg-npy-common.h"

/* The seg formats, registered with babl once per process. */
typedef struct
{
  const Babl *bool8, *int8, *int16, *int32, *int64, *uint64;
} Formats;

static const Babl *
one_component (const char *name, const char *type)
{
  return babl_format_new ("name", name, babl_model ("Y"), babl_type (type),
                          babl_component ("Y"), NULL);
}

/* 8-byte labels: babl has no 64-bit integer type, so two u32 components
 * hold the bytes, and babl's conversions (for display) see the first. */
static const Babl *
two_u32 (const char *name)
{
  return babl_format_new ("name", name, babl_model ("Y"), babl_type ("u32"),
                          babl_component ("Y"), babl_component ("Y"), NULL);
}

static gpointer
formats_register (gpointer data)
{
  Formats *f = data;

  f->bool8  = one_component ("seg bool", "u8");
  f->int8   = one_component ("seg int8", "u8");
  f->int16  = one_component ("seg int16", "u16");
  f->int32  = one_component ("seg int32", "u32");
  f->int64  = two_u32 ("seg int64");
  f->uint64 = two_u32 ("seg uint64");
  return f;
}

static const Formats *
formats (void)
{
  static Formats f;
  static GOnce   once = G_ONCE_INIT;

  return g_once (&once, formats_register, &f);
}

void
seg_npy_register_formats (void)
{
  formats ();
}

const Babl *
seg_npy_format_of_dtype (const SegNpyHeader *h)
{
  const Formats *f = formats ();

  switch (h->kind)
    {
    case SEG_NPY_BOOL: return f->bool8;
    case SEG_NPY_UINT:
      switch (h->item_size)
        {
        case 1: return babl_format ("Y u8");
        case 2: return babl_format ("Y u16");
        case 4: return babl_format ("Y u32");
        case 8: return f->uint64;
        }
      break;
    case SEG_NPY_INT:
      switch (h->item_size)
        {
        case 1: return f->int8;
        case 2: return f->int16;
        case 4: return f->int32;
        case 8: return f->int64;
        }
      break;
    case SEG_NPY_FLOAT:
      switch (h->item_size)
        {
        case 2: return babl_format ("Y half");
        case 4: return babl_format ("Y float");
        case 8: return babl_format ("Y double");
        }
      break;
    }
  return NULL;
}

/* Every type of number a pixel component can be: babl's own types by
 * name, then those only the seg formats hold. */
static const struct
{
  const gchar *babl_type;
  SegNumbers   numbers;
} number_types[] = {
  { "u8", { SEG_NPY_UINT, 1, SEG_TYPE_U8, 1 } },
  { "u16", { SEG_NPY_UINT, 2, SEG_TYPE_U16, 1 } },
  { "u32", { SEG_NPY_UINT, 4, SEG_TYPE_U32, 1 } },
  { "half", { SEG_NPY_FLOAT, 2, SEG_TYPE_HALF, 1 } },
  { "float", { SEG_NPY_FLOAT, 4, SEG_TYPE_FLOAT, 1 } },
  { "double", { SEG_NPY_FLOAT, 8, SEG_TYPE_DOUBLE, 1 } },
  { NULL, { SEG_NPY_BOOL, 1, SEG_TYPE_U8, 1 } }, /* 0 or 1 */
  { NULL, { SEG_NPY_INT, 1, SEG_TYPE_I8, 1 } },
  { NULL, { SEG_NPY_INT, 2, SEG_TYPE_I16, 1 } },
  { NULL, { SEG_NPY_INT, 4, SEG_TYPE_I32, 1 } },
  { NULL, { SEG_NPY_INT, 8, SEG_TYPE_I64, 1 } },
  { NULL, { SEG_NPY_UINT, 8, SEG_TYPE_U64, 1 } },
};

/* format as float of its own model (and space), or RGBA float. */
static const Babl *
float_format_like (const Babl *format)
{
  const Babl *space = babl_format_get_space (format);
  gchar      *name;
  const Babl *result;

  name   = g_strdup_printf ("%s float",
                            babl_get_name (babl_format_get_model (format)));
  result = babl_format_exists (name)
             ? babl_format_with_space (name, space)
             : babl_format_with_space ("RGBA float", space);
  g_free (name);
  return result;
}

/* TRUE when every component of format has the type of the first. */
static gboolean
one_component_type (const Babl *format)
{
  const Babl *type = babl_format_get_type (format, 0);

  for (gint i = 1; i < babl_format_get_n_components (format); i++)
    if (babl_format_get_type (format, i) != type)
      return FALSE;
  return TRUE;
}

gboolean
seg_npy_seg_format_dtype (const Babl *format, SegNpyKind *kind, gint *item_size)
{
  const Formats *f = formats ();
  const struct
  {
    const Babl *format;
    SegNpyKind  kind;
    gint        size;
  } named[] = {
    { f->bool8, SEG_NPY_BOOL, 1 }, { f->int8, SEG_NPY_INT, 1 },
    { f->int16, SEG_NPY_INT, 2 },  { f->int32, SEG_NPY_INT, 4 },
    { f->int64, SEG_NPY_INT, 8 },  { f->uint64, SEG_NPY_UINT, 8 },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (named); i++)
    if (format == named[i].format)
      {
        *kind      = named[i].kind;
        *item_size = named[i].size;
        return TRUE;
      }
  return FALSE;
}

gboolean
seg_format_numbers (const Babl *format, SegNumbers *numbers)
{
  SegNpyKind  kind;
  gint        size;
  const Babl *type;

  if (seg_npy_seg_format_dtype (format, &kind, &size))
    {
      for (gsize i = 0; i < G_N_ELEMENTS (number_types); i++)
        if (number_types[i].numbers.kind == kind &&
            number_types[i].numbers.size == size)
          {
            *numbers = number_types[i].numbers;
            return TRUE;
          }
      return FALSE;
    }

  if (babl_format_is_palette (format) || !one_component_type (format))
    return FALSE;
  type = babl_format_get_type (format, 0);
  for (gsize i = 0; i < G_N_ELEMENTS (number_types); i++)
    if (number_types[i].babl_type != NULL &&
        type == babl_type (number_types[i].babl_type))
      {
        *numbers   = number_types[i].numbers;
        numbers->n = babl_format_get_n_components (format);
        return TRUE;
      }
  return FALSE;
}

const Babl *
seg_npy_dtype_of_format (const Babl *format, SegNpyHeader *h)
{
  SegNumbers numbers;

  if (babl_format_is_palette (format))
    return seg_npy_dtype_of_format (babl_format ("R'G'B'A u8"), h);
  if (!seg_format_numbers (format, &numbers))
    return seg_npy_dtype_of_format (float_format_like (format), h);

  h->kind       = numbers.kind;
  h->item_size  = numbers.size;
  h->big_endian = numbers.size > 1 && G_BYTE_ORDER == G_BIG_ENDIAN;
  return format;
}

guint8 *
seg_npy_pieces_init (SegNpyPieces        *p,
                     const GeglRectangle *extent,
                     gint                 file_width,
                     gsize                bytes_per_pixel,
                     GError             **error)
{
  const gsize width = (gsize) MAX (extent->width, 1);
  gsize       band_bytes;
  guint8     *band;

  p->extent = *extent;
  p->columns =
    (gint) MIN (width, MAX (SEG_NPY_BAND_BYTES / bytes_per_pixel, 1));
  p->rows        = (gsize) p->columns < width || extent->width != file_width
                     ? 1
                     : (gint) CLAMP (SEG_NPY_BAND_BYTES / (bytes_per_pixel * width), 1,
                                     (gsize) MAX (extent->height, 1));
  p->piece.width = 0;

  band_bytes = bytes_per_pixel * (gsize) p->columns * (gsize) p->rows;
  band       = g_try_malloc (band_bytes);
  if (band == NULL)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                 _ ("not enough memory for a band of %zu bytes"), band_bytes);
  return band;
}

gboolean
seg_npy_pieces_next (SegNpyPieces *p)
{
  const GeglRectangle *e = &p->extent;
  gint                 x = p->piece.x + p->piece.width, y = p->piece.y;

  if (p->piece.width == 0)
    {
      x = e->x;
      y = e->y;
    }
  else if (x >= e->x + e->width)
    {
      x = e->x;
      y += p->piece.height;
    }
  if (e->width <= 0 || y >= e->y + e->height)
    return FALSE;
  p->piece.x      = x;
  p->piece.y      = y;
  p->piece.width  = MIN (p->columns, e->x + e->width - x);
  p->piece.height = MIN (p->rows, e->y + e->height - y);
  return TRUE;
}

/* What went wrong, without the path that GIO's messages repeat. */
static const gchar *
io_error_text (const GError *error)
{
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
    return _ ("there is no such file");
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED))
    return _ ("permission denied");
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_IS_DIRECTORY))
    return _ ("it is a folder");
  return error->message;
}

GInputStream *
seg_npy_open (const gchar *path, goffset *size, gchar **problem)
{
  GFile            *file  = g_file_new_for_path (path);
  GError           *error = NULL;
  GFileInputStream *in    = NULL;
  GFileInfo        *info;

  /* Only regular files: opening a FIFO would wait for a writer forever. */
  info = g_file_query_info (
    file, G_FILE_ATTRIBUTE_STANDARD_TYPE "," G_FILE_ATTRIBUTE_STANDARD_SIZE,
    G_FILE_QUERY_INFO_NONE, NULL, &error);
  if (info != NULL && g_file_info_get_file_type (info) == G_FILE_TYPE_REGULAR)
    in = g_file_read (file, NULL, &error);
  g_object_unref (file);

  if (in == NULL)
    {
      const gchar *why;

      if (info == NULL || error != NULL)
        why = io_error_text (error);
      else if (g_file_info_get_file_type (info) == G_FILE_TYPE_DIRECTORY)
        why = _ ("it is a folder");
      else
        why = _ ("it is not a regular file");
      *problem = g_strdup_printf (_ ("the file cannot be read: %s"), why);
      g_clear_error (&error);
      g_clear_object (&info);
      return NULL;
    }
  *size = g_file_info_get_size (info);
  g_object_unref (info);
  return G_INPUT_STREAM (in);
}

gssize
seg_npy_read_at (
  GInputStream *in, goffset offset, gpointer buf, gsize size, GError **error)
{
  gsize got = 0;

  if (!g_seekable_seek (G_SEEKABLE (in), offset, G_SEEK_SET, NULL, error) ||
      !g_input_stream_read_all (in, buf, size, &got, NULL, error))
    return -1;
  return (gssize) got;
}

gchar *
seg_npy_read_header (GInputStream *in, SegNpyHeader *h)
{
  guint8       prelude[SEG_NPY_PRELUDE_SIZE];
  gssize       got;
  GError      *error = NULL;
  gchar       *problem;
  SegNpyStatus status;

  got = seg_npy_read_at (in, 0, prelude, sizeof prelude, &error);
  if (got < 0)
    goto read_failed;
  status = seg_npy_header_parse (prelude, (gsize) got, h);

  /* The prelude tells the header's size (at most 1 MiB); read it all. */
  if (status == SEG_NPY_ETRUNCATED && h->data_offset > (gsize) got)
    {
      gsize   size  = h->data_offset;
      guint8 *whole = g_malloc (size);

      got = seg_npy_read_at (in, 0, whole, size, &error);
      if (got >= 0)
        status = seg_npy_header_parse (whole, (gsize) got, h);
      g_free (whole);
      if (got < 0)
        goto read_failed;
    }
  if (status == SEG_NPY_OK)
    return NULL;
  if (status == SEG_NPY_ETRUNCATED && h->data_offset > (gsize) got)
    return g_strdup_printf (_ ("the file ends inside the header: the header "
                               "takes %zu bytes, the file holds %zd"),
                            h->data_offset, (size_t) got);
  if (h->detail[0] != '\0')
    return g_strdup_printf ("%s (%s)", _ (h->reason), h->detail);
  return g_strdup (_ (h->reason));

read_failed:
  problem =
    g_strdup_printf (_ ("reading the header failed: %s"), error->message);
  g_error_free (error);
  return problem;
}

gchar *
seg_npy_shape_text (const SegNpyHeader *h)
{
  GString *s = g_string_new ("(");

  for (gint i = 0; i < h->n_dims; i++)
    g_string_append_printf (s, "%s%" G_GUINT64_FORMAT, i > 0 ? ", " : "",
                            (guint64) h->shape[i]);
  g_string_append (s, h->n_dims == 1 ? ",)" : ")");
  return g_string_free (s, FALSE);
}

/* Registering the saver.
 *
 * GEGL keeps one saver per extension, the last one registered, and ops
 * register theirs in class_init.  GEGL runs every class_init once, at the
 * first look-up of an op after the modules are loaded, walking the type
 * tree depth first: the children of GeglOperation in the order they were
 * registered, each with its whole subtree.  gegl:npy-save and seg:npy-save
 * are both children of GeglOperationSink, in the order their modules were
 * loaded, which depends on GEGL_PATH and on the order of files in a folder.
 * This abstract type is a child of GeglOperation registered after
 * GeglOperationSink (which seg:npy-save needs first), so its class_init
 * runs after that of every sink, gegl:npy-save included, and its
 * registration is the one that stays. */

typedef GeglOperation      SegNpySaverHandler;
typedef GeglOperationClass SegNpySaverHandlerClass;

GType seg_npy_saver_handler_get_type (void);

G_DEFINE_DYNAMIC_TYPE_EXTENDED (SegNpySaverHandler,
                                seg_npy_saver_handler,
                                GEGL_TYPE_OPERATION,
                                G_TYPE_FLAG_ABSTRACT,
                                {})

static void
seg_npy_saver_handler_class_init (SegNpySaverHandlerClass *klass)
{
  gegl_operation_handlers_register_saver (".npy", "seg:npy-save");
}

static void
seg_npy_saver_handler_class_finalize (SegNpySaverHandlerClass *klass)
{
}

static void
seg_npy_saver_handler_init (SegNpySaverHandler *self)
{
}

void
seg_npy_register_saver (GTypeModule *module)
{
  seg_npy_saver_handler_register_type (module);
}

gboolean
seg_format_layout (const Babl *format, SegPixelLayout *layout)
{
  SegNumbers    numbers;
  BablModelFlag flags;

  if (!seg_format_numbers (format, &numbers))
    return FALSE;

  /* GEGL's models keep alpha last.  Premultiplied (associated) alpha needs
   * no weighting: means and interpolations of premultiplied colours are
   * right as they are. */
  flags                = babl_get_model_flags (babl_format_get_model (format));
  layout->type         = numbers.type;
  layout->n_components = numbers.n;
  layout->alpha =
    (flags & BABL_MODEL_FLAG_ALPHA) && !(flags & BABL_MODEL_FLAG_ASSOCIATED)
      ? numbers.n - 1
      : -1;
  return TRUE;
}

SegBackground
seg_format_background (const Babl *format)
{
  const BablModelFlag flags =
    babl_get_model_flags (babl_format_get_model (format));
  const gint n   = babl_format_get_n_components (format);
  const gint bpp = babl_format_get_bytes_per_pixel (format);

  if (!(flags & BABL_MODEL_FLAG_ALPHA) || n < 2 || bpp % n != 0)
    return SEG_BACKGROUND_ZEROS;
  /* babl's own alpha formats have one component type; a format built
   * from mixed ones keeps the all-zero rule. */
  for (gint i = 1; i < n; i++)
    if (babl_format_get_type (format, i) != babl_format_get_type (format, 0))
      return SEG_BACKGROUND_ZEROS;
  return (SegBackground){ bpp - bpp / n, bpp / n };
}

const Babl *
seg_numbers_format (GeglOperation *operation)
{
  const Babl    *source = gegl_operation_get_source_format (operation, "input");
  SegPixelLayout layout;

  if (source != NULL && seg_format_layout (source, &layout))
    return source;
  return babl_format_with_space (
    "RGBA float", source ? babl_format_get_space (source) : NULL);
}
