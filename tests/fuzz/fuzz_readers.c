/* libFuzzer target: the readers of what an attacker may have written in
 * the backups and evidence folders: manifest.json and summary.json,
 * through lua-cjson and the Lua of stdlib/backups.lua and
 * proof.check_backup, as verify, report, prune, gate, restore and drill
 * run them. Each input is a manifest, a NUL, a drill's summary; the
 * manifest gets a DIGEST that matches it, so the checks reach its fields.
 * tests/fuzz/readers.lua runs in the real sandbox (ffrun --check: its top
 * level runs, no step) and raises on a Lua runtime error; any exit but 0
 * (a runtime error, a sandbox violation, a limit) traps, and so does a
 * crash anywhere in the host, the VM or cjson. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/config.h"
#include "core/hash.h"
#include "run/run.h"

static char root_[64];
static ff_config cfg_;

static void put(const char *rel, const void *p, size_t n)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", root_, rel);
	int f = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0600);
	if (f < 0 || (n && write(f, p, n) != (ssize_t)n))
		abort();
	close(f);
}

static void hex_of(char out[FF_SHA256_HEX], const void *p, size_t n)
{
	ff_err e = {0};
	char path[128];
	snprintf(path, sizeof(path), "%s/scratch", root_);
	int f = open(path, O_CREAT | O_RDWR | O_TRUNC, 0600);
	if (f < 0 || (n && write(f, p, n) != (ssize_t)n) || lseek(f, 0, SEEK_SET) < 0 ||
	    ff_sha256_fd(out, NULL, f, &e) < 0)
		abort();
	close(f);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	ff_err e = {0};
	char yaml[256], path[128];
	snprintf(root_, sizeof(root_), "/tmp/ffreadfuzz-XXXXXX");
	if (!mkdtemp(root_))
		abort();
	const char *dirs[] = { "backups", "backups/20250101-000000", "evidence",
			       "evidence/20250101-000001-drill", NULL };
	for (int i = 0; dirs[i]; i++) {
		snprintf(path, sizeof(path), "%s/%s", root_, dirs[i]);
		if (mkdir(path, 0700) < 0)
			abort();
	}
	put("backups/20250101-000000/db.dump", "PGDMP", 5);
	int n = snprintf(yaml, sizeof(yaml), "paths: { backups: %s/backups, evidence: %s/evidence }\n",
			 root_, root_);
	put("ffrun.yaml", yaml, (size_t)n);
	snprintf(path, sizeof(path), "%s/ffrun.yaml", root_);
	if (ff_config_load(&cfg_, path, &e) < 0) {
		fprintf(stderr, "fuzz_readers: %s\n", e.msg);
		abort();
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 65536)
		return 0;
	const uint8_t *nul = memchr(data, 0, size);
	size_t mlen = nul ? (size_t)(nul - data) : size;
	const uint8_t *summary = nul ? nul + 1 : data;
	size_t slen = nul ? size - mlen - 1 : size;
	char mhex[FF_SHA256_HEX], dhex[FF_SHA256_HEX], digest[256];

	put("backups/20250101-000000/manifest.json", data, mlen);
	hex_of(mhex, data, mlen);
	hex_of(dhex, "PGDMP", 5);
	int n = snprintf(digest, sizeof(digest), "%s  db.dump\n%s  manifest.json\n", dhex, mhex);
	put("backups/20250101-000000/DIGEST", digest, (size_t)n);
	put("evidence/20250101-000001-drill/summary.json", summary, slen);

	ff_ctx ctx;
	memset(&ctx, 0, sizeof(ctx));
	ctx.cfg = &cfg_;
	ctx.check = 1;
	ctx.quiet = 1;
	ctx.runbook_arg = FF_SOURCE_DIR "/tests/fuzz/readers.lua";
	int rc = ff_run(&ctx);
	ff_ctx_free(&ctx);
	if (rc != 0)
		__builtin_trap();
	return 0;
}
