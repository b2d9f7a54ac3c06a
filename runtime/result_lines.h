/* result_lines.h — results as one short line per item on stdout, for
 * people (--watch, and loose items predicted on a terminal); scripts get
 * JSON Lines (--out -) or documents instead. */
#ifndef RT_RESULT_LINES_H
#define RT_RESULT_LINES_H

#include <stdint.h>

#include "items.h"

/* "/cat.png: class cat 0.93; box dog 0.80 [1,2,30,40]". json is the item's
 * annotations as predict_items converted them (a JSON array). */
void rt_show_annotations(const rt_item *it, const char *json);

/* "/a.png: 64-d [0.120, -0.034, ...] norm 1.000" */
void rt_show_vector(const rt_item *it, const float *v, int64_t dim);

#endif
