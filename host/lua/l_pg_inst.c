/* l_pg_inst.c - ff.pg.instance: a throwaway server for drills, and its
 * dry-run stand-in (an instance whose admin plans every change). */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/amcheck.h"
#include "core/cluster.h"
#include "core/pgbackrest.h"
#include "core/switchover.h"
#include "lua/l_pg.h"

typedef struct instance {
	ff_cluster c;
	int slot; /* index in ctx->clusters, -1 when not registered */
	int dry;  /* a rehearsal's stand-in: planned, never made */
} instance;

/* __gc, __close and instance:stop(): idempotent (a destroyed cluster no
 * longer exists, an unregistered slot is -1). */
static int inst_teardown(lua_State *L, instance *in)
{
	ff_ctx *ctx = ff_ctx_of(L);
	ff_cluster_destroy(&in->c, ctx->log_fd, NULL);
	if (in->slot >= 0)
		ctx->clusters[in->slot] = NULL;
	in->slot = -1;
	return 0;
}

static int inst_gc(lua_State *L)
{
	return inst_teardown(L, ff_handle_check(L, 1, INST_MT));
}

static int free_slot(const ff_ctx *ctx)
{
	for (int i = 0; i < FF_MAX_CLUSTERS; i++)
		if (!ctx->clusters[i])
			return i;
	return -1;
}

/* The option restore = { from = TARGET (engine pgbackrest), set = LABEL,
 * repo = N, type = "lsn"|"time"|"name"|"immediate", target = VALUE,
 * exclusive = bool, timeout_s = N, wal_segment_size = BYTES } read into o; 0 when absent. Every value is checked
 * before it becomes an option of pgbackrest restore. Its strings live in
 * the options table (argument 1). */
static int restore_opts(lua_State *L, ff_cluster_restore_opts *o)
{
	memset(o, 0, sizeof(*o));
	if (!lua_istable(L, 1) || lua_getfield(L, 1, "restore") == LUA_TNIL) {
		if (lua_istable(L, 1))
			lua_pop(L, 1);
		return 0;
	}
	int t = lua_gettop(L);
	luaL_argcheck(L, lua_istable(L, t), 1, "pg.instance: restore is a table");
	const char *from = lpg_opt_str(L, t, "from", 1);
	const ff_target *tg = ff_config_target(ff_ctx_of(L)->cfg, from);
	if (!tg || !tg->pgbr_stanza)
		luaL_error(L, "pg.instance: restore.from '%s' is not a target with engine pgbackrest", from);
	o->pgbr_config = tg->pgbr_config;
	o->pgbr_stanza = tg->pgbr_stanza;
	o->set = lpg_opt_str(L, t, "set", 1);
	if (!ff_pgbr_valid_name(o->set))
		luaL_argerror(L, 1, "pg.instance: restore.set is not a backup label");
	o->repo = lpg_opt_int(L, t, "repo", 0);
	luaL_argcheck(L, o->repo >= 0 && o->repo <= FF_PGBR_REPO_MAX, 1,
		      "pg.instance: restore.repo is a repository key (1 to 256), or 0 for pgBackRest's default");
	o->type = lpg_opt_str(L, t, "type", 1);
	o->target = lpg_opt_str(L, t, "target", 0);
	int ok = !strcmp(o->type, "immediate") ? o->target == NULL
		: !strcmp(o->type, "lsn") ? o->target && ff_pgbr_valid_lsn(o->target)
		: !strcmp(o->type, "time") ? o->target && ff_pgbr_valid_time(o->target)
		: !strcmp(o->type, "name") ? o->target && ff_pgbr_valid_name(o->target) : 0;
	if (!ok)
		luaL_argerror(L, 1, "pg.instance: restore.type is lsn, time or name with a valid target, or immediate without");
	lua_getfield(L, t, "exclusive");
	o->exclusive = lua_toboolean(L, -1);
	lua_pop(L, 1);
	o->timeout_s = lpg_opt_int(L, t, "timeout_s", 600);
	o->wal_segment_size = lpg_opt_int(L, t, "wal_segment_size", 0);
	luaL_argcheck(L, o->wal_segment_size == 0 || (o->wal_segment_size >= (1 << 20) &&
		      !(o->wal_segment_size & (o->wal_segment_size - 1))), 1,
		      "pg.instance: restore.wal_segment_size is a power of 2 of at least 1 MiB");
	luaL_argcheck(L, o->timeout_s > 0, 1, "pg.instance: restore.timeout_s is 1 or more");
	/* beside: the suffix only ("restore_STAMP"); the folder is made from
	 * the stanza's pg1-path by the real call, never from a runbook's path. */
	o->beside = lpg_opt_str(L, t, "beside", 0);
	luaL_argcheck(L, !o->beside || (!strncmp(o->beside, "restore_", 8) && ff_switch_valid_suffix(o->beside)), 1,
		      "pg.instance: restore.beside is restore_STAMP");
	lua_pop(L, 1);
	return 1;
}

/* ff.pg.instance{ major = [, restore = {...}] } -> instance | nil,
 * message, code: initdb + start in a private temporary folder, as
 * postgres.os_user when ffrun is root; with restore, pgbackrest restore
 * into that folder instead of initdb, recovery, promotion. */
int lpg_instance(lua_State *L)
{
	ff_ctx *ctx = ff_ctx_of(L);
	int major = lua_istable(L, 1) ? lpg_opt_int(L, 1, "major", 0) : 0;
	ff_cluster_restore_opts ro;
	int restored = restore_opts(L, &ro);
	char initdb[PATH_MAX], raw[256];
	ff_err e = {0};
	int log_fd;
	if (ff_pg_tool(initdb, ctx->cfg->pg_bindir, major, "initdb", &e) < 0)
		return ff_raise(L, &e);
	*strrchr(initdb, '/') = '\0';
	int slot = free_slot(ctx);
	if (slot < 0)
		return luaL_error(L, "pg.instance: at most %d instances at once", FF_MAX_CLUSTERS);
	/* Leftovers of a crashed ffrun first: only folders whose maker is
	 * provably dead. */
	ff_cluster_reap(ctx->log_fd);
	instance *in = ff_handle_new(L, INST_MT, sizeof(*in), 0);
	in->slot = -1;
	if (ff_evidence_raw_open(&ctx->ev, &log_fd, raw, "instance.log", &e) < 0)
		return ff_raise(L, &e);
	/* Beside production's data folder: <pg1-path>.ff<suffix>. */
	char beside[PATH_MAX + 64];
	if (restored && ro.beside) {
		char pg1[PATH_MAX];
		ff_pgbr_opts po = { .config = ro.pgbr_config, .stanza = ro.pgbr_stanza, .os_user = ctx->cfg->pg_os_user,
				    .log_fd = log_fd, .timeout_s = 60, .cancel = &ctx->cancel };
		if (ff_pgbr_pg1_path(&po, pg1, sizeof(pg1), &e) < 0) {
			close(log_fd);
			return ff_fail(L, &e);
		}
		snprintf(beside, sizeof(beside), "%s.ff%s", pg1, ro.beside);
		ro.beside = beside;
		ro.major = major;
	}
	/* Registered before it exists: a watchdog abort tears down what is
	 * half made too. */
	ctx->clusters[slot] = &in->c;
	in->slot = slot;
	int rc = restored ? ff_cluster_restore(&in->c, initdb, ctx->cfg->pg_os_user, &ro, log_fd, &ctx->cancel, &e)
			  : ff_cluster_create(&in->c, initdb, ctx->cfg->pg_os_user, log_fd, &ctx->cancel, &e);
	close(log_fd);
	if (rc < 0) {
		ctx->clusters[slot] = NULL;
		in->slot = -1;
		return ff_fail(L, &e);
	}
	return 1;
}

static instance *check_inst(lua_State *L)
{
	instance *in = ff_handle_check(L, 1, INST_MT);
	if (!in->c.running && !in->dry)
		luaL_error(L, "pg.instance: not running");
	return in;
}

/* instance:admin() -> admin over the whole instance */
static int inst_admin(lua_State *L)
{
	instance *in = check_inst(L);
	ff_err e = {0};
	lpg_admin *a = lpg_admin_new(L);
	a->instance = 1;
	snprintf(a->target, sizeof(a->target), "instance");
	if (in->dry) { /* an admin that plans every change */
		a->dry = 1;
		return 1;
	}
	ff_cluster_conninfo(&in->c, "postgres", a->conninfo, sizeof(a->conninfo));
	if (ff_pg_connect(&a->pg, "instance", a->conninfo, NULL, &e) < 0)
		return ff_raise(L, &e);
	return 1;
}

/* instance:connect(db) -> conn | nil, message, code */
static int inst_connect(lua_State *L)
{
	instance *in = check_inst(L);
	const char *db = luaL_checkstring(L, 2);
	char ci[1024];
	ff_err e = {0};
	if (in->dry) /* the real call's failure shape */
		return ff_failf(L, "dry-run: the instance is only planned");
	ff_cluster_conninfo(&in->c, db, ci, sizeof(ci));
	lpg_conn *c = ff_handle_new(L, CONN_MT, sizeof(*c), 0);
	snprintf(c->target, sizeof(c->target), "instance");
	if (lpg_conn_open(c, "instance", ci, NULL, &e) < 0)
		return ff_fail(L, &e);
	return 1;
}

/* instance:info() -> { folder, socket, port, restore_s, recover_s }
 * (the last two 0 unless restored from pgBackRest); a planned instance has
 * the same shape, its fields saying it is planned (port 0). */
static int inst_info(lua_State *L)
{
	instance *in = check_inst(L);
	lua_createtable(L, 0, 3);
	lua_pushstring(L, in->dry ? "(planned)" : in->c.dir);
	lua_setfield(L, -2, "folder");
	lua_pushstring(L, in->dry ? "(planned)" : in->c.sock);
	lua_setfield(L, -2, "socket");
	lua_pushinteger(L, in->dry ? 0 : in->c.port);
	lua_setfield(L, -2, "port");
	lua_pushnumber(L, in->c.restore_s);
	lua_setfield(L, -2, "restore_s");
	lua_pushnumber(L, in->c.recover_s);
	lua_setfield(L, -2, "recover_s");
	return 1;
}

/* instance:stop(): stop the server and remove its folder (idempotent). */
static int inst_stop(lua_State *L)
{
	inst_gc(L);
	lua_pushboolean(L, 1);
	return 1;
}

/* The kind release keeps a copy as: nil (for a switch-over) or "failed". */
static const char *release_kind(lua_State *L)
{
	static const char *const kinds[] = { "switch", "failed", NULL };
	return luaL_checkoption(L, 2, "switch", kinds) == 1 ? "failed" : NULL;
}

/* instance:release([kind]) -> data folder | nil, message, code
 * An instance restored beside production's data folder (restore.beside):
 * its server stopped cleanly and its private folder removed, the data
 * folder kept for a switch-over (ff.pgbackrest.switch), or with "failed"
 * renamed <data>.fffailed_STAMP, a failed copy kept for inspection. */
static int inst_release(lua_State *L)
{
	ff_ctx *ctx = ff_ctx_of(L);
	instance *in = check_inst(L);
	const char *kind = release_kind(L);
	char data[PATH_MAX];
	ff_err e = {0};
	if (!in->c.beside[0])
		return luaL_error(L, "inst:release: not an instance restored beside production (restore.beside)");
	int rc = ff_cluster_release(&in->c, kind, data, sizeof(data), ctx->log_fd, &ctx->cancel, &e);
	if (rc < 0)
		return ff_fail(L, &e);
	if (in->slot >= 0)
		ctx->clusters[in->slot] = NULL;
	in->slot = -1;
	lua_pushstring(L, data);
	return 1;
}

/* release's stand-in: the real call's answer, planned. */
static int dry_inst_release(lua_State *L)
{
	check_inst(L);
	release_kind(L);
	lua_pushstring(L, "(planned)");
	return 1;
}

/* stop's stand-in: the real call's check and answer. */
static int dry_inst_stop(lua_State *L)
{
	ff_handle_check(L, 1, INST_MT);
	lua_pushboolean(L, 1);
	return 1;
}

/* What inst:amcheck and its stand-in both check: the handle, a database
 * name as PostgreSQL takes one (1 to 63 bytes), and the options
 * { jobs = (0: one per core), timeout_s = (0: none) }. */
static const char *amcheck_args(lua_State *L, instance **in, int *jobs, int *timeout_s)
{
	size_t n;
	*in = check_inst(L);
	const char *db = luaL_checklstring(L, 2, &n);
	if (n == 0 || n > 63 || memchr(db, '\0', n))
		luaL_argerror(L, 2, "inst:amcheck: a database name of 1 to 63 bytes");
	*jobs = 0;
	*timeout_s = 0;
	if (!lua_isnoneornil(L, 3)) {
		luaL_checktype(L, 3, LUA_TTABLE);
		*jobs = lpg_opt_int(L, 3, "jobs", 0);
		*timeout_s = lpg_opt_int(L, 3, "timeout_s", 0);
		if (*jobs < 0 || *timeout_s < 0)
			luaL_argerror(L, 3, "inst:amcheck: jobs and timeout_s are 0 or more");
	}
	if (*jobs == 0) {
		long cpus = sysconf(_SC_NPROCESSORS_ONLN);
		*jobs = cpus > 0 ? (int)cpus : 1;
	}
	return db;
}

/* The answer of inst:amcheck, the same shape for its stand-in. MAY_LJMP. */
static int push_amcheck(lua_State *L, const ff_amcheck_result *r, const char *raw, int dry)
{
	lua_createtable(L, 0, 8);
	lua_pushboolean(L, !r->corrupt);
	lua_setfield(L, -2, "ok");
	lua_pushboolean(L, r->corrupt);
	lua_setfield(L, -2, "corrupt");
	lua_pushnumber(L, r->duration_s);
	lua_setfield(L, -2, "duration_s");
	lua_pushinteger(L, (lua_Integer)r->problems);
	lua_setfield(L, -2, "problems");
	lua_createtable(L, (int)r->nrels, 0);
	for (size_t i = 0; i < r->nrels; i++) {
		lua_pushstring(L, r->rels[i]);
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	lua_setfield(L, -2, "relations");
	lua_pushstring(L, r->summary);
	lua_setfield(L, -2, "summary");
	lua_pushstring(L, raw);
	lua_setfield(L, -2, "raw");
	if (dry) {
		lua_pushboolean(L, 1);
		lua_setfield(L, -2, "dry_run");
	}
	return 1;
}

/* instance:amcheck(db [, { jobs =, timeout_s = }])
 *   -> { ok, corrupt, duration_s, problems, relations, summary, raw }
 *    | nil, message, code
 * PostgreSQL's pg_amcheck --heapallindexed --install-missing on database
 * db, from the instance's own bindir: a write (it creates the amcheck
 * extension there). Corruption is an answer (ok false, the relations
 * named); a check that could not be done is a failure. */
static int inst_amcheck(lua_State *L)
{
	ff_ctx *ctx = ff_ctx_of(L);
	instance *in;
	int jobs, timeout_s, fd;
	const char *db = amcheck_args(L, &in, &jobs, &timeout_s);
	char tool[PATH_MAX + 16], raw[256];
	ff_err e = {0};
	ff_amcheck_result r;
	snprintf(tool, sizeof(tool), "%s/pg_amcheck", in->c.bindir);
	if (access(tool, X_OK) < 0)
		return luaL_error(L, "inst:amcheck: no pg_amcheck in %s (it comes with the server's own package)",
				  in->c.bindir);
	if (ff_evidence_raw_open(&ctx->ev, &fd, raw, "pg_amcheck.log", &e) < 0)
		return ff_raise(L, &e);
	/* No Lua call while the report's file is open. */
	ff_amcheck_opts o = { .pg_amcheck = tool, .sock = in->c.sock, .port = in->c.port, .db = db,
			      .jobs = jobs, .out_fd = fd, .timeout_s = timeout_s, .cancel = &ctx->cancel };
	int rc = ff_amcheck_run(&r, &o, &e);
	close(fd);
	if (rc < 0)
		return ff_fail(L, &e);
	return push_amcheck(L, &r, raw, 0);
}

/* amcheck's stand-in: the real call's checks, its shape, nothing run. */
static int dry_inst_amcheck(lua_State *L)
{
	instance *in;
	int jobs, timeout_s;
	ff_amcheck_result r;
	(void)amcheck_args(L, &in, &jobs, &timeout_s);
	memset(&r, 0, sizeof(r));
	return push_amcheck(L, &r, "(planned)", 1);
}

/* In a rehearsal: an instance handle like the real one, planned, whose
 * admin plans every change. */
int lpg_dry_instance(lua_State *L)
{
	ff_cluster_restore_opts ro;
	if (lua_istable(L, 1))
		(void)lpg_opt_int(L, 1, "major", 0); /* the real call's checks */
	(void)restore_opts(L, &ro);
	instance *in = ff_handle_new(L, INST_MT, sizeof(*in), 0);
	in->slot = -1;
	in->dry = 1;
	return 1;
}

void lpg_inst_class(lua_State *L)
{
	static const ff_prim methods[] = {
		{"admin", inst_admin, FF_READ, NULL},
		{"connect", inst_connect, FF_READ, NULL},
		{"info", inst_info, FF_READ, NULL},
		{"stop", inst_stop, FF_WRITE, dry_inst_stop},
		{"release", inst_release, FF_WRITE, dry_inst_release},
		{"amcheck", inst_amcheck, FF_WRITE, dry_inst_amcheck},
		{NULL, NULL, 0, NULL}
	};
	ff_handle_class(L, INST_MT, "pg.instance", methods, inst_gc);
}
