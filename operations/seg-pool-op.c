/* SPDX-License-Identifier: LGPL-3.0-or-later
 *
 * The pooling ops' shared GEGL callbacks (seg-pool-op.h).  Each finds
 * the op's own SegPoolOp on its class, where seg_pool_op_class_init ()
 * put it, so that one copy serves every op.
 */
#include "config.h"

#include "seg-mode-pool.h"
#include "seg-pool-op.h"

static GQuark
pool_op_quark (void)
{
  return g_quark_from_static_string ("seg-pool-op");
}

static const SegPoolOp *
pool_op_of (GeglOperation *operation)
{
  return g_type_get_qdata (G_OBJECT_TYPE (operation), pool_op_quark ());
}

SegPoolRequest
seg_pool_op_request (GeglOperation *operation)
{
  return pool_op_of (operation)->request (operation);
}

static void
pool_prepare (GeglOperation *operation)
{
  SegPoolRequest request = seg_pool_op_request (operation);
  const Babl    *format  = pool_op_of (operation)->format (operation);

  gegl_operation_set_format (operation, "input", format);
  gegl_operation_set_format (operation, "output", format);
  seg_pool_report_problem (operation, &request);
}

/* The map of the operation's request on its input; FALSE when there is
 * none to serve. */
static gboolean
pool_map_of (GeglOperation *operation, SegStackMap *map)
{
  SegPoolRequest request = seg_pool_op_request (operation);

  return seg_pool_map (operation, &request, map);
}

/* The stack the op makes, by the pooling rule (seg_pooled_size): a
 * volume stays one, even pooled down to one slice. */
static SegStackOutput
pool_stack_output (GeglOperation *operation)
{
  SegPoolRequest request = seg_pool_op_request (operation);
  SegStackOutput output  = { 1, request.depth > 1 ? 3 : 2 };

  if (request.depth >= 1 && request.factors.z >= 1)
    output.depth = seg_pooled_size (request.depth, request.factors.z);
  return output;
}

void
seg_pool_op_class_init (GeglOperationClass  *klass,
                        const SegPoolOp     *op,
                        SegPoolFilterProcess process)
{
  g_type_set_qdata (G_TYPE_FROM_CLASS (klass), pool_op_quark (), (gpointer) op);
  klass->prepare = pool_prepare;
  seg_stack_class_set_regions (klass, pool_map_of);
  GEGL_OPERATION_FILTER_CLASS (klass)->process = process;
  seg_stack_class_set_output (klass, pool_stack_output);
}

static SegStatus
mode_pool_kernel (const SegVolume  *in,
                  const SegVolume  *out,
                  const SegFactors *factors,
                  gboolean          sparse,
                  SegBackground     background,
                  gconstpointer     data,
                  gpointer          scratch)
{
  return seg_mode_pool (in, out, factors, sparse, background, scratch);
}

gboolean
seg_pool_op_mode_process (GeglOperation       *operation,
                          GeglBuffer          *input,
                          GeglBuffer          *output,
                          const GeglRectangle *roi,
                          gint                 level)
{
  SegPoolRequest request = seg_pool_op_request (operation);
  SegStackMap    map;
  gboolean       sparse = FALSE;

  if (!seg_pool_map (operation, &request, &map))
    return TRUE;
  g_object_get (operation, "sparse", &sparse, NULL);
  return seg_pool_process (&request, &map, mode_pool_kernel, sparse, NULL,
                           seg_mode_pool_scratch_size (&request.factors),
                           operation, input, output, roi);
}
