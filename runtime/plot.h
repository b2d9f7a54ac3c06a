/* plot.h — PNG charts of evaluation results, drawn with cairo (loaded on
 * the first chart, lib_cairo.h).
 *
 *   const char *labels[] = {"cat", "dog"};
 *   int64_t counts[] = {8, 2, 1, 9};          // rows ground truth, columns predicted
 *   rt_error err;
 *   if (rt_plot_confusion_png("run/confusion.png", labels, 2, counts, "accuracy 85.0%", &err) < 0)
 *     fprintf(stderr, "%s\n", err.msg);
 *
 * Each function draws from plain data, so it knows nothing of the metrics
 * JSON. Files are written as run reports (rt_fs_write_report): a reader
 * never sees half a PNG. Text is set in DejaVu Sans; a
 * label too long for its room is cut with an ellipsis, never overlapped. */
#ifndef RT_PLOT_H
#define RT_PLOT_H

#include <stdint.h>

#include "rt_error.h"

/* A heatmap of counts[n * n] (row = ground truth, column = predicted), each
 * row shaded by its share of the row's total, with the count in every cell,
 * the labels along both axes, and title above (may be NULL). */
int rt_plot_confusion_png(const char *path, const char *const *labels, int n, const int64_t *counts,
                          const char *title, rt_error *err);

/* One line of a chart: n points (x[i], y[i]), both in 0..1. The pointers are
 * borrowed for the call. A non-finite point breaks the line. */
typedef struct rt_plot_series {
  const char *name; /* legend text */
  const double *x;
  const double *y;
  int n;
} rt_plot_series;

/* Precision (y) against recall (x) on 0..1 axes with a grid, one coloured
 * line per series and a legend beside the plot, and title above (may be
 * NULL). */
int rt_plot_pr_curve_png(const char *path, const rt_plot_series *series, int n_series, const char *title,
                         rt_error *err);

/* Frees the font caches cairo and fontconfig keep for the whole process.
 * They are not leaks, but leak checkers (make asan) report them: call this
 * once at exit, after the last plot, when no cairo object is alive. */
void rt_plot_release_caches(void);

#endif
