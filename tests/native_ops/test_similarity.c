/* cmocka tests of cosine top-k (native_ops/similarity.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdlib.h>

#include <cmocka.h>

#include "dl_native.h"

static void test_normalize_makes_unit_rows_and_keeps_zero_rows(void **state) {
  (void)state;
  float x[6] = {3, 4, 0, 0, 0, 0};
  dl_similarity_normalize(x, 2, 3);
  assert_true(fabsf(x[0] - 0.6f) < 1e-6f && fabsf(x[1] - 0.8f) < 1e-6f && x[2] == 0);
  for (int i = 3; i < 6; i++) assert_true(x[i] == 0);
}

/* Unit vectors at angles 0, 10, 30, 90 and 180 degrees in the plane: the
 * neighbours of the first, by cosine, are 10, 30, 90, 180 in that order. */
static void test_topk_orders_by_cosine(void **state) {
  (void)state;
  double deg[5] = {0, 10, 30, 90, 180};
  float base[10];
  for (int i = 0; i < 5; i++) base[2 * i] = (float)cos(deg[i] * M_PI / 180), base[2 * i + 1] = (float)sin(deg[i] * M_PI / 180);
  int64_t idx[3];
  float sc[3];
  assert_int_equal(dl_similarity_topk(base, 1, base, 5, 2, 3, 0, idx, sc, NULL), 0);
  assert_int_equal(idx[0], 1);
  assert_int_equal(idx[1], 2);
  assert_int_equal(idx[2], 3);
  assert_true(fabsf(sc[0] - (float)cos(10 * M_PI / 180)) < 1e-6f);
  assert_true(fabsf(sc[2]) < 1e-6f);
  /* without self exclusion the vector finds itself first, with cosine 1 */
  assert_int_equal(dl_similarity_topk(base, 1, base, 5, 2, 3, -1, idx, sc, NULL), 0);
  assert_int_equal(idx[0], 0);
  assert_true(fabsf(sc[0] - 1) < 1e-6f);
}

static void test_k_larger_than_the_set_pads_with_minus_one(void **state) {
  (void)state;
  float base[4] = {1, 0, 0, 1};
  int64_t idx[5];
  float sc[5];
  assert_int_equal(dl_similarity_topk(base, 1, base, 2, 2, 5, -1, idx, sc, NULL), 0);
  assert_int_equal(idx[0], 0);
  assert_int_equal(idx[1], 1);
  for (int j = 2; j < 5; j++) {
    assert_int_equal(idx[j], -1);
    assert_true(isnan(sc[j]));
  }
}

/* Many rows across block boundaries: the result equals a brute-force scan. */
static void test_blocks_agree_with_brute_force(void **state) {
  (void)state;
  int64_t n = 5000, d = 7, k = 4, nq = 300;
  float *base = malloc(sizeof(float) * (size_t)(n * d));
  srand(7);
  for (int64_t i = 0; i < n * d; i++) base[i] = (float)rand() / RAND_MAX - 0.5f;
  dl_similarity_normalize(base, n, d);
  int64_t *idx = malloc(sizeof(int64_t) * (size_t)(nq * k));
  float *sc = malloc(sizeof(float) * (size_t)(nq * k));
  assert_int_equal(dl_similarity_topk(base, nq, base, n, d, k, 0, idx, sc, NULL), 0);
  for (int64_t q = 0; q < nq; q++) {
    /* brute force: the best row other than q */
    int64_t best = -1;
    double best_s = -2;
    for (int64_t r = 0; r < n; r++) {
      if (r == q) continue;
      double s = 0;
      for (int64_t j = 0; j < d; j++) s += (double)base[q * d + j] * base[r * d + j];
      if (s > best_s) best_s = s, best = r;
    }
    assert_int_equal(idx[q * k], best);
    assert_true(fabs(sc[q * k] - best_s) < 1e-5);
    for (int64_t j = 1; j < k; j++) assert_true(sc[q * k + j] <= sc[q * k + j - 1]);
  }
  free(base);
  free(idx);
  free(sc);
}

static void test_bad_arguments(void **state) {
  (void)state;
  float v[2] = {1, 0};
  int64_t idx[1];
  float sc[1];
  dl_error e;
  assert_int_equal(dl_similarity_topk(v, 1, v, 1, 0, 1, -1, idx, sc, &e), DL_E_INVAL);
  assert_int_equal(dl_similarity_topk(v, 1, v, 1, 2, 0, -1, idx, sc, &e), DL_E_INVAL);
  assert_int_equal(dl_similarity_topk(v, 0, v, 1, 2, 1, -1, idx, sc, &e), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_normalize_makes_unit_rows_and_keeps_zero_rows),
      cmocka_unit_test(test_topk_orders_by_cosine),
      cmocka_unit_test(test_k_larger_than_the_set_pads_with_minus_one),
      cmocka_unit_test(test_blocks_agree_with_brute_force),
      cmocka_unit_test(test_bad_arguments),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
