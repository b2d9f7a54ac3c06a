/* Reading Dataloop annotations (spec §3) for evaluation: type, label,
 * confidence, and the coordinates of each scored type. A binary mask arrives
 * as "data:image/png;base64,..." holding an RGBA PNG whose alpha marks the
 * mask; it is decoded with the native image decoder. */
#include "metrics_annotation.h"

#include <stdlib.h>
#include <string.h>

#include "dl_native.h"

static const char *const kind_names[RT_METRICS_N_KINDS] = {"class", "box", "segment", "point", "binary"};

const char *rt_metrics_kind_name(int kind) {
  return kind >= 0 && kind < RT_METRICS_N_KINDS ? kind_names[kind] : "unscored";
}

static int kind_of(const char *type) {
  for (int k = 0; k < RT_METRICS_N_KINDS; k++)
    if (strcmp(type, kind_names[k]) == 0) return k;
  return RT_METRICS_UNSCORED;
}

/* A vertex {"x": .., "y": ..} ("z" is ignored). */
static bool read_xy(const json_t *p, double *x, double *y) {
  const json_t *jx = json_object_get(p, "x"), *jy = json_object_get(p, "y");
  if (!json_is_number(jx) || !json_is_number(jy)) return false;
  *x = json_number_value(jx);
  *y = json_number_value(jy);
  return true;
}

static int read_box(const json_t *coords, const char *where, rt_metrics_annotation *a, rt_error *err) {
  double x0, y0, x1, y1;
  if (!json_is_array(coords) || json_array_size(coords) != 2 ||
      !read_xy(json_array_get(coords, 0), &x0, &y0) || !read_xy(json_array_get(coords, 1), &x1, &y1))
    return rt_fail(err, "%s: a box's coordinates must be two points [{\"x\", \"y\"}, {\"x\", \"y\"}]", where);
  a->box[0] = x0 < x1 ? x0 : x1;
  a->box[1] = y0 < y1 ? y0 : y1;
  a->box[2] = x0 < x1 ? x1 : x0;
  a->box[3] = y0 < y1 ? y1 : y0;
  return 0;
}

/* A point may come as {"x", "y"} or, as some exports write it, [{"x", "y"}]. */
static int read_point(const json_t *coords, const char *where, rt_metrics_annotation *a, rt_error *err) {
  if (json_is_array(coords) && json_array_size(coords) == 1) coords = json_array_get(coords, 0);
  if (!read_xy(coords, &a->point[0], &a->point[1]))
    return rt_fail(err, "%s: a point's coordinates must be {\"x\": .., \"y\": ..}", where);
  return 0;
}

/* Rings [[{x, y}, ...], ...]; a single ring [{x, y}, ...] is taken too. */
static int read_segment(const json_t *coords, const char *where, rt_metrics_annotation *a, rt_error *err) {
  if (!json_is_array(coords) || json_array_size(coords) == 0)
    return rt_fail(err, "%s: a segment's coordinates must be a list of rings of points", where);
  bool one_ring = json_is_object(json_array_get(coords, 0));
  size_t n_rings = one_ring ? 1 : json_array_size(coords), n_points = 0;
  for (size_t r = 0; r < n_rings; r++) {
    const json_t *ring = one_ring ? coords : json_array_get(coords, r);
    if (!json_is_array(ring)) return rt_fail(err, "%s: segment ring %zu is not a list of points", where, r);
    n_points += json_array_size(ring);
  }
  if (n_rings > INT32_MAX || n_points > INT32_MAX) return rt_fail(err, "%s: segment is too large", where);
  a->xy = malloc(sizeof(double) * 2 * n_points + 1);
  a->ring_len = malloc(sizeof(int32_t) * n_rings);
  if (!a->xy || !a->ring_len)
    return rt_fail(err, "%s: out of memory for a %zu-point segment", where, n_points);
  a->n_rings = (int)n_rings;
  double *xy = a->xy;
  for (size_t r = 0; r < n_rings; r++) {
    const json_t *ring = one_ring ? coords : json_array_get(coords, r);
    a->ring_len[r] = (int32_t)json_array_size(ring);
    for (size_t i = 0; i < json_array_size(ring); i++, xy += 2)
      if (!read_xy(json_array_get(ring, i), &xy[0], &xy[1]))
        return rt_fail(err, "%s: segment ring %zu point %zu is not {\"x\": .., \"y\": ..}", where, r, i);
  }
  return 0;
}

/* Standard base64 (RFC 4648), padding optional. Returns the decoded length,
 * or -1 on a character outside the alphabet. out needs 3 * (len / 4) + 3. */
static long decode_base64(const char *in, size_t len, unsigned char *out) {
  unsigned acc = 0;
  int bits = 0;
  long n = 0;
  for (size_t i = 0; i < len && in[i] != '='; i++) {
    const char c = in[i];
    int v = c >= 'A' && c <= 'Z'   ? c - 'A'
            : c >= 'a' && c <= 'z' ? c - 'a' + 26
            : c >= '0' && c <= '9' ? c - '0' + 52
            : c == '+'             ? 62
            : c == '/'             ? 63
                                   : -1;
    if (v < 0) return -1;
    acc = (acc << 6) | (unsigned)v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[n++] = (unsigned char)(acc >> bits);
      acc &= (1u << bits) - 1;
    }
  }
  return n;
}

static int read_binary(const json_t *coords, const char *where, rt_metrics_annotation *a, rt_error *err) {
  static const char prefix[] = "data:image/png;base64,";
  const char *url = json_string_value(coords);
  if (!url || strncmp(url, prefix, sizeof prefix - 1) != 0)
    return rt_fail(err, "%s: a binary annotation's coordinates must be a \"%s...\" string", where, prefix);
  const char *b64 = url + sizeof prefix - 1;
  size_t len = strlen(b64);
  unsigned char *png = malloc(3 * (len / 4) + 3);
  if (!png) return rt_fail(err, "%s: out of memory for the mask", where);
  long png_len = decode_base64(b64, len, png);
  dl_tensor *rgba = NULL;
  dl_error de;
  dl_decode_opts opts = {.channels = 4};
  int rc = png_len < 0 ? rt_fail(err, "%s: the mask is not valid base64", where)
           : dl_image_decode(&rgba, png, (size_t)png_len, &opts, NULL, &de) < 0
               ? rt_fail(err, "%s: cannot decode the mask PNG: %s", where, de.msg)
               : 0;
  free(png);
  if (rc < 0) return -1;
  /* A decoded image is contiguous H x W x 4; alpha is the mask. A pixel at
   * least half opaque counts as set, so a softened edge still reads. */
  a->mask_h = rgba->shape[0];
  a->mask_w = rgba->shape[1];
  a->mask = malloc((size_t)(a->mask_h * a->mask_w) + 1);
  if (a->mask) {
    const uint8_t *px = rgba->ptr;
    for (int64_t i = 0; i < a->mask_h * a->mask_w; i++) a->mask[i] = px[4 * i + 3] >= 128;
  }
  dl_tensor_release(rgba);
  return a->mask ? 0 : rt_fail(err, "%s: out of memory for the mask", where);
}

/* metadata.user.model.confidence, which predictions carry. */
static int read_confidence(const json_t *ann, const char *where, double *confidence, rt_error *err) {
  const json_t *c = json_object_get(
      json_object_get(json_object_get(json_object_get(ann, "metadata"), "user"), "model"), "confidence");
  *confidence = 1;
  if (!c) return 0;
  if (!json_is_number(c) || json_number_value(c) < 0 || json_number_value(c) > 1)
    return rt_fail(err, "%s: metadata.user.model.confidence must be a number in [0, 1]", where);
  *confidence = json_number_value(c);
  return 0;
}

int rt_metrics_annotation_read(const json_t *ann, const char *where, rt_metrics_annotation *out,
                               rt_error *err) {
  *out = (rt_metrics_annotation){.kind = RT_METRICS_UNSCORED, .confidence = 1};
  if (!json_is_object(ann)) return rt_fail(err, "%s: an annotation must be a JSON object", where);
  const char *type = json_string_value(json_object_get(ann, "type"));
  if (!type) return rt_fail(err, "%s: field 'type' must be a string", where);
  out->kind = kind_of(type);
  if (out->kind == RT_METRICS_UNSCORED) return 0;
  out->label = json_string_value(json_object_get(ann, "label"));
  if (!out->label) return rt_fail(err, "%s: field 'label' must be a string", where);
  if (read_confidence(ann, where, &out->confidence, err) < 0) return -1;

  const json_t *coords = json_object_get(ann, "coordinates");
  int rc = 0;
  switch (out->kind) {
    case RT_METRICS_BOX:
      rc = read_box(coords, where, out, err);
      break;
    case RT_METRICS_POINT:
      rc = read_point(coords, where, out, err);
      break;
    case RT_METRICS_SEGMENT:
      rc = read_segment(coords, where, out, err);
      break;
    case RT_METRICS_BINARY:
      rc = read_binary(coords, where, out, err);
      break;
  }
  if (rc < 0) rt_metrics_annotation_clear(out);
  return rc;
}

void rt_metrics_annotation_clear(rt_metrics_annotation *a) {
  free(a->xy);
  free(a->ring_len);
  free(a->mask);
  a->xy = NULL;
  a->ring_len = NULL;
  a->mask = NULL;
  a->n_rings = 0;
}
