/* rt_error.h — how runtime functions report failure.
 * A fallible runtime function returns 0 on success and -1 on failure, and
 * writes one sentence into the caller's rt_error naming the file, URL, item
 * or field involved ("model.json: field 'versions' must be an array"). */
#ifndef RT_ERROR_H
#define RT_ERROR_H

typedef struct rt_error {
  char msg[4096]; /* room for a Lua traceback */
} rt_error;

/* Formats into err (if not NULL) and returns -1, so callers can write
 * `return rt_fail(err, "cannot open %s: %s", path, strerror(errno));`. */
int rt_fail(rt_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
