/* cairo and fontconfig, opened on first use. */
#include "lib_cairo.h"

#include <pthread.h>
#include <stdatomic.h>

rt_libcairo_api rt_libcairo;
rt_libfontconfig_api rt_libfontconfig;

static rt_lazy_lib cairo = {.soname = RT_SONAME_CAIRO};
static rt_lazy_lib fontconfig = {.soname = RT_SONAME_FONTCONFIG};
static pthread_once_t once = PTHREAD_ONCE_INIT;
static atomic_bool ready; /* both tables filled */

static void load(void) {
#define RESOLVE(prefix, name) rt_lazy_lib_resolve(&cairo, #prefix, #name, (void **)&rt_libcairo.name);
  if (rt_lazy_lib_open(&cairo)) RT_LIBCAIRO_FUNCTIONS(RESOLVE)
#undef RESOLVE
#define RESOLVE(prefix, name) \
  rt_lazy_lib_resolve(&fontconfig, #prefix, #name, (void **)&rt_libfontconfig.name);
  if (rt_lazy_lib_open(&fontconfig)) RT_LIBFONTCONFIG_FUNCTIONS(RESOLVE)
#undef RESOLVE
  atomic_store(&ready, !cairo.failed && !fontconfig.failed);
}

int rt_libcairo_load(rt_error *err) {
  pthread_once(&once, load);
  if (rt_lazy_lib_status(&cairo, err) < 0) return -1;
  return rt_lazy_lib_status(&fontconfig, err);
}

bool rt_libcairo_loaded(void) { return atomic_load(&ready); }
