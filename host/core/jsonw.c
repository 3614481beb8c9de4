#include "jsonw.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ff_jsonw_init(ff_jsonw *w)
{
	memset(w, 0, sizeof(*w));
	w->first[0] = 1;
}

void ff_jsonw_free(ff_jsonw *w)
{
	free(w->buf);
	ff_jsonw_init(w);
}

void ff_jsonw_reset(ff_jsonw *w)
{
	w->len = 0;
	w->depth = 0;
	w->first[0] = 1;
	if (w->buf)
		w->buf[0] = '\0';
}

static void put(ff_jsonw *w, const char *s, size_t n)
{
	if (w->oom)
		return;
	if (w->len + n + 1 > w->cap) {
		size_t cap = w->cap ? w->cap : 256;
		while (cap < w->len + n + 1)
			cap *= 2;
		char *nb = realloc(w->buf, cap);
		if (!nb) {
			w->oom = 1;
			return;
		}
		w->buf = nb;
		w->cap = cap;
	}
	memcpy(w->buf + w->len, s, n);
	w->len += n;
	w->buf[w->len] = '\0';
}

/* A comma goes before every member or item but the first; a value right
 * after its key needs none (the key took care of it). */
static void sep(ff_jsonw *w)
{
	if (w->after_key)
		w->after_key = 0;
	else if (w->first[w->depth])
		w->first[w->depth] = 0;
	else
		put(w, ",", 1);
}

static void open_(ff_jsonw *w, char c)
{
	sep(w);
	put(w, &c, 1);
	if (w->depth + 1 < (int)sizeof(w->first))
		w->depth++;
	w->first[w->depth] = 1;
}

void ff_jsonw_obj(ff_jsonw *w) { open_(w, '{'); }
void ff_jsonw_arr(ff_jsonw *w) { open_(w, '['); }

void ff_jsonw_end(ff_jsonw *w, char close)
{
	put(w, &close, 1);
	if (w->depth > 0)
		w->depth--;
}

static void escaped(ff_jsonw *w, const char *s, size_t n)
{
	put(w, "\"", 1);
	size_t run = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		put(w, s + run, i - run);
		run = i + 1;
		char esc[8];
		switch (c) {
		case '"': put(w, "\\\"", 2); break;
		case '\\': put(w, "\\\\", 2); break;
		case '\n': put(w, "\\n", 2); break;
		case '\r': put(w, "\\r", 2); break;
		case '\t': put(w, "\\t", 2); break;
		default:
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			put(w, esc, 6);
		}
	}
	put(w, s + run, n - run);
	put(w, "\"", 1);
}

void ff_jsonw_key(ff_jsonw *w, const char *k)
{
	sep(w);
	escaped(w, k, strlen(k));
	put(w, ":", 1);
	w->after_key = 1;
}

void ff_jsonw_strn(ff_jsonw *w, const char *s, size_t n)
{
	sep(w);
	escaped(w, s, n);
}

void ff_jsonw_str(ff_jsonw *w, const char *s)
{
	if (!s) {
		ff_jsonw_null(w);
		return;
	}
	ff_jsonw_strn(w, s, strlen(s));
}

void ff_jsonw_num(ff_jsonw *w, double v)
{
	char b[64];
	sep(w);
	if (!isfinite(v)) {
		put(w, "null", 4);
		return;
	}
	int n = snprintf(b, sizeof(b), "%.17g", v);
	put(w, b, (size_t)n);
}

void ff_jsonw_int(ff_jsonw *w, long long v)
{
	char b[32];
	sep(w);
	int n = snprintf(b, sizeof(b), "%lld", v);
	put(w, b, (size_t)n);
}

void ff_jsonw_bool(ff_jsonw *w, int v)
{
	sep(w);
	put(w, v ? "true" : "false", v ? 4 : 5);
}

void ff_jsonw_null(ff_jsonw *w)
{
	sep(w);
	put(w, "null", 4);
}

void ff_jsonw_raw(ff_jsonw *w, const char *json)
{
	sep(w);
	put(w, json, strlen(json));
}

void ff_jsonw_kstr(ff_jsonw *w, const char *k, const char *s)
{
	ff_jsonw_key(w, k);
	ff_jsonw_str(w, s);
}

void ff_jsonw_knum(ff_jsonw *w, const char *k, double v)
{
	ff_jsonw_key(w, k);
	ff_jsonw_num(w, v);
}

void ff_jsonw_kint(ff_jsonw *w, const char *k, long long v)
{
	ff_jsonw_key(w, k);
	ff_jsonw_int(w, v);
}
