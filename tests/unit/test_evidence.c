/* The evidence core: the events.jsonl chain and DIGEST, written and
 * checked; plus regressions found by fuzzing (an empty DIGEST in an empty
 * folder reached qsort with NULL). */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "core/evidence.h"

static int problems;
static void count(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
	problems++;
}

int main(void)
{
	char root[] = "/tmp/ffevtest-XXXXXX";
	ff_evidence ev;
	ff_err e = {0};
	char last[FF_SHA256_HEX];
	unsigned long long n;

	CHECK(mkdtemp(root) != NULL);
	CHECK(ff_evidence_open(&ev, root, "20260101-000000", "unit", &e) == 0);
	for (int i = 0; i < 5; i++)
		CHECK(ff_evidence_event(&ev, "step", "call", "\"i\":1") == 0);
	CHECK(ff_evidence_seal(&ev, "{\"format\":\"ffrun.evidence/1\"}", &e) == 0);
	problems = 0;
	CHECK(ff_events_verify(ev.dirfd, last, &n, count, NULL, &e) == 0 && n == 5);
	CHECK_STR(last, ev.prev);
	CHECK(ff_digest_verify(ev.dirfd, count, NULL, &e) == 0);

	/* A same-second second run gets a suffix, never the same folder. */
	ff_evidence ev2;
	CHECK(ff_evidence_open(&ev2, root, "20260101-000000", "unit", &e) == 0);
	CHECK(strstr(ev2.dir, "20260101-000000-unit-2") != NULL);

	/* Tampering: one byte in events.jsonl breaks the chain and DIGEST. */
	int f = openat(ev.dirfd, "events.jsonl", O_WRONLY);
	CHECK(f >= 0 && pwrite(f, "9", 1, 8) == 1);
	close(f);
	problems = 0;
	CHECK(ff_events_verify(ev.dirfd, last, &n, count, NULL, &e) > 0);
	CHECK(ff_digest_verify(ev.dirfd, count, NULL, &e) > 0);

	/* Regression (fuzz_evidence): empty DIGEST, nothing else listed. */
	f = openat(ev2.dirfd, "DIGEST", O_WRONLY | O_CREAT | O_TRUNC, 0600);
	close(f);
	problems = 0;
	CHECK(ff_digest_verify(ev2.dirfd, count, NULL, &e) > 0 && problems > 0);

	/* Known digests: used while the file keeps its size, so not read
	 * again; a known digest that lies is caught by the verify that
	 * follows every write; one whose size is stale is not used at all. */
	char hex[FF_SHA256_HEX];
	ff_sha256_hex(hex, "abc", 3);
	unlinkat(ev2.dirfd, "DIGEST", 0);
	f = openat(ev2.dirfd, "data", O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CHECK(f >= 0 && write(f, "abc", 3) == 3);
	close(f);
	const char *lie = "0000000000000000000000000000000000000000000000000000000000000000";
	ff_known_digest right = { "data", hex, 3 }, wrong = { "data", lie, 3 }, stale = { "data", lie, 4 };
	problems = 0;
	CHECK(ff_digest_write(ev2.dirfd, &right, 1, &e) == 0);
	CHECK(ff_digest_verify(ev2.dirfd, count, NULL, &e) == 0 && problems == 0);
	CHECK(ff_digest_write(ev2.dirfd, &wrong, 1, &e) == 0);
	CHECK(ff_digest_verify(ev2.dirfd, count, NULL, &e) > 0 && problems > 0);
	problems = 0;
	CHECK(ff_digest_write(ev2.dirfd, &stale, 1, &e) == 0);
	CHECK(ff_digest_verify(ev2.dirfd, count, NULL, &e) == 0 && problems == 0);

	ff_evidence_close(&ev);
	ff_evidence_close(&ev2);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	CHECK(system(cmd) == 0);
	return check_summary();
}
