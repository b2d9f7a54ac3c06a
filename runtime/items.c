/* The item list of a run, and loose items from the command line. */
#include "items.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dataset.h"
#include "dataset_writer.h"
#include "item_doc.h"
#include "http.h"
#include "sha256.h"

static char *dup_or_null(const char *s) { return s ? strdup(s) : NULL; }

int rt_items_add(rt_item_list *l, const char *id, const char *filename, const char *local_path, const char *json_path,
                 const char *mimetype, long long size, rt_error *err) {
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 256;
    rt_item *v = realloc(l->v, cap * sizeof *v);
    if (!v) return rt_fail(err, "out of memory listing item %s", filename);
    l->v = v;
    l->cap = cap;
  }
  struct stat st;
  if (size < 0 && stat(local_path, &st) == 0) size = (long long)st.st_size;
  rt_item it = {.id = strdup(id), .filename = strdup(filename), .local_path = strdup(local_path),
                .json_path = dup_or_null(json_path), .mimetype = strdup(mimetype), .width = -1, .height = -1,
                .size = size};
  if (!it.id || !it.filename || !it.local_path || (json_path && !it.json_path) || !it.mimetype) {
    free(it.id), free(it.filename), free(it.local_path), free(it.json_path), free(it.mimetype);
    return rt_fail(err, "out of memory listing item %s", filename);
  }
  l->v[l->n++] = it;
  return 0;
}

void rt_items_free(rt_item_list *l) {
  for (size_t i = 0; i < l->n; i++) {
    rt_item *it = &l->v[i];
    free(it->id), free(it->filename), free(it->local_path), free(it->json_path), free(it->mimetype);
    free(it->error);
    json_decref(it->metadata);
  }
  free(l->v);
  memset(l, 0, sizeof *l);
}

/* Marks the item just added as failed at stage (static) with message. */
static int fail_last(rt_item_list *l, const char *stage, const char *message, rt_error *err) {
  rt_item *it = &l->v[l->n - 1];
  it->error = strdup(message);
  if (!it->error) return rt_fail(err, "out of memory listing item %s", it->filename);
  it->error_stage = stage;
  return 0;
}

/* An id derived from key (24 hex digits, as the platform's ids), so that
 * re-runs agree on it. */
static void derived_id(const char *key, char out[RT_SHA256_HEX]) {
  rt_sha256_buffer(key, strlen(key), out);
  out[24] = '\0';
}

/* A loose item: its id is derived from key (its absolute path, or its URL). */
static int add_loose(rt_item_list *l, const char *key, const char *local, const char *remote, const char *out_dir,
                     rt_error *err) {
  char hex[RT_SHA256_HEX], doc[RT_PATH_MAX];
  derived_id(key, hex);
  if (out_dir && rt_doc_path(out_dir, remote, doc, err) < 0) return -1;
  return rt_items_add(l, hex, remote, local, out_dir ? doc : NULL, rt_mimetype_of(remote), -1, err);
}

/* A loose file or a file of a loose folder. */
static int add_file(rt_item_list *l, const char *local, const char *remote, const char *out_dir, rt_error *err) {
  char abs[RT_PATH_MAX];
  if (!realpath(local, abs)) return rt_fail(err, "cannot resolve %s", local);
  return add_loose(l, abs, local, remote, out_dir, err);
}

static bool is_url(const char *s) { return strncmp(s, "http://", 7) == 0 || strncmp(s, "https://", 8) == 0; }

static int add_url(rt_item_list *l, const char *url, const char *out_dir, const char *download_dir, rt_error *err) {
  /* the last path segment, without a query or fragment, names the item */
  const char *start = strchr(url + 8, '/');
  char name[256] = "";
  if (start) {
    size_t len = strcspn(start, "?#");
    const char *seg = start + len;
    while (seg > start && seg[-1] != '/') seg--;
    snprintf(name, sizeof name, "%.*s", (int)(start + len - seg), seg);
  }
  if (!name[0] || strcmp(name, ".") == 0 || strcmp(name, "..") == 0) snprintf(name, sizeof name, "download");
  char local[RT_PATH_MAX], remote[RT_PATH_MAX];
  if (rt_fs_path(local, err, "%s/%zu-%s", download_dir, l->n, name) < 0) return -1;
  if (rt_fs_mkdir_p(download_dir, err) < 0) return -1;
  if (rt_fs_path(remote, err, "/%s", name) < 0) return -1;
  rt_http_options o;
  rt_http_options_default(&o);
  rt_error get_err;
  if (rt_http_get_file(url, local, NULL, &o, NULL, &get_err) < 0)
    return add_loose(l, url, local, remote, out_dir, err) < 0 ? -1 : fail_last(l, "download", get_err.msg, err);
  return add_file(l, local, remote, out_dir, err);
}

int rt_items_from_args(rt_item_list *l, const char *const *args, int nargs, const char *out_dir,
                       const char *download_dir, rt_error *err) {
  for (int a = 0; a < nargs; a++) {
    const char *arg = args[a];
    if (is_url(arg)) {
      if (add_url(l, arg, out_dir, download_dir, err) < 0) return -1;
      continue;
    }
    if (!rt_fs_exists(arg)) return rt_fail(err, "%s: no such file or folder", arg);
    if (!rt_fs_is_dir(arg)) {
      const char *base = strrchr(arg, '/');
      char remote[RT_PATH_MAX];
      if (rt_fs_path(remote, err, "/%s", base ? base + 1 : arg) < 0 || add_file(l, arg, remote, out_dir, err) < 0)
        return -1;
      continue;
    }
    rt_strlist files = {0};
    int rc = rt_fs_list_files(arg, &files, err);
    int dir_len = (int)strlen(arg); /* without trailing '/': "imgs/" lists "imgs/a.png", not "imgs//a.png" */
    while (dir_len > 0 && arg[dir_len - 1] == '/') dir_len--;
    for (size_t i = 0; rc == 0 && i < files.n; i++) {
      if (files.v[i][0] == '.' || strstr(files.v[i], "/.")) continue; /* hidden files */
      char local[RT_PATH_MAX], remote[RT_PATH_MAX];
      rc = rt_fs_path(local, err, "%.*s/%s", dir_len, arg, files.v[i]);
      if (rc == 0) rc = rt_fs_path(remote, err, "/%s", files.v[i]);
      if (rc == 0) rc = add_file(l, local, remote, out_dir, err);
    }
    rt_strlist_free(&files);
    if (rc < 0) return -1;
  }
  return 0;
}

static void set_string(lua_State *L, const char *key, const char *value) {
  lua_pushstring(L, value);
  lua_setfield(L, -2, key);
}

static void set_number(lua_State *L, const char *key, double value) {
  lua_pushnumber(L, value);
  lua_setfield(L, -2, key);
}

/* Pushes a jansson value as a Lua value (objects and arrays as tables). */
static void push_json(lua_State *L, const json_t *v) {
  switch (json_typeof(v)) {
    case JSON_OBJECT: {
      const char *k;
      json_t *x;
      lua_createtable(L, 0, (int)json_object_size(v));
      json_object_foreach((json_t *)v, k, x) {
        push_json(L, x);
        lua_setfield(L, -2, k);
      }
      break;
    }
    case JSON_ARRAY: {
      size_t i;
      json_t *x;
      lua_createtable(L, (int)json_array_size(v), 0);
      json_array_foreach(v, i, x) {
        push_json(L, x);
        lua_rawseti(L, -2, (int)i + 1);
      }
      break;
    }
    case JSON_STRING:
      lua_pushlstring(L, json_string_value(v), json_string_length(v));
      break;
    case JSON_INTEGER:
      lua_pushnumber(L, (double)json_integer_value(v));
      break;
    case JSON_REAL:
      lua_pushnumber(L, json_real_value(v));
      break;
    case JSON_TRUE:
    case JSON_FALSE:
      lua_pushboolean(L, json_is_true(v));
      break;
    case JSON_NULL:
      lua_pushnil(L);
      break;
  }
}

void rt_items_push(lua_State *L, const rt_item_list *l, const size_t *idx, size_t n) {
  lua_createtable(L, (int)n, 0);
  for (size_t i = 0; i < n; i++) {
    const rt_item *it = &l->v[idx[i]];
    lua_createtable(L, 0, 9);
    set_string(L, "id", it->id);
    const char *slash = strrchr(it->filename, '/');
    set_string(L, "name", slash ? slash + 1 : it->filename);
    set_string(L, "filename", it->filename);
    set_string(L, "local_path", it->local_path);
    set_string(L, "mimetype", it->mimetype);
    if (it->width >= 0) set_number(L, "width", (double)it->width);
    if (it->height >= 0) set_number(L, "height", (double)it->height);
    if (it->size >= 0) set_number(L, "size", (double)it->size);
    if (it->metadata)
      push_json(L, it->metadata);
    else
      lua_newtable(L);
    lua_setfield(L, -2, "metadata");
    lua_rawseti(L, -2, (int)(i + 1));
  }
}

int rt_items_from_dataset(rt_item_list *l, const rt_dataset *ds, const rt_filter *const *filters, size_t nfilters,
                          rt_error *err) {
  rt_dataset_items found = {0};
  int rc = rt_dataset_list(ds, filters, nfilters, &found, err);
  const char *ds_id = rt_dataset_id(ds);
  for (size_t i = 0; rc == 0 && i < found.n; i++) {
    const rt_dataset_item *d = &found.v[i];
    json_t *doc = NULL;
    rt_error doc_err;
    bool bad_doc = rt_item_doc_read(d->json_path, &doc, &doc_err) < 0;
    char derived[RT_SHA256_HEX];
    const char *id = doc ? rt_item_doc_id(doc) : NULL;
    if (!id) {
      char key[RT_PATH_MAX + 64];
      snprintf(key, sizeof key, "%s%s", ds_id ? ds_id : rt_dataset_name(ds), d->remote_path);
      derived_id(key, derived);
      id = derived;
    }
    rc = rt_items_add(l, id, d->remote_path, d->local_path, d->json_path, d->mimetype, d->size, err);
    if (rc == 0 && bad_doc) rc = fail_last(l, "read", doc_err.msg, err);
    if (rc == 0 && doc) {
      rt_item *it = &l->v[l->n - 1];
      json_t *sys = json_object_get(json_object_get(doc, "metadata"), "system");
      if (json_is_integer(json_object_get(sys, "width"))) it->width = (long)json_integer_value(json_object_get(sys, "width"));
      if (json_is_integer(json_object_get(sys, "height"))) it->height = (long)json_integer_value(json_object_get(sys, "height"));
      json_t *user = json_object_get(json_object_get(doc, "metadata"), "user");
      if (json_is_object(user)) it->metadata = json_incref(user);
    }
    json_decref(doc);
  }
  rt_dataset_items_free(&found);
  return rc;
}
