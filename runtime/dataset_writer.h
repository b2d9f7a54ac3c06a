/* dataset_writer.h — building a dataset in the store's export layout.
 *
 * Items are written into a staging folder beside the target; finishing
 * writes dataset.json, makes everything durable with one sync and puts the
 * folder in place in one rename. An import that fails or is interrupted
 * leaves no half dataset behind:
 *
 *   rt_dataset_writer w;
 *   rt_dsw_begin(&w, "/home/u/.dataloop/datasets/fmnist", "fmnist", false, &err);
 *   rt_dsw_add_label(&w, "cat", &err);
 *   rt_dsw_add_item(&w, "/train/00001.png", png, png_len, "image/png", 28, 28, "cat", &err);
 *   rt_dsw_finish(&w, &err);     // or rt_dsw_abort(&w) on failure
 */
#ifndef RT_DATASET_WRITER_H
#define RT_DATASET_WRITER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "fsutil.h"

typedef struct rt_dataset_writer {
  char target[RT_PATH_MAX];  /* read-only: the dataset folder being made */
  char stage[RT_PATH_MAX];   /* private: the staging folder beside it */
  char name[256];            /* read-only */
  char id[25];               /* read-only: a new 24-hex-digit dataset id */
  json_t *labels;            /* private: [{tag, color}] */
  long items;                /* read-only: items added */
  long skipped;              /* public: source files an importer left out, counted by it */
  long stale_removed;        /* read-only: staging folders of killed imports that begin removed */
} rt_dataset_writer;

/* Starts a dataset at target. An existing target is an error naming it,
 * unless overwrite (then it is replaced when the import finishes). The
 * staging folders that killed imports left beside target are removed. */
int rt_dsw_begin(rt_dataset_writer *w, const char *target, const char *name, bool overwrite, rt_error *err);

/* Declares a label (in order; colours come from a fixed palette). */
int rt_dsw_add_label(rt_dataset_writer *w, const char *label, rt_error *err);

/* Writes items/<remote_path> and json/<remote_path with .json>, the latter
 * with a class ground-truth annotation when label is not NULL. remote_path
 * starts with '/'. width/height < 0 when unknown. After SIGINT or SIGTERM
 * (signals.h) it adds nothing and fails, naming the signal: every importer
 * adds its items here, so this is where an import stops. */
int rt_dsw_add_item(rt_dataset_writer *w, const char *remote_path, const void *bytes, size_t len,
                    const char *mimetype, long width, long height, const char *label, rt_error *err);

/* Like rt_dsw_add_item, with any ground truth: annotations (borrowed; NULL
 * for none) is an array of {"type", "label", "coordinates"} objects in
 * Dataloop form (coordinates may be left out, as for class). Each is written
 * with a stable id, "attributes": [] and metadata.system.automated = false:
 *   json_t *gt = json_pack("[{s:s, s:s, s:[{s:i, s:i, s:i}, {s:i, s:i, s:i}]}]", "type", "box",
 *                          "label", "ellipse", "coordinates", "x", 3, "y", 4, "z", 0, "x", 20, "y", 12, "z", 0);
 *   rt_dsw_add_item_annotated(&w, "/test/00001.png", png, png_len, "image/png", 96, 96, gt, &err); */
int rt_dsw_add_item_annotated(rt_dataset_writer *w, const char *remote_path, const void *bytes, size_t len,
                              const char *mimetype, long width, long height, const json_t *annotations,
                              rt_error *err);

/* Copies the file at src as item remote_path (see rt_dsw_add_item). */
int rt_dsw_add_file(rt_dataset_writer *w, const char *remote_path, const char *src, const char *mimetype,
                    const char *label, rt_error *err);

/* Writes dataset.json, syncs and moves the dataset into place. */
int rt_dsw_finish(rt_dataset_writer *w, rt_error *err);

/* Removes the staging folder; the target is untouched. */
void rt_dsw_abort(rt_dataset_writer *w);

/* 24 random hex digits (an entity id, as the platform's). */
int rt_new_id(char out[25], rt_error *err);

/* Where an item's document lives in a json folder: json_dir + the remote
 * path with its extension replaced by .json ("/a/b.png" -> json_dir/a/b.json). */
int rt_doc_path(const char *json_dir, const char *remote_path, char *out, rt_error *err);

/* Mimetype from a file name's extension ("image/jpeg"); "application/octet-stream" when unknown. */
const char *rt_mimetype_of(const char *filename);

#endif
