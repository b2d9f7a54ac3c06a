/* Box IoU, point score and mask IoU against values worked out by hand. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "dl_native.h"

static void box_iou_known_pairs(void **state) {
  (void)state;
  /* gt0 is the unit square. Against it:
   *   p0 = unit square moved right by 0.5: overlap 0.5 x 1 = 0.5,
   *        union 1 + 1 - 0.5 = 1.5, IoU 1/3;
   *   p1 = the same square: IoU 1;
   *   p2 = [0,0,2,2] contains it: 1 / 4;
   *   p3 = [1,0,2,1] only touches its edge: overlap 0, IoU 0.
   * gt1 = [0,0,2,2] against p0 = [0.5,0,1.5,1]: overlap is all of p0 (1),
   *   union 4, IoU 1/4; against p2 (itself) 1; against p3 (inside) 1/4. */
  double gt[] = {0, 0, 1, 1, 0, 0, 2, 2};
  double pred[] = {0.5, 0, 1.5, 1, 0, 0, 1, 1, 0, 0, 2, 2, 1, 0, 2, 1};
  double want[] = {1.0 / 3, 1, 0.25, 0, 0.25, 0.25, 1, 0.25};
  double out[8];
  dl_error e;
  assert_int_equal(dl_metrics_box_iou(gt, 2, pred, 4, out, &e), DL_OK);
  for (int i = 0; i < 8; i++) assert_float_equal(out[i], want[i], 1e-12);
}

static void box_iou_degenerate_and_bad(void **state) {
  (void)state;
  double zero[] = {1, 1, 1, 1}, out = -1;
  dl_error e;
  /* Two empty boxes: the union is empty, and that scores 0, not NaN. */
  assert_int_equal(dl_metrics_box_iou(zero, 1, zero, 1, &out, &e), DL_OK);
  assert_float_equal(out, 0, 0);
  /* No predictions is fine and writes nothing. */
  assert_int_equal(dl_metrics_box_iou(zero, 1, NULL, 0, NULL, &e), DL_OK);

  double flipped[] = {2, 0, 1, 1};
  assert_int_equal(dl_metrics_box_iou(flipped, 1, zero, 1, &out, &e), DL_E_INVAL);
  assert_non_null(strstr(e.msg, "ground truth box 0"));
  double nan_box[] = {0, 0, NAN, 1};
  assert_int_equal(dl_metrics_box_iou(zero, 1, nan_box, 1, &out, &e), DL_E_NUMERIC);
  assert_non_null(strstr(e.msg, "prediction box 0"));
  assert_int_equal(dl_metrics_box_iou(zero, -1, zero, 1, &out, NULL), DL_E_INVAL);
}

static void point_score_known_distances(void **state) {
  (void)state;
  /* A 300 x 400 image has a 500 diagonal. gt (10, 10) against:
   *   (10, 10): distance 0, exp(0) = 1;
   *   (13, 14): distance 5 (3-4-5), exp(-20 * 5 / 500) = exp(-0.2);
   *   (10, 510): distance 500, exp(-20). */
  double gt[] = {10, 10}, pred[] = {10, 10, 13, 14, 10, 510}, out[3];
  dl_error e;
  assert_int_equal(dl_metrics_point_score(gt, 1, pred, 3, 300, 400, out, &e), DL_OK);
  assert_float_equal(out[0], 1, 1e-12);
  assert_float_equal(out[1], exp(-0.2), 1e-12);
  assert_float_equal(out[2], exp(-20.0), 1e-12);
  assert_int_equal(dl_metrics_point_score(gt, 1, pred, 3, 0, 400, out, &e), DL_E_INVAL);
  assert_non_null(strstr(e.msg, "image size"));
}

static void mask_iou_counts_pixels(void **state) {
  (void)state;
  /* 2 x 4 masks. a sets 4 pixels, b sets 3 of which 2 are a's:
   * intersection 2, union 4 + 3 - 2 = 5, IoU 0.4. Any non-zero byte is set. */
  uint8_t a[] = {1, 1, 0, 0, 1, 1, 0, 0};
  uint8_t b[] = {0, 255, 7, 0, 0, 1, 0, 0};
  uint8_t none[8] = {0};
  double iou = -1;
  dl_error e;
  assert_int_equal(dl_metrics_mask_iou(a, b, 2, 4, &iou, &e), DL_OK);
  assert_float_equal(iou, 0.4, 1e-12);
  assert_int_equal(dl_metrics_mask_iou(none, none, 2, 4, &iou, &e), DL_OK);
  assert_float_equal(iou, 0, 0);
  assert_int_equal(dl_metrics_mask_iou(a, b, -2, 4, &iou, &e), DL_E_INVAL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(box_iou_known_pairs),
      cmocka_unit_test(box_iou_degenerate_and_bad),
      cmocka_unit_test(point_score_known_distances),
      cmocka_unit_test(mask_iou_counts_pixels),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
