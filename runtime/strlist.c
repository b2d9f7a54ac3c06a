/* A growable list of owned strings. */
#include "strlist.h"

#include <stdlib.h>
#include <string.h>

int rt_strlist_push(rt_strlist *l, const char *s, rt_error *err) {
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 16;
    char **v = realloc(l->v, cap * sizeof *v);
    if (!v) return rt_fail(err, "out of memory growing a list to %zu entries", cap);
    l->v = v;
    l->cap = cap;
  }
  char *copy = strdup(s);
  if (!copy) return rt_fail(err, "out of memory copying '%s'", s);
  l->v[l->n++] = copy;
  return 0;
}

static int compare_strings(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

void rt_strlist_sort(rt_strlist *l) {
  if (l->n > 1) qsort(l->v, l->n, sizeof *l->v, compare_strings);
}

void rt_strlist_free(rt_strlist *l) {
  for (size_t i = 0; i < l->n; i++) free(l->v[i]);
  free(l->v);
  l->v = NULL;
  l->n = l->cap = 0;
}
