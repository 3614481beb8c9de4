/* l_pg.h - what the ff.pg binding's files share: the handles' types and
 * classes, the option readers and the boxes that hold a C resource across
 * Lua calls. Internal to l_pg*.c (lpg_ prefix). */
#ifndef FF_L_PG_H
#define FF_L_PG_H

#include <lauxlib.h>
#include <lua.h>

#include "core/config.h"
#include "core/err.h"
#include "core/pg.h"
#include "lua/handle.h"
#include "lua/prim.h"

#define CONN_MT "ff.pg.conn"
#define DUMP_MT "ff.pg.dump"
#define ADMIN_MT "ff.pg.admin"
#define INST_MT "ff.pg.instance"
#define SLOT_MT "ff.pg.slot"
#define RESULT_MT "ff.pg.result"   /* a PGresult being copied into Lua */
#define MEM_MT "ff.pg.mem"         /* malloc'd bytes being pushed */

typedef struct lpg_conn {
	PGconn *pg;
	char target[64];
	int in_snapshot;   /* a REPEATABLE READ transaction is open */
	char snapshot[72]; /* the id it exported or imported, "" if none */
	char *conninfo;    /* how it connected, for conn:fingerprints' helpers */
	char *dbname;      /* NULL: the conninfo's own */
} lpg_conn;

typedef struct lpg_admin {
	PGconn *pg;          /* the maintenance database ("postgres") */
	int instance;        /* a throwaway instance of ours: every name is ours */
	int dry;             /* a rehearsal's stand-in: no server behind it */
	char target[64];
	char live[128];      /* the target's database */
	int live_gone;       /* it does not exist (dropped, lost): a restore
	                        creates it and sets nothing aside */
	char conninfo[1024]; /* the target's conninfo, as configured */
} lpg_admin;

/* The configured target name, a server (not an ephemeral instance), or a
 * raised error. */
const ff_target *lpg_target_of(lua_State *L, const char *name);

/* A plan pins the identity of every server its rehearsal reached: call
 * after a connection to target name succeeded. MAY_LJMP. */
void lpg_reached(lua_State *L, const char *name);

/* Fields of the options table at t: an integer (def when absent), a
 * string (NULL when absent and not required; it lives in the table). */
int lpg_opt_int(lua_State *L, int t, const char *k, int def);
const char *lpg_opt_str(lua_State *L, int t, const char *k, int required);

/* Connect c (a new, closed conn handle) and remember how, so
 * conn:fingerprints can open more connections just like it. */
int lpg_conn_open(lpg_conn *c, const char *target, const char *conninfo, const char *dbname,
		  ff_err *e);

/* Push an empty box for a PGresult (*box is NULL), freed by __gc. MAY_LJMP. */
PGresult **lpg_result_box(lua_State *L);
/* Push an empty box for malloc'd memory, freed by __gc. MAY_LJMP. */
void **lpg_mem_box(lua_State *L);

/* Push a new closed admin handle. MAY_LJMP. */
lpg_admin *lpg_admin_new(lua_State *L);
/* The admin handle at 1, open (or a rehearsal's), or raised. MAY_LJMP. */
lpg_admin *lpg_admin_check(lua_State *L);
/* The database name at idx if it is one a's runbook may write
 * (<live>__ff…, any in a throwaway instance), else a violation. MAY_LJMP. */
const char *lpg_admin_own_name(lua_State *L, lpg_admin *a, int idx);

/* Each file's primitives (ff_open_pg registers them) and classes. */
int lpg_dump(lua_State *L);
int lpg_dry_dump(lua_State *L);
int lpg_globals(lua_State *L);
int lpg_dry_globals(lua_State *L);
int lpg_archive_list(lua_State *L);
int lpg_archive_read(lua_State *L);
int lpg_version(lua_State *L);
int lpg_admin_open(lua_State *L);
int lpg_dry_admin_open(lua_State *L);
int lpg_instance(lua_State *L);
int lpg_copy_out(lua_State *L);
int lpg_dry_copy_out(lua_State *L);
int lpg_copy_raw(lua_State *L);
int lpg_dry_instance(lua_State *L);
int lpg_logical_snapshot(lua_State *L);
int lpg_dry_logical_snapshot(lua_State *L);
void lpg_slot_class(lua_State *L);
void lpg_dump_class(lua_State *L);
void lpg_admin_class(lua_State *L);
/* admin:restore and admin:load_table (l_pg_restore.c), and their
 * stand-ins. */
int lpg_admin_restore(lua_State *L);
int lpg_dry_admin_restore(lua_State *L);
int lpg_admin_load_table(lua_State *L);
int lpg_dry_admin_load_table(lua_State *L);
void lpg_inst_class(lua_State *L);

#endif
