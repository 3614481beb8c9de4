#include "fingerprint.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg.h"

/* A plain table bigger than this many pages (8 KiB each: 64 MiB) is read
 * in page ranges by several connections at once, up to this many ranges a
 * connection (enough for the connections to finish close together). */
#define FF_FP_SPLIT_PAGES 8192
#define FF_FP_PARTS_PER_JOB 2

/* One table, or one page range of it: biggest first, so the last parts to
 * finish are small and the connections end close together. */
typedef struct part {
	size_t table;
	int64_t from, to; /* pages [from, to); to < 0: to the end; from < 0: all */
	int64_t weight;   /* bytes on disk, heap and TOAST */
	uint64_t rows;
	unsigned char sum[32];
} part;

typedef struct pool {
	const ff_fp_opts *o;
	ff_fp_table *t;
	part *parts;
	size_t nparts, next;
	pthread_mutex_t lock;
	ff_progress progress; /* COPY bytes (content) or parts' sizes (rows) */
	int failed;        /* stops the other connections */
	ff_err err;        /* the first failure */
} pool;

static void fail(pool *p, const ff_err *e)
{
	pthread_mutex_lock(&p->lock);
	if (!p->failed) {
		p->failed = 1;
		p->err = *e;
	}
	pthread_mutex_unlock(&p->lock);
}

/* A connection set up for fingerprinting: fixed COPY text settings, no JIT
 * and no parallel workers (the connections are the parallelism), one
 * read-only snapshot for everything it reads. */
static int session(PGconn **out, const ff_fp_opts *o, ff_err *e)
{
	PGconn *c = NULL;
	int rc = ff_pg_connect(&c, o->target, o->conninfo, o->dbname, e);
	if (rc < 0)
		return rc;
	char sql[256];
	snprintf(sql, sizeof(sql), "SET jit = off; SET max_parallel_workers_per_gather = 0;"
		 "BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY%s%s%s",
		 o->snapshot ? "; SET TRANSACTION SNAPSHOT '" : "",
		 o->snapshot ? o->snapshot : "", o->snapshot ? "'" : "");
	if ((rc = ff_pg_fingerprint_settings(c, e)) < 0 || (rc = ff_pg_command(c, sql, e)) < 0) {
		ff_pq()->PQfinish(c);
		return rc;
	}
	*out = c;
	return 0;
}

/* ff_fp_one over the pages [from, to) of t only (TID range scan). */
static int fp_range(PGconn *c, ff_fp_table *t, int64_t from, int64_t to, int content,
		    const char *encoding, const volatile int *cancel, ff_progress *progress, ff_err *e)
{
	char *qs = ff_pq()->PQescapeIdentifier(c, t->schema, strlen(t->schema));
	char *qt = ff_pq()->PQescapeIdentifier(c, t->name, strlen(t->name));
	char sql[1400], where[128] = "";
	if (from >= 0 && to >= 0)
		snprintf(where, sizeof(where),
			 " WHERE ctid >= '(%" PRId64 ",0)'::tid AND ctid < '(%" PRId64 ",0)'::tid", from, to);
	else if (from >= 0)
		snprintf(where, sizeof(where), " WHERE ctid >= '(%" PRId64 ",0)'::tid", from);
	if (!qs || !qt) {
		ff_pq()->PQfreemem(qs);
		ff_pq()->PQfreemem(qt);
		return ff_err_set(e, FF_EFAIL, "fingerprint: cannot quote %s.%s", t->schema, t->name);
	}
	if (content)
		snprintf(sql, sizeof(sql), "COPY (SELECT * FROM %s.%s%s) TO STDOUT (ENCODING '%s')", qs, qt,
			 where, ff_pg_copy_encoding(c, encoding));
	else
		snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s.%s%s", qs, qt, where);
	ff_pq()->PQfreemem(qs);
	ff_pq()->PQfreemem(qt);
	t->rows = 0;
	memset(t->sum, 0, sizeof(t->sum));

	if (content) {
		ff_err why = {0};
		int rc = ff_pg_copy_sum(t->sum, &t->rows, c, sql, cancel, progress, &why);
		if (rc < 0)
			ff_err_set(e, rc, "fingerprint %s.%s: %s", t->schema, t->name, why.msg);
		return rc;
	}
	PGresult *r = ff_pq()->PQexec(c, sql);
	if (ff_pq()->PQresultStatus(r) != PGRES_TUPLES_OK || ff_pq()->PQntuples(r) != 1) {
		char msg[600];
		snprintf(msg, sizeof(msg), "%s", r ? ff_pq()->PQresultErrorMessage(r) : ff_pq()->PQerrorMessage(c));
		msg[strcspn(msg, "\n")] = '\0';
		ff_pq()->PQclear(r);
		return ff_err_set(e, FF_EFAIL, "count %s.%s: %s", t->schema, t->name, msg);
	}
	t->rows = strtoull(ff_pq()->PQgetvalue(r, 0, 0), NULL, 10);
	ff_pq()->PQclear(r);
	return 0;
}

int ff_fp_one(PGconn *c, ff_fp_table *t, int content, const char *encoding,
	      const volatile int *cancel, ff_err *e)
{
	return fp_range(c, t, -1, -1, content, encoding, cancel, NULL, e);
}

/* Take parts until none is left or someone failed. */
static void work(pool *p, PGconn *c)
{
	for (;;) {
		pthread_mutex_lock(&p->lock);
		part *pt = !p->failed && p->next < p->nparts ? &p->parts[p->next++] : NULL;
		pthread_mutex_unlock(&p->lock);
		if (!pt)
			return;
		ff_err e = {0};
		if (p->o->cancel && *p->o->cancel) {
			ff_err_set(&e, FF_EFAIL, "fingerprints cancelled");
			fail(p, &e);
			return;
		}
		ff_fp_table one = { .schema = p->t[pt->table].schema, .name = p->t[pt->table].name };
		if (fp_range(c, &one, pt->from, pt->to, p->o->content, p->o->encoding, p->o->cancel,
			     p->o->content ? &p->progress : NULL, &e) < 0) {
			fail(p, &e);
			return;
		}
		if (!p->o->content) /* a count has no stream: its part's size at once */
			ff_progress_add(&p->progress, (uint64_t)pt->weight);
		pt->rows = one.rows;
		memcpy(pt->sum, one.sum, sizeof(pt->sum));
	}
}

static void *helper_main(void *arg)
{
	pool *p = arg;
	PGconn *c = NULL;
	ff_err e = {0};
	/* A helper that cannot connect (max_connections) leaves the work to
	 * the others: fewer connections are slower, not wrong. */
	if (session(&c, p->o, &e) == 0) {
		work(p, c);
		ff_pq()->PQfinish(c);
	}
	return NULL;
}

static int by_weight(const void *a, const void *b)
{
	const part *x = a, *y = b;
	return (x->weight < y->weight) - (x->weight > y->weight);
}

/* Every table's size on disk: the work list, biggest first, big plain
 * tables cut into page ranges when there are several connections. */
static int plan(pool *p, PGconn *c, size_t n, int jobs, ff_err *e)
{
	/* TID range scans (14+), and one snapshot for every connection: parts
	 * of a table read in different snapshots would describe no state of
	 * it (a row updated between the reads counted twice, or not at all). */
	int ranges = jobs > 1 && p->o->snapshot && ff_pq()->PQserverVersion(c) >= 140000;
	size_t cap = n + 1;
	if (!(p->parts = calloc(cap, sizeof(part))))
		return ff_err_set(e, FF_EINTERNAL, "out of memory");
	for (size_t i = 0; i < n; i++) {
		const ff_fp_table *t = &p->t[i];
		/* pg_partition_tree lists nothing for a plain table; a partitioned
		 * one weighs what its partitions do. */
		const char *params[2] = { t->schema, t->name };
		PGresult *r = ff_pq()->PQexecParams(c,
			"SELECT CASE WHEN c.relkind = 'p'"
			" THEN (SELECT coalesce(sum(pg_table_size(relid)), 0) FROM pg_partition_tree(c.oid))"
			" ELSE pg_table_size(c.oid) END,"
			" CASE WHEN c.relkind = 'r' THEN pg_relation_size(c.oid)"
			" / current_setting('block_size')::bigint ELSE 0 END"
			" FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
			" WHERE n.nspname = $1 AND c.relname = $2", 2, NULL, params, NULL, NULL, 0);
		int ok = ff_pq()->PQresultStatus(r) == PGRES_TUPLES_OK && ff_pq()->PQntuples(r) == 1;
		int64_t weight = ok ? strtoll(ff_pq()->PQgetvalue(r, 0, 0), NULL, 10) : 0;
		int64_t pages = ok ? strtoll(ff_pq()->PQgetvalue(r, 0, 1), NULL, 10) : 0;
		ff_pq()->PQclear(r);
		if (!ok)
			return ff_err_set(e, FF_EFAIL, "fingerprint %s.%s: no such table", t->schema, t->name);
		int64_t k = 1;
		if (ranges && pages > FF_FP_SPLIT_PAGES) {
			k = (pages + FF_FP_SPLIT_PAGES - 1) / FF_FP_SPLIT_PAGES;
			if (k > (int64_t)jobs * FF_FP_PARTS_PER_JOB)
				k = (int64_t)jobs * FF_FP_PARTS_PER_JOB;
		}
		if (p->nparts + (size_t)k > cap) {
			cap = (p->nparts + (size_t)k) * 2;
			part *grown = realloc(p->parts, cap * sizeof(part));
			if (!grown)
				return ff_err_set(e, FF_EINTERNAL, "out of memory");
			p->parts = grown;
		}
		for (int64_t j = 0; j < k; j++) {
			part *pt = &p->parts[p->nparts++];
			memset(pt, 0, sizeof(*pt));
			pt->table = i;
			pt->from = k == 1 ? -1 : pages * j / k;
			/* The last range runs to the end: pages added since the
			 * size was read still belong to one. */
			pt->to = k == 1 || j == k - 1 ? -1 : pages * (j + 1) / k;
			pt->weight = weight / k;
		}
	}
	qsort(p->parts, p->nparts, sizeof(part), by_weight);
	return 0;
}

/* The lead connection's snapshot, for the others to import; 0 when it
 * could be exported (not on every server: a standby before 10 refuses). */
static int export_snapshot(PGconn *c, char *out, size_t cap)
{
	PGresult *r = ff_pq()->PQexec(c, "SELECT pg_export_snapshot()");
	int ok = ff_pq()->PQresultStatus(r) == PGRES_TUPLES_OK && ff_pq()->PQntuples(r) == 1 &&
		 strlen(ff_pq()->PQgetvalue(r, 0, 0)) < cap;
	if (ok)
		snprintf(out, cap, "%s", ff_pq()->PQgetvalue(r, 0, 0));
	ff_pq()->PQclear(r);
	return ok ? 0 : -1;
}

int ff_fp_tables(ff_fp_table *t, size_t n, const ff_fp_opts *o, ff_err *e)
{
	ff_fp_opts shared = *o;
	char snap[128];
	pool p = { .o = &shared, .t = t };
	PGconn *c = NULL;
	int progress_on = 0;
	pthread_t helper[64];
	int helpers = 0, rc;

	pthread_mutex_init(&p.lock, NULL);
	if ((rc = session(&c, o, e)) < 0)
		goto out;
	int jobs = o->jobs < 1 ? 1 : o->jobs > 64 ? 64 : o->jobs;
	/* Without a snapshot given, the others see this connection's. A
	 * failed export leaves its transaction aborted: start it again. */
	if (!o->snapshot && jobs > 1) {
		if (export_snapshot(c, snap, sizeof(snap)) == 0) {
			shared.snapshot = snap;
		} else {
			ff_pq()->PQfinish(c);
			c = NULL;
			if ((rc = session(&c, o, e)) < 0)
				goto out;
		}
	}
	if ((rc = plan(&p, c, n, jobs, e)) < 0)
		goto out;
	uint64_t total = 0;
	for (size_t i = 0; i < p.nparts; i++)
		total += (uint64_t)p.parts[i].weight;
	/* Sizes on disk, against COPY text for content: an estimate. */
	ff_progress_init(&p.progress, o->line, "fingerprints", total, FF_PROGRESS_ABOUT, o->quiet);
	progress_on = 1;
	if ((size_t)jobs > p.nparts)
		jobs = (int)p.nparts;
	for (int i = 1; i < jobs; i++)
		if (pthread_create(&helper[helpers], NULL, helper_main, &p) == 0)
			helpers++;
	work(&p, c);
	for (int i = 0; i < helpers; i++)
		pthread_join(helper[i], NULL);
	if (p.failed) {
		rc = ff_err_set(e, p.err.code ? p.err.code : FF_EFAIL, "%s", p.err.msg);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		t[i].rows = 0;
		t[i].parts = 0;
		memset(t[i].sum, 0, sizeof(t[i].sum));
	}
	for (size_t i = 0; i < p.nparts; i++) {
		ff_fp_table *tt = &t[p.parts[i].table];
		tt->parts++;
		tt->rows += p.parts[i].rows;
		ff_pg_sum_add(tt->sum, p.parts[i].sum);
	}
	rc = 0;
out:
	if (progress_on)
		ff_progress_end(&p.progress);
	if (c)
		ff_pq()->PQfinish(c);
	free(p.parts);
	pthread_mutex_destroy(&p.lock);
	return rc;
}
