/* Matrix products of f32 tensors through BLAS sgemm (blas.c). */
#include "tensor_internal.h"

#include <limits.h>

/* How sgemm can read a rows x cols matrix whose elements sit row_stride and
 * col_stride apart: row-major (not transposed, ld = row stride) or
 * column-major (transposed, ld = col stride). False when neither fits, e.g.
 * a stepped view. */
static bool blas_layout(int64_t rows, int64_t cols, int64_t row_stride, int64_t col_stride, bool *trans,
                        int64_t *ld) {
  int64_t min_row_ld = cols > 1 ? cols : 1, min_col_ld = rows > 1 ? rows : 1;
  if (cols == 1 || col_stride == 1) {
    *trans = false;
    *ld = rows == 1 ? min_row_ld : row_stride;
    if (*ld >= min_row_ld && *ld <= INT_MAX) return true;
  }
  if (rows == 1 || row_stride == 1) {
    *trans = true;
    *ld = cols == 1 ? min_col_ld : col_stride;
    if (*ld >= min_col_ld && *ld <= INT_MAX) return true;
  }
  return false;
}

/* One operand: its matrices (the last two dims), its batch stride (0 for
 * a 2-D operand, reused by every batch) and how sgemm reads it. */
typedef struct operand {
  const dl_tensor *t;
  dl_tensor *copy; /* a contiguous copy when t's layout does not suit sgemm */
  int64_t rows, cols, batch_stride, ld;
  bool trans;
} operand;

static int prepare(operand *o, const dl_tensor *t, dl_error *err) {
  o->t = t;
  o->copy = NULL;
  int r = t->ndim - 2;
  o->rows = t->shape[r];
  o->cols = t->shape[r + 1];
  if (!blas_layout(o->rows, o->cols, t->strides[r], t->strides[r + 1], &o->trans, &o->ld)) {
    int rc = dl_tensor_clone(&o->copy, t, err);
    if (rc < 0) return rc;
    o->t = t = o->copy;
    blas_layout(o->rows, o->cols, t->strides[r], t->strides[r + 1], &o->trans, &o->ld);
  }
  o->batch_stride = t->ndim == 3 && t->shape[0] > 1 ? t->strides[0] : 0;
  return DL_OK;
}

int dl_tensor_matmul(dl_tensor **out, const dl_tensor *a, const dl_tensor *b, dl_error *err) {
  *out = NULL;
  int rc = dl__tensor_usable("matmul", a, err);
  if (rc < 0 || (rc = dl__tensor_usable("matmul", b, err)) < 0) return rc;
  if (a->dtype != DL_F32 || b->dtype != DL_F32)
    return dl__fail(err, DL_E_DTYPE, "matmul: needs f32 tensors, got %s and %s", dl_dtype_name(a->dtype),
                    dl_dtype_name(b->dtype));
  char sa[DL__SHAPE_STR], sb[DL__SHAPE_STR];
  if (a->ndim < 2 || a->ndim > 3 || b->ndim < 2 || b->ndim > 3)
    return dl__fail(err, DL_E_SHAPE, "matmul: needs 2-D or 3-D (batched) tensors, got shapes %s and %s",
                    dl__shape_str(sa, a->ndim, a->shape), dl__shape_str(sb, b->ndim, b->shape));
  int64_t ba = a->ndim == 3 ? a->shape[0] : 1, bb = b->ndim == 3 ? b->shape[0] : 1;
  int64_t m = a->shape[a->ndim - 2], k = a->shape[a->ndim - 1], n = b->shape[b->ndim - 1];
  if (b->shape[b->ndim - 2] != k || (ba != bb && ba != 1 && bb != 1))
    return dl__fail(err, DL_E_SHAPE, "matmul: shapes %s and %s do not fit (inner sizes %lld and %lld%s)",
                    dl__shape_str(sa, a->ndim, a->shape), dl__shape_str(sb, b->ndim, b->shape), (long long)k,
                    (long long)b->shape[b->ndim - 2], ba != bb ? ", or batch sizes differ" : "");
  if (m > INT_MAX || n > INT_MAX || k > INT_MAX)
    return dl__fail(err, DL_E_TOO_LARGE, "matmul: sizes %lldx%lld @ %lldx%lld exceed BLAS's int range",
                    (long long)m, (long long)k, (long long)k, (long long)n);
  int64_t batches = ba > bb ? ba : bb;
  int64_t shape[3] = {batches, m, n};
  bool batched = a->ndim == 3 || b->ndim == 3;
  if ((rc = dl_tensor_new(out, DL_F32, batched ? 3 : 2, batched ? shape : shape + 1, err)) < 0) return rc;
  if (m == 0 || n == 0 || k == 0 || batches == 0) return DL_OK; /* nothing to sum: zeros */
  operand oa, ob;
  if ((rc = prepare(&oa, a, err)) < 0) goto fail;
  if ((rc = prepare(&ob, b, err)) < 0) {
    dl_tensor_release(oa.copy);
    goto fail;
  }
  float *c = (*out)->ptr;
  for (int64_t i = 0; rc == 0 && i < batches; i++) {
    const float *pa = (const float *)oa.t->ptr + i * oa.batch_stride;
    const float *pb = (const float *)ob.t->ptr + i * ob.batch_stride;
    rc = dl__sgemm(oa.trans, ob.trans, m, n, k, 1.0f, pa, oa.ld, pb, ob.ld, 0.0f, c + i * m * n, n, err);
  }
  dl_tensor_release(oa.copy);
  dl_tensor_release(ob.copy);
  if (rc == 0) return DL_OK;
fail:
  dl_tensor_release(*out);
  *out = NULL;
  return rc;
}
