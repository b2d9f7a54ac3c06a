/* Confusion matrix accumulation and per-class scores on a 3-class case. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "dl_native.h"

/* Classes 0 cat, 1 dog, 2 bird. The pairs below (ground truth, prediction)
 * make, rows = ground truth, columns = prediction:
 *
 *            cat  dog  bird | row (support)
 *   cat       5    1    0   |  6
 *   dog       2    3    1   |  6
 *   bird      0    1    4   |  5
 *   column    7    5    5   | 17
 *
 * accuracy  = (5 + 3 + 4) / 17 = 12/17
 * precision = diagonal / column: cat 5/7, dog 3/5, bird 4/5
 * recall    = diagonal / row:    cat 5/6, dog 3/6, bird 4/5
 * F1 = 2PR / (P + R) = 2TP / (2TP + FP + FN):
 *   cat  10 / (10 + 2 + 1) = 10/13
 *   dog   6 / (6 + 2 + 3)  = 6/11
 *   bird  8 / (8 + 1 + 1)  = 4/5 */
static void three_classes_by_hand(void **state) {
  (void)state;
  int32_t gt[17], pred[17];
  int n = 0;
  const int32_t cells[3][3] = {{5, 1, 0}, {2, 3, 1}, {0, 1, 4}};
  for (int g = 0; g < 3; g++)
    for (int p = 0; p < 3; p++)
      for (int k = 0; k < cells[g][p]; k++, n++) {
        gt[n] = g;
        pred[n] = p;
      }
  int64_t counts[9] = {0};
  dl_error e;
  /* In two calls, to show that counts accumulate. */
  assert_int_equal(dl_metrics_confusion_add(counts, 3, gt, pred, 10, &e), DL_OK);
  assert_int_equal(dl_metrics_confusion_add(counts, 3, gt + 10, pred + 10, 7, &e), DL_OK);
  for (int i = 0; i < 9; i++) assert_int_equal(counts[i], cells[i / 3][i % 3]);

  double precision[3], recall[3], f1[3], accuracy = -1;
  int64_t support[3];
  assert_int_equal(dl_metrics_confusion_scores(counts, 3, precision, recall, f1, support, &accuracy, &e),
                   DL_OK);
  assert_float_equal(accuracy, 12.0 / 17, 1e-12);
  double want_p[] = {5.0 / 7, 3.0 / 5, 4.0 / 5}, want_r[] = {5.0 / 6, 3.0 / 6, 4.0 / 5};
  double want_f1[] = {10.0 / 13, 6.0 / 11, 4.0 / 5};
  int64_t want_support[] = {6, 6, 5};
  for (int c = 0; c < 3; c++) {
    assert_float_equal(precision[c], want_p[c], 1e-12);
    assert_float_equal(recall[c], want_r[c], 1e-12);
    assert_float_equal(f1[c], want_f1[c], 1e-12);
    assert_int_equal(support[c], want_support[c]);
  }
}

static void empty_class_and_bad_pairs(void **state) {
  (void)state;
  /* Class 1 is never seen nor predicted: 0/0 gives 0, as zero_division=0. */
  int64_t counts[4] = {2, 0, 0, 0};
  double precision[2], recall[2], f1[2];
  assert_int_equal(dl_metrics_confusion_scores(counts, 2, precision, recall, f1, NULL, NULL, NULL), DL_OK);
  assert_float_equal(precision[1], 0, 0);
  assert_float_equal(recall[1], 0, 0);
  assert_float_equal(f1[1], 0, 0);
  assert_float_equal(f1[0], 1, 0);

  /* A bad index anywhere adds nothing at all. */
  int32_t gt[] = {0, 1}, pred[] = {0, 2};
  dl_error e;
  assert_int_equal(dl_metrics_confusion_add(counts, 2, gt, pred, 2, &e), DL_E_RANGE);
  assert_non_null(strstr(e.msg, "pair 1 (1, 2)"));
  assert_int_equal(counts[0], 2);
  assert_int_equal(dl_metrics_confusion_add(counts, 0, gt, pred, 2, &e), DL_E_INVAL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(three_classes_by_hand),
      cmocka_unit_test(empty_class_and_bad_pairs),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
