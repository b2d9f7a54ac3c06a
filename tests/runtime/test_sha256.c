/* Tests for runtime/sha256.c against the FIPS 180-2 vectors. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "sha256.h"
#include "runtime/tmpdir.h"

static const char ABC[] = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
static const char EMPTY[] = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
/* One million 'a's (FIPS 180-2, appendix B.3). */
static const char MILLION_A[] = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";

static void test_buffer_vectors(void **state) {
  char hex[RT_SHA256_HEX];
  rt_sha256_buffer("abc", 3, hex);
  assert_string_equal(hex, ABC);
  rt_sha256_buffer("", 0, hex);
  assert_string_equal(hex, EMPTY);
}

static void test_file_vector_spans_many_reads(void **state) {
  char dir[RT_PATH_MAX], p[RT_PATH_MAX], hex[RT_SHA256_HEX];
  rt_error err;
  assert_int_equal(tmpdir_make(dir), 0);
  rt_fs_path(p, NULL, "%s/a.bin", dir);
  char *a = malloc(1000000);
  memset(a, 'a', 1000000);
  assert_int_equal(rt_fs_write_atomic(p, a, 1000000, &err), 0);
  free(a);
  assert_int_equal(rt_sha256_file(p, hex, &err), 0);
  assert_string_equal(hex, MILLION_A);
  rt_fs_path(p, NULL, "%s/missing.bin", dir);
  assert_int_equal(rt_sha256_file(p, hex, &err), -1);
  assert_non_null(strstr(err.msg, "missing.bin"));
  tmpdir_remove(dir);
}

static void test_is_hex(void **state) {
  assert_true(rt_sha256_is_hex(ABC));
  assert_true(rt_sha256_is_hex("BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD"));
  assert_false(rt_sha256_is_hex("abc"));
  assert_false(rt_sha256_is_hex("ga7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
  assert_false(rt_sha256_is_hex(""));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_buffer_vectors),
      cmocka_unit_test(test_file_vector_spans_many_reads),
      cmocka_unit_test(test_is_hex),
  };
  return cmocka_run_group_tests_name("sha256", tests, NULL, NULL);
}
