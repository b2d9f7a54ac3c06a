/* PNG plots: written atomically, valid PNGs of a sensible size, with the
 * expected colours drawn (decoded back with cairo), and clear errors. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <cairo.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "plot.h"

typedef struct png_stats {
  int width, height;
  int distinct; /* distinct colours, counted up to 4096 */
  long exact;   /* pixels exactly of the colour asked for */
  long dark;    /* near-black grey pixels: text */
} png_stats;

/* Decodes path and counts its colours; fails the test if it is no PNG. */
static png_stats read_png(const char *path, uint32_t rgb) {
  png_stats st = {0};
  cairo_surface_t *s = cairo_image_surface_create_from_png(path);
  assert_int_equal(cairo_surface_status(s), CAIRO_STATUS_SUCCESS);
  st.width = cairo_image_surface_get_width(s);
  st.height = cairo_image_surface_get_height(s);
  int stride = cairo_image_surface_get_stride(s);
  const unsigned char *data = cairo_image_surface_get_data(s);
  static uint32_t seen[4096];
  for (int y = 0; y < st.height; y++)
    for (int x = 0; x < st.width; x++) {
      uint32_t px = ((const uint32_t *)(data + (size_t)y * stride))[x] & 0xFFFFFF;
      int r = px >> 16, g = (px >> 8) & 255, b = px & 255;
      st.exact += px == rgb;
      st.dark += r < 80 && g < 80 && b < 80 && abs(r - b) < 12;
      int known = 0;
      for (int i = 0; i < st.distinct && !known; i++) known = seen[i] == px;
      if (!known && st.distinct < 4096) seen[st.distinct++] = px;
    }
  cairo_surface_destroy(s);
  return st;
}

/* No temp file may be left beside the outputs. */
static void assert_no_temp_files(const char *dir) {
  DIR *d = opendir(dir);
  assert_non_null(d);
  for (struct dirent *e; (e = readdir(d));) assert_null(strstr(e->d_name, ".tmp-"));
  closedir(d);
}

static int make_dir(void **state) {
  static char dir[] = "/tmp/dlrun-plot-test-XXXXXX";
  *state = mkdtemp(dir);
  return *state ? 0 : -1;
}

static int remove_dir(void **state) {
  char cmd[256];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", (char *)*state);
  rt_plot_release_caches();
  return system(cmd);
}

static const char *fashion[] = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};

static void confusion_three_classes(void **state) {
  char path[256];
  snprintf(path, sizeof path, "%s/confusion3.png", (char *)*state);
  const char *labels[] = {"cat", "dog", "bird"};
  /* The bird row is all in one cell: its share is 100%, drawn in the
   * darkest shade, navy (8, 48, 107), over a whole cell but the digit. */
  int64_t counts[] = {5, 1, 0, 2, 3, 1, 0, 0, 5};
  rt_error err;
  assert_int_equal(rt_plot_confusion_png(path, labels, 3, counts, "accuracy 76.5%", &err), 0);
  png_stats st = read_png(path, 0x08306B);
  assert_in_range(st.width, 400, 900);
  assert_in_range(st.height, 300, 900);
  assert_true(st.exact > 1000);
  assert_true(st.dark > 300); /* labels, axis titles, title */
  assert_true(st.distinct > 50);
  assert_no_temp_files(*state);
}

static void confusion_fashion_mnist(void **state) {
  char path3[256], path10[256];
  snprintf(path3, sizeof path3, "%s/small.png", (char *)*state);
  snprintf(path10, sizeof path10, "%s/fashion.png", (char *)*state);
  int64_t counts[100];
  for (int i = 0; i < 100; i++) counts[i] = i % 11 == 0 ? 900 : i % 7;
  rt_error err;
  assert_int_equal(rt_plot_confusion_png(path10, fashion, 10, counts, "Fashion-MNIST", &err), 0);
  assert_int_equal(rt_plot_confusion_png(path3, fashion, 3, counts, "three", &err), 0);
  png_stats big = read_png(path10, 0), small = read_png(path3, 0);
  assert_true(big.width > small.width);
  assert_true(big.height > small.height);
  assert_in_range(big.width, 500, 1400);
  assert_true(big.dark > small.dark);
  /* Writing again replaces the file in place. */
  assert_int_equal(rt_plot_confusion_png(path10, fashion, 10, counts, "again", &err), 0);
  assert_no_temp_files(*state);
}

static void pr_curve_two_series(void **state) {
  char path[256];
  snprintf(path, sizeof path, "%s/pr.png", (char *)*state);
  /* A flat line at precision 0.5 and a vertical one at recall 0.5: both run
   * along pixel rows or columns, so their colours appear exactly. */
  double x_flat[] = {0, 1}, y_flat[] = {0.5, 0.5};
  double x_up[] = {0.5, 0.5}, y_up[] = {0, 1};
  rt_plot_series series[] = {{"cat (AP 0.500)", x_flat, y_flat, 2}, {"dog (AP 0.250)", x_up, y_up, 2}};
  rt_error err;
  assert_int_equal(rt_plot_pr_curve_png(path, series, 2, "box: mAP@0.5 0.375", &err), 0);
  png_stats blue = read_png(path, 0x1F77B4), orange = read_png(path, 0xFF7F0E);
  assert_in_range(blue.width, 480, 1200);
  assert_in_range(blue.height, 400, 900);
  assert_true(blue.exact > 400); /* 0.5 of the plot's width, 2 px thick */
  assert_true(orange.exact > 400);
  assert_true(blue.dark > 300);
  assert_no_temp_files(*state);
}

static void bad_input_gives_clear_errors(void **state) {
  char path[256];
  rt_error err;
  const char *labels[] = {"a", NULL};
  int64_t counts[] = {1, 0, 0, 1}, negative[] = {1, -1, 0, 1};
  snprintf(path, sizeof path, "%s/no/such/dir/x.png", (char *)*state);
  assert_int_equal(rt_plot_confusion_png(path, fashion, 2, counts, NULL, &err), -1);
  assert_non_null(strstr(err.msg, "no/such/dir/x.png"));
  snprintf(path, sizeof path, "%s/bad.png", (char *)*state);
  assert_int_equal(rt_plot_confusion_png(path, labels, 2, counts, NULL, &err), -1);
  assert_non_null(strstr(err.msg, "label 1 is NULL"));
  assert_int_equal(rt_plot_confusion_png(path, fashion, 2, negative, NULL, &err), -1);
  assert_non_null(strstr(err.msg, "row 0, column 1 is negative"));
  assert_int_equal(rt_plot_confusion_png(path, fashion, 0, counts, NULL, &err), -1);
  rt_plot_series broken = {"cat", NULL, NULL, 3};
  assert_int_equal(rt_plot_pr_curve_png(path, &broken, 1, NULL, &err), -1);
  assert_non_null(strstr(err.msg, "series 0 ('cat')"));
  assert_int_equal(access(path, F_OK), -1);
  assert_no_temp_files(*state);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(confusion_three_classes),
      cmocka_unit_test(confusion_fashion_mnist),
      cmocka_unit_test(pr_curve_two_series),
      cmocka_unit_test(bad_input_gives_clear_errors),
  };
  return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
