/* lib_cairo.h — the cairo and fontconfig functions the plots call, loaded
 * on first use (lazy_lib.h says why). Call rt_libcairo_load before using
 * rt_libcairo or rt_libfontconfig. */
#ifndef RT_LIB_CAIRO_H
#define RT_LIB_CAIRO_H

#include <cairo.h>
#include <fontconfig/fontconfig.h>

#include "lazy_lib.h"

#define RT_LIBCAIRO_FUNCTIONS(X)         \
  X(cairo_, clip)                        \
  X(cairo_, create)                      \
  X(cairo_, debug_reset_static_data)     \
  X(cairo_, destroy)                     \
  X(cairo_, fill)                        \
  X(cairo_, font_extents)                \
  X(cairo_, image_surface_create)        \
  X(cairo_, line_to)                     \
  X(cairo_, move_to)                     \
  X(cairo_, paint)                       \
  X(cairo_, rectangle)                   \
  X(cairo_, restore)                     \
  X(cairo_, rotate)                      \
  X(cairo_, save)                        \
  X(cairo_, select_font_face)            \
  X(cairo_, set_dash)                    \
  X(cairo_, set_font_size)               \
  X(cairo_, set_line_join)               \
  X(cairo_, set_line_width)              \
  X(cairo_, set_source_rgb)              \
  X(cairo_, show_text)                   \
  X(cairo_, status)                      \
  X(cairo_, status_to_string)            \
  X(cairo_, stroke)                      \
  X(cairo_, surface_destroy)             \
  X(cairo_, surface_flush)               \
  X(cairo_, surface_write_to_png_stream) \
  X(cairo_, text_extents)                \
  X(cairo_, translate)

/* fontconfig comes with cairo; dlrun only frees its caches at exit. */
#define RT_LIBFONTCONFIG_FUNCTIONS(X) X(Fc, Fini)

typedef struct rt_libcairo_api {
  RT_LIBCAIRO_FUNCTIONS(RT_LAZY_FIELD)
} rt_libcairo_api;

typedef struct rt_libfontconfig_api {
  RT_LIBFONTCONFIG_FUNCTIONS(RT_LAZY_FIELD)
} rt_libfontconfig_api;

/* Filled by rt_libcairo_load; read-only afterwards. */
extern rt_libcairo_api rt_libcairo;
extern rt_libfontconfig_api rt_libfontconfig;

/* Loads cairo and fontconfig once per process (thread-safe). 0 when both
 * tables are ready; else -1 and err says why. */
int rt_libcairo_load(rt_error *err);
/* True once rt_libcairo_load has succeeded. */
bool rt_libcairo_loaded(void);

#endif
