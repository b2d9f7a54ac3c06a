/* contiguous, clone, copy (broadcasting, dtype conversion, overlap), fill
 * and to (conversion with scale). */
#include "test_tensor_util.h"

#include "internal.h"

static void contiguous_aliases_or_copies(void **state) {
  int64_t shape[2] = {2, 3};
  dl_tensor *t = iota(2, shape), *c, *tr;
  OK(dl_tensor_contiguous(&c, t, err));
  assert_ptr_equal(c->ptr, t->ptr);
  dl_tensor_release(c);
  OK(dl_tensor_transpose(&tr, t, 0, 1, err));
  OK(dl_tensor_contiguous(&c, tr, err));
  assert_ptr_not_equal(c->storage, t->storage);
  assert_true(dl_tensor_is_contiguous(c));
  double want[6] = {0, 3, 1, 4, 2, 5};
  for (int i = 0; i < 6; i++) assert_true(((float *)c->ptr)[i] == want[i]);
  dl_tensor_release(c);
  dl_tensor_release(tr);
  dl_tensor_release(t);
}

static void clone_shares_nothing(void **state) {
  int64_t shape[1] = {3};
  dl_tensor *t = iota(1, shape), *c;
  OK(dl_tensor_clone(&c, t, err));
  assert_ptr_not_equal(c->storage, t->storage);
  ((float *)c->ptr)[0] = 9;
  assert_true(((float *)t->ptr)[0] == 0);
  double want[3] = {9, 1, 2};
  assert_values(c, want, 0);
  dl_tensor_release(c);
  dl_tensor_release(t);
}

static void copy_broadcasts(void **state) {
  int64_t shape[2] = {2, 3}, row_shape[1] = {3};
  double row_values[3] = {10, 20, 30};
  dl_tensor *dst, *row = tensor_of(DL_F32, 1, row_shape, row_values), *scalar;
  OK(dl_tensor_new(&dst, DL_F32, 2, shape, err));
  OK(dl_tensor_copy(dst, row, err));
  double want[6] = {10, 20, 30, 10, 20, 30};
  assert_values(dst, want, 0);
  double seven = 7;
  scalar = tensor_of(DL_F32, 0, NULL, &seven);
  OK(dl_tensor_copy(dst, scalar, err));
  double sevens[6] = {7, 7, 7, 7, 7, 7};
  assert_values(dst, sevens, 0);
  int64_t wrong_shape[1] = {2};
  dl_tensor *wrong = iota(1, wrong_shape);
  FAILS(DL_E_SHAPE, "shapes 2x3 and 2 do not broadcast", dl_tensor_copy(dst, wrong, err));
  /* dst cannot grow: a 2x3 source does not fit a 3 destination. */
  FAILS(DL_E_SHAPE, "source of shape 2x3 does not broadcast to destination shape 3",
        dl_tensor_copy(row, dst, err));
  dl_tensor_release(wrong);
  dl_tensor_release(scalar);
  dl_tensor_release(row);
  dl_tensor_release(dst);
}

static void copy_converts_dtypes(void **state) {
  int64_t shape[1] = {7};
  double values[7] = {-1.5, 0.4, 0.5, 254.5, 300, NAN, -0.5};
  dl_tensor *src = tensor_of(DL_F32, 1, shape, values), *u8, *i32, *back;
  OK(dl_tensor_new(&u8, DL_U8, 1, shape, err));
  OK(dl_tensor_copy(u8, src, err));
  double want_u8[7] = {0, 0, 1, 255, 255, 0, 0}; /* round half away from zero, saturate, NaN -> 0 */
  assert_values(u8, want_u8, 0);
  OK(dl_tensor_new(&i32, DL_I32, 1, shape, err));
  OK(dl_tensor_copy(i32, src, err));
  double want_i32[7] = {-2, 0, 1, 255, 300, 0, -1};
  assert_values(i32, want_i32, 0);
  /* Integers to f32 are exact for these values. */
  OK(dl_tensor_new(&back, DL_F32, 1, shape, err));
  OK(dl_tensor_copy(back, i32, err));
  assert_values(back, want_i32, 0);
  dl_tensor_release(back);
  dl_tensor_release(i32);
  dl_tensor_release(u8);
  dl_tensor_release(src);

  /* i64 -> i64 is exact beyond 2^53; i64 -> i32 saturates. */
  int64_t two[1] = {2};
  dl_tensor *big, *copy, *small;
  OK(dl_tensor_new(&big, DL_I64, 1, two, err));
  ((int64_t *)big->ptr)[0] = (INT64_C(1) << 53) + 1;
  ((int64_t *)big->ptr)[1] = INT64_MIN;
  OK(dl_tensor_clone(&copy, big, err));
  assert_true(((int64_t *)copy->ptr)[0] == (INT64_C(1) << 53) + 1);
  assert_true(((int64_t *)copy->ptr)[1] == INT64_MIN);
  OK(dl_tensor_new(&small, DL_I32, 1, two, err));
  OK(dl_tensor_copy(small, big, err));
  assert_int_equal(((int32_t *)small->ptr)[0], INT32_MAX);
  assert_int_equal(((int32_t *)small->ptr)[1], INT32_MIN);
  dl_tensor_release(small);
  dl_tensor_release(copy);
  dl_tensor_release(big);
}

static void copy_into_a_transposed_view(void **state) {
  int64_t buf_shape[2] = {3, 2}, src_shape[2] = {2, 3};
  dl_tensor *buf, *view, *src = iota(2, src_shape);
  OK(dl_tensor_new(&buf, DL_F32, 2, buf_shape, err));
  OK(dl_tensor_transpose(&view, buf, 0, 1, err));
  OK(dl_tensor_copy(view, src, err));
  /* buf[j][i] = src[i][j] */
  double want[6] = {0, 3, 1, 4, 2, 5};
  for (int i = 0; i < 6; i++) assert_true(((float *)buf->ptr)[i] == want[i]);
  dl_tensor_release(view);
  dl_tensor_release(buf);
  dl_tensor_release(src);
}

static void copy_between_overlapping_views(void **state) {
  int64_t shape[1] = {5};
  dl_tensor *t = iota(1, shape), *head, *tail;
  OK(dl_tensor_narrow(&head, t, 0, 0, 4, err));
  OK(dl_tensor_narrow(&tail, t, 0, 1, 4, err));
  OK(dl_tensor_copy(tail, head, err)); /* shift right by one, as if read first */
  double want[5] = {0, 0, 1, 2, 3};
  assert_values(t, want, 0);
  dl_tensor_release(head);
  dl_tensor_release(tail);
  dl_tensor_release(t);
}

static void fill_checks_the_value(void **state) {
  int64_t shape[2] = {2, 3};
  dl_tensor *t, *col;
  OK(dl_tensor_new(&t, DL_U8, 2, shape, err));
  OK(dl_tensor_narrow(&col, t, 1, 1, 1, err));
  OK(dl_tensor_fill(col, 255, err)); /* only the middle column */
  double want[6] = {0, 255, 0, 0, 255, 0};
  assert_values(t, want, 0);
  FAILS(DL_E_INVAL, "fill: 256 is not a whole number in the range of u8", dl_tensor_fill(t, 256, err));
  FAILS(DL_E_INVAL, "fill: 1.5 is not a whole number", dl_tensor_fill(t, 1.5, err));
  FAILS(DL_E_INVAL, "fill: -1 is not", dl_tensor_fill(t, -1, err));
  FAILS(DL_E_INVAL, "range of u8", dl_tensor_fill(t, NAN, err));
  dl_tensor_release(col);
  dl_tensor_release(t);

  dl_tensor *f, *l;
  OK(dl_tensor_empty(&f, DL_F32, 2, shape, err));
  OK(dl_tensor_fill(f, -2.5, err));
  double halves[6] = {-2.5, -2.5, -2.5, -2.5, -2.5, -2.5};
  assert_values(f, halves, 0);
  OK(dl_tensor_fill(f, NAN, err));
  assert_true(isnan(((float *)f->ptr)[5]));
  dl_tensor_release(f);
  OK(dl_tensor_empty(&l, DL_I64, 2, shape, err));
  OK(dl_tensor_fill(l, 1099511627776.0, err)); /* 2^40 */
  assert_true(((int64_t *)l->ptr)[4] == INT64_C(1) << 40);
  dl_tensor_release(l);
}

static void to_with_scale_round_trips_u8(void **state) {
  int64_t shape[1] = {256};
  dl_tensor *u8, *f, *back;
  OK(dl_tensor_empty(&u8, DL_U8, 1, shape, err));
  for (int i = 0; i < 256; i++) ((uint8_t *)u8->ptr)[i] = (uint8_t)i;
  OK(dl_tensor_to(&f, u8, DL_F32, 1.0 / 255, err));
  assert_int_equal(f->dtype, DL_F32);
  assert_true(((float *)f->ptr)[0] == 0.0f);
  assert_true(fabsf(((float *)f->ptr)[51] - 0.2f) < 1e-7f);
  assert_true(((float *)f->ptr)[255] == 1.0f);
  OK(dl_tensor_to(&back, f, DL_U8, 255, err));
  assert_memory_equal(back->ptr, u8->ptr, 256);
  dl_tensor_release(back);
  dl_tensor_release(f);
  dl_tensor_release(u8);
  FAILS(DL_E_DTYPE, "to: unknown dtype 9", dl_tensor_to(&back, u8 = iota(1, shape), 9, 1, err));
  assert_null(back);
  dl_tensor_release(u8);
}

static void to_from_a_strided_view(void **state) {
  int64_t shape[2] = {3, 4};
  dl_tensor *t = iota(2, shape), *tr, *i64;
  OK(dl_tensor_transpose(&tr, t, 0, 1, err));
  OK(dl_tensor_to(&i64, tr, DL_I64, 2, err));
  assert_true(dl_tensor_is_contiguous(i64));
  int64_t want_shape[2] = {4, 3};
  assert_shape(i64, 2, want_shape);
  for (int64_t r = 0; r < 4; r++)
    for (int64_t c = 0; c < 3; c++) assert_true(((int64_t *)i64->ptr)[r * 3 + c] == 2 * (c * 4 + r));
  dl_tensor_release(i64);
  dl_tensor_release(tr);
  dl_tensor_release(t);
}

static void empty_tensors(void **state) {
  int64_t shape[2] = {3, 0};
  dl_tensor *t, *c;
  OK(dl_tensor_new(&t, DL_F32, 2, shape, err));
  OK(dl_tensor_fill(t, 1, err));
  OK(dl_tensor_clone(&c, t, err));
  assert_int_equal(c->numel, 0);
  OK(dl_tensor_copy(c, t, err));
  dl_tensor_release(c);
  OK(dl_tensor_to(&c, t, DL_U8, 3, err));
  assert_int_equal(c->shape[0], 3);
  dl_tensor_release(c);
  dl_tensor_release(t);
}

static void stale_tensors_fail(void **state) {
  int64_t shape[1] = {4};
  dl_tensor *t = iota(1, shape), *other = iota(1, shape), *out;
  dl__storage_bump_generation(t->storage);
  FAILS(DL_E_STALE, "recycled", dl_tensor_contiguous(&out, t, err));
  FAILS(DL_E_STALE, "recycled", dl_tensor_clone(&out, t, err));
  FAILS(DL_E_STALE, "recycled", dl_tensor_to(&out, t, DL_U8, 1, err));
  FAILS(DL_E_STALE, "recycled", dl_tensor_copy(t, other, err));
  FAILS(DL_E_STALE, "recycled", dl_tensor_copy(other, t, err));
  FAILS(DL_E_STALE, "recycled", dl_tensor_fill(t, 0, err));
  assert_null(out);
  dl_tensor_release(other);
  dl_tensor_release(t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(contiguous_aliases_or_copies),
      cmocka_unit_test(clone_shares_nothing),
      cmocka_unit_test(copy_broadcasts),
      cmocka_unit_test(copy_converts_dtypes),
      cmocka_unit_test(copy_into_a_transposed_view),
      cmocka_unit_test(copy_between_overlapping_views),
      cmocka_unit_test(fill_checks_the_value),
      cmocka_unit_test(to_with_scale_round_trips_u8),
      cmocka_unit_test(to_from_a_strided_view),
      cmocka_unit_test(empty_tensors),
      cmocka_unit_test(stale_tensors_fail),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
