/* Fused optimizer steps, one pass over each parameter, following the
 * single-tensor code paths of torch.optim.SGD and torch.optim.Adam. */
#include "nn_internal.h"

#include <math.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

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

  float *p = param->ptr, *v = use_velocity ? velocity->ptr : NULL;
  const float *g = grad->ptr;
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

/* The per-step constants of one Adam update, in f32. */
typedef struct adam_consts {
  float step_size, inv_sqrt_bc2, beta2, one_minus_beta1, one_minus_beta2, eps, weight_decay;
} adam_consts;

#ifdef __SSE2__
/* The Adam update of the scalar loop in adam_range, four lanes at a
 * time with the same operations in the same order (so the same bits).
 * Explicit because -O2 will not vectorize sqrtf while it may set errno, and
 * the scalar divide and square root made Adam slower than the MLP's GEMMs.
 * Returns how many leading elements it updated (a multiple of 4). */
static int64_t adam_sse(const adam_consts *k, float *p, const float *g, float *m, float *v, int64_t n) {
  const __m128 step_size = _mm_set1_ps(k->step_size), inv_sqrt_bc2 = _mm_set1_ps(k->inv_sqrt_bc2);
  const __m128 beta2 = _mm_set1_ps(k->beta2), one_minus_beta1 = _mm_set1_ps(k->one_minus_beta1);
  const __m128 one_minus_beta2 = _mm_set1_ps(k->one_minus_beta2), eps = _mm_set1_ps(k->eps);
  const __m128 weight_decay = _mm_set1_ps(k->weight_decay);
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    __m128 pi = _mm_loadu_ps(p + i), mi = _mm_loadu_ps(m + i), vi = _mm_loadu_ps(v + i);
    __m128 d = _mm_add_ps(_mm_loadu_ps(g + i), _mm_mul_ps(weight_decay, pi));
    mi = _mm_add_ps(mi, _mm_mul_ps(one_minus_beta1, _mm_sub_ps(d, mi)));
    vi = _mm_add_ps(_mm_mul_ps(beta2, vi), _mm_mul_ps(_mm_mul_ps(one_minus_beta2, d), d));
    __m128 denom = _mm_add_ps(_mm_mul_ps(_mm_sqrt_ps(vi), inv_sqrt_bc2), eps);
    pi = _mm_sub_ps(pi, _mm_div_ps(_mm_mul_ps(step_size, mi), denom));
    _mm_storeu_ps(p + i, pi);
    _mm_storeu_ps(m + i, mi);
    _mm_storeu_ps(v + i, vi);
  }
  return i;
}
#endif

/* Work below this many elements per thread is not worth starting a thread. */
enum { MIN_ELEMENTS_PER_THREAD = 1 << 16 };

typedef struct adam_job {
  const adam_consts *k;
  float *p, *m, *v;
  const float *g;
} adam_job;

/* The Adam update of elements [begin, end). */
static void adam_range(void *ctx, int64_t begin, int64_t end) {
  const adam_job *j = ctx;
  const adam_consts k = *j->k;
  float *p = j->p + begin, *m = j->m + begin, *v = j->v + begin;
  const float *g = j->g + begin;
  const int64_t n = end - begin;
  int64_t done = 0;
#ifdef __SSE2__
  done = adam_sse(&k, p, g, m, v, n);
#endif
  for (int64_t i = done; i < n; i++) {
    float d = g[i] + k.weight_decay * p[i];
    m[i] += k.one_minus_beta1 * (d - m[i]);
    v[i] = k.beta2 * v[i] + k.one_minus_beta2 * d * d;
    p[i] -= k.step_size * m[i] / (sqrtf(v[i]) * k.inv_sqrt_bc2 + k.eps);
  }
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
  /* 1 - beta in double, as PyTorch computes it from Python floats: in f32,
   * 1 - 0.999f is off by 1e-5 relative. */
  const adam_consts k = {.step_size = (float)(opts->lr / bias_correction1),
                         .inv_sqrt_bc2 = (float)(1.0 / sqrt(bias_correction2)),
                         .beta2 = (float)opts->beta2,
                         .one_minus_beta1 = (float)(1.0 - opts->beta1),
                         .one_minus_beta2 = (float)(1.0 - opts->beta2),
                         .eps = (float)opts->eps,
                         .weight_decay = (float)opts->weight_decay};
  adam_job job = {.k = &k, .p = param->ptr, .g = grad->ptr, .m = exp_avg->ptr, .v = exp_avg_sq->ptr};
  dl__nn_parallel_for(param->numel, MIN_ELEMENTS_PER_THREAD, adam_range, &job);
  return DL_OK;
}
