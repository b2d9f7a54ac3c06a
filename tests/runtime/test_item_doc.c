/* Tests for runtime/item_doc.c: documents read from files and dumped back. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "item_doc.h"
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

/* A coordinate near DBL_MAX dumped with 10 digits was 1.797693135e308,
 * which no reader loads: the item's document was lost on the next read. */
static void test_dump_of_huge_reals_reads_back(void **state) {
  char path[RT_PATH_MAX];
  rt_error err;
  rt_fs_path(path, NULL, "%s/item.json", (const char *)*state);
  assert_int_equal(
      tmpdir_put(path, "{\"id\": \"a\", \"annotations\": [{\"coordinates\": [1.7976931348623157e308]}]}"), 0);
  json_t *doc;
  assert_int_equal(rt_item_doc_read(path, &doc, &err), 0);
  char *text = rt_item_doc_dump(doc);
  assert_int_equal(tmpdir_put(path, text), 0);
  json_t *back;
  if (rt_item_doc_read(path, &back, &err) < 0) fail_msg("%s", err.msg);
  assert_true(json_equal(doc, back));
  free(text);
  json_decref(back);
  json_decref(doc);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_dump_of_huge_reals_reads_back, setup, teardown),
  };
  return cmocka_run_group_tests_name("item_doc", tests, NULL, NULL);
}
