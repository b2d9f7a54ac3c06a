/* matmul against a naive triple loop: plain, transposed and stepped
 * operands, batches, degenerate sizes and errors. */
#include "test_tensor_util.h"

#include "internal.h"

/* A contiguous f32 tensor of pseudo-random values in [-1, 1). */
static dl_tensor *random_tensor(int ndim, const int64_t *shape, uint32_t seed) {
  dl_tensor *t;
  OK(dl_tensor_empty(&t, DL_F32, ndim, shape, err));
  for (int64_t i = 0; i < t->numel; i++) {
    seed = seed * 1664525u + 1013904223u;
    ((float *)t->ptr)[i] = (float)(seed >> 8) / (float)(1 << 23) - 1.0f;
  }
  return t;
}

/* Asserts out == a @ b (batched when 3-D; a 2-D operand serves every
 * batch, as does a batch of one), summing in double. */
static void assert_matmul(const dl_tensor *out, const dl_tensor *a, const dl_tensor *b) {
  int64_t batches = out->ndim == 3 ? out->shape[0] : 1;
  int64_t m = a->shape[a->ndim - 2], k = a->shape[a->ndim - 1], n = b->shape[b->ndim - 1];
  assert_int_equal(out->shape[out->ndim - 2], m);
  assert_int_equal(out->shape[out->ndim - 1], n);
  for (int64_t p = 0; p < batches; p++)
    for (int64_t i = 0; i < m; i++)
      for (int64_t j = 0; j < n; j++) {
        double want = 0;
        for (int64_t r = 0; r < k; r++) {
          int64_t ia[3] = {p, i, r}, ib[3] = {p, r, j};
          if (a->ndim == 3 && a->shape[0] == 1) ia[0] = 0;
          if (b->ndim == 3 && b->shape[0] == 1) ib[0] = 0;
          want += at(a, a->ndim == 3 ? ia : ia + 1) * at(b, b->ndim == 3 ? ib : ib + 1);
        }
        int64_t io[3] = {p, i, j};
        double got = at(out, out->ndim == 3 ? io : io + 1);
        if (fabs(got - want) > 1e-4)
          print_error("[%lld][%lld][%lld]: got %g, want %g\n", (long long)p, (long long)i, (long long)j, got,
                      want);
        assert_true(fabs(got - want) <= 1e-4);
      }
}

static void plain_2d(void **state) {
  int64_t sa[2] = {5, 7}, sb[2] = {7, 3};
  dl_tensor *a = random_tensor(2, sa, 1), *b = random_tensor(2, sb, 2), *out;
  OK(dl_tensor_matmul(&out, a, b, err));
  int64_t want[2] = {5, 3};
  assert_shape(out, 2, want);
  assert_matmul(out, a, b);
  dl_tensor_release(out);
  dl_tensor_release(a);
  dl_tensor_release(b);
}

static void transposed_and_stepped_operands(void **state) {
  int64_t sa[2] = {7, 5}, sb[2] = {3, 7}, wide[2] = {5, 14};
  dl_tensor *at_ = random_tensor(2, sa, 3), *bt = random_tensor(2, sb, 4), *a, *b, *out;
  OK(dl_tensor_transpose(&a, at_, 0, 1, err)); /* 5x7, column-major */
  OK(dl_tensor_transpose(&b, bt, 0, 1, err));  /* 7x3, column-major */
  OK(dl_tensor_matmul(&out, a, b, err));
  assert_matmul(out, a, b);
  dl_tensor_release(out);

  /* Every other column of a 5x14 matrix: neither stride is 1, so sgemm
   * gets a copy. */
  dl_tensor *w = random_tensor(2, wide, 5), *pairs, *stepped;
  int64_t split[3] = {5, 7, 2};
  OK(dl_tensor_view(&pairs, w, 3, split, err));
  OK(dl_tensor_select(&stepped, pairs, 2, 1, err));
  assert_int_equal(stepped->strides[1], 2);
  OK(dl_tensor_matmul(&out, stepped, b, err));
  assert_matmul(out, stepped, b);
  dl_tensor_release(out);
  /* A row-major operand with a padded row stride (a narrowed view). */
  dl_tensor *padded;
  OK(dl_tensor_narrow(&padded, w, 1, 3, 7, err));
  OK(dl_tensor_matmul(&out, padded, b, err));
  assert_matmul(out, padded, b);
  dl_tensor_release(out);
  dl_tensor_release(padded);
  dl_tensor_release(stepped);
  dl_tensor_release(pairs);
  dl_tensor_release(w);
  dl_tensor_release(a);
  dl_tensor_release(b);
  dl_tensor_release(at_);
  dl_tensor_release(bt);
}

static void vectors_as_matrices(void **state) {
  /* 1xK @ KxN and MxK @ Kx1, where the size-1 dims carry odd strides. */
  int64_t sm[2] = {4, 6}, sk[2] = {6, 4};
  dl_tensor *m = random_tensor(2, sm, 6), *k = random_tensor(2, sk, 7), *row, *row2, *col, *col2, *out;
  OK(dl_tensor_select(&row, m, 0, 2, err));
  OK(dl_tensor_unsqueeze(&row2, row, 0, err)); /* 1x6 */
  OK(dl_tensor_matmul(&out, row2, k, err));
  assert_matmul(out, row2, k);
  dl_tensor_release(out);
  OK(dl_tensor_select(&col, k, 1, 3, err));
  OK(dl_tensor_unsqueeze(&col2, col, 1, err)); /* 6x1 with row stride 4 */
  OK(dl_tensor_matmul(&out, m, col2, err));
  assert_matmul(out, m, col2);
  dl_tensor_release(out);
  dl_tensor_release(col2);
  dl_tensor_release(col);
  dl_tensor_release(row2);
  dl_tensor_release(row);
  dl_tensor_release(k);
  dl_tensor_release(m);
}

static void batched(void **state) {
  int64_t sa[3] = {2, 3, 4}, sb[3] = {2, 4, 5}, sb2[2] = {4, 5}, sa1[3] = {1, 3, 4};
  dl_tensor *a = random_tensor(3, sa, 8), *b = random_tensor(3, sb, 9), *b2 = random_tensor(2, sb2, 10),
            *a1 = random_tensor(3, sa1, 11), *out;
  OK(dl_tensor_matmul(&out, a, b, err));
  int64_t want[3] = {2, 3, 5};
  assert_shape(out, 3, want);
  assert_matmul(out, a, b);
  dl_tensor_release(out);
  OK(dl_tensor_matmul(&out, a, b2, err)); /* one matrix for every batch */
  assert_shape(out, 3, want);
  assert_matmul(out, a, b2);
  dl_tensor_release(out);
  OK(dl_tensor_matmul(&out, a1, b, err)); /* a batch of one broadcasts */
  assert_shape(out, 3, want);
  assert_matmul(out, a1, b);
  dl_tensor_release(out);
  /* Batches of transposed matrices. */
  dl_tensor *bt;
  int64_t sbt[3] = {2, 5, 4};
  dl_tensor *braw = random_tensor(3, sbt, 12);
  OK(dl_tensor_transpose(&bt, braw, 1, 2, err));
  OK(dl_tensor_matmul(&out, a, bt, err));
  assert_matmul(out, a, bt);
  dl_tensor_release(out);
  dl_tensor_release(bt);
  dl_tensor_release(braw);
  int64_t sb3[3] = {3, 4, 5};
  dl_tensor *b3 = random_tensor(3, sb3, 13);
  FAILS(DL_E_SHAPE, "batch sizes differ", dl_tensor_matmul(&out, a, b3, err));
  dl_tensor_release(b3);
  dl_tensor_release(a1);
  dl_tensor_release(b2);
  dl_tensor_release(b);
  dl_tensor_release(a);
}

static void degenerate_sizes(void **state) {
  int64_t sa[2] = {3, 0}, sb[2] = {0, 2}, se[2] = {0, 4}, sf[2] = {4, 2};
  dl_tensor *a, *b, *e, *f = random_tensor(2, sf, 14), *out;
  OK(dl_tensor_new(&a, DL_F32, 2, sa, err));
  OK(dl_tensor_new(&b, DL_F32, 2, sb, err));
  OK(dl_tensor_matmul(&out, a, b, err)); /* K = 0: a 3x2 matrix of zeros */
  double zeros[6] = {0, 0, 0, 0, 0, 0};
  int64_t want[2] = {3, 2};
  assert_shape(out, 2, want);
  assert_values(out, zeros, 0);
  dl_tensor_release(out);
  OK(dl_tensor_new(&e, DL_F32, 2, se, err));
  OK(dl_tensor_matmul(&out, e, f, err)); /* M = 0 */
  assert_int_equal(out->numel, 0);
  assert_int_equal(out->shape[1], 2);
  dl_tensor_release(out);
  dl_tensor_release(e);
  dl_tensor_release(f);
  dl_tensor_release(b);
  dl_tensor_release(a);
}

static void errors(void **state) {
  int64_t sa[2] = {2, 3}, sb[2] = {4, 2}, s1[1] = {3};
  dl_tensor *a = random_tensor(2, sa, 15), *b = random_tensor(2, sb, 16), *v = random_tensor(1, s1, 17), *u8,
            *out;
  FAILS(DL_E_SHAPE, "shapes 2x3 and 4x2 do not fit (inner sizes 3 and 4)", dl_tensor_matmul(&out, a, b, err));
  FAILS(DL_E_SHAPE, "needs 2-D or 3-D (batched) tensors, got shapes 2x3 and 3",
        dl_tensor_matmul(&out, a, v, err));
  OK(dl_tensor_new(&u8, DL_U8, 2, sb, err));
  FAILS(DL_E_DTYPE, "needs f32 tensors, got f32 and u8", dl_tensor_matmul(&out, a, u8, err));
  dl__storage_bump_generation(b->storage);
  FAILS(DL_E_STALE, "recycled", dl_tensor_matmul(&out, b, a, err));
  assert_null(out);
  dl_tensor_release(u8);
  dl_tensor_release(v);
  dl_tensor_release(b);
  dl_tensor_release(a);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(plain_2d),
      cmocka_unit_test(transposed_and_stepped_operands),
      cmocka_unit_test(vectors_as_matrices),
      cmocka_unit_test(batched),
      cmocka_unit_test(degenerate_sizes),
      cmocka_unit_test(errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
