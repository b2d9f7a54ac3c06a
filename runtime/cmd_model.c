/* `dlrun model list|show|create|delete`: model entities in the store. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "load_from_model.h"
#include "model_store.h"

/* Opens the store named by --home/--store; prints the error. */
static int open_store(const rt_args *args, rt_paths *paths, rt_store *store) {
  rt_error err;
  if (rt_paths_init(paths, rt_args_value(args, "home"), &err) < 0 ||
      rt_store_open(store, rt_args_value(args, "store"), paths, &err) < 0) {
    fprintf(stderr, "dlrun: %s\n", err.msg);
    return -1;
  }
  return 0;
}

static int fail(const char *msg) {
  fprintf(stderr, "dlrun: %s\n", msg);
  return RT_EXIT_ERROR;
}

int rt_cmd_model_list(const rt_args *args) {
  rt_paths paths;
  rt_store store;
  if (open_store(args, &paths, &store) < 0) return RT_EXIT_ERROR;
  rt_strlist names = {0};
  rt_error err;
  if (rt_models_list(&store, &names, &err) < 0) return fail(err.msg);
  if (names.n == 0) printf("no models in %s\n", store.base);
  else printf("%-32s %-10s %-8s %s\n", "NAME", "STATUS", "LATEST", "UPDATED");
  int rc = RT_EXIT_OK;
  for (size_t i = 0; i < names.n; i++) {
    json_t *m;
    if (rt_models_get(&store, names.v[i], &m, &err) < 0) {
      fprintf(stderr, "dlrun: %s\n", err.msg);
      rc = RT_EXIT_ERROR;
      continue;
    }
    int latest = rt_model_latest_version(m);
    char version[16] = "-";
    if (latest) snprintf(version, sizeof version, "v%d", latest);
    const char *updated = json_string_value(json_object_get(m, "updatedAt"));
    printf("%-32s %-10s %-8s %s\n", names.v[i], rt_model_shown_status(m), version, updated ? updated : "");
    json_decref(m);
  }
  rt_strlist_free(&names);
  return rc;
}

int rt_cmd_model_show(const rt_args *args) {
  rt_paths paths;
  rt_store store;
  if (open_store(args, &paths, &store) < 0) return RT_EXIT_ERROR;
  json_t *m;
  rt_error err;
  if (rt_models_get(&store, args->positional[0], &m, &err) < 0) return fail(err.msg);
  char *text = rt_model_dump(m);
  if (!strcmp(rt_model_shown_status(m), "interrupted"))
    fprintf(stderr, "dlrun: model '%s' says \"training\", but its training process on this host is gone (killed?): "
                    "nothing of that run was saved; train again to start over\n",
            args->positional[0]);
  json_decref(m);
  if (!text) return fail("out of memory");
  fputs(text, stdout);
  free(text);
  return RT_EXIT_OK;
}

int rt_cmd_model_create(const rt_args *args) {
  rt_paths paths;
  rt_store store;
  if (open_store(args, &paths, &store) < 0) return RT_EXIT_ERROR;
  const char *const *labels;
  int nlabels = rt_args_list(args, "label", &labels);
  json_t *label_array = json_array();
  for (int i = 0; i < nlabels; i++) json_array_append_new(label_array, json_string(labels[i]));
  rt_model_defaults d = {.name = args->positional[0], .labels = label_array};
  json_t *m;
  rt_error err;
  int rc = rt_paths_check_name("model name", d.name, &err) == 0 && rt_models_create(&store, &d, &m, &err) == 0;
  json_decref(label_array);
  if (!rc) return fail(err.msg);
  printf("created model '%s' (id %s) in %s\n", d.name, rt_model_id(m), store.base);
  json_decref(m);
  return RT_EXIT_OK;
}

int rt_cmd_model_delete(const rt_args *args) {
  rt_paths paths;
  rt_store store;
  if (open_store(args, &paths, &store) < 0) return RT_EXIT_ERROR;
  const char *name = args->positional[0];
  rt_error err;
  if (rt_models_delete(&store, name, &err) < 0 || rt_forget_working_copy(&paths, name, &err) < 0)
    return fail(err.msg);
  printf("deleted model '%s' from %s\n", name, store.base);
  return RT_EXIT_OK;
}
