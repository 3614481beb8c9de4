#include "splitload.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg.h"

/* A chunk is sent once this much of whole rows is held. */
#define CHUNK (256u * 1024u)

enum state {
	HEAD, /* before the COPY: settings to run on every session */
	DATA, /* the rows, up to the line `\.` */
	TAIL, /* after it: comments only */
};

typedef struct sl {
	const ff_splitload_opts *o;
	ff_splitload_result *r;
	PGconn *c[FF_SPLITLOAD_MAX_JOBS];
	int n, next, failed;
	enum state st;
	char *buf;        /* HEAD/TAIL: the line so far; DATA: rows not yet sent */
	size_t len, cap;
	size_t scanned;   /* DATA: buf[0..scanned) is whole rows, none `\.` */
	char *sql;        /* HEAD's statements */
	size_t slen, scap;
	char table[300];  /* the COPY's table, as pg_restore names it */
	char msg[900];    /* why it failed */
} sl;

static int failf(sl *s, const char *fmt, ...)
{
	if (!s->failed) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(s->msg, sizeof(s->msg), fmt, ap);
		va_end(ap);
	}
	s->failed = 1;
	return -1;
}

static int grow(char **p, size_t *cap, size_t need)
{
	if (need <= *cap)
		return 0;
	size_t c = *cap ? *cap : 4096;
	while (c < need)
		c *= 2;
	char *q = realloc(*p, c);
	if (!q)
		return -1;
	*p = q;
	*cap = c;
	return 0;
}

/* A session's last error, trimmed of its newline. */
static int conn_fail(sl *s, int i, const char *what, PGresult *res)
{
	const char *m = res ? ff_pq()->PQresultErrorMessage(res) : ff_pq()->PQerrorMessage(s->c[i]);
	char one[400]; /* libpq's lines as one */
	size_t k = 0;
	for (const char *p = m; *p && k + 1 < sizeof(one); p++)
		if (*p != '\n' && *p != '\t')
			one[k++] = *p;
		else if (k && one[k - 1] != ' ')
			one[k++] = ' ';
	while (k && one[k - 1] == ' ')
		k--;
	one[k] = '\0';
	return failf(s, "target %s: loading %s, session %d of %d: %s: %s", s->o->target, s->table, i + 1, s->n,
		     what, one);
}

static int exec_ok(sl *s, int i, const char *sql, ExecStatusType want, const char *what)
{
	PGresult *res = ff_pq()->PQexec(s->c[i], sql);
	ExecStatusType st = res ? ff_pq()->PQresultStatus(res) : PGRES_FATAL_ERROR;
	/* Settings may end with a SELECT (set_config): rows are fine too. */
	int ok = st == want || (want == PGRES_COMMAND_OK && st == PGRES_TUPLES_OK);
	if (!ok)
		conn_fail(s, i, what, res);
	ff_pq()->PQclear(res);
	return ok ? 0 : -1;
}

/* The COPY line: every session runs HEAD's settings, opens a
 * transaction and starts the COPY. */
static int begin_copy(sl *s, const char *line, size_t n)
{
	snprintf(s->r->copy, sizeof(s->r->copy), "%.*s", (int)(n > 500 ? 500 : n), line);
	/* "COPY name (columns) FROM stdin;": the name, for messages. */
	const char *end = strstr(s->r->copy + 5, " (");
	if (!end) /* a table of no columns */
		end = strstr(s->r->copy + 5, " FROM stdin;");
	size_t nl = end ? (size_t)(end - (s->r->copy + 5)) : strlen(s->r->copy + 5);
	while (nl && s->r->copy[5 + nl - 1] == ' ')
		nl--;
	if (nl > sizeof(s->table) - 1)
		nl = sizeof(s->table) - 1;
	snprintf(s->table, sizeof(s->table), "%.*s", (int)nl, s->r->copy + 5);
	char *copy = strndup(line, n);
	if (!copy)
		return failf(s, "out of memory");
	int rc = 0;
	for (int i = 0; i < s->n && rc == 0; i++) {
		if ((s->slen && exec_ok(s, i, s->sql, PGRES_COMMAND_OK, "the archive's settings") < 0) ||
		    exec_ok(s, i, "BEGIN", PGRES_COMMAND_OK, "BEGIN") < 0 ||
		    exec_ok(s, i, copy, PGRES_COPY_IN, "COPY") < 0)
			rc = -1;
		else if (ff_pq()->PQsetnonblocking(s->c[i], 1) < 0)
			rc = conn_fail(s, i, "nonblocking mode", NULL);
	}
	free(copy);
	s->st = DATA; /* lines() hands the rest of buf to data() */
	s->scanned = 0;
	return rc;
}

/* Wait until some session has sent all it was given; its index. */
static int drained(sl *s)
{
	struct pollfd p[FF_SPLITLOAD_MAX_JOBS];
	for (;;) {
		for (int k = 0; k < s->n; k++) {
			int i = (s->next + k) % s->n;
			int f = ff_pq()->PQflush(s->c[i]);
			if (f < 0)
				return conn_fail(s, i, "sending rows", NULL);
			if (f == 0)
				return i;
		}
		if (s->o->exec.cancel && *s->o->exec.cancel)
			return failf(s, "target %s: loading %s: cancelled", s->o->target, s->table);
		for (int i = 0; i < s->n; i++)
			p[i] = (struct pollfd){ .fd = ff_pq()->PQsocket(s->c[i]), .events = POLLOUT | POLLIN };
		if (poll(p, (nfds_t)s->n, 100) < 0 && errno != EINTR)
			return failf(s, "target %s: loading %s: poll: %s", s->o->target, s->table, strerror(errno));
		/* The server says nothing during a COPY unless it failed: read
		 * it, so the next send to that session fails with its error. */
		for (int i = 0; i < s->n; i++)
			if ((p[i].revents & (POLLIN | POLLERR | POLLHUP)) && !ff_pq()->PQconsumeInput(s->c[i]))
				return conn_fail(s, i, "sending rows", NULL);
	}
}

static int send_rows(sl *s, const char *p, size_t n)
{
	while (n) {
		int i = drained(s);
		if (i < 0)
			return -1;
		/* Whole rows only: a chunk is at most CHUNK plus one row,
		 * and PostgreSQL's rows are under 1 GiB. */
		if (n > (size_t)1 << 30)
			return failf(s, "target %s: loading %s: a row of over 1 GiB", s->o->target, s->table);
		int take = (int)n;
		/* Its buffer is drained, so libpq queues it or fails. */
		if (ff_pq()->PQputCopyData(s->c[i], p, take) != 1)
			return conn_fail(s, i, "sending rows", NULL);
		s->next = (i + 1) % s->n;
		s->r->bytes += (uint64_t)take;
		p += take;
		n -= (size_t)take;
	}
	return 0;
}

/* Rows of buf: send every whole row before the line `\.` once a chunk's
 * worth is held (all of them at the end); then TAIL. */
static int data(sl *s)
{
	size_t pos = s->scanned;
	while (pos < s->len) {
		const char *nl = memchr(s->buf + pos, '\n', s->len - pos);
		if (!nl)
			break;
		size_t row = (size_t)(nl - (s->buf + pos)) + 1;
		if (row == 3 && s->buf[pos] == '\\' && s->buf[pos + 1] == '.') {
			if (send_rows(s, s->buf, pos) < 0)
				return -1;
			size_t rest = s->len - pos - row;
			memmove(s->buf, s->buf + pos + row, rest);
			s->len = rest;
			s->scanned = 0;
			s->st = TAIL;
			return 0;
		}
		pos += row;
	}
	s->scanned = pos;
	if (pos >= CHUNK) {
		if (send_rows(s, s->buf, pos) < 0)
			return -1;
		memmove(s->buf, s->buf + pos, s->len - pos);
		s->len -= pos;
		s->scanned = 0;
	}
	return 0;
}

/* One whole line outside the rows. HEAD keeps statements for the
 * sessions, skips comments and psql's own commands (\restrict); TAIL
 * allows only those. */
static int line(sl *s, const char *p, size_t n)
{
	if (n == 0 || (n >= 2 && p[0] == '-' && p[1] == '-') || p[0] == '\\')
		return 0;
	if (s->st == TAIL)
		return failf(s, "target %s: after the rows of %s pg_restore wrote more than one table's data: %.*s",
			     s->o->target, s->table, (int)(n > 80 ? 80 : n), p);
	static const char tail[] = " FROM stdin;";
	size_t tl = sizeof(tail) - 1;
	if (n > 5 + tl && memcmp(p, "COPY ", 5) == 0 && memcmp(p + n - tl, tail, tl) == 0)
		return begin_copy(s, p, n);
	if (grow(&s->sql, &s->scap, s->slen + n + 2) < 0)
		return failf(s, "out of memory");
	memcpy(s->sql + s->slen, p, n);
	s->slen += n;
	s->sql[s->slen++] = '\n';
	s->sql[s->slen] = '\0';
	return 0;
}

/* Lines of buf (HEAD, TAIL), up to the COPY's rows. */
static int lines(sl *s)
{
	size_t pos = 0;
	while (s->st != DATA && pos < s->len) {
		const char *nl = memchr(s->buf + pos, '\n', s->len - pos);
		if (!nl)
			break;
		size_t n = (size_t)(nl - (s->buf + pos));
		if (s->st == HEAD && n >= 5 && !memcmp(s->buf + pos, "COPY ", 5)) {
			/* A quoted name may hold a newline: the statement
			 * runs on until its quotes close. */
			int open = 0;
			const char *q = s->buf + pos, *end = s->buf + s->len;
			for (;;) {
				for (; q < nl; q++)
					open ^= *q == '"';
				if (!open)
					break;
				if (!(nl = memchr(nl + 1, '\n', (size_t)(end - nl - 1))))
					goto more; /* the rest is still to come */
			}
			n = (size_t)(nl - (s->buf + pos));
		}
		if (line(s, s->buf + pos, n) < 0)
			return -1;
		pos += n + 1;
	}
more:
	memmove(s->buf, s->buf + pos, s->len - pos);
	s->len -= pos;
	return 0;
}

static int sink(void *arg, const char *p, size_t n)
{
	sl *s = arg;
	if (s->failed)
		return -1;
	if (grow(&s->buf, &s->cap, s->len + n) < 0)
		return failf(s, "out of memory");
	memcpy(s->buf + s->len, p, n);
	s->len += n;
	for (;;) {
		enum state before = s->st;
		if ((s->st == DATA ? data(s) : lines(s)) < 0)
			return -1;
		if (s->st == before)
			return 0;
	}
}

/* End every session's COPY and collect its count; then commit all, or
 * roll all back when anything failed. */
static void finish(sl *s, int ok)
{
	for (int i = 0; i < s->n; i++) {
		PGconn *c = s->c[i];
		if (!c)
			continue;
		ff_pq()->PQsetnonblocking(c, 0);
		if (ff_pq()->PQputCopyEnd(c, ok ? NULL : "ffrun: the load failed") < 0) {
			ok = 0;
			conn_fail(s, i, "ending the COPY", NULL);
		}
		PGresult *res;
		while ((res = ff_pq()->PQgetResult(c))) {
			ExecStatusType st = ff_pq()->PQresultStatus(res);
			if (st == PGRES_COMMAND_OK)
				s->r->rows += strtoull(ff_pq()->PQcmdTuples(res), NULL, 10);
			else if (ok) {
				ok = 0;
				conn_fail(s, i, "COPY", res);
			}
			ff_pq()->PQclear(res);
			if (st == PGRES_COPY_IN || st == PGRES_COPY_OUT || st == PGRES_COPY_BOTH) {
				/* CopyEnd could not be sent: nothing more will come. */
				if (ok)
					conn_fail(s, i, "ending the COPY", NULL);
				ok = 0;
				break;
			}
		}
	}
	for (int i = 0; i < s->n; i++)
		if (s->c[i] && exec_ok(s, i, ok ? "COMMIT" : "ROLLBACK", PGRES_COMMAND_OK, ok ? "COMMIT" : "ROLLBACK") < 0)
			ok = 0;
	if (!ok)
		s->failed = 1;
}

int ff_splitload_run(ff_splitload_result *r, const ff_splitload_opts *o, ff_err *e)
{
	memset(r, 0, sizeof(*r));
	if (o->jobs < 1 || o->jobs > FF_SPLITLOAD_MAX_JOBS)
		return ff_err_set(e, FF_EUSAGE, "loading a table: jobs must be 1 to %d", FF_SPLITLOAD_MAX_JOBS);
	sl s = { .o = o, .r = r, .n = o->jobs, .st = HEAD };
	int rc = 0;
	for (int i = 0; i < s.n && rc == 0; i++)
		rc = ff_pg_connect(&s.c[i], o->target, o->conninfo, o->dbname, e);
	if (rc == 0) {
		ff_exec_opts x = o->exec;
		x.stdout_sink = sink;
		x.stdout_arg = &s;
		rc = ff_exec_run(&r->exec, o->argv, &x, e);
		int began = s.st != HEAD;
		if (rc == 0 && !s.failed && !began)
			failf(&s, "target %s: pg_restore wrote no COPY for the table", o->target);
		if (rc == 0 && !s.failed && (r->exec.timed_out || (o->exec.cancel && *o->exec.cancel)))
			failf(&s, "target %s: loading %s: stopped", o->target, s.table);
		if (rc == 0 && !s.failed && s.st == DATA)
			failf(&s, "target %s: %s: the rows end without their `\\.` line", o->target, s.table);
		if (rc == 0 && !s.failed && !(r->exec.exited && r->exec.status == 0))
			failf(&s, "target %s: loading %s: pg_restore exited %s %d", o->target, s.table,
			      r->exec.exited ? "with status" : "on signal", r->exec.status);
		if (began)
			finish(&s, rc == 0 && !s.failed);
		if (s.failed && s.msg[0])
			rc = ff_err_set(e, FF_EFAIL, "%s", s.msg);
		else if (s.failed && rc == 0)
			rc = ff_err_set(e, FF_EFAIL, "target %s: loading %s failed", o->target, s.table);
	}
	for (int i = 0; i < s.n; i++)
		if (s.c[i])
			ff_pq()->PQfinish(s.c[i]);
	free(s.buf);
	free(s.sql);
	return rc;
}
