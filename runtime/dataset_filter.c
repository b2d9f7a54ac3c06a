/* Item filters: KEY=VALUE arguments and dtlpy JSON filters, as one tree. */
#include "dataset_filter.h"

#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "item_doc.h"

typedef enum node_kind { NODE_AND, NODE_OR, NODE_LEAF } node_kind;
typedef enum field { F_DIR, F_NAME, F_FILENAME, F_LABEL, F_ANNOTATED, F_HIDDEN, F_TYPE } field;

struct rt_filter {
  node_kind kind;
  /* NODE_AND / NODE_OR */
  rt_filter **parts; /* owned */
  size_t n_parts;
  /* NODE_LEAF: true if the field's value is one of values (or, negated,
   * is none of them) */
  field field;
  int negate;
  json_t *values; /* owned: an array of strings or booleans */
};

static const char *const field_names[] = {"dir", "name", "filename", "label", "annotated", "hidden", "type"};

void rt_filter_free(rt_filter *f) {
  if (!f) return;
  for (size_t i = 0; i < f->n_parts; i++) rt_filter_free(f->parts[i]);
  free(f->parts);
  json_decref(f->values);
  free(f);
}

static rt_filter *new_node(node_kind kind, rt_error *err) {
  rt_filter *f = calloc(1, sizeof *f);
  if (!f) rt_fail(err, "out of memory building a filter");
  if (f) f->kind = kind;
  return f;
}

static int add_part(rt_filter *f, rt_filter *part, rt_error *err) {
  rt_filter **parts = realloc(f->parts, (f->n_parts + 1) * sizeof *parts);
  if (!parts) {
    rt_filter_free(part);
    return rt_fail(err, "out of memory building a filter");
  }
  f->parts = parts;
  f->parts[f->n_parts++] = part;
  return 0;
}

/* Checks one value of a leaf: booleans for annotated and hidden, strings
 * elsewhere, and folders starting with '/'. */
static int check_value(field fd, const json_t *v, const char *source, rt_error *err) {
  const char *name = field_names[fd];
  if (fd == F_ANNOTATED || fd == F_HIDDEN) {
    if (!json_is_boolean(v)) return rt_fail(err, "filter %s: %s takes true or false", source, name);
    return 0;
  }
  const char *s = json_string_value(v);
  if (!s || !s[0]) return rt_fail(err, "filter %s: %s takes a non-empty string", source, name);
  if (fd == F_DIR && s[0] != '/') return rt_fail(err, "filter %s: dir '%s' must start with '/'", source, s);
  return 0;
}

/* Builds a leaf for field fd from a dtlpy value: plain, or one operator. */
static rt_filter *leaf(field fd, const json_t *value, const char *source, rt_error *err) {
  int negate = 0;
  json_t *values = NULL;
  if (json_is_object(value)) {
    const char *op;
    json_t *arg;
    if (json_object_size(value) != 1) {
      rt_fail(err, "filter %s: %s takes one operator", source, field_names[fd]);
      return NULL;
    }
    json_object_foreach((json_t *)value, op, arg) {
      if (!strcmp(op, "$eq") || !strcmp(op, "$ne")) {
        negate = op[1] == 'n';
        values = json_pack("[O]", arg);
      } else if (!strcmp(op, "$in") && json_is_array(arg)) {
        values = json_deep_copy(arg);
      } else {
        rt_fail(err, "filter %s: operator '%s' on %s is not supported (use $eq, $ne or $in with a list)",
                source, op, field_names[fd]);
        return NULL;
      }
    }
  } else {
    values = json_pack("[O]", value);
  }
  if (!values) {
    rt_fail(err, "out of memory building a filter");
    return NULL;
  }
  size_t i;
  json_t *v;
  json_array_foreach(values, i, v) {
    if (check_value(fd, v, source, err) < 0) {
      json_decref(values);
      return NULL;
    }
  }
  rt_filter *f = new_node(NODE_LEAF, err);
  if (!f) {
    json_decref(values);
    return NULL;
  }
  f->field = fd;
  f->negate = negate;
  f->values = values;
  return f;
}

static rt_filter *from_condition(const json_t *cond, const char *source, int depth, rt_error *err);

/* Builds an AND or OR node from a list of conditions. */
static rt_filter *from_list(node_kind kind, const json_t *list, const char *source, int depth,
                            rt_error *err) {
  if (!json_is_array(list)) {
    rt_fail(err, "filter %s: %s takes a list", source, kind == NODE_AND ? "$and" : "$or");
    return NULL;
  }
  rt_filter *f = new_node(kind, err);
  size_t i;
  const json_t *c;
  json_array_foreach(list, i, c) {
    rt_filter *part = f ? from_condition(c, source, depth + 1, err) : NULL;
    if (!part || add_part(f, part, err) < 0) {
      rt_filter_free(f);
      return NULL;
    }
  }
  return f;
}

/* A condition object: every key must hold (Mongo-style implicit AND). */
static rt_filter *from_condition(const json_t *cond, const char *source, int depth, rt_error *err) {
  if (depth > 32) {
    rt_fail(err, "filter %s is nested too deeply", source);
    return NULL;
  }
  if (!json_is_object(cond)) {
    rt_fail(err, "filter %s: each condition must be an object", source);
    return NULL;
  }
  rt_filter *f = new_node(NODE_AND, err);
  const char *key;
  json_t *value;
  json_object_foreach((json_t *)cond, key, value) {
    if (!f) break;
    rt_filter *part = NULL;
    if (!strcmp(key, "$and") || !strcmp(key, "$or")) {
      part = from_list(key[1] == 'a' ? NODE_AND : NODE_OR, value, source, depth, err);
    } else {
      size_t fd = 0;
      while (fd < sizeof field_names / sizeof *field_names && strcmp(field_names[fd], key) != 0) fd++;
      if (fd == sizeof field_names / sizeof *field_names)
        rt_fail(err,
                "filter %s: field '%s' is not supported (known: dir, name, filename, label, annotated, "
                "hidden, type)",
                source, key);
      else
        part = leaf((field)fd, value, source, err);
    }
    if (!part || add_part(f, part, err) < 0) {
      rt_filter_free(f);
      return NULL;
    }
  }
  return f;
}

rt_filter *rt_filter_from_json(const json_t *value, const char *source, rt_error *err) {
  json_t *parsed = NULL;
  if (json_is_string(value)) {
    json_error_t jerr;
    parsed = json_loads(json_string_value(value), 0, &jerr);
    if (!parsed) {
      rt_fail(err, "filter %s: invalid JSON: %s", source, jerr.text);
      return NULL;
    }
    value = parsed;
  }
  rt_filter *f = NULL;
  const json_t *resource = json_object_get(value, "resource");
  if (!json_is_object(value))
    rt_fail(err, "filter %s must be a JSON object", source);
  else if (resource && (!json_is_string(resource) || strcmp(json_string_value(resource), "items") != 0))
    rt_fail(err, "filter %s: only item filters are supported (resource \"items\")", source);
  else if (json_object_get(value, "join"))
    rt_fail(err, "filter %s: \"join\" (filters on annotations) is not supported; use label=... instead",
            source);
  else if (json_object_get(value, "filter"))
    f = from_condition(json_object_get(value, "filter"), source, 0, err);
  else
    f = from_condition(value, source, 0, err);
  json_decref(parsed);
  return f;
}

rt_filter *rt_filter_parse(const char *text, rt_error *err) {
  char source[300];
  snprintf(source, sizeof source, "'%.280s'", text);
  if (text[0] == '{') {
    json_error_t jerr;
    json_t *v = json_loads(text, 0, &jerr);
    if (!v) {
      rt_fail(err, "filter %s: invalid JSON at column %d: %s", source, jerr.column, jerr.text);
      return NULL;
    }
    rt_filter *f = rt_filter_from_json(v, source, err);
    json_decref(v);
    return f;
  }
  const char *eq = strchr(text, '=');
  static const char usage[] =
      "must be KEY=VALUE with KEY one of dir, name, label, annotated, or a JSON filter";
  if (!eq || eq == text) {
    rt_fail(err, "filter %s %s", source, usage);
    return NULL;
  }
  size_t key_len = (size_t)(eq - text);
  const char *value = eq + 1;
  json_t *v = NULL;
  field fd;
  if (key_len == 3 && !strncmp(text, "dir", 3)) {
    fd = F_DIR;
  } else if (key_len == 4 && !strncmp(text, "name", 4)) {
    fd = F_NAME;
  } else if (key_len == 5 && !strncmp(text, "label", 5)) {
    fd = F_LABEL;
  } else if (key_len == 9 && !strncmp(text, "annotated", 9)) {
    fd = F_ANNOTATED;
    if (strcmp(value, "true") && strcmp(value, "false")) {
      rt_fail(err, "filter %s: annotated takes true or false", source);
      return NULL;
    }
    v = json_boolean(!strcmp(value, "true"));
  } else {
    rt_fail(err, "filter %s %s", source, usage);
    return NULL;
  }
  if (!v) v = json_string(value);
  rt_filter *f = v ? leaf(fd, v, source, err) : NULL;
  if (!v) rt_fail(err, "filter %s: value is not valid UTF-8", source);
  json_decref(v);
  return f;
}

int rt_filter_needs_json(const rt_filter *f) {
  if (f->kind == NODE_LEAF) return f->field == F_LABEL || f->field == F_ANNOTATED;
  for (size_t i = 0; i < f->n_parts; i++)
    if (rt_filter_needs_json(f->parts[i])) return 1;
  return 0;
}

/* True if the item's ground truth has the label. */
static int has_label(const json_t *item_json, const char *label) {
  size_t i;
  const json_t *a;
  json_array_foreach(json_object_get(item_json, "annotations"), i, a) {
    const char *l = json_string_value(json_object_get(a, "label"));
    if (l && !strcmp(l, label) && rt_annotation_is_ground_truth(a)) return 1;
  }
  return 0;
}

static int has_ground_truth(const json_t *item_json) {
  size_t i;
  const json_t *a;
  json_array_foreach(json_object_get(item_json, "annotations"), i, a) {
    if (rt_annotation_is_ground_truth(a)) return 1;
  }
  return 0;
}

/* True if the folder of remote_path is dir or lies under it. */
static int under_dir(const char *remote_path, const char *dir) {
  size_t n = strlen(dir);
  while (n > 0 && dir[n - 1] == '/') n--; /* "/train/" is "/train", "/" is everything */
  const char *slash = strrchr(remote_path, '/');
  size_t folder_len = (size_t)(slash - remote_path);
  return folder_len >= n && !strncmp(remote_path, dir, n) && (folder_len == n || remote_path[n] == '/');
}

/* True if one value of a leaf holds for the item. */
static int value_matches(field fd, const json_t *v, const char *remote_path, const json_t *item_json) {
  const char *s = json_string_value(v);
  const char *base = strrchr(remote_path, '/') + 1;
  switch (fd) {
    case F_DIR:
      return under_dir(remote_path, s);
    case F_NAME:
      return fnmatch(s, base, 0) == 0;
    case F_FILENAME:
      return fnmatch(s, remote_path, 0) == 0;
    case F_LABEL:
      return has_label(item_json, s);
    case F_ANNOTATED:
      return has_ground_truth(item_json) == json_is_true(v);
    case F_HIDDEN:
      return json_is_false(v); /* dataset items are never hidden */
    case F_TYPE:
      return !strcmp(s, "file"); /* they are all files */
  }
  return 0;
}

int rt_filter_match(const rt_filter *f, const char *remote_path, const json_t *item_json) {
  switch (f->kind) {
    case NODE_AND:
      for (size_t i = 0; i < f->n_parts; i++)
        if (!rt_filter_match(f->parts[i], remote_path, item_json)) return 0;
      return 1;
    case NODE_OR:
      for (size_t i = 0; i < f->n_parts; i++)
        if (rt_filter_match(f->parts[i], remote_path, item_json)) return 1;
      return 0;
    case NODE_LEAF: {
      size_t i;
      const json_t *v;
      int any = 0;
      json_array_foreach(f->values, i, v) any = any || value_matches(f->field, v, remote_path, item_json);
      return any != f->negate;
    }
  }
  return 0;
}
