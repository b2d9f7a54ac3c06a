/* Element-wise + - * / between tensors and with scalars: broadcasting,
 * strided operands, integer wrap-around, in place and overlapping outputs. */
#include "test_tensor_util.h"

#include "internal.h"

static void same_shape_f32(void **state) {
  int64_t shape[2] = {2, 3};
  dl_tensor *a = iota(2, shape), *b, *out;
  double bv[6] = {1, 2, 4, 8, 16, 32};
  b = tensor_of(DL_F32, 2, shape, bv);
  double add[6], sub[6], mul[6], dv[6];
  for (int i = 0; i < 6; i++) {
    add[i] = i + bv[i];
    sub[i] = i - bv[i];
    mul[i] = i * bv[i];
    dv[i] = i / bv[i];
  }
  const double *want[4] = {add, sub, mul, dv};
  for (int op = DL_ADD; op <= DL_DIV; op++) {
    OK(dl_tensor_binary(&out, a, b, op, err));
    assert_shape(out, 2, shape);
    assert_values(out, want[op], 1e-6);
    dl_tensor_release(out);
  }
  /* f32 division by zero follows IEEE. */
  OK(dl_tensor_binary(&out, b, a, DL_DIV, err));
  assert_true(isinf(((float *)out->ptr)[0]));
  dl_tensor_release(out);
  dl_tensor_release(b);
  dl_tensor_release(a);
}

static void broadcasting(void **state) {
  int64_t shape[2] = {2, 3}, row_shape[1] = {3}, col_shape[2] = {3, 1}, line_shape[2] = {1, 4};
  dl_tensor *a = iota(2, shape), *row, *col = iota(2, col_shape), *line = iota(2, line_shape), *out;
  double rv[3] = {10, 20, 30};
  row = tensor_of(DL_F32, 1, row_shape, rv);
  OK(dl_tensor_binary(&out, a, row, DL_ADD, err));
  double want[6] = {10, 21, 32, 13, 24, 35};
  assert_values(out, want, 0);
  dl_tensor_release(out);
  OK(dl_tensor_binary(&out, row, a, DL_SUB, err)); /* the smaller operand first */
  double want_sub[6] = {10, 19, 28, 7, 16, 25};
  assert_values(out, want_sub, 0);
  dl_tensor_release(out);
  /* 3x1 * 1x4: an outer product. */
  OK(dl_tensor_binary(&out, col, line, DL_MUL, err));
  int64_t outer[2] = {3, 4};
  assert_shape(out, 2, outer);
  for (int64_t i = 0; i < 3; i++)
    for (int64_t j = 0; j < 4; j++) {
      int64_t idx[2] = {i, j};
      assert_true(at(out, idx) == (double)(i * j));
    }
  dl_tensor_release(out);
  FAILS(DL_E_SHAPE, "add: shapes 2x3 and 3x1 do not broadcast", dl_tensor_binary(&out, a, col, DL_ADD, err));
  assert_null(out);
  dl_tensor_release(line);
  dl_tensor_release(col);
  dl_tensor_release(row);
  dl_tensor_release(a);
}

static void strided_operands(void **state) {
  /* a: a 2x4x3 permutation of a 3x2x4 tensor, so a[i][j][k] = k*8 + i*4 + j;
   * b: 4x1 holding j, broadcast over i and k. */
  int64_t base_shape[3] = {3, 2, 4}, b_shape[2] = {4, 1};
  dl_tensor *base = iota(3, base_shape), *a, *b = iota(2, b_shape), *out;
  int order[3] = {1, 2, 0};
  OK(dl_tensor_permute(&a, base, order, err));
  OK(dl_tensor_binary(&out, a, b, DL_ADD, err));
  assert_true(dl_tensor_is_contiguous(out));
  for (int64_t i = 0; i < 2; i++)
    for (int64_t j = 0; j < 4; j++)
      for (int64_t k = 0; k < 3; k++) {
        int64_t idx[3] = {i, j, k};
        assert_true(at(out, idx) == (double)(k * 8 + i * 4 + j + j));
      }
  dl_tensor_release(out);
  /* A narrowed (stepped rows) operand with a scalar. */
  dl_tensor *n;
  OK(dl_tensor_narrow(&n, base, 2, 1, 2, err));
  OK(dl_tensor_scalar(&out, n, 0.5, DL_MUL, err));
  for (int64_t k = 0; k < 3; k++)
    for (int64_t i = 0; i < 2; i++)
      for (int64_t j = 0; j < 2; j++) {
        int64_t idx[3] = {k, i, j};
        assert_true(at(out, idx) == 0.5 * (double)(k * 8 + i * 4 + j + 1));
      }
  dl_tensor_release(out);
  dl_tensor_release(n);
  dl_tensor_release(a);
  dl_tensor_release(b);
  dl_tensor_release(base);
}

static void integers_wrap_and_truncate(void **state) {
  int64_t shape[1] = {3};
  double av[3] = {250, 5, 16}, bv[3] = {10, 10, 16};
  dl_tensor *a = tensor_of(DL_U8, 1, shape, av), *b = tensor_of(DL_U8, 1, shape, bv), *out;
  OK(dl_tensor_binary(&out, a, b, DL_ADD, err));
  double add[3] = {4, 15, 32};
  assert_values(out, add, 0);
  dl_tensor_release(out);
  OK(dl_tensor_binary(&out, a, b, DL_SUB, err));
  double sub[3] = {240, 251, 0};
  assert_values(out, sub, 0);
  dl_tensor_release(out);
  OK(dl_tensor_binary(&out, a, b, DL_MUL, err));
  double mul[3] = {(250 * 10) % 256, 50, 0};
  assert_values(out, mul, 0);
  dl_tensor_release(out);
  OK(dl_tensor_binary(&out, a, b, DL_DIV, err));
  double dv[3] = {25, 0, 1};
  assert_values(out, dv, 0);
  dl_tensor_release(out);
  dl_tensor_release(a);
  dl_tensor_release(b);

  int64_t four[1] = {4};
  double ia[4] = {-7, 7, INT32_MIN, INT32_MAX}, ib[4] = {2, -2, -1, 1};
  a = tensor_of(DL_I32, 1, four, ia);
  b = tensor_of(DL_I32, 1, four, ib);
  OK(dl_tensor_binary(&out, a, b, DL_DIV, err));
  double idiv[4] = {-3, -3, INT32_MIN, INT32_MAX}; /* MIN / -1 wraps to MIN */
  assert_values(out, idiv, 0);
  dl_tensor_release(out);
  OK(dl_tensor_binary(&out, a, b, DL_ADD, err));
  double iadd[4] = {-5, 5, INT32_MAX, INT32_MIN};
  assert_values(out, iadd, 0);
  dl_tensor_release(out);
  dl_tensor *zeros;
  OK(dl_tensor_scalar(&zeros, a, 0, DL_MUL, err));
  FAILS(DL_E_NUMERIC, "div: integer division by zero (i32 tensors)",
        dl_tensor_binary(&out, a, zeros, DL_DIV, err));
  assert_null(out);
  dl_tensor_release(zeros);
  dl_tensor_release(b);
  dl_tensor_release(a);

  int64_t one[1] = {1};
  dl_tensor *big;
  OK(dl_tensor_new(&big, DL_I64, 1, one, err));
  ((int64_t *)big->ptr)[0] = INT64_MAX;
  OK(dl_tensor_scalar(&out, big, 2, DL_MUL, err));
  assert_true(((int64_t *)out->ptr)[0] == -2);
  dl_tensor_release(out);
  OK(dl_tensor_scalar(&out, big, 1, DL_ADD, err));
  assert_true(((int64_t *)out->ptr)[0] == INT64_MIN);
  dl_tensor_release(out);
  dl_tensor_release(big);
}

static void scalars_must_fit_the_dtype(void **state) {
  int64_t shape[1] = {2};
  double v[2] = {1, 2};
  dl_tensor *u8 = tensor_of(DL_U8, 1, shape, v), *i32 = tensor_of(DL_I32, 1, shape, v), *out;
  OK(dl_tensor_scalar(&out, u8, 3, DL_ADD, err));
  double want[2] = {4, 5};
  assert_values(out, want, 0);
  dl_tensor_release(out);
  FAILS(DL_E_INVAL, "add: 1.5 is not a whole number in the range of u8",
        dl_tensor_scalar(&out, u8, 1.5, DL_ADD, err));
  FAILS(DL_E_INVAL, "range of i32", dl_tensor_scalar(&out, i32, 1e10, DL_MUL, err));
  FAILS(DL_E_NUMERIC, "division by zero", dl_tensor_scalar(&out, i32, 0, DL_DIV, err));
  FAILS(DL_E_INVAL, "unknown op 7", dl_tensor_scalar(&out, i32, 1, 7, err));
  FAILS(DL_E_DTYPE, "add: dtypes u8 and i32 differ", dl_tensor_binary(&out, u8, i32, DL_ADD, err));
  assert_null(out);
  dl_tensor_release(i32);
  dl_tensor_release(u8);
}

static void in_place(void **state) {
  int64_t shape[2] = {2, 3}, row_shape[1] = {3};
  dl_tensor *a = iota(2, shape), *row = iota(1, row_shape), *col;
  OK(dl_tensor_binary_into(a, a, row, DL_ADD, err)); /* a += row */
  double want[6] = {0, 2, 4, 3, 5, 7};
  assert_values(a, want, 0);
  FAILS(DL_E_SHAPE, "does not fit the output of shape 3", dl_tensor_binary_into(row, row, a, DL_ADD, err));
  /* A scalar into one column only. */
  OK(dl_tensor_narrow(&col, a, 1, 2, 1, err));
  OK(dl_tensor_scalar_into(col, col, 10, DL_SUB, err));
  double want_col[6] = {0, 2, -6, 3, 5, -3};
  assert_values(a, want_col, 0);
  dl_tensor *other;
  OK(dl_tensor_new(&other, DL_U8, 2, shape, err));
  FAILS(DL_E_DTYPE, "dtypes u8 and f32 differ", dl_tensor_scalar_into(other, a, 1, DL_ADD, err));
  dl_tensor_release(other);
  dl_tensor_release(col);
  dl_tensor_release(row);
  dl_tensor_release(a);
}

static void overlapping_output(void **state) {
  /* out = t[1..4] and a = t[0..3]: every element is read before it is
   * overwritten, as if a were copied first. */
  int64_t shape[1] = {5};
  dl_tensor *t = iota(1, shape), *head, *tail;
  OK(dl_tensor_narrow(&head, t, 0, 0, 4, err));
  OK(dl_tensor_narrow(&tail, t, 0, 1, 4, err));
  OK(dl_tensor_binary_into(tail, head, head, DL_ADD, err));
  double want[5] = {0, 0, 2, 4, 6};
  assert_values(t, want, 0);
  dl_tensor_release(head);
  dl_tensor_release(tail);
  dl_tensor_release(t);

  /* m += m^T on a square matrix. */
  int64_t sq[2] = {3, 3};
  dl_tensor *m = iota(2, sq), *mt;
  OK(dl_tensor_transpose(&mt, m, 0, 1, err));
  OK(dl_tensor_binary_into(m, m, mt, DL_ADD, err));
  for (int64_t i = 0; i < 3; i++)
    for (int64_t j = 0; j < 3; j++) {
      int64_t idx[2] = {i, j};
      assert_true(at(m, idx) == (double)(i * 3 + j + j * 3 + i));
    }
  dl_tensor_release(mt);
  dl_tensor_release(m);
}

static void empty_and_scalar_tensors(void **state) {
  int64_t shape[2] = {0, 3}, row_shape[1] = {3};
  dl_tensor *e, *row = iota(1, row_shape), *out;
  OK(dl_tensor_new(&e, DL_F32, 2, shape, err));
  OK(dl_tensor_binary(&out, e, row, DL_MUL, err));
  assert_shape(out, 2, shape);
  dl_tensor_release(out);
  OK(dl_tensor_scalar(&out, e, 2, DL_DIV, err));
  assert_int_equal(out->numel, 0);
  dl_tensor_release(out);
  double two = 2;
  dl_tensor *s = tensor_of(DL_F32, 0, NULL, &two);
  OK(dl_tensor_binary(&out, s, row, DL_MUL, err));
  double want[3] = {0, 2, 4};
  assert_values(out, want, 0);
  dl_tensor_release(out);
  OK(dl_tensor_binary(&out, s, s, DL_MUL, err));
  assert_int_equal(out->ndim, 0);
  assert_true(*(float *)out->ptr == 4);
  dl_tensor_release(out);
  dl_tensor_release(s);
  dl_tensor_release(row);
  dl_tensor_release(e);
}

static void stale_tensors_fail(void **state) {
  int64_t shape[1] = {3};
  dl_tensor *a = iota(1, shape), *b = iota(1, shape), *out;
  dl__storage_bump_generation(b->storage);
  FAILS(DL_E_STALE, "recycled", dl_tensor_binary(&out, a, b, DL_ADD, err));
  FAILS(DL_E_STALE, "recycled", dl_tensor_binary_into(a, a, b, DL_ADD, err));
  FAILS(DL_E_STALE, "recycled", dl_tensor_binary_into(b, a, a, DL_ADD, err));
  FAILS(DL_E_STALE, "recycled", dl_tensor_scalar(&out, b, 1, DL_ADD, err));
  FAILS(DL_E_STALE, "recycled", dl_tensor_scalar_into(b, a, 1, DL_ADD, err));
  dl_tensor_release(a);
  dl_tensor_release(b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(same_shape_f32),
      cmocka_unit_test(broadcasting),
      cmocka_unit_test(strided_operands),
      cmocka_unit_test(integers_wrap_and_truncate),
      cmocka_unit_test(scalars_must_fit_the_dtype),
      cmocka_unit_test(in_place),
      cmocka_unit_test(overlapping_output),
      cmocka_unit_test(empty_and_scalar_tensors),
      cmocka_unit_test(stale_tensors_fail),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
