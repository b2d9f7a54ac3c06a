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
 *   float *p = (float *)t->ptr;    // contiguous after _new
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
enum { DL_ABI_VERSION = 2 };

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
  void *ptr;            /* read-only: address of element [0,...,0] (Lua: t:data() gives it typed) */
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

/* Drops t's storage reference now (Lua's t:free()), while the header stays
 * valid until dl_tensor_release: it then points at a shared empty storage
 * that dl_tensor_check, and so every op, refuses with DL_E_STALE. A second
 * call, or NULL, is a no-op. */
void dl_tensor_free_storage(dl_tensor *t);

/* 1 when dl_tensor_free_storage emptied t, else 0. */
int dl_tensor_is_freed(const dl_tensor *t);

/* DL_OK while t may be used, DL_E_STALE once its storage was recycled or
 * freed. */
int dl_tensor_check(const dl_tensor *t, dl_error *err);

/* 1 when t's elements are laid out densely in row-major order, else 0. */
int dl_tensor_is_contiguous(const dl_tensor *t);

/* ------------------------------------------- tensor ops (tensor_*.c) */

/* Dims are 0-based; a negative dim counts from the end (-1 is the last).
 * Every op checks its tensors with dl_tensor_check (DL_E_STALE), their
 * dtypes and shapes, and works on empty tensors (a dim of size 0).
 *
 * Views share storage with t and never copy; caller owns *out:
 *   dl_tensor *row; dl_tensor_select(&row, img, 0, 10, &e);   // img[10]
 * Ops that make new data return a new contiguous tensor that the caller
 * owns. Binary ops broadcast numpy-style (shapes align on trailing dims).
 * The ops keep no state between calls: threads may call them at once on
 * tensors they do not share for writing. */

/* "u8", "i32", "i64", "f32"; "unknown" otherwise. Static string. */
const char *dl_dtype_name(int dtype);

/* Elements start..start+len-1 of dim. */
int dl_tensor_narrow(dl_tensor **out, const dl_tensor *t, int dim, int64_t start, int64_t len, dl_error *err);

/* Element index of dim, with that dim removed (ndim - 1 dims). */
int dl_tensor_select(dl_tensor **out, const dl_tensor *t, int dim, int64_t index, dl_error *err);

/* t with a new shape of the same numel; one entry may be -1 (inferred).
 * Fails with DL_E_SHAPE when t's strides cannot express it without a copy
 * (e.g. a transposed tensor): use dl_tensor_reshape, which copies then. */
int dl_tensor_view(dl_tensor **out, const dl_tensor *t, int ndim, const int64_t *shape, dl_error *err);

/* Like dl_tensor_view, but copies into a new contiguous tensor when a view
 * is impossible. Caller owns *out either way. */
int dl_tensor_reshape(dl_tensor **out, const dl_tensor *t, int ndim, const int64_t *shape, dl_error *err);

/* Dims reordered: out dim i is t's dim order[i]; order is a permutation of
 * t's ndim dims. */
int dl_tensor_permute(dl_tensor **out, const dl_tensor *t, const int *order, dl_error *err);

/* Dims dim0 and dim1 swapped. */
int dl_tensor_transpose(dl_tensor **out, const dl_tensor *t, int dim0, int dim1, dl_error *err);

/* A new dim of size 1 inserted before dim (0..ndim; -1 appends). */
int dl_tensor_unsqueeze(dl_tensor **out, const dl_tensor *t, int dim, dl_error *err);

/* dim (which must have size 1) removed. */
int dl_tensor_squeeze(dl_tensor **out, const dl_tensor *t, int dim, dl_error *err);

/* Every dim of size 1 removed. */
int dl_tensor_squeeze_all(dl_tensor **out, const dl_tensor *t, dl_error *err);

/* t broadcast to shape (numpy rules: t's dims align with the trailing dims,
 * a size-1 dim repeats with stride 0; -1 keeps t's size). Writing through an
 * expanded view writes the shared element. */
int dl_tensor_expand(dl_tensor **out, const dl_tensor *t, int ndim, const int64_t *shape, dl_error *err);

/* t itself (a new header sharing storage) when already contiguous, else a
 * contiguous copy. Caller owns *out. */
int dl_tensor_contiguous(dl_tensor **out, const dl_tensor *t, dl_error *err);

/* A contiguous copy of t that shares nothing with it. Caller owns *out. */
int dl_tensor_clone(dl_tensor **out, const dl_tensor *t, dl_error *err);

/* dst <- src: src broadcasts to dst's shape and converts to dst's dtype as
 * dl_tensor_to does with scale 1. src may overlap dst. */
int dl_tensor_copy(dl_tensor *dst, const dl_tensor *src, dl_error *err);

/* Every element of t set to value, which must be exactly representable in
 * t's dtype (whole and in range for integer dtypes). */
int dl_tensor_fill(dl_tensor *t, double value, dl_error *err);

/* A new contiguous tensor of dtype holding t * scale (e.g. u8 -> f32 with
 * scale 1/255). Conversions to integer dtypes round half away from zero and
 * saturate to the dtype's range (NaN gives 0), so f32 -> u8 with scale 255
 * undoes the u8 -> f32 conversion exactly. Caller owns *out. */
int dl_tensor_to(dl_tensor **out, const dl_tensor *t, int dtype, double scale, dl_error *err);

typedef enum dl_binary_op {
  DL_ADD = 0,
  DL_SUB = 1,
  DL_MUL = 2,
  DL_DIV = 3  /* integer dtypes: truncates toward zero; x / 0 is DL_E_NUMERIC */
} dl_binary_op;

/* Both operands must have the same dtype; integer results wrap around like
 * C's unsigned arithmetic (as numpy's). */

/* *out = a op b, broadcast. Caller owns *out. */
int dl_tensor_binary(dl_tensor **out, const dl_tensor *a, const dl_tensor *b, int op, dl_error *err);

/* out = a op b into an existing tensor whose shape is the broadcast shape;
 * out may be a (in place) and may overlap a or b. */
int dl_tensor_binary_into(dl_tensor *out, const dl_tensor *a, const dl_tensor *b, int op, dl_error *err);

/* *out = a op s, with s exactly representable in a's dtype. Caller owns *out. */
int dl_tensor_scalar(dl_tensor **out, const dl_tensor *a, double s, int op, dl_error *err);

/* out = a op s into an existing tensor of a's shape (out may be a). */
int dl_tensor_scalar_into(dl_tensor *out, const dl_tensor *a, double s, int op, dl_error *err);

typedef enum dl_reduce_op {
  DL_SUM = 0,    /* f32 -> f32 (accumulated in double); integers -> i64 */
  DL_MEAN = 1,   /* -> f32; NaN over an empty dim */
  DL_MAX = 2,    /* same dtype; a NaN wins; the dim must not be empty */
  DL_MIN = 3,
  DL_ARGMAX = 4, /* -> i64, the first index of the max (a NaN counts as max) */
  DL_ARGMIN = 5
} dl_reduce_op;

/* Reduces dim of t; keepdim != 0 keeps it with size 1. Caller owns *out. */
int dl_tensor_reduce(dl_tensor **out, const dl_tensor *t, int op, int dim, int keepdim, dl_error *err);

/* Max along dim: *values (t's dtype) and *indices (i64), as DL_MAX and
 * DL_ARGMAX in one pass. Caller owns both. */
int dl_tensor_max(dl_tensor **values, dl_tensor **indices, const dl_tensor *t, int dim, int keepdim,
                  dl_error *err);

/* Softmax along dim of an f32 tensor, or log-softmax when log != 0;
 * numerically stable (the max is subtracted first). Caller owns *out. */
int dl_tensor_softmax(dl_tensor **out, const dl_tensor *t, int dim, int log, dl_error *err);

/* The k largest elements along dim, sorted descending: *values (t's dtype)
 * and *indices (i64) have t's shape with dim of size k. Ties keep the lower
 * index first; a NaN ranks above every number. Caller owns both. */
int dl_tensor_topk(dl_tensor **values, dl_tensor **indices, const dl_tensor *t, int dim, int64_t k,
                   dl_error *err);

/* Matrix product of f32 tensors through BLAS sgemm: [M,K] @ [K,N] -> [M,N],
 * or batched [B,M,K] @ [B,K,N] -> [B,M,N] (a 2-D operand is used for every
 * batch). Transposed inputs are passed to sgemm as such; other layouts are
 * copied first. Caller owns *out. */
int dl_tensor_matmul(dl_tensor **out, const dl_tensor *a, const dl_tensor *b, dl_error *err);

/* ------------------------------------------------- images (image_*.c) */

/* Images are u8 tensors of shape H×W×C (C = 1 gray, 2 gray+alpha, 3 RGB,
 * 4 RGBA), rows top to bottom. Ops read any such tensor whose pixels are
 * packed (strides[2] == 1, strides[1] == C) with any row stride, so crops and
 * slices of a batch buffer work without copying.
 *
 *   dl_tensor *img; dl_error e;
 *   dl_decode_opts o = {0};             // zero means: defaults
 *   o.channels = 3;                     // like PIL's convert('RGB')
 *   if (dl_image_load(&img, "cat.jpg", &o, NULL, &e) < 0) puts(e.msg);
 *
 * Decoding is thread-safe and reentrant: every call has its own state. */

typedef enum dl_image_format {
  DL_IMAGE_UNKNOWN = 0,
  DL_IMAGE_JPEG = 1,
  DL_IMAGE_PNG = 2
} dl_image_format;

/* Default for dl_decode_opts.max_pixels: 100 megapixels. */
enum { DL_IMAGE_DEFAULT_MAX_PIXELS = 100000000 };

/* Default for dl_decode_opts.max_bytes and dl_pipeline_spec.max_bytes: 1 GiB. */
enum { DL_IMAGE_DEFAULT_MAX_BYTES = 1073741824 };

/* Decode options; a zeroed struct (or NULL) gives the defaults. */
typedef struct dl_decode_opts {
  int64_t max_pixels;  /* refuse images whose header claims more pixels; 0: the default */
  int32_t channels;    /* 0: as stored (CMYK becomes RGB, a palette RGB or RGBA); 1 L (ITU-R 601-2
                          luma, as PIL), 2 LA, 3 RGB, 4 RGBA */
  int32_t min_width;   /* JPEG only: the smallest width the caller needs after orientation; when it */
  int32_t min_height;  /* allows, the decoder scales by 1/2, 1/4 or 1/8 in the DCT domain. 0: full size */
  int32_t no_exif;     /* 1: ignore the EXIF orientation (default: applied) */
  int32_t keep_16bit;  /* 1: 16-bit PNGs give a DL_I32 tensor holding 0..65535 (default: the high byte
                          of each sample, in a DL_U8 tensor) */
  int64_t max_bytes;   /* dl_image_load: refuse a larger file before reading it; 0: the default */
} dl_decode_opts;

/* What a header says about an image. */
typedef struct dl_image_info {
  int32_t format;       /* a dl_image_format */
  int32_t width;        /* full size, after the EXIF orientation is applied (unless no_exif) */
  int32_t height;
  int32_t channels;     /* channels stored: 1 gray, 2 gray+alpha, 3 colour, 4 RGBA or CMYK */
  int32_t bit_depth;    /* bits per sample as stored: 1, 2, 4, 8 or 16 */
  int32_t orientation;  /* EXIF orientation 1..8 (1 when absent) */
  int32_t scale_denom;  /* decode only: 1, 2, 4 or 8, the DCT downscale that was used */
  int32_t is_cmyk;      /* 1 for a CMYK or YCCK JPEG */
} dl_image_info;

/* Decodes a JPEG or PNG held in memory into a new H×W×C tensor. Caller owns
 * *out. opts and info may be NULL. bytes are not kept. */
int dl_image_decode(dl_tensor **out, const void *bytes, size_t len, const dl_decode_opts *opts,
                    dl_image_info *info, dl_error *err);

/* Like dl_image_decode, reading the file at path; errors name the file. */
int dl_image_load(dl_tensor **out, const char *path, const dl_decode_opts *opts, dl_image_info *info,
                  dl_error *err);

/* Reads only the header (and EXIF orientation) of an image in memory. */
int dl_image_probe(const void *bytes, size_t len, dl_image_info *info, dl_error *err);

/* Like dl_image_probe for the file at path; reads only its first bytes. */
int dl_image_probe_file(const char *path, dl_image_info *info, dl_error *err);

typedef enum dl_resize_mode {
  DL_RESIZE_BILINEAR = 0, /* PIL's Image.BILINEAR: triangle filter, antialiased when downscaling */
  DL_RESIZE_BOX = 1       /* PIL's Image.BOX: area average when downscaling */
} dl_resize_mode;

/* Resizes src (u8 H×W×C) to height×width. Matches PIL's Image.resize for
 * 1- and 3-channel images (alpha is resized as a plain channel, PIL
 * premultiplies it). Caller owns *out. */
int dl_image_resize(dl_tensor **out, const dl_tensor *src, int32_t width, int32_t height, int32_t mode,
                    dl_error *err);

/* Resizes src into dst (u8 H'×W'×C, same C); dst may be a view into a larger
 * buffer. dst and src must not overlap. */
int dl_image_resize_into(dl_tensor *dst, const dl_tensor *src, int32_t mode, dl_error *err);

/* dst (f32 C×H×W, any strides) = (src / 255 - mean[c]) / std[c] for u8
 * H×W×C src of the same H and W. mean and std hold C values; NULL means 0 and
 * 1. The pipeline passes a view of one batch slot as dst. */
int dl_image_normalize_into(dl_tensor *dst, const dl_tensor *src, const float *mean, const float *std,
                            dl_error *err);

/* Resize then normalize in one pass, without the intermediate u8 image; the
 * result equals dl_image_resize followed by dl_image_normalize_into. dst is
 * f32 C×H'×W'. */
int dl_image_resize_normalize_into(dl_tensor *dst, const dl_tensor *src, int32_t mode, const float *mean,
                                   const float *std, dl_error *err);

/* Decode, resize and normalize in one pass: the result equals dl_image_decode
 * (bytes, opts) followed by dl_image_resize_normalize_into(dst, ...), bit for
 * bit, and so matches PIL. A JPEG that needs no EXIF turn and no channel
 * conversion beyond libjpeg's own goes row by row from the decoder into the
 * resize, so the decoded image is never stored; other files take the two
 * steps. Set opts' min_width and min_height to dst's size to get the DCT
 * scaling. On failure dst holds partial output. info may be NULL. */
int dl_image_decode_resize_normalize_into(dl_tensor *dst, const void *bytes, size_t len,
                                          const dl_decode_opts *opts, int32_t mode, const float *mean,
                                          const float *std, dl_image_info *info, dl_error *err);

/* A view of the width×height region of src whose top-left pixel is (x, y);
 * it must lie inside src. Caller owns *out, which shares src's storage. */
int dl_image_crop(dl_tensor **out, const dl_tensor *src, int32_t x, int32_t y, int32_t width,
                  int32_t height, dl_error *err);

/* A view of the centred width×height region, placed as torchvision's
 * center_crop places it. Caller owns *out, which shares src's storage. */
int dl_image_center_crop(dl_tensor **out, const dl_tensor *src, int32_t width, int32_t height,
                         dl_error *err);

/* Where letterbox put the image: a box (bx, by) in the result maps back to
 * the source as ((bx - x) / scale, (by - y) / scale). */
typedef struct dl_letterbox {
  double scale;    /* resized size / source size, the same on both axes */
  int32_t x;       /* left padding, in result pixels */
  int32_t y;       /* top padding */
  int32_t width;   /* size of the resized image inside the result */
  int32_t height;
} dl_letterbox;

/* Resizes src to fit width×height keeping its aspect ratio, centres it and
 * fills the rest with pad. Caller owns *out. box may be NULL. */
int dl_image_letterbox(dl_tensor **out, const dl_tensor *src, int32_t width, int32_t height, int32_t mode,
                       uint8_t pad, dl_letterbox *box, dl_error *err);

/* Like dl_image_letterbox, into dst (u8 H'×W'×C, same C as src). */
int dl_image_letterbox_into(dl_tensor *dst, const dl_tensor *src, int32_t mode, uint8_t pad,
                            dl_letterbox *box, dl_error *err);

/* Encodes img (u8 H×W×C, C = 1..4) as a PNG, or as a JPEG at quality 1..100
 * (0 means 75, as PIL; JPEG drops an alpha channel). Caller owns *out, a 1-D
 * u8 tensor of the file's bytes. */
int dl_image_encode(dl_tensor **out, const dl_tensor *img, int32_t format, int32_t quality, dl_error *err);

/* Encodes img as dl_image_encode does and writes it to path. */
int dl_image_save(const dl_tensor *img, const char *path, int32_t format, int32_t quality, dl_error *err);

/* ------------------------------------------- batching pipeline (pipeline*.c) */

/* Worker threads turn a list of image items (files or bytes) into batch
 * tensors, in item order, while the caller works on the previous batch:
 *
 *   dl_pipeline_spec spec = {0};
 *   spec.width = 224; spec.height = 224; spec.channels = 3; spec.batch_size = 32;
 *   spec.dtype = DL_F32;  spec.mean[0] = 0.485f; ... spec.std[0] = 0.229f; ...
 *   dl_pipeline *p; dl_pipeline_new(&p, &spec, &e);
 *   for (...) dl_pipeline_add_path(p, path, &e);
 *   dl_pipeline_start(p, &e);
 *   dl_pipeline_batch *b;
 *   while (dl_pipeline_next(p, &b, &e) == 0 && b) {
 *     ... b->tensor is N×C×H×W; b->items[i].status != 0 marks a failed item ...
 *     dl_pipeline_release(p, b);   // views of b->tensor become stale here
 *   }
 *   dl_pipeline_free(p);
 *
 * Each item is read, decoded (JPEG at the DCT scale that still covers the
 * target size), resized and, for f32, normalized straight into its row of a
 * batch buffer. Buffers are recycled: a batch's memory is reused after
 * dl_pipeline_release, and its storage generation is bumped then, so any
 * view made from it fails dl_tensor_check with DL_E_STALE instead of
 * reading reused memory. A bad item fails its own row only (zero-filled). */

typedef enum dl_pipeline_layout {
  DL_LAYOUT_NCHW = 0,
  DL_LAYOUT_NHWC = 1
} dl_pipeline_layout;

typedef enum dl_pipeline_fit {
  DL_FIT_STRETCH = 0,     /* resize to width×height, ignoring the aspect ratio */
  DL_FIT_LETTERBOX = 1,   /* keep the aspect ratio, pad with pad_value (items[i].letterbox says where) */
  DL_FIT_CENTER_CROP = 2  /* keep the aspect ratio, cover width×height, crop the centre */
} dl_pipeline_fit;

typedef struct dl_pipeline_spec {
  int32_t width, height;  /* output size of every item */
  int32_t channels;       /* 1 (L), 3 (RGB) or 4 (RGBA) */
  int32_t layout;         /* a dl_pipeline_layout */
  int32_t dtype;          /* DL_F32: (x/255 - mean) / std; DL_U8: raw pixels (mean/std unused) */
  int32_t resize_mode;    /* a dl_resize_mode */
  int32_t fit;            /* a dl_pipeline_fit */
  int32_t pad_value;      /* letterbox padding, 0..255 */
  float mean[4];          /* per channel; used when dtype is DL_F32 */
  float std[4];           /* per channel; 0 means 1 */
  int32_t batch_size;     /* rows per batch, >= 1 */
  int32_t threads;        /* worker threads; 0: online cores */
  int32_t prefetch;       /* batches kept ready ahead of the consumer; 0: 2 (the minimum) */
  int64_t max_pixels;     /* decode limit; 0: DL_IMAGE_DEFAULT_MAX_PIXELS */
  int64_t max_bytes;      /* a larger item file fails unread; 0: DL_IMAGE_DEFAULT_MAX_BYTES */
} dl_pipeline_spec;

/* How one item of a batch fared. */
typedef struct dl_pipeline_item {
  int32_t status;         /* 0 ok, else the dl_status of the failure */
  int32_t width, height;  /* original size (after EXIF orientation); 0 when unknown */
  int32_t format;         /* a dl_image_format */
  dl_letterbox letterbox; /* where the image sits in its row (scale 1 and zeros unless letterboxed) */
  int64_t bytes;          /* size of the encoded item */
  char message[256];      /* why it failed, naming the file */
} dl_pipeline_item;

typedef struct dl_pipeline_batch {
  dl_tensor *tensor;        /* read-only, owned by the pipeline: N×C×H×W (or N×H×W×C) */
  int64_t first;            /* read-only: item index of row 0 */
  int32_t n;                /* read-only: rows in this batch (the last batch may be short) */
  int32_t index;            /* read-only: batch number, from 0 */
  dl_pipeline_item *items;  /* read-only: n entries */
} dl_pipeline_batch;

typedef struct dl_pipeline dl_pipeline;

/* Caller owns *out; free with dl_pipeline_free. */
int dl_pipeline_new(dl_pipeline **out, const dl_pipeline_spec *spec, dl_error *err);
/* Appends an item read from path (the string is copied). Before start only. */
int dl_pipeline_add_path(dl_pipeline *p, const char *path, dl_error *err);
/* Appends an item held in memory; the bytes are copied. Before start only. */
int dl_pipeline_add_bytes(dl_pipeline *p, const void *bytes, size_t len, dl_error *err);
/* Starts the workers. */
int dl_pipeline_start(dl_pipeline *p, dl_error *err);
/* Blocks until the next batch, in item order, is complete. *out is NULL
 * after the last batch. At most one batch is out at a time: release it
 * before asking for the next. */
int dl_pipeline_next(dl_pipeline *p, dl_pipeline_batch **out, dl_error *err);
/* Gives the batch back for reuse; views of its tensor become stale. */
int dl_pipeline_release(dl_pipeline *p, dl_pipeline_batch *b, dl_error *err);
/* Stops the workers (finishing the item each is on) and frees everything.
 * A batch still out is released first. NULL is a no-op. */
void dl_pipeline_free(dl_pipeline *p);
/* Number of items added. */
int64_t dl_pipeline_count(const dl_pipeline *p);

/* ---------------------------------------------------- nn kernels (nn_*.c) */

/* Layers as forward/backward pairs over contiguous f32 tensors: rows [N, D]
 * or images [N, C, H, W]. The caller allocates every output with the right
 * shape (an error names the expected one); nothing is kept between calls.
 * Backward functions overwrite grad_x and ADD into grad_weight/grad_bias, as
 * PyTorch accumulates .grad. grad_x may be NULL when the input needs no
 * gradient, and grad_bias may be NULL when the layer has no bias. Kernels
 * are thread-safe; a large op (its GEMMs included) runs on a pool of worker
 * threads kept for the life of the process. */

/* y[N,O] = x[N,I] @ weight[O,I]^T + bias[O]; bias may be NULL. */
int dl_nn_linear_forward(const dl_tensor *x, const dl_tensor *weight, const dl_tensor *bias, dl_tensor *y,
                         dl_error *err);
int dl_nn_linear_backward(const dl_tensor *x, const dl_tensor *weight, const dl_tensor *grad_y, dl_tensor *grad_x,
                          dl_tensor *grad_weight, dl_tensor *grad_bias, dl_error *err);

/* Cross-correlation as in PyTorch's Conv2d: x[N,C,H,W], weight[O,C,KH,KW],
 * bias[O] or NULL, y[N,O,OH,OW] with OH = (H + 2*pad_h - KH) / stride_h + 1
 * (likewise OW); zero padding. col (may be NULL), f32 [C*KH*KW, N*OH*OW],
 * receives the unfolded input (im2col; sample s in columns s*OH*OW ..);
 * passing it to backward with the same x saves unfolding again, and
 * backward leaves it as it was. Results do not depend on the number of
 * threads. */
int dl_nn_conv2d_forward(const dl_tensor *x, const dl_tensor *weight, const dl_tensor *bias, dl_tensor *y,
                         int stride_h, int stride_w, int pad_h, int pad_w, dl_tensor *col, dl_error *err);
int dl_nn_conv2d_backward(const dl_tensor *x, const dl_tensor *weight, const dl_tensor *grad_y, dl_tensor *grad_x,
                          dl_tensor *grad_weight, dl_tensor *grad_bias, int stride_h, int stride_w, int pad_h,
                          int pad_w, dl_tensor *col, dl_error *err);

/* Max over kernel windows without padding: x[N,C,H,W] -> y[N,C,OH,OW] with
 * OH = (H - kernel_h) / stride_h + 1. argmax (I32, y's shape) receives the
 * index of each maximum within its H*W plane; the first maximum wins (-0
 * counts below +0), a NaN wins over numbers. Backward routes grad_y to
 * those places. */
int dl_nn_maxpool2d_forward(const dl_tensor *x, dl_tensor *y, dl_tensor *argmax, int kernel_h, int kernel_w,
                            int stride_h, int stride_w, dl_error *err);
int dl_nn_maxpool2d_backward(const dl_tensor *grad_y, const dl_tensor *argmax, dl_tensor *grad_x, dl_error *err);

/* y = max(x, 0), any shape (NaN stays NaN); y may be x. Backward: grad_x =
 * grad_y where x > 0, else 0; grad_x may be grad_y. */
int dl_nn_relu_forward(const dl_tensor *x, dl_tensor *y, dl_error *err);
int dl_nn_relu_backward(const dl_tensor *x, const dl_tensor *grad_y, dl_tensor *grad_x, dl_error *err);

/* Inverted dropout, any shape: each element is kept with probability 1 - p
 * (mask = 1, U8, x's shape) and scaled by 1 / (1 - p), else zeroed. *rng is
 * the caller's generator state (any value seeds it); the call advances it.
 * Backward applies the same mask and scale. 0 <= p <= 1; y may be x. */
int dl_nn_dropout_forward(const dl_tensor *x, double p, uint64_t *rng, dl_tensor *mask, dl_tensor *y,
                          dl_error *err);
int dl_nn_dropout_backward(const dl_tensor *grad_y, const dl_tensor *mask, double p, dl_tensor *grad_x,
                           dl_error *err);

/* Fills t (f32, any shape, contiguous) with values uniform between low and
 * high, drawn from *rng, the generator dropout uses; the call advances it.
 * PyTorch's default init of Linear and Conv2d weights and biases is
 * high = -low = 1 / sqrt(fan_in). */
int dl_nn_fill_uniform(dl_tensor *t, double low, double high, uint64_t *rng, dl_error *err);

/* Softmax cross-entropy averaged over the batch: logits[N,K], labels[N] (I64
 * or I32), each in first_class..first_class+K-1 (0 in C and PyTorch; the
 * Lua API passes 1, its ids counting from 1 like every index in dl). Writes
 * the loss to *loss and, when grad_logits [N,K] is not NULL, d loss / d
 * logits. N must be at least 1. */
int dl_nn_cross_entropy(const dl_tensor *logits, const dl_tensor *labels, int64_t first_class, double *loss,
                        dl_tensor *grad_logits, dl_error *err);

/* Optimizer steps, in place, with torch.optim semantics. param, grad and the
 * state tensors share one shape; state tensors start zero-filled and belong
 * to the caller, who keeps them between steps. step counts from 1. */
typedef struct dl_nn_sgd_opts {
  double lr;
  double momentum;     /* 0 disables the velocity buffer */
  double dampening;
  double weight_decay; /* L2: grad + weight_decay * param */
  int32_t nesterov;    /* 1 for Nesterov momentum (needs momentum > 0, dampening 0) */
} dl_nn_sgd_opts;

/* velocity may be NULL when opts->momentum == 0; on step 1 it is set to the
 * gradient, as torch.optim.SGD does. */
int dl_nn_sgd_step(dl_tensor *param, const dl_tensor *grad, dl_tensor *velocity, const dl_nn_sgd_opts *opts,
                   int64_t step, dl_error *err);

typedef struct dl_nn_adam_opts {
  double lr;
  double beta1, beta2;
  double eps;
  double weight_decay; /* L2 added to the gradient (Adam, not AdamW) */
} dl_nn_adam_opts;

/* exp_avg and exp_avg_sq are the first and second moment estimates. */
int dl_nn_adam_step(dl_tensor *param, const dl_tensor *grad, dl_tensor *exp_avg, dl_tensor *exp_avg_sq,
                    const dl_nn_adam_opts *opts, int64_t step, dl_error *err);

/* ------------------------------------------------ metrics (metrics_*.c) */

/* Scores between ground truth and predictions, one-to-one matching, and the
 * summary numbers of an evaluation, as dtlpy-metrics computes them.
 *
 *   double iou[2 * 3];                      // 2 ground truths x 3 predictions
 *   int32_t gt_match[2], pred_match[3];
 *   dl_metrics_box_iou(gt_boxes, 2, pred_boxes, 3, iou, &e);
 *   dl_metrics_match_greedy(iou, 2, 3, 0.5, gt_match, pred_match, &e);
 *
 * A score matrix is row-major with one row per ground truth annotation and
 * one column per prediction: scores[g * n_pred + p]. Boxes are
 * {left, top, right, bottom} with left <= right and top <= bottom; points are
 * {x, y}. Every score lies in [0, 1], and a pair whose union is empty scores
 * 0. Coordinates must be finite (DL_E_NUMERIC otherwise). */

enum {
  DL_METRICS_PR_POINTS = 101,     /* recall levels 0, 0.01, ..., 1 (COCO) */
  DL_METRICS_IOU_THRESHOLDS = 10  /* 0.50, 0.55, ..., 0.95 (COCO) */
};

/* IoU of every box of gt[4 * n_gt] with every box of pred[4 * n_pred] into
 * out[n_gt * n_pred]. */
int dl_metrics_box_iou(const double *gt, int n_gt, const double *pred, int n_pred, double *out, dl_error *err);

/* dtlpy's point score exp(-20 * distance / diagonal), where diagonal is that
 * of the width x height image: 1 on the spot, 0.5 at 3.5% of the diagonal.
 * gt[2 * n_gt] and pred[2 * n_pred] into out[n_gt * n_pred]. */
int dl_metrics_point_score(const double *gt, int n_gt, const double *pred, int n_pred, double width,
                           double height, double *out, dl_error *err);

/* IoU of polygons a and b, each a set of rings: ring i has ring_len[i]
 * vertices, and xy holds 2 * sum(ring_len) values {x0, y0, x1, y1, ...}.
 * Inside follows the even-odd rule (a point is inside when a ray from it
 * crosses the rings an odd number of times), so a ring within a ring is a
 * hole. Both polygons are rasterised by scanline on one grid of 1024 rows
 * spanning their joint height, with spans measured exactly along each row:
 * the error stays near 1/1024 of that height however small the polygons are
 * (a pixel grid would round small polygons away). Rings with fewer than three
 * vertices enclose nothing. */
int dl_metrics_polygon_iou(const double *xy_a, const int32_t *ring_len_a, int n_rings_a, const double *xy_b,
                           const int32_t *ring_len_b, int n_rings_b, double *iou, dl_error *err);

/* IoU of two height x width u8 masks; a non-zero byte is set. */
int dl_metrics_mask_iou(const uint8_t *a, const uint8_t *b, int64_t height, int64_t width, double *iou,
                        dl_error *err);

/* dtlpy-metrics' greedy matching: take the largest cell of
 * scores[n_gt * n_pred] that is >= threshold, pair its ground truth and
 * prediction, strike out both, repeat. Equal cells go to the lowest
 * prediction index, then the lowest ground truth index. gt_match[n_gt]
 * receives each ground truth's prediction, pred_match[n_pred] each
 * prediction's ground truth, -1 when unmatched; either may be NULL. */
int dl_metrics_match_greedy(const double *scores, int n_gt, int n_pred, double threshold, int32_t *gt_match,
                            int32_t *pred_match, dl_error *err);

/* Average precision of one label from its n_det detections (confidence[i],
 * and match_score[i], the score of the ground truth it was matched to, or 0)
 * against n_gt > 0 ground truths. A detection is a true positive when
 * match_score >= threshold. Detections are ranked by confidence, highest
 * first (ties keep their order). Interpolation is COCO's 101-point one:
 * precision[k] = the best precision at any recall >= k / 100 (0 when that
 * recall is never reached), and *ap is the mean of the 101 values. precision
 * may be NULL, else it receives DL_METRICS_PR_POINTS values. */
int dl_metrics_average_precision(const double *confidence, const double *match_score, int64_t n_det,
                                 int64_t n_gt, double threshold, double *ap, double *precision, dl_error *err);

/* COCO's mAP@[.5:.95] of one label: the AP at each IoU threshold 0.50, 0.55,
 * ..., 0.95 into ap_by_threshold[DL_METRICS_IOU_THRESHOLDS] (may be NULL),
 * and their mean into *map. Arguments as dl_metrics_average_precision. One
 * greedy matching made at a threshold <= 0.5 serves every threshold t
 * exactly: greedy picks cells in descending order, so its pairs scoring
 * >= t are the pairs greedy matching at t would make. */
int dl_metrics_map_coco(const double *confidence, const double *match_score, int64_t n_det, int64_t n_gt,
                        double *ap_by_threshold, double *map, dl_error *err);

/* Adds n (ground truth, prediction) class pairs to counts[n_classes *
 * n_classes], row = ground truth, column = prediction. Indexes must lie in
 * 0..n_classes-1; on a bad one nothing is added. */
int dl_metrics_confusion_add(int64_t *counts, int n_classes, const int32_t *gt, const int32_t *pred, int64_t n,
                             dl_error *err);

/* Per class from a confusion matrix: precision = diagonal / column sum,
 * recall = diagonal / row sum, f1 = their harmonic mean, support = row sum
 * (an empty denominator gives 0, as scikit-learn's zero_division=0); and
 * accuracy = trace / total (0 for an empty matrix). Each output array has
 * n_classes entries; any output may be NULL. */
int dl_metrics_confusion_scores(const int64_t *counts, int n_classes, double *precision, double *recall,
                                double *f1, int64_t *support, double *accuracy, dl_error *err);

/* ------------------------------------------ similarity (similarity.c) */

/* Cosine nearest neighbours over row vectors, through sgemm in blocks.
 *
 *   dl_similarity_normalize(base, n, d);            // rows to unit length
 *   dl_similarity_normalize(queries, nq, d);
 *   dl_similarity_topk(queries, nq, base, n, d, 10, -1, idx, scores, &e);
 *
 * idx[q * k + j] is the row of base with the j-th highest cosine to query q
 * (scores[q * k + j]), best first; ties keep the lower row first. When k > n
 * the tail holds -1 and NaN. */

/* Scales each of the n rows of x (d floats) to unit L2 norm; an all-zero
 * row stays zero (its cosine with anything is 0). */
void dl_similarity_normalize(float *x, int64_t n, int64_t d);

/* For each query row, the k rows of base with the highest dot product.
 * Row self_offset + q of base is skipped for query q, so a set searched
 * against itself does not find each vector as its own neighbour; pass -1
 * to skip nothing. */
int dl_similarity_topk(const float *queries, int64_t nq, const float *base, int64_t n, int64_t d, int64_t k,
                       int64_t self_offset, int64_t *idx, float *scores, dl_error *err);

/* ffi-end */

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif /* DL_NATIVE_H */
