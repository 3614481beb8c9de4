/* run_int.h - what the driver's files share (run.c, contract.c,
 * outcome.c); nothing outside host/run/ includes it. */
#ifndef FF_RUN_INT_H
#define FF_RUN_INT_H

#include <lua.h>

#include "vm/ctx.h"
#include "vm/vm.h"

#define FF_OUT(ctx) (!(ctx)->quiet && !(ctx)->json)

/* An error object as text, without running any of its metamethods (an
 * error whose __tostring loops must not hang the host). */
const char *ff_rb_error_text(lua_State *L, int idx);

/* The header table is at the top of the stack (kept there): fill ctx's
 * name, version, summary, params and steps from it. */
int ff_rb_read_header(ff_ctx *ctx, ff_err *e);
/* --describe: the header for a reader, on stdout. */
void ff_rb_describe(const ff_ctx *ctx);
/* Check the command line's NAME=VALUE against the declarations of the
 * header at index t and push the params table the steps get. */
int ff_rb_read_params(ff_ctx *ctx, int t, ff_err *e);

/* --check: the param declarations of the header at index t well formed
 * (default of the declared type and among the choices, choices an array
 * of that type, check a function), with no run-time value needed. */
int ff_rb_lint_params(ff_ctx *ctx, int t, ff_err *e);

/* Plans (pin.c). ff_pin_write: the rehearsal just made, as a sealed plan
 * at ctx->pin.out. ff_pin_load: read, unseal and check the plan at
 * ctx->pin.in against the world (ffrun, expiry, config, modules, backup,
 * targets), then take its runbook and params; FF_EFAIL naming what
 * differs. ff_pin_check_runbook: the runbook resolved is the plan's. */
int ff_pin_write(ff_ctx *ctx, ff_err *e);
int ff_pin_load(ff_ctx *ctx, ff_err *e);
int ff_pin_check_runbook(ff_ctx *ctx, ff_err *e);

/* A line on stderr that clears a status line of long work first. */
void ff_rb_say(ff_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Seal the evidence (summary.json, DIGEST), print the outcome, write the
 * metrics. Idempotent. */
void ff_rb_seal(ff_ctx *ctx);
/* ctx->on_stuck: seal FAIL evidence from the watchdog and end the process. */
void ff_rb_stuck(ff_ctx *ctx, int exit_status);

#endif
