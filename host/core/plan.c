/* plan.c - planned writes as lines, and the plan file's seal (plan.h). */
#include "plan.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FRAME_HEAD "{\"format\":\"ffrun.plan/1\",\"body\":"
#define FRAME_MID ",\"sha256\":\""
#define FRAME_TAIL "\"}\n"

/* Replace every from in buf (cap bytes) by to; text past cap is cut. */
static void replace_all(char *buf, size_t cap, const char *from, const char *to)
{
	size_t fl = strlen(from), tl = strlen(to);
	char *p = buf;
	if (!fl)
		return;
	while ((p = strstr(p, from))) {
		size_t rest = strlen(p + fl);
		if ((size_t)(p - buf) + tl + rest + 1 > cap)
			return;
		memmove(p + tl, p + fl, rest + 1);
		memcpy(p, to, tl);
		p += tl;
	}
}

/* An exported snapshot id: 8 hex digits, '-', 8 hex digits, '-', digits. */
static size_t snapshot_len(const char *s)
{
	size_t i = 0;
	for (int part = 0; part < 3; part++) {
		size_t start = i;
		while (part < 2 ? isxdigit((unsigned char)s[i]) : isdigit((unsigned char)s[i]))
			i++;
		if (i == start || (part < 2 && (i - start != 8 || s[i++] != '-')))
			return 0;
	}
	return i;
}

/* "(text, N bytes)", as the dispatcher shows a long text: its length. */
static size_t text_len(const char *s)
{
	size_t i = 7;
	if (strncmp(s, "(text, ", 7) || !isdigit((unsigned char)s[i]))
		return 0;
	while (isdigit((unsigned char)s[i]))
		i++;
	return strncmp(s + i, " bytes)", 7) ? 0 : i + 7;
}

/* Copy in to out: numbers outside strings as "#", snapshot ids and
 * "(text, N bytes)" inside strings as placeholders. */
static void mask(char *out, size_t cap, const char *in)
{
	size_t o = 0;
	int str = 0;
	for (const char *p = in; *p && o + 12 < cap;) {
		size_t n;
		if (str && *p == '\\' && p[1]) {
			out[o++] = *p++;
			out[o++] = *p++;
		} else if (*p == '"') {
			str = !str;
			out[o++] = *p++;
		} else if (str && (n = text_len(p))) {
			o += (size_t)snprintf(out + o, cap - o, "(text)");
			p += n;
		} else if (str && (n = snapshot_len(p))) {
			o += (size_t)snprintf(out + o, cap - o, "{snapshot}");
			p += n;
		} else if (!str && (isdigit((unsigned char)*p) || (*p == '-' && isdigit((unsigned char)p[1])))) {
			out[o++] = '#';
			while (*p && strchr("+-.0123456789eE", *p))
				p++;
		} else {
			out[o++] = *p++;
		}
	}
	out[o] = '\0';
}

void ff_plan_line(char *out, size_t cap, const char *step, const char *call, const char *args,
		  const char *const *from, const char *const *to, size_t nsubst)
{
	char *raw = malloc(cap);
	if (!raw) {
		snprintf(out, cap, "[%s] %s (out of memory)", step ? step : "-", call);
		return;
	}
	snprintf(raw, cap, "%s", args);
	for (size_t i = 0; i < nsubst; i++)
		if (from[i] && *from[i])
			replace_all(raw, cap, from[i], to[i]);
	int n = snprintf(out, cap, "[%s] %s ", step ? step : "-", call);
	if (n > 0 && (size_t)n < cap)
		mask(out + n, cap - (size_t)n, raw);
	free(raw);
}

int ff_plan_seal(char **out, const char *body, ff_err *e)
{
	char hex[FF_SHA256_HEX];
	size_t len = strlen(FRAME_HEAD) + strlen(body) + strlen(FRAME_MID) + 64 + strlen(FRAME_TAIL) + 1;
	ff_sha256_hex(hex, body, strlen(body));
	if (!(*out = malloc(len)))
		return ff_err_set(e, FF_EINTERNAL, "out of memory");
	snprintf(*out, len, "%s%s%s%s%s", FRAME_HEAD, body, FRAME_MID, hex, FRAME_TAIL);
	return 0;
}

int ff_plan_unseal(const char **body, size_t *blen, const char *text, size_t len, ff_err *e)
{
	size_t head = strlen(FRAME_HEAD), tail = strlen(FRAME_MID) + 64 + strlen(FRAME_TAIL);
	char want[FF_SHA256_HEX], got[FF_SHA256_HEX];
	if (len < head + tail || memcmp(text, FRAME_HEAD, head) ||
	    memcmp(text + len - tail, FRAME_MID, strlen(FRAME_MID)) ||
	    memcmp(text + len - strlen(FRAME_TAIL), FRAME_TAIL, strlen(FRAME_TAIL)))
		return ff_err_set(e, FF_EFAIL, "not a sealed ffrun plan (format ffrun.plan/1)");
	memcpy(want, text + len - tail + strlen(FRAME_MID), 64);
	want[64] = '\0';
	*body = text + head;
	*blen = len - head - tail;
	ff_sha256_hex(got, *body, *blen);
	if (strcmp(want, got))
		return ff_err_set(e, FF_EFAIL, "the plan was altered: its body's sha256 is %.12s…, its seal says %.12s…",
				  got, want);
	return 0;
}
