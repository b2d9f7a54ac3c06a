/* The embedded LuaJIT state: creation, package paths, and the one protected
 * call helper through which every call into Lua goes. */
#include "host.h"

#include <lauxlib.h>
#include <limits.h>
#include <lualib.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lua_bytecode.h"
#include "lua_fs.h"

/* The FFI block of native_ops/dl_native.h, generated at build time. */
extern const char dl_native_cdef[];

/* Message handler in the style of lua.c: turn any error value into a string
 * and append the traceback of the stack that raised it. */
static int traceback_handler(lua_State *L) {
  const char *msg = lua_tostring(L, 1);
  if (!msg) {
    if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING) {
      msg = lua_tostring(L, -1);
    } else {
      msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    }
  }
  luaL_traceback(L, L, msg, 1);
  return 1;
}

int rt_host_pcall(lua_State *L, int nargs, int nresults) {
  int base = lua_gettop(L) - nargs; /* the function's slot */
  lua_pushcfunction(L, traceback_handler);
  lua_insert(L, base);
  int status = lua_pcall(L, nargs, nresults, base);
  lua_remove(L, base);
  return status;
}

int rt_host_require(lua_State *L, const char *name) {
  lua_getglobal(L, "require");
  lua_pushstring(L, name);
  return rt_host_pcall(L, 1, 1);
}

int rt_host_call(lua_State *L, const char *module, const char *fn, int nargs, int nresults) {
  int status = rt_host_require(L, module);
  if (status != 0) {
    lua_insert(L, -(nargs + 1)); /* keep the error, drop the arguments */
    lua_pop(L, nargs);
    return status;
  }
  lua_getfield(L, -1, fn);
  lua_remove(L, -2);
  lua_insert(L, -(nargs + 1));
  return rt_host_pcall(L, nargs, nresults);
}

static int load_cdef(lua_State *L) {
  lua_pushstring(L, dl_native_cdef);
  return 1;
}

static bool is_dir_with_dl(const char *dir) {
  char probe[PATH_MAX + 16];
  struct stat st;
  snprintf(probe, sizeof probe, "%s/dl/init.lua", dir);
  return stat(probe, &st) == 0 && S_ISREG(st.st_mode);
}

int rt_host_find_lua_dir(char *out, size_t outlen, rt_error *err) {
  const char *env = getenv("DLRUN_LUA_DIR");
  if (env && *env) {
    if (!is_dir_with_dl(env)) return rt_fail(err, "DLRUN_LUA_DIR=%s does not hold the dl package (dl/init.lua)", env);
    snprintf(out, outlen, "%s", env);
    return 0;
  }
  char exe[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n < 0) return rt_fail(err, "cannot find the dlrun executable (/proc/self/exe); set DLRUN_LUA_DIR");
  exe[n] = '\0';
  char *slash = strrchr(exe, '/');
  if (slash) *slash = '\0';
  char candidate[PATH_MAX + 32];
  snprintf(candidate, sizeof candidate, "%s/../share/dlrun/lua", exe);
  char resolved[PATH_MAX];
  if (realpath(candidate, resolved) && is_dir_with_dl(resolved)) {
    snprintf(out, outlen, "%s", resolved);
    return 0;
  }
  return rt_fail(err, "cannot find the dl Lua package in %s; reinstall dlrun or set DLRUN_LUA_DIR", candidate);
}

/* package.path = adapter dir (optional), the dl package, then LuaJIT's default
 * (which holds Debian's /usr/share/lua/5.1 for busted and cjson). */
static void set_package_path(lua_State *L, const char *lua_dir, const char *adapter_dir) {
  lua_getglobal(L, "package");
  lua_getfield(L, -1, "path");
  const char *dflt = lua_tostring(L, -1);
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  luaL_addstring(&b, lua_dir);
  luaL_addstring(&b, "/?.lua;");
  luaL_addstring(&b, lua_dir);
  luaL_addstring(&b, "/?/init.lua;");
  if (adapter_dir) {
    luaL_addstring(&b, adapter_dir);
    luaL_addstring(&b, "/?.lua;");
    luaL_addstring(&b, adapter_dir);
    luaL_addstring(&b, "/?/init.lua;");
  }
  luaL_addstring(&b, dflt ? dflt : "");
  luaL_pushresult(&b);
  lua_setfield(L, -3, "path");
  lua_pop(L, 2);
}

rt_host *rt_host_new(const char *adapter_dir, const char *bytecode_dir, rt_error *err) {
  rt_host *h = calloc(1, sizeof *h);
  if (!h) {
    rt_fail(err, "out of memory creating the Lua host");
    return NULL;
  }
  h->adapter_ref = LUA_NOREF;
  if (rt_host_find_lua_dir(h->lua_dir, sizeof h->lua_dir, err) < 0) {
    free(h);
    return NULL;
  }
  h->L = luaL_newstate();
  if (!h->L) {
    rt_fail(err, "cannot create a LuaJIT state (out of memory?)");
    free(h);
    return NULL;
  }
  lua_State *L = h->L;
  luaL_openlibs(L);
  set_package_path(L, h->lua_dir, adapter_dir);
  if (bytecode_dir) rt_lua_bytecode_use(L, h->lua_dir, bytecode_dir);
  lua_getglobal(L, "package");
  lua_getfield(L, -1, "preload");
  lua_pushcfunction(L, load_cdef);
  lua_setfield(L, -2, "dl._cdef");
  lua_pushcfunction(L, rt_lua_fs_open);
  lua_setfield(L, -2, "dl._fs");
  lua_pop(L, 2);
  return h;
}

void rt_host_free(rt_host *h) {
  if (!h) return;
  if (h->L) lua_close(h->L); /* runs pending ffi.gc finalizers */
  free(h);
}
