/* Tests for runtime/file_watch.c: saves as editors make them, on real files
 * in a temp directory, are reported once, by the path given; other files in
 * the folder are not. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "file_watch.h"
#include "run_report.h"
#include "signals.h"
#include "runtime/tmpdir.h"

typedef struct fixture {
  char dir[RT_PATH_MAX];
  char file[RT_PATH_MAX]; /* the watched adapter.lua */
  rt_file_watch fw;
} fixture;

static int setup(void **state) {
  static fixture f;
  rt_error err;
  if (tmpdir_make(f.dir) < 0) return -1;
  rt_fs_path(f.file, NULL, "%s/adapter.lua", f.dir);
  if (tmpdir_put(f.file, "return 1\n") < 0) return -1;
  if (rt_file_watch_open(&f.fw, &err) < 0 || rt_file_watch_add(&f.fw, f.file, &err) < 0) return -1;
  *state = &f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  rt_file_watch_close(&f->fw);
  tmpdir_remove(f->dir);
  return 0;
}

/* Waits for one change and checks it names the watched file. */
static void expect_change(fixture *f) {
  char changed[RT_PATH_MAX];
  double since = 0;
  rt_error err;
  assert_int_equal(rt_file_watch_wait(&f->fw, changed, sizeof changed, &since, &err), 1);
  assert_string_equal(changed, f->file);
  assert_true(since > 0 && since <= rt_now());
}

static void test_a_save_in_place_is_reported(void **state) {
  fixture *f = *state;
  assert_int_equal(tmpdir_put(f->file, "return 2\n"), 0);
  expect_change(f);
}

static void test_a_save_by_rename_is_reported_and_the_watch_survives(void **state) {
  fixture *f = *state;
  char tmp[RT_PATH_MAX];
  rt_fs_path(tmp, NULL, "%s/.adapter.lua.swp", f->dir);
  for (int round = 0; round < 2; round++) { /* the second save replaces the first one's inode */
    assert_int_equal(tmpdir_put(tmp, "return 3\n"), 0);
    assert_int_equal(rename(tmp, f->file), 0);
    expect_change(f);
  }
}

static void test_delete_then_create_is_reported(void **state) {
  fixture *f = *state;
  assert_int_equal(unlink(f->file), 0);
  assert_int_equal(tmpdir_put(f->file, "return 4\n"), 0);
  expect_change(f);
}

static void test_other_files_of_the_folder_are_not_reported(void **state) {
  fixture *f = *state;
  char other[RT_PATH_MAX];
  rt_fs_path(other, NULL, "%s/notes.txt", f->dir);
  assert_int_equal(tmpdir_put(other, "x"), 0);
  assert_int_equal(tmpdir_put(f->file, "return 5\n"), 0);
  expect_change(f); /* names adapter.lua, not notes.txt */
}

static void test_adding_twice_watches_once_and_bad_folders_fail(void **state) {
  fixture *f = *state;
  rt_error err;
  assert_int_equal(rt_file_watch_add(&f->fw, f->file, &err), 0);
  assert_int_equal(f->fw.nfiles, 1);
  assert_int_equal(rt_file_watch_add(&f->fw, "/nonexistent-dlrun/x.lua", &err), -1);
  assert_non_null(strstr(err.msg, "cannot watch /nonexistent-dlrun/x.lua"));
}

static void *stop_soon(void *arg) {
  (void)arg;
  usleep(300 * 1000);
  kill(getpid(), SIGTERM);
  return NULL;
}

/* Last: the stop flag stays set for the rest of the process. */
static void test_quick_saves_merge_into_one_and_a_stop_signal_ends_the_wait(void **state) {
  fixture *f = *state;
  for (int i = 0; i < 3; i++) assert_int_equal(tmpdir_put(f->file, "return 6\n"), 0);
  expect_change(f);
  rt_signals_install();
  pthread_t t;
  assert_int_equal(pthread_create(&t, NULL, stop_soon, NULL), 0);
  char changed[RT_PATH_MAX];
  double since;
  rt_error err;
  /* nothing else is pending: the wait ends with the stop, not with a change */
  assert_int_equal(rt_file_watch_wait(&f->fw, changed, sizeof changed, &since, &err), 0);
  pthread_join(t, NULL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_a_save_in_place_is_reported, setup, teardown),
      cmocka_unit_test_setup_teardown(test_a_save_by_rename_is_reported_and_the_watch_survives, setup, teardown),
      cmocka_unit_test_setup_teardown(test_delete_then_create_is_reported, setup, teardown),
      cmocka_unit_test_setup_teardown(test_other_files_of_the_folder_are_not_reported, setup, teardown),
      cmocka_unit_test_setup_teardown(test_adding_twice_watches_once_and_bad_folders_fail, setup, teardown),
      cmocka_unit_test_setup_teardown(test_quick_saves_merge_into_one_and_a_stop_signal_ends_the_wait, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
