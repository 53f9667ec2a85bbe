/* SPDX-License-Identifier: LGPL-3.0-or-later
 *
 * What the command-line tests share: running the real `gegl` program and
 * checking what it said and wrote.
 */
#ifndef CLI_HARNESS_H
#define CLI_HARNESS_H

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  gchar *stderr_text;
  gint   wait_status;
} Run;

/* Runs gegl with args (NULL-terminated); the sanitizer build preloads
 * SEG_GEGL_PRELOAD, the runtimes that our instrumented module needs inside
 * the uninstrumented gegl program. */
Run  run_gegl (const gchar *const *args);
void run_free (Run *run);

/* gegl args exits with 0, and nothing said "seg:" or "WARNING". */
void assert_gegl_succeeds (const gchar *const *args);

/* A request that cannot be served: gegl args does not crash, says each of
 * parts (NULL-terminated), parts[0] once, and does not write out. */
void assert_gegl_refuses (const gchar *const *args,
                          const gchar        *out,
                          const gchar *const *parts);

G_END_DECLS

#endif
