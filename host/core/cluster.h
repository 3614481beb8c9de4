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
	double restore_s;     /* a restored instance: the restore's time, */
	double recover_s;     /* and recovery's, from start to promotion */
	int pgbr_env;         /* restored by pgBackRest: its tools (the
	                         server, whose restore_command runs pgbackrest
	                         archive-get) get ffrun's PGBACKREST_* too */
	char beside[PATH_MAX]; /* restored beside production's data folder:
	                         data is a link to it; destroy removes it,
	                         release keeps it ("" otherwise) */
} ff_cluster;

/* Create and start. bindir holds initdb/pg_ctl; os_user is used when ffrun
 * runs as root; log_fd receives the tools' output; cancel stops a start
 * that hangs. On failure everything made so far is removed. */
int ff_cluster_create(ff_cluster *c, const char *bindir, const char *os_user,
		      int log_fd, const volatile int *cancel, ff_err *e);

/* The parts create is made of, shared with cluster_restore.c: the
 * private folder (owner file, socket folder, chowned when root; no data
 * yet), a tool run as the instance's user, and pg_ctl start -w with the
 * private socket and settings (more -c options). */
int ff_cluster_prepare(ff_cluster *c, const char *bindir, const char *os_user, ff_err *e);
int ff_cluster_tool(const ff_cluster *c, const char *const *argv, int log_fd,
		    const volatile int *cancel, double timeout, ff_err *e);
/* pg_ctl start -w, waiting up to wait_s seconds (0: 120) for the server to
 * accept connections (a restored one: to reach consistency first). */
int ff_cluster_start(ff_cluster *c, const char *settings, int wait_s, int log_fd,
		     const volatile int *cancel, ff_err *e);
/* The postmaster serving the instance's data, 0 when none runs. */
pid_t ff_cluster_pid(const ff_cluster *c);

/* A throwaway instance from a pgBackRest backup instead of initdb:
 * pgbackrest restore into the instance's own data folder (never
 * production's: --pg1-path and --tablespace-map-all are the instance's),
 * then a start in recovery with archive_mode off (it never pushes into
 * the repository) and its own pg_hba.conf, and a wait until it is
 * promoted (pg_is_in_recovery() false) within timeout_s. A recovery that
 * stops short names the missing WAL segment when the server log says
 * which. On failure everything made is removed. */
typedef struct ff_cluster_restore_opts {
	const char *pgbr_config;  /* the operator's pgbackrest.conf */
	const char *pgbr_stanza;
	const char *set;          /* the backup label */
	int repo;                 /* the repository it is in (repoN); 0: pgBackRest's default */
	const char *type;         /* lsn | time | name | immediate */
	const char *target;       /* the LSN, time or restore point; NULL for immediate */
	int exclusive;            /* stop just before the target */
	double timeout_s;         /* for recovery to end in promotion */
	long long wal_segment_size; /* the source's, in bytes, to name a missing
	                              segment (0: 16 MB) */
	const char *beside;       /* NULL, or a new folder to restore into and
	                             keep: the sibling of production's data
	                             folder that a switch-over puts in its place
	                             (switchover.h). Its server runs with
	                             production's durability (fsync as its
	                             configuration says), archive_mode on with a
	                             command that pushes nothing (the history and
	                             WAL it writes wait, marked ready, for the
	                             live server's archiver), no tablespaces;
	                             it carries ffrun.restore until switched in */
	int major;                /* the server's major version (beside: 15 has
	                             archive_library) */
} ff_cluster_restore_opts;
int ff_cluster_restore(ff_cluster *c, const char *bindir, const char *os_user,
		       const ff_cluster_restore_opts *o, int log_fd, const volatile int *cancel,
		       ff_err *e);

/* A restored instance's data folder kept (beside production's) and the
 * rest removed: a clean stop (pg_ctl stop -m fast: no crash recovery at
 * its next start), then the private folder. Its path into data: kind
 * NULL keeps <data>.ffrestore_STAMP for a switch-over; a kind renames it
 * <data>.ffKIND_STAMP (a failed copy kept: "failed"). */
int ff_cluster_release(ff_cluster *c, const char *kind, char *data, size_t cap, int log_fd,
		       const volatile int *cancel, ff_err *e);

/* The postmaster serving data folder data when one runs (its pid file's
 * pid, whose command line names data), else 0. */
pid_t ff_cluster_postmaster(const char *data);

/* initdb's options after -D (NULL-ended): what create runs, and part of
 * the name of the template kept from its output. */
extern const char *const ff_cluster_initdb_opts[];

/* initdb's output kept between drills (cluster_template.c): its path for
 * this bindir (-1: the binaries cannot be named); a copy of it into c's
 * data folder when it is provably ours (1; 0: not used, nothing made);
 * a copy of c's fresh data folder published there; and its removal. */
int ff_cluster_template_path(const ff_cluster *c, char *out, size_t cap);
int ff_cluster_template_copy(const ff_cluster *c, const char *tpl, int log_fd,
			     const volatile int *cancel);
void ff_cluster_template_keep(const ff_cluster *c, const char *tpl, int log_fd,
			      const volatile int *cancel);
void ff_cluster_template_drop(const ff_cluster *c, const char *tpl, int log_fd);

/* Stop (immediate) and remove. Idempotent; safe on a half-made cluster. */
int ff_cluster_destroy(ff_cluster *c, int log_fd, ff_err *e);

/* A libpq conninfo for database db of the cluster (no password: trust on a
 * private socket). */
void ff_cluster_conninfo(const ff_cluster *c, const char *db, char *out, size_t cap);

/* Remove instances whose ffrun is gone (their server killed, their folder
 * removed). Returns how many were reaped. */
int ff_cluster_reap(int log_fd);

#endif
