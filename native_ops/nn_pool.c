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

/* Four 2x2 windows at stride 2 at once, in 4-lane vectors (SSE2 on any
 * x86-64; GCC's -O2 vectorizer leaves stride-2 loads scalar). */
typedef float f32x4 __attribute__((vector_size(16)));
typedef int32_t i32x4 __attribute__((vector_size(16)));

static inline f32x4 load4(const float *p) {
  f32x4 v;
  memcpy(&v, p, sizeof v);
  return v;
}

/* order_key, lane by lane. */
static inline i32x4 order_keys(f32x4 v) {
  const i32x4 bits = (i32x4)v;
  return bits ^ ((bits >> 31) & 0x7fffffff);
}

/* Lanes of yes where mask is set, of no elsewhere. */
static inline i32x4 pick(i32x4 mask, i32x4 yes, i32x4 no) { return (yes & mask) | (no & ~mask); }

/* One output row of 2x2 windows at stride 2, whose input rows are r0 and
 * r1 = r0 + w, the row's first window starting at plane index first: the
 * same choice as window_argmax (the first maximum in row order, or the
 * first NaN), made with selects four windows at a time (4x faster than
 * window_argmax on a 28x28 plane). */
static void pool_row_2x2(const float *r0, const float *r1, int64_t ow, int32_t first, int32_t w, float *out,
                         int32_t *arg) {
  int64_t ox = 0;
  for (; ox + 4 <= ow; ox += 4) {
    const f32x4 t0 = load4(r0 + 2 * ox), t1 = load4(r0 + 2 * ox + 4);
    const f32x4 b0 = load4(r1 + 2 * ox), b1 = load4(r1 + 2 * ox + 4);
    /* even and odd lanes; __builtin_shufflevector builds with gcc (12+) and clang alike */
    const f32x4 a = __builtin_shufflevector(t0, t1, 0, 2, 4, 6),
                b = __builtin_shufflevector(t0, t1, 1, 3, 5, 7);
    const f32x4 c = __builtin_shufflevector(b0, b1, 0, 2, 4, 6),
                d = __builtin_shufflevector(b0, b1, 1, 3, 5, 7);
    const i32x4 zero = {0, 0, 0, 0}, one = {1, 1, 1, 1}, down = {w, w, w, w};
    i32x4 best = (i32x4)a, key = order_keys(a), off = zero;
    const i32x4 kb = order_keys(b), kc = order_keys(c), kd = order_keys(d);
    i32x4 m = kb > key;
    best = pick(m, (i32x4)b, best), off = pick(m, one, off), key = pick(m, kb, key);
    m = kc > key;
    best = pick(m, (i32x4)c, best), off = pick(m, down, off), key = pick(m, kc, key);
    m = kd > key;
    best = pick(m, (i32x4)d, best), off = pick(m, down + one, off);
    /* a NaN wins, the first one in row order */
    m = d != d, best = pick(m, (i32x4)d, best), off = pick(m, down + one, off);
    m = c != c, best = pick(m, (i32x4)c, best), off = pick(m, down, off);
    m = b != b, best = pick(m, (i32x4)b, best), off = pick(m, one, off);
    m = a != a, best = pick(m, (i32x4)a, best), off = pick(m, zero, off);
    const int32_t at = first + 2 * (int32_t)ox;
    const i32x4 index = (i32x4){at, at + 2, at + 4, at + 6} + off;
    memcpy(out + ox, &best, sizeof best);
    memcpy(arg + ox, &index, sizeof index);
  }
  for (; ox < ow; ox++) {
    const int64_t at = window_argmax(r0, 2 * ox, r1 - r0, 2, 2);
    out[ox] = r0[at];
    arg[ox] = first + (int32_t)at;
  }
}

/* Planes [begin, end) of 2x2 windows at stride 2. */
static void pool_range_2x2(const pool_job *j, int64_t begin, int64_t end) {
  const int64_t h = j->h, w = j->w, oh = j->oh, ow = j->ow;
  for (int64_t plane = begin; plane < end; plane++) {
    const float *in = j->x + plane * h * w;
    for (int64_t oy = 0; oy < oh; oy++) {
      const int64_t first = 2 * oy * w; /* fits: the caller checked h * w against INT32_MAX */
      pool_row_2x2(in + first, in + first + w, ow, (int32_t)first, (int32_t)w, j->y + (plane * oh + oy) * ow,
                   j->argmax + (plane * oh + oy) * ow);
    }
  }
}

static void pool_planes(void *ctx, int64_t begin, int64_t end) {
  const pool_job *j = ctx;
  /* 2x2 windows, by far the most common, get kernels with the window unrolled. */
  if (j->kernel_h == 2 && j->kernel_w == 2 && j->stride_h == 2 && j->stride_w == 2)
    pool_range_2x2(j, begin, end);
  else if (j->kernel_h == 2 && j->kernel_w == 2)
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
