/* redact.h - safe snapshots of configuration files: values under
 * secret-looking keys are replaced by "[REDACTED]" (SPEC §1.1 of the canon:
 * compose/run configs only as safe snapshots). */
#ifndef FF_REDACT_H
#define FF_REDACT_H

#include <stddef.h>

#include "err.h"

#define FF_REDACTED "[REDACTED]"

/* 1 when a key names a secret: password, passwd, pass, pwd, secret, token,
 * key (api_key, private_key, access_key…), credential(s), auth,
 * cookie, salt, dsn, connection string/url with credentials…; case-insensitive,
 * matched on words split by _ - . and camelCase. */
int ff_redact_is_secret_key(const char *key, size_t len);

typedef enum {
	FF_REDACT_AUTO, /* by file name: .yml/.yaml -> YAML, .env -> ENV, else LINES */
	FF_REDACT_YAML, /* parse, replace scalars under secret keys (and whole
	                   subtrees under them), emit; also KEY=VALUE items in
	                   sequences such as compose `environment:` lists */
	FF_REDACT_ENV,  /* KEY=VALUE lines (optional `export `), comments kept */
	FF_REDACT_LINES /* any line `key: value`, `key = value`, `KEY=VALUE` or
	                   containing a URL with user:password@ gets its value
	                   replaced when the key is secret */
} ff_redact_mode;

/* Redact text (len bytes) into a malloc'd NUL-terminated *out. name selects
 * the mode under FF_REDACT_AUTO and appears in errors. secrets_found (may be
 * NULL) receives how many values were replaced. URL credentials
 * (scheme://user:PASSWORD@host) and secret `key=value` pairs inside values
 * are redacted in every mode. Text YAML mode cannot parse (anchors, several
 * documents, bad syntax) goes through LINES mode instead: the result is
 * always redacted, never the input as is. Fails only when out of memory. */
int ff_redact(char **out, size_t *out_len, const char *text, size_t len,
	      const char *name, ff_redact_mode mode, int *secrets_found,
	      ff_err *e);

#endif
