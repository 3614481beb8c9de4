/* l_exec.c - ff.exec(argv, opts): run an allow-listed program (SPEC §5).
 * argv only, no shell; the environment is scrubbed; output goes to the
 * evidence raw/ folder with secret values redacted; a timeout kills the
 * whole process group. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/exec.h"
#include "core/fsutil.h"
#include "core/redact.h"
#include "lua/l_exec.h"
#include "lua/handle.h"
#include "lua/modules.h"
#include "lua/prim.h"

/* The last bytes of output a runbook gets as .output. */
#define EXEC_TAIL_MAX 4096
/* With redact=: all of the output, up to this much, redacted. */
#define EXEC_REDACT_MAX (1024 * 1024)
#define REDACT_MT "ff.exec.redacted"

/* The output read back and its redacted copy, C memory a raised error
 * must not leak: a handle frees them. */
typedef struct {
	char *text, *safe;
} redacted;

static int redacted_close(lua_State *L)
{
	redacted *r = luaL_checkudata(L, 1, REDACT_MT);
	free(r->text);
	free(r->safe);
	r->text = r->safe = NULL;
	return 0;
}

static int allowed(const ff_config *c, const char *prog)
{
	for (size_t i = 0; i < c->nexec_allow; i++)
		if (!strcmp(c->exec_allow[i], prog))
			return 1;
	const ff_argv_list *lists[] = { &c->services_up, &c->services_check, &c->app_state,
					&c->drill_up, &c->drill_check, &c->drill_down };
	for (size_t l = 0; l < sizeof(lists) / sizeof(*lists); l++)
		for (size_t i = 0; i < lists[l]->n; i++)
			if (!strcmp(lists[l]->argv[i][0], prog))
				return 1;
	return 0;
}

/* What opts.env may set, added to the scrubbed environment: how to reach
 * a database, never a password (nor anything that changes what a program
 * loads, such as LD_PRELOAD). */
static const char *const env_names[] = {
	"PGHOST", "PGHOSTADDR", "PGPORT", "PGDATABASE", "PGUSER", "PGAPPNAME",
	"PGSSLMODE", "PGCONNECT_TIMEOUT", "DATABASE_URL", NULL
};

/* 1 when a connection setting carries a password: user:PASSWORD@ in a
 * URL's authority, or a password key (password=, passwd=...) anywhere, in
 * a URL's query or a key=value conninfo. */
static int has_password(const char *v)
{
	const char *scheme = strstr(v, "://");
	if (scheme) {
		const char *auth = scheme + 3;
		size_t len = strcspn(auth, "/?#");
		const char *at = memchr(auth, '@', len);
		if (at && memchr(auth, ':', (size_t)(at - auth)))
			return 1;
	}
	for (const char *p = v; (p = strchr(p, '=')) != NULL; p++) {
		const char *k = p;
		while (k > v && (isalnum((unsigned char)k[-1]) || k[-1] == '_'))
			k--;
		if (p > k && ff_redact_is_secret_key(k, (size_t)(p - k)))
			return 1;
	}
	return 0;
}

/* The child's environment: PATH, LANG and opts.env (at index 2, when a
 * table), as a NULL-terminated array on the Lua stack (its strings are
 * anchored there too); NULL without opts.env. A name not in env_names, or
 * a URL with a password in it, is a violation. */
static const char **check_env(lua_State *L, int opts)
{
	if (lua_type(L, opts) != LUA_TTABLE || lua_getfield(L, opts, "env") == LUA_TNIL) {
		if (lua_type(L, opts) == LUA_TTABLE)
			lua_pop(L, 1);
		return NULL;
	}
	int env = lua_gettop(L);
	luaL_argcheck(L, lua_type(L, env) == LUA_TTABLE, opts, "env must be a table of NAME = value");
	lua_Integer n = 0;
	lua_pushnil(L);
	while (lua_next(L, env)) {
		lua_pop(L, 1);
		if (++n > 16)
			luaL_argerror(L, opts, "env: at most 16 variables");
	}
	const char **out = lua_newuserdatauv(L, sizeof(char *) * ((size_t)n + 3), 0);
	lua_createtable(L, (int)n, 0); /* anchors the "NAME=value" strings */
	int anchor = lua_gettop(L);
	size_t k = 0;
	out[k++] = "PATH=/usr/bin:/bin";
	out[k++] = "LANG=C.UTF-8";
	lua_pushnil(L);
	while (lua_next(L, env)) {
		if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TSTRING)
			luaL_argerror(L, opts, "env must map names to strings");
		const char *name = lua_tostring(L, -2), *value = lua_tostring(L, -1);
		int known = 0;
		for (const char *const *e = env_names; *e; e++)
			known |= !strcmp(*e, name);
		if (!known)
			ff_violation(L, "exec env %s: only PGHOST, PGPORT, PGDATABASE, PGUSER, DATABASE_URL and "
				     "other connection settings without a password may be set", name);
		if (has_password(value))
			ff_violation(L, "exec env %s: a password in it: give it through PGPASSFILE instead", name);
		lua_pushfstring(L, "%s=%s", name, value);
		out[k++] = lua_tostring(L, -1);
		lua_rawseti(L, anchor, (lua_Integer)k);
		lua_pop(L, 1); /* the value */
	}
	out[k] = NULL;
	return out;
}

/* The argv array, checked; argv strings stay owned by Lua (on the stack). */
static const char **check_argv(lua_State *L, ff_ctx *ctx)
{
	luaL_checktype(L, 1, LUA_TTABLE);
	/* Not raw: argv may come straight from ff.config (a read-only proxy). */
	lua_Integer n = luaL_len(L, 1);
	if (n < 1 || n > 4096)
		luaL_argerror(L, 1, "argv must be a non-empty array of strings");
	const char **argv = lua_newuserdatauv(L, sizeof(char *) * ((size_t)n + 1), 0);
	lua_createtable(L, (int)n, 0); /* keeps the strings alive */
	for (lua_Integer i = 1; i <= n; i++) {
		if (lua_geti(L, 1, i) != LUA_TSTRING)
			luaL_argerror(L, 1, "argv must be a non-empty array of strings");
		argv[i - 1] = lua_tostring(L, -1);
		lua_rawseti(L, -2, i);
	}
	argv[n] = NULL;
	if (argv[0][0] != '/')
		ff_violation(L, "exec %s: programs are named by absolute path", argv[0]);
	if (!allowed(ctx->cfg, argv[0]))
		ff_violation(L, "exec %s: not in exec.allow", argv[0]);
	return argv;
}

void ff_push_exec_result(lua_State *L, const ff_exec_result *res, const char *out, size_t outlen,
			 const char *rel)
{
	lua_createtable(L, 0, 7);
	lua_pushboolean(L, res->exited && res->status == 0 && !res->timed_out);
	lua_setfield(L, -2, "ok");
	lua_pushinteger(L, res->exited ? res->status : -1);
	lua_setfield(L, -2, "code");
	if (!res->exited) {
		lua_pushinteger(L, res->status);
		lua_setfield(L, -2, "signal");
	}
	lua_pushboolean(L, res->timed_out);
	lua_setfield(L, -2, "timed_out");
	lua_pushlstring(L, out, outlen);
	lua_setfield(L, -2, "output");
	lua_pushstring(L, rel);
	lua_setfield(L, -2, "raw");
	lua_pushnumber(L, res->duration_s);
	lua_setfield(L, -2, "duration_s");
}

/* ff.exec with redact = NAME: the output is held in a temporary file,
 * read back (at most EXEC_REDACT_MAX bytes), passed through the snapshot
 * redaction (core/redact.c, its mode chosen by NAME), and only then
 * written to the evidence; .output is all of it, redacted, and .redacted
 * how many values were replaced. Nothing unredacted reaches the evidence. */
static int exec_redacted(lua_State *L, ff_ctx *ctx, const char **argv, const char **env,
			 double timeout, const char *name, const char *redact)
{
	redacted *box = ff_handle_new(L, REDACT_MT, sizeof(*box), 0);
	char rawname[128], rel[256], tmp[PATH_MAX];
	ff_err e = {0};
	const char *dir = ff_run_tmp(ctx, &e);
	if (!dir)
		return ff_raise(L, &e);
	if (!name) {
		const char *base = strrchr(argv[0], '/');
		snprintf(rawname, sizeof(rawname), "exec-%s.log", base + 1);
		name = rawname;
	}
	snprintf(tmp, sizeof(tmp), "%s/exec-output-XXXXXX", dir);
	int tfd = mkstemp(tmp);
	if (tfd < 0)
		return ff_failf(L, "exec %s: temporary file in %s: %s", argv[0], dir, strerror(errno));
	unlink(tmp);
	ff_exec_opts opts = {
		.env = env, .out_fd = tfd, .timeout_s = timeout,
		.secrets = (const char *const *)ctx->secrets, .cancel = &ctx->cancel,
	};
	ff_exec_result res = {0};
	int rc = ff_exec_run(&res, argv, &opts, &e);
	ff_exec_result_free(&res);
	struct stat st;
	size_t len = 0, safelen = 0;
	int found = 0, cut = 0;
	if (rc == 0 && fstat(tfd, &st) < 0)
		rc = ff_err_set(&e, FF_EFAIL, "exec %s: its output: %s", argv[0], strerror(errno));
	if (rc == 0) {
		size_t size = (size_t)st.st_size;
		cut = size > EXEC_REDACT_MAX;
		if (lseek(tfd, 0, SEEK_SET) < 0)
			rc = ff_err_set(&e, FF_EFAIL, "exec %s: its output: %s", argv[0], strerror(errno));
		else {
			rc = ff_read_fd(&box->text, &len, tfd, cut ? EXEC_REDACT_MAX : size, &e);
			tfd = -1; /* ff_read_fd closed it */
		}
	}
	if (tfd >= 0)
		close(tfd);
	/* Cut at a line's end: half a line may hide a secret's key. */
	if (rc == 0 && cut) {
		char *nl = memrchr(box->text, '\n', len);
		len = nl ? (size_t)(nl - box->text) + 1 : 0;
	}
	if (rc == 0)
		rc = ff_redact(&box->safe, &safelen, box->text, len, redact, FF_REDACT_AUTO, &found, &e);
	int fd = -1;
	if (rc == 0 && (rc = ff_evidence_raw_open(&ctx->ev, &fd, rel, name, &e)) == 0) {
		for (size_t off = 0; rc == 0 && off < safelen;) {
			ssize_t w = write(fd, box->safe + off, safelen - off);
			if (w < 0 && errno != EINTR)
				rc = ff_err_set(&e, FF_EFAIL, "%s: %s", rel, strerror(errno));
			else if (w > 0)
				off += (size_t)w;
		}
		close(fd);
	}
	if (rc < 0)
		return ff_fail(L, &e);
	ff_push_exec_result(L, &res, box->safe, safelen, rel);
	lua_pushinteger(L, found);
	lua_setfield(L, -2, "redacted");
	lua_pushboolean(L, cut);
	lua_setfield(L, -2, "truncated");
	return 1;
}

static int l_exec(lua_State *L)
{
	ff_ctx *ctx = ff_ctx_of(L);
	const char **argv = check_argv(L, ctx);
	double timeout = 300;
	const char *name = NULL, *redact = NULL;
	char rawname[128], rel[256];

	if (lua_type(L, 2) == LUA_TTABLE) {
		if (lua_getfield(L, 2, "timeout") != LUA_TNIL)
			timeout = luaL_checknumber(L, -1);
		if (lua_getfield(L, 2, "name") != LUA_TNIL)
			name = luaL_checkstring(L, -1);
		if (lua_getfield(L, 2, "redact") != LUA_TNIL)
			redact = luaL_checkstring(L, -1);
		/* The three stay on the stack: name and redact are used after
		 * check_env allocates (a collection must not free them). */
	}
	const char **env = check_env(L, 2);
	if (redact)
		return exec_redacted(L, ctx, argv, env, timeout, name, redact);
	if (!name) {
		const char *base = strrchr(argv[0], '/');
		snprintf(rawname, sizeof(rawname), "exec-%s.log", base + 1);
		name = rawname;
	}

	ff_err e = {0};
	int fd;
	if (ff_evidence_raw_open(&ctx->ev, &fd, rel, name, &e) < 0)
		return ff_raise(L, &e);
	ff_exec_opts opts = {
		.env = env, .out_fd = fd, .timeout_s = timeout, .tail_max = EXEC_TAIL_MAX,
		.secrets = (const char *const *)ctx->secrets, .cancel = &ctx->cancel,
	};
	ff_exec_result res = {0};
	int rc = ff_exec_run(&res, argv, &opts, &e);
	close(fd);
	/* The tail is copied out and freed before the first push: a push may
	 * raise (the memory cap) and would leak it. */
	char tail[EXEC_TAIL_MAX + 1];
	snprintf(tail, sizeof(tail), "%s", res.tail ? res.tail : "");
	ff_exec_result_free(&res);
	if (rc < 0)
		return ff_fail(L, &e);
	ff_push_exec_result(L, &res, tail, strlen(tail), rel);
	return 1;
}

/* In a dry-run the program is still checked against the allow-list. */
static int dry_exec(lua_State *L)
{
	check_argv(L, ff_ctx_of(L));
	/* The options the real call reads, checked as it checks them. */
	if (lua_type(L, 2) == LUA_TTABLE) {
		if (lua_getfield(L, 2, "timeout") != LUA_TNIL)
			luaL_checknumber(L, -1);
		if (lua_getfield(L, 2, "name") != LUA_TNIL)
			luaL_checkstring(L, -1);
		lua_pop(L, 2);
	}
	check_env(L, 2);
	lua_createtable(L, 0, 7);
	lua_pushliteral(L, "(planned)");
	lua_setfield(L, -2, "raw");
	lua_pushboolean(L, 0);
	lua_setfield(L, -2, "timed_out");
	lua_pushnumber(L, 0);
	lua_setfield(L, -2, "duration_s");
	lua_pushboolean(L, 1);
	lua_setfield(L, -2, "ok");
	lua_pushinteger(L, 0);
	lua_setfield(L, -2, "code");
	lua_pushboolean(L, 1);
	lua_setfield(L, -2, "dry_run");
	lua_pushstring(L, "");
	lua_setfield(L, -2, "output");
	/* With redact=, the fields a real run adds. */
	if (lua_type(L, 2) == LUA_TTABLE) {
		if (lua_getfield(L, 2, "redact") != LUA_TNIL) {
			luaL_checkstring(L, -1);
			lua_pushinteger(L, 0);
			lua_setfield(L, -3, "redacted");
			lua_pushboolean(L, 0);
			lua_setfield(L, -3, "truncated");
		}
		lua_pop(L, 1);
	}
	return 1;
}

void ff_open_exec(lua_State *L)
{
	static const ff_prim prims[] = {
		{"exec", l_exec, FF_WRITE, dry_exec},
		{NULL, NULL, 0, NULL}
	};
	ff_handle_class(L, REDACT_MT, "exec", NULL, redacted_close);
	ff_prims_set(L, "", prims);
}
