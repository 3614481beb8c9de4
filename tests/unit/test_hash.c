/* test_hash.c - SHA-256: known vectors, file digests equal memory digests,
 * the incremental API equals the one-shot one. */
#include "core/hash.h"
#include "core/pg.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"

#define EMPTY_SHA "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define ABC_SHA "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

/* Deterministic filler so a failure reproduces. */
static void fill(unsigned char *p, size_t n)
{
	uint32_t x = 2463534242u;
	for (size_t i = 0; i < n; i++) {
		x ^= x << 13; x ^= x >> 17; x ^= x << 5;
		p[i] = (unsigned char)x;
	}
}

static int temp_file(const unsigned char *p, size_t n)
{
	char path[] = "/tmp/ff_test_hash_XXXXXX";
	int fd = mkstemp(path);
	size_t off = 0;

	if (fd < 0)
		return -1;
	unlink(path);
	while (off < n) {
		ssize_t w = write(fd, p + off, n - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			close(fd);
			return -1;
		}
		off += (size_t)w;
	}
	lseek(fd, 0, SEEK_SET);
	return fd;
}

static void test_known_vectors(void)
{
	char hex[FF_SHA256_HEX];

	ff_sha256_hex(hex, "", 0);
	CHECK_STR(hex, EMPTY_SHA);
	ff_sha256_hex(hex, "abc", 3);
	CHECK_STR(hex, ABC_SHA);
	ff_sha256_hex(hex, "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56);
	CHECK_STR(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

static void test_incremental_equals_one_shot(void)
{
	size_t n = 1000003, off = 0, step = 1;
	unsigned char *p = malloc(n);
	char one[FF_SHA256_HEX], inc[FF_SHA256_HEX];
	ff_sha256 *h = ff_sha256_new();

	CHECK(p && h);
	if (!p || !h)
		goto out;
	fill(p, n);
	ff_sha256_hex(one, p, n);
	/* Uneven pieces cross every internal 64-byte block boundary. */
	while (off < n) {
		size_t k = step < n - off ? step : n - off;
		ff_sha256_update(h, p + off, k);
		off += k;
		step = step * 3 % 9973 + 1;
	}
	ff_sha256_final(h, inc);
	CHECK_STR(inc, one);

	/* final resets: the context is reusable. */
	ff_sha256_final(h, inc);
	CHECK_STR(inc, EMPTY_SHA);
	ff_sha256_update(h, "a", 1);
	ff_sha256_update(h, "", 0);
	ff_sha256_update(h, "bc", 2);
	ff_sha256_final(h, inc);
	CHECK_STR(inc, ABC_SHA);
out:
	ff_sha256_free(h);
	free(p);
}

static void test_file_equals_memory(void)
{
	size_t n = 5 * 1024 * 1024 + 123; /* several read blocks and a ragged end */
	unsigned char *p = malloc(n);
	char want[FF_SHA256_HEX], got[FF_SHA256_HEX];
	uint64_t bytes = 0;
	ff_err e = {0};
	int fd;

	CHECK(p != NULL);
	if (!p)
		return;
	fill(p, n);
	fd = temp_file(p, n);
	CHECK(fd >= 0);
	if (fd < 0) {
		free(p);
		return;
	}

	ff_sha256_hex(want, p, n);
	CHECK(ff_sha256_fd(got, &bytes, fd, &e) == 0);
	CHECK_STR(got, want);
	CHECK(bytes == n);

	/* From the current offset, not from the start of the file. */
	CHECK(lseek(fd, 4097, SEEK_SET) == 4097);
	ff_sha256_hex(want, p + 4097, n - 4097);
	CHECK(ff_sha256_fd(got, &bytes, fd, &e) == 0);
	CHECK_STR(got, want);
	CHECK(bytes == n - 4097);

	/* At the end: the digest of nothing; bytes may be NULL. */
	CHECK(ff_sha256_fd(got, NULL, fd, &e) == 0);
	CHECK_STR(got, EMPTY_SHA);

	close(fd);
	free(p);
}

static void test_pipe(void)
{
	int p[2];
	char got[FF_SHA256_HEX];
	uint64_t bytes = 0;
	ff_err e = {0};

	CHECK(pipe(p) == 0);
	CHECK(write(p[1], "abc", 3) == 3);
	close(p[1]);
	CHECK(ff_sha256_fd(got, &bytes, p[0], &e) == 0);
	CHECK_STR(got, ABC_SHA);
	CHECK(bytes == 3);
	close(p[0]);
}

static void test_read_errors(void)
{
	char got[FF_SHA256_HEX] = "x";
	ff_err e = {0};
	int fd = open("/tmp", O_RDONLY | O_DIRECTORY);

	CHECK(fd >= 0);
	CHECK(ff_sha256_fd(got, NULL, fd, &e) == FF_EFAIL);
	CHECK(e.code == FF_EFAIL);
	CHECK(strstr(e.msg, "Is a directory") != NULL);
	CHECK(got[0] == '\0');
	close(fd);

	CHECK(ff_sha256_fd(got, NULL, -1, &e) == FF_EFAIL);
	CHECK(strstr(e.msg, "Bad file descriptor") != NULL);
}

/* The content digest's sum modulo 2^256: carries cross every byte and
 * 64-bit limb, the top carry is dropped, the order does not matter. */
static void test_sum_mod_2_256(void)
{
	unsigned char acc[32], one[32] = {0}, h[32];
	char hex[FF_SHA256_HEX];

	one[31] = 1;
	memset(acc, 0xff, sizeof(acc));
	ff_pg_sum_add(acc, one);
	ff_pg_sum_hex(hex, acc);
	CHECK_STR(hex, "0000000000000000000000000000000000000000000000000000000000000000");

	memset(acc, 0, sizeof(acc));
	memset(acc + 24, 0xff, 8); /* the lowest limb full: the carry moves up */
	ff_pg_sum_add(acc, one);
	ff_pg_sum_hex(hex, acc);
	CHECK_STR(hex, "0000000000000000000000000000000000000000000000010000000000000000");

	/* a + b + c in two orders, against a byte-by-byte reference */
	unsigned char a[32], b[32], c[32], x[32] = {0}, y[32] = {0}, ref[32] = {0};
	ff_sha256_raw(a, "a", 1);
	ff_sha256_raw(b, "b", 1);
	ff_sha256_raw(c, "c", 1);
	ff_pg_sum_add(x, a), ff_pg_sum_add(x, b), ff_pg_sum_add(x, c);
	ff_pg_sum_add(y, c), ff_pg_sum_add(y, a), ff_pg_sum_add(y, b);
	CHECK(memcmp(x, y, 32) == 0);
	const unsigned char *v[3] = { a, b, c };
	for (int k = 0; k < 3; k++) {
		unsigned carry = 0;
		for (int i = 31; i >= 0; i--) {
			unsigned s = (unsigned)ref[i] + v[k][i] + carry;
			ref[i] = (unsigned char)s;
			carry = s >> 8;
		}
	}
	CHECK(memcmp(x, ref, 32) == 0);
	ff_sha256_raw(h, "abc", 3);
	ff_sha256_hex(hex, "abc", 3);
	char hex2[FF_SHA256_HEX];
	ff_pg_sum_hex(hex2, h);
	CHECK_STR(hex, hex2);
}

int main(void)
{
	test_sum_mod_2_256();
	test_known_vectors();
	test_incremental_equals_one_shot();
	test_file_equals_memory();
	test_pipe();
	test_read_errors();
	return check_summary();
}
