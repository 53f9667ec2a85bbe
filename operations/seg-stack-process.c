/* SPDX-License-Identifier: LGPL-3.0-or-later
 *
 * The band driver of the stack layer (seg-stack.h).
 *
 * GEGL hands a filter one rectangle of input, the bounding box of
 * everything its output region reads.  For an op that reads slices z-1
 * and z+1, a few output rows of slice z need a few rows of each of three
 * slices, but the rectangle spans about two whole slices between them.
 * The driver reads only the rows each band needs, slice by slice, into one
 * packed band: input bytes per output band stay proportional to the band,
 * whatever region GEGL asks for.  Bands are sized so that their input
 * stays in the L2 cache from the copy to the kernel.
 *
 * Where the input is a mapped buffer (seg:npy-load's file, or memory that
 * the Python package lends), its rows already lie in memory one after
 * the other: the kernel then reads them there, a strided view, and the
 * band copies nothing.  The copy cost as much as the fastest kernels
 * themselves.  Likewise on the way out: where a caller's memory takes the
 * output (seg_stack_render_to_memory ()), the kernel writes each band
 * there; otherwise into a band buffer that goes to the output's tiles.
 */
#include "config.h"

#include <glib/gi18n-lib.h>

#include <stdatomic.h>
#include <string.h>

#include <gegl-scratch.h>

#include "seg-mapped-buffer.h"
#include "seg-stack.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* Input bytes one band reads at most, as a rule (at least one output
 * row's input, whatever that takes). */
#define BAND_INPUT_BYTES (512 * 1024)

/* A caller's memory that takes an op's output in place of its tiles, for
 * one render (seg_stack_render_to_memory ()). */
typedef struct
{
  guint8       *pixels;
  gsize         rowstride;
  GeglRectangle rect;
  const Babl   *format;
  atomic_ullong written; /* pixels, from every thread of the render */
} MemoryTarget;

static GQuark
memory_target_quark (void)
{
  return g_quark_from_static_string ("seg-stack-memory-target");
}

struct _SegStackRun
{
  SegStackJob   job;
  MemoryTarget *target; /* or NULL: the output's tiles */
  SegStackMap   map;
  SegStack      out;
  gint          in_bpp, out_bpp;
  SegMappedRows mapped;        /* where the input lies in memory, ... */
  gboolean      in_place;      /* ... if it does, in job.in_format    */
  GeglRectangle todo;          /* absolute, within the output         */
  gint          rows_per_band; /* output rows of a band               */
  gint          rows_per_slab; /* of a band of job.slab slices        */
  guint8       *in_buf, *out_buf;
  gsize         in_size, out_size;
};

/* n bytes from src to dst, by non-temporal stores where the CPU has them:
 * the output goes to tiles that nothing reads soon, and streaming leaves
 * the caches to the input.  Rows of output tiles are short (128 bytes for
 * 1-byte pixels and the usual tiles): 16 bytes at a time, inline. */
static inline void
copy_bytes (guint8 *dst, const guint8 *src, gsize n)
{
#ifdef __SSE2__
  gsize i = 0;

  if ((guintptr) dst % 16 == 0)
    for (; i + 16 <= n; i += 16)
      _mm_stream_si128 (
        (__m128i *) (void *) (dst + i),
        _mm_loadu_si128 ((const __m128i *) (const void *) (src + i)));
  else
    for (; i + 16 <= n; i += 16)
      _mm_storeu_si128 (
        (__m128i *) (void *) (dst + i),
        _mm_loadu_si128 ((const __m128i *) (const void *) (src + i)));
  memcpy (dst + i, src + i, n - i);
#else
  memcpy (dst, src, n);
#endif
}

/* Rows of rect (absolute, within the target) from src into the target. */
static void
write_target (MemoryTarget        *target,
              gint                 bpp,
              const GeglRectangle *rect,
              const guint8        *src,
              gsize                src_stride)
{
  const gsize row_bytes = (gsize) rect->width * bpp;
  guint8     *dst       = target->pixels +
                (gsize) (rect->y - target->rect.y) * target->rowstride +
                (gsize) (rect->x - target->rect.x) * bpp;

  for (gint r = 0; r < rect->height; r++)
    copy_bytes (dst + r * target->rowstride, src + r * src_stride, row_bytes);
  atomic_fetch_add (&target->written,
                    (unsigned long long) rect->width * rect->height);
}

/* Rows of rect (absolute) from src into the output's tiles. */
static void
write_tiles (const SegStackRun   *run,
             const GeglRectangle *rect,
             const guint8        *src,
             gsize                src_stride)
{
  GeglBufferIterator *it;

  it = gegl_buffer_iterator_new (run->job.output, rect, 0, run->job.out_format,
                                 GEGL_ACCESS_WRITE, GEGL_ABYSS_NONE, 1);
  while (gegl_buffer_iterator_next (it))
    {
      const GeglRectangle *roi       = &it->items[0].roi;
      guint8              *dst       = it->items[0].data;
      const gsize          row_bytes = (gsize) roi->width * run->out_bpp;
      const guint8 *from = src + (gsize) (roi->y - rect->y) * src_stride +
                           (gsize) (roi->x - rect->x) * run->out_bpp;

      for (gint r = 0; r < roi->height; r++)
        copy_bytes (dst + r * row_bytes, from + r * src_stride, row_bytes);
    }
}

void
seg_stack_run_write (const SegStackRun   *run,
                     const GeglRectangle *rect,
                     const guint8        *src,
                     gsize                src_stride)
{
  if (run->target != NULL && gegl_rectangle_contains (&run->target->rect, rect))
    write_target (run->target, run->out_bpp, rect, src, src_stride);
  else
    write_tiles (run, rect, src, src_stride);
#ifdef __SSE2__
  _mm_sfence ();
#endif
}

/* buf, grown to hold size bytes. */
static guint8 *
band_buffer (guint8 **buf, gsize *have, gsize size)
{
  if (size > *have)
    {
      if (*buf != NULL)
        gegl_scratch_free (*buf);
      *have = MAX (size, *have + *have / 2);
      *buf  = gegl_scratch_alloc (*have);
    }
  return *buf;
}

/* The most input indices one output index reads on axis a (at most one
 * more for area windows). */
static gint
widest_span (const SegAxis *a)
{
  switch (a->kind)
    {
    case SEG_AXIS_POOL: return MIN (a->factor, a->in_size);
    case SEG_AXIS_SAME: return MIN (2 * a->radius + 1, a->in_size);
    case SEG_AXIS_NEAREST: return 1;
    case SEG_AXIS_LINEAR: return MIN (4, a->in_size);
    case SEG_AXIS_AREA:
    default: return MIN (a->in_size / a->out_size + 2, a->in_size);
    }
}

SegStackRun *
seg_stack_run_new (const SegStackJob *job, const GeglRectangle *roi)
{
  const SegStackMap *map = job->map;
  GeglRectangle      box = seg_stack_map_bounding_box (map);
  GeglRectangle      todo;
  SegStackRun       *run;
  gint               x0, x1, rows_per_row;
  gsize              in_row_bytes;

  if (!gegl_rectangle_intersect (&todo, &box, roi))
    return NULL;

  run          = g_new0 (SegStackRun, 1);
  run->job     = *job;
  run->map     = *map;
  run->job.map = &run->map;
  run->out     = seg_stack_map_output (map);
  run->in_bpp  = babl_format_get_bytes_per_pixel (job->in_format);
  run->out_bpp = babl_format_get_bytes_per_pixel (job->out_format);
  run->todo    = todo;
  if (job->operation != NULL)
    run->target =
      g_object_get_qdata (G_OBJECT (job->operation), memory_target_quark ());
  if (run->target != NULL && run->target->format != job->out_format)
    run->target = NULL;
  run->in_place = seg_mapped_buffer_rows (job->input, &run->mapped) &&
                  run->mapped.format == job->in_format;

  /* Input bytes per output row, about, then output rows per band. */
  seg_axis_input_span (&map->x, todo.x - box.x, todo.x + todo.width - box.x,
                       &x0, &x1);
  rows_per_row =
    MAX (1, (map->y.in_size + map->y.out_size - 1) / map->y.out_size);
  in_row_bytes =
    (gsize) (x1 - x0) * run->in_bpp * rows_per_row * widest_span (&map->z);
  run->rows_per_band = (gint) MIN ((gsize) map->y.out_size,
                                   MAX (1, BAND_INPUT_BYTES / in_row_bytes));
  /* A slab's slices share their neighbours: its input spans slab - 1
   * slices' input more than one slice's. */
  if (job->slab > 1)
    {
      const gsize span =
        widest_span (&map->z) +
        (gsize) (job->slab - 1) * MAX (1, map->z.in_size / map->z.out_size);

      run->rows_per_slab =
        (gint) MIN ((gsize) map->y.out_size,
                    MAX (1, BAND_INPUT_BYTES * widest_span (&map->z) /
                              (in_row_bytes * span)));
    }
  /* The limits keep band buffers in the caches; reading the input in place
   * and writing into the target, a band has none, and whole slices save
   * the kernel a fresh start (its rows around the band's edges read again,
   * its prefetches not yet ahead) every few rows. */
  if (run->in_place && run->target != NULL)
    run->rows_per_band = run->rows_per_slab = map->y.out_size;
  return run;
}

void
seg_stack_run_free (SegStackRun *run)
{
  if (run == NULL)
    return;
  if (run->in_buf != NULL)
    gegl_scratch_free (run->in_buf);
  if (run->out_buf != NULL)
    gegl_scratch_free (run->out_buf);
  g_free (run);
}

GeglRectangle
seg_stack_run_todo (const SegStackRun *run)
{
  return run->todo;
}

/* TRUE, with *view set, when the input rows [y0, y1) and columns [x0, x1)
 * of slices [z0, z1) (relative to the input stack) can be read where
 * they lie in memory: then the band needs no copy of its input. */
static gboolean
band_in_place (const SegStackRun *run,
               gint               x0,
               gint               x1,
               gint               y0,
               gint               y1,
               gint               z0,
               gint               z1,
               SegVolume         *view)
{
  const SegStack *in = &run->map.in;
  GeglRectangle   all;

  if (!run->in_place)
    return FALSE;
  /* The slices' rows, and everything between them. */
  all =
    (GeglRectangle){ in->x + x0, in->y + z0 * in->slice_height + y0, x1 - x0,
                     (z1 - 1 - z0) * in->slice_height + (y1 - y0) };
  if (!gegl_rectangle_contains (&run->mapped.rect, &all))
    return FALSE;
  *view = seg_volume_packed (
    (gpointer) seg_mapped_rows_at (&run->mapped, all.x, all.y, run->in_bpp),
    x1 - x0, y1 - y0, z1 - z0, run->in_bpp);
  view->row_stride   = (ptrdiff_t) run->mapped.row_bytes;
  view->slice_stride = (ptrdiff_t) run->mapped.row_bytes * in->slice_height;
  return TRUE;
}

/* TRUE, with *view set, when the output rows [r0, r1) and columns
 * [c0, c1) of slices out_z … out_z + n_slices - 1 (relative to the output
 * stack) lie in the memory target: then the kernel writes them there, and
 * the band copies nothing out. */
static gboolean
band_to_target (const SegStackRun *run,
                gint               out_z,
                gint               n_slices,
                gint               r0,
                gint               r1,
                gint               c0,
                gint               c1,
                SegVolume         *view)
{
  const SegStack *out    = &run->out;
  MemoryTarget   *target = run->target;
  GeglRectangle   all;

  if (target == NULL)
    return FALSE;
  all =
    (GeglRectangle){ out->x + c0, out->y + out_z * out->slice_height + r0,
                     c1 - c0, (n_slices - 1) * out->slice_height + (r1 - r0) };
  if (!gegl_rectangle_contains (&target->rect, &all))
    return FALSE;
  *view = seg_volume_packed (
    target->pixels + (gsize) (all.y - target->rect.y) * target->rowstride +
      (gsize) (all.x - target->rect.x) * run->out_bpp,
    c1 - c0, r1 - r0, n_slices, run->out_bpp);
  view->row_stride   = (ptrdiff_t) target->rowstride;
  view->slice_stride = (ptrdiff_t) target->rowstride * out->slice_height;
  return TRUE;
}

/* One band: output rows [r0, r1) of slices out_z … out_z + n_slices - 1,
 * columns [c0, c1). */
static SegStatus
run_band (SegStackRun *run,
          gint         out_z,
          gint         n_slices,
          gint         r0,
          gint         r1,
          gint         c0,
          gint         c1)
{
  const SegStackMap *map = &run->map;
  SegStackBand       band;
  SegVolume          in_view, out_view;
  gint               x0, x1, y0, y1, z0, z1;
  gboolean           direct; /* the kernel writes into the target */
  SegStatus          status;

  seg_axis_input_span (&map->x, c0, c1, &x0, &x1);
  seg_axis_input_span (&map->y, r0, r1, &y0, &y1);
  seg_axis_input_span (&map->z, out_z, out_z + n_slices, &z0, &z1);

  if (!band_in_place (run, x0, x1, y0, y1, z0, z1, &in_view))
    {
      in_view =
        seg_volume_packed (NULL, x1 - x0, y1 - y0, z1 - z0, run->in_bpp);
      in_view.data = band_buffer (&run->in_buf, &run->in_size,
                                  (gsize) in_view.slice_stride * (z1 - z0));
      for (gint z = z0; z < z1; z++)
        {
          GeglRectangle rows = { map->in.x + x0,
                                 map->in.y + z * map->in.slice_height + y0,
                                 x1 - x0, y1 - y0 };

          gegl_buffer_get (run->job.input, &rows, 1.0, run->job.in_format,
                           (guint8 *) in_view.data +
                             (gsize) (z - z0) * in_view.slice_stride,
                           in_view.row_stride, GEGL_ABYSS_NONE);
        }
    }
  direct = band_to_target (run, out_z, n_slices, r0, r1, c0, c1, &out_view);
  if (!direct)
    {
      out_view =
        seg_volume_packed (NULL, c1 - c0, r1 - r0, n_slices, run->out_bpp);
      out_view.data = band_buffer (&run->out_buf, &run->out_size,
                                   (gsize) out_view.slice_stride * n_slices);
    }

  band   = (SegStackBand){ c0, r0, out_z, x0, y0, z0 };
  status = run->job.kernel (&in_view, &out_view, &band, run->job.data);
  if (status != SEG_OK)
    return status;
  if (direct)
    {
      atomic_fetch_add (&run->target->written,
                        (unsigned long long) (c1 - c0) * (r1 - r0) * n_slices);
      return SEG_OK;
    }

  for (gint s = 0; s < n_slices; s++)
    {
      const GeglRectangle out_rect = {
        run->out.x + c0, run->out.y + (out_z + s) * run->out.slice_height + r0,
        c1 - c0, r1 - r0
      };

      seg_stack_run_write (run, &out_rect,
                           (const guint8 *) out_view.data +
                             (gsize) s * out_view.slice_stride,
                           (gsize) out_view.row_stride);
    }
  return SEG_OK;
}

SegStatus
seg_stack_run_rect (
  SegStackRun *run, gint out_z, gint r0, gint r1, gint c0, gint c1)
{
  SegStatus status = SEG_OK;

  if (r0 >= r1 || c0 >= c1)
    return SEG_OK;
  for (gint r = r0; r < r1 && status == SEG_OK; r += run->rows_per_band)
    status =
      run_band (run, out_z, 1, r, MIN (r + run->rows_per_band, r1), c0, c1);
  return status;
}

/* Whole output slices out_z … out_z + n_slices - 1, columns [c0, c1), in
 * bands of all those slices. */
static SegStatus
run_slab (SegStackRun *run, gint out_z, gint n_slices, gint c0, gint c1)
{
  const gint height = run->out.slice_height;
  SegStatus  status = SEG_OK;

  for (gint r = 0; r < height && status == SEG_OK; r += run->rows_per_slab)
    status = run_band (run, out_z, n_slices, r,
                       MIN (r + run->rows_per_slab, height), c0, c1);
  return status;
}

gboolean
seg_stack_process (const SegStackJob   *job,
                   const gchar         *op_name,
                   const GeglRectangle *roi)
{
  SegStackRun  *run = seg_stack_run_new (job, roi);
  GeglRectangle todo;
  gint          r, end, oh;
  SegStatus     status = SEG_OK;

  if (run == NULL)
    return TRUE;
  todo = run->todo;
  oh   = run->out.slice_height;
  end  = todo.y + todo.height - run->out.y;
  for (r = todo.y - run->out.y; r < end && status == SEG_OK;)
    {
      /* What the region holds of one output slice, or the whole slices
       * from r on, a slab of them at a time. */
      const gint z       = r / oh;
      const gint next    = MIN (end, (z + 1) * oh);
      const gint c0      = todo.x - run->out.x;
      const gint c1      = todo.x + todo.width - run->out.x;
      const gint n_whole = r == z * oh ? (end - r) / oh : 0;

      if (job->slab > 1 && n_whole > 1)
        {
          const gint n = MIN (n_whole, job->slab);

          status = run_slab (run, z, n, c0, c1);
          r += n * oh;
          continue;
        }
      status = seg_stack_run_rect (run, z, r - z * oh, next - z * oh, c0, c1);
      r      = next;
    }
  seg_stack_run_free (run);

  if (status != SEG_OK)
    {
      g_warning (_ ("%s: the kernel failed (%s)."), op_name,
                 seg_status_name (status));
      return FALSE;
    }
  return TRUE;
}

gboolean
seg_stack_render_to_memory (GeglNode            *node,
                            const GeglRectangle *rect,
                            const Babl          *format,
                            gpointer             pixels,
                            gint                 rowstride)
{
  GeglOperation *operation = gegl_node_get_gegl_operation (node);
  MemoryTarget   target    = { pixels, (gsize) rowstride, *rect, format, 0 };

  if (operation == NULL || pixels == NULL || rect->width <= 0 ||
      rect->height <= 0 ||
      (gint64) rowstride <
        (gint64) rect->width * babl_format_get_bytes_per_pixel (format))
    return FALSE;
  g_object_set_qdata (G_OBJECT (operation), memory_target_quark (), &target);
  /* No destination: GEGL renders the node and copies nothing out. */
  gegl_node_blit (node, 1.0, rect, format, NULL, GEGL_AUTO_ROWSTRIDE,
                  GEGL_BLIT_DEFAULT);
  g_object_set_qdata (G_OBJECT (operation), memory_target_quark (), NULL);
  return atomic_load (&target.written) ==
         (unsigned long long) rect->width * rect->height;
}
