/* SPDX-License-Identifier: LGPL-3.0-or-later */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "seg-pool-common.h"

/* Input bytes one band of output rows reads at most: small enough to stay
 * in the L2 cache between gegl_buffer_get() and the kernel, large enough to
 * keep per-band overhead small. */
#define BAND_INPUT_BYTES (512 * 1024)

static gint
floor_div (gint a, gint b)
{
  return a >= 0 ? a / b : -((-a + b - 1) / b);
}

static gboolean
factor_valid (const gchar *op_name, const gchar *property, gint value,
              gboolean warn)
{
  if (value >= 1 && value <= SEG_MAX_FACTOR)
    return TRUE;
  if (warn)
    g_warning (_("%s: %s is %d; it must be a whole number from 1 to %d. "
                 "The output is empty."),
               op_name, property, value, SEG_MAX_FACTOR);
  return FALSE;
}

gboolean
seg_pool_request_valid (const SegPoolRequest *request,
                        const GeglRectangle  *input,
                        gboolean              warn)
{
  const gchar *op = request->op_name;

  if (!factor_valid (op, "factor-x", request->factors.x, warn) ||
      !factor_valid (op, "factor-y", request->factors.y, warn) ||
      !factor_valid (op, "factor-z", request->factors.z, warn))
    return FALSE;

  if (request->depth < 1)
    {
      if (warn)
        g_warning (_("%s: depth is %d; it must be a whole number of at "
                     "least 1 that divides the input height. "
                     "The output is empty."), op, request->depth);
      return FALSE;
    }

  if (input == NULL || input->width <= 0 || input->height <= 0)
    {
      if (warn)
        g_warning (_("%s: the input is empty (%d×%d pixels). "
                     "The output is empty."), op,
                   input ? input->width : 0, input ? input->height : 0);
      return FALSE;
    }

  if (input->height % request->depth != 0)
    {
      if (warn)
        g_warning (_("%s: depth %d does not divide the input height %d, so "
                     "the input is not a stack of %d equal slices. "
                     "The output is empty."),
                   op, request->depth, input->height, request->depth);
      return FALSE;
    }
  return TRUE;
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

  if (!seg_pool_request_valid (request, input, FALSE))
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
  gint          x0, x1, y0, y1;

  if (!seg_pool_request_valid (request, input, FALSE) ||
      !gegl_rectangle_intersect (&clipped, input, changed))
    return dirty;
  s = stack_shape (request, input);

  x0 = (clipped.x - input->x) / request->factors.x;
  x1 = (clipped.x + clipped.width - 1 - input->x) / request->factors.x;
  y0 = output_row_of (request, &s, clipped.y - input->y);
  y1 = output_row_of (request, &s, clipped.y + clipped.height - 1 - input->y);

  dirty.x      = output->x + x0;
  dirty.y      = output->y + y0;
  dirty.width  = x1 - x0 + 1;
  dirty.height = y1 - y0 + 1;
  return dirty;
}

/* One band: output rows [r0, r1) (relative, all in output slice oz) and
 * output columns [c0, c1) (relative). */
typedef struct
{
  gint oz, r0, r1, c0, c1;
} Band;

static SegStatus
pool_band (const SegPoolRequest *request, const StackShape *s,
           SegPoolKernel kernel, gboolean sparse, gpointer scratch,
           GeglBuffer *input, const GeglRectangle *in_extent,
           GeglBuffer *output, const GeglRectangle *out_extent,
           const Babl *format, const Band *b, guint8 *in_buf, guint8 *out_buf)
{
  const SegFactors *f   = &request->factors;
  const gint        bpp = babl_format_get_bytes_per_pixel (format);
  const gint        x0  = b->c0 * f->x;
  const gint        x1  = MIN (b->c1 * f->x, in_extent->width);
  const gint        y0  = (b->r0 - b->oz * s->out_slice_height) * f->y;
  const gint        y1  = MIN ((b->r1 - b->oz * s->out_slice_height) * f->y,
                               s->slice_height);
  const gint        z0  = b->oz * f->z;
  const gint        z1  = MIN (z0 + f->z, request->depth);
  SegVolume         in_view, out_view;
  GeglRectangle     out_rect;
  SegStatus         status;

  in_view  = seg_volume_packed (in_buf, x1 - x0, y1 - y0, z1 - z0, bpp);
  out_view = seg_volume_packed (out_buf, b->c1 - b->c0, b->r1 - b->r0, 1, bpp);

  for (gint z = z0; z < z1; z++)
    {
      GeglRectangle slice_rect = { in_extent->x + x0,
                                   in_extent->y + z * s->slice_height + y0,
                                   x1 - x0, y1 - y0 };

      gegl_buffer_get (input, &slice_rect, 1.0, format,
                       in_buf + (z - z0) * in_view.slice_stride,
                       in_view.row_stride, GEGL_ABYSS_NONE);
    }

  status = kernel (&in_view, &out_view, f, sparse, scratch);
  if (status != SEG_OK)
    return status;

  out_rect.x      = out_extent->x + b->c0;
  out_rect.y      = out_extent->y + b->r0;
  out_rect.width  = b->c1 - b->c0;
  out_rect.height = b->r1 - b->r0;
  gegl_buffer_set (output, &out_rect, 0, format, out_buf, out_view.row_stride);
  return SEG_OK;
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
  GeglRectangle     out_extent = seg_pool_bounding_box (request, input_extent);
  GeglRectangle     todo;
  StackShape        s;
  gsize             bpp, in_row_bytes, rows_per_band;
  guint8           *in_buf, *out_buf;
  gpointer          scratch;
  SegStatus         status = SEG_OK;

  if (!gegl_rectangle_intersect (&todo, &out_extent, roi))
    return TRUE;
  s   = stack_shape (request, input_extent);
  bpp = babl_format_get_bytes_per_pixel (format);

  /* Input bytes per output row of the band, then rows per band. */
  in_row_bytes  = (gsize) MIN (todo.width * f->x, input_extent->width) *
                  bpp * f->y * MIN (f->z, request->depth);
  rows_per_band = MAX (1, BAND_INPUT_BYTES / in_row_bytes);
  rows_per_band = MIN (rows_per_band, (gsize) todo.height);

  in_buf  = g_malloc (in_row_bytes * rows_per_band);
  out_buf = g_malloc ((gsize) todo.width * bpp * rows_per_band);
  scratch = g_malloc (MAX (scratch_size, 1));

  for (gint r = todo.y - out_extent.y;
       r < todo.y + todo.height - out_extent.y && status == SEG_OK; )
    {
      Band b;

      b.oz = r / s.out_slice_height;
      b.r0 = r;
      b.r1 = MIN (MIN (r + (gint) rows_per_band,
                       todo.y + todo.height - out_extent.y),
                  (b.oz + 1) * s.out_slice_height);
      b.c0 = todo.x - out_extent.x;
      b.c1 = b.c0 + todo.width;

      status = pool_band (request, &s, kernel, sparse, scratch,
                          input, input_extent, output, &out_extent,
                          format, &b, in_buf, out_buf);
      r = b.r1;
    }

  g_free (scratch);
  g_free (out_buf);
  g_free (in_buf);

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
