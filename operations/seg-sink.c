/* SPDX-License-Identifier: LGPL-3.0-or-later
 *
 * What the sinks share (seg-sink.h).
 */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "seg-npy-common.h"
#include "seg-sink.h"

/* Why node gives no data to save or count, or NULL: a gegl:load that could not
 * load its file (it then renders an error text), a seg:npy-load that could
 * not read or load its file whole (free it). */
static gchar *
failed_source (GeglNode *node)
{
  GeglNode           *inner = seg_stack_inner_source (node);
  const SegNpyHeader *h;
  const gchar        *problem = NULL;
  gchar              *path = NULL, *name, *text = NULL;

  if (seg_node_is_op (node, "gegl:load") && inner != NULL &&
      seg_node_is_op (inner, "gegl:text"))
    {
      gegl_node_get (node, "path", &path, NULL);
      name = g_filename_display_name (path ? path : "");
      text = g_strdup_printf (_ ("the input comes from gegl:load, which "
                                 "could not load %s"),
                              name);
    }
  else if (seg_npy_load_state (node, &h, &problem) && problem != NULL)
    {
      gegl_node_get (node, "path", &path, NULL);
      name = g_filename_display_name (path ? path : "");
      text = g_strdup_printf (_ ("the input comes from seg:npy-load, which "
                                 "could not load %s: %s"),
                              name, problem);
    }
  else
    return NULL;
  g_free (name);
  g_free (path);
  return text;
}

/* The first failed source anywhere upstream, through every input pad and
 * into meta-ops (free it); NULL when there is none. */
static gchar *
upstream_failure (GeglOperation *operation)
{
  GHashTable *seen    = g_hash_table_new (NULL, NULL);
  GQueue      todo    = G_QUEUE_INIT;
  gchar      *failure = NULL;

  g_queue_push_tail (&todo, operation->node);
  while (failure == NULL && !g_queue_is_empty (&todo) &&
         g_hash_table_size (seen) < SEG_MAX_UPSTREAM_NODES)
    {
      GeglNode *node = g_queue_pop_head (&todo);
      GeglNode *inner;
      gchar   **pads;

      if (node == NULL || !g_hash_table_add (seen, node))
        continue;
      if ((failure = failed_source (node)) != NULL)
        break;
      if ((inner = seg_stack_inner_source (node)) != NULL)
        g_queue_push_tail (&todo, inner);
      pads = gegl_node_list_input_pads (node);
      for (gint i = 0; pads != NULL && pads[i] != NULL; i++)
        g_queue_push_tail (&todo, gegl_node_get_producer (node, pads[i], NULL));
      g_strfreev (pads);
    }
  g_queue_clear (&todo);
  g_hash_table_destroy (seen);
  return failure;
}

/* The stack that reaches operation's input of height rows, for a depth of
 * 0: seg_stack_of_input ()'s answer where its depth divides height; else
 * (a plain image, or an op after the volume op that changed the height)
 * one slice of 2 dimensions. */
static SegStackOutput
stack_of_input (GeglOperation *operation, gint height)
{
  SegStackOutput stack, plain = { 1, 2 };

  if (!seg_stack_of_input (operation, &stack) || stack.depth < 1 ||
      height % stack.depth != 0)
    return plain;
  return stack;
}

gchar *
seg_sink_input (GeglOperation       *operation,
                const GeglRectangle *extent,
                gint                 depth,
                SegStackOutput      *stack)
{
  gchar *failure = upstream_failure (operation);

  if (failure != NULL)
    return failure;
  if (depth == 0)
    *stack = stack_of_input (operation, extent->height);
  else
    *stack = (SegStackOutput){ depth, 2 };
  if (extent->width <= 0 || extent->height <= 0)
    return g_strdup_printf (_ ("the input is empty (width %d, height %d)"),
                            MAX (extent->width, 0), MAX (extent->height, 0));
  if (stack->depth < 1 || extent->height % stack->depth != 0)
    return g_strdup_printf (_ ("depth is %d; it must be 0 (from the graph) "
                               "or a whole number that divides the input "
                               "height %d"),
                            stack->depth, extent->height);
  return NULL;
}

gboolean
seg_sink_has_path (const gchar *op_name, const gchar *path)
{
  if (path != NULL && *path != '\0')
    return TRUE;
  g_warning (_ ("%s: no path is set; nothing was written."), op_name);
  return FALSE;
}

gboolean
seg_sink_report (const gchar *op_name, const gchar *path, gchar *problem)
{
  gchar *name;

  if (problem == NULL)
    return TRUE;
  name = g_filename_display_name (path);
  g_warning (_ ("%s: %s: %s. Nothing was written."), op_name, name, problem);
  g_free (name);
  g_free (problem);
  return FALSE;
}
