#include "fsutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int ff_mkdir_p(const char *path, ff_err *e)
{
	char buf[4096];
	struct stat st;
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return 0; /* the usual case: one stat, not a mkdir per component */
	if (strlen(path) >= sizeof(buf))
		return ff_err_set(e, FF_EFAIL, "path too long: %s", path);
	strcpy(buf, path);
	for (char *p = buf + 1; ; p++) {
		if (*p == '/' || *p == '\0') {
			char c = *p;
			*p = '\0';
			if (mkdir(buf, 0700) < 0 && errno != EEXIST)
				return ff_err_set(e, FF_EFAIL, "create %s: %s", buf, strerror(errno));
			*p = c;
			if (!c)
				break;
		}
	}
	return 0;
}

/* name in the folder dirfd, removed through descriptors: a folder is
 * opened O_NOFOLLOW and emptied through its own descriptor, so a folder
 * swapped for a symlink meanwhile is unlinked, never followed, and no
 * path is ever rebuilt (none can be truncated, however deep the tree). */
static void remove_at(int dirfd, const char *name)
{
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOTDIR || errno == ELOOP)
			unlinkat(dirfd, name, 0);
		else
			unlinkat(dirfd, name, AT_REMOVEDIR); /* an empty one we may not read */
		return;
	}
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return;
	}
	struct dirent *de;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			remove_at(fd, de->d_name);
	closedir(d);
	unlinkat(dirfd, name, AT_REMOVEDIR);
}

void ff_remove_tree(const char *path)
{
	remove_at(AT_FDCWD, path);
}

int ff_sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int rc = fsync(fd);
	close(fd);
	return rc;
}

size_t ff_read_head(const char *path, int flags, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | flags);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, size - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return (size_t)n;
}

unsigned long long ff_proc_start_time(pid_t pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if (!ff_read_head(path, 0, buf, sizeof(buf)))
		return 0;
	char *p = strrchr(buf, ')'); /* the command name may hold spaces */
	unsigned long long t = 0;
	for (int field = 2; p && *p; p++)
		if (*p == ' ' && ++field == 22) {
			t = strtoull(p + 1, NULL, 10);
			break;
		}
	return t;
}

int ff_read_file(char **out, size_t *len, const char *path, size_t max, ff_err *e)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	*out = NULL;
	*len = 0;
	if (fd < 0)
		return ff_err_set(e, FF_EFAIL, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size > max) {
		close(fd);
		return ff_err_set(e, FF_EFAIL, "%s: not a regular file of at most %zu bytes", path, max);
	}
	return ff_read_fd(out, len, fd, (size_t)st.st_size, e);
}

int ff_read_fd(char **out, size_t *len, int fd, size_t size, ff_err *e)
{
	char *buf = malloc(size + 1);
	size_t got = 0;
	while (buf && got < size) {
		ssize_t r = read(fd, buf + got, size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	if (!buf)
		return ff_err_set(e, FF_EINTERNAL, "out of memory");
	buf[got] = '\0';
	*out = buf;
	*len = got;
	return 0;
}

int ff_write_file_atomic(const char *tmp, const char *path, const char *data, size_t len,
			 ff_err *e)
{
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	size_t off = 0;
	if (fd < 0)
		return ff_err_set(e, FF_EFAIL, "%s: %s", tmp, strerror(errno));
	while (off < len) {
		ssize_t w = write(fd, data + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			break;
		off += (size_t)w;
	}
	int err = off < len || fsync(fd) < 0 ? errno : 0;
	close(fd);
	if (err || rename(tmp, path) < 0) {
		if (!err)
			err = errno;
		unlink(tmp);
		return ff_err_set(e, FF_EFAIL, "%s: %s", path, strerror(err));
	}
	return 0;
}
