/* load_from_model.h — the C half of load_from_model: put a model version's
 * files in the working copy <home>/models/<name>/ that the adapter's
 * load(local_path) reads.
 *
 *   rt_loaded_model got;
 *   if (rt_load_from_model(&store, &paths, model, 0, 0, &got, &err) < 0) ...
 *   // got.path: hand it to A:load(); got.version: 0 when never saved
 *
 * The working copy holds the chosen version's archive, extracted, plus the
 * model's link artifacts ({"type": "link", "url": ...}) fetched by URL. It
 * is built in a temp folder beside it and swapped in whole, so a failure
 * never leaves a half-extracted working copy. What was loaded is recorded
 * beside it (models/.<name>.loaded.json); when that matches, loading is
 * skipped unless overwrite is asked. A model with no version and no link
 * yields an empty folder. */
#ifndef RT_LOAD_FROM_MODEL_H
#define RT_LOAD_FROM_MODEL_H

#include <jansson.h>

#include "paths.h"
#include "sha256.h"
#include "store_backend.h"

typedef struct rt_loaded_model {
  char path[RT_PATH_MAX];     /* the working copy, <home>/models/<name> */
  int version;                /* the version loaded, 0 when the model has none */
  char sha256[RT_SHA256_HEX]; /* its archive's digest, "" when version is 0 */
  int fetched;                /* 0 when the working copy was already up to date */
} rt_loaded_model;

/* Loads version (0 = the latest) of model (an entity read from s) into its
 * working copy. overwrite rebuilds the working copy even when up to date. */
int rt_load_from_model(const rt_store *s, const rt_paths *p, const json_t *model, int version, int overwrite,
                       rt_loaded_model *out, rt_error *err);

/* Removes the working copy of model name and its record (model delete). */
int rt_forget_working_copy(const rt_paths *p, const char *name, rt_error *err);

#endif
