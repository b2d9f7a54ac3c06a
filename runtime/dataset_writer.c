/* Building a dataset in a staging folder, then putting it in place. */
#include "dataset_writer.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "dl_native.h"
#include "item_doc.h"
#include "sha256.h"
#include "signals.h"

/* Distinct, readable label colours (Tableau 20). */
static const char *const palette[] = {
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
    "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94", "#f7b6d2", "#c7c7c7", "#dbdb8d", "#9edae5",
};

int rt_new_id(char out[25], rt_error *err) {
  unsigned char raw[12];
  int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
  if (fd < 0 || read(fd, raw, sizeof raw) != (ssize_t)sizeof raw) {
    if (fd >= 0) close(fd);
    return rt_fail(err, "cannot read /dev/urandom for a new id: %s", strerror(errno));
  }
  close(fd);
  for (int i = 0; i < 12; i++) snprintf(out + 2 * i, 3, "%02x", raw[i]);
  return 0;
}

const char *rt_mimetype_of(const char *filename) {
  static const struct {
    const char *ext, *mime;
  } table[] = {
      {".jpg", "image/jpeg"}, {".jpeg", "image/jpeg"}, {".png", "image/png"},  {".gif", "image/gif"},
      {".bmp", "image/bmp"},  {".webp", "image/webp"}, {".tif", "image/tiff"}, {".tiff", "image/tiff"},
      {".txt", "text/plain"}, {".csv", "text/csv"},    {".json", "application/json"},
  };
  const char *dot = strrchr(filename, '.');
  if (dot && !strchr(dot, '/'))
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
      if (strcasecmp(dot, table[i].ext) == 0) return table[i].mime;
  return "application/octet-stream";
}

int rt_doc_path(const char *json_dir, const char *remote_path, char *out, rt_error *err) {
  const char *base = strrchr(remote_path, '/');
  const char *dot = strrchr(base ? base : remote_path, '.');
  int stem = dot ? (int)(dot - remote_path) : (int)strlen(remote_path);
  return rt_fs_path(out, err, "%s%.*s.json", json_dir, stem, remote_path);
}

int rt_dsw_begin(rt_dataset_writer *w, const char *target, const char *name, bool overwrite, rt_error *err) {
  memset(w, 0, sizeof *w);
  if (rt_fs_path(w->target, err, "%s", target) < 0) return -1;
  snprintf(w->name, sizeof w->name, "%s", name);
  if (rt_fs_exists(target) && !overwrite)
    return rt_fail(err, "dataset %s already exists (pass --overwrite to replace it)", target);
  char parent[RT_PATH_MAX];
  if (rt_fs_path(parent, err, "%s", target) < 0) return -1;
  char *slash = strrchr(parent, '/');
  if (slash && slash != parent) {
    *slash = '\0';
    if (rt_fs_mkdir_p(parent, err) < 0) return -1;
  } else if (!slash) {
    strcpy(parent, ".");
  } else {
    parent[1] = '\0'; /* a target in / */
  }
  if (rt_fs_remove_stale_temps_in(parent, &w->stale_removed, err) < 0) return -1;
  if (rt_new_id(w->id, err) < 0 || rt_fs_make_temp_dir(target, w->stage, err) < 0) return -1;
  w->labels = json_array();
  return 0;
}

int rt_dsw_add_label(rt_dataset_writer *w, const char *label, rt_error *err) {
  size_t n = json_array_size(w->labels);
  json_t *l = json_pack("{s:s, s:s}", "tag", label, "color", palette[n % (sizeof palette / sizeof palette[0])]);
  if (!l || json_array_append_new(w->labels, l) < 0) return rt_fail(err, "out of memory adding label %s", label);
  return 0;
}

/* Creates the parent folder of path. */
static int make_parent(const char *path, rt_error *err) {
  char dir[RT_PATH_MAX];
  if (rt_fs_path(dir, err, "%s", path) < 0) return -1;
  char *slash = strrchr(dir, '/');
  if (slash) *slash = '\0';
  return rt_fs_mkdir_p(dir, err);
}

/* One ground-truth annotation as the platform writes it: id (stable:
 * from the item id and the index), type, label, attributes, coordinates
 * when given, metadata.system.automated = false. Caller owns the result. */
static json_t *ground_truth(const json_t *ann, const char *item_id, size_t index, const char *remote_path,
                            rt_error *err) {
  const char *type = json_string_value(json_object_get(ann, "type"));
  const char *label = json_string_value(json_object_get(ann, "label"));
  if (!type || !label) {
    rt_fail(err, "%s: ground truth %zu needs a type and a label", remote_path, index);
    return NULL;
  }
  char key[64], hex[RT_SHA256_HEX];
  int n = snprintf(key, sizeof key, "gt%s/%zu", item_id, index);
  rt_sha256_buffer(key, (size_t)n, hex);
  hex[24] = '\0';
  json_t *out = json_pack("{s:s, s:s, s:s, s:[]}", "id", hex, "type", type, "label", label, "attributes");
  const json_t *coordinates = json_object_get(ann, "coordinates");
  if (out && coordinates) json_object_set_new(out, "coordinates", json_deep_copy(coordinates));
  if (out) json_object_set_new(out, "metadata", json_pack("{s:{s:b}}", "system", "automated", 0));
  if (!out) rt_fail(err, "out of memory writing the document of %s", remote_path);
  return out;
}

/* Writes the item's json/ document, with its ground truth (may be NULL). */
static int write_item_doc(rt_dataset_writer *w, const char *remote_path, const char *mimetype, long width,
                          long height, long long size, const json_t *annotations, rt_error *err) {
  char key[RT_PATH_MAX + 32], hex[RT_SHA256_HEX], item_id[25];
  int n = snprintf(key, sizeof key, "%s%s", w->id, remote_path);
  rt_sha256_buffer(key, (size_t)n, hex);
  memcpy(item_id, hex, 24);
  item_id[24] = '\0';
  json_t *doc = rt_item_doc_new(item_id, remote_path, mimetype, width, height, size);
  if (!doc) return rt_fail(err, "out of memory writing the document of %s", remote_path);
  size_t i;
  const json_t *ann;
  json_array_foreach(annotations, i, ann) {
    json_t *gt = ground_truth(ann, item_id, i, remote_path, err);
    if (!gt) {
      json_decref(doc);
      return -1;
    }
    json_array_append_new(json_object_get(doc, "annotations"), gt);
  }
  char *text = rt_item_doc_dump(doc);
  json_decref(doc);
  if (!text) return rt_fail(err, "out of memory writing the document of %s", remote_path);
  char json_dir[RT_PATH_MAX], path[RT_PATH_MAX];
  int rc = rt_fs_path(json_dir, err, "%s/json", w->stage);
  if (rc == 0) rc = rt_doc_path(json_dir, remote_path, path, err);
  if (rc == 0) rc = make_parent(path, err);
  if (rc == 0) rc = rt_fs_write_file(path, text, strlen(text), err);
  free(text);
  return rc;
}

static int item_path(rt_dataset_writer *w, const char *remote_path, char *path, rt_error *err) {
  if (remote_path[0] != '/' || strstr(remote_path, "/../") || strstr(remote_path, "//"))
    return rt_fail(err, "item path '%s' must start with '/' and hold no '..' or empty parts", remote_path);
  if (rt_fs_path(path, err, "%s/items%s", w->stage, remote_path) < 0) return -1;
  return make_parent(path, err);
}

int rt_dsw_add_item_annotated(rt_dataset_writer *w, const char *remote_path, const void *bytes, size_t len,
                              const char *mimetype, long width, long height, const json_t *annotations,
                              rt_error *err) {
  int sig = rt_signals_stop_requested();
  if (sig) return rt_fail(err, "stopped by %s", rt_signals_name(sig));
  if (annotations && !json_is_array(annotations))
    return rt_fail(err, "%s: the ground truth must be an array of annotations", remote_path);
  char path[RT_PATH_MAX];
  if (item_path(w, remote_path, path, err) < 0 || rt_fs_write_file(path, bytes, len, err) < 0) return -1;
  if (write_item_doc(w, remote_path, mimetype, width, height, (long long)len, annotations, err) < 0) return -1;
  w->items++;
  return 0;
}

int rt_dsw_add_item(rt_dataset_writer *w, const char *remote_path, const void *bytes, size_t len,
                    const char *mimetype, long width, long height, const char *label, rt_error *err) {
  json_t *gt = label ? json_pack("[{s:s, s:s}]", "type", "class", "label", label) : NULL;
  if (label && !gt) return rt_fail(err, "out of memory writing the document of %s", remote_path);
  int rc = rt_dsw_add_item_annotated(w, remote_path, bytes, len, mimetype, width, height, gt, err);
  json_decref(gt);
  return rc;
}

int rt_dsw_add_file(rt_dataset_writer *w, const char *remote_path, const char *src, const char *mimetype,
                    const char *label, rt_error *err) {
  char *data;
  size_t len;
  if (rt_fs_read_file(src, &data, &len, err) < 0) return -1;
  dl_image_info info = {0};
  long width = -1, height = -1;
  if (strncmp(mimetype, "image/", 6) == 0 && dl_image_probe(data, len, &info, NULL) == 0)
    width = info.width, height = info.height;
  int rc = rt_dsw_add_item(w, remote_path, data, len, mimetype, width, height, label, err);
  free(data);
  return rc;
}

int rt_dsw_finish(rt_dataset_writer *w, rt_error *err) {
  json_t *ds = json_pack("{s:s, s:s, s:O, s:I}", "id", w->id, "name", w->name, "labels", w->labels, "itemsCount",
                         (json_int_t)w->items);
  char *text = ds ? json_dumps(ds, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
  json_decref(ds);
  if (!text) return rt_fail(err, "out of memory writing dataset.json");
  char path[RT_PATH_MAX];
  int rc = rt_fs_path(path, err, "%s/dataset.json", w->stage);
  if (rc == 0) rc = rt_fs_write_file(path, text, strlen(text), err);
  free(text);
  if (rc == 0) rc = rt_fs_sync_fs(w->stage, err);
  if (rc == 0) rc = rt_fs_replace_dir(w->stage, w->target, err);
  if (rc < 0) return -1;
  json_decref(w->labels);
  w->labels = NULL;
  w->stage[0] = '\0';
  return 0;
}

void rt_dsw_abort(rt_dataset_writer *w) {
  if (w->stage[0]) rt_fs_rm_rf(w->stage, NULL);
  w->stage[0] = '\0';
  json_decref(w->labels);
  w->labels = NULL;
}
