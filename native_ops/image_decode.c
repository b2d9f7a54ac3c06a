/* Image decoding entry points: options, format sniffing, files, and the
 * pixel limit that refuses decompression bombs from their header. */
#include "image_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* dl_image_probe_file reads this much first: enough for the headers of
 * nearly every file, and the whole file is read only when it is not. */
enum { PROBE_BYTES = 256 << 10 };

static int sniff(const unsigned char *b, size_t len) {
  static const unsigned char png_sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  if (len >= 3 && b[0] == 0xff && b[1] == 0xd8 && b[2] == 0xff) return DL_IMAGE_JPEG;
  if (len >= 8 && memcmp(b, png_sig, 8) == 0) return DL_IMAGE_PNG;
  return DL_IMAGE_UNKNOWN;
}

static int unknown_format(const unsigned char *b, size_t len, const char *name, dl_error *err) {
  if (len == 0)
    return dl__fail(err, DL_E_FORMAT, "%s%s%sempty input (0 bytes), not an image", DL__IMAGE_WHERE(name));
  char hex[3 * 8 + 1] = "";
  for (size_t i = 0; i < len && i < 8; i++) snprintf(hex + 3 * i, sizeof hex - 3 * i, " %02x", b[i]);
  return dl__fail(err, DL_E_FORMAT, "%s%s%snot a JPEG or PNG (%zu bytes, starting with%s)",
                  DL__IMAGE_WHERE(name), len, hex);
}

int dl__check_pixels(const dl_image_info *info, int64_t max_pixels, const char *name, dl_error *err) {
  int64_t pixels = (int64_t)info->width * info->height;
  if (pixels <= max_pixels) return DL_OK;
  return dl__fail(err, DL_E_TOO_LARGE,
                  "%s%s%simage is %d x %d = %lld pixels, over the limit of %lld (max_pixels)",
                  DL__IMAGE_WHERE(name), info->width, info->height, (long long)pixels, (long long)max_pixels);
}

int dl__check_file_bytes(const char *path, int64_t size, int64_t max_bytes, dl_error *err) {
  if (size <= max_bytes) return DL_OK;
  return dl__fail(err, DL_E_TOO_LARGE, "file '%s': %lld bytes, over the limit of %lld (max_bytes)", path,
                  (long long)size, (long long)max_bytes);
}

static int make_cfg(dl__decode_cfg *cfg, const dl_decode_opts *opts, dl_error *err) {
  static const dl_decode_opts defaults = {0};
  if (!opts) opts = &defaults;
  if (opts->channels < 0 || opts->channels > 4)
    return dl__fail(err, DL_E_INVAL, "channels is %d; expected 0 (as stored), 1, 2, 3 or 4", opts->channels);
  if (opts->min_width < 0 || opts->min_height < 0)
    return dl__fail(err, DL_E_INVAL, "min_width %d and min_height %d must not be negative", opts->min_width,
                    opts->min_height);
  if (opts->max_pixels < 0)
    return dl__fail(err, DL_E_INVAL, "max_pixels is %lld; expected 0 (the default) or more",
                    (long long)opts->max_pixels);
  if (opts->max_bytes < 0)
    return dl__fail(err, DL_E_INVAL, "max_bytes is %lld; expected 0 (the default) or more",
                    (long long)opts->max_bytes);
  cfg->max_pixels = opts->max_pixels ? opts->max_pixels : DL_IMAGE_DEFAULT_MAX_PIXELS;
  cfg->max_bytes = opts->max_bytes ? opts->max_bytes : DL_IMAGE_DEFAULT_MAX_BYTES;
  cfg->channels = opts->channels;
  cfg->min_width = opts->min_width;
  cfg->min_height = opts->min_height;
  cfg->apply_exif = !opts->no_exif;
  cfg->keep_16bit = opts->keep_16bit != 0;
  return DL_OK;
}

static int decode_named(dl_tensor **out, const unsigned char *bytes, size_t len, const dl__decode_cfg *cfg,
                        dl_image_info *info, const char *name, dl_error *err) {
  dl_image_info scratch;
  if (!info) info = &scratch;
  dl_tensor *raw = NULL;
  int rc;
  switch (sniff(bytes, len)) {
    case DL_IMAGE_JPEG:
      rc = dl__jpeg_decode(&raw, bytes, len, cfg, info, name, err);
      break;
    case DL_IMAGE_PNG:
      rc = dl__png_decode(&raw, bytes, len, cfg, info, name, err);
      break;
    default:
      return unknown_format(bytes, len, name, err);
  }
  if (rc < 0) return rc;
  return dl__image_finish(out, raw, cfg->apply_exif ? info->orientation : 1, cfg->channels, err);
}

int dl_image_decode(dl_tensor **out, const void *bytes, size_t len, const dl_decode_opts *opts,
                    dl_image_info *info, dl_error *err) {
  if (!out) return dl__fail(err, DL_E_INVAL, "out is NULL");
  *out = NULL;
  if (!bytes && len) return dl__fail(err, DL_E_INVAL, "bytes is NULL but len is %zu", len);
  dl__decode_cfg cfg;
  int rc = make_cfg(&cfg, opts, err);
  if (rc < 0) return rc;
  return decode_named(out, bytes, len, &cfg, info, NULL, err);
}

/* The fused path: rows from the JPEG decoder straight into dl__planes. */
typedef struct planes_sink {
  dl_tensor *dst;
  int32_t mode;
  const float *mean, *std;
  dl__planes planes;
  int ready; /* planes was initialised */
} planes_sink;

static int sink_begin(void *ctx, int32_t width, int32_t height, int channels, dl_error *err) {
  planes_sink *s = ctx;
  int rc = dl__planes_check(s->dst, channels, -1, -1, err);
  if (rc == DL_OK) rc = dl__planes_init(&s->planes, s->dst, width, height, channels, s->mode, s->mean, s->std, err);
  s->ready = rc == DL_OK;
  return rc;
}

static void sink_row(void *ctx, int32_t y, const uint8_t *row) {
  planes_sink *s = ctx;
  dl__planes_push(&s->planes, y, row);
}

int dl_image_decode_resize_normalize_into(dl_tensor *dst, const void *bytes, size_t len, const dl_decode_opts *opts,
                                          int32_t mode, const float *mean, const float *std, dl_image_info *info,
                                          dl_error *err) {
  if (!bytes && len) return dl__fail(err, DL_E_INVAL, "bytes is NULL but len is %zu", len);
  int rc = dl__planes_check(dst, dst ? dst->shape[0] : 0, -1, -1, err);
  if (rc < 0) return rc;
  if (mode != DL_RESIZE_BILINEAR && mode != DL_RESIZE_BOX)
    return dl__fail(err, DL_E_INVAL, "resize mode %d is not DL_RESIZE_BILINEAR (0) or DL_RESIZE_BOX (1)", mode);
  dl__decode_cfg cfg;
  rc = make_cfg(&cfg, opts, err);
  if (rc < 0) return rc;
  dl_image_info scratch;
  if (!info) info = &scratch;
  if (sniff(bytes, len) == DL_IMAGE_JPEG) {
    planes_sink *s = calloc(1, sizeof *s);
    if (!s) return dl__fail(err, DL_E_NOMEM, "cannot allocate a resize");
    *s = (planes_sink){.dst = dst, .mode = mode, .mean = mean, .std = std};
    dl__row_sink sink = {sink_begin, sink_row, s};
    rc = dl__jpeg_decode_rows(bytes, len, &cfg, info, NULL, &sink, err);
    if (s->ready) dl__planes_free(&s->planes);
    free(s);
    if (rc != DL__DECLINED) return rc;
  }
  /* Everything else: the whole image, then the same resize. */
  dl_tensor *img;
  rc = decode_named(&img, bytes, len, &cfg, info, NULL, err);
  if (rc < 0) return rc;
  rc = dl_image_resize_normalize_into(dst, img, mode, mean, std, err);
  dl_tensor_release(img);
  return rc;
}

static int probe_named(const unsigned char *bytes, size_t len, dl_image_info *info, const char *name,
                       dl_error *err) {
  switch (sniff(bytes, len)) {
    case DL_IMAGE_JPEG:
      return dl__jpeg_probe(bytes, len, info, name, err);
    case DL_IMAGE_PNG:
      return dl__png_probe(bytes, len, info, name, err);
  }
  return unknown_format(bytes, len, name, err);
}

int dl_image_probe(const void *bytes, size_t len, dl_image_info *info, dl_error *err) {
  if (!info) return dl__fail(err, DL_E_INVAL, "info is NULL");
  if (!bytes && len) return dl__fail(err, DL_E_INVAL, "bytes is NULL but len is %zu", len);
  return probe_named(bytes, len, info, NULL, err);
}

/* Reads up to limit bytes of path (the whole file when limit < 0, and then
 * only if the file holds at most max_bytes) into *bytes (caller frees);
 * *whole tells whether that was all of it. */
static int read_file(unsigned char **bytes, size_t *len, int *whole, const char *path, long limit,
                     int64_t max_bytes, dl_error *err) {
  *bytes = NULL;
  *len = 0;
  FILE *f = fopen(path, "rb");
  if (!f) return dl__fail(err, DL_E_IO, "file '%s': %s", path, strerror(errno));
  struct stat st;
  const char *why = NULL;
  if (fstat(fileno(f), &st) != 0) {
    why = strerror(errno);
  } else if (S_ISDIR(st.st_mode)) {
    why = "is a directory";
  } else if (!S_ISREG(st.st_mode)) {
    why = "is not a regular file";
  }
  if (why) {
    fclose(f);
    return dl__fail(err, DL_E_IO, "file '%s': %s", path, why);
  }
  int rc;
  if (limit < 0 && (rc = dl__check_file_bytes(path, st.st_size, max_bytes, err)) < 0) {
    fclose(f);
    return rc;
  }
  long size = (long)st.st_size;
  size_t want = (size_t)(limit >= 0 && limit < size ? limit : size);
  unsigned char *buf = malloc(want ? want : 1);
  if (!buf) {
    fclose(f);
    return dl__fail(err, DL_E_NOMEM, "file '%s': cannot allocate %zu bytes to read it", path, want);
  }
  size_t got = fread(buf, 1, want, f);
  int failed = ferror(f);
  fclose(f);
  if (failed || got != want) {
    free(buf);
    return dl__fail(err, DL_E_IO, "file '%s': read %zu of %zu bytes", path, got, want);
  }
  *bytes = buf;
  *len = got;
  *whole = want == (size_t)size;
  return DL_OK;
}

int dl_image_load(dl_tensor **out, const char *path, const dl_decode_opts *opts, dl_image_info *info,
                  dl_error *err) {
  if (!out) return dl__fail(err, DL_E_INVAL, "out is NULL");
  *out = NULL;
  if (!path) return dl__fail(err, DL_E_INVAL, "path is NULL");
  dl__decode_cfg cfg;
  int rc = make_cfg(&cfg, opts, err);
  if (rc < 0) return rc;
  unsigned char *bytes;
  size_t len;
  int whole;
  rc = read_file(&bytes, &len, &whole, path, -1, cfg.max_bytes, err);
  if (rc < 0) return rc;
  rc = decode_named(out, bytes, len, &cfg, info, path, err);
  free(bytes);
  return rc;
}

int dl_image_probe_file(const char *path, dl_image_info *info, dl_error *err) {
  if (!path || !info) return dl__fail(err, DL_E_INVAL, "%s is NULL", path ? "info" : "path");
  unsigned char *bytes;
  size_t len;
  int whole;
  int rc = read_file(&bytes, &len, &whole, path, PROBE_BYTES, 0, err);
  if (rc < 0) return rc;
  rc = probe_named(bytes, len, info, path, err);
  free(bytes);
  if (rc == DL_E_DECODE && !whole) { /* the header runs past the first bytes */
    rc = read_file(&bytes, &len, &whole, path, -1, DL_IMAGE_DEFAULT_MAX_BYTES, err);
    if (rc < 0) return rc;
    rc = probe_named(bytes, len, info, path, err);
    free(bytes);
  }
  return rc;
}
