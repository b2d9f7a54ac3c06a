/* Loading and validating an adapter, and calling its user functions. */
#include "adapter.h"

#include <errno.h>
#include <lauxlib.h>
#include <string.h>

/* Copies the error value on top of the stack into err and pops it. */
static int fail_from_stack(lua_State *L, rt_error *err) {
  const char *msg = lua_tostring(L, -1);
  rt_fail(err, "%s", msg ? msg : "(error without a message)");
  lua_pop(L, 1);
  return -1;
}

int rt_adapter_load(rt_host *h, const char *path, const char *command, const char *const *requires, rt_error *err) {
  lua_State *L = h->L;
  int top = lua_gettop(L);
  /* luaL_loadfile names the chunk "@path": errors read "path:line: ...". */
  int status = luaL_loadfile(L, path);
  if (status == LUA_ERRFILE) {
    lua_pop(L, 1);
    return rt_fail(err, "cannot open adapter %s: %s", path, strerror(errno));
  }
  if (status != 0) return fail_from_stack(L, err); /* syntax error: "path:line: msg" */
  if (rt_host_pcall(L, 0, 1) != 0) return fail_from_stack(L, err);

  /* dl.host.validate(value, path, command, requires) -> adapter | nil, msg */
  lua_pushstring(L, path);
  lua_pushstring(L, command);
  lua_newtable(L);
  for (int i = 0; requires && requires[i]; i++) {
    lua_pushstring(L, requires[i]);
    lua_rawseti(L, -2, i + 1);
  }
  if (rt_host_call(L, "dl.host", "validate", 4, 2) != 0) return fail_from_stack(L, err);
  if (lua_isnil(L, -2)) {
    rt_fail(err, "%s", lua_tostring(L, -1));
    lua_settop(L, top);
    return -1;
  }
  lua_pop(L, 1);
  h->adapter_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  lua_settop(L, top);
  return 0;
}

void rt_adapter_push(rt_host *h) { lua_rawgeti(h->L, LUA_REGISTRYINDEX, h->adapter_ref); }

int rt_adapter_configure(rt_host *h, const char *entity_json, const char *const *overrides, int noverrides,
                         rt_error *err) {
  lua_State *L = h->L;
  rt_adapter_push(h);
  if (entity_json)
    lua_pushstring(L, entity_json);
  else
    lua_pushnil(L);
  lua_newtable(L);
  for (int i = 0; i < noverrides; i++) {
    lua_pushstring(L, overrides[i]);
    lua_rawseti(L, -2, i + 1);
  }
  if (rt_host_call(L, "dl.host", "configure", 3, 0) != 0) return fail_from_stack(L, err);
  return 0;
}

bool rt_adapter_defines(rt_host *h, const char *fn) {
  rt_adapter_push(h);
  lua_getfield(h->L, -1, fn);
  bool yes = lua_isfunction(h->L, -1);
  lua_pop(h->L, 2);
  return yes;
}

int rt_adapter_call(rt_host *h, const char *fn, int nargs, int nresults, rt_error *err) {
  lua_State *L = h->L;
  rt_adapter_push(h);
  lua_getfield(L, -1, fn);
  lua_insert(L, -(nargs + 2)); /* fn below the arguments */
  lua_insert(L, -(nargs + 1)); /* self right after fn */
  if (rt_host_pcall(L, nargs + 1, nresults) != 0) return fail_from_stack(L, err);
  return 0;
}
