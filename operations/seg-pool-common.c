/* SPDX-License-Identifier: LGPL-3.0-or-later
 *
 * What every pooling op shares besides processing (seg-pool-process.c):
 * checking a request and reporting what is wrong with it, and the region
 * arithmetic of a stack pooled by blocks.
 */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "seg-pool-common.h"

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

const GeglRectangle *
seg_pool_valid_input (GeglOperation        *operation,
                      const SegPoolRequest *request)
{
  const GeglRectangle *extent =
    gegl_operation_source_get_bounding_box (operation, "input");

  if (extent == NULL || !seg_pool_request_valid (request, extent))
    return NULL;
  return extent;
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

SegStackShape
seg_pool_stack_shape (const SegPoolRequest *request,
                      const GeglRectangle  *input)
{
  SegStackShape s;

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
  SegStackShape s;

  if (!seg_pool_request_valid (request, input))
    return out;
  s = seg_pool_stack_shape (request, input);
  out.x      = seg_floor_div (input->x, request->factors.x);
  out.y      = seg_floor_div (input->y, request->factors.y);
  out.width  = seg_pooled_size (input->width, request->factors.x);
  out.height = s.out_slice_height * s.out_depth;
  return out;
}

/* First and one-past-last input row (relative to the input's top) that
 * output row r (relative to the output's top) reads. */
static void
input_rows_of (const SegPoolRequest *request, const SegStackShape *s, gint r,
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
  SegStackShape s;
  gint          first, end, unused;

  if (!gegl_rectangle_intersect (&clipped, &out, roi))
    return need;
  s = seg_pool_stack_shape (request, input);

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
output_row_of (const SegPoolRequest *request, const SegStackShape *s, gint r)
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
  SegStackShape s;
  gint          x0, x1, y0, y1, z0, z1;

  if (!seg_pool_request_valid (request, input) ||
      !gegl_rectangle_intersect (&clipped, input, changed))
    return dirty;
  s = seg_pool_stack_shape (request, input);

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

const Babl *
seg_pool_source_format (GeglOperation *operation)
{
  const Babl *format = gegl_operation_get_source_format (operation, "input");

  /* Any babl conversion (even Y u32 via float) would change labels. */
  return format != NULL ? format : babl_format ("Y u8");
}
