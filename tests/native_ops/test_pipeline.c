/* cmocka tests of the batching pipeline (native_ops/pipeline.c), on real
 * PNG and JPEG files written by the image encoder into a temp folder. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "dl_native.h"

typedef struct fixture {
  char dir[64];
  char paths[12][128];
  int n;
} fixture;

/* A w×h RGB image whose pixels depend on (seed, x, y), so rows differ. */
static dl_tensor *make_image(int w, int h, int seed) {
  dl_tensor *t;
  int64_t shape[3] = {h, w, 3};
  assert_int_equal(dl_tensor_new(&t, DL_U8, 3, shape, NULL), 0);
  uint8_t *p = t->ptr;
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      for (int c = 0; c < 3; c++) p[(y * w + x) * 3 + c] = (uint8_t)(seed * 37 + x * 5 + y * 3 + c * 60);
  return t;
}

static int setup(void **state) {
  fixture *f = calloc(1, sizeof *f);
  snprintf(f->dir, sizeof f->dir, "/tmp/dlrun-pipeline-XXXXXX");
  assert_non_null(mkdtemp(f->dir));
  f->n = 10;
  const char *dir = f->dir;
  for (int i = 0; i < f->n; i++) {
    /* varied sizes and both formats; item 7 is a JPEG */
    int w = 20 + 7 * i, h = 16 + 3 * i;
    dl_tensor *img = make_image(w, h, i);
    int jpeg = i == 7;
    char path[128];
    snprintf(path, sizeof path, "%s/item%02d.%s", dir, i, jpeg ? "jpg" : "png");
    memcpy(f->paths[i], path, sizeof path);
    assert_int_equal(dl_image_save(img, f->paths[i], jpeg ? DL_IMAGE_JPEG : DL_IMAGE_PNG, 95, NULL), 0);
    dl_tensor_release(img);
  }
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
  assert_int_equal(system(cmd), 0);
  free(f);
  return 0;
}

static dl_pipeline_spec rgb_spec(int batch_size) {
  dl_pipeline_spec s = {0};
  s.width = 12;
  s.height = 10;
  s.channels = 3;
  s.dtype = DL_F32;
  s.batch_size = batch_size;
  s.threads = 2;
  for (int c = 0; c < 3; c++) s.mean[c] = 0.5f, s.std[c] = 0.25f;
  return s;
}

/* What one item's row must hold: load, then the fused resize+normalize. */
static dl_tensor *expected_row(const char *path, const dl_pipeline_spec *s) {
  dl_tensor *img, *row;
  dl_decode_opts o = {.channels = s->channels, .min_width = s->width, .min_height = s->height};
  assert_int_equal(dl_image_load(&img, path, &o, NULL, NULL), 0);
  int64_t shape[3] = {s->channels, s->height, s->width};
  assert_int_equal(dl_tensor_new(&row, DL_F32, 3, shape, NULL), 0);
  assert_int_equal(dl_image_resize_normalize_into(row, img, s->resize_mode, s->mean, s->std, NULL), 0);
  dl_tensor_release(img);
  return row;
}

static void test_batches_come_in_item_order_with_the_right_rows(void **state) {
  fixture *f = *state;
  dl_pipeline_spec s = rgb_spec(4);
  dl_pipeline *p;
  dl_error e;
  assert_int_equal(dl_pipeline_new(&p, &s, &e), 0);
  for (int i = 0; i < f->n; i++) assert_int_equal(dl_pipeline_add_path(p, f->paths[i], &e), 0);
  assert_int_equal(dl_pipeline_count(p), f->n);
  assert_int_equal(dl_pipeline_start(p, &e), 0);
  int expect_n[] = {4, 4, 2};
  dl_pipeline_batch *b;
  for (int k = 0; k < 3; k++) {
    assert_int_equal(dl_pipeline_next(p, &b, &e), 0);
    assert_non_null(b);
    assert_int_equal(b->index, k);
    assert_int_equal(b->n, expect_n[k]);
    assert_int_equal(b->first, k * 4);
    assert_int_equal(b->tensor->ndim, 4);
    assert_int_equal(b->tensor->shape[0], expect_n[k]);
    assert_int_equal(b->tensor->shape[1], 3);
    assert_int_equal(b->tensor->shape[2], 10);
    assert_int_equal(b->tensor->shape[3], 12);
    for (int r = 0; r < b->n; r++) {
      int item = k * 4 + r;
      assert_int_equal(b->items[r].status, 0);
      assert_int_equal(b->items[r].width, 20 + 7 * item);
      assert_int_equal(b->items[r].height, 16 + 3 * item);
      assert_int_equal(b->items[r].format, item == 7 ? DL_IMAGE_JPEG : DL_IMAGE_PNG);
      dl_tensor *want = expected_row(f->paths[item], &s);
      const float *got = (const float *)b->tensor->ptr + (size_t)r * 3 * 10 * 12;
      assert_memory_equal(got, want->ptr, 3 * 10 * 12 * sizeof(float));
      dl_tensor_release(want);
    }
    assert_int_equal(dl_pipeline_release(p, b, &e), 0);
  }
  assert_int_equal(dl_pipeline_next(p, &b, &e), 0);
  assert_null(b);
  dl_pipeline_free(p);
}

static void test_a_bad_item_fails_only_its_row(void **state) {
  fixture *f = *state;
  char empty[160], missing[160];
  snprintf(empty, sizeof empty, "%s/empty.png", f->dir);
  snprintf(missing, sizeof missing, "%s/missing.png", f->dir);
  FILE *fp = fopen(empty, "w");
  fclose(fp);
  dl_pipeline_spec s = rgb_spec(4);
  dl_pipeline *p;
  assert_int_equal(dl_pipeline_new(&p, &s, NULL), 0);
  assert_int_equal(dl_pipeline_add_path(p, f->paths[0], NULL), 0);
  assert_int_equal(dl_pipeline_add_path(p, empty, NULL), 0);
  assert_int_equal(dl_pipeline_add_path(p, missing, NULL), 0);
  assert_int_equal(dl_pipeline_add_path(p, f->paths[1], NULL), 0);
  assert_int_equal(dl_pipeline_start(p, NULL), 0);
  dl_pipeline_batch *b;
  assert_int_equal(dl_pipeline_next(p, &b, NULL), 0);
  assert_int_equal(b->items[0].status, 0);
  assert_int_equal(b->items[3].status, 0);
  assert_true(b->items[1].status < 0);
  assert_non_null(strstr(b->items[1].message, "empty.png"));
  assert_int_equal(b->items[2].status, DL_E_IO);
  assert_non_null(strstr(b->items[2].message, "missing.png"));
  const float *rows = b->tensor->ptr;
  for (int i = 0; i < 3 * 10 * 12; i++) {
    assert_true(rows[1 * 360 + i] == 0.0f);
    assert_true(rows[2 * 360 + i] == 0.0f);
  }
  dl_tensor *want = expected_row(f->paths[1], &s);
  assert_memory_equal(rows + 3 * 360, want->ptr, 360 * sizeof(float));
  dl_tensor_release(want);
  dl_pipeline_free(p); /* frees with the batch still out */
}

/* A file over spec.max_bytes (default 1 GiB) fails its row before a byte is
 * read; the sparse file claims 1 GiB + 1 and occupies no disk. */
static void test_files_over_max_bytes_fail_unread(void **state) {
  fixture *f = *state;
  char sparse[160];
  snprintf(sparse, sizeof sparse, "%s/sparse.jpg", f->dir);
  FILE *fp = fopen(sparse, "w");
  assert_int_equal(ftruncate(fileno(fp), DL_IMAGE_DEFAULT_MAX_BYTES + 1LL), 0);
  fclose(fp);
  dl_pipeline_spec s = rgb_spec(2);
  dl_pipeline *p;
  assert_int_equal(dl_pipeline_new(&p, &s, NULL), 0);
  assert_int_equal(dl_pipeline_add_path(p, f->paths[0], NULL), 0);
  assert_int_equal(dl_pipeline_add_path(p, sparse, NULL), 0);
  assert_int_equal(dl_pipeline_start(p, NULL), 0);
  dl_pipeline_batch *b;
  assert_int_equal(dl_pipeline_next(p, &b, NULL), 0);
  assert_int_equal(b->items[0].status, 0);
  assert_int_equal(b->items[1].status, DL_E_TOO_LARGE);
  assert_non_null(strstr(b->items[1].message, "sparse.jpg"));
  assert_non_null(strstr(b->items[1].message, "1073741825 bytes"));
  assert_non_null(strstr(b->items[1].message, "limit of 1073741824"));
  dl_pipeline_free(p);
  unlink(sparse);

  /* A limit of its own: one byte under the first file's size. */
  FILE *first = fopen(f->paths[0], "rb");
  fseek(first, 0, SEEK_END);
  s.max_bytes = ftell(first) - 1;
  fclose(first);
  assert_int_equal(dl_pipeline_new(&p, &s, NULL), 0);
  assert_int_equal(dl_pipeline_add_path(p, f->paths[0], NULL), 0);
  assert_int_equal(dl_pipeline_start(p, NULL), 0);
  assert_int_equal(dl_pipeline_next(p, &b, NULL), 0);
  assert_int_equal(b->items[0].status, DL_E_TOO_LARGE);
  assert_non_null(strstr(b->items[0].message, "max_bytes"));
  dl_pipeline_free(p);
}

static void test_views_of_a_released_batch_are_stale(void **state) {
  fixture *f = *state;
  dl_pipeline_spec s = rgb_spec(2);
  dl_pipeline *p;
  assert_int_equal(dl_pipeline_new(&p, &s, NULL), 0);
  for (int i = 0; i < 6; i++) assert_int_equal(dl_pipeline_add_path(p, f->paths[i], NULL), 0);
  assert_int_equal(dl_pipeline_start(p, NULL), 0);
  dl_pipeline_batch *b;
  assert_int_equal(dl_pipeline_next(p, &b, NULL), 0);
  dl_tensor *row;
  assert_int_equal(dl_tensor_select(&row, b->tensor, 0, 1, NULL), 0);
  assert_int_equal(dl_tensor_check(row, NULL), 0);
  dl_error e;
  dl_pipeline_batch *second;
  assert_int_equal(dl_pipeline_next(p, &second, &e), DL_E_INVAL); /* one batch out at a time */
  assert_null(second);
  assert_int_equal(dl_pipeline_release(p, b, NULL), 0);
  assert_int_equal(dl_tensor_check(row, &e), DL_E_STALE);
  assert_non_null(strstr(e.msg, "recycled"));
  dl_tensor *copy;
  assert_int_equal(dl_tensor_clone(&copy, row, &e), DL_E_STALE); /* ops refuse it too */
  dl_tensor_release(row);
  dl_pipeline_free(p);
}

/* u8 rows in both layouts hold the same pixels as a plain resize. */
static void test_u8_layouts(void **state) {
  fixture *f = *state;
  dl_tensor *img, *want;
  dl_decode_opts o = {.channels = 3, .min_width = 12, .min_height = 10};
  assert_int_equal(dl_image_load(&img, f->paths[3], &o, NULL, NULL), 0);
  assert_int_equal(dl_image_resize(&want, img, 12, 10, DL_RESIZE_BILINEAR, NULL), 0);
  const uint8_t *w = want->ptr;
  for (int layout = DL_LAYOUT_NCHW; layout <= DL_LAYOUT_NHWC; layout++) {
    dl_pipeline_spec s = rgb_spec(1);
    s.dtype = DL_U8;
    s.layout = layout;
    dl_pipeline *p;
    assert_int_equal(dl_pipeline_new(&p, &s, NULL), 0);
    assert_int_equal(dl_pipeline_add_path(p, f->paths[3], NULL), 0);
    assert_int_equal(dl_pipeline_start(p, NULL), 0);
    dl_pipeline_batch *b;
    assert_int_equal(dl_pipeline_next(p, &b, NULL), 0);
    assert_int_equal(b->tensor->dtype, DL_U8);
    const uint8_t *got = b->tensor->ptr;
    for (int y = 0; y < 10; y++)
      for (int x = 0; x < 12; x++)
        for (int c = 0; c < 3; c++) {
          uint8_t v = layout == DL_LAYOUT_NHWC ? got[(y * 12 + x) * 3 + c] : got[c * 120 + y * 12 + x];
          assert_int_equal(v, w[(y * 12 + x) * 3 + c]);
        }
    dl_pipeline_free(p);
  }
  dl_tensor_release(img);
  dl_tensor_release(want);
}

static void test_letterbox_reports_where_the_image_sits(void **state) {
  (void)state;
  /* a 40×10 image into 20×20: scale 0.5, 20×5 inside, 7 or 8 rows of padding above */
  dl_tensor *img = make_image(40, 10, 1);
  dl_tensor *png;
  assert_int_equal(dl_image_encode(&png, img, DL_IMAGE_PNG, 0, NULL), 0);
  dl_pipeline_spec s = {0};
  s.width = s.height = 20;
  s.channels = 3;
  s.dtype = DL_U8;
  s.layout = DL_LAYOUT_NHWC;
  s.fit = DL_FIT_LETTERBOX;
  s.pad_value = 114;
  s.batch_size = 1;
  dl_pipeline *p;
  assert_int_equal(dl_pipeline_new(&p, &s, NULL), 0);
  assert_int_equal(dl_pipeline_add_bytes(p, png->ptr, (size_t)png->numel, NULL), 0);
  dl_tensor_release(png); /* the pipeline keeps its own copy */
  assert_int_equal(dl_pipeline_start(p, NULL), 0);
  dl_pipeline_batch *b;
  assert_int_equal(dl_pipeline_next(p, &b, NULL), 0);
  dl_letterbox lb = b->items[0].letterbox;
  assert_true(lb.scale == 0.5);
  assert_int_equal(lb.width, 20);
  assert_int_equal(lb.height, 5);
  assert_int_equal(lb.x, 0);
  assert_true(lb.y == 7 || lb.y == 8);
  const uint8_t *px = b->tensor->ptr;
  assert_int_equal(px[0], 114);                          /* top-left is padding */
  assert_int_equal(px[(19 * 20 + 19) * 3 + 2], 114);     /* bottom-right too */
  dl_pipeline_free(p);
  dl_tensor_release(img);
}

static void test_workers_prepare_two_batches_ahead(void **state) {
  fixture *f = *state;
  dl_pipeline_spec s = rgb_spec(2);
  s.prefetch = 2; /* buffers for the batch out plus two more */
  dl_pipeline *p;
  assert_int_equal(dl_pipeline_new(&p, &s, NULL), 0);
  char copies[10][160];
  for (int i = 0; i < 10; i++) {
    snprintf(copies[i], sizeof copies[i], "%s/copy%02d.png", f->dir, i);
    assert_int_equal(link(f->paths[i == 7 ? 0 : i], copies[i]), 0);
    assert_int_equal(dl_pipeline_add_path(p, copies[i], NULL), 0);
  }
  assert_int_equal(dl_pipeline_start(p, NULL), 0);
  /* Give the workers time to fill the three buffers, then take the files
   * away: batches 0..2 were read ahead of the consumer, the rest fail. */
  usleep(500 * 1000);
  for (int i = 0; i < 10; i++) unlink(copies[i]);
  dl_pipeline_batch *b;
  for (int k = 0; k < 5; k++) {
    assert_int_equal(dl_pipeline_next(p, &b, NULL), 0);
    for (int r = 0; r < b->n; r++) {
      if (k < 3)
        assert_int_equal(b->items[r].status, 0);
      else
        assert_int_equal(b->items[r].status, DL_E_IO);
    }
    assert_int_equal(dl_pipeline_release(p, b, NULL), 0);
  }
  dl_pipeline_free(p);
}

static void test_empty_pipeline_and_bad_specs(void **state) {
  (void)state;
  dl_pipeline_spec s = rgb_spec(4);
  dl_pipeline *p;
  dl_error e;
  assert_int_equal(dl_pipeline_new(&p, &s, &e), 0);
  assert_int_equal(dl_pipeline_start(p, &e), 0);
  assert_int_equal(dl_pipeline_add_path(p, "x.png", &e), DL_E_CLOSED);
  dl_pipeline_batch *b = (dl_pipeline_batch *)1;
  assert_int_equal(dl_pipeline_next(p, &b, &e), 0);
  assert_null(b);
  dl_pipeline_free(p);

  s.channels = 2;
  assert_int_equal(dl_pipeline_new(&p, &s, &e), DL_E_INVAL);
  assert_non_null(strstr(e.msg, "channels 2"));
  s = rgb_spec(0);
  assert_int_equal(dl_pipeline_new(&p, &s, &e), DL_E_INVAL);
  assert_non_null(strstr(e.msg, "batch_size 0"));
  s = rgb_spec(1);
  s.width = 0;
  assert_int_equal(dl_pipeline_new(&p, &s, &e), DL_E_INVAL);
  s = rgb_spec(1);
  s.dtype = DL_I64;
  assert_int_equal(dl_pipeline_new(&p, &s, &e), DL_E_DTYPE);
  s = rgb_spec(1);
  s.std[1] = -1;
  assert_int_equal(dl_pipeline_new(&p, &s, &e), DL_E_INVAL);
  s = rgb_spec(1);
  s.max_bytes = -1;
  assert_int_equal(dl_pipeline_new(&p, &s, &e), DL_E_INVAL);
  assert_non_null(strstr(e.msg, "max_bytes"));
  assert_null(p);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_batches_come_in_item_order_with_the_right_rows),
      cmocka_unit_test(test_a_bad_item_fails_only_its_row),
      cmocka_unit_test(test_files_over_max_bytes_fail_unread),
      cmocka_unit_test(test_views_of_a_released_batch_are_stale),
      cmocka_unit_test(test_u8_layouts),
      cmocka_unit_test(test_letterbox_reports_where_the_image_sits),
      cmocka_unit_test(test_workers_prepare_two_batches_ahead),
      cmocka_unit_test(test_empty_pipeline_and_bad_specs),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
