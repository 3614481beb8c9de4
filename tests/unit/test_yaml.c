/* test_yaml.c - the tree, its positions, what the parser refuses, and
 * emit/parse round trips. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/yaml.h"

static ff_yaml_node *parse(const char *text, ff_err *e)
{
	ff_yaml_node *n = NULL;
	memset(e, 0, sizeof(*e));
	if (ff_yaml_parse(&n, text, strlen(text), "t.yaml", e) < 0)
		return NULL;
	return n;
}

static int parse_fails_with(const char *text, const char *where, const char *what)
{
	ff_err e;
	ff_yaml_node *n = NULL;
	int rc = ff_yaml_parse(&n, text, strlen(text), "t.yaml", &e);
	int ok = rc == FF_EUSAGE && n == NULL && e.code == FF_EUSAGE &&
		 strstr(e.msg, where) && strstr(e.msg, what);
	if (!ok)
		fprintf(stderr, "  got rc=%d msg=%s\n", rc, rc < 0 ? e.msg : "");
	ff_yaml_free(n);
	return ok;
}

static void test_tree_and_positions(void)
{
	ff_err e;
	ff_yaml_node *n = parse("# head\n"
				"a: 1\n"
				"b:\n"
				"  - x\n"
				"  - 'quoted'\n"
				"c: {d: \"7\", e: [1, 2]}\n", &e);
	CHECK(n != NULL);
	if (!n)
		return;
	CHECK(n->kind == FF_YAML_MAP && n->n == 3);
	CHECK(n->line == 2 && n->col == 1);
	const ff_yaml_node *a = ff_yaml_get(n, "a");
	CHECK(a && a->kind == FF_YAML_SCALAR && a->plain && strcmp(a->value, "1") == 0);
	CHECK(a && a->line == 2 && a->col == 4);
	CHECK(n->items[2]->line == 3 && n->items[2]->col == 1); /* key b */
	const ff_yaml_node *b = ff_yaml_get(n, "b");
	CHECK(b && b->kind == FF_YAML_SEQ && b->n == 2);
	CHECK(b && b->items[1]->line == 5 && b->items[1]->col == 5);
	CHECK(b && !b->items[1]->plain && strcmp(b->items[1]->value, "quoted") == 0);
	const ff_yaml_node *c = ff_yaml_get(n, "c");
	CHECK(c && c->kind == FF_YAML_MAP && c->line == 6 && c->col == 4);
	const ff_yaml_node *d = ff_yaml_get(c, "d");
	CHECK(d && !d->plain && strcmp(d->value, "7") == 0 && d->col == 8);
	const ff_yaml_node *ee = ff_yaml_get(c, "e");
	CHECK(ee && ee->kind == FF_YAML_SEQ && ee->n == 2 && ee->items[1]->col == 20);
	CHECK(ff_yaml_get(n, "zz") == NULL);
	CHECK(ff_yaml_get(a, "a") == NULL); /* not a map */
	ff_yaml_free(n);
}

static void test_empty_documents(void)
{
	ff_err e;
	const char *empties[] = { "", "# only a comment\n", "---\n", "~\n", "\n\n" };
	for (size_t i = 0; i < sizeof(empties) / sizeof(*empties); i++) {
		ff_yaml_node *n = (ff_yaml_node *)1;
		CHECK(ff_yaml_parse(&n, empties[i], strlen(empties[i]), "t", &e) == 0);
		CHECK(n == NULL);
	}
}

static void test_scalar_with_nul(void)
{
	ff_err e;
	ff_yaml_node *n = NULL;
	const char text[] = "\"a\\0b\"";
	CHECK(ff_yaml_parse(&n, text, sizeof(text) - 1, "t", &e) == 0);
	CHECK(n && n->kind == FF_YAML_SCALAR && n->len == 3 && n->value[1] == '\0');
	ff_yaml_free(n);
}

static void test_refusals(void)
{
	CHECK(parse_fails_with("a: &x 1\nb: *x\n", "t.yaml:1:4:", "anchors are not allowed"));
	CHECK(parse_fails_with("a: [1]\nb: *x\n", "t.yaml:2:4:", "aliases are not allowed"));
	CHECK(parse_fails_with("base: &b {x: 1}\n", "t.yaml:1:7:", "anchors"));
	CHECK(parse_fails_with("l: &l [1]\n", "t.yaml:1:4:", "anchors"));
	/* The classic billion laughs stops at the first anchor. */
	CHECK(parse_fails_with("a: &a [\"lol\",\"lol\"]\nb: &b [*a,*a,*a]\nc: [*b,*b]\n",
			       "t.yaml:1:4:", "anchors"));
	CHECK(parse_fails_with("a: 1\nb: 2\na: 3\n", "t.yaml:3:1:", "duplicate key 'a'"));
	CHECK(parse_fails_with("x:\n  k: 1\n  j: 2\n  k: 3\n", "t.yaml:4:3:", "duplicate key 'k'"));
	CHECK(parse_fails_with("{a: 1, a: 1}\n", "t.yaml:1:8:", "duplicate key"));
	CHECK(parse_fails_with("? [a, b]\n: 1\n", "t.yaml:1:3:", "map keys must be scalars"));
	CHECK(parse_fails_with("{a: 1}: 2\n", "t.yaml:1:1:", "map keys must be scalars"));
	CHECK(parse_fails_with("a: 1\n---\nb: 2\n", "t.yaml:2:1:", "more than one document"));
	CHECK(parse_fails_with("a: 1\n b: 2\n", "t.yaml:2:3:", "mapping values are not allowed"));
	CHECK(parse_fails_with("a: [1, 2\n", "t.yaml:2:1:", "did not find expected"));
	CHECK(parse_fails_with("a: \"open\n", "t.yaml:", "quoted scalar"));
	CHECK(parse_fails_with("a: \t\x01\n", "t.yaml:1:1:", "control characters"));
}

static void test_depth_cap(void)
{
	char *deep = malloc(2 * 300 + 1);
	memset(deep, '[', 300);
	memset(deep + 300, ']', 300);
	deep[600] = '\0';
	CHECK(parse_fails_with(deep, "t.yaml:1:257:", "nesting deeper than 256"));
	free(deep);
}

static void test_many_keys_duplicate_found(void)
{
	size_t n = 20000, off = 0;
	char *text = malloc(n * 16 + 32);
	for (size_t i = 0; i < n; i++)
		off += (size_t)sprintf(text + off, "k%zu: %zu\n", i, i);
	sprintf(text + off, "k77: again\n");
	CHECK(parse_fails_with(text, "t.yaml:20001:1:", "duplicate key 'k77'"));
	free(text);
}

/* Parse, emit, parse again: same shape, same strings, same plainness. */
static int same(const ff_yaml_node *a, const ff_yaml_node *b)
{
	if (!a || !b)
		return a == b;
	if (a->kind != b->kind || a->n != b->n)
		return 0;
	if (a->kind == FF_YAML_SCALAR)
		return a->len == b->len && memcmp(a->value, b->value, a->len) == 0 &&
		       !a->plain == !b->plain;
	size_t nitems = a->kind == FF_YAML_MAP ? 2 * a->n : a->n;
	for (size_t i = 0; i < nitems; i++)
		if (!same(a->items[i], b->items[i]))
			return 0;
	return 1;
}

static void test_round_trip(void)
{
	const char *docs[] = {
		"a: 1\nb: '1'\nc: \"true\"\nd: true\ne: ~\nf: ''\ng:\n",
		"list:\n- 'x: y'\n- \"#not a comment\"\n- '- dash'\n- '[flow]'\n- \"line1\\nline2\"\n",
		"nested:\n  deeper:\n    - {k: v}\n    - []\n    - {}\n",
		"unicode: \"привет, мир ✓\"\nspaces: '  lead and trail  '\ncolon: 'a:b'\n",
		"tabs: \"a\\tb\"\nnul: \"a\\0b\"\nbell: \"\\a\"\n",
		"- - - 1\n  - 2\n- 'null'\n- '~'\n- '0x10'\n- '1e3'\n- 'yes'\n",
		"key with spaces: 'value'\n'quoted key': 1\n'': empty key\n",
		"literal: |\n  line one\n  line two\nfolded: >\n  a\n  b\n",
		"just a scalar\n",
	};
	for (size_t i = 0; i < sizeof(docs) / sizeof(*docs); i++) {
		ff_err e;
		ff_yaml_node *a = parse(docs[i], &e), *b = NULL;
		char *out = NULL;
		size_t len = 0;
		CHECK(a != NULL);
		CHECK(ff_yaml_emit(&out, &len, a, &e) == 0);
		CHECK(out && strlen(out) == len);
		if (out) {
			CHECK(ff_yaml_parse(&b, out, len, "emitted", &e) == 0);
			CHECK(same(a, b));
			if (!same(a, b))
				fprintf(stderr, "  doc %zu emitted as:\n%s\n", i, out);
		}
		free(out);
		ff_yaml_free(a);
		ff_yaml_free(b);
	}
}

static void test_emit_block_style_and_empty(void)
{
	ff_err e;
	ff_yaml_node *n = parse("{a: [1, 2], b: {c: d}}", &e);
	char *out = NULL;
	size_t len;
	CHECK(ff_yaml_emit(&out, &len, n, &e) == 0);
	CHECK_STR(out, "a:\n- 1\n- 2\nb:\n  c: d\n");
	free(out);
	ff_yaml_free(n);

	CHECK(ff_yaml_emit(&out, &len, NULL, &e) == 0);
	CHECK(out && len == 0 && out[0] == '\0');
	free(out);
}

static void test_emit_refuses_bad_utf8(void)
{
	ff_err e;
	ff_yaml_node n = { .kind = FF_YAML_SCALAR, .value = "\xff\xfe", .len = 2 };
	char *out = (char *)1;
	CHECK(ff_yaml_emit(&out, NULL, &n, &e) == FF_EFAIL);
	CHECK(out == NULL);
	CHECK(strstr(e.msg, "UTF-8") != NULL);
}

int main(void)
{
	test_tree_and_positions();
	test_empty_documents();
	test_scalar_with_nul();
	test_refusals();
	test_depth_cap();
	test_many_keys_duplicate_found();
	test_round_trip();
	test_emit_block_style_and_empty();
	test_emit_refuses_bad_utf8();
	return check_summary();
}
