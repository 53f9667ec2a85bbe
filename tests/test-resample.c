/* SPDX-License-Identifier: LGPL-3.0-or-later
 *
 * Unit tests of seg_resample () (lib/seg-resample.c), without GEGL:
 *
 *   - seeded random volumes, every mode and component type, labels of 1 to
 *     16 bytes, colours with and without alpha, random strides, each axis
 *     up or down or kept (among them the ratios 26 → 22, 2 → 25, 39 → 33,
 *     1 → 7, 7 → 1), the output in random parts each from only the input
 *     it reads, compared voxel by voxel with ref_resample_voxel ();
 *   - invariants: a constant volume stays constant, the same size is the
 *     identity, whole-factor area is the block mean;
 *   - the rounding of seg_number_store (), by hand;
 *   - bad arguments.
 */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel-harness.h"
#include "ref-resample.h"
#include "seg-numbers.h"
#include "seg-resample.h"

/* Size pairs worth a place of their own: PyTorch and volresample differ
 * on some, integer rounding meets its edges on others. */
static const int named_pairs[][2] = { { 26, 22 }, { 2, 25 }, { 39, 33 },
                                      { 1, 7 },   { 7, 1 },  { 5, 5 } };

static const SegComponentType number_types[] = {
  SEG_TYPE_U8,     SEG_TYPE_U16, SEG_TYPE_U32, SEG_TYPE_HALF, SEG_TYPE_FLOAT,
  SEG_TYPE_DOUBLE, SEG_TYPE_I8,  SEG_TYPE_I16, SEG_TYPE_I32
};

/* A size pair for one axis: a named one now and then (on one axis at a
 * time, to keep volumes small), else random. */
static void
random_pair (Rng *r, bool named, int *in, int *out)
{
  if (named)
    {
      const int *p = named_pairs[rng_below (r, N_ELEMENTS (named_pairs))];

      *in  = p[0];
      *out = p[1];
      return;
    }
  *in  = rng_range (r, 1, 9);
  *out = rng_chance (r, 15) ? *in : rng_range (r, 1, 12);
}

/* A random component of type at p: small integers with ties, or any
 * value of the type. */
static void
random_number (Rng *r, SegComponentType type, uint8_t *p)
{
  double v;

  switch (type)
    {
    case SEG_TYPE_HALF:
    case SEG_TYPE_FLOAT:
    case SEG_TYPE_DOUBLE:
      v = rng_chance (r, 30) ? rng_range (r, 0, 4)
                             : ldexp ((double) (rng_next (r) >> 11),
                                      -53 + rng_range (r, -4, 8)) *
                                 (rng_chance (r, 30) ? -1 : 1);
      break;
    default:
      {
        const int size = seg_component_size (type);

        if (rng_chance (r, 40))
          {
            v = rng_range (r, 0, 3);
            break;
          }
        /* Any bytes: every value of the type. */
        for (int i = 0; i < size; i++)
          p[i] = (uint8_t) rng_next (r);
        return;
      }
    }
  seg_number_store (p, type, v);
}

/* A random resampling of voxels of *bpp bytes and a whole input for it. */
static uint8_t *
random_job (Rng *r, SegResample *job, int *bpp)
{
  const int named_axis = rng_chance (r, 40) ? rng_below (r, 3) : -1;
  uint8_t  *in;
  size_t    n;

  job->mode = (SegResampleMode) rng_below (r, 3);
  for (int a = 0; a < 3; a++)
    random_pair (r, a == named_axis, &job->in_size[a], &job->out_size[a]);
  if (rng_chance (r, 30)) /* an image */
    job->in_size[2] = job->out_size[2] = 1;
  job->layout.type = number_types[rng_below (r, N_ELEMENTS (number_types))];
  job->layout.n_components = rng_range (r, 1, 4);
  job->layout.alpha        = job->layout.type < SEG_TYPE_I8 &&
                          job->layout.n_components > 1 && rng_chance (r, 50)
                               ? job->layout.n_components - 1
                               : -1;
  *bpp = job->layout.n_components * seg_component_size (job->layout.type);
  if (job->mode == SEG_RESAMPLE_NEAREST && rng_chance (r, 50))
    {
      static const int label_sizes[] = { 1, 2, 3, 4, 8, 12, 16 };

      *bpp = label_sizes[rng_below (r, N_ELEMENTS (label_sizes))];
    }
  n  = (size_t) job->in_size[0] * job->in_size[1] * job->in_size[2];
  in = malloc (n * (size_t) *bpp);
  ck_assert_ptr_nonnull (in);
  for (size_t i = 0; i < n; i++)
    {
      if (job->mode == SEG_RESAMPLE_NEAREST)
        for (int b = 0; b < *bpp; b++)
          in[i * *bpp + b] = (uint8_t) rng_next (r);
      else
        for (int c = 0; c < job->layout.n_components; c++)
          random_number (r, job->layout.type,
                         in + i * *bpp +
                           (size_t) c * seg_component_size (job->layout.type));
    }
  return in;
}

/* Output voxels [o0, o0 + n) on axis a and the input they read. */
static void
input_of (const SegResample *job, int a, int o0, int n, int *i0, int *i1)
{
  int first, end;

  seg_resample_span (job->mode, job->in_size[a], job->out_size[a], o0, i0,
                     &end);
  seg_resample_span (job->mode, job->in_size[a], job->out_size[a], o0 + n - 1,
                     &first, i1);
}

START_TEST (test_resampling_matches_reference)
{
  Rng         r = rng_new ((uint64_t) _i, 81);
  SegResample job;
  int         bpp;
  uint8_t    *whole = random_job (&r, &job, &bpp);
  const int   parts = rng_chance (&r, 50) ? 1 : rng_range (&r, 2, 4);

  /* The output in parts along y (and z), each from exactly its input. */
  for (int p = 0; p < parts; p++)
    {
      int       o0[3], n[3], i0[3], i1[3];
      Buf       in, out;
      char      where[200];
      SegStatus status;

      for (int a = 0; a < 3; a++)
        {
          o0[a] = 0;
          n[a]  = job.out_size[a];
        }
      if (parts > 1)
        {
          o0[1] = job.out_size[1] * p / parts;
          n[1]  = job.out_size[1] * (p + 1) / parts - o0[1];
          if (n[1] == 0)
            continue;
          o0[0] = rng_range (&r, 0, job.out_size[0] - 1);
          n[0]  = rng_range (&r, 1, job.out_size[0] - o0[0]);
        }
      for (int a = 0; a < 3; a++)
        input_of (&job, a, o0[a], n[a], &i0[a], &i1[a]);
      in  = buf_new (i1[0] - i0[0], i1[1] - i0[1], i1[2] - i0[2], bpp,
                     random_strides (&r, bpp));
      out = buf_new (n[0], n[1], n[2], bpp, random_strides (&r, bpp));
      for (int z = 0; z < in.v.depth; z++)
        for (int y = 0; y < in.v.height; y++)
          for (int x = 0; x < in.v.width; x++)
            memcpy (at (&in.v, x, y, z),
                    whole +
                      ((((size_t) z + i0[2]) * job.in_size[1] + y + i0[1]) *
                         job.in_size[0] +
                       x + i0[0]) *
                        bpp,
                    (size_t) bpp);

      status = seg_resample (&in.v, i0, &out.v, o0, &job);
      snprintf (where, sizeof where,
                "seed %d: mode %d, type %d × %d (alpha %d), bpp %d, %d×%d×%d "
                "→ %d×%d×%d, part at %d,%d,%d",
                _i, (int) job.mode, (int) job.layout.type,
                job.layout.n_components, job.layout.alpha, bpp, job.in_size[0],
                job.in_size[1], job.in_size[2], job.out_size[0],
                job.out_size[1], job.out_size[2], o0[0], o0[1], o0[2]);
      if (status != SEG_OK)
        ck_abort_msg ("%s: %s", where, seg_status_name (status));
      for (int z = 0; z < n[2]; z++)
        for (int y = 0; y < n[1]; y++)
          for (int x = 0; x < n[0]; x++)
            {
              uint8_t want[SEG_MAX_BPP];

              ref_resample_voxel (whole, bpp, &job, o0[0] + x, o0[1] + y,
                                  o0[2] + z, want);
              if (memcmp (want, at (&out.v, x, y, z), (size_t) bpp) != 0)
                ck_abort_msg ("%s: voxel %d,%d,%d differs", where, o0[0] + x,
                              o0[1] + y, o0[2] + z);
            }
      assert_padding_intact (&out, where);
      buf_free (&in);
      buf_free (&out);
    }
  free (whole);
}
END_TEST

/* Rows long enough for the vector paths: nearest halving rows of 4-byte
 * voxels (and other ratios that step by 2), from views that start
 * anywhere in the row and end just after the last voxel read. */
START_TEST (test_long_rows_match_reference)
{
  Rng         r     = rng_new ((uint64_t) _i, 84);
  const int   out   = rng_range (&r, 15, 90);
  const int   in    = rng_chance (&r, 70) ? 2 * out + rng_range (&r, -1, 1)
                                          : rng_range (&r, 1, 3 * out);
  SegResample job   = { SEG_RESAMPLE_NEAREST,
                        { in, rng_range (&r, 1, 3), 1 },
                        { out, rng_range (&r, 1, 3), 1 },
                        { SEG_TYPE_U32, 1, -1 } };
  const int   o0    = rng_range (&r, 0, out - 1);
  const int   n     = rng_range (&r, 1, out - o0);
  int         i0[3] = { 0, 0, 0 }, i1[3], out_at[3] = { o0, 0, 0 };
  int         first, end;
  uint8_t    *whole = malloc ((size_t) in * job.in_size[1] * 4);
  uint8_t    *exact;
  SegVolume   vin;
  Buf         vout;

  for (size_t i = 0; i < (size_t) in * job.in_size[1] * 4; i++)
    whole[i] = (uint8_t) rng_next (&r);
  seg_resample_span (job.mode, in, out, o0, &i0[0], &end);
  seg_resample_span (job.mode, in, out, o0 + n - 1, &first, &i1[0]);
  i1[1] = job.in_size[1];
  i1[2] = 1;
  /* A view of exactly what is read, packed, in an allocation of its own:
   * a read past it is a read past the allocation's end, which ASan and
   * valgrind see. */
  exact = malloc ((size_t) (i1[0] - i0[0]) * job.in_size[1] * 4);
  vin   = seg_volume_packed (exact, i1[0] - i0[0], job.in_size[1], 1, 4);
  vout  = buf_new (n, job.out_size[1], 1, 4, random_strides (&r, 4));
  for (int y = 0; y < job.in_size[1]; y++)
    memcpy (at (&vin, 0, y, 0), whole + ((size_t) y * in + i0[0]) * 4,
            (size_t) (i1[0] - i0[0]) * 4);
  ck_assert_int_eq (seg_resample (&vin, i0, &vout.v, out_at, &job), SEG_OK);
  for (int y = 0; y < job.out_size[1]; y++)
    for (int x = 0; x < n; x++)
      {
        uint8_t want[4];

        ref_resample_voxel (whole, 4, &job, o0 + x, y, 0, want);
        if (memcmp (want, at (&vout.v, x, y, 0), 4) != 0)
          ck_abort_msg ("seed %d: %d → %d, from %d: voxel %d,%d differs", _i,
                        in, out, o0, o0 + x, y);
      }
  assert_padding_intact (&vout, "long rows");
  free (exact);
  buf_free (&vout);
  free (whole);
}
END_TEST

/* Resamples the packed whole input of job into a packed output. */
static void
resample_whole (const SegResample *job, const void *in, void *out, int bpp)
{
  SegVolume vin  = seg_volume_packed ((void *) in, job->in_size[0],
                                      job->in_size[1], job->in_size[2], bpp);
  SegVolume vout = seg_volume_packed (out, job->out_size[0], job->out_size[1],
                                      job->out_size[2], bpp);
  const int zero[3] = { 0, 0, 0 };

  ck_assert_int_eq (seg_resample (&vin, zero, &vout, zero, job), SEG_OK);
}

/* Whether resampling must give voxel v back where its neighbours are
 * equal to it: not for NaN and infinite numbers (∞ · 0 is NaN), nor for
 * colours under an alpha of 0 (they become 0), nor for colours under a
 * double alpha (premultiplying and dividing again can move them by a
 * unit in the last place). */
static bool
keeps (const uint8_t *v, const SegResample *job)
{
  const SegPixelLayout *l    = &job->layout;
  const int             size = seg_component_size (l->type);

  if (job->mode == SEG_RESAMPLE_NEAREST)
    return true;
  for (int c = 0; c < l->n_components; c++)
    if (!isfinite (seg_number_load (v + (size_t) c * size, l->type)))
      return false;
  return l->alpha < 0 ||
         (l->type != SEG_TYPE_DOUBLE &&
          seg_number_load (v + (size_t) l->alpha * size, l->type) != 0);
}

/* Whether voxels a and b are the same: their bytes for nearest, their
 * numbers for the others (a zero may come back with the other sign under
 * a negative alpha). */
static bool
same_voxels (const uint8_t     *a,
             const uint8_t     *b,
             const SegResample *job,
             int                bpp)
{
  const SegPixelLayout *l    = &job->layout;
  const int             size = seg_component_size (l->type);

  if (job->mode == SEG_RESAMPLE_NEAREST)
    return memcmp (a, b, (size_t) bpp) == 0;
  for (int c = 0; c < l->n_components; c++)
    if (seg_number_load (a + (size_t) c * size, l->type) !=
        seg_number_load (b + (size_t) c * size, l->type))
      return false;
  return true;
}

START_TEST (test_invariants)
{
  Rng          r = rng_new ((uint64_t) _i, 82);
  SegResample  job;
  int          bpp;
  uint8_t     *in   = random_job (&r, &job, &bpp);
  const size_t n_in = (size_t) job.in_size[0] * job.in_size[1] * job.in_size[2];
  const size_t n_out =
    (size_t) job.out_size[0] * job.out_size[1] * job.out_size[2];
  uint8_t *out = malloc ((n_in > n_out ? n_in : n_out) * (size_t) bpp);

  /* The same size is the identity. */
  {
    SegResample same = job;

    for (int a = 0; a < 3; a++)
      same.out_size[a] = same.in_size[a];
    resample_whole (&same, in, out, bpp);
    for (size_t i = 0; i < n_in; i++)
      if (keeps (in + i * bpp, &job) &&
          !same_voxels (out + i * bpp, in + i * bpp, &job, bpp))
        ck_abort_msg ("seed %d: the same size changed voxel %zu", _i, i);
  }

  /* A constant volume stays constant (for doubles, weights can sum to one
   * plus or minus a unit in the last place). */
  if (keeps (in, &job) &&
      (job.mode == SEG_RESAMPLE_NEAREST || job.layout.type != SEG_TYPE_DOUBLE))
    {
      for (size_t i = 1; i < n_in; i++)
        memcpy (in + i * bpp, in, (size_t) bpp);
      resample_whole (&job, in, out, bpp);
      for (size_t i = 0; i < n_out; i++)
        if (!same_voxels (out + i * bpp, in, &job, bpp))
          ck_abort_msg ("seed %d: a constant volume changed at %zu", _i, i);
    }
  free (in);
  free (out);
}
END_TEST

/* Whole factors: area is the plain block mean, rounded. */
START_TEST (test_area_of_whole_factors_is_the_block_mean)
{
  const uint16_t in[2][2][4] = { { { 1, 2, 3, 4 }, { 5, 6, 7, 8 } },
                                 { { 9, 10, 11, 12 }, { 13, 14, 15, 17 } } };
  uint16_t       out[2];
  SegResample    job = {
       SEG_RESAMPLE_AREA, { 4, 2, 2 }, { 2, 1, 1 }, { SEG_TYPE_U16, 1, -1 }
  };

  resample_whole (&job, in, out, 2);
  /* (1+2+5+6+9+10+13+14) / 8 = 7.5 → 8; (3+4+7+8+11+12+15+17) / 8 = 9.625 */
  ck_assert_int_eq (out[0], 8);
  ck_assert_int_eq (out[1], 10);
}
END_TEST

/* Whole factors: area is seg:sparse-average's block mean (sparse off)
 * but for the rounding: to nearest, halves up, where the average
 * truncates. */
START_TEST (test_area_of_whole_factors_is_the_average_pool_rounded)
{
  Rng              r  = rng_new ((uint64_t) _i, 83);
  const SegFactors f  = { rng_range (&r, 1, 4), rng_range (&r, 1, 4),
                          rng_range (&r, 1, 3) };
  const int        ow = rng_range (&r, 1, 6), oh = rng_range (&r, 1, 6),
            od           = rng_range (&r, 1, 3);
  const SegPixelLayout l = { rng_chance (&r, 50) ? SEG_TYPE_U8 : SEG_TYPE_U16,
                             1, -1 };
  const int   size = seg_component_size (l.type);
  SegResample job  = {
     SEG_RESAMPLE_AREA, { ow * f.x, oh * f.y, od * f.z }, { ow, oh, od }, l
  };
  const size_t n_in  = (size_t) ow * f.x * oh * f.y * od * f.z;
  const size_t n_out = (size_t) ow * oh * od;
  uint8_t     *in    = malloc (n_in * size);
  uint8_t     *area  = malloc (n_out * size);
  uint8_t     *mean  = malloc (n_out * size);
  SegVolume    vin = seg_volume_packed (in, ow * f.x, oh * f.y, od * f.z, size);
  SegVolume    vout = seg_volume_packed (mean, ow, oh, od, size);
  void *scratch     = scratch_of_size (seg_average_pool_scratch_size (&f, &l));
  const uint64_t n  = (uint64_t) f.x * f.y * f.z;

  for (size_t i = 0; i < n_in * size; i++)
    in[i] = (uint8_t) rng_next (&r);
  resample_whole (&job, in, area, size);
  ck_assert_int_eq (seg_average_pool (&vin, &vout, &f, &l, false,
                                      SEG_BACKGROUND_ZEROS, scratch),
                    SEG_OK);
  for (size_t i = 0; i < n_out; i++)
    {
      const double a = seg_number_load (area + i * size, l.type);
      const double m = seg_number_load (mean + i * size, l.type);
      const int    x = (int) (i % ow), y = (int) (i / ow % oh),
                z  = (int) (i / ow / oh);
      uint64_t sum = 0;

      for (int dz = 0; dz < f.z; dz++)
        for (int dy = 0; dy < f.y; dy++)
          for (int dx = 0; dx < f.x; dx++)
            sum += (uint64_t) seg_number_load (
              at (&vin, x * f.x + dx, y * f.y + dy, z * f.z + dz), l.type);
      if (m != (double) (sum / n) || a != (double) ((2 * sum + n) / (2 * n)))
        ck_abort_msg ("seed %d: block %zu: sum %llu of %llu: area %g, "
                      "average %g",
                      _i, i, (unsigned long long) sum, (unsigned long long) n,
                      a, m);
    }
  free (in);
  free (area);
  free (mean);
  free (scratch);
}
END_TEST

START_TEST (test_numbers_round_as_the_contract_says)
{
  uint8_t  b[8];
  int8_t   s;
  uint16_t h;
  float    f;

  seg_number_store (b, SEG_TYPE_U8, 2.5);
  ck_assert_int_eq (b[0], 3); /* halves away from zero */
  seg_number_store (b, SEG_TYPE_U8, 2.4999999);
  ck_assert_int_eq (b[0], 2);
  seg_number_store (b, SEG_TYPE_U8, 300);
  ck_assert_int_eq (b[0], 255);
  seg_number_store (b, SEG_TYPE_U8, -3);
  ck_assert_int_eq (b[0], 0);
  seg_number_store (b, SEG_TYPE_I8, -2.5);
  memcpy (&s, b, 1);
  ck_assert_int_eq (s, -3);
  seg_number_store (b, SEG_TYPE_I8, -1000);
  memcpy (&s, b, 1);
  ck_assert_int_eq (s, -128);
  seg_number_store (b, SEG_TYPE_HALF, 1 + 0x1p-11); /* a tie: to even */
  memcpy (&h, b, 2);
  ck_assert_int_eq (h, 0x3c00);
  seg_number_store (b, SEG_TYPE_FLOAT, 1 + 0x1p-24 + 0x1p-40);
  memcpy (&f, b, 4);
  ck_assert (f == 1 + 0x1p-23f); /* once, not via a tie */
  ck_assert (seg_number_load ((const uint8_t *) "\xff", SEG_TYPE_I8) == -1);
}
END_TEST

START_TEST (test_bad_arguments_are_refused)
{
  uint8_t     in[8] = { 0 }, out[8];
  SegVolume   vin   = seg_volume_packed (in, 2, 2, 2, 1);
  SegVolume   vout  = seg_volume_packed (out, 2, 2, 2, 1);
  SegResample job   = {
      SEG_RESAMPLE_LINEAR, { 2, 2, 2 }, { 2, 2, 2 }, { SEG_TYPE_U8, 1, -1 }
  };
  SegResample bad     = job;
  const int   zero[3] = { 0, 0, 0 }, one[3] = { 1, 0, 0 };

  ck_assert_int_eq (seg_resample (&vin, zero, &vout, zero, &job), SEG_OK);
  ck_assert_int_eq (seg_resample (&vin, one, &vout, zero, &job), SEG_EBADARG);
  ck_assert_int_eq (seg_resample (&vin, zero, &vout, one, &job), SEG_EBADARG);
  ck_assert_int_eq (seg_resample (NULL, zero, &vout, zero, &job), SEG_EBADARG);
  ck_assert_int_eq (seg_resample (&vin, zero, &vout, zero, NULL), SEG_EBADARG);
  bad.in_size[0] = 0;
  ck_assert_int_eq (seg_resample_check (&bad, 1), SEG_EBADARG);
  bad             = job;
  bad.out_size[2] = SEG_RESAMPLE_MAX_SIZE + 1;
  ck_assert_int_eq (seg_resample_check (&bad, 1), SEG_EBADARG);
  bad             = job;
  bad.layout.type = SEG_TYPE_U16; /* 2 bytes, the views' 1 */
  ck_assert_int_eq (seg_resample (&vin, zero, &vout, zero, &bad), SEG_EBADTYPE);
  /* An input view that misses a row the output reads. */
  vin = seg_volume_packed (in, 2, 1, 2, 1);
  ck_assert_int_eq (seg_resample (&vin, zero, &vout, zero, &job), SEG_EBADARG);
}
END_TEST

int
main (void)
{
  const TTest *const plain[] = { test_area_of_whole_factors_is_the_block_mean,
                                 test_numbers_round_as_the_contract_says,
                                 test_bad_arguments_are_refused };
  Suite             *s       = suite_create ("resample");

  add_tcase (s, "rules", 30, plain, N_ELEMENTS (plain));
  add_loop_tcase (s, "random", 300, test_resampling_matches_reference, 3000);
  add_loop_tcase (s, "invariants", 300, test_invariants, 500);
  add_loop_tcase (s, "long rows", 300, test_long_rows_match_reference, 400);
  add_loop_tcase (s, "whole factors", 300,
                  test_area_of_whole_factors_is_the_average_pool_rounded, 300);
  return run_suite (s);
}
