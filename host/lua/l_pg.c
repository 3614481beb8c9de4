/* l_pg.c - ff.pg: PostgreSQL for runbooks, through typed primitives only.
 *
 * Queries are read-only by construction: each runs inside a READ ONLY
 * transaction that has already taken its snapshot, so not even a
 * `SET transaction_read_only = off` can turn it into a writer. Dumps run
 * pg_dump with an argv the host builds, writing only where the jail allows,
 * in a thread, so fingerprints can be computed on a second connection while
 * the dump streams. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/cluster.h"
#include "core/copyscan.h"
#include "core/exec.h"
#include "core/fingerprint.h"
#include "core/pg.h"
#include "core/progress.h"
#include "lua/prim.h"

#define CONN_MT "ff.pg.conn"
#define DUMP_MT "ff.pg.dump"

typedef struct conn {
	PGconn *pg;
	char target[64];
	int in_snapshot;   /* a REPEATABLE READ transaction is open */
	char snapshot[72]; /* the id it exported or imported, "" if none */
	char *conninfo;    /* how it connected, for conn:fingerprints' helpers */
	char *dbname;      /* NULL: the conninfo's own */
} conn;

static conn *check_conn(lua_State *L)
{
	conn *c = luaL_checkudata(L, 1, CONN_MT);
	if (!c->pg)
		luaL_error(L, "pg: connection to %s is closed", c->target);
	return c;
}

static int conn_gc(lua_State *L)
{
	conn *c = luaL_checkudata(L, 1, CONN_MT);
	if (c->pg)
		ff_pq()->PQfinish(c->pg);
	c->pg = NULL;
	free(c->conninfo);
	free(c->dbname);
	c->conninfo = c->dbname = NULL;
	return 0;
}

/* Connect c (a new, closed userdata with its metatable) and remember how,
 * so conn:fingerprints can open more connections just like it. */
static int conn_open(conn *c, const char *target, const char *conninfo, const char *dbname,
		     ff_err *e)
{
	if (!(c->conninfo = strdup(conninfo ? conninfo : "")) ||
	    (dbname && !(c->dbname = strdup(dbname))))
		return ff_err_set(e, FF_EINTERNAL, "out of memory");
	return ff_pg_connect(&c->pg, target, conninfo, dbname, e);
}

static const ff_target *target_of(lua_State *L, const char *name)
{
	const ff_target *t = ff_config_target(ff_ctx_of(L)->cfg, name);
	if (!t)
		luaL_error(L, "pg: no target named '%s' in the configuration", name);
	if (t->ephemeral)
		luaL_error(L, "pg: target '%s' is an ephemeral instance, not a server to connect to", name);
	return t;
}

/* ff.pg.connect(target [, dbname]) -> conn | nil, message
 * dbname: another database of the same server (a restored copy). */
static int pg_connect(lua_State *L)
{
	const char *name = luaL_checkstring(L, 1);
	const char *dbname = luaL_optstring(L, 2, NULL);
	const ff_target *t = target_of(L, name);
	ff_err e = {0};

	/* Created closed, with its metatable, before the resource exists:
	 * nothing can leak if the allocation below raises. */
	conn *c = lua_newuserdatauv(L, sizeof(*c), 0);
	memset(c, 0, sizeof(*c));
	snprintf(c->target, sizeof(c->target), "%s", name);
	luaL_setmetatable(L, CONN_MT);
	if (conn_open(c, name, t->conninfo, dbname, &e) < 0) {
		luaL_pushfail(L);
		lua_pushstring(L, e.msg);
		return 2;
	}
	return 1;
}

/* Rows as an array of {column = text|nil}; the result is freed before any
 * Lua allocation could raise by copying into Lua under a protected buffer:
 * here the PGresult lives in a userdata box with __gc. */
typedef struct resbox {
	PGresult *r;
} resbox;

static int resbox_gc(lua_State *L)
{
	resbox *b = lua_touserdata(L, 1);
	if (b->r)
		ff_pq()->PQclear(b->r);
	b->r = NULL;
	return 0;
}

static resbox *new_resbox(lua_State *L)
{
	resbox *b = lua_newuserdatauv(L, sizeof(*b), 0);
	b->r = NULL;
	if (luaL_newmetatable(L, "ff.pg.result")) {
		lua_pushcfunction(L, resbox_gc);
		lua_setfield(L, -2, "__gc");
	}
	lua_setmetatable(L, -2);
	return b;
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
 * or nil, message. */
static int run_query(lua_State *L, conn *c, const char *sql, int nparams,
		     const char *const *params)
{
	ff_err e = {0};
	resbox *b = new_resbox(L);
	if (!c->in_snapshot &&
	    ff_pg_command(c->pg, "BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY;"
			  "SELECT 1", &e) < 0) {
		luaL_pushfail(L);
		lua_pushstring(L, e.msg);
		return 2;
	}
	b->r = ff_pq()->PQexecParams(c->pg, sql, nparams, NULL, params, NULL, NULL, 0);
	ExecStatusType st = ff_pq()->PQresultStatus(b->r);
	if (!c->in_snapshot)
		ff_pg_command(c->pg, "ROLLBACK", NULL);
	if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
		char msg[700];
		snprintf(msg, sizeof(msg), "query on %s: %s", c->target,
			 b->r ? ff_pq()->PQresultErrorMessage(b->r) : ff_pq()->PQerrorMessage(c->pg));
		msg[strcspn(msg, "\n")] = '\0';
		luaL_pushfail(L);
		lua_pushstring(L, msg);
		return 2;
	}
	push_rows(L, b->r);
	ff_pq()->PQclear(b->r);
	b->r = NULL;
	return 1;
}

/* conn:query(sql, ...) -> rows | nil, message */
static int conn_query(lua_State *L)
{
	conn *c = check_conn(L);
	const char *sql = luaL_checkstring(L, 2);
	int n = lua_gettop(L) - 2;
	if (n > 64)
		return luaL_error(L, "query: at most 64 parameters");
	const char *params[64];
	for (int i = 0; i < n; i++)
		params[i] = lua_isnil(L, 3 + i) ? NULL : luaL_checkstring(L, 3 + i);
	return run_query(L, c, sql, n, params);
}

static int one_row(lua_State *L, conn *c, const char *sql)
{
	if (run_query(L, c, sql, 0, NULL) != 1)
		return 0;
	lua_rawgeti(L, -1, 1);
	return 1;
}

/* conn:facts() -> {server_version, server_major, system_identifier, dbname,
 * host, port, user, size_bytes} */
static int conn_facts(lua_State *L)
{
	conn *c = check_conn(L);
	if (!one_row(L, c,
		     "SELECT current_setting('server_version') AS server_version,"
		     " current_setting('server_version_num')::int / 10000 AS server_major,"
		     " current_database() AS dbname, current_user AS \"user\","
		     " current_setting('server_encoding') AS encoding,"
		     " pg_database_size(current_database()) AS size_bytes,"
		     " (SELECT system_identifier FROM pg_control_system()) AS system_identifier"))
		return 2;
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
	conn *c = check_conn(L);
	ff_err e = {0};
	if (c->in_snapshot)
		return luaL_error(L, "pg: %s already holds a snapshot", c->target);
	if (ff_pg_command(c->pg, "BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY", &e) < 0)
		return ff_raise(L, &e);
	c->in_snapshot = 1;
	if (!one_row(L, c, "SELECT pg_export_snapshot() AS id"))
		return 2;
	lua_getfield(L, -1, "id");
	snprintf(c->snapshot, sizeof(c->snapshot), "%s", lua_tostring(L, -1));
	return 1;
}

/* conn:use_snapshot(id): see exactly what the exporting session sees. */
static int conn_use_snapshot(lua_State *L)
{
	conn *c = check_conn(L);
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
	if (ff_pg_command(c->pg, sql, &e) < 0) {
		luaL_pushfail(L);
		lua_pushstring(L, e.msg);
		return 2;
	}
	c->in_snapshot = 1;
	snprintf(c->snapshot, sizeof(c->snapshot), "%s", id);
	lua_pushboolean(L, 1);
	return 1;
}

/* conn:tables() -> { {schema=, name=}, ... }: ordinary and partitioned
 * tables, partitions excluded (their rows are counted by the parent). */
static int conn_tables(lua_State *L)
{
	conn *c = check_conn(L);
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
	conn *c = check_conn(L);
	return run_query(L, c,
		"SELECT schemaname || '.' || sequencename AS name, last_value::text AS last_value"
		" FROM pg_sequences ORDER BY 1", 0, NULL);
}

/* conn:fingerprint(schema, table, mode) -> rows, content_sha256|nil
 *   mode "rows": exact count(*); "content": also the order-independent
 *   digest of the table's COPY text under fixed settings. */
static int conn_fingerprint(lua_State *L)
{
	conn *c = check_conn(L);
	ff_fp_table t = { .schema = luaL_checkstring(L, 2), .name = luaL_checkstring(L, 3) };
	int content = !strcmp(luaL_optstring(L, 4, "rows"), "content");
	ff_err e = {0};
	/* Read-only like every query here: a view's function cannot write. */
	int rc = content ? ff_pg_fingerprint_settings(c->pg, &e) : 0;
	if (rc == 0 && !c->in_snapshot)
		rc = ff_pg_command(c->pg, "BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY", &e);
	if (rc == 0)
		rc = ff_fp_one(c->pg, &t, content, &ff_ctx_of(L)->cancel, &e);
	if (!c->in_snapshot)
		ff_pg_command(c->pg, "ROLLBACK", NULL);
	if (rc < 0) {
		luaL_pushfail(L);
		lua_pushstring(L, e.msg);
		return 2;
	}
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

/* conn:fingerprints(tables, mode [, jobs]) -> { {rows=, content_sha256=, parts=}… }
 *   The same as conn:fingerprint for every table of `tables` (as
 *   conn:tables() lists them), over `jobs` connections at once (default:
 *   the number of CPUs, at most 8) opened like this one and seeing its
 *   snapshot if it holds one; big tables are read in page ranges split
 *   between them (parts: how many). */
static int conn_fingerprints(lua_State *L)
{
	conn *c = check_conn(L);
	luaL_checktype(L, 2, LUA_TTABLE);
	const char *mode = luaL_optstring(L, 3, "rows");
	int jobs = (int)luaL_optinteger(L, 4, default_jobs());
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
		.content = !strcmp(mode, "content"), .jobs = jobs,
		.cancel = &ff_ctx_of(L)->cancel,
		.quiet = ff_ctx_of(L)->quiet || ff_ctx_of(L)->json,
		.line = &ff_ctx_of(L)->progress,
	};
	if (ff_fp_tables(t, (size_t)n, &o, &e) < 0) {
		luaL_pushfail(L);
		lua_pushstring(L, e.msg);
		return 2;
	}
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

/* conn:readable(schema, table) -> true | nil, message: one row read (the
 * built-in smoke check). */
static int conn_readable(lua_State *L)
{
	conn *c = check_conn(L);
	const char *schema = luaL_checkstring(L, 2), *table = luaL_checkstring(L, 3);
	char *qs = ff_pq()->PQescapeIdentifier(c->pg, schema, strlen(schema));
	char *qt = ff_pq()->PQescapeIdentifier(c->pg, table, strlen(table));
	if (!qs || !qt) {
		ff_pq()->PQfreemem(qs);
		ff_pq()->PQfreemem(qt);
		return luaL_error(L, "readable: cannot quote %s.%s", schema, table);
	}
	lua_pushfstring(L, "SELECT 1 FROM %s.%s LIMIT 1", qs, qt);
	ff_pq()->PQfreemem(qs);
	ff_pq()->PQfreemem(qt);
	if (run_query(L, c, lua_tostring(L, -1), 0, NULL) != 1)
		return 2;
	lua_pushboolean(L, 1);
	return 1;
}

static int conn_close(lua_State *L)
{
	return conn_gc(L);
}

/* --- pg_dump in a thread -------------------------------------------------- */

typedef struct dump_job {
	pthread_t thread;
	int started, joined;
	char **argv;          /* owned */
	char **env;           /* owned */
	int out_fd;           /* the archive being written */
	int log_fd;           /* raw/ capture of stderr */
	ff_sha256 *sha;
	uint64_t bytes, estimate;
	int estimate_kind;      /* FF_PROGRESS_BOUND, or _ABOUT when given one */
	ff_progress progress;   /* while the thread runs */
	ff_progress_line *line; /* the run's status line */
	int quiet;
	volatile int cancel;
	const volatile int *ctx_cancel;
	int sink_errno;
	ff_exec_result res;
	ff_err err;
	int rc;
	char label[32];
	/* Fingerprints from the stream (ff.pg.dump{fingerprint=}): a follower
	 * thread reads the archive back from out_fd behind the writer and
	 * feeds it to pg_restore --data-only, whose SQL the scanner reads in a
	 * thread of its own. The file is the buffer between them, so the
	 * dump never waits for the fingerprints: the scanner and pg_restore
	 * run on what CPU the dump leaves, and catch up at the end. */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	uint64_t written;       /* bytes of the archive on out_fd (under mu) */
	int written_done;       /* the dump has ended (under mu) */
	volatile int dumped;    /* the same, for background_until_dumped */
	int follow_done;        /* the follower has ended (under mu) */
	int scan_done;          /* the scanner's pg_restore has ended (under mu) */
	int scan_bg;            /* the scanner thread's state there */
	pthread_t follow_thread;
	int follow_started;
	int feed_fd;            /* write end; -1 when none or closed */
	int scan_in;            /* read end: pg_restore's stdin */
	int scan_log_fd;
	char **scan_argv;       /* owned */
	ff_copyscan *scan;
	int scan_content;
	pthread_t scan_thread;
	int scan_started;
	ff_exec_result scan_res;
	ff_err scan_err;
	int scan_rc;
} dump_job;

/* Tell the follower how much of the archive is on disk; done = the dump
 * has ended (or will never start). */
static void follow_publish(dump_job *j, int done)
{
	pthread_mutex_lock(&j->mu);
	j->written = j->bytes;
	j->written_done |= done;
	j->dumped |= done;
	pthread_cond_broadcast(&j->cv);
	pthread_mutex_unlock(&j->mu);
}

static int dump_sink(void *arg, const char *p, size_t n)
{
	dump_job *j = arg;
	size_t off = 0;
	if (j->ctx_cancel && *j->ctx_cancel)
		j->cancel = 1;
	while (off < n) {
		ssize_t w = write(j->out_fd, p + off, n - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			j->sink_errno = errno;
			return -1;
		}
		off += (size_t)w;
	}
	ff_sha256_update(j->sha, p, n);
	j->bytes += n;
	if (j->scan)
		follow_publish(j, 0);
	ff_progress_add(&j->progress, n);
	return 0;
}

/* The scanner and pg_restore run on what CPU the dump leaves: the kernel
 * serves pg_dump, its server and ffrun's writer first
 * (on 2 cores this took a content backup from 1.4x a bare pg_dump to
 * 1.15x: at equal priority they slowed the dump and left CPU idle). Once
 * the dump is done they return to the normal policy, so a host busy with
 * other work cannot starve the end of a backup (where permitted: as root
 * or with an RLIMIT_NICE that allows it). */
static void background_until_dumped(dump_job *j, int *bg)
{
	if (*bg == 0 && !j->dumped) {
		*bg = ff_sched_background(0, 1) == 0 ? 1 : -1;
	} else if (*bg == 1 && j->dumped) {
		(void)ff_sched_background(0, 0);
		*bg = -1;
	}
}

/* Read the archive back from out_fd, behind the writer, into pg_restore.
 * A reader that stops (a broken archive, a cancel) ends the feed: the
 * dump goes on, and the missing fingerprints say why. This thread keeps
 * the normal policy: it shares j->mu with the dump's writer, and one
 * preempted while holding it would stall the dump (it does little work,
 * and waits on the pipe when pg_restore lags). */
static void *follow_main(void *arg)
{
	dump_job *j = arg;
	enum { CHUNK = 256 * 1024 };
	char *buf = malloc(CHUNK);
	uint64_t off = 0;
	for (;;) {
		pthread_mutex_lock(&j->mu);
		while (j->written == off && !j->written_done && !j->cancel)
			pthread_cond_wait(&j->cv, &j->mu);
		uint64_t avail = j->written;
		int done = j->written_done || j->cancel;
		pthread_mutex_unlock(&j->mu);
		if (!buf || j->cancel || (done && off == avail))
			break;
		while (off < avail && !j->cancel) {
			size_t want = avail - off < CHUNK ? (size_t)(avail - off) : CHUNK;
			ssize_t r = pread(j->out_fd, buf, want, (off_t)off);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				goto out;
			for (ssize_t w, sent = 0; sent < r; sent += w) {
				w = write(j->feed_fd, buf + sent, (size_t)(r - sent));
				if (w < 0 && errno == EINTR)
					w = 0;
				else if (w < 0)
					goto out;
			}
			off += (uint64_t)r;
		}
	}
out:
	free(buf);
	close(j->feed_fd); /* end of the archive for pg_restore */
	j->feed_fd = -1;
	pthread_mutex_lock(&j->mu);
	j->follow_done = 1;
	pthread_cond_broadcast(&j->cv);
	pthread_mutex_unlock(&j->mu);
	return NULL;
}

static int scan_sink(void *arg, const char *p, size_t n)
{
	dump_job *j = arg;
	background_until_dumped(j, &j->scan_bg);
	return ff_copyscan_feed(j->scan, p, n);
}

static void *scan_main(void *arg)
{
	dump_job *j = arg;
	ff_exec_opts o = {
		.env = (const char *const *)j->env, .out_fd = j->scan_log_fd, .tail_max = 2048,
		.stdin_fd = j->scan_in, .stdout_sink = scan_sink, .stdout_arg = j,
		.cancel = &j->cancel, .background = 1, .foreground = &j->dumped,
	};
	background_until_dumped(j, &j->scan_bg);
	j->scan_rc = ff_exec_run(&j->scan_res, (const char *const *)j->scan_argv, &o, &j->scan_err);
	/* Text that stops inside a COPY block is an error even if pg_restore
	 * exited 0; push_stream_fingerprints reports the scanner's reason. */
	if (j->scan_rc == 0 && ff_copyscan_finish(j->scan) < 0)
		j->scan_rc = -1;
	close(j->scan_in); /* a writer still at it gets EPIPE, not a hang */
	j->scan_in = -1;
	pthread_mutex_lock(&j->mu);
	j->scan_done = 1;
	pthread_cond_broadcast(&j->cv);
	pthread_mutex_unlock(&j->mu);
	return NULL;
}

/* Wait until *flag (set under j->mu by the thread it names). pg_dump is
 * done, but the read-back may still have far to go: a signal to ffrun must
 * stop it, not wait for it. Cancelling kills pg_restore, whose pipe then
 * ends the follower and the scanner. */
static void wait_cancellable(dump_job *j, const int *flag)
{
	pthread_mutex_lock(&j->mu);
	while (!*flag) {
		if (j->ctx_cancel && *j->ctx_cancel)
			j->cancel = 1;
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 100 * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&j->cv, &j->mu, &ts);
	}
	pthread_mutex_unlock(&j->mu);
}

static void *dump_main(void *arg)
{
	dump_job *j = arg;
	ff_exec_opts o = {
		.env = (const char *const *)j->env, .out_fd = j->log_fd, .tail_max = 2048,
		.stdout_sink = dump_sink, .stdout_arg = j, .stdout_errno = &j->sink_errno,
		.cancel = &j->cancel,
	};
	ff_progress_init(&j->progress, j->line, j->label, j->estimate, j->estimate_kind, j->quiet);
	j->rc = ff_exec_run(&j->res, (const char *const *)j->argv, &o, &j->err);
	if (j->follow_started) {
		follow_publish(j, 1);
		wait_cancellable(j, &j->follow_done);
		pthread_join(j->follow_thread, NULL);
		j->follow_started = 0;
	}
	if (j->rc == 0 && fsync(j->out_fd) < 0)
		j->rc = ff_err_set(&j->err, FF_EFAIL, "fsync: %s", strerror(errno));
	if (j->scan_started) {
		/* The follower may have ended long before: the rest of a small
		 * archive fits in the pipe to pg_restore. */
		wait_cancellable(j, &j->scan_done);
		pthread_join(j->scan_thread, NULL);
		j->scan_started = 0;
	}
	ff_progress_end(&j->progress);
	return NULL;
}

static void job_free(dump_job *j)
{
	if (!j)
		return;
	if (j->started && !j->joined) {
		j->cancel = 1;
		pthread_join(j->thread, NULL);
		j->joined = 1;
	}
	if (j->follow_started) { /* the job never ran: the follower still waits */
		j->cancel = 1;
		follow_publish(j, 1);
		pthread_join(j->follow_thread, NULL);
		j->follow_started = 0;
	}
	if (j->scan_started) { /* the job never ran: pg_restore still waits */
		if (j->feed_fd >= 0)
			close(j->feed_fd);
		j->feed_fd = -1;
		j->cancel = 1;
		pthread_join(j->scan_thread, NULL);
	}
	if (j->out_fd >= 0)
		close(j->out_fd);
	if (j->log_fd >= 0)
		close(j->log_fd);
	if (j->feed_fd >= 0)
		close(j->feed_fd);
	if (j->scan_in >= 0)
		close(j->scan_in);
	if (j->scan_log_fd >= 0)
		close(j->scan_log_fd);
	for (char **a = j->scan_argv; a && *a; a++)
		free(*a);
	free(j->scan_argv);
	ff_copyscan_free(j->scan);
	ff_exec_result_free(&j->scan_res);
	for (char **a = j->argv; a && *a; a++)
		free(*a);
	free(j->argv);
	ff_pg_env_free(j->env);
	ff_sha256_free(j->sha);
	ff_exec_result_free(&j->res);
	pthread_cond_destroy(&j->cv);
	pthread_mutex_destroy(&j->mu);
	free(j);
}

static int dump_gc(lua_State *L)
{
	dump_job **b = luaL_checkudata(L, 1, DUMP_MT);
	job_free(*b);
	*b = NULL;
	return 0;
}

/* result.tables = { {schema, name, rows, content_sha256?}… } in the
 * archive's order, or result.fingerprint_error saying why there are none. */
static void push_stream_fingerprints(lua_State *L, dump_job *j)
{
	const char *why = NULL;
	char msg[700];
	if (j->scan_rc < 0) {
		why = *ff_copyscan_error(j->scan) ? ff_copyscan_error(j->scan) : j->scan_err.msg;
	} else if (!j->scan_res.exited || j->scan_res.status != 0) {
		snprintf(msg, sizeof(msg), "pg_restore --data-only could not read the archive back (%s %d): %s",
			 j->scan_res.exited ? "status" : "signal", j->scan_res.status,
			 j->scan_res.tail ? j->scan_res.tail : "");
		msg[strcspn(msg, "\n")] = '\0';
		why = msg;
	}
	if (why) {
		lua_pushstring(L, why);
		lua_setfield(L, -2, "fingerprint_error");
		return;
	}
	size_t n = ff_copyscan_count(j->scan);
	lua_createtable(L, (int)n, 0);
	for (size_t i = 0; i < n; i++) {
		const ff_copyscan_table *t = ff_copyscan_get(j->scan, i);
		lua_createtable(L, 0, 4);
		lua_pushstring(L, t->schema);
		lua_setfield(L, -2, "schema");
		lua_pushstring(L, t->name);
		lua_setfield(L, -2, "name");
		lua_pushinteger(L, (lua_Integer)t->rows);
		lua_setfield(L, -2, "rows");
		if (j->scan_content) {
			char hex[FF_SHA256_HEX];
			ff_pg_sum_hex(hex, t->sum);
			lua_pushstring(L, hex);
			lua_setfield(L, -2, "content_sha256");
		}
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	lua_setfield(L, -2, "tables");
}

/* Push the result table of a finished job. */
static void push_job_result(lua_State *L, dump_job *j, const char *raw)
{
	char hex[FF_SHA256_HEX];
	ff_sha256_final(j->sha, hex);
	int ok = j->rc == 0 && j->res.exited && j->res.status == 0;
	lua_createtable(L, 0, 8);
	lua_pushboolean(L, ok);
	lua_setfield(L, -2, "ok");
	lua_pushinteger(L, (lua_Integer)j->bytes);
	lua_setfield(L, -2, "bytes");
	lua_pushstring(L, hex);
	lua_setfield(L, -2, "sha256");
	lua_pushnumber(L, j->res.duration_s);
	lua_setfield(L, -2, "duration_s");
	lua_pushstring(L, raw);
	lua_setfield(L, -2, "raw");
	if (!ok) {
		char msg[1200];
		if (j->rc < 0)
			snprintf(msg, sizeof(msg), "%s", j->err.msg);
		else if (j->res.timed_out)
			snprintf(msg, sizeof(msg), "%s was stopped", j->label);
		else
			snprintf(msg, sizeof(msg), "%s exited with %s %d: %s", j->label,
				 j->res.exited ? "status" : "signal", j->res.status,
				 j->res.tail ? j->res.tail : "");
		msg[strcspn(msg, "\n")] = '\0';
		lua_pushstring(L, msg);
		lua_setfield(L, -2, "error");
	}
	if (ok && j->scan)
		push_stream_fingerprints(L, j);
}

/* Build a job for tool with args, writing stdout to out_path (created,
 * must not exist); the job box is left on the stack. */
static dump_job *new_job(lua_State *L, const char *label, const char *tool_path,
			 const char *const *args, const char *out_path, char raw[256])
{
	ff_ctx *ctx = ff_ctx_of(L);
	ff_err e = {0};
	dump_job **box = lua_newuserdatauv(L, sizeof(*box), 1);
	*box = NULL;
	luaL_setmetatable(L, DUMP_MT);
	dump_job *j = calloc(1, sizeof(*j));
	if (!j)
		luaL_error(L, "out of memory");
	*box = j;
	j->out_fd = j->log_fd = j->feed_fd = j->scan_in = j->scan_log_fd = -1;
	pthread_mutex_init(&j->mu, NULL);
	pthread_cond_init(&j->cv, NULL);
	snprintf(j->label, sizeof(j->label), "%s", label);
	size_t n = 1;
	while (args[n - 1])
		n++;
	j->argv = calloc(n + 1, sizeof(char *));
	j->env = ff_pg_env();
	j->sha = ff_sha256_new();
	if (!j->argv || !j->env || !j->sha)
		luaL_error(L, "out of memory");
	j->argv[0] = strdup(tool_path);
	for (size_t i = 0; args[i]; i++)
		j->argv[i + 1] = strdup(args[i]);
	/* Read-write: the stream fingerprints read the archive back from it. */
	if (ff_jail_open(&j->out_fd, &ctx->jail, out_path, O_RDWR | O_CREAT | O_EXCL, 0600, &e) < 0)
		ff_raise(L, &e);
	char logname[64];
	snprintf(logname, sizeof(logname), "%s.log", label);
	if (ff_evidence_raw_open(&ctx->ev, &j->log_fd, raw, logname, &e) < 0)
		ff_raise(L, &e);
	j->quiet = ctx->quiet || ctx->json;
	j->line = &ctx->progress;
	j->ctx_cancel = &ctx->cancel;
	return j;
}

static int opt_int(lua_State *L, int t, const char *k, int def)
{
	int v = def;
	if (lua_getfield(L, t, k) != LUA_TNIL)
		v = (int)luaL_checkinteger(L, -1);
	lua_pop(L, 1);
	return v;
}

static const char *opt_str(lua_State *L, int t, const char *k, int required)
{
	lua_getfield(L, t, k);
	const char *v = lua_tostring(L, -1);
	lua_pop(L, 1); /* the string stays alive in the options table */
	if (!v && required)
		luaL_error(L, "missing option '%s'", k);
	return v;
}

/* Replace or add NAME=value in a NULL-terminated malloc'd environment. */
static void env_put(lua_State *L, char ***env, const char *kv)
{
	size_t klen = (size_t)(strchr(kv, '=') - kv) + 1, n = 0;
	char *dup = strdup(kv);
	if (!dup)
		luaL_error(L, "out of memory");
	for (char **v = *env; *v; v++, n++)
		if (!strncmp(*v, kv, klen)) {
			free(*v);
			*v = dup;
			return;
		}
	char **grown = realloc(*env, (n + 2) * sizeof(char *));
	if (!grown) {
		free(dup);
		luaL_error(L, "out of memory");
	}
	grown[n] = dup;
	grown[n + 1] = NULL;
	*env = grown;
}

/* pg_restore --data-only reading the archive as it is written, and the
 * thread scanning its SQL for each table's rows. pg_dump's own session is
 * pinned to the settings conn:fingerprint uses (its DateStyle, IntervalStyle
 * and extra_float_digits are pg_dump's already), so both read the same
 * COPY text. The runbook asks for this only for a UTF8 database. */
static void start_stream_fingerprints(lua_State *L, dump_job *j, int major, int content)
{
	ff_ctx *ctx = ff_ctx_of(L);
	ff_err e = {0};
	char tool[PATH_MAX], raw[256];
	int pipefd[2];
	if (ff_pg_tool(tool, ctx->cfg->pg_bindir, major, "pg_restore", &e) < 0)
		ff_raise(L, &e);
	env_put(L, &j->env, "PGTZ=UTC");
	env_put(L, &j->env, "PGCLIENTENCODING=UTF8");
	env_put(L, &j->env, "PGOPTIONS=-c bytea_output=hex");
	j->scan_content = content;
	if (!(j->scan = ff_copyscan_new(content)) || !(j->scan_argv = calloc(4, sizeof(char *))) ||
	    !(j->scan_argv[0] = strdup(tool)) || !(j->scan_argv[1] = strdup("--data-only")) ||
	    !(j->scan_argv[2] = strdup("--file=-")))
		luaL_error(L, "out of memory");
	if (ff_evidence_raw_open(&ctx->ev, &j->scan_log_fd, raw, "pg_restore-scan.log", &e) < 0)
		ff_raise(L, &e);
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		luaL_error(L, "pg.dump: pipe: %s", strerror(errno));
	fcntl(pipefd[1], F_SETPIPE_SZ, 1024 * 1024); /* fewer stalls; 64 KiB still works */
	j->scan_in = pipefd[0];
	j->feed_fd = pipefd[1];
	if (pthread_create(&j->scan_thread, NULL, scan_main, j) != 0)
		luaL_error(L, "pg.dump: cannot start a thread");
	j->scan_started = 1;
	if (pthread_create(&j->follow_thread, NULL, follow_main, j) != 0)
		luaL_error(L, "pg.dump: cannot start a thread");
	j->follow_started = 1;
}

/* ff.pg.dump{ target=, out=, snapshot=, major=, estimate_bytes=, estimate_about= } -> job
 * estimate_bytes bounds the archive's size (the database's: compression
 * makes it smaller), or with estimate_about = true is an estimate of it
 * (the last dump's): the progress line's ETA is "≤" or "≈".
 * pg_dump -Fc of the target's database, in the exported snapshot, streamed
 * through sha256 into out in one pass. job:wait() -> result. */
static int pg_dump(lua_State *L)
{
	ff_ctx *ctx = ff_ctx_of(L);
	luaL_checktype(L, 1, LUA_TTABLE);
	const char *name = opt_str(L, 1, "target", 1);
	const char *out = opt_str(L, 1, "out", 1);
	const char *snap = opt_str(L, 1, "snapshot", 0);
	int major = opt_int(L, 1, "major", 0);
	const ff_target *t = target_of(L, name);
	char tool[PATH_MAX], snaparg[128], raw[256];
	ff_err e = {0};

	if (ff_pg_tool(tool, ctx->cfg->pg_bindir, major, "pg_dump", &e) < 0)
		return ff_raise(L, &e);
	const char *args[8];
	int k = 0;
	args[k++] = "--format=custom";
	args[k++] = "--no-password";
	if (snap) {
		snprintf(snaparg, sizeof(snaparg), "--snapshot=%s", snap);
		args[k++] = snaparg;
	}
	lua_pushfstring(L, "--dbname=%s", t->conninfo ? t->conninfo : "");
	args[k++] = lua_tostring(L, -1);
	args[k] = NULL;
	dump_job *j = new_job(L, "pg_dump", tool, args, out, raw);
	lua_getfield(L, 1, "estimate_bytes");
	lua_Integer estimate = luaL_optinteger(L, -1, 0);
	lua_pop(L, 1);
	j->estimate = estimate > 0 ? (uint64_t)estimate : 0;
	lua_getfield(L, 1, "estimate_about");
	j->estimate_kind = lua_toboolean(L, -1) ? FF_PROGRESS_ABOUT : FF_PROGRESS_BOUND;
	lua_pop(L, 1);
	lua_pushstring(L, raw);
	lua_setiuservalue(L, -2, 1);
	const char *fp = opt_str(L, 1, "fingerprint", 0);
	if (fp && strcmp(fp, "rows") && strcmp(fp, "content"))
		return luaL_error(L, "pg.dump: fingerprint must be \"rows\" or \"content\"");
	if (fp)
		start_stream_fingerprints(L, j, major, !strcmp(fp, "content"));
	if (pthread_create(&j->thread, NULL, dump_main, j) != 0)
		return luaL_error(L, "pg_dump: cannot start a thread");
	j->started = 1;
	return 1;
}

/* job:wait() -> { ok, bytes, sha256, duration_s, raw, error } */
static int dump_wait(lua_State *L)
{
	dump_job **b = luaL_checkudata(L, 1, DUMP_MT);
	dump_job *j = *b;
	if (!j)
		return luaL_error(L, "dump: already finished");
	if (j->started && !j->joined) {
		pthread_join(j->thread, NULL);
		j->joined = 1;
	}
	lua_getiuservalue(L, 1, 1);
	push_job_result(L, j, lua_tostring(L, -1));
	job_free(j);
	*b = NULL;
	return 1;
}

/* ff.pg.globals{ target=, out=, passwords=false, major= } -> result
 * pg_dumpall --globals-only (roles, tablespaces), by default without role
 * password hashes: they are secrets. */
static int pg_globals(lua_State *L)
{
	ff_ctx *ctx = ff_ctx_of(L);
	luaL_checktype(L, 1, LUA_TTABLE);
	const char *name = opt_str(L, 1, "target", 1);
	const char *out = opt_str(L, 1, "out", 1);
	int major = opt_int(L, 1, "major", 0);
	lua_getfield(L, 1, "passwords");
	int passwords = lua_toboolean(L, -1);
	lua_pop(L, 1);
	const ff_target *t = target_of(L, name);
	char tool[PATH_MAX], raw[256];
	ff_err e = {0};
	if (ff_pg_tool(tool, ctx->cfg->pg_bindir, major, "pg_dumpall", &e) < 0)
		return ff_raise(L, &e);
	lua_pushfstring(L, "--dbname=%s", t->conninfo ? t->conninfo : "");
	const char *args[5] = { "--globals-only", "--no-password", lua_tostring(L, -1), NULL, NULL };
	if (!passwords)
		args[3] = "--no-role-passwords";
	dump_job *j = new_job(L, "pg_dumpall", tool, args, out, raw);
	j->quiet = 1;
	dump_main(j);
	push_job_result(L, j, raw);
	return 1;
}

/* Run a PostgreSQL tool on an archive, output discarded or captured. */
static int archive_tool(lua_State *L, const char *const *extra, int keep_output)
{
	ff_ctx *ctx = ff_ctx_of(L);
	const char *path = luaL_checkstring(L, 1);
	char tool[PATH_MAX], raw[256];
	ff_err e = {0};
	int fd;
	/* The archive must be one the jail lets us read. */
	if (ff_jail_open(&fd, &ctx->jail, path, O_RDONLY, 0, &e) < 0)
		return ff_raise(L, &e);
	close(fd);
	if (ff_pg_tool(tool, ctx->cfg->pg_bindir, (int)luaL_optinteger(L, 2, 0), "pg_restore", &e) < 0)
		return ff_raise(L, &e);
	const char *argv[8];
	int k = 0;
	argv[k++] = tool;
	for (; *extra; extra++)
		argv[k++] = *extra;
	argv[k++] = path;
	argv[k] = NULL;
	int log_fd;
	if (ff_evidence_raw_open(&ctx->ev, &log_fd, raw, keep_output ? "pg_restore-list.txt" : "pg_restore-read.log", &e) < 0)
		return ff_raise(L, &e);
	char **env = ff_pg_env();
	ff_exec_opts o = { .env = (const char *const *)env, .out_fd = log_fd,
			   .tail_max = keep_output ? (1u << 20) : 2048, .cancel = &ctx->cancel };
	ff_exec_result res = {0};
	int rc = ff_exec_run(&res, argv, &o, &e);
	ff_pg_env_free(env);
	close(log_fd);
	if (rc < 0) {
		ff_exec_result_free(&res);
		luaL_pushfail(L);
		lua_pushstring(L, e.msg);
		return 2;
	}
	int ok = res.exited && res.status == 0;
	lua_pushboolean(L, ok);
	lua_pushstring(L, res.tail ? res.tail : "");
	lua_pushstring(L, raw);
	ff_exec_result_free(&res);
	return 3;
}

/* ff.pg.archive_list(path) -> ok, toc text, raw: pg_restore --list */
static int pg_archive_list(lua_State *L)
{
	static const char *const extra[] = { "--list", NULL };
	return archive_tool(L, extra, 1);
}

/* ff.pg.archive_read(path) -> ok, message, raw: reads the whole archive
 * (pg_restore -f /dev/null); --list alone passes on a truncated one. */
static int pg_archive_read(lua_State *L)
{
	static const char *const extra[] = { "--file=/dev/null", NULL };
	return archive_tool(L, extra, 0);
}

/* ff.pg.version(tool, major) -> "pg_dump (PostgreSQL) 15.8" | nil, msg */
static int pg_version(lua_State *L)
{
	ff_ctx *ctx = ff_ctx_of(L);
	const char *tool = luaL_checkstring(L, 1);
	char path[PATH_MAX];
	ff_err e = {0};
	if (strcmp(tool, "pg_dump") && strcmp(tool, "pg_restore") && strcmp(tool, "pg_dumpall") &&
	    strcmp(tool, "initdb") && strcmp(tool, "postgres"))
		return luaL_argerror(L, 1, "not a PostgreSQL tool ffrun uses");
	if (ff_pg_tool(path, ctx->cfg->pg_bindir, (int)luaL_optinteger(L, 2, 0), tool, &e) < 0) {
		luaL_pushfail(L);
		lua_pushstring(L, e.msg);
		return 2;
	}
	const char *argv[] = { path, "--version", NULL };
	ff_exec_opts o = { .out_fd = -1, .tail_max = 256, .timeout_s = 30 };
	ff_exec_result res = {0};
	if (ff_exec_run(&res, argv, &o, &e) < 0 || !res.exited || res.status != 0) {
		ff_exec_result_free(&res);
		luaL_pushfail(L);
		lua_pushfstring(L, "%s --version failed", path);
		return 2;
	}
	res.tail[strcspn(res.tail, "\n")] = '\0';
	lua_pushstring(L, res.tail);
	ff_exec_result_free(&res);
	return 1;
}


/* --- ff.pg.admin: the only way a runbook changes a server ---------------------
 *
 * It is opened with confirm=, which must equal the target's database name
 * (exit 2 otherwise). It creates, restores into and drops only databases
 * named <live>__ff…, and swaps the live database with one of them in a
 * single transaction, so the live name always holds either the old
 * database or the new one. The one change beyond those databases is
 * apply_globals (roles are server-wide), which a runbook makes only when
 * the operator asks for it. */

#define ADMIN_MT "ff.pg.admin"

typedef struct admin {
	PGconn *pg;          /* the maintenance database ("postgres") */
	int instance;        /* a throwaway instance of ours: every name is ours */
	int dry;             /* a rehearsal's stand-in: no server behind it */
	char target[64];
	char live[128];      /* the target's database */
	int live_gone;       /* it does not exist (dropped, lost): a restore
	                        creates it and sets nothing aside */
	char conninfo[1024]; /* the target's conninfo, as configured */
} admin;

static admin *check_admin(lua_State *L)
{
	admin *a = luaL_checkudata(L, 1, ADMIN_MT);
	if (!a->pg && !a->dry)
		luaL_error(L, "pg.admin: connection to %s is closed", a->target);
	return a;
}

static int admin_gc(lua_State *L)
{
	admin *a = luaL_checkudata(L, 1, ADMIN_MT);
	if (a->pg)
		ff_pq()->PQfinish(a->pg);
	a->pg = NULL;
	return 0;
}

/* A name this handle may create, drop or swap in: <live>__ff<something>. */
static const char *own_name(lua_State *L, admin *a, int idx)
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

static int admin_sql(lua_State *L, admin *a, const char *sql)
{
	ff_err e = {0};
	if (ff_pg_command(a->pg, sql, &e) < 0) {
		luaL_pushfail(L);
		lua_pushstring(L, e.msg);
		return 2;
	}
	lua_pushboolean(L, 1);
	return 1;
}

/* ff.pg.admin(target, confirm) -> admin */
static int pg_admin(lua_State *L)
{
	const char *name = luaL_checkstring(L, 1);
	const char *confirm = luaL_optstring(L, 2, "");
	const ff_target *t = target_of(L, name);
	ff_err e = {0}, why = {0};
	int reached = 0;

	admin *a = lua_newuserdatauv(L, sizeof(*a), 0);
	memset(a, 0, sizeof(*a));
	luaL_setmetatable(L, ADMIN_MT);
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
		const char *params[1] = { a->live };
		PGresult *r = ff_pq()->PQexecParams(a->pg, "SELECT 1 FROM pg_database WHERE datname = $1",
						    1, NULL, params, NULL, NULL, 0);
		int known = ff_pq()->PQresultStatus(r) == PGRES_TUPLES_OK, gone = known && ff_pq()->PQntuples(r) == 0;
		ff_pq()->PQclear(r);
		if (!gone)
			return ff_raise(L, &why);
		a->live_gone = 1;
	}
	return 1;
}

/* admin:live() -> the live database's name, and whether it exists */
static int admin_live(lua_State *L)
{
	admin *a = check_admin(L);
	lua_pushstring(L, a->live);
	lua_pushboolean(L, !a->live_gone);
	return 2;
}

/* admin:databases() -> { name, ... } of the server */
static int admin_databases(lua_State *L)
{
	admin *a = check_admin(L);
	if (a->dry) {
		lua_newtable(L);
		return 1;
	}
	resbox *b = new_resbox(L);
	b->r = ff_pq()->PQexec(a->pg, "SELECT datname FROM pg_database ORDER BY 1");
	if (ff_pq()->PQresultStatus(b->r) != PGRES_TUPLES_OK) {
		luaL_pushfail(L);
		lua_pushstring(L, ff_pq()->PQerrorMessage(a->pg));
		return 2;
	}
	lua_createtable(L, ff_pq()->PQntuples(b->r), 0);
	for (int i = 0; i < ff_pq()->PQntuples(b->r); i++) {
		lua_pushstring(L, ff_pq()->PQgetvalue(b->r, i, 0));
		lua_rawseti(L, -2, i + 1);
	}
	return 1;
}

/* admin:create_database(name [, encoding]): empty, from template0, with
 * the live database's owner, encoding and locale; when the live database
 * is gone, the server's defaults and the given encoding (the source's). */
static int admin_create(lua_State *L)
{
	admin *a = check_admin(L);
	const char *n = own_name(L, a, 2);
	const char *enc = luaL_optstring(L, 3, NULL);
	if (a->live_gone && !a->instance) {
		char *qn = ff_pq()->PQescapeIdentifier(a->pg, n, strlen(n));
		char *qe = enc ? ff_pq()->PQescapeLiteral(a->pg, enc, strlen(enc)) : NULL;
		if (!qn || (enc && !qe)) {
			ff_pq()->PQfreemem(qn);
			ff_pq()->PQfreemem(qe);
			return luaL_error(L, "out of memory");
		}
		lua_pushfstring(L, "CREATE DATABASE %s TEMPLATE template0%s%s", qn,
				qe ? " ENCODING " : "", qe ? qe : "");
		ff_pq()->PQfreemem(qn);
		ff_pq()->PQfreemem(qe);
		return admin_sql(L, a, lua_tostring(L, -1));
	}
	if (a->instance) {
		char *qn = ff_pq()->PQescapeIdentifier(a->pg, n, strlen(n));
		if (!qn)
			return luaL_error(L, "out of memory");
		lua_pushfstring(L, "CREATE DATABASE %s TEMPLATE template0 ENCODING 'UTF8'", qn);
		ff_pq()->PQfreemem(qn);
		return admin_sql(L, a, lua_tostring(L, -1));
	}
	char *qlive = ff_pq()->PQescapeLiteral(a->pg, a->live, strlen(a->live));
	char *qnew = ff_pq()->PQescapeLiteral(a->pg, n, strlen(n));
	if (!qlive || !qnew) {
		ff_pq()->PQfreemem(qlive);
		ff_pq()->PQfreemem(qnew);
		return luaL_error(L, "out of memory");
	}
	/* The settings come from the live database's own row, quoted by the
	 * server itself (format's %I and %L). */
	lua_pushfstring(L,
		"SELECT format('CREATE DATABASE %%I TEMPLATE template0 OWNER %%I ENCODING %%L"
		" LC_COLLATE %%L LC_CTYPE %%L', %s::text, pg_get_userbyid(datdba),"
		" pg_encoding_to_char(encoding), datcollate, datctype)"
		" FROM pg_database WHERE datname = %s", qnew, qlive);
	ff_pq()->PQfreemem(qlive);
	ff_pq()->PQfreemem(qnew);
	resbox *rb = new_resbox(L);
	rb->r = ff_pq()->PQexec(a->pg, lua_tostring(L, -2));
	if (ff_pq()->PQresultStatus(rb->r) != PGRES_TUPLES_OK || ff_pq()->PQntuples(rb->r) != 1) {
		luaL_pushfail(L);
		lua_pushfstring(L, "create database %s: cannot read %s's settings: %s", n, a->live,
				ff_pq()->PQerrorMessage(a->pg));
		return 2;
	}
	return admin_sql(L, a, ff_pq()->PQgetvalue(rb->r, 0, 0));
}

/* admin:drop_database(name): only ffrun's own copies, never the live one. */
static int admin_drop(lua_State *L)
{
	admin *a = check_admin(L);
	const char *n = own_name(L, a, 2);
	char *qn = ff_pq()->PQescapeIdentifier(a->pg, n, strlen(n));
	if (!qn)
		return luaL_error(L, "out of memory");
	lua_pushfstring(L, "DROP DATABASE IF EXISTS %s WITH (FORCE)", qn);
	ff_pq()->PQfreemem(qn);
	return admin_sql(L, a, lua_tostring(L, -1));
}

/* admin:swap(new, old) -> downtime_s | nil, message
 * In one transaction: stop new connections to the live database, end its
 * sessions, rename live -> old and new -> live. A kill at any moment leaves
 * the live name on the old database or on the new one, never neither. */
static int admin_swap(lua_State *L)
{
	admin *a = check_admin(L);
	const char *nw = own_name(L, a, 2), *old = own_name(L, a, 3);
	if (a->live_gone && !a->instance) {
		/* Nothing to set aside: the copy only takes the name. A
		 * database made under that name meanwhile makes this fail. */
		char *ql = ff_pq()->PQescapeIdentifier(a->pg, a->live, strlen(a->live));
		char *qn = ff_pq()->PQescapeIdentifier(a->pg, nw, strlen(nw));
		if (!ql || !qn) {
			ff_pq()->PQfreemem(ql);
			ff_pq()->PQfreemem(qn);
			return luaL_error(L, "out of memory");
		}
		lua_pushfstring(L, "ALTER DATABASE %s RENAME TO %s", qn, ql);
		ff_pq()->PQfreemem(ql);
		ff_pq()->PQfreemem(qn);
		int n = admin_sql(L, a, lua_tostring(L, -1));
		if (n == 1) {
			a->live_gone = 0;
			lua_pushnumber(L, 0);
		}
		return n;
	}
	char *ql = ff_pq()->PQescapeIdentifier(a->pg, a->live, strlen(a->live));
	char *qn = ff_pq()->PQescapeIdentifier(a->pg, nw, strlen(nw));
	char *qo = ff_pq()->PQescapeIdentifier(a->pg, old, strlen(old));
	char *lit = ff_pq()->PQescapeLiteral(a->pg, a->live, strlen(a->live));
	if (!ql || !qn || !qo || !lit) {
		ff_pq()->PQfreemem(ql); ff_pq()->PQfreemem(qn); ff_pq()->PQfreemem(qo); ff_pq()->PQfreemem(lit);
		return luaL_error(L, "out of memory");
	}
	lua_pushfstring(L,
		"BEGIN; ALTER DATABASE %s ALLOW_CONNECTIONS false;"
		"SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
		" WHERE datname = %s AND pid <> pg_backend_pid();", ql, lit);
	lua_pushfstring(L, "ALTER DATABASE %s RENAME TO %s; ALTER DATABASE %s RENAME TO %s; COMMIT",
			ql, qo, qn, ql);
	lua_pushfstring(L, "SELECT count(*) FROM pg_stat_activity WHERE datname = %s", lit);
	ff_pq()->PQfreemem(ql); ff_pq()->PQfreemem(qn); ff_pq()->PQfreemem(qo); ff_pq()->PQfreemem(lit);
	const char *begin = lua_tostring(L, -3), *rename = lua_tostring(L, -2), *left = lua_tostring(L, -1);
	ff_err e = {0};
	double t0 = ff_time_mono();
	for (int attempt = 1; ; attempt++) {
		if (ff_pg_command(a->pg, begin, &e) == 0) {
			/* Terminated sessions take a moment to go; a rename with one
			 * still there fails. */
			for (int i = 0; i < 100; i++) {
				PGresult *r = ff_pq()->PQexec(a->pg, left);
				int n = ff_pq()->PQresultStatus(r) == PGRES_TUPLES_OK ? atoi(ff_pq()->PQgetvalue(r, 0, 0)) : -1;
				ff_pq()->PQclear(r);
				if (n <= 0)
					break;
				usleep(50000);
			}
			if (ff_pg_command(a->pg, rename, &e) == 0)
				break;
		}
		ff_pg_command(a->pg, "ROLLBACK", NULL);
		if (attempt == 5) {
			luaL_pushfail(L);
			lua_pushfstring(L, "swap %s <-> %s: %s", a->live, nw, e.msg);
			return 2;
		}
		usleep(200000);
	}
	lua_pushnumber(L, ff_time_mono() - t0);
	return 1;
}

/* admin:allow_connections(name, on): the old copy is kept closed. */
static int admin_allow(lua_State *L)
{
	admin *a = check_admin(L);
	const char *n = lua_tostring(L, 2);
	if (!n || strcmp(n, a->live))
		n = own_name(L, a, 2);
	char *qn = ff_pq()->PQescapeIdentifier(a->pg, n, strlen(n));
	if (!qn)
		return luaL_error(L, "out of memory");
	lua_pushfstring(L, "ALTER DATABASE %s ALLOW_CONNECTIONS %s", qn, lua_toboolean(L, 3) ? "true" : "false");
	ff_pq()->PQfreemem(qn);
	return admin_sql(L, a, lua_tostring(L, -1));
}

/* A restore's progress: the new database's size on disk, asked on the
 * admin connection without ever blocking the loop that watches pg_restore
 * (an answer not yet arrived is taken at a later tick). */
typedef struct restore_watch {
	PGconn *pg;
	const char *db;
	uint64_t base;  /* the empty database's size */
	int in_flight;
	ff_progress progress;
} restore_watch;

static int db_size_ask(PGconn *pg, const char *db)
{
	const char *params[1] = { db };
	return ff_pq()->PQsendQueryParams(pg, "SELECT pg_database_size($1)", 1, NULL, params,
					  NULL, NULL, 0);
}

/* The answer to db_size_ask: the size, or -1. With wait 0 only what has
 * arrived (PQgetResult blocks unless PQisBusy says it will not; its last
 * NULL waits for ReadyForQuery), and *done says whether all of it came. */
static int64_t db_size_take(PGconn *pg, int wait, int *done)
{
	int64_t size = -1;
	*done = 0;
	while (wait || !ff_pq()->PQisBusy(pg)) {
		PGresult *r = ff_pq()->PQgetResult(pg);
		if (!r) {
			*done = 1;
			break;
		}
		if (ff_pq()->PQresultStatus(r) == PGRES_TUPLES_OK && ff_pq()->PQntuples(r) == 1)
			size = strtoll(ff_pq()->PQgetvalue(r, 0, 0), NULL, 10);
		ff_pq()->PQclear(r);
	}
	return size;
}

/* The size asked and waited for; -1 when it cannot be had. */
static int64_t db_size(PGconn *pg, const char *db)
{
	int done;
	return db_size_ask(pg, db) ? db_size_take(pg, 1, &done) : -1;
}

static void restore_tick(void *arg)
{
	restore_watch *w = arg;
	if (w->in_flight) {
		int done = 0;
		if (!ff_pq()->PQconsumeInput(w->pg))
			return;
		int64_t size = db_size_take(w->pg, 0, &done);
		if (size >= 0)
			ff_progress_set(&w->progress, (uint64_t)size > w->base ? (uint64_t)size - w->base : 0);
		if (!done)
			return; /* the rest next time */
		w->in_flight = 0;
	}
	w->in_flight = db_size_ask(w->pg, w->db);
}

/* admin:restore(database, archive, jobs, major, estimate_bytes) -> { ok, output, raw, duration_s, stopped }
 * pg_restore -j into one of ffrun's databases; its whole log is in raw/
 * (output holds the last 64 KiB) for the runbook to judge each
 * "pg_restore: error:" line against restore.allow_errors. */
static int admin_restore(lua_State *L)
{
	ff_ctx *ctx = ff_ctx_of(L);
	admin *a = check_admin(L);
	const char *db = own_name(L, a, 2);
	const char *archive = luaL_checkstring(L, 3);
	int jobs = (int)luaL_optinteger(L, 4, 1);
	int major = (int)luaL_optinteger(L, 5, 0);
	lua_Integer estimate = luaL_optinteger(L, 6, 0);
	char tool[PATH_MAX], raw[256], jarg[32];
	ff_err e = {0};
	int fd;
	if (ff_jail_open(&fd, &ctx->jail, archive, O_RDONLY, 0, &e) < 0)
		return ff_raise(L, &e);
	close(fd);
	if (ff_pg_tool(tool, ctx->cfg->pg_bindir, major, "pg_restore", &e) < 0)
		return ff_raise(L, &e);
	char *ci = NULL;
	if (ff_pg_conninfo_with_db(&ci, a->conninfo, db, &e) < 0)
		return ff_raise(L, &e);
	lua_pushfstring(L, "--dbname=%s", ci);
	free(ci);
	snprintf(jarg, sizeof(jarg), "--jobs=%d", jobs < 1 ? 1 : jobs);
	const char *argv[] = { tool, "--no-password", jarg, lua_tostring(L, -1), archive, NULL };
	int log_fd;
	if (ff_evidence_raw_open(&ctx->ev, &log_fd, raw, "pg_restore.log", &e) < 0)
		return ff_raise(L, &e);
	char **env = ff_pg_env();
	restore_watch w = { .pg = a->pg, .db = db };
	int quiet = ctx->quiet || ctx->json;
	ff_exec_opts o = { .env = (const char *const *)env, .out_fd = log_fd,
			   .tail_max = 64 * 1024, .cancel = &ctx->cancel };
	if (a->pg) {
		int64_t base = db_size(a->pg, db);
		w.base = base > 0 ? (uint64_t)base : 0;
		/* Against the source's size: the restored copy ends near it
		 * (less its bloat), so the ETA is an estimate. */
		ff_progress_init(&w.progress, &ctx->progress, "pg_restore", estimate > 0 ? (uint64_t)estimate : 0,
				 FF_PROGRESS_ABOUT, quiet);
		o.tick = restore_tick;
		o.tick_arg = &w;
		o.tick_s = isatty(2) ? 1.0 : 10.0;
	}
	ff_exec_result res = {0};
	int rc = ff_exec_run(&res, argv, &o, &e);
	if (a->pg) {
		int done;
		if (w.in_flight)
			(void)db_size_take(a->pg, 1, &done);
		/* The final line says what was restored, not the last tick
		 * (not when stopping: no more waiting on the server then). */
		int64_t size = !ctx->cancel && !res.timed_out ? db_size(a->pg, db) : -1;
		if (size >= 0 && (uint64_t)size > w.base)
			w.progress.done = (uint64_t)size - w.base; /* no tick runs now */
		ff_progress_end(&w.progress);
	}
	ff_pg_env_free(env);
	close(log_fd);
	if (rc < 0) {
		ff_exec_result_free(&res);
		luaL_pushfail(L);
		lua_pushstring(L, e.msg);
		return 2;
	}
	lua_createtable(L, 0, 5);
	lua_pushboolean(L, res.exited && res.status == 0);
	lua_setfield(L, -2, "ok");
	lua_pushstring(L, raw);
	lua_setfield(L, -2, "raw");
	lua_pushnumber(L, res.duration_s);
	lua_setfield(L, -2, "duration_s");
	lua_pushstring(L, res.tail ? res.tail : "");
	lua_setfield(L, -2, "output");
	lua_pushboolean(L, res.timed_out);
	lua_setfield(L, -2, "stopped");
	ff_exec_result_free(&res);
	return 1;
}

/* admin:apply_globals(file) -> { applied, existing = {…}, errors = {…} }
 * globals.sql statement by statement on the maintenance connection: a role
 * that already exists is reported, not fatal. */
static int admin_globals(lua_State *L)
{
	ff_ctx *ctx = ff_ctx_of(L);
	admin *a = check_admin(L);
	const char *file = luaL_checkstring(L, 2);
	ff_err e = {0};
	int fd;
	if (ff_jail_open(&fd, &ctx->jail, file, O_RDONLY, 0, &e) < 0)
		return ff_raise(L, &e);
	struct stat st;
	if (fstat(fd, &st) < 0 || st.st_size > (16 << 20)) {
		close(fd);
		return luaL_error(L, "%s: unreadable or too large", file);
	}
	luaL_Buffer b;
	char *p = luaL_buffinitsize(L, &b, (size_t)st.st_size);
	ssize_t got = read(fd, p, (size_t)st.st_size);
	close(fd);
	luaL_pushresultsize(&b, got > 0 ? (size_t)got : 0);
	const char *text = lua_tostring(L, -1);
	lua_createtable(L, 0, 3);
	int res = lua_gettop(L);
	lua_newtable(L);
	lua_newtable(L);
	int applied = 0, nex = 0, ner = 0;
	/* pg_dumpall writes one statement a line; comments and psql's \
	 * meta-commands (\connect, \restrict) are skipped. */
	for (const char *line = text; *line; ) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		if (len && line[0] != '-' && line[0] != '\\' && line[len - 1] == ';') {
			lua_pushlstring(L, line, len);
			PGresult *r = ff_pq()->PQexec(a->pg, lua_tostring(L, -1));
			lua_pop(L, 1);
			if (ff_pq()->PQresultStatus(r) == PGRES_COMMAND_OK || ff_pq()->PQresultStatus(r) == PGRES_TUPLES_OK) {
				applied++;
			} else {
				const char *state = ff_pq()->PQresultErrorField(r, PG_DIAG_SQLSTATE);
				char msg[400];
				snprintf(msg, sizeof(msg), "%s", ff_pq()->PQresultErrorMessage(r));
				msg[strcspn(msg, "\n")] = '\0';
				lua_pushstring(L, msg);
				if (state && !strcmp(state, "42710")) /* duplicate_object */
					lua_rawseti(L, res + 1, ++nex);
				else
					lua_rawseti(L, res + 2, ++ner);
			}
			ff_pq()->PQclear(r);
		}
		line += len + (nl ? 1 : 0);
	}
	lua_setfield(L, res, "errors");
	lua_setfield(L, res, "existing");
	lua_pushinteger(L, applied);
	lua_setfield(L, res, "applied");
	return 1;
}

static int dry_swap(lua_State *L)
{
	lua_pushnumber(L, 0); /* no downtime in a rehearsal */
	return 1;
}

static int dry_admin(lua_State *L)
{
	/* The guard holds in a rehearsal too: a wrong confirm is refused. */
	return pg_admin(L);
}


/* --- ff.pg.instance: a throwaway server for drills -------------------------- */

#define INST_MT "ff.pg.instance"

typedef struct instance {
	ff_cluster c;
	int slot; /* index in ctx->clusters, -1 when not registered */
} instance;

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
	instance *in = luaL_checkudata(L, 1, INST_MT);
	return inst_teardown(L, in);
}

/* ff.pg.instance{ major = } -> instance: initdb + start in a private
 * temporary folder, as postgres.os_user when ffrun is root. */
static int pg_instance(lua_State *L)
{
	ff_ctx *ctx = ff_ctx_of(L);
	int major = lua_istable(L, 1) ? opt_int(L, 1, "major", 0) : 0;
	char initdb[PATH_MAX];
	ff_err e = {0};
	if (ff_pg_tool(initdb, ctx->cfg->pg_bindir, major, "initdb", &e) < 0)
		return ff_raise(L, &e);
	*strrchr(initdb, '/') = '\0';
	int slot = -1;
	for (int i = 0; i < FF_MAX_CLUSTERS; i++)
		if (!ctx->clusters[i]) {
			slot = i;
			break;
		}
	if (slot < 0)
		return luaL_error(L, "pg.instance: at most %d instances at once", FF_MAX_CLUSTERS);
	/* Leftovers of a crashed ffrun first: only folders whose maker is
	 * provably dead. */
	ff_cluster_reap(ctx->log_fd);
	instance *in = lua_newuserdatauv(L, sizeof(*in), 0);
	memset(in, 0, sizeof(*in));
	in->slot = -1;
	luaL_setmetatable(L, INST_MT);
	int log_fd;
	char raw[256];
	if (ff_evidence_raw_open(&ctx->ev, &log_fd, raw, "instance.log", &e) < 0)
		return ff_raise(L, &e);
	/* Registered before it exists: a watchdog abort tears down what is
	 * half made too. */
	ctx->clusters[slot] = &in->c;
	in->slot = slot;
	int rc = ff_cluster_create(&in->c, initdb, ctx->cfg->pg_os_user, log_fd, &ctx->cancel, &e);
	close(log_fd);
	if (rc < 0) {
		ctx->clusters[slot] = NULL;
		in->slot = -1;
		luaL_pushfail(L);
		lua_pushstring(L, e.msg);
		return 2;
	}
	return 1;
}

static instance *check_inst(lua_State *L)
{
	instance *in = luaL_checkudata(L, 1, INST_MT);
	if (!in->c.running)
		luaL_error(L, "pg.instance: not running");
	return in;
}

/* instance:admin() -> admin over the whole instance */
static int inst_admin(lua_State *L)
{
	instance *in = check_inst(L);
	ff_err e = {0};
	admin *a = lua_newuserdatauv(L, sizeof(*a), 0);
	memset(a, 0, sizeof(*a));
	luaL_setmetatable(L, ADMIN_MT);
	a->instance = 1;
	snprintf(a->target, sizeof(a->target), "instance");
	ff_cluster_conninfo(&in->c, "postgres", a->conninfo, sizeof(a->conninfo));
	if (ff_pg_connect(&a->pg, "instance", a->conninfo, NULL, &e) < 0)
		return ff_raise(L, &e);
	return 1;
}

/* instance:connect(db) -> conn */
static int inst_connect(lua_State *L)
{
	instance *in = check_inst(L);
	const char *db = luaL_checkstring(L, 2);
	char ci[1024];
	ff_err e = {0};
	ff_cluster_conninfo(&in->c, db, ci, sizeof(ci));
	conn *c = lua_newuserdatauv(L, sizeof(*c), 0);
	memset(c, 0, sizeof(*c));
	snprintf(c->target, sizeof(c->target), "instance");
	luaL_setmetatable(L, CONN_MT);
	if (conn_open(c, "instance", ci, NULL, &e) < 0) {
		luaL_pushfail(L);
		lua_pushstring(L, e.msg);
		return 2;
	}
	return 1;
}

/* instance:facts() -> { folder, socket, port } */
static int inst_info(lua_State *L)
{
	instance *in = check_inst(L);
	lua_createtable(L, 0, 3);
	lua_pushstring(L, in->c.dir);
	lua_setfield(L, -2, "folder");
	lua_pushstring(L, in->c.sock);
	lua_setfield(L, -2, "socket");
	lua_pushinteger(L, in->c.port);
	lua_setfield(L, -2, "port");
	return 1;
}

/* instance:stop(): stop the server and remove its folder (idempotent). */
static int inst_stop(lua_State *L)
{
	instance *in = luaL_checkudata(L, 1, INST_MT);
	inst_teardown(L, in);
	lua_pushboolean(L, 1);
	return 1;
}

/* In a rehearsal: a stand-in instance whose admin plans every change. */
static int dry_inst_admin(lua_State *L)
{
	admin *a = lua_newuserdatauv(L, sizeof(*a), 0);
	memset(a, 0, sizeof(*a));
	luaL_setmetatable(L, ADMIN_MT);
	a->instance = a->dry = 1;
	snprintf(a->target, sizeof(a->target), "instance");
	return 1;
}

static int dry_nothing(lua_State *L)
{
	lua_pushboolean(L, 1);
	return 1;
}

static int dry_no_connect(lua_State *L)
{
	luaL_pushfail(L);
	lua_pushliteral(L, "dry-run: the instance is only planned");
	return 2;
}

static int dry_instance(lua_State *L)
{
	lua_createtable(L, 0, 4);
	lua_pushcfunction(L, dry_inst_admin);
	lua_setfield(L, -2, "admin");
	lua_pushcfunction(L, dry_no_connect);
	lua_setfield(L, -2, "connect");
	lua_pushcfunction(L, dry_nothing);
	lua_setfield(L, -2, "stop");
	lua_pushcfunction(L, dry_nothing);
	lua_setfield(L, -2, "info");
	return 1;
}

/* In a dry-run, a dump is planned: the stand-in job's wait() says so. */
static int dry_dump_wait(lua_State *L)
{
	lua_createtable(L, 0, 3);
	lua_pushboolean(L, 1);
	lua_setfield(L, -2, "ok");
	lua_pushboolean(L, 1);
	lua_setfield(L, -2, "dry_run");
	lua_pushinteger(L, 0);
	lua_setfield(L, -2, "bytes");
	return 1;
}

static int dry_dump(lua_State *L)
{
	luaL_checktype(L, 1, LUA_TTABLE);
	target_of(L, opt_str(L, 1, "target", 1));
	opt_str(L, 1, "out", 1);
	lua_createtable(L, 0, 1);
	lua_pushcfunction(L, dry_dump_wait);
	lua_setfield(L, -2, "wait");
	return 1;
}

static int dry_globals(lua_State *L)
{
	dry_dump(L);
	return dry_dump_wait(L);
}

/* A handle's metatable: its methods dispatched as primitives (module names
 * them in events), one function as both __gc and __close, and hidden from
 * getmetatable. */
static void handle_mt(lua_State *L, const char *name, const char *module,
		      const ff_prim *methods, lua_CFunction gc)
{
	luaL_newmetatable(L, name);
	lua_newtable(L);
	ff_prims_set(L, module, methods);
	lua_setfield(L, -2, "__index");
	lua_pushcfunction(L, gc);
	lua_setfield(L, -2, "__gc");
	lua_pushcfunction(L, gc);
	lua_setfield(L, -2, "__close");
	lua_pushboolean(L, 0);
	lua_setfield(L, -2, "__metatable");
	lua_pop(L, 1);
}

void ff_open_pg(lua_State *L)
{
	static const ff_prim prims[] = {
		{"connect", pg_connect, FF_READ, NULL},
		{"dump", pg_dump, FF_WRITE, dry_dump},
		{"globals", pg_globals, FF_WRITE, dry_globals},
		{"archive_list", pg_archive_list, FF_READ, NULL},
		{"archive_read", pg_archive_read, FF_READ, NULL},
		{"version", pg_version, FF_READ, NULL},
		{"admin", pg_admin, FF_READ, dry_admin},
		{"instance", pg_instance, FF_WRITE, dry_instance},
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
		{"close", conn_close, FF_READ, NULL},
		{NULL, NULL, 0, NULL}
	};
	static const ff_prim admin_prims[] = {
		{"live", admin_live, FF_READ, NULL},
		{"databases", admin_databases, FF_READ, NULL},
		{"create_database", admin_create, FF_WRITE, NULL},
		{"drop_database", admin_drop, FF_WRITE, NULL},
		{"swap", admin_swap, FF_WRITE, dry_swap},
		{"allow_connections", admin_allow, FF_WRITE, NULL},
		{"restore", admin_restore, FF_WRITE, NULL},
		{"apply_globals", admin_globals, FF_WRITE, NULL},
		{NULL, NULL, 0, NULL}
	};
	static const ff_prim inst_prims[] = {
		{"admin", inst_admin, FF_READ, NULL},
		{"connect", inst_connect, FF_READ, NULL},
		{"info", inst_info, FF_READ, NULL},
		{"stop", inst_stop, FF_WRITE, NULL},
		{NULL, NULL, 0, NULL}
	};
	/* A dump job's wait() only collects what the dispatched dump started. */
	static const ff_prim job_prims[] = {
		{"wait", dump_wait, FF_READ, NULL},
		{NULL, NULL, 0, NULL}
	};
	ff_prims_set(L, "pg", prims);
	handle_mt(L, CONN_MT, "pg.conn", conn_prims, conn_gc);
	handle_mt(L, ADMIN_MT, "pg.admin", admin_prims, admin_gc);
	handle_mt(L, INST_MT, "pg.instance", inst_prims, inst_gc);
	handle_mt(L, DUMP_MT, "pg.job", job_prims, dump_gc);
}
