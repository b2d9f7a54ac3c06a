/* Helpers shared by the image tests: reading the PAM reference files that
 * tests/data/make_images.py writes (no decoder of ours involved), and
 * comparing tensors with them. Paths are relative to the repository root,
 * where tests/run.sh runs the tests. */
#ifndef TEST_IMAGE_UTIL_H
#define TEST_IMAGE_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dl_native.h"

#define IMAGES "tests/data/images/"
#define BAD "tests/data/bad/"

/* A reference image: samples in row-major H×W×C order, 16-bit ones widened. */
typedef struct ref_image {
  int width, height, depth, maxval;
  uint32_t *px;
} ref_image;

static inline ref_image read_pam(const char *path) {
  ref_image r = {0};
  FILE *f = fopen(path, "rb");
  if (!f) fail_msg("cannot open %s", path);
  char line[128];
  while (fgets(line, sizeof line, f) && strcmp(line, "ENDHDR\n") != 0) {
    sscanf(line, "WIDTH %d", &r.width);
    sscanf(line, "HEIGHT %d", &r.height);
    sscanf(line, "DEPTH %d", &r.depth);
    sscanf(line, "MAXVAL %d", &r.maxval);
  }
  size_t n = (size_t)r.width * r.height * r.depth, bytes = r.maxval > 255 ? 2 : 1;
  unsigned char *raw = malloc(n * bytes);
  r.px = malloc(n * sizeof *r.px);
  if (!raw || !r.px || fread(raw, bytes, n, f) != n) fail_msg("short PAM file %s", path);
  for (size_t i = 0; i < n; i++) r.px[i] = bytes == 2 ? (uint32_t)(raw[2 * i] << 8 | raw[2 * i + 1]) : raw[i];
  free(raw);
  fclose(f);
  return r;
}

static inline void free_ref(ref_image *r) { free(r->px); }

/* Sample (y, x, c) of an image tensor of any row stride, u8 or i32. */
static inline uint32_t sample(const dl_tensor *t, int64_t y, int64_t x, int64_t c) {
  int64_t i = y * t->strides[0] + x * t->strides[1] + c * t->strides[2];
  return t->dtype == DL_U8 ? ((const uint8_t *)t->ptr)[i] : (uint32_t)((const int32_t *)t->ptr)[i];
}

/* Largest |t - ref| over all samples; fails when the shapes differ. */
static inline uint32_t max_diff(const dl_tensor *t, const ref_image *ref, const char *what) {
  if (t->ndim != 3 || t->shape[0] != ref->height || t->shape[1] != ref->width || t->shape[2] != ref->depth)
    fail_msg("%s: tensor is %lldx%lldx%lld, reference %dx%dx%d", what, (long long)t->shape[0],
             (long long)t->shape[1], t->ndim == 3 ? (long long)t->shape[2] : -1LL, ref->height, ref->width,
             ref->depth);
  uint32_t worst = 0;
  for (int64_t y = 0; y < ref->height; y++)
    for (int64_t x = 0; x < ref->width; x++)
      for (int64_t c = 0; c < ref->depth; c++) {
        uint32_t a = sample(t, y, x, c), b = ref->px[(y * ref->width + x) * ref->depth + c];
        uint32_t d = a > b ? a - b : b - a;
        if (d > worst) worst = d;
      }
  return worst;
}

/* Asserts t matches the PAM at path within tol. */
static inline void assert_matches(const dl_tensor *t, const char *path, uint32_t tol) {
  ref_image ref = read_pam(path);
  uint32_t d = max_diff(t, &ref, path);
  free_ref(&ref);
  if (d > tol) fail_msg("%s: max abs diff %u > %u", path, d, tol);
}

/* Loads an image with default options, failing the test on error. */
static inline dl_tensor *load_ok(const char *path, const dl_decode_opts *opts) {
  dl_tensor *t = NULL;
  dl_error e = {0};
  if (dl_image_load(&t, path, opts, NULL, &e) != DL_OK) fail_msg("%s: %s", path, e.msg);
  return t;
}

#endif
