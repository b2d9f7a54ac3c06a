/* Reductions along a dim (sum, mean, max, min, argmax, argmin), softmax,
 * log_softmax and topk. */
#include "test_tensor_util.h"

#include "internal.h"

static void sum_and_mean_along_each_dim(void **state) {
  int64_t shape[3] = {2, 3, 4};
  dl_tensor *t = iota(3, shape), *out;
  for (int d = 0; d < 3; d++) {
    OK(dl_tensor_reduce(&out, t, DL_SUM, d, 0, err));
    assert_int_equal(out->ndim, 2);
    dl_tensor *mean;
    OK(dl_tensor_reduce(&mean, t, DL_MEAN, d, 1, err));
    assert_int_equal(mean->ndim, 3);
    assert_int_equal(mean->shape[d], 1);
    /* Compare with a plain loop over the other two dims. */
    int o1 = d == 0 ? 1 : 0, o2 = d == 2 ? 1 : 2;
    for (int64_t i = 0; i < shape[o1]; i++)
      for (int64_t j = 0; j < shape[o2]; j++) {
        double want = 0;
        for (int64_t r = 0; r < shape[d]; r++) {
          int64_t idx[3];
          idx[d] = r;
          idx[o1] = i;
          idx[o2] = j;
          want += at(t, idx);
        }
        int64_t oi[2] = {i, j}, mi[3];
        mi[d] = 0;
        mi[o1] = i;
        mi[o2] = j;
        assert_true(at(out, oi) == want);
        assert_true(fabs(at(mean, mi) - want / (double)shape[d]) < 1e-5);
      }
    dl_tensor_release(mean);
    dl_tensor_release(out);
  }
  dl_tensor_release(t);
}

static void integer_sums_widen_to_i64(void **state) {
  int64_t shape[1] = {300};
  dl_tensor *t, *out;
  OK(dl_tensor_empty(&t, DL_U8, 1, shape, err));
  OK(dl_tensor_fill(t, 255, err));
  OK(dl_tensor_reduce(&out, t, DL_SUM, 0, 0, err));
  assert_int_equal(out->dtype, DL_I64);
  assert_int_equal(out->ndim, 0);
  assert_true(*(int64_t *)out->ptr == 255 * 300);
  dl_tensor_release(out);
  OK(dl_tensor_reduce(&out, t, DL_MEAN, -1, 0, err));
  assert_int_equal(out->dtype, DL_F32);
  assert_true(*(float *)out->ptr == 255);
  dl_tensor_release(out);
  dl_tensor_release(t);

  int64_t three[1] = {3};
  double v[3] = {-5, 2, -1};
  t = tensor_of(DL_I32, 1, three, v);
  OK(dl_tensor_reduce(&out, t, DL_SUM, 0, 0, err));
  assert_true(*(int64_t *)out->ptr == -4);
  dl_tensor_release(out);
  dl_tensor_release(t);
}

static void max_min_and_their_indices(void **state) {
  int64_t shape[2] = {3, 4};
  double v[12] = {1,  3,   3, 2,   /* tie: the first 3 wins */
                  -1, NAN, 5, NAN, /* the first NaN wins max and min */
                  4,  4,   4, 4};
  dl_tensor *t = tensor_of(DL_F32, 2, shape, v), *values, *indices, *out;
  OK(dl_tensor_max(&values, &indices, t, 1, 0, err));
  assert_true(((float *)values->ptr)[0] == 3);
  assert_true(isnan(((float *)values->ptr)[1]));
  assert_true(((float *)values->ptr)[2] == 4);
  double want_idx[3] = {1, 1, 0};
  assert_values(indices, want_idx, 0);
  dl_tensor_release(values);
  dl_tensor_release(indices);

  OK(dl_tensor_reduce(&out, t, DL_ARGMIN, 1, 1, err));
  int64_t kept[2] = {3, 1};
  assert_shape(out, 2, kept);
  double want_min_idx[3] = {0, 1, 0};
  assert_values(out, want_min_idx, 0);
  dl_tensor_release(out);
  OK(dl_tensor_reduce(&out, t, DL_MIN, 0, 0, err)); /* columns: {1,-1,4} {3,NaN,4} {3,5,4} {2,NaN,4} */
  assert_true(((float *)out->ptr)[0] == -1);
  assert_true(isnan(((float *)out->ptr)[1]));
  assert_true(((float *)out->ptr)[2] == 3);
  assert_true(isnan(((float *)out->ptr)[3]));
  dl_tensor_release(out);
  OK(dl_tensor_reduce(&out, t, DL_ARGMAX, 0, 0, err));
  double want_argmax0[4] = {2, 1, 1, 1};
  assert_values(out, want_argmax0, 0);
  dl_tensor_release(out);
  dl_tensor_release(t);

  /* i64 compares exactly beyond 2^53. */
  int64_t two[1] = {2};
  dl_tensor *big;
  OK(dl_tensor_new(&big, DL_I64, 1, two, err));
  ((int64_t *)big->ptr)[0] = INT64_C(1) << 53;
  ((int64_t *)big->ptr)[1] = (INT64_C(1) << 53) + 1;
  OK(dl_tensor_reduce(&out, big, DL_ARGMAX, 0, 0, err));
  assert_true(*(int64_t *)out->ptr == 1);
  dl_tensor_release(out);
  OK(dl_tensor_reduce(&out, big, DL_MAX, 0, 0, err));
  assert_true(*(int64_t *)out->ptr == (INT64_C(1) << 53) + 1);
  dl_tensor_release(out);
  dl_tensor_release(big);
}

static void reduce_a_transposed_view(void **state) {
  int64_t shape[2] = {2, 3};
  dl_tensor *t = iota(2, shape), *tr, *out;
  OK(dl_tensor_transpose(&tr, t, 0, 1, err)); /* 3x2: tr[i][j] = j*3 + i */
  OK(dl_tensor_reduce(&out, tr, DL_SUM, 1, 0, err));
  double want[3] = {3, 5, 7};
  assert_values(out, want, 0);
  dl_tensor_release(out);
  OK(dl_tensor_reduce(&out, tr, DL_ARGMAX, 0, 0, err));
  double want_idx[2] = {2, 2};
  assert_values(out, want_idx, 0);
  dl_tensor_release(out);
  dl_tensor_release(tr);
  dl_tensor_release(t);
}

static void empty_dims_and_errors(void **state) {
  int64_t shape[2] = {2, 0};
  dl_tensor *t, *out, *idx;
  OK(dl_tensor_new(&t, DL_F32, 2, shape, err));
  OK(dl_tensor_reduce(&out, t, DL_SUM, 1, 0, err));
  double zeros[2] = {0, 0};
  assert_values(out, zeros, 0);
  dl_tensor_release(out);
  OK(dl_tensor_reduce(&out, t, DL_MEAN, 1, 0, err));
  assert_true(isnan(((float *)out->ptr)[0]));
  dl_tensor_release(out);
  OK(dl_tensor_reduce(&out, t, DL_MAX, 0, 0, err)); /* over a non-empty dim: an empty result */
  assert_int_equal(out->numel, 0);
  dl_tensor_release(out);
  FAILS(DL_E_SHAPE, "max: dim 1 of shape 2x0 is empty", dl_tensor_reduce(&out, t, DL_MAX, 1, 0, err));
  FAILS(DL_E_SHAPE, "argmin: dim 1 of shape 2x0 is empty", dl_tensor_reduce(&out, t, DL_ARGMIN, 1, 0, err));
  FAILS(DL_E_SHAPE, "is empty", dl_tensor_max(&out, &idx, t, 1, 0, err));
  assert_null(out);
  assert_null(idx);
  FAILS(DL_E_RANGE, "sum: dim 2 out of range for a tensor of 2 dims",
        dl_tensor_reduce(&out, t, DL_SUM, 2, 0, err));
  FAILS(DL_E_INVAL, "reduce: unknown op 6", dl_tensor_reduce(&out, t, 6, 0, 0, err));
  dl__storage_bump_generation(t->storage);
  FAILS(DL_E_STALE, "recycled", dl_tensor_reduce(&out, t, DL_SUM, 0, 0, err));
  FAILS(DL_E_STALE, "recycled", dl_tensor_max(&out, &idx, t, 0, 0, err));
  FAILS(DL_E_STALE, "recycled", dl_tensor_softmax(&out, t, 0, 0, err));
  FAILS(DL_E_STALE, "recycled", dl_tensor_topk(&out, &idx, t, 0, 1, err));
  dl_tensor_release(t);
}

static void softmax_rows_sum_to_one(void **state) {
  int64_t shape[2] = {3, 4};
  double v[12] = {0, 1, 2, 3, 1000, 1001, 1002, 1003, -5, 0.5, 2, -1};
  dl_tensor *t = tensor_of(DL_F32, 2, shape, v), *s, *ls;
  OK(dl_tensor_softmax(&s, t, 1, 0, err));
  OK(dl_tensor_softmax(&ls, t, -1, 1, err));
  for (int r = 0; r < 3; r++) {
    double mx = v[r * 4], sum = 0, total = 0;
    for (int c = 1; c < 4; c++) mx = v[r * 4 + c] > mx ? v[r * 4 + c] : mx;
    for (int c = 0; c < 4; c++) sum += exp(v[r * 4 + c] - mx);
    for (int c = 0; c < 4; c++) {
      int64_t idx[2] = {r, c};
      double p = exp(v[r * 4 + c] - mx) / sum;
      assert_true(fabs(at(s, idx) - p) < 1e-6);
      assert_true(fabs(at(ls, idx) - log(p)) < 1e-4);
      total += at(s, idx);
    }
    assert_true(fabs(total - 1) < 1e-6);
  }
  /* Rows 0 and 1 differ by a constant: the same probabilities, no overflow. */
  for (int c = 0; c < 4; c++) assert_true(((float *)s->ptr)[c] == ((float *)s->ptr)[4 + c]);
  dl_tensor_release(ls);
  dl_tensor_release(s);
  dl_tensor_release(t);
}

static void softmax_extremes_and_strides(void **state) {
  int64_t shape[2] = {2, 2};
  double v[4] = {-1000, 0, 5, 5}; /* column-wise softmax on the transposed view */
  dl_tensor *t = tensor_of(DL_F32, 2, shape, v), *tr, *ls, *s;
  OK(dl_tensor_transpose(&tr, t, 0, 1, err)); /* tr = [[-1000, 5], [0, 5]] */
  OK(dl_tensor_softmax(&ls, tr, 1, 1, err));
  int64_t i00[2] = {0, 0}, i01[2] = {0, 1}, i10[2] = {1, 0}, i11[2] = {1, 1};
  assert_true(fabs(at(ls, i00) - -1005) < 1e-3); /* not -inf: log_softmax is stable */
  assert_true(fabs(at(ls, i01)) < 1e-6);
  double l = log(1 + exp(5)); /* row [0, 5] */
  assert_true(fabs(at(ls, i10) - -l) < 1e-5);
  assert_true(fabs(at(ls, i11) - (5 - l)) < 1e-5);
  OK(dl_tensor_softmax(&s, tr, 0, 0, err)); /* along dim 0: columns of tr */
  assert_true(at(s, i00) == 0);
  assert_true(fabs(at(s, i10) - 1) < 1e-7);
  assert_true(fabs(at(s, i01) - 0.5) < 1e-7);
  dl_tensor_release(s);
  dl_tensor_release(ls);
  dl_tensor_release(tr);
  dl_tensor_release(t);

  int64_t e_shape[2] = {2, 0};
  dl_tensor *u8;
  OK(dl_tensor_new(&t, DL_F32, 2, e_shape, err));
  OK(dl_tensor_softmax(&s, t, 1, 0, err));
  assert_int_equal(s->numel, 0);
  dl_tensor_release(s);
  dl_tensor_release(t);
  OK(dl_tensor_new(&u8, DL_U8, 2, shape, err));
  FAILS(DL_E_DTYPE, "softmax: needs an f32 tensor, got u8", dl_tensor_softmax(&s, u8, 0, 0, err));
  FAILS(DL_E_DTYPE, "log_softmax: needs an f32", dl_tensor_softmax(&s, u8, 0, 1, err));
  dl_tensor_release(u8);
}

static void topk_sorted_with_stable_ties(void **state) {
  int64_t shape[1] = {8};
  double v[8] = {3, 1, 4, 1, 5, 9, 2, 6};
  dl_tensor *t = tensor_of(DL_F32, 1, shape, v), *values, *indices;
  OK(dl_tensor_topk(&values, &indices, t, 0, 3, err));
  double want_v[3] = {9, 6, 5}, want_i[3] = {5, 7, 4};
  assert_values(values, want_v, 0);
  assert_values(indices, want_i, 0);
  assert_int_equal(indices->dtype, DL_I64);
  dl_tensor_release(values);
  dl_tensor_release(indices);
  dl_tensor_release(t);

  int64_t five[1] = {5};
  double ties[5] = {2, 7, 7, 1, 7};
  t = tensor_of(DL_I32, 1, five, ties);
  OK(dl_tensor_topk(&values, &indices, t, 0, 4, err));
  double tv[4] = {7, 7, 7, 2}, ti[4] = {1, 2, 4, 0};
  assert_values(values, tv, 0);
  assert_values(indices, ti, 0);
  dl_tensor_release(values);
  dl_tensor_release(indices);
  dl_tensor_release(t);

  double with_nan[5] = {1, NAN, 3, NAN, 2};
  t = tensor_of(DL_F32, 1, five, with_nan);
  OK(dl_tensor_topk(&values, &indices, t, 0, 5, err));
  double ni[5] = {1, 3, 2, 4, 0};
  assert_values(indices, ni, 0);
  assert_true(isnan(((float *)values->ptr)[0]));
  assert_true(((float *)values->ptr)[2] == 3);
  dl_tensor_release(values);
  dl_tensor_release(indices);
  FAILS(DL_E_RANGE, "topk: k = 6 out of range for dim 0 of shape 5",
        dl_tensor_topk(&values, &indices, t, 0, 6, err));
  assert_null(values);
  OK(dl_tensor_topk(&values, &indices, t, 0, 0, err));
  assert_int_equal(values->numel, 0);
  dl_tensor_release(values);
  dl_tensor_release(indices);
  dl_tensor_release(t);
}

static void topk_along_rows_of_a_view(void **state) {
  /* u8 3x4, transposed to 4x3; topk 2 along dim 0 (down each column of the
   * view, i.e. along each row of the original). */
  int64_t shape[2] = {3, 4};
  double v[12] = {10, 40, 20, 30, 5, 5, 6, 6, 255, 0, 1, 255};
  dl_tensor *t = tensor_of(DL_U8, 2, shape, v), *tr, *values, *indices;
  OK(dl_tensor_transpose(&tr, t, 0, 1, err));
  OK(dl_tensor_topk(&values, &indices, tr, 0, 2, err));
  int64_t want_shape[2] = {2, 3};
  assert_shape(values, 2, want_shape);
  double want_v[6] = {40, 6, 255, 30, 6, 255}, want_i[6] = {1, 2, 0, 3, 3, 3};
  assert_values(values, want_v, 0);
  assert_values(indices, want_i, 0);
  dl_tensor_release(values);
  dl_tensor_release(indices);
  dl_tensor_release(tr);
  dl_tensor_release(t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(sum_and_mean_along_each_dim),  cmocka_unit_test(integer_sums_widen_to_i64),
      cmocka_unit_test(max_min_and_their_indices),    cmocka_unit_test(reduce_a_transposed_view),
      cmocka_unit_test(empty_dims_and_errors),        cmocka_unit_test(softmax_rows_sum_to_one),
      cmocka_unit_test(softmax_extremes_and_strides), cmocka_unit_test(topk_sorted_with_stable_ties),
      cmocka_unit_test(topk_along_rows_of_a_view),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
