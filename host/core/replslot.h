/* replslot.h - a proof point: a logical replication connection holding a
 * TEMPORARY slot created with an exported snapshot. Its consistent point
 * is an LSN L whose committed transactions are exactly those the snapshot
 * sees; the snapshot stays importable (SET TRANSACTION SNAPSHOT) while
 * this connection stays open and idle. Closing it drops the slot. */
#ifndef FF_REPLSLOT_H
#define FF_REPLSLOT_H

#include <libpq-fe.h>

#include "err.h"

typedef struct ff_replslot {
	PGconn *conn;          /* the walsender connection; NULL when closed */
	char name[64];         /* the slot's name */
	char lsn[32];          /* consistent_point, "X/X" */
	char snapshot[72];     /* the exported snapshot's name */
} ff_replslot;

/* Open a replication=database connection to conninfo (the target's, NULL
 * or "" for libpq's environment) and CREATE_REPLICATION_SLOT name
 * TEMPORARY LOGICAL pgoutput (SNAPSHOT 'export'). timeout_s bounds the
 * wait for running transactions (0: none); *cancel stops it. On failure
 * nothing stays open. */
int ff_replslot_create(ff_replslot *s, const char *target, const char *conninfo,
		       const char *name, double timeout_s, const volatile int *cancel, ff_err *e);

/* Close the connection (the slot goes with it). Idempotent. */
void ff_replslot_close(ff_replslot *s);

#endif
