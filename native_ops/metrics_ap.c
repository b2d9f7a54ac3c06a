/* Precision/recall curve and average precision with COCO's interpolation
 * (pycocotools cocoeval.py, COCOeval.accumulate): rank detections by
 * confidence, accumulate true and false positives, make precision
 * non-increasing from the right, then read it at the 101 recall levels
 * 0, 0.01, ..., 1 (the first detection reaching each level). The levels are
 * k / 100 exactly; COCO's np.linspace gives values a hair off some of them. */
#include "internal.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

typedef struct ranked {
  double confidence;
  int64_t index;
} ranked;

/* Descending confidence; equal confidences keep their input order. */
static int compare_ranked(const void *x, const void *y) {
  const ranked *a = x, *b = y;
  if (a->confidence != b->confidence) return a->confidence < b->confidence ? 1 : -1;
  return (a->index > b->index) - (a->index < b->index);
}

static int check_detections(const char *what, const double *confidence, const double *match_score,
                            int64_t n_det, int64_t n_gt, dl_error *err) {
  if (n_det < 0) return dl__fail(err, DL_E_INVAL, "%s: negative n_det %lld", what, (long long)n_det);
  if (n_gt <= 0)
    return dl__fail(err, DL_E_INVAL, "%s: n_gt is %lld; AP needs at least one ground truth", what,
                    (long long)n_gt);
  if (n_det > 0 && (!confidence || !match_score))
    return dl__fail(err, DL_E_INVAL, "%s: NULL detections for n_det %lld", what, (long long)n_det);
  for (int64_t i = 0; i < n_det; i++)
    if (!isfinite(confidence[i]) || !isfinite(match_score[i]))
      return dl__fail(err, DL_E_NUMERIC, "%s: detection %lld has a non-finite confidence or score", what,
                      (long long)i);
  return DL_OK;
}

/* What both entry points start with: the detections checked, then their
 * indexes sorted by rank into *ranking, followed in the same block by the
 * n_det doubles of *scratch that ranked_ap works in. Caller frees *ranking
 * (and with it *scratch). */
static int rank_detections(const char *what, const double *confidence, const double *match_score,
                           int64_t n_det, int64_t n_gt, ranked **ranking, double **scratch, dl_error *err) {
  int rc = check_detections(what, confidence, match_score, n_det, n_gt, err);
  if (rc < 0) return rc;
  const size_t each = sizeof(ranked) + sizeof(double);
  ranked *r = (uint64_t)n_det < SIZE_MAX / each ? malloc(each * (size_t)n_det + 1) : NULL;
  if (!r) return dl__fail(err, DL_E_NOMEM, "%s: no memory for %lld detections", what, (long long)n_det);
  for (int64_t i = 0; i < n_det; i++) r[i] = (ranked){confidence[i], i};
  qsort(r, (size_t)n_det, sizeof *r, compare_ranked);
  *ranking = r;
  *scratch = (double *)(r + n_det); /* ranked's alignment suits a double */
  return DL_OK;
}

/* AP at one threshold over ranked detections; fills precision[101] if not NULL.
 * `scratch` holds n_det doubles. A detection's true-positive count can never
 * exceed n_gt with a one-to-one matching; a caller that breaks that gets
 * recall above 1, which only saturates the top levels. */
static double ranked_ap(const ranked *r, const double *match_score, int64_t n_det, int64_t n_gt,
                        double threshold, double *scratch, double *precision) {
  double *prec = scratch; /* precision after each ranked detection */
  int64_t tp = 0;
  for (int64_t i = 0; i < n_det; i++) {
    tp += match_score[r[i].index] >= threshold;
    prec[i] = (double)tp / (double)(i + 1);
  }
  for (int64_t i = n_det - 1; i > 0; i--)
    if (prec[i - 1] < prec[i]) prec[i - 1] = prec[i];

  /* Walk the levels and the ranking together: recall only grows down it. */
  double sum = 0;
  int64_t i = 0;
  tp = n_det > 0 && match_score[r[0].index] >= threshold;
  for (int k = 0; k < DL_METRICS_PR_POINTS; k++) {
    double level = k / 100.0;
    while (i < n_det && (double)tp / (double)n_gt < level) {
      i++;
      if (i < n_det) tp += match_score[r[i].index] >= threshold;
    }
    double p = i < n_det ? prec[i] : 0;
    if (precision) precision[k] = p;
    sum += p;
  }
  return sum / DL_METRICS_PR_POINTS;
}

int dl_metrics_average_precision(const double *confidence, const double *match_score, int64_t n_det,
                                 int64_t n_gt, double threshold, double *ap, double *precision,
                                 dl_error *err) {
  static const char what[] = "dl_metrics_average_precision";
  if (!ap) return dl__fail(err, DL_E_INVAL, "%s: ap is NULL", what);
  if (isnan(threshold)) return dl__fail(err, DL_E_NUMERIC, "%s: threshold is NaN", what);
  ranked *r;
  double *scratch;
  int rc = rank_detections(what, confidence, match_score, n_det, n_gt, &r, &scratch, err);
  if (rc < 0) return rc;
  *ap = ranked_ap(r, match_score, n_det, n_gt, threshold, scratch, precision);
  free(r);
  return DL_OK;
}

int dl_metrics_map_coco(const double *confidence, const double *match_score, int64_t n_det, int64_t n_gt,
                        double *ap_by_threshold, double *map, dl_error *err) {
  static const char what[] = "dl_metrics_map_coco";
  if (!map) return dl__fail(err, DL_E_INVAL, "%s: map is NULL", what);
  ranked *r;
  double *scratch;
  int rc = rank_detections(what, confidence, match_score, n_det, n_gt, &r, &scratch, err);
  if (rc < 0) return rc;
  double sum = 0;
  for (int t = 0; t < DL_METRICS_IOU_THRESHOLDS; t++) {
    double ap = ranked_ap(r, match_score, n_det, n_gt, (50 + 5 * t) / 100.0, scratch, NULL);
    if (ap_by_threshold) ap_by_threshold[t] = ap;
    sum += ap;
  }
  *map = sum / DL_METRICS_IOU_THRESHOLDS;
  free(r);
  return DL_OK;
}
