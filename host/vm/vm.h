/* vm.h - the sandboxed Lua state (SPEC §5). */
#ifndef FF_VM_H
#define FF_VM_H

#include <lua.h>

#include "vm/ctx.h"

/* One module of ff.*, as the bindings provide it (lua/modules.c lists
 * them); the VM knows nothing of what is inside. */
typedef struct ff_module {
	const char *name;         /* ff.<name>; NULL ends a list */
	int (*open)(lua_State *L); /* pushes the module's value (a table or a
	                              function); the context is ff_ctx_of(L) */
	lua_CFunction lazy;       /* or NULL: (key) -> value or nothing, for
	                             fields made when first read (ff.paths.tmp) */
} ff_module;

/* A fresh state with the allocator cap, the count hook and the sandbox
 * environment as its real globals (so `load` without env cannot reach
 * anything more), `ff` included: the modules of mods, each made read-only
 * all the way down. */
int ff_vm_new(lua_State **out, ff_ctx *ctx, const ff_module *mods, ff_err *e);

/* Make kind (FF_LIMIT_*) the limit that ended the run, unless one is set
 * already: sticky, the hook raises on every instruction from then on. */
void ff_vm_set_limit(ff_ctx *ctx, int kind);

/* Replace the table at idx, and every table inside it, by read-only
 * proxies; leaves the proxy on the stack top. */
void ff_vm_protect(lua_State *L, int idx);

/* Text of the limit that ended the run (empty when none). */
void ff_vm_limit_text(const ff_ctx *ctx, char *buf, size_t cap);

/* Signals and the wall-clock cap are watched by a thread, so neither a
 * signal handler nor a global is needed: SIGINT/SIGTERM/SIGHUP are blocked
 * in every thread and taken with sigtimedwait. */
int ff_watchdog_start(ff_ctx *ctx, ff_err *e);
/* Block the stop signals (kept pending for the watchdog) from the first
 * moment of a run, so one that arrives early is not lost nor fatal. */
void ff_signals_hold(void);
void ff_watchdog_stop(ff_ctx *ctx);

/* After the steps, while the state closes: the watchdog again, now only
 * so that no finalizer can keep the process alive. A signal, or more than
 * FF_CLOSE_GRACE_S of closing, calls ctx->on_stuck (the run ends FAIL,
 * sealed). Stop it with ff_watchdog_stop. */
#define FF_CLOSE_GRACE_S 45.0 /* above an instance's 30 s stop */
int ff_watchdog_guard_close(ff_ctx *ctx, ff_err *e);

#endif
