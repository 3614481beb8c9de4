/* libFuzzer target: the COPY-block scanner (core/copyscan.c) on any text.
 * Besides not crashing: the result must not depend on how the text is cut
 * into pieces (the input is fed whole, then in pieces of a size taken from
 * its first byte, and both runs must agree on every table's rows and sum). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/copyscan.h"

static ff_copyscan *scan(const uint8_t *data, size_t size, size_t piece)
{
	ff_copyscan *s = ff_copyscan_new(1);
	if (!s)
		return NULL;
	for (size_t off = 0; off < size; off += piece) {
		size_t k = size - off < piece ? size - off : piece;
		if (ff_copyscan_feed(s, (const char *)data + off, k) < 0)
			break;
	}
	ff_copyscan_finish(s);
	return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t piece = (size_t)data[0] % 17 + 1;
	data++, size--;
	ff_copyscan *a = scan(data, size, size ? size : 1), *b = scan(data, size, piece);
	if (a && b) {
		size_t n = ff_copyscan_count(a);
		if (n != ff_copyscan_count(b))
			abort();
		for (size_t i = 0; i < n; i++) {
			const ff_copyscan_table *x = ff_copyscan_get(a, i), *y = ff_copyscan_get(b, i);
			if (x->rows != y->rows || memcmp(x->sum, y->sum, 32) ||
			    strcmp(x->schema, y->schema) || strcmp(x->name, y->name))
				abort();
		}
		if (strcmp(ff_copyscan_error(a), ff_copyscan_error(b)) &&
		    (!*ff_copyscan_error(a) || !*ff_copyscan_error(b)))
			abort(); /* one failed, the other did not */
	}
	ff_copyscan_free(a);
	ff_copyscan_free(b);
	return 0;
}
