/* libFuzzer target: model.json (runtime/model_entity.c), which a store may
 * hand over in any shape. Any text must parse and validate or fail with an
 * error; an accepted entity must dump to text that reads back to the same
 * dump, and must take a new version and a status as save_to_model does. */
#include <stdlib.h>
#include <string.h>

#include "support.h"
#include "model_entity.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Dumps m, reads the dump back and checks it dumps to the same text. */
static void check_round_trip(const json_t *m) {
  rt_error err = {{0}};
  char *text = rt_model_dump(m);
  FUZZ_CHECK(text != NULL, "dump failed");
  json_t *again = rt_model_parse(text, strlen(text), "dump", &err);
  FUZZ_CHECK(again != NULL, "the dump does not read back: %s\n%s", err.msg, text);
  char *text2 = rt_model_dump(again);
  FUZZ_CHECK(text2 && !strcmp(text, text2), "the dump changes when read back:\n%s\n%s", text, text2);
  free(text2);
  json_decref(again);
  free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  rt_error err = {{0}};
  json_t *m = rt_model_parse((const char *)data, size, "model.json", &err);
  if (!m) {
    fuzz_expect_error(&err);
    return 0;
  }
  FUZZ_CHECK(rt_model_validate(m, "model.json", &err) == 0, "parsed but does not validate: %s", err.msg);
  FUZZ_CHECK(rt_model_name(m) != NULL, "accepted without a name");
  rt_model_id(m);
  check_round_trip(m);

  int latest = rt_model_latest_version(m);
  FUZZ_CHECK(latest >= 0, "latest version %d", latest);
  FUZZ_CHECK(latest == 0 || rt_model_find_version(m, latest) != NULL, "latest version v%d is not found",
             latest);
  static const char sha[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
  if (rt_model_add_version(m, latest + 1, sha, 1, &err) == 0) {
    FUZZ_CHECK(rt_model_latest_version(m) == latest + 1, "v%d was added but the latest is v%d", latest + 1,
               rt_model_latest_version(m));
    FUZZ_CHECK(rt_model_set_status(m, "trained", &err) == 0, "%s", err.msg);
    check_round_trip(m);
  } else {
    fuzz_expect_error(&err);
  }
  json_decref(m);
  return 0;
}
