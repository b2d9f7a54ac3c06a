/* Tests for runtime/dataset.c and runtime/dataset_filter.c on a small
 * dataset written here: real PNG files, annotation JSON, every filter. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "dataset.h"
#include "runtime/tmpdir.h"

/* A valid 1x1 grey PNG. */
static const unsigned char PNG[] = {
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52, 0x00,
    0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00, 0x00, 0x00, 0x00, 0x3a, 0x7e, 0x9b, 0x55, 0x00,
    0x00, 0x00, 0x0a, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x68, 0x00, 0x00, 0x00, 0x82, 0x00, 0x81,
    0x4c, 0x17, 0xd7, 0xdf, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82};

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

static void put_png(const char *root, const char *rel) {
  char p[RT_PATH_MAX];
  rt_error err;
  put(root, rel, "");
  rt_fs_path(p, NULL, "%s/%s", root, rel);
  assert_int_equal(rt_fs_write_atomic(p, PNG, sizeof PNG, &err), 0);
}

#define GT(label) "{\"type\": \"class\", \"label\": \"" label "\", \"metadata\": {\"system\": {}}}"
#define PRED(label)                           \
  "{\"type\": \"class\", \"label\": \"" label \
  "\", \"metadata\": {\"user\": {\"model\": {\"name\": \"m\", \"confidence\": 0.9}}}}"

static int setup(void **state) {
  static fixture f;
  rt_error err;
  if (tmpdir_make(f.dir) < 0 || rt_paths_init(&f.paths, f.dir, &err) < 0) return -1;
  char root[RT_PATH_MAX];
  rt_fs_path(root, NULL, "%s/datasets/pets", f.dir);
  put(root, "dataset.json",
      "{\"id\": \"ds-pets\", \"name\": \"pets\", \"labels\": [{\"tag\": \"cat\", \"color\": \"#ff0000\"},"
      " {\"tag\": \"dog\", \"color\": \"#00ff00\"}]}");
  put_png(root, "items/train/00001.png");
  put_png(root, "items/train/00002.jpg");
  put_png(root, "items/train/sub/00003.png");
  put_png(root, "items/validation/00004.png");
  put_png(root, "items/test/00005.JPG");
  put_png(root, "items/training/00006.png");
  put(root, "items/train/.DS_Store", "junk");
  put(root, "items/notes.txt", "hello");
  put(root, "json/train/00001.json", "{\"id\": \"i1\", \"annotations\": [" GT("cat") "]}");
  put(root, "json/train/00002.json", "{\"_id\": \"i2\", \"annotations\": [" GT("dog") ", " PRED("cat") "]}");
  put(root, "json/train/sub/00003.json", "{\"id\": \"i3\", \"annotations\": [" PRED("cat") "]}");
  put(root, "json/validation/00004.json", "{\"id\": \"i4\", \"annotations\": []}");
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

/* Lists with the given filter texts and compares the remote paths with
 * want, a space-separated list. */
static void expect_items(fixture *f, const char *const *texts, size_t n, const char *want) {
  rt_filter *filters[8] = {0};
  rt_error err;
  for (size_t i = 0; i < n; i++) {
    filters[i] = rt_filter_parse(texts[i], &err);
    if (!filters[i]) fail_msg("filter %s: %s", texts[i], err.msg);
  }
  rt_dataset_items items = {0};
  assert_int_equal(rt_dataset_list(&f->ds, (const rt_filter *const *)filters, n, &items, &err), 0);
  char got[1024] = "";
  for (size_t i = 0; i < items.n; i++) {
    if (i) strcat(got, " ");
    strcat(got, items.v[i].remote_path);
  }
  assert_string_equal(got, want);
  rt_dataset_items_free(&items);
  for (size_t i = 0; i < n; i++) rt_filter_free(filters[i]);
}

static void test_list_all_items_sorted_with_their_paths(void **state) {
  fixture *f = *state;
  rt_dataset_items items = {0};
  rt_error err;
  assert_int_equal(rt_dataset_list(&f->ds, NULL, 0, &items, &err), 0);
  const char *want[] = {"/notes.txt",           "/test/00005.JPG",      "/train/00001.png",
                        "/train/00002.jpg",     "/train/sub/00003.png", "/training/00006.png",
                        "/validation/00004.png"};
  assert_int_equal(items.n, 7);
  for (size_t i = 0; i < items.n; i++) assert_string_equal(items.v[i].remote_path, want[i]);
  const rt_dataset_item *it = &items.v[2];
  char p[RT_PATH_MAX];
  rt_fs_path(p, NULL, "%s/datasets/pets/items/train/00001.png", f->dir);
  assert_string_equal(it->local_path, p);
  rt_fs_path(p, NULL, "%s/datasets/pets/json/train/00001.json", f->dir);
  assert_string_equal(it->json_path, p);
  assert_string_equal(it->mimetype, "image/png");
  assert_int_equal(it->size, sizeof PNG);
  assert_string_equal(items.v[1].mimetype, "image/jpeg");
  assert_string_equal(items.v[0].mimetype, "text/plain");
  rt_fs_path(p, NULL, "%s/datasets/pets/json/notes.json", f->dir);
  assert_string_equal(items.v[0].json_path, p);
  rt_dataset_items_free(&items);
  assert_string_equal(rt_dataset_id(&f->ds), "ds-pets");
  assert_string_equal(rt_dataset_name(&f->ds), "pets");
}

static void test_dir_filter_is_a_folder_prefix(void **state) {
  fixture *f = *state;
  const char *train[] = {"dir=/train"};
  expect_items(f, train, 1, "/train/00001.png /train/00002.jpg /train/sub/00003.png");
  const char *slash[] = {"dir=/train/"};
  expect_items(f, slash, 1, "/train/00001.png /train/00002.jpg /train/sub/00003.png");
  const char *sub[] = {"dir=/train/sub"};
  expect_items(f, sub, 1, "/train/sub/00003.png");
  const char *root[] = {"dir=/"};
  expect_items(
      f, root, 1,
      "/notes.txt /test/00005.JPG /train/00001.png /train/00002.jpg /train/sub/00003.png /training/00006.png "
      "/validation/00004.png");
}

static void test_name_filter_globs_the_file_name(void **state) {
  fixture *f = *state;
  const char *png[] = {"name=*.png"};
  expect_items(f, png, 1, "/train/00001.png /train/sub/00003.png /training/00006.png /validation/00004.png");
  const char *jpg[] = {"name=*.jpg"};
  expect_items(f, jpg, 1, "/train/00002.jpg");
  const char *one[] = {"name=0000[12].*"};
  expect_items(f, one, 1, "/train/00001.png /train/00002.jpg");
}

static void test_label_and_annotated_use_ground_truth_only(void **state) {
  fixture *f = *state;
  const char *cat[] = {"label=cat"};
  expect_items(f, cat, 1, "/train/00001.png");
  const char *dog[] = {"label=dog"};
  expect_items(f, dog, 1, "/train/00002.jpg");
  const char *yes[] = {"annotated=true"};
  expect_items(f, yes, 1, "/train/00001.png /train/00002.jpg");
  const char *no[] = {"annotated=false"};
  expect_items(f, no, 1,
               "/notes.txt /test/00005.JPG /train/sub/00003.png /training/00006.png /validation/00004.png");
}

static void test_filters_are_anded(void **state) {
  fixture *f = *state;
  const char *both[] = {"dir=/train", "name=*.png"};
  expect_items(f, both, 2, "/train/00001.png /train/sub/00003.png");
  const char *none[] = {"dir=/train", "label=dog", "name=*.png"};
  expect_items(f, none, 3, "");
}

static void test_dtlpy_json_filters(void **state) {
  fixture *f = *state;
  const char *platform[] = {
      "{\"filter\": {\"$and\": [{\"hidden\": false}, {\"type\": \"file\"}, {\"dir\": \"/train\"}]},"
      " \"page\": 0, \"pageSize\": 1000, \"resource\": \"items\"}"};
  expect_items(f, platform, 1, "/train/00001.png /train/00002.jpg /train/sub/00003.png");
  const char *either[] = {"{\"filter\": {\"$or\": [{\"dir\": \"/validation\"}, {\"dir\": \"/test\"}]}}"};
  expect_items(f, either, 1, "/test/00005.JPG /validation/00004.png");
  const char *in[] = {"{\"label\": {\"$in\": [\"cat\", \"dog\"]}}"};
  expect_items(f, in, 1, "/train/00001.png /train/00002.jpg");
  const char *ne[] = {"{\"$and\": [{\"dir\": \"/train\"}, {\"name\": {\"$ne\": \"*.png\"}}]}"};
  expect_items(f, ne, 1, "/train/00002.jpg");
  const char *glob[] = {"{\"filename\": \"/train/**\", \"annotated\": true}"};
  expect_items(f, glob, 1, "/train/00001.png /train/00002.jpg");
  const char *hidden[] = {"{\"hidden\": true}"};
  expect_items(f, hidden, 1, "");

  /* A subset as the platform stores it: a string holding the JSON. */
  rt_error err;
  json_t *subset = json_string("{\"filter\": {\"$and\": [{\"dir\": \"/validation\"}]}}");
  rt_filter *flt = rt_filter_from_json(subset, "model.json subsets.validation", &err);
  assert_non_null(flt);
  assert_true(rt_filter_match(flt, "/validation/1.png", NULL));
  assert_false(rt_filter_match(flt, "/train/1.png", NULL));
  assert_false(rt_filter_needs_json(flt));
  rt_filter_free(flt);
  json_decref(subset);
}

static void test_bad_filters_are_named(void **state) {
  const char *bad[][2] = {
      {"dir", "filter 'dir' must be KEY=VALUE"},
      {"color=red", "filter 'color=red' must be KEY=VALUE"},
      {"=x", "filter '=x' must be KEY=VALUE"},
      {"annotated=maybe", "filter 'annotated=maybe': annotated takes true or false"},
      {"dir=train", "dir 'train' must start with '/'"},
      {"name=", "name takes a non-empty string"},
      {"{\"dir\": ", "invalid JSON"},
      {"{\"filter\": {\"size\": 3}}", "field 'size' is not supported"},
      {"{\"dir\": {\"$glob\": \"/a\"}}", "operator '$glob' on dir is not supported"},
      {"{\"filter\": {}, \"join\": {}}", "\"join\" (filters on annotations) is not supported"},
      {"{\"resource\": \"annotations\"}", "only item filters are supported"},
      {"{\"$and\": {\"dir\": \"/a\"}}", "$and takes a list"},
      {"{\"annotated\": \"yes\"}", "annotated takes true or false"},
  };
  rt_error err;
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    err.msg[0] = '\0';
    rt_filter *f = rt_filter_parse(bad[i][0], &err);
    if (f) fail_msg("filter %s parsed", bad[i][0]);
    if (!strstr(err.msg, bad[i][1])) fail_msg("error '%s' lacks '%s'", err.msg, bad[i][1]);
  }
}

static void test_an_item_with_a_corrupt_document_is_kept_for_the_caller_to_report(void **state) {
  fixture *f = *state;
  rt_error err;
  rt_filter *label = rt_filter_parse("label=cat", &err);
  rt_dataset_items items = {0};
  assert_int_equal(rt_dataset_list(&f->ds, (const rt_filter *const *)&label, 1, &items, &err), 0);
  size_t cats = items.n;
  for (size_t i = 0; i < items.n; i++) assert_string_not_equal(items.v[i].remote_path, "/validation/00004.png");
  rt_dataset_items_free(&items);
  put(f->ds.root, "json/validation/00004.json", "{\"annotations\": [");
  assert_int_equal(rt_dataset_list(&f->ds, (const rt_filter *const *)&label, 1, &items, &err), 0);
  assert_int_equal(items.n, cats + 1);
  int found = 0;
  for (size_t i = 0; i < items.n; i++) found |= !strcmp(items.v[i].remote_path, "/validation/00004.png");
  assert_true(found);
  rt_dataset_items_free(&items);
  rt_filter_free(label);
  /* Listing without annotation filters does not read it. */
  assert_int_equal(rt_dataset_list(&f->ds, NULL, 0, &items, &err), 0);
  assert_int_equal(items.n, 7);
  rt_dataset_items_free(&items);
}

static void test_open_by_path_and_errors(void **state) {
  fixture *f = *state;
  rt_dataset ds;
  rt_error err;
  char p[RT_PATH_MAX];
  rt_fs_path(p, NULL, "%s/datasets/pets/", f->dir);
  assert_int_equal(rt_dataset_open(&ds, &f->paths, p, &err), 0);
  assert_string_equal(rt_dataset_id(&ds), "ds-pets");
  rt_dataset_close(&ds);
  /* Any folder with the layout; no dataset.json needed. */
  rt_fs_path(p, NULL, "%s/export/items/a.png", f->dir);
  assert_int_equal(tmpdir_put(p, "x"), 0);
  rt_fs_path(p, NULL, "%s/export", f->dir);
  assert_int_equal(rt_dataset_open(&ds, &f->paths, p, &err), 0);
  assert_null(rt_dataset_id(&ds));
  assert_string_equal(rt_dataset_name(&ds), "export");
  rt_dataset_close(&ds);

  assert_int_equal(rt_dataset_open(&ds, &f->paths, "missing", &err), -1);
  assert_non_null(strstr(err.msg, "dataset 'missing' not found"));
  rt_fs_path(p, NULL, "%s/datasets", f->dir);
  assert_int_equal(rt_dataset_open(&ds, &f->paths, p, &err), -1);
  assert_non_null(strstr(err.msg, "has no items/ folder"));
  rt_fs_path(p, NULL, "%s/bad/items/a.png", f->dir);
  assert_int_equal(tmpdir_put(p, "x"), 0);
  rt_fs_path(p, NULL, "%s/bad/dataset.json", f->dir);
  assert_int_equal(tmpdir_put(p, "[1, 2"), 0);
  rt_fs_path(p, NULL, "%s/bad", f->dir);
  assert_int_equal(rt_dataset_open(&ds, &f->paths, p, &err), -1);
  assert_non_null(strstr(err.msg, "bad/dataset.json: invalid JSON"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_list_all_items_sorted_with_their_paths, setup, teardown),
      cmocka_unit_test_setup_teardown(test_dir_filter_is_a_folder_prefix, setup, teardown),
      cmocka_unit_test_setup_teardown(test_name_filter_globs_the_file_name, setup, teardown),
      cmocka_unit_test_setup_teardown(test_label_and_annotated_use_ground_truth_only, setup, teardown),
      cmocka_unit_test_setup_teardown(test_filters_are_anded, setup, teardown),
      cmocka_unit_test_setup_teardown(test_dtlpy_json_filters, setup, teardown),
      cmocka_unit_test(test_bad_filters_are_named),
      cmocka_unit_test_setup_teardown(test_an_item_with_a_corrupt_document_is_kept_for_the_caller_to_report, setup, teardown),
      cmocka_unit_test_setup_teardown(test_open_by_path_and_errors, setup, teardown),
  };
  return cmocka_run_group_tests_name("dataset", tests, NULL, NULL);
}
