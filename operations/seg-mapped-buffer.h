/* SPDX-License-Identifier: LGPL-3.0-or-later
 *
 * A read-only GeglBuffer whose tiles are the bytes of a file, mapped into
 * memory: the pixels of a .npy file without a copy (seg-mapped-buffer.c).
 */
#ifndef SEG_MAPPED_BUFFER_H
#define SEG_MAPPED_BUFFER_H

#include <gegl.h>

G_BEGIN_DECLS

/* Registers the buffer's tile backend type with the module. */
void seg_mapped_buffer_register_type (GTypeModule *module);

/* Rows per tile for an image of width pixels of bpp bytes, whose slices
 * are slice_height rows high (0: unknown); 0 when the file cannot be used
 * as tiles (rows too long for one GEGL tile). */
gint seg_mapped_buffer_tile_rows (gint width, gint bpp, gint slice_height);

/* A buffer of extent (at the origin) in format, whose pixels are the
 * file's bytes from data_offset on, row after row, each tile tile_rows
 * whole rows.  NULL when the file cannot be mapped so (tile_rows 0,
 * unaligned rows, no mapping): the caller then reads it.  The mapping
 * lives until the buffer and every tile taken from it are gone. */
GeglBuffer *seg_mapped_buffer_new (gint                 fd,
                                   goffset              data_offset,
                                   const GeglRectangle *extent,
                                   const Babl          *format,
                                   gint                 tile_rows);

/* A buffer of extent (at the origin) in format whose pixels are the
 * memory at pixels, row after row without gaps, read in place and never
 * written.  release (release_data) runs once GEGL holds no tile of it
 * any more: the memory must live until then.  NULL when the memory cannot
 * serve as tiles (unaligned, rows too long): the caller then copies. */
GeglBuffer *seg_mapped_buffer_new_for_memory (gconstpointer        pixels,
                                              const GeglRectangle *extent,
                                              const Babl          *format,
                                              gint                 slice_height,
                                              GDestroyNotify       release,
                                              gpointer release_data);

/* Where a buffer's pixels lie in memory, for reading them in place. */
typedef struct
{
  const guint8 *first; /* the pixel at (rect.x, rect.y)              */
  gsize         row_bytes;
  GeglRectangle rect; /* what can be read so, in buffer coordinates */
  const Babl   *format;
} SegMappedRows;

/* TRUE, with *rows set, when buffer is one of these buffers (or a
 * buffer on the same tiles, shifted): its pixels inside rows->rect are
 * the mapping's bytes, rows->row_bytes apart, in rows->format.  Reading
 * them there is reading the buffer, which nobody writes. */
gboolean seg_mapped_buffer_rows (GeglBuffer *buffer, SegMappedRows *rows);

/* The pixel (x, y) of rows->rect, bpp bytes each. */
static inline const guint8 *
seg_mapped_rows_at (const SegMappedRows *rows, gint x, gint y, gint bpp)
{
  return rows->first + (gsize) (y - rows->rect.y) * rows->row_bytes +
         (gsize) (x - rows->rect.x) * (gsize) bpp;
}

G_END_DECLS

#endif
