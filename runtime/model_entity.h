/* model_entity.h — the model entity (model.json) as a jansson object.
 *
 * The fields follow the platform's model entity: id, name, status, labels,
 * configuration, inputType, outputType, datasetId, metadata.system.subsets,
 * artifacts, versions, metrics, createdAt, updatedAt. Unknown fields are
 * kept, in their order. Readers accept "_id" as well as "id".
 *
 *   json_t *m = rt_model_parse(text, len, "store/models/m/model.json", &err);
 *   int latest = rt_model_latest_version(m);
 *   char *text = rt_model_dump(m);   // caller frees
 *   json_decref(m);
 *
 * versions: [{"version": N, "sha256": "<64 hex>", "size": bytes,
 *             "created": "2026-01-31T12:00:00.000Z"}], one per save.
 * artifacts: what load_from_model fetches besides the chosen version:
 *   {"type": "archive", "version": N, "path": "artifacts/vN.tar.gz"}
 *       written by save_to_model for the latest version (informational:
 *       the version to load comes from versions);
 *   {"type": "link", "url": "https://...", "filename": "weights.bin",
 *    "sha256": "<optional>"}   a file fetched by URL into the working copy. */
#ifndef RT_MODEL_ENTITY_H
#define RT_MODEL_ENTITY_H

#include <jansson.h>

#include "rt_error.h"

#define RT_MODEL_NAME_MAX 256 /* a name and its NUL */
/* Versions count from 1 to this, so any of them fits an int. */
#define RT_MODEL_VERSION_MAX 1000000000

/* What a new model starts from: the adapter's defaults and --dataset. */
typedef struct rt_model_defaults {
  const char *name;        /* required */
  json_t *labels;          /* borrowed: array of label names, or NULL */
  json_t *configuration;   /* borrowed: object, or NULL */
  const char *input_type;  /* "image", ..., or NULL */
  const char *output_type; /* "class", "box", ..., or NULL */
  const char *dataset_id;  /* or NULL */
} rt_model_defaults;

/* A new entity with status "created", a fresh id, no versions, and the
 * default subsets (train = dir /train, validation = dir /validation).
 * Caller owns the result (json_decref). */
json_t *rt_model_new(const rt_model_defaults *d, rt_error *err);
/* Parses and validates model.json text; source names it in errors. Caller
 * owns the result. */
json_t *rt_model_parse(const char *text, size_t len, const char *source, rt_error *err);
/* Checks the fields dlrun relies on; errors name source and the field
 * ("versions[1].sha256 must be 64 hex digits"). */
int rt_model_validate(const json_t *m, const char *source, rt_error *err);
/* model.json text: indented, field order kept, ending in a newline.
 * Caller frees; NULL when out of memory. */
char *rt_model_dump(const json_t *m);

/* Borrowed strings from m, or NULL when absent. */
const char *rt_model_name(const json_t *m);
const char *rt_model_id(const json_t *m);

/* Splits "NAME" or "NAME@vN" into name (RT_MODEL_NAME_MAX bytes) and
 * version (0 for "latest"). */
int rt_model_parse_ref(const char *ref, char *name, int *version, rt_error *err);
/* The highest saved version, 0 when there is none. */
int rt_model_latest_version(const json_t *m);
/* The versions entry for version, borrowed; NULL when absent. */
const json_t *rt_model_find_version(const json_t *m, int version);
/* Records a saved version: appends to versions, replaces the archive entry
 * of artifacts (links stay), and stamps updatedAt. */
int rt_model_add_version(json_t *m, int version, const char *sha256, long long size, rt_error *err);
/* Sets status ("created", "training", "trained", "failed", ...) and
 * stamps updatedAt. Any status but "training" drops the trainer record. */
int rt_model_set_status(json_t *m, const char *status, rt_error *err);
/* Status "training", recording this process as the trainer:
 *   metadata.system.trainer = {"pid": 1234, "host": "build-7"}
 * so that a training killed without a chance to say so (kill -9, a power
 * cut) can be told from one still running. */
int rt_model_set_training(json_t *m, rt_error *err);
/* The status to show: "training" reads "interrupted" when the recorded
 * trainer ran on this host and its process is gone. Static or borrowed
 * from m; "?" when m has no status. */
const char *rt_model_shown_status(const json_t *m);
/* Writes the current UTC time as "2026-01-31T12:00:00.000Z" into out
 * (32 bytes), the platform's timestamp form. */
void rt_model_timestamp(char *out);

#endif
