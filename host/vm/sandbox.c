/* sandbox.c - the Lua state a runbook runs in.
 *
 * The real globals table *is* the sandbox: `load` without an environment
 * would otherwise see whatever the state's globals hold. Only base, string,
 * table, math, utf8 and coroutine are opened, never io/os/package/debug
 * (removing them from _G would not be enough: the registry keeps them). */
#include "vm/vm.h"

#include <errno.h>
#include <fcntl.h>
#include <lauxlib.h>
#include <lualib.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/hash.h"
#include "core/signals.h"
#include "lua-cjson.h"

#define HOOK_EVERY 1000 /* instructions between two looks at the limits */

static const char PROTECTED[] = "ff.protected"; /* registry: proxy -> true */
static const char LOADED[] = "ff.loaded";       /* registry: require cache */

/* --- limits ------------------------------------------------------------- */

void ff_vm_set_limit(ff_ctx *ctx, int kind)
{
	int none = FF_LIMIT_NONE;
	atomic_compare_exchange_strong(&ctx->limit, &none, kind);
}

void ff_vm_limit_text(const ff_ctx *ctx, char *buf, size_t cap)
{
	switch (atomic_load(&((ff_ctx *)ctx)->limit)) {
	case FF_LIMIT_MEMORY:
		snprintf(buf, cap, "memory limit of %zu MiB exceeded (limits.memory_mb)",
			 ctx->mem_cap >> 20);
		break;
	case FF_LIMIT_INSTRUCTIONS:
		snprintf(buf, cap, "instruction limit of %lld exceeded (limits.instructions)",
			 ctx->instr_cap);
		break;
	case FF_LIMIT_WALL:
		snprintf(buf, cap, "wall-clock limit of %g s exceeded (limits.seconds)",
			 ctx->cfg->seconds);
		break;
	case FF_LIMIT_VIOLATION:
		snprintf(buf, cap, "sandbox violation: %s", ctx->limit_msg);
		break;
	default:
		if (cap)
			buf[0] = '\0';
	}
}

/* The allocator refuses past the cap and returns NULL, as Lua expects; the
 * limit turns sticky so the hook ends the run even if a pcall caught the
 * memory error. */
static void *vm_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
	ff_ctx *ctx = ud;
	size_t old = ptr ? osize : 0;

	if (nsize == 0) {
		free(ptr);
		ctx->mem_used -= old;
		return NULL;
	}
	if (nsize > old && ctx->mem_cap && ctx->mem_used - old + nsize > ctx->mem_cap) {
		ff_vm_set_limit(ctx, FF_LIMIT_MEMORY);
		return NULL;
	}
	void *p = realloc(ptr, nsize);
	if (p)
		ctx->mem_used = ctx->mem_used - old + nsize;
	return p;
}

/* Once a limit is hit the hook re-arms itself to fire on every instruction
 * and raises each time: a pcall may catch one error, but the very next
 * instruction after it raises again, so the run cannot go on (the trick
 * Redis uses for its script kill). */
static void vm_hook(lua_State *L, lua_Debug *ar)
{
	ff_ctx *ctx = ff_ctx_of(L);
	char msg[300];
	(void)ar;

	if (atomic_load(&ctx->limit) == FF_LIMIT_NONE) {
		ctx->instr_used += HOOK_EVERY;
		if (ctx->instr_cap && ctx->instr_used > ctx->instr_cap)
			ff_vm_set_limit(ctx, FF_LIMIT_INSTRUCTIONS);
		else if (ctx->deadline_mono && ff_time_mono() > ctx->deadline_mono)
			ff_vm_set_limit(ctx, FF_LIMIT_WALL);
	}
	if (atomic_load(&ctx->limit) != FF_LIMIT_NONE) {
		lua_sethook(L, vm_hook, LUA_MASKCOUNT, 1);
		ff_vm_limit_text(ctx, msg, sizeof(msg));
		luaL_error(L, "%s", msg);
	}
	int sig = atomic_exchange(&ctx->interrupt, 0);
	if (sig)
		luaL_error(L, "interrupted by %s", ff_signal_name(sig));
}

int ff_violation(lua_State *L, const char *fmt, ...)
{
	ff_ctx *ctx = ff_ctx_of(L);
	va_list ap;
	if (atomic_load(&ctx->limit) == FF_LIMIT_NONE) {
		va_start(ap, fmt);
		vsnprintf(ctx->limit_msg, sizeof(ctx->limit_msg), fmt, ap);
		va_end(ap);
		ff_vm_set_limit(ctx, FF_LIMIT_VIOLATION);
	}
	lua_sethook(L, vm_hook, LUA_MASKCOUNT, 1);
	return luaL_error(L, "sandbox violation: %s", ctx->limit_msg);
}

/* --- read-only proxies ---------------------------------------------------- */

/* __index of a proxy: upvalue 1 the real table, upvalue 2 a set of names
 * that are known to be withheld (so asking for io.open says so clearly), or
 * a function giving fields that are made when first asked for. */
static int proxy_index(lua_State *L)
{
	lua_pushvalue(L, 2);
	if (lua_rawget(L, lua_upvalueindex(1)) != LUA_TNIL)
		return 1;
	if (lua_type(L, lua_upvalueindex(2)) == LUA_TFUNCTION) {
		lua_settop(L, 2);
		lua_pushvalue(L, lua_upvalueindex(2));
		lua_pushvalue(L, 2);
		lua_call(L, 1, 1);
		return 1;
	}
	if (lua_type(L, 2) == LUA_TSTRING && lua_istable(L, lua_upvalueindex(2))) {
		lua_pushvalue(L, 2);
		if (lua_rawget(L, lua_upvalueindex(2)) != LUA_TNIL)
			return ff_violation(L, "'%s' is not available in the sandbox",
					    lua_tostring(L, 2));
	}
	return 1;
}

static int proxy_newindex(lua_State *L)
{
	const char *k = lua_type(L, 2) == LUA_TSTRING ? lua_tostring(L, 2) : "?";
	return ff_violation(L, "attempt to modify a protected table (field '%s')", k);
}

static int proxy_next(lua_State *L)
{
	lua_settop(L, 2);
	if (lua_next(L, 1))
		return 2;
	lua_pushnil(L);
	return 1;
}

static int proxy_pairs(lua_State *L)
{
	lua_pushcfunction(L, proxy_next);
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_pushnil(L);
	return 3;
}

static int proxy_len(lua_State *L)
{
	lua_pushinteger(L, (lua_Integer)lua_rawlen(L, lua_upvalueindex(1)));
	return 1;
}

/* Proxy for the table at idx; withheld (or 0) names forbidden fields. */
static void make_proxy(lua_State *L, int idx, int withheld)
{
	idx = lua_absindex(L, idx);
	withheld = withheld ? lua_absindex(L, withheld) : 0;
	lua_newtable(L);               /* proxy */
	lua_createtable(L, 0, 6);      /* its metatable */
	lua_pushvalue(L, idx);
	if (withheld)
		lua_pushvalue(L, withheld);
	else
		lua_pushnil(L);
	lua_pushcclosure(L, proxy_index, 2);
	lua_setfield(L, -2, "__index");
	lua_pushcfunction(L, proxy_newindex);
	lua_setfield(L, -2, "__newindex");
	lua_pushvalue(L, idx);
	lua_pushcclosure(L, proxy_pairs, 1);
	lua_setfield(L, -2, "__pairs");
	lua_pushvalue(L, idx);
	lua_pushcclosure(L, proxy_len, 1);
	lua_setfield(L, -2, "__len");
	lua_pushboolean(L, 0);
	lua_setfield(L, -2, "__metatable");
	lua_setmetatable(L, -2);
	lua_getfield(L, LUA_REGISTRYINDEX, PROTECTED);
	lua_pushvalue(L, -2);
	lua_pushboolean(L, 1);
	lua_rawset(L, -3);
	lua_pop(L, 1);
}

void ff_vm_protect(lua_State *L, int idx)
{
	idx = lua_absindex(L, idx);
	luaL_checkstack(L, 8, "protect");
	lua_pushnil(L);
	while (lua_next(L, idx)) {
		if (lua_type(L, -1) == LUA_TTABLE && !lua_getmetatable(L, -1)) {
			ff_vm_protect(L, -1);   /* proxy of the value */
			lua_pushvalue(L, -3);   /* key */
			lua_insert(L, -2);
			lua_rawset(L, idx);     /* replacing a value keeps next valid */
		} else if (lua_type(L, -1) == LUA_TTABLE) {
			lua_pop(L, 1);          /* its metatable: already a proxy */
		}
		lua_pop(L, 1);
	}
	make_proxy(L, idx, 0);
}

/* --- base functions with sandbox rules ---------------------------------- */

static int is_protected(lua_State *L, int idx)
{
	lua_getfield(L, LUA_REGISTRYINDEX, PROTECTED);
	lua_pushvalue(L, idx);
	int p = lua_rawget(L, -2) != LUA_TNIL;
	lua_pop(L, 2);
	return p;
}

static int sb_rawset(lua_State *L)
{
	luaL_checktype(L, 1, LUA_TTABLE);
	luaL_checkany(L, 2);
	luaL_checkany(L, 3);
	if (is_protected(L, 1))
		return ff_violation(L, "rawset on a protected table");
	lua_settop(L, 3);
	lua_rawset(L, 1);
	return 1;
}

/* Finalizers run with hooks off (also inside lua_close): a looping __gc
 * would hang the host where no limit can reach it, so none are allowed. */
static int sb_setmetatable(lua_State *L)
{
	int t = lua_type(L, 2);
	luaL_checktype(L, 1, LUA_TTABLE);
	luaL_argexpected(L, t == LUA_TNIL || t == LUA_TTABLE, 2, "nil or table");
	if (t == LUA_TTABLE) {
		lua_pushliteral(L, "__gc");
		if (lua_rawget(L, 2) != LUA_TNIL)
			return ff_violation(L, "metatables with __gc are not allowed");
		lua_pop(L, 1);
	}
	if (luaL_getmetafield(L, 1, "__metatable") != LUA_TNIL)
		return luaL_error(L, "cannot change a protected metatable");
	lua_settop(L, 2);
	lua_setmetatable(L, 1);
	return 1;
}

static int sb_collectgarbage(lua_State *L)
{
	const char *opt = luaL_optstring(L, 1, "collect");
	if (strcmp(opt, "count") != 0)
		return ff_violation(L, "collectgarbage(\"%s\") is not allowed", opt);
	int k = lua_gc(L, LUA_GCCOUNT, 0), b = lua_gc(L, LUA_GCCOUNTB, 0);
	lua_pushnumber(L, (lua_Number)k + ((lua_Number)b / 1024));
	return 1;
}

/* load(chunk, chunkname, mode, env): text only, and env is required so a
 * loaded chunk never silently shares the runbook's globals. */
static int sb_load(lua_State *L)
{
	size_t len;
	const char *s = lua_tolstring(L, 1, &len);
	const char *name = luaL_optstring(L, 2, "=(load)");
	if (!s || lua_type(L, 1) != LUA_TSTRING)
		return ff_violation(L, "load takes source text only (no reader functions)");
	if (len && s[0] == LUA_SIGNATURE[0])
		return ff_violation(L, "binary chunks are not allowed");
	if (lua_type(L, 4) != LUA_TTABLE)
		return ff_violation(L, "load needs an explicit environment table (4th argument)");
	if (luaL_loadbufferx(L, s, len, name, "t") != LUA_OK) {
		luaL_pushfail(L);
		lua_insert(L, -2);
		return 2;
	}
	lua_pushvalue(L, 4);
	lua_setupvalue(L, -2, 1);
	return 1;
}

static int sb_print(lua_State *L)
{
	luaL_Buffer b;
	int n = lua_gettop(L);
	luaL_buffinit(L, &b);
	for (int i = 1; i <= n; i++) {
		if (i > 1)
			luaL_addchar(&b, '\t');
		luaL_tolstring(L, i, NULL);
		luaL_addvalue(&b);
	}
	luaL_pushresult(&b);
	ff_logf(ff_ctx_of(L), "info", "%s", lua_tostring(L, -1));
	return 0;
}

static int read_source(lua_State *L, ff_ctx *ctx, const char *path)
{
	int fd;
	ff_err e = {0};
	struct stat st;
	if (ff_jail_open(&fd, &ctx->jail, path, O_RDONLY, 0, &e) < 0)
		return 0;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > (16 << 20)) {
		close(fd);
		return 0;
	}
	luaL_Buffer b;
	char *p = luaL_buffinitsize(L, &b, (size_t)st.st_size);
	size_t got = 0;
	while (got < (size_t)st.st_size) {
		ssize_t r = read(fd, p + got, (size_t)st.st_size - got);
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	luaL_pushresultsize(&b, got);
	return 1;
}

/* Each module a run requires, as "sha256 path": a plan records them, and
 * a pinned run may load only the very modules its plan was made with.
 * -1 when pinned and this one is not among them. */
static int note_module(ff_ctx *ctx, const char *path, const char *src, size_t len)
{
	char hex[FF_SHA256_HEX], entry[4200];
	if (!ctx->pin.out && !ctx->pin.pinned)
		return 0;
	ff_sha256_hex(hex, src, len);
	snprintf(entry, sizeof(entry), "%s %s", hex, path);
	if (ctx->pin.pinned && !ff_strlist_has_unsorted(&ctx->pin.modules, entry))
		return -1;
	if (!ctx->pin.pinned && !ff_strlist_has_unsorted(&ctx->pin.modules, entry))
		ff_strlist_push(&ctx->pin.modules, entry);
	return 0;
}

/* require: a module name of words and dots, looked up in the runbook's own
 * folder, then in stdlib/; loaded as text into the sandbox globals. */
static int sb_require(lua_State *L)
{
	ff_ctx *ctx = ff_ctx_of(L);
	const char *name = luaL_checkstring(L, 1);
	char rel[256], path[4096];

	lua_settop(L, 1);
	lua_getfield(L, LUA_REGISTRYINDEX, LOADED);
	if (lua_getfield(L, 2, name) != LUA_TNIL) {
		if (lua_type(L, -1) == LUA_TLIGHTUSERDATA)
			return luaL_error(L, "require '%s': circular require", name);
		return 1;
	}
	lua_pop(L, 1);
	size_t n = strlen(name);
	if (n == 0 || n >= sizeof(rel) - 5 || strspn(name, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.") != n || name[0] == '.' ||
	    strstr(name, ".."))
		return ff_violation(L, "require '%s': not a module name", name);
	for (size_t i = 0; i <= n; i++)
		rel[i] = name[i] == '.' ? '/' : name[i];
	strcat(rel, ".lua");

	const char *dirs[2] = { ctx->runbook_dir, ctx->stdlib_dir };
	int found = 0;
	for (int i = 0; i < 2 && !found; i++) {
		if (!dirs[i])
			continue;
		snprintf(path, sizeof(path), "%s/%s", dirs[i], rel);
		found = read_source(L, ctx, path);
	}
	if (!found)
		return luaL_error(L, "module '%s' not found in %s or %s", name,
				  ctx->runbook_dir, ctx->stdlib_dir);
	size_t len;
	const char *src = lua_tolstring(L, -1, &len);
	char chunk[4200];
	if (note_module(ctx, path, src, len) < 0)
		return luaL_error(L, "require '%s': %s differs from the plan this run is pinned to", name, path);
	snprintf(chunk, sizeof(chunk), "@%s", path);
	if (luaL_loadbufferx(L, src, len, chunk, "t") != LUA_OK)
		return lua_error(L);
	lua_pushlightuserdata(L, (void *)LOADED);  /* loading marker */
	lua_setfield(L, 2, name);
	lua_pushstring(L, name);
	lua_call(L, 1, 1);
	if (lua_isnil(L, -1)) {
		lua_pop(L, 1);
		lua_pushboolean(L, 1);
	}
	lua_pushvalue(L, -1);
	lua_setfield(L, 2, name);
	return 1;
}

/* --- building the environment ------------------------------------------- */

static const char *const allowed_base[] = {
	"assert", "error", "ipairs", "next", "pairs", "pcall", "select",
	"tonumber", "tostring", "type", "xpcall", "rawequal", "rawlen",
	"rawget", "getmetatable", "_G", "_VERSION", NULL
};

static const char *const withheld_globals[] = {
	"io", "package", "debug", "dofile", "loadfile", "loadstring", "module",
	"warn", "jit", "ffi", "unpack", "setfenv", "getfenv", NULL
};

static const char *const withheld_os[] = {
	"execute", "exit", "getenv", "remove", "rename", "tmpname", "setlocale",
	"difftime", NULL
};

static void push_set(lua_State *L, const char *const *names)
{
	lua_newtable(L);
	for (; *names; names++) {
		lua_pushboolean(L, 1);
		lua_setfield(L, -2, *names);
	}
}

static int in_list(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(s, *list) == 0)
			return 1;
	return 0;
}

/* Open a library without registering it in package.loaded; leaves it on
 * the stack. */
static void open_lib(lua_State *L, lua_CFunction f)
{
	lua_pushcfunction(L, f);
	lua_call(L, 0, 1);
}

static void build_env(lua_State *L, ff_ctx *ctx, const ff_module *mods);

/* ff.usage(message): fail the run as a usage error (exit 2): for input
 * only the runbook can judge, such as a backup stamp that does not exist. */
static int ff_usage_fn(lua_State *L)
{
	return ff_usage(L, "%s", luaL_checkstring(L, 1));
}

static int global_index(lua_State *L)
{
	if (lua_type(L, 2) == LUA_TSTRING) {
		lua_pushvalue(L, 2);
		if (lua_rawget(L, lua_upvalueindex(1)) != LUA_TNIL)
			return ff_violation(L, "'%s' is not available in the sandbox",
					    lua_tostring(L, 2));
	}
	return 0;
}

static int env_protected(lua_State *L)
{
	ff_ctx *ctx = lua_touserdata(L, 1);
	const ff_module *mods = lua_touserdata(L, 2);
	lua_settop(L, 0);
	build_env(L, ctx, mods);
	return 0;
}

/* The registry's require cache and its set of protected tables. */
static void open_registry(lua_State *L)
{
	lua_newtable(L);
	lua_setfield(L, LUA_REGISTRYINDEX, LOADED);
	lua_newtable(L);
	lua_createtable(L, 0, 1);
	lua_pushliteral(L, "k");
	lua_setfield(L, -2, "__mode");
	lua_setmetatable(L, -2);
	lua_setfield(L, LUA_REGISTRYINDEX, PROTECTED);
}

/* Base functions land in the real globals (at g); keep the allowed ones
 * and put the sandbox's own in place of the rest that runbooks need. */
static void open_base(lua_State *L, int g)
{
	luaL_requiref(L, "_G", luaopen_base, 1);
	lua_pop(L, 1);
	lua_pushnil(L);
	while (lua_next(L, g)) {
		lua_pop(L, 1);
		if (lua_type(L, -1) == LUA_TSTRING && !in_list(lua_tostring(L, -1), allowed_base)) {
			lua_pushvalue(L, -1);
			lua_pushnil(L);
			lua_rawset(L, g);
		}
	}
	static const luaL_Reg sb[] = {
		{"rawset", sb_rawset}, {"setmetatable", sb_setmetatable},
		{"collectgarbage", sb_collectgarbage}, {"load", sb_load},
		{"print", sb_print}, {"require", sb_require}, {NULL, NULL}
	};
	luaL_setfuncs(L, sb, 0);
}

/* string, table, math, utf8, coroutine and three functions of os, each a
 * read-only proxy in the globals at g. */
static void open_std(lua_State *L, int g)
{
	/* string: no dump, and the same table serves as the strings'
	 * metatable __index, so it is cut there too. */
	open_lib(L, luaopen_string);
	lua_pushnil(L);
	lua_setfield(L, -2, "dump");
	lua_pushliteral(L, "");
	lua_getmetatable(L, -1);
	lua_pushboolean(L, 0);
	lua_setfield(L, -2, "__metatable");
	lua_pop(L, 2);
	lua_newtable(L);
	lua_pushboolean(L, 1);
	lua_setfield(L, -2, "dump");
	make_proxy(L, -2, -1);
	lua_setfield(L, g, "string");
	lua_pop(L, 2);

	static const struct { const char *name; lua_CFunction open; } libs[] = {
		{"table", luaopen_table}, {"math", luaopen_math},
		{"utf8", luaopen_utf8}, {"coroutine", luaopen_coroutine},
	};
	for (size_t i = 0; i < sizeof(libs) / sizeof(libs[0]); i++) {
		open_lib(L, libs[i].open);
		make_proxy(L, -1, 0);
		lua_setfield(L, g, libs[i].name);
		lua_pop(L, 1);
	}

	/* os: time, clock and date only. */
	open_lib(L, luaopen_os);
	lua_createtable(L, 0, 3);
	for (const char *const *f = (const char *const[]){"time", "clock", "date", NULL}; *f; f++) {
		lua_getfield(L, -2, *f);
		lua_setfield(L, -2, *f);
	}
	push_set(L, withheld_os);
	make_proxy(L, -2, -1);
	lua_setfield(L, g, "os");
	lua_pop(L, 3);
}

/* ff.json: lua-cjson, linked in and opened here, never loaded at run
 * time, with its settings fixed and only encode, decode and null exposed.
 * Its setters (encode_max_depth and the like) and new() are not: a depth
 * of a million sends cjson's recursive encoder and decoder through the C
 * stack (a segmentation fault, no evidence). The defaults (1000 levels)
 * are what runbooks get. */
static void open_json(lua_State *L)
{
	luaL_requiref(L, "cjson", luaopen_cjson, 0);
	lua_createtable(L, 0, 3);
	for (const char *const *f = (const char *const[]){"encode", "decode", "null", NULL}; *f; f++) {
		lua_getfield(L, -2, *f);
		lua_setfield(L, -2, *f);
	}
	lua_remove(L, -2);
}

/* ff: the bindings' modules, lua-cjson, and the run's own fields,
 * protected all the way down; set in the globals at g. */
static void open_ff(lua_State *L, int g, ff_ctx *ctx, const ff_module *mods)
{
	lua_newtable(L);
	int ff = lua_gettop(L);
	for (const ff_module *m = mods; m->name; m++) {
		m->open(L);
		lua_setfield(L, ff, m->name);
	}
	open_json(L);
	lua_setfield(L, ff, "json");

	lua_pushcfunction(L, ff_usage_fn);
	lua_setfield(L, ff, "usage");
	lua_pushboolean(L, ctx->dry_run);
	lua_setfield(L, ff, "dry_run");
	lua_pushstring(L, FF_VERSION);
	lua_setfield(L, ff, "version");
	/* ff.run is filled by the driver once the evidence folder exists; the
	 * proxy reads through to the real table, kept in the registry. */
	lua_newtable(L);
	lua_pushvalue(L, -1);
	lua_setfield(L, LUA_REGISTRYINDEX, "ff.run");
	lua_setfield(L, ff, "run");
	ff_vm_protect(L, ff);
	/* Fields made when first read (ff.paths.tmp): the module proxy's
	 * __index asks its lazy function. */
	for (const ff_module *m = mods; m->name; m++) {
		if (!m->lazy)
			continue;
		lua_getfield(L, ff, m->name);
		lua_getmetatable(L, -1);
		lua_getfield(L, -1, "__index");
		lua_pushcfunction(L, m->lazy);
		lua_setupvalue(L, -2, 2);
		lua_pop(L, 3);
	}
	lua_setfield(L, g, "ff");
}

static void build_env(lua_State *L, ff_ctx *ctx, const ff_module *mods)
{
	open_registry(L);
	lua_pushglobaltable(L);
	int g = lua_gettop(L);
	open_base(L, g);
	open_std(L, g);
	open_ff(L, g, ctx, mods);
	lua_settop(L, g);

	/* Globals: asking for a withheld one is a violation, not a nil. */
	lua_createtable(L, 0, 2);
	push_set(L, withheld_globals);
	lua_pushcclosure(L, global_index, 1);
	lua_setfield(L, -2, "__index");
	lua_pushboolean(L, 0);
	lua_setfield(L, -2, "__metatable");
	lua_setmetatable(L, g);
	lua_pop(L, 1);
}

int ff_vm_new(lua_State **out, ff_ctx *ctx, const ff_module *mods, ff_err *e)
{
	ctx->mem_cap = ctx->cfg->memory_mb << 20;
	ctx->instr_cap = ctx->cfg->instructions;
	lua_State *L = lua_newstate(vm_alloc, ctx);
	if (!L)
		return ff_err_set(e, FF_EINTERNAL, "cannot create the Lua state");
	*(ff_ctx **)lua_getextraspace(L) = ctx;
	ctx->L = L;
	lua_sethook(L, vm_hook, LUA_MASKCOUNT, HOOK_EVERY);
	lua_pushcfunction(L, env_protected);
	lua_pushlightuserdata(L, ctx);
	lua_pushlightuserdata(L, (void *)mods);
	if (lua_pcall(L, 2, 0, 0) != LUA_OK) {
		ff_err_set(e, FF_EINTERNAL, "sandbox setup: %s", lua_tostring(L, -1));
		lua_close(L);
		ctx->L = NULL;
		return FF_EINTERNAL;
	}
	*out = L;
	return 0;
}
