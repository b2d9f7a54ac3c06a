/* Parameter initialisation from the nn generator. */
#include "nn_internal.h"

#include <math.h>

int dl_nn_fill_uniform(dl_tensor *t, double low, double high, uint64_t *rng, dl_error *err) {
  int rc = dl__nn_expect(t, "t", DL_F32, -1, err);
  if (rc < 0) return rc;
  if (!rng) return dl__fail(err, DL_E_INVAL, "rng is NULL");
  if (!(isfinite(low) && isfinite(high) && low <= high))
    return dl__fail(err, DL_E_INVAL, "range [%g, %g) must be finite with low <= high", low, high);
  float *p = t->ptr;
  for (int64_t i = 0; i < t->numel; i++) p[i] = (float)(low + (high - low) * dl__nn_next_uniform(rng));
  return DL_OK;
}
