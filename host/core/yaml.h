/* yaml.h - a YAML document as a small tree with source positions, built
 * with libyaml's parser. The config loader checks it against its schema;
 * ff.yaml turns it into Lua tables; the redactor rewrites its scalars. */
#ifndef FF_YAML_H
#define FF_YAML_H

#include <stddef.h>

#include "err.h"

typedef enum { FF_YAML_SCALAR, FF_YAML_SEQ, FF_YAML_MAP } ff_yaml_kind;

typedef struct ff_yaml_node ff_yaml_node;
struct ff_yaml_node {
	ff_yaml_kind kind;
	int line, col;       /* 1-based position of the node's start */
	char *value;         /* SCALAR: the text (NUL-terminated) */
	size_t len;          /* SCALAR: its length (may hold NULs) */
	int plain;           /* SCALAR: 1 when unquoted (so may be a number,
	                        bool or null), 0 when quoted or block */
	ff_yaml_node **items;/* SEQ: items; MAP: keys and values interleaved
	                        (items[2i] a scalar key, items[2i+1] its value) */
	size_t n;            /* SEQ: item count; MAP: pair count */
};

/* Parse exactly one document from text (len bytes). name is used in error
 * messages ("name:line:col: what"). Aliases and anchors are refused (a
 * billion-laughs document must not blow up), as are duplicate map keys and
 * non-scalar keys, several documents and nesting deeper than 256 levels.
 * An empty document (nothing, comments, `---`, `~`) gives *out = NULL and
 * returns 0. Errors are FF_EUSAGE, FF_EFAIL only when out of memory. */
int ff_yaml_parse(ff_yaml_node **out, const char *text, size_t len,
		  const char *name, ff_err *e);
void ff_yaml_free(ff_yaml_node *n);

/* Value lookup in a MAP by key; NULL when absent. */
const ff_yaml_node *ff_yaml_get(const ff_yaml_node *map, const char *key);

/* Emit a tree back as YAML text (block style, scalars quoted when needed).
 * *out is malloc'd and NUL-terminated. */
int ff_yaml_emit(char **out, size_t *len, const ff_yaml_node *root, ff_err *e);

/* libyaml's version ("0.2.5"), for ffrun --version: libyaml's own header
 * cannot be included beside this one (see below). */
const char *ff_yaml_libyaml_version(void);

#endif

/* libyaml's header is also named yaml.h. When host/core is on the include
 * path, <yaml.h> lands here: yaml.c, the one file that needs libyaml,
 * defines FF_YAML_LIBYAML and is passed on to libyaml's header. */
#if defined(FF_YAML_LIBYAML) && !defined(YAML_H)
#include_next <yaml.h>
#endif
