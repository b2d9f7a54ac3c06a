/* Copies and conversions: copy, fill, contiguous, clone, to. */
#include "tensor_internal.h"

#include <math.h>
#include <string.h>

int dl__scalar_to_dtype(const char *op, double v, int dtype, void *dst, dl_error *err) {
  if (dtype != DL_F32) {
    double lo = dtype == DL_U8 ? 0 : dtype == DL_I32 ? (double)INT32_MIN : -0x1p63;
    double hi = dtype == DL_U8 ? 255 : dtype == DL_I32 ? (double)INT32_MAX : 0x1p63 - 1024;
    if (!(v >= lo && v <= hi) || v != floor(v))
      return dl__fail(err, DL_E_INVAL, "%s: %.17g is not a whole number in the range of %s", op, v,
                      dl_dtype_name(dtype));
  }
  dl__store_exact(dst, dtype, v);
  return DL_OK;
}

typedef struct convert_ctx {
  int dst_dtype, src_dtype;
  double scale;
} convert_ctx;

/* One inner loop per (destination, source) dtype pair, with a unit-stride
 * branch the compiler can vectorise. */
#define CONVERT_LOOP(DST_T, SRC_T, CONV)                                                                   \
  do {                                                                                                     \
    if (steps[0] == sizeof(DST_T) && steps[1] == sizeof(SRC_T)) {                                          \
      DST_T *d = (DST_T *)ptrs[0];                                                                         \
      const SRC_T *s = (const SRC_T *)ptrs[1];                                                             \
      for (int64_t i = 0; i < n; i++) d[i] = CONV(s[i]);                                                   \
    } else {                                                                                               \
      char *d = ptrs[0];                                                                                   \
      const char *s = ptrs[1];                                                                             \
      for (int64_t i = 0; i < n; i++, d += steps[0], s += steps[1]) *(DST_T *)d = CONV(*(const SRC_T *)s); \
    }                                                                                                      \
  } while (0)

#define AS_IS(x) (x)
#define TO_F32(x) ((float)((double)(x)*scale))
#define TO_INT(x) dl__round_saturate((double)(x)*scale, dst)

#define CONVERT_FROM(SRC_T)                          \
  switch (dst) {                                     \
    case DL_U8:                                      \
      CONVERT_LOOP(uint8_t, SRC_T, (uint8_t)TO_INT); \
      break;                                         \
    case DL_I32:                                     \
      CONVERT_LOOP(int32_t, SRC_T, (int32_t)TO_INT); \
      break;                                         \
    case DL_I64:                                     \
      CONVERT_LOOP(int64_t, SRC_T, TO_INT);          \
      break;                                         \
    default:                                         \
      CONVERT_LOOP(float, SRC_T, TO_F32);            \
  }

static void convert_loop(int64_t n, char *const *ptrs, const int64_t *steps, void *vctx) {
  const convert_ctx *c = vctx;
  const int dst = c->dst_dtype;
  const double scale = c->scale;
  if (dst == c->src_dtype && scale == 1) {
    switch (dst) { /* exact copies, also for i64 beyond 2^53 */
      case DL_U8:
        CONVERT_LOOP(uint8_t, uint8_t, AS_IS);
        return;
      case DL_I32:
        CONVERT_LOOP(int32_t, int32_t, AS_IS);
        return;
      case DL_I64:
        CONVERT_LOOP(int64_t, int64_t, AS_IS);
        return;
      default:
        CONVERT_LOOP(float, float, AS_IS);
        return;
    }
  }
  switch (c->src_dtype) {
    case DL_U8:
      CONVERT_FROM(uint8_t);
      break;
    case DL_I32:
      CONVERT_FROM(int32_t);
      break;
    case DL_I64:
      CONVERT_FROM(int64_t);
      break;
    default:
      CONVERT_FROM(float);
  }
}

void dl__tensor_convert(dl_tensor *dst, const dl_tensor *src, double scale) {
  int64_t strides[2][8];
  memcpy(strides[0], dst->strides, sizeof strides[0]);
  dl__broadcast_strides(src, dst->ndim, dst->shape, strides[1]);
  char *ptrs[2] = {dst->ptr, src->ptr};
  size_t esize[2] = {dl_dtype_size(dst->dtype), dl_dtype_size(src->dtype)};
  dl__iter it;
  dl__iter_init(&it, dst->ndim, dst->shape, 2, ptrs, strides, esize);
  convert_ctx c = {dst->dtype, src->dtype, scale};
  dl__iter_run(&it, convert_loop, &c);
}

int dl_tensor_copy(dl_tensor *dst, const dl_tensor *src, dl_error *err) {
  int rc = dl__tensor_usable("copy", dst, err);
  if (rc < 0 || (rc = dl__tensor_usable("copy", src, err)) < 0) return rc;
  int ndim;
  int64_t shape[8];
  if ((rc = dl__broadcast_shape("copy", dst->ndim, dst->shape, src->ndim, src->shape, &ndim, shape, err)) < 0)
    return rc;
  bool fits = ndim == dst->ndim;
  for (int i = 0; fits && i < ndim; i++) fits = shape[i] == dst->shape[i];
  if (!fits) {
    char a[DL__SHAPE_STR], b[DL__SHAPE_STR];
    return dl__fail(err, DL_E_SHAPE, "copy: source of shape %s does not broadcast to destination shape %s",
                    dl__shape_str(a, src->ndim, src->shape), dl__shape_str(b, dst->ndim, dst->shape));
  }
  if (src->storage != dst->storage) {
    dl__tensor_convert(dst, src, 1);
    return DL_OK;
  }
  /* Same storage: read from a private copy so no element is overwritten
   * before it is read. */
  dl_tensor *tmp;
  if ((rc = dl_tensor_clone(&tmp, src, err)) < 0) return rc;
  dl__tensor_convert(dst, tmp, 1);
  dl_tensor_release(tmp);
  return DL_OK;
}

typedef struct fill_ctx {
  size_t esize;
  unsigned char value[8];
} fill_ctx;

static void fill_loop(int64_t n, char *const *ptrs, const int64_t *steps, void *vctx) {
  const fill_ctx *c = vctx;
  char *d = ptrs[0];
  switch (c->esize) {
    case 1: {
      uint8_t v;
      memcpy(&v, c->value, 1);
      for (int64_t i = 0; i < n; i++, d += steps[0]) *(uint8_t *)d = v;
      break;
    }
    case 4: {
      uint32_t v;
      memcpy(&v, c->value, 4);
      for (int64_t i = 0; i < n; i++, d += steps[0]) *(uint32_t *)d = v;
      break;
    }
    default: {
      uint64_t v;
      memcpy(&v, c->value, 8);
      for (int64_t i = 0; i < n; i++, d += steps[0]) *(uint64_t *)d = v;
    }
  }
}

int dl_tensor_fill(dl_tensor *t, double value, dl_error *err) {
  int rc = dl__tensor_usable("fill", t, err);
  if (rc < 0) return rc;
  fill_ctx c = {.esize = dl_dtype_size(t->dtype)};
  if ((rc = dl__scalar_to_dtype("fill", value, t->dtype, c.value, err)) < 0) return rc;
  int64_t strides[1][8];
  memcpy(strides[0], t->strides, sizeof strides[0]);
  char *ptrs[1] = {t->ptr};
  dl__iter it;
  dl__iter_init(&it, t->ndim, t->shape, 1, ptrs, strides, &c.esize);
  dl__iter_run(&it, fill_loop, &c);
  return DL_OK;
}

int dl_tensor_to(dl_tensor **out, const dl_tensor *t, int dtype, double scale, dl_error *err) {
  *out = NULL;
  int rc = dl__tensor_usable("to", t, err);
  if (rc < 0) return rc;
  if (!dl_dtype_size(dtype)) return dl__fail(err, DL_E_DTYPE, "to: unknown dtype %d", dtype);
  if ((rc = dl_tensor_empty(out, dtype, t->ndim, t->shape, err)) < 0) return rc;
  dl__tensor_convert(*out, t, scale);
  return DL_OK;
}

int dl_tensor_clone(dl_tensor **out, const dl_tensor *t, dl_error *err) {
  *out = NULL;
  int rc = dl__tensor_usable("clone", t, err);
  if (rc < 0) return rc;
  return dl_tensor_to(out, t, t->dtype, 1, err);
}

int dl_tensor_contiguous(dl_tensor **out, const dl_tensor *t, dl_error *err) {
  *out = NULL;
  int rc = dl__tensor_usable("contiguous", t, err);
  if (rc < 0) return rc;
  if (dl_tensor_is_contiguous(t)) return dl__tensor_alias(out, t, err);
  return dl_tensor_to(out, t, t->dtype, 1, err);
}
