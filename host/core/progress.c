#include "progress.h"

#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "clock.h"

void ff_progress_line_init(ff_progress_line *l)
{
	memset(l, 0, sizeof(*l));
	l->tty = isatty(2);
	pthread_mutex_init(&l->lock, NULL);
}

void ff_progress_line_destroy(ff_progress_line *l)
{
	pthread_mutex_destroy(&l->lock);
}

/* The terminal's width in columns, less one: a line that fills the last
 * column wraps on some terminals, and "\r" then rewrites only its tail. */
static size_t columns(void)
{
	struct winsize ws;
	if (ioctl(2, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 20)
		return (size_t)ws.ws_col - 1;
	return 79;
}

/* Bytes of s that fit in cols columns: one per UTF-8 character (the
 * texts are ASCII but for ≈ and ≤), never cutting one in two. */
static size_t fit(const char *s, size_t len, size_t cols)
{
	size_t i = 0, used = 0;
	while (i < len) {
		size_t next = i + 1;
		while (next < len && ((unsigned char)s[next] & 0xC0) == 0x80)
			next++;
		if (++used > cols)
			break;
		i = next;
	}
	return i;
}

/* Under l->lock: every active report's text side by side, on one line. */
static void draw(ff_progress_line *l)
{
	char buf[FF_PROGRESS_ACTIVE * (sizeof(((ff_progress *)0)->text) + 8)];
	size_t len = 0;
	for (int i = 0; i < l->n; i++) {
		if (!l->active[i]->text[0])
			continue;
		int k = snprintf(buf + len, sizeof(buf) - len, "%s%s", len ? "  |  " : "",
				 l->active[i]->text);
		if (k < 0 || (size_t)k >= sizeof(buf) - len)
			break; /* cannot happen at these sizes; never past the end */
		len += (size_t)k;
	}
	if (!len)
		return;
	fprintf(stderr, "\r%.*s\033[K", (int)fit(buf, len, columns()), buf);
	l->shown = 1;
}

/* Under l->lock: the terminal's status line erased. */
static void clear(ff_progress_line *l)
{
	if (l->shown)
		fputs("\r\033[K", stderr);
	l->shown = 0;
}

void ff_progress_line_print(ff_progress_line *l, const char *text)
{
	pthread_mutex_lock(&l->lock);
	clear(l);
	fputs(text, stderr);
	if (l->tty)
		draw(l);
	pthread_mutex_unlock(&l->lock);
}

/* Under l->lock: p off the status line. */
static void leave(ff_progress_line *l, ff_progress *p)
{
	for (int i = 0; i < l->n; i++)
		if (l->active[i] == p) {
			memmove(&l->active[i], &l->active[i + 1], sizeof(l->active[0]) * (size_t)(l->n - i - 1));
			l->n--;
			return;
		}
}

void ff_progress_init(ff_progress *p, ff_progress_line *line, const char *label,
		      uint64_t total, int kind, int quiet)
{
	memset(p, 0, sizeof(*p));
	snprintf(p->label, sizeof(p->label), "%s", label);
	p->total = total;
	p->kind = kind;
	p->quiet = quiet;
	p->t0 = p->last = ff_time_mono();
	pthread_mutex_init(&p->lock, NULL);
	if (!line) {
		ff_progress_line_init(&p->own);
		line = &p->own;
	}
	p->line = line;
}

/* Under p->lock. A terminal gets a line a second, rewritten in place; a
 * file or a journal one every 10 seconds, so a short job says nothing. */
static void show(ff_progress *p, int final)
{
	ff_progress_line *l = p->line;
	double now = ff_time_mono(), el = now - p->t0;
	if (p->quiet || (!final && now - p->last < (l->tty ? 1.0 : 10.0)))
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
	char text[sizeof(p->text)];
	snprintf(text, sizeof(text), "%s: %.1f MiB%s, %.1f MiB/s, %.0f s%s", p->label,
		 (double)p->done / 1048576.0, of, rate / 1048576.0, el, eta);

	pthread_mutex_lock(&l->lock);
	if (!l->tty) {
		fprintf(stderr, "%s\n", text);
	} else if (final) {
		/* The last word stays on the terminal, above the others' line. */
		clear(l);
		leave(l, p);
		fprintf(stderr, "%s\n", text);
		draw(l);
	} else {
		int on = 0;
		for (int i = 0; i < l->n; i++)
			on |= l->active[i] == p;
		if (!on && l->n < FF_PROGRESS_ACTIVE)
			l->active[l->n++] = p;
		memcpy(p->text, text, sizeof(text));
		draw(l);
	}
	pthread_mutex_unlock(&l->lock);
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
	/* Off the line whatever was shown: the report is about to go. */
	pthread_mutex_lock(&p->line->lock);
	leave(p->line, p);
	pthread_mutex_unlock(&p->line->lock);
	pthread_mutex_destroy(&p->lock);
	if (p->line == &p->own)
		ff_progress_line_destroy(&p->own);
}
