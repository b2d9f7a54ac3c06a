/* fsutil.h — file system helpers for the store: paths, directories, and
 * writes that never leave a half-written file behind.
 *
 * Every write that replaces a file goes through a temp file in the same
 * directory, fsync, rename, then fsync of the directory, so a crash or
 * `kill -9` leaves either the old file or the new one, never a mix:
 *
 *   char path[RT_PATH_MAX];
 *   if (rt_fs_path(path, &err, "%s/model.json", dir) < 0 ||
 *       rt_fs_write_atomic(path, text, strlen(text), &err) < 0) ...
 *
 * Temp files are named ".<name>.tmp-<pid>-XXXXXX" beside their target. */
#ifndef RT_FSUTIL_H
#define RT_FSUTIL_H

#include <stddef.h>

#include "rt_error.h"
#include "strlist.h"

#define RT_PATH_MAX 4096

/* Formats a path into out (RT_PATH_MAX bytes); fails if it would not fit. */
int rt_fs_path(char *out, rt_error *err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* True if something (of any type, links not followed) exists at path. */
int rt_fs_exists(const char *path);
/* True if path is a directory (links followed). */
int rt_fs_is_dir(const char *path);

/* Creates path and its missing parents (mode 0755); existing dirs are fine. */
int rt_fs_mkdir_p(const char *path, rt_error *err);
/* Removes path and everything under it, without following links. A path
 * that does not exist is not an error. */
int rt_fs_rm_rf(const char *path, rt_error *err);

/* Reads a whole file. *data is NUL-terminated (not counted in *len);
 * caller frees *data. */
int rt_fs_read_file(const char *path, char **data, size_t *len, rt_error *err);
/* Replaces path with data atomically (temp, fsync, rename, fsync dir). */
int rt_fs_write_atomic(const char *path, const void *data, size_t len, rt_error *err);
/* Replaces path with data through a temp file and a rename, without the
 * fsyncs: for the reports of a run folder (summary.json, metrics.json, the
 * plots), written whole once at the end, and for caches. A reader never
 * sees a partial file; a power failure may lose the file, which protects
 * no data (the fsyncs cost a run up to tens of milliseconds). */
int rt_fs_write_report(const char *path, const void *data, size_t len, rt_error *err);
/* Writes path (created or truncated) without syncing: for files inside a
 * staging folder that is made durable as a whole (rt_fs_sync_fs) and then
 * renamed into place. */
int rt_fs_write_file(const char *path, const void *data, size_t len, rt_error *err);
/* Makes every write on the file system holding path durable (syncfs). */
int rt_fs_sync_fs(const char *path, rt_error *err);
/* rt_fs_write_report in two steps: data into a temp file from
 * rt_fs_open_temp, then renamed over path. Always consumes fd; on failure
 * the temp file is removed. */
int rt_fs_publish_temp(int fd, const char *tmp, const char *path, const void *data, size_t len,
                       rt_error *err);
/* Copies src to dst; dst is written atomically. */
int rt_fs_copy_file(const char *src, const char *dst, rt_error *err);

/* Creates and opens a temp file beside path (".<name>.tmp-XXXXXX", mode
 * 0644). Returns the fd and writes its name into tmp (RT_PATH_MAX bytes). */
int rt_fs_open_temp(const char *path, char *tmp, rt_error *err);
/* Finishes a temp file from rt_fs_open_temp: fsync, close fd, rename over
 * path, fsync the directory. Always consumes fd; on failure the temp file is
 * removed and path is untouched. */
int rt_fs_commit_temp(int fd, const char *tmp, const char *path, rt_error *err);
/* Creates a temp directory beside path (".<name>.tmp-XXXXXX") and writes
 * its name into out (RT_PATH_MAX bytes). */
int rt_fs_make_temp_dir(const char *path, char *out, rt_error *err);
/* Puts directory src in place of target in one step: if target exists the
 * two are exchanged and the old content is removed, so a reader sees the
 * old tree or the new one, never a mix. src must be beside target. */
int rt_fs_replace_dir(const char *src, const char *target, rt_error *err);
/* fsyncs a directory, so renames inside it survive a crash. */
int rt_fs_sync_dir(const char *dir, rt_error *err);

/* Lists the regular files under dir (links to files count, linked
 * directories are not entered) as paths relative to dir ("a/b.png"),
 * sorted by strcmp. Appends to out; caller frees it with rt_strlist_free. */
int rt_fs_list_files(const char *dir, rt_strlist *out, rt_error *err);
/* Like rt_fs_list_files but lists every entry, directories and links
 * included, without following links. */
int rt_fs_list_tree(const char *dir, rt_strlist *out, rt_error *err);

/* Holds an exclusive flock on the file at path (created when missing; it
 * stays), waiting while another process holds it. Several processes that
 * read, change and replace the same files take it around the cycle, so
 * none loses another's change. Writes the lock's descriptor into *fd;
 * release with rt_fs_unlock. */
int rt_fs_lock(const char *path, int *fd, rt_error *err);
/* Releases a lock from rt_fs_lock; -1 is ignored. */
void rt_fs_unlock(int fd);

/* Removes, anywhere under dir, the temp files and folders of writers that
 * are no longer running (a killed process leaves them behind). *removed
 * counts them. A missing dir is fine. */
int rt_fs_remove_stale_temps(const char *dir, long *removed, rt_error *err);
/* Like rt_fs_remove_stale_temps, for the entries of dir itself only: the
 * temps beside the things in dir, without walking what they hold. */
int rt_fs_remove_stale_temps_in(const char *dir, long *removed, rt_error *err);

/* Many small atomic writes with one sync for all of them: each add writes a
 * temp file; commit makes them durable with a single syncfs, renames them
 * into place and fsyncs each directory once. Until commit, no target
 * changes; rt_fs_batch_free removes uncommitted temps. */
typedef struct rt_fs_batch rt_fs_batch;
/* Returns NULL when out of memory; caller frees with rt_fs_batch_free. */
rt_fs_batch *rt_fs_batch_new(void);
int rt_fs_batch_add(rt_fs_batch *b, const char *path, const void *data, size_t len, rt_error *err);
/* Publishes every added file. On failure, files renamed before the failing
 * one stay published (each is complete); the rest keep their old content. */
int rt_fs_batch_commit(rt_fs_batch *b, rt_error *err);
void rt_fs_batch_free(rt_fs_batch *b);

#endif
