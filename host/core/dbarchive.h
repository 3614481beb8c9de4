/* dbarchive.h - the database itself as a pg_dump archive holds it.
 *
 * pg_dump writes the statements that make the database it dumped (CREATE
 * DATABASE with its encoding, collation, ctype, locale provider and ICU
 * locale; its owner) and give it its properties (comment, GRANTs,
 * connection limit, ALTER DATABASE … SET, ALTER ROLE … IN DATABASE …
 * SET) into entries pg_restore prints only with --create. ffrun restores
 * into a database of another name (beside the live one): these
 * statements, read back from the archive and renamed, make it as the
 * source was. No second copy of them is kept anywhere. */
#ifndef FF_DBARCHIVE_H
#define FF_DBARCHIVE_H

#include <stddef.h>

#include "err.h"

typedef enum {
	FF_DBA_CREATE,     /* the DATABASE entry: CREATE DATABASE, its owner */
	FF_DBA_PROPERTIES, /* COMMENT, ACL, SECURITY LABEL, DATABASE PROPERTIES */
	FF_DBA_SEQUENCES,  /* SEQUENCE SET: each sequence's value as restored */
} ff_dba_part;

/* 1 when line (of `pg_restore --create --list`) is an entry of part. */
int ff_dba_list_line(const char *line, ff_dba_part part);

typedef struct ff_dba_stmts {
	char **v;
	size_t n;
} ff_dba_stmts;

/* The statements of sql (pg_restore's script of such entries), each
 * naming the database to_quoted (an identifier already quoted) where it
 * named from. Its SET client_encoding is kept (the script is in the
 * database's encoding); other session settings, comments and psql's
 * meta-commands are left out; any statement such an entry does not hold, or one naming
 * another database, is refused (e says which). */
int ff_dba_rewrite(ff_dba_stmts *out, const char *sql, const char *from, const char *to_quoted,
		   ff_err *e);
void ff_dba_stmts_free(ff_dba_stmts *s);

/* The statements of part, read from archive by pg_restore (the tool's
 * path; its list goes through tmpdir; its messages to log_fd), renamed
 * as ff_dba_rewrite does. *out may hold none (an archive without them).
 * from and to_quoted are not used by ff_dba_sequences. */
typedef struct ff_dba_opts {
	const char *pg_restore;
	const char *archive;
	const char *tmpdir;
	const char *from;
	const char *to_quoted;
	const char *const *env;
	int log_fd;
	const volatile int *cancel;
} ff_dba_opts;
int ff_dba_statements(ff_dba_stmts *out, ff_dba_part part, const ff_dba_opts *o, ff_err *e);

/* The sequences' values the archive sets (pg_dump reads a sequence when it
 * dumps it, outside any snapshot: what a restore gives is this, not what
 * a second reader saw). qname as pg_dump qualifies and quotes it. */
typedef struct ff_dba_setval {
	char *qname;
	long long value;
	int is_called;
} ff_dba_setval;
typedef struct ff_dba_setvals {
	ff_dba_setval *v;
	size_t n;
} ff_dba_setvals;
/* Parse pg_restore's script of SEQUENCE SET entries. */
int ff_dba_parse_setvals(ff_dba_setvals *out, const char *sql, ff_err *e);
int ff_dba_sequences(ff_dba_setvals *out, const ff_dba_opts *o, ff_err *e);
void ff_dba_setvals_free(ff_dba_setvals *s);

#endif
