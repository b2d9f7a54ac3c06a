/* `dlrun dataset import KIND ...`: fashion-mnist DEST | folder SRC DEST |
 * shapes DEST. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "dataset_import.h"
#include "paths.h"
#include "signals.h"

/* DEST is a dataset name under datasets/, or a path when it holds a '/'. */
static int resolve_dest(const rt_args *args, const char *dest, char *target, char *name, rt_error *err) {
  const char *base = strrchr(dest, '/');
  snprintf(name, 256, "%s", base ? base + 1 : dest);
  if (base) return rt_fs_path(target, err, "%s", dest);
  rt_paths paths;
  if (rt_paths_init(&paths, rt_args_value(args, "home"), err) < 0) return -1;
  return rt_paths_entry(&paths, RT_PLACE_DATASETS, dest, target, err);
}

static int parse_count(const rt_args *args, const char *opt, long dflt, long *out) {
  const char *v = rt_args_value(args, opt);
  if (!v) {
    *out = dflt;
    return 0;
  }
  char *end;
  long n = strtol(v, &end, 10);
  if (end == v || *end || n < 0) return rt_cli_usage_error(args->cmd, stderr, "--%s must be a count (got '%s')", opt, v);
  *out = n;
  return 0;
}

int rt_cmd_dataset_import(const rt_args *args) {
  const char *kind = args->positional[0];
  bool folder = strcmp(kind, "folder") == 0, shapes = strcmp(kind, "shapes") == 0;
  if (!folder && !shapes && strcmp(kind, "fashion-mnist") != 0)
    return rt_cli_usage_error(args->cmd, stderr, "unknown dataset kind '%s' (fashion-mnist, folder, shapes)", kind);
  int want = folder ? 3 : 2;
  if (args->npositional != want)
    return rt_cli_usage_error(args->cmd, stderr, "usage: dlrun dataset import %s %s", kind,
                              folder ? "SRC DEST" : "DEST");
  rt_import_opts o = {.quiet = rt_args_flag(args, "quiet")};
  if (parse_count(args, "validation", 5000, &o.validation) || parse_count(args, "limit", 0, &o.limit))
    return RT_EXIT_USAGE;
  o.source = folder ? args->positional[1] : rt_args_value(args, "source");
  const char *dest = args->positional[want - 1];
  /* Ctrl-C or SIGTERM stops at the next item (rt_dsw_add_item) and
   * removes the staging folder: no half dataset, no hidden leftovers. */
  rt_signals_install();
  rt_error err;
  char target[RT_PATH_MAX], name[256];
  rt_dataset_writer w;
  if (resolve_dest(args, dest, target, name, &err) < 0 ||
      rt_dsw_begin(&w, target, name, rt_args_flag(args, "overwrite"), &err) < 0) {
    fprintf(stderr, "dlrun: %s\n", err.msg);
    return RT_EXIT_ERROR;
  }
  if (w.stale_removed && !o.quiet)
    fprintf(stderr, "dlrun: removed %ld staging folders left by interrupted imports beside %s\n", w.stale_removed,
            target);
  int rc = folder ? rt_import_folder(&w, &o, &err)
           : shapes ? rt_import_shapes(&w, &o, &err)
                    : rt_import_fashion_mnist(&w, &o, &err);
  if (rc == 0 && !rt_signals_stop_requested()) rc = rt_dsw_finish(&w, &err);
  int sig = rt_signals_stop_requested();
  if (rc < 0 || sig) {
    rt_dsw_abort(&w);
    if (sig) {
      fprintf(stderr, "dlrun: import %s stopped by %s; nothing was imported\n", kind, rt_signals_name(sig));
      return 128 + sig;
    }
    fprintf(stderr, "dlrun: import %s: %s\n", kind, err.msg);
    return RT_EXIT_ERROR;
  }
  printf("imported %ld items into dataset '%s' (%s)", w.items, name, target);
  if (w.skipped) printf("; skipped %ld file%s", w.skipped, w.skipped == 1 ? "" : "s");
  putchar('\n');
  return RT_EXIT_OK;
}
