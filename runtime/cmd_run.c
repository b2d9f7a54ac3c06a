/* `dlrun run SCRIPT.lua [ARG...]`: a plain Lua script inside dlrun's LuaJIT,
 * with the dl package and native ops available (experiments, data tools,
 * benchmarks). Errors show file:line and a traceback, as for adapters. */
#include <lauxlib.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "host.h"

int rt_cmd_run(const rt_args *args) {
  const char *script = args->positional[0];
  char dir[PATH_MAX];
  snprintf(dir, sizeof dir, "%s", script);
  char *slash = strrchr(dir, '/');
  if (slash)
    *slash = '\0';
  else
    snprintf(dir, sizeof dir, ".");
  rt_error err;
  rt_host *h = rt_host_new(dir, NULL, &err);
  if (!h) {
    fprintf(stderr, "dlrun: %s\n", err.msg);
    return RT_EXIT_ERROR;
  }
  lua_State *L = h->L;
  /* arg[0] is the script and arg[1..] its arguments, as with luajit. */
  lua_newtable(L);
  for (int i = 0; i < args->npositional; i++) {
    lua_pushstring(L, args->positional[i]);
    lua_rawseti(L, -2, i);
  }
  lua_setglobal(L, "arg");
  int rc = RT_EXIT_OK;
  int status = luaL_loadfile(L, script);
  if (status == 0) {
    for (int i = 1; i < args->npositional; i++) lua_pushstring(L, args->positional[i]);
    status = rt_host_pcall(L, args->npositional - 1, 0);
  }
  if (status != 0) {
    fprintf(stderr, "dlrun: %s\n", lua_tostring(L, -1));
    rc = RT_EXIT_ERROR;
  }
  rt_host_free(h);
  return rc;
}
