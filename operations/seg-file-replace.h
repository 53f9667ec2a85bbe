/* SPDX-License-Identifier: LGPL-3.0-or-later
 *
 * Replacing a file atomically, for the sinks (seg:npy-save, and the CSV and
 * .npy of seg:label-stats): the new contents are written to a temporary
 * file beside the target and renamed over it only when whole, so readers
 * and crashes see the old file or the new one, never a part.
 *
 *   SegFileReplace *r = seg_file_replace_begin (path, error);
 *   if (r == NULL)
 *     return FALSE;                    nothing was written
 *   if (!write_everything (seg_file_replace_stream (r), error))
 *     {
 *       seg_file_replace_abort (r);    the old file stays as it was
 *       return FALSE;
 *     }
 *   return seg_file_replace_commit (r, error);
 *
 * The rules (docs/npy.md, "Safe writes, clear errors"):
 * - Symbolic links at path are followed, a chain of up to 40, a relative
 *   link against its own folder; the file they lead to is replaced and the
 *   links stay links.  A link that leads nowhere creates its target, as
 *   open () and NumPy's np.save do.
 * - What the path leads to must be a regular file or nothing: a folder, a
 *   named pipe, a socket or a device is refused before anything is
 *   written, and never opened (opening a pipe waits for a reader).
 * - A regular file that the process may not write (open () would fail with
 *   "permission denied") is refused too, although its folder would allow a
 *   rename: replacing must not get round a write protection.
 * - The new file gets the old one's permission bits for user, group and
 *   others; its set-user-ID, set-group-ID and sticky bits are not carried
 *   over to new contents.  It keeps the old owner and group where the
 *   process may give them (root: both; others: the group, when they are a
 *   member of it; the owner only when it is already theirs).  A new file
 *   gets 0666 less the umask, as open () gives it (the umask is read from
 *   /proc; without it, 0600).
 * - Only this name is replaced: other hard links to the old file keep the
 *   old contents (writing in place would not be atomic).
 * - The temporary file is created 0600, with O_EXCL under a hidden random
 *   name (".<name>.<8 hex digits>.tmp"), in the target's folder (which must
 *   therefore be writable).  Before the rename it is given its permissions,
 *   then fsync ()ed, so that a crash cannot leave an empty or partial file
 *   under the final name; after the rename the folder is fsync ()ed too
 *   (best effort: the new file is in place by then).
 * - The commit examines the target again, so that what became a pipe or a
 *   folder in the meantime is refused too, and takes the permissions and
 *   owner it has then.
 * - A failure at any step (the checks, a full disk, a rename that fails)
 *   leaves the old file untouched and removes the temporary file.
 *
 * Messages (GError, G_IO_ERROR domain) are translated, start in lower
 * case and do not repeat path, which the caller names: "seg:npy-save:
 * /x/y.npy: cannot write the file: it is a named pipe (FIFO), not a
 * regular file." They name any other file involved, such as the target of
 * a link.  What fails while writing to the stream, GIO says in its own
 * words.  Not thread-safe for one SegFileReplace; different ones are
 * independent.
 */
#ifndef SEG_FILE_REPLACE_H
#define SEG_FILE_REPLACE_H

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _SegFileReplace SegFileReplace;

/* Starts replacing path (in the GLib file name encoding): follows its
 * links, checks what they lead to and creates the temporary file.  NULL
 * with error set when the file cannot be replaced; then nothing was
 * created.  Every SegFileReplace ends in one seg_file_replace_commit () or
 * seg_file_replace_abort (), which free it. */
SegFileReplace *seg_file_replace_begin (const gchar *path, GError **error);

/* Where to write the new contents.  Writes go straight to the file, so
 * wrap the stream in a GBufferedOutputStream (close-base-stream FALSE, and
 * flushed before the commit) when writing many small pieces.  Owned by r:
 * do not close it. */
GOutputStream *seg_file_replace_stream (SegFileReplace *r);

/* For contents written out of order (a list whose parts' places are
 * known in advance), instead of the stream: writes size bytes of data at
 * offset of the new file.  FALSE with error set when the write fails (a
 * full disk, a file size limit); then abort. */
gboolean seg_file_replace_write_at (SegFileReplace *r,
                                    const void     *data,
                                    gsize           size,
                                    guint64         offset,
                                    GError        **error);

/* FALSE with error set when the new file's file system has less than size
 * bytes free for the process: a write that would fail at the end fails at
 * the start instead.  TRUE when it cannot tell. */
gboolean
seg_file_replace_check_room (SegFileReplace *r, guint64 size, GError **error);

/* Gives the written file its permissions and owner, fsync ()s and closes
 * it, renames it over the target and fsync ()s the folder; frees r.  FALSE
 * with error set when any step fails: the target is then as it was, and
 * the temporary file is removed. */
gboolean seg_file_replace_commit (SegFileReplace *r, GError **error);

/* Commits n files together (a sink that writes two): every file is
 * examined, given its attributes, fsync ()ed and closed first, and only
 * when all of that worked are they renamed into place, in order; frees
 * every r[i].  FALSE with error set when a step fails: before the renames,
 * every target is as it was.  Only a rename failing after an earlier one
 * worked (which the checks leave to a race with another process) can put
 * some files in place and not the others. */
gboolean
seg_file_replace_commit_all (SegFileReplace **r, guint n, GError **error);

/* Removes the temporary file and frees r; the target is as it was. */
void seg_file_replace_abort (SegFileReplace *r);

G_END_DECLS

#endif
