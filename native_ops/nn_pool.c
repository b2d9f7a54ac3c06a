/* 2-d max pooling (no padding), remembering where each maximum came from so
 * backward can route the gradient without looking at x again. */
#include "nn_internal.h"

#include <math.h>
#include <string.h>

/* A key that orders floats as the integers they map to: -inf < ... < -0 <
 * +0 < ... < +inf. Comparing keys compiles to conditional moves, where
 * comparing floats compiles to a branch that mispredicts half the time on
 * real activations (3-4x slower). */
static inline int32_t order_key(float v) {
  int32_t bits;
  memcpy(&bits, &v, sizeof bits);
  return bits ^ ((bits >> 31) & 0x7fffffff);
}

/* Index of the maximum of the kernel_h x kernel_w window whose top-left
 * element is in[first] (rows w apart): the first maximum, or the first NaN. */
static inline int64_t window_argmax(const float *in, int64_t first, int64_t w, int kernel_h, int kernel_w) {
  int64_t best = first;
  int32_t best_key = order_key(in[first]);
  bool nan = false;
  for (int64_t ky = 0; ky < kernel_h; ky++)
    for (int64_t kx = 0; kx < kernel_w; kx++) {
      const int64_t at = first + ky * w + kx;
      const float v = in[at];
      const int32_t key = order_key(v);
      const bool greater = key > best_key;
      best = greater ? at : best;
      best_key = greater ? key : best_key;
      nan |= v != v;
    }
  if (nan)
    for (int64_t ky = 0; ky < kernel_h; ky++)
      for (int64_t kx = 0; kx < kernel_w; kx++)
        if (isnan(in[first + ky * w + kx])) return first + ky * w + kx;
  return best;
}

/* Work below this many input elements per thread is not worth starting a thread. */
enum { MIN_PLANE_ELEMENTS = 1 << 16 };

/* One max-pool pass over planes (image channels), for the parallel loop. */
typedef struct pool_job {
  const float *x;
  float *y;
  int32_t *argmax;
  int64_t h, w, oh, ow;
  int kernel_h, kernel_w, stride_h, stride_w;
} pool_job;

/* Planes [begin, end) with windows of kernel_h x kernel_w (constants when
 * inlined from pool_planes, which lets the compiler unroll the window). */
static inline void pool_range(const pool_job *j, int64_t begin, int64_t end, int kernel_h, int kernel_w) {
  const int64_t h = j->h, w = j->w, oh = j->oh, ow = j->ow, stride_h = j->stride_h, stride_w = j->stride_w;
  for (int64_t plane = begin; plane < end; plane++) {
    const float *in = j->x + plane * h * w;
    float *out = j->y + plane * oh * ow;
    int32_t *arg = j->argmax + plane * oh * ow;
    for (int64_t oy = 0; oy < oh; oy++)
      for (int64_t ox = 0; ox < ow; ox++) {
        const int64_t at = window_argmax(in, oy * stride_h * w + ox * stride_w, w, kernel_h, kernel_w);
        arg[oy * ow + ox] = (int32_t)at;
        out[oy * ow + ox] = in[at];
      }
  }
}

static void pool_planes(void *ctx, int64_t begin, int64_t end) {
  const pool_job *j = ctx;
  /* 2x2 windows, by far the most common, get a copy with the window unrolled (1.7x faster). */
  if (j->kernel_h == 2 && j->kernel_w == 2)
    pool_range(j, begin, end, 2, 2);
  else
    pool_range(j, begin, end, j->kernel_h, j->kernel_w);
}

int dl_nn_maxpool2d_forward(const dl_tensor *x, dl_tensor *y, dl_tensor *argmax, int kernel_h, int kernel_w,
                            int stride_h, int stride_w, dl_error *err) {
  int rc = dl__nn_expect(x, "x", DL_F32, 4, err);
  if (rc < 0) return rc;
  if (kernel_h < 1 || kernel_w < 1)
    return dl__fail(err, DL_E_INVAL, "kernel (%d, %d) must be at least 1", kernel_h, kernel_w);
  if (stride_h < 1 || stride_w < 1)
    return dl__fail(err, DL_E_INVAL, "stride (%d, %d) must be at least 1", stride_h, stride_w);
  const int64_t n = x->shape[0], c = x->shape[1], h = x->shape[2], w = x->shape[3];
  if (h < kernel_h || w < kernel_w)
    return dl__fail(err, DL_E_SHAPE, "kernel %dx%d is larger than the input %lldx%lld", kernel_h, kernel_w,
                    (long long)h, (long long)w);
  if (h * w > INT32_MAX)
    return dl__fail(err, DL_E_TOO_LARGE, "input plane %lldx%lld is too large for i32 argmax", (long long)h,
                    (long long)w);
  const int64_t oh = (h - kernel_h) / stride_h + 1, ow = (w - kernel_w) / stride_w + 1;
  int64_t want[4] = {n, c, oh, ow};
  if ((rc = dl__nn_expect_shape(y, "y", DL_F32, 4, want, err)) < 0) return rc;
  if ((rc = dl__nn_expect_shape(argmax, "argmax", DL_I32, 4, want, err)) < 0) return rc;

  pool_job job = {.x = x->ptr,
                  .y = y->ptr,
                  .argmax = argmax->ptr,
                  .h = h,
                  .w = w,
                  .oh = oh,
                  .ow = ow,
                  .kernel_h = kernel_h,
                  .kernel_w = kernel_w,
                  .stride_h = stride_h,
                  .stride_w = stride_w};
  dl__nn_parallel_for(n * c, MIN_PLANE_ELEMENTS / (h * w + 1) + 1, pool_planes, &job);
  return DL_OK;
}

/* One max-pool backward pass over planes, for the parallel loop. */
typedef struct unpool_job {
  const float *grad_y;
  const int32_t *argmax;
  float *grad_x;
  int64_t in_size, out_size; /* elements per input and output plane */
} unpool_job;

/* Zeroes the input gradient of planes [begin, end) and adds each output
 * gradient at its maximum's place (windows may overlap). */
static void unpool_planes(void *ctx, int64_t begin, int64_t end) {
  const unpool_job *j = ctx;
  for (int64_t plane = begin; plane < end; plane++) {
    float *gx = j->grad_x + plane * j->in_size;
    const float *gy = j->grad_y + plane * j->out_size;
    const int32_t *at = j->argmax + plane * j->out_size;
    memset(gx, 0, (size_t)j->in_size * sizeof(float));
    for (int64_t i = 0; i < j->out_size; i++) gx[at[i]] += gy[i];
  }
}

int dl_nn_maxpool2d_backward(const dl_tensor *grad_y, const dl_tensor *argmax, dl_tensor *grad_x,
                             dl_error *err) {
  int rc = dl__nn_expect(grad_y, "grad_y", DL_F32, 4, err);
  if (rc < 0) return rc;
  if ((rc = dl__nn_expect_like(argmax, "argmax", DL_I32, grad_y, "grad_y", err)) < 0) return rc;
  if ((rc = dl__nn_expect(grad_x, "grad_x", DL_F32, 4, err)) < 0) return rc;
  if (grad_x->shape[0] != grad_y->shape[0] || grad_x->shape[1] != grad_y->shape[1])
    return dl__fail(err, DL_E_SHAPE, "grad_x has %lld x %lld planes but grad_y has %lld x %lld",
                    (long long)grad_x->shape[0], (long long)grad_x->shape[1], (long long)grad_y->shape[0],
                    (long long)grad_y->shape[1]);
  const int64_t planes = grad_y->shape[0] * grad_y->shape[1];
  const int64_t in_size = grad_x->shape[2] * grad_x->shape[3], out_size = grad_y->shape[2] * grad_y->shape[3];
  const float *gy = grad_y->ptr;
  const int32_t *pa = argmax->ptr;
  float *gx = grad_x->ptr;
  /* Check every index before writing, so a bad argmax leaves grad_x untouched. */
  for (int64_t i = 0; i < argmax->numel; i++)
    if (pa[i] < 0 || pa[i] >= in_size)
      return dl__fail(err, DL_E_RANGE, "argmax[%lld] = %d is outside the %lld elements of an input plane",
                      (long long)i, pa[i], (long long)in_size);
  unpool_job job = {.grad_y = gy, .argmax = pa, .grad_x = gx, .in_size = in_size, .out_size = out_size};
  dl__nn_parallel_for(planes, MIN_PLANE_ELEMENTS / (in_size + 1) + 1, unpool_planes, &job);
  return DL_OK;
}
