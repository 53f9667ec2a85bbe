/* SPDX-License-Identifier: LGPL-3.0-or-later
 *
 * What seg:npy-load and seg:npy-save share: reading a .npy file's header,
 * and the babl formats that hold .npy dtypes bit for bit:
 *
 *   dtype            babl format     storage
 *   |u1 <u2 <u4      Y u8 / u16 / u32
 *   <f2 <f4 <f8      Y half / float / double
 *   |b1              seg bool        one u8 (0 or 1, as NumPy stores it)
 *   |i1 <i2 <i4      seg int8 / int16 / int32
 *                                    one u8 / u16 / u32: the two's
 *                                    complement bits, read as unsigned
 *   <u8 <i8          seg uint64 / seg int64
 *                                    two u32 components holding the 8 bytes
 *                                    in host order (on little-endian hosts
 *                                    the first is the low half)
 *
 * The seg formats are named babl formats over babl's own types, so babl
 * converts them for display like Y u8 … Y u32 (the 64-bit ones through
 * their first component), and a format is copied, never converted, when a
 * buffer is read or written in its own format.  Label ops keep any of them
 * byte for byte (DESIGN.md: pixels are opaque labels).
 */
#ifndef SEG_NPY_COMMON_H
#define SEG_NPY_COMMON_H

#include <gegl.h>
#include <gegl-plugin.h>
#include <gio/gio.h>

#include "seg-average-pool.h"
#include "seg-npy.h"

G_BEGIN_DECLS

/* The format that holds one element of header's dtype (kind and
 * item_size) per pixel, in host byte order. */
const Babl *seg_npy_format_of_dtype (const SegNpyHeader *header);

/* For a seg format (seg bool, seg int8 … seg int64, seg uint64), the
 * dtype whose numbers its pixels are: babl sees them as unsigned grey.
 * FALSE for any other format. */
gboolean seg_npy_seg_format_dtype (const Babl *format,
                                   SegNpyKind *kind,
                                   gint       *item_size);

/* What a pixel of some format holds as numbers (DESIGN.md, "Pixels as
 * numbers"): n numbers of one type, which the dtype kind and size hold bit
 * for bit and the kernels know as type.  The signed .npy formats are
 * signed numbers, and seg int64 / seg uint64 one 8-byte number (babl sees
 * two u32). */
typedef struct
{
  SegNpyKind       kind;
  gint             size;
  SegComponentType type;
  gint             n;
} SegNumbers;

/* The numbers a pixel of format holds; FALSE for palettes, mixed
 * component types and types no dtype holds bit for bit (u15, CIE u8 …). */
gboolean seg_format_numbers (const Babl *format, SegNumbers *numbers);

/* How a kernel that computes with pixel values reads pixels of format:
 * their numbers (the .npy formats' as their dtype's, DESIGN.md "Pixels as
 * numbers"), a straight alpha as the last component; FALSE when format
 * is not numbers a kernel has arithmetic for. */
gboolean seg_format_layout (const Babl *format, SegPixelLayout *layout);

/* What `sparse` leaves out in pixels of format: all bytes zero, and in a
 * format with alpha (GEGL keeps it last) also transparent or black
 * pixels (DESIGN.md, "Pixels as labels"). */
SegBackground seg_format_background (const Babl *format);

/* The format in which an op that computes with pixel values reads its
 * input: the source's own where seg_format_layout () takes it, so that
 * the values are the ones the pixels hold; else (palettes, mixed or
 * exotic component types) RGBA float in the source's space. */
const Babl *seg_numbers_format (GeglOperation *operation);

/* The dtype that holds format's components bit for bit: fills kind,
 * item_size and big_endian (host order) of header, and returns the format
 * in which to read the pixels: format itself, or for a format whose
 * component type has no dtype (u15, palettes, CIE u8 …) the same model in
 * float, written as '<f4'. */
const Babl *seg_npy_dtype_of_format (const Babl *format, SegNpyHeader *header);

/* The pieces in which the .npy ops copy part of an image between a file
 * and a buffer, in file order, each contiguous in the file: bands of
 * whole rows of at most SEG_NPY_BAND_BYTES, or parts of one row when a
 * row is longer (a long 1-D array) or the part is narrower than the
 * file's rows. */
#define SEG_NPY_BAND_BYTES (4 * 1024 * 1024)

typedef struct
{
  GeglRectangle extent;
  gint          columns, rows; /* the largest piece                      */
  GeglRectangle piece;         /* the current piece, after _next ()      */
} SegNpyPieces;

/* Starts the pieces of extent, whose rows are file_width pixels long in
 * the file, and returns memory for the largest one (free it), or NULL
 * with error set. */
guint8 *seg_npy_pieces_init (SegNpyPieces        *pieces,
                             const GeglRectangle *extent,
                             gint                 file_width,
                             gsize                bytes_per_pixel,
                             GError             **error);
/* Moves to the next piece; FALSE after the last. */
gboolean seg_npy_pieces_next (SegNpyPieces *pieces);

/* Opens path for reading and tells its size; NULL with *problem set to a
 * message for the user (free it) when it cannot be read. */
GInputStream *seg_npy_open (const gchar *path, goffset *size, gchar **problem);

/* Reads up to size bytes at offset: the count read (less only at the end
 * of the file), or -1 with error set. */
gssize seg_npy_read_at (
  GInputStream *in, goffset offset, gpointer buf, gsize size, GError **error);

/* Parses the header at the start of in into header; NULL, or a message for
 * the user saying what is wrong (free it). */
gchar *seg_npy_read_header (GInputStream *in, SegNpyHeader *header);

/* The header's shape as NumPy prints it, such as (3, 4) or (5,). */
gchar *seg_npy_shape_text (const SegNpyHeader *header);

/* What a seg:npy-load node read (seg-npy-load.c), for the ops downstream:
 * FALSE when node is not seg:npy-load or has no file yet; else the header
 * of the file its pixels come from, and the reason it could not read or
 * load that file whole, or NULL.  Both belong to the node. */
gboolean seg_npy_load_state (GeglNode            *node,
                             const SegNpyHeader **header,
                             const gchar        **problem);

/* Makes seg:npy-save the saver of .npy files, ahead of GEGL's own
 * gegl:npy-save whatever order the modules load in.  Call it from
 * gegl_module_register (), after every op is registered. */
void seg_npy_register_saver (GTypeModule *module);

/* Registers the seg formats with babl.  The module does it when it loads,
 * so that clients (the Python package, any program) can name them before
 * an op of the module has run. */
void seg_npy_register_formats (void);

G_END_DECLS

#endif
