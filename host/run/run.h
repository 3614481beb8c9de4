/* run.h - the run driver, what main.c calls. */
#ifndef FF_RUN_H
#define FF_RUN_H

#include "vm/ctx.h"

/* Run the whole procedure described by ctx (main.c fills the inputs):
 * --describe, --check, a dry-run or a run. Returns the process exit
 * status. */
int ff_run(ff_ctx *ctx);

#endif
