/* Softmax and log-softmax along one dim of an f32 tensor. */
#include "tensor_internal.h"

#include <math.h>

typedef struct softmax_ctx {
  int64_t len;      /* elements along the dim */
  int64_t in_step;  /* bytes between them in the input */
  int64_t out_step; /* and in the output */
  bool log;
} softmax_ctx;

/* Operands: 0 the output, 1 the input, one row per iterated position.
 * Subtracting the row's max keeps exp() finite; sums run in double. */
static void softmax_rows(int64_t n, char *const *ptrs, const int64_t *steps, void *vctx) {
  const softmax_ctx *c = vctx;
  for (int64_t i = 0; i < n; i++) {
    const char *in = ptrs[1] + i * steps[1];
    char *out = ptrs[0] + i * steps[0];
#define IN(j) (*(const float *)(in + (j)*c->in_step))
#define OUT(j) (*(float *)(out + (j)*c->out_step))
    float mx = -INFINITY;
    for (int64_t j = 0; j < c->len; j++) mx = IN(j) > mx || IN(j) != IN(j) ? IN(j) : mx;
    double sum = 0;
    for (int64_t j = 0; j < c->len; j++) sum += exp((double)IN(j) - mx);
    if (c->log) {
      double log_sum = log(sum);
      for (int64_t j = 0; j < c->len; j++) OUT(j) = (float)((double)IN(j) - mx - log_sum);
    } else {
      for (int64_t j = 0; j < c->len; j++) OUT(j) = (float)(exp((double)IN(j) - mx) / sum);
    }
#undef IN
#undef OUT
  }
}

int dl_tensor_softmax(dl_tensor **out, const dl_tensor *t, int dim, int log, dl_error *err) {
  *out = NULL;
  const char *name = log ? "log_softmax" : "softmax";
  int rc = dl__tensor_usable(name, t, err), d;
  if (rc < 0 || (rc = dl__tensor_dim(name, t->ndim, dim, &d, err)) < 0) return rc;
  if (t->dtype != DL_F32)
    return dl__fail(err, DL_E_DTYPE, "%s: needs an f32 tensor, got %s", name, dl_dtype_name(t->dtype));
  if ((rc = dl_tensor_empty(out, DL_F32, t->ndim, t->shape, err)) < 0) return rc;
  int64_t shape[8], strides[2][8];
  dl__drop_dim(t->ndim, t->shape, d, shape);
  dl__drop_dim(t->ndim, (*out)->strides, d, strides[0]);
  dl__drop_dim(t->ndim, t->strides, d, strides[1]);
  char *ptrs[2] = {(*out)->ptr, t->ptr};
  size_t esize[2] = {sizeof(float), sizeof(float)};
  dl__iter it;
  dl__iter_init(&it, t->ndim - 1, shape, 2, ptrs, strides, esize);
  softmax_ctx c = {t->shape[d], t->strides[d] * (int64_t)sizeof(float),
                   (*out)->strides[d] * (int64_t)sizeof(float), log != 0};
  dl__iter_run(&it, softmax_rows, &c);
  return DL_OK;
}
