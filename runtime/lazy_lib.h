/* lazy_lib.h — shared libraries opened on first use instead of at start.
 *
 * libcurl, libarchive and cairo bring some 50 shared objects with them. Linked
 * into dlrun, they cost every start about 10 ms in the dynamic loader, though
 * only a few paths use them (HTTP stores and URLs, artifact archives, plots).
 * So dlrun does not link them: each is opened with dlopen the first time it
 * is needed, and the functions dlrun calls are resolved into one table of
 * typed pointers (lib_curl.h, lib_archive.h, lib_cairo.h):
 *
 *   #define RT_LIBCURL_FUNCTIONS(X) X(curl_, easy_init) X(curl_, easy_cleanup) ...
 *   typedef struct rt_libcurl_api { RT_LIBCURL_FUNCTIONS(RT_LAZY_FIELD) } rt_libcurl_api;
 *   extern rt_libcurl_api rt_libcurl;        // rt_libcurl.easy_init has curl_easy_init's type
 *
 *   if (rt_libcurl_load(err) < 0) return -1;   // once per process; thread-safe
 *   CURL *c = rt_libcurl.easy_init();
 *
 * Fields drop the library's prefix, which also keeps them clear of libcurl's
 * type-checking macros (curl_easy_setopt is one). The sonames come from the
 * build (scripts/configure.sh reads them from the libraries compiled
 * against), so a new major version means a rebuild, as it does when linked. */
#ifndef RT_LAZY_LIB_H
#define RT_LAZY_LIB_H

#include <stdbool.h>

#include "rt_error.h"

/* A table field for the library function prefix##name, with its type. */
#define RT_LAZY_FIELD(prefix, name) __typeof__(prefix##name) *name;

/* One library; the getter of its table owns it (a static, zero-initialised
 * but for soname). */
typedef struct rt_lazy_lib {
  const char *soname; /* public: what dlopen looks for, e.g. "libcurl.so.4" */
  void *handle;       /* private: never closed (the library stays for the process) */
  bool failed;        /* private: set once opening or resolving failed */
  char why[512];      /* private: what failed, for rt_lazy_lib_status */
} rt_lazy_lib;

/* Opens lib->soname; false (and lib remembers why) when it cannot. Call it
 * once, from the pthread_once routine that fills the table. */
bool rt_lazy_lib_open(rt_lazy_lib *lib);
/* Resolves prefix+name into *slot, a field of the table (the dlsym idiom:
 * POSIX lets a function pointer travel through void *). A missing symbol
 * marks lib failed. */
void rt_lazy_lib_resolve(rt_lazy_lib *lib, const char *prefix, const char *name, void **slot);
/* 0 when lib is usable; else -1 with a message saying why it is not. */
int rt_lazy_lib_status(const rt_lazy_lib *lib, rt_error *err);

#endif
