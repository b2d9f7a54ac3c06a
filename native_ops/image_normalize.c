/* HWC u8 -> CHW f32 with per-channel mean/std: the last step before a model.
 * A 256-entry table per channel turns the divisions into one load. */
#include "image_internal.h"

#include <math.h>
#include <stdlib.h>

int dl__norm_lut_init(dl__norm_lut *lut, int C, const float *mean, const float *std, dl_error *err) {
  for (int c = 0; c < C; c++) {
    float m = mean ? mean[c] : 0.0f, s = std ? std[c] : 1.0f;
    if (!isfinite(m) || !isfinite(s) || s == 0.0f)
      return dl__fail(err, DL_E_NUMERIC, "mean[%d] = %g and std[%d] = %g: both must be finite, std non-zero",
                      c, (double)m, c, (double)s);
    /* The same float operations as (x / 255 - mean) / std written out. */
    for (int v = 0; v < 256; v++) lut->v[c][v] = ((float)v / 255.0f - m) / s;
  }
  lut->C = C;
  return DL_OK;
}

void dl__normalize_row(dl_tensor *dst, int64_t y, const uint8_t *row, const dl__norm_lut *lut) {
  int C = lut->C;
  int64_t w = dst->shape[2], sx = dst->strides[2];
  for (int c = 0; c < C; c++) {
    float *out = (float *)dst->ptr + c * dst->strides[0] + y * dst->strides[1];
    const float *t = lut->v[c];
    const uint8_t *in = row + c;
    if (sx == 1) {
      for (int64_t x = 0; x < w; x++) out[x] = t[in[x * C]];
    } else {
      for (int64_t x = 0; x < w; x++) out[x * sx] = t[in[x * C]];
    }
  }
}

int dl__planes_check(const dl_tensor *dst, int64_t C, int64_t H, int64_t W, dl_error *err) {
  if (!dst) return dl__fail(err, DL_E_INVAL, "dst is NULL");
  int rc = dl_tensor_check(dst, err);
  if (rc < 0) return rc;
  if (dst->dtype != DL_F32 || dst->ndim != 3)
    return dl__fail(err, DL_E_DTYPE, "dst must be a 3-D f32 tensor (C x H x W), got %d-D of dtype %d",
                    dst->ndim, dst->dtype);
  if (dst->shape[0] != C || (H >= 0 && dst->shape[1] != H) || (W >= 0 && dst->shape[2] != W) ||
      dst->shape[1] < 1 || dst->shape[2] < 1)
    return dl__fail(err, DL_E_SHAPE, "dst is %lld x %lld x %lld; expected %lld channels%s",
                    (long long)dst->shape[0], (long long)dst->shape[1], (long long)dst->shape[2],
                    (long long)C,
                    H >= 0 ? " and the image's height and width" : " and a size of at least 1 x 1");
  return DL_OK;
}

int dl_image_normalize_into(dl_tensor *dst, const dl_tensor *src, const float *mean, const float *std,
                            dl_error *err) {
  int rc = dl__image_check(src, "src", err);
  if (rc < 0) return rc;
  rc = dl__planes_check(dst, src->shape[2], src->shape[0], src->shape[1], err);
  if (rc < 0) return rc;
  dl__norm_lut *lut = malloc(sizeof *lut);
  if (!lut) return dl__fail(err, DL_E_NOMEM, "cannot allocate a normalize table");
  rc = dl__norm_lut_init(lut, (int)src->shape[2], mean, std, err);
  for (int64_t y = 0; rc == DL_OK && y < src->shape[0]; y++)
    dl__normalize_row(dst, y, (const uint8_t *)src->ptr + y * src->strides[0], lut);
  free(lut);
  return rc;
}
