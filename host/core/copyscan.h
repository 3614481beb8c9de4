/* copyscan.h - the rows of every table in a SQL script's COPY blocks.
 *
 * pg_restore --data-only turns a custom-format archive back into SQL: for
 * each table `COPY schema.name (cols) FROM stdin;`, then the rows exactly
 * as the server's COPY TO sent them to pg_dump, then `\.`. Fed that text
 * in pieces of any size, the scanner counts each table's rows and, in
 * content mode, adds up the sha256 of each row (with its newline) modulo
 * 2^256: the same digest ff_pg_copy_sum computes over a connection, so a
 * backup can fingerprint its tables from the dump it is writing instead of
 * reading every table a second time. Memory is constant: rows are hashed
 * as they stream, only a COPY line itself is held (up to 1 MiB). */
#ifndef FF_COPYSCAN_H
#define FF_COPYSCAN_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

typedef struct ff_copyscan ff_copyscan;

typedef struct ff_copyscan_table {
	char *schema, *name; /* unquoted */
	uint64_t rows;
	unsigned char sum[32]; /* content mode only */
} ff_copyscan_table;

/* NULL when out of memory. content: 0 counts rows, 1 also digests them. */
ff_copyscan *ff_copyscan_new(int content);
/* Returns 0, or -1 once the text cannot be a pg_restore script (the
 * reason is in ff_copyscan_error); later calls then do nothing. */
int ff_copyscan_feed(ff_copyscan *s, const char *p, size_t n);
/* At the end of the text: -1 when it stopped inside a COPY block. */
int ff_copyscan_finish(ff_copyscan *s);
const char *ff_copyscan_error(const ff_copyscan *s);
size_t ff_copyscan_count(const ff_copyscan *s);
const ff_copyscan_table *ff_copyscan_get(const ff_copyscan *s, size_t i);
void ff_copyscan_free(ff_copyscan *s);

#endif
