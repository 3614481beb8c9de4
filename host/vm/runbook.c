/* runbook.c - the runbook contract (SPEC §4) and the run driver: load the
 * runbook in the sandbox, check its header and params, run its steps in
 * order (cleanup steps always), and turn the run into evidence. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <lauxlib.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/cluster.h"
#include "core/fsutil.h"
#include "core/hash.h"
#include "core/metrics.h"
#include "core/jsonw.h"
#include "core/redact.h"
#include "vm/vm.h"

#define FF_OUT(ctx) (!(ctx)->quiet && !(ctx)->json)

/* --- log and events ------------------------------------------------------- */

void ff_event(ff_ctx *ctx, const char *event, const char *details)
{
	if (ctx->ev_open)
		ff_evidence_event(&ctx->ev, ctx->cur_step, event, details);
}

void ff_logf(ff_ctx *ctx, const char *level, const char *fmt, ...)
{
	char msg[2048], ts[32], line[2200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ff_time_iso(ts, ff_time_now());
	int n = snprintf(line, sizeof(line), "%s %-5s %s%s%s", ts, level,
			 ctx->cur_step ? "[" : "", ctx->cur_step ? ctx->cur_step : "",
			 ctx->cur_step ? "] " : "");
	snprintf(line + n, sizeof(line) - (size_t)n, "%s\n", msg);
	if (!ctx->quiet || strcmp(level, "info"))
		ff_progress_line_print(&ctx->progress, line + strlen(ts) + 1); /* no timestamp */
	/* raw/run.log is created by the first line, never after the seal (the
	 * DIGEST would not name it): a silent run leaves no empty log to fsync. */
	if (ctx->log_fd < 0 && ctx->ev_open && !ctx->ev.sealed && !ctx->log_failed) {
		ff_err le = {0};
		if (ff_evidence_raw_open(&ctx->ev, &ctx->log_fd, NULL, "run.log", &le) < 0)
			ctx->log_failed = 1;
	}
	if (ctx->log_fd >= 0 && write(ctx->log_fd, line, strlen(line)) < 0) {
		/* the log is best effort; the event below still records it */
	}
	ff_jsonw w;
	ff_jsonw_init(&w);
	ff_jsonw_kstr(&w, "level", level);
	ff_jsonw_kstr(&w, "msg", msg);
	if (!w.oom)
		ff_event(ctx, "log", w.buf);
	ff_jsonw_free(&w);
}

int ff_busy(lua_State *L, const char *fmt, ...)
{
	char msg[600];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ff_ctx_of(L)->busy = 1;
	return luaL_error(L, "busy: %s", msg);
}

int ff_usage(lua_State *L, const char *fmt, ...)
{
	char msg[600];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ff_ctx_of(L)->usage = 1;
	lua_pushstring(L, msg);
	return lua_error(L);
}

/* An error object as text, without running any of its metamethods (an
 * error whose __tostring loops must not hang the host). */
static const char *error_text(lua_State *L, int idx)
{
	if (lua_type(L, idx) == LUA_TSTRING || lua_type(L, idx) == LUA_TNUMBER)
		return lua_tostring(L, idx);
	return lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, idx));
}

/* --- header ------------------------------------------------------------- */

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

static const char *const param_types[] = {
	"string", "integer", "number", "boolean", "dir", NULL
};

/* The header table is at the top of the stack (kept there). */
static int read_header(ff_ctx *ctx, ff_err *e)
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
		if (!(p->name = field_str(L, -1, "name", 1, e, where)) ||
		    !(p->doc = field_str(L, -1, "doc", 1, e, where)))
			return e->code;
		p->type = field_str(L, -1, "type", 0, e, where);
		if (e->code)
			return e->code;
		if (!p->type)
			p->type = strdup("string");
		int ok = 0;
		for (const char *const *ty = param_types; *ty; ty++)
			ok |= !strcmp(*ty, p->type);
		if (!ok)
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
		snprintf(where, sizeof(where), "%s: step '%s'", rb, s->name);
		if (!(s->doc = field_str(L, -1, "doc", 1, e, where)) || !*s->doc)
			return ff_err_set(e, FF_EUSAGE, "%s needs a doc line", where);
		if (lua_getfield(L, -1, "run") != LUA_TFUNCTION)
			return ff_err_set(e, FF_EUSAGE, "%s: 'run' must be a function", where);
		lua_getfield(L, -2, "cleanup");
		s->cleanup = lua_toboolean(L, -1);
		lua_pop(L, 3);
		for (size_t j = 0; j < i; j++)
			if (!strcmp(ctx->steps[j].name, s->name))
				return ff_err_set(e, FF_EUSAGE, "%s: two steps are named '%s'", rb, s->name);
	}
	lua_pop(L, 1);
	return 0;
}

static void describe(const ff_ctx *ctx)
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

/* Convert text to the param's type and push it; 0 or an error message. */
static const char *push_typed(lua_State *L, const ff_param *p, const char *text)
{
	char *end;
	if (!strcmp(p->type, "integer")) {
		errno = 0;
		long long v = strtoll(text, &end, 10);
		if (!*text || *end || errno)
			return "an integer";
		lua_pushinteger(L, (lua_Integer)v);
	} else if (!strcmp(p->type, "number")) {
		double v = strtod(text, &end);
		if (!*text || *end)
			return "a number";
		lua_pushnumber(L, v);
	} else if (!strcmp(p->type, "boolean")) {
		if (strcmp(text, "true") && strcmp(text, "false"))
			return "true or false";
		lua_pushboolean(L, !strcmp(text, "true"));
	} else if (!strcmp(p->type, "dir")) {
		char *real = realpath(text, NULL);
		struct stat st;
		if (!real || stat(real, &st) < 0 || !S_ISDIR(st.st_mode)) {
			free(real);
			return "an existing folder";
		}
		lua_pushstring(L, real);
		free(real);
	} else {
		lua_pushstring(L, text);
	}
	return NULL;
}

/* Builds the params table (left on the stack) from defaults and NAME=VALUE
 * assignments; the header is at index t. */
static int read_params(ff_ctx *ctx, int t, ff_err *e)
{
	lua_State *L = ctx->L;
	const char *rb = ctx->runbook_path;

	for (int i = 0; i < ctx->nassign; i++) {
		const char *eq = strchr(ctx->assign[i], '=');
		size_t kl = eq ? (size_t)(eq - ctx->assign[i]) : 0;
		size_t j;
		if (!eq || !kl)
			return ff_err_set(e, FF_EUSAGE, "'%s': parameters are NAME=VALUE", ctx->assign[i]);
		for (j = 0; j < ctx->nparams; j++)
			if (strlen(ctx->params[j].name) == kl && !strncmp(ctx->params[j].name, ctx->assign[i], kl))
				break;
		if (j == ctx->nparams)
			return ff_err_set(e, FF_EUSAGE, "%s: unknown parameter '%.*s' (see --describe)",
					  rb, (int)kl, ctx->assign[i]);
		free(ctx->params[j].value);
		ctx->params[j].value = strdup(eq + 1);
	}

	lua_newtable(L);
	int pv = lua_gettop(L);
	lua_getfield(L, t, "params");
	for (size_t i = 0; i < ctx->nparams; i++) {
		ff_param *p = &ctx->params[i];
		lua_rawgeti(L, -1, (lua_Integer)i + 1);
		int spec = lua_gettop(L);
		if (p->value) {
			const char *want = push_typed(L, p, p->value);
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
						  "parameter %s: check failed: %s", p->name, error_text(L, -1));
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

/* --- summary ----------------------------------------------------------------- */

static void summary_json(ff_ctx *ctx, ff_jsonw *w, double finished)
{
	char ts[32], host[256] = "";
	char limit[300];

	gethostname(host, sizeof(host) - 1);
	ff_jsonw_obj(w);
	ff_jsonw_kstr(w, "format", "ffrun.evidence/1");
	ff_jsonw_kstr(w, "run_id", ctx->ev.run_id);
	ff_jsonw_key(w, "runbook");
	ff_jsonw_obj(w);
	ff_jsonw_kstr(w, "path", ctx->runbook_path);
	ff_jsonw_kstr(w, "name", ctx->rb_name);
	ff_jsonw_kstr(w, "version", ctx->rb_version);
	ff_jsonw_kstr(w, "sha256", ctx->runbook_sha256);
	ff_jsonw_end(w, '}');
	ff_jsonw_kstr(w, "mode", ctx->dry_run ? "dry-run" : "run");
	ff_jsonw_kstr(w, "status", ctx->status == FF_OK ? "PASS" : "FAIL");
	ff_time_iso(ts, ctx->started_at);
	ff_jsonw_kstr(w, "started_at", ts);
	ff_time_iso(ts, finished);
	ff_jsonw_kstr(w, "finished_at", ts);
	ff_jsonw_knum(w, "duration_s", (double)(long long)((finished - ctx->started_at) * 1000) / 1000);
	if (ctx->status != FF_OK)
		ff_jsonw_kstr(w, "error", ctx->error);
	ff_vm_limit_text(ctx, limit, sizeof(limit));
	if (*limit)
		ff_jsonw_kstr(w, "limit", limit);
	ff_jsonw_key(w, "params");
	ff_jsonw_obj(w);
	for (size_t i = 0; i < ctx->nparams; i++)
		if (ctx->params[i].value)
			ff_jsonw_kstr(w, ctx->params[i].name, ctx->params[i].value);
	ff_jsonw_end(w, '}');
	ff_jsonw_key(w, "steps");
	ff_jsonw_arr(w);
	for (size_t i = 0; i < ctx->nsteps; i++) {
		ff_step *s = &ctx->steps[i];
		ff_jsonw_obj(w);
		ff_jsonw_kstr(w, "name", s->name);
		ff_jsonw_kstr(w, "status", s->status);
		ff_jsonw_knum(w, "duration_s", (double)(long long)(s->duration_s * 1000) / 1000);
		ff_jsonw_kstr(w, "error", s->error);
		if (s->cleanup) {
			ff_jsonw_key(w, "cleanup");
			ff_jsonw_bool(w, 1);
		}
		ff_jsonw_end(w, '}');
	}
	ff_jsonw_end(w, ']');
	if (ctx->dry_run) {
		ff_jsonw_key(w, "plan");
		ff_jsonw_arr(w);
		if (ctx->plan_json)
			ff_jsonw_raw(w, ctx->plan_json);
		ff_jsonw_end(w, ']');
	}
	/* Anchors the hash chain: a removed last line is caught too. */
	ff_jsonw_key(w, "events");
	ff_jsonw_obj(w);
	ff_jsonw_kint(w, "count", (long long)ctx->ev.seq);
	ff_jsonw_kstr(w, "last_sha256", ctx->ev.prev);
	ff_jsonw_end(w, '}');
	ff_jsonw_kstr(w, "ffrun_version", FF_VERSION);
	ff_jsonw_kstr(w, "host", host);
	for (size_t i = 0; i < ctx->nextra; i++) {
		ff_jsonw_key(w, ctx->extra_keys[i]);
		ff_jsonw_raw(w, ctx->extra_vals[i]);
	}
	ff_jsonw_end(w, '}');
}

/* A line on stderr that clears a status line of long work first. */
static void say(ff_ctx *ctx, const char *fmt, ...)
{
	char text[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	ff_progress_line_print(&ctx->progress, text);
}

static void print_outcome(ff_ctx *ctx, const char *summary)
{
	if (ctx->json) {
		printf("%s\n", summary);
		fflush(stdout);
	} else if (!ctx->quiet) {
		size_t pass = 0;
		for (size_t i = 0; i < ctx->nsteps; i++)
			pass += !strcmp(ctx->steps[i].status, "PASS");
		if (ctx->dry_run)
			printf("dry-run: %zu planned write%s, none done\n", ctx->nplan,
			       ctx->nplan == 1 ? "" : "s");
		printf("%s %s: %zu/%zu steps passed in %.2f s\nevidence: %s\n",
		       ctx->status == FF_OK ? "PASS" : "FAIL", ctx->rb_name ? ctx->rb_name : "?",
		       pass, ctx->nsteps, ff_time_now() - ctx->started_at,
		       ctx->ev_open ? ctx->ev.dir : "(none)");
		fflush(stdout);
	}
	if (ctx->status != FF_OK)
		say(ctx, "ffrun: %s\n", ctx->error);
}

static const char *extra(const ff_ctx *ctx, const char *key)
{
	for (size_t i = 0; i < ctx->nextra; i++)
		if (!strcmp(ctx->extra_keys[i], key))
			return ctx->extra_vals[i];
	return NULL;
}

/* Prometheus textfile metrics for a real run: last success per runbook,
 * the last backup's size and duration, the last drill's RTO and RPO. */
static void write_metrics(ff_ctx *ctx, double finished)
{
	ff_metric m[4];
	size_t n = 0;
	const char *v;
	ff_err e = {0};
	int pass = ctx->status == FF_OK;
	double duration = finished - ctx->started_at;

	if (!ctx->cfg->monitoring_textfile || ctx->dry_run || !ctx->rb_name)
		return;
	/* A run turned away by the lock (exit 4) did nothing: the run that
	 * holds the lock reports, not this one. */
	if (ctx->status == FF_EBUSY)
		return;
	if (!strcmp(ctx->rb_name, "backup") && pass && (v = extra(ctx, "backup")) &&
	    (v = strstr(v, "\"bytes\":"))) {
		m[n++] = (ff_metric){ "ffrun_last_backup_size_bytes", atof(v + 8) };
		m[n++] = (ff_metric){ "ffrun_last_backup_duration_seconds", duration };
	}
	if (!strcmp(ctx->rb_name, "drill")) {
		if ((v = extra(ctx, "rto_s")))
			m[n++] = (ff_metric){ "ffrun_last_drill_rto_seconds", atof(v) };
		if ((v = extra(ctx, "rpo_s")))
			m[n++] = (ff_metric){ "ffrun_last_drill_rpo_seconds", atof(v) };
	}
	if (ff_metrics_write(ctx->cfg->monitoring_textfile, ctx->rb_name, pass, finished,
			     duration, m, n, &e) < 0)
		say(ctx, "ffrun: warning: %s\n", e.msg);
}

static void seal(ff_ctx *ctx)
{
	ff_jsonw w;
	ff_err e = {0};
	if (!ctx->ev_open)
		return;
	ctx->cur_step = NULL;
	ff_event(ctx, "run.end", ctx->status == FF_OK ? "\"status\":\"PASS\"" : "\"status\":\"FAIL\"");
	ff_jsonw_init(&w);
	summary_json(ctx, &w, ff_time_now());
	if (w.oom || ff_evidence_seal(&ctx->ev, w.buf, &e) < 0)
		say(ctx, "ffrun: cannot seal the evidence in %s: %s\n", ctx->ev.dir,
		    w.oom ? "out of memory" : e.msg);
	print_outcome(ctx, w.oom ? "{}" : w.buf);
	ff_jsonw_free(&w);
	write_metrics(ctx, ff_time_now());
}


void ff_run_abort(ff_ctx *ctx, int exit_status)
{
	char limit[300];
	ff_vm_limit_text(ctx, limit, sizeof(limit));
	if (ctx->status == FF_OK) {
		ctx->status = exit_status == 3 ? FF_ESANDBOX : FF_EFAIL;
		snprintf(ctx->error, sizeof(ctx->error), "%s",
			 *limit ? limit : "stopped by a second signal during cleanup");
	}
	for (size_t i = 0; i < ctx->nsteps; i++)
		if (!strcmp(ctx->steps[i].status, "running")) {
			ctx->steps[i].status = "FAIL";
			free(ctx->steps[i].error);
			ctx->steps[i].error = strdup(ctx->error);
		} else if (!strcmp(ctx->steps[i].status, "pending")) {
			ctx->steps[i].status = "skipped";
		}
	for (int i = 0; i < FF_MAX_CLUSTERS; i++)
		if (ctx->clusters[i])
			ff_cluster_destroy(ctx->clusters[i], -1, NULL);
	seal(ctx);
	if (ctx->tmp_dir)
		ff_remove_tree(ctx->tmp_dir);
	_exit(exit_status);
}

/* --- helpers ------------------------------------------------------------------ */


static int hash_path(char hex[FF_SHA256_HEX], const char *path, ff_err *e)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ff_err_set(e, FF_EUSAGE, "%s: %s", path, strerror(errno));
	int rc = ff_sha256_fd(hex, NULL, fd, e);
	close(fd);
	return rc;
}

static int load_file(lua_State *L, const char *path, ff_err *e)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0 || st.st_size > (16 << 20)) {
		if (fd >= 0)
			close(fd);
		return ff_err_set(e, FF_EUSAGE, "%s: cannot read the runbook", path);
	}
	char *buf = malloc((size_t)st.st_size + 1);
	ssize_t got = buf ? read(fd, buf, (size_t)st.st_size) : -1;
	close(fd);
	if (got < 0) {
		free(buf);
		return ff_err_set(e, FF_EUSAGE, "%s: cannot read the runbook", path);
	}
	char name[PATH_MAX + 2];
	snprintf(name, sizeof(name), "@%s", path);
	int rc = luaL_loadbufferx(L, buf, (size_t)got, name, "t");
	free(buf);
	if (rc != LUA_OK)
		return ff_err_set(e, FF_EUSAGE, "%s", error_text(L, -1));
	return 0;
}

static void collect_secrets(ff_ctx *ctx)
{
	extern char **environ;
	size_t n = 0;
	for (char **v = environ; *v; v++)
		n++;
	ctx->secrets = calloc(n + 1, sizeof(char *));
	if (!ctx->secrets)
		return;
	for (char **v = environ; *v; v++) {
		const char *eq = strchr(*v, '=');
		if (eq && strlen(eq + 1) >= 4 && ff_redact_is_secret_key(*v, (size_t)(eq - *v)))
			ctx->secrets[ctx->nsecrets++] = strdup(eq + 1);
	}
}

/* --- the run ------------------------------------------------------------------- */

static int run_step(ff_ctx *ctx, ff_step *s, int step_index, int header, int params_idx)
{
	lua_State *L = ctx->L;
	char details[1400];
	ff_jsonw w;

	ctx->cur_step = s->name;
	s->status = "running";
	snprintf(details, sizeof(details), "\"index\":%d,\"cleanup\":%s", step_index + 1,
		 s->cleanup ? "true" : "false");
	ff_event(ctx, "step.start", details);
	if (FF_OUT(ctx) && ctx->verbose)
		say(ctx, "-> %s: %s\n", s->name, s->doc);
	double t0 = ff_time_mono();

	lua_getfield(L, header, "steps");
	lua_rawgeti(L, -1, step_index + 1);
	lua_getfield(L, -1, "run");
	lua_pushvalue(L, params_idx);
	int rc = lua_pcall(L, 1, 0, 0);
	s->duration_s = ff_time_mono() - t0;
	if (rc != LUA_OK) {
		s->status = "FAIL";
		if (ctx->cancel && ctx->signal_seen && !strstr(error_text(L, -1), "interrupted by")) {
			/* The step failed because a signal stopped its work (a
			 * child killed): say so, not only what broke. */
			lua_pushfstring(L, "%s (interrupted by %s)", error_text(L, -1),
					ff_signal_name(ctx->signal_seen));
		}
		s->error = strdup(error_text(L, -1));
	} else {
		s->status = "PASS";
	}
	lua_settop(L, params_idx);

	ff_jsonw_init(&w);
	ff_jsonw_kstr(&w, "status", s->status);
	ff_jsonw_knum(&w, "duration_s", s->duration_s);
	if (s->error)
		ff_jsonw_kstr(&w, "error", s->error);
	ff_event(ctx, "step.end", w.oom ? NULL : w.buf);
	ff_jsonw_free(&w);
	if (s->error)
		ff_logf(ctx, "error", "step %s failed: %s", s->name, s->error);
	ctx->cur_step = NULL;
	return rc == LUA_OK;
}

static int resolve_runbook(ff_ctx *ctx, const char *home, ff_err *e)
{
	char path[PATH_MAX];
	const char *arg = ctx->runbook_arg;
	if (!strchr(arg, '/') && !strstr(arg, ".lua"))
		snprintf(path, sizeof(path), "%s/runbooks/%s.lua", home, arg);
	else
		snprintf(path, sizeof(path), "%s", arg);
	char *real = realpath(path, NULL);
	if (!real)
		return ff_err_set(e, FF_EUSAGE, "runbook %s: %s", path, strerror(errno));
	ctx->runbook_path = real;
	ctx->runbook_dir = strdup(real);
	*strrchr(ctx->runbook_dir, '/') = '\0';
	snprintf(path, sizeof(path), "%s/stdlib", home);
	ctx->stdlib_dir = realpath(path, NULL);
	if (!ctx->stdlib_dir)
		return ff_err_set(e, FF_EINTERNAL, "stdlib folder %s: %s", path, strerror(errno));
	return hash_path(ctx->runbook_sha256, real, e);
}

static int build_jail(ff_ctx *ctx, ff_err *e)
{
	const ff_config *c = ctx->cfg;
	int err;
	struct stat st;
	ff_jail_init(&ctx->jail);
	/* The backups folder is the host's to create (a runbook cannot create
	 * a root); a dry-run creates nothing and goes without it. */
	if (!ctx->dry_run && !ctx->describe && !ctx->check && (err = ff_mkdir_p(c->backups_dir, e)) < 0)
		return err;
	/* Runbooks see the canonical paths: a symlink on the configured path
	 * would otherwise be refused by the jail at every use. */
	ctx->backups_dir = realpath(c->backups_dir, NULL);
	if (!ctx->backups_dir)
		ctx->backups_dir = strdup(c->backups_dir);
	if (stat(ctx->backups_dir, &st) == 0 &&
	    (err = ff_jail_add(&ctx->jail, ctx->backups_dir, 1, e)) < 0)
		return err;
	if ((err = ff_jail_add(&ctx->jail, ctx->runbook_dir, 0, e)) < 0 ||
	    (err = ff_jail_add(&ctx->jail, ctx->stdlib_dir, 0, e)) < 0)
		return err;
	/* The config's folder is readable only when there is a config: with
	 * the built-in defaults it is merely the current folder (a home, with
	 * its ~/.pgpass), which no runbook has any business reading. */
	if (c->file && (err = ff_jail_add(&ctx->jail, c->dir, 0, e)) < 0)
		return err;
	for (size_t i = 0; i < c->nsnapshots; i++)
		if (stat(c->snapshots[i], &st) == 0)
			ff_jail_add(&ctx->jail, c->snapshots[i], 0, NULL);
	return 0;
}

/* Private folders of ffrun runs that died without removing theirs (a
 * SIGKILL): named ffrun-<pid>.<start time>-XXXXXX, ours (same owner), that
 * process gone, and the folder's flock free. A live run holds the flock
 * for its whole life, which also covers a run whose pid we cannot see (a
 * container sharing the folder); the pid check covers the moment between
 * its mkdtemp and its flock. A live run's, another user's, or one whose
 * name proves nothing is left alone. */
static void reap_tmp(ff_ctx *ctx, const char *root)
{
	DIR *d = opendir(root);
	struct dirent *de;
	while (d && (de = readdir(d))) {
		long pid = 0;
		unsigned long long t = 0;
		int n = 0;
		char path[PATH_MAX];
		struct stat st;
		if (sscanf(de->d_name, "ffrun-%ld.%llu-%n", &pid, &t, &n) != 2 || n == 0 ||
		    strlen(de->d_name + n) != 6 || pid <= 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", root, de->d_name);
		if (lstat(path, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid())
			continue;
		if (t == 0 || ff_proc_start_time((pid_t)pid) == t)
			continue; /* its run is alive, or nothing says it is not */
		int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			continue;
		int held = flock(fd, LOCK_EX | LOCK_NB) < 0;
		if (!held)
			ff_remove_tree(path);
		close(fd);
		if (held)
			continue;
		ff_logf(ctx, "warn", "removed %s, the temporary folder of a run that was killed", path);
	}
	if (d)
		closedir(d);
}

const char *ff_run_tmp(ff_ctx *ctx, ff_err *e)
{
	char tmpl[PATH_MAX];
	const char *root = getenv("TMPDIR");
	if (ctx->tmp_dir)
		return ctx->tmp_dir;
	root = root && *root ? root : "/tmp";
	reap_tmp(ctx, root);
	snprintf(tmpl, sizeof(tmpl), "%s/ffrun-%ld.%llu-XXXXXX", root, (long)getpid(),
		 ff_proc_start_time(getpid()));
	if (!mkdtemp(tmpl)) {
		ff_err_set(e, FF_EFAIL, "temporary folder %s: %s", tmpl, strerror(errno));
		return NULL;
	}
	char *dir = strdup(tmpl);
	if (!dir || ff_jail_add(&ctx->jail, dir, 1, e) < 0) {
		if (!dir)
			ff_err_set(e, FF_EINTERNAL, "out of memory");
		rmdir(tmpl);
		free(dir);
		return NULL;
	}
	/* Held until the process ends (close-on-exec: no child keeps it). */
	ctx->tmp_lock_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (ctx->tmp_lock_fd >= 0)
		(void)flock(ctx->tmp_lock_fd, LOCK_EX | LOCK_NB);
	ctx->tmp_dir = dir;
	return dir;
}

static int open_evidence(ff_ctx *ctx, ff_err *e)
{
	char stamp[16];
	int err;
	char base[256];
	const char *slash = strrchr(ctx->runbook_path, '/');
	snprintf(base, sizeof(base), "%s", slash ? slash + 1 : ctx->runbook_path);
	char *dot = strrchr(base, '.');
	if (dot)
		*dot = '\0';
	ff_time_stamp(stamp, ctx->started_at);
	if ((err = ff_mkdir_p(ctx->cfg->evidence_dir, e)) < 0)
		return err;
	if (!(ctx->evidence_dir = realpath(ctx->cfg->evidence_dir, NULL)))
		return ff_err_set(e, FF_EFAIL, "%s: %s", ctx->cfg->evidence_dir, strerror(errno));
	if ((err = ff_evidence_open(&ctx->ev, ctx->evidence_dir, stamp, base, e)) < 0)
		return err;
	ctx->ev_open = 1;
	if ((err = ff_jail_add(&ctx->jail, ctx->evidence_dir, 1, e)) < 0)
		return err;
	return 0;
}

static void fill_run_table(ff_ctx *ctx)
{
	lua_State *L = ctx->L;
	lua_getfield(L, LUA_REGISTRYINDEX, "ff.run");
	lua_pushstring(L, ctx->ev.run_id);
	lua_setfield(L, -2, "id");
	lua_pushstring(L, ctx->ev.dir);
	lua_setfield(L, -2, "dir");
	lua_pushnumber(L, ctx->started_at);
	lua_setfield(L, -2, "started_at");
	lua_pushboolean(L, ctx->dry_run);
	lua_setfield(L, -2, "dry_run");
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	lua_pushinteger(L, cpus > 0 ? cpus : 1);
	lua_setfield(L, -2, "cpus");
	lua_pop(L, 1);
}

static int fail(ff_ctx *ctx, const ff_err *e)
{
	ctx->status = e->code ? e->code : FF_EINTERNAL;
	snprintf(ctx->error, sizeof(ctx->error), "%s", e->msg);
	return ctx->status;
}

int ff_run(ff_ctx *ctx)
{
	ff_err e = {0};
	const char *home = getenv("FFRUN_HOME");
	int err;

	ctx->log_fd = ctx->tmp_lock_fd = -1;
	ff_progress_line_init(&ctx->progress);
	if (!ctx->describe && !ctx->check)
		ff_signals_hold();
	ctx->started_at = ff_time_now();
	ctx->started_mono = ff_time_mono();
	if (!home || !*home)
		home = FF_SOURCE_DIR;
	collect_secrets(ctx);

	if ((err = resolve_runbook(ctx, home, &e)) < 0) {
		fail(ctx, &e);
		goto out;
	}
	if ((err = build_jail(ctx, &e)) < 0) {
		fail(ctx, &e);
		goto out;
	}
	int is_run = !ctx->describe && !ctx->check;
	if (is_run && (err = open_evidence(ctx, &e)) < 0) {
		fail(ctx, &e);
		goto out;
	}
	if (is_run && (err = ff_watchdog_start(ctx, &e)) < 0) {
		fail(ctx, &e);
		goto out;
	}
	if ((err = ff_vm_new(&ctx->L, ctx, &e)) < 0) {
		fail(ctx, &e);
		goto out;
	}
	lua_State *L = ctx->L;
	char details[PATH_MAX + 200];
	snprintf(details, sizeof(details), "\"runbook\":\"%s\",\"sha256\":\"%s\",\"mode\":\"%s\"",
		 ctx->runbook_path, ctx->runbook_sha256, ctx->dry_run ? "dry-run" : "run");
	ff_event(ctx, "run.start", details);
	if (ctx->ev_open)
		fill_run_table(ctx);

	/* The runbook's top level runs now (its requires too): in the
	 * sandbox, under the limits. */
	if ((err = load_file(L, ctx->runbook_path, &e)) < 0) {
		fail(ctx, &e);
		goto out;
	}
	if (lua_pcall(L, 0, 1, 0) != LUA_OK) {
		ff_err_set(&e, atomic_load(&ctx->limit) ? FF_ESANDBOX : FF_EUSAGE, "%s", error_text(L, -1));
		fail(ctx, &e);
		goto out;
	}
	if ((err = read_header(ctx, &e)) < 0) {
		fail(ctx, &e);
		goto out;
	}
	if (ctx->describe) {
		describe(ctx);
		goto out;
	}
	int header = lua_gettop(L);
	if ((err = read_params(ctx, header, &e)) < 0) {
		fail(ctx, &e);
		goto out;
	}
	int params = lua_gettop(L);
	if (ctx->check) {
		if (!ctx->quiet)
			printf("ok: %s %s loads, %zu params valid, %zu steps\n", ctx->rb_name,
			       ctx->rb_version, ctx->nparams, ctx->nsteps);
		goto out;
	}

	int failed = 0;
	for (size_t i = 0; i < ctx->nsteps; i++) {
		ff_step *s = &ctx->steps[i];
		if (atomic_load(&ctx->limit) != FF_LIMIT_NONE) {
			s->status = "skipped";
			s->error = strdup("not run: a limit ended the run");
			continue;
		}
		if (failed && !s->cleanup) {
			s->status = "skipped";
			continue;
		}
		if (failed) {
			/* Cleanup runs even after a signal; children of the failed
			 * step were told to stop, this step's must not be. */
			ctx->cancel = 0;
			atomic_store(&ctx->interrupt, 0);
		}
		/* Exit 4 (busy) and 2 (usage) belong to the error that failed
		 * the run, not to one a runbook caught earlier. */
		int busy = ctx->busy, usage = ctx->usage;
		if (!failed)
			ctx->busy = ctx->usage = 0;
		int passed = run_step(ctx, s, (int)i, header, params);
		if (failed) {
			ctx->busy = busy; /* a cleanup step's own error changes nothing */
			ctx->usage = usage;
		}
		if (passed && ctx->cancel && !failed) {
			/* A signal that arrived while C code ran (a sleep, a child)
			 * and that no later instruction raised still stops the run. */
			s->status = "FAIL";
			char why[64];
			snprintf(why, sizeof(why), "interrupted by %s", ff_signal_name(ctx->signal_seen));
			s->error = strdup(why);
			passed = 0;
		}
		if (!passed && !failed) {
			failed = 1;
			ff_err_set(&e, FF_EFAIL, "step %s failed: %s", s->name, s->error);
			fail(ctx, &e);
		}
	}
	if (atomic_load(&ctx->limit) != FF_LIMIT_NONE) {
		char limit[300];
		ff_vm_limit_text(ctx, limit, sizeof(limit));
		ff_err_set(&e, FF_ESANDBOX, "%s", limit);
		fail(ctx, &e);
	}
out:
	if (atomic_load(&ctx->limit) != FF_LIMIT_NONE && ctx->status != FF_OK)
		ctx->status = FF_ESANDBOX;
	else if (ctx->busy && ctx->status != FF_OK)
		ctx->status = FF_EBUSY;
	else if (ctx->usage && ctx->status != FF_OK)
		ctx->status = FF_EUSAGE;
	ff_watchdog_stop(ctx);
	if (ctx->ev_open)
		seal(ctx);
	else if (ctx->status != FF_OK)
		say(ctx, "ffrun: %s\n", ctx->error);
	if (ctx->L) {
		lua_close(ctx->L);
		ctx->L = NULL;
	}
	if (ctx->log_fd >= 0)
		close(ctx->log_fd);
	if (ctx->tmp_dir) {
		ff_remove_tree(ctx->tmp_dir);
		if (ctx->tmp_lock_fd >= 0)
			close(ctx->tmp_lock_fd);
		ctx->tmp_lock_fd = -1;
	}
	return ff_err_exit_status(ctx->status);
}

void ff_ctx_free(ff_ctx *ctx)
{
	free(ctx->runbook_path);
	free(ctx->runbook_dir);
	free(ctx->stdlib_dir);
	free(ctx->tmp_dir);
	free(ctx->backups_dir);
	free(ctx->evidence_dir);
	ff_jail_free(&ctx->jail);
	ff_progress_line_destroy(&ctx->progress);
	if (ctx->ev_open)
		ff_evidence_close(&ctx->ev);
	free(ctx->rb_name);
	free(ctx->rb_version);
	free(ctx->rb_summary);
	for (size_t i = 0; i < ctx->nparams; i++) {
		free(ctx->params[i].name);
		free(ctx->params[i].type);
		free(ctx->params[i].doc);
		free(ctx->params[i].value);
	}
	free(ctx->params);
	for (size_t i = 0; i < ctx->nsteps; i++) {
		free(ctx->steps[i].name);
		free(ctx->steps[i].doc);
		free(ctx->steps[i].error);
	}
	free(ctx->steps);
	for (size_t i = 0; i < ctx->nextra; i++) {
		free(ctx->extra_keys[i]);
		free(ctx->extra_vals[i]);
	}
	free(ctx->extra_keys);
	free(ctx->extra_vals);
	free(ctx->plan_json);
	for (size_t i = 0; i < ctx->nsecrets; i++)
		free(ctx->secrets[i]);
	free(ctx->secrets);
}
