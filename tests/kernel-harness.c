/* SPDX-License-Identifier: LGPL-3.0-or-later */
#include "kernel-harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- Buffers: a view plus sentinel padding ----------------------------- */

const Strides packed = { 0, 0, false, false };

Buf
buf_new (int w, int h, int d, int bpp, Strides l)
{
  ptrdiff_t row   = (ptrdiff_t) w * bpp + l.row_pad;
  ptrdiff_t slice = row * h + l.slice_pad;
  uint8_t  *origin;
  Buf       b;

  b.size = (size_t) (slice * d);
  b.mem  = malloc (b.size);
  ck_assert_ptr_nonnull (b.mem);
  memset (b.mem, SENTINEL, b.size);

  origin = b.mem;
  if (l.flip_z)
    origin += slice * (d - 1);
  if (l.flip_y)
    origin += row * (h - 1);

  b.v.data         = origin;
  b.v.row_stride   = l.flip_y ? -row : row;
  b.v.slice_stride = l.flip_z ? -slice : slice;
  b.v.width        = w;
  b.v.height       = h;
  b.v.depth        = d;
  b.v.bpp          = bpp;
  return b;
}

void
buf_free (Buf *b)
{
  free (b->mem);
  b->mem = NULL;
}

void
put_packed (const SegVolume *v, const void *voxels)
{
  const uint8_t *p = voxels;

  for (int z = 0; z < v->depth; z++)
    for (int y = 0; y < v->height; y++)
      for (int x = 0; x < v->width; x++, p += v->bpp)
        memcpy (at (v, x, y, z), p, (size_t) v->bpp);
}

void *
copy_of (const void *p, size_t n)
{
  void *c = malloc (n);

  ck_assert_ptr_nonnull (c);
  memcpy (c, p, n);
  return c;
}

void *
scratch_of_size (size_t size)
{
  void *s;

  ck_assert_uint_gt (size, 0);
  s = malloc (size);
  ck_assert_ptr_nonnull (s);
  memset (s, SENTINEL, size);
  return s;
}

Strides
random_strides (Rng *r, int bpp)
{
  Strides l = packed;

  if (rng_chance (r, 60))
    {
      /* Any number of bytes, so rows need not be voxel-aligned. */
      l.row_pad   = rng_chance (r, 30) ? 0 : rng_range (r, 1, 2 * bpp + 3);
      l.slice_pad = rng_chance (r, 30) ? 0 : rng_range (r, 1, 4 * bpp + 7);
      l.flip_y    = rng_chance (r, 20);
      l.flip_z    = rng_chance (r, 20);
    }
  return l;
}

void
describe_strides (char *buf, size_t n, const Strides *l)
{
  snprintf (buf, n, "{row pad %d, slice pad %d%s%s}", l->row_pad,
            l->slice_pad, l->flip_y ? ", flipped y" : "",
            l->flip_z ? ", flipped z" : "");
}

/* ---- Assertions -------------------------------------------------------- */

Hex
hex_of (const uint8_t *p, int n)
{
  static const char digits[] = "0123456789abcdef";
  Hex h;

  for (int i = 0; i < n; i++)
    {
      h.s[2 * i]     = digits[p[i] >> 4];
      h.s[2 * i + 1] = digits[p[i] & 15];
    }
  h.s[2 * n] = '\0';
  return h;
}

/* Plain ifs rather than ck_assert in the loops: check marks a point per
 * assertion, which is slow. */
void
assert_padding_intact (const Buf *b, const char *context)
{
  uint8_t *inside = calloc (b->size, 1);
  size_t   bad = b->size;

  ck_assert_ptr_nonnull (inside);
  for (int z = 0; z < b->v.depth; z++)
    for (int y = 0; y < b->v.height; y++)
      memset (inside + (at (&b->v, 0, y, z) - b->mem), 1,
              (size_t) b->v.width * (size_t) b->v.bpp);
  for (size_t i = 0; i < b->size && bad == b->size; i++)
    if (!inside[i] && b->mem[i] != SENTINEL)
      bad = i;
  free (inside);
  if (bad != b->size)
    ck_abort_msg ("%s: padding byte %zu of %zu was overwritten (0x%02x)",
                  context, bad, b->size, b->mem[bad]);
}

void
assert_input_unchanged (const Buf *in, const uint8_t *before,
                        const char *context)
{
  if (memcmp (in->mem, before, in->size) != 0)
    ck_abort_msg ("%s: the input was modified", context);
}

void
assert_output_untouched (const Buf *out, const char *context)
{
  for (size_t i = 0; i < out->size; i++)
    if (out->mem[i] != SENTINEL)
      ck_abort_msg ("%s: output byte %zu written although the call "
                    "failed", context, i);
}

void
assert_status (SegStatus got, SegStatus want, const char *context)
{
  if (got != want)
    ck_abort_msg ("%s: got status \"%s\", want \"%s\"", context,
                  seg_status_name (got), seg_status_name (want));
}

/* ---- Suites ------------------------------------------------------------ */

void
add_tcase (Suite *s, const char *name, int timeout,
           const TTest *const *tests, int n)
{
  TCase *tc = tcase_create (name);

  tcase_set_timeout (tc, timeout);
  for (int i = 0; i < n; i++)
    tcase_add_test (tc, tests[i]);
  suite_add_tcase (s, tc);
}

int
run_suite (Suite *s)
{
  SRunner *sr = srunner_create (s);
  int      failed;

  srunner_run_all (sr, CK_ENV);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
