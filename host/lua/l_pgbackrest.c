/* l_pgbackrest.c - ff.pgbackrest: pgBackRest commands for a target whose
 * engine is pgbackrest (its stanza, its pgbackrest.conf), the argv built
 * here from a command name and typed values. stderr goes to a raw file of
 * the evidence; stdout (info's JSON) comes back as a string. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/evidence.h"
#include "core/pgbackrest.h"
#include "lua/handle.h"
#include "lua/modules.h"
#include "lua/prim.h"

/* The pgbackrest target named at idx, or a raised error. */
static const ff_target *pgbr_target(lua_State *L, int idx)
{
	const char *name = luaL_checkstring(L, idx);
	const ff_target *t = ff_config_target(ff_ctx_of(L)->cfg, name);
	if (!t)
		luaL_error(L, "pgbackrest: no target named '%s' in the configuration", name);
	if (!t->pgbr_stanza)
		luaL_error(L, "pgbackrest: target '%s' has no engine pgbackrest", name);
	return t;
}

/* { ok, code, timed_out, output, output_cut, tail, raw, duration_s,
 *   dry_run } : the same shape for the real call and its stand-in.
 * MAY_LJMP: r must be held by a box (or be the caller's own memory), so
 * that a raise here leaks nothing. */
static void push_result(lua_State *L, const ff_pgbr_result *r, const char *raw, int dry)
{
	lua_createtable(L, 0, 9);
	lua_pushboolean(L, r->ok);
	lua_setfield(L, -2, "ok");
	lua_pushinteger(L, r->code);
	lua_setfield(L, -2, "code");
	lua_pushboolean(L, r->timed_out);
	lua_setfield(L, -2, "timed_out");
	lua_pushlstring(L, r->out ? r->out : "", r->out ? r->out_len : 0);
	lua_setfield(L, -2, "output");
	lua_pushboolean(L, r->out_cut);
	lua_setfield(L, -2, "output_cut");
	lua_pushstring(L, r->tail ? r->tail : "");
	lua_setfield(L, -2, "tail");
	lua_pushstring(L, raw);
	lua_setfield(L, -2, "raw");
	lua_pushnumber(L, r->duration_s);
	lua_setfield(L, -2, "duration_s");
	if (dry) {
		lua_pushboolean(L, 1);
		lua_setfield(L, -2, "dry_run");
	}
}

#define BOX_MT "ff.pgbackrest.box"

/* A result held while it is copied into Lua: freed by __gc if a push
 * raises (out of memory). */
static int box_gc(lua_State *L)
{
	ff_pgbr_result *r = ff_handle_check(L, 1, BOX_MT);
	ff_pgbr_result_free(r);
	return 0;
}

/* Run args for target t: stderr into raw/<log_name>, the result table
 * pushed. MAY_LJMP, with nothing of ours alive across a raise: the box
 * holding the result is pushed before the run. */
static int run(lua_State *L, const ff_target *t, const char *const *args, const char *log_name,
	       double timeout_s)
{
	ff_ctx *ctx = ff_ctx_of(L);
	char raw[256];
	ff_err e = {0};
	int fd;
	ff_pgbr_result *r = ff_handle_new(L, BOX_MT, sizeof(*r), 0);
	if (ff_evidence_raw_open(&ctx->ev, &fd, raw, log_name, &e) < 0)
		return ff_raise(L, &e);
	ff_pgbr_opts o = { .config = t->pgbr_config, .stanza = t->pgbr_stanza,
			   .os_user = ctx->cfg->pg_os_user, .log_fd = fd, .timeout_s = timeout_s,
			   .cancel = &ctx->cancel };
	int rc = ff_pgbr_run(r, &o, args, &e);
	close(fd);
	if (rc < 0)
		return ff_fail(L, &e);
	push_result(L, r, raw, 0);
	ff_pgbr_result_free(r);
	return 1;
}

/* A stand-in's answer: ok, nothing run. */
static int dry_answer(lua_State *L, const char *output)
{
	ff_pgbr_result r = { .ok = 1, .out = (char *)output, .out_len = strlen(output) };
	push_result(L, &r, "(planned)", 1);
	return 1;
}

/* ff.pgbackrest.check(target) -> result | nil, message, code
 * pgbackrest check: the stanza's configuration, and that the server's WAL
 * reaches the repository (it switches a WAL segment on the server: a
 * write, planned in a rehearsal). */
static int pgbr_check(lua_State *L)
{
	const ff_target *t = pgbr_target(L, 1);
	const char *args[] = { "check", NULL };
	return run(L, t, args, "pgbackrest-check.log", 600);
}

static int dry_pgbr_check(lua_State *L)
{
	(void)pgbr_target(L, 1);
	return dry_answer(L, "");
}

/* The type argument of backup: full, diff or incr. */
static const char *backup_type(lua_State *L)
{
	const char *type = luaL_checkstring(L, 2);
	if (!ff_pgbr_valid_type(type))
		luaL_argerror(L, 2, "pgbackrest.backup: type is full, diff or incr");
	return type;
}

/* ff.pgbackrest.backup(target, type) -> result | nil, message, code
 * pgbackrest backup --type=full|diff|incr, no time limit but a stop. */
static int pgbr_backup(lua_State *L)
{
	const ff_target *t = pgbr_target(L, 1);
	char type[32];
	snprintf(type, sizeof(type), "--type=%s", backup_type(L));
	const char *args[] = { "backup", type, NULL };
	return run(L, t, args, "pgbackrest-backup.log", 0);
}

static int dry_pgbr_backup(lua_State *L)
{
	(void)pgbr_target(L, 1);
	(void)backup_type(L);
	return dry_answer(L, "");
}

/* ff.pgbackrest.info(target [, label]) -> result (output: the JSON of
 * pgbackrest info --output=json, for one backup set when label is given)
 * | nil, message, code */
static int pgbr_info(lua_State *L)
{
	const ff_target *t = pgbr_target(L, 1);
	const char *label = luaL_optstring(L, 2, NULL);
	char set[96];
	if (label && (!ff_pgbr_valid_name(label) || strlen(label) > 60))
		luaL_argerror(L, 2, "pgbackrest.info: not a backup label");
	snprintf(set, sizeof(set), "--set=%s", label ? label : "");
	const char *args[] = { "info", "--output=json", label ? set : NULL, NULL };
	return run(L, t, args, "pgbackrest-info.log", 300);
}

void ff_open_pgbackrest(lua_State *L)
{
	static const ff_prim prims[] = {
		{"check", pgbr_check, FF_WRITE, dry_pgbr_check},
		{"backup", pgbr_backup, FF_WRITE, dry_pgbr_backup},
		{"info", pgbr_info, FF_READ, NULL},
		{NULL, NULL, 0, NULL}
	};
	ff_prims_set(L, "pgbackrest", prims);
	ff_handle_class(L, BOX_MT, "pgbackrest.box", NULL, box_gc);
}
