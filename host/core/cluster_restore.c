/* cluster_restore.c - a throwaway instance made from a pgBackRest backup:
 * restored into the instance's own folder, started in recovery on its
 * private socket, awaited until promoted. What the server log says about
 * a recovery that stopped short is turned into one line naming the WAL
 * segment it could not get. */
#include <sys/types.h>

#include "cluster.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "fsutil.h"
#include "libpq.h"
#include "pgbackrest.h"

/* A file of ours in the instance, owned by its user. */
static int write_own(const ff_cluster *c, const char *path, const char *text, int keep, ff_err *e)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW | (keep ? O_EXCL : O_TRUNC), 0600);
	if (fd < 0)
		return keep && errno == EEXIST ? 0 : ff_err_set(e, FF_EFAIL, "%s: %s", path, strerror(errno));
	size_t n = strlen(text);
	int bad = write(fd, text, n) != (ssize_t)n;
	if (!bad && c->as_user && fchown(fd, c->uid, c->gid) < 0)
		bad = 1;
	close(fd);
	return bad ? ff_err_set(e, FF_EFAIL, "%s: %s", path, strerror(errno)) : 0;
}

#define MARK "ffrun.restore"

/* Sibling folders <base>.ffrestore_* an ffrun that is gone left (its
 * ffrun.restore names a dead process, no server runs there): removed. A
 * folder without that file is not provably ours and stays. */
static void reap_beside(const char *beside)
{
	char parent[PATH_MAX], prefix[PATH_MAX];
	const char *cut = strstr(beside, ".ffrestore_"), *slash = strrchr(beside, '/');
	if (!cut || !slash || cut < slash)
		return;
	snprintf(parent, sizeof(parent), "%.*s", (int)(slash - beside), beside);
	snprintf(prefix, sizeof(prefix), "%.*s", (int)(cut + 11 - slash - 1), slash + 1);
	DIR *d = opendir(*parent ? parent : "/");
	struct dirent *de;
	while (d && (de = readdir(d))) {
		char path[PATH_MAX + 256], mark[PATH_MAX + 300], buf[256];
		long pid = 0;
		unsigned long long t = 0;
		if (strncmp(de->d_name, prefix, strlen(prefix)))
			continue;
		snprintf(path, sizeof(path), "%s/%s", parent, de->d_name);
		snprintf(mark, sizeof(mark), "%s/" MARK, path);
		if (!ff_read_head(mark, O_NOFOLLOW, buf, sizeof(buf)) ||
		    sscanf(buf, "ffrun restore %ld %llu", &pid, &t) != 2 || pid <= 0)
			continue;
		if (ff_proc_start_time((pid_t)pid) == t || ff_cluster_postmaster(path))
			continue; /* its ffrun, or a server, is alive */
		ff_remove_tree(path);
	}
	if (d)
		closedir(d);
}

/* The folder to restore into, beside production's: made here (never one
 * that exists), recorded in the instance's folder (a reap of a dead run's
 * instance removes it too), and linked as the instance's data folder. */
static int make_beside(ff_cluster *c, const char *beside, ff_err *e)
{
	char rec[400];
	if (strlen(beside) >= sizeof(c->beside) || beside[0] != '/')
		return ff_err_set(e, FF_EINTERNAL, "restore beside: bad path %s", beside);
	reap_beside(beside);
	if (mkdir(beside, 0700) < 0)
		return ff_err_set(e, FF_EFAIL, "%s: %s", beside, strerror(errno));
	snprintf(c->beside, sizeof(c->beside), "%s", beside);
	snprintf(rec, sizeof(rec), "%s/beside", c->dir);
	int rc = write_own(c, rec, beside, 0, e);
	if (rc == 0 && c->as_user && chown(beside, c->uid, c->gid) < 0)
		rc = ff_err_set(e, FF_EFAIL, "chown %s: %s", beside, strerror(errno));
	if (rc == 0 && symlink(beside, c->data) < 0)
		rc = ff_err_set(e, FF_EFAIL, "%s: %s", c->data, strerror(errno));
	return rc;
}

/* After pgbackrest restore beside: a set with tablespaces is refused (the
 * switch-over moves one folder), and ffrun.restore says whose it is and
 * whether ffrun made its postgresql.conf (the switch-over removes both). */
static int mark_beside(const ff_cluster *c, int made_conf, ff_err *e)
{
	char path[PATH_MAX + 32], text[160];
	snprintf(path, sizeof(path), "%s/pg_tblspc", c->beside);
	DIR *d = opendir(path);
	struct dirent *de;
	int tablespaces = 0;
	while (d && (de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			tablespaces++;
	if (d)
		closedir(d);
	if (tablespaces)
		return ff_err_set(e, FF_EFAIL, "the backup set has %d tablespace%s: a restore beside production moves "
				  "one data folder, and a cluster with tablespaces is not supported",
				  tablespaces, tablespaces == 1 ? "" : "s");
	snprintf(path, sizeof(path), "%s/" MARK, c->beside);
	snprintf(text, sizeof(text), "ffrun restore %ld %llu\n%s", (long)getpid(), ff_proc_start_time(getpid()),
		 made_conf ? "made postgresql.conf\n" : "");
	return write_own(c, path, text, 0, e);
}

static int restore(ff_cluster *c, const char *os_user, const ff_cluster_restore_opts *o, int log_fd,
		   const volatile int *cancel, ff_err *e)
{
	char pg1[PATH_MAX + 16], tbs[400], set[96], type[32], target[128], repo[32];
	const char *args[24];
	size_t n = 0;
	int made = o->beside ? make_beside(c, o->beside, e) : 0;
	if (made < 0)
		return made;
	if (!o->beside && (mkdir(c->data, 0700) < 0 || (c->as_user && chown(c->data, c->uid, c->gid) < 0)))
		return ff_err_set(e, FF_EFAIL, "%s: %s", c->data, strerror(errno));
	snprintf(pg1, sizeof(pg1), "--pg1-path=%s", o->beside ? c->beside : c->data);
	snprintf(tbs, sizeof(tbs), "--tablespace-map-all=%s/tablespaces", c->dir);
	snprintf(set, sizeof(set), "--set=%s", o->set);
	snprintf(type, sizeof(type), "--type=%s", o->type);
	args[n++] = "restore";
	args[n++] = pg1;
	if (!o->beside)
		args[n++] = tbs; /* beside: a set with tablespaces is refused after */
	args[n++] = set;
	args[n++] = type;
	if (o->repo > 0) {
		snprintf(repo, sizeof(repo), "--repo=%d", o->repo);
		args[n++] = repo;
	}
	if (o->target) {
		snprintf(target, sizeof(target), "--target=%s", o->target);
		args[n++] = target;
	}
	if (o->exclusive)
		args[n++] = "--target-exclusive";
	args[n++] = "--target-action=promote";
	/* A copy to be switched in keeps the configuration's archive_mode:
	 * pgBackRest writes archive_mode=off into postgresql.auto.conf. */
	if (!o->beside)
		args[n++] = "--archive-mode=off";
	/* What the operator's pgbackrest.conf may say for restores must not
	 * reach the drill: a tablespace or link map (paths outside the
	 * instance, pg_wal among them), a partial restore, recovery options,
	 * another timeline, a delta over a folder. */
	args[n++] = "--reset-tablespace-map";
	args[n++] = "--reset-link-map";
	args[n++] = "--no-link-all";
	args[n++] = "--no-delta";
	args[n++] = "--reset-recovery-option";
	args[n++] = "--reset-db-include";
	args[n++] = "--reset-db-exclude";
	args[n++] = "--target-timeline=current";
	args[n] = NULL;
	ff_pgbr_opts po = { .config = o->pgbr_config, .stanza = o->pgbr_stanza, .os_user = os_user,
			    .log_fd = log_fd, .cancel = cancel };
	ff_pgbr_result r;
	int rc = ff_pgbr_run(&r, &po, args, e);
	if (rc < 0)
		return rc;
	c->restore_s = r.duration_s;
	if (!r.ok) {
		char tail[400];
		snprintf(tail, sizeof(tail), "%s", r.tail ? r.tail : "");
		for (char *p = tail; *p; p++)
			if (*p == '\n')
				*p = ' ';
		rc = ff_err_set(e, FF_EFAIL, "pgbackrest restore %s: %s", r.timed_out ? "stopped" : "failed", tail);
	}
	ff_pgbr_result_free(&r);
	return rc;
}

/* The segment after seg (24 hex digits) with segments of seg_bytes (0:
 * 16 MB): 4 GiB / seg_bytes of them to a log file. */
static void next_segment(char out[25], const char *seg, long long seg_bytes)
{
	unsigned tli, log, s;
	unsigned long long per_log = 0x100000000ULL / (unsigned long long)(seg_bytes > 0 ? seg_bytes : 16 << 20);
	if (sscanf(seg, "%8x%8x%8x", &tli, &log, &s) != 3 || per_log == 0) {
		snprintf(out, 25, "%s", "(unknown)");
		return;
	}
	if (++s >= per_log) {
		s = 0;
		log++;
	}
	snprintf(out, 25, "%08X%08X%08X", tli, log, s);
}

/* Why recovery ended without a promotion, from the server log: the first
 * FATAL line, and the segment after the last one restored. A gap is named
 * only when the server says it ended short of its target. */
static int stopped_short(const ff_cluster *c, int log_fd, long long seg_bytes, const volatile int *cancel,
			 ff_err *e)
{
	char path[400], last[25] = "", fatal[300] = "", missing[25];
	char *text = NULL;
	size_t len = 0;
	ff_err ignored = {0};
	snprintf(path, sizeof(path), "%s/server.log", c->dir);
	if (ff_read_file(&text, &len, path, 16u << 20, &ignored) < 0 || !text)
		return ff_err_set(e, FF_EFAIL, "the restored instance stopped during recovery (no server log)");
	if (log_fd >= 0 && write(log_fd, text, len) < 0) {
		/* the evidence copy is informative only */
	}
	for (char *p = text; (p = strstr(p, "restored log file \"")); p += 19) {
		const char *q = p + 19;
		if (strspn(q, "0123456789ABCDEF") == 24 && q[24] == '"')
			snprintf(last, sizeof(last), "%.24s", q);
	}
	const char *f = strstr(text, "FATAL:");
	if (f)
		snprintf(fatal, sizeof(fatal), "%.*s", (int)strcspn(f, "\n"), f);
	free(text);
	if (cancel && *cancel)
		return ff_err_set(e, FF_EFAIL, "stopped while the restored instance was recovering");
	if (!*last || !strstr(fatal, "recovery ended before configured recovery target was reached"))
		return ff_err_set(e, FF_EFAIL, "the restored instance stopped during recovery (last WAL segment restored: %s): %s",
				  *last ? last : "none", *fatal ? fatal : "the server exited");
	next_segment(missing, last, seg_bytes);
	return ff_err_set(e, FF_EFAIL, "recovery stopped before reaching the target: a gap in the WAL archive: "
			  "WAL segment %s could not be restored from the repository (the last one restored was %s); server: %s",
			  missing, last, *fatal ? fatal : "exited");
}

/* The server's log so far into log_fd (the evidence's instance.log): what
 * recovery did, "recovery stopping before WAL location (LSN) ..." among it. */
static void copy_log(const ff_cluster *c, int log_fd)
{
	char path[400];
	char *text = NULL;
	size_t len = 0;
	ff_err ignored = {0};
	snprintf(path, sizeof(path), "%s/server.log", c->dir);
	if (log_fd < 0 || ff_read_file(&text, &len, path, 16u << 20, &ignored) < 0 || !text)
		return;
	if (write(log_fd, text, len) < 0) {
		/* the evidence copy is informative only */
	}
	free(text);
}

/* Poll until the server is promoted (pg_is_in_recovery() false), gone, or
 * timeout_s passed. */
static int await_promotion(ff_cluster *c, const ff_cluster_restore_opts *o, int log_fd,
			   const volatile int *cancel, ff_err *e)
{
	char ci[1024];
	const ff_libpq *pq = ff_pq();
	double timeout_s = o->timeout_s;
	double t0 = ff_time_mono(), until = t0 + (timeout_s > 0 ? timeout_s : 3600);
	ff_cluster_conninfo(c, "postgres", ci, sizeof(ci));
	const char *keys[] = { "dbname", "connect_timeout", NULL };
	const char *vals[] = { ci, "5", NULL };
	for (;;) {
		if (cancel && *cancel)
			return ff_err_set(e, FF_EFAIL, "stopped while the restored instance was recovering");
		if (ff_cluster_pid(c) == 0) {
			c->running = 0;
			return stopped_short(c, log_fd, o->wal_segment_size, cancel, e);
		}
		PGconn *pg = pq->PQconnectdbParams(keys, vals, 1);
		if (pg && pq->PQstatus(pg) == CONNECTION_OK) {
			PGresult *r = pq->PQexec(pg, "SELECT pg_is_in_recovery()");
			int done = r && pq->PQresultStatus(r) == PGRES_TUPLES_OK && pq->PQntuples(r) == 1 &&
				   !strcmp(pq->PQgetvalue(r, 0, 0), "f");
			pq->PQclear(r);
			pq->PQfinish(pg);
			if (done) {
				c->recover_s = ff_time_mono() - t0;
				return 0;
			}
		} else if (pg) {
			pq->PQfinish(pg);
		}
		if (ff_time_mono() > until)
			return ff_err_set(e, FF_EFAIL, "the restored instance was not promoted within %.0f s "
					  "(recovery target not reached yet: is the WAL it needs archived?)", timeout_s);
		usleep(100000);
	}
}

int ff_cluster_restore(ff_cluster *c, const char *bindir, const char *os_user,
		       const ff_cluster_restore_opts *o, int log_fd, const volatile int *cancel,
		       ff_err *e)
{
	char path[400], hba[400], settings[1400];
	int rc;
	if ((rc = ff_libpq_load(e)) < 0)
		return rc;
	if ((rc = ff_cluster_prepare(c, bindir, os_user, e)) < 0)
		return rc;
	c->pgbr_env = 1;
	if ((rc = restore(c, os_user, o, log_fd, cancel, e)) < 0)
		goto fail;
	/* A data folder from a Debian-style cluster has no postgresql.conf of
	 * its own; the server needs one, even empty. Production's pg_hba.conf
	 * is never used: trust on our private socket only. */
	snprintf(path, sizeof(path), "%s/postgresql.conf", c->data);
	int made_conf = access(path, F_OK) < 0;
	if ((rc = write_own(c, path, "", 1, e)) < 0)
		goto fail;
	if (o->beside && (rc = mark_beside(c, made_conf, e)) < 0)
		goto fail;
	snprintf(hba, sizeof(hba), "%s/ffrun_hba.conf", c->dir);
	if ((rc = write_own(c, hba, "local all all trust\n", 0, e)) < 0)
		goto fail;
	/* A drill's copy is thrown away: nothing needs to survive a crash.
	 * One to be switched in keeps production's durability, and archives
	 * nothing yet: what it writes is marked ready and left for the live
	 * server's own archiver. */
	const char *mode = !o->beside ? "-c archive_mode=off -c fsync=off -c synchronous_commit=off"
					" -c full_page_writes=off -c autovacuum=off"
		: o->major >= 15 ? "-c archive_mode=on -c archive_command=false -c archive_library="
				 : "-c archive_mode=on -c archive_command=false";
	snprintf(settings, sizeof(settings),
		 "-c hba_file=%s %s -c hot_standby=on"
		 " -c logging_collector=off -c log_destination=stderr -c ssl=off"
		 " -c max_wal_size=4GB -c checkpoint_timeout=30min"
		 /* A physical copy keeps production's subscriptions: no apply
		  * worker may start and talk to a publisher; nor may it write a
		  * pid file where production's does. */
		 " -c max_logical_replication_workers=0 -c max_sync_workers_per_subscription=0"
		 " -c external_pid_file= -c shared_preload_libraries=", hba, mode);
	double t0 = ff_time_mono();
	/* Replay up to consistency happens before the server takes
	 * connections: the recovery's whole time is the operator's. */
	int wait_s = o->timeout_s > 0 && o->timeout_s < 86400 ? (int)o->timeout_s : 3600;
	if ((rc = ff_cluster_start(c, settings, wait_s, log_fd, cancel, e)) < 0) {
		ff_err why = {0};
		if (!(cancel && *cancel)) { /* a stop keeps pg_ctl's own error */
			stopped_short(c, log_fd, o->wal_segment_size, cancel, &why);
			ff_err_set(e, FF_EFAIL, "%s", why.msg);
		}
		goto fail;
	}
	if ((rc = await_promotion(c, o, log_fd, cancel, e)) < 0)
		goto fail;
	c->recover_s = ff_time_mono() - t0;
	copy_log(c, log_fd);
	return 0;
fail:
	ff_cluster_destroy(c, log_fd, NULL);
	return rc;
}
