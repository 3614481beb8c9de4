/* hash.c - SHA-256 through OpenSSL's libcrypto.
 *
 * The digest code is OpenSSL's (SHA-NI/AVX2 where the CPU has them), so the
 * only thing this file can make slow is the reading: large blocks, one heap
 * buffer per call, no copies beyond the read itself.
 *
 * It calls OpenSSL's SHA256_* functions, not EVP: the same assembly, but
 * EVP's first digest fetch initialises providers, configuration and error
 * strings (about 4 ms, more than the rest of ffrun's start-up) and every
 * EVP call dispatches through the provider (~70 ns, a third of hashing a
 * short row for content fingerprints). OpenSSL 3 marks these functions
 * deprecated in favour of EVP but ships and maintains them. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include "hash.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/sha.h>

/* Big enough that syscalls vanish next to hashing (~2 GB/s with SHA-NI),
 * small enough to stay in L2 while it is hashed. */
#define FF_HASH_BLOCK (256 * 1024)

struct ff_sha256 {
	SHA256_CTX ctx;
};

static void to_hex(char hex[FF_SHA256_HEX], const unsigned char *md, unsigned n)
{
	static const char digits[] = "0123456789abcdef";
	unsigned i;

	for (i = 0; i < n && i < (FF_SHA256_HEX - 1) / 2; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 0xf];
	}
	hex[2 * i] = '\0';
}

ff_sha256 *ff_sha256_new(void)
{
	ff_sha256 *h = malloc(sizeof(*h));

	if (h)
		SHA256_Init(&h->ctx);
	return h;
}

void ff_sha256_update(ff_sha256 *h, const void *data, size_t len)
{
	if (len)
		SHA256_Update(&h->ctx, data, len);
}

void ff_sha256_final(ff_sha256 *h, char hex[FF_SHA256_HEX])
{
	unsigned char md[SHA256_DIGEST_LENGTH];

	SHA256_Final(md, &h->ctx);
	to_hex(hex, md, sizeof(md));
	SHA256_Init(&h->ctx);
}

void ff_sha256_final_raw(ff_sha256 *h, unsigned char out[32])
{
	SHA256_Final(out, &h->ctx);
	SHA256_Init(&h->ctx);
}

void ff_sha256_free(ff_sha256 *h)
{
	free(h);
}

void ff_sha256_raw(unsigned char out[32], const void *data, size_t len)
{
	/* Not SHA256(): OpenSSL 3 implements the one-shot call with EVP. */
	SHA256_CTX c;
	SHA256_Init(&c);
	SHA256_Update(&c, data, len);
	SHA256_Final(out, &c);
}

void ff_sha256_hex(char hex[FF_SHA256_HEX], const void *data, size_t len)
{
	unsigned char md[SHA256_DIGEST_LENGTH];

	ff_sha256_raw(md, data, len);
	to_hex(hex, md, sizeof(md));
}

int ff_sha256_fd(char hex[FF_SHA256_HEX], uint64_t *bytes, int fd, ff_err *e)
{
	ff_sha256 *h;
	char *buf;
	uint64_t total = 0;
	ssize_t n;
	off_t at;

	hex[0] = '\0';
	if (bytes)
		*bytes = 0;
	if (!(h = ff_sha256_new()))
		return ff_err_set(e, FF_EFAIL, "sha256: out of memory");
	if (!(buf = malloc(FF_HASH_BLOCK))) {
		ff_sha256_free(h);
		return ff_err_set(e, FF_EFAIL, "sha256: out of memory");
	}

	/* Doubles the kernel's read-ahead; a pipe answers ESPIPE, which is fine. */
	if ((at = lseek(fd, 0, SEEK_CUR)) >= 0)
		posix_fadvise(fd, at, 0, POSIX_FADV_SEQUENTIAL);

	for (;;) {
		n = read(fd, buf, FF_HASH_BLOCK);
		if (n > 0) {
			ff_sha256_update(h, buf, (size_t)n);
			total += (uint64_t)n;
		} else if (n == 0) {
			break;
		} else if (errno != EINTR) {
			int err = errno;
			free(buf);
			ff_sha256_free(h);
			return ff_err_set(e, FF_EFAIL, "sha256: read fd %d after %llu bytes: %s",
					  fd, (unsigned long long)total, strerror(err));
		}
	}

	ff_sha256_final(h, hex);
	free(buf);
	ff_sha256_free(h);
	if (bytes)
		*bytes = total;
	return 0;
}

int ff_sha256_path(char hex[FF_SHA256_HEX], const char *path, ff_err *e)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ff_err_set(e, FF_EFAIL, "%s: %s", path, strerror(errno));
	int rc = ff_sha256_fd(hex, NULL, fd, e);
	close(fd);
	return rc;
}
