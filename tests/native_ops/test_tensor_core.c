/* Tensor headers and storage: dl_tensor_free_storage empties a header that
 * stays valid, so every later use fails with DL_E_STALE instead of reading
 * freed memory (run under ASan to see that nothing is touched). */
#include "test_tensor_util.h"

static void freed_tensors_fail_every_op(void **state) {
  int64_t shape[2] = {2, 3}, six[1] = {6};
  dl_tensor *t = iota(2, shape), *other = iota(2, shape), *out = NULL, *idx = NULL;
  assert_false(dl_tensor_is_freed(t));
  dl_tensor_free_storage(t);
  assert_true(dl_tensor_is_freed(t));
  assert_false(dl_tensor_is_freed(other));
  assert_int_equal(t->ndim, 2); /* the header is still readable */
  assert_null(t->ptr);

  FAILS(DL_E_STALE, "after :free()", dl_tensor_check(t, err));
  FAILS(DL_E_STALE, "after :free()", dl_tensor_clone(&out, t, err));
  FAILS(DL_E_STALE, "after :free()", dl_tensor_view(&out, t, 1, six, err));
  FAILS(DL_E_STALE, "after :free()", dl_tensor_select(&out, t, 0, 1, err));
  FAILS(DL_E_STALE, "after :free()", dl_tensor_fill(t, 1, err));
  FAILS(DL_E_STALE, "after :free()", dl_tensor_copy(other, t, err));
  FAILS(DL_E_STALE, "after :free()", dl_tensor_copy(t, other, err));
  FAILS(DL_E_STALE, "after :free()", dl_tensor_binary(&out, other, t, DL_ADD, err));
  FAILS(DL_E_STALE, "after :free()", dl_tensor_scalar_into(t, other, 1, DL_MUL, err));
  FAILS(DL_E_STALE, "after :free()", dl_tensor_reduce(&out, t, DL_SUM, 0, 0, err));
  FAILS(DL_E_STALE, "after :free()", dl_tensor_topk(&out, &idx, t, 1, 1, err));
  FAILS(DL_E_STALE, "after :free()", dl_tensor_matmul(&out, t, other, err));
  FAILS(DL_E_STALE, "after :free()", dl_nn_relu_forward(t, other, err));
  FAILS(DL_E_STALE, "after :free()", dl_nn_relu_forward(other, t, err));
  assert_null(out);
  assert_null(idx);

  dl_tensor_free_storage(t); /* a second free is a no-op */
  dl_tensor_free_storage(NULL);
  dl_tensor_release(t);
  dl_tensor_release(other);
}

static void free_storage_returns_the_bytes_and_views_keep_theirs(void **state) {
  int64_t before = dl_mem_live_bytes();
  int64_t shape[1] = {1000};
  dl_tensor *t = iota(1, shape), *v;
  OK(dl_tensor_narrow(&v, t, 0, 10, 5, err));
  dl_tensor_free_storage(t);
  assert_int_equal(dl_mem_live_bytes(), before + 4000); /* the view holds the storage */
  OK(dl_tensor_check(v, err));
  assert_true(((float *)v->ptr)[0] == 10);
  dl_tensor_free_storage(v);
  assert_int_equal(dl_mem_live_bytes(), before);
  dl_tensor_release(v);
  dl_tensor_release(t);
  assert_int_equal(dl_mem_live_bytes(), before);
}

static void freed_images_fail_image_ops(void **state) {
  int64_t shape[3] = {4, 4, 3};
  dl_tensor *img, *out = NULL;
  OK(dl_tensor_new(&img, DL_U8, 3, shape, err));
  dl_tensor_free_storage(img);
  FAILS(DL_E_STALE, "after :free()", dl_image_resize(&out, img, 2, 2, DL_RESIZE_BILINEAR, err));
  FAILS(DL_E_STALE, "after :free()", dl_image_crop(&out, img, 0, 0, 2, 2, err));
  FAILS(DL_E_STALE, "after :free()", dl_image_encode(&out, img, DL_IMAGE_PNG, 0, err));
  assert_null(out);
  dl_tensor_release(img);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(freed_tensors_fail_every_op),
      cmocka_unit_test(free_storage_returns_the_bytes_and_views_keep_theirs),
      cmocka_unit_test(freed_images_fail_image_ops),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
