/* pgbackrest.h - pgBackRest (the Debian package's /usr/bin/pgbackrest) run
 * for one stanza with the operator's own pgbackrest.conf. The host builds
 * every argv: a runbook names a command and typed values, never an option
 * string. Repository secrets stay in that file (or the child's environment,
 * PGBACKREST_*): ffrun never reads, passes or logs them. */
#ifndef FF_PGBACKREST_H
#define FF_PGBACKREST_H

#include <stddef.h>

#include "err.h"

#define FF_PGBACKREST_BIN "/usr/bin/pgbackrest"
#define FF_PGBR_REPO_MAX 256 /* pgBackRest's repositories are repo1 .. repo256 */

typedef struct ff_pgbr_opts {
	const char *config;   /* --config: the operator's pgbackrest.conf */
	const char *stanza;   /* --stanza */
	const char *os_user;  /* run as this user when ffrun is root */
	int log_fd;           /* stderr (pgBackRest's log lines) goes here */
	double timeout_s;     /* 0 = none */
	const volatile int *cancel;
	size_t out_max;       /* stdout kept up to this many bytes (0: 4 MiB) */
} ff_pgbr_opts;

typedef struct ff_pgbr_result {
	int ok;               /* exited 0 */
	int code;             /* exit status, or the signal that ended it */
	int timed_out;
	char *out;            /* stdout, NUL-terminated, malloc'd (never NULL on 0) */
	size_t out_len;
	int out_cut;          /* stdout was longer than out_max */
	char *tail;           /* the last bytes of stderr, malloc'd or NULL */
	double duration_s;
} ff_pgbr_result;

/* Run pgbackrest --config=C --stanza=S args... (args: the command and its
 * options, NULL-terminated, built by the host). 0 when it ran, whatever
 * its status (r->ok says); a negative code when it could not be started. */
int ff_pgbr_run(ff_pgbr_result *r, const ff_pgbr_opts *o, const char *const *args, ff_err *e);
void ff_pgbr_result_free(ff_pgbr_result *r);

/* The stanza's pg1-path as pgBackRest resolves it from o's configuration
 * (its files, includes and PGBACKREST_* environment): what its backups
 * copy, and what it checks against the server's data_directory at every
 * online backup. Read from `pgbackrest help restore pg1-path`. */
int ff_pgbr_pg1_path(const ff_pgbr_opts *o, char *out, size_t cap, ff_err *e);

/* The checks a typed value passes before it becomes an option: an LSN
 * (X/X in hex), a time (digits, '-', ':', ' ', '.', '+', a zone name), a
 * restore point name (printable, at most 63 bytes), a backup type. */
int ff_pgbr_valid_lsn(const char *s);
int ff_pgbr_valid_time(const char *s);
int ff_pgbr_valid_name(const char *s);
int ff_pgbr_valid_type(const char *s);

#endif
