/* The model entity (model.json): create, parse, validate, versions. */
#include "model_entity.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dataset_writer.h"
#include "json_text.h"
#include "paths.h"
#include "sha256.h"

void rt_model_timestamp(char *out) {
  struct timespec ts;
  struct tm tm;
  clock_gettime(CLOCK_REALTIME, &ts);
  gmtime_r(&ts.tv_sec, &tm);
  size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(out + n, 32 - n, ".%03ldZ", ts.tv_nsec / 1000000);
}

/* {"filter": {"$and": [{"dir": dir}]}}, a dtlpy item filter. */
static json_t *dir_filter(const char *dir) {
  return json_pack("{s:{s:[{s:s}]}}", "filter", "$and", "dir", dir);
}

static int set_or_fail(json_t *obj, const char *key, json_t *value, rt_error *err) {
  if (!value || json_object_set_new(obj, key, value) < 0)
    return rt_fail(err, "out of memory building model.json");
  return 0;
}

json_t *rt_model_new(const rt_model_defaults *d, rt_error *err) {
  if (!d->name) {
    rt_fail(err, "a new model needs a name");
    return NULL;
  }
  if (rt_paths_check_name("model name", d->name, err) < 0) return NULL;
  if (d->labels && !json_is_array(d->labels)) {
    rt_fail(err, "model '%s': labels must be a list", d->name);
    return NULL;
  }
  if (d->configuration && !json_is_object(d->configuration)) {
    rt_fail(err, "model '%s': configuration must be a table", d->name);
    return NULL;
  }
  char id[25], now[32];
  if (rt_new_id(id, err) < 0) return NULL;
  rt_model_timestamp(now);
  json_t *m = json_object();
  int rc = m ? 0 : rt_fail(err, "out of memory building model.json");
  if (rc == 0) rc = set_or_fail(m, "id", json_string(id), err);
  if (rc == 0) rc = set_or_fail(m, "name", json_string(d->name), err);
  if (rc == 0) rc = set_or_fail(m, "status", json_string("created"), err);
  if (rc == 0) rc = set_or_fail(m, "labels", d->labels ? json_deep_copy(d->labels) : json_array(), err);
  if (rc == 0)
    rc = set_or_fail(m, "configuration", d->configuration ? json_deep_copy(d->configuration) : json_object(),
                     err);
  if (rc == 0)
    rc = set_or_fail(m, "inputType", d->input_type ? json_string(d->input_type) : json_null(), err);
  if (rc == 0)
    rc = set_or_fail(m, "outputType", d->output_type ? json_string(d->output_type) : json_null(), err);
  if (rc == 0)
    rc = set_or_fail(m, "datasetId", d->dataset_id ? json_string(d->dataset_id) : json_null(), err);
  if (rc == 0) {
    json_t *subsets =
        json_pack("{s:o,s:o}", "train", dir_filter("/train"), "validation", dir_filter("/validation"));
    rc = set_or_fail(m, "metadata", subsets ? json_pack("{s:{s:o}}", "system", "subsets", subsets) : NULL,
                     err);
  }
  if (rc == 0) rc = set_or_fail(m, "artifacts", json_array(), err);
  if (rc == 0) rc = set_or_fail(m, "versions", json_array(), err);
  if (rc == 0) rc = set_or_fail(m, "metrics", json_object(), err);
  if (rc == 0) rc = set_or_fail(m, "createdAt", json_string(now), err);
  if (rc == 0) rc = set_or_fail(m, "updatedAt", json_string(now), err);
  if (rc < 0) {
    json_decref(m);
    return NULL;
  }
  return m;
}

/* Checks the optional field key of obj has the wanted jansson type. */
static int check_type(const json_t *obj, const char *key, json_type type, const char *what,
                      const char *source, const char *prefix, rt_error *err) {
  const json_t *v = json_object_get(obj, key);
  if (v && !json_is_null(v) && json_typeof(v) != type)
    return rt_fail(err, "%s: %s%s must be %s", source, prefix, key, what);
  return 0;
}

static int validate_versions(const json_t *versions, const char *source, rt_error *err) {
  size_t i;
  const json_t *v;
  json_array_foreach(versions, i, v) {
    if (!json_is_object(v)) return rt_fail(err, "%s: versions[%zu] must be an object", source, i);
    json_int_t n = json_integer_value(json_object_get(v, "version"));
    if (!json_is_integer(json_object_get(v, "version")) || n < 1 || n > RT_MODEL_VERSION_MAX)
      return rt_fail(err, "%s: versions[%zu].version must be a whole number from 1 to %d", source, i,
                     RT_MODEL_VERSION_MAX);
    const char *sha = json_string_value(json_object_get(v, "sha256"));
    if (!sha || !rt_sha256_is_hex(sha))
      return rt_fail(err, "%s: versions[%zu].sha256 must be 64 hex digits", source, i);
    const json_t *size = json_object_get(v, "size");
    if (size && (!json_is_integer(size) || json_integer_value(size) < 0))
      return rt_fail(err, "%s: versions[%zu].size must be a whole number of bytes", source, i);
    for (size_t j = 0; j < i; j++)
      if (json_integer_value(json_object_get(json_array_get(versions, j), "version")) == n)
        return rt_fail(err, "%s: version v%lld appears twice in versions", source, (long long)n);
  }
  return 0;
}

static int validate_artifacts(const json_t *artifacts, const char *source, rt_error *err) {
  size_t i;
  const json_t *a;
  json_array_foreach(artifacts, i, a) {
    const char *type = json_string_value(json_object_get(a, "type"));
    if (!json_is_object(a) || !type)
      return rt_fail(err, "%s: artifacts[%zu] must be an object with a type", source, i);
    if (!strcmp(type, "link") && !json_string_value(json_object_get(a, "url")))
      return rt_fail(err, "%s: artifacts[%zu] is a link without a url", source, i);
    const char *sha = json_string_value(json_object_get(a, "sha256"));
    if (sha && !rt_sha256_is_hex(sha))
      return rt_fail(err, "%s: artifacts[%zu].sha256 must be 64 hex digits", source, i);
  }
  return 0;
}

int rt_model_validate(const json_t *m, const char *source, rt_error *err) {
  if (!json_is_object(m)) return rt_fail(err, "%s: a model entity must be a JSON object", source);
  const char *name = json_string_value(json_object_get(m, "name"));
  if (!name) return rt_fail(err, "%s: field 'name' must be a string", source);
  char what[64 + RT_MODEL_NAME_MAX];
  snprintf(what, sizeof what, "%s: model name", source);
  if (rt_paths_check_name(what, name, err) < 0) return -1;
  if (check_type(m, "id", JSON_STRING, "a string", source, "", err) < 0 ||
      check_type(m, "_id", JSON_STRING, "a string", source, "", err) < 0 ||
      check_type(m, "status", JSON_STRING, "a string", source, "", err) < 0 ||
      check_type(m, "labels", JSON_ARRAY, "a list", source, "", err) < 0 ||
      check_type(m, "configuration", JSON_OBJECT, "an object", source, "", err) < 0 ||
      check_type(m, "versions", JSON_ARRAY, "a list", source, "", err) < 0 ||
      check_type(m, "artifacts", JSON_ARRAY, "a list", source, "", err) < 0 ||
      check_type(m, "metrics", JSON_OBJECT, "an object", source, "", err) < 0 ||
      check_type(m, "metadata", JSON_OBJECT, "an object", source, "", err) < 0)
    return -1;
  const json_t *system = json_object_get(json_object_get(m, "metadata"), "system");
  if (system && !json_is_object(system)) return rt_fail(err, "%s: metadata.system must be an object", source);
  if (check_type(system, "subsets", JSON_OBJECT, "an object", source, "metadata.system.", err) < 0) return -1;
  if (validate_versions(json_object_get(m, "versions"), source, err) < 0) return -1;
  return validate_artifacts(json_object_get(m, "artifacts"), source, err);
}

json_t *rt_model_parse(const char *text, size_t len, const char *source, rt_error *err) {
  json_error_t jerr;
  json_t *m = json_loadb(text, len, 0, &jerr);
  if (!m) {
    rt_fail(err, "%s: invalid JSON at line %d: %s", source, jerr.line, jerr.text);
    return NULL;
  }
  if (rt_model_validate(m, source, err) < 0) {
    json_decref(m);
    return NULL;
  }
  return m;
}

char *rt_model_dump(const json_t *m) {
  char *body = json_dumps(m, JSON_INDENT(2) | JSON_PRESERVE_ORDER | rt_json_real_precision(m));
  if (!body) return NULL;
  size_t n = strlen(body);
  char *text = malloc(n + 2);
  if (text) {
    memcpy(text, body, n);
    memcpy(text + n, "\n", 2);
  }
  free(body);
  return text;
}

const char *rt_model_name(const json_t *m) { return json_string_value(json_object_get(m, "name")); }

const char *rt_model_id(const json_t *m) {
  const char *id = json_string_value(json_object_get(m, "id"));
  return id ? id : json_string_value(json_object_get(m, "_id"));
}

int rt_model_parse_ref(const char *ref, char *name, int *version, rt_error *err) {
  const char *at = strrchr(ref, '@');
  size_t name_len = at ? (size_t)(at - ref) : strlen(ref);
  *version = 0;
  if (at) {
    char *end = NULL;
    errno = 0;
    long v = at[1] == 'v' && at[2] >= '1' && at[2] <= '9' ? strtol(at + 2, &end, 10) : 0;
    if (v < 1 || *end != '\0' || errno || v > RT_MODEL_VERSION_MAX)
      return rt_fail(err, "model '%s': expected NAME or NAME@vN with N >= 1 (as in resnet@v3)", ref);
    *version = (int)v;
  }
  if (name_len >= RT_MODEL_NAME_MAX) return rt_fail(err, "model name in '%.40s...' is too long", ref);
  memcpy(name, ref, name_len);
  name[name_len] = '\0';
  return rt_paths_check_name("model name", name, err);
}

int rt_model_latest_version(const json_t *m) {
  json_int_t best = 0;
  size_t i;
  const json_t *v;
  json_array_foreach(json_object_get(m, "versions"), i, v) {
    json_int_t n = json_integer_value(json_object_get(v, "version"));
    if (n > best) best = n;
  }
  return (int)best;
}

const json_t *rt_model_find_version(const json_t *m, int version) {
  size_t i;
  const json_t *v;
  json_array_foreach(json_object_get(m, "versions"), i, v) {
    if (json_integer_value(json_object_get(v, "version")) == version) return v;
  }
  return NULL;
}

/* Sets updatedAt to now. */
static int touch(json_t *m, rt_error *err) {
  char now[32];
  rt_model_timestamp(now);
  return set_or_fail(m, "updatedAt", json_string(now), err);
}

/* Returns the array at key, creating it when absent. */
static json_t *array_field(json_t *m, const char *key, rt_error *err) {
  json_t *a = json_object_get(m, key);
  if (json_is_array(a)) return a;
  if (set_or_fail(m, key, json_array(), err) < 0) return NULL;
  return json_object_get(m, key);
}

int rt_model_add_version(json_t *m, int version, const char *sha256, long long size, rt_error *err) {
  const char *name = rt_model_name(m);
  if (version < 1 || version > RT_MODEL_VERSION_MAX)
    return rt_fail(err, "model '%s': version v%d is outside 1..%d", name, version, RT_MODEL_VERSION_MAX);
  if (rt_model_find_version(m, version))
    return rt_fail(err, "model '%s' already has a version v%d", name, version);
  json_t *versions = array_field(m, "versions", err), *artifacts = array_field(m, "artifacts", err);
  if (!versions || !artifacts) return -1;
  char now[32], path[64];
  rt_model_timestamp(now);
  snprintf(path, sizeof path, "artifacts/v%d.tar.gz", version);
  json_t *entry = json_pack("{s:i,s:s,s:I,s:s}", "version", version, "sha256", sha256, "size",
                            (json_int_t)size, "created", now);
  if (!entry || json_array_append_new(versions, entry) < 0)
    return rt_fail(err, "out of memory updating model.json");
  for (size_t i = json_array_size(artifacts); i-- > 0;) {
    const char *type = json_string_value(json_object_get(json_array_get(artifacts, i), "type"));
    if (type && !strcmp(type, "archive")) json_array_remove(artifacts, i);
  }
  json_t *archive = json_pack("{s:s,s:i,s:s}", "type", "archive", "version", version, "path", path);
  if (!archive || json_array_append_new(artifacts, archive) < 0)
    return rt_fail(err, "out of memory updating model.json");
  return touch(m, err);
}

/* metadata.system, borrowed; NULL when absent. */
static json_t *system_metadata(const json_t *m) { return json_object_get(json_object_get(m, "metadata"), "system"); }

int rt_model_set_status(json_t *m, const char *status, rt_error *err) {
  if (set_or_fail(m, "status", json_string(status), err) < 0) return -1;
  if (strcmp(status, "training") != 0) json_object_del(system_metadata(m), "trainer");
  return touch(m, err);
}

int rt_model_set_training(json_t *m, rt_error *err) {
  char host[256] = "";
  gethostname(host, sizeof host - 1);
  json_t *metadata = json_object_get(m, "metadata");
  if (!json_is_object(metadata) && set_or_fail(m, "metadata", metadata = json_object(), err) < 0) return -1;
  json_t *system = json_object_get(metadata, "system");
  if (!json_is_object(system) && set_or_fail(metadata, "system", system = json_object(), err) < 0) return -1;
  json_t *trainer = json_pack("{s:I,s:s}", "pid", (json_int_t)getpid(), "host", host);
  if (set_or_fail(system, "trainer", trainer, err) < 0) return -1;
  return rt_model_set_status(m, "training", err);
}

const char *rt_model_shown_status(const json_t *m) {
  const char *status = json_string_value(json_object_get(m, "status"));
  if (!status) return "?";
  const json_t *trainer = json_object_get(system_metadata(m), "trainer");
  json_int_t pid = json_integer_value(json_object_get(trainer, "pid"));
  const char *trainer_host = json_string_value(json_object_get(trainer, "host"));
  char host[256] = "";
  gethostname(host, sizeof host - 1);
  /* Only a process of this host can be checked; EPERM means it exists. */
  bool checkable = pid > 0 && pid <= INT_MAX && trainer_host && !strcmp(trainer_host, host);
  if (strcmp(status, "training") != 0 || !checkable) return status;
  return kill((pid_t)pid, 0) < 0 && errno == ESRCH ? "interrupted" : status;
}
