/* Fused optimizer steps, one pass over each parameter, following the
 * single-tensor code paths of torch.optim.SGD and torch.optim.Adam. */
#include "nn_internal.h"

#include <math.h>

/* param, grad and an optional state tensor must be alike. */
static int check_alike(dl_tensor *param, const dl_tensor *grad, const dl_tensor *state,
                       const char *state_name, dl_error *err) {
  int rc = dl__nn_expect(param, "param", DL_F32, -1, err);
  if (rc < 0) return rc;
  if ((rc = dl__nn_expect_like(grad, "grad", DL_F32, param, "param", err)) < 0) return rc;
  if (state_name && (rc = dl__nn_expect_like(state, state_name, DL_F32, param, "param", err)) < 0) return rc;
  return DL_OK;
}

static int check_non_negative(const char *name, double v, dl_error *err) {
  if (!(v >= 0.0 && isfinite(v)))
    return dl__fail(err, DL_E_INVAL, "%s = %g must be a finite number >= 0", name, v);
  return DL_OK;
}

int dl_nn_sgd_step(dl_tensor *param, const dl_tensor *grad, dl_tensor *velocity, const dl_nn_sgd_opts *opts,
                   int64_t step, dl_error *err) {
  if (!opts) return dl__fail(err, DL_E_INVAL, "opts is NULL");
  int rc;
  if ((rc = check_non_negative("lr", opts->lr, err)) < 0 ||
      (rc = check_non_negative("momentum", opts->momentum, err)) < 0 ||
      (rc = check_non_negative("dampening", opts->dampening, err)) < 0 ||
      (rc = check_non_negative("weight_decay", opts->weight_decay, err)) < 0)
    return rc;
  if (opts->nesterov && (opts->momentum <= 0.0 || opts->dampening != 0.0))
    return dl__fail(err, DL_E_INVAL, "nesterov momentum needs momentum > 0 and dampening 0 (got %g and %g)",
                    opts->momentum, opts->dampening);
  if (step < 1) return dl__fail(err, DL_E_INVAL, "step = %lld must count from 1", (long long)step);
  const bool use_velocity = opts->momentum != 0.0;
  if ((rc = check_alike(param, grad, velocity, use_velocity ? "velocity" : NULL, err)) < 0) return rc;

  float *p = param->data, *v = use_velocity ? velocity->data : NULL;
  const float *g = grad->data;
  const float lr = (float)opts->lr, wd = (float)opts->weight_decay, mom = (float)opts->momentum;
  const float keep = (float)(1.0 - opts->dampening);
  for (int64_t i = 0; i < param->numel; i++) {
    float d = g[i] + wd * p[i];
    if (use_velocity) {
      v[i] = step == 1 ? d : mom * v[i] + keep * d;
      d = opts->nesterov ? d + mom * v[i] : v[i];
    }
    p[i] -= lr * d;
  }
  return DL_OK;
}

int dl_nn_adam_step(dl_tensor *param, const dl_tensor *grad, dl_tensor *exp_avg, dl_tensor *exp_avg_sq,
                    const dl_nn_adam_opts *opts, int64_t step, dl_error *err) {
  if (!opts) return dl__fail(err, DL_E_INVAL, "opts is NULL");
  int rc;
  if ((rc = check_non_negative("lr", opts->lr, err)) < 0 ||
      (rc = check_non_negative("eps", opts->eps, err)) < 0 ||
      (rc = check_non_negative("weight_decay", opts->weight_decay, err)) < 0)
    return rc;
  if (!(opts->beta1 >= 0.0 && opts->beta1 < 1.0) || !(opts->beta2 >= 0.0 && opts->beta2 < 1.0))
    return dl__fail(err, DL_E_INVAL, "betas (%g, %g) must lie in [0, 1)", opts->beta1, opts->beta2);
  if (step < 1) return dl__fail(err, DL_E_INVAL, "step = %lld must count from 1", (long long)step);
  if ((rc = check_alike(param, grad, exp_avg, "exp_avg", err)) < 0) return rc;
  if ((rc = check_alike(param, grad, exp_avg_sq, "exp_avg_sq", err)) < 0) return rc;

  const double bias_correction1 = 1.0 - pow(opts->beta1, (double)step);
  const double bias_correction2 = 1.0 - pow(opts->beta2, (double)step);
  const float step_size = (float)(opts->lr / bias_correction1);
  const float inv_sqrt_bc2 = (float)(1.0 / sqrt(bias_correction2));
  /* 1 - beta in double, as PyTorch computes it from Python floats: in f32,
   * 1 - 0.999f is off by 1e-5 relative. */
  const float b2 = (float)opts->beta2, eps = (float)opts->eps, wd = (float)opts->weight_decay;
  const float one_minus_b1 = (float)(1.0 - opts->beta1), one_minus_b2 = (float)(1.0 - opts->beta2);
  float *p = param->data, *m = exp_avg->data, *v = exp_avg_sq->data;
  const float *g = grad->data;
  for (int64_t i = 0; i < param->numel; i++) {
    float d = g[i] + wd * p[i];
    m[i] += one_minus_b1 * (d - m[i]);
    v[i] = b2 * v[i] + one_minus_b2 * d * d;
    p[i] -= step_size * m[i] / (sqrtf(v[i]) * inv_sqrt_bc2 + eps);
  }
  return DL_OK;
}
