/* Tests for runtime/item_batches.c with a real host, the dl package of the
 * build (share/dlrun/lua beside the test's build folder) and an adapter
 * that declares its input, so batches come from the native pipeline. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <unistd.h>

#include "adapter.h"
#include "item_batches.h"
#include "runtime/tmpdir.h"

typedef struct fixture {
  char dir[RT_PATH_MAX];
  rt_host *host;
  rt_item_list items;
  size_t order[2];
} fixture;

static const char adapter[] =
    "local dl = require 'dl'\n"
    "local A = dl.Adapter { name = 'tiny', input = { size = { 4, 4 }, channels = 1 },\n"
    "                       configuration = { batch_size = 1 } }\n"
    "function A:load() end\n"
    "function A:predict(batch) return {} end\n"
    "return A\n";

/* The dl package the build links beside its binaries: BUILD/share/dlrun/lua,
 * two folders up from BUILD/tests/runtime/<this test>. */
static int point_at_the_dl_package(void) {
  char exe[RT_PATH_MAX], lua[RT_PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n < 0) return -1;
  exe[n] = '\0';
  char *slash = strrchr(exe, '/');
  if (!slash) return -1;
  *slash = '\0';
  if (rt_fs_path(lua, NULL, "%s/../../share/dlrun/lua", exe) < 0) return -1;
  return setenv("DLRUN_LUA_DIR", lua, 1);
}

static int setup(void **state) {
  static fixture f;
  memset(&f, 0, sizeof f);
  rt_error err;
  char path[RT_PATH_MAX];
  if (point_at_the_dl_package() < 0 || tmpdir_make(f.dir) < 0) return -1;
  rt_fs_path(path, NULL, "%s/tiny.lua", f.dir);
  if (tmpdir_put(path, adapter) < 0) return -1;
  f.host = rt_host_new(f.dir, NULL, &err);
  if (!f.host || rt_adapter_load(f.host, path, "predict", NULL, &err) < 0 ||
      rt_adapter_configure(f.host, NULL, NULL, 0, &err) < 0) {
    fprintf(stderr, "setup: %s\n", err.msg);
    return -1;
  }
  /* files that do not exist: the pipeline still makes their batches, with
   * each item marked failed */
  for (size_t i = 0; i < 2; i++) {
    char local[RT_PATH_MAX], remote[32];
    rt_fs_path(local, NULL, "%s/missing-%zu.png", f.dir, i);
    snprintf(remote, sizeof remote, "/missing-%zu.png", i);
    if (rt_items_add(&f.items, remote + 1, remote, local, NULL, "image/png", -1, &err) < 0) return -1;
    f.order[i] = i;
  }
  *state = &f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  rt_items_free(&f->items);
  rt_host_free(f->host);
  tmpdir_remove(f->dir);
  return 0;
}

/* A pipeline that refuses the next batch says why: here, asking for a batch
 * before the previous one was released. */
static void test_a_pipeline_error_is_reported_with_its_message(void **state) {
  fixture *f = *state;
  rt_batches b;
  rt_error err;
  size_t first;
  int count;
  assert_int_equal(rt_batches_open(&b, f->host, &f->items, f->order, 2, 1, &err), 0);
  assert_int_equal(b.mode, RT_PREP_PIPELINE);
  assert_int_equal(rt_batches_next(&b, &first, &count, &err), 0);
  assert_int_equal(first, 0);
  assert_int_equal(count, 1);
  lua_pop(f->host->L, 1);
  assert_int_equal(rt_batches_next(&b, &first, &count, &err), -1);
  assert_non_null(strstr(err.msg, "item pipeline: pipeline: release batch 0 before asking for the next"));
  rt_batches_release(&b);
  assert_int_equal(rt_batches_next(&b, &first, &count, &err), 0);
  assert_int_equal(first, 1);
  lua_pop(f->host->L, 1);
  rt_batches_release(&b);
  assert_int_equal(rt_batches_next(&b, &first, &count, &err), 1);
  rt_batches_close(&b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_a_pipeline_error_is_reported_with_its_message, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
