/* prepare_data: the model's subsets of a dataset, copied for training. */
#include "prepare_data.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dataset_writer.h"
#include "item_doc.h"
#include "model_entity.h"
#include "signals.h"

/* One subset: its name and filter, as model.json gives them or the default. */
typedef struct subset {
  const char *name;
  rt_filter *filter; /* owned */
  char *text;        /* owned: the filter as written, for messages */
} subset;

/* Where the items of one subset go, and how. */
typedef struct copier {
  bool link_ok;               /* hard links work between the dataset and model_data */
  char made_dir[RT_PATH_MAX]; /* the last folder created, to skip repeated mkdir -p */
} copier;

static int ensure_parent(copier *c, const char *path, rt_error *err) {
  char dir[RT_PATH_MAX];
  if (rt_fs_path(dir, err, "%s", path) < 0) return -1;
  char *slash = strrchr(dir, '/');
  if (slash) *slash = '\0';
  if (strcmp(dir, c->made_dir) == 0) return 0;
  if (rt_fs_mkdir_p(dir, err) < 0) return -1;
  memcpy(c->made_dir, dir, sizeof dir);
  return 0;
}

/* A hard link when the file system allows it (no bytes copied), else a
 * copy. Scratch data: nothing is synced. */
static int place_item(copier *c, const char *src, const char *dst, rt_error *err) {
  if (ensure_parent(c, dst, err) < 0) return -1;
  if (c->link_ok) {
    if (link(src, dst) == 0) return 0;
    if (errno != EXDEV && errno != EPERM && errno != EMLINK && errno != ENOTSUP)
      return rt_fail(err, "cannot link %s to %s: %s", src, dst, strerror(errno));
    c->link_ok = false;
  }
  char *data;
  size_t len;
  if (rt_fs_read_file(src, &data, &len, err) < 0) return -1;
  int rc = rt_fs_write_file(dst, data, len, err);
  free(data);
  return rc;
}

/* The item's document with only its ground truth; a new, empty document
 * when the item has none, so every copied item has one. */
static int place_ground_truth(copier *c, const rt_dataset_item *it, const char *json_dir, rt_error *err) {
  json_t *doc;
  rt_error doc_err;
  if (rt_item_doc_read(it->json_path, &doc, &doc_err) < 0)
    return rt_fail(err,
                   "%s; training needs the ground truth of item %s: fix the file or move the item out of "
                   "the subset",
                   doc_err.msg, it->remote_path);
  if (!doc) {
    char id[25];
    if (rt_new_id(id, err) < 0) return -1;
    doc = rt_item_doc_new(id, it->remote_path, it->mimetype, -1, -1, it->size);
    if (!doc) return rt_fail(err, "out of memory");
  }
  json_t *anns = json_object_get(doc, "annotations");
  if (json_is_array(anns)) {
    for (size_t i = json_array_size(anns); i-- > 0;)
      if (!rt_annotation_is_ground_truth(json_array_get(anns, i))) json_array_remove(anns, i);
  }
  char path[RT_PATH_MAX];
  char *text = NULL;
  int rc = rt_doc_path(json_dir, it->remote_path, path, err);
  if (rc == 0) rc = ensure_parent(c, path, err);
  if (rc == 0) {
    text = rt_item_doc_dump(doc);
    rc = text ? rt_fs_write_file(path, text, strlen(text), err) : rt_fail(err, "out of memory");
  }
  free(text);
  json_decref(doc);
  return rc;
}

static int copy_subset(copier *c, const rt_dataset *ds, const subset *s, const char *data_path,
                       json_t *counts, rt_error *err) {
  rt_dataset_items items = {0};
  const rt_filter *filters[] = {s->filter};
  if (rt_dataset_list(ds, filters, 1, &items, err) < 0) return -1;
  int rc = 0;
  if (items.n == 0)
    rc = rt_fail(err,
                 "subset '%s' selects no items of dataset '%s' (filter %s); add items or change "
                 "metadata.system.subsets.%s in model.json",
                 s->name, rt_dataset_name(ds), s->text, s->name);
  char items_dir[RT_PATH_MAX], json_dir[RT_PATH_MAX];
  if (rc == 0)
    rc = rt_fs_path(items_dir, err, "%s/%s/items", data_path, s->name) < 0 ||
                 rt_fs_path(json_dir, err, "%s/%s/json", data_path, s->name) < 0
             ? -1
             : 0;
  for (size_t i = 0; rc == 0 && i < items.n; i++) {
    const rt_dataset_item *it = &items.v[i];
    int sig = rt_signals_stop_requested();
    if (sig) {
      rc = rt_fail(err, "stopped by %s while preparing the data", rt_signals_name(sig));
      break;
    }
    char dst[RT_PATH_MAX];
    rc = rt_fs_path(dst, err, "%s%s", items_dir, it->remote_path);
    if (rc == 0) rc = place_item(c, it->local_path, dst, err);
    if (rc == 0) rc = place_ground_truth(c, it, json_dir, err);
  }
  if (rc == 0) json_object_set_new(counts, s->name, json_integer((json_int_t)items.n));
  rt_dataset_items_free(&items);
  return rc;
}

/* The subsets of the model, or the defaults when it names none. */
static int model_subsets(const json_t *model, subset *out, size_t max, size_t *n, rt_error *err) {
  const json_t *table =
      json_object_get(json_object_get(json_object_get(model, "metadata"), "system"), "subsets");
  *n = 0;
  if (!json_is_object(table) || json_object_size(table) == 0) {
    static const char *const defaults[][2] = {{"train", "dir=/train"}, {"validation", "dir=/validation"}};
    for (size_t i = 0; i < 2; i++) {
      out[i] = (subset){.name = defaults[i][0], .text = strdup(defaults[i][1])};
      out[i].filter = rt_filter_parse(defaults[i][1], err);
      (*n)++;
      if (!out[i].filter) return -1;
      if (!out[i].text) return rt_fail(err, "out of memory");
    }
    return 0;
  }
  const char *name;
  json_t *value;
  json_object_foreach((json_t *)table, name, value) {
    if (*n == max) return rt_fail(err, "model.json: metadata.system.subsets has more than %zu subsets", max);
    if (rt_paths_check_name("subset name", name, err) < 0) return -1;
    char source[300];
    snprintf(source, sizeof source, "metadata.system.subsets.%.250s", name);
    subset *s = &out[(*n)++];
    *s = (subset){.name = name};
    s->text = json_is_string(value) ? strdup(json_string_value(value))
                                    : json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!s->text) return rt_fail(err, "out of memory");
    s->filter = rt_filter_from_json(value, source, err);
    if (!s->filter) return -1;
  }
  return 0;
}

/* Creates model_data/<id>_<name>/<YYYY-MM-DD-HHMMSS>, with a -2, -3, ...
 * suffix when a run in the same second already took the name. */
static int make_root(const rt_paths *p, const json_t *model, char *root, rt_error *err) {
  char entry[RT_PATH_MAX], base[RT_PATH_MAX], stamp[32];
  char name[RT_PATH_MAX];
  const char *id = rt_model_id(model);
  if (!id) return rt_fail(err, "model '%s' has no id in model.json", rt_model_name(model));
  if (rt_fs_path(name, err, "%s_%s", id, rt_model_name(model)) < 0 ||
      rt_paths_entry(p, RT_PLACE_MODEL_DATA, name, entry, err) < 0 || rt_fs_mkdir_p(entry, err) < 0)
    return -1;
  time_t now = time(NULL);
  struct tm tm;
  strftime(stamp, sizeof stamp, "%Y-%m-%d-%H%M%S", localtime_r(&now, &tm));
  if (rt_fs_path(base, err, "%s/%s", entry, stamp) < 0) return -1;
  for (int k = 1; k < 1000; k++) {
    if ((k == 1 ? rt_fs_path(root, err, "%s", base) : rt_fs_path(root, err, "%s-%d", base, k)) < 0) return -1;
    if (mkdir(root, 0755) == 0) return 0;
    if (errno != EEXIST) return rt_fail(err, "cannot create %s: %s", root, strerror(errno));
  }
  return rt_fail(err, "cannot create a new folder beside %s: too many runs in one second", base);
}

#define MAX_SUBSETS 64

int rt_prepare_data(const rt_paths *p, const json_t *model, const rt_dataset *ds, rt_prepared_data *out,
                    rt_error *err) {
  memset(out, 0, sizeof *out);
  subset subsets[MAX_SUBSETS];
  size_t n = 0;
  int rc = model_subsets(model, subsets, MAX_SUBSETS, &n, err);
  const char *ds_id = rt_dataset_id(ds);
  if (rc == 0) rc = make_root(p, model, out->root, err);
  if (rc == 0)
    rc = rt_fs_path(out->output_path, err, "%s/output", out->root) < 0 ||
                 rt_fs_path(out->data_path, err, "%s/datasets/%s", out->root,
                            ds_id ? ds_id : rt_dataset_name(ds)) < 0
             ? -1
             : 0;
  if (rc == 0) rc = rt_fs_mkdir_p(out->output_path, err);
  if (rc == 0) rc = rt_fs_mkdir_p(out->data_path, err);
  if (rc == 0) {
    out->counts = json_object();
    if (!out->counts) rc = rt_fail(err, "out of memory");
  }
  copier c = {.link_ok = true};
  for (size_t i = 0; rc == 0 && i < n; i++)
    rc = copy_subset(&c, ds, &subsets[i], out->data_path, out->counts, err);
  for (size_t i = 0; i < n; i++) {
    rt_filter_free(subsets[i].filter);
    free(subsets[i].text);
  }
  /* an interrupted copy is of no use to look at: it goes */
  if (rc < 0 && rt_signals_stop_requested() && out->root[0]) {
    rt_error ignored;
    rt_prepared_data_remove(out, &ignored);
    out->root[0] = '\0';
  }
  return rc;
}

void rt_prepared_data_free(rt_prepared_data *d) {
  json_decref(d->counts);
  d->counts = NULL;
}

int rt_prepared_data_remove(const rt_prepared_data *d, rt_error *err) {
  if (rt_fs_rm_rf(d->root, err) < 0) return -1;
  char parent[RT_PATH_MAX];
  if (rt_fs_path(parent, err, "%s", d->root) < 0) return -1;
  char *slash = strrchr(parent, '/');
  if (slash) *slash = '\0';
  rmdir(parent); /* only when empty: other runs of the model keep theirs */
  return 0;
}
