/* JPEG decoding with libjpeg-turbo's jpeglib: DCT-domain downscaling, EXIF
 * orientation, grayscale, CMYK/YCCK, progressive. Every call owns its own
 * decompressor, so decoding is thread-safe. */
#include "image_internal.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <jerror.h>

/* A progressive file with more scans than this is an attack, not a photo
 * (TurboJPEG's TJFLAG_LIMITSCANS uses the same bound). */
enum { MAX_SCANS = 500 };

/* All state a longjmp may leave behind lives here, outside the frame that
 * calls setjmp, so it stays well defined after the jump. */
typedef struct jpeg_job {
  struct jpeg_decompress_struct cinfo;
  struct jpeg_error_mgr jerr;
  struct jpeg_progress_mgr progress;
  jmp_buf jump;
  char msg[JMSG_LENGTH_MAX];
  dl_tensor *out;     /* owned until handed to the caller */
  unsigned char *row; /* row buffer (CMYK, or rows handed to a sink), owned */
} jpeg_job;

static void on_error(j_common_ptr cinfo) {
  jpeg_job *job = (jpeg_job *)cinfo->client_data;
  cinfo->err->format_message(cinfo, job->msg);
  longjmp(job->jump, 1);
}

/* libjpeg repairs most corrupt data with a warning, and PIL accepts such
 * files, so warnings pass, except the two that mean the data ended before
 * the image did: a truncated file would otherwise decode half grey. */
static void on_message(j_common_ptr cinfo, int level) {
  int code = cinfo->err->msg_code;
  if (level == -1 && (code == JWRN_JPEG_EOF || code == JWRN_HIT_MARKER)) on_error(cinfo);
}

static void on_progress(j_common_ptr cinfo) {
  j_decompress_ptr d = (j_decompress_ptr)cinfo;
  if (d->progressive_mode && d->input_scan_number > MAX_SCANS) {
    jpeg_job *job = (jpeg_job *)cinfo->client_data;
    snprintf(job->msg, sizeof job->msg, "progressive JPEG has more than %d scans", MAX_SCANS);
    longjmp(job->jump, 1);
  }
}

/* Sets up job->cinfo over bytes and reads the header (with APP1 saved).
 * Must be called inside the setjmp frame. */
static void read_header(jpeg_job *job, const unsigned char *bytes, size_t len) {
  job->cinfo.err = jpeg_std_error(&job->jerr);
  job->jerr.error_exit = on_error;
  job->jerr.emit_message = on_message;
  job->cinfo.client_data = job;
  jpeg_create_decompress(&job->cinfo);
  job->progress.progress_monitor = on_progress;
  job->cinfo.progress = &job->progress;
  jpeg_mem_src(&job->cinfo, bytes, (unsigned long)len);
  jpeg_save_markers(&job->cinfo, JPEG_APP0 + 1, 0xFFFF);
  jpeg_read_header(&job->cinfo, TRUE);
}

static int find_orientation(j_decompress_ptr cinfo) {
  for (jpeg_saved_marker_ptr m = cinfo->marker_list; m; m = m->next) {
    if (m->marker == JPEG_APP0 + 1 && m->data_length > 6 && memcmp(m->data, "Exif\0\0", 6) == 0)
      return dl__exif_orientation(m->data + 6, m->data_length - 6);
  }
  return 1;
}

static void fill_info(dl_image_info *info, j_decompress_ptr cinfo, int orientation, int apply_exif) {
  memset(info, 0, sizeof *info);
  info->format = DL_IMAGE_JPEG;
  int swap = apply_exif && dl__orientation_transposes(orientation);
  info->width = (int32_t)(swap ? cinfo->image_height : cinfo->image_width);
  info->height = (int32_t)(swap ? cinfo->image_width : cinfo->image_height);
  info->channels = cinfo->num_components;
  info->bit_depth = cinfo->data_precision;
  info->orientation = orientation;
  info->scale_denom = 1;
  info->is_cmyk = cinfo->jpeg_color_space == JCS_CMYK || cinfo->jpeg_color_space == JCS_YCCK;
}

/* The largest of 8, 4, 2 whose output (ceil(size / d), as libjpeg rounds)
 * still covers what the caller needs; 1 when none does or none was asked. */
static int pick_scale(unsigned width, unsigned height, int32_t need_w, int32_t need_h) {
  if (need_w <= 0 && need_h <= 0) return 1;
  for (int d = 8; d >= 2; d /= 2) {
    if ((int64_t)(width + d - 1) / d >= need_w && (int64_t)(height + d - 1) / d >= need_h) return d;
  }
  return 1;
}

/* PIL's CMYK -> RGB, after undoing Adobe's inverted storage when present. */
static void cmyk_to_rgb(unsigned char *rgb, const unsigned char *cmyk, int width, int inverted) {
  for (int x = 0; x < width; x++, cmyk += 4, rgb += 3) {
    int k = inverted ? 255 - cmyk[3] : cmyk[3];
    int nk = 255 - k;
    for (int c = 0; c < 3; c++) {
      int v = inverted ? 255 - cmyk[c] : cmyk[c];
      int t = v * nk + 128;
      rgb[c] = (unsigned char)(nk - (((t >> 8) + t) >> 8));
    }
  }
}

static void decode_rows(jpeg_job *job) {
  j_decompress_ptr cinfo = &job->cinfo;
  int cmyk = cinfo->out_color_space == JCS_CMYK;
  unsigned char *base = job->out->ptr;
  size_t stride = (size_t)cinfo->output_width * (cmyk ? 3 : cinfo->output_components);
  while (cinfo->output_scanline < cinfo->output_height) {
    unsigned char *dst = base + (size_t)cinfo->output_scanline * stride;
    JSAMPROW row = cmyk ? job->row : dst;
    if (jpeg_read_scanlines(cinfo, &row, 1) != 1) {
      snprintf(job->msg, sizeof job->msg, "no data at row %u", cinfo->output_scanline);
      longjmp(job->jump, 1);
    }
    if (cmyk) cmyk_to_rgb(dst, job->row, (int)cinfo->output_width, cinfo->saw_Adobe_marker);
  }
  jpeg_finish_decompress(cinfo);
}

/* Reads the header, fills info, checks the pixel limit and sets the DCT
 * scale. Returns 0, or the dl_status of a failure that is not libjpeg's
 * (libjpeg's own failures longjmp out with job->msg set). */
static int prepare(jpeg_job *job, const unsigned char *bytes, size_t len, const dl__decode_cfg *cfg,
                   dl_image_info *info, const char *name, dl_error *err) {
  read_header(job, bytes, len);
  j_decompress_ptr cinfo = &job->cinfo;
  int orientation = find_orientation(cinfo);
  fill_info(info, cinfo, orientation, cfg->apply_exif);
  int rc = dl__check_pixels(info, cfg->max_pixels, name, err);
  if (rc < 0) return rc;

  /* The caller's minimum is for the upright image; the scale applies to the stored one. */
  int swap = cfg->apply_exif && dl__orientation_transposes(orientation);
  int32_t need_w = swap ? cfg->min_height : cfg->min_width, need_h = swap ? cfg->min_width : cfg->min_height;
  info->scale_denom = pick_scale(cinfo->image_width, cinfo->image_height, need_w, need_h);
  cinfo->scale_num = 1;
  cinfo->scale_denom = (unsigned)info->scale_denom;
  return DL_OK;
}

/* Same contract as prepare. */
static int run_decode(jpeg_job *job, const unsigned char *bytes, size_t len, const dl__decode_cfg *cfg,
                      dl_image_info *info, const char *name, dl_error *err) {
  int rc = prepare(job, bytes, len, cfg, info, name, err);
  if (rc < 0) return rc;
  j_decompress_ptr cinfo = &job->cinfo;
  if (info->is_cmyk) {
    cinfo->out_color_space = JCS_CMYK;
  } else if (cinfo->jpeg_color_space != JCS_GRAYSCALE) {
    cinfo->out_color_space = JCS_RGB;
  }
  jpeg_start_decompress(cinfo);
  if (info->is_cmyk) {
    job->row = malloc((size_t)cinfo->output_width * 4);
    if (!job->row)
      return dl__fail(err, DL_E_NOMEM, "%s%s%scannot allocate a JPEG row", DL__IMAGE_WHERE(name));
  }
  int64_t shape[3] = {cinfo->output_height, cinfo->output_width,
                      info->is_cmyk ? 3 : cinfo->output_components};
  rc = dl_tensor_empty(&job->out, DL_U8, 3, shape, err);
  if (rc < 0) return rc;
  decode_rows(job);
  return DL_OK;
}

/* The colour space libjpeg can convert to that gives what dl__image_finish
 * would make of the decoded image for channels (0: as stored); JCS_UNKNOWN
 * when only dl__image_finish can (PIL's luma, alpha, CMYK). */
static J_COLOR_SPACE row_space(j_decompress_ptr cinfo, int channels) {
  J_COLOR_SPACE in = cinfo->jpeg_color_space;
  int gray = in == JCS_GRAYSCALE, colour = in == JCS_YCbCr || in == JCS_RGB;
  if (!gray && !colour) return JCS_UNKNOWN;
  if (channels == 0) channels = gray ? 1 : 3;
  if (channels == 1) return gray ? JCS_GRAYSCALE : JCS_UNKNOWN;
  if (channels == 3) return JCS_RGB;
  if (channels == 4) return JCS_EXT_RGBX; /* libjpeg-turbo fills X with 0xFF: an opaque alpha */
  return JCS_UNKNOWN;
}

/* Same contract as prepare, or DL__DECLINED before any row. */
static int run_rows(jpeg_job *job, const unsigned char *bytes, size_t len, const dl__decode_cfg *cfg,
                    dl_image_info *info, const char *name, const dl__row_sink *sink, dl_error *err) {
  int rc = prepare(job, bytes, len, cfg, info, name, err);
  if (rc < 0) return rc;
  j_decompress_ptr cinfo = &job->cinfo;
  J_COLOR_SPACE space = row_space(cinfo, cfg->channels);
  if (space == JCS_UNKNOWN || (cfg->apply_exif && info->orientation >= 2 && info->orientation <= 8))
    return DL__DECLINED;
  cinfo->out_color_space = space;
  jpeg_start_decompress(cinfo);
  int channels = cinfo->output_components;
  rc = sink->begin(sink->ctx, (int32_t)cinfo->output_width, (int32_t)cinfo->output_height, channels, err);
  if (rc < 0) return rc;
  /* Rows go to the sink in strips: handing each row over as it comes
   * interleaves the decoder's and the sink's working sets too finely (a few
   * % slower), while a strip stays small enough for the cache. */
  enum { STRIP = 16 };
  size_t row_bytes = (size_t)cinfo->output_width * (size_t)channels;
  job->row = malloc(row_bytes * STRIP);
  if (!job->row) return dl__fail(err, DL_E_NOMEM, "%s%s%scannot allocate JPEG rows", DL__IMAGE_WHERE(name));
  JSAMPROW rows[STRIP];
  for (int i = 0; i < STRIP; i++) rows[i] = job->row + row_bytes * (size_t)i;
  while (cinfo->output_scanline < cinfo->output_height) {
    JDIMENSION y = cinfo->output_scanline, got = 0;
    while (got < STRIP && cinfo->output_scanline < cinfo->output_height) {
      JDIMENSION n = jpeg_read_scanlines(cinfo, rows + got, STRIP - got);
      if (n == 0) {
        snprintf(job->msg, sizeof job->msg, "no data at row %u", cinfo->output_scanline);
        longjmp(job->jump, 1);
      }
      got += n;
    }
    for (JDIMENSION i = 0; i < got; i++) sink->row(sink->ctx, (int32_t)(y + i), rows[i]);
  }
  jpeg_finish_decompress(cinfo);
  return DL_OK;
}

/* Owns the jump target; everything it must clean up is reachable from job. */
static int decode_guarded(jpeg_job *job, const unsigned char *bytes, size_t len, const dl__decode_cfg *cfg,
                          dl_image_info *info, const char *name, dl_error *err) {
  if (setjmp(job->jump)) return dl__fail(err, DL_E_DECODE, "%s%s%sJPEG: %s", DL__IMAGE_WHERE(name), job->msg);
  return run_decode(job, bytes, len, cfg, info, name, err);
}

int dl__jpeg_decode(dl_tensor **raw, const unsigned char *bytes, size_t len, const dl__decode_cfg *cfg,
                    dl_image_info *info, const char *name, dl_error *err) {
  jpeg_job *job = calloc(1, sizeof *job);
  if (!job) return dl__fail(err, DL_E_NOMEM, "cannot allocate a JPEG decoder");
  int rc = decode_guarded(job, bytes, len, cfg, info, name, err);
  jpeg_destroy_decompress(&job->cinfo);
  free(job->row);
  if (rc == DL_OK) {
    *raw = job->out;
  } else {
    dl_tensor_release(job->out);
  }
  free(job);
  return rc;
}

static int probe_guarded(jpeg_job *job, const unsigned char *bytes, size_t len, dl_image_info *info,
                         const char *name, dl_error *err) {
  if (setjmp(job->jump)) return dl__fail(err, DL_E_DECODE, "%s%s%sJPEG: %s", DL__IMAGE_WHERE(name), job->msg);
  read_header(job, bytes, len);
  fill_info(info, &job->cinfo, find_orientation(&job->cinfo), 1);
  return DL_OK;
}

int dl__jpeg_probe(const unsigned char *bytes, size_t len, dl_image_info *info, const char *name,
                   dl_error *err) {
  jpeg_job *job = calloc(1, sizeof *job);
  if (!job) return dl__fail(err, DL_E_NOMEM, "cannot allocate a JPEG decoder");
  int rc = probe_guarded(job, bytes, len, info, name, err);
  jpeg_destroy_decompress(&job->cinfo);
  free(job);
  return rc;
}

static int rows_guarded(jpeg_job *job, const unsigned char *bytes, size_t len, const dl__decode_cfg *cfg,
                        dl_image_info *info, const char *name, const dl__row_sink *sink, dl_error *err) {
  if (setjmp(job->jump)) return dl__fail(err, DL_E_DECODE, "%s%s%sJPEG: %s", DL__IMAGE_WHERE(name), job->msg);
  return run_rows(job, bytes, len, cfg, info, name, sink, err);
}

int dl__jpeg_decode_rows(const unsigned char *bytes, size_t len, const dl__decode_cfg *cfg, dl_image_info *info,
                         const char *name, const dl__row_sink *sink, dl_error *err) {
  jpeg_job *job = calloc(1, sizeof *job);
  if (!job) return dl__fail(err, DL_E_NOMEM, "cannot allocate a JPEG decoder");
  int rc = rows_guarded(job, bytes, len, cfg, info, name, sink, err);
  jpeg_destroy_decompress(&job->cinfo);
  free(job->row);
  free(job);
  return rc;
}
