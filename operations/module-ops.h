/* SPDX-License-Identifier: LGPL-3.0-or-later
 *
 * The register functions that gegl-op.h defines in each op file of the
 * bundle (gegl_op_<GEGL_OP_NAME>_register_type).  Add a line per op.
 */
#ifndef SEG_MODULE_OPS_H
#define SEG_MODULE_OPS_H

#include <gegl-plugin.h>

void gegl_op_seg_mode_pool_register_type (GTypeModule *module);
void gegl_op_seg_countless_3d_register_type (GTypeModule *module);
void gegl_op_seg_sparse_average_register_type (GTypeModule *module);
void gegl_op_seg_npy_load_register_type (GTypeModule *module);
void gegl_op_seg_npy_save_register_type (GTypeModule *module);
void gegl_op_seg_label_stats_register_type (GTypeModule *module);
void gegl_op_seg_descent_direction_register_type (GTypeModule *module);
void gegl_op_seg_resample_3d_register_type (GTypeModule *module);

#endif
