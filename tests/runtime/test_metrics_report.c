/* The evaluation accumulator, from Dataloop annotation JSON to the metrics
 * JSON, the printed table and the plots. Expected values are worked out by
 * hand in the comments. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <cairo.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "metrics_report.h"
#include "plot.h"

/* ------------------------------------------------------- annotations */

static json_t *with_model(json_t *ann, double confidence) {
  json_object_set_new(
      ann, "metadata",
      json_pack("{s:{s:{s:s, s:f}}}", "user", "model", "name", "m1", "confidence", confidence));
  return ann;
}

static json_t *class_ann(const char *label) {
  return json_pack("{s:s, s:s}", "type", "class", "label", label);
}

static json_t *box_ann(const char *label, double l, double t, double r, double b) {
  return json_pack("{s:s, s:s, s:[{s:f, s:f, s:i}, {s:f, s:f, s:i}]}", "type", "box", "label", label,
                   "coordinates", "x", l, "y", t, "z", 0, "x", r, "y", b, "z", 0);
}

static json_t *rect_segment(const char *label, double w, double h) {
  return json_pack("{s:s, s:s, s:[[{s:f, s:f}, {s:f, s:f}, {s:f, s:f}, {s:f, s:f}]]}", "type", "segment",
                   "label", label, "coordinates", "x", 0.0, "y", 0.0, "x", w, "y", 0.0, "x", w, "y", h, "x",
                   0.0, "y", h);
}

static json_t *point_ann(const char *label, double x, double y) {
  return json_pack("{s:s, s:s, s:{s:f, s:f, s:i}}", "type", "point", "label", label, "coordinates", "x", x,
                   "y", y, "z", 0);
}

static json_t *binary_ann(const char *label, const char *png_base64) {
  char url[512];
  snprintf(url, sizeof url, "data:image/png;base64,%s", png_base64);
  return json_pack("{s:s, s:s, s:s}", "type", "binary", "label", label, "coordinates", url);
}

/* Adds one item; the arrays are consumed. */
static void add(rt_metrics *m, const char *item, json_t *gt, json_t *pred, int w, int h) {
  rt_error err;
  int rc = rt_metrics_add_item(m, item, gt, pred, w, h, &err);
  if (rc < 0) fail_msg("%s", err.msg);
  json_decref(gt);
  json_decref(pred);
}

static json_t *finish(rt_metrics *m) {
  rt_error err;
  json_t *j = rt_metrics_finish(m, &err);
  if (!j) fail_msg("%s", err.msg);
  return j;
}

static double num(const json_t *root, const char *path) {
  /* path: keys and array indexes separated by '/', e.g. "box/per_label/0/ap50" */
  char buf[256];
  snprintf(buf, sizeof buf, "%s", path);
  const json_t *v = root;
  for (char *tok = strtok(buf, "/"); tok; tok = strtok(NULL, "/"))
    v = json_is_array(v) ? json_array_get(v, strtoul(tok, NULL, 10)) : json_object_get(v, tok);
  if (!json_is_number(v)) fail_msg("%s is not a number", path);
  return json_number_value(v);
}

static const json_t *at(const json_t *root, const char *key, size_t i) {
  return json_array_get(json_object_get(root, key), i);
}

/* ------------------------------------------------------ classification */

/* 17 items, one class each, as the matrix (rows ground truth):
 *            cat  dog  bird
 *   cat       5    1    0
 *   dog       2    3    1
 *   bird      0    1    4
 * accuracy 12/17; precision cat 5/7, dog 3/5, bird 4/5; recall cat 5/6,
 * dog 3/6, bird 4/5; F1 = 2TP / (2TP + FP + FN): cat 10/13, dog 6/11,
 * bird 8/10. */
static void classification_three_labels(void **state) {
  (void)state;
  const char *labels[] = {"cat", "dog", "bird"};
  const int cells[3][3] = {{5, 1, 0}, {2, 3, 1}, {0, 1, 4}};
  rt_error err;
  rt_metrics *m = rt_metrics_new(labels, 3, &err);
  assert_non_null(m);
  for (int g = 0; g < 3; g++)
    for (int p = 0; p < 3; p++)
      for (int k = 0; k < cells[g][p]; k++)
        add(m, "x.png", json_pack("[o]", class_ann(labels[g])),
            json_pack("[o]", with_model(class_ann(labels[p]), 0.9)), 28, 28);
  json_t *j = finish(m);
  assert_float_equal(num(j, "class/accuracy"), 12.0 / 17, 1e-9);
  const double p[] = {5.0 / 7, 3.0 / 5, 4.0 / 5}, r[] = {5.0 / 6, 0.5, 0.8},
               f1[] = {10.0 / 13, 6.0 / 11, 0.8};
  const json_t *sec = json_object_get(j, "class");
  for (int i = 0; i < 3; i++) {
    const json_t *e = at(sec, "per_label", i);
    assert_string_equal(json_string_value(json_object_get(e, "label")), labels[i]);
    assert_float_equal(json_number_value(json_object_get(e, "precision")), p[i], 1e-9);
    assert_float_equal(json_number_value(json_object_get(e, "recall")), r[i], 1e-9);
    assert_float_equal(json_number_value(json_object_get(e, "f1")), f1[i], 1e-9);
    for (int k = 0; k < 3; k++)
      assert_int_equal(json_integer_value(json_array_get(at(sec, "confusion_matrix", i), k)), cells[i][k]);
  }
  assert_int_equal(json_array_size(json_object_get(sec, "labels")), 3); /* no "(unmatched)" was needed */
  assert_int_equal(num(j, "n_items"), 17);
  json_decref(j);
  rt_metrics_free(m);
}

/* Labels {cat, dog} given; the items bring "fox" and leave things unmatched:
 *   1: truth cat, predicted cat     -> (cat, cat)
 *   2: truth fox, predicted dog     -> (fox, dog): fox is appended
 *   3: truth dog, nothing predicted -> (dog, (unmatched))
 *   4: no truth, predicted cat      -> ((unmatched), cat)
 *   5: truth [cat, dog], predicted [bird 0.8, dog 0.9]: dog matches dog,
 *      then the leftovers pair up -> (dog, dog), (cat, bird). A box of
 *      "owl" there adds owl to the labels, but not to the class matrix.
 * Matrix order cat, dog, fox, bird, (unmatched); rows ground truth:
 *   cat  [1 0 0 1 0]   dog [0 1 0 0 1]   fox [0 1 0 0 0]
 *   bird [0 0 0 0 0]   (unmatched) [1 0 0 0 0]
 * accuracy = trace 2 / 6 pairs = 1/3. cat: precision 1/2 (its column holds
 * cat and (unmatched)), recall 1/2 (its row holds cat and bird). */
static void classification_unseen_and_unmatched(void **state) {
  (void)state;
  const char *labels[] = {"cat", "dog"};
  rt_metrics *m = rt_metrics_new(labels, 2, NULL);
  add(m, "1", json_pack("[o]", class_ann("cat")), json_pack("[o]", with_model(class_ann("cat"), 0.7)), 0, 0);
  add(m, "2", json_pack("[o]", class_ann("fox")), json_pack("[o]", with_model(class_ann("dog"), 0.7)), 0, 0);
  add(m, "3", json_pack("[o]", class_ann("dog")), NULL, 0, 0);
  add(m, "4", NULL, json_pack("[o]", with_model(class_ann("cat"), 0.7)), 0, 0);
  add(m, "5", json_pack("[o, o, o]", class_ann("cat"), class_ann("dog"), box_ann("owl", 0, 0, 1, 1)),
      json_pack("[o, o]", with_model(class_ann("bird"), 0.8), with_model(class_ann("dog"), 0.9)), 0, 0);
  json_t *j = finish(m);
  const json_t *sec = json_object_get(j, "class");
  const char *order[] = {"cat", "dog", "fox", "bird", "(unmatched)"};
  const int want[5][5] = {
      {1, 0, 0, 1, 0}, {0, 1, 0, 0, 1}, {0, 1, 0, 0, 0}, {0, 0, 0, 0, 0}, {1, 0, 0, 0, 0}};
  assert_int_equal(json_array_size(json_object_get(sec, "labels")), 5);
  for (int i = 0; i < 5; i++) {
    assert_string_equal(json_string_value(at(sec, "labels", i)), order[i]);
    for (int k = 0; k < 5; k++)
      assert_int_equal(json_integer_value(json_array_get(at(sec, "confusion_matrix", i), k)), want[i][k]);
  }
  assert_float_equal(num(j, "class/accuracy"), 1.0 / 3, 1e-9);
  assert_float_equal(num(j, "class/per_label/0/precision"), 0.5, 1e-9);
  assert_float_equal(num(j, "class/per_label/0/recall"), 0.5, 1e-9);
  assert_int_equal(json_array_size(json_object_get(sec, "per_label")), 4); /* real labels only */
  assert_string_equal(json_string_value(at(j, "labels", 2)), "fox");
  assert_string_equal(json_string_value(at(j, "labels", 3)), "owl");
  assert_int_equal(json_array_size(json_object_get(j, "labels")), 5);
  json_decref(j);
  rt_metrics_free(m);
}

/* ------------------------------------------------------------- boxes */

/* Ground truth boxes are all [0,0,10,10] (area 100), so a prediction
 * [0,0,10,h] inside it has IoU 10h / 100: h 8 -> 0.8, 6 -> 0.6, 9 -> 0.9.
 * "Far" boxes miss everything. Three items of "cat":
 *   A: truth g1; d1 conf 0.9 IoU 0.8, d2 conf 0.8 far
 *   B: truth g2; d3 conf 0.7 IoU 0.6, d4 conf 0.6 far
 *   C: truth g3; d5 conf 0.5 IoU 0.9
 * That is the set worked in tests/native_ops/test_metrics_ap.c:
 *   AP@0.5 = 76.4 / 101, AP@[.5:.95] = 431.6 / 1010, precision at recall
 *   level 0.34 = 2/3.
 * "bird" has a truth and no prediction: AP 0. "dog" has only a prediction:
 * no AP, and it stays out of the means. So mAP@0.5 = (76.4/101 + 0) / 2. */
static void boxes_ap_and_map(void **state) {
  (void)state;
  const char *labels[] = {"cat", "dog", "bird"};
  rt_metrics *m = rt_metrics_new(labels, 3, NULL);
  add(m, "A", json_pack("[o]", box_ann("cat", 0, 0, 10, 10)),
      json_pack("[o, o]", with_model(box_ann("cat", 0, 0, 10, 8), 0.9),
                with_model(box_ann("cat", 50, 50, 60, 60), 0.8)),
      100, 100);
  /* Coordinates may come in any corner order: [10,6]-[0,0] is [0,0,10,6]. */
  add(m, "B", json_pack("[o]", box_ann("cat", 0, 0, 10, 10)),
      json_pack("[o, o]", with_model(box_ann("cat", 10, 6, 0, 0), 0.7),
                with_model(box_ann("cat", 50, 50, 60, 60), 0.6)),
      100, 100);
  add(m, "C", json_pack("[o, o]", box_ann("cat", 0, 0, 10, 10), box_ann("bird", 20, 20, 30, 30)),
      json_pack("[o, o]", with_model(box_ann("cat", 0, 0, 10, 9), 0.5),
                with_model(box_ann("dog", 20, 20, 30, 30), 0.9)),
      100, 100);
  json_t *j = finish(m);
  assert_float_equal(num(j, "box/per_label/0/ap50"), 76.4 / 101, 1e-9);
  assert_float_equal(num(j, "box/per_label/0/ap50_95"), 431.6 / 1010, 1e-9);
  assert_float_equal(num(j, "box/per_label/0/pr_curve/precision/34"), 2.0 / 3, 1e-9);
  assert_float_equal(num(j, "box/per_label/0/pr_curve/recall/34"), 0.34, 1e-12);
  assert_int_equal(num(j, "box/per_label/0/n_ground_truth"), 3);
  assert_int_equal(num(j, "box/per_label/0/n_predictions"), 5);
  const json_t *dog = at(json_object_get(j, "box"), "per_label", 1);
  assert_string_equal(json_string_value(json_object_get(dog, "label")), "dog");
  assert_true(json_is_null(json_object_get(dog, "ap50")));
  assert_float_equal(num(j, "box/per_label/2/ap50"), 0, 0);
  assert_float_equal(num(j, "box/map50"), 76.4 / 202, 1e-9);
  assert_float_equal(num(j, "box/map50_95"), 431.6 / 2020, 1e-9);
  assert_null(json_object_get(j, "class"));
  json_decref(j);
  rt_metrics_free(m);
}

/* One truth [0,0,10,10] and two predictions: [0,0,10,10] (IoU 1) at
 * confidence 0.6 and [0,0,10,8] (IoU 0.8) at 0.9. dtlpy's greedy matching
 * takes the largest IoU first, so the 0.6 one is the match and the 0.9 one a
 * false positive. By rank: FP (precision 0, recall 0), TP (1/2, 1); made
 * non-increasing: 1/2, 1/2; every recall level reads 1/2: AP@0.5 = 0.5.
 * (COCO, matching by confidence, would give 1.) */
static void boxes_match_on_largest_iou(void **state) {
  (void)state;
  rt_metrics *m = rt_metrics_new(NULL, 0, NULL);
  add(m, "A", json_pack("[o]", box_ann("cat", 0, 0, 10, 10)),
      json_pack("[o, o]", with_model(box_ann("cat", 0, 0, 10, 10), 0.6),
                with_model(box_ann("cat", 0, 0, 10, 8), 0.9)),
      0, 0);
  json_t *j = finish(m);
  assert_float_equal(num(j, "box/per_label/0/ap50"), 0.5, 1e-9);
  json_decref(j);
  rt_metrics_free(m);
}

/* ------------------------------------------- segments, points, binary */

/* segment: truth 10 x 10, prediction 10 x 7.2 inside it: IoU 0.72 (to the
 * rasteriser's 1e-3). A true positive at 0.50 .. 0.70 (5 thresholds), not at
 * 0.75 .. 0.95: AP 1 five times, 0 five times: AP@[.5:.95] 0.5.
 * point: (100,100) against (103,104) is 5 apart. In a 300 x 400 image
 * (diagonal 500) the score is exp(-0.2) = 0.819: a match at 0.50 .. 0.80,
 * 7 thresholds -> 0.7. Without a size dtlpy's 500 x 500 is used (diagonal
 * 707.1): exp(-0.1414) = 0.868, 8 thresholds -> 0.8.
 * binary: 4 x 4 masks, truth columns 0-2, prediction columns 1-3 (PNGs made
 * with PIL): 8 shared of 16 set, IoU 0.5: a match at 0.50 only -> 0.1. */
static const char gt_cols_0_2[] =
    "iVBORw0KGgoAAAANSUhEUgAAAAQAAAAECAYAAACp8Z5+"
    "AAAAGUlEQVR4nGM8ISf3nwEKLB49YmRiQAOEBQDveAQIXTBFAwAAAABJRU5ErkJggg==";
static const char pred_cols_1_3[] =
    "iVBORw0KGgoAAAANSUhEUgAAAAQAAAAECAYAAACp8Z5+"
    "AAAAGUlEQVR4nGNkYGBgOCEn958BCpgY0ABhAQB8ugILdNKTbQAAAABJRU5ErkJggg==";
static const char pred_5x4[] =
    "iVBORw0KGgoAAAANSUhEUgAAAAUAAAAECAYAAABGM/"
    "VAAAAAHklEQVR4nGNkYGBgOCEn958BCiwePWJkYsACiBcEAB/XBAi45vXZAAAAAElFTkSuQmCC";

static void segment_point_binary(void **state) {
  (void)state;
  rt_metrics *m = rt_metrics_new(NULL, 0, NULL);
  add(m, "seg", json_pack("[o]", rect_segment("leaf", 10, 10)),
      json_pack("[o]", with_model(rect_segment("leaf", 10, 7.2), 0.8)), 0, 0);
  add(m, "pt", json_pack("[o]", point_ann("eye", 100, 100)),
      json_pack("[o]", with_model(point_ann("eye", 103, 104), 0.8)), 300, 400);
  add(m, "pt-unsized", json_pack("[o]", point_ann("nose", 100, 100)),
      json_pack("[o]", with_model(point_ann("nose", 103, 104), 0.8)), 0, 0);
  add(m, "mask", json_pack("[o]", binary_ann("sky", gt_cols_0_2)),
      json_pack("[o]", with_model(binary_ann("sky", pred_cols_1_3), 0.8)), 4, 4);
  json_t *j = finish(m);
  assert_float_equal(num(j, "segment/per_label/0/ap50"), 1, 1e-12);
  assert_float_equal(num(j, "segment/map50_95"), 0.5, 1e-9);
  assert_float_equal(num(j, "point/per_label/0/ap50_95"), 0.7, 1e-9);
  assert_float_equal(num(j, "point/per_label/1/ap50_95"), 0.8, 1e-9);
  assert_float_equal(num(j, "binary/map50"), 1, 1e-12);
  assert_float_equal(num(j, "binary/map50_95"), 0.1, 1e-9);
  json_decref(j);

  /* Masks of one item must share a size. */
  rt_error err;
  json_t *gt = json_pack("[o]", binary_ann("sky", gt_cols_0_2));
  json_t *pred = json_pack("[o]", with_model(binary_ann("sky", pred_5x4), 0.8));
  assert_int_equal(rt_metrics_add_item(m, "odd.png", gt, pred, 4, 4, &err), -1);
  assert_non_null(strstr(err.msg, "item odd.png: binary masks differ in size (4x4 and 5x4)"));
  json_decref(gt);
  json_decref(pred);
  rt_metrics_free(m);
}

/* --------------------------------------------------- errors, splitting */

static void bad_annotations_are_named_and_not_counted(void **state) {
  (void)state;
  rt_metrics *m = rt_metrics_new(NULL, 0, NULL);
  rt_error err;
  struct {
    json_t *pred;
    const char *want;
  } cases[] = {
      {json_pack("[o]", json_pack("{s:s, s:s, s:[{s:i, s:i}]}", "type", "box", "label", "cat", "coordinates",
                                  "x", 1, "y", 2)),
       "item a.png, prediction 0: a box's coordinates must be two points"},
      {json_pack("[o]", with_model(class_ann("cat"), 1.5)),
       "item a.png, prediction 0: metadata.user.model.confidence must be a number in [0, 1]"},
      {json_pack("[i]", 7), "item a.png, prediction 0: an annotation must be a JSON object"},
      {json_pack("[{s:s}]", "label", "cat"), "item a.png, prediction 0: field 'type' must be a string"},
      {json_pack("[{s:s}]", "type", "box"), "item a.png, prediction 0: field 'label' must be a string"},
      {json_pack("[o]", binary_ann("sky", "not*base64")),
       "item a.png, prediction 0: the mask is not valid base64"},
      {json_pack("[o]", binary_ann("sky", "AAAA")), "item a.png, prediction 0: cannot decode the mask PNG"},
      {json_pack("[{s:s, s:s, s:[[{s:i}]]}]", "type", "segment", "label", "x", "coordinates", "x", 1),
       "item a.png, prediction 0: segment ring 0 point 0 is not"},
      {json_pack("{}"), "item a.png: ground truth and predictions must be arrays"},
  };
  json_t *gt = json_pack("[o]", box_ann("cat", 0, 0, 1, 1));
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    assert_int_equal(rt_metrics_add_item(m, "a.png", gt, cases[i].pred, 0, 0, &err), -1);
    if (!strstr(err.msg, cases[i].want)) fail_msg("case %zu: got '%s'", i, err.msg);
    json_decref(cases[i].pred);
  }
  json_decref(gt);
  /* None of the failed items counted, not even their ground truth box. */
  json_t *j = finish(m);
  assert_int_equal(num(j, "n_items"), 0);
  assert_null(json_object_get(j, "box"));
  json_decref(j);
  assert_int_equal(rt_metrics_add_item(NULL, "a.png", NULL, NULL, 0, 0, &err), -1);
  assert_null(rt_metrics_new((const char *[]){"a", NULL}, 2, &err));
  assert_non_null(strstr(err.msg, "label 1 is NULL"));
  rt_metrics_free(m);
}

static void split_ground_truth_and_this_models_predictions(void **state) {
  (void)state;
  json_t *other = class_ann("dog");
  json_object_set_new(other, "metadata", json_pack("{s:{s:{s:s}}}", "user", "model", "name", "other-model"));
  json_t *all = json_pack("[o, o, o, o]", class_ann("cat"), with_model(class_ann("cat"), 0.9), other,
                          json_pack("{s:s, s:s, s:{s:{s:b}}}", "type", "class", "label", "bird", "metadata",
                                    "system", "automated", 0));
  json_t *gt, *pred;
  rt_error err;
  assert_int_equal(rt_metrics_split_annotations(all, "m1", &gt, &pred, &err), 0);
  /* The two without metadata.user.model are ground truth; m1's one is the
   * prediction; other-model's is neither. */
  assert_int_equal(json_array_size(gt), 2);
  assert_int_equal(json_array_size(pred), 1);
  assert_string_equal(json_string_value(json_object_get(json_array_get(gt, 1), "label")), "bird");
  json_decref(gt);
  json_decref(pred);
  json_t *not_array = json_object();
  assert_int_equal(rt_metrics_split_annotations(not_array, "m1", &gt, &pred, &err), -1);
  assert_null(gt);
  json_decref(not_array);
  json_decref(all);
}

/* -------------------------------------------------- printing, plots */

static rt_metrics *mixed_metrics(void) {
  const char *labels[] = {"T-shirt/top", "Trouser", "Ankle boot"};
  rt_metrics *m = rt_metrics_new(labels, 3, NULL);
  add(m, "1", json_pack("[o, o]", class_ann("Trouser"), box_ann("Trouser", 0, 0, 10, 10)),
      json_pack("[o, o]", with_model(class_ann("Trouser"), 0.9),
                with_model(box_ann("Trouser", 0, 0, 10, 8), 0.9)),
      0, 0);
  add(m, "2", json_pack("[o, {s:s, s:s}]", class_ann("Ankle boot"), "type", "polyline", "label", "edge"),
      json_pack("[o]", with_model(class_ann("T-shirt/top"), 0.9)), 0, 0);
  return m;
}

static void print_reads_as_tables(void **state) {
  (void)state;
  rt_metrics *m = mixed_metrics();
  json_t *j = finish(m);
  char *text = NULL;
  size_t len = 0;
  FILE *out = open_memstream(&text, &len);
  rt_metrics_print(j, out);
  fclose(out);
  /* 2 items; class accuracy 1/2; the box has AP 1 at 0.5 (IoU 0.8). */
  assert_non_null(strstr(text, "Evaluation of 2 items"));
  assert_non_null(strstr(text, "class: accuracy 0.500 (2 ground truth, 2 predictions)"));
  assert_non_null(strstr(text, "box: mAP@0.5 1.000"));
  assert_non_null(strstr(text, "T-shirt/top"));
  assert_non_null(strstr(text, "confusion matrix"));
  assert_non_null(strstr(text, "1 annotations of other types"));
  free(text);
  json_decref(j);
  rt_metrics_free(m);
}

static void plots_are_written(void **state) {
  (void)state;
  char dir[] = "/tmp/dlrun-metrics-test-XXXXXX", path[256];
  assert_non_null(mkdtemp(dir));
  rt_metrics *m = mixed_metrics();
  json_t *j = finish(m);
  rt_error err;
  if (rt_metrics_write_plots(j, dir, &err) < 0) fail_msg("%s", err.msg);
  /* boxes are the one type with curves: pr_curve.png */
  const char *files[] = {"confusion_matrix.png", "pr_curve.png"};
  for (int i = 0; i < 2; i++) {
    snprintf(path, sizeof path, "%s/%s", dir, files[i]);
    cairo_surface_t *s = cairo_image_surface_create_from_png(path);
    assert_int_equal(cairo_surface_status(s), CAIRO_STATUS_SUCCESS);
    assert_true(cairo_image_surface_get_width(s) >= 400);
    cairo_surface_destroy(s);
    remove(path);
  }
  assert_int_equal(rt_metrics_write_plots(j, "/nonexistent-dir", &err), -1);
  assert_non_null(strstr(err.msg, "/nonexistent-dir/confusion_matrix.png"));
  assert_int_equal(rmdir(dir), 0); /* nothing else was left there */
  json_decref(j);
  rt_metrics_free(m);
}

/* Curves of several types go to one file per type. */
static void plots_of_several_types_are_named_by_type(void **state) {
  (void)state;
  char dir[] = "/tmp/dlrun-metrics-test-XXXXXX", path[256];
  assert_non_null(mkdtemp(dir));
  rt_metrics *m = rt_metrics_new(NULL, 0, NULL);
  add(m, "seg", json_pack("[o]", rect_segment("leaf", 10, 10)),
      json_pack("[o]", with_model(rect_segment("leaf", 10, 7.2), 0.8)), 0, 0);
  add(m, "pt", json_pack("[o]", point_ann("eye", 100, 100)),
      json_pack("[o]", with_model(point_ann("eye", 103, 104), 0.8)), 300, 400);
  json_t *j = finish(m);
  rt_error err;
  if (rt_metrics_write_plots(j, dir, &err) < 0) fail_msg("%s", err.msg);
  const char *files[] = {"pr_curve_segment.png", "pr_curve_point.png"};
  for (int i = 0; i < 2; i++) {
    snprintf(path, sizeof path, "%s/%s", dir, files[i]);
    cairo_surface_t *s = cairo_image_surface_create_from_png(path);
    assert_int_equal(cairo_surface_status(s), CAIRO_STATUS_SUCCESS);
    cairo_surface_destroy(s);
    remove(path);
  }
  assert_int_equal(rmdir(dir), 0); /* no pr_curve.png, no confusion matrix */
  json_decref(j);
  rt_metrics_free(m);
}

static int release_font_caches(void **state) {
  (void)state;
  rt_plot_release_caches();
  return 0;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(classification_three_labels),
      cmocka_unit_test(classification_unseen_and_unmatched),
      cmocka_unit_test(boxes_ap_and_map),
      cmocka_unit_test(boxes_match_on_largest_iou),
      cmocka_unit_test(segment_point_binary),
      cmocka_unit_test(bad_annotations_are_named_and_not_counted),
      cmocka_unit_test(split_ground_truth_and_this_models_predictions),
      cmocka_unit_test(print_reads_as_tables),
      cmocka_unit_test(plots_are_written),
      cmocka_unit_test(plots_of_several_types_are_named_by_type),
  };
  return cmocka_run_group_tests(tests, NULL, release_font_caches);
}
