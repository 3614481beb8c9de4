/* tmpdir.c - private temporary folders and the reaping of dead runs'
 * (tmpdir.h). */
#include "tmpdir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"

/* Whether the folder root/name is a dead run's: the pid check covers the
 * moment between a live run's mkdtemp and its flock, the flock everything
 * after it. Removes it when it is, holding its flock while doing so. */
static int reap_one(const char *root, const char *name)
{
	long pid = 0;
	unsigned long long t = 0;
	int n = 0;
	char path[PATH_MAX];
	struct stat st;
	if (sscanf(name, "ffrun-%ld.%llu-%n", &pid, &t, &n) != 2 || n == 0 ||
	    strlen(name + n) != 6 || pid <= 0)
		return 0;
	snprintf(path, sizeof(path), "%s/%s", root, name);
	if (lstat(path, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid())
		return 0;
	if (t == 0 || ff_proc_start_time((pid_t)pid) == t)
		return 0; /* its run is alive, or nothing says it is not */
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return 0;
	int held = flock(fd, LOCK_EX | LOCK_NB) < 0;
	if (!held)
		ff_remove_tree(path);
	close(fd);
	return !held;
}

void ff_tmpdir_reap(const char *root, ff_tmpdir_reaped_fn reaped, void *arg)
{
	DIR *d = opendir(root);
	struct dirent *de;
	char path[PATH_MAX];
	while (d && (de = readdir(d))) {
		if (!reap_one(root, de->d_name))
			continue;
		snprintf(path, sizeof(path), "%s/%s", root, de->d_name);
		if (reaped)
			reaped(arg, path);
	}
	if (d)
		closedir(d);
}

int ff_tmpdir_make(char **dir, int *lock_fd, const char *root, ff_tmpdir_reaped_fn reaped,
		   void *arg, ff_err *e)
{
	char tmpl[PATH_MAX];
	*dir = NULL;
	*lock_fd = -1;
	ff_tmpdir_reap(root, reaped, arg);
	snprintf(tmpl, sizeof(tmpl), "%s/ffrun-%ld.%llu-XXXXXX", root, (long)getpid(),
		 ff_proc_start_time(getpid()));
	if (!mkdtemp(tmpl))
		return ff_err_set(e, FF_EFAIL, "temporary folder %s: %s", tmpl, strerror(errno));
	if (!(*dir = strdup(tmpl))) {
		rmdir(tmpl);
		return ff_err_set(e, FF_EINTERNAL, "out of memory");
	}
	*lock_fd = open(tmpl, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (*lock_fd >= 0)
		(void)flock(*lock_fd, LOCK_EX | LOCK_NB);
	return 0;
}

void ff_tmpdir_remove(const char *dir, int lock_fd)
{
	if (dir)
		ff_remove_tree(dir);
	if (lock_fd >= 0)
		close(lock_fd);
}
