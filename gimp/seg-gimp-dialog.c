/* SPDX-License-Identifier: LGPL-3.0-or-later
 *
 * The settings dialog of the plug-in's filters: the factors (1 … 64, as
 * the ops' ranges), the depth, sparse and which layers, with the size the
 * image will have; OK stays off while the settings cannot serve the
 * image, and a line says why.
 */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <libgimp/gimp.h>
#include <libgimp/gimpui.h>

#include "seg-gimp.h"

typedef struct
{
  const SegGimpProcedure *p;
  gint32                  image, drawable;
  SegGimpSettings        *s;
  GtkWidget              *dialog;
  GtkWidget              *status; /* the result's size, or the problem */
} Dialog;

static void
update_status (Dialog *d)
{
  gchar *problem = seg_gimp_check (d->p, d->image, d->drawable, d->s);
  gchar *text;

  if (problem != NULL)
    text = problem;
  else if (d->s->all_layers)
    {
      gint width, height;

      seg_gimp_pooled_image_size (d->image, d->s, &width, &height);
      text = g_strdup_printf (_ ("The image becomes %d × %d pixels."), width,
                              height);
    }
  else
    text = g_strdup (_ ("The active layer shrinks; the canvas stays."));
  gtk_label_set_text (GTK_LABEL (d->status), text);
  gtk_dialog_set_response_sensitive (GTK_DIALOG (d->dialog), GTK_RESPONSE_OK,
                                     problem == NULL);
  g_free (text);
}

static void
int_changed (GtkAdjustment *adjustment, Dialog *d)
{
  gint *value = g_object_get_data (G_OBJECT (adjustment), "value");

  *value = (gint) gtk_adjustment_get_value (adjustment);
  update_status (d);
}

static void
toggle_changed (GtkToggleButton *button, Dialog *d)
{
  gboolean *value = g_object_get_data (G_OBJECT (button), "value");

  *value = gtk_toggle_button_get_active (button);
  update_status (d);
}

static void
add_spin (Dialog      *d,
          GtkWidget   *table,
          gint         row,
          const gchar *label,
          gint        *value,
          gint         upper)
{
  GtkObject *adjustment;

  adjustment =
    gimp_scale_entry_new (GTK_TABLE (table), 0, row, label, 160, 6, *value, 1,
                          upper, 1, 2, 0, TRUE, 1, upper, NULL, NULL);
  g_object_set_data (G_OBJECT (adjustment), "value", value);
  g_signal_connect (adjustment, "value-changed", G_CALLBACK (int_changed), d);
}

static void
add_toggle (Dialog *d, GtkWidget *box, const gchar *label, gboolean *value)
{
  GtkWidget *button = gtk_check_button_new_with_mnemonic (label);

  gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (button), *value);
  g_object_set_data (G_OBJECT (button), "value", value);
  g_signal_connect (button, "toggled", G_CALLBACK (toggle_changed), d);
  gtk_box_pack_start (GTK_BOX (box), button, FALSE, FALSE, 0);
  gtk_widget_show (button);
}

gboolean
seg_gimp_dialog (const SegGimpProcedure *p, gint32 image, SegGimpSettings *s)
{
  SegGimpSettings edited = *s;
  Dialog          d = { p,       image, gimp_image_get_active_drawable (image),
                        &edited, NULL,  NULL };
  GtkWidget      *box, *table;
  gint            row = 0;
  gboolean        ok;

  gimp_ui_init ("seg-gimp", FALSE);
  d.dialog = gimp_dialog_new (
    gettext (p->title), "seg-gimp", NULL, 0, gimp_standard_help_func, p->name,
    _ ("_Cancel"), GTK_RESPONSE_CANCEL, _ ("_OK"), GTK_RESPONSE_OK, NULL);
  gimp_window_set_transient (GTK_WINDOW (d.dialog));

  box = gtk_vbox_new (FALSE, 12);
  gtk_container_set_border_width (GTK_CONTAINER (box), 12);
  gtk_box_pack_start (
    GTK_BOX (gtk_dialog_get_content_area (GTK_DIALOG (d.dialog))), box, TRUE,
    TRUE, 0);

  table = gtk_table_new (4, 3, FALSE);
  gtk_table_set_col_spacings (GTK_TABLE (table), 6);
  gtk_table_set_row_spacings (GTK_TABLE (table), 6);
  gtk_box_pack_start (GTK_BOX (box), table, FALSE, FALSE, 0);
  if (p->has_factors)
    {
      add_spin (&d, table, row++, _ ("Horizontal factor:"), &edited.factor_x,
                64);
      add_spin (&d, table, row++, _ ("Vertical factor:"), &edited.factor_y, 64);
      add_spin (&d, table, row++, _ ("Depth factor:"), &edited.factor_z, 64);
    }
  add_spin (&d, table, row++, _ ("Depth (slices):"), &edited.depth,
            MAX (gimp_image_height (image), 1));

  add_toggle (&d, box, _ ("_Sparse: leave background out"), &edited.sparse);
  add_toggle (&d, box, _ ("Pool _every layer and resize the image"),
              &edited.all_layers);

  d.status = gtk_label_new (NULL);
  gtk_label_set_line_wrap (GTK_LABEL (d.status), TRUE);
  /* Wrapped to the width of the settings, however long the message. */
  gtk_widget_set_size_request (d.status, 360, -1);
  gtk_misc_set_alignment (GTK_MISC (d.status), 0.0, 0.5);
  gtk_box_pack_start (GTK_BOX (box), d.status, FALSE, FALSE, 0);
  update_status (&d);

  gtk_widget_show_all (d.dialog);
  ok = gimp_dialog_run (GIMP_DIALOG (d.dialog)) == GTK_RESPONSE_OK;
  gtk_widget_destroy (d.dialog);
  if (ok)
    *s = edited;
  return ok;
}
