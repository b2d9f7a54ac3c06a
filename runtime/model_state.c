/* Keeping the state load() made across fresh lua_States (--watch). */
#include "model_state.h"

#include <lauxlib.h>
#include <stdint.h>

#include "adapter.h"
#include "dl_native.h"

enum { MAX_DEPTH = 200 };

/* Where copy_value keeps its memo tables: from_memo maps a source table to an
 * id, to_memo maps the id to its copy, so shared and cyclic tables stay so. */
typedef struct copy_ctx {
  lua_State *from, *to;
  int from_memo, to_memo;
  int next_id;
} copy_ctx;

static int abs_index(lua_State *L, int idx) { return idx > 0 ? idx : lua_gettop(L) + idx + 1; }

/* Pushes onto ctx->to a deep copy of the plain value at ctx->from[idx].
 * Metatables are not copied (dl.watch lists them by path). */
static int copy_value(copy_ctx *c, int idx, int depth, rt_error *err) {
  lua_State *from = c->from, *to = c->to;
  if (!lua_checkstack(to, 4) || !lua_checkstack(from, 4)) return rt_fail(err, "model state: out of Lua stack");
  switch (lua_type(from, idx)) {
  case LUA_TNIL: lua_pushnil(to); return 0;
  case LUA_TBOOLEAN: lua_pushboolean(to, lua_toboolean(from, idx)); return 0;
  case LUA_TNUMBER: lua_pushnumber(to, lua_tonumber(from, idx)); return 0;
  case LUA_TSTRING: {
    size_t n;
    const char *s = lua_tolstring(from, idx, &n);
    lua_pushlstring(to, s, n);
    return 0;
  }
  case LUA_TTABLE: break;
  default:
    return rt_fail(err, "model state: a %s cannot be copied between Lua states",
                   lua_typename(from, lua_type(from, idx)));
  }
  if (depth > MAX_DEPTH) return rt_fail(err, "model state: tables nested more than %d deep", MAX_DEPTH);
  idx = abs_index(from, idx);
  lua_pushvalue(from, idx);
  lua_rawget(from, c->from_memo);
  if (!lua_isnil(from, -1)) {
    lua_rawgeti(to, c->to_memo, (int)lua_tointeger(from, -1));
    lua_pop(from, 1);
    return 0;
  }
  lua_pop(from, 1);
  int id = ++c->next_id;
  lua_pushvalue(from, idx);
  lua_pushinteger(from, id);
  lua_rawset(from, c->from_memo);
  lua_newtable(to);
  lua_pushvalue(to, -1);
  lua_rawseti(to, c->to_memo, id);
  int dst = lua_gettop(to);
  lua_pushnil(from);
  while (lua_next(from, idx)) {
    int top = lua_gettop(from);
    if (copy_value(c, top - 1, depth + 1, err) < 0 || copy_value(c, top, depth + 1, err) < 0) {
      lua_pop(from, 2);
      lua_settop(to, dst);
      return -1;
    }
    lua_rawset(to, dst);
    lua_pop(from, 1);
  }
  return 0;
}

/* Pushes onto `to` a copy of from[idx]; both stacks are otherwise unchanged. */
static int copy_between(lua_State *from, int idx, lua_State *to, rt_error *err) {
  idx = abs_index(from, idx);
  int from_top = lua_gettop(from), to_top = lua_gettop(to);
  lua_newtable(from);
  lua_newtable(to);
  copy_ctx c = {from, to, lua_gettop(from), lua_gettop(to), 0};
  int rc = copy_value(&c, idx, 0, err);
  if (rc == 0) lua_replace(to, to_top + 1); /* the copy over the memo table */
  lua_settop(to, to_top + (rc == 0));
  lua_settop(from, from_top);
  return rc;
}

/* Releases the tensor headers listed in state.tensors (the table at idx of S). */
static void release_tensors(lua_State *S, int idx) {
  lua_getfield(S, idx, "tensors");
  int n = lua_istable(S, -1) ? (int)lua_objlen(S, -1) : 0;
  for (int i = 1; i <= n; i++) {
    lua_rawgeti(S, -1, i);
    dl_tensor_release((dl_tensor *)(uintptr_t)lua_tonumber(S, -1));
    lua_pop(S, 1);
  }
  lua_pop(S, 1);
}

bool rt_model_state_held(const rt_model_state *ms) { return ms->vault != NULL; }

void rt_model_state_clear(rt_model_state *ms) {
  if (ms->vault) {
    release_tensors(ms->vault, 1);
    lua_close(ms->vault);
  }
  ms->vault = NULL;
  ms->nfields = 0;
}

int rt_model_state_keep(rt_model_state *ms, rt_host *h, int before_at, rt_error *err) {
  rt_model_state_clear(ms);
  lua_State *L = h->L;
  int top = lua_gettop(L);
  before_at = abs_index(L, before_at);
  rt_adapter_push(h);
  lua_pushvalue(L, before_at);
  if (rt_host_call(L, "dl.watch", "export", 2, 2) != 0) {
    rt_fail(err, "%s", lua_tostring(L, -1));
    lua_settop(L, top);
    return -1;
  }
  if (lua_isnil(L, -2)) {
    rt_fail(err, "%s", lua_tostring(L, -1));
    lua_settop(L, top);
    return -1;
  }
  lua_pop(L, 1);
  /* From here the exported headers are ours: release them on any failure. */
  int state_at = lua_gettop(L);
  lua_State *vault = luaL_newstate();
  if (!vault || copy_between(L, state_at, vault, err) < 0) {
    if (!vault) rt_fail(err, "model state: out of memory");
    release_tensors(L, state_at);
    if (vault) lua_close(vault);
    lua_settop(L, top);
    return -1;
  }
  lua_getfield(L, state_at, "fields");
  int n = 0;
  for (lua_pushnil(L); lua_next(L, -2); lua_pop(L, 1)) n++;
  ms->vault = vault;
  ms->nfields = n;
  lua_settop(L, top);
  return 0;
}

int rt_model_state_put(const rt_model_state *ms, rt_host *h, rt_error *err) {
  if (!ms->vault) return rt_fail(err, "no model state is kept");
  lua_State *L = h->L;
  int top = lua_gettop(L);
  rt_adapter_push(h);
  if (copy_between(ms->vault, 1, L, err) < 0) {
    lua_settop(L, top);
    return -1;
  }
  int rc = 0;
  if (rt_host_call(L, "dl.watch", "import", 2, 2) != 0)
    rc = rt_fail(err, "%s", lua_tostring(L, -1));
  else if (lua_isnil(L, -2))
    rc = rt_fail(err, "%s", lua_tostring(L, -1));
  lua_settop(L, top);
  return rc;
}
