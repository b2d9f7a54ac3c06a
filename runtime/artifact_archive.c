/* Packing and safe extraction of artifact archives with libarchive, which
 * is loaded on first use (lib_archive.h). */
#include "artifact_archive.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"
#include "lib_archive.h"

/* True if target, read relative to the folder holding the entry rel (both
 * relative to the root), climbs above the root. */
static int climbs_out(const char *rel, const char *target) {
  int depth = 0;
  for (const char *p = rel; *p; p++) depth += *p == '/';
  const char *p = target;
  while (*p) {
    size_t n = strcspn(p, "/");
    if (n == 2 && p[0] == '.' && p[1] == '.') {
      if (--depth < 0) return 1;
    } else if (n > 0 && !(n == 1 && p[0] == '.')) {
      depth++;
    }
    p += n;
    p += *p == '/';
  }
  return 0;
}

/* ---- pack ---- */

/* Adds one file system object to the archive; rel is its path under dir. */
static int pack_one(struct archive *a, const char *dir, const char *rel, rt_error *err) {
  char full[RT_PATH_MAX];
  if (rt_fs_path(full, err, "%s/%s", dir, rel) < 0) return -1;
  struct stat st;
  if (lstat(full, &st) < 0) return rt_fail(err, "cannot pack %s: %s", full, strerror(errno));
  char target[RT_PATH_MAX];
  if (S_ISLNK(st.st_mode)) {
    ssize_t n = readlink(full, target, sizeof target - 1);
    if (n < 0) return rt_fail(err, "cannot read link %s: %s", full, strerror(errno));
    target[n] = '\0';
    if (target[0] == '/' || climbs_out(rel, target))
      return rt_fail(err, "cannot pack %s: it links to '%s', outside the folder being saved", full, target);
  } else if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
    return rt_fail(err, "cannot pack %s: only files, folders and links can be saved", full);
  }

  struct archive_entry *e = rt_libarchive.entry_new();
  if (!e) return rt_fail(err, "cannot pack %s: out of memory", full);
  rt_libarchive.entry_set_pathname(e, rel);
  rt_libarchive.entry_set_perm(e, st.st_mode & 0777);
  rt_libarchive.entry_set_mtime(e, 0, 0);
  rt_libarchive.entry_set_uid(e, 0);
  rt_libarchive.entry_set_gid(e, 0);
  int fd = -1, rc = 0;
  if (S_ISDIR(st.st_mode)) {
    rt_libarchive.entry_set_filetype(e, AE_IFDIR);
  } else if (S_ISLNK(st.st_mode)) {
    rt_libarchive.entry_set_filetype(e, AE_IFLNK);
    rt_libarchive.entry_set_symlink(e, target);
  } else {
    rt_libarchive.entry_set_filetype(e, AE_IFREG);
    rt_libarchive.entry_set_size(e, st.st_size);
    fd = open(full, O_RDONLY | O_CLOEXEC);
    if (fd < 0) rc = rt_fail(err, "cannot open %s: %s", full, strerror(errno));
  }
  if (rc == 0 && rt_libarchive.write_header(a, e) != ARCHIVE_OK)
    rc = rt_fail(err, "cannot pack %s: %s", full, rt_libarchive.error_string(a));
  if (rc == 0 && fd >= 0) {
    char buf[1 << 16];
    off_t total = 0;
    for (;;) {
      ssize_t r = read(fd, buf, sizeof buf);
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) {
        rc = rt_fail(err, "cannot read %s: %s", full, strerror(errno));
        break;
      }
      if (r == 0) break;
      if (rt_libarchive.write_data(a, buf, (size_t)r) != r) {
        rc = rt_fail(err, "cannot pack %s: %s", full, rt_libarchive.error_string(a));
        break;
      }
      total += r;
    }
    if (rc == 0 && total != st.st_size)
      rc = rt_fail(err, "cannot pack %s: it changed size while being saved", full);
  }
  if (fd >= 0) close(fd);
  rt_libarchive.entry_free(e);
  return rc;
}

int rt_archive_pack(const char *dir, const char *out_path, rt_error *err) {
  if (rt_libarchive_load(err) < 0) return -1;
  rt_strlist entries = {0};
  if (rt_fs_list_tree(dir, &entries, err) < 0) {
    rt_strlist_free(&entries);
    return -1;
  }
  char tmp[RT_PATH_MAX];
  int fd = rt_fs_open_temp(out_path, tmp, err);
  if (fd < 0) {
    rt_strlist_free(&entries);
    return -1;
  }
  struct archive *a = rt_libarchive.write_new();
  int rc = 0;
  if (!a || rt_libarchive.write_add_filter_gzip(a) != ARCHIVE_OK ||
      rt_libarchive.write_set_format_pax_restricted(a) != ARCHIVE_OK ||
      rt_libarchive.write_set_filter_option(a, "gzip", "timestamp", NULL) != ARCHIVE_OK ||
      rt_libarchive.write_open_fd(a, fd) != ARCHIVE_OK)
    rc = rt_fail(err, "cannot start the archive %s: %s", out_path,
                 a ? rt_libarchive.error_string(a) : "out of memory");
  for (size_t i = 0; rc == 0 && i < entries.n; i++) rc = pack_one(a, dir, entries.v[i], err);
  if (rc == 0 && rt_libarchive.write_close(a) != ARCHIVE_OK)
    rc = rt_fail(err, "cannot finish the archive %s: %s", out_path, rt_libarchive.error_string(a));
  rt_libarchive.write_free(a);
  rt_strlist_free(&entries);
  if (rc < 0) {
    close(fd);
    unlink(tmp);
    return -1;
  }
  return rt_fs_commit_temp(fd, tmp, out_path, err);
}

/* ---- extract ---- */

/* Turns an entry name into a clean relative path in out (RT_PATH_MAX):
 * "./a//b/" becomes "a/b"; absolute names and ".." are refused. An empty
 * result names the root itself. */
static int clean_name(const char *archive, const char *name, char *out, rt_error *err) {
  if (!name) return rt_fail(err, "archive %s has an entry without a name", archive);
  if (name[0] == '/') return rt_fail(err, "archive %s: entry '%s' has an absolute path", archive, name);
  size_t len = 0;
  const char *p = name;
  while (*p) {
    size_t n = strcspn(p, "/");
    if (n == 2 && p[0] == '.' && p[1] == '.')
      return rt_fail(err, "archive %s: entry '%s' has a '..' component", archive, name);
    if (n > 0 && !(n == 1 && p[0] == '.')) {
      if (len + n + 2 > RT_PATH_MAX)
        return rt_fail(err, "archive %s: entry '%.80s...' is too long", archive, name);
      if (len) out[len++] = '/';
      memcpy(out + len, p, n);
      len += n;
    }
    p += n;
    p += *p == '/';
  }
  out[len] = '\0';
  return 0;
}

/* Creates the parent folders of full (a path under the root). */
static int make_parent(const char *full, rt_error *err) {
  char parent[RT_PATH_MAX];
  strcpy(parent, full);
  char *slash = strrchr(parent, '/');
  if (slash) *slash = '\0';
  return rt_fs_mkdir_p(parent, err);
}

/* Writes the current entry's data to a new file at full. */
static int write_entry_data(struct archive *a, struct archive_entry *e, const char *archive, const char *rel,
                            const char *full, rt_error *err) {
  if (unlink(full) < 0 && errno != ENOENT)
    return rt_fail(err, "archive %s: cannot replace entry '%s': %s", archive, rel, strerror(errno));
  mode_t perm = (rt_libarchive.entry_perm(e) & 0777) | 0600;
  int fd = open(full, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, perm);
  if (fd < 0) return rt_fail(err, "archive %s: cannot create entry '%s': %s", archive, rel, strerror(errno));
  int rc = 0;
  for (;;) {
    const void *buf;
    size_t size;
    la_int64_t offset;
    int r = rt_libarchive.read_data_block(a, &buf, &size, &offset);
    if (r == ARCHIVE_EOF) break;
    if (r != ARCHIVE_OK) {
      rc = rt_fail(err, "archive %s is damaged at entry '%s': %s", archive, rel, rt_libarchive.error_string(a));
      break;
    }
    const char *p = buf;
    while (rc == 0 && size > 0) {
      ssize_t w = pwrite(fd, p, size, (off_t)offset);
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) rc = rt_fail(err, "cannot write %s: %s", full, strerror(errno));
      if (w < 0) break;
      p += w;
      offset += w;
      size -= (size_t)w;
    }
    if (rc < 0) break;
  }
  /* A sparse file may end in a hole that no data block covered. */
  if (rc == 0 && rt_libarchive.entry_size_is_set(e) && ftruncate(fd, (off_t)rt_libarchive.entry_size(e)) < 0)
    rc = rt_fail(err, "cannot write %s: %s", full, strerror(errno));
  if (close(fd) < 0 && rc == 0) rc = rt_fail(err, "cannot write %s: %s", full, strerror(errno));
  return rc;
}

/* A symbolic link to create once every file is written. */
typedef struct pending_link {
  char *rel;    /* owned: clean path of the link under the root */
  char *target; /* owned: the link's text */
} pending_link;

typedef struct extraction {
  const char *archive; /* the archive's path, for errors */
  char root[RT_PATH_MAX];
  pending_link *links; /* owned */
  size_t n_links, cap_links;
} extraction;

static int defer_link(extraction *x, const char *rel, const char *target, rt_error *err) {
  if (x->n_links == x->cap_links) {
    size_t cap = x->cap_links ? x->cap_links * 2 : 16;
    pending_link *v = realloc(x->links, cap * sizeof *v);
    if (!v) return rt_fail(err, "archive %s: out of memory at entry '%s'", x->archive, rel);
    x->links = v;
    x->cap_links = cap;
  }
  pending_link l = {strdup(rel), strdup(target)};
  if (!l.rel || !l.target) {
    free(l.rel);
    free(l.target);
    return rt_fail(err, "archive %s: out of memory at entry '%s'", x->archive, rel);
  }
  x->links[x->n_links++] = l;
  return 0;
}

/* Creates one entry (other than a symbolic link) under the root. */
static int extract_entry(extraction *x, struct archive *a, struct archive_entry *e, rt_error *err) {
  char rel[RT_PATH_MAX], full[RT_PATH_MAX];
  const char *name = rt_libarchive.entry_pathname(e);
  if (clean_name(x->archive, name, rel, err) < 0) return -1;
  if (!rel[0]) return 0; /* the root folder itself */
  if (rt_fs_path(full, err, "%s/%s", x->root, rel) < 0) return -1;

  const char *hardlink = rt_libarchive.entry_hardlink(e);
  if (hardlink) {
    char target_rel[RT_PATH_MAX], target[RT_PATH_MAX];
    if (clean_name(x->archive, hardlink, target_rel, err) < 0) return -1;
    if (!target_rel[0])
      return rt_fail(err, "archive %s: entry '%s' is a hard link to the root", x->archive, name);
    if (rt_fs_path(target, err, "%s/%s", x->root, target_rel) < 0 || make_parent(full, err) < 0) return -1;
    if (unlink(full) < 0 && errno != ENOENT)
      return rt_fail(err, "archive %s: cannot replace entry '%s': %s", x->archive, name, strerror(errno));
    if (link(target, full) < 0)
      return rt_fail(err,
                     "archive %s: entry '%s' links to '%s', which is not a file extracted before it (%s)",
                     x->archive, name, hardlink, strerror(errno));
    return 0;
  }
  switch (rt_libarchive.entry_filetype(e)) {
    case AE_IFDIR:
      if (rt_fs_mkdir_p(full, err) < 0) return -1;
      /* Keep the folder writable by us whatever the archive says. */
      if (chmod(full, (rt_libarchive.entry_perm(e) & 0777) | 0700) < 0)
        return rt_fail(err, "cannot set the mode of %s: %s", full, strerror(errno));
      return 0;
    case AE_IFREG:
      if (make_parent(full, err) < 0) return -1;
      return write_entry_data(a, e, x->archive, name, full, err);
    case AE_IFLNK: {
      const char *target = rt_libarchive.entry_symlink(e);
      if (!target || !target[0]) return rt_fail(err, "archive %s: link '%s' has no target", x->archive, name);
      if (target[0] == '/')
        return rt_fail(err, "archive %s: link '%s' points to the absolute path '%s'", x->archive, name,
                       target);
      if (climbs_out(rel, target))
        return rt_fail(err, "archive %s: link '%s' points to '%s', outside the folder", x->archive, name,
                       target);
      return defer_link(x, rel, target, err);
    }
    case AE_IFCHR:
    case AE_IFBLK:
      return rt_fail(err, "archive %s: entry '%s' is a device file", x->archive, name);
    default:
      return rt_fail(err, "archive %s: entry '%s' is not a file, folder or link", x->archive, name);
  }
}

/* Creates the deferred links, then checks where each really resolves: a
 * chain of links inside the archive can still lead outside the root. */
static int finish_links(extraction *x, rt_error *err) {
  char full[RT_PATH_MAX], real[PATH_MAX];
  /* Every link's folders first, while the tree holds no link: a folder made
   * after a link could be made through it (with b -> "." and x -> "b/..",
   * the folder of "x/y" is outside the root). symlink() then never replaces
   * a folder, so each link lands in a real folder under the root. */
  for (size_t i = 0; i < x->n_links; i++) {
    if (rt_fs_path(full, err, "%s/%s", x->root, x->links[i].rel) < 0 || make_parent(full, err) < 0) return -1;
  }
  for (size_t i = 0; i < x->n_links; i++) {
    const pending_link *l = &x->links[i];
    if (rt_fs_path(full, err, "%s/%s", x->root, l->rel) < 0) return -1;
    if (symlink(l->target, full) < 0)
      return rt_fail(err, "archive %s: cannot create link '%s': %s", x->archive, l->rel, strerror(errno));
  }
  size_t root_len = strlen(x->root);
  for (size_t i = 0; i < x->n_links; i++) {
    const pending_link *l = &x->links[i];
    if (rt_fs_path(full, err, "%s/%s", x->root, l->rel) < 0) return -1;
    if (!realpath(full, real))
      return rt_fail(err, "archive %s: link '%s' points to '%s', which does not resolve (%s)", x->archive,
                     l->rel, l->target, strerror(errno));
    if (strncmp(real, x->root, root_len) != 0 || (real[root_len] != '\0' && real[root_len] != '/'))
      return rt_fail(err, "archive %s: link '%s' points to '%s', which resolves outside the folder",
                     x->archive, l->rel, l->target);
  }
  return 0;
}

int rt_archive_extract_into(const char *path, const char *dir, rt_error *err) {
  if (rt_libarchive_load(err) < 0) return -1;
  extraction x = {.archive = path};
  if (!realpath(dir, x.root)) return rt_fail(err, "cannot extract into %s: %s", dir, strerror(errno));
  struct archive *a = rt_libarchive.read_new();
  if (!a) return rt_fail(err, "cannot read archive %s: out of memory", path);
  rt_libarchive.read_support_filter_all(a);
  rt_libarchive.read_support_format_all(a);
  int rc = 0;
  if (rt_libarchive.read_open_filename(a, path, 1 << 16) != ARCHIVE_OK)
    rc = rt_fail(err, "cannot open archive %s: %s", path, rt_libarchive.error_string(a));
  while (rc == 0) {
    struct archive_entry *e;
    int r = rt_libarchive.read_next_header(a, &e);
    if (r == ARCHIVE_EOF) break;
    if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
      rc = rt_fail(err, "archive %s is damaged: %s", path, rt_libarchive.error_string(a));
      break;
    }
    rc = extract_entry(&x, a, e, err);
  }
  if (rc == 0) rc = finish_links(&x, err);
  rt_libarchive.read_free(a);
  for (size_t i = 0; i < x.n_links; i++) {
    free(x.links[i].rel);
    free(x.links[i].target);
  }
  free(x.links);
  return rc;
}
