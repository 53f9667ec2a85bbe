/* SPDX-License-Identifier: LGPL-3.0-or-later
 *
 * Unit tests of seg_mode_pool() (lib/seg-mode-pool.c), without GEGL.
 *
 *   - seeded random volumes of every shape, factor, voxel size and layout,
 *     compared with ref_mode_pool() (tests/ref-mode-pool.c);
 *   - a table row per tie and edge rule of DESIGN.md, with the expected
 *     output worked out by hand (and the reference held to it as well);
 *   - large blocks (16³, 64³) against an independent sort-based count;
 *   - argument validation: every bad argument gets its status and leaves
 *     the output untouched.
 *
 * The program runs with the kernels the process chooses, and once more
 * with SEG_KERNELS=portable (meson.build): the portable kernels are then
 * checked on AVX-512 machines too.
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
#include "seg-rows.h"

/* The voxel sizes the random and hand-written tests run at: the kernel's
 * word-sized fast paths (1, 2, 4, 8) and its general byte-string path. */
static const int label_sizes[] = { 1, 2, 3, 4, 6, 8, 12, 16 };


/* ---- The kernel under test --------------------------------------------- */

/* A kernel's data: NULL, or the SegBackground of a format with alpha. */
static SegBackground
background_of (const void *data)
{
  return data != NULL ? *(const SegBackground *) data : SEG_BACKGROUND_ZEROS;
}

/* The kernels the process runs: AVX-512 ones where the CPU has them,
 * unless SEG_KERNELS=portable (seg-rows.h); meson runs this program both
 * ways. */
static SegStatus
mode_pool (const SegVolume  *in,
           const SegVolume  *out,
           const SegFactors *f,
           bool              sparse,
           void             *scratch,
           const void       *data)
{
  return seg_mode_pool (in, out, f, sparse, background_of (data), scratch);
}

static void
mode_reference (const SegVolume  *in,
                const SegVolume  *out,
                const SegFactors *f,
                bool              sparse,
                const void       *data)
{
  ref_mode_pool (in, out, f, sparse, background_of (data));
}

static size_t
mode_scratch_size (const SegFactors *f, const void *data)
{
  (void) data;
  return seg_mode_pool_scratch_size (f);
}

/* Labels are the same only when every byte is. */
static const Kernel mode = { mode_pool, mode_reference, mode_scratch_size,
                             bytes_equal, NULL };

static const char *
kernel_name (const Kernel *k)
{
  (void) k;
  return seg_kernels_avx512 () ? "AVX-512 kernels" : "portable kernels";
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
  ALPHABET_RANDOM,     /* every byte random                                */
  ALPHABET_HIGH_BYTES, /* one shared label, each changed in one upper byte */
  ALPHABET_ONE_BYTE,   /* all zero but one byte: close to background       */
  N_ALPHABET_STYLES
} AlphabetStyle;

static const char *const style_names[] = { "random", "high-bytes", "one-byte" };

/* k labels of bpp bytes at alphabet.  The styles make labels that a kernel
 * comparing only some of the bytes (the low ones, the first word) or
 * testing only some bytes for background would confuse.  Label 0 is
 * background when with_background; no other label is. */
static void
make_alphabet (Rng          *r,
               uint8_t      *alphabet,
               int           k,
               int           bpp,
               AlphabetStyle style,
               bool          with_background)
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
fill_labels (
  Rng *r, const SegVolume *v, const uint8_t *alphabet, int k, int clump)
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
  Case             c;

  c.seed = seed;
  c.bpp  = label_sizes[rng_below (r, N_ELEMENTS (label_sizes))];
  random_shape (r, fast_shape, 25, 300, &c.w, &c.h, &c.d, &c.f);
  c.sparse     = rng_chance (r, 50);
  c.in_layout  = random_strides (r, c.bpp);
  c.out_layout = random_strides (r, c.bpp);
  c.n_labels   = alphabet_sizes[rng_below (r, N_ELEMENTS (alphabet_sizes))];
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
run_case (Rng *r, const Case *c, const Kernel *k)
{
  uint8_t alphabet[64 * 16];
  char    context[512];
  size_t  len;
  Buf     in = buf_new (c->w, c->h, c->d, c->bpp, c->in_layout);

  make_alphabet (r, alphabet, c->n_labels, c->bpp, c->style,
                 c->with_background);
  fill_labels (r, &in.v, alphabet, c->n_labels, c->clump);
  describe_case (context, sizeof context, c);
  len = strlen (context);
  snprintf (context + len, sizeof context - len, ", %s", kernel_name (k));
  assert_matches_reference (k, &in, c->out_layout, &c->f, c->sparse, NULL,
                            context);
  buf_free (&in);
}

/* Every factor 1 … 5 on every axis, every voxel size, any layout. */
START_TEST (test_random_volumes_match_reference)
{
  Rng  r = rng_new ((uint64_t) _i, 1);
  Case c = random_case (&r, _i, false);

  run_case (&r, &c, &mode);
}
END_TEST

/* The 2×2×1 (COUNTLESS) and 2×2×2 shapes, which have row kernels. */
START_TEST (test_random_2x2_and_2x2x2_volumes_match_reference)
{
  Rng  r = rng_new ((uint64_t) _i, 2);
  Case c = random_case (&r, _i, true);

  run_case (&r, &c, &mode);
}
END_TEST


/* ---- Formats with alpha ------------------------------------------------ */

/* Where the alpha formats GIMP and GEGL use keep their alpha: Y'A u8,
 * R'G'B'A u8, Y'A u16, R'G'B'A u16, YA float, RGBA float. */
typedef struct
{
  int           bpp;
  SegBackground bg;
} AlphaFormat;

static const AlphaFormat alpha_formats[] = {
  { 2, { 1, 1 } }, { 4, { 3, 1 } }, { 4, { 2, 2 } },
  { 8, { 6, 2 } }, { 8, { 4, 4 } }, { 16, { 12, 4 } },
};

/* k labels of a format with alpha: every kind of background (all zero,
 * transparent in any colour, black at any alpha) and labels one byte
 * away from each (one colour byte set, one alpha byte set). */
static void
make_alpha_alphabet (Rng *r, uint8_t *alphabet, int k, const AlphaFormat *af)
{
  const int a0 = af->bg.alpha_offset, a1 = a0 + af->bg.alpha_size;

  for (int j = 0; j < k; j++)
    {
      uint8_t *label = alphabet + (size_t) j * (size_t) af->bpp;

      for (int i = 0; i < af->bpp; i++)
        label[i] = (uint8_t) rng_next (r);
      switch (rng_below (r, 6))
        {
        case 0: memset (label, 0, (size_t) af->bpp); break;
        case 1: memset (label + a0, 0, (size_t) (a1 - a0)); break;
        case 2:
          memset (label, 0, (size_t) a0);
          memset (label + a1, 0, (size_t) (af->bpp - a1));
          break;
        case 3: /* transparent but for one alpha byte */
          memset (label + a0, 0, (size_t) (a1 - a0));
          label[rng_range (r, a0, a1 - 1)] = (uint8_t) rng_range (r, 1, 255);
          break;
        case 4: /* black but for one colour byte */
          memset (label, 0, (size_t) a0);
          memset (label + a1, 0, (size_t) (af->bpp - a1));
          label[rng_below (r, a0)] = (uint8_t) rng_range (r, 1, 255);
          break;
        default: break; /* random: rarely background */
        }
    }
}

/* Random volumes of the alpha formats, with many kinds of background, in
 * every shape (_i odd: the shapes that have row kernels, which must not
 * take these): the kernel agrees with the reference, sparse or not. */
START_TEST (test_random_alpha_volumes_match_reference)
{
  Rng                r = rng_new ((uint64_t) _i, 3);
  const AlphaFormat *af =
    &alpha_formats[rng_below (&r, N_ELEMENTS (alpha_formats))];
  Kernel  k = mode;
  uint8_t alphabet[12 * 16];
  int     n = rng_range (&r, 2, 12);
  char    context[512];
  Case    c = random_case (&r, _i, _i % 2 == 1);
  Buf     in;

  k.data       = &af->bg;
  c.bpp        = af->bpp;
  c.in_layout  = random_strides (&r, c.bpp);
  c.out_layout = random_strides (&r, c.bpp);
  in           = buf_new (c.w, c.h, c.d, c.bpp, c.in_layout);
  make_alpha_alphabet (&r, alphabet, n, af);
  fill_labels (&r, &in.v, alphabet, n, c.clump);
  snprintf (context, sizeof context,
            "seed %d: input %d×%d×%d, factors %d,%d,%d, bpp %d with alpha at "
            "byte %d (%d bytes), sparse %s, %d labels, %s",
            _i, c.w, c.h, c.d, c.f.x, c.f.y, c.f.z, c.bpp, af->bg.alpha_offset,
            af->bg.alpha_size, c.sparse ? "on" : "off", n, kernel_name (&k));
  assert_matches_reference (&k, &in, c.out_layout, &c.f, c.sparse, NULL,
                            context);
  buf_free (&in);
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

/* A rule of DESIGN.md worked out by hand: w × h × d labels given as small
 * numbers (see small_label), in raster order, pool to want, small numbers
 * too.  Blocks are written as a = top-left, b = top-right,
 * c = bottom-left, d = bottom-right. */
typedef struct
{
  const char    *rule;
  const uint8_t *in;
  int            w, h, d;
  SegFactors     f;
  bool           sparse;
  const uint8_t *want;
} Worked;

#define LABELS(...) ((const uint8_t[]){ __VA_ARGS__ })

/* The case at one voxel size, its image repeated tiles times side by
 * side. */
static void
assert_worked_at (const Kernel *k, const Worked *c, int bpp, int tiles)
{
  const int ow   = seg_pooled_size (c->w, c->f.x);
  const int oh   = seg_pooled_size (c->h, c->f.y);
  const int od   = seg_pooled_size (c->d, c->f.z);
  const int n_in = c->w * c->h * c->d;
  uint8_t  *in   = malloc ((size_t) (n_in * bpp));
  uint8_t  *got, *g;
  uint8_t   expected[SEG_MAX_BPP];
  char      context[200];

  ck_assert_ptr_nonnull (in);
  for (int i = 0; i < n_in; i++)
    small_label (in + (size_t) (i * bpp), c->in[i], bpp);
  snprintf (context, sizeof context,
            "%s: bpp %d, factors %d,%d,%d, "
            "sparse %s, %d tile(s), %s",
            c->rule, bpp, c->f.x, c->f.y, c->f.z, c->sparse ? "on" : "off",
            tiles, kernel_name (k));
  got =
    pool_packed (k, in, c->w, c->h, c->d, bpp, c->f, c->sparse, tiles, context);

  g = got;
  for (int z = 0; z < od; z++)
    for (int y = 0; y < oh; y++)
      for (int x = 0; x < ow; x++, g += bpp)
        {
          unsigned n = c->want[(z * oh + y) * ow + x];

          small_label (expected, n, bpp);
          if (memcmp (g, expected, (size_t) bpp) != 0)
            ck_abort_msg ("%s: output x %d, y %d, z %d is %s, want label %u "
                          "(%s)",
                          context, x, y, z, hex_of (g, bpp).s, n,
                          hex_of (expected, bpp).s);
        }
  free (in);
  free (got);
}

/* At every voxel size in label_sizes; when the blocks tile the width
 * exactly, also with the image repeated 67 times side by side, so that the
 * word-sized row kernels run their vectorised bodies and not only their
 * scalar tails. */
static void
assert_worked (const Worked *c)
{
  for (int i = 0; i < N_ELEMENTS (label_sizes); i++)
    {
      assert_worked_at (&mode, c, label_sizes[i], 1);
      if (c->w % c->f.x == 0)
        assert_worked_at (&mode, c, label_sizes[i], 67);
    }
}

static const Worked countless_rules[] = {
  /* a == b and c == d tie two against two: COUNTLESS picks a. */
  { "a == b picks a",
    LABELS (1, 1, 2, 2),
    2,
    2,
    1,
    { 2, 2, 1 },
    false,
    LABELS (1) },
  { "a == c picks a",
    LABELS (1, 2, 1, 2),
    2,
    2,
    1,
    { 2, 2, 1 },
    false,
    LABELS (1) },
  { "b == c beats a == d",
    LABELS (1, 2, 2, 1),
    2,
    2,
    1,
    { 2, 2, 1 },
    false,
    LABELS (2) },
  { "b == d picks d",
    LABELS (1, 2, 3, 2),
    2,
    2,
    1,
    { 2, 2, 1 },
    false,
    LABELS (2) },
  { "c == d picks d",
    LABELS (1, 2, 3, 3),
    2,
    2,
    1,
    { 2, 2, 1 },
    false,
    LABELS (3) },
  { "three of a kind wins",
    LABELS (2, 1, 1, 2, 1, 1, 2, 2),
    4,
    2,
    1,
    { 2, 2, 1 },
    false,
    LABELS (1, 2) },
  { "all distinct picks d, bottom right",
    LABELS (1, 2, 3, 4),
    2,
    2,
    1,
    { 2, 2, 1 },
    false,
    LABELS (4) },
  { "background pair wins when not sparse",
    LABELS (0, 0, 3, 4),
    2,
    2,
    1,
    { 2, 2, 1 },
    false,
    LABELS (0) },
};

static const uint8_t zeros[27];

static const Worked sparse_rules[] = {
  /* A non-background pair beats a non-background d: a == b, then
   * b == c. */
  { "sparse: pair wins",
    LABELS (5, 5, 0, 6, 0, 7, 6, 7),
    4,
    2,
    1,
    { 2, 2, 1 },
    true,
    LABELS (5, 6) },
  /* a == b and b == c are background pairs: d wins instead. */
  { "sparse: background pair loses to d",
    LABELS (0, 0, 1, 0, 3, 4, 0, 4),
    4,
    2,
    1,
    { 2, 2, 1 },
    true,
    LABELS (4, 4) },
  { "sparse: single non-background d wins",
    LABELS (0, 0, 0, 9),
    2,
    2,
    1,
    { 2, 2, 1 },
    true,
    LABELS (9) },
  /* d is background and no pair: a if set, else c, else b. */
  { "sparse: first non-background in the order a, c, b",
    LABELS (1, 2, 0, 2, 0, 2, 3, 0, 3, 0, 0, 0),
    6,
    2,
    1,
    { 2, 2, 1 },
    true,
    LABELS (1, 3, 2) },
  { "sparse: all background gives background, 2×2",
    zeros,
    2,
    2,
    1,
    { 2, 2, 1 },
    true,
    LABELS (0) },
  { "sparse: all background gives background, 2×2×2",
    zeros,
    2,
    2,
    2,
    { 2, 2, 2 },
    true,
    LABELS (0) },
  { "sparse: all background gives background, 3×3",
    zeros,
    3,
    3,
    1,
    { 3, 3, 1 },
    true,
    LABELS (0) },
  { "sparse: all background gives background, 3×3×3",
    zeros,
    3,
    3,
    3,
    { 3, 3, 3 },
    true,
    LABELS (0) },
  /* 0 ×5, 7 ×2, 4 ×2: the first tied non-background label in raster
   * order (7) wins. */
  { "sparse: a larger block ignores a background majority",
    LABELS (0, 7, 0, 4, 0, 7, 0, 4, 0),
    3,
    3,
    1,
    { 3, 3, 1 },
    true,
    LABELS (7) },
};

static const Worked raster_tie_rules[] = {
  /* 2 and 1 occur twice each; 2 comes first.  COUNTLESS on the first
   * slice would say 1 (d). */
  { "2×2×2 tie picks the first in raster order",
    LABELS (5,
            2,
            1,
            1,

            2,
            6,
            7,
            8),
    2,
    2,
    2,
    { 2, 2, 2 },
    false,
    LABELS (2) },
  { "2×2×2 majority wins",
    LABELS (1,
            2,
            3,
            4,

            4,
            5,
            4,
            6),
    2,
    2,
    2,
    { 2, 2, 2 },
    false,
    LABELS (4) },
  /* Left block: 0 ×5, 3 ×2, 4 ×1 → 3.  Right block: 0 ×6, then 6 and 9
   * tie and 6 comes first. */
  { "2×2×2 sparse: a background majority loses",
    LABELS (0,
            0,
            0,
            0,
            0,
            3,
            0,
            0,

            0,
            4,
            0,
            6,
            0,
            3,
            9,
            0),
    4,
    2,
    2,
    { 2, 2, 2 },
    true,
    LABELS (3, 6) },
  /* 1 and 2 occur twice each.  1 occurs first; 2's last occurrence comes
   * before 1's, so a "last seen" rule would pick 2. */
  { "factor 3 tie picks the first in raster order",
    LABELS (9, 1, 2, 2, 1, 3, 5, 6, 7),
    3,
    3,
    1,
    { 3, 3, 1 },
    false,
    LABELS (1) },
  /* 2 and 3 tie.  In x-then-z order 2 comes first (5 2 3 | 3 2 6); in
   * z-then-x order 3 would (5 3 | 2 2 | 3 6).  Likewise along y. */
  { "raster order is x, then z",
    LABELS (5, 2, 3, 3, 2, 6),
    3,
    1,
    2,
    { 3, 1, 2 },
    false,
    LABELS (2) },
  { "raster order is y, then z",
    LABELS (5, 2, 3, 3, 2, 6),
    1,
    3,
    2,
    { 1, 3, 2 },
    false,
    LABELS (2) },
  /* Each 2×2 quadrant's mode is its own pair (1, 2, 3, 4), so a mode of
   * modes can never give 9; but 9 occurs 4 times, every other label at
   * most twice. */
  { "factor 4 is the exact mode, not a mode of modes",
    LABELS (1, 1, 2, 2, 9, 11, 9, 12, 3, 3, 4, 4, 9, 13, 9, 14),
    4,
    4,
    1,
    { 4, 4, 1 },
    false,
    LABELS (9) },
  /* SEG_MAX_FACTOR on each axis over a small input: one partial block;
   * 1 and 2 tie three-all, and 1 comes first. */
  { "factor 64 is accepted",
    LABELS (3, 1, 2, 2, 1, 4, 2, 1),
    4,
    2,
    1,
    { SEG_MAX_FACTOR, SEG_MAX_FACTOR, SEG_MAX_FACTOR },
    false,
    LABELS (1) },
};

static const Worked edge_rules[] = {
  /* Odd width: the last block is a 1×2 strip whose tie goes to the
   * strip's first pixel (COUNTLESS on a padded block would not). */
  { "a partial right edge block uses only valid pixels",
    LABELS (1, 1, 7, 2, 2, 8),
    3,
    2,
    1,
    { 2, 2, 1 },
    false,
    LABELS (1, 7) },
  { "sparse: a partial edge strip skips background",
    LABELS (1, 1, 0, 2, 2, 8),
    3,
    2,
    1,
    { 2, 2, 1 },
    true,
    LABELS (1, 8) },
  /* Odd height: the last row of blocks are 2×1 strips, tie → first. */
  { "partial bottom edge",
    LABELS (1, 2, 3, 3, 4, 5, 3, 3, 6, 9, 8, 8),
    4,
    3,
    1,
    { 2, 2, 1 },
    false,
    LABELS (5, 3, 6, 8) },
  { "1×1 corner",
    LABELS (1, 1, 2, 1, 1, 2, 3, 3, 4),
    3,
    3,
    1,
    { 2, 2, 1 },
    false,
    LABELS (1, 2, 3, 4) },
  { "height 1 is all strips",
    LABELS (1, 2, 3, 3, 4),
    5,
    1,
    1,
    { 2, 2, 1 },
    false,
    LABELS (1, 3, 4) },
  /* The last slice is a partial 2×2×1 block: first in raster order (1),
   * not COUNTLESS (4). */
  { "odd depth with factor z 2",
    LABELS (1,
            1,
            1,
            1,

            2,
            2,
            2,
            2,

            1,
            2,
            3,
            4),
    2,
    2,
    3,
    { 2, 2, 2 },
    false,
    LABELS (1, 1) },
  /* Last slice: first non-background in raster order (2), where stippled
   * COUNTLESS would take d (4). */
  { "odd depth, sparse: the partial slice is not stippled COUNTLESS",
    LABELS (1,
            1,
            1,
            1,

            1,
            1,
            1,
            1,

            0,
            2,
            3,
            4),
    2,
    2,
    3,
    { 2, 2, 2 },
    true,
    LABELS (1, 2) },
  { "a factor larger than the volume gives one block",
    LABELS (1, 2, 2, 3, 2, 1),
    3,
    2,
    1,
    { 5, 5, 5 },
    false,
    LABELS (2) },
};

START_TEST (test_countless_rule)
{
  assert_worked (&countless_rules[_i]);
}
END_TEST

START_TEST (test_sparse_rule)
{
  assert_worked (&sparse_rules[_i]);
}
END_TEST

START_TEST (test_raster_tie_rule)
{
  assert_worked (&raster_tie_rules[_i]);
}
END_TEST

START_TEST (test_edge_rule)
{
  assert_worked (&edge_rules[_i]);
}
END_TEST

static const SegFactors f221 = { 2, 2, 1 };

START_TEST (test_factor_1_is_identity)
{
  const SegFactors f111 = { 1, 1, 1 };

  for (int i = 0; i < N_ELEMENTS (label_sizes); i++)
    for (int sparse = 0; sparse < 2; sparse++)
      {
        const int bpp = label_sizes[i];
        Rng       r   = rng_new ((uint64_t) (2 * i + sparse), 3);
        uint8_t   alphabet[8 * 16];
        Buf       in      = buf_new (13, 7, 3, bpp, packed);
        Buf       out     = buf_new (13, 7, 3, bpp, random_strides (&r, bpp));
        void     *scratch = kernel_scratch (&mode, &f111);
        char      context[64];

        make_alphabet (&r, alphabet, 8, bpp, ALPHABET_RANDOM, true);
        fill_labels (&r, &in.v, alphabet, 8, 0);
        snprintf (context, sizeof context, "bpp %d, sparse %d", bpp, sparse);
        assert_status (seg_mode_pool (&in.v, &out.v, &f111, sparse,
                                      SEG_BACKGROUND_ZEROS, scratch),
                       SEG_OK, context);
        assert_volumes_equal (&mode, &out.v, &in.v, context);
        assert_padding_intact (&out, context);
        free (scratch);
        buf_free (&in);
        buf_free (&out);
      }
}
END_TEST


/* ---- Label representations --------------------------------------------- */

/* Runs packed voxels through pool_packed with kernel k and compares with
 * want, the whole output. */
static void
assert_pools_to (const Kernel *k,
                 const void   *voxels,
                 int           w,
                 int           h,
                 int           d,
                 int           bpp,
                 SegFactors    f,
                 bool          sparse,
                 const void   *want,
                 size_t        want_size)
{
  const int n_out = seg_pooled_size (w, f.x) * seg_pooled_size (h, f.y) *
                    seg_pooled_size (d, f.z);
  uint8_t *got;

  ck_assert_uint_eq (want_size, (size_t) (n_out * bpp));
  got = pool_packed (k, voxels, w, h, d, bpp, f, sparse, 1, kernel_name (k));
  for (size_t i = 0; i < want_size; i += (size_t) bpp)
    if (memcmp (got + i, (const uint8_t *) want + i, (size_t) bpp) != 0)
      ck_abort_msg ("%s%s: output voxel %zu is %s, want %s", kernel_name (k),
                    sparse ? ", sparse" : "", i / (size_t) bpp,
                    hex_of (got + i, bpp).s,
                    hex_of ((const uint8_t *) want + i, bpp).s);
  free (got);
}

/* The same with the kernel for formats without alpha. */
static void
assert_bytes_pool_to (const void *voxels,
                      int         w,
                      int         h,
                      int         d,
                      int         bpp,
                      SegFactors  f,
                      bool        sparse,
                      const void *want,
                      size_t      want_size)
{
  assert_pools_to (&mode, voxels, w, h, d, bpp, f, sparse, want, want_size);
}

/* A GIMP label layer given an alpha channel: its black background turns
 * opaque black, (0, 0, 0, 255), which must stay background, and so must
 * transparent pixels of any colour. */
START_TEST (test_opaque_black_and_transparent_are_background_in_r_g_b_a)
{
#define BK 0, 0, 0, 255 /* opaque black                          */
#define TR 9, 8, 7, 0   /* transparent, in a colour              */
#define L1 10, 20, 30, 255
#define L2 10, 20, 30, 254 /* differs in alpha alone: another label */
#define NB 0, 0, 1, 255    /* not black: a label                    */
  static const SegBackground rgba = { 3, 1 };
  /* Four 2×2 blocks side by side (a b / c d), sparse and dense:
   *   1: BK BK / BK L1: L1 (d, the one non-background); BK (a == b)
   *   2: TR BK / BK TR: TR (background only: the first); BK (b == c)
   *   3: L1 L2 / TR TR: L1 (no pair, d is background, a is not); TR (d)
   *   4: NB BK / BK TR: NB (a is not background); BK (b == c) */
  static const uint8_t px[] = {
    BK, BK, TR, BK, L1, L2, NB, BK, /* row 0 */
    BK, L1, BK, TR, TR, TR, BK, TR, /* row 1 */
  };
  static const uint8_t want_sparse[] = { L1, TR, L1, NB };
  static const uint8_t want_dense[]  = { BK, BK, TR, BK };
#undef BK
#undef TR
#undef L1
#undef L2
#undef NB
  const SegFactors f = { 2, 2, 1 };
  Kernel           k = mode;

  k.data = &rgba;
  assert_pools_to (&k, px, 8, 2, 1, 4, f, true, want_sparse,
                   sizeof want_sparse);
  assert_pools_to (&k, px, 8, 2, 1, 4, f, false, want_dense, sizeof want_dense);
}
END_TEST

START_TEST (test_uint64_labels_differing_only_in_high_bytes)
{
  /* A, B, C agree in their low 32 bits.  2×2: b == c → B, where a kernel
   * comparing low words only would see a == b → A.  3×1: C twice. */
  const uint64_t   A                = 0x0000000100000005ull;
  const uint64_t   B                = 0x0100000000000005ull;
  const uint64_t   C                = 0x8000000000000005ull;
  const uint64_t   countless[]      = { A, B, B, C };
  const uint64_t   raster[]         = { A, C, B, C };
  const uint64_t   want_countless[] = { B };
  const uint64_t   want_raster[]    = { C };
  const SegFactors f41              = { 4, 1, 1 };

  assert_bytes_pool_to (countless, 2, 2, 1, 8, f221, false, want_countless,
                        sizeof want_countless);
  assert_bytes_pool_to (raster, 4, 1, 1, 8, f41, false, want_raster,
                        sizeof want_raster);
}
END_TEST

START_TEST (test_sparse_label_with_only_high_byte_set_is_not_background)
{
  /* H is zero but for its top byte; background is all bytes zero. */
  const uint64_t   H             = 0x0100000000000000ull;
  const uint64_t   in[]          = { 0, 0, H };
  const uint64_t   want_sparse[] = { H };
  const uint64_t   want_dense[]  = { 0 };
  const SegFactors f31           = { 3, 1, 1 };

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
#define BG 0, 0, 0
  static const uint8_t countless[]      = { L1, L2, L2, L3 };
  static const uint8_t want_countless[] = { L2 };
  /* L1 ×1, L2 ×2, L3 ×3, background ×3: background ties with L3 and
   * comes first; sparse, L3 wins. */
  static const uint8_t raster[]      = { L1, L2, BG, L3, L2, BG, L3, L3, BG };
  static const uint8_t want_dense[]  = { BG };
  static const uint8_t want_sparse[] = { L3 };
#undef L1
#undef L2
#undef L3
#undef BG
  const SegFactors f33 = { 3, 3, 1 };

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
  const uint16_t in[]   = { 0x0000, 0x0207, 0x0100, 0x0000, 0x0105, 0x0205,
                            0x0105, 0x0205, 0x0207, 0x0107, 0x0000, 0x0000,
                            0x0305, 0x0405, 0x0205, 0x0000 };
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
  const uint32_t   pos0 = 0x00000000u, neg0 = 0x80000000u, one = 0x3f800000u;
  const uint32_t   in[]        = { pos0, neg0, neg0, one };
  const uint32_t   want[]      = { neg0 };
  const uint32_t   sparse_in[] = { pos0, pos0, pos0, neg0, neg0 };
  const SegFactors f51         = { 5, 1, 1 };

  assert_bytes_pool_to (in, 2, 2, 1, 4, f221, false, want, sizeof want);
  assert_bytes_pool_to (sparse_in, 5, 1, 1, 4, f51, true, want, sizeof want);
}
END_TEST

START_TEST (test_largest_voxel_size_is_accepted)
{
  /* SEG_MAX_BPP-byte labels that differ in their last byte only. */
  uint8_t          in[6][SEG_MAX_BPP] = { { 0 } }, want[2][SEG_MAX_BPP];
  const SegFactors f31                = { 3, 1, 1 };

  for (int i = 0; i < 6; i++)
    in[i][SEG_MAX_BPP - 1] = (uint8_t) (i == 1 || i == 2 || i == 4 ? 7 : i);
  memcpy (want[0], in[1], SEG_MAX_BPP);
  memcpy (want[1], in[3], SEG_MAX_BPP); /* 3, 7, 5: tie → first */
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
assert_layout_gives_same_result (
  Strides l, Strides out_l, int bpp, SegFactors f, bool sparse)
{
  Rng       r = rng_new ((uint64_t) bpp * 100 + (uint64_t) f.z, 4);
  const int w = 23, h = 9, d = 5;
  Buf       p, q, want, got;
  void     *scratch = kernel_scratch (&mode, &f);
  uint8_t  *q_before;
  char      context[128];

  make_pair (&r, w, h, d, bpp, l, &p, &q);
  want     = buf_new (seg_pooled_size (w, f.x), seg_pooled_size (h, f.y),
                      seg_pooled_size (d, f.z), bpp, packed);
  got      = buf_new (want.v.width, want.v.height, want.v.depth, bpp, out_l);
  q_before = copy_of (q.mem, q.size);
  snprintf (context, sizeof context, "bpp %d, factors %d,%d,%d, sparse %d", bpp,
            f.x, f.y, f.z, sparse);

  assert_status (
    seg_mode_pool (&p.v, &want.v, &f, sparse, SEG_BACKGROUND_ZEROS, scratch),
    SEG_OK, context);
  assert_status (
    seg_mode_pool (&q.v, &got.v, &f, sparse, SEG_BACKGROUND_ZEROS, scratch),
    SEG_OK, context);
  assert_volumes_equal (&mode, &got.v, &want.v, context);
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

/* The input of one call of the scratch test: background on the odd
 * calls. */
static void
fill_scratch_test_input (Rng *r, const SegVolume *v, int call, const void *data)
{
  uint8_t alphabet[40 * SEG_MAX_BPP];

  (void) data;
  make_alphabet (r, alphabet, 40, v->bpp, ALPHABET_RANDOM, call & 1);
  fill_labels (r, v, alphabet, 40, 20);
}

START_TEST (test_scratch_can_be_reused_for_smaller_factors)
{
  /* The hashed path must leave its table reusable. */
  static const SegFactors sequence[] = { { 8, 8, 2 }, { 5, 3, 1 }, { 8, 8, 2 },
                                         { 2, 2, 2 }, { 4, 4, 4 }, { 2, 2, 1 },
                                         { 6, 7, 1 } };

  assert_scratch_serves_smaller_factors (
    &mode, 4, sequence, N_ELEMENTS (sequence), fill_scratch_test_input);
}
END_TEST


/* Outputs of several MiB with the 2×2 and 2×2×2 shapes, into a padded view
 * with odd row padding, against pooling the same input in slabs; each
 * with the best row kernels the CPU has, then the portable ones. */
START_TEST (test_large_outputs_match_pooling_in_slabs)
{
  static const struct
  {
    int  w, h, d, bpp, fz;
    bool sparse;
  } cfg[] = {
    { 4099, 4098, 1, 1, 1, false }, /* 2050 × 2049 u8: 4.2 MB      */
    { 1538, 1537, 1, 8, 1, true },  /* 769 × 769 u64: 4.7 MB       */
    { 2050, 2050, 4, 2, 2, true },  /* 1025 × 1025 × 2 u16: 4.2 MB */
    { 1026, 1024, 4, 8, 2, false }, /* 513 × 512 × 2 u64: 4.2 MB   */
  };
  const int        i = _i;
  const Kernel    *k = &mode;
  const int        w = cfg[i].w, h = cfg[i].h, d = cfg[i].d;
  const int        bpp = cfg[i].bpp;
  const SegFactors f   = { 2, 2, cfg[i].fz };
  const Strides    odd = { 5, 3, false, false };
  Rng              r   = rng_new ((uint64_t) i, 8);
  uint8_t          alphabet[4 * 8];
  Buf              in = buf_new (w, h, d, bpp, packed);
  Buf  out            = buf_new (seg_pooled_size (w, 2), seg_pooled_size (h, 2),
                                 seg_pooled_size (d, f.z), bpp, odd);
  char context[128];

  make_alphabet (&r, alphabet, 4, bpp, ALPHABET_HIGH_BYTES, true);
  fill_labels (&r, &in.v, alphabet, 4, 40);
  snprintf (context, sizeof context,
            "%d×%d×%d, bpp %d, factors 2,2,%d, "
            "sparse %d, %s",
            w, h, d, bpp, f.z, cfg[i].sparse, kernel_name (k));
  assert_slabs_match_whole (k, &in, &out, &f, cfg[i].sparse, context);
  buf_free (&in);
  buf_free (&out);
}
END_TEST


/* ---- Large blocks against a sort-based count ---------------------------- */

typedef struct
{
  const uint8_t *voxel;
  size_t         index; /* position in the block, raster order */
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
sorted_block_mode (const SegVolume *in,
                   int              x0,
                   int              y0,
                   int              z0,
                   int              bw,
                   int              bh,
                   int              bd,
                   bool             sparse,
                   uint8_t         *mode)
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
assert_large_blocks_match_sorted_count (int        w,
                                        int        h,
                                        int        d,
                                        int        bpp,
                                        SegFactors f,
                                        bool       sparse,
                                        int        k,
                                        int        bg_percent,
                                        uint64_t   seed)
{
  Rng     r       = rng_new (seed, 6);
  Buf     in      = buf_new (w, h, d, bpp, packed);
  Buf     out     = buf_new (seg_pooled_size (w, f.x), seg_pooled_size (h, f.y),
                             seg_pooled_size (d, f.z), bpp, packed);
  void   *scratch = kernel_scratch (&mode, &f);
  uint8_t want[SEG_MAX_BPP];

  for (int z = 0; z < d; z++)
    for (int y = 0; y < h; y++)
      for (int x = 0; x < w; x++)
        {
          if (rng_chance (&r, bg_percent))
            memset (at (&in.v, x, y, z), 0, (size_t) bpp);
          else
            counter_label (at (&in.v, x, y, z), (uint32_t) rng_below (&r, k),
                           bpp);
        }

  assert_status (
    seg_mode_pool (&in.v, &out.v, &f, sparse, SEG_BACKGROUND_ZEROS, scratch),
    SEG_OK, "large blocks");
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
                          "%d×%d×%d voxels is %s, want %s",
                          bpp, sparse, k, ox, oy, oz, bw, bh, bd,
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
  const SegFactors f       = { 16, 16, 16 };
  const int        bpp     = sizes[_i / 2];
  const bool       sparse  = _i % 2;

  /* ~1000 labels over 4096 voxels: counts of a few, ties at the top. */
  assert_large_blocks_match_sorted_count (40, 24, 16, bpp, f, sparse,
                                          bpp == 1 ? 200 : 1000,
                                          sparse ? 40 : 10, (uint64_t) _i);
}
END_TEST

START_TEST (test_64_cubed_block_matches_sorted_count)
{
  static const int sizes[] = { 8, 16, 3 };
  const SegFactors f       = { 64, 64, 64 };

  assert_large_blocks_match_sorted_count (
    64, 64, 64, sizes[_i], f, _i != 0, 20000, _i == 0 ? 0 : 50, (uint64_t) _i);
}
END_TEST

/* A block of 32 voxels, each a label of its own but A at voxels 0 and
 * 15 and B at the last two (or three): the general path counts A and
 * the next seven labels a pass each, and the rest, B among them, in its
 * table.  B ties A and loses (A occurs first), or passes it and wins. */
START_TEST (test_label_counted_late_wins_only_with_a_higher_count)
{
  static const int sizes[] = { 1, 2, 3, 4, 6, 8 };
  const int        bpp     = sizes[_i / 2];
  const bool       b_wins  = _i % 2;
  const SegFactors f       = { 4, 4, 2 };
  Buf              in      = buf_new (4, 4, 2, bpp, packed);
  Buf              out     = buf_new (1, 1, 1, bpp, packed);
  void            *scratch = kernel_scratch (&mode, &f);
  uint8_t          a[SEG_MAX_BPP], b[SEG_MAX_BPP];

  counter_label (a, 0, bpp);
  counter_label (b, 1, bpp);
  for (int i = 0; i < 32; i++)
    {
      const uint8_t *label = i == 0 || i == 15         ? a
                             : i >= (b_wins ? 29 : 30) ? b
                                                       : NULL;

      if (label != NULL)
        memcpy (at (&in.v, i % 4, i / 4 % 4, i / 16), label, (size_t) bpp);
      else
        counter_label (at (&in.v, i % 4, i / 4 % 4, i / 16), (uint32_t) i + 2,
                       bpp);
    }
  assert_status (
    seg_mode_pool (&in.v, &out.v, &f, false, SEG_BACKGROUND_ZEROS, scratch),
    SEG_OK, "32 voxels");
  if (memcmp (at (&out.v, 0, 0, 0), b_wins ? b : a, (size_t) bpp) != 0)
    ck_abort_msg ("bpp %d: got %s, want %s", bpp,
                  hex_of (at (&out.v, 0, 0, 0), bpp).s,
                  hex_of (b_wins ? b : a, bpp).s);
  free (scratch);
  buf_free (&in);
  buf_free (&out);
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
  uint64_t        *in      = malloc ((size_t) n * sizeof *in);
  uint64_t         got     = 0;
  SegVolume        vin     = seg_volume_packed (in, 64, 64, 64, 8);
  SegVolume        vout    = seg_volume_packed (&got, 1, 1, 1, 8);
  void            *scratch = kernel_scratch (&mode, &f);

  ck_assert_ptr_nonnull (in);
  for (int i = 0; i < n; i++)
    in[i] = (uint64_t) (i + 1) << 24;
  in[1000] = X;
  for (int i = 200000; i < 200004; i++)
    in[i] = X;
  for (int i = 1001; i < 1006; i++)
    in[i] = Y;

  assert_status (
    seg_mode_pool (&vin, &vout, &f, false, SEG_BACKGROUND_ZEROS, scratch),
    SEG_OK, "64³");
  ck_assert_uint_eq (got, X);
  free (scratch);
  free (in);
}
END_TEST


/* ---- Errors ------------------------------------------------------------ */

/* The fixture of the error tests (see ErrorFixture) with two-byte
 * labels. */
static ErrorFixture
args_new (void)
{
  ErrorFixture a = error_fixture_new (&mode, 2);
  Rng          r = rng_new (7, 7);
  uint8_t      alphabet[4 * 2];

  make_alphabet (&r, alphabet, 4, 2, ALPHABET_RANDOM, true);
  fill_labels (&r, &a.in.v, alphabet, 4, 0);
  return a;
}

static void
assert_null_scratch_rejected (const Kernel *k, const ErrorFixture *a)
{
  assert_rejected (k, a, &a->in.v, &a->out.v, &a->f, NULL, SEG_EBADARG,
                   "NULL scratch");
}

static void
assert_nonpositive_sizes_rejected (const Kernel *k, const ErrorFixture *a)
{
  static const int bad[] = { 0, -1, -1000 };

  assert_sizes_rejected (k, a, bad, N_ELEMENTS (bad));
}

static void
assert_differing_bpp_rejected (const Kernel *k, const ErrorFixture *a)
{
  SegVolume out = a->out.v;

  out.bpp = 1;
  assert_rejected (k, a, &a->in.v, &out, &a->f, a->scratch, SEG_EBADARG,
                   "output bpp 1, input bpp 2");
}

static void
assert_factors_out_of_range_rejected (const Kernel *k, const ErrorFixture *a)
{
  static const int bad[] = { 0, -1, SEG_MAX_FACTOR + 1, 1000 };

  assert_factors_rejected (k, a, bad, N_ELEMENTS (bad));
}

/* The first check shows the fixture valid, so that each of the others
 * fails for the one reason it changes. */
static const FixtureCheck fixture_checks[] = {
  assert_fixture_accepted,           assert_null_pointers_rejected,
  assert_null_scratch_rejected,      assert_nonpositive_sizes_rejected,
  assert_differing_bpp_rejected,     assert_factors_out_of_range_rejected,
  assert_overlapping_views_rejected, assert_wrong_output_sizes_rejected,
};

START_TEST (test_fixture_check)
{
  ErrorFixture a = args_new ();

  fixture_checks[_i](&mode, &a);
  error_fixture_free (&a);
}
END_TEST

START_TEST (test_bpp_out_of_range_is_rejected)
{
  /* Views whose strides fit the bad voxel size, so that only the size is
   * wrong. */
  static const int bad[]   = { 0, -1, SEG_MAX_BPP + 1 };
  const SegFactors f       = { 2, 2, 2 };
  void            *scratch = kernel_scratch (&mode, &f);

  for (int i = 0; i < N_ELEMENTS (bad); i++)
    {
      const int    stride_bpp = bad[i] > 0 ? bad[i] : 1;
      ErrorFixture a;
      char         what[32];

      a.in       = buf_new (5, 4, 3, stride_bpp, packed);
      a.out      = buf_new (3, 2, 2, stride_bpp, packed);
      a.in.v.bpp = a.out.v.bpp = bad[i];
      snprintf (what, sizeof what, "bpp %d", bad[i]);
      assert_rejected (&mode, &a, &a.in.v, &a.out.v, &f, scratch, SEG_EBADARG,
                       what);
      buf_free (&a.in);
      buf_free (&a.out);
    }
  free (scratch);
}
END_TEST

START_TEST (test_scratch_size_is_zero_for_invalid_factors)
{
  static const SegFactors bad[] = { { 0, 2, 2 },
                                    { 2, 0, 2 },
                                    { 2, 2, 0 },
                                    { -1, 1, 1 },
                                    { 1, -5, 1 },
                                    { SEG_MAX_FACTOR + 1, 1, 1 },
                                    { 1, SEG_MAX_FACTOR + 1, 1 },
                                    { 1, 1, SEG_MAX_FACTOR + 1 } };

  assert_scratch_size_zero (&mode, bad, N_ELEMENTS (bad));
}
END_TEST

START_TEST (test_scratch_size_does_not_shrink_with_larger_factors)
{
  static const SegFactors grow[] = { { 1, 1, 1 },    { 2, 1, 1 },   { 2, 2, 1 },
                                     { 2, 2, 2 },    { 4, 2, 2 },   { 4, 4, 4 },
                                     { 16, 16, 16 }, { 64, 64, 64 } };

  assert_scratch_size_grows (&mode, grow, N_ELEMENTS (grow));
}
END_TEST

/* With SEG_KERNELS=portable, no AVX-512 kernel runs: else the portable run
 * of this program would check them a second time and the portable ones
 * never. */
START_TEST (test_seg_kernels_portable_is_obeyed)
{
  const char *kernels = getenv ("SEG_KERNELS");

  if (kernels != NULL && strcmp (kernels, "portable") == 0)
    ck_assert_msg (!seg_kernels_avx512 (),
                   "SEG_KERNELS=portable, yet AVX-512 kernels run");
}
END_TEST


/* ---- Suite -------------------------------------------------------------- */

static Suite *
mode_pool_suite (void)
{
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
  Suite *s = suite_create ("mode-pool");
  TCase *tc;

  add_loop_tcase (s, "countless", 30, test_countless_rule,
                  N_ELEMENTS (countless_rules));
  add_loop_tcase (s, "sparse", 30, test_sparse_rule, N_ELEMENTS (sparse_rules));
  tc = add_loop_tcase (s, "raster-ties", 30, test_raster_tie_rule,
                       N_ELEMENTS (raster_tie_rules));
  tcase_add_test (tc, test_factor_1_is_identity);
  tcase_add_test (tc, test_seg_kernels_portable_is_obeyed);
  add_loop_tcase (s, "edges", 30, test_edge_rule, N_ELEMENTS (edge_rules));
  add_tcase (s, "labels", 30, labels, N_ELEMENTS (labels));
  add_tcase (s, "strides", 30, strides, N_ELEMENTS (strides));
  tc = add_loop_tcase (s, "errors", 30, test_fixture_check,
                       N_ELEMENTS (fixture_checks));
  tcase_add_test (tc, test_bpp_out_of_range_is_rejected);
  tcase_add_test (tc, test_scratch_size_is_zero_for_invalid_factors);
  tcase_add_test (tc, test_scratch_size_does_not_shrink_with_larger_factors);

  tc = add_loop_tcase (s, "reference", 30, test_random_volumes_match_reference,
                       2000);
  tcase_add_loop_test (tc, test_random_2x2_and_2x2x2_volumes_match_reference, 0,
                       1000);
  tcase_add_loop_test (tc, test_random_alpha_volumes_match_reference, 0, 600);
  tcase_add_test (tc,
                  test_opaque_black_and_transparent_are_background_in_r_g_b_a);

  tc = add_loop_tcase (s, "large", 120, test_16_cubed_blocks_match_sorted_count,
                       12);
  tcase_add_loop_test (tc, test_64_cubed_block_matches_sorted_count, 0, 3);
  tcase_add_test (tc, test_64_cubed_tie_picks_first_in_raster_order);
  tcase_add_loop_test (
    tc, test_label_counted_late_wins_only_with_a_higher_count, 0, 12);
  tcase_add_loop_test (tc, test_large_outputs_match_pooling_in_slabs, 0, 4);

  return s;
}

int
main (void)
{
  return run_suite (mode_pool_suite ());
}
