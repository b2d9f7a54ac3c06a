/* Finite-difference checks of every nn backward kernel: for a fixed random
 * r, L = sum(r * forward(...)) and backward(grad_y = r) must give dL/dinput
 * and dL/dparam as measured by central differences. */
#include "nn_testing.h"

/* ---------------------------------------------------------------- linear */

typedef struct linear_case {
  dl_tensor *x, *w, *b, *y, *r;
} linear_case;

static double linear_loss(void *ctx) {
  linear_case *c = ctx;
  assert_int_equal(dl_nn_linear_forward(c->x, c->w, c->b, c->y, NULL), DL_OK);
  return dot(c->y, c->r);
}

static void test_linear_gradients(void **state) {
  uint64_t s = 1;
  int64_t xs[2] = {3, 5}, ws[2] = {4, 5}, bs[1] = {4}, ys[2] = {3, 4};
  linear_case c = {make_f32(2, xs, NULL), make_f32(2, ws, NULL), make_f32(1, bs, NULL), make_f32(2, ys, NULL),
                   make_f32(2, ys, NULL)};
  fill_uniform(c.x, &s, -1, 1);
  fill_uniform(c.w, &s, -1, 1);
  fill_uniform(c.b, &s, -1, 1);
  fill_uniform(c.r, &s, -1, 1);
  dl_tensor *gx = make_like(c.x), *gw = make_like(c.w), *gb = make_like(c.b);
  dl_error e;
  assert_int_equal(dl_nn_linear_backward(c.x, c.w, c.r, gx, gw, gb, &e), DL_OK);
  expect_gradient("linear grad_x", linear_loss, &c, c.x, gx, 1e-2);
  expect_gradient("linear grad_weight", linear_loss, &c, c.w, gw, 1e-2);
  expect_gradient("linear grad_bias", linear_loss, &c, c.b, gb, 1e-2);

  /* A second backward adds to the parameter grads and overwrites grad_x. */
  float gw0 = f32(gw)[7], gb0 = f32(gb)[2], gx0 = f32(gx)[4];
  assert_int_equal(dl_nn_linear_backward(c.x, c.w, c.r, gx, gw, gb, &e), DL_OK);
  assert_float_equal(f32(gw)[7], 2 * gw0, 1e-5);
  assert_float_equal(f32(gb)[2], 2 * gb0, 1e-5);
  assert_float_equal(f32(gx)[4], gx0, 0);
  /* grad_x and grad_bias are optional. */
  assert_int_equal(dl_nn_linear_backward(c.x, c.w, c.r, NULL, gw, NULL, &e), DL_OK);
  assert_float_equal(f32(gw)[7], 3 * gw0, 1e-5);

  dl_tensor *all[] = {c.x, c.w, c.b, c.y, c.r, gx, gw, gb};
  for (size_t i = 0; i < sizeof all / sizeof *all; i++) dl_tensor_release(all[i]);
}

/* ---------------------------------------------------------------- conv2d */

typedef struct conv_case {
  dl_tensor *x, *w, *b, *y, *r;
  int sh, sw, ph, pw;
} conv_case;

static double conv_loss(void *ctx) {
  conv_case *c = ctx;
  dl_error e;
  int rc = dl_nn_conv2d_forward(c->x, c->w, c->b, c->y, c->sh, c->sw, c->ph, c->pw, NULL, &e);
  if (rc != DL_OK) fail_msg("conv2d_forward: %s", e.msg);
  return dot(c->y, c->r);
}

/* One geometry: x[n,ci,h,w], weight[co,ci,kh,kw], stride, padding. */
static void check_conv(int64_t n, int64_t ci, int64_t h, int64_t w, int64_t co, int64_t kh, int64_t kw,
                       int sh, int sw, int ph, int pw) {
  uint64_t s = (uint64_t)(n * 1000 + h * 10 + kh + sh + ph);
  int64_t xs[4] = {n, ci, h, w}, ws[4] = {co, ci, kh, kw}, bs[1] = {co};
  int64_t ys[4] = {n, co, (h + 2 * ph - kh) / sh + 1, (w + 2 * pw - kw) / sw + 1};
  conv_case c = {make_f32(4, xs, NULL),
                 make_f32(4, ws, NULL),
                 make_f32(1, bs, NULL),
                 make_f32(4, ys, NULL),
                 make_f32(4, ys, NULL),
                 sh,
                 sw,
                 ph,
                 pw};
  fill_uniform(c.x, &s, -1, 1);
  fill_uniform(c.w, &s, -1, 1);
  fill_uniform(c.b, &s, -1, 1);
  fill_uniform(c.r, &s, -1, 1);
  dl_tensor *gx = make_like(c.x), *gw = make_like(c.w), *gb = make_like(c.b);
  fill_uniform(gx, &s, -1, 1); /* must be overwritten */
  dl_error e;
  int rc = dl_nn_conv2d_backward(c.x, c.w, c.r, gx, gw, gb, sh, sw, ph, pw, NULL, &e);
  if (rc != DL_OK) fail_msg("conv2d_backward: %s", e.msg);
  expect_gradient("conv2d grad_x", conv_loss, &c, c.x, gx, 1e-2);
  expect_gradient("conv2d grad_weight", conv_loss, &c, c.w, gw, 1e-2);
  expect_gradient("conv2d grad_bias", conv_loss, &c, c.b, gb, 1e-2);

  /* Keeping the unfolded input from forward gives backward the same answer. */
  int64_t col_shape[2] = {ci * kh * kw, ys[0] * ys[2] * ys[3]};
  dl_tensor *col = make_f32(2, col_shape, NULL), *gx2 = make_like(c.x), *gw2 = make_like(c.w),
            *gb2 = make_like(c.b);
  assert_int_equal(dl_nn_conv2d_forward(c.x, c.w, c.b, c.y, sh, sw, ph, pw, col, NULL), DL_OK);
  assert_int_equal(dl_nn_conv2d_backward(c.x, c.w, c.r, gx2, gw2, gb2, sh, sw, ph, pw, col, NULL), DL_OK);
  expect_close("grad_x with col", f32(gx2), f32(gx), gx->numel, 1e-6);
  expect_close("grad_weight with col", f32(gw2), f32(gw), gw->numel, 1e-6);
  expect_close("grad_bias with col", f32(gb2), f32(gb), gb->numel, 1e-6);
  dl_tensor *all[] = {c.x, c.w, c.b, c.y, c.r, gx, gw, gb, col, gx2, gw2, gb2};
  for (size_t i = 0; i < sizeof all / sizeof *all; i++) dl_tensor_release(all[i]);
}

static void test_conv2d_gradients(void **state) {
  check_conv(2, 2, 5, 5, 3, 3, 3, 1, 1, 0, 0);
  check_conv(2, 3, 6, 7, 2, 3, 3, 2, 2, 1, 1); /* stride 2, padding 1 */
  check_conv(1, 2, 5, 6, 2, 2, 3, 2, 1, 0, 1); /* non-square kernel, mixed stride and padding */
  check_conv(3, 1, 4, 4, 2, 3, 3, 3, 3, 2, 2); /* stride larger than the kernel's overlap, wide padding */
  check_conv(2, 2, 3, 3, 2, 1, 1, 1, 1, 0, 0); /* 1x1 kernel */
}

/* ------------------------------------------------------------- maxpool2d */

typedef struct pool_case {
  dl_tensor *x, *y, *argmax, *r;
  int kh, kw, sh, sw;
} pool_case;

static double pool_loss(void *ctx) {
  pool_case *c = ctx;
  assert_int_equal(dl_nn_maxpool2d_forward(c->x, c->y, c->argmax, c->kh, c->kw, c->sh, c->sw, NULL), DL_OK);
  return dot(c->y, c->r);
}

static void check_pool(int64_t n, int64_t ch, int64_t h, int64_t w, int kh, int kw, int sh, int sw) {
  uint64_t s = (uint64_t)(h * 100 + w * 10 + kh + sh);
  int64_t xs[4] = {n, ch, h, w}, ys[4] = {n, ch, (h - kh) / sh + 1, (w - kw) / sw + 1};
  pool_case c = {make_f32(4, xs, NULL),
                 make_f32(4, ys, NULL),
                 make(DL_I32, 4, ys),
                 make_f32(4, ys, NULL),
                 kh,
                 kw,
                 sh,
                 sw};
  /* Distinct values 0.05 apart in shuffled order, so a step of 1e-3 never
   * changes which element is the maximum. */
  for (int64_t i = 0; i < c.x->numel; i++) f32(c.x)[i] = (float)(0.05 * (double)i - 1.0);
  for (int64_t i = c.x->numel - 1; i > 0; i--) {
    int64_t j = (int64_t)(test_uniform(&s) * (double)(i + 1));
    float t = f32(c.x)[i];
    f32(c.x)[i] = f32(c.x)[j];
    f32(c.x)[j] = t;
  }
  fill_uniform(c.r, &s, -1, 1);
  assert_int_equal(pool_loss(&c) != 0, 1);
  dl_tensor *gx = make_like(c.x);
  assert_int_equal(dl_nn_maxpool2d_backward(c.r, c.argmax, gx, NULL), DL_OK);
  expect_gradient("maxpool2d grad_x", pool_loss, &c, c.x, gx, 1e-3);
  dl_tensor *all[] = {c.x, c.y, c.argmax, c.r, gx};
  for (size_t i = 0; i < sizeof all / sizeof *all; i++) dl_tensor_release(all[i]);
}

static void test_maxpool2d_gradients(void **state) {
  check_pool(2, 2, 4, 6, 2, 2, 2, 2);
  check_pool(1, 3, 7, 7, 3, 3, 2, 2); /* overlapping windows: one input feeds several outputs */
  check_pool(2, 1, 5, 7, 2, 3, 1, 2); /* non-square kernel, odd sizes leave a border unused */
}

/* ------------------------------------------------------ relu and dropout */

typedef struct elementwise_case {
  dl_tensor *x, *y, *r, *mask;
  uint64_t seed;
  double p;
} elementwise_case;

static double relu_loss(void *ctx) {
  elementwise_case *c = ctx;
  assert_int_equal(dl_nn_relu_forward(c->x, c->y, NULL), DL_OK);
  return dot(c->y, c->r);
}

static void test_relu_gradients(void **state) {
  uint64_t s = 7;
  int64_t shape[3] = {2, 3, 4};
  elementwise_case c = {
      make_f32(3, shape, NULL), make_f32(3, shape, NULL), make_f32(3, shape, NULL), NULL, 0, 0};
  fill_away_from_zero(c.x, &s);
  fill_uniform(c.r, &s, -1, 1);
  dl_tensor *gx = make_like(c.x);
  assert_int_equal(dl_nn_relu_backward(c.x, c.r, gx, NULL), DL_OK);
  expect_gradient("relu grad_x", relu_loss, &c, c.x, gx, 1e-2);
  dl_tensor_release(c.x), dl_tensor_release(c.y), dl_tensor_release(c.r), dl_tensor_release(gx);
}

/* The generator restarts from the same seed at every evaluation, so the
 * mask stays fixed while x moves. */
static double dropout_loss(void *ctx) {
  elementwise_case *c = ctx;
  uint64_t rng = c->seed;
  assert_int_equal(dl_nn_dropout_forward(c->x, c->p, &rng, c->mask, c->y, NULL), DL_OK);
  return dot(c->y, c->r);
}

static void test_dropout_gradients(void **state) {
  uint64_t s = 11;
  int64_t shape[2] = {6, 8};
  elementwise_case c = {make_f32(2, shape, NULL),
                        make_f32(2, shape, NULL),
                        make_f32(2, shape, NULL),
                        make(DL_U8, 2, shape),
                        42,
                        0.3};
  fill_uniform(c.x, &s, -1, 1);
  fill_uniform(c.r, &s, -1, 1);
  dropout_loss(&c);
  int kept = 0;
  for (int64_t i = 0; i < c.mask->numel; i++) kept += ((uint8_t *)c.mask->ptr)[i];
  assert_true(kept > 0 && kept < c.mask->numel); /* both branches are exercised */
  dl_tensor *gx = make_like(c.x);
  assert_int_equal(dl_nn_dropout_backward(c.r, c.mask, c.p, gx, NULL), DL_OK);
  expect_gradient("dropout grad_x", dropout_loss, &c, c.x, gx, 1e-2);
  dl_tensor_release(c.x), dl_tensor_release(c.y), dl_tensor_release(c.r), dl_tensor_release(c.mask);
  dl_tensor_release(gx);
}

/* --------------------------------------------------------- cross-entropy */

typedef struct ce_case {
  dl_tensor *logits, *labels;
} ce_case;

static double ce_loss(void *ctx) {
  ce_case *c = ctx;
  double loss;
  assert_int_equal(dl_nn_cross_entropy(c->logits, c->labels, 0, &loss, NULL, NULL), DL_OK);
  return loss;
}

static void test_cross_entropy_gradients(void **state) {
  uint64_t s = 5;
  int64_t ls[2] = {4, 5}, ns[1] = {4};
  ce_case c = {make_f32(2, ls, NULL), make(DL_I64, 1, ns)};
  fill_uniform(c.logits, &s, -3, 3);
  int64_t labels[4] = {0, 4, 2, 2};
  memcpy(c.labels->ptr, labels, sizeof labels);
  dl_tensor *g = make_like(c.logits);
  double loss;
  assert_int_equal(dl_nn_cross_entropy(c.logits, c.labels, 0, &loss, g, NULL), DL_OK);
  expect_gradient("cross_entropy grad_logits", ce_loss, &c, c.logits, g, 1e-3);
  dl_tensor_release(c.logits), dl_tensor_release(c.labels), dl_tensor_release(g);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_linear_gradients),    cmocka_unit_test(test_conv2d_gradients),
      cmocka_unit_test(test_maxpool2d_gradients), cmocka_unit_test(test_relu_gradients),
      cmocka_unit_test(test_dropout_gradients),   cmocka_unit_test(test_cross_entropy_gradients),
  };
  return cmocka_run_group_tests_name("nn gradients", tests, NULL, NULL);
}
