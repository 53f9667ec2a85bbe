/* SPDX-License-Identifier: LGPL-3.0-or-later
 *
 * Replacing a file atomically (seg-file-replace.h has the rules).  Plain
 * POSIX calls on paths: open, lstat, readlink, fchown, fchmod, fsync,
 * rename.
 */
/* fchown (), faccessat (), O_CLOEXEC …: C11 alone declares none of them. */
#define _POSIX_C_SOURCE 200809L

#include "config.h"

#include "seg-file-replace.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <gio/gunixoutputstream.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>

/* Links followed at most, as Linux follows in a path (MAXSYMLINKS). */
#define MAX_LINKS 40

/* Bytes of the target's name kept in the temporary file's name, which
 * must stay within NAME_MAX (255) with the 14 bytes added around it. */
#define MAX_NAME_IN_TEMPORARY 200

/* Random names tried for the temporary file. */
#define MAX_ATTEMPTS 100

struct _SegFileReplace
{
  gchar         *target;    /* path, its links followed                   */
  gboolean       via_link;  /* target was reached through a link          */
  gchar         *temporary; /* the file being written, beside target      */
  gint           fd;        /* temporary, open for writing                */
  GOutputStream *stream;    /* writes to fd and closes it                 */
};

/* ------------------------------------------------------------------------
 * Errors
 * --------------------------------------------------------------------- */

/* Sets error to format's message followed by ": " and errno's text. */
static G_GNUC_PRINTF (3, 4) void set_errno_error (GError     **error,
                                                  gint         saved_errno,
                                                  const gchar *format,
                                                  ...)
{
  va_list args;
  gchar  *what;

  va_start (args, format);
  what = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno), "%s: %s",
               what, g_strerror (saved_errno));
  g_free (what);
}

/* What a file of mode is, as a noun for the messages below. */
static const gchar *
kind_name (mode_t mode)
{
  if (S_ISDIR (mode))
    return _ ("a folder");
  if (S_ISFIFO (mode))
    return _ ("a named pipe (FIFO)");
  if (S_ISSOCK (mode))
    return _ ("a socket");
  if (S_ISCHR (mode))
    return _ ("a character device");
  if (S_ISBLK (mode))
    return _ ("a block device");
  if (S_ISLNK (mode))
    return _ ("a symbolic link");
  return _ ("a special file");
}

/* Refuses a target of mode that is not a regular file. */
static void
refuse_kind (const SegFileReplace *r, mode_t mode, GError **error)
{
  gint code =
    S_ISDIR (mode) ? G_IO_ERROR_IS_DIRECTORY : G_IO_ERROR_NOT_REGULAR_FILE;
  gchar *name = g_filename_display_name (r->target);

  if (r->via_link)
    /* TRANSLATORS: the first %s is a file, the second one of "a folder",
     * "a named pipe (FIFO)", "a socket", "a character device" … */
    g_set_error (error, G_IO_ERROR, code,
                 _ ("it is a symbolic link to %s, which is %s, not a regular "
                    "file"),
                 name, kind_name (mode));
  else
    /* TRANSLATORS: %s is one of "a folder", "a named pipe (FIFO)" … */
    g_set_error (error, G_IO_ERROR, code, _ ("it is %s, not a regular file"),
                 kind_name (mode));
  g_free (name);
}

static void
refuse_write_protected (const SegFileReplace *r, GError **error)
{
  gchar *name = g_filename_display_name (r->target);

  if (r->via_link)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
                 _ ("it is a symbolic link to %s, which is write-protected"),
                 name);
  else
    g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
                         _ ("it is write-protected"));
  g_free (name);
}

/* The target cannot be lstat ()ed, for saved_errno. */
static void
refuse_unexaminable (const SegFileReplace *r, gint saved_errno, GError **error)
{
  gchar *name = g_filename_display_name (r->target);

  if (r->via_link)
    set_errno_error (error, saved_errno,
                     _ ("it is a symbolic link to %s, which cannot be "
                        "examined"),
                     name);
  else
    set_errno_error (error, saved_errno, _ ("it cannot be examined"));
  g_free (name);
}

/* ------------------------------------------------------------------------
 * The target
 * --------------------------------------------------------------------- */

/* The path that link (a symbolic link) leads to, relative to link's own
 * folder; NULL with error set. */
static gchar *
link_destination (const gchar *link, GError **error)
{
  gchar *to = g_file_read_link (link, error);
  gchar *folder, *path;

  if (to == NULL || g_path_is_absolute (to))
    return to;
  folder = g_path_get_dirname (link);
  path   = g_build_filename (folder, to, NULL);
  g_free (folder);
  g_free (to);
  return path;
}

/* Follows the links at r->target, a chain of up to MAX_LINKS, to what is
 * not a link: sets r->target to it and *st to its lstat (), *exists to
 * whether there is anything.  A relative destination is joined to the
 * link's folder as text, never resolved here, so that a ".." in it means
 * what the kernel makes of it (the parent of the real folder). */
static gboolean
follow_links (SegFileReplace *r,
              struct stat    *st,
              gboolean       *exists,
              GError        **error)
{
  for (gint links = 0; links <= MAX_LINKS; links++)
    {
      gchar *next;

      if (g_lstat (r->target, st) != 0)
        {
          *exists = FALSE;
          if (errno == ENOENT)
            return TRUE;
          refuse_unexaminable (r, errno, error);
          return FALSE;
        }
      *exists = TRUE;
      if (!S_ISLNK (st->st_mode))
        return TRUE;
      if ((next = link_destination (r->target, error)) == NULL)
        return FALSE;
      g_free (r->target);
      r->target   = next;
      r->via_link = TRUE;
    }
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_TOO_MANY_LINKS,
               _ ("it leads through more than %d symbolic links"), MAX_LINKS);
  return FALSE;
}

/* FALSE with error set unless the target, of lstat () st, is a regular
 * file the process may write, or nothing (exists FALSE). */
static gboolean
target_is_replaceable (const SegFileReplace *r,
                       const struct stat    *st,
                       gboolean              exists,
                       GError              **error)
{
  if (!exists)
    return TRUE;
  if (!S_ISREG (st->st_mode))
    {
      refuse_kind (r, st->st_mode, error);
      return FALSE;
    }
  /* The effective ids, as open () checks them.  Other failures (a
   * read-only file system …) surface when the temporary file is made. */
  if (faccessat (AT_FDCWD, r->target, W_OK, AT_EACCESS) != 0 &&
      (errno == EACCES || errno == EPERM))
    {
      refuse_write_protected (r, error);
      return FALSE;
    }
  return TRUE;
}

/* ------------------------------------------------------------------------
 * The temporary file
 * --------------------------------------------------------------------- */

/* Creates a new, empty file beside r->target under a hidden random name,
 * readable and writable by its owner only while it is written; sets
 * r->temporary and r->fd. */
static gboolean
create_temporary (SegFileReplace *r, GError **error)
{
  gchar *folder      = g_path_get_dirname (r->target);
  gchar *base        = g_path_get_basename (r->target);
  gint   saved_errno = EEXIST;

  if (strlen (base) > MAX_NAME_IN_TEMPORARY)
    base[MAX_NAME_IN_TEMPORARY] = '\0';
  for (gint attempt = 0;
       attempt < MAX_ATTEMPTS && r->fd < 0 && saved_errno == EEXIST; attempt++)
    {
      gchar *name = g_strdup_printf (".%s.%08x.tmp", base, g_random_int ());

      g_free (r->temporary);
      r->temporary = g_build_filename (folder, name, NULL);
      r->fd =
        open (r->temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY,
              S_IRUSR | S_IWUSR);
      saved_errno = errno;
      g_free (name);
    }
  if (r->fd < 0)
    {
      gchar *name = g_filename_display_name (folder);

      g_clear_pointer (&r->temporary, g_free);
      set_errno_error (error, saved_errno,
                       _ ("cannot create a temporary file in %s"), name);
      g_free (name);
    }
  g_free (base);
  g_free (folder);
  return r->fd >= 0;
}

/* The process's umask, from /proc: umask () only reads it by setting it,
 * which would hand other threads' new files the wrong mode meanwhile.
 * Without /proc, 077: the new file is then private rather than open. */
static mode_t
process_umask (void)
{
  FILE *status = fopen ("/proc/self/status", "re");
  gchar line[256];
  guint mask = 077;

  while (status != NULL && fgets (line, sizeof line, status) != NULL)
    if (sscanf (line, "Umask: %o", &mask) == 1)
      break;
  if (status != NULL)
    fclose (status);
  return (mode_t) mask & 0777;
}

/* Gives fd the owner and group of old (lstat () of the file it replaces)
 * where permitted: only root may give a file away, so for an ordinary
 * process EPERM is no failure; it then keeps at least the group, when it
 * is a member of it. */
static gboolean
give_owner (gint fd, const struct stat *old, GError **error)
{
  if (fchown (fd, old->st_uid, old->st_gid) == 0 ||
      (errno == EPERM &&
       (fchown (fd, (uid_t) -1, old->st_gid) == 0 || errno == EPERM)))
    return TRUE;
  set_errno_error (error, errno, _ ("cannot give the new file its owner"));
  return FALSE;
}

/* Gives fd the owner, group and permission bits of old, or the mode of a
 * new file when old is NULL. */
static gboolean
give_attributes (gint fd, const struct stat *old, GError **error)
{
  mode_t mode = old != NULL ? old->st_mode & 0777 : 0666 & ~process_umask ();

  if (old != NULL && !give_owner (fd, old, error))
    return FALSE;
  /* Last: fchown () may clear mode bits. */
  if (fchmod (fd, mode) != 0)
    {
      set_errno_error (error, errno,
                       _ ("cannot give the new file its permissions"));
      return FALSE;
    }
  return TRUE;
}

/* Makes the rename durable.  Best effort: the file is in place already,
 * and some file systems cannot sync a folder. */
static void
sync_folder (const gchar *target)
{
  gchar *folder = g_path_get_dirname (target);
  gint   fd     = open (folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

  if (fd >= 0)
    {
      fsync (fd);
      close (fd);
    }
  g_free (folder);
}

/* Closes and removes the temporary file, if any, and frees r. */
static void
discard (SegFileReplace *r)
{
  if (r->temporary != NULL)
    g_unlink (r->temporary);
  if (r->stream != NULL)
    {
      g_output_stream_close (r->stream, NULL, NULL);
      g_object_unref (r->stream);
    }
  else if (r->fd >= 0)
    close (r->fd);
  g_free (r->temporary);
  g_free (r->target);
  g_free (r);
}

/* ------------------------------------------------------------------------
 * The interface
 * --------------------------------------------------------------------- */

SegFileReplace *
seg_file_replace_begin (const gchar *path, GError **error)
{
  SegFileReplace *r;
  struct stat     st;
  gboolean        exists;

  g_return_val_if_fail (path != NULL && *path != '\0', NULL);

  r         = g_new0 (SegFileReplace, 1);
  r->target = g_strdup (path);
  r->fd     = -1;
  if (!follow_links (r, &st, &exists, error) ||
      !target_is_replaceable (r, &st, exists, error) ||
      !create_temporary (r, error))
    {
      discard (r);
      return NULL;
    }
  r->stream = g_unix_output_stream_new (r->fd, TRUE);
  return r;
}

GOutputStream *
seg_file_replace_stream (SegFileReplace *r)
{
  return r->stream;
}

gboolean
seg_file_replace_check_room (SegFileReplace *r, guint64 size, GError **error)
{
  struct statvfs fs;
  guint64        room;
  gchar          need[24], have[24];

  if (fstatvfs (r->fd, &fs) != 0)
    return TRUE; /* cannot tell: the writes will say */
  room = (guint64) fs.f_bavail * (guint64) fs.f_frsize;
  if (room >= size)
    return TRUE;
  /* The counts as text: a translated string cannot hold G_GUINT64_FORMAT. */
  g_snprintf (need, sizeof need, "%" G_GUINT64_FORMAT, size);
  g_snprintf (have, sizeof have, "%" G_GUINT64_FORMAT, room);
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE,
               _ ("the file needs %s bytes and the disk has %s free"), need,
               have);
  return FALSE;
}

gboolean
seg_file_replace_write_at (SegFileReplace *r,
                           const void     *data,
                           gsize           size,
                           guint64         offset,
                           GError        **error)
{
  const guint8 *p = data;

  while (size > 0)
    {
      const gssize n = pwrite (r->fd, p, size, (off_t) offset);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          set_errno_error (error, n < 0 ? errno : EIO,
                           _ ("cannot write the new file"));
          return FALSE;
        }
      p += n;
      size -= (gsize) n;
      offset += (guint64) n;
    }
  return TRUE;
}

/* The written file made whole on the disk, under its temporary name: the
 * target examined again (it may have changed since
 * seg_file_replace_begin (), and its permissions and owner are wanted as
 * they are now), the file given them, fsync ()ed and closed. */
static gboolean
finish (SegFileReplace *r, GError **error)
{
  struct stat st;
  gboolean    exists = g_lstat (r->target, &st) == 0;

  if (!exists && errno != ENOENT)
    {
      refuse_unexaminable (r, errno, error);
      return FALSE;
    }
  if (!target_is_replaceable (r, &st, exists, error) ||
      !give_attributes (r->fd, exists ? &st : NULL, error))
    return FALSE;
  if (fsync (r->fd) != 0)
    {
      set_errno_error (error, errno,
                       _ ("cannot write the new file to the disk"));
      return FALSE;
    }
  /* Close errors count: a network file system may report a failed write
   * only now. */
  return g_output_stream_close (r->stream, NULL, error);
}

/* The finished file renamed over the target. */
static gboolean
put_in_place (SegFileReplace *r, GError **error)
{
  if (g_rename (r->temporary, r->target) != 0)
    {
      set_errno_error (error, errno,
                       _ ("cannot rename the new file into place"));
      return FALSE;
    }
  g_clear_pointer (&r->temporary, g_free);
  sync_folder (r->target);
  return TRUE;
}

gboolean
seg_file_replace_commit (SegFileReplace *r, GError **error)
{
  return seg_file_replace_commit_all (&r, 1, error);
}

gboolean
seg_file_replace_commit_all (SegFileReplace **r, guint n, GError **error)
{
  gboolean ok = TRUE;

  for (guint i = 0; i < n && ok; i++)
    ok = finish (r[i], error);
  for (guint i = 0; i < n && ok; i++)
    ok = put_in_place (r[i], error);
  for (guint i = 0; i < n; i++)
    discard (r[i]);
  return ok;
}

void
seg_file_replace_abort (SegFileReplace *r)
{
  discard (r);
}
