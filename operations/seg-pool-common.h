/* SPDX-License-Identifier: LGPL-3.0-or-later
 *
 * Region arithmetic and the process driver shared by every pooling op
 * (seg:mode-pool, seg:countless-3d, seg:sparse-average).
 *
 * A volume of D slices of W × H pixels is a W × (H·D) image: slice z holds
 * rows z·H … z·H+H-1 of the input's bounding box.  Blocks of fx × fy × fz
 * start at the bounding box's origin and at each slice's first row; the
 * output is again a stack, of ceil (D / fz) slices of
 * ceil (W / fx) × ceil (H / fy) pixels, whose origin is the input origin
 * divided by the factors, rounded down.
 */
#ifndef SEG_POOL_COMMON_H
#define SEG_POOL_COMMON_H

#include <gegl.h>
#include <gegl-plugin.h>

#include "seg-stack.h"
#include "seg-volume.h"

G_BEGIN_DECLS

/* The user's request: factors and slice count, as set on the op. */
typedef struct
{
  const gchar *op_name;   /* "seg:mode-pool", for messages */
  SegFactors   factors;
  gint         depth;     /* slices in the input stack; 1 = a plain image */
} SegPoolRequest;

/* The stack's shape, in and out, for a valid request. */
typedef struct
{
  gint slice_height;      /* H: input rows per slice  */
  gint out_slice_height;  /* ceil (H / fy)            */
  gint out_depth;         /* ceil (D / fz)            */
} SegStackShape;

/* A kernel that pools in into out (out = ceil (in / factors)); data is
 * what the op hands seg_pool_process () for it (a pixel layout, say). */
typedef SegStatus (*SegPoolKernel) (const SegVolume  *in,
                                    const SegVolume  *out,
                                    const SegFactors *factors,
                                    gboolean          sparse,
                                    gconstpointer     data,
                                    gpointer          scratch);

/* A filter op's process (), as GeglOperationFilterClass has it. */
typedef gboolean (*SegPoolFilterProcess) (GeglOperation       *operation,
                                          GeglBuffer          *input,
                                          GeglBuffer          *output,
                                          const GeglRectangle *roi,
                                          gint                 level);

/* a / b rounded down, and a mod b in 0 … b-1, for any sign of a (b > 0). */
static inline gint
seg_floor_div (gint a, gint b)
{
  return a >= 0 ? a / b : -((-a + b - 1) / b);
}

static inline gint
seg_mod_floor (gint a, gint b)
{
  gint m = a % b;

  return m < 0 ? m + b : m;
}

/* NULL when the request can be served on an input of this extent;
 * otherwise a message for the user that names the op, the offending value
 * and what is allowed (free it with g_free). */
gchar        *seg_pool_request_problem  (const SegPoolRequest *request,
                                         const GeglRectangle  *input);

/* TRUE when the request can be served on an input of this extent. */
gboolean      seg_pool_request_valid    (const SegPoolRequest *request,
                                         const GeglRectangle  *input);

/* The extent of the operation's input when request can be served on it;
 * NULL otherwise (prepare has said why). */
const GeglRectangle *
              seg_pool_valid_input      (GeglOperation        *operation,
                                         const SegPoolRequest *request);

/* For prepare: warns about a request that cannot be served on the
 * connected input, once per node until the problem changes or goes away.
 * A node with no input connected yet is not a problem. */
void          seg_pool_report_problem   (GeglOperation        *operation,
                                         const SegPoolRequest *request);

SegStackShape seg_pool_stack_shape      (const SegPoolRequest *request,
                                         const GeglRectangle  *input);

/* The output's extent; empty when the request is not valid. */
GeglRectangle seg_pool_bounding_box     (const SegPoolRequest *request,
                                         const GeglRectangle  *input);

/* The input pixels that the output pixels in roi read. */
GeglRectangle seg_pool_required_region  (const SegPoolRequest *request,
                                         const GeglRectangle  *input,
                                         const GeglRectangle  *roi);

/* The output pixels that depend on the input pixels in changed. */
GeglRectangle seg_pool_invalidated      (const SegPoolRequest *request,
                                         const GeglRectangle  *input,
                                         const GeglRectangle  *changed,
                                         const GeglRectangle  *output);

/* Renders roi of output from input, in format (no conversion), one band of
 * output rows at a time so that memory stays bounded whatever the roi.
 * Every kernel call gets sparse, data and scratch_size bytes of scratch.
 * (seg-pool-process.c) */
gboolean      seg_pool_process          (const SegPoolRequest *request,
                                         SegPoolKernel         kernel,
                                         gboolean              sparse,
                                         gconstpointer         data,
                                         gsize                 scratch_size,
                                         const Babl           *format,
                                         GeglBuffer           *input,
                                         const GeglRectangle  *input_extent,
                                         GeglBuffer           *output,
                                         const GeglRectangle  *roi);

/* The source's own format: labels must reach the kernel byte for byte. */
const Babl   *seg_pool_source_format    (GeglOperation *operation);

G_END_DECLS

#endif
