/* Dump precision of reals for the JSON files dlrun reads back. */
#include "json_text.h"

#include <math.h>

/* Below this, %.10g never rounds up to 1.797693135e308 and beyond. */
#define LARGEST_SHORT_REAL 1.797693134e308

static int has_huge_real(const json_t *v) {
  if (json_is_real(v)) return fabs(json_real_value(v)) > LARGEST_SHORT_REAL;
  size_t i;
  const char *key;
  json_t *x;
  if (json_is_array(v)) {
    json_array_foreach(v, i, x) if (has_huge_real(x)) return 1;
  } else if (json_is_object(v)) {
    json_object_foreach((json_t *)v, key, x) if (has_huge_real(x)) return 1;
  }
  return 0;
}

size_t rt_json_real_precision(const json_t *v) { return JSON_REAL_PRECISION(has_huge_real(v) ? 17 : 10); }
