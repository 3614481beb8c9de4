/* prim.h - how primitives are declared and dispatched.
 *
 * Every primitive is registered with its effect. A READ runs in every mode.
 * A WRITE runs only in a real run: in a dry-run the dispatcher records it in
 * the plan (with its arguments), and returns what its `dry` function says:
 * the real call's shape, after the real call's argument checks. Bindings never test the dry-run flag themselves;
 * this table is the one place that decides. Every call reaches the evidence
 * as an event. */
#ifndef FF_PRIM_H
#define FF_PRIM_H

#include <lauxlib.h>
#include <lua.h>

#include "vm/ctx.h"

typedef enum { FF_READ, FF_WRITE } ff_effect;

typedef struct ff_prim {
	const char *name;  /* "write" within its module */
	lua_CFunction fn;
	ff_effect effect;
	lua_CFunction dry; /* WRITE: required (ff_prims_set aborts without
	                      one); checks what fn checks and returns what fn
	                      returns, in a dry-run. READ: NULL */
} ff_prim;

/* Set prims (terminated by a NULL name) as fields of the table on top of the
 * stack, each wrapped by the dispatcher; module names them in the events
 * ("fs.write"). */
void ff_prims_set(lua_State *L, const char *module, const ff_prim *prims);

/* A stand-in's check of a path its real call would open: refused the way
 * the jail refuses it (a violation), fine when it does not exist yet (a
 * rehearsal only planned the write that makes it). write: the run must be
 * able to write there. root (may be NULL) says whether it is a root of the
 * jail. MAY_LJMP. */
void ff_dry_path(lua_State *L, const char *path, int write, int *root);

/* Raise a Lua error from a core ff_err: sandbox errors become violations
 * (exit 3), others a plain error with the message. MAY_LJMP. */
int ff_raise(lua_State *L, const ff_err *e);

/* Render the call's arguments as a short JSON array (strings cut at 200
 * bytes, tables shown as arrays of their first scalar items), for events and
 * the plan. Returns a pointer into buf. */
const char *ff_args_json(lua_State *L, char *buf, size_t cap);

#endif
