/* SPDX-License-Identifier: LGPL-3.0-or-later */
#include "config.h"

#include <glib/gi18n-lib.h>

#include <string.h>

#include <gegl-scratch.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "seg-pool-common.h"

/* Input bytes one copy band (see below) reads at most: small enough to stay
 * in the L2 cache between gegl_buffer_get() and the kernel, large enough to
 * keep per-band overhead small. */
#define BAND_INPUT_BYTES (512 * 1024)

static gint
floor_div (gint a, gint b)
{
  return a >= 0 ? a / b : -((-a + b - 1) / b);
}

static gchar *
factor_problem (const gchar *op_name, const gchar *property, gint value)
{
  if (value >= 1 && value <= SEG_MAX_FACTOR)
    return NULL;
  return g_strdup_printf (_("%s: %s is %d; it must be a whole number from "
                            "1 to %d. The output is empty."),
                          op_name, property, value, SEG_MAX_FACTOR);
}

gchar *
seg_pool_request_problem (const SegPoolRequest *request,
                          const GeglRectangle  *input)
{
  const gchar *op = request->op_name;
  gchar       *problem;

  if ((problem = factor_problem (op, "factor-x", request->factors.x)) ||
      (problem = factor_problem (op, "factor-y", request->factors.y)) ||
      (problem = factor_problem (op, "factor-z", request->factors.z)))
    return problem;

  if (request->depth < 1)
    return g_strdup_printf (_("%s: depth is %d; it must be a whole number "
                              "of at least 1 that divides the input "
                              "height. The output is empty."),
                            op, request->depth);

  if (input == NULL || input->width <= 0 || input->height <= 0)
    return g_strdup_printf (_("%s: the input is empty (width %d, height "
                              "%d); there is nothing to pool. "
                              "The output is empty."),
                            op, input ? MAX (input->width, 0) : 0,
                            input ? MAX (input->height, 0) : 0);

  if (input->height % request->depth != 0)
    return g_strdup_printf (_("%s: depth %d does not divide the input "
                              "height %d, so the input is not a stack of "
                              "%d equal slices. The output is empty."),
                            op, request->depth, input->height,
                            request->depth);
  return NULL;
}

gboolean
seg_pool_request_valid (const SegPoolRequest *request,
                        const GeglRectangle  *input)
{
  gchar *problem = seg_pool_request_problem (request, input);

  g_free (problem);
  return problem == NULL;
}

/* TRUE when every node upstream of the operation's input, along input
 * pads, is connected all the way to a source. */
static gboolean
input_chain_is_complete (GeglOperation *operation)
{
  GeglNode *node = gegl_operation_get_source_node (operation, "input");

  while (node != NULL && gegl_node_has_pad (node, "input"))
    node = gegl_node_get_producer (node, "input", NULL);
  return node != NULL;
}

void
seg_pool_report_problem (GeglOperation        *operation,
                         const SegPoolRequest *request)
{
  static GQuark        reported_quark = 0;
  const GeglRectangle *input;
  const gchar         *reported;
  gchar               *problem = NULL;

  if (reported_quark == 0)
    reported_quark = g_quark_from_static_string ("seg-pool-reported-problem");

  /* GEGL prepares nodes while it builds, rewires and tears down graphs,
   * when some node upstream has lost its input or not yet got it; that
   * input is empty for a reason the user cannot see, so only an input
   * connected all the way to a source can be wrong. */
  if (input_chain_is_complete (operation))
    {
      input   = gegl_operation_source_get_bounding_box (operation, "input");
      problem = seg_pool_request_problem (request, input);
    }

  /* GEGL prepares a node more than once per render; say each problem once
   * until it goes away. */
  reported = g_object_get_qdata (G_OBJECT (operation), reported_quark);
  if (problem != NULL && g_strcmp0 (problem, reported) != 0)
    g_warning ("%s", problem);
  g_object_set_qdata_full (G_OBJECT (operation), reported_quark, problem,
                           g_free);
}

/* The stack's shape, in and out. */
typedef struct
{
  gint slice_height;      /* H: input rows per slice     */
  gint out_slice_height;  /* ceil (H / fy)               */
  gint out_depth;         /* ceil (D / fz)               */
} StackShape;

static StackShape
stack_shape (const SegPoolRequest *request, const GeglRectangle *input)
{
  StackShape s;

  s.slice_height     = input->height / request->depth;
  s.out_slice_height = seg_pooled_size (s.slice_height, request->factors.y);
  s.out_depth        = seg_pooled_size (request->depth, request->factors.z);
  return s;
}

GeglRectangle
seg_pool_bounding_box (const SegPoolRequest *request,
                       const GeglRectangle  *input)
{
  GeglRectangle out = { 0, 0, 0, 0 };
  StackShape    s;

  if (!seg_pool_request_valid (request, input))
    return out;
  s = stack_shape (request, input);
  out.x      = floor_div (input->x, request->factors.x);
  out.y      = floor_div (input->y, request->factors.y);
  out.width  = seg_pooled_size (input->width, request->factors.x);
  out.height = s.out_slice_height * s.out_depth;
  return out;
}

/* First and one-past-last input row (relative to the input's top) that
 * output row r (relative to the output's top) reads. */
static void
input_rows_of (const SegPoolRequest *request, const StackShape *s, gint r,
               gint *first, gint *end)
{
  gint oz = r / s->out_slice_height;
  gint ry = r % s->out_slice_height;
  gint z0 = oz * request->factors.z;
  gint z1 = MIN (z0 + request->factors.z, request->depth);
  gint y0 = ry * request->factors.y;
  gint y1 = MIN (y0 + request->factors.y, s->slice_height);

  *first = z0 * s->slice_height + y0;
  *end   = (z1 - 1) * s->slice_height + y1;
}

GeglRectangle
seg_pool_required_region (const SegPoolRequest *request,
                          const GeglRectangle  *input,
                          const GeglRectangle  *roi)
{
  GeglRectangle out = seg_pool_bounding_box (request, input);
  GeglRectangle clipped, need = { 0, 0, 0, 0 };
  StackShape    s;
  gint          first, end, unused;

  if (!gegl_rectangle_intersect (&clipped, &out, roi))
    return need;
  s = stack_shape (request, input);

  need.x     = input->x + (clipped.x - out.x) * request->factors.x;
  need.width = MIN (input->x + (clipped.x + clipped.width - out.x) *
                    request->factors.x,
                    input->x + input->width) - need.x;
  input_rows_of (request, &s, clipped.y - out.y, &first, &unused);
  input_rows_of (request, &s, clipped.y + clipped.height - 1 - out.y,
                 &unused, &end);
  need.y      = input->y + first;
  need.height = end - first;
  return need;
}

/* The output row (relative) that input row r (relative) falls into. */
static gint
output_row_of (const SegPoolRequest *request, const StackShape *s, gint r)
{
  gint z = r / s->slice_height;
  gint y = r % s->slice_height;

  return (z / request->factors.z) * s->out_slice_height +
         y / request->factors.y;
}

GeglRectangle
seg_pool_invalidated (const SegPoolRequest *request,
                      const GeglRectangle  *input,
                      const GeglRectangle  *changed,
                      const GeglRectangle  *output)
{
  GeglRectangle clipped, dirty = { 0, 0, 0, 0 };
  StackShape    s;
  gint          x0, x1, y0, y1, z0, z1;

  if (!seg_pool_request_valid (request, input) ||
      !gegl_rectangle_intersect (&clipped, input, changed))
    return dirty;
  s = stack_shape (request, input);

  x0 = (clipped.x - input->x) / request->factors.x;
  x1 = (clipped.x + clipped.width - 1 - input->x) / request->factors.x;
  y0 = output_row_of (request, &s, clipped.y - input->y);
  y1 = output_row_of (request, &s, clipped.y + clipped.height - 1 - input->y);

  /* Output rows grow with input rows only within a slice.  A change that
   * spans slices z0 … z1 also reaches row 0 of slice z0 + 1 and the last
   * row of slice z1 - 1; with fz > 1 their output rows can lie outside
   * y0 … y1 (even before y0: a change of the last row of slice 0 and the
   * first of slice 1 touches output rows ohs - 1 and 0). */
  z0 = (clipped.y - input->y) / s.slice_height;
  z1 = (clipped.y + clipped.height - 1 - input->y) / s.slice_height;
  if (z1 > z0)
    {
      y0 = MIN (y0, ((z0 + 1) / request->factors.z) * s.out_slice_height);
      y1 = MAX (y1, ((z1 - 1) / request->factors.z) * s.out_slice_height +
                    (s.slice_height - 1) / request->factors.y);
    }

  dirty.x      = output->x + x0;
  dirty.y      = output->y + y0;
  dirty.width  = x1 - x0 + 1;
  dirty.height = y1 - y0 + 1;
  return dirty;
}

/* Processing, in bands of output rows, one output slice at a time.
 *
 * The kernel is fed in one of three ways, with the same result to the byte:
 *
 *  - tile to tile: where the input's tiles hold whole blocks (tile size a
 *    multiple of the factors, tile edges on block edges) and each output
 *    tile is made of whole input tiles' outputs, the kernel reads every
 *    input tile where it lies and writes straight into the output tile,
 *    both reached through GeglBufferIterators.  Nothing is copied: the
 *    input is read from memory once and the output written once, as when
 *    the kernel runs alone on a packed array;
 *
 *  - tiles in place: input tiles as above, but the output's tiles do not
 *    line up with them; the kernel writes into a band buffer
 *    (tile_out_buf), which write_output () then copies into the output;
 *
 *  - a copy: everything else (the rim of the region that covers only part
 *    of a tile, grids that do not agree, blocks of more than two slices)
 *    is fetched with gegl_buffer_get () into a band buffer first.
 *
 * Reading the input through gegl_buffer_get () costs more than the kernel
 * itself: GEGL copies it one row of one tile (128 pixels with the usual
 * tiles) at a time. */

/* Outputs of a process call at least this large are written with
 * non-temporal stores, which skip reading the memory they overwrite (new
 * tiles, as a rule) and leave the caches to the input.  It pays only for
 * outputs much larger than the L2 cache: one thread, 2×2 on 8-byte labels
 * (GEGL's chunks of 1M pixels give 8 MiB of output) runs 5 % faster so;
 * with 4-byte labels and less it runs no faster, or slower. */
#define STREAM_MIN_BYTES ((gsize) 8 << 20)

/* Size of tile_out_buf: the output rows of several input tile rows, so
 * that write_output () fills whole output tiles, bounded in memory (at
 * least one input tile row's output, whatever the width). */
#define TILE_BAND_MAX_OUT_BYTES (2 * 1024 * 1024)

/* n bytes from src to dst; with stream, by non-temporal stores where the
 * compiler and CPU have them. */
static inline void
copy_bytes (guint8 *dst, const guint8 *src, gsize n, gboolean stream)
{
#ifdef __SSE2__
  if (stream && (guintptr) dst % 16 == 0)
    {
      gsize i = 0;

      for (; i + 16 <= n; i += 16)
        _mm_stream_si128 ((__m128i *) (void *) (dst + i),
                          _mm_loadu_si128 ((const __m128i *) (const void *)
                                           (src + i)));
      memcpy (dst + i, src + i, n - i);
      return;
    }
#endif
  (void) stream;
  memcpy (dst, src, n);
}

static inline void
stream_fence (void)
{
#ifdef __SSE2__
  _mm_sfence ();
#endif
}

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
  StackShape            s;
  SegPoolKernel         kernel;
  gboolean              sparse;
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
  guint8               *tile_out_buf;    /* output rows of a tile band   */
  gsize                 tile_out_size;
  gboolean              stream;          /* non-temporal output stores   */
  gint                  out_tile_w, out_tile_h, out_shift_x, out_shift_y;
} Pool;

/* a mod b in 0 … b-1, for any sign of a. */
static gint
mod_floor (gint a, gint b)
{
  gint m = a % b;

  return m < 0 ? m + b : m;
}

/* Writes rect of the output from src (rows src_stride bytes apart), like
 * gegl_buffer_set () but straight into the output's tiles (see
 * STREAM_MIN_BYTES for p->stream). */
static void
write_output (Pool *p, const GeglRectangle *rect, const guint8 *src,
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
        copy_bytes (dst + r * row_bytes, from + r * src_stride, row_bytes,
                    p->stream);
    }
  if (p->stream)
    stream_fence ();
}

/* A band of at most p->rows_per_band rows through a copy. */
static SegStatus
pool_band_copy_one (Pool *p, const Band *b)
{
  const SegFactors *f   = &p->request->factors;
  const StackShape *s   = &p->s;
  const gint        bpp = p->bpp;
  const gint        x0  = b->c0 * f->x;
  const gint        x1  = MIN (b->c1 * f->x, p->in_extent->width);
  const gint        y0  = (b->r0 - b->oz * s->out_slice_height) * f->y;
  const gint        y1  = MIN ((b->r1 - b->oz * s->out_slice_height) * f->y,
                               s->slice_height);
  const gint        z0  = b->oz * f->z;
  const gint        z1  = MIN (z0 + f->z, p->request->depth);
  SegVolume         in_view, out_view;
  GeglRectangle     out_rect;
  SegStatus         status;

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

  status = p->kernel (&in_view, &out_view, f, p->sparse, p->scratch);
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
pool_band_copy (Pool *p, const Band *b)
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

/* Input rows [y, y + height) of slice z0 (absolute; whole tile rows) and
 * columns [x0, x1) (whole tiles), and the same rows of the next n_slices-1
 * slices, in place: one tile of each slice at a time into tile_out_buf,
 * then into the output.  FALSE when the iterator hands out anything but
 * whole tiles; nothing has been written then. */
static gboolean
pool_tile_rows (Pool *p, gint y, gint height, gint x0, gint x1,
                gint n_slices, SegStatus *status)
{
  const SegFactors   *f   = &p->request->factors;
  const gint          bpp = p->bpp;
  const gint          out_w = (x1 - x0) / f->x;
  const gint          out_h = height / f->y;
  const gsize         out_stride = (gsize) out_w * bpp;
  GeglRectangle       rect = { x0, y, x1 - x0, height };
  GeglRectangle       out_rect;
  GeglBufferIterator *it;
  gboolean            whole = TRUE;

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

      if (roi->width != p->tile_w || roi->height != p->tile_h ||
          (n_slices == 2 && (it->items[1].roi.width != p->tile_w ||
                             it->items[1].roi.height != p->tile_h)))
        {
          whole = FALSE;
          gegl_buffer_iterator_stop (it);
          break;
        }

      in_view = seg_volume_packed (it->items[0].data, p->tile_w, p->tile_h,
                                   n_slices, bpp);
      if (n_slices == 2)
        /* The two slices' tiles are separate blocks of memory: the view
         * steps from one to the other. */
        in_view.slice_stride = (ptrdiff_t) ((guintptr) it->items[1].data -
                                            (guintptr) it->items[0].data);

      out_view = seg_volume_packed (p->tile_out_buf +
                                    ((gsize) (roi->y - y) / f->y) * out_stride +
                                    (gsize) ((roi->x - x0) / f->x) * bpp,
                                    p->tile_w / f->x, p->tile_h / f->y, 1,
                                    bpp);
      out_view.row_stride   = (ptrdiff_t) out_stride;
      out_view.slice_stride = (ptrdiff_t) out_stride * out_view.height;

      if (*status == SEG_OK)
        *status = p->kernel (&in_view, &out_view, f, p->sparse, p->scratch);
    }
  if (!whole || *status != SEG_OK)
    return whole;

  out_rect.x      = p->out_extent.x + (x0 - p->in_extent->x) / f->x;
  out_rect.y      = p->out_extent.y +
                    (y - p->in_extent->y) / p->s.slice_height / f->z *
                    p->s.out_slice_height +
                    (y - p->in_extent->y) % p->s.slice_height / f->y;
  out_rect.width  = out_w;
  out_rect.height = out_h;
  write_output (p, &out_rect, p->tile_out_buf, out_stride);
  return TRUE;
}

/* Input rows and columns of a band (absolute), given that they are whole
 * input tiles. */
static void
band_input (const Pool *p, const Band *b, gint *x0, gint *x1, gint *y0,
            gint *y1)
{
  const SegFactors *f  = &p->request->factors;
  const gint        ys = p->in_extent->y +
                         b->oz * f->z * p->s.slice_height;

  *x0 = p->in_extent->x + b->c0 * f->x;
  *x1 = p->in_extent->x + b->c1 * f->x;
  *y0 = ys + (b->r0 - b->oz * p->s.out_slice_height) * f->y;
  *y1 = ys + (b->r1 - b->oz * p->s.out_slice_height) * f->y;
}

/* A band over whole input tiles, through tile_out_buf: some tile rows at a
 * time, by copy where the tiles turn out not to be whole after all. */
static SegStatus
pool_tiles_via_buf (Pool *p, const Band *b, gint n_slices)
{
  const SegFactors *f = &p->request->factors;
  const gint        th = p->tile_h;
  gint              x0, x1, y0, y1, rows_per_step;
  SegStatus         status = SEG_OK;

  if (b->r0 >= b->r1 || b->c0 >= b->c1)
    return SEG_OK;
  band_input (p, b, &x0, &x1, &y0, &y1);
  rows_per_step = th * (gint) MAX (1, MIN ((gsize) (y1 - y0) / th,
                                           p->tile_out_size /
                                           ((gsize) (b->c1 - b->c0) *
                                            p->bpp * (th / f->y))));
  for (gint y = y0; y < y1 && status == SEG_OK; y += rows_per_step)
    {
      gint height = MIN (rows_per_step, y1 - y);

      if (!pool_tile_rows (p, y, height, x0, x1, n_slices, &status))
        {
          Band rest = *b;

          rest.r0 = b->r0 + (y - y0) / f->y;
          return pool_band_copy (p, &rest);
        }
    }
  return status;
}

/* Input tile rows per output tile when every output tile is made of whole
 * input tiles' outputs; more take the other way. */
#define MAX_TILES_DOWN 8

/* One row of whole output tiles, b, made of whole input tiles: the kernel
 * writes into the output's tiles themselves, which it reaches through an
 * iterator, while a second iterator hands it, for each column of input
 * tiles under an output tile, the input tiles of that column (and of the
 * next slice).  FALSE when an iterator hands out anything but the
 * expected whole tiles; what has been written by then is right, but not
 * complete. */
static gboolean
pool_tile_to_tile (Pool *p, const Band *b, gint n_slices, SegStatus *status)
{
  const SegFactors   *f = &p->request->factors;
  const gint          bpp = p->bpp;
  const gint          piece_w = p->tile_w / f->x, piece_h = p->tile_h / f->y;
  const gint          across = p->out_tile_w / piece_w;
  const gint          down = p->out_tile_h / piece_h;
  const gsize         tile_stride = (gsize) p->out_tile_w * bpp;
  GeglRectangle       out_rect = { p->out_extent.x + b->c0,
                                   p->out_extent.y + b->r0,
                                   b->c1 - b->c0, b->r1 - b->r0 };
  GeglBufferIterator *w, *rd;
  gboolean            w_live, rd_live, ok = TRUE;
  gint                x0, x1, y0, y1;

  /* Sub-iterator z · down + j: input tile row j of slice z. */
  band_input (p, b, &x0, &x1, &y0, &y1);
  rd = NULL;
  for (gint z = 0; z < n_slices; z++)
    for (gint j = 0; j < down; j++)
      {
        GeglRectangle rect = { x0, y0 + z * p->s.slice_height + j * p->tile_h,
                               x1 - x0, p->tile_h };

        if (rd == NULL)
          rd = gegl_buffer_iterator_new (p->input, &rect, 0, p->format,
                                         GEGL_ACCESS_READ, GEGL_ABYSS_NONE,
                                         n_slices * down);
        else
          gegl_buffer_iterator_add (rd, p->input, &rect, 0, p->format,
                                    GEGL_ACCESS_READ, GEGL_ABYSS_NONE);
      }
  rd_live = TRUE;
  w = gegl_buffer_iterator_new (p->output, &out_rect, 0, p->format,
                                GEGL_ACCESS_WRITE, GEGL_ABYSS_NONE, 1);
  w_live = TRUE;

  while (ok && (w_live = gegl_buffer_iterator_next (w)))
    {
      const GeglRectangle *out_roi = &w->items[0].roi;
      guint8              *tile = w->items[0].data;
      /* When streaming, the kernel writes into a copy of the tile that
       * stays in the cache, which then goes on into the tile in one
       * stream of whole cache lines (a piece alone would leave parts of
       * lines, which are slow to stream). */
      guint8              *dst = p->stream ? p->tile_out_buf : tile;

      if (out_roi->width != p->out_tile_w || out_roi->height != p->out_tile_h)
        {
          ok = FALSE;
          break;
        }
      for (gint i = 0; i < across && ok; i++)
        {
          if (!(rd_live = gegl_buffer_iterator_next (rd)))
            {
              ok = FALSE;
              break;
            }
          for (gint q = 0; q < n_slices * down; q++)
            if (rd->items[q].roi.width != p->tile_w ||
                rd->items[q].roi.height != p->tile_h ||
                rd->items[q].roi.x != p->in_extent->x +
                                      (out_roi->x - p->out_extent.x) * f->x +
                                      i * p->tile_w)
              ok = FALSE;

          for (gint j = 0; j < down && ok; j++)
            {
              SegVolume in_view, out_view;

              in_view = seg_volume_packed (rd->items[j].data, p->tile_w,
                                           p->tile_h, n_slices, bpp);
              if (n_slices == 2)
                /* The two slices' tiles are separate blocks of memory: the
                 * view steps from one to the other. */
                in_view.slice_stride =
                  (ptrdiff_t) ((guintptr) rd->items[down + j].data -
                               (guintptr) rd->items[j].data);
              out_view = seg_volume_packed (dst +
                                            (gsize) (j * piece_h) *
                                            tile_stride +
                                            (gsize) (i * piece_w) * bpp,
                                            piece_w, piece_h, 1, bpp);
              out_view.row_stride   = (ptrdiff_t) tile_stride;
              out_view.slice_stride = (ptrdiff_t) tile_stride * piece_h;
              if (*status == SEG_OK)
                *status = p->kernel (&in_view, &out_view, f, p->sparse,
                                     p->scratch);
            }
        }
      if (ok && p->stream)
        copy_bytes (tile, p->tile_out_buf, tile_stride * p->out_tile_h, TRUE);
    }
  if (p->stream)
    stream_fence ();

  /* Finish both iterators: one that is done has freed itself. */
  if (w_live)
    gegl_buffer_iterator_stop (w);
  if (rd_live && (!ok || gegl_buffer_iterator_next (rd)))
    {
      gegl_buffer_iterator_stop (rd);
      ok = FALSE;
    }
  return ok;
}

/* A band over whole input tiles: the largest part of it that is whole
 * output tiles tile to tile, the rest through tile_out_buf. */
static SegStatus
pool_tiles (Pool *p, const Band *b, gint n_slices)
{
  const SegFactors *f = &p->request->factors;
  const gint        piece_w = p->tile_w / f->x, piece_h = p->tile_h / f->y;
  const gint        otw = p->out_tile_w, oth = p->out_tile_h;
  gint              oc0, oc1, or0, or1;
  Band              core, strip;
  SegStatus         status = SEG_OK;

  /* Output tiles made of whole pieces (one input tile's output each), and
   * their edges on piece edges. */
  oc0 = p->out_extent.x + b->c0;
  or0 = p->out_extent.y + b->r0;
  if (otw <= 0 || oth <= 0 || otw % piece_w != 0 || oth % piece_h != 0 ||
      oth / piece_h > MAX_TILES_DOWN ||
      mod_floor (oc0 + p->out_shift_x, piece_w) != 0 ||
      mod_floor (or0 + p->out_shift_y, piece_h) != 0)
    return pool_tiles_via_buf (p, b, n_slices);

  /* The whole output tiles inside b (relative to the output extent). */
  oc1 = p->out_extent.x + b->c1;
  or1 = p->out_extent.y + b->r1;
  core = *b;
  core.c0 = b->c0 + mod_floor (-(oc0 + p->out_shift_x), otw);
  core.c1 = b->c1 - mod_floor (oc1 + p->out_shift_x, otw);
  core.r0 = b->r0 + mod_floor (-(or0 + p->out_shift_y), oth);
  core.r1 = b->r1 - mod_floor (or1 + p->out_shift_y, oth);
  if (core.c1 <= core.c0 || core.r1 <= core.r0)
    return pool_tiles_via_buf (p, b, n_slices);

  /* Around the core: rows above and below, then its sides. */
  strip = *b;
  strip.r1 = core.r0;
  status = pool_tiles_via_buf (p, &strip, n_slices);
  strip = *b;
  strip.r0 = core.r1;
  if (status == SEG_OK)
    status = pool_tiles_via_buf (p, &strip, n_slices);
  strip = core;
  strip.c0 = b->c0;
  strip.c1 = core.c0;
  if (status == SEG_OK)
    status = pool_tiles_via_buf (p, &strip, n_slices);
  strip = core;
  strip.c0 = core.c1;
  strip.c1 = b->c1;
  if (status == SEG_OK)
    status = pool_tiles_via_buf (p, &strip, n_slices);

  for (gint r = core.r0; r < core.r1 && status == SEG_OK; r += oth)
    {
      Band row = core;

      row.r0 = r;
      row.r1 = r + oth;
      if (!pool_tile_to_tile (p, &row, n_slices, &status) &&
          status == SEG_OK)
        status = pool_tiles_via_buf (p, &row, n_slices);
    }
  return status;
}

/* A band: its part over whole input tiles in place, the rim by copy. */
static SegStatus
pool_band (Pool *p, const Band *b)
{
  const SegFactors *f  = &p->request->factors;
  const StackShape *s  = &p->s;
  const gint        tw = p->tile_w, th = p->tile_h;
  const gint        z0 = b->oz * f->z;
  const gint        n_slices = MIN (f->z, p->request->depth - z0);
  const gint        ys = p->in_extent->y + z0 * s->slice_height;
  gint              x0, x1, y0, y1, tx0, tx1, ty0, ty1;
  Band              inner, rim;
  SegStatus         status = SEG_OK;

  if (!p->tiles_ok || n_slices > 2 ||
      mod_floor (ys + p->shift_y, f->y) != 0)
    return pool_band_copy (p, b);

  /* The band's input (absolute), then the whole tiles inside it; their
   * edges are block edges. */
  x0 = p->in_extent->x + b->c0 * f->x;
  x1 = p->in_extent->x + MIN (b->c1 * f->x, p->in_extent->width);
  y0 = ys + (b->r0 - b->oz * s->out_slice_height) * f->y;
  y1 = ys + MIN ((b->r1 - b->oz * s->out_slice_height) * f->y,
                 s->slice_height);
  tx0 = x0 + mod_floor (-(x0 + p->shift_x), tw);
  tx1 = x1 - mod_floor (x1 + p->shift_x, tw);
  ty0 = y0 + mod_floor (-(y0 + p->shift_y), th);
  ty1 = y1 - mod_floor (y1 + p->shift_y, th);
  if (tx1 <= tx0 || ty1 <= ty0)
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

  /* The inner part, in place. */
  if (status == SEG_OK)
    status = pool_tiles (p, &inner, n_slices);
  return status;
}

gboolean
seg_pool_process (const SegPoolRequest *request,
                  SegPoolKernel         kernel,
                  gboolean              sparse,
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
  p.s         = stack_shape (request, input_extent);
  p.kernel    = kernel;
  p.sparse    = sparse;
  p.format    = format;
  p.bpp       = babl_format_get_bytes_per_pixel (format);
  p.input     = input;
  p.in_extent = input_extent;
  p.output    = output;
  p.stream    = (gsize) todo.width * todo.height * p.bpp >= STREAM_MIN_BYTES;

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
               mod_floor (input_extent->x + p.shift_x, f->x) == 0;
  if (p.tiles_ok)
    {
      g_object_get (output, "tile-width", &p.out_tile_w,
                    "tile-height", &p.out_tile_h, "shift-x", &p.out_shift_x,
                    "shift-y", &p.out_shift_y, NULL);
      p.tile_out_size = MAX (TILE_BAND_MAX_OUT_BYTES,
                             (gsize) todo.width * p.bpp * (p.tile_h / f->y));
      /* Room for a whole output tile (tile to tile, streaming). */
      p.tile_out_size = MAX (p.tile_out_size, (gsize) MAX (p.out_tile_w, 0) *
                                              MAX (p.out_tile_h, 0) * p.bpp);
      p.tile_out_buf  = gegl_scratch_alloc (p.tile_out_size);
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

void
seg_pool_keep_source_format (GeglOperation *operation)
{
  const Babl *format = gegl_operation_get_source_format (operation, "input");

  /* Labels must reach the kernel byte for byte: any babl conversion
   * (even Y u32 via float) would change them. */
  if (format == NULL)
    format = babl_format ("Y u8");
  gegl_operation_set_format (operation, "input", format);
  gegl_operation_set_format (operation, "output", format);
}
