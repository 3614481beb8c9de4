/* tmpdir.h - a run's private temporary folder (ff.paths.tmp).
 *
 * Named ffrun-<pid>.<process start time>-XXXXXX, so a later run can tell a
 * dead run's folder from a live one's, and flock'ed for the life of the
 * process, which covers a run whose pid we cannot see (another pid
 * namespace sharing the folder). */
#ifndef FF_TMPDIR_H
#define FF_TMPDIR_H

#include "err.h"

/* Told of each folder ff_tmpdir_reap removed. */
typedef void (*ff_tmpdir_reaped_fn)(void *arg, const char *path);

/* Remove the folders under root left by runs that died without removing
 * theirs (a SIGKILL): ours (same owner), their process gone, their flock
 * free. A live run's, another user's, or one whose name proves nothing is
 * left alone. reaped may be NULL. */
void ff_tmpdir_reap(const char *root, ff_tmpdir_reaped_fn reaped, void *arg);

/* Make a new private folder under root (0700), reaping first; *dir is
 * malloc'd and *lock_fd holds the folder's flock (close-on-exec: no child
 * keeps it). */
int ff_tmpdir_make(char **dir, int *lock_fd, const char *root, ff_tmpdir_reaped_fn reaped,
		   void *arg, ff_err *e);

/* Remove the folder and everything in it, then release its lock (-1: none).
 * Does not free dir. */
void ff_tmpdir_remove(const char *dir, int lock_fd);

#endif
