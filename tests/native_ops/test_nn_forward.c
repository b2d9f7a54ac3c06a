/* Forward values of the nn kernels against hand-worked results and a naive
 * direct convolution, plus the errors bad arguments must produce. */
#include "nn_testing.h"

static void test_linear_forward_by_hand(void **state) {
  int64_t xs[2] = {2, 3}, ws[2] = {2, 3}, bs[1] = {2}, ys[2] = {2, 2};
  dl_tensor *x = make_f32(2, xs, (float[]){1, 2, 3, 4, 5, 6});
  dl_tensor *w = make_f32(2, ws, (float[]){1, 0, -1, 0.5f, 0.5f, 0.5f});
  dl_tensor *b = make_f32(1, bs, (float[]){0.1f, -0.2f});
  dl_tensor *y = make_f32(2, ys, NULL);
  assert_int_equal(dl_nn_linear_forward(x, w, b, y, NULL), DL_OK);
  expect_close("linear y", f32(y), (float[]){-1.9f, 2.8f, -1.9f, 7.3f}, 4, 1e-6);
  assert_int_equal(dl_nn_linear_forward(x, w, NULL, y, NULL), DL_OK);
  expect_close("linear y without bias", f32(y), (float[]){-2, 3, -2, 7.5f}, 4, 1e-6);
  dl_tensor_release(x), dl_tensor_release(w), dl_tensor_release(b), dl_tensor_release(y);
}

static void test_conv2d_forward_by_hand(void **state) {
  /* x = 1..9 in a 3x3 plane, weight [[1, 0], [0, -1]]: y = x[i][j] - x[i+1][j+1]. */
  int64_t xs[4] = {1, 1, 3, 3}, ws[4] = {1, 1, 2, 2}, ys[4] = {1, 1, 2, 2};
  dl_tensor *x = make_f32(4, xs, (float[]){1, 2, 3, 4, 5, 6, 7, 8, 9});
  dl_tensor *w = make_f32(4, ws, (float[]){1, 0, 0, -1});
  dl_tensor *y = make_f32(4, ys, NULL);
  assert_int_equal(dl_nn_conv2d_forward(x, w, NULL, y, 1, 1, 0, 0, NULL, NULL), DL_OK);
  expect_close("conv y", f32(y), (float[]){-4, -4, -4, -4}, 4, 0);
  /* Padding 1, stride 2: windows start at (-1,-1), (-1,1), (1,-1), (1,1);
   * padded taps read 0, so y = [0 - 1, 0 - 3; 0 - 7, 5 - 9]. */
  assert_int_equal(dl_nn_conv2d_forward(x, w, NULL, y, 2, 2, 1, 1, NULL, NULL), DL_OK);
  expect_close("conv y, stride 2 padding 1", f32(y), (float[]){-1, -3, -7, -4}, 4, 0);
  dl_tensor_release(x), dl_tensor_release(w), dl_tensor_release(y);
}

/* The definition of the op, one output at a time. */
static void naive_conv(const dl_tensor *x, const dl_tensor *w, const dl_tensor *b, int sh, int sw, int ph,
                       int pw, dl_tensor *y) {
  const int64_t n = x->shape[0], c = x->shape[1], h = x->shape[2], wd = x->shape[3];
  const int64_t o = w->shape[0], kh = w->shape[2], kw = w->shape[3], oh = y->shape[2], ow = y->shape[3];
  for (int64_t in = 0; in < n; in++)
    for (int64_t io = 0; io < o; io++)
      for (int64_t oy = 0; oy < oh; oy++)
        for (int64_t ox = 0; ox < ow; ox++) {
          double s = b ? f32(b)[io] : 0;
          for (int64_t ic = 0; ic < c; ic++)
            for (int64_t ky = 0; ky < kh; ky++)
              for (int64_t kx = 0; kx < kw; kx++) {
                int64_t iy = oy * sh - ph + ky, ix = ox * sw - pw + kx;
                if (iy < 0 || iy >= h || ix < 0 || ix >= wd) continue;
                s += (double)f32(x)[((in * c + ic) * h + iy) * wd + ix] *
                     f32(w)[((io * c + ic) * kh + ky) * kw + kx];
              }
          f32(y)[((in * o + io) * oh + oy) * ow + ox] = (float)s;
        }
}

static void check_against_naive(int64_t n, int64_t c, int64_t h, int64_t w, int64_t o, int64_t kh, int64_t kw,
                                int sh, int sw, int ph, int pw) {
  uint64_t s = (uint64_t)(o * 31 + h);
  int64_t xs[4] = {n, c, h, w}, ws[4] = {o, c, kh, kw}, bs[1] = {o};
  int64_t ys[4] = {n, o, (h + 2 * ph - kh) / sh + 1, (w + 2 * pw - kw) / sw + 1};
  dl_tensor *x = make_f32(4, xs, NULL), *wt = make_f32(4, ws, NULL), *b = make_f32(1, bs, NULL);
  dl_tensor *y = make_f32(4, ys, NULL), *want = make_f32(4, ys, NULL);
  fill_uniform(x, &s, -1, 1), fill_uniform(wt, &s, -1, 1), fill_uniform(b, &s, -1, 1);
  dl_error e;
  if (dl_nn_conv2d_forward(x, wt, b, y, sh, sw, ph, pw, NULL, &e) != DL_OK)
    fail_msg("conv2d_forward: %s", e.msg);
  naive_conv(x, wt, b, sh, sw, ph, pw, want);
  expect_close("conv y vs naive", f32(y), f32(want), y->numel, 1e-4);
  dl_tensor_release(x), dl_tensor_release(wt), dl_tensor_release(b), dl_tensor_release(y),
      dl_tensor_release(want);
}

static void test_conv2d_forward_matches_naive(void **state) {
  check_against_naive(2, 3, 8, 9, 4, 3, 3, 1, 1, 1, 1);
  check_against_naive(3, 2, 9, 7, 5, 3, 2, 2, 3, 1, 0);
  check_against_naive(1, 4, 6, 6, 2, 5, 5, 1, 1, 2, 2);
  check_against_naive(2, 1, 28, 28, 8, 3, 3, 1, 1, 1, 1);
  /* Samples whose columns are larger than a cache. */
  check_against_naive(3, 1, 128, 128, 200, 3, 3, 1, 1, 0, 0);
}

/* Backward of a batch must equal the sum over single-sample calls
 * (grad_weight, grad_bias) and their concatenation (grad_x), whether the
 * samples' weight gradients are summed in one group each or several to a
 * group (more samples than groups). */
static void check_backward_sums_over_samples(int64_t n, int64_t c, int64_t h, int64_t w, int64_t o, int pad) {
  uint64_t s = 3;
  const int64_t oh = h + 2 * pad - 2, ow = w + 2 * pad - 2;
  int64_t xs[4] = {n, c, h, w}, ws[4] = {o, c, 3, 3}, bs[1] = {o}, ys[4] = {n, o, oh, ow};
  dl_tensor *x = make_f32(4, xs, NULL), *wt = make_f32(4, ws, NULL), *gy = make_f32(4, ys, NULL);
  fill_uniform(x, &s, -1, 1), fill_uniform(wt, &s, -1, 1), fill_uniform(gy, &s, -1, 1);
  dl_tensor *gx = make_like(x), *gw = make_like(wt), *gb = make_f32(1, bs, NULL);
  dl_error e;
  if (dl_nn_conv2d_backward(x, wt, gy, gx, gw, gb, 1, 1, pad, pad, NULL, &e) != DL_OK)
    fail_msg("backward: %s", e.msg);

  int64_t x1s[4] = {1, c, h, w}, y1s[4] = {1, o, oh, ow};
  dl_tensor *x1 = make_f32(4, x1s, NULL), *gy1 = make_f32(4, y1s, NULL), *gx1 = make_like(x1);
  dl_tensor *gw_sum = make_like(wt), *gb_sum = make_f32(1, bs, NULL);
  for (int64_t i = 0; i < n; i++) {
    memcpy(x1->ptr, f32(x) + i * x1->numel, (size_t)x1->numel * sizeof(float));
    memcpy(gy1->ptr, f32(gy) + i * gy1->numel, (size_t)gy1->numel * sizeof(float));
    assert_int_equal(dl_nn_conv2d_backward(x1, wt, gy1, gx1, gw_sum, gb_sum, 1, 1, pad, pad, NULL, NULL),
                     DL_OK);
    expect_close("grad_x of one sample", f32(gx) + i * x1->numel, f32(gx1), x1->numel, 1e-5);
  }
  expect_close("grad_weight", f32(gw), f32(gw_sum), gw->numel, 1e-4);
  expect_close("grad_bias", f32(gb), f32(gb_sum), gb->numel, 1e-4);
  dl_tensor *all[] = {x, wt, gy, gx, gw, gb, x1, gy1, gx1, gw_sum, gb_sum};
  for (size_t i = 0; i < sizeof all / sizeof *all; i++) dl_tensor_release(all[i]);
}

static void test_conv2d_backward_sums_over_samples(void **state) {
  check_backward_sums_over_samples(3, 1, 128, 128, 200, 0);
  check_backward_sums_over_samples(37, 2, 6, 7, 3, 1); /* 37 samples in 16 groups of 2 or 3 */
}

/* col kept from forward gives the same results, and backward leaves it
 * intact: a second backward without a new forward adds the same grads. */
static void test_conv2d_col_from_forward(void **state) {
  uint64_t s = 4;
  const int64_t n = 5, c = 3, h = 9, w = 8, o = 4;
  int64_t xs[4] = {n, c, h, w}, ws[4] = {o, c, 3, 3}, ys[4] = {n, o, h, w};
  dl_tensor *x = make_f32(4, xs, NULL), *wt = make_f32(4, ws, NULL), *gy = make_f32(4, ys, NULL);
  fill_uniform(x, &s, -1, 1), fill_uniform(wt, &s, -1, 1), fill_uniform(gy, &s, -1, 1);
  dl_tensor *y = make_f32(4, ys, NULL), *want_y = make_f32(4, ys, NULL);
  dl_tensor *gx = make_like(x), *gw = make_like(wt), *gx_col = make_like(x), *gw_col = make_like(wt);
  int64_t col_shape[2] = {c * 9, n * h * w};
  dl_tensor *col = make_f32(2, col_shape, NULL);
  assert_int_equal(dl_nn_conv2d_forward(x, wt, NULL, want_y, 1, 1, 1, 1, NULL, NULL), DL_OK);
  assert_int_equal(dl_nn_conv2d_backward(x, wt, gy, gx, gw, NULL, 1, 1, 1, 1, NULL, NULL), DL_OK);
  assert_int_equal(dl_nn_conv2d_forward(x, wt, NULL, y, 1, 1, 1, 1, col, NULL), DL_OK);
  assert_memory_equal(f32(y), f32(want_y), (size_t)y->numel * sizeof(float));
  assert_int_equal(dl_nn_conv2d_backward(x, wt, gy, gx_col, gw_col, NULL, 1, 1, 1, 1, col, NULL), DL_OK);
  assert_memory_equal(f32(gx_col), f32(gx), (size_t)gx->numel * sizeof(float));
  assert_memory_equal(f32(gw_col), f32(gw), (size_t)gw->numel * sizeof(float));
  assert_int_equal(dl_nn_conv2d_backward(x, wt, gy, NULL, gw_col, NULL, 1, 1, 1, 1, col, NULL), DL_OK);
  for (int64_t i = 0; i < gw->numel; i++) f32(gw)[i] *= 2;
  expect_close("grad_weight twice, with col", f32(gw_col), f32(gw), gw->numel, 1e-5);
  int64_t bad_shape[2] = {c * 9, 7};
  dl_tensor *bad_col = make_f32(2, bad_shape, NULL);
  dl_error e;
  assert_int_equal(dl_nn_conv2d_forward(x, wt, NULL, y, 1, 1, 1, 1, bad_col, &e), DL_E_SHAPE);
  assert_non_null(strstr(e.msg, "col has shape [27, 7], expected [27, 360]"));
  dl_tensor *all[] = {x, wt, gy, y, want_y, gx, gw, gx_col, gw_col, col, bad_col};
  for (size_t i = 0; i < sizeof all / sizeof *all; i++) dl_tensor_release(all[i]);
}

static void test_maxpool2d_ties_and_nan(void **state) {
  /* Windows [1 3; 3 0] and [2 2; NaN 1]: the first of the tied 3s wins
   * (index 1, not 4), and NaN wins over numbers (index 6). */
  int64_t xs[4] = {1, 1, 2, 4}, ys[4] = {1, 1, 1, 2};
  dl_tensor *x = make_f32(4, xs, (float[]){1, 3, 2, 2, 3, 0, NAN, 1});
  dl_tensor *y = make_f32(4, ys, NULL), *argmax = make(DL_I32, 4, ys);
  assert_int_equal(dl_nn_maxpool2d_forward(x, y, argmax, 2, 2, 2, 2, NULL), DL_OK);
  assert_float_equal(f32(y)[0], 3, 0);
  assert_true(isnan(f32(y)[1]));
  assert_int_equal(((int32_t *)argmax->ptr)[0], 1);
  assert_int_equal(((int32_t *)argmax->ptr)[1], 6);

  /* Backward puts each gradient at its argmax. */
  dl_tensor *gy = make_f32(4, ys, (float[]){0.5f, -2}), *gx = make_like(x);
  assert_int_equal(dl_nn_maxpool2d_backward(gy, argmax, gx, NULL), DL_OK);
  expect_close("maxpool grad_x", f32(gx), (float[]){0, 0.5f, 0, 0, 0, 0, -2, 0}, 8, 0);

  /* A corrupt argmax is refused before anything is written. */
  ((int32_t *)argmax->ptr)[1] = 8;
  dl_error e;
  assert_int_equal(dl_nn_maxpool2d_backward(gy, argmax, gx, &e), DL_E_RANGE);
  assert_non_null(strstr(e.msg, "argmax[1] = 8"));
  assert_float_equal(f32(gx)[1], 0.5f, 0);
  dl_tensor_release(x), dl_tensor_release(y), dl_tensor_release(argmax), dl_tensor_release(gy);
  dl_tensor_release(gx);
}

/* The first maximum in row order, or the first NaN, of the 2x2 window whose
 * top-left element is in[first] (rows w apart): the definition. */
static int64_t naive_argmax_2x2(const float *in, int64_t first, int64_t w) {
  const int64_t at[4] = {first, first + 1, first + w, first + w + 1};
  for (int i = 0; i < 4; i++)
    if (isnan(in[at[i]])) return at[i];
  int64_t best = at[0];
  for (int i = 1; i < 4; i++) {
    const float v = in[at[i]], b = in[best];
    if (v > b || (v == 0 && b == 0 && signbit(b) && !signbit(v))) best = at[i]; /* +0 beats -0 */
  }
  return best;
}

/* 2x2 windows at stride 2 on planes wide enough for four windows at a time
 * and a remainder, with ties, signed zeros, infinities and NaNs of both
 * signs in every lane: the same choice as the definition. */
static void test_maxpool2d_2x2_special_values_in_every_lane(void **state) {
  const float special[] = {0.0f, -0.0f, 1.0f, 1.0f, -INFINITY, INFINITY, NAN, -NAN, 2.5f, -3.0f};
  const int64_t h = 6, w = 22, planes = 3;
  int64_t xs[4] = {1, planes, h, w}, ys[4] = {1, planes, h / 2, w / 2};
  dl_tensor *x = make_f32(4, xs, NULL), *y = make_f32(4, ys, NULL), *argmax = make(DL_I32, 4, ys);
  uint64_t s = 5;
  for (int64_t i = 0; i < x->numel; i++) f32(x)[i] = special[(int)(test_uniform(&s) * 10)];
  assert_int_equal(dl_nn_maxpool2d_forward(x, y, argmax, 2, 2, 2, 2, NULL), DL_OK);
  for (int64_t p = 0; p < planes; p++)
    for (int64_t oy = 0; oy < h / 2; oy++)
      for (int64_t ox = 0; ox < w / 2; ox++) {
        const float *in = f32(x) + p * h * w;
        const int64_t o = (p * (h / 2) + oy) * (w / 2) + ox;
        const int64_t want = naive_argmax_2x2(in, 2 * oy * w + 2 * ox, w);
        if (((int32_t *)argmax->ptr)[o] != want)
          fail_msg("plane %lld window (%lld, %lld): argmax %d, want %lld", (long long)p, (long long)oy,
                   (long long)ox, ((int32_t *)argmax->ptr)[o], (long long)want);
        assert_memory_equal(&f32(y)[o], &in[want], sizeof(float));
      }
  dl_tensor_release(x), dl_tensor_release(y), dl_tensor_release(argmax);
}

static void test_relu_in_place(void **state) {
  int64_t shape[1] = {5};
  dl_tensor *x = make_f32(1, shape, (float[]){-1, 0, 2, -0.5f, NAN});
  assert_int_equal(dl_nn_relu_forward(x, x, NULL), DL_OK);
  expect_close("relu", f32(x), (float[]){0, 0, 2, 0}, 4, 0);
  assert_true(isnan(f32(x)[4])); /* NaN is not hidden as 0 */
  dl_tensor_release(x);
}

/* Large enough that ReLU and max-pool split the work over threads: every
 * element must still follow the definition. */
static void test_large_inputs_match_the_definition(void **state) {
  uint64_t s = 21;
  int64_t shape[4] = {4, 16, 64, 63}, pooled[4] = {4, 16, 21, 31};
  dl_tensor *x = make_f32(4, shape, NULL), *y = make_like(x), *g = make_like(x), *gx = make_like(x);
  fill_uniform(x, &s, -1, 1);
  fill_uniform(g, &s, -1, 1);
  assert_int_equal(dl_nn_relu_forward(x, y, NULL), DL_OK);
  assert_int_equal(dl_nn_relu_backward(x, g, gx, NULL), DL_OK);
  for (int64_t i = 0; i < x->numel; i++) {
    const float v = f32(x)[i];
    if (f32(y)[i] != (v > 0 ? v : 0) || f32(gx)[i] != (v > 0 ? f32(g)[i] : 0))
      fail_msg("relu at %lld: x %g -> y %g, grad %g", (long long)i, v, f32(y)[i], f32(gx)[i]);
  }
  /* 3x2 windows, stride (3, 2): the last row and column of each plane are left out */
  dl_tensor *py = make_f32(4, pooled, NULL), *arg = make(DL_I32, 4, pooled), *pg = make_f32(4, pooled, NULL);
  dl_tensor *want_gx = make_like(x);
  fill_uniform(pg, &s, -1, 1);
  fill_uniform(gx, &s, -1, 1); /* backward must overwrite all of it */
  assert_int_equal(dl_nn_maxpool2d_forward(x, py, arg, 3, 2, 3, 2, NULL), DL_OK);
  assert_int_equal(dl_nn_maxpool2d_backward(pg, arg, gx, NULL), DL_OK);
  for (int64_t plane = 0; plane < 4 * 16; plane++)
    for (int64_t oy = 0; oy < 21; oy++)
      for (int64_t ox = 0; ox < 31; ox++) {
        const float *in = f32(x) + plane * 64 * 63;
        int64_t best = oy * 3 * 63 + ox * 2;
        for (int64_t ky = 0; ky < 3; ky++)
          for (int64_t kx = 0; kx < 2; kx++)
            if (in[(oy * 3 + ky) * 63 + ox * 2 + kx] > in[best]) best = (oy * 3 + ky) * 63 + ox * 2 + kx;
        const int64_t at = (plane * 21 + oy) * 31 + ox;
        if (((int32_t *)arg->ptr)[at] != best || f32(py)[at] != in[best])
          fail_msg("maxpool plane %lld (%lld, %lld): argmax %d, expected %lld", (long long)plane,
                   (long long)oy, (long long)ox, ((int32_t *)arg->ptr)[at], (long long)best);
        f32(want_gx)[plane * 64 * 63 + best] = f32(pg)[at]; /* windows do not overlap */
      }
  expect_close("maxpool grad_x", f32(gx), f32(want_gx), gx->numel, 0);
  dl_tensor *all[] = {x, y, g, gx, py, arg, pg, want_gx};
  for (size_t i = 0; i < sizeof all / sizeof *all; i++) dl_tensor_release(all[i]);
}

static void test_dropout_statistics_and_seed(void **state) {
  int64_t shape[2] = {200, 500};
  dl_tensor *x = make_f32(2, shape, NULL), *y = make_like(x), *y2 = make_like(x);
  dl_tensor *mask = make(DL_U8, 2, shape), *mask2 = make(DL_U8, 2, shape);
  for (int64_t i = 0; i < x->numel; i++) f32(x)[i] = 2.0f;
  uint64_t rng = 99, rng2 = 99;
  assert_int_equal(dl_nn_dropout_forward(x, 0.3, &rng, mask, y, NULL), DL_OK);
  int64_t kept = 0;
  for (int64_t i = 0; i < x->numel; i++) {
    uint8_t m = ((uint8_t *)mask->ptr)[i];
    kept += m;
    /* kept values are scaled by 1 / (1 - p) */
    if (f32(y)[i] != (m ? (float)(2.0 / 0.7) : 0.0f))
      fail_msg("y[%lld] = %g with mask %d", (long long)i, f32(y)[i], m);
  }
  double fraction = (double)kept / (double)x->numel; /* 100000 draws: sd of the fraction is 0.0014 */
  assert_true(fraction > 0.69 && fraction < 0.71);

  /* Same seed, same mask; the state moved on, so the next call differs. */
  assert_int_equal(dl_nn_dropout_forward(x, 0.3, &rng2, mask2, y2, NULL), DL_OK);
  assert_memory_equal(mask->ptr, mask2->ptr, (size_t)mask->numel);
  assert_int_equal(rng, rng2);
  assert_int_equal(dl_nn_dropout_forward(x, 0.3, &rng2, mask2, y2, NULL), DL_OK);
  assert_memory_not_equal(mask->ptr, mask2->ptr, (size_t)mask->numel);

  /* p = 0 keeps everything unchanged, p = 1 drops everything. */
  assert_int_equal(dl_nn_dropout_forward(x, 0.0, &rng, mask, y, NULL), DL_OK);
  assert_memory_equal(x->ptr, y->ptr, (size_t)x->numel * sizeof(float));
  assert_int_equal(dl_nn_dropout_forward(x, 1.0, &rng, mask, y, NULL), DL_OK);
  for (int64_t i = 0; i < x->numel; i++) assert_float_equal(f32(y)[i], 0, 0);
  dl_error e;
  assert_int_equal(dl_nn_dropout_forward(x, 1.5, &rng, mask, y, &e), DL_E_INVAL);
  assert_non_null(strstr(e.msg, "p = 1.5"));
  assert_int_equal(dl_nn_dropout_forward(x, NAN, &rng, mask, y, &e), DL_E_INVAL);
  dl_tensor *all[] = {x, y, y2, mask, mask2};
  for (size_t i = 0; i < sizeof all / sizeof *all; i++) dl_tensor_release(all[i]);
}

static void test_fill_uniform(void **state) {
  int64_t shape[1] = {100000};
  dl_tensor *t = make_f32(1, shape, NULL), *u = make_f32(1, shape, NULL);
  uint64_t rng = 5, rng2 = 5;
  assert_int_equal(dl_nn_fill_uniform(t, -0.25, 0.75, &rng, NULL), DL_OK);
  double sum = 0, lo = 1, hi = -1;
  for (int64_t i = 0; i < t->numel; i++) {
    sum += f32(t)[i];
    lo = fmin(lo, f32(t)[i]), hi = fmax(hi, f32(t)[i]);
  }
  /* mean 0.25 (sd of the mean 0.0009), and the range is nearly covered */
  assert_true(fabs(sum / (double)t->numel - 0.25) < 0.005);
  assert_true(lo >= -0.25 && lo < -0.249 && hi <= 0.75 && hi > 0.749);
  assert_int_equal(dl_nn_fill_uniform(u, -0.25, 0.75, &rng2, NULL), DL_OK);
  assert_memory_equal(t->ptr, u->ptr, (size_t)t->numel * sizeof(float)); /* same seed, same values */
  dl_error e;
  assert_int_equal(dl_nn_fill_uniform(t, 1, -1, &rng, &e), DL_E_INVAL);
  assert_non_null(strstr(e.msg, "range [1, -1)"));
  assert_int_equal(dl_nn_fill_uniform(t, 0, 1, NULL, &e), DL_E_INVAL);
  dl_tensor_release(t), dl_tensor_release(u);
}

static void test_cross_entropy_by_hand(void **state) {
  /* Row 0: equal logits over 3 classes -> loss ln 3, softmax 1/3 each.
   * Row 1: [1000, 0, 0] with label 0 -> loss ~0 (no overflow).
   * Row 2: [0, 1000, 0] with label 0 -> loss ~1000. */
  int64_t ls[2] = {3, 3}, ns[1] = {3};
  dl_tensor *logits = make_f32(2, ls, (float[]){0, 0, 0, 1000, 0, 0, 0, 1000, 0});
  dl_tensor *labels = make(DL_I64, 1, ns), *g = make_like(logits);
  memcpy(labels->ptr, (int64_t[]){1, 0, 0}, 3 * sizeof(int64_t));
  double loss = 0;
  assert_int_equal(dl_nn_cross_entropy(logits, labels, 0, &loss, g, NULL), DL_OK);
  assert_float_equal(loss, (log(3.0) + 0 + 1000) / 3, 1e-9);
  const float third = 1.0f / 3;
  expect_close("grad_logits", f32(g),
               (float[]){third / 3, -2 * third / 3, third / 3, 0, 0, 0, -third, third, 0}, 9, 1e-6);

  /* I32 labels work the same. */
  dl_tensor *labels32 = make(DL_I32, 1, ns);
  memcpy(labels32->ptr, (int32_t[]){1, 0, 0}, 3 * sizeof(int32_t));
  double loss32 = 0;
  assert_int_equal(dl_nn_cross_entropy(logits, labels32, 0, &loss32, NULL, NULL), DL_OK);
  assert_float_equal(loss32, loss, 0);

  dl_error e;
  ((int64_t *)labels->ptr)[2] = 3;
  assert_int_equal(dl_nn_cross_entropy(logits, labels, 0, &loss, g, &e), DL_E_RANGE);
  assert_non_null(strstr(e.msg, "labels[2] = 3 is outside 0..2"));
  ((int64_t *)labels->ptr)[2] = 0;
  f32(logits)[4] = NAN;
  assert_int_equal(dl_nn_cross_entropy(logits, labels, 0, &loss, g, &e), DL_E_NUMERIC);
  assert_non_null(strstr(e.msg, "row 1"));
  dl_tensor *as_float = make_f32(1, ns, NULL);
  assert_int_equal(dl_nn_cross_entropy(logits, as_float, 0, &loss, g, &e), DL_E_DTYPE);
  assert_non_null(strstr(e.msg, "labels has dtype f32"));
  dl_tensor_release(logits), dl_tensor_release(labels), dl_tensor_release(labels32), dl_tensor_release(g);
  dl_tensor_release(as_float);
}

static void test_bad_arguments(void **state) {
  int64_t xs[2] = {2, 3}, ws[2] = {4, 5}, ys[2] = {2, 4}, img[4] = {1, 2, 5, 5}, cw[4] = {3, 2, 7, 7};
  dl_tensor *x = make_f32(2, xs, NULL), *w = make_f32(2, ws, NULL), *y = make_f32(2, ys, NULL);
  dl_tensor *xi = make_f32(4, img, NULL), *wi = make_f32(4, cw, NULL);
  dl_error e;

  assert_int_equal(dl_nn_linear_forward(x, w, NULL, y, &e), DL_E_SHAPE);
  assert_non_null(strstr(e.msg, "x has 3 features per row but weight [4, 5] expects 5"));
  assert_int_equal(dl_nn_linear_forward(NULL, w, NULL, y, &e), DL_E_INVAL);
  assert_non_null(strstr(e.msg, "x is NULL"));
  assert_int_equal(dl_nn_linear_forward(xi, w, NULL, y, &e), DL_E_SHAPE);
  assert_non_null(strstr(e.msg, "x has shape [1, 2, 5, 5], expected 2 dims"));
  int64_t ws_ok[2] = {4, 3};
  dl_tensor *w_ok = make_f32(2, ws_ok, NULL), *y_bad = make_f32(2, xs, NULL);
  assert_int_equal(dl_nn_linear_forward(x, w_ok, NULL, y_bad, &e), DL_E_SHAPE);
  assert_non_null(strstr(e.msg, "y has shape [2, 3], expected [2, 4]"));

  /* A transposed view is refused instead of being read as if it were dense. */
  dl_tensor transposed = *w_ok;
  transposed.shape[0] = 3, transposed.shape[1] = 4, transposed.strides[0] = 1, transposed.strides[1] = 3;
  assert_int_equal(dl_nn_linear_forward(x, &transposed, NULL, y, &e), DL_E_INVAL);
  assert_non_null(strstr(e.msg, "weight is not contiguous"));

  int64_t cy[4] = {1, 3, 1, 1};
  dl_tensor *yc = make_f32(4, cy, NULL);
  assert_int_equal(dl_nn_conv2d_forward(xi, wi, NULL, yc, 1, 1, 0, 0, NULL, &e), DL_E_SHAPE);
  assert_non_null(strstr(e.msg, "kernel 7x7 is larger than the padded input 5x5"));
  assert_int_equal(dl_nn_conv2d_forward(xi, wi, NULL, yc, 0, 1, 1, 1, NULL, &e), DL_E_INVAL);
  assert_non_null(strstr(e.msg, "stride (0, 1)"));
  assert_int_equal(dl_nn_conv2d_forward(xi, wi, NULL, yc, 1, 1, -1, 0, NULL, &e), DL_E_INVAL);
  assert_int_equal(dl_nn_conv2d_forward(xi, w, NULL, yc, 1, 1, 0, 0, NULL, &e), DL_E_SHAPE);
  /* padding 1 makes the 7x7 kernel fit exactly once */
  assert_int_equal(dl_nn_conv2d_forward(xi, wi, NULL, yc, 1, 1, 1, 1, NULL, &e), DL_OK);
  /* Absurd padding is refused before any size computation can overflow. */
  assert_int_equal(dl_nn_conv2d_forward(xi, wi, NULL, yc, 1, 1, 2147483647, 2147483647, NULL, &e),
                   DL_E_TOO_LARGE);
  assert_non_null(strstr(e.msg, "too large"));
  assert_int_equal(dl_nn_conv2d_forward(xi, wi, NULL, yc, 1, 1, 100000, 100000, NULL, &e), DL_E_TOO_LARGE);
  int64_t cw3[4] = {3, 3, 3, 3};
  dl_tensor *w3 = make_f32(4, cw3, NULL);
  assert_int_equal(dl_nn_conv2d_forward(xi, w3, NULL, yc, 1, 1, 0, 0, NULL, &e), DL_E_SHAPE);
  assert_non_null(strstr(e.msg, "x has 2 channels but weight [3, 3, 3, 3] expects 3"));

  int64_t ps[4] = {1, 2, 2, 2};
  dl_tensor *py = make_f32(4, ps, NULL), *pa = make(DL_I32, 4, ps), *pa64 = make(DL_I64, 4, ps);
  assert_int_equal(dl_nn_maxpool2d_forward(xi, py, pa, 2, 2, 2, 2, &e), DL_OK);
  assert_int_equal(dl_nn_maxpool2d_forward(xi, py, pa64, 2, 2, 2, 2, &e), DL_E_DTYPE);
  assert_non_null(strstr(e.msg, "argmax has dtype i64, expected i32"));
  assert_int_equal(dl_nn_maxpool2d_forward(xi, py, pa, 6, 2, 2, 2, &e), DL_E_SHAPE);
  assert_int_equal(dl_nn_maxpool2d_forward(xi, py, pa, 2, 2, 0, 2, &e), DL_E_INVAL);
  assert_int_equal(dl_nn_maxpool2d_forward(xi, py, pa, 2, 2, 1, 1, &e), DL_E_SHAPE);
  assert_non_null(strstr(e.msg, "y has shape [1, 2, 2, 2], expected [1, 2, 4, 4]"));

  assert_int_equal(dl_nn_relu_forward(x, y, &e), DL_E_SHAPE);
  assert_non_null(strstr(e.msg, "y has shape [2, 4], expected [2, 3] (the shape of x)"));

  dl_tensor *all[] = {x, w, y, xi, wi, w_ok, y_bad, yc, w3, py, pa, pa64};
  for (size_t i = 0; i < sizeof all / sizeof *all; i++) dl_tensor_release(all[i]);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_linear_forward_by_hand),
      cmocka_unit_test(test_conv2d_forward_by_hand),
      cmocka_unit_test(test_conv2d_forward_matches_naive),
      cmocka_unit_test(test_conv2d_backward_sums_over_samples),
      cmocka_unit_test(test_conv2d_col_from_forward),
      cmocka_unit_test(test_maxpool2d_ties_and_nan),
      cmocka_unit_test(test_maxpool2d_2x2_special_values_in_every_lane),
      cmocka_unit_test(test_relu_in_place),
      cmocka_unit_test(test_large_inputs_match_the_definition),
      cmocka_unit_test(test_dropout_statistics_and_seed),
      cmocka_unit_test(test_fill_uniform),
      cmocka_unit_test(test_cross_entropy_by_hand),
      cmocka_unit_test(test_bad_arguments),
  };
  return cmocka_run_group_tests_name("nn forward", tests, NULL, NULL);
}
