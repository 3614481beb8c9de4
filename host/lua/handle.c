/* handle.c - handle metatables and the failure answer (handle.h). */
#include "lua/handle.h"

#include <lauxlib.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void ff_handle_class(lua_State *L, const char *mt, const char *module, const ff_prim *methods,
		     lua_CFunction close)
{
	luaL_newmetatable(L, mt);
	lua_newtable(L);
	if (methods)
		ff_prims_set(L, module, methods);
	lua_setfield(L, -2, "__index");
	lua_pushcfunction(L, close);
	lua_setfield(L, -2, "__gc");
	lua_pushcfunction(L, close);
	lua_setfield(L, -2, "__close");
	lua_pushboolean(L, 0);
	lua_setfield(L, -2, "__metatable");
	lua_pop(L, 1);
}

void *ff_handle_new(lua_State *L, const char *mt, size_t size, int nuv)
{
	void *h = lua_newuserdatauv(L, size, nuv);
	memset(h, 0, size);
	luaL_setmetatable(L, mt);
	return h;
}

void *ff_handle_check(lua_State *L, int idx, const char *mt)
{
	return luaL_checkudata(L, idx, mt);
}

static const char *code_word(int code)
{
	switch (code) {
	case FF_EUSAGE: return "usage";
	case FF_ESANDBOX: return "sandbox";
	case FF_EBUSY: return "busy";
	case FF_EINTERNAL: return "internal";
	default: return "fail";
	}
}

int ff_fail(lua_State *L, const ff_err *e)
{
	luaL_pushfail(L);
	lua_pushstring(L, e->msg);
	lua_pushstring(L, code_word(e->code));
	return 3;
}

int ff_failf(lua_State *L, const char *fmt, ...)
{
	ff_err e = { .code = FF_EFAIL };
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e.msg, sizeof(e.msg), fmt, ap);
	va_end(ap);
	return ff_fail(L, &e);
}
