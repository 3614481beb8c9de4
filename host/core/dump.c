/* dump.c - a dump tool streaming to a file, in a thread, with the stream
 * fingerprints read back behind it (dump.h). */
#include "dump.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "exec.h"
#include "pg.h"

struct ff_dump {
	pthread_t thread;
	int started, joined;
	char **argv;          /* owned */
	char **env;           /* owned */
	int out_fd;           /* the archive being written */
	int log_fd;           /* raw/ capture of stderr */
	ff_sha256 *sha;
	uint64_t bytes, estimate;
	int estimate_kind;      /* FF_PROGRESS_BOUND, or _ABOUT when given one */
	ff_progress progress;   /* while the thread runs */
	ff_progress_line *line; /* the run's status line */
	int quiet;
	volatile int cancel;
	const volatile int *ctx_cancel;
	int sink_errno;
	ff_exec_result res;
	ff_err err;
	int rc;
	char label[32];
	/* Fingerprints from the stream (ff.pg.dump{fingerprint=}): a follower
	 * thread reads the archive back from out_fd behind the writer and
	 * feeds it to pg_restore --data-only, whose SQL the scanner reads in a
	 * thread of its own. The file is the buffer between them, so the
	 * dump never waits for the fingerprints: the scanner and pg_restore
	 * run on what CPU the dump leaves, and catch up at the end. */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	uint64_t written;       /* bytes of the archive on out_fd (under mu) */
	int written_done;       /* the dump has ended (under mu) */
	volatile int dumped;    /* the same, for background_until_dumped */
	int follow_done;        /* the follower has ended (under mu) */
	int scan_done;          /* the scanner's pg_restore has ended (under mu) */
	int scan_bg;            /* the scanner thread's state there */
	pthread_t follow_thread;
	int follow_started;
	int feed_fd;            /* write end; -1 when none or closed */
	int scan_in;            /* read end: pg_restore's stdin */
	int scan_log_fd;
	char **scan_argv;       /* owned */
	ff_copyscan *scan;
	int scan_content;
	pthread_t scan_thread;
	int scan_started;
	ff_exec_result scan_res;
	ff_err scan_err;
	int scan_rc;
	ff_dump_result result;
	int finished;           /* result is set */
};

typedef struct ff_dump dump_job;

/* Tell the follower how much of the archive is on disk; done = the dump
 * has ended (or will never start). */
static void follow_publish(dump_job *j, int done)
{
	pthread_mutex_lock(&j->mu);
	j->written = j->bytes;
	j->written_done |= done;
	j->dumped |= done;
	pthread_cond_broadcast(&j->cv);
	pthread_mutex_unlock(&j->mu);
}

static int dump_sink(void *arg, const char *p, size_t n)
{
	dump_job *j = arg;
	size_t off = 0;
	if (j->ctx_cancel && *j->ctx_cancel)
		j->cancel = 1;
	while (off < n) {
		ssize_t w = write(j->out_fd, p + off, n - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			j->sink_errno = errno;
			return -1;
		}
		off += (size_t)w;
	}
	ff_sha256_update(j->sha, p, n);
	j->bytes += n;
	if (j->scan)
		follow_publish(j, 0);
	ff_progress_add(&j->progress, n);
	return 0;
}

/* The scanner and pg_restore run on what CPU the dump leaves: the kernel
 * serves pg_dump, its server and ffrun's writer first
 * (on 2 cores this took a content backup from 1.4x a bare pg_dump to
 * 1.15x: at equal priority they slowed the dump and left CPU idle). Once
 * the dump is done they return to the normal policy, so a host busy with
 * other work cannot starve the end of a backup (where permitted: as root
 * or with an RLIMIT_NICE that allows it). */
static void background_until_dumped(dump_job *j, int *bg)
{
	if (*bg == 0 && !j->dumped) {
		*bg = ff_sched_background(0, 1) == 0 ? 1 : -1;
	} else if (*bg == 1 && j->dumped) {
		(void)ff_sched_background(0, 0);
		*bg = -1;
	}
}

/* Read the archive back from out_fd, behind the writer, into pg_restore.
 * A reader that stops (a broken archive, a cancel) ends the feed: the
 * dump goes on, and the missing fingerprints say why. This thread keeps
 * the normal policy: it shares j->mu with the dump's writer, and one
 * preempted while holding it would stall the dump (it does little work,
 * and waits on the pipe when pg_restore lags). */
static void *follow_main(void *arg)
{
	dump_job *j = arg;
	enum { CHUNK = 256 * 1024 };
	char *buf = malloc(CHUNK);
	uint64_t off = 0;
	for (;;) {
		pthread_mutex_lock(&j->mu);
		while (j->written == off && !j->written_done && !j->cancel)
			pthread_cond_wait(&j->cv, &j->mu);
		uint64_t avail = j->written;
		int done = j->written_done || j->cancel;
		pthread_mutex_unlock(&j->mu);
		if (!buf || j->cancel || (done && off == avail))
			break;
		while (off < avail && !j->cancel) {
			size_t want = avail - off < CHUNK ? (size_t)(avail - off) : CHUNK;
			ssize_t r = pread(j->out_fd, buf, want, (off_t)off);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				goto out;
			for (ssize_t w, sent = 0; sent < r; sent += w) {
				w = write(j->feed_fd, buf + sent, (size_t)(r - sent));
				if (w < 0 && errno == EINTR)
					w = 0;
				else if (w < 0)
					goto out;
			}
			off += (uint64_t)r;
		}
	}
out:
	free(buf);
	close(j->feed_fd); /* end of the archive for pg_restore */
	j->feed_fd = -1;
	pthread_mutex_lock(&j->mu);
	j->follow_done = 1;
	pthread_cond_broadcast(&j->cv);
	pthread_mutex_unlock(&j->mu);
	return NULL;
}

static int scan_sink(void *arg, const char *p, size_t n)
{
	dump_job *j = arg;
	background_until_dumped(j, &j->scan_bg);
	return ff_copyscan_feed(j->scan, p, n);
}

static void *scan_main(void *arg)
{
	dump_job *j = arg;
	ff_exec_opts o = {
		.env = (const char *const *)j->env, .out_fd = j->scan_log_fd, .tail_max = 2048,
		.stdin_fd = j->scan_in, .stdout_sink = scan_sink, .stdout_arg = j,
		.cancel = &j->cancel, .background = 1, .foreground = &j->dumped,
	};
	background_until_dumped(j, &j->scan_bg);
	j->scan_rc = ff_exec_run(&j->scan_res, (const char *const *)j->scan_argv, &o, &j->scan_err);
	/* Text that stops inside a COPY block is an error even if pg_restore
	 * exited 0; the result's fp_error gives the scanner's reason. */
	if (j->scan_rc == 0 && ff_copyscan_finish(j->scan) < 0)
		j->scan_rc = -1;
	close(j->scan_in); /* a writer still at it gets EPIPE, not a hang */
	j->scan_in = -1;
	pthread_mutex_lock(&j->mu);
	j->scan_done = 1;
	pthread_cond_broadcast(&j->cv);
	pthread_mutex_unlock(&j->mu);
	return NULL;
}

/* Wait until *flag (set under j->mu by the thread it names). pg_dump is
 * done, but the read-back may still have far to go: a signal to ffrun must
 * stop it, not wait for it. Cancelling kills pg_restore, whose pipe then
 * ends the follower and the scanner. */
static void wait_cancellable(dump_job *j, const int *flag)
{
	pthread_mutex_lock(&j->mu);
	while (!*flag) {
		if (j->ctx_cancel && *j->ctx_cancel)
			j->cancel = 1;
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 100 * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&j->cv, &j->mu, &ts);
	}
	pthread_mutex_unlock(&j->mu);
}

static void *dump_main(void *arg)
{
	dump_job *j = arg;
	ff_exec_opts o = {
		.env = (const char *const *)j->env, .out_fd = j->log_fd, .tail_max = 2048,
		.stdout_sink = dump_sink, .stdout_arg = j, .stdout_errno = &j->sink_errno,
		.cancel = &j->cancel,
	};
	ff_progress_init(&j->progress, j->line, j->label, j->estimate, j->estimate_kind, j->quiet);
	j->rc = ff_exec_run(&j->res, (const char *const *)j->argv, &o, &j->err);
	if (j->follow_started) {
		follow_publish(j, 1);
		wait_cancellable(j, &j->follow_done);
		pthread_join(j->follow_thread, NULL);
		j->follow_started = 0;
	}
	if (j->rc == 0 && fsync(j->out_fd) < 0)
		j->rc = ff_err_set(&j->err, FF_EFAIL, "fsync: %s", strerror(errno));
	if (j->scan_started) {
		/* The follower may have ended long before: the rest of a small
		 * archive fits in the pipe to pg_restore. */
		wait_cancellable(j, &j->scan_done);
		pthread_join(j->scan_thread, NULL);
		j->scan_started = 0;
	}
	ff_progress_end(&j->progress);
	return NULL;
}

void ff_dump_free(ff_dump *j)
{
	if (!j)
		return;
	if (j->started && !j->joined) {
		j->cancel = 1;
		pthread_join(j->thread, NULL);
		j->joined = 1;
	}
	if (j->follow_started) { /* the job never ran: the follower still waits */
		j->cancel = 1;
		follow_publish(j, 1);
		pthread_join(j->follow_thread, NULL);
		j->follow_started = 0;
	}
	if (j->scan_started) { /* the job never ran: pg_restore still waits */
		if (j->feed_fd >= 0)
			close(j->feed_fd);
		j->feed_fd = -1;
		j->cancel = 1;
		pthread_join(j->scan_thread, NULL);
	}
	if (j->out_fd >= 0)
		close(j->out_fd);
	if (j->log_fd >= 0)
		close(j->log_fd);
	if (j->feed_fd >= 0)
		close(j->feed_fd);
	if (j->scan_in >= 0)
		close(j->scan_in);
	if (j->scan_log_fd >= 0)
		close(j->scan_log_fd);
	for (char **a = j->scan_argv; a && *a; a++)
		free(*a);
	free(j->scan_argv);
	ff_copyscan_free(j->scan);
	ff_exec_result_free(&j->scan_res);
	for (char **a = j->argv; a && *a; a++)
		free(*a);
	free(j->argv);
	ff_pg_env_free(j->env);
	ff_sha256_free(j->sha);
	ff_exec_result_free(&j->res);
	pthread_cond_destroy(&j->cv);
	pthread_mutex_destroy(&j->mu);
	free(j);
}


static char **strv_dup(const char *const *v)
{
	size_t n = 0;
	while (v[n])
		n++;
	char **d = calloc(n + 1, sizeof(char *));
	for (size_t i = 0; d && i < n; i++)
		if (!(d[i] = strdup(v[i]))) {
			for (size_t k = 0; k < i; k++)
				free(d[k]);
			free(d);
			return NULL;
		}
	return d;
}

/* Replace or add NAME=value in a NULL-terminated malloc'd environment. */
static int env_put(char ***env, const char *kv)
{
	size_t klen = (size_t)(strchr(kv, '=') - kv) + 1, n = 0;
	char *dup = strdup(kv);
	if (!dup)
		return -1;
	for (char **v = *env; *v; v++, n++)
		if (!strncmp(*v, kv, klen)) {
			free(*v);
			*v = dup;
			return 0;
		}
	char **grown = realloc(*env, (n + 2) * sizeof(char *));
	if (!grown) {
		free(dup);
		return -1;
	}
	grown[n] = dup;
	grown[n + 1] = NULL;
	*env = grown;
	return 0;
}

/* A job owning o's fds, its argv and environment copied, not started. */
static int job_new(ff_dump **out, const ff_dump_opts *o, ff_err *e)
{
	dump_job *j = calloc(1, sizeof(*j));
	*out = NULL;
	if (!j) {
		close(o->out_fd);
		close(o->log_fd);
		if (o->scan_log_fd >= 0)
			close(o->scan_log_fd);
		return ff_err_set(e, FF_EINTERNAL, "out of memory");
	}
	*out = j;
	j->out_fd = o->out_fd;
	j->log_fd = o->log_fd;
	j->scan_log_fd = o->scan_argv ? o->scan_log_fd : -1;
	if (!o->scan_argv && o->scan_log_fd >= 0)
		close(o->scan_log_fd);
	j->feed_fd = j->scan_in = -1;
	pthread_mutex_init(&j->mu, NULL);
	pthread_cond_init(&j->cv, NULL);
	snprintf(j->label, sizeof(j->label), "%s", o->label);
	j->estimate = o->estimate;
	j->estimate_kind = o->estimate_kind;
	j->line = o->line;
	j->quiet = o->quiet;
	j->ctx_cancel = o->cancel;
	j->argv = strv_dup(o->argv);
	j->env = ff_pg_env();
	j->sha = ff_sha256_new();
	if (!j->argv || !j->env || !j->sha)
		return ff_err_set(e, FF_EINTERNAL, "out of memory");
	for (const char *const *kv = o->env_extra; kv && *kv; kv++)
		if (env_put(&j->env, *kv) < 0)
			return ff_err_set(e, FF_EINTERNAL, "out of memory");
	return 0;
}

/* pg_restore --data-only reading the archive as it is written, and the
 * thread scanning its SQL for each table's rows. */
static int start_scan(dump_job *j, const ff_dump_opts *o, ff_err *e)
{
	int pipefd[2];
	j->scan_content = o->scan_content;
	if (!(j->scan = ff_copyscan_new(o->scan_content)) || !(j->scan_argv = strv_dup(o->scan_argv)))
		return ff_err_set(e, FF_EINTERNAL, "out of memory");
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return ff_err_set(e, FF_EFAIL, "pg.dump: pipe: %s", strerror(errno));
	fcntl(pipefd[1], F_SETPIPE_SZ, 1024 * 1024); /* fewer stalls; 64 KiB still works */
	j->scan_in = pipefd[0];
	j->feed_fd = pipefd[1];
	if (pthread_create(&j->scan_thread, NULL, scan_main, j) != 0)
		return ff_err_set(e, FF_EFAIL, "pg.dump: cannot start a thread");
	j->scan_started = 1;
	if (pthread_create(&j->follow_thread, NULL, follow_main, j) != 0)
		return ff_err_set(e, FF_EFAIL, "pg.dump: cannot start a thread");
	j->follow_started = 1;
	return 0;
}

int ff_dump_start(ff_dump **out, const ff_dump_opts *o, ff_err *e)
{
	int rc;
	if ((rc = job_new(out, o, e)) < 0 || (o->scan_argv && (rc = start_scan(*out, o, e)) < 0))
		goto fail;
	if (pthread_create(&(*out)->thread, NULL, dump_main, *out) != 0) {
		rc = ff_err_set(e, FF_EFAIL, "%s: cannot start a thread", o->label);
		goto fail;
	}
	(*out)->started = 1;
	return 0;
fail:
	ff_dump_free(*out);
	*out = NULL;
	return rc;
}

int ff_dump_run(ff_dump **out, const ff_dump_opts *o, ff_err *e)
{
	int rc;
	if ((rc = job_new(out, o, e)) < 0) {
		ff_dump_free(*out);
		*out = NULL;
		return rc;
	}
	dump_main(*out);
	return 0;
}

/* Why the stream fingerprints are missing, or "" when they are there. */
static void scan_verdict(dump_job *j, char *why, size_t cap)
{
	why[0] = '\0';
	if (j->scan_rc < 0) {
		snprintf(why, cap, "%s", *ff_copyscan_error(j->scan) ? ff_copyscan_error(j->scan) : j->scan_err.msg);
	} else if (!j->scan_res.exited || j->scan_res.status != 0) {
		char msg[700];
		snprintf(msg, sizeof(msg), "pg_restore --data-only could not read the archive back (%s %d): %s",
			 j->scan_res.exited ? "status" : "signal", j->scan_res.status,
			 j->scan_res.tail ? j->scan_res.tail : "");
		msg[strcspn(msg, "\n")] = '\0';
		snprintf(why, cap, "%s", msg);
	}
}

static void finish(dump_job *j)
{
	ff_dump_result *r = &j->result;
	ff_sha256_final(j->sha, r->sha256);
	r->ok = j->rc == 0 && j->res.exited && j->res.status == 0;
	r->bytes = j->bytes;
	r->duration_s = j->res.duration_s;
	if (!r->ok) {
		if (j->rc < 0)
			snprintf(r->error, sizeof(r->error), "%s", j->err.msg);
		else if (j->res.timed_out)
			snprintf(r->error, sizeof(r->error), "%s was stopped", j->label);
		else
			snprintf(r->error, sizeof(r->error), "%s exited with %s %d: %s", j->label,
				 j->res.exited ? "status" : "signal", j->res.status,
				 j->res.tail ? j->res.tail : "");
		r->error[strcspn(r->error, "\n")] = '\0';
	}
	if (r->ok && j->scan) {
		r->fingerprinted = 1;
		scan_verdict(j, r->fp_error, sizeof(r->fp_error));
		r->scan = j->scan;
		r->content = j->scan_content;
	}
	j->finished = 1;
}

void ff_dump_wait(ff_dump *j)
{
	if (j->started && !j->joined) {
		pthread_join(j->thread, NULL);
		j->joined = 1;
	}
	if (!j->finished)
		finish(j);
}

const ff_dump_result *ff_dump_result_of(ff_dump *j)
{
	return &j->result;
}
