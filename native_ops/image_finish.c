/* The last step of decoding: turning the stored image upright per its EXIF
 * orientation and converting its channels the way PIL's convert() does. */
#include "image_internal.h"

/* Where output pixel (0, 0) comes from, and how far one step along an
 * output row or column moves in the stored image, in pixels. */
typedef struct walk {
  int64_t origin, step_x, step_y;
} walk;

/* Orientation values as PIL's ImageOps.exif_transpose undoes them. */
static walk orientation_walk(int orientation, int64_t w, int64_t h) {
  int64_t last_x = w - 1, last_row = (h - 1) * w;
  switch (orientation) {
    case 2: /* mirrored left-right */
      return (walk){last_x, -1, w};
    case 3: /* rotated 180 */
      return (walk){last_row + last_x, -1, -w};
    case 4: /* mirrored top-bottom */
      return (walk){last_row, 1, -w};
    case 5: /* transposed */
      return (walk){0, w, 1};
    case 6: /* needs a 90 degree clockwise turn */
      return (walk){last_row, -w, 1};
    case 7: /* transversed */
      return (walk){last_row + last_x, -w, -1};
    case 8: /* needs a 90 degree counter-clockwise turn */
      return (walk){last_x, w, -1};
  }
  return (walk){0, 1, w};
}

/* PIL's ITU-R 601-2 luma, L = R * 299/1000 + G * 587/1000 + B * 114/1000,
 * in its 16.16 fixed point (exact for R == G == B). */
static uint32_t luma(const uint32_t *v) {
  return (uint32_t)(((uint64_t)v[0] * 19595 + (uint64_t)v[1] * 38470 + (uint64_t)v[2] * 7471 + 0x8000) >> 16);
}

/* Reads one pixel of cin channels as RGBA; max is the opaque alpha. */
static void load_rgba(uint32_t *v, const dl_tensor *t, int64_t i, int cin, uint32_t max) {
  uint32_t s[4] = {0};
  for (int c = 0; c < cin; c++)
    s[c] = t->dtype == DL_U8 ? ((const uint8_t *)t->ptr)[i * cin + c]
                             : (uint32_t)((const int32_t *)t->ptr)[i * cin + c];
  int gray = cin <= 2;
  v[0] = s[0];
  v[1] = gray ? s[0] : s[1];
  v[2] = gray ? s[0] : s[2];
  v[3] = cin == 2 ? s[1] : cin == 4 ? s[3] : max;
}

static void store(dl_tensor *t, int64_t i, uint32_t v) {
  if (t->dtype == DL_U8) {
    ((uint8_t *)t->ptr)[i] = (uint8_t)v;
  } else {
    ((int32_t *)t->ptr)[i] = (int32_t)v;
  }
}

int dl__image_finish(dl_tensor **out, dl_tensor *raw, int orientation, int channels, dl_error *err) {
  *out = NULL;
  int cin = (int)raw->shape[2], cout = channels ? channels : cin;
  if ((orientation < 2 || orientation > 8) && cout == cin) {
    *out = raw;
    return DL_OK;
  }
  int64_t w = raw->shape[1], h = raw->shape[0];
  int swap = dl__orientation_transposes(orientation);
  int64_t shape[3] = {swap ? w : h, swap ? h : w, cout};
  dl_tensor *t;
  int rc = dl_tensor_empty(&t, raw->dtype, 3, shape, err);
  if (rc < 0) {
    dl_tensor_release(raw);
    return rc;
  }
  uint32_t max = raw->dtype == DL_U8 ? 255 : 65535;
  walk wk = orientation_walk(orientation, w, h);
  int64_t o = 0;
  for (int64_t y = 0; y < shape[0]; y++) {
    int64_t i = wk.origin + y * wk.step_y;
    for (int64_t x = 0; x < shape[1]; x++, i += wk.step_x) {
      uint32_t v[4];
      load_rgba(v, raw, i, cin, max);
      if (cout <= 2) {
        store(t, o++, cin <= 2 ? v[0] : luma(v));
        if (cout == 2) store(t, o++, v[3]);
      } else {
        for (int c = 0; c < cout; c++) store(t, o++, v[c]);
      }
    }
  }
  dl_tensor_release(raw);
  *out = t;
  return DL_OK;
}
