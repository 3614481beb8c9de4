/* l_pg_dump.c - ff.pg's dump tools: pg_dump as a job (ff.pg.dump, the
 * pipeline in core/dump.c), pg_dumpall --globals-only, pg_restore reading
 * an archive (archive_list, archive_read) and the tools' versions. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/dbarchive.h"
#include "core/dump.h"
#include "core/exec.h"
#include "lua/l_pg.h"

typedef struct job {
	ff_dump *d; /* NULL once collected (or never started) */
	int dry;    /* a rehearsal's planned dump: wait() answers the plan */
	int major;  /* the server's, for pg_restore --list after the dump */
	char out[PATH_MAX];
} job;

#define SETVALS_MT "ff.pg.setvals" /* the archive's sequence values being pushed */

static int run_pg_restore(lua_State *L, const char *path, int major, const char *const *extra,
			  int keep_output, void **tail, int *ok, int *ran, char raw[256], ff_err *e);
static int tool_version(lua_State *L, const char *tool, int major, char line[300], ff_err *e);

/* __gc and __close: a job never waited for is stopped. Idempotent. */
static int job_gc(lua_State *L)
{
	job *h = ff_handle_check(L, 1, DUMP_MT);
	ff_dump_free(h->d);
	h->d = NULL;
	return 0;
}

/* Open the dump's files (out through the jail, created; the logs in
 * raw/, raw naming the tool's) and start it (run it to the end with
 * sync) into h. No push from the first open on: until ff_dump_* owns the
 * fds, a raise would leak them. */
static void open_and_start(lua_State *L, job *h, ff_dump_opts *o, const char *out, int sync,
			   char raw[256])
{
	ff_ctx *ctx = ff_ctx_of(L);
	ff_err e = {0};
	char logname[64], scan_raw[256];
	snprintf(logname, sizeof(logname), "%s.log", o->label);
	o->out_fd = o->log_fd = o->scan_log_fd = -1;
	/* Read-write: the stream fingerprints read the archive back from it. */
	if (ff_jail_open(&o->out_fd, &ctx->jail, out, O_RDWR | O_CREAT | O_EXCL, 0600, &e) < 0)
		goto fail;
	if (ff_evidence_raw_open(&ctx->ev, &o->log_fd, raw, logname, &e) < 0)
		goto fail;
	if (o->scan_argv &&
	    ff_evidence_raw_open(&ctx->ev, &o->scan_log_fd, scan_raw, "pg_restore-scan.log", &e) < 0)
		goto fail;
	if ((sync ? ff_dump_run(&h->d, o, &e) : ff_dump_start(&h->d, o, &e)) < 0)
		ff_raise(L, &e); /* the fds are closed */
	return;
fail:
	if (o->out_fd >= 0)
		close(o->out_fd);
	if (o->log_fd >= 0)
		close(o->log_fd);
	ff_raise(L, &e);
}

/* result.tables = { {schema, name, rows, content_sha256?}… } in the
 * archive's order, or result.fingerprint_error saying why there are none. */
static void push_stream_fingerprints(lua_State *L, const ff_dump_result *r)
{
	if (r->fp_error[0]) {
		lua_pushstring(L, r->fp_error);
		lua_setfield(L, -2, "fingerprint_error");
		return;
	}
	size_t n = ff_copyscan_count(r->scan);
	lua_createtable(L, (int)n, 0);
	for (size_t i = 0; i < n; i++) {
		const ff_copyscan_table *t = ff_copyscan_get(r->scan, i);
		lua_createtable(L, 0, 4);
		lua_pushstring(L, t->schema);
		lua_setfield(L, -2, "schema");
		lua_pushstring(L, t->name);
		lua_setfield(L, -2, "name");
		lua_pushinteger(L, (lua_Integer)t->rows);
		lua_setfield(L, -2, "rows");
		if (r->content) {
			char hex[FF_SHA256_HEX];
			ff_pg_sum_hex(hex, t->sum);
			lua_pushstring(L, hex);
			lua_setfield(L, -2, "content_sha256");
		}
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	lua_setfield(L, -2, "tables");
}

/* The result table of a finished job (held by its handle: a raise here
 * leaves it to __gc). */
static void push_result(lua_State *L, const ff_dump_result *r, const char *raw)
{
	lua_createtable(L, 0, 8);
	lua_pushboolean(L, r->ok);
	lua_setfield(L, -2, "ok");
	lua_pushinteger(L, (lua_Integer)r->bytes);
	lua_setfield(L, -2, "bytes");
	lua_pushstring(L, r->sha256);
	lua_setfield(L, -2, "sha256");
	lua_pushnumber(L, r->duration_s);
	lua_setfield(L, -2, "duration_s");
	lua_pushstring(L, raw);
	lua_setfield(L, -2, "raw");
	if (!r->ok) {
		lua_pushstring(L, r->error);
		lua_setfield(L, -2, "error");
	}
	if (r->fingerprinted)
		push_stream_fingerprints(L, r);
}

/* A planned dump's or globals' result: the real result's shape, pushed by
 * the same code, with values that say it is planned. */
static void push_planned(lua_State *L)
{
	ff_dump_result r;
	memset(&r, 0, sizeof(r));
	r.ok = 1;
	snprintf(r.sha256, sizeof(r.sha256), "(planned)");
	push_result(L, &r, "(planned)");
	lua_pushboolean(L, 1);
	lua_setfield(L, -2, "dry_run");
}

/* pg_dump's session is pinned to the settings conn:fingerprint uses (its
 * DateStyle, IntervalStyle and extra_float_digits are pg_dump's already),
 * so pg_dump and the scanner's pg_restore read the same COPY text. The
 * runbook asks for stream fingerprints only for a UTF8 database. */
static const char *const fingerprint_env[] = {
	"PGTZ=UTC", "PGCLIENTENCODING=UTF8", "PGOPTIONS=-c bytea_output=hex", NULL
};

/* ff.pg.dump{ target=, out=, snapshot=, major=, estimate_bytes=, estimate_about=,
 *             fingerprint= } -> job
 * estimate_bytes bounds the archive's size (the database's: compression
 * makes it smaller), or with estimate_about = true is an estimate of it
 * (the last dump's): the progress line's ETA is "≤" or "≈".
 * pg_dump -Fc of the target's database, in the exported snapshot, streamed
 * through sha256 into out in one pass. job:wait() -> result. */
int lpg_dump(lua_State *L)
{
	ff_ctx *ctx = ff_ctx_of(L);
	luaL_checktype(L, 1, LUA_TTABLE);
	const char *name = lpg_opt_str(L, 1, "target", 1);
	const char *out = lpg_opt_str(L, 1, "out", 1);
	const char *snap = lpg_opt_str(L, 1, "snapshot", 0);
	int major = lpg_opt_int(L, 1, "major", 0);
	const ff_target *t = lpg_target_of(L, name);
	char tool[PATH_MAX], restore[PATH_MAX], snaparg[128], raw[256];
	ff_err e = {0};

	if (ff_pg_tool(tool, ctx->cfg->pg_bindir, major, "pg_dump", &e) < 0)
		return ff_raise(L, &e);
	const char *argv[8];
	int k = 0;
	argv[k++] = tool;
	argv[k++] = "--format=custom";
	argv[k++] = "--no-password";
	if (snap) {
		snprintf(snaparg, sizeof(snaparg), "--snapshot=%s", snap);
		argv[k++] = snaparg;
	}
	lua_pushfstring(L, "--dbname=%s", t->conninfo ? t->conninfo : "");
	argv[k++] = lua_tostring(L, -1);
	argv[k] = NULL;
	lua_getfield(L, 1, "estimate_bytes");
	lua_Integer estimate = luaL_optinteger(L, -1, 0);
	lua_pop(L, 1);
	lua_getfield(L, 1, "estimate_about");
	int about = lua_toboolean(L, -1);
	lua_pop(L, 1);
	const char *fp = lpg_opt_str(L, 1, "fingerprint", 0);
	if (fp && strcmp(fp, "rows") && strcmp(fp, "content"))
		return luaL_error(L, "pg.dump: fingerprint must be \"rows\" or \"content\"");
	const char *scan_argv[] = { restore, "--data-only", "--file=-", NULL };
	if (fp && ff_pg_tool(restore, ctx->cfg->pg_bindir, major, "pg_restore", &e) < 0)
		return ff_raise(L, &e);

	ff_dump_opts o = {
		.label = "pg_dump", .argv = argv,
		.estimate = estimate > 0 ? (uint64_t)estimate : 0,
		.estimate_kind = about ? FF_PROGRESS_ABOUT : FF_PROGRESS_BOUND,
		.line = &ctx->progress, .quiet = ctx->quiet || ctx->json, .cancel = &ctx->cancel,
		.env_extra = fp ? fingerprint_env : NULL, .scan_argv = fp ? scan_argv : NULL,
		.scan_content = fp && !strcmp(fp, "content"),
	};
	job *h = ff_handle_new(L, DUMP_MT, sizeof(*h), 1);
	h->major = major;
	snprintf(h->out, sizeof(h->out), "%s", out);
	open_and_start(L, h, &o, out, 0, raw);
	lua_pushstring(L, raw);
	lua_setiuservalue(L, -2, 1);
	return 1;
}

/* result.toc: the finished archive's table of contents as stock
 * pg_restore --list reads it (the read-back every backup makes before it
 * calls the archive one), or result.toc_error saying why there is none. */
static void push_toc(lua_State *L, job *h)
{
	static const char *const list[] = { "--list", NULL };
	int ok = 0, ran = 0;
	char raw[256];
	ff_err e = {0};
	void **tail = lpg_mem_box(L);
	int rc = run_pg_restore(L, h->out, h->major, list, 1, tail, &ok, &ran, raw, &e);
	if (rc == 0 && ok) {
		lua_pushstring(L, *tail ? (const char *)*tail : "");
		lua_setfield(L, -3, "toc");
	} else {
		if (rc == 0)
			snprintf(e.msg, sizeof(e.msg), "pg_restore --list failed: %.900s",
				 *tail ? (const char *)*tail : "");
		e.msg[strcspn(e.msg, "\n")] = '\0';
		lua_pushstring(L, e.msg);
		lua_setfield(L, -3, "toc_error");
	}
	lua_pop(L, 1); /* the box */
}

static int setvals_gc(lua_State *L)
{
	ff_dba_setvals_free(ff_handle_check(L, 1, SETVALS_MT));
	return 0;
}

/* The result's sequences: each one's value as the archive sets it, read
 * back from the archive (pg_dump reads a sequence when it dumps it,
 * outside any snapshot: a restore gives this value, not what a second
 * reader saw). { {qname=, last_value= (text), is_called=}… }, qname as pg_dump
 * qualifies and quotes it (format('%I.%I') gives the same); or
 * sequences_error; sequences_s: how long reading them back took. */
static void push_sequences(lua_State *L, job *h)
{
	ff_ctx *ctx = ff_ctx_of(L);
	double t0 = ff_time_mono();
	char tool[PATH_MAX], raw[256];
	ff_err e = {0};
	int log_fd = -1, rc;
	const char *tmp = NULL;
	ff_dba_setvals *v = ff_handle_new(L, SETVALS_MT, sizeof(*v), 0);
	if ((rc = ff_pg_tool(tool, ctx->cfg->pg_bindir, h->major, "pg_restore", &e)) == 0 &&
	    (rc = (tmp = ff_run_tmp(ctx, &e)) ? 0 : FF_EFAIL) == 0 &&
	    (rc = ff_evidence_raw_open(&ctx->ev, &log_fd, raw, "pg_restore-sequences.log", &e)) == 0) {
		/* No Lua call until the log and the environment are let go. */
		char **env = ff_pg_env();
		ff_dba_opts o = { .pg_restore = tool, .archive = h->out, .tmpdir = tmp,
				  .env = (const char *const *)env, .log_fd = log_fd,
				  .cancel = &ctx->cancel };
		rc = ff_dba_sequences(v, &o, &e);
		ff_pg_env_free(env);
		close(log_fd);
	}
	lua_pushnumber(L, ff_time_mono() - t0);
	lua_setfield(L, -3, "sequences_s");
	if (rc < 0) {
		lua_pushstring(L, e.msg);
		lua_setfield(L, -3, "sequences_error");
		lua_pop(L, 1);
		return;
	}
	lua_createtable(L, (int)v->n, 0);
	for (size_t i = 0; i < v->n; i++) {
		lua_createtable(L, 0, 3);
		lua_pushstring(L, v->v[i].qname);
		lua_setfield(L, -2, "qname");
		/* Text, as the server prints it: JSON numbers lose the low
		 * digits of a bigint. */
		lua_pushfstring(L, "%I", (lua_Integer)v->v[i].value);
		lua_setfield(L, -2, "last_value");
		lua_pushboolean(L, v->v[i].is_called);
		lua_setfield(L, -2, "is_called");
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	lua_setfield(L, -3, "sequences");
	lua_pop(L, 1); /* the box */
}

/* A planned dump's result: the real shape, the values saying it is
 * planned; its table of contents names only the pg_dump that would write
 * it (that tool's --version, so a missing pg_dump fails here as there). */
static int dry_job_wait(lua_State *L, job *h)
{
	char version[300], toc[512];
	ff_err e = {0};
	if (h->dry == 2)
		return luaL_error(L, "dump: already finished");
	h->dry = 2;
	if (tool_version(L, "pg_dump", h->major, version, &e) < 0)
		return ff_raise(L, &e);
	/* "pg_dump (PostgreSQL) 16.2 (Debian 16.2-1)": what follows the
	 * product name, as pg_dump writes it in an archive's header. */
	const char *v = strstr(version, "(PostgreSQL) ");
	snprintf(toc, sizeof(toc), ";\n; Archive created at (planned)\n;     Dumped by pg_dump version: %s\n;\n",
		 v ? v + 13 : version);
	push_planned(L);
	lua_pushstring(L, toc);
	lua_setfield(L, -2, "toc");
	lua_newtable(L); /* a planned archive sets no sequence */
	lua_setfield(L, -2, "sequences");
	lua_pushnumber(L, 0);
	lua_setfield(L, -2, "sequences_s");
	lua_getiuservalue(L, 1, 1); /* fingerprint= was asked: none streamed */
	if (lua_toboolean(L, -1)) {
		lua_newtable(L);
		lua_setfield(L, -3, "tables");
	}
	lua_pop(L, 1);
	return 1;
}

/* job:wait() -> { ok, bytes, sha256, duration_s, raw, error, tables | fingerprint_error } */
static int job_wait(lua_State *L)
{
	job *h = ff_handle_check(L, 1, DUMP_MT);
	if (h->dry)
		return dry_job_wait(L, h);
	if (!h->d)
		return luaL_error(L, "dump: already finished");
	ff_dump_wait(h->d);
	const ff_dump_result *r = ff_dump_result_of(h->d);
	lua_getiuservalue(L, 1, 1);
	push_result(L, r, lua_tostring(L, -1));
	if (r->ok) {
		push_toc(L, h);
		push_sequences(L, h);
	}
	ff_dump_free(h->d);
	h->d = NULL;
	return 1;
}

/* ff.pg.globals{ target=, out=, passwords=false, major= } -> result
 * pg_dumpall --globals-only (roles, tablespaces), by default without role
 * password hashes: they are secrets. */
int lpg_globals(lua_State *L)
{
	ff_ctx *ctx = ff_ctx_of(L);
	luaL_checktype(L, 1, LUA_TTABLE);
	const char *name = lpg_opt_str(L, 1, "target", 1);
	const char *out = lpg_opt_str(L, 1, "out", 1);
	int major = lpg_opt_int(L, 1, "major", 0);
	lua_getfield(L, 1, "passwords");
	int passwords = lua_toboolean(L, -1);
	lua_pop(L, 1);
	const ff_target *t = lpg_target_of(L, name);
	char tool[PATH_MAX], raw[256];
	ff_err e = {0};
	if (ff_pg_tool(tool, ctx->cfg->pg_bindir, major, "pg_dumpall", &e) < 0)
		return ff_raise(L, &e);
	lua_pushfstring(L, "--dbname=%s", t->conninfo ? t->conninfo : "");
	const char *argv[6] = { tool, "--globals-only", "--no-password", lua_tostring(L, -1), NULL, NULL };
	if (!passwords)
		argv[4] = "--no-role-passwords";
	ff_dump_opts o = { .label = "pg_dumpall", .argv = argv, .line = &ctx->progress,
			   .quiet = 1, .cancel = &ctx->cancel };
	job *h = ff_handle_new(L, DUMP_MT, sizeof(*h), 1);
	open_and_start(L, h, &o, out, 1, raw);
	ff_dump_wait(h->d);
	push_result(L, ff_dump_result_of(h->d), raw);
	return 1;
}

/* pg_restore with extra arguments on the archive at path (readable
 * through the jail), its output in raw/ and, up to 1 MiB when keep_output,
 * in *tail (a mem box already pushed: freed if a later push raises).
 * Returns 0 with *ok set, or a negative code with e: *ran says whether
 * pg_restore was started (before it: the jail, the tool, the log, which
 * callers raise; after it: an operational failure). No push of its own. */
static int run_pg_restore(lua_State *L, const char *path, int major, const char *const *extra,
			  int keep_output, void **tail, int *ok, int *ran, char raw[256], ff_err *e)
{
	ff_ctx *ctx = ff_ctx_of(L);
	char tool[PATH_MAX];
	int fd, log_fd, rc;
	if ((rc = ff_jail_open(&fd, &ctx->jail, path, O_RDONLY, 0, e)) < 0)
		return rc;
	close(fd);
	if ((rc = ff_pg_tool(tool, ctx->cfg->pg_bindir, major, "pg_restore", e)) < 0)
		return rc;
	const char *argv[8];
	int k = 0;
	argv[k++] = tool;
	for (; *extra; extra++)
		argv[k++] = *extra;
	argv[k++] = path;
	argv[k] = NULL;
	if ((rc = ff_evidence_raw_open(&ctx->ev, &log_fd, raw,
				       keep_output ? "pg_restore-list.txt" : "pg_restore-read.log", e)) < 0)
		return rc;
	char **env = ff_pg_env();
	ff_exec_opts o = { .env = (const char *const *)env, .out_fd = log_fd,
			   .tail_max = keep_output ? (1u << 20) : 2048, .cancel = &ctx->cancel };
	ff_exec_result res = {0};
	*ran = 1;
	rc = ff_exec_run(&res, argv, &o, e);
	*ok = res.exited && res.status == 0;
	ff_pg_env_free(env);
	close(log_fd);
	*tail = res.tail;
	res.tail = NULL;
	ff_exec_result_free(&res);
	return rc;
}

/* Run a PostgreSQL tool on an archive: ok, output, raw. */
static int archive_tool(lua_State *L, const char *const *extra, int keep_output)
{
	const char *path = luaL_checkstring(L, 1);
	int major = (int)luaL_optinteger(L, 2, 0), ok = 0, ran = 0;
	char raw[256];
	ff_err e = {0};
	void **tail = lpg_mem_box(L);
	int rc = run_pg_restore(L, path, major, extra, keep_output, tail, &ok, &ran, raw, &e);
	if (rc < 0)
		return ran ? ff_fail(L, &e) : ff_raise(L, &e);
	lua_pushboolean(L, ok);
	lua_pushstring(L, *tail ? *tail : "");
	lua_pushstring(L, raw);
	return 3;
}

int lpg_archive_list(lua_State *L)
{
	static const char *const extra[] = { "--list", NULL };
	return archive_tool(L, extra, 1);
}

/* ff.pg.archive_read(path) -> ok, message, raw: reads the whole archive
 * (pg_restore -f /dev/null); --list alone passes on a truncated one. */
int lpg_archive_read(lua_State *L)
{
	static const char *const extra[] = { "--file=/dev/null", NULL };
	return archive_tool(L, extra, 0);
}

/* ff.pg.version(tool, major) -> "pg_dump (PostgreSQL) 15.8" | nil, msg, code */
/* tool --version's first line ("pg_dump (PostgreSQL) 15.8") into line. */
static int tool_version(lua_State *L, const char *tool, int major, char line[300], ff_err *e)
{
	ff_ctx *ctx = ff_ctx_of(L);
	char path[PATH_MAX];
	int rc;
	if ((rc = ff_pg_tool(path, ctx->cfg->pg_bindir, major, tool, e)) < 0)
		return rc;
	const char *argv[] = { path, "--version", NULL };
	ff_exec_opts o = { .out_fd = -1, .tail_max = 256, .timeout_s = 30 };
	ff_exec_result res = {0};
	int ok = ff_exec_run(&res, argv, &o, e) == 0 && res.exited && res.status == 0;
	snprintf(line, 300, "%s", res.tail ? res.tail : "");
	ff_exec_result_free(&res);
	if (!ok)
		return ff_err_set(e, FF_EFAIL, "%s --version failed", path);
	line[strcspn(line, "\n")] = '\0';
	return 0;
}

int lpg_version(lua_State *L)
{
	const char *tool = luaL_checkstring(L, 1);
	char line[300];
	ff_err e = {0};
	if (strcmp(tool, "pg_dump") && strcmp(tool, "pg_restore") && strcmp(tool, "pg_dumpall") &&
	    strcmp(tool, "initdb") && strcmp(tool, "postgres"))
		return luaL_argerror(L, 1, "not a PostgreSQL tool ffrun uses");
	if (tool_version(L, tool, (int)luaL_optinteger(L, 2, 0), line, &e) < 0)
		return ff_fail(L, &e);
	lua_pushstring(L, line);
	return 1;
}

/* In a dry-run, a dump is planned: the stand-in job is a job handle whose
 * wait() answers the plan; the same options are checked, out through the
 * jail as a path the run may write. */
int lpg_dry_dump(lua_State *L)
{
	luaL_checktype(L, 1, LUA_TTABLE);
	lpg_target_of(L, lpg_opt_str(L, 1, "target", 1));
	const char *out = lpg_opt_str(L, 1, "out", 1);
	int major = lpg_opt_int(L, 1, "major", 0);
	const char *fp = lpg_opt_str(L, 1, "fingerprint", 0);
	if (fp && strcmp(fp, "rows") && strcmp(fp, "content"))
		return luaL_error(L, "pg.dump: fingerprint must be \"rows\" or \"content\"");
	ff_dry_path(L, out, 1, NULL);
	job *h = ff_handle_new(L, DUMP_MT, sizeof(*h), 1);
	h->dry = 1;
	h->major = major;
	lua_pushboolean(L, fp != NULL);
	lua_setiuservalue(L, -2, 1);
	return 1;
}

int lpg_dry_globals(lua_State *L)
{
	luaL_checktype(L, 1, LUA_TTABLE);
	lpg_target_of(L, lpg_opt_str(L, 1, "target", 1));
	ff_dry_path(L, lpg_opt_str(L, 1, "out", 1), 1, NULL);
	push_planned(L);
	return 1;
}

void lpg_dump_class(lua_State *L)
{
	/* A dump job's wait() only collects what the dispatched dump started. */
	static const ff_prim methods[] = {
		{"wait", job_wait, FF_READ, NULL},
		{NULL, NULL, 0, NULL}
	};
	ff_handle_class(L, DUMP_MT, "pg.job", methods, job_gc);
	ff_handle_class(L, SETVALS_MT, "pg.setvals", NULL, setvals_gc);
}
