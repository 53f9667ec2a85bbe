/* SPDX-License-Identifier: LGPL-3.0-or-later
 *
 * Labels: a pixel's bytes, whatever their format, compared as bytes
 * (DESIGN.md, "Pixels as labels").  What every label kernel shares: the
 * equality and background tests, a hash, and a table that numbers the
 * distinct labels it meets in order of first occurrence (mode pooling
 * counts a block's labels in one; label statistics will number a whole
 * volume's).
 */
#ifndef SEG_LABEL_H
#define SEG_LABEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Two labels are equal when all their bytes are. */
static inline bool
seg_label_equal (const uint8_t *a, const uint8_t *b, int bpp)
{
  return memcmp (a, b, (size_t) bpp) == 0;
}

static inline bool
seg_bytes_are_zero (const uint8_t *p, int n)
{
  for (int i = 0; i < n; i++)
    if (p[i] != 0)
      return false;
  return true;
}

/* Where a format keeps its alpha, for the background test of formats
 * with one.  A GIMP layer that gains an alpha channel turns its black
 * background into opaque black, whose bytes are not all zero; such
 * pixels must stay background, and so must fully transparent ones. */
typedef struct
{
  int alpha_offset; /* first byte of the alpha component          */
  int alpha_size;   /* its bytes; 0 when the format has no alpha  */
} SegBackground;

/* Formats without alpha: background is all bytes zero. */
#define SEG_BACKGROUND_ZEROS ((SegBackground){ 0, 0 })

/* Background in a format described by bg: all bytes zero; with an alpha
 * component, also an alpha of zero bytes (fully transparent) or colour
 * components that are all zero bytes (black, at any alpha). */
static inline bool
seg_label_is_background_in (const uint8_t *p, int bpp, SegBackground bg)
{
  const int after = bg.alpha_offset + bg.alpha_size;

  if (bg.alpha_size == 0)
    return seg_bytes_are_zero (p, bpp);
  return seg_bytes_are_zero (p + bg.alpha_offset, bg.alpha_size) ||
         (seg_bytes_are_zero (p, bg.alpha_offset) &&
          seg_bytes_are_zero (p + after, bpp - after));
}

/* true when bg fits labels of bpp bytes, with colour besides the alpha. */
static inline bool
seg_background_check (SegBackground bg, int bpp)
{
  return bg.alpha_size == 0 ||
         (bg.alpha_offset >= 0 && bg.alpha_size > 0 &&
          bg.alpha_offset + bg.alpha_size <= bpp && bg.alpha_size < bpp);
}

/* A hash of a label's bytes, eight at a time; equal labels hash equal. */
static inline uint64_t
seg_label_hash (const uint8_t *p, int bpp)
{
  uint64_t h = (uint64_t) bpp;

  for (int i = 0; i < bpp; i += 8)
    {
      uint64_t word = 0;
      int      len  = bpp - i < 8 ? bpp - i : 8;

      memcpy (&word, p + i, (size_t) len);
      h = (h ^ word) * 0x9E3779B97F4A7C15ull;
      h ^= h >> 29;
    }
  return h;
}

/* What seg_label_table_add () returns when a table is full and cannot
 * grow. */
#define SEG_LABEL_NONE SIZE_MAX

/* The distinct labels met so far, numbered 0, 1, … in order of first
 * occurrence, each held as a copy of its bytes.  Open addressing, at most
 * half full.  A table lives in memory of its own, which it grows, or in
 * fixed memory that the caller provides (a kernel's scratch), which holds
 * capacity labels at most. */
typedef struct
{
  int       bpp;
  size_t    n;        /* labels held                                  */
  size_t    capacity; /* labels it holds before it must grow          */
  size_t    mask;     /* slots - 1, slots a power of two ≥ 2 capacity */
  uint32_t *slots;    /* 1 + a label's number; 0: free                */
  uint8_t  *labels;   /* n × bpp bytes, in number order               */
  bool      grows;    /* its own memory (seg_label_table_init ())     */
} SegLabelTable;

/* Bytes of fixed memory that a table of capacity labels of bpp bytes
 * takes; 0 when that is more than size_t holds or than 2³² - 1 labels. */
size_t seg_label_table_fixed_size (size_t capacity, int bpp);

/* A table in memory (seg_label_table_fixed_size () bytes, aligned for
 * uint32_t) for up to capacity labels. */
void seg_label_table_init_fixed (SegLabelTable *t,
                                 void          *memory,
                                 size_t         capacity,
                                 int            bpp);

/* A table in memory of its own, which grows as labels come; false when
 * out of memory.  Free it with seg_label_table_free (). */
bool seg_label_table_init (SegLabelTable *t, int bpp);

/* The number of label, which is added when new; SEG_LABEL_NONE when it is
 * new and the table cannot take it (full fixed memory, or out of
 * memory). */
size_t seg_label_table_add (SegLabelTable *t, const uint8_t *label);

/* The number of label; SEG_LABEL_NONE when the table does not hold it. */
size_t seg_label_table_find (const SegLabelTable *t, const uint8_t *label);

/* seg_label_table_find () inline, for callers that pass bpp (which must
 * be t->bpp) as a constant: the hash and the compare become a few
 * instructions for labels of 1, 2, 4 or 8 bytes.  _hashed: with the
 * label's seg_label_hash () already at hand. */
static inline size_t
seg_label_table_find_hashed (const SegLabelTable *t,
                             const uint8_t       *label,
                             int                  bpp,
                             uint64_t             hash)
{
  size_t h = (size_t) hash & t->mask;

  for (;; h = (h + 1) & t->mask)
    {
      const uint32_t v = t->slots[h];

      if (v == 0)
        return SEG_LABEL_NONE;
      if (seg_label_equal (t->labels + (size_t) (v - 1) * (size_t) bpp, label,
                           bpp))
        return v - 1;
    }
}

static inline size_t
seg_label_table_find_inline (const SegLabelTable *t,
                             const uint8_t       *label,
                             int                  bpp)
{
  return seg_label_table_find_hashed (t, label, bpp,
                                      seg_label_hash (label, bpp));
}

/* The bytes of label number i (< t->n). */
static inline const uint8_t *
seg_label_table_label (const SegLabelTable *t, size_t i)
{
  return t->labels + i * (size_t) t->bpp;
}

/* Empties the table, in time proportional to the labels it held. */
void seg_label_table_clear (SegLabelTable *t);

/* Frees a table's own memory (nothing for fixed memory). */
void seg_label_table_free (SegLabelTable *t);

#ifdef __cplusplus
}
#endif

#endif
