/* l_evidence.c - ff.evidence (what a runbook adds to its own evidence) and
 * ff.verify (checks of a finished backup or evidence folder). Evidence
 * writes are allowed in a dry-run: the evidence folder is the one place a
 * rehearsal writes to. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lua/modules.h"
#include "lua/prim.h"

static const char *const reserved[] = {
	"format", "run_id", "runbook", "mode", "status", "started_at",
	"finished_at", "duration_s", "params", "steps", "ffrun_version", "host",
	"error", "limit", "plan", "events", NULL
};

/* ff.evidence.set(key, value): a top-level member of summary.json. */
static int ev_set(lua_State *L)
{
	ff_ctx *ctx = ff_ctx_of(L);
	const char *key = luaL_checkstring(L, 1);
	luaL_checkany(L, 2);
	for (const char *const *r = reserved; *r; r++)
		if (!strcmp(key, *r))
			return luaL_error(L, "evidence.set: '%s' is written by the host", key);
	if (strspn(key, "abcdefghijklmnopqrstuvwxyz0123456789_") != strlen(key) || !*key)
		return luaL_error(L, "evidence.set: key '%s' must be lower_case", key);

	lua_getfield(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
	lua_getfield(L, -1, "cjson");
	lua_getfield(L, -1, "encode");
	lua_pushvalue(L, 2);
	lua_call(L, 1, 1);
	const char *v = lua_tostring(L, -1);
	char *nv = strdup(v);
	if (!nv)
		return luaL_error(L, "out of memory");
	/* A key set twice keeps its last value. */
	for (size_t i = 0; i < ctx->nextra; i++) {
		if (!strcmp(ctx->extra_keys[i], key)) {
			free(ctx->extra_vals[i]);
			ctx->extra_vals[i] = nv;
			return 0;
		}
	}
	char **nk = realloc(ctx->extra_keys, (ctx->nextra + 1) * sizeof(char *));
	if (nk)
		ctx->extra_keys = nk;
	char **nvs = nk ? realloc(ctx->extra_vals, (ctx->nextra + 1) * sizeof(char *)) : NULL;
	if (nvs)
		ctx->extra_vals = nvs;
	char *k = nvs ? strdup(key) : NULL;
	if (!k) {
		free(nv);
		return luaL_error(L, "out of memory");
	}
	ctx->extra_keys[ctx->nextra] = k;
	ctx->extra_vals[ctx->nextra++] = nv;
	return 0;
}

static int ev_raw(lua_State *L)
{
	ff_ctx *ctx = ff_ctx_of(L);
	const char *name = luaL_checkstring(L, 1);
	size_t len;
	const char *data = luaL_checklstring(L, 2, &len);
	char rel[256];
	ff_err e = {0};
	int fd;
	if (ff_evidence_raw_open(&ctx->ev, &fd, rel, name, &e) < 0)
		return ff_raise(L, &e);
	size_t off = 0;
	while (off < len) {
		ssize_t w = write(fd, data + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			close(fd);
			return luaL_error(L, "evidence %s: %s", rel, strerror(errno));
		}
		off += (size_t)w;
	}
	close(fd);
	lua_pushstring(L, rel);
	return 1;
}

void ff_open_evidence(lua_State *L)
{
	static const ff_prim prims[] = {
		{"set", ev_set, FF_READ, NULL},
		{"raw", ev_raw, FF_READ, NULL},
		{NULL, NULL, 0, NULL}
	};
	ff_prims_set(L, "evidence", prims);
}

/* --- ff.verify ------------------------------------------------------------- */

/* The core walks the folder holding an fd and buffers of its own, and
 * reports each problem through add_problem: a push that raised there (the
 * memory cap) would longjmp past them all. So each push runs under
 * lua_pcall; the first error stops the pushes, stays on top of the stack,
 * and is raised again once the core has returned and the fd is closed. */
typedef struct problems {
	lua_State *L;
	int table;  /* stack index of the problems table */
	int n;
	int failed; /* a push raised: its error object is on top */
} problems;

/* (table, msg as a light userdata, index): table[index] = msg */
static int push_problem(lua_State *L)
{
	lua_pushstring(L, lua_touserdata(L, 2));
	lua_rawseti(L, 1, lua_tointeger(L, 3));
	return 0;
}

/* Pushes nothing that allocates before the pcall: a light C function, a
 * copy of a stack slot, a light userdata and an integer. */
static void add_problem(void *arg, const char *msg)
{
	problems *p = arg;
	lua_State *L = p->L;

	if (p->failed)
		return;
	lua_pushcfunction(L, push_problem);
	lua_pushvalue(L, p->table);
	lua_pushlightuserdata(L, (void *)msg);
	lua_pushinteger(L, (lua_Integer)p->n + 1);
	if (lua_pcall(L, 3, 0, 0) != LUA_OK)
		p->failed = 1;
	else
		p->n++;
}

/* The problems table is made before the fd is opened, so that nothing but
 * add_problem's protected pushes happens while the fd is open. */
static int open_dir(lua_State *L, int *fd, const char *path)
{
	ff_err e = {0};
	if (ff_jail_open(fd, &ff_ctx_of(L)->jail, path, O_RDONLY | O_DIRECTORY, 0, &e) < 0)
		return ff_raise(L, &e);
	return 0;
}

/* After the core returned and the fd is closed: raise what a push raised,
 * or add the core's own failure as the last problem. */
static void end_problems(problems *p, int rc, const ff_err *e)
{
	if (p->failed)
		lua_error(p->L);
	if (rc < 0) {
		lua_pushstring(p->L, e->msg);
		lua_rawseti(p->L, p->table, ++p->n);
	}
}

/* ff.verify.digest(dir) -> ok, {problems} */
static int verify_digest(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	int fd;
	ff_err e = {0};
	lua_newtable(L);
	problems p = { L, lua_gettop(L), 0, 0 };
	open_dir(L, &fd, path);
	int rc = ff_digest_verify(fd, add_problem, &p, &e);
	close(fd);
	end_problems(&p, rc, &e);
	lua_pushboolean(L, rc == 0);
	lua_insert(L, -2);
	return 2;
}

/* ff.verify.events(dir) -> ok, {problems}, count, last_sha256 */
static int verify_events(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	int fd;
	char last[FF_SHA256_HEX] = "";
	unsigned long long count = 0;
	ff_err e = {0};
	lua_newtable(L);
	problems p = { L, lua_gettop(L), 0, 0 };
	open_dir(L, &fd, path);
	int rc = ff_events_verify(fd, last, &count, add_problem, &p, &e);
	close(fd);
	end_problems(&p, rc, &e);
	lua_pushboolean(L, rc == 0);
	lua_insert(L, -2);
	lua_pushinteger(L, (lua_Integer)count);
	lua_pushstring(L, last);
	return 4;
}

void ff_open_verify(lua_State *L)
{
	static const ff_prim prims[] = {
		{"digest", verify_digest, FF_READ, NULL},
		{"events", verify_events, FF_READ, NULL},
		{NULL, NULL, 0, NULL}
	};
	ff_prims_set(L, "verify", prims);
}
