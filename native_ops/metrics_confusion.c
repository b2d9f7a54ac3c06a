/* Confusion matrix of classes: accumulation, and the per-class scores read
 * from it (rows are ground truth, columns predictions). */
#include "internal.h"

int dl_metrics_confusion_add(int64_t *counts, int n_classes, const int32_t *gt, const int32_t *pred,
                             int64_t n, dl_error *err) {
  if (n_classes <= 0)
    return dl__fail(err, DL_E_INVAL, "dl_metrics_confusion_add: n_classes is %d", n_classes);
  if (n < 0) return dl__fail(err, DL_E_INVAL, "dl_metrics_confusion_add: negative n %lld", (long long)n);
  if (!counts || (n > 0 && (!gt || !pred)))
    return dl__fail(err, DL_E_INVAL, "dl_metrics_confusion_add: NULL array");
  /* Check every pair first so that a bad one leaves counts untouched. */
  for (int64_t i = 0; i < n; i++)
    if (gt[i] < 0 || gt[i] >= n_classes || pred[i] < 0 || pred[i] >= n_classes)
      return dl__fail(err, DL_E_RANGE, "dl_metrics_confusion_add: pair %lld (%d, %d) is outside 0..%d",
                      (long long)i, (int)gt[i], (int)pred[i], n_classes - 1);
  for (int64_t i = 0; i < n; i++) counts[(int64_t)gt[i] * n_classes + pred[i]]++;
  return DL_OK;
}

static double ratio(int64_t num, int64_t den) { return den > 0 ? (double)num / (double)den : 0; }

int dl_metrics_confusion_scores(const int64_t *counts, int n_classes, double *precision, double *recall,
                                double *f1, int64_t *support, double *accuracy, dl_error *err) {
  if (n_classes <= 0)
    return dl__fail(err, DL_E_INVAL, "dl_metrics_confusion_scores: n_classes is %d", n_classes);
  if (!counts) return dl__fail(err, DL_E_INVAL, "dl_metrics_confusion_scores: counts is NULL");
  for (int64_t i = 0; i < (int64_t)n_classes * n_classes; i++)
    if (counts[i] < 0)
      return dl__fail(err, DL_E_INVAL, "dl_metrics_confusion_scores: cell (%lld, %lld) is negative",
                      (long long)(i / n_classes), (long long)(i % n_classes));
  int64_t trace = 0, total = 0;
  for (int c = 0; c < n_classes; c++) {
    int64_t row = 0, col = 0, hit = counts[(int64_t)c * n_classes + c];
    for (int k = 0; k < n_classes; k++) {
      row += counts[(int64_t)c * n_classes + k];
      col += counts[(int64_t)k * n_classes + c];
    }
    double p = ratio(hit, col), r = ratio(hit, row);
    if (precision) precision[c] = p;
    if (recall) recall[c] = r;
    if (f1) f1[c] = p + r > 0 ? 2 * p * r / (p + r) : 0;
    if (support) support[c] = row;
    trace += hit;
    total += row;
  }
  if (accuracy) *accuracy = ratio(trace, total);
  return DL_OK;
}
