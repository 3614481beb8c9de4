/* splitload.h - one table's data loaded over several connections.
 *
 * pg_restore loads a table with one worker, so the server parses its COPY
 * on one core however many jobs it is given. Here pg_restore writes one
 * TOC entry's data as SQL (-L with that entry, -f -); the rows go out in
 * line-aligned chunks to `jobs` COPY FROM STDIN sessions of the database,
 * each its own transaction, committed only once every session took its
 * share. A COPY text row never holds a raw newline (COPY escapes it), so a
 * chunk ends at a newline and no row is split. Memory: one chunk a
 * session, whatever the table's size. */
#ifndef FF_SPLITLOAD_H
#define FF_SPLITLOAD_H

#include <stdint.h>

#include "err.h"
#include "exec.h"

#define FF_SPLITLOAD_MAX_JOBS 16

typedef struct ff_splitload_opts {
	const char *target;   /* for messages */
	const char *conninfo; /* the server (libpq conninfo, no password) */
	const char *dbname;   /* the database loaded */
	int jobs;             /* sessions, 1..FF_SPLITLOAD_MAX_JOBS */
	const char *const *argv; /* pg_restore writing the entry on stdout */
	ff_exec_opts exec;    /* pg_restore's: env, out_fd (its log), cancel,
	                         tick…; stdout_sink is set here */
} ff_splitload_opts;

typedef struct ff_splitload_result {
	ff_exec_result exec;  /* pg_restore's run (free with ff_exec_result_free) */
	uint64_t rows;        /* the rows the sessions' COPYs report */
	uint64_t bytes;       /* of COPY text sent */
	char copy[600];       /* the COPY statement pg_restore wrote */
} ff_splitload_result;

/* Returns 0 when pg_restore exited 0 and every session committed; else
 * FF_EFAIL (e says what: a session's server error, pg_restore's exit, text
 * that is not one table's COPY) with every session rolled back, or the
 * code ff_exec_run gave. r->exec is filled whenever pg_restore ran. */
int ff_splitload_run(ff_splitload_result *r, const ff_splitload_opts *o, ff_err *e);

#endif
