/* lib_curl.h — the libcurl functions dlrun calls, loaded on first use
 * (lazy_lib.h says why). Call rt_libcurl_load before using rt_libcurl. */
#ifndef RT_LIB_CURL_H
#define RT_LIB_CURL_H

#include <curl/curl.h>

#include "lazy_lib.h"

#define RT_LIBCURL_FUNCTIONS(X) \
  X(curl_, global_init)         \
  X(curl_, easy_init)           \
  X(curl_, easy_reset)          \
  X(curl_, easy_setopt)         \
  X(curl_, easy_perform)        \
  X(curl_, easy_getinfo)        \
  X(curl_, easy_strerror)       \
  X(curl_, easy_cleanup)        \
  X(curl_, easy_escape)         \
  X(curl_, free)

typedef struct rt_libcurl_api {
  RT_LIBCURL_FUNCTIONS(RT_LAZY_FIELD)
} rt_libcurl_api;

/* Filled by rt_libcurl_load; read-only afterwards. */
extern rt_libcurl_api rt_libcurl;

/* Loads libcurl and runs its global setup, once per process (thread-safe).
 * 0 when rt_libcurl is ready; else -1 and err says why. */
int rt_libcurl_load(rt_error *err);

#endif
