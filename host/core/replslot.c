/* replslot.c - the walsender speaks only the simple query protocol, so the
 * command is sent with PQsendQuery and its answer awaited in polls that a
 * stop or the timeout can cut short. */
#include "replslot.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "libpq.h"

static int conn_error(const char *target, const char *what, PGconn *c, ff_err *e)
{
	char msg[600];
	snprintf(msg, sizeof(msg), "%s", ff_pq()->PQerrorMessage(c));
	msg[strcspn(msg, "\n")] = '\0';
	return ff_err_set(e, FF_EFAIL, "target %s: %s: %s", target, what, msg);
}

/* The one result of the command sent on c, or NULL with e set. */
static PGresult *await(PGconn *c, const char *target, double timeout_s,
		       const volatile int *cancel, ff_err *e)
{
	const ff_libpq *pq = ff_pq();
	double until = timeout_s > 0 ? ff_time_mono() + timeout_s : 0;
	while (pq->PQisBusy(c)) {
		if ((cancel && *cancel) || (until && ff_time_mono() > until)) {
			ff_err_set(e, FF_EFAIL, "target %s: CREATE_REPLICATION_SLOT %s (a transaction older than the slot holds it back)",
				   target, cancel && *cancel ? "stopped" : "timed out");
			return NULL;
		}
		struct pollfd p = { .fd = pq->PQsocket(c), .events = POLLIN };
		int n = poll(&p, 1, 100);
		if (n < 0 && errno == EINTR)
			continue; /* a signal: the loop's test sees a stop */
		if (n < 0 || !pq->PQconsumeInput(c)) {
			conn_error(target, "CREATE_REPLICATION_SLOT", c, e);
			return NULL;
		}
	}
	PGresult *r = pq->PQgetResult(c), *more;
	while ((more = pq->PQgetResult(c)))
		pq->PQclear(more);
	if (!r || pq->PQresultStatus(r) != PGRES_TUPLES_OK || pq->PQntuples(r) != 1 ||
	    pq->PQnfields(r) < 3) {
		char msg[600];
		snprintf(msg, sizeof(msg), "%s", r ? pq->PQresultErrorMessage(r) : pq->PQerrorMessage(c));
		msg[strcspn(msg, "\n")] = '\0';
		pq->PQclear(r);
		ff_err_set(e, FF_EFAIL, "target %s: CREATE_REPLICATION_SLOT: %s", target,
			   *msg ? msg : "unexpected answer");
		return NULL;
	}
	return r;
}

int ff_replslot_create(ff_replslot *s, const char *target, const char *conninfo,
		       const char *name, double timeout_s, const volatile int *cancel, ff_err *e)
{
	char sql[160];
	int rc;
	memset(s, 0, sizeof(*s));
	if (strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_") != strlen(name) || !*name ||
	    strlen(name) >= sizeof(s->name))
		return ff_err_set(e, FF_EINTERNAL, "replication slot name %s: not a plain name", name);
	if ((rc = ff_libpq_load(e)) < 0)
		return rc;
	const char *keys[] = { "dbname", "replication", "application_name", "connect_timeout", NULL };
	const char *vals[] = { conninfo && *conninfo ? conninfo : "", "database", "ffrun", "10", NULL };
	const ff_libpq *pq = ff_pq();
	PGconn *c = pq->PQconnectdbParams(keys, vals, 1);
	if (!c)
		return ff_err_set(e, FF_EFAIL, "target %s: out of memory", target);
	if (pq->PQstatus(c) != CONNECTION_OK) {
		rc = conn_error(target, "cannot open a replication connection", c, e);
		pq->PQfinish(c);
		return rc;
	}
	/* The form every server since 10 reads (15 also has "(SNAPSHOT
	 * 'export')"): the snapshot is exported. */
	snprintf(sql, sizeof(sql), "CREATE_REPLICATION_SLOT %s TEMPORARY LOGICAL pgoutput EXPORT_SNAPSHOT", name);
	if (!pq->PQsendQuery(c, sql)) {
		rc = conn_error(target, "CREATE_REPLICATION_SLOT", c, e);
		pq->PQfinish(c);
		return rc;
	}
	PGresult *r = await(c, target, timeout_s, cancel, e);
	if (!r) {
		/* Cancel first: the walsender waiting for an old transaction
		 * would otherwise stay, holding a WAL sender, after we left.
		 * A slot half made goes with the connection. */
		PGcancel *k = pq->PQgetCancel(c);
		char why[64];
		if (k) {
			pq->PQcancel(k, why, sizeof(why));
			pq->PQfreeCancel(k);
		}
		pq->PQfinish(c);
		return FF_EFAIL;
	}
	snprintf(s->name, sizeof(s->name), "%s", pq->PQgetvalue(r, 0, 0));
	snprintf(s->lsn, sizeof(s->lsn), "%s", pq->PQgetvalue(r, 0, 1));
	snprintf(s->snapshot, sizeof(s->snapshot), "%s", pq->PQgetvalue(r, 0, 2));
	pq->PQclear(r);
	if (!*s->lsn || !*s->snapshot) {
		pq->PQfinish(c);
		memset(s, 0, sizeof(*s));
		return ff_err_set(e, FF_EFAIL, "target %s: CREATE_REPLICATION_SLOT gave no consistent point or snapshot",
				  target);
	}
	s->conn = c;
	return 0;
}

void ff_replslot_close(ff_replslot *s)
{
	if (s->conn)
		ff_pq()->PQfinish(s->conn);
	s->conn = NULL;
}
