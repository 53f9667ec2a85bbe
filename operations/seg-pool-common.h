/* SPDX-License-Identifier: LGPL-3.0-or-later
 *
 * What every pooling op (seg:mode-pool, seg:countless-3d,
 * seg:sparse-average) shares on top of the stack layer (seg-stack.h):
 * its request, checked, as a SegStackMap of blocks, and the process
 * driver that reads whole input tiles in place (seg-pool-process.c).
 *
 * Blocks of fx × fy × fz start at the input's bounding-box origin and at
 * each slice's first row; the output is a stack of ceil (D / fz) slices of
 * ceil (W / fx) × ceil (H / fy) pixels, whose origin is the input origin
 * divided by the factors, rounded down.
 */
#ifndef SEG_POOL_COMMON_H
#define SEG_POOL_COMMON_H

#include <gegl.h>
#include <gegl-plugin.h>

#include "seg-stack.h"
#include "seg-label.h"
#include "seg-volume.h"

G_BEGIN_DECLS

/* The user's request: factors and slice count, as set on the op. */
typedef struct
{
  const gchar *op_name; /* "seg:mode-pool", for messages */
  SegFactors   factors;
  gint         depth; /* slices in the input stack; 1 = a plain image */
} SegPoolRequest;

/* A kernel that pools in into out (out = ceil (in / factors)); with
 * sparse, background is what it leaves out; data is what the op hands
 * seg_pool_process () for it (a pixel layout, say). */
typedef SegStatus (*SegPoolKernel) (const SegVolume  *in,
                                    const SegVolume  *out,
                                    const SegFactors *factors,
                                    gboolean          sparse,
                                    SegBackground     background,
                                    gconstpointer     data,
                                    gpointer          scratch);

/* A filter op's process (), as GeglOperationFilterClass has it. */
typedef gboolean (*SegPoolFilterProcess) (GeglOperation       *operation,
                                          GeglBuffer          *input,
                                          GeglBuffer          *output,
                                          const GeglRectangle *roi,
                                          gint                 level);

/* NULL, with *map set (map may be NULL), when the request can be served
 * on an input of this extent; otherwise a message for the user that names
 * the op, the offending value and what is allowed (free it with g_free). */
gchar *seg_pool_request_problem (const SegPoolRequest *request,
                                 const GeglRectangle  *input,
                                 SegStackMap          *map);

/* TRUE, with *map set, when the request can be served on the operation's
 * input; FALSE otherwise (prepare has said why). */
gboolean seg_pool_map (GeglOperation        *operation,
                       const SegPoolRequest *request,
                       SegStackMap          *map);

/* For prepare: warns about a request that cannot be served on the
 * connected input, once per node (seg_stack_report ()). */
void seg_pool_report_problem (GeglOperation        *operation,
                              const SegPoolRequest *request);

/* Renders roi of operation's output from input, in its output format (no
 * conversion), one band of output rows at a time so that memory stays
 * bounded whatever the roi.
 * Every kernel call gets sparse, data and scratch_size bytes of scratch.
 * (seg-pool-process.c) */
gboolean seg_pool_process (const SegPoolRequest *request,
                           const SegStackMap    *map,
                           SegPoolKernel         kernel,
                           gboolean              sparse,
                           gconstpointer         data,
                           gsize                 scratch_size,
                           GeglOperation        *operation,
                           GeglBuffer           *input,
                           GeglBuffer           *output,
                           const GeglRectangle  *roi);

/* The source's own format: labels must reach the kernel byte for byte. */
const Babl *seg_pool_source_format (GeglOperation *operation);

G_END_DECLS

#endif
