/* fsutil.h - the host's own folder chores (not the jail: these take
 * trusted paths from the configuration or made by the host itself). */
#ifndef FF_FSUTIL_H
#define FF_FSUTIL_H

#include "err.h"

/* mkdir -p with mode 0700 for every folder it creates. */
int ff_mkdir_p(const char *path, ff_err *e);

/* rm -rf of a folder the host made (a private temporary folder, a drill
 * instance); symlinks inside are removed, never followed. */
void ff_remove_tree(const char *path);

#endif
