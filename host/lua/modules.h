/* modules.h - the ff.* modules the bindings provide (ff_modules, handed to
 * the VM by the driver) and their openers, one per binding file. */
#ifndef FF_MODULES_H
#define FF_MODULES_H

#include <lua.h>

#include "vm/ctx.h"
#include "vm/vm.h"

/* The list, NULL-name terminated, in the order ff.* is built. */
extern const ff_module ff_modules[];

/* Each fills the table on top of the stack with its primitives. */
void ff_open_fs(lua_State *L);
void ff_open_hash(lua_State *L);
void ff_open_exec(lua_State *L);
void ff_open_log(lua_State *L);
void ff_open_time(lua_State *L);
void ff_open_yaml(lua_State *L);
void ff_open_evidence(lua_State *L);
void ff_open_verify(lua_State *L);
void ff_open_pg(lua_State *L);
void ff_open_plan(lua_State *L);
void ff_open_runbook(lua_State *L);
void ff_open_pgbackrest(lua_State *L);

/* ff.paths and ff.config as plain tables (the VM protects them). */
void ff_push_paths(lua_State *L, const ff_ctx *ctx);
/* Lazy fields of ff.paths: (key) -> value or none. */
int ff_paths_lazy(lua_State *L);
void ff_push_config(lua_State *L, const ff_config *cfg);

#endif
