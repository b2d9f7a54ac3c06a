/* train_model (`dlrun ADAPTER.lua train`), spec §1:
 *   1. status `training` (metrics.train starts empty);
 *   2. load_from_model;
 *   3. prepare_data: the model's subsets under model_data/ (prepare_data.h);
 *   4. A:train(data_path, output_path, opts), where opts.on_epoch_end prints
 *      each epoch and appends it to metrics.train;
 *   5. save_to_model(output_path): as dtlpy's save_to_model(local_path=
 *      output_path), A:save(output_path) writes the model's files next to
 *      whatever train left there (checkpoints, logs), and the whole folder
 *      becomes the next version;
 *   6. status `trained`;
 *   7. --cleanup removes the model_data folder.
 * When train (or save) raises, the output folder is still packed as a new
 * version when it holds anything, the status becomes `failed`, and the
 * command exits 1 after printing the traceback. */
#include <lauxlib.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "adapter.h"
#include "commands.h"
#include "model_store.h"
#include "prepare_data.h"
#include "run_report.h"
#include "session.h"
#include "signals.h"

typedef struct trainer {
  rt_session s;
  rt_dataset ds;
  rt_prepared_data data;
  rt_run run;                 /* runs/<time>-train-<model>/: log.txt and summary.json */
  struct timespec last_epoch; /* when the previous epoch ended, or train started */
  int version;                /* the version saved, 0 if none */
  bool ds_open, session_open, prepared, run_open;
} trainer;

/* ------------------------------------------------------------ model.json edits */

/* Status `training`, the dataset trained on, and a fresh metrics.train. */
static int start_edit(json_t *model, void *ud, rt_error *err) {
  const char *dataset_id = ud;
  json_t *metrics = json_object_get(model, "metrics");
  if (!json_is_object(metrics)) {
    metrics = json_object();
    if (json_object_set_new(model, "metrics", metrics) < 0) return rt_fail(err, "out of memory");
  }
  if (json_object_set_new(metrics, "train", json_array()) < 0 ||
      (dataset_id && json_object_set_new(model, "datasetId", json_string(dataset_id)) < 0))
    return rt_fail(err, "out of memory");
  return rt_model_set_training(model, err);
}

static int status_edit(json_t *model, void *ud, rt_error *err) { return rt_model_set_status(model, ud, err); }

/* Appends one epoch (ud, a JSON object) to metrics.train. */
static int epoch_edit(json_t *model, void *ud, rt_error *err) {
  json_t *metrics = json_object_get(model, "metrics");
  if (!json_is_object(metrics)) {
    metrics = json_object();
    if (json_object_set_new(model, "metrics", metrics) < 0) return rt_fail(err, "out of memory");
  }
  json_t *train = json_object_get(metrics, "train");
  if (!json_is_array(train)) {
    train = json_array();
    if (json_object_set_new(metrics, "train", train) < 0) return rt_fail(err, "out of memory");
  }
  if (json_array_append(train, ud) < 0) return rt_fail(err, "out of memory");
  return 0;
}

static int set_status(trainer *t, const char *status) {
  rt_error err;
  if (rt_models_update(&t->s.store, t->s.model_name, status_edit, (void *)status, NULL, &err) < 0) {
    fprintf(stderr, "dlrun: cannot set the status of model '%s' to %s: %s\n", t->s.model_name, status,
            err.msg);
    return RT_EXIT_ERROR;
  }
  return 0;
}

/* ------------------------------------------------------------ on_epoch_end */

static double seconds_since(struct timespec *last) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  double s = (double)(now.tv_sec - last->tv_sec) + (double)(now.tv_nsec - last->tv_nsec) / 1e9;
  *last = now;
  return s;
}

/* record(entry_json) -> seconds: the C half of opts.on_epoch_end (see
 * lua/dl/host_train.lua). Upvalue 1 is the trainer. Stamps the entry with
 * its time and duration and appends it to metrics.train in model.json. */
static int record_epoch(lua_State *L) {
  trainer *t = lua_touserdata(L, lua_upvalueindex(1));
  size_t len;
  const char *text = luaL_checklstring(L, 1, &len);
  json_error_t je;
  json_t *entry = json_loadb(text, len, 0, &je);
  if (!json_is_object(entry)) {
    json_decref(entry);
    return luaL_error(L, "on_epoch_end: the epoch record is not a JSON object: %s", je.text);
  }
  double seconds = seconds_since(&t->last_epoch);
  char now[32];
  rt_model_timestamp(now);
  json_object_set_new(entry, "seconds", json_real((double)(long long)(seconds * 1000 + 0.5) / 1000));
  json_object_set_new(entry, "time", json_string(now));
  rt_error err;
  int rc = rt_models_update(&t->s.store, t->s.model_name, epoch_edit, entry, NULL, &err);
  json_decref(entry);
  if (rc < 0) {
    lua_pushstring(L, err.msg);
    return lua_error(L);
  }
  /* Ctrl-C (or SIGTERM) stops training at the end of an epoch: train
   * raises here, and the output so far is saved as for any failed run. */
  int sig = rt_signals_stop_requested();
  if (sig) return luaL_error(L, "training stopped by %s at the end of this epoch", rt_signals_name(sig));
  lua_pushnumber(L, seconds);
  return 1;
}

/* ------------------------------------------------------------ steps */

/* The dataset: --dataset (opened before the session, so a model created
 * now records it), else the model's datasetId. */
static int open_dataset_and_session(trainer *t, const rt_args *args) {
  rt_error err;
  const char *dataset = rt_args_value(args, "dataset");
  if (dataset) {
    rt_paths paths;
    if (rt_paths_init(&paths, rt_args_value(args, "home"), &err) < 0 ||
        rt_dataset_open(&t->ds, &paths, dataset, &err) < 0)
      return rt_session_fail(err.msg);
    t->ds_open = true;
  }
  t->session_open = true;
  int rc = rt_session_open_for_dataset(&t->s, args, t->ds_open ? &t->ds : NULL);
  if (rc != 0 || t->ds_open) return rc;
  const char *id = json_string_value(json_object_get(t->s.model, "datasetId"));
  if (!id) {
    fprintf(stderr, "dlrun: model '%s' records no datasetId; give --dataset NAME\n", t->s.model_name);
    return RT_EXIT_ERROR;
  }
  if (rt_dataset_open_id(&t->ds, &t->s.paths, id, &err) < 0) return rt_session_fail(err.msg);
  t->ds_open = true;
  return rt_session_set_dataset(&t->s, &t->ds, &err) < 0 ? rt_session_fail(err.msg) : 0;
}

static int prepare(trainer *t) {
  rt_error err;
  t->prepared = true; /* a partial folder is removed by --cleanup too */
  if (rt_prepare_data(&t->s.paths, t->s.model, &t->ds, &t->data, &err) < 0) return rt_session_fail(err.msg);
  if (!rt_args_flag(t->s.args, "quiet")) {
    fprintf(stderr, "dlrun: prepared %s:", t->data.root);
    const char *name;
    json_t *n;
    json_object_foreach(t->data.counts, name, n)
        fprintf(stderr, " %s %lld items", name, (long long)json_integer_value(n));
    fputc('\n', stderr);
  }
  return 0;
}

/* Between the steps before train: after SIGINT or SIGTERM, stop with a
 * message instead of starting the next one. Returns an exit code. */
static int check_stop(const char *before) {
  int sig = rt_signals_stop_requested();
  if (!sig) return 0;
  fprintf(stderr, "dlrun: training stopped by %s before %s\n", rt_signals_name(sig), before);
  return RT_EXIT_ERROR;
}

/* The temp folders a killed train left (the working copy being extracted,
 * the version being packed) go before this one makes its own. */
static void remove_stale_temps(const rt_session *s) {
  const rt_place places[] = {RT_PLACE_TMP, RT_PLACE_MODELS};
  for (size_t i = 0; i < sizeof places / sizeof places[0]; i++) {
    char dir[RT_PATH_MAX];
    long removed = 0;
    rt_error err;
    if (rt_paths_dir(&s->paths, places[i], dir, &err) < 0 || rt_fs_remove_stale_temps_in(dir, &removed, &err) < 0)
      fprintf(stderr, "dlrun: warning: %s\n", err.msg);
    else if (removed && !rt_args_flag(s->args, "quiet"))
      fprintf(stderr, "dlrun: removed %ld temp folders left by an interrupted run in %s\n", removed, dir);
  }
}

/* True when dir holds at least one file. */
static bool has_files(const char *dir) {
  rt_strlist files = {0};
  rt_error err;
  bool yes = rt_fs_list_files(dir, &files, &err) == 0 && files.n > 0;
  rt_strlist_free(&files);
  return yes;
}

/* Steps 4 and 5; returns an exit code. */
static int train_and_save(trainer *t) {
  rt_host *h = t->s.host;
  lua_State *L = h->L;
  bool quiet = rt_args_flag(t->s.args, "quiet");
  lua_pushstring(L, t->data.data_path);
  lua_pushstring(L, t->data.output_path);
  lua_pushlightuserdata(L, t);
  lua_pushcclosure(L, record_epoch, 1);
  lua_pushboolean(L, quiet);
  if (rt_host_call(L, "dl.host_train", "options", 2, 1) != 0) {
    fprintf(stderr, "dlrun: %s\n", lua_tostring(L, -1));
    lua_pop(L, 3);
    return RT_EXIT_ERROR;
  }
  clock_gettime(CLOCK_MONOTONIC, &t->last_epoch);
  rt_error err;
  bool trained = rt_adapter_call(h, "train", 3, 0, &err) == 0;
  if (!trained) fprintf(stderr, "dlrun: train failed: %s\n", err.msg);

  lua_pushstring(L, t->data.output_path);
  lua_newtable(L);
  bool saved = rt_adapter_call(h, "save", 2, 0, &err) == 0;
  if (!saved) fprintf(stderr, "dlrun: save failed: %s\n", err.msg);

  if (!(trained && saved) && !has_files(t->data.output_path)) {
    fprintf(stderr, "dlrun: the output folder is empty; no version saved\n");
    return RT_EXIT_ERROR;
  }
  rt_saved_version v;
  if (rt_save_to_model(&t->s.store, &t->s.paths, t->s.model_name, t->data.output_path, &v, &err) < 0)
    return rt_session_fail(err.msg);
  t->version = v.version;
  if (trained && saved) {
    printf("trained %s@v%d (%lld bytes, sha256 %.12s...)\n", t->s.model_name, v.version, v.size, v.sha256);
    return 0;
  }
  fprintf(stderr, "dlrun: the output of the failed run was saved as %s@v%d\n", t->s.model_name, v.version);
  return RT_EXIT_ERROR;
}

/* self.log writes into the run folder's log.txt too. */
static int attach_log(trainer *t) {
  lua_State *L = t->s.host->L;
  char path[RT_PATH_MAX];
  rt_error err;
  if (rt_fs_path(path, &err, "%s/log.txt", t->run.dir) < 0) return rt_session_fail(err.msg);
  rt_adapter_push(t->s.host);
  lua_pushstring(L, path);
  if (rt_host_call(L, "dl.host", "attach_log", 2, 0) != 0) return rt_session_fail(lua_tostring(L, -1));
  return 0;
}

/* summary.json: the status, the version saved and each epoch's metrics. */
static void finish_run(trainer *t, const char *status) {
  json_t *model = NULL;
  rt_error err;
  json_t *epochs = NULL;
  if (rt_models_get(&t->s.store, t->s.model_name, &model, &err) == 0)
    epochs = json_incref(json_object_get(json_object_get(model, "metrics"), "train"));
  json_decref(model);
  json_t *extra = json_pack("{s:s, s:i, s:o}", "status", status, "version", t->version, "epochs",
                            epochs ? epochs : json_array());
  if (rt_run_finish(&t->run, extra, NULL, &err) < 0) fprintf(stderr, "dlrun: %s\n", err.msg);
  json_decref(extra);
  rt_run_close(&t->run);
  if (!rt_args_flag(t->s.args, "quiet")) fprintf(stderr, "dlrun: run folder %s\n", t->run.dir);
}

int rt_cmd_train(const rt_args *args) {
  trainer t;
  memset(&t, 0, sizeof t);
  rt_error err;
  /* From here on Ctrl-C stops between steps (check_stop), in prepare_data,
   * or at an epoch's end: the model's status becomes failed, never stays
   * training. */
  rt_signals_install();
  int rc = open_dataset_and_session(&t, args);
  if (rc == 0) remove_stale_temps(&t.s);
  if (rc == 0 &&
      rt_models_update(&t.s.store, t.s.model_name, start_edit, (void *)rt_dataset_id(&t.ds), NULL, &err) < 0)
    rc = rt_session_fail(err.msg);
  bool started = rc == 0;
  if (rc == 0 && rt_run_open(&t.run, &t.s.paths, "train", t.s.model_name, &err) < 0) rc = rt_session_fail(err.msg);
  t.run_open = rc == 0;
  if (rc == 0) rc = attach_log(&t);
  if (rc == 0) rc = check_stop("loading the model");
  if (rc == 0) rc = rt_session_load_model(&t.s);
  if (rc == 0) rc = check_stop("preparing the data");
  if (rc == 0) rc = prepare(&t);
  if (rc == 0) rc = check_stop("calling train");
  if (rc == 0) rc = train_and_save(&t);
  const char *status = rc == 0 ? "trained" : "failed";
  if (started) {
    int status_rc = set_status(&t, status);
    if (rc == 0) rc = status_rc;
  }
  if (t.run_open) finish_run(&t, status);
  int sig = rt_signals_stop_requested();
  if (sig && rc != 0) rc = 128 + sig;
  if (t.prepared && t.data.root[0] && rt_args_flag(args, "cleanup")) {
    if (rt_prepared_data_remove(&t.data, &err) < 0)
      fprintf(stderr, "dlrun: --cleanup: %s\n", err.msg);
    else if (!rt_args_flag(args, "quiet"))
      fprintf(stderr, "dlrun: removed %s\n", t.data.root);
  }
  rt_prepared_data_free(&t.data);
  if (t.session_open) rt_session_close(&t.s);
  if (t.ds_open) rt_dataset_close(&t.ds);
  return rc;
}
