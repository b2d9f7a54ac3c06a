/* Letterboxing: resize keeping the aspect ratio, centre, pad the rest. */
#include "image_internal.h"

#include <math.h>
#include <string.h>

int dl_image_letterbox_into(dl_tensor *dst, const dl_tensor *src, int32_t mode, uint8_t pad,
                            dl_letterbox *box, dl_error *err) {
  int rc = dl__image_check(src, "src", err);
  if (rc == DL_OK) rc = dl__image_check(dst, "dst", err);
  if (rc < 0) return rc;
  if (dst->shape[2] != src->shape[2])
    return dl__fail(err, DL_E_SHAPE, "dst has %lld channels but src has %lld", (long long)dst->shape[2],
                    (long long)src->shape[2]);
  int64_t W = dst->shape[1], H = dst->shape[0], w = src->shape[1], h = src->shape[0];
  double scale = fmin((double)W / (double)w, (double)H / (double)h);
  int64_t nw = (int64_t)lround((double)w * scale), nh = (int64_t)lround((double)h * scale);
  if (nw < 1) nw = 1;
  if (nh < 1) nh = 1;
  if (nw > W) nw = W;
  if (nh > H) nh = H;
  int64_t x = (W - nw) / 2, y = (H - nh) / 2;

  int64_t row = W * dst->shape[2];
  for (int64_t r = 0; r < H; r++) memset((uint8_t *)dst->ptr + r * dst->strides[0], pad, (size_t)row);
  /* A header on the stack is enough: the view lives only for this call. */
  dl_tensor inner = *dst;
  inner.ptr = (uint8_t *)dst->ptr + y * dst->strides[0] + x * dst->strides[1];
  inner.shape[0] = nh;
  inner.shape[1] = nw;
  dl__tensor_update_numel(&inner);
  rc = dl_image_resize_into(&inner, src, mode, err);
  if (rc < 0) return rc;
  if (box) *box = (dl_letterbox){scale, (int32_t)x, (int32_t)y, (int32_t)nw, (int32_t)nh};
  return DL_OK;
}

int dl_image_letterbox(dl_tensor **out, const dl_tensor *src, int32_t width, int32_t height, int32_t mode,
                       uint8_t pad, dl_letterbox *box, dl_error *err) {
  if (!out) return dl__fail(err, DL_E_INVAL, "out is NULL");
  *out = NULL;
  int rc = dl__image_check(src, "src", err);
  if (rc < 0) return rc;
  if (width < 1 || height < 1)
    return dl__fail(err, DL_E_INVAL, "letterbox size %d x %d must be at least 1 x 1", width, height);
  int64_t shape[3] = {height, width, src->shape[2]};
  rc = dl_tensor_empty(out, DL_U8, 3, shape, err);
  if (rc == DL_OK) rc = dl_image_letterbox_into(*out, src, mode, pad, box, err);
  if (rc < 0) {
    dl_tensor_release(*out);
    *out = NULL;
  }
  return rc;
}
