/* test_fsutil.c - ff_remove_tree: removes a whole tree, symlinks inside
 * are removed and never followed (also when a folder is swapped for one
 * while the removal runs), and a tree deeper than PATH_MAX goes too. */
#include "core/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

static char base[] = "/tmp/ff_test_fsutil_XXXXXX";
static char root[512], outside[512];

static void touch(const char *dir, const char *name)
{
	char p[2048];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd >= 0)
		close(fd);
}

static int exists(const char *p)
{
	struct stat st;
	return lstat(p, &st) == 0;
}

/* Canaries outside the tree: every one must survive every removal. */
static int canaries_left(void)
{
	char p[2048];
	int n = 0;
	for (int i = 0; i < 5; i++) {
		snprintf(p, sizeof(p), "%s/keep%d", outside, i);
		n += exists(p);
	}
	return n;
}

static void plain_tree(void)
{
	char p[2048];
	mkdir(root, 0700);
	snprintf(p, sizeof(p), "%s/a", root);
	mkdir(p, 0700);
	touch(p, "f1");
	snprintf(p, sizeof(p), "%s/a/b", root);
	mkdir(p, 0700);
	touch(p, "f2");
	snprintf(p, sizeof(p), "%s/link_dir", root);
	CHECK(symlink(outside, p) == 0);
	snprintf(p, sizeof(p), "%s/link_file", root);
	char target[1024];
	snprintf(target, sizeof(target), "%s/keep0", outside);
	CHECK(symlink(target, p) == 0);
	snprintf(p, sizeof(p), "%s/empty_unreadable", root);
	mkdir(p, 0000);
	ff_remove_tree(root);
	CHECK(!exists(root));
	CHECK(canaries_left() == 5);
}

/* A tree whose deepest path is over 8 KiB long, made through descriptors. */
static void deep_tree(void)
{
	char name[201];
	memset(name, 'd', 200);
	name[200] = '\0';
	mkdir(root, 0700);
	int fd = open(root, O_RDONLY | O_DIRECTORY);
	for (int i = 0; i < 42 && fd >= 0; i++) {
		mkdirat(fd, name, 0700);
		int sub = openat(fd, name, O_RDONLY | O_DIRECTORY);
		int f = openat(fd, "file", O_WRONLY | O_CREAT, 0600);
		if (f >= 0)
			close(f);
		close(fd);
		fd = sub;
	}
	CHECK(fd >= 0);
	if (fd >= 0)
		close(fd);
	ff_remove_tree(root);
	CHECK(!exists(root));
}

/* A helper process exchanges the tree's one folder with a symlink to the
 * canaries' folder (renameat2 RENAME_EXCHANGE: one atomic step), over and
 * over, while the removal runs: a removal that looked (lstat) and then
 * followed (opendir) empties the canaries' folder in some attempts. */
static void swapped_tree(void)
{
	char s[1024], link[1024];
	snprintf(s, sizeof(s), "%s/s", root);
	snprintf(link, sizeof(link), "%s/s.link", root);
	mkdir(root, 0700);
	mkdir(s, 0700);
	touch(s, "f");
	CHECK(symlink(outside, link) == 0);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid < 0)
		return; /* never kill(-1, …) */
	if (pid == 0)
		for (;;)
			renameat2(AT_FDCWD, s, AT_FDCWD, link, RENAME_EXCHANGE);
	ff_remove_tree(root);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	ff_remove_tree(root); /* what the exchanges kept from the first pass */
	CHECK(!exists(root));
}

int main(void)
{
	CHECK(mkdtemp(base) != NULL);
	snprintf(root, sizeof(root), "%s/tree", base);
	snprintf(outside, sizeof(outside), "%s/outside", base);
	mkdir(outside, 0700);
	for (int i = 0; i < 5; i++) {
		char f[16];
		snprintf(f, sizeof(f), "keep%d", i);
		touch(outside, f);
	}
	plain_tree();
	deep_tree();
	for (int i = 0; i < 2000 && canaries_left() == 5; i++)
		swapped_tree();
	CHECK(canaries_left() == 5);
	ff_remove_tree(base);
	CHECK(!exists(base));
	return check_summary();
}
