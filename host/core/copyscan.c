#include "copyscan.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "pg.h"

#define FF_COPY_LINE_MAX (1u << 20)

enum state {
	OUT_START, /* outside COPY data, at the start of a line */
	OUT_SKIP,  /* outside, in a line that is not a COPY */
	OUT_COPY,  /* outside, in a line that may be `COPY …` (held in line) */
	ROW_START, /* in COPY data, at the start of a row */
	ROW_BS,    /* a row that began with a backslash (held) */
	ROW_BS_DOT,/* … then a dot (held): `\.` alone ends the data */
	ROW_IN,    /* in a row, hashing */
};

struct ff_copyscan {
	int content, failed;
	enum state st;
	char *line;           /* the COPY line being read */
	size_t len, cap;
	ff_copyscan_table *t; /* t[n - 1] is the table being read */
	size_t n, tcap;
	ff_sha256 *row;       /* the current row's hash */
	char error[300];
};

static int fail(ff_copyscan *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(s->error, sizeof(s->error), fmt, ap);
	va_end(ap);
	s->failed = 1;
	return -1;
}

ff_copyscan *ff_copyscan_new(int content)
{
	ff_copyscan *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->content = content;
	if (content && !(s->row = ff_sha256_new())) {
		free(s);
		return NULL;
	}
	return s;
}

void ff_copyscan_free(ff_copyscan *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++) {
		free(s->t[i].schema);
		free(s->t[i].name);
	}
	free(s->t);
	free(s->line);
	ff_sha256_free(s->row);
	free(s);
}

const char *ff_copyscan_error(const ff_copyscan *s)
{
	return s->error;
}

size_t ff_copyscan_count(const ff_copyscan *s)
{
	return s->n;
}

const ff_copyscan_table *ff_copyscan_get(const ff_copyscan *s, size_t i)
{
	return i < s->n ? &s->t[i] : NULL;
}

/* One identifier as fmtId writes it: "quoted, with "" for a quote" or
 * bare. *p moves past it; NULL when malformed or out of memory. */
static char *identifier(const char **p, const char *end)
{
	const char *q = *p;
	char *out = malloc((size_t)(end - q) + 1), *o = out;
	if (!out)
		return NULL;
	if (q < end && *q == '"') {
		for (q++; q < end; q++) {
			if (*q == '"') {
				if (q + 1 < end && q[1] == '"') {
					*o++ = '"';
					q++;
					continue;
				}
				break;
			}
			*o++ = *q;
		}
		if (q >= end) { /* no closing quote */
			free(out);
			return NULL;
		}
		q++;
	} else {
		while (q < end && *q != '.' && *q != ' ' && *q != '(')
			*o++ = *q++;
	}
	*o = '\0';
	*p = q;
	if (o == out) {
		free(out);
		return NULL;
	}
	return out;
}

/* `COPY schema.name (cols) FROM stdin;`: a new table whose rows follow. */
static int begin_table(ff_copyscan *s)
{
	const char *p = s->line + 5, *end = s->line + s->len;
	static const char tail[] = " FROM stdin;";
	if (s->len < 5 + sizeof(tail) - 1 ||
	    memcmp(end - (sizeof(tail) - 1), tail, sizeof(tail) - 1) != 0)
		return 0; /* some other statement that starts with COPY */
	char *schema = identifier(&p, end), *name = NULL;
	if (schema && p < end && *p == '.') {
		p++;
		name = identifier(&p, end);
	}
	if (!schema || !name) {
		free(schema);
		free(name);
		return fail(s, "cannot read the table name in: %.120s", s->line);
	}
	if (s->n == s->tcap) {
		size_t cap = s->tcap ? s->tcap * 2 : 16;
		ff_copyscan_table *t = realloc(s->t, cap * sizeof(*t));
		if (!t) {
			free(schema);
			free(name);
			return fail(s, "out of memory");
		}
		s->t = t;
		s->tcap = cap;
	}
	ff_copyscan_table *t = &s->t[s->n++];
	memset(t, 0, sizeof(*t));
	t->schema = schema;
	t->name = name;
	s->st = ROW_START;
	return 0;
}

static void hash(ff_copyscan *s, const char *p, size_t n)
{
	if (s->content)
		ff_sha256_update(s->row, p, n);
}

static void end_row(ff_copyscan *s)
{
	ff_copyscan_table *t = &s->t[s->n - 1];
	t->rows++;
	if (s->content) {
		unsigned char h[32];
		ff_sha256_final_raw(s->row, h);
		ff_pg_sum_add(t->sum, h);
	}
}

int ff_copyscan_feed(ff_copyscan *s, const char *p, size_t n)
{
	const char *end = p + n;
	if (s->failed)
		return -1;
	while (p < end) {
		switch (s->st) {
		case OUT_START:
			s->len = 0;
			s->st = *p == 'C' ? OUT_COPY : OUT_SKIP;
			break;
		case OUT_SKIP: {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			if (!nl)
				return 0;
			p = nl + 1;
			s->st = OUT_START;
			break;
		}
		case OUT_COPY: {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			size_t take = (size_t)((nl ? nl : end) - p);
			if (s->len + take + 1 > FF_COPY_LINE_MAX)
				return fail(s, "a line starting with C is over %u bytes", FF_COPY_LINE_MAX);
			if (s->len + take + 1 > s->cap) {
				size_t cap = s->cap ? s->cap : 256;
				while (cap < s->len + take + 1)
					cap *= 2;
				char *l = realloc(s->line, cap);
				if (!l)
					return fail(s, "out of memory");
				s->line = l;
				s->cap = cap;
			}
			memcpy(s->line + s->len, p, take);
			s->len += take;
			s->line[s->len] = '\0';
			p += take;
			if (!nl)
				return 0;
			p++; /* the newline */
			s->st = OUT_START;
			if (s->len >= 5 && !memcmp(s->line, "COPY ", 5) && begin_table(s) < 0)
				return -1;
			break;
		}
		case ROW_START:
			if (*p == '\\') {
				s->st = ROW_BS;
				p++;
			} else {
				s->st = ROW_IN;
			}
			break;
		case ROW_BS:
			if (*p == '.') {
				s->st = ROW_BS_DOT;
				p++;
			} else {
				hash(s, "\\", 1);
				s->st = ROW_IN;
			}
			break;
		case ROW_BS_DOT:
			if (*p == '\n') { /* `\.`: the end of this table's data */
				s->st = OUT_START;
				p++;
			} else {
				hash(s, "\\.", 2);
				s->st = ROW_IN;
			}
			break;
		case ROW_IN: {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			size_t take = (size_t)((nl ? nl + 1 : end) - p);
			hash(s, p, take);
			p += take;
			if (nl) {
				end_row(s);
				s->st = ROW_START;
			}
			break;
		}
		}
	}
	return 0;
}

int ff_copyscan_finish(ff_copyscan *s)
{
	if (s->failed)
		return -1;
	if (s->st >= ROW_START)
		return fail(s, "the data of %s.%s ends before its \\.", s->t[s->n - 1].schema,
			    s->t[s->n - 1].name);
	return 0;
}
