/* libFuzzer target: item filters (runtime/dataset_filter.c). The input is a
 * --filter argument, a remote path and an item document, separated by
 * FUZZ_SEP. Any text must parse or fail with an error (as a --filter and as
 * a model.json subset), and a parsed filter must match any item without
 * crashing, with or without its document. */
#include <stdio.h>
#include <stdlib.h>

#include "dataset_filter.h"
#include "support.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void match_all_ways(const rt_filter *f, const char *remote_path, const json_t *doc) {
  rt_filter_needs_json(f);
  rt_filter_match(f, remote_path, doc);
  rt_filter_match(f, remote_path, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *part[3];
  size_t len[3];
  fuzz_split(data, size, 3, part, len);
  /* Remote paths come from the dataset's folder listing: they start with '/'. */
  char *remote_path = malloc(len[1] + 2);
  FUZZ_CHECK(remote_path != NULL, "out of memory");
  snprintf(remote_path, len[1] + 2, "%s%s", part[1][0] == '/' ? "" : "/", part[1]);
  json_t *doc = json_loadb(part[2], len[2], 0, NULL);

  rt_error err = {{0}};
  rt_filter *f = rt_filter_parse(part[0], &err);
  if (f) {
    match_all_ways(f, remote_path, doc);
    rt_filter_free(f);
  } else {
    fuzz_expect_error(&err);
  }

  /* model.json subsets hold a filter as JSON: an object or a string. */
  json_t *subset = json_loadb(part[0], len[0], JSON_DECODE_ANY, NULL);
  if (subset) {
    err.msg[0] = '\0';
    f = rt_filter_from_json(subset, "subset", &err);
    if (f) {
      match_all_ways(f, remote_path, doc);
      rt_filter_free(f);
    } else {
      fuzz_expect_error(&err);
    }
    json_decref(subset);
  }
  json_decref(doc);
  free(remote_path);
  fuzz_free_parts(3, part);
  return 0;
}
