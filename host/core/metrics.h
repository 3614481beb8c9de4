/* metrics.h - Prometheus textfile-collector metrics after each run (a
 * monitoring system learns of a missed backup or a failed drill without
 * reading the evidence). The file is rewritten atomically; each runbook's
 * lines replace only its own. */
#ifndef FF_METRICS_H
#define FF_METRICS_H

#include <stddef.h>

#include "err.h"

typedef struct ff_metric {
	const char *name;  /* e.g. "ffrun_last_backup_size_bytes" */
	double value;
} ff_metric;

/* Update path for one finished run of runbook. The last success time is
 * carried over from the file when this run failed. */
int ff_metrics_write(const char *path, const char *runbook, int pass,
		     double finished_at, double duration_s,
		     const ff_metric *extra, size_t nextra, ff_err *e);

#endif
