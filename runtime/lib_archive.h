/* lib_archive.h — the libarchive functions dlrun calls, loaded on first use
 * (lazy_lib.h says why). Call rt_libarchive_load before using rt_libarchive. */
#ifndef RT_LIB_ARCHIVE_H
#define RT_LIB_ARCHIVE_H

#include <archive.h>
#include <archive_entry.h>

#include "lazy_lib.h"

#define RT_LIBARCHIVE_FUNCTIONS(X)     \
  X(archive_, entry_filetype)          \
  X(archive_, entry_free)              \
  X(archive_, entry_hardlink)          \
  X(archive_, entry_new)               \
  X(archive_, entry_pathname)          \
  X(archive_, entry_perm)              \
  X(archive_, entry_set_filetype)      \
  X(archive_, entry_set_gid)           \
  X(archive_, entry_set_mtime)         \
  X(archive_, entry_set_pathname)      \
  X(archive_, entry_set_perm)          \
  X(archive_, entry_set_size)          \
  X(archive_, entry_set_symlink)       \
  X(archive_, entry_set_uid)           \
  X(archive_, entry_size)              \
  X(archive_, entry_size_is_set)       \
  X(archive_, entry_symlink)           \
  X(archive_, error_string)            \
  X(archive_, read_data_block)         \
  X(archive_, read_free)               \
  X(archive_, read_new)                \
  X(archive_, read_next_header)        \
  X(archive_, read_open_filename)      \
  X(archive_, read_support_filter_all) \
  X(archive_, read_support_format_all) \
  X(archive_, write_add_filter_gzip)   \
  X(archive_, write_close)             \
  X(archive_, write_data)              \
  X(archive_, write_free)              \
  X(archive_, write_header)            \
  X(archive_, write_new)               \
  X(archive_, write_open_fd)           \
  X(archive_, write_set_filter_option) \
  X(archive_, write_set_format_pax_restricted)

typedef struct rt_libarchive_api {
  RT_LIBARCHIVE_FUNCTIONS(RT_LAZY_FIELD)
} rt_libarchive_api;

/* Filled by rt_libarchive_load; read-only afterwards. */
extern rt_libarchive_api rt_libarchive;

/* Loads libarchive once per process (thread-safe). 0 when rt_libarchive is
 * ready; else -1 and err says why. */
int rt_libarchive_load(rt_error *err);

#endif
