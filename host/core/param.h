/* param.h - a runbook parameter as the command line gives it (SPEC §2,
 * docs/runbook-guide.md "Params"): "NAME=VALUE", and VALUE read as the
 * declared type. Plain C: the driver (run/contract.c) pushes the result
 * into Lua, and tests/fuzz/fuzz_params.c reads hostile argv through it. */
#ifndef FF_PARAM_H
#define FF_PARAM_H

#include <stddef.h>

#include "err.h"

typedef enum {
	FF_PARAM_STRING, FF_PARAM_INTEGER, FF_PARAM_NUMBER, FF_PARAM_BOOLEAN, FF_PARAM_DIR
} ff_param_type;

typedef struct ff_param_value {
	ff_param_type type;
	long long i;  /* INTEGER */
	double n;     /* NUMBER: finite */
	int b;        /* BOOLEAN */
	char *s;      /* STRING: the text itself (not owned); DIR: its real
	                 path, malloc'd: free with ff_param_value_free */
	int owned;
} ff_param_value;

/* Split arg at its first '=': the name is arg[0 .. *name_len), the value
 * *value (after the '='). FF_EUSAGE, naming arg, without a '=' or with an
 * empty name. */
int ff_param_split(size_t *name_len, const char **value, const char *arg, ff_err *e);

/* The declared type's code for its name ("string", "integer", "number",
 * "boolean", "dir"); -1 for any other. */
int ff_param_type_of(const char *name);

/* Read text as type: 0 and *out, or FF_EUSAGE with e->msg "must be an
 * integer" (…"a number", "true or false", "an existing folder"). An integer
 * is base 10 within 64 bits; a number finite (not nan, not inf). */
int ff_param_parse(ff_param_value *out, ff_param_type type, const char *text, ff_err *e);
void ff_param_value_free(ff_param_value *v);

#endif
