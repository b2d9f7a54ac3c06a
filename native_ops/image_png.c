/* PNG decoding with libspng: every colour type and bit depth, tRNS,
 * interlacing, 16-bit samples (narrowed to their high byte, or kept). */
#include "image_internal.h"

#include <stdlib.h>
#include <string.h>

#include <spng.h>

/* libspng keeps ancillary chunks (text, ICC profiles) in memory; bound them
 * so a small file cannot make it hold much more than the image. */
enum { CHUNK_LIMIT = 64 << 20 };

static int spng_failure(int e, const char *name, dl_error *err) {
  int code = DL_E_DECODE;
  if (e == SPNG_EMEM) code = DL_E_NOMEM;
  if (e == SPNG_ESIGNATURE) code = DL_E_FORMAT;
  if (e == SPNG_EUSER_WIDTH || e == SPNG_EUSER_HEIGHT || e == SPNG_ECHUNK_LIMITS) code = DL_E_TOO_LARGE;
  return dl__fail(err, code, "%s%s%sPNG: %s", DL__IMAGE_WHERE(name), spng_strerror(e));
}

static int stored_channels(uint8_t color_type) {
  switch (color_type) {
    case SPNG_COLOR_TYPE_GRAYSCALE:
      return 1;
    case SPNG_COLOR_TYPE_GRAYSCALE_ALPHA:
      return 2;
    case SPNG_COLOR_TYPE_TRUECOLOR_ALPHA:
      return 4;
  }
  return 3; /* truecolor, indexed */
}

/* Creates *ctx over bytes and reads the header into info; caller frees *ctx
 * (spng_ctx_free), also on failure. */
static int open_png(spng_ctx **ctx, struct spng_ihdr *ihdr, int *has_trns, const unsigned char *bytes,
                    size_t len, dl_image_info *info, const char *name, dl_error *err) {
  *ctx = spng_ctx_new(0);
  if (!*ctx) return dl__fail(err, DL_E_NOMEM, "cannot allocate a PNG decoder");
  int e = spng_set_chunk_limits(*ctx, CHUNK_LIMIT, CHUNK_LIMIT);
  if (!e) e = spng_set_png_buffer(*ctx, bytes, len);
  if (!e) e = spng_get_ihdr(*ctx, ihdr);
  if (e) return spng_failure(e, name, err);

  /* Chunks before IDAT; a failure here resurfaces when decoding. */
  struct spng_trns trns;
  *has_trns = spng_get_trns(*ctx, &trns) == 0;
  struct spng_exif exif;
  int orientation = 1;
  if (spng_get_exif(*ctx, &exif) == 0)
    orientation = dl__exif_orientation((const unsigned char *)exif.data, exif.length);

  memset(info, 0, sizeof *info);
  info->format = DL_IMAGE_PNG;
  int swap = dl__orientation_transposes(orientation);
  info->width = (int32_t)(swap ? ihdr->height : ihdr->width);
  info->height = (int32_t)(swap ? ihdr->width : ihdr->height);
  info->channels = stored_channels(ihdr->color_type);
  info->bit_depth = ihdr->bit_depth;
  info->orientation = orientation;
  info->scale_denom = 1;
  return DL_OK;
}

int dl__png_probe(const unsigned char *bytes, size_t len, dl_image_info *info, const char *name,
                  dl_error *err) {
  spng_ctx *ctx;
  struct spng_ihdr ihdr;
  int has_trns;
  int rc = open_png(&ctx, &ihdr, &has_trns, bytes, len, info, name, err);
  spng_ctx_free(ctx);
  return rc;
}

/* Copies channels 0..n-2 and the alpha (3) of RGBA samples, or the first n
 * when n is 3 or 1: RGBA becomes L, LA, RGB or RGBA again. */
static void pack_rgba(dl_tensor *dst, const void *rgba, int wide) {
  int n = (int)dst->shape[2];
  static const int pick[5][4] = {{0}, {0}, {0, 3}, {0, 1, 2}, {0, 1, 2, 3}};
  int64_t pixels = dst->shape[0] * dst->shape[1];
  for (int64_t i = 0; i < pixels; i++) {
    for (int c = 0; c < n; c++) {
      if (wide) {
        ((int32_t *)dst->ptr)[i * n + c] = ((const uint16_t *)rgba)[i * 4 + pick[n][c]];
      } else {
        ((uint8_t *)dst->ptr)[i * n + c] = ((const uint8_t *)rgba)[i * 4 + pick[n][c]];
      }
    }
  }
}

static int decode_pixels(spng_ctx *ctx, const struct spng_ihdr *ihdr, int has_trns, const dl__decode_cfg *cfg,
                         dl_tensor **raw, const char *name, dl_error *err) {
  int wide = cfg->keep_16bit && ihdr->bit_depth == 16;
  int want_alpha = cfg->channels == 2 || cfg->channels == 4;
  int n = stored_channels(ihdr->color_type);
  /* tRNS becomes an alpha channel for a palette (PIL has no channel for "P"
   * to keep), and for gray or RGB only when the caller asks for alpha. */
  if (has_trns && (n == 1 || n == 3) && (want_alpha || ihdr->color_type == SPNG_COLOR_TYPE_INDEXED)) n++;

  int64_t shape[3] = {ihdr->height, ihdr->width, n};
  int rc = dl_tensor_empty(raw, wide ? DL_I32 : DL_U8, 3, shape, err);
  if (rc < 0) return rc;

  /* libspng writes G8, RGB8 and RGBA8 straight into the tensor; the other
   * layouts go through RGBA and are packed. */
  int fmt = wide ? SPNG_FMT_RGBA16 : SPNG_FMT_RGBA8;
  int direct = !wide && (n == 3 || n == 4 || (n == 1 && ihdr->bit_depth <= 8));
  if (direct && n == 1) fmt = SPNG_FMT_G8;
  if (direct && n == 3) fmt = SPNG_FMT_RGB8;
  int flags = fmt == SPNG_FMT_G8 || fmt == SPNG_FMT_RGB8 ? 0 : SPNG_DECODE_TRNS;

  size_t size;
  int e = spng_decoded_image_size(ctx, fmt, &size);
  if (e) return spng_failure(e, name, err);
  void *buf = direct ? (*raw)->ptr : malloc(size);
  if (!buf) return dl__fail(err, DL_E_NOMEM, "cannot allocate %zu bytes to decode a PNG", size);
  e = spng_decode_image(ctx, buf, size, fmt, flags);
  if (!e && !direct) pack_rgba(*raw, buf, wide);
  if (!direct) free(buf);
  return e ? spng_failure(e, name, err) : DL_OK;
}

int dl__png_decode(dl_tensor **raw, const unsigned char *bytes, size_t len, const dl__decode_cfg *cfg,
                   dl_image_info *info, const char *name, dl_error *err) {
  *raw = NULL;
  spng_ctx *ctx;
  struct spng_ihdr ihdr;
  int has_trns;
  int rc = open_png(&ctx, &ihdr, &has_trns, bytes, len, info, name, err);
  if (rc == DL_OK && !cfg->apply_exif && dl__orientation_transposes(info->orientation)) {
    info->width = (int32_t)ihdr.width;
    info->height = (int32_t)ihdr.height;
  }
  if (rc == DL_OK) rc = dl__check_pixels(info, cfg->max_pixels, name, err);
  if (rc == DL_OK) rc = decode_pixels(ctx, &ihdr, has_trns, cfg, raw, name, err);
  spng_ctx_free(ctx);
  if (rc < 0) {
    dl_tensor_release(*raw);
    *raw = NULL;
  }
  return rc;
}
