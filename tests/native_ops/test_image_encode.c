/* PNG and JPEG encoding: PNG round trips exactly for 1..4 channels, JPEG
 * comes back as PIL's JPEG does, both from memory and through files. */
#include <unistd.h>

#include "test_image_util.h"

static dl_tensor *roundtrip(const dl_tensor *img, int format, int quality) {
  dl_tensor *bytes, *back;
  dl_error e;
  if (dl_image_encode(&bytes, img, format, quality, &e) != DL_OK) fail_msg("encode: %s", e.msg);
  assert_int_equal(bytes->ndim, 1);
  assert_int_equal(bytes->dtype, DL_U8);
  if (dl_image_decode(&back, bytes->ptr, (size_t)bytes->numel, NULL, NULL, &e) != DL_OK)
    fail_msg("decode: %s", e.msg);
  dl_tensor_release(bytes);
  return back;
}

static void png_roundtrips_exactly(void **state) {
  (void)state;
  static const char *names[] = {"gray8.png", "ga8.png", "rgb8.png", "rgba8.png"};
  for (int i = 0; i < 4; i++) {
    char path[128], ref[128];
    snprintf(path, sizeof path, IMAGES "%s", names[i]);
    snprintf(ref, sizeof ref, IMAGES "%s.pam", names[i]);
    dl_tensor *img = load_ok(path, NULL), *back = roundtrip(img, DL_IMAGE_PNG, 0);
    assert_int_equal(back->shape[2], i + 1);
    assert_matches(back, ref, 0);
    dl_tensor_release(back);
    dl_tensor_release(img);
  }
  /* A crop is a strided view: its rows are encoded, not the parent's. */
  dl_tensor *img = load_ok(IMAGES "photo.png", NULL), *crop, *back;
  assert_int_equal(dl_image_crop(&crop, img, 3, 4, 7, 5, NULL), DL_OK);
  back = roundtrip(crop, DL_IMAGE_PNG, 0);
  for (int64_t y = 0; y < 5; y++)
    for (int64_t x = 0; x < 7; x++)
      for (int c = 0; c < 3; c++) assert_int_equal(sample(back, y, x, c), sample(img, y + 4, x + 3, c));
  dl_tensor_release(back);
  dl_tensor_release(crop);
  dl_tensor_release(img);
}

static double mean_abs_diff(const dl_tensor *a, const dl_tensor *b, int channels) {
  double sum = 0;
  for (int64_t y = 0; y < a->shape[0]; y++)
    for (int64_t x = 0; x < a->shape[1]; x++)
      for (int c = 0; c < channels; c++) sum += abs((int)sample(a, y, x, c) - (int)sample(b, y, x, c));
  return sum / (double)(a->shape[0] * a->shape[1] * channels);
}

static void jpeg_comes_back_close(void **state) {
  (void)state;
  dl_tensor *img = load_ok(IMAGES "photo.png", NULL);
  dl_tensor *hi = roundtrip(img, DL_IMAGE_JPEG, 95), *lo = roundtrip(img, DL_IMAGE_JPEG, 10);
  assert_int_equal(hi->shape[0], 33);
  assert_int_equal(hi->shape[1], 45);
  assert_int_equal(hi->shape[2], 3);
  /* Same libjpeg settings as PIL's save(quality=q): the same pixels come back. */
  assert_matches(hi, IMAGES "photo.q95.jpg.pam", 0);
  assert_matches(lo, IMAGES "photo.q10.jpg.pam", 0);
  dl_tensor_release(hi);
  dl_tensor_release(lo);

  /* Gray stays gray; alpha is dropped. */
  dl_tensor *gray = load_ok(IMAGES "gray8.png", NULL), *g = roundtrip(gray, DL_IMAGE_JPEG, 0);
  assert_int_equal(g->shape[2], 1);
  dl_tensor_release(g);
  dl_tensor_release(gray);
  dl_tensor *rgba = load_ok(IMAGES "rgba8.png", NULL), *r = roundtrip(rgba, DL_IMAGE_JPEG, 100);
  assert_int_equal(r->shape[2], 3);
  dl_tensor_release(r);
  dl_tensor *ga = load_ok(IMAGES "ga8.png", NULL), *gg = roundtrip(ga, DL_IMAGE_JPEG, 100);
  assert_int_equal(gg->shape[2], 1);
  assert_true(mean_abs_diff(ga, gg, 1) < 4.0);
  dl_tensor_release(gg);
  dl_tensor_release(ga);
  dl_tensor_release(rgba);

  dl_tensor *out;
  dl_error e;
  assert_int_equal(dl_image_encode(&out, img, DL_IMAGE_JPEG, 101, &e), DL_E_INVAL);
  assert_non_null(strstr(e.msg, "101"));
  assert_int_equal(dl_image_encode(&out, img, 9, 0, &e), DL_E_INVAL);
  dl_tensor_release(img);
}

static void save_to_files(void **state) {
  (void)state;
  char dir[] = "/tmp/dl_image_test_XXXXXX";
  assert_non_null(mkdtemp(dir));
  char png[64], jpg[64];
  snprintf(png, sizeof png, "%s/a.png", dir);
  snprintf(jpg, sizeof jpg, "%s/a.jpg", dir);
  dl_tensor *img = load_ok(IMAGES "rgb8.png", NULL), *back;
  dl_error e;
  assert_int_equal(dl_image_save(img, png, DL_IMAGE_PNG, 0, &e), DL_OK);
  back = load_ok(png, NULL);
  assert_matches(back, IMAGES "rgb8.png.pam", 0);
  dl_tensor_release(back);
  assert_int_equal(dl_image_save(img, jpg, DL_IMAGE_JPEG, 90, &e), DL_OK);
  dl_image_info info;
  assert_int_equal(dl_image_probe_file(jpg, &info, &e), DL_OK);
  assert_int_equal(info.format, DL_IMAGE_JPEG);
  assert_int_equal(info.width, 23);
  char nowhere[80];
  snprintf(nowhere, sizeof nowhere, "%s/missing/dir/a.png", dir);
  assert_int_equal(dl_image_save(img, nowhere, DL_IMAGE_PNG, 0, &e), DL_E_IO);
  assert_non_null(strstr(e.msg, "missing/dir/a.png"));
  unlink(png);
  unlink(jpg);
  rmdir(dir);
  dl_tensor_release(img);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(png_roundtrips_exactly),
      cmocka_unit_test(jpeg_comes_back_close),
      cmocka_unit_test(save_to_files),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
