/* config_value.c - one value of ffrun.yaml read as what the schema wants
 * (config_intern.h). The messages point at the node: "file:line:col:
 * what must be ...", so the operator can go straight to the line. */
#include "config_intern.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cfg_bad(loader *l, const ff_yaml_node *n, const char *fmt, ...)
{
	char what[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return ff_err_set(l->e, FF_EUSAGE, "%s:%d:%d: %s", l->name, n->line, n->col, what);
}

int cfg_oom(loader *l)
{
	return ff_err_set(l->e, FF_EFAIL, "%s: out of memory", l->name);
}

/* A key as it may appear in a one-line message: short, no control bytes. */
const char *cfg_shown(char buf[72], const ff_yaml_node *k)
{
	size_t n = k->len < 64 ? k->len : 64;
	for (size_t i = 0; i < n; i++)
		buf[i] = (unsigned char)k->value[i] < 0x20 || k->value[i] == 0x7f ? '?' : k->value[i];
	strcpy(buf + n, k->len > 64 ? "..." : "");
	return buf;
}

int cfg_unknown(loader *l, const ff_yaml_node *k, const char *section)
{
	char buf[72];
	if (!section)
		return cfg_bad(l, k, "unknown key '%s'", cfg_shown(buf, k));
	return cfg_bad(l, k, "unknown key '%s' in %s", cfg_shown(buf, k), section);
}

int cfg_is(const ff_yaml_node *k, const char *s)
{
	return k->len == strlen(s) && memcmp(k->value, s, k->len) == 0;
}

int cfg_is_null(const ff_yaml_node *n)
{
	return n->kind == FF_YAML_SCALAR && n->plain &&
	       (n->len == 0 || strcmp(n->value, "~") == 0 || strcmp(n->value, "null") == 0 ||
		strcmp(n->value, "Null") == 0 || strcmp(n->value, "NULL") == 0);
}

/* 1 when n is a map to walk, 0 when null (keep the defaults), or an error. */
int cfg_want_map(loader *l, const ff_yaml_node *n, const char *what)
{
	if (cfg_is_null(n))
		return 0;
	if (n->kind != FF_YAML_MAP)
		return cfg_bad(l, n, "%s must be a mapping", what);
	return 1;
}

int cfg_want_seq(loader *l, const ff_yaml_node *n, const char *what)
{
	if (cfg_is_null(n))
		return 0;
	if (n->kind != FF_YAML_SEQ)
		return cfg_bad(l, n, "%s must be a list", what);
	return 1;
}

int cfg_set_dup(loader *l, char **dst, const char *s, size_t len)
{
	char *p = malloc(len + 1);
	if (!p)
		return cfg_oom(l);
	memcpy(p, s, len);
	p[len] = '\0';
	free(*dst);
	*dst = p;
	return 0;
}

int cfg_get_str(loader *l, const ff_yaml_node *n, const char *what, char **dst)
{
	if (n->kind != FF_YAML_SCALAR)
		return cfg_bad(l, n, "%s must be a string", what);
	if (n->len == 0 || memchr(n->value, '\0', n->len))
		return cfg_bad(l, n, "%s must be a non-empty string", what);
	return cfg_set_dup(l, dst, n->value, n->len);
}

/* Absolute: relative paths are taken from the config file's folder so that
 * a cron job started in / reads the same tree as the operator did. */
char *cfg_resolve(const char *dir, const char *p)
{
	if (p[0] == '/')
		return strdup(p);
	while (p[0] == '.' && p[1] == '/')
		p += 2;
	if (p[0] == '\0' || strcmp(p, ".") == 0)
		return strdup(dir);
	size_t dl = strlen(dir), pl = strlen(p);
	int slash = dl > 0 && dir[dl - 1] != '/';
	char *out = malloc(dl + slash + pl + 1);
	if (out) {
		memcpy(out, dir, dl);
		if (slash)
			out[dl] = '/';
		memcpy(out + dl + slash, p, pl + 1);
	}
	return out;
}

int cfg_get_path(loader *l, const ff_yaml_node *n, const char *what, char **dst)
{
	char *s = NULL;
	int err = cfg_get_str(l, n, what, &s);
	if (err < 0)
		return err;
	char *abs = cfg_resolve(l->cfg->dir, s);
	free(s);
	if (!abs)
		return cfg_oom(l);
	free(*dst);
	*dst = abs;
	return 0;
}

/* Strict decimal: no 0x, no 1e3, no 7.0, no quotes: YAML's own typing. */
int cfg_parse_int(const ff_yaml_node *n, long long *out)
{
	size_t sign = n->len && (n->value[0] == '-' || n->value[0] == '+');
	char *end;

	if (n->kind != FF_YAML_SCALAR || !n->plain || n->len == sign ||
	    strspn(n->value + sign, "0123456789") != n->len - sign)
		return -1;
	errno = 0;
	*out = strtoll(n->value, &end, 10);
	return errno || *end ? -2 : 0;
}

int cfg_get_int(loader *l, const ff_yaml_node *n, const char *what,
		   long long min, long long max, long long *out)
{
	long long v;
	int rc = cfg_parse_int(n, &v);

	if (rc == -1)
		return cfg_bad(l, n, "%s must be an integer", what);
	if (rc < 0 || v < min || v > max) {
		if (max >= INT_MAX) /* a bound nobody reaches on purpose */
			return cfg_bad(l, n, "%s must be an integer >= %lld", what, min);
		return cfg_bad(l, n, "%s must be an integer from %lld to %lld", what, min, max);
	}
	*out = v;
	return 0;
}

/* A decimal number: digits, one optional point, an optional exponent. */
int cfg_get_num(loader *l, const ff_yaml_node *n, const char *what,
		   double min, int min_excluded, double *out)
{
	const char *s = n->value;
	size_t i = 0, digits = 0;
	char *end;

	if (n->kind != FF_YAML_SCALAR || !n->plain)
		return cfg_bad(l, n, "%s must be a number", what);
	if (s[i] == '-' || s[i] == '+')
		i++;
	for (; s[i] >= '0' && s[i] <= '9'; i++)
		digits++;
	if (s[i] == '.')
		for (i++; s[i] >= '0' && s[i] <= '9'; i++)
			digits++;
	if (digits && (s[i] == 'e' || s[i] == 'E')) {
		size_t j = i + 1 + (s[i + 1] == '-' || s[i + 1] == '+');
		if (s[j] >= '0' && s[j] <= '9')
			for (i = j; s[i] >= '0' && s[i] <= '9'; i++)
				;
	}
	if (!digits || i != n->len)
		return cfg_bad(l, n, "%s must be a number", what);
	double v = strtod(s, &end);
	if (*end || !isfinite(v) || v < min || (min_excluded && v == min))
		return cfg_bad(l, n, "%s must be a number %s %g", what, min_excluded ? ">" : ">=", min);
	*out = v;
	return 0;
}

int cfg_get_bool(loader *l, const ff_yaml_node *n, const char *what, int *out)
{
	if (n->kind == FF_YAML_SCALAR && n->plain && cfg_is(n, "true"))
		*out = 1;
	else if (n->kind == FF_YAML_SCALAR && n->plain && cfg_is(n, "false"))
		*out = 0;
	else
		return cfg_bad(l, n, "%s must be true or false", what);
	return 0;
}

int cfg_get_choice(loader *l, const ff_yaml_node *n, const char *what,
		      const char *const choices[], const char *listed, char **dst)
{
	if (n->kind == FF_YAML_SCALAR)
		for (size_t i = 0; choices[i]; i++)
			if (cfg_is(n, choices[i]))
				return cfg_set_dup(l, dst, n->value, n->len);
	return cfg_bad(l, n, "%s must be one of %s", what, listed);
}

/* A list of strings; with paths set each one is resolved against the
 * config's folder, with absolute set each one must already be absolute. */
int cfg_get_strv(loader *l, const ff_yaml_node *n, const char *what,
		    int paths, int absolute, char ***dst, size_t *count)
{
	char item[96];
	int ok = cfg_want_seq(l, n, what);
	if (ok <= 0)
		return ok;
	if (n->n && !(*dst = calloc(n->n, sizeof(**dst))))
		return cfg_oom(l);
	for (size_t i = 0; i < n->n; i++) {
		const ff_yaml_node *v = n->items[i];
		int err;
		snprintf(item, sizeof(item), "%s[%zu]", what, i);
		if ((err = paths ? cfg_get_path(l, v, item, &(*dst)[i])
				 : cfg_get_str(l, v, item, &(*dst)[i])) < 0)
			return err;
		*count = i + 1;
		if (absolute && (*dst)[i][0] != '/')
			return cfg_bad(l, v, "%s must be an absolute path", item);
	}
	return 0;
}
