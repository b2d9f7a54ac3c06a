/* Argument checks for the nn kernels: one place that words the messages. */
#include "nn_internal.h"

#include <limits.h>
#include <stdio.h>

/* Writes "[2, 3]" into buf (always NUL-terminated). */
static void format_shape(char *buf, size_t size, int ndim, const int64_t *shape) {
  size_t used = (size_t)snprintf(buf, size, "[");
  for (int i = 0; i < ndim && used < size; i++)
    used += (size_t)snprintf(buf + used, size - used, "%s%lld", i ? ", " : "", (long long)shape[i]);
  if (used < size) snprintf(buf + used, size - used, "]");
}

int dl__nn_expect(const dl_tensor *t, const char *name, int dtype, int ndim, dl_error *err) {
  if (!t) return dl__fail(err, DL_E_INVAL, "%s is NULL", name);
  int rc = dl_tensor_check(t, err);
  if (rc < 0) return rc;
  if (t->dtype != dtype)
    return dl__fail(err, DL_E_DTYPE, "%s has dtype %s, expected %s", name, dl_dtype_name(t->dtype),
                    dl_dtype_name(dtype));
  if (ndim >= 0 && t->ndim != ndim) {
    char got[128];
    format_shape(got, sizeof got, t->ndim, t->shape);
    return dl__fail(err, DL_E_SHAPE, "%s has shape %s, expected %d dims", name, got, ndim);
  }
  if (!dl_tensor_is_contiguous(t))
    return dl__fail(err, DL_E_INVAL, "%s is not contiguous (make a copy first)", name);
  return DL_OK;
}

int dl__nn_expect_shape(const dl_tensor *t, const char *name, int dtype, int ndim, const int64_t *shape,
                        dl_error *err) {
  int rc = dl__nn_expect(t, name, dtype, -1, err);
  if (rc < 0) return rc;
  bool same = t->ndim == ndim;
  for (int i = 0; same && i < ndim; i++) same = t->shape[i] == shape[i];
  if (!same) {
    char got[128], want[128];
    format_shape(got, sizeof got, t->ndim, t->shape);
    format_shape(want, sizeof want, ndim, shape);
    return dl__fail(err, DL_E_SHAPE, "%s has shape %s, expected %s", name, got, want);
  }
  return DL_OK;
}

int dl__nn_expect_like(const dl_tensor *t, const char *name, int dtype, const dl_tensor *ref,
                       const char *ref_name, dl_error *err) {
  int rc = dl__nn_expect(t, name, dtype, -1, err);
  if (rc < 0) return rc;
  bool same = t->ndim == ref->ndim;
  for (int i = 0; same && i < ref->ndim; i++) same = t->shape[i] == ref->shape[i];
  if (!same) {
    char got[128], want[128];
    format_shape(got, sizeof got, t->ndim, t->shape);
    format_shape(want, sizeof want, ref->ndim, ref->shape);
    return dl__fail(err, DL_E_SHAPE, "%s has shape %s, expected %s (the shape of %s)", name, got, want,
                    ref_name);
  }
  return DL_OK;
}

int dl__nn_expect_blas_dims(const char *what, int64_t m, int64_t n, int64_t k, dl_error *err) {
  if (m > INT_MAX || n > INT_MAX || k > INT_MAX)
    return dl__fail(err, DL_E_TOO_LARGE, "%s: matrix dims %lld x %lld x %lld exceed the BLAS limit %d", what,
                    (long long)m, (long long)n, (long long)k, INT_MAX);
  return DL_OK;
}
