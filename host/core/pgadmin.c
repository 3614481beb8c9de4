/* pgadmin.c - the statements that change a server (pgadmin.h). */
#include "pgadmin.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "libpq.h"
#include "pg.h"

int ff_pgadmin_db_gone(PGconn *c, const char *db)
{
	const char *params[1] = { db };
	PGresult *r = ff_pq()->PQexecParams(c, "SELECT 1 FROM pg_database WHERE datname = $1",
					    1, NULL, params, NULL, NULL, 0);
	int gone = ff_pq()->PQresultStatus(r) == PGRES_TUPLES_OK && ff_pq()->PQntuples(r) == 0;
	ff_pq()->PQclear(r);
	return gone;
}

int ff_pgadmin_databases(PGresult **out, PGconn *c, ff_err *e)
{
	*out = ff_pq()->PQexec(c, "SELECT datname FROM pg_database ORDER BY 1");
	if (ff_pq()->PQresultStatus(*out) == PGRES_TUPLES_OK)
		return 0;
	ff_pq()->PQclear(*out);
	*out = NULL;
	return ff_err_set(e, FF_EFAIL, "%s", ff_pq()->PQerrorMessage(c));
}

/* Identifiers and literals quoted by libpq, freed with PQfreemem. */
static char *ident(PGconn *c, const char *s)
{
	return ff_pq()->PQescapeIdentifier(c, s, strlen(s));
}

static char *literal(PGconn *c, const char *s)
{
	return ff_pq()->PQescapeLiteral(c, s, strlen(s));
}

/* Run the statement fmt makes of the quoted strings, then free them. */
static int command_of(PGconn *c, ff_err *e, int ok, char *q1, char *q2, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
static int command_of(PGconn *c, ff_err *e, int ok, char *q1, char *q2, const char *fmt, ...)
{
	char *sql = NULL;
	int rc;
	if (ok) {
		va_list ap;
		va_start(ap, fmt);
		if (vasprintf(&sql, fmt, ap) < 0)
			sql = NULL;
		va_end(ap);
	}
	ff_pq()->PQfreemem(q1);
	ff_pq()->PQfreemem(q2);
	if (!sql)
		return ff_err_set(e, FF_EINTERNAL, "out of memory");
	rc = ff_pg_command(c, sql, e);
	free(sql);
	return rc;
}

/* The statement that makes db like database like, written by the server
 * from like's own row (format's %I and %L quote it). */
static int create_like(PGconn *c, const char *db, const char *like, ff_err *e)
{
	char *qlike = literal(c, like), *qdb = literal(c, db), *sql = NULL;
	if (qlike && qdb &&
	    asprintf(&sql,
		     "SELECT format('CREATE DATABASE %%I TEMPLATE template0 OWNER %%I ENCODING %%L"
		     " LC_COLLATE %%L LC_CTYPE %%L', %s::text, pg_get_userbyid(datdba),"
		     " pg_encoding_to_char(encoding), datcollate, datctype)"
		     " FROM pg_database WHERE datname = %s", qdb, qlike) < 0)
		sql = NULL;
	ff_pq()->PQfreemem(qlike);
	ff_pq()->PQfreemem(qdb);
	if (!sql)
		return ff_err_set(e, FF_EINTERNAL, "out of memory");
	PGresult *r = ff_pq()->PQexec(c, sql);
	free(sql);
	int rc;
	if (ff_pq()->PQresultStatus(r) != PGRES_TUPLES_OK || ff_pq()->PQntuples(r) != 1)
		rc = ff_err_set(e, FF_EFAIL, "create database %s: cannot read %s's settings: %s", db,
				like, ff_pq()->PQerrorMessage(c));
	else
		rc = ff_pg_command(c, ff_pq()->PQgetvalue(r, 0, 0), e);
	ff_pq()->PQclear(r);
	return rc;
}

int ff_pgadmin_create(PGconn *c, const char *db, const char *like, const char *encoding,
		      ff_err *e)
{
	if (like)
		return create_like(c, db, like, e);
	char *qn = ident(c, db), *qe = encoding ? literal(c, encoding) : NULL;
	return command_of(c, e, qn && (!encoding || qe), qn, qe, "CREATE DATABASE %s TEMPLATE template0%s%s",
			  qn, qe ? " ENCODING " : "", qe ? qe : "");
}

int ff_pgadmin_drop(PGconn *c, const char *db, ff_err *e)
{
	char *qn = ident(c, db);
	return command_of(c, e, qn != NULL, qn, NULL, "DROP DATABASE IF EXISTS %s WITH (FORCE)", qn);
}

int ff_pgadmin_allow(PGconn *c, const char *db, int on, ff_err *e)
{
	char *qn = ident(c, db);
	return command_of(c, e, qn != NULL, qn, NULL, "ALTER DATABASE %s ALLOW_CONNECTIONS %s", qn,
			  on ? "true" : "false");
}

int ff_pgadmin_rename(PGconn *c, const char *from, const char *to, ff_err *e)
{
	char *qf = ident(c, from), *qt = ident(c, to);
	return command_of(c, e, qf && qt, qf, qt, "ALTER DATABASE %s RENAME TO %s", qf, qt);
}

/* The swap's three statements: begin (close and terminate), rename (and
 * commit), and the count of sessions still on live. */
typedef struct swap_sql {
	char *begin, *rename, *left;
} swap_sql;

static int swap_build(swap_sql *s, PGconn *c, const char *live, const char *nw, const char *old)
{
	char *ql = ident(c, live), *qn = ident(c, nw), *qo = ident(c, old), *lit = literal(c, live);
	int ok = ql && qn && qo && lit &&
		 asprintf(&s->begin,
			  "BEGIN; ALTER DATABASE %s ALLOW_CONNECTIONS false;"
			  "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
			  " WHERE datname = %s AND pid <> pg_backend_pid();", ql, lit) >= 0;
	if (ok && asprintf(&s->rename, "ALTER DATABASE %s RENAME TO %s; ALTER DATABASE %s RENAME TO %s; COMMIT",
			   ql, qo, qn, ql) < 0)
		ok = 0, s->rename = NULL;
	if (ok && asprintf(&s->left, "SELECT count(*) FROM pg_stat_activity WHERE datname = %s", lit) < 0)
		ok = 0, s->left = NULL;
	ff_pq()->PQfreemem(ql);
	ff_pq()->PQfreemem(qn);
	ff_pq()->PQfreemem(qo);
	ff_pq()->PQfreemem(lit);
	return ok ? 0 : -1;
}

/* Terminated sessions take a moment to go; a rename with one still there
 * fails. */
static void wait_sessions_gone(PGconn *c, const char *left)
{
	for (int i = 0; i < 100; i++) {
		PGresult *r = ff_pq()->PQexec(c, left);
		int n = ff_pq()->PQresultStatus(r) == PGRES_TUPLES_OK ? atoi(ff_pq()->PQgetvalue(r, 0, 0)) : -1;
		ff_pq()->PQclear(r);
		if (n <= 0)
			break;
		usleep(50000);
	}
}

int ff_pgadmin_swap(double *downtime_s, PGconn *c, const char *live, const char *nw,
		    const char *old, ff_err *e)
{
	swap_sql s = {0};
	int rc = 0;
	if (swap_build(&s, c, live, nw, old) < 0) {
		rc = ff_err_set(e, FF_EINTERNAL, "out of memory");
		goto out;
	}
	double t0 = ff_time_mono();
	for (int attempt = 1; ; attempt++) {
		if (ff_pg_command(c, s.begin, e) == 0) {
			wait_sessions_gone(c, s.left);
			if (ff_pg_command(c, s.rename, e) == 0)
				break;
		}
		ff_pg_command(c, "ROLLBACK", NULL);
		if (attempt == 5) {
			char why[sizeof(e->msg)];
			snprintf(why, sizeof(why), "%s", e->msg);
			rc = ff_err_set(e, FF_EFAIL, "swap %s <-> %s: %s", live, nw, why);
			goto out;
		}
		usleep(200000);
	}
	*downtime_s = ff_time_mono() - t0;
out:
	free(s.begin);
	free(s.rename);
	free(s.left);
	return rc;
}

static int read_file(char **text, const ff_jail *jail, const char *file, ff_err *e)
{
	int fd, rc;
	struct stat st;
	*text = NULL;
	if ((rc = ff_jail_open(&fd, jail, file, O_RDONLY, 0, e)) < 0)
		return rc;
	if (fstat(fd, &st) < 0 || st.st_size > (16 << 20)) {
		close(fd);
		return ff_err_set(e, FF_EFAIL, "%s: unreadable or too large", file);
	}
	if (!(*text = malloc((size_t)st.st_size + 1))) {
		close(fd);
		return ff_err_set(e, FF_EINTERNAL, "out of memory");
	}
	ssize_t got = read(fd, *text, (size_t)st.st_size);
	close(fd);
	(*text)[got > 0 ? (size_t)got : 0] = '\0';
	return 0;
}

/* One statement's failure, listed by kind. */
static int list_failure(ff_pgadmin_globals *r, PGresult *res)
{
	const char *state = ff_pq()->PQresultErrorField(res, PG_DIAG_SQLSTATE);
	char msg[400];
	snprintf(msg, sizeof(msg), "%s", ff_pq()->PQresultErrorMessage(res));
	msg[strcspn(msg, "\n")] = '\0';
	if (state && !strcmp(state, "42710")) /* duplicate_object */
		return ff_strlist_push(&r->existing, msg);
	return ff_strlist_push(&r->errors, msg);
}

int ff_pgadmin_apply_globals(ff_pgadmin_globals *r, PGconn *c, const ff_jail *jail,
			     const char *file, ff_err *e)
{
	char *text;
	int rc;
	memset(r, 0, sizeof(*r));
	if ((rc = read_file(&text, jail, file, e)) < 0)
		return rc;
	/* pg_dumpall writes one statement a line; comments and psql's \
	 * meta-commands (\connect, \restrict) are skipped. */
	for (const char *line = text; *line && rc == 0; ) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		if (len && line[0] != '-' && line[0] != '\\' && line[len - 1] == ';') {
			char *sql = strndup(line, len);
			PGresult *res = sql ? ff_pq()->PQexec(c, sql) : NULL;
			ExecStatusType st = ff_pq()->PQresultStatus(res);
			if (!sql)
				rc = ff_err_set(e, FF_EINTERNAL, "out of memory");
			else if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
				r->applied++;
			else if (list_failure(r, res) < 0)
				rc = ff_err_set(e, FF_EINTERNAL, "out of memory");
			ff_pq()->PQclear(res);
			free(sql);
		}
		line += len + (nl ? 1 : 0);
	}
	free(text);
	return rc;
}

void ff_pgadmin_globals_free(ff_pgadmin_globals *r)
{
	ff_strlist_free(&r->existing);
	ff_strlist_free(&r->errors);
}

static int db_size_ask(PGconn *pg, const char *db)
{
	const char *params[1] = { db };
	return ff_pq()->PQsendQueryParams(pg, "SELECT pg_database_size($1)", 1, NULL, params,
					  NULL, NULL, 0);
}

/* The answer to db_size_ask: the size, or -1. With wait 0 only what has
 * arrived (PQgetResult blocks unless PQisBusy says it will not; its last
 * NULL waits for ReadyForQuery), and *done says whether all of it came. */
static int64_t db_size_take(PGconn *pg, int wait, int *done)
{
	int64_t size = -1;
	*done = 0;
	while (wait || !ff_pq()->PQisBusy(pg)) {
		PGresult *r = ff_pq()->PQgetResult(pg);
		if (!r) {
			*done = 1;
			break;
		}
		if (ff_pq()->PQresultStatus(r) == PGRES_TUPLES_OK && ff_pq()->PQntuples(r) == 1)
			size = strtoll(ff_pq()->PQgetvalue(r, 0, 0), NULL, 10);
		ff_pq()->PQclear(r);
	}
	return size;
}

/* The size asked and waited for; -1 when it cannot be had. */
static int64_t db_size(PGconn *pg, const char *db)
{
	int done;
	return db_size_ask(pg, db) ? db_size_take(pg, 1, &done) : -1;
}

void ff_pgadmin_watch_start(ff_pgadmin_watch *w, PGconn *c, const char *db,
			    ff_progress_line *line, uint64_t estimate, int quiet)
{
	memset(w, 0, sizeof(*w));
	w->pg = c;
	w->db = db;
	int64_t base = db_size(c, db);
	w->base = base > 0 ? (uint64_t)base : 0;
	/* Against the source's size: the restored copy ends near it (less
	 * its bloat), so the ETA is an estimate. */
	ff_progress_init(&w->progress, line, "pg_restore", estimate, FF_PROGRESS_ABOUT, quiet);
}

void ff_pgadmin_watch_tick(void *arg)
{
	ff_pgadmin_watch *w = arg;
	if (w->in_flight) {
		int done = 0;
		if (!ff_pq()->PQconsumeInput(w->pg))
			return;
		int64_t size = db_size_take(w->pg, 0, &done);
		if (size >= 0)
			ff_progress_set(&w->progress, (uint64_t)size > w->base ? (uint64_t)size - w->base : 0);
		if (!done)
			return; /* the rest next time */
		w->in_flight = 0;
	}
	w->in_flight = db_size_ask(w->pg, w->db);
}

void ff_pgadmin_watch_end(ff_pgadmin_watch *w, int final)
{
	int done;
	if (w->in_flight)
		(void)db_size_take(w->pg, 1, &done);
	int64_t size = final ? db_size(w->pg, w->db) : -1;
	if (size >= 0 && (uint64_t)size > w->base)
		w->progress.done = (uint64_t)size - w->base; /* no tick runs now */
	ff_progress_end(&w->progress);
}
