/* SPDX-License-Identifier: LGPL-3.0-or-later
 *
 * seg:resample-3d — resizes an image, or a stack of depth slices, to
 * width × height × out-depth (0 keeps an axis), per axis as PyTorch's
 * F.interpolate with align_corners=False: nearest (nearest-exact, pixels
 * copied byte for byte, so labels of every format stay intact), linear
 * (trilinear) or area (adaptive average pooling), the last two on the
 * pixels' own numbers.  lib/seg-resample.h has the formulas in full.
 *
 * The stack layer maps the axes (SegAxis's resize kinds): GEGL's regions,
 * and bands of output rows that the kernel makes from only the input
 * rows and slices they read.
 */
#include "config.h"

#include <glib/gi18n-lib.h>

/* GEGL's property and op declarations, laid out as GEGL's own ops do. */
/* clang-format off */
#ifdef GEGL_PROPERTIES

enum_start (seg_resample_3d_mode)
  enum_value (SEG_RESAMPLE_3D_NEAREST, "nearest", N_("Nearest"))
  enum_value (SEG_RESAMPLE_3D_LINEAR,  "linear",  N_("Linear"))
  enum_value (SEG_RESAMPLE_3D_AREA,    "area",    N_("Area"))
enum_end (SegResample3dMode)

property_int (depth, _("Depth"), 1)
  description (_("Number of slices in the input: a volume of D slices of "
                 "W×H pixels is a W×(H·D) image, slice z holding rows "
                 "z·H to z·H+H-1. 1 means a plain image. Must divide the "
                 "input height."))
  value_range (1, G_MAXINT)
  ui_range    (1, 1024)

property_int (width, _("Width"), 0)
  description (_("Width of the output, in pixels: 1 to 65536, or 0 to "
                 "keep the input's"))
  ui_range    (0, 4096)
  ui_meta     ("unit", "pixel-distance")
  ui_meta     ("axis", "x")

property_int (height, _("Height"), 0)
  description (_("Height of one output slice, in rows: 1 to 65536, or 0 "
                 "to keep the input's"))
  ui_range    (0, 4096)
  ui_meta     ("unit", "pixel-distance")
  ui_meta     ("axis", "y")

property_int (out_depth, _("Output depth"), 0)
  description (_("Number of slices of the output: 1 to 65536, or 0 to "
                 "keep the input's"))
  ui_range    (0, 1024)

property_enum (mode, _("Mode"), SegResample3dMode, seg_resample_3d_mode,
               SEG_RESAMPLE_3D_NEAREST)
  description (_("Nearest copies the nearest pixel byte for byte (safe "
                 "for labels of any format); linear interpolates between "
                 "the two nearest pixels along each axis; area averages "
                 "the pixels each output pixel covers. Linear and area "
                 "compute with the pixels' own numbers."))

#else

#define GEGL_OP_FILTER
#define GEGL_OP_NAME     seg_resample_3d
#define GEGL_OP_C_SOURCE seg-resample-3d.c

#include "gegl-op.h"
/* clang-format on */

#include "seg-npy-common.h"
#include "seg-resample.h"
#include "seg-stack.h"

#define OP_NAME "seg:resample-3d"

/* An output size property: NULL when 0 (keep size) or 1 … MAX, with the
 * size in *size; else a message for the user. */
static gchar *
size_problem (const gchar *name, gint value, gint keep, gint *size)
{
  if (value < 0 || value > SEG_RESAMPLE_MAX_SIZE)
    return g_strdup_printf (_ ("%s: %s is %d; it must be 0 (to keep the "
                               "input's) or 1 to %d. The output is empty."),
                            OP_NAME, name, value, SEG_RESAMPLE_MAX_SIZE);
  *size = value != 0 ? value : keep;
  return NULL;
}

/* NULL when the properties can be served on an input of this extent,
 * with *map set (map may be NULL); else a message for the user
 * (SegStackProblemFunc). */
static gchar *
problem_of (GeglOperation       *operation,
            const GeglRectangle *input,
            SegStackMap         *map)
{
  GeglProperties     *o     = GEGL_PROPERTIES (operation);
  const SegStackCheck check = { OP_NAME, _ ("there is nothing to resample"),
                                _ ("The output is empty.") };
  static const SegAxisKind kinds[] = { SEG_AXIS_NEAREST, SEG_AXIS_LINEAR,
                                       SEG_AXIS_AREA };
  SegStack                 stack;
  gint                     w = 0, h = 0, d = 0;
  gchar                   *problem;

  if ((problem = seg_stack_check (&check, input, o->depth, &stack)) != NULL)
    return problem;
  if (stack.width > SEG_RESAMPLE_MAX_SIZE ||
      stack.slice_height > SEG_RESAMPLE_MAX_SIZE)
    return g_strdup_printf (_ ("%s: the input's slices are %d × %d pixels; "
                               "it resamples at most %d along each axis. The "
                               "output is empty."),
                            OP_NAME, stack.width, stack.slice_height,
                            SEG_RESAMPLE_MAX_SIZE);
  if ((problem = size_problem ("width", o->width, stack.width, &w)) != NULL ||
      (problem = size_problem ("height", o->height, stack.slice_height, &h)) !=
        NULL ||
      (problem = size_problem ("out-depth", o->out_depth, stack.depth, &d)) !=
        NULL)
    return problem;
  if ((gint64) h * d > G_MAXINT)
    return g_strdup_printf (_ ("%s: %d slices of %d rows are more rows than "
                               "a GEGL image holds (%d). The output is "
                               "empty."),
                            OP_NAME, d, h, G_MAXINT);
  if (map != NULL)
    {
      const SegAxisKind kind = kinds[o->mode];

      map->in    = stack;
      map->x     = seg_axis_resize (kind, stack.width, w);
      map->y     = seg_axis_resize (kind, stack.slice_height, h);
      map->z     = seg_axis_resize (kind, stack.depth, d);
      map->out_x = stack.x;
      map->out_y = stack.y;
    }
  return NULL;
}

/* TRUE, with *map set, when the op can serve its input. */
static gboolean
map_of (GeglOperation *operation, SegStackMap *map)
{
  return seg_stack_map_by (operation, problem_of, map);
}

/* The format the op reads and writes: nearest keeps the source's, bytes
 * and all; linear and area the source's where they have arithmetic for
 * its numbers (seg_numbers_format ()). */
static const Babl *
format_of (GeglOperation *operation)
{
  GeglProperties *o  = GEGL_PROPERTIES (operation);
  const Babl *source = gegl_operation_get_source_format (operation, "input");

  if (o->mode == SEG_RESAMPLE_3D_NEAREST)
    return source != NULL ? source : babl_format ("RGBA float");
  return seg_numbers_format (operation);
}

static void
prepare (GeglOperation *operation)
{
  const Babl *format = format_of (operation);

  gegl_operation_set_format (operation, "input", format);
  gegl_operation_set_format (operation, "output", format);
  seg_stack_report_problem (operation, problem_of);
}

/* The kernel as the band driver calls it. */
static SegStatus
band_kernel (const SegVolume    *in,
             const SegVolume    *out,
             const SegStackBand *band,
             gpointer            resample)
{
  const int in_at[3]  = { band->in_x0, band->in_y0, band->in_z0 };
  const int out_at[3] = { band->out_x0, band->out_y0, band->out_z };

  return seg_resample (in, in_at, out, out_at, resample);
}

static gboolean
process (GeglOperation       *operation,
         GeglBuffer          *input,
         GeglBuffer          *output,
         const GeglRectangle *roi,
         gint                 level)
{
  static const SegResampleMode modes[] = { SEG_RESAMPLE_NEAREST,
                                           SEG_RESAMPLE_LINEAR,
                                           SEG_RESAMPLE_AREA };
  GeglProperties              *o       = GEGL_PROPERTIES (operation);
  const Babl                  *format  = format_of (operation);
  SegStackMap                  map;
  SegResample                  resample = { .mode = modes[o->mode] };
  SegStackJob                  job;

  if (!map_of (operation, &map))
    return TRUE;
  if (resample.mode != SEG_RESAMPLE_NEAREST &&
      !seg_format_layout (format, &resample.layout))
    return FALSE;
  resample.in_size[0]  = map.x.in_size;
  resample.in_size[1]  = map.y.in_size;
  resample.in_size[2]  = map.z.in_size;
  resample.out_size[0] = map.x.out_size;
  resample.out_size[1] = map.y.out_size;
  resample.out_size[2] = map.z.out_size;
  job                  = (SegStackJob){ .map        = &map,
                                        .in_format  = format,
                                        .out_format = format,
                                        .input      = input,
                                        .output     = output,
                                        .kernel     = band_kernel,
                                        .data       = &resample,
                                        .operation  = operation };
  return seg_stack_process (&job, OP_NAME, roi);
}

/* A stack of out-depth slices; a volume stays one, even resized to one
 * slice. */
static SegStackOutput
stack_output (GeglOperation *operation)
{
  GeglProperties *o = GEGL_PROPERTIES (operation);
  SegStackOutput  output;

  output.depth  = o->out_depth > 0 ? o->out_depth : MAX (o->depth, 1);
  output.n_dims = o->depth > 1 || o->out_depth > 1 ? 3 : 2;
  return output;
}

static void
gegl_op_class_init (GeglOpClass *klass)
{
  GeglOperationClass       *operation_class = GEGL_OPERATION_CLASS (klass);
  GeglOperationFilterClass *filter_class = GEGL_OPERATION_FILTER_CLASS (klass);

  operation_class->prepare = prepare;
  seg_stack_class_set_regions (operation_class, map_of);
  filter_class->process = process;
  seg_stack_class_set_output (operation_class, stack_output);

  gegl_operation_class_set_keys (
    operation_class, "name", OP_NAME, "title", _ ("Resample 3D"), "categories",
    "segmentation:scale", "description",
    _ ("Resizes an image, or a stack of slices, to any width, height and "
       "depth (0 keeps an axis), as PyTorch's interpolate with "
       "align_corners=False: nearest copies pixels byte for byte, so "
       "labels of any format stay intact; linear interpolates and area "
       "averages, on the pixels' own numbers (a straight alpha "
       "premultiplied), rounding integer formats to nearest."),
    NULL);
}

#endif
