/* predict_items.h — the batch loop of predict_items, shared by the commands
 * that predict: `dlrun predict` is this loop alone; evaluate runs it, then
 * scores what it saved.
 *
 *   rt_run_items r;
 *   int rc = rt_run_items_open(&r, args, "predict", rt_predict_item_done);
 *   if (rc != 0) return rc;
 *   if (rt_predict_items(&r, &err) < 0) rc = rt_session_fail(err.msg);
 *   return rt_run_items_close(&r, rc);
 */
#ifndef RT_PREDICT_ITEMS_H
#define RT_PREDICT_ITEMS_H

#include <stdbool.h>

#include "run_items.h"

/* Runs every batch of the open run through the adapter's predict. Each
 * item's annotations are validated and saved: merged into its document
 * (this model's previous annotations replaced, the rest kept), or printed
 * as one JSON line for --out -. Items that fail are recorded in the run and
 * the loop goes on; it also stops early, with 0, after SIGINT/SIGTERM.
 * Returns -1 (err set) only on an error that stops the run. */
int rt_predict_items(rt_run_items *r, rt_error *err);

/* For --resume: the item's document already holds this model's annotations. */
bool rt_predict_item_done(rt_run_items *r, const rt_item *it);

#endif
