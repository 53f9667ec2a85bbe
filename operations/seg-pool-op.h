/* SPDX-License-Identifier: LGPL-3.0-or-later
 *
 * The GEGL side that every pooling op shares: prepare, the three region
 * callbacks and the stack hook, set on an op's class by one call.  An op
 * file says what is its own in a SegPoolOp (its request and format) and
 * gives its process (); the arithmetic lives in seg-pool-common.c.
 */
#ifndef SEG_POOL_OP_H
#define SEG_POOL_OP_H

#include <gegl-plugin.h>

#include "seg-pool-common.h"

G_BEGIN_DECLS

/* What a pooling op tells the shared code. */
typedef struct
{
  /* The factors and depth the op's properties ask for. */
  SegPoolRequest (*request) (GeglOperation *operation);
  /* The format the op reads and writes (labels: the source's own). */
  const Babl *(*format) (GeglOperation *operation);
} SegPoolOp;

/* Sets prepare, the region callbacks, the stack hook (seg-stack.h) and
 * process on klass; op must live as long as the class (a static). */
void seg_pool_op_class_init (GeglOperationClass  *klass,
                             const SegPoolOp     *op,
                             SegPoolFilterProcess process);

/* The request of operation, through its class's SegPoolOp. */
SegPoolRequest seg_pool_op_request (GeglOperation *operation);

/* process () of the mode-pooling ops (seg:mode-pool, seg:countless-3d):
 * seg_mode_pool () over the op's request, with its sparse property. */
gboolean seg_pool_op_mode_process (GeglOperation       *operation,
                                   GeglBuffer          *input,
                                   GeglBuffer          *output,
                                   const GeglRectangle *roi,
                                   gint                 level);

G_END_DECLS

#endif
