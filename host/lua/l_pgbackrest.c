/* l_pgbackrest.c - ff.pgbackrest: pgBackRest commands for a target whose
 * engine is pgbackrest (its stanza, its pgbackrest.conf), the argv built
 * here from a command name and typed values. stderr goes to a raw file of
 * the evidence; stdout (info's JSON) comes back as a string. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/evidence.h"
#include "core/pgbackrest.h"
#include "lua/handle.h"
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
		{NULL, NULL, 0, NULL}
	};
	ff_prims_set(L, "pgbackrest", prims);
	ff_handle_class(L, BOX_MT, "pgbackrest.box", NULL, box_gc);
}
