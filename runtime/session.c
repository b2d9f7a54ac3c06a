/* Opening an adapter command: host, adapter, store, model entity, configuration. */
#include "session.h"

#include <lauxlib.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapter.h"
#include "model_store.h"
#include "watch.h"

int rt_session_fail(const char *msg) {
  fprintf(stderr, "dlrun: %s\n", msg);
  return RT_EXIT_ERROR;
}

/* The names of a dataset's labels ({tag, color} objects or strings). Caller owns. */
static json_t *dataset_label_names(const rt_dataset *ds) {
  json_t *names = json_array();
  size_t i;
  json_t *l;
  json_array_foreach(json_object_get(ds->info, "labels"), i, l) {
    const char *name = json_is_string(l) ? json_string_value(l) : json_string_value(json_object_get(l, "tag"));
    if (name) json_array_append_new(names, json_string(name));
  }
  return names;
}

/* Finds the model, or creates it from the adapter's defaults unless
 * may_create is false or the command names a version of it (NAME@vN): the
 * command would then fail right after, leaving a new model behind. */
static int open_model(rt_session *s, const rt_dataset *ds, bool may_create, rt_error *err) {
  if (!may_create || s->model_version > 0) {
    if (rt_models_find(&s->store, s->model_name, &s->model, err) < 0) return -1;
    if (s->model) return 0;
    if (s->model_version > 0)
      return rt_fail(err, "model '%s' does not exist in the store %s, so it has no version %d", s->model_name,
                     s->store.base, s->model_version);
    return rt_fail(err, "model '%s' does not exist yet, so it records no datasetId; give --dataset NAME",
                   s->model_name);
  }
  lua_State *L = s->host->L;
  rt_adapter_push(s->host);
  if (rt_host_call(L, "dl.host", "model_defaults", 1, 1) != 0) {
    rt_fail(err, "%s", lua_tostring(L, -1));
    lua_pop(L, 1);
    return -1;
  }
  json_error_t je;
  json_t *d = json_loads(lua_tostring(L, -1), 0, &je);
  lua_pop(L, 1);
  if (!d) return rt_fail(err, "internal error: adapter defaults are not JSON: %s", je.text);
  json_t *labels = json_object_get(d, "labels");
  if (!json_is_array(labels) && ds) {
    json_object_set_new(d, "labels", dataset_label_names(ds));
    labels = json_object_get(d, "labels");
  }
  rt_model_defaults defaults = {
      .name = s->model_name,
      .labels = json_is_array(labels) ? labels : NULL,
      .configuration = json_object_get(d, "configuration"),
      .input_type = json_string_value(json_object_get(d, "inputType")),
      .output_type = json_string_value(json_object_get(d, "outputType")),
      .dataset_id = ds ? rt_dataset_id(ds) : NULL,
  };
  int created = 0;
  int rc = rt_models_get_or_create(&s->store, &defaults, &s->model, &created, err);
  json_decref(d);
  if (rc == 0 && created && !rt_args_flag(s->args, "quiet"))
    fprintf(stderr, "dlrun: created model '%s' (status created) in %s\n", s->model_name, s->store.base);
  return rc;
}

static int configure(rt_session *s, rt_error *err) {
  const char *const *overrides;
  int n = rt_args_list(s->args, "config", &overrides);
  char *entity = json_dumps(s->model, JSON_COMPACT);
  if (!entity) return rt_fail(err, "out of memory");
  int rc = rt_adapter_configure(s->host, entity, overrides, n, err);
  free(entity);
  return rc;
}

int rt_session_set_dataset(rt_session *s, const rt_dataset *ds, rt_error *err) {
  char *text = json_dumps(ds->info, JSON_COMPACT);
  if (!text) return rt_fail(err, "out of memory");
  lua_State *L = s->host->L;
  rt_adapter_push(s->host);
  lua_pushstring(L, text);
  lua_pushstring(L, rt_dataset_name(ds));
  free(text);
  if (rt_host_call(L, "dl.host", "set_dataset", 3, 0) != 0) {
    rt_fail(err, "%s", lua_tostring(L, -1));
    lua_pop(L, 1);
    return -1;
  }
  return 0;
}

/* Checks --config against the adapter's defaults (dl.host.check_overrides)
 * before anything is created: a malformed or mistyped override is a usage
 * error, printed without a traceback. */
static int check_overrides(rt_session *s) {
  lua_State *L = s->host->L;
  const char *const *overrides;
  int n = rt_args_list(s->args, "config", &overrides);
  rt_adapter_push(s->host);
  lua_createtable(L, n, 0);
  for (int i = 0; i < n; i++) {
    lua_pushstring(L, overrides[i]);
    lua_rawseti(L, -2, i + 1);
  }
  int rc = rt_host_call(L, "dl.host", "check_overrides", 2, 1) != 0 || !lua_isnil(L, -1) ? -1 : 0;
  if (rc < 0) fprintf(stderr, "dlrun: %s\n", lua_tostring(L, -1));
  lua_pop(L, 1);
  return rc;
}

/* rt_session_open; may_create as for open_model. */
static int open_session(rt_session *s, const rt_args *args, const rt_dataset *dataset, bool may_create) {
  memset(s, 0, sizeof *s);
  s->args = args;
  rt_error err;
  char dir[RT_PATH_MAX];
  snprintf(dir, sizeof dir, "%s", args->adapter);
  char *slash = strrchr(dir, '/');
  if (slash)
    *slash = '\0';
  else
    snprintf(dir, sizeof dir, ".");
  /* The home folder first: its tmp/ keeps the dl package's bytecode. */
  char tmp[RT_PATH_MAX], bytecode[RT_PATH_MAX];
  if (rt_paths_init(&s->paths, rt_args_value(args, "home"), &err) < 0 ||
      rt_paths_dir(&s->paths, RT_PLACE_TMP, tmp, &err) < 0 ||
      rt_fs_path(bytecode, &err, "%s/lua-bytecode", tmp) < 0)
    return rt_session_fail(err.msg);
  s->host = rt_host_new(dir, bytecode, &err);
  if (!s->host) return rt_session_fail(err.msg);
  if (args->watch && rt_watch_track(args->watch, s->host, &err) < 0) return rt_session_fail(err.msg);
  if (rt_adapter_load(s->host, args->adapter, args->cmd->name, args->cmd->requires, &err) < 0)
    return rt_session_fail(err.msg);

  if (check_overrides(s) < 0) return RT_EXIT_USAGE;
  const char *model = rt_args_value(args, "model");
  if (model) {
    if (rt_model_parse_ref(model, s->model_name, &s->model_version, &err) < 0) {
      fprintf(stderr, "dlrun: --model: %s\n", err.msg);
      return RT_EXIT_USAGE;
    }
  } else {
    lua_State *L = s->host->L;
    rt_adapter_push(s->host);
    lua_getfield(L, -1, "name");
    snprintf(s->model_name, sizeof s->model_name, "%s", lua_tostring(L, -1));
    lua_pop(L, 2);
  }
  if (rt_paths_check_name("model name", s->model_name, &err) < 0 ||
      rt_store_open(&s->store, rt_args_value(args, "store"), &s->paths, &err) < 0 ||
      open_model(s, dataset, may_create, &err) < 0 || configure(s, &err) < 0 ||
      (dataset && rt_session_set_dataset(s, dataset, &err) < 0))
    return rt_session_fail(err.msg);
  return 0;
}

int rt_session_open(rt_session *s, const rt_args *args, const rt_dataset *dataset) {
  return open_session(s, args, dataset, true);
}

int rt_session_open_for_dataset(rt_session *s, const rt_args *args, const rt_dataset *dataset) {
  return open_session(s, args, dataset, dataset != NULL);
}

int rt_session_load_model(rt_session *s) {
  rt_error err;
  if (rt_load_from_model(&s->store, &s->paths, s->model, s->model_version, rt_args_flag(s->args, "overwrite"),
                         &s->loaded, &err) < 0)
    return rt_session_fail(err.msg);
  lua_State *L = s->host->L;
  lua_pushstring(L, s->loaded.path);
  lua_newtable(L);
  if (rt_adapter_call(s->host, "load", 2, 0, &err) < 0) return rt_session_fail(err.msg);
  return 0;
}

int rt_session_save_model(rt_session *s, rt_saved_version *out) {
  rt_error err;
  char tmp[RT_PATH_MAX], dir[RT_PATH_MAX];
  if (rt_paths_dir(&s->paths, RT_PLACE_TMP, tmp, &err) < 0 || rt_fs_path(dir, &err, "%s/save", tmp) < 0 ||
      rt_fs_make_temp_dir(dir, dir, &err) < 0)
    return rt_session_fail(err.msg);
  lua_State *L = s->host->L;
  lua_pushstring(L, dir);
  lua_newtable(L);
  int rc = rt_adapter_call(s->host, "save", 2, 0, &err) == 0 && rt_save_to_model(&s->store, &s->paths, s->model_name, dir, out, &err) == 0
               ? 0
               : rt_session_fail(err.msg);
  rt_fs_rm_rf(dir, NULL);
  return rc;
}

void rt_session_close(rt_session *s) {
  rt_host_free(s->host);
  s->host = NULL;
  json_decref(s->model);
  s->model = NULL;
}
