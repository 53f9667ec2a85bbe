/* SPDX-License-Identifier: LGPL-3.0-or-later
 *
 * What the tests of replacing files share (seg-file-replace.c alone, and
 * seg:npy-save on what its path leads to): a fresh folder per test, the
 * special files that a target may be, an ordinary user's identity taken
 * for a while by a test running as root, a guard that fails a test which
 * blocks, and checks of what a folder and a file hold.  GLib and check
 * only, no GEGL.
 */
#ifndef FILE_HARNESS_H
#define FILE_HARNESS_H

#include <glib.h>
#include <sys/types.h>

G_BEGIN_DECLS

/* The user and group taken by tests that run as root (nobody, nogroup),
 * and another owner that root gives files. */
#define ORDINARY_ID 65534
#define OTHER_ID    12345

/* A fresh folder below the system's temporary folder that anybody may
 * enter (the ordinary user must reach files in it) but only its owner
 * write; free it with folder_remove (), which removes all it holds. */
gchar *folder_new (void);
void   folder_remove (gchar *folder);

/* A checked fixture for tests that arrange files by hand: setup makes a
 * fresh folder and sets the umask to 022; file_harness_teardown () checks
 * that it holds no temporary file and removes it.  in_test_folder ()
 * names a file in it (free it). */
void   test_folder_setup (void);
gchar *in_test_folder (const gchar *name);

/* Fails the test when folder holds a hidden file (a temporary one). */
void assert_no_temporaries (const gchar *folder);

/* path's contents, which must be text; fails the test when it cannot be
 * read.  write_text () creates or truncates path, with mode. */
gchar *file_text (const gchar *path);
void   write_text (const gchar *path, const gchar *text, mode_t mode);
void   assert_text (const gchar *path, const gchar *want);

/* lstat () of path, which must exist. */
mode_t mode_of (const gchar *path);
uid_t  owner_of (const gchar *path);
gid_t  group_of (const gchar *path);

/* A symbolic link at path to to; a named pipe, a bound socket and a
 * character device (like /dev/null) at path.  make_device () prints a
 * note and returns FALSE when the process may not make one (not root, or
 * a container without CAP_MKNOD). */
void     make_link (const gchar *to, const gchar *path);
void     make_fifo (const gchar *path);
void     make_socket (const gchar *path);
gboolean make_device (const gchar *path);

/* Prints why part of a test was skipped, so the log shows it. */
void skip_note (const gchar *test, const gchar *why);

/* Ends the program with a message when guard_end () is not reached
 * within seconds: a regression that blocks (opening a named pipe waits
 * for a reader forever) fails instead of hanging. */
void guard_begin (guint seconds, const gchar *what);
void guard_end (void);

/* Makes writes beyond bytes in any file fail (EFBIG, as ENOSPC at a full
 * disk would) until file_size_limit_end (); SIGXFSZ is ignored meanwhile.
 * Root is bound by it too. */
void file_size_limit_begin (gsize bytes);
void file_size_limit_end (void);

/* TRUE when the process runs as root. */
gboolean is_root (void);

/* ------------------------------------------------------------------------
 * What a path may lead to: the cases that every writer must serve
 * --------------------------------------------------------------------- */

/* A way of writing a file that the cases test: seg-file-replace.c itself,
 * or seg:npy-save in a graph. */
typedef struct
{
  /* Writes new contents to path: TRUE, or FALSE with *problem set to what
   * went wrong, in the words of seg-file-replace.c (free it). */
  gboolean (*write) (const gchar *path, gchar **problem);
  /* Fails the test unless path holds what write () wrote. */
  void (*assert_written) (const gchar *path);
} Writer;

/* The cases: a file with its permissions, owner and group, other hard
 * links, named pipes, sockets, devices, folders, symbolic links
 * (absolute, relative, chains, dangling, loops), a read-only folder, a
 * write-protected file, a missing folder. */
gint target_case_count (void);

/* Arranges case i in a fresh folder (umask 022), writes with writer (as
 * an ordinary user when the case says so, guarded against blocking) and
 * checks where the new contents went, or that they were refused with the
 * case's message; that everything else in the folder is as it was; and
 * that no temporary file is left.  A case that needs root is skipped with
 * a note when the process is not. */
void target_case_run (gint i, const Writer *writer);

/* For a checked fixture's teardown: ends what a failed test left running
 * (guard, size limit, ordinary user) and removes its folders. */
void file_harness_teardown (void);

/* Makes the process an ordinary user: as root, takes ORDINARY_ID as
 * effective user and group, with OTHER_ID as a supplementary group
 * (every thread; the saved ids stay root's, so ordinary_user_end () can
 * come back); otherwise it is one already.
 * FALSE, with a note, when that fails. */
gboolean ordinary_user_begin (const gchar *test);
void     ordinary_user_end (void);

G_END_DECLS

#endif
