/* Tests for runtime/model_entity.c: model.json create, parse, validate, versions. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "model_entity.h"
#include "sha256.h"

static const char SHA_A[] = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
static const char SHA_B[] = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

static json_t *new_model(const char *name) {
  json_t *labels = json_pack("[s,s]", "cat", "dog");
  json_t *config = json_pack("{s:i,s:f}", "batch_size", 64, "learning_rate", 0.001);
  rt_model_defaults d = {name, labels, config, "image", "class", "ds-1"};
  rt_error err;
  json_t *m = rt_model_new(&d, &err);
  json_decref(labels);
  json_decref(config);
  return m;
}

static void test_new_model_has_the_entity_fields_in_order(void **state) {
  json_t *m = new_model("fashion-mlp");
  assert_non_null(m);
  const char *keys[] = {"id",        "name",       "status",    "labels",   "configuration",
                        "inputType", "outputType", "datasetId", "metadata", "artifacts",
                        "versions",  "metrics",    "createdAt", "updatedAt"};
  size_t i = 0;
  const char *key;
  json_t *v;
  json_object_foreach(m, key, v) {
    assert_true(i < 14);
    assert_string_equal(key, keys[i++]);
  }
  assert_int_equal(i, 14);
  assert_string_equal(rt_model_name(m), "fashion-mlp");
  assert_string_equal(json_string_value(json_object_get(m, "status")), "created");
  assert_int_equal(strlen(rt_model_id(m)), 24);
  assert_string_equal(json_string_value(json_array_get(json_object_get(m, "labels"), 1)), "dog");
  assert_int_equal(json_integer_value(json_object_get(json_object_get(m, "configuration"), "batch_size")),
                   64);
  assert_string_equal(json_string_value(json_object_get(m, "datasetId")), "ds-1");
  json_t *train = json_object_get(json_object_get(json_object_get(m, "metadata"), "system"), "subsets");
  char *subset = json_dumps(json_object_get(train, "train"), JSON_COMPACT);
  assert_string_equal(subset, "{\"filter\":{\"$and\":[{\"dir\":\"/train\"}]}}");
  free(subset);
  assert_int_equal(rt_model_latest_version(m), 0);
  json_t *other = new_model("fashion-mlp");
  assert_string_not_equal(rt_model_id(m), rt_model_id(other));
  json_decref(other);
  json_decref(m);
}

static void test_new_model_refuses_bad_names(void **state) {
  rt_model_defaults d = {"../etc", NULL, NULL, NULL, NULL, NULL};
  rt_error err;
  assert_null(rt_model_new(&d, &err));
  assert_non_null(strstr(err.msg, "model name '../etc'"));
}

static void test_dump_and_parse_round_trip(void **state) {
  json_t *m = new_model("m1");
  rt_error err;
  assert_int_equal(rt_model_add_version(m, 1, SHA_A, 1234, &err), 0);
  char *text = rt_model_dump(m);
  assert_non_null(text);
  assert_true(text[strlen(text) - 1] == '\n');
  assert_non_null(strstr(text, "\n  \"name\": \"m1\""));
  json_t *back = rt_model_parse(text, strlen(text), "model.json", &err);
  assert_non_null(back);
  assert_true(json_equal(m, back));
  char *again = rt_model_dump(back);
  assert_string_equal(text, again);
  free(again);
  free(text);
  json_decref(back);
  json_decref(m);
}

static void expect_invalid(const char *text, const char *needle) {
  rt_error err;
  json_t *m = rt_model_parse(text, strlen(text), "store/models/x/model.json", &err);
  assert_null(m);
  if (!strstr(err.msg, needle)) fail_msg("error '%s' does not contain '%s'", err.msg, needle);
  assert_non_null(strstr(err.msg, "store/models/x/model.json"));
}

/* Reals keep 10 digits, but the largest doubles would round past DBL_MAX
 * and the dump could not be read again. */
static void test_huge_reals_read_back(void **state) {
  const char text[] =
      "{\"name\": \"m\", \"metrics\": {\"loss\": 1.7976931348623157e308, \"acc\": 0.91234567891}}";
  rt_error err;
  json_t *m = rt_model_parse(text, strlen(text), "model.json", &err);
  assert_non_null(m);
  char *dump = rt_model_dump(m);
  json_t *back = rt_model_parse(dump, strlen(dump), "dump", &err);
  if (!back) fail_msg("%s", err.msg);
  assert_true(json_equal(m, back));
  free(dump);
  json_decref(back);
  json_decref(m);
  /* and everything else keeps 10 digits */
  json_t *short_reals = json_pack("{s:s,s:f}", "name", "m", "acc", 0.91234567891);
  dump = rt_model_dump(short_reals);
  assert_non_null(strstr(dump, "\"acc\": 0.9123456789\n"));
  free(dump);
  json_decref(short_reals);
}

static void test_invalid_entities_name_the_field(void **state) {
  expect_invalid("{\"name\": \"x\",", "invalid JSON at line 1");
  expect_invalid("[1]", "must be a JSON object");
  expect_invalid("{\"id\": \"1\"}", "field 'name' must be a string");
  expect_invalid("{\"name\": \"a/b\"}", "must not contain '/'");
  expect_invalid("{\"name\": \"x\", \"labels\": \"cat\"}", "labels must be a list");
  expect_invalid("{\"name\": \"x\", \"configuration\": []}", "configuration must be an object");
  expect_invalid("{\"name\": \"x\", \"versions\": [{\"version\": 0, \"sha256\": \"00\"}]}",
                 "versions[0].version must be a whole number from 1 to 1000000000");
  /* beyond an int, the latest version read as negative */
  char huge[256];
  snprintf(huge, sizeof huge,
           "{\"name\": \"x\", \"versions\": [{\"version\": 2147483648, \"sha256\": \"%s\"}]}", SHA_A);
  expect_invalid(huge, "versions[0].version must be a whole number from 1 to 1000000000");
  expect_invalid("{\"name\": \"x\", \"versions\": [{\"version\": 1, \"sha256\": \"abc\"}]}",
                 "versions[0].sha256 must be 64 hex digits");
  char twice[512];
  snprintf(twice, sizeof twice,
           "{\"name\": \"x\", \"versions\": [{\"version\": 2, \"sha256\": \"%s\"}, {\"version\": 2, "
           "\"sha256\": \"%s\"}]}",
           SHA_A, SHA_B);
  expect_invalid(twice, "version v2 appears twice");
  expect_invalid("{\"name\": \"x\", \"artifacts\": [{\"type\": \"link\"}]}",
                 "artifacts[0] is a link without a url");
  expect_invalid("{\"name\": \"x\", \"metadata\": {\"system\": {\"subsets\": 3}}}",
                 "metadata.system.subsets must be an object");
}

static void test_platform_entity_with_underscore_id_is_read(void **state) {
  const char *text =
      "{\"_id\": \"65a1b2c3d4e5f6a7b8c9d0e1\", \"name\": \"platform-model\", \"status\": \"trained\","
      " \"metadata\": {\"system\": {\"subsets\": {\"train\": \"{\\\"filter\\\": {}}\"}}}, \"extra\": "
      "{\"kept\": true}}";
  rt_error err;
  json_t *m = rt_model_parse(text, strlen(text), "model.json", &err);
  assert_non_null(m);
  assert_string_equal(rt_model_id(m), "65a1b2c3d4e5f6a7b8c9d0e1");
  assert_true(json_is_true(json_object_get(json_object_get(m, "extra"), "kept")));
  assert_int_equal(rt_model_latest_version(m), 0);
  json_decref(m);
}

static void test_parse_ref(void **state) {
  char name[RT_MODEL_NAME_MAX];
  int v;
  rt_error err;
  assert_int_equal(rt_model_parse_ref("resnet", name, &v, &err), 0);
  assert_string_equal(name, "resnet");
  assert_int_equal(v, 0);
  assert_int_equal(rt_model_parse_ref("resnet@v12", name, &v, &err), 0);
  assert_string_equal(name, "resnet");
  assert_int_equal(v, 12);
  const char *bad[] = {"resnet@", "resnet@v", "resnet@v0", "resnet@3", "resnet@v2x", "@v1", "a/b@v1"};
  for (int i = 0; i < 7; i++) {
    assert_int_equal(rt_model_parse_ref(bad[i], name, &v, &err), -1);
    assert_non_null(strstr(err.msg, i < 5 ? "NAME@vN" : "model name"));
  }
}

static void test_versions_and_artifacts(void **state) {
  json_t *m = new_model("m2");
  rt_error err;
  json_array_append_new(json_object_get(m, "artifacts"),
                        json_pack("{s:s,s:s}", "type", "link", "url", "https://example.org/w.bin"));
  assert_int_equal(rt_model_add_version(m, 1, SHA_A, 10, &err), 0);
  assert_int_equal(rt_model_add_version(m, 2, SHA_B, 20, &err), 0);
  assert_int_equal(rt_model_add_version(m, 2, SHA_B, 20, &err), -1);
  assert_non_null(strstr(err.msg, "already has a version v2"));
  assert_int_equal(rt_model_add_version(m, RT_MODEL_VERSION_MAX + 1, SHA_B, 20, &err), -1);
  assert_non_null(strstr(err.msg, "is outside 1..1000000000"));
  assert_int_equal(rt_model_latest_version(m), 2);
  const json_t *v1 = rt_model_find_version(m, 1);
  assert_string_equal(json_string_value(json_object_get(v1, "sha256")), SHA_A);
  assert_int_equal(json_integer_value(json_object_get(v1, "size")), 10);
  const char *created = json_string_value(json_object_get(v1, "created"));
  assert_int_equal(strlen(created), 24);
  assert_true(created[10] == 'T' && created[23] == 'Z');
  assert_null(rt_model_find_version(m, 3));
  /* One archive entry, for the latest version; the link stays. */
  json_t *artifacts = json_object_get(m, "artifacts");
  assert_int_equal(json_array_size(artifacts), 2);
  assert_string_equal(json_string_value(json_object_get(json_array_get(artifacts, 0), "type")), "link");
  json_t *archive = json_array_get(artifacts, 1);
  assert_string_equal(json_string_value(json_object_get(archive, "path")), "artifacts/v2.tar.gz");
  assert_int_equal(rt_model_set_status(m, "trained", &err), 0);
  assert_string_equal(json_string_value(json_object_get(m, "status")), "trained");
  assert_int_equal(rt_model_validate(m, "m2", &err), 0);
  json_decref(m);
}

/* The trainer record of m, borrowed. */
static json_t *trainer(json_t *m) {
  return json_object_get(json_object_get(json_object_get(m, "metadata"), "system"), "trainer");
}

static void test_a_training_whose_process_is_gone_reads_interrupted(void **state) {
  json_t *m = new_model("m3");
  rt_error err;
  assert_string_equal(rt_model_shown_status(m), "created");
  assert_int_equal(rt_model_set_training(m, &err), 0);
  assert_string_equal(json_string_value(json_object_get(m, "status")), "training");
  assert_int_equal(json_integer_value(json_object_get(trainer(m), "pid")), getpid());
  assert_string_equal(rt_model_shown_status(m), "training"); /* this process lives */
  assert_int_equal(rt_model_validate(m, "m3", &err), 0);

  /* A child that has exited and been reaped: its pid names no process. */
  pid_t child = fork();
  if (child == 0) _exit(0);
  assert_true(child > 0);
  assert_int_equal(waitpid(child, NULL, 0), child);
  json_object_set_new(trainer(m), "pid", json_integer(child));
  assert_string_equal(rt_model_shown_status(m), "interrupted");
  assert_string_equal(json_string_value(json_object_get(m, "status")), "training"); /* shown, not written */

  /* A process of another host cannot be checked: it stays "training". */
  json_object_set_new(trainer(m), "host", json_string("another-host.invalid"));
  assert_string_equal(rt_model_shown_status(m), "training");

  /* Any other status drops the record. */
  assert_int_equal(rt_model_set_status(m, "failed", &err), 0);
  assert_null(trainer(m));
  assert_string_equal(rt_model_shown_status(m), "failed");
  json_object_del(m, "status");
  assert_string_equal(rt_model_shown_status(m), "?");
  json_decref(m);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_a_training_whose_process_is_gone_reads_interrupted),
      cmocka_unit_test(test_new_model_has_the_entity_fields_in_order),
      cmocka_unit_test(test_new_model_refuses_bad_names),
      cmocka_unit_test(test_dump_and_parse_round_trip),
      cmocka_unit_test(test_huge_reals_read_back),
      cmocka_unit_test(test_invalid_entities_name_the_field),
      cmocka_unit_test(test_platform_entity_with_underscore_id_is_read),
      cmocka_unit_test(test_parse_ref),
      cmocka_unit_test(test_versions_and_artifacts),
  };
  return cmocka_run_group_tests_name("model_entity", tests, NULL, NULL);
}
