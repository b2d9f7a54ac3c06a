/* tensor_internal.h — private helpers shared by the tensor op files
 * (tensor_*.c): argument checks, shape formatting, broadcasting, element
 * conversion and the one strided iterator every element-wise op runs on.
 * Nothing here is exported; other native modules may include it. */
#ifndef DL_TENSOR_INTERNAL_H
#define DL_TENSOR_INTERNAL_H

#include "internal.h"

/* Longest text dl__shape_str writes: 8 dims of up to 20 digits plus 'x'. */
enum { DL__SHAPE_STR = 8 * 21 + 8 };

/* Writes t's shape as "3x4" ("scalar" for 0 dims) into buf; returns buf. */
const char *dl__shape_str(char buf[DL__SHAPE_STR], int ndim, const int64_t *shape);

/* DL_OK when t is non-NULL and not stale; messages start with "op: ". */
int dl__tensor_usable(const char *op, const dl_tensor *t, dl_error *err);

/* Maps dim (negative counts from the end) into 0..ndim-1 in *out; fails with
 * DL_E_RANGE naming op and the tensor's ndim. */
int dl__tensor_dim(const char *op, int ndim, int dim, int *out, dl_error *err);

/* The numpy broadcast of two shapes into out[8]; *out_ndim receives its
 * rank. Fails with DL_E_SHAPE naming op and both shapes. */
int dl__broadcast_shape(const char *op, int ndim_a, const int64_t *a, int ndim_b, const int64_t *b,
                        int *out_ndim, int64_t out[8], dl_error *err);

/* Strides (in elements) that read t as if expanded to shape (t's dims align
 * with the trailing dims of shape; missing or size-1 dims get stride 0).
 * The caller has checked that t broadcasts to shape. */
void dl__broadcast_strides(const dl_tensor *t, int ndim, const int64_t *shape, int64_t strides[8]);

/* Copies in[0..ndim-1] without entry d into out (ndim - 1 entries): the shape
 * or strides of the rows along dim d. */
void dl__drop_dim(int ndim, const int64_t *in, int d, int64_t out[8]);

/* Converts v to an integer dtype the way copies and dl_tensor_to do: round
 * half away from zero, saturate to the dtype's range, NaN becomes 0. */
static inline int64_t dl__round_saturate(double v, int dtype) {
  double lo = 0, hi = 255;
  int64_t ilo = 0, ihi = 255;
  if (dtype == DL_I32) {
    lo = ilo = INT32_MIN;
    hi = ihi = INT32_MAX;
  } else if (dtype == DL_I64) {
    lo = -0x1p63; /* exact in a double, unlike INT64_MAX */
    hi = 0x1p63;
    ilo = INT64_MIN;
    ihi = INT64_MAX;
  }
  if (v != v) return 0;
  if (v <= lo) return ilo;
  if (v >= hi) return ihi;
  return (int64_t)(v < 0 ? v - 0.5 : v + 0.5);
}

/* Reads one element of dtype at p as a double. */
static inline double dl__load_double(const void *p, int dtype) {
  switch (dtype) {
    case DL_U8:
      return *(const uint8_t *)p;
    case DL_I32:
      return *(const int32_t *)p;
    case DL_I64:
      return (double)*(const int64_t *)p;
    default:
      return *(const float *)p;
  }
}

/* Stores v, which must be exactly representable in dtype (integers whole
 * and in range; checked by the caller, see dl__scalar_to_dtype), at p. */
static inline void dl__store_exact(void *p, int dtype, double v) {
  switch (dtype) {
    case DL_U8:
      *(uint8_t *)p = (uint8_t)v;
      break;
    case DL_I32:
      *(int32_t *)p = (int32_t)v;
      break;
    case DL_I64:
      *(int64_t *)p = (int64_t)v;
      break;
    default:
      *(float *)p = (float)v;
  }
}

/* Checks that the scalar v is exactly representable in dtype (whole and in
 * range for integer dtypes) and stores it at dst; messages start "op: ". */
int dl__scalar_to_dtype(const char *op, double v, int dtype, void *dst, dl_error *err);

/* dst <- src * scale, src broadcast to dst's shape, converted to dst's
 * dtype; the caller has checked both tensors and that the shapes fit, and
 * src does not overlap dst (or is dst itself, with scale 1). */
void dl__tensor_convert(dl_tensor *dst, const dl_tensor *src, double scale);

/* ---------------------------------------------------------------- iterator
 * Walks the elements of a shape over up to DL__ITER_OPS operands at once
 * (operand 0 is usually the output). Dims of size 1 are dropped and dims
 * that are contiguous in every operand are merged, so contiguous tensors run
 * as one long inner loop: that is the fast path. The loop function receives
 * n elements, one pointer per operand and each operand's step in bytes. */
enum { DL__ITER_OPS = 3 };

typedef void (*dl__loop_fn)(int64_t n, char *const *ptrs, const int64_t *steps, void *ctx);

typedef struct dl__iter {
  int ndim; /* after dropping and merging dims */
  int nops;
  int64_t numel;                  /* elements visited; 0 for an empty shape */
  int64_t shape[8];               /* innermost dim last */
  int64_t steps[DL__ITER_OPS][8]; /* bytes */
  char *ptrs[DL__ITER_OPS];
} dl__iter;

/* Sets up a walk over shape[ndim]. Operand i starts at ptrs[i] and moves
 * strides[i][d] elements of esize[i] bytes along dim d (0 to broadcast). */
void dl__iter_init(dl__iter *it, int ndim, const int64_t *shape, int nops, char *const *ptrs,
                   const int64_t (*strides)[8], const size_t *esize);

/* Calls fn once per run of the innermost (merged) dim. */
void dl__iter_run(const dl__iter *it, dl__loop_fn fn, void *ctx);

#endif
