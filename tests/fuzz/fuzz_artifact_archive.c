/* libFuzzer target: extracting artifact archives (runtime/artifact_archive.c).
 * libarchive parses the bytes; our code decides what each entry may create.
 * Each run extracts into a fresh folder at the bottom of a chain of folders
 * and then checks that nothing appeared anywhere else in the chain, that a
 * failure says why, and that after a success every link resolves inside. */
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "artifact_archive.h"
#include "fsutil.h"
#include "support.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The chain: scratch/in.archive beside scratch/up1/.../up6/out. Six levels
 * catch a climb of up to six ".." (one more reaches the scratch folder). */
#define LEVELS 6

/* Checks that dir holds only the entry `only` (and `also`, when not NULL). */
static void expect_only(const char *dir, const char *only, const char *also) {
  DIR *d = opendir(dir);
  FUZZ_CHECK(d != NULL, "cannot list %s", dir);
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    const char *n = e->d_name;
    if (!strcmp(n, ".") || !strcmp(n, "..")) continue;
    FUZZ_CHECK(!strcmp(n, only) || (also && !strcmp(n, also)), "'%s/%s' was written outside the folder", dir,
               n);
  }
  closedir(d);
}

/* Checks that every link under out resolves to a path inside it. */
static void expect_links_inside(const char *out) {
  char root[PATH_MAX], full[RT_PATH_MAX], real[PATH_MAX];
  FUZZ_CHECK(realpath(out, root) != NULL, "cannot resolve %s", out);
  size_t n = strlen(root);
  rt_strlist l = {0};
  rt_error err;
  FUZZ_CHECK(rt_fs_list_tree(out, &l, &err) == 0, "%s", err.msg);
  for (size_t i = 0; i < l.n; i++) {
    struct stat st;
    rt_fs_path(full, NULL, "%s/%s", out, l.v[i]);
    if (lstat(full, &st) < 0 || !S_ISLNK(st.st_mode)) continue;
    FUZZ_CHECK(realpath(full, real) != NULL, "link '%s' does not resolve", l.v[i]);
    FUZZ_CHECK(!strncmp(real, root, n) && (real[n] == '/' || real[n] == '\0'), "link '%s' resolves to %s",
               l.v[i], real);
  }
  rt_strlist_free(&l);
}

/* libarchive refuses a tar header whose checksum is wrong, so nearly every
 * mutation of a header would only reach that check. Rewrites the checksum
 * of each header of a ustar stream, so mutated names, types, sizes and link
 * targets reach our code; the walk stops at the first unreadable size. */
static void fix_tar_checksums(uint8_t *p, size_t size) {
  size_t at = 0;
  while (size - at >= 512 && !memcmp(p + at + 257, "ustar", 5)) {
    uint8_t *h = p + at;
    memset(h + 148, ' ', 8);
    unsigned sum = 0;
    for (int i = 0; i < 512; i++) sum += h[i];
    char field[13];
    snprintf(field, 8, "%06o", sum);
    memcpy(h + 148, field, 7); /* six digits and a NUL, then the space */
    memcpy(field, h + 124, 12);
    field[12] = '\0';
    char *end;
    unsigned long long n = strtoull(field, &end, 8);
    if (end == field || n > size) break;
    size_t blocks = (size_t)(n + 511) / 512;
    if (blocks >= (size - at) / 512) break;
    at += 512 * (blocks + 1);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *scratch = fuzz_scratch();
  char archive[RT_PATH_MAX], out[RT_PATH_MAX], level[LEVELS + 1][RT_PATH_MAX], name[16];
  rt_fs_path(archive, NULL, "%s/in.archive", scratch);
  uint8_t *bytes = malloc(size ? size : 1);
  FUZZ_CHECK(bytes != NULL, "out of memory");
  if (size) memcpy(bytes, data, size);
  fix_tar_checksums(bytes, size);
  fuzz_put(archive, bytes, size);
  free(bytes);
  rt_fs_path(level[0], NULL, "%s", scratch);
  for (int i = 1; i <= LEVELS; i++) rt_fs_path(level[i], NULL, "%s/up%d", level[i - 1], i);
  rt_fs_path(out, NULL, "%s/out", level[LEVELS]);
  rt_error err = {{0}};
  FUZZ_CHECK(rt_fs_mkdir_p(out, &err) == 0, "%s", err.msg);

  if (rt_archive_extract_into(archive, out, &err) == 0)
    expect_links_inside(out);
  else
    fuzz_expect_error(&err);

  expect_only(level[0], "up1", "in.archive");
  for (int i = 1; i < LEVELS; i++) {
    snprintf(name, sizeof name, "up%d", i + 1);
    expect_only(level[i], name, NULL);
  }
  expect_only(level[LEVELS], "out", NULL);
  fuzz_remove(level[1]);
  return 0;
}
