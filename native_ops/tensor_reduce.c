/* Reductions along one dim: sum, mean, max, min, argmax, argmin. */
#include "tensor_internal.h"

#include <string.h>

typedef struct reduce_ctx {
  int op;
  int64_t len;  /* elements along the reduced dim */
  int64_t step; /* bytes between them in the input */
  bool values;  /* max and min: write the extreme to operand 0 */
  bool indices; /* max, min and arg ops: write its index to operand 1 */
} reduce_ctx;

/* Operands: 0 the values (or sums) out, 1 the i64 indices out, 2 the input,
 * one row per iterated position. Sums of integers accumulate in uint64_t,
 * which wraps like the i64 result; f32 sums accumulate in double. A NaN
 * wins max and min, as in numpy, and the first extreme wins a tie. */
#define REDUCE_LOOP(NAME, T, ACC_T, SUM_T)                                                    \
  static void NAME(int64_t n, char *const *ptrs, const int64_t *steps, void *vctx) {          \
    const reduce_ctx *c = vctx;                                                               \
    for (int64_t i = 0; i < n; i++) {                                                         \
      const char *row = ptrs[2] + i * steps[2];                                               \
      char *vo = ptrs[0] + i * steps[0], *io = ptrs[1] + i * steps[1];                        \
      if (c->op == DL_SUM || c->op == DL_MEAN) {                                              \
        ACC_T acc = 0;                                                                        \
        for (int64_t j = 0; j < c->len; j++) acc += (ACC_T) * (const T *)(row + j * c->step); \
        if (c->op == DL_SUM)                                                                  \
          *(SUM_T *)vo = (SUM_T)acc;                                                          \
        else                                                                                  \
          *(float *)vo = (float)((double)(SUM_T)acc / (double)c->len);                        \
        continue;                                                                             \
      }                                                                                       \
      bool want_max = c->op == DL_MAX || c->op == DL_ARGMAX;                                  \
      T best = *(const T *)row;                                                               \
      int64_t at = 0;                                                                         \
      for (int64_t j = 1; j < c->len && best == best; j++) {                                  \
        T v = *(const T *)(row + j * c->step);                                                \
        if (v != v || (want_max ? v > best : v < best)) {                                     \
          best = v;                                                                           \
          at = j;                                                                             \
        }                                                                                     \
      }                                                                                       \
      if (c->values) *(T *)vo = best;                                                         \
      if (c->indices) *(int64_t *)io = at;                                                    \
    }                                                                                         \
  }

REDUCE_LOOP(reduce_u8, uint8_t, uint64_t, int64_t)
REDUCE_LOOP(reduce_i32, int32_t, uint64_t, int64_t)
REDUCE_LOOP(reduce_i64, int64_t, uint64_t, int64_t)
REDUCE_LOOP(reduce_f32, float, double, float)

static const dl__loop_fn loops[4] = {
    [DL_U8] = reduce_u8, [DL_I32] = reduce_i32, [DL_I64] = reduce_i64, [DL_F32] = reduce_f32};

static const char *const op_names[] = {"sum", "mean", "max", "min", "argmax", "argmin"};

static int result_dtype(int op, int dtype) {
  switch (op) {
    case DL_SUM:
      return dtype == DL_F32 ? DL_F32 : DL_I64;
    case DL_MEAN:
      return DL_F32;
    case DL_MAX:
    case DL_MIN:
      return dtype;
    default:
      return DL_I64;
  }
}

/* Checks t and dim for op and makes the outputs: *values (unless NULL) and
 * *indices (unless NULL) of t's shape without dim (or with size 1). */
static int prepare(const char *name, int op, const dl_tensor *t, int dim, int keepdim, int *d,
                   dl_tensor **values, dl_tensor **indices, dl_error *err) {
  int rc = dl__tensor_usable(name, t, err);
  if (rc < 0 || (rc = dl__tensor_dim(name, t->ndim, dim, d, err)) < 0) return rc;
  if (op >= DL_MAX && t->shape[*d] == 0) {
    char s[DL__SHAPE_STR];
    return dl__fail(err, DL_E_SHAPE, "%s: dim %d of shape %s is empty", name, *d,
                    dl__shape_str(s, t->ndim, t->shape));
  }
  int64_t shape[8];
  int ndim = t->ndim;
  memcpy(shape, t->shape, sizeof shape);
  if (keepdim) {
    shape[*d] = 1;
  } else {
    dl__drop_dim(t->ndim, t->shape, *d, shape);
    ndim--;
  }
  if (values && (rc = dl_tensor_empty(values, result_dtype(op, t->dtype), ndim, shape, err)) < 0) return rc;
  if (indices && (rc = dl_tensor_empty(indices, DL_I64, ndim, shape, err)) < 0) {
    if (values) {
      dl_tensor_release(*values);
      *values = NULL;
    }
  }
  return rc;
}

/* Runs the reduction of t along d into the outputs (either may be NULL). */
static void reduce(int op, const dl_tensor *t, int d, dl_tensor *values, dl_tensor *indices) {
  const dl_tensor *first = values ? values : indices;
  int ndim = t->ndim - 1;
  int64_t shape[8], strides[3][8];
  dl__drop_dim(t->ndim, t->shape, d, shape);
  /* With keepdim the outputs have a size-1 dim at d; its stride is moot. */
  const dl_tensor *outs[2] = {values ? values : first, indices ? indices : first};
  for (int k = 0; k < 2; k++) {
    if (outs[k]->ndim == t->ndim)
      dl__drop_dim(t->ndim, outs[k]->strides, d, strides[k]);
    else
      memcpy(strides[k], outs[k]->strides, sizeof strides[k]);
  }
  dl__drop_dim(t->ndim, t->strides, d, strides[2]);
  char *ptrs[3] = {outs[0]->ptr, outs[1]->ptr, t->ptr};
  size_t esize[3] = {dl_dtype_size(outs[0]->dtype), dl_dtype_size(outs[1]->dtype), dl_dtype_size(t->dtype)};
  dl__iter it;
  dl__iter_init(&it, ndim, shape, 3, ptrs, strides, esize);
  reduce_ctx c = {op, t->shape[d], t->strides[d] * (int64_t)dl_dtype_size(t->dtype), values != NULL,
                  indices != NULL};
  dl__iter_run(&it, loops[t->dtype], &c);
}

int dl_tensor_reduce(dl_tensor **out, const dl_tensor *t, int op, int dim, int keepdim, dl_error *err) {
  *out = NULL;
  if (op < DL_SUM || op > DL_ARGMIN) return dl__fail(err, DL_E_INVAL, "reduce: unknown op %d", op);
  int d;
  bool to_indices = op == DL_ARGMAX || op == DL_ARGMIN;
  int rc =
      prepare(op_names[op], op, t, dim, keepdim, &d, to_indices ? NULL : out, to_indices ? out : NULL, err);
  if (rc < 0) return rc;
  reduce(op, t, d, to_indices ? NULL : *out, to_indices ? *out : NULL);
  return DL_OK;
}

int dl_tensor_max(dl_tensor **values, dl_tensor **indices, const dl_tensor *t, int dim, int keepdim,
                  dl_error *err) {
  *values = *indices = NULL;
  int d;
  int rc = prepare("max", DL_MAX, t, dim, keepdim, &d, values, indices, err);
  if (rc < 0) return rc;
  reduce(DL_MAX, t, d, *values, *indices);
  return DL_OK;
}
