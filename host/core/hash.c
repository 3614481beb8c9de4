/* hash.c - SHA-256 through OpenSSL 3 EVP.
 *
 * The digest code is OpenSSL's (SHA-NI/AVX2 where the CPU has them), so the
 * only thing this file can make slow is the reading: large blocks, one heap
 * buffer per call, no copies beyond the read itself. */
#include "hash.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

/* Big enough that syscalls vanish next to hashing (~2 GB/s with SHA-NI),
 * small enough to stay in L2 while it is hashed. */
#define FF_HASH_BLOCK (256 * 1024)

struct ff_sha256 {
	EVP_MD_CTX *ctx;
	EVP_MD *md; /* fetched once: an implicit fetch on every re-init would
	               dominate per-row hashing (content fingerprints) */
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
	ff_sha256 *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	if (!(h->ctx = EVP_MD_CTX_new()) || !(h->md = EVP_MD_fetch(NULL, "SHA256", NULL)) ||
	    !EVP_DigestInit_ex(h->ctx, h->md, NULL)) {
		ff_sha256_free(h);
		return NULL;
	}
	return h;
}

void ff_sha256_update(ff_sha256 *h, const void *data, size_t len)
{
	/* Cannot fail once the context is initialised with a built-in digest. */
	if (len)
		EVP_DigestUpdate(h->ctx, data, len);
}

void ff_sha256_final(ff_sha256 *h, char hex[FF_SHA256_HEX])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned n = 0;

	if (!EVP_DigestFinal_ex(h->ctx, md, &n))
		n = 0;
	to_hex(hex, md, n);
	EVP_DigestInit_ex(h->ctx, h->md, NULL);
}

void ff_sha256_final_raw(ff_sha256 *h, unsigned char out[32])
{
	unsigned n = 0;
	if (!EVP_DigestFinal_ex(h->ctx, out, &n))
		memset(out, 0, 32);
	EVP_DigestInit_ex(h->ctx, h->md, NULL);
}

void ff_sha256_free(ff_sha256 *h)
{
	if (!h)
		return;
	EVP_MD_CTX_free(h->ctx);
	EVP_MD_free(h->md);
	free(h);
}

void ff_sha256_hex(char hex[FF_SHA256_HEX], const void *data, size_t len)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned n = 0;

	/* An empty string, never a wrong digest, if OpenSSL cannot allocate. */
	if (!EVP_Digest(data, len, md, &n, EVP_sha256(), NULL))
		n = 0;
	to_hex(hex, md, n);
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
