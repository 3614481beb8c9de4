/* cluster.h - a throwaway PostgreSQL instance for restore drills: initdb
 * into a private temporary folder, a unix socket only, settings for a
 * disposable restore, and a teardown that leaves no process and no folder.
 * A folder records which ffrun made it, so a later run can reap what a
 * crashed one left, and only that. */
#ifndef FF_CLUSTER_H
#define FF_CLUSTER_H

#include <limits.h>
#include <sys/types.h>

#include "err.h"

typedef struct ff_cluster {
	char dir[300];        /* /tmp/ffrun-drill-XXXXXX, removed by destroy */
	char data[320];
	char sock[320];
	char bindir[PATH_MAX - 64];
	int port;
	int as_user;          /* run the server as uid/gid (ffrun is root) */
	uid_t uid;
	gid_t gid;
	int running;
	int exists;
	int owner_fd;         /* ffrun.owner, flock'ed while this run lives */
} ff_cluster;

/* Create and start. bindir holds initdb/pg_ctl; os_user is used when ffrun
 * runs as root; log_fd receives the tools' output; cancel stops a start
 * that hangs. On failure everything made so far is removed. */
int ff_cluster_create(ff_cluster *c, const char *bindir, const char *os_user,
		      int log_fd, const volatile int *cancel, ff_err *e);

/* Stop (immediate) and remove. Idempotent; safe on a half-made cluster. */
int ff_cluster_destroy(ff_cluster *c, int log_fd, ff_err *e);

/* A libpq conninfo for database db of the cluster (no password: trust on a
 * private socket). */
void ff_cluster_conninfo(const ff_cluster *c, const char *db, char *out, size_t cap);

/* Remove instances whose ffrun is gone (their server killed, their folder
 * removed). Returns how many were reaped. */
int ff_cluster_reap(int log_fd);

#endif
