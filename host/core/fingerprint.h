/* fingerprint.h - row counts and content digests of many tables, over
 * several connections at once.
 *
 * A table's content digest is the sum modulo 2^256 of the sha256 of each
 * row of its COPY text (ff_pg_copy_sum). Tables go, biggest first, to
 * whichever connection is free. With a snapshot every connection imports
 * it, so all of them see exactly what the dump sees.
 *
 * With several connections, a big plain table is read in page ranges (TID
 * range scans, PostgreSQL 14+), so one big table does not leave all but
 * one connection idle. Measured on pgbench_accounts (scale 50, 2 cores):
 * its two halves by ctid took 568 + 539 ms server-side against 995 ms for
 * the whole, and a drill's proof 1.15-1.21 s against 1.30-1.40 s. */
#ifndef FF_FINGERPRINT_H
#define FF_FINGERPRINT_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "libpq.h"
#include "progress.h"

typedef struct ff_fp_table {
	const char *schema, *name; /* in */
	uint64_t rows;             /* out: exact number of rows */
	unsigned char sum[32];     /* out, content mode: the digest */
	unsigned parts;            /* out: reads it took (page ranges), 1 or more */
} ff_fp_table;

typedef struct ff_fp_opts {
	const char *target;   /* for messages */
	const char *conninfo; /* how each connection connects (never logged) */
	const char *dbname;   /* NULL: the conninfo's own */
	const char *snapshot; /* NULL, or an exported snapshot id to import */
	int content;          /* 0: count(*); 1: also the content digest */
	const char *encoding; /* COPY text's; NULL: the database's own (SPEC §6) */
	int jobs;             /* connections at once, 1 or more */
	const volatile int *cancel; /* stop when it turns true (a signal) */
	int quiet;            /* no progress lines */
	ff_progress_line *line; /* the run's status line; NULL: its own */
} ff_fp_opts;

/* One table on c, a connection already in its session (fixed COPY
 * settings, a transaction): count(*), or with content the COPY digest.
 * The one definition of what a fingerprint reads. */
int ff_fp_one(PGconn *c, ff_fp_table *t, int content, const char *encoding,
	      const volatile int *cancel, ff_err *e);

/* Fill rows (and sum) of t[0..n-1]. On failure nothing in t is meaningful
 * and e names the table. */
int ff_fp_tables(ff_fp_table *t, size_t n, const ff_fp_opts *o, ff_err *e);

#endif
