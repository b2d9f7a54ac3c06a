/* `dlrun new NAME [--template KIND] [--dir DIR]`: scaffold an adapter, its
 * spec, a README, a .luarc.json and sample images (dl.scaffold writes them). */
#include <lauxlib.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "host.h"

/* Prints "  <path>" for each string of the list at the top of the stack. */
static void print_list(lua_State *L, const char *field, const char *label) {
  lua_getfield(L, -1, field);
  int n = (int)lua_objlen(L, -1);
  if (n > 0 && label) printf("%s\n", label);
  for (int i = 1; i <= n; i++) {
    lua_rawgeti(L, -1, i);
    printf("  %s\n", lua_tostring(L, -1));
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
}

int rt_cmd_new(const rt_args *args) {
  const char *name = args->positional[0];
  const char *template = rt_args_value(args, "template");
  const char *dir = rt_args_value(args, "dir");
  if (!template) template = "classifier";
  if (!dir) dir = ".";
  rt_error err;
  rt_host *h = rt_host_new(NULL, NULL, &err);
  if (!h) {
    fprintf(stderr, "dlrun: %s\n", err.msg);
    return RT_EXIT_ERROR;
  }
  lua_State *L = h->L;
  int rc = RT_EXIT_OK;
  /* dl.scaffold.check(name, template) -> nil | problem: a usage error */
  lua_pushstring(L, name);
  lua_pushstring(L, template);
  if (rt_host_call(L, "dl.scaffold", "check", 2, 1) != 0) {
    fprintf(stderr, "dlrun: new: %s\n", lua_tostring(L, -1));
    rc = RT_EXIT_ERROR;
  } else if (lua_isstring(L, -1)) {
    rc = rt_cli_usage_error(args->cmd, stderr, "%s", lua_tostring(L, -1));
  }
  lua_pop(L, 1);
  if (rc != RT_EXIT_OK) {
    rt_host_free(h);
    return rc;
  }
  lua_pushstring(L, name);
  lua_pushstring(L, template);
  lua_pushstring(L, dir);
  if (rt_host_call(L, "dl.scaffold", "create", 3, 2) != 0) {
    fprintf(stderr, "dlrun: new: %s\n", lua_tostring(L, -1));
    rc = RT_EXIT_ERROR;
  } else if (lua_isnil(L, -2)) {
    fprintf(stderr, "dlrun: new: %s\n", lua_tostring(L, -1));
    rc = RT_EXIT_ERROR;
  } else {
    lua_pop(L, 1);
    printf("Wrote adapter '%s' (template %s) in %s:\n", name, template, dir);
    print_list(L, "written", NULL);
    print_list(L, "kept", "Kept as they were:");
    lua_getfield(L, -1, "command");
    const char *command = lua_tostring(L, -1); /* alive in the result table */
    lua_pop(L, 1);
    printf("Next:\n");
    if (strcmp(dir, ".") != 0) printf("  cd %s\n", dir);
    char line[256];
    snprintf(line, sizeof line, "dlrun %s.lua %s samples/", name, command);
    printf("  %-44s run it on the sample images\n", line);
    snprintf(line, sizeof line, "dlrun %s.lua %s --watch samples/", name, command);
    printf("  %-44s ... and again on every save\n", line);
    printf("  %-44s run its spec\n", "dlrun test");
  }
  rt_host_free(h);
  return rc;
}
