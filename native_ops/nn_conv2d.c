/* 2-d convolution, sample by sample: im2col + sgemm per sample, the samples
 * spread over the nn worker threads.
 *
 * Each sample unfolds into its columns [K, P] (K = C*KH*KW input taps, P =
 * OH*OW output pixels), and one sgemm multiplies them straight into the
 * sample's output planes [O, P], which start as the bias. A sample's columns
 * fit in L2 in the networks dlrun trains (288 x 196 floats for conv 32 -> 64
 * on 14x14), so the unfolding, OpenBLAS's packing and the adjoint folding all
 * work in cache; one GEMM over the whole batch instead streamed columns of
 * the batch ([K, N*P], 14 MB there) through memory three times and needed
 * gather and scatter passes to and from the batch layout.
 *
 * Backward: each sample's weight gradient gy_s . cols_s^T adds into the
 * partial sum of its group; groups of samples are fixed by the batch and
 * layer sizes, never by the number of threads, and their partial sums add
 * up in group order, so the results are the same on any machine. The input
 * gradient of a sample is W^T . gy_s, folded back onto its planes.
 *
 * A caller that trains keeps col [K, N*P] from forward (sample s in columns
 * s*P ..) and hands it to backward, which then reads the columns from there
 * instead of unfolding the input again. */
#include "nn_internal.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

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

/* Checks the caller's col tensor: f32 [K, N*P], contiguous. */
static int check_col(const dl_tensor *col, const conv_geom *g, dl_error *err) {
  int64_t want[2] = {g->k, g->n * g->p};
  int rc = dl__nn_expect_shape(col, "col", DL_F32, 2, want, err);
  if (rc < 0) return rc;
  return dl__nn_expect_blas_dims("conv2d", g->k, g->n * g->p, g->o, err);
}

/* Rows are copied and added four floats at a time: GCC's -O2 vectorizer
 * leaves loops of unknown length scalar, and memcpy calls cost more than
 * the copy for rows as short as 14 pixels. */
typedef float f32x4 __attribute__((vector_size(16)));

static inline void copy_row(float *dst, const float *src, int64_t n, int64_t step) {
  int64_t i = 0;
  if (step == 1)
    for (; i + 4 <= n; i += 4) memcpy(dst + i, src + i, sizeof(f32x4));
  for (; i < n; i++) dst[i] = src[i * step];
}

static inline void add_row(float *dst, const float *src, int64_t n, int64_t step) {
  int64_t i = 0;
  if (step == 1)
    for (; i + 4 <= n; i += 4) {
      f32x4 a, b;
      memcpy(&a, dst + i, sizeof a);
      memcpy(&b, src + i, sizeof b);
      a += b;
      memcpy(dst + i, &a, sizeof a);
    }
  for (; i < n; i++) dst[i * step] += src[i];
}

/* A plane with its zero border of pad rows and columns: window rows start
 * at (oy*sh + ki) * wp + kj, all inside, so no pixel needs a bounds test. */
static inline int64_t padded_width(const conv_geom *g) { return g->w + 2 * g->pw; }
static inline int64_t padded_size(const conv_geom *g) { return (g->h + 2 * g->ph) * padded_width(g); }

/* Unfolds one sample's planes xs [C, H, W] into its columns: dst [K, P]
 * with rows ld floats apart. padded is scratch of padded_size floats. */
static void unfold(const conv_geom *g, const float *xs, float *dst, int64_t ld, float *padded) {
  const int64_t wp = padded_width(g);
  memset(padded, 0, (size_t)padded_size(g) * sizeof(float));
  for (int64_t c = 0; c < g->c; c++) {
    for (int64_t y = 0; y < g->h; y++)
      copy_row(padded + (y + g->ph) * wp + g->pw, xs + (c * g->h + y) * g->w, g->w, 1);
    for (int64_t ki = 0; ki < g->kh; ki++)
      for (int64_t kj = 0; kj < g->kw; kj++) {
        float *out = dst + ((c * g->kh + ki) * g->kw + kj) * ld;
        for (int64_t oy = 0; oy < g->oh; oy++)
          copy_row(out + oy * g->ow, padded + (oy * g->sh + ki) * wp + kj, g->ow, g->sw);
      }
  }
}

/* The adjoint of unfold: writes into one sample's input gradient gxs
 * [C, H, W] the sum of the columns src [K, P] (rows ld floats apart) over
 * the pixels each reads. padded is scratch of padded_size floats. */
static void fold(const conv_geom *g, const float *src, int64_t ld, float *gxs, float *padded) {
  const int64_t wp = padded_width(g);
  for (int64_t c = 0; c < g->c; c++) {
    memset(padded, 0, (size_t)padded_size(g) * sizeof(float));
    for (int64_t ki = 0; ki < g->kh; ki++)
      for (int64_t kj = 0; kj < g->kw; kj++) {
        const float *in = src + ((c * g->kh + ki) * g->kw + kj) * ld;
        for (int64_t oy = 0; oy < g->oh; oy++)
          add_row(padded + (oy * g->sh + ki) * wp + kj, in + oy * g->ow, g->ow, g->sw);
      }
    for (int64_t y = 0; y < g->h; y++)
      copy_row(gxs + (c * g->h + y) * g->w, padded + (y + g->ph) * wp + g->pw, g->w, 1);
  }
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

/* The operands of one call, as the parallel loops see them. Workers that
 * cannot get their scratch memory set failed; the call then fails whole. */
typedef struct conv_job {
  const conv_geom *g;
  const float *x, *w, *bias; /* bias may be NULL */
  float *y;                  /* forward's output */
  const float *gy;           /* backward's grad_y */
  float *gx;                 /* backward's grad_x, or NULL */
  float *col;                /* the caller's [K, N*P], or NULL */
  float *partial_w;          /* backward: [groups][O*K] */
  float *partial_b;          /* backward: [groups][O], or NULL */
  int64_t groups;
  _Atomic bool failed;
} conv_job;

/* Scratch of count floats for a worker, or NULL (job->failed set). */
static float *scratch(conv_job *j, int64_t count) {
  float *p = malloc((size_t)count * sizeof(float));
  if (!p) j->failed = true;
  return p;
}

/* Forward for samples [s0, s1): bias (or zeros) into y_s, then y_s += W cols_s. */
static void forward_samples(void *ctx, int64_t s0, int64_t s1) {
  conv_job *j = ctx;
  const conv_geom *g = j->g;
  /* one block: the padded plane, then the sample's columns unless col holds them */
  float *work = scratch(j, padded_size(g) + (j->col ? 0 : g->k * g->p));
  if (!work) return;
  for (int64_t s = s0; s < s1; s++) {
    float *cols = j->col ? j->col + s * g->p : work + padded_size(g);
    const int64_t ld = j->col ? g->n * g->p : g->p;
    unfold(g, j->x + s * g->c * g->h * g->w, cols, ld, work);
    float *ys = j->y + s * g->o * g->p;
    for (int64_t o = 0; o < g->o; o++) {
      const float b = j->bias ? j->bias[o] : 0.0f;
      for (int64_t i = 0; i < g->p; i++) ys[o * g->p + i] = b;
    }
    dl__sgemm(false, false, g->o, g->p, g->k, 1.0f, j->w, g->k, cols, ld, 1.0f, ys, g->p, NULL);
  }
  free(work);
}

/* The samples of group i: [n*i/groups, n*(i+1)/groups). */
static int64_t group_start(const conv_job *j, int64_t i) { return j->g->n * i / j->groups; }

/* Backward for groups [g0, g1): each sample adds its weight (and bias)
 * gradient into its group's partial sums and writes its input gradient. */
static void backward_groups(void *ctx, int64_t g0, int64_t g1) {
  conv_job *j = ctx;
  const conv_geom *g = j->g;
  /* one block: the padded plane, the input gradient's columns if wanted,
   * then the sample's columns unless col holds them */
  const int64_t kp = g->k * g->p;
  float *work = scratch(j, padded_size(g) + (j->gx ? kp : 0) + (j->col ? 0 : kp));
  if (!work) return;
  float *gx_cols = work + padded_size(g), *own_cols = gx_cols + (j->gx ? kp : 0);
  for (int64_t grp = g0; grp < g1; grp++) {
    float *pw = j->partial_w + grp * g->o * g->k;
    float *pb = j->partial_b ? j->partial_b + grp * g->o : NULL;
    for (int64_t s = group_start(j, grp); s < group_start(j, grp + 1); s++) {
      const float *gys = j->gy + s * g->o * g->p;
      if (pb)
        for (int64_t o = 0; o < g->o; o++) pb[o] += sum_floats(gys + o * g->p, g->p);
      const float *cols = j->col ? j->col + s * g->p : own_cols;
      const int64_t ld = j->col ? g->n * g->p : g->p;
      if (!j->col) unfold(g, j->x + s * g->c * g->h * g->w, own_cols, ld, work);
      dl__sgemm(false, true, g->o, g->k, g->p, 1.0f, gys, g->p, cols, ld, 1.0f, pw, g->k, NULL);
      if (j->gx) {
        dl__sgemm(true, false, g->k, g->p, g->o, 1.0f, j->w, g->k, gys, g->p, 0.0f, gx_cols, g->p, NULL);
        fold(g, gx_cols, g->p, j->gx + s * g->c * g->h * g->w, work);
      }
    }
  }
  free(work);
}

/* Groups of samples for the partial weight gradients: as many as there are
 * samples, up to MAX_GROUPS, and fewer when their sums would pass
 * PARTIAL_FLOATS (a large layer then has fewer groups to spread over
 * threads, but its per-sample GEMMs are large enough to split themselves). */
enum { MAX_GROUPS = 16, PARTIAL_FLOATS = 4 << 20 };

static int64_t group_count(const conv_geom *g) {
  const int64_t per_group = g->o * g->k + g->o;
  int64_t groups = g->n < MAX_GROUPS ? g->n : MAX_GROUPS;
  while (groups > 1 && groups * per_group > PARTIAL_FLOATS) groups--;
  return groups;
}

/* Adds the partial sums [groups][len] into out[len], in group order. */
static void add_partials(const float *partials, int64_t groups, int64_t len, float *out) {
  for (int64_t grp = 0; grp < groups; grp++)
    for (int64_t i = 0; i < len; i++) out[i] += partials[grp * len + i];
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
  conv_job job = {.g = &g,
                  .x = x->ptr,
                  .w = weight->ptr,
                  .bias = bias ? bias->ptr : NULL,
                  .y = y->ptr,
                  .col = col ? col->ptr : NULL};
  dl__nn_parallel_for(g.n, 1, forward_samples, &job);
  if (job.failed)
    return dl__fail(err, DL_E_NOMEM, "conv2d: cannot allocate %lld floats of work space",
                    (long long)(g.k * g.p));
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
  if (g.n == 0 || g.p == 0) {
    if (grad_x && grad_x->numel > 0) memset(grad_x->ptr, 0, (size_t)grad_x->numel * sizeof(float));
    return DL_OK;
  }
  if ((rc = dl__blas_load(err)) < 0) return rc;
  conv_job job = {.g = &g,
                  .x = x->ptr,
                  .w = weight->ptr,
                  .gy = grad_y->ptr,
                  .gx = grad_x ? grad_x->ptr : NULL,
                  .col = col ? col->ptr : NULL,
                  .groups = group_count(&g)};
  const int64_t partial_floats = job.groups * (g.o * g.k + g.o);
  float *partials = calloc((size_t)partial_floats, sizeof(float));
  if (!partials)
    return dl__fail(err, DL_E_NOMEM, "conv2d: cannot allocate %lld floats of work space",
                    (long long)partial_floats);
  job.partial_w = partials;
  job.partial_b = grad_bias ? partials + job.groups * g.o * g.k : NULL;
  dl__nn_parallel_for(job.groups, 1, backward_groups, &job);
  if (!job.failed) {
    add_partials(job.partial_w, job.groups, g.o * g.k, grad_weight->ptr);
    if (grad_bias) add_partials(job.partial_b, job.groups, g.o, grad_bias->ptr);
  }
  free(partials);
  if (job.failed)
    return dl__fail(err, DL_E_NOMEM, "conv2d: cannot allocate %lld floats of work space",
                    (long long)(g.k * g.p));
  return DL_OK;
}
