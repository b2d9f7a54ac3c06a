/* host.h — one embedded LuaJIT state with the `dl` package on its path.
 *
 * The host owns the lua_State. A C function exposed to Lua gets what it needs
 * as closure upvalues or from the state's registry, never from statics, so
 * several states can live at once (hot reload builds a fresh one). Every call
 * into user code goes through rt_host_pcall, which appends a traceback. */
#ifndef RT_HOST_H
#define RT_HOST_H

#include <lua.h>

#include "rt_error.h"

typedef struct rt_host {
  lua_State *L;         /* owned */
  char lua_dir[4096];   /* where lua/dl/ lives */
  int adapter_ref;      /* registry ref of the loaded adapter table, or LUA_NOREF */
} rt_host;

/* A new state with the standard libraries, package.path pointing at the dl
 * package (and at adapter_dir first, when not NULL), dl._cdef and dl._fs
 * (lua_fs.h) preloaded. With bytecode_dir (may be NULL), the dl package
 * loads through a bytecode cache there (lua_bytecode.h).
 * Caller frees with rt_host_free. */
rt_host *rt_host_new(const char *adapter_dir, const char *bytecode_dir, rt_error *err);
void rt_host_free(rt_host *h);

/* lua_pcall with a traceback handler. On error the one value left on the
 * stack is "message\nstack traceback:\n...". Returns the lua_pcall status. */
int rt_host_pcall(lua_State *L, int nargs, int nresults);

/* Pushes require(name) ... i.e. the module's value; through rt_host_pcall. */
int rt_host_require(lua_State *L, const char *name);

/* Calls field `fn` of module `module` with the nargs values on top of the
 * stack, through rt_host_pcall. */
int rt_host_call(lua_State *L, const char *module, const char *fn, int nargs, int nresults);

/* Finds the dl package: $DLRUN_LUA_DIR, else <dir of the executable>/../share/dlrun/lua. */
int rt_host_find_lua_dir(char *out, size_t outlen, rt_error *err);

#endif
