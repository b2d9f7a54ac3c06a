/* Confusion-matrix heatmap as a PNG.
 *
 * Layout, left to right: the "ground truth" axis title, row labels, the
 * n x n cells, a colour bar. Top to bottom: the title, the cells, column
 * labels turned 45 degrees (so long names need no more than their own
 * diagonal and never collide), the "predicted" axis title. Every size is
 * derived from n and the measured labels, so 3 or 30 classes both fit. */
#include "plot.h"
#include "plot_canvas.h"

#include <math.h>
#include <stdio.h>

enum { MAX_CLASSES = 500 };

static const double MARGIN = 16, TITLE_H = 44, AXIS_TITLE_H = 22, MAX_LABEL_W = 170;
static const double BAR_GAP = 18, BAR_W = 14, BAR_LABEL_W = 44;

/* Shade of a row share in 0..1: white through mid blue to navy, as
 * matplotlib's "Blues" colormap runs. */
static void blues(double t, double rgb[3]) {
  static const double stops[3][3] = {{247, 251, 255}, {107, 174, 214}, {8, 48, 107}};
  t = t < 0 ? 0 : t > 1 ? 1 : t;
  int i = t < 0.5 ? 0 : 1;
  double f = (t - 0.5 * i) / 0.5;
  for (int k = 0; k < 3; k++) rgb[k] = (stops[i][k] + f * (stops[i + 1][k] - stops[i][k])) / 255.0;
}

/* Text colour that reads on a background: white on dark, near-black on
 * light, judged by relative luminance (WCAG). */
static void contrasting(const double bg[3], double rgb[3]) {
  double lin[3];
  for (int k = 0; k < 3; k++) lin[k] = bg[k] <= 0.03928 ? bg[k] / 12.92 : pow((bg[k] + 0.055) / 1.055, 2.4);
  double lum = 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2];
  double v = lum < 0.3 ? 1.0 : 0.1;
  rgb[0] = rgb[1] = rgb[2] = v;
}

typedef struct layout {
  double cell, label_font, count_font;
  double label_w;      /* widest label as drawn (after any ellipsis) */
  double x0, y0, side; /* the cells' top-left corner and size */
  double width, height;
} layout;

static void plan(cairo_t *cr, const char *const *labels, int n, layout *l) {
  l->cell = fmax(24, fmin(72, 560.0 / n));
  l->label_font = fmin(13, l->cell * 0.55);
  l->count_font = fmin(13, l->cell * 0.42);
  rt_plot_font(cr, l->label_font, false);
  l->label_w = 0;
  for (int i = 0; i < n; i++)
    l->label_w = fmax(l->label_w, fmin(MAX_LABEL_W, rt_plot_text_width(cr, labels[i])));
  l->side = n * l->cell;
  l->x0 = MARGIN + AXIS_TITLE_H + l->label_w + 10;
  l->y0 = MARGIN + TITLE_H;
  /* A 45-degree label reaches down by (width + font height) / sqrt 2. */
  double below = 10 + (l->label_w + l->label_font * 1.2) * M_SQRT1_2 + 8;
  l->height = ceil(l->y0 + l->side + below + AXIS_TITLE_H + MARGIN);
  l->width = ceil(fmax(l->x0 + l->side + BAR_GAP + BAR_W + BAR_LABEL_W + AXIS_TITLE_H + MARGIN, 420));
}

static void draw_cells(cairo_t *cr, const layout *l, int n, const int64_t *counts) {
  char text[32];
  for (int r = 0; r < n; r++) {
    int64_t row_total = 0;
    for (int c = 0; c < n; c++) row_total += counts[(int64_t)r * n + c];
    for (int c = 0; c < n; c++) {
      int64_t v = counts[(int64_t)r * n + c];
      double bg[3], fg[3], x = l->x0 + c * l->cell, y = l->y0 + r * l->cell;
      blues(row_total > 0 ? (double)v / (double)row_total : 0, bg);
      rt_libcairo.set_source_rgb(cr, bg[0], bg[1], bg[2]);
      rt_libcairo.rectangle(cr, x, y, l->cell, l->cell);
      rt_libcairo.fill(cr);
      contrasting(bg, fg);
      rt_libcairo.set_source_rgb(cr, fg[0], fg[1], fg[2]);
      snprintf(text, sizeof text, "%lld", (long long)v);
      /* Large counts shrink to stay inside their cell. */
      double size = l->count_font;
      rt_plot_font(cr, size, r == c);
      double w = rt_plot_text_width(cr, text);
      if (w > l->cell - 6) rt_plot_font(cr, size * (l->cell - 6) / w, r == c);
      rt_plot_text_at(cr, text, x + (l->cell - rt_plot_text_width(cr, text)) / 2, y + l->cell / 2);
    }
  }
  /* Thin white rules keep neighbouring cells of one shade apart. */
  rt_libcairo.set_source_rgb(cr, 1, 1, 1);
  rt_libcairo.set_line_width(cr, 1);
  for (int i = 1; i < n; i++) {
    rt_libcairo.move_to(cr, l->x0 + i * l->cell, l->y0);
    rt_libcairo.line_to(cr, l->x0 + i * l->cell, l->y0 + l->side);
    rt_libcairo.move_to(cr, l->x0, l->y0 + i * l->cell);
    rt_libcairo.line_to(cr, l->x0 + l->side, l->y0 + i * l->cell);
  }
  rt_libcairo.stroke(cr);
  rt_libcairo.set_source_rgb(cr, 0.6, 0.6, 0.6);
  rt_libcairo.rectangle(cr, l->x0 + 0.5, l->y0 + 0.5, l->side - 1, l->side - 1);
  rt_libcairo.stroke(cr);
}

static void draw_labels(cairo_t *cr, const layout *l, const char *const *labels, int n) {
  char text[256];
  rt_libcairo.set_source_rgb(cr, 0.1, 0.1, 0.1);
  rt_plot_font(cr, l->label_font, false);
  for (int i = 0; i < n; i++) {
    rt_plot_fit_text(cr, labels[i], MAX_LABEL_W, text, sizeof text);
    double w = rt_plot_text_width(cr, text);
    /* Row label: right-aligned against the cells. */
    rt_plot_text_at(cr, text, l->x0 - 8 - w, l->y0 + (i + 0.5) * l->cell);
    /* Column label: ends just below its column's centre, rising to the right. */
    rt_libcairo.save(cr);
    rt_libcairo.translate(cr, l->x0 + (i + 0.5) * l->cell, l->y0 + l->side + 10);
    rt_libcairo.rotate(cr, -M_PI / 4);
    rt_plot_text_at(cr, text, -w, 0);
    rt_libcairo.restore(cr);
  }
  rt_plot_font(cr, 13, true);
  const char *x_title = "predicted", *y_title = "ground truth";
  rt_plot_text_at(cr, x_title, l->x0 + (l->side - rt_plot_text_width(cr, x_title)) / 2,
                  l->height - MARGIN - AXIS_TITLE_H / 2);
  rt_libcairo.save(cr);
  rt_libcairo.translate(cr, MARGIN + AXIS_TITLE_H / 2, l->y0 + l->side / 2);
  rt_libcairo.rotate(cr, -M_PI / 2);
  rt_plot_text_at(cr, y_title, -rt_plot_text_width(cr, y_title) / 2, 0);
  rt_libcairo.restore(cr);
}

/* The colour bar tells how shading maps to a cell's share of its row. */
static void draw_colour_bar(cairo_t *cr, const layout *l) {
  double x = l->x0 + l->side + BAR_GAP, top = l->y0, h = l->side;
  for (int i = 0; i < (int)h; i++) {
    double rgb[3];
    blues(1 - (i + 0.5) / h, rgb);
    rt_libcairo.set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
    rt_libcairo.rectangle(cr, x, top + i, BAR_W, 1);
    rt_libcairo.fill(cr);
  }
  rt_libcairo.set_source_rgb(cr, 0.6, 0.6, 0.6);
  rt_libcairo.set_line_width(cr, 1);
  rt_libcairo.rectangle(cr, x + 0.5, top + 0.5, BAR_W - 1, h - 1);
  rt_libcairo.stroke(cr);
  rt_libcairo.set_source_rgb(cr, 0.1, 0.1, 0.1);
  rt_plot_font(cr, 11, false);
  const char *ticks[] = {"100%", "50%", "0%"};
  for (int i = 0; i < 3; i++)
    rt_plot_text_at(cr, ticks[i], x + BAR_W + 4, top + fmin(fmax(i * h / 2, 6), h - 6));
  rt_plot_font(cr, 12, false);
  const char *caption = "share of row";
  rt_libcairo.save(cr);
  rt_libcairo.translate(cr, x + BAR_W + BAR_LABEL_W + AXIS_TITLE_H / 2, top + h / 2);
  rt_libcairo.rotate(cr, -M_PI / 2);
  rt_plot_text_at(cr, caption, -rt_plot_text_width(cr, caption) / 2, 0);
  rt_libcairo.restore(cr);
}

static void draw_title(cairo_t *cr, const layout *l, const char *title) {
  char text[512];
  rt_plot_font(cr, 16, true);
  rt_plot_fit_text(cr, title, l->width - 2 * MARGIN, text, sizeof text);
  rt_libcairo.set_source_rgb(cr, 0, 0, 0);
  rt_plot_text_at(cr, text, (l->width - rt_plot_text_width(cr, text)) / 2, MARGIN + TITLE_H / 2 - 4);
}

static int check_args(const char *path, const char *const *labels, int n, const int64_t *counts,
                      rt_error *err) {
  if (!path) return rt_fail(err, "confusion plot: no output path");
  if (n < 1 || n > MAX_CLASSES)
    return rt_fail(err, "%s: cannot draw %d classes (1 to %d)", path, n, MAX_CLASSES);
  if (!labels || !counts) return rt_fail(err, "%s: labels and counts are required", path);
  for (int i = 0; i < n; i++)
    if (!labels[i]) return rt_fail(err, "%s: label %d is NULL", path, i);
  for (int64_t i = 0; i < (int64_t)n * n; i++)
    if (counts[i] < 0)
      return rt_fail(err, "%s: count at row %lld, column %lld is negative", path, (long long)(i / n),
                     (long long)(i % n));
  return 0;
}

/* What plan and draw share for one confusion matrix. */
typedef struct confusion {
  const char *const *labels;
  int n;
  const int64_t *counts;
  const char *title;
  layout l;
} confusion;

static void plan_confusion(cairo_t *cr, void *ctx, double *width, double *height) {
  confusion *c = ctx;
  plan(cr, c->labels, c->n, &c->l);
  *width = c->l.width;
  *height = c->l.height;
}

static void draw_confusion(cairo_t *cr, void *ctx) {
  confusion *c = ctx;
  if (c->title) draw_title(cr, &c->l, c->title);
  draw_cells(cr, &c->l, c->n, c->counts);
  draw_labels(cr, &c->l, c->labels, c->n);
  draw_colour_bar(cr, &c->l);
}

int rt_plot_confusion_png(const char *path, const char *const *labels, int n, const int64_t *counts,
                          const char *title, rt_error *err) {
  if (check_args(path, labels, n, counts, err) < 0) return -1;
  confusion c = {.labels = labels, .n = n, .counts = counts, .title = title};
  return rt_plot_render(path, plan_confusion, draw_confusion, &c, err);
}
