/* libcurl, opened on first use. */
#include "lib_curl.h"

#include <pthread.h>
#include <stdio.h>

rt_libcurl_api rt_libcurl;

static rt_lazy_lib lib = {.soname = RT_SONAME_CURL};
static CURLcode global_init = CURLE_FAILED_INIT;

/* libcurl's global setup is not thread-safe: it runs here, exactly once. */
static void load(void) {
#define RESOLVE(prefix, name) rt_lazy_lib_resolve(&lib, #prefix, #name, (void **)&rt_libcurl.name);
  if (!rt_lazy_lib_open(&lib)) return;
  RT_LIBCURL_FUNCTIONS(RESOLVE)
#undef RESOLVE
  if (!lib.failed) global_init = rt_libcurl.global_init(CURL_GLOBAL_DEFAULT);
}

int rt_libcurl_load(rt_error *err) {
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  pthread_once(&once, load);
  if (rt_lazy_lib_status(&lib, err) < 0) return -1;
  if (global_init != CURLE_OK)
    return rt_fail(err, "cannot initialise libcurl: %s", rt_libcurl.easy_strerror(global_init));
  return 0;
}
