/* item_doc.h — one item's annotation document (Dataloop JSON, spec §3).
 *
 * A dataset keeps one JSON file per item: id, filename (the remote path),
 * metadata.system (mimetype, width, height, size) and annotations. Saving
 * predictions works as the platform does: the annotations of this model are
 * replaced, ground truth and other models' annotations are kept. */
#ifndef RT_ITEM_DOC_H
#define RT_ITEM_DOC_H

#include <jansson.h>
#include <stdbool.h>

#include "rt_error.h"

/* A new document for an item that has no JSON file yet. Caller owns it.
 * width/height/size < 0 are left out. */
json_t *rt_item_doc_new(const char *id, const char *filename, const char *mimetype, long width, long height,
                        long long size);

/* Reads the document at path. A missing file gives *doc = NULL and 0; a
 * file that is not a JSON object is an error naming the file and the line. */
int rt_item_doc_read(const char *path, json_t **doc, rt_error *err);

/* The item id of a document: "id", else "_id"; NULL when neither is a string. */
const char *rt_item_doc_id(const json_t *doc);

/* The model an annotation was predicted by (metadata.user.model.name, else
 * metadata.system.model.name), or NULL for ground truth and human work. */
const char *rt_annotation_model(const json_t *annotation);

/* True when the annotation is ground truth: it has no metadata.user.model. */
bool rt_annotation_is_ground_truth(const json_t *annotation);

/* True when doc holds at least one annotation of model_name. */
bool rt_item_doc_has_model(const json_t *doc, const char *model_name);

/* Removes model_name's annotations from doc and appends the annotations of
 * `fresh` (a JSON array; the reference is stolen), each given the stable id
 * sha256(model_name, item_id, index) so a re-run writes the same bytes. */
int rt_item_doc_replace_model(json_t *doc, const char *model_name, const char *item_id, json_t *fresh,
                              rt_error *err);

/* The document as the bytes of its file: indented, keys in insertion order,
 * ending with a newline. Caller frees. */
char *rt_item_doc_dump(const json_t *doc);

#endif
