/* SPDX-License-Identifier: LGPL-3.0-or-later
 *
 * The gegl-seg module: registers every op of the bundle with GEGL and binds
 * the module's translations.
 */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <gegl-plugin.h>

#include "module-ops.h"
#include "seg-mapped-buffer.h"
#include "seg-npy-common.h"
#include "seg-stack.h"

static const GeglModuleInfo modinfo = { GEGL_MODULE_ABI_VERSION };

G_MODULE_EXPORT const GeglModuleInfo *gegl_module_query (GTypeModule *module);
G_MODULE_EXPORT gboolean    gegl_module_register (GTypeModule *module);
G_MODULE_EXPORT GeglBuffer *seg_buffer_new_for_memory (gconstpointer pixels,
                                                       gint          width,
                                                       gint          height,
                                                       const Babl   *format,
                                                       gint slice_height,
                                                       GDestroyNotify release,
                                                       gpointer release_data);
G_MODULE_EXPORT gboolean    seg_node_render_to_memory (GeglNode            *node,
                                                       const GeglRectangle *rect,
                                                       const Babl          *format,
                                                       gpointer             pixels,
                                                       gint rowstride);

G_MODULE_EXPORT const GeglModuleInfo *
gegl_module_query (GTypeModule *module)
{
  return &modinfo;
}

G_MODULE_EXPORT gboolean
gegl_module_register (GTypeModule *module)
{
  /* GEGL_SEG_LOCALEDIR: the catalogues of a build that is not installed
   * (the tests use the build's). */
  const gchar *localedir = g_getenv ("GEGL_SEG_LOCALEDIR");

  bindtextdomain (GETTEXT_PACKAGE, localedir != NULL && *localedir != '\0'
                                     ? localedir
                                     : LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");

  seg_npy_register_formats ();
  seg_mapped_buffer_register_type (module);
  gegl_op_seg_mode_pool_register_type (module);
  gegl_op_seg_countless_3d_register_type (module);
  gegl_op_seg_sparse_average_register_type (module);
  gegl_op_seg_npy_load_register_type (module);
  gegl_op_seg_npy_save_register_type (module);
  gegl_op_seg_label_stats_register_type (module);
  gegl_op_seg_descent_direction_register_type (module);
  gegl_op_seg_resample_3d_register_type (module);
  /* After every op: .npy files must reach seg:npy-save, not gegl:npy-save. */
  seg_npy_register_saver (module);
  return TRUE;
}

/* For programs that hold pixels in memory (the Python package calls it
 * through ctypes, after GEGL loaded the module): a read-only buffer of
 * width × height pixels of format over them, rows without gaps, without a
 * copy.  It is marked forked, so no op writes into it in place.
 * release (release_data) runs when GEGL no longer holds any of it.  NULL
 * when the memory cannot be used so (unaligned, rows too long): copy. */
G_MODULE_EXPORT GeglBuffer *
seg_buffer_new_for_memory (gconstpointer  pixels,
                           gint           width,
                           gint           height,
                           const Babl    *format,
                           gint           slice_height,
                           GDestroyNotify release,
                           gpointer       release_data)
{
  const GeglRectangle extent = { 0, 0, width, height };
  GeglBuffer         *buffer;

  if (width <= 0 || height <= 0 || format == NULL)
    return NULL;
  buffer = seg_mapped_buffer_new_for_memory (
    pixels, &extent, format, slice_height, release, release_data);
  if (buffer != NULL)
    gegl_object_set_has_forked (G_OBJECT (buffer));
  return buffer;
}

/* For the same programs: rect of node's output rendered into pixels (rows
 * rowstride bytes apart, in format).  The volume ops write their output
 * there directly, sparing GEGL's copy out of their tiles; TRUE when all
 * of rect was rendered so, FALSE when the caller must render it with
 * gegl_node_blit () (another op or format). */
G_MODULE_EXPORT gboolean
seg_node_render_to_memory (GeglNode            *node,
                           const GeglRectangle *rect,
                           const Babl          *format,
                           gpointer             pixels,
                           gint                 rowstride)
{
  if (!GEGL_IS_NODE (node) || rect == NULL || format == NULL)
    return FALSE;
  return seg_stack_render_to_memory (node, rect, format, pixels, rowstride);
}
