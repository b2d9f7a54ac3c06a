/* Encoding u8 H×W×C images as PNG (libspng) or JPEG (jpeglib), to memory or
 * to a file. Rows are handed over one at a time, so strided views encode
 * without a copy. */
#include "image_internal.h"

#include <errno.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <spng.h>

static const uint8_t *row_at(const dl_tensor *img, int64_t y) {
  return (const uint8_t *)img->ptr + y * img->strides[0];
}

/* *png is malloc'ed (caller frees). */
static int encode_png(uint8_t **png, size_t *len, const dl_tensor *img, dl_error *err) {
  static const uint8_t color_types[5] = {0, SPNG_COLOR_TYPE_GRAYSCALE, SPNG_COLOR_TYPE_GRAYSCALE_ALPHA,
                                         SPNG_COLOR_TYPE_TRUECOLOR, SPNG_COLOR_TYPE_TRUECOLOR_ALPHA};
  spng_ctx *ctx = spng_ctx_new(SPNG_CTX_ENCODER);
  if (!ctx) return dl__fail(err, DL_E_NOMEM, "cannot allocate a PNG encoder");
  struct spng_ihdr ihdr = {.width = (uint32_t)img->shape[1],
                           .height = (uint32_t)img->shape[0],
                           .bit_depth = 8,
                           .color_type = color_types[img->shape[2]]};
  int e = spng_set_option(ctx, SPNG_ENCODE_TO_BUFFER, 1);
  if (!e) e = spng_set_ihdr(ctx, &ihdr);
  if (!e) e = spng_encode_image(ctx, NULL, 0, SPNG_FMT_PNG, SPNG_ENCODE_PROGRESSIVE | SPNG_ENCODE_FINALIZE);
  size_t row = (size_t)(img->shape[1] * img->shape[2]);
  for (int64_t y = 0; !e && y < img->shape[0]; y++) {
    e = spng_encode_row(ctx, row_at(img, y), row);
    if (e == SPNG_EOI) e = 0; /* the last row finalizes the file */
  }
  if (!e) *png = spng_get_png_buffer(ctx, len, &e);
  spng_ctx_free(ctx);
  if (e) return dl__fail(err, e == SPNG_EMEM ? DL_E_NOMEM : DL_E_INVAL, "PNG encoder: %s", spng_strerror(e));
  return DL_OK;
}

/* State that must survive a longjmp lives outside the setjmp frame. */
typedef struct jpeg_job {
  struct jpeg_compress_struct cinfo;
  struct jpeg_error_mgr jerr;
  jmp_buf jump;
  unsigned char *buf; /* the file, malloc'ed by jpeg_mem_dest */
  unsigned long len;
  uint8_t *gray; /* row buffer for gray+alpha, owned */
} jpeg_job;

static void on_error(j_common_ptr cinfo) { longjmp(((jpeg_job *)cinfo->client_data)->jump, 1); }

static void compress_rows(jpeg_job *job, const dl_tensor *img, int quality) {
  struct jpeg_compress_struct *c = &job->cinfo;
  int C = (int)img->shape[2];
  c->image_width = (JDIMENSION)img->shape[1];
  c->image_height = (JDIMENSION)img->shape[0];
  /* Alpha cannot go into a JPEG: RGBX skips it, gray+alpha is copied out. */
  c->input_components = C == 2 ? 1 : C;
  c->in_color_space = C <= 2 ? JCS_GRAYSCALE : C == 3 ? JCS_RGB : JCS_EXT_RGBX;
  jpeg_set_defaults(c);
  jpeg_set_quality(c, quality, TRUE);
  jpeg_mem_dest(c, &job->buf, &job->len);
  jpeg_start_compress(c, TRUE);
  while (c->next_scanline < c->image_height) {
    const uint8_t *src = row_at(img, c->next_scanline);
    JSAMPROW row = (JSAMPROW)src;
    if (C == 2) {
      for (JDIMENSION x = 0; x < c->image_width; x++) job->gray[x] = src[2 * x];
      row = job->gray;
    }
    jpeg_write_scanlines(c, &row, 1);
  }
  jpeg_finish_compress(c);
}

static int compress_guarded(jpeg_job *job, const dl_tensor *img, int quality, dl_error *err) {
  if (setjmp(job->jump)) {
    char msg[JMSG_LENGTH_MAX];
    job->jerr.format_message((j_common_ptr)&job->cinfo, msg);
    return dl__fail(err, DL_E_INVAL, "JPEG encoder: %s", msg);
  }
  job->cinfo.err = jpeg_std_error(&job->jerr);
  job->jerr.error_exit = on_error;
  job->cinfo.client_data = job;
  jpeg_create_compress(&job->cinfo);
  compress_rows(job, img, quality);
  return DL_OK;
}

/* *jpeg is malloc'ed (caller frees). */
static int encode_jpeg(uint8_t **jpeg, size_t *len, const dl_tensor *img, int quality, dl_error *err) {
  jpeg_job *job = calloc(1, sizeof *job);
  if (!job) return dl__fail(err, DL_E_NOMEM, "cannot allocate a JPEG encoder");
  int rc = DL_OK;
  if (img->shape[2] == 2) {
    job->gray = malloc((size_t)img->shape[1]);
    if (!job->gray) rc = dl__fail(err, DL_E_NOMEM, "cannot allocate a JPEG row");
  }
  if (rc == DL_OK) rc = compress_guarded(job, img, quality, err);
  jpeg_destroy_compress(&job->cinfo);
  if (rc == DL_OK) {
    *jpeg = job->buf;
    *len = job->len;
  } else {
    free(job->buf);
  }
  free(job->gray);
  free(job);
  return rc;
}

/* *bytes is malloc'ed (caller frees). */
static int encode(uint8_t **bytes, size_t *len, const dl_tensor *img, int32_t format, int32_t quality,
                  dl_error *err) {
  *bytes = NULL;
  int rc = dl__image_check(img, "img", err);
  if (rc < 0) return rc;
  if (img->shape[0] > 65535 || img->shape[1] > 65535)
    return dl__fail(err, DL_E_TOO_LARGE,
                    "img is %lld x %lld; JPEG and PNG encoding here stop at 65535 a side",
                    (long long)img->shape[1], (long long)img->shape[0]);
  if (format == DL_IMAGE_PNG) return encode_png(bytes, len, img, err);
  if (format != DL_IMAGE_JPEG)
    return dl__fail(err, DL_E_INVAL, "format %d is not DL_IMAGE_JPEG (1) or DL_IMAGE_PNG (2)", format);
  if (quality < 0 || quality > 100)
    return dl__fail(err, DL_E_INVAL, "JPEG quality %d is outside 1..100", quality);
  return encode_jpeg(bytes, len, img, quality ? quality : 75, err);
}

int dl_image_encode(dl_tensor **out, const dl_tensor *img, int32_t format, int32_t quality, dl_error *err) {
  if (!out) return dl__fail(err, DL_E_INVAL, "out is NULL");
  *out = NULL;
  uint8_t *bytes;
  size_t len;
  int rc = encode(&bytes, &len, img, format, quality, err);
  if (rc < 0) return rc;
  int64_t shape[1] = {(int64_t)len};
  rc = dl_tensor_empty(out, DL_U8, 1, shape, err);
  if (rc == DL_OK) memcpy((*out)->ptr, bytes, len);
  free(bytes);
  return rc;
}

int dl_image_save(const dl_tensor *img, const char *path, int32_t format, int32_t quality, dl_error *err) {
  if (!path) return dl__fail(err, DL_E_INVAL, "path is NULL");
  uint8_t *bytes;
  size_t len;
  int rc = encode(&bytes, &len, img, format, quality, err);
  if (rc < 0) return rc;
  FILE *f = fopen(path, "wb");
  if (!f) {
    rc = dl__fail(err, DL_E_IO, "file '%s': %s", path, strerror(errno));
  } else {
    size_t put = fwrite(bytes, 1, len, f);
    int failed = put != len || fflush(f) != 0;
    int e = errno;
    if (fclose(f) != 0 && !failed) {
      failed = 1;
      e = errno;
    }
    if (failed)
      rc = dl__fail(err, DL_E_IO, "file '%s': writing %zu bytes failed: %s", path, len, strerror(e));
  }
  free(bytes);
  return rc;
}
