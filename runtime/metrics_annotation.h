/* metrics_annotation.h — one Dataloop annotation (spec §3) read into the
 * geometry the metric kernels take. Internal to the metrics_*.c files. */
#ifndef RT_METRICS_ANNOTATION_H
#define RT_METRICS_ANNOTATION_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "rt_error.h"

/* The annotation types evaluation scores, in the order reports list them. */
typedef enum rt_metrics_kind {
  RT_METRICS_CLASS = 0,
  RT_METRICS_BOX,
  RT_METRICS_SEGMENT,
  RT_METRICS_POINT,
  RT_METRICS_BINARY,
  RT_METRICS_N_KINDS,
  RT_METRICS_UNSCORED = -1 /* polyline and any other type: counted, not scored */
} rt_metrics_kind;

/* Dataloop's name of a kind: "class", "box", "segment", "point", "binary". */
const char *rt_metrics_kind_name(int kind);

typedef struct rt_metrics_annotation {
  int kind;          /* an rt_metrics_kind */
  const char *label; /* borrowed from the JSON it was read from */
  double confidence; /* metadata.user.model.confidence; 1 when absent, as dtlpy */
  double box[4];     /* box: left, top, right, bottom (ordered) */
  double point[2];   /* point: x, y */
  double *xy;        /* segment: owned; 2 * sum(ring_len) values */
  int32_t *ring_len; /* segment: owned; n_rings entries */
  int n_rings;
  uint8_t *mask; /* binary: owned; mask_h * mask_w bytes, 1 where set */
  int64_t mask_h, mask_w;
} rt_metrics_annotation;

/* Reads ann into out. `where` names it in messages ("item a.png, prediction
 * 3"). On failure out holds nothing that needs freeing. */
int rt_metrics_annotation_read(const json_t *ann, const char *where, rt_metrics_annotation *out,
                               rt_error *err);

/* Frees what out owns; the struct may then be reused. */
void rt_metrics_annotation_clear(rt_metrics_annotation *a);

#endif
