/* Views: narrow, select, view/reshape, permute/transpose, unsqueeze/squeeze,
 * expand; shared storage, empty and 0-dim tensors, stale views. */
#include "test_tensor_util.h"

#include "internal.h"

static void narrow_shares_storage(void **state) {
  int64_t shape[2] = {3, 4};
  dl_tensor *t = iota(2, shape), *v;
  OK(dl_tensor_narrow(&v, t, 1, 1, 2, err));
  int64_t want_shape[2] = {3, 2};
  assert_shape(v, 2, want_shape);
  double want[6] = {1, 2, 5, 6, 9, 10};
  assert_values(v, want, 0);
  assert_false(dl_tensor_is_contiguous(v));
  ((float *)v->ptr)[0] = 100; /* writes through to t[0][1] */
  assert_true(((float *)t->ptr)[1] == 100);
  dl_tensor_release(v);

  OK(dl_tensor_narrow(&v, t, -2, 2, 1, err)); /* negative dim: the first */
  double last_row[4] = {8, 9, 10, 11};
  assert_values(v, last_row, 0);
  dl_tensor_release(v);

  OK(dl_tensor_narrow(&v, t, 1, 4, 0, err)); /* empty, at the end */
  assert_int_equal(v->numel, 0);
  assert_int_equal(v->shape[1], 0);
  dl_tensor_release(v);

  FAILS(DL_E_RANGE, "out of range for dim 1 of shape 3x4", dl_tensor_narrow(&v, t, 1, 3, 2, err));
  assert_null(v);
  FAILS(DL_E_RANGE, "narrow: dim 2 out of range", dl_tensor_narrow(&v, t, 2, 0, 1, err));
  FAILS(DL_E_RANGE, "start -1", dl_tensor_narrow(&v, t, 0, -1, 1, err));
  dl_tensor_release(t);
}

static void select_drops_the_dim(void **state) {
  int64_t shape[3] = {2, 3, 4};
  dl_tensor *t = iota(3, shape), *v;
  OK(dl_tensor_select(&v, t, 1, 2, err));
  int64_t want_shape[2] = {2, 4};
  assert_shape(v, 2, want_shape);
  double want[8] = {8, 9, 10, 11, 20, 21, 22, 23};
  assert_values(v, want, 0);
  dl_tensor *row;
  OK(dl_tensor_select(&row, v, 0, 1, err)); /* a view of a view */
  assert_values(row, want + 4, 0);
  dl_tensor_release(row);
  dl_tensor_release(v);
  FAILS(DL_E_RANGE, "index 3 out of range for dim 1 of shape 2x3x4", dl_tensor_select(&v, t, 1, 3, err));
  FAILS(DL_E_RANGE, "index -1", dl_tensor_select(&v, t, 0, -1, err));
  dl_tensor_release(t);

  /* Down to a 0-dim tensor, which holds one element. */
  int64_t n[1] = {5};
  t = iota(1, n);
  OK(dl_tensor_select(&v, t, 0, 4, err));
  assert_int_equal(v->ndim, 0);
  assert_int_equal(v->numel, 1);
  assert_true(*(float *)v->ptr == 4);
  FAILS(DL_E_RANGE, "dim 0 out of range for a tensor of 0 dims", dl_tensor_select(&row, v, 0, 0, err));
  dl_tensor_release(v);
  dl_tensor_release(t);
}

static void view_of_contiguous_and_narrowed(void **state) {
  int64_t shape[3] = {2, 3, 4};
  dl_tensor *t = iota(3, shape), *v;
  int64_t want_shape[2] = {4, 6}, ask[2] = {4, -1};
  OK(dl_tensor_view(&v, t, 2, ask, err));
  assert_shape(v, 2, want_shape);
  assert_ptr_equal(v->ptr, t->ptr);
  double want[24];
  for (int i = 0; i < 24; i++) want[i] = i;
  assert_values(v, want, 0);

  /* 4x6 narrowed to 4x3 (strides 6, 1) splits its first dim without a copy. */
  dl_tensor *n, *w;
  OK(dl_tensor_narrow(&n, v, 1, 0, 3, err));
  int64_t split[3] = {2, 2, 3};
  OK(dl_tensor_view(&w, n, 3, split, err));
  assert_int_equal(w->strides[0], 12);
  assert_int_equal(w->strides[1], 6);
  assert_int_equal(w->strides[2], 1);
  double want_w[12] = {0, 1, 2, 6, 7, 8, 12, 13, 14, 18, 19, 20};
  assert_values(w, want_w, 0);
  dl_tensor_release(w);
  int64_t all[1] = {12};
  FAILS(DL_E_SHAPE, "call contiguous() first", dl_tensor_view(&w, n, 1, all, err));
  assert_null(w);
  dl_tensor_release(n);

  int64_t bad[2] = {5, 5}, two_unknown[2] = {-1, -1}, ambiguous[2] = {0, -1};
  FAILS(DL_E_SHAPE, "shape 5x5 (25 elements) does not fit a tensor of shape 4x6 (24 elements)",
        dl_tensor_view(&w, v, 2, bad, err));
  FAILS(DL_E_SHAPE, "only one -1", dl_tensor_view(&w, v, 2, two_unknown, err));
  FAILS(DL_E_SHAPE, "cannot infer", dl_tensor_view(&w, v, 2, ambiguous, err));
  dl_tensor_release(v);
  dl_tensor_release(t);
}

static void view_of_transposed_fails_and_reshape_copies(void **state) {
  int64_t shape[2] = {2, 3};
  dl_tensor *t = iota(2, shape), *tr, *v;
  OK(dl_tensor_transpose(&tr, t, 0, 1, err));
  int64_t flat6[1] = {6};
  FAILS(DL_E_SHAPE, "non-contiguous tensor of shape 3x2 cannot be viewed as 6",
        dl_tensor_view(&v, tr, 1, flat6, err));
  OK(dl_tensor_reshape(&v, tr, 1, flat6, err));
  double want[6] = {0, 3, 1, 4, 2, 5};
  assert_values(v, want, 0);
  assert_ptr_not_equal(v->storage, t->storage);
  dl_tensor_release(v);

  /* A contiguous source reshapes without copying. */
  int64_t col[2] = {6, 1};
  OK(dl_tensor_reshape(&v, t, 2, col, err));
  assert_ptr_equal(v->storage, t->storage);
  dl_tensor_release(v);
  dl_tensor_release(tr);
  dl_tensor_release(t);
}

static void permute_and_transpose(void **state) {
  int64_t shape[3] = {2, 3, 4};
  dl_tensor *t = iota(3, shape), *p;
  int order[3] = {2, 0, 1};
  OK(dl_tensor_permute(&p, t, order, err));
  int64_t want_shape[3] = {4, 2, 3};
  assert_shape(p, 3, want_shape);
  for (int64_t k = 0; k < 4; k++)
    for (int64_t i = 0; i < 2; i++)
      for (int64_t j = 0; j < 3; j++) {
        int64_t idx[3] = {k, i, j};
        assert_true(at(p, idx) == (double)(i * 12 + j * 4 + k));
      }
  dl_tensor_release(p);
  int twice[3] = {0, 0, 1}, out_of_range[3] = {0, 1, 3};
  FAILS(DL_E_INVAL, "dim 0 appears twice", dl_tensor_permute(&p, t, twice, err));
  FAILS(DL_E_RANGE, "dim 3 out of range", dl_tensor_permute(&p, t, out_of_range, err));

  OK(dl_tensor_transpose(&p, t, -1, 0, err));
  int64_t tshape[3] = {4, 3, 2};
  assert_shape(p, 3, tshape);
  int64_t idx[3] = {3, 1, 1};
  assert_true(at(p, idx) == 1 * 12 + 1 * 4 + 3);
  dl_tensor_release(p);
  dl_tensor_release(t);
}

static void unsqueeze_and_squeeze(void **state) {
  int64_t shape[2] = {2, 3};
  dl_tensor *t = iota(2, shape), *u, *s;
  OK(dl_tensor_unsqueeze(&u, t, 0, err));
  int64_t front[3] = {1, 2, 3};
  assert_shape(u, 3, front);
  assert_true(dl_tensor_is_contiguous(u));
  dl_tensor_release(u);
  OK(dl_tensor_unsqueeze(&u, t, -1, err));
  int64_t back[3] = {2, 3, 1};
  assert_shape(u, 3, back);
  double want[6] = {0, 1, 2, 3, 4, 5};
  assert_values(u, want, 0);
  FAILS(DL_E_SHAPE, "squeeze: dim 0 of shape 2x3x1 has size 2, not 1", dl_tensor_squeeze(&s, u, 0, err));
  OK(dl_tensor_squeeze(&s, u, 2, err));
  assert_shape(s, 2, shape);
  dl_tensor_release(s);
  dl_tensor_release(u);
  FAILS(DL_E_RANGE, "unsqueeze: dim 3 out of range", dl_tensor_unsqueeze(&u, t, 3, err));

  int64_t ones[4] = {1, 3, 1, 1};
  dl_tensor *o = iota(4, ones);
  OK(dl_tensor_squeeze_all(&s, o, err));
  int64_t three[1] = {3};
  assert_shape(s, 1, three);
  dl_tensor_release(s);
  dl_tensor_release(o);

  int64_t eight[8] = {1, 1, 1, 1, 1, 1, 1, 1};
  OK(dl_tensor_new(&o, DL_U8, 8, eight, err));
  FAILS(DL_E_SHAPE, "maximum of 8 dims", dl_tensor_unsqueeze(&u, o, 0, err));
  dl_tensor_release(o);
  dl_tensor_release(t);
}

static void expand_broadcasts_with_stride_zero(void **state) {
  int64_t shape[2] = {3, 1};
  dl_tensor *t = iota(2, shape), *e;
  int64_t to[3] = {2, 3, 4};
  OK(dl_tensor_expand(&e, t, 3, to, err));
  assert_shape(e, 3, to);
  assert_int_equal(e->strides[0], 0);
  assert_int_equal(e->strides[2], 0);
  for (int64_t i = 0; i < 2; i++)
    for (int64_t j = 0; j < 3; j++)
      for (int64_t k = 0; k < 4; k++) {
        int64_t idx[3] = {i, j, k};
        assert_true(at(e, idx) == (double)j);
      }
  dl_tensor_release(e);
  int64_t keep[2] = {-1, 5};
  OK(dl_tensor_expand(&e, t, 2, keep, err));
  assert_int_equal(e->shape[0], 3);
  assert_int_equal(e->shape[1], 5);
  dl_tensor_release(e);
  int64_t bad[2] = {4, 1}, fewer[1] = {3};
  FAILS(DL_E_SHAPE, "size 4 at dim 0 does not fit shape 3x1", dl_tensor_expand(&e, t, 2, bad, err));
  FAILS(DL_E_SHAPE, "cannot expand shape 3x1 to 1 dims", dl_tensor_expand(&e, t, 1, fewer, err));
  dl_tensor_release(t);
}

static void empty_tensors(void **state) {
  int64_t shape[2] = {0, 3};
  dl_tensor *t, *v;
  OK(dl_tensor_new(&t, DL_F32, 2, shape, err));
  assert_int_equal(t->numel, 0);
  OK(dl_tensor_narrow(&v, t, 1, 1, 2, err));
  assert_int_equal(v->shape[1], 2);
  dl_tensor_release(v);
  OK(dl_tensor_select(&v, t, 1, 2, err));
  assert_int_equal(v->ndim, 1);
  assert_int_equal(v->shape[0], 0);
  dl_tensor_release(v);
  int64_t other[3] = {3, 0, -1};
  OK(dl_tensor_view(&v, t, 2, other, err)); /* only the first two entries */
  assert_int_equal(v->shape[0], 3);
  assert_int_equal(v->shape[1], 0);
  dl_tensor_release(v);
  int64_t big[3] = {2, 0, 3};
  OK(dl_tensor_expand(&v, t, 3, big, err));
  assert_int_equal(v->numel, 0);
  dl_tensor_release(v);
  OK(dl_tensor_transpose(&v, t, 0, 1, err));
  assert_int_equal(v->shape[0], 3);
  dl_tensor_release(v);
  FAILS(DL_E_RANGE, "index 0 out of range for dim 0 of shape 0x3", dl_tensor_select(&v, t, 0, 0, err));
  /* No elements, but sizes whose strides overflow int64 (a safetensors
   * header reached this through tensor.empty). */
  int64_t huge[3] = {0, INT64_C(1) << 53, INT64_C(1) << 53};
  FAILS(DL_E_SHAPE, "overflows", dl_tensor_empty(&v, DL_U8, 3, huge, err));
  FAILS(DL_E_SHAPE, "overflows", dl_tensor_view(&v, t, 3, huge, err));
  dl_tensor_release(t);
  int64_t one[2] = {1, 1}, wide[2] = {INT64_C(1) << 40, INT64_C(1) << 40};
  OK(dl_tensor_new(&t, DL_F32, 2, one, err));
  FAILS(DL_E_SHAPE, "overflows", dl_tensor_expand(&v, t, 2, wide, err));
  dl_tensor_release(t);
}

static void scalar_tensors(void **state) {
  dl_tensor *t, *v;
  OK(dl_tensor_new(&t, DL_I64, 0, NULL, err));
  assert_int_equal(t->numel, 1);
  *(int64_t *)t->ptr = 42;
  int64_t one[2] = {1, 1};
  OK(dl_tensor_view(&v, t, 2, one, err));
  assert_true(flat(v, 0) == 42);
  dl_tensor_release(v);
  OK(dl_tensor_unsqueeze(&v, t, 0, err));
  assert_int_equal(v->ndim, 1);
  dl_tensor_release(v);
  OK(dl_tensor_expand(&v, t, 2, one + 0, err));
  dl_tensor_release(v);
  dl_tensor_release(t);
}

static void views_keep_storage_alive(void **state) {
  int64_t shape[1] = {4};
  dl_tensor *t = iota(1, shape), *v;
  OK(dl_tensor_narrow(&v, t, 0, 2, 2, err));
  dl_tensor_release(t); /* the view still holds a reference */
  double want[2] = {2, 3};
  assert_values(v, want, 0);
  dl_tensor_release(v);
}

static void stale_views_fail(void **state) {
  int64_t shape[2] = {2, 3};
  dl_tensor *t = iota(2, shape), *v, *w;
  OK(dl_tensor_select(&v, t, 0, 1, err));
  dl__storage_bump_generation(t->storage);
  int64_t six[1] = {6};
  int order[2] = {1, 0};
  FAILS(DL_E_STALE, "recycled", dl_tensor_narrow(&w, v, 0, 0, 1, err));
  FAILS(DL_E_STALE, "recycled", dl_tensor_select(&w, v, 0, 0, err));
  FAILS(DL_E_STALE, "recycled", dl_tensor_view(&w, t, 1, six, err));
  FAILS(DL_E_STALE, "recycled", dl_tensor_reshape(&w, t, 1, six, err));
  FAILS(DL_E_STALE, "recycled", dl_tensor_permute(&w, t, order, err));
  FAILS(DL_E_STALE, "recycled", dl_tensor_transpose(&w, t, 0, 1, err));
  FAILS(DL_E_STALE, "recycled", dl_tensor_unsqueeze(&w, t, 0, err));
  FAILS(DL_E_STALE, "recycled", dl_tensor_squeeze_all(&w, t, err));
  FAILS(DL_E_STALE, "recycled", dl_tensor_expand(&w, t, 1, six, err));
  assert_null(w);
  dl_tensor_release(v);
  dl_tensor_release(t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(narrow_shares_storage),
      cmocka_unit_test(select_drops_the_dim),
      cmocka_unit_test(view_of_contiguous_and_narrowed),
      cmocka_unit_test(view_of_transposed_fails_and_reshape_copies),
      cmocka_unit_test(permute_and_transpose),
      cmocka_unit_test(unsqueeze_and_squeeze),
      cmocka_unit_test(expand_broadcasts_with_stride_zero),
      cmocka_unit_test(empty_tensors),
      cmocka_unit_test(scalar_tensors),
      cmocka_unit_test(views_keep_storage_alive),
      cmocka_unit_test(stale_views_fail),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
