/* nn_internal.h — argument checks shared by the nn kernels (nn_*.c).
 * Private: nothing here is exported. */
#ifndef DL_NN_INTERNAL_H
#define DL_NN_INTERNAL_H

#include "internal.h"

/* DL_OK when t (called `name` in messages) is non-NULL, not stale,
 * contiguous, of the given dtype and with ndim dims; else fills err. */
int dl__nn_expect(const dl_tensor *t, const char *name, int dtype, int ndim, dl_error *err);

/* As dl__nn_expect, and t's shape must equal shape[0..ndim-1]. */
int dl__nn_expect_shape(const dl_tensor *t, const char *name, int dtype, int ndim, const int64_t *shape,
                        dl_error *err);

/* DL_OK when t is a usable contiguous tensor of dtype with exactly ref's
 * shape (any ndim); for element-wise kernels. */
int dl__nn_expect_like(const dl_tensor *t, const char *name, int dtype, const dl_tensor *ref,
                       const char *ref_name, dl_error *err);

/* DL_OK when every value fits the BLAS index type (int); names the operand. */
int dl__nn_expect_blas_dims(const char *what, int64_t m, int64_t n, int64_t k, dl_error *err);

/* The body of a parallel loop: handles indices [begin, end) of a range. */
typedef void (*dl__nn_range_fn)(void *ctx, int64_t begin, int64_t end);

/* Runs fn over [0, n) split into contiguous chunks of at least min_chunk
 * indices, at most one per core, on the nn worker threads and the calling
 * thread; returns when every chunk is done. fn must write disjoint memory
 * for disjoint ranges. */
void dl__nn_parallel_for(int64_t n, int64_t min_chunk, dl__nn_range_fn fn, void *ctx);

/* splitmix64: small, fast, and every state value is a valid seed. The nn
 * kernels that draw random numbers (dropout, initialisation) share it, so
 * one seed reproduces a whole training run. */
static inline uint64_t dl__nn_next_random(uint64_t *state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15u);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
  return z ^ (z >> 31);
}

/* Uniform in [0, 1) with 53 random bits. */
static inline double dl__nn_next_uniform(uint64_t *state) {
  return (double)(dl__nn_next_random(state) >> 11) * 0x1.0p-53;
}

#endif
