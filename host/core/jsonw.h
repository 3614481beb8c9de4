/* jsonw.h - a minimal JSON writer into a growable buffer, for the host's
 * own records (events, summary, plan) that must be written even when the
 * Lua state is gone (a limit hit). Keys and values are escaped here. */
#ifndef FF_JSONW_H
#define FF_JSONW_H

#include <stddef.h>

typedef struct ff_jsonw {
	char *buf;
	size_t len, cap;
	int depth;
	unsigned char first[32]; /* per nesting level: no comma needed yet */
	int after_key;           /* a key was written, its value comes next */
	int oom;                 /* set when an allocation failed */
} ff_jsonw;

void ff_jsonw_init(ff_jsonw *w);
void ff_jsonw_free(ff_jsonw *w);
void ff_jsonw_reset(ff_jsonw *w);

void ff_jsonw_obj(ff_jsonw *w);   /* { */
void ff_jsonw_arr(ff_jsonw *w);   /* [ */
void ff_jsonw_end(ff_jsonw *w, char close); /* } or ] */
void ff_jsonw_key(ff_jsonw *w, const char *k);
void ff_jsonw_str(ff_jsonw *w, const char *s);        /* NULL -> null */
void ff_jsonw_strn(ff_jsonw *w, const char *s, size_t n);
void ff_jsonw_num(ff_jsonw *w, double v);
void ff_jsonw_int(ff_jsonw *w, long long v);
void ff_jsonw_bool(ff_jsonw *w, int v);
void ff_jsonw_null(ff_jsonw *w);
/* A value already encoded as JSON (trusted: produced by cjson or us). */
void ff_jsonw_raw(ff_jsonw *w, const char *json);

/* Shorthands for "key": value members. */
void ff_jsonw_kstr(ff_jsonw *w, const char *k, const char *s);
void ff_jsonw_knum(ff_jsonw *w, const char *k, double v);
void ff_jsonw_kint(ff_jsonw *w, const char *k, long long v);

#endif
