/* test_pgbackrest.c - engine pgbackrest in the configuration (what is
 * read, what is refused with file:line), and the checks a typed value
 * passes before it becomes a pgbackrest option. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "core/config.h"
#include "core/pgbackrest.h"

static char tmp[256];

static const char *write_file(const char *rel, const char *text)
{
	static char path[512];
	snprintf(path, sizeof(path), "%s/%s", tmp, rel);
	FILE *f = fopen(path, "w");
	if (!f) {
		perror(path);
		exit(1);
	}
	fputs(text, f);
	fclose(f);
	return path;
}

/* Loading text fails with FF_EUSAGE and a message holding want. */
static void refused(const char *text, const char *want)
{
	ff_config c;
	ff_err e = {0};
	int rc = ff_config_load(&c, write_file("bad.yaml", text), &e);
	CHECK(rc == FF_EUSAGE);
	if (!strstr(e.msg, want))
		fprintf(stderr, "message: %s\nwanted: %s\n", e.msg, want);
	CHECK(strstr(e.msg, want) != NULL);
	if (rc == 0)
		ff_config_free(&c);
}

static void test_engine_read(void)
{
	ff_config c;
	ff_err e = {0};
	write_file("pgbackrest.conf", "[global]\n");
	const char *p = write_file("ok.yaml",
		"targets:\n"
		"  prod:\n"
		"    conninfo: \"host=/tmp dbname=app\"\n"
		"    engine: pgbackrest\n"
		"    pgbackrest: { stanza: app-main, config: pgbackrest.conf }\n"
		"  old: { conninfo: \"dbname=x\", engine: pg_dump }\n");
	CHECK(ff_config_load(&c, p, &e) == 0);
	const ff_target *t = ff_config_target(&c, "prod");
	CHECK(t && t->engine && !strcmp(t->engine, "pgbackrest"));
	CHECK_STR(t ? t->pgbr_stanza : NULL, "app-main");
	char want[600];
	snprintf(want, sizeof(want), "%s/pgbackrest.conf", tmp);
	CHECK_STR(t ? t->pgbr_config : NULL, want); /* relative: against the config's folder */
	t = ff_config_target(&c, "old");
	CHECK(t && !t->pgbr_stanza && t->engine && !strcmp(t->engine, "pg_dump"));
	ff_config_free(&c);
}

static void test_engine_refused(void)
{
	refused("targets:\n  prod:\n    engine: pgbackrest\n", "bad.yaml:3:");
	refused("targets:\n  prod:\n    engine: pgbackrest\n", "engine pgbackrest needs pgbackrest:");
	refused("targets:\n  prod:\n    engine: barman\n", "must be one of pg_dump or pgbackrest");
	refused("targets:\n  prod:\n    pgbackrest: { stanza: a, config: pgbackrest.conf }\n",
		"pgbackrest: is set but engine is not pgbackrest");
	refused("targets:\n  prod:\n    engine: pgbackrest\n    pgbackrest: { stanza: a }\n",
		"needs both stanza and config");
	refused("targets:\n  prod:\n    engine: pgbackrest\n    pgbackrest: { stanza: \"a b\", config: pgbackrest.conf }\n",
		"bad.yaml:4:");
	refused("targets:\n  prod:\n    engine: pgbackrest\n    pgbackrest: { stanza: a, config: nope.conf }\n",
		"nope.conf: No such file or directory");
	refused("targets:\n  prod:\n    engine: pgbackrest\n    pgbackrest: { stanza: a, config: pgbackrest.conf, cipher: x }\n",
		"bad.yaml:4:");
	refused("targets:\n  prod:\n    ephemeral: true\n    engine: pgbackrest\n    pgbackrest: { stanza: a, config: pgbackrest.conf }\n",
		"exclude each other");
}

static void test_values(void)
{
	CHECK(ff_pgbr_valid_lsn("0/4014D58"));
	CHECK(ff_pgbr_valid_lsn("1A/0"));
	CHECK(!ff_pgbr_valid_lsn("0/"));
	CHECK(!ff_pgbr_valid_lsn("/1"));
	CHECK(!ff_pgbr_valid_lsn("0/1 --delta"));
	CHECK(!ff_pgbr_valid_lsn("123456789/0"));
	CHECK(ff_pgbr_valid_time("2026-12-02 15:09:38.579737+00"));
	CHECK(ff_pgbr_valid_time("2026-12-02 15:09:38 Europe/Moscow"));
	CHECK(!ff_pgbr_valid_time("--type=immediate"));
	CHECK(!ff_pgbr_valid_time("2026-12-02'; x"));
	CHECK(ff_pgbr_valid_name("ffrun_20261202_150921"));
	CHECK(ff_pgbr_valid_name("20261202-150921F_20261202-151000I"));
	CHECK(!ff_pgbr_valid_name("-x"));
	CHECK(!ff_pgbr_valid_name(""));
	CHECK(!ff_pgbr_valid_name("a b"));
	CHECK(ff_pgbr_valid_type("full") && ff_pgbr_valid_type("diff") && ff_pgbr_valid_type("incr"));
	CHECK(!ff_pgbr_valid_type("auto"));
}

int main(void)
{
	snprintf(tmp, sizeof(tmp), "/tmp/ffrun-test-pgbr-XXXXXX");
	if (!mkdtemp(tmp)) {
		perror("mkdtemp");
		return 1;
	}
	test_engine_read();
	test_engine_refused();
	test_values();
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmp);
	return check_summary();
}
