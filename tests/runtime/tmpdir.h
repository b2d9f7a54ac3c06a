/* tmpdir.h — helpers for runtime tests that work on real files in a fresh
 * temp directory. Header-only (static inline) so each test binary stays one
 * .c file. */
#ifndef TESTS_RUNTIME_TMPDIR_H
#define TESTS_RUNTIME_TMPDIR_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fsutil.h"

/* Makes a fresh temp directory; writes its path into dir (RT_PATH_MAX). */
static inline int tmpdir_make(char *dir) {
  const char *base = getenv("TMPDIR");
  rt_fs_path(dir, NULL, "%s/dlrun-test.XXXXXX", base && base[0] ? base : "/tmp");
  return mkdtemp(dir) ? 0 : -1;
}

static inline void tmpdir_remove(const char *dir) {
  rt_error err;
  rt_fs_rm_rf(dir, &err);
}

/* Writes a whole file (creating parent folders); returns 0 on success. */
static inline int tmpdir_put(const char *path, const char *text) {
  char parent[RT_PATH_MAX];
  rt_error err;
  if (rt_fs_path(parent, &err, "%s", path) < 0) return -1;
  char *slash = strrchr(parent, '/');
  if (slash && slash != parent) {
    *slash = '\0';
    if (rt_fs_mkdir_p(parent, &err) < 0) return -1;
  }
  FILE *f = fopen(path, "wb");
  if (!f) return -1;
  size_t n = strlen(text);
  int ok = fwrite(text, 1, n, f) == n;
  return (fclose(f) == 0 && ok) ? 0 : -1;
}

/* Reads a whole file into a malloc'd string (caller frees), NULL if missing. */
static inline char *tmpdir_get(const char *path) {
  char *data;
  size_t len;
  rt_error err;
  return rt_fs_read_file(path, &data, &len, &err) == 0 ? data : NULL;
}

/* Counts the entries of a directory whose names contain needle. */
static inline int tmpdir_count_names(const char *dir, const char *needle) {
  rt_strlist l = {0};
  rt_error err;
  if (rt_fs_list_tree(dir, &l, &err) < 0) return -1;
  int n = 0;
  for (size_t i = 0; i < l.n; i++) n += strstr(l.v[i], needle) != NULL;
  rt_strlist_free(&l);
  return n;
}

#endif
