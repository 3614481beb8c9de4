/* pgbackrest.c - one pgBackRest command as a child process under exec.c's
 * rules: fixed path, argv built here, scrubbed environment (libpq's and
 * pgBackRest's own PG* variables pass), as postgres.os_user when root. */
#include <sys/types.h>

#include "pgbackrest.h"

#include <ctype.h>
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exec.h"
#include "pg.h"

#define MAX_ARGS 24

int ff_pgbr_run(ff_pgbr_result *r, const ff_pgbr_opts *o, const char *const *args, ff_err *e)
{
	char config[4200], stanza[96];
	const char *argv[MAX_ARGS + 4];
	size_t n = 0;
	memset(r, 0, sizeof(*r));
	if (access(FF_PGBACKREST_BIN, X_OK) < 0)
		return ff_err_set(e, FF_EFAIL, "%s: %s (install Debian's pgbackrest package)",
				  FF_PGBACKREST_BIN, strerror(errno));
	snprintf(config, sizeof(config), "--config=%s", o->config);
	snprintf(stanza, sizeof(stanza), "--stanza=%s", o->stanza);
	argv[n++] = FF_PGBACKREST_BIN;
	argv[n++] = config;
	argv[n++] = stanza;
	for (size_t i = 0; args[i]; i++) {
		if (i >= MAX_ARGS)
			return ff_err_set(e, FF_EINTERNAL, "pgbackrest: too many arguments");
		argv[n++] = args[i];
	}
	argv[n] = NULL;
	/* A killed ffrun takes pgBackRest along (SIGTERM: it stops cleanly,
	 * its lock released; a backup it left is resumed or removed by
	 * pgBackRest's next one), never leaving it working alone. */
	ff_exec_opts x = { .out_fd = o->log_fd, .timeout_s = o->timeout_s, .cancel = o->cancel,
			   .tail_max = 2048, .die_with_parent = 1 };
	if (geteuid() == 0) {
		struct passwd *pw = getpwnam(o->os_user ? o->os_user : "postgres");
		if (!pw)
			return ff_err_set(e, FF_EFAIL, "postgres.os_user %s: no such user",
					  o->os_user ? o->os_user : "postgres");
		x.as_user = 1;
		x.run_as = pw->pw_uid;
		x.run_as_gid = pw->pw_gid;
		x.cwd = "/";
	}
	ff_exec_gather s = { .max = o->out_max ? o->out_max : 4u << 20 };
	x.stdout_sink = ff_exec_gather_sink;
	x.stdout_arg = &s;
	char **env = ff_pg_env();
	if (!env)
		return ff_err_set(e, FF_EFAIL, "pgbackrest: out of memory");
	x.env = (const char *const *)env;
	ff_exec_result xr = {0};
	int rc = ff_exec_run(&xr, argv, &x, e);
	ff_pg_env_free(env);
	if (rc < 0) {
		free(s.buf);
		ff_exec_result_free(&xr);
		return rc;
	}
	if (!s.buf && !(s.buf = calloc(1, 1))) {
		ff_exec_result_free(&xr);
		return ff_err_set(e, FF_EFAIL, "pgbackrest: out of memory");
	}
	r->ok = xr.exited && xr.status == 0;
	r->code = xr.status;
	r->timed_out = xr.timed_out;
	r->out = s.buf;
	r->out_len = s.len;
	r->out_cut = s.cut;
	r->tail = xr.tail;
	r->duration_s = xr.duration_s;
	xr.tail = NULL;
	ff_exec_result_free(&xr);
	return 0;
}

void ff_pgbr_result_free(ff_pgbr_result *r)
{
	free(r->out);
	free(r->tail);
	r->out = r->tail = NULL;
}

int ff_pgbr_pg1_path(const ff_pgbr_opts *o, char *out, size_t cap, ff_err *e)
{
	static const char *const args[] = { "help", "restore", "pg1-path", NULL };
	ff_pgbr_result r;
	int rc = ff_pgbr_run(&r, o, args, e);
	if (rc < 0)
		return rc;
	/* The help text ends with "current: PATH" when the option is set. */
	const char *p = r.ok ? strstr(r.out, "\ncurrent: ") : NULL;
	size_t n = p ? strcspn(p + 10, "\n") : 0;
	if (!r.ok)
		rc = ff_err_set(e, FF_EFAIL, "pgbackrest help restore pg1-path failed (exit %d): %s", r.code,
				r.tail ? r.tail : "");
	else if (!p || n == 0 || p[10] != '/')
		rc = ff_err_set(e, FF_EFAIL, "stanza %s: pgBackRest has no pg1-path for it in %s", o->stanza, o->config);
	else if (n >= cap)
		rc = ff_err_set(e, FF_EFAIL, "stanza %s: pg1-path is longer than %zu bytes", o->stanza, cap - 1);
	else
		snprintf(out, cap, "%.*s", (int)n, p + 10);
	ff_pgbr_result_free(&r);
	return rc;
}

int ff_pgbr_valid_lsn(const char *s)
{
	size_t a = strspn(s, "0123456789ABCDEFabcdef");
	if (a == 0 || a > 8 || s[a] != '/')
		return 0;
	size_t b = strspn(s + a + 1, "0123456789ABCDEFabcdef");
	return b > 0 && b <= 8 && s[a + 1 + b] == '\0';
}

int ff_pgbr_valid_time(const char *s)
{
	size_t n = strlen(s);
	if (n < 10 || n > 64 || !isdigit((unsigned char)s[0]))
		return 0;
	for (const char *p = s; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("-:. +/_", *p))
			return 0;
	return 1;
}

int ff_pgbr_valid_name(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 63 || s[0] == '-')
		return 0;
	for (const char *p = s; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("_-.:", *p))
			return 0;
	return 1;
}

int ff_pgbr_valid_type(const char *s)
{
	return !strcmp(s, "full") || !strcmp(s, "diff") || !strcmp(s, "incr");
}
