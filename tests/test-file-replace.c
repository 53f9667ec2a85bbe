/* SPDX-License-Identifier: LGPL-3.0-or-later
 *
 * seg-file-replace.c without GEGL: every case of what a path may lead to
 * (file-harness.h's table: permissions, owners and groups, hard links,
 * special files refused without being opened, symbolic links, a read-only
 * folder, a write-protected file), then what only the module's interface
 * shows: the umask, a write that fails, an abort, a target that changes
 * before the commit, the temporary file itself and long names.  Each
 * failure leaves the old file as it was and no temporary file.  Cases
 * that need root are skipped with a note otherwise; as root, an ordinary
 * user's part is played by nobody.
 */
#define _POSIX_C_SOURCE 200809L /* link (), S_ISSOCK () … */
#include <check.h>
#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file-harness.h"
#include "seg-file-replace.h"


/* Replaces path by text: TRUE, or FALSE with *message set to the error's
 * (free it; message may be NULL). */
static gboolean
replace (const gchar *path, const gchar *text, gchar **message)
{
  GError         *error = NULL;
  SegFileReplace *r     = seg_file_replace_begin (path, &error);
  gboolean        ok    = r != NULL;

  if (ok && !g_output_stream_write_all (seg_file_replace_stream (r), text,
                                        strlen (text), NULL, NULL, &error))
    {
      seg_file_replace_abort (r);
      ok = FALSE;
    }
  else if (ok)
    ok = seg_file_replace_commit (r, &error);
  if (message != NULL)
    *message = ok ? NULL : g_strdup (error->message);
  g_clear_error (&error);
  return ok;
}

static void
assert_replaces (const gchar *path, const gchar *text)
{
  gchar *message = NULL;

  ck_assert_msg (replace (path, text, &message), "%s: %s", path, message);
}

/* ------------------------------------------------------------------------
 * What a path may lead to, and permissions
 * --------------------------------------------------------------------- */

static gboolean
write_new (const gchar *path, gchar **problem)
{
  return replace (path, "new", problem);
}

static void
assert_new (const gchar *path)
{
  assert_text (path, "new");
}

START_TEST (test_target_case)
{
  static const Writer writer = { write_new, assert_new };

  target_case_run (_i, &writer);
}
END_TEST

/* With other umasks than the cases' 022. */
START_TEST (test_new_file_gets_0666_less_the_umask)
{
  static const mode_t masks[] = { 027, 077, 002, 0 };
  gchar              *path    = in_test_folder ("new.npy");

  umask (masks[_i]);
  assert_replaces (path, "new");
  umask (022);
  ck_assert_int_eq (mode_of (path) & 07777, 0666 & ~masks[_i]);
  ck_assert (S_ISREG (mode_of (path)));
  assert_text (path, "new");
  g_free (path);
}
END_TEST

/* Without root: a file of one's own in a supplementary group keeps it. */
START_TEST (test_own_file_keeps_a_supplementary_group)
{
  gid_t  groups[64];
  gint   n    = getgroups (G_N_ELEMENTS (groups), groups);
  gchar *path = in_test_folder ("group.npy");
  gint   i;

  for (i = 0; i < n && groups[i] == getegid (); i++)
    ;
  if (is_root () || i >= n)
    {
      skip_note ("supplementary group kept",
                 is_root () ? "root: the case of a file in a group of nobody's"
                            : "the user is in no second group");
      g_free (path);
      return;
    }
  write_text (path, "old", 0660);
  ck_assert_int_eq (chown (path, (uid_t) -1, groups[i]), 0);
  assert_replaces (path, "new");
  ck_assert_int_eq (group_of (path), groups[i]);
  g_free (path);
}
END_TEST

/* ------------------------------------------------------------------------
 * Failures leave the old file and no temporary file
 * --------------------------------------------------------------------- */

/* A write that fails (here at a file size limit, as at a full disk). */
START_TEST (test_failed_write_leaves_the_old_file)
{
  gchar          *path = in_test_folder ("old.npy");
  gchar           big[4096];
  GError         *error = NULL;
  SegFileReplace *r;
  gboolean        wrote;

  memset (big, 'x', sizeof big);
  write_text (path, "old", 0644);
  r = seg_file_replace_begin (path, &error);
  ck_assert_ptr_nonnull (r);
  file_size_limit_begin (1000);
  wrote = g_output_stream_write_all (seg_file_replace_stream (r), big,
                                     sizeof big, NULL, NULL, &error);
  file_size_limit_end ();
  ck_assert (!wrote);
  ck_assert_ptr_nonnull (error);
  seg_file_replace_abort (r);
  assert_text (path, "old");
  g_clear_error (&error);
  g_free (path);
}
END_TEST

START_TEST (test_abort_leaves_the_old_file)
{
  gchar          *path = in_test_folder ("old.npy");
  SegFileReplace *r;

  write_text (path, "old", 0600);
  r = seg_file_replace_begin (path, NULL);
  ck_assert (g_output_stream_write_all (seg_file_replace_stream (r), "new", 3,
                                        NULL, NULL, NULL));
  seg_file_replace_abort (r);
  assert_text (path, "old");
  ck_assert_int_eq (mode_of (path) & 07777, 0600);
  g_free (path);
}
END_TEST

/* What a folder without permissions holds cannot be looked at. */
START_TEST (test_target_that_cannot_be_examined_is_reported)
{
  gchar   *locked  = in_test_folder ("locked");
  gchar   *path    = g_build_filename (locked, "f.npy", NULL);
  gchar   *message = NULL;
  gboolean ok;

  ck_assert_int_eq (g_mkdir (locked, 0), 0);
  if (ordinary_user_begin ("a target that cannot be examined"))
    {
      ok = replace (path, "new", &message);
      ordinary_user_end ();
      ck_assert_msg (!ok, "%s was written", path);
      ck_assert_msg (g_str_has_prefix (message, "it cannot be examined: "),
                     "%s", message);
    }
  g_free (message);
  g_free (path);
  g_free (locked);
}
END_TEST

/* The target is examined again at the commit. */
START_TEST (test_target_that_became_a_fifo_is_refused_at_commit)
{
  gchar          *path  = in_test_folder ("old.npy");
  GError         *error = NULL;
  SegFileReplace *r;

  write_text (path, "old", 0644);
  r = seg_file_replace_begin (path, NULL);
  ck_assert_ptr_nonnull (r);
  ck_assert_int_eq (g_unlink (path), 0);
  make_fifo (path);
  guard_begin (20, "committing over a named pipe");
  ck_assert (!seg_file_replace_commit (r, &error));
  guard_end ();
  ck_assert_str_eq (error->message,
                    "it is a named pipe (FIFO), not a regular file");
  ck_assert (S_ISFIFO (mode_of (path)));
  g_clear_error (&error);
  g_free (path);
}
END_TEST

/* Starts replacing path with text. */
static SegFileReplace *
begin_with (const gchar *path, const gchar *text)
{
  SegFileReplace *r = seg_file_replace_begin (path, NULL);

  ck_assert_ptr_nonnull (r);
  ck_assert (g_output_stream_write_all (seg_file_replace_stream (r), text,
                                        strlen (text), NULL, NULL, NULL));
  return r;
}

/* Two files committed together, as a sink that writes two does: both
 * replaced; or, when the second cannot be (it became a named pipe), the
 * first neither, and no temporary file stays (the teardown checks). */
START_TEST (test_two_files_are_committed_together)
{
  gchar          *a     = in_test_folder ("stats.csv");
  gchar          *b     = in_test_folder ("voxels.npy");
  GError         *error = NULL;
  SegFileReplace *r[2];

  write_text (a, "old a", 0644);
  write_text (b, "old b", 0644);
  r[0] = begin_with (a, "new a");
  r[1] = begin_with (b, "new b");
  ck_assert (seg_file_replace_commit_all (r, 2, &error));
  assert_text (a, "new a");
  assert_text (b, "new b");

  r[0] = begin_with (a, "newer a");
  r[1] = begin_with (b, "newer b");
  ck_assert_int_eq (g_unlink (b), 0);
  make_fifo (b);
  guard_begin (20, "committing over a named pipe");
  ck_assert (!seg_file_replace_commit_all (r, 2, &error));
  guard_end ();
  ck_assert_str_eq (error->message,
                    "it is a named pipe (FIFO), not a regular file");
  assert_text (a, "new a");
  ck_assert (S_ISFIFO (mode_of (b)));
  g_clear_error (&error);
  g_free (a);
  g_free (b);
}
END_TEST

/* ------------------------------------------------------------------------
 * The temporary file
 * --------------------------------------------------------------------- */

/* Hidden, beside the target, 0600 while written (the old file may be
 * private), named after the target. */
START_TEST (test_temporary_file_is_private_and_beside_the_target)
{
  gchar          *path = in_test_folder ("data.npy");
  SegFileReplace *r;
  gchar          *folder;
  GDir           *dir;
  const gchar    *name;
  gint            n = 0;

  write_text (path, "old", 0600);
  r = seg_file_replace_begin (path, NULL);
  ck_assert_ptr_nonnull (r);
  folder = in_test_folder (".");
  dir    = g_dir_open (folder, 0, NULL);
  while ((name = g_dir_read_name (dir)) != NULL)
    if (strcmp (name, "data.npy") != 0)
      {
        gchar *temporary = in_test_folder (name);

        ck_assert_msg (g_str_has_prefix (name, ".data.npy.") &&
                         g_str_has_suffix (name, ".tmp") &&
                         strlen (name) == strlen (".data.npy.12345678.tmp"),
                       "%s", name);
        ck_assert_int_eq (mode_of (temporary) & 07777, 0600);
        g_free (temporary);
        n++;
      }
  g_dir_close (dir);
  g_free (folder);
  ck_assert_int_eq (n, 1);
  ck_assert (seg_file_replace_commit (r, NULL));
  g_free (path);
}
END_TEST

/* A name of 250 bytes: the temporary file's name is cut to stay within
 * the 255 bytes a name may have. */
START_TEST (test_long_name_is_replaced)
{
  gchar *name = g_strnfill (250, 'n');
  gchar *path = in_test_folder (name);

  write_text (path, "old", 0644);
  assert_replaces (path, "new");
  assert_text (path, "new");
  g_free (path);
  g_free (name);
}
END_TEST

static TCase *
tcase (Suite *s, const gchar *name)
{
  TCase *tc = tcase_create (name);

  tcase_add_checked_fixture (tc, test_folder_setup, file_harness_teardown);
  suite_add_tcase (s, tc);
  return tc;
}

static Suite *
file_replace_suite (void)
{
  Suite *s         = suite_create ("file-replace");
  TCase *targets   = tcase (s, "what a path leads to");
  TCase *failures  = tcase (s, "failures");
  TCase *temporary = tcase (s, "temporary file");

  tcase_add_loop_test (targets, test_target_case, 0, target_case_count ());
  tcase_add_loop_test (targets, test_new_file_gets_0666_less_the_umask, 0, 4);
  tcase_add_test (targets, test_own_file_keeps_a_supplementary_group);
  tcase_add_test (failures, test_failed_write_leaves_the_old_file);
  tcase_add_test (failures, test_abort_leaves_the_old_file);
  tcase_add_test (failures, test_target_that_cannot_be_examined_is_reported);
  tcase_add_test (failures,
                  test_target_that_became_a_fifo_is_refused_at_commit);
  tcase_add_test (failures, test_two_files_are_committed_together);
  tcase_add_test (temporary,
                  test_temporary_file_is_private_and_beside_the_target);
  tcase_add_test (temporary, test_long_name_is_replaced);
  return s;
}

int
main (void)
{
  SRunner *runner = srunner_create (file_replace_suite ());
  gint     failed;

  srunner_run_all (runner, CK_ENV);
  failed = srunner_ntests_failed (runner);
  srunner_free (runner);
  return failed == 0 ? 0 : 1;
}
