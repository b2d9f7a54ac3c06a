/* Opening a shared library on first use and resolving its functions. */
#include "lazy_lib.h"

#include <dlfcn.h>
#include <stdio.h>

/* Records the first failure only: later ones follow from it. */
static void fail(rt_lazy_lib *lib, const char *what) {
  if (lib->failed) return;
  lib->failed = true;
  snprintf(lib->why, sizeof lib->why, "%s", what ? what : "unknown dlopen error");
}

bool rt_lazy_lib_open(rt_lazy_lib *lib) {
  /* RTLD_LOCAL: nothing else resolves against it, and its symbols cannot
   * interpose on ours or on another library's. */
  lib->handle = dlopen(lib->soname, RTLD_NOW | RTLD_LOCAL);
  if (!lib->handle) fail(lib, dlerror());
  return lib->handle != NULL;
}

void rt_lazy_lib_resolve(rt_lazy_lib *lib, const char *prefix, const char *name, void **slot) {
  char symbol[128];
  snprintf(symbol, sizeof symbol, "%s%s", prefix, name);
  *slot = lib->handle ? dlsym(lib->handle, symbol) : NULL;
  if (!*slot && lib->handle) {
    char what[256];
    snprintf(what, sizeof what, "%s has no function %s", lib->soname, symbol);
    fail(lib, what);
  }
}

int rt_lazy_lib_status(const rt_lazy_lib *lib, rt_error *err) {
  if (!lib->failed) return 0;
  return rt_fail(err, "cannot load %s, which this needs: %s", lib->soname, lib->why);
}
