/* yaml.c - libyaml's event parser folded into a small tree, and the tree
 * emitted back through libyaml's emitter. The event API (not the document
 * loader) is used so that aliases can be refused before anything expands. */
#include "yaml.h" /* ours, from this folder */

/* libyaml's: found directly when only host/ is on the include path, or
 * through ours (see its end) when host/core is on it too. */
#define FF_YAML_LIBYAML
#include <yaml.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Deeper documents are refused: the tree is freed and emitted recursively,
 * and no configuration or compose file comes near this. */
#define FF_YAML_MAX_DEPTH 256

typedef struct frame {
	ff_yaml_node *node;
	size_t count; /* items appended so far (keys and values for a MAP) */
	size_t cap;
} frame;

typedef struct builder {
	const char *name;
	ff_err *e;
	ff_yaml_node *root;
	frame stack[FF_YAML_MAX_DEPTH];
	int depth;
} builder;

static int fail_at(builder *b, yaml_mark_t m, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail_at(builder *b, yaml_mark_t m, const char *fmt, ...)
{
	char what[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return ff_err_set(b->e, FF_EUSAGE, "%s:%zu:%zu: %s", b->name,
			  m.line + 1, m.column + 1, what);
}

void ff_yaml_free(ff_yaml_node *n)
{
	if (!n)
		return;
	size_t nitems = n->kind == FF_YAML_MAP ? 2 * n->n : n->n;
	for (size_t i = 0; i < nitems; i++)
		ff_yaml_free(n->items[i]);
	free(n->items);
	free(n->value);
	free(n);
}

static ff_yaml_node *node_new(ff_yaml_kind kind, yaml_mark_t m)
{
	ff_yaml_node *n = calloc(1, sizeof(*n));
	if (n) {
		n->kind = kind;
		n->line = (int)m.line + 1;
		n->col = (int)m.column + 1;
	}
	return n;
}

/* Attach n to the open container (or make it the root). The tree owns n
 * from here on, so a later failure frees it with the root. A MAP's items
 * stay zero-padded to an even count and n->n is rounded up, so a map cut
 * short after a key can still be freed. */
static int attach(builder *b, ff_yaml_node *n, yaml_mark_t m)
{
	if (b->depth == 0) {
		if (b->root) { /* cannot happen: one document, one root */
			ff_yaml_free(n);
			return fail_at(b, m, "more than one root node");
		}
		b->root = n;
		return 0;
	}
	frame *f = &b->stack[b->depth - 1];
	ff_yaml_node *parent = f->node;
	if (parent->kind == FF_YAML_MAP && f->count % 2 == 0 &&
	    n->kind != FF_YAML_SCALAR) {
		ff_yaml_free(n);
		return fail_at(b, m, "map keys must be scalars");
	}
	if (f->count + 2 > f->cap) {
		size_t cap = f->cap ? 2 * f->cap : 8;
		ff_yaml_node **items = realloc(parent->items, cap * sizeof(*items));
		if (!items) {
			ff_yaml_free(n);
			return ff_err_set(b->e, FF_EFAIL, "%s: out of memory", b->name);
		}
		memset(items + f->cap, 0, (cap - f->cap) * sizeof(*items));
		parent->items = items;
		f->cap = cap;
	}
	parent->items[f->count++] = n;
	parent->n = parent->kind == FF_YAML_MAP ? (f->count + 1) / 2 : f->count;
	return 0;
}

static int open_container(builder *b, ff_yaml_kind kind, yaml_mark_t m)
{
	if (b->depth == FF_YAML_MAX_DEPTH)
		return fail_at(b, m, "nesting deeper than %d levels", FF_YAML_MAX_DEPTH);
	ff_yaml_node *n = node_new(kind, m);
	if (!n)
		return ff_err_set(b->e, FF_EFAIL, "%s: out of memory", b->name);
	int err = attach(b, n, m);
	if (err < 0)
		return err;
	b->stack[b->depth++] = (frame){ .node = n };
	return 0;
}

static int key_cmp(const void *pa, const void *pb)
{
	const ff_yaml_node *a = *(ff_yaml_node *const *)pa;
	const ff_yaml_node *b = *(ff_yaml_node *const *)pb;
	if (a->len != b->len)
		return a->len < b->len ? -1 : 1;
	int c = memcmp(a->value, b->value, a->len);
	if (c)
		return c;
	if (a->line != b->line)
		return a->line < b->line ? -1 : 1;
	return (a->col > b->col) - (a->col < b->col);
}

/* Sorting the keys keeps a 100k-key map from costing 10^10 comparisons;
 * the duplicate reported is the first one in document order. */
static int check_duplicates(builder *b, const ff_yaml_node *map)
{
	if (map->n < 2)
		return 0;
	ff_yaml_node **keys = malloc(map->n * sizeof(*keys));
	if (!keys)
		return ff_err_set(b->e, FF_EFAIL, "%s: out of memory", b->name);
	for (size_t i = 0; i < map->n; i++)
		keys[i] = map->items[2 * i];
	qsort(keys, map->n, sizeof(*keys), key_cmp);
	const ff_yaml_node *dup = NULL;
	for (size_t i = 1; i < map->n; i++) {
		const ff_yaml_node *k = keys[i];
		if (k->len != keys[i - 1]->len || memcmp(k->value, keys[i - 1]->value, k->len))
			continue;
		if (!dup || k->line < dup->line || (k->line == dup->line && k->col < dup->col))
			dup = k;
	}
	int err = 0;
	if (dup)
		err = ff_err_set(b->e, FF_EUSAGE, "%s:%d:%d: duplicate key '%s'",
				 b->name, dup->line, dup->col, dup->value);
	free(keys);
	return err;
}

static int on_event(builder *b, const yaml_event_t *ev, int *docs)
{
	yaml_mark_t m = ev->start_mark;
	ff_yaml_node *n;
	int err;

	switch (ev->type) {
	case YAML_DOCUMENT_START_EVENT:
		if (++*docs > 1)
			return fail_at(b, m, "more than one document");
		return 0;
	case YAML_ALIAS_EVENT:
		return fail_at(b, m, "aliases are not allowed");
	case YAML_SCALAR_EVENT:
		if (ev->data.scalar.anchor)
			return fail_at(b, m, "anchors are not allowed");
		if (!(n = node_new(FF_YAML_SCALAR, m)) ||
		    !(n->value = malloc(ev->data.scalar.length + 1))) {
			free(n);
			return ff_err_set(b->e, FF_EFAIL, "%s: out of memory", b->name);
		}
		memcpy(n->value, ev->data.scalar.value, ev->data.scalar.length);
		n->value[ev->data.scalar.length] = '\0';
		n->len = ev->data.scalar.length;
		/* A tag (`!!str 1`) or quotes make it text, never a number. */
		n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
			   !ev->data.scalar.tag;
		return attach(b, n, m);
	case YAML_SEQUENCE_START_EVENT:
		if (ev->data.sequence_start.anchor)
			return fail_at(b, m, "anchors are not allowed");
		return open_container(b, FF_YAML_SEQ, m);
	case YAML_MAPPING_START_EVENT:
		if (ev->data.mapping_start.anchor)
			return fail_at(b, m, "anchors are not allowed");
		return open_container(b, FF_YAML_MAP, m);
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		n = b->stack[--b->depth].node;
		if (n->kind == FF_YAML_MAP && (err = check_duplicates(b, n)) < 0)
			return err;
		return 0;
	default:
		return 0;
	}
}

int ff_yaml_parse(ff_yaml_node **out, const char *text, size_t len,
		  const char *name, ff_err *e)
{
	yaml_parser_t parser;
	builder *b;
	int docs = 0, err = 0, done = 0;

	*out = NULL;
	/* The stack is too big for a C stack frame worth keeping. */
	if (!(b = calloc(1, sizeof(*b))))
		return ff_err_set(e, FF_EFAIL, "%s: out of memory", name);
	b->name = name;
	b->e = e;
	if (!yaml_parser_initialize(&parser)) {
		free(b);
		return ff_err_set(e, FF_EFAIL, "%s: out of memory", name);
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	while (!done && err == 0) {
		yaml_event_t ev;
		if (!yaml_parser_parse(&parser, &ev)) {
			const char *ctx = parser.context;
			yaml_mark_t m = parser.problem_mark;
			if (parser.error == YAML_MEMORY_ERROR)
				err = ff_err_set(e, FF_EFAIL, "%s: out of memory", name);
			else
				err = fail_at(b, m, "%s%s%s%s", parser.problem ? parser.problem : "invalid YAML",
					      ctx ? " (" : "", ctx ? ctx : "", ctx ? ")" : "");
			break;
		}
		err = on_event(b, &ev, &docs);
		done = ev.type == YAML_STREAM_END_EVENT;
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&parser);
	ff_yaml_node *root = b->root;
	free(b);
	if (err < 0) {
		ff_yaml_free(root);
		return err;
	}
	/* `---` alone, or `~`, is a document with nothing in it. */
	if (root && root->kind == FF_YAML_SCALAR && root->plain &&
	    (root->len == 0 || strcmp(root->value, "~") == 0 || strcmp(root->value, "null") == 0)) {
		ff_yaml_free(root);
		root = NULL;
	}
	*out = root;
	return 0;
}

const ff_yaml_node *ff_yaml_get(const ff_yaml_node *map, const char *key)
{
	if (!map || map->kind != FF_YAML_MAP)
		return NULL;
	size_t klen = strlen(key);
	for (size_t i = 0; i < map->n; i++) {
		const ff_yaml_node *k = map->items[2 * i];
		if (k && k->len == klen && memcmp(k->value, key, klen) == 0)
			return map->items[2 * i + 1];
	}
	return NULL;
}

const char *ff_yaml_libyaml_version(void)
{
	return yaml_get_version_string();
}

typedef struct outbuf {
	char *data;
	size_t len, cap;
} outbuf;

static int write_out(void *data, unsigned char *chunk, size_t size)
{
	outbuf *o = data;
	if (o->len + size + 1 > o->cap) {
		size_t cap = o->cap ? o->cap : 256;
		while (cap < o->len + size + 1)
			cap *= 2;
		char *p = realloc(o->data, cap);
		if (!p)
			return 0;
		o->data = p;
		o->cap = cap;
	}
	memcpy(o->data + o->len, chunk, size);
	o->len += size;
	o->data[o->len] = '\0';
	return 1;
}

/* Emits n; 0 on success, or a message for the caller's error. */
static const char *emit_node(yaml_emitter_t *em, const ff_yaml_node *n, int depth)
{
	yaml_event_t ev;

	if (depth > FF_YAML_MAX_DEPTH)
		return "nesting too deep";
	if (!n) /* a hole left by a builder; emitted as null */
		n = &(ff_yaml_node){ .kind = FF_YAML_SCALAR, .value = "", .plain = 1 };
	switch (n->kind) {
	case FF_YAML_SCALAR:
		/* Quoted scalars must come back quoted, or "123" would turn
		 * into a number; plain ones stay plain when libyaml can. */
		if (!yaml_scalar_event_initialize(&ev, NULL, NULL,
				(yaml_char_t *)n->value, (int)n->len, n->plain, 1,
				YAML_ANY_SCALAR_STYLE))
			return "a scalar is not valid UTF-8";
		return yaml_emitter_emit(em, &ev) ? NULL : em->problem;
	case FF_YAML_SEQ:
	case FF_YAML_MAP: {
		int map = n->kind == FF_YAML_MAP;
		int ok = map ? yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE)
			     : yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_SEQUENCE_STYLE);
		if (!ok || !yaml_emitter_emit(em, &ev))
			return em->problem ? em->problem : "out of memory";
		size_t nitems = map ? 2 * n->n : n->n;
		for (size_t i = 0; i < nitems; i++) {
			const char *why = emit_node(em, n->items[i], depth + 1);
			if (why)
				return why;
		}
		ok = map ? yaml_mapping_end_event_initialize(&ev) : yaml_sequence_end_event_initialize(&ev);
		if (!ok || !yaml_emitter_emit(em, &ev))
			return em->problem ? em->problem : "out of memory";
		return NULL;
	}
	}
	return "unknown node kind";
}

int ff_yaml_emit(char **out, size_t *len, const ff_yaml_node *root, ff_err *e)
{
	yaml_emitter_t em;
	yaml_event_t ev;
	outbuf o = { 0 };
	const char *why = NULL;

	*out = NULL;
	if (len)
		*len = 0;
	if (!root) { /* the empty document parses back to NULL */
		if (!(*out = calloc(1, 1)))
			return ff_err_set(e, FF_EFAIL, "yaml emit: out of memory");
		return 0;
	}
	if (!yaml_emitter_initialize(&em))
		return ff_err_set(e, FF_EFAIL, "yaml emit: out of memory");
	yaml_emitter_set_output(&em, write_out, &o);
	yaml_emitter_set_unicode(&em, 1);
	yaml_emitter_set_width(&em, -1); /* no folding: long values stay one line */
	yaml_emitter_set_indent(&em, 2);

	if (!yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING) ||
	    !yaml_emitter_emit(&em, &ev) ||
	    !yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1) ||
	    !yaml_emitter_emit(&em, &ev))
		why = em.problem ? em.problem : "out of memory";
	if (!why)
		why = emit_node(&em, root, 0);
	if (!why && (!yaml_document_end_event_initialize(&ev, 1) ||
		     !yaml_emitter_emit(&em, &ev) ||
		     !yaml_stream_end_event_initialize(&ev) ||
		     !yaml_emitter_emit(&em, &ev) || !yaml_emitter_flush(&em)))
		why = em.problem ? em.problem : "out of memory";
	yaml_emitter_delete(&em);
	if (why) {
		free(o.data);
		return ff_err_set(e, FF_EFAIL, "yaml emit: %s", why);
	}
	if (!o.data && !(o.data = calloc(1, 1)))
		return ff_err_set(e, FF_EFAIL, "yaml emit: out of memory");
	*out = o.data;
	if (len)
		*len = o.len;
	return 0;
}
