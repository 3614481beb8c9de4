/* l_hash.c - ff.hash: sha256 of a file (streamed, constant memory) or of a
 * string. */
#include <fcntl.h>
#include <unistd.h>

#include "core/hash.h"
#include "lua/handle.h"
#include "lua/modules.h"
#include "lua/prim.h"

static int hash_file(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	char hex[FF_SHA256_HEX];
	uint64_t bytes = 0;
	ff_err e = {0};
	int fd;
	if (ff_jail_open(&fd, &ff_ctx_of(L)->jail, path, O_RDONLY, 0, &e) < 0) {
		if (e.code == FF_ESANDBOX)
			return ff_raise(L, &e);
		return ff_fail(L, &e);
	}
	int rc = ff_sha256_fd(hex, &bytes, fd, &e);
	close(fd);
	if (rc < 0)
		return ff_fail(L, &e);
	lua_pushstring(L, hex);
	lua_pushinteger(L, (lua_Integer)bytes);
	return 2;
}

static int hash_string(lua_State *L)
{
	size_t len;
	const char *s = luaL_checklstring(L, 1, &len);
	char hex[FF_SHA256_HEX];
	ff_sha256_hex(hex, s, len);
	lua_pushstring(L, hex);
	return 1;
}

void ff_open_hash(lua_State *L)
{
	static const ff_prim prims[] = {
		{"file", hash_file, FF_READ, NULL},
		{"string", hash_string, FF_READ, NULL},
		{NULL, NULL, 0, NULL}
	};
	ff_prims_set(L, "hash", prims);
}
