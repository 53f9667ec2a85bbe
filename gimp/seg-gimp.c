/* SPDX-License-Identifier: LGPL-3.0-or-later
 *
 * seg-gimp — the gegl-seg pooling ops as GIMP 2.10 filters and PDB
 * procedures: Filters → Segmentation → Mode Pool…, Countless 3D… and
 * Sparse Average…, and plug-in-seg-mode-pool, plug-in-seg-countless-3d and
 * plug-in-seg-sparse-average for Script-Fu and batch mode.
 *
 * GIMP's own GEGL tool runs a filter op inside the layer's bounds: a
 * shrinking op leaves the rest of the layer as padding, and an op that
 * refuses its settings blackens the layer.  These procedures instead pool
 * whole layers on the image's block grid, resize the image and the layers
 * to the pooled size, and refuse settings the image cannot serve with a
 * message before anything changes; all as one undo step.
 */
#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>
#include <libgimp/gimp.h>

#include "seg-gimp.h"

/* clang-format off */
static const SegGimpProcedure procedures[] = {
  { "plug-in-seg-mode-pool", "seg:mode-pool", N_("Mode Pool"), N_("_Mode Pool..."),
    N_("Downsample labels by the most frequent label of each block"),
    N_("Pools every layer (or the active one) by blocks of factor-x × "
       "factor-y pixels (and factor-z slices of a stack of depth slices "
       "stacked top to bottom), keeping the most frequent label of each "
       "block byte for byte, and shrinks the image to the pooled size. "
       "Blocks start at the image's top-left corner; with sparse, "
       "background (black, transparent or all-zero pixels) wins only a "
       "block of background."),
    "*", TRUE, FALSE, { 2, 2, 1, 1, FALSE, TRUE } },
  { "plug-in-seg-countless-3d", "seg:countless-3d", N_("Countless 3D"),
    N_("_Countless 3D..."),
    N_("Downsample a stack of label slices by 2×2×2 blocks"),
    N_("Pools every layer (or the active one), a stack of depth slices "
       "stacked top to bottom, by the most frequent label of each 2×2×2 "
       "block, and shrinks the image to the pooled size."),
    "*", FALSE, FALSE, { 2, 2, 2, 2, FALSE, TRUE } },
  { "plug-in-seg-sparse-average", "seg:sparse-average", N_("Sparse Average"),
    N_("_Sparse Average..."),
    N_("Downsample by the mean of each block, leaving background out"),
    N_("Pools every layer (or the active one) by the mean of each block "
       "of factor-x × factor-y pixels (and factor-z slices), exactly, and "
       "shrinks the image to the pooled size. With sparse, background "
       "(black, transparent or all-zero pixels) is left out of the mean."),
    "RGB*, GRAY*", TRUE, TRUE, { 2, 2, 1, 1, TRUE, TRUE } },
};
/* clang-format on */

static const SegGimpProcedure *
procedure_named (const gchar *name)
{
  for (gsize i = 0; i < G_N_ELEMENTS (procedures); i++)
    if (strcmp (procedures[i].name, name) == 0)
      return &procedures[i];
  return NULL;
}

static void
query (void)
{
  static const GimpParamDef params[] = {
    { GIMP_PDB_INT32, "run-mode",
      "The run mode { RUN-INTERACTIVE (0), RUN-NONINTERACTIVE (1) }" },
    { GIMP_PDB_IMAGE, "image", "Input image" },
    { GIMP_PDB_DRAWABLE, "drawable",
      "The active layer (pooled alone when all-layers is FALSE)" },
    { GIMP_PDB_INT32, "factor-x", "Block width, 1 … 64" },
    { GIMP_PDB_INT32, "factor-y", "Block height in rows of one slice, 1 … 64" },
    { GIMP_PDB_INT32, "factor-z", "Block depth in slices, 1 … 64" },
    { GIMP_PDB_INT32, "depth",
      "Slices stacked top to bottom in each layer (1: a plain image); must "
      "divide the height" },
    { GIMP_PDB_INT32, "sparse", "Leave background out (TRUE, FALSE)" },
    { GIMP_PDB_INT32, "all-layers",
      "Pool every layer and resize the image (TRUE), or the active layer "
      "alone (FALSE)" },
  };
  /* Countless 3D: the same without the factors. */
  const GimpParamDef countless_params[] = { params[0], params[1], params[2],
                                            params[6], params[7], params[8] };

  gimp_plugin_domain_register (GETTEXT_PACKAGE, LOCALEDIR);
  for (gsize i = 0; i < G_N_ELEMENTS (procedures); i++)
    {
      const SegGimpProcedure *p = &procedures[i];

      gimp_install_procedure (
        p->name, p->blurb, p->help, "gegl-seg developers", "LGPL-3.0-or-later",
        "2026", p->menu_label, p->image_types, GIMP_PLUGIN,
        p->has_factors ? G_N_ELEMENTS (params)
                       : G_N_ELEMENTS (countless_params),
        0, p->has_factors ? params : countless_params, NULL);
      gimp_plugin_menu_register (p->name, "<Image>/Filters/Segmentation");
    }
}

/* The settings of a call: from its arguments (non-interactive), from the
 * last call (with last values, and to fill the dialog), or the
 * procedure's defaults. */
static gboolean
settings_from_params (const SegGimpProcedure *p,
                      gint                    n_params,
                      const GimpParam        *param,
                      SegGimpSettings        *s)
{
  *s = p->defaults;
  if (p->has_factors)
    {
      if (n_params != 9)
        return FALSE;
      s->factor_x   = param[3].data.d_int32;
      s->factor_y   = param[4].data.d_int32;
      s->factor_z   = param[5].data.d_int32;
      s->depth      = param[6].data.d_int32;
      s->sparse     = param[7].data.d_int32 != 0;
      s->all_layers = param[8].data.d_int32 != 0;
    }
  else
    {
      if (n_params != 6)
        return FALSE;
      s->depth      = param[3].data.d_int32;
      s->sparse     = param[4].data.d_int32 != 0;
      s->all_layers = param[5].data.d_int32 != 0;
    }
  return TRUE;
}

static void
settings_from_last_call (const SegGimpProcedure *p, SegGimpSettings *s)
{
  *s = p->defaults;
  gimp_get_data (p->name, s);
  if (!p->has_factors) /* 2×2×2 whatever was stored */
    s->factor_x = s->factor_y = s->factor_z = 2;
}

static void
run (const gchar     *name,
     gint             n_params,
     const GimpParam *param,
     gint            *n_return_vals,
     GimpParam      **return_vals)
{
  static GimpParam        values[2];
  const SegGimpProcedure *p        = procedure_named (name);
  const GimpRunMode       run_mode = param[0].data.d_int32;
  SegGimpSettings         s;
  gchar                  *problem = NULL;

  INIT_I18N ();
  gegl_init (NULL, NULL);
  *n_return_vals          = 1;
  *return_vals            = values;
  values[0].type          = GIMP_PDB_STATUS;
  values[0].data.d_status = GIMP_PDB_SUCCESS;

  if (p == NULL)
    {
      values[0].data.d_status = GIMP_PDB_CALLING_ERROR;
      return;
    }
  switch (run_mode)
    {
    case GIMP_RUN_INTERACTIVE:
      settings_from_last_call (p, &s);
      if (!seg_gimp_dialog (p, param[1].data.d_image, &s))
        {
          values[0].data.d_status = GIMP_PDB_CANCEL;
          return;
        }
      break;
    case GIMP_RUN_WITH_LAST_VALS: settings_from_last_call (p, &s); break;
    default:
      if (!settings_from_params (p, n_params, param, &s))
        {
          values[0].data.d_status = GIMP_PDB_CALLING_ERROR;
          return;
        }
      break;
    }

  problem = seg_gimp_pool_image (p, param[1].data.d_image,
                                 param[2].data.d_drawable, &s);
  if (problem != NULL)
    {
      /* Shown in GIMP's message area or dialog; in batch mode the caller
       * gets it as the procedure's error. */
      if (run_mode != GIMP_RUN_NONINTERACTIVE)
        gimp_message (problem);
      values[0].data.d_status = GIMP_PDB_CALLING_ERROR;
      values[1].type          = GIMP_PDB_STRING;
      values[1].data.d_string = problem; /* sent after run (): kept */
      *n_return_vals          = 2;
      return;
    }
  if (run_mode == GIMP_RUN_INTERACTIVE)
    gimp_set_data (p->name, &s, sizeof s);
  if (run_mode != GIMP_RUN_NONINTERACTIVE)
    gimp_displays_flush ();
}

const GimpPlugInInfo PLUG_IN_INFO = { NULL, NULL, query, run };

MAIN ()
