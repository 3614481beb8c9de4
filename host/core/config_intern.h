/* config_intern.h - shared by config.c (the schema: sections, loading,
 * freeing) and config_value.c (one YAML value read as a string, path,
 * number, boolean, choice or list). Not part of config.h's API.
 *
 * Every reader returns 0, or a negative code with e->msg set to
 * "file:line:col: what" pointing at the node that is wrong. */
#ifndef FF_CONFIG_INTERN_H
#define FF_CONFIG_INTERN_H

#include <stddef.h>

#include "config.h"

typedef struct loader {
	ff_config *cfg;
	const char *name; /* the path as the operator gave it, for messages */
	ff_err *e;
} loader;

/* An FF_EUSAGE error at node n. */
int cfg_bad(loader *l, const ff_yaml_node *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int cfg_oom(loader *l);
/* Key k as a message may show it: at most 64 bytes, control bytes as '?'. */
const char *cfg_shown(char buf[72], const ff_yaml_node *k);
/* "unknown key 'k' in section" (section NULL: at the top level). */
int cfg_unknown(loader *l, const ff_yaml_node *k, const char *section);
int cfg_is(const ff_yaml_node *k, const char *s);
int cfg_is_null(const ff_yaml_node *n);
/* 1: walk n; 0: null, keep the defaults; < 0: not a map (a list). */
int cfg_want_map(loader *l, const ff_yaml_node *n, const char *what);
int cfg_want_seq(loader *l, const ff_yaml_node *n, const char *what);
/* Replace *dst with a copy of s[0..len). */
int cfg_set_dup(loader *l, char **dst, const char *s, size_t len);
int cfg_get_str(loader *l, const ff_yaml_node *n, const char *what, char **dst);
/* p made absolute against dir (malloc'd), or NULL when out of memory. */
char *cfg_resolve(const char *dir, const char *p);
int cfg_get_path(loader *l, const ff_yaml_node *n, const char *what, char **dst);
/* 0, -1 when n is not a plain decimal integer, -2 when it overflows. */
int cfg_parse_int(const ff_yaml_node *n, long long *out);
int cfg_get_int(loader *l, const ff_yaml_node *n, const char *what,
		long long min, long long max, long long *out);
int cfg_get_num(loader *l, const ff_yaml_node *n, const char *what,
		double min, int min_excluded, double *out);
int cfg_get_bool(loader *l, const ff_yaml_node *n, const char *what, int *out);
/* One of choices (NULL-terminated); listed names them in the message. */
int cfg_get_choice(loader *l, const ff_yaml_node *n, const char *what,
		   const char *const choices[], const char *listed, char **dst);
/* A list of strings, each resolved as a path when paths is set, each
 * required to be absolute when absolute is set; *count counts what is
 * filled so far, so ff_config_free frees it after an error too. */
int cfg_get_strv(loader *l, const ff_yaml_node *n, const char *what,
		 int paths, int absolute, char ***dst, size_t *count);

#endif
