/* SPDX-License-Identifier: LGPL-3.0-or-later
 *
 * The process driver of every pooling op: renders a region of the output,
 * in bands of output rows, one output slice at a time, so that memory stays
 * bounded whatever region GEGL asks for.
 *
 * The kernel is fed in one of two ways, with the same result to the byte:
 *
 *  - tiles in place: where the input's tiles hold whole blocks (tile size a
 *    multiple of the factors, tile edges on block edges), the kernel reads
 *    each input tile where it lies, in the order the tiles lie in memory:
 *    one row of tiles after the other, left to right.  It writes into a
 *    band buffer that stays in the cache (tile_out_buf), which
 *    write_output () then streams into the output's tiles.  This reads the
 *    input from memory once and writes the output once, as when the kernel
 *    runs alone on a packed array.  Walking the tiles in the output
 *    tiles' order instead (two tile rows at once, each output tile made
 *    in L1 and streamed out at once) measured no faster, and an earlier
 *    version of it up to a third slower;
 *
 *  - a copy: everything else (the rim of the region that covers only part
 *    of a tile, grids that do not agree, blocks of more than two slices)
 *    is fetched with gegl_buffer_get () into a band buffer first.  That
 *    costs more than the kernel itself: GEGL copies the input one row of
 *    one tile (128 pixels with the usual tiles) at a time.
 */
#include "config.h"

#include <glib/gi18n-lib.h>

#include <string.h>

#include "seg-pool-common.h"

#include <gegl-scratch.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* Input bytes one copy band reads at most: small enough to stay in the L2
 * cache between gegl_buffer_get() and the kernel, large enough to keep
 * per-band overhead small. */
#define BAND_INPUT_BYTES (512 * 1024)

/* Output bytes of one step of tiles in place at most, as a rule.  A step is
 * the input tile rows whose output is one row of output tiles, so that
 * write_output () fills whole output tiles (GEGL zero-fills a new tile
 * written in part first) while the band buffer stays in L2: larger steps
 * leave L2, smaller ones write tiles in part.  Where one output tile row would
 * take more than this, a step is as many input tile rows as fit (at least
 * one). */
#define TILE_BAND_OUT_BYTES (2 * 1024 * 1024)

/* One band: output rows [r0, r1) (relative, all in output slice oz) and
 * output columns [c0, c1) (relative). */
typedef struct
{
  gint oz, r0, r1, c0, c1;
} Band;

/* What every band of one process call shares. */
typedef struct
{
  const SegPoolRequest *request;
  SegStackShape         s;
  SegPoolKernel         kernel;
  gboolean              sparse;
  gconstpointer         data;            /* for the kernel               */
  gpointer              scratch;
  const Babl           *format;
  gint                  bpp;
  GeglBuffer           *input;
  const GeglRectangle  *in_extent;
  GeglBuffer           *output;
  GeglRectangle         out_extent;
  gint                  rows_per_band;   /* output rows of a copy band   */
  guint8               *in_buf;          /* copy band input              */
  guint8               *out_buf;         /* copy band output             */
  gboolean              tiles_ok;        /* tiles in place may work      */
  gint                  tile_w, tile_h, shift_x, shift_y;
  gint                  out_tile_h, out_shift_y;
  gint                  step_rows;       /* input rows of a tile step    */
  guint8               *tile_out_buf;    /* output rows of a tile step   */
} Pool;

/* n bytes from src to dst, by non-temporal stores where the CPU has them.
 * The output goes to tiles that nothing reads soon (fresh ones, as a
 * rule): streaming skips reading their old bytes from memory first and
 * leaves the caches to the input.  Rows of output tiles
 * are short (128 bytes for 1-byte pixels and the usual tiles), too short
 * for a call of memcpy () to pay: 16 bytes at a time, inline. */
static inline void
copy_bytes (guint8 *dst, const guint8 *src, gsize n)
{
#ifdef __SSE2__
  gsize i = 0;

  if ((guintptr) dst % 16 == 0)
    for (; i + 16 <= n; i += 16)
      _mm_stream_si128 ((__m128i *) (void *) (dst + i),
                        _mm_loadu_si128 ((const __m128i *) (const void *)
                                         (src + i)));
  else
    for (; i + 16 <= n; i += 16)
      _mm_storeu_si128 ((__m128i *) (void *) (dst + i),
                        _mm_loadu_si128 ((const __m128i *) (const void *)
                                         (src + i)));
  memcpy (dst + i, src + i, n - i);
#else
  memcpy (dst, src, n);
#endif
}

static inline void
stream_fence (void)
{
#ifdef __SSE2__
  _mm_sfence ();
#endif
}

static SegStatus
run_kernel (const Pool *p, const SegVolume *in, const SegVolume *out)
{
  return p->kernel (in, out, &p->request->factors, p->sparse, p->data,
                    p->scratch);
}

/* Writes rect of the output from src (rows src_stride bytes apart), like
 * gegl_buffer_set () but straight into the output's tiles. */
static void
write_output (const Pool *p, const GeglRectangle *rect, const guint8 *src,
              gsize src_stride)
{
  GeglBufferIterator *it;

  it = gegl_buffer_iterator_new (p->output, rect, 0, p->format,
                                 GEGL_ACCESS_WRITE, GEGL_ABYSS_NONE, 1);
  while (gegl_buffer_iterator_next (it))
    {
      const GeglRectangle *roi = &it->items[0].roi;
      guint8              *dst = it->items[0].data;
      const gsize          row_bytes = (gsize) roi->width * p->bpp;
      const guint8        *from = src + (gsize) (roi->y - rect->y) * src_stride +
                                  (gsize) (roi->x - rect->x) * p->bpp;

      for (gint r = 0; r < roi->height; r++)
        copy_bytes (dst + r * row_bytes, from + r * src_stride, row_bytes);
    }
  stream_fence ();
}

/* ------------------------------------------------------------------------
 * A copy
 * --------------------------------------------------------------------- */

/* A band of at most p->rows_per_band rows through a copy. */
static SegStatus
pool_band_copy_one (const Pool *p, const Band *b)
{
  const SegFactors    *f   = &p->request->factors;
  const SegStackShape *s   = &p->s;
  const gint           bpp = p->bpp;
  const gint           x0  = b->c0 * f->x;
  const gint           x1  = MIN (b->c1 * f->x, p->in_extent->width);
  const gint           y0  = (b->r0 - b->oz * s->out_slice_height) * f->y;
  const gint           y1  = MIN ((b->r1 - b->oz * s->out_slice_height) *
                                  f->y, s->slice_height);
  const gint           z0  = b->oz * f->z;
  const gint           z1  = MIN (z0 + f->z, p->request->depth);
  SegVolume            in_view, out_view;
  GeglRectangle        out_rect;
  SegStatus            status;

  in_view  = seg_volume_packed (p->in_buf, x1 - x0, y1 - y0, z1 - z0, bpp);
  out_view = seg_volume_packed (p->out_buf, b->c1 - b->c0, b->r1 - b->r0, 1,
                                bpp);

  for (gint z = z0; z < z1; z++)
    {
      GeglRectangle slice_rect = { p->in_extent->x + x0,
                                   p->in_extent->y + z * s->slice_height + y0,
                                   x1 - x0, y1 - y0 };

      gegl_buffer_get (p->input, &slice_rect, 1.0, p->format,
                       p->in_buf + (z - z0) * in_view.slice_stride,
                       in_view.row_stride, GEGL_ABYSS_NONE);
    }

  status = run_kernel (p, &in_view, &out_view);
  if (status != SEG_OK)
    return status;

  out_rect.x      = p->out_extent.x + b->c0;
  out_rect.y      = p->out_extent.y + b->r0;
  out_rect.width  = b->c1 - b->c0;
  out_rect.height = b->r1 - b->r0;
  write_output (p, &out_rect, p->out_buf, (gsize) out_view.row_stride);
  return SEG_OK;
}

/* Any band (no wider than the process call's region) through a copy,
 * rows_per_band rows at a time. */
static SegStatus
pool_band_copy (const Pool *p, const Band *b)
{
  SegStatus status = SEG_OK;

  if (b->r0 >= b->r1 || b->c0 >= b->c1)
    return SEG_OK;
  for (gint r = b->r0; r < b->r1 && status == SEG_OK; r += p->rows_per_band)
    {
      Band part = *b;

      part.r0 = r;
      part.r1 = MIN (r + p->rows_per_band, b->r1);
      status = pool_band_copy_one (p, &part);
    }
  return status;
}

/* ------------------------------------------------------------------------
 * Tiles in place
 * --------------------------------------------------------------------- */

/* n rounded up to a multiple of m (n ≥ 0, m ≥ 1). */
static inline gint
round_up (gint n, gint m)
{
  return (n + m - 1) / m * m;
}

/* The output row (absolute) of input row y (absolute, a block's first). */
static gint
output_row_of (const Pool *p, gint y)
{
  const gint rel = y - p->in_extent->y;

  return p->out_extent.y +
         rel / p->s.slice_height / p->request->factors.z *
         p->s.out_slice_height +
         rel % p->s.slice_height / p->request->factors.y;
}

/* Input rows [y, y + height) and columns [x0, x1) (absolute; whole tiles),
 * and, with n_slices 2, the same rows of the next slice: each tile (pair)
 * pooled where it lies into tile_out_buf, then that into the output.  The
 * iterator hands the tiles out in memory order, one tile row after the
 * other, at about 100 ns a tile (GEGL 0.4.42, one thread). */
static SegStatus
pool_tile_rows (const Pool *p, gint y, gint height, gint x0, gint x1,
                gint n_slices)
{
  const SegFactors   *f = &p->request->factors;
  const gint          bpp = p->bpp;
  const gint          piece_w = p->tile_w / f->x, piece_h = p->tile_h / f->y;
  const gint          n_columns = (x1 - x0) / p->tile_w;
  const gsize         out_stride = (gsize) n_columns * piece_w * bpp;
  GeglRectangle       rect = { x0, y, x1 - x0, height };
  GeglRectangle       out_rect;
  GeglBufferIterator *it;
  SegStatus           status = SEG_OK;

  it = gegl_buffer_iterator_new (p->input, &rect, 0, p->format,
                                 GEGL_ACCESS_READ, GEGL_ABYSS_NONE, 2);
  if (n_slices == 2)
    {
      GeglRectangle next = rect;

      next.y += p->s.slice_height;
      gegl_buffer_iterator_add (it, p->input, &next, 0, p->format,
                                GEGL_ACCESS_READ, GEGL_ABYSS_NONE);
    }

  while (gegl_buffer_iterator_next (it))
    {
      const GeglRectangle *roi = &it->items[0].roi;
      SegVolume            in_view, out_view;

      /* Whole tiles by construction (tiles_readable ()); the iterator's
       * own item sizes say so again. */
      g_assert (roi->width == p->tile_w && roi->height == p->tile_h);

      in_view = seg_volume_packed (it->items[0].data, p->tile_w, p->tile_h,
                                   n_slices, bpp);
      if (n_slices == 2)
        /* The two slices' tiles are separate blocks of memory: the view
         * steps from one to the other. */
        in_view.slice_stride = (ptrdiff_t) ((guintptr) it->items[1].data -
                                            (guintptr) it->items[0].data);
      out_view = seg_volume_packed (p->tile_out_buf +
                                    (gsize) ((roi->y - y) / f->y) *
                                    out_stride +
                                    (gsize) ((roi->x - x0) / f->x) * bpp,
                                    piece_w, piece_h, 1, bpp);
      out_view.row_stride   = (ptrdiff_t) out_stride;
      out_view.slice_stride = (ptrdiff_t) out_stride * piece_h;

      if (status == SEG_OK)
        status = run_kernel (p, &in_view, &out_view);
    }
  if (status != SEG_OK)
    return status;

  out_rect.x      = p->out_extent.x + (x0 - p->in_extent->x) / f->x;
  out_rect.y      = output_row_of (p, y);
  out_rect.width  = n_columns * piece_w;
  out_rect.height = height / f->y;
  write_output (p, &out_rect, p->tile_out_buf, out_stride);
  return SEG_OK;
}

/* Input rows and columns of a band (absolute). */
static void
band_input (const Pool *p, const Band *b, gint *x0, gint *x1, gint *y0,
            gint *y1)
{
  const SegFactors *f  = &p->request->factors;
  const gint        ys = p->in_extent->y +
                         b->oz * f->z * p->s.slice_height;

  *x0 = p->in_extent->x + b->c0 * f->x;
  *x1 = p->in_extent->x + MIN (b->c1 * f->x, p->in_extent->width);
  *y0 = ys + (b->r0 - b->oz * p->s.out_slice_height) * f->y;
  *y1 = ys + MIN ((b->r1 - b->oz * p->s.out_slice_height) * f->y,
                  p->s.slice_height);
}

/* A band whose input is whole tiles: p->step_rows input rows at a time,
 * the first step cut short to end on an output tile row's edge. */
static SegStatus
pool_tiles (const Pool *p, const Band *b, gint n_slices)
{
  const SegFactors *f = &p->request->factors;
  const gint        th = p->tile_h;
  gint              x0, x1, y0, y1, to_edge, step;
  SegStatus         status = SEG_OK;

  if (b->r0 >= b->r1 || b->c0 >= b->c1)
    return SEG_OK;
  band_input (p, b, &x0, &x1, &y0, &y1);

  /* Output rows to the next output tile edge, then whole input tiles. */
  to_edge = seg_mod_floor (-(output_row_of (p, y0) + p->out_shift_y),
                           p->out_tile_h);
  step = to_edge > 0 ? MIN (p->step_rows, round_up (to_edge * f->y, th))
                     : p->step_rows;
  for (gint y = y0; y < y1 && status == SEG_OK; y += step,
       step = p->step_rows)
    status = pool_tile_rows (p, y, MIN (step, y1 - y), x0, x1, n_slices);
  return status;
}

/* TRUE when the input tiles under rect, and under it in the next n_slices-1
 * slices, can be read in place: whole tiles inside the input buffer's
 * abyss, so that what lies in them is what the buffer holds. */
static gboolean
tiles_readable (const Pool *p, const GeglRectangle *rect, gint n_slices)
{
  const GeglRectangle *abyss = gegl_buffer_get_abyss (p->input);
  GeglRectangle        all = *rect;

  all.height += (n_slices - 1) * p->s.slice_height;
  if (n_slices > 1 && p->s.slice_height % p->tile_h != 0)
    return FALSE;
  return gegl_rectangle_contains (abyss, &all);
}

/* A band: its part over whole input tiles in place, the rim by copy. */
static SegStatus
pool_band (const Pool *p, const Band *b)
{
  const SegFactors    *f  = &p->request->factors;
  const SegStackShape *s  = &p->s;
  const gint           tw = p->tile_w, th = p->tile_h;
  const gint           z0 = b->oz * f->z;
  const gint           n_slices = MIN (f->z, p->request->depth - z0);
  const gint           ys = p->in_extent->y + z0 * s->slice_height;
  gint                 x0, x1, y0, y1, tx0, tx1, ty0, ty1;
  GeglRectangle        tiles;
  Band                 inner, rim;
  SegStatus            status = SEG_OK;

  if (!p->tiles_ok || n_slices > 2 ||
      seg_mod_floor (ys + p->shift_y, f->y) != 0)
    return pool_band_copy (p, b);

  /* The band's input (absolute), then the whole tiles inside it; their
   * edges are block edges. */
  band_input (p, b, &x0, &x1, &y0, &y1);
  tx0 = x0 + seg_mod_floor (-(x0 + p->shift_x), tw);
  tx1 = x1 - seg_mod_floor (x1 + p->shift_x, tw);
  ty0 = y0 + seg_mod_floor (-(y0 + p->shift_y), th);
  ty1 = y1 - seg_mod_floor (y1 + p->shift_y, th);
  tiles = (GeglRectangle) { tx0, ty0, tx1 - tx0, ty1 - ty0 };
  if (tx1 <= tx0 || ty1 <= ty0 || !tiles_readable (p, &tiles, n_slices))
    return pool_band_copy (p, b);

  inner = *b;
  inner.c0 = (tx0 - p->in_extent->x) / f->x;
  inner.c1 = (tx1 - p->in_extent->x) / f->x;
  inner.r0 = b->oz * s->out_slice_height + (ty0 - ys) / f->y;
  inner.r1 = b->oz * s->out_slice_height + (ty1 - ys) / f->y;

  /* The rim: rows above and below the inner part, then its sides. */
  rim = *b;
  rim.r1 = inner.r0;
  status = pool_band_copy (p, &rim);
  rim = *b;
  rim.r0 = inner.r1;
  if (status == SEG_OK)
    status = pool_band_copy (p, &rim);
  rim = inner;
  rim.c0 = b->c0;
  rim.c1 = inner.c0;
  if (status == SEG_OK)
    status = pool_band_copy (p, &rim);
  rim = inner;
  rim.c0 = inner.c1;
  rim.c1 = b->c1;
  if (status == SEG_OK)
    status = pool_band_copy (p, &rim);

  if (status == SEG_OK)
    status = pool_tiles (p, &inner, n_slices);
  return status;
}

gboolean
seg_pool_process (const SegPoolRequest *request,
                  SegPoolKernel         kernel,
                  gboolean              sparse,
                  gconstpointer         data,
                  gsize                 scratch_size,
                  const Babl           *format,
                  GeglBuffer           *input,
                  const GeglRectangle  *input_extent,
                  GeglBuffer           *output,
                  const GeglRectangle  *roi)
{
  const SegFactors *f = &request->factors;
  GeglRectangle     todo;
  Pool              p = { 0 };
  gsize             in_row_bytes;
  SegStatus         status = SEG_OK;

  p.out_extent = seg_pool_bounding_box (request, input_extent);
  if (!gegl_rectangle_intersect (&todo, &p.out_extent, roi))
    return TRUE;
  p.request   = request;
  p.s         = seg_pool_stack_shape (request, input_extent);
  p.kernel    = kernel;
  p.sparse    = sparse;
  p.data      = data;
  p.format    = format;
  p.bpp       = babl_format_get_bytes_per_pixel (format);
  p.input     = input;
  p.in_extent = input_extent;
  p.output    = output;

  /* Copy bands: input bytes per output row, then rows per band. */
  in_row_bytes    = (gsize) MIN (todo.width * f->x, input_extent->width) *
                    p.bpp * f->y * MIN (f->z, request->depth);
  p.rows_per_band = (gint) MIN ((gsize) todo.height,
                                MAX (1, BAND_INPUT_BYTES / in_row_bytes));

  /* Tiles in place: tile edges must be block edges. */
  g_object_get (input, "tile-width", &p.tile_w, "tile-height", &p.tile_h,
                "shift-x", &p.shift_x, "shift-y", &p.shift_y, NULL);
  p.tiles_ok = p.tile_w > 0 && p.tile_h > 0 &&
               p.tile_w % f->x == 0 && p.tile_h % f->y == 0 &&
               seg_mod_floor (input_extent->x + p.shift_x, f->x) == 0;
  if (p.tiles_ok)
    {
      /* A step: one output tile row's input, in whole input tiles, where
       * its output fits TILE_BAND_OUT_BYTES; else as many input tile rows
       * as fit, at least one, whatever the width. */
      const gsize out_row_bytes = (gsize) todo.width * p.bpp;

      g_object_get (output, "tile-height", &p.out_tile_h,
                    "shift-y", &p.out_shift_y, NULL);
      p.out_tile_h = MAX (p.out_tile_h, 1);
      p.step_rows  = round_up (p.out_tile_h * f->y, p.tile_h);
      if (out_row_bytes * (p.step_rows / f->y) > TILE_BAND_OUT_BYTES)
        p.step_rows = p.tile_h *
                      (gint) MAX (1, TILE_BAND_OUT_BYTES /
                                     (out_row_bytes * (p.tile_h / f->y)));
      p.tile_out_buf = gegl_scratch_alloc (out_row_bytes *
                                           (p.step_rows / f->y));
    }

  p.in_buf  = gegl_scratch_alloc (in_row_bytes * p.rows_per_band);
  p.out_buf = gegl_scratch_alloc ((gsize) todo.width * p.bpp *
                                  p.rows_per_band);
  p.scratch = gegl_scratch_alloc (MAX (scratch_size, 1));

  for (gint r = todo.y - p.out_extent.y;
       r < todo.y + todo.height - p.out_extent.y && status == SEG_OK; )
    {
      Band b;

      /* Whole output slices (or what the roi holds of one) per band. */
      b.oz = r / p.s.out_slice_height;
      b.r0 = r;
      b.r1 = MIN (todo.y + todo.height - p.out_extent.y,
                  (b.oz + 1) * p.s.out_slice_height);
      b.c0 = todo.x - p.out_extent.x;
      b.c1 = b.c0 + todo.width;

      status = pool_band (&p, &b);
      r = b.r1;
    }

  gegl_scratch_free (p.scratch);
  gegl_scratch_free (p.out_buf);
  gegl_scratch_free (p.in_buf);
  if (p.tile_out_buf != NULL)
    gegl_scratch_free (p.tile_out_buf);

  if (status != SEG_OK)
    {
      g_warning (_("%s: the kernel failed (%s)."), request->op_name,
                 seg_status_name (status));
      return FALSE;
    }
  return TRUE;
}
