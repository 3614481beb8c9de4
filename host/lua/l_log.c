/* l_log.c - ff.log (to stderr and the run's log) and ff.time. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "lua/modules.h"
#include "lua/prim.h"
#include "core/signals.h"
#include "vm/vm.h"

static int log_at(lua_State *L, const char *level)
{
	int n = lua_gettop(L);
	luaL_Buffer b;
	luaL_buffinit(L, &b);
	for (int i = 1; i <= n; i++) {
		if (i > 1)
			luaL_addchar(&b, ' ');
		luaL_tolstring(L, i, NULL);
		luaL_addvalue(&b);
	}
	luaL_pushresult(&b);
	ff_logf(ff_ctx_of(L), level, "%s", lua_tostring(L, -1));
	return 0;
}

static int log_info(lua_State *L) { return log_at(L, "info"); }
static int log_warn(lua_State *L) { return log_at(L, "warn"); }
static int log_error(lua_State *L) { return log_at(L, "error"); }

/* ff.log.out(text): the runbook's product (a report) on stdout, except
 * with --json, where stdout holds the one JSON object. */
static int log_out(lua_State *L)
{
	size_t len;
	const char *s = luaL_checklstring(L, 1, &len);
	if (!ff_ctx_of(L)->json) {
		fwrite(s, 1, len, stdout);
		fflush(stdout);
	}
	return 0;
}

void ff_open_log(lua_State *L)
{
	static const luaL_Reg fns[] = {
		{"info", log_info}, {"warn", log_warn}, {"error", log_error}, {"out", log_out},
		{NULL, NULL}
	};
	luaL_setfuncs(L, fns, 0);
}

static int time_now(lua_State *L)
{
	lua_pushnumber(L, ff_time_now());
	return 1;
}

static int time_monotonic(lua_State *L)
{
	lua_pushnumber(L, ff_time_mono());
	return 1;
}

static int time_stamp(lua_State *L)
{
	ff_ctx *ctx = ff_ctx_of(L);
	char out[16];
	double t = luaL_optnumber(L, 1, ff_time_now());
	ff_time_stamp(out, t);
	/* A name made from this run's own time (a backup's, a copy's) differs
	 * between a rehearsal and its pinned run: plans hold it as {stamp}. */
	if ((ctx->pin.out || ctx->pin.pinned) && t >= ctx->started_at - 1 &&
	    !ff_strlist_has_unsorted(&ctx->pin.stamps, out) && ff_strlist_push(&ctx->pin.stamps, out) < 0)
		return luaL_error(L, "out of memory");
	lua_pushstring(L, out);
	return 1;
}

static int time_iso(lua_State *L)
{
	char out[32];
	ff_time_iso(out, luaL_optnumber(L, 1, ff_time_now()));
	lua_pushstring(L, out);
	return 1;
}

/* "YYYYMMDD-HHMMSS" (UTC) to epoch seconds, or nil when malformed. */
static int time_parse_stamp(lua_State *L)
{
	const char *s = luaL_checkstring(L, 1);
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	const char *end = strptime(s, "%Y%m%d-%H%M%S", &tm);
	if (!end || *end || strlen(s) != 15) {
		luaL_pushfail(L);
		return 1;
	}
	lua_pushinteger(L, (lua_Integer)timegm(&tm));
	return 1;
}

/* ff.time.sleep(seconds): wait without burning instructions; a signal to
 * ffrun cuts it short. At most an hour. */
static int time_sleep(lua_State *L)
{
	ff_ctx *ctx = ff_ctx_of(L);
	double s = luaL_checknumber(L, 1);
	luaL_argcheck(L, s >= 0 && s <= 3600, 1, "between 0 and 3600 seconds");
	double end = ff_time_mono() + s;
	while (!ctx->cancel) {
		double left = end - ff_time_mono();
		if (left <= 0)
			break;
		struct timespec ts = { 0, (long)((left < 0.1 ? left : 0.1) * 1e9) };
		nanosleep(&ts, NULL);
	}
	if (ctx->cancel)
		return luaL_error(L, "interrupted by %s", ff_signal_name(ctx->signal_seen));
	return 0;
}

void ff_open_time(lua_State *L)
{
	static const luaL_Reg fns[] = {
		{"now", time_now}, {"monotonic", time_monotonic}, {"stamp", time_stamp},
		{"iso", time_iso}, {"parse_stamp", time_parse_stamp}, {"sleep", time_sleep},
		{NULL, NULL}
	};
	luaL_setfuncs(L, fns, 0);
}
