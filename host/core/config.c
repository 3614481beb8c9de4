/* config.c - ffrun.yaml checked against SPEC §3's schema. Each section is
 * one loader walking its map: a key it does not know is an error at that
 * key, a value of the wrong shape an error at that value. A null value
 * (`paths:` with nothing after it) means "the default". */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* A configuration is a page of text; anything bigger is a wrong file. */
#define FF_CONFIG_MAX_BYTES (1 << 20)

typedef struct loader {
	ff_config *cfg;
	const char *name; /* the path as the operator gave it, for messages */
	ff_err *e;
} loader;

static int bad(loader *l, const ff_yaml_node *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int bad(loader *l, const ff_yaml_node *n, const char *fmt, ...)
{
	char what[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return ff_err_set(l->e, FF_EUSAGE, "%s:%d:%d: %s", l->name, n->line, n->col, what);
}

static int oom(loader *l)
{
	return ff_err_set(l->e, FF_EFAIL, "%s: out of memory", l->name);
}

/* A key as it may appear in a one-line message: short, no control bytes. */
static const char *shown(char buf[72], const ff_yaml_node *k)
{
	size_t n = k->len < 64 ? k->len : 64;
	for (size_t i = 0; i < n; i++)
		buf[i] = (unsigned char)k->value[i] < 0x20 || k->value[i] == 0x7f ? '?' : k->value[i];
	strcpy(buf + n, k->len > 64 ? "..." : "");
	return buf;
}

static int unknown(loader *l, const ff_yaml_node *k, const char *section)
{
	char buf[72];
	if (!section)
		return bad(l, k, "unknown key '%s'", shown(buf, k));
	return bad(l, k, "unknown key '%s' in %s", shown(buf, k), section);
}

static int is(const ff_yaml_node *k, const char *s)
{
	return k->len == strlen(s) && memcmp(k->value, s, k->len) == 0;
}

static int is_null(const ff_yaml_node *n)
{
	return n->kind == FF_YAML_SCALAR && n->plain &&
	       (n->len == 0 || strcmp(n->value, "~") == 0 || strcmp(n->value, "null") == 0 ||
		strcmp(n->value, "Null") == 0 || strcmp(n->value, "NULL") == 0);
}

/* 1 when n is a map to walk, 0 when null (keep the defaults), or an error. */
static int want_map(loader *l, const ff_yaml_node *n, const char *what)
{
	if (is_null(n))
		return 0;
	if (n->kind != FF_YAML_MAP)
		return bad(l, n, "%s must be a mapping", what);
	return 1;
}

static int want_seq(loader *l, const ff_yaml_node *n, const char *what)
{
	if (is_null(n))
		return 0;
	if (n->kind != FF_YAML_SEQ)
		return bad(l, n, "%s must be a list", what);
	return 1;
}

static int set_dup(loader *l, char **dst, const char *s, size_t len)
{
	char *p = malloc(len + 1);
	if (!p)
		return oom(l);
	memcpy(p, s, len);
	p[len] = '\0';
	free(*dst);
	*dst = p;
	return 0;
}

static int get_str(loader *l, const ff_yaml_node *n, const char *what, char **dst)
{
	if (n->kind != FF_YAML_SCALAR)
		return bad(l, n, "%s must be a string", what);
	if (n->len == 0 || memchr(n->value, '\0', n->len))
		return bad(l, n, "%s must be a non-empty string", what);
	return set_dup(l, dst, n->value, n->len);
}

/* Absolute: relative paths are taken from the config file's folder so that
 * a cron job started in / reads the same tree as the operator did. */
static char *resolve(const char *dir, const char *p)
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

static int get_path(loader *l, const ff_yaml_node *n, const char *what, char **dst)
{
	char *s = NULL;
	int err = get_str(l, n, what, &s);
	if (err < 0)
		return err;
	char *abs = resolve(l->cfg->dir, s);
	free(s);
	if (!abs)
		return oom(l);
	free(*dst);
	*dst = abs;
	return 0;
}

/* Strict decimal: no 0x, no 1e3, no 7.0, no quotes: YAML's own typing. */
static int parse_int(const ff_yaml_node *n, long long *out)
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

static int get_int(loader *l, const ff_yaml_node *n, const char *what,
		   long long min, long long max, long long *out)
{
	long long v;
	int rc = parse_int(n, &v);

	if (rc == -1)
		return bad(l, n, "%s must be an integer", what);
	if (rc < 0 || v < min || v > max) {
		if (max >= INT_MAX) /* a bound nobody reaches on purpose */
			return bad(l, n, "%s must be an integer >= %lld", what, min);
		return bad(l, n, "%s must be an integer from %lld to %lld", what, min, max);
	}
	*out = v;
	return 0;
}

/* A decimal number: digits, one optional point, an optional exponent. */
static int get_num(loader *l, const ff_yaml_node *n, const char *what,
		   double min, int min_excluded, double *out)
{
	const char *s = n->value;
	size_t i = 0, digits = 0;
	char *end;

	if (n->kind != FF_YAML_SCALAR || !n->plain)
		return bad(l, n, "%s must be a number", what);
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
		return bad(l, n, "%s must be a number", what);
	double v = strtod(s, &end);
	if (*end || !isfinite(v) || v < min || (min_excluded && v == min))
		return bad(l, n, "%s must be a number %s %g", what, min_excluded ? ">" : ">=", min);
	*out = v;
	return 0;
}

static int get_bool(loader *l, const ff_yaml_node *n, const char *what, int *out)
{
	if (n->kind == FF_YAML_SCALAR && n->plain && is(n, "true"))
		*out = 1;
	else if (n->kind == FF_YAML_SCALAR && n->plain && is(n, "false"))
		*out = 0;
	else
		return bad(l, n, "%s must be true or false", what);
	return 0;
}

static int get_choice(loader *l, const ff_yaml_node *n, const char *what,
		      const char *const choices[], const char *listed, char **dst)
{
	if (n->kind == FF_YAML_SCALAR)
		for (size_t i = 0; choices[i]; i++)
			if (is(n, choices[i]))
				return set_dup(l, dst, n->value, n->len);
	return bad(l, n, "%s must be one of %s", what, listed);
}

/* A list of strings; with paths set each one is resolved against the
 * config's folder, with absolute set each one must already be absolute. */
static int get_strv(loader *l, const ff_yaml_node *n, const char *what,
		    int paths, int absolute, char ***dst, size_t *count)
{
	char item[96];
	int ok = want_seq(l, n, what);
	if (ok <= 0)
		return ok;
	if (n->n && !(*dst = calloc(n->n, sizeof(**dst))))
		return oom(l);
	for (size_t i = 0; i < n->n; i++) {
		const ff_yaml_node *v = n->items[i];
		int err;
		snprintf(item, sizeof(item), "%s[%zu]", what, i);
		if ((err = paths ? get_path(l, v, item, &(*dst)[i])
				 : get_str(l, v, item, &(*dst)[i])) < 0)
			return err;
		*count = i + 1;
		if (absolute && (*dst)[i][0] != '/')
			return bad(l, v, "%s must be an absolute path", item);
	}
	return 0;
}

static int conninfo_has_password(const char *s)
{
	/* postgres[ql]://user:password@host: the last @ before the path */
	if (!strncmp(s, "postgresql://", 13) || !strncmp(s, "postgres://", 11)) {
		const char *a = strstr(s, "://") + 3, *at = NULL, *p;
		for (p = a; *p && !strchr("/?#", *p); p++)
			if (*p == '@')
				at = p;
		for (p = a; at && p < at; p++)
			if (*p == ':')
				return 1;
	}
	/* password=…, sslpassword=…, or ?password=… in a URI */
	for (const char *p = s; *p; p++) {
		if (strncasecmp(p, "password", 8) != 0)
			continue;
		const char *q = p + 8;
		while (*q == ' ' || *q == '\t')
			q++;
		if (*q == '=')
			return 1;
	}
	return 0;
}

static int load_target(loader *l, ff_target *t, const ff_yaml_node *k, const ff_yaml_node *v)
{
	char what[128], buf[72];
	int ok, err;

	if (k->len == 0 || k->len > 63 || strspn(k->value,
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != k->len)
		return bad(l, k, "target name '%s' must be 1 to 63 letters, digits, '_' or '-'", shown(buf, k));
	if ((err = set_dup(l, &t->name, k->value, k->len)) < 0)
		return err;
	snprintf(what, sizeof(what), "targets.%s", t->name);
	if ((ok = want_map(l, v, what)) <= 0)
		return ok;
	for (size_t i = 0; i < v->n; i++) {
		const ff_yaml_node *tk = v->items[2 * i], *tv = v->items[2 * i + 1];
		snprintf(what, sizeof(what), "targets.%s.%.*s", t->name, (int)tk->len, tk->value);
		if (is(tk, "conninfo")) {
			if (is_null(tv))
				continue;
			if ((err = get_str(l, tv, what, &t->conninfo)) < 0)
				return err;
			if (conninfo_has_password(t->conninfo))
				return bad(l, tv, "%s holds a password: never put a password in conninfo: "
					   "use ~/.pgpass, PGPASSFILE or pg_service.conf", what);
		} else if (is(tk, "ephemeral")) {
			if ((err = get_bool(l, tv, what, &t->ephemeral)) < 0)
				return err;
		} else {
			snprintf(what, sizeof(what), "targets.%s", t->name);
			return unknown(l, tk, what);
		}
	}
	if (t->conninfo && t->ephemeral)
		return bad(l, v, "targets.%s: conninfo and ephemeral: true exclude each other", t->name);
	return 0;
}

static int load_targets(loader *l, const ff_yaml_node *n)
{
	ff_config *cfg = l->cfg;
	int ok = want_map(l, n, "targets"), err;
	if (ok <= 0)
		return ok;
	/* Room for the prod and drill defaults added after loading. */
	if (!(cfg->targets = calloc(n->n + 2, sizeof(*cfg->targets))))
		return oom(l);
	for (size_t i = 0; i < n->n; i++) {
		cfg->ntargets = i + 1;
		if ((err = load_target(l, &cfg->targets[i], n->items[2 * i], n->items[2 * i + 1])) < 0)
			return err;
	}
	return 0;
}

static int load_paths(loader *l, const ff_yaml_node *n)
{
	int ok = want_map(l, n, "paths"), err = 0;
	for (size_t i = 0; ok > 0 && err == 0 && i < n->n; i++) {
		const ff_yaml_node *k = n->items[2 * i], *v = n->items[2 * i + 1];
		if (is(k, "backups"))
			err = get_path(l, v, "paths.backups", &l->cfg->backups_dir);
		else if (is(k, "evidence"))
			err = get_path(l, v, "paths.evidence", &l->cfg->evidence_dir);
		else
			err = unknown(l, k, "paths");
	}
	return ok < 0 ? ok : err;
}

static int load_postgres(loader *l, const ff_yaml_node *n)
{
	int ok = want_map(l, n, "postgres"), err = 0;
	for (size_t i = 0; ok > 0 && err == 0 && i < n->n; i++) {
		const ff_yaml_node *k = n->items[2 * i], *v = n->items[2 * i + 1];
		if (is(k, "bindir") && v->kind == FF_YAML_SCALAR && is(v, "auto"))
			err = set_dup(l, &l->cfg->pg_bindir, "auto", 4);
		else if (is(k, "bindir"))
			err = get_path(l, v, "postgres.bindir", &l->cfg->pg_bindir);
		else if (is(k, "os_user"))
			err = get_str(l, v, "postgres.os_user", &l->cfg->pg_os_user);
		else
			err = unknown(l, k, "postgres");
	}
	return ok < 0 ? ok : err;
}

static int load_backup(loader *l, const ff_yaml_node *n)
{
	static const char *const globals[] = { "roles", "with-passwords", "none", NULL };
	static const char *const verify[] = { "none", "rows", "content", NULL };
	int ok = want_map(l, n, "backup"), err = 0;
	for (size_t i = 0; ok > 0 && err == 0 && i < n->n; i++) {
		const ff_yaml_node *k = n->items[2 * i], *v = n->items[2 * i + 1];
		long long jobs;
		if (is(k, "globals"))
			err = get_choice(l, v, "backup.globals", globals,
					 "roles, with-passwords, none", &l->cfg->backup_globals);
		else if (is(k, "verify"))
			err = get_choice(l, v, "backup.verify", verify,
					 "none, rows, content", &l->cfg->backup_verify);
		else if (is(k, "jobs") && v->kind == FF_YAML_SCALAR && is(v, "auto"))
			l->cfg->backup_jobs = 0;
		else if (is(k, "jobs")) {
			if (parse_int(v, &jobs) < 0 || jobs < 1 || jobs > INT_MAX)
				err = bad(l, v, "backup.jobs must be auto or a positive integer");
			else
				l->cfg->backup_jobs = (int)jobs;
		} else
			err = unknown(l, k, "backup");
	}
	return ok < 0 ? ok : err;
}

static int load_retention(loader *l, const ff_yaml_node *n)
{
	int ok = want_map(l, n, "retention"), err = 0;
	for (size_t i = 0; ok > 0 && err == 0 && i < n->n; i++) {
		const ff_yaml_node *k = n->items[2 * i], *v = n->items[2 * i + 1];
		long long x = 0;
		if (is(k, "keep_last")) {
			if ((err = get_int(l, v, "retention.keep_last", 1, INT_MAX, &x)) == 0)
				l->cfg->keep_last = (int)x;
		} else if (is(k, "keep_days")) {
			if ((err = get_int(l, v, "retention.keep_days", 0, INT_MAX, &x)) == 0)
				l->cfg->keep_days = (int)x;
		} else
			err = unknown(l, k, "retention");
	}
	return ok < 0 ? ok : err;
}

static int load_objectives(loader *l, const ff_yaml_node *n)
{
	int ok = want_map(l, n, "objectives"), err = 0;
	for (size_t i = 0; ok > 0 && err == 0 && i < n->n; i++) {
		const ff_yaml_node *k = n->items[2 * i], *v = n->items[2 * i + 1];
		if (is(k, "rpo_hours"))
			err = get_num(l, v, "objectives.rpo_hours", 0, 1, &l->cfg->rpo_hours);
		else if (is(k, "rto_minutes"))
			err = get_num(l, v, "objectives.rto_minutes", 0, 1, &l->cfg->rto_minutes);
		else
			err = unknown(l, k, "objectives");
	}
	return ok < 0 ? ok : err;
}

static int load_snapshots(loader *l, const ff_yaml_node *n)
{
	return get_strv(l, n, "snapshots", 1, 0, &l->cfg->snapshots, &l->cfg->nsnapshots);
}

static int load_smoke(loader *l, const ff_yaml_node *n)
{
	ff_config *cfg = l->cfg;
	char what[96];
	int ok = want_seq(l, n, "smoke"), err;
	if (ok <= 0)
		return ok;
	if (n->n && !(cfg->smoke = calloc(n->n, sizeof(*cfg->smoke))))
		return oom(l);
	for (size_t i = 0; i < n->n; i++) {
		const ff_yaml_node *item = n->items[i];
		ff_smoke *s = &cfg->smoke[i];
		cfg->nsmoke = i + 1;
		snprintf(what, sizeof(what), "smoke[%zu]", i);
		if (item->kind != FF_YAML_MAP)
			return bad(l, item, "%s must be a mapping with name and sql", what);
		for (size_t j = 0; j < item->n; j++) {
			const ff_yaml_node *k = item->items[2 * j], *v = item->items[2 * j + 1];
			snprintf(what, sizeof(what), "smoke[%zu].%s", i, is(k, "name") ? "name" : "sql");
			if (is(k, "name"))
				err = get_str(l, v, what, &s->name);
			else if (is(k, "sql"))
				err = get_str(l, v, what, &s->sql);
			else {
				snprintf(what, sizeof(what), "smoke[%zu]", i);
				err = unknown(l, k, what);
			}
			if (err < 0)
				return err;
		}
		if (!s->name || !s->sql)
			return bad(l, item, "smoke[%zu] needs both name and sql", i);
	}
	return 0;
}

static int load_argv_list(loader *l, const ff_yaml_node *n, const char *what, ff_argv_list *out)
{
	char item[96];
	int ok = want_seq(l, n, what), err;
	if (ok <= 0)
		return ok;
	if (n->n && !(out->argv = calloc(n->n, sizeof(*out->argv))))
		return oom(l);
	out->n = n->n; /* free() walks the NULL-terminated arrays filled so far */
	for (size_t i = 0; i < n->n; i++) {
		const ff_yaml_node *cmd = n->items[i];
		snprintf(item, sizeof(item), "%s[%zu]", what, i);
		if (cmd->kind != FF_YAML_SEQ || cmd->n == 0)
			return bad(l, cmd, "%s must be a non-empty list of arguments, "
				   "like [program, arg, ...]", item);
		if (!(out->argv[i] = calloc(cmd->n + 1, sizeof(char *))))
			return oom(l);
		for (size_t j = 0; j < cmd->n; j++) {
			snprintf(item, sizeof(item), "%s[%zu][%zu]", what, i, j);
			if ((err = get_str(l, cmd->items[j], item, &out->argv[i][j])) < 0)
				return err;
		}
		/* ffrun runs programs by absolute path only: a bare name (docker,
		 * curl) is looked up now, in the usual folders, so the runbook
		 * gets the path and the operator a clear error if it is missing. */
		char *prog = out->argv[i][0];
		if (!strchr(prog, '/')) {
			static const char *const dirs[] = { "/usr/local/sbin", "/usr/local/bin",
				"/usr/sbin", "/usr/bin", "/sbin", "/bin", NULL };
			char found[PATH_MAX] = "";
			for (const char *const *d = dirs; *d && !*found; d++) {
				char cand[PATH_MAX];
				snprintf(cand, sizeof(cand), "%s/%s", *d, prog);
				if (access(cand, X_OK) == 0)
					snprintf(found, sizeof(found), "%s", cand);
			}
			if (!*found)
				return bad(l, cmd->items[0], "%s[%zu]: program '%s' not found in "
					   "/usr/local/bin, /usr/bin or /bin (give its absolute path)",
					   what, i, prog);
			char *abs = strdup(found);
			if (!abs)
				return oom(l);
			free(prog);
			out->argv[i][0] = abs;
		} else if (prog[0] != '/') {
			return bad(l, cmd->items[0], "%s[%zu]: program '%s' must be a bare name or an "
				   "absolute path", what, i, prog);
		}
	}
	return 0;
}

static int load_services(loader *l, const ff_yaml_node *n)
{
	int ok = want_map(l, n, "services"), err = 0;
	for (size_t i = 0; ok > 0 && err == 0 && i < n->n; i++) {
		const ff_yaml_node *k = n->items[2 * i], *v = n->items[2 * i + 1];
		if (is(k, "up"))
			err = load_argv_list(l, v, "services.up", &l->cfg->services_up);
		else if (is(k, "check"))
			err = load_argv_list(l, v, "services.check", &l->cfg->services_check);
		else
			err = unknown(l, k, "services");
	}
	return ok < 0 ? ok : err;
}

static int load_exec(loader *l, const ff_yaml_node *n)
{
	int ok = want_map(l, n, "exec"), err = 0;
	for (size_t i = 0; ok > 0 && err == 0 && i < n->n; i++) {
		const ff_yaml_node *k = n->items[2 * i], *v = n->items[2 * i + 1];
		if (is(k, "allow"))
			err = get_strv(l, v, "exec.allow", 0, 1, &l->cfg->exec_allow, &l->cfg->nexec_allow);
		else
			err = unknown(l, k, "exec");
	}
	return ok < 0 ? ok : err;
}

static int load_restore(loader *l, const ff_yaml_node *n)
{
	int ok = want_map(l, n, "restore"), err = 0;
	for (size_t i = 0; ok > 0 && err == 0 && i < n->n; i++) {
		const ff_yaml_node *k = n->items[2 * i], *v = n->items[2 * i + 1];
		if (is(k, "allow_errors"))
			err = get_strv(l, v, "restore.allow_errors", 0, 0, &l->cfg->restore_allow_errors,
				       &l->cfg->nrestore_allow_errors);
		else
			err = unknown(l, k, "restore");
	}
	return ok < 0 ? ok : err;
}

static int load_monitoring(loader *l, const ff_yaml_node *n)
{
	int ok = want_map(l, n, "monitoring"), err = 0;
	for (size_t i = 0; ok > 0 && err == 0 && i < n->n; i++) {
		const ff_yaml_node *k = n->items[2 * i], *v = n->items[2 * i + 1];
		if (is(k, "textfile"))
			err = get_path(l, v, "monitoring.textfile", &l->cfg->monitoring_textfile);
		else
			err = unknown(l, k, "monitoring");
	}
	return ok < 0 ? ok : err;
}

static int load_limits(loader *l, const ff_yaml_node *n)
{
	int ok = want_map(l, n, "limits"), err = 0;
	for (size_t i = 0; ok > 0 && err == 0 && i < n->n; i++) {
		const ff_yaml_node *k = n->items[2 * i], *v = n->items[2 * i + 1];
		long long x = 0;
		if (is(k, "memory_mb")) {
			/* 1 TiB keeps memory_mb << 20 far from overflowing */
			if ((err = get_int(l, v, "limits.memory_mb", 16, 1 << 20, &x)) == 0)
				l->cfg->memory_mb = (size_t)x;
		} else if (is(k, "seconds"))
			err = get_num(l, v, "limits.seconds", 0, 0, &l->cfg->seconds);
		else if (is(k, "instructions"))
			err = get_int(l, v, "limits.instructions", 0, LLONG_MAX, &l->cfg->instructions);
		else
			err = unknown(l, k, "limits");
	}
	return ok < 0 ? ok : err;
}

static const struct section {
	const char *name;
	int (*load)(loader *l, const ff_yaml_node *n);
} sections[] = {
	{ "targets", load_targets },   { "paths", load_paths },
	{ "postgres", load_postgres }, { "backup", load_backup },
	{ "retention", load_retention }, { "objectives", load_objectives },
	{ "snapshots", load_snapshots }, { "smoke", load_smoke },
	{ "services", load_services }, { "exec", load_exec },
	{ "restore", load_restore },   { "limits", load_limits },
	{ "monitoring", load_monitoring },
};

static int load_tree(loader *l, const ff_yaml_node *root)
{
	if (!root)
		return 0;
	if (root->kind != FF_YAML_MAP)
		return bad(l, root, "the configuration must be a mapping of sections (targets, paths, ...)");
	for (size_t i = 0; i < root->n; i++) {
		const ff_yaml_node *k = root->items[2 * i];
		size_t s = 0;
		while (s < sizeof(sections) / sizeof(*sections) && !is(k, sections[s].name))
			s++;
		if (s == sizeof(sections) / sizeof(*sections))
			return unknown(l, k, NULL);
		int err = sections[s].load(l, root->items[2 * i + 1]);
		if (err < 0)
			return err;
	}
	return 0;
}

/* prod and drill exist whatever the file says: prod is libpq's environment
 * and drill a throwaway cluster, unless the file defines them. */
static int add_default_targets(loader *l)
{
	ff_config *cfg = l->cfg;
	static const char *const names[] = { "prod", "drill" };

	if (!cfg->targets && !(cfg->targets = calloc(2, sizeof(*cfg->targets))))
		return oom(l);
	for (int i = 0; i < 2; i++) {
		if (ff_config_target(cfg, names[i]))
			continue;
		ff_target *t = &cfg->targets[cfg->ntargets];
		if (!(t->name = strdup(names[i])))
			return oom(l);
		t->ephemeral = i == 1;
		cfg->ntargets++;
	}
	return 0;
}

static int read_file(char **text, size_t *len, const char *path, ff_err *e)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	char *buf = NULL;
	size_t n = 0;

	*text = NULL;
	if (!f)
		return ff_err_set(e, FF_EUSAGE, "%s: cannot read: %s", path, strerror(errno));
	/* Sized by the file, not by the cap: a megabyte buffer for a few
	 * lines costs start-up time. One byte more shows a file that grew. */
	size_t cap = FF_CONFIG_MAX_BYTES + 1;
	int regular = fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode);
	if (regular && st.st_size <= FF_CONFIG_MAX_BYTES)
		cap = (size_t)st.st_size + 1;
	if (!(buf = malloc(cap + 1))) {
		fclose(f);
		return ff_err_set(e, FF_EFAIL, "%s: out of memory", path);
	}
	n = fread(buf, 1, cap, f);
	int failed = ferror(f), saved = errno;
	if (!failed && regular && n == cap && cap <= FF_CONFIG_MAX_BYTES) {
		free(buf);
		fclose(f);
		return ff_err_set(e, FF_EUSAGE, "%s: changed while being read", path);
	}
	fclose(f);
	if (failed) {
		free(buf);
		return ff_err_set(e, FF_EUSAGE, "%s: cannot read: %s", path, strerror(saved));
	}
	if (n > FF_CONFIG_MAX_BYTES) {
		free(buf);
		return ff_err_set(e, FF_EUSAGE, "%s: cannot read: larger than %d bytes", path,
				  FF_CONFIG_MAX_BYTES);
	}
	buf[n] = '\0';
	*text = buf;
	*len = n;
	return 0;
}

static int locate(ff_config *cfg, const char *path, ff_err *e)
{
	char *cwd = NULL;

	if (!path || path[0] != '/') {
		if (!(cwd = getcwd(NULL, 0)))
			return ff_err_set(e, FF_EFAIL, "cannot get the current folder: %s", strerror(errno));
	}
	if (!path) {
		cfg->dir = cwd;
		return 0;
	}
	cfg->file = cwd ? resolve(cwd, path) : strdup(path);
	free(cwd);
	if (!cfg->file)
		return ff_err_set(e, FF_EFAIL, "%s: out of memory", path);
	char *slash = strrchr(cfg->file, '/');
	size_t dl = slash == cfg->file ? 1 : (size_t)(slash - cfg->file);
	if (!(cfg->dir = strndup(cfg->file, dl)))
		return ff_err_set(e, FF_EFAIL, "%s: out of memory", path);
	return 0;
}

static int set_defaults(loader *l)
{
	ff_config *cfg = l->cfg;
	cfg->keep_last = 7;
	cfg->keep_days = 30;
	cfg->rpo_hours = 24;
	cfg->rto_minutes = 90;
	cfg->memory_mb = 256;
	cfg->seconds = 0;
	cfg->instructions = 500000000;
	if (!(cfg->pg_bindir = strdup("auto")) || !(cfg->pg_os_user = strdup("postgres")) ||
	    !(cfg->backup_globals = strdup("roles")) || !(cfg->backup_verify = strdup("content")))
		return oom(l);
	return 0;
}

static int load(loader *l, const char *path)
{
	ff_config *cfg = l->cfg;
	char *text = NULL;
	size_t len = 0;
	int err;

	if ((err = locate(cfg, path, l->e)) < 0 || (err = set_defaults(l)) < 0)
		return err;
	if (path) {
		if ((err = read_file(&text, &len, path, l->e)) < 0)
			return err;
		err = ff_yaml_parse(&cfg->tree, text, len, path, l->e);
		free(text);
		if (err < 0 || (err = load_tree(l, cfg->tree)) < 0)
			return err;
	}
	if (!cfg->backups_dir && !(cfg->backups_dir = resolve(cfg->dir, "ops/_backups")))
		return oom(l);
	if (!cfg->evidence_dir && !(cfg->evidence_dir = resolve(cfg->dir, "ops/_local/evidence")))
		return oom(l);
	return add_default_targets(l);
}

int ff_config_load(ff_config *cfg, const char *path, ff_err *e)
{
	loader l = { .cfg = cfg, .name = path ? path : "(defaults)", .e = e };

	memset(cfg, 0, sizeof(*cfg));
	int err = load(&l, path);
	if (err < 0)
		ff_config_free(cfg);
	return err;
}

static void free_strv(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void free_argv_list(ff_argv_list *list)
{
	for (size_t i = 0; i < list->n && list->argv; i++) {
		for (char **a = list->argv[i]; a && *a; a++)
			free(*a);
		free(list->argv[i]);
	}
	free(list->argv);
}

void ff_config_free(ff_config *cfg)
{
	if (!cfg)
		return;
	for (size_t i = 0; i < cfg->ntargets; i++) {
		free(cfg->targets[i].name);
		free(cfg->targets[i].conninfo);
	}
	free(cfg->targets);
	for (size_t i = 0; i < cfg->nsmoke; i++) {
		free(cfg->smoke[i].name);
		free(cfg->smoke[i].sql);
	}
	free(cfg->smoke);
	free_strv(cfg->snapshots, cfg->nsnapshots);
	free_strv(cfg->exec_allow, cfg->nexec_allow);
	free_strv(cfg->restore_allow_errors, cfg->nrestore_allow_errors);
	free_argv_list(&cfg->services_up);
	free_argv_list(&cfg->services_check);
	free(cfg->file);
	free(cfg->dir);
	free(cfg->backups_dir);
	free(cfg->evidence_dir);
	free(cfg->monitoring_textfile);
	free(cfg->pg_bindir);
	free(cfg->pg_os_user);
	free(cfg->backup_globals);
	free(cfg->backup_verify);
	ff_yaml_free(cfg->tree);
	memset(cfg, 0, sizeof(*cfg));
}

const ff_target *ff_config_target(const ff_config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->ntargets; i++)
		if (cfg->targets[i].name && strcmp(cfg->targets[i].name, name) == 0)
			return &cfg->targets[i];
	return NULL;
}
