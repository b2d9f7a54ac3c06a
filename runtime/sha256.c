/* SHA-256 through nettle: a small library that starts in no time, where
 * libcrypto cost every start of dlrun a few milliseconds (loading, then
 * its provider set-up on the first digest). */
#include "sha256.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <nettle/sha2.h>

static void to_hex(const unsigned char *md, char *hex) {
  static const char digits[] = "0123456789abcdef";
  for (int i = 0; i < 32; i++) {
    hex[2 * i] = digits[md[i] >> 4];
    hex[2 * i + 1] = digits[md[i] & 15];
  }
  hex[64] = '\0';
}

void rt_sha256_buffer(const void *data, size_t len, char *hex) {
  struct sha256_ctx ctx;
  unsigned char md[SHA256_DIGEST_SIZE];
  sha256_init(&ctx);
  sha256_update(&ctx, len, data);
  sha256_digest(&ctx, sizeof md, md);
  to_hex(md, hex);
}

int rt_sha256_file(const char *path, char *hex, rt_error *err) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return rt_fail(err, "cannot open %s: %s", path, strerror(errno));
  struct sha256_ctx ctx;
  sha256_init(&ctx);
  unsigned char buf[1 << 16];
  for (;;) {
    ssize_t r = read(fd, buf, sizeof buf);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      int e = errno;
      close(fd);
      return rt_fail(err, "cannot read %s: %s", path, strerror(e));
    }
    if (r == 0) break;
    sha256_update(&ctx, (size_t)r, buf);
  }
  close(fd);
  unsigned char md[SHA256_DIGEST_SIZE];
  sha256_digest(&ctx, sizeof md, md);
  to_hex(md, hex);
  return 0;
}

int rt_sha256_is_hex(const char *s) {
  size_t n = 0;
  for (; s[n]; n++)
    if (!isxdigit((unsigned char)s[n])) return 0;
  return n == 64;
}
