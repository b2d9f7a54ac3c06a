/* dataset.h — datasets in Dataloop export layout, and their items.
 *
 *   <dataset>/dataset.json          id, name, labels (with colours); optional
 *   <dataset>/items/<remote path>   the files ("/train/00001.png")
 *   <dataset>/json/<remote path with the extension replaced by .json>
 *
 *   rt_dataset ds;
 *   rt_dataset_open(&ds, &paths, "fashion", &err);   // or a path
 *   rt_dataset_items items = {0};
 *   rt_dataset_list(&ds, filters, n_filters, &items, &err);
 *   ...
 *   rt_dataset_items_free(&items);
 *   rt_dataset_close(&ds);
 */
#ifndef RT_DATASET_H
#define RT_DATASET_H

#include <jansson.h>

#include "dataset_filter.h"
#include "paths.h"
#include "rt_error.h"

typedef struct rt_dataset {
  char root[RT_PATH_MAX]; /* read-only: the dataset's folder */
  json_t *info;           /* read-only, owned: dataset.json, {} when the folder has none */
} rt_dataset;

/* Opens a dataset: a name under <home>/datasets/, or a path (anything with
 * a '/') to a folder holding the layout. The folder must have items/. */
int rt_dataset_open(rt_dataset *ds, const rt_paths *p, const char *name_or_path, rt_error *err);
/* Opens the dataset under <home>/datasets/ whose dataset.json has this id
 * ("id" or "_id"): how a model's datasetId is found. */
int rt_dataset_open_id(rt_dataset *ds, const rt_paths *p, const char *id, rt_error *err);
void rt_dataset_close(rt_dataset *ds);
/* Borrowed from dataset.json ("id" or "_id", "name"); the name falls back
 * to the folder's name, the id to NULL. */
const char *rt_dataset_id(const rt_dataset *ds);
const char *rt_dataset_name(const rt_dataset *ds);

typedef struct rt_dataset_item {
  char *remote_path;    /* owned: "/train/00001.png" */
  char *local_path;     /* owned: <root>/items/train/00001.png */
  char *json_path;      /* owned: <root>/json/train/00001.json, which may not exist */
  const char *mimetype; /* static: from the extension (rt_mimetype_of), "image/png" */
  long long size;       /* bytes */
} rt_dataset_item;

typedef struct rt_dataset_items {
  rt_dataset_item *v; /* read-only for callers */
  size_t n;
  size_t cap; /* private */
} rt_dataset_items;

/* Appends the items passing every filter (none: all items) to out, in
 * sorted remote-path order. Files whose name starts with '.' are not
 * items. An item whose annotation file does not parse is kept whatever
 * label or annotated filters say: reading it again names the file, and the
 * caller reports that item as bad. */
int rt_dataset_list(const rt_dataset *ds, const rt_filter *const *filters, size_t n_filters,
                    rt_dataset_items *out, rt_error *err);
void rt_dataset_items_free(rt_dataset_items *l);

#endif
