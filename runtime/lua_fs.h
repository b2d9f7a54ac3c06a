/* lua_fs.h — the file-system functions the dl package needs and plain Lua
 * lacks, as the module `dl._fs` (preloaded in every host):
 *
 *   local fs = require 'dl._fs'
 *   local files, err = fs.list_files(dir)
 *   -- {"a/b.json", "c.json"}: regular files under dir, relative, sorted
 *   fs.mkdir_p(dir)                  -- true | nil, err (parents too)
 *   fs.rm_rf(path)                   -- true | nil, err (links not followed)
 *   fs.write_atomic(path, data)      -- true | nil, err (temp, fsync, rename)
 *   fs.exists(path)                  -- boolean (links not followed)
 *   local dir = fs.temp_dir('name-') -- $TMPDIR/name-XXXXXX, new and empty | nil, err
 */
#ifndef RT_LUA_FS_H
#define RT_LUA_FS_H

#include <lua.h>

/* The package.preload loader of `dl._fs`: pushes its table. */
int rt_lua_fs_open(lua_State *L);

#endif
