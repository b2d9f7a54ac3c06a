/* Greedy matching: order of picks, threshold, ties. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "dl_native.h"

static void largest_cell_first(void **state) {
  (void)state;
  /*        p0   p1   p2
   *  g0   0.6  0.9  0.0
   *  g1   0.7  0.8  0.0
   *  g2   0.0  0.0  0.4
   * Threshold 0.5. Largest cell 0.9 pairs g0-p1, striking row g0 and column
   * p1; of what is left the largest is 0.7, pairing g1-p0; g2-p2 scores 0.4,
   * below the threshold, so both stay unmatched. (Pairing g1-p1 at 0.8 first,
   * as a row-by-row scan would, leaves g0-p0 at 0.6: a different answer.) */
  double s[] = {0.6, 0.9, 0.0, 0.7, 0.8, 0.0, 0.0, 0.0, 0.4};
  int32_t gm[3], pm[3];
  dl_error e;
  assert_int_equal(dl_metrics_match_greedy(s, 3, 3, 0.5, gm, pm, &e), DL_OK);
  assert_int_equal(gm[0], 1);
  assert_int_equal(gm[1], 0);
  assert_int_equal(gm[2], -1);
  assert_int_equal(pm[0], 1);
  assert_int_equal(pm[1], 0);
  assert_int_equal(pm[2], -1);
}

static void greedy_not_optimal(void **state) {
  (void)state;
  /*        p0    p1
   *  g0   0.9   0.8
   *  g1   0.85  0.1
   * Greedy pairs g0-p0 (0.9) and then finds only g1-p1 at 0.1 < 0.5, so g1
   * stays unmatched, although g0-p1 + g1-p0 would match both. dtlpy-metrics
   * matches greedily, and so do we. */
  double s[] = {0.9, 0.8, 0.85, 0.1};
  int32_t gm[2];
  assert_int_equal(dl_metrics_match_greedy(s, 2, 2, 0.5, gm, NULL, NULL), DL_OK);
  assert_int_equal(gm[0], 0);
  assert_int_equal(gm[1], -1);
}

static void threshold_is_inclusive(void **state) {
  (void)state;
  /* dtlpy stops when the largest cell is < threshold, so a cell equal to the
   * threshold still matches. */
  double s[] = {0.5};
  int32_t gm[1];
  assert_int_equal(dl_metrics_match_greedy(s, 1, 1, 0.5, gm, NULL, NULL), DL_OK);
  assert_int_equal(gm[0], 0);
  assert_int_equal(dl_metrics_match_greedy(s, 1, 1, 0.51, gm, NULL, NULL), DL_OK);
  assert_int_equal(gm[0], -1);
}

static void ties_go_to_lowest_prediction_then_ground_truth(void **state) {
  (void)state;
  /* One ground truth, two equal predictions: the lower prediction wins. */
  double one_gt[] = {0.8, 0.8};
  int32_t gm[2], pm[2];
  assert_int_equal(dl_metrics_match_greedy(one_gt, 1, 2, 0.5, gm, pm, NULL), DL_OK);
  assert_int_equal(gm[0], 0);
  assert_int_equal(pm[1], -1);
  /* Two equal ground truths, one prediction: the lower ground truth wins. */
  double one_pred[] = {0.8, 0.8};
  assert_int_equal(dl_metrics_match_greedy(one_pred, 2, 1, 0.5, gm, pm, NULL), DL_OK);
  assert_int_equal(pm[0], 0);
  assert_int_equal(gm[1], -1);
  /*        p0   p1
   *  g0   0.0  0.7
   *  g1   0.7  0.7
   * Ties at g0-p1, g1-p0, g1-p1. Lowest prediction first takes g1-p0, then
   * g0-p1 is still free: both matched. Lowest ground truth first would take
   * g0-p1 then g1-p0: the same pairs, as any tie rule must give here. */
  double three[] = {0.0, 0.7, 0.7, 0.7};
  assert_int_equal(dl_metrics_match_greedy(three, 2, 2, 0.5, gm, pm, NULL), DL_OK);
  assert_int_equal(gm[0], 1);
  assert_int_equal(gm[1], 0);
}

static void empty_and_bad(void **state) {
  (void)state;
  int32_t gm[2] = {7, 7};
  dl_error e;
  assert_int_equal(dl_metrics_match_greedy(NULL, 2, 0, 0.5, gm, NULL, &e), DL_OK);
  assert_int_equal(gm[0], -1);
  assert_int_equal(gm[1], -1);
  double s[] = {0.3, NAN};
  assert_int_equal(dl_metrics_match_greedy(s, 1, 2, 0.5, gm, NULL, &e), DL_E_NUMERIC);
  assert_non_null(strstr(e.msg, "ground truth 0, prediction 1"));
  assert_int_equal(dl_metrics_match_greedy(s, -1, 2, 0.5, gm, NULL, &e), DL_E_INVAL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(largest_cell_first),
      cmocka_unit_test(greedy_not_optimal),
      cmocka_unit_test(threshold_is_inclusive),
      cmocka_unit_test(ties_go_to_lowest_prediction_then_ground_truth),
      cmocka_unit_test(empty_and_bad),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
