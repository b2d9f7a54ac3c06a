/* cmocka tests of feature sets (runtime/feature_set.c) on real files,
 * including the leftovers of a crash in the middle of a put. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "feature_set.h"
#include "tmpdir.h"

typedef struct fixture {
  char home[RT_PATH_MAX];
  rt_paths paths;
} fixture;

static int setup(void **state) {
  fixture *f = calloc(1, sizeof *f);
  assert_int_equal(tmpdir_make(f->home), 0);
  rt_error err;
  assert_int_equal(rt_paths_init(&f->paths, f->home, &err), 0);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  tmpdir_remove(f->home);
  free(f);
  return 0;
}

static long file_size(const char *path) {
  FILE *fp = fopen(path, "rb");
  if (!fp) return -1;
  fseek(fp, 0, SEEK_END);
  long n = ftell(fp);
  fclose(fp);
  return n;
}

static void test_put_appends_and_upserts(void **state) {
  fixture *fx = *state;
  rt_feature_set fs;
  rt_error err;
  assert_int_equal(rt_features_open(&fs, &fx->paths, "m", "id1", &err), 0);
  const char *ids[3] = {"a", "b", "c"}, *names[3] = {"/a.png", "/b.png", "/c.png"};
  float v[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  assert_int_equal(rt_features_put(&fs, 3, ids, names, v, 3, &err), 0);
  assert_int_equal(fs.count, 3);
  assert_int_equal(fs.dim, 3);
  /* b again (overwritten in place) and d (appended) */
  const char *ids2[2] = {"b", "d"}, *names2[2] = {"/b.png", "/d.png"};
  float v2[6] = {40, 50, 60, 10, 11, 12};
  assert_int_equal(rt_features_put(&fs, 2, ids2, names2, v2, 3, &err), 0);
  assert_int_equal(fs.count, 4);
  assert_int_equal(rt_features_find(&fs, "b"), 1);
  assert_int_equal(rt_features_find(&fs, "d"), 3);
  assert_int_equal(rt_features_find(&fs, "zz"), -1);
  /* a different dim is refused, naming both */
  assert_int_equal(rt_features_put(&fs, 1, ids, names, v, 2, &err), -1);
  assert_non_null(strstr(err.msg, "holds 3-dimensional vectors, not 2"));
  rt_features_close(&fs);

  assert_int_equal(rt_features_open_existing(&fs, &fx->paths, "m", &err), 0);
  assert_int_equal(fs.count, 4);
  assert_string_equal(fs.filenames[3], "/d.png");
  float *all;
  assert_int_equal(rt_features_read_vectors(&fs, &all, &err), 0);
  float want[12] = {1, 2, 3, 40, 50, 60, 7, 8, 9, 10, 11, 12};
  assert_memory_equal(all, want, sizeof want);
  free(all);
  rt_features_close(&fs);
}

/* A crash after the vectors were written but before the item lines: the
 * extra rows go on the next open, and so does a half-written line. */
static void test_open_trims_what_a_crash_left(void **state) {
  fixture *fx = *state;
  rt_feature_set fs;
  rt_error err;
  assert_int_equal(rt_features_open(&fs, &fx->paths, "m", "id1", &err), 0);
  const char *ids[2] = {"a", "b"}, *names[2] = {"/a", "/b"};
  float v[4] = {1, 2, 3, 4};
  assert_int_equal(rt_features_put(&fs, 2, ids, names, v, 2, &err), 0);
  char vec[RT_PATH_MAX], items[RT_PATH_MAX];
  rt_fs_path(vec, &err, "%s/vectors.f32", fs.dir);
  rt_fs_path(items, &err, "%s/items.jsonl", fs.dir);
  rt_features_close(&fs);
  FILE *fp = fopen(vec, "ab");
  float extra[4] = {9, 9, 9, 9};
  fwrite(extra, sizeof extra, 1, fp); /* two rows without item lines */
  fclose(fp);
  fp = fopen(items, "ab");
  fputs("{\"id\":\"c\",\"filen", fp); /* a line cut short */
  fclose(fp);

  assert_int_equal(rt_features_open_existing(&fs, &fx->paths, "m", &err), 0);
  assert_int_equal(fs.count, 2); /* read-only sees the consistent prefix */
  rt_features_close(&fs);
  assert_int_equal(file_size(vec), 32); /* and changes nothing */

  assert_int_equal(rt_features_open(&fs, &fx->paths, "m", "id1", &err), 0);
  assert_int_equal(fs.count, 2);
  assert_int_equal(file_size(vec), 16);
  assert_int_equal(rt_features_find(&fs, "c"), -1);
  const char *ids3[1] = {"c"}, *names3[1] = {"/c"};
  float v3[2] = {5, 6};
  assert_int_equal(rt_features_put(&fs, 1, ids3, names3, v3, 2, &err), 0);
  rt_features_close(&fs);
  char *text;
  size_t len;
  assert_int_equal(rt_fs_read_file(items, &text, &len, &err), 0);
  assert_string_equal(text, "{\"id\":\"a\",\"filename\":\"/a\"}\n{\"id\":\"b\",\"filename\":\"/b\"}\n{\"id\":\"c\",\"filename\":\"/c\"}\n");
  free(text);
}

static void test_missing_and_corrupt_sets_are_clear_errors(void **state) {
  fixture *fx = *state;
  rt_feature_set fs;
  rt_error err;
  assert_int_equal(rt_features_open_existing(&fs, &fx->paths, "nope", &err), -1);
  assert_non_null(strstr(err.msg, "feature set 'nope' not found"));
  assert_int_equal(rt_features_open(&fs, &fx->paths, "bad", NULL, &err), 0);
  rt_features_close(&fs);
  char items[RT_PATH_MAX];
  rt_fs_path(items, &err, "%s/feature_sets/bad/items.jsonl", fx->home);
  FILE *fp = fopen(items, "w");
  fputs("not json\n", fp);
  fclose(fp);
  assert_int_equal(rt_features_open(&fs, &fx->paths, "bad", NULL, &err), -1);
  assert_non_null(strstr(err.msg, "items.jsonl:1: not a feature set row"));
  /* a dim whose row size overflowed int64: 2^62 * 4 wrapped to a division by 0 */
  char meta[RT_PATH_MAX];
  rt_fs_path(meta, &err, "%s/feature_sets/bad/meta.json", fx->home);
  assert_int_equal(tmpdir_put(meta, "{\"dim\": 4611686018427387904}"), 0);
  assert_int_equal(tmpdir_put(items, "{\"id\": \"a\"}\n"), 0);
  char vectors[RT_PATH_MAX];
  rt_fs_path(vectors, &err, "%s/feature_sets/bad/vectors.f32", fx->home);
  assert_int_equal(tmpdir_put(vectors, "abcd"), 0);
  assert_int_equal(rt_features_open_existing(&fs, &fx->paths, "bad", &err), -1);
  assert_non_null(strstr(err.msg, "meta.json: dim 4611686018427387904 is outside 0..16777216"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_put_appends_and_upserts, setup, teardown),
      cmocka_unit_test_setup_teardown(test_open_trims_what_a_crash_left, setup, teardown),
      cmocka_unit_test_setup_teardown(test_missing_and_corrupt_sets_are_clear_errors, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
