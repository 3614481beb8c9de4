/* libFuzzer target: the configuration loader (libyaml tree + schema). Any
 * input must give either a config or an error with file:line:col, never a
 * crash, a leak or undefined behaviour. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	char path[64];
	ff_config cfg;
	ff_err e = {0};

	if (fd < 0)
		fd = memfd_create("ffrun.yaml", 0);
	if (ftruncate(fd, 0) < 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
		return 0;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if (ff_config_load(&cfg, path, &e) == 0)
		ff_config_free(&cfg);
	else if (!strstr(e.msg, "/proc/self/fd/"))
		__builtin_trap(); /* every error names the file */
	return 0;
}
