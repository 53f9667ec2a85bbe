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
  snprintf (buf, n, "{row pad %d, slice pad %d%s%s}", l->row_pad, l->slice_pad,
            l->flip_y ? ", flipped y" : "", l->flip_z ? ", flipped z" : "");
}

/* ---- The kernel under test -------------------------------------------- */

bool
bytes_equal (const uint8_t *a, const uint8_t *b, int bpp, const void *data)
{
  (void) data;
  return memcmp (a, b, (size_t) bpp) == 0;
}

void *
kernel_scratch (const Kernel *k, const SegFactors *f)
{
  return scratch_of_size (k->scratch_size (f, k->data));
}

void
random_shape (Rng        *r,
              bool        fast,
              int         wide_percent,
              int         widest,
              int        *w,
              int        *h,
              int        *d,
              SegFactors *f)
{
  if (fast)
    {
      f->x = f->y = 2;
      f->z        = rng_range (r, 1, 2);
      if (rng_chance (r, wide_percent))
        {
          *w = rng_range (r, 2, widest);
          *h = rng_range (r, 1, 6);
          *d = rng_range (r, 1, 3);
        }
      else
        {
          *w = rng_range (r, 2, 40);
          *h = rng_range (r, 1, 40);
          *d = rng_range (r, 1, 5);
        }
    }
  else
    {
      *w   = rng_range (r, 1, 40);
      *h   = rng_range (r, 1, 40);
      *d   = rng_range (r, 1, 5);
      f->x = rng_range (r, 1, 5);
      f->y = rng_range (r, 1, 5);
      f->z = rng_range (r, 1, 5);
    }
}


/* ---- Assertions -------------------------------------------------------- */

Hex
hex_of (const uint8_t *p, int n)
{
  static const char digits[] = "0123456789abcdef";
  Hex               h;

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
  size_t   bad    = b->size;

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
assert_input_unchanged (const Buf     *in,
                        const uint8_t *before,
                        const char    *context)
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
                    "failed",
                    context, i);
}

void
assert_status (SegStatus got, SegStatus want, const char *context)
{
  if (got != want)
    ck_abort_msg ("%s: got status \"%s\", want \"%s\"", context,
                  seg_status_name (got), seg_status_name (want));
}

void
assert_volumes_equal (const Kernel    *k,
                      const SegVolume *got,
                      const SegVolume *want,
                      const char      *context)
{
  for (int z = 0; z < want->depth; z++)
    for (int y = 0; y < want->height; y++)
      for (int x = 0; x < want->width; x++)
        {
          const uint8_t *g = at (got, x, y, z), *w = at (want, x, y, z);

          if (!k->voxels_equal (g, w, want->bpp, k->data))
            ck_abort_msg ("%s: first difference at x %d, y %d, z %d: "
                          "got %s, want %s",
                          context, x, y, z, hex_of (g, want->bpp).s,
                          hex_of (w, want->bpp).s);
        }
}


/* ---- Checks that both kernels pass ------------------------------------- */

void
assert_matches_reference (const Kernel     *k,
                          const Buf        *in,
                          Strides           out_strides,
                          const SegFactors *f,
                          bool              sparse,
                          void             *scratch,
                          const char       *context)
{
  const int bpp         = in->v.bpp;
  const int ow          = seg_pooled_size (in->v.width, f->x);
  const int oh          = seg_pooled_size (in->v.height, f->y);
  const int od          = seg_pooled_size (in->v.depth, f->z);
  Buf       out         = buf_new (ow, oh, od, bpp, out_strides);
  Buf       want        = buf_new (ow, oh, od, bpp, packed);
  void     *own_scratch = scratch ? NULL : kernel_scratch (k, f);
  uint8_t  *in_before   = copy_of (in->mem, in->size);
  SegStatus status;

  status = k->pool (&in->v, &out.v, f, sparse, scratch ? scratch : own_scratch,
                    k->data);
  k->reference (&in->v, &want.v, f, sparse, k->data);

  assert_status (status, SEG_OK, context);
  assert_volumes_equal (k, &out.v, &want.v, context);
  assert_padding_intact (&out, context);
  assert_input_unchanged (in, in_before, context);

  free (in_before);
  free (own_scratch);
  buf_free (&out);
  buf_free (&want);
}

uint8_t *
pool_packed (const Kernel *k,
             const void   *voxels,
             int           w,
             int           h,
             int           d,
             int           bpp,
             SegFactors    f,
             bool          sparse,
             int           tiles,
             const char   *context)
{
  const Strides padded  = { 3, 5, false, false };
  const int     tw      = w * tiles;
  const int     ow      = seg_pooled_size (tw, f.x);
  const int     oh      = seg_pooled_size (h, f.y);
  const int     od      = seg_pooled_size (d, f.z);
  const int     tile_ow = ow / tiles;
  Buf           in      = buf_new (tw, h, d, bpp, packed);
  Buf           out     = buf_new (ow, oh, od, bpp, padded);
  Buf           ref     = buf_new (ow, oh, od, bpp, packed);
  void         *scratch = kernel_scratch (k, &f);
  uint8_t      *result  = malloc ((size_t) (tile_ow * oh * od * bpp));
  uint8_t      *p       = result;

  ck_assert_ptr_nonnull (result);
  for (int z = 0; z < d; z++)
    for (int y = 0; y < h; y++)
      for (int x = 0; x < tw; x++)
        memcpy (at (&in.v, x, y, z),
                (const uint8_t *) voxels +
                  (size_t) (((z * h + y) * w + x % w) * bpp),
                (size_t) bpp);

  assert_status (k->pool (&in.v, &out.v, &f, sparse, scratch, k->data), SEG_OK,
                 context);
  assert_padding_intact (&out, context);
  k->reference (&in.v, &ref.v, &f, sparse, k->data);

  for (int z = 0; z < od; z++)
    for (int y = 0; y < oh; y++)
      for (int x = 0; x < ow; x++)
        {
          const uint8_t *got = at (&out.v, x, y, z);

          if (!k->voxels_equal (got, at (&ref.v, x, y, z), bpp, k->data))
            ck_abort_msg ("%s: kernel and reference differ at x %d, y %d, "
                          "z %d: kernel %s, reference %s",
                          context, x, y, z, hex_of (got, bpp).s,
                          hex_of (at (&ref.v, x, y, z), bpp).s);
          if (x >= tile_ow &&
              !k->voxels_equal (got, at (&out.v, x % tile_ow, y, z), bpp,
                                k->data))
            ck_abort_msg ("%s: tile %d differs from tile 0 at x %d, y %d, "
                          "z %d",
                          context, x / tile_ow, x % tile_ow, y, z);
        }
  for (int z = 0; z < od; z++)
    for (int y = 0; y < oh; y++)
      for (int x = 0; x < tile_ow; x++, p += bpp)
        memcpy (p, at (&out.v, x, y, z), (size_t) bpp);

  free (scratch);
  buf_free (&in);
  buf_free (&out);
  buf_free (&ref);
  return result;
}

void
assert_slabs_match_whole (const Kernel     *k,
                          const Buf        *in,
                          const Buf        *out,
                          const SegFactors *f,
                          bool              sparse,
                          const char       *context)
{
  const int slab = 8; /* output rows per slab */
  Buf   part = buf_new (out->v.width, slab, out->v.depth, out->v.bpp, packed);
  void *scratch = kernel_scratch (k, f);

  assert_status (k->pool (&in->v, &out->v, f, sparse, scratch, k->data), SEG_OK,
                 context);
  assert_padding_intact (out, context);

  for (int oy = 0; oy < out->v.height; oy += slab)
    {
      const int rows_left = in->v.height - f->y * oy;
      SegVolume sub_in = in->v, sub_out = part.v, big = out->v;
      char      where[160];

      sub_in.data    = at (&in->v, 0, f->y * oy, 0);
      sub_in.height  = rows_left < f->y * slab ? rows_left : f->y * slab;
      sub_out.height = seg_pooled_size (sub_in.height, f->y);
      big.data       = at (&out->v, 0, oy, 0);
      big.height     = sub_out.height;
      snprintf (where, sizeof where, "%s, output rows from %d", context, oy);
      assert_status (k->pool (&sub_in, &sub_out, f, sparse, scratch, k->data),
                     SEG_OK, where);
      assert_volumes_equal (k, &big, &sub_out, where);
    }

  free (scratch);
  buf_free (&part);
}

void
assert_scratch_serves_smaller_factors (
  const Kernel *k, int bpp, const SegFactors *sequence, int n, FillInput fill)
{
  void *scratch = kernel_scratch (k, &sequence[0]);

  for (int call = 0; call < n; call++)
    {
      const SegFactors *f  = &sequence[call];
      Rng               r  = rng_new ((uint64_t) call, 5);
      Buf               in = buf_new (37, 21, 6, bpp, packed);
      char              context[64];

      ck_assert_uint_le (k->scratch_size (f, k->data),
                         k->scratch_size (&sequence[0], k->data));
      fill (&r, &in.v, call, k->data);
      snprintf (context, sizeof context, "call %d, factors %d,%d,%d", call,
                f->x, f->y, f->z);
      assert_matches_reference (k, &in, packed, f, call & 1, scratch, context);
      buf_free (&in);
    }
  free (scratch);
}


/* ---- Argument errors ---------------------------------------------------- */

ErrorFixture
error_fixture_new (const Kernel *k, int bpp)
{
  ErrorFixture a;

  a.f            = (SegFactors){ 2, 2, 2 };
  a.in           = buf_new (5, 4, 3, bpp, packed);
  a.out          = buf_new (8, 8, 4, bpp, packed);
  a.out.v.width  = 3;
  a.out.v.height = 2;
  a.out.v.depth  = 2;
  a.scratch      = kernel_scratch (k, &a.f);
  return a;
}

void
error_fixture_free (ErrorFixture *a)
{
  buf_free (&a->in);
  buf_free (&a->out);
  free (a->scratch);
}

void
assert_rejected (const Kernel       *k,
                 const ErrorFixture *a,
                 const SegVolume    *in,
                 const SegVolume    *out,
                 const SegFactors   *f,
                 void               *scratch,
                 SegStatus           want,
                 const char         *what)
{
  for (int sparse = 0; sparse < 2; sparse++)
    {
      assert_status (k->pool (in, out, f, sparse, scratch, k->data), want,
                     what);
      assert_output_untouched (&a->out, what);
    }
}

void
assert_fixture_accepted (const Kernel *k, const ErrorFixture *a)
{
  assert_status (
    k->pool (&a->in.v, &a->out.v, &a->f, false, a->scratch, k->data), SEG_OK,
    "fixture");
}

void
assert_null_pointers_rejected (const Kernel *k, const ErrorFixture *a)
{
  SegVolume in = a->in.v, out = a->out.v;

  assert_rejected (k, a, NULL, &a->out.v, &a->f, a->scratch, SEG_EBADARG,
                   "NULL input");
  assert_rejected (k, a, &a->in.v, NULL, &a->f, a->scratch, SEG_EBADARG,
                   "NULL output");
  assert_rejected (k, a, &a->in.v, &a->out.v, NULL, a->scratch, SEG_EBADARG,
                   "NULL factors");
  in.data = NULL;
  assert_rejected (k, a, &in, &a->out.v, &a->f, a->scratch, SEG_EBADARG,
                   "NULL input data");
  out.data = NULL;
  assert_rejected (k, a, &a->in.v, &out, &a->f, a->scratch, SEG_EBADARG,
                   "NULL output data");
}

static const char *
axis_size_name (int axis)
{
  return axis == 0 ? "width" : axis == 1 ? "height" : "depth";
}

static int *
axis_size (SegVolume *v, int axis)
{
  return axis == 0 ? &v->width : axis == 1 ? &v->height : &v->depth;
}

void
assert_sizes_rejected (const Kernel       *k,
                       const ErrorFixture *a,
                       const int          *bad,
                       int                 n)
{
  for (int i = 0; i < n; i++)
    for (int axis = 0; axis < 3; axis++)
      for (int which = 0; which < 2; which++)
        {
          SegVolume in = a->in.v, out = a->out.v;
          char      what[64];

          *axis_size (which ? &out : &in, axis) = bad[i];
          snprintf (what, sizeof what, "%s %s %d", which ? "output" : "input",
                    axis_size_name (axis), bad[i]);
          assert_rejected (k, a, &in, &out, &a->f, a->scratch, SEG_EBADARG,
                           what);
        }
}

void
assert_factors_rejected (const Kernel       *k,
                         const ErrorFixture *a,
                         const int          *bad,
                         int                 n)
{
  for (int i = 0; i < n; i++)
    for (int axis = 0; axis < 3; axis++)
      {
        SegFactors f = a->f;
        char       what[32];

        *(axis == 0 ? &f.x : axis == 1 ? &f.y : &f.z) = bad[i];
        snprintf (what, sizeof what, "factor %c %d", "xyz"[axis], bad[i]);
        assert_rejected (k, a, &a->in.v, &a->out.v, &f, a->scratch, SEG_EBADARG,
                         what);
      }
}

void
assert_overlapping_views_rejected (const Kernel *k, const ErrorFixture *a)
{
  SegVolume in = a->in.v;

  in.row_stride = (ptrdiff_t) in.width * in.bpp - 1;
  assert_rejected (k, a, &in, &a->out.v, &a->f, a->scratch, SEG_EBADARG,
                   "input rows overlap");
  in.row_stride = -in.row_stride;
  assert_rejected (k, a, &in, &a->out.v, &a->f, a->scratch, SEG_EBADARG,
                   "input rows overlap, negative stride");
  in              = a->in.v;
  in.slice_stride = in.row_stride * in.height - 1;
  assert_rejected (k, a, &in, &a->out.v, &a->f, a->scratch, SEG_EBADARG,
                   "input slices overlap");
  in.row_stride = 0;
  assert_rejected (k, a, &in, &a->out.v, &a->f, a->scratch, SEG_EBADARG,
                   "input row stride 0");
}

void
assert_wrong_output_sizes_rejected (const Kernel *k, const ErrorFixture *a)
{
  for (int axis = 0; axis < 3; axis++)
    for (int delta = -1; delta <= 1; delta += 2)
      {
        SegVolume out  = a->out.v;
        int      *size = axis_size (&out, axis);
        char      what[48];

        /* 5×4×3 by 2: ceil is 3×2×2; floor (5 / 2) = 2 is one less. */
        *size += delta;
        if (*size < 1)
          continue;
        snprintf (what, sizeof what, "output %s %+d", axis_size_name (axis),
                  delta);
        assert_rejected (k, a, &a->in.v, &out, &a->f, a->scratch, SEG_EBADSIZE,
                         what);
      }
}

void
assert_scratch_size_zero (const Kernel *k, const SegFactors *bad, int n)
{
  ck_assert_uint_eq (k->scratch_size (NULL, k->data), 0);
  for (int i = 0; i < n; i++)
    ck_assert_msg (k->scratch_size (&bad[i], k->data) == 0, "factors %d,%d,%d",
                   bad[i].x, bad[i].y, bad[i].z);
}

void
assert_scratch_size_grows (const Kernel *k, const SegFactors *grow, int n)
{
  for (int i = 0; i < n; i++)
    {
      ck_assert_uint_gt (k->scratch_size (&grow[i], k->data), 0);
      if (i > 0)
        ck_assert_uint_le (k->scratch_size (&grow[i - 1], k->data),
                           k->scratch_size (&grow[i], k->data));
    }
}


/* ---- Suites ------------------------------------------------------------ */

void
add_tcase (
  Suite *s, const char *name, int timeout, const TTest *const *tests, int n)
{
  TCase *tc = tcase_create (name);

  tcase_set_timeout (tc, timeout);
  for (int i = 0; i < n; i++)
    tcase_add_test (tc, tests[i]);
  suite_add_tcase (s, tc);
}

TCase *
add_loop_tcase (
  Suite *s, const char *name, int timeout, const TTest *test, int n)
{
  TCase *tc = tcase_create (name);

  tcase_set_timeout (tc, timeout);
  tcase_add_loop_test (tc, test, 0, n);
  suite_add_tcase (s, tc);
  return tc;
}

int
run_suite (Suite *s)
{
  SRunner *sr = srunner_create (s);
  int      failed;

  /* One process for the whole suite, however the program is started: a
   * fork () per check, thousands of them, made a suite take minutes under
   * AddressSanitizer (its shadow memory is copied on every fork) instead
   * of seconds.  The tests keep no state from one check to the next; a
   * crash stops the suite, and meson's timeout stands in for check's
   * per-case timeouts, which only work with fork. */
  srunner_set_fork_status (sr, CK_NOFORK);
  srunner_run_all (sr, CK_ENV);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
