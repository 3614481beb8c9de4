/* exec.h - run a child process: argv only, scrubbed environment, its own
 * process group, a timeout that kills the whole group, output captured
 * (stdout and stderr merged) into a file with secret values redacted. */
#ifndef FF_EXEC_H
#define FF_EXEC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "err.h"

typedef struct ff_exec_opts {
	const char *const *env; /* NULL-terminated "K=V" list, the whole
	                           environment of the child; NULL gives
	                           PATH=/usr/bin:/bin and LANG=C.UTF-8 */
	const char *cwd;        /* working folder; NULL keeps ours */
	int out_fd;             /* captured stdout+stderr go here; -1 discards */
	int stdin_fd;           /* the child's stdin when > 0 (a pipe we
	                           feed); otherwise /dev/null */
	double timeout_s;       /* 0 = none; on expiry SIGTERM the group, then
	                           SIGKILL after kill_grace_s */
	double kill_grace_s;    /* 0 means 2 seconds */
	const char *const *secrets; /* NULL-terminated strings replaced by
	                               "[REDACTED]" in the captured output */
	size_t tail_max;        /* keep up to this many last bytes of (redacted)
	                           output in res->tail; 0 = none */
	const volatile int *cancel; /* when it turns non-zero, the group is
	                               killed as on a timeout (a signal to ffrun) */
	/* When set, the child's stdout is not captured with stderr: its bytes
	 * go, unchanged and in order, to stdout_sink (a dump on its way to
	 * disk). A negative return stops the child as on a timeout, and
	 * ff_exec_run then fails with the errno the sink stored in
	 * *stdout_errno (may be NULL). */
	int (*stdout_sink)(void *arg, const char *p, size_t n);
	void *stdout_arg;
	int *stdout_errno;
	int background;         /* the child runs only on CPU nothing else
	                           wants (SCHED_IDLE): work that may lag so
	                           that the critical path does not... */
	const volatile int *foreground; /* ...until this turns non-zero: then
	                           it returns to the normal policy (where
	                           permitted; see ff_sched_background) */
	void (*tick)(void *arg); /* called every tick_s seconds while the child
	                           runs, in this thread (progress of long work) */
	void *tick_arg;
	double tick_s;
	uid_t run_as;           /* run as this uid/gid when as_user is set */
	gid_t run_as_gid;
	int as_user;
	int die_with_parent;    /* the child gets SIGTERM when the thread that
	                           started it ends, ffrun killed with SIGKILL
	                           included (PR_SET_PDEATHSIG): for a child
	                           that must not go on alone (pgBackRest,
	                           holding its lock and repository). Start it
	                           from the thread that waits for it. */
} ff_exec_opts;

typedef struct ff_exec_result {
	int exited;         /* 1 when the child exited normally */
	int status;         /* exit status when exited, else the signal number */
	int timed_out;      /* 1 when the timeout (or cancel) killed it */
	uint64_t out_bytes; /* bytes of output captured */
	char *tail;         /* malloc'd NUL-terminated tail of output, or NULL */
	double duration_s;
} ff_exec_result;

/* Run argv[0] (an absolute path) with argv. Returns 0 when the child was
 * started and reaped, whatever its status; a negative code when it could
 * not be started (e->msg says why). Free res->tail with ff_exec_result_free. */
int ff_exec_run(ff_exec_result *res, const char *const *argv,
		const ff_exec_opts *opts, ff_err *e);
void ff_exec_result_free(ff_exec_result *res);

/* A stdout_sink that gathers the child's stdout into buf (malloc'd,
 * NUL-terminated, len bytes). Past max bytes (0: 64 MiB) the rest is
 * dropped and cut set, or, with refuse, the sink fails with EFBIG (so
 * ff_exec_run fails). The caller frees buf. */
typedef struct ff_exec_gather {
	char *buf;
	size_t len, cap, max;
	int cut, refuse;
} ff_exec_gather;
int ff_exec_gather_sink(void *arg, const char *p, size_t n);

/* Put thread tid (0: the caller) in the background: SCHED_IDLE, so it runs
 * only on CPU no other thread wants (on), or back under SCHED_OTHER with its
 * old nice value (off). Best effort: 0, or -1 with errno. Leaving SCHED_IDLE
 * needs root or an RLIMIT_NICE that allows it; without, it stays idle. */
int ff_sched_background(pid_t tid, int on);

/* Streaming redactor used by the capture, exposed for tests: replaces every
 * occurrence of each secret, also across write boundaries. */
typedef struct ff_redactor ff_redactor;
ff_redactor *ff_redactor_new(const char *const *secrets,
			     int (*sink)(void *arg, const char *p, size_t n),
			     void *arg);
int ff_redactor_write(ff_redactor *r, const char *p, size_t n);
int ff_redactor_flush(ff_redactor *r);
void ff_redactor_free(ff_redactor *r);

#endif
