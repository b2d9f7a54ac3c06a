/* Tests for runtime/fsutil.c on real files in a temp directory. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fsutil.h"
#include "runtime/tmpdir.h"

static int setup(void **state) {
  static char dir[RT_PATH_MAX];
  if (tmpdir_make(dir) < 0) return -1;
  *state = dir;
  return 0;
}

static int teardown(void **state) {
  tmpdir_remove(*state);
  return 0;
}

static void test_path_too_long_is_an_error(void **state) {
  char out[RT_PATH_MAX], big[RT_PATH_MAX + 10];
  rt_error err;
  memset(big, 'x', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  assert_int_equal(rt_fs_path(out, &err, "/a/%s", big), -1);
  assert_non_null(strstr(err.msg, "path longer than"));
  assert_int_equal(rt_fs_path(out, &err, "%s/%d", "a", 7), 0);
  assert_string_equal(out, "a/7");
}

static void test_mkdir_p_creates_parents_and_reports_a_file_in_the_way(void **state) {
  const char *dir = *state;
  char p[RT_PATH_MAX];
  rt_error err;
  rt_fs_path(p, NULL, "%s/a/b/c/", dir);
  assert_int_equal(rt_fs_mkdir_p(p, &err), 0);
  assert_true(rt_fs_is_dir(p));
  assert_int_equal(rt_fs_mkdir_p(p, &err), 0); /* existing is fine */
  rt_fs_path(p, NULL, "%s/file", dir);
  assert_int_equal(tmpdir_put(p, "x"), 0);
  rt_fs_path(p, NULL, "%s/file/sub", dir);
  assert_int_equal(rt_fs_mkdir_p(p, &err), -1);
  assert_non_null(strstr(err.msg, "/file"));
}

static void test_write_atomic_round_trip_leaves_no_temp(void **state) {
  const char *dir = *state;
  char p[RT_PATH_MAX];
  rt_error err;
  rt_fs_path(p, NULL, "%s/model.json", dir);
  assert_int_equal(rt_fs_write_atomic(p, "first", 5, &err), 0);
  assert_int_equal(rt_fs_write_atomic(p, "second!", 7, &err), 0);
  char *data;
  size_t len;
  assert_int_equal(rt_fs_read_file(p, &data, &len, &err), 0);
  assert_int_equal(len, 7);
  assert_string_equal(data, "second!");
  free(data);
  assert_int_equal(tmpdir_count_names(dir, ".tmp-"), 0);
  struct stat st;
  assert_int_equal(stat(p, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0644);
}

/* A report replaces its file through a temp and a rename, as an atomic
 * write does (without the syncs, which a test cannot observe); a failed
 * rename leaves no temp behind. */
static void test_write_report_replaces_and_leaves_no_temp(void **state) {
  const char *dir = *state;
  char p[RT_PATH_MAX], blocked[RT_PATH_MAX];
  rt_error err;
  rt_fs_path(p, NULL, "%s/summary.json", dir);
  assert_int_equal(rt_fs_write_report(p, "{}", 2, &err), 0);
  assert_int_equal(rt_fs_write_report(p, "{\"ok\": 1}", 9, &err), 0);
  char *data = tmpdir_get(p);
  assert_string_equal(data, "{\"ok\": 1}");
  free(data);
  struct stat st;
  assert_int_equal(stat(p, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0644);
  rt_fs_path(blocked, NULL, "%s/sub/keep.txt", dir);
  assert_int_equal(tmpdir_put(blocked, "kept"), 0);
  rt_fs_path(p, NULL, "%s/sub", dir);
  assert_int_equal(rt_fs_write_report(p, "x", 1, &err), -1);
  assert_non_null(strstr(err.msg, "sub"));
  assert_int_equal(tmpdir_count_names(dir, ".tmp-"), 0);
}

static void test_read_missing_file_names_it(void **state) {
  char p[RT_PATH_MAX], *data;
  size_t len;
  rt_error err;
  rt_fs_path(p, NULL, "%s/nope.json", (char *)*state);
  assert_int_equal(rt_fs_read_file(p, &data, &len, &err), -1);
  assert_null(data);
  assert_non_null(strstr(err.msg, "nope.json"));
  assert_non_null(strstr(err.msg, "No such file"));
}

static void test_failed_write_keeps_the_target_and_removes_the_temp(void **state) {
  const char *dir = *state;
  char p[RT_PATH_MAX], inner[RT_PATH_MAX];
  rt_error err;
  /* A directory sits where the file should go: rename fails after the temp
   * was written, and must leave the directory and its content alone. */
  rt_fs_path(p, NULL, "%s/target", dir);
  rt_fs_path(inner, NULL, "%s/target/keep.txt", dir);
  assert_int_equal(tmpdir_put(inner, "kept"), 0);
  assert_int_equal(rt_fs_write_atomic(p, "new", 3, &err), -1);
  assert_non_null(strstr(err.msg, "target"));
  char *kept = tmpdir_get(inner);
  assert_string_equal(kept, "kept");
  free(kept);
  assert_int_equal(tmpdir_count_names(dir, ".tmp-"), 0);
  /* A missing folder fails before anything is written. */
  rt_fs_path(p, NULL, "%s/missing/x.json", dir);
  assert_int_equal(rt_fs_write_atomic(p, "x", 1, &err), -1);
  assert_non_null(strstr(err.msg, "missing/x.json"));
}

/* A reader racing a writer must always see one whole version. */
static void test_concurrent_reader_never_sees_a_partial_file(void **state) {
  const char *dir = *state;
  char p[RT_PATH_MAX];
  rt_error err;
  enum { SIZE = 256 * 1024 };
  char *a = malloc(SIZE), *b = malloc(SIZE);
  memset(a, 'a', SIZE);
  memset(b, 'b', SIZE);
  rt_fs_path(p, NULL, "%s/w.bin", dir);
  assert_int_equal(rt_fs_write_atomic(p, a, SIZE, &err), 0);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    for (int i = 0; i < 60; i++)
      if (rt_fs_write_atomic(p, i % 2 ? a : b, SIZE, &err) < 0) _exit(1);
    _exit(0);
  }
  int torn = 0, reads = 0, status = 0;
  while (waitpid(pid, &status, WNOHANG) == 0) {
    char *data;
    size_t len;
    if (rt_fs_read_file(p, &data, &len, &err) < 0) {
      torn++;
      continue;
    }
    reads++;
    if (len != SIZE || (memcmp(data, a, SIZE) && memcmp(data, b, SIZE))) torn++;
    free(data);
  }
  assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  assert_true(reads > 0);
  assert_int_equal(torn, 0);
  free(a);
  free(b);
}

static void test_copy_file_copies_bytes(void **state) {
  const char *dir = *state;
  char src[RT_PATH_MAX], dst[RT_PATH_MAX];
  rt_error err;
  rt_fs_path(src, NULL, "%s/src.bin", dir);
  rt_fs_path(dst, NULL, "%s/dst.bin", dir);
  enum { SIZE = 200 * 1000 }; /* more than one copy buffer */
  char *data = malloc(SIZE);
  for (int i = 0; i < SIZE; i++) data[i] = (char)(i * 7);
  assert_int_equal(rt_fs_write_atomic(src, data, SIZE, &err), 0);
  assert_int_equal(rt_fs_copy_file(src, dst, &err), 0);
  char *got;
  size_t len;
  assert_int_equal(rt_fs_read_file(dst, &got, &len, &err), 0);
  assert_int_equal(len, SIZE);
  assert_memory_equal(got, data, SIZE);
  free(got);
  free(data);
  rt_fs_path(src, NULL, "%s/none.bin", dir);
  assert_int_equal(rt_fs_copy_file(src, dst, &err), -1);
  assert_non_null(strstr(err.msg, "none.bin"));
}

static void test_rm_rf_removes_a_tree_but_not_link_targets(void **state) {
  const char *dir = *state;
  char p[RT_PATH_MAX], outside[RT_PATH_MAX], link[RT_PATH_MAX];
  rt_error err;
  rt_fs_path(outside, NULL, "%s/outside/precious.txt", dir);
  assert_int_equal(tmpdir_put(outside, "keep me"), 0);
  rt_fs_path(p, NULL, "%s/tree/a/b/c.txt", dir);
  assert_int_equal(tmpdir_put(p, "x"), 0);
  rt_fs_path(link, NULL, "%s/tree/a/to-outside", dir);
  rt_fs_path(p, NULL, "%s/outside", dir);
  assert_int_equal(symlink(p, link), 0);
  rt_fs_path(p, NULL, "%s/tree", dir);
  assert_int_equal(rt_fs_rm_rf(p, &err), 0);
  assert_false(rt_fs_exists(p));
  char *kept = tmpdir_get(outside);
  assert_string_equal(kept, "keep me");
  free(kept);
  assert_int_equal(rt_fs_rm_rf(p, &err), 0); /* already gone is fine */
}

static void test_listing_is_recursive_and_sorted(void **state) {
  const char *dir = *state;
  char p[RT_PATH_MAX], t[RT_PATH_MAX];
  rt_error err;
  const char *files[] = {"b/z.png", "a.txt", "b/a/y.png", "a/x.png", "b.png"};
  for (size_t i = 0; i < 5; i++) {
    rt_fs_path(p, NULL, "%s/root/%s", dir, files[i]);
    assert_int_equal(tmpdir_put(p, "x"), 0);
  }
  rt_fs_path(p, NULL, "%s/root/empty", dir);
  assert_int_equal(rt_fs_mkdir_p(p, &err), 0);
  rt_fs_path(p, NULL, "%s/root/link.png", dir);
  assert_int_equal(symlink("a.txt", p), 0);
  rt_fs_path(p, NULL, "%s/root/linkdir", dir);
  assert_int_equal(symlink("b", p), 0);

  rt_strlist l = {0};
  rt_fs_path(t, NULL, "%s/root", dir);
  assert_int_equal(rt_fs_list_files(t, &l, &err), 0);
  const char *want[] = {"a.txt", "a/x.png", "b.png", "b/a/y.png", "b/z.png", "link.png"};
  assert_int_equal(l.n, 6);
  for (size_t i = 0; i < l.n; i++) assert_string_equal(l.v[i], want[i]);
  rt_strlist_free(&l);

  assert_int_equal(rt_fs_list_tree(t, &l, &err), 0);
  const char *want_all[] = {"a",         "a.txt",   "a/x.png", "b",        "b.png",  "b/a",
                            "b/a/y.png", "b/z.png", "empty",   "link.png", "linkdir"};
  assert_int_equal(l.n, 11);
  for (size_t i = 0; i < l.n; i++) assert_string_equal(l.v[i], want_all[i]);
  rt_strlist_free(&l);

  /* An empty folder gives an empty list (found by fuzzing: sorting the
   * nothing that was added offset a NULL list, which UBSan reports). */
  rt_fs_path(t, NULL, "%s/root/empty", dir);
  assert_int_equal(rt_fs_list_tree(t, &l, &err), 0);
  assert_int_equal(l.n, 0);
  rt_strlist_free(&l);

  rt_fs_path(t, NULL, "%s/nowhere", dir);
  assert_int_equal(rt_fs_list_files(t, &l, &err), -1);
  assert_non_null(strstr(err.msg, "nowhere"));
  rt_strlist_free(&l);
}

static void test_replace_dir_swaps_trees(void **state) {
  const char *dir = *state;
  char target[RT_PATH_MAX], fresh[RT_PATH_MAX], p[RT_PATH_MAX];
  rt_error err;
  rt_fs_path(target, NULL, "%s/models/m", dir);
  /* First publish: the target does not exist yet. */
  assert_int_equal(rt_fs_mkdir_p(target, &err), 0);
  assert_int_equal(rmdir(target), 0);
  assert_int_equal(rt_fs_make_temp_dir(target, fresh, &err), 0);
  rt_fs_path(p, NULL, "%s/v1.txt", fresh);
  assert_int_equal(tmpdir_put(p, "1"), 0);
  assert_int_equal(rt_fs_replace_dir(fresh, target, &err), 0);
  rt_fs_path(p, NULL, "%s/v1.txt", target);
  assert_true(rt_fs_exists(p));
  /* Second publish replaces the whole tree. */
  assert_int_equal(rt_fs_make_temp_dir(target, fresh, &err), 0);
  rt_fs_path(p, NULL, "%s/v2.txt", fresh);
  assert_int_equal(tmpdir_put(p, "2"), 0);
  assert_int_equal(rt_fs_replace_dir(fresh, target, &err), 0);
  rt_fs_path(p, NULL, "%s/v2.txt", target);
  assert_true(rt_fs_exists(p));
  rt_fs_path(p, NULL, "%s/v1.txt", target);
  assert_false(rt_fs_exists(p));
  rt_fs_path(p, NULL, "%s/models", dir);
  assert_int_equal(tmpdir_count_names(p, ".tmp-"), 0);
}

static void test_batch_publishes_only_on_commit(void **state) {
  const char *dir = *state;
  char p[RT_PATH_MAX], sub[RT_PATH_MAX];
  rt_error err;
  rt_fs_path(sub, NULL, "%s/json/train", dir);
  assert_int_equal(rt_fs_mkdir_p(sub, &err), 0);
  rt_fs_path(p, NULL, "%s/json/existing.json", dir);
  assert_int_equal(tmpdir_put(p, "old"), 0);

  rt_fs_batch *b = rt_fs_batch_new();
  assert_non_null(b);
  for (int i = 0; i < 50; i++) {
    rt_fs_path(p, NULL, "%s/json/train/%03d.json", dir, i);
    char text[32];
    rt_fs_path(text, NULL, "{\"i\":%d}", i);
    assert_int_equal(rt_fs_batch_add(b, p, text, strlen(text), &err), 0);
  }
  rt_fs_path(p, NULL, "%s/json/existing.json", dir);
  assert_int_equal(rt_fs_batch_add(b, p, "new", 3, &err), 0);
  /* Nothing is visible before commit. */
  char *text = tmpdir_get(p);
  assert_string_equal(text, "old");
  free(text);
  rt_fs_path(p, NULL, "%s/json/train/007.json", dir);
  assert_false(rt_fs_exists(p));

  assert_int_equal(rt_fs_batch_commit(b, &err), 0);
  text = tmpdir_get(p);
  assert_string_equal(text, "{\"i\":7}");
  free(text);
  rt_fs_path(p, NULL, "%s/json/existing.json", dir);
  text = tmpdir_get(p);
  assert_string_equal(text, "new");
  free(text);
  rt_fs_batch_free(b);
  rt_fs_path(p, NULL, "%s/json", dir);
  assert_int_equal(tmpdir_count_names(p, ".tmp-"), 0);
  assert_int_equal(tmpdir_count_names(p, ".json"), 51);
}

static void test_batch_failure_and_free_leave_no_temps(void **state) {
  const char *dir = *state;
  char p[RT_PATH_MAX];
  rt_error err;
  /* Freed without commit: temps vanish, targets never appear. */
  rt_fs_batch *b = rt_fs_batch_new();
  rt_fs_path(p, NULL, "%s/never.json", dir);
  assert_int_equal(rt_fs_batch_add(b, p, "x", 1, &err), 0);
  rt_fs_batch_free(b);
  assert_false(rt_fs_exists(p));
  assert_int_equal(tmpdir_count_names(dir, ".tmp-"), 0);

  /* The second of three targets is a directory: the first is published,
   * the second fails by name, the third keeps its old content. */
  b = rt_fs_batch_new();
  rt_fs_path(p, NULL, "%s/1.json", dir);
  assert_int_equal(rt_fs_batch_add(b, p, "one", 3, &err), 0);
  rt_fs_path(p, NULL, "%s/2.json/inner", dir);
  assert_int_equal(tmpdir_put(p, "dir"), 0);
  rt_fs_path(p, NULL, "%s/2.json", dir);
  assert_int_equal(rt_fs_batch_add(b, p, "two", 3, &err), 0);
  rt_fs_path(p, NULL, "%s/3.json", dir);
  assert_int_equal(tmpdir_put(p, "old"), 0);
  assert_int_equal(rt_fs_batch_add(b, p, "three", 5, &err), 0);
  assert_int_equal(rt_fs_batch_commit(b, &err), -1);
  assert_non_null(strstr(err.msg, "2.json"));
  rt_fs_batch_free(b);
  char *text;
  rt_fs_path(p, NULL, "%s/1.json", dir);
  text = tmpdir_get(p);
  assert_string_equal(text, "one");
  free(text);
  rt_fs_path(p, NULL, "%s/3.json", dir);
  text = tmpdir_get(p);
  assert_string_equal(text, "old");
  free(text);
  assert_int_equal(tmpdir_count_names(dir, ".tmp-"), 0);
}

/* Leftovers of a dead writer go; a live writer's temp and other files stay. */
static void test_stale_temps_of_dead_writers_are_removed(void **state) {
  const char *dir = *state;
  char dead[RT_PATH_MAX], live[RT_PATH_MAX], plain[RT_PATH_MAX], dead_dir[RT_PATH_MAX];
  rt_error err;
  /* a pid above the kernel's pid_max cannot be running */
  rt_fs_path(dead, &err, "%s/sub/.a.json.tmp-99999999-AbCdEf", dir);
  rt_fs_path(dead_dir, &err, "%s/.model.tmp-99999999-XyZ123/inside", dir);
  rt_fs_path(live, &err, "%s/.b.json.tmp-%d-AbCdEf", dir, (int)getpid());
  rt_fs_path(plain, &err, "%s/.tmp-notes.txt", dir);
  assert_int_equal(tmpdir_put(dead, "x"), 0);
  assert_int_equal(tmpdir_put(dead_dir, "x"), 0);
  assert_int_equal(tmpdir_put(live, "x"), 0);
  assert_int_equal(tmpdir_put(plain, "x"), 0);
  long removed;
  assert_int_equal(rt_fs_remove_stale_temps(dir, &removed, &err), 0);
  assert_int_equal(removed, 2);
  assert_false(rt_fs_exists(dead));
  assert_false(rt_fs_exists(dead_dir));
  assert_true(rt_fs_exists(live));
  assert_true(rt_fs_exists(plain));
  char missing[RT_PATH_MAX];
  rt_fs_path(missing, &err, "%s/none", dir);
  assert_int_equal(rt_fs_remove_stale_temps(missing, &removed, &err), 0);
  assert_int_equal(removed, 0);
}

/* Only the entries of the folder itself: a dead writer's temp deeper down stays. */
static void test_stale_temps_in_a_folder_leave_its_subfolders_alone(void **state) {
  const char *dir = *state;
  char deep[RT_PATH_MAX], top[RT_PATH_MAX], live[RT_PATH_MAX];
  rt_error err;
  rt_fs_path(deep, &err, "%s/ds/.a.json.tmp-99999999-AbCdEf", dir);
  rt_fs_path(top, &err, "%s/.ds.tmp-99999999-XyZ123/items/a.png", dir);
  rt_fs_path(live, &err, "%s/.ds.tmp-%d-XyZ123/a.png", dir, (int)getpid());
  assert_int_equal(tmpdir_put(deep, "x"), 0);
  assert_int_equal(tmpdir_put(top, "x"), 0);
  assert_int_equal(tmpdir_put(live, "x"), 0);
  long removed;
  assert_int_equal(rt_fs_remove_stale_temps_in(dir, &removed, &err), 0);
  assert_int_equal(removed, 1);
  assert_false(rt_fs_exists(top));
  assert_true(rt_fs_exists(deep));
  assert_true(rt_fs_exists(live));
  char missing[RT_PATH_MAX];
  rt_fs_path(missing, &err, "%s/none", dir);
  assert_int_equal(rt_fs_remove_stale_temps_in(missing, &removed, &err), 0);
  assert_int_equal(removed, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_path_too_long_is_an_error),
      cmocka_unit_test_setup_teardown(test_mkdir_p_creates_parents_and_reports_a_file_in_the_way, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_write_atomic_round_trip_leaves_no_temp, setup, teardown),
      cmocka_unit_test_setup_teardown(test_write_report_replaces_and_leaves_no_temp, setup, teardown),
      cmocka_unit_test_setup_teardown(test_read_missing_file_names_it, setup, teardown),
      cmocka_unit_test_setup_teardown(test_failed_write_keeps_the_target_and_removes_the_temp, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_concurrent_reader_never_sees_a_partial_file, setup, teardown),
      cmocka_unit_test_setup_teardown(test_copy_file_copies_bytes, setup, teardown),
      cmocka_unit_test_setup_teardown(test_rm_rf_removes_a_tree_but_not_link_targets, setup, teardown),
      cmocka_unit_test_setup_teardown(test_listing_is_recursive_and_sorted, setup, teardown),
      cmocka_unit_test_setup_teardown(test_replace_dir_swaps_trees, setup, teardown),
      cmocka_unit_test_setup_teardown(test_batch_publishes_only_on_commit, setup, teardown),
      cmocka_unit_test_setup_teardown(test_batch_failure_and_free_leave_no_temps, setup, teardown),
      cmocka_unit_test_setup_teardown(test_stale_temps_of_dead_writers_are_removed, setup, teardown),
      cmocka_unit_test_setup_teardown(test_stale_temps_in_a_folder_leave_its_subfolders_alone, setup, teardown),
  };
  return cmocka_run_group_tests_name("fsutil", tests, NULL, NULL);
}
