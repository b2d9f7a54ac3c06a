/* libFuzzer target: item documents (runtime/item_doc.c), the JSON file of
 * each dataset item. The input is the document, a model's new annotations
 * and the model's name, separated by FUZZ_SEP. The document must read or
 * fail with an error naming it; replacing the model's annotations and
 * dumping must work on any document that reads, the dump must read back to
 * itself, and a second identical replacement must give the same bytes
 * (predict re-runs write the same files). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fsutil.h"
#include "support.h"
#include "item_doc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Reads path, which must hold a document. */
static json_t *read_doc(const char *path) {
  rt_error err = {{0}};
  json_t *doc;
  FUZZ_CHECK(rt_item_doc_read(path, &doc, &err) == 0 && doc, "%s", err.msg);
  return doc;
}

/* True if every new annotation names model: only those are replaced by a
 * second run, so only then is a re-run expected to give the same bytes. */
static int all_name_model(const json_t *fresh, const char *model) {
  size_t i;
  const json_t *a;
  json_array_foreach(fresh, i, a) {
    const char *m = rt_annotation_model(a);
    if (!m || strcmp(m, model) != 0) return 0;
  }
  return 1;
}

/* Replaces model's annotations of doc with a copy of fresh and dumps it. */
static char *replace_and_dump(json_t *doc, const char *model, const json_t *fresh) {
  rt_error err = {{0}};
  const char *id = rt_item_doc_id(doc);
  /* predict falls back on the listing's id when the document has none */
  if (rt_item_doc_replace_model(doc, model, id ? id : "item", json_deep_copy(fresh), &err) < 0) {
    fuzz_expect_error(&err);
    return NULL;
  }
  char *text = rt_item_doc_dump(doc);
  FUZZ_CHECK(text != NULL, "dump failed");
  return text;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *part[3];
  size_t len[3];
  fuzz_split(data, size, 3, part, len);
  char path[RT_PATH_MAX];
  snprintf(path, sizeof path, "%s/item.json", fuzz_scratch());
  fuzz_put(path, part[0], len[0]);

  rt_error err = {{0}};
  json_t *doc;
  if (rt_item_doc_read(path, &doc, &err) < 0) {
    FUZZ_CHECK(strstr(err.msg, path) != NULL, "the error does not name the file: %s", err.msg);
    fuzz_free_parts(3, part);
    return 0;
  }
  FUZZ_CHECK(doc != NULL, "an existing file read as missing");
  const char *model = part[2][0] ? part[2] : "model";
  json_t *fresh = json_loadb(part[1], len[1], JSON_DECODE_ANY, NULL);
  if (!fresh) fresh = json_array();
  rt_item_doc_has_model(doc, model);

  char *first = replace_and_dump(doc, model, fresh);
  if (first) {
    /* the dump reads back and dumps to the same bytes */
    fuzz_put(path, first, strlen(first));
    json_t *again = read_doc(path);
    char *text = rt_item_doc_dump(again);
    FUZZ_CHECK(text && !strcmp(text, first), "the dump changes when read back:\n%s\n%s", first, text);
    free(text);
    /* a re-run of the same predictions */
    if (all_name_model(fresh, model)) {
      char *second = replace_and_dump(again, model, fresh);
      FUZZ_CHECK(second && !strcmp(first, second), "a re-run changes the document:\n%s\n%s", first, second);
      free(second);
    }
    json_decref(again);
    free(first);
  }
  json_decref(fresh);
  json_decref(doc);
  fuzz_free_parts(3, part);
  return 0;
}
