/* What an image tensor is (the check every image op starts with), and crops,
 * which are views: no pixels are copied. */
#include "image_internal.h"

int dl__image_check(const dl_tensor *t, const char *what, dl_error *err) {
  if (!t) return dl__fail(err, DL_E_INVAL, "%s is NULL", what);
  int rc = dl_tensor_check(t, err);
  if (rc < 0) return rc;
  if (t->dtype != DL_U8)
    return dl__fail(err, DL_E_DTYPE, "%s must be a u8 image, got dtype %d", what, t->dtype);
  if (t->ndim != 3 || t->shape[2] < 1 || t->shape[2] > 4)
    return dl__fail(err, DL_E_SHAPE, "%s must be H x W x C with C of 1..4, got a %d-D tensor%s", what,
                    t->ndim, t->ndim == 3 ? " with another channel count" : "");
  if (t->shape[0] < 1 || t->shape[1] < 1)
    return dl__fail(err, DL_E_SHAPE, "%s is %lld x %lld pixels; an image has at least one", what,
                    (long long)t->shape[1], (long long)t->shape[0]);
  int64_t C = t->shape[2], W = t->shape[1];
  int packed = (t->strides[2] == 1 || C == 1) && (t->strides[1] == C || W == 1) &&
               (t->strides[0] >= W * C || t->shape[0] == 1);
  if (!packed)
    return dl__fail(
        err, DL_E_SHAPE,
        "%s has strides %lld, %lld, %lld; image ops need packed pixels (copy it contiguous first)", what,
        (long long)t->strides[0], (long long)t->strides[1], (long long)t->strides[2]);
  return DL_OK;
}

int dl_image_crop(dl_tensor **out, const dl_tensor *src, int32_t x, int32_t y, int32_t width, int32_t height,
                  dl_error *err) {
  if (!out) return dl__fail(err, DL_E_INVAL, "out is NULL");
  *out = NULL;
  int rc = dl__image_check(src, "src", err);
  if (rc < 0) return rc;
  if (width < 1 || height < 1 || x < 0 || y < 0 || (int64_t)x + width > src->shape[1] ||
      (int64_t)y + height > src->shape[0])
    return dl__fail(err, DL_E_RANGE, "crop of %d x %d at (%d, %d) does not fit in the %lld x %lld image",
                    width, height, x, y, (long long)src->shape[1], (long long)src->shape[0]);
  dl_tensor *v;
  rc = dl__tensor_alias(&v, src, err);
  if (rc < 0) return rc;
  v->ptr = (uint8_t *)src->ptr + y * src->strides[0] + x * src->strides[1];
  v->shape[0] = height;
  v->shape[1] = width;
  dl__tensor_update_numel(v);
  *out = v;
  return DL_OK;
}

/* torchvision's offset, int(round(d / 2.0)): Python rounds halves to even. */
static int32_t center_offset(int64_t d) {
  int64_t half = d / 2;
  return (int32_t)(d % 2 && half % 2 ? half + 1 : half);
}

int dl_image_center_crop(dl_tensor **out, const dl_tensor *src, int32_t width, int32_t height,
                         dl_error *err) {
  if (!out) return dl__fail(err, DL_E_INVAL, "out is NULL");
  *out = NULL;
  int rc = dl__image_check(src, "src", err);
  if (rc < 0) return rc;
  if (width < 1 || height < 1 || width > src->shape[1] || height > src->shape[0])
    return dl__fail(err, DL_E_RANGE, "center crop of %d x %d does not fit in the %lld x %lld image", width,
                    height, (long long)src->shape[1], (long long)src->shape[0]);
  return dl_image_crop(out, src, center_offset(src->shape[1] - width), center_offset(src->shape[0] - height),
                       width, height, err);
}
