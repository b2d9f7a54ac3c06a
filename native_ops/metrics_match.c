/* Greedy one-to-one matching on a score matrix, as dtlpy-metrics does it
 * (dtlpymetrics/utils/matching.py, Matchers.general_match): take the largest
 * cell at or above the threshold, pair its row and column, drop both, repeat.
 * That loop is the same as walking all cells in descending order and keeping
 * each cell whose row and column are both still free, which is what this
 * file does after one sort. dtlpy's frame has predictions as rows and takes
 * the first maximum in row-major order, hence the tie rule: lowest
 * prediction, then lowest ground truth. */
#include "internal.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct cell {
  double score;
  int32_t gt, pred;
} cell;

/* Descending score; ties by ascending prediction, then ground truth index. */
static int compare_cells(const void *x, const void *y) {
  const cell *a = x, *b = y;
  if (a->score != b->score) return a->score < b->score ? 1 : -1;
  if (a->pred != b->pred) return a->pred < b->pred ? -1 : 1;
  return (a->gt > b->gt) - (a->gt < b->gt);
}

int dl_metrics_match_greedy(const double *scores, int n_gt, int n_pred, double threshold, int32_t *gt_match,
                            int32_t *pred_match, dl_error *err) {
  if (n_gt < 0 || n_pred < 0)
    return dl__fail(err, DL_E_INVAL, "dl_metrics_match_greedy: negative count (n_gt %d, n_pred %d)", n_gt,
                    n_pred);
  size_t n_cells = (size_t)n_gt * (size_t)n_pred;
  if (n_cells > SIZE_MAX / sizeof(cell) - 1)
    return dl__fail(err, DL_E_TOO_LARGE, "dl_metrics_match_greedy: a %d x %d matrix is too large", n_gt,
                    n_pred);
  if (n_cells > 0 && !scores) return dl__fail(err, DL_E_INVAL, "dl_metrics_match_greedy: scores is NULL");
  if (isnan(threshold)) return dl__fail(err, DL_E_NUMERIC, "dl_metrics_match_greedy: threshold is NaN");
  for (size_t i = 0; i < n_cells; i++)
    if (isnan(scores[i]))
      return dl__fail(err, DL_E_NUMERIC,
                      "dl_metrics_match_greedy: score of ground truth %zu, prediction %zu is NaN",
                      i / (size_t)n_pred, i % (size_t)n_pred);

  /* The caller's outputs are optional, so matches are tracked here first.
   * The + 1s keep malloc away from a zero size, which may return NULL. */
  int32_t *match = malloc(sizeof(int32_t) * ((size_t)n_gt + (size_t)n_pred) + 1);
  cell *cells = malloc(sizeof(cell) * n_cells + 1);
  if (!match || !cells) {
    free(match);
    free(cells);
    return dl__fail(err, DL_E_NOMEM, "dl_metrics_match_greedy: no memory for a %d x %d matrix", n_gt, n_pred);
  }
  int32_t *gm = match, *pm = match + n_gt;
  for (int i = 0; i < n_gt + n_pred; i++) match[i] = -1;

  size_t n_kept = 0;
  for (int g = 0; g < n_gt; g++)
    for (int p = 0; p < n_pred; p++) {
      double s = scores[(size_t)g * (size_t)n_pred + (size_t)p];
      if (s >= threshold) cells[n_kept++] = (cell){s, g, p};
    }
  qsort(cells, n_kept, sizeof *cells, compare_cells);
  for (size_t i = 0; i < n_kept; i++) {
    if (gm[cells[i].gt] >= 0 || pm[cells[i].pred] >= 0) continue;
    gm[cells[i].gt] = cells[i].pred;
    pm[cells[i].pred] = cells[i].gt;
  }
  if (gt_match) memcpy(gt_match, gm, sizeof(int32_t) * (size_t)n_gt);
  if (pred_match) memcpy(pred_match, pm, sizeof(int32_t) * (size_t)n_pred);
  free(match);
  free(cells);
  return DL_OK;
}
