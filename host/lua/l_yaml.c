/* l_yaml.c - ff.yaml: load YAML text into tables; redact a file's text into
 * a safe snapshot. */
#include <stdlib.h>
#include <string.h>

#include "lua/handle.h"
#include "lua/modules.h"
#include "lua/prim.h"
#include "core/redact.h"
#include "core/yaml.h"

/* Plain scalars that look like numbers, booleans or null become those; a
 * quoted scalar always stays a string. */
static void push_scalar(lua_State *L, const ff_yaml_node *n)
{
	if (n->plain) {
		char *end;
		if (!strcmp(n->value, "true")) { lua_pushboolean(L, 1); return; }
		if (!strcmp(n->value, "false")) { lua_pushboolean(L, 0); return; }
		if (!strcmp(n->value, "null") || !strcmp(n->value, "~") || !n->len) {
			lua_pushnil(L);
			return;
		}
		long long i = strtoll(n->value, &end, 10);
		if (*n->value && !*end) { lua_pushinteger(L, (lua_Integer)i); return; }
		double d = strtod(n->value, &end);
		if (*n->value && !*end) { lua_pushnumber(L, d); return; }
	}
	lua_pushlstring(L, n->value, n->len);
}

static void push_node(lua_State *L, const ff_yaml_node *n, int depth)
{
	luaL_checkstack(L, 4, "yaml nesting");
	if (depth > 64)
		luaL_error(L, "yaml: nesting deeper than 64");
	switch (n->kind) {
	case FF_YAML_SCALAR:
		push_scalar(L, n);
		break;
	case FF_YAML_SEQ:
		lua_createtable(L, (int)n->n, 0);
		for (size_t i = 0; i < n->n; i++) {
			push_node(L, n->items[i], depth + 1);
			lua_rawseti(L, -2, (lua_Integer)i + 1);
		}
		break;
	case FF_YAML_MAP:
		lua_createtable(L, 0, (int)n->n);
		for (size_t i = 0; i < n->n; i++) {
			lua_pushlstring(L, n->items[2 * i]->value, n->items[2 * i]->len);
			push_node(L, n->items[2 * i + 1], depth + 1);
			lua_rawset(L, -3);
		}
		break;
	}
}

/* The parsed tree and the redacted text are C memory; each lives in a
 * handle whose __gc frees it, made before the core allocates, so an error
 * while pushing (out of memory) cannot leak it. */
#define TREE_MT "ff.yaml.tree"
#define TEXT_MT "ff.yaml.text"

static int tree_gc(lua_State *L)
{
	ff_yaml_node **box = ff_handle_check(L, 1, TREE_MT);
	ff_yaml_free(*box);
	*box = NULL;
	return 0;
}

static int text_gc(lua_State *L)
{
	char **box = ff_handle_check(L, 1, TEXT_MT);
	free(*box);
	*box = NULL;
	return 0;
}

static int yaml_load(lua_State *L)
{
	size_t len;
	const char *text = luaL_checklstring(L, 1, &len);
	const char *name = luaL_optstring(L, 2, "(yaml)");
	ff_err e = {0};

	ff_yaml_node **box = ff_handle_new(L, TREE_MT, sizeof(*box), 0);
	if (ff_yaml_parse(box, text, len, name, &e) < 0)
		return ff_fail(L, &e);
	if (!*box) {
		lua_pushnil(L);
		return 1;
	}
	push_node(L, *box, 0);
	ff_yaml_free(*box);
	*box = NULL;
	return 1;
}

static int yaml_redact(lua_State *L)
{
	size_t len, outlen;
	const char *text = luaL_checklstring(L, 1, &len);
	const char *name = luaL_checkstring(L, 2);
	int found = 0;
	ff_err e = {0};

	char **out = ff_handle_new(L, TEXT_MT, sizeof(*out), 0);
	if (ff_redact(out, &outlen, text, len, name, FF_REDACT_AUTO, &found, &e) < 0)
		return ff_fail(L, &e);
	lua_pushlstring(L, *out, outlen);
	free(*out);
	*out = NULL;
	lua_pushinteger(L, found);
	return 2;
}

void ff_open_yaml(lua_State *L)
{
	static const ff_prim prims[] = {
		{"load", yaml_load, FF_READ, NULL},
		{"redact", yaml_redact, FF_READ, NULL},
		{NULL, NULL, 0, NULL}
	};
	ff_prims_set(L, "yaml", prims);
	ff_handle_class(L, TREE_MT, "yaml", NULL, tree_gc);
	ff_handle_class(L, TEXT_MT, "yaml", NULL, text_gc);
}
