/* l_pg_admin.c - ff.pg.admin: the only way a runbook changes a server.
 *
 * It is opened with confirm=, which must equal the target's database name
 * (exit 2 otherwise). It creates, restores into and drops only databases
 * named <live>__ff…, and swaps the live database with one of them in a
 * single transaction, so the live name always holds either the old
 * database or the new one. The one change beyond those databases is
 * apply_globals (roles are server-wide), which a runbook makes only when
 * the operator asks for it. The statements are core/pgadmin.c's. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/dbarchive.h"
#include "core/pgadmin.h"
#include "lua/l_pg.h"

#define GLOBALS_MT "ff.pg.globals" /* apply_globals' lists being pushed */
#define DBA_MT "ff.pg.dbstmts"     /* the archive's database statements */

lpg_admin *lpg_admin_check(lua_State *L)
{
	lpg_admin *a = ff_handle_check(L, 1, ADMIN_MT);
	if (!a->pg && !a->dry)
		luaL_error(L, "pg.admin: connection to %s is closed", a->target);
	return a;
}

/* __gc and __close: idempotent. */
static int admin_gc(lua_State *L)
{
	lpg_admin *a = ff_handle_check(L, 1, ADMIN_MT);
	if (a->pg)
		ff_pq()->PQfinish(a->pg);
	a->pg = NULL;
	return 0;
}

lpg_admin *lpg_admin_new(lua_State *L)
{
	return ff_handle_new(L, ADMIN_MT, sizeof(lpg_admin), 0);
}

/* A name this handle may create, drop or swap in: <live>__ff<something>. */
const char *lpg_admin_own_name(lua_State *L, lpg_admin *a, int idx)
{
	const char *n = luaL_checkstring(L, idx);
	size_t ll = strlen(a->live);
	if (strlen(n) > 63 || !*n)
		ff_violation(L, "pg.admin: '%s' is not a valid database name", n);
	if (a->instance)
		return n;
	if (strncmp(n, a->live, ll) || strncmp(n + ll, "__ff", 4) || strlen(n) > 63)
		ff_violation(L, "pg.admin: '%s' is not a database of ffrun's (%s__ff…)", n, a->live);
	return n;
}

/* The answer of a statement: true, or nil, message, code; out of memory
 * is raised. */
static int answer(lua_State *L, int rc, const ff_err *e)
{
	if (rc == FF_EINTERNAL)
		return ff_raise(L, e);
	if (rc < 0)
		return ff_fail(L, e);
	lua_pushboolean(L, 1);
	return 1;
}

/* ff.pg.admin(target, confirm) -> admin */
int lpg_admin_open(lua_State *L)
{
	const char *name = luaL_checkstring(L, 1);
	const char *confirm = luaL_optstring(L, 2, "");
	const ff_target *t = lpg_target_of(L, name);
	ff_err e = {0}, why = {0};
	int reached = 0;

	lpg_admin *a = lpg_admin_new(L);
	snprintf(a->target, sizeof(a->target), "%s", name);
	snprintf(a->conninfo, sizeof(a->conninfo), "%s", t->conninfo ? t->conninfo : "");
	if (ff_pg_target_dbname(a->live, sizeof(a->live), &reached, name, t->conninfo, &why) < 0)
		return ff_raise(L, &why);
	if (strcmp(confirm, a->live) != 0)
		return ff_usage(L, "target %s is database '%s': to let this run write to it, give confirm=%s",
				name, a->live, a->live);
	if (ff_pg_connect(&a->pg, name, t->conninfo, "postgres", &e) < 0)
		return ff_raise(L, &e);
	if (!reached) {
		/* The server answers but the database would not: gone, or
		 * another reason (rights, connection limit) to report as is. */
		if (!ff_pgadmin_db_gone(a->pg, a->live))
			return ff_raise(L, &why);
		a->live_gone = 1;
	}
	lpg_reached(L, name);
	return 1;
}

/* The guard holds in a rehearsal too: a wrong confirm is refused. */
int lpg_dry_admin_open(lua_State *L)
{
	return lpg_admin_open(L);
}

/* admin:live() -> the live database's name, and whether it exists */
static int admin_live(lua_State *L)
{
	lpg_admin *a = lpg_admin_check(L);
	lua_pushstring(L, a->live);
	lua_pushboolean(L, !a->live_gone);
	return 2;
}

/* admin:databases() -> { name, ... } of the server | nil, message, code */
static int admin_databases(lua_State *L)
{
	lpg_admin *a = lpg_admin_check(L);
	ff_err e = {0};
	if (a->dry) {
		lua_newtable(L);
		return 1;
	}
	PGresult **r = lpg_result_box(L);
	if (ff_pgadmin_databases(r, a->pg, &e) < 0)
		return ff_fail(L, &e);
	int n = ff_pq()->PQntuples(*r);
	lua_createtable(L, n, 0);
	for (int i = 0; i < n; i++) {
		lua_pushstring(L, ff_pq()->PQgetvalue(*r, i, 0));
		lua_rawseti(L, -2, i + 1);
	}
	return 1;
}

static int dba_gc(lua_State *L)
{
	ff_dba_stmts_free(ff_handle_check(L, 1, DBA_MT));
	return 0;
}

/* The archive's database statements of part (archive.from: the source
 * database's name as the manifest has it), renamed onto db, in a box on
 * the stack; pg_restore's messages in raw/. Raises what stops it. */
static ff_dba_stmts *archive_statements(lua_State *L, int opts, const char *db, ff_dba_part part)
{
	ff_ctx *ctx = ff_ctx_of(L);
	const char *archive = lpg_opt_str(L, opts, "archive", 1);
	const char *from = lpg_opt_str(L, opts, "from", 1);
	int major = lpg_opt_int(L, opts, "major", 0);
	char tool[PATH_MAX], raw[256], quoted[2 * 64 + 3];
	ff_err e = {0};
	int fd, log_fd;
	if (ff_jail_open(&fd, &ctx->jail, archive, O_RDONLY, 0, &e) < 0)
		ff_raise(L, &e);
	close(fd);
	if (ff_pg_tool(tool, ctx->cfg->pg_bindir, major, "pg_restore", &e) < 0)
		ff_raise(L, &e);
	const char *tmp = ff_run_tmp(ctx, &e);
	if (!tmp)
		ff_raise(L, &e);
	/* Always quoted: no connection is needed to know how (a rehearsal
	 * has none), and a quoted name is a valid one. */
	size_t n = 0;
	quoted[n++] = '"';
	for (const char *p = db; *p; p++) {
		if (*p == '"')
			quoted[n++] = '"';
		quoted[n++] = *p;
	}
	quoted[n++] = '"';
	quoted[n] = '\0';
	ff_dba_stmts *s = ff_handle_new(L, DBA_MT, sizeof(*s), 0);
	if (ff_evidence_raw_open(&ctx->ev, &log_fd, raw, "pg_restore-database.log", &e) < 0)
		ff_raise(L, &e);
	/* No Lua call until the log and the environment are let go. */
	char **env = ff_pg_env();
	ff_dba_opts o = { .pg_restore = tool, .archive = archive, .tmpdir = tmp, .from = from,
			  .to_quoted = quoted, .env = (const char *const *)env, .log_fd = log_fd,
			  .cancel = &ctx->cancel };
	int rc = ff_dba_statements(s, part, &o, &e);
	ff_pg_env_free(env);
	close(log_fd);
	if (rc < 0)
		ff_raise(L, &e);
	return s;
}

static int has_create(const ff_dba_stmts *s)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strncmp(s->v[i], "CREATE DATABASE ", 16))
			return 1;
	return 0;
}

/* Run the statements of s on the maintenance connection, in order; the
 * first that fails is the answer (what it was, what the server said). */
static int run_statements(PGconn *c, const ff_dba_stmts *s, const char *db, ff_err *e)
{
	int rc = 0;
	for (size_t i = 0; i < s->n && rc == 0; i++) {
		ff_err why = {0};
		if (ff_pg_command(c, s->v[i], &why) < 0)
			rc = ff_err_set(e, FF_EFAIL, "database %s as the archive makes it: %.400s", db,
					why.msg);
	}
	/* The script may have set its own encoding: back to ffrun's. */
	ff_pg_command(c, "SET client_encoding = 'UTF8'", NULL);
	return rc;
}

/* admin:create_database(name [, { archive =, from =, major = }])
 *   With an archive: as the archive's DATABASE entry says (encoding,
 *   collation, ctype, locale provider, ICU locale, owner), renamed from
 *   the source's name `from`. Without: empty, from template0, with the
 *   live database's owner, encoding and locale (the server's defaults when
 *   it is gone; UTF8 in a throwaway instance). */
static int admin_create(lua_State *L)
{
	lpg_admin *a = lpg_admin_check(L);
	const char *n = lpg_admin_own_name(L, a, 2);
	ff_err e = {0};
	int rc;
	if (lua_istable(L, 3)) {
		ff_dba_stmts *s = archive_statements(L, 3, n, FF_DBA_CREATE);
		if (!has_create(s))
			return ff_failf(L, "create database %s: the archive holds no CREATE DATABASE of %s",
					n, lpg_opt_str(L, 3, "from", 1));
		rc = run_statements(a->pg, s, n, &e);
	} else if (a->instance) {
		rc = ff_pgadmin_create(a->pg, n, NULL, "UTF8", &e);
	} else if (a->live_gone) {
		rc = ff_pgadmin_create(a->pg, n, NULL, NULL, &e);
	} else {
		rc = ff_pgadmin_create(a->pg, n, a->live, NULL, &e);
	}
	return answer(L, rc, &e);
}

static void push_statements(lua_State *L, const ff_dba_stmts *s)
{
	lua_createtable(L, 0, 2);
	lua_pushinteger(L, (lua_Integer)s->n);
	lua_setfield(L, -2, "applied");
	lua_createtable(L, (int)s->n, 0);
	for (size_t i = 0; i < s->n; i++) {
		lua_pushstring(L, s->v[i]);
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	lua_setfield(L, -2, "statements");
}

/* admin:database_properties(name, { archive =, from =, major = })
 *   -> { applied = n, statements = {…} } | nil, message, code
 *   The archive's database-level properties (comment, GRANTs, connection
 *   limit, ALTER DATABASE … SET, ALTER ROLE … IN DATABASE … SET), renamed
 *   onto one of ffrun's databases: after its contents are in (a setting
 *   such as default_transaction_read_only must not meet pg_restore). */
static int admin_properties(lua_State *L)
{
	lpg_admin *a = lpg_admin_check(L);
	const char *n = lpg_admin_own_name(L, a, 2);
	luaL_checktype(L, 3, LUA_TTABLE);
	ff_err e = {0};
	ff_dba_stmts *s = archive_statements(L, 3, n, FF_DBA_PROPERTIES);
	/* On a connection to the database itself, as pg_restore --create
	 * runs them after \connect: a shared catalog's text (the comment) is
	 * read in the encoding of the database it is written from. */
	PGconn *c = NULL;
	int rc = ff_pg_connect(&c, a->target, a->conninfo, n, &e);
	if (rc == 0)
		rc = run_statements(c, s, n, &e);
	if (c)
		ff_pq()->PQfinish(c);
	if (rc < 0)
		return ff_fail(L, &e);
	push_statements(L, s);
	return 1;
}

/* The rehearsal reads the archive as the real call does (a read), and
 * runs nothing. */
static int dry_properties(lua_State *L)
{
	const char *n = lpg_admin_own_name(L, lpg_admin_check(L), 2);
	luaL_checktype(L, 3, LUA_TTABLE);
	push_statements(L, archive_statements(L, 3, n, FF_DBA_PROPERTIES));
	return 1;
}

/* admin:drop_database(name): only ffrun's own copies, never the live one. */
static int admin_drop(lua_State *L)
{
	lpg_admin *a = lpg_admin_check(L);
	const char *n = lpg_admin_own_name(L, a, 2);
	ff_err e = {0};
	return answer(L, ff_pgadmin_drop(a->pg, n, &e), &e);
}

/* admin:rename_database(from, to): one of ffrun's own copies renamed to
 * another own name (a failed copy kept: <db>__fffailed_STAMP), never the
 * live one. */
static int admin_rename(lua_State *L)
{
	lpg_admin *a = lpg_admin_check(L);
	const char *from = lpg_admin_own_name(L, a, 2), *to = lpg_admin_own_name(L, a, 3);
	ff_err e = {0};
	return answer(L, ff_pgadmin_rename(a->pg, from, to, &e), &e);
}

/* admin:swap(new, old) -> downtime_s | nil, message, code
 * In one transaction: stop new connections to the live database, end its
 * sessions, rename live -> old and new -> live. A kill at any moment leaves
 * the live name on the old database or on the new one, never neither. */
static int admin_swap(lua_State *L)
{
	lpg_admin *a = lpg_admin_check(L);
	const char *nw = lpg_admin_own_name(L, a, 2), *old = lpg_admin_own_name(L, a, 3);
	ff_err e = {0};
	double downtime = 0;
	int rc;
	if (a->live_gone && !a->instance) {
		/* Nothing to set aside: the copy only takes the name. A
		 * database made under that name meanwhile makes this fail. */
		if ((rc = ff_pgadmin_rename(a->pg, nw, a->live, &e)) == 0)
			a->live_gone = 0;
	} else {
		rc = ff_pgadmin_swap(&downtime, a->pg, a->live, nw, old, &e);
	}
	if (rc < 0)
		return rc == FF_EINTERNAL ? ff_raise(L, &e) : ff_fail(L, &e);
	lua_pushnumber(L, downtime);
	return 1;
}

/* The stand-ins check what the real calls check (the handle, a name of
 * ffrun's, the archive or file readable through the jail) and return
 * their shapes. */
static int dry_swap(lua_State *L)
{
	lpg_admin *a = lpg_admin_check(L);
	lpg_admin_own_name(L, a, 2);
	lpg_admin_own_name(L, a, 3);
	lua_pushnumber(L, 0); /* no downtime in a rehearsal */
	return 1;
}

static int dry_create(lua_State *L)
{
	const char *n = lpg_admin_own_name(L, lpg_admin_check(L), 2);
	if (lua_istable(L, 3)) {
		ff_dba_stmts *s = archive_statements(L, 3, n, FF_DBA_CREATE);
		if (!has_create(s))
			return ff_failf(L, "create database %s: the archive holds no CREATE DATABASE of %s",
					n, lpg_opt_str(L, 3, "from", 1));
	}
	lua_pushboolean(L, 1);
	return 1;
}

static int dry_drop(lua_State *L)
{
	lpg_admin_own_name(L, lpg_admin_check(L), 2);
	lua_pushboolean(L, 1);
	return 1;
}

static int dry_rename(lua_State *L)
{
	lpg_admin *a = lpg_admin_check(L);
	lpg_admin_own_name(L, a, 2);
	lpg_admin_own_name(L, a, 3);
	lua_pushboolean(L, 1);
	return 1;
}

static int dry_allow(lua_State *L)
{
	lpg_admin *a = lpg_admin_check(L);
	const char *n = lua_tostring(L, 2);
	if (!n || strcmp(n, a->live))
		lpg_admin_own_name(L, a, 2);
	lua_pushboolean(L, 1);
	return 1;
}

/* A file the real call would read: refused the same way when the jail
 * does. */
static void dry_readable(lua_State *L, int idx)
{
	ff_err e = {0};
	int fd;
	if (ff_jail_open(&fd, &ff_ctx_of(L)->jail, luaL_checkstring(L, idx), O_RDONLY, 0, &e) < 0)
		ff_raise(L, &e);
	close(fd);
}

static int dry_globals(lua_State *L)
{
	lpg_admin_check(L);
	dry_readable(L, 2);
	lua_createtable(L, 0, 3);
	lua_newtable(L);
	lua_setfield(L, -2, "errors");
	lua_newtable(L);
	lua_setfield(L, -2, "existing");
	lua_pushinteger(L, 0);
	lua_setfield(L, -2, "applied");
	return 1;
}

/* admin:allow_connections(name, on): the old copy is kept closed. */
static int admin_allow(lua_State *L)
{
	lpg_admin *a = lpg_admin_check(L);
	const char *n = lua_tostring(L, 2);
	ff_err e = {0};
	if (!n || strcmp(n, a->live))
		n = lpg_admin_own_name(L, a, 2);
	return answer(L, ff_pgadmin_allow(a->pg, n, lua_toboolean(L, 3), &e), &e);
}

static int globals_gc(lua_State *L)
{
	ff_pgadmin_globals_free(ff_handle_check(L, 1, GLOBALS_MT));
	return 0;
}

static void push_list(lua_State *L, const ff_strlist *l)
{
	lua_createtable(L, (int)l->n, 0);
	for (size_t i = 0; i < l->n; i++) {
		lua_pushstring(L, l->v[i]);
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
}

/* admin:apply_globals(file) -> { applied, existing = {…}, errors = {…} }
 * globals.sql statement by statement on the maintenance connection: a role
 * that already exists is reported, not fatal. */
static int admin_globals(lua_State *L)
{
	ff_ctx *ctx = ff_ctx_of(L);
	lpg_admin *a = lpg_admin_check(L);
	const char *file = luaL_checkstring(L, 2);
	ff_err e = {0};
	ff_pgadmin_globals *g = ff_handle_new(L, GLOBALS_MT, sizeof(*g), 0);
	if (ff_pgadmin_apply_globals(g, a->pg, &ctx->jail, file, &e) < 0)
		return ff_raise(L, &e); /* the box frees what was listed */
	lua_createtable(L, 0, 3);
	push_list(L, &g->errors);
	lua_setfield(L, -2, "errors");
	push_list(L, &g->existing);
	lua_setfield(L, -2, "existing");
	lua_pushinteger(L, g->applied);
	lua_setfield(L, -2, "applied");
	return 1;
}

void lpg_admin_class(lua_State *L)
{
	static const ff_prim methods[] = {
		{"live", admin_live, FF_READ, NULL},
		{"databases", admin_databases, FF_READ, NULL},
		{"create_database", admin_create, FF_WRITE, dry_create},
		{"drop_database", admin_drop, FF_WRITE, dry_drop},
		{"rename_database", admin_rename, FF_WRITE, dry_rename},
		{"swap", admin_swap, FF_WRITE, dry_swap},
		{"allow_connections", admin_allow, FF_WRITE, dry_allow},
		{"restore", lpg_admin_restore, FF_WRITE, lpg_dry_admin_restore},
		{"load_table", lpg_admin_load_table, FF_WRITE, lpg_dry_admin_load_table},
		{"apply_globals", admin_globals, FF_WRITE, dry_globals},
		{"database_properties", admin_properties, FF_WRITE, dry_properties},
		{NULL, NULL, 0, NULL}
	};
	ff_handle_class(L, ADMIN_MT, "pg.admin", methods, admin_gc);
	ff_handle_class(L, GLOBALS_MT, "pg.globals", NULL, globals_gc);
	ff_handle_class(L, DBA_MT, "pg.dbstmts", NULL, dba_gc);
}
