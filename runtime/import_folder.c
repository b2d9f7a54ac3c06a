/* `dlrun dataset import folder SRC DEST`: one class per subfolder of SRC.
 * SRC/cat/a.jpg becomes item /cat/a.jpg with the ground-truth class "cat";
 * files directly in SRC are imported without a class. A link to a file
 * outside SRC is skipped with a warning: a folder handed over to import
 * must not pull in files from elsewhere (/etc/passwd). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataset_import.h"
#include "progress.h"

/* True when path resolves (links followed) to a file inside the folder
 * whose resolved path is root. */
static bool inside(const char *path, const char *root) {
  char real[RT_PATH_MAX];
  if (!realpath(path, real)) return false;
  size_t n = strlen(root);
  return strncmp(real, root, n) == 0 && (real[n] == '/' || (n == 1 && root[0] == '/'));
}

int rt_import_folder(rt_dataset_writer *w, const rt_import_opts *o, rt_error *err) {
  if (!rt_fs_is_dir(o->source)) return rt_fail(err, "%s is not a folder", o->source);
  char root[RT_PATH_MAX];
  if (!realpath(o->source, root)) return rt_fail(err, "cannot resolve %s", o->source);
  rt_strlist files = {0};
  if (rt_fs_list_files(o->source, &files, err) < 0) return -1;
  /* Labels: the first path component of files that sit in a subfolder, sorted. */
  rt_strlist classes = {0};
  int rc = 0;
  for (size_t i = 0; rc == 0 && i < files.n; i++) {
    const char *slash = strchr(files.v[i], '/');
    if (!slash || files.v[i][0] == '.') continue;
    char name[256];
    snprintf(name, sizeof name, "%.*s", (int)(slash - files.v[i]), files.v[i]);
    if (classes.n == 0 || strcmp(classes.v[classes.n - 1], name) != 0) rc = rt_strlist_push(&classes, name, err);
  }
  for (size_t i = 0; rc == 0 && i < classes.n; i++) rc = rt_dsw_add_label(w, classes.v[i], err);
  if (rc == 0 && files.n == 0) rc = rt_fail(err, "%s holds no files to import", o->source);
  rt_progress progress;
  rt_progress_start(&progress, "import", (long)files.n, o->quiet);
  long per_class = 0;
  char current[256] = "\n"; /* the label of the previous file; no label is "\n" */
  for (size_t i = 0; rc == 0 && i < files.n; i++) {
    const char *rel = files.v[i];
    const char *slash = strchr(rel, '/');
    if (strstr(rel, "/.") || rel[0] == '.') continue; /* hidden files and folders */
    char label[256] = "";
    if (slash) snprintf(label, sizeof label, "%.*s", (int)(slash - rel), rel);
    if (strcmp(current, label) != 0) {
      per_class = 0;
      snprintf(current, sizeof current, "%s", label);
    }
    if (o->limit > 0 && per_class >= o->limit) continue;
    char src[RT_PATH_MAX], remote[RT_PATH_MAX];
    if ((rc = rt_fs_path(src, err, "%s/%s", o->source, rel)) < 0) break;
    if (!inside(src, root)) {
      fprintf(stderr, "%sdlrun: warning: skipping %s: a link to a file outside %s\n", progress.tty ? "\r\033[K" : "",
              src, o->source);
      w->skipped++;
      continue;
    }
    per_class++;
    rc = rt_fs_path(remote, err, "/%s", rel);
    if (rc == 0) rc = rt_dsw_add_file(w, remote, src, rt_mimetype_of(rel), slash ? label : NULL, err);
    rt_progress_update(&progress, (long)i + 1, 0);
  }
  rt_progress_finish(&progress);
  rt_strlist_free(&classes);
  rt_strlist_free(&files);
  return rc;
}
