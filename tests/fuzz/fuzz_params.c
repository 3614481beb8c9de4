/* libFuzzer target: the NAME=VALUE params parser (core/param.c), what
 * run/contract.c reads from the command line. The first byte picks the
 * declared type, the rest is the argument. Never a crash; every refusal
 * says what the value must be; what is accepted reads back as itself. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/param.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 4096)
		return 0;
	ff_param_type type = (ff_param_type)(data[0] % 5);
	/* argv strings end at their first NUL. */
	char *arg = malloc(size);
	memcpy(arg, data + 1, size - 1);
	arg[size - 1] = '\0';
	size_t kl;
	const char *value;
	ff_err e = {0};
	if (ff_param_split(&kl, &value, arg, &e) < 0) {
		if (!strstr(e.msg, "NAME=VALUE") || (strchr(arg, '=') && arg[0] != '='))
			__builtin_trap();
		free(arg);
		return 0;
	}
	if (kl == 0 || arg[kl] != '=' || value != arg + kl + 1 || memchr(arg, '=', kl))
		__builtin_trap();
	ff_param_value v;
	if (ff_param_parse(&v, type, value, &e) < 0) {
		if (strncmp(e.msg, "must be ", 8) || v.s)
			__builtin_trap();
		free(arg);
		return 0;
	}
	char back[64];
	ff_param_value w;
	switch (type) {
	case FF_PARAM_INTEGER:
		snprintf(back, sizeof(back), "%lld", v.i);
		if (ff_param_parse(&w, type, back, &e) < 0 || w.i != v.i)
			__builtin_trap();
		break;
	case FF_PARAM_NUMBER:
		if (!isfinite(v.n))
			__builtin_trap();
		snprintf(back, sizeof(back), "%.17g", v.n);
		if (ff_param_parse(&w, type, back, &e) < 0 || w.n != v.n)
			__builtin_trap();
		break;
	case FF_PARAM_BOOLEAN:
		if (strcmp(value, v.b ? "true" : "false"))
			__builtin_trap();
		break;
	case FF_PARAM_DIR:
		if (!v.s || v.s[0] != '/' || ff_param_parse(&w, type, v.s, &e) < 0 || strcmp(w.s, v.s))
			__builtin_trap();
		ff_param_value_free(&w);
		break;
	case FF_PARAM_STRING:
		if (v.s != value)
			__builtin_trap();
		break;
	}
	ff_param_value_free(&v);
	free(arg);
	return 0;
}
