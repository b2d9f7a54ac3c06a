/* Every file in tests/data/bad/ fails to decode with a fitting code and a
 * message that names the file, from a file and from memory, without
 * crashing (the asan build checks memory too). */
#include "test_image_util.h"

#include <sys/stat.h>
#include <unistd.h>

typedef struct bad_case {
  const char *name;
  int code;
  const char *words; /* a phrase the message must hold */
} bad_case;

static const bad_case cases[] = {
    {"truncated.jpg", DL_E_DECODE, "Premature end of JPEG file"},
    {"truncated.png", DL_E_DECODE, "PNG"},
    {"empty.jpg", DL_E_FORMAT, "empty"},
    {"text.jpg", DL_E_FORMAT, "not a JPEG or PNG"},
    {"huge.png", DL_E_TOO_LARGE, "100000 x 100000"},
    {"huge.jpg", DL_E_TOO_LARGE, "60000 x 60000"},
    {"bad_crc.png", DL_E_DECODE, "PNG"},
    {"short_data.jpg", DL_E_DECODE, "premature end of data segment"},
};

static void bad_files_fail_cleanly(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char path[128];
    snprintf(path, sizeof path, BAD "%s", cases[i].name);
    dl_tensor *t = (dl_tensor *)&t;
    dl_error e = {0};
    int rc = dl_image_load(&t, path, NULL, NULL, &e);
    if (rc != cases[i].code)
      fail_msg("%s: got %s (%s), want %s", path, dl_err_name(rc), e.msg, dl_err_name(cases[i].code));
    assert_null(t);
    assert_int_equal(e.code, rc);
    if (!strstr(e.msg, path)) fail_msg("%s: message does not name the file: %s", path, e.msg);
    if (!strstr(e.msg, cases[i].words)) fail_msg("%s: message lacks '%s': %s", path, cases[i].words, e.msg);

    /* From memory the same code, and no file name. */
    FILE *f = fopen(path, "rb");
    unsigned char buf[8192];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    rc = dl_image_decode(&t, buf, n, NULL, NULL, &e);
    assert_int_equal(rc, cases[i].code);
    assert_null(strstr(e.msg, "file '"));
  }
}

static void missing_file(void **state) {
  (void)state;
  dl_tensor *t;
  dl_error e;
  dl_image_info info;
  assert_int_equal(dl_image_load(&t, BAD "no-such-file.png", NULL, NULL, &e), DL_E_IO);
  assert_non_null(strstr(e.msg, "no-such-file.png"));
  assert_non_null(strstr(e.msg, "No such file"));
  assert_int_equal(dl_image_probe_file(BAD "no-such-file.png", &info, &e), DL_E_IO);
  assert_int_equal(dl_image_load(&t, "tests/data", NULL, NULL, &e), DL_E_IO);
  assert_non_null(strstr(e.msg, "is a directory"));
  assert_int_equal(dl_image_load(&t, "/dev/null", NULL, NULL, &e), DL_E_IO);
  assert_non_null(strstr(e.msg, "not a regular file"));
  assert_int_equal(dl_image_probe_file(BAD "text.jpg", &info, &e), DL_E_FORMAT);
}

/* A file over max_bytes (default 1 GiB) is refused before a byte is read:
 * the sparse file below claims 1 GiB + 1 and occupies no disk. */
static void files_over_the_byte_limit_are_refused_unread(void **state) {
  (void)state;
  char sparse[] = "/tmp/dlrun-sparse-XXXXXX.jpg";
  int fd = mkstemps(sparse, 4);
  assert_true(fd >= 0);
  assert_int_equal(ftruncate(fd, DL_IMAGE_DEFAULT_MAX_BYTES + 1LL), 0);
  close(fd);
  dl_tensor *t = (dl_tensor *)&t;
  dl_error e;
  assert_int_equal(dl_image_load(&t, sparse, NULL, NULL, &e), DL_E_TOO_LARGE);
  assert_null(t);
  assert_non_null(strstr(e.msg, sparse));
  assert_non_null(strstr(e.msg, "1073741825 bytes"));
  assert_non_null(strstr(e.msg, "limit of 1073741824"));
  unlink(sparse);

  /* A limit of its own: rgb.jpg's size passes, one byte less fails. */
  struct stat st;
  assert_int_equal(stat(IMAGES "rgb.jpg", &st), 0);
  dl_decode_opts o = {.max_bytes = st.st_size - 1};
  assert_int_equal(dl_image_load(&t, IMAGES "rgb.jpg", &o, NULL, &e), DL_E_TOO_LARGE);
  assert_non_null(strstr(e.msg, "max_bytes"));
  o.max_bytes = st.st_size;
  assert_int_equal(dl_image_load(&t, IMAGES "rgb.jpg", &o, NULL, &e), DL_OK);
  dl_tensor_release(t);
  o.max_bytes = -1;
  assert_int_equal(dl_image_load(&t, IMAGES "rgb.jpg", &o, NULL, &e), DL_E_INVAL);
  assert_non_null(strstr(e.msg, "max_bytes"));
}

/* Every prefix of a good JPEG and PNG either decodes or fails cleanly. */
static void every_truncation(void **state) {
  (void)state;
  static const char *names[] = {IMAGES "progressive.jpg", IMAGES "palette_trns.png"};
  for (int k = 0; k < 2; k++) {
    FILE *f = fopen(names[k], "rb");
    unsigned char buf[4096];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    int failures = 0;
    for (size_t len = 0; len < n; len++) {
      dl_tensor *t;
      int rc = dl_image_decode(&t, buf, len, NULL, NULL, NULL);
      if (rc == DL_OK) {
        dl_tensor_release(t);
      } else {
        failures++;
        assert_true(rc == DL_E_DECODE || rc == DL_E_FORMAT);
      }
    }
    /* Only the trailer (e.g. the EOI marker, IEND) may be missing and still decode. */
    assert_true(failures >= (int)n - 16);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(bad_files_fail_cleanly),
      cmocka_unit_test(missing_file),
      cmocka_unit_test(files_over_the_byte_limit_are_refused_unread),
      cmocka_unit_test(every_truncation),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
