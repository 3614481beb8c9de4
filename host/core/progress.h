/* progress.h - what long work (dump, restore, fingerprints) shows while it
 * runs: bytes, rate and an ETA on one rewritten line on a terminal, a plain
 * line every 10 seconds otherwise (a log, a journal). Thread-safe: several
 * connections may add to one report. */
#ifndef FF_PROGRESS_H
#define FF_PROGRESS_H

#include <pthread.h>
#include <stdint.h>

/* What the expected total is. */
enum {
	FF_PROGRESS_ABOUT = 0, /* an estimate: "of ~N MiB, ETA ≈ S s" */
	FF_PROGRESS_BOUND = 1, /* an upper bound: "ETA ≤ S s" */
};

typedef struct ff_progress {
	char label[48];
	uint64_t done;      /* bytes so far */
	uint64_t total;     /* expected bytes; 0 = unknown (no ETA) */
	int kind;           /* FF_PROGRESS_*: what total is */
	int tty, quiet, shown;
	double t0, last;
	pthread_mutex_t lock;
} ff_progress;

/* Start a report. label: what works ("pg_restore"); total: expected bytes
 * or 0 (no ETA); kind: FF_PROGRESS_ABOUT or _BOUND; quiet: show nothing. */
void ff_progress_init(ff_progress *p, const char *label, uint64_t total, int kind, int quiet);

/* n more bytes done; shows a line when one is due. */
void ff_progress_add(ff_progress *p, uint64_t n);

/* done bytes so far (a measure taken from outside); shows a line when due. */
void ff_progress_set(ff_progress *p, uint64_t done);

/* The final line (when a line was shown or the work took a second or
 * more), then free what init took. */
void ff_progress_end(ff_progress *p);

#endif
