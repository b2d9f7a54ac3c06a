/* Tests for runtime/prepare_data.c on a small dataset written here: the
 * model_data layout, hard links, ground truth only, the model's subsets and
 * their defaults, and the errors that name a subset and its filter. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <sys/stat.h>

#include "model_entity.h"
#include "prepare_data.h"
#include "signals.h"
#include "runtime/tmpdir.h"

typedef struct fixture {
  char dir[RT_PATH_MAX];
  rt_paths paths;
  rt_dataset ds;
} fixture;

static void put(const char *root, const char *rel, const char *text) {
  char p[RT_PATH_MAX];
  rt_fs_path(p, NULL, "%s/%s", root, rel);
  assert_int_equal(tmpdir_put(p, text), 0);
}

#define DOC(name, anns) "{\"id\": \"" name "\", \"filename\": \"/" name "\", \"annotations\": [" anns "]}"
#define GT(label) \
  "{\"id\": \"gt\", \"type\": \"class\", \"label\": \"" label "\", \"metadata\": {\"system\": {}}}"
#define PRED(label)                                             \
  "{\"id\": \"pred\", \"type\": \"class\", \"label\": \"" label \
  "\", \"metadata\": {\"user\": {\"model\": {\"name\": \"m\", \"confidence\": 0.9}}}}"

static int setup(void **state) {
  static fixture f;
  rt_error err;
  if (tmpdir_make(f.dir) < 0 || rt_paths_init(&f.paths, f.dir, &err) < 0) return -1;
  char root[RT_PATH_MAX];
  rt_fs_path(root, NULL, "%s/datasets/pets", f.dir);
  put(root, "dataset.json", "{\"id\": \"ds-pets\", \"name\": \"pets\"}");
  put(root, "items/train/a.png", "image a");
  put(root, "items/train/sub/b.png", "image b");
  put(root, "items/validation/c.png", "image c");
  put(root, "items/test/d.png", "image d");
  put(root, "json/train/a.json", DOC("train/a.png", GT("cat") ", " PRED("dog")));
  put(root, "json/validation/c.json", DOC("validation/c.png", PRED("cat")));
  /* train/sub/b.png has no document */
  if (rt_dataset_open(&f.ds, &f.paths, "pets", &err) < 0) return -1;
  *state = &f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  rt_dataset_close(&f->ds);
  tmpdir_remove(f->dir);
  return 0;
}

/* A model entity with the given subsets (JSON text of the table, or NULL for none). */
static json_t *model_with(const char *subsets) {
  rt_model_defaults d = {.name = "net"};
  rt_error err;
  json_t *m = rt_model_new(&d, &err);
  assert_non_null(m);
  json_t *system = json_object_get(json_object_get(m, "metadata"), "system");
  if (subsets)
    json_object_set_new(system, "subsets", json_loads(subsets, 0, NULL));
  else
    json_object_del(system, "subsets");
  return m;
}

static json_t *read_json(const char *dir, const char *rel) {
  char p[RT_PATH_MAX];
  rt_fs_path(p, NULL, "%s/%s", dir, rel);
  json_t *doc = json_load_file(p, 0, NULL);
  assert_non_null(doc);
  return doc;
}

static void test_default_subsets_copy_items_and_ground_truth_only(void **state) {
  fixture *f = *state;
  json_t *m = model_with(NULL);
  rt_prepared_data d;
  rt_error err;
  assert_int_equal(rt_prepare_data(&f->paths, m, &f->ds, &d, &err), 0);

  char want[RT_PATH_MAX];
  rt_fs_path(want, NULL, "%s/model_data/%s_net/", f->dir, rt_model_id(m));
  assert_memory_equal(d.root, want, strlen(want));
  rt_fs_path(want, NULL, "%s/datasets/ds-pets", d.root);
  assert_string_equal(d.data_path, want);
  rt_fs_path(want, NULL, "%s/output", d.root);
  assert_string_equal(d.output_path, want);
  assert_true(rt_fs_is_dir(d.output_path));
  assert_int_equal(json_integer_value(json_object_get(d.counts, "train")), 2);
  assert_int_equal(json_integer_value(json_object_get(d.counts, "validation")), 1);

  /* items are hard links to the dataset's files */
  char copy[RT_PATH_MAX], orig[RT_PATH_MAX];
  struct stat a, b;
  rt_fs_path(copy, NULL, "%s/train/items/train/sub/b.png", d.data_path);
  rt_fs_path(orig, NULL, "%s/items/train/sub/b.png", f->ds.root);
  assert_int_equal(stat(copy, &a), 0);
  assert_int_equal(stat(orig, &b), 0);
  assert_true(a.st_ino == b.st_ino);

  /* the prediction is gone, the ground truth stays */
  json_t *doc = read_json(d.data_path, "train/json/train/a.json");
  json_t *anns = json_object_get(doc, "annotations");
  assert_int_equal(json_array_size(anns), 1);
  assert_string_equal(json_string_value(json_object_get(json_array_get(anns, 0), "id")), "gt");
  json_decref(doc);
  doc = read_json(d.data_path, "validation/json/validation/c.json");
  assert_int_equal(json_array_size(json_object_get(doc, "annotations")), 0);
  json_decref(doc);
  /* an item without a document gets an empty one naming it */
  doc = read_json(d.data_path, "train/json/train/sub/b.json");
  assert_string_equal(json_string_value(json_object_get(doc, "filename")), "/train/sub/b.png");
  assert_int_equal(json_array_size(json_object_get(doc, "annotations")), 0);
  json_decref(doc);
  rt_fs_path(copy, NULL, "%s/test", d.data_path);
  assert_false(rt_fs_exists(copy));

  /* the dataset's own documents are untouched */
  doc = read_json(f->ds.root, "json/train/a.json");
  assert_int_equal(json_array_size(json_object_get(doc, "annotations")), 2);
  json_decref(doc);

  /* a second run in the same second gets its own folder; remove takes only its own */
  rt_prepared_data d2;
  assert_int_equal(rt_prepare_data(&f->paths, m, &f->ds, &d2, &err), 0);
  assert_string_not_equal(d.root, d2.root);
  assert_int_equal(rt_prepared_data_remove(&d2, &err), 0);
  assert_false(rt_fs_exists(d2.root));
  assert_true(rt_fs_is_dir(d.root));
  assert_int_equal(rt_prepared_data_remove(&d, &err), 0);
  rt_fs_path(want, NULL, "%s/model_data/%s_net", f->dir, rt_model_id(m));
  assert_false(rt_fs_exists(want));
  rt_prepared_data_free(&d);
  rt_prepared_data_free(&d2);
  json_decref(m);
}

static void test_model_subsets_with_filters_as_objects_or_strings(void **state) {
  fixture *f = *state;
  json_t *m = model_with(
      "{\"fit\": {\"filter\": {\"$and\": [{\"dir\": \"/train\"}, {\"annotated\": true}]}},"
      " \"holdout\": \"{\\\"filter\\\": {\\\"dir\\\": \\\"/test\\\"}}\"}");
  rt_prepared_data d;
  rt_error err;
  assert_int_equal(rt_prepare_data(&f->paths, m, &f->ds, &d, &err), 0);
  assert_int_equal(json_integer_value(json_object_get(d.counts, "fit")),
                   1); /* a.png: b.png has no ground truth */
  assert_int_equal(json_integer_value(json_object_get(d.counts, "holdout")), 1);
  char p[RT_PATH_MAX];
  rt_fs_path(p, NULL, "%s/holdout/items/test/d.png", d.data_path);
  assert_true(rt_fs_exists(p));
  rt_fs_path(p, NULL, "%s/train", d.data_path);
  assert_false(rt_fs_exists(p));
  rt_prepared_data_free(&d);
  json_decref(m);
}

static void test_empty_subset_names_it_and_its_filter(void **state) {
  fixture *f = *state;
  json_t *m = model_with(
      "{\"train\": {\"filter\": {\"$and\": [{\"dir\": \"/train\"}]}},"
      " \"validation\": {\"filter\": {\"$and\": [{\"dir\": \"/holdout\"}]}}}");
  rt_prepared_data d;
  rt_error err;
  assert_int_equal(rt_prepare_data(&f->paths, m, &f->ds, &d, &err), -1);
  assert_non_null(strstr(err.msg, "subset 'validation' selects no items of dataset 'pets'"));
  assert_non_null(strstr(err.msg, "{\"filter\":{\"$and\":[{\"dir\":\"/holdout\"}]}}"));
  rt_prepared_data_free(&d);
  json_decref(m);
}

static void test_bad_subset_name_or_filter_is_an_error(void **state) {
  fixture *f = *state;
  rt_prepared_data d;
  rt_error err;
  json_t *m = model_with("{\"../up\": {\"filter\": {\"dir\": \"/train\"}}}");
  assert_int_equal(rt_prepare_data(&f->paths, m, &f->ds, &d, &err), -1);
  assert_non_null(strstr(err.msg, "subset name"));
  rt_prepared_data_free(&d);
  json_decref(m);
  m = model_with("{\"train\": 42}");
  assert_int_equal(rt_prepare_data(&f->paths, m, &f->ds, &d, &err), -1);
  assert_non_null(strstr(err.msg, "metadata.system.subsets.train"));
  rt_prepared_data_free(&d);
  json_decref(m);
}

/* SIGINT during the copy: it stops, names the signal, and leaves no folder.
 * The stop request cannot be withdrawn, so this test runs last. */
static void test_interrupted_copy_removes_its_folder(void **state) {
  fixture *f = *state;
  json_t *m = model_with(NULL);
  rt_prepared_data d;
  rt_error err;
  rt_signals_install();
  raise(SIGINT);
  assert_int_equal(rt_prepare_data(&f->paths, m, &f->ds, &d, &err), -1);
  assert_non_null(strstr(err.msg, "stopped by SIGINT while preparing the data"));
  assert_string_equal(d.root, "");
  char dir[RT_PATH_MAX];
  rt_fs_path(dir, NULL, "%s/model_data/%s_net", f->dir, rt_model_id(m));
  assert_false(rt_fs_exists(dir));
  rt_prepared_data_free(&d);
  json_decref(m);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_default_subsets_copy_items_and_ground_truth_only, setup, teardown),
      cmocka_unit_test_setup_teardown(test_model_subsets_with_filters_as_objects_or_strings, setup, teardown),
      cmocka_unit_test_setup_teardown(test_empty_subset_names_it_and_its_filter, setup, teardown),
      cmocka_unit_test_setup_teardown(test_bad_subset_name_or_filter_is_an_error, setup, teardown),
      cmocka_unit_test_setup_teardown(test_interrupted_copy_removes_its_folder, setup, teardown), /* last */
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
