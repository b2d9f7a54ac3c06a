/* metrics_report.h — evaluation metrics from ground truth and predictions,
 * as spec §6 and dtlpy-metrics define them.
 *
 *   rt_metrics *m = rt_metrics_new(labels, n_labels, &err);
 *   for each item:
 *     rt_metrics_split_annotations(item_json's "annotations", model_name, &gt, &pred, &err);
 *     rt_metrics_add_item(m, item_id, gt, pred, width, height, &err);
 *   json_t *metrics = rt_metrics_finish(m, &err);      // caller owns
 *   rt_metrics_print(metrics, stdout);
 *   rt_metrics_write_plots(metrics, run_dir, &err);
 *   json_decref(metrics);
 *   rt_metrics_free(m);
 *
 * Per item and per annotation type, ground truth and predictions of one
 * label are matched one-to-one, greedily on the largest score (class: equal
 * label; box: IoU; segment: rasterised IoU; binary: mask IoU; point:
 * exp(-20 * distance / diagonal)). Classes give accuracy, per-label
 * precision/recall/F1 and a confusion matrix; the other types give per-label
 * AP@0.5 and AP@[.5:.95] (COCO's 101-point interpolation), their means over
 * labels with ground truth (mAP), and each label's precision/recall curve.
 * Types other than these five (polyline, ...) are counted and skipped.
 *
 * The JSON from rt_metrics_finish:
 *   {"n_items": N, "unscored_annotations": N, "labels": [..],
 *    "class": {"accuracy", "n_ground_truth", "n_predictions",
 *              "labels": [..],            // matrix order; may end with "(unmatched)"
 *              "confusion_matrix": [[..]],  // rows ground truth, columns predicted
 *              "per_label": [{"label", "precision", "recall", "f1", "support"}]},
 *    "box" | "segment" | "point" | "binary": {
 *              "map50", "map50_95",           // null when no label has ground truth
 *              "n_ground_truth", "n_predictions", "iou_thresholds": [0.5, .., 0.95],
 *              "per_label": [{"label", "n_ground_truth", "n_predictions",
 *                             "ap50", "ap50_95", "ap_by_iou": [..],   // null without ground truth
 *                             "pr_curve": {"recall": [0, 0.01, .., 1], "precision": [..]}}]}}
 * A type's section is present only when the type was seen. */
#ifndef RT_METRICS_REPORT_H
#define RT_METRICS_REPORT_H

#include <jansson.h>
#include <stdio.h>

#include "rt_error.h"

typedef struct rt_metrics rt_metrics;

/* A new accumulator. labels (may be NULL when n_labels is 0) fixes the
 * order of the report's labels; labels found in annotations are appended in
 * the order they are met. The strings are copied. Caller owns the result
 * (rt_metrics_free); NULL on failure. */
rt_metrics *rt_metrics_new(const char *const *labels, int n_labels, rt_error *err);

/* Splits an item's "annotations" array into new arrays: *gt gets every
 * annotation without metadata.user.model (spec §3), *pred those whose
 * metadata.user.model.name is model_name; other models' are left out.
 * Caller owns *gt and *pred (json_decref). */
int rt_metrics_split_annotations(const json_t *annotations, const char *model_name, json_t **gt, json_t **pred,
                                 rt_error *err);

/* Scores one item: gt and pred are arrays of Dataloop annotations (either
 * may be NULL: none). item names the item in errors. width and height are
 * the image's, for the point score's diagonal; 0 means unknown, and then
 * 500 x 500 is used, as dtlpy-metrics does. All binary masks of one item
 * must have one size. On an error nothing of the item is counted. */
int rt_metrics_add_item(rt_metrics *m, const char *item, const json_t *gt, const json_t *pred, int width,
                        int height, rt_error *err);

/* The metrics of every item added so far (see above); m stays usable.
 * Caller owns the result (json_decref); NULL on failure. */
json_t *rt_metrics_finish(const rt_metrics *m, rt_error *err);

/* Prints metrics from rt_metrics_finish as readable tables. */
void rt_metrics_print(const json_t *metrics, FILE *out);

/* Draws the plots of metrics from rt_metrics_finish into dir, which must
 * exist: confusion_matrix.png when classes were scored, and the
 * precision/recall curves of the one type of box, segment, point and binary
 * that had ground truth as pr_curve.png, or, when several types had,
 * pr_curve_<type>.png for each. */
int rt_metrics_write_plots(const json_t *metrics, const char *dir, rt_error *err);

void rt_metrics_free(rt_metrics *m);

#endif
