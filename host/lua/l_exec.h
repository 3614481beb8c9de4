/* l_exec.h - what ff.exec and ff.runbook.run share: the result table of
 * a finished child. */
#ifndef FF_L_EXEC_H
#define FF_L_EXEC_H

#include <lua.h>
#include <stddef.h>

#include "core/exec.h"

/* Push { ok, code, signal?, timed_out, output, raw, duration_s } for res:
 * output is out[0..outlen), raw the evidence path rel. MAY_LJMP: call it
 * with no C resource held. */
void ff_push_exec_result(lua_State *L, const ff_exec_result *res, const char *out, size_t outlen,
			 const char *rel);

#endif
