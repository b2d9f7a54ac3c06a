/* store_backend.h — the model store behind a URL.
 *
 * The store holds, under its base, models/<name>/model.json and
 * models/<name>/artifacts/v<N>.tar.gz. The base is a folder (file://, the
 * default being $DATALOOP_PATH/store) or an http(s):// prefix served by
 * any server that answers GET, PUT and DELETE (nginx with WebDAV):
 *
 *   rt_store s;
 *   rt_store_open(&s, opt_store_url, &paths, &err);   // NULL: the default
 *   rt_store_read(&s, "models/m/model.json", &text, &len, &found, &err);
 *
 * Paths given to these functions are relative to the base, '/'-separated;
 * for http each segment is URL-escaped. Every write is atomic: a reader
 * sees the old file or the new one. */
#ifndef RT_STORE_BACKEND_H
#define RT_STORE_BACKEND_H

#include <stddef.h>

#include "http.h"
#include "paths.h"
#include "rt_error.h"
#include "strlist.h"

typedef enum rt_store_kind { RT_STORE_FILE, RT_STORE_HTTP } rt_store_kind;

typedef struct rt_store {
  rt_store_kind kind;     /* read-only */
  char base[RT_PATH_MAX]; /* read-only: a folder without trailing '/', or a URL ending in '/' */
  rt_http_options http;   /* public: retry policy of an http store */
} rt_store;

/* Opens the store at url: NULL for <home>/store, "file:///abs/folder", or
 * "http(s)://host[:port]/prefix/". A file store's folder is created. */
int rt_store_open(rt_store *s, const char *url, const rt_paths *p, rt_error *err);
/* Writes the full path or URL of rel into out (RT_PATH_MAX bytes). */
int rt_store_locate(const rt_store *s, const char *rel, char *out, rt_error *err);

/* Reads a whole small file (model.json). *data is NUL-terminated and the
 * caller frees it. A missing file is not an error: *found is set to 0 and
 * *data to NULL. */
int rt_store_read(const rt_store *s, const char *rel, char **data, size_t *len, int *found, rt_error *err);
/* Writes a whole small file atomically, creating folders as needed. */
int rt_store_write(const rt_store *s, const char *rel, const void *data, size_t len, rt_error *err);
/* Stores the file src at rel, consuming src on success: a file store moves
 * it into place when it can (else copies and removes it), an http store
 * PUTs it and removes it. On failure src is left for the caller. */
int rt_store_put_file(const rt_store *s, const char *rel, const char *src, rt_error *err);
/* Makes the file at rel readable locally and checks its sha256 (when not
 * NULL). A file store reads it in place; an http store downloads it to
 * download_to. Writes the path to read into local (RT_PATH_MAX bytes). */
int rt_store_fetch(const rt_store *s, const char *rel, const char *download_to, const char *sha256,
                   char *local, rt_error *err);
/* Removes the folder rel and everything in it; a missing folder is fine. */
int rt_store_remove_dir(const rt_store *s, const char *rel, rt_error *err);
/* Appends the names of the sub-folders of rel to out, sorted; a missing
 * folder lists nothing. Over http this needs JSON folder listings
 * (nginx: autoindex on; autoindex_format json). */
int rt_store_list_dirs(const rt_store *s, const char *rel, rt_strlist *out, rt_error *err);

/* Holds an exclusive lock named after rel ("models/m"), so read-modify-write
 * cycles of model.json by several processes do not lose updates. A file
 * store uses flock on a hidden file beside rel ("models/.m.lock", which
 * stays); an http store has no locking and *fd is set to -1. Release with
 * rt_store_unlock. */
int rt_store_lock(const rt_store *s, const char *rel, int *fd, rt_error *err);
void rt_store_unlock(int fd);

#endif
