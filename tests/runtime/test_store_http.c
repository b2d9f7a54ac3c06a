/* Tests for the http side of the store: models, save_to_model and
 * load_from_model against a real nginx (WebDAV) on loopback, also through
 * the fault server. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "load_from_model.h"
#include "model_store.h"
#include "save_to_model.h"
#include "runtime/http_servers.h"

static test_servers servers;
static char home[RT_PATH_MAX];
static rt_paths paths;

static int start(void **state) {
  rt_error err;
  if (tmpdir_make(home) < 0 || rt_paths_init(&paths, home, &err) < 0) return -1;
  return test_servers_start(&servers);
}

static int stop(void **state) {
  test_servers_stop(&servers);
  tmpdir_remove(home);
  return 0;
}

/* Opens a store at the given server path, e.g. "/s1/" on nginx or
 * "/fail/1/s2/" through the fault server. */
static void open_store(rt_store *s, int port, const char *prefix) {
  char url[128];
  rt_error err;
  snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, prefix);
  assert_int_equal(rt_store_open(s, url, &paths, &err), 0);
  s->http.max_attempts = 3;
  s->http.first_backoff_ms = 20;
  s->http.stall_timeout_s = 2;
}

static const char *saved_folder(const char *tag, const char *weights) {
  static char dir[RT_PATH_MAX];
  char p[RT_PATH_MAX];
  rt_fs_path(dir, NULL, "%s/out-%s", home, tag);
  rt_fs_path(p, NULL, "%s/weights.txt", dir);
  assert_int_equal(tmpdir_put(p, weights), 0);
  return dir;
}

static int set_trained(json_t *m, void *ud, rt_error *err) { return rt_model_set_status(m, "trained", err); }

static void test_models_over_http(void **state) {
  rt_store s;
  rt_error err;
  json_t *m;
  int created;
  open_store(&s, servers.nginx_port, "/s1/");
  rt_strlist names = {0};
  assert_int_equal(rt_models_list(&s, &names, &err), 0); /* empty store: nothing yet */
  assert_int_equal(names.n, 0);
  rt_model_defaults d = {.name = "remote net", .output_type = "class"};
  assert_int_equal(rt_models_get_or_create(&s, &d, &m, &created, &err), 0);
  assert_int_equal(created, 1);
  json_decref(m);
  d.name = "another";
  assert_int_equal(rt_models_create(&s, &d, &m, &err), 0);
  json_decref(m);
  char disk[RT_PATH_MAX];
  rt_fs_path(disk, NULL, "%s/s1/models/remote net/model.json", servers.root);
  assert_true(rt_fs_exists(disk));

  assert_int_equal(rt_models_update(&s, "remote net", set_trained, NULL, &m, &err), 0);
  json_decref(m);
  assert_int_equal(rt_models_get(&s, "remote net", &m, &err), 0);
  assert_string_equal(json_string_value(json_object_get(m, "status")), "trained");
  json_decref(m);

  assert_int_equal(rt_models_list(&s, &names, &err), 0);
  assert_int_equal(names.n, 2);
  assert_string_equal(names.v[0], "another");
  assert_string_equal(names.v[1], "remote net");
  rt_strlist_free(&names);

  assert_int_equal(rt_models_delete(&s, "another", &err), 0);
  assert_int_equal(rt_models_get(&s, "another", &m, &err), -1);
  assert_non_null(strstr(err.msg, "model 'another' not found in the store http://127.0.0.1:"));
}

static void test_save_and_load_over_http(void **state) {
  rt_store s;
  rt_error err;
  json_t *m;
  rt_saved_version v;
  rt_loaded_model got;
  open_store(&s, servers.nginx_port, "/s2/");
  rt_model_defaults d = {.name = "net"};
  assert_int_equal(rt_models_create(&s, &d, &m, &err), 0);
  json_decref(m);
  assert_int_equal(rt_save_to_model(&s, &paths, "net", saved_folder("a", "remote w1"), &v, &err), 0);
  assert_int_equal(v.version, 1);
  char disk[RT_PATH_MAX], hex[RT_SHA256_HEX];
  rt_fs_path(disk, NULL, "%s/s2/models/net/artifacts/v1.tar.gz", servers.root);
  assert_int_equal(rt_sha256_file(disk, hex, &err), 0);
  assert_string_equal(hex, v.sha256);

  assert_int_equal(rt_models_get(&s, "net", &m, &err), 0);
  assert_int_equal(rt_load_from_model(&s, &paths, m, 0, 0, &got, &err), 0);
  assert_int_equal(got.version, 1);
  char p[RT_PATH_MAX];
  rt_fs_path(p, NULL, "%s/weights.txt", got.path);
  char *w = tmpdir_get(p);
  assert_string_equal(w, "remote w1");
  free(w);
  rt_fs_path(p, NULL, "%s/models", home);
  assert_int_equal(tmpdir_count_names(p, "tmp-"), 0);
  json_decref(m);
}

static void test_flaky_server_is_retried_through_a_whole_cycle(void **state) {
  rt_store s;
  rt_error err;
  json_t *m;
  rt_saved_version v;
  rt_loaded_model got;
  /* Every request path fails once with a 500 before it reaches nginx. */
  open_store(&s, servers.fault_port, "/fail/1/s3/");
  rt_model_defaults d = {.name = "flaky"};
  assert_int_equal(rt_models_create(&s, &d, &m, &err), 0);
  json_decref(m);
  assert_int_equal(rt_save_to_model(&s, &paths, "flaky", saved_folder("b", "survived"), &v, &err), 0);
  assert_int_equal(rt_models_get(&s, "flaky", &m, &err), 0);
  assert_int_equal(rt_load_from_model(&s, &paths, m, 0, 0, &got, &err), 0);
  char p[RT_PATH_MAX];
  rt_fs_path(p, NULL, "%s/weights.txt", got.path);
  char *w = tmpdir_get(p);
  assert_string_equal(w, "survived");
  free(w);
  json_decref(m);
  assert_int_equal(test_servers_hits(&servers, "PUT", "/fail/1/s3/models/flaky/artifacts/v1.tar.gz"), 2);
  assert_int_equal(test_servers_hits(&servers, "GET", "/fail/1/s3/models/flaky/artifacts/v1.tar.gz"), 2);
}

static void test_missing_archive_is_a_404_naming_the_url(void **state) {
  rt_store s;
  rt_error err;
  json_t *m;
  rt_saved_version v;
  rt_loaded_model got;
  open_store(&s, servers.nginx_port, "/s4/");
  rt_model_defaults d = {.name = "lost"};
  assert_int_equal(rt_models_create(&s, &d, &m, &err), 0);
  json_decref(m);
  assert_int_equal(rt_save_to_model(&s, &paths, "lost", saved_folder("c", "v1"), &v, &err), 0);
  assert_int_equal(rt_models_get(&s, "lost", &m, &err), 0);
  assert_int_equal(rt_load_from_model(&s, &paths, m, 0, 0, &got, &err), 0);
  assert_int_equal(rt_save_to_model(&s, &paths, "lost", saved_folder("c", "v2"), &v, &err), 0);
  json_decref(m);
  char disk[RT_PATH_MAX];
  rt_fs_path(disk, NULL, "%s/s4/models/lost/artifacts/v2.tar.gz", servers.root);
  assert_int_equal(unlink(disk), 0);
  assert_int_equal(rt_models_get(&s, "lost", &m, &err), 0);
  assert_int_equal(rt_load_from_model(&s, &paths, m, 0, 0, &got, &err), -1);
  assert_non_null(strstr(err.msg, "/s4/models/lost/artifacts/v2.tar.gz: HTTP 404"));
  char p[RT_PATH_MAX];
  rt_fs_path(p, NULL, "%s/weights.txt", got.path);
  char *w = tmpdir_get(p);
  assert_string_equal(w, "v1"); /* the working copy still holds v1 */
  free(w);
  rt_fs_path(p, NULL, "%s/models", home);
  assert_int_equal(tmpdir_count_names(p, "tmp-"), 0);
  json_decref(m);
}

static int add_link(json_t *m, void *ud, rt_error *err) {
  json_t *link = json_pack("{s:s,s:s,s:s}", "type", "link", "url", ((const char **)ud)[0], "sha256",
                           ((const char **)ud)[1]);
  return json_array_append_new(json_object_get(m, "artifacts"), link) == 0 ? 0 : rt_fail(err, "oom");
}

static void test_link_artifact_over_http_and_a_cut_download(void **state) {
  rt_store s;
  rt_error err;
  json_t *m;
  rt_loaded_model got;
  open_store(&s, servers.nginx_port, "/s5/");
  char disk[RT_PATH_MAX], hex[RT_SHA256_HEX], url[128];
  rt_fs_path(disk, NULL, "%s/zoo/backbone.bin", servers.root);
  assert_int_equal(tmpdir_put(disk, "weights from the zoo, long enough to be cut in half"), 0);
  assert_int_equal(rt_sha256_file(disk, hex, &err), 0);
  rt_model_defaults d = {.name = "linked"};
  assert_int_equal(rt_models_create(&s, &d, &m, &err), 0);
  json_decref(m);
  snprintf(url, sizeof url, "http://127.0.0.1:%d/zoo/backbone.bin?token=x", servers.nginx_port);
  const char *good[] = {url, hex};
  assert_int_equal(rt_models_update(&s, "linked", add_link, good, &m, &err), 0);
  assert_int_equal(rt_load_from_model(&s, &paths, m, 0, 0, &got, &err), 0);
  char p[RT_PATH_MAX];
  rt_fs_path(p, NULL, "%s/backbone.bin", got.path);
  assert_true(rt_fs_exists(p));
  json_decref(m);

  /* A second link whose download is always cut: the load fails and the
   * working copy keeps what it had, with no partial file anywhere. */
  snprintf(url, sizeof url, "http://127.0.0.1:%d/truncate/99/zoo/backbone.bin", servers.fault_port);
  const char *cut[] = {url, hex};
  json_t *bad;
  assert_int_equal(rt_models_update(&s, "linked", add_link, cut, &bad, &err), 0);
  json_object_set_new(json_array_get(json_object_get(bad, "artifacts"), 1), "filename",
                      json_string("second.bin"));
  assert_int_equal(rt_load_from_model(&s, &paths, bad, 0, 0, &got, &err), -1);
  assert_non_null(strstr(err.msg, "/truncate/99/zoo/backbone.bin failed after 3 attempts"));
  assert_true(rt_fs_exists(p));
  rt_fs_path(p, NULL, "%s/models", home);
  assert_int_equal(tmpdir_count_names(p, "second.bin"), 0);
  assert_int_equal(tmpdir_count_names(p, "tmp-"), 0);
  json_decref(bad);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_models_over_http),
      cmocka_unit_test(test_save_and_load_over_http),
      cmocka_unit_test(test_flaky_server_is_retried_through_a_whole_cycle),
      cmocka_unit_test(test_missing_archive_is_a_404_naming_the_url),
      cmocka_unit_test(test_link_artifact_over_http_and_a_cut_download),
  };
  return cmocka_run_group_tests_name("store_http", tests, start, stop);
}
