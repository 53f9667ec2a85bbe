/* SPDX-License-Identifier: LGPL-3.0-or-later
 *
 * What the kernel tests (suite lib: plain C and check, no GLib, no GEGL)
 * share: seeded random numbers, views of voxels inside buffers of sentinel
 * bytes, so that any write outside the output view or to the input is
 * caught, the assertions on them, and the checks that mode and average
 * pooling both pass the same way (against the reference, in slabs, with
 * reused scratch, on bad arguments), given as a Kernel.
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
  int  row_pad;   /* bytes after each row                         */
  int  slice_pad; /* bytes after each slice                       */
  bool flip_y;    /* rows stored bottom-up: negative row stride   */
  bool flip_z;    /* slices stored last-first: negative slice stride */
} Strides;

extern const Strides packed;

typedef struct
{
  uint8_t  *mem; /* the whole allocation, view and padding */
  size_t    size;
  SegVolume v;
} Buf;

/* A w × h × d view of bpp-byte voxels; every byte, inside the view or
 * not, starts as SENTINEL.  bpp is not checked, so that error tests can
 * build views of invalid voxel sizes with consistent strides. */
Buf  buf_new (int w, int h, int d, int bpp, Strides l);
void buf_free (Buf *b);

static inline uint8_t *
at (const SegVolume *v, int x, int y, int z)
{
  return (uint8_t *) v->data + z * v->slice_stride + y * v->row_stride +
         (ptrdiff_t) x * v->bpp;
}

/* Copies packed voxels (x fastest, then y, then z) into a view. */
void put_packed (const SegVolume *v, const void *voxels);

/* A malloc ()ed copy of n bytes at p. */
void *copy_of (const void *p, size_t n);

/* Scratch of exactly size bytes, so that ASan and valgrind see any
 * overrun, filled with garbage since the kernels' contract does not ask
 * the caller to clear it. */
void *scratch_of_size (size_t size);

/* No padding, or (60 %) random padding of any number of bytes and random
 * flips. */
Strides random_strides (Rng *r, int bpp);
void    describe_strides (char *buf, size_t n, const Strides *l);

/* ---- The kernel under test -------------------------------------------- */

/* How the shared checks call a pooling kernel: the kernel itself, the
 * reference it must agree with, the scratch it asks for, and when two of
 * its output voxels are the same.  data goes to each of them (averaging
 * keeps its pixel layout there). */
typedef struct
{
  SegStatus (*pool) (const SegVolume  *in,
                     const SegVolume  *out,
                     const SegFactors *f,
                     bool              sparse,
                     void             *scratch,
                     const void       *data);
  void (*reference) (const SegVolume  *in,
                     const SegVolume  *out,
                     const SegFactors *f,
                     bool              sparse,
                     const void       *data);
  size_t (*scratch_size) (const SegFactors *f, const void *data);
  bool (*voxels_equal) (const uint8_t *a,
                        const uint8_t *b,
                        int            bpp,
                        const void    *data);
  const void *data;
} Kernel;

/* voxels_equal for outputs that must match byte for byte. */
bool
bytes_equal (const uint8_t *a, const uint8_t *b, int bpp, const void *data);

/* Scratch of exactly the size the kernel asks for f. */
void *kernel_scratch (const Kernel *k, const SegFactors *f);

/* The shape of a random case.  fast: factors 2,2,1 or 2,2,2, the shapes
 * with row kernels, at widths ≥ 2 so that there are full blocks; in
 * wide_percent % of them a few rows up to widest voxels long, so that the
 * vectorised loop bodies run and not only their scalar tails.  Otherwise
 * 1 … 40 × 1 … 40 × 1 … 5 voxels and factors 1 … 5 on every axis. */
void random_shape (Rng        *r,
                   bool        fast,
                   int         wide_percent,
                   int         widest,
                   int        *w,
                   int        *h,
                   int        *d,
                   SegFactors *f);

/* ---- Assertions -------------------------------------------------------- */

typedef struct
{
  char s[2 * SEG_MAX_BPP + 1];
} Hex;

/* n bytes (≤ SEG_MAX_BPP) in hex. */
Hex hex_of (const uint8_t *p, int n);

/* Every byte of b that lies outside its view still holds SENTINEL. */
void assert_padding_intact (const Buf *b, const char *context);

/* in's memory, view and padding, is as copy_of () saw it before the
 * call: the kernels never write to their input. */
void assert_input_unchanged (const Buf     *in,
                             const uint8_t *before,
                             const char    *context);

/* Every byte of out still holds SENTINEL: the call that failed wrote
 * nothing. */
void assert_output_untouched (const Buf *out, const char *context);

void assert_status (SegStatus got, SegStatus want, const char *context);

/* Fails with the first voxel where got and want differ by k's
 * voxels_equal. */
void assert_volumes_equal (const Kernel    *k,
                           const SegVolume *got,
                           const SegVolume *want,
                           const char      *context);

/* ---- Checks that both kernels pass ------------------------------------- */

/* Pools in with the kernel into a new view laid out as out_strides, and
 * with the reference into a packed one, and asserts: SEG_OK, the same
 * voxels, the output's padding and the input untouched.  scratch NULL:
 * scratch of exactly the size f needs. */
void assert_matches_reference (const Kernel     *k,
                               const Buf        *in,
                               Strides           out_strides,
                               const SegFactors *f,
                               bool              sparse,
                               void             *scratch,
                               const char       *context);

/* Pools packed w × h × d voxels, repeated tiles times side by side, with
 * the kernel into a padded output, and checks that the reference gives the
 * same, so that a hand-worked expectation that fails on both points at the
 * test or the contract, one that fails on the kernel alone at the kernel;
 * and that every tile gives the first one's output.  Returns the packed
 * output of one tile, which the caller frees. */
uint8_t *pool_packed (const Kernel *k,
                      const void   *voxels,
                      int           w,
                      int           h,
                      int           d,
                      int           bpp,
                      SegFactors    f,
                      bool          sparse,
                      int           tiles,
                      const char   *context);

/* Pools in into out with one call, then again in slabs of 8 output rows
 * (sub-views of in that start on a block edge), and asserts that out's
 * padding is intact and that the slabs give out's rows.  For outputs of
 * several MiB, which the kernels may write otherwise (non-temporal stores)
 * than the small ones of the other tests, and where the reference would be
 * slow: the slabs' small outputs take the paths those tests check. */
void assert_slabs_match_whole (const Kernel     *k,
                               const Buf        *in,
                               const Buf        *out,
                               const SegFactors *f,
                               bool              sparse,
                               const char       *context);

/* Fills v with the input of call number call of a test; data is the
 * kernel's. */
typedef void (*FillInput) (Rng             *r,
                           const SegVolume *v,
                           int              call,
                           const void      *data);

/* One scratch of exactly the size for sequence[0], the largest factors,
 * then one call with each factors of the sequence in turn (sparse on the
 * odd calls), against the reference: the scratch of some factors serves
 * smaller ones, and a call leaves it fit for the next.  The inputs are
 * 37 × 21 × 6 voxels of bpp bytes that fill makes from rng_new (call, 5). */
void assert_scratch_serves_smaller_factors (
  const Kernel *k, int bpp, const SegFactors *sequence, int n, FillInput fill);

/* ---- Argument errors ---------------------------------------------------- */

/* A valid 5 × 4 × 3 input of bpp-byte voxels, factors 2,2,2, and an output
 * view of the right size (3 × 2 × 2) inside a larger buffer: views made too
 * large by a test still lie inside the memory, and any write shows as a
 * changed byte.  The caller fills the input. */
typedef struct
{
  Buf        in, out;
  SegFactors f;
  void      *scratch;
} ErrorFixture;

ErrorFixture error_fixture_new (const Kernel *k, int bpp);
void         error_fixture_free (ErrorFixture *a);

/* One check on a fresh fixture: a bad argument or two, or none. */
typedef void (*FixtureCheck) (const Kernel *k, const ErrorFixture *a);

/* Calls the kernel, sparse and not, and expects status want and a's output
 * buffer untouched (every byte still SENTINEL). */
void assert_rejected (const Kernel       *k,
                      const ErrorFixture *a,
                      const SegVolume    *in,
                      const SegVolume    *out,
                      const SegFactors   *f,
                      void               *scratch,
                      SegStatus           want,
                      const char         *what);

/* The fixture as it is gives SEG_OK, so that each error test fails for the
 * one reason it changes. */
void assert_fixture_accepted (const Kernel *k, const ErrorFixture *a);

/* NULL input, output, factors, input data and output data: SEG_EBADARG. */
void assert_null_pointers_rejected (const Kernel *k, const ErrorFixture *a);

/* Each of the n sizes as the width, height and depth of the input and of
 * the output: SEG_EBADARG. */
void assert_sizes_rejected (const Kernel       *k,
                            const ErrorFixture *a,
                            const int          *bad,
                            int                 n);

/* Each of the n factors along x, y and z: SEG_EBADARG. */
void assert_factors_rejected (const Kernel       *k,
                              const ErrorFixture *a,
                              const int          *bad,
                              int                 n);

/* Input rows that overlap (either stride sign), slices that overlap, and a
 * row stride of 0: SEG_EBADARG. */
void assert_overlapping_views_rejected (const Kernel *k, const ErrorFixture *a);

/* An output one voxel too large or too small along each axis:
 * SEG_EBADSIZE. */
void assert_wrong_output_sizes_rejected (const Kernel       *k,
                                         const ErrorFixture *a);

/* The scratch size is 0 for NULL factors and for each of the n bad ones. */
void assert_scratch_size_zero (const Kernel *k, const SegFactors *bad, int n);

/* The scratch size is positive for each of the n factors, and never
 * smaller than for the one before: the header lets scratch for some
 * factors serve smaller ones. */
void assert_scratch_size_grows (const Kernel *k, const SegFactors *grow, int n);

/* ---- Suites ------------------------------------------------------------ */

/* A test case of the n tests, with a timeout in seconds. */
void add_tcase (
  Suite *s, const char *name, int timeout, const TTest *const *tests, int n);

/* A test case of test run for _i = 0 … n-1 (a table's rows, random
 * seeds), with a timeout in seconds; more tests can be added to it. */
TCase *add_loop_tcase (
  Suite *s, const char *name, int timeout, const TTest *test, int n);

/* Runs the suite (freeing it) in this process, without forking; the
 * program's exit status. */
int run_suite (Suite *s);

#endif
