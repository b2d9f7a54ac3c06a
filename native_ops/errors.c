/* Error codes and the per-call error buffer. */
#include "internal.h"

#include <stdarg.h>
#include <stdio.h>

#define X(name, code, msg) _Static_assert(name == (code), #name " differs between dl_native.h and errors.def");
#include "errors.def"
#undef X

int dl_abi_version(void) { return DL_ABI_VERSION; }

const char *dl_strerror(int code) {
  switch (code) {
#define X(name, c, msg) \
  case c:               \
    return msg;
#include "errors.def"
#undef X
  }
  return "unknown error code";
}

const char *dl_err_name(int code) {
  switch (code) {
#define X(name, c, msg) \
  case c:               \
    return #name;
#include "errors.def"
#undef X
  }
  return "DL_E_UNKNOWN";
}

int dl__fail(dl_error *err, int code, const char *fmt, ...) {
  if (err) {
    err->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
  }
  return code;
}
