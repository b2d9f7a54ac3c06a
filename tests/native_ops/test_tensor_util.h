/* Helpers for the tensor tests: build tensors from literal values, read
 * elements by index through the strides, and assert calls succeed. */
#ifndef TEST_TENSOR_UTIL_H
#define TEST_TENSOR_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "dl_native.h"

/* Asserts that a native call returned DL_OK, printing its message if not. */
#define OK(call)                                                   \
  do {                                                             \
    dl_error ok_err_ = {0};                                        \
    dl_error *err = &ok_err_;                                      \
    int ok_rc_ = (call);                                           \
    if (ok_rc_ != DL_OK) print_error("%s: %s\n", #call, err->msg); \
    assert_int_equal(ok_rc_, DL_OK);                               \
  } while (0)

/* Asserts that a native call failed with code, and that its message holds
 * the text `needle`. */
#define FAILS(code, needle, call)                                     \
  do {                                                                \
    dl_error fails_err_ = {0};                                        \
    dl_error *err = &fails_err_;                                      \
    int fails_rc_ = (call);                                           \
    if (fails_rc_ != (code) || !strstr(err->msg, needle))             \
      print_error("%s: got %d \"%s\"\n", #call, fails_rc_, err->msg); \
    assert_int_equal(fails_rc_, code);                                \
    assert_non_null(strstr(err->msg, needle));                        \
  } while (0)

/* A contiguous tensor of dtype and shape holding values[0..numel-1]. */
static inline dl_tensor *tensor_of(int dtype, int ndim, const int64_t *shape, const double *values) {
  dl_tensor *t;
  OK(dl_tensor_empty(&t, dtype, ndim, shape, err));
  for (int64_t i = 0; i < t->numel; i++) {
    switch (dtype) {
      case DL_U8:
        ((uint8_t *)t->ptr)[i] = (uint8_t)values[i];
        break;
      case DL_I32:
        ((int32_t *)t->ptr)[i] = (int32_t)values[i];
        break;
      case DL_I64:
        ((int64_t *)t->ptr)[i] = (int64_t)values[i];
        break;
      default:
        ((float *)t->ptr)[i] = (float)values[i];
    }
  }
  return t;
}

/* A contiguous f32 tensor holding 0, 1, 2, ... */
static inline dl_tensor *iota(int ndim, const int64_t *shape) {
  dl_tensor *t;
  OK(dl_tensor_empty(&t, DL_F32, ndim, shape, err));
  for (int64_t i = 0; i < t->numel; i++) ((float *)t->ptr)[i] = (float)i;
  return t;
}

/* The element of t at idx[0..ndim-1], found through t's strides. */
static inline double at(const dl_tensor *t, const int64_t *idx) {
  int64_t off = 0;
  for (int d = 0; d < t->ndim; d++) off += idx[d] * t->strides[d];
  switch (t->dtype) {
    case DL_U8:
      return ((const uint8_t *)t->ptr)[off];
    case DL_I32:
      return ((const int32_t *)t->ptr)[off];
    case DL_I64:
      return (double)((const int64_t *)t->ptr)[off];
    default:
      return ((const float *)t->ptr)[off];
  }
}

/* Element k of t in row-major order (whatever t's strides). */
static inline double flat(const dl_tensor *t, int64_t k) {
  int64_t idx[8];
  for (int d = t->ndim - 1; d >= 0; d--) {
    idx[d] = t->shape[d] ? k % t->shape[d] : 0;
    k = t->shape[d] ? k / t->shape[d] : 0;
  }
  return at(t, idx);
}

/* Asserts t has the given shape. */
static inline void assert_shape(const dl_tensor *t, int ndim, const int64_t *shape) {
  assert_int_equal(t->ndim, ndim);
  for (int d = 0; d < ndim; d++) assert_int_equal(t->shape[d], shape[d]);
}

/* Asserts t holds values[0..numel-1] in row-major order, within tol. */
static inline void assert_values(const dl_tensor *t, const double *values, double tol) {
  for (int64_t k = 0; k < t->numel; k++) {
    double got = flat(t, k);
    if (!(fabs(got - values[k]) <= tol))
      print_error("element %lld: got %.9g, want %.9g\n", (long long)k, got, values[k]);
    assert_true(fabs(got - values[k]) <= tol);
  }
}

#endif
