/* l_config.c - ff.paths and ff.config: what runbooks may know of the
 * configuration, as plain tables the sandbox then protects. */
#include <string.h>
#include <unistd.h>

#include "lua/modules.h"
#include "lua/prim.h"
#include "vm/vm.h"

static void set_str(lua_State *L, const char *k, const char *v)
{
	if (!v)
		return;
	lua_pushstring(L, v);
	lua_setfield(L, -2, k);
}

void ff_push_paths(lua_State *L, const ff_ctx *ctx)
{
	lua_createtable(L, 0, 7);
	set_str(L, "backups", ctx->backups_dir ? ctx->backups_dir : ctx->cfg->backups_dir);
	set_str(L, "evidence", ctx->evidence_dir ? ctx->evidence_dir : ctx->cfg->evidence_dir);
	set_str(L, "config_dir", ctx->cfg->dir);
	set_str(L, "runbook", ctx->runbook_path);
	set_str(L, "runbook_dir", ctx->runbook_dir);
	set_str(L, "stdlib", ctx->stdlib_dir);
}

/* Fields of ff.paths made when first read: "tmp", the private folder, so a
 * run that never uses one creates and removes nothing. */
int ff_paths_lazy(lua_State *L)
{
	ff_err e = {0};
	const char *k = lua_tostring(L, 1);
	if (!k || strcmp(k, "tmp") != 0)
		return 0;
	const char *dir = ff_run_tmp(ff_ctx_of(L), &e);
	if (!dir)
		return luaL_error(L, "ff.paths.tmp: %s", e.msg);
	lua_pushstring(L, dir);
	return 1;
}

static void push_strings(lua_State *L, char **v, size_t n)
{
	lua_createtable(L, (int)n, 0);
	for (size_t i = 0; i < n; i++) {
		lua_pushstring(L, v[i]);
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
}

static void push_argv_list(lua_State *L, const ff_argv_list *l)
{
	lua_createtable(L, (int)l->n, 0);
	for (size_t i = 0; i < l->n; i++) {
		size_t n = 0;
		while (l->argv[i][n])
			n++;
		push_strings(L, l->argv[i], n);
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
}

void ff_push_config(lua_State *L, const ff_config *c)
{
	lua_createtable(L, 0, 12);
	set_str(L, "file", c->file);

	lua_createtable(L, 0, (int)c->ntargets);
	for (size_t i = 0; i < c->ntargets; i++) {
		lua_createtable(L, 0, 3);
		set_str(L, "name", c->targets[i].name);
		set_str(L, "conninfo", c->targets[i].conninfo);
		lua_pushboolean(L, c->targets[i].ephemeral);
		lua_setfield(L, -2, "ephemeral");
		set_str(L, "engine", c->targets[i].engine ? c->targets[i].engine : "pg_dump");
		if (c->targets[i].pgbr_stanza) {
			lua_createtable(L, 0, 2);
			set_str(L, "stanza", c->targets[i].pgbr_stanza);
			set_str(L, "config", c->targets[i].pgbr_config);
			lua_setfield(L, -2, "pgbackrest");
		}
		lua_setfield(L, -2, c->targets[i].name);
	}
	lua_setfield(L, -2, "targets");

	lua_createtable(L, 0, 2);
	set_str(L, "bindir", c->pg_bindir);
	set_str(L, "os_user", c->pg_os_user);
	lua_setfield(L, -2, "postgres");

	lua_createtable(L, 0, 3);
	set_str(L, "globals", c->backup_globals);
	set_str(L, "verify", c->backup_verify);
	lua_pushinteger(L, c->backup_jobs);
	lua_setfield(L, -2, "jobs");
	/* One argv, or {} when none. */
	if (c->app_state.n) {
		push_argv_list(L, &c->app_state);
		lua_rawgeti(L, -1, 1);
		lua_remove(L, -2);
	} else {
		lua_newtable(L);
	}
	lua_setfield(L, -2, "app_state");
	lua_setfield(L, -2, "backup");

	lua_createtable(L, 0, 2);
	lua_pushinteger(L, c->keep_last);
	lua_setfield(L, -2, "keep_last");
	lua_pushinteger(L, c->keep_days);
	lua_setfield(L, -2, "keep_days");
	lua_pushinteger(L, c->evidence_days);
	lua_setfield(L, -2, "evidence_days");
	lua_setfield(L, -2, "retention");

	lua_createtable(L, 0, 2);
	lua_pushnumber(L, c->rpo_hours);
	lua_setfield(L, -2, "rpo_hours");
	lua_pushnumber(L, c->rto_minutes);
	lua_setfield(L, -2, "rto_minutes");
	lua_setfield(L, -2, "objectives");

	lua_createtable(L, 0, 1);
	lua_pushboolean(L, c->drill_amcheck);
	lua_setfield(L, -2, "amcheck");
	lua_setfield(L, -2, "drill");

	/* Files named in snapshots that do not exist cannot be jail roots;
	 * the runbook learns of them here and warns, instead of tripping the
	 * jail by reading them. */
	lua_newtable(L);
	lua_newtable(L);
	for (size_t i = 0, np = 0, nm = 0; i < c->nsnapshots; i++) {
		lua_pushstring(L, c->snapshots[i]);
		if (access(c->snapshots[i], R_OK) == 0)
			lua_rawseti(L, -3, (lua_Integer)++np);
		else
			lua_rawseti(L, -2, (lua_Integer)++nm);
	}
	lua_setfield(L, -3, "snapshots_missing");
	lua_setfield(L, -2, "snapshots");

	lua_createtable(L, (int)c->nsmoke, 0);
	for (size_t i = 0; i < c->nsmoke; i++) {
		lua_createtable(L, 0, 2);
		set_str(L, "name", c->smoke[i].name);
		set_str(L, "sql", c->smoke[i].sql);
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	lua_setfield(L, -2, "smoke");

	lua_createtable(L, 0, 2);
	push_argv_list(L, &c->services_up);
	lua_setfield(L, -2, "up");
	push_argv_list(L, &c->services_check);
	lua_setfield(L, -2, "check");
	lua_createtable(L, 0, 3);
	push_argv_list(L, &c->drill_up);
	lua_setfield(L, -2, "up");
	push_argv_list(L, &c->drill_check);
	lua_setfield(L, -2, "check");
	push_argv_list(L, &c->drill_down);
	lua_setfield(L, -2, "down");
	lua_setfield(L, -2, "drill");
	lua_setfield(L, -2, "services");

	lua_createtable(L, 0, 1);
	push_strings(L, c->restore_allow_errors, c->nrestore_allow_errors);
	lua_setfield(L, -2, "allow_errors");
	lua_setfield(L, -2, "restore");

	lua_createtable(L, 0, 3);
	lua_pushinteger(L, (lua_Integer)c->memory_mb);
	lua_setfield(L, -2, "memory_mb");
	lua_pushnumber(L, c->seconds);
	lua_setfield(L, -2, "seconds");
	lua_setfield(L, -2, "limits");
}
