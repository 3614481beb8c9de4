/* l_pg_slot.c - ff.pg.logical_snapshot: a proof point held open (a
 * replication connection with a temporary logical slot and its exported
 * snapshot), and its dry-run stand-in, a handle of the same class that
 * names a planned point. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/replslot.h"
#include "lua/l_pg.h"

typedef struct slot {
	ff_replslot s;
	int dry;
} slot;

/* __gc, __close and slot:close(): idempotent. */
static int slot_gc(lua_State *L)
{
	slot *h = ff_handle_check(L, 1, SLOT_MT);
	ff_replslot_close(&h->s);
	return 0;
}

/* The options both the call and its stand-in check: { timeout_s = } (0:
 * wait as long as transactions older than the slot run). */
static int slot_args(lua_State *L, const ff_target **t)
{
	*t = lpg_target_of(L, luaL_checkstring(L, 1));
	int timeout_s = 300;
	if (!lua_isnoneornil(L, 2)) {
		luaL_checktype(L, 2, LUA_TTABLE);
		timeout_s = lpg_opt_int(L, 2, "timeout_s", 300);
		if (timeout_s < 0)
			luaL_argerror(L, 2, "pg.logical_snapshot: timeout_s is 0 or more");
	}
	return timeout_s;
}

/* ff.pg.logical_snapshot(target [, { timeout_s = }]) -> slot | nil, message, code
 * A replication=database connection to target and CREATE_REPLICATION_SLOT
 * ffrun_<pid>_<n> TEMPORARY LOGICAL pgoutput (SNAPSHOT 'export'). While
 * the handle stays open, conn:use_snapshot(slot:point().snapshot) sees
 * exactly the transactions committed before slot:point().lsn. A write: a
 * slot holds back the server's WAL and xmin while it lives. */
int lpg_logical_snapshot(lua_State *L)
{
	static unsigned seq;
	ff_ctx *ctx = ff_ctx_of(L);
	const ff_target *t;
	int timeout_s = slot_args(L, &t);
	char name[64];
	ff_err e = {0};
	snprintf(name, sizeof(name), "ffrun_%ld_%u", (long)getpid(), ++seq);
	slot *h = ff_handle_new(L, SLOT_MT, sizeof(*h), 0);
	if (ff_replslot_create(&h->s, t->name, t->conninfo, name, timeout_s, &ctx->cancel, &e) < 0)
		return ff_fail(L, &e);
	lpg_reached(L, t->name);
	return 1;
}

/* The stand-in: the same checks, a planned point. */
int lpg_dry_logical_snapshot(lua_State *L)
{
	const ff_target *t;
	(void)slot_args(L, &t);
	slot *h = ff_handle_new(L, SLOT_MT, sizeof(*h), 0);
	h->dry = 1;
	snprintf(h->s.name, sizeof(h->s.name), "(planned)");
	snprintf(h->s.lsn, sizeof(h->s.lsn), "0/0");
	snprintf(h->s.snapshot, sizeof(h->s.snapshot), "(planned)");
	return 1;
}

/* slot:point() -> { lsn, snapshot, slot, planned } */
static int slot_point(lua_State *L)
{
	slot *h = ff_handle_check(L, 1, SLOT_MT);
	if (!h->dry && !h->s.conn)
		return luaL_error(L, "pg.logical_snapshot: closed");
	lua_createtable(L, 0, 4);
	lua_pushstring(L, h->s.lsn);
	lua_setfield(L, -2, "lsn");
	lua_pushstring(L, h->s.snapshot);
	lua_setfield(L, -2, "snapshot");
	lua_pushstring(L, h->s.name);
	lua_setfield(L, -2, "slot");
	lua_pushboolean(L, h->dry);
	lua_setfield(L, -2, "planned");
	return 1;
}

/* slot:close(): the connection ends, the temporary slot with it. */
static int slot_close(lua_State *L)
{
	slot_gc(L);
	lua_pushboolean(L, 1);
	return 1;
}

void lpg_slot_class(lua_State *L)
{
	static const ff_prim methods[] = {
		{"point", slot_point, FF_READ, NULL},
		{"close", slot_close, FF_READ, NULL},
		{NULL, NULL, 0, NULL}
	};
	ff_handle_class(L, SLOT_MT, "pg.slot", methods, slot_gc);
}
