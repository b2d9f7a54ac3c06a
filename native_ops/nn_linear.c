/* Linear layer: y = x @ W^T + b, and its gradients, on sgemm (blas.c, which
 * spreads the larger products over the cores). */
#include "nn_internal.h"

#include <string.h>

/* Checks x[N,I], weight[O,I], and bias[O] when present. */
static int check_inputs(const dl_tensor *x, const dl_tensor *weight, const dl_tensor *bias, dl_error *err) {
  int rc = dl__nn_expect(x, "x", DL_F32, 2, err);
  if (rc < 0) return rc;
  rc = dl__nn_expect(weight, "weight", DL_F32, 2, err);
  if (rc < 0) return rc;
  if (weight->shape[1] != x->shape[1])
    return dl__fail(err, DL_E_SHAPE, "x has %lld features per row but weight [%lld, %lld] expects %lld",
                    (long long)x->shape[1], (long long)weight->shape[0], (long long)weight->shape[1],
                    (long long)weight->shape[1]);
  if (bias) {
    int64_t want[1] = {weight->shape[0]};
    rc = dl__nn_expect_shape(bias, "bias", DL_F32, 1, want, err);
    if (rc < 0) return rc;
  }
  return dl__nn_expect_blas_dims("linear", x->shape[0], weight->shape[0], x->shape[1], err);
}

int dl_nn_linear_forward(const dl_tensor *x, const dl_tensor *weight, const dl_tensor *bias, dl_tensor *y,
                         dl_error *err) {
  int rc = check_inputs(x, weight, bias, err);
  if (rc < 0) return rc;
  const int64_t n = x->shape[0], in = x->shape[1], out = weight->shape[0];
  int64_t want[2] = {n, out};
  rc = dl__nn_expect_shape(y, "y", DL_F32, 2, want, err);
  if (rc < 0) return rc;
  if ((rc = dl__blas_load(err)) < 0) return rc;
  float *py = y->ptr;
  if (bias) {
    for (int64_t i = 0; i < n; i++) memcpy(py + i * out, bias->ptr, (size_t)out * sizeof(float));
  } else if (y->numel > 0) {
    memset(py, 0, (size_t)y->numel * sizeof(float));
  }
  if (n > 0 && out > 0 && in > 0)
    return dl__sgemm(false, true, n, out, in, 1.0f, x->ptr, in, weight->ptr, in, 1.0f, py, out, err);
  return DL_OK;
}

int dl_nn_linear_backward(const dl_tensor *x, const dl_tensor *weight, const dl_tensor *grad_y,
                          dl_tensor *grad_x, dl_tensor *grad_weight, dl_tensor *grad_bias, dl_error *err) {
  int rc = check_inputs(x, weight, NULL, err);
  if (rc < 0) return rc;
  const int64_t n = x->shape[0], in = x->shape[1], out = weight->shape[0];
  int64_t y_shape[2] = {n, out};
  rc = dl__nn_expect_shape(grad_y, "grad_y", DL_F32, 2, y_shape, err);
  if (rc < 0) return rc;
  if (grad_x && (rc = dl__nn_expect_like(grad_x, "grad_x", DL_F32, x, "x", err)) < 0) return rc;
  if ((rc = dl__nn_expect_like(grad_weight, "grad_weight", DL_F32, weight, "weight", err)) < 0) return rc;
  int64_t b_shape[1] = {out};
  if (grad_bias && (rc = dl__nn_expect_shape(grad_bias, "grad_bias", DL_F32, 1, b_shape, err)) < 0) return rc;

  if ((rc = dl__blas_load(err)) < 0) return rc;
  const float *gy = grad_y->ptr;
  if (grad_x && grad_x->numel > 0) {
    if (out > 0)
      dl__sgemm(false, false, n, in, out, 1.0f, gy, out, weight->ptr, in, 0.0f, grad_x->ptr, in, err);
    else
      memset(grad_x->ptr, 0, (size_t)grad_x->numel * sizeof(float));
  }
  if (n > 0 && out > 0 && in > 0)
    dl__sgemm(true, false, out, in, n, 1.0f, gy, out, x->ptr, in, 1.0f, grad_weight->ptr, in, err);
  if (grad_bias) {
    float *gb = grad_bias->ptr;
    for (int64_t i = 0; i < n; i++)
      for (int64_t j = 0; j < out; j++) gb[j] += gy[i * out + j];
  }
  return DL_OK;
}
