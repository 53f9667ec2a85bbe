/* SPDX-License-Identifier: LGPL-3.0-or-later
 *
 * Per-label statistics of a label image or stack, and every label's voxel
 * list, in one or two streaming passes over views of any part of it
 * (DESIGN.md, "Label statistics").  Labels are opaque pixels of any size,
 * compared by bytes (seg-label.h); runs of equal labels along a row, which
 * real segmentations are mostly made of, cost one table lookup each.
 *
 *   SegLabelStats s;
 *   seg_label_stats_init (&s, bpp, sparse);
 *   for each band:                        pass 1: counts, bounds, sums
 *     seg_label_stats_add (&s, &band, x0, y0, z0);
 *   order = seg_label_stats_order (&s, is_signed);
 *   seg_label_stats_first_rows (&s, order, first);
 *   next = a copy of first;
 *   for each band:                        pass 2 (voxel lists), optional
 *     seg_label_stats_list (&s, &band, x0, y0, z0, next, out, 4);
 *   seg_label_stats_free (&s);
 *
 * Coordinates are the stack's own: x and y within a slice, z the slice,
 * from 0 at the stack's origin.  Memory is proportional to the number of
 * labels; the voxel lists go where the caller says: one array of them
 * all, or rooms per label that the caller empties as they fill
 * (SegVoxelRows).
 */
#ifndef SEG_LABEL_STATS_H
#define SEG_LABEL_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "seg-label.h"
#include "seg-volume.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What pass 1 found for one label. */
typedef struct
{
  uint64_t count;
  int64_t  min[3], max[3];       /* x, y, z, inclusive                  */
  uint64_t sum_lo[3], sum_hi[3]; /* Σ x, Σ y, Σ z over its voxels: 128 bits */
} SegLabelStat;

typedef struct
{
  SegLabelTable labels;     /* the distinct labels, numbered as first met */
  SegLabelStat *stats;      /* stats[i]: label number i                  */
  size_t        room;       /* stats allocated                           */
  bool          sparse;     /* background left out …                     */
  SegBackground background; /* … as this says (seg-label.h);
                             * SEG_BACKGROUND_ZEROS after init  */
} SegLabelStats;

/* An empty set of statistics for labels of bpp bytes; false when out of
 * memory (or bpp < 1). */
bool seg_label_stats_init (SegLabelStats *s, int bpp, bool sparse);
void seg_label_stats_free (SegLabelStats *s);

/* Pass 1: counts every voxel of in (any strides), whose voxel (0, 0, 0)
 * is voxel (x0, y0, z0) of the stack.  SEG_EBADARG for a bad view or a
 * voxel size other than the statistics', SEG_ENOMEM when the table cannot
 * grow (the statistics are then incomplete). */
SegStatus seg_label_stats_add (
  SegLabelStats *s, const SegVolume *in, int64_t x0, int64_t y0, int64_t z0);

/* The label numbers in the order of the labels' values: labels of up to
 * 8 bytes as the integers of their little-endian bytes (signed ones as
 * two's complement when is_signed), longer ones by their bytes in memory
 * order (as printed in hex).  NULL when out of memory; free () it. */
size_t *seg_label_stats_order (const SegLabelStats *s, bool is_signed);

/* first[i] = the row of label number i's first voxel in the voxel list,
 * when the labels are listed in order (n = s->labels.n of each); returns
 * the total number of rows. */
uint64_t seg_label_stats_first_rows (const SegLabelStats *s,
                                     const size_t        *order,
                                     uint64_t            *first);

/* Pass 2: for every counted voxel of in, in raster order, writes its
 * (z, y, x) as coord_bytes-byte unsigned little-endian numbers (4 or 8)
 * at row next[i] of out and advances next[i] (i its label's number).
 * Start with next = first (seg_label_stats_first_rows ()) and give the
 * bands in raster order: each label's rows are then in raster order.
 * SEG_EBADARG for a bad view, a label pass 1 did not see or a coordinate
 * that does not fit. */
SegStatus seg_label_stats_list (const SegLabelStats *s,
                                const SegVolume     *in,
                                int64_t              x0,
                                int64_t              y0,
                                int64_t              z0,
                                uint64_t            *next,
                                void                *out,
                                int                  coord_bytes);

/* Where pass 2 writes when the voxel list does not fit in memory at once:
 * label k's next row goes to row next[k] of rows, and rows up to end[k]
 * (exclusive) are its room.  When a run does not fit, flush (data, k) is
 * called first: it must make room (write label k's rows out and move
 * next[k] back), or return false, which stops the pass with SEG_EWRITE.
 * With end NULL every label has room enough (seg_label_stats_list ()). */
typedef struct
{
  uint8_t        *rows;
  uint64_t       *next;
  const uint64_t *end;
  bool (*flush) (void *data, size_t k);
  void *data;
  int   coord_bytes; /* 4 or 8 */
} SegVoxelRows;

/* Pass 2 as seg_label_stats_list (), into out. */
SegStatus seg_label_stats_list_rows (const SegLabelStats *s,
                                     const SegVolume     *in,
                                     int64_t              x0,
                                     int64_t              y0,
                                     int64_t              z0,
                                     SegVoxelRows        *out);

/* The CSV's header row (DESIGN.md, "Label statistics"), with its newline. */
#define SEG_LABEL_STATS_CSV_HEADER                                         \
  "label,count,x_min,y_min,z_min,x_max,y_max,z_max,centroid_x,centroid_y," \
  "centroid_z,first\n"

/* Bytes a CSV row takes at most, its newline and NUL included: the label,
 * eight whole numbers of up to 20 digits and a sign, three %.17g numbers,
 * their commas. */
#define SEG_LABEL_STATS_CSV_ROW_MAX (3 + 2 * SEG_MAX_BPP + 8 * 21 + 3 * 25 + 2)

/* label (bpp bytes) as the CSV prints it, into text (at least
 * 3 + 2 · SEG_MAX_BPP bytes): up to 8 bytes, the integer of its
 * little-endian bytes (two's complement when is_signed); longer, "0x" and
 * its bytes in hex, in memory order.  Returns the length. */
size_t
seg_label_text (const uint8_t *label, int bpp, bool is_signed, char *text);

/* Label number k's CSV row, newline-terminated, into row (at least
 * SEG_LABEL_STATS_CSV_ROW_MAX bytes); first is its first row in the voxel
 * list.  Centroids are printed with 17 significant digits.  Returns the
 * length. */
size_t seg_label_stats_csv_row (
  const SegLabelStats *s, size_t k, bool is_signed, uint64_t first, char *row);

/* The mean of coordinate axis (0: x, 1: y, 2: z) of stat, as close as a
 * double gets to the exact quotient. */
double seg_label_stat_mean (const SegLabelStat *stat, int axis);

#ifdef __cplusplus
}
#endif

#endif
