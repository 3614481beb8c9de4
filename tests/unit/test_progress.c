/* test_progress.c - the progress lines of long work: what they say, and
 * when a report stays silent. stderr is a file here (not a terminal), so
 * a line is due every 10 seconds; the tests move the report's clock back
 * instead of waiting. */
#include "core/progress.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
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
	ff_progress_init(&p, NULL, "pg_restore", 100 << 20, FF_PROGRESS_ABOUT, 0);
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
	ff_progress_init(&p, NULL, "pg_restore", 100 << 20, FF_PROGRESS_ABOUT, 0);
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
	ff_progress_init(&p, NULL, label, 100 << 20, kind, quiet);
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

/* A report on a shared line, its clock moved back so a line is due. */
static void start(ff_progress *p, ff_progress_line *l, const char *label, uint64_t total)
{
	ff_progress_init(p, l, label, total, FF_PROGRESS_ABOUT, 0);
	p->t0 -= 10;
	p->last -= 10;
}

/* How many UTF-8 characters the status line drawn at cr ("\r...\033[K") has. */
static size_t drawn_chars(const char *cr)
{
	const char *end = cr ? strstr(cr, "\033[K") : NULL;
	size_t n = 0;
	for (const char *q = end ? cr + 1 : NULL; q && q < end; q++)
		n += ((unsigned char)*q & 0xC0) != 0x80;
	return n;
}

static void test_terminal_line_shared(void)
{
	int old = capture();
	ff_progress_line l;
	ff_progress_line_init(&l);
	l.tty = 1; /* as on a terminal; the file has no width: 80 columns */
	ff_progress a, b;
	start(&a, &l, "pg_dump", 0);
	start(&b, &l, "fingerprints", 100 << 20);
	ff_progress_add(&a, 20 << 20);
	ff_progress_add(&b, 30 << 20);
	ff_progress_line_print(&l, "info  [dump] a log line\n");
	b.last -= 2;
	ff_progress_end(&b);
	a.last -= 2;
	ff_progress_add(&a, 10 << 20);
	ff_progress_end(&a);
	ff_progress_line_destroy(&l);
	char *text = captured(old);
	/* Both reports on one line, the second beside the first, cut to the
	 * width: never two status lines rewriting each other. */
	CHECK(text && strstr(text, "\rpg_dump: 20.0 MiB, 2.0 MiB/s, 10 s\033[K"));
	CHECK(text && strstr(text, "\rpg_dump: 20.0 MiB, 2.0 MiB/s, 10 s  |  fingerprints: 30.0 MiB of ~100.0"));
	/* A log line clears the status line first, and it is drawn again. */
	CHECK(text && strstr(text, "\r\033[Kinfo  [dump] a log line\n\rpg_dump: 20.0 MiB"));
	/* A report's final line stays above; the other goes on alone. */
	CHECK(text && strstr(text, "\r\033[Kfingerprints: 30.0 MiB, 3.0 MiB/s, 10 s\n\rpg_dump: 20.0 MiB, 2.0 MiB/s, 10 s\033[K"));
	CHECK(text && strstr(text, "\rpg_dump: 30.0 MiB, 3.0 MiB/s, 10 s\033[K\r\033[Kpg_dump: 30.0 MiB, 3.0 MiB/s, 10 s\n"));
	/* Every drawn line fits in 79 columns. */
	size_t widest = 0;
	for (char *q = text ? strchr(text, '\r') : NULL; q; q = strchr(q + 1, '\r'))
		widest = drawn_chars(q) > widest ? drawn_chars(q) : widest;
	CHECK(widest > 60 && widest <= 79);
	CHECK(text && drawn_chars(strrchr(text, '\r')) == 0); /* ends cleared, nothing drawn */
	free(text);
}

static void test_log_lines_without_terminal(void)
{
	int old = capture();
	ff_progress_line l;
	ff_progress_line_init(&l); /* stderr is a file: plain lines only */
	ff_progress a;
	start(&a, &l, "pg_dump", 0);
	ff_progress_add(&a, 20 << 20);
	ff_progress_line_print(&l, "info  one\n");
	ff_progress_end(&a);
	ff_progress_line_destroy(&l);
	char *text = captured(old);
	CHECK_STR(text, "pg_dump: 20.0 MiB, 2.0 MiB/s, 10 s\ninfo  one\npg_dump: 20.0 MiB, 2.0 MiB/s, 10 s\n");
	free(text);
}

int main(void)
{
	test_short_work_says_nothing();
	test_periodic_line_with_eta();
	test_upper_bound_and_quiet();
	test_terminal_line_shared();
	test_log_lines_without_terminal();
	return check_summary();
}
