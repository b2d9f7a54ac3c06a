/* Tests for runtime/run_report.c: the run folder's files, the summary, and
 * an open that fails half-way. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "cli.h"
#include "run_report.h"
#include "runtime/tmpdir.h"

typedef struct fixture {
  char dir[RT_PATH_MAX];
  rt_paths paths;
} fixture;

static int setup(void **state) {
  static fixture f;
  rt_error err;
  if (tmpdir_make(f.dir) < 0 || rt_paths_init(&f.paths, f.dir, &err) < 0) return -1;
  *state = &f;
  return 0;
}

static int teardown(void **state) {
  tmpdir_remove(((fixture *)*state)->dir);
  return 0;
}

static void test_a_run_records_failures_and_its_summary(void **state) {
  fixture *f = *state;
  rt_run r;
  rt_error err;
  assert_int_equal(rt_run_open(&r, &f->paths, "predict", "net", &err), 0);
  r.ok = 2;
  rt_run_failure(&r, "id1", "/a.png", "read", "a.json:1: not valid JSON");
  assert_int_equal(rt_run_finish(&r, NULL, NULL, &err), RT_EXIT_PARTIAL);
  rt_run_close(&r);
  char p[RT_PATH_MAX];
  rt_fs_path(p, NULL, "%s/failures.jsonl", r.dir);
  char *text = tmpdir_get(p);
  assert_non_null(strstr(text, "\"filename\":\"/a.png\",\"stage\":\"read\""));
  free(text);
  rt_fs_path(p, NULL, "%s/summary.json", r.dir);
  json_t *summary = json_load_file(p, 0, NULL);
  assert_non_null(summary);
  assert_int_equal(json_integer_value(json_object_get(summary, "ok")), 2);
  assert_int_equal(json_integer_value(json_object_get(summary, "failed")), 1);
  assert_null(json_object_get(summary, "interrupted"));
  json_decref(summary);
}

/* With room for one more descriptor, failures.jsonl opens and log.txt does
 * not: the open fails, and closes what it had opened. */
static void test_an_open_that_fails_half_way_keeps_no_descriptor(void **state) {
  fixture *f = *state;
  char runs[RT_PATH_MAX];
  rt_error err;
  assert_int_equal(rt_paths_dir(&f->paths, RT_PLACE_RUNS, runs, &err), 0);
  int lowest = open("/dev/null", O_RDONLY | O_CLOEXEC);
  assert_true(lowest >= 0);
  close(lowest);
  struct rlimit saved, tight;
  assert_int_equal(getrlimit(RLIMIT_NOFILE, &saved), 0);
  tight = saved;
  tight.rlim_cur = (rlim_t)lowest + 1;
  assert_int_equal(setrlimit(RLIMIT_NOFILE, &tight), 0);
  rt_run r;
  int rc = rt_run_open(&r, &f->paths, "predict", "net", &err);
  assert_int_equal(setrlimit(RLIMIT_NOFILE, &saved), 0);
  assert_int_equal(rc, -1);
  assert_non_null(strstr(err.msg, "log.txt"));
  int next = open("/dev/null", O_RDONLY | O_CLOEXEC);
  close(next);
  assert_int_equal(next, lowest);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_a_run_records_failures_and_its_summary, setup, teardown),
      cmocka_unit_test_setup_teardown(test_an_open_that_fails_half_way_keeps_no_descriptor, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
