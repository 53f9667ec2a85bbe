/* SPDX-License-Identifier: LGPL-3.0-or-later
 *
 * seg:sparse-average — downsample an image or a stack of slices by the
 * mean of each block, leaving background (pixels whose bytes are all zero;
 * in formats with alpha also transparent or black ones) out of the mean, so that empty regions do not darken ("ghost" into) the
 * full ones next to them, as connectomics pipelines downsample EM images
 * and probability maps.  With sparse off it is plain block averaging.
 *
 * The mean is exact (integers summed in a wide integer type, 128 bits for
 * 64-bit ones, floats in double) and, for integer formats, truncated toward
 * zero as tinybrain does (rounded down for unsigned types).  The .npy
 * formats are averaged as numbers of their NumPy dtype, signed ones as
 * signed numbers.  In formats with a straight alpha, colour is weighted by
 * alpha, so a fully transparent pixel never tints the result.
 */
#include "config.h"

#include <glib/gi18n-lib.h>

/* GEGL's property and op declarations, laid out as GEGL's own ops do. */
/* clang-format off */
#ifdef GEGL_PROPERTIES

property_int (factor_x, _("Horizontal factor"), 2)
  description (_("Width of an averaging block, in input pixels "
                 "(a whole number from 1 to 64)"))
  value_range (1, 64)
  ui_range    (1, 16)
  ui_meta     ("unit", "pixel-distance")
  ui_meta     ("axis", "x")

property_int (factor_y, _("Vertical factor"), 2)
  description (_("Height of an averaging block, in input rows of one "
                 "slice (a whole number from 1 to 64)"))
  value_range (1, 64)
  ui_range    (1, 16)
  ui_meta     ("unit", "pixel-distance")
  ui_meta     ("axis", "y")

property_int (factor_z, _("Depth factor"), 1)
  description (_("Depth of an averaging block, in slices of the stack "
                 "(a whole number from 1 to 64)"))
  value_range (1, 64)
  ui_range    (1, 16)

property_int (depth, _("Depth"), 1)
  description (_("Number of slices in the input: a volume of D slices of "
                 "W×H pixels is a W×(H·D) image, slice z holding rows "
                 "z·H to z·H+H-1. 1 means a plain image. Must divide the "
                 "input height."))
  value_range (1, G_MAXINT)
  ui_range    (1, 1024)

property_boolean (sparse, _("Sparse"), TRUE)
  description (_("Leave background (pixels whose bytes are all zero; "
                 "with alpha also transparent or black pixels) out of the "
                 "mean; a block of background alone stays background"))

#else

#define GEGL_OP_FILTER
#define GEGL_OP_NAME     seg_sparse_average
#define GEGL_OP_C_SOURCE seg-sparse-average.c

#include "gegl-op.h"
/* clang-format on */

#include "seg-average-pool.h"
#include "seg-npy-common.h"
#include "seg-pool-op.h"

static SegPoolRequest
request_of (GeglOperation *operation)
{
  GeglProperties *o = GEGL_PROPERTIES (operation);

  return (SegPoolRequest){ .op_name = "seg:sparse-average",
                           .factors = { o->factor_x, o->factor_y, o->factor_z },
                           .depth   = o->depth };
}

static const SegPoolOp sparse_average = { request_of, seg_numbers_format };

static SegStatus
average_kernel (const SegVolume  *in,
                const SegVolume  *out,
                const SegFactors *factors,
                gboolean          sparse,
                SegBackground     background,
                gconstpointer     layout,
                gpointer          scratch)
{
  return seg_average_pool (in, out, factors, layout, sparse, background,
                           scratch);
}

static gboolean
process (GeglOperation       *operation,
         GeglBuffer          *input,
         GeglBuffer          *output,
         const GeglRectangle *roi,
         gint                 level)
{
  GeglProperties *o       = GEGL_PROPERTIES (operation);
  SegPoolRequest  request = request_of (operation);
  const Babl     *format  = gegl_operation_get_format (operation, "output");
  SegStackMap     map;
  SegPixelLayout  layout;

  if (!seg_pool_map (operation, &request, &map) ||
      !seg_format_layout (format, &layout))
    return TRUE;
  return seg_pool_process (
    &request, &map, average_kernel, o->sparse, &layout,
    seg_average_pool_scratch_size (&request.factors, &layout), operation,
    input, output, roi);
}

static void
gegl_op_class_init (GeglOpClass *klass)
{
  seg_pool_op_class_init (GEGL_OPERATION_CLASS (klass), &sparse_average,
                          process);

  gegl_operation_class_set_keys (
    GEGL_OPERATION_CLASS (klass), "name", "seg:sparse-average", "title",
    _ ("Sparse Average"), "categories", "segmentation:scale", "description",
    _ ("Downsamples an image or a stack of slices by the "
       "mean of each block of factor-x × factor-y × factor-z "
       "pixels. The mean is exact, with 64-bit integers "
       "summed in 128 bits, and for integer formats "
       "truncated toward zero (rounded down for unsigned "
       "ones); the .npy formats are averaged as the numbers "
       "of their NumPy dtype, signed ones as signed numbers. "
       "With sparse on, background (pixels whose bytes are "
       "all zero; with alpha also transparent or black "
       "pixels) is left out of the mean, so empty regions "
       "do not bleed into full ones. Colour is weighted by "
       "alpha, so transparent pixels never tint the result."),
    /* GIMP 3 lists ops with these keys in its menus; 2.10 ignores them. */
    "gimp:menu-path", "<Image>/Filters/Segmentation", "gimp:menu-label",
    _ ("Sparse Average..."), NULL);
}

#endif
