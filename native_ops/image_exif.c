/* EXIF orientation: reading the tag from a TIFF-structured EXIF block. */
#include "image_internal.h"

static unsigned read16(const unsigned char *p, int big) {
  return big ? (unsigned)(p[0] << 8 | p[1]) : (unsigned)(p[1] << 8 | p[0]);
}

static uint32_t read32(const unsigned char *p, int big) {
  return big ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]
             : (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

int dl__exif_orientation(const unsigned char *tiff, size_t len) {
  enum { ORIENTATION_TAG = 0x0112, TYPE_SHORT = 3 };
  if (!tiff || len < 8) return 1;
  int big;
  if (tiff[0] == 'I' && tiff[1] == 'I') {
    big = 0;
  } else if (tiff[0] == 'M' && tiff[1] == 'M') {
    big = 1;
  } else {
    return 1;
  }
  if (read16(tiff + 2, big) != 42) return 1;
  uint32_t ifd = read32(tiff + 4, big);
  if (ifd > len - 2) return 1;
  unsigned count = read16(tiff + ifd, big);
  for (unsigned i = 0; i < count; i++) {
    size_t at = (size_t)ifd + 2 + (size_t)i * 12;
    if (at + 12 > len) return 1;
    const unsigned char *entry = tiff + at;
    if (read16(entry, big) != ORIENTATION_TAG) continue;
    if (read16(entry + 2, big) != TYPE_SHORT || read32(entry + 4, big) != 1) return 1;
    unsigned v = read16(entry + 8, big);
    return v >= 1 && v <= 8 ? (int)v : 1;
  }
  return 1;
}

int dl__orientation_transposes(int orientation) { return orientation >= 5 && orientation <= 8; }
