/* plan.h - the plain-C parts of plans (SPEC §4a): a planned write as one
 * comparable line, and the file's seal.
 *
 * A plan file is one JSON object, {"format":"ffrun.plan/1","body":B,
 * "sha256":H}: H is the sha256 of B's exact bytes, so one byte changed
 * anywhere (B, H or the frame) is caught before B is even parsed. */
#ifndef FF_PLAN_H
#define FF_PLAN_H

#include <stddef.h>

#include "err.h"
#include "hash.h"

/* A write as a plan holds it: "[step] call args", args as the dispatcher
 * renders them (JSON), with what differs from one run to the next by
 * nature made placeholders: each from[i] (the run's temporary folder, its
 * evidence folder, the stamps it generated) becomes to[i], a text shown by
 * its size only ("(text, 812 bytes)") becomes "(text)", an exported
 * snapshot id "{snapshot}", and every number outside a string "#". */
void ff_plan_line(char *out, size_t cap, const char *step, const char *call, const char *args,
		  const char *const *from, const char *const *to, size_t nsubst);

/* The sealed file text for body: malloc'd in *out. */
int ff_plan_seal(char **out, const char *body, ff_err *e);

/* Check text's frame and seal; *body points into text (blen bytes). */
int ff_plan_unseal(const char **body, size_t *blen, const char *text, size_t len, ff_err *e);

#endif
