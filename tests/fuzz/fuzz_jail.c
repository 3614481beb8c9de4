/* libFuzzer target: the path jail. Whatever the path, a resolution that
 * succeeds must name a place inside the one root: checked by the kernel,
 * with the parent's real path. */
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/path.h"

static ff_jail jail;
static char root[PATH_MAX];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	char tmpl[] = "/tmp/ffjailfuzz-XXXXXX";
	if (!mkdtemp(tmpl))
		abort();
	/* A root with a folder, a file and links that lead out. */
	snprintf(root, sizeof(root), "%s/root", tmpl);
	mkdir(root, 0700);
	char p[PATH_MAX + 32];
	snprintf(p, sizeof(p), "%s/sub", root);
	mkdir(p, 0700);
	snprintf(p, sizeof(p), "%s/sub/file", root);
	close(open(p, O_CREAT | O_WRONLY, 0600));
	snprintf(p, sizeof(p), "%s/out", root);
	if (symlink("/etc", p) < 0)
		abort();
	snprintf(p, sizeof(p), "%s/sub/up", root);
	if (symlink("../..", p) < 0)
		abort();
	ff_jail_init(&jail);
	if (ff_jail_add(&jail, root, 1, NULL) < 0)
		abort();
	char *real = realpath(root, NULL);
	snprintf(root, sizeof(root), "%s", real);
	free(real);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[PATH_MAX + 64], name[256], parent[PATH_MAX], proc[64];
	int dirfd;
	ff_err e = {0};

	if (size > PATH_MAX)
		return 0;
	/* Half the inputs are made relative to the root, so the fuzzer spends
	 * its time near the boundary. */
	if (size && data[0] & 1)
		snprintf(path, sizeof(path), "%s/%.*s", root, (int)size - 1, (const char *)data + 1);
	else
		snprintf(path, sizeof(path), "%.*s", (int)size, (const char *)data);
	if (strlen(path) != (size && (data[0] & 1) ? strlen(root) + size : size))
		return 0; /* embedded NUL */
	if (ff_jail_resolve(&dirfd, name, &jail, path, 1, &e) == 0) {
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", dirfd);
		ssize_t n = readlink(proc, parent, sizeof(parent) - 1);
		close(dirfd);
		if (n < 0)
			__builtin_trap();
		parent[n] = '\0';
		size_t rl = strlen(root);
		/* The parent is the root or inside it; the name is one plain
		 * component. */
		int inside = !strcmp(parent, root) || (!strncmp(parent, root, rl) && parent[rl] == '/');
		int root_itself = !strcmp(name, "root") && !strncmp(root, parent, strlen(parent));
		if ((!inside && !root_itself) || strchr(name, '/') || !strcmp(name, ".."))
			__builtin_trap();
	}
	return 0;
}
