/* Resizing u8 images the way Pillow does: separable convolution with the
 * filter's support widened by the downscale factor (so downscaling is
 * antialiased), coefficients in 22-bit fixed point, horizontal pass first on
 * just the source rows the vertical pass reads, u8 rounding between passes.
 * Reproducing those steps gives PIL's output bit for bit. */
#include "image_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static double bilinear_filter(double x) {
  if (x < 0.0) x = -x;
  return x < 1.0 ? 1.0 - x : 0.0;
}

static double box_filter(double x) { return x > -0.5 && x <= 0.5 ? 1.0 : 0.0; }

typedef dl__axis axis;

void dl__axis_free(dl__axis *a) {
  free(a->first);
  free(a->count);
  free(a->k);
}

int dl__axis_init(dl__axis *a, int64_t in_size, int32_t out_size, int mode) {
  int box = mode == DL_RESIZE_BOX;
  double support_base = box ? 0.5 : 1.0;
  double scale = (double)in_size / out_size, filterscale = scale < 1.0 ? 1.0 : scale;
  double support = support_base * filterscale;
  int32_t ksize = (int32_t)ceil(support) * 2 + 1;
  a->out = out_size;
  a->ksize = ksize;
  a->first = malloc(sizeof(int32_t) * (size_t)out_size);
  a->count = malloc(sizeof(int32_t) * (size_t)out_size);
  a->k = calloc((size_t)out_size * (size_t)ksize, sizeof(int32_t));
  double *w = malloc(sizeof(double) * (size_t)ksize);
  if (!a->first || !a->count || !a->k || !w) {
    free(w);
    dl__axis_free(a);
    return -1;
  }
  for (int32_t xx = 0; xx < out_size; xx++) {
    double center = (xx + 0.5) * scale, ss = 1.0 / filterscale, ww = 0.0;
    int64_t xmin = (int64_t)(center - support + 0.5);
    int64_t xmax = (int64_t)(center + support + 0.5);
    if (xmin < 0) xmin = 0;
    if (xmax > in_size) xmax = in_size;
    int32_t n = (int32_t)(xmax - xmin);
    for (int32_t x = 0; x < n; x++) {
      /* a branch, not a function pointer, so that both filters inline */
      double t = (x + xmin - center + 0.5) * ss;
      w[x] = box ? box_filter(t) : bilinear_filter(t);
      ww += w[x];
    }
    int32_t *k = a->k + (size_t)xx * (size_t)ksize;
    for (int32_t x = 0; x < n; x++) {
      double v = ww != 0.0 ? w[x] / ww : w[x];
      k[x] = (int32_t)(v < 0 ? -0.5 + v * (1 << DL__RESIZE_BITS) : 0.5 + v * (1 << DL__RESIZE_BITS));
    }
    a->first[xx] = (int32_t)xmin;
    a->count[xx] = n;
  }
  free(w);
  return 0;
}

/* One row through the horizontal taps, inlined per channel count. Pixels of
 * 3 or 4 channels take one 4-lane sum per tap; an RGB load also reads the
 * next pixel's first byte (its lane is dropped), so output pixels that use
 * the row's last input pixel are summed channel by channel. */
static inline __attribute__((always_inline)) void hrow_c(uint8_t *restrict out, const uint8_t *restrict in,
                                                         const axis *a, int C, int64_t in_w) {
  for (int32_t x = 0; x < a->out; x++) {
    const uint8_t *p = in + (size_t)a->first[x] * C;
    const int32_t *k = a->k + (size_t)x * a->ksize;
    int32_t n = a->count[x];
    if (C == 4 || (C == 3 && a->first[x] + n < in_w)) {
      dl__lanes s = {DL__RESIZE_HALF, DL__RESIZE_HALF, DL__RESIZE_HALF, DL__RESIZE_HALF};
      for (int32_t i = 0; i < n; i++) s += dl__load4(p + i * C) * k[i];
      s = dl__clip_lanes(s);
      for (int c = 0; c < C; c++) out[x * C + c] = (uint8_t)s[c];
      continue;
    }
    int32_t s[4] = {DL__RESIZE_HALF, DL__RESIZE_HALF, DL__RESIZE_HALF, DL__RESIZE_HALF};
    for (int32_t i = 0; i < n; i++) {
      for (int c = 0; c < C; c++) s[c] += p[i * C + c] * k[i];
    }
    for (int c = 0; c < C; c++) out[x * C + c] = dl__clip8(s[c]);
  }
}

DL__CLONES static void hrow(uint8_t *out, const uint8_t *in, const axis *a, int C, int64_t in_w) {
  switch (C) {
    case 1:
      hrow_c(out, in, a, 1, in_w);
      break;
    case 2:
      hrow_c(out, in, a, 2, in_w);
      break;
    case 3:
      hrow_c(out, in, a, 3, in_w);
      break;
    default:
      hrow_c(out, in, a, 4, in_w);
  }
}

/* One output row from count rows starting at first, rows being stride bytes
 * apart, n samples wide: eight samples at a time through all taps. */
DL__CLONES static void vrow(uint8_t *restrict out, const uint8_t *base, int64_t stride, int32_t first,
                        int32_t count, const int32_t *k, int64_t n) {
  const uint8_t *rows = base + first * stride;
  int64_t e = 0;
  for (; e + 8 <= n; e += 8) {
    dl__lanes lo = {DL__RESIZE_HALF, DL__RESIZE_HALF, DL__RESIZE_HALF, DL__RESIZE_HALF}, hi = lo;
    for (int32_t i = 0; i < count; i++) {
      const uint8_t *r = rows + i * stride + e;
      lo += dl__load4(r) * k[i];
      hi += dl__load4(r + 4) * k[i];
    }
    lo = dl__clip_lanes(lo);
    hi = dl__clip_lanes(hi);
    for (int j = 0; j < 4; j++) {
      out[e + j] = (uint8_t)lo[j];
      out[e + 4 + j] = (uint8_t)hi[j];
    }
  }
  for (; e < n; e++) {
    int32_t s = DL__RESIZE_HALF;
    for (int32_t i = 0; i < count; i++) s += rows[i * stride + e] * k[i];
    out[e] = dl__clip8(s);
  }
}

/* A prepared resize of one source: rows are produced one at a time by
 * resampler_row, so callers can write them anywhere. */
typedef struct resampler {
  const dl_tensor *src;
  int C, need_h, need_v;
  axis h, v;
  uint8_t *tmp; /* horizontal pass over the rows the vertical pass reads (owned) */
  int32_t tmp_first;
} resampler;

static void resampler_free(resampler *r) {
  if (r->need_h) dl__axis_free(&r->h);
  if (r->need_v) dl__axis_free(&r->v);
  free(r->tmp);
}

static int resampler_init(resampler *r, const dl_tensor *src, int64_t out_w, int64_t out_h, int mode,
                          dl_error *err) {
  memset(r, 0, sizeof *r);
  if (mode != DL_RESIZE_BILINEAR && mode != DL_RESIZE_BOX)
    return dl__fail(err, DL_E_INVAL, "resize mode %d is not DL_RESIZE_BILINEAR (0) or DL_RESIZE_BOX (1)",
                    mode);
  if (out_w < 1 || out_h < 1 || out_w > INT32_MAX || out_h > INT32_MAX)
    return dl__fail(err, DL_E_INVAL, "target size %lld x %lld must be at least 1 x 1", (long long)out_w,
                    (long long)out_h);
  r->src = src;
  r->C = (int)src->shape[2];
  r->need_h = out_w != src->shape[1];
  r->need_v = out_h != src->shape[0];
  int oom = 0;
  if (r->need_h && dl__axis_init(&r->h, src->shape[1], (int32_t)out_w, mode) < 0) {
    r->need_h = 0;
    oom = 1;
  }
  if (!oom && r->need_v && dl__axis_init(&r->v, src->shape[0], (int32_t)out_h, mode) < 0) {
    r->need_v = 0;
    oom = 1;
  }
  int64_t row = out_w * r->C;
  if (!oom && r->need_h && r->need_v) {
    int32_t first = r->v.first[0], last = r->v.first[out_h - 1] + r->v.count[out_h - 1];
    r->tmp = malloc((size_t)(last - first) * (size_t)row);
    oom = !r->tmp;
    const uint8_t *in = src->ptr;
    for (int32_t y = first; !oom && y < last; y++)
      hrow(r->tmp + (size_t)(y - first) * row, in + y * src->strides[0], &r->h, r->C, src->shape[1]);
    r->tmp_first = first;
  }
  if (oom) {
    resampler_free(r);
    return dl__fail(err, DL_E_NOMEM, "cannot allocate buffers to resize %lld x %lld to %lld x %lld",
                    (long long)src->shape[1], (long long)src->shape[0], (long long)out_w, (long long)out_h);
  }
  return DL_OK;
}

/* Writes output row y (out_w * C bytes) to out. */
static void resampler_row(const resampler *r, int64_t y, uint8_t *out) {
  const dl_tensor *s = r->src;
  const uint8_t *in = s->ptr;
  int64_t row = (r->need_h ? r->h.out : s->shape[1]) * r->C;
  if (!r->need_v) {
    if (r->need_h) {
      hrow(out, in + y * s->strides[0], &r->h, r->C, s->shape[1]);
    } else {
      memcpy(out, in + y * s->strides[0], (size_t)row);
    }
    return;
  }
  const int32_t *k = r->v.k + (size_t)y * r->v.ksize;
  if (r->need_h) {
    vrow(out, r->tmp, row, r->v.first[y] - r->tmp_first, r->v.count[y], k, row);
  } else {
    vrow(out, in, s->strides[0], r->v.first[y], r->v.count[y], k, row);
  }
}

int dl_image_resize_into(dl_tensor *dst, const dl_tensor *src, int32_t mode, dl_error *err) {
  int rc = dl__image_check(src, "src", err);
  if (rc == DL_OK) rc = dl__image_check(dst, "dst", err);
  if (rc < 0) return rc;
  if (dst->shape[2] != src->shape[2])
    return dl__fail(err, DL_E_SHAPE, "dst has %lld channels but src has %lld", (long long)dst->shape[2],
                    (long long)src->shape[2]);
  resampler r;
  rc = resampler_init(&r, src, dst->shape[1], dst->shape[0], mode, err);
  if (rc < 0) return rc;
  for (int64_t y = 0; y < dst->shape[0]; y++)
    resampler_row(&r, y, (uint8_t *)dst->ptr + y * dst->strides[0]);
  resampler_free(&r);
  return DL_OK;
}

int dl_image_resize(dl_tensor **out, const dl_tensor *src, int32_t width, int32_t height, int32_t mode,
                    dl_error *err) {
  if (!out) return dl__fail(err, DL_E_INVAL, "out is NULL");
  *out = NULL;
  int rc = dl__image_check(src, "src", err);
  if (rc < 0) return rc;
  if (width < 1 || height < 1)
    return dl__fail(err, DL_E_INVAL, "target size %d x %d must be at least 1 x 1", width, height);
  int64_t shape[3] = {height, width, src->shape[2]};
  rc = dl_tensor_empty(out, DL_U8, 3, shape, err);
  if (rc < 0) return rc;
  rc = dl_image_resize_into(*out, src, mode, err);
  if (rc < 0) {
    dl_tensor_release(*out);
    *out = NULL;
  }
  return rc;
}

int dl_image_resize_normalize_into(dl_tensor *dst, const dl_tensor *src, int32_t mode, const float *mean,
                                   const float *std, dl_error *err) {
  int rc = dl__image_check(src, "src", err);
  if (rc < 0) return rc;
  rc = dl__planes_check(dst, src->shape[2], -1, -1, err);
  if (rc < 0) return rc;
  dl__planes *p = malloc(sizeof *p);
  if (!p) return dl__fail(err, DL_E_NOMEM, "cannot allocate a resize");
  rc = dl__planes_init(p, dst, src->shape[1], src->shape[0], (int)src->shape[2], mode, mean, std, err);
  if (rc == DL_OK) {
    for (int64_t y = p->row_first; y < p->row_end; y++)
      dl__planes_push(p, y, (const uint8_t *)src->ptr + y * src->strides[0]);
    dl__planes_free(p);
  }
  free(p);
  return rc;
}
