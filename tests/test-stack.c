/* SPDX-License-Identifier: LGPL-3.0-or-later
 *
 * The stack layer (operations/seg-stack.h) on its own, against brute
 * force: every axis kind's spans against the contract's formulas, the
 * region arithmetic against the bounding box of what each output pixel
 * reads, on random stacks and regions, and the band driver with kernels
 * that read z-neighbours and resize, rendered whole and in random parts.
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gegl-harness.h"
#include "seg-mapped-buffer.h"
#include "seg-stack.h"

static const SegAxisKind all_kinds[] = { SEG_AXIS_POOL, SEG_AXIS_SAME,
                                         SEG_AXIS_NEAREST, SEG_AXIS_LINEAR,
                                         SEG_AXIS_AREA };

/* A random axis of in_size inputs of any kind. */
static SegAxis
random_axis (guint64 *rng, gint in_size)
{
  SegAxisKind kind =
    all_kinds[rand_range (rng, 0, G_N_ELEMENTS (all_kinds) - 1)];

  switch (kind)
    {
    case SEG_AXIS_POOL: return seg_axis_pool (in_size, rand_range (rng, 1, 5));
    case SEG_AXIS_SAME: return seg_axis_same (in_size, rand_range (rng, 0, 2));
    default:
      return seg_axis_resize (kind, in_size,
                              rand_range (rng, 1, 3 * in_size + 2));
    }
}

/* The input indices output o reads, by the contract's words, with no
 * shortcut: [*i0, *i1).  For linear, the two taps. */
static void
reference_span (const SegAxis *a, gint o, gint *i0, gint *i1)
{
  const gint in = a->in_size, out = a->out_size;

  *i0 = in;
  *i1 = 0;
  switch (a->kind)
    {
    case SEG_AXIS_POOL:
    case SEG_AXIS_SAME:
    case SEG_AXIS_AREA:
      for (gint i = 0; i < in; i++)
        {
          gboolean reads;

          if (a->kind == SEG_AXIS_POOL)
            reads = i / a->factor == o;
          else if (a->kind == SEG_AXIS_SAME)
            reads = ABS (i - o) <= a->radius;
          else /* [i, i+1) overlaps [o·in/out, (o+1)·in/out) */
            reads = (gint64) i * out < (gint64) (o + 1) * in &&
                    (gint64) (i + 1) * out > (gint64) o * in;
          if (reads)
            {
              *i0 = MIN (*i0, i);
              *i1 = MAX (*i1, i + 1);
            }
        }
      break;
    case SEG_AXIS_NEAREST:
      *i0 = MIN ((gint) floorl ((o + 0.5L) * in / out), in - 1);
      *i1 = *i0 + 1;
      break;
    case SEG_AXIS_LINEAR:
      {
        double s = MAX ((o + 0.5) * ((double) in / out) - 0.5, 0.0);

        *i0 = (gint) floor (s);
        *i1 = MIN (*i0 + 1, in - 1) + 1;
      }
      break;
    }
}

START_TEST (test_axis_spans_follow_the_contract)
{
  guint64 rng = 0x5eed0001;

  for (gint trial = 0; trial < 2000; trial++)
    {
      SegAxis a = random_axis (&rng, rand_range (&rng, 1, 40));

      for (gint o = 0; o < a.out_size; o++)
        {
          gint r0, r1, i0, i1;

          reference_span (&a, o, &r0, &r1);
          seg_axis_input_span (&a, o, o + 1, &i0, &i1);
          if (a.kind == SEG_AXIS_LINEAR)
            ck_assert_msg (i0 <= r0 && r1 <= i1 && i1 - i0 <= 4 && i0 >= 0 &&
                             i1 <= a.in_size,
                           "linear %d→%d, o %d: taps [%d, %d), span "
                           "[%d, %d)",
                           a.in_size, a.out_size, o, r0, r1, i0, i1);
          else
            ck_assert_msg (i0 == r0 && i1 == r1,
                           "kind %d %d→%d (f %d r %d), o %d: [%d, %d), "
                           "expected [%d, %d)",
                           a.kind, a.in_size, a.out_size, a.factor, a.radius, o,
                           i0, i1, r0, r1);
        }
    }
}
END_TEST

START_TEST (test_axis_ranges_are_the_bounds_of_their_indices)
{
  guint64 rng = 0x5eed0002;

  for (gint trial = 0; trial < 2000; trial++)
    {
      SegAxis a  = random_axis (&rng, rand_range (&rng, 1, 40));
      gint    o0 = rand_range (&rng, 0, a.out_size - 1);
      gint    o1 = rand_range (&rng, o0 + 1, a.out_size);
      gint    i0 = rand_range (&rng, 0, a.in_size - 1);
      gint    i1 = rand_range (&rng, i0 + 1, a.in_size);
      gint    lo = G_MAXINT, hi = G_MININT, got0, got1, first = -1, last = -2;

      for (gint o = o0; o < o1; o++)
        {
          gint s0, s1;

          seg_axis_input_span (&a, o, o + 1, &s0, &s1);
          lo = MIN (lo, s0);
          hi = MAX (hi, s1);
        }
      seg_axis_input_span (&a, o0, o1, &got0, &got1);
      ck_assert_msg (got0 == lo && got1 == hi,
                     "kind %d %d→%d, outputs [%d, %d): [%d, %d), expected "
                     "[%d, %d)",
                     a.kind, a.in_size, a.out_size, o0, o1, got0, got1, lo, hi);

      for (gint o = 0; o < a.out_size; o++)
        {
          gint s0, s1;

          seg_axis_input_span (&a, o, o + 1, &s0, &s1);
          if (s0 < i1 && s1 > i0)
            {
              if (first < 0)
                first = o;
              last = o;
            }
        }
      seg_axis_output_span (&a, i0, i1, &got0, &got1);
      if (first < 0)
        ck_assert_int_eq (got0, got1);
      else
        ck_assert_msg (got0 == first && got1 == last + 1,
                       "kind %d %d→%d, inputs [%d, %d): outputs [%d, %d), "
                       "expected [%d, %d)",
                       a.kind, a.in_size, a.out_size, i0, i1, got0, got1, first,
                       last + 1);
    }
}
END_TEST

/* ------------------------------------------------------------------------
 * Region arithmetic
 * --------------------------------------------------------------------- */

static SegStackMap
random_map (guint64 *rng)
{
  SegStackMap m;

  m.in.x            = rand_range (rng, -20, 20);
  m.in.y            = rand_range (rng, -20, 20);
  m.in.width        = rand_range (rng, 1, 17);
  m.in.slice_height = rand_range (rng, 1, 9);
  m.in.depth        = rand_range (rng, 1, 6);
  m.x               = random_axis (rng, m.in.width);
  m.y               = random_axis (rng, m.in.slice_height);
  m.z               = random_axis (rng, m.in.depth);
  m.out_x           = rand_range (rng, -20, 20);
  m.out_y           = rand_range (rng, -20, 20);
  return m;
}

/* Grows box (absolute) to hold rect. */
static void
box_add (GeglRectangle *box, gint x0, gint x1, gint y0, gint y1)
{
  GeglRectangle r = { x0, y0, x1 - x0, y1 - y0 };

  if (box->width <= 0)
    *box = r;
  else
    gegl_rectangle_bounding_box (box, box, &r);
}

/* What output pixel (ox, oy, oz) reads: columns [*x0, *x1), slices
 * [*z0, *z1) and rows [*y0, *y1) of each. */
static void
pixel_reads (const SegStackMap *m,
             gint               ox,
             gint               oy,
             gint               oz,
             gint              *x0,
             gint              *x1,
             gint              *y0,
             gint              *y1,
             gint              *z0,
             gint              *z1)
{
  seg_axis_input_span (&m->x, ox, ox + 1, x0, x1);
  seg_axis_input_span (&m->y, oy, oy + 1, y0, y1);
  seg_axis_input_span (&m->z, oz, oz + 1, z0, z1);
}

/* got is want, or empty where want is. */
static void
assert_box (GeglRectangle        got,
            const GeglRectangle *want,
            const gchar         *what,
            gint                 trial)
{
  if (want->width <= 0)
    ck_assert_msg (got.width <= 0 || got.height <= 0,
                   "trial %d: %s %d,%d %dx%d, expected nothing", trial, what,
                   got.x, got.y, got.width, got.height);
  else
    ck_assert_msg (gegl_rectangle_equal (&got, want),
                   "trial %d: %s %d,%d %dx%d, expected %d,%d %dx%d", trial,
                   what, got.x, got.y, got.width, got.height, want->x, want->y,
                   want->width, want->height);
}

START_TEST (test_regions_are_bounding_boxes_of_what_pixels_read)
{
  guint64 rng = 0x5eed0003;

  for (gint trial = 0; trial < 2000; trial++)
    {
      SegStackMap   m   = random_map (&rng);
      SegStack      out = seg_stack_map_output (&m);
      GeglRectangle box = seg_stack_map_bounding_box (&m);
      GeglRectangle in  = seg_stack_extent (&m.in);
      GeglRectangle roi, changed, need = { 0 }, dirty = { 0 };

      ck_assert (box.x == m.out_x && box.y == m.out_y &&
                 box.width == m.x.out_size &&
                 box.height == m.y.out_size * m.z.out_size);

      roi.x          = rand_range (&rng, box.x - 5, box.x + box.width);
      roi.y          = rand_range (&rng, box.y - 5, box.y + box.height);
      roi.width      = rand_range (&rng, 1, box.width + 5);
      roi.height     = rand_range (&rng, 1, box.height + 5);
      changed.x      = rand_range (&rng, in.x - 5, in.x + in.width);
      changed.y      = rand_range (&rng, in.y - 5, in.y + in.height);
      changed.width  = rand_range (&rng, 1, in.width + 5);
      changed.height = rand_range (&rng, 1, in.height + 5);

      for (gint oz = 0; oz < out.depth; oz++)
        for (gint oy = 0; oy < out.slice_height; oy++)
          for (gint ox = 0; ox < out.width; ox++)
            {
              const gint ax = out.x + ox;
              const gint ay = out.y + oz * out.slice_height + oy;
              gint       x0, x1, y0, y1, z0, z1;
              gboolean   hit = FALSE;

              pixel_reads (&m, ox, oy, oz, &x0, &x1, &y0, &y1, &z0, &z1);
              if (ax >= roi.x && ax < roi.x + roi.width && ay >= roi.y &&
                  ay < roi.y + roi.height)
                for (gint z = z0; z < z1; z++)
                  box_add (&need, in.x + x0, in.x + x1,
                           in.y + z * m.in.slice_height + y0,
                           in.y + z * m.in.slice_height + y1);

              for (gint z = z0; z < z1; z++)
                for (gint y = y0; y < y1; y++)
                  {
                    const gint row = in.y + z * m.in.slice_height + y;

                    hit |= row >= changed.y &&
                           row < changed.y + changed.height &&
                           in.x + x0 < changed.x + changed.width &&
                           in.x + x1 > changed.x;
                  }
              if (hit)
                box_add (&dirty, ax, ax + 1, ay, ay + 1);
            }

      assert_box (seg_stack_map_required (&m, &roi), &need, "required", trial);
      assert_box (seg_stack_map_invalidated (&m, &changed), &dirty,
                  "invalidated", trial);
    }
}
END_TEST

START_TEST (test_checks_name_the_op_and_the_value)
{
  const SegStackCheck check  = { "seg:test", "there is nothing to test",
                                 "The output is empty." };
  GeglRectangle       extent = { 3, -4, 10, 12 }, empty = { 0, 0, 0, 5 };
  SegStack            s;
  gchar              *problem;

  ck_assert_ptr_null (seg_stack_check (&check, &extent, 4, &s));
  ck_assert (s.x == 3 && s.y == -4 && s.width == 10 && s.slice_height == 3 &&
             s.depth == 4);

  problem = seg_stack_check (&check, &extent, 5, &s);
  assert_has (problem, "seg:test: depth 5 does not divide the input "
                       "height 12");
  g_free (problem);
  problem = seg_stack_check (&check, &extent, 0, &s);
  assert_has (problem, "seg:test: depth is 0");
  g_free (problem);
  problem = seg_stack_check (&check, &empty, 1, &s);
  assert_has (problem, "the input is empty (width 0, height 5); there is "
                       "nothing to test. The output is empty.");
  g_free (problem);
  problem = seg_stack_check (&check, NULL, 1, &s);
  assert_has (problem, "the input is empty");
  g_free (problem);
}
END_TEST

/* ------------------------------------------------------------------------
 * The band driver
 * --------------------------------------------------------------------- */

/* A stack of random numbers up to max in a GeglBuffer of format (Y u16 or
 * Y u32). */
typedef struct
{
  SegStack      s;
  guint32      *values; /* slice-major, as the image's rows */
  GeglBuffer   *buffer;
  const guint8 *lent; /* the memory buffer reads, or NULL */
  gsize         lent_bytes;
} Input;

static Input
input_new (guint64 *rng, const Babl *format, guint32 max)
{
  Input         in;
  GeglRectangle r;
  gsize         n;

  in.s.x            = rand_range (rng, -9, 9);
  in.s.y            = rand_range (rng, -9, 9);
  in.s.width        = rand_range (rng, 1, 70);
  in.s.slice_height = rand_range (rng, 1, 40);
  in.s.depth        = rand_range (rng, 1, 7);
  r                 = seg_stack_extent (&in.s);
  n                 = (gsize) r.width * r.height;
  in.values         = g_new (guint32, n);
  in.lent           = NULL;
  in.lent_bytes     = 0;
  for (gsize i = 0; i < n; i++)
    in.values[i] = (guint32) (splitmix64 (rng) % ((guint64) max + 1));
  in.buffer = gegl_buffer_new (&r, format);
  if (babl_format_get_bytes_per_pixel (format) == 2)
    {
      /* The same numbers in the buffer's own type: no conversion. */
      guint16 *narrow = g_new (guint16, n);

      for (gsize i = 0; i < n; i++)
        narrow[i] = (guint16) in.values[i];
      gegl_buffer_set (in.buffer, &r, 0, format, narrow, GEGL_AUTO_ROWSTRIDE);
      g_free (narrow);
    }
  else
    gegl_buffer_set (in.buffer, &r, 0, format, in.values, GEGL_AUTO_ROWSTRIDE);
  return in;
}

static void
input_free (Input *in)
{
  g_free (in->values);
  g_object_unref (in->buffer);
}

/* One output pixel (c, r) of a band from its input view; FALSE when what
 * it reads is not in the view. */
typedef gboolean (*PixelFunc) (const SegStackMap  *map,
                               const SegVolume    *in,
                               const SegVolume    *out,
                               const SegStackBand *b,
                               gint                c,
                               gint                r);

/* What the test kernel runs on each band. */
typedef struct
{
  const SegStackMap *map;
  PixelFunc          pixel;
  gint               slab; /* the job's */
  const guint8      *lent; /* the input's memory, read in place, or NULL */
  gsize              lent_bytes;
} Watch;

/* The view holds what the band's output reads, and no more than that
 * plus one on each side. */
static void
check_view (const Watch        *w,
            const SegVolume    *in,
            const SegVolume    *out,
            const SegStackBand *b)
{
  const SegStackMap *m = w->map;
  gint               x0, x1, y0, y1, z0, z1;

  seg_axis_input_span (&m->x, b->out_x0, b->out_x0 + out->width, &x0, &x1);
  seg_axis_input_span (&m->y, b->out_y0, b->out_y0 + out->height, &y0, &y1);
  seg_axis_input_span (&m->z, b->out_z, b->out_z + out->depth, &z0, &z1);
  ck_assert_msg (b->in_x0 == x0 && b->in_y0 == y0 && b->in_z0 == z0 &&
                   in->width == x1 - x0 && in->height == y1 - y0 &&
                   in->depth == z1 - z0 && out->depth >= 1 &&
                   out->depth <= MAX (1, w->slab),
                 "band out (%d, %d, %d) %dx%d: view (%d, %d, %d) "
                 "%dx%dx%d, expected (%d, %d, %d) %dx%dx%d",
                 b->out_x0, b->out_y0, b->out_z, out->width, out->height,
                 b->in_x0, b->in_y0, b->in_z0, in->width, in->height, in->depth,
                 x0, y0, z0, x1 - x0, y1 - y0, z1 - z0);
}

/* Every band: its view checked, then each output pixel. */
static SegStatus
watch_kernel (const SegVolume    *in,
              const SegVolume    *out,
              const SegStackBand *b,
              gpointer            data)
{
  const Watch *w  = data;
  gboolean     ok = TRUE;

  /* One assertion per band: check's assertions write to a file each time
   * they pass. */
  check_view (w, in, out, b);
  if (w->lent != NULL)
    ck_assert_msg ((const guint8 *) in->data >= w->lent &&
                     (const guint8 *) in->data < w->lent + w->lent_bytes,
                   "band (%d, %d, %d): its input was copied, not read where "
                   "it lies",
                   b->out_x0, b->out_y0, b->out_z);
  for (gint s = 0; s < out->depth; s++)
    {
      /* Slice s of the band as a band of its own. */
      SegStackBand one   = *b;
      SegVolume    slice = *out;

      one.out_z += s;
      slice.depth = 1;
      slice.data  = (guint8 *) out->data + s * out->slice_stride;
      for (gint r = 0; r < out->height; r++)
        for (gint c = 0; c < out->width; c++)
          ok &= w->pixel (w->map, in, &slice, &one, c, r);
    }
  ck_assert_msg (ok, "band (%d, %d, %d): a pixel reads outside the view",
                 b->out_x0, b->out_y0, b->out_z);
  return SEG_OK;
}

/* Sum of the 3 × 3 × 3 neighbourhood that exists, u16 in, u32 out. */
static gboolean
sum_pixel (const SegStackMap  *m,
           const SegVolume    *in,
           const SegVolume    *out,
           const SegStackBand *b,
           gint                c,
           gint                r)
{
  const gint x = b->out_x0 + c, y = b->out_y0 + r, z = b->out_z;
  guint32    sum    = 0;
  gboolean   inside = TRUE;

  for (gint dz = -1; dz <= 1; dz++)
    for (gint dy = -1; dy <= 1; dy++)
      for (gint dx = -1; dx <= 1; dx++)
        {
          const gint ix = x + dx - b->in_x0, iy = y + dy - b->in_y0;
          const gint iz = z + dz - b->in_z0;

          if (x + dx < 0 || x + dx >= m->in.width || y + dy < 0 ||
              y + dy >= m->in.slice_height || z + dz < 0 ||
              z + dz >= m->in.depth)
            continue;
          inside &= ix >= 0 && ix < in->width && iy >= 0 && iy < in->height &&
                    iz >= 0 && iz < in->depth;
          if (!inside)
            break;
          sum +=
            *(const guint16 *) (const void *) ((const guint8 *) in->data +
                                               iz * in->slice_stride +
                                               iy * in->row_stride + ix * 2);
        }
  *(guint32 *) (void *) ((guint8 *) out->data + r * out->row_stride + c * 4) =
    sum;
  return inside;
}

/* The same sums, straight from the array. */
static guint32 *
sum_reference (const Input *in)
{
  const SegStack *s = &in->s;
  guint32        *sums =
    g_new0 (guint32, (gsize) s->width * s->slice_height * s->depth);

  for (gint z = 0; z < s->depth; z++)
    for (gint y = 0; y < s->slice_height; y++)
      for (gint x = 0; x < s->width; x++)
        for (gint dz = -1; dz <= 1; dz++)
          for (gint dy = -1; dy <= 1; dy++)
            for (gint dx = -1; dx <= 1; dx++)
              {
                const gint nx = x + dx, ny = y + dy, nz = z + dz;

                if (nx >= 0 && nx < s->width && ny >= 0 &&
                    ny < s->slice_height && nz >= 0 && nz < s->depth)
                  sums[((gsize) z * s->slice_height + y) * s->width + x] +=
                    in->values[((gsize) nz * s->slice_height + ny) * s->width +
                               nx];
              }
  return sums;
}

/* Nearest resizing, bytes copied, by the axes' own indices. */
static gboolean
nearest_pixel (const SegStackMap  *m,
               const SegVolume    *in,
               const SegVolume    *out,
               const SegStackBand *b,
               gint                c,
               gint                r)
{
  gint sx, sy, sz, unused;

  seg_axis_input_span (&m->x, b->out_x0 + c, b->out_x0 + c + 1, &sx, &unused);
  seg_axis_input_span (&m->y, b->out_y0 + r, b->out_y0 + r + 1, &sy, &unused);
  seg_axis_input_span (&m->z, b->out_z, b->out_z + 1, &sz, &unused);
  if (sx < b->in_x0 || sx >= b->in_x0 + in->width || sy < b->in_y0 ||
      sy >= b->in_y0 + in->height || sz < b->in_z0 ||
      sz >= b->in_z0 + in->depth)
    return FALSE;
  memcpy ((guint8 *) out->data + r * out->row_stride + c * in->bpp,
          (const guint8 *) in->data + (sz - b->in_z0) * in->slice_stride +
            (sy - b->in_y0) * in->row_stride + (sx - b->in_x0) * in->bpp,
          in->bpp);
  return TRUE;
}

/* Renders roi of the map's output into a new buffer of format by the
 * driver: whole, or in n_parts random pieces; bands of up to slab output
 * slices. */
static GeglBuffer *
render (const SegStackMap *map,
        Input             *in,
        const Babl        *in_format,
        const Babl        *out_format,
        PixelFunc          pixel,
        guint64           *rng,
        gint               n_parts,
        gint               slab)
{
  GeglRectangle box = seg_stack_map_bounding_box (map);
  GeglBuffer   *out = gegl_buffer_new (&box, out_format);
  Watch         w   = { map, pixel, slab, in->lent, in->lent_bytes };
  SegStackJob   job = { map,          in_format, out_format, in->buffer, out,
                        watch_kernel, &w,        slab,       NULL };

  if (n_parts <= 1)
    ck_assert (seg_stack_process (&job, "seg:test", &box));
  else
    {
      /* Horizontal strips of random heights, each split once across. */
      for (gint y = box.y; y < box.y + box.height;)
        {
          gint h  = rand_range (rng, 1, MAX (1, box.height / n_parts + 1));
          gint cx = rand_range (rng, box.x, box.x + box.width);

          h = MIN (h, box.y + box.height - y);
          for (gint k = 0; k < 2; k++)
            {
              GeglRectangle part = { k ? cx : box.x, y,
                                     k ? box.x + box.width - cx : cx - box.x,
                                     h };

              if (part.width > 0)
                ck_assert (seg_stack_process (&job, "seg:test", &part));
            }
          y += h;
        }
    }
  return out;
}

/* The runs of a test (0 … N_RUNS - 1): whole and in parts, one slice a
 * band and slabs of a few; render ()'s output as u32s (free them), and the
 * slab. */
#define N_RUNS 4

static guint32 *
render_run (const SegStackMap *map,
            Input             *in,
            const Babl        *in_format,
            PixelFunc          pixel,
            guint64           *rng,
            gint               run,
            gint              *slab)
{
  const Babl   *u32 = babl_format ("Y u32");
  GeglRectangle box = seg_stack_map_bounding_box (map);
  GeglBuffer   *out;
  guint32      *got = g_new (guint32, (gsize) box.width * box.height);

  *slab = run < 2 ? 0 : rand_range (rng, 2, 5);
  out   = render (map, in, in_format, u32, pixel, rng, run % 2 ? 8 : 1, *slab);
  gegl_buffer_get (out, &box, 1.0, u32, got, GEGL_AUTO_ROWSTRIDE,
                   GEGL_ABYSS_NONE);
  g_object_unref (out);
  return got;
}

/* in's 3 × 3 × 3 sums rendered by the driver in every run, each against
 * the sums straight from the array (trial names the case). */
static void
check_neighbour_sums (Input *in, guint64 *rng, gint trial)
{
  const Babl   *u16 = babl_format ("Y u16");
  SegStackMap   m;
  guint32      *want = sum_reference (in);
  GeglRectangle box;

  m.in    = in->s;
  m.x     = seg_axis_same (in->s.width, 1);
  m.y     = seg_axis_same (in->s.slice_height, 1);
  m.z     = seg_axis_same (in->s.depth, 1);
  m.out_x = in->s.x;
  m.out_y = in->s.y;
  box     = seg_stack_map_bounding_box (&m);

  for (gint run = 0; run < N_RUNS; run++)
    {
      gint     slab;
      guint32 *got = render_run (&m, in, u16, sum_pixel, rng, run, &slab);
      gint     i   = 0;

      /* The first difference, if any (one assertion: check's write to a
       * file each time they pass). */
      while (i < box.width * box.height - 1 && got[i] == want[i])
        i++;
      ck_assert_msg (got[i] == want[i],
                     "trial %d, run %d, slab %d, %dx%dx%d: pixel %d is %u, "
                     "expected %u",
                     trial, run, slab, in->s.width, in->s.slice_height,
                     in->s.depth, i, got[i], want[i]);
      g_free (got);
    }
  g_free (want);
}

START_TEST (test_driver_hands_kernels_their_neighbour_slices)
{
  guint64 rng = 0x5eed0004;

  for (gint trial = 0; trial < 60; trial++)
    {
      Input in = input_new (&rng, babl_format ("Y u16"), 65535);

      check_neighbour_sums (&in, &rng, trial);
      input_free (&in);
    }
}
END_TEST

START_TEST (test_driver_resizes_by_the_axes_indices)
{
  guint64 rng = 0x5eed0005;

  for (gint trial = 0; trial < 60; trial++)
    {
      const Babl   *u32 = babl_format ("Y u32");
      Input         in  = input_new (&rng, u32, G_MAXUINT32);
      SegStackMap   m;
      GeglRectangle box;

      m.in = in.s;
      m.x  = seg_axis_resize (SEG_AXIS_NEAREST, in.s.width,
                              rand_range (&rng, 1, 90));
      m.y  = seg_axis_resize (SEG_AXIS_NEAREST, in.s.slice_height,
                              rand_range (&rng, 1, 50));
      m.z =
        seg_axis_resize (SEG_AXIS_NEAREST, in.s.depth, rand_range (&rng, 1, 9));
      m.out_x = rand_range (&rng, -9, 9);
      m.out_y = rand_range (&rng, -9, 9);
      box     = seg_stack_map_bounding_box (&m);

      for (gint run = 0; run < N_RUNS; run++)
        {
          gint     slab;
          guint32 *got =
            render_run (&m, &in, u32, nearest_pixel, &rng, run, &slab);

          for (gint oz = 0; oz < m.z.out_size; oz++)
            for (gint oy = 0; oy < m.y.out_size; oy++)
              for (gint ox = 0; ox < m.x.out_size; ox++)
                {
                  gint    sx, sy, sz, unused;
                  guint32 want, have;

                  reference_span (&m.x, ox, &sx, &unused);
                  reference_span (&m.y, oy, &sy, &unused);
                  reference_span (&m.z, oz, &sz, &unused);
                  want = in.values[((gsize) sz * in.s.slice_height + sy) *
                                     in.s.width +
                                   sx];
                  have = got[((gsize) oz * m.y.out_size + oy) * box.width + ox];
                  if (have != want)
                    ck_abort_msg ("trial %d: (%d, %d, %d) is %u, expected %u",
                                  trial, ox, oy, oz, have, want);
                }
          g_free (got);
        }
      input_free (&in);
    }
}
END_TEST

/* GEGL 0.4 exports the backend that takes every tile from another buffer
 * without a header: its filters wrap their input in it for every thread
 * of a region but the first (gegl_operation_context_dup_input_maybe_copy
 * ()). */
GeglTileBackend *gegl_tile_backend_buffer_new (GeglBuffer *buffer);

/* input as GEGL's filters hand it to a thread: a buffer of the same
 * geometry on the wrapping backend. */
static GeglBuffer *
wrapped_for_a_thread (GeglBuffer *input)
{
  GeglTileBackend     *backend = gegl_tile_backend_buffer_new (input);
  const GeglRectangle *e       = gegl_buffer_get_extent (input);
  const GeglRectangle *a       = gegl_buffer_get_abyss (input);
  gint                 shift_x, shift_y, tile_width, tile_height;
  GeglBuffer          *wrapped;

  g_object_get (input, "shift-x", &shift_x, "shift-y", &shift_y, "tile-width",
                &tile_width, "tile-height", &tile_height, NULL);
  wrapped = g_object_new (
    GEGL_TYPE_BUFFER, "format", gegl_buffer_get_format (input), "x", e->x, "y",
    e->y, "width", e->width, "height", e->height, "abyss-x", a->x, "abyss-y",
    a->y, "abyss-width", a->width, "abyss-height", a->height, "shift-x",
    shift_x, "shift-y", shift_y, "tile-width", tile_width, "tile-height",
    tile_height, "backend", backend, NULL);
  g_object_unref (backend);
  return wrapped;
}

static void
keep_memory (gpointer data)
{
  (void) data; /* the test frees it */
}

/* The driver reads memory lent as a buffer where it lies, whether the
 * buffer comes as it is or wrapped as for GEGL's threads, and the sums
 * stay right. */
START_TEST (test_driver_reads_lent_memory_where_it_lies)
{
  guint64 rng  = 0x5eed0006;
  gint    lent = 0;

  for (gint trial = 0; trial < 60; trial++)
    {
      const Babl   *u16  = babl_format ("Y u16");
      Input         in   = input_new (&rng, u16, 65535);
      const gsize   n    = (gsize) in.s.width * in.s.slice_height * in.s.depth;
      const gsize   size = (n * 2 + 63) / 64 * 64;
      guint16      *pixels = aligned_alloc (64, size);
      GeglBuffer   *buffer = NULL;
      GeglRectangle extent;

      for (gsize i = 0; i < n; i++)
        pixels[i] = (guint16) in.values[i];
      in.s.x = in.s.y = 0;
      extent          = seg_stack_extent (&in.s);
      buffer          = seg_mapped_buffer_new_for_memory (
                 pixels, &extent, u16, in.s.slice_height, keep_memory, NULL);
      if (buffer != NULL)
        {
          lent++;
          g_object_unref (in.buffer);
          in.buffer =
            trial % 2 ? wrapped_for_a_thread (buffer) : g_object_ref (buffer);
          in.lent       = (const guint8 *) pixels;
          in.lent_bytes = n * 2;
          check_neighbour_sums (&in, &rng, trial);
          g_object_unref (buffer);
        }
      input_free (&in);
      free (pixels);
    }
  ck_assert_msg (lent >= 30, "only %d of 60 stacks could be lent", lent);
}
END_TEST

/* A type module for the buffer's backend type: this test has the module's
 * sources, not the module. */
typedef GTypeModule      TestModule;
typedef GTypeModuleClass TestModuleClass;

static GType test_module_get_type (void);

G_DEFINE_TYPE (TestModule, test_module, G_TYPE_TYPE_MODULE)

static gboolean
test_module_load (GTypeModule *module)
{
  (void) module;
  return TRUE;
}

static void
test_module_unload (GTypeModule *module)
{
  (void) module;
}

static void
test_module_class_init (TestModuleClass *klass)
{
  klass->load   = test_module_load;
  klass->unload = test_module_unload;
}

static void
test_module_init (TestModule *module)
{
  (void) module;
}

int
main (int argc, char **argv)
{
  Suite *s = suite_create ("stack");
  TCase *tc;

  harness_init (&argc, &argv);
  {
    GTypeModule *module = g_object_new (test_module_get_type (), NULL);

    g_type_module_use (module);
    seg_mapped_buffer_register_type (module);
  }
  tc = harness_tcase (s, "axes");
  tcase_add_test (tc, test_axis_spans_follow_the_contract);
  tcase_add_test (tc, test_axis_ranges_are_the_bounds_of_their_indices);
  tc = harness_tcase (s, "regions");
  tcase_add_test (tc, test_regions_are_bounding_boxes_of_what_pixels_read);
  tcase_add_test (tc, test_checks_name_the_op_and_the_value);
  tc = harness_tcase (s, "driver");
  tcase_add_test (tc, test_driver_hands_kernels_their_neighbour_slices);
  tcase_add_test (tc, test_driver_resizes_by_the_axes_indices);
  tcase_add_test (tc, test_driver_reads_lent_memory_where_it_lies);
  return harness_run (s);
}
