/* pg.h - PostgreSQL through libpq, and the PostgreSQL tools' argv and
 * environment. No Lua here: bindings free what they hold, then raise. */
#ifndef FF_PG_H
#define FF_PG_H

#include <libpq-fe.h>
#include <limits.h>
#include <stdint.h>

#include "err.h"
#include "progress.h"
#include "hash.h"
#include "libpq.h"

/* Connect with conninfo (NULL or "" = libpq's environment: PGHOST,
 * PGSERVICE…; passwords only through pgpass, the service file or
 * PGPASSWORD), to database dbname instead of the conninfo's when dbname is
 * not NULL (the restored copy, the maintenance database). Errors name the
 * target, never a password. */
int ff_pg_connect(PGconn **out, const char *target, const char *conninfo,
		  const char *dbname, ff_err *e);

/* The database the target names, as libpq resolves it (conninfo, service
 * file, PGDATABASE, the user name), found by connecting to it: *reached is
 * 1 when that worked, else 0 with e holding why (a database that is gone
 * still has its name). A negative return: not even the name is known. */
int ff_pg_target_dbname(char *out, size_t cap, int *reached, const char *target,
			const char *conninfo, ff_err *e);

/* Who a target is: its server's system identifier and version (asked on
 * the maintenance database) and the database it names (which may be gone). */
typedef struct ff_pg_ident {
	char system_identifier[32];
	char server_version[64];
	char dbname[128];
} ff_pg_ident;
int ff_pg_identity(ff_pg_ident *out, const char *target, const char *conninfo, ff_err *e);

/* PQexecParams that a stop can interrupt: the statement is sent, the
 * answer awaited in 100 ms polls, and once *cancel turns true the server
 * is asked to cancel it (its result then says so). The last result, as
 * PQexecParams gives it (NULL when the connection broke). */
PGresult *ff_pg_exec_cancellable(PGconn *c, const char *sql, int nparams,
				 const char *const *params, const volatile int *cancel);

/* Run one statement of ffrun's own (no parameters, no rows wanted). */
int ff_pg_command(PGconn *c, const char *sql, ff_err *e);

/* conninfo (key=value or URI) as a key=value string naming database
 * dbname instead: for a tool that must reach another database of the same
 * server. *out is malloc'd. */
int ff_pg_conninfo_with_db(char **out, const char *conninfo, const char *dbname, ff_err *e);

/* The fixed session settings under which COPY text is the same wherever the
 * same data lives (SPEC §6: content fingerprints). */
int ff_pg_fingerprint_settings(PGconn *c, ff_err *e);

/* The encoding a COPY of c's data is read in (its ENCODING option):
 * encoding, or when NULL the database's own, so its bytes pass
 * unconverted (a SQL_ASCII database may hold any byte, which no
 * conversion to UTF8 would let through). Always a plain word. */
const char *ff_pg_copy_encoding(PGconn *c, const char *encoding);

/* Order-independent digest of the rows `copy_sql` (a COPY … TO STDOUT)
 * streams: every row's sha256 is added to acc modulo 2^256, so any order
 * of the same rows (duplicates included) gives the same value, and the
 * sums of disjoint parts of a table add up to the whole table's. Adds the
 * number of rows to *rows. Stops with an error when *cancel turns true.
 * progress (may be NULL) is told the bytes read as they come. */
int ff_pg_copy_sum(unsigned char acc[32], uint64_t *rows, PGconn *c, const char *copy_sql,
		   const volatile int *cancel, ff_progress *progress, ff_err *e);
/* acc += h modulo 2^256 (both big-endian), and acc as 64 hex digits. */
void ff_pg_sum_add(unsigned char acc[32], const unsigned char h[32]);
void ff_pg_sum_hex(char hex[FF_SHA256_HEX], const unsigned char acc[32]);

/* The rows copy_sql (a COPY … TO STDOUT) streams, in their order: written
 * to fd as they come (fd < 0: only counted), their sha256 in hex, their
 * number and bytes. Constant memory whatever their size. */
int ff_pg_copy_out(char hex[FF_SHA256_HEX], uint64_t *rows, uint64_t *bytes, PGconn *c,
		   const char *copy_sql, int fd, const volatile int *cancel, ff_err *e);

/* A PostgreSQL tool: bindir "auto" picks /usr/lib/postgresql/<major>/bin
 * (major 0: the newest installed). */
int ff_pg_tool(char out[PATH_MAX], const char *bindir, int major, const char *tool,
	       ff_err *e);

/* The environment for a PostgreSQL tool: a scrubbed base plus libpq's own
 * variables (PGPASSFILE, PGSERVICE, PGPASSWORD…) and HOME for ~/.pgpass.
 * NULL-terminated, malloc'd; free with ff_pg_env_free. */
char **ff_pg_env(void);
void ff_pg_env_free(char **env);

#endif
