/* test_amcheck.c - pg_amcheck's report read as it streams: the relations
 * it names and its first reports, the same in whatever pieces the bytes
 * come, in fixed memory however long the report. The sample is what
 * PostgreSQL 15's pg_amcheck printed for a heap line pointer and a btree
 * index corrupted on disk with dd. */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "core/amcheck.h"

static const char sample[] =
	"heap table \"app.public.t\", block 1, offset 4:\n"
	"    line pointer to page offset 32767 is not maximally aligned\n"
	"btree index \"app.public.t_pkey\":\n"
	"    ERROR:  heap tuple (1,15) from table \"t\" lacks matching index tuple within index \"t_pkey\"\n"
	"    HINT:  Retrying verification using the function bt_index_parent_check() might provide a more specific error.\n"
	"heap table \"app.public.t\", block 2, offset 9:\n"
	"    line pointer redirection to item at offset 300 exceeds maximum offset 226\n";

static int starts(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

static void read_in_pieces(ff_amcheck_result *r, const char *text, size_t piece)
{
	ff_amcheck_scan s;
	memset(r, 0, sizeof(*r));
	ff_amcheck_scan_init(&s, r);
	size_t n = strlen(text);
	for (size_t i = 0; i < n; i += piece)
		ff_amcheck_scan_feed(&s, text + i, n - i < piece ? n - i : piece);
	ff_amcheck_scan_end(&s);
}

static void test_relations_and_summary_in_any_pieces(void)
{
	static const size_t pieces[] = { 1, 2, 7, 64, 4096 };
	for (size_t p = 0; p < sizeof(pieces) / sizeof(*pieces); p++) {
		ff_amcheck_result r;
		read_in_pieces(&r, sample, pieces[p]);
		CHECK(r.problems == 3);
		CHECK(r.nrels == 2); /* app.public.t twice: named once */
		CHECK_STR(r.rels[0], "app.public.t");
		CHECK_STR(r.rels[1], "app.public.t_pkey");
		CHECK(starts(r.summary, "heap table \"app.public.t\", block 1, offset 4: line pointer to page "
				  "offset 32767 is not maximally aligned; btree index \"app.public.t_pkey\": "
				  "ERROR:  heap tuple (1,15)"));
		CHECK(strchr(r.summary, '\n') == NULL);
	}
}

static void test_clean_report_names_nothing(void)
{
	ff_amcheck_result r;
	read_in_pieces(&r, "", 1);
	CHECK(r.problems == 0 && r.nrels == 0 && r.summary[0] == '\0');
	/* Indented lines without a report before them, and lines that only
	 * look alike, are not reports. */
	read_in_pieces(&r, "    stray detail\nheap table without quotes:\nbtree index \"x.y.z\" no colon\n", 3);
	CHECK(r.problems == 0 && r.nrels == 0 && r.summary[0] == '\0');
}

static void test_a_huge_report_stays_bounded(void)
{
	ff_amcheck_result r;
	ff_amcheck_scan s;
	char line[700];
	memset(&r, 0, sizeof(r));
	ff_amcheck_scan_init(&s, &r);
	for (int i = 0; i < 5000; i++) {
		snprintf(line, sizeof(line), "btree index \"app.public.idx_%d\":\n    ERROR:  %0500d\n", i, i);
		ff_amcheck_scan_feed(&s, line, strlen(line));
	}
	/* A header longer than the line buffer: cut, still counted. */
	memset(line, 'x', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\0';
	ff_amcheck_scan_feed(&s, "btree index \"", 13);
	ff_amcheck_scan_feed(&s, line, strlen(line));
	ff_amcheck_scan_feed(&s, "\":\n", 3);
	ff_amcheck_scan_end(&s);
	CHECK(r.problems == 5000); /* the cut header lost its ':' ending */
	CHECK(r.nrels == FF_AMCHECK_RELS);
	CHECK_STR(r.rels[0], "app.public.idx_0");
	CHECK_STR(r.rels[FF_AMCHECK_RELS - 1], "app.public.idx_15");
	CHECK(strlen(r.summary) < sizeof(r.summary));
	CHECK(starts(r.summary, "btree index \"app.public.idx_0\": ERROR:  000"));
}

int main(void)
{
	test_relations_and_summary_in_any_pieces();
	test_clean_report_names_nothing();
	test_a_huge_report_stays_bounded();
	return check_summary();
}
