/* test_jail.c - the filesystem jail (SPEC §5): what ff_jail_resolve and
 * ff_jail_open allow and refuse, on a real temporary tree.
 *
 *   base/R                  read-only root (the config folder)
 *   base/R/conf.yaml
 *   base/R/ops/backups      W: writable root nested in R
 *   base/R/ops/backups/a.txt, sub/b.txt, link_in -> a.txt,
 *                           link_out -> base/out/secret.txt,
 *                           dirlink -> base/out, dirlink_in -> sub
 *   base/snap/F.conf        F: a single-file root
 *   base/snap/sibling.txt   not in any root
 *   base/out/secret.txt     not in any root
 *   base/realroot           a root added through base/linkroot (a symlink)
 */
#include "core/path.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"

static char base[PATH_MAX];

/* A path under base, in one of a few rotating buffers so a call can take
 * two of them. */
static const char *P(const char *fmt, ...)
{
	static char bufs[4][PATH_MAX + 512];
	static int next;
	char *b = bufs[next++ % 4];
	int n = snprintf(b, sizeof(bufs[0]), "%s/", base);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(b + n, sizeof(bufs[0]) - (size_t)n, fmt, ap);
	va_end(ap);
	return b;
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;
	if (!d)
		return -1;
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

static void put_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (!f) {
		perror(path);
		exit(2);
	}
	fputs(text, f);
	fclose(f);
}

static void must(int ok, const char *what)
{
	if (!ok) {
		perror(what);
		exit(2);
	}
}

static void make_tree(void)
{
	char tmpl[] = "/tmp/ff_test_jail_XXXXXX";
	must(mkdtemp(tmpl) != NULL, "mkdtemp");
	/* /tmp may itself be a symlink: the jail refuses those, so the tree
	 * is named by its real path. */
	must(realpath(tmpl, base) != NULL, "realpath");
	must(mkdir(P("R"), 0700) == 0, "mkdir R");
	must(mkdir(P("R/ops"), 0700) == 0, "mkdir R/ops");
	must(mkdir(P("R/ops/backups"), 0700) == 0, "mkdir W");
	must(mkdir(P("R/ops/backups/sub"), 0700) == 0, "mkdir W/sub");
	must(mkdir(P("snap"), 0700) == 0, "mkdir snap");
	must(mkdir(P("out"), 0700) == 0, "mkdir out");
	must(mkdir(P("realroot"), 0700) == 0, "mkdir realroot");
	put_file(P("R/conf.yaml"), "conf\n");
	put_file(P("R/ops/backups/a.txt"), "alpha\n");
	put_file(P("R/ops/backups/sub/b.txt"), "beta\n");
	put_file(P("snap/F.conf"), "snapshot\n");
	put_file(P("snap/sibling.txt"), "sibling\n");
	put_file(P("out/secret.txt"), "secret\n");
	put_file(P("realroot/x.txt"), "x\n");
	must(symlink("a.txt", P("R/ops/backups/link_in")) == 0, "symlink link_in");
	must(symlink(P("out/secret.txt"), P("R/ops/backups/link_out")) == 0, "symlink link_out");
	must(symlink(P("out"), P("R/ops/backups/dirlink")) == 0, "symlink dirlink");
	must(symlink("sub", P("R/ops/backups/dirlink_in")) == 0, "symlink dirlink_in");
	must(symlink("realroot", P("linkroot")) == 0, "symlink linkroot");
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

static void remove_tree(void)
{
	if (*base)
		nftw(base, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Resolve and close the descriptor at once; name gets the final component
 * (when not NULL). Returns the jail's code. */
static int resolve(const ff_jail *j, const char *path, int write, ff_err *e, char *name)
{
	int dirfd = -1;
	char n[256] = "";
	int rc = ff_jail_resolve(&dirfd, n, j, path, write, e);
	if (rc == 0) {
		CHECK(dirfd >= 0);
		close(dirfd);
	}
	if (name)
		strcpy(name, n);
	return rc;
}

/* Read a whole (small) file through the jail; 0 or the jail's code. */
static int read_via(const ff_jail *j, const char *path, char *out, size_t cap, ff_err *e)
{
	int fd, rc;
	if ((rc = ff_jail_open(&fd, j, path, O_RDONLY, 0, e)) < 0)
		return rc;
	ssize_t n = read(fd, out, cap - 1);
	out[n > 0 ? n : 0] = '\0';
	close(fd);
	return 0;
}

static int has(const ff_err *e, const char *what)
{
	return strstr(e->msg, what) != NULL;
}

/* The jail the tests share: W writable inside read-only R, F a file root. */
static void make_jail(ff_jail *j)
{
	ff_err e = {0};
	ff_jail_init(j);
	CHECK(ff_jail_add(j, P("R"), 0, &e) == 0);
	CHECK(ff_jail_add(j, P("R/ops/backups"), 1, &e) == 0);
	CHECK(ff_jail_add(j, P("snap/F.conf"), 0, &e) == 0);
	CHECK(ff_jail_add(j, P("linkroot"), 0, &e) == 0);
}

static void test_add_missing_root_fails(void)
{
	ff_jail j;
	ff_err e = {0};
	ff_jail_init(&j);
	CHECK(ff_jail_add(&j, P("no-such-folder"), 1, &e) == FF_EFAIL);
	CHECK(j.n == 0);
	ff_jail_free(&j);
}

static void test_read_write_inside_writable_root(const ff_jail *j)
{
	ff_err e = {0};
	char name[256], buf[64];
	int fd;

	CHECK(resolve(j, P("R/ops/backups/a.txt"), 0, &e, name) == 0);
	CHECK_STR(name, "a.txt");
	CHECK(resolve(j, P("R/ops/backups/new.txt"), 1, &e, name) == 0);
	CHECK_STR(name, "new.txt");
	CHECK(resolve(j, P("R/ops/backups/sub/b.txt"), 1, &e, name) == 0);
	CHECK_STR(name, "b.txt");

	CHECK(ff_jail_open(&fd, j, P("R/ops/backups/new.txt"), O_WRONLY | O_CREAT | O_TRUNC,
			   0600, &e) == 0);
	CHECK(write(fd, "new\n", 4) == 4);
	close(fd);
	CHECK(read_via(j, P("R/ops/backups/new.txt"), buf, sizeof(buf), &e) == 0);
	CHECK_STR(buf, "new\n");
	CHECK(ff_jail_open(&fd, j, P("R/ops/backups/new.txt"), O_WRONLY | O_APPEND, 0, &e) == 0);
	close(fd);
	CHECK(read_via(j, P("R/ops/backups/a.txt"), buf, sizeof(buf), &e) == 0);
	CHECK_STR(buf, "alpha\n");

	/* The writable root itself (mkdir of it, listing it). */
	CHECK(resolve(j, P("R/ops/backups"), 1, &e, name) == 0);
	CHECK_STR(name, "backups");
	CHECK(ff_jail_open(&fd, j, P("R/ops/backups"), O_RDONLY | O_DIRECTORY, 0, &e) == 0);
	close(fd);
}

static void test_write_in_readonly_root_refused(const ff_jail *j)
{
	ff_err e = {0};
	int fd = -1;

	CHECK(resolve(j, P("R/conf.yaml"), 1, &e, NULL) == FF_ESANDBOX);
	CHECK(has(&e, "read-only"));
	CHECK(resolve(j, P("R/ops/new.txt"), 1, &e, NULL) == FF_ESANDBOX);
	CHECK(has(&e, "read-only"));
	CHECK(resolve(j, P("R/ops"), 1, &e, NULL) == FF_ESANDBOX);
	CHECK(resolve(j, P("R"), 1, &e, NULL) == FF_ESANDBOX);
	e = (ff_err){0};
	CHECK(ff_jail_open(&fd, j, P("R/conf.yaml"), O_WRONLY, 0, &e) == FF_ESANDBOX);
	CHECK(e.code == FF_ESANDBOX);
	CHECK(ff_jail_open(&fd, j, P("R/created.txt"), O_RDONLY | O_CREAT, 0600, &e) == FF_ESANDBOX);
	CHECK(ff_jail_open(&fd, j, P("R/conf.yaml"), O_RDONLY | O_TRUNC, 0, &e) == FF_ESANDBOX);
	CHECK(ff_jail_open(&fd, j, P("R/conf.yaml"), O_RDWR, 0, &e) == FF_ESANDBOX);
	CHECK(ff_jail_open(&fd, j, P("R/conf.yaml"), O_WRONLY | O_APPEND, 0, &e) == FF_ESANDBOX);
	CHECK(fd == -1);
	CHECK(access(P("R/created.txt"), F_OK) < 0);
}

static void test_read_in_readonly_root_allowed(const ff_jail *j)
{
	ff_err e = {0};
	char buf[64], name[256];
	int fd;

	CHECK(read_via(j, P("R/conf.yaml"), buf, sizeof(buf), &e) == 0);
	CHECK_STR(buf, "conf\n");
	CHECK(resolve(j, P("R/ops"), 0, &e, name) == 0);
	CHECK_STR(name, "ops");
	CHECK(ff_jail_open(&fd, j, P("R/ops"), O_RDONLY | O_DIRECTORY, 0, &e) == 0);
	close(fd);
}

static void test_file_root_alone_is_readable(const ff_jail *j)
{
	ff_err e = {0};
	char buf[64];

	CHECK(read_via(j, P("snap/F.conf"), buf, sizeof(buf), &e) == 0);
	CHECK_STR(buf, "snapshot\n");
	CHECK(read_via(j, P("snap/sibling.txt"), buf, sizeof(buf), &e) == FF_ESANDBOX);
	CHECK(has(&e, "outside the allowed folders"));
	CHECK(resolve(j, P("snap"), 0, &e, NULL) == FF_ESANDBOX);
	CHECK(resolve(j, P("snap/new.txt"), 1, &e, NULL) == FF_ESANDBOX);
	CHECK(resolve(j, P("snap/F.conf"), 1, &e, NULL) == FF_ESANDBOX);
	CHECK(has(&e, "read-only"));
	/* A file root is not a folder to walk through. */
	CHECK(resolve(j, P("snap/F.conf/x"), 0, &e, NULL) == FF_ESANDBOX);
}

static void test_absolute_paths_outside_refused(const ff_jail *j)
{
	ff_err e = {0};
	char buf[64];

	CHECK(read_via(j, P("out/secret.txt"), buf, sizeof(buf), &e) == FF_ESANDBOX);
	CHECK(has(&e, "outside the allowed folders"));
	CHECK(resolve(j, P("out/new.txt"), 1, &e, NULL) == FF_ESANDBOX);
	CHECK(has(&e, "outside the allowed folders"));
	CHECK(resolve(j, P("out"), 0, &e, NULL) == FF_ESANDBOX);
	CHECK(resolve(j, base, 0, &e, NULL) == FF_ESANDBOX);
	CHECK(resolve(j, "/etc/passwd", 0, &e, NULL) == FF_ESANDBOX);
	CHECK(has(&e, "outside the allowed folders"));
	CHECK(resolve(j, "/", 0, &e, NULL) == FF_ESANDBOX);
}

/* Regression: a missing folder outside every root used to be FF_EFAIL, so
 * fs.exists answered false for it but raised for an existing one, telling
 * a runbook what exists outside the jail. */
static void test_missing_folder_outside_is_refused(const ff_jail *j)
{
	ff_err e = {0};

	CHECK(resolve(j, P("out/nope/x.txt"), 0, &e, NULL) == FF_ESANDBOX);
	CHECK(has(&e, "outside the allowed folders"));
	CHECK(resolve(j, P("nope/R/x.txt"), 1, &e, NULL) == FF_ESANDBOX);
	CHECK(resolve(j, "/ff-test-no-such-folder/x", 0, &e, NULL) == FF_ESANDBOX);
	CHECK(has(&e, "outside the allowed folders"));
	/* Existing and missing outside folders now look the same. */
	CHECK(resolve(j, P("out/x.txt"), 0, &e, NULL) == FF_ESANDBOX);
}

static void test_dotdot_refused_anywhere(const ff_jail *j)
{
	ff_err e = {0};
	char buf[64];

	/* Each of these would land back inside a root: still refused. */
	CHECK(resolve(j, P("R/ops/backups/sub/../a.txt"), 0, &e, NULL) == FF_ESANDBOX);
	CHECK(has(&e, "'..'"));
	CHECK(resolve(j, P("R/ops/../ops/backups/a.txt"), 0, &e, NULL) == FF_ESANDBOX);
	CHECK(resolve(j, P("R/ops/backups/.."), 0, &e, NULL) == FF_ESANDBOX);
	CHECK(resolve(j, P("R/ops/backups/sub/.."), 1, &e, NULL) == FF_ESANDBOX);
	CHECK(resolve(j, P("out/../R/conf.yaml"), 0, &e, NULL) == FF_ESANDBOX);
	/* And those that would leave. */
	CHECK(read_via(j, P("R/ops/backups/../../../out/secret.txt"), buf, sizeof(buf), &e) ==
	      FF_ESANDBOX);
	CHECK(has(&e, "'..'"));
	/* "..." and "..x" are ordinary names. */
	CHECK(resolve(j, P("R/ops/backups/..."), 1, &e, NULL) == 0);
	CHECK(resolve(j, P("R/ops/backups/..x"), 1, &e, NULL) == 0);
}

static void test_symlink_final_component_refused(const ff_jail *j)
{
	ff_err e = {0};
	char buf[64];
	int fd = -1;

	CHECK(resolve(j, P("R/ops/backups/link_in"), 0, &e, NULL) == FF_ESANDBOX);
	CHECK(has(&e, "symlink"));
	CHECK(resolve(j, P("R/ops/backups/link_out"), 0, &e, NULL) == FF_ESANDBOX);
	CHECK(has(&e, "symlink"));
	CHECK(read_via(j, P("R/ops/backups/link_in"), buf, sizeof(buf), &e) == FF_ESANDBOX);
	CHECK(read_via(j, P("R/ops/backups/link_out"), buf, sizeof(buf), &e) == FF_ESANDBOX);
	/* Writing through one would clobber its target. */
	CHECK(ff_jail_open(&fd, j, P("R/ops/backups/link_out"), O_WRONLY | O_CREAT | O_TRUNC,
			   0600, &e) == FF_ESANDBOX);
	CHECK(fd == -1);
	CHECK(read_via(j, P("R/ops/backups/a.txt"), buf, sizeof(buf), &e) == 0);
	CHECK_STR(buf, "alpha\n");
	/* A symlink to a folder, named as the last component. */
	CHECK(resolve(j, P("R/ops/backups/dirlink"), 0, &e, NULL) == FF_ESANDBOX);
	CHECK(resolve(j, P("R/ops/backups/dirlink_in"), 0, &e, NULL) == FF_ESANDBOX);
	CHECK(resolve(j, P("R/ops/backups/dirlink_in/"), 0, &e, NULL) == FF_ESANDBOX);
}

static void test_symlink_intermediate_folder_refused(const ff_jail *j)
{
	ff_err e = {0};
	char buf[64];

	CHECK(read_via(j, P("R/ops/backups/dirlink/secret.txt"), buf, sizeof(buf), &e) ==
	      FF_ESANDBOX);
	CHECK(has(&e, "symlink"));
	CHECK(resolve(j, P("R/ops/backups/dirlink/new.txt"), 1, &e, NULL) == FF_ESANDBOX);
	CHECK(resolve(j, P("R/ops/backups/dirlink_in/b.txt"), 0, &e, NULL) == FF_ESANDBOX);
	CHECK(has(&e, "symlink"));
	CHECK(access(P("out/new.txt"), F_OK) < 0);
}

static void test_symlinked_root_by_real_path(const ff_jail *j)
{
	ff_err e = {0};
	char buf[64], name[256];

	CHECK(read_via(j, P("realroot/x.txt"), buf, sizeof(buf), &e) == 0);
	CHECK_STR(buf, "x\n");
	CHECK(resolve(j, P("realroot"), 0, &e, name) == 0);
	CHECK_STR(name, "realroot");
	/* Through the link the walk meets a symlink: refused. */
	CHECK(read_via(j, P("linkroot/x.txt"), buf, sizeof(buf), &e) == FF_ESANDBOX);
	CHECK(resolve(j, P("linkroot"), 0, &e, NULL) == FF_ESANDBOX);
	/* Added read-only. */
	CHECK(resolve(j, P("realroot/x.txt"), 1, &e, NULL) == FF_ESANDBOX);
}

static void test_relative_paths_use_cwd(const ff_jail *j)
{
	ff_err e = {0};
	char buf[64], name[256];
	int here = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int fd;

	CHECK(here >= 0);
	if (chdir(P("R/ops/backups")) < 0) {
		CHECK(!"chdir into W");
		close(here);
		return;
	}
	CHECK(read_via(j, "a.txt", buf, sizeof(buf), &e) == 0);
	CHECK_STR(buf, "alpha\n");
	CHECK(resolve(j, "sub/b.txt", 0, &e, name) == 0);
	CHECK_STR(name, "b.txt");
	CHECK(resolve(j, "./sub/./b.txt", 1, &e, name) == 0);
	CHECK_STR(name, "b.txt");
	CHECK(resolve(j, ".", 1, &e, name) == 0);
	CHECK_STR(name, "backups");
	CHECK(ff_jail_open(&fd, j, "rel.txt", O_WRONLY | O_CREAT | O_EXCL, 0600, &e) == 0);
	close(fd);
	CHECK(access(P("R/ops/backups/rel.txt"), F_OK) == 0);
	CHECK(resolve(j, "../conf.yaml", 0, &e, NULL) == FF_ESANDBOX);
	CHECK(resolve(j, "link_in", 0, &e, NULL) == FF_ESANDBOX);
	CHECK(resolve(j, "dirlink/secret.txt", 0, &e, NULL) == FF_ESANDBOX);

	/* From a folder outside, a relative name stays outside. */
	if (chdir(P("out")) == 0) {
		CHECK(resolve(j, "secret.txt", 0, &e, NULL) == FF_ESANDBOX);
		CHECK(has(&e, "outside the allowed folders"));
	}
	/* From R, a relative write outside W is read-only. */
	if (chdir(P("R")) == 0) {
		CHECK(resolve(j, "conf.yaml", 0, &e, NULL) == 0);
		CHECK(resolve(j, "conf.yaml", 1, &e, NULL) == FF_ESANDBOX);
		CHECK(resolve(j, "ops/backups/a.txt", 1, &e, NULL) == 0);
	}
	CHECK(fchdir(here) == 0);
	close(here);
}

static void test_missing_folder_is_a_failure_not_a_violation(const ff_jail *j)
{
	ff_err e = {0};
	char buf[64];
	int fd = -1;

	CHECK(resolve(j, P("R/ops/backups/nope/x.txt"), 0, &e, NULL) == FF_EFAIL);
	CHECK(resolve(j, P("R/ops/backups/nope/x.txt"), 1, &e, NULL) == FF_EFAIL);
	CHECK(resolve(j, P("R/ops/backups/nope/deeper/x.txt"), 1, &e, NULL) == FF_EFAIL);
	/* A missing final component resolves: it may be about to be created. */
	CHECK(resolve(j, P("R/ops/backups/nope"), 1, &e, NULL) == 0);
	/* Opening a missing file for reading fails the operation only. */
	CHECK(read_via(j, P("R/ops/backups/missing.txt"), buf, sizeof(buf), &e) == FF_EFAIL);
	CHECK(ff_jail_open(&fd, j, P("R/ops/backups/nope/x.txt"), O_WRONLY | O_CREAT, 0600, &e) ==
	      FF_EFAIL);
	CHECK(fd == -1);
	/* A regular file used as a folder is not a missing folder. */
	CHECK(resolve(j, P("R/ops/backups/a.txt/x"), 0, &e, NULL) == FF_ESANDBOX);
}

static void test_is_root(const ff_jail *j)
{
	ff_err e = {0};
	struct {
		const char *rel; /* under base */
		int root;
	} cases[] = {
		{ "R/ops/backups", 1 }, { "R", 1 }, { "snap/F.conf", 1 },
		{ "realroot", 1 }, { "R/ops/backups/a.txt", 0 },
		{ "R/ops/backups/sub", 0 }, { "R/ops", 0 }, { "R/conf.yaml", 0 },
		{ "R/ops/backups/missing", 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int dirfd = -1;
		char name[256];
		CHECK(ff_jail_resolve(&dirfd, name, j, P("%s", cases[i].rel), 0, &e) == 0);
		if (dirfd < 0)
			continue;
		CHECK(ff_jail_is_root(j, dirfd, name) == cases[i].root);
		close(dirfd);
	}
}

static void test_slashes_and_dots_normalise(const ff_jail *j)
{
	ff_err e = {0};
	char buf[64], name[256], path[PATH_MAX + 64];

	snprintf(path, sizeof(path), "/%s//R//./ops/./backups//sub/./b.txt", base);
	CHECK(resolve(j, path, 1, &e, name) == 0);
	CHECK_STR(name, "b.txt");
	CHECK(read_via(j, path, buf, sizeof(buf), &e) == 0);
	CHECK_STR(buf, "beta\n");
	CHECK(resolve(j, P("R/ops/backups/sub/."), 1, &e, name) == 0);
	CHECK_STR(name, "sub");
	CHECK(resolve(j, P("R/ops/backups/sub/"), 1, &e, name) == 0);
	CHECK_STR(name, "sub");
	CHECK(resolve(j, P("R/ops/backups/"), 1, &e, name) == 0);
	CHECK_STR(name, "backups");
	snprintf(path, sizeof(path), "%s//out/./secret.txt", base);
	CHECK(resolve(j, path, 0, &e, NULL) == FF_ESANDBOX);
}

static void test_long_names(const ff_jail *j)
{
	ff_err e = {0};
	char longest[NAME_MAX + 1], too_long[NAME_MAX + 2], name[256];

	memset(longest, 'a', NAME_MAX);
	longest[NAME_MAX] = '\0';
	memset(too_long, 'b', NAME_MAX + 1);
	too_long[NAME_MAX + 1] = '\0';
	CHECK(resolve(j, P("R/ops/backups/%s", longest), 1, &e, name) == 0);
	CHECK(strlen(name) == NAME_MAX);
	CHECK(resolve(j, P("R/ops/backups/%s", too_long), 1, &e, NULL) == FF_ESANDBOX);
	CHECK(has(&e, "too long"));
	CHECK(resolve(j, P("R/ops/backups/%s/x", too_long), 0, &e, NULL) == FF_ESANDBOX);
	CHECK(resolve(j, too_long, 0, &e, NULL) == FF_ESANDBOX);

	/* A whole path longer than PATH_MAX. */
	static char huge[PATH_MAX + 16];
	memset(huge, 'c', sizeof(huge) - 1);
	huge[0] = '/';
	for (size_t i = 100; i < sizeof(huge) - 1; i += 100)
		huge[i] = '/';
	huge[sizeof(huge) - 1] = '\0';
	CHECK(resolve(j, huge, 0, &e, NULL) == FF_ESANDBOX);
	CHECK(resolve(j, huge + 1, 0, &e, NULL) == FF_ESANDBOX);
}

static void test_empty_path_refused(const ff_jail *j)
{
	ff_err e = {0};
	int fd = -1;

	CHECK(resolve(j, "", 0, &e, NULL) == FF_ESANDBOX);
	CHECK(has(&e, "empty"));
	CHECK(resolve(j, NULL, 0, &e, NULL) == FF_ESANDBOX);
	CHECK(ff_jail_open(&fd, j, "", O_RDONLY, 0, &e) == FF_ESANDBOX);
	CHECK(fd == -1);
}

static void test_empty_jail_allows_nothing(void)
{
	ff_jail j;
	ff_err e = {0};
	ff_jail_init(&j);
	CHECK(resolve(&j, P("R/conf.yaml"), 0, &e, NULL) == FF_ESANDBOX);
	CHECK(resolve(&j, "/", 0, &e, NULL) == FF_ESANDBOX);
	ff_jail_free(&j);
}

int main(void)
{
	int fds_before = count_fds();
	ff_jail j;

	make_tree();
	make_jail(&j);
	test_add_missing_root_fails();
	test_read_write_inside_writable_root(&j);
	test_write_in_readonly_root_refused(&j);
	test_read_in_readonly_root_allowed(&j);
	test_file_root_alone_is_readable(&j);
	test_absolute_paths_outside_refused(&j);
	test_missing_folder_outside_is_refused(&j);
	test_dotdot_refused_anywhere(&j);
	test_symlink_final_component_refused(&j);
	test_symlink_intermediate_folder_refused(&j);
	test_symlinked_root_by_real_path(&j);
	test_relative_paths_use_cwd(&j);
	test_missing_folder_is_a_failure_not_a_violation(&j);
	test_is_root(&j);
	test_slashes_and_dots_normalise(&j);
	test_long_names(&j);
	test_empty_path_refused(&j);
	test_empty_jail_allows_nothing();
	ff_jail_free(&j);
	remove_tree();

	CHECK(fds_before > 0);
	CHECK(count_fds() == fds_before);
	return check_summary();
}
