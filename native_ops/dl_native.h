/* dl_native.h — the one public header of dlrun's native ops.
 *
 * native_ops is a plain C library: tensors, image codecs, resize/normalize,
 * the threaded batching pipeline, BLAS and nn kernels, metric kernels.
 * It has no Lua in it. Lua reaches it through the LuaJIT FFI: the text
 * between the "ffi-begin" and "ffi-end" lines below is handed verbatim to
 * ffi.cdef (the build embeds it into dlrun), so that block holds only plain
 * declarations — no macros, no includes, no attributes.
 *
 * Conventions, learn them once:
 *   - Names are dl_<module>_<verb>. Internals are dl__*, in private headers.
 *   - Fallible functions return 0 (DL_OK) or a negative dl_status code and,
 *     when `err` is not NULL, write a sentence of detail into err->msg.
 *     dl_strerror(code) gives the generic text, dl_err_name(code) the name.
 *   - Nothing here raises, calls back into Lua, or keeps a pointer to memory
 *     the caller owns after returning (unless a comment says otherwise).
 *   - Ownership is stated on every function that hands out a pointer:
 *     "caller owns" means the caller must release it (dl_tensor_release...).
 *
 * Tensors, in five lines:
 *   dl_tensor *t; dl_error e;
 *   int64_t shape[2] = {3, 4};
 *   if (dl_tensor_new(&t, DL_F32, 2, shape, &e) < 0) puts(e.msg);
 *   float *p = (float *)t->data;   // contiguous after _new
 *   dl_tensor_release(t);           // frees the header, drops a storage ref
 *
 * A dl_tensor header has exactly one owner. Views (narrow, select, permute,
 * ...) are new headers that share the storage through its refcount, so a view
 * keeps the storage alive. Storage that belongs to a recycling owner (the
 * batching pipeline) carries a generation number: a header remembers the
 * generation it was made at, and dl_tensor_check() fails with DL_E_STALE once
 * the owner has recycled the memory.
 */
#ifndef DL_NATIVE_H
#define DL_NATIVE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The library is built with -fvisibility=hidden; everything declared in the
 * FFI block is exported, nothing else is. */
#pragma GCC visibility push(default)

/* ffi-begin */

/* Bump when any declaration in this block changes meaning or layout. */
enum { DL_ABI_VERSION = 1 };

/* ---------------------------------------------------------------- errors */

/* Must match the X-macro table in native_ops/errors.def (checked at build). */
typedef enum dl_status {
  DL_OK = 0,
  DL_E_NOMEM = -1,       /* out of memory */
  DL_E_INVAL = -2,       /* invalid argument */
  DL_E_IO = -3,          /* read or write failed */
  DL_E_DECODE = -4,      /* corrupt or truncated data */
  DL_E_TOO_LARGE = -5,   /* over a configured limit (pixels, bytes) */
  DL_E_SHAPE = -6,       /* shapes do not fit */
  DL_E_DTYPE = -7,       /* unsupported dtype for this op */
  DL_E_STALE = -8,       /* view used after its storage was recycled */
  DL_E_RANGE = -9,       /* index out of range */
  DL_E_UNSUPPORTED = -10, /* valid input this build cannot handle */
  DL_E_FORMAT = -11,     /* not a format we know (e.g. not an image) */
  DL_E_CLOSED = -12,     /* the object was closed or is finished */
  DL_E_NUMERIC = -13     /* NaN or Inf where a finite number is required */
} dl_status;

/* Per-call error detail. Callers may pass NULL when they only want the code. */
typedef struct dl_error {
  int code;       /* public: the dl_status returned */
  char msg[256];  /* public: NUL-terminated detail, names the argument */
} dl_error;

int dl_abi_version(void);
const char *dl_strerror(int code);  /* static string, never NULL */
const char *dl_err_name(int code);  /* "DL_E_INVAL", ...; static */

/* --------------------------------------------------------------- storage */

typedef enum dl_dtype {
  DL_U8 = 0,
  DL_I32 = 1,
  DL_I64 = 2,
  DL_F32 = 3
} dl_dtype;

typedef struct dl_storage {
  void *base;           /* read-only: 64-byte aligned; NULL when nbytes == 0 */
  int64_t nbytes;       /* read-only */
  int64_t refcount;     /* private: updated atomically */
  uint64_t generation;  /* read-only: bumped when its owner recycles the memory */
  int32_t flags;        /* private */
} dl_storage;

typedef struct dl_tensor {
  void *data;           /* read-only: address of element [0,...,0] */
  int64_t shape[8];     /* read-only: ndim entries are meaningful */
  int64_t strides[8];   /* read-only: in elements, may be 0 (broadcast) */
  int32_t ndim;         /* read-only: 0..8; 0 is a scalar with one element */
  int32_t dtype;        /* read-only: a dl_dtype */
  int64_t numel;        /* read-only: product of shape */
  dl_storage *storage;  /* private: shared, refcounted */
  uint64_t generation;  /* private: storage->generation when this header was made */
} dl_tensor;

/* Live bytes of tensor storage across the process (for GC pacing in Lua). */
int64_t dl_mem_live_bytes(void);

/* Bytes per element of a dtype; 0 for an unknown dtype. */
size_t dl_dtype_size(int dtype);

/* A new contiguous tensor, zero-filled. Caller owns *out. shape may be NULL
 * when ndim == 0. Any dim may be 0 (an empty tensor). */
int dl_tensor_new(dl_tensor **out, int dtype, int ndim, const int64_t *shape, dl_error *err);

/* Like dl_tensor_new but the contents are left uninitialised. Caller owns *out. */
int dl_tensor_empty(dl_tensor **out, int dtype, int ndim, const int64_t *shape, dl_error *err);

/* Frees the header and drops its storage reference. NULL is a no-op. */
void dl_tensor_release(dl_tensor *t);

/* DL_OK while t may be used, DL_E_STALE once its storage was recycled. */
int dl_tensor_check(const dl_tensor *t, dl_error *err);

/* 1 when t's elements are laid out densely in row-major order, else 0. */
int dl_tensor_is_contiguous(const dl_tensor *t);

/* ------------------------------------------- tensor ops (tensor_*.c) */

/* ------------------------------------------------- images (image_*.c) */

/* ------------------------------------------- batching pipeline (pipeline*.c) */

/* ---------------------------------------------------- nn kernels (nn_*.c) */

/* ------------------------------------------------ metrics (metrics_*.c) */

/* ffi-end */

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif /* DL_NATIVE_H */
