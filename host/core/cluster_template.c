/* cluster_template.c - initdb's output, kept between drills. A throwaway
 * instance starts from the same empty cluster every time; initdb takes
 * 0.5-2.5 s of a drill on a small machine, a copy of its 39 MB 0.1 s.
 *
 * The copy lives in /tmp/ffrun-template-EUID-KEY, KEY naming the server's
 * binaries (bindir and the identity of its postgres and initdb files) and
 * initdb's options: a new package, or new options, make a new template. It is used only when it is provably
 * ours: a folder, not a link, owned by the instance's user with no access
 * for anyone else, and holding a data folder. It is published by one
 * rename of a complete copy made inside our own instance folder, so a
 * run killed while making it leaves nothing half-made under that name
 * (the reaper removes the instance folder, copy and all). A template a
 * server will not start from is dropped and initdb runs instead. */
#include "cluster.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"
#include "hash.h"

/* cp is run as the instance's user: the copy is its own, as initdb's is. */
static const char *const CP = "/bin/cp";

static uid_t owner_of(const ff_cluster *c)
{
	return c->as_user ? c->uid : geteuid();
}

static void note(int log_fd, const char *what, const char *path)
{
	char msg[PATH_MAX + 128];
	int n = snprintf(msg, sizeof(msg), "%s %s\n", what, path);
	if (log_fd >= 0 && n > 0 && write(log_fd, msg, (size_t)n) < 0) {
		/* informative only */
	}
}

int ff_cluster_template_path(const ff_cluster *c, char *out, size_t cap)
{
	char ident[2 * PATH_MAX], hex[FF_SHA256_HEX];
	size_t n = (size_t)snprintf(ident, sizeof(ident), "%s\n", c->bindir);
	static const char *const tools[] = { "postgres", "initdb" };
	for (size_t i = 0; i < sizeof(tools) / sizeof(tools[0]); i++) {
		char path[PATH_MAX];
		struct stat st;
		snprintf(path, sizeof(path), "%s/%s", c->bindir, tools[i]);
		if (stat(path, &st) < 0 || n >= sizeof(ident))
			return -1;
		n += (size_t)snprintf(ident + n, sizeof(ident) - n, "%s %llu %llu %lld %lld.%09ld\n", tools[i],
				      (unsigned long long)st.st_dev, (unsigned long long)st.st_ino,
				      (long long)st.st_size, (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
	}
	for (size_t i = 0; ff_cluster_initdb_opts[i] && n < sizeof(ident); i++)
		n += (size_t)snprintf(ident + n, sizeof(ident) - n, "%s\n", ff_cluster_initdb_opts[i]);
	if (n >= sizeof(ident))
		return -1;
	ff_sha256_hex(hex, ident, n);
	int m = snprintf(out, cap, "/tmp/ffrun-template-%lu-%.16s", (unsigned long)geteuid(), hex);
	return m > 0 && (size_t)m < cap ? 0 : -1;
}

/* A folder, not a link, owned by uid, no group or other access. */
static int private_dir(const char *path, uid_t uid)
{
	struct stat st;
	return lstat(path, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == uid && (st.st_mode & 077) == 0;
}

int ff_cluster_template_copy(const ff_cluster *c, const char *tpl, int log_fd,
			     const volatile int *cancel)
{
	char data[PATH_MAX], version[PATH_MAX];
	struct stat st;
	if (snprintf(data, sizeof(data), "%s/data", tpl) >= (int)sizeof(data) ||
	    snprintf(version, sizeof(version), "%s/PG_VERSION", data) >= (int)sizeof(version))
		return 0;
	if (lstat(tpl, &st) < 0)
		return 0; /* none yet */
	if (!private_dir(tpl, owner_of(c)) || !private_dir(data, owner_of(c)) ||
	    lstat(version, &st) < 0 || !S_ISREG(st.st_mode)) {
		note(log_fd, "initdb template not used (not a private folder of the server's user holding a data folder):", tpl);
		return 0;
	}
	const char *argv[] = { CP, "-a", "--", data, c->data, NULL };
	ff_err e = {0};
	if (ff_cluster_tool(c, argv, log_fd, cancel, 120, &e) < 0) {
		note(log_fd, "initdb template not copied, initdb instead:", e.msg);
		ff_remove_tree(c->data);
		return 0;
	}
	char what[PATH_MAX + 64];
	snprintf(what, sizeof(what), "data folder %s copied from the initdb template", c->data);
	note(log_fd, what, tpl);
	return 1;
}

void ff_cluster_template_keep(const ff_cluster *c, const char *tpl, int log_fd,
			      const volatile int *cancel)
{
	char made[PATH_MAX], data[PATH_MAX];
	if (snprintf(made, sizeof(made), "%s/template", c->dir) >= (int)sizeof(made) ||
	    snprintf(data, sizeof(data), "%s/data", made) >= (int)sizeof(data))
		return;
	if (mkdir(made, 0700) < 0 || (c->as_user && chown(made, c->uid, c->gid) < 0))
		return;
	const char *argv[] = { CP, "-a", "--", c->data, data, NULL };
	ff_err e = {0};
	if (ff_cluster_tool(c, argv, log_fd, cancel, 120, &e) < 0)
		return; /* the instance folder's removal takes the rest */
	/* One rename publishes a complete copy, or fails (another run's is
	 * there): ours then goes with the instance folder. */
	if (rename(made, tpl) == 0)
		note(log_fd, "initdb template kept for the next drill:", tpl);
}

void ff_cluster_template_drop(const ff_cluster *c, const char *tpl, int log_fd)
{
	char away[PATH_MAX];
	snprintf(away, sizeof(away), "%s/template.dropped", c->dir);
	/* Moved into our folder first: its removal is then ours alone. What
	 * was moved is removed only when it is still private to the server's
	 * user (another run may have dropped ours, and someone else made a
	 * folder of that name since): nobody else can change what is inside
	 * while it goes. Anything else is put back as it was. */
	if (rename(tpl, away) < 0)
		return;
	if (!private_dir(away, owner_of(c))) {
		if (rename(away, tpl) < 0)
			note(log_fd, "could not put back the folder found at", tpl);
		return;
	}
	ff_remove_tree(away);
	note(log_fd, "initdb template dropped (the server did not start from it):", tpl);
}
