/* path.h - the filesystem jail (SPEC §5).
 *
 * A path is allowed when, walking it one component at a time from "/" with
 * O_NOFOLLOW, it passes through a root folder of the jail (recognised by
 * device and inode, never by comparing strings), or ends on a root file.
 * ".." and symlinks are refused anywhere in the walk, so nothing can step
 * out of a root once inside it. The deepest root on the way decides: a
 * writable root (backups, evidence, temp) nested inside a read-only one
 * (the config folder) is writable, the rest of the read-only root is not. */
#ifndef FF_PATH_H
#define FF_PATH_H

#include <sys/types.h>

#include "err.h"

typedef struct ff_jail_root {
	char *path;   /* canonical absolute path, for messages */
	dev_t dev;
	ino_t ino;
	int writable;
	int is_file;  /* a single file that may be read (a snapshot source) */
} ff_jail_root;

typedef struct ff_jail {
	ff_jail_root *roots;
	size_t n;
} ff_jail;

void ff_jail_init(ff_jail *j);
void ff_jail_free(ff_jail *j);

/* Add a root. The path must exist; it is canonicalised once here, by the
 * host, from trusted configuration. */
int ff_jail_add(ff_jail *j, const char *path, int writable, ff_err *e);

/* Resolve path for an operation. On success *dirfd is an O_PATH descriptor
 * of the parent folder (caller closes it) and name the final component
 * (at most NAME_MAX bytes; "." only for "/" itself).
 * write: 1 for operations that create, change or remove. */
int ff_jail_resolve(int *dirfd, char name[256], const ff_jail *j,
		    const char *path, int write, ff_err *e);

/* 1 when name in dirfd is itself a root: roots are never removed or
 * renamed by runbooks. */
int ff_jail_is_root(const ff_jail *j, int dirfd, const char *name);

/* open(2) inside the jail: O_NOFOLLOW is always added; write access is
 * implied by O_WRONLY, O_RDWR, O_CREAT or O_TRUNC. */
int ff_jail_open(int *fd, const ff_jail *j, const char *path, int flags,
		 mode_t mode, ff_err *e);

#endif
