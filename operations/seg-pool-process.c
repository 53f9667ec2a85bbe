/* SPDX-License-Identifier: LGPL-3.0-or-later
 *
 * The process driver of every pooling op: renders a region of the output,
 * in bands of output rows, one output slice at a time, so that memory stays
 * bounded whatever region GEGL asks for.  It is a client of the stack
 * layer's band driver (seg-stack-process.c), with one path of its own.
 *
 * The kernel is fed in one of two ways, with the same result to the byte:
 *
 *  - tiles in place: where the input's tiles hold whole blocks (tile size a
 *    multiple of the factors, tile edges on block edges), the kernel reads
 *    each input tile where it lies, in the order the tiles lie in memory:
 *    one row of tiles after the other, left to right.  It writes into a
 *    band buffer that stays in the cache (tile_out_buf), which
 *    seg_stack_run_write () then streams into the output's tiles.  This reads the
 *    input from memory once and writes the output once, as when the kernel
 *    runs alone on a packed array.  Walking the tiles in the output
 *    tiles' order instead (two tile rows at once, each output tile made
 *    in L1 and streamed out at once) measured no faster, and an earlier
 *    version of it up to a third slower;
 *
 *  - a copy, by the band driver: everything else (the rim of the region
 *    that covers only part of a tile, grids that do not agree, blocks of
 *    more than two slices) is fetched with gegl_buffer_get () into a band
 *    buffer first.  That
 *    costs more than the kernel itself: GEGL copies the input one row of
 *    one tile (128 pixels with the usual tiles) at a time.
 */
#include "config.h"

#include <glib/gi18n-lib.h>

#include <gegl-scratch.h>

#include "seg-npy-common.h"
#include "seg-pool-common.h"

/* Output bytes of one step of tiles in place at most, as a rule.  A step is
 * the input tile rows whose output is one row of output tiles, so that
 * seg_stack_run_write () fills whole output tiles (GEGL zero-fills a new tile
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
  const SegStackMap *map;
  const SegFactors  *factors;
  SegPoolKernel      kernel;
  gboolean           sparse;
  SegBackground      background; /* in format                 */
  gconstpointer      data;       /* for the kernel                 */
  gpointer           scratch;
  const Babl        *format;
  gint               bpp;
  GeglBuffer        *input;
  GeglRectangle      out_extent;
  SegStackRun       *run;      /* the band driver, for copies    */
  gboolean           tiles_ok; /* tiles in place may work        */
  gint               tile_w, tile_h, shift_x, shift_y;
  gint               out_tile_h, out_shift_y;
  gint               step_rows;    /* input rows of a tile step      */
  guint8            *tile_out_buf; /* output rows of a tile step     */
} Pool;

static SegStatus
run_kernel (const Pool *p, const SegVolume *in, const SegVolume *out)
{
  return p->kernel (in, out, p->factors, p->sparse, p->background, p->data,
                    p->scratch);
}

/* The pooling kernel as the band driver calls it. */
static SegStatus
band_kernel (const SegVolume    *in,
             const SegVolume    *out,
             const SegStackBand *band,
             gpointer            pool)
{
  return run_kernel (pool, in, out);
}

/* Any band through a copy. */
static SegStatus
pool_band_copy (const Pool *p, const Band *b)
{
  const gint first = b->oz * p->map->y.out_size;

  return seg_stack_run_rect (p->run, b->oz, b->r0 - first, b->r1 - first, b->c0,
                             b->c1);
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
  const SegStackMap *m   = p->map;
  const gint         rel = y - m->in.y;

  return p->out_extent.y +
         rel / m->in.slice_height / m->z.factor * m->y.out_size +
         rel % m->in.slice_height / m->y.factor;
}

/* Input rows [y, y + height) and columns [x0, x1) (absolute; whole tiles),
 * and, with n_slices 2, the same rows of the next slice: each tile (pair)
 * pooled where it lies into tile_out_buf, then that into the output.  The
 * iterator hands the tiles out in memory order, one tile row after the
 * other, at about 100 ns a tile (GEGL 0.4.42, one thread). */
static SegStatus
pool_tile_rows (
  const Pool *p, gint y, gint height, gint x0, gint x1, gint n_slices)
{
  const SegFactors   *f       = p->factors;
  const gint          bpp     = p->bpp;
  const gint          piece_w = p->tile_w / f->x, piece_h = p->tile_h / f->y;
  const gint          n_columns  = (x1 - x0) / p->tile_w;
  const gsize         out_stride = (gsize) n_columns * piece_w * bpp;
  GeglRectangle       rect       = { x0, y, x1 - x0, height };
  GeglRectangle       out_rect;
  GeglBufferIterator *it;
  SegStatus           status = SEG_OK;

  it = gegl_buffer_iterator_new (p->input, &rect, 0, p->format,
                                 GEGL_ACCESS_READ, GEGL_ABYSS_NONE, 2);
  if (n_slices == 2)
    {
      GeglRectangle next = rect;

      next.y += p->map->in.slice_height;
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
      out_view = seg_volume_packed (
        p->tile_out_buf + (gsize) ((roi->y - y) / f->y) * out_stride +
          (gsize) ((roi->x - x0) / f->x) * bpp,
        piece_w, piece_h, 1, bpp);
      out_view.row_stride   = (ptrdiff_t) out_stride;
      out_view.slice_stride = (ptrdiff_t) out_stride * piece_h;

      if (status == SEG_OK)
        status = run_kernel (p, &in_view, &out_view);
    }
  if (status != SEG_OK)
    return status;

  out_rect.x      = p->out_extent.x + (x0 - p->map->in.x) / f->x;
  out_rect.y      = output_row_of (p, y);
  out_rect.width  = n_columns * piece_w;
  out_rect.height = height / f->y;
  seg_stack_run_write (p->run, &out_rect, p->tile_out_buf, out_stride);
  return SEG_OK;
}

/* Input rows and columns of a band (absolute). */
static void
band_input (
  const Pool *p, const Band *b, gint *x0, gint *x1, gint *y0, gint *y1)
{
  const SegStackMap *m  = p->map;
  const SegFactors  *f  = p->factors;
  const gint         ys = m->in.y + b->oz * f->z * m->in.slice_height;

  *x0 = m->in.x + b->c0 * f->x;
  *x1 = m->in.x + MIN (b->c1 * f->x, m->in.width);
  *y0 = ys + (b->r0 - b->oz * m->y.out_size) * f->y;
  *y1 = ys + MIN ((b->r1 - b->oz * m->y.out_size) * f->y, m->in.slice_height);
}

/* A band whose input is whole tiles: p->step_rows input rows at a time,
 * the first step cut short to end on an output tile row's edge. */
static SegStatus
pool_tiles (const Pool *p, const Band *b, gint n_slices)
{
  const SegFactors *f  = p->factors;
  const gint        th = p->tile_h;
  gint              x0, x1, y0, y1, to_edge, step;
  SegStatus         status = SEG_OK;

  if (b->r0 >= b->r1 || b->c0 >= b->c1)
    return SEG_OK;
  band_input (p, b, &x0, &x1, &y0, &y1);

  /* Output rows to the next output tile edge, then whole input tiles. */
  to_edge =
    seg_mod_floor (-(output_row_of (p, y0) + p->out_shift_y), p->out_tile_h);
  step = to_edge > 0 ? MIN (p->step_rows, round_up (to_edge * f->y, th))
                     : p->step_rows;
  for (gint y = y0; y < y1 && status == SEG_OK; y += step, step = p->step_rows)
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
  GeglRectangle        all   = *rect;

  all.height += (n_slices - 1) * p->map->in.slice_height;
  if (n_slices > 1 && p->map->in.slice_height % p->tile_h != 0)
    return FALSE;
  return gegl_rectangle_contains (abyss, &all);
}

/* A band: its part over whole input tiles in place, the rim by copy. */
static SegStatus
pool_band (const Pool *p, const Band *b)
{
  const SegStackMap *m  = p->map;
  const SegFactors  *f  = p->factors;
  const gint         tw = p->tile_w, th = p->tile_h;
  const gint         z0       = b->oz * f->z;
  const gint         n_slices = MIN (f->z, m->in.depth - z0);
  const gint         ys       = m->in.y + z0 * m->in.slice_height;
  gint               x0, x1, y0, y1, tx0, tx1, ty0, ty1;
  GeglRectangle      tiles;
  Band               inner, rim;
  SegStatus          status = SEG_OK;

  if (!p->tiles_ok || n_slices > 2 ||
      seg_mod_floor (ys + p->shift_y, f->y) != 0)
    return pool_band_copy (p, b);

  /* The band's input (absolute), then the whole tiles inside it; their
   * edges are block edges. */
  band_input (p, b, &x0, &x1, &y0, &y1);
  tx0   = x0 + seg_mod_floor (-(x0 + p->shift_x), tw);
  tx1   = x1 - seg_mod_floor (x1 + p->shift_x, tw);
  ty0   = y0 + seg_mod_floor (-(y0 + p->shift_y), th);
  ty1   = y1 - seg_mod_floor (y1 + p->shift_y, th);
  tiles = (GeglRectangle){ tx0, ty0, tx1 - tx0, ty1 - ty0 };
  if (tx1 <= tx0 || ty1 <= ty0 || !tiles_readable (p, &tiles, n_slices))
    return pool_band_copy (p, b);

  inner    = *b;
  inner.c0 = (tx0 - m->in.x) / f->x;
  inner.c1 = (tx1 - m->in.x) / f->x;
  inner.r0 = b->oz * m->y.out_size + (ty0 - ys) / f->y;
  inner.r1 = b->oz * m->y.out_size + (ty1 - ys) / f->y;

  /* The rim: rows above and below the inner part, then its sides. */
  rim    = *b;
  rim.r1 = inner.r0;
  status = pool_band_copy (p, &rim);
  rim    = *b;
  rim.r0 = inner.r1;
  if (status == SEG_OK)
    status = pool_band_copy (p, &rim);
  rim    = inner;
  rim.c0 = b->c0;
  rim.c1 = inner.c0;
  if (status == SEG_OK)
    status = pool_band_copy (p, &rim);
  rim    = inner;
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
                  const SegStackMap    *map,
                  SegPoolKernel         kernel,
                  gboolean              sparse,
                  gconstpointer         data,
                  gsize                 scratch_size,
                  GeglOperation        *operation,
                  GeglBuffer           *input,
                  GeglBuffer           *output,
                  const GeglRectangle  *roi)
{
  const SegFactors *f      = &request->factors;
  const Babl       *format = gegl_operation_get_format (operation, "output");
  Pool              p      = { 0 };
  SegStackJob       job    = { map,         format, format, input,    output,
                               band_kernel, &p,     0,      operation };
  GeglRectangle     todo;
  SegStatus         status = SEG_OK;

  p.run = seg_stack_run_new (&job, roi);
  if (p.run == NULL)
    return TRUE;
  todo         = seg_stack_run_todo (p.run);
  p.map        = map;
  p.factors    = f;
  p.out_extent = seg_stack_map_bounding_box (map);
  p.kernel     = kernel;
  p.sparse     = sparse;
  p.background = seg_format_background (format);
  p.data       = data;
  p.format     = format;
  p.bpp        = babl_format_get_bytes_per_pixel (format);
  p.input      = input;

  /* Tiles in place: tile edges must be block edges. */
  g_object_get (input, "tile-width", &p.tile_w, "tile-height", &p.tile_h,
                "shift-x", &p.shift_x, "shift-y", &p.shift_y, NULL);
  p.tiles_ok = p.tile_w > 0 && p.tile_h > 0 && p.tile_w % f->x == 0 &&
               p.tile_h % f->y == 0 &&
               seg_mod_floor (map->in.x + p.shift_x, f->x) == 0;
  if (p.tiles_ok)
    {
      /* A step: one output tile row's input, in whole input tiles, where
       * its output fits TILE_BAND_OUT_BYTES; else as many input tile rows
       * as fit, at least one, whatever the width. */
      const gsize out_row_bytes = (gsize) todo.width * p.bpp;

      g_object_get (output, "tile-height", &p.out_tile_h, "shift-y",
                    &p.out_shift_y, NULL);
      p.out_tile_h = MAX (p.out_tile_h, 1);
      p.step_rows  = round_up (p.out_tile_h * f->y, p.tile_h);
      if (out_row_bytes * (p.step_rows / f->y) > TILE_BAND_OUT_BYTES)
        p.step_rows =
          p.tile_h * (gint) MAX (1, TILE_BAND_OUT_BYTES /
                                      (out_row_bytes * (p.tile_h / f->y)));
      p.tile_out_buf =
        gegl_scratch_alloc (out_row_bytes * (p.step_rows / f->y));
    }
  p.scratch = gegl_scratch_alloc (MAX (scratch_size, 1));

  for (gint r = todo.y - p.out_extent.y;
       r < todo.y + todo.height - p.out_extent.y && status == SEG_OK;)
    {
      Band b;

      /* Whole output slices (or what the roi holds of one) per band. */
      b.oz = r / map->y.out_size;
      b.r0 = r;
      b.r1 = MIN (todo.y + todo.height - p.out_extent.y,
                  (b.oz + 1) * map->y.out_size);
      b.c0 = todo.x - p.out_extent.x;
      b.c1 = b.c0 + todo.width;

      status = pool_band (&p, &b);
      r      = b.r1;
    }

  gegl_scratch_free (p.scratch);
  if (p.tile_out_buf != NULL)
    gegl_scratch_free (p.tile_out_buf);
  seg_stack_run_free (p.run);

  if (status != SEG_OK)
    {
      g_warning (_ ("%s: the kernel failed (%s)."), request->op_name,
                 seg_status_name (status));
      return FALSE;
    }
  return TRUE;
}
