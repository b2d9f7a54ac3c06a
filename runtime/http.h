/* http.h — GET, PUT and DELETE through libcurl, with bounded retries.
 *
 *   rt_http_options o;
 *   rt_http_options_default(&o);
 *   long status;
 *   if (rt_http_get_file(url, "/models/m/v3.tar.gz", sha, &o, &status, &err) < 0) ...
 *
 * Connection errors, stalls, cut-off transfers, 429 and 5xx answers are
 * retried with exponential backoff (bounded count and total wait); other
 * 4xx answers fail at once. Errors name the method, the URL and the last
 * HTTP status or transport error. Downloads go to a temp file beside the
 * destination and are renamed into place only when complete (and, when a
 * sha256 is given, verified), so a download is never left half-written. */
#ifndef RT_HTTP_H
#define RT_HTTP_H

#include <stddef.h>

#include "rt_error.h"

typedef struct rt_http_options {
  int max_attempts;          /* tries per request, at least 1 (default 5) */
  long first_backoff_ms;     /* wait before the second try; doubles after (default 250) */
  long max_total_backoff_ms; /* no retry whose wait would exceed this in total (default 30000) */
  long connect_timeout_ms;   /* default 10000 */
  long stall_timeout_s;      /* abort a transfer that moves no byte for this long (default 30) */
} rt_http_options;

/* Fills o with the defaults above. */
void rt_http_options_default(rt_http_options *o);

/* GETs url into the file at path, atomically. If sha256 is not NULL the
 * content must have that digest. *status (if not NULL) gets the last HTTP
 * status, 0 when no answer came. */
int rt_http_get_file(const char *url, const char *path, const char *sha256, const rt_http_options *o,
                     long *status, rt_error *err);
/* GETs url into memory. *data is NUL-terminated; caller frees it. */
int rt_http_get_buffer(const char *url, char **data, size_t *len, const rt_http_options *o, long *status,
                       rt_error *err);
/* PUTs the file at path to url. */
int rt_http_put_file(const char *url, const char *path, const rt_http_options *o, rt_error *err);
/* PUTs len bytes of data to url. */
int rt_http_put_buffer(const char *url, const void *data, size_t len, const rt_http_options *o,
                       rt_error *err);
/* DELETEs url. A 404 counts as success (it is gone either way). */
int rt_http_delete(const char *url, const rt_http_options *o, rt_error *err);
/* Escapes one path segment (a model name) for use in a URL; caller frees
 * the result. Returns NULL (err says why) when libcurl cannot be loaded or
 * memory runs out. */
char *rt_http_escape(const char *segment, rt_error *err);

#endif
