/* The model store: a folder or an HTTP prefix. */
#include "store_backend.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <jansson.h>

#include "fsutil.h"
#include "sha256.h"

int rt_store_open(rt_store *s, const char *url, const rt_paths *p, rt_error *err) {
  memset(s, 0, sizeof *s);
  rt_http_options_default(&s->http);
  if (!url) {
    s->kind = RT_STORE_FILE;
    return rt_paths_dir(p, RT_PLACE_STORE, s->base, err);
  }
  if (!strncmp(url, "file://", 7)) {
    const char *path = url + 7;
    if (!strncmp(path, "localhost/", 10)) path += 9;
    if (path[0] != '/')
      return rt_fail(err, "store URL '%s' must name an absolute folder, as file:///path/to/store", url);
    s->kind = RT_STORE_FILE;
    if (rt_fs_path(s->base, err, "%s", path) < 0) return -1;
    size_t n = strlen(s->base);
    while (n > 1 && s->base[n - 1] == '/') s->base[--n] = '\0';
    return rt_fs_mkdir_p(s->base, err);
  }
  if (!strncmp(url, "http://", 7) || !strncmp(url, "https://", 8)) {
    const char *host = strstr(url, "://") + 3;
    if (!host[0] || host[0] == '/') return rt_fail(err, "store URL '%s' has no host", url);
    s->kind = RT_STORE_HTTP;
    size_t n = strlen(url);
    return rt_fs_path(s->base, err, "%s%s", url, url[n - 1] == '/' ? "" : "/");
  }
  return rt_fail(err, "unsupported store URL '%s' (expected file:///path or http(s)://host/prefix/)", url);
}

/* Appends rel to the base URL, escaping each segment. */
static int http_url(const rt_store *s, const char *rel, char *out, rt_error *err) {
  size_t n = strlen(s->base);
  if (rt_fs_path(out, err, "%s", s->base) < 0) return -1;
  const char *p = rel;
  while (*p) {
    size_t len = strcspn(p, "/");
    char segment[256];
    if (len >= sizeof segment)
      return rt_fail(err, "store path '%s' has a segment longer than 255 bytes", rel);
    memcpy(segment, p, len);
    segment[len] = '\0';
    char *escaped = rt_http_escape(segment, err);
    if (!escaped) return -1;
    size_t e = strlen(escaped);
    int fits = n + e + 2 < RT_PATH_MAX;
    if (fits) {
      memcpy(out + n, escaped, e);
      n += e;
      if (p[len] == '/') out[n++] = '/';
      out[n] = '\0';
    }
    free(escaped);
    if (!fits) return rt_fail(err, "URL for '%s' under %s is too long", rel, s->base);
    p += len + (p[len] == '/');
  }
  return 0;
}

int rt_store_locate(const rt_store *s, const char *rel, char *out, rt_error *err) {
  if (s->kind == RT_STORE_HTTP) return http_url(s, rel, out, err);
  return rt_fs_path(out, err, "%s/%s", s->base, rel);
}

/* Creates the folder that will hold the file at path. */
static int make_parent(const char *path, rt_error *err) {
  char parent[RT_PATH_MAX];
  strcpy(parent, path);
  char *slash = strrchr(parent, '/');
  if (slash) *slash = '\0';
  return rt_fs_mkdir_p(parent, err);
}

int rt_store_read(const rt_store *s, const char *rel, char **data, size_t *len, int *found, rt_error *err) {
  char where[RT_PATH_MAX];
  *data = NULL;
  *len = 0;
  *found = 0;
  if (rt_store_locate(s, rel, where, err) < 0) return -1;
  if (s->kind == RT_STORE_HTTP) {
    long status = 0;
    if (rt_http_get_buffer(where, data, len, &s->http, &status, err) < 0) return status == 404 ? 0 : -1;
  } else {
    if (!rt_fs_exists(where)) return 0;
    if (rt_fs_read_file(where, data, len, err) < 0) return -1;
  }
  *found = 1;
  return 0;
}

int rt_store_write(const rt_store *s, const char *rel, const void *data, size_t len, rt_error *err) {
  char where[RT_PATH_MAX];
  if (rt_store_locate(s, rel, where, err) < 0) return -1;
  if (s->kind == RT_STORE_HTTP) return rt_http_put_buffer(where, data, len, &s->http, err);
  if (make_parent(where, err) < 0) return -1;
  return rt_fs_write_atomic(where, data, len, err);
}

int rt_store_put_file(const rt_store *s, const char *rel, const char *src, rt_error *err) {
  char where[RT_PATH_MAX];
  if (rt_store_locate(s, rel, where, err) < 0) return -1;
  if (s->kind == RT_STORE_HTTP) {
    if (rt_http_put_file(where, src, &s->http, err) < 0) return -1;
  } else {
    if (make_parent(where, err) < 0) return -1;
    /* src was written and synced by its maker; a rename publishes it at
     * once. Across file systems, copy (atomically) instead. */
    if (rename(src, where) == 0) {
      char dir[RT_PATH_MAX];
      strcpy(dir, where);
      *strrchr(dir, '/') = '\0';
      return rt_fs_sync_dir(dir, err);
    }
    if (errno != EXDEV) return rt_fail(err, "cannot move %s to %s: %s", src, where, strerror(errno));
    if (rt_fs_copy_file(src, where, err) < 0) return -1;
  }
  if (unlink(src) < 0 && errno != ENOENT) return rt_fail(err, "cannot remove %s: %s", src, strerror(errno));
  return 0;
}

int rt_store_fetch(const rt_store *s, const char *rel, const char *download_to, const char *sha256,
                   char *local, rt_error *err) {
  char where[RT_PATH_MAX];
  if (rt_store_locate(s, rel, where, err) < 0) return -1;
  if (s->kind == RT_STORE_HTTP) {
    if (rt_http_get_file(where, download_to, sha256, &s->http, NULL, err) < 0) return -1;
    return rt_fs_path(local, err, "%s", download_to);
  }
  if (!rt_fs_exists(where)) return rt_fail(err, "%s is missing from the store", where);
  if (sha256) {
    char got[RT_SHA256_HEX];
    if (rt_sha256_file(where, got, err) < 0) return -1;
    if (strcasecmp(got, sha256) != 0)
      return rt_fail(err, "%s is damaged: sha256 is %s, model.json expects %s", where, got, sha256);
  }
  return rt_fs_path(local, err, "%s", where);
}

/* Folder URLs end in '/': WebDAV deletes a collection, and nginx lists one,
 * only then. url is a RT_PATH_MAX buffer. */
static int as_folder_url(char *url, rt_error *err) {
  size_t n = strlen(url);
  if (url[n - 1] == '/') return 0;
  if (n + 1 >= RT_PATH_MAX) return rt_fail(err, "URL %s is too long", url);
  url[n] = '/';
  url[n + 1] = '\0';
  return 0;
}

int rt_store_remove_dir(const rt_store *s, const char *rel, rt_error *err) {
  char where[RT_PATH_MAX];
  if (rt_store_locate(s, rel, where, err) < 0) return -1;
  if (s->kind == RT_STORE_FILE) return rt_fs_rm_rf(where, err);
  if (as_folder_url(where, err) < 0) return -1;
  return rt_http_delete(where, &s->http, err);
}

/* Reads an nginx JSON folder listing: [{"name": "m", "type": "directory"}, ...]. */
static int parse_listing(const char *url, const char *text, size_t len, rt_strlist *out, rt_error *err) {
  json_error_t jerr;
  json_t *list = json_loadb(text, len, 0, &jerr);
  if (!json_is_array(list)) {
    json_decref(list);
    return rt_fail(err, "GET %s: expected a JSON folder listing (nginx: autoindex_format json)", url);
  }
  size_t i;
  json_t *e;
  int rc = 0;
  json_array_foreach(list, i, e) {
    const char *name = json_string_value(json_object_get(e, "name"));
    const char *type = json_string_value(json_object_get(e, "type"));
    if (rc == 0 && name && type && !strcmp(type, "directory")) rc = rt_strlist_push(out, name, err);
  }
  json_decref(list);
  return rc;
}

int rt_store_list_dirs(const rt_store *s, const char *rel, rt_strlist *out, rt_error *err) {
  char where[RT_PATH_MAX];
  if (rt_store_locate(s, rel, where, err) < 0) return -1;
  size_t first = out->n;
  if (s->kind == RT_STORE_HTTP) {
    if (as_folder_url(where, err) < 0) return -1;
    char *text;
    size_t len;
    long status = 0;
    if (rt_http_get_buffer(where, &text, &len, &s->http, &status, err) < 0) return status == 404 ? 0 : -1;
    int rc = parse_listing(where, text, len, out, err);
    free(text);
    if (rc < 0) return -1;
  } else {
    DIR *d = opendir(where);
    if (!d) {
      if (errno == ENOENT) return 0;
      return rt_fail(err, "cannot list %s: %s", where, strerror(errno));
    }
    struct dirent *e;
    int rc = 0;
    while (rc == 0 && (e = readdir(d)) != NULL) {
      char full[RT_PATH_MAX];
      if (e->d_name[0] == '.') continue; /* ".", "..", locks and temp folders */
      rc = rt_fs_path(full, err, "%s/%s", where, e->d_name);
      if (rc == 0 && rt_fs_is_dir(full)) rc = rt_strlist_push(out, e->d_name, err);
    }
    closedir(d);
    if (rc < 0) return -1;
  }
  rt_strlist tail = {out->v + first, out->n - first, 0};
  rt_strlist_sort(&tail);
  return 0;
}

int rt_store_lock(const rt_store *s, const char *rel, int *fd, rt_error *err) {
  *fd = -1;
  if (s->kind == RT_STORE_HTTP) return 0;
  char path[RT_PATH_MAX], parent[RT_PATH_MAX];
  const char *slash = strrchr(rel, '/');
  const char *base = slash ? slash + 1 : rel;
  int parent_len = slash ? (int)(slash - rel) : 0;
  if (rt_fs_path(parent, err, "%s/%.*s", s->base, parent_len, rel) < 0 || rt_fs_mkdir_p(parent, err) < 0 ||
      rt_fs_path(path, err, "%s/.%s.lock", parent, base) < 0)
    return -1;
  return rt_fs_lock(path, fd, err);
}

void rt_store_unlock(int fd) { rt_fs_unlock(fd); }
