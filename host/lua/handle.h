/* handle.h - the one way a binding builds what a runbook holds (a
 * connection, a lock, a job) and the one way it answers an operational
 * failure.
 *
 * A handle is a full userdata created closed (zeroed) with its metatable
 * set before the resource it stands for is acquired, so a Lua error at any
 * later point leaves nothing to leak: __gc frees whatever was acquired
 * (liolib.c's newprefile is the model). Its metatable is hidden from the
 * runbook (__metatable = false): a runbook can neither read nor replace
 * __gc, __close or __index. */
#ifndef FF_HANDLE_H
#define FF_HANDLE_H

#include <lua.h>
#include <stddef.h>

#include "core/err.h"
#include "lua/prim.h"

/* Register the metatable named mt: methods (NULL-name terminated, may be
 * NULL) dispatched as primitives, module naming them in events
 * ("pg.conn"); close serves as __gc and __close and must be idempotent.
 * Leaves the stack as it was. */
void ff_handle_class(lua_State *L, const char *mt, const char *module, const ff_prim *methods,
		     lua_CFunction close);

/* Push a new handle of class mt: size zeroed bytes, nuv user values.
 * MAY_LJMP (memory), before anything is acquired. */
void *ff_handle_new(lua_State *L, const char *mt, size_t size, int nuv);

/* The handle at idx, or a raised argument error naming the class. */
void *ff_handle_check(lua_State *L, int idx, const char *mt);

/* The `nil, message, code` answer of an operational failure a runbook may
 * branch on (luaL_fileresult's shape); code is the ff_err's class as a
 * word ("fail", "usage", "busy", "sandbox", "internal"). Returns 3.
 * Call it with no C resource held: the pushes may raise. */
int ff_fail(lua_State *L, const ff_err *e);
int ff_failf(lua_State *L, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
