/* libFuzzer target: the redactors (YAML, .env, line-based). Besides not
 * crashing: a value planted under a secret key never survives. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/redact.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = { "compose.yml", "app.env", "settings.conf" };
	char *out = NULL;
	size_t len;
	int found;
	ff_err e = {0};

	if (size < 1)
		return 0;
	const char *name = names[data[0] % 3];
	/* The input, then a line that must always be redacted. */
	static const char planted[] = "\npassword: Zq9PlantedSecretValue\n";
	char *text = malloc(size - 1 + sizeof(planted));
	if (!text)
		return 0;
	memcpy(text, data + 1, size - 1);
	memcpy(text + size - 1, planted, sizeof(planted));
	size_t tlen = size - 1 + sizeof(planted) - 1;
	if (ff_redact(&out, &len, text, tlen, name, FF_REDACT_AUTO, &found, &e) == 0) {
		/* Unless the input itself carries the value elsewhere. */
		if (!memchr(text, 0, tlen) && !memmem(data, size, "Zq9Planted", 10) &&
		    strstr(out, "Zq9PlantedSecretValue"))
			__builtin_trap();
		free(out);
	}
	free(text);
	return 0;
}
