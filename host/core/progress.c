#include "progress.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "evidence.h" /* ff_time_mono */

void ff_progress_init(ff_progress *p, const char *label, uint64_t total, int kind, int quiet)
{
	memset(p, 0, sizeof(*p));
	snprintf(p->label, sizeof(p->label), "%s", label);
	p->total = total;
	p->kind = kind;
	p->quiet = quiet;
	p->tty = isatty(2);
	p->t0 = p->last = ff_time_mono();
	pthread_mutex_init(&p->lock, NULL);
}

/* Under the lock. A terminal gets a line a second, rewritten in place; a
 * file or a journal one every 10 seconds, so a short job says nothing. */
static void show(ff_progress *p, int final)
{
	double now = ff_time_mono(), el = now - p->t0;
	if (p->quiet || (!final && now - p->last < (p->tty ? 1.0 : 10.0)))
		return;
	p->last = now;
	p->shown = 1;
	double rate = el > 0 ? (double)p->done / el : 0;
	char eta[40] = "";
	if (!final && p->total > p->done && rate > 0)
		snprintf(eta, sizeof(eta), ", ETA %s %.0f s", p->kind == FF_PROGRESS_BOUND ? "≤" : "≈",
			 (double)(p->total - p->done) / rate);
	char of[48] = "";
	if (p->total && p->kind == FF_PROGRESS_ABOUT && !final)
		snprintf(of, sizeof(of), " of ~%.1f MiB", (double)p->total / 1048576.0);
	fprintf(stderr, "%s%s: %.1f MiB%s, %.1f MiB/s, %.0f s%s%s", p->tty ? "\r" : "", p->label,
		(double)p->done / 1048576.0, of, rate / 1048576.0, el, eta,
		p->tty && !final ? "   " : "\n");
}

void ff_progress_add(ff_progress *p, uint64_t n)
{
	pthread_mutex_lock(&p->lock);
	p->done += n;
	show(p, 0);
	pthread_mutex_unlock(&p->lock);
}

void ff_progress_set(ff_progress *p, uint64_t done)
{
	pthread_mutex_lock(&p->lock);
	p->done = done;
	show(p, 0);
	pthread_mutex_unlock(&p->lock);
}

void ff_progress_end(ff_progress *p)
{
	pthread_mutex_lock(&p->lock);
	if (p->shown || ff_time_mono() - p->t0 >= 1.0)
		show(p, 1);
	pthread_mutex_unlock(&p->lock);
	pthread_mutex_destroy(&p->lock);
}
