/* Opening an adapter command: host, adapter, store root, model, configuration. */
#include "session.h"

#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapter.h"

int rt_session_fail(const char *msg) {
  fprintf(stderr, "dlrun: %s\n", msg);
  return RT_EXIT_ERROR;
}

/* "name" or "name@v3" */
static int parse_model_ref(rt_session *s, const char *ref, rt_error *err) {
  const char *at = strrchr(ref, '@');
  size_t len = at ? (size_t)(at - ref) : strlen(ref);
  if (len == 0 || len >= sizeof s->model_name) return rt_fail(err, "--model '%s' needs a name (NAME or NAME@vN)", ref);
  memcpy(s->model_name, ref, len);
  s->model_name[len] = '\0';
  s->model_version = 0;
  if (at) {
    char *end;
    long v = (at[1] == 'v') ? strtol(at + 2, &end, 10) : 0;
    if (at[1] != 'v' || end == at + 2 || *end || v < 1 || v > 1000000)
      return rt_fail(err, "--model '%s': the version must look like @v3", ref);
    s->model_version = (int)v;
  }
  return 0;
}

int rt_session_open(rt_session *s, const rt_args *args) {
  memset(s, 0, sizeof *s);
  s->args = args;
  rt_error err;
  char dir[PATH_MAX];
  snprintf(dir, sizeof dir, "%s", args->adapter);
  char *slash = strrchr(dir, '/');
  if (slash)
    *slash = '\0';
  else
    snprintf(dir, sizeof dir, ".");
  s->host = rt_host_new(dir, &err);
  if (!s->host) return rt_session_fail(err.msg);
  if (rt_adapter_load(s->host, args->adapter, args->cmd->name, args->cmd->requires, &err) < 0)
    return rt_session_fail(err.msg);

  const char *model = rt_args_value(args, "model");
  if (model) {
    if (parse_model_ref(s, model, &err) < 0) {
      fprintf(stderr, "dlrun: %s\n", err.msg);
      return RT_EXIT_USAGE;
    }
  } else {
    lua_State *L = s->host->L;
    rt_adapter_push(s->host);
    lua_getfield(L, -1, "name");
    snprintf(s->model_name, sizeof s->model_name, "%s", lua_tostring(L, -1));
    lua_pop(L, 2);
  }
  if (rt_paths_init(&s->paths, rt_args_value(args, "home"), &err) < 0 ||
      rt_paths_check_name("model name", s->model_name, &err) < 0)
    return rt_session_fail(err.msg);

  const char *const *overrides;
  int n = rt_args_list(args, "config", &overrides);
  for (int i = 0; i < n; i++) {
    const char *eq = strchr(overrides[i], '=');
    if (!eq || eq == overrides[i]) {
      fprintf(stderr, "dlrun: --config '%s' must look like KEY=VALUE\n", overrides[i]);
      return RT_EXIT_USAGE;
    }
  }
  if (rt_adapter_configure(s->host, NULL, overrides, n, &err) < 0) return rt_session_fail(err.msg);
  return 0;
}

void rt_session_close(rt_session *s) {
  rt_host_free(s->host);
  s->host = NULL;
}
