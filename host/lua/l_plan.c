/* l_plan.c - ff.plan: what a runbook tells a plan about the choices it
 * made from the world (SPEC §4a). */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "core/hash.h"
#include "lua/handle.h"
#include "lua/modules.h"
#include "lua/prim.h"

/* ff.plan.backup(path): the backup this run works from. A rehearsal
 * with --plan-out records it (a plan pins its stamp and its DIGEST's
 * sha256); a pinned run refuses any other (its params name the plan's
 * stamp, so only a backup changed since could differ). */
static int plan_backup(lua_State *L)
{
	ff_ctx *ctx = ff_ctx_of(L);
	const char *path = luaL_checkstring(L, 1);
	char digest[PATH_MAX + 8], hex[FF_SHA256_HEX];
	ff_err e = {0};
	int fd;
	if (!ctx->pin.out && !ctx->pin.pinned)
		return 0;
	snprintf(digest, sizeof(digest), "%s/DIGEST", path);
	if (ff_jail_open(&fd, &ctx->jail, digest, O_RDONLY, 0, &e) < 0)
		return ff_raise(L, &e);
	int rc = ff_sha256_fd(hex, NULL, fd, &e);
	close(fd);
	if (rc < 0)
		return ff_raise(L, &e);
	if (ctx->pin.pinned) {
		if (strcmp(path, ctx->pin.backup_path) || strcmp(hex, ctx->pin.backup_digest))
			return luaL_error(L, "pinned run: the plan works from %s (DIGEST %.12s…), "
					  "this run would use %s (DIGEST %.12s…)",
					  ctx->pin.backup_path, ctx->pin.backup_digest, path, hex);
		return 0;
	}
	snprintf(ctx->pin.backup_path, sizeof(ctx->pin.backup_path), "%s", path);
	memcpy(ctx->pin.backup_digest, hex, sizeof(hex));
	return 0;
}

void ff_open_plan(lua_State *L)
{
	static const ff_prim prims[] = {
		{"backup", plan_backup, FF_READ, NULL},
		{NULL, NULL, 0, NULL}
	};
	ff_prims_set(L, "plan", prims);
}
