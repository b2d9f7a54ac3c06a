/* load_from_model: fetch, verify, extract, swap in. */
#include "load_from_model.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "artifact_archive.h"
#include "fsutil.h"
#include "http.h"
#include "model_entity.h"

/* The file name a link artifact is saved under: its "filename", else the
 * last segment of the URL's path. Written into out (RT_PATH_MAX bytes). */
static int link_filename(const json_t *link, const char *url, char *out, rt_error *err) {
  const char *given = json_string_value(json_object_get(link, "filename"));
  if (given) {
    if (rt_fs_path(out, err, "%s", given) < 0) return -1;
  } else {
    const char *path = strstr(url, "://");
    path = path ? strchr(path + 3, '/') : NULL;
    size_t end = path ? strcspn(path, "?#") : 0;
    const char *start = path ? path + end : NULL;
    while (start && start > path && start[-1] != '/') start--;
    if (!start || start == path + end)
      return rt_fail(err, "link artifact %s: the URL names no file; give the artifact a \"filename\"", url);
    if (rt_fs_path(out, err, "%.*s", (int)(path + end - start), start) < 0) return -1;
  }
  char what[RT_PATH_MAX + 64];
  snprintf(what, sizeof what, "link artifact %s: filename", url);
  return rt_paths_check_name(what, out, err);
}

/* Fetches one link artifact into the folder dir. */
static int fetch_link(const rt_store *s, const json_t *link, const char *dir, rt_error *err) {
  const char *url = json_string_value(json_object_get(link, "url"));
  const char *sha = json_string_value(json_object_get(link, "sha256"));
  char name[RT_PATH_MAX], dest[RT_PATH_MAX];
  if (link_filename(link, url, name, err) < 0 || rt_fs_path(dest, err, "%s/%s", dir, name) < 0) return -1;
  if (rt_fs_exists(dest))
    return rt_fail(err, "link artifact %s: '%s' is already in the working copy", url, name);
  if (!strncmp(url, "http://", 7) || !strncmp(url, "https://", 8))
    return rt_http_get_file(url, dest, sha, &s->http, NULL, err);
  if (strncmp(url, "file:///", 8) != 0)
    return rt_fail(err, "link artifact %s: unsupported URL (expected http://, https:// or file:///)", url);
  if (rt_fs_copy_file(url + 7, dest, err) < 0) return -1;
  char got[RT_SHA256_HEX];
  if (sha && (rt_sha256_file(dest, got, err) < 0 || strcasecmp(got, sha) != 0)) {
    unlink(dest);
    return rt_fail(err, "link artifact %s: sha256 mismatch, expected %s", url, sha);
  }
  return 0;
}

/* The record of what the working copy should hold; caller owns it. Also
 * checks that every artifact is of a kind dlrun can fetch. */
static json_t *wanted_state(const json_t *model, int version, const char *sha, rt_error *err) {
  json_t *links = json_array();
  size_t i;
  const json_t *a;
  json_array_foreach(json_object_get(model, "artifacts"), i, a) {
    const char *type = json_string_value(json_object_get(a, "type"));
    if (!type) type = "(none)";
    if (!strcmp(type, "archive")) continue;
    if (strcmp(type, "link") != 0) {
      rt_fail(err,
              "model '%s': artifacts[%zu] has type '%s', which dlrun cannot fetch (known: archive, link)",
              rt_model_name(model), i, type);
      json_decref(links);
      return NULL;
    }
    json_array_append_new(links, json_deep_copy(a));
  }
  return json_pack("{s:s,s:i,s:s,s:o}", "model", rt_model_name(model), "version", version, "sha256", sha,
                   "links", links);
}

/* True if the record file at path holds exactly want. */
static int already_loaded(const char *path, const json_t *want) {
  json_t *have = json_load_file(path, 0, NULL);
  int same = have && json_equal(have, want);
  json_decref(have);
  return same;
}

/* Fills the temp folder dir with the version's files and the links. */
static int build(const rt_store *s, const json_t *model, int version, const char *sha, const json_t *want,
                 const char *dir, rt_error *err) {
  if (version > 0) {
    char rel[RT_PATH_MAX], download[RT_PATH_MAX], local[RT_PATH_MAX];
    if (rt_fs_path(rel, err, "models/%s/artifacts/v%d.tar.gz", rt_model_name(model), version) < 0 ||
        rt_fs_path(download, err, "%s.tar.gz", dir) < 0 ||
        rt_store_fetch(s, rel, download, sha, local, err) < 0)
      return -1;
    int rc = rt_archive_extract_into(local, dir, err);
    if (s->kind == RT_STORE_HTTP) unlink(download);
    if (rc < 0) return -1;
  }
  size_t i;
  const json_t *link;
  json_array_foreach(json_object_get(want, "links"), i, link) {
    if (fetch_link(s, link, dir, err) < 0) return -1;
  }
  return 0;
}

/* Where the record of what was loaded into a working copy lives: beside it,
 * so the working copy itself holds only the model's files. */
static int record_path(const rt_paths *p, const char *name, char *out, rt_error *err) {
  char models[RT_PATH_MAX];
  if (rt_paths_dir(p, RT_PLACE_MODELS, models, err) < 0) return -1;
  return rt_fs_path(out, err, "%s/.%s.loaded.json", models, name);
}

int rt_forget_working_copy(const rt_paths *p, const char *name, rt_error *err) {
  char work[RT_PATH_MAX], record[RT_PATH_MAX];
  if (rt_paths_entry(p, RT_PLACE_MODELS, name, work, err) < 0 || record_path(p, name, record, err) < 0) return -1;
  if (rt_fs_rm_rf(record, err) < 0) return -1;
  return rt_fs_rm_rf(work, err);
}

int rt_load_from_model(const rt_store *s, const rt_paths *p, const json_t *model, int version, int overwrite,
                       rt_loaded_model *out, rt_error *err) {
  const char *name = rt_model_name(model);
  memset(out, 0, sizeof *out);
  if (!name) return rt_fail(err, "load_from_model: the model entity has no name");
  if (rt_paths_entry(p, RT_PLACE_MODELS, name, out->path, err) < 0) return -1;
  int latest = rt_model_latest_version(model);
  out->version = version ? version : latest;
  const json_t *entry = NULL;
  if (out->version) {
    entry = rt_model_find_version(model, out->version);
    if (!entry && latest)
      return rt_fail(err, "model '%s' has no version v%d (the latest is v%d)", name, out->version, latest);
    if (!entry) return rt_fail(err, "model '%s' has no version v%d (it was never saved)", name, out->version);
    strcpy(out->sha256, json_string_value(json_object_get(entry, "sha256")));
  }

  json_t *want = wanted_state(model, out->version, out->sha256, err);
  if (!want) return -1;
  char record[RT_PATH_MAX];
  int rc = record_path(p, name, record, err);
  if (rc == 0 && !overwrite && rt_fs_is_dir(out->path)) {
    /* Up to date; or never saved, never loaded, and maybe holding files
     * the user put there: leave it as it is. */
    if (already_loaded(record, want) ||
        (out->version == 0 && json_array_size(json_object_get(want, "links")) == 0 &&
         !rt_fs_exists(record))) {
      json_decref(want);
      return 0;
    }
  }
  char tmp[RT_PATH_MAX];
  if (rc == 0) rc = rt_fs_make_temp_dir(out->path, tmp, err);
  if (rc == 0) {
    rc = build(s, model, out->version, out->sha256, want, tmp, err);
    /* No record while the swap happens: a crash in between means "unknown",
     * and the next load rebuilds. */
    if (rc == 0 && unlink(record) < 0 && errno != ENOENT)
      rc = rt_fail(err, "cannot remove %s: %s", record, strerror(errno));
    if (rc == 0) rc = rt_fs_replace_dir(tmp, out->path, err);
    if (rc < 0) {
      rt_error ignored;
      rt_fs_rm_rf(tmp, &ignored);
    }
  }
  if (rc == 0) {
    char *text = json_dumps(want, JSON_INDENT(2));
    rc = text ? rt_fs_write_atomic(record, text, strlen(text), err)
              : rt_fail(err, "out of memory writing %s", record);
    free(text);
  }
  json_decref(want);
  if (rc == 0) out->fetched = 1;
  return rc;
}
