/* ctx.h - the host context, the one piece of mutable state of a run,
 * passed explicitly, and the API bindings use on it: raise a violation, a
 * busy or a usage error, log, add an event, get the private temporary
 * folder. Lua bindings reach the context through the state's extra space
 * (ff_ctx_of), never through a global. Implemented in vm/ (ctx.c,
 * sandbox.c), so bindings depend on the VM and never on the driver. */
#ifndef FF_CTX_H
#define FF_CTX_H

#include <limits.h>
#include <lua.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>

#include "core/config.h"
#include "core/err.h"
#include "core/evidence.h"
#include "core/path.h"
#include "core/progress.h"
#include "core/strlist.h"

/* Which limit ended the run; sticky once set (SPEC §5). */
enum { FF_LIMIT_NONE, FF_LIMIT_MEMORY, FF_LIMIT_INSTRUCTIONS, FF_LIMIT_WALL, FF_LIMIT_VIOLATION };

typedef struct ff_step {
	char *name;
	char *doc;
	int cleanup;
	const char *status;  /* "pending" "PASS" "FAIL" "skipped" "planned" */
	double duration_s;
	char *error;
} ff_step;

typedef struct ff_param {
	char *name, *type, *doc;
	char *value;       /* as given or defaulted, for the summary */
	int required;
	int is_dir;        /* type "dir": the folder becomes a read root */
} ff_param;

/* Plans (--plan-out, --plan): what a rehearsal records of the world it
 * was made in, and what a run pinned to it must find the same. */
typedef struct ff_pin {
	const char *out;         /* --plan-out FILE (with --dry-run) */
	const char *in;          /* --plan FILE */
	const char *want_sha256; /* --plan-sha256: the approved plan's */
	double ttl_s;            /* --plan-ttl: how long a plan holds (24 h) */
	ff_strlist stamps;       /* what ff.time.stamp() made in this run */
	ff_strlist modules;      /* "sha256 path" of each module required */
	ff_strlist targets;      /* targets the runbook connected to */
	ff_strlist lines;        /* its writes: "[step] call args", normalized */
	char backup_path[PATH_MAX];            /* ff.plan.backup(): the chosen */
	char backup_digest[FF_SHA256_HEX];     /* its DIGEST's sha256 */
	/* a pinned run */
	int pinned;
	char sha256[FF_SHA256_HEX];            /* the plan's own */
	char runbook[PATH_MAX];                /* the plan's runbook */
	char runbook_sha256[FF_SHA256_HEX];
	ff_strlist params;       /* its params as NAME=VALUE (ctx->assign) */
	ff_strlist want;         /* the plan's writes, in order */
	size_t next;             /* the next one expected */
	int broken;              /* a write left the plan: no more writes */
} ff_pin;

typedef struct ff_ctx {
	/* set by main before ff_run */
	const ff_config *cfg;
	const char *runbook_arg;     /* as typed */
	char **assign;               /* NAME=VALUE from the command line */
	int nassign;
	int dry_run, describe, check, json, quiet, verbose;

	/* resolved paths */
	char *runbook_path;          /* absolute */
	char *runbook_dir;
	char *stdlib_dir;
	char *tmp_dir;               /* private temporary folder, removed at exit */
	int tmp_lock_fd;             /* its flock, held while the run lives */
	char *backups_dir;           /* canonical paths.backups */
	char *evidence_dir;          /* canonical paths.evidence */
	char runbook_sha256[FF_SHA256_HEX];

	lua_State *L;
	ff_jail jail;
	ff_evidence ev;
	int ev_open;
	int log_fd;                  /* evidence raw/run.log, -1 until the
	                                first line (a silent run has none) */
	int log_failed;              /* raw/run.log could not be created */
	ff_progress_line progress;   /* stderr: long work's status line and
	                                the log lines, never one inside the other */

	/* runbook header */
	char *rb_name, *rb_version, *rb_summary;
	ff_param *params;
	size_t nparams;
	ff_step *steps;
	size_t nsteps;
	const char *cur_step;        /* for events; NULL outside steps */

	/* limits */
	size_t mem_used, mem_cap;
	long long instr_used, instr_cap;
	atomic_int limit;            /* FF_LIMIT_*, sticky */
	char limit_msg[256];
	double deadline_mono;        /* 0 = none */
	atomic_int interrupt;        /* a signal number, consumed by the hook */
	volatile int cancel;         /* tells running children to stop */
	volatile int signal_seen;    /* the last stop signal, for messages */
	pthread_t watchdog;
	int watchdog_on;
	atomic_int done;             /* tells the watchdog to return */
	atomic_int closing;          /* sealed, the Lua state closing */
	double closing_at;           /* when it began (monotonic) */

	/* outcome */
	double started_at, started_mono;
	int status;                  /* FF_OK or a FF_E* code */
	int busy;                    /* a lock was held by another run: exit 4 */
	int usage;                   /* the operator's input was refused: exit 2 */
	char error[1024];
	char **extra_keys;           /* members added by ff.evidence.set */
	char **extra_vals;           /* their values, as JSON */
	size_t nextra;
	char *plan_json;             /* planned writes, JSON array items */
	size_t nplan;
	ff_pin pin;                  /* plans: --plan-out, --plan */

	/* throwaway instances alive now: a watchdog abort tears them down */
#define FF_MAX_CLUSTERS 4
	struct ff_cluster *clusters[FF_MAX_CLUSTERS];

	char **secrets;              /* values to redact from captures */
	size_t nsecrets;

	/* Set by the driver: the watchdog calls it when the run is stuck
	 * past its cap or a second signal came during cleanup; it seals FAIL
	 * evidence and ends the process with exit_status. */
	void (*on_stuck)(struct ff_ctx *ctx, int exit_status);
} ff_ctx;

static inline ff_ctx *ff_ctx_of(lua_State *L)
{
	return *(ff_ctx **)lua_getextraspace(L);
}

/* Free everything the context owns (not the context itself). */
void ff_ctx_free(ff_ctx *ctx);

/* Report a sandbox violation: sticky (every later instruction fails too,
 * so no pcall can swallow it), exit 3. Never returns. */
int ff_violation(lua_State *L, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Fail the step because another run holds a lock: the run exits 4. */
int ff_busy(lua_State *L, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Fail the step because of the operator's input (a wrong confirm=, an
 * unknown backup): the run exits 2. */
int ff_usage(lua_State *L, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Append an event from a binding: step is the current step. */
void ff_event(ff_ctx *ctx, const char *event, const char *details);

/* Log a line to stderr (unless quiet) and to the run's log. */
void ff_logf(ff_ctx *ctx, const char *level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The run's private temporary folder (ff.paths.tmp), made and added to the
 * jail as writable the first time it is asked for, removed at the run's
 * end. NULL with e set when it cannot be made. */
const char *ff_run_tmp(ff_ctx *ctx, ff_err *e);

#endif
