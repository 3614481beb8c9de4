#include "amcheck.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "exec.h"

/* Append s to dst (cap bytes) as far as it fits. */
static void append(char *dst, size_t cap, const char *s)
{
	size_t n = strlen(dst);
	if (n + 1 < cap)
		snprintf(dst + n, cap - n, "%s", s);
}

/* A report's first line: `heap table "db.schema.rel", block 1, offset 4:`
 * or `btree index "db.schema.rel":` (pg_amcheck.c prints exactly these,
 * unindented, on stdout; what it found follows, indented). */
static int report_header(const char *line)
{
	size_t n = strlen(line);
	return n > 0 && line[n - 1] == ':' &&
	       (!strncmp(line, "heap table \"", 12) || !strncmp(line, "btree index \"", 13));
}

static void add_relation(ff_amcheck_result *r, const char *line)
{
	const char *a = strchr(line, '"'), *b = strrchr(line, '"');
	char name[FF_AMCHECK_NAME];
	if (!a || b <= a)
		return;
	snprintf(name, sizeof(name), "%.*s", (int)(b - a - 1), a + 1);
	for (size_t i = 0; i < r->nrels; i++)
		if (!strcmp(r->rels[i], name))
			return;
	if (r->nrels < FF_AMCHECK_RELS)
		snprintf(r->rels[r->nrels++], FF_AMCHECK_NAME, "%s", name);
}

/* One whole line of the report. The summary takes the first reports
 * whole (header and what follows) while it has room for another. */
static void scan_line(ff_amcheck_scan *s, const char *line)
{
	ff_amcheck_result *r = s->r;
	if (report_header(line)) {
		r->problems++;
		add_relation(r, line);
		s->taking = strlen(r->summary) < sizeof(r->summary) / 2;
		if (s->taking) {
			append(r->summary, sizeof(r->summary), r->summary[0] ? "; " : "");
			append(r->summary, sizeof(r->summary), line);
		}
		return;
	}
	if (!s->taking || (line[0] != ' ' && line[0] != '\t'))
		return;
	while (*line == ' ' || *line == '\t')
		line++;
	append(r->summary, sizeof(r->summary), " ");
	append(r->summary, sizeof(r->summary), line);
}

void ff_amcheck_scan_init(ff_amcheck_scan *s, ff_amcheck_result *r)
{
	memset(s, 0, sizeof(*s));
	s->r = r;
}

void ff_amcheck_scan_feed(ff_amcheck_scan *s, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\n') {
			s->line[s->len] = '\0';
			scan_line(s, s->line);
			s->len = 0;
			s->cut = 0;
		} else if (s->len + 1 < sizeof(s->line)) {
			s->line[s->len++] = p[i];
		} else {
			s->cut = 1; /* the rest of a long line: its start is enough */
		}
	}
}

void ff_amcheck_scan_end(ff_amcheck_scan *s)
{
	if (s->len)
		ff_amcheck_scan_feed(s, "\n", 1);
}

/* The report on its way: into the evidence file unchanged, and read. */
typedef struct sink {
	ff_amcheck_scan scan;
	int fd;
	int err; /* the write's errno, for ff_exec_run's message */
} sink;

static int to_sink(void *arg, const char *p, size_t n)
{
	sink *k = arg;
	ff_amcheck_scan_feed(&k->scan, p, n);
	k->scan.r->out_bytes += n;
	while (n > 0 && k->fd >= 0) {
		ssize_t w = write(k->fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			k->err = errno;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* A libpq conninfo value, single-quoted (any database name is a valid
 * one, and a name holding "=" is not taken for a connection string). */
static int quoted(char *out, size_t cap, const char *key, const char *v)
{
	size_t n = (size_t)snprintf(out, cap, "%s='", key);
	for (; *v && n + 3 < cap; v++) {
		if (*v == '\'' || *v == '\\')
			out[n++] = '\\';
		out[n++] = *v;
	}
	if (*v || n + 2 >= cap)
		return -1;
	out[n++] = '\'';
	out[n] = '\0';
	return 0;
}

/* The last line of what pg_amcheck said on stderr, for a message. */
static void last_words(char *out, size_t cap, const char *tail)
{
	const char *t = tail ? tail : "";
	size_t n = strlen(t);
	while (n > 0 && (t[n - 1] == '\n' || t[n - 1] == ' '))
		n--;
	size_t start = n;
	while (start > 0 && t[start - 1] != '\n')
		start--;
	snprintf(out, cap, "%.*s", (int)(n - start), t + start);
}

int ff_amcheck_run(ff_amcheck_result *r, const ff_amcheck_opts *o, ff_err *e)
{
	/* English messages (the report is parsed), and nothing of ours: no
	 * PG* variable of the operator may point it at another server. */
	static const char *const env[] = { "PATH=/usr/bin:/bin", "LANG=C.UTF-8", "LC_ALL=C.UTF-8", NULL };
	char host[700], db[300], port[32], ci[1100], jobs[32], words[300];
	memset(r, 0, sizeof(*r));
	if (quoted(host, sizeof(host), "host", o->sock) < 0 || quoted(db, sizeof(db), "dbname", o->db) < 0)
		return ff_err_set(e, FF_EFAIL, "pg_amcheck: the socket folder or database name is too long");
	snprintf(port, sizeof(port), "port=%d", o->port);
	snprintf(ci, sizeof(ci), "%s %s user=postgres %s", host, port, db);
	snprintf(jobs, sizeof(jobs), "--jobs=%d", o->jobs < 1 ? 1 : o->jobs);
	/* Every table (its TOAST too) and every btree index of the database,
	 * the catalogs included; --heapallindexed: each heap tuple must be
	 * found in each of its indexes, not only each index be well formed. */
	const char *argv[] = { o->pg_amcheck, "--no-password", "--heapallindexed", "--install-missing",
			       jobs, ci, NULL };
	sink k = { .fd = o->out_fd };
	ff_amcheck_scan_init(&k.scan, r);
	ff_exec_opts x = { .env = env, .out_fd = o->out_fd, .timeout_s = o->timeout_s, .tail_max = 1024,
			   .cancel = o->cancel, .stdout_sink = to_sink, .stdout_arg = &k,
			   .stdout_errno = &k.err };
	ff_exec_result res = {0};
	int rc = ff_exec_run(&res, argv, &x, e);
	ff_amcheck_scan_end(&k.scan);
	r->duration_s = res.duration_s;
	last_words(words, sizeof(words), res.tail);
	if (rc == 0 && res.timed_out)
		rc = ff_err_set(e, FF_EFAIL, "pg_amcheck of %s stopped after %.0f s%s", o->db, res.duration_s,
				o->cancel && *o->cancel ? " (the run is being stopped)" : "");
	else if (rc == 0 && res.exited && res.status == 2)
		r->corrupt = 1;
	else if (rc == 0 && res.exited && res.status != 0)
		rc = ff_err_set(e, FF_EFAIL, "pg_amcheck of %s failed (exit %d): %s", o->db, res.status,
				words[0] ? words : "no message");
	else if (rc == 0 && !res.exited)
		rc = ff_err_set(e, FF_EFAIL, "pg_amcheck of %s killed by signal %d", o->db, res.status);
	ff_exec_result_free(&res);
	return rc;
}
