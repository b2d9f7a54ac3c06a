/* The batching pipeline: worker threads decode, resize and normalize items
 * straight into rows of recycled batch buffers, delivered in item order.
 *
 * Scheduling: items are handed out in order from one counter. Item i belongs
 * to batch i / batch_size, which lives in buffer (batch % nbuf). A worker may
 * take item i only when that buffer is free for its batch, i.e. when
 * batch < released + nbuf, so workers run at most nbuf - 1 batches ahead of
 * the one the consumer holds. nbuf = prefetch + 1. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image_internal.h"

typedef struct source {
  char *path;      /* owned; NULL for an in-memory item */
  void *bytes;     /* owned copy of an in-memory item */
  size_t len;
} source;

typedef struct buffer {
  dl_storage *storage;      /* rows of batch_size items */
  dl_pipeline_item *items;  /* batch_size entries */
  int64_t batch;            /* the batch this buffer is assigned to */
  int32_t n;                /* rows of that batch */
  int32_t done;             /* rows finished (ok or failed) */
} buffer;

struct dl_pipeline {
  dl_pipeline_spec spec;
  int64_t row_elems;        /* elements of one row: C*H*W */
  size_t elem_size;
  source *sources;
  int64_t n_items, cap_items;
  int64_t n_batches;
  int nbuf;
  buffer *bufs;
  pthread_t *threads;
  int n_threads;
  bool started;

  pthread_mutex_t mu;
  pthread_cond_t can_work;   /* a buffer was freed, or stopping */
  pthread_cond_t batch_done; /* a buffer filled up */
  int64_t next_item;         /* guarded by mu */
  int64_t released;          /* batches given back; guarded by mu */
  int64_t next_batch;        /* consumer side only */
  bool stopping;             /* guarded by mu */
  dl_pipeline_batch out;     /* the batch currently out, if out.tensor */
};

/* Per-worker scratch kept across items, so steady state allocates little. */
typedef struct scratch {
  uint8_t *file;    /* bytes of the item being read */
  size_t file_cap;
  dl_tensor *u8row; /* H×W×C staging image for layouts that need a second pass */
} scratch;

static int64_t batch_of(const dl_pipeline *p, int64_t item) { return item / p->spec.batch_size; }

static int32_t rows_in_batch(const dl_pipeline *p, int64_t batch) {
  int64_t left = p->n_items - batch * p->spec.batch_size;
  return (int32_t)(left < p->spec.batch_size ? left : p->spec.batch_size);
}

static void assign_buffer(dl_pipeline *p, buffer *b, int64_t batch) {
  b->batch = batch;
  b->n = batch < p->n_batches ? rows_in_batch(p, batch) : 0;
  b->done = 0;
}

static int check_spec(const dl_pipeline_spec *s, dl_error *err) {
  if (s->width < 1 || s->height < 1)
    return dl__fail(err, DL_E_INVAL, "pipeline: size %dx%d must be at least 1x1", s->width, s->height);
  if ((int64_t)s->width * s->height > 64LL * 1024 * 1024)
    return dl__fail(err, DL_E_TOO_LARGE, "pipeline: size %dx%d is too large", s->width, s->height);
  if (s->channels != 1 && s->channels != 3 && s->channels != 4)
    return dl__fail(err, DL_E_INVAL, "pipeline: channels %d must be 1, 3 or 4", s->channels);
  if (s->layout != DL_LAYOUT_NCHW && s->layout != DL_LAYOUT_NHWC)
    return dl__fail(err, DL_E_INVAL, "pipeline: unknown layout %d", s->layout);
  if (s->dtype != DL_F32 && s->dtype != DL_U8)
    return dl__fail(err, DL_E_DTYPE, "pipeline: dtype must be f32 or u8 (got %s)", dl_dtype_name(s->dtype));
  if (s->resize_mode != DL_RESIZE_BILINEAR && s->resize_mode != DL_RESIZE_BOX)
    return dl__fail(err, DL_E_INVAL, "pipeline: unknown resize mode %d", s->resize_mode);
  if (s->fit < DL_FIT_STRETCH || s->fit > DL_FIT_CENTER_CROP)
    return dl__fail(err, DL_E_INVAL, "pipeline: unknown fit %d", s->fit);
  if (s->pad_value < 0 || s->pad_value > 255)
    return dl__fail(err, DL_E_INVAL, "pipeline: pad_value %d must be in 0..255", s->pad_value);
  if (s->batch_size < 1 || s->batch_size > 1 << 16)
    return dl__fail(err, DL_E_INVAL, "pipeline: batch_size %d must be in 1..65536", s->batch_size);
  if (s->threads < 0 || s->threads > 256)
    return dl__fail(err, DL_E_INVAL, "pipeline: threads %d must be in 0..256", s->threads);
  if (s->prefetch < 0 || s->prefetch > 64)
    return dl__fail(err, DL_E_INVAL, "pipeline: prefetch %d must be in 0..64", s->prefetch);
  if (s->max_bytes < 0)
    return dl__fail(err, DL_E_INVAL, "pipeline: max_bytes %lld must be 0 (the default) or more",
                    (long long)s->max_bytes);
  for (int c = 0; c < s->channels; c++)
    if (s->dtype == DL_F32 && !(s->std[c] >= 0))
      return dl__fail(err, DL_E_INVAL, "pipeline: std[%d] = %g must be positive (0 means 1)", c, (double)s->std[c]);
  return DL_OK;
}

int dl_pipeline_new(dl_pipeline **out, const dl_pipeline_spec *spec, dl_error *err) {
  *out = NULL;
  if (!spec) return dl__fail(err, DL_E_INVAL, "pipeline: spec is NULL");
  int rc = check_spec(spec, err);
  if (rc < 0) return rc;
  dl_pipeline *p = calloc(1, sizeof *p);
  if (!p) return dl__fail(err, DL_E_NOMEM, "pipeline: out of memory");
  p->spec = *spec;
  for (int c = 0; c < 4; c++)
    if (p->spec.std[c] == 0) p->spec.std[c] = 1;
  if (p->spec.prefetch == 0) p->spec.prefetch = 2;
  if (p->spec.max_bytes == 0) p->spec.max_bytes = DL_IMAGE_DEFAULT_MAX_BYTES;
  if (p->spec.threads == 0) {
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    p->spec.threads = cores > 0 ? (int32_t)(cores > 256 ? 256 : cores) : 1;
  }
  p->row_elems = (int64_t)spec->channels * spec->height * spec->width;
  p->elem_size = dl_dtype_size(spec->dtype);
  pthread_mutex_init(&p->mu, NULL);
  pthread_cond_init(&p->can_work, NULL);
  pthread_cond_init(&p->batch_done, NULL);
  *out = p;
  return DL_OK;
}

static int add_source(dl_pipeline *p, source s, dl_error *err) {
  if (p->started) return dl__fail(err, DL_E_CLOSED, "pipeline: items must be added before dl_pipeline_start");
  if (p->n_items == p->cap_items) {
    int64_t cap = p->cap_items ? p->cap_items * 2 : 256;
    source *grown = realloc(p->sources, (size_t)cap * sizeof *grown);
    if (!grown) return dl__fail(err, DL_E_NOMEM, "pipeline: out of memory adding item %lld", (long long)p->n_items);
    p->sources = grown;
    p->cap_items = cap;
  }
  p->sources[p->n_items++] = s;
  return DL_OK;
}

int dl_pipeline_add_path(dl_pipeline *p, const char *path, dl_error *err) {
  if (!path) return dl__fail(err, DL_E_INVAL, "pipeline: path is NULL");
  source s = {.path = strdup(path)};
  if (!s.path) return dl__fail(err, DL_E_NOMEM, "pipeline: out of memory");
  int rc = add_source(p, s, err);
  if (rc < 0) free(s.path);
  return rc;
}

int dl_pipeline_add_bytes(dl_pipeline *p, const void *bytes, size_t len, dl_error *err) {
  if (!bytes && len) return dl__fail(err, DL_E_INVAL, "pipeline: bytes is NULL");
  source s = {.bytes = malloc(len ? len : 1), .len = len};
  if (!s.bytes) return dl__fail(err, DL_E_NOMEM, "pipeline: out of memory copying %zu bytes", len);
  if (len) memcpy(s.bytes, bytes, len);
  int rc = add_source(p, s, err);
  if (rc < 0) free(s.bytes);
  return rc;
}

int64_t dl_pipeline_count(const dl_pipeline *p) { return p->n_items; }

/* Reads a whole file of at most max_bytes into the worker's scratch buffer. */
static int read_file(scratch *s, const char *path, int64_t max_bytes, size_t *len, dl_error *err) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return dl__fail(err, DL_E_IO, "cannot open %s: %s", path, strerror(errno));
  struct stat st;
  if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return dl__fail(err, DL_E_IO, "%s is not a regular file", path);
  }
  int rc = dl__check_file_bytes(path, st.st_size, max_bytes, err);
  if (rc < 0) {
    close(fd);
    return rc;
  }
  size_t want = (size_t)st.st_size;
  if (want + 1 > s->file_cap) {
    uint8_t *grown = realloc(s->file, want + 1);
    if (!grown) {
      close(fd);
      return dl__fail(err, DL_E_NOMEM, "cannot allocate %zu bytes to read %s", want, path);
    }
    s->file = grown;
    s->file_cap = want + 1;
  }
  size_t got = 0;
  while (got < want) {
    ssize_t r = read(fd, s->file + got, want - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      int e = errno;
      close(fd);
      return dl__fail(err, DL_E_IO, "cannot read %s: %s", path, r < 0 ? strerror(e) : "file shrank while reading");
    }
    got += (size_t)r;
  }
  close(fd);
  *len = got;
  return DL_OK;
}

/* The row of item `slot` in buffer b, as a C×H×W (f32 normalize target) or
 * H×W×C view, whatever the layout in memory. Caller owns *out. */
static int row_view(dl_pipeline *p, buffer *b, int slot, bool chw, dl_tensor **out, dl_error *err) {
  const dl_pipeline_spec *s = &p->spec;
  int64_t shape[3];
  bool stored_chw = s->layout == DL_LAYOUT_NCHW;
  if (stored_chw) {
    shape[0] = s->channels, shape[1] = s->height, shape[2] = s->width;
  } else {
    shape[0] = s->height, shape[1] = s->width, shape[2] = s->channels;
  }
  int rc = dl__tensor_wrap(out, b->storage, (int64_t)slot * p->row_elems * (int64_t)p->elem_size, s->dtype, 3, shape,
                           err);
  if (rc < 0 || chw == stored_chw) return rc;
  /* permute the header in place: (0,1,2) -> CHW (2,0,1) or HWC (1,2,0) */
  dl_tensor *t = *out;
  int order[3] = {2, 0, 1};
  if (!chw) order[0] = 1, order[1] = 2, order[2] = 0;
  int64_t sh[3], st[3];
  for (int i = 0; i < 3; i++) sh[i] = t->shape[order[i]], st[i] = t->strides[order[i]];
  for (int i = 0; i < 3; i++) t->shape[i] = sh[i], t->strides[i] = st[i];
  return DL_OK;
}

/* Fits the decoded image into its row per spec.fit, resizing and (for f32)
 * normalizing on the way. */
static int fill_row(dl_pipeline *p, buffer *b, int slot, scratch *s, const dl_tensor *img, dl_pipeline_item *it,
                    dl_error *err) {
  const dl_pipeline_spec *sp = &p->spec;
  const float *mean = sp->mean, *std = sp->std;
  dl_tensor *dst = NULL, *cropped = NULL;
  const dl_tensor *src = img;
  int rc = DL_OK;
  it->letterbox = (dl_letterbox){.scale = 1, .width = sp->width, .height = sp->height};
  if (sp->fit == DL_FIT_CENTER_CROP) {
    /* Crop the source region that maps onto the output, then resize it:
     * the same picture as resize-shorter-side then centre crop, cheaper. */
    double w = (double)img->shape[1], h = (double)img->shape[0];
    double scale = (double)sp->width / w > (double)sp->height / h ? (double)sp->width / w : (double)sp->height / h;
    int32_t cw = (int32_t)((double)sp->width / scale + 0.5), ch = (int32_t)((double)sp->height / scale + 0.5);
    if (cw < 1) cw = 1;
    if (ch < 1) ch = 1;
    if (cw > img->shape[1]) cw = (int32_t)img->shape[1];
    if (ch > img->shape[0]) ch = (int32_t)img->shape[0];
    rc = dl_image_center_crop(&cropped, img, cw, ch, err);
    if (rc < 0) return rc;
    src = cropped;
  }
  bool staged = sp->fit == DL_FIT_LETTERBOX || (sp->dtype == DL_U8 && sp->layout == DL_LAYOUT_NCHW);
  if (staged) {
    /* Letterbox (and u8 CHW) go through an H×W×C u8 image first. */
    if (!s->u8row) {
      int64_t shape[3] = {sp->height, sp->width, sp->channels};
      rc = dl_tensor_empty(&s->u8row, DL_U8, 3, shape, err);
    }
    if (rc == DL_OK) {
      if (sp->fit == DL_FIT_LETTERBOX)
        rc = dl_image_letterbox_into(s->u8row, src, sp->resize_mode, (uint8_t)sp->pad_value, &it->letterbox, err);
      else
        rc = dl_image_resize_into(s->u8row, src, sp->resize_mode, err);
    }
    /* f32 rows are seen as C×H×W to normalize into, u8 rows as H×W×C to copy into */
    if (rc == DL_OK) rc = row_view(p, b, slot, sp->dtype == DL_F32, &dst, err);
    if (rc == DL_OK)
      rc = sp->dtype == DL_F32 ? dl_image_normalize_into(dst, s->u8row, mean, std, err)
                               : dl_tensor_copy(dst, s->u8row, err);
  } else if (sp->dtype == DL_F32) {
    rc = row_view(p, b, slot, true, &dst, err);
    if (rc == DL_OK) rc = dl_image_resize_normalize_into(dst, src, sp->resize_mode, mean, std, err);
  } else {
    rc = row_view(p, b, slot, false, &dst, err);
    if (rc == DL_OK) rc = dl_image_resize_into(dst, src, sp->resize_mode, err);
  }
  dl_tensor_release(dst);
  dl_tensor_release(cropped);
  return rc;
}

static void process_item(dl_pipeline *p, int64_t i, scratch *s) {
  buffer *b = &p->bufs[batch_of(p, i) % p->nbuf];
  int slot = (int)(i % p->spec.batch_size);
  dl_pipeline_item *it = &b->items[slot];
  memset(it, 0, sizeof *it);
  const source *src = &p->sources[i];
  dl_error e = {0};
  const void *bytes = src->bytes;
  size_t len = src->len;
  int rc = DL_OK;
  if (src->path) {
    rc = read_file(s, src->path, p->spec.max_bytes, &len, &e);
    bytes = s->file;
  }
  dl_tensor *img = NULL;
  if (rc == DL_OK) {
    const dl_pipeline_spec *sp = &p->spec;
    it->bytes = (int64_t)len;
    dl_decode_opts o = {.max_pixels = sp->max_pixels, .channels = sp->channels,
                        .min_width = sp->width, .min_height = sp->height};
    dl_image_info info = {0};
    if (sp->dtype == DL_F32 && sp->fit == DL_FIT_STRETCH) {
      /* The common case in one pass: decoded rows go straight into the
       * resize and normalize, and the decoded image is never stored. */
      dl_tensor *dst = NULL;
      it->letterbox = (dl_letterbox){.scale = 1, .width = sp->width, .height = sp->height};
      rc = row_view(p, b, slot, true, &dst, &e);
      if (rc == DL_OK)
        rc = dl_image_decode_resize_normalize_into(dst, bytes, len, &o, sp->resize_mode, sp->mean, sp->std, &info,
                                                   &e);
      dl_tensor_release(dst);
    } else {
      rc = dl_image_decode(&img, bytes, len, &o, &info, &e);
      if (rc == DL_OK) rc = fill_row(p, b, slot, s, img, it, &e);
    }
    it->width = info.width;
    it->height = info.height;
    it->format = info.format;
  }
  dl_tensor_release(img);
  if (rc < 0) {
    it->status = rc;
    int n = src->path && !strstr(e.msg, src->path)
                ? snprintf(it->message, sizeof it->message, "%s: %s", src->path, e.msg)
                : snprintf(it->message, sizeof it->message, "%s", e.msg);
    if (n >= (int)sizeof it->message) memcpy(it->message + sizeof it->message - 4, "...", 4);
    /* A failed row holds zeros, never the previous batch's pixels. */
    memset((char *)b->storage->base + (size_t)slot * (size_t)p->row_elems * p->elem_size, 0,
           (size_t)p->row_elems * p->elem_size);
  }
}

static void *worker_main(void *arg) {
  dl_pipeline *p = arg;
  scratch s = {0};
  pthread_mutex_lock(&p->mu);
  for (;;) {
    while (!p->stopping && p->next_item < p->n_items && batch_of(p, p->next_item) >= p->released + p->nbuf)
      pthread_cond_wait(&p->can_work, &p->mu);
    if (p->stopping || p->next_item >= p->n_items) break;
    int64_t i = p->next_item++;
    pthread_mutex_unlock(&p->mu);
    process_item(p, i, &s);
    pthread_mutex_lock(&p->mu);
    buffer *b = &p->bufs[batch_of(p, i) % p->nbuf];
    if (++b->done == b->n) pthread_cond_broadcast(&p->batch_done);
  }
  pthread_mutex_unlock(&p->mu);
  free(s.file);
  dl_tensor_release(s.u8row);
  return NULL;
}

int dl_pipeline_start(dl_pipeline *p, dl_error *err) {
  if (p->started) return dl__fail(err, DL_E_CLOSED, "pipeline: already started");
  p->started = true;
  p->n_batches = (p->n_items + p->spec.batch_size - 1) / p->spec.batch_size;
  p->nbuf = p->spec.prefetch + 1;
  p->bufs = calloc((size_t)p->nbuf, sizeof *p->bufs);
  if (!p->bufs) return dl__fail(err, DL_E_NOMEM, "pipeline: out of memory");
  int64_t bytes = (int64_t)p->spec.batch_size * p->row_elems * (int64_t)p->elem_size;
  for (int k = 0; k < p->nbuf; k++) {
    buffer *b = &p->bufs[k];
    int rc = dl__storage_new(&b->storage, bytes, err);
    if (rc < 0) return rc;
    b->items = calloc((size_t)p->spec.batch_size, sizeof *b->items);
    if (!b->items) return dl__fail(err, DL_E_NOMEM, "pipeline: out of memory");
    assign_buffer(p, b, k);
  }
  int n = p->spec.threads;
  if (n > p->n_items) n = p->n_items > 0 ? (int)p->n_items : 0;
  p->threads = calloc((size_t)(n ? n : 1), sizeof *p->threads);
  if (!p->threads) return dl__fail(err, DL_E_NOMEM, "pipeline: out of memory");
  for (int t = 0; t < n; t++) {
    int e = pthread_create(&p->threads[t], NULL, worker_main, p);
    if (e) return dl__fail(err, DL_E_NOMEM, "pipeline: cannot start worker thread %d: %s", t, strerror(e));
    p->n_threads++;
  }
  return DL_OK;
}

int dl_pipeline_next(dl_pipeline *p, dl_pipeline_batch **out, dl_error *err) {
  *out = NULL;
  if (!p->started) return dl__fail(err, DL_E_INVAL, "pipeline: call dl_pipeline_start first");
  if (p->out.tensor) return dl__fail(err, DL_E_INVAL, "pipeline: release batch %d before asking for the next", p->out.index);
  if (p->next_batch >= p->n_batches) return DL_OK;
  int64_t k = p->next_batch;
  buffer *b = &p->bufs[k % p->nbuf];
  pthread_mutex_lock(&p->mu);
  while (b->done < b->n) pthread_cond_wait(&p->batch_done, &p->mu);
  pthread_mutex_unlock(&p->mu);
  const dl_pipeline_spec *s = &p->spec;
  int64_t shape[4] = {b->n, s->channels, s->height, s->width};
  if (s->layout == DL_LAYOUT_NHWC) shape[1] = s->height, shape[2] = s->width, shape[3] = s->channels;
  int rc = dl__tensor_wrap(&p->out.tensor, b->storage, 0, s->dtype, 4, shape, err);
  if (rc < 0) return rc;
  p->out.first = k * s->batch_size;
  p->out.n = b->n;
  p->out.index = (int32_t)k;
  p->out.items = b->items;
  p->next_batch++;
  *out = &p->out;
  return DL_OK;
}

int dl_pipeline_release(dl_pipeline *p, dl_pipeline_batch *batch, dl_error *err) {
  if (batch != &p->out || !p->out.tensor) return dl__fail(err, DL_E_INVAL, "pipeline: that batch is not out");
  buffer *b = &p->bufs[p->out.index % p->nbuf];
  dl__storage_bump_generation(b->storage); /* every view of this batch is stale now */
  dl_tensor_release(p->out.tensor);
  p->out.tensor = NULL;
  pthread_mutex_lock(&p->mu);
  p->released++;
  assign_buffer(p, b, b->batch + p->nbuf);
  pthread_cond_broadcast(&p->can_work);
  pthread_mutex_unlock(&p->mu);
  return DL_OK;
}

void dl_pipeline_free(dl_pipeline *p) {
  if (!p) return;
  if (p->out.tensor) dl_pipeline_release(p, &p->out, NULL);
  pthread_mutex_lock(&p->mu);
  p->stopping = true;
  pthread_cond_broadcast(&p->can_work);
  pthread_mutex_unlock(&p->mu);
  for (int t = 0; t < p->n_threads; t++) pthread_join(p->threads[t], NULL);
  free(p->threads);
  for (int k = 0; p->bufs && k < p->nbuf; k++) {
    dl__storage_release(p->bufs[k].storage);
    free(p->bufs[k].items);
  }
  free(p->bufs);
  for (int64_t i = 0; i < p->n_items; i++) {
    free(p->sources[i].path);
    free(p->sources[i].bytes);
  }
  free(p->sources);
  pthread_mutex_destroy(&p->mu);
  pthread_cond_destroy(&p->can_work);
  pthread_cond_destroy(&p->batch_done);
  free(p);
}
