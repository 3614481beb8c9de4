/* contract.c - the runbook contract (SPEC §4): the header a runbook
 * returns (name, version, summary, params, steps), --describe, and the
 * params given on the command line checked against their declarations. */
#include "run/run_int.h"

#include "core/param.h"

#include <errno.h>
#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* An error object as text, without running any of its metamethods (an
 * error whose __tostring loops must not hang the host). */
const char *ff_rb_error_text(lua_State *L, int idx)
{
	if (lua_type(L, idx) == LUA_TSTRING || lua_type(L, idx) == LUA_TNUMBER)
		return lua_tostring(L, idx);
	return lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, idx));
}

/* --- header ------------------------------------------------------------- */

/* "path:LINE" of the first line of the runbook holding needle (a name or
 * a value the header gave), or "path" when none does: tables carry no line
 * of their own, and a reviewer wants to land on the declaration. */
static const char *where_in_source(const ff_ctx *ctx, const char *needle, char *out, size_t cap)
{
	const char *rb = ctx->runbook_path;
	FILE *f = needle && *needle ? fopen(rb, "r") : NULL;
	char line[4096];
	int n = 0, found = 0;
	while (f && fgets(line, sizeof(line), f)) {
		n++;
		if (strstr(line, needle)) {
			found = n;
			break;
		}
	}
	if (f)
		fclose(f);
	if (found)
		snprintf(out, cap, "%s:%d", rb, found);
	else
		snprintf(out, cap, "%s", rb);
	return out;
}

static char *field_str(lua_State *L, int t, const char *k, int required, ff_err *e,
		       const char *where)
{
	lua_getfield(L, t, k);
	if (lua_type(L, -1) != LUA_TSTRING) {
		if (required || !lua_isnil(L, -1))
			ff_err_set(e, FF_EUSAGE, "%s: '%s' must be a string", where, k);
		lua_pop(L, 1);
		return NULL;
	}
	char *s = strdup(lua_tostring(L, -1));
	lua_pop(L, 1);
	return s;
}

/* The header table is at the top of the stack (kept there). */
int ff_rb_read_header(ff_ctx *ctx, ff_err *e)
{
	lua_State *L = ctx->L;
	int t = lua_gettop(L);
	const char *rb = ctx->runbook_path;
	char where[PATH_MAX + 64];

	if (!lua_istable(L, t))
		return ff_err_set(e, FF_EUSAGE, "%s: a runbook must return its header table "
				  "({ name=, version=, summary=, params=, steps= })", rb);
	if (!(ctx->rb_name = field_str(L, t, "name", 1, e, rb)) ||
	    !(ctx->rb_version = field_str(L, t, "version", 1, e, rb)) ||
	    !(ctx->rb_summary = field_str(L, t, "summary", 1, e, rb)))
		return e->code;
	if (strspn(ctx->rb_name, "abcdefghijklmnopqrstuvwxyz0123456789_-") != strlen(ctx->rb_name))
		return ff_err_set(e, FF_EUSAGE, "%s: name '%s' must be lower-case letters, digits, - or _",
				  rb, ctx->rb_name);

	int pt = lua_getfield(L, t, "params");
	if (pt != LUA_TNIL && pt != LUA_TTABLE)
		return ff_err_set(e, FF_EUSAGE, "%s: 'params' must be an array", rb);
	size_t np = pt == LUA_TTABLE ? lua_rawlen(L, -1) : 0;
	ctx->params = calloc(np + 1, sizeof(ff_param));
	for (size_t i = 0; i < np; i++) {
		ff_param *p = &ctx->params[i];
		snprintf(where, sizeof(where), "%s: params[%zu]", rb, i + 1);
		if (lua_rawgeti(L, -1, (lua_Integer)i + 1) != LUA_TTABLE)
			return ff_err_set(e, FF_EUSAGE, "%s must be a table", where);
		ctx->nparams++;
		if (!(p->name = field_str(L, -1, "name", 1, e, where)))
			return e->code;
		char at[PATH_MAX + 16];
		snprintf(where, sizeof(where), "%s: param '%s'",
			 where_in_source(ctx, p->name, at, sizeof(at)), p->name);
		if (!(p->doc = field_str(L, -1, "doc", 1, e, where)))
			return e->code;
		p->type = field_str(L, -1, "type", 0, e, where);
		if (e->code)
			return e->code;
		if (!p->type)
			p->type = strdup("string");
		if (ff_param_type_of(p->type) < 0)
			return ff_err_set(e, FF_EUSAGE, "%s: unknown type '%s' (string, integer, number, boolean, dir)",
					  where, p->type);
		p->is_dir = !strcmp(p->type, "dir");
		lua_getfield(L, -1, "required");
		p->required = lua_toboolean(L, -1);
		lua_pop(L, 2);
	}
	lua_pop(L, 1);

	if (lua_getfield(L, t, "steps") != LUA_TTABLE)
		return ff_err_set(e, FF_EUSAGE, "%s: 'steps' must be an array of steps", rb);
	size_t ns = lua_rawlen(L, -1);
	ctx->steps = calloc(ns + 1, sizeof(ff_step));
	for (size_t i = 0; i < ns; i++) {
		ff_step *s = &ctx->steps[i];
		snprintf(where, sizeof(where), "%s: steps[%zu]", rb, i + 1);
		if (lua_rawgeti(L, -1, (lua_Integer)i + 1) != LUA_TTABLE)
			return ff_err_set(e, FF_EUSAGE, "%s must be a table", where);
		ctx->nsteps++;
		s->status = "pending";
		if (!(s->name = field_str(L, -1, "name", 1, e, where)))
			return e->code;
		char at[PATH_MAX + 16];
		snprintf(where, sizeof(where), "%s: step '%s'",
			 where_in_source(ctx, s->name, at, sizeof(at)), s->name);
		if (!(s->doc = field_str(L, -1, "doc", 1, e, where)) || !*s->doc)
			return ff_err_set(e, FF_EUSAGE, "%s needs a doc line", where);
		if (lua_getfield(L, -1, "run") != LUA_TFUNCTION)
			return ff_err_set(e, FF_EUSAGE, "%s: 'run' must be a function", where);
		lua_getfield(L, -2, "cleanup");
		s->cleanup = lua_toboolean(L, -1);
		lua_pop(L, 3);
		for (size_t j = 0; j < i; j++)
			if (!strcmp(ctx->steps[j].name, s->name))
				return ff_err_set(e, FF_EUSAGE, "%s: two steps are named '%s'", where, s->name);
	}
	lua_pop(L, 1);
	return 0;
}

void ff_rb_describe(const ff_ctx *ctx)
{
	lua_State *L = ctx->L;
	int t = lua_gettop(L);
	printf("%s %s — %s\n", ctx->rb_name, ctx->rb_version, ctx->rb_summary);
	printf("runbook: %s\n", ctx->runbook_path);
	printf("params:\n");
	if (!ctx->nparams)
		printf("  (none)\n");
	lua_getfield(L, t, "params");
	for (size_t i = 0; i < ctx->nparams; i++) {
		const ff_param *p = &ctx->params[i];
		lua_rawgeti(L, -1, (lua_Integer)i + 1);
		lua_getfield(L, -1, "default");
		const char *def = lua_isboolean(L, -1) ? (lua_toboolean(L, -1) ? "true" : "false")
				  : lua_isnil(L, -1) ? NULL : lua_tostring(L, -1);
		printf("  %-10s %-8s %s%s%s%s\n", p->name, p->type, p->doc,
		       def ? " (default: " : p->required ? " (required)" : "",
		       def ? def : "", def ? ")" : "");
		if (lua_getfield(L, -2, "choices") == LUA_TTABLE) {
			printf("  %-10s %-8s one of:", "", "");
			for (lua_Integer k = 1; k <= (lua_Integer)lua_rawlen(L, -1); k++) {
				lua_rawgeti(L, -1, k);
				printf(" %s", lua_tostring(L, -1) ? lua_tostring(L, -1) : "?");
				lua_pop(L, 1);
			}
			printf("\n");
		}
		lua_pop(L, 3);
	}
	lua_pop(L, 1);
	printf("steps:\n");
	for (size_t i = 0; i < ctx->nsteps; i++)
		printf("  %zu. %-12s %s%s\n", i + 1, ctx->steps[i].name, ctx->steps[i].doc,
		       ctx->steps[i].cleanup ? " (cleanup: always runs)" : "");
}

/* --- params --------------------------------------------------------------- */

/* Whether the value at idx is of the param's declared type. */
static int of_type(lua_State *L, int idx, const ff_param *p)
{
	if (!strcmp(p->type, "integer"))
		return lua_isinteger(L, idx);
	if (!strcmp(p->type, "number"))
		return lua_type(L, idx) == LUA_TNUMBER;
	if (!strcmp(p->type, "boolean"))
		return lua_type(L, idx) == LUA_TBOOLEAN;
	return lua_type(L, idx) == LUA_TSTRING;
}

/* One declaration's lint: default, choices and check well formed. */
static int lint_param(ff_ctx *ctx, const ff_param *p, int spec, ff_err *e)
{
	lua_State *L = ctx->L;
	char at[PATH_MAX + 16];
	const char *where = where_in_source(ctx, p->name, at, sizeof(at));
	int has_default = lua_getfield(L, spec, "default") != LUA_TNIL;
	int d = lua_gettop(L);
	if (has_default && !of_type(L, d, p))
		return ff_err_set(e, FF_EUSAGE, "%s: param '%s': default is a %s, the type is %s",
				  where, p->name, luaL_typename(L, d), p->type);
	int ct = lua_getfield(L, spec, "choices");
	if (ct != LUA_TNIL && ct != LUA_TTABLE)
		return ff_err_set(e, FF_EUSAGE, "%s: param '%s': choices must be an array", where, p->name);
	int in_choices = ct == LUA_TNIL;
	for (lua_Integer k = 1; ct == LUA_TTABLE && k <= (lua_Integer)lua_rawlen(L, -1); k++) {
		lua_rawgeti(L, -1, k);
		if (!of_type(L, -1, p))
			return ff_err_set(e, FF_EUSAGE, "%s: param '%s': choice %lld is a %s, the type is %s",
					  where, p->name, (long long)k, luaL_typename(L, -1), p->type);
		in_choices |= has_default && lua_rawequal(L, -1, d);
		lua_pop(L, 1);
	}
	if (has_default && !in_choices)
		return ff_err_set(e, FF_EUSAGE, "%s: param '%s': its default is not one of its choices",
				  where, p->name);
	int kt = lua_getfield(L, spec, "check");
	if (kt != LUA_TNIL && kt != LUA_TFUNCTION)
		return ff_err_set(e, FF_EUSAGE, "%s: param '%s': check must be a function", where, p->name);
	lua_settop(L, spec);
	return 0;
}

int ff_rb_lint_params(ff_ctx *ctx, int t, ff_err *e)
{
	lua_State *L = ctx->L;
	int err;
	lua_getfield(L, t, "params");
	for (size_t i = 0; i < ctx->nparams; i++) {
		lua_rawgeti(L, -1, (lua_Integer)i + 1);
		if ((err = lint_param(ctx, &ctx->params[i], lua_gettop(L), e)) < 0)
			return err;
		lua_pop(L, 1);
	}
	lua_pop(L, 1);
	return 0;
}

/* Convert text to the param's type and push it; NULL or what it must be
 * ("an integer"). The reading is core/param.c's (fuzzed on its own). */
static const char *push_typed(lua_State *L, const ff_param *p, const char *text, ff_err *e)
{
	ff_param_value v;
	if (ff_param_parse(&v, (ff_param_type)ff_param_type_of(p->type), text, e) < 0)
		return e->msg + strlen("must be ");
	switch (v.type) {
	case FF_PARAM_INTEGER: lua_pushinteger(L, (lua_Integer)v.i); break;
	case FF_PARAM_NUMBER: lua_pushnumber(L, v.n); break;
	case FF_PARAM_BOOLEAN: lua_pushboolean(L, v.b); break;
	default: lua_pushstring(L, v.s); break;
	}
	ff_param_value_free(&v);
	return NULL;
}

/* Builds the params table (left on the stack) from defaults and NAME=VALUE
 * assignments; the header is at index t. */
int ff_rb_read_params(ff_ctx *ctx, int t, ff_err *e)
{
	lua_State *L = ctx->L;
	const char *rb = ctx->runbook_path;

	for (int i = 0; i < ctx->nassign; i++) {
		const char *value;
		size_t kl, j;
		int err;
		if ((err = ff_param_split(&kl, &value, ctx->assign[i], e)) < 0)
			return err;
		for (j = 0; j < ctx->nparams; j++)
			if (strlen(ctx->params[j].name) == kl && !strncmp(ctx->params[j].name, ctx->assign[i], kl))
				break;
		if (j == ctx->nparams)
			return ff_err_set(e, FF_EUSAGE, "%s: unknown parameter '%.*s' (see --describe)",
					  rb, (int)kl, ctx->assign[i]);
		free(ctx->params[j].value);
		ctx->params[j].value = strdup(value);
	}

	lua_newtable(L);
	int pv = lua_gettop(L);
	lua_getfield(L, t, "params");
	for (size_t i = 0; i < ctx->nparams; i++) {
		ff_param *p = &ctx->params[i];
		lua_rawgeti(L, -1, (lua_Integer)i + 1);
		int spec = lua_gettop(L);
		if (p->value) {
			ff_err te = {0};
			const char *want = push_typed(L, p, p->value, &te);
			if (want)
				return ff_err_set(e, FF_EUSAGE, "parameter %s=%s: must be %s",
						  p->name, p->value, want);
		} else if (lua_getfield(L, spec, "default") != LUA_TNIL) {
			if (lua_type(L, -1) == LUA_TBOOLEAN) {
				p->value = strdup(lua_toboolean(L, -1) ? "true" : "false");
			} else {
				lua_pushvalue(L, -1); /* tostring converts in place */
				p->value = strdup(lua_tostring(L, -1) ? lua_tostring(L, -1) : "?");
				lua_pop(L, 1);
			}
		} else if (p->required) {
			return ff_err_set(e, FF_EUSAGE, "parameter %s is required: %s (give %s=VALUE)",
					  p->name, p->doc, p->name);
		} else {
			lua_pop(L, 2);
			continue;
		}
		int v = lua_gettop(L);
		/* choices = { ... } */
		if (lua_getfield(L, spec, "choices") == LUA_TTABLE) {
			int found = 0;
			char list[512] = "";
			for (lua_Integer k = 1; k <= (lua_Integer)lua_rawlen(L, -1); k++) {
				lua_rawgeti(L, -1, k);
				found |= lua_rawequal(L, -1, v);
				if (lua_type(L, -1) == LUA_TSTRING) {
					strncat(list, k > 1 ? ", " : "", sizeof(list) - strlen(list) - 1);
					strncat(list, lua_tostring(L, -1), sizeof(list) - strlen(list) - 1);
				}
				lua_pop(L, 1);
			}
			if (!found)
				return ff_err_set(e, FF_EUSAGE, "parameter %s=%s: must be one of %s",
						  p->name, p->value, list);
		}
		lua_pop(L, 1);
		/* check = function(v) return true | nil, "why" end */
		if (lua_getfield(L, spec, "check") == LUA_TFUNCTION) {
			lua_pushvalue(L, v);
			if (lua_pcall(L, 1, 2, 0) != LUA_OK)
				return ff_err_set(e, atomic_load(&ctx->limit) ? FF_ESANDBOX : FF_EUSAGE,
						  "parameter %s: check failed: %s", p->name, ff_rb_error_text(L, -1));
			if (!lua_toboolean(L, -2))
				return ff_err_set(e, FF_EUSAGE, "parameter %s=%s: %s", p->name, p->value,
						  lua_isstring(L, -1) ? lua_tostring(L, -1) : "rejected");
			lua_pop(L, 2);
		} else {
			lua_pop(L, 1);
		}
		if (p->is_dir) {
			ff_err je = {0};
			if (ff_jail_add(&ctx->jail, lua_tostring(L, v), 0, &je) < 0)
				return ff_err_set(e, FF_EUSAGE, "parameter %s: %s", p->name, je.msg);
		}
		lua_setfield(L, pv, p->name);
		lua_settop(L, spec - 1);
	}
	lua_pop(L, 1);
	return 0;
}
