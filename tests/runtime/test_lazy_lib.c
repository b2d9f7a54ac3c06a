/* Tests for runtime/lazy_lib.c: opening a library on first use, resolving
 * its functions into a table, and the messages when either fails. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>
#include <zlib.h>

#include "lazy_lib.h"

/* A table of two zlib functions, as lib_curl.h declares libcurl's. */
#define ZLIB_FUNCTIONS(X) X(zlib, Version) X(, crc32)
typedef struct zlib_api {
  ZLIB_FUNCTIONS(RT_LAZY_FIELD)
} zlib_api;

static void test_resolves_typed_functions(void **state) {
  rt_lazy_lib lib = {.soname = "libz.so.1"};
  zlib_api z;
  assert_true(rt_lazy_lib_open(&lib));
#define RESOLVE(prefix, name) rt_lazy_lib_resolve(&lib, #prefix, #name, (void **)&z.name);
  ZLIB_FUNCTIONS(RESOLVE)
#undef RESOLVE
  rt_error err;
  assert_int_equal(rt_lazy_lib_status(&lib, &err), 0);
  assert_string_equal(z.Version(), zlibVersion());
  assert_int_equal(z.crc32(0, (const Bytef *)"abc", 3), 0x352441c2);
}

static void test_missing_library_is_named(void **state) {
  rt_lazy_lib lib = {.soname = "libdlrun-no-such-lib.so.7"};
  void *slot = &lib;
  assert_false(rt_lazy_lib_open(&lib));
  rt_lazy_lib_resolve(&lib, "x_", "f", &slot);
  assert_null(slot);
  rt_error err;
  assert_int_equal(rt_lazy_lib_status(&lib, &err), -1);
  assert_non_null(strstr(err.msg, "cannot load libdlrun-no-such-lib.so.7"));
  assert_non_null(strstr(err.msg, "No such file"));
}

static void test_missing_function_is_named(void **state) {
  rt_lazy_lib lib = {.soname = "libz.so.1"};
  void *a = NULL, *b = NULL;
  assert_true(rt_lazy_lib_open(&lib));
  rt_lazy_lib_resolve(&lib, "zlib_", "no_such_function", &a);
  rt_lazy_lib_resolve(&lib, "", "crc32", &b);
  assert_null(a);
  assert_non_null(b);
  rt_error err;
  assert_int_equal(rt_lazy_lib_status(&lib, &err), -1);
  assert_non_null(strstr(err.msg, "libz.so.1 has no function zlib_no_such_function"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_resolves_typed_functions),
      cmocka_unit_test(test_missing_library_is_named),
      cmocka_unit_test(test_missing_function_is_named),
  };
  return cmocka_run_group_tests_name("lazy_lib", tests, NULL, NULL);
}
