/* test_exec.c - child processes: status, capture, scrubbed environment,
 * start failures, whole-group timeouts and cancel, redaction. */
#include <sys/types.h> /* exec.h uses uid_t and gid_t */

#include "core/exec.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Runs argv with o (out_fd replaced by a temp file) and returns what the
 * file got, malloc'd. */
static char *run_capture(ff_exec_result *res, const char *const *argv,
			 ff_exec_opts o, int *rc, ff_err *e)
{
	char path[] = "/tmp/ff_test_exec_XXXXXX", *text;
	int fd = mkstemp(path);
	off_t size;

	if (fd < 0)
		return NULL;
	unlink(path);
	o.out_fd = fd;
	*rc = ff_exec_run(res, argv, &o, e);
	size = lseek(fd, 0, SEEK_END);
	text = calloc(1, (size_t)size + 1);
	if (text && pread(fd, text, (size_t)size, 0) != size) {
		free(text);
		text = NULL;
	}
	close(fd);
	return text;
}

/* Members of process group pgid still running: not yet zombies. */
static int group_running(pid_t pgid)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	int running = 0;

	if (!d)
		return -1;
	while ((de = readdir(d))) {
		char path[300], line[512], *p, state;
		long pgrp;
		FILE *f;

		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
		if (!(f = fopen(path, "r")))
			continue;
		/* "pid (comm) state ppid pgrp ...": comm may hold spaces and ')'. */
		if (fgets(line, sizeof(line), f) && (p = strrchr(line, ')')) &&
		    sscanf(p + 1, " %c %*d %ld", &state, &pgrp) == 2 &&
		    pgrp == pgid && state != 'Z' && state != 'X')
			running++;
		fclose(f);
	}
	closedir(d);
	return running;
}

/* Our own open descriptors: every path of ff_exec_run must close its own. */
static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	if (!d)
		return -1;
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, ms % 1000 * 1000000L };
	nanosleep(&ts, NULL);
}

/* No process of the group remains. Killed members are dead at once (a
 * SIGKILL takes a moment to land, hence the short wait), but orphans are
 * reaped by init, which in some containers takes seconds: the ESRCH the
 * brief asks for is awaited longer. */
static int group_gone(pid_t pgid)
{
	int i;

	for (i = 0; i < 20 && group_running(pgid) != 0; i++)
		sleep_ms(10);
	if (group_running(pgid) != 0)
		return 0;
	for (i = 0; i < 500; i++) {
		if (kill(-pgid, 0) == -1 && errno == ESRCH)
			return 1;
		sleep_ms(10);
	}
	return 0;
}

static void test_exit_status(void)
{
	const char *exit3[] = { "/bin/sh", "-c", "exit 3", NULL };
	const char *killed[] = { "/bin/sh", "-c", "kill -9 $$", NULL };
	const char *ok[] = { "/bin/true", NULL };
	ff_exec_opts o = { .out_fd = -1 };
	ff_exec_result res;
	ff_err e = {0};

	CHECK(ff_exec_run(&res, ok, &o, &e) == 0);
	CHECK(res.exited == 1 && res.status == 0 && !res.timed_out);
	CHECK(res.tail == NULL);

	CHECK(ff_exec_run(&res, exit3, &o, &e) == 0);
	CHECK(res.exited == 1 && res.status == 3);

	CHECK(ff_exec_run(&res, killed, &o, &e) == 0);
	CHECK(res.exited == 0 && res.status == SIGKILL && !res.timed_out);

	/* No options at all: defaults, output discarded. */
	CHECK(ff_exec_run(&res, exit3, NULL, &e) == 0);
	CHECK(res.exited == 1 && res.status == 3);
}

static void test_output_captured_and_merged(void)
{
	const char *argv[] = { "/bin/sh", "-c", "echo out; echo err >&2; read x; echo \"stdin=$x.\"", NULL };
	ff_exec_opts o = { .tail_max = 64 };
	ff_exec_result res;
	ff_err e = {0};
	int rc;
	char *text = run_capture(&res, argv, o, &rc, &e);

	CHECK(rc == 0);
	CHECK_STR(text, "out\nerr\nstdin=.\n");
	CHECK_STR(res.tail, "out\nerr\nstdin=.\n");
	CHECK(res.out_bytes == 16);
	free(text);
	ff_exec_result_free(&res);
	CHECK(res.tail == NULL);
}

static void test_tail_keeps_the_end(void)
{
	/* 5 lines of 2000 digits: far past the tail and the 64 KiB chunk. */
	const char *argv[] = { "/bin/sh", "-c",
		"i=0; while [ $i -lt 40 ]; do head -c 2000 /dev/zero | tr '\\0' $((i % 10)); i=$((i+1)); done; echo END",
		NULL };
	ff_exec_opts o = { .tail_max = 100 };
	ff_exec_result res;
	ff_err e = {0};
	int rc;
	char *text = run_capture(&res, argv, o, &rc, &e);

	CHECK(rc == 0 && text != NULL);
	CHECK(res.out_bytes == 80004);
	CHECK(text && strlen(text) == 80004);
	CHECK(res.tail && strlen(res.tail) == 100);
	if (text && res.tail)
		CHECK_STR(res.tail, text + 80004 - 100);
	free(text);
	ff_exec_result_free(&res);
}

static void test_env_is_scrubbed(void)
{
	const char *argv[] = { "/usr/bin/env", NULL };
	const char *env[] = { "FOO=bar", NULL };
	ff_exec_opts o = { .tail_max = 4096 };
	ff_exec_result res;
	ff_err e = {0};
	int rc;
	char *text;

	setenv("FF_SECRET_X", "leaked", 1);
	text = run_capture(&res, argv, o, &rc, &e);
	CHECK(rc == 0);
	CHECK_STR(text, "PATH=/usr/bin:/bin\nLANG=C.UTF-8\n");
	CHECK(text && !strstr(text, "FF_SECRET_X"));
	free(text);
	ff_exec_result_free(&res);

	o.env = env;
	text = run_capture(&res, argv, o, &rc, &e);
	CHECK_STR(text, "FOO=bar\n");
	free(text);
	ff_exec_result_free(&res);
	unsetenv("FF_SECRET_X");
}

static void test_no_descriptor_leaks(void)
{
	const char *argv[] = { "/bin/ls", "/proc/self/fd", NULL };
	ff_exec_opts o = { .tail_max = 4096 };
	ff_exec_result res;
	ff_err e = {0};
	int rc, leak[4];
	char *text;

	/* Not close-on-exec: only our own closing keeps them from the child. */
	for (int i = 0; i < 4; i++)
		leak[i] = open("/dev/null", O_RDONLY);
	text = run_capture(&res, argv, o, &rc, &e);
	CHECK(rc == 0);
	/* 0 1 2, and 3 is ls's own handle on the folder. */
	CHECK_STR(text, "0\n1\n2\n3\n");
	free(text);
	ff_exec_result_free(&res);
	for (int i = 0; i < 4; i++)
		close(leak[i]);
}

static void test_cwd(void)
{
	const char *argv[] = { "/bin/pwd", NULL };
	ff_exec_opts o = { .cwd = "/proc" };
	ff_exec_result res;
	ff_err e = {0};
	int rc;
	char *text = run_capture(&res, argv, o, &rc, &e);

	CHECK(rc == 0);
	CHECK_STR(text, "/proc\n");
	free(text);

	o.cwd = "/nonexistent/dir";
	text = run_capture(&res, argv, o, &rc, &e);
	CHECK(rc == FF_EFAIL);
	CHECK_STR(e.msg, "exec /bin/pwd: chdir /nonexistent/dir: No such file or directory");
	CHECK_STR(text, "");
	free(text);
}

static void test_start_failures(void)
{
	const char *missing[] = { "/x/y", NULL };
	const char *relative[] = { "sh", "-c", "true", NULL };
	const char *empty[] = { NULL };
	const char *notexec[] = { "/etc/passwd", NULL };
	ff_exec_opts o = { .out_fd = -1, .tail_max = 16 };
	ff_exec_result res;
	ff_err e = {0};

	CHECK(ff_exec_run(&res, missing, &o, &e) == FF_EFAIL);
	CHECK(e.code == FF_EFAIL);
	CHECK_STR(e.msg, "exec /x/y: No such file or directory");
	CHECK(res.tail == NULL && !res.exited);

	CHECK(ff_exec_run(&res, notexec, &o, &e) == FF_EFAIL);
	CHECK_STR(e.msg, "exec /etc/passwd: Permission denied");

	CHECK(ff_exec_run(&res, relative, &o, &e) == FF_EUSAGE);
	CHECK(strstr(e.msg, "absolute") != NULL);
	CHECK(ff_exec_run(&res, empty, &o, &e) == FF_EUSAGE);
	CHECK(ff_exec_run(&res, NULL, &o, &e) == FF_EUSAGE);
}

static void test_timeout_kills_the_group(void)
{
	const char *argv[] = { "/bin/sh", "-c", "echo $$; sleep 100 & sleep 100", NULL };
	ff_exec_opts o = { .timeout_s = 0.5, .kill_grace_s = 1, .tail_max = 64 };
	ff_exec_result res;
	ff_err e = {0};
	double t0 = now_s(), took;
	int rc;
	char *text = run_capture(&res, argv, o, &rc, &e);
	pid_t pgid = text ? (pid_t)atoi(text) : 0;

	took = now_s() - t0;
	CHECK(rc == 0);
	CHECK(res.timed_out == 1);
	CHECK(res.exited == 0 && res.status == SIGTERM);
	CHECK(took >= 0.5 && took < 0.5 + 1 + 1);
	CHECK(pgid > 1 && group_gone(pgid));
	free(text);
	ff_exec_result_free(&res);
}

static void test_sigterm_ignored_gets_sigkill(void)
{
	/* An ignored SIGTERM is inherited by sleep: only SIGKILL ends them. */
	const char *argv[] = { "/bin/sh", "-c", "trap '' TERM; echo $$; sleep 100 & sleep 100", NULL };
	ff_exec_opts o = { .timeout_s = 0.3, .kill_grace_s = 0.5, .tail_max = 64 };
	ff_exec_result res;
	ff_err e = {0};
	double t0 = now_s(), took;
	int rc;
	char *text = run_capture(&res, argv, o, &rc, &e);
	pid_t pgid = text ? (pid_t)atoi(text) : 0;

	took = now_s() - t0;
	CHECK(rc == 0);
	CHECK(res.timed_out == 1 && res.exited == 0 && res.status == SIGKILL);
	CHECK(took >= 0.8 && took < 0.3 + 0.5 + 1);
	CHECK(pgid > 1 && group_gone(pgid));
	free(text);
	ff_exec_result_free(&res);
}

static void test_leftovers_do_not_hang_us(void)
{
	/* The leader exits at once; a member of its group keeps the pipe. */
	const char *stay[] = { "/bin/sh", "-c", "echo $$; sleep 100 & exit 0", NULL };
	/* This one leaves the group (setsid): only the bounded drain saves us. */
	const char *escape[] = { "/bin/sh", "-c",
		"/usr/bin/setsid /bin/sh -c 'echo $$; exec sleep 30' & sleep 0.2; exit 4", NULL };
	ff_exec_opts o = { .timeout_s = 30, .tail_max = 64 };
	ff_exec_result res;
	ff_err e = {0};
	double t0 = now_s();
	int rc;
	char *text = run_capture(&res, stay, o, &rc, &e);
	pid_t pid = text ? (pid_t)atoi(text) : 0;

	CHECK(rc == 0 && res.exited == 1 && res.status == 0 && !res.timed_out);
	CHECK(now_s() - t0 < 2);
	CHECK(pid > 1 && group_gone(pid));
	free(text);
	ff_exec_result_free(&res);

	t0 = now_s();
	text = run_capture(&res, escape, o, &rc, &e);
	pid = text ? (pid_t)atoi(text) : 0;
	CHECK(rc == 0 && res.exited == 1 && res.status == 4);
	CHECK(now_s() - t0 < 2);
	CHECK(pid > 1 && kill(pid, SIGKILL) == 0);
	free(text);
	ff_exec_result_free(&res);
}

static volatile int cancel_flag;

static void on_alarm(int sig)
{
	(void)sig;
	cancel_flag = 1;
}

static void test_cancel(void)
{
	const char *argv[] = { "/bin/sh", "-c", "echo $$; sleep 100 & sleep 100", NULL };
	ff_exec_opts o = { .cancel = &cancel_flag, .tail_max = 64 };
	struct itimerval it = { .it_value = { .tv_usec = 300000 } };
	struct sigaction sa = { .sa_handler = on_alarm }; /* no SA_RESTART: EINTR */
	ff_exec_result res;
	ff_err e = {0};
	double t0 = now_s(), took;
	int rc;
	char *text;
	pid_t pgid;

	sigaction(SIGALRM, &sa, NULL);
	setitimer(ITIMER_REAL, &it, NULL);
	text = run_capture(&res, argv, o, &rc, &e);
	took = now_s() - t0;
	pgid = text ? (pid_t)atoi(text) : 0;

	CHECK(cancel_flag == 1);
	CHECK(rc == 0 && res.timed_out == 1 && res.exited == 0 && res.status == SIGTERM);
	CHECK(took >= 0.3 && took < 1.5);
	CHECK(pgid > 1 && group_gone(pgid));
	free(text);
	ff_exec_result_free(&res);
	signal(SIGALRM, SIG_DFL);
}

/* ---- the redactor on its own ---- */

typedef struct {
	char data[4096];
	size_t len;
} sink_buf;

static int to_buf(void *arg, const char *p, size_t n)
{
	sink_buf *b = arg;
	if (b->len + n >= sizeof(b->data))
		return -1;
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

/* Feeds text in pieces of the given sizes (cycled) and returns the result. */
static const char *redact(sink_buf *b, const char *const *secrets, const char *text,
			  const size_t *sizes, size_t nsizes)
{
	ff_redactor *r = ff_redactor_new(secrets, to_buf, b);
	size_t off = 0, n = strlen(text), k = 0;

	memset(b, 0, sizeof(*b));
	if (!r)
		return NULL;
	while (off < n) {
		size_t step = sizes[k++ % nsizes];
		if (step > n - off)
			step = n - off;
		ff_redactor_write(r, text + off, step);
		off += step;
	}
	ff_redactor_flush(r);
	ff_redactor_free(r);
	return b->data;
}

static void test_redactor(void)
{
	const char *secrets[] = { "hunter2", "", "s3cr3t-token", NULL };
	const char *nested[] = { "abc", "abcdef", NULL };
	const char *in = "pass=hunter2 token=s3cr3t-token hunter hunter2hunter2 s3cr3t";
	const char *want = "pass=[REDACTED] token=[REDACTED] hunter [REDACTED][REDACTED] s3cr3t";
	const size_t whole[] = { 1000 }, ones[] = { 1 }, ragged[] = { 3, 1, 7, 2, 11, 5 };
	sink_buf b;

	CHECK_STR(redact(&b, secrets, in, whole, 1), want);
	CHECK_STR(redact(&b, secrets, in, ones, 1), want);
	CHECK_STR(redact(&b, secrets, in, ragged, 6), want);

	/* The longest secret wins where two start at the same byte. */
	CHECK_STR(redact(&b, nested, "xabcdefy abcde", ones, 1), "x[REDACTED]y [REDACTED]de");
	/* A secret's prefix at the very end is released by the flush. */
	CHECK_STR(redact(&b, secrets, "ends with hunte", ones, 1), "ends with hunte");
	/* Nothing to hide: a pass-through. */
	CHECK_STR(redact(&b, NULL, "plain", ones, 1), "plain");
	CHECK_STR(redact(&b, secrets, "", ones, 1), "");
}

static void test_redactor_sink_failure(void)
{
	const char *secrets[] = { "xy", NULL };
	sink_buf b = {0};
	ff_redactor *r = ff_redactor_new(secrets, to_buf, &b);
	char big[8192];

	memset(big, 'a', sizeof(big));
	CHECK(r != NULL);
	CHECK(ff_redactor_write(r, big, sizeof(big)) < 0);
	CHECK(ff_redactor_write(r, "a", 1) < 0); /* sticky */
	CHECK(ff_redactor_flush(r) < 0);
	ff_redactor_free(r);
}

static void test_exec_redacts_across_reads(void)
{
	/* The pause splits the secret across two reads of the pipe. */
	const char *argv[] = { "/bin/sh", "-c",
		"printf 'pw=hun'; sleep 0.2; printf 'ter2 and s3cr3t-token\\n' >&2", NULL };
	const char *secrets[] = { "hunter2", "s3cr3t-token", NULL };
	ff_exec_opts o = { .secrets = secrets, .tail_max = 12 };
	ff_exec_result res;
	ff_err e = {0};
	int rc;
	char *text = run_capture(&res, argv, o, &rc, &e);

	CHECK(rc == 0);
	CHECK_STR(text, "pw=[REDACTED] and [REDACTED]\n");
	CHECK_STR(res.tail, " [REDACTED]\n");
	CHECK(res.out_bytes == strlen("pw=[REDACTED] and [REDACTED]\n"));
	free(text);
	ff_exec_result_free(&res);
}

static void test_output_write_failure(void)
{
	const char *argv[] = { "/bin/echo", "hello", NULL };
	ff_exec_opts o = { .out_fd = open("/dev/null", O_RDONLY) };
	ff_exec_result res;
	ff_err e = {0};

	/* A failed capture is an error, but the child still ran and was reaped. */
	CHECK(ff_exec_run(&res, argv, &o, &e) == FF_EFAIL);
	CHECK(strstr(e.msg, "writing its output") != NULL);
	CHECK(res.exited == 1 && res.status == 0);
	close(o.out_fd);
	ff_exec_result_free(&res);
}

/* The scheduling policy the child ran under, as it read it itself after
 * sleeping `wait` seconds: 0 SCHED_OTHER, 5 SCHED_IDLE. */
static int child_policy(ff_exec_opts o, const char *wait)
{
	char script[200];
	snprintf(script, sizeof(script),
		 "sleep %s; read -r l < /proc/$$/stat; set -- ${l##*) }; echo ${39}", wait);
	const char *argv[] = { "/bin/sh", "-c", script, NULL };
	ff_exec_result res;
	ff_err e = {0};
	int rc;
	o.tail_max = 64;
	char *text = run_capture(&res, argv, o, &rc, &e);
	int policy = rc == 0 && text ? atoi(text) : -1;
	free(text);
	ff_exec_result_free(&res);
	return policy;
}

static void test_background_child(void)
{
	static const volatile int never = 0, now = 1;
	CHECK(child_policy((ff_exec_opts){ 0 }, "0") == 0);
	CHECK(child_policy((ff_exec_opts){ .background = 1 }, "0") == 5);
	/* Still in the background while the flag stays 0. */
	CHECK(child_policy((ff_exec_opts){ .background = 1, .foreground = &never,
					   .cancel = &never }, "0.3") == 5);
	/* Back under the normal policy once it turns: only root may leave
	 * SCHED_IDLE without an RLIMIT_NICE that allows it. */
	if (geteuid() == 0)
		CHECK(child_policy((ff_exec_opts){ .background = 1, .foreground = &now,
						   .cancel = &never }, "0.3") == 0);
	else
		printf("# not root: the return from the background is not checked\n");
}

static void count_tick(void *arg)
{
	(*(int *)arg)++;
}

/* A long child's progress: the tick runs every tick_s while it lives, and
 * not once it is gone. */
static void test_tick(void)
{
	const char *argv[] = { "/bin/sleep", "0.55", NULL };
	int ticks = 0;
	ff_exec_opts o = { .tick = count_tick, .tick_arg = &ticks, .tick_s = 0.1 };
	ff_exec_result res;
	ff_err e = {0};
	int rc;
	char *text = run_capture(&res, argv, o, &rc, &e);
	CHECK(rc == 0 && res.exited && res.status == 0);
	CHECK(ticks >= 3 && ticks <= 6);
	free(text);
	ff_exec_result_free(&res);
}

int main(void)
{
	int fds = count_fds();

	test_exit_status();
	test_output_captured_and_merged();
	test_tail_keeps_the_end();
	test_env_is_scrubbed();
	test_no_descriptor_leaks();
	test_cwd();
	test_start_failures();
	test_timeout_kills_the_group();
	test_sigterm_ignored_gets_sigkill();
	test_leftovers_do_not_hang_us();
	test_cancel();
	test_redactor();
	test_redactor_sink_failure();
	test_exec_redacts_across_reads();
	test_output_write_failure();
	test_background_child();
	test_tick();
	CHECK(count_fds() == fds);
	return check_summary();
}
