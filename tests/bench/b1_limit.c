/* B1's limit column: what one core can do with native_ops' own kernels.
 *
 *   b1_limit LIST_FILE PASSES
 *
 * On ONE thread, for every file named in LIST_FILE (one path a line): read it
 * (from the page cache), then dl_image_decode_resize_normalize_into: decode
 * at the DCT scale that still covers 224×224, each decoded row going straight
 * into the bilinear resize + mean/std normalize, into its row of a
 * 32×3×224×224 f32 batch. That is the fastest single-threaded path
 * native_ops has, and the one the pipeline's workers take. No threads, no
 * queues, no Lua: the per-core best, which the harness multiplies by the
 * number of cores.
 *
 * One untimed pass warms the caches and computes a checksum (the mean of
 * every output value, to compare with the other columns); then PASSES timed
 * passes. Prints one JSON line: images, seconds, images_per_s, checksum,
 * failed. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dl_native.h"

enum { SIZE = 224, CHANNELS = 3, BATCH = 32 };

static const float MEAN[3] = {0.485f, 0.456f, 0.406f};
static const float STD[3] = {0.229f, 0.224f, 0.225f};

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what, const char *detail) {
  fprintf(stderr, "b1_limit: %s: %s\n", what, detail);
  exit(1);
}

/* Reads path into *buf (grown as needed), as the pipeline's workers do. */
static size_t read_file(const char *path, unsigned char **buf, size_t *cap) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) die(path, strerror(errno));
  struct stat st;
  if (fstat(fd, &st) < 0) die(path, strerror(errno));
  size_t want = (size_t)st.st_size;
  if (want > *cap) {
    unsigned char *grown = realloc(*buf, want);
    if (!grown) die(path, "out of memory");
    *buf = grown;
    *cap = want;
  }
  size_t got = 0;
  while (got < want) {
    ssize_t r = read(fd, *buf + got, want - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) die(path, r < 0 ? strerror(errno) : "file shrank while reading");
    got += (size_t)r;
  }
  close(fd);
  return got;
}

static char **read_list(const char *list, int *count) {
  FILE *f = fopen(list, "r");
  if (!f) die(list, strerror(errno));
  char **paths = NULL;
  int n = 0, cap = 0;
  char line[4096];
  while (fgets(line, sizeof line, f)) {
    line[strcspn(line, "\r\n")] = 0;
    if (!line[0]) continue;
    if (n == cap) {
      cap = cap ? cap * 2 : 256;
      paths = realloc(paths, (size_t)cap * sizeof *paths);
      if (!paths) die(list, "out of memory");
    }
    paths[n] = strdup(line);
    if (!paths[n++]) die(list, "out of memory");
  }
  fclose(f);
  if (n == 0) die(list, "no files listed");
  *count = n;
  return paths;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: b1_limit LIST_FILE PASSES\n");
    return 2;
  }
  int n;
  char **paths = read_list(argv[1], &n);
  int passes = atoi(argv[2]);
  if (passes < 1) die("PASSES", "must be at least 1");

  dl_error e = {0};
  dl_tensor *batch, *rows[BATCH];
  int64_t shape[4] = {BATCH, CHANNELS, SIZE, SIZE};
  if (dl_tensor_empty(&batch, DL_F32, 4, shape, &e) < 0) die("batch", e.msg);
  for (int i = 0; i < BATCH; i++)
    if (dl_tensor_select(&rows[i], batch, 0, i, &e) < 0) die("batch row", e.msg);

  dl_decode_opts opts = {.channels = CHANNELS, .min_width = SIZE, .min_height = SIZE};
  unsigned char *buf = NULL;
  size_t cap = 0;
  double sum = 0;
  int failed = 0;
  double t0 = 0;
  for (int pass = 0; pass <= passes; pass++) {
    if (pass == 1) t0 = now(); /* pass 0 warms up and checks */
    for (int i = 0; i < n; i++) {
      size_t len = read_file(paths[i], &buf, &cap);
      dl_tensor *row = rows[i % BATCH];
      if (dl_image_decode_resize_normalize_into(row, buf, len, &opts, DL_RESIZE_BILINEAR, MEAN, STD, NULL, &e) < 0) {
        fprintf(stderr, "b1_limit: %s: %s\n", paths[i], e.msg);
        failed++;
      }
      if (pass == 0) {
        const float *p = row->ptr;
        for (int64_t k = 0; k < row->numel; k++) sum += p[k];
      }
    }
  }
  double secs = now() - t0;
  int64_t images = (int64_t)n * passes;
  printf("{\"images\": %lld, \"seconds\": %.6f, \"images_per_s\": %.3f, \"checksum\": %.9g, \"failed\": %d}\n",
         (long long)images, secs, (double)images / secs, sum / ((double)n * CHANNELS * SIZE * SIZE), failed);

  for (int i = 0; i < BATCH; i++) dl_tensor_release(rows[i]);
  dl_tensor_release(batch);
  for (int i = 0; i < n; i++) free(paths[i]);
  free(paths);
  free(buf);
  return failed ? 1 : 0;
}
