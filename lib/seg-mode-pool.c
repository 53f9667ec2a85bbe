/* SPDX-License-Identifier: LGPL-3.0-or-later
 *
 * Mode pooling: see seg-mode-pool.h for the contract.
 *
 * Full blocks of the two common shapes (2×2×1 and 2×2×2) on 1-, 2-, 4- and
 * 8-byte labels go through branch-free row kernels (mode-pool-rows.inc)
 * that the compiler vectorises, and for 2×2×2 AVX-512 ones where the CPU
 * has it.  Everything else (other factors, partial blocks at the far
 * edges) goes block by block through the general path: labels of 1, 2,
 * 3, 4, 6 or 8 bytes are copied out as numbers and counted a label a
 * pass (block_mode_* () in mode-pool-rows.inc), then, in blocks crowded
 * with labels, in pairs or in a table keyed by the label; labels of
 * other sizes are listed by address and counted pairwise, or in a hash
 * table when the block has many labels.  A 64×64×64 block costs O(n)
 * either way, not O(n²).
 *
 * The fast kernels are bound by memory, not arithmetic, so they are built
 * around the memory traffic:
 *   - a kernel takes a whole run of output rows and prefetches, in
 *     software, the input it will read PREFETCH_AHEAD bytes later, across
 *     the end of a row into the next row pair.  A pair of short rows is two
 *     short streams that the hardware prefetchers pick up too late, at
 *     well under half the speed of the same bytes read in order;
 *   - a large output (STREAM_MIN_BYTES or more, much larger than the L2
 *     cache) is written with non-temporal stores, which skip reading the
 *     output's cache lines from memory before writing them.
 * With both, a kernel's reads and writes together come close to what the
 * core can read from memory at all (tests/bench-pool.c measures it).
 */
#include "seg-mode-pool.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "seg-label.h"
#include "seg-rows.h"

#if SEG_HAVE_AVX512
#include <immintrin.h>
#endif

/* Distinct labels a block's list holds (mode_listed ()) before the block
 * is hashed instead; blocks of up to this many voxels never are. */
#define LISTED_MAX 16

/* A block's labels are counted a pass each (block_mode_* ()); once
 * PAIRED_AFTER passes are done, PAIRED_MAX labels left or fewer are
 * counted in pairs, and once TABLED_AFTER are, more go to the block's
 * table, which every block of more than LISTED_MAX voxels has (so
 * PAIRED_MAX may not be less). */
#define PAIRED_AFTER 2
#define TABLED_AFTER 8
#define PAIRED_MAX   16

/* A crowded block's labels by value (tabled_mode_* ()): open addressing
 * in a power of two of slots, at least twice the block's voxels;
 * number[h] is 1 + the number of the label in slot h (0: empty), the
 * labels numbered in order of first occurrence. */
typedef struct
{
  uint64_t *key;    /* per slot: its label                 */
  uint32_t *number; /* per slot                            */
  uint64_t *label;  /* per number: the label               */
  uint32_t *count;  /* per number: how often it occurs     */
  size_t    mask;   /* slots - 1                           */
  int       shift;  /* 64 - log2 (slots)                   */
} BlockTable;

/* The slot where key's probe starts: the top bits of a multiplicative
 * hash, which mix every bit of the key. */
static inline size_t
block_slot (const BlockTable *t, uint64_t key)
{
  return (size_t) ((key * 0x9E3779B97F4A7C15ull) >> t->shift);
}

/* One step of an AVX-512 kernel reads 128 bytes of every row. */
static inline void
prefetch_step (Prefetch *pf)
{
  prefetch_bytes (pf, 128);
}

#if SEG_HAVE_AVX512
/* After an AVX-512 kernel's in-lane split (see split_u8 …), 64-bit part j
 * of a result belongs at part SEG_UNSHUFFLE[j]. */
#define SEG_UNSHUFFLE _mm512_set_epi64 (7, 5, 3, 1, 6, 4, 2, 0)
#endif

#define T      uint8_t
#define TBITS  8
#define SUFFIX u8
#include "mode-pool-rows.inc"
#define T      uint16_t
#define TBITS  16
#define SUFFIX u16
#include "mode-pool-rows.inc"
#define T      uint32_t
#define TBITS  32
#define SUFFIX u32
#include "mode-pool-rows.inc"
#define T      uint64_t
#define TBITS  64
#define SUFFIX u64
#include "mode-pool-rows.inc"
/* R'G'B' u8 and u16 labels, as GIMP's layers without alpha hold them. */
#define T            uint32_t
#define TBITS        32
#define SUFFIX       b3
#define PACKED_BYTES 3
#include "mode-pool-rows.inc"
#define T            uint64_t
#define TBITS        64
#define SUFFIX       b6
#define PACKED_BYTES 6
#include "mode-pool-rows.inc"

/* Indexed by row_kernel_index () for bpp 1, 2, 4, 8, 3, 6, then by
 * sparse. */
static const SegRows2x2Fn countless2_fns[6][2] = {
  { countless2_u8, countless2_sparse_u8 },
  { countless2_u16, countless2_sparse_u16 },
  { countless2_u32, countless2_sparse_u32 },
  { countless2_u64, countless2_sparse_u64 },
  { countless2_b3, countless2_sparse_b3 },
  { countless2_b6, countless2_sparse_b6 },
};

static const SegRows2x2x2Fn mode8_fns[6][2] = {
  { mode8_u8, mode8_sparse_u8 },   { mode8_u16, mode8_sparse_u16 },
  { mode8_u32, mode8_sparse_u32 }, { mode8_u64, mode8_sparse_u64 },
  { mode8_b3, mode8_sparse_b3 },   { mode8_b6, mode8_sparse_b6 },
};

#if SEG_HAVE_AVX512
/* 2×2×2 only, for bpp 1, 2, 4 and 8 (row_kernel_index () 0 … 3), then
 * sparse. */
static const SegRowsFn mode8_rows_avx512_fns[4][2] = {
  { mode8_rows_avx512_u8, mode8_sparse_rows_avx512_u8 },
  { mode8_rows_avx512_u16, mode8_sparse_rows_avx512_u16 },
  { mode8_rows_avx512_u32, mode8_sparse_rows_avx512_u32 },
  { mode8_rows_avx512_u64, mode8_sparse_rows_avx512_u64 },
};
#endif

static int
row_kernel_index (int bpp)
{
  switch (bpp)
    {
    case 1: return 0;
    case 2: return 1;
    case 4: return 2;
    case 8: return 3;
    case 3: return 4;
    case 6: return 5;
    default: return -1;
    }
}

/* Scratch for the general path; carved out of the caller's memory. */
typedef struct
{
  const uint8_t **voxels;   /* the block's voxels, raster order           */
  uint64_t       *values;   /* or their labels, for block_mode_* ()       */
  BlockTable      table;    /* blocks of more than LISTED_MAX voxels      */
  uint8_t         alpha[8]; /* a label of up to 8 bytes with its alpha's
                             * bytes set, the rest zero, for sparse     */
  SegLabelTable   labels;   /* large blocks: the block's distinct labels, */
  uint32_t       *count;    /* how often each occurs                      */
  uint32_t       *first;    /* and where (an index into voxels)           */
} Scratch;

/* Slots of a block table for blocks of n voxels. */
static size_t
block_slots (size_t n)
{
  size_t slots = 2;

  while (slots < 2 * n)
    slots *= 2;
  return slots;
}

static size_t
block_table_size (size_t n)
{
  return block_slots (n) * (sizeof (uint64_t) + sizeof (uint32_t)) +
         n * (sizeof (uint64_t) + sizeof (uint32_t));
}

/* A block table in memory of block_table_size (n) bytes (8-byte
 * aligned), its slots empty. */
static BlockTable
block_table_carve (uint8_t *p, size_t n)
{
  const size_t slots = block_slots (n);
  BlockTable   t;

  t.key    = (uint64_t *) (void *) p;
  t.label  = t.key + slots;
  t.number = (uint32_t *) (void *) (t.label + n);
  t.count  = t.number + slots;
  t.mask   = slots - 1;
  t.shift  = 64 - __builtin_ctzll ((unsigned long long) slots);
  memset (t.number, 0, slots * sizeof (uint32_t));
  return t;
}

static size_t
max_block_voxels (const SegFactors *f)
{
  return (size_t) f->x * (size_t) f->y * (size_t) f->z;
}

size_t
seg_mode_pool_scratch_size (const SegFactors *f)
{
  size_t n;

  if (seg_factors_check (f) != SEG_OK)
    return 0;
  n = max_block_voxels (f);
  if (n <= LISTED_MAX)
    return n * (sizeof (uint64_t) + sizeof (const uint8_t *));
  return n * (sizeof (uint64_t) + sizeof (const uint8_t *)) +
         2 * n * sizeof (uint32_t) +
         seg_label_table_fixed_size (n, SEG_MAX_BPP) + block_table_size (n);
}

static Scratch
scratch_carve (void *memory, const SegFactors *f, int bpp)
{
  size_t   n = max_block_voxels (f);
  uint8_t *p = memory;
  Scratch  s = { 0 };

  s.values = (uint64_t *) (void *) p;
  p += n * sizeof (uint64_t);
  s.voxels = (const uint8_t **) (void *) p;
  if (n <= LISTED_MAX)
    return s;
  p += n * sizeof (const uint8_t *);
  s.count = (uint32_t *) (void *) p;
  s.first = s.count + n;
  p += 2 * n * sizeof (uint32_t);
  seg_label_table_init_fixed (&s.labels, p, n, bpp);
  p += seg_label_table_fixed_size (n, SEG_MAX_BPP);
  s.table = block_table_carve (p, n);
  return s;
}

/* Whether sparse pooling leaves voxel v out; sparse is NULL when not
 * sparse. */
static inline bool
left_out (const SegBackground *sparse, const uint8_t *v, int bpp)
{
  return sparse != NULL && seg_label_is_background_in (v, bpp, *sparse);
}

/* Mode of voxels[0 … n-1] by a list of the distinct labels in order of
 * first occurrence, each with its count: O(n × distinct labels), which
 * real label volumes keep small, and no hashing or clearing.  The first
 * label of the list to reach the top count is the one that occurs first
 * in raster order.  Returns NULL when sparse and every voxel is
 * background, and sets *full (leaving the result to mode_hashed ()) when
 * the block has more than LISTED_MAX distinct labels.  bpp is a constant
 * where inlined, so that comparing two labels is one instruction. */
static inline __attribute__ ((always_inline)) const uint8_t *
mode_listed_as (const uint8_t *const *voxels,
                size_t                n,
                int                   bpp,
                const SegBackground  *sparse,
                bool                 *full)
{
  const uint8_t *label[LISTED_MAX];
  uint32_t       count[LISTED_MAX];
  size_t         d = 0, best = 0;

  for (size_t i = 0; i < n; i++)
    {
      size_t k = 0;

      if (left_out (sparse, voxels[i], bpp))
        continue;
      while (k < d && !seg_label_equal (label[k], voxels[i], bpp))
        k++;
      if (k < d)
        count[k]++;
      else if (d == LISTED_MAX)
        {
          *full = true;
          return NULL;
        }
      else
        {
          label[d]   = voxels[i];
          count[d++] = 1;
        }
    }
  if (d == 0)
    return NULL;
  for (size_t k = 1; k < d; k++)
    if (count[k] > count[best])
      best = k;
  return label[best];
}

/* Whether all of voxels[0 … n-1] are one label. */
static inline __attribute__ ((always_inline)) bool
is_uniform_as (const uint8_t *const *voxels, size_t n, int bpp)
{
  for (size_t i = 1; i < n; i++)
    if (!seg_label_equal (voxels[0], voxels[i], bpp))
      return false;
  return true;
}

/* Mode of s->voxels[0 … n-1] by hashing: O(n).  The table numbers labels
 * in order of first occurrence, so the first to reach the top count in
 * that order is the one that occurs first in raster order. */
static const uint8_t *
mode_hashed (Scratch *s, size_t n, int bpp, const SegBackground *sparse)
{
  SegLabelTable *t          = &s->labels;
  const uint8_t *best       = NULL;
  uint32_t       best_count = 0;

  for (size_t i = 0; i < n; i++)
    {
      const uint8_t *v     = s->voxels[i];
      const size_t   known = t->n;
      size_t         k;

      if (left_out (sparse, v, bpp))
        continue;
      k = seg_label_table_add (t, v); /* never full: n labels at most */
      if (k == known)
        {
          s->count[k] = 0;
          s->first[k] = (uint32_t) i;
        }
      s->count[k]++;
    }

  for (size_t k = 0; k < t->n; k++)
    if (s->count[k] > best_count)
      {
        best       = s->voxels[s->first[k]];
        best_count = s->count[k];
      }
  seg_label_table_clear (t); /* empty for the next block */
  return best;
}

/* COUNTLESS and stippled COUNTLESS on one full 2×2 block; the general-size
 * twin of the row kernels, for voxel sizes they do not cover. */
static const uint8_t *
countless2 (const uint8_t       *a,
            const uint8_t       *b,
            const uint8_t       *c,
            const uint8_t       *d,
            int                  bpp,
            const SegBackground *sparse)
{
  if (sparse == NULL)
    {
      if (seg_label_equal (a, b, bpp) || seg_label_equal (a, c, bpp))
        return a;
      return seg_label_equal (b, c, bpp) ? b : d;
    }
  if (!left_out (sparse, a, bpp) &&
      (seg_label_equal (a, b, bpp) || seg_label_equal (a, c, bpp)))
    return a;
  if (!left_out (sparse, b, bpp) && seg_label_equal (b, c, bpp))
    return b;
  if (!left_out (sparse, d, bpp))
    return d;
  if (!left_out (sparse, a, bpp))
    return a;
  if (!left_out (sparse, c, bpp))
    return c;
  return left_out (sparse, b, bpp) ? NULL : b;
}

/* A block of bw × bh × bd voxels from first; countless: a full 2×2×1
 * block of a 2×2×1 pooling. */
typedef struct
{
  const uint8_t *first;
  int            bw, bh, bd;
  bool           countless;
} Block;

/* Block b → one voxel at out by block_mode_* (), for labels of 1, 2, 3,
 * 4, 6 or 8 bytes; false for other sizes and for COUNTLESS blocks, which
 * countless2 () takes. */
static inline __attribute__ ((always_inline)) bool
block_mode (Scratch             *s,
            const SegVolume     *in,
            const Block         *b,
            const SegBackground *sparse,
            uint8_t             *out,
            int                  bpp)
{
#define BLOCK_MODE(SUFFIX, T)                                             \
  block_mode_##SUFFIX (b->first, in->row_stride, in->slice_stride, b->bw, \
                       b->bh, b->bd, sparse != NULL, s->alpha,            \
                       (T *) s->values, &s->table, out)
  if (b->countless)
    return false;
  switch (bpp)
    {
    case 1: BLOCK_MODE (u8, uint8_t); break;
    case 2: BLOCK_MODE (u16, uint16_t); break;
    case 4: BLOCK_MODE (u32, uint32_t); break;
    case 8: BLOCK_MODE (u64, uint64_t); break;
    case 3: BLOCK_MODE (b3, uint32_t); break;
    case 6: BLOCK_MODE (b6, uint64_t); break;
    default: return false;
    }
#undef BLOCK_MODE
  return true;
}

/* Block b → one voxel at out, for voxels of bpp bytes: a constant where
 * inlined, so that comparing and copying labels are single
 * instructions. */
static inline __attribute__ ((always_inline)) void
pool_block_as (Scratch             *s,
               const SegVolume     *in,
               const Block         *b,
               const SegBackground *sparse,
               uint8_t             *out,
               int                  bpp)
{
  size_t         n = 0;
  const uint8_t *best;

  if (block_mode (s, in, b, sparse, out, bpp))
    return;
  for (int z = 0; z < b->bd; z++)
    for (int y = 0; y < b->bh; y++)
      for (int x = 0; x < b->bw; x++)
        s->voxels[n++] = b->first + z * in->slice_stride + y * in->row_stride +
                         (ptrdiff_t) x * bpp;

  if (is_uniform_as (s->voxels, n, bpp))
    best = s->voxels[0]; /* background stays background when sparse */
  else if (b->countless)
    best = countless2 (s->voxels[0], s->voxels[1], s->voxels[2], s->voxels[3],
                       bpp, sparse);
  else
    {
      bool full = false;

      best = mode_listed_as (s->voxels, n, bpp, sparse, &full);
      if (full)
        best = mode_hashed (s, n, bpp, sparse);
    }

  /* A block of background only: its first voxel, background too. */
  memcpy (out, best != NULL ? best : s->voxels[0], (size_t) bpp);
}

static void
pool_block (Scratch             *s,
            const SegVolume     *in,
            const Block         *b,
            const SegBackground *sparse,
            uint8_t             *out)
{
  switch (in->bpp)
    {
    case 1: pool_block_as (s, in, b, sparse, out, 1); break;
    case 2: pool_block_as (s, in, b, sparse, out, 2); break;
    case 4: pool_block_as (s, in, b, sparse, out, 4); break;
    case 8: pool_block_as (s, in, b, sparse, out, 8); break;
    case 3: pool_block_as (s, in, b, sparse, out, 3); break;
    case 6: pool_block_as (s, in, b, sparse, out, 6); break;
    case 12: pool_block_as (s, in, b, sparse, out, 12); break;
    case 16: pool_block_as (s, in, b, sparse, out, 16); break;
    default: pool_block_as (s, in, b, sparse, out, in->bpp); break;
    }
}

/* Number of leading full blocks of one output row that a row kernel can
 * take; the rest (a partial block at the right edge) is left to
 * pool_block.  Zero when no row kernel fits these factors and this row;
 * the row kernels know background as a zero word only. */
static int
fast_blocks (const SegVolume     *in,
             const SegFactors    *f,
             const SegBackground *sparse,
             int                  bh,
             int                  bd)
{
  if (row_kernel_index (in->bpp) < 0 || bh != f->y || bd != f->z || f->x != 2 ||
      f->y != 2 || f->z > 2 || (sparse != NULL && sparse->alpha_size > 0))
    return 0;
  return in->width / 2;
}

/* Output rows 0 … rows-1 of one output slice, n full blocks each, by the
 * best kernel the CPU runs.  first is the slice's first input row. */
static void
pool_rows_fast (const SegVolume  *in,
                const SegVolume  *out,
                const SegFactors *f,
                const uint8_t    *first,
                bool              sparse,
                uint8_t          *out_first,
                size_t            n,
                size_t            rows)
{
  const int k = row_kernel_index (in->bpp);

#if SEG_HAVE_AVX512
  if (f->z == 2 && k < 4 && seg_kernels_avx512 ())
    {
      size_t out_bytes = (size_t) out->width * (size_t) out->height *
                         (size_t) out->depth * (size_t) out->bpp;

      mode8_rows_avx512_fns[k][sparse](first, in->row_stride, in->slice_stride,
                                       out_first, out->row_stride, n, rows,
                                       out_bytes >= STREAM_MIN_BYTES);
      return;
    }
#endif
  seg_pool_rows_portable (f->z == 1 ? countless2_fns[k][sparse] : NULL,
                          mode8_fns[k][sparse], first, in->row_stride,
                          in->slice_stride, (size_t) in->bpp, out_first,
                          out->row_stride, n, rows);
}

static SegStatus
check_args (const SegVolume  *in,
            const SegVolume  *out,
            const SegFactors *f,
            SegBackground     background,
            const void       *scratch)
{
  if (seg_pool_args_check (in, out, f) != SEG_OK || scratch == NULL ||
      !seg_background_check (background, in->bpp))
    return SEG_EBADARG;
  return seg_pooled_shape_check (in, out, f);
}

SegStatus
seg_mode_pool (const SegVolume  *in,
               const SegVolume  *out,
               const SegFactors *f,
               bool              sparse,
               SegBackground     background,
               void             *scratch)
{
  SegStatus            status = check_args (in, out, f, background, scratch);
  const SegBackground *left   = sparse ? &background : NULL;
  Scratch              s;
  int                  bpp;

  if (status != SEG_OK)
    return status;
  bpp = in->bpp; /* only now: in may be NULL */
  s   = scratch_carve (scratch, f, in->bpp);
  if (bpp <= (int) sizeof s.alpha)
    memset (s.alpha + background.alpha_offset, 0xFF,
            (size_t) background.alpha_size);

  for (int oz = 0; oz < out->depth; oz++)
    {
      int            z     = oz * f->z;
      int            bd    = in->depth - z < f->z ? in->depth - z : f->z;
      const uint8_t *slice = (const uint8_t *) in->data + z * in->slice_stride;
      uint8_t       *out_slice = (uint8_t *) out->data + oz * out->slice_stride;
      int            full_rows = in->height / f->y;
      int            n_full    = fast_blocks (in, f, left, f->y, bd);

      /* The full blocks of the slice's full rows in one go; the rest of
       * each row (and the last, partial row) block by block below. */
      if (n_full > 0 && full_rows > 0)
        pool_rows_fast (in, out, f, slice, sparse, out_slice, (size_t) n_full,
                        (size_t) full_rows);

      /* Rows the row kernels did whole need no more work. */
      for (int oy = n_full == out->width ? full_rows : 0; oy < out->height;
           oy++)
        {
          int            y   = oy * f->y;
          int            bh  = in->height - y < f->y ? in->height - y : f->y;
          const uint8_t *row = slice + y * in->row_stride;
          uint8_t       *out_row = out_slice + oy * out->row_stride;
          bool countless = f->x == 2 && f->y == 2 && f->z == 1 && bh == 2;
          int  n_fast    = fast_blocks (in, f, left, bh, bd);

          for (int ox = n_fast; ox < out->width; ox++)
            {
              const int   x  = ox * f->x;
              const int   bw = in->width - x < f->x ? in->width - x : f->x;
              const Block b  = { row + (ptrdiff_t) x * bpp, bw, bh, bd,
                                 countless && bw == 2 };

              pool_block (&s, in, &b, left, out_row + (ptrdiff_t) ox * bpp);
            }
        }
    }
  return SEG_OK;
}
