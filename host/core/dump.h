/* dump.h - a PostgreSQL dump tool (pg_dump, pg_dumpall) streaming its
 * archive to a file through sha256, in a thread of its own, optionally
 * with the archive read back behind the writer by pg_restore --data-only
 * for each table's rows and content digest (the stream fingerprints).
 * No Lua here: the binding opens the files, this owns them from then on. */
#ifndef FF_DUMP_H
#define FF_DUMP_H

#include <stdint.h>

#include "copyscan.h"
#include "err.h"
#include "hash.h"
#include "progress.h"

typedef struct ff_dump ff_dump;

typedef struct ff_dump_opts {
	const char *label;           /* "pg_dump": the progress line, errors */
	const char *const *argv;     /* tool (absolute) and arguments; copied */
	const char *const *env_extra; /* NULL-terminated "K=V" set over
	                                ff_pg_env() for the tool and the
	                                scanner; may be NULL */
	int out_fd;                  /* the archive, O_RDWR (read back by the
	                                scanner); owned from the call on */
	int log_fd;                  /* the tool's stderr capture; owned */
	uint64_t estimate;           /* expected bytes, 0 when unknown */
	int estimate_kind;           /* FF_PROGRESS_BOUND or _ABOUT */
	ff_progress_line *line;      /* the run's status line */
	int quiet;                   /* no progress line */
	const volatile int *cancel;  /* the run's stop flag; may be NULL */
	/* Stream fingerprints when scan_argv is not NULL: pg_restore
	 * --data-only --file=- reading the archive from its stdin. */
	const char *const *scan_argv; /* copied */
	int scan_log_fd;             /* its stderr capture; owned (or -1) */
	int scan_content;            /* also the content digests */
} ff_dump_opts;

typedef struct ff_dump_result {
	int ok;                 /* the tool exited 0 and the archive is synced */
	uint64_t bytes;
	char sha256[FF_SHA256_HEX];
	double duration_s;
	char error[1200];       /* one line when !ok */
	int fingerprinted;      /* ok, and stream fingerprints were asked: */
	char fp_error[1024];    /* why there are none ("" when there are) */
	const ff_copyscan *scan; /* the tables in the archive's order */
	int content;            /* their content digests are set */
} ff_dump_result;

/* Start the dump in a thread. The fds of o are the dump's from this call
 * on, also when it fails (they are closed then). */
int ff_dump_start(ff_dump **out, const ff_dump_opts *o, ff_err *e);

/* The same, run to the end in the caller's thread (no scanner). */
int ff_dump_run(ff_dump **out, const ff_dump_opts *o, ff_err *e);

/* Wait for the end (idempotent); the run's cancel flag still stops the
 * read-back. */
void ff_dump_wait(ff_dump *d);

/* The outcome, valid after ff_dump_wait until ff_dump_free. */
const ff_dump_result *ff_dump_result_of(ff_dump *d);

/* Stop what still runs (a job never waited for), close and free. NULL is
 * a no-op. */
void ff_dump_free(ff_dump *d);

#endif
