/* Tests for runtime/model_store.c and the file side of store_backend.c:
 * models in a real folder store, including concurrent updates. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/wait.h>
#include <unistd.h>

#include "model_store.h"
#include "runtime/tmpdir.h"

typedef struct fixture {
  char dir[RT_PATH_MAX];
  rt_paths paths;
  rt_store store;
} fixture;

static int setup(void **state) {
  static fixture f;
  rt_error err;
  if (tmpdir_make(f.dir) < 0 || rt_paths_init(&f.paths, f.dir, &err) < 0 ||
      rt_store_open(&f.store, NULL, &f.paths, &err) < 0)
    return -1;
  *state = &f;
  return 0;
}

static int teardown(void **state) {
  tmpdir_remove(((fixture *)*state)->dir);
  return 0;
}

static void test_store_urls(void **state) {
  fixture *f = *state;
  rt_store s;
  rt_error err;
  char want[RT_PATH_MAX], where[RT_PATH_MAX];
  rt_fs_path(want, NULL, "%s/store", f->dir);
  assert_string_equal(f->store.base, want);
  assert_int_equal(f->store.kind, RT_STORE_FILE);
  char url[RT_PATH_MAX];
  rt_fs_path(url, NULL, "file://%s/elsewhere/", f->dir);
  assert_int_equal(rt_store_open(&s, url, &f->paths, &err), 0);
  rt_fs_path(want, NULL, "%s/elsewhere", f->dir);
  assert_string_equal(s.base, want);
  assert_true(rt_fs_is_dir(want));
  assert_int_equal(rt_store_open(&s, "http://127.0.0.1:8080/dl", &f->paths, &err), 0);
  assert_int_equal(s.kind, RT_STORE_HTTP);
  assert_string_equal(s.base, "http://127.0.0.1:8080/dl/");
  assert_int_equal(rt_store_locate(&s, "models/my model/model.json", where, &err), 0);
  assert_string_equal(where, "http://127.0.0.1:8080/dl/models/my%20model/model.json");
  assert_int_equal(rt_store_open(&s, "ftp://host/x", &f->paths, &err), -1);
  assert_non_null(strstr(err.msg, "unsupported store URL 'ftp://host/x'"));
  assert_int_equal(rt_store_open(&s, "file://relative/x", &f->paths, &err), -1);
  assert_non_null(strstr(err.msg, "absolute"));
}

static void test_create_get_list_delete(void **state) {
  fixture *f = *state;
  rt_error err;
  json_t *m;
  assert_int_equal(rt_models_get(&f->store, "ghost", &m, &err), -1);
  assert_null(m);
  assert_non_null(strstr(err.msg, "model 'ghost' not found in the store"));

  rt_model_defaults d = {.name = "beta", .output_type = "box"};
  assert_int_equal(rt_models_create(&f->store, &d, &m, &err), 0);
  json_decref(m);
  d.name = "alpha";
  assert_int_equal(rt_models_create(&f->store, &d, &m, &err), 0);
  json_decref(m);
  assert_int_equal(rt_models_create(&f->store, &d, &m, &err), -1);
  assert_null(m);
  assert_non_null(strstr(err.msg, "model 'alpha' already exists"));

  char path[RT_PATH_MAX];
  rt_fs_path(path, NULL, "%s/store/models/beta/model.json", f->dir);
  char *text = tmpdir_get(path);
  assert_non_null(strstr(text, "\"outputType\": \"box\""));
  free(text);
  assert_int_equal(rt_models_get(&f->store, "beta", &m, &err), 0);
  assert_string_equal(json_string_value(json_object_get(m, "status")), "created");
  json_decref(m);

  rt_strlist names = {0};
  assert_int_equal(rt_models_list(&f->store, &names, &err), 0);
  assert_int_equal(names.n, 2); /* the hidden lock files are not models */
  assert_string_equal(names.v[0], "alpha");
  assert_string_equal(names.v[1], "beta");
  rt_strlist_free(&names);

  assert_int_equal(rt_models_delete(&f->store, "alpha", &err), 0);
  assert_int_equal(rt_models_delete(&f->store, "alpha", &err), -1);
  assert_non_null(strstr(err.msg, "model 'alpha' not found"));
  assert_int_equal(rt_models_list(&f->store, &names, &err), 0);
  assert_int_equal(names.n, 1);
  rt_strlist_free(&names);
}

static void test_get_or_create(void **state) {
  fixture *f = *state;
  rt_error err;
  json_t *m, *again;
  int created;
  json_t *labels = json_pack("[s]", "shirt");
  rt_model_defaults d = {.name = "fresh", .labels = labels, .dataset_id = "ds-9"};
  assert_int_equal(rt_models_get_or_create(&f->store, &d, &m, &created, &err), 0);
  assert_int_equal(created, 1);
  assert_int_equal(rt_models_get_or_create(&f->store, &d, &again, &created, &err), 0);
  assert_int_equal(created, 0);
  assert_string_equal(rt_model_id(m), rt_model_id(again));
  assert_string_equal(json_string_value(json_object_get(again, "datasetId")), "ds-9");
  json_decref(labels);
  json_decref(m);
  json_decref(again);
}

static int bump_counter(json_t *m, void *ud, rt_error *err) {
  json_t *metrics = json_object_get(m, "metrics");
  json_int_t n = json_integer_value(json_object_get(metrics, "counter"));
  return json_object_set_new(metrics, "counter", json_integer(n + 1)) == 0 ? 0 : rt_fail(err, "oom");
}

static int refuse(json_t *m, void *ud, rt_error *err) { return rt_fail(err, "refused on purpose"); }

static void test_updates_from_many_processes_are_not_lost(void **state) {
  fixture *f = *state;
  rt_error err;
  json_t *m;
  rt_model_defaults d = {.name = "shared"};
  assert_int_equal(rt_models_create(&f->store, &d, &m, &err), 0);
  json_decref(m);
  enum { PROCS = 4, EACH = 15 };
  pid_t pids[PROCS];
  for (int p = 0; p < PROCS; p++) {
    pids[p] = fork();
    assert_true(pids[p] >= 0);
    if (pids[p] == 0) {
      for (int i = 0; i < EACH; i++)
        if (rt_models_update(&f->store, "shared", bump_counter, NULL, NULL, &err) < 0) _exit(1);
      _exit(0);
    }
  }
  for (int p = 0; p < PROCS; p++) {
    int status;
    assert_int_equal(waitpid(pids[p], &status, 0), pids[p]);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  assert_int_equal(rt_models_get(&f->store, "shared", &m, &err), 0);
  assert_int_equal(json_integer_value(json_object_get(json_object_get(m, "metrics"), "counter")),
                   PROCS * EACH);
  json_decref(m);
  char dir[RT_PATH_MAX];
  rt_fs_path(dir, NULL, "%s/store/models/shared", f->dir);
  assert_int_equal(tmpdir_count_names(dir, ".tmp-"), 0);
}

static void test_failed_edit_writes_nothing(void **state) {
  fixture *f = *state;
  rt_error err;
  json_t *m;
  rt_model_defaults d = {.name = "steady"};
  assert_int_equal(rt_models_create(&f->store, &d, &m, &err), 0);
  json_decref(m);
  char path[RT_PATH_MAX];
  rt_fs_path(path, NULL, "%s/store/models/steady/model.json", f->dir);
  char *before = tmpdir_get(path);
  assert_int_equal(rt_models_update(&f->store, "steady", refuse, NULL, &m, &err), -1);
  assert_null(m);
  assert_string_equal(err.msg, "refused on purpose");
  char *after = tmpdir_get(path);
  assert_string_equal(before, after);
  free(before);
  free(after);
}

static void test_damaged_or_misplaced_entities_are_errors(void **state) {
  fixture *f = *state;
  rt_error err;
  json_t *m;
  char path[RT_PATH_MAX];
  rt_fs_path(path, NULL, "%s/store/models/broken/model.json", f->dir);
  assert_int_equal(tmpdir_put(path, "{\"name\": \"broken\", "), 0);
  assert_int_equal(rt_models_get(&f->store, "broken", &m, &err), -1);
  assert_non_null(strstr(err.msg, path));
  assert_non_null(strstr(err.msg, "invalid JSON"));
  rt_fs_path(path, NULL, "%s/store/models/moved/model.json", f->dir);
  assert_int_equal(tmpdir_put(path, "{\"name\": \"original\"}"), 0);
  assert_int_equal(rt_models_get(&f->store, "moved", &m, &err), -1);
  assert_non_null(strstr(err.msg, "name 'original' does not match its folder 'moved'"));
  assert_int_equal(rt_models_get(&f->store, "../x", &m, &err), -1);
  assert_non_null(strstr(err.msg, "model name '../x'"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_store_urls, setup, teardown),
      cmocka_unit_test_setup_teardown(test_create_get_list_delete, setup, teardown),
      cmocka_unit_test_setup_teardown(test_get_or_create, setup, teardown),
      cmocka_unit_test_setup_teardown(test_updates_from_many_processes_are_not_lost, setup, teardown),
      cmocka_unit_test_setup_teardown(test_failed_edit_writes_nothing, setup, teardown),
      cmocka_unit_test_setup_teardown(test_damaged_or_misplaced_entities_are_errors, setup, teardown),
  };
  return cmocka_run_group_tests_name("model_store", tests, NULL, NULL);
}
