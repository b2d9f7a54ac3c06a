/* The evaluation accumulator: items in, one metrics JSON out.
 *
 * Matching follows dtlpy-metrics, dtlpymetrics/utils/matching.py
 * (measure_annotations and Matchers.general_match): per item and per
 * annotation type, a score matrix between ground truth and predictions,
 * matched greedily on its largest cell. It runs per label, as dtlpy does with
 * match_wrong_labels=False, because a per-label AP needs a match to carry
 * the label. Predictions enter the matrix by descending confidence, so of
 * two predictions that score alike the more confident one is matched.
 * Matching is done once at IoU 0.5; see dl_metrics_map_coco for why that one
 * matching serves every threshold of mAP@[.5:.95].
 *
 * dtlpy leaves a wrong class as an unmatched ground truth plus an unmatched
 * prediction; a confusion matrix needs them as one (truth, predicted) pair,
 * so after matching equal labels the leftovers are paired in order, and only
 * what is still left goes to the "(unmatched)" row or column. */
#include "metrics_report.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "dl_native.h"
#include "metrics_annotation.h"
#include "strlist.h"

static const double MATCH_THRESHOLD = 0.5;    /* the lowest COCO IoU threshold */
static const double DEFAULT_IMAGE_SIDE = 500; /* dtlpy's size when an item's is unknown */
static const char UNMATCHED[] = "(unmatched)";

/* One box, segment, point or binary annotation after matching. */
typedef struct scored {
  int32_t kind, label; /* rt_metrics_kind; index into labels */
  bool is_prediction;
  double confidence; /* predictions */
  double score;      /* predictions: score of the matched ground truth, 0 when unmatched */
} scored;

/* One class decision; -1 stands for "(unmatched)". */
typedef struct class_pair {
  int32_t gt, pred;
} class_pair;

typedef struct scored_list {
  scored *v;
  size_t n, cap;
} scored_list;

typedef struct pair_list {
  class_pair *v;
  size_t n, cap;
} pair_list;

struct rt_metrics {
  rt_strlist labels; /* the caller's n_given first, then those met in annotations */
  size_t n_given;
  scored_list scored;
  pair_list pairs;
  int64_t n_items, n_unscored;
  int64_t n_gt[RT_METRICS_N_KINDS], n_pred[RT_METRICS_N_KINDS];
};

/* The capacity a list needs to hold `need` elements: doubling from 64. */
static size_t grown_capacity(size_t cap, size_t need) {
  size_t grown = cap ? cap : 64;
  while (grown < need) grown *= 2;
  return grown;
}

/* Make room for `more` entries; false when out of memory (l is unchanged). */
static bool reserve_scored(scored_list *l, size_t more) {
  if (l->n + more <= l->cap) return true;
  size_t cap = grown_capacity(l->cap, l->n + more);
  scored *v = realloc(l->v, cap * sizeof *v);
  if (!v) return false;
  l->v = v;
  l->cap = cap;
  return true;
}

static bool reserve_pairs(pair_list *l, size_t more) {
  if (l->n + more <= l->cap) return true;
  size_t cap = grown_capacity(l->cap, l->n + more);
  class_pair *v = realloc(l->v, cap * sizeof *v);
  if (!v) return false;
  l->v = v;
  l->cap = cap;
  return true;
}

static int32_t find_label(const rt_metrics *m, const char *label) {
  for (size_t i = 0; i < m->labels.n; i++)
    if (strcmp(m->labels.v[i], label) == 0) return (int32_t)i;
  return -1;
}

rt_metrics *rt_metrics_new(const char *const *labels, int n_labels, rt_error *err) {
  if (n_labels < 0 || (n_labels > 0 && !labels)) {
    rt_fail(err, "metrics: bad label list (%d labels)", n_labels);
    return NULL;
  }
  rt_metrics *m = calloc(1, sizeof *m);
  if (!m) {
    rt_fail(err, "metrics: out of memory");
    return NULL;
  }
  for (int i = 0; i < n_labels; i++) {
    if (!labels[i]) {
      rt_fail(err, "metrics: label %d is NULL", i);
    } else if (find_label(m, labels[i]) >= 0) {
      continue; /* a repeated label is the same label */
    } else if (rt_strlist_push(&m->labels, labels[i], err) == 0) {
      continue;
    }
    rt_metrics_free(m);
    return NULL;
  }
  m->n_given = m->labels.n;
  return m;
}

void rt_metrics_free(rt_metrics *m) {
  if (!m) return;
  rt_strlist_free(&m->labels);
  free(m->scored.v);
  free(m->pairs.v);
  free(m);
}

int rt_metrics_split_annotations(const json_t *annotations, const char *model_name, json_t **gt,
                                 json_t **pred, rt_error *err) {
  *gt = json_array();
  *pred = json_array();
  if (!*gt || !*pred) goto fail_nomem;
  if (annotations && !json_is_array(annotations)) {
    json_decref(*gt);
    json_decref(*pred);
    *gt = *pred = NULL;
    return rt_fail(err, "'annotations' must be an array");
  }
  size_t i;
  json_t *a;
  json_array_foreach(annotations, i, a) {
    const json_t *model = json_object_get(json_object_get(json_object_get(a, "metadata"), "user"), "model");
    const char *name = json_string_value(json_object_get(model, "name"));
    json_t *into = !model ? *gt : (model_name && name && strcmp(name, model_name) == 0) ? *pred : NULL;
    if (into && json_array_append(into, a) < 0) goto fail_nomem;
  }
  return 0;
fail_nomem:
  json_decref(*gt);
  json_decref(*pred);
  *gt = *pred = NULL;
  return rt_fail(err, "out of memory splitting annotations");
}

/* --------------------------------------------------------- one item */

/* What one item contributes, gathered before anything is committed. */
typedef struct item_work {
  const char *item;
  rt_metrics_annotation *anns; /* ground truth first, then predictions */
  size_t n_gt, n_pred;
  double width, height;
  scored_list scored;
  pair_list pairs;
  int32_t *label_of; /* per annotation: its label's index */
} item_work;

static int read_all(item_work *w, const json_t *gt, const json_t *pred, rt_error *err) {
  char where[512];
  for (size_t i = 0; i < w->n_gt + w->n_pred; i++) {
    bool is_pred = i >= w->n_gt;
    size_t k = is_pred ? i - w->n_gt : i;
    snprintf(where, sizeof where, "item %s, %s %zu", w->item, is_pred ? "prediction" : "ground truth", k);
    if (rt_metrics_annotation_read(json_array_get(is_pred ? pred : gt, k), where, &w->anns[i], err) < 0)
      return -1;
  }
  const rt_metrics_annotation *first_mask = NULL;
  for (size_t i = 0; i < w->n_gt + w->n_pred; i++) {
    const rt_metrics_annotation *a = &w->anns[i];
    if (a->kind != RT_METRICS_BINARY) continue;
    if (!first_mask) first_mask = a;
    if (a->mask_h != first_mask->mask_h || a->mask_w != first_mask->mask_w)
      return rt_fail(err, "item %s: binary masks differ in size (%lldx%lld and %lldx%lld)", w->item,
                     (long long)first_mask->mask_w, (long long)first_mask->mask_h, (long long)a->mask_w,
                     (long long)a->mask_h);
  }
  return 0;
}

/* Gives every scored annotation a label index, adding labels not seen yet. */
static int resolve_labels(rt_metrics *m, item_work *w, rt_error *err) {
  for (size_t i = 0; i < w->n_gt + w->n_pred; i++) {
    const rt_metrics_annotation *a = &w->anns[i];
    w->label_of[i] = -1;
    if (a->kind == RT_METRICS_UNSCORED) continue;
    w->label_of[i] = find_label(m, a->label);
    if (w->label_of[i] < 0) {
      if (rt_strlist_push(&m->labels, a->label, err) < 0) return -1;
      w->label_of[i] = (int32_t)m->labels.n - 1;
    }
  }
  return 0;
}

/* Scores of ground truths g[] against predictions p[] of one kind into
 * out[ng * np]. The annotations were checked when read, so the kernels can
 * fail only for want of memory. */
static int score_matrix(const item_work *w, int kind, const size_t *g, int ng, const size_t *p, int np,
                        double *out, rt_error *err) {
  dl_error de;
  int rc = DL_OK;
  const rt_metrics_annotation *a = w->anns;
  if (kind == RT_METRICS_CLASS) {
    for (int i = 0; i < ng; i++)
      for (int j = 0; j < np; j++) out[i * np + j] = strcmp(a[g[i]].label, a[p[j]].label) == 0;
  } else if (kind == RT_METRICS_BOX || kind == RT_METRICS_POINT) {
    int dim = kind == RT_METRICS_BOX ? 4 : 2;
    double *packed = malloc(sizeof(double) * dim * (size_t)(ng + np) + 1);
    if (!packed) return rt_fail(err, "item %s: out of memory", w->item);
    for (int i = 0; i < ng + np; i++) {
      const rt_metrics_annotation *x = &a[i < ng ? g[i] : p[i - ng]];
      memcpy(packed + dim * i, kind == RT_METRICS_BOX ? x->box : x->point, sizeof(double) * dim);
    }
    rc = kind == RT_METRICS_BOX
             ? dl_metrics_box_iou(packed, ng, packed + dim * ng, np, out, &de)
             : dl_metrics_point_score(packed, ng, packed + dim * ng, np, w->width, w->height, out, &de);
    free(packed);
  } else {
    for (int i = 0; i < ng && rc == DL_OK; i++)
      for (int j = 0; j < np && rc == DL_OK; j++) {
        const rt_metrics_annotation *x = &a[g[i]], *y = &a[p[j]];
        rc = kind == RT_METRICS_SEGMENT
                 ? dl_metrics_polygon_iou(x->xy, x->ring_len, x->n_rings, y->xy, y->ring_len, y->n_rings,
                                          &out[i * np + j], &de)
                 : dl_metrics_mask_iou(x->mask, y->mask, x->mask_h, x->mask_w, &out[i * np + j], &de);
      }
  }
  return rc == DL_OK ? 0
                     : rt_fail(err, "item %s: %s scores: %s", w->item, rt_metrics_kind_name(kind), de.msg);
}

static int push_scored(item_work *w, scored s, rt_error *err) {
  if (!reserve_scored(&w->scored, 1)) return rt_fail(err, "item %s: out of memory", w->item);
  w->scored.v[w->scored.n++] = s;
  return 0;
}

static int push_pair(item_work *w, int32_t gt, int32_t pred, rt_error *err) {
  if (!reserve_pairs(&w->pairs, 1)) return rt_fail(err, "item %s: out of memory", w->item);
  w->pairs.v[w->pairs.n++] = (class_pair){gt, pred};
  return 0;
}

/* Records the outcome of matching g[] with p[] (gm/pm from the matcher). */
static int record(item_work *w, int kind, const size_t *g, int ng, const size_t *p, int np, const int32_t *gm,
                  const int32_t *pm, const double *scores, rt_error *err) {
  if (kind == RT_METRICS_CLASS) {
    /* Matched pairs agree; leftovers pair up in order (a confusion); the
     * rest is unmatched. */
    int next_pred = 0;
    for (int i = 0; i < ng; i++) {
      int j = gm[i];
      if (j < 0) {
        while (next_pred < np && pm[next_pred] >= 0) next_pred++;
        if (next_pred < np) j = next_pred++;
      }
      if (push_pair(w, w->label_of[g[i]], j >= 0 ? w->label_of[p[j]] : -1, err) < 0) return -1;
    }
    for (; next_pred < np; next_pred++)
      if (pm[next_pred] < 0 && push_pair(w, -1, w->label_of[p[next_pred]], err) < 0) return -1;
    return 0;
  }
  for (int i = 0; i < ng; i++)
    if (push_scored(w, (scored){.kind = kind, .label = w->label_of[g[i]]}, err) < 0) return -1;
  for (int j = 0; j < np; j++) {
    const rt_metrics_annotation *a = &w->anns[p[j]];
    scored s = {.kind = kind, .label = w->label_of[p[j]], .is_prediction = true, .confidence = a->confidence};
    s.score = pm[j] >= 0 ? scores[pm[j] * np + j] : 0;
    if (push_scored(w, s, err) < 0) return -1;
  }
  return 0;
}

static int by_confidence(const void *x, const void *y, void *anns) {
  const rt_metrics_annotation *a = anns;
  size_t i = *(const size_t *)x, j = *(const size_t *)y;
  if (a[i].confidence != a[j].confidence) return a[i].confidence < a[j].confidence ? 1 : -1;
  return (i > j) - (i < j);
}

/* Matches one kind's annotations of one label (or, for classes, all of
 * them: label equality is their score) and records the result. */
static int match_group(item_work *w, int kind, int32_t label, rt_error *err) {
  size_t n = w->n_gt + w->n_pred;
  size_t *idx = malloc(sizeof(size_t) * n + 1);
  int ng = 0, np = 0;
  if (!idx) return rt_fail(err, "item %s: out of memory", w->item);
  for (size_t i = 0; i < w->n_gt; i++)
    if (w->anns[i].kind == kind && (kind == RT_METRICS_CLASS || w->label_of[i] == label)) idx[ng++] = i;
  size_t *p = idx + ng;
  for (size_t i = w->n_gt; i < n; i++)
    if (w->anns[i].kind == kind && (kind == RT_METRICS_CLASS || w->label_of[i] == label)) p[np++] = i;
  qsort_r(p, (size_t)np, sizeof *p, by_confidence, w->anns);

  double *scores = malloc(sizeof(double) * (size_t)ng * (size_t)np + 1);
  int32_t *gm = malloc(sizeof(int32_t) * (size_t)(ng + np) + 1);
  dl_error de;
  int rc = !scores || !gm ? rt_fail(err, "item %s: out of memory", w->item)
                          : score_matrix(w, kind, idx, ng, p, np, scores, err);
  if (rc == 0 && dl_metrics_match_greedy(scores, ng, np, kind == RT_METRICS_CLASS ? 1 : MATCH_THRESHOLD, gm,
                                         gm + ng, &de) < 0)
    rc = rt_fail(err, "item %s: matching: %s", w->item, de.msg);
  if (rc == 0) rc = record(w, kind, idx, ng, p, np, gm, gm + ng, scores, err);
  free(scores);
  free(gm);
  free(idx);
  return rc;
}

/* Runs match_group once per (kind, label) present in the item. */
static int match_all(item_work *w, rt_error *err) {
  size_t n = w->n_gt + w->n_pred;
  for (size_t i = 0; i < n; i++) {
    int kind = w->anns[i].kind;
    if (kind == RT_METRICS_UNSCORED) continue;
    bool first = true; /* the first annotation of its (kind, label) starts its group */
    for (size_t j = 0; j < i && first; j++)
      first = !(w->anns[j].kind == kind && (kind == RT_METRICS_CLASS || w->label_of[j] == w->label_of[i]));
    if (first && match_group(w, kind, w->label_of[i], err) < 0) return -1;
  }
  return 0;
}

static int commit(rt_metrics *m, const item_work *w, rt_error *err) {
  if (!reserve_scored(&m->scored, w->scored.n) || !reserve_pairs(&m->pairs, w->pairs.n))
    return rt_fail(err, "item %s: out of memory", w->item);
  if (w->scored.n) memcpy(m->scored.v + m->scored.n, w->scored.v, w->scored.n * sizeof(scored));
  if (w->pairs.n) memcpy(m->pairs.v + m->pairs.n, w->pairs.v, w->pairs.n * sizeof(class_pair));
  m->scored.n += w->scored.n;
  m->pairs.n += w->pairs.n;
  for (size_t i = 0; i < w->n_gt + w->n_pred; i++) {
    int kind = w->anns[i].kind;
    if (kind == RT_METRICS_UNSCORED) {
      m->n_unscored++;
    } else if (i < w->n_gt) {
      m->n_gt[kind]++;
    } else {
      m->n_pred[kind]++;
    }
  }
  m->n_items++;
  return 0;
}

int rt_metrics_add_item(rt_metrics *m, const char *item, const json_t *gt, const json_t *pred, int width,
                        int height, rt_error *err) {
  item = item ? item : "(unnamed)";
  if (!m) return rt_fail(err, "item %s: no metrics accumulator", item);
  if ((gt && !json_is_array(gt)) || (pred && !json_is_array(pred)))
    return rt_fail(err, "item %s: ground truth and predictions must be arrays of annotations", item);
  item_work w = {.item = item, .n_gt = json_array_size(gt), .n_pred = json_array_size(pred)};
  w.width = width > 0 && height > 0 ? width : DEFAULT_IMAGE_SIDE;
  w.height = width > 0 && height > 0 ? height : DEFAULT_IMAGE_SIDE;
  size_t n = w.n_gt + w.n_pred;
  if (n > INT32_MAX) return rt_fail(err, "item %s: too many annotations (%zu)", item, n);
  w.anns = calloc(n + 1, sizeof *w.anns);
  w.label_of = calloc(n + 1, sizeof *w.label_of);
  int rc =
      !w.anns || !w.label_of ? rt_fail(err, "item %s: out of memory", item) : read_all(&w, gt, pred, err);
  if (rc == 0) rc = resolve_labels(m, &w, err);
  if (rc == 0) rc = match_all(&w, err);
  if (rc == 0) rc = commit(m, &w, err);
  for (size_t i = 0; w.anns && i < n; i++) rt_metrics_annotation_clear(&w.anns[i]);
  free(w.anns);
  free(w.label_of);
  free(w.scored.v);
  free(w.pairs.v);
  return rc;
}

/* ------------------------------------------------------------ finish */

/* jansson's *_new setters take the value over even when they fail (and
 * when obj is NULL), so a chain of put/append never leaks; a failure
 * (out of memory, or a label that is not UTF-8) clears *ok. */
static void put(json_t *obj, const char *key, json_t *value, bool *ok) {
  if (json_object_set_new(obj, key, value) < 0) *ok = false;
}

static void append(json_t *array, json_t *value, bool *ok) {
  if (json_array_append_new(array, value) < 0) *ok = false;
}

/* json_real, or null for a value that does not exist (NaN). */
static json_t *number_or_null(double v) { return isnan(v) ? json_null() : json_real(v); }

static json_t *real_array(const double *v, int n, bool *ok) {
  json_t *a = json_array();
  for (int i = 0; i < n; i++) append(a, json_real(v[i]), ok);
  return a;
}

/* The class matrix holds the caller's labels and the labels met in class
 * annotations (not those met only in boxes, say), then "(unmatched)" when
 * some decision had no counterpart. */
static json_t *class_section(const rt_metrics *m, bool *ok) {
  size_t n_labels = m->labels.n;
  int32_t *row_of = malloc(sizeof(int32_t) * (n_labels + 1));   /* label index -> matrix row, or -1 */
  int32_t *label_at = malloc(sizeof(int32_t) * (n_labels + 1)); /* matrix row -> label index */
  if (!row_of || !label_at) {
    free(row_of);
    free(label_at);
    *ok = false;
    return NULL;
  }
  bool unmatched = false;
  for (size_t i = 0; i < n_labels; i++) row_of[i] = i < m->n_given ? 0 : -1;
  for (size_t i = 0; i < m->pairs.n; i++) {
    const class_pair *q = &m->pairs.v[i];
    unmatched |= q->gt < 0 || q->pred < 0;
    if (q->gt >= 0) row_of[q->gt] = 0;
    if (q->pred >= 0) row_of[q->pred] = 0;
  }
  int n_real = 0;
  for (size_t i = 0; i < n_labels; i++)
    if (row_of[i] == 0) {
      label_at[n_real] = (int32_t)i;
      row_of[i] = n_real++;
    }
  int n = n_real + unmatched;
  int64_t *counts = calloc((size_t)n * (size_t)n + 1, sizeof *counts);
  double *scores = malloc(sizeof(double) * 3 * (size_t)n + 1); /* precision, recall, f1 */
  int64_t *support = malloc(sizeof(int64_t) * (size_t)n + 1);
  double accuracy = 0;
  if (!counts || !scores || !support) *ok = false;
  for (size_t i = 0; *ok && i < m->pairs.n; i++) {
    /* -1 is the "(unmatched)" row or column: the last one. */
    int32_t g = m->pairs.v[i].gt < 0 ? n - 1 : row_of[m->pairs.v[i].gt];
    int32_t p = m->pairs.v[i].pred < 0 ? n - 1 : row_of[m->pairs.v[i].pred];
    if (dl_metrics_confusion_add(counts, n, &g, &p, 1, NULL) < 0) *ok = false;
  }
  if (*ok && n > 0 &&
      dl_metrics_confusion_scores(counts, n, scores, scores + n, scores + 2 * n, support, &accuracy, NULL) <
          0)
    *ok = false;

  json_t *sec = json_object(), *labels = json_array(), *matrix = json_array(), *per_label = json_array();
  for (int i = 0; *ok && i < n; i++) {
    json_t *row = json_array();
    for (int k = 0; k < n; k++) append(row, json_integer(counts[(size_t)i * n + k]), ok);
    append(matrix, row, ok);
    append(labels, json_string(i < n_real ? m->labels.v[label_at[i]] : UNMATCHED), ok);
    if (i == n_real) continue;
    json_t *e = json_object();
    put(e, "label", json_string(m->labels.v[label_at[i]]), ok);
    put(e, "precision", json_real(scores[i]), ok);
    put(e, "recall", json_real(scores[n + i]), ok);
    put(e, "f1", json_real(scores[2 * n + i]), ok);
    put(e, "support", json_integer(support[i]), ok);
    append(per_label, e, ok);
  }
  put(sec, "accuracy", json_real(accuracy), ok);
  put(sec, "n_ground_truth", json_integer(m->n_gt[RT_METRICS_CLASS]), ok);
  put(sec, "n_predictions", json_integer(m->n_pred[RT_METRICS_CLASS]), ok);
  put(sec, "labels", labels, ok);
  put(sec, "confusion_matrix", matrix, ok);
  put(sec, "per_label", per_label, ok);
  free(row_of);
  free(label_at);
  free(counts);
  free(scores);
  free(support);
  return sec;
}

/* Entries grouped by label, each group in the order the entries came. */
static int by_label_then_order(const void *x, const void *y, void *v) {
  const scored *s = v;
  size_t i = *(const size_t *)x, j = *(const size_t *)y;
  if (s[i].label != s[j].label) return s[i].label < s[j].label ? -1 : 1;
  return (i > j) - (i < j);
}

/* One label's entry from its n_gt ground truths and n_det detections; its
 * APs (NaN without ground truth) go to *ap50 and *ap50_95 too. */
static json_t *label_entry(const char *label, int64_t n_gt, const double *conf, const double *score,
                           int64_t n_det, double *ap50, double *ap50_95, bool *ok) {
  double precision[DL_METRICS_PR_POINTS], recall[DL_METRICS_PR_POINTS], by_iou[DL_METRICS_IOU_THRESHOLDS];
  *ap50 = *ap50_95 = NAN;
  if (n_gt > 0 &&
      (dl_metrics_average_precision(conf, score, n_det, n_gt, MATCH_THRESHOLD, ap50, precision, NULL) < 0 ||
       dl_metrics_map_coco(conf, score, n_det, n_gt, by_iou, ap50_95, NULL) < 0))
    *ok = false;
  json_t *e = json_object();
  put(e, "label", json_string(label), ok);
  put(e, "n_ground_truth", json_integer(n_gt), ok);
  put(e, "n_predictions", json_integer(n_det), ok);
  put(e, "ap50", number_or_null(*ap50), ok);
  put(e, "ap50_95", number_or_null(*ap50_95), ok);
  if (n_gt > 0 && *ok) {
    for (int k = 0; k < DL_METRICS_PR_POINTS; k++) recall[k] = k / 100.0;
    json_t *curve = json_object();
    put(curve, "recall", real_array(recall, DL_METRICS_PR_POINTS, ok), ok);
    put(curve, "precision", real_array(precision, DL_METRICS_PR_POINTS, ok), ok);
    put(e, "ap_by_iou", real_array(by_iou, DL_METRICS_IOU_THRESHOLDS, ok), ok);
    put(e, "pr_curve", curve, ok);
  } else {
    put(e, "ap_by_iou", json_null(), ok);
    put(e, "pr_curve", json_null(), ok);
  }
  return e;
}

static json_t *detection_section(const rt_metrics *m, int kind, bool *ok) {
  size_t n = 0;
  for (size_t i = 0; i < m->scored.n; i++) n += m->scored.v[i].kind == kind;
  size_t *idx = malloc(sizeof(size_t) * n + 1);
  double *conf = malloc(sizeof(double) * n + 1), *score = malloc(sizeof(double) * n + 1);
  if (!idx || !conf || !score) *ok = false;
  n = 0;
  for (size_t i = 0; *ok && i < m->scored.n; i++)
    if (m->scored.v[i].kind == kind) idx[n++] = i;
  if (n > 1) qsort_r(idx, n, sizeof *idx, by_label_then_order, m->scored.v);

  json_t *sec = json_object(), *per_label = json_array();
  double sum50 = 0, sum50_95 = 0;
  int n_with_gt = 0;
  for (size_t start = 0, end; *ok && start < n; start = end) {
    int32_t label = m->scored.v[idx[start]].label;
    int64_t n_gt = 0, n_det = 0;
    for (end = start; end < n && m->scored.v[idx[end]].label == label; end++) {
      const scored *s = &m->scored.v[idx[end]];
      if (s->is_prediction) {
        conf[n_det] = s->confidence;
        score[n_det++] = s->score;
      } else {
        n_gt++;
      }
    }
    double ap50, ap50_95;
    append(per_label, label_entry(m->labels.v[label], n_gt, conf, score, n_det, &ap50, &ap50_95, ok), ok);
    if (n_gt > 0) {
      sum50 += ap50;
      sum50_95 += ap50_95;
      n_with_gt++;
    }
  }
  json_t *thresholds = json_array();
  for (int t = 0; t < DL_METRICS_IOU_THRESHOLDS; t++) append(thresholds, json_real((50 + 5 * t) / 100.0), ok);
  put(sec, "map50", number_or_null(n_with_gt ? sum50 / n_with_gt : NAN), ok);
  put(sec, "map50_95", number_or_null(n_with_gt ? sum50_95 / n_with_gt : NAN), ok);
  put(sec, "n_ground_truth", json_integer(m->n_gt[kind]), ok);
  put(sec, "n_predictions", json_integer(m->n_pred[kind]), ok);
  put(sec, "iou_thresholds", thresholds, ok);
  put(sec, "per_label", per_label, ok);
  free(idx);
  free(conf);
  free(score);
  return sec;
}

json_t *rt_metrics_finish(const rt_metrics *m, rt_error *err) {
  if (!m) {
    rt_fail(err, "metrics: no accumulator");
    return NULL;
  }
  bool ok = true;
  json_t *out = json_object(), *labels = json_array();
  for (size_t i = 0; i < m->labels.n; i++) append(labels, json_string(m->labels.v[i]), &ok);
  put(out, "n_items", json_integer(m->n_items), &ok);
  put(out, "unscored_annotations", json_integer(m->n_unscored), &ok);
  put(out, "labels", labels, &ok);
  for (int kind = 0; ok && kind < RT_METRICS_N_KINDS; kind++)
    if (m->n_gt[kind] + m->n_pred[kind] > 0)
      put(out, rt_metrics_kind_name(kind),
          kind == RT_METRICS_CLASS ? class_section(m, &ok) : detection_section(m, kind, &ok), &ok);
  if (!ok) {
    json_decref(out);
    rt_fail(err, "metrics: cannot build the JSON (out of memory, or a label that is not UTF-8)");
    return NULL;
  }
  return out;
}
