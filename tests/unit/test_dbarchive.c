/* test_dbarchive.c - the archive's database entries: which list lines are
 * chosen, and how pg_restore's script of them is renamed (the script below
 * is what pg_restore 15 printed for a database with every property). */
#include "core/dbarchive.h"

#include <stdlib.h>

#include "check.h"

static const char SCRIPT[] =
	"--\n-- PostgreSQL database dump\n--\n\n"
	"\\restrict puOs3LGRYwRNeJDDAaxANB022GhYGfaR7dMcq2rI2qhBxtXkIygcPw7Re4NBUx3\n"
	"SET statement_timeout = 0;\nSET client_encoding = 'UTF8';\n"
	"SELECT pg_catalog.set_config('search_path', '', false);\n"
	"-- Name: my.db; Type: DATABASE; Schema: -; Owner: owner1\n"
	"CREATE DATABASE \"my.db\" WITH TEMPLATE = template0 ENCODING = 'UTF8' LOCALE_PROVIDER = icu LOCALE = 'C.UTF-8' ICU_LOCALE = 'de-DE';\n\n\n"
	"ALTER DATABASE \"my.db\" OWNER TO owner1;\n"
	"\\unrestrict puOs3LGRYwRNeJDDAaxANB022GhYGfaR7dMcq2rI2qhBxtXkIygcPw7Re4NBUx3\n"
	"\\connect \"my.db\"\n"
	"COMMENT ON DATABASE \"my.db\" IS 'the DATABASE \"my.db\"; ok\n''quoted''';\n"
	"ALTER DATABASE \"my.db\" CONNECTION LIMIT = 7;\n"
	"ALTER DATABASE \"my.db\" SET search_path TO 'app', 'public';\n"
	"ALTER ROLE \"in database\" IN DATABASE \"my.db\" SET statement_timeout TO '5s';\n"
	"REVOKE CONNECT,TEMPORARY ON DATABASE \"my.db\" FROM PUBLIC;\n"
	"GRANT CREATE,CONNECT ON DATABASE \"my.db\" TO app;\n"
	"SECURITY LABEL FOR dummy ON DATABASE \"my.db\" IS 'x';\n";

static const char *const WANT[] = {
	"SET client_encoding = 'UTF8'",
	"CREATE DATABASE \"new\"\"one\" WITH TEMPLATE = template0 ENCODING = 'UTF8' LOCALE_PROVIDER = icu LOCALE = 'C.UTF-8' ICU_LOCALE = 'de-DE'",
	"ALTER DATABASE \"new\"\"one\" OWNER TO owner1",
	"COMMENT ON DATABASE \"new\"\"one\" IS 'the DATABASE \"my.db\"; ok\n''quoted'''",
	"ALTER DATABASE \"new\"\"one\" CONNECTION LIMIT = 7",
	"ALTER DATABASE \"new\"\"one\" SET search_path TO 'app', 'public'",
	"ALTER ROLE \"in database\" IN DATABASE \"new\"\"one\" SET statement_timeout TO '5s'",
	"REVOKE CONNECT,TEMPORARY ON DATABASE \"new\"\"one\" FROM PUBLIC",
	"GRANT CREATE,CONNECT ON DATABASE \"new\"\"one\" TO app",
	"SECURITY LABEL FOR dummy ON DATABASE \"new\"\"one\" IS 'x'",
};

static void test_rewrite(void)
{
	ff_dba_stmts s;
	ff_err e = {0};
	CHECK(ff_dba_rewrite(&s, SCRIPT, "my.db", "\"new\"\"one\"", &e) == 0);
	CHECK(s.n == sizeof(WANT) / sizeof(WANT[0]));
	for (size_t i = 0; i < s.n && i < sizeof(WANT) / sizeof(WANT[0]); i++)
		CHECK_STR(s.v[i], WANT[i]);
	ff_dba_stmts_free(&s);

	/* A plain (unquoted) name, as pg_dump writes a lower-case one. */
	CHECK(ff_dba_rewrite(&s, "ALTER DATABASE app SET work_mem TO '7MB';\n", "app", "app__ffrestore_1", &e) == 0);
	CHECK(s.n == 1);
	if (s.n == 1)
		CHECK_STR(s.v[0], "ALTER DATABASE app__ffrestore_1 SET work_mem TO '7MB'");
	ff_dba_stmts_free(&s);
}

static void test_refused(void)
{
	ff_dba_stmts s;
	ff_err e = {0};
	/* Another database's statement, an unknown statement, an unended one. */
	CHECK(ff_dba_rewrite(&s, "ALTER DATABASE other SET x TO 1;", "app", "b", &e) < 0);
	CHECK(strstr(e.msg, "another database") != NULL);
	CHECK(ff_dba_rewrite(&s, "DROP TABLE t;", "app", "b", &e) < 0);
	CHECK(strstr(e.msg, "does not know") != NULL);
	CHECK(ff_dba_rewrite(&s, "COMMENT ON DATABASE app IS 'x;", "app", "b", &e) < 0);
	CHECK(strstr(e.msg, "inside a statement") != NULL);
	/* "my" is not "my.db": a prefix of the name is another name. */
	CHECK(ff_dba_rewrite(&s, "ALTER DATABASE \"my\" SET x TO 1;", "my.db", "b", &e) < 0);
	CHECK(s.n == 0 && s.v == NULL);
}

static void test_list(void)
{
	CHECK(ff_dba_list_line("3344; 1262 16386 DATABASE - my.db owner1", FF_DBA_CREATE));
	CHECK(!ff_dba_list_line("3344; 1262 16386 DATABASE - my.db owner1", FF_DBA_PROPERTIES));
	CHECK(!ff_dba_list_line("3347; 0 0 DATABASE PROPERTIES - my.db owner1", FF_DBA_CREATE));
	CHECK(ff_dba_list_line("3347; 0 0 DATABASE PROPERTIES - my.db owner1", FF_DBA_PROPERTIES));
	CHECK(ff_dba_list_line("3345; 0 0 COMMENT - DATABASE \"my.db\" owner1", FF_DBA_PROPERTIES));
	CHECK(ff_dba_list_line("3346; 0 0 ACL - DATABASE \"my.db\" owner1", FF_DBA_PROPERTIES));
	CHECK(ff_dba_list_line("12; 0 0 SECURITY LABEL - DATABASE app o", FF_DBA_PROPERTIES));
	/* A table's comment or ACL, a schema named DATABASE, the header. */
	CHECK(!ff_dba_list_line("3350; 0 0 COMMENT public TABLE t postgres", FF_DBA_PROPERTIES));
	CHECK(!ff_dba_list_line("3351; 0 0 ACL - SCHEMA public postgres", FF_DBA_PROPERTIES));
	CHECK(!ff_dba_list_line("214; 1259 16387 TABLE DATABASE t postgres", FF_DBA_CREATE));
	CHECK(!ff_dba_list_line(";     dbname: my.db", FF_DBA_CREATE));
	CHECK(!ff_dba_list_line(";3344; 1262 16386 DATABASE - my.db owner1", FF_DBA_CREATE));
}

static void test_setvals(void)
{
	ff_dba_setvals v;
	ff_err e = {0};
	const char *sql = "SET x = 1;\n"
		"SELECT pg_catalog.setval('public.\"a.b\"\"q\"', 9, false);\n"
		"SELECT pg_catalog.setval('\"it''s\".s2', -9223372036854775808, true);\n";
	CHECK(ff_dba_parse_setvals(&v, sql, &e) == 0);
	CHECK(v.n == 2);
	if (v.n == 2) {
		CHECK_STR(v.v[0].qname, "public.\"a.b\"\"q\"");
		CHECK(v.v[0].value == 9 && v.v[0].is_called == 0);
		CHECK_STR(v.v[1].qname, "\"it's\".s2");
		CHECK(v.v[1].value == (-9223372036854775807LL - 1) && v.v[1].is_called == 1);
	}
	ff_dba_setvals_free(&v);
	CHECK(ff_dba_parse_setvals(&v, "SELECT pg_catalog.setval('s', 1, maybe);\n", &e) < 0);
	CHECK(ff_dba_parse_setvals(&v, "SELECT pg_catalog.setval('s', 1);\n", &e) < 0);
	CHECK(v.n == 0);
	CHECK(ff_dba_list_line("3358; 0 0 SEQUENCE SET public a.b\"q postgres", FF_DBA_SEQUENCES));
	CHECK(!ff_dba_list_line("215; 1259 16396 SEQUENCE public a.b\"q postgres", FF_DBA_SEQUENCES));
}

int main(void)
{
	test_setvals();
	test_rewrite();
	test_refused();
	test_list();
	return check_summary();
}
