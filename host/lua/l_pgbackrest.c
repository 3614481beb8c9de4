/* l_pgbackrest.c - ff.pgbackrest: pgBackRest commands for a target whose
 * engine is pgbackrest (its stanza, its pgbackrest.conf), the argv built
 * here from a command name and typed values. stderr goes to a raw file of
 * the evidence; stdout (info's JSON) comes back as a string. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "core/cluster.h"
#include "core/evidence.h"
#include "core/fsutil.h"
#include "core/pg.h"
#include "core/pgbackrest.h"
#include "core/switchover.h"
#include "lua/handle.h"
#include "lua/l_fs.h"
#include "lua/modules.h"
#include "lua/prim.h"

/* The pgbackrest target named at idx, or a raised error. */
static const ff_target *pgbr_target(lua_State *L, int idx)
{
	const char *name = luaL_checkstring(L, idx);
	const ff_target *t = ff_config_target(ff_ctx_of(L)->cfg, name);
	if (!t)
		luaL_error(L, "pgbackrest: no target named '%s' in the configuration", name);
	if (!t->pgbr_stanza)
		luaL_error(L, "pgbackrest: target '%s' has no engine pgbackrest", name);
	return t;
}

/* { ok, code, timed_out, output, output_cut, tail, raw, duration_s,
 *   dry_run } : the same shape for the real call and its stand-in.
 * MAY_LJMP: r must be held by a box (or be the caller's own memory), so
 * that a raise here leaks nothing. */
static void push_result(lua_State *L, const ff_pgbr_result *r, const char *raw, int dry)
{
	lua_createtable(L, 0, 9);
	lua_pushboolean(L, r->ok);
	lua_setfield(L, -2, "ok");
	lua_pushinteger(L, r->code);
	lua_setfield(L, -2, "code");
	lua_pushboolean(L, r->timed_out);
	lua_setfield(L, -2, "timed_out");
	lua_pushlstring(L, r->out ? r->out : "", r->out ? r->out_len : 0);
	lua_setfield(L, -2, "output");
	lua_pushboolean(L, r->out_cut);
	lua_setfield(L, -2, "output_cut");
	lua_pushstring(L, r->tail ? r->tail : "");
	lua_setfield(L, -2, "tail");
	lua_pushstring(L, raw);
	lua_setfield(L, -2, "raw");
	lua_pushnumber(L, r->duration_s);
	lua_setfield(L, -2, "duration_s");
	if (dry) {
		lua_pushboolean(L, 1);
		lua_setfield(L, -2, "dry_run");
	}
}

#define BOX_MT "ff.pgbackrest.box"
#define LIST_MT "ff.pgbackrest.list" /* set_aside's names being pushed */

/* A result held while it is copied into Lua: freed by __gc if a push
 * raises (out of memory). */
static int box_gc(lua_State *L)
{
	ff_pgbr_result *r = ff_handle_check(L, 1, BOX_MT);
	ff_pgbr_result_free(r);
	return 0;
}

/* Run args for target t: stderr into raw/<log_name>, the result table
 * pushed. MAY_LJMP, with nothing of ours alive across a raise: the box
 * holding the result is pushed before the run. */
static int run(lua_State *L, const ff_target *t, const char *const *args, const char *log_name,
	       double timeout_s)
{
	ff_ctx *ctx = ff_ctx_of(L);
	char raw[256];
	ff_err e = {0};
	int fd;
	ff_pgbr_result *r = ff_handle_new(L, BOX_MT, sizeof(*r), 0);
	if (ff_evidence_raw_open(&ctx->ev, &fd, raw, log_name, &e) < 0)
		return ff_raise(L, &e);
	ff_pgbr_opts o = { .config = t->pgbr_config, .stanza = t->pgbr_stanza,
			   .os_user = ctx->cfg->pg_os_user, .log_fd = fd, .timeout_s = timeout_s,
			   .cancel = &ctx->cancel };
	int rc = ff_pgbr_run(r, &o, args, &e);
	close(fd);
	if (rc < 0)
		return ff_fail(L, &e);
	push_result(L, r, raw, 0);
	ff_pgbr_result_free(r);
	return 1;
}

/* A stand-in's answer: ok, nothing run. */
static int dry_answer(lua_State *L, const char *output)
{
	ff_pgbr_result r = { .ok = 1, .out = (char *)output, .out_len = strlen(output) };
	push_result(L, &r, "(planned)", 1);
	return 1;
}

/* ff.pgbackrest.check(target) -> result | nil, message, code
 * pgbackrest check: the stanza's configuration, and that the server's WAL
 * reaches the repository (it switches a WAL segment on the server: a
 * write, planned in a rehearsal). */
static int pgbr_check(lua_State *L)
{
	const ff_target *t = pgbr_target(L, 1);
	const char *args[] = { "check", NULL };
	return run(L, t, args, "pgbackrest-check.log", 600);
}

static int dry_pgbr_check(lua_State *L)
{
	(void)pgbr_target(L, 1);
	return dry_answer(L, "");
}

/* The type argument of backup: full, diff or incr. */
static const char *backup_type(lua_State *L)
{
	const char *type = luaL_checkstring(L, 2);
	if (!ff_pgbr_valid_type(type))
		luaL_argerror(L, 2, "pgbackrest.backup: type is full, diff or incr");
	return type;
}

/* The optional repository key at idx: 1 .. 256, or 0 (absent: pgBackRest's
 * default, repo1). */
static int repo_arg(lua_State *L, int idx, const char *fn)
{
	lua_Integer repo = luaL_optinteger(L, idx, 0);
	if (repo < 0 || repo > FF_PGBR_REPO_MAX)
		luaL_error(L, "pgbackrest.%s: repo %I is not a repository key (1 to %d)", fn, repo,
			   FF_PGBR_REPO_MAX);
	return (int)repo;
}

/* The repository key at idx, required (1 .. 256), and its option
 * "--repo=N" written into opt. */
static int repo_opt(lua_State *L, int idx, const char *fn, char *opt, size_t cap)
{
	int r = repo_arg(L, idx, fn);
	if (r == 0)
		luaL_error(L, "pgbackrest.%s: name the repository (1 to %d)", fn, FF_PGBR_REPO_MAX);
	snprintf(opt, cap, "--repo=%d", r);
	return r;
}

/* ff.pgbackrest.backup(target, type [, repo]) -> result | nil, message, code
 * pgbackrest backup --no-expire-auto --type=full|diff|incr [--repo=N], no
 * time limit but a stop. */
static int pgbr_backup(lua_State *L)
{
	const ff_target *t = pgbr_target(L, 1);
	char type[32], repo[32];
	snprintf(type, sizeof(type), "--type=%s", backup_type(L));
	int r = repo_arg(L, 3, "backup");
	snprintf(repo, sizeof(repo), "--repo=%d", r);
	/* Sets expire when prune says (pgbr.prune), so that the newest one a
	 * drill proved is never expired by a backup's automatic expire. */
	const char *args[] = { "backup", "--no-expire-auto", type, r ? repo : NULL, NULL };
	return run(L, t, args, "pgbackrest-backup.log", 0);
}

static int dry_pgbr_backup(lua_State *L)
{
	(void)pgbr_target(L, 1);
	(void)backup_type(L);
	(void)repo_arg(L, 3, "backup");
	return dry_answer(L, "");
}

/* ff.pgbackrest.verify(target, repo) -> result (output: the text of
 * pgbackrest verify --output=text --verbose for that repository: its
 * status, each backup set's and the WAL archive's counts) | nil, message,
 * code. pgBackRest exits 0 even when a file is invalid: the text says. */
static int pgbr_verify(lua_State *L)
{
	const ff_target *t = pgbr_target(L, 1);
	char repo[32];
	(void)repo_opt(L, 2, "verify", repo, sizeof(repo));
	const char *args[] = { "verify", repo, "--output=text", "--verbose", NULL };
	return run(L, t, args, "pgbackrest-verify.log", 0);
}

/* ff.pgbackrest.info(target [, label]) -> result (output: the JSON of
 * pgbackrest info --output=json, for one backup set when label is given)
 * | nil, message, code */
static int pgbr_info(lua_State *L)
{
	const ff_target *t = pgbr_target(L, 1);
	const char *label = luaL_optstring(L, 2, NULL);
	char set[96];
	if (label && (!ff_pgbr_valid_name(label) || strlen(label) > 60))
		luaL_argerror(L, 2, "pgbackrest.info: not a backup label");
	snprintf(set, sizeof(set), "--set=%s", label ? label : "");
	const char *args[] = { "info", "--output=json", label ? set : NULL, NULL };
	return run(L, t, args, "pgbackrest-info.log", 300);
}

/* ff.pgbackrest.expire_plan(target, repo) -> result (output: what
 * pgbackrest expire --repo=N --dry-run would do, its INFO lines: one
 * "repoN: remove expired backup LABEL" a set) | nil, message, code. */
static int pgbr_expire_plan(lua_State *L)
{
	const ff_target *t = pgbr_target(L, 1);
	char repo[32];
	(void)repo_opt(L, 2, "expire_plan", repo, sizeof(repo));
	/* Its INFO lines on stdout, and only there (a config's stderr level
	 * would take them away from what is read). */
	const char *args[] = { "expire", repo, "--dry-run", "--log-level-console=info", "--log-level-stderr=off",
			       NULL };
	return run(L, t, args, "pgbackrest-expire.log", 600);
}

/* The label argument of expire: a backup label, never an option. */
static const char *expire_label(lua_State *L)
{
	const char *label = luaL_checkstring(L, 3);
	if (!ff_pgbr_valid_name(label) || strlen(label) > 60 || label[0] == '-')
		luaL_argerror(L, 3, "pgbackrest.expire: not a backup label");
	return label;
}

/* ff.pgbackrest.expire(target, repo, label) -> result | nil, message, code
 * pgbackrest expire --repo=N --set=LABEL: that set (and the sets that
 * depend on it) go, with the WAL only they needed. The repository's
 * retention is set to its maximum for the call, as pgBackRest asks of an
 * expire by set: no other set and no other WAL goes with it. */
static int pgbr_expire(lua_State *L)
{
	const ff_target *t = pgbr_target(L, 1);
	char repo[32], set[96], full[64], archive[64];
	int r = repo_opt(L, 2, "expire", repo, sizeof(repo));
	snprintf(set, sizeof(set), "--set=%s", expire_label(L));
	snprintf(full, sizeof(full), "--repo%d-retention-full=9999999", r);
	snprintf(archive, sizeof(archive), "--repo%d-retention-archive=9999999", r);
	const char *args[] = { "expire", repo, set, full, archive, NULL };
	return run(L, t, args, "pgbackrest-expire.log", 600);
}

/* ff.pgbackrest.expire_wal(target, repo, fulls) -> result | nil, message,
 * code. pgbackrest expire --repo=N with that repository's retention set
 * for the call to keep its fulls full sets (all it has) and every diff,
 * and the WAL of all of them: the WAL older than its oldest full set
 * goes, no set does. */
static int pgbr_expire_wal(lua_State *L)
{
	const ff_target *t = pgbr_target(L, 1);
	char repo[32], ftype[64], full[64], atype[64], archive[64], diff[64];
	int r = repo_opt(L, 2, "expire_wal", repo, sizeof(repo));
	lua_Integer fulls = luaL_checkinteger(L, 3);
	luaL_argcheck(L, fulls >= 1 && fulls <= 9999999, 3, "pgbackrest.expire_wal: fulls is 1 to 9999999");
	snprintf(ftype, sizeof(ftype), "--repo%d-retention-full-type=count", r);
	snprintf(full, sizeof(full), "--repo%d-retention-full=%lld", r, (long long)fulls);
	snprintf(atype, sizeof(atype), "--repo%d-retention-archive-type=full", r);
	snprintf(archive, sizeof(archive), "--repo%d-retention-archive=%lld", r, (long long)fulls);
	snprintf(diff, sizeof(diff), "--repo%d-retention-diff=9999999", r);
	const char *args[] = { "expire", repo, ftype, full, atype, archive, diff, NULL };
	return run(L, t, args, "pgbackrest-expire.log", 600);
}

static int dry_pgbr_expire_wal(lua_State *L)
{
	(void)pgbr_target(L, 1);
	char repo[32];
	(void)repo_opt(L, 2, "expire_wal", repo, sizeof(repo));
	lua_Integer fulls = luaL_checkinteger(L, 3);
	luaL_argcheck(L, fulls >= 1 && fulls <= 9999999, 3, "pgbackrest.expire_wal: fulls is 1 to 9999999");
	return dry_answer(L, "");
}

static int dry_pgbr_expire(lua_State *L)
{
	(void)pgbr_target(L, 1);
	char repo[32];
	(void)repo_opt(L, 2, "expire", repo, sizeof(repo));
	(void)expire_label(L);
	return dry_answer(L, "");
}

/* True when s is n characters of [0-9A-F] (a WAL file name's parts). */
static int upper_hex(const char *s, size_t n)
{
	size_t i = 0;
	while (i < n && ((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'A' && s[i] <= 'F')))
		i++;
	return i == n && s[n] == '\0';
}

/* An archive id of pgbackrest info: MAJOR-N (e.g. 15-1). */
static int archive_id(const char *s)
{
	size_t a = strspn(s, "0123456789");
	return a > 0 && a < 8 && s[a] == '-' && s[a + 1] && strspn(s + a + 1, "0123456789") == strlen(s + a + 1) &&
	       strlen(s + a + 1) < 8;
}

/* ff.pgbackrest.wal_list(target, repo, archive_id, dir) -> result (output:
 * the names in the repository's archive/<stanza>/<archive_id>/<dir>, one a
 * line, as pgbackrest repo-ls --output=text prints them) | nil, message,
 * code. dir is a WAL folder name: timeline and log id, 16 hex digits. */
static int pgbr_wal_list(lua_State *L)
{
	const ff_target *t = pgbr_target(L, 1);
	char repo[32], path[160];
	(void)repo_opt(L, 2, "wal_list", repo, sizeof(repo));
	const char *id = luaL_checkstring(L, 3);
	const char *dir = luaL_checkstring(L, 4);
	if (!archive_id(id))
		luaL_argerror(L, 3, "pgbackrest.wal_list: not an archive id (MAJOR-N)");
	if (!upper_hex(dir, 16))
		luaL_argerror(L, 4, "pgbackrest.wal_list: not a WAL folder (16 hex digits)");
	snprintf(path, sizeof(path), "archive/%s/%s/%s", t->pgbr_stanza, id, dir);
	const char *args[] = { "repo-ls", repo, "--output=text", path, NULL };
	return run(L, t, args, "pgbackrest-repo-ls.log", 300);
}

/* The stanza's pg1-path (ff_pgbr_pg1_path) into out, or raised. MAY_LJMP. */
static void pg1_path(lua_State *L, const ff_target *t, char *out, size_t cap)
{
	ff_ctx *ctx = ff_ctx_of(L);
	char raw[256];
	ff_err e = {0};
	int fd;
	if (ff_evidence_raw_open(&ctx->ev, &fd, raw, "pgbackrest-help.log", &e) < 0)
		ff_raise(L, &e);
	ff_pgbr_opts o = { .config = t->pgbr_config, .stanza = t->pgbr_stanza, .os_user = ctx->cfg->pg_os_user,
			   .log_fd = fd, .timeout_s = 60, .cancel = &ctx->cancel };
	int rc = ff_pgbr_pg1_path(&o, out, cap, &e);
	close(fd);
	if (rc < 0)
		ff_raise(L, &e);
}

/* The target's database name, which confirm= must equal (exit 2
 * otherwise): known from the configuration when the server is down too.
 * MAY_LJMP. */
static void check_confirm(lua_State *L, const ff_target *t, const char *name, const char *confirm)
{
	char db[128];
	int reached = 0;
	ff_err why = {0};
	if (ff_pg_target_dbname(db, sizeof(db), &reached, name, t->conninfo, &why) < 0)
		ff_raise(L, &why);
	if (strcmp(confirm, db) != 0)
		ff_usage(L, "target %s is database '%s': to let this run switch its cluster, give confirm=%s", name, db, db);
}

/* ff.pgbackrest.live(target, confirm) -> { data, running, free_bytes }
 * The live cluster a physical restore replaces, opened with confirm= as
 * ff.pg.admin is: its data folder, the stanza's pg1-path as pgBackRest
 * resolves it (what its backups copy, checked against the server at every
 * online backup; known when the server is down), and whether a server
 * runs from it. */
static int pgbr_live(lua_State *L)
{
	const ff_target *t = pgbr_target(L, 1);
	check_confirm(L, t, lua_tostring(L, 1), luaL_checkstring(L, 2));
	char path[PATH_MAX];
	pg1_path(L, t, path, sizeof(path));
	lua_createtable(L, 0, 2);
	lua_pushstring(L, path);
	lua_setfield(L, -2, "data");
	lua_pushboolean(L, ff_cluster_postmaster(path) > 0);
	lua_setfield(L, -2, "running");
	/* The space a copy beside it can take (-1: the folder it is in
	 * cannot be asked). */
	struct statvfs sv;
	char *slash = strrchr(path, '/');
	if (slash)
		*(slash == path ? slash + 1 : slash) = '\0';
	lua_pushinteger(L, statvfs(path, &sv) == 0 ? (lua_Integer)sv.f_bavail * (lua_Integer)sv.f_frsize : -1);
	lua_setfield(L, -2, "free_bytes");
	return 1;
}

/* ff.pgbackrest.lock(target, confirm) -> lock | nil, message, code
 * flock on <data>.fflock beside the live data folder (the stanza's
 * pg1-path): one cluster's restore, rollback or prune of its folders at a
 * time, whichever configuration (backups folder) each run was given.
 * confirm= as for live (exit 2), before the file is made. Its stand-in
 * checks the same and that nobody holds it. */
static int lock_cluster(lua_State *L, int probe_only)
{
	const ff_target *t = pgbr_target(L, 1);
	check_confirm(L, t, lua_tostring(L, 1), luaL_checkstring(L, 2));
	char live[PATH_MAX], path[PATH_MAX];
	pg1_path(L, t, live, sizeof(live));
	if (snprintf(path, sizeof(path), "%s.fflock", live) >= (int)sizeof(path))
		return ff_failf(L, "%s.fflock: path too long", live);
	return lfs_lock_file(L, path, probe_only);
}

static int pgbr_lock(lua_State *L) { return lock_cluster(L, 0); }
static int dry_pgbr_lock(lua_State *L) { return lock_cluster(L, 1); }

/* ff.pgbackrest.set_aside(target, kind) -> { "KIND_STAMP", ... } sorted:
 * the folders <data>.ffKIND_* beside the live data folder. */
static int pgbr_set_aside(lua_State *L)
{
	const ff_target *t = pgbr_target(L, 1);
	const char *kind = luaL_checkstring(L, 2);
	char path[PATH_MAX];
	if (!*kind || strspn(kind, "abcdefghijklmnopqrstuvwxyz") != strlen(kind) || strlen(kind) > 16)
		luaL_argerror(L, 2, "pgbackrest.set_aside: a kind is a short lower-case word");
	pg1_path(L, t, path, sizeof(path));
	ff_strlist *l = ff_handle_new(L, LIST_MT, sizeof(*l), 0);
	ff_err e = {0};
	if (ff_switch_list(path, kind, l, &e) < 0)
		return ff_fail(L, &e);
	lua_createtable(L, (int)l->n, 0);
	for (size_t i = 0; i < l->n; i++) {
		lua_pushstring(L, l->v[i]);
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	return 1;
}

/* ff.pgbackrest.remove_aside(target, confirm, suffix) -> true | nil, message, code
 * rm -rf of <data>.ff<suffix>, a folder a restore (prev_STAMP, failed_STAMP)
 * or a rollback (bad_STAMP) set aside beside the live data folder; confirm= as
 * for live (exit 2). Its stand-in checks the same and removes nothing. */
static int remove_aside(lua_State *L, int dry_run)
{
	const ff_target *t = pgbr_target(L, 1);
	check_confirm(L, t, lua_tostring(L, 1), luaL_checkstring(L, 2));
	const char *suffix = luaL_checkstring(L, 3);
	char live[PATH_MAX];
	pg1_path(L, t, live, sizeof(live));
	ff_err e = {0};
	if (ff_switch_remove(live, suffix, dry_run, &e) < 0)
		return e.code == FF_EUSAGE ? ff_raise(L, &e) : ff_fail(L, &e);
	lua_pushboolean(L, 1);
	return 1;
}

static int pgbr_remove_aside(lua_State *L) { return remove_aside(L, 0); }
static int dry_pgbr_remove_aside(lua_State *L) { return remove_aside(L, 1); }

/* What switch and its stand-in both check: the target, confirm= (its
 * database name, typed out: exit 2 otherwise), the two suffixes, the
 * options { stop_timeout_s =, start_timeout_s = }. MAY_LJMP. */
static const ff_target *switch_args(lua_State *L, const char **in, const char **out, int *stop_s, int *start_s)
{
	const ff_target *t = pgbr_target(L, 1);
	check_confirm(L, t, lua_tostring(L, 1), luaL_checkstring(L, 2));
	*in = luaL_checkstring(L, 3);
	*out = luaL_checkstring(L, 4);
	if (!ff_switch_valid_suffix(*in) || !ff_switch_valid_suffix(*out) || !strcmp(*in, *out))
		luaL_argerror(L, 3, "pgbackrest.switch: two different suffixes KIND_STAMP");
	*stop_s = 300;
	*start_s = 600;
	if (lua_istable(L, 5)) {
		lua_getfield(L, 5, "stop_timeout_s");
		*stop_s = (int)luaL_optinteger(L, -1, 300);
		lua_getfield(L, 5, "start_timeout_s");
		*start_s = (int)luaL_optinteger(L, -1, 600);
		lua_pop(L, 2);
	}
	if (*stop_s < 1 || *start_s < 1)
		luaL_argerror(L, 5, "pgbackrest.switch: timeouts are 1 s or more");
	return t;
}

/* The answer of switch and its stand-in. MAY_LJMP. */
static int push_switch(lua_State *L, const ff_switch_result *r, const char *live, const char *kept, int dry)
{
	lua_createtable(L, 0, 7);
	lua_pushstring(L, live);
	lua_setfield(L, -2, "data");
	lua_pushstring(L, r->kept ? kept : "");
	lua_setfield(L, -2, "kept");
	lua_pushboolean(L, r->was_running);
	lua_setfield(L, -2, "was_running");
	lua_pushnumber(L, r->downtime_s);
	lua_setfield(L, -2, "downtime_s");
	lua_pushstring(L, r->server_log);
	lua_setfield(L, -2, "server_log");
	if (dry) {
		lua_pushboolean(L, 1);
		lua_setfield(L, -2, "dry_run");
	}
	return 1;
}

/* ff.pgbackrest.switch(target, confirm, incoming, outgoing [, opts])
 *   -> { data, kept, was_running, downtime_s, server_log } | nil, message, code
 * The switch-over (switchover.h): the folder <data>.ff<incoming> takes the
 * live data folder's place, the live one is kept as <data>.ff<outgoing>,
 * and the server starts from the new one. */
static int pgbr_switch(lua_State *L)
{
	ff_ctx *ctx = ff_ctx_of(L);
	const char *in, *out;
	int stop_s, start_s, fd;
	const ff_target *t = switch_args(L, &in, &out, &stop_s, &start_s);
	char live[PATH_MAX], incoming[PATH_MAX + 64], outgoing[PATH_MAX + 64], bindir[PATH_MAX], raw[256];
	ff_err e = {0};
	pg1_path(L, t, live, sizeof(live));
	snprintf(incoming, sizeof(incoming), "%s.ff%s", live, in);
	snprintf(outgoing, sizeof(outgoing), "%s.ff%s", live, out);
	/* pg_ctl of the copy's own major version (its PG_VERSION). */
	char vpath[PATH_MAX + 96], ver[16] = "";
	snprintf(vpath, sizeof(vpath), "%s/PG_VERSION", incoming);
	int major = ff_read_head(vpath, O_NOFOLLOW, ver, sizeof(ver)) ? atoi(ver) : 0;
	if (ff_pg_tool(bindir, ctx->cfg->pg_bindir, major, "pg_ctl", &e) < 0)
		return ff_raise(L, &e);
	*strrchr(bindir, '/') = '\0';
	if (ff_evidence_raw_open(&ctx->ev, &fd, raw, "switchover.log", &e) < 0)
		return ff_raise(L, &e);
	ff_switch_opts o = { .bindir = bindir, .os_user = ctx->cfg->pg_os_user, .live = live, .incoming = incoming,
			     .outgoing = outgoing, .stop_timeout_s = stop_s, .start_timeout_s = start_s,
			     .log_fd = fd, .cancel = &ctx->cancel };
	ff_switch_result r;
	int rc = ff_switchover(&o, &r, &e);
	close(fd);
	if (rc < 0)
		return ff_fail(L, &e);
	return push_switch(L, &r, live, outgoing, 0);
}

/* switch's stand-in: the real call's checks (confirm= among them), the
 * folders looked at, nothing stopped or moved. */
static int dry_pgbr_switch(lua_State *L)
{
	const char *in, *out;
	int stop_s, start_s;
	const ff_target *t = switch_args(L, &in, &out, &stop_s, &start_s);
	char live[PATH_MAX];
	pg1_path(L, t, live, sizeof(live));
	ff_switch_result r = { .kept = 1, .was_running = 1 };
	snprintf(r.server_log, sizeof(r.server_log), "%s.ffrun.log", live);
	char outgoing[PATH_MAX + 64];
	snprintf(outgoing, sizeof(outgoing), "%s.ff%s", live, out);
	return push_switch(L, &r, live, outgoing, 1);
}

static int list_gc(lua_State *L)
{
	ff_strlist_free(ff_handle_check(L, 1, LIST_MT));
	return 0;
}

void ff_open_pgbackrest(lua_State *L)
{
	static const ff_prim prims[] = {
		{"check", pgbr_check, FF_WRITE, dry_pgbr_check},
		{"backup", pgbr_backup, FF_WRITE, dry_pgbr_backup},
		{"info", pgbr_info, FF_READ, NULL},
		{"verify", pgbr_verify, FF_READ, NULL},
		{"wal_list", pgbr_wal_list, FF_READ, NULL},
		{"expire_plan", pgbr_expire_plan, FF_READ, NULL},
		{"expire", pgbr_expire, FF_WRITE, dry_pgbr_expire},
		{"expire_wal", pgbr_expire_wal, FF_WRITE, dry_pgbr_expire_wal},
		{"live", pgbr_live, FF_READ, NULL},
		{"lock", pgbr_lock, FF_WRITE, dry_pgbr_lock},
		{"set_aside", pgbr_set_aside, FF_READ, NULL},
		{"switch", pgbr_switch, FF_WRITE, dry_pgbr_switch},
		{"remove_aside", pgbr_remove_aside, FF_WRITE, dry_pgbr_remove_aside},
		{NULL, NULL, 0, NULL}
	};
	ff_prims_set(L, "pgbackrest", prims);
	ff_handle_class(L, BOX_MT, "pgbackrest.box", NULL, box_gc);
	ff_handle_class(L, LIST_MT, "pgbackrest.list", NULL, list_gc);
}
