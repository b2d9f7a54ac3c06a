/* internal.h — private helpers shared by native_ops files (dl__ prefix).
 * Not part of the FFI surface; nothing here is exported. */
#ifndef DL_INTERNAL_H
#define DL_INTERNAL_H

#include "dl_native.h"

#include <stdbool.h>

/* Fill err (if not NULL) with code and a printf-style message; returns code. */
int dl__fail(dl_error *err, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* A new storage of nbytes (64-byte aligned, uninitialised), refcount 1.
 * Caller owns the reference. */
int dl__storage_new(dl_storage **out, int64_t nbytes, dl_error *err);
void dl__storage_retain(dl_storage *s);
/* Drops one reference; frees the memory at zero. */
void dl__storage_release(dl_storage *s);
/* Marks every existing view of s stale (their generation no longer matches). */
void dl__storage_bump_generation(dl_storage *s);

/* A header over s (takes a new reference on s) at byte offset, contiguous
 * with the given shape. Caller owns *out. The bytes must fit in s. */
int dl__tensor_wrap(dl_tensor **out, dl_storage *s, int64_t offset_bytes, int dtype, int ndim,
                    const int64_t *shape, dl_error *err);

/* Copies t's header into a new one sharing storage (takes a reference).
 * Caller owns *out; the caller then edits shape/strides/data. */
int dl__tensor_alias(dl_tensor **out, const dl_tensor *t, dl_error *err);

/* Recomputes numel from shape. */
void dl__tensor_update_numel(dl_tensor *t);

/* Checked product of dims; false on overflow or a negative dim. */
bool dl__shape_numel(int ndim, const int64_t *shape, int64_t *numel);

/* Loads OpenBLAS on first use (blas.c); DL_OK once it is there. Kernels
 * that call dl__sgemm in a loop check this first, so that no loop stops
 * half-way. */
int dl__blas_load(dl_error *err);

/* C[m,n] = alpha op(A) op(B) + beta C, all row-major, op(X) = X or X^T; the
 * BLAS sgemm, run on the nn worker threads when large and in a plain loop
 * when tiny (blas.c). Sizes and leading dimensions must fit an int. Fails
 * only when OpenBLAS cannot be loaded. */
int dl__sgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float *a,
              int64_t lda, const float *b, int64_t ldb, float beta, float *c, int64_t ldc, dl_error *err);

#endif
