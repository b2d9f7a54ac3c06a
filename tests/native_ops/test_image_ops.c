/* Image ops against PIL: resize (bilinear and box, down, up, one axis,
 * 1×1, a large factor), normalize, the fused resize+normalize, crops and
 * letterbox. References come from tests/data/make_images.py. */
#include <math.h>

#include "test_image_util.h"

#include "image_internal.h" /* dl__planes_force */

static dl_tensor *new_image(int64_t h, int64_t w, int64_t c) {
  dl_tensor *t;
  int64_t shape[3] = {h, w, c};
  assert_int_equal(dl_tensor_new(&t, DL_U8, 3, shape, NULL), DL_OK);
  return t;
}

/* PIL's own algorithm reproduced exactly: tolerance 0. */
static void resize_matches_pil(void **state) {
  (void)state;
  static const int sizes[][2] = {{17, 13}, {97, 71}, {45, 20}, {20, 33}, {1, 1}, {6, 50}};
  static const char *modes[] = {"bilinear", "box"};
  dl_tensor *src = load_ok(IMAGES "photo.png", NULL);
  for (int m = 0; m < 2; m++)
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
      dl_tensor *out;
      dl_error e;
      assert_int_equal(dl_image_resize(&out, src, sizes[i][0], sizes[i][1], m, &e), DL_OK);
      char ref[128];
      snprintf(ref, sizeof ref, IMAGES "photo.%s.%dx%d.pam", modes[m], sizes[i][0], sizes[i][1]);
      assert_matches(out, ref, 0);
      dl_tensor_release(out);
    }
  dl_tensor_release(src);

  dl_tensor *gray = load_ok(IMAGES "photo_gray.png", NULL), *out;
  assert_int_equal(dl_image_resize(&out, gray, 17, 13, DL_RESIZE_BILINEAR, NULL), DL_OK);
  assert_matches(out, IMAGES "photo_gray.bilinear.17x13.pam", 0);
  dl_tensor_release(out);
  dl_tensor_release(gray);

  dl_tensor *big = load_ok(IMAGES "photo400.jpg", NULL);
  assert_int_equal(dl_image_resize(&out, big, 37, 23, DL_RESIZE_BILINEAR, NULL), DL_OK);
  assert_matches(out, IMAGES "photo400.bilinear.37x23.pam", 0);
  dl_tensor_release(out);
  dl_tensor_release(big);
}

/* Worked by hand: a 1×1 image stays flat at any size; same size is a copy. */
static void resize_small_and_identity(void **state) {
  (void)state;
  dl_tensor *one = new_image(1, 1, 3), *out;
  uint8_t *p = one->ptr;
  p[0] = 10, p[1] = 200, p[2] = 255;
  assert_int_equal(dl_image_resize(&out, one, 5, 3, DL_RESIZE_BILINEAR, NULL), DL_OK);
  for (int64_t k = 0; k < out->numel; k++) assert_int_equal(((uint8_t *)out->ptr)[k], p[k % 3]);
  dl_tensor_release(out);
  dl_tensor_release(one);

  /* 2 -> 1 pixel wide: bilinear averages the two halves: (0 + 255) / 2 rounds to 128. */
  dl_tensor *two = new_image(1, 2, 1);
  ((uint8_t *)two->ptr)[1] = 255;
  assert_int_equal(dl_image_resize(&out, two, 1, 1, DL_RESIZE_BILINEAR, NULL), DL_OK);
  assert_int_equal(((uint8_t *)out->ptr)[0], 128);
  dl_tensor_release(out);
  dl_tensor_release(two);

  dl_tensor *src = load_ok(IMAGES "photo.png", NULL);
  assert_int_equal(dl_image_resize(&out, src, 45, 33, DL_RESIZE_BOX, NULL), DL_OK);
  assert_memory_equal(out->ptr, src->ptr, (size_t)src->numel);
  dl_tensor_release(out);
  dl_tensor_release(src);
}

/* _into a view inside a bigger buffer writes only the view. */
static void resize_into_view(void **state) {
  (void)state;
  dl_tensor *src = load_ok(IMAGES "photo.png", NULL), *canvas = new_image(20, 30, 3), *view;
  memset(canvas->ptr, 7, (size_t)canvas->numel);
  assert_int_equal(dl_image_crop(&view, canvas, 5, 4, 17, 13, NULL), DL_OK);
  assert_int_equal(dl_image_resize_into(view, src, DL_RESIZE_BILINEAR, NULL), DL_OK);
  assert_matches(view, IMAGES "photo.bilinear.17x13.pam", 0);
  int64_t outside = 0;
  for (int64_t y = 0; y < 20; y++)
    for (int64_t x = 0; x < 30; x++)
      if (y < 4 || y >= 17 || x < 5 || x >= 22)
        for (int c = 0; c < 3; c++) outside += sample(canvas, y, x, c) != 7;
  assert_int_equal(outside, 0);

  /* And from a view: resizing a crop reads only the crop. */
  dl_tensor *crop, *a, *b;
  assert_int_equal(dl_image_crop(&crop, src, 3, 2, 30, 25, NULL), DL_OK);
  dl_tensor *copy = new_image(25, 30, 3);
  for (int64_t y = 0; y < 25; y++)
    memcpy((uint8_t *)copy->ptr + y * 90, (uint8_t *)crop->ptr + y * crop->strides[0], 90);
  assert_int_equal(dl_image_resize(&a, crop, 11, 9, DL_RESIZE_BILINEAR, NULL), DL_OK);
  assert_int_equal(dl_image_resize(&b, copy, 11, 9, DL_RESIZE_BILINEAR, NULL), DL_OK);
  assert_memory_equal(a->ptr, b->ptr, (size_t)a->numel);
  dl_tensor_release(a);
  dl_tensor_release(b);
  dl_tensor_release(copy);
  dl_tensor_release(crop);
  dl_tensor_release(view);
  dl_tensor_release(canvas);
  dl_tensor_release(src);
}

static void resize_rejects_misuse(void **state) {
  (void)state;
  dl_tensor *src = new_image(4, 4, 3), *out, *f;
  dl_error e;
  assert_int_equal(dl_image_resize(&out, src, 0, 5, DL_RESIZE_BILINEAR, &e), DL_E_INVAL);
  assert_int_equal(dl_image_resize(&out, src, 5, 5, 7, &e), DL_E_INVAL);
  assert_non_null(strstr(e.msg, "mode 7"));
  int64_t fshape[3] = {4, 4, 3};
  assert_int_equal(dl_tensor_new(&f, DL_F32, 3, fshape, NULL), DL_OK);
  assert_int_equal(dl_image_resize(&out, f, 5, 5, DL_RESIZE_BILINEAR, &e), DL_E_DTYPE);
  assert_non_null(strstr(e.msg, "src"));
  dl_tensor *five = new_image(4, 4, 5), *gray = new_image(3, 3, 1);
  assert_int_equal(dl_image_resize(&out, five, 5, 5, DL_RESIZE_BILINEAR, &e), DL_E_SHAPE);
  assert_int_equal(dl_image_resize_into(gray, src, DL_RESIZE_BILINEAR, &e), DL_E_SHAPE);
  assert_non_null(strstr(e.msg, "channels"));
  dl_tensor_release(five);
  dl_tensor_release(gray);
  dl_tensor_release(f);
  dl_tensor_release(src);
}

static const float mean[3] = {0.485f, 0.456f, 0.406f}, stdv[3] = {0.229f, 0.224f, 0.225f};

static void check_norm_ref(const dl_tensor *t) {
  FILE *f = fopen(IMAGES "photo.bilinear.17x13.norm.f32", "rb");
  float ref[3 * 13 * 17];
  assert_int_equal(fread(ref, sizeof(float), 3 * 13 * 17, f), 3 * 13 * 17);
  fclose(f);
  for (int64_t c = 0; c < 3; c++)
    for (int64_t y = 0; y < 13; y++)
      for (int64_t x = 0; x < 17; x++) {
        float v = ((const float *)t->ptr)[c * t->strides[0] + y * t->strides[1] + x * t->strides[2]];
        float r = ref[(c * 13 + y) * 17 + x];
        if (fabsf(v - r) > 1e-6f)
          fail_msg("(%lld,%lld,%lld): %g vs numpy %g", (long long)c, (long long)y, (long long)x, v, r);
      }
}

/* normalize of PIL's resize equals numpy's (x / 255 - mean) / std. */
static void normalize_matches_numpy(void **state) {
  (void)state;
  dl_tensor *src = load_ok(IMAGES "photo.png", NULL), *small, *chw;
  assert_int_equal(dl_image_resize(&small, src, 17, 13, DL_RESIZE_BILINEAR, NULL), DL_OK);
  int64_t shape[3] = {3, 13, 17};
  assert_int_equal(dl_tensor_new(&chw, DL_F32, 3, shape, NULL), DL_OK);
  assert_int_equal(dl_image_normalize_into(chw, small, mean, stdv, NULL), DL_OK);
  check_norm_ref(chw);

  /* The fused pass gives the same numbers, here into slot 1 of a batch of 2. */
  dl_tensor *batch;
  int64_t bshape[4] = {2, 3, 13, 17};
  assert_int_equal(dl_tensor_new(&batch, DL_F32, 4, bshape, NULL), DL_OK);
  dl_tensor slot = *batch; /* a header for the view; the batch keeps the storage */
  slot.ndim = 3;
  slot.ptr = (float *)batch->ptr + 3 * 13 * 17;
  for (int i = 0; i < 3; i++) slot.shape[i] = bshape[i + 1], slot.strides[i] = batch->strides[i + 1];
  slot.numel = 3 * 13 * 17;
  dl_error e;
  assert_int_equal(dl_image_resize_normalize_into(&slot, src, DL_RESIZE_BILINEAR, mean, stdv, &e), DL_OK);
  check_norm_ref(&slot);
  for (int64_t k = 0; k < 3 * 13 * 17; k++) assert_true(((float *)batch->ptr)[k] == 0.0f);

  /* NULL mean/std: x / 255. A zero std is refused. */
  assert_int_equal(dl_image_normalize_into(chw, small, NULL, NULL, NULL), DL_OK);
  assert_true(((float *)chw->ptr)[0] == (float)sample(small, 0, 0, 0) / 255.0f);
  float zero[3] = {1, 0, 1};
  assert_int_equal(dl_image_normalize_into(chw, small, NULL, zero, &e), DL_E_NUMERIC);
  assert_non_null(strstr(e.msg, "std[1]"));
  dl_tensor *wrong;
  int64_t wshape[3] = {3, 12, 17};
  assert_int_equal(dl_tensor_new(&wrong, DL_F32, 3, wshape, NULL), DL_OK);
  assert_int_equal(dl_image_normalize_into(wrong, small, NULL, NULL, &e), DL_E_SHAPE);
  dl_tensor_release(wrong);
  dl_tensor_release(batch);
  dl_tensor_release(chw);
  dl_tensor_release(small);
  dl_tensor_release(src);
}

/* A w×h image of C channels: pseudo-random samples, with runs of 0 and 255
 * so that clipping is exercised. */
static dl_tensor *noise_image(int64_t h, int64_t w, int64_t c, uint32_t seed) {
  dl_tensor *t = new_image(h, w, c);
  uint8_t *p = t->ptr;
  for (int64_t i = 0; i < t->numel; i++) {
    seed = seed * 1664525u + 1013904223u;
    uint32_t r = seed >> 24;
    p[i] = (uint8_t)((i / 97) % 5 == 0 ? (r & 1) * 255 : r);
  }
  return t;
}

/* dl_image_resize_normalize_into runs its own kernels (hand-written AVX2
 * ones where the CPU has AVX2, with or without division-free normalizing,
 * and portable ones elsewhere): each must give exactly what dl_image_resize
 * (PIL's numbers, tested above) followed by dl_image_normalize_into gives. The sizes cover B1's shapes (about 1.3x to
 * 3x down to 224), the identity, upscaling, one pixel, a width that is not a
 * multiple of 8, many taps per pixel (several loads each), and rows so short
 * that no load fits inside them. */
static void resize_normalize_kernels(void **state) {
  (void)state;
  static const int sizes[][4] = {{418, 335, 224, 224}, {684, 394, 224, 224}, {224, 224, 224, 224},
                                 {300, 224, 224, 224}, {45, 33, 17, 13},      {17, 13, 45, 33},
                                 {1, 1, 5, 3},         {2, 1, 1, 1},          {5, 4, 3, 2},
                                 {1000, 50, 37, 23},   {230, 229, 219, 221},  {31, 7, 29, 5}};
  static const float m4[4] = {0.485f, 0.456f, 0.406f, 0.5f}, s4[4] = {0.229f, 0.224f, 0.225f, 0.3f};
  uint32_t seed = 7;
  for (int kernels = 0; kernels < 3; kernels++) {
    dl__planes_force(kernels);
    for (int64_t C = 1; C <= 4; C++)
      for (int mode = 0; mode < 2; mode++)
        for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
          int w = sizes[i][0], h = sizes[i][1], ow = sizes[i][2], oh = sizes[i][3];
          dl_tensor *src = noise_image(h, w, C, seed++), *small, *want, *got;
          int64_t shape[3] = {C, oh, ow};
          assert_int_equal(dl_tensor_new(&want, DL_F32, 3, shape, NULL), DL_OK);
          assert_int_equal(dl_tensor_new(&got, DL_F32, 3, shape, NULL), DL_OK);
          assert_int_equal(dl_image_resize(&small, src, ow, oh, mode, NULL), DL_OK);
          assert_int_equal(dl_image_normalize_into(want, small, m4, s4, NULL), DL_OK);
          dl_error e;
          if (dl_image_resize_normalize_into(got, src, mode, m4, s4, &e) != DL_OK) fail_msg("%s", e.msg);
          if (memcmp(got->ptr, want->ptr, (size_t)want->numel * sizeof(float)) != 0)
            fail_msg("%s kernels: %dx%dx%d -> %dx%d, mode %d differs from resize + normalize",
                     kernels == DL__KERNELS_BEST       ? "default"
                     : kernels == DL__KERNELS_PORTABLE ? "portable"
                                                       : "divide",
                     w, h, (int)C, ow, oh, mode);
          dl_tensor_release(src);
          dl_tensor_release(small);
          dl_tensor_release(want);
          dl_tensor_release(got);
        }
  }

  /* Into a C×H×W view of an H×W×C buffer (samples not contiguous along x). */
  dl_tensor *src = noise_image(75, 100, 3, 99), *small, *want, *hwc;
  int64_t shape[3] = {3, 53, 71}, hwc_shape[3] = {53, 71, 3};
  assert_int_equal(dl_tensor_new(&want, DL_F32, 3, shape, NULL), DL_OK);
  assert_int_equal(dl_tensor_new(&hwc, DL_F32, 3, hwc_shape, NULL), DL_OK);
  assert_int_equal(dl_image_resize(&small, src, 71, 53, DL_RESIZE_BILINEAR, NULL), DL_OK);
  assert_int_equal(dl_image_normalize_into(want, small, mean, stdv, NULL), DL_OK);
  for (int kernels = 0; kernels < 3; kernels++) {
    dl__planes_force(kernels);
    dl_tensor view = *hwc;
    view.shape[0] = 3, view.shape[1] = 53, view.shape[2] = 71;
    view.strides[0] = 1, view.strides[1] = 71 * 3, view.strides[2] = 3;
    memset(hwc->ptr, 0, (size_t)hwc->numel * sizeof(float));
    assert_int_equal(dl_image_resize_normalize_into(&view, src, DL_RESIZE_BILINEAR, mean, stdv, NULL), DL_OK);
    for (int64_t c = 0; c < 3; c++)
      for (int64_t y = 0; y < 53; y++)
        for (int64_t x = 0; x < 71; x++)
          assert_true(((float *)hwc->ptr)[(y * 71 + x) * 3 + c] == ((float *)want->ptr)[(c * 53 + y) * 71 + x]);
  }
  dl__planes_force(DL__KERNELS_BEST);
  dl_tensor_release(hwc);
  dl_tensor_release(want);
  dl_tensor_release(small);
  dl_tensor_release(src);
}

static void crops(void **state) {
  (void)state;
  dl_tensor *src = load_ok(IMAGES "photo.png", NULL), *c;
  dl_error e;
  assert_int_equal(dl_image_crop(&c, src, 40, 30, 5, 3, &e), DL_OK);
  assert_int_equal(c->shape[0], 3);
  assert_int_equal(c->shape[1], 5);
  assert_int_equal(sample(c, 2, 4, 1), sample(src, 32, 44, 1));
  dl_tensor_release(c);
  assert_int_equal(dl_image_crop(&c, src, 41, 30, 5, 3, &e), DL_E_RANGE);
  assert_non_null(strstr(e.msg, "45 x 33"));
  /* torchvision: top = int(round((33 - 10) / 2)) = round(11.5) = 12 (half to
   * even), left = int(round((45 - 20) / 2)) = round(12.5) = 12. */
  assert_int_equal(dl_image_center_crop(&c, src, 20, 10, &e), DL_OK);
  assert_int_equal(sample(c, 0, 0, 0), sample(src, 12, 12, 0));
  assert_int_equal(sample(c, 9, 19, 2), sample(src, 21, 31, 2));
  dl_tensor_release(c);
  /* (33 - 8) / 2 = 12.5 -> 12; (45 - 42) / 2 = 1.5 -> 2. */
  assert_int_equal(dl_image_center_crop(&c, src, 42, 8, &e), DL_OK);
  assert_int_equal(sample(c, 0, 0, 0), sample(src, 12, 2, 0));
  dl_tensor_release(c);
  assert_int_equal(dl_image_center_crop(&c, src, 46, 8, &e), DL_E_RANGE);
  dl_tensor_release(src);
}

static void letterbox(void **state) {
  (void)state;
  dl_tensor *src = load_ok(IMAGES "photo.png", NULL), *out;
  dl_letterbox box;
  dl_error e;
  /* 45 x 33 into 17 x 17: scale 17/45, image 17 x round(12.47) = 12, top (17 - 12) / 2 = 2. */
  assert_int_equal(dl_image_letterbox(&out, src, 17, 17, DL_RESIZE_BILINEAR, 114, &box, &e), DL_OK);
  assert_true(fabs(box.scale - 17.0 / 45.0) < 1e-12);
  assert_int_equal(box.x, 0);
  assert_int_equal(box.y, 2);
  assert_int_equal(box.width, 17);
  assert_int_equal(box.height, 12);
  for (int64_t x = 0; x < 17; x++)
    for (int c = 0; c < 3; c++) {
      assert_int_equal(sample(out, 0, x, c), 114);
      assert_int_equal(sample(out, 1, x, c), 114);
      assert_int_equal(sample(out, 14, x, c), 114);
      assert_int_equal(sample(out, 16, x, c), 114);
    }
  /* The band holds the plain resize to 17 x 12. */
  dl_tensor *plain, *band;
  assert_int_equal(dl_image_resize(&plain, src, 17, 12, DL_RESIZE_BILINEAR, NULL), DL_OK);
  assert_int_equal(dl_image_crop(&band, out, 0, 2, 17, 12, NULL), DL_OK);
  for (int64_t y = 0; y < 12; y++)
    for (int64_t x = 0; x < 17; x++)
      for (int c = 0; c < 3; c++) assert_int_equal(sample(band, y, x, c), sample(plain, y, x, c));
  dl_tensor_release(band);
  dl_tensor_release(plain);
  dl_tensor_release(out);
  /* Taller target: pads left and right. */
  assert_int_equal(dl_image_letterbox(&out, src, 90, 33, DL_RESIZE_BILINEAR, 0, &box, &e), DL_OK);
  assert_true(fabs(box.scale - 1.0) < 1e-12);
  assert_int_equal(box.x, 22);
  assert_int_equal(box.y, 0);
  assert_int_equal(sample(out, 5, 30, 1), sample(src, 5, 8, 1));
  dl_tensor_release(out);
  dl_tensor_release(src);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(resize_matches_pil),
      cmocka_unit_test(resize_small_and_identity),
      cmocka_unit_test(resize_into_view),
      cmocka_unit_test(resize_rejects_misuse),
      cmocka_unit_test(normalize_matches_numpy),
      cmocka_unit_test(resize_normalize_kernels),
      cmocka_unit_test(crops),
      cmocka_unit_test(letterbox),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
