/* SPDX-License-Identifier: LGPL-3.0-or-later
 *
 * seg:npy-save on what its path leads to (issue 11, point 6), in GEGL
 * graphs: every case of file-harness.h's table (an existing file keeps
 * its permissions and, as root, its owner and group; a named pipe, socket,
 * device or folder is refused without blocking and stays what it was;
 * symbolic links are written through, absolute, relative, a chain, a
 * dangling one creating its target, and stay links; a link to a pipe is
 * refused; other hard links keep the old contents; a read-only folder and
 * a write-protected file are refused), each with the op's one message and
 * no temporary file left.  Then the gegl command line on a link and on a
 * named pipe.  Cases that need root are skipped with a note otherwise; as
 * root, an ordinary user's part is played by nobody (file-harness.h).
 */
#define _POSIX_C_SOURCE 200809L /* S_ISFIFO () … */
#include <check.h>
#include <gegl.h>
#include <string.h>
#include <sys/stat.h>

#include "cli-harness.h"
#include "file-harness.h"
#include "gegl-harness.h"
#include "seg-npy.h"

static const guint8 pixels[6] = { 9, 8, 7, 6, 5, 4 };

/* Saves a 3 × 2 Y u8 image to path with seg:npy-save; what GEGL and the op
 * said (free it). */
static gchar *
save_to (const gchar *path)
{
  const Babl   *format = babl_format ("Y u8");
  GeglRectangle rect   = { 0, 0, 3, 2 };
  GeglBuffer   *buffer = gegl_buffer_new (&rect, format);
  GeglNode     *graph  = gegl_node_new ();
  GeglNode     *source, *sink;

  gegl_buffer_set (buffer, &rect, 0, format, pixels, GEGL_AUTO_ROWSTRIDE);
  source = gegl_node_new_child (graph, "operation", "gegl:buffer-source",
                                "buffer", buffer, NULL);
  sink = gegl_node_new_child (graph, "operation", "seg:npy-save", "path", path,
                              "depth", 1, NULL);
  gegl_node_link (source, sink);
  log_capture_begin ();
  gegl_node_process (sink);
  g_object_unref (graph);
  g_object_unref (buffer);
  return log_capture_end ();
}

/* path holds the saved image. */
static void
assert_holds_image (const gchar *path)
{
  GBytes      *saved = file_bytes (path);
  SegNpyHeader h     = file_header (saved);

  ck_assert_int_eq (h.n_dims, 2);
  ck_assert_int_eq (h.shape[0], 2);
  ck_assert_int_eq (h.shape[1], 3);
  ck_assert (memcmp (file_data (saved, &h), pixels, sizeof pixels) == 0);
  g_bytes_unref (saved);
}

/* ------------------------------------------------------------------------
 * What a path may lead to
 * --------------------------------------------------------------------- */

/* Saves the image to path: TRUE when nothing was said, else FALSE with
 * the problem that the op's one message gives. */
static gboolean
write_image (const gchar *path, gchar **problem)
{
  gchar *log = save_to (path);

  *problem = sink_write_problem (log, "seg:npy-save", path);
  g_free (log);
  return *problem == NULL;
}

START_TEST (test_target_case)
{
  static const Writer writer = { write_image, assert_holds_image };

  target_case_run (_i, &writer);
}
END_TEST

/* A write that fails half-way through the header (at a file size limit,
 * as at a full disk): the op's one message, the old file as it was, no
 * temporary file. */
START_TEST (test_failed_write_leaves_the_old_file)
{
  gchar *path    = in_test_folder ("old.npy");
  gchar *problem = NULL;

  write_text (path, "old", 0640);
  file_size_limit_begin (64);
  ck_assert (!write_image (path, &problem));
  file_size_limit_end ();
  /* What GIO says of EFBIG, in the user's language. */
  ck_assert (problem[0] != '\0');
  assert_text (path, "old");
  ck_assert_int_eq (mode_of (path) & 07777, 0640);
  g_free (problem);
  g_free (path);
}
END_TEST

/* ------------------------------------------------------------------------
 * The gegl command line
 * --------------------------------------------------------------------- */

static gchar *
fixture (void)
{
  gchar *data_dir = env_or ("SEG_DATA_DIR", "data");
  gchar *path     = g_build_filename (data_dir, "npy", "u1-c.npy", NULL);

  g_free (data_dir);
  return path;
}

/* gegl in.npy -o link.npy writes the link's target, as np.save, cp and
 * gegl:npy-save do. */
START_TEST (test_command_line_writes_through_a_link)
{
  gchar       *in     = fixture ();
  gchar       *target = in_test_folder ("real.npy");
  gchar       *link   = in_test_folder ("link.npy");
  const gchar *args[] = { in, "-o", link, NULL };
  GBytes      *want   = file_bytes (in), *got;

  write_text (target, "old", 0640);
  make_link ("real.npy", link);
  assert_gegl_succeeds (args);
  ck_assert (S_ISLNK (mode_of (link)));
  got = file_bytes (target);
  ck_assert (g_bytes_equal (got, want));
  ck_assert_int_eq (mode_of (target) & 07777, 0640);
  g_bytes_unref (got);
  g_bytes_unref (want);
  g_free (link);
  g_free (target);
  g_free (in);
}
END_TEST

START_TEST (test_command_line_refuses_a_fifo)
{
  gchar       *in     = fixture ();
  gchar       *path   = in_test_folder ("pipe.npy");
  const gchar *args[] = { in, "-o", path, NULL };
  Run          run;

  make_fifo (path);
  guard_begin (120, "gegl -o on a named pipe");
  run = run_gegl (args);
  guard_end ();
  assert_has (run.stderr_text, "seg:npy-save: ");
  assert_has (run.stderr_text, "named pipe");
  ck_assert (S_ISFIFO (mode_of (path)));
  run_free (&run);
  g_free (path);
  g_free (in);
}
END_TEST

static Suite *
save_target_suite (void)
{
  Suite *s        = suite_create ("gegl-npy-save-target");
  TCase *targets  = harness_tcase (s, "what a path leads to");
  TCase *failures = harness_tcase (s, "failures");
  TCase *cli      = harness_tcase (s, "command line");

  tcase_add_checked_fixture (targets, NULL, file_harness_teardown);
  tcase_add_checked_fixture (failures, test_folder_setup,
                             file_harness_teardown);
  tcase_add_checked_fixture (cli, test_folder_setup, file_harness_teardown);
  tcase_add_loop_test (targets, test_target_case, 0, target_case_count ());
  tcase_add_test (failures, test_failed_write_leaves_the_old_file);
  tcase_add_test (cli, test_command_line_writes_through_a_link);
  tcase_add_test (cli, test_command_line_refuses_a_fifo);
  return s;
}

int
main (int argc, char **argv)
{
  harness_init (&argc, &argv);
  return harness_run (save_target_suite ());
}
