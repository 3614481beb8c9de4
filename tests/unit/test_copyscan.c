/* The COPY-block scanner: rows and digests per table equal a direct
 * computation, whatever sizes the text arrives in; `\.` alone ends a
 * table, a row merely starting with a backslash does not; bad text is an
 * error, not a guess. */
#include "core/copyscan.h"
#include "core/hash.h"
#include "core/pg.h"

#include <stdlib.h>

#include "check.h"

static const char script[] =
	"--\n-- PostgreSQL database dump\n--\n\n"
	"SET statement_timeout = 0;\nSET client_encoding = 'UTF8';\n\n"
	"--\n-- Data for Name: accounts; Type: TABLE DATA; Schema: public; Owner: app\n--\n\n"
	"COPY public.accounts (id, note) FROM stdin;\n"
	"1\thello\n"
	"2\t\\N\n"
	"\\\\.\tstarts with an escaped backslash and a dot\n"
	"\\.x\tnot the end either\n"
	"\n"
	"3\tlast\n"
	"\\.\n\n\n"
	"COPY \"Odd Schema\".\"Mixed \"\"Case\"\"\" (a) FROM stdin;\n"
	"\\.\n\n"
	"COPY s.t (x) FROM stdin;\n"
	"only one row\n"
	"\\.\n\n"
	"SELECT pg_catalog.setval('public.s', 3, true);\n";

static const char *const rows_accounts[] = {
	"1\thello\n", "2\t\\N\n", "\\\\.\tstarts with an escaped backslash and a dot\n",
	"\\.x\tnot the end either\n", "\n", "3\tlast\n", NULL
};

static void expect_sum(const unsigned char got[32], const char *const *rows)
{
	unsigned char want[32] = {0}, h[32];
	for (size_t i = 0; rows[i]; i++) {
		ff_sha256_raw(h, rows[i], strlen(rows[i]));
		ff_pg_sum_add(want, h);
	}
	CHECK(memcmp(got, want, 32) == 0);
}

static void scan_in_pieces(size_t piece, int content)
{
	ff_copyscan *s = ff_copyscan_new(content);
	CHECK(s != NULL);
	size_t n = sizeof(script) - 1;
	for (size_t off = 0; off < n; off += piece) {
		size_t k = n - off < piece ? n - off : piece;
		CHECK(ff_copyscan_feed(s, script + off, k) == 0);
	}
	CHECK(ff_copyscan_finish(s) == 0);
	CHECK(ff_copyscan_count(s) == 3);
	const ff_copyscan_table *a = ff_copyscan_get(s, 0), *b = ff_copyscan_get(s, 1),
				*c = ff_copyscan_get(s, 2);
	CHECK(a && b && c);
	if (a && b && c) {
		CHECK_STR(a->schema, "public");
		CHECK_STR(a->name, "accounts");
		CHECK(a->rows == 6);
		CHECK_STR(b->schema, "Odd Schema");
		CHECK_STR(b->name, "Mixed \"Case\"");
		CHECK(b->rows == 0);
		CHECK_STR(c->schema, "s");
		CHECK(c->rows == 1);
		if (content) {
			expect_sum(a->sum, rows_accounts);
			static const char *const one[] = { "only one row\n", NULL };
			expect_sum(c->sum, one);
			static const unsigned char zero[32] = {0};
			CHECK(memcmp(b->sum, zero, 32) == 0);
		}
	}
	ff_copyscan_free(s);
}

static void test_pieces(void)
{
	static const size_t sizes[] = { 1, 2, 3, 5, 7, 64, 4096 };
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		scan_in_pieces(sizes[i], 1);
		scan_in_pieces(sizes[i], 0);
	}
}

static void test_truncated(void)
{
	ff_copyscan *s = ff_copyscan_new(1);
	const char *cut = "COPY public.t (a) FROM stdin;\n1\n2\n";
	CHECK(ff_copyscan_feed(s, cut, strlen(cut)) == 0);
	CHECK(ff_copyscan_finish(s) == -1);
	CHECK(strstr(ff_copyscan_error(s), "public.t") != NULL);
	ff_copyscan_free(s);
}

static void test_bad_name(void)
{
	ff_copyscan *s = ff_copyscan_new(0);
	const char *bad = "COPY \"unterminated (a) FROM stdin;\n";
	CHECK(ff_copyscan_feed(s, bad, strlen(bad)) == -1);
	CHECK(ff_copyscan_feed(s, "x\n", 2) == -1); /* stays failed */
	ff_copyscan_free(s);

	/* A COPY that is not a data block (no FROM stdin) is not a table. */
	s = ff_copyscan_new(0);
	const char *other = "COPY t TO '/tmp/x';\nCOPY_LIKE text\n";
	CHECK(ff_copyscan_feed(s, other, strlen(other)) == 0);
	CHECK(ff_copyscan_finish(s) == 0);
	CHECK(ff_copyscan_count(s) == 0);
	ff_copyscan_free(s);
}

int main(void)
{
	test_pieces();
	test_truncated();
	test_bad_name();
	return check_summary();
}
