#include "metrics.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "strlist.h"

int ff_metrics_write(const char *path, const char *runbook, int pass,
		     double finished_at, double duration_s,
		     const ff_metric *extra, size_t nextra, ff_err *e)
{
	char label[128], line[512], tmp[4200];
	ff_strlist keep = {0};
	double last_success = pass ? finished_at : 0;
	int rc = 0;

	snprintf(label, sizeof(label), "{runbook=\"%s\"}", runbook);
	/* Two runs finishing at once must not lose each other's lines: the
	 * read-modify-write below holds <path>.lock (milliseconds). */
	snprintf(tmp, sizeof(tmp), "%s.lock", path);
	int lockfd = open(tmp, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (lockfd < 0)
		return ff_err_set(e, FF_EFAIL, "metrics %s: %s", tmp, strerror(errno));
	while (flock(lockfd, LOCK_EX) < 0 && errno == EINTR)
		;
	/* Keep every other runbook's lines; of ours only the last success. */
	FILE *old = fopen(path, "r");
	while (old && fgets(line, sizeof(line), old)) {
		line[strcspn(line, "\n")] = '\0';
		if (line[0] == '#' || !line[0])
			continue;
		if (!strstr(line, label)) {
			ff_strlist_push(&keep, line);
		} else if (!pass && !strncmp(line, "ffrun_last_success_timestamp_seconds{", 37)) {
			const char *sp = strrchr(line, ' ');
			if (sp)
				last_success = atof(sp + 1);
		}
	}
	if (old)
		fclose(old);

	snprintf(line, sizeof(line), "ffrun_last_run_timestamp_seconds%s %.3f", label, finished_at);
	ff_strlist_push(&keep, line);
	snprintf(line, sizeof(line), "ffrun_last_run_status%s %d", label, pass);
	ff_strlist_push(&keep, line);
	snprintf(line, sizeof(line), "ffrun_last_run_duration_seconds%s %.3f", label, duration_s);
	ff_strlist_push(&keep, line);
	if (last_success > 0) {
		snprintf(line, sizeof(line), "ffrun_last_success_timestamp_seconds%s %.3f", label, last_success);
		ff_strlist_push(&keep, line);
	}
	for (size_t i = 0; i < nextra; i++) {
		snprintf(line, sizeof(line), "%s%s %.3f", extra[i].name, label, extra[i].value);
		ff_strlist_push(&keep, line);
	}
	/* Sorted, so each metric's samples stand together as the format wants. */
	ff_strlist_sort(&keep);

	snprintf(tmp, sizeof(tmp), "%s.tmp%ld", path, (long)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!f) {
		rc = ff_err_set(e, FF_EFAIL, "metrics %s: %s", tmp, strerror(errno));
		if (fd >= 0)
			close(fd);
		goto out;
	}
	fprintf(f, "# ffrun metrics, rewritten after every run\n");
	for (size_t i = 0; i < keep.n; i++)
		fprintf(f, "%s\n", keep.v[i]);
	if (fflush(f) != 0 || fsync(fileno(f)) < 0 || fclose(f) != 0) {
		rc = ff_err_set(e, FF_EFAIL, "metrics %s: %s", tmp, strerror(errno));
		unlink(tmp);
	} else if (rename(tmp, path) < 0) {
		rc = ff_err_set(e, FF_EFAIL, "metrics %s: %s", path, strerror(errno));
		unlink(tmp);
	}
out:
	close(lockfd); /* releases the lock */
	ff_strlist_free(&keep);
	return rc;
}
