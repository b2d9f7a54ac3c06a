/* Helpers of the runtime's fuzz targets (see support.h). */
#include "support.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fsutil.h"

void fuzz_split(const uint8_t *data, size_t size, size_t n, char **parts, size_t *lens) {
  static const size_t sep_len = sizeof FUZZ_SEP - 1;
  size_t at = 0;
  for (size_t i = 0; i < n; i++) {
    size_t len = size - at;
    if (i + 1 < n) {
      const uint8_t *sep = memmem(data + at, size - at, FUZZ_SEP, sep_len);
      if (sep) len = (size_t)(sep - (data + at));
    }
    parts[i] = malloc(len + 1);
    FUZZ_CHECK(parts[i] != NULL, "out of memory");
    memcpy(parts[i], data + at, len);
    parts[i][len] = '\0';
    lens[i] = len;
    at += len;
    if (at < size) at += sep_len;
  }
}

void fuzz_free_parts(size_t n, char **parts) {
  for (size_t i = 0; i < n; i++) free(parts[i]);
}

static char scratch[RT_PATH_MAX];

static void remove_scratch(void) { fuzz_remove(scratch); }

const char *fuzz_scratch(void) {
  if (!scratch[0]) {
    const char *tmp = getenv("TMPDIR");
    rt_fs_path(scratch, NULL, "%s/fuzz-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
    FUZZ_CHECK(mkdtemp(scratch) != NULL, "cannot make a scratch folder at %s", scratch);
    atexit(remove_scratch);
  }
  return scratch;
}

void fuzz_put(const char *path, const void *data, size_t len) {
  char parent[RT_PATH_MAX];
  rt_error err;
  snprintf(parent, sizeof parent, "%s", path);
  char *slash = strrchr(parent, '/');
  if (slash) *slash = '\0';
  FUZZ_CHECK(rt_fs_mkdir_p(parent, &err) == 0 && rt_fs_write_file(path, data, len, &err) == 0, "%s", err.msg);
}

void fuzz_remove(const char *path) {
  rt_error err;
  FUZZ_CHECK(rt_fs_rm_rf(path, &err) == 0, "%s", err.msg);
}

void fuzz_fail(const char *file, int line, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "%s:%d: ", file, line);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  abort();
}

void fuzz_expect_error(const rt_error *err) {
  FUZZ_CHECK(err->msg[0] != '\0', "failed without an error message");
}
