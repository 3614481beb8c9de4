/* config.c - ffrun.yaml checked against SPEC §3's schema. Each section is
 * one loader walking its map: a key it does not know is an error at that
 * key, a value of the wrong shape an error at that value. A null value
 * (`paths:` with nothing after it) means "the default". How one value is
 * read (a string, a path, a number...) is config_value.c's. */
#include "config.h"
#include "config_intern.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* A configuration is a page of text; anything bigger is a wrong file. */
#define FF_CONFIG_MAX_BYTES (1 << 20)

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

/* targets.NAME.pgbackrest: { stanza: NAME, config: PATH }. The config
 * file is pgBackRest's own (it may hold repo1-cipher-pass): ffrun passes
 * its path, never reads a value out of it. */
static int load_pgbackrest(loader *l, ff_target *t, const ff_yaml_node *v)
{
	char what[128];
	int ok, err;
	snprintf(what, sizeof(what), "targets.%s.pgbackrest", t->name);
	if ((ok = cfg_want_map(l, v, what)) <= 0)
		return ok < 0 ? ok : cfg_bad(l, v, "%s: a map { stanza: NAME, config: PATH }", what);
	for (size_t i = 0; i < v->n; i++) {
		const ff_yaml_node *k = v->items[2 * i], *x = v->items[2 * i + 1];
		snprintf(what, sizeof(what), "targets.%s.pgbackrest.%.*s", t->name, (int)k->len, k->value);
		if (cfg_is(k, "stanza")) {
			if ((err = cfg_get_str(l, x, what, &t->pgbr_stanza)) < 0)
				return err;
			size_t n = strlen(t->pgbr_stanza);
			if (n == 0 || n > 63 || strspn(t->pgbr_stanza, "abcdefghijklmnopqrstuvwxyz"
			    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") != n || t->pgbr_stanza[0] == '-' ||
			    t->pgbr_stanza[0] == '.')
				return cfg_bad(l, x, "%s must be 1 to 63 letters, digits, '_', '.' or '-' ('.' and '-' not first)", what);
		} else if (cfg_is(k, "config")) {
			struct stat st;
			if ((err = cfg_get_path(l, x, what, &t->pgbr_config)) < 0)
				return err;
			if (stat(t->pgbr_config, &st) < 0)
				return cfg_bad(l, x, "%s: %s: %s", what, t->pgbr_config, strerror(errno));
			if (!S_ISREG(st.st_mode))
				return cfg_bad(l, x, "%s: %s: not a file", what, t->pgbr_config);
		} else {
			snprintf(what, sizeof(what), "targets.%s.pgbackrest", t->name);
			return cfg_unknown(l, k, what);
		}
	}
	if (!t->pgbr_stanza || !t->pgbr_config)
		return cfg_bad(l, v, "targets.%s.pgbackrest: needs both stanza and config", t->name);
	return 0;
}

/* engine and pgbackrest go together: one without the other is an error. */
static int check_engine(loader *l, ff_target *t, const ff_yaml_node *v, const ff_yaml_node *engine_at)
{
	int pgbr = t->engine && !strcmp(t->engine, "pgbackrest");
	if (pgbr && !t->pgbr_stanza)
		return cfg_bad(l, engine_at, "targets.%s: engine pgbackrest needs pgbackrest: { stanza: NAME, config: PATH }",
			       t->name);
	if (!pgbr && t->pgbr_stanza)
		return cfg_bad(l, v, "targets.%s: pgbackrest: is set but engine is not pgbackrest", t->name);
	if (pgbr && t->ephemeral)
		return cfg_bad(l, engine_at, "targets.%s: engine pgbackrest and ephemeral: true exclude each other", t->name);
	return 0;
}

static int load_target(loader *l, ff_target *t, const ff_yaml_node *k, const ff_yaml_node *v)
{
	char what[128], buf[72];
	int ok, err;
	const ff_yaml_node *engine_at = NULL;

	if (k->len == 0 || k->len > 63 || strspn(k->value,
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != k->len)
		return cfg_bad(l, k, "target name '%s' must be 1 to 63 letters, digits, '_' or '-'", cfg_shown(buf, k));
	if ((err = cfg_set_dup(l, &t->name, k->value, k->len)) < 0)
		return err;
	snprintf(what, sizeof(what), "targets.%s", t->name);
	if ((ok = cfg_want_map(l, v, what)) <= 0)
		return ok;
	for (size_t i = 0; i < v->n; i++) {
		const ff_yaml_node *tk = v->items[2 * i], *tv = v->items[2 * i + 1];
		snprintf(what, sizeof(what), "targets.%s.%.*s", t->name, (int)tk->len, tk->value);
		if (cfg_is(tk, "conninfo")) {
			if (cfg_is_null(tv))
				continue;
			if ((err = cfg_get_str(l, tv, what, &t->conninfo)) < 0)
				return err;
			if (conninfo_has_password(t->conninfo))
				return cfg_bad(l, tv, "%s holds a password: never put a password in conninfo: "
					   "use ~/.pgpass, PGPASSFILE or pg_service.conf", what);
		} else if (cfg_is(tk, "ephemeral")) {
			if ((err = cfg_get_bool(l, tv, what, &t->ephemeral)) < 0)
				return err;
		} else if (cfg_is(tk, "engine")) {
			static const char *const engines[] = { "pg_dump", "pgbackrest", NULL };
			if ((err = cfg_get_choice(l, tv, what, engines, "pg_dump or pgbackrest", &t->engine)) < 0)
				return err;
			engine_at = tv;
		} else if (cfg_is(tk, "pgbackrest")) {
			if ((err = load_pgbackrest(l, t, tv)) < 0)
				return err;
		} else {
			snprintf(what, sizeof(what), "targets.%s", t->name);
			return cfg_unknown(l, tk, what);
		}
	}
	if (t->conninfo && t->ephemeral)
		return cfg_bad(l, v, "targets.%s: conninfo and ephemeral: true exclude each other", t->name);
	return check_engine(l, t, v, engine_at ? engine_at : v);
}

static int load_targets(loader *l, const ff_yaml_node *n)
{
	ff_config *cfg = l->cfg;
	int ok = cfg_want_map(l, n, "targets"), err;
	if (ok <= 0)
		return ok;
	/* Room for the prod and drill defaults added after loading. */
	if (!(cfg->targets = calloc(n->n + 2, sizeof(*cfg->targets))))
		return cfg_oom(l);
	for (size_t i = 0; i < n->n; i++) {
		cfg->ntargets = i + 1;
		if ((err = load_target(l, &cfg->targets[i], n->items[2 * i], n->items[2 * i + 1])) < 0)
			return err;
	}
	return 0;
}

static int load_paths(loader *l, const ff_yaml_node *n)
{
	int ok = cfg_want_map(l, n, "paths"), err = 0;
	for (size_t i = 0; ok > 0 && err == 0 && i < n->n; i++) {
		const ff_yaml_node *k = n->items[2 * i], *v = n->items[2 * i + 1];
		if (cfg_is(k, "backups"))
			err = cfg_get_path(l, v, "paths.backups", &l->cfg->backups_dir);
		else if (cfg_is(k, "evidence"))
			err = cfg_get_path(l, v, "paths.evidence", &l->cfg->evidence_dir);
		else
			err = cfg_unknown(l, k, "paths");
	}
	return ok < 0 ? ok : err;
}

static int load_postgres(loader *l, const ff_yaml_node *n)
{
	int ok = cfg_want_map(l, n, "postgres"), err = 0;
	for (size_t i = 0; ok > 0 && err == 0 && i < n->n; i++) {
		const ff_yaml_node *k = n->items[2 * i], *v = n->items[2 * i + 1];
		if (cfg_is(k, "bindir") && v->kind == FF_YAML_SCALAR && cfg_is(v, "auto"))
			err = cfg_set_dup(l, &l->cfg->pg_bindir, "auto", 4);
		else if (cfg_is(k, "bindir"))
			err = cfg_get_path(l, v, "postgres.bindir", &l->cfg->pg_bindir);
		else if (cfg_is(k, "os_user"))
			err = cfg_get_str(l, v, "postgres.os_user", &l->cfg->pg_os_user);
		else
			err = cfg_unknown(l, k, "postgres");
	}
	return ok < 0 ? ok : err;
}

/* One argv, [program, arg, ...]. ffrun runs programs by absolute path
 * only: a bare name (docker, curl) is looked up now, in the usual folders,
 * so the runbook gets the path and the operator a clear error if it is
 * missing; with optional set, a missing program is kept by its bare name
 * (the runbook says it is missing when it would run it). */
static int load_argv(loader *l, const ff_yaml_node *cmd, const char *what, int optional, char ***dst)
{
	char item[96];
	int err;
	if (cmd->kind != FF_YAML_SEQ || cmd->n == 0)
		return cfg_bad(l, cmd, "%s must be a non-empty list of arguments, "
			   "like [program, arg, ...]", what);
	if (!(*dst = calloc(cmd->n + 1, sizeof(char *))))
		return cfg_oom(l);
	for (size_t j = 0; j < cmd->n; j++) {
		snprintf(item, sizeof(item), "%s[%zu]", what, j);
		if ((err = cfg_get_str(l, cmd->items[j], item, &(*dst)[j])) < 0)
			return err;
	}
	char *prog = (*dst)[0];
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
		if (!*found && optional)
			return 0;
		if (!*found)
			return cfg_bad(l, cmd->items[0], "%s: program '%s' not found in "
				   "/usr/local/bin, /usr/bin or /bin (give its absolute path)",
				   what, prog);
		char *abs = strdup(found);
		if (!abs)
			return cfg_oom(l);
		free(prog);
		(*dst)[0] = abs;
	} else if (prog[0] != '/') {
		return cfg_bad(l, cmd->items[0], "%s: program '%s' must be a bare name or an "
			   "absolute path", what, prog);
	}
	return 0;
}

static int load_argv_list(loader *l, const ff_yaml_node *n, const char *what, ff_argv_list *out)
{
	char item[96];
	int ok = cfg_want_seq(l, n, what), err;
	if (ok <= 0)
		return ok;
	if (n->n && !(out->argv = calloc(n->n, sizeof(*out->argv))))
		return cfg_oom(l);
	out->n = n->n; /* free() walks the NULL-terminated arrays filled so far */
	for (size_t i = 0; i < n->n; i++) {
		snprintf(item, sizeof(item), "%s[%zu]", what, i);
		if ((err = load_argv(l, n->items[i], item, 0, &out->argv[i])) < 0)
			return err;
	}
	return 0;
}

/* backup.app_state: one argv, [docker, compose, ps] (or that one list in
 * a list, [[docker, compose, ps]]); [] for none. Optional, as the canon
 * says: a program not found here is the backup's warning, not an error. */
static int load_app_state(loader *l, const ff_yaml_node *n, ff_argv_list *out)
{
	int ok = cfg_want_seq(l, n, "backup.app_state");
	if (ok <= 0 || n->n == 0)
		return ok;
	const ff_yaml_node *cmd = n;
	if (n->items[0]->kind == FF_YAML_SEQ) {
		if (n->n != 1)
			return cfg_bad(l, n, "backup.app_state is one command, like [docker, compose, ps]");
		cmd = n->items[0];
	}
	if (!(out->argv = calloc(1, sizeof(*out->argv))))
		return cfg_oom(l);
	out->n = 1;
	return load_argv(l, cmd, "backup.app_state", 1, &out->argv[0]);
}

static int load_backup(loader *l, const ff_yaml_node *n)
{
	static const char *const globals[] = { "roles", "with-passwords", "none", NULL };
	static const char *const verify[] = { "none", "rows", "content", NULL };
	int ok = cfg_want_map(l, n, "backup"), err = 0;
	for (size_t i = 0; ok > 0 && err == 0 && i < n->n; i++) {
		const ff_yaml_node *k = n->items[2 * i], *v = n->items[2 * i + 1];
		long long jobs;
		if (cfg_is(k, "globals"))
			err = cfg_get_choice(l, v, "backup.globals", globals,
					 "roles, with-passwords, none", &l->cfg->backup_globals);
		else if (cfg_is(k, "verify"))
			err = cfg_get_choice(l, v, "backup.verify", verify,
					 "none, rows, content", &l->cfg->backup_verify);
		else if (cfg_is(k, "jobs") && v->kind == FF_YAML_SCALAR && cfg_is(v, "auto"))
			l->cfg->backup_jobs = 0;
		else if (cfg_is(k, "jobs")) {
			if (cfg_parse_int(v, &jobs) < 0 || jobs < 1 || jobs > INT_MAX)
				err = cfg_bad(l, v, "backup.jobs must be auto or a positive integer");
			else
				l->cfg->backup_jobs = (int)jobs;
		} else if (cfg_is(k, "app_state"))
			err = load_app_state(l, v, &l->cfg->app_state);
		else
			err = cfg_unknown(l, k, "backup");
	}
	return ok < 0 ? ok : err;
}

static int load_retention(loader *l, const ff_yaml_node *n)
{
	int ok = cfg_want_map(l, n, "retention"), err = 0;
	for (size_t i = 0; ok > 0 && err == 0 && i < n->n; i++) {
		const ff_yaml_node *k = n->items[2 * i], *v = n->items[2 * i + 1];
		long long x = 0;
		if (cfg_is(k, "keep_last")) {
			if ((err = cfg_get_int(l, v, "retention.keep_last", 1, INT_MAX, &x)) == 0)
				l->cfg->keep_last = (int)x;
		} else if (cfg_is(k, "keep_days")) {
			if ((err = cfg_get_int(l, v, "retention.keep_days", 0, INT_MAX, &x)) == 0)
				l->cfg->keep_days = (int)x;
		} else if (cfg_is(k, "evidence_days")) {
			if ((err = cfg_get_int(l, v, "retention.evidence_days", 1, INT_MAX, &x)) == 0)
				l->cfg->evidence_days = (int)x;
		} else
			err = cfg_unknown(l, k, "retention");
	}
	return ok < 0 ? ok : err;
}

static int load_objectives(loader *l, const ff_yaml_node *n)
{
	int ok = cfg_want_map(l, n, "objectives"), err = 0;
	for (size_t i = 0; ok > 0 && err == 0 && i < n->n; i++) {
		const ff_yaml_node *k = n->items[2 * i], *v = n->items[2 * i + 1];
		if (cfg_is(k, "rpo_hours"))
			err = cfg_get_num(l, v, "objectives.rpo_hours", 0, 1, &l->cfg->rpo_hours);
		else if (cfg_is(k, "rto_minutes"))
			err = cfg_get_num(l, v, "objectives.rto_minutes", 0, 1, &l->cfg->rto_minutes);
		else
			err = cfg_unknown(l, k, "objectives");
	}
	return ok < 0 ? ok : err;
}

static int load_drill(loader *l, const ff_yaml_node *n)
{
	int ok = cfg_want_map(l, n, "drill"), err = 0;
	for (size_t i = 0; ok > 0 && err == 0 && i < n->n; i++) {
		const ff_yaml_node *k = n->items[2 * i], *v = n->items[2 * i + 1];
		if (cfg_is(k, "amcheck"))
			err = cfg_get_bool(l, v, "drill.amcheck", &l->cfg->drill_amcheck);
		else
			err = cfg_unknown(l, k, "drill");
	}
	return ok < 0 ? ok : err;
}

static int load_snapshots(loader *l, const ff_yaml_node *n)
{
	return cfg_get_strv(l, n, "snapshots", 1, 0, &l->cfg->snapshots, &l->cfg->nsnapshots);
}

static int load_smoke(loader *l, const ff_yaml_node *n)
{
	ff_config *cfg = l->cfg;
	char what[96];
	int ok = cfg_want_seq(l, n, "smoke"), err;
	if (ok <= 0)
		return ok;
	if (n->n && !(cfg->smoke = calloc(n->n, sizeof(*cfg->smoke))))
		return cfg_oom(l);
	for (size_t i = 0; i < n->n; i++) {
		const ff_yaml_node *item = n->items[i];
		ff_smoke *s = &cfg->smoke[i];
		cfg->nsmoke = i + 1;
		snprintf(what, sizeof(what), "smoke[%zu]", i);
		if (item->kind != FF_YAML_MAP)
			return cfg_bad(l, item, "%s must be a mapping with name and sql", what);
		for (size_t j = 0; j < item->n; j++) {
			const ff_yaml_node *k = item->items[2 * j], *v = item->items[2 * j + 1];
			snprintf(what, sizeof(what), "smoke[%zu].%s", i, cfg_is(k, "name") ? "name" : "sql");
			if (cfg_is(k, "name"))
				err = cfg_get_str(l, v, what, &s->name);
			else if (cfg_is(k, "sql"))
				err = cfg_get_str(l, v, what, &s->sql);
			else {
				snprintf(what, sizeof(what), "smoke[%zu]", i);
				err = cfg_unknown(l, k, what);
			}
			if (err < 0)
				return err;
		}
		if (!s->name || !s->sql)
			return cfg_bad(l, item, "smoke[%zu] needs both name and sql", i);
	}
	return 0;
}

/* services.drill: the application against the drill's database. */
static int load_services_drill(loader *l, const ff_yaml_node *n)
{
	int ok = cfg_want_map(l, n, "services.drill"), err = 0;
	for (size_t i = 0; ok > 0 && err == 0 && i < n->n; i++) {
		const ff_yaml_node *k = n->items[2 * i], *v = n->items[2 * i + 1];
		if (cfg_is(k, "up"))
			err = load_argv_list(l, v, "services.drill.up", &l->cfg->drill_up);
		else if (cfg_is(k, "check"))
			err = load_argv_list(l, v, "services.drill.check", &l->cfg->drill_check);
		else if (cfg_is(k, "down"))
			err = load_argv_list(l, v, "services.drill.down", &l->cfg->drill_down);
		else
			err = cfg_unknown(l, k, "services.drill");
	}
	return ok < 0 ? ok : err;
}

static int load_services(loader *l, const ff_yaml_node *n)
{
	int ok = cfg_want_map(l, n, "services"), err = 0;
	for (size_t i = 0; ok > 0 && err == 0 && i < n->n; i++) {
		const ff_yaml_node *k = n->items[2 * i], *v = n->items[2 * i + 1];
		if (cfg_is(k, "up"))
			err = load_argv_list(l, v, "services.up", &l->cfg->services_up);
		else if (cfg_is(k, "check"))
			err = load_argv_list(l, v, "services.check", &l->cfg->services_check);
		else if (cfg_is(k, "drill"))
			err = load_services_drill(l, v);
		else
			err = cfg_unknown(l, k, "services");
	}
	return ok < 0 ? ok : err;
}

static int load_exec(loader *l, const ff_yaml_node *n)
{
	int ok = cfg_want_map(l, n, "exec"), err = 0;
	for (size_t i = 0; ok > 0 && err == 0 && i < n->n; i++) {
		const ff_yaml_node *k = n->items[2 * i], *v = n->items[2 * i + 1];
		if (cfg_is(k, "allow"))
			err = cfg_get_strv(l, v, "exec.allow", 0, 1, &l->cfg->exec_allow, &l->cfg->nexec_allow);
		else
			err = cfg_unknown(l, k, "exec");
	}
	return ok < 0 ? ok : err;
}

static int load_restore(loader *l, const ff_yaml_node *n)
{
	int ok = cfg_want_map(l, n, "restore"), err = 0;
	for (size_t i = 0; ok > 0 && err == 0 && i < n->n; i++) {
		const ff_yaml_node *k = n->items[2 * i], *v = n->items[2 * i + 1];
		if (cfg_is(k, "allow_errors"))
			err = cfg_get_strv(l, v, "restore.allow_errors", 0, 0, &l->cfg->restore_allow_errors,
				       &l->cfg->nrestore_allow_errors);
		else
			err = cfg_unknown(l, k, "restore");
	}
	return ok < 0 ? ok : err;
}

static int load_monitoring(loader *l, const ff_yaml_node *n)
{
	int ok = cfg_want_map(l, n, "monitoring"), err = 0;
	for (size_t i = 0; ok > 0 && err == 0 && i < n->n; i++) {
		const ff_yaml_node *k = n->items[2 * i], *v = n->items[2 * i + 1];
		if (cfg_is(k, "textfile"))
			err = cfg_get_path(l, v, "monitoring.textfile", &l->cfg->monitoring_textfile);
		else
			err = cfg_unknown(l, k, "monitoring");
	}
	return ok < 0 ? ok : err;
}

static int load_limits(loader *l, const ff_yaml_node *n)
{
	int ok = cfg_want_map(l, n, "limits"), err = 0;
	for (size_t i = 0; ok > 0 && err == 0 && i < n->n; i++) {
		const ff_yaml_node *k = n->items[2 * i], *v = n->items[2 * i + 1];
		long long x = 0;
		if (cfg_is(k, "memory_mb")) {
			/* 1 TiB keeps memory_mb << 20 far from overflowing */
			if ((err = cfg_get_int(l, v, "limits.memory_mb", 16, 1 << 20, &x)) == 0)
				l->cfg->memory_mb = (size_t)x;
		} else if (cfg_is(k, "seconds"))
			err = cfg_get_num(l, v, "limits.seconds", 0, 0, &l->cfg->seconds);
		else if (cfg_is(k, "instructions"))
			err = cfg_get_int(l, v, "limits.instructions", 0, LLONG_MAX, &l->cfg->instructions);
		else
			err = cfg_unknown(l, k, "limits");
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
	{ "drill", load_drill },
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
		return cfg_bad(l, root, "the configuration must be a mapping of sections (targets, paths, ...)");
	for (size_t i = 0; i < root->n; i++) {
		const ff_yaml_node *k = root->items[2 * i];
		size_t s = 0;
		while (s < sizeof(sections) / sizeof(*sections) && !cfg_is(k, sections[s].name))
			s++;
		if (s == sizeof(sections) / sizeof(*sections))
			return cfg_unknown(l, k, NULL);
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
		return cfg_oom(l);
	for (int i = 0; i < 2; i++) {
		if (ff_config_target(cfg, names[i]))
			continue;
		ff_target *t = &cfg->targets[cfg->ntargets];
		if (!(t->name = strdup(names[i])))
			return cfg_oom(l);
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
	cfg->file = cwd ? cfg_resolve(cwd, path) : strdup(path);
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
	cfg->evidence_days = 90;
	cfg->rpo_hours = 24;
	cfg->rto_minutes = 90;
	cfg->drill_amcheck = 1;
	cfg->memory_mb = 256;
	cfg->seconds = 0;
	cfg->instructions = 500000000;
	if (!(cfg->pg_bindir = strdup("auto")) || !(cfg->pg_os_user = strdup("postgres")) ||
	    !(cfg->backup_globals = strdup("roles")) || !(cfg->backup_verify = strdup("content")))
		return cfg_oom(l);
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
	if (!cfg->backups_dir && !(cfg->backups_dir = cfg_resolve(cfg->dir, "ops/_backups")))
		return cfg_oom(l);
	if (!cfg->evidence_dir && !(cfg->evidence_dir = cfg_resolve(cfg->dir, "ops/_local/evidence")))
		return cfg_oom(l);
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
		free(cfg->targets[i].engine);
		free(cfg->targets[i].pgbr_stanza);
		free(cfg->targets[i].pgbr_config);
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
	free_argv_list(&cfg->app_state);
	free_argv_list(&cfg->drill_up);
	free_argv_list(&cfg->drill_check);
	free_argv_list(&cfg->drill_down);
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
