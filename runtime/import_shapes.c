/* `dlrun dataset import shapes DEST`: a synthetic detection dataset whose
 * box ground truth is exact. Each 128x96 RGB item holds one to four
 * rectangles, ellipses and triangles, each in its own colour, on a plain
 * grey background or (every other item) one with uniform noise over
 * everything. Shapes may overlap a little, so a later one hides part of an
 * earlier one; the ground-truth box is still the whole shape's, as drawn.
 *
 * Every item comes from its own seed (split and index), so --limit N gives
 * the first N items of each split of the full import, byte for byte. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "dataset_import.h"
#include "dl_native.h"
#include "progress.h"

enum {
  WIDTH = 128,
  HEIGHT = 96,
  MAX_SHAPES = 4,
  MIN_SIDE = 16,
  MAX_SIDE = 44,
  NOISE = 16,  /* noisy items: each channel of each pixel moves by up to +-NOISE */
  PLACE_TRIES = 50,
};
/* Of two overlapping shapes, the later may cover at most this share of the
 * smaller one's box, so every shape stays mostly visible. */
static const double MAX_COVER = 0.35;

static const char *const labels[] = {"rectangle", "ellipse", "triangle"};
enum { N_LABELS = 3 };

/* Saturated colours, far from each other and from any grey: each has a
 * channel >= 180 and one <= 60. */
static const uint8_t colours[][3] = {
    {220, 40, 40}, {40, 180, 60}, {40, 70, 220}, {230, 210, 40}, {200, 50, 200}, {40, 200, 210},
};
enum { N_COLOURS = sizeof colours / sizeof colours[0] };

static const struct {
  const char *name;
  long count; /* items without --limit */
} splits[] = {{"train", 200}, {"validation", 50}, {"test", 100}};

/* splitmix64: small, fast, and the same sequence everywhere. */
static uint64_t next_random(uint64_t *state) {
  uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/* Uniform integer in lo..hi. */
static int uniform(uint64_t *state, int lo, int hi) {
  return lo + (int)(next_random(state) % (uint64_t)(hi - lo + 1));
}

typedef struct shape {
  int kind;             /* index into labels */
  int x, y, w, h;       /* the cell the shape is drawn in */
  int box[4];           /* left, top, right, bottom of the pixels it covers (right/bottom exclusive) */
} shape;

/* True when the pixel whose centre is (px + 0.5, py + 0.5) lies in s. */
static int covers(const shape *s, int px, int py) {
  double u = (px + 0.5 - s->x) / s->w, v = (py + 0.5 - s->y) / s->h; /* 0..1 inside the cell */
  if (u < 0 || u >= 1 || v < 0 || v >= 1) return 0;
  switch (s->kind) {
  case 0:
    return 1;
  case 1:
    return (u - 0.5) * (u - 0.5) + (v - 0.5) * (v - 0.5) <= 0.25;
  default: /* apex at the top middle, base along the bottom */
    return u >= 0.5 - v / 2 && u <= 0.5 + v / 2;
  }
}

/* The box of the pixels s covers; false when it covers none. */
static int shape_box(shape *s) {
  int l = WIDTH, t = HEIGHT, r = -1, b = -1;
  for (int py = s->y; py < s->y + s->h; py++)
    for (int px = s->x; px < s->x + s->w; px++)
      if (covers(s, px, py)) {
        if (px < l) l = px;
        if (px > r) r = px;
        if (py < t) t = py;
        if (py > b) b = py;
      }
  s->box[0] = l, s->box[1] = t, s->box[2] = r + 1, s->box[3] = b + 1;
  return r >= 0;
}

static long box_area(const int *b) { return (long)(b[2] - b[0]) * (b[3] - b[1]); }

/* True when a and b overlap by more than MAX_COVER of the smaller box. */
static int too_close(const shape *a, const shape *b) {
  int w = (a->box[2] < b->box[2] ? a->box[2] : b->box[2]) - (a->box[0] > b->box[0] ? a->box[0] : b->box[0]);
  int h = (a->box[3] < b->box[3] ? a->box[3] : b->box[3]) - (a->box[1] > b->box[1] ? a->box[1] : b->box[1]);
  if (w <= 0 || h <= 0) return 0;
  long smaller = box_area(a->box) < box_area(b->box) ? box_area(a->box) : box_area(b->box);
  return (double)w * h > MAX_COVER * (double)smaller;
}

/* Draws one item into rgb (HEIGHT x WIDTH x 3) and its shapes into out;
 * returns how many. */
static int draw_item(uint64_t seed, uint8_t *rgb, shape *out) {
  uint64_t rng = seed;
  int grey = uniform(&rng, 40, 215), noisy = seed & 1;
  memset(rgb, grey, (size_t)WIDTH * HEIGHT * 3);
  int wanted = uniform(&rng, 1, MAX_SHAPES), n = 0;
  int colour = uniform(&rng, 0, N_COLOURS - 1);
  for (int k = 0; k < wanted; k++) {
    shape s = {.kind = uniform(&rng, 0, N_LABELS - 1)};
    int placed = 0;
    for (int tries = 0; !placed && tries < PLACE_TRIES; tries++) {
      s.w = uniform(&rng, MIN_SIDE, MAX_SIDE);
      s.h = uniform(&rng, MIN_SIDE, MAX_SIDE);
      s.x = uniform(&rng, 0, WIDTH - s.w);
      s.y = uniform(&rng, 0, HEIGHT - s.h);
      placed = shape_box(&s);
      for (int j = 0; placed && j < n; j++) placed = !too_close(&out[j], &s);
    }
    if (!placed) continue;
    /* each shape of an item has its own colour */
    const uint8_t *c = colours[(colour + n) % N_COLOURS];
    for (int py = s.box[1]; py < s.box[3]; py++)
      for (int px = s.box[0]; px < s.box[2]; px++)
        if (covers(&s, px, py)) memcpy(rgb + ((size_t)py * WIDTH + (size_t)px) * 3, c, 3);
    out[n++] = s;
  }
  for (size_t i = 0; noisy && i < (size_t)WIDTH * HEIGHT * 3; i++) {
    int v = rgb[i] + uniform(&rng, -NOISE, NOISE);
    rgb[i] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
  }
  return n;
}

/* The item's box ground truth, in Dataloop form. Caller owns the result. */
static json_t *ground_truth(const shape *shapes, int n) {
  json_t *gt = json_array();
  for (int i = 0; gt && i < n; i++) {
    const int *b = shapes[i].box;
    json_t *a = json_pack("{s:s, s:s, s:[{s:i, s:i, s:i}, {s:i, s:i, s:i}]}", "type", "box", "label",
                          labels[shapes[i].kind], "coordinates", "x", b[0], "y", b[1], "z", 0, "x", b[2], "y",
                          b[3], "z", 0);
    if (!a || json_array_append_new(gt, a) < 0) {
      json_decref(gt);
      return NULL;
    }
  }
  return gt;
}

/* Writes item `index` (0-based) of a split. */
static int write_item(rt_dataset_writer *w, int split, long index, dl_tensor *img, rt_error *err) {
  shape shapes[MAX_SHAPES];
  int n = draw_item(((uint64_t)split << 32 | (uint64_t)index) * 2654435761ull + 12345, img->ptr, shapes);
  dl_tensor *png;
  dl_error e;
  if (dl_image_encode(&png, img, DL_IMAGE_PNG, 0, &e) < 0)
    return rt_fail(err, "cannot encode item %ld of /%s: %s", index + 1, splits[split].name, e.msg);
  json_t *gt = ground_truth(shapes, n);
  char remote[64];
  snprintf(remote, sizeof remote, "/%s/%05ld.png", splits[split].name, index + 1);
  int rc = gt ? rt_dsw_add_item_annotated(w, remote, png->ptr, (size_t)png->numel, "image/png", WIDTH, HEIGHT, gt,
                                          err)
              : rt_fail(err, "out of memory writing %s", remote);
  json_decref(gt);
  dl_tensor_release(png);
  return rc;
}

int rt_import_shapes(rt_dataset_writer *w, const rt_import_opts *o, rt_error *err) {
  long counts[3], total = 0;
  for (int s = 0; s < 3; s++) {
    counts[s] = o->limit > 0 && o->limit < splits[s].count ? o->limit : splits[s].count;
    total += counts[s];
  }
  int rc = 0;
  for (int i = 0; rc == 0 && i < N_LABELS; i++) rc = rt_dsw_add_label(w, labels[i], err);
  dl_tensor *img = NULL;
  int64_t dims[3] = {HEIGHT, WIDTH, 3};
  dl_error e;
  if (rc == 0 && dl_tensor_empty(&img, DL_U8, 3, dims, &e) < 0) rc = rt_fail(err, "%s", e.msg);
  rt_progress progress;
  rt_progress_start(&progress, "import", total, o->quiet);
  long done = 0;
  for (int s = 0; rc == 0 && s < 3; s++)
    for (long i = 0; rc == 0 && i < counts[s]; i++) {
      rc = write_item(w, s, i, img, err);
      rt_progress_update(&progress, ++done, 0);
    }
  rt_progress_finish(&progress);
  if (img) dl_tensor_release(img);
  return rc;
}
