/* l_fs.c - ff.fs: the jailed filesystem (SPEC §5). Every path goes through
 * ff_jail_resolve; writes are atomic (temporary name, fsync, rename) so a
 * reader never sees half a file. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "core/clock.h"
#include "lua/handle.h"
#include "lua/l_fs.h"
#include "lua/modules.h"
#include "lua/prim.h"

#define FD_MT "ff.fs.fd"
#define NAMES_MT "ff.fs.names"
#define LOCK_MT "ff.fs.lock"

static int resolve(lua_State *L, int *dirfd, char name[256], const char *path, int write)
{
	ff_err e = {0};
	if (ff_jail_resolve(dirfd, name, &ff_ctx_of(L)->jail, path, write, &e) < 0)
		return ff_raise(L, &e);
	return 0;
}

/* Operational failures return nil, message, code (a runbook may branch on
 * them); contract and jail violations raise. */
static int fail_errno(lua_State *L, const char *what, const char *path)
{
	int err = errno;
	return ff_failf(L, "%s %s: %s", what, path, strerror(err));
}

/* A descriptor held while the binding pushes (fs.read's buffer grows on
 * the Lua heap) lives in a handle, so a raised out-of-memory closes it. */
static int fd_gc(lua_State *L)
{
	int *fd = ff_handle_check(L, 1, FD_MT);
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
	return 0;
}

static int *new_fd(lua_State *L, const char *mt)
{
	int *fd = ff_handle_new(L, mt, sizeof(int), 0);
	*fd = -1; /* zeroed would be stdin */
	return fd;
}

static void close_fd(int *fd)
{
	close(*fd);
	*fd = -1;
}

static int fs_read(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	ff_err e = {0};
	int *fd = new_fd(L, FD_MT);
	struct stat st;
	if (ff_jail_open(fd, &ff_ctx_of(L)->jail, path, O_RDONLY, 0, &e) < 0) {
		if (e.code == FF_ESANDBOX)
			return ff_raise(L, &e);
		return ff_fail(L, &e);
	}
	if (fstat(*fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close_fd(fd);
		return ff_failf(L, "read %s: not a regular file", path);
	}
	luaL_Buffer b;
	luaL_buffinit(L, &b);
	for (;;) {
		char *p = luaL_prepbuffsize(&b, 65536);
		ssize_t r = read(*fd, p, 65536);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int err = errno;
			close_fd(fd);
			errno = err;
			return fail_errno(L, "read", path);
		}
		if (r == 0)
			break;
		luaL_addsize(&b, (size_t)r);
	}
	close_fd(fd);
	luaL_pushresult(&b);
	return 1;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int fs_write(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	size_t len;
	const char *data = luaL_checklstring(L, 2, &len);
	int dirfd;
	char name[256], tmp[300];

	resolve(L, &dirfd, name, path, 1);
	snprintf(tmp, sizeof(tmp), ".%s.tmp%ld", name, (long)getpid());
	int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		int err = errno;
		close(dirfd);
		errno = err;
		return fail_errno(L, "write", path);
	}
	if (write_all(fd, data, len) < 0 || fsync(fd) < 0 ||
	    renameat(dirfd, tmp, dirfd, name) < 0) {
		int err = errno;
		close(fd);
		unlinkat(dirfd, tmp, 0);
		close(dirfd);
		errno = err;
		return fail_errno(L, "write", path);
	}
	close(fd);
	fsync(dirfd);
	close(dirfd);
	lua_pushboolean(L, 1);
	return 1;
}

static int fs_append(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	size_t len;
	const char *data = luaL_checklstring(L, 2, &len);
	ff_err e = {0};
	int fd;
	if (ff_jail_open(&fd, &ff_ctx_of(L)->jail, path, O_WRONLY | O_CREAT | O_APPEND, 0600, &e) < 0)
		return ff_raise(L, &e);
	if (write_all(fd, data, len) < 0) {
		int err = errno;
		close(fd);
		errno = err;
		return fail_errno(L, "append", path);
	}
	close(fd);
	lua_pushboolean(L, 1);
	return 1;
}

static int fs_mkdir(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	int dirfd;
	char name[256];
	resolve(L, &dirfd, name, path, 1);
	int rc = mkdirat(dirfd, name, 0700);
	int err = errno;
	close(dirfd);
	if (rc < 0 && err != EEXIST) {
		errno = err;
		return fail_errno(L, "mkdir", path);
	}
	lua_pushboolean(L, 1);
	return 1;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* fs.list's names, collected in C: a handle, so that a push that raises
 * while they are turned into a table frees them. */
typedef struct names {
	char **v;
	size_t n;
} names;

static void names_free(names *nm)
{
	for (size_t i = 0; i < nm->n; i++)
		free(nm->v[i]);
	free(nm->v);
	nm->v = NULL;
	nm->n = 0;
}

static int names_gc(lua_State *L)
{
	names_free(ff_handle_check(L, 1, NAMES_MT));
	return 0;
}

static int fs_list(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	ff_err e = {0};
	int fd;
	names *nm = ff_handle_new(L, NAMES_MT, sizeof(*nm), 0);
	if (ff_jail_open(&fd, &ff_ctx_of(L)->jail, path, O_RDONLY | O_DIRECTORY, 0, &e) < 0) {
		if (e.code == FF_ESANDBOX)
			return ff_raise(L, &e);
		return ff_fail(L, &e);
	}
	DIR *d = fdopendir(fd);
	if (!d) {
		int err = errno;
		close(fd);
		errno = err;
		return fail_errno(L, "list", path);
	}
	/* Collected in C and sorted so runbooks see a stable order. */
	size_t cap = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (nm->n == cap) {
			cap = cap ? cap * 2 : 64;
			char **nn = realloc(nm->v, cap * sizeof(*nn));
			if (!nn)
				break;
			nm->v = nn;
		}
		if (!(nm->v[nm->n] = strdup(de->d_name)))
			break;
		nm->n++;
	}
	closedir(d);
	if (nm->n) /* qsort(NULL, 0) is undefined */
		qsort(nm->v, nm->n, sizeof(char *), cmp_str);
	lua_createtable(L, (int)nm->n, 0);
	for (size_t i = 0; i < nm->n; i++) {
		lua_pushstring(L, nm->v[i]);
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	names_free(nm); /* now, not at the next collection */
	return 1;
}

static int fs_stat(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	int dirfd;
	char name[256];
	struct stat st;
	resolve(L, &dirfd, name, path, 0);
	int rc = fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW);
	int err = errno;
	close(dirfd);
	if (rc < 0) {
		errno = err;
		return fail_errno(L, "stat", path);
	}
	lua_createtable(L, 0, 4);
	lua_pushstring(L, S_ISDIR(st.st_mode) ? "dir" : S_ISREG(st.st_mode) ? "file" :
		       S_ISLNK(st.st_mode) ? "symlink" : "other");
	lua_setfield(L, -2, "type");
	lua_pushinteger(L, (lua_Integer)st.st_size);
	lua_setfield(L, -2, "size");
	lua_pushinteger(L, (lua_Integer)st.st_mtime);
	lua_setfield(L, -2, "mtime");
	lua_pushinteger(L, (lua_Integer)(st.st_mode & 07777));
	lua_setfield(L, -2, "mode");
	return 1;
}

static int fs_exists(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	int dirfd;
	char name[256];
	struct stat st;
	ff_err e = {0};
	if (ff_jail_resolve(&dirfd, name, &ff_ctx_of(L)->jail, path, 0, &e) < 0) {
		if (e.code == FF_ESANDBOX)
			return ff_raise(L, &e);
		lua_pushboolean(L, 0); /* a missing parent folder */
		return 1;
	}
	int found = fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
	close(dirfd);
	lua_pushboolean(L, found);
	return 1;
}

static int remove_tree_at(int dirfd, const char *name, int depth)
{
	if (unlinkat(dirfd, name, 0) == 0 || errno == ENOENT)
		return 0;
	if ((errno != EISDIR && errno != EPERM) || depth > 64)
		return -1;
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -1;
	}
	struct dirent *de;
	int rc = 0;
	while (rc == 0 && (de = readdir(d))) {
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			rc = remove_tree_at(fd, de->d_name, depth + 1);
	}
	closedir(d);
	return rc == 0 ? unlinkat(dirfd, name, AT_REMOVEDIR) : rc;
}

static int fs_remove(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	int recursive = lua_toboolean(L, 2);
	int dirfd;
	char name[256];
	resolve(L, &dirfd, name, path, 1);
	if (ff_jail_is_root(&ff_ctx_of(L)->jail, dirfd, name)) {
		close(dirfd);
		return ff_violation(L, "remove %s: a root folder cannot be removed", path);
	}
	int rc = recursive ? remove_tree_at(dirfd, name, 0) :
		 (unlinkat(dirfd, name, 0) == 0 || (errno == EISDIR && unlinkat(dirfd, name, AT_REMOVEDIR) == 0)) ? 0 : -1;
	int err = errno;
	if (rc == 0)
		fsync(dirfd);
	close(dirfd);
	if (rc < 0) {
		errno = err;
		return fail_errno(L, "remove", path);
	}
	lua_pushboolean(L, 1);
	return 1;
}

static int fs_rename(lua_State *L)
{
	const char *from = luaL_checkstring(L, 1), *to = luaL_checkstring(L, 2);
	int fd1, fd2;
	char n1[256], n2[256];
	resolve(L, &fd1, n1, from, 1);
	ff_err e = {0};
	if (ff_jail_resolve(&fd2, n2, &ff_ctx_of(L)->jail, to, 1, &e) < 0) {
		close(fd1);
		return ff_raise(L, &e);
	}
	if (ff_jail_is_root(&ff_ctx_of(L)->jail, fd1, n1)) {
		close(fd1);
		close(fd2);
		return ff_violation(L, "rename %s: a root folder cannot be renamed", from);
	}
	/* Never replace: a rename that would clobber a backup is an error. */
	int rc = renameat2(fd1, n1, fd2, n2, RENAME_NOREPLACE);
	int err = errno;
	if (rc == 0) {
		fsync(fd1);
		fsync(fd2);
	}
	close(fd1);
	close(fd2);
	if (rc < 0) {
		errno = err;
		return fail_errno(L, "rename", from);
	}
	lua_pushboolean(L, 1);
	return 1;
}

static int fs_fsync(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	ff_err e = {0};
	int fd;
	if (ff_jail_open(&fd, &ff_ctx_of(L)->jail, path, O_RDONLY, 0, &e) < 0)
		return ff_raise(L, &e);
	int rc = fsync(fd);
	int err = errno;
	close(fd);
	if (rc < 0) {
		errno = err;
		return fail_errno(L, "fsync", path);
	}
	lua_pushboolean(L, 1);
	return 1;
}

/* --- the lock of a folder -------------------------------------------------
 * flock(2) on <dir>/.ffrun.lock: the kernel drops it when the holder dies,
 * so a lock left by a killed run never blocks the next one. The file says
 * who holds it, for the message the next run prints. */

static int lock_gc(lua_State *L)
{
	int *fd = ff_handle_check(L, 1, LOCK_MT);
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
	return 0;
}

/* The lock handle on top of the stack, its file open in *box: flock'd
 * (shared or exclusive) or, probing, only checked; busy (exit 4) names
 * what, and who holds it as the file says. */
static int hold_lock(lua_State *L, int *box, const char *what, int shared, int probe_only)
{
	ff_ctx *ctx = ff_ctx_of(L);
	char holder[512] = "";
	if (flock(*box, (shared ? LOCK_SH : LOCK_EX) | LOCK_NB) < 0) {
		ssize_t n = pread(*box, holder, sizeof(holder) - 1, 0);
		holder[n > 0 ? n : 0] = '\0';
		holder[strcspn(holder, "\n")] = '\0';
		return ff_busy(L, "%s is locked by another run (%s)", what, *holder ? holder : "holder unknown");
	}
	if (probe_only || shared) {
		/* A shared holder leaves the note of the last exclusive one. */
		if (probe_only)
			close_fd(box);
		return 1;
	}
	char host[128] = "";
	gethostname(host, sizeof(host) - 1);
	char ts[32];
	ff_time_iso(ts, ff_time_now());
	int len = snprintf(holder, sizeof(holder), "pid %ld on %s, run %s, since %s\n",
			   (long)getpid(), host, ctx->ev.run_id ? ctx->ev.run_id : "?", ts);
	if (ftruncate(*box, 0) < 0 || pwrite(*box, holder, (size_t)len, 0) < 0) {
		/* who holds it is only informative */
	}
	return 1;
}

static int take_lock(lua_State *L, int probe_only)
{
	ff_ctx *ctx = ff_ctx_of(L);
	const char *dir = luaL_checkstring(L, 1);
	const char *mode = luaL_optstring(L, 2, "exclusive");
	int shared = !strcmp(mode, "shared");
	char path[PATH_MAX];
	luaL_argcheck(L, shared || !strcmp(mode, "exclusive"), 2, "exclusive or shared");
	ff_err e = {0};

	snprintf(path, sizeof(path), "%s/.ffrun.lock", dir);
	int *box = new_fd(L, LOCK_MT);
	int flags = probe_only ? O_RDONLY : O_RDWR | O_CREAT;
	if (ff_jail_open(box, &ctx->jail, path, flags, 0600, &e) < 0) {
		if (probe_only && e.code != FF_ESANDBOX)
			return 1; /* no lock file yet: nobody holds it */
		return ff_raise(L, &e);
	}
	return hold_lock(L, box, dir, shared, probe_only);
}

int lfs_lock_file(lua_State *L, const char *path, int probe_only)
{
	int *box = new_fd(L, LOCK_MT);
	struct stat st;
	/* O_NONBLOCK: a FIFO put there never hangs the run. */
	*box = open(path, (probe_only ? O_RDONLY : O_RDWR | O_CREAT) | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
	if (*box < 0) {
		if (probe_only && errno == ENOENT)
			return 1; /* no lock file yet: nobody holds it */
		return ff_failf(L, "%s: %s", path, strerror(errno));
	}
	if (fstat(*box, &st) < 0 || !S_ISREG(st.st_mode))
		return ff_failf(L, "%s: not a regular file (a lock file is one)", path);
	return hold_lock(L, box, path, 0, probe_only);
}

/* ff.fs.lock(dir [, "exclusive"|"shared"]) -> lock: held until
 * lock:release() or the end of the run. Writers of the folder (backup,
 * prune) take it exclusive, readers (restore, drill) shared; a conflict
 * ends the run with exit 4 (busy). */
static int fs_lock(lua_State *L) { return take_lock(L, 0); }
static int dry_lock(lua_State *L) { return take_lock(L, 1); }

/* ff.fs.free_bytes(path) -> bytes available to us on its filesystem */
static int fs_free_bytes(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	ff_err e = {0};
	int fd;
	struct statvfs sv;
	if (ff_jail_open(&fd, &ff_ctx_of(L)->jail, path, O_RDONLY | O_DIRECTORY, 0, &e) < 0)
		return ff_raise(L, &e);
	int rc = fstatvfs(fd, &sv);
	close(fd);
	if (rc < 0)
		return fail_errno(L, "statvfs", path);
	lua_pushinteger(L, (lua_Integer)(sv.f_bavail * sv.f_frsize));
	return 1;
}

/* ff.fs.write_digest(dir [, known]): DIGEST (sha256sum -c format) over
 * every file below dir, fsynced. known: a list of {path, sha256, bytes}
 * (a manifest's artifacts) for files hashed as they were written, which
 * are then not read again while they keep that size. */
/* The first problem a check reports, kept in C (no Lua call while the
 * folder's fd is open). */
typedef struct first_problem {
	char msg[512];
	int n;
} first_problem;

static void note_problem(void *arg, const char *msg)
{
	first_problem *fp = arg;
	if (!fp->n++)
		snprintf(fp->msg, sizeof(fp->msg), "%s", msg);
}

static int fs_write_digest(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	ff_err e = {0};
	int fd;
	size_t nknown = 0;
	ff_known_digest *known = NULL;
	if (!lua_isnoneornil(L, 2)) {
		luaL_checktype(L, 2, LUA_TTABLE);
		size_t n = (size_t)lua_rawlen(L, 2);
		if (n > 4096)
			return luaL_error(L, "fs.write_digest: more than 4096 known digests");
		/* Userdata, so an error below frees it; the strings stay
		 * alive in the table at index 2. */
		known = lua_newuserdatauv(L, (n ? n : 1) * sizeof(*known), 0);
		for (size_t i = 0; i < n; i++) {
			lua_rawgeti(L, 2, (lua_Integer)i + 1);
			if (lua_type(L, -1) != LUA_TTABLE)
				return luaL_error(L, "fs.write_digest: known[%d] is not a table", (int)i + 1);
			lua_getfield(L, -1, "path");
			lua_getfield(L, -2, "sha256");
			lua_getfield(L, -3, "bytes");
			if (lua_type(L, -3) == LUA_TSTRING && lua_type(L, -2) == LUA_TSTRING &&
			    lua_isinteger(L, -1) && lua_tointeger(L, -1) >= 0)
				known[nknown++] = (ff_known_digest){ lua_tostring(L, -3), lua_tostring(L, -2),
								     (uint64_t)lua_tointeger(L, -1) };
			lua_pop(L, 4);
		}
	}
	if (ff_jail_open(&fd, &ff_ctx_of(L)->jail, path, O_RDONLY | O_DIRECTORY, 0, &e) < 0)
		return ff_raise(L, &e);
	/* Writing DIGEST is a write: the folder must be writable to us. */
	int dirfd;
	char name[256];
	if (ff_jail_resolve(&dirfd, name, &ff_ctx_of(L)->jail, path, 1, &e) < 0) {
		close(fd);
		return ff_raise(L, &e);
	}
	close(dirfd);
	int rc = ff_digest_write(fd, known, nknown, &e);
	first_problem fp = { "", 0 };
	/* Read back at once: every file hashed again against what was just
	 * written (nothing is called complete on a DIGEST never checked). */
	if (rc == 0 && (rc = ff_digest_verify(fd, note_problem, &fp, &e)) > 0)
		rc = ff_err_set(&e, FF_EFAIL, "DIGEST does not verify: %s%s", fp.msg,
				fp.n > 1 ? " (and more)" : "");
	close(fd);
	if (rc < 0)
		return ff_fail(L, &e);
	lua_pushboolean(L, 1);
	return 1;
}

/* In a dry-run a write still has to be one the jail would allow. */
static int dry_check_path(lua_State *L);

/* write's and append's stand-in: a path the run may write, and text. */
static int dry_write(lua_State *L)
{
	luaL_checkstring(L, 2);
	return dry_check_path(L);
}

/* remove's stand-in: as the real call, a root of the jail is a violation. */
static int dry_remove(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	int root;
	ff_dry_path(L, path, 1, &root);
	if (root)
		return ff_violation(L, "remove %s: a root folder cannot be removed", path);
	lua_pushboolean(L, 1);
	return 1;
}

/* fsync's stand-in: the path must be one the jail lets the run read (the
 * file itself may be one the rehearsal only planned). */
static int dry_fsync(lua_State *L)
{
	ff_dry_path(L, luaL_checkstring(L, 1), 0, NULL);
	lua_pushboolean(L, 1);
	return 1;
}

static int dry_check_path(lua_State *L)
{
	ff_dry_path(L, luaL_checkstring(L, 1), 1, NULL);
	lua_pushboolean(L, 1);
	return 1;
}

static int dry_rename(lua_State *L)
{
	const char *to = luaL_checkstring(L, 2);
	dry_check_path(L);
	lua_settop(L, 0);
	lua_pushstring(L, to);
	return dry_check_path(L);
}

void ff_open_fs(lua_State *L)
{
	static const ff_prim prims[] = {
		{"read", fs_read, FF_READ, NULL},
		{"list", fs_list, FF_READ, NULL},
		{"stat", fs_stat, FF_READ, NULL},
		{"exists", fs_exists, FF_READ, NULL},
		{"write", fs_write, FF_WRITE, dry_write},
		{"append", fs_append, FF_WRITE, dry_write},
		{"mkdir", fs_mkdir, FF_WRITE, dry_check_path},
		{"remove", fs_remove, FF_WRITE, dry_remove},
		{"rename", fs_rename, FF_WRITE, dry_rename},
		{"fsync", fs_fsync, FF_WRITE, dry_fsync},
		{"lock", fs_lock, FF_WRITE, dry_lock},
		{"free_bytes", fs_free_bytes, FF_READ, NULL},
		{"write_digest", fs_write_digest, FF_WRITE, dry_check_path},
		{NULL, NULL, 0, NULL}
	};
	ff_prims_set(L, "fs", prims);
	ff_handle_class(L, FD_MT, "fs", NULL, fd_gc);
	ff_handle_class(L, NAMES_MT, "fs", NULL, names_gc);
	/* release is a plain function, not a primitive: releasing a lock is
	 * no event, as before the handle helper. */
	ff_handle_class(L, LOCK_MT, "fs.lock", NULL, lock_gc);
	luaL_getmetatable(L, LOCK_MT);
	lua_getfield(L, -1, "__index");
	lua_pushcfunction(L, lock_gc);
	lua_setfield(L, -2, "release");
	lua_pop(L, 2);
}
