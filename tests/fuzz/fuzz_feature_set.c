/* libFuzzer target: opening a feature set (runtime/feature_set.c) whose
 * files were damaged or written by someone else. The input is meta.json,
 * items.jsonl and vectors.f32, separated by FUZZ_SEP. Opening read-only
 * (similar) must succeed or fail with an error, and what it gives must be
 * consistent: every id found at its row, count × dim floats readable.
 * Opening for writing (embed --resume) must recover the same way, take a
 * new row, and leave files that open again with that row. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feature_set.h"
#include "support.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Checks the rows of an open set: ids at their rows, vectors readable. */
static void check_rows(const rt_feature_set *f) {
  for (int64_t i = 0; i < f->count; i++) {
    int64_t row = rt_features_find(f, f->ids[i]);
    FUZZ_CHECK(row >= 0 && !strcmp(f->ids[row], f->ids[i]), "id '%s' of row %lld is not found", f->ids[i],
               (long long)i);
  }
  float *v;
  rt_error err = {{0}};
  if (rt_features_read_vectors(f, &v, &err) == 0)
    free(v);
  else
    fuzz_expect_error(&err);
}

/* Opens for writing, adds one row and checks that it is there on reopening. */
static void check_put(const rt_paths *p) {
  rt_feature_set f;
  rt_error err = {{0}};
  if (rt_features_open(&f, p, "fs", "model-id", &err) < 0) {
    fuzz_expect_error(&err);
    return;
  }
  check_rows(&f);
  int64_t dim = f.dim ? f.dim : 3, count = f.count;
  if (dim > 64) { /* keeps the run fast; large dims only cost time */
    rt_features_close(&f);
    return;
  }
  static const char *const ids[1] = {"fuzz-new-item"}, *const names[1] = {"/new.png"};
  float vec[64] = {1.0f};
  int fresh = rt_features_find(&f, ids[0]) < 0;
  FUZZ_CHECK(rt_features_put(&f, 1, ids, names, vec, dim, &err) == 0, "put failed: %s", err.msg);
  rt_features_close(&f);
  FUZZ_CHECK(rt_features_open_existing(&f, p, "fs", &err) == 0, "reopening failed: %s", err.msg);
  FUZZ_CHECK(f.count == count + fresh && rt_features_find(&f, ids[0]) >= 0,
             "after a put of one row to %lld rows, the set has %lld", (long long)count, (long long)f.count);
  check_rows(&f);
  rt_features_close(&f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *part[3];
  size_t len[3];
  fuzz_split(data, size, 3, part, len);
  rt_paths p;
  rt_error err = {{0}};
  char dir[RT_PATH_MAX], path[RT_PATH_MAX];
  FUZZ_CHECK(rt_paths_init(&p, fuzz_scratch(), &err) == 0 &&
                 rt_paths_entry(&p, RT_PLACE_FEATURE_SETS, "fs", dir, &err) == 0,
             "%s", err.msg);
  static const char *const files[3] = {"meta.json", "items.jsonl", "vectors.f32"};
  for (int i = 0; i < 3; i++) {
    rt_fs_path(path, NULL, "%s/%s", dir, files[i]);
    fuzz_put(path, part[i], len[i]);
  }

  rt_feature_set f;
  if (rt_features_open_existing(&f, &p, "fs", &err) == 0) {
    check_rows(&f);
    rt_features_close(&f);
  } else {
    fuzz_expect_error(&err);
  }
  check_put(&p);
  fuzz_remove(dir);
  fuzz_free_parts(3, part);
  return 0;
}
