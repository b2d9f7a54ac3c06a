/* strlist.h — a growable list of owned strings (paths, names), sortable.
 *
 *   rt_strlist l = {0};
 *   rt_strlist_push(&l, "b", &err);
 *   rt_strlist_sort(&l);
 *   for (size_t i = 0; i < l.n; i++) puts(l.v[i]);
 *   rt_strlist_free(&l);
 */
#ifndef RT_STRLIST_H
#define RT_STRLIST_H

#include <stddef.h>

#include "rt_error.h"

typedef struct rt_strlist {
  char **v;   /* read-only for callers; each string is owned by the list */
  size_t n;   /* number of strings */
  size_t cap; /* private */
} rt_strlist;

/* Appends a copy of s. */
int rt_strlist_push(rt_strlist *l, const char *s, rt_error *err);
/* Sorts by strcmp, so the order is the same on every machine and locale. */
void rt_strlist_sort(rt_strlist *l);
/* Frees the strings and the array and leaves an empty list. */
void rt_strlist_free(rt_strlist *l);

#endif
