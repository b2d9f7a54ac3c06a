/* run_items.h — the frame shared by the commands that run the adapter over
 * items (predict, embed, evaluate): session and model loading, the item
 * list (a dataset with filters, or loose files), --resume, the run folder,
 * progress, batches, failures, and the closing summary. */
#ifndef RT_RUN_ITEMS_H
#define RT_RUN_ITEMS_H

#include <stdbool.h>

#include "item_batches.h"
#include "items.h"
#include "progress.h"
#include "run_report.h"
#include "session.h"

struct rt_run_items;

/* For --resume: true when the item already holds this command's results. */
typedef bool (*rt_item_done_fn)(struct rt_run_items *r, const rt_item *it);

typedef struct rt_run_items {
  const char *command;
  rt_session session;
  rt_run run;
  rt_item_list items;
  rt_dataset dataset;            /* the --dataset, when dataset_open */
  size_t *order;                 /* positions in items of those to run; owned */
  size_t n;
  bool *failed;                  /* read-only, owned: per entry of items, true once it failed in this run */
  rt_filter **filters;           /* owned: --filter, parsed while the options are checked */
  size_t nfilters;
  char *subset_filter;           /* read-only, owned: the filter of the model's subset, when that chose the items */
  char docs_lock[RT_PATH_MAX];   /* read-only: the lock file of the documents folder; "" when results stream */
  rt_batches batches;
  rt_progress progress;
  bool show_lines;               /* results as short lines for people (--watch, a terminal) */
  bool dataset_open, session_open, run_open, batches_open;
} rt_run_items;

/* Opens everything up to the first batch. `done` (may be NULL) decides
 * --resume. Prints errors; returns 0, or the exit code to return. */
int rt_run_items_open(rt_run_items *r, const rt_args *args, const char *command, rt_item_done_fn done);

/* Like rt_run_items_open, for a command that works on a subset of a dataset
 * (evaluate: "test"). Items default to the model's: without --dataset, the
 * dataset whose dataset.json id is the model's datasetId (found among the
 * datasets under DIR/datasets/); without --filter, the model's subset
 * (metadata.system.subsets.<subset>, else dir=/<subset>). The command takes
 * no loose items and no --out. */
int rt_run_items_open_subset(rt_run_items *r, const rt_args *args, const char *command, rt_item_done_fn done,
                             const char *subset);

/* The item at position pos of the run order. */
rt_item *rt_run_items_item(rt_run_items *r, size_t pos);

/* Records one failed item in failures.jsonl and the counters. */
void rt_run_items_fail(rt_run_items *r, const rt_item *it, const char *stage, const char *message);

/* Fails the count items of a batch (at first) with one message, except
 * those that already failed preparation (batch object at stack index
 * batch_at), and prints the message once. */
void rt_run_items_fail_batch(rt_run_items *r, int batch_at, size_t first, int count, const char *stage,
                             const char *message);

/* True when item i (1-based) of the batch at stack index batch_at failed
 * preparation, and then records that failure (stage "prepare"): ask once
 * per item. */
bool rt_run_items_prepare_failed(rt_run_items *r, int batch_at, int i, size_t first);

/* The user call of a batch step, shared by predict and embed. The stack
 * holds the batch (count items at position first) and above it one extra
 * value for the converter. Calls the adapter's fn(batch, {}), then
 * dl.host.<convert>(A, batch, result, extra), which returns nresults values,
 * or nil and a message when the result fails the whole batch. The batch's
 * native buffer is released (its views turn stale) before the conversion
 * when release_first, else after it.
 * Returns 1 with the stack holding the batch and the nresults values; 0
 * when the batch failed (fn raised, or the result was refused), recorded,
 * with the batch popped; -1 (err set, batch popped) when the conversion
 * itself failed, an error that stops the run. */
int rt_run_items_batch_step(rt_run_items *r, size_t first, int count, const char *fn, const char *convert,
                            int nresults, bool release_first, rt_error *err);

/* Ends the run: progress line, summary.json and the printed summary.
 * rc is the command's status so far; returns the exit code. */
int rt_run_items_close(rt_run_items *r, int rc);

#endif
