/* topk: the k largest elements along one dim, sorted, with their indices. */
#include "tensor_internal.h"

#include <stdlib.h>
#include <string.h>

typedef struct entry {
  union {
    int64_t i; /* u8, i32 and i64 values, exact */
    float f;
  } v;
  int64_t index;
} entry;

typedef struct topk_ctx {
  int dtype;
  int64_t len, k;
  int64_t in_step;    /* bytes along the dim, input */
  int64_t value_step; /* and the two outputs */
  int64_t index_step;
  entry *row; /* scratch for one row */
} topk_ctx;

/* Descending by value, a NaN above every number; equal values (and NaNs)
 * in index order, so the result does not depend on the sort. */
static int compare_f32(const void *pa, const void *pb) {
  const entry *a = pa, *b = pb;
  bool na = a->v.f != a->v.f, nb = b->v.f != b->v.f;
  if (na != nb) return na ? -1 : 1;
  if (!na && a->v.f != b->v.f) return a->v.f > b->v.f ? -1 : 1;
  return a->index < b->index ? -1 : 1;
}

static int compare_int(const void *pa, const void *pb) {
  const entry *a = pa, *b = pb;
  if (a->v.i != b->v.i) return a->v.i > b->v.i ? -1 : 1;
  return a->index < b->index ? -1 : 1;
}

/* Operands: 0 the values out, 1 the i64 indices out, 2 the input. */
static void topk_rows(int64_t n, char *const *ptrs, const int64_t *steps, void *vctx) {
  const topk_ctx *c = vctx;
  for (int64_t i = 0; i < n; i++) {
    const char *in = ptrs[2] + i * steps[2];
    for (int64_t j = 0; j < c->len; j++) {
      const char *p = in + j * c->in_step;
      entry *e = &c->row[j];
      e->index = j;
      switch (c->dtype) {
        case DL_U8:
          e->v.i = *(const uint8_t *)p;
          break;
        case DL_I32:
          e->v.i = *(const int32_t *)p;
          break;
        case DL_I64:
          e->v.i = *(const int64_t *)p;
          break;
        default:
          e->v.f = *(const float *)p;
      }
    }
    qsort(c->row, (size_t)c->len, sizeof(entry), c->dtype == DL_F32 ? compare_f32 : compare_int);
    char *vo = ptrs[0] + i * steps[0], *io = ptrs[1] + i * steps[1];
    for (int64_t j = 0; j < c->k; j++) {
      const entry *e = &c->row[j];
      char *v = vo + j * c->value_step;
      switch (c->dtype) {
        case DL_U8:
          *(uint8_t *)v = (uint8_t)e->v.i;
          break;
        case DL_I32:
          *(int32_t *)v = (int32_t)e->v.i;
          break;
        case DL_I64:
          *(int64_t *)v = e->v.i;
          break;
        default:
          *(float *)v = e->v.f;
      }
      *(int64_t *)(io + j * c->index_step) = e->index;
    }
  }
}

int dl_tensor_topk(dl_tensor **values, dl_tensor **indices, const dl_tensor *t, int dim, int64_t k,
                   dl_error *err) {
  *values = *indices = NULL;
  int rc = dl__tensor_usable("topk", t, err), d;
  if (rc < 0 || (rc = dl__tensor_dim("topk", t->ndim, dim, &d, err)) < 0) return rc;
  if (k < 0 || k > t->shape[d]) {
    char s[DL__SHAPE_STR];
    return dl__fail(err, DL_E_RANGE, "topk: k = %lld out of range for dim %d of shape %s", (long long)k, d,
                    dl__shape_str(s, t->ndim, t->shape));
  }
  int64_t shape[8];
  memcpy(shape, t->shape, sizeof shape);
  shape[d] = k;
  if ((rc = dl_tensor_empty(values, t->dtype, t->ndim, shape, err)) < 0) return rc;
  if ((rc = dl_tensor_empty(indices, DL_I64, t->ndim, shape, err)) < 0) goto fail;
  topk_ctx c = {t->dtype,
                t->shape[d],
                k,
                t->strides[d] * (int64_t)dl_dtype_size(t->dtype),
                (*values)->strides[d] * (int64_t)dl_dtype_size(t->dtype),
                (*indices)->strides[d] * 8,
                NULL};
  if (k > 0 && t->numel > 0) {
    c.row = malloc((size_t)c.len * sizeof(entry));
    if (!c.row) {
      rc = dl__fail(err, DL_E_NOMEM, "topk: cannot allocate a row of %lld elements", (long long)c.len);
      goto fail;
    }
    int64_t rows[8], strides[3][8];
    dl__drop_dim(t->ndim, t->shape, d, rows);
    dl__drop_dim(t->ndim, (*values)->strides, d, strides[0]);
    dl__drop_dim(t->ndim, (*indices)->strides, d, strides[1]);
    dl__drop_dim(t->ndim, t->strides, d, strides[2]);
    char *ptrs[3] = {(*values)->ptr, (*indices)->ptr, t->ptr};
    size_t esize[3] = {dl_dtype_size(t->dtype), 8, dl_dtype_size(t->dtype)};
    dl__iter it;
    dl__iter_init(&it, t->ndim - 1, rows, 3, ptrs, strides, esize);
    dl__iter_run(&it, topk_rows, &c);
    free(c.row);
  }
  return DL_OK;
fail:
  dl_tensor_release(*values);
  dl_tensor_release(*indices);
  *values = *indices = NULL;
  return rc;
}
