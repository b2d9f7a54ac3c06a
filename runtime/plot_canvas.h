/* plot_canvas.h — what the plot_*.c files share: a white canvas, text that
 * fits its room, a palette, and the atomic PNG write. Internal to the
 * plotting code. */
#ifndef RT_PLOT_CANVAS_H
#define RT_PLOT_CANVAS_H

#include <stdbool.h>
#include <stddef.h>

#include "lib_cairo.h"
#include "rt_error.h"

typedef struct rt_plot_canvas {
  cairo_surface_t *surface; /* owned */
  cairo_t *cr;              /* owned; draws on surface */
} rt_plot_canvas;

/* A width x height white RGB canvas with the plot font selected; loads
 * cairo first. Free it with rt_plot_canvas_close, also after a failure. */
int rt_plot_canvas_open(rt_plot_canvas *c, int width, int height, rt_error *err);
void rt_plot_canvas_close(rt_plot_canvas *c);

/* Writes the canvas as a PNG to path (rt_fs_write_report). */
int rt_plot_canvas_save(rt_plot_canvas *c, const char *path, rt_error *err);

/* A PNG whose size depends on what it shows: plan() lays it out on a
 * scratch canvas (text must be measured) and sets *width and *height;
 * draw() then paints a canvas of that size, which is saved to path. */
typedef void (*rt_plot_plan_fn)(cairo_t *cr, void *ctx, double *width, double *height);
typedef void (*rt_plot_draw_fn)(cairo_t *cr, void *ctx);
int rt_plot_render(const char *path, rt_plot_plan_fn plan, rt_plot_draw_fn draw, void *ctx, rt_error *err);

/* Selects DejaVu Sans at size pixels. */
void rt_plot_font(cairo_t *cr, double size, bool bold);

/* Advance width of text in the current font. */
double rt_plot_text_width(cairo_t *cr, const char *text);

/* Copies text into out (out_size bytes), cut at a character boundary and
 * ended with an ellipsis when it would be wider than max_width. */
void rt_plot_fit_text(cairo_t *cr, const char *text, double max_width, char *out, size_t out_size);

/* Draws text so that its left end sits at x and its middle height at y. */
void rt_plot_text_at(cairo_t *cr, const char *text, double x, double y);

/* Colour i of matplotlib's default 10-colour cycle (Tableau 10); it repeats
 * after 10. */
void rt_plot_palette(int i, double rgb[3]);

#endif
