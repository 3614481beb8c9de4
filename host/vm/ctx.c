/* ctx.c - the API bindings use on the run's context (ctx.h): log lines,
 * events, the busy and usage errors, the private temporary folder. */
#include "vm/ctx.h"

#include <lauxlib.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/jsonw.h"
#include "core/tmpdir.h"

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

/* Fail the step with msg after setting the flag that maps the run's exit
 * status (busy: 4, usage: 2). */
static int raise_flagged(lua_State *L, int *flag, const char *prefix, const char *msg)
{
	*flag = 1;
	lua_pushfstring(L, "%s%s", prefix, msg);
	return lua_error(L);
}

int ff_busy(lua_State *L, const char *fmt, ...)
{
	char msg[600];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return raise_flagged(L, &ff_ctx_of(L)->busy, "busy: ", msg);
}

int ff_usage(lua_State *L, const char *fmt, ...)
{
	char msg[600];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return raise_flagged(L, &ff_ctx_of(L)->usage, "", msg);
}

/* The driver's log line for each dead run's folder the reaper removed. */
static void tmp_reaped(void *arg, const char *path)
{
	ff_logf(arg, "warn", "removed %s, the temporary folder of a run that was killed", path);
}

const char *ff_run_tmp(ff_ctx *ctx, ff_err *e)
{
	const char *root = getenv("TMPDIR");
	char *dir;
	int lock_fd;
	if (ctx->tmp_dir)
		return ctx->tmp_dir;
	root = root && *root ? root : "/tmp";
	if (ff_tmpdir_make(&dir, &lock_fd, root, tmp_reaped, ctx, e) < 0)
		return NULL;
	if (ff_jail_add(&ctx->jail, dir, 1, e) < 0) {
		ff_tmpdir_remove(dir, lock_fd);
		free(dir);
		return NULL;
	}
	ctx->tmp_dir = dir;
	ctx->tmp_lock_fd = lock_fd;
	return dir;
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
	ff_strlist_free(&ctx->pin.stamps);
	ff_strlist_free(&ctx->pin.modules);
	ff_strlist_free(&ctx->pin.targets);
	ff_strlist_free(&ctx->pin.lines);
	ff_strlist_free(&ctx->pin.want);
	ff_strlist_free(&ctx->pin.params);
	for (size_t i = 0; i < ctx->nsecrets; i++)
		free(ctx->secrets[i]);
	free(ctx->secrets);
}
