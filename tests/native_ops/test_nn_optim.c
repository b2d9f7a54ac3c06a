/* SGD and Adam steps against values computed independently: by hand for the
 * first step, and by tests/native_ops/nn_optim_reference.py (a float64
 * numpy statement of the torch.optim update rules) for three steps. */
#include "nn_testing.h"

/* Output of nn_optim_reference.py: the parameter after three steps. */
static const float SGD_PLAIN[4] = {0.98f, -1.995f, 0.405f, 0.1999f};
static const float SGD_MOMENTUM_WD[4] = {0.880094749f, -1.95911457f, 0.258547299f, 0.1998101f};
static const float SGD_DAMPENING[4] = {0.9467f, -1.9821f, 0.38815f, 0.069937f};
static const float SGD_NESTEROV[4] = {0.869465558f, -1.95233988f, 0.186803265f, 0.379729361f};
static const float ADAM_DEFAULT[4] = {0.981032597f, -1.98896944f, 0.481016351f, -0.00105600255f};
static const float ADAM_WD[4] = {0.896398731f, -1.88461625f, 0.404575137f, 0.0190160918f};

/* The same inputs as the script. */
static const float P0[4] = {1.0f, -2.0f, 0.5f, 0.0f};
static const float GRADS[3][4] = {
    {0.5f, -0.25f, 1.0f, 0.0f}, {0.1f, 0.2f, -0.3f, 1e-3f}, {-0.4f, 0.0f, 0.25f, -2.0f}};
static const int64_t SHAPE[2] = {2, 2};

static void run_sgd(dl_nn_sgd_opts opts, const float *want) {
  dl_tensor *p = make_f32(2, SHAPE, P0), *g = make_f32(2, SHAPE, NULL), *v = make_f32(2, SHAPE, NULL);
  dl_error e;
  for (int step = 1; step <= 3; step++) {
    memcpy(g->ptr, GRADS[step - 1], sizeof GRADS[0]);
    int rc = dl_nn_sgd_step(p, g, opts.momentum != 0 ? v : NULL, &opts, step, &e);
    if (rc != DL_OK) fail_msg("sgd step %d: %s", step, e.msg);
  }
  expect_close("sgd param", f32(p), want, 4, 1e-6);
  dl_tensor_release(p), dl_tensor_release(g), dl_tensor_release(v);
}

static void test_sgd_first_step_by_hand(void **state) {
  /* p = 1, g = 0.5, weight_decay 0.01: d = 0.51; the first step sets the
   * velocity to d, so p = 1 - 0.1 * 0.51 = 0.949 and v = 0.51. */
  dl_tensor *p = make_f32(2, SHAPE, P0), *g = make_f32(2, SHAPE, GRADS[0]), *v = make_f32(2, SHAPE, NULL);
  f32(v)[0] = 123.0f; /* stale contents are ignored on step 1 */
  dl_nn_sgd_opts opts = {.lr = 0.1, .momentum = 0.9, .weight_decay = 0.01};
  assert_int_equal(dl_nn_sgd_step(p, g, v, &opts, 1, NULL), DL_OK);
  assert_float_equal(f32(p)[0], 0.949f, 1e-7);
  assert_float_equal(f32(v)[0], 0.51f, 1e-7);
  /* Step 2 with the same gradient: v = 0.9 * 0.51 + (0.5 + 0.01 * 0.949) = 0.96849,
   * p = 0.949 - 0.1 * 0.96849 = 0.852151. */
  assert_int_equal(dl_nn_sgd_step(p, g, v, &opts, 2, NULL), DL_OK);
  assert_float_equal(f32(v)[0], 0.96849f, 1e-6);
  assert_float_equal(f32(p)[0], 0.852151f, 1e-6);
  dl_tensor_release(p), dl_tensor_release(g), dl_tensor_release(v);
}

static void test_sgd_three_steps(void **state) {
  run_sgd((dl_nn_sgd_opts){.lr = 0.1}, SGD_PLAIN);
  run_sgd((dl_nn_sgd_opts){.lr = 0.1, .momentum = 0.9, .weight_decay = 0.01}, SGD_MOMENTUM_WD);
  run_sgd((dl_nn_sgd_opts){.lr = 0.05, .momentum = 0.8, .dampening = 0.3}, SGD_DAMPENING);
  run_sgd((dl_nn_sgd_opts){.lr = 0.1, .momentum = 0.9, .weight_decay = 0.01, .nesterov = 1}, SGD_NESTEROV);
}

static void run_adam(dl_nn_adam_opts opts, const float *want) {
  dl_tensor *p = make_f32(2, SHAPE, P0), *g = make_f32(2, SHAPE, NULL);
  dl_tensor *m = make_f32(2, SHAPE, NULL), *v = make_f32(2, SHAPE, NULL);
  dl_error e;
  for (int step = 1; step <= 3; step++) {
    memcpy(g->ptr, GRADS[step - 1], sizeof GRADS[0]);
    int rc = dl_nn_adam_step(p, g, m, v, &opts, step, &e);
    if (rc != DL_OK) fail_msg("adam step %d: %s", step, e.msg);
  }
  expect_close("adam param", f32(p), want, 4, 2e-6);
  dl_tensor_release(p), dl_tensor_release(g), dl_tensor_release(m), dl_tensor_release(v);
}

static void test_adam_first_step_by_hand(void **state) {
  /* Step 1 without weight decay: m_hat = g and v_hat = g^2, so every
   * element with g != 0 moves by lr * g / (|g| + eps), about lr * sign(g). */
  dl_tensor *p = make_f32(2, SHAPE, P0), *g = make_f32(2, SHAPE, GRADS[0]);
  dl_tensor *m = make_f32(2, SHAPE, NULL), *v = make_f32(2, SHAPE, NULL);
  dl_nn_adam_opts opts = {.lr = 0.01, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8};
  assert_int_equal(dl_nn_adam_step(p, g, m, v, &opts, 1, NULL), DL_OK);
  const float want[4] = {0.99f, -1.99f, 0.49f, 0.0f};
  expect_close("adam step 1", f32(p), want, 4, 1e-6);
  assert_float_equal(f32(m)[0], 0.05f, 1e-7);    /* (1 - 0.9) * 0.5 */
  assert_float_equal(f32(v)[0], 0.00025f, 1e-9); /* (1 - 0.999) * 0.25 */
  dl_tensor_release(p), dl_tensor_release(g), dl_tensor_release(m), dl_tensor_release(v);
}

static void test_adam_three_steps(void **state) {
  run_adam((dl_nn_adam_opts){.lr = 0.01, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8}, ADAM_DEFAULT);
  run_adam((dl_nn_adam_opts){.lr = 0.05, .beta1 = 0.8, .beta2 = 0.99, .eps = 1e-3, .weight_decay = 0.1},
           ADAM_WD);
}

/* Repeats of the four reference elements, n of them: vector lanes, the
 * scalar tail and (for large n) several threads must all give the reference
 * values, bit for bit alike. */
static void check_adam_repeated(int64_t n) {
  int64_t shape[1] = {n};
  dl_tensor *p = make_f32(1, shape, NULL), *g = make_f32(1, shape, NULL);
  dl_tensor *m = make_f32(1, shape, NULL), *v = make_f32(1, shape, NULL);
  for (int64_t i = 0; i < n; i++) f32(p)[i] = P0[i % 4];
  dl_nn_adam_opts opts = {.lr = 0.05, .beta1 = 0.8, .beta2 = 0.99, .eps = 1e-3, .weight_decay = 0.1};
  for (int step = 1; step <= 3; step++) {
    for (int64_t i = 0; i < n; i++) f32(g)[i] = GRADS[step - 1][i % 4];
    assert_int_equal(dl_nn_adam_step(p, g, m, v, &opts, step, NULL), DL_OK);
  }
  for (int i = 0; i < 4; i++) assert_float_equal(f32(p)[i], ADAM_WD[i], 2e-6 * (1 + fabsf(ADAM_WD[i])));
  for (int64_t i = 4; i < n; i++)
    if (memcmp(&f32(p)[i], &f32(p)[i % 4], sizeof(float)) != 0)
      fail_msg("element %lld: %.9g differs from element %lld: %.9g", (long long)i, f32(p)[i],
               (long long)(i % 4), f32(p)[i % 4]);
  dl_tensor_release(p), dl_tensor_release(g), dl_tensor_release(m), dl_tensor_release(v);
}

static void test_adam_vector_scalar_and_threaded_paths_agree(void **state) {
  check_adam_repeated(7);             /* 4 vector lanes, 3 scalar */
  check_adam_repeated((1 << 18) + 3); /* split over threads at odd offsets */
}

static void test_optimizer_errors(void **state) {
  dl_tensor *p = make_f32(2, SHAPE, P0), *g = make_f32(2, SHAPE, NULL), *v = make_f32(2, SHAPE, NULL);
  int64_t other[1] = {4};
  dl_tensor *flat = make_f32(1, other, NULL);
  dl_error e;
  dl_nn_sgd_opts sgd = {.lr = 0.1, .momentum = 0.9};
  assert_int_equal(dl_nn_sgd_step(p, g, NULL, &sgd, 1, &e), DL_E_INVAL);
  assert_non_null(strstr(e.msg, "velocity is NULL"));
  assert_int_equal(dl_nn_sgd_step(p, flat, v, &sgd, 1, &e), DL_E_SHAPE);
  assert_non_null(strstr(e.msg, "grad has shape [4], expected [2, 2]"));
  assert_int_equal(dl_nn_sgd_step(p, g, v, &sgd, 0, &e), DL_E_INVAL);
  assert_non_null(strstr(e.msg, "step = 0"));
  sgd.lr = -1;
  assert_int_equal(dl_nn_sgd_step(p, g, v, &sgd, 1, &e), DL_E_INVAL);
  assert_non_null(strstr(e.msg, "lr = -1"));
  sgd = (dl_nn_sgd_opts){.lr = 0.1, .nesterov = 1};
  assert_int_equal(dl_nn_sgd_step(p, g, v, &sgd, 1, &e), DL_E_INVAL);
  assert_non_null(strstr(e.msg, "nesterov"));
  assert_int_equal(dl_nn_sgd_step(p, g, v, NULL, 1, &e), DL_E_INVAL);

  dl_nn_adam_opts adam = {.lr = 0.01, .beta1 = 1.0, .beta2 = 0.999, .eps = 1e-8};
  assert_int_equal(dl_nn_adam_step(p, g, v, v, &adam, 1, &e), DL_E_INVAL);
  assert_non_null(strstr(e.msg, "betas (1, 0.999)"));
  adam.beta1 = 0.9;
  assert_int_equal(dl_nn_adam_step(p, g, flat, v, &adam, 1, &e), DL_E_SHAPE);
  assert_non_null(strstr(e.msg, "exp_avg has shape [4]"));
  assert_int_equal(dl_nn_adam_step(p, g, v, NULL, &adam, 1, &e), DL_E_INVAL);
  assert_non_null(strstr(e.msg, "exp_avg_sq is NULL"));
  /* A failed call leaves the parameter untouched. */
  expect_close("param after errors", f32(p), P0, 4, 0);
  dl_tensor_release(p), dl_tensor_release(g), dl_tensor_release(v), dl_tensor_release(flat);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_sgd_first_step_by_hand),
      cmocka_unit_test(test_sgd_three_steps),
      cmocka_unit_test(test_adam_first_step_by_hand),
      cmocka_unit_test(test_adam_three_steps),
      cmocka_unit_test(test_adam_vector_scalar_and_threaded_paths_agree),
      cmocka_unit_test(test_optimizer_errors),
  };
  return cmocka_run_group_tests_name("nn optimizers", tests, NULL, NULL);
}
