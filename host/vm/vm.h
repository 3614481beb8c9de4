/* vm.h - the sandboxed Lua state (SPEC §5). */
#ifndef FF_VM_H
#define FF_VM_H

#include <lua.h>

#include "vm/ctx.h"

/* A fresh state with the allocator cap, the count hook and the sandbox
 * environment as its real globals (so `load` without env cannot reach
 * anything more), `ff` included. */
int ff_vm_new(lua_State **out, ff_ctx *ctx, ff_err *e);

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

/* "SIGTERM" and the like, for messages. */
const char *ff_signal_name(int sig);

/* Called by the watchdog when the run is stuck past its cap: seal FAIL
 * evidence and end the process. Defined by the run driver. */
void ff_run_abort(ff_ctx *ctx, int exit_status);

/* The run's private temporary folder (ff.paths.tmp), made and added to the
 * jail as writable the first time it is asked for, removed at exit. NULL
 * with e set when it cannot be made. Defined by the run driver. */
const char *ff_run_tmp(ff_ctx *ctx, ff_err *e);

#endif
