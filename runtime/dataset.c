/* Datasets: open, list items, apply filters. */
#include "dataset.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "dataset_writer.h"
#include "fsutil.h"
#include "item_doc.h"

int rt_dataset_open(rt_dataset *ds, const rt_paths *p, const char *name_or_path, rt_error *err) {
  memset(ds, 0, sizeof *ds);
  if (strchr(name_or_path, '/')) {
    if (rt_fs_path(ds->root, err, "%s", name_or_path) < 0) return -1;
    size_t n = strlen(ds->root);
    while (n > 1 && ds->root[n - 1] == '/') ds->root[--n] = '\0';
  } else if (rt_paths_entry(p, RT_PLACE_DATASETS, name_or_path, ds->root, err) < 0) {
    return -1;
  }
  if (!rt_fs_is_dir(ds->root)) {
    if (strchr(name_or_path, '/')) return rt_fail(err, "dataset %s: no such folder", ds->root);
    return rt_fail(err, "dataset '%s' not found: there is no %s (give a path to use a folder elsewhere)",
                   name_or_path, ds->root);
  }
  char path[RT_PATH_MAX];
  if (rt_fs_path(path, err, "%s/items", ds->root) < 0) return -1;
  if (!rt_fs_is_dir(path)) return rt_fail(err, "dataset %s has no items/ folder", ds->root);
  if (rt_fs_path(path, err, "%s/dataset.json", ds->root) < 0) return -1;
  if (rt_fs_exists(path)) {
    json_error_t jerr;
    ds->info = json_load_file(path, 0, &jerr);
    if (!ds->info) return rt_fail(err, "%s: invalid JSON at line %d: %s", path, jerr.line, jerr.text);
    if (!json_is_object(ds->info)) {
      rt_dataset_close(ds);
      return rt_fail(err, "%s must hold a JSON object", path);
    }
  } else {
    ds->info = json_object();
    if (!ds->info) return rt_fail(err, "out of memory opening %s", ds->root);
  }
  return 0;
}

int rt_dataset_open_id(rt_dataset *ds, const rt_paths *p, const char *id, rt_error *err) {
  char root[RT_PATH_MAX];
  if (rt_paths_dir(p, RT_PLACE_DATASETS, root, err) < 0) return -1;
  DIR *d = opendir(root);
  if (!d) return rt_fail(err, "cannot list %s: %s", root, strerror(errno));
  int rc = 1; /* not found yet */
  for (struct dirent *e; rc == 1 && (e = readdir(d));) {
    char path[RT_PATH_MAX];
    if (e->d_name[0] == '.' || rt_fs_path(path, NULL, "%s/%s/dataset.json", root, e->d_name) < 0) continue;
    json_t *info = json_load_file(path, 0, NULL);
    const char *found = json_string_value(json_object_get(info, "id"));
    if (!found) found = json_string_value(json_object_get(info, "_id"));
    if (found && strcmp(found, id) == 0) rc = rt_dataset_open(ds, p, e->d_name, err);
    json_decref(info);
  }
  closedir(d);
  if (rc == 1) return rt_fail(err, "no dataset under %s has id %s; give --dataset", root, id);
  return rc;
}

void rt_dataset_close(rt_dataset *ds) {
  json_decref(ds->info);
  ds->info = NULL;
}

const char *rt_dataset_id(const rt_dataset *ds) {
  const char *id = json_string_value(json_object_get(ds->info, "id"));
  return id ? id : json_string_value(json_object_get(ds->info, "_id"));
}

const char *rt_dataset_name(const rt_dataset *ds) {
  const char *name = json_string_value(json_object_get(ds->info, "name"));
  return name ? name : strrchr(ds->root, '/') + 1;
}

void rt_dataset_items_free(rt_dataset_items *l) {
  for (size_t i = 0; i < l->n; i++) {
    free(l->v[i].remote_path);
    free(l->v[i].local_path);
    free(l->v[i].json_path);
  }
  free(l->v);
  l->v = NULL;
  l->n = l->cap = 0;
}

/* Adds the item for rel (relative to items/) to out. */
static int add_item(const rt_dataset *ds, const char *rel, const char *local, long long size,
                    rt_dataset_items *out, rt_error *err) {
  if (out->n == out->cap) {
    size_t cap = out->cap ? out->cap * 2 : 256;
    rt_dataset_item *v = realloc(out->v, cap * sizeof *v);
    if (!v) return rt_fail(err, "out of memory listing %s", ds->root);
    out->v = v;
    out->cap = cap;
  }
  char remote[RT_PATH_MAX], json_dir[RT_PATH_MAX], json_path[RT_PATH_MAX];
  if (rt_fs_path(remote, err, "/%s", rel) < 0 || rt_fs_path(json_dir, err, "%s/json", ds->root) < 0 ||
      rt_doc_path(json_dir, remote, json_path, err) < 0)
    return -1;
  rt_dataset_item it = {.mimetype = rt_mimetype_of(rel), .size = size};
  it.remote_path = strdup(remote);
  it.local_path = strdup(local);
  it.json_path = strdup(json_path);
  if (!it.local_path || !it.json_path || !it.remote_path) {
    free(it.local_path);
    free(it.json_path);
    free(it.remote_path);
    return rt_fail(err, "out of memory listing %s", ds->root);
  }
  out->v[out->n++] = it;
  return 0;
}

/* True if any path segment of rel starts with '.'. */
static int hidden(const char *rel) {
  if (rel[0] == '.') return 1;
  for (const char *p = strchr(rel, '/'); p; p = strchr(p + 1, '/'))
    if (p[1] == '.') return 1;
  return 0;
}

int rt_dataset_list(const rt_dataset *ds, const rt_filter *const *filters, size_t n_filters,
                    rt_dataset_items *out, rt_error *err) {
  char items[RT_PATH_MAX];
  if (rt_fs_path(items, err, "%s/items", ds->root) < 0) return -1;
  rt_strlist files = {0};
  int rc = rt_fs_list_files(items, &files, err);
  int needs_json = 0;
  for (size_t i = 0; i < n_filters; i++) needs_json |= rt_filter_needs_json(filters[i]);
  for (size_t i = 0; rc == 0 && i < files.n; i++) {
    const char *rel = files.v[i];
    char local[RT_PATH_MAX];
    struct stat st;
    if (hidden(rel)) continue;
    if ((rc = rt_fs_path(local, err, "%s/%s", items, rel)) < 0) break;
    if (stat(local, &st) < 0) continue; /* removed while listing */
    if ((rc = add_item(ds, rel, local, (long long)st.st_size, out, err)) < 0) break;
    rt_dataset_item *it = &out->v[out->n - 1];
    json_t *item_json = NULL;
    /* A document that does not parse cannot be judged by a label or
     * annotated filter; its item stays in, so the run reports it as a bad
     * item (stage "read", naming the file) instead of losing it silently or
     * stopping the whole listing. */
    int unreadable = needs_json && rt_item_doc_read(it->json_path, &item_json, NULL) < 0;
    int keep = 1;
    for (size_t k = 0; !unreadable && keep && k < n_filters; k++)
      keep = rt_filter_match(filters[k], it->remote_path, item_json);
    json_decref(item_json);
    if (!keep) { /* drop the item just added */
      free(it->remote_path);
      free(it->local_path);
      free(it->json_path);
      out->n--;
    }
  }
  rt_strlist_free(&files);
  return rc;
}
