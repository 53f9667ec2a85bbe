/* SPDX-License-Identifier: LGPL-3.0-or-later
 *
 * How a stack's shape passes down a graph.  An op whose output is a stack
 * made from the stack on its input says, through a hook on its class, how
 * many slices its output has; seg:npy-save, and any op after it that
 * needs a stack's depth, asks that hook, whatever the op is called.
 */
#ifndef SEG_STACK_H
#define SEG_STACK_H

#include <gegl-plugin.h>

G_BEGIN_DECLS

/* The stack an op makes. */
typedef struct
{
  gint     depth;    /* slices of its output, at least 1                */
  gboolean volume;   /* a volume (made from one of more than one slice),
                      * which stays a volume even pooled to one slice    */
} SegStackOutput;

typedef SegStackOutput (*SegStackOutputFunc) (GeglOperation *operation);

/* Declares, in an op's class_init, how its output stack follows from its
 * properties. */
void     seg_stack_class_set_output (GeglOperationClass *klass,
                                     SegStackOutputFunc  func);

/* The stack operation makes; FALSE when its class declares none. */
gboolean seg_stack_output           (GeglOperation      *operation,
                                     SegStackOutput     *output);

G_END_DECLS

#endif
