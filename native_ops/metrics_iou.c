/* Geometric scores between ground truth and predictions: box IoU, point
 * score and mask IoU. Polygons have their own file (metrics_polygon.c).
 * Formulas follow dtlpy-metrics, dtlpymetrics/utils/matching.py (Matchers):
 * calculate_iou_box, calculate_iou_point and calculate_iou_semantic. */
#include "internal.h"

#include <math.h>
#include <stdbool.h>

/* Checks a matrix call's counts and pointers; `what` names the operation. */
static int check_matrix_args(const char *what, const double *gt, int n_gt, const double *pred, int n_pred,
                             const double *out, dl_error *err) {
  if (n_gt < 0 || n_pred < 0)
    return dl__fail(err, DL_E_INVAL, "%s: negative count (n_gt %d, n_pred %d)", what, n_gt, n_pred);
  if ((n_gt > 0 && !gt) || (n_pred > 0 && !pred) || (n_gt > 0 && n_pred > 0 && !out))
    return dl__fail(err, DL_E_INVAL, "%s: NULL array for a non-zero count", what);
  return DL_OK;
}

static bool all_finite(const double *v, int64_t n) {
  for (int64_t i = 0; i < n; i++)
    if (!isfinite(v[i])) return false;
  return true;
}

/* Checks finiteness and ordering of n boxes {l, t, r, b}; `side` names the set. */
static int check_boxes(const double *b, int n, const char *side, dl_error *err) {
  for (int i = 0; i < n; i++) {
    const double *q = b + 4 * i;
    if (!all_finite(q, 4))
      return dl__fail(err, DL_E_NUMERIC, "dl_metrics_box_iou: %s box %d is not finite", side, i);
    if (q[0] > q[2] || q[1] > q[3])
      return dl__fail(err, DL_E_INVAL, "dl_metrics_box_iou: %s box %d has left > right or top > bottom", side,
                      i);
  }
  return DL_OK;
}

int dl_metrics_box_iou(const double *gt, int n_gt, const double *pred, int n_pred, double *out,
                       dl_error *err) {
  int rc = check_matrix_args("dl_metrics_box_iou", gt, n_gt, pred, n_pred, out, err);
  if (rc == DL_OK) rc = check_boxes(gt, n_gt, "ground truth", err);
  if (rc == DL_OK) rc = check_boxes(pred, n_pred, "prediction", err);
  if (rc != DL_OK) return rc;
  for (int g = 0; g < n_gt; g++) {
    const double *a = gt + 4 * g;
    double area_a = (a[2] - a[0]) * (a[3] - a[1]);
    for (int p = 0; p < n_pred; p++) {
      const double *b = pred + 4 * p;
      double w = fmin(a[2], b[2]) - fmax(a[0], b[0]);
      double h = fmin(a[3], b[3]) - fmax(a[1], b[1]);
      double inter = (w > 0 && h > 0) ? w * h : 0;
      double uni = area_a + (b[2] - b[0]) * (b[3] - b[1]) - inter;
      out[(size_t)g * (size_t)n_pred + (size_t)p] = uni > 0 ? inter / uni : 0;
    }
  }
  return DL_OK;
}

int dl_metrics_point_score(const double *gt, int n_gt, const double *pred, int n_pred, double width,
                           double height, double *out, dl_error *err) {
  int rc = check_matrix_args("dl_metrics_point_score", gt, n_gt, pred, n_pred, out, err);
  if (rc != DL_OK) return rc;
  if (!(isfinite(width) && isfinite(height) && width > 0 && height > 0))
    return dl__fail(err, DL_E_INVAL, "dl_metrics_point_score: image size %g x %g must be positive", width,
                    height);
  if (!all_finite(gt, 2 * (int64_t)n_gt) || !all_finite(pred, 2 * (int64_t)n_pred))
    return dl__fail(err, DL_E_NUMERIC, "dl_metrics_point_score: a point is not finite");
  double diag = hypot(width, height);
  for (int g = 0; g < n_gt; g++) {
    for (int p = 0; p < n_pred; p++) {
      double d = hypot(gt[2 * g] - pred[2 * p], gt[2 * g + 1] - pred[2 * p + 1]);
      out[(size_t)g * (size_t)n_pred + (size_t)p] = exp(-20.0 * d / diag);
    }
  }
  return DL_OK;
}

int dl_metrics_mask_iou(const uint8_t *a, const uint8_t *b, int64_t height, int64_t width, double *iou,
                        dl_error *err) {
  int64_t n;
  int64_t shape[2] = {height, width};
  if (!iou) return dl__fail(err, DL_E_INVAL, "dl_metrics_mask_iou: iou is NULL");
  if (!dl__shape_numel(2, shape, &n))
    return dl__fail(err, DL_E_INVAL, "dl_metrics_mask_iou: bad mask size %lld x %lld", (long long)height,
                    (long long)width);
  if (n > 0 && (!a || !b)) return dl__fail(err, DL_E_INVAL, "dl_metrics_mask_iou: NULL mask");
  int64_t inter = 0, uni = 0;
  for (int64_t i = 0; i < n; i++) {
    bool in_a = a[i] != 0, in_b = b[i] != 0;
    inter += in_a && in_b;
    uni += in_a || in_b;
  }
  *iou = uni > 0 ? (double)inter / (double)uni : 0;
  return DL_OK;
}
