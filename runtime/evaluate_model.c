/* evaluate_model (`dlrun ADAPTER.lua evaluate`): load_from_model, predict
 * over the chosen items exactly as predict_items does (the model's
 * annotations are saved into the dataset's documents, as the platform
 * does), then read each document back and score ground truth against this
 * model's annotations. The metrics go to the run folder (metrics.json,
 * confusion_matrix.png, pr_curve.png), to stdout as tables and to the model
 * entity's metrics.evaluate. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "item_doc.h"
#include "metrics_annotation.h"
#include "metrics_report.h"
#include "model_store.h"
#include "plot.h"
#include "predict_items.h"
#include "signals.h"

/* The model's labels as a list of borrowed strings (caller frees the list). */
static const char **model_labels(const json_t *model, int *n) {
  const json_t *labels = json_object_get(model, "labels");
  const char **v = malloc((json_array_size(labels) + 1) * sizeof *v);
  *n = 0;
  size_t i;
  const json_t *l;
  json_array_foreach(labels, i, l) {
    if (v && json_is_string(l)) v[(*n)++] = json_string_value(l);
  }
  return v;
}

/* A positive integer from the document's metadata.system, else fallback. */
static int doc_size(const json_t *doc, const char *key, long fallback) {
  json_int_t v = json_integer_value(json_object_get(json_object_get(json_object_get(doc, "metadata"), "system"), key));
  if (v > 0 && v < 1 << 30) return (int)v;
  return fallback > 0 && fallback < 1 << 30 ? (int)fallback : 0;
}

/* Scores one item from its document. A bad document fails the item, which
 * then counts as failed instead of ok (predicted now) or skipped (--resume). */
static void score_item(rt_run_items *r, rt_metrics *m, const rt_item *it, bool predicted_now) {
  rt_error e;
  json_t *doc = NULL, *gt = NULL, *pred = NULL;
  int rc = it->json_path ? rt_item_doc_read(it->json_path, &doc, &e) : rt_fail(&e, "the item has no document");
  if (rc == 0 && !doc) rc = rt_fail(&e, "%s: no annotation document", it->json_path);
  if (rc == 0)
    rc = rt_metrics_split_annotations(json_object_get(doc, "annotations"), r->session.model_name, &gt, &pred, &e);
  if (rc == 0)
    rc = rt_metrics_add_item(m, it->filename, gt, pred, doc_size(doc, "width", it->width),
                             doc_size(doc, "height", it->height), &e);
  if (rc < 0) {
    rt_run_items_fail(r, it, "evaluate", e.msg);
    if (predicted_now)
      r->run.ok--;
    else
      r->run.skipped--;
  }
  json_decref(gt);
  json_decref(pred);
  json_decref(doc);
}

/* The metrics of every item of the run that did not fail: the items
 * predicted now and those --resume skipped. Caller owns the result. */
static json_t *score_items(rt_run_items *r, rt_error *err) {
  int n_labels;
  const char **labels = model_labels(r->session.model, &n_labels);
  if (!labels) {
    rt_fail(err, "out of memory");
    return NULL;
  }
  rt_metrics *m = rt_metrics_new(labels, n_labels, err);
  free(labels);
  bool *predicted_now = calloc(r->items.n + 1, sizeof *predicted_now);
  if (!m || !predicted_now) {
    if (m) rt_fail(err, "out of memory");
    rt_metrics_free(m);
    free(predicted_now);
    return NULL;
  }
  for (size_t k = 0; k < r->n; k++) predicted_now[r->order[k]] = true;
  for (size_t i = 0; i < r->items.n; i++)
    if (!r->failed[i]) score_item(r, m, &r->items.v[i], predicted_now[i]);
  free(predicted_now);
  json_t *metrics = rt_metrics_finish(m, err);
  rt_metrics_free(m);
  return metrics;
}

/* The filters that chose the items: --filter, or the model's subset. */
static json_t *filters_of(const rt_run_items *r) {
  json_t *list = json_array();
  if (r->subset_filter) {
    json_array_append_new(list, json_string(r->subset_filter));
    return list;
  }
  const char *const *filters;
  int n = rt_args_list(r->session.args, "filter", &filters);
  for (int i = 0; i < n; i++) json_array_append_new(list, json_string(filters[i]));
  return list;
}

/* What was evaluated on what: the head of metrics.json and of the model's
 * metrics.evaluate. Caller owns the result. */
static json_t *evaluation_context(const rt_run_items *r) {
  const char *run = strrchr(r->run.dir, '/');
  const char *dataset_id = rt_dataset_id(&r->dataset);
  char now[32];
  rt_model_timestamp(now);
  return json_pack("{s:s, s:i, s:{s:s?, s:s}, s:o, s:s, s:s}", "model", r->session.model_name, "modelVersion",
                   r->session.loaded.version, "dataset", "id", dataset_id, "name", rt_dataset_name(&r->dataset),
                   "filters", filters_of(r), "run", run ? run + 1 : r->run.dir, "evaluatedAt", now);
}

/* The headline numbers: accuracy, and mAP per annotation type. */
static json_t *scalars(const json_t *metrics) {
  json_t *out = json_pack("{s:O?}", "n_items", json_object_get(metrics, "n_items"));
  for (int kind = 0; out && kind < RT_METRICS_N_KINDS; kind++) {
    const char *name = rt_metrics_kind_name(kind);
    const json_t *sec = json_object_get(metrics, name);
    if (!json_is_object(sec)) continue;
    json_t *s = kind == RT_METRICS_CLASS
                    ? json_pack("{s:O?}", "accuracy", json_object_get(sec, "accuracy"))
                    : json_pack("{s:O?, s:O?}", "map50", json_object_get(sec, "map50"), "map50_95",
                                json_object_get(sec, "map50_95"));
    json_object_set_new(out, name, s);
  }
  return out;
}

/* rt_models_update edit: metrics.evaluate = the latest evaluation. */
static int record_metrics(json_t *model, void *ud, rt_error *err) {
  json_t *metrics = json_object_get(model, "metrics");
  if (!json_is_object(metrics)) {
    metrics = json_object();
    if (json_object_set_new(model, "metrics", metrics) < 0) return rt_fail(err, "out of memory");
  }
  if (json_object_set(metrics, "evaluate", ud) < 0) return rt_fail(err, "out of memory");
  return 0;
}

/* Writes metrics.json and the plots into the run folder, prints the tables
 * and records the headline numbers in the model entity. */
static int report(rt_run_items *r, json_t *metrics, rt_error *err) {
  json_t *context = evaluation_context(r);
  json_t *doc = json_deep_copy(context), *entry = json_deep_copy(context), *numbers = scalars(metrics);
  json_decref(context);
  if (!doc || !entry || !numbers || json_object_update(doc, metrics) < 0 || json_object_update(entry, numbers) < 0) {
    json_decref(doc);
    json_decref(entry);
    json_decref(numbers);
    return rt_fail(err, "out of memory");
  }
  char *text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
  char path[RT_PATH_MAX];
  int rc = text ? rt_fs_path(path, err, "%s/metrics.json", r->run.dir) : rt_fail(err, "out of memory");
  if (rc == 0) rc = rt_fs_write_report(path, text, strlen(text), err);
  free(text);
  if (rc == 0) rc = rt_metrics_write_plots(metrics, r->run.dir, err);
  if (rc == 0) {
    rt_metrics_print(metrics, stdout);
    fflush(stdout);
  }
  /* an evaluation that scored nothing does not replace the model's last one */
  if (rc == 0 && json_integer_value(json_object_get(metrics, "n_items")) > 0)
    rc = rt_models_update(&r->session.store, r->session.model_name, record_metrics, entry, NULL, err);
  json_decref(doc);
  json_decref(entry);
  json_decref(numbers);
  return rc;
}

int rt_cmd_evaluate(const rt_args *args) {
  rt_run_items r;
  int rc = rt_run_items_open_subset(&r, args, "evaluate", rt_predict_item_done, "test");
  if (rc != 0) return rc;
  rt_error err;
  if (rt_predict_items(&r, &err) < 0) {
    rc = rt_session_fail(err.msg);
  } else if (!rt_signals_stop_requested()) {
    /* the progress line ends before the tables are printed */
    rt_progress_finish(&r.progress);
    json_t *metrics = score_items(&r, &err);
    if (!metrics || report(&r, metrics, &err) < 0) rc = rt_session_fail(err.msg);
    json_decref(metrics);
  }
  rc = rt_run_items_close(&r, rc);
  rt_plot_release_caches();
  return rc;
}
