/* test_config.c - SPEC §3: every default, every key, relative paths, and
 * errors that name file:line:col. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "core/config.h"

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

static char *joined(const char *a, const char *b)
{
	static char buf[1024];
	snprintf(buf, sizeof(buf), "%s/%s", a, b);
	return buf;
}

static void check_defaults(const ff_config *c, const char *dir)
{
	CHECK_STR(c->dir, dir);
	CHECK_STR(c->backups_dir, joined(dir, "ops/_backups"));
	CHECK_STR(c->evidence_dir, joined(dir, "ops/_local/evidence"));
	CHECK_STR(c->pg_bindir, "auto");
	CHECK_STR(c->pg_os_user, "postgres");
	CHECK_STR(c->backup_globals, "roles");
	CHECK_STR(c->backup_verify, "content");
	CHECK(c->backup_jobs == 0);
	CHECK(c->keep_last == 7);
	CHECK(c->keep_days == 30);
	CHECK(c->rpo_hours == 24);
	CHECK(c->rto_minutes == 90);
	CHECK(c->drill_amcheck == 1);
	CHECK(c->nsnapshots == 0 && c->nsmoke == 0 && c->nexec_allow == 0);
	CHECK(c->nrestore_allow_errors == 0);
	CHECK(c->services_up.n == 0 && c->services_check.n == 0);
	CHECK(c->memory_mb == 256);
	CHECK(c->seconds == 0);
	CHECK(c->instructions == 500000000);
	CHECK(c->ntargets == 2);
	const ff_target *prod = ff_config_target(c, "prod");
	const ff_target *drill = ff_config_target(c, "drill");
	CHECK(prod && prod->conninfo == NULL && !prod->ephemeral);
	CHECK(drill && drill->conninfo == NULL && drill->ephemeral);
	CHECK(ff_config_target(c, "nope") == NULL);
}

static void test_defaults_without_file(void)
{
	ff_config c;
	ff_err e = { 0 };
	char *cwd = getcwd(NULL, 0);
	CHECK(ff_config_load(&c, NULL, &e) == 0);
	CHECK(c.file == NULL && c.tree == NULL);
	check_defaults(&c, cwd);
	ff_config_free(&c);
	ff_config_free(&c); /* idempotent */
	free(cwd);
}

static void test_empty_and_null_sections(void)
{
	ff_config c;
	ff_err e = { 0 };
	const char *p = write_file("empty.yaml", "");
	CHECK(ff_config_load(&c, p, &e) == 0);
	CHECK_STR(c.file, p);
	check_defaults(&c, tmp);
	ff_config_free(&c);

	p = write_file("comments.yaml", "# nothing here yet\n---\n");
	CHECK(ff_config_load(&c, p, &e) == 0);
	check_defaults(&c, tmp);
	ff_config_free(&c);

	p = write_file("nulls.yaml", "targets:\npaths: ~\npostgres:\nbackup:\nretention:\n"
			  "objectives:\nsnapshots:\nsmoke:\nservices:\nexec:\nrestore:\nlimits:\n"
			  "backup2: null\n");
	CHECK(ff_config_load(&c, p, &e) == FF_EUSAGE); /* backup2 is still unknown */
	CHECK(strstr(e.msg, ":13:1: unknown key 'backup2'") != NULL);
	p = write_file("nulls.yaml", "targets:\npaths: ~\npostgres:\nbackup:\nretention:\n"
			  "objectives:\nsnapshots:\nsmoke:\nservices: {up: , check: ~}\nexec: {allow: }\n"
			  "restore:\nlimits:\ndrill:\n");
	CHECK(ff_config_load(&c, p, &e) == 0);
	check_defaults(&c, tmp);
	ff_config_free(&c);
}

static const char full[] =
	"targets:\n"
	"  prod:\n"
	"    conninfo: \"service=foxproflow\"\n"
	"  staging:\n"
	"    conninfo: postgresql://app@db.internal:5432/app?sslmode=require\n"
	"  scratch:\n"
	"    ephemeral: false\n"
	"paths:\n"
	"  backups: ops/_backups2\n"
	"  evidence: /var/lib/ffrun/evidence\n"
	"postgres:\n"
	"  bindir: /usr/lib/postgresql/16/bin\n"
	"  os_user: pg\n"
	"backup:\n"
	"  globals: with-passwords\n"
	"  verify: rows\n"
	"  jobs: 4\n"
	"retention: { keep_last: 3, keep_days: 0 }\n"
	"objectives: { rpo_hours: 1.5, rto_minutes: 30 }\n"
	"drill: { amcheck: false }\n"
	"snapshots:\n"
	"  - docker-compose.yml\n"
	"  - ./deploy/.env\n"
	"  - /etc/ffrun/abs.conf\n"
	"smoke:\n"
	"  - { name: orders exist, sql: \"select count(*) > 0 from orders\" }\n"
	"  - name: two\n"
	"    sql: select 2\n"
	"services:\n"
	"  up:    [[env, docker, compose, up, -d, api, worker, beat]]\n"
	"  check: [[env, curl, -fsS, http://127.0.0.1:8080/health], [/bin/true]]\n"
	"exec:\n"
	"  allow: [/usr/bin/rsync]\n"
	"restore:\n"
	"  allow_errors: ['extension \"plpgsql\" already exists']\n"
	"limits: { memory_mb: 64, seconds: 600, instructions: 0 }\n";

static void test_every_key(void)
{
	ff_config c;
	ff_err e = { 0 };
	const char *p = write_file("full.yaml", full);
	CHECK(ff_config_load(&c, p, &e) == 0);
	if (e.code)
		fprintf(stderr, "  %s\n", e.msg);
	CHECK(c.tree != NULL);
	CHECK(c.ntargets == 4); /* prod, staging, scratch + default drill */
	const ff_target *t = ff_config_target(&c, "prod");
	CHECK(t && t->conninfo && strcmp(t->conninfo, "service=foxproflow") == 0 && !t->ephemeral);
	t = ff_config_target(&c, "staging");
	CHECK(t && t->conninfo && strstr(t->conninfo, "app@db.internal"));
	t = ff_config_target(&c, "scratch");
	CHECK(t && !t->conninfo && !t->ephemeral);
	t = ff_config_target(&c, "drill");
	CHECK(t && t->ephemeral);
	CHECK_STR(c.backups_dir, joined(tmp, "ops/_backups2"));
	CHECK_STR(c.evidence_dir, "/var/lib/ffrun/evidence");
	CHECK_STR(c.pg_bindir, "/usr/lib/postgresql/16/bin");
	CHECK_STR(c.pg_os_user, "pg");
	CHECK_STR(c.backup_globals, "with-passwords");
	CHECK_STR(c.backup_verify, "rows");
	CHECK(c.backup_jobs == 4);
	CHECK(c.keep_last == 3 && c.keep_days == 0);
	CHECK(c.rpo_hours == 1.5 && c.rto_minutes == 30);
	CHECK(c.drill_amcheck == 0);
	CHECK(c.nsnapshots == 3);
	if (c.nsnapshots == 3) {
		CHECK_STR(c.snapshots[0], joined(tmp, "docker-compose.yml"));
		CHECK_STR(c.snapshots[1], joined(tmp, "deploy/.env"));
		CHECK_STR(c.snapshots[2], "/etc/ffrun/abs.conf");
	}
	CHECK(c.nsmoke == 2);
	if (c.nsmoke == 2) {
		CHECK_STR(c.smoke[0].name, "orders exist");
		CHECK_STR(c.smoke[0].sql, "select count(*) > 0 from orders");
		CHECK_STR(c.smoke[1].sql, "select 2");
	}
	CHECK(c.services_up.n == 1 && c.services_check.n == 2);
	if (c.services_up.n == 1) {
		char **a = c.services_up.argv[0];
		/* A bare program name is resolved to its absolute path. */
		CHECK(a[0][0] == '/' && strstr(a[0], "/env") != NULL);
		CHECK_STR(a[1], "docker");
		CHECK_STR(a[7], "beat");
		CHECK(a[8] == NULL);
	}
	if (c.services_check.n == 2) {
		CHECK_STR(c.services_check.argv[0][3], "http://127.0.0.1:8080/health");
		CHECK_STR(c.services_check.argv[1][0], "/bin/true");
		CHECK(c.services_check.argv[1][1] == NULL);
	}
	CHECK(c.nexec_allow == 1 && strcmp(c.exec_allow[0], "/usr/bin/rsync") == 0);
	CHECK(c.nrestore_allow_errors == 1 &&
	      strcmp(c.restore_allow_errors[0], "extension \"plpgsql\" already exists") == 0);
	CHECK(c.memory_mb == 64 && c.seconds == 600 && c.instructions == 0);
	ff_config_free(&c);
}

static void test_relative_paths(void)
{
	ff_config c;
	ff_err e = { 0 };
	char sub[300], *cwd = getcwd(NULL, 0);
	snprintf(sub, sizeof(sub), "%s/sub", tmp);
	mkdir(sub, 0700);
	write_file("sub/ffrun.yaml", "paths: {backups: b, evidence: ./e/f}\n"
		   "postgres: {bindir: ../pg/bin}\nsnapshots: [., x.yml]\n");
	/* A relative config path: file and folder still come out absolute. */
	CHECK(chdir(tmp) == 0);
	CHECK(ff_config_load(&c, "sub/ffrun.yaml", &e) == 0);
	CHECK_STR(c.file, joined(sub, "ffrun.yaml"));
	CHECK_STR(c.dir, sub);
	CHECK_STR(c.backups_dir, joined(sub, "b"));
	CHECK_STR(c.evidence_dir, joined(sub, "e/f"));
	CHECK_STR(c.pg_bindir, joined(sub, "../pg/bin"));
	CHECK(c.nsnapshots == 2);
	if (c.nsnapshots == 2) {
		CHECK_STR(c.snapshots[0], sub);
		CHECK_STR(c.snapshots[1], joined(sub, "x.yml"));
	}
	ff_config_free(&c);
	CHECK(chdir(cwd) == 0);
	free(cwd);
}

static void test_cannot_read(void)
{
	ff_config c;
	ff_err e = { 0 };
	CHECK(ff_config_load(&c, "/nonexistent/ffrun.yaml", &e) == FF_EUSAGE);
	CHECK_STR(e.msg, "/nonexistent/ffrun.yaml: cannot read: No such file or directory");
	CHECK(c.file == NULL && c.targets == NULL); /* nothing left to free */
	CHECK(ff_config_load(&c, tmp, &e) == FF_EUSAGE); /* a folder */
	CHECK(strstr(e.msg, ": cannot read: Is a directory") != NULL);
}

static const struct bad_case {
	const char *text, *where, *what;
} bad_cases[] = {
	{ "paths:\n  bakups: x\n", ":2:3:", "unknown key 'bakups' in paths" },
	{ "nope: 1\n", ":1:1:", "unknown key 'nope'" },
	{ "- a\n- b\n", ":1:1:", "must be a mapping of sections" },
	{ "backup:\n  verify: all\n", ":2:11:", "backup.verify must be one of none, rows, content" },
	{ "backup: {globals: everything}\n", ":1:19:", "backup.globals must be one of roles, with-passwords, none" },
	{ "backup: {jobs: 0}\n", ":1:16:", "backup.jobs must be auto or a positive integer" },
	{ "backup: {jobs: two}\n", ":1:16:", "backup.jobs must be auto or a positive integer" },
	{ "limits:\n  memory_mb: lots\n", ":2:14:", "limits.memory_mb must be an integer" },
	{ "limits: {memory_mb: 8}\n", ":1:21:", "limits.memory_mb must be an integer from 16 to" },
	{ "limits: {memory_mb: '64'}\n", ":1:21:", "limits.memory_mb must be an integer" },
	{ "limits: {memory_mb: 0x40}\n", ":1:21:", "limits.memory_mb must be an integer" },
	{ "limits: {memory_mb: 64.0}\n", ":1:21:", "limits.memory_mb must be an integer" },
	{ "limits: {instructions: 99999999999999999999}\n", ":1:24:", "limits.instructions must be an integer >= 0" },
	{ "limits: {seconds: -1}\n", ":1:19:", "limits.seconds must be a number >= 0" },
	{ "limits: {seconds: .inf}\n", ":1:19:", "limits.seconds must be a number" },
	{ "limits: {seconds: [1]}\n", ":1:19:", "limits.seconds must be a number" },
	{ "objectives: {rpo_hours: 0}\n", ":1:25:", "objectives.rpo_hours must be a number > 0" },
	{ "objectives: {rto_minutes: 1e}\n", ":1:27:", "objectives.rto_minutes must be a number" },
	{ "drill: {amcheck: yes}\n", ":1:18:", "drill.amcheck must be true or false" },
	{ "drill: {amcheck: 1}\n", ":1:18:", "drill.amcheck must be true or false" },
	{ "drill: {amcheck: true, parent_check: true}\n", ":1:24:", "unknown key 'parent_check' in drill" },
	{ "drill: [amcheck]\n", ":1:8:", "drill must be a mapping" },
	{ "retention: {keep_last: 0}\n", ":1:24:", "retention.keep_last must be an integer >= 1" },
	{ "retention: {keep_days: -1}\n", ":1:24:", "retention.keep_days must be an integer >= 0" },
	{ "retention: [7]\n", ":1:12:", "retention must be a mapping" },
	{ "targets:\n  prod:\n    ephemeral: yes\n", ":3:16:", "targets.prod.ephemeral must be true or false" },
	{ "targets:\n  prod: {conninfo: {host: x}}\n", ":2:20:", "targets.prod.conninfo must be a string" },
	{ "targets:\n  prod: {hosts: x}\n", ":2:10:", "unknown key 'hosts' in targets.prod" },
	{ "targets:\n  prod: [x]\n", ":2:9:", "targets.prod must be a mapping" },
	{ "targets:\n  'bad name': {}\n", ":2:3:", "target name 'bad name' must be" },
	{ "targets:\n  d: {conninfo: 'host=x', ephemeral: true}\n", ":2:6:", "exclude each other" },
	{ "targets:\n  prod: {conninfo: 'host=db password=hunter2'}\n", ":2:20:",
	  "never put a password in conninfo" },
	{ "targets:\n  prod: {conninfo: 'host=db PassWord = hunter2'}\n", ":2:20:", "holds a password" },
	{ "targets:\n  prod: {conninfo: 'postgresql://u:hunter2@db/app'}\n", ":2:20:", "holds a password" },
	{ "targets:\n  prod: {conninfo: 'postgres://db/app?password=hunter2'}\n", ":2:20:", "holds a password" },
	{ "paths: {backups: ''}\n", ":1:18:", "paths.backups must be a non-empty string" },
	{ "paths: {backups: [a]}\n", ":1:18:", "paths.backups must be a string" },
	{ "snapshots: compose.yml\n", ":1:12:", "snapshots must be a list" },
	{ "snapshots: [a, {b: c}]\n", ":1:16:", "snapshots[1] must be a string" },
	{ "smoke: [{name: x}]\n", ":1:9:", "smoke[0] needs both name and sql" },
	{ "smoke: [{name: x, sql: y, when: z}]\n", ":1:27:", "unknown key 'when' in smoke[0]" },
	{ "smoke: [select 1]\n", ":1:9:", "smoke[0] must be a mapping" },
	{ "services: {up: [docker, compose]}\n", ":1:17:", "services.up[0] must be a non-empty list" },
	{ "services: {up: [[]]}\n", ":1:17:", "services.up[0] must be a non-empty list" },
	{ "services: {check: [[curl, [x]]]}\n", ":1:27:", "services.check[0][1] must be a string" },
	{ "services: {down: []}\n", ":1:12:", "unknown key 'down' in services" },
	{ "exec: {allow: [rsync]}\n", ":1:16:", "exec.allow[0] must be an absolute path" },
	{ "restore: {allow_errors: [1, [2]]}\n", ":1:29:", "restore.allow_errors[1] must be a string" },
	{ "postgres: {bindir: [a]}\n", ":1:20:", "postgres.bindir must be a string" },
	{ "postgres: {os_user: ''}\n", ":1:21:", "postgres.os_user must be a non-empty string" },
	{ "paths: {backups: a}\npaths: {backups: b}\n", ":2:1:", "duplicate key 'paths'" },
	{ "paths: &p {backups: a}\n", ":1:8:", "anchors are not allowed" },
	{ "paths:\n  backups: a\n evidence: b\n", ":3:2:", "did not find expected key" },
	{ "a: 1\n---\nb: 2\n", ":2:1:", "more than one document" },
};

static void test_errors(void)
{
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(*bad_cases); i++) {
		ff_config c;
		ff_err e = { 0 };
		char where[600];
		const char *p = write_file("bad.yaml", bad_cases[i].text);
		snprintf(where, sizeof(where), "%s%s", p, bad_cases[i].where);
		int rc = ff_config_load(&c, p, &e);
		int ok = rc == FF_EUSAGE && strncmp(e.msg, where, strlen(where)) == 0 &&
			 strstr(e.msg, bad_cases[i].what) && !strstr(e.msg, "hunter2") &&
			 !strchr(e.msg, '\n');
		CHECK(ok);
		if (!ok)
			fprintf(stderr, "  case %zu: rc=%d msg=%s\n", i, rc, e.msg);
		CHECK(c.targets == NULL && c.tree == NULL && c.dir == NULL);
	}
}

static void test_control_bytes_in_keys_are_not_echoed(void)
{
	ff_config c;
	ff_err e = { 0 };
	const char *p = write_file("bad.yaml", "\"evil\\nkey\\e[31m\": 1\n");
	CHECK(ff_config_load(&c, p, &e) == FF_EUSAGE);
	CHECK(strstr(e.msg, "unknown key 'evil?key?[31m'") != NULL);
}

static void test_good_example(void)
{
	const char *src = getenv("FF_TEST_SRC");
	char path[1024];
	ff_config c;
	ff_err e = { 0 };
	if (!src)
		return;
	snprintf(path, sizeof(path), "%s/config/good.yaml", src);
	CHECK(ff_config_load(&c, path, &e) == 0);
	if (e.code)
		fprintf(stderr, "  %s\n", e.msg);
	CHECK(c.nsmoke > 0 && c.services_up.n > 0 && c.nexec_allow > 0);
	ff_config_free(&c);
}

int main(void)
{
	snprintf(tmp, sizeof(tmp), "/tmp/ffrun-test-config-XXXXXX");
	if (!mkdtemp(tmp)) {
		perror("mkdtemp");
		return 1;
	}
	test_defaults_without_file();
	test_empty_and_null_sections();
	test_every_key();
	test_relative_paths();
	test_cannot_read();
	test_errors();
	test_control_bytes_in_keys_are_not_echoed();
	test_good_example();
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmp);
	return check_summary();
}
