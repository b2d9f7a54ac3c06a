/* image_internal.h — private helpers shared by the image_*.c files. */
#ifndef DL_IMAGE_INTERNAL_H
#define DL_IMAGE_INTERNAL_H

#include "internal.h"

#include <string.h>

/* Options with the defaults filled in. */
typedef struct dl__decode_cfg {
  int64_t max_pixels, max_bytes;
  int32_t channels, min_width, min_height, apply_exif, keep_16bit;
} dl__decode_cfg;

/* The codecs. They decode into *raw, a new tensor (caller owns) holding the
 * image as stored: H×W×C with C its natural channel count, not yet turned
 * upright; DL_U8, or DL_I32 for a kept 16-bit PNG. CMYK arrives as RGB, a
 * palette as RGB or RGBA. name is the file name for messages, or NULL. */
int dl__jpeg_decode(dl_tensor **raw, const unsigned char *bytes, size_t len, const dl__decode_cfg *cfg,
                    dl_image_info *info, const char *name, dl_error *err);
int dl__jpeg_probe(const unsigned char *bytes, size_t len, dl_image_info *info, const char *name,
                   dl_error *err);
int dl__png_decode(dl_tensor **raw, const unsigned char *bytes, size_t len, const dl__decode_cfg *cfg,
                   dl_image_info *info, const char *name, dl_error *err);
int dl__png_probe(const unsigned char *bytes, size_t len, dl_image_info *info, const char *name,
                  dl_error *err);

/* DL_E_TOO_LARGE when info's width × height exceeds max_pixels. Codecs call
 * it right after the header, before allocating any pixel memory. */
int dl__check_pixels(const dl_image_info *info, int64_t max_pixels, const char *name, dl_error *err);

/* DL_E_TOO_LARGE, naming path and both sizes, when a file of size bytes is
 * over max_bytes. Readers check it from fstat before reading a byte, so
 * that a huge file is never read only for the pixel limit to refuse it. */
int dl__check_file_bytes(const char *path, int64_t size, int64_t max_bytes, dl_error *err);

/* The EXIF orientation (1..8) in a TIFF-structured EXIF block (what follows
 * "Exif\0\0" in a JPEG's APP1); 1 when absent or malformed. */
int dl__exif_orientation(const unsigned char *tiff, size_t len);

/* 1 when orientation swaps width and height (5..8). */
int dl__orientation_transposes(int orientation);

/* Turns raw upright per orientation and converts it to channels (1..4, or 0
 * for raw's own). Takes ownership of raw; caller owns *out (which may be raw
 * itself when nothing changes). */
int dl__image_finish(dl_tensor **out, dl_tensor *raw, int orientation, int channels, dl_error *err);

/* Checks that t is a u8 H×W×C image (C 1..4) with packed pixels; what names
 * the argument in the message. */
int dl__image_check(const dl_tensor *t, const char *what, dl_error *err);

/* Per-channel tables of (v / 255 - mean[c]) / std[c] for v in 0..255. */
typedef struct dl__norm_lut {
  float v[4][256];
  int C;
} dl__norm_lut;

/* Fills lut for C channels; mean/std may be NULL (0 and 1). DL_E_NUMERIC
 * for a non-finite value or a zero std. */
int dl__norm_lut_init(dl__norm_lut *lut, int C, const float *mean, const float *std, dl_error *err);

/* Writes one packed u8 row (W × C) as row y of each plane of dst (f32
 * C×H×W, any strides). */
void dl__normalize_row(dl_tensor *dst, int64_t y, const uint8_t *row, const dl__norm_lut *lut);

/* Checks that dst is a usable f32 C×H×W tensor; H or W < 0 skips that dim. */
int dl__planes_check(const dl_tensor *dst, int64_t C, int64_t H, int64_t W, dl_error *err);

/* The taps of one resize axis in Pillow's 22-bit fixed point: output i reads
 * count[i] inputs from first[i], with weights k[i * ksize ...] (all >= 0 for
 * the bilinear and box filters). Equal sizes give the identity (weights 1
 * and 0). */
enum { DL__RESIZE_BITS = 22 };
typedef struct dl__axis {
  int32_t out, ksize;
  int32_t *first, *count, *k;
} dl__axis;

/* Pillow's precompute_coeffs and normalize_coeffs_8bpc. Returns 0, or -1
 * when out of memory. */
int dl__axis_init(dl__axis *a, int64_t in_size, int32_t out_size, int mode);
void dl__axis_free(dl__axis *a);

/* The arithmetic both resizes share (image_resize.c, and the fused resize
 * into planes, image_planes.c): a sum of taps starts at DL__RESIZE_HALF,
 * so that the shift back to u8 rounds, and saturates to 0..255 (clip8). */
enum { DL__RESIZE_HALF = 1 << (DL__RESIZE_BITS - 1) };

static inline uint8_t dl__clip8(int32_t v) {
  if (v >= (1 << DL__RESIZE_BITS << 8)) return 255;
  if (v <= 0) return 0;
  return (uint8_t)(v >> DL__RESIZE_BITS);
}

/* Plain x86-64 (SSE2) has no 32-bit lane multiply, so the portable resize
 * loops are also built for SSE4.1 and AVX2 (DL__CLONES on a function), and
 * the loader picks the best the CPU runs. */
#if defined(__x86_64__)
#define DL__CLONES __attribute__((target_clones("avx2", "sse4.1", "default")))
#else
#define DL__CLONES
#endif

/* Four int32 lanes (a GCC/clang vector extension, lowered to SSE or NEON).
 * The arithmetic is the scalar one lane by lane, so results stay exact. */
typedef int32_t dl__lanes __attribute__((vector_size(16)));

/* Four bytes at p, widened to lanes. */
static inline dl__lanes dl__load4(const uint8_t *p) {
  typedef uint8_t bytes4 __attribute__((vector_size(4)));
  bytes4 b;
  memcpy(&b, p, sizeof b);
  return __builtin_convertvector(b, dl__lanes);
}

/* dl__clip8 on every lane: comparisons give -1 in the lanes where they hold. */
static inline dl__lanes dl__clip_lanes(dl__lanes s) {
  dl__lanes v = s >> DL__RESIZE_BITS;
  v &= ~(v < 0);
  dl__lanes over = v > 255;
  return (v & ~over) | (over & 255);
}

/* Resize + normalize into f32 planes, fed one source row at a time, in
 * order, so a decoder can hand over each row as it makes it and the whole
 * source image never has to exist. Same arithmetic as PIL (horizontal pass
 * first, u8 rounding between passes), then (v / 255 - mean) / std: the result
 * equals dl_image_resize followed by dl_image_normalize_into, bit for bit.
 * Only the last ksize horizontally resized rows are kept. */
typedef struct dl__planes {
  dl_tensor *dst; /* f32 C×H×W, any strides */
  int C;          /* channels: bytes per source pixel, and planes of dst */
  int32_t in_w, in_h;
  dl__axis h, v;
  int32_t row_first, row_end; /* source rows the vertical pass reads */
  int32_t next_out;           /* next output row to write */
  int32_t ring, stride;       /* resized rows kept per plane; bytes per row */
  uint8_t *rows;              /* C planes of ring rows */
  const uint8_t **taps;       /* ring rows of the output row being written */
  int simd;                   /* 1: the x86-64 AVX2 (+ FMA) kernels */
  int fast_norm;              /* 1: the AVX2 normalize may skip vdivps (exact here) */
  /* The AVX2 horizontal kernel's tables (see image_planes.c). */
  int32_t groups, last, blocks, vec_blocks, tail_first;
  int32_t *hoff, *hk;
  uint8_t *tail;
  float mean[4], std[4];
  dl__norm_lut lut;
} dl__planes;

/* Prepares p to resize an in_w×in_h source of C channels (1..4) into dst,
 * which the caller has checked (dl__planes_check). Caller frees p. */
int dl__planes_init(dl__planes *p, dl_tensor *dst, int64_t in_w, int64_t in_h, int C, int mode,
                    const float *mean, const float *std, dl_error *err);

/* Hands over source row y (in_w × C packed bytes). Rows must come in order;
 * the ones outside [row_first, row_end) may be skipped. Output rows are
 * written to dst as soon as their source rows are in. */
void dl__planes_push(dl__planes *p, int64_t y, const uint8_t *row);
void dl__planes_free(dl__planes *p);

/* For tests: which kernels dl__planes_init picks from now on. */
enum {
  DL__KERNELS_BEST = 0,         /* the fastest the CPU runs */
  DL__KERNELS_PORTABLE = 1,     /* the portable ones, even where AVX2 runs */
  DL__KERNELS_NO_FAST_NORM = 2  /* AVX2, normalizing with divisions only */
};
void dl__planes_force(int kernels);

/* Returned by dl__jpeg_decode_rows for a file it leaves to the whole-image
 * path (an EXIF turn, CMYK, a channel conversion libjpeg does not make). */
enum { DL__DECLINED = 1 };

/* Where dl__jpeg_decode_rows sends the image. begin gets the size of the
 * (DCT-scaled) rows to come and their channels (bytes per pixel); it returns
 * DL_OK, or a dl_status < 0 with err set to stop. row gets each row, top to
 * bottom; the buffer is reused for the next row. */
typedef struct dl__row_sink {
  int (*begin)(void *ctx, int32_t width, int32_t height, int channels, dl_error *err);
  void (*row)(void *ctx, int32_t y, const uint8_t *row);
  void *ctx;
} dl__row_sink;

/* Decodes a JPEG row by row into sink, with what dl__jpeg_decode and
 * dl__image_finish would make: same scale, same samples, cfg->channels 0, 3
 * or 4 (or 1 for a grayscale file). Returns DL_OK, a dl_status < 0, or
 * DL__DECLINED (nothing sent) for the cases it leaves to them. */
int dl__jpeg_decode_rows(const unsigned char *bytes, size_t len, const dl__decode_cfg *cfg, dl_image_info *info,
                         const char *name, const dl__row_sink *sink, dl_error *err);

/* Expands to the three arguments of a "%s%s%s" message prefix:
 * "file 'x.jpg': " when decoding a file, "" for memory. */
#define DL__IMAGE_WHERE(name) (name) ? "file '" : "", (name) ? (name) : "", (name) ? "': " : ""

#endif
