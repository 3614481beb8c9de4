/* test_progress.c - the progress lines of long work: what they say, and
 * when a report stays silent. stderr is a file here (not a terminal), so
 * a line is due every 10 seconds; the tests move the report's clock back
 * instead of waiting. */
#include "core/progress.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"

/* stderr into a fresh temp file; returns the old stderr. */
static int capture(void)
{
	char path[] = "/tmp/ff_test_progress_XXXXXX";
	int fd = mkstemp(path), old = dup(2);
	unlink(path);
	fflush(stderr);
	dup2(fd, 2);
	close(fd);
	return old;
}

/* stderr back; returns what was written, malloc'd. */
static char *captured(int old)
{
	fflush(stderr);
	off_t n = lseek(2, 0, SEEK_END);
	char *text = calloc(1, (size_t)n + 1);
	if (text && pread(2, text, (size_t)n, 0) != n)
		text[0] = '\0';
	dup2(old, 2);
	close(old);
	return text;
}

static void test_short_work_says_nothing(void)
{
	int old = capture();
	ff_progress p;
	ff_progress_init(&p, "pg_restore", 100 << 20, FF_PROGRESS_ABOUT, 0);
	ff_progress_add(&p, 10 << 20);
	ff_progress_end(&p);
	char *text = captured(old);
	CHECK_STR(text, "");
	free(text);
}

static void test_periodic_line_with_eta(void)
{
	int old = capture();
	ff_progress p;
	ff_progress_init(&p, "pg_restore", 100 << 20, FF_PROGRESS_ABOUT, 0);
	p.t0 -= 20; /* 20 s of work so far, the last line 20 s ago */
	p.last -= 20;
	ff_progress_add(&p, 40 << 20);  /* due: a line */
	ff_progress_add(&p, 10 << 20);  /* just shown: none */
	ff_progress_end(&p);            /* the final line */
	char *text = captured(old);
	/* 40 MiB in 20 s = 2 MiB/s; 60 MiB left: about 30 s. */
	CHECK(text && strstr(text, "pg_restore: 40.0 MiB of ~100.0 MiB, 2.0 MiB/s, 20 s, ETA ≈ 30 s\n"));
	CHECK(text && strstr(text, "pg_restore: 50.0 MiB, 2.5 MiB/s, 20 s\n"));
	int lines = 0;
	for (char *q = text; q && *q; q++)
		lines += *q == '\n';
	CHECK(lines == 2);
	free(text);
}

/* A report whose work took `ago` seconds: one add of `mib` MiB, then the end. */
static void report_after(const char *label, int kind, int quiet, double ago, uint64_t mib)
{
	ff_progress p;
	ff_progress_init(&p, label, 100 << 20, kind, quiet);
	p.t0 -= ago;
	p.last -= ago;
	ff_progress_add(&p, mib << 20);
	ff_progress_end(&p);
}

static void test_upper_bound_and_quiet(void)
{
	int old = capture();
	report_after("pg_dump", FF_PROGRESS_BOUND, 0, 10, 20);
	report_after("quiet", FF_PROGRESS_ABOUT, 1, 10, 20);
	char *text = captured(old);
	/* A bound is no size to reach: no "of", and the ETA is "at most". */
	CHECK(text && strstr(text, "pg_dump: 20.0 MiB, 2.0 MiB/s, 10 s, ETA ≤ 40 s\n"));
	CHECK(text && !strstr(text, "quiet"));
	free(text);
}

int main(void)
{
	test_short_work_says_nothing();
	test_periodic_line_with_eta();
	test_upper_bound_and_quiet();
	return check_summary();
}
