/* watch.h — `--watch`: hot reload for predict, embed and evaluate.
 *
 * rt_watch_run runs the command once, then waits (file_watch.h) for a save of
 * the adapter file or of any Lua module it required, and runs the command
 * again, on the same items, until Ctrl-C. Each run builds a fresh lua_State
 * (the FFI cdefs meet no "attempt to redefine"), loads the adapter again and
 * prints the new results as one line per item, then the time taken.
 *
 * Modules are those `require` loads from files (dl.watch.track). The dl
 * package's own modules count only in a development build: when the folder
 * the dl package is found through (<bin>/../share/dlrun/lua) is a symlink,
 * as in a build tree where it points at the source lua/, or when
 * DLRUN_LUA_DIR points at one.
 *
 * load() runs again only when it must: on the first run, when the model's
 * version changed, when the text of load (or of a function it reaches, see
 * dl.watch.load_fingerprint) changed, when the configuration or labels
 * changed, with --reload-model, or when the state load made could not be
 * kept. Otherwise the fields load set on self are carried into the fresh
 * state (model_state.h): the model is not loaded again, and its objects get
 * the methods of the new code.
 *
 * A syntax or runtime error prints file:line and a traceback (as any run
 * does); the watch keeps the last good model state and waits for the fix.
 *
 * The run frame (run_items.c, session.c) and the commands call the hooks
 * below when args->watch is set. */
#ifndef RT_WATCH_H
#define RT_WATCH_H

#include <stdbool.h>
#include <stdint.h>

#include "cli.h"
#include "host.h"
#include "items.h"
#include "session.h"

typedef struct rt_watch rt_watch;

/* True when the command takes --watch and it was given. */
bool rt_watch_wanted(const rt_args *args);

/* Runs args->cmd under the watch until Ctrl-C (exit code 0), or a usage or
 * watch error. */
int rt_watch_run(const rt_args *args);

/* session.c, on a fresh host before the adapter loads: record the modules it
 * requires. */
int rt_watch_track(rt_watch *w, rt_host *h, rt_error *err);

/* run_items.c, before the host closes: watch the modules it required. */
void rt_watch_collect(rt_watch *w, rt_host *h);

/* run_items.c: the items listed by the first run, moved into *items (true),
 * or false when none are kept yet. */
bool rt_watch_take_items(rt_watch *w, rt_item_list *items);

/* run_items.c, at the end of a run: keeps its items (moved out of *items). */
void rt_watch_keep_items(rt_watch *w, rt_item_list *items);

/* run_items.c, in place of rt_session_load_model: load_from_model, then
 * load() or the kept model state. Prints and returns an exit code likewise. */
int rt_watch_load_model(rt_watch *w, rt_session *s);

#endif
