/* SPDX-License-Identifier: LGPL-3.0-or-later
 *
 * The stack layer (seg-stack.h): checks and their reports, axes, region
 * arithmetic and the depth hook.  The band driver is in
 * seg-stack-process.c.
 */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "seg-stack.h"

/* ------------------------------------------------------------------------
 * Geometry and checks
 * --------------------------------------------------------------------- */

gchar *
seg_stack_check (const SegStackCheck *check,
                 const GeglRectangle *extent,
                 gint                 depth,
                 SegStack            *stack)
{
  const gchar *op = check->op_name;

  if (depth < 1)
    return g_strdup_printf (_ ("%s: depth is %d; it must be a whole number "
                               "of at least 1 that divides the input "
                               "height. %s"),
                            op, depth, check->outcome);

  if (extent == NULL || extent->width <= 0 || extent->height <= 0)
    return g_strdup_printf (_ ("%s: the input is empty (width %d, height "
                               "%d); %s. %s"),
                            op, extent ? MAX (extent->width, 0) : 0,
                            extent ? MAX (extent->height, 0) : 0,
                            check->nothing_to_do, check->outcome);

  if (extent->height % depth != 0)
    return g_strdup_printf (_ ("%s: depth %d does not divide the input "
                               "height %d, so the input is not a stack of "
                               "%d equal slices. %s"),
                            op, depth, extent->height, depth, check->outcome);

  if (stack != NULL)
    {
      stack->x            = extent->x;
      stack->y            = extent->y;
      stack->width        = extent->width;
      stack->slice_height = extent->height / depth;
      stack->depth        = depth;
    }
  return NULL;
}

GeglRectangle
seg_stack_extent (const SegStack *stack)
{
  GeglRectangle r = { stack->x, stack->y, stack->width,
                      stack->slice_height * stack->depth };

  return r;
}

gboolean
seg_stack_input_complete (GeglOperation *operation)
{
  GeglNode *node = gegl_operation_get_source_node (operation, "input");

  while (node != NULL && gegl_node_has_pad (node, "input"))
    node = gegl_node_get_producer (node, "input", NULL);
  return node != NULL;
}

void
seg_stack_report (GeglOperation *operation, gchar *problem)
{
  static GQuark reported_quark = 0;
  const gchar  *reported;

  if (reported_quark == 0)
    reported_quark = g_quark_from_static_string ("seg-stack-reported");

  reported = g_object_get_qdata (G_OBJECT (operation), reported_quark);
  if (problem != NULL && g_strcmp0 (problem, reported) != 0)
    g_warning ("%s", problem);
  g_object_set_qdata_full (G_OBJECT (operation), reported_quark, problem,
                           g_free);
}

gboolean
seg_stack_map_by (GeglOperation      *operation,
                  SegStackProblemFunc problem_of,
                  SegStackMap        *map)
{
  const GeglRectangle *extent =
    gegl_operation_source_get_bounding_box (operation, "input");
  gchar *problem;

  if (extent == NULL)
    return FALSE;
  problem = problem_of (operation, extent, map);
  g_free (problem);
  return problem == NULL;
}

void
seg_stack_report_problem (GeglOperation      *operation,
                          SegStackProblemFunc problem_of)
{
  gchar *problem = NULL;

  if (seg_stack_input_complete (operation))
    problem = problem_of (
      operation, gegl_operation_source_get_bounding_box (operation, "input"),
      NULL);
  seg_stack_report (operation, problem);
}

/* ------------------------------------------------------------------------
 * Axes
 * --------------------------------------------------------------------- */

SegAxis
seg_axis_pool (gint in_size, gint factor)
{
  SegAxis a = { SEG_AXIS_POOL, in_size, seg_pooled_size (in_size, factor),
                factor, 0 };

  return a;
}

SegAxis
seg_axis_same (gint size, gint radius)
{
  SegAxis a = { SEG_AXIS_SAME, size, size, 1, radius };

  return a;
}

SegAxis
seg_axis_resize (SegAxisKind kind, gint in_size, gint out_size)
{
  SegAxis a = { kind, in_size, out_size, 1, 0 };

  return a;
}

/* Input indices [*i0, *i1) that output index o reads, before clipping. */
static void
span_of (const SegAxis *a, gint o, gint64 *i0, gint64 *i1)
{
  const gint64 in = a->in_size, out = a->out_size;

  switch (a->kind)
    {
    case SEG_AXIS_POOL:
      *i0 = (gint64) o * a->factor;
      *i1 = *i0 + a->factor;
      break;
    case SEG_AXIS_SAME:
      *i0 = (gint64) o - a->radius;
      *i1 = (gint64) o + a->radius + 1;
      break;
    case SEG_AXIS_NEAREST:
      *i0 = MIN ((2 * (gint64) o + 1) * in / (2 * out), in - 1);
      *i1 = *i0 + 1;
      break;
    case SEG_AXIS_LINEAR:
      {
        /* s = max ((o + 0.5) · in / out - 0.5, 0), taps ⌊s⌋ and ⌊s⌋ + 1,
         * and one more on each side. */
        const gint64 num = (2 * (gint64) o + 1) * in - out;
        const gint64 tap = num <= 0 ? 0 : num / (2 * out);

        *i0 = tap - 1;
        *i1 = tap + 3;
      }
      break;
    case SEG_AXIS_AREA:
    default:
      *i0 = (gint64) o * in / out;
      *i1 = ((gint64) o + 1) * in / out + (((gint64) o + 1) * in % out != 0);
      break;
    }
  *i0 = CLAMP (*i0, 0, in);
  *i1 = CLAMP (*i1, *i0, in);
}

void
seg_axis_input_span (const SegAxis *axis, gint o0, gint o1, gint *i0, gint *i1)
{
  gint64 a0, a1, b0, b1;

  /* Both ends of an output index's span grow with the index. */
  span_of (axis, o0, &a0, &a1);
  span_of (axis, o1 - 1, &b0, &b1);
  *i0 = (gint) a0;
  *i1 = (gint) b1;
}

void
seg_axis_output_span (const SegAxis *axis, gint i0, gint i1, gint *o0, gint *o1)
{
  gint   lo, hi;
  gint64 s0, s1;

  /* *o0: the first output whose span ends after i0; *o1: the first whose
   * span starts at or after i1.  Both ends grow with the output index, so
   * each is a binary search. */
  for (lo = 0, hi = axis->out_size; lo < hi;)
    {
      gint mid = lo + (hi - lo) / 2;

      span_of (axis, mid, &s0, &s1);
      if (s1 > i0)
        hi = mid;
      else
        lo = mid + 1;
    }
  *o0 = lo;
  for (lo = *o0, hi = axis->out_size; lo < hi;)
    {
      gint mid = lo + (hi - lo) / 2;

      span_of (axis, mid, &s0, &s1);
      if (s0 >= i1)
        hi = mid;
      else
        lo = mid + 1;
    }
  *o1 = lo;
}

/* ------------------------------------------------------------------------
 * Region arithmetic
 * --------------------------------------------------------------------- */

SegStack
seg_stack_map_output (const SegStackMap *map)
{
  SegStack out = { map->out_x, map->out_y, map->x.out_size, map->y.out_size,
                   map->z.out_size };

  return out;
}

GeglRectangle
seg_stack_map_bounding_box (const SegStackMap *map)
{
  SegStack out = seg_stack_map_output (map);

  return seg_stack_extent (&out);
}

/* A set of rows of a stack: slices [z0, z1), rows [y0, y1) of each. */
typedef struct
{
  gint z0, z1, y0, y1;
} Rows;

/* The stack rows [first, end) (relative) as at most three sets: the rest
 * of the first slice, the whole slices between, the start of the last. */
static gint
rows_split (gint first, gint end, gint slice_height, Rows parts[3])
{
  const gint za = first / slice_height, zb = (end - 1) / slice_height;
  const gint ya = first % slice_height, yb = (end - 1) % slice_height + 1;
  gint       n = 0;

  if (za == zb)
    {
      parts[n++] = (Rows){ za, za + 1, ya, yb };
      return n;
    }
  parts[n++] = (Rows){ za, za + 1, ya, slice_height };
  if (zb > za + 1)
    parts[n++] = (Rows){ za + 1, zb, 0, slice_height };
  parts[n++] = (Rows){ zb, zb + 1, 0, yb };
  return n;
}

/* The smallest run of stack rows [*first, *end) holding rows (slices
 * z0 … z1-1, rows y0 … y1-1 of each), grown to hold what it already
 * holds ([0, 0) holds nothing). */
static void
rows_cover (const Rows *rows, gint slice_height, gint *first, gint *end)
{
  const gint top    = rows->z0 * slice_height + rows->y0;
  const gint bottom = (rows->z1 - 1) * slice_height + rows->y1;

  if (*end <= *first)
    {
      *first = top;
      *end   = bottom;
      return;
    }
  *first = MIN (*first, top);
  *end   = MAX (*end, bottom);
}

/* seg_axis_input_span () or seg_axis_output_span (). */
typedef void (*SpanFunc) (
  const SegAxis *axis, gint a0, gint a1, gint *b0, gint *b1);

/* The stack rows [first, end) (relative) of one side of map that stack
 * rows [from, to) of the other side map to by span; slice heights
 * from_height and to_height.  FALSE when they map to nothing. */
static gboolean
map_rows (const SegStackMap *map,
          SpanFunc           span,
          gint               from,
          gint               to,
          gint               from_height,
          gint               to_height,
          gint              *first,
          gint              *end)
{
  Rows parts[3];
  gint n = rows_split (from, to, from_height, parts);

  *first = *end = 0;
  for (gint k = 0; k < n; k++)
    {
      Rows mapped;

      span (&map->z, parts[k].z0, parts[k].z1, &mapped.z0, &mapped.z1);
      span (&map->y, parts[k].y0, parts[k].y1, &mapped.y0, &mapped.y1);
      if (mapped.z1 > mapped.z0 && mapped.y1 > mapped.y0)
        rows_cover (&mapped, to_height, first, end);
    }
  return *end > *first;
}

GeglRectangle
seg_stack_map_required (const SegStackMap *map, const GeglRectangle *roi)
{
  GeglRectangle box = seg_stack_map_bounding_box (map);
  GeglRectangle clipped, need = { 0, 0, 0, 0 };
  gint          first, end, x0, x1;

  if (!gegl_rectangle_intersect (&clipped, &box, roi) ||
      !map_rows (map, seg_axis_input_span, clipped.y - box.y,
                 clipped.y + clipped.height - box.y, map->y.out_size,
                 map->in.slice_height, &first, &end))
    return need;
  seg_axis_input_span (&map->x, clipped.x - box.x,
                       clipped.x + clipped.width - box.x, &x0, &x1);

  need.x      = map->in.x + x0;
  need.y      = map->in.y + first;
  need.width  = x1 - x0;
  need.height = end - first;
  return need;
}

GeglRectangle
seg_stack_map_invalidated (const SegStackMap *map, const GeglRectangle *changed)
{
  GeglRectangle extent = seg_stack_extent (&map->in);
  GeglRectangle clipped, dirty = { 0, 0, 0, 0 };
  gint          first, end, x0, x1;

  if (!gegl_rectangle_intersect (&clipped, &extent, changed) ||
      !map_rows (map, seg_axis_output_span, clipped.y - extent.y,
                 clipped.y + clipped.height - extent.y, map->in.slice_height,
                 map->y.out_size, &first, &end))
    return dirty;
  seg_axis_output_span (&map->x, clipped.x - extent.x,
                        clipped.x + clipped.width - extent.x, &x0, &x1);
  if (x1 <= x0)
    return dirty;

  dirty.x      = map->out_x + x0;
  dirty.y      = map->out_y + first;
  dirty.width  = x1 - x0;
  dirty.height = end - first;
  return dirty;
}

/* The region callbacks of an op from its map, found on its GType (as the
 * depth hook below). */

static GQuark
map_quark (void)
{
  return g_quark_from_static_string ("seg-stack-map");
}

/* TRUE, with *map set, when operation's class has a map function and it
 * gives a map. */
static gboolean
map_of (GeglOperation *operation, SegStackMap *map)
{
  SegStackMapFunc func = (SegStackMapFunc) g_type_get_qdata (
    G_OBJECT_TYPE (operation), map_quark ());

  return func != NULL && func (operation, map);
}

static GeglRectangle
map_bounding_box (GeglOperation *operation)
{
  SegStackMap   map;
  GeglRectangle empty = { 0, 0, 0, 0 };

  return map_of (operation, &map) ? seg_stack_map_bounding_box (&map) : empty;
}

static GeglRectangle
map_required_for_output (GeglOperation             *operation,
                         G_GNUC_UNUSED const gchar *input_pad,
                         const GeglRectangle       *roi)
{
  SegStackMap   map;
  GeglRectangle empty = { 0, 0, 0, 0 };

  return map_of (operation, &map) ? seg_stack_map_required (&map, roi) : empty;
}

static GeglRectangle
map_invalidated_by_change (GeglOperation             *operation,
                           G_GNUC_UNUSED const gchar *input_pad,
                           const GeglRectangle       *changed)
{
  SegStackMap   map;
  GeglRectangle empty = { 0, 0, 0, 0 };

  return map_of (operation, &map) ? seg_stack_map_invalidated (&map, changed)
                                  : empty;
}

void
seg_stack_class_set_regions (GeglOperationClass *klass, SegStackMapFunc func)
{
  g_type_set_qdata (G_TYPE_FROM_CLASS (klass), map_quark (), (gpointer) func);
  klass->get_bounding_box          = map_bounding_box;
  klass->get_required_for_output   = map_required_for_output;
  klass->get_invalidated_by_change = map_invalidated_by_change;
}

/* ------------------------------------------------------------------------
 * How a stack's depth passes downstream: data on each op's GType (not
 * inherited: a subclass declares its own).
 * --------------------------------------------------------------------- */

static GQuark
output_quark (void)
{
  return g_quark_from_static_string ("seg-stack-output");
}

void
seg_stack_class_set_output (GeglOperationClass *klass, SegStackOutputFunc func)
{
  g_type_set_qdata (G_TYPE_FROM_CLASS (klass), output_quark (),
                    (gpointer) func);
}

gboolean
seg_stack_output (GeglOperation *operation, SegStackOutput *output)
{
  SegStackOutputFunc func = (SegStackOutputFunc) g_type_get_qdata (
    G_OBJECT_TYPE (operation), output_quark ());

  if (func == NULL)
    return FALSE;
  *output = func (operation);
  return output->depth > 0;
}

GeglNode *
seg_stack_inner_source (GeglNode *node)
{
  GSList *children = gegl_node_get_children (node);

  if (children == NULL)
    return NULL;
  g_slist_free (children);
  return gegl_node_get_producer (gegl_node_get_output_proxy (node, "output"),
                                 "input", NULL);
}

gboolean
seg_node_is_op (GeglNode *node, const gchar *name)
{
  return g_strcmp0 (gegl_node_get_operation (node), name) == 0;
}

gboolean
seg_stack_of_input (GeglOperation *operation, SegStackOutput *output)
{
  GeglNode *node = gegl_node_get_producer (operation->node, "input", NULL);

  for (gint step = 0; node != NULL && step < SEG_MAX_UPSTREAM_NODES; step++)
    {
      GeglNode      *inner = seg_stack_inner_source (node);
      GeglOperation *op;

      if (inner != NULL)
        node = inner;
      else if (gegl_node_get_operation (node) == NULL ||
               seg_node_is_op (node, "gegl:nop") ||
               seg_node_is_op (node, "gegl:clone"))
        node = gegl_node_get_producer (node, "input", NULL);
      else
        {
          op = gegl_node_get_gegl_operation (node);
          return op != NULL && seg_stack_output (op, output);
        }
    }
  return FALSE;
}
