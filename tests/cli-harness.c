/* SPDX-License-Identifier: LGPL-3.0-or-later */
#include "cli-harness.h"

#include <check.h>
#include <string.h>
#include <sys/wait.h>

Run
run_gegl (const gchar *const *args)
{
  GPtrArray   *argv    = g_ptr_array_new ();
  gchar      **envp    = g_get_environ ();
  const gchar *preload = g_getenv ("SEG_GEGL_PRELOAD");
  GError      *error   = NULL;
  Run          run     = { NULL, -1 };

  g_ptr_array_add (argv, (gpointer) "gegl");
  for (gint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);
  if (preload != NULL && *preload != '\0')
    envp = g_environ_setenv (envp, "LD_PRELOAD", preload, TRUE);

  if (!g_spawn_sync (NULL, (gchar **) argv->pdata, envp, G_SPAWN_SEARCH_PATH,
                     NULL, NULL, NULL, &run.stderr_text, &run.wait_status,
                     &error))
    ck_abort_msg ("cannot run gegl: %s", error->message);

  g_ptr_array_free (argv, TRUE);
  g_strfreev (envp);
  return run;
}

void
run_free (Run *run)
{
  g_clear_pointer (&run->stderr_text, g_free);
}

void
assert_gegl_succeeds (const gchar *const *args)
{
  Run run = run_gegl (args);

  ck_assert_msg (g_spawn_check_wait_status (run.wait_status, NULL),
                 "gegl failed: %s", run.stderr_text);
  ck_assert_msg (strstr (run.stderr_text, "seg:") == NULL &&
                   strstr (run.stderr_text, "WARNING") == NULL,
                 "a valid graph gave a message: %s", run.stderr_text);
  run_free (&run);
}

void
assert_gegl_refuses (const gchar *const *args,
                     const gchar        *out,
                     const gchar *const *parts)
{
  Run run = run_gegl (args);

  ck_assert_msg (WIFEXITED (run.wait_status), "gegl crashed: %s",
                 run.stderr_text);
  for (gint i = 0; parts[i] != NULL; i++)
    ck_assert_msg (strstr (run.stderr_text, parts[i]) != NULL,
                   "\"%s\" missing from: %s", parts[i], run.stderr_text);
  ck_assert_msg (strstr (strstr (run.stderr_text, parts[0]) + 1, parts[0]) ==
                   NULL,
                 "the message came more than once: %s", run.stderr_text);
  ck_assert_msg (!g_file_test (out, G_FILE_TEST_EXISTS), "%s was written", out);
  run_free (&run);
}
