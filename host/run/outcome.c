/* outcome.c - how a run ends: summary.json, the sealed evidence, the
 * outcome line, the metrics, and the end of a run stuck past its cap. */
#include "run/run_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/cluster.h"
#include "core/fsutil.h"
#include "core/jsonw.h"
#include "core/metrics.h"
#include "core/signals.h"
#include "core/tmpdir.h"

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
	if (ctx->pin.out && ctx->pin.sha256[0]) { /* the plan this rehearsal wrote */
		ff_jsonw_key(w, "plan_out");
		ff_jsonw_obj(w);
		ff_jsonw_kstr(w, "file", ctx->pin.out);
		ff_jsonw_kstr(w, "sha256", ctx->pin.sha256);
		ff_jsonw_end(w, '}');
	}
	if (ctx->pin.pinned) { /* the plan this run was held to */
		ff_jsonw_key(w, "plan");
		ff_jsonw_obj(w);
		ff_jsonw_kstr(w, "sha256", ctx->pin.sha256);
		ff_jsonw_kstr(w, "file", ctx->pin.in);
		ff_jsonw_key(w, "pinned");
		ff_jsonw_bool(w, 1);
		ff_jsonw_kint(w, "writes_planned", (long long)ctx->pin.want.n);
		ff_jsonw_kint(w, "writes_done", (long long)ctx->pin.next);
		ff_jsonw_end(w, '}');
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
void ff_rb_say(ff_ctx *ctx, const char *fmt, ...)
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
		ff_rb_say(ctx, "ffrun: %s\n", ctx->error);
}

static const char *extra(const ff_ctx *ctx, const char *key)
{
	for (size_t i = 0; i < ctx->nextra; i++)
		if (!strcmp(ctx->extra_keys[i], key))
			return ctx->extra_vals[i];
	return NULL;
}

/* Prometheus textfile metrics for a real run: last success per runbook,
 * the last backup's size and duration, the last drill's RTO and RPO and
 * its amcheck's time (kept out of RTO, so reported on its own). */
static void write_metrics(ff_ctx *ctx, double finished)
{
	ff_metric m[7];
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
		if ((v = extra(ctx, "amcheck_s")))
			m[n++] = (ff_metric){ "ffrun_last_drill_amcheck_seconds", atof(v) };
	}
	/* Engine pgbackrest: the WAL archive's lag as the run saw it (gate,
	 * backup). A lag never measured (nothing archived) is not a number. */
	if ((v = extra(ctx, "wal_archive"))) {
		const char *s = strstr(v, "\"lag_s\":"), *b = strstr(v, "\"lag_bytes\":");
		if (s)
			m[n++] = (ff_metric){ "ffrun_wal_archive_lag_seconds", atof(s + 8) };
		if (b)
			m[n++] = (ff_metric){ "ffrun_wal_archive_lag_bytes", atof(b + 12) };
	}
	if (ff_metrics_write(ctx->cfg->monitoring_textfile, ctx->rb_name, pass, finished,
			     duration, m, n, &e) < 0)
		ff_rb_say(ctx, "ffrun: warning: %s\n", e.msg);
}

void ff_rb_seal(ff_ctx *ctx)
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
		ff_rb_say(ctx, "ffrun: cannot seal the evidence in %s: %s\n", ctx->ev.dir,
		    w.oom ? "out of memory" : e.msg);
	print_outcome(ctx, w.oom ? "{}" : w.buf);
	ff_jsonw_free(&w);
	write_metrics(ctx, ff_time_now());
}


static void destroy_clusters(ff_ctx *ctx)
{
	for (int i = 0; i < FF_MAX_CLUSTERS; i++)
		if (ctx->clusters[i])
			ff_cluster_destroy(ctx->clusters[i], -1, NULL);
}

void ff_rb_stuck(ff_ctx *ctx, int exit_status)
{
	char limit[300];
	if (atomic_load(&ctx->closing) && ctx->status == FF_OK) {
		/* The steps are done; the handles they left did not close. */
		ctx->status = FF_EFAIL;
		if (ctx->signal_seen)
			snprintf(ctx->error, sizeof(ctx->error), "stopped by %s while closing the run's handles",
				 ff_signal_name(ctx->signal_seen));
		else
			snprintf(ctx->error, sizeof(ctx->error),
				 "closing the run's handles took more than %g s", FF_CLOSE_GRACE_S);
		exit_status = 1;
	}
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
	/* While the state closes its finalizers own the instances (one may
	 * be tearing its own down now): they are left to the next run's
	 * reaper rather than torn down twice at once. */
	if (!atomic_load(&ctx->closing))
		destroy_clusters(ctx);
	ff_rb_seal(ctx);
	ff_tmpdir_remove(ctx->tmp_dir, ctx->tmp_lock_fd);
	_exit(exit_status);
}
