/* The shared frame of predict, embed and evaluate. */
#include "run_items.h"

#include <errno.h>
#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "adapter.h"
#include "signals.h"
#include "watch.h"

static int usage(const rt_args *args, const char *msg) { return rt_cli_usage_error(args->cmd, stderr, "%s", msg); }

/* The filter of the model's subset `subset` (metadata.system.subsets, a
 * dtlpy filter as an object or a string), else dir=/<subset>, into
 * r->subset_filter. */
static int subset_filter(rt_run_items *r, const char *subset, rt_error *err) {
  const json_t *f = json_object_get(
      json_object_get(json_object_get(json_object_get(r->session.model, "metadata"), "system"), "subsets"), subset);
  if (json_is_string(f))
    r->subset_filter = strdup(json_string_value(f));
  else if (json_is_object(f))
    r->subset_filter = json_dumps(f, JSON_COMPACT | JSON_PRESERVE_ORDER);
  else if (asprintf(&r->subset_filter, "dir=/%s", subset) < 0)
    r->subset_filter = NULL;
  return r->subset_filter ? 0 : rt_fail(err, "out of memory");
}

/* Without --dataset: the dataset whose id is the model's datasetId. */
static int open_model_dataset(rt_run_items *r, rt_error *err) {
  const char *id = json_string_value(json_object_get(r->session.model, "datasetId"));
  if (!id)
    return rt_fail(err, "model '%s' records no datasetId; give --dataset NAME", r->session.model_name);
  if (rt_dataset_open_id(&r->dataset, &r->session.paths, id, err) < 0) return -1;
  r->dataset_open = true;
  return rt_session_set_dataset(&r->session, &r->dataset, err);
}

/* --out DIR must be a folder the documents can go into: checked once here,
 * so that a file or /dev/null fails the command, not every item at "write".
 * Creates the folder. Prints the error; returns 0 or the exit code. */
static int check_out_dir(const rt_args *args, const char *out) {
  struct stat st;
  if (stat(out, &st) == 0 && !S_ISDIR(st.st_mode))
    return rt_cli_usage_error(args->cmd, stderr,
                              "--out %s is not a folder (give a folder for the documents, or - for JSON Lines)", out);
  rt_error err;
  if (rt_fs_mkdir_p(out, &err) < 0) return rt_session_fail(err.msg);
  if (access(out, W_OK | X_OK) < 0) {
    rt_fail(&err, "--out %s: cannot write documents there: %s", out, strerror(errno));
    return rt_session_fail(err.msg);
  }
  return 0;
}

/* Parses --filter into r->filters; a filter that does not parse is a usage
 * error naming it (printed; returns the exit code). */
static int parse_filters(rt_run_items *r, const rt_args *args) {
  const char *const *texts;
  int n = rt_args_list(args, "filter", &texts);
  if (n == 0) return 0;
  r->filters = calloc((size_t)n, sizeof *r->filters);
  if (!r->filters) return rt_session_fail("out of memory");
  for (; r->nfilters < (size_t)n; r->nfilters++) {
    rt_error err;
    r->filters[r->nfilters] = rt_filter_parse(texts[r->nfilters], &err);
    if (!r->filters[r->nfilters]) return rt_cli_usage_error(args->cmd, stderr, "--filter: %s", err.msg);
  }
  return 0;
}

/* Lists the run's items and checks the output options against them. */
static int list_items(rt_run_items *r, const rt_args *args, const char *subset, rt_error *err) {
  if (args->watch && rt_watch_take_items(args->watch, &r->items)) return 0; /* listed by the first run */
  if (subset && r->nfilters == 0) {
    if (subset_filter(r, subset, err) < 0) return -1;
    const rt_filter *model_filter = rt_filter_parse(r->subset_filter, err);
    if (!model_filter) return -1;
    int rc = rt_items_from_dataset(&r->items, &r->dataset, &model_filter, 1, err);
    rt_filter_free((rt_filter *)model_filter);
    return rc;
  }
  if (r->dataset_open)
    return rt_items_from_dataset(&r->items, &r->dataset, (const rt_filter *const *)r->filters, r->nfilters, err);
  const char *out = rt_args_value(args, "out");
  char download[RT_PATH_MAX];
  if (rt_paths_dir(&r->session.paths, RT_PLACE_TMP, download, err) < 0 ||
      rt_fs_path(download, err, "%s/downloads-%d", download, (int)getpid()) < 0)
    return -1;
  bool stream = !out || strcmp(out, "-") == 0;
  int rc = rt_items_from_args(&r->items, args->positional, args->npositional, stream ? NULL : out, download, err);
  return rc;
}

/* The folder the run's documents go to (the dataset's json/, or --out
 * DIR): created, cleared of the temp files of killed runs, and given its
 * lock (r->docs_lock), which each batch holds from reading its documents to
 * replacing them, so that runs of several models merging into the same
 * documents at once keep each other's annotations. */
static int open_documents(rt_run_items *r, const char *out, rt_error *err) {
  char docs[RT_PATH_MAX];
  if (r->dataset_open) {
    if (rt_fs_path(docs, err, "%s/json", r->dataset.root) < 0) return -1;
  } else if (out && strcmp(out, "-") != 0) {
    if (rt_fs_path(docs, err, "%s", out) < 0) return -1;
  } else {
    return 0; /* results stream to stdout */
  }
  long removed = 0;
  if (rt_fs_mkdir_p(docs, err) < 0 || rt_fs_remove_stale_temps(docs, &removed, err) < 0) return -1;
  if (removed) fprintf(stderr, "dlrun: removed %ld temp files left by an interrupted run in %s\n", removed, docs);
  return rt_fs_path(r->docs_lock, err, "%s/.lock", docs);
}

/* Opens the run; subset (may be NULL) as in rt_run_items_open_subset. */
static int open_run(rt_run_items *r, const rt_args *args, const char *command, rt_item_done_fn done,
                    const char *subset) {
  memset(r, 0, sizeof *r);
  r->command = command;
  const char *dataset = rt_args_value(args, "dataset");
  /* a subset is always of a dataset: such commands take no loose items nor --out */
  const char *out = subset ? NULL : rt_args_value(args, "out");
  if (dataset && args->npositional > 0) return usage(args, "give either --dataset or items (files, folders, URLs), not both");
  if (!dataset && args->npositional == 0 && !subset)
    return usage(args, "nothing to run on: give --dataset NAME or items (files, folders, URLs)");
  if (dataset && out) return usage(args, "--out is for loose items; a dataset's results go into its json/ folder");
  if (rt_args_flag(args, "resume") && !dataset && !subset && (!out || strcmp(out, "-") == 0))
    return usage(args, "--resume needs a dataset or --out DIR (a stream has nothing to resume from)");
  /* Loose items with no --out: short lines on a terminal, JSON Lines for a pipe. */
  r->show_lines = args->watch || (!dataset && !subset && !out && isatty(STDOUT_FILENO));
  const char *const *filters;
  if (rt_args_list(args, "filter", &filters) > 0 && !dataset && !subset)
    return usage(args, "--filter selects items of a dataset; give --dataset too");
  int threads = 0;
  const char *t = rt_args_value(args, "threads");
  if (t) {
    char *end;
    long v = strtol(t, &end, 10);
    if (end == t || *end || v < 1 || v > 256) return usage(args, "--threads must be a number from 1 to 256");
    threads = (int)v;
  }
  int rc = out && strcmp(out, "-") != 0 ? check_out_dir(args, out) : 0;
  if (rc == 0) rc = parse_filters(r, args);
  if (rc != 0) return rt_run_items_close(r, rc);

  rt_error err;
  /* A model created now records the dataset's id: open the dataset first. */
  if (dataset) {
    rt_paths paths;
    if (rt_paths_init(&paths, rt_args_value(args, "home"), &err) < 0 ||
        rt_dataset_open(&r->dataset, &paths, dataset, &err) < 0)
      return rt_run_items_close(r, rt_session_fail(err.msg));
    r->dataset_open = true;
  }
  const rt_dataset *ds = r->dataset_open ? &r->dataset : NULL;
  rc = subset ? rt_session_open_for_dataset(&r->session, args, ds) : rt_session_open(&r->session, args, ds);
  r->session_open = true;
  if (rc != 0) return rt_run_items_close(r, rc);
  if (subset && !r->dataset_open && open_model_dataset(r, &err) < 0)
    return rt_run_items_close(r, rt_session_fail(err.msg));
  if (list_items(r, args, subset, &err) < 0) return rt_run_items_close(r, rt_session_fail(err.msg));
  if (r->items.n == 0 && r->subset_filter) {
    rt_fail(&err, "the %s subset of model '%s' (%s) selects no items of dataset %s", subset, r->session.model_name,
            r->subset_filter, r->dataset.root);
    return rt_run_items_close(r, rt_session_fail(err.msg));
  }
  if (r->items.n == 0) return rt_run_items_close(r, rt_session_fail("no items match (check --dataset and --filter)"));

  if (open_documents(r, out, &err) < 0) return rt_run_items_close(r, rt_session_fail(err.msg));

  r->order = malloc((r->items.n ? r->items.n : 1) * sizeof *r->order);
  r->failed = calloc(r->items.n ? r->items.n : 1, sizeof *r->failed);
  if (!r->order || !r->failed) return rt_run_items_close(r, rt_session_fail("out of memory"));
  bool resume = rt_args_flag(args, "resume");
  long skipped = 0;
  for (size_t i = 0; i < r->items.n; i++) {
    if (r->items.v[i].error) continue; /* failed while listed: recorded when the run opens */
    if (resume && done && done(r, &r->items.v[i]))
      skipped++;
    else
      r->order[r->n++] = i;
  }

  /* The pipeline starts before load(): the first batch decodes while the
   * model loads (a third of a one-image predict). */
  if (rt_batches_open(&r->batches, r->session.host, &r->items, r->order, r->n, threads, &err) < 0)
    return rt_run_items_close(r, rt_session_fail(err.msg));
  r->batches_open = true;
  rc = args->watch ? rt_watch_load_model(args->watch, &r->session) : rt_session_load_model(&r->session);
  if (rc != 0) return rt_run_items_close(r, rc);
  if (rt_batches_confirm(&r->batches, &err) < 0) return rt_run_items_close(r, rt_session_fail(err.msg));
  if (rt_run_open(&r->run, &r->session.paths, command, r->session.model_name, &err) < 0)
    return rt_run_items_close(r, rt_session_fail(err.msg));
  r->run_open = true;
  r->run.skipped = skipped;
  for (size_t i = 0; i < r->items.n; i++) {
    const rt_item *it = &r->items.v[i];
    if (!it->error) continue;
    fprintf(stderr, "dlrun: %s failed (%s): %s\n", it->filename, it->error_stage, it->error);
    rt_run_items_fail(r, it, it->error_stage, it->error);
  }

  /* self.log writes into the run folder too */
  lua_State *L = r->session.host->L;
  rt_adapter_push(r->session.host);
  char log_path[RT_PATH_MAX];
  snprintf(log_path, sizeof log_path, "%s/log.txt", r->run.dir);
  lua_pushstring(L, log_path);
  if (rt_host_call(L, "dl.host", "attach_log", 2, 0) != 0) return rt_run_items_close(r, rt_session_fail(lua_tostring(L, -1)));
  rt_signals_install();
  rt_progress_start(&r->progress, command, (long)r->n, rt_args_flag(args, "quiet"));
  return 0;
}

int rt_run_items_open(rt_run_items *r, const rt_args *args, const char *command, rt_item_done_fn done) {
  return open_run(r, args, command, done, NULL);
}

int rt_run_items_open_subset(rt_run_items *r, const rt_args *args, const char *command, rt_item_done_fn done,
                             const char *subset) {
  return open_run(r, args, command, done, subset);
}

rt_item *rt_run_items_item(rt_run_items *r, size_t pos) { return &r->items.v[r->order[pos]]; }

void rt_run_items_fail(rt_run_items *r, const rt_item *it, const char *stage, const char *message) {
  r->failed[it - r->items.v] = true;
  rt_run_failure(&r->run, it->id, it->filename, stage, message);
}

/* batch.ok[i] and batch.errors[i] of the batch at batch_at. */
static bool batch_ok(lua_State *L, int batch_at, int i, const char **error) {
  lua_getfield(L, batch_at, "ok");
  lua_rawgeti(L, -1, i);
  bool ok = lua_toboolean(L, -1);
  lua_pop(L, 2);
  if (!ok && error) {
    lua_getfield(L, batch_at, "errors");
    lua_rawgeti(L, -1, i);
    /* the string stays alive in the batch table while the batch is on the stack */
    *error = lua_isstring(L, -1) ? lua_tostring(L, -1) : "preparation failed";
    lua_pop(L, 2);
  }
  return ok;
}

bool rt_run_items_prepare_failed(rt_run_items *r, int batch_at, int i, size_t first) {
  const char *error = NULL;
  if (batch_ok(r->session.host->L, batch_at, i, &error)) return false;
  rt_run_items_fail(r, rt_run_items_item(r, first + (size_t)i - 1), "prepare", error);
  return true;
}

void rt_run_items_fail_batch(rt_run_items *r, int batch_at, size_t first, int count, const char *stage,
                             const char *message) {
  const rt_item *a = rt_run_items_item(r, first), *b = rt_run_items_item(r, first + (size_t)count - 1);
  fprintf(stderr, "%sdlrun: %s failed for the batch of %d items %s .. %s:\n%s\n", r->progress.tty ? "\r\033[K" : "",
          stage, count, a->filename, b->filename, message);
  for (int i = 1; i <= count; i++)
    if (!rt_run_items_prepare_failed(r, batch_at, i, first))
      rt_run_items_fail(r, rt_run_items_item(r, first + (size_t)i - 1), stage, message);
}

int rt_run_items_batch_step(rt_run_items *r, size_t first, int count, const char *fn, const char *convert,
                            int nresults, bool release_first, rt_error *err) {
  lua_State *L = r->session.host->L;
  int batch_at = lua_gettop(L) - 1;
  rt_error e;
  lua_pushvalue(L, batch_at);
  lua_newtable(L); /* opts */
  bool ok = rt_adapter_call(r->session.host, fn, 2, 1, &e) == 0;
  if (!ok || release_first) rt_batches_release(&r->batches);
  if (!ok) {
    rt_run_items_fail_batch(r, batch_at, first, count, fn, e.msg);
    lua_settop(L, batch_at - 1);
    return 0;
  }
  /* batch, extra, result -> batch, A, batch, result, extra */
  lua_insert(L, batch_at + 1);
  rt_adapter_push(r->session.host);
  lua_insert(L, batch_at + 1);
  lua_pushvalue(L, batch_at);
  lua_insert(L, batch_at + 2);
  int status = rt_host_call(L, "dl.host", convert, 4, nresults);
  if (!release_first) rt_batches_release(&r->batches);
  if (status != 0) {
    rt_fail(err, "%s", lua_tostring(L, -1));
    lua_settop(L, batch_at - 1);
    return -1;
  }
  if (lua_isnil(L, -nresults)) {
    rt_run_items_fail_batch(r, batch_at, first, count, "validate", lua_tostring(L, -nresults + 1));
    lua_settop(L, batch_at - 1);
    return 0;
  }
  return 1;
}

int rt_run_items_close(rt_run_items *r, int rc) {
  rt_watch *watch = r->session_open ? r->session.args->watch : NULL;
  if (r->batches_open) {
    rt_progress_finish(&r->progress);
    rt_batches_close(&r->batches);
  }
  int sig = rt_signals_stop_requested();
  if (r->run_open) {
    rt_error err;
    int exit_code = rt_run_finish(&r->run, NULL, stderr, &err);
    if (exit_code < 0) {
      fprintf(stderr, "dlrun: %s\n", err.msg);
      exit_code = RT_EXIT_ERROR;
    }
    if (rc == 0) rc = exit_code;
    rt_run_close(&r->run);
    if (sig && rc != RT_EXIT_ERROR && !watch) {
      fprintf(stderr, "dlrun: interrupted; run the same command with --resume to finish the remaining items\n");
      rc = 128 + sig;
    }
  }
  if (watch) {
    rt_watch_collect(watch, r->session.host);
    rt_watch_keep_items(watch, &r->items);
  }
  if (r->session_open) rt_session_close(&r->session);
  if (r->dataset_open) rt_dataset_close(&r->dataset);
  rt_items_free(&r->items);
  free(r->order);
  r->order = NULL;
  free(r->failed);
  r->failed = NULL;
  free(r->subset_filter);
  r->subset_filter = NULL;
  for (size_t i = 0; i < r->nfilters; i++) rt_filter_free(r->filters[i]);
  free(r->filters);
  r->filters = NULL;
  r->nfilters = 0;
  return rc;
}
