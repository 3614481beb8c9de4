/* amcheck.h - physical integrity of one database of a throwaway instance:
 * PostgreSQL's own pg_amcheck (--heapallindexed --install-missing) over
 * the instance's unix socket. Its whole report goes to a file; what a
 * runbook needs to name the problem (the first lines, the relations) is
 * read from the stream as it passes, in fixed buffers, whatever its size. */
#ifndef FF_AMCHECK_H
#define FF_AMCHECK_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define FF_AMCHECK_RELS 16    /* relations named in a result, at most */
#define FF_AMCHECK_NAME 200   /* "db.schema.relation", truncated beyond */

typedef struct ff_amcheck_opts {
	const char *pg_amcheck;     /* absolute path: the instance's own major */
	const char *sock;           /* the instance's socket folder */
	int port;
	const char *db;             /* the one database to check */
	int jobs;                   /* concurrent connections; < 1 means 1 */
	int out_fd;                 /* the whole report, stdout and stderr */
	double timeout_s;           /* 0 = none */
	const volatile int *cancel; /* turns non-zero: stop it (a signal) */
} ff_amcheck_opts;

typedef struct ff_amcheck_result {
	int corrupt;             /* pg_amcheck exited 2: it found corruption */
	double duration_s;
	unsigned long problems;  /* reports ("heap table …:", "btree index …:") */
	char summary[1024];      /* the first reports, one line, "" when none */
	char rels[FF_AMCHECK_RELS][FF_AMCHECK_NAME]; /* distinct, in order */
	size_t nrels;
	uint64_t out_bytes;      /* of stdout (the report) */
} ff_amcheck_result;

/* Run pg_amcheck on o->db. 0 when it ran to its end: nothing found
 * (r->corrupt 0) or corruption found (r->corrupt 1, exit status 2, the
 * relations and the first reports in r). FF_EFAIL when it could not start,
 * was stopped, or failed otherwise (exit 1: no such database, the
 * extension could not be installed…), e->msg ending with its last words. */
int ff_amcheck_run(ff_amcheck_result *r, const ff_amcheck_opts *o, ff_err *e);

/* The report's reader, exposed for tests: feed stdout's bytes in any
 * pieces, then end. Lines longer than its buffer are cut, not lost track
 * of. */
typedef struct ff_amcheck_scan {
	ff_amcheck_result *r;
	char line[512];
	size_t len;
	int cut;                 /* the current line went past line[] */
	int taking;              /* the current report goes into the summary */
} ff_amcheck_scan;

void ff_amcheck_scan_init(ff_amcheck_scan *s, ff_amcheck_result *r);
void ff_amcheck_scan_feed(ff_amcheck_scan *s, const char *p, size_t n);
void ff_amcheck_scan_end(ff_amcheck_scan *s);

#endif
