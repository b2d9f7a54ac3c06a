/* Tensor headers and refcounted storage: creation, release, staleness.
 * The ops on tensors live in their own files (tensor_*.c). */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

static int64_t live_bytes; /* updated with __atomic builtins */

/* The storage of every header that dl_tensor_free_storage emptied: no bytes,
 * and a generation that no header carries (those get FREED_GENERATION - 1),
 * so dl_tensor_check refuses them. It is never retained or released: it
 * lives as long as the process. */
enum { FREED_GENERATION = 1 };
static dl_storage freed_storage = {.refcount = 1, .generation = FREED_GENERATION};

int64_t dl_mem_live_bytes(void) { return __atomic_load_n(&live_bytes, __ATOMIC_RELAXED); }

size_t dl_dtype_size(int dtype) {
  switch (dtype) {
    case DL_U8:
      return 1;
    case DL_I32:
    case DL_F32:
      return 4;
    case DL_I64:
      return 8;
  }
  return 0;
}

bool dl__shape_numel(int ndim, const int64_t *shape, int64_t *numel) {
  /* Contiguous strides multiply the sizes with 0 taken as 1, so they must
   * fit as well: {0, 2^53, 2^53} has no elements but no strides either. */
  int64_t n = 1, span = 1;
  for (int i = 0; i < ndim; i++) {
    if (shape[i] < 0 || __builtin_mul_overflow(n, shape[i], &n) ||
        __builtin_mul_overflow(span, shape[i] > 0 ? shape[i] : 1, &span))
      return false;
  }
  *numel = n;
  return true;
}

void dl__tensor_update_numel(dl_tensor *t) {
  int64_t n = 1;
  for (int i = 0; i < t->ndim; i++) n *= t->shape[i];
  t->numel = n;
}

int dl__storage_new(dl_storage **out, int64_t nbytes, dl_error *err) {
  *out = NULL;
  if (nbytes < 0) return dl__fail(err, DL_E_INVAL, "negative storage size %lld", (long long)nbytes);
  dl_storage *s = calloc(1, sizeof *s);
  if (!s) return dl__fail(err, DL_E_NOMEM, "cannot allocate a storage header");
  if (nbytes > 0) {
    /* Round up so aligned_alloc's size is a multiple of the alignment. */
    size_t rounded = ((size_t)nbytes + 63) & ~(size_t)63;
    s->base = aligned_alloc(64, rounded);
    if (!s->base) {
      free(s);
      return dl__fail(err, DL_E_NOMEM, "cannot allocate %lld bytes of tensor storage", (long long)nbytes);
    }
  }
  s->nbytes = nbytes;
  s->refcount = 1;
  __atomic_add_fetch(&live_bytes, nbytes, __ATOMIC_RELAXED);
  *out = s;
  return DL_OK;
}

void dl__storage_retain(dl_storage *s) { __atomic_add_fetch(&s->refcount, 1, __ATOMIC_RELAXED); }

void dl__storage_release(dl_storage *s) {
  if (!s || s == &freed_storage) return;
  if (__atomic_sub_fetch(&s->refcount, 1, __ATOMIC_ACQ_REL) != 0) return;
  __atomic_sub_fetch(&live_bytes, s->nbytes, __ATOMIC_RELAXED);
  free(s->base);
  free(s);
}

void dl__storage_bump_generation(dl_storage *s) { __atomic_add_fetch(&s->generation, 1, __ATOMIC_RELEASE); }

static void set_contiguous_strides(dl_tensor *t) {
  int64_t stride = 1;
  for (int i = t->ndim - 1; i >= 0; i--) {
    t->strides[i] = stride;
    stride *= t->shape[i] > 0 ? t->shape[i] : 1;
  }
}

int dl__tensor_wrap(dl_tensor **out, dl_storage *s, int64_t offset_bytes, int dtype, int ndim,
                    const int64_t *shape, dl_error *err) {
  *out = NULL;
  size_t esize = dl_dtype_size(dtype);
  if (!esize) return dl__fail(err, DL_E_DTYPE, "unknown dtype %d", dtype);
  if (ndim < 0 || ndim > 8) return dl__fail(err, DL_E_SHAPE, "ndim %d is outside 0..8", ndim);
  int64_t numel, nbytes;
  if (!dl__shape_numel(ndim, shape, &numel) || __builtin_mul_overflow(numel, (int64_t)esize, &nbytes))
    return dl__fail(err, DL_E_SHAPE, "shape has a negative dim or overflows");
  if (offset_bytes < 0 || offset_bytes + nbytes > s->nbytes)
    return dl__fail(err, DL_E_RANGE, "view of %lld bytes at offset %lld exceeds storage of %lld bytes",
                    (long long)nbytes, (long long)offset_bytes, (long long)s->nbytes);
  dl_tensor *t = calloc(1, sizeof *t);
  if (!t) return dl__fail(err, DL_E_NOMEM, "cannot allocate a tensor header");
  t->ndim = ndim;
  t->dtype = dtype;
  for (int i = 0; i < ndim; i++) t->shape[i] = shape[i];
  t->numel = numel;
  set_contiguous_strides(t);
  t->ptr = s->base ? (char *)s->base + offset_bytes : NULL;
  t->storage = s;
  t->generation = __atomic_load_n(&s->generation, __ATOMIC_ACQUIRE);
  dl__storage_retain(s);
  *out = t;
  return DL_OK;
}

int dl_tensor_empty(dl_tensor **out, int dtype, int ndim, const int64_t *shape, dl_error *err) {
  *out = NULL;
  size_t esize = dl_dtype_size(dtype);
  if (!esize) return dl__fail(err, DL_E_DTYPE, "unknown dtype %d", dtype);
  if (ndim < 0 || ndim > 8) return dl__fail(err, DL_E_SHAPE, "ndim %d is outside 0..8", ndim);
  if (ndim > 0 && !shape) return dl__fail(err, DL_E_INVAL, "shape is NULL for ndim %d", ndim);
  int64_t numel, nbytes;
  if (!dl__shape_numel(ndim, shape, &numel) || __builtin_mul_overflow(numel, (int64_t)esize, &nbytes))
    return dl__fail(err, DL_E_SHAPE, "shape has a negative dim or overflows");
  dl_storage *s;
  int rc = dl__storage_new(&s, nbytes, err);
  if (rc < 0) return rc;
  rc = dl__tensor_wrap(out, s, 0, dtype, ndim, shape, err);
  dl__storage_release(s); /* the header holds the only reference now */
  return rc;
}

int dl_tensor_new(dl_tensor **out, int dtype, int ndim, const int64_t *shape, dl_error *err) {
  int rc = dl_tensor_empty(out, dtype, ndim, shape, err);
  if (rc == DL_OK && (*out)->storage->nbytes > 0)
    memset((*out)->storage->base, 0, (size_t)(*out)->storage->nbytes);
  return rc;
}

int dl__tensor_alias(dl_tensor **out, const dl_tensor *t, dl_error *err) {
  *out = NULL;
  dl_tensor *v = malloc(sizeof *v);
  if (!v) return dl__fail(err, DL_E_NOMEM, "cannot allocate a tensor header");
  *v = *t;
  dl__storage_retain(v->storage);
  *out = v;
  return DL_OK;
}

void dl_tensor_release(dl_tensor *t) {
  if (!t) return;
  dl__storage_release(t->storage);
  free(t);
}

void dl_tensor_free_storage(dl_tensor *t) {
  if (!t || t->storage == &freed_storage) return;
  dl__storage_release(t->storage);
  t->storage = &freed_storage;
  t->generation = FREED_GENERATION - 1;
  t->ptr = NULL;
}

int dl_tensor_is_freed(const dl_tensor *t) { return t && t->storage == &freed_storage; }

int dl_tensor_check(const dl_tensor *t, dl_error *err) {
  if (!t) return dl__fail(err, DL_E_INVAL, "tensor is NULL");
  if (t->storage == &freed_storage)
    return dl__fail(err, DL_E_STALE, "tensor used after :free() released its storage");
  if (t->generation != __atomic_load_n(&t->storage->generation, __ATOMIC_ACQUIRE))
    return dl__fail(err, DL_E_STALE,
                    "tensor used after its batch was recycled (views handed to predict are valid only during "
                    "that call; copy with :clone() to keep data)");
  return DL_OK;
}

int dl_tensor_is_contiguous(const dl_tensor *t) {
  int64_t expected = 1;
  for (int i = t->ndim - 1; i >= 0; i--) {
    if (t->shape[i] == 1) continue;
    if (t->strides[i] != expected) return 0;
    expected *= t->shape[i];
  }
  return 1;
}
