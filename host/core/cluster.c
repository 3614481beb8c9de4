#include "cluster.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "exec.h"
#include "clock.h"
#include "fsutil.h"

#define PREFIX "/tmp/ffrun-drill-"

/* The postmaster serving data, when it runs: the pid in postmaster.pid,
 * checked against its command line (a stale file's pid may be anyone's). */
static pid_t our_postmaster(const char *data);
static void kill_server(pid_t pm);

const char *const ff_cluster_initdb_opts[] = { "-U", "postgres", "-A", "trust",
	"-E", "UTF8", "--locale=C.UTF-8", "--no-sync", NULL };

/* The tools' environment: PATH and the locale, and for an instance that
 * pgBackRest restored ffrun's PGBACKREST_* variables (a repository's key
 * or cipher passphrase may be given there, not in pgbackrest.conf: the
 * server's archive-get needs them as pgbackrest restore did). Only those:
 * the server reads PGPORT and PGDATA. NULL when out of memory. */
static char **tool_env(const ff_cluster *c)
{
	extern char **environ;
	static const char *const base[] = { "PATH=/usr/bin:/bin", "LANG=C.UTF-8", "LC_ALL=C.UTF-8" };
	size_t n = 0, k = 0;
	for (char **v = environ; *v; v++)
		n++;
	char **env = calloc(n + 4, sizeof(char *));
	if (!env)
		return NULL;
	for (size_t i = 0; i < 3; i++)
		env[k++] = (char *)base[i];
	for (char **v = environ; c->pgbr_env && *v; v++)
		if (!strncmp(*v, "PGBACKREST_", 11))
			env[k++] = *v;
	return env;
}

int ff_cluster_tool(const ff_cluster *c, const char *const *argv, int log_fd,
		    const volatile int *cancel, double timeout, ff_err *e)
{
	/* Pointers into environ and constants: only the array is ours. */
	char **env = tool_env(c);
	if (!env)
		return ff_err_set(e, FF_EINTERNAL, "%s: out of memory", argv[0]);
	ff_exec_opts o = { .env = (const char *const *)env, .out_fd = log_fd, .timeout_s = timeout,
			   .tail_max = 1024, .cancel = cancel, .as_user = c->as_user, .run_as = c->uid,
			   .run_as_gid = c->gid, .cwd = c->dir };
	ff_exec_result r = {0};
	int rc = ff_exec_run(&r, argv, &o, e);
	free(env);
	if (rc == 0 && !(r.exited && r.status == 0)) {
		char tail[300];
		snprintf(tail, sizeof(tail), "%s", r.tail ? r.tail : "");
		for (char *p = tail; *p; p++)
			if (*p == '\n')
				*p = ' ';
		rc = ff_err_set(e, FF_EFAIL, "%s %s: %s", argv[0], r.timed_out ? "stopped" : "failed", tail);
	}
	ff_exec_result_free(&r);
	return rc;
}

void ff_cluster_conninfo(const ff_cluster *c, const char *db, char *out, size_t cap)
{
	snprintf(out, cap, "host=%s port=%d user=postgres dbname=%s", c->sock, c->port, db);
}

int ff_cluster_prepare(ff_cluster *c, const char *bindir, const char *os_user, ff_err *e)
{
	char owner[128], path[320];
	int rc;

	memset(c, 0, sizeof(*c));
	c->owner_fd = -1;
	snprintf(c->bindir, sizeof(c->bindir), "%s", bindir);
	snprintf(c->dir, sizeof(c->dir), PREFIX "XXXXXX");
	if (!mkdtemp(c->dir))
		return ff_err_set(e, FF_EFAIL, "instance folder: %s", strerror(errno));
	c->exists = 1;
	/* Who made it, so that only a dead maker's instance is ever reaped. */
	snprintf(owner, sizeof(owner), "%ld %llu\n", (long)getpid(), ff_proc_start_time(getpid()));
	snprintf(path, sizeof(path), "%s/ffrun.owner", c->dir);
	/* Kept open and flock'ed until teardown: a reaper that cannot take the
	 * lock leaves the instance alone, even when it cannot see our pid (a
	 * run in another pid namespace sharing /tmp). */
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	c->owner_fd = fd;
	if (fd < 0 || write(fd, owner, strlen(owner)) < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0) {
		rc = ff_err_set(e, FF_EFAIL, "instance folder %s: %s", c->dir, strerror(errno));
		goto fail;
	}
	snprintf(c->data, sizeof(c->data), "%s/data", c->dir);
	snprintf(c->sock, sizeof(c->sock), "%s/sock", c->dir);
	c->port = 5432;
	if (mkdir(c->sock, 0700) < 0) {
		rc = ff_err_set(e, FF_EFAIL, "%s: %s", c->sock, strerror(errno));
		goto fail;
	}
	if (geteuid() == 0) {
		struct passwd *pw = getpwnam(os_user);
		if (!pw) {
			rc = ff_err_set(e, FF_EFAIL, "postgres.os_user %s: no such user", os_user);
			goto fail;
		}
		c->as_user = 1;
		c->uid = pw->pw_uid;
		c->gid = pw->pw_gid;
		if (chown(c->dir, c->uid, c->gid) < 0 || chown(c->sock, c->uid, c->gid) < 0) {
			rc = ff_err_set(e, FF_EFAIL, "chown %s: %s", c->dir, strerror(errno));
			goto fail;
		}
	}
	return 0;
fail:
	ff_cluster_destroy(c, -1, NULL);
	return rc;
}

int ff_cluster_start(ff_cluster *c, const char *settings, int wait_s, int log_fd,
		     const volatile int *cancel, ff_err *e)
{
	char pg_ctl[PATH_MAX], opts[2048], logfile[320], wait[16];
	snprintf(wait, sizeof(wait), "%d", wait_s > 0 ? wait_s : 120);
	snprintf(pg_ctl, sizeof(pg_ctl), "%s/pg_ctl", c->bindir);
	snprintf(opts, sizeof(opts), "-c listen_addresses= -c unix_socket_directories=%s -p %d %s",
		 c->sock, c->port, settings);
	snprintf(logfile, sizeof(logfile), "%s/server.log", c->dir);
	const char *start_argv[] = { pg_ctl, "start", "-w", "-t", wait, "-D", c->data,
		"-l", logfile, "-o", opts, NULL };
	int rc = ff_cluster_tool(c, start_argv, log_fd, cancel, (wait_s > 0 ? wait_s : 120) + 60, e);
	if (rc == 0)
		c->running = 1;
	return rc;
}

/* A disposable restore: nothing here needs to survive a crash. */
#define THROWAWAY_SETTINGS "-c fsync=off" \
	" -c synchronous_commit=off -c full_page_writes=off -c wal_level=minimal" \
	" -c max_wal_senders=0 -c autovacuum=off -c maintenance_work_mem=256MB" \
	" -c max_wal_size=4GB -c checkpoint_timeout=30min"

static int initdb(ff_cluster *c, int log_fd, const volatile int *cancel, ff_err *e)
{
	char tool[PATH_MAX];
	const char *argv[16] = { tool, "-D", c->data };
	size_t n = 3;
	snprintf(tool, sizeof(tool), "%s/initdb", c->bindir);
	for (size_t i = 0; ff_cluster_initdb_opts[i] && n + 1 < sizeof(argv) / sizeof(argv[0]); i++)
		argv[n++] = ff_cluster_initdb_opts[i];
	argv[n] = NULL;
	return ff_cluster_tool(c, argv, log_fd, cancel, 300, e);
}

int ff_cluster_create(ff_cluster *c, const char *bindir, const char *os_user,
		      int log_fd, const volatile int *cancel, ff_err *e)
{
	char tpl[PATH_MAX];
	int rc;

	if ((rc = ff_cluster_prepare(c, bindir, os_user, e)) < 0)
		return rc;
	int have_tpl = ff_cluster_template_path(c, tpl, sizeof(tpl)) == 0;
	int copied = have_tpl && ff_cluster_template_copy(c, tpl, log_fd, cancel);
	if (!copied) {
		if ((rc = initdb(c, log_fd, cancel, e)) < 0)
			goto fail;
		if (have_tpl)
			ff_cluster_template_keep(c, tpl, log_fd, cancel);
	}
	rc = ff_cluster_start(c, THROWAWAY_SETTINGS, 120, log_fd, cancel, e);
	if (rc < 0 && copied && !(cancel && *cancel)) {
		/* Not started from the template: it goes, initdb's output is used. */
		ff_cluster_template_drop(c, tpl, log_fd);
		pid_t pm = our_postmaster(c->data);
		if (pm > 0)
			kill_server(pm);
		ff_remove_tree(c->data);
		*e = (ff_err){0};
		if ((rc = initdb(c, log_fd, cancel, e)) == 0)
			rc = ff_cluster_start(c, THROWAWAY_SETTINGS, 120, log_fd, cancel, e);
	}
	if (rc < 0)
		goto fail;
	return 0;
fail:
	ff_cluster_destroy(c, log_fd, NULL);
	return rc;
}

/* The postmaster's pid, if it is running from data. */
static pid_t postmaster(const char *data)
{
	char path[400], buf[64];
	snprintf(path, sizeof(path), "%s/postmaster.pid", data);
	return ff_read_head(path, 0, buf, sizeof(buf)) ? (pid_t)atol(buf) : 0;
}

/* State letter and parent pid from /proc/PID/stat; state 0 when there is
 * no such process. */
static char proc_state(pid_t pid, pid_t *parent)
{
	char path[64], buf[512], state = 0;
	long ppid = 0;
	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if (!ff_read_head(path, 0, buf, sizeof(buf)))
		return 0;
	const char *p = strrchr(buf, ')'); /* the command name may hold spaces */
	if (!p || sscanf(p + 1, " %c %ld", &state, &ppid) != 2)
		return 0;
	if (parent)
		*parent = (pid_t)ppid;
	return state;
}

/* Running, not a zombie waiting for a parent (one that may never reap). */
static int running(pid_t pid)
{
	char st = proc_state(pid, NULL);
	return st && st != 'Z' && st != 'X';
}

/* End a dead run's server for good: the postmaster and every child it has.
 * A SIGKILLed postmaster's backends notice only at their next wait, and one
 * busy with a COPY from an orphaned pg_restore goes on writing into a
 * folder we are about to remove. Stopped first, the postmaster cannot
 * start a child between the look at /proc and the kill. Waits up to 5 s
 * for them to be gone. */
static void kill_server(pid_t pm)
{
	pid_t kids[512];
	size_t n = 0;
	kill(pm, SIGSTOP);
	DIR *d = opendir("/proc");
	struct dirent *de;
	while (d && (de = readdir(d)) && n < sizeof(kids) / sizeof(kids[0])) {
		pid_t pid = (pid_t)atol(de->d_name), parent = 0;
		if (pid > 0 && proc_state(pid, &parent) && parent == pm)
			kids[n++] = pid;
	}
	if (d)
		closedir(d);
	kill(pm, SIGKILL);
	for (size_t i = 0; i < n; i++)
		kill(kids[i], SIGKILL);
	for (int tries = 0; tries < 500; tries++) {
		int alive = running(pm);
		for (size_t i = 0; i < n && !alive; i++)
			alive = running(kids[i]);
		if (!alive)
			return;
		usleep(10000);
	}
}

pid_t ff_cluster_postmaster(const char *data)
{
	return our_postmaster(data);
}

pid_t ff_cluster_pid(const ff_cluster *c)
{
	return c->exists ? our_postmaster(c->data) : 0;
}

static pid_t our_postmaster(const char *data)
{
	pid_t pm = postmaster(data);
	char cmd[64], line[PATH_MAX];
	if (pm <= 0)
		return 0;
	snprintf(cmd, sizeof(cmd), "/proc/%ld/cmdline", (long)pm);
	size_t n = ff_read_head(cmd, 0, line, sizeof(line));
	for (size_t i = 0; i < n; i++)
		if (!line[i])
			line[i] = ' ';
	return n > 0 && strstr(line, data) ? pm : 0;
}

/* What pg_ctl stop -m immediate does, without its tenth-of-a-second polls
 * (about 0.1 s of every drill): SIGQUIT to the postmaster, which ends its
 * children (SIGKILL after 5 s) and then itself, and a wait on a pidfd for
 * it to be gone. 0 when it is gone within timeout_s. */
static int stop_now(pid_t pm, double timeout_s)
{
	/* The pidfd names this process for good: once it is readable the
	 * postmaster has exited, even if its pid is already someone else's. */
	int fd = (int)syscall(SYS_pidfd_open, pm, 0);
	if (fd >= 0 ? syscall(SYS_pidfd_send_signal, fd, SIGQUIT, NULL, 0) < 0 : kill(pm, SIGQUIT) < 0) {
		int err = errno;
		if (fd >= 0)
			close(fd);
		return err == ESRCH ? 0 : -1;
	}
	double until = ff_time_mono() + timeout_s;
	int rc = 0;
	for (;;) {
		if (fd >= 0) {
			struct pollfd p = { .fd = fd, .events = POLLIN };
			if (poll(&p, 1, 100) > 0)
				break;
		} else if (!running(pm)) {
			break;
		} else {
			usleep(2000);
		}
		if (ff_time_mono() > until) {
			rc = -1;
			break;
		}
	}
	if (fd >= 0)
		close(fd);
	return rc;
}

/* The instance's folder, ffrun.owner last: one that cannot be removed
 * whole (something still writes in it) stays provably ours, and the next
 * run's reap tries again. */
static void remove_instance(const char *dir)
{
	char path[400];
	static const char *const parts[] = { "data", "sock", "server.log", "template", "template.dropped" };
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		struct stat st;
		snprintf(path, sizeof(path), "%s/%s", dir, parts[i]);
		ff_remove_tree(path);
		if (lstat(path, &st) == 0)
			return;
	}
	ff_remove_tree(dir);
}

int ff_cluster_destroy(ff_cluster *c, int log_fd, ff_err *e)
{
	if (!c->exists)
		return 0;
	pid_t pm = our_postmaster(c->data);
	/* Still ours (checked again) when it would not stop in time. */
	if (pm > 0 && stop_now(pm, 30) < 0 && our_postmaster(c->data) == pm)
		kill_server(pm);
	c->running = 0;
	remove_instance(c->dir);
	if (c->beside[0])
		ff_remove_tree(c->beside);
	c->beside[0] = '\0';
	if (c->owner_fd >= 0)
		close(c->owner_fd);
	c->owner_fd = -1;
	c->exists = 0;
	(void)log_fd;
	(void)e;
	return 0;
}

/* A failed copy kept: told never to archive (started by hand it would
 * push a timeline of its own into production's repository), then renamed
 * <data>.ffKIND_STAMP, durably: no longer a name the next restore reaps.
 * On failure it still has its .ffrestore_ name. */
static int keep_as(const char *beside, const char *kind, char *data, size_t cap, ff_err *e)
{
	const char *slash = strrchr(beside, '/');
	const char *cut = slash ? strstr(slash, ".ffrestore_") : NULL;
	if (!cut)
		return ff_err_set(e, FF_EINTERNAL, "release: %s is not a copy restored beside production", beside);
	if (snprintf(data, cap, "%.*s.ff%s_%s", (int)(cut - beside), beside, kind,
		     cut + strlen(".ffrestore_")) >= (int)cap)
		return ff_err_set(e, FF_EFAIL, "%s: the kept name is too long", beside);
	static const char off[] = "\n# ffrun: a failed copy kept for inspection: it never archives\narchive_mode = 'off'\n";
	char conf[PATH_MAX + 32], parent[PATH_MAX];
	snprintf(conf, sizeof(conf), "%s/postgresql.auto.conf", beside);
	int fd = open(conf, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
	int bad = fd < 0 || write(fd, off, sizeof(off) - 1) != (ssize_t)(sizeof(off) - 1) || fsync(fd) < 0;
	if (fd >= 0)
		close(fd);
	if (bad)
		return ff_err_set(e, FF_EFAIL, "%s: archive_mode = off not written", conf);
	if (renameat2(AT_FDCWD, beside, AT_FDCWD, data, RENAME_NOREPLACE) < 0)
		return ff_err_set(e, FF_EFAIL, "%s -> %s: %s", beside, data, strerror(errno));
	snprintf(parent, sizeof(parent), "%.*s", slash == beside ? 1 : (int)(slash - beside), beside);
	ff_sync_dir(parent);
	return 0;
}

int ff_cluster_release(ff_cluster *c, const char *kind, char *data, size_t cap, int log_fd,
		       const volatile int *cancel, ff_err *e)
{
	char pg_ctl[PATH_MAX];
	if (!c->exists || !c->beside[0] || strlen(c->beside) >= cap)
		return ff_err_set(e, FF_EINTERNAL, "release: not an instance restored beside production");
	snprintf(pg_ctl, sizeof(pg_ctl), "%s/pg_ctl", c->bindir);
	const char *argv[] = { pg_ctl, "stop", "-D", c->data, "-m", "fast", "-w", "-t", "300", NULL };
	int rc = ff_cluster_pid(c) ? ff_cluster_tool(c, argv, log_fd, cancel, 360, e) : 0;
	if (rc < 0)
		return rc;
	snprintf(data, cap, "%s", c->beside);
	if (kind && (rc = keep_as(c->beside, kind, data, cap, e)) < 0) {
		/* Not kept under a lasting name: removed with the rest, as a
		 * copy not kept is, and the error says so. */
		ff_err ignored = {0};
		ff_cluster_destroy(c, log_fd, &ignored);
		size_t n = strlen(e->msg);
		snprintf(e->msg + n, sizeof(e->msg) - n, "; the copy was removed with its instance");
		return rc;
	}
	c->beside[0] = '\0'; /* kept: destroy removes the rest */
	return ff_cluster_destroy(c, log_fd, e);
}

int ff_cluster_reap(int log_fd)
{
	DIR *d = opendir("/tmp");
	struct dirent *de;
	int reaped = 0;
	while (d && (de = readdir(d))) {
		char dir[300], path[320], buf[128];
		if (strncmp(de->d_name, "ffrun-drill-", 12))
			continue;
		snprintf(dir, sizeof(dir), "/tmp/%s", de->d_name);
		snprintf(path, sizeof(path), "%s/ffrun.owner", dir);
		if (!ff_read_head(path, O_NOFOLLOW, buf, sizeof(buf)))
			continue; /* not provably ours */
		long pid = 0;
		unsigned long long t = 0;
		if (sscanf(buf, "%ld %llu", &pid, &t) != 2)
			continue;
		if (pid <= 0 || t == 0 || ff_proc_start_time((pid_t)pid) == t)
			continue; /* its ffrun is alive */
		int lk = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		int held = lk < 0 || flock(lk, LOCK_EX | LOCK_NB) < 0;
		if (lk >= 0)
			close(lk); /* the removal below does not need the lock kept */
		if (held)
			continue; /* a live ffrun we cannot see holds it */
		ff_cluster c;
		memset(&c, 0, sizeof(c));
		snprintf(c.dir, sizeof(c.dir), "%s", dir);
		snprintf(c.data, sizeof(c.data), "%s/data", dir);
		c.exists = 1;
		/* Without pg_ctl at hand: the postmaster, if any, is ended by pid
		 * after checking it serves this folder. */
		pid_t pm = our_postmaster(c.data);
		if (pm > 0)
			kill_server(pm);
		/* A copy it was restoring beside production's data folder goes
		 * too: only a folder named as ffrun names them (.ffrestore_). */
		char beside[PATH_MAX];
		snprintf(path, sizeof(path), "%s/beside", dir);
		if (ff_read_head(path, O_NOFOLLOW, beside, sizeof(beside)) && beside[0] == '/' &&
		    strstr(beside, ".ffrestore_") && !our_postmaster(beside))
			ff_remove_tree(beside);
		remove_instance(dir);
		reaped++;
		if (log_fd >= 0) {
			char msg[PATH_MAX + 64];
			int m = snprintf(msg, sizeof(msg), "reaped the instance %s left by a dead ffrun\n", dir);
			if (write(log_fd, msg, (size_t)m) < 0) {
				/* informative only */
			}
		}
	}
	if (d)
		closedir(d);
	return reaped;
}
