/* Polygon IoU by scanline rasterisation on a grid shared by both polygons.
 *
 * dtlpy-metrics (dtlpymetrics/utils/matching.py, Matchers.calculate_iou_polygon)
 * fills both polygons into a pixel mask with OpenCV and counts pixels. A
 * pixel grid rounds polygons a few pixels wide away, so here the grid is
 * fitted to the polygons instead: ROWS rows span the joint height of both,
 * each row is sampled at its centre, and along a row the inside spans are
 * measured exactly. Per row, a polygon's crossings with the row's line are
 * sorted and paired (even-odd rule), and the overlap of the two span lists is
 * found by a merge. The row height cancels out of the ratio. Sampling at
 * row centres integrates any span width that is linear over a row exactly,
 * so straight-edged shapes come out close to their true IoU. */
#include "internal.h"

#include <math.h>
#include <stdlib.h>

enum { ROWS = 1024 };

/* One polygon as handed in: rings of vertices in a flat {x, y} array. */
typedef struct polygon {
  const double *xy;
  const int32_t *ring_len;
  int n_rings;
  int64_t n_vertices;
  double y_min, y_max; /* of every vertex; y_min > y_max when there is none */
} polygon;

/* Checks one polygon's arguments and fills in its vertex count and height. */
static int load_polygon(polygon *poly, const double *xy, const int32_t *ring_len, int n_rings, char name,
                        dl_error *err) {
  *poly =
      (polygon){.xy = xy, .ring_len = ring_len, .n_rings = n_rings, .y_min = INFINITY, .y_max = -INFINITY};
  if (n_rings < 0)
    return dl__fail(err, DL_E_INVAL, "dl_metrics_polygon_iou: polygon %c has %d rings", name, n_rings);
  if (n_rings > 0 && !ring_len)
    return dl__fail(err, DL_E_INVAL, "dl_metrics_polygon_iou: polygon %c has rings but no ring_len", name);
  for (int r = 0; r < n_rings; r++) {
    if (ring_len[r] < 0)
      return dl__fail(err, DL_E_INVAL, "dl_metrics_polygon_iou: polygon %c ring %d has length %d", name, r,
                      (int)ring_len[r]);
    poly->n_vertices += ring_len[r];
  }
  if (poly->n_vertices > 0 && !xy)
    return dl__fail(err, DL_E_INVAL, "dl_metrics_polygon_iou: polygon %c has vertices but xy is NULL", name);
  for (int64_t i = 0; i < 2 * poly->n_vertices; i++) {
    if (!isfinite(xy[i]))
      return dl__fail(err, DL_E_NUMERIC, "dl_metrics_polygon_iou: polygon %c vertex %lld is not finite", name,
                      (long long)(i / 2));
    if (i % 2 == 1) {
      poly->y_min = fmin(poly->y_min, xy[i]);
      poly->y_max = fmax(poly->y_max, xy[i]);
    }
  }
  return DL_OK;
}

static int compare_doubles(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Sorted x of every crossing of the line at height y with an edge of poly;
 * returns their count, which is even. An edge counts when y lies in
 * [min(y0, y1), max(y0, y1)), so a vertex on the line is counted once and a
 * horizontal edge never. xs has room for poly->n_vertices values. */
static int64_t row_crossings(const polygon *poly, double y, double *xs) {
  int64_t n = 0;
  const double *ring = poly->xy;
  for (int r = 0; r < poly->n_rings; r++) {
    int32_t len = poly->ring_len[r];
    for (int32_t i = 0; len >= 3 && i < len; i++) {
      const double *p = ring + 2 * i, *q = ring + 2 * ((i + 1) % len);
      if ((p[1] <= y) != (q[1] <= y)) xs[n++] = p[0] + (y - p[1]) * (q[0] - p[0]) / (q[1] - p[1]);
    }
    ring += 2 * (int64_t)len;
  }
  qsort(xs, (size_t)n, sizeof *xs, compare_doubles);
  return n;
}

/* Total length of the spans [xs[0], xs[1]], [xs[2], xs[3]], ... */
static double span_length(const double *xs, int64_t n) {
  double sum = 0;
  for (int64_t i = 0; i + 1 < n; i += 2) sum += xs[i + 1] - xs[i];
  return sum;
}

/* Length of the overlap of two sorted lists of disjoint spans. */
static double span_overlap(const double *a, int64_t na, const double *b, int64_t nb) {
  double sum = 0;
  int64_t i = 0, j = 0;
  while (i + 1 < na && j + 1 < nb) {
    double lo = fmax(a[i], b[j]), hi = fmin(a[i + 1], b[j + 1]);
    if (hi > lo) sum += hi - lo;
    if (a[i + 1] < b[j + 1]) {
      i += 2;
    } else {
      j += 2;
    }
  }
  return sum;
}

int dl_metrics_polygon_iou(const double *xy_a, const int32_t *ring_len_a, int n_rings_a, const double *xy_b,
                           const int32_t *ring_len_b, int n_rings_b, double *iou, dl_error *err) {
  polygon a, b;
  if (!iou) return dl__fail(err, DL_E_INVAL, "dl_metrics_polygon_iou: iou is NULL");
  int rc = load_polygon(&a, xy_a, ring_len_a, n_rings_a, 'a', err);
  if (rc == DL_OK) rc = load_polygon(&b, xy_b, ring_len_b, n_rings_b, 'b', err);
  if (rc != DL_OK) return rc;
  *iou = 0;
  /* Disjoint heights (or an empty polygon) cannot overlap. */
  if (a.y_max <= b.y_min || b.y_max <= a.y_min) return DL_OK;

  double *xs_a = malloc(sizeof(double) * (size_t)(a.n_vertices + b.n_vertices));
  if (!xs_a)
    return dl__fail(err, DL_E_NOMEM, "dl_metrics_polygon_iou: no memory for %lld vertices",
                    (long long)(a.n_vertices + b.n_vertices));
  double *xs_b = xs_a + a.n_vertices;
  double y0 = fmin(a.y_min, b.y_min), step = (fmax(a.y_max, b.y_max) - y0) / ROWS;
  double inter = 0, area_a = 0, area_b = 0;
  for (int row = 0; row < ROWS; row++) {
    double y = y0 + (row + 0.5) * step;
    int64_t na = row_crossings(&a, y, xs_a), nb = row_crossings(&b, y, xs_b);
    area_a += span_length(xs_a, na);
    area_b += span_length(xs_b, nb);
    inter += span_overlap(xs_a, na, xs_b, nb);
  }
  free(xs_a);
  double uni = area_a + area_b - inter;
  *iou = uni > 0 ? inter / uni : 0;
  return DL_OK;
}
