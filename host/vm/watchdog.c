/* watchdog.c - the thread that watches a run from outside the Lua state:
 * the stop signals and the wall-clock cap (vm.h). */
#include "vm/vm.h"

#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"

/* The one global of the host, and why: our threads block the stop signals
 * and the watchdog takes them with sigtimedwait, but a thread we did not
 * create (AddressSanitizer's, for one) may still receive a process-directed
 * signal. This handler, the only thing that can run there, leaves the
 * signal number for the watchdog's next tick instead of letting the default
 * action end ffrun without its cleanup and evidence. */
static volatile sig_atomic_t stray_signal;

static void stray_handler(int sig)
{
	stray_signal = sig;
}

static void *watchdog_main(void *arg)
{
	ff_ctx *ctx = arg;
	sigset_t set;
	struct timespec tick = { 0, 100 * 1000 * 1000 };
	double stuck_since = 0;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1); /* ff_watchdog_stop's wake-up call */
	while (!atomic_load(&ctx->done)) {
		int sig = sigtimedwait(&set, NULL, &tick);
		if (sig == SIGUSR1)
			continue;
		if (sig <= 0 && stray_signal) {
			sig = stray_signal;
			stray_signal = 0;
		}
		if (atomic_load(&ctx->closing)) {
			/* The steps are done and the state is closing: its
			 * finalizers (ours: a connection, a job, an instance) get
			 * FF_CLOSE_GRACE_S, a signal ends them at once. */
			if (sig > 0)
				ctx->signal_seen = sig;
			if (sig > 0 || ff_time_mono() - ctx->closing_at > FF_CLOSE_GRACE_S)
				ctx->on_stuck(ctx, ff_err_exit_status(ctx->status));
			continue;
		}
		if (sig > 0) {
			if (ctx->cancel) /* a second signal: stop waiting for cleanup */
				ctx->on_stuck(ctx, 1);
			atomic_store(&ctx->interrupt, sig);
			ctx->signal_seen = sig;
			ctx->cancel = 1;
		}
		if (ctx->deadline_mono && ff_time_mono() > ctx->deadline_mono) {
			ff_vm_set_limit(ctx, FF_LIMIT_WALL);
			ctx->cancel = 1;
			/* The hook ends Lua code at once; work stuck inside C (a
			 * pathological pattern match) gets two seconds, then the
			 * evidence is sealed from here and the process ends. */
			if (!stuck_since)
				stuck_since = ff_time_mono();
			else if (ff_time_mono() - stuck_since > 2.0)
				ctx->on_stuck(ctx, 3);
		}
	}
	return NULL;
}

void ff_signals_hold(void)
{
	sigset_t set;
	struct sigaction sa;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = stray_handler;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
}

int ff_watchdog_start(ff_ctx *ctx, ff_err *e)
{
	ff_signals_hold(); /* idempotent; the driver holds them from its start */
	if (ctx->cfg->seconds > 0)
		ctx->deadline_mono = ctx->started_mono + ctx->cfg->seconds;
	if (pthread_create(&ctx->watchdog, NULL, watchdog_main, ctx) != 0)
		return ff_err_set(e, FF_EINTERNAL, "cannot start the watchdog thread");
	ctx->watchdog_on = 1;
	return 0;
}

void ff_watchdog_stop(ff_ctx *ctx)
{
	if (!ctx->watchdog_on)
		return;
	atomic_store(&ctx->done, 1);
	pthread_kill(ctx->watchdog, SIGUSR1); /* no need to wait for its tick */
	pthread_join(ctx->watchdog, NULL);
	ctx->watchdog_on = 0;
}

int ff_watchdog_guard_close(ff_ctx *ctx, ff_err *e)
{
	ctx->closing_at = ff_time_mono();
	atomic_store(&ctx->closing, 1);
	atomic_store(&ctx->done, 0);
	if (pthread_create(&ctx->watchdog, NULL, watchdog_main, ctx) != 0)
		return ff_err_set(e, FF_EINTERNAL, "cannot start the watchdog thread");
	ctx->watchdog_on = 1;
	return 0;
}
