/* Element-wise arithmetic (+ - * /) between tensors or with a scalar, with
 * numpy broadcasting, out of place or into an existing tensor. */
#include "tensor_internal.h"

#include <string.h>

typedef struct arith_ctx {
  bool div_by_zero; /* set by the integer division loops */
} arith_ctx;

/* Runs EXPR (in terms of x and y, of type T) over one run of the iterator.
 * The dense and dense-with-scalar cases get plain indexed loops, which the
 * compiler vectorises; everything else steps by bytes. */
#define ELEMENTWISE(T, EXPR)                                         \
  do {                                                               \
    const int64_t s0 = steps[0], s1 = steps[1], s2 = steps[2];       \
    if (s0 == sizeof(T) && s1 == sizeof(T) && s2 == sizeof(T)) {     \
      T *o = (T *)ptrs[0];                                           \
      const T *pa = (const T *)ptrs[1], *pb = (const T *)ptrs[2];    \
      for (int64_t i = 0; i < n; i++) {                              \
        T x = pa[i], y = pb[i];                                      \
        o[i] = (T)(EXPR);                                            \
      }                                                              \
    } else if (s0 == sizeof(T) && s1 == sizeof(T) && s2 == 0) {      \
      T *o = (T *)ptrs[0];                                           \
      const T *pa = (const T *)ptrs[1];                              \
      const T y = *(const T *)ptrs[2];                               \
      for (int64_t i = 0; i < n; i++) {                              \
        T x = pa[i];                                                 \
        o[i] = (T)(EXPR);                                            \
      }                                                              \
    } else {                                                         \
      char *o = ptrs[0];                                             \
      const char *pa = ptrs[1], *pb = ptrs[2];                       \
      for (int64_t i = 0; i < n; i++, o += s0, pa += s1, pb += s2) { \
        T x = *(const T *)pa, y = *(const T *)pb;                    \
        *(T *)o = (T)(EXPR);                                         \
      }                                                              \
    }                                                                \
  } while (0)

/* Integer results wrap around: signed values go through their unsigned type,
 * where overflow is defined. */
#define LOOP(NAME, T, EXPR) \
  static void NAME(int64_t n, char *const *ptrs, const int64_t *steps, void *ctx) { ELEMENTWISE(T, EXPR); }

LOOP(add_u8, uint8_t, x + y)
LOOP(sub_u8, uint8_t, x - y)
LOOP(mul_u8, uint8_t, x *y)
LOOP(add_i32, int32_t, (uint32_t)x + (uint32_t)y)
LOOP(sub_i32, int32_t, (uint32_t)x - (uint32_t)y)
LOOP(mul_i32, int32_t, (uint32_t)x *(uint32_t)y)
LOOP(add_i64, int64_t, (uint64_t)x + (uint64_t)y)
LOOP(sub_i64, int64_t, (uint64_t)x - (uint64_t)y)
LOOP(mul_i64, int64_t, (uint64_t)x *(uint64_t)y)
LOOP(add_f32, float, x + y)
LOOP(sub_f32, float, x - y)
LOOP(mul_f32, float, x *y)
LOOP(div_f32, float, x / y)

/* Integer division truncates toward zero; x / 0 flags the error and gives 0,
 * and MIN / -1 wraps to MIN (its true value does not fit). */
static inline int64_t div_int(int64_t x, int64_t y, arith_ctx *c) {
  if (y == 0) {
    c->div_by_zero = true;
    return 0;
  }
  if (y == -1) return (int64_t)(0 - (uint64_t)x);
  return x / y;
}

LOOP(div_u8, uint8_t, div_int(x, y, ctx))
LOOP(div_i32, int32_t, div_int(x, y, ctx))
LOOP(div_i64, int64_t, div_int(x, y, ctx))

static const dl__loop_fn loops[4][4] = {
    [DL_U8] = {add_u8, sub_u8, mul_u8, div_u8},
    [DL_I32] = {add_i32, sub_i32, mul_i32, div_i32},
    [DL_I64] = {add_i64, sub_i64, mul_i64, div_i64},
    [DL_F32] = {add_f32, sub_f32, mul_f32, div_f32},
};

static const char *const op_names[4] = {"add", "sub", "mul", "div"};

/* out = a op b; b's element at b_ptr with b_strides already in out's frame. */
static int run(const char *name, dl_tensor *out, const dl_tensor *a, char *b_ptr, const int64_t *b_strides,
               int op, dl_error *err) {
  int64_t strides[3][8];
  memcpy(strides[0], out->strides, sizeof strides[0]);
  dl__broadcast_strides(a, out->ndim, out->shape, strides[1]);
  memcpy(strides[2], b_strides, sizeof strides[2]);
  char *ptrs[3] = {out->ptr, a->ptr, b_ptr};
  size_t esize = dl_dtype_size(out->dtype);
  size_t sizes[3] = {esize, esize, esize};
  dl__iter it;
  dl__iter_init(&it, out->ndim, out->shape, 3, ptrs, strides, sizes);
  arith_ctx c = {false};
  dl__iter_run(&it, loops[out->dtype][op], &c);
  if (c.div_by_zero)
    return dl__fail(err, DL_E_NUMERIC, "%s: integer division by zero (%s tensors)", name,
                    dl_dtype_name(out->dtype));
  return DL_OK;
}

static int check_op(const char *name, int op, dl_error *err) {
  if (op < DL_ADD || op > DL_DIV) return dl__fail(err, DL_E_INVAL, "%s: unknown op %d", name, op);
  return DL_OK;
}

static int check_same_dtype(const char *name, const dl_tensor *a, const dl_tensor *b, dl_error *err) {
  if (a->dtype == b->dtype) return DL_OK;
  return dl__fail(err, DL_E_DTYPE, "%s: dtypes %s and %s differ (convert one first)", name,
                  dl_dtype_name(a->dtype), dl_dtype_name(b->dtype));
}

/* True when x, read in out's frame, visits exactly the elements of out: then
 * writing out while reading x element by element is safe. */
static bool same_layout(const dl_tensor *out, const dl_tensor *x) {
  if (x->ptr != out->ptr) return false;
  int64_t strides[8];
  dl__broadcast_strides(x, out->ndim, out->shape, strides);
  for (int i = 0; i < out->ndim; i++)
    if (out->shape[i] > 1 && strides[i] != out->strides[i]) return false;
  return true;
}

/* Replaces *x by a private copy when it shares out's storage in a different
 * layout; *copy receives the copy (or NULL) for the caller to release. */
static int unalias(const dl_tensor *out, const dl_tensor **x, dl_tensor **copy, dl_error *err) {
  *copy = NULL;
  if ((*x)->storage != out->storage || same_layout(out, *x)) return DL_OK;
  int rc = dl_tensor_clone(copy, *x, err);
  if (rc == DL_OK) *x = *copy;
  return rc;
}

int dl_tensor_binary_into(dl_tensor *out, const dl_tensor *a, const dl_tensor *b, int op, dl_error *err) {
  int rc = check_op("binary", op, err);
  if (rc < 0) return rc;
  const char *name = op_names[op];
  if ((rc = dl__tensor_usable(name, out, err)) < 0 || (rc = dl__tensor_usable(name, a, err)) < 0 ||
      (rc = dl__tensor_usable(name, b, err)) < 0)
    return rc;
  if ((rc = check_same_dtype(name, a, b, err)) < 0 || (rc = check_same_dtype(name, out, a, err)) < 0)
    return rc;
  int ndim;
  int64_t shape[8];
  if ((rc = dl__broadcast_shape(name, a->ndim, a->shape, b->ndim, b->shape, &ndim, shape, err)) < 0)
    return rc;
  bool fits = ndim == out->ndim;
  for (int i = 0; fits && i < ndim; i++) fits = shape[i] == out->shape[i];
  if (!fits) {
    char sa[DL__SHAPE_STR], sb[DL__SHAPE_STR], so[DL__SHAPE_STR];
    return dl__fail(err, DL_E_SHAPE, "%s: result of shapes %s and %s does not fit the output of shape %s",
                    name, dl__shape_str(sa, a->ndim, a->shape), dl__shape_str(sb, b->ndim, b->shape),
                    dl__shape_str(so, out->ndim, out->shape));
  }
  dl_tensor *copy_a, *copy_b;
  if ((rc = unalias(out, &a, &copy_a, err)) < 0) return rc;
  if ((rc = unalias(out, &b, &copy_b, err)) == DL_OK) {
    int64_t b_strides[8];
    dl__broadcast_strides(b, out->ndim, out->shape, b_strides);
    rc = run(name, out, a, b->ptr, b_strides, op, err);
  }
  dl_tensor_release(copy_a);
  dl_tensor_release(copy_b);
  return rc;
}

int dl_tensor_binary(dl_tensor **out, const dl_tensor *a, const dl_tensor *b, int op, dl_error *err) {
  *out = NULL;
  int rc = check_op("binary", op, err);
  if (rc < 0) return rc;
  const char *name = op_names[op];
  if ((rc = dl__tensor_usable(name, a, err)) < 0 || (rc = dl__tensor_usable(name, b, err)) < 0) return rc;
  if ((rc = check_same_dtype(name, a, b, err)) < 0) return rc;
  int ndim;
  int64_t shape[8];
  if ((rc = dl__broadcast_shape(name, a->ndim, a->shape, b->ndim, b->shape, &ndim, shape, err)) < 0)
    return rc;
  if ((rc = dl_tensor_empty(out, a->dtype, ndim, shape, err)) < 0) return rc;
  int64_t b_strides[8];
  dl__broadcast_strides(b, ndim, shape, b_strides);
  if ((rc = run(name, *out, a, b->ptr, b_strides, op, err)) < 0) {
    dl_tensor_release(*out);
    *out = NULL;
  }
  return rc;
}

int dl_tensor_scalar_into(dl_tensor *out, const dl_tensor *a, double s, int op, dl_error *err) {
  int rc = check_op("scalar", op, err);
  if (rc < 0) return rc;
  const char *name = op_names[op];
  if ((rc = dl__tensor_usable(name, out, err)) < 0 || (rc = dl__tensor_usable(name, a, err)) < 0) return rc;
  if ((rc = check_same_dtype(name, out, a, err)) < 0) return rc;
  bool fits = a->ndim == out->ndim;
  for (int i = 0; fits && i < a->ndim; i++) fits = a->shape[i] == out->shape[i];
  if (!fits) {
    char sa[DL__SHAPE_STR], so[DL__SHAPE_STR];
    return dl__fail(err, DL_E_SHAPE, "%s: input of shape %s does not fit the output of shape %s", name,
                    dl__shape_str(sa, a->ndim, a->shape), dl__shape_str(so, out->ndim, out->shape));
  }
  int64_t value[1]; /* 8 bytes, aligned for any dtype */
  if ((rc = dl__scalar_to_dtype(name, s, a->dtype, value, err)) < 0) return rc;
  dl_tensor *copy_a;
  if ((rc = unalias(out, &a, &copy_a, err)) < 0) return rc;
  int64_t zero[8] = {0};
  rc = run(name, out, a, (char *)value, zero, op, err);
  dl_tensor_release(copy_a);
  return rc;
}

int dl_tensor_scalar(dl_tensor **out, const dl_tensor *a, double s, int op, dl_error *err) {
  *out = NULL;
  int rc = dl__tensor_usable("scalar", a, err);
  if (rc < 0) return rc;
  if ((rc = dl_tensor_empty(out, a->dtype, a->ndim, a->shape, err)) < 0) return rc;
  if ((rc = dl_tensor_scalar_into(*out, a, s, op, err)) < 0) {
    dl_tensor_release(*out);
    *out = NULL;
  }
  return rc;
}
