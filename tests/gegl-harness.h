/* SPDX-License-Identifier: LGPL-3.0-or-later
 *
 * What the GEGL-level tests share: GEGL set up once per program (quietly
 * under valgrind while the plug-ins load), seeded random numbers, and the
 * capture of GLib messages, so a test can check what an op said.
 */
#ifndef GEGL_HARNESS_H
#define GEGL_HARNESS_H

#include <gegl.h>

G_BEGIN_DECLS

/* Installs the message capture, then gegl_init ()s and loads every
 * operation in GEGL_PATH. */
void      harness_init      (gint *argc, gchar ***argv);

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

G_END_DECLS

#endif
