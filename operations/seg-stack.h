/* SPDX-License-Identifier: LGPL-3.0-or-later
 *
 * The stack layer every volume op shares.
 *
 * A volume of D slices of W × H pixels is a W × (H·D) image: slice z holds
 * rows z·H … z·H+H-1 of the input's bounding box.  An op maps its input
 * stack to an output stack axis by axis (SegAxis: pool by blocks, keep the
 * size and read neighbours, or resize), and this layer does the rest:
 *
 *  - the checks of a stack's depth, with messages that name the op, the
 *    value and what is allowed, reported once per node (seg_stack_check,
 *    seg_stack_report);
 *  - the region arithmetic GEGL asks an op for: bounding box, required and
 *    invalidated regions, slice by slice (SegStackMap);
 *  - how a stack's depth passes downstream: a hook on the op's class that
 *    seg:npy-save and every later op ask, whatever the op is called;
 *  - a band driver (seg-stack-process.c) that hands a kernel the input rows
 *    an output band needs, neighbour slices included, reading each input
 *    slice's rows once per band and nothing between them.
 */
#ifndef SEG_STACK_H
#define SEG_STACK_H

#include <gegl-plugin.h>

#include "seg-volume.h"

G_BEGIN_DECLS

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

/* ------------------------------------------------------------------------
 * Geometry and checks
 * --------------------------------------------------------------------- */

/* A stack in a GEGL plane: depth slices of width × slice_height pixels,
 * the first at (x, y), each below the one before. */
typedef struct
{
  gint x, y;
  gint width, slice_height, depth;
} SegStack;

/* What the messages of seg_stack_check () say, all translated. */
typedef struct
{
  const gchar *op_name;       /* "seg:mode-pool"                        */
  const gchar *nothing_to_do; /* "there is nothing to pool"             */
  const gchar *outcome;       /* "The output is empty."                 */
} SegStackCheck;

/* NULL, with *stack set, when extent is a stack of depth equal slices;
 * otherwise a message for the user that names the op, the offending value
 * and what is allowed (free it with g_free): a depth below 1, an empty
 * extent (also NULL), a depth that does not divide the height. */
gchar *seg_stack_check (const SegStackCheck *check,
                        const GeglRectangle *extent,
                        gint                 depth,
                        SegStack            *stack);

/* The extent of a stack. */
GeglRectangle seg_stack_extent (const SegStack *stack);

/* TRUE when every node upstream of the operation's input pad, along input
 * pads, is connected all the way to a source.  GEGL prepares nodes while
 * it builds, rewires and tears down graphs; an input that is empty for
 * that reason is not the user's problem. */
gboolean seg_stack_input_complete (GeglOperation *operation);

/* For prepare: says problem (a message, or NULL for none; the call takes
 * it) as a warning, once per node until the problem changes or goes away.
 * GEGL prepares a node more than once per render. */
void seg_stack_report (GeglOperation *operation, gchar *problem);

/* ------------------------------------------------------------------------
 * Axes: which input indices an output index reads
 * --------------------------------------------------------------------- */

typedef enum
{
  SEG_AXIS_POOL,    /* blocks of factor: out = ceil (in / factor)      */
  SEG_AXIS_SAME,    /* same size; i reads i - radius … i + radius      */
  SEG_AXIS_NEAREST, /* resize, PyTorch nearest-exact                   */
  SEG_AXIS_LINEAR,  /* resize, PyTorch linear, align_corners=False     */
  SEG_AXIS_AREA     /* resize, PyTorch adaptive average pooling        */
} SegAxisKind;

typedef struct
{
  SegAxisKind kind;
  gint        in_size, out_size; /* both ≥ 1 */
  gint        factor;            /* SEG_AXIS_POOL */
  gint        radius;            /* SEG_AXIS_SAME */
} SegAxis;

SegAxis seg_axis_pool (gint in_size, gint factor);
SegAxis seg_axis_same (gint size, gint radius);
SegAxis seg_axis_resize (SegAxisKind kind, gint in_size, gint out_size);

/* Input indices [*i0, *i1) that output indices [o0, o1) read (0 ≤ o0 <
 * o1 ≤ out_size), clipped to the input: what exists, never padding.  For
 * SEG_AXIS_LINEAR one index more on each side than the taps, so that the
 * kernel's rounding in double can never step outside. */
void
seg_axis_input_span (const SegAxis *axis, gint o0, gint o1, gint *i0, gint *i1);

/* Output indices [*o0, *o1) that read any of input indices [i0, i1)
 * (0 ≤ i0 < i1 ≤ in_size); empty (*o0 == *o1) when none does. */
void seg_axis_output_span (
  const SegAxis *axis, gint i0, gint i1, gint *o0, gint *o1);

/* ------------------------------------------------------------------------
 * Region arithmetic
 * --------------------------------------------------------------------- */

/* How an op maps its input stack to its output stack.  Slices map to
 * slices by z, rows within a slice by y: the output is a stack of
 * z.out_size slices of x.out_size × y.out_size pixels at (out_x, out_y). */
typedef struct
{
  SegStack in;
  SegAxis  x, y, z;
  gint     out_x, out_y;
} SegStackMap;

/* The output stack. */
SegStack seg_stack_map_output (const SegStackMap *map);

/* The output's extent. */
GeglRectangle seg_stack_map_bounding_box (const SegStackMap *map);

/* The input pixels that the output pixels in roi read, as one rectangle:
 * for a region within one output slice and an op that reads z-neighbours,
 * that spans the slices in between too, which the band driver does not
 * read. */
GeglRectangle seg_stack_map_required (const SegStackMap   *map,
                                      const GeglRectangle *roi);

/* The output pixels that depend on the input pixels in changed. */
GeglRectangle seg_stack_map_invalidated (const SegStackMap   *map,
                                         const GeglRectangle *changed);

/* How an op maps its input: TRUE with *map set, FALSE when its properties
 * cannot be served on its input (its prepare says why). */
typedef gboolean (*SegStackMapFunc) (GeglOperation *operation,
                                     SegStackMap   *map);

/* What an op's properties make of an input of extent input: NULL, with
 * *map set (map may be NULL), when the op can serve it; else a message for
 * the user that names the op, the value and what is allowed. */
typedef gchar *(*SegStackProblemFunc) (GeglOperation       *operation,
                                       const GeglRectangle *input,
                                       SegStackMap         *map);

/* A SegStackMapFunc from a SegStackProblemFunc: problem_of on the
 * operation's input. */
gboolean seg_stack_map_by (GeglOperation      *operation,
                           SegStackProblemFunc problem_of,
                           SegStackMap        *map);

/* For prepare: reports (seg_stack_report ()) what problem_of says of the
 * operation's input, once the input chain reaches a source. */
void seg_stack_report_problem (GeglOperation      *operation,
                               SegStackProblemFunc problem_of);

/* Sets an op's bounding box, required and invalidated regions (in its
 * class_init) from func: the map's output, the input an output region
 * reads, the output an input change touches; all empty where func gives
 * no map. */
void seg_stack_class_set_regions (GeglOperationClass *klass,
                                  SegStackMapFunc     func);

/* ------------------------------------------------------------------------
 * The band driver (seg-stack-process.c)
 * --------------------------------------------------------------------- */

/* Where a band lies: its output is columns [out_x0, +out->width) and rows
 * [out_y0, +out->height) of output slices out_z, … (out->depth of them:
 * one but in a job's slabs); its input view starts at
 * column in_x0 and row in_y0 of input slice in_z0 (all relative to their
 * stack's origin).  An op that reads neighbours finds its edges here. */
typedef struct
{
  gint out_x0, out_y0, out_z;
  gint in_x0, in_y0, in_z0;
} SegStackBand;

/* Renders out from in (both packed views in the op's formats). */
typedef SegStatus (*SegStackKernel) (const SegVolume    *in,
                                     const SegVolume    *out,
                                     const SegStackBand *band,
                                     gpointer            data);

/* What a run renders, and how. */
typedef struct
{
  const SegStackMap *map;
  const Babl        *in_format, *out_format; /* no conversion between */
  GeglBuffer        *input, *output;
  SegStackKernel     kernel;
  gpointer           data; /* for the kernel        */
  /* Output slices one band may hold where the region covers whole slices
   * (0 or 1: one), for a kernel that reuses the rows of neighbour slices
   * across the output slices of a band. */
  gint slab;
  /* The op whose output this is: where a caller gave it a memory target
   * (seg_stack_render_to_memory ()), the run writes there instead. */
  GeglOperation *operation;
} SegStackJob;

typedef struct _SegStackRun SegStackRun;

/* A run renders roi (clipped to the output) of the job's output, band by
 * band, each band one output slice's rows; NULL when nothing of roi is
 * output.  Band buffers are kept for the whole run. */
SegStackRun *seg_stack_run_new (const SegStackJob   *job,
                                const GeglRectangle *roi);
void         seg_stack_run_free (SegStackRun *run);

/* The part of roi the run renders (absolute). */
GeglRectangle seg_stack_run_todo (const SegStackRun *run);

/* Renders output rows [r0, r1) of slice out_z and columns [c0, c1)
 * (relative to the output stack; r0 … r1 within the slice) through copies
 * of the input: each input slice's rows fetched once, in bands whose input
 * stays in the L2 cache. */
SegStatus seg_stack_run_rect (
  SegStackRun *run, gint out_z, gint r0, gint r1, gint c0, gint c1);

/* Writes rect (absolute) of the output from src, rows src_stride bytes
 * apart, in the output format, with streaming stores (nothing reads them
 * soon): into the op's memory target where it has one that holds rect,
 * else straight into the output's tiles. */
void seg_stack_run_write (const SegStackRun   *run,
                          const GeglRectangle *rect,
                          const guint8        *src,
                          gsize                src_stride);

/* A filter's whole process (): every band of roi through copies (bands of
 * up to job->slab output slices where roi covers whole slices); FALSE,
 * with a warning naming op_name, when the kernel fails. */
gboolean seg_stack_process (const SegStackJob   *job,
                            const gchar         *op_name,
                            const GeglRectangle *roi);

/* Renders rect of node's output into pixels (rows rowstride bytes apart,
 * in format), for programs that keep the result in their own memory.
 * Where node's op runs on this band driver and its output format is
 * format, every run writes its output there directly, and GEGL's copy out
 * of the node's tiles (gegl_node_blit ()) is saved; TRUE when all of rect
 * was written so.  FALSE when some of it was not (another op, another
 * format, a region GEGL rendered through other means): then the caller
 * renders it again with gegl_node_blit ().  Also FALSE, rendering
 * nothing, when rowstride is shorter than a row of rect.  One render at a
 * time per node. */
gboolean seg_stack_render_to_memory (GeglNode            *node,
                                     const GeglRectangle *rect,
                                     const Babl          *format,
                                     gpointer             pixels,
                                     gint                 rowstride);

/* ------------------------------------------------------------------------
 * How a stack's depth passes downstream
 * --------------------------------------------------------------------- */

/* The stack an op makes. */
typedef struct
{
  gint depth;  /* slices of its output, at least 1; 0: not known        */
  gint n_dims; /* dimensions of the array it stands for: 3 for a volume
                * (which stays one even pooled to one slice), 2 for an
                * image; seg:npy-load's, its file's (0 … 3)             */
} SegStackOutput;

typedef SegStackOutput (*SegStackOutputFunc) (GeglOperation *operation);

/* Declares, in an op's class_init, how its output stack follows from its
 * properties (or, for a loader, from its file). */
void seg_stack_class_set_output (GeglOperationClass *klass,
                                 SegStackOutputFunc  func);

/* The stack operation makes; FALSE when its class declares none or it
 * does not know. */
gboolean seg_stack_output (GeglOperation *operation, SegStackOutput *output);

/* Nodes a walk upstream looks at, at most: graphs are far smaller. */
#define SEG_MAX_UPSTREAM_NODES 4096

/* TRUE when node runs the op called name ("gegl:nop"). */
gboolean seg_node_is_op (GeglNode *node, const gchar *name);

/* The node inside a graph or meta-op (gegl:load) that feeds its output;
 * NULL for a plain node. */
GeglNode *seg_stack_inner_source (GeglNode *node);

/* The stack that reaches operation's input, for a depth of 0 ("from the
 * graph"): follows the input upstream through nops, clones, graphs and
 * meta-ops to the first node that makes pixels and asks it
 * (seg_stack_output ()).  FALSE, a plain image, when it cannot say. */
gboolean seg_stack_of_input (GeglOperation *operation, SegStackOutput *output);

G_END_DECLS

#endif
