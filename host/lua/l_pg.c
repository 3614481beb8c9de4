/* l_pg.c - ff.pg: PostgreSQL for runbooks, through typed primitives only.
 * This file: the module and the connection handle; the dump job is in
 * l_pg_dump.c, the admin handle in l_pg_admin.c, instances in l_pg_inst.c.
 *
 * Queries are read-only by construction: each runs inside a READ ONLY
 * transaction that has already taken its snapshot, so not even a
 * `SET transaction_read_only = off` can turn it into a writer. Dumps run
 * pg_dump with an argv the host builds, writing only where the jail allows,
 * in a thread, so fingerprints can be computed on a second connection while
 * the dump streams. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/fingerprint.h"
#include "lua/l_pg.h"
#include "lua/modules.h"

static lpg_conn *check_conn(lua_State *L)
{
	lpg_conn *c = ff_handle_check(L, 1, CONN_MT);
	if (!c->pg)
		luaL_error(L, "pg: connection to %s is closed", c->target);
	return c;
}

/* __gc, __close and conn:close(): idempotent. */
static int conn_gc(lua_State *L)
{
	lpg_conn *c = ff_handle_check(L, 1, CONN_MT);
	if (c->pg)
		ff_pq()->PQfinish(c->pg);
	c->pg = NULL;
	free(c->conninfo);
	free(c->dbname);
	c->conninfo = c->dbname = NULL;
	return 0;
}

int lpg_conn_open(lpg_conn *c, const char *target, const char *conninfo, const char *dbname,
		     ff_err *e)
{
	if (!(c->conninfo = strdup(conninfo ? conninfo : "")) ||
	    (dbname && !(c->dbname = strdup(dbname))))
		return ff_err_set(e, FF_EINTERNAL, "out of memory");
	return ff_pg_connect(&c->pg, target, conninfo, dbname, e);
}

const ff_target *lpg_target_of(lua_State *L, const char *name)
{
	const ff_target *t = ff_config_target(ff_ctx_of(L)->cfg, name);
	if (!t)
		luaL_error(L, "pg: no target named '%s' in the configuration", name);
	if (t->ephemeral)
		luaL_error(L, "pg: target '%s' is an ephemeral instance, not a server to connect to", name);
	return t;
}

void lpg_reached(lua_State *L, const char *name)
{
	ff_pin *pin = &ff_ctx_of(L)->pin;
	if (pin->out && !ff_strlist_has_unsorted(&pin->targets, name) &&
	    ff_strlist_push(&pin->targets, name) < 0)
		luaL_error(L, "out of memory");
}

int lpg_opt_int(lua_State *L, int t, const char *k, int def)
{
	int v = def;
	if (lua_getfield(L, t, k) != LUA_TNIL)
		v = (int)luaL_checkinteger(L, -1);
	lua_pop(L, 1);
	return v;
}

const char *lpg_opt_str(lua_State *L, int t, const char *k, int required)
{
	lua_getfield(L, t, k);
	const char *v = lua_tostring(L, -1);
	lua_pop(L, 1); /* the string stays alive in the options table */
	if (!v && required)
		luaL_error(L, "missing option '%s'", k);
	return v;
}

/* ff.pg.connect(target [, dbname]) -> conn | nil, message, code
 * dbname: another database of the same server (a restored copy). */
static int pg_connect(lua_State *L)
{
	const char *name = luaL_checkstring(L, 1);
	const char *dbname = luaL_optstring(L, 2, NULL);
	const ff_target *t = lpg_target_of(L, name);
	ff_err e = {0};

	lpg_conn *c = ff_handle_new(L, CONN_MT, sizeof(*c), 0);
	snprintf(c->target, sizeof(c->target), "%s", name);
	if (lpg_conn_open(c, name, t->conninfo, dbname, &e) < 0)
		return ff_fail(L, &e);
	lpg_reached(L, name);
	return 1;
}

/* The boxes: a resource held while its contents are copied into Lua is
 * freed by __gc if a push raises (out of memory). */
static int result_gc(lua_State *L)
{
	PGresult **b = ff_handle_check(L, 1, RESULT_MT);
	if (*b)
		ff_pq()->PQclear(*b);
	*b = NULL;
	return 0;
}

PGresult **lpg_result_box(lua_State *L)
{
	return ff_handle_new(L, RESULT_MT, sizeof(PGresult *), 0);
}

static int mem_gc(lua_State *L)
{
	void **b = ff_handle_check(L, 1, MEM_MT);
	free(*b);
	*b = NULL;
	return 0;
}

void **lpg_mem_box(lua_State *L)
{
	return ff_handle_new(L, MEM_MT, sizeof(void *), 0);
}

static void push_rows(lua_State *L, PGresult *r)
{
	int nr = ff_pq()->PQntuples(r), nf = ff_pq()->PQnfields(r);
	lua_createtable(L, nr, 0);
	for (int i = 0; i < nr; i++) {
		lua_createtable(L, 0, nf);
		for (int j = 0; j < nf; j++) {
			if (ff_pq()->PQgetisnull(r, i, j))
				continue;
			lua_pushlstring(L, ff_pq()->PQgetvalue(r, i, j), (size_t)ff_pq()->PQgetlength(r, i, j));
			lua_setfield(L, -2, ff_pq()->PQfname(r, j));
		}
		lua_rawseti(L, -2, i + 1);
	}
}

/* Run sql with text params in a read-only transaction; rows on the stack
 * (returns 1) or nil, message, code (returns 3). */
static int run_query(lua_State *L, lpg_conn *c, const char *sql, int nparams,
		     const char *const *params)
{
	ff_err e = {0};
	PGresult **r = lpg_result_box(L);
	if (!c->in_snapshot &&
	    ff_pg_command(c->pg, "BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY;"
			  "SELECT 1", &e) < 0)
		return ff_fail(L, &e);
	/* A stop (SIGTERM) cancels the statement on the server: a long query
	 * must not hold the run past its signal. */
	*r = ff_pg_exec_cancellable(c->pg, sql, nparams, params, &ff_ctx_of(L)->cancel);
	ExecStatusType st = ff_pq()->PQresultStatus(*r);
	if (!c->in_snapshot)
		ff_pg_command(c->pg, "ROLLBACK", NULL);
	if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
		char msg[700];
		snprintf(msg, sizeof(msg), "query on %s: %s", c->target,
			 *r ? ff_pq()->PQresultErrorMessage(*r) : ff_pq()->PQerrorMessage(c->pg));
		msg[strcspn(msg, "\n")] = '\0';
		return ff_failf(L, "%s", msg);
	}
	push_rows(L, *r);
	ff_pq()->PQclear(*r);
	*r = NULL;
	return 1;
}

/* conn:query(sql, ...) -> rows | nil, message, code */
static int conn_query(lua_State *L)
{
	lpg_conn *c = check_conn(L);
	const char *sql = luaL_checkstring(L, 2);
	int n = lua_gettop(L) - 2;
	if (n > 64)
		return luaL_error(L, "query: at most 64 parameters");
	const char *params[64];
	for (int i = 0; i < n; i++)
		params[i] = lua_isnil(L, 3 + i) ? NULL : luaL_checkstring(L, 3 + i);
	return run_query(L, c, sql, n, params);
}

/* The first row on the stack (returns 1), or the failure's count. */
static int one_row(lua_State *L, lpg_conn *c, const char *sql)
{
	int n = run_query(L, c, sql, 0, NULL);
	if (n != 1)
		return n;
	lua_rawgeti(L, -1, 1);
	return 1;
}

/* conn:facts() -> {server_version, server_major, system_identifier, dbname,
 * host, port, user, size_bytes} */
static int conn_facts(lua_State *L)
{
	lpg_conn *c = check_conn(L);
	int n = one_row(L, c,
			"SELECT current_setting('server_version') AS server_version,"
		     " current_setting('server_version_num')::int / 10000 AS server_major,"
		     " current_database() AS dbname, current_user AS \"user\","
		     " current_setting('server_encoding') AS encoding,"
		     " pg_database_size(current_database()) AS size_bytes,"
		     " (SELECT system_identifier FROM pg_control_system()) AS system_identifier");
	if (n != 1)
		return n;
	lua_pushstring(L, ff_pq()->PQhost(c->pg));
	lua_setfield(L, -2, "host");
	lua_pushstring(L, ff_pq()->PQport(c->pg));
	lua_setfield(L, -2, "port");
	lua_getfield(L, -1, "server_major");
	lua_Integer major = lua_tointeger(L, -1);
	lua_pop(L, 1);
	lua_pushinteger(L, major);
	lua_setfield(L, -2, "server_major");
	lua_getfield(L, -1, "size_bytes");
	lua_Integer size = lua_tointeger(L, -1);
	lua_pop(L, 1);
	lua_pushinteger(L, size);
	lua_setfield(L, -2, "size_bytes");
	return 1;
}

/* conn:export_snapshot() -> id: a REPEATABLE READ transaction stays open
 * on this connection for as long as it lives, holding the snapshot. */
static int conn_export_snapshot(lua_State *L)
{
	lpg_conn *c = check_conn(L);
	ff_err e = {0};
	if (c->in_snapshot)
		return luaL_error(L, "pg: %s already holds a snapshot", c->target);
	if (ff_pg_command(c->pg, "BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY", &e) < 0)
		return ff_raise(L, &e);
	c->in_snapshot = 1;
	int n = one_row(L, c, "SELECT pg_export_snapshot() AS id");
	if (n != 1)
		return n;
	lua_getfield(L, -1, "id");
	snprintf(c->snapshot, sizeof(c->snapshot), "%s", lua_tostring(L, -1));
	return 1;
}

/* conn:use_snapshot(id): see exactly what the exporting session sees. */
static int conn_use_snapshot(lua_State *L)
{
	lpg_conn *c = check_conn(L);
	const char *id = luaL_checkstring(L, 2);
	ff_err e = {0};
	char sql[256];
	if (strspn(id, "0123456789ABCDEFabcdef-") != strlen(id) || strlen(id) > 64)
		return luaL_argerror(L, 2, "not a snapshot id");
	/* This connection works beside a running pg_dump: no JIT compiling
	 * and no parallel workers to fight it for the same cores. */
	snprintf(sql, sizeof(sql), "SET jit = off; SET max_parallel_workers_per_gather = 0;"
		 "BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY;"
		 "SET TRANSACTION SNAPSHOT '%s'", id);
	if (c->in_snapshot)
		return luaL_error(L, "pg: %s already holds a snapshot", c->target);
	if (ff_pg_command(c->pg, sql, &e) < 0)
		return ff_fail(L, &e);
	c->in_snapshot = 1;
	snprintf(c->snapshot, sizeof(c->snapshot), "%s", id);
	lua_pushboolean(L, 1);
	return 1;
}

/* conn:tables() -> { {schema=, name=}, ... }: ordinary and partitioned
 * tables, partitions excluded (their rows are counted by the parent). */
static int conn_tables(lua_State *L)
{
	lpg_conn *c = check_conn(L);
	return run_query(L, c,
		"SELECT n.nspname AS schema, c.relname AS name"
		" FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
		" WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition"
		" AND n.nspname NOT IN ('pg_catalog', 'information_schema')"
		" AND n.nspname NOT LIKE 'pg\\_%'"
		" ORDER BY 1, 2", 0, NULL);
}

/* conn:sequences() -> { {name=, last_value=} } */
static int conn_sequences(lua_State *L)
{
	lpg_conn *c = check_conn(L);
	return run_query(L, c,
		"SELECT schemaname || '.' || sequencename AS name, last_value::text AS last_value"
		" FROM pg_sequences ORDER BY 1", 0, NULL);
}

/* conn:fingerprint(schema, table, mode [, encoding]) -> rows, content_sha256|nil
 *   mode "rows": exact count(*); "content": also the order-independent
 *   digest of the table's COPY text under fixed settings. */
static int conn_fingerprint(lua_State *L)
{
	lpg_conn *c = check_conn(L);
	ff_fp_table t = { .schema = luaL_checkstring(L, 2), .name = luaL_checkstring(L, 3) };
	int content = !strcmp(luaL_optstring(L, 4, "rows"), "content");
	const char *encoding = luaL_optstring(L, 5, NULL);
	ff_err e = {0};
	/* Read-only like every query here: a view's function cannot write. */
	int rc = content ? ff_pg_fingerprint_settings(c->pg, &e) : ff_pg_command(c->pg, "SET row_security = off", &e);
	if (rc == 0 && !c->in_snapshot)
		rc = ff_pg_command(c->pg, "BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY", &e);
	if (rc == 0)
		rc = ff_fp_one(c->pg, &t, content, encoding, &ff_ctx_of(L)->cancel, &e);
	if (!c->in_snapshot)
		ff_pg_command(c->pg, "ROLLBACK", NULL);
	if (rc < 0)
		return ff_fail(L, &e);
	lua_pushinteger(L, (lua_Integer)t.rows);
	if (!content)
		return 1;
	char hex[FF_SHA256_HEX];
	ff_pg_sum_hex(hex, t.sum);
	lua_pushstring(L, hex);
	return 2;
}

/* Helpers are threads of the host, not of the machine: a handful is the
 * most that ever helps one database. */
static int default_jobs(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1 : n > 8 ? 8 : (int)n;
}

/* conn:fingerprints(tables, mode [, jobs [, encoding]]) -> { {rows=, content_sha256=, parts=}… }
 *   The same as conn:fingerprint for every table of `tables` (as
 *   conn:tables() lists them), over `jobs` connections at once (default:
 *   the number of CPUs, at most 8) opened like this one and seeing its
 *   snapshot if it holds one; big tables are read in page ranges split
 *   between them (parts: how many). COPY text is in encoding (default:
 *   the database's own, its bytes unconverted). */
static int conn_fingerprints(lua_State *L)
{
	lpg_conn *c = check_conn(L);
	luaL_checktype(L, 2, LUA_TTABLE);
	const char *mode = luaL_optstring(L, 3, "rows");
	int jobs = (int)luaL_optinteger(L, 4, default_jobs());
	const char *encoding = luaL_optstring(L, 5, NULL);
	ff_err e = {0};
	lua_Integer n = luaL_len(L, 2);
	if (n < 0 || n > 1000000)
		return luaL_argerror(L, 2, "too many tables");
	if (jobs < 1 || jobs > 64)
		return luaL_argerror(L, 4, "jobs must be 1 to 64");

	/* The array lives in a userdata, so a raise below frees it. */
	ff_fp_table *t = lua_newuserdatauv(L, sizeof(*t) * (size_t)(n ? n : 1), 0);
	int tabs = lua_gettop(L);
	for (lua_Integer i = 1; i <= n; i++) {
		lua_geti(L, 2, i);
		if (!lua_istable(L, -1))
			return luaL_argerror(L, 2, "each table is {schema=, name=}");
		lua_getfield(L, -1, "schema");
		lua_getfield(L, -2, "name");
		if (!lua_isstring(L, -2) || !lua_isstring(L, -1))
			return luaL_argerror(L, 2, "each table is {schema=, name=}");
		memset(&t[i - 1], 0, sizeof(t[i - 1]));
		/* The strings stay referenced by `tables` while we run. */
		t[i - 1].schema = lua_tostring(L, -2);
		t[i - 1].name = lua_tostring(L, -1);
		lua_pop(L, 3);
	}
	ff_fp_opts o = {
		.target = c->target, .conninfo = c->conninfo, .dbname = c->dbname,
		.snapshot = c->snapshot[0] ? c->snapshot : NULL,
		.content = !strcmp(mode, "content"), .encoding = encoding, .jobs = jobs,
		.cancel = &ff_ctx_of(L)->cancel,
		.quiet = ff_ctx_of(L)->quiet || ff_ctx_of(L)->json,
		.line = &ff_ctx_of(L)->progress,
	};
	if (ff_fp_tables(t, (size_t)n, &o, &e) < 0)
		return ff_fail(L, &e);
	lua_createtable(L, (int)n, 0);
	for (lua_Integer i = 1; i <= n; i++) {
		lua_createtable(L, 0, 3);
		lua_pushinteger(L, (lua_Integer)t[i - 1].rows);
		lua_setfield(L, -2, "rows");
		lua_pushinteger(L, (lua_Integer)t[i - 1].parts);
		lua_setfield(L, -2, "parts");
		if (o.content) {
			char hex[FF_SHA256_HEX];
			ff_pg_sum_hex(hex, t[i - 1].sum);
			lua_pushstring(L, hex);
			lua_setfield(L, -2, "content_sha256");
		}
		lua_rawseti(L, -2, i);
	}
	lua_remove(L, tabs);
	return 1;
}

/* conn:readable(schema, table) -> true | nil, message, code: one row read
 * (the built-in smoke check). */
static int conn_readable(lua_State *L)
{
	lpg_conn *c = check_conn(L);
	size_t ls, lt;
	const char *schema = luaL_checklstring(L, 2, &ls), *table = luaL_checklstring(L, 3, &lt);
	/* The statement's room is made before anything is quoted (a quoted
	 * name is at most 2n + 2 bytes): no push while libpq's copies live. */
	size_t cap = 2 * ls + 2 * lt + 64;
	char *sql = lua_newuserdatauv(L, cap, 0);
	char *qs = ff_pq()->PQescapeIdentifier(c->pg, schema, ls);
	char *qt = ff_pq()->PQescapeIdentifier(c->pg, table, lt);
	if (qs && qt)
		snprintf(sql, cap, "SELECT 1 FROM %s.%s LIMIT 1", qs, qt);
	ff_pq()->PQfreemem(qs);
	ff_pq()->PQfreemem(qt);
	if (!qs || !qt)
		return luaL_error(L, "readable: cannot quote %s.%s", schema, table);
	int n = run_query(L, c, sql, 0, NULL);
	if (n != 1)
		return n;
	lua_pushboolean(L, 1);
	return 1;
}

static int conn_close(lua_State *L)
{
	return conn_gc(L);
}

void ff_open_pg(lua_State *L)
{
	static const ff_prim prims[] = {
		{"connect", pg_connect, FF_READ, NULL},
		{"dump", lpg_dump, FF_WRITE, lpg_dry_dump},
		{"globals", lpg_globals, FF_WRITE, lpg_dry_globals},
		{"archive_list", lpg_archive_list, FF_READ, NULL},
		{"archive_read", lpg_archive_read, FF_READ, NULL},
		{"version", lpg_version, FF_READ, NULL},
		{"admin", lpg_admin_open, FF_READ, lpg_dry_admin_open},
		{"instance", lpg_instance, FF_WRITE, lpg_dry_instance},
		{"logical_snapshot", lpg_logical_snapshot, FF_WRITE, lpg_dry_logical_snapshot},
		{NULL, NULL, 0, NULL}
	};
	static const ff_prim conn_prims[] = {
		{"query", conn_query, FF_READ, NULL},
		{"facts", conn_facts, FF_READ, NULL},
		{"export_snapshot", conn_export_snapshot, FF_READ, NULL},
		{"use_snapshot", conn_use_snapshot, FF_READ, NULL},
		{"tables", conn_tables, FF_READ, NULL},
		{"sequences", conn_sequences, FF_READ, NULL},
		{"fingerprint", conn_fingerprint, FF_READ, NULL},
		{"fingerprints", conn_fingerprints, FF_READ, NULL},
		{"readable", conn_readable, FF_READ, NULL},
		{"copy_out", lpg_copy_out, FF_WRITE, lpg_dry_copy_out},
		{"copy_raw", lpg_copy_raw, FF_READ, NULL},
		{"close", conn_close, FF_READ, NULL},
		{NULL, NULL, 0, NULL}
	};
	ff_prims_set(L, "pg", prims);
	ff_handle_class(L, CONN_MT, "pg.conn", conn_prims, conn_gc);
	lpg_admin_class(L);
	lpg_inst_class(L);
	lpg_slot_class(L);
	lpg_dump_class(L);
	ff_handle_class(L, RESULT_MT, "pg.result", NULL, result_gc);
	ff_handle_class(L, MEM_MT, "pg.mem", NULL, mem_gc);
}
