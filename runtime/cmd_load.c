/* `dlrun ADAPTER.lua load`: load_from_model. */
#include <lua.h>
#include <stdio.h>

#include "adapter.h"
#include "commands.h"
#include "session.h"

int rt_cmd_load(const rt_args *args) {
  rt_session s;
  int rc = rt_session_open(&s, args);
  if (rc != 0) {
    rt_session_close(&s);
    return rc;
  }
  char local_path[RT_PATH_MAX];
  rt_error err;
  if (rt_paths_entry(&s.paths, RT_PLACE_MODELS, s.model_name, local_path, &err) < 0 ||
      rt_fs_mkdir_p(local_path, &err) < 0) {
    rt_session_close(&s);
    return rt_session_fail(err.msg);
  }
  lua_pushstring(s.host->L, local_path);
  lua_newtable(s.host->L);
  if (rt_adapter_call(s.host, "load", 2, 0, &err) < 0) {
    rc = rt_session_fail(err.msg);
  } else {
    printf("loaded model '%s' from %s\n", s.model_name, local_path);
  }
  rt_session_close(&s);
  return rc;
}
