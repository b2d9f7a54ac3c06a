/* `dlrun dataset import fashion-mnist DEST`: the IDX files of Debian's
 * dataset-fashion-mnist package become PNG items with class ground truth in
 * /train, /validation (the last N of the training set) and /test. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "dataset_import.h"
#include "dl_native.h"
#include "progress.h"

static const char *const labels[10] = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                       "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};

typedef struct idx_file {
  uint8_t *data;   /* owned: the payload after the header */
  int64_t count;   /* first dimension */
  int32_t rows, cols; /* images only */
} idx_file;

static uint32_t be32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Reads exactly n bytes from a gzip stream. */
static int gz_read_all(gzFile f, void *buf, size_t n, const char *path, rt_error *err) {
  uint8_t *p = buf;
  while (n > 0) {
    unsigned chunk = n > (1u << 30) ? (1u << 30) : (unsigned)n;
    int got = gzread(f, p, chunk);
    if (got <= 0) {
      int zerr;
      const char *msg = gzerror(f, &zerr);
      return rt_fail(err, "%s: truncated or corrupt (%s)", path, got == 0 ? "unexpected end of data" : msg);
    }
    p += got;
    n -= (size_t)got;
  }
  return 0;
}

/* Reads the n-byte payload into *out (caller frees), growing the buffer as
 * the data arrives: a short file whose header claims gigabytes fails at its
 * end instead of reserving the claimed size first. */
static int read_payload(gzFile f, size_t n, uint8_t **out, const char *path, rt_error *err) {
  uint8_t *data = NULL;
  size_t have = 0;
  while (have < n) {
    size_t want = have ? have * 2 : (size_t)1 << 20;
    if (want > n) want = n;
    uint8_t *bigger = realloc(data, want);
    if (!bigger) {
      free(data);
      return rt_fail(err, "out of memory reading %s", path);
    }
    data = bigger;
    if (gz_read_all(f, data + have, want - have, path, err) < 0) {
      free(data);
      return -1;
    }
    have = want;
  }
  *out = data;
  return 0;
}

/* Reads an IDX file of u8 (magic 0x0801 labels, 0x0803 images). */
static int read_idx(const char *path, int dims, idx_file *out, rt_error *err) {
  memset(out, 0, sizeof *out);
  gzFile f = gzopen(path, "rb");
  if (!f) return rt_fail(err, "cannot open %s: %s", path, strerror(errno ? errno : ENOMEM));
  uint8_t head[16];
  int rc = gz_read_all(f, head, (size_t)(4 + 4 * dims), path, err);
  if (rc == 0 && be32(head) != (uint32_t)(0x800 | dims))
    rc = rt_fail(err, "%s: not an IDX file of %d-D u8 data (magic %08x)", path, dims, be32(head));
  if (rc == 0) {
    out->count = be32(head + 4);
    out->rows = dims == 3 ? (int32_t)be32(head + 8) : 1;
    out->cols = dims == 3 ? (int32_t)be32(head + 12) : 1;
    if (out->count < 1 || out->count > 10000000 || out->rows < 1 || out->rows > 4096 || out->cols < 1 ||
        out->cols > 4096)
      rc = rt_fail(err, "%s: implausible sizes %lld x %d x %d", path, (long long)out->count, out->rows, out->cols);
  }
  if (rc == 0)
    rc = read_payload(f, (size_t)out->count * (size_t)out->rows * (size_t)out->cols, &out->data, path, err);
  gzclose(f);
  return rc;
}

/* Writes items first..first+count-1 of (images, labels) under /split. */
static int write_split(rt_dataset_writer *w, const idx_file *images, const idx_file *lbl, int64_t first,
                       int64_t count, const char *split, rt_progress *progress, long *done, rt_error *err) {
  size_t pixels = (size_t)images->rows * (size_t)images->cols;
  for (int64_t i = 0; i < count; i++) {
    int64_t k = first + i;
    uint8_t label = lbl->data[k];
    if (label >= 10) return rt_fail(err, "label %u of item %lld is outside 0..9", label, (long long)k);
    /* a view of the k-th image as H×W×1, encoded as PNG */
    dl_tensor *img, *png;
    int64_t shape[3] = {images->rows, images->cols, 1};
    dl_error e;
    if (dl_tensor_empty(&img, DL_U8, 3, shape, &e) < 0) return rt_fail(err, "%s", e.msg);
    memcpy(img->ptr, images->data + (size_t)k * pixels, pixels);
    int rc = dl_image_encode(&png, img, DL_IMAGE_PNG, 0, &e);
    dl_tensor_release(img);
    if (rc < 0) return rt_fail(err, "cannot encode item %lld: %s", (long long)k, e.msg);
    char remote[64];
    snprintf(remote, sizeof remote, "/%s/%05lld.png", split, (long long)(i + 1));
    rc = rt_dsw_add_item(w, remote, png->ptr, (size_t)png->numel, "image/png", images->cols, images->rows,
                         labels[label], err);
    dl_tensor_release(png);
    if (rc < 0) return -1;
    rt_progress_update(progress, ++*done, 0);
  }
  return 0;
}

int rt_import_fashion_mnist(rt_dataset_writer *w, const rt_import_opts *o, rt_error *err) {
  const char *dir = o->source ? o->source : "/usr/share/datasets/fashion-mnist";
  static const char *const names[4] = {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                                        "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"};
  idx_file f[4] = {{0}};
  int rc = 0;
  for (int i = 0; rc == 0 && i < 4; i++) {
    char path[RT_PATH_MAX];
    rc = rt_fs_path(path, err, "%s/%s", dir, names[i]);
    if (rc == 0 && !rt_fs_exists(path))
      rc = rt_fail(err, "%s not found; install Debian's dataset-fashion-mnist (scripts/install-deps.sh does)", path);
    if (rc == 0) rc = read_idx(path, i % 2 ? 1 : 3, &f[i], err);
  }
  if (rc == 0 && (f[0].count != f[1].count || f[2].count != f[3].count))
    rc = rt_fail(err, "%s: image and label counts differ", dir);
  int64_t val = o->validation;
  if (rc == 0 && (val < 0 || val >= f[0].count))
    rc = rt_fail(err, "--validation %lld must be between 0 and %lld", (long long)val, (long long)f[0].count - 1);
  for (int i = 0; rc == 0 && i < 10; i++) rc = rt_dsw_add_label(w, labels[i], err);
  if (rc == 0) {
    int64_t n_train = f[0].count - val, n_val = val, n_test = f[2].count;
    if (o->limit > 0) {
      if (n_train > o->limit) n_train = o->limit;
      if (n_val > o->limit) n_val = o->limit;
      if (n_test > o->limit) n_test = o->limit;
    }
    rt_progress progress;
    rt_progress_start(&progress, "import", (long)(n_train + n_val + n_test), o->quiet);
    long done = 0;
    rc = write_split(w, &f[0], &f[1], 0, n_train, "train", &progress, &done, err);
    if (rc == 0) rc = write_split(w, &f[0], &f[1], f[0].count - val, n_val, "validation", &progress, &done, err);
    if (rc == 0) rc = write_split(w, &f[2], &f[3], 0, n_test, "test", &progress, &done, err);
    rt_progress_finish(&progress);
  }
  for (int i = 0; i < 4; i++) free(f[i].data);
  return rc;
}
