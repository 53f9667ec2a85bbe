/* SPDX-License-Identifier: LGPL-3.0-or-later
 *
 * The row machinery of the pooling kernels (seg-mode-pool.c,
 * seg-average-pool.c): how their hot loops are compiled, which kernels
 * run, prefetching, when to stream, and the portable row-pair driver.
 * Private to lib/ (and the tests): static inline code.
 *
 * One story for SIMD:
 *
 *  - portable C everywhere; GCC compiles the hot loops marked SEG_CLONES
 *    for AVX-512, AVX2 and baseline x86-64 and picks one at load time
 *    (ifunc).  Elsewhere, or with -DSEG_NO_CLONES, they are plain code
 *    for the build's target;
 *  - hand-written AVX-512 kernels (SEG_AVX512) only where they beat the
 *    portable ones through GEGL (docs/performance.md): 2×2×2 mode pooling,
 *    sparse u8 means, the run boundaries of label statistics and the
 *    single-precision descent directions (docs/label-stats.md,
 *    docs/descent-direction.md).  They run when seg_kernels_avx512 () says so,
 *    decided once per process: the CPU and the OS have the subsets, and
 *    the environment variable SEG_KERNELS is not "portable" (nor "avx2",
 *    which keeps the portable kernels' wide forms, as a CPU with AVX2 and
 *    without AVX-512 runs them: for measuring).  The tests run the kernel
 *    suites once more with SEG_KERNELS=portable, so that the portable
 *    code is checked on AVX-512 machines too.  -DSEG_NO_AVX512 leaves
 *    them out of the build.
 */
#ifndef SEG_ROWS_H
#define SEG_ROWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && \
  defined(__linux__) && !defined(SEG_NO_CLONES)
#define SEG_CLONES \
  __attribute__ (( \
    target_clones ("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#define SEG_HAVE_CLONES 1
#else
#define SEG_CLONES
#define SEG_HAVE_CLONES 0
#endif

#if defined(__GNUC__) && defined(__x86_64__) && !defined(SEG_NO_AVX512)
#define SEG_HAVE_AVX512 1
#define SEG_AVX512 \
  __attribute__ ((target ("avx512f,avx512bw,avx512dq,avx512vl")))
#else
#define SEG_HAVE_AVX512 0
#define SEG_AVX512
#endif

/* TRUE when the hand-written AVX-512 kernels may run (see above). */
bool seg_kernels_avx512 (void);

/* TRUE when portable kernels written for 32-byte vectors may run: the CPU
 * has AVX2 and SEG_KERNELS is not "portable"; else they take their
 * 16-byte form, which GCC compiles well for SSE2 and NEON.  Such a kernel
 * must be compiled for AVX2 too: SEG_CLONES, or a build for AVX2. */
bool seg_kernels_wide (void);

/* seg_prefetch (p, locality) asks for the cache line at p ahead of a read,
 * into the cache levels that locality names as __builtin_prefetch's does
 * (3: all, prefetcht0 on x86; 2: L2 and beyond, prefetcht1);
 * seg_prefetch_write (p) for a write, into all levels.  No-ops where the
 * compiler has no such builtin. */
#if defined(__GNUC__)
#define seg_prefetch(p, locality) __builtin_prefetch ((p), 0, (locality))
#define seg_prefetch_write(p)     __builtin_prefetch ((p), 1, 3)
#else
#define seg_prefetch(p, locality) ((void) (p))
#define seg_prefetch_write(p)     ((void) (p))
#endif

/* Input bytes, summed over the streams a kernel prefetches (see
 * Prefetch), that it prefetches ahead of its loads: enough to cover the
 * memory latency at full bandwidth, with room to spare, on current x86
 * cores. */
#ifndef PREFETCH_AHEAD
#define PREFETCH_AHEAD (16 * 1024)
#endif

/* Cache levels the prefetches fill (seg_prefetch's locality): 3 = all
 * (prefetcht0), 2 = L2 and beyond (prefetcht1). */
#define PREFETCH_L1 3
#define PREFETCH_L2 2

/* Outputs at least this large are written with non-temporal stores: they
 * would leave the caches anyway, and whoever reads them next reads them
 * from memory either way. */
#define STREAM_MIN_BYTES ((size_t) 4 << 20)

/* Software prefetch for a kernel that reads row pairs: rows 2j and 2j+1 of
 * a slice (and, for 2×2×2, the same rows of the next slice), row_bytes
 * bytes of each, for j = 0, 1, …, all rows advancing together.
 *
 *  - linear: where a row pair is one block of memory (the row stride is
 *    the length read: a packed image, a GEGL tile, a band buffer), so are
 *    all the pairs of a slice, and the prefetches walk each slice's block
 *    in address order, two lines for every line the kernel reads from each
 *    of its rows.  When the kernel streams its output past the caches,
 *    they go into L1 (prefetcht0), else into L2, so as not to fight the
 *    output for L1: faster than prefetching rows one by one, or into L2
 *    only, for rows of a few KiB;
 *  - rows: otherwise each row is prefetched by itself, into L2, at the
 *    same distance, from the end of a row on into the same row of the
 *    next pair.
 *
 * Either way the prefetches run on past the kernel's last row pair, as if
 * the view went on: what follows a view in memory is often what is read
 * next (the next slice of a packed stack, the next tile of a GEGL buffer,
 * whose tiles lie one after the other), though not at once: into L2
 * only.  Where it is not, a few kilobytes are fetched for nothing; a
 * prefetch never faults. */
typedef struct
{
  const uint8_t *s[4]; /* the streams: slices, or rows           */
  int            n;    /* how many                               */
  bool           linear;
  bool           to_l1;       /* linear: the view's own lines into L1   */
  size_t         pos;         /* linear: offset of the next prefetch    */
  size_t         end;         /* linear: bytes of a slice's row pairs   */
  ptrdiff_t      pair_stride; /* rows: from one row pair to the next    */
  size_t         row_bytes;
  size_t         row; /* rows: pair and offset of the next one  */
  size_t         off;
} Prefetch;

/* s: the n_rows (2 or 4) rows of the first pair, as above; rs: the row
 * stride; rows: the number of row pairs; streaming: whether the kernel
 * writes with non-temporal stores. */
static inline void
prefetch_init (Prefetch             *pf,
               const uint8_t *const *s,
               int                   n_rows,
               ptrdiff_t             rs,
               size_t                row_bytes,
               size_t                rows,
               bool                  streaming)
{
  *pf = (Prefetch){ .linear = rs > 0 && (size_t) rs == row_bytes };
  if (pf->linear)
    {
      pf->n     = n_rows / 2;
      pf->s[0]  = s[0];
      pf->s[1]  = n_rows == 4 ? s[2] : NULL;
      pf->pos   = PREFETCH_AHEAD / (size_t) pf->n;
      pf->end   = rows * 2 * row_bytes;
      pf->to_l1 = streaming;
      return;
    }
  pf->n = n_rows;
  for (int q = 0; q < n_rows; q++)
    pf->s[q] = s[q];
  pf->pair_stride = 2 * rs;
  pf->row_bytes   = row_bytes > 0 ? row_bytes : 1;
  pf->row         = PREFETCH_AHEAD / (size_t) n_rows / pf->row_bytes;
  pf->off         = PREFETCH_AHEAD / (size_t) n_rows % pf->row_bytes;
}

/* The kernel is about to read `bytes` more bytes (a multiple of 64) of
 * each of its rows. */
static inline void
prefetch_bytes (Prefetch *pf, size_t bytes)
{
  if (pf->linear)
    {
      for (size_t done = 0; done < 2 * bytes; done += 64)
        for (int q = 0; q < pf->n; q++)
          if (pf->to_l1 && pf->pos + done < pf->end)
            seg_prefetch (pf->s[q] + pf->pos + done, PREFETCH_L1);
          else
            seg_prefetch (pf->s[q] + pf->pos + done, PREFETCH_L2);
      pf->pos += 2 * bytes;
      return;
    }
  for (size_t done = 0; done < bytes; done += 64)
    {
      ptrdiff_t at =
        (ptrdiff_t) pf->row * pf->pair_stride + (ptrdiff_t) pf->off;

      for (int q = 0; q < pf->n; q++)
        seg_prefetch (pf->s[q] + at, PREFETCH_L2);
      pf->off += 64;
      while (pf->off >= pf->row_bytes)
        {
          pf->off -= pf->row_bytes;
          pf->row++;
        }
    }
}

/* A portable row kernel: n 2×2×1 blocks whose rows are r0 and r1 … */
typedef void (*SegRows2x2Fn) (const uint8_t *restrict r0,
                              const uint8_t *restrict r1,
                              uint8_t *restrict out,
                              size_t n);
/* … or n 2×2×2 blocks: rows p0, p1 of a slice, p2, p3 of the next. */
typedef void (*SegRows2x2x2Fn) (const uint8_t *restrict p0,
                                const uint8_t *restrict p1,
                                const uint8_t *restrict p2,
                                const uint8_t *restrict p3,
                                uint8_t *restrict out,
                                size_t n);

/* A kernel over a run of output rows of one output slice, each n full 2×2
 * or 2×2×2 blocks: in is the slice's first input row, rs and ss the input
 * strides, ors the output's row stride; stream: write with non-temporal
 * stores.  The AVX-512 kernels have this shape. */
typedef void (*SegRowsFn) (const uint8_t *in,
                           ptrdiff_t      rs,
                           ptrdiff_t      ss,
                           uint8_t       *out,
                           ptrdiff_t      ors,
                           size_t         n,
                           size_t         rows,
                           bool           stream);

/* Output bytes per call of a portable row kernel: small enough to
 * interleave the prefetches with the work, large enough that the calls
 * cost little. */
#define PORTABLE_CHUNK_BYTES 512

/* Output rows 0 … rows-1 of one output slice, n full blocks of bpp-byte
 * voxels each, by row4 (2×2×1 blocks) when it is set, else by row8
 * (2×2×2), prefetching ahead as the AVX-512 kernels do.  first is the
 * slice's first input row; rs and ss the input's strides, ors the
 * output's row stride. */
static inline void
seg_pool_rows_portable (SegRows2x2Fn   row4,
                        SegRows2x2x2Fn row8,
                        const uint8_t *first,
                        ptrdiff_t      rs,
                        ptrdiff_t      ss,
                        size_t         bpp,
                        uint8_t       *out,
                        ptrdiff_t      ors,
                        size_t         n,
                        size_t         rows)
{
  const size_t   chunk     = PORTABLE_CHUNK_BYTES / bpp;
  const int      n_streams = row4 != NULL ? 2 : 4;
  const uint8_t *s[4]      = { first, first + rs, first + ss, first + ss + rs };
  Prefetch       pf;

  prefetch_init (&pf, s, n_streams, rs, 2 * n * bpp, rows, false);
  for (size_t r = 0; r < rows; r++)
    {
      const uint8_t *p = first + (ptrdiff_t) (2 * r) * rs;
      uint8_t       *o = out + (ptrdiff_t) r * ors;

      for (size_t i = 0; i < n; i += chunk)
        {
          size_t m  = n - i < chunk ? n - i : chunk;
          size_t at = 2 * i * bpp;

          prefetch_bytes (&pf, 2 * m * bpp);
          if (row4 != NULL)
            row4 (p + at, p + rs + at, o + i * bpp, m);
          else
            row8 (p + at, p + rs + at, p + ss + at, p + ss + rs + at,
                  o + i * bpp, m);
        }
    }
}

#endif
