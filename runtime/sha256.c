/* SHA-256 through libcrypto's EVP interface. */
#include "sha256.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

static void to_hex(const unsigned char *md, char *hex) {
  static const char digits[] = "0123456789abcdef";
  for (int i = 0; i < 32; i++) {
    hex[2 * i] = digits[md[i] >> 4];
    hex[2 * i + 1] = digits[md[i] & 15];
  }
  hex[64] = '\0';
}

int rt_sha256_buffer(const void *data, size_t len, char *hex, rt_error *err) {
  unsigned char md[32];
  if (!EVP_Digest(data, len, md, NULL, EVP_sha256(), NULL))
    return rt_fail(err, "sha256 of %zu bytes failed", len);
  to_hex(md, hex);
  return 0;
}

int rt_sha256_file(const char *path, char *hex, rt_error *err) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return rt_fail(err, "cannot open %s: %s", path, strerror(errno));
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  int rc = -1;
  if (!ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)) {
    rt_fail(err, "sha256 of %s: cannot start the digest", path);
    goto done;
  }
  unsigned char buf[1 << 16];
  for (;;) {
    ssize_t r = read(fd, buf, sizeof buf);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      rt_fail(err, "cannot read %s: %s", path, strerror(errno));
      goto done;
    }
    if (r == 0) break;
    if (!EVP_DigestUpdate(ctx, buf, (size_t)r)) {
      rt_fail(err, "sha256 of %s failed", path);
      goto done;
    }
  }
  unsigned char md[32];
  if (!EVP_DigestFinal_ex(ctx, md, NULL)) {
    rt_fail(err, "sha256 of %s failed", path);
    goto done;
  }
  to_hex(md, hex);
  rc = 0;
done:
  EVP_MD_CTX_free(ctx);
  close(fd);
  return rc;
}

int rt_sha256_is_hex(const char *s) {
  size_t n = 0;
  for (; s[n]; n++)
    if (!isxdigit((unsigned char)s[n])) return 0;
  return n == 64;
}
