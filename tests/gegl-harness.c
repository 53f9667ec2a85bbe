/* SPDX-License-Identifier: LGPL-3.0-or-later */
#include "gegl-harness.h"

#include <check.h>
#include <string.h>

#if defined __has_include
#  if __has_include (<valgrind/valgrind.h>)
#    include <valgrind/valgrind.h>
#    define HAVE_VALGRIND_H 1
#  endif
#endif

/* ------------------------------------------------------------------------
 * Seeded random numbers
 * --------------------------------------------------------------------- */

guint64
splitmix64 (guint64 *state)
{
  guint64 z = (*state += 0x9E3779B97F4A7C15ull);

  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

gint
rand_range (guint64 *state, gint lo, gint hi)
{
  return lo + (gint) (splitmix64 (state) % (guint64) (hi - lo + 1));
}

/* ------------------------------------------------------------------------
 * Capturing GLib messages
 * --------------------------------------------------------------------- */

static GMutex   log_mutex;
static GString *log_text;   /* captured messages; NULL when not capturing */

static gboolean
log_capture (const gchar *domain, GLogLevelFlags level, const gchar *message)
{
  gboolean captured = FALSE;

  g_mutex_lock (&log_mutex);
  if (log_text != NULL &&
      (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL |
                G_LOG_LEVEL_WARNING | G_LOG_LEVEL_MESSAGE)))
    {
      g_string_append_printf (log_text, "[%s] %s\n",
                              domain ? domain : "no domain",
                              message ? message : "");
      captured = TRUE;
    }
  g_mutex_unlock (&log_mutex);
  return captured;
}

static void
log_handler (const gchar    *domain,
             GLogLevelFlags  level,
             const gchar    *message,
             gpointer        data)
{
  if (!log_capture (domain, level, message))
    g_log_default_handler (domain, level, message, data);
}

/* For messages sent with structured logging (G_LOG_USE_STRUCTURED). */
static GLogWriterOutput
log_writer (GLogLevelFlags   level,
            const GLogField *fields,
            gsize            n_fields,
            gpointer         data)
{
  const gchar *domain = NULL, *message = NULL;

  for (gsize i = 0; i < n_fields; i++)
    {
      if (strcmp (fields[i].key, "GLIB_DOMAIN") == 0)
        domain = fields[i].value;
      else if (strcmp (fields[i].key, "MESSAGE") == 0)
        message = fields[i].value;
    }
  if (log_capture (domain, level, message))
    return G_LOG_WRITER_HANDLED;
  return g_log_writer_default (level, fields, n_fields, data);
}

static void
log_handlers_install (void)
{
  const GLogLevelFlags all = G_LOG_LEVEL_MASK | G_LOG_FLAG_FATAL |
                             G_LOG_FLAG_RECURSION;

  g_log_set_writer_func (log_writer, NULL, NULL);
  g_log_set_default_handler (log_handler, NULL);
  g_log_set_handler (NULL, all, log_handler, NULL);
  g_log_set_handler ("GEGL", all, log_handler, NULL);
}

void
log_capture_begin (void)
{
  g_mutex_lock (&log_mutex);
  if (log_text != NULL)
    g_string_truncate (log_text, 0);
  else
    log_text = g_string_new (NULL);
  g_mutex_unlock (&log_mutex);
}

gchar *
log_capture_end (void)
{
  gchar *text;

  g_mutex_lock (&log_mutex);
  text = log_text ? g_string_free (log_text, FALSE) : g_strdup ("");
  log_text = NULL;
  g_mutex_unlock (&log_mutex);
  return text;
}

gboolean
text_has_number (const gchar *text, gint n)
{
  gchar        digits[16];
  const gchar *p = text;
  gsize        len;

  g_snprintf (digits, sizeof digits, "%d", n);
  len = strlen (digits);
  while ((p = strstr (p, digits)) != NULL)
    {
      gboolean before = p > text && g_ascii_isdigit (p[-1]);
      gboolean after  = g_ascii_isdigit (p[len]);

      if (!before && !after)
        return TRUE;
      p++;
    }
  return FALSE;
}

gboolean
message_names (const gchar *text, const gchar *op, const gchar *word,
               const gint *numbers)
{
  gchar  **lines = g_strsplit (text, "\n", -1);
  gboolean found = FALSE;

  for (gint l = 0; lines[l] != NULL && !found; l++)
    {
      found = strstr (lines[l], op) != NULL &&
              strstr (lines[l], word) != NULL;
      for (gint i = 0; found && numbers[i] != G_MININT; i++)
        found = text_has_number (lines[l], numbers[i]);
    }
  g_strfreev (lines);
  return found;
}

gint
count_occurrences (const gchar *text, const gchar *word)
{
  gint n = 0;

  for (const gchar *at = strstr (text, word); at; at = strstr (at + 1, word))
    n++;
  return n;
}

void
assert_no_messages (gchar *text, const gchar *context)
{
  ck_assert_msg (text[0] == '\0', "%s: unexpected messages:\n%s",
                 context, text);
  g_free (text);
}

void
harness_init (gint *argc, gchar ***argv)
{
  log_handlers_install ();

  /* GEGL dlopen()s every plug-in in GEGL_PATH, in gegl_init () and again
   * when it first builds its table of operation names.  Some of GEGL's own
   * plug-ins pull in libraries with a $ORIGIN run path, for which glibc
   * 2.36's loader reads past a strdup()ed string with an SSE2 strncmp that
   * valgrind 3.19 reports.  That is outside this project, so valgrind is
   * kept quiet while the modules load, and only then. */
#ifdef HAVE_VALGRIND_H
  VALGRIND_DISABLE_ERROR_REPORTING;
#endif
  gegl_init (argc, argv);
  g_free (gegl_list_operations (NULL));
#ifdef HAVE_VALGRIND_H
  VALGRIND_ENABLE_ERROR_REPORTING;
#endif
}
