/* Softmax cross-entropy from logits, averaged over the batch. */
#include "nn_internal.h"

#include <math.h>

static int check_labels(const dl_tensor *labels, int64_t n, int64_t classes, int64_t first, dl_error *err) {
  if (!labels) return dl__fail(err, DL_E_INVAL, "labels is NULL");
  int dtype = labels->dtype == DL_I32 ? DL_I32 : DL_I64;
  int64_t want[1] = {n};
  int rc = dl__nn_expect_shape(labels, "labels", dtype, 1, want, err);
  if (rc < 0) return rc;
  for (int64_t i = 0; i < n; i++) {
    int64_t label = dtype == DL_I32 ? ((const int32_t *)labels->ptr)[i] : ((const int64_t *)labels->ptr)[i];
    if (label < first || label - first >= classes)
      return dl__fail(err, DL_E_RANGE, "labels[%lld] = %lld is outside %lld..%lld", (long long)(i + first),
                      (long long)label, (long long)first, (long long)(first + classes - 1));
  }
  return DL_OK;
}

int dl_nn_cross_entropy(const dl_tensor *logits, const dl_tensor *labels, int64_t first_class, double *loss,
                        dl_tensor *grad_logits, dl_error *err) {
  int rc = dl__nn_expect(logits, "logits", DL_F32, 2, err);
  if (rc < 0) return rc;
  const int64_t n = logits->shape[0], k = logits->shape[1];
  if (n < 1 || k < 1)
    return dl__fail(err, DL_E_SHAPE, "logits [%lld, %lld] needs at least one row and one class", (long long)n,
                    (long long)k);
  if ((rc = check_labels(labels, n, k, first_class, err)) < 0) return rc;
  if (!loss) return dl__fail(err, DL_E_INVAL, "loss is NULL");
  if (grad_logits && (rc = dl__nn_expect_like(grad_logits, "grad_logits", DL_F32, logits, "logits", err)) < 0)
    return rc;

  const float *pl = logits->ptr;
  float *pg = grad_logits ? grad_logits->ptr : NULL;
  double total = 0.0;
  for (int64_t i = 0; i < n; i++) {
    const float *row = pl + i * k;
    int64_t label =
        (labels->dtype == DL_I32 ? ((const int32_t *)labels->ptr)[i] : ((const int64_t *)labels->ptr)[i]) -
        first_class;
    /* Subtracting the row max keeps exp() from overflowing. */
    float max = row[0];
    for (int64_t j = 1; j < k; j++)
      if (row[j] > max) max = row[j];
    double sum = 0.0;
    for (int64_t j = 0; j < k; j++) sum += exp((double)row[j] - max);
    double log_sum = log(sum);
    double row_loss = (double)max + log_sum - row[label];
    if (!isfinite(row_loss))
      return dl__fail(err, DL_E_NUMERIC, "cross_entropy: logits row %lld holds NaN or Inf", (long long)i);
    total += row_loss;
    if (pg) {
      float *g = pg + i * k;
      for (int64_t j = 0; j < k; j++) g[j] = (float)(exp((double)row[j] - max - log_sum) / (double)n);
      g[label] -= (float)(1.0 / (double)n);
    }
  }
  *loss = total / (double)n;
  return DL_OK;
}
