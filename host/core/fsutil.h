/* fsutil.h - the host's own folder chores (not the jail: these take
 * trusted paths from the configuration or made by the host itself). */
#ifndef FF_FSUTIL_H
#define FF_FSUTIL_H

#include <stddef.h>
#include <sys/types.h>

#include "err.h"

/* mkdir -p with mode 0700 for every folder it creates. */
int ff_mkdir_p(const char *path, ff_err *e);

/* rm -rf of a folder the host made (a private temporary folder, a drill
 * instance); symlinks inside are removed, never followed. */
void ff_remove_tree(const char *path);

/* fsync of a folder (a rename in it made durable): 0, or -1 with errno. */
int ff_sync_dir(const char *dir);

/* The start of a small file, NUL-terminated: its length, 0 when it cannot
 * be read (or is empty). flags: O_NOFOLLOW or 0. */
size_t ff_read_head(const char *path, int flags, char *buf, size_t size);

/* A whole file of at most max bytes, NUL-terminated, into a malloc'd
 * *out (len bytes without the NUL). */
int ff_read_file(char **out, size_t *len, const char *path, size_t max, ff_err *e);

/* At most size bytes of fd (then closed), NUL-terminated, into a malloc'd
 * *out (len bytes without the NUL): the read that ff_read_file does. */
int ff_read_fd(char **out, size_t *len, int fd, size_t size, ff_err *e);

/* Write data to tmp, fsync it, rename it over path: a reader sees the old
 * file or the whole new one, never a part. */
int ff_write_file_atomic(const char *tmp, const char *path, const char *data, size_t len,
			 ff_err *e);

/* Field 22 of /proc/PID/stat (0 when there is no such process): with the
 * pid, it names one process for good, where a pid alone is reused. */
unsigned long long ff_proc_start_time(pid_t pid);

#endif
