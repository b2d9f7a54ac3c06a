/* File system helpers: paths, directory trees, atomic writes. */
#include "fsutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

int rt_fs_path(char *out, rt_error *err, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(out, RT_PATH_MAX, fmt, ap);
  va_end(ap);
  if (n < 0 || n >= RT_PATH_MAX) {
    out[0] = '\0';
    return rt_fail(err, "path longer than %d bytes (starting '%.60s')", RT_PATH_MAX - 1, out);
  }
  return 0;
}

int rt_fs_exists(const char *path) {
  struct stat st;
  return lstat(path, &st) == 0;
}

int rt_fs_is_dir(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Splits path into its directory (RT_PATH_MAX bytes) and base name. */
static const char *split_path(const char *path, char *dir) {
  const char *slash = strrchr(path, '/');
  if (!slash) {
    strcpy(dir, ".");
    return path;
  }
  size_t n = slash == path ? 1 : (size_t)(slash - path);
  memcpy(dir, path, n);
  dir[n] = '\0';
  return slash + 1;
}

int rt_fs_mkdir_p(const char *path, rt_error *err) {
  char buf[RT_PATH_MAX];
  if (!path[0]) return rt_fail(err, "cannot create a directory with an empty name");
  if (rt_fs_path(buf, err, "%s", path) < 0) return -1;
  /* Create each prefix ending at a '/', then the whole path. */
  for (char *p = buf + 1;; p++) {
    if (*p != '/' && *p != '\0') continue;
    char saved = *p;
    *p = '\0';
    if (mkdir(buf, 0755) < 0) {
      if (errno != EEXIST) return rt_fail(err, "cannot create directory %s: %s", buf, strerror(errno));
      if (!rt_fs_is_dir(buf)) return rt_fail(err, "cannot create directory %s: a file is in the way", buf);
    }
    *p = saved;
    if (saved == '\0') return 0;
  }
}

/* Removes the tree at path; path is a RT_PATH_MAX buffer that is extended
 * while descending and restored before returning. */
static int remove_tree(char *path, rt_error *err) {
  struct stat st;
  if (lstat(path, &st) < 0) {
    if (errno == ENOENT) return 0;
    return rt_fail(err, "cannot remove %s: %s", path, strerror(errno));
  }
  if (!S_ISDIR(st.st_mode)) {
    if (unlink(path) < 0 && errno != ENOENT)
      return rt_fail(err, "cannot remove %s: %s", path, strerror(errno));
    return 0;
  }
  DIR *d = opendir(path);
  if (!d) return rt_fail(err, "cannot open directory %s: %s", path, strerror(errno));
  size_t len = strlen(path);
  int rc = 0;
  struct dirent *e;
  while (rc == 0 && (e = readdir(d)) != NULL) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    if (len + 1 + strlen(e->d_name) >= RT_PATH_MAX) {
      rc = rt_fail(err, "cannot remove %s/%s: path too long", path, e->d_name);
      break;
    }
    path[len] = '/';
    strcpy(path + len + 1, e->d_name);
    rc = remove_tree(path, err);
    path[len] = '\0';
  }
  closedir(d);
  if (rc == 0 && rmdir(path) < 0 && errno != ENOENT)
    rc = rt_fail(err, "cannot remove %s: %s", path, strerror(errno));
  return rc;
}

int rt_fs_rm_rf(const char *path, rt_error *err) {
  char buf[RT_PATH_MAX];
  if (rt_fs_path(buf, err, "%s", path) < 0) return -1;
  return remove_tree(buf, err);
}

int rt_fs_read_file(const char *path, char **data, size_t *len, rt_error *err) {
  *data = NULL;
  *len = 0;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return rt_fail(err, "cannot open %s: %s", path, strerror(errno));
  struct stat st;
  if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return rt_fail(err, "cannot read %s: not a regular file", path);
  }
  size_t cap = (size_t)st.st_size + 1, n = 0;
  char *buf = malloc(cap);
  if (!buf) {
    close(fd);
    return rt_fail(err, "cannot read %s: out of memory for %zu bytes", path, cap);
  }
  for (;;) {
    if (n + 1 == cap) { /* the file grew while we read it */
      char *bigger = realloc(buf, cap * 2);
      if (!bigger) {
        free(buf);
        close(fd);
        return rt_fail(err, "cannot read %s: out of memory", path);
      }
      buf = bigger;
      cap *= 2;
    }
    ssize_t r = read(fd, buf + n, cap - 1 - n);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      int e = errno;
      free(buf);
      close(fd);
      return rt_fail(err, "cannot read %s: %s", path, strerror(e));
    }
    if (r == 0) break;
    n += (size_t)r;
  }
  close(fd);
  buf[n] = '\0';
  *data = buf;
  *len = n;
  return 0;
}

/* Writes all of data to fd; name is for the error. */
static int write_all(int fd, const void *data, size_t len, const char *name, rt_error *err) {
  const char *p = data;
  while (len > 0) {
    ssize_t w = write(fd, p, len);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return rt_fail(err, "cannot write %s: %s", name, strerror(errno));
    p += w;
    len -= (size_t)w;
  }
  return 0;
}

int rt_fs_open_temp(const char *path, char *tmp, rt_error *err) {
  char dir[RT_PATH_MAX];
  const char *base = split_path(path, dir);
  /* the writer's pid in the name lets rt_fs_remove_stale_temps tell a dead
   * writer's leftovers from a file another live process is still writing */
  if (rt_fs_path(tmp, err, "%s/.%s.tmp-%d-XXXXXX", dir, base, (int)getpid()) < 0) return -1;
  int fd = mkostemp(tmp, O_CLOEXEC);
  if (fd < 0) return rt_fail(err, "cannot create a temp file beside %s: %s", path, strerror(errno));
  if (fchmod(fd, 0644) < 0) {
    int e = errno;
    close(fd);
    unlink(tmp);
    return rt_fail(err, "cannot set the mode of %s: %s", tmp, strerror(e));
  }
  return fd;
}

int rt_fs_sync_dir(const char *dir, rt_error *err) {
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return rt_fail(err, "cannot open directory %s: %s", dir, strerror(errno));
  int rc = fsync(fd);
  int e = errno;
  close(fd);
  if (rc < 0) return rt_fail(err, "cannot sync directory %s: %s", dir, strerror(e));
  return 0;
}

int rt_fs_commit_temp(int fd, const char *tmp, const char *path, rt_error *err) {
  if (fsync(fd) < 0) {
    int e = errno;
    close(fd);
    unlink(tmp);
    return rt_fail(err, "cannot sync %s: %s", path, strerror(e));
  }
  if (close(fd) < 0) {
    int e = errno;
    unlink(tmp);
    return rt_fail(err, "cannot write %s: %s", path, strerror(e));
  }
  if (rename(tmp, path) < 0) {
    int e = errno;
    unlink(tmp);
    return rt_fail(err, "cannot replace %s: %s", path, strerror(e));
  }
  char dir[RT_PATH_MAX];
  split_path(path, dir);
  return rt_fs_sync_dir(dir, err);
}

int rt_fs_write_atomic(const char *path, const void *data, size_t len, rt_error *err) {
  char tmp[RT_PATH_MAX];
  int fd = rt_fs_open_temp(path, tmp, err);
  if (fd < 0) return -1;
  if (write_all(fd, data, len, path, err) < 0) {
    close(fd);
    unlink(tmp);
    return -1;
  }
  return rt_fs_commit_temp(fd, tmp, path, err);
}

int rt_fs_publish_temp(int fd, const char *tmp, const char *path, const void *data, size_t len,
                       rt_error *err) {
  int rc = write_all(fd, data, len, path, err);
  if (close(fd) < 0 && rc == 0) rc = rt_fail(err, "cannot write %s: %s", path, strerror(errno));
  if (rc == 0 && rename(tmp, path) < 0) rc = rt_fail(err, "cannot write %s: %s", path, strerror(errno));
  if (rc < 0) unlink(tmp);
  return rc;
}

int rt_fs_write_report(const char *path, const void *data, size_t len, rt_error *err) {
  char tmp[RT_PATH_MAX];
  int fd = rt_fs_open_temp(path, tmp, err);
  if (fd < 0) return -1;
  return rt_fs_publish_temp(fd, tmp, path, data, len, err);
}

int rt_fs_write_file(const char *path, const void *data, size_t len, rt_error *err) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return rt_fail(err, "cannot create %s: %s", path, strerror(errno));
  int rc = write_all(fd, data, len, path, err);
  if (close(fd) < 0 && rc == 0) rc = rt_fail(err, "cannot write %s: %s", path, strerror(errno));
  return rc;
}

int rt_fs_sync_fs(const char *path, rt_error *err) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return rt_fail(err, "cannot open %s: %s", path, strerror(errno));
  int rc = syncfs(fd);
  int e = errno;
  close(fd);
  if (rc < 0) return rt_fail(err, "cannot sync the file system of %s: %s", path, strerror(e));
  return 0;
}

int rt_fs_copy_file(const char *src, const char *dst, rt_error *err) {
  int in = open(src, O_RDONLY | O_CLOEXEC);
  if (in < 0) return rt_fail(err, "cannot open %s: %s", src, strerror(errno));
  char tmp[RT_PATH_MAX];
  int out = rt_fs_open_temp(dst, tmp, err);
  if (out < 0) {
    close(in);
    return -1;
  }
  char buf[1 << 16];
  for (;;) {
    ssize_t r = read(in, buf, sizeof buf);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      rt_fail(err, "cannot read %s: %s", src, strerror(errno));
      break;
    }
    if (r == 0) {
      close(in);
      return rt_fs_commit_temp(out, tmp, dst, err);
    }
    if (write_all(out, buf, (size_t)r, dst, err) < 0) break;
  }
  close(in);
  close(out);
  unlink(tmp);
  return -1;
}

int rt_fs_make_temp_dir(const char *path, char *out, rt_error *err) {
  char dir[RT_PATH_MAX];
  const char *base = split_path(path, dir);
  if (rt_fs_path(out, err, "%s/.%s.tmp-%d-XXXXXX", dir, base, (int)getpid()) < 0) return -1;
  if (!mkdtemp(out))
    return rt_fail(err, "cannot create a temp directory beside %s: %s", path, strerror(errno));
  if (chmod(out, 0755) < 0) {
    int e = errno;
    rmdir(out);
    return rt_fail(err, "cannot set the mode of %s: %s", out, strerror(e));
  }
  return 0;
}

int rt_fs_replace_dir(const char *src, const char *target, rt_error *err) {
  char dir[RT_PATH_MAX];
  split_path(target, dir);
  if (!rt_fs_exists(target)) {
    if (rename(src, target) < 0)
      return rt_fail(err, "cannot move %s to %s: %s", src, target, strerror(errno));
    return rt_fs_sync_dir(dir, err);
  }
  if (renameat2(AT_FDCWD, src, AT_FDCWD, target, RENAME_EXCHANGE) < 0) {
    if (errno != EINVAL && errno != ENOSYS)
      return rt_fail(err, "cannot put %s in place of %s: %s", src, target, strerror(errno));
    /* The file system cannot exchange: move the old tree aside first; a
     * crash in between leaves target missing, never half-written. */
    char old[RT_PATH_MAX];
    if (rt_fs_make_temp_dir(target, old, err) < 0) return -1;
    if (rename(target, old) < 0 || rename(src, target) < 0)
      return rt_fail(err, "cannot put %s in place of %s: %s", src, target, strerror(errno));
    if (rt_fs_sync_dir(dir, err) < 0) return -1;
    return rt_fs_rm_rf(old, err);
  }
  if (rt_fs_sync_dir(dir, err) < 0) return -1;
  return rt_fs_rm_rf(src, err); /* src now holds the old tree */
}

/* Walks the tree under base; full is a RT_PATH_MAX buffer holding base plus
 * the current relative path, rel_at is where the relative part starts. */
static int walk_tree(char *full, size_t rel_at, int all_entries, rt_strlist *out, rt_error *err) {
  DIR *d = opendir(full);
  if (!d) return rt_fail(err, "cannot open directory %s: %s", full, strerror(errno));
  size_t len = strlen(full);
  int rc = 0;
  struct dirent *e;
  while (rc == 0 && (e = readdir(d)) != NULL) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    if (len + 1 + strlen(e->d_name) >= RT_PATH_MAX) {
      rc = rt_fail(err, "cannot list %s/%s: path too long", full, e->d_name);
      break;
    }
    full[len] = '/';
    strcpy(full + len + 1, e->d_name);
    struct stat st;
    if (lstat(full, &st) < 0) {
      /* gone since readdir: another process renamed or removed its temp file */
      if (errno != ENOENT) rc = rt_fail(err, "cannot stat %s: %s", full, strerror(errno));
    } else if (S_ISDIR(st.st_mode)) {
      if (all_entries) rc = rt_strlist_push(out, full + rel_at, err);
      if (rc == 0) rc = walk_tree(full, rel_at, all_entries, out, err);
    } else if (all_entries) {
      rc = rt_strlist_push(out, full + rel_at, err);
    } else if (S_ISREG(st.st_mode) || (S_ISLNK(st.st_mode) && stat(full, &st) == 0 && S_ISREG(st.st_mode))) {
      rc = rt_strlist_push(out, full + rel_at, err);
    }
    full[len] = '\0';
  }
  closedir(d);
  return rc;
}

static int list_under(const char *dir, int all_entries, rt_strlist *out, rt_error *err) {
  char full[RT_PATH_MAX];
  if (rt_fs_path(full, err, "%s", dir) < 0) return -1;
  size_t first = out->n;
  if (walk_tree(full, strlen(full) + 1, all_entries, out, err) < 0) return -1;
  if (out->n == first) return 0; /* out->v may still be NULL: no tail to sort */
  rt_strlist tail = {out->v + first, out->n - first, 0};
  rt_strlist_sort(&tail);
  return 0;
}

int rt_fs_list_files(const char *dir, rt_strlist *out, rt_error *err) { return list_under(dir, 0, out, err); }

int rt_fs_list_tree(const char *dir, rt_strlist *out, rt_error *err) { return list_under(dir, 1, out, err); }

/* ---- batched atomic writes ---- */

typedef struct batch_entry {
  char *tmp;  /* owned */
  char *path; /* owned */
} batch_entry;

struct rt_fs_batch {
  batch_entry *v;
  size_t n, cap;
};

rt_fs_batch *rt_fs_batch_new(void) { return calloc(1, sizeof(rt_fs_batch)); }

int rt_fs_batch_add(rt_fs_batch *b, const char *path, const void *data, size_t len, rt_error *err) {
  if (b->n == b->cap) {
    size_t cap = b->cap ? b->cap * 2 : 64;
    batch_entry *v = realloc(b->v, cap * sizeof *v);
    if (!v) return rt_fail(err, "cannot write %s: out of memory", path);
    b->v = v;
    b->cap = cap;
  }
  char tmp[RT_PATH_MAX];
  int fd = rt_fs_open_temp(path, tmp, err);
  if (fd < 0) return -1;
  int rc = write_all(fd, data, len, path, err);
  if (close(fd) < 0 && rc == 0) rc = rt_fail(err, "cannot write %s: %s", path, strerror(errno));
  batch_entry e = {strdup(tmp), strdup(path)};
  if (rc == 0 && (!e.tmp || !e.path)) rc = rt_fail(err, "cannot write %s: out of memory", path);
  if (rc < 0) {
    unlink(tmp);
    free(e.tmp);
    free(e.path);
    return -1;
  }
  b->v[b->n++] = e;
  return 0;
}

/* Adds dir to dirs unless it is already there. */
static int add_unique(rt_strlist *dirs, const char *dir, rt_error *err) {
  for (size_t i = 0; i < dirs->n; i++)
    if (!strcmp(dirs->v[i], dir)) return 0;
  return rt_strlist_push(dirs, dir, err);
}

int rt_fs_batch_commit(rt_fs_batch *b, rt_error *err) {
  rt_strlist dirs = {0};
  char dir[RT_PATH_MAX];
  int rc = 0;
  for (size_t i = 0; rc == 0 && i < b->n; i++) {
    split_path(b->v[i].path, dir);
    rc = add_unique(&dirs, dir, err);
  }
  /* One syncfs per directory's file system makes every temp durable; on
   * the second directory of the same file system it finds nothing to do. */
  for (size_t i = 0; rc == 0 && i < dirs.n; i++) {
    int fd = open(dirs.v[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || syncfs(fd) < 0)
      rc = rt_fail(err, "cannot sync the files in %s: %s", dirs.v[i], strerror(errno));
    if (fd >= 0) close(fd);
  }
  size_t done = 0;
  for (; rc == 0 && done < b->n; done++) {
    if (rename(b->v[done].tmp, b->v[done].path) < 0)
      rc = rt_fail(err, "cannot replace %s: %s", b->v[done].path, strerror(errno));
  }
  if (rc == 0) {
    for (size_t i = 0; rc == 0 && i < dirs.n; i++) rc = rt_fs_sync_dir(dirs.v[i], err);
  } else if (done > 0) {
    done--; /* the failed rename left its temp in place; free removes it */
  }
  /* Renamed entries are done; shift the rest down so free cleans them up. */
  for (size_t i = 0; i < done; i++) {
    free(b->v[i].tmp);
    free(b->v[i].path);
  }
  if (done > 0 && done < b->n) memmove(b->v, b->v + done, (b->n - done) * sizeof *b->v);
  b->n -= done;
  rt_strlist_free(&dirs);
  return rc;
}

void rt_fs_batch_free(rt_fs_batch *b) {
  if (!b) return;
  for (size_t i = 0; i < b->n; i++) {
    unlink(b->v[i].tmp);
    free(b->v[i].tmp);
    free(b->v[i].path);
  }
  free(b->v);
  free(b);
}

int rt_fs_lock(const char *path, int *fd, rt_error *err) {
  *fd = -1;
  int f = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (f < 0) return rt_fail(err, "cannot open the lock %s: %s", path, strerror(errno));
  while (flock(f, LOCK_EX) < 0) {
    if (errno == EINTR) continue;
    int e = errno;
    close(f);
    return rt_fail(err, "cannot lock %s: %s", path, strerror(e));
  }
  *fd = f;
  return 0;
}

void rt_fs_unlock(int fd) {
  if (fd >= 0) close(fd); /* closing releases the flock */
}

/* The pid in a temp name ".<name>.tmp-<pid>-XXXXXX", or 0 if it is none. */
static long temp_owner(const char *leaf) {
  const char *tag = leaf[0] == '.' ? strstr(leaf, ".tmp-") : NULL;
  if (!tag) return 0;
  char *end;
  long pid = strtol(tag + 5, &end, 10);
  return (pid > 0 && *end == '-' && strlen(end + 1) == 6) ? pid : 0;
}

/* Removes the entries of names (paths relative to dir) that are temps of
 * writers no longer running. */
static int remove_stale(const char *dir, const rt_strlist *names, long *removed, rt_error *err) {
  int rc = 0;
  for (size_t i = 0; rc == 0 && i < names->n; i++) {
    const char *slash = strrchr(names->v[i], '/');
    long pid = temp_owner(slash ? slash + 1 : names->v[i]);
    if (!pid || (kill((pid_t)pid, 0) == 0 || errno == EPERM)) continue; /* not a temp, or its writer lives */
    char path[RT_PATH_MAX];
    rc = rt_fs_path(path, err, "%s/%s", dir, names->v[i]);
    if (rc == 0) rc = rt_fs_rm_rf(path, err);
    if (rc == 0) (*removed)++;
  }
  return rc;
}

int rt_fs_remove_stale_temps(const char *dir, long *removed, rt_error *err) {
  *removed = 0;
  if (!rt_fs_is_dir(dir)) return 0;
  rt_strlist all = {0};
  int rc = rt_fs_list_tree(dir, &all, err);
  if (rc == 0) rc = remove_stale(dir, &all, removed, err);
  rt_strlist_free(&all);
  return rc;
}

int rt_fs_remove_stale_temps_in(const char *dir, long *removed, rt_error *err) {
  *removed = 0;
  DIR *d = opendir(dir);
  if (!d) return errno == ENOENT ? 0 : rt_fail(err, "cannot open directory %s: %s", dir, strerror(errno));
  rt_strlist names = {0};
  int rc = 0;
  struct dirent *e;
  while (rc == 0 && (e = readdir(d)) != NULL)
    if (temp_owner(e->d_name)) rc = rt_strlist_push(&names, e->d_name, err);
  closedir(d);
  if (rc == 0) rc = remove_stale(dir, &names, removed, err);
  rt_strlist_free(&names);
  return rc;
}
