/* Tests for runtime/paths.c: where $DATALOOP_PATH points and its layout. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <unistd.h>

#include "paths.h"
#include "runtime/tmpdir.h"

static void test_home_comes_from_override_then_env_then_home(void **state) {
  rt_paths p;
  rt_error err;
  setenv("DATALOOP_PATH", "/srv/dl/", 1);
  setenv("HOME", "/home/someone", 1);
  assert_int_equal(rt_paths_init(&p, NULL, &err), 0);
  assert_string_equal(p.home, "/srv/dl");
  assert_int_equal(rt_paths_init(&p, "/opt/other//", &err), 0);
  assert_string_equal(p.home, "/opt/other");
  setenv("DATALOOP_PATH", "", 1);
  assert_int_equal(rt_paths_init(&p, NULL, &err), 0);
  assert_string_equal(p.home, "/home/someone/.dataloop");
  unsetenv("DATALOOP_PATH");
  assert_int_equal(rt_paths_init(&p, NULL, &err), 0);
  assert_string_equal(p.home, "/home/someone/.dataloop");
  assert_int_equal(rt_paths_init(&p, "", &err), -1);
  assert_non_null(strstr(err.msg, "--home"));
}

static void test_relative_home_becomes_absolute(void **state) {
  rt_paths p;
  rt_error err;
  char cwd[RT_PATH_MAX], want[RT_PATH_MAX];
  assert_non_null(getcwd(cwd, sizeof cwd));
  rt_fs_path(want, NULL, "%s/rel/home", cwd);
  assert_int_equal(rt_paths_init(&p, "rel/home", &err), 0);
  assert_string_equal(p.home, want);
}

static void test_places_are_created_on_first_use(void **state) {
  char dir[RT_PATH_MAX], out[RT_PATH_MAX], want[RT_PATH_MAX];
  rt_paths p;
  rt_error err;
  assert_int_equal(tmpdir_make(dir), 0);
  char home[RT_PATH_MAX];
  rt_fs_path(home, NULL, "%s/fresh", dir);
  assert_int_equal(rt_paths_init(&p, home, &err), 0);
  assert_false(rt_fs_exists(home)); /* init creates nothing */
  assert_int_equal(rt_paths_entry(&p, RT_PLACE_MODELS, "resnet", out, &err), 0);
  rt_fs_path(want, NULL, "%s/models/resnet", home);
  assert_string_equal(out, want);
  rt_fs_path(want, NULL, "%s/models", home);
  assert_true(rt_fs_is_dir(want));
  assert_false(rt_fs_exists(out)); /* the entry itself is the caller's */
  const rt_place places[] = {RT_PLACE_DATASETS,     RT_PLACE_STORE, RT_PLACE_MODEL_DATA,
                             RT_PLACE_FEATURE_SETS, RT_PLACE_RUNS,  RT_PLACE_TMP};
  const char *names[] = {"datasets", "store", "model_data", "feature_sets", "runs", "tmp"};
  for (int i = 0; i < 6; i++) {
    assert_int_equal(rt_paths_dir(&p, places[i], out, &err), 0);
    rt_fs_path(want, NULL, "%s/%s", home, names[i]);
    assert_string_equal(out, want);
    assert_true(rt_fs_is_dir(out));
  }
  tmpdir_remove(dir);
}

static void test_bad_names_are_refused_by_name(void **state) {
  rt_paths p;
  rt_error err;
  char out[RT_PATH_MAX];
  assert_int_equal(rt_paths_init(&p, "/nonexistent-dlrun-home", &err), 0);
  const char *bad[] = {"", "..", ".hidden", "a/b", "tab\there"};
  for (int i = 0; i < 5; i++) {
    assert_int_equal(rt_paths_entry(&p, RT_PLACE_MODELS, bad[i], out, &err), -1);
    assert_non_null(strstr(err.msg, "model name"));
  }
  assert_false(rt_fs_exists("/nonexistent-dlrun-home")); /* refused before creating */
  assert_int_equal(rt_paths_check_name("dataset name", "fashion mnist v2", &err), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_home_comes_from_override_then_env_then_home),
      cmocka_unit_test(test_relative_home_becomes_absolute),
      cmocka_unit_test(test_places_are_created_on_first_use),
      cmocka_unit_test(test_bad_names_are_refused_by_name),
  };
  return cmocka_run_group_tests_name("paths", tests, NULL, NULL);
}
