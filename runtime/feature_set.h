/* feature_set.h — a model's embedding vectors: feature_sets/<name>/.
 *
 *   vectors.f32   count × dim float32, row-major, little-endian
 *   items.jsonl   one {"id", "filename"} per row, in row order
 *   meta.json     {name, model, model_id, dim, count, dtype, updated}
 *
 * Batches are upserted: a known item id overwrites its row in place, a new
 * one is appended. Each put is durable when it returns (vectors first, then
 * the item lines, then meta.json), and opening trims any rows a crash left
 * without their partner, so a killed run followed by --resume ends with the
 * same files as an uninterrupted one. */
#ifndef RT_FEATURE_SET_H
#define RT_FEATURE_SET_H

#include <stdbool.h>
#include <stdint.h>

#include "paths.h"

/* The most dimensions a vector may have: far beyond any embedding, and
 * small enough that row sizes and offsets never overflow. */
#define RT_FEATURES_DIM_MAX (INT64_C(1) << 24)

typedef struct rt_feature_set {
  char dir[RT_PATH_MAX]; /* read-only */
  char name[256];        /* read-only */
  int64_t dim;           /* read-only: 0 until the first vectors fix it */
  int64_t count;         /* read-only: rows */
  char **ids;            /* read-only: count item ids, owned */
  char **filenames;      /* read-only: count remote paths, owned */
  int64_t cap;           /* private */
  int64_t *slots;        /* private: open-addressing index id -> row + 1 */
  int64_t nslots;        /* private */
  char model_id[64];     /* private */
} rt_feature_set;

/* Opens (creating when absent) the feature set called name. model and
 * model_id are recorded in meta.json. Recovers from an interrupted put. */
int rt_features_open(rt_feature_set *f, const rt_paths *p, const char *name, const char *model_id, rt_error *err);

/* Opens an existing feature set read-only (for similar); a missing one is
 * an error naming it. */
int rt_features_open_existing(rt_feature_set *f, const rt_paths *p, const char *name, rt_error *err);

/* The row of item id, or -1. */
int64_t rt_features_find(const rt_feature_set *f, const char *id);

/* Upserts n rows of dim floats (1..RT_FEATURES_DIM_MAX). The first put fixes
 * dim; later puts must match. */
int rt_features_put(rt_feature_set *f, int n, const char *const *ids, const char *const *filenames,
                    const float *vectors, int64_t dim, rt_error *err);

/* Reads all vectors into *out (count × dim floats); caller frees. */
int rt_features_read_vectors(const rt_feature_set *f, float **out, rt_error *err);

void rt_features_close(rt_feature_set *f);

#endif
