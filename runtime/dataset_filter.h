/* dataset_filter.h — which dataset items a command works on.
 *
 * A filter comes from --filter (repeatable; the list is ANDed):
 *   dir=/train          items under the folder /train (and its sub-folders)
 *   name=*.jpg          items whose file name matches the glob (fnmatch)
 *   label=cat           items whose ground truth has the label cat
 *   annotated=true      items with ground truth (false: without)
 * or is a dtlpy JSON filter, as the platform writes in model.json subsets:
 *   {"filter": {"$and": [{"hidden": false}, {"type": "file"}, {"dir": "/train"}]}}
 * with fields dir, name, filename (a glob on the remote path), label,
 * annotated, hidden and type; values plain or {"$eq"|"$ne"|"$in": ...};
 * and "$and"/"$or" lists.
 *
 * Ground truth is every annotation without metadata.user.model.
 *
 *   rt_filter *f = rt_filter_parse("label=cat", &err);
 *   if (rt_filter_match(f, "/train/1.png", item_json)) ...
 *   rt_filter_free(f);
 */
#ifndef RT_DATASET_FILTER_H
#define RT_DATASET_FILTER_H

#include <jansson.h>

#include "rt_error.h"

typedef struct rt_filter rt_filter; /* opaque */

/* Parses one --filter argument (KEY=VALUE or JSON starting with '{').
 * Caller frees with rt_filter_free. NULL with err set when it does not
 * parse; the error quotes the filter. */
rt_filter *rt_filter_parse(const char *text, rt_error *err);
/* Parses a dtlpy filter given as a JSON object, or a string holding one
 * (model.json subsets may hold either); source names it in errors. */
rt_filter *rt_filter_from_json(const json_t *value, const char *source, rt_error *err);
void rt_filter_free(rt_filter *f);

/* True if matching needs the item's annotation JSON (label, annotated). */
int rt_filter_needs_json(const rt_filter *f);
/* True if the item at remote_path ("/train/1.png"), with its annotation
 * JSON (NULL when it has none), passes f. */
int rt_filter_match(const rt_filter *f, const char *remote_path, const json_t *item_json);

#endif
