/* SPDX-License-Identifier: LGPL-3.0-or-later
 *
 * seg:descent-direction — for every pixel of an image, or voxel of a stack
 * of slices, the index of the neighbour of steepest descent (the 3-D
 * analogue of hydrology's D8 flow direction), as Y u8: in 3-D (dz+1)·9 +
 * (dy+1)·3 + (dx+1), the centre 13; in 2-D (depth 1) (dy+1)·3 + (dx+1),
 * the centre 4.  Scores are (centre − neighbour) / distance in physical
 * units (spacing-x, -y, -z), in double precision from the pixels' numbers,
 * ties to the lowest index; strict local minima and NaN centres point at
 * the centre.  lib/seg-descent.h has the rules in full.
 *
 * A stack's slices are neighbours only along z.  A few output rows of
 * slice z need rows of slices z − 1 and z + 1; GEGL asks for one input
 * rectangle, which for them spans the two whole slices between, but the
 * band driver of the stack layer (seg-stack-process.c) reads only the
 * rows each band needs, so the op's own work per output voxel stays the
 * same whatever regions GEGL asks for.  Where a region holds whole
 * slices, a band holds up to SEG_DESCENT_SLAB of them, whose rows the
 * kernel shares: each input row is then copied and read about once, not
 * three times.  What the rectangle costs
 * upstream is GEGL's: nothing from a loaded volume (seg:npy-load hands
 * over the whole image), and from an op that computes, the rows between
 * too (docs/descent-direction.md measures both).
 */
#include "config.h"

#include <glib/gi18n-lib.h>

#include <math.h>

/* GEGL's property and op declarations, laid out as GEGL's own ops do. */
/* clang-format off */
#ifdef GEGL_PROPERTIES

property_int (depth, _("Depth"), 1)
  description (_("Number of slices in the input: a volume of D slices of "
                 "W×H pixels is a W×(H·D) image, slice z holding rows "
                 "z·H to z·H+H-1. 1 means a plain image. Must divide the "
                 "input height."))
  value_range (1, G_MAXINT)
  ui_range    (1, 1024)

property_double (spacing_x, _("Spacing x"), 1.0)
  description (_("Distance between neighbouring pixels along x, in any "
                 "physical unit (a positive number)"))
  ui_range    (0.01, 100.0)

property_double (spacing_y, _("Spacing y"), 1.0)
  description (_("Distance between neighbouring rows along y, in the "
                 "unit of spacing x (a positive number)"))
  ui_range    (0.01, 100.0)

property_double (spacing_z, _("Spacing z"), 1.0)
  description (_("Distance between neighbouring slices along z, in the "
                 "unit of spacing x (a positive number)"))
  ui_range    (0.01, 100.0)

#else

#define GEGL_OP_FILTER
#define GEGL_OP_NAME     seg_descent_direction
#define GEGL_OP_C_SOURCE seg-descent-direction.c

#include "gegl-op.h"
/* clang-format on */

#include "seg-descent.h"
#include "seg-npy-common.h"
#include "seg-stack.h"

#define OP_NAME "seg:descent-direction"

/* NULL when the properties can be served on an input of this extent,
 * with *map set (map may be NULL); else a message for the user
 * (SegStackProblemFunc). */
static gchar *
problem_of (GeglOperation       *operation,
            const GeglRectangle *input,
            SegStackMap         *map)
{
  GeglProperties     *o         = GEGL_PROPERTIES (operation);
  const SegStackCheck check     = { OP_NAME, _ ("there is nothing to label"),
                                    _ ("The output is empty.") };
  const gchar        *names[3]  = { "spacing-x", "spacing-y", "spacing-z" };
  const gdouble       values[3] = { o->spacing_x, o->spacing_y, o->spacing_z };
  SegStack            stack;
  gchar              *problem;

  for (gint a = 0; a < 3; a++)
    if (!(values[a] > 0) || !isfinite (values[a]))
      return g_strdup_printf (_ ("%s: %s is %g; it must be a positive, "
                                 "finite number. The output is empty."),
                              OP_NAME, names[a], values[a]);
  if ((problem = seg_stack_check (&check, input, o->depth, &stack)) != NULL)
    return problem;
  if (map != NULL)
    {
      map->in    = stack;
      map->x     = seg_axis_same (stack.width, 1);
      map->y     = seg_axis_same (stack.slice_height, 1);
      map->z     = seg_axis_same (stack.depth, 1);
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

/* The format the op reads, and how the kernel reads its numbers: a
 * one-number format as it is (the .npy formats as their dtype), half as
 * float (exactly), any other format as its luminance in double, Y' for
 * perceptual models and Y for linear ones (DESIGN.md "Pixels as
 * numbers"). */
static const Babl *
input_format_of (GeglOperation *operation, SegComponentType *type)
{
  const Babl   *source = gegl_operation_get_source_format (operation, "input");
  const Babl   *space  = source ? babl_format_get_space (source) : NULL;
  SegNumbers    numbers;
  BablModelFlag flags;

  if (source != NULL && seg_format_numbers (source, &numbers) &&
      numbers.n == 1 && numbers.type != SEG_TYPE_HALF)
    {
      *type = numbers.type;
      return source;
    }
  if (source != NULL && seg_format_numbers (source, &numbers) && numbers.n == 1)
    {
      gchar      *name;
      const Babl *as_float;

      *type    = SEG_TYPE_FLOAT;
      name     = g_strdup_printf ("%s float",
                                  babl_get_name (babl_format_get_model (source)));
      as_float = babl_format_with_space (name, space);
      g_free (name);
      return as_float;
    }
  *type = SEG_TYPE_DOUBLE;
  flags = source ? babl_get_model_flags (babl_format_get_model (source)) : 0;
  return babl_format_with_space (
    flags & (BABL_MODEL_FLAG_NONLINEAR | BABL_MODEL_FLAG_PERCEPTUAL)
      ? "Y' double"
      : "Y double",
    space);
}

static void
prepare (GeglOperation *operation)
{
  SegComponentType type;

  gegl_operation_set_format (operation, "input",
                             input_format_of (operation, &type));
  gegl_operation_set_format (operation, "output", babl_format ("Y u8"));
  seg_stack_report_problem (operation, problem_of);
}

/* The kernel as the band driver calls it: the band's output voxels are
 * the input view's from the band's offset on. */
static SegStatus
band_kernel (const SegVolume    *in,
             const SegVolume    *out,
             const SegStackBand *band,
             gpointer            descent)
{
  return seg_descent_direction (in, out, band->out_x0 - band->in_x0,
                                band->out_y0 - band->in_y0,
                                band->out_z - band->in_z0, descent);
}

static gboolean
process (GeglOperation       *operation,
         GeglBuffer          *input,
         GeglBuffer          *output,
         const GeglRectangle *roi,
         gint                 level)
{
  GeglProperties *o = GEGL_PROPERTIES (operation);
  SegStackMap     map;
  SegDescent      descent;
  SegStackJob     job;

  if (!map_of (operation, &map))
    return TRUE;
  descent =
    (SegDescent){ .spacing = { o->spacing_x, o->spacing_y, o->spacing_z },
                  .three_d = map.in.depth > 1 };
  job = (SegStackJob){ .map        = &map,
                       .in_format  = input_format_of (operation, &descent.type),
                       .out_format = babl_format ("Y u8"),
                       .input      = input,
                       .output     = output,
                       .kernel     = band_kernel,
                       .data       = &descent,
                       .slab       = SEG_DESCENT_SLAB,
                       .operation  = operation };
  return seg_stack_process (&job, OP_NAME, roi);
}

/* A stack of as many slices as the input's. */
static SegStackOutput
stack_output (GeglOperation *operation)
{
  GeglProperties *o      = GEGL_PROPERTIES (operation);
  SegStackOutput  output = { MAX (o->depth, 1), o->depth > 1 ? 3 : 2 };

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
    operation_class, "name", OP_NAME, "title", _ ("Descent Direction"),
    "categories", "segmentation", "description",
    _ ("Labels every pixel of an image, or voxel of a stack of slices, with "
       "the neighbour of steepest descent, as Y u8: in a stack (dz+1)·9 + "
       "(dy+1)·3 + (dx+1), the centre 13; in an image (dy+1)·3 + (dx+1), "
       "the centre 4. A neighbour's score is (centre − neighbour) / "
       "distance, the distance in physical units from spacing x, y and z, "
       "computed in double precision from the pixels' own numbers (the "
       "luminance of colour formats); the highest score wins, ties to the "
       "lowest index. Strict local minima, pixels without neighbours and "
       "NaN pixels point at the centre; NaN neighbours are skipped. Only "
       "pixels inside the image are neighbours, and the slices of a stack "
       "meet only along z."),
    /* GIMP 3 lists ops with these keys in its menus; 2.10 ignores them. */
    "gimp:menu-path", "<Image>/Filters/Segmentation", "gimp:menu-label",
    _ ("Descent Direction..."), NULL);
}

#endif
