/* SPDX-License-Identifier: LGPL-3.0-or-later
 *
 * What the GEGL-level tests share: GEGL set up once per program (quietly
 * under valgrind while the plug-ins load) and the suite run in that one
 * process, a temporary folder, seeded random numbers, the capture of GLib
 * messages, so a test can check what an op said, .npy files read back,
 * and pooling ops in small graphs, with assertions that say where pixels
 * and rectangles differ; then the checks that every pooling op's tests
 * run on random cases against their family's reference, and the tests of
 * the region callbacks, which all pooling ops share.
 */
#ifndef GEGL_HARNESS_H
#define GEGL_HARNESS_H

#include <check.h>
#include <gegl.h>

#include "seg-label.h"
#include "seg-npy.h"
#include "seg-volume.h"

G_BEGIN_DECLS

/* Installs the message capture, then gegl_init ()s, loads every
 * operation in GEGL_PATH, checks that no library the tests must not load
 * came with them (libhwy, libavcodec) and notes GEGL's thread count. */
void harness_init (gint *argc, gchar ***argv);

/* A test case of s with a timeout of 300 s; each of its tests starts and
 * ends with no message capture running and GEGL's thread count as
 * harness_init () found it. */
TCase *harness_tcase (Suite *s, const gchar *name);

/* Runs s in this process (GEGL is initialised once and keeps worker
 * threads: never fork), then gegl_exit ()s; the program's exit status. */
gint harness_run (Suite *s);

/* The value of an environment variable, or fallback when it is unset
 * (free it). */
gchar *env_or (const gchar *variable, const gchar *fallback);

/* A fresh temporary folder, from a g_dir_make_tmp () template; tmp_path ()
 * names a file in it (free it), and tmp_dir_remove () removes it with the
 * files left in it. */
const gchar *tmp_dir_make (const gchar *tmpl);
gchar       *tmp_path (const gchar *name);
void         tmp_dir_remove (void);

/* A seeded random 64-bit number (splitmix64), and a whole number in
 * lo … hi. */
guint64 splitmix64 (guint64 *state);
gint    rand_range (guint64 *state, gint lo, gint hi);

/* Messages (warnings, criticals, messages) of every domain, captured
 * between begin and end instead of printed; end returns them, one per line
 * as "[domain] message" (free it). */
void   log_capture_begin (void);
gchar *log_capture_end (void);

/* TRUE when text holds n as a number of its own (not part of a longer
 * number). */
gboolean text_has_number (const gchar *text, gint n);

/* TRUE when one line of text names op, word and every number of numbers
 * (terminated by G_MININT). */
gboolean message_names (const gchar *text,
                        const gchar *op,
                        const gchar *word,
                        const gint  *numbers);

/* How many times word occurs in text. */
gint count_occurrences (const gchar *text, const gchar *word);

/* Fails the test when text (which it frees) is not empty. */
void assert_no_messages (gchar *text, const gchar *context);

/* Fails the test when part is not in text. */
void assert_has (const gchar *text, const gchar *part);

/* What a sink said of writing path, in log: NULL when log is empty; else
 * the problem in its one message "OP: PATH: cannot write the file:
 * PROBLEM. Nothing was written." (free it).  Fails the test when log
 * holds anything else, or names op more than once. */
gchar *
sink_write_problem (const gchar *log, const gchar *op, const gchar *path);

/* ------------------------------------------------------------------------
 * .npy files written and read back
 * --------------------------------------------------------------------- */

/* The file's bytes; fails the test when it cannot be read. */
GBytes *file_bytes (const gchar *path);

/* A file holding the header h describes, then h->data_size bytes of data. */
void
file_write_npy (const gchar *path, const SegNpyHeader *h, const void *data);

/* The header of an .npy file, which must parse and be followed by exactly
 * its data. */
SegNpyHeader  file_header (GBytes *file);
const guint8 *file_data (GBytes *file, const SegNpyHeader *h);

/* ------------------------------------------------------------------------
 * Pooling ops in GEGL graphs
 * --------------------------------------------------------------------- */

/* A pooling op's properties (an op without factors, seg:countless-3d,
 * gets depth and sparse only). */
typedef struct
{
  gint     fx, fy, fz;
  gint     depth;
  gboolean sparse;
} Params;

typedef struct
{
  GeglNode *root;
  GeglNode *source;
  GeglNode *pool;
} Graph;

/* a / b rounded down for any sign of a, and rounded up for a ≥ 0
 * (b > 0). */
gint floor_div (gint a, gint b);
gint ceil_div (gint a, gint b);

/* DESIGN.md's output extent of a stack of p->depth slices. */
GeglRectangle expected_extent (const GeglRectangle *in, const Params *p);

/* A buffer of extent holding the packed pixels px: with tile_w 0, GEGL's
 * own tiles; else tiles of tile_w × tile_h, and with a shift, a view of a
 * parent buffer that holds the pixels shifted, so that tile edges fall at
 * other places relative to the view's origin. */
GeglBuffer *buffer_new_with_pixels (const GeglRectangle *extent,
                                    const Babl          *format,
                                    const guint8        *px,
                                    gint                 tile_w,
                                    gint                 tile_h,
                                    gint                 shift_x,
                                    gint                 shift_y);

/* In root, gegl:buffer-source of input (*source, where source is not
 * NULL), then gegl:translate by (dx, dy) unless both are 0: the last of
 * them, for an op to follow. */
GeglNode *graph_input (
  GeglNode *root, GeglBuffer *input, gint dx, gint dy, GeglNode **source);

/* gegl:buffer-source → [gegl:translate →] op, with p. */
Graph graph_new_translated (
  GeglBuffer *input, const gchar *op, const Params *p, gint dx, gint dy);
Graph graph_new (GeglBuffer *input, const gchar *op, const Params *p);
void  graph_free (Graph *g);

/* Renders roi of the op in format, into fresh memory that starts out as
 * 0xA5 sentinels (free it). */
guint8 *
graph_blit (const Graph *g, const GeglRectangle *roi, const Babl *format);

/* Renders want_rect of op on input with p, the input moved by (dx, dy)
 * through gegl:translate, in one piece and in input's format: no message,
 * the bounding box is want_rect and the pixels are want (what names the
 * render in the failure). */
void assert_renders (GeglBuffer          *input,
                     const gchar         *op,
                     const Params        *p,
                     gint                 dx,
                     gint                 dy,
                     const GeglRectangle *want_rect,
                     const guint8        *want,
                     const gchar         *what,
                     const gchar         *context);

/* Renders rect of op on input with p in format, with GEGL using n_threads
 * threads; then the thread count is as harness_init () found it. */
guint8 *render_with_threads (GeglBuffer          *input,
                             const gchar         *op,
                             const Params        *p,
                             const GeglRectangle *rect,
                             const Babl          *format,
                             gint                 n_threads);

/* Renders each of the n parts of rect with a fresh graph and pastes them
 * into an image of rect that starts out as 0xA5 sentinels (free it). */
guint8 *render_in_parts (GeglBuffer          *input,
                         const gchar         *op,
                         const Params        *p,
                         const Babl          *format,
                         const GeglRectangle *rect,
                         const GeglRectangle *parts,
                         gint                 n_parts);

/* px holds a render of grown, which contains rect: fails at the first
 * pixel outside rect that is not all zero bytes, and returns the pixels
 * of rect, packed (free it). */
guint8 *cut_out_checking_frame (const guint8        *px,
                                const GeglRectangle *grown,
                                const GeglRectangle *rect,
                                gint                 bpp,
                                const gchar         *context);

/* The op's whole output as gegl:buffer-sink hands it over (no format
 * asked for, so no conversion); NULL when nothing was produced. */
GeglBuffer *graph_sink (const Graph *g);

/* got and want are packed pixels of rect (output coordinates): fails at
 * the first pixel whose bytes differ, showing both in hex. */
void assert_pixels_equal (const guint8        *got,
                          const guint8        *want,
                          const GeglRectangle *rect,
                          gint                 bpp,
                          const gchar         *what,
                          const gchar         *context);
void assert_rect_equal (const GeglRectangle *got,
                        const GeglRectangle *want,
                        const gchar         *what,
                        const gchar         *context);

/* Copies the packed rect `part` into the packed image of `whole`. */
void paste (guint8              *whole,
            const GeglRectangle *whole_rect,
            const guint8        *part,
            const GeglRectangle *part_rect,
            gint                 bpp);

/* The value of "factor-x" … "depth" in p. */
gint params_get (const Params *p, const gchar *property);

/* Cuts rect into nx × ny parts (nx, ny ≤ 7) at random, uneven places;
 * returns how many. */
gint cut_rect (const GeglRectangle *rect,
               gint                 nx,
               gint                 ny,
               guint64              seed,
               GeglRectangle       *parts);

/* The op's output format in the graph g (prepared). */
const Babl *graph_output_format (const Graph *g);

/* Fails the test unless GEGL knows op and op has a title, categories and
 * a description, in categories that neither hide it nor make it a
 * transform. */
void assert_op_is_registered_and_described (const gchar *op);

/* Renders op (a node of root, named op_name) into gegl:buffer-sink and
 * fails the test unless its bounding box and output are empty and it said
 * one message naming op_name, word and numbers (message_names ()). */
void assert_op_refuses (GeglNode    *root,
                        GeglNode    *op,
                        const gchar *op_name,
                        const gchar *word,
                        const gint  *numbers);

/* ------------------------------------------------------------------------
 * Cases: an op on random pixels, compared with a reference
 * --------------------------------------------------------------------- */

/* What the pixels look like.  background is the share (percent) of
 * all-zero pixels; of the others, the mode ops' tests draw labels and the
 * averages' tests values. */
typedef struct
{
  gint     background;
  gint     n_labels;    /* labels: non-background labels to draw from   */
  gboolean near;        /* labels: they differ in one byte only         */
  gint     near_max;    /* values: % of components near the maximum     */
  gint     small;       /* values: % of small components (ties)         */
  gint     transparent; /* values: % of pixels fully transparent        */
} Mix;

typedef struct _Case   Case;
typedef struct _Volume Volume;

/* What the tests of one family of ops (the mode ops, the averages) bring:
 * fill draws n pixels of format as mix says, from seed; reference is the
 * output the case's op must give on v's pixels (packed, as DESIGN.md's
 * ceil (W/fx) × (ceil (H/fy) · ceil (D/fz)) image; free it). */
typedef struct
{
  void (*fill) (
    guint8 *px, gsize n, const gchar *format, const Mix *mix, guint64 seed);
  guint8 *(*reference) (const Case *c, const Volume *v);
} Family;

/* One GEGL-level comparison: op on width × (slice_height · p.depth)
 * pixels of format at (x, y). */
struct _Case
{
  const Family *family;
  guint64       seed;
  const gchar  *op;
  const gchar  *format;
  gint          x, y; /* the input's origin            */
  gint          width, slice_height;
  Params        p; /* p.depth: the slices it holds  */
  Mix           mix;
  gint          tile_w, tile_h;   /* the buffer's tiles; 0: GEGL's  */
  gint          shift_x, shift_y; /* a view shifted into a parent   */
};

/* Pixels of a case, in memory and in a GeglBuffer at the case's origin. */
struct _Volume
{
  const Babl   *format;
  gint          bpp;
  GeglRectangle extent; /* W × (H·D) at the input's origin */
  gint          slice_height;
  gint          slices;
  guint8       *px; /* packed, extent.width × extent.height */
  GeglBuffer   *buffer;
};

/* What a reference pools: v's pixels as a packed stack, fresh memory for
 * the output of p (out.data; free it) and p's factors. */
typedef struct
{
  SegVolume     in;
  SegVolume     out;
  SegFactors    factors;
  SegBackground background; /* what sparse leaves out in v's format */
} ReferenceViews;

/* Where format keeps its alpha, as DESIGN.md says background needs it:
 * GEGL's models keep alpha last; SEG_BACKGROUND_ZEROS without alpha. */
SegBackground format_background (const Babl *format);

/* Makes the pixel of bpp bytes at p background under bg, of a kind drawn
 * from rng: all zero, or with an alpha also transparent (keeping p's
 * colour) or black (keeping p's alpha). */
void draw_background (guint8 *p, gint bpp, SegBackground bg, guint64 *rng);

gchar *case_describe (const Case *c);

/* The case's input extent, W × (H·D) at its origin. */
GeglRectangle case_input (const Case *c);

/* The case's pixels as its family draws them; volume_of () takes px (in
 * the case's format and shape) over instead. */
Volume volume_new (const Case *c);
Volume volume_of (const Case *c, guint8 *px);
void   volume_free (Volume *v);

/* The family's reference on v's pixels (free it). */
guint8        *case_reference (const Case *c, const Volume *v);
ReferenceViews reference_views (const Volume *v, const Params *p);

/* Each renders the case's op on its pixels and fails the test at the
 * first byte that differs from the reference, or at any message: */

/* in one piece; the bounding box too. */
void check_case (const Case *c);

/* through gegl:buffer-sink: the op's and the buffer's format are the
 * source's, and the buffer's extent is want_rect. */
void check_output_keeps_the_source_format (const Case          *c,
                                           const GeglRectangle *want_rect);

/* with one thread, then four: the same bytes. */
void check_threads_agree (const Case *c);

/* whole, then as the n_parts parts (each with a fresh graph). */
void check_parts (const Case *c, const GeglRectangle *parts, gint n_parts);

/* whole, then in nx × ny uneven parts that cut_rect () draws. */
void check_in_uneven_parts (const Case *c, gint nx, gint ny);

/* whole, then one output row at a time. */
void check_row_by_row (const Case *c);

/* whole, then in 2 × 2 uneven parts; c grown by 9 columns and 5 rows
 * a slice (room for the cuts) and moved to the (i % 4)-th of four
 * origins. */
void check_in_four_uneven_parts (Case c, gint i);

/* 3 pixels larger on every side than the bounding box, whose frame must
 * be zero bytes; c moved to the (i % 4)-th of four origins. */
void check_frame_renders_nothing (Case c, gint i);

/* c moved to the i-th of six odd and negative origins (cycling). */
void check_at_odd_origin (Case c, gint i);

/* c at (0,0), moved to (-3,5) by gegl:translate. */
void check_translated (const Case *c);

/* c in a buffer of small tiles (the (i % 8)-th size) at a random size and
 * origin drawn from i and salt, every fifth a view shifted into a parent
 * buffer, and some stacks pooled 2×2×2. */
void check_with_small_tiles (Case c, gint i, guint64 salt);

/* c, 40 × (100·3) with factors 2,2,2, with the op's node caching its
 * output: after input changes that cross slices (pixels drawn with
 * fresh), renders in bands from the cache match the reference. */
void check_cached_render_follows_changes (const Case *c, const Mix *fresh);

/* ------------------------------------------------------------------------
 * What every pooling op shares
 * --------------------------------------------------------------------- */

/* Adds to tc the tests of op's region callbacks (op: seg:mode-pool,
 * seg:countless-3d or seg:sparse-average), which every pooling op shares:
 * bounding box, required region and invalidated region on a stack of
 * three slices, then on random stacks against the blocks read or
 * touched, pixel by pixel. */
void region_tests_add (TCase *tc, const gchar *op);

/* Input an op must refuse: op on a width × height input of format with
 * p; the warning names word and numbers (up to G_MININT). */
typedef struct
{
  const gchar *op;
  const gchar *format;
  gint         width, height;
  Params       p;
  const gchar *word;
  gint         numbers[3];
} Refusal;

void check_refusal (const Refusal *r);

/* The property values outside the ranges of every op with factors: the
 * i-th, set on an 8 × 8 input of format with factors 2,2,1, depth 1 and
 * sparse.  The property's GParamSpec carries the range (1 … 64 for
 * factors, at least 1 for depth), so that GIMP's dialogs enforce it;
 * GObject refuses the value with a message that names the property and
 * the value, the property keeps its value, and the op renders as with
 * it. */
#define N_BAD_PROPERTIES 7

void check_bad_property (const gchar *op,
                         const gchar *format,
                         gboolean     sparse,
                         gint         i);

/* Runs op on input with p, expecting an empty bounding box, no pixels
 * and a warning naming the op, `word` and every number in `numbers`
 * (terminated by G_MININT), once; with word NULL, expecting no message
 * from the op at all. */
void check_refused (GeglBuffer   *input,
                    const gchar  *op,
                    const Params *p,
                    const gchar  *word,
                    const gint   *numbers,
                    const gchar  *context);

G_END_DECLS

#endif
