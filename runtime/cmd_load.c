/* `dlrun ADAPTER.lua load`: load_from_model. */
#include <errno.h>
#include <lua.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "adapter.h"
#include "commands.h"
#include "session.h"

static int mkdir_p(const char *path) {
  char buf[PATH_MAX];
  snprintf(buf, sizeof buf, "%s", path);
  for (char *p = buf + 1; *p; p++) {
    if (*p != '/') continue;
    *p = '\0';
    if (mkdir(buf, 0777) < 0 && errno != EEXIST) return -1;
    *p = '/';
  }
  return mkdir(buf, 0777) < 0 && errno != EEXIST ? -1 : 0;
}

int rt_cmd_load(const rt_args *args) {
  rt_session s;
  int rc = rt_session_open(&s, args);
  if (rc != 0) {
    rt_session_close(&s);
    return rc;
  }
  char local_path[PATH_MAX];
  if (snprintf(local_path, sizeof local_path, "%s/models/%s", s.home, s.model_name) >= (int)sizeof local_path) {
    fprintf(stderr, "dlrun: the path of model '%s' under %s is too long\n", s.model_name, s.home);
    rt_session_close(&s);
    return RT_EXIT_ERROR;
  }
  if (mkdir_p(local_path) < 0) {
    fprintf(stderr, "dlrun: cannot create %s: %s\n", local_path, strerror(errno));
    rt_session_close(&s);
    return RT_EXIT_ERROR;
  }
  rt_error err;
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
