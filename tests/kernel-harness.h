/* SPDX-License-Identifier: LGPL-3.0-or-later
 *
 * What the kernel tests (suite lib: plain C and check, no GLib, no GEGL)
 * share: seeded random numbers, views of voxels inside buffers of sentinel
 * bytes, so that any write outside the output view or to the input is
 * caught, and the assertions on them.
 */
#ifndef KERNEL_HARNESS_H
#define KERNEL_HARNESS_H

#include <check.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "seg-volume.h"

/* Fills every byte of a buffer that is not part of a view. */
#define SENTINEL 0xA5

#define N_ELEMENTS(a) ((int) (sizeof (a) / sizeof ((a)[0])))

/* ---- Deterministic random numbers (splitmix64) ------------------------- */

/* The small ones are inline: the fill loops call them once a voxel. */

typedef struct
{
  uint64_t state;
} Rng;

static inline Rng
rng_new (uint64_t seed, uint64_t stream)
{
  /* The stream keeps the tests that share seed numbers independent. */
  Rng r = { seed * 0x9E3779B97F4A7C15ull + (stream << 32) + stream };
  return r;
}

static inline uint64_t
rng_next (Rng *r)
{
  uint64_t z = (r->state += 0x9E3779B97F4A7C15ull);

  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/* A number in 0 … n-1. */
static inline int
rng_below (Rng *r, int n)
{
  return (int) (((rng_next (r) >> 32) * (uint64_t) n) >> 32);
}

/* A number in lo … hi. */
static inline int
rng_range (Rng *r, int lo, int hi)
{
  return lo + rng_below (r, hi - lo + 1);
}

static inline bool
rng_chance (Rng *r, int percent)
{
  return rng_below (r, 100) < percent;
}

/* ---- Buffers: a view plus sentinel padding ----------------------------- */

typedef struct
{
  int  row_pad;    /* bytes after each row                         */
  int  slice_pad;  /* bytes after each slice                       */
  bool flip_y;     /* rows stored bottom-up: negative row stride   */
  bool flip_z;     /* slices stored last-first: negative slice stride */
} Strides;

extern const Strides packed;

typedef struct
{
  uint8_t  *mem;   /* the whole allocation, view and padding */
  size_t    size;
  SegVolume v;
} Buf;

/* A w × h × d view of bpp-byte voxels; every byte, inside the view or
 * not, starts as SENTINEL.  bpp is not checked, so that error tests can
 * build views of invalid voxel sizes with consistent strides. */
Buf       buf_new               (int w, int h, int d, int bpp, Strides l);
void      buf_free              (Buf *b);

static inline uint8_t *
at (const SegVolume *v, int x, int y, int z)
{
  return (uint8_t *) v->data + z * v->slice_stride + y * v->row_stride +
         (ptrdiff_t) x * v->bpp;
}

/* Copies packed voxels (x fastest, then y, then z) into a view. */
void      put_packed            (const SegVolume *v, const void *voxels);

/* A malloc ()ed copy of n bytes at p. */
void     *copy_of               (const void *p, size_t n);

/* Scratch of exactly size bytes, so that ASan and valgrind see any
 * overrun, filled with garbage since the kernels' contract does not ask
 * the caller to clear it. */
void     *scratch_of_size       (size_t size);

/* No padding, or (60 %) random padding of any number of bytes and random
 * flips. */
Strides   random_strides        (Rng *r, int bpp);
void      describe_strides      (char *buf, size_t n, const Strides *l);

/* ---- Assertions -------------------------------------------------------- */

typedef struct
{
  char s[2 * SEG_MAX_BPP + 1];
} Hex;

/* n bytes (≤ SEG_MAX_BPP) in hex. */
Hex       hex_of                (const uint8_t *p, int n);

/* Every byte of b that lies outside its view still holds SENTINEL. */
void      assert_padding_intact (const Buf *b, const char *context);

/* in's memory, view and padding, is as copy_of () saw it before the
 * call: the kernels never write to their input. */
void      assert_input_unchanged (const Buf     *in,
                                  const uint8_t *before,
                                  const char    *context);

/* Every byte of out still holds SENTINEL: the call that failed wrote
 * nothing. */
void      assert_output_untouched (const Buf *out, const char *context);

void      assert_status         (SegStatus   got,
                                 SegStatus   want,
                                 const char *context);

/* ---- Suites ------------------------------------------------------------ */

/* A test case of the n tests, with a timeout in seconds. */
void      add_tcase             (Suite             *s,
                                 const char        *name,
                                 int                timeout,
                                 const TTest *const *tests,
                                 int                n);

/* Runs the suite (freeing it); the program's exit status. */
int       run_suite             (Suite *s);

#endif
