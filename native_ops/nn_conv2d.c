/* 2-d convolution as im2col + one sgemm per chunk of the batch.
 *
 * A chunk of nc samples unfolds into col[K, nc*P] (K = C*KH*KW input taps,
 * P = OH*OW output pixels), so the weight product is one large GEMM that
 * dl__sgemm spreads over the cores, instead of one small GEMM per sample.
 * Chunks keep the work buffers near CHUNK_FLOATS. A caller that trains can
 * keep col from forward and hand it to backward, which then skips unfolding
 * the input again and reuses col's memory for the input gradient's columns
 * (the whole batch is one chunk then). */
#include "nn_internal.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* Upper bound on the floats of col + the output matrix of one chunk (32 MiB),
 * unless a single sample needs more. */
enum { CHUNK_FLOATS = 8 << 20 };

typedef struct conv_geom {
  int64_t n, c, h, w; /* input */
  int64_t o, kh, kw;  /* weight */
  int64_t oh, ow;     /* output */
  int64_t sh, sw, ph, pw;
  int64_t k, p; /* taps per output pixel (C*KH*KW), pixels per plane (OH*OW) */
} conv_geom;

static int check_geometry(const dl_tensor *x, const dl_tensor *weight, const dl_tensor *bias, int stride_h,
                          int stride_w, int pad_h, int pad_w, conv_geom *g, dl_error *err) {
  int rc = dl__nn_expect(x, "x", DL_F32, 4, err);
  if (rc < 0) return rc;
  if ((rc = dl__nn_expect(weight, "weight", DL_F32, 4, err)) < 0) return rc;
  if (stride_h < 1 || stride_w < 1)
    return dl__fail(err, DL_E_INVAL, "stride (%d, %d) must be at least 1", stride_h, stride_w);
  if (pad_h < 0 || pad_w < 0) return dl__fail(err, DL_E_INVAL, "padding (%d, %d) is negative", pad_h, pad_w);
  *g = (conv_geom){.n = x->shape[0],
                   .c = x->shape[1],
                   .h = x->shape[2],
                   .w = x->shape[3],
                   .o = weight->shape[0],
                   .kh = weight->shape[2],
                   .kw = weight->shape[3],
                   .sh = stride_h,
                   .sw = stride_w,
                   .ph = pad_h,
                   .pw = pad_w};
  if (weight->shape[1] != g->c)
    return dl__fail(err, DL_E_SHAPE, "x has %lld channels but weight [%lld, %lld, %lld, %lld] expects %lld",
                    (long long)g->c, (long long)g->o, (long long)weight->shape[1], (long long)g->kh,
                    (long long)g->kw, (long long)weight->shape[1]);
  if (weight->numel == 0) return dl__fail(err, DL_E_SHAPE, "weight has a zero dim");
  if (g->h + 2 * g->ph < g->kh || g->w + 2 * g->pw < g->kw)
    return dl__fail(err, DL_E_SHAPE, "kernel %lldx%lld is larger than the padded input %lldx%lld",
                    (long long)g->kh, (long long)g->kw, (long long)(g->h + 2 * g->ph),
                    (long long)(g->w + 2 * g->pw));
  if (bias) {
    int64_t want[1] = {g->o};
    if ((rc = dl__nn_expect_shape(bias, "bias", DL_F32, 1, want, err)) < 0) return rc;
  }
  g->oh = (g->h + 2 * g->ph - g->kh) / g->sh + 1;
  g->ow = (g->w + 2 * g->pw - g->kw) / g->sw + 1;
  g->k = g->c * g->kh * g->kw; /* bounded by the weight's size */
  if (__builtin_mul_overflow(g->oh, g->ow, &g->p))
    return dl__fail(err, DL_E_TOO_LARGE, "conv2d: output plane %lldx%lld is too large", (long long)g->oh,
                    (long long)g->ow);
  return dl__nn_expect_blas_dims("conv2d", g->o, g->p, g->k, err);
}

/* Samples per chunk: at least 1, at most n. */
static int64_t chunk_samples(const conv_geom *g) {
  int64_t per_sample = (g->k + g->o) * g->p; /* each factor fits an int, so no overflow */
  int64_t nc = per_sample > 0 ? CHUNK_FLOATS / per_sample : g->n;
  if (nc < 1) nc = 1;
  return nc < g->n ? nc : g->n;
}

/* *out = a work buffer of count floats (NULL on failure). Caller frees it. */
static int alloc_floats(int64_t count, float **out, dl_error *err) {
  *out = NULL;
  if (count > PTRDIFF_MAX / (int64_t)sizeof(float))
    return dl__fail(err, DL_E_TOO_LARGE, "conv2d: %lld floats of work space is too large", (long long)count);
  *out = malloc((size_t)count * sizeof(float));
  if (!*out)
    return dl__fail(err, DL_E_NOMEM, "conv2d: cannot allocate %lld floats of work space", (long long)count);
  return DL_OK;
}

/* Checks the caller's col tensor: f32 [K, N*P], contiguous. */
static int check_col(const dl_tensor *col, const conv_geom *g, dl_error *err) {
  int64_t want[2] = {g->k, g->n * g->p};
  int rc = dl__nn_expect_shape(col, "col", DL_F32, 2, want, err);
  if (rc < 0) return rc;
  return dl__nn_expect_blas_dims("conv2d", g->o, g->n * g->p, g->k, err);
}

/* The output columns ox whose input column ox*sw - pw + kj lies in [0, w):
 * [*lo, *hi). */
static void valid_columns(const conv_geom *g, int64_t kj, int64_t *lo, int64_t *hi) {
  int64_t first = g->pw - kj; /* ox*sw must reach this */
  *lo = first > 0 ? (first + g->sw - 1) / g->sw : 0;
  int64_t last = g->w - 1 + g->pw - kj; /* ox*sw must not pass this */
  *hi = last < 0 ? 0 : last / g->sw + 1;
  if (*hi > g->ow) *hi = g->ow;
  if (*lo > *hi) *lo = *hi;
}

/* Work below this many floats per thread is not worth starting a thread. */
enum { MIN_FLOATS_PER_THREAD = 1 << 15 };

/* One chunk of the batch as the parallel loops see it: samples [0, nc) of
 * the chunk, whose first sample is x (the image), y (the output) or dy. */
typedef struct chunk_job {
  const conv_geom *g;
  int64_t nc;
  const float *x;    /* input images of the chunk */
  float *grad_x;     /* their gradient (col2im) */
  float *col;        /* [K, nc*P] */
  float *mat;        /* [O, nc*P]: the GEMM's output (forward) or dy (backward) */
  float *y;          /* output images of the chunk (forward) */
  const float *gy;   /* their gradient (backward) */
  const float *bias; /* [O] or NULL */
} chunk_job;

/* Samples per parallel task so that each moves at least MIN_FLOATS_PER_THREAD. */
static int64_t min_samples(int64_t floats_per_sample) {
  return floats_per_sample >= MIN_FLOATS_PER_THREAD ? 1 : MIN_FLOATS_PER_THREAD / (floats_per_sample + 1) + 1;
}

/* Unfolds samples [s0, s1) of the chunk into their columns of col. */
static void im2col_samples(void *ctx, int64_t s0, int64_t s1) {
  const chunk_job *j = ctx;
  const conv_geom *g = j->g;
  const int64_t cols = j->nc * g->p;
  for (int64_t c = 0; c < g->c; c++)
    for (int64_t ki = 0; ki < g->kh; ki++)
      for (int64_t kj = 0; kj < g->kw; kj++) {
        float *row = j->col + ((c * g->kh + ki) * g->kw + kj) * cols;
        int64_t lo, hi;
        valid_columns(g, kj, &lo, &hi);
        const int64_t shift = kj - g->pw; /* output column ox reads input column ox*sw + shift */
        for (int64_t s = s0; s < s1; s++) {
          const float *plane = j->x + (s * g->c + c) * g->h * g->w;
          float *dst = row + s * g->p;
          for (int64_t oy = 0; oy < g->oh; oy++, dst += g->ow) {
            int64_t iy = oy * g->sh - g->ph + ki;
            if (iy < 0 || iy >= g->h) {
              memset(dst, 0, (size_t)g->ow * sizeof(float));
              continue;
            }
            const float *src = plane + iy * g->w;
            memset(dst, 0, (size_t)lo * sizeof(float));
            if (g->sw == 1) {
              memcpy(dst + lo, src + lo + shift, (size_t)(hi - lo) * sizeof(float));
            } else {
              for (int64_t ox = lo; ox < hi; ox++) dst[ox] = src[ox * g->sw + shift];
            }
            memset(dst + hi, 0, (size_t)(g->ow - hi) * sizeof(float));
          }
        }
      }
}

/* The adjoint of im2col: adds the columns of samples [s0, s1) into their
 * (zeroed) input gradients. Samples write disjoint planes. */
static void col2im_samples(void *ctx, int64_t s0, int64_t s1) {
  const chunk_job *j = ctx;
  const conv_geom *g = j->g;
  const int64_t cols = j->nc * g->p;
  for (int64_t c = 0; c < g->c; c++)
    for (int64_t ki = 0; ki < g->kh; ki++)
      for (int64_t kj = 0; kj < g->kw; kj++) {
        const float *row = j->col + ((c * g->kh + ki) * g->kw + kj) * cols;
        int64_t lo, hi;
        valid_columns(g, kj, &lo, &hi);
        const int64_t shift = kj - g->pw;
        for (int64_t s = s0; s < s1; s++) {
          float *plane = j->grad_x + (s * g->c + c) * g->h * g->w;
          const float *src = row + s * g->p;
          for (int64_t oy = 0; oy < g->oh; oy++, src += g->ow) {
            int64_t iy = oy * g->sh - g->ph + ki;
            if (iy < 0 || iy >= g->h) continue;
            float *dst = plane + iy * g->w;
            for (int64_t ox = lo; ox < hi; ox++) dst[ox * g->sw + shift] += src[ox];
          }
        }
      }
}

/* mat[o, s*P + p] -> y[s, o, p] plus the bias, for samples [s0, s1). */
static void scatter_output(void *ctx, int64_t s0, int64_t s1) {
  const chunk_job *j = ctx;
  const conv_geom *g = j->g;
  const int64_t cols = j->nc * g->p;
  for (int64_t s = s0; s < s1; s++)
    for (int64_t o = 0; o < g->o; o++) {
      const float *src = j->mat + o * cols + s * g->p;
      float *dst = j->y + (s * g->o + o) * g->p;
      const float b = j->bias ? j->bias[o] : 0.0f;
      for (int64_t i = 0; i < g->p; i++) dst[i] = src[i] + b;
    }
}

/* gy[s, o, p] -> mat[o, s*P + p] for samples [s0, s1): the layout of the
 * forward GEMM's output. */
static void gather_grad(void *ctx, int64_t s0, int64_t s1) {
  const chunk_job *j = ctx;
  const conv_geom *g = j->g;
  const int64_t cols = j->nc * g->p;
  for (int64_t s = s0; s < s1; s++)
    for (int64_t o = 0; o < g->o; o++)
      memcpy(j->mat + o * cols + s * g->p, j->gy + (s * g->o + o) * g->p, (size_t)g->p * sizeof(float));
}

/* Sum of n floats in 8 independent lanes (SIMD-friendly, and more accurate
 * than one running sum). */
static float sum_floats(const float *x, int64_t n) {
  float lane[8] = {0};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int k = 0; k < 8; k++) lane[k] += x[i + k];
  float sum = 0.0f;
  for (; i < n; i++) sum += x[i];
  for (int k = 0; k < 8; k++) sum += lane[k];
  return sum;
}

int dl_nn_conv2d_forward(const dl_tensor *x, const dl_tensor *weight, const dl_tensor *bias, dl_tensor *y,
                         int stride_h, int stride_w, int pad_h, int pad_w, dl_tensor *col, dl_error *err) {
  conv_geom g;
  int rc = check_geometry(x, weight, bias, stride_h, stride_w, pad_h, pad_w, &g, err);
  if (rc < 0) return rc;
  int64_t want[4] = {g.n, g.o, g.oh, g.ow};
  if ((rc = dl__nn_expect_shape(y, "y", DL_F32, 4, want, err)) < 0) return rc;
  if (col && (rc = check_col(col, &g, err)) < 0) return rc;
  if (g.n == 0 || g.p == 0) return DL_OK;
  if ((rc = dl__blas_load(err)) < 0) return rc;

  /* With the caller's col the whole batch is one chunk: col must hold it all for backward. */
  const int64_t nc_max = col ? g.n : chunk_samples(&g);
  if ((rc = dl__nn_expect_blas_dims("conv2d", g.o, nc_max * g.p, g.k, err)) < 0) return rc;
  float *unfolded = col ? col->ptr : NULL, *out = NULL;
  if ((!col && (rc = alloc_floats(g.k * nc_max * g.p, &unfolded, err)) < 0) ||
      (rc = alloc_floats(g.o * nc_max * g.p, &out, err)) < 0) {
    if (!col) free(unfolded);
    return rc;
  }
  for (int64_t n0 = 0; n0 < g.n; n0 += nc_max) {
    const int64_t nc = g.n - n0 < nc_max ? g.n - n0 : nc_max, cols = nc * g.p;
    chunk_job job = {.g = &g,
                     .nc = nc,
                     .x = (const float *)x->ptr + n0 * g.c * g.h * g.w,
                     .col = unfolded,
                     .mat = out,
                     .y = (float *)y->ptr + n0 * g.o * g.p,
                     .bias = bias ? bias->ptr : NULL};
    dl__nn_parallel_for(nc, min_samples(g.k * g.p), im2col_samples, &job);
    dl__sgemm(false, false, g.o, cols, g.k, 1.0f, weight->ptr, g.k, unfolded, cols, 0.0f, out, cols, err);
    dl__nn_parallel_for(nc, min_samples(g.o * g.p), scatter_output, &job);
  }
  if (!col) free(unfolded);
  free(out);
  return DL_OK;
}

int dl_nn_conv2d_backward(const dl_tensor *x, const dl_tensor *weight, const dl_tensor *grad_y,
                          dl_tensor *grad_x, dl_tensor *grad_weight, dl_tensor *grad_bias, int stride_h,
                          int stride_w, int pad_h, int pad_w, dl_tensor *col, dl_error *err) {
  conv_geom g;
  int rc = check_geometry(x, weight, NULL, stride_h, stride_w, pad_h, pad_w, &g, err);
  if (rc < 0) return rc;
  int64_t y_shape[4] = {g.n, g.o, g.oh, g.ow};
  if ((rc = dl__nn_expect_shape(grad_y, "grad_y", DL_F32, 4, y_shape, err)) < 0) return rc;
  if (grad_x && (rc = dl__nn_expect_like(grad_x, "grad_x", DL_F32, x, "x", err)) < 0) return rc;
  if ((rc = dl__nn_expect_like(grad_weight, "grad_weight", DL_F32, weight, "weight", err)) < 0) return rc;
  int64_t b_shape[1] = {g.o};
  if (grad_bias && (rc = dl__nn_expect_shape(grad_bias, "grad_bias", DL_F32, 1, b_shape, err)) < 0) return rc;
  if (col && (rc = check_col(col, &g, err)) < 0) return rc;
  if (grad_x && grad_x->numel > 0) memset(grad_x->ptr, 0, (size_t)grad_x->numel * sizeof(float));
  if (g.n == 0 || g.p == 0) return DL_OK;
  if ((rc = dl__blas_load(err)) < 0) return rc;

  /* One buffer (the caller's col, or our own) holds the unfolded input until
   * the weight gradient is done, then the input gradient's columns. */
  const int64_t nc_max = col ? g.n : chunk_samples(&g);
  if ((rc = dl__nn_expect_blas_dims("conv2d", g.o, nc_max * g.p, g.k, err)) < 0) return rc;
  float *dy = NULL, *own = NULL;
  if ((rc = alloc_floats(g.o * nc_max * g.p, &dy, err)) < 0 ||
      (!col && (rc = alloc_floats(g.k * nc_max * g.p, &own, err)) < 0)) {
    free(dy);
    return rc;
  }
  float *work = col ? col->ptr : own;
  float *pgb = grad_bias ? grad_bias->ptr : NULL;
  for (int64_t n0 = 0; n0 < g.n; n0 += nc_max) {
    const int64_t nc = g.n - n0 < nc_max ? g.n - n0 : nc_max, cols = nc * g.p;
    chunk_job job = {.g = &g,
                     .nc = nc,
                     .x = (const float *)x->ptr + n0 * g.c * g.h * g.w,
                     .grad_x = grad_x ? (float *)grad_x->ptr + n0 * g.c * g.h * g.w : NULL,
                     .col = work,
                     .mat = dy,
                     .gy = (const float *)grad_y->ptr + n0 * g.o * g.p};
    dl__nn_parallel_for(nc, min_samples(g.o * g.p), gather_grad, &job);
    if (pgb)
      for (int64_t o = 0; o < g.o; o++) pgb[o] += sum_floats(dy + o * cols, cols);
    if (!col) dl__nn_parallel_for(nc, min_samples(g.k * g.p), im2col_samples, &job);
    dl__sgemm(false, true, g.o, g.k, cols, 1.0f, dy, cols, work, cols, 1.0f, grad_weight->ptr, g.k, err);
    if (grad_x) {
      dl__sgemm(true, false, g.k, cols, g.o, 1.0f, weight->ptr, g.k, dy, cols, 0.0f, work, cols, err);
      dl__nn_parallel_for(nc, min_samples(g.k * g.p), col2im_samples, &job);
    }
  }
  free(own);
  free(dy);
  return DL_OK;
}
