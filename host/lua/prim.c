/* prim.c - the dispatcher every primitive goes through: the event, the
 * effect, and the dry-run plan are decided here and nowhere else. */
#include "lua/prim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/jsonw.h"
#include "core/plan.h"

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void arg_json(lua_State *L, int i, ff_jsonw *w, int depth)
{
	size_t len;
	switch (lua_type(L, i)) {
	case LUA_TSTRING: {
		const char *s = lua_tolstring(L, i, &len);
		/* Paths, names and SQL are worth recording; a file's text is not,
		 * and may hold the very secrets a snapshot is redacting. */
		if (len > 160 || memchr(s, '\n', len)) {
			char what[64];
			snprintf(what, sizeof(what), "(text, %zu bytes)", len);
			ff_jsonw_str(w, what);
		} else {
			ff_jsonw_strn(w, s, len);
		}
		break;
	}
	case LUA_TNUMBER:
		if (lua_isinteger(L, i))
			ff_jsonw_int(w, (long long)lua_tointeger(L, i));
		else
			ff_jsonw_num(w, lua_tonumber(L, i));
		break;
	case LUA_TBOOLEAN:
		ff_jsonw_bool(w, lua_toboolean(L, i));
		break;
	case LUA_TTABLE:
		/* argv arrays are what matters in a plan; options go as {k=v}
		 * with scalar values only. Raw access: no metamethod runs. */
		if (depth > 1) {
			ff_jsonw_str(w, "{…}");
			break;
		}
		/* ff.config's read-only proxies are read through (their
		 * __index is ours, in C); other tables raw, so no runbook
		 * metamethod runs while a call is being recorded. */
		int mt = luaL_getmetafield(L, i, "__metatable");
		int proxy = mt == LUA_TBOOLEAN;
		if (mt != LUA_TNIL)
			lua_pop(L, 1);
		lua_Integer len = proxy ? luaL_len(L, i) : (lua_Integer)lua_rawlen(L, i);
		if (len > 0) {
			ff_jsonw_arr(w);
			for (lua_Integer k = 1; k <= len && k <= 32; k++) {
				if (proxy)
					lua_geti(L, i, k);
				else
					lua_rawgeti(L, i, k);
				arg_json(L, lua_gettop(L), w, depth + 1);
				lua_pop(L, 1);
			}
			ff_jsonw_end(w, ']');
		} else {
			/* Keys sorted: lua_next's order follows a hash seeded per
			 * state, and a plan's line must read the same in the run. */
			const char *keys[16];
			int n = 0;
			lua_pushnil(L);
			while (lua_next(L, i)) {
				lua_pop(L, 1);
				if (lua_type(L, -1) == LUA_TSTRING && n < 16)
					keys[n++] = lua_tostring(L, -1); /* held by the table */
			}
			qsort(keys, (size_t)n, sizeof(keys[0]), cmp_str);
			ff_jsonw_obj(w);
			for (int k = 0; k < n; k++) {
				ff_jsonw_key(w, keys[k]);
				lua_pushstring(L, keys[k]);
				lua_rawget(L, i);
				arg_json(L, lua_gettop(L), w, depth + 1);
				lua_pop(L, 1);
			}
			ff_jsonw_end(w, '}');
		}
		break;
	case LUA_TNIL:
		ff_jsonw_null(w);
		break;
	default:
		ff_jsonw_str(w, luaL_typename(L, i));
	}
}

const char *ff_args_json(lua_State *L, char *buf, size_t cap)
{
	ff_jsonw w;
	ff_jsonw_init(&w);
	ff_jsonw_arr(&w);
	/* A method's self (a connection, a job) says nothing in a plan. */
	int first = lua_type(L, 1) == LUA_TUSERDATA ? 2 : 1;
	for (int i = first; i <= lua_gettop(L) && i <= 8; i++)
		arg_json(L, i, &w, 0);
	ff_jsonw_end(&w, ']');
	snprintf(buf, cap, "%s", w.oom || w.len >= cap ? "[\"(arguments too long)\"]" : w.buf);
	ff_jsonw_free(&w);
	return buf;
}

static void plan_add(ff_ctx *ctx, const char *what, const char *args)
{
	size_t old = ctx->plan_json ? strlen(ctx->plan_json) : 0;
	ff_jsonw w;
	ff_jsonw_init(&w);
	ff_jsonw_obj(&w);
	ff_jsonw_kint(&w, "n", (long long)ctx->nplan + 1);
	ff_jsonw_kstr(&w, "step", ctx->cur_step);
	ff_jsonw_kstr(&w, "call", what);
	ff_jsonw_key(&w, "args");
	ff_jsonw_raw(&w, args);
	ff_jsonw_end(&w, '}');
	char *np = w.oom ? NULL : realloc(ctx->plan_json, old + w.len + 2);
	if (np) {
		if (old)
			np[old++] = ',';
		memcpy(np + old, w.buf, w.len + 1);
		ctx->plan_json = np;
		ctx->nplan++;
		if (!ctx->quiet && !ctx->json)
			fprintf(stdout, "  plan %2zu  [%s] %s %s\n", ctx->nplan,
				ctx->cur_step ? ctx->cur_step : "-", what, args);
	}
	ff_jsonw_free(&w);
}

/* The write as a plan line: the run's own folders and generated stamps
 * as placeholders (core/plan.c says what else). */
static void plan_line(const ff_ctx *ctx, const char *what, const char *args, char *out, size_t cap)
{
	enum { MAX = 16 };
	const char *from[MAX + 3], *to[MAX + 3];
	size_t n = 0;
	from[n] = ctx->tmp_dir, to[n++] = "{tmp}";
	from[n] = ctx->ev_open ? ctx->ev.dir : NULL, to[n++] = "{run}";
	/* before the stamps: a backup of the same second keeps its name */
	from[n] = ctx->pin.backup_path, to[n++] = "{backup}";
	for (size_t i = 0; i < ctx->pin.stamps.n && i < MAX; i++)
		from[n] = ctx->pin.stamps.v[i], to[n++] = "{stamp}";
	ff_plan_line(out, cap, ctx->cur_step, what, args, from, to, n);
}

/* Whether the current step is a cleanup step of a run that has failed:
 * its writes (drop our copy, stop our instance) are not held to a plan
 * the run has already left. */
static int failed_cleanup(const ff_ctx *ctx)
{
	if (ctx->status == FF_OK || !ctx->cur_step)
		return 0;
	for (size_t i = 0; i < ctx->nsteps; i++)
		if (!strcmp(ctx->steps[i].name, ctx->cur_step))
			return ctx->steps[i].cleanup;
	return 0;
}

/* A pinned run's write must be its plan's next one; the first that is
 * not stops the run before it is done, and no write after it runs. */
static void pin_check(lua_State *L, ff_ctx *ctx, const char *what, const char *args)
{
	char line[1400];
	if (failed_cleanup(ctx))
		return;
	plan_line(ctx, what, args, line, sizeof(line));
	if (!ctx->pin.broken && ctx->pin.next < ctx->pin.want.n &&
	    !strcmp(line, ctx->pin.want.v[ctx->pin.next])) {
		ctx->pin.next++;
		return;
	}
	/* The same write again, right after it: a retry (a health check
	 * polled until it passes), which a rehearsal's stand-in never needs. */
	if (!ctx->pin.broken && ctx->pin.next > 0 && !strcmp(line, ctx->pin.want.v[ctx->pin.next - 1]))
		return;
	char msg[3200];
	const char *step = ctx->cur_step ? ctx->cur_step : "-";
	ctx->pin.broken = 1;
	if (ctx->pin.next >= ctx->pin.want.n)
		snprintf(msg, sizeof(msg), "pinned run: step %s attempted %s, a write its plan does not have "
			 "(it planned %zu)", step, line, ctx->pin.want.n);
	else
		snprintf(msg, sizeof(msg), "pinned run: step %s left its plan: planned write %zu is %s, "
			 "the run attempted %s", step, ctx->pin.next + 1, ctx->pin.want.v[ctx->pin.next], line);
	luaL_error(L, "%s", msg);
}

static int dispatch(lua_State *L)
{
	const ff_prim *p = lua_touserdata(L, lua_upvalueindex(1));
	const char *module = lua_tostring(L, lua_upvalueindex(2));
	ff_ctx *ctx = ff_ctx_of(L);
	char what[64], args[1200], details[1400];

	snprintf(what, sizeof(what), "%s%s%s", module, *module ? "." : "", p->name);
	ff_args_json(L, args, sizeof(args));
	if (p->effect == FF_WRITE && ctx->dry_run) {
		snprintf(details, sizeof(details), "\"call\":\"%s\",\"effect\":\"write\",\"args\":%s", what, args);
		ff_event(ctx, "planned", details);
		plan_add(ctx, what, args);
		if (ctx->pin.out) {
			char line[1400];
			plan_line(ctx, what, args, line, sizeof(line));
			if (ff_strlist_push(&ctx->pin.lines, line) < 0)
				return luaL_error(L, "out of memory");
		}
		return p->dry(L);
	}
	if (p->effect == FF_WRITE && ctx->pin.pinned)
		pin_check(L, ctx, what, args);
	snprintf(details, sizeof(details), "\"call\":\"%s\",\"effect\":\"%s\",\"args\":%s",
		 what, p->effect == FF_WRITE ? "write" : "read", args);
	ff_event(ctx, "call", details);
	return p->fn(L);
}

void ff_prims_set(lua_State *L, const char *module, const ff_prim *prims)
{
	for (; prims->name; prims++) {
		if (prims->effect == FF_WRITE && !prims->dry) {
			/* A rehearsal would answer it with another shape and skip
			 * its checks: a bug of the binding, caught at the start. */
			fprintf(stderr, "ffrun: internal error: write %s.%s has no dry-run stand-in\n",
				module, prims->name);
			abort();
		}
		lua_pushlightuserdata(L, (void *)prims);
		lua_pushstring(L, module);
		lua_pushcclosure(L, dispatch, 2);
		lua_setfield(L, -2, prims->name);
	}
}

void ff_dry_path(lua_State *L, const char *path, int write, int *root)
{
	ff_ctx *ctx = ff_ctx_of(L);
	int dirfd;
	char name[256];
	ff_err e = {0};
	if (root)
		*root = 0;
	if (ff_jail_resolve(&dirfd, name, &ctx->jail, path, write, &e) == 0) {
		if (root)
			*root = ff_jail_is_root(&ctx->jail, dirfd, name);
		close(dirfd);
	} else if (e.code == FF_ESANDBOX) {
		ff_raise(L, &e);
	}
}

int ff_raise(lua_State *L, const ff_err *e)
{
	if (e->code == FF_ESANDBOX)
		return ff_violation(L, "%s", e->msg);
	return luaL_error(L, "%s", e->msg);
}
