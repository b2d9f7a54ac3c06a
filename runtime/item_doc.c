/* Item annotation documents: read, replace one model's annotations, dump. */
#include "item_doc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fsutil.h"
#include "json_text.h"
#include "sha256.h"

json_t *rt_item_doc_new(const char *id, const char *filename, const char *mimetype, long width, long height,
                        long long size) {
  json_t *sys = json_object();
  if (mimetype) json_object_set_new(sys, "mimetype", json_string(mimetype));
  if (width >= 0) json_object_set_new(sys, "width", json_integer(width));
  if (height >= 0) json_object_set_new(sys, "height", json_integer(height));
  if (size >= 0) json_object_set_new(sys, "size", json_integer(size));
  return json_pack("{s:s, s:s, s:{s:o}, s:[]}", "id", id, "filename", filename, "metadata", "system", sys,
                   "annotations");
}

int rt_item_doc_read(const char *path, json_t **doc, rt_error *err) {
  *doc = NULL;
  json_error_t je;
  FILE *f = fopen(path, "r");
  if (!f) {
    if (errno == ENOENT) return 0;
    return rt_fail(err, "cannot open %s: %s", path, strerror(errno));
  }
  json_t *d = json_loadf(f, JSON_REJECT_DUPLICATES, &je);
  fclose(f);
  if (!d) return rt_fail(err, "%s:%d: not valid JSON: %s", path, je.line, je.text);
  if (!json_is_object(d)) {
    json_decref(d);
    return rt_fail(err, "%s: expected a JSON object (an item document)", path);
  }
  json_t *anns = json_object_get(d, "annotations");
  if (anns && !json_is_array(anns)) {
    json_decref(d);
    return rt_fail(err, "%s: field 'annotations' must be an array", path);
  }
  *doc = d;
  return 0;
}

const char *rt_item_doc_id(const json_t *doc) {
  const char *id = json_string_value(json_object_get(doc, "id"));
  return id ? id : json_string_value(json_object_get(doc, "_id"));
}

static const char *model_name_at(const json_t *annotation, const char *side) {
  json_t *meta = json_object_get(annotation, "metadata");
  json_t *model = json_object_get(json_object_get(meta, side), "model");
  return json_string_value(json_object_get(model, "name"));
}

const char *rt_annotation_model(const json_t *annotation) {
  const char *name = model_name_at(annotation, "user");
  return name ? name : model_name_at(annotation, "system");
}

bool rt_annotation_is_ground_truth(const json_t *annotation) {
  json_t *user = json_object_get(json_object_get(annotation, "metadata"), "user");
  return json_object_get(user, "model") == NULL;
}

bool rt_item_doc_has_model(const json_t *doc, const char *model_name) {
  size_t i;
  json_t *a;
  json_array_foreach(json_object_get(doc, "annotations"), i, a) {
    const char *m = rt_annotation_model(a);
    if (m && strcmp(m, model_name) == 0) return true;
  }
  return false;
}

static int compare_keys(const void *a, const void *b) { return strcmp(*(const char *const *)a, *(const char *const *)b); }

/* A copy of v whose objects list their keys in sorted order, at every depth:
 * the bytes of a document then depend only on its content. */
static json_t *sorted_copy(json_t *v) {
  if (json_is_array(v)) {
    json_t *out = json_array();
    size_t i;
    json_t *x;
    json_array_foreach(v, i, x) json_array_append_new(out, sorted_copy(x));
    return out;
  }
  if (!json_is_object(v)) return json_incref(v);
  size_t n = json_object_size(v), i = 0;
  const char **keys = malloc((n ? n : 1) * sizeof *keys);
  const char *k;
  json_t *x;
  json_object_foreach(v, k, x) keys[i++] = k;
  qsort(keys, n, sizeof *keys, compare_keys);
  json_t *out = json_object();
  for (i = 0; i < n; i++) json_object_set_new(out, keys[i], sorted_copy(json_object_get(v, keys[i])));
  free(keys);
  return out;
}

/* An annotation in the platform's field order (id, type, label, attributes,
 * coordinates, description, metadata), nested keys sorted, and empty
 * attributes written as []. */
static json_t *canonical_annotation(json_t *a, const char *id) {
  static const char *const first[] = {"type", "label", "attributes", "coordinates", "description", "metadata"};
  json_t *out = json_pack("{s:s}", "id", id);
  for (size_t i = 0; i < sizeof first / sizeof first[0]; i++) {
    json_t *v = json_object_get(a, first[i]);
    if (!v) continue;
    if (strcmp(first[i], "attributes") == 0 && json_is_object(v) && json_object_size(v) == 0)
      json_object_set_new(out, "attributes", json_array());
    else
      json_object_set_new(out, first[i], sorted_copy(v));
  }
  json_t *rest = sorted_copy(a);
  const char *k;
  json_t *v;
  json_object_foreach(rest, k, v) {
    if (!json_object_get(out, k)) json_object_set(out, k, v);
  }
  json_decref(rest);
  return out;
}

int rt_item_doc_replace_model(json_t *doc, const char *model_name, const char *item_id, json_t *fresh,
                              rt_error *err) {
  if (!json_is_array(fresh)) {
    json_decref(fresh);
    return rt_fail(err, "internal error: new annotations of item %s are not an array", item_id);
  }
  json_t *anns = json_object_get(doc, "annotations");
  if (!anns) {
    anns = json_array();
    json_object_set_new(doc, "annotations", anns);
  }
  for (size_t i = json_array_size(anns); i-- > 0;) {
    const char *m = rt_annotation_model(json_array_get(anns, i));
    if (m && strcmp(m, model_name) == 0) json_array_remove(anns, i);
  }
  size_t i;
  json_t *a;
  json_array_foreach(fresh, i, a) {
    char key[1024], hex[RT_SHA256_HEX];
    int n = snprintf(key, sizeof key, "%s%c%s%c%zu", model_name, 0, item_id, 0, i);
    if (n >= (int)sizeof key) {
      json_decref(fresh);
      return rt_fail(err, "item id '%s' is too long", item_id);
    }
    rt_sha256_buffer(key, (size_t)n, hex);
    hex[24] = '\0'; /* ids are 24 hex digits, as the platform's */
    json_array_append_new(anns, canonical_annotation(a, hex));
  }
  json_decref(fresh);
  return 0;
}

char *rt_item_doc_dump(const json_t *doc) {
  char *text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER | rt_json_real_precision(doc));
  if (!text) return NULL;
  size_t n = strlen(text);
  char *out = realloc(text, n + 2);
  if (!out) {
    free(text);
    return NULL;
  }
  out[n] = '\n';
  out[n + 1] = '\0';
  return out;
}
