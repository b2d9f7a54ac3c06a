/* `dlrun test`: busted, run inside dlrun's own LuaJIT so that specs use the
 * real dl package and native ops. */
#include <lauxlib.h>
#include <stdio.h>

#include "commands.h"
#include "host.h"

int rt_cmd_test(const rt_args *args) {
  rt_error err;
  rt_host *h = rt_host_new(NULL, NULL, &err);
  if (!h) {
    fprintf(stderr, "dlrun: %s\n", err.msg);
    return RT_EXIT_ERROR;
  }
  lua_State *L = h->L;
  /* busted reads its command line from the global `arg`. */
  lua_newtable(L);
  lua_pushstring(L, "dlrun test");
  lua_rawseti(L, -2, 0);
  for (int i = 0; i < args->npositional; i++) {
    lua_pushstring(L, args->positional[i]);
    lua_rawseti(L, -2, i + 1);
  }
  lua_setglobal(L, "arg");
  /* The runner exits the process itself with busted's status; a chunk name
   * that is not a file tells it to do so (its "forceExit"). */
  static const char runner[] = "require('busted.runner')({ standalone = false })";
  int status = luaL_loadbuffer(L, runner, sizeof runner - 1, "=dlrun test");
  if (status == 0) status = rt_host_pcall(L, 0, 0);
  int rc = RT_EXIT_OK;
  if (status != 0) {
    fprintf(stderr, "dlrun: test: %s\n", lua_tostring(L, -1));
    rc = RT_EXIT_ERROR;
  }
  rt_host_free(h);
  return rc;
}
