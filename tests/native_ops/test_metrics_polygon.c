/* Polygon IoU by rasterisation: known shapes, holes, tiny polygons. The
 * rasteriser samples 1024 rows, so results are checked to 1e-3. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "dl_native.h"

static double iou_of(const double *a, int32_t na, const double *b, int32_t nb) {
  double iou = -1;
  dl_error e;
  assert_int_equal(dl_metrics_polygon_iou(a, &na, 1, b, &nb, 1, &iou, &e), DL_OK);
  return iou;
}

static void square_and_its_half_triangle(void **state) {
  (void)state;
  /* The triangle (0,0) (1,0) (1,1) is half of the unit square and lies in
   * it: intersection 0.5, union 1, IoU 0.5. */
  double square[] = {0, 0, 1, 0, 1, 1, 0, 1};
  double triangle[] = {0, 0, 1, 0, 1, 1};
  assert_float_equal(iou_of(square, 4, triangle, 3), 0.5, 1e-3);
  assert_float_equal(iou_of(triangle, 3, square, 4), 0.5, 1e-3);
  assert_float_equal(iou_of(square, 4, square, 4), 1, 1e-9);
}

static void diamond_in_square(void **state) {
  (void)state;
  /* |x| + |y| <= 1 has area 2 and lies inside [-1,1]^2 of area 4: IoU 0.5.
   * Its edges are slanted both ways, unlike the triangle's. */
  double square[] = {-1, -1, 1, -1, 1, 1, -1, 1};
  double diamond[] = {0, -1, 1, 0, 0, 1, -1, 0};
  assert_float_equal(iou_of(square, 4, diamond, 4), 0.5, 1e-3);
}

static void tiny_polygons_score_like_large_ones(void **state) {
  (void)state;
  /* Two squares of side 0.002 offset by half a side: overlap 1/2 of a side
   * squared, union 3/2 of it, IoU 1/3 whatever the scale. A pixel grid
   * would see nothing of them. */
  double s = 0.002;
  double a[] = {0, 0, s, 0, s, s, 0, s};
  double b[] = {s / 2, 0, 1.5 * s, 0, 1.5 * s, s, s / 2, s};
  assert_float_equal(iou_of(a, 4, b, 4), 1.0 / 3, 1e-3);
}

static void even_odd_hole(void **state) {
  (void)state;
  /* a = [0,4]^2 with the ring [1,3]^2 inside it: by the even-odd rule the
   * inner ring is a hole, so a covers 16 - 4 = 12. b = [0,4]^2 covers 16.
   * Intersection 12, union 16, IoU 0.75. */
  double a[] = {0, 0, 4, 0, 4, 4, 0, 4, 1, 1, 3, 1, 3, 3, 1, 3};
  int32_t a_rings[] = {4, 4};
  double b[] = {0, 0, 4, 0, 4, 4, 0, 4};
  int32_t b_rings[] = {4};
  double iou = -1;
  dl_error e;
  assert_int_equal(dl_metrics_polygon_iou(a, a_rings, 2, b, b_rings, 1, &iou, &e), DL_OK);
  assert_float_equal(iou, 0.75, 1e-3);
}

static void disjoint_empty_and_bad(void **state) {
  (void)state;
  double square[] = {0, 0, 1, 0, 1, 1, 0, 1};
  double far[] = {5, 5, 6, 5, 6, 6, 5, 6};
  double line[] = {0, 0, 1, 1};
  assert_float_equal(iou_of(square, 4, far, 4), 0, 0);
  /* Two vertices enclose nothing: IoU 0 against anything. */
  assert_float_equal(iou_of(line, 2, square, 4), 0, 0);
  assert_float_equal(iou_of(line, 2, line, 2), 0, 0);

  double iou;
  dl_error e;
  int32_t bad_len = -3, four = 4;
  assert_int_equal(dl_metrics_polygon_iou(square, &bad_len, 1, square, &four, 1, &iou, &e), DL_E_INVAL);
  assert_non_null(strstr(e.msg, "polygon a ring 0"));
  double with_nan[] = {0, 0, 1, 0, NAN, 1, 0, 1};
  assert_int_equal(dl_metrics_polygon_iou(square, &four, 1, with_nan, &four, 1, &iou, &e), DL_E_NUMERIC);
  assert_non_null(strstr(e.msg, "polygon b vertex 2"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(square_and_its_half_triangle),
      cmocka_unit_test(diamond_in_square),
      cmocka_unit_test(tiny_polygons_score_like_large_ones),
      cmocka_unit_test(even_odd_hole),
      cmocka_unit_test(disjoint_empty_and_bad),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
