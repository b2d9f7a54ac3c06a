/* Waiting for saved files with inotify on their folders. */
#include "file_watch.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "run_report.h"
#include "signals.h"

#define WATCH_EVENTS (IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE)
/* How long events must be quiet before a save counts as done, and how long a
 * created file may stay open before it counts anyway. */
#define SETTLE_SECONDS 0.010
#define CREATE_SECONDS 0.500
/* A stop signal may land on another thread and leave poll asleep: look at
 * the flag this often while idle. */
#define IDLE_MS 250

int rt_file_watch_open(rt_file_watch *fw, rt_error *err) {
  memset(fw, 0, sizeof *fw);
  fw->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fw->fd < 0) return rt_fail(err, "cannot watch files (inotify): %s", strerror(errno));
  return 0;
}

void rt_file_watch_close(rt_file_watch *fw) {
  if (fw->fd >= 0) close(fw->fd);
  for (size_t i = 0; i < fw->nfiles; i++) {
    free(fw->files[i].path);
    free(fw->files[i].name);
  }
  for (size_t i = 0; i < fw->ndirs; i++) free(fw->dirs[i].path);
  free(fw->files);
  free(fw->dirs);
  memset(fw, 0, sizeof *fw);
  fw->fd = -1;
}

/* The index of the watched folder dir (absolute), watching it first if new. */
static int dir_index(rt_file_watch *fw, const char *dir, rt_error *err) {
  for (size_t i = 0; i < fw->ndirs; i++)
    if (strcmp(fw->dirs[i].path, dir) == 0) return (int)i;
  int wd = inotify_add_watch(fw->fd, dir, WATCH_EVENTS | IN_ONLYDIR);
  if (wd < 0) return rt_fail(err, "cannot watch folder %s: %s", dir, strerror(errno));
  rt_watched_dir *d = realloc(fw->dirs, (fw->ndirs + 1) * sizeof *d);
  if (!d) return rt_fail(err, "out of memory");
  fw->dirs = d;
  d[fw->ndirs].wd = wd;
  d[fw->ndirs].path = strdup(dir);
  if (!d[fw->ndirs].path) return rt_fail(err, "out of memory");
  return (int)fw->ndirs++;
}

int rt_file_watch_add(rt_file_watch *fw, const char *path, rt_error *err) {
  char dir[PATH_MAX], abs[PATH_MAX];
  const char *slash = strrchr(path, '/');
  const char *name = slash ? slash + 1 : path;
  if (!*name) return rt_fail(err, "cannot watch %s: not a file", path);
  int n = slash ? snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path) : snprintf(dir, sizeof dir, ".");
  if (n < 0 || (size_t)n >= sizeof dir) return rt_fail(err, "cannot watch %s: path too long", path);
  if (!dir[0]) snprintf(dir, sizeof dir, "/");
  if (!realpath(dir, abs)) return rt_fail(err, "cannot watch %s: folder %s: %s", path, dir, strerror(errno));
  int d = dir_index(fw, abs, err);
  if (d < 0) return -1;
  for (size_t i = 0; i < fw->nfiles; i++)
    if (fw->files[i].dir == d && strcmp(fw->files[i].name, name) == 0) return 0;
  rt_watched_file *f = realloc(fw->files, (fw->nfiles + 1) * sizeof *f);
  if (!f) return rt_fail(err, "out of memory");
  fw->files = f;
  f[fw->nfiles] = (rt_watched_file){strdup(path), strdup(name), d};
  if (!f[fw->nfiles].path || !f[fw->nfiles].name) return rt_fail(err, "out of memory");
  fw->nfiles++;
  return 0;
}

/* The watched file an event names, or NULL. */
static const rt_watched_file *match(const rt_file_watch *fw, const struct inotify_event *ev) {
  if (ev->len == 0) return NULL;
  for (size_t i = 0; i < fw->nfiles; i++) {
    const rt_watched_file *f = &fw->files[i];
    if (fw->dirs[f->dir].wd == ev->wd && strcmp(f->name, ev->name) == 0) return f;
  }
  return NULL;
}

int rt_file_watch_wait(rt_file_watch *fw, char *changed, size_t len, double *since, rt_error *err) {
  char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
  bool pending = false, creating = false;
  double first = 0, last = 0;
  changed[0] = '\0';
  for (;;) {
    if (rt_signals_stop_requested()) return 0;
    int timeout = IDLE_MS;
    if (pending) {
      double quiet = rt_now() - last, need = creating ? CREATE_SECONDS : SETTLE_SECONDS;
      if (quiet >= need) {
        *since = first;
        return 1;
      }
      timeout = (int)((need - quiet) * 1000) + 1;
    }
    struct pollfd p = {.fd = fw->fd, .events = POLLIN};
    int n = poll(&p, 1, timeout);
    if (n < 0 && errno != EINTR) return rt_fail(err, "waiting for file changes: %s", strerror(errno));
    if (n <= 0) continue;
    ssize_t got = read(fw->fd, buf, sizeof buf);
    if (got < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return rt_fail(err, "reading file changes: %s", strerror(errno));
    }
    double now = rt_now();
    for (char *at = buf; at < buf + got;) {
      const struct inotify_event *ev = (const struct inotify_event *)at;
      at += sizeof *ev + ev->len;
      const rt_watched_file *f = match(fw, ev);
      if (!f && !(ev->mask & IN_Q_OVERFLOW)) continue;
      if (!pending) {
        first = now;
        snprintf(changed, len, "%s", f ? f->path : "a watched file");
      }
      pending = true;
      last = now;
      if (ev->mask & IN_CREATE) creating = true;
      if (ev->mask & (IN_CLOSE_WRITE | IN_MOVED_TO)) creating = false;
    }
  }
}
