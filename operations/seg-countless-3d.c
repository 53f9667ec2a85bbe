/* SPDX-License-Identifier: LGPL-3.0-or-later
 *
 * seg:countless-3d — 2×2×2 mode pooling of a label volume held as a stack
 * of slices: each output voxel is the most frequent label of its 2×2×2
 * block, ties going to the label that occurs first in raster order, as in
 * tinybrain's countless3d.  It is seg:mode-pool with factors 2, 2, 2.
 */
#include "config.h"

#include <glib/gi18n-lib.h>

/* GEGL's property and op declarations, laid out as GEGL's own ops do. */
/* clang-format off */
#ifdef GEGL_PROPERTIES

property_int (depth, _("Depth"), 2)
  description (_("Number of slices in the input: a volume of D slices of "
                 "W×H pixels is a W×(H·D) image, slice z holding rows "
                 "z·H to z·H+H-1. Must divide the input height."))
  value_range (1, G_MAXINT)
  ui_range    (1, 1024)

property_boolean (sparse, _("Sparse"), FALSE)
  description (_("Treat background (pixels whose bytes are all zero; "
                 "with alpha also transparent or black pixels) as empty: "
                 "it wins a block only when the whole block is "
                 "background"))

#else

#define GEGL_OP_FILTER
#define GEGL_OP_NAME     seg_countless_3d
#define GEGL_OP_C_SOURCE seg-countless-3d.c

#include "gegl-op.h"
/* clang-format on */

#include "seg-pool-op.h"

static SegPoolRequest
request_of (GeglOperation *operation)
{
  GeglProperties *o = GEGL_PROPERTIES (operation);

  return (SegPoolRequest){ .op_name = "seg:countless-3d",
                           .factors = { 2, 2, 2 },
                           .depth   = o->depth };
}

static const SegPoolOp countless_3d = { request_of, seg_pool_source_format };

static void
gegl_op_class_init (GeglOpClass *klass)
{
  seg_pool_op_class_init (GEGL_OPERATION_CLASS (klass), &countless_3d,
                          seg_pool_op_mode_process);

  gegl_operation_class_set_keys (
    GEGL_OPERATION_CLASS (klass), "name", "seg:countless-3d", "title",
    _ ("Countless 3D"), "categories", "segmentation:scale", "description",
    _ ("Halves a label volume, held as a stack of depth slices, "
       "on every axis: each output voxel is the most frequent "
       "label of its 2×2×2 block, ties going to the first tied "
       "label in raster order. Labels are kept byte for byte in "
       "the input's own format."),
    /* GIMP 3 lists ops with these keys in its menus; 2.10 ignores them. */
    "gimp:menu-path", "<Image>/Filters/Segmentation", "gimp:menu-label",
    _ ("Countless 3D..."), NULL);
}

#endif
