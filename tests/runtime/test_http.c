/* Tests for runtime/http.c against a real nginx (WebDAV) on loopback, and a
 * fault server in front of it for 500s, stalls and cut-off downloads. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <time.h>

#include "http.h"
#include "sha256.h"
#include "runtime/http_servers.h"

static test_servers servers;
static char work[RT_PATH_MAX];
static rt_http_options opts;

static int start(void **state) {
  rt_http_options_default(&opts);
  opts.max_attempts = 3;
  opts.first_backoff_ms = 50;
  opts.stall_timeout_s = 1;
  opts.connect_timeout_ms = 2000;
  if (tmpdir_make(work) < 0) return -1;
  return test_servers_start(&servers);
}

static int stop(void **state) {
  test_servers_stop(&servers);
  tmpdir_remove(work);
  return 0;
}

/* URL on nginx itself. */
static const char *direct(const char *path) {
  static char url[RT_PATH_MAX + 64];
  snprintf(url, sizeof url, "http://127.0.0.1:%d%s", servers.nginx_port, path);
  return url;
}

/* URL through the fault server ("/fail/2/x"). */
static const char *faulty(const char *path) {
  static char url[RT_PATH_MAX + 64];
  snprintf(url, sizeof url, "http://127.0.0.1:%d%s", servers.fault_port, path);
  return url;
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* A 1 MB file with varied bytes; writes its sha256 into hex. */
static void make_big_file(const char *path, char *hex) {
  enum { SIZE = 1 << 20 };
  char *data = malloc(SIZE);
  for (int i = 0; i < SIZE; i++) data[i] = (char)((i * 2654435761u) >> 24);
  rt_error err;
  assert_int_equal(rt_fs_write_atomic(path, data, SIZE, &err), 0);
  rt_sha256_buffer(data, SIZE, hex);
  free(data);
}

static void test_put_then_get_buffer(void **state) {
  rt_error err;
  char *data, disk[RT_PATH_MAX];
  size_t len;
  long status = 0;
  const char *text = "{\"name\":\"m\"}";
  assert_int_equal(rt_http_put_buffer(direct("/store/models/m/model.json"), text, strlen(text), &opts, &err),
                   0);
  assert_int_equal(
      rt_http_get_buffer(direct("/store/models/m/model.json"), &data, &len, &opts, &status, &err), 0);
  assert_int_equal(status, 200);
  assert_int_equal(len, strlen(text));
  assert_string_equal(data, text);
  free(data);
  rt_fs_path(disk, NULL, "%s/store/models/m/model.json", servers.root);
  char *on_disk = tmpdir_get(disk);
  assert_string_equal(on_disk, text);
  free(on_disk);
}

static void test_put_then_get_file_with_sha256(void **state) {
  rt_error err;
  char src[RT_PATH_MAX], dst[RT_PATH_MAX], hex[RT_SHA256_HEX], got[RT_SHA256_HEX];
  rt_fs_path(src, NULL, "%s/big.bin", work);
  rt_fs_path(dst, NULL, "%s/big.copy", work);
  make_big_file(src, hex);
  assert_int_equal(rt_http_put_file(direct("/store/big.bin"), src, &opts, &err), 0);
  assert_int_equal(rt_http_get_file(direct("/store/big.bin"), dst, hex, &opts, NULL, &err), 0);
  assert_int_equal(rt_sha256_file(dst, got, &err), 0);
  assert_string_equal(got, hex);
  assert_int_equal(tmpdir_count_names(work, ".tmp-"), 0);
}

static void test_sha256_mismatch_leaves_no_file(void **state) {
  rt_error err;
  char dst[RT_PATH_MAX];
  rt_fs_path(dst, NULL, "%s/wrong.bin", work);
  assert_int_equal(rt_http_put_buffer(direct("/store/small.txt"), "abc", 3, &opts, &err), 0);
  const char *zeros = "0000000000000000000000000000000000000000000000000000000000000000";
  assert_int_equal(rt_http_get_file(direct("/store/small.txt"), dst, zeros, &opts, NULL, &err), -1);
  assert_non_null(strstr(err.msg, "sha256 mismatch"));
  assert_non_null(strstr(err.msg, "/store/small.txt"));
  assert_false(rt_fs_exists(dst));
  assert_int_equal(tmpdir_count_names(work, ".tmp-"), 0);
}

static void test_404_from_nginx_is_a_clear_error_without_retries(void **state) {
  rt_error err;
  char dst[RT_PATH_MAX], *data;
  size_t len;
  long status = 0;
  rt_fs_path(dst, NULL, "%s/absent.bin", work);
  const char *url = direct("/store/models/ghost/model.json");
  assert_int_equal(rt_http_get_file(url, dst, NULL, &opts, &status, &err), -1);
  assert_int_equal(status, 404);
  assert_non_null(strstr(err.msg, "GET "));
  assert_non_null(strstr(err.msg, url));
  assert_non_null(strstr(err.msg, "HTTP 404"));
  assert_false(rt_fs_exists(dst));
  /* Through the fault server, a 4xx is asked exactly once. */
  assert_int_equal(rt_http_get_buffer(faulty("/status/403/store/x"), &data, &len, &opts, &status, &err), -1);
  assert_int_equal(status, 403);
  assert_non_null(strstr(err.msg, "HTTP 403"));
  assert_int_equal(test_servers_hits(&servers, "GET", "/status/403/store/x"), 1);
}

static void test_500_then_success_is_retried(void **state) {
  rt_error err;
  char *data;
  size_t len;
  assert_int_equal(rt_http_put_buffer(direct("/store/retry.txt"), "recovered", 9, &opts, &err), 0);
  assert_int_equal(rt_http_get_buffer(faulty("/fail/2/store/retry.txt"), &data, &len, &opts, NULL, &err), 0);
  assert_string_equal(data, "recovered");
  free(data);
  assert_int_equal(test_servers_hits(&servers, "GET", "/fail/2/store/retry.txt"), 3);
  /* Uploads are retried from the start of the body. */
  assert_int_equal(rt_http_put_buffer(faulty("/fail/1/store/put-retry.txt"), "whole body", 10, &opts, &err),
                   0);
  assert_int_equal(test_servers_hits(&servers, "PUT", "/fail/1/store/put-retry.txt"), 2);
  assert_int_equal(rt_http_get_buffer(direct("/store/put-retry.txt"), &data, &len, &opts, NULL, &err), 0);
  assert_string_equal(data, "whole body");
  free(data);
}

static void test_retries_are_bounded(void **state) {
  rt_error err;
  char *data;
  size_t len;
  long status = 0;
  double t0 = now();
  assert_int_equal(rt_http_get_buffer(faulty("/fail/99/store/retry.txt"), &data, &len, &opts, &status, &err),
                   -1);
  assert_int_equal(status, 500);
  assert_non_null(strstr(err.msg, "failed after 3 attempts: HTTP 500"));
  assert_int_equal(test_servers_hits(&servers, "GET", "/fail/99/store/retry.txt"), 3);
  assert_true(now() - t0 < 2.0); /* 50 + 100 ms of backoff */
  /* The total backoff budget cuts the tries short too. */
  rt_http_options tight = opts;
  tight.max_attempts = 10;
  tight.max_total_backoff_ms = 120;
  assert_int_equal(rt_http_get_buffer(faulty("/fail/99/store/budget.txt"), &data, &len, &tight, NULL, &err),
                   -1);
  assert_int_equal(test_servers_hits(&servers, "GET", "/fail/99/store/budget.txt"), 2);
}

static void test_stalled_server_times_out_and_retries(void **state) {
  rt_error err;
  char *data;
  size_t len;
  assert_int_equal(rt_http_put_buffer(direct("/store/slow.txt"), "late", 4, &opts, &err), 0);
  double t0 = now();
  assert_int_equal(rt_http_get_buffer(faulty("/hang/1/store/slow.txt"), &data, &len, &opts, NULL, &err), 0);
  double took = now() - t0;
  assert_string_equal(data, "late");
  free(data);
  assert_true(took >= 0.9 && took < 5.0); /* one 1 s stall, not the 10 s hang */
}

static void test_cut_off_download_never_leaves_a_partial_file(void **state) {
  rt_error err;
  char src[RT_PATH_MAX], dst[RT_PATH_MAX], hex[RT_SHA256_HEX], got[RT_SHA256_HEX];
  rt_fs_path(src, NULL, "%s/cut.bin", work);
  rt_fs_path(dst, NULL, "%s/cut.dst", work);
  make_big_file(src, hex);
  assert_int_equal(rt_http_put_file(direct("/store/cut.bin"), src, &opts, &err), 0);
  /* Always cut: the old file stays as it was, and no temp is left. */
  assert_int_equal(tmpdir_put(dst, "previous version"), 0);
  assert_int_equal(rt_http_get_file(faulty("/truncate/99/store/cut.bin"), dst, NULL, &opts, NULL, &err), -1);
  assert_non_null(strstr(err.msg, "failed after 3 attempts"));
  char *kept = tmpdir_get(dst);
  assert_string_equal(kept, "previous version");
  free(kept);
  assert_int_equal(tmpdir_count_names(work, ".tmp-"), 0);
  /* Cut once: the retry starts over and the file is whole. */
  assert_int_equal(rt_http_get_file(faulty("/truncate/1/store/cut.bin"), dst, hex, &opts, NULL, &err), 0);
  assert_int_equal(rt_sha256_file(dst, got, &err), 0);
  assert_string_equal(got, hex);
  assert_int_equal(test_servers_hits(&servers, "GET", "/truncate/1/store/cut.bin"), 2);
}

static void test_connection_refused_names_the_url(void **state) {
  rt_error err;
  char *data;
  size_t len;
  /* A port that was free a moment ago: nobody listens there. */
  char url[128];
  snprintf(url, sizeof url, "http://127.0.0.1:%d/store/x", servers.nginx_port == 1 ? 2 : 1);
  assert_int_equal(rt_http_get_buffer(url, &data, &len, &opts, NULL, &err), -1);
  assert_non_null(strstr(err.msg, url));
  assert_non_null(strstr(err.msg, "failed after 3 attempts"));
}

static void test_delete_removes_and_tolerates_missing(void **state) {
  rt_error err;
  char *data;
  size_t len;
  long status;
  assert_int_equal(rt_http_put_buffer(direct("/store/models/gone/model.json"), "{}", 2, &opts, &err), 0);
  assert_int_equal(rt_http_delete(direct("/store/models/gone/"), &opts, &err), 0);
  assert_int_equal(
      rt_http_get_buffer(direct("/store/models/gone/model.json"), &data, &len, &opts, &status, &err), -1);
  assert_int_equal(status, 404);
  assert_int_equal(rt_http_delete(direct("/store/models/gone/"), &opts, &err), 0);
}

static void test_escape_segment(void **state) {
  rt_error err;
  char *e = rt_http_escape("my model/v1", &err);
  assert_string_equal(e, "my%20model%2Fv1");
  free(e);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_put_then_get_buffer),
      cmocka_unit_test(test_put_then_get_file_with_sha256),
      cmocka_unit_test(test_sha256_mismatch_leaves_no_file),
      cmocka_unit_test(test_404_from_nginx_is_a_clear_error_without_retries),
      cmocka_unit_test(test_500_then_success_is_retried),
      cmocka_unit_test(test_retries_are_bounded),
      cmocka_unit_test(test_stalled_server_times_out_and_retries),
      cmocka_unit_test(test_cut_off_download_never_leaves_a_partial_file),
      cmocka_unit_test(test_connection_refused_names_the_url),
      cmocka_unit_test(test_delete_removes_and_tolerates_missing),
      cmocka_unit_test(test_escape_segment),
  };
  return cmocka_run_group_tests_name("http", tests, start, stop);
}
