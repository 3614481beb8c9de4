/* dbarchive.c - the database itself as a pg_dump archive holds it
 * (dbarchive.h). */
#include "dbarchive.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exec.h"

static int starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

int ff_dba_list_line(const char *line, ff_dba_part part)
{
	/* "3344; 1262 16386 DATABASE - my.db owner1": id; tableoid oid desc … */
	const char *p = line;
	while (*p == ' ')
		p++;
	if (*p < '0' || *p > '9')
		return 0;
	p += strspn(p, "0123456789");
	if (*p++ != ';')
		return 0;
	for (int field = 0; field < 2; field++) {
		p += strspn(p, " ");
		if (*p < '0' || *p > '9')
			return 0;
		p += strspn(p, "0123456789");
	}
	if (*p++ != ' ')
		return 0;
	if (part == FF_DBA_CREATE)
		return starts(p, "DATABASE - ");
	if (part == FF_DBA_SEQUENCES)
		return starts(p, "SEQUENCE SET ");
	return starts(p, "DATABASE PROPERTIES - ") || starts(p, "COMMENT - DATABASE ") ||
	       starts(p, "ACL - DATABASE ") || starts(p, "SECURITY LABEL - DATABASE ");
}

/* The identifier at s, as pg_dump writes one: "quoted" ("" inside) or
 * plain lower case. Its end in *end, its value malloc'd; NULL when none. */
static char *ident_at(const char *s, const char **end)
{
	size_t n = 0;
	char *v;
	if (*s == '"') {
		const char *p = s + 1;
		v = malloc(strlen(s) + 1);
		if (!v)
			return NULL;
		for (;;) {
			if (!*p) {
				free(v);
				return NULL;
			}
			if (*p == '"' && p[1] == '"') {
				v[n++] = '"';
				p += 2;
			} else if (*p == '"') {
				p++;
				break;
			} else {
				v[n++] = *p++;
			}
		}
		v[n] = '\0';
		*end = p;
		return v;
	}
	const char *p = s;
	while ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_' || *p == '$' ||
	       (unsigned char)*p >= 0x80)
		p++;
	if (p == s)
		return NULL;
	n = (size_t)(p - s);
	if (!(v = malloc(n + 1)))
		return NULL;
	memcpy(v, s, n);
	v[n] = '\0';
	*end = p;
	return v;
}

/* Where in stmt the database's name begins, or NULL when stmt is no
 * statement of a database entry. */
static const char *name_at(const char *stmt)
{
	static const char *const direct[] = { "CREATE DATABASE ", "ALTER DATABASE ",
					      "COMMENT ON DATABASE ", NULL };
	for (int i = 0; direct[i]; i++)
		if (starts(stmt, direct[i]))
			return stmt + strlen(direct[i]);
	const char *after = NULL, *end = NULL;
	char *v = NULL;
	if (starts(stmt, "ALTER ROLE ")) {
		v = ident_at(stmt + strlen("ALTER ROLE "), &end);
		after = " IN DATABASE ";
	} else if (starts(stmt, "SECURITY LABEL FOR ")) {
		v = ident_at(stmt + strlen("SECURITY LABEL FOR "), &end);
		after = " ON DATABASE ";
	} else if (starts(stmt, "GRANT ") || starts(stmt, "REVOKE ")) {
		/* The privileges before it are key words: the first ON DATABASE. */
		const char *on = strstr(stmt, " ON DATABASE ");
		return on ? on + strlen(" ON DATABASE ") : NULL;
	}
	free(v);
	if (!v || !starts(end, after))
		return NULL;
	return end + strlen(after);
}

static int push(ff_dba_stmts *out, char *s, ff_err *e)
{
	char **v = realloc(out->v, (out->n + 1) * sizeof(*v));
	if (!v) {
		free(s);
		return ff_err_set(e, FF_EINTERNAL, "out of memory");
	}
	out->v = v;
	out->v[out->n++] = s;
	return 0;
}

/* One statement (without its ';'), renamed onto out; settings skipped. */
static int one(ff_dba_stmts *out, const char *stmt, const char *from, const char *to_quoted,
	       ff_err *e)
{
	/* The script's encoding is kept: its names and comments are in the
	 * database's, and the server must read them so. */
	if (starts(stmt, "SET client_encoding = ")) {
		char *s = strdup(stmt);
		return s ? push(out, s, e) : ff_err_set(e, FF_EINTERNAL, "out of memory");
	}
	if (starts(stmt, "SET ") || starts(stmt, "SELECT pg_catalog.set_config("))
		return 0;
	const char *at = name_at(stmt), *end = NULL;
	char *name = at ? ident_at(at, &end) : NULL;
	if (!name)
		return ff_err_set(e, FF_EFAIL, "the archive's database entries hold a statement ffrun does not know: %.200s",
				  stmt);
	int other = strcmp(name, from) != 0;
	free(name);
	if (other)
		return ff_err_set(e, FF_EFAIL, "the archive's database entries name another database than %s: %.200s",
				  from, stmt);
	char *s = NULL;
	if (asprintf(&s, "%.*s%s%s", (int)(at - stmt), stmt, to_quoted, end) < 0)
		return ff_err_set(e, FF_EINTERNAL, "out of memory");
	return push(out, s, e);
}

int ff_dba_rewrite(ff_dba_stmts *out, const char *sql, const char *from, const char *to_quoted,
		   ff_err *e)
{
	const char *p = sql;
	out->v = NULL;
	out->n = 0;
	while (*p) {
		p += strspn(p, " \t\r\n");
		if (!*p)
			break;
		/* A comment or one of psql's meta-commands (\connect, \restrict)
		 * fills its line. */
		if (starts(p, "--") || *p == '\\') {
			p += strcspn(p, "\n");
			continue;
		}
		const char *q = p;
		char quote = 0;
		for (; *q && (quote || *q != ';'); q++) {
			if (quote && *q == quote)
				quote = 0;
			else if (!quote && (*q == '\'' || *q == '"'))
				quote = *q;
		}
		if (!*q) {
			ff_dba_stmts_free(out);
			return ff_err_set(e, FF_EFAIL, "the archive's database entries end inside a statement: %.200s", p);
		}
		char *stmt = strndup(p, (size_t)(q - p));
		int rc = stmt ? one(out, stmt, from, to_quoted, e)
			      : ff_err_set(e, FF_EINTERNAL, "out of memory");
		free(stmt);
		if (rc < 0) {
			ff_dba_stmts_free(out);
			return rc;
		}
		p = q + 1;
	}
	return 0;
}

void ff_dba_stmts_free(ff_dba_stmts *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

/* pg_restore argv into out (its stdout), or an error naming what failed. */
static int run(ff_exec_gather *out, const char *const *argv, const ff_dba_opts *o, ff_err *e)
{
	ff_exec_opts x = { .env = o->env, .out_fd = o->log_fd, .tail_max = 2048, .cancel = o->cancel,
			   .timeout_s = 600, .stdout_sink = ff_exec_gather_sink, .stdout_arg = out };
	ff_exec_result res = {0};
	int rc = ff_exec_run(&res, argv, &x, e);
	if (rc == 0 && !(res.exited && res.status == 0)) {
		char tail[600];
		snprintf(tail, sizeof(tail), "%s", res.tail ? res.tail : "");
		tail[strcspn(tail, "\n")] = '\0';
		rc = ff_err_set(e, FF_EFAIL, "pg_restore failed on %s: %s", o->archive,
				res.timed_out ? "stopped" : tail);
	}
	ff_exec_result_free(&res);
	return rc;
}

/* pg_restore's script of the entries of part into *out (malloc'd; NULL
 * when the archive has none). */
static int script(char **out, ff_dba_part part, const ff_dba_opts *o, ff_err *e)
{
	/* A few kilobytes: these entries only; over 64 MiB is refused. */
	ff_exec_gather list = { .refuse = 1 }, text = { .refuse = 1 };
	char path[4096];
	int rc, fd = -1;
	*out = NULL;
	const char *list_argv[] = { o->pg_restore, "--create", "--list", o->archive, NULL };
	if ((rc = run(&list, list_argv, o, e)) < 0)
		goto done;
	snprintf(path, sizeof(path), "%s/archive-entries.list", o->tmpdir);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0) {
		rc = ff_err_set(e, FF_EFAIL, "%s: %s", path, strerror(errno));
		goto done;
	}
	int chosen = 0;
	char *save = NULL;
	for (char *line = list.buf ? strtok_r(list.buf, "\n", &save) : NULL; line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (!ff_dba_list_line(line, part))
			continue;
		chosen++;
		if (dprintf(fd, "%s\n", line) < 0) {
			rc = ff_err_set(e, FF_EFAIL, "%s: %s", path, strerror(errno));
			goto done;
		}
	}
	close(fd);
	fd = -1;
	if (!chosen)
		goto done;
	char larg[4200];
	snprintf(larg, sizeof(larg), "--use-list=%s", path);
	/* --create only for the database's own entries: a sequence's value
	 * belongs to no CREATE DATABASE. */
	const char *with_create[] = { o->pg_restore, "--create", larg, "--file=-", o->archive, NULL };
	const char *without[] = { o->pg_restore, larg, "--file=-", o->archive, NULL };
	const char *const *sql_argv = part == FF_DBA_SEQUENCES ? without : with_create;
	if ((rc = run(&text, sql_argv, o, e)) == 0) {
		*out = text.buf ? text.buf : strdup("");
		text.buf = NULL;
		if (!*out)
			rc = ff_err_set(e, FF_EINTERNAL, "out of memory");
	}
done:
	if (fd >= 0)
		close(fd);
	free(list.buf);
	free(text.buf);
	return rc;
}

/* 1 when stmt (renamed) is one of the DATABASE entry's own: the CREATE
 * and the owner. pg_restore --create prints the DATABASE PROPERTIES with
 * the DATABASE entry whichever of them the list chose. */
static int creates(const char *stmt, const char *to_quoted)
{
	if (starts(stmt, "CREATE DATABASE "))
		return 1;
	size_t n = strlen("ALTER DATABASE ");
	return starts(stmt, "ALTER DATABASE ") && starts(stmt + n, to_quoted) &&
	       starts(stmt + n + strlen(to_quoted), " OWNER TO ");
}

int ff_dba_statements(ff_dba_stmts *out, ff_dba_part part, const ff_dba_opts *o, ff_err *e)
{
	char *sql = NULL;
	out->v = NULL;
	out->n = 0;
	int rc = script(&sql, part, o, e);
	if (rc == 0 && sql)
		rc = ff_dba_rewrite(out, sql, o->from, o->to_quoted, e);
	free(sql);
	/* Keep the part's own, in their order. */
	size_t kept = 0;
	for (size_t i = 0; i < out->n; i++) {
		if (starts(out->v[i], "SET client_encoding = ") ||
		    creates(out->v[i], o->to_quoted) == (part == FF_DBA_CREATE))
			out->v[kept++] = out->v[i];
		else
			free(out->v[i]);
	}
	out->n = kept;
	return rc;
}

int ff_dba_parse_setvals(ff_dba_setvals *out, const char *sql, ff_err *e)
{
	static const char head[] = "SELECT pg_catalog.setval('";
	out->v = NULL;
	out->n = 0;
	for (const char *p = sql; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		if (!starts(p, head))
			continue;
		/* 'name' with '' inside, then ", value, true|false);" */
		const char *q = p + sizeof(head) - 1;
		size_t cap = strcspn(q, "\n") + 1, n = 0;
		char *name = malloc(cap);
		if (!name) {
			ff_dba_setvals_free(out);
			return ff_err_set(e, FF_EINTERNAL, "out of memory");
		}
		while (*q && *q != '\n' && !(*q == '\'' && q[1] != '\'')) {
			if (*q == '\'')
				q++;
			name[n++] = *q++;
		}
		name[n] = '\0';
		char called[8] = "";
		long long value = 0;
		int used = 0;
		if (*q != '\'' || sscanf(q, "', %lld, %7[a-z]);%n", &value, called, &used) != 2 || !used ||
		    (strcmp(called, "true") && strcmp(called, "false"))) {
			free(name);
			ff_dba_setvals_free(out);
			return ff_err_set(e, FF_EFAIL, "the archive sets a sequence in a way ffrun does not know: %.200s", p);
		}
		ff_dba_setval *v = realloc(out->v, (out->n + 1) * sizeof(*v));
		if (!v) {
			free(name);
			ff_dba_setvals_free(out);
			return ff_err_set(e, FF_EINTERNAL, "out of memory");
		}
		out->v = v;
		out->v[out->n++] = (ff_dba_setval){ name, value, !strcmp(called, "true") };
	}
	return 0;
}

int ff_dba_sequences(ff_dba_setvals *out, const ff_dba_opts *o, ff_err *e)
{
	char *sql = NULL;
	out->v = NULL;
	out->n = 0;
	int rc = script(&sql, FF_DBA_SEQUENCES, o, e);
	if (rc == 0 && sql)
		rc = ff_dba_parse_setvals(out, sql, e);
	free(sql);
	return rc;
}

void ff_dba_setvals_free(ff_dba_setvals *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i].qname);
	free(s->v);
	s->v = NULL;
	s->n = 0;
}
