/* libarchive, opened on first use. */
#include "lib_archive.h"

#include <pthread.h>

rt_libarchive_api rt_libarchive;

static rt_lazy_lib lib = {.soname = RT_SONAME_ARCHIVE};

static void load(void) {
#define RESOLVE(prefix, name) rt_lazy_lib_resolve(&lib, #prefix, #name, (void **)&rt_libarchive.name);
  if (rt_lazy_lib_open(&lib)) RT_LIBARCHIVE_FUNCTIONS(RESOLVE)
#undef RESOLVE
}

int rt_libarchive_load(rt_error *err) {
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  pthread_once(&once, load);
  return rt_lazy_lib_status(&lib, err);
}
