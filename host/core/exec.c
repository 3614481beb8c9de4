/* exec.c - run one child process under ffrun's rules.
 *
 * The child gets its own process group so a timeout can kill everything it
 * started, /dev/null as stdin, one pipe for stdout and stderr, exactly the
 * environment we give it and no other descriptor of ours. Between fork and
 * execve it only makes async-signal-safe calls: ffrun has threads (the
 * watchdog), and a lock held by one of them at fork time stays held forever
 * in the child. Everything that allocates is done before the fork.
 *
 * No signal handler is installed: the parent learns of the child's exit
 * through a pidfd in poll() (Linux 5.3+) or, without one, by asking
 * waitid(WNOHANG) on a short tick. */
#include <sys/types.h> /* exec.h uses uid_t and gid_t */

#include "exec.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define FF_EXEC_CHUNK (256 * 1024) /* a read's worth */
/* A streamed stdout (a dump) gets a 1 MiB pipe: the producer and the
 * consumer then stall on each other far less often than with 64 KiB. */
#define FF_EXEC_DATA_PIPE (1024 * 1024)
#define FF_EXEC_TICK_MS 50        /* exit polling when there is no pidfd */
#define FF_EXEC_CANCEL_MS 100     /* how late a cancel may be noticed */
#define FF_EXEC_DRAIN_S 0.25      /* output still read after the leader exits */

static const char *const default_env[] = {
	"PATH=/usr/bin:/bin", "LANG=C.UTF-8", NULL
};

/* ---- streaming redactor ------------------------------------------------ */

typedef struct {
	const char *s;
	size_t len;
} secret;

struct ff_redactor {
	secret *secrets;  /* longest first, so "abcdef" wins over "abc" */
	size_t nsecrets;
	size_t max_len;
	char *win;        /* carry of undecided bytes, then new input */
	size_t len, cap;
	int (*sink)(void *arg, const char *p, size_t n);
	void *arg;
	int err;          /* the sink's first failure, sticky */
};

ff_redactor *ff_redactor_new(const char *const *secrets,
			     int (*sink)(void *arg, const char *p, size_t n),
			     void *arg)
{
	ff_redactor *r;
	size_t n = 0, bytes = 0, i, j;
	char *copy;

	/* Empty secrets would match everywhere; they are skipped. */
	for (i = 0; secrets && secrets[i]; i++) {
		if (secrets[i][0]) {
			n++;
			bytes += strlen(secrets[i]);
		}
	}
	/* One block: the struct, the secret table, copies of the secrets (the
	 * caller's strings may be Lua's and collected under us). */
	r = calloc(1, sizeof(*r) + n * sizeof(secret) + bytes);
	if (!r)
		return NULL;
	r->secrets = (secret *)(r + 1);
	copy = (char *)(r->secrets + n);
	r->sink = sink;
	r->arg = arg;

	for (i = 0; secrets && secrets[i]; i++) {
		size_t len = strlen(secrets[i]);
		if (!len)
			continue;
		memcpy(copy, secrets[i], len);
		for (j = r->nsecrets; j > 0 && r->secrets[j - 1].len < len; j--)
			r->secrets[j] = r->secrets[j - 1];
		r->secrets[j] = (secret){ copy, len };
		r->nsecrets++;
		copy += len;
		if (len > r->max_len)
			r->max_len = len;
	}

	if (r->nsecrets) {
		r->cap = r->max_len - 1 + FF_EXEC_CHUNK;
		if (!(r->win = malloc(r->cap))) {
			free(r);
			return NULL;
		}
	}
	return r;
}

static int emit(ff_redactor *r, const char *p, size_t n)
{
	if (!n || r->err)
		return r->err;
	if (r->sink(r->arg, p, n) < 0)
		r->err = -1;
	return r->err;
}

static size_t match_at(const ff_redactor *r, size_t i)
{
	for (size_t k = 0; k < r->nsecrets; k++) {
		const secret *s = &r->secrets[k];
		if (s->len <= r->len - i && r->win[i] == s->s[0] &&
		    memcmp(r->win + i, s->s, s->len) == 0)
			return s->len;
	}
	return 0;
}

/* Emit every byte whose fate is known. A position closer than max_len-1 to
 * the end of the window may start a secret whose rest has not arrived yet:
 * those bytes stay in the window until more input or the flush. */
static int scan(ff_redactor *r, int final)
{
	size_t limit, i = 0, from = 0, m;

	if (final)
		limit = r->len;
	else
		limit = r->len > r->max_len - 1 ? r->len - (r->max_len - 1) : 0;

	while (i < limit) {
		if ((m = match_at(r, i)) == 0) {
			i++;
			continue;
		}
		emit(r, r->win + from, i - from);
		emit(r, "[REDACTED]", 10);
		i += m;
		from = i;
	}
	emit(r, r->win + from, i - from);
	memmove(r->win, r->win + i, r->len - i);
	r->len -= i;
	return r->err;
}

int ff_redactor_write(ff_redactor *r, const char *p, size_t n)
{
	if (!r->nsecrets)
		return emit(r, p, n);
	while (n && !r->err) {
		size_t k = r->cap - r->len < n ? r->cap - r->len : n;
		memcpy(r->win + r->len, p, k);
		r->len += k;
		p += k;
		n -= k;
		scan(r, 0);
	}
	return r->err;
}

int ff_redactor_flush(ff_redactor *r)
{
	return r->nsecrets ? scan(r, 1) : r->err;
}

void ff_redactor_free(ff_redactor *r)
{
	if (!r)
		return;
	free(r->win);
	free(r);
}

/* ---- capture sink: the output file and the tail ring --------------------- */

typedef struct {
	int fd;
	int write_errno;   /* first failed write to fd */
	uint64_t bytes;
	char *ring;        /* last tail_max bytes, circular */
	size_t ring_max, ring_len, ring_head; /* head: where the next byte goes */
} capture;

static int capture_sink(void *arg, const char *p, size_t n)
{
	capture *c = arg;
	size_t off = 0;

	c->bytes += n;
	/* After a failed write we keep reading (and discarding) so the child
	 * never blocks on a full pipe; the failure is reported at the end. */
	while (c->fd >= 0 && !c->write_errno && off < n) {
		ssize_t w = write(c->fd, p + off, n - off);
		if (w > 0)
			off += (size_t)w;
		else if (w < 0 && errno != EINTR)
			c->write_errno = errno;
	}

	if (c->ring_max) {
		if (n > c->ring_max) {
			p += n - c->ring_max;
			n = c->ring_max;
		}
		while (n) {
			size_t k = c->ring_max - c->ring_head;
			if (k > n)
				k = n;
			memcpy(c->ring + c->ring_head, p, k);
			c->ring_head = (c->ring_head + k) % c->ring_max;
			c->ring_len = c->ring_len + k > c->ring_max ? c->ring_max : c->ring_len + k;
			p += k;
			n -= k;
		}
	}
	return 0;
}

static char *capture_tail(const capture *c)
{
	size_t start = (c->ring_head + c->ring_max - c->ring_len) % c->ring_max;
	size_t first = c->ring_max - start < c->ring_len ? c->ring_max - start : c->ring_len;
	size_t skip = 0;
	char *t = malloc(c->ring_len + 1);

	if (!t)
		return NULL;
	memcpy(t, c->ring + start, first);
	memcpy(t + first, c->ring, c->ring_len - first);
	/* The cut may land inside a UTF-8 sequence; the tail ends up in JSON. */
	while (skip < c->ring_len && skip < 3 && ((unsigned char)t[skip] & 0xC0) == 0x80)
		skip++;
	memmove(t, t + skip, c->ring_len - skip);
	t[c->ring_len - skip] = '\0';
	return t;
}

/* ---- the child ----------------------------------------------------------- */

enum { STEP_SETUP, STEP_CHDIR, STEP_USER, STEP_EXEC };

typedef struct {
	int step;
	int err;
} child_status;

static void child_fail(int status_fd, int step)
{
	child_status st = { step, errno };
	ssize_t w;

	do
		w = write(status_fd, &st, sizeof(st));
	while (w < 0 && errno == EINTR);
	_exit(127);
}

/* A descriptor that dup2 onto 0, 1 or 2 would clobber is moved above them
 * first; this only matters when ffrun itself was started with stdio closed. */
static int above_stdio(int fd)
{
	return fd > 2 ? fd : fcntl(fd, F_DUPFD_CLOEXEC, 3);
}

static void child_close_from(int lowfd)
{
	if (syscall(SYS_close_range, (unsigned)lowfd, ~0U, 0) == 0)
		return;
	long max = sysconf(_SC_OPEN_MAX);
	for (long fd = lowfd; fd < (max > 0 && max < 1048576 ? max : 65536); fd++)
		close((int)fd);
}

static void child_run(const char *const *argv, const char *const *env,
		      const ff_exec_opts *o, int null_fd, int out_fd, int data_fd,
		      int st_fd, pid_t parent)
{
	struct sigaction dfl;
	sigset_t none;
	int fd;

	if (setpgid(0, 0) < 0)
		child_fail(st_fd, STEP_SETUP);

	/* Ignored signals and the blocked mask survive execve; the child starts
	 * with neither, whatever ffrun set for itself. */
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	for (int s = 1; s < NSIG; s++)
		sigaction(s, &dfl, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);

	if ((fd = above_stdio(st_fd)) < 0)
		child_fail(st_fd, STEP_SETUP);
	st_fd = fd;
	if ((null_fd = above_stdio(null_fd)) < 0 || (out_fd = above_stdio(out_fd)) < 0 ||
	    (data_fd >= 0 && (data_fd = above_stdio(data_fd)) < 0))
		child_fail(st_fd, STEP_SETUP);
	if (dup2(null_fd, 0) < 0 || dup2(data_fd >= 0 ? data_fd : out_fd, 1) < 0 ||
	    dup2(out_fd, 2) < 0)
		child_fail(st_fd, STEP_SETUP);
	if (st_fd != 3) {
		if (dup3(st_fd, 3, O_CLOEXEC) < 0)
			child_fail(st_fd, STEP_SETUP);
		st_fd = 3;
	}
	child_close_from(4);

	if (o->background)
		(void)ff_sched_background(0, 1);
	if (o->as_user) {
		gid_t g = o->run_as_gid;
		if (setgroups(1, &g) < 0 || setgid(g) < 0 || setuid(o->run_as) < 0)
			child_fail(st_fd, STEP_USER);
	}
	/* After dropping privileges: the target user must be able to enter it. */
	if (o->cwd && chdir(o->cwd) < 0)
		child_fail(st_fd, STEP_CHDIR);
	/* After setuid too, which clears it. A parent already gone before
	 * this line would never send it: then the child does not start. */
	if (o->die_with_parent && (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != parent))
		child_fail(st_fd, STEP_SETUP);

	execve(argv[0], (char *const *)argv, (char *const *)env);
	child_fail(st_fd, STEP_EXEC);
}

/* ---- the parent ---------------------------------------------------------- */

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* poll() timeout until t (-1: forever), rounded up so we never wake early
 * and spin. */
static int ms_until(double now, double t)
{
	double ms;

	if (isinf(t))
		return -1;
	ms = (t - now) * 1000.0;
	if (ms <= 0)
		return 0;
	return ms >= INT_MAX ? INT_MAX : (int)ms + 1;
}

static int min_ms(int a, int b)
{
	if (a < 0)
		return b;
	if (b < 0)
		return a;
	return a < b ? a : b;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static int report_start_failure(const char *prog, const ff_exec_opts *o,
				const child_status *st, ff_err *e)
{
	switch (st->step) {
	case STEP_EXEC:
		return ff_err_set(e, FF_EFAIL, "exec %s: %s", prog, strerror(st->err));
	case STEP_CHDIR:
		return ff_err_set(e, FF_EFAIL, "exec %s: chdir %s: %s", prog, o->cwd,
				  strerror(st->err));
	case STEP_USER:
		return ff_err_set(e, FF_EFAIL, "exec %s: switch to uid %ld gid %ld: %s", prog,
				  (long)o->run_as, (long)o->run_as_gid, strerror(st->err));
	default:
		return ff_err_set(e, FF_EFAIL, "exec %s: child setup: %s", prog,
				  strerror(st->err));
	}
}

/* Ask the child's group to end. A stopped process (SIGSTOP, a terminal's
 * ^Z) acts on SIGTERM only once continued: without the SIGCONT it would
 * wait out the kill grace. */
static void terminate(pid_t pid)
{
	kill(-pid, SIGTERM);
	kill(-pid, SIGCONT);
}

static void reap(pid_t pid, int *wstatus)
{
	while (waitpid(pid, wstatus, 0) < 0 && errno == EINTR)
		;
}

int ff_sched_background(pid_t tid, int on)
{
	struct sched_param sp = { 0 };
	return sched_setscheduler(tid, on ? SCHED_IDLE : SCHED_OTHER, &sp);
}

/* Everything one run holds, so each phase below is a function of it and the
 * cleanup is one place (run_close) whatever phase failed. */
typedef struct {
	const ff_exec_opts *o;
	const char *prog;     /* argv[0], for messages */
	ff_exec_result *res;
	int out[2], data[2], st[2];
	int null_fd, pidfd;
	capture cap;
	ff_redactor *red;
	char *buf;            /* one read's worth, shared by both pipes */
	pid_t pid;
	double grace, start, now, term_at, kill_at, drain_until, next_tick;
	int leader_done, sink_failed, sink_errno, background, wstatus;
} run;

/* Allocate and open everything before the fork: the child may not. */
static int run_prepare(run *r, ff_err *e)
{
	const ff_exec_opts *o = r->o;

	if ((o->tail_max && !(r->cap.ring = malloc(o->tail_max))) ||
	    !(r->buf = malloc(FF_EXEC_CHUNK)) ||
	    !(r->red = ff_redactor_new(o->secrets, capture_sink, &r->cap)))
		return ff_err_set(e, FF_EFAIL, "exec %s: out of memory", r->prog);
	if (pipe2(r->out, O_CLOEXEC) < 0 || pipe2(r->st, O_CLOEXEC) < 0 ||
	    (o->stdout_sink && pipe2(r->data, O_CLOEXEC) < 0) ||
	    (r->null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0)
		return ff_err_set(e, FF_EFAIL, "exec %s: %s", r->prog, strerror(errno));
	if (o->stdout_sink)
		fcntl(r->data[0], F_SETPIPE_SZ, FF_EXEC_DATA_PIPE); /* a smaller pipe still works */
	return 0;
}

/* Fork and learn whether execve succeeded. On failure the child has been
 * reaped and e says which step of its setup failed. */
static int run_start(run *r, const char *const *argv, const char *const *env, ff_err *e)
{
	const ff_exec_opts *o = r->o;
	child_status cs;
	ssize_t n;

	pid_t parent = getpid();
	r->start = now_s();
	if ((r->pid = fork()) < 0)
		return ff_err_set(e, FF_EFAIL, "exec %s: fork: %s", r->prog, strerror(errno));
	if (r->pid == 0)
		child_run(argv, env, o, o->stdin_fd > 0 ? o->stdin_fd : r->null_fd, r->out[1],
			  r->data[1], r->st[1], parent);

	/* Also from this side, so the group exists before we ever signal it. */
	setpgid(r->pid, r->pid);
	close_fd(&r->out[1]);
	close_fd(&r->data[1]);
	close_fd(&r->st[1]);
	close_fd(&r->null_fd);

	/* EOF means execve succeeded (the pipe is close-on-exec); a record means
	 * the child failed before it and has already _exit()ed. */
	do
		n = read(r->st[0], &cs, sizeof(cs));
	while (n < 0 && errno == EINTR);
	close_fd(&r->st[0]);
	if (n != 0) {
		if (n != (ssize_t)sizeof(cs))
			cs = (child_status){ STEP_SETUP, n < 0 ? errno : EIO };
		kill(r->pid, SIGKILL);
		reap(r->pid, &r->wstatus);
		return report_start_failure(r->prog, o, &cs, e);
	}
	return 0;
}

/* How long the next poll may sleep: until the next deadline (kill, term,
 * drain, tick), and never longer than the cancel and no-pidfd ticks. */
static int run_poll_ms(const run *r)
{
	const ff_exec_opts *o = r->o;
	int ms = min_ms(ms_until(r->now, fmin(r->kill_at, r->res->timed_out ? r->kill_at : r->term_at)),
			ms_until(r->now, r->drain_until));

	if (o->cancel)
		ms = min_ms(ms, FF_EXEC_CANCEL_MS);
	if (!r->leader_done && r->pidfd < 0)
		ms = min_ms(ms, FF_EXEC_TICK_MS);
	if (!r->leader_done)
		ms = min_ms(ms, ms_until(r->now, r->next_tick));
	return ms;
}

static void run_read_captured(run *r)
{
	ssize_t n = read(r->out[0], r->buf, FF_EXEC_CHUNK);

	if (n > 0)
		ff_redactor_write(r->red, r->buf, (size_t)n);
	else if (n == 0 || (errno != EINTR && errno != EAGAIN))
		close_fd(&r->out[0]);
}

static void run_read_data(run *r)
{
	const ff_exec_opts *o = r->o;
	ssize_t n = read(r->data[0], r->buf, FF_EXEC_CHUNK);

	if (n > 0 && !r->sink_failed && o->stdout_sink(o->stdout_arg, r->buf, (size_t)n) < 0) {
		/* Stop the producer; what it still writes is read and
		 * dropped so it never blocks on a full pipe. */
		r->sink_failed = 1;
		r->sink_errno = errno;
		if (!r->leader_done && !r->res->timed_out) {
			terminate(r->pid);
			r->kill_at = now_s() + r->grace;
		}
	} else if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) {
		close_fd(&r->data[0]);
	}
}

/* Has the leader exited? Asked when its pidfd is readable, or on every
 * tick without one. */
static void run_check_leader(run *r, int may_have_exited)
{
	siginfo_t si;

	/* WNOWAIT leaves the leader a zombie, and a zombie keeps its
	 * process group id from being reused: the group kill below
	 * cannot hit a stranger. */
	memset(&si, 0, sizeof(si));
	if (!r->leader_done && may_have_exited &&
	    waitid(P_PID, (id_t)r->pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 &&
	    si.si_pid == r->pid) {
		/* What the leader leaves behind in its group is orphaned
		 * by contract; it must not hold our pipe open. Processes
		 * that left the group (setsid) are bounded by the drain. */
		r->leader_done = 1;
		kill(-r->pid, SIGKILL);
		r->drain_until = now_s() + FF_EXEC_DRAIN_S;
	}
}

/* The clock's part of a turn: foreground switch, progress tick, timeout or
 * cancel, and the SIGKILL once the grace is over. */
static void run_clock(run *r)
{
	const ff_exec_opts *o = r->o;

	/* The leader is not reaped yet (a zombie at worst): its pid
	 * cannot name another process. */
	if (r->background && o->foreground && *o->foreground) {
		r->background = 0;
		if (!r->leader_done)
			(void)ff_sched_background(r->pid, 0);
	}

	r->now = now_s();
	if (!r->leader_done && r->now >= r->next_tick) {
		o->tick(o->tick_arg);
		r->next_tick = (r->now = now_s()) + o->tick_s;
	}
	if (!r->leader_done && !r->res->timed_out &&
	    (r->now >= r->term_at || (o->cancel && *o->cancel))) {
		terminate(r->pid);
		r->res->timed_out = 1;
		r->kill_at = r->now + r->grace;
	}
	if (!r->leader_done && r->now >= r->kill_at) {
		kill(-r->pid, SIGKILL);
		r->kill_at = INFINITY; /* now only the exit is awaited */
	}
}

/* Read the pipes until the leader has exited and they are drained. Returns
 * 0, or a negative code only when poll itself fails. */
static int run_wait(run *r, ff_err *e)
{
	const ff_exec_opts *o = r->o;

	r->pidfd = (int)syscall(SYS_pidfd_open, r->pid, 0);
	r->term_at = o->timeout_s > 0 ? r->start + o->timeout_s : INFINITY;
	r->now = now_s();
	r->next_tick = o->tick && o->tick_s > 0 ? r->now + o->tick_s : INFINITY;

	while (r->out[0] >= 0 || r->data[0] >= 0 || !r->leader_done) {
		struct pollfd pf[3];
		int pout = -1, pdata = -1, ppid = -1, ms;
		nfds_t nf = 0;

		/* A dump's bytes are read to the end, whatever the clock says;
		 * only the captured stderr is bounded by the drain. */
		if (r->leader_done && r->now >= r->drain_until && r->data[0] < 0)
			break;
		if (r->leader_done && r->now >= r->drain_until)
			close_fd(&r->out[0]);
		ms = run_poll_ms(r);

		if (r->out[0] >= 0) {
			pout = (int)nf;
			pf[nf++] = (struct pollfd){ .fd = r->out[0], .events = POLLIN };
		}
		if (r->data[0] >= 0) {
			pdata = (int)nf;
			pf[nf++] = (struct pollfd){ .fd = r->data[0], .events = POLLIN };
		}
		if (!r->leader_done && r->pidfd >= 0) {
			ppid = (int)nf;
			pf[nf++] = (struct pollfd){ .fd = r->pidfd, .events = POLLIN };
		}
		if (poll(pf, nf, ms) < 0 && errno != EINTR)
			return ff_err_set(e, FF_EFAIL, "exec %s: poll: %s", r->prog, strerror(errno));

		if (pout >= 0 && pf[pout].revents)
			run_read_captured(r);
		if (pdata >= 0 && pf[pdata].revents)
			run_read_data(r);
		run_check_leader(r, ppid < 0 || pf[ppid].revents);
		run_clock(r);
	}
	return 0;
}

/* Reap the leader and fill res. err is run_wait's: the first failure is the
 * one reported, so later ones are only set when there was none. */
static int run_finish(run *r, int err, ff_err *e)
{
	const ff_exec_opts *o = r->o;
	ff_exec_result *res = r->res;

	if (!r->leader_done)
		kill(-r->pid, SIGKILL); /* only after a poll failure */
	reap(r->pid, &r->wstatus);
	res->duration_s = now_s() - r->start;
	ff_redactor_flush(r->red);

	if (WIFEXITED(r->wstatus)) {
		res->exited = 1;
		res->status = WEXITSTATUS(r->wstatus);
	} else if (WIFSIGNALED(r->wstatus)) {
		res->status = WTERMSIG(r->wstatus);
	}
	res->out_bytes = r->cap.bytes;
	if (r->cap.ring && !(res->tail = capture_tail(&r->cap)) && !err)
		err = ff_err_set(e, FF_EFAIL, "exec %s: out of memory", r->prog);
	if (r->sink_failed && !err)
		err = ff_err_set(e, FF_EFAIL, "%s: writing its output: %s", r->prog,
				 strerror(o->stdout_errno && *o->stdout_errno ? *o->stdout_errno
					  : r->sink_errno ? r->sink_errno : EIO));
	if (r->cap.write_errno && !err)
		err = ff_err_set(e, FF_EFAIL, "exec %s: writing its output: %s", r->prog,
				 strerror(r->cap.write_errno));
	return err;
}

static void run_close(run *r)
{
	close_fd(&r->out[0]);
	close_fd(&r->out[1]);
	close_fd(&r->data[0]);
	close_fd(&r->data[1]);
	close_fd(&r->st[0]);
	close_fd(&r->st[1]);
	close_fd(&r->null_fd);
	close_fd(&r->pidfd);
	ff_redactor_free(r->red);
	free(r->cap.ring);
	free(r->buf);
}

int ff_exec_run(ff_exec_result *res, const char *const *argv,
		const ff_exec_opts *opts, ff_err *e)
{
	static const ff_exec_opts no_opts = { .out_fd = -1 };
	const ff_exec_opts *o = opts ? opts : &no_opts;
	run r = {
		.o = o, .res = res,
		.out = { -1, -1 }, .data = { -1, -1 }, .st = { -1, -1 },
		.null_fd = -1, .pidfd = -1,
		.cap = { .fd = o->out_fd, .ring_max = o->tail_max },
		.grace = o->kill_grace_s > 0 ? o->kill_grace_s : 2.0,
		.kill_at = INFINITY, .drain_until = INFINITY,
		.background = o->background,
	};
	int err;

	memset(res, 0, sizeof(*res));
	if (!argv || !argv[0] || argv[0][0] != '/')
		return ff_err_set(e, FF_EUSAGE, "exec: program must be an absolute path, not '%s'",
				  argv && argv[0] ? argv[0] : "");
	r.prog = argv[0];

	if ((err = run_prepare(&r, e)) == 0 &&
	    (err = run_start(&r, argv, o->env ? o->env : default_env, e)) == 0)
		err = run_finish(&r, run_wait(&r, e), e);
	run_close(&r);
	return err;
}

void ff_exec_result_free(ff_exec_result *res)
{
	if (!res)
		return;
	free(res->tail);
	res->tail = NULL;
}

int ff_exec_gather_sink(void *arg, const char *p, size_t n)
{
	ff_exec_gather *g = arg;
	size_t max = g->max ? g->max : (size_t)64 << 20;
	if (g->len + n > max) {
		if (g->refuse) {
			errno = EFBIG;
			return -1;
		}
		g->cut = 1;
		n = max - g->len;
	}
	if (g->len + n + 1 > g->cap) {
		size_t cap = g->cap ? g->cap : 4096;
		while (cap < g->len + n + 1)
			cap *= 2;
		char *b = realloc(g->buf, cap);
		if (!b) {
			errno = ENOMEM;
			return -1;
		}
		g->buf = b;
		g->cap = cap;
	}
	memcpy(g->buf + g->len, p, n);
	g->len += n;
	g->buf[g->len] = '\0';
	return 0;
}
