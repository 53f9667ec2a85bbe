/* SPDX-License-Identifier: LGPL-3.0-or-later
 *
 * A pooling request checked and mapped onto the stack layer.
 */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "seg-pool-common.h"

static gchar *
factor_problem (const gchar *op_name, const gchar *property, gint value)
{
  if (value >= 1 && value <= SEG_MAX_FACTOR)
    return NULL;
  return g_strdup_printf (_ ("%s: %s is %d; it must be a whole number from "
                             "1 to %d. The output is empty."),
                          op_name, property, value, SEG_MAX_FACTOR);
}

gchar *
seg_pool_request_problem (const SegPoolRequest *request,
                          const GeglRectangle  *input,
                          SegStackMap          *map)
{
  const SegFactors   *f     = &request->factors;
  const SegStackCheck check = { request->op_name,
                                _ ("there is nothing to pool"),
                                _ ("The output is empty.") };
  SegStack            stack;
  gchar              *problem;

  if ((problem = factor_problem (check.op_name, "factor-x", f->x)) ||
      (problem = factor_problem (check.op_name, "factor-y", f->y)) ||
      (problem = factor_problem (check.op_name, "factor-z", f->z)) ||
      (problem = seg_stack_check (&check, input, request->depth, &stack)))
    return problem;

  if (map != NULL)
    {
      map->in    = stack;
      map->x     = seg_axis_pool (stack.width, f->x);
      map->y     = seg_axis_pool (stack.slice_height, f->y);
      map->z     = seg_axis_pool (stack.depth, f->z);
      map->out_x = seg_floor_div (stack.x, f->x);
      map->out_y = seg_floor_div (stack.y, f->y);
    }
  return NULL;
}

gboolean
seg_pool_map (GeglOperation        *operation,
              const SegPoolRequest *request,
              SegStackMap          *map)
{
  const GeglRectangle *extent =
    gegl_operation_source_get_bounding_box (operation, "input");
  gchar *problem;

  if (extent == NULL)
    return FALSE;
  problem = seg_pool_request_problem (request, extent, map);
  g_free (problem);
  return problem == NULL;
}

void
seg_pool_report_problem (GeglOperation        *operation,
                         const SegPoolRequest *request)
{
  gchar *problem = NULL;

  if (seg_stack_input_complete (operation))
    problem = seg_pool_request_problem (
      request, gegl_operation_source_get_bounding_box (operation, "input"),
      NULL);
  seg_stack_report (operation, problem);
}

const Babl *
seg_pool_source_format (GeglOperation *operation)
{
  const Babl *format = gegl_operation_get_source_format (operation, "input");

  /* Any babl conversion (even Y u32 via float) would change labels. */
  return format != NULL ? format : babl_format ("Y u8");
}
