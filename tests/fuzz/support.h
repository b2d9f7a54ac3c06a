/* support.h — what the runtime's fuzz targets share: one input split into
 * several files or strings, a scratch folder per process, and checks that
 * abort (so libFuzzer reports the input) when a promise is broken. */
#ifndef FUZZ_SUPPORT_H
#define FUZZ_SUPPORT_H

#include <stddef.h>
#include <stdint.h>

#include "rt_error.h"

/* The line between the parts of one input (the seeds put it there too). */
#define FUZZ_SEP "\n--8<--\n"

/* Splits data at FUZZ_SEP into exactly n NUL-terminated, malloc'd parts
 * (missing ones empty; the last takes the rest, separators included) with
 * their lengths in lens. Free them with fuzz_free_parts. */
void fuzz_split(const uint8_t *data, size_t size, size_t n, char **parts, size_t *lens);
void fuzz_free_parts(size_t n, char **parts);

/* This process's scratch folder, made on first use and removed at exit. */
const char *fuzz_scratch(void);

/* Writes path (parents created), aborting when it cannot. */
void fuzz_put(const char *path, const void *data, size_t len);
/* Removes path and all under it, without following links. */
void fuzz_remove(const char *path);

/* Aborts with a message unless cond holds. */
#define FUZZ_CHECK(cond, ...) ((cond) ? (void)0 : fuzz_fail(__FILE__, __LINE__, __VA_ARGS__))
void fuzz_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 3, 4)));
/* A failed call must have said why: its error is not empty. */
void fuzz_expect_error(const rt_error *err);

#endif
