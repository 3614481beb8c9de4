/* l_pg_copy.c - conn:copy_out and conn:copy_raw: the rows of one of
 * ffrun's catalog reads, streamed to a file in their order, for the
 * proof's inventories (SPEC §6: large objects, the schema): into a backup
 * (a write), or into the run's evidence (raw/, like a tool's log).
 * Constant memory whatever their number. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lua/l_pg.h"

/* A copy_out reads with names qualified as the catalog spells them
 * (search_path pg_catalog), and puts the connection's search_path back. */
static int set_path(PGconn *c, const char *value, ff_err *e)
{
	const char *params[1] = { value };
	PGresult *r = ff_pq()->PQexecParams(c, "SELECT set_config('search_path', $1, false)", 1, NULL,
					    params, NULL, NULL, 0);
	int ok = ff_pq()->PQresultStatus(r) == PGRES_TUPLES_OK;
	ff_pq()->PQclear(r);
	if (!ok)
		return ff_err_set(e, FF_EFAIL, "copy_out: SET search_path: %s", ff_pq()->PQerrorMessage(c));
	return 0;
}

static int enter(PGconn *c, char saved[1024], ff_err *e)
{
	PGresult *r = ff_pq()->PQexec(c, "SELECT current_setting('search_path')");
	if (ff_pq()->PQresultStatus(r) != PGRES_TUPLES_OK || ff_pq()->PQntuples(r) != 1) {
		ff_pq()->PQclear(r);
		return ff_err_set(e, FF_EFAIL, "copy_out: %s", ff_pq()->PQerrorMessage(c));
	}
	snprintf(saved, 1024, "%s", ff_pq()->PQgetvalue(r, 0, 0));
	ff_pq()->PQclear(r);
	return set_path(c, "pg_catalog", e);
}

/* The copy itself: fd < 0 only counts (a rehearsal's). The result table
 * on the stack (returns 1), or the failure's nil, message, code. */
static int copy_out(lua_State *L, lpg_conn *c, const char *sql, int fd, const char *path,
		    const char *raw)
{
	ff_ctx *ctx = ff_ctx_of(L);
	ff_err e = {0};
	char saved[1024];
	char hex[FF_SHA256_HEX] = "";
	uint64_t rows = 0, bytes = 0;
	char *copy = NULL;
	int began = 0, rc;
	/* The database's own bytes, unconverted (names of a LATIN1 database,
	 * any byte of a SQL_ASCII one's). */
	if (asprintf(&copy, "COPY (%s) TO STDOUT (ENCODING '%s')", sql,
		     ff_pg_copy_encoding(c->pg, NULL)) < 0) {
		copy = NULL;
		rc = ff_err_set(&e, FF_EINTERNAL, "out of memory");
	} else if (!c->in_snapshot &&
		   (rc = ff_pg_command(c->pg, "BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY", &e)) < 0) {
		;
	} else {
		began = !c->in_snapshot;
		if ((rc = enter(c->pg, saved, &e)) == 0) {
			rc = ff_pg_copy_out(hex, &rows, &bytes, c->pg, copy, fd, &ctx->cancel, &e);
			set_path(c->pg, saved, NULL);
		}
	}
	if (began)
		ff_pg_command(c->pg, "ROLLBACK", NULL);
	free(copy);
	if (fd >= 0 && rc == 0 && fsync(fd) < 0)
		rc = ff_err_set(&e, FF_EFAIL, "%s: fsync failed", path);
	if (fd >= 0)
		close(fd);
	if (rc < 0)
		return rc == FF_EINTERNAL ? ff_raise(L, &e) : ff_fail(L, &e);
	lua_createtable(L, 0, 4);
	if (raw) {
		lua_pushstring(L, raw);
		lua_setfield(L, -2, "raw");
	}
	lua_pushinteger(L, (lua_Integer)rows);
	lua_setfield(L, -2, "rows");
	lua_pushinteger(L, (lua_Integer)bytes);
	lua_setfield(L, -2, "bytes");
	lua_pushstring(L, hex);
	lua_setfield(L, -2, "sha256");
	return 1;
}

static lpg_conn *open_conn(lua_State *L)
{
	lpg_conn *c = ff_handle_check(L, 1, CONN_MT);
	if (!c->pg)
		luaL_error(L, "pg: connection to %s is closed", c->target);
	return c;
}

/* conn:copy_out(sql, path) -> { rows, bytes, sha256 } | nil, message, code
 *   The rows of sql (a SELECT) as COPY text, in its order, into path
 *   (through the jail, created 0600 or replaced, fsynced), read in the
 *   connection's snapshot if it holds one, else in a read-only one. */
int lpg_copy_out(lua_State *L)
{
	lpg_conn *c = open_conn(L);
	const char *sql = luaL_checkstring(L, 2);
	const char *path = luaL_checkstring(L, 3);
	ff_err e = {0};
	int fd;
	if (ff_jail_open(&fd, &ff_ctx_of(L)->jail, path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
			 0600, &e) < 0)
		return e.code == FF_ESANDBOX ? ff_raise(L, &e) : ff_fail(L, &e);
	/* No push from here until copy_out has closed fd. */
	return copy_out(L, c, sql, fd, path, NULL);
}

/* The rehearsal reads the same rows (a read is allowed) and writes
 * nothing: the same counts and digest, the path checked by the jail. */
int lpg_dry_copy_out(lua_State *L)
{
	lpg_conn *c = open_conn(L);
	const char *sql = luaL_checkstring(L, 2);
	ff_dry_path(L, luaL_checkstring(L, 3), 1, NULL);
	return copy_out(L, c, sql, -1, NULL, NULL);
}

/* conn:copy_raw(sql, name) -> { rows, bytes, sha256, raw } | nil, message, code
 *   As copy_out, into the run's evidence: raw/<name> (raw: its path in
 *   the evidence folder). Evidence is written in a rehearsal too. */
int lpg_copy_raw(lua_State *L)
{
	lpg_conn *c = open_conn(L);
	const char *sql = luaL_checkstring(L, 2);
	const char *name = luaL_checkstring(L, 3);
	char raw[256];
	ff_err e = {0};
	int fd;
	if (ff_evidence_raw_open(&ff_ctx_of(L)->ev, &fd, raw, name, &e) < 0)
		return ff_raise(L, &e);
	return copy_out(L, c, sql, fd, raw, raw);
}
