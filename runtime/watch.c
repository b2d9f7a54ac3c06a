/* --watch: run, wait for a save, run again in a fresh lua_State. */
#include "watch.h"

#include <lauxlib.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "adapter.h"
#include "file_watch.h"
#include "model_state.h"
#include "run_report.h"
#include "signals.h"

struct rt_watch {
  rt_file_watch files;
  rt_item_list items;       /* the first run's items, between runs */
  bool items_kept;
  bool dev;                 /* a development build: the dl package's modules are watched too */
  char lua_dir[PATH_MAX];   /* the dl package (realpath) */
  rt_model_state state;     /* what the last load() left on self */
  char *load_text;          /* fingerprints of load and of the configuration when it ran; owned */
  char *config_text;
  int version;              /* the model version it loaded */
  char sha256[RT_SHA256_HEX];
  bool warned_keep;         /* the reason the state cannot be kept was printed */
  char note[600];           /* what happened to load() in this run */
};

bool rt_watch_wanted(const rt_args *args) {
  return !args->watch && rt_args_declares(args, "watch") && rt_args_flag(args, "watch");
}

/* A development build reaches its dl package through a symlink to the
 * source tree (the build folder's share/dlrun/lua), or DLRUN_LUA_DIR. */
static bool development_build(void) {
  const char *env = getenv("DLRUN_LUA_DIR");
  if (env && *env) return true;
  char exe[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n < 0) return false;
  exe[n] = '\0';
  char *slash = strrchr(exe, '/');
  if (slash) *slash = '\0';
  char link[PATH_MAX + 32];
  snprintf(link, sizeof link, "%s/../share/dlrun/lua", exe);
  struct stat st;
  return lstat(link, &st) == 0 && S_ISLNK(st.st_mode);
}

int rt_watch_track(rt_watch *w, rt_host *h, rt_error *err) {
  lua_State *L = h->L;
  if (w->dev)
    lua_pushnil(L);
  else
    lua_pushstring(L, w->lua_dir);
  if (rt_host_call(L, "dl.watch", "track", 1, 0) != 0) {
    rt_fail(err, "%s", lua_tostring(L, -1));
    lua_pop(L, 1);
    return -1;
  }
  return 0;
}

void rt_watch_collect(rt_watch *w, rt_host *h) {
  if (!h) return;
  lua_State *L = h->L;
  /* only when the run got as far as tracking: never load dl.watch for this */
  lua_getglobal(L, "package");
  lua_getfield(L, -1, "loaded");
  lua_getfield(L, -1, "dl.watch");
  bool tracked = lua_istable(L, -1);
  lua_pop(L, 3);
  if (!tracked) return;
  if (rt_host_call(L, "dl.watch", "files", 0, 1) != 0) {
    lua_pop(L, 1);
    return;
  }
  int n = (int)lua_objlen(L, -1);
  for (int i = 1; i <= n; i++) {
    lua_rawgeti(L, -1, i);
    rt_error err;
    if (rt_file_watch_add(&w->files, lua_tostring(L, -1), &err) < 0) fprintf(stderr, "dlrun: watch: %s\n", err.msg);
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
}

bool rt_watch_take_items(rt_watch *w, rt_item_list *items) {
  if (!w->items_kept) return false;
  *items = w->items;
  memset(&w->items, 0, sizeof w->items);
  w->items_kept = false;
  return true;
}

void rt_watch_keep_items(rt_watch *w, rt_item_list *items) {
  if (items->n == 0) return;
  rt_items_free(&w->items);
  w->items = *items;
  memset(items, 0, sizeof *items);
  w->items_kept = true;
}

/* Calls dl.watch.<fn>(self[, dl_dir]) and returns its string result (caller frees), or NULL. */
static char *fingerprint(rt_watch *w, rt_host *h, const char *fn) {
  lua_State *L = h->L;
  rt_adapter_push(h);
  lua_pushstring(L, w->lua_dir);
  if (rt_host_call(L, "dl.watch", fn, 2, 1) != 0) {
    fprintf(stderr, "dlrun: watch: %s\n", lua_tostring(L, -1));
    lua_pop(L, 1);
    return NULL;
  }
  char *s = strdup(lua_tostring(L, -1));
  lua_pop(L, 1);
  return s;
}

static bool same(const char *a, const char *b) { return a && b && strcmp(a, b) == 0; }

/* Why load() must run in this run, or NULL when the kept state will do. */
static const char *load_reason(rt_watch *w, const rt_session *s, const char *load_text, const char *config_text) {
  if (rt_args_flag(s->args, "reload-model")) return "--reload-model";
  if (!w->load_text) return "first load";
  if (!rt_model_state_held(&w->state)) return "the last load's state could not be kept";
  if (s->loaded.version != w->version || strcmp(s->loaded.sha256, w->sha256) != 0)
    return "the model's version changed";
  if (!same(load_text, w->load_text)) return "load changed";
  if (!same(config_text, w->config_text)) return "the configuration or labels changed";
  return NULL;
}

/* Runs A:load and keeps what it set. */
static int run_load(rt_watch *w, rt_session *s, char *load_text, char *config_text) {
  lua_State *L = s->host->L;
  rt_error err;
  rt_adapter_push(s->host);
  if (rt_host_call(L, "dl.watch", "fields", 1, 1) != 0) return rt_session_fail(lua_tostring(L, -1));
  int before_at = lua_gettop(L);
  lua_pushstring(L, s->loaded.path);
  lua_newtable(L);
  if (rt_adapter_call(s->host, "load", 2, 0, &err) < 0) {
    lua_pop(L, 1);
    return rt_session_fail(err.msg);
  }
  if (rt_model_state_keep(&w->state, s->host, before_at, &err) < 0) {
    if (!w->warned_keep)
      fprintf(stderr, "dlrun: watch: load() will run on every reload: %s\n", err.msg);
    w->warned_keep = true;
  } else {
    w->warned_keep = false;
  }
  lua_pop(L, 1);
  free(w->load_text);
  free(w->config_text);
  w->load_text = load_text;
  w->config_text = config_text;
  w->version = s->loaded.version;
  memcpy(w->sha256, s->loaded.sha256, sizeof w->sha256);
  return 0;
}

int rt_watch_load_model(rt_watch *w, rt_session *s) {
  rt_error err;
  if (rt_load_from_model(&s->store, &s->paths, s->model, s->model_version, rt_args_flag(s->args, "overwrite"),
                         &s->loaded, &err) < 0)
    return rt_session_fail(err.msg);
  char *load_text = fingerprint(w, s->host, "load_fingerprint");
  char *config_text = fingerprint(w, s->host, "config_fingerprint");
  const char *why = load_reason(w, s, load_text, config_text);
  char put_failed[sizeof w->note];
  if (!why) {
    if (rt_model_state_put(&w->state, s->host, &err) == 0) {
      snprintf(w->note, sizeof w->note, "load skipped: kept the model state of the last load (%d field%s of self)",
               w->state.nfields, w->state.nfields == 1 ? "" : "s");
      free(load_text);
      free(config_text);
      return 0;
    }
    snprintf(put_failed, sizeof put_failed, "the kept model state does not fit the new code: %.500s", err.msg);
    why = put_failed;
  }
  snprintf(w->note, sizeof w->note, "load ran: %.580s", why);
  int rc = run_load(w, s, load_text, config_text);
  if (rc != 0) {
    free(load_text);
    free(config_text);
  }
  return rc;
}

static void free_watch(rt_watch *w) {
  rt_file_watch_close(&w->files);
  rt_items_free(&w->items);
  rt_model_state_clear(&w->state);
  free(w->load_text);
  free(w->config_text);
}

int rt_watch_run(const rt_args *args) {
  if (rt_args_declares(args, "resume") && rt_args_flag(args, "resume"))
    return rt_cli_usage_error(args->cmd, stderr, "--watch runs every item again on each save: drop --resume");
  rt_watch w;
  memset(&w, 0, sizeof w);
  rt_error err;
  if (rt_file_watch_open(&w.files, &err) < 0 || rt_file_watch_add(&w.files, args->adapter, &err) < 0 ||
      rt_host_find_lua_dir(w.lua_dir, sizeof w.lua_dir, &err) < 0) {
    free_watch(&w);
    return rt_session_fail(err.msg);
  }
  w.dev = development_build();
  rt_signals_install();
  rt_args run_args = *args;
  run_args.watch = &w;
  double started = rt_now();
  int rc = RT_EXIT_OK;
  for (;;) {
    w.note[0] = '\0';
    int run_rc = args->cmd->run(&run_args);
    if (rt_signals_stop_requested()) break;
    if (run_rc == RT_EXIT_USAGE) {
      rc = run_rc;
      break;
    }
    double ms = (rt_now() - started) * 1000;
    if (run_rc == RT_EXIT_OK || run_rc == RT_EXIT_PARTIAL)
      fprintf(stderr, "dlrun: watch: %s in %.0f ms%s%s\n", run_rc == RT_EXIT_OK ? "done" : "done with failures", ms,
              w.note[0] ? "; " : "", w.note);
    else
      fprintf(stderr, "dlrun: watch: the run failed (above)%s; save a fix to run again\n",
              rt_model_state_held(&w.state) ? ", the last good model state is kept" : "");
    fprintf(stderr, "dlrun: watch: watching %zu file%s; Ctrl-C stops\n", w.files.nfiles,
            w.files.nfiles == 1 ? "" : "s");
    char changed[PATH_MAX];
    int got = rt_file_watch_wait(&w.files, changed, sizeof changed, &started, &err);
    if (got == 0) break;
    if (got < 0) {
      rc = rt_session_fail(err.msg);
      break;
    }
    fprintf(stderr, "\ndlrun: watch: %s changed, running again\n", changed);
  }
  if (rc == RT_EXIT_OK) fprintf(stderr, "dlrun: watch: stopped\n");
  free_watch(&w);
  return rc;
}
