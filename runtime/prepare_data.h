/* prepare_data.h — the training data of train_model, laid out as dtlpy's
 * prepare_data downloads it (spec §4):
 *
 *   $DATALOOP_PATH/model_data/<model id>_<model name>/<YYYY-MM-DD-HHMMSS>/
 *     output/                                       output_path handed to train()
 *     datasets/<dataset id>/                        data_path handed to train()
 *       <subset>/items/<remote path>                the files (hard links when possible)
 *       <subset>/json/<remote path>.json            ground truth only
 *
 * One folder per subset of the model (model.json metadata.system.subsets, a
 * {name: dtlpy filter} table; default train = dir /train and validation =
 * dir /validation). A subset that selects no item is an error naming it and
 * its filter.
 *
 *   rt_prepared_data d;
 *   if (rt_prepare_data(&paths, model, &dataset, &d, &err) < 0) ...
 *   ... train(d.data_path, d.output_path) ...
 *   rt_prepared_data_free(&d);
 */
#ifndef RT_PREPARE_DATA_H
#define RT_PREPARE_DATA_H

#include <jansson.h>

#include "dataset.h"
#include "paths.h"

typedef struct rt_prepared_data {
  char root[RT_PATH_MAX];        /* model_data/<id>_<name>/<time>: what --cleanup removes */
  char data_path[RT_PATH_MAX];   /* root/datasets/<dataset id> */
  char output_path[RT_PATH_MAX]; /* root/output, created empty */
  json_t *counts;                /* owned: {subset name: items}, in the model's subset order */
} rt_prepared_data;

/* Copies the model's subsets of ds into a new folder under model_data/.
 * A folder left half-written by a failure stays, so the files can be looked
 * at; *out->root says where. After SIGINT or SIGTERM (signals.h) the copy
 * stops at the next item and its folder is removed (out->root is then ""). */
int rt_prepare_data(const rt_paths *p, const json_t *model, const rt_dataset *ds, rt_prepared_data *out,
                    rt_error *err);
void rt_prepared_data_free(rt_prepared_data *d);

/* Removes d->root, and its parent <id>_<name> folder when that is empty. */
int rt_prepared_data_remove(const rt_prepared_data *d, rt_error *err);

#endif
