/* SPDX-License-Identifier: LGPL-3.0-or-later
 *
 * What the GEGL-level tests share: GEGL set up once per program (quietly
 * under valgrind while the plug-ins load) and the suite run in that one
 * process, a temporary folder, seeded random numbers, the capture of GLib
 * messages, so a test can check what an op said, .npy files read back,
 * and pooling ops in small graphs, with assertions that say where pixels
 * and rectangles differ.
 */
#ifndef GEGL_HARNESS_H
#define GEGL_HARNESS_H

#include <check.h>
#include <gegl.h>

#include "seg-npy.h"

G_BEGIN_DECLS

/* Installs the message capture, then gegl_init ()s, loads every
 * operation in GEGL_PATH and notes GEGL's thread count. */
void      harness_init      (gint *argc, gchar ***argv);

/* A test case of s with a timeout of 300 s; each of its tests starts and
 * ends with no message capture running and GEGL's thread count as
 * harness_init () found it. */
TCase    *harness_tcase     (Suite *s, const gchar *name);

/* Runs s in this process (GEGL is initialised once and keeps worker
 * threads: never fork), then gegl_exit ()s; the program's exit status. */
gint      harness_run       (Suite *s);

/* The value of an environment variable, or fallback when it is unset
 * (free it). */
gchar    *env_or            (const gchar *variable, const gchar *fallback);

/* A fresh temporary folder, from a g_dir_make_tmp () template; tmp_path ()
 * names a file in it (free it), and tmp_dir_remove () removes it with the
 * files left in it. */
const gchar *tmp_dir_make   (const gchar *tmpl);
gchar    *tmp_path          (const gchar *name);
void      tmp_dir_remove    (void);

/* A seeded random 64-bit number (splitmix64), and a whole number in
 * lo … hi. */
guint64   splitmix64        (guint64 *state);
gint      rand_range        (guint64 *state, gint lo, gint hi);

/* Messages (warnings, criticals, messages) of every domain, captured
 * between begin and end instead of printed; end returns them, one per line
 * as "[domain] message" (free it). */
void      log_capture_begin (void);
gchar    *log_capture_end   (void);

/* TRUE when text holds n as a number of its own (not part of a longer
 * number). */
gboolean  text_has_number   (const gchar *text, gint n);

/* TRUE when one line of text names op, word and every number of numbers
 * (terminated by G_MININT). */
gboolean  message_names     (const gchar *text, const gchar *op,
                             const gchar *word, const gint *numbers);

/* How many times word occurs in text. */
gint      count_occurrences (const gchar *text, const gchar *word);

/* Fails the test when text (which it frees) is not empty. */
void      assert_no_messages (gchar *text, const gchar *context);

/* Fails the test when part is not in text. */
void      assert_has        (const gchar *text, const gchar *part);

/* ------------------------------------------------------------------------
 * .npy files read back
 * --------------------------------------------------------------------- */

/* The file's bytes; fails the test when it cannot be read. */
GBytes       *file_bytes  (const gchar *path);

/* The header of an .npy file, which must parse and be followed by exactly
 * its data. */
SegNpyHeader  file_header (GBytes *file);
const guint8 *file_data   (GBytes *file, const SegNpyHeader *h);

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
gint          floor_div            (gint a, gint b);
gint          ceil_div             (gint a, gint b);

/* DESIGN.md's output extent of a stack of p->depth slices. */
GeglRectangle expected_extent      (const GeglRectangle *in,
                                    const Params        *p);

/* A buffer of extent holding the packed pixels px: with tile_w 0, GEGL's
 * own tiles; else tiles of tile_w × tile_h, and with a shift, a view of a
 * parent buffer that holds the pixels shifted, so that tile edges fall at
 * other places relative to the view's origin. */
GeglBuffer   *buffer_new_with_pixels (const GeglRectangle *extent,
                                      const Babl          *format,
                                      const guint8        *px,
                                      gint                 tile_w,
                                      gint                 tile_h,
                                      gint                 shift_x,
                                      gint                 shift_y);

/* gegl:buffer-source → [gegl:translate →] op, with p. */
Graph         graph_new_translated (GeglBuffer   *input,
                                    const gchar  *op,
                                    const Params *p,
                                    gint          dx,
                                    gint          dy);
Graph         graph_new            (GeglBuffer   *input,
                                    const gchar  *op,
                                    const Params *p);
void          graph_free           (Graph *g);

/* Renders roi of the op in format, into fresh memory that starts out as
 * 0xA5 sentinels (free it). */
guint8       *graph_blit           (const Graph         *g,
                                    const GeglRectangle *roi,
                                    const Babl          *format);

/* Renders want_rect of op on input with p, the input moved by (dx, dy)
 * through gegl:translate, in one piece and in input's format: no message,
 * the bounding box is want_rect and the pixels are want (what names the
 * render in the failure). */
void          assert_renders       (GeglBuffer          *input,
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
guint8       *render_with_threads  (GeglBuffer          *input,
                                    const gchar         *op,
                                    const Params        *p,
                                    const GeglRectangle *rect,
                                    const Babl          *format,
                                    gint                 n_threads);

/* Renders each of the n parts of rect with a fresh graph and pastes them
 * into an image of rect that starts out as 0xA5 sentinels (free it). */
guint8       *render_in_parts      (GeglBuffer          *input,
                                    const gchar         *op,
                                    const Params        *p,
                                    const Babl          *format,
                                    const GeglRectangle *rect,
                                    const GeglRectangle *parts,
                                    gint                 n_parts);

/* px holds a render of grown, which contains rect: fails at the first
 * pixel outside rect that is not all zero bytes, and returns the pixels
 * of rect, packed (free it). */
guint8       *cut_out_checking_frame (const guint8        *px,
                                      const GeglRectangle *grown,
                                      const GeglRectangle *rect,
                                      gint                 bpp,
                                      const gchar         *context);

/* The op's whole output as gegl:buffer-sink hands it over (no format
 * asked for, so no conversion); NULL when nothing was produced. */
GeglBuffer   *graph_sink           (const Graph *g);

/* got and want are packed pixels of rect (output coordinates): fails at
 * the first pixel whose bytes differ, showing both in hex. */
void          assert_pixels_equal  (const guint8        *got,
                                    const guint8        *want,
                                    const GeglRectangle *rect,
                                    gint                 bpp,
                                    const gchar         *what,
                                    const gchar         *context);
void          assert_rect_equal    (const GeglRectangle *got,
                                    const GeglRectangle *want,
                                    const gchar         *what,
                                    const gchar         *context);

/* Copies the packed rect `part` into the packed image of `whole`. */
void          paste                (guint8              *whole,
                                    const GeglRectangle *whole_rect,
                                    const guint8        *part,
                                    const GeglRectangle *part_rect,
                                    gint                 bpp);

/* Sets the property of p that the op calls property ("factor-x" …
 * "depth") to value. */
void          params_set           (Params      *p,
                                    const gchar *property,
                                    gint         value);

/* A 7 × (5·3) Y u8 stack at (x, y) pooled by op with factors 2,2,2, depth 3
 * and sparse, prepared: the output is 4 × (3·2), two output slices of
 * three rows.  *buffer holds the input (unref it). */
Graph         region_graph         (const gchar  *op,
                                    gboolean      sparse,
                                    gint          x,
                                    gint          y,
                                    GeglBuffer  **buffer);

/* The op's region callbacks on its input pad: the region required for
 * output roi, and the output region invalidated by a change of input
 * rect, must be want. */
void          assert_required_for_output  (const Graph         *g,
                                           const GeglRectangle *roi,
                                           const GeglRectangle *want,
                                           const gchar         *what,
                                           const gchar         *context);
void          assert_invalidated_by_change (const Graph         *g,
                                            const GeglRectangle *changed,
                                            const GeglRectangle *want,
                                            const gchar         *what,
                                            const gchar         *context);

/* Cuts rect into nx × ny parts (nx, ny ≤ 7) at random, uneven places;
 * returns how many. */
gint          cut_rect             (const GeglRectangle *rect,
                                    gint                 nx,
                                    gint                 ny,
                                    guint64              seed,
                                    GeglRectangle       *parts);

/* Runs op on input with p, expecting an empty bounding box, no pixels
 * and a warning naming the op, `word` and every number in `numbers`
 * (terminated by G_MININT), once; with word NULL, expecting no message
 * from the op at all. */
void          check_refused        (GeglBuffer   *input,
                                    const gchar  *op,
                                    const Params *p,
                                    const gchar  *word,
                                    const gint   *numbers,
                                    const gchar  *context);

G_END_DECLS

#endif
