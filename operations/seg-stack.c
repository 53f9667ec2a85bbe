/* SPDX-License-Identifier: LGPL-3.0-or-later
 *
 * The stack hook of seg-stack.h, kept as data on each op's GType (not
 * inherited: a subclass declares its own).
 */
#include "config.h"

#include "seg-stack.h"

static GQuark
output_quark (void)
{
  return g_quark_from_static_string ("seg-stack-output");
}

void
seg_stack_class_set_output (GeglOperationClass *klass,
                            SegStackOutputFunc  func)
{
  g_type_set_qdata (G_TYPE_FROM_CLASS (klass), output_quark (),
                    (gpointer) func);
}

gboolean
seg_stack_output (GeglOperation  *operation,
                  SegStackOutput *output)
{
  SegStackOutputFunc func = (SegStackOutputFunc)
    g_type_get_qdata (G_OBJECT_TYPE (operation), output_quark ());

  if (func == NULL)
    return FALSE;
  *output = func (operation);
  return TRUE;
}
