/* pin.c - plans (SPEC §4a): a rehearsal written down (--plan-out), and a
 * run held to it (--plan). The plan says what the rehearsal was made from
 * (ffrun, the runbook and its modules, the redacted config, the servers,
 * the chosen backup) and the writes it planned; a pinned run refuses
 * before any write when one of those differs, and stops before the first
 * write that is not its plan's next. */
#include "run/run_int.h"

#include <errno.h>
#include <fcntl.h>
#include <lauxlib.h>
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/fsutil.h"
#include "core/hash.h"
#include "core/jsonw.h"
#include "core/pg.h"
#include "core/plan.h"
#include "core/redact.h"
#include "lua-cjson.h"

#define PLAN_MAX (16 << 20)

/* sha256 of the configuration file as its snapshot would show it (secret
 * values replaced): "(defaults)" when there is none. */
static int config_digest(const ff_config *cfg, char hex[FF_SHA256_HEX], ff_err *e)
{
	char *text = NULL, *safe = NULL;
	size_t len = 0, safe_len = 0;
	int rc;
	if (!cfg->file) {
		ff_sha256_hex(hex, "(defaults)", 10);
		return 0;
	}
	if ((rc = ff_read_file(&text, &len, cfg->file, 1 << 20, e)) < 0)
		return rc;
	rc = ff_redact(&safe, &safe_len, text, len, cfg->file, FF_REDACT_YAML, NULL, e);
	if (rc == 0)
		ff_sha256_hex(hex, safe, safe_len);
	free(text);
	free(safe);
	return rc;
}


static void write_targets(ff_ctx *ctx, ff_jsonw *w, ff_err *e, int *rc)
{
	ff_jsonw_key(w, "targets");
	ff_jsonw_arr(w);
	for (size_t i = 0; i < ctx->pin.targets.n && *rc == 0; i++) {
		const char *name = ctx->pin.targets.v[i];
		const ff_target *t = ff_config_target(ctx->cfg, name);
		ff_pg_ident id;
		if (!t || (*rc = ff_pg_identity(&id, name, t->conninfo, e)) < 0)
			break;
		ff_jsonw_obj(w);
		ff_jsonw_kstr(w, "name", name);
		ff_jsonw_kstr(w, "system_identifier", id.system_identifier);
		ff_jsonw_kstr(w, "server_version", id.server_version);
		ff_jsonw_kstr(w, "database", id.dbname);
		ff_jsonw_end(w, '}');
	}
	ff_jsonw_end(w, ']');
}

/* The params as the pinned run must take them: the chosen backup's stamp
 * in place of "latest". */
static void write_params(ff_ctx *ctx, ff_jsonw *w)
{
	const char *slash = strrchr(ctx->pin.backup_path, '/');
	ff_jsonw_key(w, "params");
	ff_jsonw_obj(w);
	for (size_t i = 0; i < ctx->nparams; i++) {
		const ff_param *p = &ctx->params[i];
		if (!p->value)
			continue;
		if (!strcmp(p->name, "backup") && slash)
			ff_jsonw_kstr(w, p->name, slash + 1);
		else
			ff_jsonw_kstr(w, p->name, p->value);
	}
	ff_jsonw_end(w, '}');
}

static void write_body(ff_ctx *ctx, ff_jsonw *w, const char *config_hex, ff_err *e, int *rc)
{
	char ts[32];
	double now = ff_time_now(), until = now + ctx->pin.ttl_s;
	ff_jsonw_obj(w);
	ff_jsonw_kstr(w, "ffrun", FF_VERSION);
	ff_time_iso(ts, now);
	ff_jsonw_kstr(w, "created_at", ts);
	ff_time_iso(ts, until);
	ff_jsonw_kstr(w, "expires_at", ts);
	ff_jsonw_kint(w, "expires_unix", (long long)until);
	ff_jsonw_key(w, "runbook");
	ff_jsonw_obj(w);
	ff_jsonw_kstr(w, "path", ctx->runbook_path);
	ff_jsonw_kstr(w, "sha256", ctx->runbook_sha256);
	ff_jsonw_end(w, '}');
	ff_jsonw_key(w, "modules");
	ff_jsonw_arr(w);
	for (size_t i = 0; i < ctx->pin.modules.n; i++)
		ff_jsonw_str(w, ctx->pin.modules.v[i]);
	ff_jsonw_end(w, ']');
	ff_jsonw_key(w, "config");
	ff_jsonw_obj(w);
	ff_jsonw_kstr(w, "file", ctx->cfg->file);
	ff_jsonw_kstr(w, "redacted_sha256", config_hex);
	ff_jsonw_end(w, '}');
	write_params(ctx, w);
	write_targets(ctx, w, e, rc);
	ff_jsonw_key(w, "backup");
	if (ctx->pin.backup_path[0]) {
		ff_jsonw_obj(w);
		ff_jsonw_kstr(w, "path", ctx->pin.backup_path);
		ff_jsonw_kstr(w, "digest_sha256", ctx->pin.backup_digest);
		ff_jsonw_end(w, '}');
	} else {
		ff_jsonw_null(w);
	}
	ff_jsonw_key(w, "writes");
	ff_jsonw_arr(w);
	for (size_t i = 0; i < ctx->pin.lines.n; i++)
		ff_jsonw_str(w, ctx->pin.lines.v[i]);
	ff_jsonw_end(w, ']');
	ff_jsonw_end(w, '}');
}

int ff_pin_write(ff_ctx *ctx, ff_err *e)
{
	char config_hex[FF_SHA256_HEX], tmp[PATH_MAX + 8];
	char *text = NULL;
	int rc;
	ff_jsonw w;
	if ((rc = config_digest(ctx->cfg, config_hex, e)) < 0)
		return rc;
	ff_jsonw_init(&w);
	write_body(ctx, &w, config_hex, e, &rc);
	if (rc == 0 && w.oom)
		rc = ff_err_set(e, FF_EINTERNAL, "out of memory");
	if (rc == 0)
		rc = ff_plan_seal(&text, w.buf, e);
	if (rc == 0) {
		ff_sha256_hex(ctx->pin.sha256, w.buf, w.len);
		snprintf(tmp, sizeof(tmp), "%s.tmp", ctx->pin.out);
		rc = ff_write_file_atomic(tmp, ctx->pin.out, text, strlen(text), e);
		if (rc == 0 && !ctx->json)
			printf("plan: %s sha256 %s (run it with --plan %s --plan-sha256 %s)\n", ctx->pin.out,
			       ctx->pin.sha256, ctx->pin.out, ctx->pin.sha256);
	}
	free(text);
	ff_jsonw_free(&w);
	return rc;
}

/* --- reading a plan ----------------------------------------------------- */

/* Field k of the table at idx as a string into out, or an error. */
static int get_str(lua_State *L, int idx, const char *k, char *out, size_t cap, ff_err *e)
{
	lua_getfield(L, idx, k);
	const char *v = lua_tostring(L, -1);
	if (!v || strlen(v) >= cap) {
		lua_pop(L, 1);
		return ff_err_set(e, FF_EFAIL, "the plan has no usable '%s'", k);
	}
	snprintf(out, cap, "%s", v);
	lua_pop(L, 1);
	return 0;
}

/* The plan's list k (strings) into l. */
static int get_list(lua_State *L, int idx, const char *k, ff_strlist *l, ff_err *e)
{
	if (lua_getfield(L, idx, k) != LUA_TTABLE)
		return ff_err_set(e, FF_EFAIL, "the plan has no '%s' list", k);
	for (lua_Integer i = 1; i <= (lua_Integer)lua_rawlen(L, -1); i++) {
		lua_rawgeti(L, -1, i);
		if (!lua_isstring(L, -1) || ff_strlist_push(l, lua_tostring(L, -1)) < 0)
			return ff_err_set(e, FF_EFAIL, "the plan's '%s' list is malformed", k);
		lua_pop(L, 1);
	}
	lua_pop(L, 1);
	return 0;
}

/* Each target of the plan as its server answers now. */
static int check_targets(ff_ctx *ctx, lua_State *L, int body, ff_err *e)
{
	if (lua_getfield(L, body, "targets") != LUA_TTABLE)
		return ff_err_set(e, FF_EFAIL, "the plan has no 'targets' list");
	for (lua_Integer i = 1; i <= (lua_Integer)lua_rawlen(L, -1); i++) {
		char name[64], sysid[32], version[64], db[128];
		ff_pg_ident now;
		int rc;
		lua_rawgeti(L, -1, i);
		int t = lua_gettop(L);
		if ((rc = get_str(L, t, "name", name, sizeof(name), e)) < 0 ||
		    (rc = get_str(L, t, "system_identifier", sysid, sizeof(sysid), e)) < 0 ||
		    (rc = get_str(L, t, "server_version", version, sizeof(version), e)) < 0 ||
		    (rc = get_str(L, t, "database", db, sizeof(db), e)) < 0)
			return rc;
		const ff_target *cf = ff_config_target(ctx->cfg, name);
		if (!cf)
			return ff_err_set(e, FF_EFAIL, "plan refused: target %s is no longer in the configuration", name);
		if ((rc = ff_pg_identity(&now, name, cf->conninfo, e)) < 0) {
			char why[sizeof(e->msg)];
			snprintf(why, sizeof(why), "%s", e->msg);
			return ff_err_set(e, FF_EFAIL, "plan refused: target %s: %.900s", name, why);
		}
		if (strcmp(now.system_identifier, sysid) || strcmp(now.dbname, db))
			return ff_err_set(e, FF_EFAIL, "plan refused: target %s is another cluster or database now "
					  "(system_identifier %s, database %s; the plan was made on %s, %s)",
					  name, now.system_identifier, now.dbname, sysid, db);
		if (strcmp(now.server_version, version))
			return ff_err_set(e, FF_EFAIL, "plan refused: target %s runs PostgreSQL %s, the plan was made on %s",
					  name, now.server_version, version);
		lua_pop(L, 1);
	}
	lua_pop(L, 1);
	return 0;
}

/* The plan's params as NAME=VALUE, the pinned run's command line. */
static int take_params(ff_ctx *ctx, lua_State *L, int body, ff_err *e)
{
	if (lua_getfield(L, body, "params") != LUA_TTABLE)
		return ff_err_set(e, FF_EFAIL, "the plan has no 'params'");
	ff_strlist l = {0};
	lua_pushnil(L);
	while (lua_next(L, -2)) {
		char kv[1200];
		if (lua_type(L, -2) != LUA_TSTRING || !lua_isstring(L, -1)) {
			ff_strlist_free(&l);
			return ff_err_set(e, FF_EFAIL, "the plan's params are malformed");
		}
		snprintf(kv, sizeof(kv), "%s=%s", lua_tostring(L, -2), lua_tostring(L, -1));
		ff_strlist_push(&l, kv);
		lua_pop(L, 1);
	}
	lua_pop(L, 1);
	ctx->pin.params = l;
	ctx->assign = l.v;
	ctx->nassign = (int)l.n;
	return 0;
}

static int check_body(ff_ctx *ctx, lua_State *L, int body, ff_err *e)
{
	char version[64], config_hex[FF_SHA256_HEX], want_config[FF_SHA256_HEX], hex[FF_SHA256_HEX];
	int rc;
	if ((rc = get_str(L, body, "ffrun", version, sizeof(version), e)) < 0)
		return rc;
	if (strcmp(version, FF_VERSION))
		return ff_err_set(e, FF_EFAIL, "plan refused: it was made by ffrun %s, this is %s", version, FF_VERSION);
	lua_getfield(L, body, "expires_unix");
	double until = lua_tonumber(L, -1);
	lua_pop(L, 1);
	if (ff_time_now() > until)
		return ff_err_set(e, FF_EFAIL, "plan refused: it expired %.0f s ago (make a new one)", ff_time_now() - until);
	lua_getfield(L, body, "runbook");
	if ((rc = get_str(L, -1, "path", ctx->pin.runbook, sizeof(ctx->pin.runbook), e)) < 0 ||
	    (rc = get_str(L, -1, "sha256", ctx->pin.runbook_sha256, sizeof(ctx->pin.runbook_sha256), e)) < 0)
		return rc;
	lua_pop(L, 1);
	lua_getfield(L, body, "config");
	if ((rc = get_str(L, -1, "redacted_sha256", want_config, sizeof(want_config), e)) < 0)
		return rc;
	lua_pop(L, 1);
	if ((rc = config_digest(ctx->cfg, config_hex, e)) < 0)
		return rc;
	if (strcmp(config_hex, want_config))
		return ff_err_set(e, FF_EFAIL, "plan refused: the configuration changed since the plan (%s)",
				  ctx->cfg->file ? ctx->cfg->file : "built-in defaults");
	if ((rc = get_list(L, body, "modules", &ctx->pin.modules, e)) < 0 ||
	    (rc = get_list(L, body, "writes", &ctx->pin.want, e)) < 0)
		return rc;
	for (size_t i = 0; i < ctx->pin.modules.n; i++) {
		const char *path = strchr(ctx->pin.modules.v[i], ' ');
		if (!path || ff_sha256_path(hex, path + 1, e) < 0 || strncmp(hex, ctx->pin.modules.v[i], 64))
			return ff_err_set(e, FF_EFAIL, "plan refused: module %s changed since the plan",
					  path ? path + 1 : ctx->pin.modules.v[i]);
	}
	if (lua_getfield(L, body, "backup") == LUA_TTABLE) {
		if ((rc = get_str(L, -1, "path", ctx->pin.backup_path, sizeof(ctx->pin.backup_path), e)) < 0 ||
		    (rc = get_str(L, -1, "digest_sha256", ctx->pin.backup_digest, sizeof(ctx->pin.backup_digest), e)) < 0)
			return rc;
		char digest[PATH_MAX + 8];
		snprintf(digest, sizeof(digest), "%s/DIGEST", ctx->pin.backup_path);
		if (ff_sha256_path(hex, digest, e) < 0)
			return ff_err_set(e, FF_EFAIL, "plan refused: its backup %s is gone", ctx->pin.backup_path);
		if (strcmp(hex, ctx->pin.backup_digest))
			return ff_err_set(e, FF_EFAIL, "plan refused: the DIGEST of its backup %s changed", ctx->pin.backup_path);
	}
	lua_pop(L, 1);
	if ((rc = check_targets(ctx, L, body, e)) < 0)
		return rc;
	return take_params(ctx, L, body, e);
}

typedef struct checking {
	ff_ctx *ctx;
	ff_err *e;
	int rc;
} checking;

static int check_protected(lua_State *L)
{
	checking *c = lua_touserdata(L, 2);
	c->rc = check_body(c->ctx, L, 1, c->e);
	return 0;
}

/* A private state, not the runbook's: only cjson, to read the plan. */
static int decode(ff_ctx *ctx, const char *body, size_t blen, ff_err *e)
{
	lua_State *L = luaL_newstate();
	if (!L)
		return ff_err_set(e, FF_EINTERNAL, "out of memory");
	luaL_requiref(L, "cjson", luaopen_cjson, 0);
	lua_getfield(L, -1, "decode");
	lua_pushlstring(L, body, blen);
	int rc;
	rc = 0;
	if (lua_pcall(L, 1, 1, 0) != LUA_OK || !lua_istable(L, -1)) {
		rc = ff_err_set(e, FF_EFAIL, "the plan's body is not a JSON object");
	} else {
		/* Checked under pcall: a body of the wrong shape (a string
		 * where a table belongs) raises, and is refused, not fatal. */
		checking c = { ctx, e, 0 };
		lua_pushcfunction(L, check_protected);
		lua_insert(L, -2);
		lua_pushlightuserdata(L, &c);
		if (lua_pcall(L, 2, 0, 0) != LUA_OK)
			rc = ff_err_set(e, FF_EFAIL, "the plan's body is malformed: %s",
					lua_isstring(L, -1) ? lua_tostring(L, -1) : "?");
		else
			rc = c.rc;
	}
	lua_close(L);
	return rc;
}

int ff_pin_load(ff_ctx *ctx, ff_err *e)
{
	char *text = NULL;
	size_t len = 0, blen = 0;
	const char *body;
	int rc;
	if ((rc = ff_read_file(&text, &len, ctx->pin.in, PLAN_MAX, e)) < 0) {
		char why[sizeof(e->msg)];
		snprintf(why, sizeof(why), "%s", e->msg);
		return ff_err_set(e, FF_EUSAGE, "plan: %.900s", why);
	}
	if ((rc = ff_plan_unseal(&body, &blen, text, len, e)) == 0) {
		ff_sha256_hex(ctx->pin.sha256, body, blen);
		/* The seal catches a changed byte; only the sha256 a reviewer
		 * approved catches a plan rewritten and sealed again. */
		if (ctx->pin.want_sha256 && strcmp(ctx->pin.want_sha256, ctx->pin.sha256))
			rc = ff_err_set(e, FF_EFAIL, "plan refused: its sha256 is %s, not the approved %s",
					ctx->pin.sha256, ctx->pin.want_sha256);
		else
			rc = decode(ctx, body, blen, e);
	}
	free(text);
	if (rc < 0 && strncmp(e->msg, "plan refused", 12)) {
		char why[sizeof(e->msg)];
		snprintf(why, sizeof(why), "%s", e->msg);
		ff_err_set(e, FF_EFAIL, "plan refused: %s: %.900s", ctx->pin.in, why);
	}
	if (rc < 0)
		e->code = FF_EFAIL;
	ctx->pin.pinned = rc == 0;
	ctx->runbook_arg = ctx->pin.runbook;
	return rc;
}

int ff_pin_check_runbook(ff_ctx *ctx, ff_err *e)
{
	if (strcmp(ctx->runbook_sha256, ctx->pin.runbook_sha256))
		return ff_err_set(e, FF_EFAIL, "plan refused: the runbook %s changed since the plan", ctx->runbook_path);
	return 0;
}
