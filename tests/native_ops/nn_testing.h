/* Helpers shared by the nn kernel tests: tensors from arrays, seeded random
 * fills and a finite-difference gradient check. Header-only (static inline)
 * because each test file builds into its own binary. */
#ifndef NN_TESTING_H
#define NN_TESTING_H

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "dl_native.h"

/* A new zero-filled tensor; fails the test if allocation fails. */
static inline dl_tensor *make(int dtype, int ndim, const int64_t *shape) {
  dl_tensor *t = NULL;
  dl_error e;
  int rc = dl_tensor_new(&t, dtype, ndim, shape, &e);
  if (rc != DL_OK) fail_msg("dl_tensor_new: %s", e.msg);
  return t;
}

static inline dl_tensor *make_f32(int ndim, const int64_t *shape, const float *values) {
  dl_tensor *t = make(DL_F32, ndim, shape);
  if (values) memcpy(t->ptr, values, (size_t)t->numel * sizeof(float));
  return t;
}

static inline dl_tensor *make_like(const dl_tensor *t) { return make(t->dtype, t->ndim, t->shape); }

static inline float *f32(const dl_tensor *t) { return (float *)t->ptr; }

/* A tiny deterministic generator so test data never depends on libc. */
static inline double test_uniform(uint64_t *s) {
  *s = *s * 6364136223846793005u + 1442695040888963407u;
  return (double)(*s >> 11) * 0x1.0p-53;
}

/* Fills t with uniform values in [lo, hi). */
static inline void fill_uniform(dl_tensor *t, uint64_t *s, double lo, double hi) {
  for (int64_t i = 0; i < t->numel; i++) f32(t)[i] = (float)(lo + (hi - lo) * test_uniform(s));
}

/* Fills t with values in +-[0.1, 1): far enough from 0 that a finite
 * difference never crosses ReLU's kink. */
static inline void fill_away_from_zero(dl_tensor *t, uint64_t *s) {
  for (int64_t i = 0; i < t->numel; i++) {
    double v = 0.1 + 0.9 * test_uniform(s);
    f32(t)[i] = (float)(test_uniform(s) < 0.5 ? -v : v);
  }
}

/* sum(a * b) in double: the scalar loss L = <weights, y> whose gradient with
 * respect to y is `weights`. */
static inline double dot(const dl_tensor *a, const dl_tensor *b) {
  double s = 0;
  for (int64_t i = 0; i < a->numel; i++) s += (double)f32(a)[i] * f32(b)[i];
  return s;
}

/* A scalar function of the current contents of the tensors it closes over. */
typedef double (*scalar_fn)(void *ctx);

/* Compares analytic[i] with the central difference of fn over each element
 * of `wrt` (perturbed in place by +-h, then restored). */
static inline void expect_gradient(const char *what, scalar_fn fn, void *ctx, dl_tensor *wrt,
                                   const dl_tensor *analytic, double h) {
  assert_int_equal(wrt->numel, analytic->numel);
  for (int64_t i = 0; i < wrt->numel; i++) {
    float saved = f32(wrt)[i], hi = saved + (float)h, lo = saved - (float)h;
    f32(wrt)[i] = hi;
    double up = fn(ctx);
    f32(wrt)[i] = lo;
    double down = fn(ctx);
    f32(wrt)[i] = saved;
    /* Divide by the step float rounding actually took, not by 2h. */
    double numeric = (up - down) / ((double)hi - lo), got = f32(analytic)[i];
    if (fabs(numeric - got) > 5e-4 + 2e-3 * fabs(numeric))
      fail_msg("%s: element %lld: analytic %.6f, finite difference %.6f", what, (long long)i, got, numeric);
  }
}

static inline void expect_close(const char *what, const float *got, const float *want, int64_t n,
                                double tol) {
  for (int64_t i = 0; i < n; i++)
    if (!(fabs((double)got[i] - want[i]) <= tol * (1 + fabs((double)want[i]))))
      fail_msg("%s[%lld]: got %.8g, expected %.8g", what, (long long)i, got[i], want[i]);
}

#endif
