/* l_runbook.c - ff.runbook.run(name, params): run a shipped runbook as a
 * run of its own (SPEC §4, gate fresh=true). The host re-executes itself
 * (/proc/self/exe) with the run's configuration file and the shipped
 * runbook's path; the child is a whole ffrun run: its own sandbox, locks,
 * limits and sealed evidence, exactly as an operator typing the command
 * would get. A runbook never names the program, the options or the file:
 * only a shipped runbook's bare name and NAME=VALUE params, so this is no
 * way around exec.allow. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/exec.h"
#include "lua/handle.h"
#include "lua/l_exec.h"
#include "lua/modules.h"
#include "lua/prim.h"

extern char **environ;

/* The last bytes of the child's stderr a runbook gets as .output. */
#define RUNBOOK_TAIL_MAX 4096
/* The child's --json summary; a summary is a few KiB, a drill's with a
 * verification of many tables some hundreds. */
#define RUNBOOK_SUMMARY_MAX (4u << 20)
/* How deep runbooks may start runbooks: gate starts backup and drill,
 * which start none. A bound, so that no runbook can recurse through it. */
#define RUNBOOK_DEPTH_MAX 2
#define DEPTH_VAR "FFRUN_RUNBOOK_DEPTH"

typedef struct summary_buf {
	size_t len;
	int truncated;
	char text[];
} summary_buf;

static int gather(void *arg, const char *p, size_t n)
{
	summary_buf *b = arg;
	size_t room = RUNBOOK_SUMMARY_MAX - b->len;
	if (n > room) {
		b->truncated = 1;
		n = room;
	}
	memcpy(b->text + b->len, p, n);
	b->len += n;
	return 0;
}

static int depth_now(void)
{
	const char *d = getenv(DEPTH_VAR);
	return d && *d >= '0' && *d <= '9' ? atoi(d) : 0;
}

/* Checks shared by the call and its stand-in: the name is a shipped
 * runbook, params a table of NAME=scalar, the depth bound. Leaves on the
 * stack (from index 3): the runbook's path, then each "name=value" in
 * name order. Returns how many params. MAY_LJMP. */
static int check_args(lua_State *L, ff_ctx *ctx)
{
	const char *name = luaL_checkstring(L, 1);
	if (!*name || strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_-") != strlen(name))
		luaL_argerror(L, 1, "a shipped runbook's bare name ([a-z0-9_-]+)");
	if (!lua_isnoneornil(L, 2))
		luaL_checktype(L, 2, LUA_TTABLE);
	else {
		lua_settop(L, 1);
		lua_newtable(L);
	}
	lua_settop(L, 2);
	if (depth_now() >= RUNBOOK_DEPTH_MAX)
		ff_violation(L, "runbook %s: runbooks started by runbooks may not start more (depth %d)",
			     name, RUNBOOK_DEPTH_MAX);
	/* Shipped runbooks sit beside the stdlib the run loaded. */
	const char *stdlib = ctx->stdlib_dir;
	const char *slash = stdlib ? strrchr(stdlib, '/') : NULL;
	if (!slash)
		luaL_error(L, "runbook %s: the shipped runbooks' folder is unknown", name);
	luaL_Buffer b;
	luaL_buffinit(L, &b);
	luaL_addlstring(&b, stdlib, (size_t)(slash - stdlib));
	luaL_addstring(&b, "/runbooks/");
	luaL_addstring(&b, name);
	luaL_addstring(&b, ".lua");
	luaL_pushresult(&b);
	struct stat st;
	if (stat(lua_tostring(L, 3), &st) < 0 || !S_ISREG(st.st_mode))
		luaL_argerror(L, 1, lua_pushfstring(L, "no shipped runbook %s (%s)", name, lua_tostring(L, 3)));
	/* Raw traversal: no runbook metamethod runs inside a primitive. */
	int n = 0;
	/* Each param leaves its "k=v" on the stack: room for all of them
	 * (at most 64, checked below) and the calls after. */
	luaL_checkstack(L, 64 + 16, "runbook params");
	lua_pushnil(L);
	while (lua_next(L, 2)) {
		if (lua_type(L, -2) != LUA_TSTRING)
			luaL_argerror(L, 2, "params are { name = value }");
		const char *k = lua_tostring(L, -2);
		if (!*k || strspn(k, "abcdefghijklmnopqrstuvwxyz0123456789_") != strlen(k))
			luaL_argerror(L, 2, lua_pushfstring(L, "param name '%s': lower-case letters, digits, _", k));
		int t = lua_type(L, -1);
		if (t != LUA_TSTRING && t != LUA_TNUMBER && t != LUA_TBOOLEAN)
			luaL_argerror(L, 2, lua_pushfstring(L, "param %s: a string, number or boolean", k));
		/* lua_tostring converts a number in place: the value, not
		 * the key lua_next needs. */
		/* A whole float (3.0) goes as 3: the child reads integers. */
		if (t == LUA_TNUMBER && !lua_isinteger(L, -1)) {
			lua_Number x = lua_tonumber(L, -1);
			lua_Integer i;
			if (lua_numbertointeger(x, &i) && (lua_Number)i == x) {
				lua_pop(L, 1);
				lua_pushinteger(L, i);
			}
		}
		const char *v = t == LUA_TBOOLEAN ? (lua_toboolean(L, -1) ? "true" : "false")
			      : lua_tostring(L, -1);
		lua_pushfstring(L, "%s=%s", k, v);
		lua_insert(L, -3); /* under key and value */
		lua_pop(L, 1);     /* the value; the key stays for lua_next */
		n++;
		if (n > 64)
			luaL_argerror(L, 2, "at most 64 params");
	}
	/* Name order: the same call makes the same argv (and plan line). */
	for (int i = 4; i < 4 + n; i++)
		for (int j = i + 1; j < 4 + n; j++)
			if (strcmp(lua_tostring(L, j), lua_tostring(L, i)) < 0) {
				lua_pushvalue(L, i);
				lua_pushvalue(L, j);
				lua_replace(L, i);
				lua_replace(L, j);
			}
	return n;
}

static int l_run(lua_State *L)
{
	ff_ctx *ctx = ff_ctx_of(L);
	int n = check_args(L, ctx);
	const char *name = lua_tostring(L, 1);
	char self[PATH_MAX], rawname[128], rel[256];
	ssize_t sl = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (sl <= 0)
		return luaL_error(L, "runbook %s: cannot find ffrun itself: %s", name, strerror(errno));
	self[sl] = '\0';

	/* argv: ffrun [-c FILE] [-v] --json RUNBOOK NAME=VALUE..., in a
	 * userdata (no C allocation alive across a Lua call). */
	const char **argv = lua_newuserdatauv(L, sizeof(char *) * ((size_t)n + 8), 0);
	int a = 0;
	argv[a++] = self;
	if (ctx->cfg->file) {
		argv[a++] = "-c";
		argv[a++] = ctx->cfg->file;
	}
	if (ctx->verbose)
		argv[a++] = "-v";
	argv[a++] = "--json";
	argv[a++] = lua_tostring(L, 3);
	for (int i = 0; i < n; i++)
		argv[a++] = lua_tostring(L, 4 + i);
	argv[a] = NULL;

	/* The child gets ffrun's own environment (libpq's PG* variables, the
	 * home folder its .pgpass is in, FFRUN_HOME): it is ffrun, and scrubs
	 * what it runs itself. One more level of depth. */
	size_t ne = 0;
	while (environ[ne])
		ne++;
	const char **env = lua_newuserdatauv(L, sizeof(char *) * (ne + 2), 0);
	size_t k = 0;
	for (size_t i = 0; i < ne; i++)
		if (strncmp(environ[i], DEPTH_VAR "=", sizeof(DEPTH_VAR)))
			env[k++] = environ[i];
	env[k++] = lua_pushfstring(L, "%s=%d", DEPTH_VAR, depth_now() + 1);
	env[k] = NULL;
	summary_buf *sum = lua_newuserdatauv(L, sizeof(summary_buf) + RUNBOOK_SUMMARY_MAX, 0);
	sum->len = 0;
	sum->truncated = 0;

	ff_err e = {0};
	int fd;
	snprintf(rawname, sizeof(rawname), "runbook-%s.log", name);
	if (ff_evidence_raw_open(&ctx->ev, &fd, rel, rawname, &e) < 0)
		return ff_raise(L, &e);
	ff_exec_opts opts = {
		.env = env, .out_fd = fd, .tail_max = RUNBOOK_TAIL_MAX,
		.secrets = (const char *const *)ctx->secrets, .cancel = &ctx->cancel,
		.stdout_sink = gather, .stdout_arg = sum,
		/* A signal stops the child as it would stop ffrun: its cleanup
		 * steps (a drill's teardown) get time to run. */
		.kill_grace_s = 120,
	};
	ff_exec_result res = {0};
	int rc = ff_exec_run(&res, argv, &opts, &e);
	close(fd);
	char tail[RUNBOOK_TAIL_MAX + 1];
	snprintf(tail, sizeof(tail), "%s", res.tail ? res.tail : "");
	ff_exec_result_free(&res);
	if (rc < 0)
		return ff_fail(L, &e);
	ff_push_exec_result(L, &res, tail, strlen(tail), rel);
	/* --json prints the summary as the run's last stdout line; a child
	 * that ended before its evidence opened (a usage error) prints none. */
	while (sum->len && (sum->text[sum->len - 1] == '\n'))
		sum->len--;
	if (sum->len && !sum->truncated && sum->text[0] == '{') {
		lua_pushlstring(L, sum->text, sum->len);
		lua_setfield(L, -2, "summary");
	}
	return 1;
}

/* The stand-in: the same checks, the call's shape, no child. A child in
 * --dry-run would rehearse only half of it: the drill of a backup that
 * this rehearsal did not take cannot be rehearsed. */
static int dry_run(lua_State *L)
{
	check_args(L, ff_ctx_of(L));
	lua_createtable(L, 0, 7);
	lua_pushboolean(L, 1);
	lua_setfield(L, -2, "ok");
	lua_pushinteger(L, 0);
	lua_setfield(L, -2, "code");
	lua_pushboolean(L, 1);
	lua_setfield(L, -2, "dry_run");
	lua_pushliteral(L, "");
	lua_setfield(L, -2, "output");
	lua_pushliteral(L, "(planned)");
	lua_setfield(L, -2, "raw");
	lua_pushnumber(L, 0);
	lua_setfield(L, -2, "duration_s");
	return 1;
}

void ff_open_runbook(lua_State *L)
{
	static const ff_prim prims[] = {
		{"run", l_run, FF_WRITE, dry_run},
		{NULL, NULL, 0, NULL}
	};
	ff_prims_set(L, "runbook", prims);
}
