/* redact.c - secrets out of configuration snapshots. YAML is parsed and
 * re-emitted (structure decides what is a value); .env files and anything
 * else go line by line and keep their layout. Whatever the mode, the text
 * is also scanned for URL passwords and `secret=value` pairs, and a YAML
 * file libyaml refuses goes through the line mode: never out unredacted. */
#include "redact.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "yaml.h"

typedef struct sbuf {
	char *p;
	size_t len, cap;
	int oom; /* sticky: checked once at the end */
} sbuf;

static void put(sbuf *b, const char *s, size_t n)
{
	if (b->oom || n == 0)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *p = realloc(b->p, cap);
		if (!p) {
			b->oom = 1;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void put_redacted(sbuf *b, int *count)
{
	put(b, FF_REDACTED, sizeof(FF_REDACTED) - 1);
	(*count)++;
}

static int is_lower(char c) { return c >= 'a' && c <= 'z'; }
static int is_upper(char c) { return c >= 'A' && c <= 'Z'; }
static int is_digit(char c) { return c >= '0' && c <= '9'; }
static int is_alpha(char c) { return is_lower(c) || is_upper(c); }
static int is_keychar(char c) { return is_alpha(c) || is_digit(c) || c == '_' || c == '-' || c == '.'; }
static int is_blank(char c) { return c == ' ' || c == '\t'; }
/* c is one of set; unlike strchr, NUL is never in the set */
static int in_set(char c, const char *set) { return c && strchr(set, c); }

int ff_redact_is_secret_key(const char *key, size_t len)
{
	/* Found anywhere, separators ignored: DBPASSWORD, x-api-key, AuthToken. */
	static const char *const anywhere[] = {
		"password", "passwd", "passphrase", "secret", "token", "credential",
		"apikey", "privatekey", "accesskey", NULL
	};
	/* Too short to match inside other words (bypass, monkey, author):
	 * whole words only, split on _ - . space, digits and camelCase. */
	static const char *const words[] = {
		"pass", "pwd", "pw", "key", "keys", "auth", "authorization", "cookie",
		"cookies", "salt", "dsn", "jwt", "bearer", NULL
	};
	char *flat = malloc(len + 1);
	size_t fl = 0;

	if (!flat)
		return 1; /* cannot tell: treat as secret */
	for (size_t i = 0; i < len; i++)
		if (is_alpha(key[i]) || is_digit(key[i]))
			flat[fl++] = (char)(key[i] | (is_upper(key[i]) ? 0x20 : 0));
	flat[fl] = '\0';
	for (size_t i = 0; anywhere[i]; i++)
		if (strstr(flat, anywhere[i])) {
			free(flat);
			return 1;
		}
	free(flat);

	for (size_t i = 0; i < len;) {
		size_t start = i;
		if (!is_alpha(key[i])) {
			i++;
			continue;
		}
		/* apiKey -> api|Key, APIKey -> API|Key, key2 -> key|2 */
		for (i++; i < len && is_alpha(key[i]); i++) {
			if (is_upper(key[i]) && (is_lower(key[i - 1]) ||
			    (i + 1 < len && is_upper(key[i - 1]) && is_lower(key[i + 1]))))
				break;
		}
		for (size_t w = 0; words[w]; w++)
			if (strlen(words[w]) == i - start && strncasecmp(key + start, words[w], i - start) == 0)
				return 1;
	}
	return 0;
}

/* Index just past the quote that closes the one at s[open], or n. */
static size_t close_quote(const char *s, size_t open, size_t n)
{
	char q = s[open];
	for (size_t j = open + 1; j < n; j++) {
		if (q == '"' && s[j] == '\\')
			j++;
		else if (s[j] == q)
			return j + 1;
	}
	return n;
}

/* Longest key looked for before an = or a : (keeps the scan linear). */
#define FF_REDACT_MAX_KEY 128

/* The key just before s[sep] (an = or a :), blanks allowed in between:
 * a run of key characters, or for a colon also a quoted string, as in
 * `{"token": "x"}` or `{password: x}` within a line. 0 when none. */
static int key_before(const char *s, size_t sep, size_t *k, size_t *klen)
{
	size_t end = sep, start;

	while (end > 0 && is_blank(s[end - 1]))
		end--;
	if (s[sep] == ':' && end > 0 && (s[end - 1] == '"' || s[end - 1] == '\'')) {
		char q = s[end - 1];
		for (start = end - 1; start > 0 && end - start < FF_REDACT_MAX_KEY &&
		     s[start - 1] != q && s[start - 1] != '\n'; start--)
			;
		if (start == 0 || s[start - 1] != q)
			return 0;
		*k = start;
		*klen = end - 1 - start;
		return *klen > 0;
	}
	for (start = end; start > 0 && end - start < FF_REDACT_MAX_KEY && is_keychar(s[start - 1]); start--)
		;
	*k = start;
	*klen = end - start;
	return *klen > 0;
}

/* Copy s to o with URL passwords (scheme://user:PASSWORD@host) and the
 * values of secret `key=value` / `key: value` pairs inside a line
 * (conninfo, query strings, command lines, one-line JSON) replaced. A URL
 * token runs to the last @ before a blank or quote: a raw password
 * holding / or @ is still caught. */
static void scrub(sbuf *o, const char *s, size_t n, int *count)
{
	size_t i = 0, done = 0;

	while (i < n) {
		if (s[i] == ':' && i > 0 && is_alpha(s[i - 1]) && i + 2 < n &&
		    s[i + 1] == '/' && s[i + 2] == '/') {
			size_t a = i + 3, end, at = 0;
			for (end = a; end < n && !in_set(s[end], " \t\r\n\"'`<>"); end++)
				if (s[end] == '@')
					at = end;
			const char *colon = at ? memchr(s + a, ':', at - a) : NULL;
			if (colon && (size_t)(colon - s) + 1 < at) {
				size_t c = (size_t)(colon - s) + 1;
				put(o, s + done, c - done);
				put_redacted(o, count);
				done = at;
			}
			i = at ? at : a;
			continue;
		}
		size_t k, klen, v = i + 1, end;
		int colon = s[i] == ':';
		if ((s[i] == '=' || colon) && key_before(s, i, &k, &klen) &&
		    /* `host:5432` is no key, `key: v` and `"key":v` are */
		    (!colon || i + 1 == n || is_blank(s[i + 1]) || s[k + klen] == '"' || s[k + klen] == '\'')) {
			while (v < n && is_blank(s[v]))
				v++;
			int quoted = v < n && (s[v] == '"' || s[v] == '\'');
			if (quoted)
				end = close_quote(s, v, n);
			else
				for (end = v; end < n && !in_set(s[end], colon ? ",}]\r\n" : " \t\r\n\"'&"); end++)
					;
			if (end > v + quoted && ff_redact_is_secret_key(s + k, klen)) {
				put(o, s + done, v + quoted - done);
				put_redacted(o, count);
				if (quoted && end > v + 1 && s[end - 1] == s[v])
					put(o, s + v, 1);
				done = i = end;
				continue;
			}
		}
		i++;
	}
	put(o, s + done, n - done);
}

/* --- YAML mode --------------------------------------------------------- */

static int is_null_scalar(const ff_yaml_node *n)
{
	return n->plain && (n->len == 0 || strcmp(n->value, "~") == 0 ||
			    strcasecmp(n->value, "null") == 0);
}

static int replace_value(ff_yaml_node *n, sbuf *b)
{
	if (b->oom)
		return -1;
	free(n->value);
	n->value = b->p ? b->p : strdup("");
	n->len = b->len;
	n->plain = 0; /* "[REDACTED]" must not come back as a flow sequence */
	return n->value ? 0 : -1;
}

static int redact_scalar(ff_yaml_node *n, int secret, int item, int *count)
{
	sbuf b = { 0 };
	int before = *count;

	if (secret) {
		if (is_null_scalar(n))
			return 0;
		put_redacted(&b, count);
		return replace_value(n, &b);
	}
	/* `- POSTGRES_PASSWORD=a b c`: a list item is the whole value, blanks
	 * and all, not just the first word scrub() would take. */
	size_t k = 0;
	while (k < n->len && is_keychar(n->value[k]))
		k++;
	if (item && k > 0 && k < n->len && n->value[k] == '=' && k + 1 < n->len &&
	    ff_redact_is_secret_key(n->value, k)) {
		put(&b, n->value, k + 1);
		put_redacted(&b, count);
		return replace_value(n, &b);
	}
	scrub(&b, n->value, n->len, count);
	if (*count == before) {
		free(b.p);
		return b.oom ? -1 : 0;
	}
	return replace_value(n, &b);
}

/* Whole subtrees under a secret key go: `secrets: {db: {file: x}}`. */
static int redact_tree(ff_yaml_node *n, int secret, int item, int *count)
{
	if (!n)
		return 0;
	if (n->kind == FF_YAML_SCALAR)
		return redact_scalar(n, secret, item, count);
	if (n->kind == FF_YAML_SEQ) {
		for (size_t i = 0; i < n->n; i++)
			if (redact_tree(n->items[i], secret, 1, count) < 0)
				return -1;
		return 0;
	}
	for (size_t i = 0; i < n->n; i++) {
		ff_yaml_node *k = n->items[2 * i];
		int below = secret || ff_redact_is_secret_key(k->value, k->len);
		if (redact_tree(k, 0, 0, count) < 0 ||
		    redact_tree(n->items[2 * i + 1], below, 0, count) < 0)
			return -1;
	}
	return 0;
}

/* 0 done, 1 when the text is not one YAML document libyaml takes (the
 * caller then falls back to lines), negative when out of memory. */
static int redact_yaml(char **out, size_t *out_len, const char *text, size_t len,
		       const char *name, int *count)
{
	ff_yaml_node *root = NULL;
	ff_err e;

	if (ff_yaml_parse(&root, text, len, name, &e) < 0 || !root)
		return 1; /* a comments-only file: lines keep and scrub them */
	if (redact_tree(root, 0, 0, count) < 0) {
		ff_yaml_free(root);
		return -1;
	}
	int err = ff_yaml_emit(out, out_len, root, &e);
	ff_yaml_free(root);
	return err < 0 ? 1 : 0;
}

/* --- ENV and LINES modes ----------------------------------------------- */

typedef struct keyed {
	size_t col;      /* where the key starts */
	size_t key, klen;
	size_t value;    /* first byte of the value, after the separator */
	char kq;         /* the quote opened before the key and not closed */
} keyed;

/* Recognise `KEY=VALUE`, `export KEY=VALUE`, and in LINES mode also
 * `key: value`, `- key: value`, `"key": value`, `- KEY=VALUE`. */
static int parse_key(keyed *k, const char *l, size_t n, int env)
{
	size_t p = 0;

	memset(k, 0, sizeof(*k));
	while (p < n && is_blank(l[p]))
		p++;
	if (!env && p + 1 < n && l[p] == '-' && is_blank(l[p + 1]))
		for (p += 2; p < n && is_blank(l[p]); p++)
			;
	if (p + 7 <= n && memcmp(l + p, "export", 6) == 0 && is_blank(l[p + 6]))
		for (p += 7; p < n && is_blank(l[p]); p++)
			;
	k->col = p;
	if (p < n && (l[p] == '"' || l[p] == '\''))
		k->kq = l[p++];
	k->key = p;
	/* LINES keys may hold blanks: `DB Password: x`, `password = x` */
	while (p < n && (is_keychar(l[p]) || (!env && l[p] == ' ')))
		p++;
	while (p > k->key && is_blank(l[p - 1]))
		p--;
	k->klen = p - k->key;
	if (!k->klen)
		return 0;
	if (k->kq && p < n && l[p] == k->kq) {
		k->kq = 0;
		p++;
	}
	while (p < n && is_blank(l[p]))
		p++;
	if (p < n && l[p] == '=')
		p++;
	else if (!env && !k->kq && p < n && l[p] == ':' && (p + 1 == n || is_blank(l[p + 1])))
		p++;
	else
		return 0;
	while (p < n && is_blank(l[p]))
		p++;
	k->value = p;
	return 1;
}

static size_t indent_of(const char *l, size_t n)
{
	size_t i = 0;
	while (i < n && is_blank(l[i]))
		i++;
	return i;
}

/* Where the line starting at pos ends: *n its length without the line
 * break (and without a CR: CRLF files stay CRLF), the return value the
 * start of the next line. */
static size_t line_at(const char *text, size_t len, size_t pos, size_t *n)
{
	const char *nl = memchr(text + pos, '\n', len - pos);
	size_t end = nl ? (size_t)(nl - text) : len;
	*n = end - pos;
	if (*n && text[end - 1] == '\r')
		(*n)--;
	return nl ? end + 1 : len;
}

/* The line at pos (n bytes) has a secret key with a value: write it with
 * the value replaced and return where to go on. A quoted .env value may
 * run over several lines; an unclosed quote takes the rest of the text. */
static size_t redact_value(sbuf *o, const char *text, size_t len, size_t pos,
			   size_t n, const keyed *k, int env, int *count)
{
	const char *l = text + pos;
	char q = l[k->value];
	size_t next, e;

	put(o, l, k->value);
	if (q != '"' && q != '\'') {
		put_redacted(o, count);
		if (k->kq && l[n - 1] == k->kq && n - 1 > k->value)
			put(o, l + n - 1, 1); /* - "KEY=value" */
		next = line_at(text, len, pos, &e);
		put(o, l + n, next - pos - n);
		return next;
	}
	size_t end = close_quote(text, pos + k->value, env ? len : pos + n);
	put(o, &q, 1);
	put_redacted(o, count);
	if (end > pos + k->value + 1 && text[end - 1] == q)
		put(o, &q, 1);
	/* the rest of the line holding the closing quote: a comment, a comma */
	if (end <= pos + n) {
		next = line_at(text, len, pos, &e);
		e = pos + n - end;
	} else
		next = line_at(text, len, end, &e);
	scrub(o, text + end, e, count);
	put(o, text + end + e, next - end - e);
	return next;
}

static void redact_lines(sbuf *o, const char *text, size_t len, int env, int *count)
{
	long block = -1; /* LINES: lines indented deeper than this belong to a secret */
	size_t pos = 0, n, next;
	keyed k;

	for (; pos < len; pos = next) {
		const char *l = text + pos;
		next = line_at(text, len, pos, &n);
		size_t ind = indent_of(l, n);
		if (block >= 0 && ind < n && (long)ind <= block)
			block = -1;
		int secret = block < 0 && parse_key(&k, l, n, env) &&
			     ff_redact_is_secret_key(l + k.key, k.klen);
		if (block >= 0 && ind < n) {
			put(o, l, ind);
			put_redacted(o, count);
		} else if (secret && k.value < n) {
			next = redact_value(o, text, len, pos, n, &k, env, count);
			/* YAML continuation lines, a block scalar, a secret map */
			if (!env)
				block = (long)k.col;
			continue;
		} else {
			if (secret && !env) /* `password: |`, or a secret map below */
				block = (long)k.col;
			scrub(o, l, n, count);
		}
		put(o, l + n, next - pos - n);
	}
}

/* --- entry ------------------------------------------------------------- */

static ff_redact_mode mode_for(const char *name)
{
	const char *base = name ? strrchr(name, '/') : NULL;
	base = base ? base + 1 : name ? name : "";
	size_t n = strlen(base);
	if ((n >= 4 && strcasecmp(base + n - 4, ".yml") == 0) ||
	    (n >= 5 && strcasecmp(base + n - 5, ".yaml") == 0))
		return FF_REDACT_YAML;
	if (strcmp(base, ".env") == 0 || strncmp(base, ".env.", 5) == 0 ||
	    (n >= 4 && strcmp(base + n - 4, ".env") == 0))
		return FF_REDACT_ENV;
	return FF_REDACT_LINES;
}

int ff_redact(char **out, size_t *out_len, const char *text, size_t len,
	      const char *name, ff_redact_mode mode, int *secrets_found,
	      ff_err *e)
{
	sbuf o = { 0 };
	int count = 0;

	*out = NULL;
	if (out_len)
		*out_len = 0;
	if (secrets_found)
		*secrets_found = 0;
	if (mode == FF_REDACT_AUTO)
		mode = mode_for(name);
	if (mode == FF_REDACT_YAML) {
		int rc = redact_yaml(&o.p, &o.len, text, len, name ? name : "(text)", &count);
		if (rc < 0)
			return ff_err_set(e, FF_EFAIL, "%s: out of memory", name ? name : "redact");
		if (rc == 0)
			goto done;
		count = 0; /* start over, line by line */
		mode = FF_REDACT_LINES;
	}
	redact_lines(&o, text, len, mode == FF_REDACT_ENV, &count);
	if (o.oom) {
		free(o.p);
		return ff_err_set(e, FF_EFAIL, "%s: out of memory", name ? name : "redact");
	}
	if (!o.p && !(o.p = calloc(1, 1)))
		return ff_err_set(e, FF_EFAIL, "%s: out of memory", name ? name : "redact");
done:
	*out = o.p;
	if (out_len)
		*out_len = o.len;
	if (secrets_found)
		*secrets_found = count;
	return 0;
}
