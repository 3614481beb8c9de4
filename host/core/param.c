/* param.c - "NAME=VALUE" and a value read as its declared type. */
#include "core/param.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int ff_param_split(size_t *name_len, const char **value, const char *arg, ff_err *e)
{
	const char *eq = strchr(arg, '=');
	if (!eq || eq == arg)
		return ff_err_set(e, FF_EUSAGE, "'%.200s%s': parameters are NAME=VALUE", arg, strlen(arg) > 200 ? "…" : "");
	*name_len = (size_t)(eq - arg);
	*value = eq + 1;
	return 0;
}

int ff_param_type_of(const char *name)
{
	static const char *const names[] = { "string", "integer", "number", "boolean", "dir" };
	for (int i = 0; i < 5; i++)
		if (!strcmp(name, names[i]))
			return i;
	return -1;
}

int ff_param_parse(ff_param_value *out, ff_param_type type, const char *text, ff_err *e)
{
	char *end;
	memset(out, 0, sizeof(*out));
	out->type = type;
	switch (type) {
	case FF_PARAM_INTEGER:
		errno = 0;
		out->i = strtoll(text, &end, 10);
		if (!*text || *end || errno)
			return ff_err_set(e, FF_EUSAGE, "must be an integer");
		return 0;
	case FF_PARAM_NUMBER:
		errno = 0;
		out->n = strtod(text, &end);
		/* nan compares false with everything: a check such as
		 * `v >= 0` would not see it; inf is no quantity either. */
		if (!*text || *end || !isfinite(out->n))
			return ff_err_set(e, FF_EUSAGE, "must be a number");
		return 0;
	case FF_PARAM_BOOLEAN:
		if (strcmp(text, "true") && strcmp(text, "false"))
			return ff_err_set(e, FF_EUSAGE, "must be true or false");
		out->b = !strcmp(text, "true");
		return 0;
	case FF_PARAM_DIR: {
		struct stat st;
		char *real = *text ? realpath(text, NULL) : NULL;
		if (!real || stat(real, &st) < 0 || !S_ISDIR(st.st_mode)) {
			free(real);
			return ff_err_set(e, FF_EUSAGE, "must be an existing folder");
		}
		out->s = real;
		out->owned = 1;
		return 0;
	}
	case FF_PARAM_STRING:
		out->s = (char *)text;
		return 0;
	}
	return ff_err_set(e, FF_EINTERNAL, "unknown parameter type %d", (int)type);
}

void ff_param_value_free(ff_param_value *v)
{
	if (v->owned)
		free(v->s);
	v->s = NULL;
	v->owned = 0;
}
