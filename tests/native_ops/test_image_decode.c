/* Decoding JPEG and PNG against the pixels PIL (or the generating script)
 * says each test file holds: tests/data/make_images.py. */
#include <math.h>
#include <pthread.h>

#include "test_image_util.h"

#include "image_internal.h" /* dl__planes_force */

/* Exact: PIL decodes with the same libjpeg-turbo and the same defaults. */
static void check_file(const char *name, const char *ref, const dl_decode_opts *opts, uint32_t tol) {
  char path[256], refpath[256];
  snprintf(path, sizeof path, IMAGES "%s", name);
  snprintf(refpath, sizeof refpath, IMAGES "%s", ref);
  dl_tensor *t = load_ok(path, opts);
  assert_matches(t, refpath, tol);
  dl_tensor_release(t);
}

static void jpeg_kinds(void **state) {
  (void)state;
  check_file("rgb.jpg", "rgb.jpg.pam", NULL, 0);
  check_file("gray.jpg", "gray.jpg.pam", NULL, 0);
  check_file("progressive.jpg", "progressive.jpg.pam", NULL, 0);
  /* PIL's CMYK -> RGB of the Adobe-inverted samples. */
  check_file("cmyk.jpg", "cmyk.jpg.pam", NULL, 0);
  check_file("pixel.jpg", "pixel.jpg.pam", NULL, 0); /* 1 x 1 */
}

static void jpeg_exif_orientations(void **state) {
  (void)state;
  for (int o = 1; o <= 8; o++) {
    char name[32], ref[40];
    snprintf(name, sizeof name, "exif%d.jpg", o);
    snprintf(ref, sizeof ref, "exif%d.jpg.pam", o);
    check_file(name, ref, NULL, 0);
  }
  /* With no_exif every file decodes as stored, which is exif1's upright pixels. */
  dl_decode_opts o = {.no_exif = 1};
  check_file("exif6.jpg", "exif1.jpg.pam", &o, 0);
  dl_image_info info;
  dl_tensor *t;
  assert_int_equal(dl_image_load(&t, IMAGES "exif6.jpg", NULL, &info, NULL), DL_OK);
  assert_int_equal(info.orientation, 6);
  assert_int_equal(info.width, 33); /* stored 45 x 33, upright 33 x 45 */
  assert_int_equal(info.height, 45);
  assert_int_equal(t->shape[1], 33);
  dl_tensor_release(t);
}

static void jpeg_dct_scaling(void **state) {
  (void)state;
  /* 45 x 33: 1/8 gives ceil -> 6 x 5, which covers a 6 x 5 request. */
  dl_decode_opts o = {.min_width = 6, .min_height = 5};
  dl_image_info info;
  dl_tensor *t;
  assert_int_equal(dl_image_load(&t, IMAGES "rgb.jpg", &o, &info, NULL), DL_OK);
  assert_int_equal(info.scale_denom, 8);
  assert_int_equal(info.width, 45); /* the original size, for mapping boxes back */
  assert_int_equal(info.height, 33);
  assert_matches(t, IMAGES "rgb.jpg.scale8.pam", 0);
  dl_tensor_release(t);

  /* One pixel more than 1/8 gives forces 1/4; 23 is still ceil(45 / 2), 24 needs full size. */
  o.min_width = 7;
  assert_int_equal(dl_image_load(&t, IMAGES "rgb.jpg", &o, &info, NULL), DL_OK);
  assert_int_equal(info.scale_denom, 4);
  assert_int_equal(t->shape[1], 12);
  dl_tensor_release(t);
  o.min_width = 23;
  assert_int_equal(dl_image_load(&t, IMAGES "rgb.jpg", &o, &info, NULL), DL_OK);
  assert_int_equal(info.scale_denom, 2);
  dl_tensor_release(t);
  o.min_width = 24;
  assert_int_equal(dl_image_load(&t, IMAGES "rgb.jpg", &o, &info, NULL), DL_OK);
  assert_int_equal(info.scale_denom, 1);
  assert_matches(t, IMAGES "rgb.jpg.pam", 0);
  dl_tensor_release(t);

  /* The minimum is for the upright image: exif6 is 33 x 45 upright. A 9 x 12
   * request allows 1/4 of the stored 45 x 33 (12 x 9 stored, 9 x 12 upright). */
  dl_decode_opts r = {.min_width = 9, .min_height = 12};
  assert_int_equal(dl_image_load(&t, IMAGES "exif6.jpg", &r, &info, NULL), DL_OK);
  assert_int_equal(info.scale_denom, 4);
  assert_matches(t, IMAGES "exif6.jpg.scale4.pam", 0);
  dl_tensor_release(t);
}

static void channel_conversions(void **state) {
  (void)state;
  dl_decode_opts L = {.channels = 1}, rgb = {.channels = 3}, rgba = {.channels = 4};
  check_file("rgb.jpg", "rgb.jpg.L.pam", &L, 0); /* PIL's convert('L') luma */

  /* Gray -> RGB repeats the value; -> RGBA adds an opaque alpha. */
  dl_tensor *g = load_ok(IMAGES "gray.jpg", NULL), *c = load_ok(IMAGES "gray.jpg", &rgb),
            *a = load_ok(IMAGES "gray.jpg", &rgba);
  assert_int_equal(g->shape[2], 1);
  assert_int_equal(c->shape[2], 3);
  assert_int_equal(a->shape[2], 4);
  for (int64_t y = 0; y < g->shape[0]; y++)
    for (int64_t x = 0; x < g->shape[1]; x++) {
      for (int k = 0; k < 3; k++) {
        assert_int_equal(sample(c, y, x, k), sample(g, y, x, 0));
        assert_int_equal(sample(a, y, x, k), sample(g, y, x, 0));
      }
      assert_int_equal(sample(a, y, x, 3), 255);
    }
  dl_tensor_release(g);
  dl_tensor_release(c);
  dl_tensor_release(a);

  /* RGBA -> RGB drops alpha; -> LA keeps it beside the luma. */
  dl_decode_opts la = {.channels = 2};
  dl_tensor *full = load_ok(IMAGES "rgba8.png", NULL), *three = load_ok(IMAGES "rgba8.png", &rgb),
            *two = load_ok(IMAGES "rgba8.png", &la);
  for (int64_t y = 0; y < full->shape[0]; y++)
    for (int64_t x = 0; x < full->shape[1]; x++) {
      uint32_t r = sample(full, y, x, 0), gg = sample(full, y, x, 1), b = sample(full, y, x, 2);
      for (int k = 0; k < 3; k++) assert_int_equal(sample(three, y, x, k), sample(full, y, x, k));
      assert_int_equal(sample(two, y, x, 0), (r * 19595 + gg * 38470 + b * 7471 + 0x8000) >> 16);
      assert_int_equal(sample(two, y, x, 1), sample(full, y, x, 3));
    }
  dl_tensor_release(full);
  dl_tensor_release(three);
  dl_tensor_release(two);
}

static void png_kinds(void **state) {
  (void)state;
  static const char *names[] = {"gray1.png", "gray2.png", "gray4.png",    "gray8.png",       "ga8.png",
                                "rgb8.png",  "rgba8.png", "palette4.png", "palette_trns.png"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    char ref[64];
    snprintf(ref, sizeof ref, "%s.pam", names[i]);
    check_file(names[i], ref, NULL, 0);
  }
  /* Adam7-interlaced holds the same pixels as rgb8.png. */
  check_file("interlaced.png", "rgb8.png.pam", NULL, 0);
  check_file("pixel.png", "pixel.png.pam", NULL, 0); /* 1 x 1 */
  check_file("exif6.png", "exif6.png.pam", NULL, 0);
  /* tRNS on gray or RGB: ignored as stored (PIL's asarray), alpha when RGBA is asked for. */
  check_file("gray_trns.png", "gray8.png.pam", NULL, 0);
  check_file("rgb_trns.png", "rgb8.png.pam", NULL, 0);
  dl_decode_opts rgba = {.channels = 4};
  check_file("gray_trns.png", "gray_trns.png.rgba.pam", &rgba, 0);
  check_file("rgb_trns.png", "rgb_trns.png.rgba.pam", &rgba, 0);
}

/* 16-bit: by default the high byte of each sample; keep_16bit gives i32. */
static void png_16bit(void **state) {
  (void)state;
  static const char *names[] = {"gray16.png", "ga16.png", "rgb16.png", "rgba16.png"};
  dl_decode_opts keep = {.keep_16bit = 1};
  for (size_t i = 0; i < 4; i++) {
    char path[128], ref[128];
    snprintf(path, sizeof path, IMAGES "%s", names[i]);
    snprintf(ref, sizeof ref, IMAGES "%s.pam", names[i]);
    dl_tensor *wide = load_ok(path, &keep);
    assert_int_equal(wide->dtype, DL_I32);
    assert_matches(wide, ref, 0);
    dl_tensor *narrow = load_ok(path, NULL);
    assert_int_equal(narrow->dtype, DL_U8);
    ref_image r = read_pam(ref);
    assert_int_equal(narrow->numel, (int64_t)r.width * r.height * r.depth);
    for (int64_t k = 0; k < narrow->numel; k++) assert_int_equal(((uint8_t *)narrow->ptr)[k], r.px[k] >> 8);
    free_ref(&r);
    dl_image_info info;
    dl_tensor_release(narrow);
    assert_int_equal(dl_image_load(&narrow, path, NULL, &info, NULL), DL_OK);
    assert_int_equal(info.bit_depth, 16);
    dl_tensor_release(narrow);
    dl_tensor_release(wide);
  }
  /* Converting kept samples: opaque alpha is 65535. */
  dl_decode_opts keep4 = {.keep_16bit = 1, .channels = 4};
  dl_tensor *t = load_ok(IMAGES "rgb16.png", &keep4);
  assert_int_equal(sample(t, 0, 0, 3), 65535);
  dl_tensor_release(t);
}

static void probe_reads_headers(void **state) {
  (void)state;
  dl_image_info info;
  dl_error e;
  assert_int_equal(dl_image_probe_file(IMAGES "exif8.jpg", &info, &e), DL_OK);
  assert_int_equal(info.format, DL_IMAGE_JPEG);
  assert_int_equal(info.width, 33);
  assert_int_equal(info.height, 45);
  assert_int_equal(info.orientation, 8);
  assert_int_equal(info.channels, 3);
  assert_int_equal(dl_image_probe_file(IMAGES "cmyk.jpg", &info, &e), DL_OK);
  assert_int_equal(info.channels, 4);
  assert_int_equal(info.is_cmyk, 1);
  assert_int_equal(dl_image_probe_file(IMAGES "palette_trns.png", &info, &e), DL_OK);
  assert_int_equal(info.format, DL_IMAGE_PNG);
  assert_int_equal(info.width, 23);
  assert_int_equal(info.height, 17);
  assert_int_equal(info.bit_depth, 4);
  /* A header is all probe needs: the huge PNG probes fine, it only cannot decode. */
  assert_int_equal(dl_image_probe_file(BAD "huge.png", &info, &e), DL_OK);
  assert_int_equal(info.width, 100000);

  FILE *f = fopen(IMAGES "gray.jpg", "rb");
  unsigned char buf[4096];
  size_t n = fread(buf, 1, sizeof buf, f);
  fclose(f);
  assert_int_equal(dl_image_probe(buf, n, &info, &e), DL_OK);
  assert_int_equal(info.channels, 1);
  assert_int_equal(info.width, 45);
}

static void decode_from_memory(void **state) {
  (void)state;
  FILE *f = fopen(IMAGES "rgb8.png", "rb");
  unsigned char buf[8192];
  size_t n = fread(buf, 1, sizeof buf, f);
  fclose(f);
  dl_tensor *t;
  dl_image_info info;
  assert_int_equal(dl_image_decode(&t, buf, n, NULL, &info, NULL), DL_OK);
  assert_int_equal(info.format, DL_IMAGE_PNG);
  assert_matches(t, IMAGES "rgb8.png.pam", 0);
  dl_tensor_release(t);
}

static void bad_options(void **state) {
  (void)state;
  dl_tensor *t = (dl_tensor *)&t;
  dl_error e;
  dl_decode_opts o = {.channels = 5};
  assert_int_equal(dl_image_load(&t, IMAGES "rgb.jpg", &o, NULL, &e), DL_E_INVAL);
  assert_null(t);
  assert_non_null(strstr(e.msg, "channels is 5"));
  dl_decode_opts m = {.max_pixels = -1};
  assert_int_equal(dl_image_load(&t, IMAGES "rgb.jpg", &m, NULL, &e), DL_E_INVAL);
  assert_int_equal(dl_image_decode(&t, NULL, 10, NULL, NULL, &e), DL_E_INVAL);
  assert_int_equal(dl_image_load(NULL, IMAGES "rgb.jpg", NULL, NULL, NULL), DL_E_INVAL);
  /* A limit just under the image's 45 x 33 = 1485 pixels refuses it. */
  dl_decode_opts small = {.max_pixels = 1484};
  assert_int_equal(dl_image_load(&t, IMAGES "rgb.jpg", &small, NULL, &e), DL_E_TOO_LARGE);
  small.max_pixels = 1485;
  assert_int_equal(dl_image_load(&t, IMAGES "rgb.jpg", &small, NULL, &e), DL_OK);
  dl_tensor_release(t);
}

static unsigned char *read_all(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) fail_msg("cannot open %s", path);
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  unsigned char *buf = malloc((size_t)n + 1);
  if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) fail_msg("cannot read %s", path);
  fclose(f);
  *len = (size_t)n;
  return buf;
}

static dl_tensor *planes(int64_t C, int64_t h, int64_t w) {
  dl_tensor *t;
  int64_t shape[3] = {C, h, w};
  assert_int_equal(dl_tensor_new(&t, DL_F32, 3, shape, NULL), DL_OK);
  return t;
}

static const float MEAN[4] = {0.485f, 0.456f, 0.406f, 0.5f}, STD[4] = {0.229f, 0.224f, 0.225f, 0.25f};

/* dl_image_decode_resize_normalize_into must equal dl_image_decode followed
 * by dl_image_resize_normalize_into, bit for bit, whether the file goes row
 * by row (a JPEG without an EXIF turn or a channel conversion libjpeg does
 * not make) or takes the two steps (PNG, CMYK, EXIF turns, PIL's luma), and
 * report the same info. */
static void fused_matches_two_steps(const char *name, const dl_decode_opts *opts, int32_t w, int32_t h,
                                    int mode) {
  char path[256];
  snprintf(path, sizeof path, IMAGES "%s", name);
  size_t len;
  unsigned char *bytes = read_all(path, &len);
  dl_tensor *img;
  dl_image_info want_info, got_info;
  dl_error e;
  if (dl_image_decode(&img, bytes, len, opts, &want_info, &e) != DL_OK) fail_msg("%s: %s", name, e.msg);
  int64_t C = img->shape[2];
  dl_tensor *want = planes(C, h, w), *got = planes(C, h, w);
  assert_int_equal(dl_image_resize_normalize_into(want, img, mode, MEAN, STD, NULL), DL_OK);
  if (dl_image_decode_resize_normalize_into(got, bytes, len, opts, mode, MEAN, STD, &got_info, &e) != DL_OK)
    fail_msg("%s: %s", name, e.msg);
  if (memcmp(got->ptr, want->ptr, (size_t)want->numel * sizeof(float)) != 0)
    fail_msg("%s (channels %d, min %dx%d) -> %dx%d mode %d: differs from decode + resize_normalize", name,
             opts ? opts->channels : 0, opts ? opts->min_width : 0, opts ? opts->min_height : 0, w, h, mode);
  assert_memory_equal(&got_info, &want_info, sizeof want_info);
  dl_tensor_release(img);
  dl_tensor_release(want);
  dl_tensor_release(got);
  free(bytes);
}

static void decode_resize_normalize(void **state) {
  (void)state;
  static const char *files[] = {"rgb.jpg",   "gray.jpg",  "progressive.jpg", "cmyk.jpg",  "exif1.jpg",
                                "exif6.jpg", "pixel.jpg", "photo400.jpg",    "rgb8.png", "rgba8.png"};
  static const int sizes[][2] = {{7, 5}, {12, 9}, {29, 53}, {71, 53}, {224, 224}, {1, 1}};
  for (int kernels = 0; kernels < 3; kernels++) {
    dl__planes_force(kernels);
    for (size_t f = 0; f < sizeof files / sizeof files[0]; f++)
      for (int channels = 0; channels <= 4; channels++) {
        if (channels == 2) continue;
        for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
          int32_t w = sizes[i][0], h = sizes[i][1];
          /* with and without DCT scaling, and EXIF turns ignored */
          dl_decode_opts scaled = {.channels = channels, .min_width = w, .min_height = h};
          dl_decode_opts full = {.channels = channels, .no_exif = 1};
          fused_matches_two_steps(files[f], &scaled, w, h, i % 2 ? DL_RESIZE_BOX : DL_RESIZE_BILINEAR);
          fused_matches_two_steps(files[f], &full, w, h, DL_RESIZE_BILINEAR);
        }
      }
    fused_matches_two_steps("rgb.jpg", NULL, 45, 33, DL_RESIZE_BILINEAR);
  }
  dl__planes_force(DL__KERNELS_BEST);
}

/* Against PIL: draft (DCT scaling), resize, then numpy's normalize. */
static void decode_resize_normalize_matches_pil(void **state) {
  (void)state;
  size_t len;
  unsigned char *bytes = read_all(IMAGES "photo400.jpg", &len);
  static const int sizes[][2] = {{71, 53}, {29, 53}};
  for (int kernels = 0; kernels < 3; kernels++) {
    dl__planes_force(kernels);
    for (int i = 0; i < 2; i++) {
      int32_t w = sizes[i][0], h = sizes[i][1];
      dl_decode_opts o = {.channels = 3, .min_width = w, .min_height = h};
      dl_tensor *got = planes(3, h, w);
      dl_image_info info;
      assert_int_equal(dl_image_decode_resize_normalize_into(got, bytes, len, &o, DL_RESIZE_BILINEAR, MEAN, STD,
                                                             &info, NULL),
                       DL_OK);
      assert_int_equal(info.scale_denom, 4);
      char ref[128];
      snprintf(ref, sizeof ref, IMAGES "photo400.draft.bilinear.%dx%d.norm.f32", w, h);
      FILE *f = fopen(ref, "rb");
      assert_non_null(f);
      float *want = malloc(sizeof(float) * (size_t)got->numel);
      assert_int_equal(fread(want, sizeof(float), (size_t)got->numel, f), got->numel);
      fclose(f);
      for (int64_t k = 0; k < got->numel; k++)
        if (fabsf(((float *)got->ptr)[k] - want[k]) > 1e-6f)
          fail_msg("%s: value %lld is %g, PIL + numpy %g", ref, (long long)k, ((float *)got->ptr)[k], want[k]);
      free(want);
      dl_tensor_release(got);
    }
  }
  dl__planes_force(DL__KERNELS_BEST);
  free(bytes);
}

static void decode_resize_normalize_errors(void **state) {
  (void)state;
  size_t len;
  unsigned char *rgb = read_all(IMAGES "rgb.jpg", &len);
  dl_tensor *three = planes(3, 10, 12), *one = planes(1, 10, 12);
  dl_error e;
  dl_decode_opts o = {.min_width = 12, .min_height = 10};
  static const struct {
    const char *file;
    int status;
  } bad[] = {{BAD "truncated.jpg", DL_E_DECODE}, {BAD "short_data.jpg", DL_E_DECODE},
             {BAD "huge.jpg", DL_E_TOO_LARGE},   {BAD "text.jpg", DL_E_FORMAT},
             {BAD "empty.jpg", DL_E_FORMAT},     {BAD "truncated.png", DL_E_DECODE}};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    size_t n;
    unsigned char *b = read_all(bad[i].file, &n);
    int rc = dl_image_decode_resize_normalize_into(three, b, n, &o, DL_RESIZE_BILINEAR, MEAN, STD, NULL, &e);
    if (rc != bad[i].status) fail_msg("%s: status %d (%s), expected %d", bad[i].file, rc, e.msg, bad[i].status);
    free(b);
  }
  /* the decoded channels must be dst's */
  assert_int_equal(dl_image_decode_resize_normalize_into(one, rgb, len, &o, DL_RESIZE_BILINEAR, MEAN, STD, NULL, &e),
                   DL_E_SHAPE);
  assert_non_null(strstr(e.msg, "expected 3 channels"));
  dl_decode_opts gray = {.channels = 1};
  assert_int_equal(
      dl_image_decode_resize_normalize_into(one, rgb, len, &gray, DL_RESIZE_BILINEAR, MEAN, STD, NULL, &e), DL_OK);
  assert_int_equal(dl_image_decode_resize_normalize_into(three, rgb, len, &o, 7, MEAN, STD, NULL, &e), DL_E_INVAL);
  assert_non_null(strstr(e.msg, "mode 7"));
  float zero[3] = {1, 0, 1};
  assert_int_equal(dl_image_decode_resize_normalize_into(three, rgb, len, &o, DL_RESIZE_BILINEAR, NULL, zero, NULL, &e),
                   DL_E_NUMERIC);
  assert_int_equal(dl_image_decode_resize_normalize_into(three, NULL, 10, &o, DL_RESIZE_BILINEAR, MEAN, STD, NULL, &e),
                   DL_E_INVAL);
  assert_int_equal(dl_image_decode_resize_normalize_into(NULL, rgb, len, &o, DL_RESIZE_BILINEAR, MEAN, STD, NULL, &e),
                   DL_E_INVAL);
  dl_decode_opts five = {.channels = 5};
  assert_int_equal(dl_image_decode_resize_normalize_into(three, rgb, len, &five, DL_RESIZE_BILINEAR, MEAN, STD, NULL,
                                                         &e),
                   DL_E_INVAL);
  dl_tensor_release(three);
  dl_tensor_release(one);
  free(rgb);
}

/* Decoders keep no shared state: concurrent decodes give the same pixels. */
static void *decode_many(void *arg) {
  (void)arg;
  for (int i = 0; i < 20; i++) {
    dl_tensor *t;
    if (dl_image_load(&t, IMAGES "progressive.jpg", NULL, NULL, NULL) != DL_OK) return "jpeg failed";
    ref_image r = read_pam(IMAGES "progressive.jpg.pam");
    uint32_t d = max_diff(t, &r, "thread");
    free_ref(&r);
    dl_tensor_release(t);
    if (d) return "jpeg differs";
    if (dl_image_load(&t, IMAGES "palette_trns.png", NULL, NULL, NULL) != DL_OK) return "png failed";
    dl_tensor_release(t);
  }
  return NULL;
}

static void concurrent_decodes(void **state) {
  (void)state;
  pthread_t th[4];
  for (int i = 0; i < 4; i++) assert_int_equal(pthread_create(&th[i], NULL, decode_many, NULL), 0);
  for (int i = 0; i < 4; i++) {
    void *res;
    pthread_join(th[i], &res);
    if (res) fail_msg("thread %d: %s", i, (const char *)res);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(jpeg_kinds),          cmocka_unit_test(jpeg_exif_orientations),
      cmocka_unit_test(jpeg_dct_scaling),    cmocka_unit_test(channel_conversions),
      cmocka_unit_test(png_kinds),           cmocka_unit_test(png_16bit),
      cmocka_unit_test(probe_reads_headers), cmocka_unit_test(decode_from_memory),
      cmocka_unit_test(bad_options),         cmocka_unit_test(concurrent_decodes),
      cmocka_unit_test(decode_resize_normalize),
      cmocka_unit_test(decode_resize_normalize_matches_pil),
      cmocka_unit_test(decode_resize_normalize_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
