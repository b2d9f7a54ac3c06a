/* Results as one short line per item, for people: --watch runs, and loose
 * items predicted on a terminal:
 *   /cat.png: class cat 0.93
 *   /street.jpg: box car 0.88 [12,40,230,190]; box person 0.61 [300,20,350,200]
 *   /a.png: 64-d [0.120, -0.034, 0.561, 0.002, ...] norm 1.000 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "result_lines.h"

enum { SHOWN_ANNOTATIONS = 4, SHOWN_VALUES = 4 };

static void show_annotation(FILE *out, const json_t *a) {
  const char *type = json_string_value(json_object_get(a, "type"));
  const char *label = json_string_value(json_object_get(a, "label"));
  const json_t *model = json_object_get(json_object_get(json_object_get(a, "metadata"), "user"), "model");
  double conf = json_number_value(json_object_get(model, "confidence"));
  fprintf(out, "%s %s %.2f", type ? type : "?", label ? label : "?", conf);
  const json_t *c = json_object_get(a, "coordinates");
  if (type && strcmp(type, "box") == 0 && json_array_size(c) == 2) {
    const json_t *p = json_array_get(c, 0), *q = json_array_get(c, 1);
    fprintf(out, " [%.0f,%.0f,%.0f,%.0f]", json_number_value(json_object_get(p, "x")),
            json_number_value(json_object_get(p, "y")), json_number_value(json_object_get(q, "x")),
            json_number_value(json_object_get(q, "y")));
  } else if (type && strcmp(type, "point") == 0) {
    fprintf(out, " (%.0f,%.0f)", json_number_value(json_object_get(c, "x")), json_number_value(json_object_get(c, "y")));
  } else if (json_is_array(c) && json_is_array(json_array_get(c, 0))) {
    fprintf(out, " (%zu points)", json_array_size(json_array_get(c, 0)));
  }
}

void rt_show_annotations(const rt_item *it, const char *json) {
  json_t *list = json_loads(json, 0, NULL);
  size_t n = json_array_size(list);
  fprintf(stdout, "%s: ", it->filename);
  if (n == 0) fputs("no annotations", stdout);
  for (size_t i = 0; i < n && i < SHOWN_ANNOTATIONS; i++) {
    if (i) fputs("; ", stdout);
    show_annotation(stdout, json_array_get(list, i));
  }
  if (n > SHOWN_ANNOTATIONS) fprintf(stdout, "; (+%zu more)", n - SHOWN_ANNOTATIONS);
  fputc('\n', stdout);
  fflush(stdout);
  json_decref(list);
}

void rt_show_vector(const rt_item *it, const float *v, int64_t dim) {
  double norm = 0;
  for (int64_t j = 0; j < dim; j++) norm += (double)v[j] * v[j];
  fprintf(stdout, "%s: %lld-d [", it->filename, (long long)dim);
  for (int64_t j = 0; j < dim && j < SHOWN_VALUES; j++) fprintf(stdout, "%s%.3f", j ? ", " : "", v[j]);
  fprintf(stdout, "%s] norm %.3f\n", dim > SHOWN_VALUES ? ", ..." : "", sqrt(norm));
  fflush(stdout);
}
