/* test_redact.c - no secret value survives any mode; what is not secret
 * survives unchanged. Every secret below contains "S3CRET" or "hunter2" so
 * one scan of the output proves nothing leaked. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/redact.h"
#include "core/yaml.h"

static int leaks(const char *out)
{
	return strstr(out, "S3CRET") || strstr(out, "hunter2") || strstr(out, "s3cret");
}

/* Redact text and check the common promises: success, no leak, the count. */
static char *run(const char *text, const char *name, ff_redact_mode mode, int want_found)
{
	char *out = NULL;
	size_t len = 0;
	int found = -1;
	ff_err e = { 0 };
	CHECK(ff_redact(&out, &len, text, strlen(text), name, mode, &found, &e) == 0);
	CHECK(out != NULL && strlen(out) == len);
	if (!out)
		return calloc(1, 1);
	CHECK(!leaks(out));
	if (leaks(out))
		fprintf(stderr, "  leaked from %s:\n%s\n", name, out);
	if (want_found >= 0) {
		CHECK(found == want_found);
		if (found != want_found)
			fprintf(stderr, "  %s: found %d, want %d:\n%s\n", name, found, want_found, out);
	}
	return out;
}

static void test_secret_keys(void)
{
	const char *yes[] = {
		"password", "DB_PASSWORD", "PGPASSWORD", "dbPass", "db.pass", "api_key",
		"apiKey", "APIKey", "X-Api-Key", "private_key", "AWS_ACCESS_KEY_ID",
		"SECRET_KEY_BASE", "AUTH", "Authorization", "session_cookie", "salt",
		"SENTRY_DSN", "jwt_secret", "client_secret", "credentials", "GITHUB_TOKEN",
		"pwd", "passphrase", "secrets", "MYSQL_ROOT_PASS", "ssh-key", "key",
		"DB Password", "auth_token", "passwd",
	};
	const char *no[] = {
		"user", "username", "host", "port", "image", "monkey", "keyboard",
		"author", "bypass", "passenger", "compass", "keycloak_url", "POSTGRES_DB",
		"DATABASE_URL", "conninfo", "environment", "restart", "",
	};
	for (size_t i = 0; i < sizeof(yes) / sizeof(*yes); i++) {
		CHECK(ff_redact_is_secret_key(yes[i], strlen(yes[i])));
		if (!ff_redact_is_secret_key(yes[i], strlen(yes[i])))
			fprintf(stderr, "  not secret: %s\n", yes[i]);
	}
	for (size_t i = 0; i < sizeof(no) / sizeof(*no); i++) {
		CHECK(!ff_redact_is_secret_key(no[i], strlen(no[i])));
		if (ff_redact_is_secret_key(no[i], strlen(no[i])))
			fprintf(stderr, "  secret: %s\n", no[i]);
	}
}

static const char compose[] =
	"# compose with a comment: DB_PASSWORD=hunter2 in a comment\n"
	"services:\n"
	"  db:\n"
	"    image: postgres:16\n"
	"    environment:\n"
	"      POSTGRES_USER: app\n"
	"      POSTGRES_PASSWORD: S3CRET-map\n"
	"      POSTGRES_DB: app\n"
	"  api:\n"
	"    image: example/api:1.2\n"
	"    command: [\"serve\", \"--db-password=S3CRET-flag\", \"--port=8080\"]\n"
	"    environment:\n"
	"      - DATABASE_URL=postgresql://app:S3CRET-url@db:5432/app\n"
	"      - API_TOKEN=S3CRET token with spaces\n"
	"      - LOG_LEVEL=info\n"
	"      - EMPTY_PASSWORD=\n"
	"    healthcheck:\n"
	"      test: [CMD, curl, -fsS, \"http://127.0.0.1:8080/health\"]\n"
	"    deploy:\n"
	"      auth:\n"
	"        user: S3CRET-user-under-auth\n"
	"        ids: [1, S3CRET-in-list]\n"
	"    private_key: |\n"
	"      -----BEGIN KEY-----\n"
	"      S3CRETS3CRETS3CRET\n"
	"      -----END KEY-----\n"
	"    password:\n"
	"secrets:\n"
	"  db_pass:\n"
	"    file: ./S3CRET-file.txt\n";

static void test_yaml_compose(void)
{
	/* map value, flag, URL, list item, auth user, 2 auth list items, key, file */
	char *out = run(compose, "docker-compose.yml", FF_REDACT_AUTO, 9);
	ff_yaml_node *root = NULL;
	ff_err e;
	CHECK(ff_yaml_parse(&root, out, strlen(out), "out", &e) == 0 && root);
	const ff_yaml_node *db = ff_yaml_get(ff_yaml_get(root, "services"), "db");
	const ff_yaml_node *env = ff_yaml_get(db, "environment");
	CHECK_STR(ff_yaml_get(env, "POSTGRES_PASSWORD")->value, FF_REDACTED);
	CHECK_STR(ff_yaml_get(env, "POSTGRES_USER")->value, "app");
	CHECK_STR(ff_yaml_get(db, "image")->value, "postgres:16");
	const ff_yaml_node *api = ff_yaml_get(ff_yaml_get(root, "services"), "api");
	const ff_yaml_node *list = ff_yaml_get(api, "environment");
	CHECK(list && list->kind == FF_YAML_SEQ && list->n == 4);
	if (list && list->n == 4) {
		CHECK_STR(list->items[0]->value, "DATABASE_URL=postgresql://app:" FF_REDACTED "@db:5432/app");
		CHECK_STR(list->items[1]->value, "API_TOKEN=" FF_REDACTED);
		CHECK_STR(list->items[2]->value, "LOG_LEVEL=info");
		CHECK_STR(list->items[3]->value, "EMPTY_PASSWORD=");
	}
	const ff_yaml_node *cmd = ff_yaml_get(api, "command");
	CHECK(cmd && cmd->n == 3 && strcmp(cmd->items[1]->value, "--db-password=" FF_REDACTED) == 0);
	CHECK(cmd && strcmp(cmd->items[2]->value, "--port=8080") == 0);
	const ff_yaml_node *t = ff_yaml_get(ff_yaml_get(api, "healthcheck"), "test");
	CHECK(t && t->n == 4 && strcmp(t->items[3]->value, "http://127.0.0.1:8080/health") == 0);
	const ff_yaml_node *auth = ff_yaml_get(ff_yaml_get(api, "deploy"), "auth");
	CHECK_STR(ff_yaml_get(auth, "user")->value, FF_REDACTED);
	const ff_yaml_node *ids = ff_yaml_get(auth, "ids");
	CHECK(ids && ids->n == 2 && strcmp(ids->items[0]->value, FF_REDACTED) == 0);
	CHECK_STR(ff_yaml_get(api, "private_key")->value, FF_REDACTED);
	CHECK(ff_yaml_get(api, "password")->len == 0); /* null stays null */
	CHECK_STR(ff_yaml_get(ff_yaml_get(ff_yaml_get(root, "secrets"), "db_pass"), "file")->value,
		  FF_REDACTED);
	CHECK(strstr(out, "# compose") == NULL); /* comments go with YAML mode */
	ff_yaml_free(root);
	free(out);
}

static void test_yaml_falls_back_to_lines(void)
{
	/* Anchors are common in compose files and refused by the parser. */
	const char *anchored =
		"x-common: &common\n"
		"  environment:\n"
		"    POSTGRES_PASSWORD: S3CRET-anchored\n"
		"services:\n"
		"  db:\n"
		"    <<: *common\n"
		"    environment:\n"
		"      - POSTGRES_PASSWORD=S3CRET-list\n"
		"      - \"REDIS_PASSWORD=S3CRET-quoted\"\n"
		"      - PGUSER=app\n"
		"    private_key: |\n"
		"      S3CRET-line-1\n"
		"\n"
		"      S3CRET-line-2\n"
		"    image: postgres:16\n"
		"    url: https://u:S3CRET-u@example.com/x\n";
	char *out = run(anchored, "compose.yaml", FF_REDACT_AUTO, 7);
	CHECK_STR(out,
		  "x-common: &common\n"
		  "  environment:\n"
		  "    POSTGRES_PASSWORD: [REDACTED]\n"
		  "services:\n"
		  "  db:\n"
		  "    <<: *common\n"
		  "    environment:\n"
		  "      - POSTGRES_PASSWORD=[REDACTED]\n"
		  "      - \"REDIS_PASSWORD=[REDACTED]\"\n"
		  "      - PGUSER=app\n"
		  "    private_key: [REDACTED]\n"
		  "      [REDACTED]\n"
		  "\n"
		  "      [REDACTED]\n"
		  "    image: postgres:16\n"
		  "    url: https://u:[REDACTED]@example.com/x\n");
	free(out);

	/* Broken YAML (a tab indent) in YAML mode still comes out redacted. */
	out = run("a:\n\tpassword: hunter2\n", "x", FF_REDACT_YAML, 1);
	CHECK_STR(out, "a:\n\tpassword: [REDACTED]\n");
	free(out);
	out = run("one: 1\n---\ntoken: S3CRET\n", "multi.yml", FF_REDACT_AUTO, 1);
	CHECK_STR(out, "one: 1\n---\ntoken: [REDACTED]\n");
	free(out);
	/* A comments-only YAML file keeps its comments, scrubbed. */
	out = run("# old: postgres://a:hunter2@h/db\n", "c.yml", FF_REDACT_AUTO, 1);
	CHECK_STR(out, "# old: postgres://a:[REDACTED]@h/db\n");
	free(out);
}

static void test_env(void)
{
	const char *env =
		"# database\n"
		"export PGPASSWORD=S3CRET-export\n"
		"DB_PASSWORD=\"S3CRET dq\" # trailing comment\n"
		"API_KEY='S3CRET sq'\n"
		"  SECRET_KEY_BASE = S3CRET-spaced\n"
		"PGUSER=app\n"
		"EMPTY_TOKEN=\n"
		"DATABASE_URL=postgres://app:S3CRET-u@db/app?sslmode=require\n"
		"# PGPASSWORD=hunter2 (old)\n"
		"CERT_KEY=\"-----BEGIN-----\n"
		"S3CRET-multi\n"
		"-----END-----\" # after\n"
		"PORT=5432\r\n"
		"TOKEN=S3CRET-crlf\r\n"
		"LAST=1";
	char *out = run(env, ".env", FF_REDACT_AUTO, 8);
	CHECK_STR(out,
		  "# database\n"
		  "export PGPASSWORD=[REDACTED]\n"
		  "DB_PASSWORD=\"[REDACTED]\" # trailing comment\n"
		  "API_KEY='[REDACTED]'\n"
		  "  SECRET_KEY_BASE = [REDACTED]\n"
		  "PGUSER=app\n"
		  "EMPTY_TOKEN=\n"
		  "DATABASE_URL=postgres://app:[REDACTED]@db/app?sslmode=require\n"
		  "# PGPASSWORD=[REDACTED] (old)\n"
		  "CERT_KEY=\"[REDACTED]\" # after\n"
		  "PORT=5432\r\n"
		  "TOKEN=[REDACTED]\r\n"
		  "LAST=1");
	free(out);
	/* An unclosed quote takes everything after it: fail closed. */
	out = run("A=1\nPASSWORD=\"S3CRET\nB=S3CRET\n", "prod.env", FF_REDACT_AUTO, 1);
	CHECK_STR(out, "A=1\nPASSWORD=\"[REDACTED]");
	free(out);
	out = run("X=1\n", ".env.local", FF_REDACT_AUTO, 0);
	CHECK_STR(out, "X=1\n");
	free(out);
}

static void test_lines(void)
{
	const char *ini =
		"[database]\n"
		"host = db\n"
		"password = S3CRET ini\n"
		"DB Password: S3CRET prose\n"
		"{\"user\": \"app\", \"token\": \"S3CRET-json\"}\n"
		"  \"api_key\": \"S3CRET-json2\",\n"
		"dsn=host=db user=app password=S3CRET-conninfo\n"
		"conninfo: host=db password='S3CRET q' sslmode=require\n"
		"plain line with http://u:S3CRET@h:1/p and more\n"
		"raw: postgres://u:S3CRET/with@slash@host/db\n"
		"keep: http://example.com/path@v2 and user@host\n"
		"flow: {user: a, password: S3CRET-flow, port: 5}\n";
	char *out = run(ini, "app.conf", FF_REDACT_AUTO, 9);
	CHECK_STR(out,
		  "[database]\n"
		  "host = db\n"
		  "password = [REDACTED]\n"
		  "DB Password: [REDACTED]\n"
		  "{\"user\": \"app\", \"token\": \"[REDACTED]\"}\n"
		  "  \"api_key\": \"[REDACTED]\",\n"
		  "dsn=[REDACTED]\n"
		  "conninfo: host=db password='[REDACTED]' sslmode=require\n"
		  "plain line with http://u:[REDACTED]@h:1/p and more\n"
		  "raw: postgres://u:[REDACTED]@host/db\n"
		  "keep: http://example.com/path@v2 and user@host\n"
		  "flow: {user: a, password: [REDACTED], port: 5}\n");
	free(out);
}

static void test_url_credentials_in_every_mode(void)
{
	const char *text = "url: \"postgresql://admin:S3CRET@db.example.com:5432/app\"\n";
	ff_redact_mode modes[] = { FF_REDACT_YAML, FF_REDACT_ENV, FF_REDACT_LINES, FF_REDACT_AUTO };
	for (size_t i = 0; i < 4; i++) {
		char *out = run(text, "any", modes[i], 1);
		CHECK(strstr(out, "admin:[REDACTED]@db.example.com:5432/app") != NULL);
		free(out);
	}
	char *out = run("u=https://ghuser@github.com/x\n", "a.env", FF_REDACT_AUTO, 0);
	CHECK_STR(out, "u=https://ghuser@github.com/x\n"); /* a user alone is no secret */
	free(out);
}

static void test_edge_inputs(void)
{
	char *out = run("", "e.yml", FF_REDACT_AUTO, 0);
	CHECK_STR(out, "");
	free(out);
	out = run("", "e.env", FF_REDACT_AUTO, 0);
	CHECK_STR(out, "");
	free(out);
	/* NUL bytes do not hide the rest of a value. */
	const char nul[] = "password=ab\0hunter2\nx=1\n";
	char *o = NULL;
	size_t len = 0;
	ff_err e;
	CHECK(ff_redact(&o, &len, nul, sizeof(nul) - 1, "n", FF_REDACT_LINES, NULL, &e) == 0);
	CHECK(o && len == strlen("password=[REDACTED]\nx=1\n") &&
	      memcmp(o, "password=[REDACTED]\nx=1\n", len) == 0);
	free(o);
	/* Quoted YAML keeps its meaning: '123' stays a string after emit. */
	out = run("port: '5432'\nn: 5432\npassword: 1234\n", "t.yaml", FF_REDACT_AUTO, 1);
	CHECK_STR(out, "port: '5432'\nn: 5432\npassword: '[REDACTED]'\n");
	free(out);
}

int main(void)
{
	test_secret_keys();
	test_yaml_compose();
	test_yaml_falls_back_to_lines();
	test_env();
	test_lines();
	test_url_credentials_in_every_mode();
	test_edge_inputs();
	return check_summary();
}
