/* SPDX-License-Identifier: LGPL-3.0-or-later
 *
 * What the sinks (seg:npy-save, seg:label-stats) share: which stack
 * reaches them when their depth is 0 ("from the graph"), and whether a
 * source upstream failed, in which case they write nothing.
 */
#ifndef SEG_SINK_H
#define SEG_SINK_H

#include <gegl.h>
#include <gegl-plugin.h>

#include "seg-stack.h"

G_BEGIN_DECLS

/* The stack that reaches operation's input of height rows, for a depth of
 * 0: seg_stack_of_input ()'s answer where its depth divides height; else
 * (a plain image, or an op after the volume op that changed the height)
 * one slice of 2 dimensions. */
SegStackOutput seg_sink_stack_of_input (GeglOperation *operation, gint height);

/* Why the input holds no data worth writing: the first source anywhere
 * upstream, through every input pad and into meta-ops, that could not
 * load its file (a gegl:load that renders its error text instead, a
 * seg:npy-load that could not read its file whole).  NULL when there is
 * none; else a message for the user (free it). */
gchar *seg_sink_upstream_failure (GeglOperation *operation);

G_END_DECLS

#endif
