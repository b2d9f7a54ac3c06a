/* sha256.h — SHA-256 digests as lowercase hex, for artifact integrity.
 *
 *   char hex[RT_SHA256_HEX];
 *   if (rt_sha256_file("v3.tar.gz", hex, &err) < 0) ...
 */
#ifndef RT_SHA256_H
#define RT_SHA256_H

#include <stddef.h>

#include "rt_error.h"

#define RT_SHA256_HEX 65 /* 64 hex digits and the NUL */

/* Digest of a file's content into hex (RT_SHA256_HEX bytes). */
int rt_sha256_file(const char *path, char *hex, rt_error *err);
/* Digest of a buffer into hex (RT_SHA256_HEX bytes). */
void rt_sha256_buffer(const void *data, size_t len, char *hex);
/* True if s is 64 hex digits (either case), as model.json stores them. */
int rt_sha256_is_hex(const char *s);

#endif
