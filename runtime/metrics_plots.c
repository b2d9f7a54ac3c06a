/* rt_metrics_write_plots: the PNGs of an evaluation, drawn from the metrics
 * JSON (so saved metrics can be drawn again) by the plot_*.c functions. */
#include "metrics_report.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "fsutil.h"
#include "metrics_annotation.h"
#include "plot.h"

static int confusion_png(const json_t *sec, const char *dir, rt_error *err) {
  const json_t *labels = json_object_get(sec, "labels"), *matrix = json_object_get(sec, "confusion_matrix");
  size_t n = json_array_size(labels);
  if (n == 0 || json_array_size(matrix) != n)
    return rt_fail(err, "metrics JSON: class.confusion_matrix must be %zu x %zu, as class.labels", n, n);
  const char **names = malloc(sizeof *names * n);
  int64_t *counts = malloc(sizeof *counts * n * n);
  int rc = names && counts ? 0 : rt_fail(err, "out of memory drawing the confusion matrix");
  for (size_t r = 0; rc == 0 && r < n; r++) {
    const json_t *row = json_array_get(matrix, r);
    names[r] = json_string_value(json_array_get(labels, r));
    if (!names[r] || json_array_size(row) != n)
      rc = rt_fail(err, "metrics JSON: class row %zu is malformed", r);
    for (size_t c = 0; rc == 0 && c < n; c++) counts[r * n + c] = json_integer_value(json_array_get(row, c));
  }
  char path[RT_PATH_MAX], title[128];
  if (rc == 0) rc = rt_fs_path(path, err, "%s/confusion_matrix.png", dir);
  if (rc == 0) {
    snprintf(title, sizeof title, "Confusion matrix: accuracy %.1f%% (%lld ground truth)",
             100 * json_number_value(json_object_get(sec, "accuracy")),
             (long long)json_integer_value(json_object_get(sec, "n_ground_truth")));
    rc = rt_plot_confusion_png(path, names, (int)n, counts, title, err);
  }
  free(names);
  free(counts);
  return rc;
}

/* Copies a JSON array of n numbers into a new array (caller frees). */
static double *numbers(const json_t *a, size_t n) {
  if (json_array_size(a) != n) return NULL;
  double *v = malloc(sizeof *v * n + 1);
  for (size_t i = 0; v && i < n; i++) v[i] = json_number_value(json_array_get(a, i));
  return v;
}

/* "0.712", or "-" for null. */
static void format_ap(char *out, size_t size, const json_t *v) {
  if (json_is_number(v)) {
    snprintf(out, size, "%.3f", json_number_value(v));
  } else {
    snprintf(out, size, "-");
  }
}

/* True when a type's section has a curve to draw: a label with ground truth. */
static bool has_curve(const json_t *sec) {
  size_t i;
  const json_t *e;
  json_array_foreach(json_object_get(sec, "per_label"), i, e) {
    if (json_is_object(json_object_get(e, "pr_curve"))) return true;
  }
  return false;
}

/* Draws the curves of one type into dir/file. */
static int pr_curve_png(const char *kind, const json_t *sec, const char *dir, const char *file, rt_error *err) {
  const json_t *per_label = json_object_get(sec, "per_label");
  size_t n = json_array_size(per_label), n_series = 0;
  rt_plot_series *series = calloc(n + 1, sizeof *series);
  char(*names)[160] = calloc(n + 1, sizeof *names);
  int rc = series && names ? 0 : rt_fail(err, "out of memory drawing the %s precision/recall curves", kind);
  for (size_t i = 0; rc == 0 && i < n; i++) {
    const json_t *e = json_array_get(per_label, i), *curve = json_object_get(e, "pr_curve");
    if (!json_is_object(curve)) continue; /* a label without ground truth has no curve */
    const json_t *recall = json_object_get(curve, "recall");
    size_t points = json_array_size(recall);
    rt_plot_series *s = &series[n_series];
    s->x = numbers(recall, points);
    s->y = numbers(json_object_get(curve, "precision"), points);
    /* Past the highest recall reached the interpolated precision is 0; a line
     * along the axis there would only hide the other labels' lines. */
    while (s->y && points > 1 && s->y[points - 1] == 0 && s->y[points - 2] == 0) points--;
    s->n = (int)points;
    s->name = names[n_series++];
    char ap[16];
    format_ap(ap, sizeof ap, json_object_get(e, "ap50"));
    snprintf(names[n_series - 1], sizeof *names, "%s (AP %s)", json_string_value(json_object_get(e, "label")),
             ap);
    if (!s->x || !s->y) rc = rt_fail(err, "metrics JSON: %s label %zu has a malformed pr_curve", kind, i);
  }
  char path[RT_PATH_MAX], title[160], map50[16], map50_95[16];
  format_ap(map50, sizeof map50, json_object_get(sec, "map50"));
  format_ap(map50_95, sizeof map50_95, json_object_get(sec, "map50_95"));
  snprintf(title, sizeof title, "%s precision/recall at IoU 0.5: mAP@0.5 %s, mAP@[.5:.95] %s", kind, map50,
           map50_95);
  if (rc == 0 && n_series > 0) rc = rt_fs_path(path, err, "%s/%s", dir, file);
  if (rc == 0 && n_series > 0) rc = rt_plot_pr_curve_png(path, series, (int)n_series, title, err);
  for (size_t i = 0; series && i < n_series; i++) {
    free((double *)series[i].x);
    free((double *)series[i].y);
  }
  free(series);
  free(names);
  return rc;
}

int rt_metrics_write_plots(const json_t *metrics, const char *dir, rt_error *err) {
  if (!json_is_object(metrics) || !dir)
    return rt_fail(err, "metrics plots: need the metrics JSON and a folder");
  int n_curves = 0;
  for (int kind = RT_METRICS_CLASS + 1; kind < RT_METRICS_N_KINDS; kind++)
    n_curves += has_curve(json_object_get(metrics, rt_metrics_kind_name(kind)));
  for (int kind = 0; kind < RT_METRICS_N_KINDS; kind++) {
    const char *name = rt_metrics_kind_name(kind);
    const json_t *sec = json_object_get(metrics, name);
    if (!json_is_object(sec)) continue;
    char per_type[64];
    snprintf(per_type, sizeof per_type, "pr_curve_%s.png", name);
    const char *file = n_curves > 1 ? per_type : "pr_curve.png";
    int rc = kind == RT_METRICS_CLASS ? confusion_png(sec, dir, err) : pr_curve_png(name, sec, dir, file, err);
    if (rc < 0) return -1;
  }
  return 0;
}
