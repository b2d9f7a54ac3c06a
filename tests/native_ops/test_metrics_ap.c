/* Average precision and mAP@[.5:.95] on a detection set worked by hand. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "dl_native.h"

/* Three ground truths, five detections, given out of rank order:
 *
 *   rank  conf  IoU of its match   at 0.5   at 0.75
 *   d1    0.9   0.8                TP       TP
 *   d2    0.8   - (unmatched, 0)   FP       FP
 *   d3    0.7   0.6                TP       FP
 *   d4    0.6   -                  FP       FP
 *   d5    0.5   0.9                TP       TP
 */
static const double confidence[] = {0.6, 0.9, 0.5, 0.8, 0.7};
static const double iou[] = {0.0, 0.8, 0.9, 0.0, 0.6};

static void ap_at_half(void **state) {
  (void)state;
  /* At 0.5, by rank: TP FP TP FP TP.
   *   cumulative TP 1    1    2    2    3
   *   precision     1    1/2  2/3  1/2  3/5
   *   recall        1/3  1/3  2/3  2/3  1
   * Made non-increasing from the right: 1, 2/3, 2/3, 3/5, 3/5.
   * COCO 101-point: at recall level k/100 take the precision of the first
   * detection whose recall reaches it.
   *   k = 0..33  (34 levels, up to 0.33 <= 1/3)  -> d1: 1
   *   k = 34..66 (33 levels, up to 0.66 <= 2/3)  -> d3: 2/3
   *   k = 67..100 (34 levels)                    -> d5: 3/5
   * AP = (34 * 1 + 33 * 2/3 + 34 * 3/5) / 101 = (34 + 22 + 20.4) / 101
   *    = 76.4 / 101 = 0.75643564... */
  double ap = -1, p[DL_METRICS_PR_POINTS];
  dl_error e;
  assert_int_equal(dl_metrics_average_precision(confidence, iou, 5, 3, 0.5, &ap, p, &e), DL_OK);
  assert_float_equal(ap, 76.4 / 101, 1e-9);
  assert_float_equal(p[0], 1, 1e-12);
  assert_float_equal(p[33], 1, 1e-12);
  assert_float_equal(p[34], 2.0 / 3, 1e-12);
  assert_float_equal(p[66], 2.0 / 3, 1e-12);
  assert_float_equal(p[67], 0.6, 1e-12);
  assert_float_equal(p[100], 0.6, 1e-12);
}

static void ap_at_three_quarters(void **state) {
  (void)state;
  /* At 0.75 d3 (IoU 0.6) turns FP. By rank: TP FP FP FP TP.
   *   precision 1, 1/2, 1/3, 1/4, 2/5; recall 1/3, 1/3, 1/3, 1/3, 2/3
   *   non-increasing: 1, 2/5, 2/5, 2/5, 2/5
   *   k = 0..33 -> 1; k = 34..66 -> d5: 2/5; k = 67..100: recall never
   *   reaches them -> 0.
   * AP = (34 + 33 * 0.4) / 101 = 47.2 / 101 = 0.46732673... */
  double ap = -1, p[DL_METRICS_PR_POINTS];
  assert_int_equal(dl_metrics_average_precision(confidence, iou, 5, 3, 0.75, &ap, p, NULL), DL_OK);
  assert_float_equal(ap, 47.2 / 101, 1e-9);
  assert_float_equal(p[34], 0.4, 1e-12);
  assert_float_equal(p[67], 0, 0);
}

static void map_over_coco_thresholds(void **state) {
  (void)state;
  /* Matched IoUs are 0.8 (d1), 0.6 (d3), 0.9 (d5).
   *   t = 0.50, 0.55, 0.60: all three TP (0.6 >= 0.60)  -> 76.4 / 101 each
   *   t = 0.65 .. 0.80:      d1 and d5 (0.8 >= 0.80)    -> 47.2 / 101 each (4)
   *   t = 0.85, 0.90:        d5 only: FP FP FP FP TP; precision at d5 is
   *                          1/5, recall 1/3 -> k = 0..33 at 0.2, then 0:
   *                          34 * 0.2 / 101 = 6.8 / 101 each
   *   t = 0.95:              none -> 0
   * mAP = (3 * 76.4 + 4 * 47.2 + 2 * 6.8) / 10 / 101 = 431.6 / 1010. */
  double by_t[DL_METRICS_IOU_THRESHOLDS], map = -1;
  dl_error e;
  assert_int_equal(dl_metrics_map_coco(confidence, iou, 5, 3, by_t, &map, &e), DL_OK);
  double want[] = {76.4, 76.4, 76.4, 47.2, 47.2, 47.2, 47.2, 6.8, 6.8, 0};
  for (int t = 0; t < DL_METRICS_IOU_THRESHOLDS; t++) assert_float_equal(by_t[t], want[t] / 101, 1e-9);
  assert_float_equal(map, 431.6 / 1010, 1e-9);
}

static void no_detections_and_bad_input(void **state) {
  (void)state;
  double ap = -1, p[DL_METRICS_PR_POINTS];
  dl_error e;
  /* Ground truth but no detections: nothing is ever found, AP 0. */
  assert_int_equal(dl_metrics_average_precision(NULL, NULL, 0, 2, 0.5, &ap, p, &e), DL_OK);
  assert_float_equal(ap, 0, 0);
  assert_float_equal(p[0], 0, 0);
  /* Without ground truth AP is undefined: an error, not a number. */
  assert_int_equal(dl_metrics_average_precision(confidence, iou, 5, 0, 0.5, &ap, NULL, &e), DL_E_INVAL);
  assert_non_null(strstr(e.msg, "at least one ground truth"));
  double bad_conf[] = {0.5, NAN};
  double scores[] = {1, 1};
  assert_int_equal(dl_metrics_map_coco(bad_conf, scores, 2, 2, NULL, &ap, &e), DL_E_NUMERIC);
  assert_non_null(strstr(e.msg, "detection 1"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(ap_at_half),
      cmocka_unit_test(ap_at_three_quarters),
      cmocka_unit_test(map_over_coco_thresholds),
      cmocka_unit_test(no_detections_and_bad_input),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
