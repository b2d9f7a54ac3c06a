/* Tests for runtime/save_to_model.c and runtime/load_from_model.c on a
 * file store: versions, working copies, links, damage and concurrency. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>
#include <sys/wait.h>
#include <unistd.h>

#include "artifact_archive.h"
#include "load_from_model.h"
#include "model_store.h"
#include "save_to_model.h"
#include "runtime/tmpdir.h"

typedef struct fixture {
  char dir[RT_PATH_MAX];
  rt_paths paths;
  rt_store store;
} fixture;

static int setup(void **state) {
  static fixture f;
  rt_error err;
  json_t *m;
  rt_model_defaults d = {.name = "net"};
  if (tmpdir_make(f.dir) < 0 || rt_paths_init(&f.paths, f.dir, &err) < 0 ||
      rt_store_open(&f.store, NULL, &f.paths, &err) < 0 || rt_models_create(&f.store, &d, &m, &err) < 0)
    return -1;
  json_decref(m);
  *state = &f;
  return 0;
}

static int teardown(void **state) {
  tmpdir_remove(((fixture *)*state)->dir);
  return 0;
}

/* Writes a folder under the fixture as save() would, with one file. */
static const char *saved_folder(fixture *f, const char *name, const char *weights) {
  static char dir[RT_PATH_MAX];
  char p[RT_PATH_MAX];
  rt_fs_path(dir, NULL, "%s/out-%s", f->dir, name);
  rt_fs_path(p, NULL, "%s/weights.txt", dir);
  assert_int_equal(tmpdir_put(p, weights), 0);
  rt_fs_path(p, NULL, "%s/sub/config.json", dir);
  assert_int_equal(tmpdir_put(p, "{}"), 0);
  return dir;
}

static json_t *get_model(fixture *f) {
  json_t *m;
  rt_error err;
  assert_int_equal(rt_models_get(&f->store, "net", &m, &err), 0);
  return m;
}

static char *working_file(fixture *f, const char *rel) {
  char p[RT_PATH_MAX];
  rt_fs_path(p, NULL, "%s/models/net/%s", f->dir, rel);
  return tmpdir_get(p);
}

static void test_save_makes_versions_in_the_store(void **state) {
  fixture *f = *state;
  rt_error err;
  rt_saved_version v;
  const char *src = saved_folder(f, "a", "w1");
  assert_int_equal(rt_save_to_model(&f->store, &f->paths, "net", src, &v, &err), 0);
  assert_int_equal(v.version, 1);
  assert_true(rt_sha256_is_hex(v.sha256));
  assert_true(v.size > 0);
  assert_int_equal(rt_save_to_model(&f->store, &f->paths, "net", saved_folder(f, "b", "w2"), &v, &err), 0);
  assert_int_equal(v.version, 2);

  char p[RT_PATH_MAX], hex[RT_SHA256_HEX];
  rt_fs_path(p, NULL, "%s/store/models/net/artifacts/v2.tar.gz", f->dir);
  assert_int_equal(rt_sha256_file(p, hex, &err), 0);
  assert_string_equal(hex, v.sha256);
  json_t *m = get_model(f);
  assert_int_equal(rt_model_latest_version(m), 2);
  assert_int_equal(json_integer_value(json_object_get(rt_model_find_version(m, 2), "size")), v.size);
  json_decref(m);
  rt_fs_path(p, NULL, "%s/weights.txt", src);
  assert_true(rt_fs_exists(p)); /* the source folder is left alone */
  rt_fs_path(p, NULL, "%s/tmp", f->dir);
  assert_int_equal(tmpdir_count_names(p, "tmp-"), 0);
}

static void test_save_to_a_missing_model_or_folder_fails(void **state) {
  fixture *f = *state;
  rt_error err;
  rt_saved_version v;
  assert_int_equal(rt_save_to_model(&f->store, &f->paths, "nobody", saved_folder(f, "a", "w"), &v, &err), -1);
  assert_non_null(strstr(err.msg, "model 'nobody' not found"));
  assert_int_equal(rt_save_to_model(&f->store, &f->paths, "net", "/nonexistent/folder", &v, &err), -1);
  assert_non_null(strstr(err.msg, "/nonexistent/folder is not a folder"));
}

static void test_load_latest_then_skip_then_overwrite(void **state) {
  fixture *f = *state;
  rt_error err;
  rt_saved_version v;
  rt_loaded_model got;
  assert_int_equal(rt_save_to_model(&f->store, &f->paths, "net", saved_folder(f, "a", "w1"), &v, &err), 0);
  assert_int_equal(rt_save_to_model(&f->store, &f->paths, "net", saved_folder(f, "b", "w2"), &v, &err), 0);
  json_t *m = get_model(f);
  assert_int_equal(rt_load_from_model(&f->store, &f->paths, m, 0, 0, &got, &err), 0);
  assert_int_equal(got.version, 2);
  assert_int_equal(got.fetched, 1);
  assert_string_equal(got.sha256, v.sha256);
  char *w = working_file(f, "weights.txt");
  assert_string_equal(w, "w2");
  free(w);

  /* Already there: nothing is fetched, and local changes stay. */
  char p[RT_PATH_MAX];
  rt_fs_path(p, NULL, "%s/cache.bin", got.path);
  assert_int_equal(tmpdir_put(p, "adapter cache"), 0);
  assert_int_equal(rt_load_from_model(&f->store, &f->paths, m, 0, 0, &got, &err), 0);
  assert_int_equal(got.fetched, 0);
  assert_true(rt_fs_exists(p));
  /* overwrite rebuilds it from the archive. */
  assert_int_equal(rt_load_from_model(&f->store, &f->paths, m, 0, 1, &got, &err), 0);
  assert_int_equal(got.fetched, 1);
  assert_false(rt_fs_exists(p));

  /* An older version replaces the whole tree. */
  assert_int_equal(rt_load_from_model(&f->store, &f->paths, m, 1, 0, &got, &err), 0);
  assert_int_equal(got.version, 1);
  w = working_file(f, "weights.txt");
  assert_string_equal(w, "w1");
  free(w);
  rt_fs_path(p, NULL, "%s/models", f->dir);
  assert_int_equal(tmpdir_count_names(p, "tmp-"), 0);

  assert_int_equal(rt_load_from_model(&f->store, &f->paths, m, 7, 0, &got, &err), -1);
  assert_non_null(strstr(err.msg, "model 'net' has no version v7 (the latest is v2)"));
  json_decref(m);
}

static void test_model_without_versions_gives_an_empty_folder(void **state) {
  fixture *f = *state;
  rt_error err;
  rt_loaded_model got;
  json_t *m = get_model(f);
  assert_int_equal(rt_load_from_model(&f->store, &f->paths, m, 0, 0, &got, &err), 0);
  assert_int_equal(got.version, 0);
  assert_string_equal(got.sha256, "");
  assert_true(rt_fs_is_dir(got.path));
  rt_strlist l = {0};
  assert_int_equal(rt_fs_list_tree(got.path, &l, &err), 0);
  assert_int_equal(l.n, 0);
  rt_strlist_free(&l);
  assert_int_equal(rt_load_from_model(&f->store, &f->paths, m, 1, 0, &got, &err), -1);
  assert_non_null(strstr(err.msg, "has no version v1 (it was never saved)"));
  json_decref(m);
}

static void test_damaged_archive_keeps_the_old_working_copy(void **state) {
  fixture *f = *state;
  rt_error err;
  rt_saved_version v;
  rt_loaded_model got;
  assert_int_equal(rt_save_to_model(&f->store, &f->paths, "net", saved_folder(f, "a", "w1"), &v, &err), 0);
  assert_int_equal(rt_save_to_model(&f->store, &f->paths, "net", saved_folder(f, "b", "w2"), &v, &err), 0);
  json_t *m = get_model(f);
  assert_int_equal(rt_load_from_model(&f->store, &f->paths, m, 1, 0, &got, &err), 0);
  /* v2 is corrupted in the store after it was recorded. */
  char p[RT_PATH_MAX];
  rt_fs_path(p, NULL, "%s/store/models/net/artifacts/v2.tar.gz", f->dir);
  assert_int_equal(tmpdir_put(p, "garbage"), 0);
  assert_int_equal(rt_load_from_model(&f->store, &f->paths, m, 2, 0, &got, &err), -1);
  assert_non_null(strstr(err.msg, "v2.tar.gz is damaged: sha256 is"));
  char *w = working_file(f, "weights.txt");
  assert_string_equal(w, "w1");
  free(w);
  rt_fs_path(p, NULL, "%s/models", f->dir);
  assert_int_equal(tmpdir_count_names(p, "tmp-"), 0);
  json_decref(m);
}

/* Records a hostile archive as version 1, with its true sha256. */
static int record_hostile(json_t *m, void *ud, rt_error *err) {
  return rt_model_add_version(m, 1, ud, 100, err);
}

static void test_hostile_archive_fails_midway_without_a_trace(void **state) {
  fixture *f = *state;
  rt_error err;
  rt_loaded_model got;
  char p[RT_PATH_MAX], hex[RT_SHA256_HEX];
  /* A working copy from before. */
  rt_fs_path(p, NULL, "%s/models/net/old.txt", f->dir);
  assert_int_equal(tmpdir_put(p, "old"), 0);
  /* Good first entry, then one that escapes. */
  rt_fs_path(p, NULL, "%s/store/models/net/artifacts", f->dir);
  assert_int_equal(rt_fs_mkdir_p(p, &err), 0);
  rt_fs_path(p, NULL, "%s/store/models/net/artifacts/v1.tar.gz", f->dir);
  struct archive *a = archive_write_new();
  archive_write_add_filter_gzip(a);
  archive_write_set_format_pax_restricted(a);
  assert_int_equal(archive_write_open_filename(a, p), ARCHIVE_OK);
  const char *names[] = {"good.txt", "../evil.txt"};
  for (int i = 0; i < 2; i++) {
    struct archive_entry *e = archive_entry_new();
    archive_entry_set_pathname(e, names[i]);
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_size(e, 1);
    archive_write_header(a, e);
    archive_write_data(a, "x", 1);
    archive_entry_free(e);
  }
  archive_write_close(a);
  archive_write_free(a);
  assert_int_equal(rt_sha256_file(p, hex, &err), 0);
  json_t *m;
  assert_int_equal(rt_models_update(&f->store, "net", record_hostile, hex, &m, &err), 0);
  assert_int_equal(rt_load_from_model(&f->store, &f->paths, m, 0, 1, &got, &err), -1);
  assert_non_null(strstr(err.msg, "'../evil.txt' has a '..' component"));
  char *old = working_file(f, "old.txt");
  assert_string_equal(old, "old");
  free(old);
  rt_fs_path(p, NULL, "%s/models", f->dir);
  assert_int_equal(tmpdir_count_names(p, "good.txt"), 0);
  assert_int_equal(tmpdir_count_names(p, "tmp-"), 0);
  assert_int_equal(tmpdir_count_names(f->dir, "evil"), 0);
  json_decref(m);
}

typedef struct link_spec {
  const char *url, *filename, *sha256, *type;
} link_spec;

static int add_link(json_t *m, void *ud, rt_error *err) {
  const link_spec *l = ud;
  json_t *a = json_pack("{s:s,s:s}", "type", l->type, "url", l->url);
  if (l->filename) json_object_set_new(a, "filename", json_string(l->filename));
  if (l->sha256) json_object_set_new(a, "sha256", json_string(l->sha256));
  json_array_append_new(json_object_get(m, "artifacts"), a);
  return 0;
}

static void test_link_artifacts_are_fetched(void **state) {
  fixture *f = *state;
  rt_error err;
  rt_loaded_model got;
  rt_saved_version v;
  char src[RT_PATH_MAX], url[RT_PATH_MAX], hex[RT_SHA256_HEX];
  rt_fs_path(src, NULL, "%s/pretrained/backbone.bin", f->dir);
  assert_int_equal(tmpdir_put(src, "pretrained weights"), 0);
  assert_int_equal(rt_sha256_file(src, hex, &err), 0);
  rt_fs_path(url, NULL, "file://%s", src);
  link_spec link = {url, NULL, hex, "link"};
  json_t *m;
  assert_int_equal(rt_models_update(&f->store, "net", add_link, &link, &m, &err), 0);
  /* No version yet: the working copy holds just the link. */
  assert_int_equal(rt_load_from_model(&f->store, &f->paths, m, 0, 0, &got, &err), 0);
  char *w = working_file(f, "backbone.bin");
  assert_string_equal(w, "pretrained weights");
  free(w);
  json_decref(m);
  /* With a version: both, and the link survives save_to_model. */
  assert_int_equal(rt_save_to_model(&f->store, &f->paths, "net", saved_folder(f, "a", "w1"), &v, &err), 0);
  m = get_model(f);
  assert_int_equal(rt_load_from_model(&f->store, &f->paths, m, 0, 0, &got, &err), 0);
  assert_int_equal(got.fetched, 1);
  w = working_file(f, "backbone.bin");
  assert_string_equal(w, "pretrained weights");
  free(w);
  w = working_file(f, "weights.txt");
  assert_string_equal(w, "w1");
  free(w);
  json_decref(m);
}

static void test_bad_link_artifacts_are_errors(void **state) {
  fixture *f = *state;
  rt_error err;
  rt_loaded_model got;
  json_t *m;
  const char *zeros = "0000000000000000000000000000000000000000000000000000000000000000";
  char src[RT_PATH_MAX], url[RT_PATH_MAX];
  rt_fs_path(src, NULL, "%s/w.bin", f->dir);
  assert_int_equal(tmpdir_put(src, "x"), 0);
  rt_fs_path(url, NULL, "file://%s", src);
  link_spec wrong_sha = {url, NULL, zeros, "link"};
  assert_int_equal(rt_models_update(&f->store, "net", add_link, &wrong_sha, &m, &err), 0);
  assert_int_equal(rt_load_from_model(&f->store, &f->paths, m, 0, 0, &got, &err), -1);
  assert_non_null(strstr(err.msg, "sha256 mismatch"));
  json_decref(m);

  json_t *bare =
      json_pack("{s:s,s:[{s:s,s:s}]}", "name", "net", "artifacts", "type", "link", "url", "ftp://h/w.bin");
  assert_int_equal(rt_load_from_model(&f->store, &f->paths, bare, 0, 0, &got, &err), -1);
  assert_non_null(strstr(err.msg, "ftp://h/w.bin: unsupported URL"));
  json_decref(bare);
  bare = json_pack("{s:s,s:[{s:s,s:s,s:s}]}", "name", "net", "artifacts", "type", "link", "url", url,
                   "filename", "../up.bin");
  assert_int_equal(rt_load_from_model(&f->store, &f->paths, bare, 0, 0, &got, &err), -1);
  assert_non_null(strstr(err.msg, "filename '../up.bin'"));
  json_decref(bare);
  bare = json_pack("{s:s,s:[{s:s,s:s}]}", "name", "net", "artifacts", "type", "item", "itemId", "abc");
  assert_int_equal(rt_load_from_model(&f->store, &f->paths, bare, 0, 0, &got, &err), -1);
  assert_non_null(strstr(err.msg, "artifacts[0] has type 'item', which dlrun cannot fetch"));
  json_decref(bare);
}

static void test_concurrent_saves_get_distinct_versions(void **state) {
  fixture *f = *state;
  rt_error err;
  enum { PROCS = 3 };
  const char *src[PROCS];
  char copies[PROCS][RT_PATH_MAX];
  for (int i = 0; i < PROCS; i++) {
    char tag[16];
    snprintf(tag, sizeof tag, "p%d", i);
    src[i] = strcpy(copies[i], saved_folder(f, tag, tag));
  }
  pid_t pids[PROCS];
  for (int i = 0; i < PROCS; i++) {
    pids[i] = fork();
    assert_true(pids[i] >= 0);
    if (pids[i] == 0) {
      rt_saved_version v;
      _exit(rt_save_to_model(&f->store, &f->paths, "net", src[i], &v, &err) == 0 ? 0 : 1);
    }
  }
  for (int i = 0; i < PROCS; i++) {
    int status;
    assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  json_t *m = get_model(f);
  assert_int_equal(json_array_size(json_object_get(m, "versions")), PROCS);
  assert_int_equal(rt_model_latest_version(m), PROCS);
  /* Every recorded version's archive is the one its sha256 names. */
  for (int v = 1; v <= PROCS; v++) {
    char p[RT_PATH_MAX], hex[RT_SHA256_HEX];
    rt_fs_path(p, NULL, "%s/store/models/net/artifacts/v%d.tar.gz", f->dir, v);
    assert_int_equal(rt_sha256_file(p, hex, &err), 0);
    assert_string_equal(hex, json_string_value(json_object_get(rt_model_find_version(m, v), "sha256")));
  }
  json_decref(m);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_save_makes_versions_in_the_store, setup, teardown),
      cmocka_unit_test_setup_teardown(test_save_to_a_missing_model_or_folder_fails, setup, teardown),
      cmocka_unit_test_setup_teardown(test_load_latest_then_skip_then_overwrite, setup, teardown),
      cmocka_unit_test_setup_teardown(test_model_without_versions_gives_an_empty_folder, setup, teardown),
      cmocka_unit_test_setup_teardown(test_damaged_archive_keeps_the_old_working_copy, setup, teardown),
      cmocka_unit_test_setup_teardown(test_hostile_archive_fails_midway_without_a_trace, setup, teardown),
      cmocka_unit_test_setup_teardown(test_link_artifacts_are_fetched, setup, teardown),
      cmocka_unit_test_setup_teardown(test_bad_link_artifacts_are_errors, setup, teardown),
      cmocka_unit_test_setup_teardown(test_concurrent_saves_get_distinct_versions, setup, teardown),
  };
  return cmocka_run_group_tests_name("save_load", tests, NULL, NULL);
}
