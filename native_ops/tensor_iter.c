/* The strided iterator under every element-wise tensor op. */
#include "tensor_internal.h"

void dl__iter_init(dl__iter *it, int ndim, const int64_t *shape, int nops, char *const *ptrs,
                   const int64_t (*strides)[8], const size_t *esize) {
  it->nops = nops;
  it->ndim = 0;
  it->numel = 1;
  for (int i = 0; i < nops; i++) it->ptrs[i] = ptrs[i];
  for (int d = 0; d < ndim; d++) {
    it->numel *= shape[d];
    if (shape[d] == 1) continue; /* contributes no movement */
    int k = it->ndim;
    /* Merge with the previous kept dim when every operand steps over it as
     * one run: step(prev) == step(d) * shape[d]. */
    bool merge = k > 0;
    for (int i = 0; merge && i < nops; i++)
      merge = it->steps[i][k - 1] == strides[i][d] * (int64_t)esize[i] * shape[d];
    if (merge) {
      it->shape[k - 1] *= shape[d];
      for (int i = 0; i < nops; i++) it->steps[i][k - 1] = strides[i][d] * (int64_t)esize[i];
      continue;
    }
    it->shape[k] = shape[d];
    for (int i = 0; i < nops; i++) it->steps[i][k] = strides[i][d] * (int64_t)esize[i];
    it->ndim++;
  }
}

void dl__iter_run(const dl__iter *it, dl__loop_fn fn, void *ctx) {
  if (it->numel == 0) return;
  char *p[DL__ITER_OPS];
  int64_t inner_steps[DL__ITER_OPS] = {0};
  for (int i = 0; i < it->nops; i++) p[i] = it->ptrs[i];
  if (it->ndim == 0) {
    fn(1, p, inner_steps, ctx);
    return;
  }
  int last = it->ndim - 1;
  for (int i = 0; i < it->nops; i++) inner_steps[i] = it->steps[i][last];
  int64_t count[8] = {0};
  for (;;) {
    fn(it->shape[last], p, inner_steps, ctx);
    /* Odometer over the outer dims. */
    int d = last - 1;
    for (; d >= 0; d--) {
      for (int i = 0; i < it->nops; i++) p[i] += it->steps[i][d];
      if (++count[d] < it->shape[d]) break;
      for (int i = 0; i < it->nops; i++) p[i] -= it->steps[i][d] * it->shape[d];
      count[d] = 0;
    }
    if (d < 0) return;
  }
}
