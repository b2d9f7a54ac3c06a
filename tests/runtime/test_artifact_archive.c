/* Tests for runtime/artifact_archive.c: real tar.gz archives, including
 * hostile ones crafted here with libarchive's writer. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "artifact_archive.h"
#include "sha256.h"
#include "runtime/tmpdir.h"

static int setup(void **state) {
  static char dir[RT_PATH_MAX];
  if (tmpdir_make(dir) < 0) return -1;
  *state = dir;
  return 0;
}

static int teardown(void **state) {
  tmpdir_remove(*state);
  return 0;
}

/* One entry of a crafted archive. */
typedef struct crafted {
  const char *name;
  int type;             /* AE_IFREG, AE_IFDIR, AE_IFLNK, AE_IFCHR, AE_IFIFO */
  const char *text;     /* file content, or the symlink target */
  const char *hardlink; /* for a hard link entry */
} crafted;

static void write_crafted(const char *path, const crafted *entries, size_t n) {
  struct archive *a = archive_write_new();
  assert_int_equal(archive_write_add_filter_gzip(a), ARCHIVE_OK);
  assert_int_equal(archive_write_set_format_pax_restricted(a), ARCHIVE_OK);
  assert_int_equal(archive_write_open_filename(a, path), ARCHIVE_OK);
  for (size_t i = 0; i < n; i++) {
    struct archive_entry *e = archive_entry_new();
    archive_entry_set_pathname(e, entries[i].name);
    archive_entry_set_filetype(e, (unsigned)entries[i].type);
    archive_entry_set_perm(e, 0644);
    if (entries[i].hardlink) archive_entry_set_hardlink(e, entries[i].hardlink);
    if (entries[i].type == AE_IFLNK) archive_entry_set_symlink(e, entries[i].text);
    if (entries[i].type == AE_IFCHR) archive_entry_set_rdev(e, makedev(1, 3));
    size_t len = entries[i].type == AE_IFREG && entries[i].text ? strlen(entries[i].text) : 0;
    archive_entry_set_size(e, (la_int64_t)len);
    assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
    if (len) assert_int_equal(archive_write_data(a, entries[i].text, len), (la_ssize_t)len);
    archive_entry_free(e);
  }
  assert_int_equal(archive_write_close(a), ARCHIVE_OK);
  archive_write_free(a);
}

static void make_tree(const char *root) {
  char p[RT_PATH_MAX];
  rt_error err;
  assert_int_equal(rt_fs_mkdir_p(root, &err), 0);
  rt_fs_path(p, NULL, "%s/weights.bin", root);
  char bin[3000];
  for (size_t i = 0; i < sizeof bin; i++) bin[i] = (char)(i % 251);
  assert_int_equal(rt_fs_write_atomic(p, bin, sizeof bin, &err), 0);
  rt_fs_path(p, NULL, "%s/config/labels.txt", root);
  assert_int_equal(tmpdir_put(p, "cat\ndog\n"), 0);
  rt_fs_path(p, NULL, "%s/bin/run.sh", root);
  assert_int_equal(tmpdir_put(p, "#!/bin/sh\n"), 0);
  assert_int_equal(chmod(p, 0755), 0);
  rt_fs_path(p, NULL, "%s/empty", root);
  assert_int_equal(rt_fs_mkdir_p(p, &err), 0);
  rt_fs_path(p, NULL, "%s/config/current", root);
  assert_int_equal(symlink("labels.txt", p), 0);
}

static void test_pack_and_extract_round_trip(void **state) {
  const char *dir = *state;
  char src[RT_PATH_MAX], tgz[RT_PATH_MAX], out[RT_PATH_MAX], p[RT_PATH_MAX];
  rt_error err;
  rt_fs_path(src, NULL, "%s/src", dir);
  make_tree(src);
  rt_fs_path(tgz, NULL, "%s/v1.tar.gz", dir);
  assert_int_equal(rt_archive_pack(src, tgz, &err), 0);
  rt_fs_path(out, NULL, "%s/out", dir);
  assert_int_equal(rt_fs_mkdir_p(out, &err), 0);
  assert_int_equal(rt_archive_extract_into(tgz, out, &err), 0);

  rt_strlist a = {0}, b = {0};
  assert_int_equal(rt_fs_list_tree(src, &a, &err), 0);
  assert_int_equal(rt_fs_list_tree(out, &b, &err), 0);
  assert_int_equal(a.n, b.n);
  for (size_t i = 0; i < a.n; i++) assert_string_equal(a.v[i], b.v[i]);
  rt_strlist_free(&a);
  rt_strlist_free(&b);

  char h1[RT_SHA256_HEX], h2[RT_SHA256_HEX];
  rt_fs_path(p, NULL, "%s/weights.bin", src);
  assert_int_equal(rt_sha256_file(p, h1, &err), 0);
  rt_fs_path(p, NULL, "%s/weights.bin", out);
  assert_int_equal(rt_sha256_file(p, h2, &err), 0);
  assert_string_equal(h1, h2);
  struct stat st;
  rt_fs_path(p, NULL, "%s/bin/run.sh", out);
  assert_int_equal(stat(p, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0755);
  char target[64] = {0};
  rt_fs_path(p, NULL, "%s/config/current", out);
  assert_int_equal(readlink(p, target, sizeof target - 1), 10);
  assert_string_equal(target, "labels.txt");
  rt_fs_path(p, NULL, "%s/empty", out);
  assert_true(rt_fs_is_dir(p));
}

static void test_pack_is_deterministic(void **state) {
  const char *dir = *state;
  char src[RT_PATH_MAX], t1[RT_PATH_MAX], t2[RT_PATH_MAX], p[RT_PATH_MAX];
  rt_error err;
  rt_fs_path(src, NULL, "%s/src", dir);
  make_tree(src);
  rt_fs_path(t1, NULL, "%s/a.tar.gz", dir);
  rt_fs_path(t2, NULL, "%s/b.tar.gz", dir);
  assert_int_equal(rt_archive_pack(src, t1, &err), 0);
  /* New times on every file must not change the bytes. */
  rt_fs_path(p, NULL, "%s/weights.bin", src);
  struct timespec later[2] = {{.tv_sec = 2000000000}, {.tv_sec = 2000000000}};
  assert_int_equal(utimensat(AT_FDCWD, p, later, 0), 0);
  assert_int_equal(rt_archive_pack(src, t2, &err), 0);
  char h1[RT_SHA256_HEX], h2[RT_SHA256_HEX];
  assert_int_equal(rt_sha256_file(t1, h1, &err), 0);
  assert_int_equal(rt_sha256_file(t2, h2, &err), 0);
  assert_string_equal(h1, h2);
}

static void test_pack_refuses_links_out_and_special_files(void **state) {
  const char *dir = *state;
  char src[RT_PATH_MAX], tgz[RT_PATH_MAX], p[RT_PATH_MAX];
  rt_error err;
  rt_fs_path(src, NULL, "%s/src", dir);
  rt_fs_path(tgz, NULL, "%s/out.tar.gz", dir);
  rt_fs_path(p, NULL, "%s/sub/up", src);
  assert_int_equal(tmpdir_put(p, "x"), 0);
  assert_int_equal(unlink(p), 0);
  assert_int_equal(symlink("../../etc", p), 0);
  assert_int_equal(rt_archive_pack(src, tgz, &err), -1);
  assert_non_null(strstr(err.msg, "sub/up"));
  assert_non_null(strstr(err.msg, "outside"));
  assert_false(rt_fs_exists(tgz));
  assert_int_equal(unlink(p), 0);
  assert_int_equal(symlink("/etc/passwd", p), 0);
  assert_int_equal(rt_archive_pack(src, tgz, &err), -1);
  assert_non_null(strstr(err.msg, "/etc/passwd"));
  assert_int_equal(unlink(p), 0);
  assert_int_equal(mkfifo(p, 0644), 0);
  assert_int_equal(rt_archive_pack(src, tgz, &err), -1);
  assert_non_null(strstr(err.msg, "sub/up"));
  assert_false(rt_fs_exists(tgz));
  assert_int_equal(tmpdir_count_names(dir, ".tmp-"), 0);
}

/* Extracts a crafted archive into a fresh folder inside dir/jail and checks
 * that it fails naming `needle` and that nothing appeared beside the jail. */
static void expect_refused(const char *dir, const crafted *entries, size_t n, const char *needle) {
  char tgz[RT_PATH_MAX], jail[RT_PATH_MAX], out[RT_PATH_MAX];
  rt_error err;
  rt_fs_path(tgz, NULL, "%s/evil.tar.gz", dir);
  write_crafted(tgz, entries, n);
  rt_fs_path(jail, NULL, "%s/jail", dir);
  rt_fs_path(out, NULL, "%s/jail/work/model", dir);
  assert_int_equal(rt_fs_mkdir_p(out, &err), 0);
  err.msg[0] = '\0';
  assert_int_equal(rt_archive_extract_into(tgz, out, &err), -1);
  if (!strstr(err.msg, needle)) fail_msg("error '%s' does not name '%s'", err.msg, needle);
  /* The failed extraction may leave a partial tree in its own folder (the
   * caller removes it), but nothing anywhere else. */
  rt_strlist l = {0};
  assert_int_equal(rt_fs_list_tree(jail, &l, &err), 0);
  for (size_t i = 0; i < l.n; i++)
    if (strcmp(l.v[i], "work") && strncmp(l.v[i], "work/model", 10)) fail_msg("'%s' escaped", l.v[i]);
  rt_strlist_free(&l);
  assert_int_equal(tmpdir_count_names(dir, "evil-"), 0);
  tmpdir_remove(jail);
}

static void test_extract_refuses_absolute_and_dotdot_entries(void **state) {
  const char *dir = *state;
  const crafted absolute[] = {{"ok.txt", AE_IFREG, "fine", NULL}, {"/tmp/evil-abs", AE_IFREG, "x", NULL}};
  expect_refused(dir, absolute, 2, "'/tmp/evil-abs' has an absolute path");
  const crafted dotdot[] = {{"../evil-up", AE_IFREG, "x", NULL}};
  expect_refused(dir, dotdot, 1, "'../evil-up' has a '..' component");
  const crafted deep[] = {{"a/b/../../../evil-deep", AE_IFREG, "x", NULL}};
  expect_refused(dir, deep, 1, "a/b/../../../evil-deep");
}

static void test_extract_refuses_links_that_escape(void **state) {
  const char *dir = *state;
  const crafted abs_link[] = {{"escaped", AE_IFLNK, "/etc", NULL}};
  expect_refused(dir, abs_link, 1, "link 'escaped' points to the absolute path '/etc'");
  const crafted up_link[] = {{"sub/escaped", AE_IFLNK, "../../..", NULL}};
  expect_refused(dir, up_link, 1, "link 'sub/escaped' points to '../../..', outside");
  /* Each link alone stays inside, but a/.. through b = "." leaves the root. */
  const crafted chain[] = {{"b", AE_IFLNK, ".", NULL}, {"escaped", AE_IFLNK, "b/..", NULL}};
  expect_refused(dir, chain, 2, "resolves outside");
  /* A link created through an earlier one: x leads out, so x/evil-through
   * would land outside; the folder x is made first instead, and x fails. */
  const crafted through_link[] = {
      {"b", AE_IFLNK, ".", NULL}, {"x", AE_IFLNK, "b/..", NULL}, {"x/evil-through", AE_IFLNK, ".", NULL}};
  expect_refused(dir, through_link, 3, "cannot create link 'x'");
  const crafted dangling[] = {{"escaped", AE_IFLNK, "missing/file", NULL}};
  expect_refused(dir, dangling, 1, "does not resolve");
  const crafted hard_up[] = {{"escaped", AE_IFREG, NULL, "../evil-target"}};
  expect_refused(dir, hard_up, 1, "'../evil-target' has a '..' component");
  const crafted hard_abs[] = {{"escaped", AE_IFREG, NULL, "/etc/passwd"}};
  expect_refused(dir, hard_abs, 1, "'/etc/passwd' has an absolute path");
  /* A file written under a link's name must not be redirected later. */
  const crafted through[] = {
      {"d", AE_IFLNK, "inner", NULL}, {"inner/x", AE_IFREG, "x", NULL}, {"d/y", AE_IFREG, "y", NULL}};
  expect_refused(dir, through, 3, "cannot create link 'd'");
}

static void test_extract_refuses_devices_and_fifos(void **state) {
  const char *dir = *state;
  const crafted dev[] = {{"dev/null", AE_IFCHR, NULL, NULL}};
  expect_refused(dir, dev, 1, "'dev/null' is a device file");
  const crafted fifo[] = {{"pipe", AE_IFIFO, NULL, NULL}};
  expect_refused(dir, fifo, 1, "'pipe' is not a file, folder or link");
}

static void test_extract_accepts_inside_links_and_dot_names(void **state) {
  const char *dir = *state;
  char tgz[RT_PATH_MAX], out[RT_PATH_MAX], p[RT_PATH_MAX];
  rt_error err;
  const crafted good[] = {{"./", AE_IFDIR, NULL, NULL},
                          {"./blobs/abc", AE_IFREG, "weights", NULL},
                          {"snap/v1/model.bin", AE_IFLNK, "../../blobs/abc", NULL},
                          {"copy.bin", AE_IFREG, NULL, "blobs/abc"}};
  rt_fs_path(tgz, NULL, "%s/good.tar.gz", dir);
  write_crafted(tgz, good, 4);
  rt_fs_path(out, NULL, "%s/out", dir);
  assert_int_equal(rt_fs_mkdir_p(out, &err), 0);
  assert_int_equal(rt_archive_extract_into(tgz, out, &err), 0);
  rt_fs_path(p, NULL, "%s/snap/v1/model.bin", out);
  char *text = tmpdir_get(p);
  assert_string_equal(text, "weights");
  free(text);
  rt_fs_path(p, NULL, "%s/copy.bin", out);
  text = tmpdir_get(p);
  assert_string_equal(text, "weights");
  free(text);
}

static void test_damaged_archives_are_reported(void **state) {
  const char *dir = *state;
  char src[RT_PATH_MAX], tgz[RT_PATH_MAX], cut[RT_PATH_MAX], out[RT_PATH_MAX];
  rt_error err;
  rt_fs_path(src, NULL, "%s/src", dir);
  make_tree(src);
  rt_fs_path(tgz, NULL, "%s/v1.tar.gz", dir);
  assert_int_equal(rt_archive_pack(src, tgz, &err), 0);
  char *data;
  size_t len;
  assert_int_equal(rt_fs_read_file(tgz, &data, &len, &err), 0);
  rt_fs_path(cut, NULL, "%s/cut.tar.gz", dir);
  assert_int_equal(rt_fs_write_atomic(cut, data, len / 2, &err), 0);
  free(data);
  rt_fs_path(out, NULL, "%s/out", dir);
  assert_int_equal(rt_fs_mkdir_p(out, &err), 0);
  assert_int_equal(rt_archive_extract_into(cut, out, &err), -1);
  assert_non_null(strstr(err.msg, "cut.tar.gz"));

  rt_fs_path(cut, NULL, "%s/notes.txt", dir);
  assert_int_equal(tmpdir_put(cut, "this is not an archive at all\n"), 0);
  assert_int_equal(rt_archive_extract_into(cut, out, &err), -1);
  assert_non_null(strstr(err.msg, "notes.txt"));
  rt_fs_path(cut, NULL, "%s/absent.tar.gz", dir);
  assert_int_equal(rt_archive_extract_into(cut, out, &err), -1);
  assert_non_null(strstr(err.msg, "absent.tar.gz"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_pack_and_extract_round_trip, setup, teardown),
      cmocka_unit_test_setup_teardown(test_pack_is_deterministic, setup, teardown),
      cmocka_unit_test_setup_teardown(test_pack_refuses_links_out_and_special_files, setup, teardown),
      cmocka_unit_test_setup_teardown(test_extract_refuses_absolute_and_dotdot_entries, setup, teardown),
      cmocka_unit_test_setup_teardown(test_extract_refuses_links_that_escape, setup, teardown),
      cmocka_unit_test_setup_teardown(test_extract_refuses_devices_and_fifos, setup, teardown),
      cmocka_unit_test_setup_teardown(test_extract_accepts_inside_links_and_dot_names, setup, teardown),
      cmocka_unit_test_setup_teardown(test_damaged_archives_are_reported, setup, teardown),
  };
  return cmocka_run_group_tests_name("artifact_archive", tests, NULL, NULL);
}
