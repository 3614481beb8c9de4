/* run.c - the run driver: resolve the runbook, build the jail, open the
 * evidence, start the watchdog and the sandbox, load the runbook, check
 * its header and params, run its steps in order (cleanup steps always),
 * and turn the outcome into evidence and an exit status. */
#include "run/run.h"
#include "run/run_int.h"

#include <errno.h>
#include <fcntl.h>
#include <lauxlib.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/fsutil.h"
#include "core/hash.h"
#include "core/jsonw.h"
#include "core/redact.h"
#include "core/signals.h"
#include "core/tmpdir.h"
#include "lua/modules.h"

/* --- helpers ------------------------------------------------------------------ */



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
		return ff_err_set(e, FF_EUSAGE, "%s", ff_rb_error_text(L, -1));
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
		ff_rb_say(ctx, "-> %s: %s\n", s->name, s->doc);
	double t0 = ff_time_mono();

	lua_getfield(L, header, "steps");
	lua_rawgeti(L, -1, step_index + 1);
	lua_getfield(L, -1, "run");
	lua_pushvalue(L, params_idx);
	int rc = lua_pcall(L, 1, 0, 0);
	s->duration_s = ff_time_mono() - t0;
	if (rc != LUA_OK) {
		s->status = "FAIL";
		if (ctx->cancel && ctx->signal_seen && !strstr(ff_rb_error_text(L, -1), "interrupted by")) {
			/* The step failed because a signal stopped its work (a
			 * child killed): say so, not only what broke. */
			lua_pushfstring(L, "%s (interrupted by %s)", ff_rb_error_text(L, -1),
					ff_signal_name(ctx->signal_seen));
		}
		s->error = strdup(ff_rb_error_text(L, -1));
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
	char path[PATH_MAX + 64];
	const char *arg = ctx->runbook_arg;
	int n;
	if (!strchr(arg, '/') && !strstr(arg, ".lua"))
		n = snprintf(path, sizeof(path), "%s/runbooks/%s.lua", home, arg);
	else
		n = snprintf(path, sizeof(path), "%s", arg);
	if (n < 0 || (size_t)n >= sizeof(path))
		return ff_err_set(e, FF_EUSAGE, "runbook %s: the path is too long", arg);
	char *real = realpath(path, NULL);
	if (!real)
		return ff_err_set(e, FF_EUSAGE, "runbook %s: %s", path, strerror(errno));
	ctx->runbook_path = real;
	ctx->runbook_dir = strdup(real);
	*strrchr(ctx->runbook_dir, '/') = '\0';
	if (snprintf(path, sizeof(path), "%s/stdlib", home) >= (int)sizeof(path))
		return ff_err_set(e, FF_EINTERNAL, "stdlib folder under %s: the path is too long", home);
	ctx->stdlib_dir = realpath(path, NULL);
	if (!ctx->stdlib_dir)
		return ff_err_set(e, FF_EINTERNAL, "stdlib folder %s: %s", path, strerror(errno));
	if (ff_sha256_path(ctx->runbook_sha256, real, e) < 0)
		return e->code = FF_EUSAGE;
	return 0;
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

/* Where runbooks/ and stdlib/ are: $FFRUN_HOME; else, for an installed
 * binary, <prefix>/share/ffrun beside its <prefix>/bin (found from
 * /proc/self/exe, so a package or a `cmake --install --prefix` anywhere
 * works without the source tree); else the source folder it was built
 * from. */
static const char *ffrun_home(char buf[PATH_MAX])
{
	const char *env = getenv("FFRUN_HOME");
	if (env && *env)
		return env;
	char exe[PATH_MAX], probe[PATH_MAX + 32];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		char *slash = strrchr(exe, '/');
		if (slash) {
			*slash = '\0';
			snprintf(probe, sizeof(probe), "%s/../share/ffrun/stdlib", exe);
			struct stat st;
			if (stat(probe, &st) == 0 && S_ISDIR(st.st_mode)) {
				snprintf(probe, sizeof(probe), "%s/../share/ffrun", exe);
				if (realpath(probe, buf))
					return buf;
			}
		}
	}
	return FF_SOURCE_DIR;
}

/* Everything before the runbook's code runs: the runbook found and
 * hashed, the jail, the evidence folder and the watchdog (a real run or
 * dry-run only), the sandbox. */
static int prepare(ff_ctx *ctx, ff_err *e)
{
	char homebuf[PATH_MAX];
	const char *home = ffrun_home(homebuf);
	int is_run = !ctx->describe && !ctx->check;
	int err;

	collect_secrets(ctx);
	/* A pinned run: the plan, checked against the world, names the
	 * runbook and its params. */
	if (ctx->pin.in && (err = ff_pin_load(ctx, e)) < 0)
		return err;
	if ((err = resolve_runbook(ctx, home, e)) < 0 || (err = build_jail(ctx, e)) < 0)
		return err;
	if (ctx->pin.pinned && (err = ff_pin_check_runbook(ctx, e)) < 0)
		return err;
	if (is_run && ((err = open_evidence(ctx, e)) < 0 || (err = ff_watchdog_start(ctx, e)) < 0))
		return err;
	if ((err = ff_vm_new(&ctx->L, ctx, ff_modules, e)) < 0)
		return err;
	char details[PATH_MAX + 200];
	snprintf(details, sizeof(details), "\"runbook\":\"%s\",\"sha256\":\"%s\",\"mode\":\"%s\"",
		 ctx->runbook_path, ctx->runbook_sha256, ctx->dry_run ? "dry-run" : "run");
	ff_event(ctx, "run.start", details);
	if (ctx->ev_open)
		fill_run_table(ctx);
	return 0;
}

/* The runbook's top level runs now (its requires too), in the sandbox,
 * under the limits; its header is read and, unless --describe, its params
 * checked. Leaves the header and the params table on the stack. */
static int load_runbook(ff_ctx *ctx, ff_err *e)
{
	lua_State *L = ctx->L;
	int err;
	if ((err = load_file(L, ctx->runbook_path, e)) < 0)
		return err;
	if (lua_pcall(L, 0, 1, 0) != LUA_OK)
		return ff_err_set(e, atomic_load(&ctx->limit) ? FF_ESANDBOX : FF_EUSAGE, "%s",
				  ff_rb_error_text(L, -1));
	if ((err = ff_rb_read_header(ctx, e)) < 0 || ctx->describe)
		return err;
	if (ctx->check) /* a lint: no run-time value is asked for */
		return ff_rb_lint_params(ctx, lua_gettop(L), e);
	return ff_rb_read_params(ctx, lua_gettop(L), e);
}

/* Step i in its turn: skipped after a limit or (unless cleanup) after a
 * failed step; returns whether it passed. */
static int step_in_turn(ff_ctx *ctx, size_t i, int failed, int header, int params)
{
	ff_step *s = &ctx->steps[i];
	if (atomic_load(&ctx->limit) != FF_LIMIT_NONE) {
		s->status = "skipped";
		s->error = strdup("not run: a limit ended the run");
		return 0;
	}
	if (failed && !s->cleanup) {
		s->status = "skipped";
		return 0;
	}
	if (failed) {
		/* Cleanup runs even after a signal; children of the failed
		 * step were told to stop, this step's must not be. */
		ctx->cancel = 0;
		atomic_store(&ctx->interrupt, 0);
	}
	/* Exit 4 (busy) and 2 (usage) belong to the error that failed the
	 * run, not to one a runbook caught earlier. */
	int busy = ctx->busy, usage = ctx->usage;
	if (!failed)
		ctx->busy = ctx->usage = 0;
	int passed = run_step(ctx, s, (int)i, header, params);
	if (failed) {
		ctx->busy = busy; /* a cleanup step's own error changes nothing */
		ctx->usage = usage;
	}
	if (passed && ctx->cancel && !failed) {
		/* A signal that arrived while C code ran (a sleep, a child) and
		 * that no later instruction raised still stops the run. */
		s->status = "FAIL";
		char why[64];
		snprintf(why, sizeof(why), "interrupted by %s", ff_signal_name(ctx->signal_seen));
		s->error = strdup(why);
		passed = 0;
	}
	return passed;
}

static void run_steps(ff_ctx *ctx, int header, int params)
{
	ff_err e = {0};
	int failed = 0;
	for (size_t i = 0; i < ctx->nsteps; i++) {
		int passed = step_in_turn(ctx, i, failed, header, params);
		if (!passed && !failed && strcmp(ctx->steps[i].status, "skipped")) {
			failed = 1;
			ff_err_set(&e, FF_EFAIL, "step %s failed: %s", ctx->steps[i].name,
				   ctx->steps[i].error);
			fail(ctx, &e);
		}
	}
	if (atomic_load(&ctx->limit) != FF_LIMIT_NONE) {
		char limit[300];
		ff_vm_limit_text(ctx, limit, sizeof(limit));
		ff_err_set(&e, FF_ESANDBOX, "%s", limit);
		fail(ctx, &e);
	}
	if (ctx->pin.pinned && ctx->status == FF_OK && ctx->pin.broken) {
		ff_err_set(&e, FF_EFAIL, "pinned run: a write left its plan (a runbook caught the refusal)");
		fail(ctx, &e);
	} else if (ctx->pin.pinned && ctx->status == FF_OK && ctx->pin.next != ctx->pin.want.n) {
		ff_err_set(&e, FF_EFAIL, "pinned run: it did %zu of the %zu writes its plan holds",
			   ctx->pin.next, ctx->pin.want.n);
		fail(ctx, &e);
	}
}

/* Close the Lua state before the seal: every handle the runbook still
 * holds (a job whose pg_dump still writes its log, an instance) is
 * finalized now, so nothing writes to the evidence after its DIGEST.
 * Finalizers run with hooks off: the watchdog guards them, and one that
 * hangs, or a signal meanwhile, ends the run FAIL (ff_rb_stuck). */
static void close_state(ff_ctx *ctx)
{
	ff_err ge = {0};
	if (!ctx->L)
		return;
	int guarded = ctx->ev_open && ff_watchdog_guard_close(ctx, &ge) == 0;
	lua_close(ctx->L);
	ctx->L = NULL;
	if (guarded)
		ff_watchdog_stop(ctx);
}

/* The exit status's class, the seal, and everything the run held freed. */
static int finish(ff_ctx *ctx)
{
	if (atomic_load(&ctx->limit) != FF_LIMIT_NONE && ctx->status != FF_OK)
		ctx->status = FF_ESANDBOX;
	else if (ctx->busy && ctx->status != FF_OK)
		ctx->status = FF_EBUSY;
	else if (ctx->usage && ctx->status != FF_OK)
		ctx->status = FF_EUSAGE;
	ff_watchdog_stop(ctx);
	close_state(ctx);
	/* The plan of a rehearsal that passed; one that failed plans nothing. */
	ff_err pe = {0};
	if (ctx->pin.out && ctx->status == FF_OK && !ctx->check && !ctx->describe &&
	    ff_pin_write(ctx, &pe) < 0)
		fail(ctx, &pe);
	if (ctx->ev_open)
		ff_rb_seal(ctx);
	else if (ctx->status != FF_OK)
		ff_rb_say(ctx, "ffrun: %s\n", ctx->error);
	if (ctx->log_fd >= 0)
		close(ctx->log_fd);
	ctx->log_fd = -1;
	ff_tmpdir_remove(ctx->tmp_dir, ctx->tmp_lock_fd);
	ctx->tmp_lock_fd = -1;
	return ff_err_exit_status(ctx->status);
}

int ff_run(ff_ctx *ctx)
{
	ff_err e = {0};

	ctx->log_fd = ctx->tmp_lock_fd = -1;
	ctx->on_stuck = ff_rb_stuck;
	ff_progress_line_init(&ctx->progress);
	if (!ctx->describe && !ctx->check)
		ff_signals_hold();
	ctx->started_at = ff_time_now();
	ctx->started_mono = ff_time_mono();
	if (prepare(ctx, &e) < 0 || load_runbook(ctx, &e) < 0) {
		fail(ctx, &e);
		return finish(ctx);
	}
	if (ctx->describe) {
		ff_rb_describe(ctx);
	} else if (ctx->check) {
		if (!ctx->quiet)
			printf("ok: %s (%s %s): loads, %zu params declared well, %zu steps\n",
			       ctx->runbook_path, ctx->rb_name, ctx->rb_version, ctx->nparams, ctx->nsteps);
	} else {
		int params = lua_gettop(ctx->L);
		run_steps(ctx, params - 1, params);
	}
	return finish(ctx);
}
