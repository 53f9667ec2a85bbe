/* SPDX-License-Identifier: LGPL-3.0-or-later
 *
 * The header of NumPy's .npy files: parsing (format versions 1.0, 2.0 and
 * 3.0) and writing, on memory buffers, without any file I/O.
 * https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html
 *
 * A file is the magic string "\x93NUMPY", two version bytes (major, minor),
 * the header length (2 bytes little-endian for 1.0, 4 bytes for 2.0 and
 * 3.0), then the header: a Python dictionary literal with exactly the keys
 * 'descr' (the dtype, such as '<u4'), 'fortran_order' (True or False) and
 * 'shape' (a tuple of whole numbers), padded with spaces and ended by a
 * newline.  The array's bytes follow the header.
 */
#ifndef SEG_NPY_H
#define SEG_NPY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Dimensions a header may have (a stack of multi-component images). */
#define SEG_NPY_MAX_DIMS 4
/* Bytes that always tell the size of the header: magic, version, length. */
#define SEG_NPY_PRELUDE_SIZE 12
/* Longer headers are refused; NumPy itself refuses more than 10000 bytes
 * unless told otherwise, and writes less than 200 for plain arrays. */
#define SEG_NPY_MAX_HEADER_SIZE (1024 * 1024)
/* Room seg_npy_header_write () needs at most. */
#define SEG_NPY_WRITE_MAX_SIZE 256
#define SEG_NPY_DETAIL_SIZE    48

typedef enum
{
  SEG_NPY_OK = 0,
  SEG_NPY_ETRUNCATED, /* fewer bytes than the header takes             */
  SEG_NPY_EMAGIC,     /* not a .npy file                               */
  SEG_NPY_EVERSION,   /* a format version other than 1.0, 2.0, 3.0     */
  SEG_NPY_EHEADER,    /* the dictionary is malformed or too long       */
  SEG_NPY_EDTYPE,     /* a dtype that is not a plain number type       */
  SEG_NPY_ESHAPE,     /* a malformed, negative or overflowing shape    */
} SegNpyStatus;

typedef enum
{
  SEG_NPY_BOOL,  /* 'b1': one byte, 0 or 1 */
  SEG_NPY_UINT,  /* 'u1' 'u2' 'u4' 'u8'    */
  SEG_NPY_INT,   /* 'i1' 'i2' 'i4' 'i8'    */
  SEG_NPY_FLOAT, /* 'f2' 'f4' 'f8'         */
} SegNpyKind;

typedef struct
{
  SegNpyKind kind;
  int        item_size;     /* bytes per element: 1, 2, 4 or 8           */
  bool       big_endian;    /* elements stored most significant byte
                               * first; always false for 1-byte elements */
  bool       fortran_order; /* first axis fastest in memory              */
  int        n_dims;        /* 0 … SEG_NPY_MAX_DIMS                      */
  uint64_t   shape[SEG_NPY_MAX_DIMS];
  uint64_t   n_items;     /* product of the shape (1 for 0 dimensions) */
  uint64_t   data_size;   /* n_items × item_size, at most INT64_MAX    */
  size_t     data_offset; /* bytes before the data: the header's size  */
  int        version;     /* the format's major version: 1, 2 or 3     */

  /* Why parsing failed (NULL on success): a short English phrase, marked
   * for translation with N_ () in seg-npy.c, and the offending text or
   * number from the file (printable ASCII, possibly empty). */
  const char *reason;
  char        detail[SEG_NPY_DETAIL_SIZE];
} SegNpyHeader;

/* Parses the header at the start of data (size bytes, the file's first
 * bytes).  On SEG_NPY_OK every field is set and the array's bytes start at
 * data_offset.  SEG_NPY_ETRUNCATED with data_offset > size means that the
 * prelude was read and the header needs data_offset bytes in all: call
 * again with that many; with data_offset == 0, the file is too short to say.
 * Never reads outside data, never allocates; any input is safe. */
SegNpyStatus
seg_npy_header_parse (const void *data, size_t size, SegNpyHeader *header);

/* Writes a header for kind, item_size, big_endian, fortran_order, n_dims
 * and shape of header, as NumPy does: keys in NumPy's order, padded with
 * spaces so that the data starts at a multiple of 64 bytes, version 1.0
 * when the header fits in 65535 bytes, else 2.0.  Returns the bytes
 * written (the data offset), or 0 when the description is not one that
 * seg_npy_header_parse () accepts or out_size is too small
 * (SEG_NPY_WRITE_MAX_SIZE always suffices). */
size_t
seg_npy_header_write (const SegNpyHeader *header, void *out, size_t out_size);

/* The dtype text of header, such as "<u4" or "|b1" (at least 4 bytes of
 * room); false for a kind and size that .npy files cannot hold. */
bool
seg_npy_dtype_string (const SegNpyHeader *header, char *out, size_t out_size);

/* The status's name, such as "SEG_NPY_EDTYPE", for tests and logs. */
const char *seg_npy_status_name (SegNpyStatus status);

#ifdef __cplusplus
}
#endif

#endif
