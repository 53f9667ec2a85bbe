/* SPDX-License-Identifier: LGPL-3.0-or-later
 *
 * A GeglBuffer whose tiles are a mapped file's bytes.  A tile as wide as
 * the image is a run of whole rows, and in a .npy file of native byte
 * order whole rows lie one after the other: each tile is then a pointer
 * into the mapping, and the file's pages, already in the page cache, are
 * the pixels.  Reading a volume into GEGL's own 128 × 128 tiles instead
 * touches every page of fresh memory once more, 4 KiB at a time, which
 * costs more than the job's own work (docs/performance.md, "The whole job").
 *
 * The mapping is private and writable, so that a tile written by mistake
 * changes this process's copy, never the file; seg:npy-load marks the
 * buffer as forked so that no op writes into it in place.  Each tile
 * holds a reference on the mapping (shared with its clones, which GEGL
 * makes when it copies buffers), so that it stays mapped as long as any
 * tile points into it.  The last tile of a 2-D image may reach past the
 * file's rows: it is a copy, padded with zeros.
 */
/* mmap () and posix_madvise () */
#define _POSIX_C_SOURCE 200809L

#include "config.h"

#include <gegl.h>
#include <gegl-buffer-backend.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "seg-mapped-buffer.h"

/* Bytes of a tile, as a rule: 256 KiB is four of GEGL's default u32
 * tiles.  Fewer, larger tiles cost GEGL less per byte; a band of rows
 * this size still fits the caches of the ops that read it. */
#define TILE_BYTES (256 * 1024)
/* Tile starts in a file are aligned so; in memory, as GEGL's own tiles
 * are (GEGL_ALIGNMENT). */
#define TILE_ALIGNMENT   64
#define MEMORY_ALIGNMENT 16

/* The bytes the tiles point into: a file's mapping (release NULL: unmapped
 * at the end) or memory whose owner release () tells when GEGL is done. */
typedef struct
{
  guint8        *base;
  gsize          length;
  GDestroyNotify release;
  gpointer       release_data;
} Mapping;

typedef struct
{
  GeglTileBackend parent_instance;
  Mapping        *mapping;
  const guint8   *pixels; /* the first row                          */
  gsize           row_bytes;
  gint            rows; /* of the image                           */
  gint            tile_rows;
} SegMappedBackend;

typedef struct
{
  GeglTileBackendClass parent_class;
} SegMappedBackendClass;

static GType seg_mapped_backend_get_type (void);

G_DEFINE_DYNAMIC_TYPE (SegMappedBackend,
                       seg_mapped_backend,
                       GEGL_TYPE_TILE_BACKEND)

static void
mapping_clear (gpointer data)
{
  Mapping *m = data;

  if (m->release != NULL)
    m->release (m->release_data);
  else
    munmap (m->base, m->length);
}

static void
mapping_unref (gpointer data)
{
  g_atomic_rc_box_release_full (data, mapping_clear);
}

static gboolean
tile_exists (const SegMappedBackend *b, gint x, gint y, gint z)
{
  return x == 0 && z == 0 && y >= 0 &&
         (gint64) y * b->tile_rows < (gint64) b->rows;
}

/* Tile row y: a view into the mapping, or, where it reaches past the last
 * row, a zero-padded copy. */
static GeglTile *
get_tile (SegMappedBackend *b, gint y)
{
  const gsize   tile_bytes = b->row_bytes * (gsize) b->tile_rows;
  const gint64  first      = (gint64) y * b->tile_rows;
  const guint8 *src        = b->pixels + (gsize) first * b->row_bytes;
  GeglTile     *tile;

  if (first + b->tile_rows <= b->rows)
    {
      tile = gegl_tile_new_bare ();
      gegl_tile_set_data_full (tile, (gpointer) src, (gint) tile_bytes,
                               mapping_unref,
                               g_atomic_rc_box_acquire (b->mapping));
    }
  else
    {
      const gsize rows_bytes = (gsize) (b->rows - first) * b->row_bytes;

      tile = gegl_tile_new ((gint) tile_bytes);
      memcpy (gegl_tile_get_data (tile), src, rows_bytes);
      memset (gegl_tile_get_data (tile) + rows_bytes, 0,
              tile_bytes - rows_bytes);
    }
  /* What the file holds: nothing to write back when GEGL drops it. */
  gegl_tile_mark_as_stored (tile);
  return tile;
}

static gpointer
command (GeglTileSource *source,
         GeglTileCommand command,
         gint            x,
         gint            y,
         gint            z,
         gpointer        data)
{
  SegMappedBackend *b = (SegMappedBackend *) source;

  switch (command)
    {
    case GEGL_TILE_GET:
      return tile_exists (b, x, y, z) ? get_tile (b, y) : NULL;
    case GEGL_TILE_SET:
      /* A tile GEGL wants stored: its data already lies in the mapping
       * (a private one), or it is one GEGL made, which nobody reads back
       * from a read-only source. */
      gegl_tile_mark_as_stored (data);
      return data;
    case GEGL_TILE_EXIST: return GINT_TO_POINTER (tile_exists (b, x, y, z));
    case GEGL_TILE_IS_CACHED:
    case GEGL_TILE_VOID:
    case GEGL_TILE_FLUSH:
    case GEGL_TILE_REFETCH:
    case GEGL_TILE_REINIT:
    case GEGL_TILE_IDLE:
    case GEGL_TILE_COPY: return NULL;
    default:
      return gegl_tile_backend_command (GEGL_TILE_BACKEND (source), command, x,
                                        y, z, data);
    }
}

static void
seg_mapped_backend_init (SegMappedBackend *b)
{
  GEGL_TILE_SOURCE (b)->command = command;
}

static void
seg_mapped_backend_finalize (GObject *object)
{
  SegMappedBackend *b = (SegMappedBackend *) object;

  if (b->mapping != NULL)
    mapping_unref (b->mapping);
  G_OBJECT_CLASS (seg_mapped_backend_parent_class)->finalize (object);
}

static void
seg_mapped_backend_class_init (SegMappedBackendClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = seg_mapped_backend_finalize;
}

static void
seg_mapped_backend_class_finalize (SegMappedBackendClass *klass G_GNUC_UNUSED)
{
}

void
seg_mapped_buffer_register_type (GTypeModule *module)
{
  seg_mapped_backend_register_type (module);
}

gint
seg_mapped_buffer_tile_rows (gint width, gint bpp, gint slice_height)
{
  const gsize row_bytes = (gsize) width * (gsize) bpp;
  gint        rows      = 1, aligned;

  if (row_bytes == 0 || row_bytes > G_MAXINT / 2)
    return 0;
  while ((gsize) rows * 2 * row_bytes <= TILE_BYTES)
    rows *= 2;
  /* Tiles that end where slices end let pooling read a block's slices in
   * place; not at the price of tiles an eighth of the size. */
  aligned = rows;
  if (slice_height > 0)
    while (aligned > 1 && slice_height % aligned != 0)
      aligned /= 2;
  if (aligned * 8 >= rows)
    rows = aligned;
  return rows;
}

/* The mapping of the file's first length bytes; NULL when there is
 * none. */
static Mapping *
map_file (gint fd, gsize length)
{
  Mapping *m;
  void    *base;

  base = mmap (NULL, length, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  if (base == MAP_FAILED)
    return NULL;
  m         = g_atomic_rc_box_new0 (Mapping);
  m->base   = base;
  m->length = length;
  return m;
}

static GeglBuffer *
buffer_new (Mapping             *m,
            const guint8        *pixels,
            const GeglRectangle *extent,
            const Babl          *format,
            gint                 tile_rows)
{
  SegMappedBackend *b;
  GeglBuffer       *buffer;

  b = g_object_new (seg_mapped_backend_get_type (), "tile-width", extent->width,
                    "tile-height", tile_rows, "format", format, NULL);
  b->mapping = m;
  b->pixels  = pixels;
  b->row_bytes =
    (gsize) extent->width * babl_format_get_bytes_per_pixel (format);
  b->rows      = extent->height;
  b->tile_rows = tile_rows;
  buffer       = gegl_buffer_new_for_backend (extent, GEGL_TILE_BACKEND (b));
  g_object_unref (b);
  return buffer;
}

GeglBuffer *
seg_mapped_buffer_new (gint                 fd,
                       goffset              data_offset,
                       const GeglRectangle *extent,
                       const Babl          *format,
                       gint                 tile_rows)
{
  const gsize row_bytes =
    (gsize) extent->width * babl_format_get_bytes_per_pixel (format);
  const gsize length = (gsize) data_offset + row_bytes * (gsize) extent->height;
  Mapping    *m;

  if (tile_rows <= 0 || data_offset % TILE_ALIGNMENT != 0 ||
      row_bytes * (gsize) tile_rows % TILE_ALIGNMENT != 0 ||
      (m = map_file (fd, length)) == NULL)
    return NULL;
  /* Read ahead: the ops walk the rows in order. */
  posix_madvise (m->base, m->length, POSIX_MADV_SEQUENTIAL);
  return buffer_new (m, m->base + data_offset, extent, format, tile_rows);
}

GeglBuffer *
seg_mapped_buffer_new_for_memory (gconstpointer        pixels,
                                  const GeglRectangle *extent,
                                  const Babl          *format,
                                  gint                 slice_height,
                                  GDestroyNotify       release,
                                  gpointer             release_data)
{
  const gint bpp = babl_format_get_bytes_per_pixel (format);
  const gint tile_rows =
    seg_mapped_buffer_tile_rows (extent->width, bpp, slice_height);
  const gsize row_bytes = (gsize) extent->width * (gsize) bpp;
  Mapping    *m;

  if (pixels == NULL || release == NULL || tile_rows <= 0 ||
      extent->height <= 0 || (guintptr) pixels % MEMORY_ALIGNMENT != 0 ||
      row_bytes * (gsize) tile_rows % MEMORY_ALIGNMENT != 0)
    return NULL;
  m               = g_atomic_rc_box_new0 (Mapping);
  m->base         = (guint8 *) pixels;
  m->length       = row_bytes * (gsize) extent->height;
  m->release      = release;
  m->release_data = release_data;
  return buffer_new (m, m->base, extent, format, tile_rows);
}

/* The backend of buffer, and its shift.  The buffer holds its backend:
 * the pointer stays valid without a reference. */
static GeglTileBackend *
backend_of (GeglBuffer *buffer, gint *shift_x, gint *shift_y)
{
  GeglTileBackend *backend = NULL;

  g_object_get (buffer, "backend", &backend, "shift-x", shift_x, "shift-y",
                shift_y, NULL);
  if (backend != NULL)
    g_object_unref (backend);
  return backend;
}

/* How many buffers on buffers seg_mapped_buffer_rows () looks through. */
#define MAX_WRAPPERS 4

/* The buffer whose tiles a GeglTileBackendBuffer (GEGL's backend that
 * takes every tile from another buffer) hands out; NULL for any other
 * backend.  GEGL's filters wrap their input so for every thread of a
 * region but the first (gegl_operation_context_dup_input_maybe_copy ()),
 * each thread its own buffer on the same tiles, at the same shift. */
static GeglBuffer *
wrapped_buffer (GeglTileBackend *backend)
{
  const GType wrapper = g_type_from_name ("GeglTileBackendBuffer");
  GeglBuffer *inner   = NULL;

  if (wrapper == 0 || !G_TYPE_CHECK_INSTANCE_TYPE (backend, wrapper) ||
      g_object_class_find_property (G_OBJECT_GET_CLASS (backend), "buffer") ==
        NULL)
    return NULL;
  g_object_get (backend, "buffer", &inner, NULL);
  /* The wrapper holds its buffer, as long as it lives. */
  if (inner != NULL)
    g_object_unref (inner);
  return inner;
}

gboolean
seg_mapped_buffer_rows (GeglBuffer *buffer, SegMappedRows *rows)
{
  GeglTileBackend  *backend;
  SegMappedBackend *b;
  GeglRectangle     mapped;
  const Babl       *format;
  gint              shift_x = 0, shift_y = 0, bpp;

  /* No such buffer exists before the module registers the type. */
  if (seg_mapped_backend_get_type () == 0)
    return FALSE;
  backend = backend_of (buffer, &shift_x, &shift_y);
  /* Through the buffers that only pass on another's tiles, at the same
   * shift: their pixels are that buffer's. */
  for (gint i = 0;
       i < MAX_WRAPPERS && backend != NULL &&
       !G_TYPE_CHECK_INSTANCE_TYPE (backend, seg_mapped_backend_get_type ());
       i++)
    {
      GeglBuffer *inner = wrapped_buffer (backend);
      gint        inner_x, inner_y;

      if (inner == NULL ||
          gegl_buffer_get_format (inner) != gegl_buffer_get_format (buffer))
        return FALSE;
      backend = backend_of (inner, &inner_x, &inner_y);
      if (inner_x != shift_x || inner_y != shift_y)
        return FALSE;
    }
  if (backend == NULL ||
      !G_TYPE_CHECK_INSTANCE_TYPE (backend, seg_mapped_backend_get_type ()))
    return FALSE;
  b      = (SegMappedBackend *) backend;
  format = gegl_tile_backend_get_format (backend);
  bpp    = babl_format_get_bytes_per_pixel (format);
  mapped =
    (GeglRectangle){ -shift_x, -shift_y, (gint) (b->row_bytes / bpp), b->rows };
  if (gegl_buffer_get_format (buffer) != format ||
      !gegl_rectangle_intersect (&rows->rect, &mapped,
                                 gegl_buffer_get_abyss (buffer)))
    return FALSE;
  rows->format    = format;
  rows->row_bytes = b->row_bytes;
  rows->first = b->pixels + (gsize) (rows->rect.y + shift_y) * b->row_bytes +
                (gsize) (rows->rect.x + shift_x) * (gsize) bpp;
  return TRUE;
}
