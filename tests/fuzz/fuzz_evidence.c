/* libFuzzer target: the evidence verifier (DIGEST and the events.jsonl
 * chain) reading hostile files. Never a crash; an intact chain that the
 * fuzzer did not write through the writer is fine, a crash is not. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/evidence.h"

static int dirfd_ = -1;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	char tmpl[] = "/tmp/ffevfuzz-XXXXXX";
	if (!mkdtemp(tmpl))
		abort();
	dirfd_ = open(tmpl, O_DIRECTORY | O_RDONLY);
	int f = openat(dirfd_, "a.txt", O_CREAT | O_WRONLY, 0600);
	if (f < 0 || write(f, "abc", 3) != 3)
		abort();
	close(f);
	return 0;
}

static void put(const char *name, const uint8_t *p, size_t n)
{
	int f = openat(dirfd_, name, O_CREAT | O_WRONLY | O_TRUNC, 0600);
	if (f < 0 || (n && write(f, p, n) != (ssize_t)n))
		abort();
	close(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ff_err e = {0};
	char last[FF_SHA256_HEX];
	unsigned long long count;
	/* The first half is the DIGEST, the rest the event log. */
	size_t half = size / 2;
	put("DIGEST", data, half);
	put("events.jsonl", data + half, size - half);
	ff_digest_verify(dirfd_, NULL, NULL, &e);
	ff_events_verify(dirfd_, last, &count, NULL, NULL, &e);
	return 0;
}
