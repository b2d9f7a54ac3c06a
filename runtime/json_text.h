/* json_text.h — how dlrun writes reals in the JSON files it reads back
 * (model.json, item documents). */
#ifndef RT_JSON_TEXT_H
#define RT_JSON_TEXT_H

#include <jansson.h>
#include <stddef.h>

/* The JSON_REAL_PRECISION flag for dumping v: 10 significant digits, which
 * keep metrics short (0.9123456789), or 17 when v holds a real that 10
 * digits would round past the largest double (1.797693135e308), which no
 * reader could load again. */
size_t rt_json_real_precision(const json_t *v);

#endif
