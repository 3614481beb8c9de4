/* progress.h - what long work (dump, restore, fingerprints) shows while it
 * runs: bytes, rate and an ETA on one rewritten line on a terminal, a plain
 * line every 10 seconds otherwise (a log, a journal). Thread-safe: several
 * connections may add to one report.
 *
 * Reports running at once (a dump beside fingerprints) share the run's
 * ff_progress_line: on a terminal it shows them side by side on one status
 * line, cut to the terminal's width, and a log line printed through it
 * clears that line first, so neither text lands inside the other. */
#ifndef FF_PROGRESS_H
#define FF_PROGRESS_H

#include <pthread.h>
#include <stdint.h>

/* What the expected total is. */
enum {
	FF_PROGRESS_ABOUT = 0, /* an estimate: "of ~N MiB, ETA ≈ S s" */
	FF_PROGRESS_BOUND = 1, /* an upper bound: "ETA ≤ S s" */
};

#define FF_PROGRESS_ACTIVE 8 /* reports on one status line at most */

struct ff_progress;

/* stderr, shared by a run's reports and its log lines. */
typedef struct ff_progress_line {
	pthread_mutex_t lock;
	int tty;   /* stderr is a terminal: one status line, rewritten */
	int shown; /* a status line is on the terminal now */
	struct ff_progress *active[FF_PROGRESS_ACTIVE];
	int n;
} ff_progress_line;

void ff_progress_line_init(ff_progress_line *l);
void ff_progress_line_destroy(ff_progress_line *l);

/* Print text (whole lines) on stderr: on a terminal the status line is
 * cleared first and drawn again after it. */
void ff_progress_line_print(ff_progress_line *l, const char *text);

typedef struct ff_progress {
	char label[48];
	uint64_t done;      /* bytes so far */
	uint64_t total;     /* expected bytes; 0 = unknown (no ETA) */
	int kind;           /* FF_PROGRESS_*: what total is */
	int quiet, shown;
	double t0, last;
	pthread_mutex_t lock;
	ff_progress_line *line; /* the shared line, or own */
	ff_progress_line own;   /* for a report given none */
	char text[160];         /* its part of the status line (line's lock) */
} ff_progress;

/* Start a report. line: the run's shared line, or NULL for a line of its
 * own; label: what works ("pg_restore"); total: expected bytes or 0 (no
 * ETA); kind: FF_PROGRESS_ABOUT or _BOUND; quiet: show nothing. */
void ff_progress_init(ff_progress *p, ff_progress_line *line, const char *label,
		      uint64_t total, int kind, int quiet);

/* n more bytes done; shows a line when one is due. */
void ff_progress_add(ff_progress *p, uint64_t n);

/* done bytes so far (a measure taken from outside); shows a line when due. */
void ff_progress_set(ff_progress *p, uint64_t done);

/* The final line (when a line was shown or the work took a second or
 * more), then free what init took. */
void ff_progress_end(ff_progress *p);

#endif
