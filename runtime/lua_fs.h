/* lua_fs.h — the file-system functions the dl package needs and plain Lua
 * lacks, as the module `dl._fs` (preloaded in every host):
 *
 *   local files, err = require('dl._fs').list_files(dir)
 *   -- {"a/b.json", "c.json"}: regular files under dir, relative, sorted
 */
#ifndef RT_LUA_FS_H
#define RT_LUA_FS_H

#include <lua.h>

/* The package.preload loader of `dl._fs`: pushes its table. */
int rt_lua_fs_open(lua_State *L);

#endif
