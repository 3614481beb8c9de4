#include "path.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void ff_jail_init(ff_jail *j)
{
	j->roots = NULL;
	j->n = 0;
}

void ff_jail_free(ff_jail *j)
{
	for (size_t i = 0; i < j->n; i++)
		free(j->roots[i].path);
	free(j->roots);
	ff_jail_init(j);
}

int ff_jail_add(ff_jail *j, const char *path, int writable, ff_err *e)
{
	char *real = realpath(path, NULL);
	struct stat st;
	if (!real)
		return ff_err_set(e, FF_EFAIL, "jail root %s: %s", path, strerror(errno));
	if (stat(real, &st) < 0) {
		int err = errno;
		free(real);
		return ff_err_set(e, FF_EFAIL, "jail root %s: %s", path, strerror(err));
	}
	ff_jail_root *nr = realloc(j->roots, (j->n + 1) * sizeof(*nr));
	if (!nr) {
		free(real);
		return ff_err_set(e, FF_EINTERNAL, "out of memory");
	}
	j->roots = nr;
	j->roots[j->n++] = (ff_jail_root){
		.path = real, .dev = st.st_dev, .ino = st.st_ino,
		.writable = writable, .is_file = !S_ISDIR(st.st_mode),
	};
	return 0;
}

/* The root a stat result is, or -1. A file root only counts as the final
 * component, a folder root anywhere. */
static int root_of(const ff_jail *j, const struct stat *st, int final)
{
	for (size_t i = 0; i < j->n; i++) {
		const ff_jail_root *r = &j->roots[i];
		if (r->dev == st->st_dev && r->ino == st->st_ino && (!r->is_file || final))
			return (int)i;
	}
	return -1;
}

int ff_jail_resolve(int *dirfd, char name[256], const ff_jail *j,
		    const char *path, int write, ff_err *e)
{
	char abs[PATH_MAX];
	struct stat st;
	int root = -1;

	if (!path || !*path)
		return ff_err_set(e, FF_ESANDBOX, "empty path");
	if (path[0] == '/') {
		if (strlen(path) >= sizeof(abs))
			return ff_err_set(e, FF_ESANDBOX, "path too long");
		strcpy(abs, path);
	} else {
		if (!getcwd(abs, sizeof(abs)) ||
		    strlen(abs) + 1 + strlen(path) >= sizeof(abs))
			return ff_err_set(e, FF_ESANDBOX, "path too long: %s", path);
		strcat(abs, "/");
		strcat(abs, path);
	}

	/* Split into components, dropping empty ones and ".". */
	char *comp[PATH_MAX / 2];
	size_t nc = 0;
	for (char *save = NULL, *c = strtok_r(abs, "/", &save); c;
	     c = strtok_r(NULL, "/", &save)) {
		if (strcmp(c, ".") == 0)
			continue;
		if (strcmp(c, "..") == 0)
			return ff_err_set(e, FF_ESANDBOX, "path %s: '..' is not allowed", path);
		if (strlen(c) > NAME_MAX)
			return ff_err_set(e, FF_ESANDBOX, "path %s: name too long", path);
		comp[nc++] = c;
	}

	int fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return ff_err_set(e, FF_EFAIL, "open /: %s", strerror(errno));
	if (fstat(fd, &st) == 0)
		root = root_of(j, &st, nc == 0);

	for (size_t i = 0; i + 1 < nc; i++) {
		int nfd = openat(fd, comp[i], O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		int err = errno;
		close(fd);
		if (nfd < 0) {
			/* Before any root a missing or unreadable folder is
			 * refused like the rest of the outside: an operational
			 * failure there would tell a runbook whether a folder
			 * it may not read exists (fs.exists answering false
			 * instead of raising). */
			if (root < 0)
				return ff_err_set(e, FF_ESANDBOX,
						  "path %s is outside the allowed folders", path);
			if (err == ENOTDIR || err == ELOOP)
				return ff_err_set(e, FF_ESANDBOX,
						  "path %s: '%s' is a symlink or not a folder",
						  path, comp[i]);
			return ff_err_set(e, FF_EFAIL, "path %s: %s", path, strerror(err));
		}
		fd = nfd;
		if (fstat(fd, &st) == 0) {
			int r = root_of(j, &st, 0);
			if (r >= 0)
				root = r;
		}
	}

	const char *last = nc ? comp[nc - 1] : ".";
	if (nc && fstatat(fd, last, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (S_ISLNK(st.st_mode)) {
			close(fd);
			return ff_err_set(e, FF_ESANDBOX, "path %s: symlinks are not followed", path);
		}
		int r = root_of(j, &st, 1);
		if (r >= 0)
			root = r;
	}

	if (root < 0) {
		close(fd);
		return ff_err_set(e, FF_ESANDBOX, "path %s is outside the allowed folders", path);
	}
	if (write && !j->roots[root].writable) {
		close(fd);
		return ff_err_set(e, FF_ESANDBOX, "path %s is read-only for runbooks", path);
	}
	*dirfd = fd;
	strcpy(name, last);
	return 0;
}

int ff_jail_is_root(const ff_jail *j, int dirfd, const char *name)
{
	struct stat st;
	if (!strcmp(name, "."))
		return 1;
	return fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && root_of(j, &st, 1) >= 0;
}

int ff_jail_open(int *fd, const ff_jail *j, const char *path, int flags,
		 mode_t mode, ff_err *e)
{
	int dirfd, err;
	char name[256];
	int write = (flags & (O_WRONLY | O_RDWR | O_CREAT | O_TRUNC | O_APPEND)) != 0;

	if ((err = ff_jail_resolve(&dirfd, name, j, path, write, e)) < 0)
		return err;
	int f = openat(dirfd, name, flags | O_NOFOLLOW | O_CLOEXEC, mode);
	int saved = errno;
	close(dirfd);
	if (f < 0) {
		if (saved == ELOOP)
			return ff_err_set(e, FF_ESANDBOX, "path %s: symlinks are not followed", path);
		return ff_err_set(e, FF_EFAIL, "%s: %s", path, strerror(saved));
	}
	*fd = f;
	return 0;
}
