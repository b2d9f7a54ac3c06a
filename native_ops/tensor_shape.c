/* Shape helpers shared by the tensor ops: names, dims, broadcasting. */
#include "tensor_internal.h"

#include <stdio.h>

const char *dl_dtype_name(int dtype) {
  switch (dtype) {
    case DL_U8:
      return "u8";
    case DL_I32:
      return "i32";
    case DL_I64:
      return "i64";
    case DL_F32:
      return "f32";
  }
  return "unknown";
}

const char *dl__shape_str(char buf[DL__SHAPE_STR], int ndim, const int64_t *shape) {
  if (ndim == 0) {
    snprintf(buf, DL__SHAPE_STR, "scalar");
    return buf;
  }
  size_t used = 0;
  buf[0] = '\0';
  for (int i = 0; i < ndim && used < DL__SHAPE_STR; i++)
    used += (size_t)snprintf(buf + used, DL__SHAPE_STR - used, "%s%lld", i ? "x" : "", (long long)shape[i]);
  return buf;
}

int dl__tensor_usable(const char *op, const dl_tensor *t, dl_error *err) {
  if (!t) return dl__fail(err, DL_E_INVAL, "%s: tensor is NULL", op);
  return dl_tensor_check(t, err);
}

int dl__tensor_dim(const char *op, int ndim, int dim, int *out, dl_error *err) {
  int d = dim < 0 ? dim + ndim : dim;
  if (d < 0 || d >= ndim)
    return dl__fail(err, DL_E_RANGE, "%s: dim %d out of range for a tensor of %d dims", op, dim, ndim);
  *out = d;
  return DL_OK;
}

int dl__broadcast_shape(const char *op, int ndim_a, const int64_t *a, int ndim_b, const int64_t *b,
                        int *out_ndim, int64_t out[8], dl_error *err) {
  int n = ndim_a > ndim_b ? ndim_a : ndim_b;
  for (int i = 0; i < n; i++) {
    /* Walk from the trailing dim; a missing dim acts as size 1. */
    int ia = ndim_a - n + i, ib = ndim_b - n + i;
    int64_t sa = ia >= 0 ? a[ia] : 1, sb = ib >= 0 ? b[ib] : 1;
    if (sa != sb && sa != 1 && sb != 1) {
      char ba[DL__SHAPE_STR], bb[DL__SHAPE_STR];
      return dl__fail(err, DL_E_SHAPE, "%s: shapes %s and %s do not broadcast (sizes %lld and %lld)", op,
                      dl__shape_str(ba, ndim_a, a), dl__shape_str(bb, ndim_b, b), (long long)sa,
                      (long long)sb);
    }
    out[i] = sa == 1 ? sb : sa;
  }
  *out_ndim = n;
  return DL_OK;
}

void dl__broadcast_strides(const dl_tensor *t, int ndim, const int64_t *shape, int64_t strides[8]) {
  for (int i = 0; i < ndim; i++) {
    int it = t->ndim - ndim + i;
    strides[i] = (it >= 0 && t->shape[it] == shape[i] && shape[i] != 1) ? t->strides[it] : 0;
  }
}

void dl__drop_dim(int ndim, const int64_t *in, int d, int64_t out[8]) {
  for (int i = 0, k = 0; i < ndim; i++)
    if (i != d) out[k++] = in[i];
}
