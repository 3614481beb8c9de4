#include "pg.h"

#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <endian.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Start a connection to target, whatever comes of it: *c is set (check
 * its status) unless libpq cannot be loaded or memory runs out. dbname,
 * when not NULL, overrides the conninfo's. */
static int open_conn(PGconn **c, const char *target, const char *conninfo,
		     const char *dbname, ff_err *e)
{
	/* With expand_dbname only the first dbname is read as a conninfo; a
	 * second one is a plain database name that overrides it. */
	/* Names and messages come back as UTF-8 whatever the database's
	 * encoding (they go into JSON); data is read in its own encoding by
	 * COPY's ENCODING option (ff_pg_copy_encoding). */
	const char *keys[] = { "dbname", "application_name", "connect_timeout", "client_encoding",
			       "dbname", NULL };
	const char *vals[] = { conninfo && *conninfo ? conninfo : "", "ffrun", "10", "UTF8", dbname,
			       NULL };
	if (!dbname)
		keys[4] = NULL;
	int rc = ff_libpq_load(e);
	if (rc < 0)
		return rc;
	if (!(*c = ff_pq()->PQconnectdbParams(keys, vals, 1)))
		return ff_err_set(e, FF_EFAIL, "target %s: out of memory", target);
	return 0;
}

/* "target T: cannot connect: <libpq's first line>" */
static int connect_error(PGconn *c, const char *target, ff_err *e)
{
	char msg[600];
	snprintf(msg, sizeof(msg), "%s", ff_pq()->PQerrorMessage(c));
	msg[strcspn(msg, "\n")] = '\0';
	return ff_err_set(e, FF_EFAIL, "target %s: cannot connect: %s", target, msg);
}

int ff_pg_connect(PGconn **out, const char *target, const char *conninfo,
		  const char *dbname, ff_err *e)
{
	PGconn *c = NULL;
	int rc = open_conn(&c, target, conninfo, dbname, e);
	if (rc < 0)
		return rc;
	if (ff_pq()->PQstatus(c) != CONNECTION_OK) {
		rc = connect_error(c, target, e);
		ff_pq()->PQfinish(c);
		return rc;
	}
	*out = c;
	return 0;
}

int ff_pg_target_dbname(char *out, size_t cap, int *reached, const char *target,
			const char *conninfo, ff_err *e)
{
	PGconn *c = NULL;
	int rc = open_conn(&c, target, conninfo, NULL, e);
	if (rc < 0)
		return rc;
	const char *db = ff_pq()->PQdb(c);
	*reached = ff_pq()->PQstatus(c) == CONNECTION_OK;
	if (!*reached)
		connect_error(c, target, e);
	if (!db || !*db || strlen(db) >= cap) {
		ff_pq()->PQfinish(c);
		return *reached ? ff_err_set(e, FF_EFAIL, "target %s: no usable database name", target)
				: FF_EFAIL;
	}
	snprintf(out, cap, "%s", db);
	ff_pq()->PQfinish(c);
	return 0;
}

static int result_error(PGresult *r, PGconn *c, const char *what, ff_err *e)
{
	char msg[600];
	snprintf(msg, sizeof(msg), "%s", r ? ff_pq()->PQresultErrorMessage(r) : ff_pq()->PQerrorMessage(c));
	msg[strcspn(msg, "\n")] = '\0';
	ff_pq()->PQclear(r);
	return ff_err_set(e, FF_EFAIL, "%s: %s", what, msg);
}

int ff_pg_command(PGconn *c, const char *sql, ff_err *e)
{
	PGresult *r = ff_pq()->PQexec(c, sql);
	ExecStatusType st = ff_pq()->PQresultStatus(r);
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
		return result_error(r, c, sql, e);
	ff_pq()->PQclear(r);
	return 0;
}

PGresult *ff_pg_exec_cancellable(PGconn *c, const char *sql, int nparams,
				 const char *const *params, const volatile int *cancel)
{
	const ff_libpq *pq = ff_pq();
	int asked = 0;
	if (!cancel)
		return pq->PQexecParams(c, sql, nparams, NULL, params, NULL, NULL, 0);
	if (!pq->PQsendQueryParams(c, sql, nparams, NULL, params, NULL, NULL, 0))
		return NULL;
	while (pq->PQisBusy(c)) {
		struct pollfd p = { .fd = pq->PQsocket(c), .events = POLLIN };
		if (*cancel && !asked) {
			char err[256];
			PGcancel *k = pq->PQgetCancel(c);
			if (k) {
				(void)pq->PQcancel(k, err, sizeof(err));
				pq->PQfreeCancel(k);
			}
			asked = 1;
		}
		if (p.fd < 0 || (poll(&p, 1, 100) < 0 && errno != EINTR) || !pq->PQconsumeInput(c))
			break;
	}
	PGresult *last = NULL, *r;
	while ((r = pq->PQgetResult(c))) {
		ExecStatusType st = pq->PQresultStatus(r);
		pq->PQclear(last);
		last = r;
		/* COPY answers stay until their data is read: PQexec stops
		 * here too (a COPY is not a query's answer). */
		if (st == PGRES_COPY_OUT || st == PGRES_COPY_IN || st == PGRES_COPY_BOTH ||
		    pq->PQstatus(c) == CONNECTION_BAD)
			break;
	}
	return last;
}

int ff_pg_identity(ff_pg_ident *out, const char *target, const char *conninfo, ff_err *e)
{
	int reached = 0, rc;
	PGconn *c = NULL;
	memset(out, 0, sizeof(*out));
	if ((rc = ff_pg_target_dbname(out->dbname, sizeof(out->dbname), &reached, target, conninfo, e)) < 0)
		return rc;
	/* The server's identity, from its maintenance database: the
	 * target's own may be the one a restore brings back. */
	if ((rc = ff_pg_connect(&c, target, conninfo, "postgres", e)) < 0)
		return rc;
	PGresult *r = ff_pq()->PQexec(c, "select system_identifier::text, current_setting('server_version') "
					 "from pg_control_system()");
	if (ff_pq()->PQresultStatus(r) != PGRES_TUPLES_OK || ff_pq()->PQntuples(r) != 1) {
		rc = result_error(r, c, "the server's identity", e);
		ff_pq()->PQfinish(c);
		return rc;
	}
	snprintf(out->system_identifier, sizeof(out->system_identifier), "%s", ff_pq()->PQgetvalue(r, 0, 0));
	snprintf(out->server_version, sizeof(out->server_version), "%s", ff_pq()->PQgetvalue(r, 0, 1));
	ff_pq()->PQclear(r);
	ff_pq()->PQfinish(c);
	return 0;
}

static void append_quoted(char **buf, size_t *len, size_t *cap, const char *k, const char *v)
{
	size_t need = *len + strlen(k) + 2 * strlen(v) + 8;
	if (need > *cap) {
		size_t nc = need * 2;
		char *nb = realloc(*buf, nc);
		if (!nb)
			return;
		*buf = nb;
		*cap = nc;
	}
	char *p = *buf + *len;
	p += sprintf(p, "%s%s='", *len ? " " : "", k);
	for (; *v; v++) {
		if (*v == '\'' || *v == '\\')
			*p++ = '\\';
		*p++ = *v;
	}
	*p++ = '\'';
	*p = '\0';
	*len = (size_t)(p - *buf);
}

int ff_pg_conninfo_with_db(char **out, const char *conninfo, const char *dbname, ff_err *e)
{
	int loaded = ff_libpq_load(e);
	if (loaded < 0)
		return loaded;
	char *errmsg = NULL;
	PQconninfoOption *opts = ff_pq()->PQconninfoParse(conninfo ? conninfo : "", &errmsg);
	if (!opts) {
		int rc = ff_err_set(e, FF_EUSAGE, "conninfo: %s", errmsg ? errmsg : "out of memory");
		ff_pq()->PQfreemem(errmsg);
		return rc;
	}
	char *buf = NULL;
	size_t len = 0, cap = 0;
	for (PQconninfoOption *o = opts; o->keyword; o++)
		if (o->val && *o->val && strcmp(o->keyword, "dbname"))
			append_quoted(&buf, &len, &cap, o->keyword, o->val);
	append_quoted(&buf, &len, &cap, "dbname", dbname);
	ff_pq()->PQconninfoFree(opts);
	if (!buf)
		return ff_err_set(e, FF_EINTERNAL, "out of memory");
	*out = buf;
	return 0;
}

int ff_pg_fingerprint_settings(PGconn *c, ff_err *e)
{
	return ff_pg_command(c,
		"SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'postgres';"
		"SET extra_float_digits = 3; SET bytea_output = 'hex';"
		"SET TimeZone = 'UTC'; SET client_encoding = 'UTF8';"
		"SET standard_conforming_strings = on; SET lc_monetary = 'C';"
		/* As pg_dump: a row policy that would hide rows from this role
		 * is an error, never a smaller table proven. */
		"SET row_security = off;"
		/* regclass, regtype, regproc… print as the search_path sees
		 * them: schema-qualified, as pg_dump (which sets it empty)
		 * wrote them, whatever the database or role sets. */
		"SELECT pg_catalog.set_config('search_path', '', false)", e);
}

const char *ff_pg_copy_encoding(PGconn *c, const char *encoding)
{
	const char *enc = encoding ? encoding : ff_pq()->PQparameterStatus(c, "server_encoding");
	/* An encoding's name is a word: anything else is not one. */
	if (!enc || !*enc || strspn(enc, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_") != strlen(enc) ||
	    strlen(enc) > 32)
		return "UTF8";
	return enc;
}

void ff_pg_sum_add(unsigned char acc[32], const unsigned char h[32])
{
	/* Four big-endian 64-bit limbs, least significant last; once a row,
	 * so whole-word loads, not a byte loop. */
	unsigned carry = 0;
	for (int i = 24; i >= 0; i -= 8) {
		uint64_t x, y;
		memcpy(&x, acc + i, 8);
		memcpy(&y, h + i, 8);
		x = be64toh(x);
		y = be64toh(y);
		uint64_t s = x + y;
		unsigned c1 = s < x;
		uint64_t t = s + carry;
		carry = c1 | (t < s);
		t = htobe64(t);
		memcpy(acc + i, &t, 8);
	}
}

void ff_pg_sum_hex(char hex[FF_SHA256_HEX], const unsigned char acc[32])
{
	static const char digits[] = "0123456789abcdef";
	for (int i = 0; i < 32; i++) {
		hex[2 * i] = digits[acc[i] >> 4];
		hex[2 * i + 1] = digits[acc[i] & 15];
	}
	hex[64] = '\0';
}

int ff_pg_copy_sum(unsigned char acc[32], uint64_t *rows, PGconn *c, const char *copy_sql,
		   const volatile int *cancel, ff_progress *progress, ff_err *e)
{
	unsigned char h[32];
	uint64_t n = 0, bytes = 0;
	char *row = NULL;
	int len, err = 0;

	PGresult *r = ff_pq()->PQexec(c, copy_sql);
	if (ff_pq()->PQresultStatus(r) != PGRES_COPY_OUT)
		return result_error(r, c, copy_sql, e);
	ff_pq()->PQclear(r);
	/* One row per PQgetCopyData in text format: hash each on its own. */
	while ((len = ff_pq()->PQgetCopyData(c, &row, 0)) > 0) {
		ff_sha256_raw(h, row, (size_t)len);
		ff_pg_sum_add(acc, h);
		n++;
		bytes += (uint64_t)len;
		ff_pq()->PQfreemem(row);
		if ((n & 4095) == 0 && progress) {
			ff_progress_add(progress, bytes);
			bytes = 0;
		}
		if ((n & 4095) == 0 && cancel && *cancel) {
			/* The caller closes the connection, which ends the COPY. */
			*rows += n;
			return ff_err_set(e, FF_EFAIL, "%s: cancelled", copy_sql);
		}
	}
	if (len == -2)
		err = ff_err_set(e, FF_EFAIL, "%s: %s", copy_sql, ff_pq()->PQerrorMessage(c));
	while ((r = ff_pq()->PQgetResult(c))) {
		if (!err && ff_pq()->PQresultStatus(r) != PGRES_COMMAND_OK)
			err = result_error(r, c, copy_sql, e);
		else
			ff_pq()->PQclear(r);
	}
	if (progress)
		ff_progress_add(progress, bytes);
	*rows += n;
	return err;
}

/* All of p to fd, through short writes and EINTR. */
static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int ff_pg_copy_out(char hex[FF_SHA256_HEX], uint64_t *rows, uint64_t *bytes, PGconn *c,
		   const char *copy_sql, int fd, const volatile int *cancel, ff_err *e)
{
	char *row = NULL;
	int len, err = 0;
	*rows = *bytes = 0;
	ff_sha256 *h = ff_sha256_new();
	if (!h)
		return ff_err_set(e, FF_EINTERNAL, "out of memory");
	PGresult *r = ff_pq()->PQexec(c, copy_sql);
	if (ff_pq()->PQresultStatus(r) != PGRES_COPY_OUT) {
		ff_sha256_free(h);
		return result_error(r, c, "COPY", e);
	}
	ff_pq()->PQclear(r);
	while ((len = ff_pq()->PQgetCopyData(c, &row, 0)) > 0) {
		ff_sha256_update(h, row, (size_t)len);
		if (!err && fd >= 0 && write_all(fd, row, (size_t)len) < 0)
			err = ff_err_set(e, FF_EFAIL, "COPY: write: %s", strerror(errno));
		ff_pq()->PQfreemem(row);
		(*rows)++;
		*bytes += (uint64_t)len;
		/* A failed write or a stop reads the rest away: the COPY must
		 * end before the connection serves anything else. */
		if (!err && cancel && *cancel)
			err = ff_err_set(e, FF_EFAIL, "COPY: cancelled");
	}
	if (len == -2 && !err)
		err = ff_err_set(e, FF_EFAIL, "COPY: %s", ff_pq()->PQerrorMessage(c));
	while ((r = ff_pq()->PQgetResult(c))) {
		if (!err && ff_pq()->PQresultStatus(r) != PGRES_COMMAND_OK)
			err = result_error(r, c, "COPY", e);
		else
			ff_pq()->PQclear(r);
	}
	ff_sha256_final(h, hex);
	ff_sha256_free(h);
	return err;
}

int ff_pg_tool(char out[PATH_MAX], const char *bindir, int major, const char *tool,
	       ff_err *e)
{
	if (bindir && *bindir && strcmp(bindir, "auto")) {
		snprintf(out, PATH_MAX, "%s/%s", bindir, tool);
		if (access(out, X_OK) == 0)
			return 0;
		return ff_err_set(e, FF_EFAIL, "%s not found in %s (postgres.bindir)", tool, bindir);
	}
	if (major > 0) {
		snprintf(out, PATH_MAX, "/usr/lib/postgresql/%d/bin/%s", major, tool);
		if (access(out, X_OK) == 0)
			return 0;
		return ff_err_set(e, FF_EFAIL,
				  "%s for PostgreSQL %d not found in /usr/lib/postgresql/%d/bin "
				  "(install postgresql-client-%d or set postgres.bindir)",
				  tool, major, major, major);
	}
	int best = 0;
	DIR *d = opendir("/usr/lib/postgresql");
	struct dirent *de;
	while (d && (de = readdir(d))) {
		int v = atoi(de->d_name);
		char p[PATH_MAX];
		snprintf(p, sizeof(p), "/usr/lib/postgresql/%d/bin/%s", v, tool);
		if (v > best && access(p, X_OK) == 0)
			best = v;
	}
	if (d)
		closedir(d);
	if (!best)
		return ff_err_set(e, FF_EFAIL, "%s not found under /usr/lib/postgresql "
				  "(install postgresql-client or set postgres.bindir)", tool);
	snprintf(out, PATH_MAX, "/usr/lib/postgresql/%d/bin/%s", best, tool);
	return 0;
}

char **ff_pg_env(void)
{
	extern char **environ;
	size_t n = 0;
	for (char **v = environ; *v; v++)
		n++;
	char **env = calloc(n + 4, sizeof(char *));
	size_t k = 0;
	if (!env)
		return NULL;
	env[k++] = strdup("PATH=/usr/bin:/bin");
	env[k++] = strdup("LANG=C.UTF-8");
	for (char **v = environ; *v; v++)
		if (!strncmp(*v, "PG", 2) || !strncmp(*v, "HOME=", 5))
			env[k++] = strdup(*v);
	for (size_t i = 0; i < k; i++)
		if (!env[i]) {
			ff_pg_env_free(env);
			return NULL;
		}
	return env;
}

void ff_pg_env_free(char **env)
{
	if (!env)
		return;
	for (char **v = env; *v; v++)
		free(*v);
	free(env);
}
