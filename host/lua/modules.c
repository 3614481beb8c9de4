/* modules.c - the module list: one line a module of ff.*. Adding a module
 * is a line here and its opener in its own binding file
 * (docs/architecture.md, "Adding a primitive"). */
#include "lua/modules.h"

#include <lua.h>

/* A module whose opener fills a table: push the table. */
#define TABLE_MODULE(fn)                          \
	static int open_##fn(lua_State *L)        \
	{                                         \
		lua_newtable(L);                  \
		ff_open_##fn(L);                  \
		return 1;                         \
	}
TABLE_MODULE(fs)
TABLE_MODULE(hash)
TABLE_MODULE(log)
TABLE_MODULE(time)
TABLE_MODULE(yaml)
TABLE_MODULE(evidence)
TABLE_MODULE(verify)
TABLE_MODULE(pg)
TABLE_MODULE(plan)
TABLE_MODULE(runbook)
TABLE_MODULE(pgbackrest)

/* ff.exec is a function, the dispatched primitive itself. */
static int open_exec(lua_State *L)
{
	lua_newtable(L);
	ff_open_exec(L);
	lua_getfield(L, -1, "exec");
	lua_remove(L, -2);
	return 1;
}

static int open_paths(lua_State *L)
{
	ff_push_paths(L, ff_ctx_of(L));
	return 1;
}

static int open_config(lua_State *L)
{
	ff_push_config(L, ff_ctx_of(L)->cfg);
	return 1;
}

const ff_module ff_modules[] = {
	{ "fs", open_fs, NULL },
	{ "hash", open_hash, NULL },
	{ "log", open_log, NULL },
	{ "time", open_time, NULL },
	{ "yaml", open_yaml, NULL },
	{ "evidence", open_evidence, NULL },
	{ "verify", open_verify, NULL },
	{ "pg", open_pg, NULL },
	{ "plan", open_plan, NULL },
	{ "runbook", open_runbook, NULL },
	{ "pgbackrest", open_pgbackrest, NULL },
	{ "exec", open_exec, NULL },
	{ "paths", open_paths, ff_paths_lazy },
	{ "config", open_config, NULL },
	{ NULL, NULL, NULL },
};
