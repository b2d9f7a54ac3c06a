/* Canvas, text and file helpers shared by the plots. */
#include "plot_canvas.h"

#include <stdlib.h>
#include <string.h>

#include "fsutil.h"
#include "plot.h"

int rt_plot_canvas_open(rt_plot_canvas *c, int width, int height, rt_error *err) {
  c->surface = NULL;
  c->cr = NULL;
  if (rt_libcairo_load(err) < 0) return -1;
  c->surface = rt_libcairo.image_surface_create(CAIRO_FORMAT_RGB24, width, height);
  c->cr = rt_libcairo.create(c->surface);
  if (rt_libcairo.status(c->cr) != CAIRO_STATUS_SUCCESS)
    return rt_fail(err, "cannot make a %d x %d canvas: %s", width, height,
                   rt_libcairo.status_to_string(rt_libcairo.status(c->cr)));
  rt_libcairo.set_source_rgb(c->cr, 1, 1, 1);
  rt_libcairo.paint(c->cr);
  rt_plot_font(c->cr, 12, false);
  return 0;
}

void rt_plot_canvas_close(rt_plot_canvas *c) {
  if (!c->cr) return; /* cairo could not be loaded */
  rt_libcairo.destroy(c->cr);
  rt_libcairo.surface_destroy(c->surface);
  c->cr = NULL;
  c->surface = NULL;
}

/* A growing in-memory PNG; cairo appends to it. */
typedef struct png_buffer {
  unsigned char *data; /* owned */
  size_t len, cap;
} png_buffer;

static cairo_status_t append_png(void *closure, const unsigned char *data, unsigned int length) {
  png_buffer *b = closure;
  if (b->len + length > b->cap) {
    size_t cap = b->cap ? b->cap : 1 << 16;
    while (cap < b->len + length) cap *= 2;
    unsigned char *grown = realloc(b->data, cap);
    if (!grown) return CAIRO_STATUS_NO_MEMORY;
    b->data = grown;
    b->cap = cap;
  }
  memcpy(b->data + b->len, data, length);
  b->len += length;
  return CAIRO_STATUS_SUCCESS;
}

int rt_plot_canvas_save(rt_plot_canvas *c, const char *path, rt_error *err) {
  cairo_status_t st = rt_libcairo.status(c->cr);
  if (st != CAIRO_STATUS_SUCCESS)
    return rt_fail(err, "%s: drawing failed: %s", path, rt_libcairo.status_to_string(st));
  rt_libcairo.surface_flush(c->surface);
  png_buffer png = {0};
  st = rt_libcairo.surface_write_to_png_stream(c->surface, append_png, &png);
  int rc = st == CAIRO_STATUS_SUCCESS
               ? rt_fs_write_report(path, png.data, png.len, err)
               : rt_fail(err, "%s: cannot encode the PNG: %s", path, rt_libcairo.status_to_string(st));
  free(png.data);
  return rc;
}

void rt_plot_font(cairo_t *cr, double size, bool bold) {
  rt_libcairo.select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL,
                               bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
  rt_libcairo.set_font_size(cr, size);
}

double rt_plot_text_width(cairo_t *cr, const char *text) {
  cairo_text_extents_t ext;
  rt_libcairo.text_extents(cr, text, &ext);
  return ext.x_advance;
}

void rt_plot_fit_text(cairo_t *cr, const char *text, double max_width, char *out, size_t out_size) {
  static const char ellipsis[] = "\xe2\x80\xa6"; /* U+2026 in UTF-8 */
  if (out_size < sizeof ellipsis) {
    if (out_size > 0) out[0] = '\0';
    return;
  }
  size_t len = strlen(text);
  if (len < out_size && rt_plot_text_width(cr, text) <= max_width) {
    memcpy(out, text, len + 1);
    return;
  }
  /* Drop whole characters from the end until text + ellipsis fits. */
  if (len > out_size - sizeof ellipsis) len = out_size - sizeof ellipsis;
  for (;;) {
    while (len > 0 && ((unsigned char)text[len] & 0xC0) == 0x80) len--; /* not inside a character */
    memcpy(out, text, len);
    memcpy(out + len, ellipsis, sizeof ellipsis);
    if (len == 0 || rt_plot_text_width(cr, out) <= max_width) return;
    len--;
  }
}

void rt_plot_text_at(cairo_t *cr, const char *text, double x, double y) {
  cairo_font_extents_t fe;
  rt_libcairo.font_extents(cr, &fe);
  rt_libcairo.move_to(cr, x, y + (fe.ascent - fe.descent) / 2);
  rt_libcairo.show_text(cr, text);
}

void rt_plot_palette(int i, double rgb[3]) {
  static const unsigned char colours[10][3] = {
      {31, 119, 180}, {255, 127, 14},  {44, 160, 44},   {214, 39, 40},  {148, 103, 189},
      {140, 86, 75},  {227, 119, 194}, {127, 127, 127}, {188, 189, 34}, {23, 190, 207},
  };
  const unsigned char *c = colours[((i % 10) + 10) % 10];
  for (int k = 0; k < 3; k++) rgb[k] = c[k] / 255.0;
}

void rt_plot_release_caches(void) {
  if (!rt_libcairo_loaded()) return; /* nothing was drawn: no caches */
  rt_libcairo.debug_reset_static_data();
  rt_libfontconfig.Fini();
}

int rt_plot_render(const char *path, rt_plot_plan_fn plan, rt_plot_draw_fn draw, void *ctx, rt_error *err) {
  rt_plot_canvas measure, canvas;
  double width = 0, height = 0;
  int rc = rt_plot_canvas_open(&measure, 1, 1, err);
  if (rc == 0) plan(measure.cr, ctx, &width, &height);
  rt_plot_canvas_close(&measure);
  if (rc < 0) return -1;
  rc = rt_plot_canvas_open(&canvas, (int)width, (int)height, err);
  if (rc == 0) {
    draw(canvas.cr, ctx);
    rc = rt_plot_canvas_save(&canvas, path, err);
  }
  rt_plot_canvas_close(&canvas);
  return rc;
}
