/* Model entities in a store: read, create, update under a lock, list, delete. */
#include "model_store.h"

#include <stdlib.h>
#include <string.h>

#include "fsutil.h"
#include "paths.h"

/* Reads models/<name>/model.json; *model is NULL when it does not exist. */
static int read_model(const rt_store *s, const char *name, json_t **model, rt_error *err) {
  char rel[RT_PATH_MAX], where[RT_PATH_MAX], *text;
  size_t len;
  int found;
  *model = NULL;
  if (rt_paths_check_name("model name", name, err) < 0) return -1;
  if (rt_fs_path(rel, err, "models/%s/model.json", name) < 0 || rt_store_locate(s, rel, where, err) < 0)
    return -1;
  if (rt_store_read(s, rel, &text, &len, &found, err) < 0) return -1;
  if (!found) return 0;
  *model = rt_model_parse(text, len, where, err);
  free(text);
  if (!*model) return -1;
  if (strcmp(rt_model_name(*model), name) != 0) {
    rt_fail(err, "%s: name '%s' does not match its folder '%s'", where, rt_model_name(*model), name);
    json_decref(*model);
    *model = NULL;
    return -1;
  }
  return 0;
}

static int write_model(const rt_store *s, const json_t *model, rt_error *err) {
  char rel[RT_PATH_MAX], where[RT_PATH_MAX];
  if (rt_fs_path(rel, err, "models/%s/model.json", rt_model_name(model)) < 0 ||
      rt_store_locate(s, rel, where, err) < 0 || rt_model_validate(model, where, err) < 0)
    return -1;
  char *text = rt_model_dump(model);
  if (!text) return rt_fail(err, "out of memory writing %s", where);
  int rc = rt_store_write(s, rel, text, strlen(text), err);
  free(text);
  return rc;
}

static int lock_model(const rt_store *s, const char *name, int *fd, rt_error *err) {
  char rel[RT_PATH_MAX];
  if (rt_fs_path(rel, err, "models/%s", name) < 0) return -1;
  return rt_store_lock(s, rel, fd, err);
}

int rt_models_find(const rt_store *s, const char *name, json_t **model, rt_error *err) {
  return read_model(s, name, model, err);
}

int rt_models_get(const rt_store *s, const char *name, json_t **model, rt_error *err) {
  if (read_model(s, name, model, err) < 0) return -1;
  if (!*model) return rt_fail(err, "model '%s' not found in the store %s", name, s->base);
  return 0;
}

/* Creates d->name unless it exists; with the lock held. */
static int create_locked(const rt_store *s, const rt_model_defaults *d, json_t **model, int *created,
                         rt_error *err) {
  *created = 0;
  if (read_model(s, d->name, model, err) < 0) return -1;
  if (*model) return 0;
  *model = rt_model_new(d, err);
  if (!*model) return -1;
  if (write_model(s, *model, err) < 0) {
    json_decref(*model);
    *model = NULL;
    return -1;
  }
  *created = 1;
  return 0;
}

int rt_models_create(const rt_store *s, const rt_model_defaults *d, json_t **model, rt_error *err) {
  int fd, created;
  *model = NULL;
  if (!d->name) return rt_fail(err, "a new model needs a name");
  if (rt_paths_check_name("model name", d->name, err) < 0 || lock_model(s, d->name, &fd, err) < 0) return -1;
  int rc = create_locked(s, d, model, &created, err);
  rt_store_unlock(fd);
  if (rc == 0 && !created) {
    json_decref(*model);
    *model = NULL;
    return rt_fail(err, "model '%s' already exists in the store %s", d->name, s->base);
  }
  return rc;
}

int rt_models_get_or_create(const rt_store *s, const rt_model_defaults *d, json_t **model, int *created,
                            rt_error *err) {
  *created = 0;
  *model = NULL;
  if (!d->name) return rt_fail(err, "a new model needs a name");
  if (read_model(s, d->name, model, err) < 0) return -1;
  if (*model) return 0;
  int fd;
  if (lock_model(s, d->name, &fd, err) < 0) return -1;
  int rc = create_locked(s, d, model, created, err); /* another run may have created it meanwhile */
  rt_store_unlock(fd);
  return rc;
}

int rt_models_update(const rt_store *s, const char *name, rt_model_edit edit, void *ud, json_t **model,
                     rt_error *err) {
  int fd;
  json_t *m = NULL;
  if (model) *model = NULL;
  if (rt_paths_check_name("model name", name, err) < 0 || lock_model(s, name, &fd, err) < 0) return -1;
  int rc = rt_models_get(s, name, &m, err);
  if (rc == 0) rc = edit(m, ud, err);
  if (rc == 0 && strcmp(rt_model_name(m), name) != 0)
    rc = rt_fail(err, "model '%s': an update cannot rename it", name);
  if (rc == 0) rc = write_model(s, m, err);
  rt_store_unlock(fd);
  if (rc == 0 && model)
    *model = m;
  else
    json_decref(m);
  return rc;
}

int rt_models_list(const rt_store *s, rt_strlist *names, rt_error *err) {
  return rt_store_list_dirs(s, "models", names, err);
}

int rt_models_delete(const rt_store *s, const char *name, rt_error *err) {
  json_t *m;
  int fd;
  if (rt_paths_check_name("model name", name, err) < 0 || lock_model(s, name, &fd, err) < 0) return -1;
  int rc = rt_models_get(s, name, &m, err);
  json_decref(m);
  char rel[RT_PATH_MAX];
  if (rc == 0) rc = rt_fs_path(rel, err, "models/%s", name);
  if (rc == 0) rc = rt_store_remove_dir(s, rel, err);
  rt_store_unlock(fd);
  return rc;
}
