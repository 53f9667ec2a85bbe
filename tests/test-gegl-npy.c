/* SPDX-License-Identifier: LGPL-3.0-or-later
 *
 * seg:npy-load and seg:npy-save in GEGL graphs: the NumPy-written fixtures
 * of data/npy/ (every dtype, both orders, big-endian, versions 2.0 and 3.0)
 * load bit for bit and save back to what NumPy wrote, volumes larger than
 * one band, the depth taken from the graph, several components, formats
 * without a dtype, the seg formats through seg:countless-3d and display
 * conversions, and bad input: the malformed corpus of tests/npy-corpus/
 * and failed writes, each with a message and no file.
 *
 * Runs without forking (GEGL is initialised once, in main), with GEGL_PATH
 * holding our module then GEGL's own plug-ins.
 */
#include <check.h>
#include <gegl.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>

#include "gegl-harness.h"
#include "ref-mode-pool.h"
#include "seg-npy.h"

static gchar       *fixture_dir; /* data/npy          */
static gchar       *corpus_dir;  /* tests/npy-corpus  */
static const gchar *tmp_dir;

/* ------------------------------------------------------------------------
 * Files and buffers
 * --------------------------------------------------------------------- */

/* Byte j of every fixture's data in little-endian order
 * (data/npy/make-fixtures.py). */
static guint8
pattern_byte (gsize j, gboolean is_bool)
{
  return is_bool ? (guint8) (((j * 37 + 11) >> 2) & 1)
                 : (guint8) ((j * 37 + 11) & 0xff);
}

/* A node of op in graph with the properties given. */
static GeglNode *
node (GeglNode *graph, const gchar *op, const gchar *first_property, ...)
{
  GeglNode *n = gegl_node_new_child (graph, "operation", op, NULL);
  va_list   args;

  va_start (args, first_property);
  if (first_property != NULL)
    gegl_node_set_valist (n, first_property, args);
  va_end (args);
  return n;
}

/* What source renders, as a buffer in its own format (NULL when empty). */
static GeglBuffer *
render (GeglNode *graph, GeglNode *source)
{
  GeglBuffer *buffer = NULL;
  GeglNode   *sink = node (graph, "gegl:buffer-sink", "buffer", &buffer, NULL);

  gegl_node_link (source, sink);
  gegl_node_process (sink);
  return buffer;
}

/* path loaded by op ("seg:npy-load" or "gegl:load"). */
static GeglBuffer *
load (const gchar *op, const gchar *path)
{
  GeglNode   *graph  = gegl_node_new ();
  GeglBuffer *buffer = render (graph, node (graph, op, "path", path, NULL));

  g_object_unref (graph);
  return buffer;
}

/* Writes buffer to path with seg:npy-save (depth as given). */
static void
save (GeglBuffer *buffer, const gchar *path, gint depth)
{
  GeglNode *graph  = gegl_node_new ();
  GeglNode *source = node (graph, "gegl:buffer-source", "buffer", buffer, NULL);
  GeglNode *sink =
    node (graph, "seg:npy-save", "path", path, "depth", depth, NULL);

  gegl_node_link (source, sink);
  gegl_node_process (sink);
  g_object_unref (graph);
}

/* seg:npy-load of in → seg:npy-save to out, the shape from the graph; the
 * file written, which must parse. */
static GBytes *
load_and_save (const gchar *in, const gchar *out, SegNpyHeader *header)
{
  GeglNode *graph = gegl_node_new ();
  GeglNode *sink  = node (graph, "seg:npy-save", "path", out, NULL);
  GBytes   *saved;

  gegl_node_link (node (graph, "seg:npy-load", "path", in, NULL), sink);
  gegl_node_process (sink);
  g_object_unref (graph);
  saved   = file_bytes (out);
  *header = file_header (saved);
  return saved;
}

/* The buffer's pixels in its own format. */
static guint8 *
buffer_bytes (GeglBuffer *buffer, gsize *size)
{
  const GeglRectangle *extent = gegl_buffer_get_extent (buffer);
  const Babl          *format = gegl_buffer_get_format (buffer);
  guint8              *bytes;

  *size = (gsize) extent->width * extent->height *
          babl_format_get_bytes_per_pixel (format);
  bytes = g_malloc (*size);
  gegl_buffer_get (buffer, extent, 1.0, format, bytes, GEGL_AUTO_ROWSTRIDE,
                   GEGL_ABYSS_NONE);
  return bytes;
}

static GeglBuffer *
buffer_from (const gchar *format_name,
             gint         width,
             gint         height,
             const void  *pixels)
{
  const Babl   *format = babl_format (format_name);
  GeglRectangle rect   = { 0, 0, width, height };
  GeglBuffer   *buffer = gegl_buffer_new (&rect, format);

  gegl_buffer_set (buffer, &rect, 0, format, pixels, GEGL_AUTO_ROWSTRIDE);
  return buffer;
}

/* ------------------------------------------------------------------------
 * The fixtures
 * --------------------------------------------------------------------- */

typedef struct
{
  const gchar *name;   /* in data/npy/                          */
  const gchar *format; /* the babl format it loads in           */
  gint         width, height;
  gint         depth;       /* slices of a 3D array, else 1          */
  gboolean     numpy_bytes; /* C order, little-endian, version 1.0: a
                              * saved copy is the same file */
} Fixture;

static const Fixture fixtures[] = {
  { "b1-c.npy", "seg bool", 7, 15, 3, TRUE },
  { "u1-c.npy", "Y u8", 7, 15, 3, TRUE },
  { "u2-c.npy", "Y u16", 7, 15, 3, TRUE },
  { "u4-c.npy", "Y u32", 7, 15, 3, TRUE },
  { "u8-c.npy", "seg uint64", 7, 15, 3, TRUE },
  { "i1-c.npy", "seg int8", 7, 15, 3, TRUE },
  { "i2-c.npy", "seg int16", 7, 15, 3, TRUE },
  { "i4-c.npy", "seg int32", 7, 15, 3, TRUE },
  { "i8-c.npy", "seg int64", 7, 15, 3, TRUE },
  { "f2-c.npy", "Y half", 7, 15, 3, TRUE },
  { "f4-c.npy", "Y float", 7, 15, 3, TRUE },
  { "f8-c.npy", "Y double", 7, 15, 3, TRUE },
  { "b1-f.npy", "seg bool", 7, 15, 3, FALSE },
  { "u1-f.npy", "Y u8", 7, 15, 3, FALSE },
  { "u2-f.npy", "Y u16", 7, 15, 3, FALSE },
  { "u4-f.npy", "Y u32", 7, 15, 3, FALSE },
  { "u8-f.npy", "seg uint64", 7, 15, 3, FALSE },
  { "i1-f.npy", "seg int8", 7, 15, 3, FALSE },
  { "i2-f.npy", "seg int16", 7, 15, 3, FALSE },
  { "i4-f.npy", "seg int32", 7, 15, 3, FALSE },
  { "i8-f.npy", "seg int64", 7, 15, 3, FALSE },
  { "f2-f.npy", "Y half", 7, 15, 3, FALSE },
  { "f4-f.npy", "Y float", 7, 15, 3, FALSE },
  { "f8-f.npy", "Y double", 7, 15, 3, FALSE },
  { "u2-be.npy", "Y u16", 7, 15, 3, FALSE },
  { "u4-be.npy", "Y u32", 7, 15, 3, FALSE },
  { "u8-be.npy", "seg uint64", 7, 15, 3, FALSE },
  { "i2-be.npy", "seg int16", 7, 15, 3, FALSE },
  { "i4-be.npy", "seg int32", 7, 15, 3, FALSE },
  { "i8-be.npy", "seg int64", 7, 15, 3, FALSE },
  { "f2-be.npy", "Y half", 7, 15, 3, FALSE },
  { "f4-be.npy", "Y float", 7, 15, 3, FALSE },
  { "f8-be.npy", "Y double", 7, 15, 3, FALSE },
  { "u2-2d-c.npy", "Y u16", 7, 5, 1, TRUE },
  { "u2-2d-f.npy", "Y u16", 7, 5, 1, FALSE },
  { "u4-1d.npy", "Y u32", 11, 1, 1, FALSE },
  { "f8-0d.npy", "Y double", 1, 1, 1, FALSE },
  { "u4-v2.npy", "Y u32", 7, 15, 3, FALSE },
  { "u4-v3.npy", "Y u32", 7, 15, 3, FALSE },
};

static gchar *
fixture_path (const Fixture *f)
{
  return g_build_filename (fixture_dir, f->name, NULL);
}

static void
assert_pattern (const guint8 *bytes,
                gsize         size,
                gboolean      is_bool,
                const gchar  *what)
{
  for (gsize j = 0; j < size; j++)
    if (bytes[j] != pattern_byte (j, is_bool))
      ck_abort_msg ("%s: byte %zu is %u, want %u", what, j, bytes[j],
                    pattern_byte (j, is_bool));
}

static gboolean
is_bool (const Fixture *f)
{
  return f->name[0] == 'b';
}

START_TEST (test_fixture_loads_bit_for_bit)
{
  const Fixture       *f      = &fixtures[_i];
  gchar               *path   = fixture_path (f);
  GeglBuffer          *buffer = load ("seg:npy-load", path);
  const GeglRectangle *extent;
  guint8              *bytes;
  gsize                size;

  ck_assert_ptr_nonnull (buffer);
  extent = gegl_buffer_get_extent (buffer);
  ck_assert_str_eq (babl_get_name (gegl_buffer_get_format (buffer)), f->format);
  ck_assert_int_eq (extent->x, 0);
  ck_assert_int_eq (extent->y, 0);
  ck_assert_int_eq (extent->width, f->width);
  ck_assert_int_eq (extent->height, f->height);
  bytes = buffer_bytes (buffer, &size);
  if (G_BYTE_ORDER == G_LITTLE_ENDIAN)
    assert_pattern (bytes, size, is_bool (f), f->name);
  g_free (bytes);
  g_object_unref (buffer);
  g_free (path);
}
END_TEST

/* Load and save again: the dtype, the shape in C order (a Fortran file's
 * (X, Y, Z) becomes (Z, Y, X)), the same data bytes, and for files NumPy
 * wrote in C order and host order, the very same file. */
START_TEST (test_fixture_saves_back_what_numpy_wrote)
{
  const Fixture *f        = &fixtures[_i];
  gchar         *in       = fixture_path (f);
  gchar         *out      = tmp_path (f->name);
  GBytes        *original = file_bytes (in), *saved;
  GeglBuffer    *buffer   = load ("seg:npy-load", in);
  SegNpyHeader   want     = file_header (original), got;
  gint           n_dims   = want.n_dims;

  save (buffer, out, f->depth);
  saved = file_bytes (out);
  got   = file_header (saved);

  ck_assert_int_eq (got.kind, want.kind);
  ck_assert_int_eq (got.item_size, want.item_size);
  ck_assert_int_eq (got.big_endian,
                    G_BYTE_ORDER == G_BIG_ENDIAN && got.item_size > 1);
  ck_assert (!got.fortran_order);
  /* 0 and 1 dimensions come back as one image row. */
  ck_assert_int_eq (got.n_dims, MAX (n_dims, 2));
  for (gint i = 0; i < n_dims; i++)
    ck_assert_int_eq (got.shape[got.n_dims - n_dims + i],
                      want.shape[want.fortran_order ? n_dims - 1 - i : i]);
  if (G_BYTE_ORDER == G_LITTLE_ENDIAN)
    assert_pattern (file_data (saved, &got), got.data_size, is_bool (f),
                    f->name);
  if (f->numpy_bytes && G_BYTE_ORDER == G_LITTLE_ENDIAN)
    ck_assert_msg (g_bytes_equal (saved, original),
                   "%s: the saved file differs from NumPy's", f->name);

  g_bytes_unref (saved);
  g_bytes_unref (original);
  g_object_unref (buffer);
  g_unlink (out);
  g_free (out);
  g_free (in);
}
END_TEST

/* seg:npy-load → seg:npy-save with depth 0 takes the shape from the file:
 * the slices of a volume, and 0-D and 1-D arrays come back as they were,
 * byte for byte when NumPy wrote them in C order and host order. */
START_TEST (test_graph_round_trip_takes_shape_from_file)
{
  static const struct
  {
    const gchar *name;
    gint         n_dims;
    guint64      shape[3];
    gboolean     numpy_bytes;
  } cases[] = {
    { "u8-c.npy", 3, { 3, 5, 7 }, TRUE }, { "i2-f.npy", 3, { 3, 5, 7 }, FALSE },
    { "u2-2d-c.npy", 2, { 5, 7 }, TRUE }, { "u4-1d.npy", 1, { 11 }, TRUE },
    { "f8-0d.npy", 0, { 0 }, TRUE },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      gchar       *in  = g_build_filename (fixture_dir, cases[i].name, NULL);
      gchar       *out = tmp_path ("graph.npy");
      GBytes      *original = file_bytes (in);
      SegNpyHeader h;
      GBytes      *saved = load_and_save (in, out, &h);

      ck_assert_msg (h.n_dims == cases[i].n_dims, "%s: %d dimensions",
                     cases[i].name, h.n_dims);
      for (gint d = 0; d < h.n_dims; d++)
        ck_assert_int_eq (h.shape[d], cases[i].shape[d]);
      if (cases[i].numpy_bytes && G_BYTE_ORDER == G_LITTLE_ENDIAN)
        ck_assert_msg (g_bytes_equal (saved, original),
                       "%s: the saved file differs from NumPy's",
                       cases[i].name);
      g_bytes_unref (original);
      g_bytes_unref (saved);
      g_unlink (out);
      g_free (out);
      g_free (in);
    }
}
END_TEST

/* A volume of one slice, (1, H, W) or Fortran (X, Y, 1), comes back 3-D,
 * not as the (H, W) image that its depth of 1 would otherwise give. */
START_TEST (test_one_slice_volume_stays_3d)
{
  gchar       *in  = tmp_path ("one-slice.npy");
  gchar       *out = tmp_path ("one-slice-copy.npy");
  SegNpyHeader h   = { 0 }, got;
  GBytes      *saved;

  h.kind          = SEG_NPY_UINT;
  h.item_size     = 1;
  h.fortran_order = _i == 1;
  h.n_dims        = 3;
  h.shape[0]      = _i == 1 ? 4 : 1;
  h.shape[1]      = 3;
  h.shape[2]      = _i == 1 ? 1 : 4;
  h.data_size     = 12;
  file_write_npy (in, &h, "abcdefghijkl");
  saved = load_and_save (in, out, &got);
  ck_assert_int_eq (got.n_dims, 3);
  ck_assert_int_eq (got.shape[0], 1);
  ck_assert_int_eq (got.shape[1], 3);
  ck_assert_int_eq (got.shape[2], 4);
  ck_assert (memcmp (file_data (saved, &got), "abcdefghijkl", 12) == 0);

  g_bytes_unref (saved);
  g_unlink (in);
  g_unlink (out);
  g_free (out);
  g_free (in);
}
END_TEST

/* A volume pooled down to one slice is still a volume: (2, 4, 6) through
 * seg:countless-3d is saved as (1, 2, 3), as tinybrain gives it. */
START_TEST (test_volume_pooled_to_one_slice_stays_3d)
{
  gchar       *in    = tmp_path ("two-slices.npy");
  gchar       *out   = tmp_path ("one-slice-pooled.npy");
  GeglNode    *graph = gegl_node_new ();
  GeglNode    *sink  = node (graph, "seg:npy-save", "path", out, NULL);
  SegNpyHeader h     = { 0 }, got;
  guint8       data[48];
  GBytes      *saved;

  for (gsize i = 0; i < sizeof data; i++)
    data[i] = (guint8) (i / 2 % 5);
  h.kind      = SEG_NPY_UINT;
  h.item_size = 1;
  h.n_dims    = 3;
  h.shape[0]  = 2;
  h.shape[1]  = 4;
  h.shape[2]  = 6;
  h.data_size = sizeof data;
  file_write_npy (in, &h, data);
  gegl_node_link_many (node (graph, "seg:npy-load", "path", in, NULL),
                       node (graph, "seg:countless-3d", "depth", 2, NULL), sink,
                       NULL);
  gegl_node_process (sink);
  saved = file_bytes (out);
  got   = file_header (saved);
  ck_assert_int_eq (got.n_dims, 3);
  ck_assert_int_eq (got.shape[0], 1);
  ck_assert_int_eq (got.shape[1], 2);
  ck_assert_int_eq (got.shape[2], 3);

  g_bytes_unref (saved);
  g_object_unref (graph);
  g_unlink (in);
  g_unlink (out);
  g_free (out);
  g_free (in);
}
END_TEST

/* gegl:load finds seg:npy-load through the .npy extension. */
START_TEST (test_gegl_load_uses_npy_load)
{
  gchar      *path   = g_build_filename (fixture_dir, "i8-be.npy", NULL);
  GeglBuffer *buffer = load ("gegl:load", path);
  guint8     *bytes;
  gsize       size;

  ck_assert_ptr_nonnull (buffer);
  ck_assert_str_eq (babl_get_name (gegl_buffer_get_format (buffer)),
                    "seg int64");
  bytes = buffer_bytes (buffer, &size);
  ck_assert_int_eq (size, 105 * 8);
  if (G_BYTE_ORDER == G_LITTLE_ENDIAN)
    assert_pattern (bytes, size, FALSE, "i8-be.npy");
  g_free (bytes);
  g_object_unref (buffer);
  g_free (path);
}
END_TEST

/* ------------------------------------------------------------------------
 * Large volumes, parts, the seg formats in other ops
 * --------------------------------------------------------------------- */

/* A big-endian volume of several bands (about 10 MB): every pixel, and any
 * part rendered alone, comes out byte-swapped to host order. */
START_TEST (test_volume_of_many_bands_loads_whole_and_in_parts)
{
  const gint    w = 800, h = 300, d = 10;
  SegNpyHeader  header = { 0 };
  guint32      *values = g_new (guint32, (gsize) w * h * d);
  guint32      *file   = g_new (guint32, (gsize) w * h * d);
  gchar        *path   = tmp_path ("bands.npy");
  guint64       state  = 7;
  GeglNode     *graph  = gegl_node_new ();
  GeglNode     *loader;
  GeglRectangle part = { 123, 1234, 321, 1111 };
  guint32      *got  = g_new (guint32, (gsize) w * h * d);

  for (gsize i = 0; i < (gsize) w * h * d; i++)
    {
      values[i] = (guint32) splitmix64 (&state);
      file[i]   = GUINT32_TO_BE (values[i]);
    }
  header.kind       = SEG_NPY_INT;
  header.item_size  = 4;
  header.big_endian = TRUE;
  header.n_dims     = 3;
  header.shape[0]   = d;
  header.shape[1]   = h;
  header.shape[2]   = w;
  header.data_size  = (guint64) w * h * d * 4;
  file_write_npy (path, &header, file);

  loader = node (graph, "seg:npy-load", "path", path, NULL);
  /* A part first, then the whole. */
  gegl_node_blit (loader, 1.0, &part, babl_format ("seg int32"), got,
                  part.width * 4, GEGL_BLIT_DEFAULT);
  for (gint y = 0; y < part.height; y++)
    ck_assert (memcmp (got + (gsize) y * part.width,
                       values + (gsize) (part.y + y) * w + part.x,
                       (gsize) part.width * 4) == 0);
  {
    GeglRectangle all = { 0, 0, w, h * d };

    gegl_node_blit (loader, 1.0, &all, babl_format ("seg int32"), got,
                    GEGL_AUTO_ROWSTRIDE, GEGL_BLIT_DEFAULT);
    ck_assert (memcmp (got, values, (gsize) w * h * d * 4) == 0);
  }

  g_object_unref (graph);
  g_unlink (path);
  g_free (path);
  g_free (got);
  g_free (file);
  g_free (values);
}
END_TEST

/* 64-bit and signed 16-bit labels from .npy files through seg:countless-3d
 * back to .npy: the file holds the reference pooling, in the same dtype,
 * as a volume of half the slices. */
START_TEST (test_countless_3d_keeps_seg_formats)
{
  const gint   w = 13, h = 11, d = 6;
  const gint   sizes[]  = { 8, 2 };
  const gint   item     = sizes[_i];
  SegNpyHeader header   = { 0 };
  gsize        n        = (gsize) w * h * d;
  guint8      *in       = g_malloc (n * item);
  gchar       *in_path  = tmp_path ("labels-in.npy");
  gchar       *out_path = tmp_path ("labels-out.npy");
  guint64      state    = 99;
  GeglNode    *graph    = gegl_node_new ();
  GeglNode    *pool, *sink;
  GBytes      *saved;
  SegNpyHeader got;
  SegFactors   f = { 2, 2, 2 };
  SegVolume    in_view, want_view;
  guint8      *want;
  gsize        want_size = (gsize) 7 * 6 * 3 * item;

  /* Few labels, differing in their high bytes only. */
  for (gsize i = 0; i < n; i++)
    {
      guint64 label = (splitmix64 (&state) % 4) << (8 * item - 8);

      label |= (guint64) 0x5a;
      memcpy (in + i * item, &label, (gsize) item);
    }
  header.kind      = SEG_NPY_INT;
  header.item_size = item;
  header.n_dims    = 3;
  header.shape[0]  = d;
  header.shape[1]  = h;
  header.shape[2]  = w;
  header.data_size = n * item;
  file_write_npy (in_path, &header, in);

  pool = node (graph, "seg:countless-3d", "depth", d, NULL);
  sink = node (graph, "seg:npy-save", "path", out_path, NULL);
  gegl_node_link_many (node (graph, "seg:npy-load", "path", in_path, NULL),
                       pool, sink, NULL);
  gegl_node_process (sink);
  g_object_unref (graph);

  saved = file_bytes (out_path);
  got   = file_header (saved);
  ck_assert_int_eq (got.kind, SEG_NPY_INT);
  ck_assert_int_eq (got.item_size, item);
  ck_assert_int_eq (got.n_dims, 3);
  ck_assert_int_eq (got.shape[0], 3);
  ck_assert_int_eq (got.shape[1], 6);
  ck_assert_int_eq (got.shape[2], 7);

  want      = g_malloc (want_size);
  in_view   = seg_volume_packed (in, w, h, d, item);
  want_view = seg_volume_packed (want, 7, 6, 3, item);
  ref_mode_pool (&in_view, &want_view, &f, FALSE, SEG_BACKGROUND_ZEROS);
  ck_assert_int_eq (got.data_size, want_size);
  ck_assert (memcmp (file_data (saved, &got), want, want_size) == 0);

  g_free (want);
  g_bytes_unref (saved);
  g_unlink (in_path);
  g_unlink (out_path);
  g_free (in_path);
  g_free (out_path);
  g_free (in);
}
END_TEST

/* The seg formats convert for display (first component, as unsigned) and
 * back to the plain unsigned formats of their width. */
START_TEST (test_seg_formats_convert_for_display)
{
  static const struct
  {
    const gchar *format;
    guint8       pixel[8];
    guint8       grey;
  } cases[] = {
    { "seg bool", { 1 }, 1 },
    { "seg int8", { 0xff }, 255 },
    { "seg int16", { 0xff, 0xff }, 255 },
    { "seg int32", { 0xff, 0xff, 0xff, 0xff }, 255 },
    { "seg int32", { 0 }, 0 },
    { "seg int64", { 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0x80 }, 255 },
    { "seg uint64", { 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff }, 0 },
  };
  GeglBuffer *loaded;
  gchar      *path;

  /* The formats exist once the module has loaded a file. */
  path   = g_build_filename (fixture_dir, "b1-c.npy", NULL);
  loaded = load ("seg:npy-load", path);
  g_object_unref (loaded);
  g_free (path);

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      GeglBuffer   *b   = buffer_from (cases[i].format, 1, 1, cases[i].pixel);
      GeglRectangle one = { 0, 0, 1, 1 };
      guint8        rgba[4];
      guint8        back[8] = { 0 };

      ck_assert_int_eq (
        babl_format_get_bytes_per_pixel (babl_format (cases[i].format)),
        strcmp (cases[i].format, "seg int64") == 0 ||
            strcmp (cases[i].format, "seg uint64") == 0
          ? 8
        : strstr (cases[i].format, "32") ? 4
        : strstr (cases[i].format, "16") ? 2
                                         : 1);
      gegl_buffer_get (b, &one, 1.0, babl_format ("R'G'B'A u8"), rgba,
                       GEGL_AUTO_ROWSTRIDE, GEGL_ABYSS_NONE);
      if (strcmp (cases[i].format, "seg bool") != 0)
        ck_assert_int_eq (rgba[0], cases[i].grey);
      ck_assert_int_eq (rgba[3], 255);
      /* Read back in its own format: the same bytes. */
      gegl_buffer_get (b, &one, 1.0, babl_format (cases[i].format), back,
                       GEGL_AUTO_ROWSTRIDE, GEGL_ABYSS_NONE);
      ck_assert (memcmp (back, cases[i].pixel,
                         babl_format_get_bytes_per_pixel (
                           babl_format (cases[i].format))) == 0);
      g_object_unref (b);
    }
}
END_TEST

/* ------------------------------------------------------------------------
 * Saving images of other formats
 * --------------------------------------------------------------------- */

typedef struct
{
  const gchar *format;
  gint         depth;
  SegNpyKind   kind;
  gint         item_size;
  gint         n_dims;
  guint64      shape[4];
} SaveCase;

/* 6 × 4 images; with depth 2 a stack of 2 slices of 6 × 2. */
static const SaveCase save_cases[] = {
  { "R'G'B'A u8", 1, SEG_NPY_UINT, 1, 3, { 4, 6, 4 } },
  { "R'G'B' u8", 1, SEG_NPY_UINT, 1, 3, { 4, 6, 3 } },
  { "RGBA u16", 2, SEG_NPY_UINT, 2, 4, { 2, 2, 6, 4 } },
  { "Y'A u32", 1, SEG_NPY_UINT, 4, 3, { 4, 6, 2 } },
  { "RGB float", 1, SEG_NPY_FLOAT, 4, 3, { 4, 6, 3 } },
  { "RaGaBaA double", 2, SEG_NPY_FLOAT, 8, 4, { 2, 2, 6, 4 } },
  { "Y' half", 1, SEG_NPY_FLOAT, 2, 2, { 4, 6 } },
  { "Y u8", 4, SEG_NPY_UINT, 1, 3, { 4, 1, 6 } },
};

START_TEST (test_save_writes_components_in_their_own_type)
{
  const SaveCase *c      = &save_cases[_i];
  const Babl     *format = babl_format (c->format);
  const gint      bpp    = babl_format_get_bytes_per_pixel (format);
  guint8         *pixels = g_malloc (6 * 4 * bpp);
  gchar          *path   = tmp_path ("colour.npy");
  GeglBuffer     *buffer;
  GBytes         *saved;
  SegNpyHeader    h;

  for (gint i = 0; i < 6 * 4 * bpp; i++)
    pixels[i] = (guint8) (i * 7 + 3);
  buffer = buffer_from (c->format, 6, 4, pixels);
  save (buffer, path, c->depth);
  saved = file_bytes (path);
  h     = file_header (saved);
  ck_assert_int_eq (h.kind, c->kind);
  ck_assert_int_eq (h.item_size, c->item_size);
  ck_assert_int_eq (h.n_dims, c->n_dims);
  for (gint i = 0; i < c->n_dims; i++)
    ck_assert_int_eq (h.shape[i], c->shape[i]);
  ck_assert_int_eq (h.data_size, 6 * 4 * bpp);
  ck_assert (memcmp (file_data (saved, &h), pixels, 6 * 4 * bpp) == 0);

  g_bytes_unref (saved);
  g_object_unref (buffer);
  g_unlink (path);
  g_free (path);
  g_free (pixels);
}
END_TEST

/* A format whose types no dtype holds is written as float of its model. */
START_TEST (test_save_writes_other_types_as_float)
{
  const Babl  *lab = babl_format ("CIE Lab u8");
  guint8       pixels[5 * 2 * 3];
  gfloat       want[5 * 2 * 3];
  gchar       *path = tmp_path ("lab.npy");
  GeglBuffer  *buffer;
  GBytes      *saved;
  SegNpyHeader h;

  for (gsize i = 0; i < sizeof pixels; i++)
    pixels[i] = (guint8) (i * 11);
  buffer = buffer_from ("CIE Lab u8", 5, 2, pixels);
  babl_process (babl_fish (lab, babl_format ("CIE Lab float")), pixels, want,
                10);
  save (buffer, path, 1);
  saved = file_bytes (path);
  h     = file_header (saved);
  ck_assert_int_eq (h.kind, SEG_NPY_FLOAT);
  ck_assert_int_eq (h.item_size, 4);
  ck_assert_int_eq (h.n_dims, 3);
  ck_assert_int_eq (h.shape[2], 3);
  ck_assert (memcmp (file_data (saved, &h), want, sizeof want) == 0);
  g_bytes_unref (saved);
  g_object_unref (buffer);
  g_unlink (path);
  g_free (path);
}
END_TEST

/* The input's extent is written, wherever it lies. */
START_TEST (test_save_writes_translated_input)
{
  guint16      pixels[4 * 3];
  gchar       *path = tmp_path ("moved.npy");
  GeglBuffer  *buffer;
  GeglNode    *graph = gegl_node_new ();
  GeglNode    *sink  = node (graph, "seg:npy-save", "path", path, NULL);
  GBytes      *saved;
  SegNpyHeader h;

  for (gint i = 0; i < 12; i++)
    pixels[i] = (guint16) (1000 + i);
  buffer = buffer_from ("Y u16", 4, 3, pixels);
  gegl_node_link_many (
    node (graph, "gegl:buffer-source", "buffer", buffer, NULL),
    node (graph, "gegl:translate", "x", -17.0, "y", 5.0, NULL), sink, NULL);
  gegl_node_process (sink);
  g_object_unref (graph);
  saved = file_bytes (path);
  h     = file_header (saved);
  ck_assert_int_eq (h.shape[0], 3);
  ck_assert_int_eq (h.shape[1], 4);
  ck_assert (memcmp (file_data (saved, &h), pixels, sizeof pixels) == 0);
  g_bytes_unref (saved);
  g_object_unref (buffer);
  g_unlink (path);
  g_free (path);
}
END_TEST

/* ------------------------------------------------------------------------
 * Bad input and failed writes
 * --------------------------------------------------------------------- */

/* Every file of the corpus through seg:npy-load: ok-* load (their data is
 * 0, 1, 2 …), bad-* and op-* give an empty image and one message that names
 * the op and the file, fuzz-* one or the other; nothing crashes. */
START_TEST (test_corpus_through_npy_load)
{
  GDir        *dir = g_dir_open (corpus_dir, 0, NULL);
  const gchar *name;

  ck_assert_ptr_nonnull (dir);
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      gchar        *path = g_build_filename (corpus_dir, name, NULL);
      GeglNode     *graph, *loader;
      GeglBuffer   *buffer;
      GeglRectangle box;
      gchar        *log;

      /* GEGL asks for the extent as soon as the path is set. */
      log_capture_begin ();
      graph  = gegl_node_new ();
      loader = node (graph, "seg:npy-load", "path", path, NULL);
      box    = gegl_node_get_bounding_box (loader);
      buffer = box.width > 0 ? render (graph, loader) : NULL;
      log    = log_capture_end ();

      if (g_str_has_prefix (name, "ok-") ||
          (g_str_has_prefix (name, "fuzz-") && box.width > 0))
        {
          guint8 *bytes;
          gsize   size;

          ck_assert_msg (log[0] == '\0', "%s: %s", name, log);
          ck_assert_msg (box.width > 0 && box.height > 0, "%s is empty", name);
          bytes = buffer_bytes (buffer, &size);
          for (gsize j = 0; j < size && g_str_has_prefix (name, "ok-"); j++)
            ck_assert_msg (bytes[j] == (guint8) j, "%s: byte %zu", name, j);
          g_free (bytes);
        }
      else
        {
          gchar *first;

          ck_assert_msg (box.width == 0 || box.height == 0, "%s: %d × %d", name,
                         box.width, box.height);
          assert_has (log, "seg:npy-load: ");
          assert_has (log, name);
          first = strstr (log, "seg:npy-load: ");
          ck_assert_msg (strstr (first + 1, "seg:npy-load: ") == NULL,
                         "%s: more than one message: %s", name, log);
        }
      g_clear_object (&buffer);
      g_object_unref (graph);
      g_free (log);
      g_free (path);
    }
  g_dir_close (dir);
}
END_TEST

START_TEST (test_unreadable_paths_are_reported)
{
  static const struct
  {
    const gchar *path;
    const gchar *problem;
  } cases[] = {
    { "/nonexistent/volume.npy", "no such file" },
    { "/", "folder" },
    { "/dev/null", "not a regular file" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      GeglNode     *graph, *loader;
      GeglRectangle box;
      gchar        *log;

      log_capture_begin ();
      graph  = gegl_node_new ();
      loader = node (graph, "seg:npy-load", "path", cases[i].path, NULL);
      box    = gegl_node_get_bounding_box (loader);
      log    = log_capture_end ();
      ck_assert_int_eq (box.width, 0);
      assert_has (log, "seg:npy-load");
      assert_has (log, cases[i].path);
      assert_has (log, cases[i].problem);
      g_object_unref (graph);
      g_free (log);
    }
}
END_TEST

START_TEST (test_no_path_is_silent)
{
  GeglNode     *graph, *loader;
  GeglRectangle box;
  gchar        *log;

  log_capture_begin ();
  graph  = gegl_node_new ();
  loader = node (graph, "seg:npy-load", NULL);
  box    = gegl_node_get_bounding_box (loader);
  log    = log_capture_end ();
  ck_assert_int_eq (box.width, 0);
  ck_assert_str_eq (log, "");
  g_object_unref (graph);
  g_free (log);
}
END_TEST

/* Files in dir whose name starts with prefix. */
static gint
count_files (const gchar *dir_path, const gchar *prefix)
{
  GDir        *dir = g_dir_open (dir_path, 0, NULL);
  const gchar *name;
  gint         n = 0;

  while (dir && (name = g_dir_read_name (dir)) != NULL)
    n += g_str_has_prefix (name, prefix);
  if (dir)
    g_dir_close (dir);
  return n;
}

/* A save that cannot be served: a message naming the op, the file and the
 * problem; the file that was there is untouched, no temporary file stays. */
static void
assert_save_refused (GeglBuffer  *buffer,
                     const gchar *path,
                     gint         depth,
                     const gchar *problem)
{
  const gchar *old      = "the file that was there";
  gchar       *contents = NULL;
  gchar       *log;
  gboolean     existed = g_file_test (path, G_FILE_TEST_IS_REGULAR);

  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    {
      gchar *dir = g_path_get_dirname (path);

      if (g_file_test (dir, G_FILE_TEST_IS_DIR))
        {
          ck_assert (g_file_set_contents (path, old, -1, NULL));
          existed = TRUE;
        }
      g_free (dir);
    }
  log_capture_begin ();
  save (buffer, path, depth);
  log = log_capture_end ();

  assert_has (log, "seg:npy-save");
  assert_has (log, path);
  assert_has (log, problem);
  if (existed)
    {
      ck_assert (g_file_get_contents (path, &contents, NULL, NULL));
      ck_assert_str_eq (contents, old);
      g_unlink (path);
    }
  ck_assert_int_eq (count_files (tmp_dir, "."), 0);
  g_free (contents);
  g_free (log);
}

START_TEST (test_save_refuses_depth_that_does_not_divide)
{
  guint16     pixels[7 * 15] = { 0 };
  GeglBuffer *buffer         = buffer_from ("Y u16", 7, 15, pixels);
  gchar      *path           = tmp_path ("depth.npy");

  assert_save_refused (buffer, path, 4, "depth is 4");
  assert_save_refused (buffer, path, 4, "15");
  /* Negative depths never reach the op: its GParamSpec starts at 0. */
  ck_assert_int_eq (
    G_PARAM_SPEC_INT (gegl_operation_find_property ("seg:npy-save", "depth"))
      ->minimum,
    0);
  g_object_unref (buffer);
  g_free (path);
}
END_TEST

START_TEST (test_failed_write_leaves_no_file)
{
  guint8      pixels[16] = { 1, 2, 3 };
  GeglBuffer *buffer     = buffer_from ("Y u8", 4, 4, pixels);
  gchar      *folder     = tmp_path ("a-folder.npy");
  gchar      *missing    = tmp_path ("no-such-folder/out.npy");

  /* The target is a folder: the rename fails after the data is written. */
  ck_assert_int_eq (g_mkdir (folder, 0755), 0);
  assert_save_refused (buffer, folder, 1, "cannot write");
  ck_assert (g_file_test (folder, G_FILE_TEST_IS_DIR));
  ck_assert_int_eq (g_rmdir (folder), 0);
  /* The folder does not exist: nothing can be created. */
  assert_save_refused (buffer, missing, 1, "cannot write");
  ck_assert (!g_file_test (missing, G_FILE_TEST_EXISTS));

  g_object_unref (buffer);
  g_free (missing);
  g_free (folder);
}
END_TEST

/* An existing file is replaced whole. */
START_TEST (test_save_replaces_existing_file)
{
  guint8       pixels[6] = { 9, 8, 7, 6, 5, 4 };
  GeglBuffer  *buffer    = buffer_from ("Y u8", 3, 2, pixels);
  gchar       *path      = tmp_path ("replace.npy");
  GBytes      *saved;
  SegNpyHeader h;

  ck_assert (g_file_set_contents (path,
                                  "old contents, longer than the new "
                                  "file's data but not its header",
                                  -1, NULL));
  save (buffer, path, 1);
  saved = file_bytes (path);
  h     = file_header (saved);
  ck_assert (memcmp (file_data (saved, &h), pixels, 6) == 0);
  ck_assert_int_eq (count_files (tmp_dir, "."), 0);
  g_bytes_unref (saved);
  g_object_unref (buffer);
  g_unlink (path);
  g_free (path);
}
END_TEST

/* ------------------------------------------------------------------------
 * Files that change under the loader, sources that fail
 * --------------------------------------------------------------------- */

/* A new file at path holding a (height, width) array of item-byte
 * elements whose element j holds first + j in its low byte and item << 4
 * in its high byte. */
static void
write_array_file (
  const gchar *path, gint height, gint width, gint item, guint8 first)
{
  SegNpyHeader h     = { 0 };
  gsize        n     = (gsize) width * height;
  guint8      *data  = g_malloc0 (n * item);
  gchar       *fresh = g_strconcat (path, ".new", NULL);

  for (gsize j = 0; j < n; j++)
    {
      data[j * item] = (guint8) (first + j);
      if (item > 1)
        data[j * item + item - 1] = (guint8) (item << 4);
    }
  h.kind      = SEG_NPY_UINT;
  h.item_size = item;
  h.n_dims    = 2;
  h.shape[0]  = (guint64) height;
  h.shape[1]  = (guint64) width;
  h.data_size = n * item;
  file_write_npy (fresh, &h, data);
  /* A new file under the name, as programs that save safely make. */
  ck_assert_int_eq (g_rename (fresh, path), 0);
  g_free (fresh);
  g_free (data);
}

/* Cuts the file at path to size bytes, in place (the same file). */
static void
truncate_in_place (const gchar *path, goffset size)
{
  GFile         *file = g_file_new_for_path (path);
  GFileIOStream *io   = g_file_open_readwrite (file, NULL, NULL);

  ck_assert_ptr_nonnull (io);
  ck_assert (g_seekable_truncate (G_SEEKABLE (io), size, NULL, NULL));
  ck_assert (g_io_stream_close (G_IO_STREAM (io), NULL, NULL));
  g_object_unref (io);
  g_object_unref (file);
}

/* Changes a byte of the file at path in place (the same file, the same
 * size), with a modification time that surely differs from the first
 * (file systems keep times coarsely). */
static void
rewrite_in_place (const gchar *path)
{
  FILE      *file  = fopen (path, "r+b");
  GFile     *gfile = g_file_new_for_path (path);
  GFileInfo *info;

  ck_assert_ptr_nonnull (file);
  ck_assert_int_eq (fseek (file, 5000, SEEK_SET), 0);
  ck_assert_int_eq (fputc (0x77, file), 0x77);
  ck_assert_int_eq (fclose (file), 0);
  info = g_file_query_info (gfile, G_FILE_ATTRIBUTE_TIME_MODIFIED,
                            G_FILE_QUERY_INFO_NONE, NULL, NULL);
  ck_assert_ptr_nonnull (info);
  ck_assert (g_file_set_attribute_uint64 (
    gfile, G_FILE_ATTRIBUTE_TIME_MODIFIED,
    g_file_info_get_attribute_uint64 (info, G_FILE_ATTRIBUTE_TIME_MODIFIED) + 2,
    G_FILE_QUERY_INFO_NONE, NULL, NULL));
  g_object_unref (info);
  g_object_unref (gfile);
}

static void
assert_array_buffer (
  GeglBuffer *buffer, gint height, gint width, gint item, guint8 first)
{
  const GeglRectangle *e = gegl_buffer_get_extent (buffer);
  guint8              *bytes;
  gsize                size;

  ck_assert_int_eq (e->width, width);
  ck_assert_int_eq (e->height, height);
  ck_assert_int_eq (
    babl_format_get_bytes_per_pixel (gegl_buffer_get_format (buffer)), item);
  bytes = buffer_bytes (buffer, &size);
  for (gsize j = 0; j < (gsize) width * height; j++)
    {
      ck_assert_int_eq (bytes[j * item], (guint8) (first + j));
      if (item > 1)
        ck_assert_int_eq (bytes[j * item + item - 1], item << 4);
    }
  g_free (bytes);
}

/* Setting the path again, to the same value, reads the file again: a
 * batch script that rewrites one file between renders gets each version
 * in its own dtype and shape, not the new bytes in the old header's. */
START_TEST (test_path_set_again_reads_the_file_again)
{
  gchar      *path  = tmp_path ("rewritten.npy");
  GeglNode   *graph = gegl_node_new ();
  GeglNode   *loader;
  GeglBuffer *buffer;
  gchar      *log;

  write_array_file (path, 3, 4, 1, 10);
  loader = node (graph, "seg:npy-load", "path", path, NULL);
  buffer = render (graph, loader);
  assert_array_buffer (buffer, 3, 4, 1, 10);
  g_object_unref (buffer);

  log_capture_begin ();
  write_array_file (path, 5, 6, 2, 20);
  gegl_node_set (loader, "path", path, NULL);
  buffer = render (graph, loader);
  assert_no_messages (log_capture_end (), "path set again");
  assert_array_buffer (buffer, 5, 6, 2, 20);
  ck_assert_str_eq (babl_get_name (gegl_buffer_get_format (buffer)), "Y u16");
  g_object_unref (buffer);

  /* Rewritten in place (same file, same name) and set again. */
  {
    SegNpyHeader h = { 0 };
    guint32      data[2 * 7];

    for (gsize j = 0; j < G_N_ELEMENTS (data); j++)
      data[j] = 30 + (guint32) j + (0x40u << 24);
    h.kind      = SEG_NPY_UINT;
    h.item_size = 4;
    h.n_dims    = 2;
    h.shape[0]  = 2;
    h.shape[1]  = 7;
    h.data_size = sizeof data;
    log_capture_begin ();
    {
      guint8 header[SEG_NPY_WRITE_MAX_SIZE];
      gsize  n    = seg_npy_header_write (&h, header, sizeof header);
      FILE  *file = fopen (path, "r+b");

      ck_assert_ptr_nonnull (file);
      ck_assert_int_eq (fwrite (header, 1, n, file), n);
      ck_assert_int_eq (fwrite (data, 1, sizeof data, file), sizeof data);
      ck_assert_int_eq (fclose (file), 0);
      truncate_in_place (path, (goffset) (n + sizeof data));
    }
    gegl_node_set (loader, "path", path, NULL);
    buffer = render (graph, loader);
    log    = log_capture_end ();
    ck_assert_str_eq (log, "");
    if (G_BYTE_ORDER == G_LITTLE_ENDIAN)
      assert_array_buffer (buffer, 2, 7, 4, 30);
    g_object_unref (buffer);
    g_free (log);
  }

  g_object_unref (graph);
  g_unlink (path);
  g_free (path);
}
END_TEST

/* A file placed at path before it is saved over, to see that it stays. */
static const gchar old_contents[] = "the file that was there";

static void
put_old_file (const gchar *path)
{
  ck_assert (g_file_set_contents (path, old_contents, -1, NULL));
}

static void
assert_old_file (const gchar *path, const gchar *context)
{
  gchar *contents = NULL;

  ck_assert (g_file_get_contents (path, &contents, NULL, NULL));
  ck_assert_msg (strcmp (contents, old_contents) == 0,
                 "%s: the existing file was replaced", context);
  ck_assert_int_eq (count_files (tmp_dir, "."), 0);
  g_free (contents);
}

/* seg:npy-load → seg:npy-save (depth 0) rendered, then the input emptied
 * to shape (0, 3, 4) and its path set again: the saver used to re-read
 * the file for its depth, got 0 and divided by it (SIGFPE).  Now the
 * loader says what is wrong, and the file saved before stays. */
START_TEST (test_input_emptied_then_path_set_again_is_refused)
{
  gchar       *in    = tmp_path ("emptied.npy");
  gchar       *out   = tmp_path ("emptied-copy.npy");
  GeglNode    *graph = gegl_node_new ();
  GeglNode    *loader, *sink;
  SegNpyHeader h = { 0 };
  GBytes      *first, *second;
  gchar       *log;

  h.kind      = SEG_NPY_UINT;
  h.item_size = 1;
  h.n_dims    = 3;
  h.shape[0]  = 2;
  h.shape[1]  = 3;
  h.shape[2]  = 4;
  h.data_size = 24;
  file_write_npy (in, &h, "abcdefghijklmnopqrstuvwx");
  loader = node (graph, "seg:npy-load", "path", in, NULL);
  sink   = node (graph, "seg:npy-save", "path", out, NULL);
  gegl_node_link (loader, sink);
  gegl_node_process (sink);
  first = file_bytes (out);

  h.shape[0]  = 0;
  h.data_size = 0;
  file_write_npy (in, &h, "");
  log_capture_begin ();
  gegl_node_set (loader, "path", in, NULL);
  gegl_node_process (sink);
  log = log_capture_end ();
  assert_has (log, "seg:npy-load");
  assert_has (log, "the array is empty (0, 3, 4)");
  second = file_bytes (out);
  ck_assert (g_bytes_equal (first, second));
  ck_assert_int_eq (count_files (tmp_dir, "."), 0);

  g_bytes_unref (second);
  g_bytes_unref (first);
  g_free (log);
  g_object_unref (graph);
  g_unlink (in);
  g_unlink (out);
  g_free (out);
  g_free (in);
}
END_TEST

/* A loader whose header is read, then the file is changed by another
 * program, then the graph renders: in place and shorter, or in place with
 * the same size (new times).  The loader says the output is incomplete
 * and seg:npy-save writes nothing: the file that was there stays. */
START_TEST (test_input_changed_after_header_is_not_saved)
{
  gchar        *in      = tmp_path ("changing.npy");
  gchar        *out     = tmp_path ("changing-copy.npy");
  gboolean      shorter = _i == 0;
  GeglNode     *graph   = gegl_node_new ();
  GeglNode     *loader, *sink;
  GeglRectangle box;
  gchar        *log;

  write_array_file (in, 300, 1000, 2, 0);
  put_old_file (out);
  loader = node (graph, "seg:npy-load", "path", in, NULL);
  sink   = node (graph, "seg:npy-save", "path", out, NULL);
  gegl_node_link (loader, sink);
  box = gegl_node_get_bounding_box (loader);
  ck_assert_int_eq (box.height, 300);

  if (shorter)
    truncate_in_place (in, 100000);
  else
    rewrite_in_place (in);

  log_capture_begin ();
  gegl_node_process (sink);
  log = log_capture_end ();
  assert_has (log, "seg:npy-load");
  assert_has (log, "incomplete");
  assert_has (log, "the file changed after its header was read");
  assert_has (log, "seg:npy-save");
  assert_has (log, "Nothing was written");
  assert_old_file (out, shorter ? "cut short" : "rewritten");
  ck_assert_int_eq (gegl_node_get_bounding_box (loader).height, 300);

  g_free (log);
  g_object_unref (graph);
  g_unlink (in);
  g_unlink (out);
  g_free (out);
  g_free (in);
}
END_TEST

/* A file renamed over the loader's path after its header was read: the
 * pixels come from the file the header describes, not the new one. */
START_TEST (test_input_replaced_after_header_gives_the_first_file)
{
  gchar      *in    = tmp_path ("replaced.npy");
  GeglNode   *graph = gegl_node_new ();
  GeglNode   *loader;
  GeglBuffer *buffer;
  gchar      *log;

  write_array_file (in, 3, 4, 1, 40);
  loader = node (graph, "seg:npy-load", "path", in, NULL);
  ck_assert_int_eq (gegl_node_get_bounding_box (loader).width, 4);
  write_array_file (in, 6, 2, 2, 90); /* by rename: a new file */
  log_capture_begin ();
  buffer = render (graph, loader);
  log    = log_capture_end ();
  ck_assert_str_eq (log, "");
  assert_array_buffer (buffer, 3, 4, 1, 40);

  g_object_unref (buffer);
  g_free (log);
  g_object_unref (graph);
  g_unlink (in);
  g_free (in);
}
END_TEST

/* The loader's image is the file's bytes, mapped.  gegl:write-buffer
 * copies it into a buffer of the same tiles, which GEGL does by sharing
 * the tiles' data: those stay readable after the loader, its graph and
 * its own buffer are gone.  The shapes have heights that are no multiple
 * of the tile's (a last tile padded), rows of 1 to 8 bytes, and one row. */
START_TEST (test_mapped_pixels_outlive_their_loader)
{
  /* height, width, item, and the tile height seg-mapped-buffer.c picks
   * (whole rows, at most 256 KiB, a power of two) */
  static const gint shapes[][4] = {
    { 300, 1000, 2, 128 },
    { 1, 4096, 4, 16 },
    { 513, 64, 1, 4096 },
    { 7, 24, 8, 1024 },
  };
  const gint *shape = shapes[_i];
  gchar      *in    = tmp_path ("mapped.npy");
  GeglNode   *graph = gegl_node_new ();
  GeglNode   *loader, *writer;
  GeglBuffer *loaded, *copy;

  write_array_file (in, shape[0], shape[1], shape[2], (guint8) (_i * 30));
  loaded = load ("seg:npy-load", in); /* for its format */
  copy =
    g_object_new (GEGL_TYPE_BUFFER, "x", 0, "y", 0, "width", shape[1], "height",
                  shape[0], "tile-width", shape[1], "tile-height", shape[3],
                  "format", gegl_buffer_get_format (loaded), NULL);
  g_object_unref (loaded);
  loader = node (graph, "seg:npy-load", "path", in, NULL);
  writer = node (graph, "gegl:write-buffer", "buffer", copy, NULL);
  gegl_node_link (loader, writer);
  gegl_node_process (writer);
  gegl_node_set (loader, "path", "", NULL); /* the loader lets go */
  g_object_unref (graph);
  assert_array_buffer (copy, shape[0], shape[1], shape[2], (guint8) (_i * 30));

  g_object_unref (copy);
  g_unlink (in);
  g_free (in);
}
END_TEST

/* TRUE when path is mapped into this process (/proc/self/maps). */
static gboolean
file_is_mapped (const gchar *path)
{
  gchar   *maps = NULL;
  gboolean mapped;

  ck_assert (g_file_get_contents ("/proc/self/maps", &maps, NULL, NULL));
  mapped = strstr (maps, path) != NULL;
  g_free (maps);
  return mapped;
}

/* Which way the loader holds a file.  An op that reads the image gets the
 * file's pages, mapped.  A sink that needs the whole image (a copy) gets
 * the file read into the loader's cache, where GEGL would otherwise copy
 * the mapped image: mapped, the file would be held twice.  A file in the
 * other byte order is read, never mapped. */
START_TEST (test_loader_maps_for_ops_and_reads_for_copies)
{
  gchar    *in      = tmp_path ("how-held.npy");
  gchar    *out     = tmp_path ("how-held-out.npy");
  gboolean  pooled  = _i != 1;
  gboolean  swapped = _i == 2;
  GeglNode *graph   = gegl_node_new ();
  GeglNode *loader, *last, *sink;

  if (swapped)
    {
      gchar *fixture = g_build_filename (fixture_dir, "u2-be.npy", NULL);
      gchar *bytes;
      gsize  size;

      ck_assert (g_file_get_contents (fixture, &bytes, &size, NULL));
      ck_assert (g_file_set_contents (in, bytes, (gssize) size, NULL));
      g_free (bytes);
      g_free (fixture);
    }
  else
    write_array_file (in, 300, 1000, 2, 5);
  loader = node (graph, "seg:npy-load", "path", in, NULL);
  last   = loader;
  if (pooled)
    {
      last = node (graph, "seg:mode-pool", NULL);
      gegl_node_link (loader, last);
    }
  sink = node (graph, "seg:npy-save", "path", out, NULL);
  gegl_node_link (last, sink);
  gegl_node_process (sink);
  ck_assert (g_file_test (out, G_FILE_TEST_EXISTS));
  ck_assert_int_eq (file_is_mapped (in), pooled && !swapped);

  g_object_unref (graph);
  ck_assert (!file_is_mapped (in)); /* let go with the graph */
  g_unlink (in);
  g_unlink (out);
  g_free (out);
  g_free (in);
}
END_TEST

/* A file rewritten in place after the loader has mapped it, while the
 * graph runs (here: between two renders of a pooling op that reads the
 * mapped pixels): its pages may have given some pixels from the new
 * bytes, so seg:npy-save writes nothing. */
START_TEST (test_input_rewritten_while_running_is_not_saved)
{
  gchar    *in    = tmp_path ("rewritten.npy");
  gchar    *out   = tmp_path ("rewritten-copy.npy");
  GeglNode *graph = gegl_node_new ();
  GeglNode *loader, *pool, *sink;
  gchar    *log;

  write_array_file (in, 300, 1000, 2, 0);
  put_old_file (out);
  loader = node (graph, "seg:npy-load", "path", in, NULL);
  pool   = node (graph, "seg:mode-pool", NULL);
  gegl_node_link (loader, pool);
  g_object_unref (render (graph, pool)); /* the file mapped and read */
  rewrite_in_place (in);

  sink = node (graph, "seg:npy-save", "path", out, NULL);
  gegl_node_link (pool, sink);
  log_capture_begin ();
  gegl_node_process (sink);
  log = log_capture_end ();
  assert_has (log, "the file changed after its header was read");
  assert_has (log, "Nothing was written");
  assert_old_file (out, "rewritten while running");

  g_free (log);
  g_object_unref (graph);
  g_unlink (in);
  g_unlink (out);
  g_free (out);
  g_free (in);
}
END_TEST

/* A gegl:load that cannot load its file renders an error text, which
 * went through a pooling op into the saver as data.  Wherever the failed
 * load sits upstream (right before the saver, after a pooling op, on an
 * aux input), seg:npy-save names it and writes nothing. */
START_TEST (test_failed_load_upstream_is_not_saved)
{
  static const gchar *const ops[]   = { "gegl:nop", "seg:mode-pool",
                                        "seg:sparse-average", "seg:countless-3d",
                                        "gegl:over" };
  const gchar              *op      = ops[_i];
  gchar                    *missing = tmp_path ("no-such-input.npy");
  gchar                    *out     = tmp_path ("from-missing.npy");
  GeglNode                 *graph   = gegl_node_new ();
  GeglNode *load   = node (graph, "gegl:load", "path", missing, NULL);
  GeglNode *sink   = node (graph, "seg:npy-save", "path", out, NULL);
  GeglNode *middle = node (graph, op, NULL);
  gchar    *log;

  put_old_file (out);
  if (strcmp (op, "seg:countless-3d") == 0)
    gegl_node_set (middle, "depth", 1, NULL);
  if (strcmp (op, "gegl:over") == 0)
    {
      guint8      pixels[4] = { 1, 2, 3, 4 };
      GeglBuffer *buffer    = buffer_from ("Y u8", 2, 2, pixels);

      gegl_node_link (
        node (graph, "gegl:buffer-source", "buffer", buffer, NULL), middle);
      gegl_node_connect_to (load, "output", middle, "aux");
      g_object_unref (buffer);
    }
  else
    gegl_node_link (load, middle);
  gegl_node_link (middle, sink);

  log_capture_begin ();
  gegl_node_process (sink);
  log = log_capture_end ();
  assert_has (log, "seg:npy-save");
  assert_has (log, "gegl:load");
  assert_has (log, "no-such-input.npy");
  assert_old_file (out, op);

  g_free (log);
  g_object_unref (graph);
  g_unlink (out);
  g_free (out);
  g_free (missing);
}
END_TEST

/* A (n_dims ≤ 2) array of item-byte elements at path, byte j of its data
 * a pattern of j; returns the data (free it). */
static guint8 *
write_pattern_file (const gchar   *path,
                    gint           n_dims,
                    const guint64 *shape,
                    gint           item)
{
  SegNpyHeader h    = { 0 };
  gsize        n    = (gsize) shape[0] * (n_dims == 2 ? shape[1] : 1) * item;
  guint8      *data = g_malloc (n);

  for (gsize j = 0; j < n; j++)
    data[j] = (guint8) (j * 131 + (j >> 16));
  h.kind      = SEG_NPY_UINT;
  h.item_size = item;
  h.n_dims    = n_dims;
  h.shape[0]  = shape[0];
  h.shape[1]  = shape[1];
  h.data_size = n;
  file_write_npy (path, &h, data);
  return data;
}

typedef struct
{
  gint    n_dims;
  guint64 shape[2];
  gint    item;
} ThinCase;

/* Thin arrays GEGL can hold (a 1-D array of a million bytes, one column,
 * a few rows, rows longer than a band, which load and save in parts of
 * a row) load whole and come back as NumPy wrote them, 1-D included. */
START_TEST (test_thin_arrays_round_trip)
{
  static const ThinCase cases[] = {
    { 1, { 1000003 }, 1 },  { 2, { 1, 300000 }, 2 },  { 2, { 300000, 1 }, 1 },
    { 2, { 3, 70000 }, 1 }, { 2, { 9, 4200000 }, 1 },
  };
  const ThinCase *c    = &cases[_i];
  gchar          *in   = tmp_path ("thin.npy");
  gchar          *out  = tmp_path ("thin-copy.npy");
  guint8         *data = write_pattern_file (in, c->n_dims, c->shape, c->item);
  GBytes         *original = file_bytes (in), *saved;
  SegNpyHeader    h;

  log_capture_begin ();
  saved = load_and_save (in, out, &h);
  assert_no_messages (log_capture_end (), "thin array");
  ck_assert_msg (g_bytes_equal (original, saved), "case %d differs", _i);

  g_bytes_unref (saved);
  g_bytes_unref (original);
  g_free (data);
  g_unlink (in);
  g_unlink (out);
  g_free (out);
  g_free (in);
}
END_TEST

/* Arrays so thin that GEGL's tiles would take far more memory than their
 * data (a 1-D array of five million bytes: 640 MB of tiles) are refused
 * with a message that says what to do, before any tile is made; the file
 * a saver would have replaced stays. */
START_TEST (test_too_thin_arrays_are_refused)
{
  static const ThinCase cases[] = {
    { 1, { 5000003 }, 1 },
    { 2, { 1, 600000 }, 8 },
    { 2, { 3000000, 1 }, 1 },
    { 2, { 2, 3000000 }, 2 },
  };
  const ThinCase *c     = &cases[_i];
  gchar          *in    = tmp_path ("too-thin.npy");
  gchar          *out   = tmp_path ("too-thin-copy.npy");
  guint8         *data  = write_pattern_file (in, c->n_dims, c->shape, c->item);
  GeglNode       *graph = gegl_node_new ();
  GeglNode       *loader, *sink;
  guint64         tiles_before, tiles_after;
  gchar          *log;

  put_old_file (out);
  g_object_get (gegl_stats (), "tile-alloc-total", &tiles_before, NULL);
  log_capture_begin ();
  loader = node (graph, "seg:npy-load", "path", in, NULL);
  sink   = node (graph, "seg:npy-save", "path", out, NULL);
  gegl_node_link (loader, sink);
  ck_assert_int_eq (gegl_node_get_bounding_box (loader).width, 0);
  gegl_node_process (sink);
  log = log_capture_end ();
  g_object_get (gegl_stats (), "tile-alloc-total", &tiles_after, NULL);
  ck_assert_msg (tiles_after - tiles_before < (1 << 20),
                 "%" G_GUINT64_FORMAT " bytes of tiles",
                 tiles_after - tiles_before);
  assert_has (log, "seg:npy-load");
  assert_has (log, "too-thin.npy");
  assert_has (log, "tiles");
  assert_has (log, "a.reshape(-1, k)");
  assert_has (log, "The output is empty");
  assert_old_file (out, "too thin");

  g_free (log);
  g_object_unref (graph);
  g_free (data);
  g_unlink (in);
  g_unlink (out);
  g_free (out);
  g_free (in);
}
END_TEST

/* A volume larger than GEGL's tile cache grows the cache to hold it (and
 * as much again for what ops make of it), so that its tiles stay in memory
 * instead of going through GEGL's swap file; not when the user set the
 * cache's size (GEGL_CACHE_SIZE), and never down. */
START_TEST (test_volume_grows_tile_cache)
{
  const gboolean user_set = _i == 1;
  const guint64  small    = 4 << 20;
  gchar         *path     = tmp_path ("big.npy");
  guint64        before, after, cached, data_size;
  GeglNode      *graph = gegl_node_new ();
  GeglNode      *loader;
  GeglBuffer    *buffer;
  guint8        *data;

  g_object_get (gegl_config (), "tile-cache-size", &before, NULL);
  g_object_set (gegl_config (), "tile-cache-size", small, NULL);
  if (user_set)
    g_setenv ("GEGL_CACHE_SIZE", "4", TRUE);
  else
    g_unsetenv ("GEGL_CACHE_SIZE");

  {
    const guint64 shape[2] = { 3000, 1024 };

    data      = write_pattern_file (path, 2, shape, 4);
    data_size = shape[0] * shape[1] * 4;
  }
  loader = node (graph, "seg:npy-load", "path", path, NULL);
  buffer = render (graph, loader);
  g_object_get (gegl_config (), "tile-cache-size", &after, NULL);
  g_object_get (gegl_stats (), "tile-cache-total", &cached, NULL);
  if (user_set)
    ck_assert_uint_eq (after, small);
  else
    {
      ck_assert_msg (after >= 2 * data_size,
                     "cache %" G_GUINT64_FORMAT " bytes for %" G_GUINT64_FORMAT
                     " of data",
                     after, data_size);
      ck_assert_msg (cached >= data_size,
                     "%" G_GUINT64_FORMAT " bytes "
                     "cached of %" G_GUINT64_FORMAT,
                     cached, data_size);
    }
  {
    gsize   size;
    guint8 *bytes = buffer_bytes (buffer, &size);

    ck_assert_uint_eq (size, data_size);
    ck_assert (memcmp (bytes, data, size) == 0);
    g_free (bytes);
  }

  g_unsetenv ("GEGL_CACHE_SIZE");
  g_object_unref (buffer);
  g_object_unref (graph);
  g_object_set (gegl_config (), "tile-cache-size", before, NULL);
  g_free (data);
  g_unlink (path);
  g_free (path);
}
END_TEST

static Suite *
npy_gegl_suite (void)
{
  Suite *s       = suite_create ("gegl-npy");
  TCase *files   = harness_tcase (s, "fixtures");
  TCase *graphs  = harness_tcase (s, "graphs");
  TCase *saving  = harness_tcase (s, "saving");
  TCase *errors  = harness_tcase (s, "errors");
  TCase *changes = harness_tcase (s, "changes");

  tcase_add_loop_test (files, test_fixture_loads_bit_for_bit, 0,
                       G_N_ELEMENTS (fixtures));
  tcase_add_loop_test (files, test_fixture_saves_back_what_numpy_wrote, 0,
                       G_N_ELEMENTS (fixtures));
  tcase_add_test (files, test_graph_round_trip_takes_shape_from_file);
  tcase_add_loop_test (files, test_one_slice_volume_stays_3d, 0, 2);
  tcase_add_test (files, test_volume_pooled_to_one_slice_stays_3d);
  tcase_add_test (files, test_gegl_load_uses_npy_load);
  tcase_add_test (graphs, test_volume_of_many_bands_loads_whole_and_in_parts);
  tcase_add_loop_test (graphs, test_countless_3d_keeps_seg_formats, 0, 2);
  tcase_add_test (graphs, test_seg_formats_convert_for_display);
  tcase_add_loop_test (saving, test_save_writes_components_in_their_own_type, 0,
                       G_N_ELEMENTS (save_cases));
  tcase_add_test (saving, test_save_writes_other_types_as_float);
  tcase_add_test (saving, test_save_writes_translated_input);
  tcase_add_test (saving, test_save_replaces_existing_file);
  tcase_add_test (errors, test_corpus_through_npy_load);
  tcase_add_test (errors, test_unreadable_paths_are_reported);
  tcase_add_test (errors, test_no_path_is_silent);
  tcase_add_test (errors, test_save_refuses_depth_that_does_not_divide);
  tcase_add_test (errors, test_failed_write_leaves_no_file);
  tcase_add_test (changes, test_path_set_again_reads_the_file_again);
  tcase_add_test (changes, test_input_emptied_then_path_set_again_is_refused);
  tcase_add_loop_test (changes, test_input_changed_after_header_is_not_saved, 0,
                       2);
  tcase_add_test (changes,
                  test_input_replaced_after_header_gives_the_first_file);
  tcase_add_loop_test (changes, test_failed_load_upstream_is_not_saved, 0, 5);
  tcase_add_test (changes, test_input_rewritten_while_running_is_not_saved);
  tcase_add_loop_test (graphs, test_loader_maps_for_ops_and_reads_for_copies, 0,
                       3);
  tcase_add_loop_test (graphs, test_mapped_pixels_outlive_their_loader, 0, 4);
  tcase_add_loop_test (graphs, test_thin_arrays_round_trip, 0, 5);
  tcase_add_loop_test (graphs, test_volume_grows_tile_cache, 0, 2);
  tcase_add_loop_test (errors, test_too_thin_arrays_are_refused, 0, 4);
  return s;
}

int
main (int argc, char **argv)
{
  gchar *data_dir = env_or ("SEG_DATA_DIR", "data");
  gint   status;

  fixture_dir = g_build_filename (data_dir, "npy", NULL);
  corpus_dir  = env_or ("SEG_NPY_CORPUS", "tests/npy-corpus");
  tmp_dir     = tmp_dir_make ("gegl-seg-npy-XXXXXX");
  harness_init (&argc, &argv);
  status = harness_run (npy_gegl_suite ());
  tmp_dir_remove ();
  g_free (corpus_dir);
  g_free (fixture_dir);
  g_free (data_dir);
  return status;
}
