/* l_pg_restore.c - pg_restore into one of ffrun's databases, through an
 * admin handle: admin:restore (the archive, or some sections or entries of
 * it) and admin:load_table (one table's data over several sessions at
 * once, core/splitload.c). The names allowed are l_pg_admin.c's check;
 * the child process is core/exec.c's. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/exec.h"
#include "core/pgadmin.h"
#include "core/splitload.h"
#include "lua/l_pg.h"

/* pg_restore --section values, in the archive's order. */
static const char *const sections[] = { "pre-data", "data", "post-data", NULL };

/* Everything pg_restore's argv points to, on the C stack: built before
 * any resource is acquired, so a refusal raises with nothing held. */
typedef struct rargs {
	char tool[PATH_MAX], jarg[32], dbarg[4096], larg[PATH_MAX + 16];
	char sect[3][32];
	const char *argv[12];
	uint64_t estimate;
} rargs;

/* pg_restore's --dbname: the configured conninfo naming database db,
 * copied out of its malloc'd form before any push. */
static void restore_dbname(lua_State *L, lpg_admin *a, const char *db, char *out, size_t cap)
{
	char *ci = NULL;
	ff_err e = {0};
	if (ff_pg_conninfo_with_db(&ci, a->conninfo, db, &e) < 0)
		ff_raise(L, &e);
	int n = snprintf(out, cap, "--dbname=%s", ci);
	free(ci);
	if (n < 0 || (size_t)n >= cap)
		luaL_error(L, "pg_restore: the conninfo of %s is too long", a->target);
}

/* A pg_restore --use-list file in the run's private folder, holding
 * text; its path in path. No Lua call. */
static int write_list(ff_ctx *ctx, char path[PATH_MAX], const char *text, ff_err *e)
{
	const char *tmp = ff_run_tmp(ctx, e);
	if (!tmp)
		return FF_EFAIL;
	if (snprintf(path, PATH_MAX, "%s/pg_restore-XXXXXX.list", tmp) >= PATH_MAX)
		return ff_err_set(e, FF_EFAIL, "pg_restore: the run's folder path is too long");
	int fd = mkostemps(path, 5, O_CLOEXEC);
	if (fd < 0)
		return ff_err_set(e, FF_EFAIL, "pg_restore: %s: %s", path, strerror(errno));
	size_t n = strlen(text);
	const char *p = text;
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			int err = errno;
			close(fd);
			return ff_err_set(e, FF_EFAIL, "pg_restore: writing %s: %s", path, strerror(err));
		}
		p += w;
		n -= (size_t)w;
	}
	close(fd);
	return 0;
}

/* opts.sections at idx (absent: the whole archive): each one of
 * pre-data, data, post-data, once; as --section= arguments in r->sect.
 * Returns how many. A contract breach raises. MAY_LJMP. */
static int read_sections(lua_State *L, int idx, rargs *r)
{
	if (lua_isnoneornil(L, idx))
		return 0;
	luaL_checktype(L, idx, LUA_TTABLE);
	if (lua_getfield(L, idx, "sections") == LUA_TNIL) {
		lua_pop(L, 1);
		return 0;
	}
	if (!lua_istable(L, -1))
		luaL_argerror(L, idx, "sections must be a list of pre-data, data, post-data");
	int list = lua_gettop(L), seen[3] = {0}, n = 0;
	lua_Integer len = luaL_len(L, list);
	if (len < 1 || len > 3)
		luaL_argerror(L, idx, "sections: one to three of pre-data, data, post-data");
	for (lua_Integer i = 1; i <= len; i++) {
		lua_geti(L, list, i);
		const char *s = lua_tostring(L, -1);
		int k = 0;
		while (sections[k] && (!s || strcmp(s, sections[k])))
			k++;
		if (!sections[k])
			luaL_argerror(L, idx, lua_pushfstring(L, "sections: '%s' is not pre-data, data or post-data",
							      s ? s : luaL_typename(L, -1)));
		if (seen[k]++)
			luaL_argerror(L, idx, lua_pushfstring(L, "sections: '%s' twice", s));
		lua_pop(L, 1);
	}
	/* In the archive's order, whatever the list's: the argv reads the same. */
	for (int k = 0; sections[k]; k++)
		if (seen[k])
			snprintf(r->sect[n++], sizeof(r->sect[0]), "--section=%s", sections[k]);
	lua_pop(L, 1);
	return n;
}

/* The arguments of admin:restore, checked as the
 * real call and the stand-in both check them (the handle, a name of
 * ffrun's, the archive readable through the jail, the tool, the
 * sections); with dbarg, pg_restore's argv too. MAY_LJMP. */
static lpg_admin *restore_args(lua_State *L, rargs *r, int dbarg)
{
	ff_ctx *ctx = ff_ctx_of(L);
	lpg_admin *a = lpg_admin_check(L);
	const char *db = lpg_admin_own_name(L, a, 2);
	const char *archive = luaL_checkstring(L, 3);
	int jobs = (int)luaL_optinteger(L, 4, 1);
	int major = (int)luaL_optinteger(L, 5, 0);
	lua_Integer estimate = luaL_optinteger(L, 6, 0);
	int nsect = read_sections(L, 7, r);
	const char *list = NULL;
	if (lua_istable(L, 7)) {
		lua_getfield(L, 7, "list");
		list = luaL_optstring(L, -1, NULL); /* stays: the table holds it */
		lua_pop(L, 1);
	}
	ff_err e = {0};
	int fd, k = 0;
	if (ff_jail_open(&fd, &ctx->jail, archive, O_RDONLY, 0, &e) < 0)
		ff_raise(L, &e);
	close(fd);
	if (ff_pg_tool(r->tool, ctx->cfg->pg_bindir, major, "pg_restore", &e) < 0)
		ff_raise(L, &e);
	r->estimate = estimate > 0 ? (uint64_t)estimate : 0;
	if (!dbarg)
		return a;
	restore_dbname(L, a, db, r->dbarg, sizeof(r->dbarg));
	if (list) {
		char path[PATH_MAX];
		if (write_list(ctx, path, list, &e) < 0)
			ff_raise(L, &e);
		snprintf(r->larg, sizeof(r->larg), "--use-list=%s", path);
	}
	snprintf(r->jarg, sizeof(r->jarg), "--jobs=%d", jobs < 1 ? 1 : jobs);
	r->argv[k++] = r->tool;
	r->argv[k++] = "--no-password";
	r->argv[k++] = r->jarg;
	for (int i = 0; i < nsect; i++)
		r->argv[k++] = r->sect[i];
	if (list)
		r->argv[k++] = r->larg;
	r->argv[k++] = r->dbarg;
	r->argv[k++] = archive; /* held by the caller's stack */
	r->argv[k] = NULL;
	return a;
}

/* The result table of a pg_restore run (the real one's and the planned
 * one's). MAY_LJMP. */
static void push_result(lua_State *L, int ok, const char *raw, double duration, const char *output,
			int stopped)
{
	lua_createtable(L, 0, 5);
	lua_pushboolean(L, ok);
	lua_setfield(L, -2, "ok");
	lua_pushstring(L, raw);
	lua_setfield(L, -2, "raw");
	lua_pushnumber(L, duration);
	lua_setfield(L, -2, "duration_s");
	lua_pushstring(L, output ? output : "");
	lua_setfield(L, -2, "output");
	lua_pushboolean(L, stopped);
	lua_setfield(L, -2, "stopped");
}

static void push_planned(lua_State *L)
{
	push_result(L, 1, "(planned)", 0, "", 0);
}

/* Push the result of a finished run; tail is a box pushed before the run
 * (so a raise while pushing frees what it holds), res's tail moves in. */
static int push_run(lua_State *L, void **tail, int rc, ff_exec_result *res, const char *raw,
		    const ff_err *e)
{
	*tail = res->tail;
	res->tail = NULL;
	if (rc < 0)
		return ff_fail(L, e);
	push_result(L, res->exited && res->status == 0, raw, res->duration_s, *tail, res->timed_out);
	return 1;
}

/* What a pg_restore run of a binding holds while it runs: its log in the
 * evidence, the tools' environment, the progress of the database's size. */
typedef struct rrun {
	char raw[256];
	int log_fd;
	char **env;
	ff_pgadmin_watch w;
	int watching;
} rrun;

/* Open the log (raw/<name>) and the environment, and fill o's with them
 * and the progress tick. Raises with nothing held; after it returns, no
 * Lua call until rrun_end. */
static void rrun_begin(lua_State *L, rrun *x, const char *name, lpg_admin *a, const char *db,
		       uint64_t estimate, ff_exec_opts *o, size_t tail_max)
{
	ff_ctx *ctx = ff_ctx_of(L);
	ff_err e = {0};
	memset(x, 0, sizeof(*x));
	if (ff_evidence_raw_open(&ctx->ev, &x->log_fd, x->raw, name, &e) < 0)
		ff_raise(L, &e);
	if (!(x->env = ff_pg_env())) {
		close(x->log_fd);
		luaL_error(L, "out of memory");
	}
	*o = (ff_exec_opts){ .env = (const char *const *)x->env, .out_fd = x->log_fd,
			     .tail_max = tail_max, .cancel = &ctx->cancel };
	if (a->pg) {
		ff_pgadmin_watch_start(&x->w, a->pg, db, &ctx->progress, estimate, ctx->quiet || ctx->json);
		x->watching = 1;
		o->tick = ff_pgadmin_watch_tick;
		o->tick_arg = &x->w;
		o->tick_s = isatty(2) ? 1.0 : 10.0;
	}
}

static void rrun_end(rrun *x, int ok)
{
	if (x->watching)
		ff_pgadmin_watch_end(&x->w, ok);
	ff_pg_env_free(x->env);
	close(x->log_fd);
}

/* admin:restore(database, archive, jobs, major, estimate_bytes [, { sections = {…} }])
 *   -> { ok, output, raw, duration_s, stopped } | nil, message, code
 * pg_restore -j into one of ffrun's databases (only the sections given,
 * when given); its whole log is in raw/ (output holds the last 64 KiB) for
 * the runbook to judge each "pg_restore: error:" line against
 * restore.allow_errors. */
int lpg_admin_restore(lua_State *L)
{
	ff_ctx *ctx = ff_ctx_of(L);
	rargs r;
	lpg_admin *a = restore_args(L, &r, 1);
	const char *db = lua_tostring(L, 2);
	ff_err e = {0};
	void **tail = lpg_mem_box(L);
	rrun x;
	ff_exec_opts o;
	rrun_begin(L, &x, "pg_restore.log", a, db, r.estimate, &o, 64 * 1024);
	ff_exec_result res = {0};
	int rc = ff_exec_run(&res, r.argv, &o, &e);
	rrun_end(&x, !ctx->cancel && !res.timed_out);
	return push_run(L, tail, rc, &res, x.raw, &e);
}

/* The stand-in: the same checks, the same shape, planned. */
int lpg_dry_admin_restore(lua_State *L)
{
	rargs r;
	restore_args(L, &r, 0);
	push_planned(L);
	return 1;
}

/* The arguments of admin:load_table, checked as restore_args checks
 * them, and the entry's id (a TOC entry number). With argv, pg_restore
 * writing that entry alone on stdout. MAY_LJMP. */
static lpg_admin *load_args(lua_State *L, rargs *r, int argv, lua_Integer *id)
{
	ff_ctx *ctx = ff_ctx_of(L);
	lpg_admin *a = lpg_admin_check(L);
	lpg_admin_own_name(L, a, 2);
	const char *archive = luaL_checkstring(L, 3);
	*id = luaL_checkinteger(L, 4);
	luaL_argcheck(L, *id > 0 && *id < INT32_MAX, 4, "an archive entry's id (pg_restore --list)");
	lua_Integer jobs = luaL_optinteger(L, 5, 1);
	luaL_argcheck(L, jobs >= 1 && jobs <= FF_SPLITLOAD_MAX_JOBS, 5, "jobs: 1 to 16");
	int major = (int)luaL_optinteger(L, 6, 0);
	lua_Integer estimate = luaL_optinteger(L, 7, 0);
	ff_err e = {0};
	int fd;
	if (ff_jail_open(&fd, &ctx->jail, archive, O_RDONLY, 0, &e) < 0)
		ff_raise(L, &e);
	close(fd);
	if (ff_pg_tool(r->tool, ctx->cfg->pg_bindir, major, "pg_restore", &e) < 0)
		ff_raise(L, &e);
	r->estimate = estimate > 0 ? (uint64_t)estimate : 0;
	if (!argv)
		return a;
	char list[32], path[PATH_MAX];
	snprintf(list, sizeof(list), "%lld;\n", (long long)*id);
	if (write_list(ctx, path, list, &e) < 0)
		ff_raise(L, &e);
	snprintf(r->larg, sizeof(r->larg), "--use-list=%s", path);
	r->argv[0] = r->tool;
	r->argv[1] = r->larg;
	r->argv[2] = "--file=-";
	r->argv[3] = archive; /* held by the caller's stack */
	r->argv[4] = NULL;
	return a;
}

static void push_load(lua_State *L, const char *raw, const ff_splitload_result *r, const char *output)
{
	push_result(L, 1, raw, r->exec.duration_s, output, 0);
	lua_pushinteger(L, (lua_Integer)r->rows);
	lua_setfield(L, -2, "rows");
	lua_pushinteger(L, (lua_Integer)r->bytes);
	lua_setfield(L, -2, "bytes");
	lua_pushstring(L, r->copy);
	lua_setfield(L, -2, "copy");
}

/* admin:load_table(database, archive, entry, jobs, major, estimate_bytes)
 *   -> { ok, rows, bytes, copy, output, raw, duration_s, stopped } | nil, message, code
 * One table's data (the archive's TOC entry `entry`, a TABLE DATA one)
 * loaded over `jobs` sessions at once (core/splitload.c): pg_restore
 * gives a table one worker. Every session commits only when all took
 * their rows; any failure rolls all back and is nil, message. pg_restore's
 * own messages are in raw/. */
int lpg_admin_load_table(lua_State *L)
{
	rargs r;
	lua_Integer id;
	lpg_admin *a = load_args(L, &r, 1, &id);
	const char *db = lua_tostring(L, 2);
	int jobs = (int)lua_tointeger(L, 5);
	ff_err e = {0};
	void **tail = lpg_mem_box(L);
	rrun x;
	ff_splitload_opts o = { .target = a->target, .conninfo = a->conninfo, .dbname = db,
				.jobs = jobs < 1 ? 1 : jobs, .argv = r.argv };
	rrun_begin(L, &x, "pg_restore-table.log", a, db, r.estimate, &o.exec, 16 * 1024);
	ff_splitload_result res;
	int rc = ff_splitload_run(&res, &o, &e);
	rrun_end(&x, rc == 0);
	*tail = res.exec.tail;
	res.exec.tail = NULL;
	if (rc < 0)
		return ff_fail(L, &e);
	push_load(L, x.raw, &res, *tail);
	return 1;
}

/* The stand-in: the same checks, the same shape, planned. */
int lpg_dry_admin_load_table(lua_State *L)
{
	rargs r;
	lua_Integer id;
	load_args(L, &r, 0, &id);
	ff_splitload_result res = {0};
	snprintf(res.copy, sizeof(res.copy), "(planned)");
	push_load(L, "(planned)", &res, "");
	return 1;
}
