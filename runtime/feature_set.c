/* Feature sets: vectors.f32 + items.jsonl + meta.json, upserted in batches. */
#include "feature_set.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "model_entity.h"

static uint64_t hash_id(const char *s) {
  uint64_t h = 1469598103934665603ull; /* FNV-1a */
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return h;
}

/* Puts id -> row into the index (growing it to keep it at most half full). */
static int index_put(rt_feature_set *f, const char *id, int64_t row, rt_error *err) {
  if ((f->count + 1) * 2 > f->nslots) {
    int64_t n = f->nslots ? f->nslots * 2 : 1024;
    while (n < (f->count + 1) * 2) n *= 2;
    int64_t *slots = calloc((size_t)n, sizeof *slots);
    if (!slots) return rt_fail(err, "out of memory indexing feature set %s", f->name);
    for (int64_t i = 0; i < f->nslots; i++) {
      if (!f->slots[i]) continue;
      uint64_t h = hash_id(f->ids[f->slots[i] - 1]) & (uint64_t)(n - 1);
      while (slots[h]) h = (h + 1) & (uint64_t)(n - 1);
      slots[h] = f->slots[i];
    }
    free(f->slots);
    f->slots = slots;
    f->nslots = n;
  }
  uint64_t h = hash_id(id) & (uint64_t)(f->nslots - 1);
  while (f->slots[h] && strcmp(f->ids[f->slots[h] - 1], id) != 0) h = (h + 1) & (uint64_t)(f->nslots - 1);
  f->slots[h] = row + 1;
  return 0;
}

int64_t rt_features_find(const rt_feature_set *f, const char *id) {
  if (!f->nslots) return -1;
  uint64_t h = hash_id(id) & (uint64_t)(f->nslots - 1);
  while (f->slots[h]) {
    if (strcmp(f->ids[f->slots[h] - 1], id) == 0) return f->slots[h] - 1;
    h = (h + 1) & (uint64_t)(f->nslots - 1);
  }
  return -1;
}

/* Appends a row's id and filename to the in-memory lists and the index. */
static int add_row(rt_feature_set *f, const char *id, const char *filename, rt_error *err) {
  if (f->count == f->cap) {
    int64_t cap = f->cap ? f->cap * 2 : 1024;
    char **ids = realloc(f->ids, (size_t)cap * sizeof *ids);
    if (ids) f->ids = ids;
    char **names = ids ? realloc(f->filenames, (size_t)cap * sizeof *names) : NULL;
    if (!names) return rt_fail(err, "out of memory growing feature set %s", f->name);
    f->filenames = names;
    f->cap = cap;
  }
  f->ids[f->count] = strdup(id);
  f->filenames[f->count] = strdup(filename ? filename : "");
  if (!f->ids[f->count] || !f->filenames[f->count]) return rt_fail(err, "out of memory");
  if (index_put(f, id, f->count, err) < 0) return -1;
  f->count++;
  return 0;
}

static int file_path(const rt_feature_set *f, const char *leaf, char *out, rt_error *err) {
  return rt_fs_path(out, err, "%s/%s", f->dir, leaf);
}

static int write_meta(const rt_feature_set *f, rt_error *err) {
  char stamp[32], path[RT_PATH_MAX];
  rt_model_timestamp(stamp);
  json_t *m = json_pack("{s:s, s:s, s:s, s:I, s:I, s:s, s:s, s:s}", "name", f->name, "model", f->name, "model_id",
                        f->model_id, "dim", (json_int_t)f->dim, "count", (json_int_t)f->count, "dtype", "float32",
                        "layout", "row-major, little-endian", "updated", stamp);
  char *text = m ? json_dumps(m, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
  json_decref(m);
  if (!text) return rt_fail(err, "out of memory writing meta.json of %s", f->name);
  int rc = file_path(f, "meta.json", path, err);
  if (rc == 0) rc = rt_fs_write_atomic(path, text, strlen(text), err);
  free(text);
  return rc;
}

/* Reads items.jsonl: whole lines only; *good_bytes is where they end. */
static int read_items(rt_feature_set *f, off_t *good_bytes, rt_error *err) {
  char path[RT_PATH_MAX];
  if (file_path(f, "items.jsonl", path, err) < 0) return -1;
  *good_bytes = 0;
  if (!rt_fs_exists(path)) return 0;
  char *text;
  size_t len;
  if (rt_fs_read_file(path, &text, &len, err) < 0) return -1;
  int rc = 0;
  size_t at = 0;
  for (long line = 1; rc == 0 && at < len; line++) {
    char *nl = memchr(text + at, '\n', len - at);
    if (!nl) break; /* a line cut by a crash: dropped */
    json_error_t je;
    json_t *row = json_loadb(text + at, (size_t)(nl - text - at), 0, &je);
    const char *id = json_string_value(json_object_get(row, "id"));
    if (!id)
      rc = rt_fail(err, "%s:%ld: not a feature set row (%s)", path, line, row ? "no \"id\"" : je.text);
    else
      rc = add_row(f, id, json_string_value(json_object_get(row, "filename")), err);
    json_decref(row);
    at = (size_t)(nl - text) + 1;
  }
  *good_bytes = (off_t)at;
  free(text);
  return rc;
}

/* Forgets rows keep..count-1 and rebuilds the index over the rest. */
static void keep_rows(rt_feature_set *f, int64_t keep) {
  for (int64_t i = keep; i < f->count; i++) free(f->ids[i]), free(f->filenames[i]);
  f->count = keep;
  if (f->nslots) memset(f->slots, 0, (size_t)f->nslots * sizeof *f->slots);
  for (int64_t i = 0; i < f->count; i++) index_put(f, f->ids[i], i, NULL);
}

static void free_rows(rt_feature_set *f) {
  for (int64_t i = 0; i < f->count; i++) free(f->ids[i]), free(f->filenames[i]);
}

/* Reads meta.json and items.jsonl and trims what an interrupted put left. */
static int load(rt_feature_set *f, bool create, rt_error *err) {
  char meta_path[RT_PATH_MAX], vec_path[RT_PATH_MAX], items_path[RT_PATH_MAX];
  if (file_path(f, "meta.json", meta_path, err) < 0 || file_path(f, "vectors.f32", vec_path, err) < 0 ||
      file_path(f, "items.jsonl", items_path, err) < 0)
    return -1;
  if (rt_fs_exists(meta_path)) {
    json_error_t je;
    json_t *meta = json_load_file(meta_path, 0, &je);
    if (!meta) return rt_fail(err, "%s:%d: %s", meta_path, je.line, je.text);
    f->dim = json_integer_value(json_object_get(meta, "dim"));
    const char *model_id = json_string_value(json_object_get(meta, "model_id"));
    if (!f->model_id[0] && model_id) snprintf(f->model_id, sizeof f->model_id, "%s", model_id);
    json_decref(meta);
    if (f->dim < 0 || f->dim > RT_FEATURES_DIM_MAX)
      return rt_fail(err, "%s: dim %lld is outside 0..%lld", meta_path, (long long)f->dim,
                     (long long)RT_FEATURES_DIM_MAX);
  } else if (!create) {
    return rt_fail(err, "feature set '%s' not found (no %s); run the adapter's embed command first", f->name, meta_path);
  }
  off_t items_bytes;
  if (read_items(f, &items_bytes, err) < 0) return -1;
  struct stat st;
  int64_t rows = 0;
  if (stat(vec_path, &st) == 0) {
    if (f->dim == 0 && st.st_size > 0) return rt_fail(err, "%s holds vectors but meta.json has no dim", vec_path);
    rows = f->dim ? (int64_t)st.st_size / (f->dim * 4) : 0;
  }
  /* rows written without their item line, or lines without their row */
  int64_t keep = rows < f->count ? rows : f->count;
  if (!create) { /* read-only: use the consistent prefix, change nothing */
    keep_rows(f, keep);
    return 0;
  }
  bool trimmed = false;
  if (f->dim && st.st_size != (off_t)(keep * f->dim * 4) && stat(vec_path, &st) == 0) {
    if (truncate(vec_path, (off_t)(keep * f->dim * 4)) < 0)
      return rt_fail(err, "cannot trim %s: %s", vec_path, strerror(errno));
    trimmed = true;
  }
  if (keep < f->count) {
    /* drop the extra lines: find where line `keep` ends */
    char *text;
    size_t len;
    if (rt_fs_read_file(items_path, &text, &len, err) < 0) return -1;
    size_t at = 0;
    for (int64_t i = 0; i < keep; i++) at = (size_t)((char *)memchr(text + at, '\n', len - at) - text) + 1;
    free(text);
    items_bytes = (off_t)at;
    keep_rows(f, keep);
  }
  if (rt_fs_exists(items_path) && stat(items_path, &st) == 0 && st.st_size != items_bytes) {
    if (truncate(items_path, items_bytes) < 0) return rt_fail(err, "cannot trim %s: %s", items_path, strerror(errno));
    trimmed = true;
  }
  return trimmed ? write_meta(f, err) : 0;
}

static int open_common(rt_feature_set *f, const rt_paths *p, const char *name, bool create, rt_error *err) {
  if (rt_paths_entry(p, RT_PLACE_FEATURE_SETS, name, f->dir, err) < 0) return -1;
  snprintf(f->name, sizeof f->name, "%s", name);
  if (create && rt_fs_mkdir_p(f->dir, err) < 0) return -1;
  if (load(f, create, err) < 0) {
    rt_features_close(f);
    return -1;
  }
  return 0;
}

int rt_features_open(rt_feature_set *f, const rt_paths *p, const char *name, const char *model_id, rt_error *err) {
  memset(f, 0, sizeof *f);
  snprintf(f->model_id, sizeof f->model_id, "%s", model_id ? model_id : "");
  return open_common(f, p, name, true, err);
}

int rt_features_open_existing(rt_feature_set *f, const rt_paths *p, const char *name, rt_error *err) {
  memset(f, 0, sizeof *f);
  return open_common(f, p, name, false, err);
}

/* Writes all of buf at offset. */
static int pwrite_all(int fd, const void *buf, size_t len, off_t offset, const char *path, rt_error *err) {
  const char *p = buf;
  while (len) {
    ssize_t w = pwrite(fd, p, len, offset);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return rt_fail(err, "cannot write %s: %s", path, strerror(errno));
    p += w, len -= (size_t)w, offset += w;
  }
  return 0;
}

int rt_features_put(rt_feature_set *f, int n, const char *const *ids, const char *const *filenames,
                    const float *vectors, int64_t dim, rt_error *err) {
  if (n == 0) return 0;
  if (dim < 1 || dim > RT_FEATURES_DIM_MAX)
    return rt_fail(err, "feature set %s: vectors need 1 to %lld dimensions, not %lld", f->name,
                   (long long)RT_FEATURES_DIM_MAX, (long long)dim);
  if (f->dim && dim != f->dim)
    return rt_fail(err, "feature set %s holds %lld-dimensional vectors, not %lld", f->name, (long long)f->dim,
                   (long long)dim);
  if (!f->dim) {
    f->dim = dim;
    if (write_meta(f, err) < 0) return -1;
  }
  char vec_path[RT_PATH_MAX], items_path[RT_PATH_MAX];
  if (file_path(f, "vectors.f32", vec_path, err) < 0 || file_path(f, "items.jsonl", items_path, err) < 0) return -1;
  int fd = open(vec_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return rt_fail(err, "cannot open %s: %s", vec_path, strerror(errno));
  size_t row_bytes = (size_t)dim * sizeof(float);
  int64_t first_new = f->count, appended = 0;
  json_t *lines = json_array();
  int rc = 0;
  /* vectors first: a crash now leaves rows without item lines, trimmed on open */
  for (int i = 0; rc == 0 && i < n; i++) {
    int64_t row = rt_features_find(f, ids[i]);
    if (row < 0) {
      row = first_new + appended++;
      json_array_append_new(lines, json_pack("{s:s, s:s}", "id", ids[i], "filename", filenames[i] ? filenames[i] : ""));
      rc = add_row(f, ids[i], filenames[i], err); /* duplicates later in the batch now find this row */
    }
    if (rc == 0) rc = pwrite_all(fd, vectors + (size_t)i * (size_t)dim, row_bytes, (off_t)row * (off_t)row_bytes, vec_path, err);
  }
  if (rc == 0 && fsync(fd) < 0) rc = rt_fail(err, "cannot sync %s: %s", vec_path, strerror(errno));
  close(fd);
  if (rc == 0 && appended > 0) {
    /* then the item lines of the new rows, in one append */
    size_t i;
    json_t *line;
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    json_array_foreach(lines, i, line) {
      json_dumpf(line, mem, JSON_COMPACT | JSON_PRESERVE_ORDER);
      fputc('\n', mem);
    }
    fclose(mem);
    int ifd = open(items_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (ifd < 0) rc = rt_fail(err, "cannot open %s: %s", items_path, strerror(errno));
    if (rc == 0) {
      off_t end = lseek(ifd, 0, SEEK_END);
      rc = pwrite_all(ifd, buf, len, end, items_path, err);
      if (rc == 0 && fsync(ifd) < 0) rc = rt_fail(err, "cannot sync %s: %s", items_path, strerror(errno));
      close(ifd);
    }
    free(buf);
  }
  json_decref(lines);
  if (rc == 0 && appended > 0) rc = write_meta(f, err);
  return rc;
}

int rt_features_read_vectors(const rt_feature_set *f, float **out, rt_error *err) {
  *out = NULL;
  char path[RT_PATH_MAX];
  if (file_path(f, "vectors.f32", path, err) < 0) return -1;
  size_t want = (size_t)f->count * (size_t)f->dim * sizeof(float);
  float *v = malloc(want ? want : 1);
  if (!v) return rt_fail(err, "out of memory reading %s", path);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0 && want) {
    free(v);
    return rt_fail(err, "cannot open %s: %s", path, strerror(errno));
  }
  size_t got = 0;
  while (got < want) {
    ssize_t r = read(fd, (char *)v + got, want - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    got += (size_t)r;
  }
  if (fd >= 0) close(fd);
  if (got < want) {
    free(v);
    return rt_fail(err, "%s is shorter than meta.json and items.jsonl say", path);
  }
  *out = v;
  return 0;
}

void rt_features_close(rt_feature_set *f) {
  free_rows(f);
  free(f->ids);
  free(f->filenames);
  free(f->slots);
  f->ids = f->filenames = NULL;
  f->slots = NULL;
  f->count = f->cap = f->nslots = 0;
}
