/* SPDX-License-Identifier: LGPL-3.0-or-later
 *
 * seg:mode-pool — downsample a label image or volume by taking the most
 * frequent label of each block (the COUNTLESS family of mode pooling):
 * every output pixel is a label that was there, never a blend.
 *
 * Tie rules follow tinybrain's downsample_segmentation: COUNTLESS for full
 * 2×2 blocks, the first tied label in raster order for every other block.
 * W. Silversmith, "COUNTLESS: Fast 2D image downsampling for segmentation",
 * https://towardsdatascience.com/countless-high-performance-2x-downsampling-of-labeled-images-using-python-and-numpy-e70ad3275589
 */
#include "config.h"

#include <glib/gi18n-lib.h>

/* GEGL's property and op declarations, laid out as GEGL's own ops do. */
/* clang-format off */
#ifdef GEGL_PROPERTIES

property_int (factor_x, _("Horizontal factor"), 2)
  description (_("Width of a pooling block, in input pixels "
                 "(a whole number from 1 to 64)"))
  value_range (1, 64)
  ui_range    (1, 16)
  ui_meta     ("unit", "pixel-distance")
  ui_meta     ("axis", "x")

property_int (factor_y, _("Vertical factor"), 2)
  description (_("Height of a pooling block, in input rows of one slice "
                 "(a whole number from 1 to 64)"))
  value_range (1, 64)
  ui_range    (1, 16)
  ui_meta     ("unit", "pixel-distance")
  ui_meta     ("axis", "y")

property_int (factor_z, _("Depth factor"), 1)
  description (_("Depth of a pooling block, in slices of the stack "
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

property_boolean (sparse, _("Sparse"), FALSE)
  description (_("Treat background (pixels whose bytes are all zero; "
                 "with alpha also transparent or black pixels) as empty: "
                 "it wins a block only when the whole block is "
                 "background"))

#else

#define GEGL_OP_FILTER
#define GEGL_OP_NAME     seg_mode_pool
#define GEGL_OP_C_SOURCE seg-mode-pool.c

#include "gegl-op.h"
/* clang-format on */

#include "seg-pool-op.h"

static SegPoolRequest
request_of (GeglOperation *operation)
{
  GeglProperties *o = GEGL_PROPERTIES (operation);

  return (SegPoolRequest){ .op_name = "seg:mode-pool",
                           .factors = { o->factor_x, o->factor_y, o->factor_z },
                           .depth   = o->depth };
}

static const SegPoolOp mode_pool = { request_of, seg_pool_source_format };

static void
gegl_op_class_init (GeglOpClass *klass)
{
  seg_pool_op_class_init (GEGL_OPERATION_CLASS (klass), &mode_pool,
                          seg_pool_op_mode_process);

  gegl_operation_class_set_keys (
    GEGL_OPERATION_CLASS (klass), "name", "seg:mode-pool", "title",
    _ ("Mode Pool"), "categories", "segmentation:scale", "description",
    _ ("Downsamples a label image or a stack of slices by "
       "blocks of factor-x × factor-y × factor-z pixels; each "
       "output pixel is the most frequent label of its block "
       "(COUNTLESS ties for 2×2, otherwise the first tied label "
       "in raster order). Labels are kept byte for byte in the "
       "input's own format."),
    /* GIMP 3 lists ops with these keys in its menus; 2.10 ignores them. */
    "gimp:menu-path", "<Image>/Filters/Segmentation", "gimp:menu-label",
    _ ("Mode Pool..."), NULL);
}

#endif
