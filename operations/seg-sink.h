/* SPDX-License-Identifier: LGPL-3.0-or-later
 *
 * What the sinks (seg:npy-save, seg:label-stats) share: the checks of
 * their input, the stack that reaches them when their depth is 0 ("from
 * the graph"), and whether a source upstream failed, in which case they
 * write nothing.
 */
#ifndef SEG_SINK_H
#define SEG_SINK_H

#include <gegl.h>
#include <gegl-plugin.h>

#include "seg-stack.h"

G_BEGIN_DECLS

/* What a sink with a depth property of depth gets over extent: NULL, with
 * the stack in *stack (depth slices of 2 dimensions; for a depth of 0,
 * what the graph says: seg_stack_of_input ()'s answer where its depth
 * divides the height, else one slice of 2 dimensions), or a problem for
 * the user (free it), checked in this order: a source anywhere upstream,
 * through every input pad and into meta-ops, that could not load its file
 * (a gegl:load that renders its error text instead, a seg:npy-load that
 * could not read its file whole); an empty input; a depth below 1 or one
 * that does not divide the height. */
gchar *seg_sink_input (GeglOperation       *operation,
                       const GeglRectangle *extent,
                       gint                 depth,
                       SegStackOutput      *stack);

/* FALSE, with a warning naming op_name, when path (NULL or empty) names
 * no file: the sink then writes nothing. */
gboolean seg_sink_has_path (const gchar *op_name, const gchar *path);

/* Says problem (which it takes; NULL: none) of the sink op_name that
 * writes path, as "OP: PATH: PROBLEM. Nothing was written."; TRUE when
 * there was none. */
gboolean
seg_sink_report (const gchar *op_name, const gchar *path, gchar *problem);

G_END_DECLS

#endif
