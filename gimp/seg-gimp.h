/* SPDX-License-Identifier: LGPL-3.0-or-later
 *
 * What the parts of the GIMP plug-in share: its procedures, their
 * settings, the dialog and the pooling of an image.
 */
#ifndef SEG_GIMP_H
#define SEG_GIMP_H

#include <libgimp/gimp.h>

G_BEGIN_DECLS

/* Binds the plug-in's strings to gegl-seg's catalogues. */
#define INIT_I18N()                                     \
  G_STMT_START                                          \
  {                                                     \
    bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);        \
    bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8"); \
    textdomain (GETTEXT_PACKAGE);                       \
  }                                                     \
  G_STMT_END

/* A call's settings, as the op's properties, and whether it pools every
 * layer (and resizes the image) or the active layer alone.  Stored with
 * gimp_set_data () for Filters → Repeat Last: plain values only. */
typedef struct
{
  gint     factor_x, factor_y, factor_z;
  gint     depth;
  gboolean sparse;
  gboolean all_layers;
} SegGimpSettings;

/* One PDB procedure and the op it runs. */
typedef struct
{
  const gchar    *name;       /* plug-in-seg-…                        */
  const gchar    *op;         /* seg:…                                */
  const gchar    *title;      /* the dialog's                         */
  const gchar    *menu_label; /* under Filters → Segmentation         */
  const gchar    *blurb;
  const gchar    *help;
  const gchar    *image_types;
  gboolean        has_factors; /* else 2×2×2 (countless 3D)            */
  gboolean        numeric;     /* averages numbers: no indexed images  */
  SegGimpSettings defaults;
} SegGimpProcedure;

/* Shows the settings dialog, filled with *s; TRUE with *s changed when
 * the user chose OK. */
gboolean
seg_gimp_dialog (const SegGimpProcedure *p, gint32 image, SegGimpSettings *s);

/* Pools the image's layers (or the layer drawable alone) with p's op and
 * s, and shrinks them and the image to the pooled size, as one undo
 * step.  NULL, or a message (free it) saying why nothing was changed. */
gchar *seg_gimp_pool_image (const SegGimpProcedure *p,
                            gint32                  image,
                            gint32                  drawable,
                            const SegGimpSettings  *s);

/* The size of the image once every layer is pooled with s. */
void seg_gimp_pooled_image_size (gint32                 image,
                                 const SegGimpSettings *s,
                                 gint                  *width,
                                 gint                  *height);

/* The problem with s for the image (or the drawable alone); NULL when
 * the image can be pooled with s. */
gchar *seg_gimp_check (const SegGimpProcedure *p,
                       gint32                  image,
                       gint32                  drawable,
                       const SegGimpSettings  *s);

G_END_DECLS

#endif
