/* l_fs.h - what ff.fs shares with other bindings: its lock handle. */
#ifndef FF_L_FS_H
#define FF_L_FS_H

#include <lua.h>

/* Push a lock handle (lock:release(), <close>, the end of the run) on
 * the file at path, a trusted path the host made (not the jail's):
 * created 0600, never through a symlink, held exclusive; busy (exit 4)
 * names path and who holds it. probe_only: only checks that nobody holds
 * it (a rehearsal), creating nothing. A file that cannot be opened is
 * nil, message, code. MAY_LJMP. */
int lfs_lock_file(lua_State *L, const char *path, int probe_only);

#endif
