/* dl._fs: directory listing for the dl package, over rt_fs_list_files. */
#include "lua_fs.h"

#include <errno.h>
#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>

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

/* true, or nil and the message of a failed rt_fs call */
static int result(lua_State *L, int rc, const rt_error *err) {
  if (rc == 0) {
    lua_pushboolean(L, 1);
    return 1;
  }
  lua_pushnil(L);
  lua_pushstring(L, err->msg);
  return 2;
}

static int mkdir_p(lua_State *L) {
  rt_error err;
  return result(L, rt_fs_mkdir_p(luaL_checkstring(L, 1), &err), &err);
}

static int rm_rf(lua_State *L) {
  rt_error err;
  return result(L, rt_fs_rm_rf(luaL_checkstring(L, 1), &err), &err);
}

static int write_atomic(lua_State *L) {
  size_t len;
  const char *path = luaL_checkstring(L, 1), *data = luaL_checklstring(L, 2, &len);
  rt_error err;
  return result(L, rt_fs_write_atomic(path, data, len, &err), &err);
}

static int exists(lua_State *L) {
  lua_pushboolean(L, rt_fs_exists(luaL_checkstring(L, 1)));
  return 1;
}

/* temp_dir(prefix) -> a new folder $TMPDIR/<prefix>XXXXXX (the caller removes it) | nil, err */
static int temp_dir(lua_State *L) {
  const char *prefix = luaL_optstring(L, 1, "dlrun-");
  if (strchr(prefix, '/')) return luaL_argerror(L, 1, "a prefix holds no '/'");
  const char *tmp = getenv("TMPDIR");
  char path[RT_PATH_MAX];
  rt_error err;
  if (rt_fs_path(path, &err, "%s/%sXXXXXX", tmp && *tmp ? tmp : "/tmp", prefix) < 0) return result(L, -1, &err);
  if (!mkdtemp(path)) {
    lua_pushnil(L);
    lua_pushfstring(L, "cannot make a temp folder %s: %s", path, strerror(errno));
    return 2;
  }
  lua_pushstring(L, path);
  return 1;
}

int rt_lua_fs_open(lua_State *L) {
  static const luaL_Reg fns[] = {
      {"list_files", list_files}, {"mkdir_p", mkdir_p}, {"rm_rf", rm_rf},          {"write_atomic", write_atomic},
      {"exists", exists},         {"temp_dir", temp_dir}, {NULL, NULL},
  };
  lua_newtable(L);
  luaL_register(L, NULL, fns);
  return 1;
}
