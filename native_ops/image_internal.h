/* image_internal.h — private helpers shared by the image_*.c files. */
#ifndef DL_IMAGE_INTERNAL_H
#define DL_IMAGE_INTERNAL_H

#include "internal.h"

/* Options with the defaults filled in. */
typedef struct dl__decode_cfg {
  int64_t max_pixels;
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

/* Expands to the three arguments of a "%s%s%s" message prefix:
 * "file 'x.jpg': " when decoding a file, "" for memory. */
#define DL__IMAGE_WHERE(name) (name) ? "file '" : "", (name) ? (name) : "", (name) ? "': " : ""

#endif
