/* pgadmin.h - the statements that change a server, on the maintenance
 * connection (ff.pg.admin's): create, drop, swap and open ffrun's own
 * databases, apply a globals file, and watch a restore's progress. Which
 * names are allowed is the caller's check; here every name is quoted.
 * No Lua here: 0 or a negative FF_E* with e set. */
#ifndef FF_PGADMIN_H
#define FF_PGADMIN_H

#include <libpq-fe.h>
#include <stdint.h>

#include "err.h"
#include "path.h"
#include "progress.h"
#include "strlist.h"

/* 1 when the server says db does not exist, 0 otherwise (also when it
 * cannot say). */
int ff_pgadmin_db_gone(PGconn *c, const char *db);

/* SELECT datname FROM pg_database ORDER BY 1, in *out (PQclear it). */
int ff_pgadmin_databases(PGresult **out, PGconn *c, ff_err *e);

/* CREATE DATABASE db, empty, from template0: with the owner, encoding and
 * locale of database like when it is not NULL, else the server's defaults
 * and encoding (NULL: the server's). FF_EINTERNAL: out of memory. */
int ff_pgadmin_create(PGconn *c, const char *db, const char *like, const char *encoding,
		      ff_err *e);

/* DROP DATABASE IF EXISTS db WITH (FORCE). */
int ff_pgadmin_drop(PGconn *c, const char *db, ff_err *e);

/* ALTER DATABASE db ALLOW_CONNECTIONS on. */
int ff_pgadmin_allow(PGconn *c, const char *db, int on, ff_err *e);

/* ALTER DATABASE from RENAME TO to. */
int ff_pgadmin_rename(PGconn *c, const char *from, const char *to, ff_err *e);

/* In one transaction: close live to new connections, end its sessions,
 * rename live -> old and nw -> live (five attempts). *downtime_s: how long
 * it took. */
int ff_pgadmin_swap(double *downtime_s, PGconn *c, const char *live, const char *nw,
		    const char *old, ff_err *e);

typedef struct ff_pgadmin_globals {
	int applied;          /* statements that succeeded */
	ff_strlist existing;  /* messages of objects that already existed */
	ff_strlist errors;    /* messages of the other failures */
} ff_pgadmin_globals;

/* pg_dumpall's globals file (read through the jail, at most 16 MiB)
 * statement by statement. Failing statements are listed, not returned:
 * a negative return is the file's (FF_ESANDBOX from the jail). Free r
 * with ff_pgadmin_globals_free, also after a failure. */
int ff_pgadmin_apply_globals(ff_pgadmin_globals *r, PGconn *c, const ff_jail *jail,
			     const char *file, ff_err *e);
void ff_pgadmin_globals_free(ff_pgadmin_globals *r);

/* A restore's progress: database db's size on disk above its size when
 * watching started, asked without ever blocking the loop that watches
 * pg_restore (an answer not yet arrived is taken at a later tick). */
typedef struct ff_pgadmin_watch {
	PGconn *pg;
	const char *db;
	uint64_t base;  /* the empty database's size */
	int in_flight;
	ff_progress progress;
} ff_pgadmin_watch;

/* Start the progress line (label "pg_restore", an ETA against estimate). */
void ff_pgadmin_watch_start(ff_pgadmin_watch *w, PGconn *c, const char *db,
			    ff_progress_line *line, uint64_t estimate, int quiet);
/* ff_exec_opts.tick: w as its argument. */
void ff_pgadmin_watch_tick(void *w);
/* Collect the answer in flight and end the line; with final, it shows the
 * size the database ended at (not when stopping: no more waiting then). */
void ff_pgadmin_watch_end(ff_pgadmin_watch *w, int final);

#endif
