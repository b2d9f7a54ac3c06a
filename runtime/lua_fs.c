/* dl._fs: directory listing for the dl package, over rt_fs_list_files. */
#include "lua_fs.h"

#include <lauxlib.h>

#include "fsutil.h"

/* list_files(dir) -> {relative paths, sorted} | nil, message */
static int list_files(lua_State *L) {
  const char *dir = luaL_checkstring(L, 1);
  rt_strlist files = {0};
  rt_error err;
  if (!rt_fs_is_dir(dir)) {
    lua_pushnil(L);
    lua_pushfstring(L, "%s: no such folder", dir);
    return 2;
  }
  if (rt_fs_list_files(dir, &files, &err) < 0) {
    rt_strlist_free(&files);
    lua_pushnil(L);
    lua_pushstring(L, err.msg);
    return 2;
  }
  lua_createtable(L, (int)files.n, 0);
  for (size_t i = 0; i < files.n; i++) {
    lua_pushstring(L, files.v[i]);
    lua_rawseti(L, -2, (int)i + 1);
  }
  rt_strlist_free(&files);
  return 1;
}

int rt_lua_fs_open(lua_State *L) {
  lua_createtable(L, 0, 1);
  lua_pushcfunction(L, list_files);
  lua_setfield(L, -2, "list_files");
  return 1;
}
