/* rt_metrics_print: the metrics JSON as tables a person reads in a terminal.
 * It reads only the JSON, so it prints saved metrics as well as fresh ones. */
#include "metrics_report.h"

#include <stdbool.h>
#include <string.h>

#include "metrics_annotation.h"

enum { MAX_LABEL_COLUMN = 24, MAX_MATRIX_LABELS = 20 };

/* Characters (not bytes) of UTF-8 text. */
static size_t text_length(const char *s) {
  size_t n = 0;
  for (; *s; s++) n += ((unsigned char)*s & 0xC0) != 0x80;
  return n;
}

/* Prints label left-aligned in width characters, cut with an ellipsis. */
static void print_label(FILE *out, const char *label, size_t width) {
  size_t len = text_length(label);
  if (len <= width) {
    fprintf(out, "%s%*s", label, (int)(width - len), "");
    return;
  }
  /* Keep width - 1 characters, then the ellipsis. */
  const char *s = label;
  for (size_t kept = 0; *s; s++) {
    if (((unsigned char)*s & 0xC0) != 0x80) { /* a character starts here */
      if (kept == width - 1) break;
      kept++;
    }
  }
  fprintf(out, "%.*s\xe2\x80\xa6", (int)(s - label), label);
}

/* The string in v, or "" when v is not a string. */
static const char *str(const json_t *v) {
  const char *s = json_string_value(v);
  return s ? s : "";
}

static size_t label_column(const json_t *per_label) {
  size_t width = 5; /* "label" */
  size_t i;
  const json_t *e;
  json_array_foreach(per_label, i, e) {
    size_t len = text_length(str(json_object_get(e, "label")));
    if (len > width) width = len;
  }
  return width < MAX_LABEL_COLUMN ? width : MAX_LABEL_COLUMN;
}

/* A number to 3 decimals, or "-" where the JSON holds null. */
static void print_number(FILE *out, const json_t *v, int width) {
  if (json_is_number(v)) {
    fprintf(out, "%*.3f", width, json_number_value(v));
  } else {
    fprintf(out, "%*s", width, "-");
  }
}

static void print_confusion(FILE *out, const json_t *sec) {
  const json_t *labels = json_object_get(sec, "labels"), *matrix = json_object_get(sec, "confusion_matrix");
  size_t n = json_array_size(labels), i, k;
  if (n > MAX_MATRIX_LABELS) {
    fprintf(out, "  confusion matrix: %zu labels, too many to print; see the JSON or the PNG\n", n);
    return;
  }
  json_int_t largest = (json_int_t)n;
  const json_t *row, *cell;
  json_array_foreach(matrix, i, row) {
    json_array_foreach(row, k, cell) {
      if (json_integer_value(cell) > largest) largest = json_integer_value(cell);
    }
  }
  int cw = snprintf(NULL, 0, "%lld", (long long)largest) + 2;
  size_t lw = 0;
  json_array_foreach(labels, i, cell) {
    size_t len = text_length(str(cell));
    lw = len > lw ? len : lw;
  }
  lw = lw < MAX_LABEL_COLUMN ? lw : MAX_LABEL_COLUMN;
  fprintf(out, "  confusion matrix (rows: ground truth, columns: predicted, numbered as the rows)\n");
  fprintf(out, "  %*s", (int)lw + 4, "");
  /* numbered from 1, like the label ids adapters see */
  for (k = 0; k < n; k++) fprintf(out, "%*zu", cw, k + 1);
  fputc('\n', out);
  json_array_foreach(matrix, i, row) {
    fprintf(out, "  %2zu ", i + 1);
    print_label(out, str(json_array_get(labels, i)), lw);
    json_array_foreach(row, k, cell) fprintf(out, "%*lld", cw, (long long)json_integer_value(cell));
    fputc('\n', out);
  }
}

/* One numeric column of a per-label table: its title and the per_label key
 * it shows, right-aligned in width, as a metric to 3 decimals or a count. */
typedef struct column {
  const char *title, *key;
  int width;
  bool count;
} column;

/* The per-label table: a title line, then one row per label. */
static void print_per_label(FILE *out, const json_t *per_label, const column *cols, size_t ncols) {
  size_t lw = label_column(per_label), i;
  const json_t *e;
  fprintf(out, "  ");
  print_label(out, "label", lw);
  for (size_t c = 0; c < ncols; c++) fprintf(out, "%*s", cols[c].width, cols[c].title);
  fputc('\n', out);
  json_array_foreach(per_label, i, e) {
    fprintf(out, "  ");
    print_label(out, str(json_object_get(e, "label")), lw);
    for (size_t c = 0; c < ncols; c++) {
      const json_t *v = json_object_get(e, cols[c].key);
      if (cols[c].count)
        fprintf(out, "%*lld", cols[c].width, (long long)json_integer_value(v));
      else
        print_number(out, v, cols[c].width);
    }
    fputc('\n', out);
  }
}

static void print_class(FILE *out, const json_t *sec) {
  static const column cols[] = {{"precision", "precision", 11, false},
                                {"recall", "recall", 8, false},
                                {"f1", "f1", 7, false},
                                {"support", "support", 9, true}};
  fprintf(out, "class: accuracy %.3f (%lld ground truth, %lld predictions)\n",
          json_number_value(json_object_get(sec, "accuracy")),
          (long long)json_integer_value(json_object_get(sec, "n_ground_truth")),
          (long long)json_integer_value(json_object_get(sec, "n_predictions")));
  print_per_label(out, json_object_get(sec, "per_label"), cols, sizeof cols / sizeof *cols);
  print_confusion(out, sec);
}

static void print_detection(FILE *out, const char *kind, const json_t *sec) {
  static const column cols[] = {{"AP@0.5", "ap50", 8, false},
                                {"AP@[.5:.95]", "ap50_95", 13, false},
                                {"ground truth", "n_ground_truth", 14, true},
                                {"predictions", "n_predictions", 13, true}};
  fprintf(out, "%s: mAP@0.5 ", kind);
  print_number(out, json_object_get(sec, "map50"), 0);
  fprintf(out, ", mAP@[.5:.95] ");
  print_number(out, json_object_get(sec, "map50_95"), 0);
  fprintf(out, " (%lld ground truth, %lld predictions)\n",
          (long long)json_integer_value(json_object_get(sec, "n_ground_truth")),
          (long long)json_integer_value(json_object_get(sec, "n_predictions")));
  print_per_label(out, json_object_get(sec, "per_label"), cols, sizeof cols / sizeof *cols);
}

void rt_metrics_print(const json_t *metrics, FILE *out) {
  if (!json_is_object(metrics) || !out) return;
  fprintf(out, "Evaluation of %lld items\n",
          (long long)json_integer_value(json_object_get(metrics, "n_items")));
  bool any = false;
  for (int kind = 0; kind < RT_METRICS_N_KINDS; kind++) {
    const json_t *sec = json_object_get(metrics, rt_metrics_kind_name(kind));
    if (!json_is_object(sec)) continue;
    any = true;
    if (kind == RT_METRICS_CLASS) {
      print_class(out, sec);
    } else {
      print_detection(out, rt_metrics_kind_name(kind), sec);
    }
  }
  if (!any) fprintf(out, "nothing to score: no class, box, segment, point or binary annotations\n");
  json_int_t unscored = json_integer_value(json_object_get(metrics, "unscored_annotations"));
  if (unscored > 0)
    fprintf(out, "%lld annotations of other types (polyline, ...) were not scored\n", (long long)unscored);
}
