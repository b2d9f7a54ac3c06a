/* Precision/recall curves as a PNG: a square plot of 0..1 on both axes with
 * a grid every 0.2, one line per series, and the legend in a column to the
 * right of the plot, where it cannot hide a curve. */
#include "plot.h"
#include "plot_canvas.h"

#include <math.h>
#include <stdio.h>

static const double MARGIN = 16, TITLE_H = 44, AXIS_TITLE_H = 22, TICK_LABEL_W = 34, TICK_LABEL_H = 18;
static const double PLOT = 420, LEGEND_GAP = 24, LEGEND_ROW = 20, SWATCH = 22, MAX_NAME_W = 230;

typedef struct layout {
  double left, top; /* the plot area's top-left corner; its sides are PLOT */
  double legend_w;  /* 0 when there is no legend */
  double width, height;
} layout;

static void plan(cairo_t *cr, const rt_plot_series *series, int n_series, layout *l) {
  double name_w = 0;
  rt_plot_font(cr, 12, false);
  for (int i = 0; i < n_series; i++)
    if (series[i].name) name_w = fmax(name_w, fmin(MAX_NAME_W, rt_plot_text_width(cr, series[i].name)));
  l->legend_w = name_w > 0 ? SWATCH + 8 + name_w + 12 : 0;
  l->left = MARGIN + AXIS_TITLE_H + TICK_LABEL_W;
  l->top = MARGIN + TITLE_H;
  l->width = ceil(l->left + PLOT + (l->legend_w > 0 ? LEGEND_GAP + l->legend_w : 0) + MARGIN);
  l->width = fmax(l->width, 480);
  l->height = ceil(l->top + PLOT + TICK_LABEL_H + 6 + AXIS_TITLE_H + MARGIN);
}

static double px(const layout *l, double x) { return l->left + x * PLOT; }
static double py(const layout *l, double y) { return l->top + (1 - y) * PLOT; }

static void draw_axes(cairo_t *cr, const layout *l) {
  char text[16];
  rt_libcairo.set_line_width(cr, 1);
  rt_plot_font(cr, 11, false);
  for (int i = 0; i <= 5; i++) {
    double v = i / 5.0, gx = floor(px(l, v)) + 0.5, gy = floor(py(l, v)) + 0.5;
    rt_libcairo.set_source_rgb(cr, 0.88, 0.88, 0.88);
    rt_libcairo.move_to(cr, gx, l->top);
    rt_libcairo.line_to(cr, gx, l->top + PLOT);
    rt_libcairo.move_to(cr, l->left, gy);
    rt_libcairo.line_to(cr, l->left + PLOT, gy);
    rt_libcairo.stroke(cr);
    rt_libcairo.set_source_rgb(cr, 0.1, 0.1, 0.1);
    snprintf(text, sizeof text, "%.1f", v);
    double w = rt_plot_text_width(cr, text);
    rt_plot_text_at(cr, text, gx - w / 2, l->top + PLOT + TICK_LABEL_H / 2 + 4);
    rt_plot_text_at(cr, text, l->left - 6 - w, gy);
  }
  rt_libcairo.set_source_rgb(cr, 0.3, 0.3, 0.3);
  rt_libcairo.rectangle(cr, l->left + 0.5, l->top + 0.5, PLOT - 1, PLOT - 1);
  rt_libcairo.stroke(cr);

  rt_libcairo.set_source_rgb(cr, 0.1, 0.1, 0.1);
  rt_plot_font(cr, 13, true);
  const char *x_title = "recall", *y_title = "precision";
  rt_plot_text_at(cr, x_title, l->left + (PLOT - rt_plot_text_width(cr, x_title)) / 2,
                  l->height - MARGIN - AXIS_TITLE_H / 2);
  rt_libcairo.save(cr);
  rt_libcairo.translate(cr, MARGIN + AXIS_TITLE_H / 2, l->top + PLOT / 2);
  rt_libcairo.rotate(cr, -M_PI / 2);
  rt_plot_text_at(cr, y_title, -rt_plot_text_width(cr, y_title) / 2, 0);
  rt_libcairo.restore(cr);
}

/* Series 10 and up reuse the colours, dashed, so that no two lines look
 * alike. */
static void set_series_style(cairo_t *cr, int i) {
  double rgb[3];
  static const double dash[] = {6, 3};
  rt_plot_palette(i, rgb);
  rt_libcairo.set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
  rt_libcairo.set_line_width(cr, 2);
  rt_libcairo.set_dash(cr, dash, (i / 10) % 2 ? 2 : 0, 0);
}

static void draw_series(cairo_t *cr, const layout *l, const rt_plot_series *s, int i) {
  rt_libcairo.save(cr);
  /* A line along 0 or 1 would be half clipped by the plot's edge. */
  rt_libcairo.rectangle(cr, l->left - 2, l->top - 2, PLOT + 4, PLOT + 4);
  rt_libcairo.clip(cr);
  set_series_style(cr, i);
  rt_libcairo.set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
  bool pen_down = false;
  for (int k = 0; k < s->n; k++) {
    if (!isfinite(s->x[k]) || !isfinite(s->y[k])) {
      pen_down = false;
      continue;
    }
    if (pen_down) {
      rt_libcairo.line_to(cr, px(l, s->x[k]), py(l, s->y[k]));
    } else {
      rt_libcairo.move_to(cr, px(l, s->x[k]), py(l, s->y[k]));
    }
    pen_down = true;
  }
  rt_libcairo.stroke(cr);
  rt_libcairo.restore(cr);
}

/* One row per series; when they outnumber the rows the plot's height holds,
 * the last row says how many were left out. */
static void draw_legend(cairo_t *cr, const layout *l, const rt_plot_series *series, int n_series) {
  char text[256];
  int rows = (int)((PLOT - 12) / LEGEND_ROW), shown = n_series <= rows ? n_series : rows - 1;
  double x = l->left + PLOT + LEGEND_GAP, y = l->top;
  int used = shown < n_series ? shown + 1 : shown;
  rt_libcairo.set_source_rgb(cr, 0.75, 0.75, 0.75);
  rt_libcairo.set_line_width(cr, 1);
  rt_libcairo.rectangle(cr, x + 0.5, y + 0.5, l->legend_w, used * LEGEND_ROW + 12);
  rt_libcairo.stroke(cr);
  rt_plot_font(cr, 12, false);
  for (int i = 0; i < shown; i++) {
    double cy = y + 6 + (i + 0.5) * LEGEND_ROW;
    set_series_style(cr, i);
    rt_libcairo.move_to(cr, x + 6, cy);
    rt_libcairo.line_to(cr, x + 6 + SWATCH, cy);
    rt_libcairo.stroke(cr);
    rt_libcairo.set_source_rgb(cr, 0.1, 0.1, 0.1);
    rt_plot_fit_text(cr, series[i].name ? series[i].name : "", MAX_NAME_W, text, sizeof text);
    rt_plot_text_at(cr, text, x + 6 + SWATCH + 8, cy);
  }
  if (shown < n_series) {
    snprintf(text, sizeof text, "+ %d more", n_series - shown);
    rt_libcairo.set_source_rgb(cr, 0.3, 0.3, 0.3);
    rt_plot_text_at(cr, text, x + 6, y + 6 + (shown + 0.5) * LEGEND_ROW);
  }
}

static void draw_title(cairo_t *cr, const layout *l, const char *title) {
  char text[512];
  rt_plot_font(cr, 16, true);
  rt_plot_fit_text(cr, title, l->width - 2 * MARGIN, text, sizeof text);
  rt_libcairo.set_source_rgb(cr, 0, 0, 0);
  rt_plot_text_at(cr, text, (l->width - rt_plot_text_width(cr, text)) / 2, MARGIN + TITLE_H / 2 - 4);
}

static int check_args(const char *path, const rt_plot_series *series, int n_series, rt_error *err) {
  if (!path) return rt_fail(err, "precision/recall plot: no output path");
  if (n_series < 0 || (n_series > 0 && !series))
    return rt_fail(err, "%s: bad series list (%d series)", path, n_series);
  for (int i = 0; i < n_series; i++)
    if (series[i].n < 0 || (series[i].n > 0 && (!series[i].x || !series[i].y)))
      return rt_fail(err, "%s: series %d ('%s') has %d points but no data", path, i,
                     series[i].name ? series[i].name : "", series[i].n);
  return 0;
}

/* What plan and draw share for one precision/recall plot. */
typedef struct pr_plot {
  const rt_plot_series *series;
  int n_series;
  const char *title;
  layout l;
} pr_plot;

static void plan_pr(cairo_t *cr, void *ctx, double *width, double *height) {
  pr_plot *p = ctx;
  plan(cr, p->series, p->n_series, &p->l);
  *width = p->l.width;
  *height = p->l.height;
}

static void draw_pr(cairo_t *cr, void *ctx) {
  pr_plot *p = ctx;
  if (p->title) draw_title(cr, &p->l, p->title);
  draw_axes(cr, &p->l);
  for (int i = 0; i < p->n_series; i++) draw_series(cr, &p->l, &p->series[i], i);
  if (p->l.legend_w > 0) draw_legend(cr, &p->l, p->series, p->n_series);
}

int rt_plot_pr_curve_png(const char *path, const rt_plot_series *series, int n_series, const char *title,
                         rt_error *err) {
  if (check_args(path, series, n_series, err) < 0) return -1;
  pr_plot p = {.series = series, .n_series = n_series, .title = title};
  return rt_plot_render(path, plan_pr, draw_pr, &p, err);
}
