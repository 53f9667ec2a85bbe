/* SPDX-License-Identifier: LGPL-3.0-or-later
 *
 * Pooling an image's layers with a gegl-seg op, in the plug-in's own
 * GEGL: each layer's buffer in its own format (labels are never
 * converted), the op's output written back into the layer shrunk to the
 * pooled size.  Every check comes before the first change, so that a
 * refused call leaves the image as it was.
 */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <libgimp/gimp.h>

#include "seg-gimp.h"
#include "seg-volume.h"

/* Rows of a layer of height rows, a stack of depth slices, once pooled. */
static gint
pooled_height (gint height, const SegGimpSettings *s)
{
  return seg_pooled_size (height / s->depth, s->factor_y) *
         seg_pooled_size (s->depth, s->factor_z);
}

void
seg_gimp_pooled_image_size (gint32                 image,
                            const SegGimpSettings *s,
                            gint                  *width,
                            gint                  *height)
{
  *width  = seg_pooled_size (gimp_image_width (image), s->factor_x);
  *height = pooled_height (gimp_image_height (image), s);
}

static void
add_leaf_layers (GArray *layers, gint32 item)
{
  if (gimp_item_is_group (item))
    {
      gint  n;
      gint *children = gimp_item_get_children (item, &n);

      for (gint i = 0; i < n; i++)
        add_leaf_layers (layers, children[i]);
      g_free (children);
    }
  else if (gimp_item_is_layer (item))
    g_array_append_val (layers, item);
}

/* The layers a call pools: every layer of the image (those inside layer
 * groups, which follow their children) or the drawable alone. */
static GArray *
layers_to_pool (gint32 image, gint32 drawable, const SegGimpSettings *s)
{
  GArray *layers = g_array_new (FALSE, FALSE, sizeof (gint32));

  if (s->all_layers)
    {
      gint  n;
      gint *top = gimp_image_get_layers (image, &n);

      for (gint i = 0; i < n; i++)
        add_leaf_layers (layers, top[i]);
      g_free (top);
    }
  else
    add_leaf_layers (layers, drawable);
  return layers;
}

static gchar *
check_settings (const SegGimpProcedure *p, const SegGimpSettings *s)
{
  const struct
  {
    const gchar *name;
    gint         value;
  } factors[] = {
    { "factor-x", s->factor_x },
    { "factor-y", s->factor_y },
    { "factor-z", s->factor_z },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (factors); i++)
    if (factors[i].value < 1 || factors[i].value > SEG_MAX_FACTOR)
      return g_strdup_printf (_ ("%s: %s is %d; it must be a whole number "
                                 "from 1 to %d."),
                              p->op, factors[i].name, factors[i].value,
                              SEG_MAX_FACTOR);
  if (s->depth < 1)
    return g_strdup_printf (_ ("%s: depth is %d; it must be at least 1."),
                            p->op, s->depth);
  return NULL;
}

/* The problem with pooling layer with s, or NULL.  image_height: the
 * canvas's, which a stack must fill. */
static gchar *
check_layer (const SegGimpProcedure *p,
             gint32                  layer,
             gint                    image_height,
             const SegGimpSettings  *s)
{
  gchar *name   = gimp_item_get_name (layer);
  gint   height = gimp_drawable_height (layer);
  gint   x, y;
  gchar *problem = NULL;

  gimp_drawable_offsets (layer, &x, &y);
  if (gimp_layer_get_mask (layer) != -1)
    problem = g_strdup_printf (_ ("%s: layer \"%s\" has a mask; apply or "
                                  "delete it first."),
                               p->op, name);
  else if (height % s->depth != 0)
    problem = g_strdup_printf (
      _ ("%s: depth is %d, which does not divide the height %d of layer "
         "\"%s\"; a stack of depth slices is depth images stacked top to "
         "bottom, so the depth must divide the height."),
      p->op, s->depth, height, name);
  else if (s->depth > 1 && (y != 0 || height != image_height))
    problem = g_strdup_printf (
      _ ("%s: layer \"%s\" is a stack of %d slices, so it must fill the "
         "image's height from its top edge; use Layer → Layer to Image "
         "Size."),
      p->op, name, s->depth);
  else if (x % s->factor_x != 0 || (s->depth == 1 && y % s->factor_y != 0))
    problem = g_strdup_printf (
      _ ("%s: layer \"%s\" starts at (%d, %d), which is not on the image's "
         "grid of %d × %d blocks; move it onto the grid or use Layer → "
         "Layer to Image Size."),
      p->op, name, x, y, s->factor_x, s->factor_y);
  g_free (name);
  return problem;
}

/* GEGL knows the op: the module is where the plug-in's GEGL looks. */
static gboolean
op_is_known (const gchar *op)
{
  return gegl_has_operation (op);
}

/* The problem with s for the image as a whole, before its layers. */
static gchar *
check_image (const SegGimpProcedure *p,
             gint32                  image,
             gint32                  drawable,
             const SegGimpSettings  *s)
{
  gint   image_height = gimp_image_height (image);
  gchar *problem      = check_settings (p, s);

  if (problem != NULL)
    return problem;
  if (!op_is_known (p->op))
    return g_strdup_printf (_ ("%s is not installed where GIMP's GEGL looks "
                               "for operations; see the gegl-seg GIMP "
                               "guide."),
                            p->op);
  if (gimp_image_get_floating_sel (image) != -1)
    return g_strdup_printf (_ ("%s: anchor or delete the floating selection "
                               "first."),
                            p->op);
  if (p->numeric && gimp_image_base_type (image) == GIMP_INDEXED)
    return g_strdup_printf (_ ("%s averages colours, which an indexed image "
                               "cannot hold; use Mode Pool, or Image → Mode "
                               "→ RGB first."),
                            p->op);
  if (s->all_layers && image_height % s->depth != 0)
    return g_strdup_printf (
      _ ("%s: depth is %d, which does not divide the image height %d; a "
         "stack of depth slices is depth images stacked top to bottom, so "
         "the depth must divide the height."),
      p->op, s->depth, image_height);
  if (!s->all_layers && !gimp_item_is_layer (drawable))
    return g_strdup_printf (_ ("%s pools layers: choose a layer, not a mask "
                               "or a channel."),
                            p->op);
  return NULL;
}

/* The problem with pooling layers (layers_to_pool ()'s) with s. */
static gchar *
check_layers (const SegGimpProcedure *p,
              gint32                  image,
              const GArray           *layers,
              const SegGimpSettings  *s)
{
  gchar *problem = NULL;

  if (layers->len == 0)
    return g_strdup_printf (_ ("%s: the image has no layer to pool."), p->op);
  for (guint i = 0; i < layers->len && problem == NULL; i++)
    problem = check_layer (p, g_array_index (layers, gint32, i),
                           gimp_image_height (image), s);
  return problem;
}

gchar *
seg_gimp_check (const SegGimpProcedure *p,
                gint32                  image,
                gint32                  drawable,
                const SegGimpSettings  *s)
{
  gchar  *problem = check_image (p, image, drawable, s);
  GArray *layers;

  if (problem != NULL)
    return problem;
  layers  = layers_to_pool (image, drawable, s);
  problem = check_layers (p, image, layers, s);
  g_array_free (layers, TRUE);
  return problem;
}

/* The layer's pixels pooled by p's op, in the layer's format; NULL with
 * *problem set when the op gives nothing. */
static GeglBuffer *
pool_layer (const SegGimpProcedure *p,
            gint32                  layer,
            const SegGimpSettings  *s,
            gchar                 **problem)
{
  GeglBuffer *source = gimp_drawable_get_buffer (layer);
  GeglNode   *graph  = gegl_node_new ();
  GeglNode   *input  = gegl_node_new_child (
       graph, "operation", "gegl:buffer-source", "buffer", source, NULL);
  GeglNode     *op = gegl_node_new_child (graph, "operation", p->op, "depth",
                                          s->depth, "sparse", s->sparse, NULL);
  GeglBuffer   *pooled = NULL;
  GeglRectangle box;

  if (p->has_factors)
    gegl_node_set (op, "factor-x", s->factor_x, "factor-y", s->factor_y,
                   "factor-z", s->factor_z, NULL);
  gegl_node_link (input, op);
  box = gegl_node_get_bounding_box (op);
  if (gegl_rectangle_is_empty (&box))
    {
      gchar *name = gimp_item_get_name (layer);

      *problem =
        g_strdup_printf (_ ("%s gave nothing for layer \"%s\"."), p->op, name);
      g_free (name);
    }
  else
    {
      pooled = gegl_buffer_new (&box, gegl_buffer_get_format (source));
      gegl_node_blit_buffer (op, pooled, &box, 0, GEGL_ABYSS_NONE);
    }
  g_object_unref (graph);
  g_object_unref (source);
  return pooled;
}

/* Shrinks layer to pooled's size at its place on the pooled grid and
 * writes pooled into it. */
static void
write_layer (gint32 layer, GeglBuffer *pooled, const SegGimpSettings *s)
{
  const GeglRectangle *box = gegl_buffer_get_extent (pooled);
  GeglBuffer          *target;
  gint                 x, y;

  gimp_drawable_offsets (layer, &x, &y);
  gimp_layer_resize (layer, box->width, box->height, 0, 0);
  gimp_layer_set_offsets (layer, x / s->factor_x,
                          s->depth > 1 ? 0 : y / s->factor_y);
  target = gimp_drawable_get_buffer (layer);
  gegl_buffer_copy (pooled, box, GEGL_ABYSS_NONE, target,
                    GEGL_RECTANGLE (0, 0, box->width, box->height));
  g_object_unref (target); /* sends the pixels to GIMP */
  gimp_drawable_update (layer, 0, 0, box->width, box->height);
}

gchar *
seg_gimp_pool_image (const SegGimpProcedure *p,
                     gint32                  image,
                     gint32                  drawable,
                     const SegGimpSettings  *s)
{
  gchar       *problem = check_image (p, image, drawable, s);
  GArray      *layers;
  GeglBuffer **pooled;
  gint         width, height;

  if (problem != NULL)
    return problem;
  layers = layers_to_pool (image, drawable, s);
  if ((problem = check_layers (p, image, layers, s)) != NULL)
    {
      g_array_free (layers, TRUE);
      return problem;
    }

  /* Every layer pooled before the first change. */
  pooled = g_new0 (GeglBuffer *, layers->len);
  gimp_progress_init (_ ("Pooling"));
  for (guint i = 0; i < layers->len && problem == NULL; i++)
    {
      pooled[i] =
        pool_layer (p, g_array_index (layers, gint32, i), s, &problem);
      gimp_progress_update ((gdouble) (i + 1) / layers->len);
    }

  if (problem == NULL)
    {
      gimp_image_undo_group_start (image);
      seg_gimp_pooled_image_size (image, s, &width, &height);
      if (s->all_layers)
        gimp_image_resize (image, width, height, 0, 0);
      for (guint i = 0; i < layers->len; i++)
        write_layer (g_array_index (layers, gint32, i), pooled[i], s);
      gimp_image_undo_group_end (image);
    }

  for (guint i = 0; i < layers->len; i++)
    g_clear_object (&pooled[i]);
  g_free (pooled);
  g_array_free (layers, TRUE);
  return problem;
}
