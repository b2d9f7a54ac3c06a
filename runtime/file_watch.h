/* file_watch.h — waiting for a set of files to change, with inotify.
 *
 * Editors save in different ways: in place (open, truncate, write, close),
 * or by writing a new file and renaming it over the old one (vim, VS Code),
 * or by deleting and creating it again. A watch on the file itself would be
 * lost with the replaced inode, so each file's parent folder is watched for
 * IN_CLOSE_WRITE, IN_MOVED_TO and IN_CREATE, and the events are matched by
 * name. A save is reported once the events have settled for a few
 * milliseconds (after an IN_CREATE, once the file is closed).
 *
 *   rt_file_watch fw;
 *   rt_file_watch_open(&fw, &err);
 *   rt_file_watch_add(&fw, "adapter.lua", &err);
 *   int rc = rt_file_watch_wait(&fw, changed, sizeof changed, &since, &err);
 *   // 1: changed holds the path; 0: a stop signal (signals.h) came; -1: error
 */
#ifndef RT_FILE_WATCH_H
#define RT_FILE_WATCH_H

#include <stddef.h>

#include "rt_error.h"

typedef struct rt_watched_file {
  char *path; /* as given, for messages; owned */
  char *name; /* its basename; owned */
  int dir;    /* index in dirs */
} rt_watched_file;

typedef struct rt_watched_dir {
  int wd;     /* inotify watch descriptor */
  char *path; /* absolute; owned */
} rt_watched_dir;

typedef struct rt_file_watch {
  int fd;                 /* private: the inotify instance */
  rt_watched_dir *dirs;   /* private */
  size_t ndirs;
  rt_watched_file *files; /* read-only */
  size_t nfiles;          /* read-only */
} rt_file_watch;

int rt_file_watch_open(rt_file_watch *fw, rt_error *err);

/* Watches path too (a no-op when it is already watched). Its folder must exist. */
int rt_file_watch_add(rt_file_watch *fw, const char *path, rt_error *err);

/* Blocks until a watched file was saved and the events settled. Writes the
 * path of the (first) changed file into changed and, into *since, the
 * rt_now() time of its first event. Returns 1 then, 0 when a stop signal
 * came (rt_signals_stop_requested), -1 on error. Events that arrived while
 * the caller was busy count: a save during a run is not lost. */
int rt_file_watch_wait(rt_file_watch *fw, char *changed, size_t len, double *since, rt_error *err);

void rt_file_watch_close(rt_file_watch *fw);

#endif
