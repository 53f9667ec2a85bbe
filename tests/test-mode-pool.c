/* SPDX-License-Identifier: LGPL-3.0-or-later
 *
 * Unit tests of seg_mode_pool() (lib/seg-mode-pool.c), without GEGL.
 *
 *   - seeded random volumes of every shape, factor, voxel size and layout,
 *     compared with ref_mode_pool() (tests/ref-mode-pool.c);
 *   - one START_TEST per tie and edge rule of DESIGN.md, with the expected
 *     output worked out by hand (and the reference held to it as well);
 *   - large blocks (16³, 64³) against an independent sort-based count;
 *   - argument validation: every bad argument gets its status and leaves
 *     the output untouched.
 *
 * Views are surrounded by sentinel bytes so that any write outside the
 * output view, or any write to the input, is caught.
 */
#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel-harness.h"
#include "ref-mode-pool.h"
#include "seg-mode-pool.h"

/* The voxel sizes the random and hand-written tests run at: the kernel's
 * word-sized fast paths (1, 2, 4, 8) and its general byte-string path. */
static const int label_sizes[] = { 1, 2, 3, 4, 6, 8, 12, 16 };


/* Scratch of exactly the size the library asks for. */
static void *
scratch_new (const SegFactors *f)
{
  return scratch_of_size (seg_mode_pool_scratch_size (f));
}


/* ---- Assertions -------------------------------------------------------- */

/* Fails with the first differing voxel.  Plain ifs rather than ck_assert
 * in the loop: check marks a point per assertion, which is slow. */
static void
assert_volumes_equal (const SegVolume *got, const SegVolume *want,
                      const char *context)
{
  for (int z = 0; z < want->depth; z++)
    for (int y = 0; y < want->height; y++)
      for (int x = 0; x < want->width; x++)
        {
          const uint8_t *g = at (got, x, y, z), *w = at (want, x, y, z);

          if (memcmp (g, w, (size_t) want->bpp) != 0)
            ck_abort_msg ("%s: first difference at x %d, y %d, z %d: "
                          "got %s, want %s", context, x, y, z,
                          hex_of (g, want->bpp).s, hex_of (w, want->bpp).s);
        }
}


/* ---- Labels ------------------------------------------------------------ */

static bool
is_zero (const uint8_t *p, int n)
{
  for (int i = 0; i < n; i++)
    if (p[i] != 0)
      return false;
  return true;
}

typedef enum
{
  ALPHABET_RANDOM,      /* every byte random                                */
  ALPHABET_HIGH_BYTES,  /* one shared label, each changed in one upper byte */
  ALPHABET_ONE_BYTE,    /* all zero but one byte: close to background       */
  N_ALPHABET_STYLES
} AlphabetStyle;

static const char *const style_names[] = { "random", "high-bytes", "one-byte" };

/* k labels of bpp bytes at alphabet.  The styles make labels that a kernel
 * comparing only some of the bytes (the low ones, the first word) or
 * testing only some bytes for background would confuse.  Label 0 is
 * background when with_background; no other label is. */
static void
make_alphabet (Rng *r, uint8_t *alphabet, int k, int bpp,
               AlphabetStyle style, bool with_background)
{
  uint8_t base[SEG_MAX_BPP];

  for (int i = 0; i < bpp; i++)
    base[i] = (uint8_t) rng_next (r);

  for (int j = 0; j < k; j++)
    {
      uint8_t *label = alphabet + (size_t) j * (size_t) bpp;

      switch (style)
        {
        case ALPHABET_RANDOM:
          for (int i = 0; i < bpp; i++)
            label[i] = (uint8_t) rng_next (r);
          break;
        case ALPHABET_HIGH_BYTES:
          memcpy (label, base, (size_t) bpp);
          label[rng_range (r, bpp / 2, bpp - 1)] = (uint8_t) rng_next (r);
          break;
        default:
          memset (label, 0, (size_t) bpp);
          label[rng_below (r, bpp)] = (uint8_t) rng_range (r, 1, 255);
          break;
        }
      if (is_zero (label, bpp))
        label[bpp - 1] = 0x80;
    }
  if (with_background)
    memset (alphabet, 0, (size_t) bpp);
}

/* Fills a view with labels from the alphabet.  With probability clump %
 * a voxel copies its left or upper neighbour instead, which makes uniform
 * blocks, pairs and ties common. */
static void
fill_labels (Rng *r, const SegVolume *v, const uint8_t *alphabet, int k,
             int clump)
{
  const size_t bpp = (size_t) v->bpp;

  for (int z = 0; z < v->depth; z++)
    for (int y = 0; y < v->height; y++)
      for (int x = 0; x < v->width; x++)
        {
          const uint8_t *src;

          if (x > 0 && rng_chance (r, clump))
            src = at (v, x - 1, y, z);
          else if (y > 0 && rng_chance (r, clump))
            src = at (v, x, y - 1, z);
          else
            src = alphabet + bpp * (size_t) rng_below (r, k);
          memcpy (at (v, x, y, z), src, bpp);
        }
}


/* ---- Random comparison with the reference ------------------------------ */

typedef struct
{
  int           seed;
  int           w, h, d, bpp;
  SegFactors    f;
  bool          sparse;
  Strides       in_layout, out_layout;
  int           n_labels;
  bool          with_background;
  AlphabetStyle style;
  int           clump;
} Case;

static Case
random_case (Rng *r, int seed, bool fast_shape)
{
  static const int alphabet_sizes[] = { 2, 2, 3, 4, 6, 16, 64 };
  Case c;

  c.seed = seed;
  c.bpp  = label_sizes[rng_below (r, N_ELEMENTS (label_sizes))];
  if (fast_shape)
    {
      /* The shapes with row kernels: full blocks need widths ≥ 2, and wide
       * rows so that the vectorised loop bodies, not just their scalar
       * tails, run (64 one-byte blocks per AVX-512 step). */
      c.f.x = c.f.y = 2;
      c.f.z = rng_range (r, 1, 2);
      if (rng_chance (r, 25))
        {
          c.w = rng_range (r, 2, 300);
          c.h = rng_range (r, 1, 6);
          c.d = rng_range (r, 1, 3);
        }
      else
        {
          c.w = rng_range (r, 2, 40);
          c.h = rng_range (r, 1, 40);
          c.d = rng_range (r, 1, 5);
        }
    }
  else
    {
      c.w   = rng_range (r, 1, 40);
      c.h   = rng_range (r, 1, 40);
      c.d   = rng_range (r, 1, 5);
      c.f.x = rng_range (r, 1, 5);
      c.f.y = rng_range (r, 1, 5);
      c.f.z = rng_range (r, 1, 5);
    }
  c.sparse          = rng_chance (r, 50);
  c.in_layout       = random_strides (r, c.bpp);
  c.out_layout      = random_strides (r, c.bpp);
  c.n_labels        = alphabet_sizes[rng_below (r, N_ELEMENTS (alphabet_sizes))];
  c.with_background = c.n_labels == 2 ? rng_chance (r, 75) : rng_chance (r, 50);
  c.style           = (AlphabetStyle) rng_below (r, N_ALPHABET_STYLES);
  c.clump           = rng_chance (r, 50) ? 0 : rng_range (r, 10, 70);
  return c;
}

static void
describe_case (char *buf, size_t n, const Case *c)
{
  char in_l[80], out_l[80];

  describe_strides (in_l, sizeof in_l, &c->in_layout);
  describe_strides (out_l, sizeof out_l, &c->out_layout);
  snprintf (buf, n,
            "seed %d: input %d×%d×%d, factors %d,%d,%d, bpp %d, sparse %s, "
            "%d %s labels%s, clump %d%%, input layout %s, output layout %s",
            c->seed, c->w, c->h, c->d, c->f.x, c->f.y, c->f.z, c->bpp,
            c->sparse ? "on" : "off", c->n_labels, style_names[c->style],
            c->with_background ? " with background" : "", c->clump, in_l,
            out_l);
}

static void
run_case (Rng *r, const Case *c)
{
  const int ow = seg_pooled_size (c->w, c->f.x);
  const int oh = seg_pooled_size (c->h, c->f.y);
  const int od = seg_pooled_size (c->d, c->f.z);
  uint8_t   alphabet[64 * 16];
  char      context[512];
  Buf       in   = buf_new (c->w, c->h, c->d, c->bpp, c->in_layout);
  Buf       out  = buf_new (ow, oh, od, c->bpp, c->out_layout);
  Buf       want = buf_new (ow, oh, od, c->bpp, packed);
  void     *scratch = scratch_new (&c->f);
  uint8_t  *in_before;
  SegStatus status;

  make_alphabet (r, alphabet, c->n_labels, c->bpp, c->style,
                 c->with_background);
  fill_labels (r, &in.v, alphabet, c->n_labels, c->clump);
  in_before = copy_of (in.mem, in.size);
  describe_case (context, sizeof context, c);

  status = seg_mode_pool (&in.v, &out.v, &c->f, c->sparse, scratch);
  ref_mode_pool (&in.v, &want.v, &c->f, c->sparse);

  assert_status (status, SEG_OK, context);
  assert_volumes_equal (&out.v, &want.v, context);
  assert_padding_intact (&out, context);
  assert_input_unchanged (&in, in_before, context);

  free (in_before);
  free (scratch);
  buf_free (&in);
  buf_free (&out);
  buf_free (&want);
}

/* Every factor 1 … 5 on every axis, every voxel size, any layout. */
START_TEST (test_random_volumes_match_reference)
{
  Rng  r = rng_new ((uint64_t) _i, 1);
  Case c = random_case (&r, _i, false);

  run_case (&r, &c);
}
END_TEST

/* The 2×2×1 (COUNTLESS) and 2×2×2 shapes, which have row kernels. */
START_TEST (test_random_2x2_and_2x2x2_volumes_match_reference)
{
  Rng  r = rng_new ((uint64_t) _i, 2);
  Case c = random_case (&r, _i, true);

  run_case (&r, &c);
}
END_TEST


/* ---- Hand-worked cases ------------------------------------------------- */

/* Label number n (0 … 255) at a voxel size: every byte zero but the last,
 * which holds n.  Labels then differ only in their highest byte (as
 * little-endian integers), and number 0 is background. */
static void
small_label (uint8_t *dst, unsigned n, int bpp)
{
  memset (dst, 0, (size_t) bpp);
  dst[bpp - 1] = (uint8_t) n;
}

/* Pools packed w × h × d voxels with the kernel into a padded output, and
 * checks the reference gives the same, so that a hand-worked expectation
 * that fails on both points at the test or the contract, one that fails on
 * the kernel alone at the kernel.  result receives the packed output. */
static void
pool_packed (const void *voxels, int w, int h, int d, int bpp,
             SegFactors f, bool sparse, void *result, const char *context)
{
  const Strides padded = { 3, 5, false, false };
  const int     ow = seg_pooled_size (w, f.x);
  const int     oh = seg_pooled_size (h, f.y);
  const int     od = seg_pooled_size (d, f.z);
  Buf           in   = buf_new (w, h, d, bpp, packed);
  Buf           out  = buf_new (ow, oh, od, bpp, padded);
  Buf           ref  = buf_new (ow, oh, od, bpp, packed);
  void         *scratch = scratch_new (&f);
  uint8_t      *p = result;

  put_packed (&in.v, voxels);
  assert_status (seg_mode_pool (&in.v, &out.v, &f, sparse, scratch), SEG_OK,
                 context);
  assert_padding_intact (&out, context);
  ref_mode_pool (&in.v, &ref.v, &f, sparse);

  for (int z = 0; z < od; z++)
    for (int y = 0; y < oh; y++)
      for (int x = 0; x < ow; x++, p += bpp)
        {
          if (memcmp (at (&out.v, x, y, z), at (&ref.v, x, y, z),
                      (size_t) bpp) != 0)
            ck_abort_msg ("%s: kernel and reference differ at x %d, y %d, "
                          "z %d: kernel %s, reference %s", context, x, y, z,
                          hex_of (at (&out.v, x, y, z), bpp).s,
                          hex_of (at (&ref.v, x, y, z), bpp).s);
          memcpy (p, at (&out.v, x, y, z), (size_t) bpp);
        }

  free (scratch);
  buf_free (&in);
  buf_free (&out);
  buf_free (&ref);
}

static void
assert_pools_to_at (const uint8_t *labels, int w, int h, int d, int bpp,
                    SegFactors f, bool sparse, const uint8_t *want,
                    int tiles)
{
  const int ow = seg_pooled_size (w, f.x) * tiles;
  const int oh = seg_pooled_size (h, f.y);
  const int od = seg_pooled_size (d, f.z);
  const int tw = w * tiles;
  uint8_t  *in  = malloc ((size_t) (tw * h * d * bpp));
  uint8_t  *got = malloc ((size_t) (ow * oh * od * bpp));
  uint8_t   expected[SEG_MAX_BPP];
  char      context[160];

  ck_assert_ptr_nonnull (in);
  ck_assert_ptr_nonnull (got);
  for (int z = 0; z < d; z++)
    for (int y = 0; y < h; y++)
      for (int x = 0; x < tw; x++)
        small_label (in + (size_t) (((z * h + y) * tw + x) * bpp),
                     labels[(z * h + y) * w + x % w], bpp);

  snprintf (context, sizeof context, "bpp %d, factors %d,%d,%d, sparse %s, "
            "%d tile(s)", bpp, f.x, f.y, f.z, sparse ? "on" : "off", tiles);
  pool_packed (in, tw, h, d, bpp, f, sparse, got, context);

  for (int z = 0; z < od; z++)
    for (int y = 0; y < oh; y++)
      for (int x = 0; x < ow; x++)
        {
          const uint8_t *g = got + (size_t) (((z * oh + y) * ow + x) * bpp);
          unsigned       n = want[(z * oh + y) * (ow / tiles) + x % (ow / tiles)];

          small_label (expected, n, bpp);
          if (memcmp (g, expected, (size_t) bpp) != 0)
            ck_abort_msg ("%s: output x %d, y %d, z %d is %s, want label %u "
                          "(%s)", context, x, y, z, hex_of (g, bpp).s, n,
                          hex_of (expected, bpp).s);
        }
  free (in);
  free (got);
}

/* Pools w × h × d labels given as small numbers (see small_label) at every
 * voxel size in label_sizes and asserts the output is want, also small
 * numbers, in raster order.  When the blocks tile the width exactly the
 * image is also repeated 67 times side by side, so that the word-sized row
 * kernels run their vectorised bodies and not only their scalar tails. */
static void
assert_pools_to (const uint8_t *labels, int w, int h, int d, SegFactors f,
                 bool sparse, const uint8_t *want)
{
  for (int i = 0; i < N_ELEMENTS (label_sizes); i++)
    {
      assert_pools_to_at (labels, w, h, d, label_sizes[i], f, sparse, want, 1);
      if (w % f.x == 0)
        assert_pools_to_at (labels, w, h, d, label_sizes[i], f, sparse, want,
                            67);
    }
}

static const SegFactors f221 = { 2, 2, 1 };
static const SegFactors f222 = { 2, 2, 2 };

/* Blocks below are written as a = top-left, b = top-right,
 * c = bottom-left, d = bottom-right. */

START_TEST (test_countless_a_equals_b_picks_a)
{
  /* a == b and c == d tie two against two: COUNTLESS picks a. */
  static const uint8_t in[] = { 1, 1,
                                2, 2 };
  static const uint8_t want[] = { 1 };

  assert_pools_to (in, 2, 2, 1, f221, false, want);
}
END_TEST

START_TEST (test_countless_a_equals_c_picks_a)
{
  static const uint8_t in[] = { 1, 2,
                                1, 2 };
  static const uint8_t want[] = { 1 };

  assert_pools_to (in, 2, 2, 1, f221, false, want);
}
END_TEST

START_TEST (test_countless_b_equals_c_beats_a_equals_d)
{
  static const uint8_t in[] = { 1, 2,
                                2, 1 };
  static const uint8_t want[] = { 2 };

  assert_pools_to (in, 2, 2, 1, f221, false, want);
}
END_TEST

START_TEST (test_countless_b_equals_d_picks_d)
{
  static const uint8_t in[] = { 1, 2,
                                3, 2 };
  static const uint8_t want[] = { 2 };

  assert_pools_to (in, 2, 2, 1, f221, false, want);
}
END_TEST

START_TEST (test_countless_c_equals_d_picks_d)
{
  static const uint8_t in[] = { 1, 2,
                                3, 3 };
  static const uint8_t want[] = { 3 };

  assert_pools_to (in, 2, 2, 1, f221, false, want);
}
END_TEST

START_TEST (test_countless_three_of_a_kind_wins)
{
  static const uint8_t in[] = { 2, 1,   1, 2,
                                1, 1,   2, 2 };
  static const uint8_t want[] = { 1, 2 };

  assert_pools_to (in, 4, 2, 1, f221, false, want);
}
END_TEST

START_TEST (test_all_distinct_2x2_picks_bottom_right)
{
  static const uint8_t in[] = { 1, 2,
                                3, 4 };
  static const uint8_t want[] = { 4 };

  assert_pools_to (in, 2, 2, 1, f221, false, want);
}
END_TEST

START_TEST (test_background_pair_wins_when_not_sparse)
{
  static const uint8_t in[] = { 0, 0,
                                3, 4 };
  static const uint8_t want[] = { 0 };

  assert_pools_to (in, 2, 2, 1, f221, false, want);
}
END_TEST

START_TEST (test_sparse_pair_wins)
{
  /* A non-background pair beats a non-background d: a == b, then b == c. */
  static const uint8_t in[] = { 5, 5,   0, 6,
                                0, 7,   6, 7 };
  static const uint8_t want[] = { 5, 6 };

  assert_pools_to (in, 4, 2, 1, f221, true, want);
}
END_TEST

START_TEST (test_sparse_background_pair_loses_to_d)
{
  /* a == b and b == c are background pairs: d wins instead. */
  static const uint8_t in[] = { 0, 0,   1, 0,
                                3, 4,   0, 4 };
  static const uint8_t want[] = { 4, 4 };

  assert_pools_to (in, 4, 2, 1, f221, true, want);
}
END_TEST

START_TEST (test_sparse_single_nonbackground_d_wins)
{
  static const uint8_t in[] = { 0, 0,
                                0, 9 };
  static const uint8_t want[] = { 9 };

  assert_pools_to (in, 2, 2, 1, f221, true, want);
}
END_TEST

START_TEST (test_sparse_first_nonbackground_order_a_c_b)
{
  /* d is background and no pair: a if set, else c, else b. */
  static const uint8_t in[] = { 1, 2,   0, 2,   0, 2,
                                3, 0,   3, 0,   0, 0 };
  static const uint8_t want[] = { 1, 3, 2 };

  assert_pools_to (in, 6, 2, 1, f221, true, want);
}
END_TEST

START_TEST (test_sparse_all_background_gives_background)
{
  static const uint8_t zeros[27] = { 0 };
  static const uint8_t want[1] = { 0 };
  const SegFactors     f33  = { 3, 3, 1 };
  const SegFactors     f333 = { 3, 3, 3 };

  assert_pools_to (zeros, 2, 2, 1, f221, true, want);
  assert_pools_to (zeros, 2, 2, 2, f222, true, want);
  assert_pools_to (zeros, 3, 3, 1, f33, true, want);
  assert_pools_to (zeros, 3, 3, 3, f333, true, want);
}
END_TEST

START_TEST (test_sparse_larger_block_ignores_background_majority)
{
  /* 0 ×5, 7 ×2, 4 ×2: the first tied non-background label in raster
   * order (7) wins. */
  static const uint8_t in[] = { 0, 7, 0,
                                4, 0, 7,
                                0, 4, 0 };
  static const uint8_t want[] = { 7 };
  const SegFactors     f33 = { 3, 3, 1 };

  assert_pools_to (in, 3, 3, 1, f33, true, want);
}
END_TEST

START_TEST (test_2x2x2_tie_picks_first_in_raster_order)
{
  /* 2 and 1 occur twice each; 2 comes first.  COUNTLESS on the first
   * slice would say 1 (d). */
  static const uint8_t in[] = { 5, 2,
                                1, 1,

                                2, 6,
                                7, 8 };
  static const uint8_t want[] = { 2 };

  assert_pools_to (in, 2, 2, 2, f222, false, want);
}
END_TEST

START_TEST (test_2x2x2_majority_wins)
{
  static const uint8_t in[] = { 1, 2,
                                3, 4,

                                4, 5,
                                4, 6 };
  static const uint8_t want[] = { 4 };

  assert_pools_to (in, 2, 2, 2, f222, false, want);
}
END_TEST

START_TEST (test_2x2x2_sparse_background_majority_loses)
{
  /* Left block: 0 ×5, 3 ×2, 4 ×1 → 3.  Right block: 0 ×6, then 6 and 9
   * tie and 6 comes first. */
  static const uint8_t in[] = { 0, 0,   0, 0,
                                0, 3,   0, 0,

                                0, 4,   0, 6,
                                0, 3,   9, 0 };
  static const uint8_t want[] = { 3, 6 };

  assert_pools_to (in, 4, 2, 2, f222, true, want);
}
END_TEST

START_TEST (test_factor_3_tie_picks_first_in_raster_order)
{
  /* 1 and 2 occur twice each.  1 occurs first; 2's last occurrence comes
   * before 1's, so a "last seen" rule would pick 2. */
  static const uint8_t in[] = { 9, 1, 2,
                                2, 1, 3,
                                5, 6, 7 };
  static const uint8_t want[] = { 1 };
  const SegFactors     f33 = { 3, 3, 1 };

  assert_pools_to (in, 3, 3, 1, f33, false, want);
}
END_TEST

START_TEST (test_raster_order_is_x_then_y_then_z)
{
  /* 2 and 3 tie.  In x-then-z order 2 comes first (5 2 3 | 3 2 6); in
   * z-then-x order 3 would (5 3 | 2 2 | 3 6).  Likewise along y. */
  static const uint8_t in[] = { 5, 2, 3,
                                3, 2, 6 };
  static const uint8_t want[] = { 2 };
  const SegFactors     fxz = { 3, 1, 2 };
  const SegFactors     fyz = { 1, 3, 2 };

  assert_pools_to (in, 3, 1, 2, fxz, false, want);
  assert_pools_to (in, 1, 3, 2, fyz, false, want);
}
END_TEST

START_TEST (test_partial_right_edge_block_uses_only_valid_pixels)
{
  /* Odd width: the last block is a 1×2 strip whose tie goes to the
   * strip's first pixel (COUNTLESS on a padded block would not). */
  static const uint8_t in[] = { 1, 1, 7,
                                2, 2, 8 };
  static const uint8_t want[] = { 1, 7 };

  assert_pools_to (in, 3, 2, 1, f221, false, want);
}
END_TEST

START_TEST (test_sparse_partial_edge_strip_skips_background)
{
  static const uint8_t in[] = { 1, 1, 0,
                                2, 2, 8 };
  static const uint8_t want[] = { 1, 8 };

  assert_pools_to (in, 3, 2, 1, f221, true, want);
}
END_TEST

START_TEST (test_partial_bottom_edge)
{
  /* Odd height: the last row of blocks are 2×1 strips, tie → first. */
  static const uint8_t in[] = { 1, 2,   3, 3,
                                4, 5,   3, 3,
                                6, 9,   8, 8 };
  static const uint8_t want[] = { 5, 3,
                                  6, 8 };

  assert_pools_to (in, 4, 3, 1, f221, false, want);
}
END_TEST

START_TEST (test_corner_1x1)
{
  static const uint8_t in[] = { 1, 1, 2,
                                1, 1, 2,
                                3, 3, 4 };
  static const uint8_t want[] = { 1, 2,
                                  3, 4 };

  assert_pools_to (in, 3, 3, 1, f221, false, want);
}
END_TEST

START_TEST (test_height_1_is_all_strips)
{
  static const uint8_t in[] = { 1, 2, 3, 3, 4 };
  static const uint8_t want[] = { 1, 3, 4 };

  assert_pools_to (in, 5, 1, 1, f221, false, want);
}
END_TEST

START_TEST (test_odd_depth_with_factor_z_2)
{
  /* The last slice is a partial 2×2×1 block: first in raster order (1),
   * not COUNTLESS (4). */
  static const uint8_t in[] = { 1, 1,
                                1, 1,

                                2, 2,
                                2, 2,

                                1, 2,
                                3, 4 };
  static const uint8_t want[] = { 1, 1 };

  assert_pools_to (in, 2, 2, 3, f222, false, want);
}
END_TEST

START_TEST (test_odd_depth_sparse_partial_slice_is_not_stippled_countless)
{
  /* Last slice: first non-background in raster order (2), where stippled
   * COUNTLESS would take d (4). */
  static const uint8_t in[] = { 1, 1,
                                1, 1,

                                1, 1,
                                1, 1,

                                0, 2,
                                3, 4 };
  static const uint8_t want[] = { 1, 2 };

  assert_pools_to (in, 2, 2, 3, f222, true, want);
}
END_TEST

START_TEST (test_factor_larger_than_volume_gives_one_block)
{
  static const uint8_t in[] = { 1, 2, 2,
                                3, 2, 1 };
  static const uint8_t want[] = { 2 };
  const SegFactors     f555 = { 5, 5, 5 };

  assert_pools_to (in, 3, 2, 1, f555, false, want);
}
END_TEST

START_TEST (test_factor_4_is_exact_mode_not_mode_of_modes)
{
  /* Each 2×2 quadrant's mode is its own pair (1, 2, 3, 4), so a mode of
   * modes can never give 9; but 9 occurs 4 times, every other label at
   * most twice. */
  static const uint8_t in[] = { 1,  1,   2,  2,
                                9, 11,   9, 12,
                                3,  3,   4,  4,
                                9, 13,   9, 14 };
  static const uint8_t want[] = { 9 };
  const SegFactors     f44 = { 4, 4, 1 };

  assert_pools_to (in, 4, 4, 1, f44, false, want);
}
END_TEST

START_TEST (test_factor_1_is_identity)
{
  const SegFactors f111 = { 1, 1, 1 };

  for (int i = 0; i < N_ELEMENTS (label_sizes); i++)
    for (int sparse = 0; sparse < 2; sparse++)
      {
        const int bpp = label_sizes[i];
        Rng       r = rng_new ((uint64_t) (2 * i + sparse), 3);
        uint8_t   alphabet[8 * 16];
        Buf       in  = buf_new (13, 7, 3, bpp, packed);
        Buf       out = buf_new (13, 7, 3, bpp, random_strides (&r, bpp));
        void     *scratch = scratch_new (&f111);
        char      context[64];

        make_alphabet (&r, alphabet, 8, bpp, ALPHABET_RANDOM, true);
        fill_labels (&r, &in.v, alphabet, 8, 0);
        snprintf (context, sizeof context, "bpp %d, sparse %d", bpp, sparse);
        assert_status (seg_mode_pool (&in.v, &out.v, &f111, sparse, scratch),
                       SEG_OK, context);
        assert_volumes_equal (&out.v, &in.v, context);
        assert_padding_intact (&out, context);
        free (scratch);
        buf_free (&in);
        buf_free (&out);
      }
}
END_TEST


/* ---- Label representations --------------------------------------------- */

/* Runs packed voxels through pool_packed and compares with want. */
static void
assert_bytes_pool_to (const void *voxels, int w, int h, int d, int bpp,
                      SegFactors f, bool sparse, const void *want,
                      size_t want_size)
{
  uint8_t got[4 * SEG_MAX_BPP];

  ck_assert_uint_le (want_size, sizeof got);
  pool_packed (voxels, w, h, d, bpp, f, sparse, got, "hand-written");
  for (size_t i = 0; i < want_size; i += (size_t) bpp)
    if (memcmp (got + i, (const uint8_t *) want + i, (size_t) bpp) != 0)
      ck_abort_msg ("output voxel %zu is %s, want %s", i / (size_t) bpp,
                    hex_of (got + i, bpp).s,
                    hex_of ((const uint8_t *) want + i, bpp).s);
}

START_TEST (test_uint64_labels_differing_only_in_high_bytes)
{
  /* A, B, C agree in their low 32 bits.  2×2: b == c → B, where a kernel
   * comparing low words only would see a == b → A.  3×1: C twice. */
  const uint64_t A = 0x0000000100000005ull;
  const uint64_t B = 0x0100000000000005ull;
  const uint64_t C = 0x8000000000000005ull;
  const uint64_t countless[] = { A, B,
                                 B, C };
  const uint64_t raster[] = { A, C, B, C };
  const uint64_t want_countless[] = { B };
  const uint64_t want_raster[] = { C };
  const SegFactors f41 = { 4, 1, 1 };

  assert_bytes_pool_to (countless, 2, 2, 1, 8, f221, false, want_countless,
                        sizeof want_countless);
  assert_bytes_pool_to (raster, 4, 1, 1, 8, f41, false, want_raster,
                        sizeof want_raster);
}
END_TEST

START_TEST (test_sparse_label_with_only_high_byte_set_is_not_background)
{
  /* H is zero but for its top byte; background is all bytes zero. */
  const uint64_t H = 0x0100000000000000ull;
  const uint64_t in[] = { 0, 0, H };
  const uint64_t want_sparse[] = { H };
  const uint64_t want_dense[] = { 0 };
  const SegFactors f31 = { 3, 1, 1 };

  assert_bytes_pool_to (in, 3, 1, 1, 8, f31, true, want_sparse,
                        sizeof want_sparse);
  assert_bytes_pool_to (in, 3, 1, 1, 8, f31, false, want_dense,
                        sizeof want_dense);
}
END_TEST

START_TEST (test_rgb_3_byte_labels)
{
  /* Colour-coded labels that share red and green and differ in blue:
   * L1 = (200, 10, 1), L2 = (200, 10, 2), L3 = (200, 10, 3). */
#define L1 200, 10, 1
#define L2 200, 10, 2
#define L3 200, 10, 3
#define BG   0,  0, 0
  static const uint8_t countless[] = { L1, L2,
                                       L2, L3 };
  static const uint8_t want_countless[] = { L2 };
  /* L1 ×1, L2 ×2, L3 ×3, background ×3: background ties with L3 and
   * comes first; sparse, L3 wins. */
  static const uint8_t raster[] = { L1, L2, BG,
                                    L3, L2, BG,
                                    L3, L3, BG };
  static const uint8_t want_dense[] = { BG };
  static const uint8_t want_sparse[] = { L3 };
#undef L1
#undef L2
#undef L3
#undef BG
  const SegFactors     f33 = { 3, 3, 1 };

  assert_bytes_pool_to (countless, 2, 2, 1, 3, f221, false, want_countless,
                        sizeof want_countless);
  assert_bytes_pool_to (raster, 3, 3, 1, 3, f33, false, want_dense,
                        sizeof want_dense);
  assert_bytes_pool_to (raster, 3, 3, 1, 3, f33, true, want_sparse,
                        sizeof want_sparse);
}
END_TEST

START_TEST (test_sparse_countless_tie_with_2_byte_labels)
{
  /* Four blocks of labels that differ in their high byte:
   *   background a, b == c                      → b;
   *   a = 0x0100 (low byte zero, not background)  → a, the only label;
   *   all distinct, same low byte               → d;
   *   b == c, d background                      → b. */
  const uint16_t in[] = {
    0x0000, 0x0207,   0x0100, 0x0000,   0x0105, 0x0205,   0x0105, 0x0205,
    0x0207, 0x0107,   0x0000, 0x0000,   0x0305, 0x0405,   0x0205, 0x0000 };
  const uint16_t want[] = { 0x0207, 0x0100, 0x0405, 0x0205 };

  assert_bytes_pool_to (in, 8, 2, 1, 2, f221, true, want, sizeof want);
}
END_TEST

START_TEST (test_sparse_countless_tie_with_16_byte_labels)
{
  /* Background a; b == c, which differ from d in byte 15 only. */
  uint8_t in[4][16] = { { 0 } }, want[1][16];

  memset (in[1], 0x11, 16);
  in[1][15] = 0x22;
  memcpy (in[2], in[1], 16);
  memset (in[3], 0x11, 16);
  memcpy (want[0], in[1], 16);
  assert_bytes_pool_to (in, 2, 2, 1, 16, f221, true, want, sizeof want);

  /* a, b, c all background, d differs from background in byte 15 only. */
  memset (in, 0, sizeof in);
  in[3][15] = 1;
  memcpy (want[0], in[3], 16);
  assert_bytes_pool_to (in, 2, 2, 1, 16, f221, true, want, sizeof want);
}
END_TEST

START_TEST (test_float_labels_compare_by_bit_pattern)
{
  /* +0.0 and -0.0 are equal as floats but different labels; and -0.0 is
   * not background when sparse. */
  const uint32_t pos0 = 0x00000000u, neg0 = 0x80000000u, one = 0x3f800000u;
  const uint32_t in[] = { pos0, neg0,
                          neg0, one };
  const uint32_t want[] = { neg0 };
  const uint32_t sparse_in[] = { pos0, pos0, pos0, neg0, neg0 };
  const SegFactors f51 = { 5, 1, 1 };

  assert_bytes_pool_to (in, 2, 2, 1, 4, f221, false, want, sizeof want);
  assert_bytes_pool_to (sparse_in, 5, 1, 1, 4, f51, true, want, sizeof want);
}
END_TEST

START_TEST (test_largest_voxel_size_is_accepted)
{
  /* SEG_MAX_BPP-byte labels that differ in their last byte only. */
  uint8_t in[6][SEG_MAX_BPP] = { { 0 } }, want[2][SEG_MAX_BPP];
  const SegFactors f31 = { 3, 1, 1 };

  for (int i = 0; i < 6; i++)
    in[i][SEG_MAX_BPP - 1] = (uint8_t) (i == 1 || i == 2 || i == 4 ? 7 : i);
  memcpy (want[0], in[1], SEG_MAX_BPP);
  memcpy (want[1], in[3], SEG_MAX_BPP);  /* 3, 7, 5: tie → first */
  assert_bytes_pool_to (in, 6, 1, 1, SEG_MAX_BPP, f31, false, want,
                        sizeof want);
}
END_TEST


/* ---- Strided views ------------------------------------------------------ */

/* A random volume in a packed buffer and the same voxels in a buffer of
 * another layout. */
static void
make_pair (Rng *r, int w, int h, int d, int bpp, Strides l, Buf *p, Buf *q)
{
  uint8_t alphabet[6 * 16];

  *p = buf_new (w, h, d, bpp, packed);
  *q = buf_new (w, h, d, bpp, l);
  make_alphabet (r, alphabet, 6, bpp, ALPHABET_HIGH_BYTES, true);
  fill_labels (r, &p->v, alphabet, 6, 30);
  put_packed (&q->v, p->v.data);
}

/* Pools p (packed) and q (layout l) with the same factors and asserts the
 * results agree, with the output in layout out_l. */
static void
assert_layout_gives_same_result (Strides l, Strides out_l, int bpp,
                                 SegFactors f, bool sparse)
{
  Rng       r = rng_new ((uint64_t) bpp * 100 + (uint64_t) f.z, 4);
  const int w = 23, h = 9, d = 5;
  Buf       p, q, want, got;
  void     *scratch = scratch_new (&f);
  uint8_t  *q_before;
  char      context[128];

  make_pair (&r, w, h, d, bpp, l, &p, &q);
  want = buf_new (seg_pooled_size (w, f.x), seg_pooled_size (h, f.y),
                  seg_pooled_size (d, f.z), bpp, packed);
  got  = buf_new (want.v.width, want.v.height, want.v.depth, bpp, out_l);
  q_before = copy_of (q.mem, q.size);
  snprintf (context, sizeof context, "bpp %d, factors %d,%d,%d, sparse %d",
            bpp, f.x, f.y, f.z, sparse);

  assert_status (seg_mode_pool (&p.v, &want.v, &f, sparse, scratch), SEG_OK,
                 context);
  assert_status (seg_mode_pool (&q.v, &got.v, &f, sparse, scratch), SEG_OK,
                 context);
  assert_volumes_equal (&got.v, &want.v, context);
  assert_padding_intact (&got, context);
  assert_input_unchanged (&q, q_before, context);

  free (q_before);
  free (scratch);
  buf_free (&p);
  buf_free (&q);
  buf_free (&want);
  buf_free (&got);
}

static const SegFactors stride_factors[] = {
  { 2, 2, 1 }, { 2, 2, 2 }, { 3, 2, 2 }, { 5, 4, 3 }
};

/* Every label size with every stride_factors entry (sparse on the odd
 * ones): input laid out as in_l, output as out_l, against packed. */
static void
assert_layouts_give_same_results (Strides in_l, Strides out_l)
{
  for (int i = 0; i < N_ELEMENTS (label_sizes); i++)
    for (int k = 0; k < N_ELEMENTS (stride_factors); k++)
      assert_layout_gives_same_result (in_l, out_l, label_sizes[i],
                                       stride_factors[k], k & 1);
}

START_TEST (test_output_padding_is_untouched)
{
  const Strides wide = { 17, 29, false, false };

  assert_layouts_give_same_results (packed, wide);
}
END_TEST

START_TEST (test_padded_input_rows_and_slices)
{
  /* Also checks the padded input is left as it was. */
  const Strides wide = { 5, 11, false, false };

  assert_layouts_give_same_results (wide, packed);
}
END_TEST

START_TEST (test_negative_row_stride_reads_flipped_view)
{
  const Strides flipped = { 3, 0, true, false };

  assert_layouts_give_same_results (flipped, packed);
  assert_layouts_give_same_results (packed, flipped);
}
END_TEST

START_TEST (test_negative_slice_stride_reads_flipped_view)
{
  const Strides flipped = { 0, 7, true, true };

  assert_layouts_give_same_results (flipped, packed);
  assert_layouts_give_same_results (packed, flipped);
}
END_TEST

START_TEST (test_scratch_can_be_reused_for_smaller_factors)
{
  /* One scratch of exactly the size for the largest factors, then calls
   * with smaller ones; the hashed path must leave its table reusable. */
  static const SegFactors sequence[] = {
    { 8, 8, 2 }, { 5, 3, 1 }, { 8, 8, 2 }, { 2, 2, 2 }, { 4, 4, 4 },
    { 2, 2, 1 }, { 6, 7, 1 }
  };
  void *scratch = scratch_new (&sequence[0]);

  for (int k = 0; k < N_ELEMENTS (sequence); k++)
    {
      const SegFactors *f = &sequence[k];
      Rng       r = rng_new ((uint64_t) k, 5);
      uint8_t   alphabet[40 * 4];
      Buf       in   = buf_new (37, 21, 6, 4, packed);
      Buf       out  = buf_new (seg_pooled_size (37, f->x),
                                seg_pooled_size (21, f->y),
                                seg_pooled_size (6, f->z), 4, packed);
      Buf       want = buf_new (out.v.width, out.v.height, out.v.depth, 4,
                                packed);
      char      context[64];

      ck_assert_uint_le (seg_mode_pool_scratch_size (f),
                         seg_mode_pool_scratch_size (&sequence[0]));
      make_alphabet (&r, alphabet, 40, 4, ALPHABET_RANDOM, k & 1);
      fill_labels (&r, &in.v, alphabet, 40, 20);
      snprintf (context, sizeof context, "call %d, factors %d,%d,%d", k,
                f->x, f->y, f->z);
      assert_status (seg_mode_pool (&in.v, &out.v, f, k & 1, scratch),
                     SEG_OK, context);
      ref_mode_pool (&in.v, &want.v, f, k & 1);
      assert_volumes_equal (&out.v, &want.v, context);
      buf_free (&in);
      buf_free (&out);
      buf_free (&want);
    }
  free (scratch);
}
END_TEST


/* Outputs of several MiB with the 2×2 and 2×2×2 shapes, into a padded view
 * with odd row padding: the row kernels may write outputs this large
 * differently (non-temporal stores) from the small ones above.  The
 * reference would be slow on millions of blocks, so the result is compared
 * with pooling the same input in slabs of 8 output rows (sub-views of the
 * input), whose small outputs take the path the other tests check. */
START_TEST (test_large_outputs_match_pooling_in_slabs)
{
  static const struct
  {
    int  w, h, d, bpp, fz;
    bool sparse;
  } cfg[] = {
    { 4099, 4098, 1, 1, 1, false },  /* 2050 × 2049 u8: 4.2 MB      */
    { 1538, 1537, 1, 8, 1, true },   /* 769 × 769 u64: 4.7 MB       */
    { 2050, 2050, 4, 2, 2, true },   /* 1025 × 1025 × 2 u16: 4.2 MB */
    { 1026, 1024, 4, 8, 2, false },  /* 513 × 512 × 2 u64: 4.2 MB   */
  };
  const int        w = cfg[_i].w, h = cfg[_i].h, d = cfg[_i].d;
  const int        bpp = cfg[_i].bpp;
  const bool       sparse = cfg[_i].sparse;
  const SegFactors f = { 2, 2, cfg[_i].fz };
  const Strides    odd = { 5, 3, false, false };
  const int        slab = 8;  /* output rows per slab */
  Rng              r = rng_new ((uint64_t) _i, 8);
  uint8_t          alphabet[4 * 8];
  Buf              in  = buf_new (w, h, d, bpp, packed);
  Buf              out = buf_new (seg_pooled_size (w, 2),
                                  seg_pooled_size (h, 2),
                                  seg_pooled_size (d, f.z), bpp, odd);
  Buf              part = buf_new (out.v.width, slab, out.v.depth, bpp,
                                   packed);
  void            *scratch = scratch_new (&f);
  char             context[96];

  make_alphabet (&r, alphabet, 4, bpp, ALPHABET_HIGH_BYTES, true);
  fill_labels (&r, &in.v, alphabet, 4, 40);
  snprintf (context, sizeof context, "%d×%d×%d, bpp %d, factors 2,2,%d, "
            "sparse %d", w, h, d, bpp, f.z, sparse);
  assert_status (seg_mode_pool (&in.v, &out.v, &f, sparse, scratch), SEG_OK,
                 context);
  assert_padding_intact (&out, context);

  for (int oy = 0; oy < out.v.height; oy += slab)
    {
      SegVolume sub_in = in.v, sub_out = part.v, big = out.v;
      char      where[160];

      sub_in.data    = at (&in.v, 0, 2 * oy, 0);
      sub_in.height  = h - 2 * oy < 2 * slab ? h - 2 * oy : 2 * slab;
      sub_out.height = seg_pooled_size (sub_in.height, 2);
      big.data       = at (&out.v, 0, oy, 0);
      big.height     = sub_out.height;
      snprintf (where, sizeof where, "%s, output rows from %d", context, oy);
      assert_status (seg_mode_pool (&sub_in, &sub_out, &f, sparse, scratch),
                     SEG_OK, where);
      assert_volumes_equal (&big, &sub_out, where);
    }

  free (scratch);
  buf_free (&in);
  buf_free (&out);
  buf_free (&part);
}
END_TEST


/* ---- Large blocks against a sort-based count ---------------------------- */

typedef struct
{
  const uint8_t *voxel;
  size_t         index;  /* position in the block, raster order */
} Entry;

/* qsort has no context argument; the tests run one at a time. */
static int sort_bpp;

static int
compare_entries (const void *pa, const void *pb)
{
  const Entry *a = pa, *b = pb;
  int          c = memcmp (a->voxel, b->voxel, (size_t) sort_bpp);

  if (c != 0)
    return c;
  return (a->index > b->index) - (a->index < b->index);
}

/* The mode of one block, by sorting its voxels by (label, position): each
 * run is one label, its length the count, its first entry the label's first
 * position in raster order.  Shares no code or idea with the kernel. */
static void
sorted_block_mode (const SegVolume *in, int x0, int y0, int z0, int bw,
                   int bh, int bd, bool sparse, uint8_t *mode)
{
  const size_t n = (size_t) bw * (size_t) bh * (size_t) bd;
  Entry       *e = malloc (n * sizeof *e);
  size_t       k = 0, best_count = 0, best_first = SIZE_MAX;

  ck_assert_ptr_nonnull (e);
  for (int z = 0; z < bd; z++)
    for (int y = 0; y < bh; y++)
      for (int x = 0; x < bw; x++, k++)
        {
          e[k].voxel = at (in, x0 + x, y0 + y, z0 + z);
          e[k].index = k;
        }
  sort_bpp = in->bpp;
  qsort (e, n, sizeof *e, compare_entries);

  memset (mode, 0, (size_t) in->bpp);
  for (size_t i = 0; i < n;)
    {
      size_t j = i + 1;

      while (j < n && memcmp (e[j].voxel, e[i].voxel, (size_t) in->bpp) == 0)
        j++;
      if (!(sparse && is_zero (e[i].voxel, in->bpp)) &&
          (j - i > best_count ||
           (j - i == best_count && e[i].index < best_first)))
        {
          best_count = j - i;
          best_first = e[i].index;
          memcpy (mode, e[i].voxel, (size_t) in->bpp);
        }
      i = j;
    }
  free (e);
}

/* Label number j: a constant low half and j + 1 in the high half, so that
 * thousands of labels differ only in their high bytes. */
static void
counter_label (uint8_t *dst, uint32_t j, int bpp)
{
  uint32_t v = j + 1;

  memset (dst, 0x3C, (size_t) bpp);
  for (int i = bpp / 2; i < bpp; i++, v >>= 8)
    dst[i] = (uint8_t) (v & 0xFF);
}

/* Pools a w × h × d volume of k counter labels (background in bg_percent %
 * of voxels) with factors f and checks every block against
 * sorted_block_mode. */
static void
assert_large_blocks_match_sorted_count (int w, int h, int d, int bpp,
                                        SegFactors f, bool sparse, int k,
                                        int bg_percent, uint64_t seed)
{
  Rng      r = rng_new (seed, 6);
  Buf      in  = buf_new (w, h, d, bpp, packed);
  Buf      out = buf_new (seg_pooled_size (w, f.x), seg_pooled_size (h, f.y),
                          seg_pooled_size (d, f.z), bpp, packed);
  void    *scratch = scratch_new (&f);
  uint8_t  want[SEG_MAX_BPP];

  for (int z = 0; z < d; z++)
    for (int y = 0; y < h; y++)
      for (int x = 0; x < w; x++)
        {
          if (rng_chance (&r, bg_percent))
            memset (at (&in.v, x, y, z), 0, (size_t) bpp);
          else
            counter_label (at (&in.v, x, y, z),
                           (uint32_t) rng_below (&r, k), bpp);
        }

  assert_status (seg_mode_pool (&in.v, &out.v, &f, sparse, scratch), SEG_OK,
                 "large blocks");
  for (int oz = 0; oz < out.v.depth; oz++)
    for (int oy = 0; oy < out.v.height; oy++)
      for (int ox = 0; ox < out.v.width; ox++)
        {
          int x0 = ox * f.x, y0 = oy * f.y, z0 = oz * f.z;
          int bw = w - x0 < f.x ? w - x0 : f.x;
          int bh = h - y0 < f.y ? h - y0 : f.y;
          int bd = d - z0 < f.z ? d - z0 : f.z;

          sorted_block_mode (&in.v, x0, y0, z0, bw, bh, bd, sparse, want);
          if (memcmp (at (&out.v, ox, oy, oz), want, (size_t) bpp) != 0)
            ck_abort_msg ("bpp %d, sparse %d, %d labels: block %d,%d,%d of "
                          "%d×%d×%d voxels is %s, want %s", bpp, sparse, k,
                          ox, oy, oz, bw, bh, bd,
                          hex_of (at (&out.v, ox, oy, oz), bpp).s,
                          hex_of (want, bpp).s);
        }
  free (scratch);
  buf_free (&in);
  buf_free (&out);
}

/* 16³ blocks on a 40×24×16 volume: full blocks, and partial ones at the
 * right and bottom, one after another through the same scratch. */
START_TEST (test_16_cubed_blocks_match_sorted_count)
{
  static const int sizes[] = { 1, 2, 3, 4, 8, 16 };
  const SegFactors f = { 16, 16, 16 };
  const int        bpp = sizes[_i / 2];
  const bool       sparse = _i % 2;

  /* ~1000 labels over 4096 voxels: counts of a few, ties at the top. */
  assert_large_blocks_match_sorted_count (40, 24, 16, bpp, f, sparse,
                                          bpp == 1 ? 200 : 1000,
                                          sparse ? 40 : 10,
                                          (uint64_t) _i);
}
END_TEST

START_TEST (test_64_cubed_block_matches_sorted_count)
{
  static const int sizes[] = { 8, 16, 3 };
  const SegFactors f = { 64, 64, 64 };

  assert_large_blocks_match_sorted_count (64, 64, 64, sizes[_i], f, _i != 0,
                                          20000, _i == 0 ? 0 : 50,
                                          (uint64_t) _i);
}
END_TEST

START_TEST (test_64_cubed_tie_picks_first_in_raster_order)
{
  /* Every voxel a label of its own, except X at 1000 and 200000 … 200003,
   * and Y at 1001 … 1005: five each.  X occurs first; Y reaches five
   * first, so a "first to reach the top count" rule would pick Y. */
  const SegFactors f = { 64, 64, 64 };
  const int        n = 64 * 64 * 64;
  const uint64_t   X = 0xFFFF000000000001ull, Y = 0xFFFE000000000001ull;
  uint64_t        *in = malloc ((size_t) n * sizeof *in);
  uint64_t         got = 0;
  SegVolume        vin  = seg_volume_packed (in, 64, 64, 64, 8);
  SegVolume        vout = seg_volume_packed (&got, 1, 1, 1, 8);
  void            *scratch = scratch_new (&f);

  ck_assert_ptr_nonnull (in);
  for (int i = 0; i < n; i++)
    in[i] = (uint64_t) (i + 1) << 24;
  in[1000] = X;
  for (int i = 200000; i < 200004; i++)
    in[i] = X;
  for (int i = 1001; i < 1006; i++)
    in[i] = Y;

  assert_status (seg_mode_pool (&vin, &vout, &f, false, scratch), SEG_OK,
                 "64³");
  ck_assert_uint_eq (got, X);
  free (scratch);
  free (in);
}
END_TEST


/* ---- Errors ------------------------------------------------------------ */

/* A valid 5×4×3 two-byte input, factors 2,2,2, and an output view of the
 * right size (3×2×2) inside a larger buffer: views made too large by a test
 * still lie inside the memory, and any write shows as a changed byte. */
typedef struct
{
  Buf        in, out;
  SegFactors f;
  void      *scratch;
} Args;

static Args
args_new (void)
{
  Rng     r = rng_new (7, 7);
  uint8_t alphabet[4 * 2];
  Args    a;

  a.f   = f222;
  a.in  = buf_new (5, 4, 3, 2, packed);
  a.out = buf_new (8, 8, 4, 2, packed);
  a.out.v.width  = 3;
  a.out.v.height = 2;
  a.out.v.depth  = 2;
  a.scratch = scratch_new (&a.f);
  make_alphabet (&r, alphabet, 4, 2, ALPHABET_RANDOM, true);
  fill_labels (&r, &a.in.v, alphabet, 4, 0);
  return a;
}

static void
args_free (Args *a)
{
  buf_free (&a->in);
  buf_free (&a->out);
  free (a->scratch);
}

/* Calls seg_mode_pool, expects status want and the output buffer untouched
 * (every byte still SENTINEL). */
static void
assert_rejected (const Args *a, const SegVolume *in, const SegVolume *out,
                 const SegFactors *f, void *scratch, SegStatus want,
                 const char *what)
{
  for (int sparse = 0; sparse < 2; sparse++)
    {
      assert_status (seg_mode_pool (in, out, f, sparse, scratch), want, what);
      assert_output_untouched (&a->out, what);
    }
}

START_TEST (test_valid_error_fixture_is_accepted)
{
  /* The fixture the error tests start from is itself valid, so each of
   * them fails for the one reason it changes. */
  Args a = args_new ();

  assert_status (seg_mode_pool (&a.in.v, &a.out.v, &a.f, false, a.scratch),
                 SEG_OK, "fixture");
  args_free (&a);
}
END_TEST

START_TEST (test_null_pointers_are_rejected)
{
  Args      a = args_new ();
  SegVolume in = a.in.v, out = a.out.v;

  assert_rejected (&a, NULL, &a.out.v, &a.f, a.scratch, SEG_EBADARG,
                   "NULL input");
  assert_rejected (&a, &a.in.v, NULL, &a.f, a.scratch, SEG_EBADARG,
                   "NULL output");
  assert_rejected (&a, &a.in.v, &a.out.v, NULL, a.scratch, SEG_EBADARG,
                   "NULL factors");
  in.data = NULL;
  assert_rejected (&a, &in, &a.out.v, &a.f, a.scratch, SEG_EBADARG,
                   "NULL input data");
  out.data = NULL;
  assert_rejected (&a, &a.in.v, &out, &a.f, a.scratch, SEG_EBADARG,
                   "NULL output data");
  args_free (&a);
}
END_TEST

START_TEST (test_null_scratch_is_rejected)
{
  Args a = args_new ();

  assert_rejected (&a, &a.in.v, &a.out.v, &a.f, NULL, SEG_EBADARG,
                   "NULL scratch");
  args_free (&a);
}
END_TEST

START_TEST (test_nonpositive_sizes_are_rejected)
{
  static const int bad[] = { 0, -1, -1000 };
  Args a = args_new ();

  for (int i = 0; i < N_ELEMENTS (bad); i++)
    for (int axis = 0; axis < 3; axis++)
      for (int which = 0; which < 2; which++)
        {
          SegVolume in = a.in.v, out = a.out.v;
          SegVolume *v = which ? &out : &in;
          int       *size = axis == 0 ? &v->width
                          : axis == 1 ? &v->height : &v->depth;
          char       what[64];

          *size = bad[i];
          snprintf (what, sizeof what, "%s %s %d", which ? "output" : "input",
                    axis == 0 ? "width" : axis == 1 ? "height" : "depth",
                    bad[i]);
          assert_rejected (&a, &in, &out, &a.f, a.scratch, SEG_EBADARG, what);
        }
  args_free (&a);
}
END_TEST

START_TEST (test_bpp_out_of_range_is_rejected)
{
  /* Views whose strides fit the bad voxel size, so that only the size is
   * wrong. */
  static const int bad[] = { 0, -1, SEG_MAX_BPP + 1 };
  const SegFactors f = { 2, 2, 2 };
  void            *scratch = scratch_new (&f);

  for (int i = 0; i < N_ELEMENTS (bad); i++)
    {
      const int stride_bpp = bad[i] > 0 ? bad[i] : 1;
      Args      a;
      char      what[32];

      a.in  = buf_new (5, 4, 3, stride_bpp, packed);
      a.out = buf_new (3, 2, 2, stride_bpp, packed);
      a.in.v.bpp = a.out.v.bpp = bad[i];
      snprintf (what, sizeof what, "bpp %d", bad[i]);
      assert_rejected (&a, &a.in.v, &a.out.v, &f, scratch, SEG_EBADARG, what);
      buf_free (&a.in);
      buf_free (&a.out);
    }
  free (scratch);
}
END_TEST

START_TEST (test_differing_bpp_is_rejected)
{
  Args      a = args_new ();
  SegVolume out = a.out.v;

  out.bpp = 1;
  assert_rejected (&a, &a.in.v, &out, &a.f, a.scratch, SEG_EBADARG,
                   "output bpp 1, input bpp 2");
  args_free (&a);
}
END_TEST

START_TEST (test_factors_out_of_range_are_rejected)
{
  static const int bad[] = { 0, -1, SEG_MAX_FACTOR + 1, 1000 };
  Args a = args_new ();

  for (int i = 0; i < N_ELEMENTS (bad); i++)
    for (int axis = 0; axis < 3; axis++)
      {
        SegFactors f = a.f;
        char       what[32];

        *(axis == 0 ? &f.x : axis == 1 ? &f.y : &f.z) = bad[i];
        snprintf (what, sizeof what, "factor %c %d", "xyz"[axis], bad[i]);
        assert_rejected (&a, &a.in.v, &a.out.v, &f, a.scratch, SEG_EBADARG,
                         what);
      }
  args_free (&a);
}
END_TEST

START_TEST (test_factor_64_is_accepted)
{
  /* SEG_MAX_FACTOR on each axis over a small input: one partial block. */
  static const uint8_t in[] = { 3, 1, 2, 2,
                                1, 4, 2, 1 };
  static const uint8_t want[] = { 1 };  /* 1 and 2 tie three-all; 1 first */
  const SegFactors     f = { SEG_MAX_FACTOR, SEG_MAX_FACTOR, SEG_MAX_FACTOR };

  assert_pools_to (in, 4, 2, 1, f, false, want);
}
END_TEST

START_TEST (test_overlapping_rows_or_slices_are_rejected)
{
  Args      a = args_new ();
  SegVolume in;

  in = a.in.v;
  in.row_stride = (ptrdiff_t) in.width * in.bpp - 1;
  assert_rejected (&a, &in, &a.out.v, &a.f, a.scratch, SEG_EBADARG,
                   "input rows overlap");
  in.row_stride = -in.row_stride;
  assert_rejected (&a, &in, &a.out.v, &a.f, a.scratch, SEG_EBADARG,
                   "input rows overlap, negative stride");
  in = a.in.v;
  in.slice_stride = in.row_stride * in.height - 1;
  assert_rejected (&a, &in, &a.out.v, &a.f, a.scratch, SEG_EBADARG,
                   "input slices overlap");
  in.row_stride = 0;
  assert_rejected (&a, &in, &a.out.v, &a.f, a.scratch, SEG_EBADARG,
                   "input row stride 0");
  args_free (&a);
}
END_TEST

START_TEST (test_wrong_output_size_is_ebadsize)
{
  Args a = args_new ();

  for (int axis = 0; axis < 3; axis++)
    for (int delta = -1; delta <= 1; delta += 2)
      {
        SegVolume out = a.out.v;
        int      *size = axis == 0 ? &out.width
                       : axis == 1 ? &out.height : &out.depth;
        char      what[48];

        /* 5×4×3 by 2: ceil is 3×2×2; floor (5 / 2) = 2 is one less. */
        *size += delta;
        if (*size < 1)
          continue;
        snprintf (what, sizeof what, "output %s %+d",
                  axis == 0 ? "width" : axis == 1 ? "height" : "depth", delta);
        assert_rejected (&a, &a.in.v, &out, &a.f, a.scratch, SEG_EBADSIZE,
                         what);
      }
  args_free (&a);
}
END_TEST

START_TEST (test_scratch_size_is_zero_for_invalid_factors)
{
  static const SegFactors bad[] = {
    { 0, 2, 2 }, { 2, 0, 2 }, { 2, 2, 0 }, { -1, 1, 1 }, { 1, -5, 1 },
    { SEG_MAX_FACTOR + 1, 1, 1 }, { 1, SEG_MAX_FACTOR + 1, 1 },
    { 1, 1, SEG_MAX_FACTOR + 1 }
  };

  ck_assert_uint_eq (seg_mode_pool_scratch_size (NULL), 0);
  for (int i = 0; i < N_ELEMENTS (bad); i++)
    ck_assert_msg (seg_mode_pool_scratch_size (&bad[i]) == 0,
                   "factors %d,%d,%d", bad[i].x, bad[i].y, bad[i].z);
}
END_TEST

START_TEST (test_scratch_size_does_not_shrink_with_larger_factors)
{
  /* The header lets scratch for some factors serve smaller ones. */
  static const SegFactors grow[] = {
    { 1, 1, 1 }, { 2, 1, 1 }, { 2, 2, 1 }, { 2, 2, 2 }, { 4, 2, 2 },
    { 4, 4, 4 }, { 16, 16, 16 }, { 64, 64, 64 }
  };

  for (int i = 0; i < N_ELEMENTS (grow); i++)
    {
      ck_assert_uint_gt (seg_mode_pool_scratch_size (&grow[i]), 0);
      if (i > 0)
        ck_assert_uint_le (seg_mode_pool_scratch_size (&grow[i - 1]),
                           seg_mode_pool_scratch_size (&grow[i]));
    }
}
END_TEST


/* ---- Suite -------------------------------------------------------------- */

static Suite *
mode_pool_suite (void)
{
  const TTest *const countless[] = {
    test_countless_a_equals_b_picks_a,
    test_countless_a_equals_c_picks_a,
    test_countless_b_equals_c_beats_a_equals_d,
    test_countless_b_equals_d_picks_d,
    test_countless_c_equals_d_picks_d,
    test_countless_three_of_a_kind_wins,
    test_all_distinct_2x2_picks_bottom_right,
    test_background_pair_wins_when_not_sparse,
  };
  const TTest *const sparse[] = {
    test_sparse_pair_wins,
    test_sparse_background_pair_loses_to_d,
    test_sparse_single_nonbackground_d_wins,
    test_sparse_first_nonbackground_order_a_c_b,
    test_sparse_all_background_gives_background,
    test_sparse_larger_block_ignores_background_majority,
  };
  const TTest *const raster[] = {
    test_2x2x2_tie_picks_first_in_raster_order,
    test_2x2x2_majority_wins,
    test_2x2x2_sparse_background_majority_loses,
    test_factor_3_tie_picks_first_in_raster_order,
    test_raster_order_is_x_then_y_then_z,
    test_factor_4_is_exact_mode_not_mode_of_modes,
    test_factor_1_is_identity,
    test_factor_64_is_accepted,
  };
  const TTest *const edges[] = {
    test_partial_right_edge_block_uses_only_valid_pixels,
    test_sparse_partial_edge_strip_skips_background,
    test_partial_bottom_edge,
    test_corner_1x1,
    test_height_1_is_all_strips,
    test_odd_depth_with_factor_z_2,
    test_odd_depth_sparse_partial_slice_is_not_stippled_countless,
    test_factor_larger_than_volume_gives_one_block,
  };
  const TTest *const labels[] = {
    test_uint64_labels_differing_only_in_high_bytes,
    test_sparse_label_with_only_high_byte_set_is_not_background,
    test_rgb_3_byte_labels,
    test_sparse_countless_tie_with_2_byte_labels,
    test_sparse_countless_tie_with_16_byte_labels,
    test_float_labels_compare_by_bit_pattern,
    test_largest_voxel_size_is_accepted,
  };
  const TTest *const strides[] = {
    test_output_padding_is_untouched,
    test_padded_input_rows_and_slices,
    test_negative_row_stride_reads_flipped_view,
    test_negative_slice_stride_reads_flipped_view,
    test_scratch_can_be_reused_for_smaller_factors,
  };
  const TTest *const errors[] = {
    test_valid_error_fixture_is_accepted,
    test_null_pointers_are_rejected,
    test_null_scratch_is_rejected,
    test_nonpositive_sizes_are_rejected,
    test_bpp_out_of_range_is_rejected,
    test_differing_bpp_is_rejected,
    test_factors_out_of_range_are_rejected,
    test_overlapping_rows_or_slices_are_rejected,
    test_wrong_output_size_is_ebadsize,
    test_scratch_size_is_zero_for_invalid_factors,
    test_scratch_size_does_not_shrink_with_larger_factors,
  };
  Suite *s = suite_create ("mode-pool");
  TCase *tc;

  add_tcase (s, "countless", 30, countless, N_ELEMENTS (countless));
  add_tcase (s, "sparse", 30, sparse, N_ELEMENTS (sparse));
  add_tcase (s, "raster-ties", 30, raster, N_ELEMENTS (raster));
  add_tcase (s, "edges", 30, edges, N_ELEMENTS (edges));
  add_tcase (s, "labels", 30, labels, N_ELEMENTS (labels));
  add_tcase (s, "strides", 30, strides, N_ELEMENTS (strides));
  add_tcase (s, "errors", 30, errors, N_ELEMENTS (errors));

  tc = tcase_create ("reference");
  tcase_set_timeout (tc, 30);
  tcase_add_loop_test (tc, test_random_volumes_match_reference, 0, 2000);
  tcase_add_loop_test (tc, test_random_2x2_and_2x2x2_volumes_match_reference,
                       0, 1000);
  suite_add_tcase (s, tc);

  tc = tcase_create ("large");
  tcase_set_timeout (tc, 120);
  tcase_add_loop_test (tc, test_16_cubed_blocks_match_sorted_count, 0, 12);
  tcase_add_loop_test (tc, test_64_cubed_block_matches_sorted_count, 0, 3);
  tcase_add_test (tc, test_64_cubed_tie_picks_first_in_raster_order);
  tcase_add_loop_test (tc, test_large_outputs_match_pooling_in_slabs, 0, 4);
  suite_add_tcase (s, tc);

  return s;
}

int
main (void)
{
  return run_suite (mode_pool_suite ());
}
