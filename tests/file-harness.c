/* SPDX-License-Identifier: LGPL-3.0-or-later */
#define _GNU_SOURCE /* setgroups (), nftw () flags */
#include "file-harness.h"

#include <check.h>
#include <errno.h>
#include <ftw.h>
#include <glib/gstdio.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <unistd.h>

/* ------------------------------------------------------------------------
 * Folders and files
 * --------------------------------------------------------------------- */

gchar *
folder_new (void)
{
  gchar *folder = g_dir_make_tmp ("gegl-seg-replace-XXXXXX", NULL);

  ck_assert_ptr_nonnull (folder);
  ck_assert_int_eq (g_chmod (folder, 0755), 0);
  return folder;
}

/* The folder of test_folder_setup (). */
static gchar *test_folder;

void
test_folder_setup (void)
{
  test_folder = folder_new ();
  umask (022);
}

gchar *
in_test_folder (const gchar *name)
{
  return g_build_filename (test_folder, name, NULL);
}

/* Folders that a test made read-only must be writable to be emptied. */
static int
make_writable (const char                      *path,
               G_GNUC_UNUSED const struct stat *st,
               int                              flag,
               G_GNUC_UNUSED struct FTW        *ftw)
{
  if (flag == FTW_D || flag == FTW_DNR)
    g_chmod (path, 0700);
  return 0;
}

static int
remove_one (const char                      *path,
            G_GNUC_UNUSED const struct stat *st,
            G_GNUC_UNUSED int                flag,
            G_GNUC_UNUSED struct FTW        *ftw)
{
  remove (path);
  return 0;
}

void
folder_remove (gchar *folder)
{
  nftw (folder, make_writable, 16, FTW_PHYS);
  nftw (folder, remove_one, 16, FTW_DEPTH | FTW_PHYS);
  g_free (folder);
}

void
assert_no_temporaries (const gchar *folder)
{
  GDir        *dir = g_dir_open (folder, 0, NULL);
  const gchar *name;

  ck_assert_ptr_nonnull (dir);
  while ((name = g_dir_read_name (dir)) != NULL)
    ck_assert_msg (name[0] != '.', "%s/%s was left behind", folder, name);
  g_dir_close (dir);
}

gchar *
file_text (const gchar *path)
{
  gchar *text = NULL;

  ck_assert_msg (g_file_get_contents (path, &text, NULL, NULL),
                 "cannot read %s", path);
  return text;
}

void
write_text (const gchar *path, const gchar *text, mode_t mode)
{
  FILE *f = fopen (path, "w");

  ck_assert_msg (f != NULL, "cannot create %s: %s", path, g_strerror (errno));
  ck_assert_int_eq (fputs (text, f) >= 0, TRUE);
  ck_assert_int_eq (fclose (f), 0);
  ck_assert_int_eq (g_chmod (path, mode), 0);
}

void
assert_text (const gchar *path, const gchar *want)
{
  gchar *got = file_text (path);

  ck_assert_msg (strcmp (got, want) == 0, "%s holds \"%s\", want \"%s\"", path,
                 got, want);
  g_free (got);
}

static struct stat
lstat_of (const gchar *path)
{
  struct stat st;

  ck_assert_msg (g_lstat (path, (GStatBuf *) &st) == 0, "%s: %s", path,
                 g_strerror (errno));
  return st;
}

mode_t
mode_of (const gchar *path)
{
  return lstat_of (path).st_mode;
}

uid_t
owner_of (const gchar *path)
{
  return lstat_of (path).st_uid;
}

gid_t
group_of (const gchar *path)
{
  return lstat_of (path).st_gid;
}

/* ------------------------------------------------------------------------
 * Special files
 * --------------------------------------------------------------------- */

void
make_link (const gchar *to, const gchar *path)
{
  ck_assert_msg (symlink (to, path) == 0, "symlink %s: %s", path,
                 g_strerror (errno));
}

void
make_fifo (const gchar *path)
{
  ck_assert_msg (mkfifo (path, 0644) == 0, "mkfifo %s: %s", path,
                 g_strerror (errno));
}

void
make_socket (const gchar *path)
{
  struct sockaddr_un address = { .sun_family = AF_UNIX };
  gint               fd      = socket (AF_UNIX, SOCK_STREAM, 0);

  ck_assert_int_lt (strlen (path), sizeof address.sun_path);
  strcpy (address.sun_path, path);
  ck_assert_int_ge (fd, 0);
  ck_assert_msg (bind (fd, (struct sockaddr *) &address, sizeof address) == 0,
                 "bind %s: %s", path, g_strerror (errno));
  /* The file stays after the socket is closed. */
  close (fd);
}

gboolean
make_device (const gchar *path)
{
  /* 1, 3 is /dev/null's number: harmless if a test were to write to it. */
  if (mknod (path, S_IFCHR | 0666, makedev (1, 3)) == 0)
    return TRUE;
  skip_note ("character device", g_strerror (errno));
  return FALSE;
}

void
skip_note (const gchar *test, const gchar *why)
{
  printf ("SKIP %s: %s\n", test, why);
  fflush (stdout);
}

/* ------------------------------------------------------------------------
 * Guards and users
 * --------------------------------------------------------------------- */

static gchar guarded[256];

static void
guard_fired (G_GNUC_UNUSED int number)
{
  static const char text[] = " blocked: stopped by the test's alarm\n";

  /* Only async-signal-safe calls here. */
  if (write (STDERR_FILENO, guarded, strlen (guarded)) < 0 ||
      write (STDERR_FILENO, text, sizeof text - 1) < 0)
    _exit (EXIT_FAILURE);
  _exit (EXIT_FAILURE);
}

void
guard_begin (guint seconds, const gchar *what)
{
  g_strlcpy (guarded, what, sizeof guarded);
  signal (SIGALRM, guard_fired);
  alarm (seconds);
}

void
guard_end (void)
{
  alarm (0);
  signal (SIGALRM, SIG_DFL);
}

/* The limit before file_size_limit_begin (), while size_limited. */
static struct rlimit size_limit_before;
static gboolean      size_limited;

void
file_size_limit_begin (gsize bytes)
{
  struct rlimit small;

  ck_assert_int_eq (getrlimit (RLIMIT_FSIZE, &size_limit_before), 0);
  small          = size_limit_before;
  small.rlim_cur = bytes;
  signal (SIGXFSZ, SIG_IGN);
  ck_assert_int_eq (setrlimit (RLIMIT_FSIZE, &small), 0);
  size_limited = TRUE;
}

void
file_size_limit_end (void)
{
  if (!size_limited)
    return;
  setrlimit (RLIMIT_FSIZE, &size_limit_before);
  signal (SIGXFSZ, SIG_DFL);
  size_limited = FALSE;
}

gboolean
is_root (void)
{
  return geteuid () == 0;
}

/* Root's supplementary groups while ordinary_user_begin () has taken
 * another identity; NULL otherwise. */
static gid_t *root_groups;
static gint   n_root_groups;

gboolean
ordinary_user_begin (const gchar *test)
{
  const gid_t groups[] = { ORDINARY_ID, OTHER_ID };

  if (!is_root ())
    return TRUE;
  n_root_groups = getgroups (0, NULL);
  root_groups   = g_new (gid_t, MAX (n_root_groups, 1));
  n_root_groups = getgroups (n_root_groups, root_groups);
  /* glibc applies each to every thread of the process. */
  if (setgroups (G_N_ELEMENTS (groups), groups) == 0 &&
      setegid (ORDINARY_ID) == 0 && seteuid (ORDINARY_ID) == 0)
    return TRUE;
  skip_note (test, g_strerror (errno));
  ordinary_user_end ();
  return FALSE;
}

void
ordinary_user_end (void)
{
  if (root_groups == NULL)
    return;
  ck_assert_int_eq (seteuid (0), 0);
  ck_assert_int_eq (setegid (0), 0);
  ck_assert_int_eq (setgroups ((size_t) MAX (n_root_groups, 0), root_groups),
                    0);
  g_clear_pointer (&root_groups, g_free);
}

/* ------------------------------------------------------------------------
 * What a path may lead to
 * --------------------------------------------------------------------- */

typedef enum
{
  ENTRY_FILE,      /* a regular file holding "old"                    */
  ENTRY_HARD_LINK, /* another name of the file `to`                   */
  ENTRY_FOLDER,
  ENTRY_FIFO,
  ENTRY_SOCKET,
  ENTRY_DEVICE,        /* a character device, like /dev/null              */
  ENTRY_LINK,          /* a symbolic link to `to`, as written             */
  ENTRY_ABSOLUTE_LINK, /* a symbolic link to the folder's `to`            */
  ENTRY_MODE,          /* the mode of an entry made before, set last      */
} EntryKind;

typedef struct
{
  EntryKind    kind;
  const gchar *name; /* in the case's folder ("." is the folder)     */
  mode_t       mode; /* files, folders, ENTRY_MODE                   */
  const gchar *to;   /* links                                        */
  uid_t        uid;  /* files: owner and group given as root         */
  gid_t        gid;  /* (both 0: as created)                         */
} Entry;

typedef enum
{
  AS_ANYONE,          /* arranged and written by the test's user         */
  AS_ROOT,            /* needs root                                      */
  AS_ORDINARY,        /* written by an ordinary user (as root: nobody)   */
  ROOT_THEN_ORDINARY, /* arranged by root, written by an ordinary user   */
} Who;

typedef struct
{
  const gchar *what;
  Who          who;
  Entry        entries[4];
  const gchar *path;     /* written to                                 */
  const gchar *written;  /* where the contents land; NULL: refused     */
  const gchar *problem;  /* refused: how the message starts; %s, if
                            * any, is the case's folder                  */
  mode_t       mode;     /* written: its permission bits               */
  gint         uid, gid; /* written: its owner and group; -1: any      */
} TargetCase;

/* Entries, all fields given. */
#define FILE_(name, mode)              \
  {                                    \
    ENTRY_FILE, name, mode, NULL, 0, 0 \
  }
#define FILE_OF(name, mode, uid, gid)      \
  {                                        \
    ENTRY_FILE, name, mode, NULL, uid, gid \
  }
#define HARD_LINK(name, to)            \
  {                                    \
    ENTRY_HARD_LINK, name, 0, to, 0, 0 \
  }
#define FOLDER(name, mode)               \
  {                                      \
    ENTRY_FOLDER, name, mode, NULL, 0, 0 \
  }
#define FIFO(name)                  \
  {                                 \
    ENTRY_FIFO, name, 0, NULL, 0, 0 \
  }
#define SOCKET(name)                  \
  {                                   \
    ENTRY_SOCKET, name, 0, NULL, 0, 0 \
  }
#define DEVICE(name)                  \
  {                                   \
    ENTRY_DEVICE, name, 0, NULL, 0, 0 \
  }
#define LINK(name, to)            \
  {                               \
    ENTRY_LINK, name, 0, to, 0, 0 \
  }
#define ABSOLUTE_LINK(name, to)            \
  {                                        \
    ENTRY_ABSOLUTE_LINK, name, 0, to, 0, 0 \
  }
#define MODE(name, mode)               \
  {                                    \
    ENTRY_MODE, name, mode, NULL, 0, 0 \
  }

/* How a case ends: the contents written to `written`, which has mode (and
 * uid, gid unless ANY); or refused with a message that starts with
 * problem. */
#define ANY -1
#define WRITES(to, bits, owner, group) \
  .written = to, .mode = bits, .uid = owner, .gid = group
#define REFUSED(text) .problem = text
#define NOT_REGULAR   ", not a regular file"

static const TargetCase target_cases[] = {
  { "a file keeps 0600",
    AS_ANYONE,
    { FILE_ ("f.npy", 0600) },
    "f.npy",
    WRITES ("f.npy", 0600, ANY, ANY) },
  { "a file keeps 0751",
    AS_ANYONE,
    { FILE_ ("f.npy", 0751) },
    "f.npy",
    WRITES ("f.npy", 0751, ANY, ANY) },
  { "a file keeps 0604",
    AS_ANYONE,
    { FILE_ ("f.npy", 0604) },
    "f.npy",
    WRITES ("f.npy", 0604, ANY, ANY) },
  { "set-ID bits are not carried over",
    AS_ANYONE,
    { FILE_ ("f.npy", 06755) },
    "f.npy",
    WRITES ("f.npy", 0755, ANY, ANY) },
  { "the sticky bit is not carried over",
    AS_ANYONE,
    { FILE_ ("f.npy", 01644) },
    "f.npy",
    WRITES ("f.npy", 0644, ANY, ANY) },
  { "a new file gets 0666 less the umask",
    AS_ANYONE,
    { { 0 } },
    "f.npy",
    WRITES ("f.npy", 0644, ANY, ANY) },
  { "root keeps owner and group",
    AS_ROOT,
    { FILE_OF ("f.npy", 0640, OTHER_ID, OTHER_ID + 1) },
    "f.npy",
    WRITES ("f.npy", 0640, OTHER_ID, OTHER_ID + 1) },
  /* Only root may give a file away: that is no failure. */
  { "an ordinary user keeps the group they are in",
    ROOT_THEN_ORDINARY,
    { MODE (".", 0777), FILE_OF ("f.npy", 0666, 0, OTHER_ID) },
    "f.npy",
    WRITES ("f.npy", 0666, ORDINARY_ID, OTHER_ID) },
  { "an ordinary user cannot keep another group",
    ROOT_THEN_ORDINARY,
    { MODE (".", 0777), FILE_ ("f.npy", 0666) },
    "f.npy",
    WRITES ("f.npy", 0666, ORDINARY_ID, ORDINARY_ID) },
  { "other hard links keep the old contents",
    AS_ANYONE,
    { FILE_ ("one.npy", 0644), HARD_LINK ("two.npy", "one.npy") },
    "one.npy",
    WRITES ("one.npy", 0644, ANY, ANY) },
  { "a named pipe is refused",
    AS_ANYONE,
    { FIFO ("p.npy") },
    "p.npy",
    REFUSED ("it is a named pipe (FIFO)" NOT_REGULAR) },
  { "a socket is refused",
    AS_ANYONE,
    { SOCKET ("s.npy") },
    "s.npy",
    REFUSED ("it is a socket" NOT_REGULAR) },
  { "a character device is refused",
    AS_ANYONE,
    { DEVICE ("null.npy") },
    "null.npy",
    REFUSED ("it is a character device" NOT_REGULAR) },
  { "a folder is refused",
    AS_ANYONE,
    { FOLDER ("d.npy", 0755), FILE_ ("d.npy/kept", 0644) },
    "d.npy",
    REFUSED ("it is a folder" NOT_REGULAR) },
  { "an absolute link is written through",
    AS_ANYONE,
    { FILE_ ("real.npy", 0600), ABSOLUTE_LINK ("link.npy", "real.npy") },
    "link.npy",
    WRITES ("real.npy", 0600, ANY, ANY) },
  { "a relative link leads from its own folder",
    AS_ANYONE,
    { FOLDER ("sub", 0755), FILE_ ("real.npy", 0644),
      LINK ("sub/link.npy", "../real.npy") },
    "sub/link.npy",
    WRITES ("real.npy", 0644, ANY, ANY) },
  { "a chain of two links is followed",
    AS_ANYONE,
    { FILE_ ("real.npy", 0640), LINK ("second.npy", "real.npy"),
      LINK ("first.npy", "second.npy") },
    "first.npy",
    WRITES ("real.npy", 0640, ANY, ANY) },
  /* As np.save (open () with O_CREAT) does. */
  { "a dangling link creates its target",
    AS_ANYONE,
    { LINK ("link.npy", "later.npy") },
    "link.npy",
    WRITES ("later.npy", 0644, ANY, ANY) },
  { "a link to a named pipe is refused",
    AS_ANYONE,
    { FIFO ("pipe"), LINK ("link.npy", "pipe") },
    "link.npy",
    REFUSED ("it is a symbolic link to %s/pipe, which is a "
             "named pipe (FIFO)" NOT_REGULAR) },
  { "a link to a folder is refused",
    AS_ANYONE,
    { FOLDER ("sub", 0755), LINK ("link.npy", "sub") },
    "link.npy",
    REFUSED ("it is a symbolic link to %s/sub, which is a "
             "folder" NOT_REGULAR) },
  { "a loop of links is refused",
    AS_ANYONE,
    { LINK ("a.npy", "b.npy"), LINK ("b.npy", "a.npy") },
    "a.npy",
    REFUSED ("it leads through more than 40 symbolic links") },
  { "a read-only folder is refused",
    AS_ORDINARY,
    { FOLDER ("ro", 0755), FILE_ ("ro/f.npy", 0666), MODE ("ro", 0555) },
    "ro/f.npy",
    REFUSED ("cannot create a temporary file in %s/ro: ") },
  /* A rename in a writable folder would get round the protection, which
   * open () (np.save, cp, GEGL's savers) respects. */
  { "a write-protected file is refused",
    AS_ORDINARY,
    { MODE (".", 0777), FILE_OF ("f.npy", 0444, ORDINARY_ID, ORDINARY_ID) },
    "f.npy",
    REFUSED ("it is write-protected") },
  { "root replaces a write-protected file",
    AS_ROOT,
    { FILE_ ("f.npy", 0444) },
    "f.npy",
    WRITES ("f.npy", 0444, 0, 0) },
  { "a missing folder is reported",
    AS_ANYONE,
    { { 0 } },
    "none/f.npy",
    REFUSED ("cannot create a temporary file in %s/none: ") },
};

/* The folder of the case running, for file_harness_teardown (). */
static gchar *case_folder;

gint
target_case_count (void)
{
  return G_N_ELEMENTS (target_cases);
}

static gsize
n_entries (const TargetCase *c)
{
  gsize n = 0;

  while (n < G_N_ELEMENTS (c->entries) && c->entries[n].name != NULL)
    n++;
  return n;
}

/* Makes entry e in folder; FALSE, with a note, when it cannot be made. */
static gboolean
entry_make (const Entry *e, const gchar *folder)
{
  gchar   *path = g_build_filename (folder, e->name, NULL);
  gchar   *to   = e->to ? g_build_filename (folder, e->to, NULL) : NULL;
  gboolean made = TRUE;

  switch (e->kind)
    {
    case ENTRY_FILE:
      write_text (path, "old", e->mode);
      if (is_root () && (e->uid != 0 || e->gid != 0))
        ck_assert_int_eq (chown (path, e->uid, e->gid), 0);
      break;
    case ENTRY_HARD_LINK: ck_assert_int_eq (link (to, path), 0); break;
    case ENTRY_FOLDER:
      ck_assert_int_eq (g_mkdir (path, (gint) e->mode), 0);
      break;
    case ENTRY_FIFO: make_fifo (path); break;
    case ENTRY_SOCKET: make_socket (path); break;
    case ENTRY_DEVICE: made = make_device (path); break;
    case ENTRY_LINK: make_link (e->to, path); break;
    case ENTRY_ABSOLUTE_LINK: make_link (to, path); break;
    case ENTRY_MODE:
      ck_assert_int_eq (g_chmod (path, (gint) e->mode), 0);
      break;
    }
  g_free (to);
  g_free (path);
  return made;
}

/* The type bits that an entry's kind has. */
static mode_t
entry_type (EntryKind kind)
{
  switch (kind)
    {
    case ENTRY_FILE:
    case ENTRY_HARD_LINK: return S_IFREG;
    case ENTRY_FOLDER: return S_IFDIR;
    case ENTRY_FIFO: return S_IFIFO;
    case ENTRY_SOCKET: return S_IFSOCK;
    case ENTRY_DEVICE: return S_IFCHR;
    case ENTRY_LINK:
    case ENTRY_ABSOLUTE_LINK: return S_IFLNK;
    case ENTRY_MODE: break;
    }
  return 0;
}

/* Entry e, which is not where the new contents went, is as it was made:
 * its type, a file's old contents, a link's destination; a folder holds
 * no temporary file. */
static void
assert_entry_kept (const TargetCase *c, const Entry *e, const gchar *folder)
{
  gchar *path = g_build_filename (folder, e->name, NULL);

  ck_assert_msg ((mode_of (path) & S_IFMT) == entry_type (e->kind),
                 "%s: %s changed type", c->what, e->name);
  if (e->kind == ENTRY_FILE || e->kind == ENTRY_HARD_LINK)
    assert_text (path, "old");
  if (e->kind == ENTRY_FOLDER)
    assert_no_temporaries (path);
  if (e->kind == ENTRY_LINK || e->kind == ENTRY_ABSOLUTE_LINK)
    {
      gchar *want = e->kind == ENTRY_LINK
                      ? g_strdup (e->to)
                      : g_build_filename (folder, e->to, NULL);
      gchar *got  = g_file_read_link (path, NULL);

      ck_assert_msg (g_strcmp0 (got, want) == 0, "%s: %s leads to %s", c->what,
                     e->name, got);
      g_free (got);
      g_free (want);
    }
  g_free (path);
}

/* The new contents are in c->written, with its mode, owner and group. */
static void
assert_written_as_wanted (const TargetCase *c,
                          const Writer     *writer,
                          const gchar      *folder)
{
  gchar *path = g_build_filename (folder, c->written, NULL);

  ck_assert_msg (S_ISREG (mode_of (path)), "%s: %s is not a file", c->what,
                 c->written);
  writer->assert_written (path);
  ck_assert_msg ((mode_of (path) & 07777) == c->mode,
                 "%s: %s has mode %o, want %o", c->what, c->written,
                 (guint) (mode_of (path) & 07777), (guint) c->mode);
  ck_assert_msg (c->uid < 0 || owner_of (path) == (uid_t) c->uid,
                 "%s: owner %d, want %d", c->what, (gint) owner_of (path),
                 c->uid);
  ck_assert_msg (c->gid < 0 || group_of (path) == (gid_t) c->gid,
                 "%s: group %d, want %d", c->what, (gint) group_of (path),
                 c->gid);
  g_free (path);
}

/* Why case c cannot run in this process; NULL when it can. */
static const gchar *
reason_to_skip (const TargetCase *c)
{
  if (is_root ())
    return NULL;
  if (c->who == AS_ROOT)
    return "needs root";
  if (c->who == ROOT_THEN_ORDINARY)
    return "needs root to make a file of another owner";
  return NULL;
}

/* Arranges c in case_folder and writes to its path; the writer's answer. */
static gboolean
arrange_and_write (const TargetCase *c,
                   const Writer     *writer,
                   gboolean         *skipped,
                   gchar           **problem)
{
  gchar   *path        = g_build_filename (case_folder, c->path, NULL);
  gboolean as_ordinary = c->who == AS_ORDINARY || c->who == ROOT_THEN_ORDINARY;
  gboolean ok          = FALSE;

  *skipped = FALSE;
  for (gsize i = 0; i < n_entries (c) && !*skipped; i++)
    *skipped = !entry_make (&c->entries[i], case_folder);
  if (!*skipped && as_ordinary)
    *skipped = !ordinary_user_begin (c->what);
  if (!*skipped)
    {
      guard_begin (60, c->what);
      ok = writer->write (path, problem);
      guard_end ();
      ordinary_user_end ();
    }
  g_free (path);
  return ok;
}

void
target_case_run (gint i, const Writer *writer)
{
  const TargetCase *c       = &target_cases[i];
  const gchar      *skip    = reason_to_skip (c);
  gchar            *problem = NULL;
  gboolean          skipped, ok;

  if (skip != NULL)
    {
      skip_note (c->what, skip);
      return;
    }
  case_folder = folder_new ();
  umask (022);
  ok = arrange_and_write (c, writer, &skipped, &problem);
  if (!skipped && c->written != NULL)
    {
      ck_assert_msg (ok, "%s: %s", c->what, problem);
      assert_written_as_wanted (c, writer, case_folder);
    }
  else if (!skipped)
    {
      gchar *want = g_strdup_printf (c->problem, case_folder);
      gchar *path = g_build_filename (case_folder, c->path, NULL);

      ck_assert_msg (!ok, "%s: %s was written", c->what, c->path);
      ck_assert_msg (g_str_has_prefix (problem, want),
                     "%s: the problem is \"%s\", want \"%s…\"", c->what,
                     problem, want);
      ck_assert_msg (n_entries (c) > 0 ||
                       !g_file_test (path, G_FILE_TEST_EXISTS),
                     "%s: %s was created", c->what, c->path);
      g_free (path);
      g_free (want);
    }
  for (gsize e = 0; e < n_entries (c) && !skipped; e++)
    if (c->entries[e].kind != ENTRY_MODE &&
        g_strcmp0 (c->entries[e].name, c->written) != 0)
      assert_entry_kept (c, &c->entries[e], case_folder);
  assert_no_temporaries (case_folder);
  g_free (problem);
  folder_remove (g_steal_pointer (&case_folder));
}

void
file_harness_teardown (void)
{
  guard_end ();
  file_size_limit_end ();
  ordinary_user_end ();
  if (case_folder != NULL)
    folder_remove (g_steal_pointer (&case_folder));
  if (test_folder != NULL)
    {
      assert_no_temporaries (test_folder);
      folder_remove (g_steal_pointer (&test_folder));
    }
}
