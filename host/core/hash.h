/* hash.h - streaming SHA-256 through OpenSSL's libcrypto, constant memory. */
#ifndef FF_HASH_H
#define FF_HASH_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define FF_SHA256_HEX 65 /* 64 hex digits and a NUL */

typedef struct ff_sha256 ff_sha256; /* opaque: wraps OpenSSL's SHA256_CTX */

/* Incremental hashing, for streams the caller pumps (a dump on its way to
 * disk). ff_sha256_new returns NULL only when it cannot allocate. */
ff_sha256 *ff_sha256_new(void);
void ff_sha256_update(ff_sha256 *h, const void *data, size_t len);
/* Writes the lower-case hex digest into hex (FF_SHA256_HEX bytes) and
 * resets h so it can be reused. */
void ff_sha256_final(ff_sha256 *h, char hex[FF_SHA256_HEX]);
void ff_sha256_free(ff_sha256 *h);
/* The raw 32-byte digest, then reset (per-row hashing). */
void ff_sha256_final_raw(ff_sha256 *h, unsigned char out[32]);
/* The raw 32-byte digest of one buffer, no context (per-row hashing). */
void ff_sha256_raw(unsigned char out[32], const void *data, size_t len);

/* One-shot digest of a memory buffer. */
void ff_sha256_hex(char hex[FF_SHA256_HEX], const void *data, size_t len);

/* Digest of everything readable from fd, from its current offset, in
 * fixed-size blocks. bytes (may be NULL) receives the count read. */
int ff_sha256_fd(char hex[FF_SHA256_HEX], uint64_t *bytes, int fd, ff_err *e);
/* The same of the file at path (FF_EFAIL naming it when it cannot be opened). */
int ff_sha256_path(char hex[FF_SHA256_HEX], const char *path, ff_err *e);

#endif
